/* test_qtensor.c — quantizing matrices: codes worked out by hand, error budgets
 * derived in the comments and re-checked in double precision group by group,
 * padding, refusal of non-finite weights, and bit-exactness with llama.cpp's own
 * files (copies in tests/data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "gguf/gguf.h"
#include "lib/proc.h"
#include "base/pool.h"
#include "quant/matvec.h"
#include "quant/qtensor.h"
#include "quant/stats.h"
#include "quant/types.h"

#define assert_near(a, b, tol)                                                                   \
    do {                                                                                         \
        const double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                              \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, t_);              \
    } while (0)

/* A fixed pseudo-random sequence (xorshift64), uniform in [-1, 1). */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static double rng_uniform(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* 7 rows of `cols` values with different characters: row r scaled by 0.05 (r+1);
 * row 3 all positive, row 5 all negative, row 6 with one outlier of 3.0. */
static float *make_test_matrix(int64_t rows, int64_t cols, uint64_t seed) {
    float *w = malloc((size_t)(rows * cols) * sizeof *w);
    rng_seed(seed);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double v = rng_uniform() * 0.05 * (double)(r % 7 + 1);
            if (r % 7 == 3) v = 0.3 + fabs(v);
            if (r % 7 == 5) v = -0.2 - fabs(v);
            if (r % 7 == 6 && c == cols / 3) v = 3.0;
            w[r * cols + c] = (float)v;
        }
    return w;
}

static const uint32_t GGML_TYPES[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16,
                                      GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
                                      GGML_TYPE_Q5_0, GGML_TYPE_Q5_1};
#define N_GGML_TYPES (sizeof GGML_TYPES / sizeof GGML_TYPES[0])

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

static void quantize_ok(QTensor *q, const float *w, int64_t rows, int64_t cols, Format f,
                        Pool *pool) {
    Error err = {0};
    Status st = qtensor_quantize(q, w, rows, cols, f, pool, &err);
    if (st != ST_OK) fail_msg("qtensor_quantize: %s", err.msg);
}

/* ------------------------------------------------- codes known by hand */

/* A 1x32 row 0, 1, ..., 31 at Q8_0: amax = 31, d = 31/127 = 0.244094488...
 * Stored FP16: 0.244094488 lies in [2^-3, 2^-2), where FP16 steps by 2^-13;
 * 0.244094488 * 2^13 = 1999.622 -> 2000, so d16 = 2000 * 2^-13 = 0.244140625,
 * bits 0 01100 1111010000 = 0x33D0. Codes round(j * 127/31) use the unrounded d
 * (as ggml does): 0, 4, 8, 12, 16, 20, 25, 29, ... 127 (127j/31 is never within
 * 1/62 of a half, so float arithmetic cannot flip one). */
static void test_qtensor_q8_0_known_codes(void **state) {
    (void)state;
    float w[32];
    for (int j = 0; j < 32; j++) w[j] = (float)j;
    QTensor q;
    quantize_ok(&q, w, 1, 32, FORMAT_INT8, NULL);
    const BlockQ8_0 *b = q.blocks;
    assert_int_equal(q.row_bytes, 34);
    assert_int_equal(b->d, 0x33D0);
    static const int first[8] = {0, 4, 8, 12, 16, 20, 25, 29};
    for (int j = 0; j < 8; j++) assert_int_equal(b->qs[j], first[j]);
    for (int j = 0; j < 32; j++) {
        const long code = lround(j * 127.0 / 31.0);
        assert_int_equal(b->qs[j], code);
        assert_true(q.dequant[j] == (float)code * 0.244140625f);
    }
    assert_true(q.dequant[31] == 127 * 0.244140625f); /* 31.005859375: error 0.0059 */
    qtensor_free(&q);
}

/* Q4_0 of x_j = ((j % 16) - 8) / 2, i.e. -4, -3.5, ..., 3.5 twice. The largest
 * magnitude is 4 at x = -4, so d = -4 / -8 = 0.5 (FP16 0x3800) and
 * x/d + 8.5 = (j % 16) + 0.5 truncates to j % 16. Byte j holds elements j (low
 * nibble) and j + 16 (high nibble), both j: 0x11 * j. Decoding is exact. */
static void test_qtensor_q4_0_known_codes(void **state) {
    (void)state;
    float w[32];
    for (int j = 0; j < 32; j++) w[j] = (float)((j % 16) - 8) * 0.5f;
    QTensor q;
    quantize_ok(&q, w, 1, 32, FORMAT_INT4, NULL);
    const BlockQ4_0 *b = q.blocks;
    assert_int_equal(b->d, 0x3800);
    for (int j = 0; j < 16; j++) assert_int_equal(b->qs[j], 0x11 * j);
    for (int j = 0; j < 32; j++) assert_true(q.dequant[j] == w[j]);
    qtensor_free(&q);
}

