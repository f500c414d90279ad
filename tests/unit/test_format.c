/* test_format.c — format names, parsing and honest sizes, against numbers worked
 * out by hand in the comments (block sizes and bytes per block as in ggml's
 * ggml-common.h: Q8_0 34 bytes, Q4_0 18, Q4_1 20, Q5_0 22, Q5_1 24 per 32 values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/format.h"
#include "quant/types.h"

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(a, b, tol)                                                                   \
    do {                                                                                         \
        const double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                              \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, t_);              \
    } while (0)

static const uint32_t GGML_SUPPORTED[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16,
                                          GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
                                          GGML_TYPE_Q5_0, GGML_TYPE_Q5_1};
#define N_GGML (sizeof GGML_SUPPORTED / sizeof GGML_SUPPORTED[0])

/* Every teaching format: bits 2..8, per tensor / row / block of 16..128, sym/asym. */
static int all_teach(Format *out) {
    int n = 0;
    static const int blocks[] = {16, 32, 64, 128};
    for (int bits = 2; bits <= 8; bits++)
        for (int asym = 0; asym <= 1; asym++) {
            out[n++] = format_teach(bits, GRAN_TENSOR, 0, asym);
            out[n++] = format_teach(bits, GRAN_ROW, 0, asym);
            for (int b = 0; b < 4; b++) out[n++] = format_teach(bits, GRAN_BLOCK, blocks[b], asym);
        }
    return n;
}

static Format parse_ok(const char *text) {
    Format f;
    Error err = {0};
    Status st = format_parse(text, &f, &err);
    if (st != ST_OK) fail_msg("format_parse('%s') failed: %s", text, err.msg);
    return f;
}

/* --------------------------------------------------------------- names */

