/* test_outliers.c — outlier facts (quant/outliers.c) against moments worked by
 * hand, and injecting an outlier into the model (model/inject.c):
 *   - a per-tensor INT4 scale collapses the tensor onto a few levels, most weights
 *     onto 0 (the numbers follow from the scale: see the test), while per-block
 *     scales change only the outlier's own block;
 *   - the cache hands out a new copy after an injection, also where the file's
 *     own bytes stood in for the tensor;
 *   - restoring gives back the model bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc.h"
#include "model/inject.h"
#include "model/qcache.h"
#include "quant/outliers.h"
#include "quant/stats.h"
#include "quant/types.h"

/* {-2, -1, -1, 0, 0, 1, 1, 2}: mean 0, m2 = 12/8 = 1.5, m4 = 36/8 = 4.5, kurtosis
 * m4 / m2^2 = 2; max|w| / std = 2 / sqrt(1.5) = 1.63299. The two 2s come first
 * (-2 at index 0 before 2 at index 7), then the earliest -1. */
static void test_outliers_facts_by_hand(void **state) {
    (void)state;
    const float w[8] = {-2, -1, -1, 0, 0, 1, 1, 2};
    OutlierFacts f;
    Error err;
    assert_int_equal(outliers_facts(w, 2, 4, 3, &f, &err), ST_OK);
    assert_true(f.mean == 0.0);
    assert_true(fabs(f.std - sqrt(1.5)) < 1e-15);
    assert_true(fabs(f.kurtosis - 2.0) < 1e-15);
    assert_true(fabs(f.max_over_std - 2.0 / sqrt(1.5)) < 1e-15);
    assert_int_equal(f.n_top, 3);
    assert_true(f.top[0].value == -2 && f.top[0].row == 0 && f.top[0].col == 0);
    assert_true(f.top[1].value == 2 && f.top[1].row == 1 && f.top[1].col == 3);
    assert_true(f.top[2].value == -1 && f.top[2].row == 0 && f.top[2].col == 1);
    assert_int_equal(f.beyond_3std, 0);
    /* one value far out: 99 zeros and a 10: mean 0.1, m2 = 0.99, |10 - 0.1| = 9.95 std */
    float v[100] = {0};
    v[42] = 10;
    assert_int_equal(outliers_facts(v, 10, 10, 1, &f, &err), ST_OK);
    assert_true(fabs(f.std - sqrt(0.99)) < 1e-12);
    assert_int_equal(f.beyond_6std, 1);
    assert_true(f.top[0].row == 4 && f.top[0].col == 2);
    /* m4 = (99 * 0.1^4 + 9.9^4) / 100; kurtosis = m4 / 0.99^2 */
    const double m4 = (99 * 1e-4 + pow(9.9, 4)) / 100;
    assert_true(fabs(f.kurtosis - m4 / (0.99 * 0.99)) < 1e-9);
    assert_int_equal(outliers_facts(v, 0, 10, 1, &f, &err), ST_USAGE);
}

/* ------------------------------------------------------------- injection */

static Model *model;