/* INT2 symmetric has three levels, -s, 0, +s, with s = max|w| / 1 = 1.0.
 * Codes round(w / 1.0), halves away from zero:
 *   -1 -> -1, -0.6 -> -1, -0.5 -> -1, -0.4 -> 0, 0 -> 0, 0.3 -> 0, 0.5 -> 1, 0.9 -> 1 */
static void test_qtensor_int2_sym_three_levels(void **state) {
    (void)state;
    const float w[8] = {-1.0f, -0.6f, -0.5f, -0.4f, 0.0f, 0.3f, 0.5f, 0.9f};
    const int expect[8] = {-1, -1, -1, 0, 0, 0, 1, 1};
    QTensor q;
    quantize_ok(&q, w, 1, 8, format_teach(2, GRAN_ROW, 0, false), NULL);
    assert_null(q.zeros);
    assert_int_equal(q.n_groups, 1);
    assert_true(q.scales[0] == 1.0f);
    for (int j = 0; j < 8; j++) {
        assert_int_equal(q.codes[j], expect[j]);
        assert_true(q.dequant[j] == (float)expect[j]);
    }
    qtensor_free(&q);
}

/* INT3 asymmetric, values -1 .. 6: lo = -1, hi = 6, s = 7 / 7 = 1 (exact in FP16),
 * z = round(1 / 1) = 1, q = round(w) + 1: the eight levels 0..7 all used.
 * Between levels: 2.4 -> round 2 -> q 3 (2.0); 2.5 -> 3 -> q 4 (3.0);
 * -0.5 -> round -1 -> q 0 (-1.0); 0.49 -> 0 -> q 1 (0.0). */
static void test_qtensor_int3_asym_eight_levels(void **state) {
    (void)state;
    const float w[12] = {-1, 0, 1, 2, 3, 4, 5, 6, 2.4f, 2.5f, -0.5f, 0.49f};
    const int expect_q[12] = {0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 0, 1};
    const float expect_w[12] = {-1, 0, 1, 2, 3, 4, 5, 6, 2, 3, -1, 0};
    QTensor q;
    quantize_ok(&q, w, 1, 12, format_teach(3, GRAN_ROW, 0, true), NULL);
    assert_true(q.scales[0] == 1.0f);
    assert_int_equal(q.zeros[0], 1);
    for (int j = 0; j < 12; j++) {
        assert_int_equal(q.codes[j], expect_q[j]);
        assert_true(q.dequant[j] == expect_w[j]);
    }
    qtensor_free(&q);
}

/* A group of only positive values: the range is widened to include 0 (format.h),
 * so INT2 asym on {2, 3, 4, 5}: lo = 0, hi = 5, s = 5/3 = 1.6666666 in float; in
 * FP16 (step 2^-10 in [1, 2)): 1706.67 -> 1707 * 2^-10 = 1.6669921875. z = 0.
 * w/s = 1.1998, 1.7996, 2.3995, 2.9994 -> q = 1, 2, 2, 3
 * -> 1.6669921875, 3.333984375, 3.333984375, 5.0009765625. */
static void test_qtensor_asym_one_signed_group(void **state) {
    (void)state;
    const float w[4] = {2, 3, 4, 5};
    QTensor q;
    quantize_ok(&q, w, 1, 4, format_teach(2, GRAN_ROW, 0, true), NULL);
    assert_true(q.scales[0] == 1.6669921875f);
    assert_int_equal(q.zeros[0], 0);
    const int expect_q[4] = {1, 2, 2, 3};
    for (int j = 0; j < 4; j++) {
        assert_int_equal(q.codes[j], expect_q[j]);
        assert_true(q.dequant[j] == (float)(expect_q[j] * 1.6669921875));
    }
    qtensor_free(&q);
}

/* ------------------------------------------------------ error budgets */

/* Largest FP16 rounding error of a positive value v in FP16's range: half a step,
 * 2^-11 v for normal values, 2^-25 below 2^-14. */
static double fp16_err(double v) {
    return fabs(v) * 0x1p-11 + 0x1p-25;
}

/* For every teaching format, group by group, with the group's range found here in
 * double precision:
 *   symmetric, qmax = 2^(b-1)-1, A = max|w|, s = A/qmax, s16 = FP16(s):
 *     |w/s16| <= qmax/(1-2^-11) < qmax + 1/2, so the clamp never moves a value by
 *     more than the rounding would: |e| <= s16/2 <= s/2 + fp16_err(s)/2.
 *   asymmetric, qmax = 2^b-1, lo = min(min, 0), hi = max(max, 0), s = (hi-lo)/qmax:
 *     z = round(-lo/s16) makes the low clamp at -z cost at most 1/2 step; the high
 *     clamp at qmax - z sits below hi/s16 by at most qmax (s - s16)/s16 + 1/2 steps
 *     when FP16 rounded s down. So |e| <= s16/2 + qmax * fp16_err(s).
 *   Float arithmetic (w/s16, q*s16) adds at most a few ulps of A: + A * 2^-20.
 * Also: codes in range, z in [0, qmax], the scale is an FP16 value within
 * fp16_err(s) of s, and dequant = (q - z) * scale exactly. */
