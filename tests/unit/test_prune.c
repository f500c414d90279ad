/* test_prune.c — pruning and outlier splits: which weights are chosen (counted and
 * compared against the rules written in format.h, on data where the answer is
 * known), what round-to-nearest makes of them, and the side list's products.
 *   - 2:4 leaves exactly two non-zeros in every group of four (at most two when
 *     the group holds zeros), and they are the two largest;
 *   - +pruneP zeroes exactly floor(P * n / 100) weights, the smallest;
 *   - +out0% reproduces the dense quantization bit for bit; an injected outlier is
 *     kept exactly and the rest of the tensor keeps its resolution;
 *   - matvec adds the side list to the dense product. */
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
#include "quant/format.h"
#include "quant/matvec.h"
#include "quant/prune.h"
#include "quant/qtensor.h"
#include "quant/stats.h"
#include "quant/types.h"

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static double rng_uniform(void) { /* [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static float *random_weights(int64_t n, uint64_t seed) {
    float *w = malloc((size_t)n * sizeof *w);
    rng_seed(seed);
    for (int64_t i = 0; i < n; i++) {
        float v;
        do v = (float)(0.1 * rng_uniform());
        while (v == 0.0f); /* no zeros: every count below is exact */
        w[i] = v;
    }
    return w;
}

static Format parse(const char *name) {
    Format f;
    Error err;
    if (format_parse(name, &f, &err) != ST_OK) fail_msg("%s", err.msg);
    return f;
}

static void quantize_ok(QTensor *q, const float *w, int64_t rows, int64_t cols, const char *fmt) {
    Error err = {0};
    if (qtensor_quantize(q, w, rows, cols, parse(fmt), NULL, &err) != ST_OK) fail_msg("%s: %s", fmt, err.msg);
}

/* ------------------------------------------------------------- 2:4 */

