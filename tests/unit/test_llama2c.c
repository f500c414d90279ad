/* test_llama2c.c — llama2.c checkpoint header and tokenizer parsing.
 *
 * Expected values come from outside: stories260K's header and size from
 * llama2.c's doc and the models README, the tokenizer's GGUF form from the
 * llama.cpp converter's output (reference/metadata/gguf-dump-stories260K-f32.txt
 * and the reference README: ids 0..2 renamed, 256 byte tokens, 253 normal,
 * scores 0, -1, -2, ...), sizes of synthetic headers worked out by hand.
 * llama2c_to_gguf needs the GGUF writer and is tested once that lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "gguf/gguf.h"
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

static uint8_t *read_fixture(const char *file, size_t *len) {
    char *buf = NULL;
    Error err = {0};
    if (file_read_all(data_path(file), 16u << 20, &buf, len, &err) != ST_OK) fail_msg("%s", err.msg);
    return (uint8_t *)buf;
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A zero-filled checkpoint image of `len` bytes (at least 28) with this header. */
static uint8_t *make_checkpoint(const int32_t h[7], size_t len) {
    uint8_t *b = calloc(1, len);
    assert_non_null(b);
    for (int i = 0; i < 7; i++) put_u32(b + 4 * i, (uint32_t)h[i]);
    return b;
}

static void free_vocab(char **tokens, float *scores, int32_t *types, int n) {
    if (tokens)
        for (int i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
}

/* A llama2.c tokenizer image built record by record. */
typedef struct TokBuf {
    uint8_t data[1024];
    size_t len;
} TokBuf;

static void tokbuf_add(TokBuf *b, float score, const char *text, size_t n) {
    uint32_t u;
    memcpy(&u, &score, 4);
    assert_true(b->len + 8 + n <= sizeof b->data);
    put_u32(b->data + b->len, u);
    put_u32(b->data + b->len + 4, (uint32_t)n);
    memcpy(b->data + b->len + 8, text, n);
    b->len += 8 + n;
}

/* --------------------------------------------------------------- checkpoint */

/* stories260K: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512
 * (positive: shared classifier), seq_len 512; 1,056,540 bytes exactly. */
static void test_llama2c_config_stories260K(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture("stories260K.bin", &len);
    assert_int_equal(len, 1056540);
    Llama2cConfig c;
    Error err = {0};
    assert_int_equal(llama2c_read_config(buf, len, "stories260K.bin", &c, &err), ST_OK);
    assert_int_equal(c.dim, 64);
    assert_int_equal(c.hidden_dim, 172);
    assert_int_equal(c.n_layers, 5);
    assert_int_equal(c.n_heads, 8);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.vocab_size, 512);
    assert_int_equal(c.seq_len, 512);
    assert_int_equal(c.shared_classifier, 1);
    free(buf);
}

static void test_llama2c_config_refuses_wrong_sizes(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture("stories260K.bin", &len);
    Llama2cConfig c;
    Error err = {0};
    /* 540 bytes short: the message names the file and both sizes */
    assert_int_equal(llama2c_read_config(buf, len - 540, "stories260K.bin", &c, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "stories260K.bin: 1056000 bytes"));
    assert_non_null(strstr(err.msg, "needs 1056540 bytes"));
    assert_non_null(strstr(err.msg, "dim 64"));
    assert_non_null(strstr(err.msg, "5 layers"));
    assert_int_equal(llama2c_read_config(buf, len - 1, "stories260K.bin", &c, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "1056539 bytes"));
    /* 4 bytes too many */
    uint8_t *longer = calloc(1, len + 4);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    assert_int_equal(llama2c_read_config(longer, len + 4, "x.bin", &c, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "x.bin: 1056544 bytes"));
    /* without the freq_cis tables (2 x 512 x 4 floats = 16,384 bytes) */
    assert_int_equal(llama2c_read_config(buf, len - 16384, "x.bin", &c, &err), ST_FORMAT);
    /* a failure leaves *cfg zeroed */
    assert_int_equal(c.dim, 0);
    free(longer);
    free(buf);
}