static void check_teach_budget(const QTensor *q, const float *w) {
    const Format f = q->fmt;
    const int64_t rows = q->rows, cols = q->cols;
    const int64_t gs = f.gran == GRAN_TENSOR ? rows * cols : f.gran == GRAN_ROW ? cols : f.block;
    const int64_t per_row = f.gran == GRAN_TENSOR ? 1 : (cols + gs - 1) / gs;
    const int64_t n_groups = f.gran == GRAN_TENSOR ? 1 : rows * per_row;
    assert_int_equal(q->n_groups, n_groups);
    assert_int_equal(q->group_size, gs);
    const int qmax = f.asym ? (1 << f.bits) - 1 : (1 << (f.bits - 1)) - 1;
    for (int64_t g = 0; g < n_groups; g++) {
        /* the group's elements, as (first index, count, stride) within rows */
        int64_t r0, r1, c0, c1;
        if (f.gran == GRAN_TENSOR) r0 = 0, r1 = rows, c0 = 0, c1 = cols;
        else {
            r0 = g / per_row, r1 = r0 + 1;
            c0 = (g % per_row) * gs;
            c1 = c0 + gs < cols ? c0 + gs : cols;
        }
        double mn = INFINITY, mx = -INFINITY;
        for (int64_t r = r0; r < r1; r++)
            for (int64_t c = c0; c < c1; c++) {
                mn = fmin(mn, w[r * cols + c]);
                mx = fmax(mx, w[r * cols + c]);
            }
        double s, amax, bound;
        if (f.asym) {
            const double lo = fmin(mn, 0.0), hi = fmax(mx, 0.0);
            amax = fmax(-lo, hi);
            s = (hi - lo) / qmax;
            bound = (s + fp16_err(s)) / 2 + qmax * fp16_err(s) + amax * 0x1p-20;
        } else {
            amax = fmax(-mn, mx);
            s = amax / qmax;
            bound = (s + fp16_err(s)) / 2 + amax * 0x1p-20;
        }
        const float scale = q->scales[g];
        assert_true(half_to_f32(half_from_f32(scale)) == scale); /* an FP16 value */
        assert_true(fabs(scale - s) <= fp16_err(s));
        const int32_t z = q->zeros ? q->zeros[g] : 0;
        assert_true(z >= 0 && z <= (f.asym ? qmax : 0));
        for (int64_t r = r0; r < r1; r++)
            for (int64_t c = c0; c < c1; c++) {
                const int64_t i = r * cols + c;
                const int code = q->codes[i];
                if (f.asym) assert_true(code >= 0 && code <= qmax);
                else assert_true(code >= -qmax && code <= qmax);
                assert_true(q->dequant[i] == (float)(code - z) * scale);
                const double e = fabs((double)q->dequant[i] - w[i]);
                if (!(e <= bound))
                    fail_msg("format %u-bit gran %u block %u asym %u: |e| = %g > bound %g at "
                             "[%lld, %lld]",
                             f.bits, f.gran, f.block, f.asym, e, bound, (long long)r,
                             (long long)c);
            }
    }
}

/* 7 x 172: every block granularity has a short last block (172 = 10*16 + 12 =
 * 5*32 + 12 = 2*64 + 44 = 128 + 44). */
static void test_qtensor_teach_error_budget(void **state) {
    (void)state;
    const int64_t R = 7, C = 172;
    float *w = make_test_matrix(R, C, 42);
    Format all[84];
    const int n = all_teach(all);
    for (int i = 0; i < n; i++) {
        QTensor q;
        quantize_ok(&q, w, R, C, all[i], NULL);
        assert_int_equal(q.cols_padded, format_padded_cols(all[i], C));
        assert_true(q.bytes == format_tensor_bytes(all[i], R, C));
        assert_null(q.blocks);
        check_teach_budget(&q, w);
        qtensor_free(&q);
    }
    free(w);
}

/* The GGML types, block by block (d, m as defined by ggml's reference quantizers;
 * t = the value in units of d; fp16_err of d and m as above):
 *   Q8_0  d = amax/127, codes round(w/d) with the unrounded d, decoded q*d16:
 *         |e| <= d/2 + 127 fp16_err(d)
 *   Q4_0  d = M/-8 (M the value of largest magnitude), code min(15, trunc(w/d + 8.5)):
 *         round half up, except w/d >= 7.5 clamps to 7: |e| <= |d|/2 (|d| there)
 *         + 8 fp16_err(d)
 *   Q5_0  the same with 16 and 31: |e| <= |d|/2 (|d| when w/d >= 15.5) + 16 fp16_err(d)
 *   Q4_1  d = (max-min)/15, m = min (both FP16), code round-half-up((w-m)/d) <= 15:
 *         |e| <= d/2 + 15 fp16_err(d) + fp16_err(min)
 *   Q5_1  the same with 31
 *   F16   |e| <= fp16_err(w); BF16 |e| <= |w| 2^-8; F32 e = 0.
 * Plus float arithmetic, a few ulps of the block's largest value: amax * 2^-20. */