static void test_format_names_round_trip(void **state) {
    (void)state;
    Format all[7 * 2 * 6];
    const int n = all_teach(all);
    assert_int_equal(n, 84);
    char name[64], upper[64];
    for (int i = 0; i < n; i++) {
        format_name(all[i], name, sizeof name);
        assert_true(format_is_supported(all[i]));
        assert_true(format_equal(parse_ok(name), all[i]));
        for (size_t k = 0; k <= strlen(name); k++)
            upper[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
        assert_true(format_equal(parse_ok(upper), all[i])); /* any case */
    }
    for (size_t i = 0; i < N_GGML; i++) {
        Format f = format_ggml(GGML_SUPPORTED[i]);
        assert_true(format_is_supported(f));
        assert_true(format_equal(parse_ok(format_name(f, name, sizeof name)), f));
    }
}

/* The canonical spellings, written out. */
static void test_format_names_spelled(void **state) {
    (void)state;
    char b[64];
    assert_string_equal(format_name(FORMAT_FP32, b, sizeof b), "f32");
    assert_string_equal(format_name(FORMAT_FP16, b, sizeof b), "f16");
    assert_string_equal(format_name(FORMAT_INT8, b, sizeof b), "q8_0");
    assert_string_equal(format_name(FORMAT_INT4, b, sizeof b), "q4_0");
    assert_string_equal(format_name(format_ggml(GGML_TYPE_BF16), b, sizeof b), "bf16");
    assert_string_equal(format_name(format_teach(4, GRAN_BLOCK, 32, false), b, sizeof b),
                        "int4-b32-sym");
    assert_string_equal(format_name(format_teach(3, GRAN_ROW, 0, true), b, sizeof b),
                        "int3-row-asym");
    assert_string_equal(format_name(format_teach(8, GRAN_TENSOR, 0, false), b, sizeof b),
                        "int8-tensor-sym");
    assert_string_equal(format_label(FORMAT_FP32, b, sizeof b), "FP32");
    assert_string_equal(format_label(FORMAT_FP16, b, sizeof b), "FP16");
    assert_string_equal(format_label(FORMAT_INT8, b, sizeof b), "INT8 (Q8_0)");
    assert_string_equal(format_label(FORMAT_INT4, b, sizeof b), "INT4 (Q4_0)");
    assert_string_equal(format_label(format_ggml(GGML_TYPE_Q4_1), b, sizeof b), "Q4_1");
    assert_string_equal(format_label(format_teach(3, GRAN_ROW, 0, true), b, sizeof b),
                        "INT3 per row, asym");
    assert_string_equal(format_label(format_teach(4, GRAN_BLOCK, 64, false), b, sizeof b),
                        "INT4 per block of 64, sym");
    /* a buffer too small is cut, never overrun */
    char tiny[4];
    assert_string_equal(format_name(format_teach(4, GRAN_BLOCK, 32, false), tiny, sizeof tiny),
                        "int");
    assert_string_equal(format_label(format_ggml(GGML_TYPE_Q4_1), tiny, sizeof tiny), "Q4_");
}

static void test_format_aliases(void **state) {
    (void)state;
    assert_true(format_equal(parse_ok("fp32"), FORMAT_FP32));
    assert_true(format_equal(parse_ok("FP16"), FORMAT_FP16));
    assert_true(format_equal(parse_ok("bf16"), format_ggml(GGML_TYPE_BF16)));
    assert_true(format_equal(parse_ok("int8"), FORMAT_INT8));
    assert_true(format_equal(parse_ok("INT4"), FORMAT_INT4));
    assert_true(format_equal(parse_ok("Q4_0"), FORMAT_INT4));
    /* teaching names: parts in any order, default symmetric, block 32 */
    assert_true(format_equal(parse_ok("int3-b64"), format_teach(3, GRAN_BLOCK, 64, false)));
    assert_true(format_equal(parse_ok("int2-row-asym"), format_teach(2, GRAN_ROW, 0, true)));
    assert_true(format_equal(parse_ok("asym-row-int2"), format_teach(2, GRAN_ROW, 0, true)));
    assert_true(format_equal(parse_ok("int4-tensor"), format_teach(4, GRAN_TENSOR, 0, false)));
    assert_true(format_equal(parse_ok("int3"), format_teach(3, GRAN_BLOCK, 32, false)));
    assert_true(format_equal(parse_ok("int4-sym"), format_teach(4, GRAN_BLOCK, 32, false)));
    /* "int4" alone is Q4_0, a teaching INT4 needs another part */
    assert_false(format_equal(parse_ok("int4-b32"), FORMAT_INT4));
    /* ggml names we cannot produce still parse (plans report them as unsupported) */
    Format k = parse_ok("q4_k");
    assert_true(format_equal(k, format_ggml(GGML_TYPE_Q4_K)));
    assert_false(format_is_supported(k));
}

static void test_format_bad_names(void **state) {
    (void)state;
    static const char *const bad[] = {
        "q9_0", "", "int", "int1", "int9", "int16-b32", "int4-b48", "int4-b0", "int4-b",
        "int4-row-b32", "int4-tensor-row", "int4-sym-asym", "int4-int3", "int4-", "-int4",
        "int4--row", "int4-row-fast", "fp64", "float", "q4_0 ", "row-asym", "int4-b32-sym-x",
        "in\nt4", "this-is-a-very-long-format-name-that-nobody-would-ever-type-int4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Format f = FORMAT_FP32;
        Error err = {0};
        Status st = format_parse(bad[i], &f, &err);
        if (st != ST_USAGE) fail_msg("'%s' parsed (status %d)", bad[i], (int)st);
        assert_int_equal(err.status, ST_USAGE);
        assert_non_null(strstr(err.msg, "unknown format '"));
        assert_null(strchr(err.msg, '\n')); /* one line, even for a name with a newline */
        assert_true(strlen(err.msg) < 200);
        assert_true(format_equal(f, FORMAT_FP32)); /* *f untouched */
    }
    Error err = {0};
    Format f;
    format_parse("q9_0", &f, &err);
    assert_string_equal(err.msg, "unknown format 'q9_0' (try f32, f16, bf16, q8_0, q4_0, q4_1, "
                                 "q5_0, q5_1, int8, int4, int4-b32-sym, int3-row-asym, "
                                 "int2-tensor, ...)");
    format_parse("int4-b48", &f, &err);
    assert_non_null(strstr(err.msg, "'int4-b48': block must be b16, b32, b64 or b128"));
    format_parse("int9", &f, &err);
    assert_non_null(strstr(err.msg, "'int9': bits must be 2 to 8"));
}

static void test_format_supported_and_keys(void **state) {
    (void)state;
    assert_false(format_is_supported(format_ggml(GGML_TYPE_Q8_1))); /* activations only */
    assert_false(format_is_supported(format_ggml(GGML_TYPE_Q6_K)));
    assert_false(format_is_supported(format_ggml(GGML_TYPE_IQ4_NL))); /* no quantizer */
    assert_false(format_is_supported(format_teach(1, GRAN_ROW, 0, false)));
    assert_false(format_is_supported(format_teach(9, GRAN_ROW, 0, false)));
    assert_false(format_is_supported(format_teach(4, GRAN_BLOCK, 48, false)));
    assert_false(format_is_supported(format_teach(4, GRAN_BLOCK, 256, false)));

    /* keys: equal formats, equal keys; different formats, different keys */
    Format all[84 + N_GGML];
    int n = all_teach(all);
    for (size_t i = 0; i < N_GGML; i++) all[n++] = format_ggml(GGML_SUPPORTED[i]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            assert_int_equal(format_equal(all[i], all[j]), i == j);
            assert_int_equal(format_key(all[i]) == format_key(all[j]), i == j);
        }
    /* the block argument is ignored unless the granularity is per block */
    assert_true(
        format_equal(format_teach(4, GRAN_ROW, 64, true), format_teach(4, GRAN_ROW, 0, true)));
    Format a = format_teach(4, GRAN_ROW, 64, true), b = parse_ok("int4-row-asym");
    assert_int_equal(memcmp(&a, &b, sizeof a), 0); /* "formats compare with memcmp" */
}

/* ------------------------------------------------------------- sizes */

static void test_format_block_sizes_and_padding(void **state) {
    (void)state;
    assert_int_equal(format_block_size(FORMAT_FP32, 172), 1);
    assert_int_equal(format_block_size(FORMAT_INT4, 172), 32);
    assert_int_equal(format_block_size(format_teach(4, GRAN_BLOCK, 64, false), 172), 64);
    assert_int_equal(format_block_size(format_teach(4, GRAN_ROW, 0, false), 172), 172);
    assert_int_equal(format_block_size(format_teach(4, GRAN_TENSOR, 0, false), 172), 0);
    /* 172 = 5*32 + 12 -> 6 blocks of 32 = 192; 2*64 + 44 -> 3*64 = 192; 1*128 + 44 -> 256 */
    assert_int_equal(format_padded_cols(FORMAT_INT4, 172), 192);
    assert_int_equal(format_padded_cols(FORMAT_INT8, 172), 192);
    assert_int_equal(format_padded_cols(format_teach(4, GRAN_BLOCK, 64, false), 172), 192);
    assert_int_equal(format_padded_cols(format_teach(3, GRAN_BLOCK, 128, true), 172), 256);
    assert_int_equal(format_padded_cols(format_teach(3, GRAN_ROW, 0, true), 172), 172);
    assert_int_equal(format_padded_cols(format_teach(3, GRAN_TENSOR, 0, true), 172), 172);
    assert_int_equal(format_padded_cols(FORMAT_FP32, 172), 172);
    assert_int_equal(format_padded_cols(FORMAT_INT4, 64), 64);
    assert_true(format_fits_gguf(FORMAT_INT4, 64));
    assert_false(format_fits_gguf(FORMAT_INT4, 172));
    assert_true(format_fits_gguf(FORMAT_FP32, 172));
    assert_true(format_fits_gguf(FORMAT_FP16, 172));
    assert_false(format_fits_gguf(format_teach(4, GRAN_BLOCK, 32, false), 64));
}

/* 64 columns = 2 whole blocks of 32, so the per-type figures hold exactly:
 *   Q8_0: 2 * 34 = 68 bytes/row -> 68*8/64 = 8.5     Q4_0: 2 * 18 = 36 -> 4.5
 *   Q4_1: 2 * 20 = 40 -> 5.0     Q5_0: 2 * 22 = 44 -> 5.5     Q5_1: 2 * 24 = 48 -> 6.0
 *   F16/BF16: 2 bytes -> 16      F32: 4 bytes -> 32                                  */
static void test_format_bits_per_weight_ggml(void **state) {
    (void)state;
    assert_near(format_bits_per_weight(FORMAT_INT8, 3, 64), 8.5, 1e-12);
    assert_near(format_bits_per_weight(FORMAT_INT4, 3, 64), 4.5, 1e-12);
    assert_near(format_bits_per_weight(format_ggml(GGML_TYPE_Q4_1), 3, 64), 5.0, 1e-12);
    assert_near(format_bits_per_weight(format_ggml(GGML_TYPE_Q5_0), 3, 64), 5.5, 1e-12);
    assert_near(format_bits_per_weight(format_ggml(GGML_TYPE_Q5_1), 3, 64), 6.0, 1e-12);
    assert_near(format_bits_per_weight(FORMAT_FP16, 3, 64), 16.0, 1e-12);
    assert_near(format_bits_per_weight(format_ggml(GGML_TYPE_BF16), 3, 64), 16.0, 1e-12);
    assert_near(format_bits_per_weight(FORMAT_FP32, 3, 64), 32.0, 1e-12);
    assert_near(format_tensor_bytes(FORMAT_INT8, 3, 64), 3 * 68, 0);
    assert_near(format_tensor_bytes(FORMAT_FP32, 3, 64), 3 * 256, 0);
    assert_near(format_bits_per_weight(FORMAT_INT4, 0, 64), 0.0, 0);
}

/* 172-column rows (stories260K's ffn_down):
 *   Q4_0: ceil(172/32) = 6 blocks * 18 = 108 bytes/row -> 864/172 = 5.0232558 bits
 *   Q8_0: 6 * 34 = 204 bytes/row -> 1632/172 = 9.4883721
 *   int4-b64-sym: 3 groups: 192 codes * 4 + 3 scales * 16 = 816 bits = 102 bytes
 *                 -> 816/172 = 4.7441860
 *   int3-b128-sym: 2 groups: 256 * 3 + 2 * 16 = 800 bits = 100 bytes -> 4.6511628
 *   int3-b128-asym: 800 + 2 zero points * 3 = 806 bits -> 101 bytes for one row
 *                   (100.75 rounded up) -> 808/172 = 4.6976744; five rows: 4030 bits
 *                   -> 503.75 -> 504 bytes (rounded once per tensor)           */
static void test_format_bits_per_weight_padding(void **state) {
    (void)state;
    assert_near(format_tensor_bytes(FORMAT_INT4, 1, 172), 108, 0);
    assert_near(format_tensor_bytes(FORMAT_INT4, 64, 172), 64 * 108, 0);
    assert_near(format_bits_per_weight(FORMAT_INT4, 1, 172), 864.0 / 172, 1e-12);
    assert_near(format_bits_per_weight(FORMAT_INT4, 1, 172), 5.0232558, 1e-7);
    assert_near(format_tensor_bytes(FORMAT_INT8, 1, 172), 204, 0);
    assert_near(format_bits_per_weight(FORMAT_INT8, 1, 172), 9.4883721, 1e-7);
    Format i4b64 = format_teach(4, GRAN_BLOCK, 64, false);
    assert_near(format_tensor_bytes(i4b64, 1, 172), 102, 0);
    assert_near(format_bits_per_weight(i4b64, 1, 172), 4.7441860, 1e-7);
    Format i3b128 = format_teach(3, GRAN_BLOCK, 128, false);
    assert_near(format_tensor_bytes(i3b128, 1, 172), 100, 0);
    assert_near(format_bits_per_weight(i3b128, 1, 172), 4.6511628, 1e-7);
    Format i3b128a = format_teach(3, GRAN_BLOCK, 128, true);
    assert_near(format_tensor_bytes(i3b128a, 1, 172), 101, 0);
    assert_near(format_bits_per_weight(i3b128a, 1, 172), 4.6976744, 1e-7);
    assert_near(format_tensor_bytes(i3b128a, 5, 172), 504, 0);
}

/* A 64 x 512 tensor (32768 weights):
 *   int4-tensor-sym: 32768*4 + 16 = 131088 bits = 16386 bytes -> 4.00048828125
 *   int4-row-sym:    131072 + 64*16 = 132096 bits = 16512 bytes -> 4.03125
 *   int4-row-asym:   132096 + 64*4 = 132352 bits = 16544 bytes -> 4.0390625
 *   int8-tensor-asym: 262144 + 16 + 8 = 262168 bits = 32771 bytes -> 8.000732421875
 *   int4-b32-sym:    16 groups a row, 1024 in all: 131072 + 16384 = 147456 bits -> 4.5
 *                    (the same as Q4_0: one FP16 scale per 32 values)
 *   int4-b32-asym:   147456 + 1024*4 = 151552 bits -> 4.625
 *   int2-b16-asym:   32768*2 + 2048 groups * (16 + 2) = 102400 bits -> 3.125       */
static void test_format_overhead_tensor_row_block(void **state) {
    (void)state;
    const int64_t R = 64, C = 512;
    assert_near(format_tensor_bytes(format_teach(4, GRAN_TENSOR, 0, false), R, C), 16386, 0);
    assert_near(format_bits_per_weight(format_teach(4, GRAN_TENSOR, 0, false), R, C),
                4.00048828125, 1e-12);
    assert_near(format_tensor_bytes(format_teach(4, GRAN_ROW, 0, false), R, C), 16512, 0);
    assert_near(format_bits_per_weight(format_teach(4, GRAN_ROW, 0, false), R, C), 4.03125, 1e-12);
    assert_near(format_tensor_bytes(format_teach(4, GRAN_ROW, 0, true), R, C), 16544, 0);
    assert_near(format_bits_per_weight(format_teach(4, GRAN_ROW, 0, true), R, C), 4.0390625,
                1e-12);
    assert_near(format_tensor_bytes(format_teach(8, GRAN_TENSOR, 0, true), R, C), 32771, 0);
    assert_near(format_bits_per_weight(format_teach(8, GRAN_TENSOR, 0, true), R, C),
                8.000732421875, 1e-12);
    assert_near(format_bits_per_weight(format_teach(4, GRAN_BLOCK, 32, false), R, C), 4.5, 1e-12);
    assert_near(format_bits_per_weight(format_teach(4, GRAN_BLOCK, 32, true), R, C), 4.625, 1e-12);
    assert_near(format_bits_per_weight(format_teach(2, GRAN_BLOCK, 16, true), R, C), 3.125, 1e-12);
}

/* ------------------------------------------------------------- modifiers */

static void test_format_modifier_names(void **state) {
    (void)state;
    char b[FORMAT_NAME_MAX];
    Format f = format_with_method(FORMAT_INT4, METHOD_GPTQ);
    assert_string_equal(format_name(f, b, sizeof b), "q4_0+gptq");
    assert_string_equal(format_label(f, b, sizeof b), "INT4 (Q4_0), GPTQ");
    f = format_with_outliers(format_with_prune(f, PRUNE_2_4, 0), 50);
    assert_string_equal(format_name(f, b, sizeof b), "q4_0+gptq+2:4+out0.5%");
    assert_string_equal(format_label(f, b, sizeof b), "INT4 (Q4_0), GPTQ, 2:4 pruned, 0.5% outliers in FP16");
    f = format_with_prune(FORMAT_FP32, PRUNE_UNSTRUCTURED, 50);
    assert_string_equal(format_name(f, b, sizeof b), "f32+prune50");
    assert_string_equal(format_label(f, b, sizeof b), "FP32, 50% pruned");
    f = format_with_outliers(format_teach(4, GRAN_TENSOR, 0, false), 25);
    assert_string_equal(format_name(f, b, sizeof b), "int4-tensor-sym+out0.25%");
    assert_string_equal(format_name(format_with_outliers(FORMAT_INT8, 0), b, sizeof b), "q8_0+out0%");
    assert_string_equal(format_name(format_with_outliers(FORMAT_INT8, 1000), b, sizeof b), "q8_0+out10%");

    /* parsing: any order, any case, '%' optional; canonical names round-trip */
    assert_true(format_equal(parse_ok("Q4_0+OUT1%+GPTQ"), format_with_outliers(format_with_method(FORMAT_INT4, METHOD_GPTQ), 100)));
    assert_true(format_equal(parse_ok("int4+out0.5"), format_with_outliers(FORMAT_INT4, 50)));
    assert_true(format_equal(parse_ok("int3-b64+2:4"), format_with_prune(format_teach(3, GRAN_BLOCK, 64, false), PRUNE_2_4, 0)));
    assert_true(format_equal(parse_ok("fp16+prune30%"), format_with_prune(FORMAT_FP16, PRUNE_UNSTRUCTURED, 30)));
    static const char *const names[] = {"q4_0+gptq", "q8_0+gptq", "int4-b32-sym+gptq", "f32+2:4", "bf16+prune90",
                                        "q5_1+out0.01%", "int2-row-asym+gptq+prune1+out10%", "q4_0+out0%"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        Format g = parse_ok(names[i]);
        assert_true(format_is_supported(g));
        assert_string_equal(format_name(g, b, sizeof b), names[i]);
    }
    /* +out0% is a format of its own: the split code with no outliers */
    assert_false(format_equal(parse_ok("q4_0+out0%"), FORMAT_INT4));
    assert_true(format_equal(format_base(parse_ok("q4_0+gptq+2:4+out1%")), FORMAT_INT4));
    assert_false(format_has_modifiers(FORMAT_INT4));
    assert_true(format_has_modifiers(parse_ok("q4_0+out0%")));
}

static void test_format_modifier_refusals(void **state) {
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"f32+gptq", "+gptq needs q8_0, q4_0 or a teaching format"},
        {"q4_1+gptq", "+gptq needs"},
        {"f16+out1%", "+out needs a quantized base"},
        {"q4_0+out11%", "out0% to out10%"},
        {"q4_0+out0.125%", "at most two decimals"},
        {"q4_0+prune0", "prune1 to prune99"},
        {"q4_0+prune100", "prune1 to prune99"},
        {"q4_0+2:4+prune50", "two kinds of pruning"},
        {"q4_0+gptq+gptq", "given twice"},
        {"q4_0+", "empty modifier"},
        {"q4_0+fast", "modifiers are"},
        {"q9_0+gptq", NULL},
        {"q4_0+out", "out0% to out10%"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Format f = FORMAT_FP32;
        Error err = {0};
        if (format_parse(bad[i].text, &f, &err) != ST_USAGE) fail_msg("'%s' parsed", bad[i].text);
        if (bad[i].why && !strstr(err.msg, bad[i].why)) fail_msg("'%s': %s", bad[i].text, err.msg);
        assert_true(format_equal(f, FORMAT_FP32));
    }
    /* made by hand, outside the parser */
    assert_false(format_is_supported(format_with_method(FORMAT_FP32, METHOD_GPTQ)));
    assert_false(format_is_supported(format_with_outliers(FORMAT_INT4, 1001)));
    assert_false(format_is_supported(format_with_prune(FORMAT_INT4, PRUNE_UNSTRUCTURED, 0)));
    /* keys stay unique with modifiers, and plain formats keep their old 32-bit keys */
    Format all[8] = {FORMAT_INT4, parse_ok("q4_0+gptq"), parse_ok("q4_0+2:4"), parse_ok("q4_0+prune50"),
                     parse_ok("q4_0+prune51"), parse_ok("q4_0+out0%"), parse_ok("q4_0+out1%"), parse_ok("q4_0+gptq+out1%")};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            assert_int_equal(format_equal(all[i], all[j]), i == j);
            assert_int_equal(format_key(all[i]) == format_key(all[j]), i == j);
        }
    assert_true(format_key(FORMAT_INT4) == GGML_TYPE_Q4_0);
    assert_true(format_key(format_teach(4, GRAN_BLOCK, 32, false)) ==
                ((UINT64_C(1) << 31) | (UINT64_C(4) << 20) | ((uint64_t)GRAN_BLOCK << 28) | 32));
}

