/* fuzz_llama2c_tokenizer.c — fuzz target for llama2c_read_tokenizer (a llama2.c
 * tokenizer.bin / tok512.bin) and for building a Tokenizer from what it returns.
 *
 * Input: a little-endian int32 vocabulary size (any value: negative, zero and
 * huge ones must be refused before anything is allocated), then the tokenizer
 * file. Seeds: tok512.bin and a small hand-made vocabulary, each behind its size.
 *
 * Invariants: a refusal names the file; an accepted vocabulary has vocab_size
 * NUL-terminated UTF-8 tokens with known types; tokenizer_init either refuses it
 * with a message or gives a tokenizer that encodes any text into ids inside the
 * vocabulary and decodes every id.
 */
#include <string.h>

#include "base/utf8.h"
#include "fuzz/fuzz.h"
#include "gguf/llama2c.h"
#include "model/tokenizer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

static void exercise(const Tokenizer *t, const uint8_t *text, size_t len) {
    int *ids = NULL, n = 0;
    Error err;
    Status st = tokenizer_encode(t, (const char *)text, len, t->bos_id >= 0, false, &ids, &n, &err);
    FUZZ_CHECK(st == ST_OK || st == ST_UNSUPPORTED);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(ids[i] >= 0 && ids[i] < t->n_vocab);
        size_t k;
        const char *piece = tokenizer_decode(t, i ? ids[i - 1] : -1, ids[i], &k);
        FUZZ_CHECK(piece != NULL);
    }
    free(ids);
    for (int id = 0; id < t->n_vocab; id++) {
        size_t k;
        const char *piece = tokenizer_decode(t, t->bos_id, id, &k);
        FUZZ_CHECK(piece != NULL);
        int back = tokenizer_find(t, piece, k);
        FUZZ_CHECK(back >= -1 && back < t->n_vocab);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    int32_t vocab;
    memcpy(&vocab, data, 4);
    char **tokens = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    Error err;
    Status st = llama2c_read_tokenizer(data + 4, size - 4, "fuzz.tok", vocab, &tokens, &scores, &types,
                                       &err);
    if (st != ST_OK) {
        FUZZ_CHECK(tokens == NULL && scores == NULL && types == NULL);
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.tok: ");
        return 0;
    }
    for (int i = 0; i < vocab; i++) {
        FUZZ_CHECK(tokens[i] != NULL);
        FUZZ_CHECK(utf8_valid(tokens[i], strlen(tokens[i])));
        FUZZ_CHECK(types[i] >= TOKEN_TYPE_NORMAL && types[i] <= TOKEN_TYPE_BYTE);
    }
    Tokenizer t;
    st = tokenizer_init(&t, vocab, (const char *const *)tokens, scores, types, 1 < vocab ? 1 : -1,
                        2 < vocab ? 2 : -1, 0, true, "fuzz.tok", &err);
    if (st == ST_OK) {
        /* some text the vocabulary was not made for: tokens' own bytes, spaces, UTF-8 */
        static const char sample[] = "Once upon a time, \xc3\xa9t\xc3\xa9 \xe2\x96\x81 <0x41>\n\xff";
        exercise(&t, (const uint8_t *)sample, sizeof sample - 1);
        if (vocab < 4096) exercise(&t, data + 4, size - 4 < 512 ? size - 4 : 512);
    } else {
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.tok: ");
    }
    tokenizer_free(&t);
    for (int i = 0; i < vocab; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    return 0;
}