static double ggml_bound(uint32_t type, const float *blk, int n, int j) {
    double amax = 0, mn = INFINITY, mx = -INFINITY, M = 0;
    for (int k = 0; k < n; k++) {
        if (fabs(blk[k]) > amax) amax = fabs(blk[k]), M = blk[k];
        mn = fmin(mn, blk[k]);
        mx = fmax(mx, blk[k]);
    }
    const double slack = amax * 0x1p-20, w = blk[j];
    switch (type) {
    case GGML_TYPE_F32: return 0;
    case GGML_TYPE_F16: return fp16_err(w);
    case GGML_TYPE_BF16: return fabs(w) * 0x1p-8;
    case GGML_TYPE_Q8_0: {
        const double d = amax / 127;
        return d / 2 + 127 * fp16_err(d) + slack;
    }
    case GGML_TYPE_Q4_0:
    case GGML_TYPE_Q5_0: {
        const double half = type == GGML_TYPE_Q4_0 ? 8 : 16;
        const double d = M / -half, t = d != 0 ? w / d : 0;
        return fabs(d) * (t >= half - 0.5 ? 1.0 : 0.5) + half * fp16_err(d) + slack;
    }
    case GGML_TYPE_Q4_1:
    case GGML_TYPE_Q5_1: {
        const double levels = type == GGML_TYPE_Q4_1 ? 15 : 31;
        const double d = (mx - mn) / levels;
        return d / 2 + levels * fp16_err(d) + fp16_err(mn) + slack;
    }
    }
    fail_msg("no bound for type %u", type);
    return 0;
}

/* 7 x 172 in every GGML type: rows padded to 192 with zeros (blocks equal
 * from_float of that padded row), dequant exactly 172 values a row, within the
 * budgets above. The padding's 20 zeros belong to the last block, so that block's
 * budget is computed over its 12 values and 20 zeros. */
static void test_qtensor_ggml_padding_and_budget(void **state) {
    (void)state;
    const int64_t R = 7, C = 172;
    float *w = make_test_matrix(R, C, 7);
    for (size_t t = 0; t < N_GGML_TYPES; t++) {
        const uint32_t type = GGML_TYPES[t];
        const TypeTraits *tr = type_traits(type);
        const int bs = tr->block_size;
        const int64_t padded = (C + bs - 1) / bs * bs;
        QTensor q;
        quantize_ok(&q, w, R, C, format_ggml(type), NULL);
        assert_int_equal(q.cols_padded, padded);
        assert_int_equal(q.row_bytes, (size_t)(padded / bs) * tr->type_size);
        assert_true(q.bytes == (double)(R * q.row_bytes));
        assert_null(q.codes);
        /* hand: Q4_0 6 * 18 = 108, Q8_0 6 * 34 = 204 bytes a row; F32 172 * 4 = 688 */
        if (type == GGML_TYPE_Q4_0) assert_int_equal(q.row_bytes, 108);
        if (type == GGML_TYPE_Q8_0) assert_int_equal(q.row_bytes, 204);
        if (type == GGML_TYPE_F32) assert_int_equal(q.row_bytes, 688);

        float row[192], decoded[192];
        uint8_t expect[1024];
        for (int64_t r = 0; r < R; r++) {
            memset(row, 0, sizeof row);
            memcpy(row, w + r * C, C * sizeof(float));
            tr->from_float(row, expect, padded);
            assert_memory_equal((uint8_t *)q.blocks + r * q.row_bytes, expect, q.row_bytes);
            tr->to_float(expect, decoded, padded);
            /* the padding was stored as zeros: they decode to 0 exactly in the
             * symmetric types, to within the block's budget in Q4_1/Q5_1 (m + q d) */
            for (int64_t c = C; c < padded; c++) {
                const int64_t b0 = c / bs * bs;
                assert_true(fabs(decoded[c]) <= ggml_bound(type, row + b0, bs, (int)(c - b0)));
                if (type != GGML_TYPE_Q4_1 && type != GGML_TYPE_Q5_1)
                    assert_true(decoded[c] == 0.0f);
            }
            for (int64_t c = 0; c < C; c++) {
                assert_true(q.dequant[r * C + c] == decoded[c]);
                const int64_t b0 = c / bs * bs;
                const double e = fabs((double)q.dequant[r * C + c] - row[c]);
                const double bound = ggml_bound(type, row + b0, bs, (int)(c - b0));
                if (!(e <= bound))
                    fail_msg("%s: |e| = %g > %g at [%lld, %lld]", tr->name, e, bound, (long long)r,
                             (long long)c);
            }
        }
        qtensor_free(&q);
    }
    free(w);
}