static int setup(void **state) {
    (void)state;
    Error err = {0};
    if (model_open(&model, proc_data_path("assets/stories260K.gguf"), NULL, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    model_close(model);
    return 0;
}

/* blk.0.attn_q (64 x 64, max|w| 1.594, std 0.236). Its largest weight times 20
 * makes a per-tensor INT4 scale s = 20 * 1.594 / 7 = 4.55: a weight rounds to 0
 * unless |w| >= s / 2 = 2.28, which no other weight reaches (max 1.594), so every
 * other weight becomes 0 and two levels remain (0 and the outlier). Per block of
 * 32, only the outlier's block changes. */
static void test_outliers_inject_collapses_per_tensor_scale(void **state) {
    (void)state;
    const int i = model->layers[0].attn_q;
    ModelTensor *t = &model->tensors[i];
    const int64_t n = t->n_elements;
    float *saved = malloc((size_t)n * sizeof *saved);
    memcpy(saved, t->f32, (size_t)n * sizeof *saved);
    OutlierFacts f;
    Error err;
    assert_int_equal(outliers_facts(t->f32, t->rows, t->cols, 1, &f, &err), ST_OK);
    const int64_t row = f.top[0].row, col = f.top[0].col;

    QuantCache *cache = qcache_new(model, NULL);
    const Format per_tensor = format_teach(4, GRAN_TENSOR, 0, false), per_block = format_teach(4, GRAN_BLOCK, 32, false);
    const QTensor *q;
    assert_int_equal(qcache_get(cache, i, per_tensor, &q, &err), ST_OK);
    WeightStats before;
    stats_compute(t->f32, q->dequant, n, NULL, &before);
    assert_true(before.n_levels >= 13);
    float *block_before = malloc((size_t)n * sizeof *block_before);
    assert_int_equal(qcache_get(cache, i, per_block, &q, &err), ST_OK);
    memcpy(block_before, q->dequant, (size_t)n * sizeof *block_before);

    WeightEdits log = {0};
    assert_int_equal(model_inject_outlier(model, cache, &log, i, row, col, 20.0, &err), ST_OK);
    assert_true(t->f32[row * t->cols + col] == (float)((double)saved[row * t->cols + col] * 20.0));
    assert_int_equal(qcache_get(cache, i, per_tensor, &q, &err), ST_OK);
    WeightStats after;
    stats_compute(t->f32, q->dequant, n, NULL, &after);
    assert_int_equal(after.n_levels, 2);
    assert_true(after.zeroed == (double)(n - 1) / (double)n); /* no weight of attn_q is exactly 0 */
    print_message("per tensor: %lld levels, %.1f%% rounded to 0 before; %lld and %.1f%% after\n",
                  (long long)before.n_levels, 100 * before.zeroed, (long long)after.n_levels, 100 * after.zeroed);
    assert_int_equal(qcache_get(cache, i, per_block, &q, &err), ST_OK);
    const int64_t b0 = row * t->cols + col / 32 * 32;
    int changed_outside = 0;
    for (int64_t k = 0; k < n; k++)
        if ((k < b0 || k >= b0 + 32) && q->dequant[k] != block_before[k]) changed_outside++;
    assert_int_equal(changed_outside, 0);

    /* out of range, not a matrix, not finite: refused, nothing changes */
    assert_int_equal(model_inject_outlier(model, cache, &log, i, 64, 0, 2.0, &err), ST_USAGE);
    assert_int_equal(model_inject_outlier(model, cache, &log, model->layers[0].attn_norm, 0, 0, 2.0, &err), ST_USAGE);
    assert_int_equal(model_inject_outlier(model, cache, &log, i, 0, 0, 1e300, &err), ST_USAGE); /* inf as a float */
    assert_int_equal(model_inject_outlier(model, cache, &log, i, 0, 0, NAN, &err), ST_USAGE);
    assert_int_equal(log.n, 1);

    /* twice on the same weight, then restore: bit for bit */
    assert_int_equal(model_inject_outlier(model, cache, &log, i, row, col, -3.0, &err), ST_OK);
    model_restore_weights(model, cache, &log);
    assert_int_equal(log.n, 0);
    assert_memory_equal(t->f32, saved, (size_t)n * sizeof *saved);
    assert_int_equal(qcache_get(cache, i, per_tensor, &q, &err), ST_OK);
    WeightStats again;
    stats_compute(t->f32, q->dequant, n, NULL, &again);
    assert_true(again.rmse == before.rmse && again.n_levels == before.n_levels);
    weight_edits_free(&log);
    qcache_delete(cache);
    free(saved);
    free(block_before);
}

/* A Q8_0 file planned at Q8_0 runs from the file's own bytes; after an injection
 * the copy must be made from the edited floats, and after restoring the file's
 * bytes stand in again. */
static void test_outliers_inject_stops_borrowing_file_bytes(void **state) {
    (void)state;
    Model *m8;
    Error err;
    assert_int_equal(model_open(&m8, proc_data_path("tests/data/stories260K-q8_0.gguf"), NULL, &err), ST_OK);
    const int i = m8->layers[3].attn_output;
    const ModelTensor *t = &m8->tensors[i];
    assert_int_equal(t->file_type, GGML_TYPE_Q8_0);
    QuantCache *cache = qcache_new(m8, NULL);
    const QTensor *q;
    assert_int_equal(qcache_get(cache, i, FORMAT_INT8, &q, &err), ST_OK);
    assert_ptr_equal(q->blocks, t->file_data);
    WeightEdits log = {0};
    assert_int_equal(model_inject_outlier(m8, cache, &log, i, 5, 7, 8.0, &err), ST_OK);
    assert_int_equal(qcache_get(cache, i, FORMAT_INT8, &q, &err), ST_OK);
    assert_ptr_not_equal(q->blocks, t->file_data);
    assert_memory_not_equal(q->blocks, t->file_data, t->file_bytes);
    /* the edited weight is in the new copy (Q8_0 of it: within half a step) */
    const float v = t->f32[5 * t->cols + 7];
    assert_true(fabsf(q->dequant[5 * t->cols + 7] - v) <= fabsf(v) / 127.0f);
    model_restore_weights(m8, cache, &log);
    assert_int_equal(qcache_get(cache, i, FORMAT_INT8, &q, &err), ST_OK);
    assert_ptr_equal(q->blocks, t->file_data);
    weight_edits_free(&log);
    qcache_delete(cache);
    model_close(m8);
}

/* The weight "inject an outlier" picks: the largest magnitude, sign ignored,
 * the first of equals. */
static void test_outliers_largest_index(void **state) {
    (void)state;
    const float w[] = {0.5f, -3.0f, 2.0f, 3.0f, -1.0f};
    assert_int_equal(outliers_largest_index(w, 5), 1);
    assert_int_equal(outliers_largest_index(w + 2, 3), 1);
    assert_int_equal(outliers_largest_index(w, 1), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outliers_largest_index),
        cmocka_unit_test(test_outliers_facts_by_hand),
        cmocka_unit_test(test_outliers_inject_collapses_per_tensor_scale),
        cmocka_unit_test(test_outliers_inject_stops_borrowing_file_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
