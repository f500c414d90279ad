/* test_gguf.c — the GGUF reader and writer.
 *
 * Where the expected values come from (never from the code under test):
 *   - byte layouts written out by hand here from the GGUF spec (Bytes builder);
 *   - llama.cpp's own files in tests/data/ and gguf-py's dumps of them
 *     (gguf-dump-*.txt), plus facts from shared/reference/README.md;
 *   - a few weights read straight out of llama2.c's stories260K.bin;
 *   - the quantization formats' worst-case error, derived in comments.
 * Run from the repository root (tests/run-all.sh does); QUANTLAB_DATA may name it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/half.h"
#include "gguf/gguf.h"
#include "lib/proc.h"
#include "quant/types.h"

/* ================================================================ helpers */

/* tests/data/file under $QUANTLAB_DATA (proc_data_path's root). */
static const char *data_path(const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/%s", file);
    return proc_data_path(rel);
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* A growable byte string for laying out GGUF files by hand. */
typedef struct Bytes {
    uint8_t *p;
    size_t n, cap;
} Bytes;

static void b_raw(Bytes *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void b_u8(Bytes *b, uint8_t v) { b_raw(b, &v, 1); }

static void b_u32(Bytes *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    b_raw(b, x, 4);
}

static void b_u64(Bytes *b, uint64_t v) {
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}

static void b_f32(Bytes *b, float f) { b_u32(b, f32_bits(f)); }

/* GGUF string: u64 length, then the bytes (len may contain anything). */
static void b_strn(Bytes *b, const char *s, size_t len) {
    b_u64(b, len);
    b_raw(b, s, len);
}

static void b_str(Bytes *b, const char *s) { b_strn(b, s, strlen(s)); }

static void b_pad(Bytes *b, size_t align) {
    while (b->n % align) b_u8(b, 0);
}

static void b_header(Bytes *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b_raw(b, "GGUF", 4);
    b_u32(b, version);
    b_u64(b, n_tensors);
    b_u64(b, n_kv);
}

/* A key and its value type; the value follows. */
static void b_kv_head(Bytes *b, const char *key, uint32_t type) {
    b_str(b, key);
    b_u32(b, type);
}

static void b_kv_u32(Bytes *b, const char *key, uint32_t v) {
    b_kv_head(b, key, GGUF_TYPE_UINT32);
    b_u32(b, v);
}

static void b_kv_str(Bytes *b, const char *key, const char *v) {
    b_kv_head(b, key, GGUF_TYPE_STRING);
    b_str(b, v);
}

static void b_ti(Bytes *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                 uint64_t offset) {
    b_str(b, name);
    b_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) b_u64(b, ne[i]);
    b_u32(b, type);
    b_u64(b, offset);
}

/* n little-endian floats 1, 2, 3, ... */
static void b_floats(Bytes *b, int n) {
    for (int i = 0; i < n; i++) b_f32(b, (float)(i + 1));
}

static void b_free(Bytes *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* The smallest interesting valid file, by hand: one string key, one 1-D F32
 * tensor of 8 values (32 bytes, so no trailing padding). */
static void b_minimal(Bytes *b, uint32_t version) {
    b_header(b, version, 1, 1);
    b_kv_str(b, "general.name", "mini");
    b_ti(b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(b, 32);
    b_floats(b, 8);
}

static void expect_ok(GgufFile *f, const Bytes *b) {
    Error err = {0};
    Status st = gguf_parse(f, b->p, b->n, "ok.gguf", &err);
    if (st != ST_OK) print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(st, ST_OK);
}

/* Parsing fails with `want`; the one-line message starts with the name and
 * contains `needle`; the GgufFile is left empty. */
static void expect_fail_named(const void *buf, size_t len, Status want, const char *needle) {
    GgufFile f;
    memset(&f, 0xAB, sizeof f); /* garbage in: the parser must clear it */
    Error err = {0};
    Status st = gguf_parse(&f, buf, len, "bad.gguf", &err);
    if (st != want || !strstr(err.msg, needle) || strncmp(err.msg, "bad.gguf: ", 10) != 0)
        print_message("status %d, message: %s (wanted %d with '%s')\n", st, err.msg, want, needle);
    assert_int_equal(st, want);
    assert_int_equal(err.status, want);
    assert_int_equal(strncmp(err.msg, "bad.gguf: ", 10), 0);
    assert_non_null(strstr(err.msg, needle));
    assert_null(strchr(err.msg, '\n'));
    assert_null(f.kv);
    assert_null(f.tensors);
    assert_null(f.name);
    assert_int_equal(f.n_kv, 0);
    assert_int_equal(f.n_tensors, 0);
    gguf_close(&f); /* safe on the emptied struct */
}

static void expect_fail(Bytes *b, Status want, const char *needle) {
    expect_fail_named(b->p, b->n, want, needle);
    b_free(b);
}

/* A fresh temporary directory per test that needs files. */
static int tmpdir_setup(void **state) {
    char *dir = strdup("/tmp/ql-test-gguf-XXXXXX");
    if (!dir || !mkdtemp(dir)) return -1;
    chmod(dir, 0755); /* the read-only test may look in as another user */
    *state = dir;
    return 0;
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        chmod(p, 0755);
        remove_tree(p);
        remove(p);
    }
    closedir(d);
}

static int tmpdir_teardown(void **state) {
    char *dir = *state;
    remove_tree(dir);
    rmdir(dir);
    free(dir);
    return 0;
}

static const char *in_dir(const char *dir, const char *name) {
    static char buf[8400];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Counts directory entries other than . and .. */
static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* ===================================================== values round trip */

static const GgufKv *kv_typed(const GgufFile *f, const char *key, GgufValueType type) {
    const GgufKv *kv = gguf_find_kv(f, key);
    assert_non_null(kv);
    assert_int_equal(kv->value.type, type);
    return kv;
}

/* Every one of the 13 value types (arrays of every scalar type, arrays of
 * strings, empty arrays, empty strings) goes writer -> buffer -> reader. The
 * expected values are the literals below. */
static void test_gguf_round_trips_every_value_type(void **state) {
    (void)state;
    GgufWriter *w = gguf_writer_new();
    assert_non_null(w);
    GgufValue v;
#define SET(k, T, field, val)                                                                  \
    do {                                                                                       \
        memset(&v, 0, sizeof v);                                                               \
        v.type = T;                                                                            \
        v.v.field = val;                                                                       \
        assert_int_equal(gguf_writer_set_value(w, k, &v), ST_OK);                              \
    } while (0)
    SET("t.u8", GGUF_TYPE_UINT8, u8, 255);
    SET("t.i8", GGUF_TYPE_INT8, i8, -128);
    SET("t.u16", GGUF_TYPE_UINT16, u16, 65535);
    SET("t.i16", GGUF_TYPE_INT16, i16, -32768);
    assert_int_equal(gguf_writer_set_u32(w, "t.u32", 4294967295u), ST_OK);
    assert_int_equal(gguf_writer_set_i32(w, "t.i32", INT32_MIN), ST_OK);
    assert_int_equal(gguf_writer_set_f32(w, "t.f32", 9.99999975e-06f), ST_OK);
    assert_int_equal(gguf_writer_set_bool(w, "t.bool", true), ST_OK);
    assert_int_equal(gguf_writer_set_str(w, "t.str", "h\xC3\xA9llo \xE2\x96\x81world"), ST_OK);
    assert_int_equal(gguf_writer_set_str(w, "t.empty_str", ""), ST_OK);
    assert_int_equal(gguf_writer_set_u64(w, "t.u64", UINT64_MAX), ST_OK);
    SET("t.i64", GGUF_TYPE_INT64, i64, INT64_MIN);
    SET("t.f64", GGUF_TYPE_FLOAT64, f64, 0.1);
    SET("t.false", GGUF_TYPE_BOOL, b, false);
#undef SET
    const uint8_t a_u8[] = {0, 1, 255};
    const int8_t a_i8[] = {-128, 0, 127};
    const uint16_t a_u16[] = {0, 65535};
    const int16_t a_i16[] = {-32768, 32767};
    const uint32_t a_u32[] = {0, 4294967295u, 7};
    const int32_t a_i32[] = {INT32_MIN, -1, INT32_MAX};
    const float a_f32[] = {0.5f, -0.0f, 3.0e38f, 1.0e-45f};
    const bool a_bool[] = {true, false, true};
    const uint64_t a_u64[] = {UINT64_MAX, 0};
    const int64_t a_i64[] = {INT64_MIN, INT64_MAX};
    const double a_f64[] = {0.1, -2.5e300};
    const char *a_str[] = {"<unk>", "", "\xE2\x96\x81the", "a'b\"c"};
    assert_int_equal(gguf_writer_set_arr(w, "a.u8", GGUF_TYPE_UINT8, a_u8, 3), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.i8", GGUF_TYPE_INT8, a_i8, 3), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.u16", GGUF_TYPE_UINT16, a_u16, 2), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.i16", GGUF_TYPE_INT16, a_i16, 2), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.u32", GGUF_TYPE_UINT32, a_u32, 3), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.i32", GGUF_TYPE_INT32, a_i32, 3), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.f32", GGUF_TYPE_FLOAT32, a_f32, 4), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.bool", GGUF_TYPE_BOOL, a_bool, 3), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.u64", GGUF_TYPE_UINT64, a_u64, 2), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.i64", GGUF_TYPE_INT64, a_i64, 2), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.f64", GGUF_TYPE_FLOAT64, a_f64, 2), ST_OK);
    assert_int_equal(gguf_writer_set_arr_str(w, "a.str", a_str, 4), ST_OK);
    assert_int_equal(gguf_writer_set_arr(w, "a.empty_u32", GGUF_TYPE_UINT32, NULL, 0), ST_OK);
    assert_int_equal(gguf_writer_set_arr_str(w, "a.empty_str", NULL, 0), ST_OK);

    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);

    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "values.gguf", &err), ST_OK);
    assert_int_equal(f.version, 3);
    assert_int_equal(f.n_kv, 14 + 14);
    assert_int_equal(f.n_tensors, 0);
    /* order as set */
    assert_string_equal(f.kv[0].key, "t.u8");
    assert_string_equal(f.kv[13].key, "t.false");
    assert_string_equal(f.kv[27].key, "a.empty_str");

    const GgufKv *kv;