/* --------------------------------------------------- special inputs */

static void test_qtensor_all_zero(void **state) {
    (void)state;
    float w[4 * 40] = {0};
    Format all[84 + N_GGML_TYPES];
    int n = all_teach(all);
    for (size_t t = 0; t < N_GGML_TYPES; t++) all[n++] = format_ggml(GGML_TYPES[t]);
    for (int i = 0; i < n; i++) {
        QTensor q;
        quantize_ok(&q, w, 4, 40, all[i], NULL);
        for (int j = 0; j < 160; j++) assert_true(q.dequant[j] == 0.0f);
        for (int64_t g = 0; g < q.n_groups; g++) {
            assert_true(q.scales[g] == 0.0f);
            if (q.zeros) assert_int_equal(q.zeros[g], 0);
        }
        if (q.codes)
            for (int j = 0; j < 160; j++) assert_int_equal(q.codes[j], 0);
        qtensor_free(&q);
    }
}

/* Blocks of tiny values (largest |w| from 1e-38 down to 1e-44): every scale is
 * below FP16's smallest subnormal 2^-24 = 6e-8, so everything decodes to 0, in
 * every format. For the GGML types 1/d overflows float here; the reference
 * quantizers treat that scale as 0 (types.c, recip_or_zero), so the codes are
 * those of 0 (Q8_0: 0; Q4_0: 8 in both nibbles = 0x88) and, under the sanitizers,
 * no conversion of inf or NaN to an integer happens. */
static void test_qtensor_tiny_blocks(void **state) {
    (void)state;
    static const float tiny[] = {1e-38f, 3e-39f, 1e-40f, 1e-44f};
    float w[64];
    Format all[84 + N_GGML_TYPES];
    int n = all_teach(all);
    for (size_t t = 0; t < N_GGML_TYPES; t++) all[n++] = format_ggml(GGML_TYPES[t]);
    for (size_t v = 0; v < sizeof tiny / sizeof tiny[0]; v++) {
        for (int j = 0; j < 64; j++) w[j] = j % 3 == 0 ? 0.0f : j % 3 == 1 ? tiny[v] : -tiny[v] / 2;
        for (int i = 0; i < n; i++) {
            QTensor q;
            quantize_ok(&q, w, 2, 32, all[i], NULL);
            const bool plain = all[i].kind == FORMAT_GGML && all[i].type <= GGML_TYPE_F16;
            const bool bf16 = all[i].kind == FORMAT_GGML && all[i].type == GGML_TYPE_BF16;
            for (int j = 0; j < 64; j++) {
                if (plain || bf16) continue; /* F32 keeps them; F16 and BF16 checked below */
                assert_true(q.dequant[j] == 0.0f);
            }
            if (all[i].kind == FORMAT_GGML && all[i].type == GGML_TYPE_Q8_0)
                for (int j = 0; j < 32; j++) assert_int_equal(((BlockQ8_0 *)q.blocks)->qs[j], 0);
            if (all[i].kind == FORMAT_GGML && all[i].type == GGML_TYPE_Q4_0)
                for (int j = 0; j < 16; j++) assert_int_equal(((BlockQ4_0 *)q.blocks)->qs[j], 0x88);
            if (all[i].kind == FORMAT_GGML && all[i].type == GGML_TYPE_F16)
                for (int j = 0; j < 64; j++) assert_true(q.dequant[j] == 0.0f); /* < 2^-25 */
            if (bf16) /* float's exponent range: 2^-8 relative, or half of BF16's
                         * step among float subnormals, 2^-149 * 2^16 / 2 = 2^-134 */
                for (int j = 0; j < 64; j++)
                    assert_true(fabs(q.dequant[j] - w[j]) <= fabs(w[j]) / 256 + 0x1p-134);
            qtensor_free(&q);
        }
    }
}

/* Scales beyond FP16's largest value, 65504. INT8 per tensor on {1e7, -1e7, 1000, 0}:
 * s = 1e7/127 = 78740 saturates at 65504, so +-1e7 / 65504 = +-152.7 clamp to
 * +-127 -> +-127 * 65504 = +-8319008 (error 1.68e6, shown, not hidden), and
 * 1000 / 65504 = 0.015 -> 0. Q8_0 keeps ggml's behaviour: d = 78740 is inf in
 * FP16, so the block decodes to inf (127 * inf) and NaN (0 * inf). */
