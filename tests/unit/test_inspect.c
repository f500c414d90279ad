/* test_inspect.c — the block inspector's facts (src/quant/inspect.c).
 *
 * Every expected number below is worked by hand in the comments from ggml's
 * reference arithmetic (ggml-quants.c quantize_row_q4_0_ref / q8_0_ref: the
 * scale, the codes, the nibble layout) and from the teaching conventions in
 * format.h, with FP16 rounding done on paper: a scale's FP16 bits are sign,
 * exponent + 15 (5 bits), and the 10-bit fraction rounded to nearest. None of it
 * is computed by the code under test.
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

#include "base/half.h"
#include "quant/inspect.h"
#include "quant/qtensor.h"
#include "quant/types.h"

#define assert_near(a, b, tol)                                                                   \
    do {                                                                                         \
        const double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                              \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, t_);              \
    } while (0)

/* Exact comparison of values that are exact binary fractions (FP16 x small ints). */
#define assert_exact(a, b) assert_near((a), (b), 0.0)

typedef struct Fixture {
    QTensor q;
    float *w;
    BlockInfo b;
} Fixture;

static int setup(void **state) {
    Fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    Fixture *fx = *state;
    qtensor_free(&fx->q);
    free(fx->w);
    free(fx);
    return 0;
}

/* Quantizes rows x cols zeros with the given values set, into format f. */
static void quantize(Fixture *fx, int64_t rows, int64_t cols, const float *vals, int n, Format f) {
    fx->w = calloc((size_t)(rows * cols), sizeof(float));
    assert_non_null(fx->w);
    memcpy(fx->w, vals, (size_t)n * sizeof(float));
    Error err;
    assert_int_equal(qtensor_quantize(&fx->q, fx->w, rows, cols, f, NULL, &err), ST_OK);
}

static void inspect(Fixture *fx, int64_t index) {
    Error err;
    assert_int_equal(inspect_block(&fx->q, fx->w, index, &fx->b, &err), ST_OK);
}

/* --------------------------------------------------------------- Q4_0 --- */

/* Values 0.3, -0.1, 0.05, 0.2, -0.29 then 27 zeros.
 *   The signed max is 0.3 (largest magnitude), d = 0.3 / -8 = -0.0375, id = 1/d = -26.67.
 *   FP16 of -0.0375 = -1.2 x 2^-5: exponent -5 + 15 = 10, fraction 0.2 x 1024 = 204.8
 *   -> 205: bits 1 01010 0011001101 = 0xA8CD, stored little-endian CD A8; the stored
 *   d is -(1 + 205/1024) / 32 = -0.037506103515625.
 *   codes = min(15, trunc(x * id + 8.5)):
 *     0.3   -> -8    + 8.5 = 0.5    -> 0
 *    -0.1   ->  2.67 + 8.5 = 11.17  -> 11
 *     0.05  -> -1.33 + 8.5 = 7.17   -> 7
 *     0.2   -> -5.33 + 8.5 = 3.17   -> 3
 *    -0.29  ->  7.73 + 8.5 = 16.23  -> 16 -> clamped to 15
 *     0     ->  8.5                 -> 8
 *   byte j = code j | code (j + 16) << 4, and codes 16..31 are all 8:
 *     80 8B 87 83 8F then 88 x 11.
 *   decoded = (code - 8) x d: 0.300048828125, -0.112518310546875, 0.037506103515625,
 *   0.187530517578125, -0.262542724609375, then 0. */