#define KV(k, T) (kv = kv_typed(&f, k, T))
    assert_int_equal(KV("t.u8", GGUF_TYPE_UINT8)->value.v.u8, 255);
    assert_int_equal(KV("t.i8", GGUF_TYPE_INT8)->value.v.i8, -128);
    assert_int_equal(KV("t.u16", GGUF_TYPE_UINT16)->value.v.u16, 65535);
    assert_int_equal(KV("t.i16", GGUF_TYPE_INT16)->value.v.i16, -32768);
    assert_true(KV("t.u32", GGUF_TYPE_UINT32)->value.v.u32 == 4294967295u);
    assert_true(KV("t.i32", GGUF_TYPE_INT32)->value.v.i32 == INT32_MIN);
    assert_int_equal(f32_bits(KV("t.f32", GGUF_TYPE_FLOAT32)->value.v.f32), f32_bits(9.99999975e-06f));
    assert_true(KV("t.bool", GGUF_TYPE_BOOL)->value.v.b);
    assert_false(KV("t.false", GGUF_TYPE_BOOL)->value.v.b);
    KV("t.str", GGUF_TYPE_STRING);
    assert_int_equal(kv->value.v.str.len, 15);
    assert_string_equal(kv->value.v.str.data, "h\xC3\xA9llo \xE2\x96\x81world");
    KV("t.empty_str", GGUF_TYPE_STRING);
    assert_int_equal(kv->value.v.str.len, 0);
    assert_string_equal(kv->value.v.str.data, "");
    assert_true(KV("t.u64", GGUF_TYPE_UINT64)->value.v.u64 == UINT64_MAX);
    assert_true(KV("t.i64", GGUF_TYPE_INT64)->value.v.i64 == INT64_MIN);
    assert_true(KV("t.f64", GGUF_TYPE_FLOAT64)->value.v.f64 == 0.1);
#undef KV

    uint64_t n = 99;
    const void *p;
#define ARR(k, T, expected, count)                                                             \
    do {                                                                                       \
        p = gguf_get_arr(&f, k, T, &n);                                                        \
        assert_non_null(p);                                                                    \
        assert_int_equal(n, count);                                                            \
        assert_memory_equal(p, expected, sizeof expected);                                     \
    } while (0)
    ARR("a.u8", GGUF_TYPE_UINT8, a_u8, 3);
    ARR("a.i8", GGUF_TYPE_INT8, a_i8, 3);
    ARR("a.u16", GGUF_TYPE_UINT16, a_u16, 2);
    ARR("a.i16", GGUF_TYPE_INT16, a_i16, 2);
    ARR("a.u32", GGUF_TYPE_UINT32, a_u32, 3);
    ARR("a.i32", GGUF_TYPE_INT32, a_i32, 3);
    ARR("a.f32", GGUF_TYPE_FLOAT32, a_f32, 4);
    ARR("a.bool", GGUF_TYPE_BOOL, a_bool, 3);
    ARR("a.u64", GGUF_TYPE_UINT64, a_u64, 2);
    ARR("a.i64", GGUF_TYPE_INT64, a_i64, 2);
    ARR("a.f64", GGUF_TYPE_FLOAT64, a_f64, 2);
#undef ARR
    const GgufString *s = gguf_get_arr(&f, "a.str", GGUF_TYPE_STRING, &n);
    assert_non_null(s);
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s[i].len, strlen(a_str[i]));
        assert_string_equal(s[i].data, a_str[i]);
    }
    /* empty arrays are present (non-NULL) with n = 0 */
    assert_non_null(gguf_get_arr(&f, "a.empty_u32", GGUF_TYPE_UINT32, &n));
    assert_int_equal(n, 0);
    assert_non_null(gguf_get_arr(&f, "a.empty_str", GGUF_TYPE_STRING, &n));
    assert_int_equal(n, 0);
    /* wrong element type or absent key */
    assert_null(gguf_get_arr(&f, "a.u8", GGUF_TYPE_INT8, &n));
    assert_null(gguf_get_arr(&f, "t.u8", GGUF_TYPE_UINT8, &n));
    assert_null(gguf_get_arr(&f, "nope", GGUF_TYPE_UINT8, &n));
    gguf_close(&f);
    free(buf);
}

/* The writer's bytes for a small file, laid out by hand from the spec: header,
 * a uint32 kv, a string-array kv, one tensor info, zero padding to 32, the data,
 * zero padding to 32 after it. */
static void test_gguf_writer_matches_hand_layout(void **state) {
    (void)state;
    const float data[3] = {1.0f, 2.0f, 3.0f};
    const char *strs[] = {"a", "bc"};
    GgufWriter *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "k", 7), ST_OK);
    assert_int_equal(gguf_writer_set_arr_str(w, "s", strs, 2), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, (uint64_t[]){3}, GGML_TYPE_F32, data, 12),
                     ST_OK);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);

    Bytes b = {0};
    b_header(&b, 3, 1, 2);               /* 24 bytes */
    b_kv_u32(&b, "k", 7);                /* 8+1+4+4 = 17 -> 41 */
    b_str(&b, "s");                      /* 9 -> 50 */
    b_u32(&b, GGUF_TYPE_ARRAY);          /* 54 */
    b_u32(&b, GGUF_TYPE_STRING);         /* 58 */
    b_u64(&b, 2);                        /* 66 */
    b_str(&b, "a");                      /* 75 */
    b_str(&b, "bc");                     /* 85 */
    b_ti(&b, "t", 1, (uint64_t[]){3}, GGML_TYPE_F32, 0); /* 9+4+8+4+8 = 33 -> 118 */
    assert_int_equal(b.n, 118);
    b_pad(&b, 32);                       /* 128 */
    b_f32(&b, 1.0f), b_f32(&b, 2.0f), b_f32(&b, 3.0f);
    b_pad(&b, 32);                       /* 160 */
    assert_int_equal(b.n, 160);
    assert_int_equal(len, b.n);
    assert_memory_equal(buf, b.p, b.n);
    b_free(&b);
    free(buf);
}

/* general.alignment is honoured: data section and every offset are multiples
 * of 64, the gaps are zero, and the reader agrees. */
static void test_gguf_writer_honours_alignment(void **state) {
    (void)state;
    uint8_t a[40], c[8];
    memset(a, 0x11, sizeof a);
    memset(c, 0x22, sizeof c);
    GgufWriter *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "general.alignment", 64), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "a", 1, (uint64_t[]){40}, GGML_TYPE_I8, a, 40), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "c", 2, (uint64_t[]){4, 2}, GGML_TYPE_I8, c, 8), ST_OK);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "al.gguf", &err), ST_OK);
    assert_int_equal(f.alignment, 64);
    assert_int_equal(f.data_offset % 64, 0);
    assert_int_equal(f.tensors[0].offset, 0);
    assert_int_equal(f.tensors[1].offset, 64);
    assert_int_equal(len, f.data_offset + 128);
    for (size_t i = 40; i < 64; i++) assert_int_equal(buf[f.data_offset + i], 0);
    for (size_t i = 72; i < 128; i++) assert_int_equal(buf[f.data_offset + i], 0);
    assert_memory_equal(f.tensors[1].data, c, 8);
    assert_int_equal(f.tensors[1].ne[0], 4);
    assert_int_equal(f.tensors[1].ne[1], 2);
    assert_int_equal(f.tensors[1].ne[2], 1);
    gguf_close(&f);
    free(buf);
}