static void test_qtensor_scale_beyond_fp16(void **state) {
    (void)state;
    float w[32] = {1e7f, -1e7f, 1000.0f, 0.0f};
    QTensor q;
    quantize_ok(&q, w, 1, 4, format_teach(8, GRAN_TENSOR, 0, false), NULL);
    assert_true(q.scales[0] == 65504.0f);
    assert_int_equal(q.codes[0], 127);
    assert_int_equal(q.codes[1], -127);
    assert_int_equal(q.codes[2], 0);
    assert_true(q.dequant[0] == 8319008.0f && q.dequant[1] == -8319008.0f);
    assert_true(q.dequant[2] == 0.0f && q.dequant[3] == 0.0f);
    qtensor_free(&q);
    quantize_ok(&q, w, 1, 32, FORMAT_INT8, NULL);
    assert_true(isinf(q.dequant[0]) && q.dequant[0] > 0);
    assert_true(isnan(q.dequant[3]));
    qtensor_free(&q);
}

static void expect_refused(const float *w, int64_t rows, int64_t cols, Pool *pool,
                           const char *needle) {
    QTensor q;
    Error err = {0};
    memset(&q, 0xAB, sizeof q);
    assert_int_equal(qtensor_quantize(&q, w, rows, cols, FORMAT_INT4, pool, &err), ST_FORMAT);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_null(strchr(err.msg, '\n'));
    assert_null(q.dequant);
    assert_null(q.blocks);
    qtensor_free(&q); /* safe on the emptied struct */
}

static void test_qtensor_refuses_non_finite(void **state) {
    (void)state;
    float w[4 * 16] = {0};
    w[37] = NAN; /* 37 = row 2 * 16 + column 5 */
    expect_refused(w, 4, 16, NULL, "weight 37 (row 2, column 5) is NaN");
    w[37] = INFINITY;
    expect_refused(w, 4, 16, NULL, "weight 37 (row 2, column 5) is +inf");
    w[37] = -INFINITY;
    w[50] = NAN;
    expect_refused(w, 4, 16, NULL, "weight 37 (row 2, column 5) is -inf");

    /* large enough to be split over the pool: the first bad index still wins */
    const int64_t R = 300, C = 300;
    float *big = calloc(R * C, sizeof *big);
    big[89999] = NAN;
    big[60001] = INFINITY; /* row 200, column 1 */
    Pool *pool = pool_new(2);
    expect_refused(big, R, C, pool, "weight 60001 (row 200, column 1) is +inf");
    pool_delete(pool);
    free(big);
}

static void test_qtensor_refuses_bad_requests(void **state) {
    (void)state;
    float w[64] = {0};
    QTensor q;
    Error err = {0};
    assert_int_equal(qtensor_quantize(&q, w, 1, 64, format_ggml(GGML_TYPE_Q4_K), NULL, &err),
                     ST_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "q4_K"));
    assert_int_equal(qtensor_quantize(&q, w, 1, 64, format_ggml(GGML_TYPE_Q8_1), NULL, &err),
                     ST_UNSUPPORTED);
    assert_int_equal(qtensor_quantize(&q, w, 1, 64, format_teach(9, GRAN_ROW, 0, 0), NULL, &err),
                     ST_UNSUPPORTED);
    assert_int_equal(qtensor_quantize(&q, w, 0, 64, FORMAT_INT4, NULL, &err), ST_USAGE);
    assert_int_equal(qtensor_quantize(&q, w, 1, 0, FORMAT_INT4, NULL, &err), ST_USAGE);
    assert_null(q.dequant);
}

/* One outlier of 100 at index 0 of a 1 x 256 row whose other values are +-0.05.
 *  INT8 per tensor: s = 100/127 = 0.787401; FP16 step 2^-11 in [0.5, 1):
 *    1612.6 -> 1613 * 2^-11 = 0.78759765625. |0.05 / s| = 0.063 -> 0: all 255 small
 *    values are zeroed, error 0.05 each; the outlier 127 s = 100.02490234375.
 *  INT8 per block of 32: block 0 as above (31 small values zeroed); blocks 1..7
 *    have s = 0.05/127 = 3.93701e-4; FP16 step 2^-22 there: 1651.32 -> 1651 * 2^-22
 *    = 3.936290741e-4; 0.05/s = 127.02 -> 127, decoded 209677 * 2^-22 =
 *    0.04999089241, error 0.05f - that = 9.108e-6, 5490 times smaller. */