/* dim 8, hidden 16, 1 layer, 2 heads (head size 4), 1 kv head (kv_dim 4),
 * vocab 10, seq_len 4. Floats: embedding 10*8 = 80; layer: rms 8+8, wq+wo
 * 64+64, wk+wv 32+32, w1+w2+w3 3*128 = 592; rms_final 8; freq_cis 4*2 + 4*2
 * = 16; total 696 -> 28 + 2784 = 2812 bytes. With wcls (vocab -10): +80 floats
 * = 776 -> 3132 bytes. */
static void test_llama2c_config_separate_classifier(void **state) {
    (void)state;
    const int32_t shared[7] = {8, 16, 1, 2, 1, 10, 4};
    const int32_t separate[7] = {8, 16, 1, 2, 1, -10, 4};
    Llama2cConfig c;
    Error err = {0};
    uint8_t *b = make_checkpoint(shared, 2812);
    assert_int_equal(llama2c_read_config(b, 2812, "s.bin", &c, &err), ST_OK);
    assert_int_equal(c.vocab_size, 10);
    assert_int_equal(c.shared_classifier, 1);
    free(b);

    b = make_checkpoint(separate, 3132);
    assert_int_equal(llama2c_read_config(b, 3132, "w.bin", &c, &err), ST_OK);
    assert_int_equal(c.vocab_size, 10);
    assert_int_equal(c.shared_classifier, 0);
    assert_int_equal(llama2c_read_config(b, 2812, "w.bin", &c, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "separate classifier needs 3132 bytes"));
    free(b);
}

typedef struct BadHeader {
    int32_t h[7];
    Status status;
    const char *msg; /* a part of the message */
} BadHeader;

