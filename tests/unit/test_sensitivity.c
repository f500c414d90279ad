/* test_sensitivity.c — per-unit sensitivity scans and plans within a size budget
 * (model/sensitivity.c).
 *
 * Expected values from outside quantlab: byte counts worked by hand from ggml's
 * block sizes (Q4_0: 18 bytes per 32 values, Q8_0: 34; rows of 172 padded to 192),
 * which agree with the tensor bytes of llama.cpp's files for stories260K (Q4_0
 * 356,320 and Q8_0 474,848 with ffn_down at F32); and llama.cpp's observation
 * that the classifier (output.weight) is this model's most sensitive tensor
 * (shared/reference/README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc.h"
#include "model/eval.h"
#include "quant/types.h"


static Model *model;
static EvalSet set;
static QuantCache *cache;

static int setup(void **state) {
    (void)state;
    Error err = {0};
    if (model_open(&model, proc_data_path("assets/stories260K.gguf"), NULL, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    size_t len;
    char *text = proc_read_file(proc_data_path("tests/data/tinystories_sample_small.txt"), &len);
    if (!text) return -1;
    /* two chunks of llama-perplexity's protocol keep the scans short */
    Status st = evalset_from_text(&set, model, text, len, "small", EVAL_WINDOWED, 128, 256, &err);
    free(text);
    if (st != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    cache = qcache_new(model, NULL);
    return cache ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    qcache_delete(cache);
    evalset_free(&set);
    model_close(model);
    return 0;
}

/* Bytes of a rows x cols matrix, by hand from ggml's block layout. */
static double q4_0_bytes(int64_t rows, int64_t cols) { return (double)rows * ((cols + 31) / 32) * 18; }
static double q8_0_bytes(int64_t rows, int64_t cols) { return (double)rows * ((cols + 31) / 32) * 34; }

static int count_quantizable(void) {
    int n = 0;
    for (int t = 0; t < model->n_tensors; t++) n += plan_is_quantizable(&model->tensors[t]);
    return n;
}

static SensitivityItem *scan(SensitivityUnit unit, int *n) {
    SensitivityItem *items = NULL;
    Error err = {0};
    Status st = eval_sensitivity(model, cache, FORMAT_INT4, unit, &set, NULL, NULL, &items, n, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
    return items;
}

static void test_sensitivity_every_tensor_alone(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = scan(SENS_TENSOR, &n);
    assert_int_equal(n, count_quantizable());
    assert_int_equal(n, 37); /* token_embd, output, 7 matrices in each of 5 blocks */
    assert_string_equal(it[0].name, "output.weight");
    for (int i = 0; i < n; i++) {
        const ModelTensor *t = &model->tensors[it[i].tensor];
        assert_string_equal(it[i].name, t->name);
        assert_int_equal(it[i].layer, -1);
        assert_true(it[i].kl_mean > 0);
        assert_true(it[i].top1_agree > 0.5 && it[i].top1_agree <= 1.0);
        assert_true(it[i].bytes_saved == 4.0 * t->rows * t->cols - q4_0_bytes(t->rows, t->cols));
        if (i > 0) assert_true(it[i - 1].kl_mean >= it[i].kl_mean);
    }
    free(it);
}

/* A unit's figures are those of eval_quality on the plan with only that unit quantized. */
static void test_sensitivity_unit_is_its_plan_alone(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = scan(SENS_TENSOR, &n);
    int t = model_find_tensor(model, "blk.2.ffn_down.weight");
    assert_true(t >= 0);
    const SensitivityItem *item = NULL;
    for (int i = 0; i < n; i++)
        if (it[i].tensor == t) item = &it[i];
    assert_non_null(item);
    assert_true(item->bytes_saved == 64.0 * 172 * 4 - 64.0 * 6 * 18); /* rows of 172 padded to 6 blocks */
    Error err = {0};
    Plan p;
    Weights base, w;
    assert_int_equal(plan_init(&p, model, FORMAT_FP32, &err), ST_OK);
    p.fmt[t] = FORMAT_INT4;
    assert_int_equal(weights_init_f32(&base, model, &err), ST_OK);
    assert_int_equal(weights_init_plan(&w, model, &p, cache, &err), ST_OK);
    QualityResult r;
    assert_int_equal(eval_quality(&base, &w, &set, NULL, NULL, &r, &err), ST_OK);
    assert_true(r.kl_mean == item->kl_mean);
    assert_true(r.top1_agree == item->top1_agree);
    weights_free(&w);
    weights_free(&base);
    plan_free(&p);
    free(it);
}

static void test_sensitivity_blocks_and_edges(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = scan(SENS_BLOCK, &n);
    assert_int_equal(n, 7); /* 5 blocks, token_embd, output */
    int blocks = 0;
    for (int i = 0; i < n; i++) {
        if (it[i].tensor < 0) {
            char name[16];
            snprintf(name, sizeof name, "blk.%d", it[i].layer);
            assert_string_equal(it[i].name, name);
            /* q 64x64, k and v 32x64, output 64x64, gate and up 172x64, down 64x172 */
            double f32 = 4.0 * (64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3);
            double q4 = q4_0_bytes(64, 64) * 2 + q4_0_bytes(32, 64) * 2 + q4_0_bytes(172, 64) * 2 + q4_0_bytes(64, 172);
            assert_true(it[i].bytes_saved == f32 - q4); /* 155,040 */
            blocks++;
        } else {
            assert_int_equal(it[i].layer, -1);
            assert_true(it[i].tensor == model->token_embd || it[i].tensor == model->output);
        }
    }
    assert_int_equal(blocks, 5);
    free(it);
}

typedef struct Watch {
    int calls, cancel_after;
    bool names_ok;
    atomic_bool flag;
} Watch;

static void watch(void *ctx, double done, const char *stage) {
    Watch *w = ctx;
    (void)done;
    w->calls++;
    if (strncmp(stage, "blk.", 4) != 0 && strcmp(stage, "token_embd.weight") != 0 &&
        strcmp(stage, "output.weight") != 0 && strcmp(stage, "done") != 0)
        w->names_ok = false;
    if (w->cancel_after && w->calls >= w->cancel_after) atomic_store(&w->flag, true);
}

static void test_sensitivity_reports_units_and_cancels(void **state) {
    (void)state;
    Watch w = {0, 5, true, false};
    Progress p = {watch, &w, &w.flag};
    SensitivityItem *items = (SensitivityItem *)&w; /* must come back NULL */
    int n = -1;
    Error err = {0};
    assert_int_equal(eval_sensitivity(model, cache, FORMAT_INT4, SENS_BLOCK, &set, NULL, &p, &items, &n, &err),
                     ST_CANCELLED);
    assert_null(items);
    assert_int_equal(n, 0);
    assert_true(w.names_ok);
    assert_int_equal(eval_sensitivity(model, cache, format_ggml(GGML_TYPE_Q4_K), SENS_TENSOR, &set, NULL, NULL,
                                      &items, &n, &err),
                     ST_UNSUPPORTED);
}

/* Items as a scan at q4_0 would give them, with made-up KL values. */
static SensitivityItem *fake_items(int *n, double output_kl) {
    SensitivityItem *it = calloc((size_t)model->n_tensors, sizeof *it);
    assert_non_null(it);
    int k = 0;
    for (int t = 0; t < model->n_tensors; t++) {
        const ModelTensor *mt = &model->tensors[t];
        if (!plan_is_quantizable(mt)) continue;
        it[k].tensor = t;
        it[k].layer = -1;
        snprintf(it[k].name, sizeof it[k].name, "%s", mt->name);
        it[k].kl_mean = t == model->output ? output_kl : 0.001;
        it[k].bytes_saved = 4.0 * mt->rows * mt->cols - q4_0_bytes(mt->rows, mt->cols);
        k++;
    }
    *n = k;
    return it;
}

static void test_plan_auto_budget_below_the_smallest_plan(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = fake_items(&n, 1.0);
    Plan p;
    Error err = {0};
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, 100000, &err), ST_USAGE);
    /* all-Q4_0 by hand: 2 x 512x64, 5 blocks, and 11 norm vectors of 64 floats in F32 */
    assert_string_equal(err.msg, "budget 100,000 bytes is below the smallest plan (170,720 bytes at q4_0)");
    assert_null(p.fmt);
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, 170720, &err), ST_OK);
    for (int t = 0; t < model->n_tensors; t++)
        if (plan_is_quantizable(&model->tensors[t])) assert_true(format_equal(p.fmt[t], FORMAT_INT4));
    plan_free(&p);
    free(it);
}