static void test_qtensor_outlier_tensor_vs_block(void **state) {
    (void)state;
    float w[256];
    w[0] = 100.0f;
    for (int j = 1; j < 256; j++) w[j] = j % 2 ? 0.05f : -0.05f;
    QTensor qt, qb;
    quantize_ok(&qt, w, 1, 256, format_teach(8, GRAN_TENSOR, 0, false), NULL);
    quantize_ok(&qb, w, 1, 256, format_teach(8, GRAN_BLOCK, 32, false), NULL);
    assert_true(qt.scales[0] == 0.78759765625f);
    assert_true(qt.dequant[0] == 100.02490234375f);
    assert_true(qb.scales[1] == (float)(1651 * 0x1p-22));
    const double small_err_block = (double)0.05f - 209677 * 0x1p-22;
    assert_near(small_err_block, 9.108e-6, 1e-9);
    int zeroed_t = 0, zeroed_b = 0;
    for (int j = 1; j < 256; j++) {
        zeroed_t += qt.dequant[j] == 0.0f;
        zeroed_b += qb.dequant[j] == 0.0f;
        if (j >= 32) {
            assert_near(fabs(qt.dequant[j] - w[j]), (double)0.05f, 0);
            assert_near(fabs((double)qb.dequant[j] - w[j]), small_err_block, 0);
        }
    }
    assert_int_equal(zeroed_t, 255);
    assert_int_equal(zeroed_b, 31);
    /* RMSE, by hand: per tensor sqrt((255 * 0.05^2 + 0.0249^2) / 256) = 0.049926;
     * per block sqrt((31 * 0.05^2 + 0.0249^2 + 224 * (9.108e-6)^2) / 256) = 0.017469 */
    WeightStats st, sb;
    stats_compute(w, qt.dequant, 256, NULL, &st);
    stats_compute(w, qb.dequant, 256, NULL, &sb);
    assert_near(st.rmse, 0.049926, 1e-6);
    assert_near(sb.rmse, 0.017469, 1e-6);
    qtensor_free(&qt);
    qtensor_free(&qb);
}

/* ------------------------------------------------ views and threads */

static void test_qtensor_view(void **state) {
    (void)state;
    float *w = make_test_matrix(3, 172, 3);
    static const uint32_t types[] = {GGML_TYPE_F32, GGML_TYPE_Q4_0, GGML_TYPE_Q8_0};
    for (size_t t = 0; t < 3; t++) {
        QTensor q;
        quantize_ok(&q, w, 3, 172, format_ggml(types[t]), NULL);
        MatView v = qtensor_view(&q);
        assert_int_equal(v.rows, 3);
        assert_int_equal(v.cols, 172); /* logical columns, never the padding */
        if (matvec_supports(types[t])) {
            assert_true(qtensor_runs_natively(&q));
            assert_int_equal(v.type, types[t]);
            assert_ptr_equal(v.data, q.blocks);
            assert_int_equal(v.row_bytes, q.row_bytes);
        } else {
            assert_false(qtensor_runs_natively(&q));
            assert_int_equal(v.type, GGML_TYPE_F32);
            assert_ptr_equal(v.data, q.dequant);
            assert_int_equal(v.row_bytes, 172 * sizeof(float));
        }
        qtensor_free(&q);
    }
    QTensor q;
    quantize_ok(&q, w, 3, 172, format_teach(4, GRAN_BLOCK, 32, true), NULL);
    assert_false(qtensor_runs_natively(&q));
    MatView v = qtensor_view(&q);
    assert_int_equal(v.type, GGML_TYPE_F32);
    assert_ptr_equal(v.data, q.dequant);
    qtensor_free(&q);
    free(w);
}

/* 300 x 300 = 90000 weights: large enough to be split over the pool. */
static void test_qtensor_threaded_same_as_single(void **state) {
    (void)state;
    const int64_t R = 300, C = 300;
    float *w = make_test_matrix(R, C, 99);
    Pool *pool = pool_new(2);
    const Format fs[] = {FORMAT_INT4, format_ggml(GGML_TYPE_Q5_1),
                         format_teach(4, GRAN_TENSOR, 0, true),
                         format_teach(3, GRAN_BLOCK, 64, false),
                         format_teach(8, GRAN_ROW, 0, true)};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        QTensor a, b;
        quantize_ok(&a, w, R, C, fs[i], NULL);
        quantize_ok(&b, w, R, C, fs[i], pool);
        assert_memory_equal(a.dequant, b.dequant, R * C * sizeof(float));
        if (a.blocks) assert_memory_equal(a.blocks, b.blocks, R * a.row_bytes);
        if (a.codes) {
            assert_memory_equal(a.codes, b.codes, R * C * sizeof(int16_t));
            assert_memory_equal(a.scales, b.scales, a.n_groups * sizeof(float));
        }
        if (fs[i].kind == FORMAT_TEACH) check_teach_budget(&b, w);
        qtensor_free(&a);
        qtensor_free(&b);
    }
    pool_delete(pool);
    free(w);
}

/* ------------------------------------- llama.cpp's files (outside reference) */

/* llama.cpp's files, copied into tests/data (see its README), read with
 * gguf_open: test_gguf checks that reader against gguf-py's dumps of them. */
static void open_ref(GgufFile *f, const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/stories260K-%s.gguf", file);
    Error err = {0};
    if (gguf_open(f, proc_data_path(rel), &err) != ST_OK) fail_msg("%s", err.msg);
    assert_int_equal(f->version, 3);
}