static void test_gguf_writer_refuses_bad_input(void **state) {
    (void)state;
    GgufWriter *w = gguf_writer_new();
    float x[64] = {0};
    uint64_t ne32[] = {32}, ne33[] = {33}, ne0[] = {0};
    /* keys */
    assert_int_equal(gguf_writer_set_u32(w, "", 1), ST_USAGE);
    assert_int_equal(gguf_writer_set_u32(w, "bad\xFF", 1), ST_USAGE);
    assert_int_equal(gguf_writer_set_str(w, "k", "\xC0\xAF"), ST_USAGE); /* overlong '/' */
    const char *bad_strs[] = {"ok", "\xED\xA0\x80"};                   /* a surrogate */
    assert_int_equal(gguf_writer_set_arr_str(w, "k", bad_strs, 2), ST_USAGE);
    GgufValue nul = {.type = GGUF_TYPE_STRING, .v.str = {3, (char *)"a\0b"}};
    assert_int_equal(gguf_writer_set_value(w, "k", &nul), ST_USAGE);
    GgufValue nested = {.type = GGUF_TYPE_ARRAY, .v.arr = {GGUF_TYPE_ARRAY, 0, x}};
    assert_int_equal(gguf_writer_set_value(w, "k", &nested), ST_USAGE);
    GgufValue unknown = {.type = GGUF_TYPE_COUNT};
    assert_int_equal(gguf_writer_set_value(w, "k", &unknown), ST_USAGE);
    /* general.alignment: a uint32 power of two */
    assert_int_equal(gguf_writer_set_u32(w, "general.alignment", 0), ST_USAGE);
    assert_int_equal(gguf_writer_set_u32(w, "general.alignment", 48), ST_USAGE);
    assert_int_equal(gguf_writer_set_u64(w, "general.alignment", 32), ST_USAGE);
    /* tensors */
    assert_int_equal(gguf_writer_add_tensor(w, "", 1, ne32, GGML_TYPE_F32, x, 128), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 0, ne32, GGML_TYPE_F32, x, 128), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 5, (uint64_t[]){1, 1, 1, 1, 32}, GGML_TYPE_F32,
                                            x, 128), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne0, GGML_TYPE_F32, x, 0), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne32, 4 /* retired q4_2 */, x, 128), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne32, GGML_TYPE_F32, x, 127), ST_USAGE);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne33, GGML_TYPE_Q8_0, x, 34), ST_USAGE);
    char long_name[65];
    memset(long_name, 'n', 64);
    long_name[64] = '\0';
    assert_int_equal(gguf_writer_add_tensor(w, long_name, 1, ne32, GGML_TYPE_F32, x, 128), ST_USAGE);
    long_name[63] = '\0'; /* 63 bytes: ggml's limit */
    assert_int_equal(gguf_writer_add_tensor(w, long_name, 1, ne32, GGML_TYPE_F32, x, 128), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne32, GGML_TYPE_Q8_0, x, 34), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "t", 1, ne32, GGML_TYPE_F32, x, 128), ST_USAGE);
    gguf_writer_delete(w);
    gguf_writer_delete(NULL);
}

/* Setting a key again replaces the value in place; remove closes the gap. */
static void test_gguf_writer_replaces_and_removes_keys(void **state) {
    (void)state;
    GgufWriter *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "a", 1), ST_OK);
    assert_int_equal(gguf_writer_set_str(w, "b", "x"), ST_OK);
    assert_int_equal(gguf_writer_set_u32(w, "c", 3), ST_OK);
    assert_int_equal(gguf_writer_set_str(w, "a", "now a string"), ST_OK);
    assert_true(gguf_writer_remove(w, "b"));
    assert_false(gguf_writer_remove(w, "b"));
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "r.gguf", &err), ST_OK);
    assert_int_equal(f.n_kv, 2);
    assert_string_equal(f.kv[0].key, "a");
    assert_string_equal(gguf_get_str(&f, "a"), "now a string");
    assert_string_equal(f.kv[1].key, "c");
    gguf_close(&f);
    free(buf);
}

/* ====================================================== typed getters */

static void test_gguf_getters_coerce_integers_that_fit(void **state) {
    (void)state;
    GgufWriter *w = gguf_writer_new();
    GgufValue v = {.type = GGUF_TYPE_INT8, .v.i8 = 5};
    gguf_writer_set_value(w, "i8_5", &v);
    v = (GgufValue){.type = GGUF_TYPE_INT32, .v.i32 = -1};
    gguf_writer_set_value(w, "i32_neg", &v);
    gguf_writer_set_u64(w, "u64_big", (uint64_t)1 << 32);
    gguf_writer_set_u64(w, "u64_max32", 4294967295u);
    v = (GgufValue){.type = GGUF_TYPE_FLOAT64, .v.f64 = 0.25};
    gguf_writer_set_value(w, "f64", &v);
    v = (GgufValue){.type = GGUF_TYPE_FLOAT64, .v.f64 = 1e300};
    gguf_writer_set_value(w, "f64_huge", &v);
    gguf_writer_set_str(w, "s", "text");
    gguf_writer_set_f32(w, "f32", 1.5f);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "g.gguf", &err), ST_OK);
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    float f32 = 0;
    assert_true(gguf_get_u32(&f, "i8_5", &u32));
    assert_int_equal(u32, 5);
    assert_false(gguf_get_u32(&f, "i32_neg", &u32));
    assert_false(gguf_get_u64(&f, "i32_neg", &u64));
    assert_false(gguf_get_u32(&f, "u64_big", &u32));
    assert_true(gguf_get_u64(&f, "u64_big", &u64));
    assert_true(u64 == (uint64_t)1 << 32);
    assert_true(gguf_get_u32(&f, "u64_max32", &u32));
    assert_true(u32 == 4294967295u);
    assert_false(gguf_get_u32(&f, "s", &u32));
    assert_false(gguf_get_u32(&f, "f32", &u32));
    assert_false(gguf_get_u32(&f, "absent", &u32));
    assert_true(gguf_get_f32(&f, "f32", &f32));
    assert_true(f32 == 1.5f);
    assert_true(gguf_get_f32(&f, "f64", &f32));
    assert_true(f32 == 0.25f);
    assert_false(gguf_get_f32(&f, "f64_huge", &f32));
    assert_false(gguf_get_f32(&f, "s", &f32));
    assert_string_equal(gguf_get_str(&f, "s"), "text");
    assert_null(gguf_get_str(&f, "f32"));
    assert_null(gguf_get_str(&f, "absent"));
    gguf_close(&f);
    free(buf);
}

/* ====================================================== truncation */

/* A small valid file (a few kv, three tensors) cut at every byte offset: each
 * prefix is refused with ST_FORMAT and a message naming the file. The last
 * tensor is 64 bytes, a multiple of the alignment, so the file has no trailing
 * padding and every proper prefix really lacks something. */
static void test_gguf_rejects_every_truncation(void **state) {
    (void)state;
    float f32[16];
    for (int i = 0; i < 16; i++) f32[i] = (float)i - 7.5f;
    uint8_t q8[34] = {0x00, 0x38}; /* d = 0.5 */
    uint16_t f16[32] = {0x3C00};
    const char *toks[] = {"<unk>", "\xE2\x96\x81hi", ""};
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_u32(w, "llama.context_length", 128);
    gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
    gguf_writer_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, f32, 3);
    assert_int_equal(gguf_writer_add_tensor(w, "norm", 1, (uint64_t[]){16}, GGML_TYPE_F32, f32, 64), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "q", 1, (uint64_t[]){32}, GGML_TYPE_Q8_0, q8, 34), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "h", 2, (uint64_t[]){16, 2}, GGML_TYPE_F16, f16, 64), ST_OK);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);

    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "full.gguf", &err), ST_OK);
    assert_int_equal(f.n_tensors, 3);
    assert_int_equal(f.tensors[2].offset + f.tensors[2].nbytes, len - f.data_offset);
    gguf_close(&f);

    /* Each prefix in an exactly-sized heap block, so ASan sees any overread. */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, buf, cut);
        expect_fail_named(p, cut, ST_FORMAT, "");
        free(p);
    }
    free(buf);
}

/* Lenient where llama.cpp's own writers are: a missing pad after the last
 * tensor, and a file without tensors that stops before the data section. */
static void test_gguf_accepts_missing_trailing_padding(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){3}, GGML_TYPE_F32, 0);
    b_pad(&b, 32);
    b_floats(&b, 3); /* 12 bytes, no pad to 32 after it */
    GgufFile f;
    expect_ok(&f, &b);
    assert_int_equal(f.tensors[0].nbytes, 12);
    gguf_close(&f);
    b_free(&b);
    b_header(&b, 3, 0, 1);
    b_kv_u32(&b, "k", 1); /* ends at 41, no padding */
    expect_ok(&f, &b);
    assert_int_equal(f.n_kv, 1);
    gguf_close(&f);
    b_free(&b);
}

/* ====================================================== corruption */

/* A small valid file with bytes overwritten at random (fixed seed): whatever
 * the parser says, it must not read out of bounds or leak (make check), and a
 * file it accepts must have every tensor inside the buffer and convertible. */
static void test_gguf_survives_random_corruption(void **state) {
    (void)state;
    float f32[16] = {1, 2, 3};
    uint8_t q8[34] = {0x00, 0x38, 1, 2, 3};
    const char *toks[] = {"a", "bb", "ccc"};
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_u32(w, "general.alignment", 8);
    gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
    gguf_writer_set_arr(w, "s", GGUF_TYPE_FLOAT32, f32, 3);
    gguf_writer_add_tensor(w, "norm", 1, (uint64_t[]){16}, GGML_TYPE_F32, f32, 64);
    gguf_writer_add_tensor(w, "q", 1, (uint64_t[]){32}, GGML_TYPE_Q8_0, q8, 34);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    uint8_t *p = malloc(len);
    uint32_t rng = 12345;
    int accepted = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(p, buf, len);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5; /* xorshift32 */
            size_t at = rng % len;
            /* mostly small numbers and 0xFF: they hit counts and lengths hardest */
            uint8_t vals[] = {0x00, 0x01, 0x02, 0x07, 0x20, 0x40, 0x7F, 0x80, 0xFF, (uint8_t)(rng >> 8)};
            p[at] = vals[(rng >> 16) % sizeof vals];
        }
        GgufFile f;
        Status st = gguf_parse(&f, p, len, "fuzz.gguf", &err);
        if (st != ST_OK) {
            assert_int_equal(strncmp(err.msg, "fuzz.gguf: ", 11), 0);
            continue;
        }
        accepted++;
        for (uint64_t i = 0; i < f.n_tensors; i++) {
            const GgufTensorInfo *t = &f.tensors[i];
            assert_true(t->data >= p + f.data_offset && t->data + t->nbytes <= p + len);
            float *out = malloc(t->n_elements * sizeof(float));
            assert_non_null(out);
            gguf_tensor_to_float(&f, t, out, &err);
            free(out);
        }
        gguf_close(&f);
    }
    assert_true(accepted > 0); /* flips inside tensor data are harmless */
    free(p);
    free(buf);
}