static void test_plan_auto_spends_the_budget_by_kl_per_byte(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = fake_items(&n, 1.0);
    Plan p;
    Error err = {0};
    const double smallest = 170720, out_extra = q8_0_bytes(512, 64) - q4_0_bytes(512, 64); /* 16,384 */
    /* exactly room for the classifier, the most KL per byte */
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, smallest + out_extra, &err), ST_OK);
    for (int t = 0; t < model->n_tensors; t++)
        if (plan_is_quantizable(&model->tensors[t]))
            assert_true(format_equal(p.fmt[t], t == model->output ? FORMAT_INT8 : FORMAT_INT4));
    assert_true(plan_bytes(&p, model) == smallest + out_extra);
    plan_free(&p);
    /* one byte less: the classifier does not fit, smaller upgrades after it still do */
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, smallest + out_extra - 1, &err), ST_OK);
    assert_true(format_equal(p.fmt[model->output], FORMAT_INT4));
    assert_true(plan_bytes(&p, model) > smallest && plan_bytes(&p, model) <= smallest + out_extra - 1);
    plan_free(&p);
    /* a budget for everything: all Q8_0 (319,968 bytes by hand) */
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, 1e12, &err), ST_OK);
    assert_true(plan_bytes(&p, model) == 319968);
    plan_free(&p);
    free(it);
}

static void test_plan_auto_refuses_items_measured_at_another_format(void **state) {
    (void)state;
    int n;
    SensitivityItem *it = fake_items(&n, 1.0);
    Plan p;
    Error err = {0};
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT8, FORMAT_FP16, 1e12, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "was not measured at q8_0"));
    it[0].tensor = model->n_tensors + 5;
    assert_int_equal(plan_auto(&p, model, it, n, FORMAT_INT4, FORMAT_INT8, 1e12, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "names no quantizable tensor"));
    free(it);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sensitivity_every_tensor_alone),
        cmocka_unit_test(test_sensitivity_unit_is_its_plan_alone),
        cmocka_unit_test(test_sensitivity_blocks_and_edges),
        cmocka_unit_test(test_sensitivity_reports_units_and_cancels),
        cmocka_unit_test(test_plan_auto_budget_below_the_smallest_plan),
        cmocka_unit_test(test_plan_auto_spends_the_budget_by_kl_per_byte),
        cmocka_unit_test(test_plan_auto_refuses_items_measured_at_another_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