/* Every tensor llama.cpp quantized in stories260K-<type>.gguf is byte for byte what
 * qtensor_quantize makes of the same tensor in stories260K-f32.gguf; and for each
 * tensor llama-quantize-stats measured (reference quantizer), our RMSE and max
 * error equal its printed figures (8 decimals; it subtracts in float, we in
 * double, hence 1e-8). */
static void test_qtensor_matches_llama_cpp_files(void **state) {
    (void)state;
    GgufFile f32;
    open_ref(&f32, "f32");
    static const struct {
        const char *file;
        uint32_t type;
        int expect_tensors; /* 2-D weights llama.cpp stored in that type */
    } refs[] = {
        {"q8_0", GGML_TYPE_Q8_0, 32}, {"q4_0", GGML_TYPE_Q4_0, 32}, {"q4_1", GGML_TYPE_Q4_1, 32},
        {"q5_0", GGML_TYPE_Q5_0, 32}, {"q5_1", GGML_TYPE_Q5_1, 32},
        {"f16", GGML_TYPE_F16, 37},   {"bf16", GGML_TYPE_BF16, 37},
    };
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
        GgufFile qf;
        open_ref(&qf, refs[k].file);
        int matched = 0;
        for (uint64_t i = 0; i < qf.n_tensors; i++) {
            const GgufTensorInfo *t = &qf.tensors[i];
            if (t->type != refs[k].type) continue;
            const GgufTensorInfo *src = gguf_find_tensor(&f32, t->name);
            assert_non_null(src);
            assert_int_equal(src->type, GGML_TYPE_F32);
            QTensor q;
            quantize_ok(&q, (const float *)src->data, (int64_t)src->ne[1], (int64_t)src->ne[0],
                        format_ggml(t->type), NULL);
            if (memcmp(q.blocks, t->data, (size_t)q.rows * q.row_bytes) != 0)
                fail_msg("%s: tensor %s differs from llama.cpp's", refs[k].file, t->name);
            qtensor_free(&q);
            matched++;
        }
        assert_int_equal(matched, refs[k].expect_tensors);
        gguf_close(&qf);

        /* quantize-stats-<type>.txt: "q4_0::NAME   : rmse X, maxerr Y, ..." */
        char rel[256];
        snprintf(rel, sizeof rel, "tests/data/quantize-stats/quantize-stats-%s.txt", refs[k].file);
        FILE *fp = fopen(proc_data_path(rel), "r");
        if (!fp) continue; /* none for f16 / bf16 */
        char line[512];
        int checked = 0;
        while (fgets(line, sizeof line, fp)) {
            char name[128];
            double rmse, maxerr;
            char *sep = strstr(line, "::");
            if (!sep || sscanf(sep + 2, "%127s : rmse %lf, maxerr %lf", name, &rmse, &maxerr) != 3)
                continue;
            const GgufTensorInfo *src = gguf_find_tensor(&f32, name);
            assert_non_null(src);
            QTensor q;
            quantize_ok(&q, (const float *)src->data, (int64_t)src->ne[1], (int64_t)src->ne[0],
                        format_ggml(refs[k].type), NULL);
            WeightStats s;
            stats_compute((const float *)src->data, q.dequant, (int64_t)src->n_elements, NULL, &s);
            if (fabs(s.rmse - rmse) > 1e-8 || fabs(s.max_abs_err - maxerr) > 1e-8)
                fail_msg("%s %s: rmse %.8f maxerr %.8f, llama.cpp %.8f %.8f", refs[k].file, name,
                         s.rmse, s.max_abs_err, rmse, maxerr);
            qtensor_free(&q);
            checked++;
        }
        fclose(fp);
        assert_int_equal(checked, 43); /* every tensor but ffn_down, norms included */
    }
    gguf_close(&f32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qtensor_q8_0_known_codes),
        cmocka_unit_test(test_qtensor_q4_0_known_codes),
        cmocka_unit_test(test_qtensor_int2_sym_three_levels),
        cmocka_unit_test(test_qtensor_int3_asym_eight_levels),
        cmocka_unit_test(test_qtensor_asym_one_signed_group),
        cmocka_unit_test(test_qtensor_teach_error_budget),
        cmocka_unit_test(test_qtensor_ggml_padding_and_budget),
        cmocka_unit_test(test_qtensor_all_zero),
        cmocka_unit_test(test_qtensor_tiny_blocks),
        cmocka_unit_test(test_qtensor_scale_beyond_fp16),
        cmocka_unit_test(test_qtensor_refuses_non_finite),
        cmocka_unit_test(test_qtensor_refuses_bad_requests),
        cmocka_unit_test(test_qtensor_outlier_tensor_vs_block),
        cmocka_unit_test(test_qtensor_view),
        cmocka_unit_test(test_qtensor_threaded_same_as_single),
        cmocka_unit_test(test_qtensor_matches_llama_cpp_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