static void test_gguf_rejects_empty_and_foreign_files(void **state) {
    (void)state;
    expect_fail_named(NULL, 0, ST_FORMAT, "empty file");
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
    expect_fail_named(png, sizeof png, ST_FORMAT, "not a GGUF file (magic is '\\x89PNG')");
    expect_fail_named("GGML\x03\0\0\0", 8, ST_FORMAT, "not a GGUF file (magic is 'GGML')");
    expect_fail_named("GG", 2, ST_FORMAT, "truncated");
    expect_fail_named("GGUF\x03\0\0", 7, ST_FORMAT, "truncated");
    Bytes b = {0};
    b_minimal(&b, 3);
    b.p[3] = 'f';
    expect_fail(&b, ST_FORMAT, "magic is 'GGUf'");
}

static void test_gguf_refuses_unknown_versions(void **state) {
    (void)state;
    Bytes b = {0};
    b_minimal(&b, 1);
    expect_fail(&b, ST_UNSUPPORTED, "version 1 is not supported");
    b_minimal(&b, 4);
    expect_fail(&b, ST_UNSUPPORTED, "unknown GGUF version 4");
    b_minimal(&b, 0xFFFFFFFFu);
    expect_fail(&b, ST_UNSUPPORTED, "unknown GGUF version 4294967295");
    b_minimal(&b, 0);
    expect_fail(&b, ST_FORMAT, "invalid GGUF version 0");
    b_minimal(&b, 0x03000000u); /* version 3 written big-endian */
    expect_fail(&b, ST_UNSUPPORTED, "big-endian");
    /* versions 2 and 3 share the layout */
    GgufFile f;
    for (uint32_t v = 2; v <= 3; v++) {
        b_minimal(&b, v);
        expect_ok(&f, &b);
        assert_int_equal(f.version, v);
        assert_string_equal(gguf_get_str(&f, "general.name"), "mini");
        assert_int_equal(f.tensors[0].n_elements, 8);
        assert_true(((const float *)f.tensors[0].data)[7] == 8.0f);
        gguf_close(&f);
        b_free(&b);
    }
}

static void test_gguf_rejects_huge_counts(void **state) {
    (void)state;
    const uint64_t huge[] = {(uint64_t)1 << 63, (uint64_t)1 << 40, UINT64_MAX, 1000};
    for (int i = 0; i < 4; i++) {
        Bytes b = {0};
        b_header(&b, 3, 0, huge[i]);
        b_kv_u32(&b, "k", 1);
        expect_fail(&b, ST_FORMAT, "key/value pairs");
        b_header(&b, 3, huge[i], 0);
        b_ti(&b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
        expect_fail(&b, ST_FORMAT, "tensors");
    }
}

/* The count check's bound is exact: the smallest pair (1-byte key, uint8 value)
 * takes 8 + 1 + 4 + 1 = 14 bytes, so one pair in 14 bytes is fine and two are not. */
static void test_gguf_count_check_is_tight(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "k", GGUF_TYPE_UINT8);
    b_u8(&b, 5);
    assert_int_equal(b.n, 24 + 14);
    GgufFile f;
    expect_ok(&f, &b);
    assert_int_equal(f.kv[0].value.v.u8, 5);
    gguf_close(&f);
    b.p[16] = 2; /* n_kv = 2 */
    expect_fail(&b, ST_FORMAT, "header says 2 key/value pairs, but the 14 bytes that follow can hold at most 1");
}

static void test_gguf_rejects_huge_string_lengths(void **state) {
    (void)state;
    Bytes b = {0};
    /* key length */
    b_header(&b, 3, 0, 1);
    b_u64(&b, (uint64_t)1 << 63);
    b_raw(&b, "general.name\x08\0\0\0", 16);
    expect_fail(&b, ST_FORMAT, "has length 9223372036854775808");
    /* string value length */
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "general.name", GGUF_TYPE_STRING);
    b_u64(&b, UINT64_MAX);
    b_raw(&b, "llama", 5);
    expect_fail(&b, ST_FORMAT, "key 'general.name'");
    /* one more byte than is there */
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "general.name", GGUF_TYPE_STRING);
    b_u64(&b, 6);
    b_raw(&b, "llama", 5);
    expect_fail(&b, ST_FORMAT, "only 5 bytes are left");
    /* tensor name length */
    b_header(&b, 3, 1, 0);
    b_u64(&b, (uint64_t)1 << 40);
    b_raw(&b, "w\x01\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 25);
    expect_fail(&b, ST_FORMAT, "name of tensor info 0 of 1 has length 1099511627776");
}

static void b_kv_array_head(Bytes *b, const char *key, uint32_t elem, uint64_t n) {
    b_kv_head(b, key, GGUF_TYPE_ARRAY);
    b_u32(b, elem);
    b_u64(b, n);
}

static void test_gguf_rejects_huge_arrays(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "a", GGUF_TYPE_UINT64, (uint64_t)1 << 62); /* x 8 overflows 64 bits */
    b_u64(&b, 1);
    expect_fail(&b, ST_FORMAT, "array of 4611686018427387904 uint64 values");
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "a", GGUF_TYPE_UINT8, (uint64_t)1 << 40);
    b_u64(&b, 1);
    expect_fail(&b, ST_FORMAT, "only 8 are left");
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "tokens", GGUF_TYPE_STRING, (uint64_t)1 << 60);
    b_str(&b, "x");
    expect_fail(&b, ST_FORMAT, "array of 1152921504606846976 string values");
    /* a string array whose count fits the minimum size but whose strings do not */
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "tokens", GGUF_TYPE_STRING, 3);
    b_str(&b, "a");
    b_str(&b, "b");
    b_u64(&b, 100);
    b_raw(&b, "cccccccc", 8);
    expect_fail(&b, ST_FORMAT, "element 2 of key 'tokens' has length 100");
}

static void test_gguf_rejects_bad_value_types(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "k", 13);
    b_u64(&b, 0);
    expect_fail(&b, ST_FORMAT, "key 'k' has unknown value type 13");
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "k", 0xFFFFFFFFu);
    b_u64(&b, 0);
    expect_fail(&b, ST_FORMAT, "unknown value type 4294967295");
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "k", 13, 1);
    b_u64(&b, 0);
    expect_fail(&b, ST_FORMAT, "array of unknown value type 13");
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "nested", GGUF_TYPE_ARRAY, 1);
    b_u32(&b, GGUF_TYPE_UINT8);
    b_u64(&b, 1);
    b_u8(&b, 0);
    expect_fail(&b, ST_UNSUPPORTED, "key 'nested' is an array of arrays");
}

/* Booleans are read as llama.cpp reads them: any non-zero byte is true. */
static void test_gguf_reads_nonzero_bool_bytes_as_true(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 0, 2);
    b_kv_head(&b, "b", GGUF_TYPE_BOOL);
    b_u8(&b, 2);
    b_kv_array_head(&b, "a", GGUF_TYPE_BOOL, 3);
    b_u8(&b, 0), b_u8(&b, 7), b_u8(&b, 1);
    GgufFile f;
    expect_ok(&f, &b);
    assert_true(gguf_find_kv(&f, "b")->value.v.b);
    uint64_t n;
    const uint8_t *a = gguf_get_arr(&f, "a", GGUF_TYPE_BOOL, &n);
    assert_int_equal(a[0], 0);
    assert_int_equal(a[1], 1);
    assert_int_equal(a[2], 1);
    gguf_close(&f);
    b_free(&b);
}

static void test_gguf_rejects_bad_shapes(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 0, NULL, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "tensor 'w' has 0 dimensions");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 5, (uint64_t[]){8, 1, 1, 1, 1}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "tensor 'w' has 5 dimensions");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 2, (uint64_t[]){8, 0}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "dimension of size 0");
    /* 2^32 x 2^32 x 16 = 2^68 elements */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 3, (uint64_t[]){(uint64_t)1 << 32, (uint64_t)1 << 32, 16}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "tensor 'w' has too many elements");
    /* 2^62 x 2 = 2^63 fits in 64 bits but not in ggml's int64_t */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 2, (uint64_t[]){(uint64_t)1 << 62, 2}, GGML_TYPE_I8, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "too many elements");
    /* 2^60 f32 elements: the count fits, the byte size (2^62) does not fit the file */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 2, (uint64_t[]){(uint64_t)1 << 30, (uint64_t)1 << 30}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "data ends past the end of the file");
}

static void test_gguf_rejects_bad_tensor_types(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){8}, 4 /* retired Q4_2 */, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_UNSUPPORTED, "tensor 'w' has unknown ggml type 4");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){8}, 1000, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_UNSUPPORTED, "unknown ggml type 1000");
    /* Q8_0 rows must be a whole number of 32-value blocks */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 2, (uint64_t[]){33, 1}, GGML_TYPE_Q8_0, 0);
    b_pad(&b, 32), b_floats(&b, 32);
    expect_fail(&b, ST_FORMAT, "rows of 33 values, not a whole number of q8_0 blocks of 32");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){128}, GGML_TYPE_Q4_K, 0);
    b_pad(&b, 32), b_floats(&b, 64);
    expect_fail(&b, ST_FORMAT, "not a whole number of q4_K blocks of 256");
}