static void test_prune_2_4_two_of_four(void **state) {
    (void)state;
    const int64_t rows = 9, cols = 172;
    float *w = random_weights(rows * cols, 1);
    QTensor q;
    quantize_ok(&q, w, rows, cols, "f32+2:4");
    for (int64_t r = 0; r < rows; r++)
        for (int64_t g = 0; g < cols; g += 4) {
            const float *x = w + r * cols + g, *d = q.dequant + r * cols + g;
            int nz = 0;
            for (int k = 0; k < 4; k++) {
                nz += d[k] != 0.0f;
                if (d[k] != 0.0f) assert_true(d[k] == x[k]); /* f32 keeps kept values exactly */
            }
            assert_int_equal(nz, 2);
            /* every kept weight is at least as large as every pruned one */
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    if (d[a] != 0.0f && d[b] == 0.0f) assert_true(fabsf(x[a]) >= fabsf(x[b]));
        }
    qtensor_free(&q);

    /* ties keep the earlier weight; a group with zeros keeps at most two non-zeros
     * (here: a zero and 0.3); a short last group of 2 keeps both */
    const float t[14] = {0.5f, -0.5f, 0.5f, 0.1f, 0.0f, 0.0f, 0.0f, 0.3f,
                         0.2f, 0.0f, -0.2f, 0.0f, 0.7f, 0.1f};
    uint8_t mask[14];
    prune_mark_2_4(t, 1, 14, mask);
    static const uint8_t want[14] = {0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    assert_memory_equal(mask, want, 14);
    float t3[7] = {0.1f, 0.2f, 0.3f, 0.4f, 0.9f, -0.05f, 0.8f}; /* tail of 3: prunes -0.05 */
    uint8_t m3[7];
    prune_mark_2_4(t3, 1, 7, m3);
    static const uint8_t w3[7] = {1, 1, 0, 0, 0, 1, 0};
    assert_memory_equal(m3, w3, 7);

    /* quantized: Q4_0 keeps the zeros (0 has the code 8, which decodes to 0) */
    quantize_ok(&q, w, rows, cols, "q4_0+2:4");
    int64_t zeros = 0;
    for (int64_t i = 0; i < rows * cols; i++) zeros += q.dequant[i] == 0.0f;
    assert_true(zeros >= rows * cols / 2);
    /* dense: no smaller; 9 rows of 172 in 6 blocks of 18 bytes */
    assert_true(q.bytes == format_tensor_bytes(FORMAT_INT4, rows, cols));
    assert_true(q.bytes == 9 * 6 * 18);
    qtensor_free(&q);
    free(w);
}

/* --------------------------------------------------------- unstructured */

static void test_prune_unstructured_count_and_order(void **state) {
    (void)state;
    const int64_t rows = 13, cols = 77, n = rows * cols; /* 1001 weights */
    float *w = random_weights(n, 2);
    static const int pcts[] = {1, 10, 50, 90, 99};
    for (size_t k = 0; k < 5; k++) {
        uint8_t *mask = malloc((size_t)n);
        Error err;
        assert_int_equal(prune_mark_smallest(w, n, pcts[k], mask, &err), ST_OK);
        int64_t pruned = 0;
        float smallest_kept = INFINITY, largest_pruned = 0;
        for (int64_t i = 0; i < n; i++) {
            if (mask[i] == MASK_PRUNED) {
                pruned++;
                largest_pruned = fmaxf(largest_pruned, fabsf(w[i]));
            } else {
                smallest_kept = fminf(smallest_kept, fabsf(w[i]));
            }
        }
        assert_int_equal(pruned, n * pcts[k] / 100); /* floor: 10, 100, 500, 900, 990 of 1001 */
        assert_true(largest_pruned <= smallest_kept);
        free(mask);
        char name[32];
        snprintf(name, sizeof name, "f32+prune%d", pcts[k]);
        QTensor q;
        quantize_ok(&q, w, rows, cols, name);
        int64_t zeros = 0;
        for (int64_t i = 0; i < n; i++) zeros += q.dequant[i] == 0.0f;
        assert_int_equal(zeros, n * pcts[k] / 100); /* the weights hold no zeros of their own */
        assert_int_equal(zeros, format_prune_count(parse(name), rows, cols));
        qtensor_free(&q);
    }
    /* ties: the later index is pruned first */
    const float t[6] = {0.3f, 0.1f, 0.2f, 0.1f, 0.1f, 0.4f};
    uint8_t m[6];
    Error err;
    assert_int_equal(prune_mark_smallest(t, 6, 34, m, &err), ST_OK); /* floor(6 * 0.34) = 2 */
    static const uint8_t want[6] = {0, 0, 0, 1, 1, 0};
    assert_memory_equal(m, want, 6);
    free(w);
}

/* ------------------------------------------------------------- outliers */

static void test_prune_outlier_selection(void **state) {
    (void)state;
    const float t[8] = {0.1f, -0.9f, 0.3f, 0.9f, -0.2f, 0.5f, 0.0f, -0.5f};
    uint8_t m[8];
    Error err;
    memset(m, MASK_KEEP, 8);
    assert_int_equal(prune_mark_largest(t, 8, 3, m, &err), ST_OK);
    /* |0.9| twice, then 0.5 and -0.5 tie: the earlier (index 5) goes */
    static const uint8_t want[8] = {0, 2, 0, 2, 0, 2, 0, 0};
    assert_memory_equal(m, want, 8);
    /* among survivors only: prune first, then outliers */
    uint8_t *mask;
    /* 25% is above what formats allow (10%), but the selection itself takes any share */
    const Format f25 = format_with_outliers(format_with_prune(FORMAT_INT8, PRUNE_2_4, 0), 2500);
    assert_int_equal(prune_mask_build(t, 2, 4, f25, &mask, &err), ST_OK);
    /* rows {0.1,-0.9,0.3,0.9} keep -0.9, 0.9; {-0.2,0.5,0.0,-0.5} keep 0.5, -0.5; then 2 outliers of 8 */
    static const uint8_t want2[8] = {1, 2, 1, 2, 1, 0, 1, 0};
    assert_memory_equal(mask, want2, 8);
    free(mask);
    assert_int_equal(prune_mask_build(t, 2, 4, FORMAT_INT4, &mask, &err), ST_OK);
    assert_null(mask); /* nothing to choose: no mask */
}

static void expect_same(const QTensor *a, const QTensor *b) {
    const int64_t n = a->rows * a->cols;
    if (a->blocks) assert_memory_equal(a->blocks, b->blocks, (size_t)a->rows * a->row_bytes);
    if (a->codes) assert_memory_equal(a->codes, b->codes, (size_t)n * sizeof *a->codes);
    if (a->scales) assert_memory_equal(a->scales, b->scales, (size_t)a->n_groups * sizeof *a->scales);
    assert_memory_equal(a->dequant, b->dequant, (size_t)n * sizeof(float));
}

/* k = 0: the split code path with an empty side list gives the dense result bit
 * for bit, for a block format, a per-tensor one and an asymmetric one. */
static void test_prune_out0_is_dense(void **state) {
    (void)state;
    const int64_t rows = 7, cols = 172;
    float *w = random_weights(rows * cols, 3);
    static const char *const pairs[][2] = {{"q4_0", "q4_0+out0%"},
                                           {"int4-tensor-sym", "int4-tensor-sym+out0%"},
                                           {"int3-b64-asym", "int3-b64-asym+out0%"},
                                           {"q4_1", "q4_1+out0%"}};
    for (size_t k = 0; k < 4; k++) {
        QTensor a, b;
        quantize_ok(&a, w, rows, cols, pairs[k][0]);
        quantize_ok(&b, w, rows, cols, pairs[k][1]);
        expect_same(&a, &b);
        assert_int_equal(b.n_outliers, 0);
        assert_non_null(b.sp_row); /* the split ran */
        assert_true(a.bytes == b.bytes);
        qtensor_free(&a);
        qtensor_free(&b);
    }
    free(w);
}

/* One weight 50 times the largest: a per-tensor INT4 scale becomes 50 max / 7, so
 * every other weight (|w| <= max < half a step = 3.57 max) rounds to 0 and the
 * tensor keeps 2 levels; splitting the outlier off (+out0.1%: 1 of 1204) keeps it
 * exactly (it is an FP16 value) and gives the rest back a scale of max / 7. */
static void test_prune_split_contains_injected_outlier(void **state) {
    (void)state;
    const int64_t rows = 7, cols = 172, n = rows * cols;
    float *w = random_weights(n, 4);
    float max = 0;
    for (int64_t i = 0; i < n; i++) max = fmaxf(max, fabsf(w[i]));
    const int64_t at = 3 * cols + 17;
    w[at] = 50.0f * max;
    QTensor plain, split;
    quantize_ok(&plain, w, rows, cols, "int4-tensor-sym");
    quantize_ok(&split, w, rows, cols, "int4-tensor-sym+out0.1%");
    WeightStats sp, ss;
    stats_compute(w, plain.dequant, n, NULL, &sp);
    stats_compute(w, split.dequant, n, NULL, &ss);
    assert_int_equal(sp.n_levels, 2);                 /* 0 and the outlier */
    assert_true(sp.zeroed == (double)(n - 1) / (double)n);
    assert_int_equal(split.n_outliers, 1);
    assert_int_equal(split.sp_col[0], 17);
    assert_true(split.dequant[at] == half_to_f32(half_from_f32(w[at])));
    assert_true(ss.n_levels >= 14);                   /* the rest spans -7..7 steps again */
    /* error of the rest: at most half a step (max / 7 / 2) per weight, versus
     * the whole weight (RMS about max / sqrt(3) for uniform weights) */
    assert_true(ss.max_abs_err <= max / 14.0 * 1.001 + fabsf(w[at]) * 1e-3);
    assert_true(ss.rmse < 0.2 * sp.rmse);
    /* the split's bytes: dense + 6 */
    assert_true(split.bytes == plain.bytes + FORMAT_OUTLIER_BYTES);
    qtensor_free(&plain);
    qtensor_free(&split);

    /* per block (Q4_0): the outlier only coarsens its own block of 32 (d = 50 max
     * / 8, so its 31 neighbours round to 0); every other block is bit for bit what
     * it was without the outlier */
    QTensor blk, clean;
    quantize_ok(&blk, w, rows, cols, "q4_0");
    const float keep = w[at];
    w[at] = 0.01f;
    quantize_ok(&clean, w, rows, cols, "q4_0");
    w[at] = keep;
    const int64_t b0 = 3 * cols + (17 / 32) * 32;
    int zeros_in_block = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i >= b0 && i < b0 + 32) zeros_in_block += blk.dequant[i] == 0.0f;
        else assert_true(blk.dequant[i] == clean.dequant[i]);
    }
    assert_int_equal(zeros_in_block, 31);
    qtensor_free(&blk);
    qtensor_free(&clean);
    free(w);
}

