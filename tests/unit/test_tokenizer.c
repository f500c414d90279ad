/* test_tokenizer.c — encoding and decoding against llama.cpp's and llama2.c's
 * outputs for stories260K's tok512 vocabulary, and against merge orders worked
 * out by hand on tiny literal vocabularies.
 *
 * The tok512 tokenizer is built the way the program builds it from a llama2.c
 * tokenizer file: llama2c_read_tokenizer, then tokenizer_init. Fixtures are in
 * tests/data (see its README for sources and licences).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "gguf/llama2c.h"
#include "lib/proc.h"
#include "model/tokenizer.h"

/* "\342\226\201" below is U+2581 "▁" in octal (a hex escape would swallow a
 * following letter). */

/* ------------------------------------------------------------------ helpers */

/* tests/data/file under $QUANTLAB_DATA (proc_data_path's root). */
static const char *data_path(const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/%s", file);
    return proc_data_path(rel);
}

/* Whole fixture file (NUL-terminated); fails the test when missing. */
static char *read_fixture(const char *file, size_t *len) {
    char *buf = NULL;
    Error err = {0};
    Status st = file_read_all(data_path(file), 16u << 20, &buf, len, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
    return buf;
}

/* Every run of decimal digits in the file, in order: reads both the JSON lists
 * of llama.cpp's .ids files and llama2.c's space-separated ids. */
static int *read_ids(const char *file, int *n) {
    size_t len;
    char *s = read_fixture(file, &len);
    int *ids = malloc((len / 2 + 1) * sizeof *ids);
    assert_non_null(ids);
    *n = 0;
    for (char *p = s; *p;) {
        if (*p >= '0' && *p <= '9') ids[(*n)++] = (int)strtol(p, &p, 10);
        else p++;
    }
    free(s);
    return ids;
}

static void assert_ids(const int *got, int n_got, const int *want, int n_want) {
    int n = n_got < n_want ? n_got : n_want;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("token %d: got %d, want %d", i, got[i], want[i]);
    assert_int_equal(n_got, n_want);
}

static void encode_ok(const Tokenizer *t, const char *text, size_t len, bool bos, int **ids,
                      int *n) {
    Error err = {0};
    Status st = tokenizer_encode(t, text, len, bos, false, ids, n, &err);
    if (st != ST_OK) fail_msg("encode: %s", err.msg);
}

static void assert_encodes(const Tokenizer *t, const char *text, size_t len, bool bos,
                           const int *want, int n_want) {
    int *ids, n;
    encode_ok(t, text, len, bos, &ids, &n);
    assert_ids(ids, n, want, n_want);
    free(ids);
}

/* Concatenation of tokenizer_decode over ids (prev = the id before, -1 first). */
static char *decode_all(const Tokenizer *t, const int *ids, int n, size_t *len) {
    size_t cap = 64, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        size_t k;
        const char *s = tokenizer_decode(t, i > 0 ? ids[i - 1] : -1, ids[i], &k);
        while (used + k + 1 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        memcpy(out + used, s, k);
        used += k;
    }
    out[used] = '\0';
    *len = used;
    return out;
}

/* ---------------------------------------------------------- tok512 fixture */

static int setup_tok512(void **state) {
    size_t len;
    char *buf = read_fixture("tok512.bin", &len);
    char **tokens;
    float *scores;
    int32_t *types;
    Error err = {0};
    Status st = llama2c_read_tokenizer((const uint8_t *)buf, len, "tok512.bin", 512, &tokens,
                                       &scores, &types, &err);
    free(buf);
    if (st != ST_OK) {
        print_error("%s\n", err.msg);
        return -1;
    }
    Tokenizer *t = malloc(sizeof *t);
    st = tokenizer_init(t, 512, (const char *const *)tokens, scores, types, 1, 2, 0, true,
                        "tok512.bin", &err);
    for (int i = 0; i < 512; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    if (st != ST_OK) {
        print_error("%s\n", err.msg);
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown_tok512(void **state) {
    tokenizer_free(*state);
    free(*state);
    return 0;
}

/* llama.cpp: "Once upon a time" -> <s> ▁Once ▁upon ▁a ▁time. */
static void test_tokenizer_prompt_matches_llama_cpp(void **state) {
    const Tokenizer *t = *state;
    int n_want;
    int *want = read_ids("prompt-once-upon-a-time.ids", &n_want);
    assert_int_equal(n_want, 5);
    const char *text = "Once upon a time";
    assert_encodes(t, text, strlen(text), true, want, n_want);
    free(want);
}

/* The whole sample (newlines, "<|endoftext|>" lines, curly quotes) with BOS:
 * 1,883 ids from llama.cpp. */
static void test_tokenizer_sample_text_matches_llama_cpp(void **state) {
    const Tokenizer *t = *state;
    size_t len;
    char *text = read_fixture("tinystories_sample_small.txt", &len);
    int n_want;
    int *want = read_ids("tinystories_sample_small.ids", &n_want);
    assert_int_equal(n_want, 1883);
    assert_encodes(t, text, len, true, want, n_want);
    free(want);
    free(text);
}

/* llama2.c's greedy run: decoding its BOS + 200 ids the way run.c prints them
 * reproduces its stdout, minus the "\n" run.c prints at the end. */
static void test_tokenizer_decode_matches_llama2c_output(void **state) {
    const Tokenizer *t = *state;
    int n;
    int *ids = read_ids("ids_fp32_t0_n200_noprompt.txt", &n);
    assert_int_equal(n, 201);
    assert_int_equal(ids[0], 1);
    size_t want_len, got_len;
    char *want = read_fixture("run_fp32_t0_n200_noprompt.txt", &want_len);
    assert_true(want_len > 0 && want[want_len - 1] == '\n');
    want[--want_len] = '\0';
    char *got = decode_all(t, ids, n, &got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
    free(ids);
}

/* Faults injected on purpose: with the merge priorities reversed, or without
 * the dummy prefix, the same reference comparisons must fail, so the tests
 * above can fail. */
static void test_tokenizer_reference_catches_faults(void **state) {
    const Tokenizer *good = *state;
    size_t len;
    char *text = read_fixture("tinystories_sample_small.txt", &len);
    int n_want;
    int *want = read_ids("tinystories_sample_small.ids", &n_want);
    int *ids, n;

    Tokenizer bad = *good;
    float *scores = malloc(512 * sizeof *scores);
    assert_non_null(scores);
    for (int i = 0; i < 512; i++) scores[i] = -good->scores[i];
    bad.scores = scores;
    encode_ok(&bad, text, len, true, &ids, &n);
    assert_false(n == n_want && memcmp(ids, want, (size_t)n * sizeof *ids) == 0);
    free(ids);
    free(scores);

    bad = *good;
    bad.add_space_prefix = false;
    encode_ok(&bad, text, len, true, &ids, &n);
    assert_false(n == n_want && memcmp(ids, want, (size_t)n * sizeof *ids) == 0);
    free(ids);
    free(want);
    free(text);
}

static void test_tokenizer_empty_text(void **state) {
    const Tokenizer *t = *state;
    int *ids, n;
    Error err = {0};
    /* no dummy prefix for empty text: only BOS (and EOS when asked) */
    assert_int_equal(tokenizer_encode(t, "", 0, true, false, &ids, &n, &err), ST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    free(ids);
    assert_int_equal(tokenizer_encode(t, NULL, 0, true, true, &ids, &n, &err), ST_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    free(ids);
    assert_int_equal(tokenizer_encode(t, "", 0, false, false, &ids, &n, &err), ST_OK);
    assert_int_equal(n, 0);
    free(ids);
}

/* Ids from the tok512 listing (tests/data/tok512.bin): 259 " t", 260 "he",
 * 261 " a", 265 " the", 268 " b", 410 " ", 412 "a", 413 "t", 430 "b",
 * 485 "é"; byte token <0xXX> = 3 + 0xXX. */
static void test_tokenizer_plain_ascii(void **state) {
    const Tokenizer *t = *state;
    /* " a" is a piece: one token */
    assert_encodes(t, "a", 1, false, (const int[]){261}, 1);
    /* " the": " t" (-0) merges first, then "he" (-1) , then " the" (-6) */
    assert_encodes(t, "the", 3, true, (const int[]){1, 265}, 2);
    /* " b" then "a": no " ba" piece */
    assert_encodes(t, "ba", 2, false, (const int[]){268, 412}, 2);
    /* a leading space stays: the dummy prefix makes two, and "  " is no piece */
    assert_encodes(t, " a", 2, false, (const int[]){410, 261}, 2);
}

static void test_tokenizer_non_ascii(void **state) {
    const Tokenizer *t = *state;
    /* é is piece 485; " é" is not a piece */
    assert_encodes(t, "\xc3\xa9", 2, false, (const int[]){410, 485}, 2);
    /* 中 (E4 B8 AD) is not in the vocabulary: its three bytes */
    assert_encodes(t, "\xe4\xb8\xad", 3, false, (const int[]){410, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD},
                   4);
    /* U+1F600 (F0 9F 98 80): four byte tokens */
    assert_encodes(t, "\xf0\x9f\x98\x80", 4, false,
                   (const int[]){410, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80}, 5);
}

static void test_tokenizer_invalid_utf8(void **state) {
    const Tokenizer *t = *state;
    /* 0xFF is never UTF-8: byte token; "the" after it merges without the space */
    assert_encodes(t, "\xffthe", 4, false, (const int[]){410, 3 + 0xFF, 413, 260}, 4);
    /* a truncated 3-byte sequence followed by ASCII: each byte on its own */
    assert_encodes(t, "\xe4\xb8" "a", 3, false, (const int[]){410, 3 + 0xE4, 3 + 0xB8, 412}, 4);
    /* a sequence cut by the end of the text */
    assert_encodes(t, "a\xe4\xb8", 3, false, (const int[]){261, 3 + 0xE4, 3 + 0xB8}, 3);
    /* a lone continuation byte, an overlong NUL, a surrogate (ED A0 80) */
    assert_encodes(t, "\x80", 1, false, (const int[]){410, 3 + 0x80}, 2);
    assert_encodes(t, "\xc0\x80", 2, false, (const int[]){410, 3 + 0xC0, 3 + 0x80}, 3);
    assert_encodes(t, "\xed\xa0\x80", 3, false, (const int[]){410, 3 + 0xED, 3 + 0xA0, 3 + 0x80},
                   4);
    /* é cut in half: C3 alone */
    assert_encodes(t, "\xc3", 1, false, (const int[]){410, 3 + 0xC3}, 2);
}

/* The API takes a length: a NUL inside is a byte like any other. */
static void test_tokenizer_nul_bytes(void **state) {
    const Tokenizer *t = *state;
    assert_encodes(t, "a\0b", 3, false, (const int[]){261, 3 + 0x00, 430}, 3);
    size_t len;
    int *ids, n;
    encode_ok(t, "a\0b", 3, true, &ids, &n);
    char *back = decode_all(t, ids, n, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "a\0b", 3);
    free(back);
    free(ids);
}

/* Encoding then decoding (after BOS) gives the text back byte for byte: every
 * byte has a token in tok512. Random texts mixing ASCII, vocabulary
 * characters, other UTF-8 and invalid bytes; fixed seed. */
static void test_tokenizer_round_trip_random(void **state) {
    const Tokenizer *t = *state;
    static const char *const parts[] = {"a", "e", " ", "  ", "the", " Once", "\n", "\xc3\xa9",
                                        "\xe2\x80\x9c", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
                                        "\xff", "\x80", "\xe4\xb8", "\0", ".", "Lily", "\t"};
    static const size_t part_len[] = {1, 1, 1, 2, 3, 5, 1, 2, 3, 3, 4, 1, 1, 2, 1, 1, 4, 1};
    uint32_t rng = 12345;
    char text[256];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 0;
        int k = iter % 40;
        for (int j = 0; j < k; j++) {
            rng = rng * 1664525u + 1013904223u;
            size_t p = (rng >> 16) % (sizeof parts / sizeof *parts);
            memcpy(text + len, parts[p], part_len[p]);
            len += part_len[p];
        }
        int *ids, n;
        encode_ok(t, text, len, true, &ids, &n);
        size_t back_len;
        char *back = decode_all(t, ids, n, &back_len);
        assert_int_equal(back_len, len);
        assert_memory_equal(back, text, len);
        free(back);
        free(ids);
    }
}

/* A megabyte of text (the sample repeated, plus a run of one character that
 * merges into nothing) encodes, and decodes back to itself. */
static void test_tokenizer_one_megabyte(void **state) {
    const Tokenizer *t = *state;
    size_t sample_len;
    char *sample = read_fixture("tinystories_sample_small.txt", &sample_len);
    size_t len = 1u << 20;
    char *text = malloc(len);
    assert_non_null(text);
    for (size_t i = 0; i < len - 4096; i++) text[i] = sample[i % sample_len];
    memset(text + len - 4096, 'z', 4096);
    int *ids, n;
    encode_ok(t, text, len, true, &ids, &n);
    assert_true(n > 100000);
    size_t back_len;
    char *back = decode_all(t, ids, n, &back_len);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, text, len);
    free(back);
    free(ids);
    free(text);
    free(sample);
}

static void test_tokenizer_find_and_decode(void **state) {
    const Tokenizer *t = *state;
    assert_int_equal(tokenizer_find(t, " Once", 5), 403);
    assert_int_equal(tokenizer_find(t, "\xc3\xa9", 2), 485);
    /* byte and control tokens are not reachable from text */
    assert_int_equal(tokenizer_find(t, "\n", 1), -1);
    assert_int_equal(tokenizer_find(t, "<s>", 3), -1);
    assert_int_equal(tokenizer_find(t, "", 0), -1);
    assert_int_equal(t->byte_ids[0x0A], 13);
    assert_int_equal(t->types[13], TOKEN_TYPE_BYTE);

    size_t len;
    const char *s = tokenizer_decode(t, 1, 403, &len); /* after BOS: space stripped */
    assert_int_equal(len, 4);
    assert_memory_equal(s, "Once", 4);
    s = tokenizer_decode(t, 407, 403, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(s, " Once", 5);
    s = tokenizer_decode(t, 403, 1, &len); /* BOS, EOS: nothing */
    assert_int_equal(len, 0);
    s = tokenizer_decode(t, 403, 2, &len);
    assert_int_equal(len, 0);
    s = tokenizer_decode(t, 403, 13, &len); /* <0x0A> */
    assert_int_equal(len, 1);
    assert_int_equal(s[0], '\n');
    s = tokenizer_decode(t, 1, 3 + 0x20, &len); /* <0x20> after BOS is a real space */
    assert_int_equal(len, 1);
    assert_int_equal(s[0], ' ');
    s = tokenizer_decode(t, 1, 3, &len); /* <0x00> */
    assert_int_equal(len, 1);
    assert_int_equal(s[0], '\0');
    s = tokenizer_decode(t, 5, 0, &len); /* unknown prints as its name, as in llama2.c */
    assert_int_equal(len, 5);
    assert_memory_equal(s, "<unk>", 5);
}

/* -------------------------------------------------- hand-worked vocabularies */

static void init_ok(Tokenizer *t, int n, const char *const *tokens, const float *scores,
                    const int32_t *types, int bos, int eos, int unk, bool prefix) {
    Error err = {0};
    Status st = tokenizer_init(t, n, tokens, scores, types, bos, eos, unk, prefix, "tiny", &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
}

/* Vocabulary: 0 a, 1 b, 2 c, 3 d, 4 "ab" (5), 5 "bc" (5), 6 "cd" (1), 7 "bcd" (3),
 * 8 "abcd" (0), 9 "aa" (1), 10 "aaaa" (2); others score 0.
 *
 * "abc": pairs ab (5) and bc (5) tie; the leftmost wins -> [ab, c]; "abc" is
 *   no piece, so that is final (rightmost-first would give [a, bc]).
 * "bcd": bc (5) beats cd (1) -> [bc, d] -> "bcd" (3) -> [bcd].
 * "abcd": ab (5) and bc (5) tie, leftmost: [ab, c, d]; then cd (1) -> [ab, cd];
 *   "abcd" is a piece but only reachable as ab+cd: it merges (0) -> [abcd].
 * "aaa": aa at 0-1 and 1-2 tie, leftmost: [aa, a]; the entry for 1-2 is stale.
 * "aaaaa": [aa, aa, a] then aaaa (2) -> [aaaa, a]. */
static void test_tokenizer_hand_worked_merges(void **state) {
    (void)state;
    static const char *const tok[] = {"a", "b", "c", "d", "ab", "bc", "cd", "bcd", "abcd", "aa",
                                      "aaaa"};
    static const float sc[] = {0, 0, 0, 0, 5, 5, 1, 3, 0, 1, 2};
    Tokenizer t;
    init_ok(&t, 11, tok, sc, NULL, -1, -1, -1, false);
    assert_encodes(&t, "abc", 3, false, (const int[]){4, 2}, 2);
    assert_encodes(&t, "bcd", 3, false, (const int[]){7}, 1);
    assert_encodes(&t, "abcd", 4, false, (const int[]){8}, 1);
    assert_encodes(&t, "aaa", 3, false, (const int[]){9, 0}, 2);
    assert_encodes(&t, "aaaaa", 5, false, (const int[]){10, 0}, 2);
    /* "cab": ab (5) -> [c, ab] */
    assert_encodes(&t, "cab", 3, false, (const int[]){2, 4}, 2);
    tokenizer_free(&t);
}

/* Dummy prefix and byte fallback with GGUF-style pieces ("▁" for a space):
 * 0 <unk> (UNKNOWN), 1 <s>, 2 </s> (CONTROL), 3 <0x7A> (BYTE), 4 "▁" , 5 "a",
 * 6 "▁a" (1), 7 "▁▁" (2), 8 "<0xC3>" (type NORMAL: a byte token by its text). */
static void test_tokenizer_prefix_and_fallback(void **state) {
    (void)state;
    static const char *const tok[] = {"<unk>", "<s>",  "</s>",          "<0x7A>", "\xe2\x96\x81",
                                      "a",     "\342\226\201a", "\xe2\x96\x81\xe2\x96\x81",
                                      "<0xC3>"};
    static const float sc[] = {0, 0, 0, 0, 0, 0, 1, 2, 0};
    static const int32_t ty[] = {TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL,
                                 TOKEN_TYPE_BYTE,    TOKEN_TYPE_NORMAL,  TOKEN_TYPE_NORMAL,
                                 TOKEN_TYPE_NORMAL,  TOKEN_TYPE_NORMAL,  TOKEN_TYPE_NORMAL};
    Tokenizer t;
    init_ok(&t, 9, tok, sc, ty, 1, 2, 0, true);
    assert_int_equal(t.byte_ids['z'], 3);
    assert_int_equal(t.byte_ids[0xC3], 8);
    assert_int_equal(t.types[8], TOKEN_TYPE_BYTE);
    /* "a" -> " a" -> [▁a] */
    assert_encodes(&t, "a", 1, true, (const int[]){1, 6}, 2);
    /* " a" -> "  a": ▁▁ (2) beats ▁a (1) -> [▁▁, a] */
    assert_encodes(&t, " a", 2, false, (const int[]){7, 5}, 2);
    /* z has a byte token; q has none: unknown; é (C3 A9) -> <0xC3>, unk */
    assert_encodes(&t, "zq\xc3\xa9", 4, false, (const int[]){4, 3, 0, 8, 0}, 5);
    /* the text "<s>" is not BOS: its characters fall back to unk */
    assert_encodes(&t, "<s>", 3, false, (const int[]){4, 0, 0, 0}, 4);
    /* without the prefix */
    tokenizer_free(&t);
    init_ok(&t, 9, tok, sc, ty, 1, 2, 0, false);
    assert_encodes(&t, "a", 1, false, (const int[]){5}, 1);
    tokenizer_free(&t);
}

/* No byte tokens and no unknown token: an unknown character is an error. */
static void test_tokenizer_no_fallback_is_an_error(void **state) {
    (void)state;
    static const char *const tok[] = {"a", "b"};
    Tokenizer t;
    init_ok(&t, 2, tok, NULL, NULL, -1, -1, -1, false);
    int dummy = 0, *ids = &dummy, n = 7;
    Error err = {0};
    assert_int_equal(tokenizer_encode(&t, "aqb", 3, false, false, &ids, &n, &err), ST_UNSUPPORTED);
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "0x71"));
    /* asking for BOS when there is none */
    assert_int_equal(tokenizer_encode(&t, "a", 1, true, false, &ids, &n, &err), ST_USAGE);
    assert_null(ids);
    tokenizer_free(&t);
}

static void test_tokenizer_init_refuses_bad_vocabularies(void **state) {
    (void)state;
    static const char *const tok[] = {"a", "b", NULL};
    Tokenizer t;
    Error err = {0};
    assert_int_equal(tokenizer_init(&t, 0, tok, NULL, NULL, -1, -1, -1, true, "v.gguf", &err),
                     ST_LIMIT);
    assert_non_null(strstr(err.msg, "v.gguf"));
    assert_int_equal(tokenizer_init(&t, -5, tok, NULL, NULL, -1, -1, -1, true, "v", &err),
                     ST_LIMIT);
    assert_int_equal(tokenizer_init(&t, TOKENIZER_MAX_VOCAB + 1, tok, NULL, NULL, -1, -1, -1, true,
                                    "v", &err),
                     ST_LIMIT);
    assert_int_equal(tokenizer_init(&t, 3, tok, NULL, NULL, -1, -1, -1, true, "v", &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "token 2"));
    assert_int_equal(tokenizer_init(&t, 2, tok, NULL, NULL, 2, -1, -1, true, "v", &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "BOS"));
    assert_int_equal(tokenizer_init(&t, 2, tok, NULL, NULL, -1, -1, -7, true, "v", &err), ST_FORMAT);
    const float nan_scores[] = {0.0f, NAN};
    assert_int_equal(tokenizer_init(&t, 2, tok, nan_scores, NULL, -1, -1, -1, true, "v", &err),
                     ST_FORMAT);
    const int32_t byte_types[] = {TOKEN_TYPE_NORMAL, TOKEN_TYPE_BYTE};
    assert_int_equal(tokenizer_init(&t, 2, tok, NULL, byte_types, -1, -1, -1, true, "v", &err),
                     ST_FORMAT);
    const int32_t bad_types[] = {TOKEN_TYPE_NORMAL, 9};
    assert_int_equal(tokenizer_init(&t, 2, tok, NULL, bad_types, -1, -1, -1, true, "v", &err),
                     ST_FORMAT);
    /* after an error the struct is empty and can be freed (twice, too) */
    tokenizer_free(&t);
    tokenizer_free(&t);
    tokenizer_free(NULL);
}

int main(void) {
    const struct CMUnitTest tok512[] = {
        cmocka_unit_test(test_tokenizer_prompt_matches_llama_cpp),
        cmocka_unit_test(test_tokenizer_sample_text_matches_llama_cpp),
        cmocka_unit_test(test_tokenizer_decode_matches_llama2c_output),
        cmocka_unit_test(test_tokenizer_reference_catches_faults),
        cmocka_unit_test(test_tokenizer_empty_text),
        cmocka_unit_test(test_tokenizer_plain_ascii),
        cmocka_unit_test(test_tokenizer_non_ascii),
        cmocka_unit_test(test_tokenizer_invalid_utf8),
        cmocka_unit_test(test_tokenizer_nul_bytes),
        cmocka_unit_test(test_tokenizer_round_trip_random),
        cmocka_unit_test(test_tokenizer_one_megabyte),
        cmocka_unit_test(test_tokenizer_find_and_decode),
    };
    const struct CMUnitTest tiny[] = {
        cmocka_unit_test(test_tokenizer_hand_worked_merges),
        cmocka_unit_test(test_tokenizer_prefix_and_fallback),
        cmocka_unit_test(test_tokenizer_no_fallback_is_an_error),
        cmocka_unit_test(test_tokenizer_init_refuses_bad_vocabularies),
    };
    int failed = cmocka_run_group_tests_name("tok512", tok512, setup_tok512, teardown_tok512);
    failed += cmocka_run_group_tests_name("tiny vocabularies", tiny, NULL, NULL);
    return failed;
}