static void test_gguf_rejects_bad_offsets(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 4);
    b_pad(&b, 32), b_floats(&b, 16);
    expect_fail(&b, ST_FORMAT, "tensor 'w' has offset 4, not a multiple of the alignment 32");
    /* header 24 + info 51 -> data at 96; 8 floats at offset 32 would end at 160 */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "blk.0.attn_q.weight", 1, (uint64_t[]){8}, GGML_TYPE_F32, 32);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT,
                "tensor 'blk.0.attn_q.weight' data ends past the end of the file (offset 128 + 32 "
                "bytes > 128)");
    /* offset + size overflows 64 bits */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, UINT64_MAX - 31);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "past the end of the file");
    /* data section itself missing */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    expect_fail(&b, ST_FORMAT, "tensor data should start at offset 64");
    /* two tensors sharing bytes */
    b_header(&b, 3, 2, 0);
    b_ti(&b, "a", 1, (uint64_t[]){16}, GGML_TYPE_F32, 0);
    b_ti(&b, "b", 1, (uint64_t[]){8}, GGML_TYPE_F32, 32);
    b_pad(&b, 32), b_floats(&b, 16);
    expect_fail(&b, ST_FORMAT, "tensors 'a' and 'b' overlap");
}

static void b_alignment_file(Bytes *b, uint32_t type, uint64_t value) {
    b_header(b, 3, 1, 1);
    b_kv_head(b, "general.alignment", type);
    switch (type) {
    case GGUF_TYPE_UINT8: b_u8(b, (uint8_t)value); break;
    case GGUF_TYPE_UINT64: b_u64(b, value); break;
    case GGUF_TYPE_STRING: b_str(b, "32"); break;
    default: b_u32(b, (uint32_t)value); break;
    }
    b_ti(b, "w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(b, value == 256 ? 256 : 32);
    b_floats(b, 8);
}

static void test_gguf_checks_alignment_key(void **state) {
    (void)state;
    Bytes b = {0};
    b_alignment_file(&b, GGUF_TYPE_UINT32, 0);
    expect_fail(&b, ST_FORMAT, "general.alignment is 0, not a non-zero power of two");
    b_alignment_file(&b, GGUF_TYPE_UINT32, 3);
    expect_fail(&b, ST_FORMAT, "general.alignment is 3");
    b_alignment_file(&b, GGUF_TYPE_UINT64, 32);
    expect_fail(&b, ST_FORMAT, "general.alignment must be a uint32 (as llama.cpp requires), not uint64");
    b_alignment_file(&b, GGUF_TYPE_STRING, 32);
    expect_fail(&b, ST_FORMAT, "not string");
    b_alignment_file(&b, GGUF_TYPE_UINT8, 32);
    expect_fail(&b, ST_FORMAT, "not uint8");
    /* a valid non-default alignment moves the data section */
    b_alignment_file(&b, GGUF_TYPE_UINT32, 256);
    GgufFile f;
    expect_ok(&f, &b);
    assert_int_equal(f.alignment, 256);
    assert_int_equal(f.data_offset, 256);
    assert_true(((const float *)f.tensors[0].data)[0] == 1.0f);
    gguf_close(&f);
    b_free(&b);
}

static void test_gguf_rejects_duplicates(void **state) {
    (void)state;
    Bytes b = {0};
    b_header(&b, 3, 0, 3);
    b_kv_u32(&b, "general.b", 1);
    b_kv_str(&b, "general.name", "x");
    b_kv_u32(&b, "general.b", 2);
    expect_fail(&b, ST_FORMAT, "duplicate key 'general.b'");
    b_header(&b, 3, 2, 0);
    b_ti(&b, "blk.0.w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_ti(&b, "blk.0.w", 1, (uint64_t[]){8}, GGML_TYPE_F32, 32);
    b_pad(&b, 32), b_floats(&b, 16);
    expect_fail(&b, ST_FORMAT, "duplicate tensor name 'blk.0.w'");
}

static void test_gguf_rejects_bad_text(void **state) {
    (void)state;
    Bytes b = {0};
    /* invalid UTF-8 in a key: a lone continuation byte */
    b_header(&b, 3, 0, 1);
    b_kv_u32(&b, "gen\x80ral", 1);
    expect_fail(&b, ST_FORMAT, "the key of key/value pair 0 of 1 is not valid UTF-8 ('gen\\x80ral')");
    /* in a string value: a truncated 3-byte sequence */
    b_header(&b, 3, 0, 1);
    b_kv_str(&b, "general.name", "ab\xE2\x96");
    expect_fail(&b, ST_FORMAT, "the value of key 'general.name' is not valid UTF-8");
    /* in an array element: a surrogate */
    b_header(&b, 3, 0, 1);
    b_kv_array_head(&b, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, 2);
    b_str(&b, "ok");
    b_str(&b, "\xED\xB0\x80");
    expect_fail(&b, ST_FORMAT, "element 1 of key 'tokenizer.ggml.tokens' is not valid UTF-8");
    /* in a tensor name: an overlong encoding */
    b_header(&b, 3, 1, 0);
    b_ti(&b, "w\xC1\x81", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "the name of tensor info 0 of 1 is not valid UTF-8");
    /* embedded NULs */
    b_header(&b, 3, 0, 1);
    b_strn(&b, "gen\0ral", 7);
    b_u32(&b, GGUF_TYPE_UINT32), b_u32(&b, 1);
    expect_fail(&b, ST_FORMAT, "contains a NUL byte ('gen\\x00ral')");
    b_header(&b, 3, 0, 1);
    b_kv_head(&b, "general.name", GGUF_TYPE_STRING);
    b_strn(&b, "a\0b", 3);
    expect_fail(&b, ST_FORMAT, "the value of key 'general.name' contains a NUL byte");
    b_header(&b, 3, 1, 0);
    b_strn(&b, "w\0", 2);
    b_u32(&b, 1), b_u64(&b, 8), b_u32(&b, GGML_TYPE_F32), b_u64(&b, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "contains a NUL byte");
    /* empty key, empty tensor name, a 64-byte tensor name */
    b_header(&b, 3, 0, 1);
    b_kv_u32(&b, "", 1);
    expect_fail(&b, ST_FORMAT, "key/value pair 0 of 1 has an empty key");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "has an empty name");
    b_header(&b, 3, 1, 0);
    b_ti(&b, "0123456789012345678901234567890123456789012345678901234567890123", 1,
         (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    expect_fail(&b, ST_FORMAT, "is 64 bytes long (ggml allows at most 63)");
    /* valid multi-byte UTF-8 is fine everywhere */
    b_header(&b, 3, 1, 1);
    b_kv_str(&b, "k\xC3\xA9", "\xF0\x9F\x98\x80 \xE2\x96\x81");
    b_ti(&b, "\xCE\xB1", 1, (uint64_t[]){8}, GGML_TYPE_F32, 0);
    b_pad(&b, 32), b_floats(&b, 8);
    GgufFile f;
    expect_ok(&f, &b);
    assert_string_equal(gguf_get_str(&f, "k\xC3\xA9"), "\xF0\x9F\x98\x80 \xE2\x96\x81");
    assert_non_null(gguf_find_tensor(&f, "\xCE\xB1"));
    gguf_close(&f);
    b_free(&b);
}

static void test_gguf_open_reports_os_errors(void **state) {
    char *dir = *state;
    GgufFile f;
    Error err = {0};
    assert_int_equal(gguf_open(&f, dir, &err), ST_IO);
    assert_int_equal(strncmp(err.msg, dir, strlen(dir)), 0);
    assert_non_null(strstr(err.msg, "directory"));
    assert_null(f.kv);
    const char *missing = in_dir(dir, "missing.gguf");
    assert_int_equal(gguf_open(&f, missing, &err), ST_IO);
    assert_int_equal(strncmp(err.msg, missing, strlen(missing)), 0);
    /* a malformed file on disk: the message names the path */
    const char *empty = in_dir(dir, "empty.gguf");
    assert_int_equal(atomic_file_write(empty, "", 0, &err), ST_OK);
    assert_int_equal(gguf_open(&f, empty, &err), ST_FORMAT);
    char want[4200];
    snprintf(want, sizeof want, "%s: empty file", empty);
    assert_string_equal(err.msg, want);
    gguf_close(&f);
}

/* ====================================================== llama.cpp files */

static void open_ref(GgufFile *f, const char *file) {
    Error err = {0};
    Status st = gguf_open(f, data_path(file), &err);
    if (st != ST_OK) print_message("%s\n", err.msg);
    assert_int_equal(st, ST_OK);
}

static void upper(char *dst, const char *src, size_t size) {
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = '\0';
}

static char *trim(char *s) {
    while (*s == ' ') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\n')) *--e = '\0';
    return s;
}

/* Compares a parsed file with gguf-py's dump of it (gguf_dump.py output from the
 * llama.cpp commit the files came from): header counts, every key's position,
 * type, count and scalar value, every tensor's position, name, shape and type. */
static void check_against_dump(const GgufFile *f, const char *dump_file) {
    FILE *fp = fopen(data_path(dump_file), "r");
    assert_non_null(fp);
    char line[1024];
    int section = 0, kv_seen = 0, tensors_seen = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strstr(line, "key/value pair(s)")) {
            section = 1;
            continue;
        }
        if (strstr(line, "tensor(s)")) {
            section = 2;
            continue;
        }
        char *bar1 = strchr(line, '|'), *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (!section || !bar1 || !bar2) continue;
        *bar1 = *bar2 = '\0';
        char *colon = strchr(line, ':');
        assert_non_null(colon);
        long idx = strtol(line, NULL, 10);
        if (section == 1) {
            char type[32];
            assert_int_equal(sscanf(colon + 1, " %31s", type), 1);
            unsigned long long count = strtoull(bar1 + 1, NULL, 10);
            char *rest = trim(bar2 + 1), *eq = strstr(rest, " = ");
            char *key = rest, *value = NULL;
            if (eq) *eq = '\0', value = eq + 3;
            if (strncmp(key, "GGUF.", 5) == 0) {
                unsigned long long v = strtoull(value, NULL, 10);
                if (strcmp(key, "GGUF.version") == 0) assert_int_equal(f->version, v);
                if (strcmp(key, "GGUF.tensor_count") == 0) assert_int_equal(f->n_tensors, v);
                if (strcmp(key, "GGUF.kv_count") == 0) assert_int_equal(f->n_kv, v);
                continue;
            }
            assert_true(idx - 4 == kv_seen); /* three GGUF.* lines come first */
            const GgufKv *kv = &f->kv[kv_seen++];
            assert_string_equal(kv->key, key);
            char ours[32];
            if (kv->value.type == GGUF_TYPE_ARRAY) {
                char t[24];
                upper(t, gguf_value_type_name(kv->value.v.arr.type), sizeof t);
                snprintf(ours, sizeof ours, "[%s]", t);
                assert_int_equal(kv->value.v.arr.n, count);
            } else {
                upper(ours, gguf_value_type_name(kv->value.type), sizeof ours);
                assert_int_equal(count, 1);
            }
            assert_string_equal(ours, type);
            if (!value) continue;
            switch (kv->value.type) {
            case GGUF_TYPE_UINT32: assert_int_equal(kv->value.v.u32, strtoull(value, NULL, 10)); break;
            case GGUF_TYPE_FLOAT32:
                /* gguf-py prints the float32 widened to a double, in full */
                assert_int_equal(f32_bits(kv->value.v.f32), f32_bits((float)strtod(value, NULL)));
                break;
            case GGUF_TYPE_STRING: {
                char quoted[256];
                snprintf(quoted, sizeof quoted, "'%s'", kv->value.v.str.data);
                assert_string_equal(quoted, value);
                break;
            }
            default: fail_msg("dump has a value type this check does not know");
            }
        } else {
            unsigned long long n_el = strtoull(colon + 1, NULL, 10);
            unsigned long long ne[4];
            assert_int_equal(sscanf(bar1 + 1, " %llu, %llu, %llu, %llu", &ne[0], &ne[1], &ne[2],
                                    &ne[3]), 4);
            char *rest = bar2 + 1, *bar3 = strchr(rest, '|');
            assert_non_null(bar3);
            *bar3 = '\0';
            char *type = trim(rest), *name = trim(bar3 + 1);
            assert_true(idx - 1 == tensors_seen);
            const GgufTensorInfo *t = &f->tensors[tensors_seen++];
            assert_string_equal(t->name, name);
            assert_int_equal(t->n_elements, n_el);
            for (int j = 0; j < 4; j++) assert_int_equal(t->ne[j], ne[j]);
            assert_int_equal(t->type, type_from_name(type));
        }
    }
    fclose(fp);
    assert_int_equal(kv_seen, f->n_kv);
    assert_int_equal(tensors_seen, f->n_tensors);
}

/* Facts from shared/reference/README.md and gguf-py's dump. */
static void test_gguf_reads_llama_cpp_f32_file(void **state) {
    (void)state;
    GgufFile f;
    open_ref(&f, "stories260K-f32.gguf");
    assert_int_equal(f.version, 3);
    assert_int_equal(f.n_kv, 19);
    assert_int_equal(f.n_tensors, 48);
    assert_int_equal(f.alignment, 32);
    assert_null(gguf_find_kv(&f, "general.alignment"));
    assert_int_equal(f.data_offset, 14176);
    assert_int_equal(f.size, 1185376);
    check_against_dump(&f, "gguf-dump-stories260K-f32.txt");

    uint32_t u;
    assert_true(gguf_get_u32(&f, "llama.context_length", &u));
    assert_int_equal(u, 128);
    assert_true(gguf_get_u32(&f, "tokenizer.ggml.padding_token_id", &u));
    assert_true(u == 4294967295u);
    assert_string_equal(gguf_get_str(&f, "general.architecture"), "llama");
    float eps;
    assert_true(gguf_get_f32(&f, "llama.attention.layer_norm_rms_epsilon", &eps));
    assert_int_equal(f32_bits(eps), f32_bits(9.9999997e-06f));

    /* the vocabulary: 512 tokens; 0,1,2 = <unk>, <s>, </s> (types 2, 3, 3);
     * 256 byte tokens <0x00>..<0xFF> (type 6) from id 3; 253 normal (type 1);
     * spaces as U+2581 (README) */
    uint64_t n, n2, n3;
    const GgufString *tok = gguf_get_arr(&f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n);
    const float *scores = gguf_get_arr(&f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &n2);
    const int32_t *types = gguf_get_arr(&f, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &n3);
    assert_non_null(tok);
    assert_non_null(scores);
    assert_non_null(types);
    assert_int_equal(n, 512);
    assert_int_equal(n2, 512);
    assert_int_equal(n3, 512);
    assert_string_equal(tok[0].data, "<unk>");
    assert_string_equal(tok[1].data, "<s>");
    assert_string_equal(tok[2].data, "</s>");
    assert_string_equal(tok[3].data, "<0x00>");
    assert_string_equal(tok[258].data, "<0xFF>");
    assert_string_equal(tok[259].data, "\xE2\x96\x81t");
    int by_type[8] = {0};
    for (int i = 0; i < 512; i++) {
        assert_true(types[i] >= 0 && types[i] < 8);
        by_type[types[i]]++;
    }
    assert_int_equal(types[0], 2);
    assert_int_equal(types[1], 3);
    assert_int_equal(types[2], 3);
    assert_int_equal(by_type[1], 253);
    assert_int_equal(by_type[6], 256);
    /* scores as llama2.c's tok512.bin holds them (read with Python's struct):
     * 0 for id 3 '<0x00>', -1 for 260 'he', -2 for 261 ' a' */
    assert_true(scores[3] == 0.0f && scores[260] == -1.0f && scores[261] == -2.0f);

    /* the first weights of stories260K.bin's token_embedding_table (llama2.c
     * checkpoint, byte offset 28), read with Python's struct module */
    const GgufTensorInfo *t = gguf_find_tensor(&f, "token_embd.weight");
    assert_non_null(t);
    assert_int_equal(t->offset, 0);
    assert_ptr_equal(t->data, f.buf + 14176);
    const float *x = (const float *)t->data;
    assert_true(x[0] == -0.29474878311157227f);
    assert_true(x[1] == 0.5618956089019775f);
    assert_true(x[64] == -0.12708568572998047f);
    assert_int_equal(gguf_find_tensor_index(&f, "blk.0.ffn_down.weight"), 9);
    assert_int_equal(gguf_find_tensor_index(&f, "blk.9.ffn_down.weight"), -1);
    assert_null(gguf_find_tensor(&f, "nope"));
    gguf_close(&f);
    gguf_close(&f); /* twice is fine */
    gguf_close(NULL);
}

static void test_gguf_reads_llama_cpp_quantized_files(void **state) {
    (void)state;
    static const struct { const char *file, *dump; uint32_t file_type; } files[] = {
        {"stories260K-q8_0.gguf", "gguf-dump-stories260K-q8_0.txt", 7},
        {"stories260K-q4_0.gguf", "gguf-dump-stories260K-q4_0.txt", 2},
        {"stories260K-q6_k.gguf", "gguf-dump-stories260K-q6_k.txt", 18},
        {"stories260K-f16.gguf", NULL, 1},
        {"stories260K-bf16.gguf", NULL, 32},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        GgufFile f;
        open_ref(&f, files[i].file);
        assert_int_equal(f.version, 3);
        assert_int_equal(f.n_kv, 21);
        assert_int_equal(f.n_tensors, 48);
        uint32_t ft, qv;
        assert_true(gguf_get_u32(&f, "general.file_type", &ft));
        assert_int_equal(ft, files[i].file_type);
        assert_true(gguf_get_u32(&f, "general.quantization_version", &qv));
        assert_int_equal(qv, 2);
        if (files[i].dump) check_against_dump(&f, files[i].dump);
        gguf_close(&f);
    }
    /* the "Q6_K" mix: Q8_0 output and ffn_gate, F16 ffn_down, F32 norms
     * (tensor-types-summary.txt); every tensor converts */
    GgufFile f;
    open_ref(&f, "stories260K-q6_k.gguf");
    assert_int_equal(gguf_find_tensor(&f, "output.weight")->type, GGML_TYPE_Q8_0);
    assert_int_equal(gguf_find_tensor(&f, "blk.4.ffn_down.weight")->type, GGML_TYPE_F16);
    assert_int_equal(gguf_find_tensor(&f, "blk.4.ffn_norm.weight")->type, GGML_TYPE_F32);
    float *buf = malloc(32768 * sizeof(float));
    Error err = {0};
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        assert_true(f.tensors[i].n_elements <= 32768);
        assert_int_equal(gguf_tensor_to_float(&f, &f.tensors[i], buf, &err), ST_OK);
    }
    free(buf);
    gguf_close(&f);
}