/* The side list is added to the product and to row lookups. */
static void test_prune_side_list_in_products(void **state) {
    (void)state;
    const int64_t rows = 40, cols = 64;
    float *w = random_weights(rows * cols, 5);
    float x[64];
    for (int i = 0; i < 64; i++) x[i] = (float)rng_uniform();
    QTensor q;
    quantize_ok(&q, w, rows, cols, "q8_0+out2%");
    assert_int_equal(q.n_outliers, 51); /* floor(2560 * 0.02) */
    MatView with = qtensor_view(&q), without = with;
    without.sp_row = NULL;
    assert_non_null(with.sp_row);
    assert_int_equal(with.type, GGML_TYPE_Q8_0);
    float *scratch = malloc(matvec_scratch_bytes(cols)), y1[40], y2[40], row[64];
    matvec(NULL, y1, &with, x, scratch);
    matvec(NULL, y2, &without, x, scratch);
    for (int64_t r = 0; r < rows; r++) {
        double side = 0;
        for (int64_t k = q.sp_row[r]; k < q.sp_row[r + 1]; k++) side += (double)q.sp_val[k] * x[q.sp_col[k]];
        assert_true(fabs((double)y1[r] - y2[r] - side) < 1e-5);
        matview_row_to_float(&with, r, row);
        assert_memory_equal(row, q.dequant + r * cols, sizeof row);
    }
    free(scratch);
    qtensor_free(&q);
    /* a teaching split runs from dequant, which holds the outliers already */
    quantize_ok(&q, w, rows, cols, "int4-b32-sym+out2%");
    MatView v = qtensor_view(&q);
    assert_int_equal(v.type, GGML_TYPE_F32);
    assert_null(v.sp_row);
    qtensor_free(&q);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_2_4_two_of_four),
        cmocka_unit_test(test_prune_unstructured_count_and_order),
        cmocka_unit_test(test_prune_outlier_selection),
        cmocka_unit_test(test_prune_out0_is_dense),
        cmocka_unit_test(test_prune_split_contains_injected_outlier),
        cmocka_unit_test(test_prune_side_list_in_products),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