static void test_inspect_q4_0_block_by_hand(void **state) {
    Fixture *fx = *state;
    const float v[] = {0.3f, -0.1f, 0.05f, 0.2f, -0.29f};
    quantize(fx, 1, 32, v, 5, FORMAT_INT4);
    inspect(fx, 0);
    const BlockInfo *b = &fx->b;
    assert_int_equal(b->count, 1);
    assert_int_equal(b->row, 0);
    assert_int_equal(b->col, 0);
    assert_int_equal(b->n, 32);
    assert_int_equal(b->n_stored, 32);
    assert_true(b->has_scale && b->has_codes && !b->has_min && !b->has_zero);
    assert_int_equal(b->scale_fp16, 0xA8CD);
    assert_exact(b->scale, -0.037506103515625);
    assert_int_equal(b->n_bytes, 18);
    const uint8_t want[18] = {0xCD, 0xA8, 0x80, 0x8B, 0x87, 0x83, 0x8F, 0x88, 0x88,
                              0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
    assert_memory_equal(b->bytes, want, 18);
    const int32_t codes[5] = {0, 11, 7, 3, 15};
    for (int k = 0; k < 32; k++) assert_int_equal(b->codes[k], k < 5 ? codes[k] : 8);
    const double dec[5] = {0.300048828125, -0.112518310546875, 0.037506103515625, 0.187530517578125,
                           -0.262542724609375};
    for (int k = 0; k < 32; k++) assert_exact(b->decoded[k], k < 5 ? dec[k] : 0.0);
    for (int k = 0; k < 5; k++) assert_exact(b->values[k], v[k]);
    assert_int_equal(b->code_lo, 0);
    assert_int_equal(b->code_hi, 15);
    assert_int_equal(b->code_bits, 4);
    assert_string_equal(b->rule, "value = (code - 8) x d");
    /* levels: (q - 8) x d for q = 0..15 — 16 distinct values, from 7d to -8d */
    assert_int_equal(b->n_levels, 16);
    assert_exact(b->levels[0], -0.262542724609375); /* q = 15: 7 x d */
    assert_exact(b->levels[15], 0.300048828125);    /* q = 0: -8 x d */
    assert_exact(b->levels[7], 0.0);                /* q = 8 */
    for (int i = 1; i < 16; i++) assert_exact(b->levels[i] - b->levels[i - 1], 0.037506103515625);
    assert_int_equal(b->scope, INSPECT_SCOPE_BLOCK);
}

/* The ramp -16, -15, ..., 15: the signed max is -16, d = -16 / -8 = 2 (FP16 0x4000:
 * exponent 1 + 15 = 16, fraction 0 -> bytes 00 40), id = 0.5,
 * code j = trunc((j - 16) / 2 + 8.5) = trunc(j / 2 + 0.5), so 0 1 1 2 2 3 3 ... and
 * code 31 = 16 clamps to 15. Bytes (low nibble code j, high nibble code j + 16):
 * 80 91 91 A2 A2 B3 B3 C4 C4 D5 D5 E6 E6 F7 F7 F8. Value 15 decodes to (15-8) x 2 = 14. */
static void test_inspect_q4_0_ramp_nibble_layout(void **state) {
    Fixture *fx = *state;
    float v[32];
    for (int j = 0; j < 32; j++) v[j] = (float)(j - 16);
    quantize(fx, 1, 32, v, 32, FORMAT_INT4);
    inspect(fx, 0);
    const uint8_t want[18] = {0x00, 0x40, 0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3,
                              0xC4, 0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8};
    assert_memory_equal(fx->b.bytes, want, 18);
    assert_exact(fx->b.scale, 2.0);
    assert_int_equal(fx->b.codes[1], 1);
    assert_int_equal(fx->b.codes[16], 8);
    assert_int_equal(fx->b.codes[31], 15);
    assert_exact(fx->b.decoded[31], 14.0);
    assert_exact(fx->b.decoded[0], -16.0);
    assert_exact(fx->b.decoded[1], -14.0);
    assert_exact(fx->b.levels[0], -16.0);
    assert_exact(fx->b.levels[15], 14.0);
}

/* Windows are numbered row by row, and each reads its own block. 2 rows of 64:
 * window 3 is row 1, columns 32..63, the block at byte 18 of row 1. A row of 40
 * values is padded to 64: its second window holds 8 real values and 24 zeros,
 * whose codes are 8 (zero), and all 32 codes are stored. */
static void test_inspect_windows_rows_and_padding(void **state) {
    Fixture *fx = *state;
    float v[128];
    for (int j = 0; j < 128; j++) v[j] = (float)((j * 37) % 23 - 11) / 16.0f;
    quantize(fx, 2, 64, v, 128, FORMAT_INT4);
    assert_int_equal(inspect_blocks_per_row(&fx->q), 2);
    assert_int_equal(inspect_block_count(&fx->q), 4);
    inspect(fx, 3);
    assert_int_equal(fx->b.row, 1);
    assert_int_equal(fx->b.col, 32);
    assert_memory_equal(fx->b.bytes, (const uint8_t *)fx->q.blocks + fx->q.row_bytes + 18, 18);
    for (int k = 0; k < 32; k++) {
        assert_exact(fx->b.values[k], v[64 + 32 + k]);
        assert_exact(fx->b.decoded[k], fx->q.dequant[64 + 32 + k]);
    }
    Error err;
    BlockInfo b;
    assert_int_equal(inspect_block(&fx->q, fx->w, 4, &b, &err), ST_USAGE);
    assert_int_equal(inspect_block(&fx->q, fx->w, -1, &b, &err), ST_USAGE);

    qtensor_free(&fx->q);
    free(fx->w);
    quantize(fx, 1, 40, v, 40, FORMAT_INT4);
    assert_int_equal(inspect_block_count(&fx->q), 2);
    inspect(fx, 1);
    assert_int_equal(fx->b.col, 32);
    assert_int_equal(fx->b.n, 8);
    assert_int_equal(fx->b.n_stored, 32);
    for (int k = 8; k < 32; k++) {
        assert_exact(fx->b.values[k], 0.0);
        assert_int_equal(fx->b.codes[k], 8);
    }
}

/* --------------------------------------------------------------- Q8_0 --- */

/* Values 1.27, -0.5, 0.126, -0.004, then zeros. amax = 1.27, d = 1.27 / 127 = 0.01,
 * id = 100. FP16 of 0.01 = 1.28 x 2^-7: exponent 8 (0x2000), fraction
 * 0.28 x 1024 = 286.72 -> 287 = 0x11F: 0x211F, bytes 1F 21; stored d = 1311 / 131072.
 * codes = roundf(x * 100): 127, -50, 13 (12.6), 0 (-0.4), as int8 bytes 7F CE 0D 00.
 * decoded = code x d: 166497/131072 = 1.27027130126953125, -65550/131072, 17043/131072.
 * levels: code -128..127 x d, from -1311/1024 = -1.2802734375 to 1.27027130126953125. */
static void test_inspect_q8_0_block_by_hand(void **state) {
    Fixture *fx = *state;
    const float v[] = {1.27f, -0.5f, 0.126f, -0.004f};
    quantize(fx, 1, 32, v, 4, FORMAT_INT8);
    inspect(fx, 0);
    const BlockInfo *b = &fx->b;
    assert_int_equal(b->n_bytes, 34);
    assert_int_equal(b->scale_fp16, 0x211F);
    const uint8_t head[6] = {0x1F, 0x21, 0x7F, 0xCE, 0x0D, 0x00};
    assert_memory_equal(b->bytes, head, 6);
    for (int k = 6; k < 34; k++) assert_int_equal(b->bytes[k], 0);
    assert_int_equal(b->codes[0], 127);
    assert_int_equal(b->codes[1], -50);
    assert_int_equal(b->codes[2], 13);
    assert_int_equal(b->codes[3], 0);
    assert_exact(b->decoded[0], 166497.0 / 131072.0);
    assert_exact(b->decoded[1], -65550.0 / 131072.0);
    assert_exact(b->decoded[2], 17043.0 / 131072.0);
    assert_int_equal(b->code_lo, -128);
    assert_int_equal(b->code_hi, 127);
    assert_int_equal(b->n_levels, 256);
    assert_exact(b->levels[0], -1.2802734375);
    assert_exact(b->levels[128], 0.0);
    assert_exact(b->levels[255], 166497.0 / 131072.0);
    assert_string_equal(b->rule, "value = code x d");
}

/* ------------------------------------------------- teaching formats --- */

/* INT3 asymmetric, blocks of 16. Values 0.5, -0.2, 0, 0.26, -0.04, 0.149, then zeros.
 *   lo = -0.2, hi = 0.5, qmax = 7, s = 0.7 / 7 = 0.1; FP16 of 0.1 = 1.6 x 2^-4:
 *   exponent 11 (0x2C00), fraction 0.6 x 1024 = 614.4 -> 614 = 0x266: 0x2E66,
 *   s = 1638.4/16384 -> 1638/16384 = 0.0999755859375.
 *   z = round(0.2 / s) = round(2.0005) = 2.
 *   code = z + round(clamp(x / s, -2, 5)):
 *     0.5 -> 5.001 -> 5 -> 7;  -0.2 -> -2.0005 -> -2 -> 0;  0 -> 2;
 *     0.26 -> 2.6006 -> 3 -> 5; -0.04 -> -0.4 -> 0 -> 2; 0.149 -> 1.49 -> 1 -> 3.
 *   decoded = (code - 2) x s: 0.4998779296875, -0.199951171875, 0, 0.2999267578125, 0,
 *   0.0999755859375. levels: (q - 2) x s for q = 0..7, 8 of them. */
static void test_inspect_int3_asym_block_by_hand(void **state) {
    Fixture *fx = *state;
    const float v[] = {0.5f, -0.2f, 0.0f, 0.26f, -0.04f, 0.149f};
    quantize(fx, 1, 16, v, 6, format_teach(3, GRAN_BLOCK, 16, true));
    assert_int_equal(inspect_window_len(fx->q.fmt, 16), 16);
    inspect(fx, 0);
    const BlockInfo *b = &fx->b;
    assert_int_equal(b->n, 16);
    assert_true(b->has_zero);
    assert_int_equal(b->zero, 2);
    assert_int_equal(b->scale_fp16, 0x2E66);
    assert_exact(b->scale, 0.0999755859375);
    assert_int_equal(b->n_bytes, 0); /* no file holds teaching formats */
    const int32_t codes[6] = {7, 0, 2, 5, 2, 3};
    for (int k = 0; k < 16; k++) assert_int_equal(b->codes[k], k < 6 ? codes[k] : 2);
    const double dec[6] = {0.4998779296875, -0.199951171875, 0, 0.2999267578125, 0, 0.0999755859375};
    for (int k = 0; k < 6; k++) assert_exact(b->decoded[k], dec[k]);
    assert_int_equal(b->code_lo, 0);
    assert_int_equal(b->code_hi, 7);
    assert_int_equal(b->n_levels, 8);
    const double lv[8] = {-0.199951171875, -0.0999755859375, 0, 0.0999755859375, 0.199951171875,
                          0.2999267578125, 0.39990234375, 0.4998779296875};
    for (int i = 0; i < 8; i++) assert_exact(b->levels[i], lv[i]);
    assert_string_equal(b->rule, "value = (code - z) x s");
    assert_int_equal(b->scope, INSPECT_SCOPE_BLOCK);
}

/* Groups of a teaching format: 2 rows of 48 in blocks of 16 make 3 windows (and
 * groups) a row; window 4 is row 1, columns 16..31, group 1 x 3 + 1 = 4. Blocks of
 * 128 on rows of 172 are inspected 32 values at a time: 6 windows a row, the last
 * holding 12; window 4 is the first 32 values of the row's second block (128..171). */
static void test_inspect_teaching_groups(void **state) {
    Fixture *fx = *state;
    float v[344];
    for (int j = 0; j < 344; j++) v[j] = (float)((j * 29) % 31 - 15) / 64.0f;
    quantize(fx, 2, 48, v, 96, format_teach(4, GRAN_BLOCK, 16, false));
    assert_int_equal(inspect_block_count(&fx->q), 6);
    inspect(fx, 4);
    assert_int_equal(fx->b.row, 1);
    assert_int_equal(fx->b.col, 16);
    assert_int_equal(fx->b.group, 4);
    assert_int_equal(fx->b.group_col, 16);
    assert_exact(fx->b.scale, fx->q.scales[4]);

    qtensor_free(&fx->q);
    free(fx->w);
    quantize(fx, 2, 172, v, 344, format_teach(4, GRAN_BLOCK, 128, false));
    assert_int_equal(inspect_blocks_per_row(&fx->q), 6);
    inspect(fx, 5);
    assert_int_equal(fx->b.col, 160);
    assert_int_equal(fx->b.n, 12);
    assert_int_equal(fx->b.group, 1);
    assert_int_equal(fx->b.group_col, 128);
    assert_int_equal(fx->b.group_len, 44);
    inspect(fx, 10); /* row 1, window 4: columns 128..159, group 1 x 2 + 1 = 3 */
    assert_int_equal(fx->b.row, 1);
    assert_int_equal(fx->b.group, 3);
}

/* INT4 per tensor, symmetric: max |w| = 0.7, s = 0.7 / 7 = 0.1 -> FP16 0.0999755859375;
 * every window shares it and the 15 levels -7s .. 7s (7 x 1638/16384 = 0.6998291015625). */
static void test_inspect_per_tensor_levels(void **state) {
    Fixture *fx = *state;
    const float v[] = {0.7f, -0.35f, 0.1f};
    quantize(fx, 3, 40, v, 3, format_teach(4, GRAN_TENSOR, 0, false));
    assert_int_equal(inspect_blocks_per_row(&fx->q), 2);
    inspect(fx, 5);
    assert_int_equal(fx->b.scope, INSPECT_SCOPE_TENSOR);
    assert_int_equal(fx->b.row, 2);
    assert_int_equal(fx->b.n, 8);
    assert_exact(fx->b.scale, 0.0999755859375);
    assert_int_equal(fx->b.n_levels, 15);
    assert_exact(fx->b.levels[0], -0.6998291015625);
    assert_exact(fx->b.levels[7], 0.0);
    assert_exact(fx->b.levels[14], 0.6998291015625);
    assert_int_equal(fx->b.code_lo, -7);
    assert_int_equal(fx->b.code_hi, 7);
}

/* F16 stores each value's bits: 1.0 = 0x3C00, -2.0 = 0xC000, 0.1 -> 0x2E66 (see above),
 * bytes little-endian 00 3C 00 C0 66 2E. No codes, no scale, no levels. */
static void test_inspect_f16_bits(void **state) {
    Fixture *fx = *state;
    const float v[] = {1.0f, -2.0f, 0.1f};
    quantize(fx, 1, 3, v, 3, FORMAT_FP16);
    inspect(fx, 0);
    assert_int_equal(fx->b.n, 3);
    assert_false(fx->b.has_codes);
    assert_false(fx->b.has_scale);
    assert_int_equal(fx->b.n_levels, 0);
    assert_int_equal(fx->b.n_bytes, 6);
    const uint8_t want[6] = {0x00, 0x3C, 0x00, 0xC0, 0x66, 0x2E};
    assert_memory_equal(fx->b.bytes, want, 6);
    assert_int_equal(fx->b.raw[0], 0x3C00);
    assert_int_equal(fx->b.raw[1], 0xC000);
    assert_exact(fx->b.decoded[2], 0.0999755859375);
}

/* Q4_1, Q5_0, Q5_1: every code is the one unpacked here from the stored block
 * as ggml lays it out (d, m as FP16; low nibbles of codes 0..15 in bytes 0..15
 * of qs, codes 16..31 in their high nibbles; the fifth bit of code k is bit k of
 * the little-endian qh), it decodes by the type's rule to the value ggml's own
 * dequantizer gives, and every decoded value is one of the block's levels. */
static void test_inspect_codes_follow_the_rule(void **state) {
    Fixture *fx = *state;
    const uint32_t types[] = {GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1};
    float v[64];
    for (int j = 0; j < 64; j++) v[j] = (float)((j * 53) % 61 - 20) / 32.0f;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        qtensor_free(&fx->q);
        free(fx->w);
        quantize(fx, 2, 32, v, 64, format_ggml(types[t]));
        for (int64_t i = 0; i < 2; i++) {
            inspect(fx, i);
            const BlockInfo *b = &fx->b;
            const int bits = types[t] == GGML_TYPE_Q4_1 ? 4 : 5;
            assert_int_equal(b->code_bits, bits);
            assert_int_equal(b->n_levels, 1 << bits);
            /* the stored block, unpacked by hand */
            const uint8_t *blk = (const uint8_t *)fx->q.blocks + (size_t)i * fx->q.row_bytes;
            const bool has_m = types[t] != GGML_TYPE_Q5_0;
            const uint16_t d16 = (uint16_t)(blk[0] | blk[1] << 8), m16 = (uint16_t)(blk[2] | blk[3] << 8);
            const uint8_t *qh = blk + (has_m ? 4 : 2), *qs = bits == 5 ? qh + 4 : qh;
            const uint32_t high = bits == 5 ? (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
                                                  (uint32_t)qh[3] << 24
                                            : 0;
            assert_exact(b->scale, half_to_f32(d16));
            if (has_m) assert_exact(b->min, half_to_f32(m16));
            for (int k = 0; k < 32; k++) {
                const int low = k < 16 ? qs[k] & 15 : qs[k - 16] >> 4;
                assert_int_equal(b->codes[k], low | (int)((high >> k) & 1) << 4);
                float want = types[t] == GGML_TYPE_Q5_0 ? (float)(b->codes[k] - 16) * b->scale
                                                        : (float)b->codes[k] * b->scale + b->min;
                assert_exact(b->decoded[k], want);
                assert_exact(b->decoded[k], fx->q.dequant[i * 32 + k]);
                bool found = false;
                for (int l = 0; l < b->n_levels && !found; l++) found = b->levels[l] == b->decoded[k];
                assert_true(found);
            }
            assert_int_equal(b->has_min, types[t] != GGML_TYPE_Q5_0);
        }
    }
}

/* ------------------------------------------------------ outlier split --- */

/* The ramp -16..15 with value 5 (-11) replaced by 100, at +out4%: floor(4 x 32 /
 * 100) = 1 weight is kept, the largest, 100 (exact in FP16). The dense part holds
 * 0 there; its signed max is then -16, so d = 2 as in the ramp above and the code
 * at 5 is trunc(0 x 0.5 + 8.5) = 8, decoding to 0; the forward pass adds the 100.
 * Value 4 (-12) keeps code trunc(-6 + 8.5) = 2, decoding to (2 - 8) x 2 = -12.
 * The same in a teaching format: its decoded values already come from dequant. */
static void test_inspect_outlier_split_adds_the_fp16_value(void **state) {
    Fixture *fx = *state;
    float v[32];
    for (int j = 0; j < 32; j++) v[j] = (float)(j - 16);
    v[5] = 100.0f;
    Format f;
    Error err;
    assert_int_equal(format_parse("q4_0+out4%", &f, &err), ST_OK);
    quantize(fx, 1, 32, v, 32, f);
    assert_int_equal(fx->q.n_outliers, 1);
    inspect(fx, 0);
    assert_exact(fx->b.scale, 2.0);
    assert_int_equal(fx->b.codes[5], 8);
    assert_exact(fx->b.decoded[5], 100.0);
    assert_int_equal(fx->b.codes[4], 2);
    assert_exact(fx->b.decoded[4], -12.0);
    qtensor_free(&fx->q);
    free(fx->w);
    assert_int_equal(format_parse("int4-b32+out4%", &f, &err), ST_OK);
    quantize(fx, 1, 32, v, 32, f);
    inspect(fx, 0);
    assert_int_equal(fx->b.codes[5], 0);
    assert_exact(fx->b.decoded[5], 100.0);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inspect_q4_0_block_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_q4_0_ramp_nibble_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_windows_rows_and_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_q8_0_block_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_int3_asym_block_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_teaching_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_per_tensor_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_f16_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_codes_follow_the_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_outlier_split_adds_the_fp16_value, setup, teardown),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