/* K-quants are recognised (shape and size checked) but not converted. */
static void test_gguf_recognises_q4_k_but_cannot_convert(void **state) {
    (void)state;
    uint8_t blocks[2 * 144] = {0};
    GgufWriter *w = gguf_writer_new();
    assert_int_equal(gguf_writer_add_tensor(w, "blk.0.attn_q.weight", 2, (uint64_t[]){256, 2},
                                            GGML_TYPE_Q4_K, blocks, sizeof blocks), ST_OK);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    GgufFile f;
    assert_int_equal(gguf_parse(&f, buf, len, "k.gguf", &err), ST_OK);
    const GgufTensorInfo *t = &f.tensors[0];
    assert_int_equal(t->type, GGML_TYPE_Q4_K);
    assert_int_equal(t->n_elements, 512);
    assert_int_equal(t->nbytes, 288); /* 2 blocks of 144 bytes (ggml block_q4_K) */
    float out[512];
    assert_int_equal(gguf_tensor_to_float(&f, t, out, &err), ST_UNSUPPORTED);
    assert_int_equal(strncmp(err.msg, "k.gguf: ", 8), 0);
    assert_non_null(strstr(err.msg, "'blk.0.attn_q.weight'"));
    assert_non_null(strstr(err.msg, "q4_K"));
    gguf_close(&f);
    free(buf);
}