/* A 64 x 64 tensor, 4096 weights, by hand:
 *   Q4_0 dense: 64 rows * 2 blocks * 18 = 2304 bytes (4.5 bits per weight)
 *   +out1%: floor(4096 / 100) = 40 outliers * 6 bytes = 240 -> 2544
 *   +2:4: 2048 pruned; a sparse encoding: 2048 kept * 4.5 bits + 2 bits * 2048
 *         = 9216 + 4096 = 13312 bits = 1664 bytes (dense stays 2304)
 *   f32+prune50: 2048 kept * 32 + a 4096-bit bitmap = 69632 bits = 8704 bytes
 *   +prune30: floor(4096 * 30 / 100) = floor(1228.8) = 1228
 *   rows of 7 with 2:4: one group of 4 (2 pruned) and a tail of 3 (1 pruned) */
static void test_format_modifier_sizes(void **state) {
    (void)state;
    assert_near(format_tensor_bytes(parse_ok("q4_0+2:4"), 64, 64), 2304, 0);
    assert_near(format_tensor_bytes(parse_ok("q4_0+gptq"), 64, 64), 2304, 0);
    assert_near(format_tensor_bytes(parse_ok("q4_0+out1%"), 64, 64), 2544, 0);
    assert_near(format_tensor_bytes(parse_ok("q4_0+out0%"), 64, 64), 2304, 0);
    assert_int_equal(format_outlier_count(parse_ok("q4_0+out1%"), 64, 64), 40);
    assert_int_equal(format_outlier_count(parse_ok("q4_0+out0.5%"), 64, 172), 55); /* 11008 * 0.005 = 55.04 */
    assert_int_equal(format_outlier_count(parse_ok("q4_0+prune99+out10%"), 64, 64), 41); /* only 41 survive */
    assert_int_equal(format_prune_count(parse_ok("q4_0+2:4"), 64, 64), 2048);
    assert_int_equal(format_prune_count(parse_ok("q4_0+prune30"), 64, 64), 1228);
    assert_int_equal(format_prune_count(parse_ok("f32+2:4"), 5, 7), 15);
    assert_int_equal(format_prune_count(parse_ok("f32+2:4"), 1, 2), 0);
    assert_near(format_sparse_bytes(parse_ok("q4_0+2:4"), 64, 64), 1664, 0);
    assert_near(format_sparse_bytes(parse_ok("f32+prune50"), 64, 64), 8704, 0);
    assert_near(format_sparse_bytes(FORMAT_INT4, 64, 64), 2304, 0);
    assert_true(format_fits_gguf(parse_ok("q4_0+gptq+2:4"), 64));
    assert_false(format_fits_gguf(parse_ok("q4_0+out0%"), 64));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names_round_trip),
        cmocka_unit_test(test_format_names_spelled),
        cmocka_unit_test(test_format_aliases),
        cmocka_unit_test(test_format_bad_names),
        cmocka_unit_test(test_format_supported_and_keys),
        cmocka_unit_test(test_format_block_sizes_and_padding),
        cmocka_unit_test(test_format_bits_per_weight_ggml),
        cmocka_unit_test(test_format_bits_per_weight_padding),
        cmocka_unit_test(test_format_overhead_tensor_row_block),
        cmocka_unit_test(test_format_modifier_names),
        cmocka_unit_test(test_format_modifier_refusals),
        cmocka_unit_test(test_format_modifier_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
