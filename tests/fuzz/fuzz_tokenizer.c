/* fuzz_tokenizer.c — fuzz target for tokenizer_encode / tokenizer_decode with
 * stories260K's tok512 vocabulary (tests/data/tok512.bin) and any text.
 *
 * Invariants: encoding never fails (tok512 has all 256 byte tokens), gives ids
 * inside the vocabulary, BOS first, at most one token per byte plus the
 * dummy prefix; decoding the ids the way generation prints them (llama2.c's
 * decode, the first piece after BOS losing the dummy-prefix space) gives the
 * text back byte for byte — for any bytes, since the vocabulary can spell every
 * byte; a text without BOS round-trips with exactly one leading space more.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "gguf/llama2c.h"
#include "model/tokenizer.h"

static Tokenizer tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    size_t len;
    uint8_t *buf = fuzz_read_data_file("tests/data/tok512.bin", &len);
    char **tokens;
    float *scores;
    int32_t *types;
    Error err;
    if (llama2c_read_tokenizer(buf, len, "tok512.bin", 512, &tokens, &scores, &types, &err) != ST_OK ||
        tokenizer_init(&tok, 512, (const char *const *)tokens, scores, types, 1, 2, 0, true,
                       "tok512.bin", &err) != ST_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
        exit(1);
    }
    for (int i = 0; i < 512; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    free(buf);
    return 0;
}

/* Concatenates the pieces as generation prints them; returns the length. */
static size_t decode_all(const int *ids, int n, char *out) {
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t k;
        const char *piece = tokenizer_decode(&tok, i ? ids[i - 1] : -1, ids[i], &k);
        memcpy(out + len, piece, k);
        len += k;
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    const char *text = (const char *)data;
    int *ids = NULL, n = 0;
    Error err;
    FUZZ_CHECK(tokenizer_encode(&tok, text, size, true, false, &ids, &n, &err) == ST_OK);
    FUZZ_CHECK(n >= 1 && ids[0] == tok.bos_id && (size_t)n <= size + 2);
    for (int i = 0; i < n; i++) FUZZ_CHECK(ids[i] >= 0 && ids[i] < tok.n_vocab);
    /* every piece is at most max_piece_len bytes, and a byte token is one byte */
    char *out = malloc((size_t)n * (tok.max_piece_len + 16) + 1);
    FUZZ_CHECK(out != NULL);
    size_t len = decode_all(ids, n, out);
    FUZZ_CHECK(len == size && memcmp(out, text, size) == 0);
    free(ids);
    free(out);

    /* without BOS the dummy-prefix space is printed */
    FUZZ_CHECK(tokenizer_encode(&tok, text, size, false, true, &ids, &n, &err) == ST_OK);
    FUZZ_CHECK(n >= 1 && ids[n - 1] == tok.eos_id);
    out = malloc((size_t)n * (tok.max_piece_len + 16) + 1);
    FUZZ_CHECK(out != NULL);
    len = decode_all(ids, n, out);
    FUZZ_CHECK(size == 0 ? len == 0 : len == size + 1 && out[0] == ' ' && memcmp(out + 1, text, size) == 0);
    free(ids);
    free(out);

    /* lookups of arbitrary text stay inside the vocabulary */
    int id = tokenizer_find(&tok, text, size < 64 ? size : 64);
    FUZZ_CHECK(id >= -1 && id < tok.n_vocab);
    return 0;
}