/* ====================================================== to float */

/* For each tensor of `file`, the F32 file's tensor of the same name. */
typedef struct Pair {
    GgufFile ref, q;
    float *x, *y; /* reference values, converted values */
} Pair;

static void pair_open(Pair *p, const char *file) {
    open_ref(&p->ref, "stories260K-f32.gguf");
    open_ref(&p->q, file);
    p->x = malloc(32768 * sizeof(float));
    p->y = malloc(32768 * sizeof(float));
}

static const GgufTensorInfo *pair_next(Pair *p, uint64_t i, const GgufTensorInfo **ref) {
    const GgufTensorInfo *t = &p->q.tensors[i];
    *ref = gguf_find_tensor(&p->ref, t->name);
    assert_non_null(*ref);
    assert_int_equal((*ref)->n_elements, t->n_elements);
    assert_memory_equal((*ref)->ne, t->ne, sizeof t->ne);
    Error err = {0};
    assert_int_equal(gguf_tensor_to_float(&p->ref, *ref, p->x, &err), ST_OK);
    assert_int_equal(gguf_tensor_to_float(&p->q, t, p->y, &err), ST_OK);
    return t;
}

static void pair_close(Pair *p) {
    free(p->x);
    free(p->y);
    gguf_close(&p->ref);
    gguf_close(&p->q);
}

static uint16_t le16_at(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* F16 and BF16 files: each stored value is the F32 file's value rounded with
 * half_from_f32 / bf16_from_f32 (tested by hand in test_half.c), and converts
 * back to exactly that rounded value; F32 tensors (norms) are unchanged. */
static void check_16bit_file(const char *file, uint32_t type, uint16_t (*round16)(float),
                             float (*back)(uint16_t)) {
    Pair p;
    pair_open(&p, file);
    int converted = 0;
    for (uint64_t i = 0; i < p.q.n_tensors; i++) {
        const GgufTensorInfo *ref, *t = pair_next(&p, i, &ref);
        if (t->type == GGML_TYPE_F32) {
            assert_memory_equal(p.x, p.y, t->n_elements * sizeof(float));
            continue;
        }
        assert_int_equal(t->type, type);
        converted++;
        for (uint64_t j = 0; j < t->n_elements; j++) {
            uint16_t h = round16(p.x[j]);
            assert_int_equal(le16_at(t->data + 2 * j), h);
            assert_int_equal(f32_bits(p.y[j]), f32_bits(back(h)));
        }
    }
    assert_int_equal(converted, 37); /* every 2-D weight */
    pair_close(&p);
}

static void test_gguf_converts_f16_and_bf16_tensors(void **state) {
    (void)state;
    check_16bit_file("stories260K-f16.gguf", GGML_TYPE_F16, half_from_f32, half_to_f32);
    check_16bit_file("stories260K-bf16.gguf", GGML_TYPE_BF16, bf16_from_f32, bf16_to_f32);
}

/* Q8_0, per block of 32 values x_j (ggml quantize_row_q8_0_ref):
 *   d = amax/127 (float), q_j = round(x_j / d) in [-127, 127], stored dh = fp16(d),
 *   y_j = q_j * dh.
 *   |x_j - y_j| <= |x_j - q_j d| + |q_j| |d - dh| <= d/2 + 127 |d - dh|,
 * and |d - dh| is at most half an fp16 step: 2^-11 d for normal d, 2^-25 below
 * 2^-14. ggml rounds x_j * (1/d), not x_j / d: a few float ulps, covered by the
 * 1e-5 d slack; q_j * dh in float adds at most 2^-24 |y_j|.
 *
 * Q4_0 (quantize_row_q4_0_ref): m = the x_j of largest magnitude (sign kept),
 *   d = m / -8, q_j = min(15, trunc(x_j / d + 8.5)) in [0, 15], y_j = (q_j - 8) dh.
 *   x_j / d lies in [-8, 8]; below 7.5 the truncation rounds to nearest, so
 *   |x_j - (q_j - 8) d| <= |d|/2; from 7.5 to 8 the code is clamped to 7, an
 *   error of up to |d|. Add |q_j - 8| |d - dh| <= 8 |d - dh|. */
static void check_block_file(const char *file, uint32_t type, int *n_checked) {
    Pair p;
    pair_open(&p, file);
    int quantized = 0;
    for (uint64_t i = 0; i < p.q.n_tensors; i++) {
        const GgufTensorInfo *ref, *t = pair_next(&p, i, &ref);
        if (t->type == GGML_TYPE_F32) { /* norms and the 172-wide ffn_down */
            assert_memory_equal(p.x, p.y, t->n_elements * sizeof(float));
            continue;
        }
        assert_int_equal(t->type, type);
        quantized++;
        size_t bsize = type == GGML_TYPE_Q8_0 ? 34 : 18;
        for (uint64_t b = 0; b < t->n_elements / 32; b++) {
            const float *x = p.x + 32 * b, *y = p.y + 32 * b;
            float amax = 0, m = 0;
            for (int j = 0; j < 32; j++)
                if (fabsf(x[j]) > amax) amax = fabsf(x[j]), m = x[j];
            float d = type == GGML_TYPE_Q8_0 ? amax / 127 : m / -8;
            double dh = half_to_f32(le16_at(t->data + bsize * b)); /* the stored scale */
            double ad = fabs((double)d), dd = fabs((double)d - dh);
            assert_true(dd <= (ad >= 0x1p-14 ? ad * 0x1p-11 : 0x1p-25));
            for (int j = 0; j < 32; j++) {
                double err = fabs((double)x[j] - (double)y[j]), bound;
                if (type == GGML_TYPE_Q8_0) {
                    bound = ad * (0.5 + 1e-5) + 127 * dd;
                } else {
                    double r = d != 0 ? (double)x[j] / d : 0;
                    bound = ad * ((r < 7.5 - 1e-5 ? 0.5 : 1.0) + 1e-5) + 8 * dd;
                }
                bound += fabs((double)y[j]) * 0x1p-24;
                if (err > bound)
                    fail_msg("%s %s block %llu value %d: %.9g vs %.9g, error %.3g > bound %.3g",
                             file, t->name, (unsigned long long)b, j, (double)x[j], (double)y[j],
                             err, bound);
                (*n_checked)++;
            }
        }
    }
    assert_int_equal(quantized, 32); /* 37 2-D weights less the five ffn_down */
    pair_close(&p);
}

static void test_gguf_dequantizes_q8_0_and_q4_0_within_bounds(void **state) {
    (void)state;
    int n = 0;
    check_block_file("stories260K-q8_0.gguf", GGML_TYPE_Q8_0, &n);
    check_block_file("stories260K-q4_0.gguf", GGML_TYPE_Q4_0, &n);
    /* 292,800 values less 5 x 11,008 (ffn_down) less the 11 x 64 norm values */
    assert_int_equal(n, 2 * (292800 - 5 * 11008 - 11 * 64));
}

/* Hand-made Q8_0 block: d = 0.5 (fp16 0x3800), q_j = j - 16, so y_j = (j - 16)/2.
 * With general.alignment 1 the tensor sits at an odd address: the conversion
 * must not read the block struct misaligned (UBSan checks under make check). */
static void test_gguf_converts_misaligned_tensor(void **state) {
    (void)state;
    uint8_t one = 7, q8[2 * 34];
    for (int b = 0; b < 2; b++) {
        q8[34 * b] = 0x00, q8[34 * b + 1] = 0x38;
        for (int j = 0; j < 32; j++) q8[34 * b + 2 + j] = (uint8_t)(int8_t)(j - 16);
    }
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_u32(w, "general.alignment", 1);
    assert_int_equal(gguf_writer_add_tensor(w, "one", 1, (uint64_t[]){1}, GGML_TYPE_I8, &one, 1), ST_OK);
    assert_int_equal(gguf_writer_add_tensor(w, "q", 1, (uint64_t[]){64}, GGML_TYPE_Q8_0, q8, 68), ST_OK);
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    gguf_writer_delete(w);
    uint8_t *copy = malloc(len + 1);
    for (int shift = 0; shift < 2; shift++) {
        memcpy(copy + shift, buf, len);
        GgufFile f;
        assert_int_equal(gguf_parse(&f, copy + shift, len, "odd.gguf", &err), ST_OK);
        const GgufTensorInfo *t = gguf_find_tensor(&f, "q");
        assert_int_equal(t->offset, 1);
        float y[64];
        assert_int_equal(gguf_tensor_to_float(&f, t, y, &err), ST_OK);
        for (int j = 0; j < 64; j++) assert_true(y[j] == (float)((j % 32) - 16) / 2);
        gguf_close(&f);
    }
    free(copy);
    free(buf);
}

/* ====================================================== writer files */

static uint8_t *read_whole(const char *path, size_t *len) {
    char *p;
    Error err = {0};
    if (file_read_all(path, 1 << 26, &p, len, &err) != ST_OK) return NULL;
    return (uint8_t *)p;
}

/* Copying every kv (gguf_writer_set_value) and tensor (same order) of llama.cpp's
 * F32 file gives the very same bytes, through the buffer and through a file. */
static void test_gguf_rewrite_of_llama_cpp_file_is_byte_identical(void **state) {
    char *dir = *state;
    GgufFile f;
    open_ref(&f, "stories260K-f32.gguf");
    GgufWriter *w = gguf_writer_new();
    for (uint64_t i = 0; i < f.n_kv; i++)
        assert_int_equal(gguf_writer_set_value(w, f.kv[i].key, &f.kv[i].value), ST_OK);
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const GgufTensorInfo *t = &f.tensors[i];
        assert_int_equal(gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type, t->data,
                                                t->nbytes), ST_OK);
    }
    uint8_t *buf;
    size_t len;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &buf, &len, &err), ST_OK);
    assert_int_equal(len, f.size);
    assert_memory_equal(buf, f.buf, len);

    const char *path = in_dir(dir, "copy.gguf");
    assert_int_equal(gguf_writer_write_file(w, path, &err), ST_OK);
    size_t flen;
    uint8_t *fbuf = read_whole(path, &flen);
    assert_non_null(fbuf);
    assert_int_equal(flen, len);
    assert_memory_equal(fbuf, buf, len);
    assert_int_equal(dir_entries(dir), 1); /* no temporary left behind */
    free(fbuf);
    free(buf);
    gguf_writer_delete(w);
    gguf_close(&f);
}