static void test_llama2c_config_refuses_absurd_headers(void **state) {
    (void)state;
    enum { MAXV = 1 << 22 };
    static const BadHeader cases[] = {
        {{0, 16, 1, 2, 1, 10, 4}, ST_FORMAT, "dim is 0"},
        {{-8, 16, 1, 2, 1, 10, 4}, ST_FORMAT, "dim is -8"},
        {{INT32_MAX, 16, 1, 2, 1, 10, 4}, ST_LIMIT, "dim is 2147483647"},
        {{8, 0, 1, 2, 1, 10, 4}, ST_FORMAT, "hidden_dim is 0"},
        {{8, (1 << 20) + 1, 1, 2, 1, 10, 4}, ST_LIMIT, "hidden_dim is 1048577"},
        {{8, 16, 0, 2, 1, 10, 4}, ST_FORMAT, "n_layers is 0"},
        {{8, 16, 1025, 2, 1, 10, 4}, ST_LIMIT, "n_layers is 1025"},
        {{8, 16, 1, 0, 1, 10, 4}, ST_FORMAT, "n_heads is 0"},
        {{8, 16, 1, -2, 1, 10, 4}, ST_FORMAT, "n_heads is -2"},
        {{8, 16, 1, 16, 1, 10, 4}, ST_FORMAT, "n_heads 16 is more than dim 8"},
        {{8, 16, 1, 3, 1, 10, 4}, ST_FORMAT, "dim 8 is not a multiple of n_heads 3"},
        {{8, 16, 1, 8, 1, 10, 4}, ST_FORMAT, "head size 1"},
        {{8, 16, 1, 2, 0, 10, 4}, ST_FORMAT, "n_kv_heads is 0"},
        {{8, 16, 1, 2, 3, 10, 4}, ST_FORMAT, "n_kv_heads 3 is more than n_heads 2"},
        {{12, 16, 1, 3, 2, 10, 4}, ST_FORMAT, "n_heads 3 is not a multiple of n_kv_heads 2"},
        {{8, 16, 1, 2, 1, 0, 4}, ST_FORMAT, "vocab_size is 0"},
        {{8, 16, 1, 2, 1, MAXV + 1, 4}, ST_LIMIT, "vocab_size is 4194305"},
        {{8, 16, 1, 2, 1, -(MAXV + 1), 4}, ST_LIMIT, "vocab_size is -4194305"},
        {{8, 16, 1, 2, 1, INT32_MIN, 4}, ST_LIMIT, "vocab_size is -2147483648"},
        {{8, 16, 1, 2, 1, 10, 0}, ST_FORMAT, "seq_len is 0"},
        {{8, 16, 1, 2, 1, 10, -1}, ST_FORMAT, "seq_len is -1"},
        {{8, 16, 1, 2, 1, 10, (1 << 20) + 1}, ST_LIMIT, "seq_len is 1048577"},
        /* "GGUF" and llama2.c's version-1/2 magic "ak42" read as dim */
        {{0x46554747, 3, 0, 0, 0, 0, 0}, ST_FORMAT, "GGUF"},
        {{0x616b3432, 1, 0, 0, 0, 0, 0}, ST_UNSUPPORTED, "ak42"},
        /* every field at its bound: the size arithmetic must not overflow, and
         * 7*2^52 + 2^44 + 2^33 + 2^23 + 2^22 + 28 bytes is not 28 */
        {{1 << 20, 1 << 20, 1024, 1 << 19, 1 << 19, MAXV, 1 << 20}, ST_FORMAT,
         "needs 31542798180155420 bytes"},
        /* a valid header with no data after it */
        {{8, 16, 1, 2, 1, 10, 4}, ST_FORMAT, "h.bin: 28 bytes, but"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *b = make_checkpoint(cases[i].h, 28);
        Llama2cConfig c;
        Error err = {0};
        Status st = llama2c_read_config(b, 28, "h.bin", &c, &err);
        if (st != cases[i].status || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: status %d, message \"%s\"; wanted %d and \"%s\"", i, (int)st,
                     err.msg, (int)cases[i].status, cases[i].msg);
        assert_non_null(strstr(err.msg, "h.bin: "));
        free(b);
    }
    /* shorter than the header */
    uint8_t *b = calloc(1, 27);
    Llama2cConfig c;
    Error err = {0};
    assert_int_equal(llama2c_read_config(b, 27, "t.bin", &c, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "t.bin: 27 bytes, too short"));
    assert_int_equal(llama2c_read_config(NULL, 0, "t.bin", &c, &err), ST_FORMAT);
    free(b);
}

/* ---------------------------------------------------------------- tokenizer */

/* tok512.bin as llama.cpp's converter turns it into GGUF arrays. */
static void test_llama2c_tokenizer_tok512(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture("tok512.bin", &len);
    char **tok;
    float *sc;
    int32_t *ty;
    Error err = {0};
    assert_int_equal(llama2c_read_tokenizer(buf, len, "tok512.bin", 512, &tok, &sc, &ty, &err),
                     ST_OK);
    /* the GGUF type values are those of tokenizer.h */
    assert_string_equal(tok[0], "<unk>");
    assert_int_equal(ty[0], TOKEN_TYPE_UNKNOWN);
    assert_int_equal(ty[0], 2);
    assert_string_equal(tok[1], "<s>");
    assert_int_equal(ty[1], TOKEN_TYPE_CONTROL);
    assert_int_equal(ty[1], 3);
    assert_string_equal(tok[2], "</s>");
    assert_int_equal(ty[2], TOKEN_TYPE_CONTROL);
    int n_byte = 0, n_normal = 0;
    for (int i = 3; i < 512; i++) {
        if (ty[i] == TOKEN_TYPE_BYTE) {
            char want[8];
            snprintf(want, sizeof want, "<0x%02X>", i - 3);
            assert_string_equal(tok[i], want);
            n_byte++;
        } else {
            assert_int_equal(ty[i], TOKEN_TYPE_NORMAL);
            assert_int_equal(ty[i], 1);
            n_normal++;
        }
    }
    assert_int_equal(ty[3], 6);
    assert_int_equal(n_byte, 256);
    assert_int_equal(n_normal, 253);
    /* scores copied: 0 up to 259, then -1, -2, ... -252 */
    for (int i = 0; i < 512; i++) {
        float want = i < 259 ? 0.0f : -(float)(i - 259);
        if (sc[i] != want) fail_msg("score %d: %g, want %g", i, (double)sc[i], (double)want);
    }
    /* spaces as U+2581; other characters untouched (511 is U+200A, hair space) */
    assert_string_equal(tok[259], "\xe2\x96\x81t");
    assert_string_equal(tok[403], "\xe2\x96\x81Once");
    assert_string_equal(tok[410], "\xe2\x96\x81");
    assert_string_equal(tok[485], "\xc3\xa9");
    assert_string_equal(tok[511], "\xe2\x80\x8a");
    free_vocab(tok, sc, ty, 512);
    free(buf);
}

/* Cut anywhere (each cut in a buffer of exactly that size, so the sanitizer
 * sees any read past it), the file is refused and nothing is returned. */
static void test_llama2c_tokenizer_truncated_everywhere(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture("tok512.bin", &len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *b = malloc(cut ? cut : 1);
        assert_non_null(b);
        memcpy(b, buf, cut);
        char **tok = (char **)b;
        float *sc = (float *)b;
        int32_t *ty = (int32_t *)b;
        Error err = {0};
        Status st = llama2c_read_tokenizer(b, cut, "tok512.bin", 512, &tok, &sc, &ty, &err);
        if (st != ST_FORMAT) fail_msg("cut at %zu: status %d (%s)", cut, (int)st, err.msg);
        assert_null(tok);
        assert_null(sc);
        assert_null(ty);
        assert_non_null(strstr(err.msg, "tok512.bin: "));
        free(b);
    }
    free(buf);
}

static void test_llama2c_tokenizer_refuses_wrong_counts(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture("tok512.bin", &len);
    char **tok;
    float *sc;
    int32_t *ty;
    Error err = {0};
    /* 511 records leave the last one over; 513 run out */
    assert_int_equal(llama2c_read_tokenizer(buf, len, "t.bin", 511, &tok, &sc, &ty, &err),
                     ST_FORMAT);
    assert_non_null(strstr(err.msg, "follow the last of the 511 tokens"));
    assert_int_equal(llama2c_read_tokenizer(buf, len, "t.bin", 513, &tok, &sc, &ty, &err),
                     ST_FORMAT);
    assert_int_equal(llama2c_read_tokenizer(buf, len, "t.bin", 0, &tok, &sc, &ty, &err), ST_FORMAT);
    assert_int_equal(llama2c_read_tokenizer(buf, len, "t.bin", -512, &tok, &sc, &ty, &err),
                     ST_FORMAT);
    assert_int_equal(
        llama2c_read_tokenizer(buf, len, "t.bin", TOKENIZER_MAX_VOCAB + 1, &tok, &sc, &ty, &err),
        ST_LIMIT);
    /* a huge count that passes the limit is refused before allocating */
    assert_int_equal(
        llama2c_read_tokenizer(buf, len, "t.bin", TOKENIZER_MAX_VOCAB, &tok, &sc, &ty, &err),
        ST_FORMAT);
    assert_non_null(strstr(err.msg, "cannot hold"));
    /* one extra byte at the end */
    uint8_t *longer = calloc(1, len + 1);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    assert_int_equal(llama2c_read_tokenizer(longer, len + 1, "t.bin", 512, &tok, &sc, &ty, &err),
                     ST_FORMAT);
    assert_non_null(strstr(err.msg, "1 bytes follow"));
    assert_null(tok);
    free(longer);
    free(buf);
}

/* The converter's rules on a hand-made file: ids 0..2 renamed whatever their
 * text; an empty text is CONTROL; sscanf("<0x%02hhX>") == 1 means BYTE, which
 * also accepts "<0x4" and "<0x 7" (white space skipped) as llama.cpp does. */
static void test_llama2c_tokenizer_conversion_rules(void **state) {
    (void)state;
    TokBuf b = {.len = 4};
    put_u32(b.data, 6); /* max_token_length: not used */
    tokbuf_add(&b, 0.5f, "\xff\xfe", 2); /* invalid UTF-8, but renamed <unk> */
    tokbuf_add(&b, 0.25f, "\n<s>\n", 5);
    tokbuf_add(&b, 0.0f, "x", 1);
    tokbuf_add(&b, -1.0f, "", 0);
    tokbuf_add(&b, -2.0f, "<0x41>", 6);
    tokbuf_add(&b, -3.0f, "a b ", 4);
    tokbuf_add(&b, -4.0f, "<0x4", 4);
    tokbuf_add(&b, -5.0f, "<0xZZ>", 6);
    tokbuf_add(&b, -6.0f, "<0x 7>", 6);
    tokbuf_add(&b, -7.0f, "<0x", 3);
    char **tok;
    float *sc;
    int32_t *ty;
    Error err = {0};
    assert_int_equal(llama2c_read_tokenizer(b.data, b.len, "h.bin", 10, &tok, &sc, &ty, &err),
                     ST_OK);
    static const char *const want_text[10] = {
        "<unk>", "<s>", "</s>", "", "<0x41>", "a\342\226\201b\342\226\201", "<0x4", "<0xZZ>",
        "<0x\342\226\2017>", "<0x"};
    static const int32_t want_type[10] = {2, 3, 3, 3, 6, 1, 6, 1, 6, 1};
    static const float want_score[10] = {0.5f, 0.25f, 0.0f, -1, -2, -3, -4, -5, -6, -7};
    for (int i = 0; i < 10; i++) {
        assert_string_equal(tok[i], want_text[i]);
        if (ty[i] != want_type[i]) fail_msg("token %d: type %d, want %d", i, ty[i], want_type[i]);
        assert_true(sc[i] == want_score[i]);
    }
    free_vocab(tok, sc, ty, 10);
}

static void test_llama2c_tokenizer_refuses_bad_text(void **state) {
    (void)state;
    char **tok;
    float *sc;
    int32_t *ty;
    Error err = {0};
    TokBuf b = {.len = 4};
    tokbuf_add(&b, 0, "u", 1);
    tokbuf_add(&b, 0, "s", 1);
    tokbuf_add(&b, 0, "e", 1);
    size_t base = b.len;

    static const struct {
        const char *text;
        size_t n;
    } bad[] = {
        {"\xff", 1},             /* never UTF-8 */
        {"a\xc3", 2},            /* truncated sequence */
        {"\x80", 1},             /* lone continuation byte */
        {"\xc0\xaf", 2},         /* overlong */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 4}, /* past U+10FFFF */
        {"a\0b", 3},             /* NUL: GGUF strings cannot hold it */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        b.len = base;
        tokbuf_add(&b, 0, bad[i].text, bad[i].n);
        Status st = llama2c_read_tokenizer(b.data, b.len, "h.bin", 4, &tok, &sc, &ty, &err);
        if (st != ST_FORMAT || !strstr(err.msg, "h.bin: token 3"))
            fail_msg("case %zu: status %d, \"%s\"", i, (int)st, err.msg);
        assert_null(tok);
    }
    /* a length field of -1 (0xFFFFFFFF) runs past the end */
    b.len = base;
    tokbuf_add(&b, 0, "ok", 2);
    put_u32(b.data + base + 4, 0xFFFFFFFFu);
    assert_int_equal(llama2c_read_tokenizer(b.data, b.len, "h.bin", 4, &tok, &sc, &ty, &err),
                     ST_FORMAT);
    assert_non_null(strstr(err.msg, "4294967295 bytes of text"));
    /* and the 4-character valid one is fine */
    b.len = base;
    tokbuf_add(&b, 0, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(llama2c_read_tokenizer(b.data, b.len, "h.bin", 4, &tok, &sc, &ty, &err), ST_OK);
    assert_string_equal(tok[3], "\xf0\x9f\x98\x80");
    free_vocab(tok, sc, ty, 4);
}


/* ----------------------------------------------------------- to GGUF */

/* Converts a checkpoint + tokenizer image into a parsed GGUF (image in *buf). */
static void convert(const uint8_t *bin, size_t bin_len, const uint8_t *tok, size_t tok_len,
                    const char *name, GgufFile *g, uint8_t **buf) {
    Error err = {0};
    GgufWriter *w = gguf_writer_new();
    void *owned = (void *)1;
    size_t len = 0;
    Status st = llama2c_to_gguf(bin, bin_len, "m.bin", tok, tok_len, "t.bin", name, w, &owned, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
    assert_null(owned); /* output.weight borrows the checkpoint's bytes; nothing is copied */
    assert_int_equal(gguf_writer_write_buffer(w, buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    assert_int_equal(gguf_parse(g, *buf, len, "converted", &err), ST_OK);
}

static bool values_equal(const GgufValue *a, const GgufValue *b) {
    if (a->type != b->type) return false;
    if (a->type == GGUF_TYPE_STRING)
        return a->v.str.len == b->v.str.len && memcmp(a->v.str.data, b->v.str.data, a->v.str.len) == 0;
    if (a->type != GGUF_TYPE_ARRAY) return memcmp(&a->v, &b->v, sizeof a->v.u64) == 0;
    if (a->v.arr.type != b->v.arr.type || a->v.arr.n != b->v.arr.n) return false;
    if (a->v.arr.type == GGUF_TYPE_STRING) {
        const GgufString *x = a->v.arr.data, *y = b->v.arr.data;
        for (uint64_t i = 0; i < a->v.arr.n; i++)
            if (x[i].len != y[i].len || memcmp(x[i].data, y[i].data, x[i].len) != 0) return false;
        return true;
    }
    size_t elem = a->v.arr.type == GGUF_TYPE_FLOAT32 || a->v.arr.type == GGUF_TYPE_INT32 ? 4 : 8;
    return memcmp(a->v.arr.data, b->v.arr.data, elem * a->v.arr.n) == 0;
}

/* Against llama.cpp's own conversion (tests/data/stories260K-f32.gguf, made by
 * llama-convert-llama2c-to-ggml from the same two files): the same keys in the
 * same order with the same values, except general.name (we record the model's
 * name, llama.cpp writes "llama") and llama.context_length (the checkpoint's real
 * 512; llama.cpp hard-codes 128); the same 48 tensors, names, order, shapes, types
 * and bytes. */
static void test_llama2c_to_gguf_matches_llamacpp_conversion(void **state) {
    (void)state;
    size_t bin_len, tok_len, ref_len;
    uint8_t *bin = read_fixture("stories260K.bin", &bin_len);
    uint8_t *tok = read_fixture("tok512.bin", &tok_len);
    uint8_t *ref_buf = read_fixture("stories260K-f32.gguf", &ref_len);
    GgufFile ref, g;
    Error err = {0};
    assert_int_equal(gguf_parse(&ref, ref_buf, ref_len, "ref", &err), ST_OK);
    uint8_t *buf = NULL;
    convert(bin, bin_len, tok, tok_len, "stories260K", &g, &buf);

    assert_int_equal(g.n_kv, ref.n_kv);
    for (uint64_t i = 0; i < g.n_kv; i++) {
        assert_string_equal(g.kv[i].key, ref.kv[i].key);
        if (strcmp(g.kv[i].key, "general.name") == 0) {
            assert_string_equal(g.kv[i].value.v.str.data, "stories260K");
        } else if (strcmp(g.kv[i].key, "llama.context_length") == 0) {
            assert_int_equal(g.kv[i].value.v.u32, 512);
            assert_int_equal(ref.kv[i].value.v.u32, 128);
        } else if (!values_equal(&g.kv[i].value, &ref.kv[i].value)) {
            fail_msg("key %s differs from llama.cpp's conversion", g.kv[i].key);
        }
    }
    assert_int_equal(g.n_tensors, 48);
    assert_int_equal(g.n_tensors, ref.n_tensors);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *a = &g.tensors[i], *b = &ref.tensors[i];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->n_dims, b->n_dims);
        assert_memory_equal(a->ne, b->ne, sizeof a->ne);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->nbytes, b->nbytes);
        assert_memory_equal(a->data, b->data, a->nbytes);
    }
    gguf_close(&g);
    gguf_close(&ref);
    free(buf);
    free(ref_buf);
    free(bin);
    free(tok);
}

/* A checkpoint with a separate classifier (negative vocab_size): every float is
 * its own index, so each tensor's first value says where it was read from. With
 * dim 8, hidden 16, 1 layer, 2 heads, 1 kv head (kv_dim 4), vocab 10, seq_len 4:
 * embedding 0..79, rms_att 80, wq 88, wk 152, wv 184, wo 216, rms_ffn 280,
 * w1 288, w2 416, w3 544, rms_final 672, freq_cis 680..695 (skipped), wcls 696. */
static void test_llama2c_to_gguf_separate_classifier(void **state) {
    (void)state;
    const int32_t h[7] = {8, 16, 1, 2, 1, -10, 4};
    uint8_t *bin = make_checkpoint(h, 3132);
    for (int i = 0; i < 776; i++) {
        float f = (float)i;
        memcpy(bin + 28 + 4 * i, &f, 4);
    }
    TokBuf tb = {{0}, 4};
    put_u32(tb.data, 5);
    const char *pieces[10] = {"<unk>", "\n<s>\n", "\n</s>\n", "a", "b", " a", "ab", "ba", " b", "aa"};
    for (int i = 0; i < 10; i++) tokbuf_add(&tb, (float)-i, pieces[i], strlen(pieces[i]));
    GgufFile g;
    uint8_t *buf = NULL;
    convert(bin, 3132, tb.data, tb.len, "tiny", &g, &buf);
    static const struct {
        const char *name;
        float first;
        uint64_t ne0, ne1;
    } want[] = {
        {"token_embd.weight", 0, 8, 10},         {"output_norm.weight", 672, 8, 1},
        {"output.weight", 696, 8, 10},           {"blk.0.attn_q.weight", 88, 8, 8},
        {"blk.0.attn_k.weight", 152, 8, 4},      {"blk.0.attn_v.weight", 184, 8, 4},
        {"blk.0.attn_output.weight", 216, 8, 8}, {"blk.0.attn_norm.weight", 80, 8, 1},
        {"blk.0.ffn_gate.weight", 288, 8, 16},   {"blk.0.ffn_down.weight", 416, 16, 8},
        {"blk.0.ffn_up.weight", 544, 8, 16},     {"blk.0.ffn_norm.weight", 280, 8, 1},
    };
    assert_int_equal(g.n_tensors, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const GgufTensorInfo *t = gguf_find_tensor(&g, want[i].name);
        if (!t) fail_msg("missing %s", want[i].name);
        float first;
        memcpy(&first, t->data, 4);
        assert_true(first == want[i].first);
        assert_int_equal(t->ne[0], want[i].ne0);
        assert_int_equal(t->ne[1], want[i].ne1);
    }
    /* the freq_cis floats 680..695 appear in no tensor */
    for (uint64_t i = 0; i < g.n_tensors; i++)
        for (uint64_t j = 0; j < g.tensors[i].n_elements; j++) {
            float v;
            memcpy(&v, g.tensors[i].data + 4 * j, 4);
            assert_false(v >= 680 && v <= 695);
        }
    assert_string_equal(gguf_get_str(&g, "general.name"), "tiny");
    uint32_t ctx = 0;
    assert_true(gguf_get_u32(&g, "llama.context_length", &ctx));
    assert_int_equal(ctx, 4);
    gguf_close(&g);
    free(buf);
    free(bin);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama2c_config_stories260K),
        cmocka_unit_test(test_llama2c_config_refuses_wrong_sizes),
        cmocka_unit_test(test_llama2c_config_separate_classifier),
        cmocka_unit_test(test_llama2c_config_refuses_absurd_headers),
        cmocka_unit_test(test_llama2c_tokenizer_tok512),
        cmocka_unit_test(test_llama2c_tokenizer_truncated_everywhere),
        cmocka_unit_test(test_llama2c_tokenizer_refuses_wrong_counts),
        cmocka_unit_test(test_llama2c_tokenizer_conversion_rules),
        cmocka_unit_test(test_llama2c_tokenizer_refuses_bad_text),
        cmocka_unit_test(test_llama2c_to_gguf_matches_llamacpp_conversion),
        cmocka_unit_test(test_llama2c_to_gguf_separate_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