static void test_gguf_write_file_into_missing_directory_fails_cleanly(void **state) {
    char *dir = *state;
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_u32(w, "k", 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/no/such/dir/x.gguf", dir);
    Error err = {0};
    assert_int_equal(gguf_writer_write_file(w, path, &err), ST_IO);
    assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(dir_entries(dir), 0);
    /* a directory as the target */
    assert_int_equal(gguf_writer_write_file(w, dir, &err), ST_IO);
    assert_int_equal(dir_entries(dir), 0);
    gguf_writer_delete(w);
}

/* The overwrite attempt, as whoever runs it; 0 when the old file survived. */
static int overwrite_in_readonly_dir(GgufWriter *w, const char *dir, const char *path) {
    Error err = {0};
    if (gguf_writer_write_file(w, path, &err) != ST_IO) return 1;
    if (strncmp(err.msg, path, strlen(path)) != 0) return 2;
    size_t len;
    uint8_t *p = read_whole(path, &len);
    int bad = !p || len != 12 || memcmp(p, "old contents", 12) != 0;
    free(p);
    if (bad) return 3;
    return dir_entries(dir) == 1 ? 0 : 4;
}

/* Writing where the directory is read-only leaves the old file as it was. Root
 * ignores permissions, so as root the attempt runs in a child that has dropped
 * to user "nobody" (65534); if it cannot, the check is skipped. */
static void test_gguf_write_file_keeps_old_file_on_failure(void **state) {
    char *top = *state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/ro", top);
    assert_int_equal(mkdir(dir, 0755), 0);
    char keep[8400];
    snprintf(keep, sizeof keep, "%s/model.gguf", dir);
    Error err = {0};
    assert_int_equal(atomic_file_write(keep, "old contents", 12, &err), ST_OK);
    assert_int_equal(chmod(dir, 0555), 0);
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.name", "new");
    int rc;
    if (geteuid() != 0) {
        rc = overwrite_in_readonly_dir(w, dir, keep);
    } else {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
            _exit(overwrite_in_readonly_dir(w, dir, keep));
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        rc = WEXITSTATUS(status);
        if (rc == 77) print_message("skipped: running as root and cannot drop to nobody\n");
        if (rc == 77) rc = 0;
    }
    gguf_writer_delete(w);
    chmod(dir, 0755);
    assert_int_equal(rc, 0);
    /* and with permission the same call replaces it */
    w = gguf_writer_new();
    gguf_writer_set_str(w, "general.name", "new");
    assert_int_equal(gguf_writer_write_file(w, keep, &err), ST_OK);
    gguf_writer_delete(w);
    GgufFile f;
    assert_int_equal(gguf_open(&f, keep, &err), ST_OK);
    assert_string_equal(gguf_get_str(&f, "general.name"), "new");
    gguf_close(&f);
}

/* ====================================================== formatting */

static void test_gguf_formats_values(void **state) {
    (void)state;
    char buf[128];
    GgufValue v = {.type = GGUF_TYPE_UINT32, .v.u32 = 4294967295u};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "4294967295");
    v = (GgufValue){.type = GGUF_TYPE_INT8, .v.i8 = -128};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "-128");
    v = (GgufValue){.type = GGUF_TYPE_INT64, .v.i64 = INT64_MIN};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "-9223372036854775808");
    /* float32 1e-5 is 9.99999974737875163555145263671875e-06: 9 digits */
    v = (GgufValue){.type = GGUF_TYPE_FLOAT32, .v.f32 = 1e-5f};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "9.99999975e-06");
    v = (GgufValue){.type = GGUF_TYPE_FLOAT32, .v.f32 = 10000.0f};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "10000");
    v = (GgufValue){.type = GGUF_TYPE_FLOAT64, .v.f64 = 0.1};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "0.10000000000000001");
    v = (GgufValue){.type = GGUF_TYPE_BOOL, .v.b = true};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "true");
    v = (GgufValue){.type = GGUF_TYPE_STRING, .v.str = {5, (char *)"llama"}};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "'llama'");
    v = (GgufValue){.type = GGUF_TYPE_STRING, .v.str = {10, (char *)"it's\n\xE2\x96\x81ok"}};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "'it\\'s\\n\xE2\x96\x81ok'");
    /* long strings (a chat template) are cut to 72 bytes with "..." */
    char longs[300];
    memset(longs, 'x', sizeof longs);
    v = (GgufValue){.type = GGUF_TYPE_STRING, .v.str = {sizeof longs, longs}};
    gguf_value_format(&v, buf, sizeof buf);
    assert_int_equal(strlen(buf), 1 + 72 + 1);
    assert_memory_equal(buf + 70, "...'", 5);
    gguf_value_format(&v, buf, 12); /* a small buffer still gets both quotes */
    assert_string_equal(buf, "'xxxxxx...'");
    v = (GgufValue){.type = GGUF_TYPE_ARRAY, .v.arr = {GGUF_TYPE_STRING, 512, NULL}};
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "[512 x string]");
    v.v.arr.type = GGUF_TYPE_FLOAT32;
    gguf_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "[512 x float32]");
    assert_string_equal(gguf_value_type_name(GGUF_TYPE_UINT64), "uint64");
    assert_string_equal(gguf_value_type_name(GGUF_TYPE_COUNT), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gguf_round_trips_every_value_type),
        cmocka_unit_test(test_gguf_writer_matches_hand_layout),
        cmocka_unit_test(test_gguf_writer_honours_alignment),
        cmocka_unit_test(test_gguf_writer_refuses_bad_input),
        cmocka_unit_test(test_gguf_writer_replaces_and_removes_keys),
        cmocka_unit_test(test_gguf_getters_coerce_integers_that_fit),
        cmocka_unit_test(test_gguf_rejects_every_truncation),
        cmocka_unit_test(test_gguf_accepts_missing_trailing_padding),
        cmocka_unit_test(test_gguf_survives_random_corruption),
        cmocka_unit_test(test_gguf_rejects_empty_and_foreign_files),
        cmocka_unit_test(test_gguf_refuses_unknown_versions),
        cmocka_unit_test(test_gguf_rejects_huge_counts),
        cmocka_unit_test(test_gguf_count_check_is_tight),
        cmocka_unit_test(test_gguf_rejects_huge_string_lengths),
        cmocka_unit_test(test_gguf_rejects_huge_arrays),
        cmocka_unit_test(test_gguf_rejects_bad_value_types),
        cmocka_unit_test(test_gguf_reads_nonzero_bool_bytes_as_true),
        cmocka_unit_test(test_gguf_rejects_bad_shapes),
        cmocka_unit_test(test_gguf_rejects_bad_tensor_types),
        cmocka_unit_test(test_gguf_rejects_bad_offsets),
        cmocka_unit_test(test_gguf_checks_alignment_key),
        cmocka_unit_test(test_gguf_rejects_duplicates),
        cmocka_unit_test(test_gguf_rejects_bad_text),
        cmocka_unit_test_setup_teardown(test_gguf_open_reports_os_errors, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test(test_gguf_reads_llama_cpp_f32_file),
        cmocka_unit_test(test_gguf_reads_llama_cpp_quantized_files),
        cmocka_unit_test(test_gguf_recognises_q4_k_but_cannot_convert),
        cmocka_unit_test(test_gguf_converts_f16_and_bf16_tensors),
        cmocka_unit_test(test_gguf_dequantizes_q8_0_and_q4_0_within_bounds),
        cmocka_unit_test(test_gguf_converts_misaligned_tensor),
        cmocka_unit_test_setup_teardown(test_gguf_rewrite_of_llama_cpp_file_is_byte_identical,
                                        tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_gguf_write_file_into_missing_directory_fails_cleanly,
                                        tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_gguf_write_file_keeps_old_file_on_failure,
                                        tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_gguf_formats_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
