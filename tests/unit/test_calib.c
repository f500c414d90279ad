/* test_calib.c — calibration (model/calib.c) and the GPTQ copies the cache makes
 * from it.
 *   - H of every matrix equals sum x x^T over the inputs that matrix saw, summed
 *     here (in plain input order, unlike calib.c's chunks and batches) from a
 *     forward pass run by the test with its own observer; q, k and v (and gate,
 *     up) share one; ranges are those seen;
 *   - the same text gives the same H bit for bit on 1 and 2 threads;
 *   - the memory budget and the choice of matrices are honoured;
 *   - +gptq copies need a calibration, lower the output error on the calibration
 *     inputs (what GPTQ minimises) and are round-to-nearest for the embedding,
 *     which is looked up, not multiplied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc.h"
#include "model/calib.h"
#include "model/eval.h"
#include "model/qcache.h"
#include "quant/gptq.h"

static Model *model;
static EvalSet set;

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
    /* 9 sequences of 24 tokens (llama-perplexity's chunks; calibration runs every
     * position): two chunks of 8 sequences, so partial sums are merged */
    Status st = evalset_from_text(&set, model, text, len, "small", EVAL_WINDOWED, 24, 216, &err);
    free(text);
    if (st != ST_OK) fprintf(stderr, "%s\n", err.msg);
    return st == ST_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    evalset_free(&set);
    model_close(model);
    return 0;
}

/* ----------------------------------------------- an independent observer */

typedef struct Seen {
    double *h[64]; /* per tensor index: sum x x^T */
    float mn[64], mx[64];
    int64_t count[64];
} Seen;

static void record(void *ctx, int tensor, const float *x, int n) {
    Seen *s = ctx;
    if (!s->h[tensor]) {
        s->h[tensor] = calloc((size_t)n * (size_t)n, sizeof(double));
        s->mn[tensor] = INFINITY;
        s->mx[tensor] = -INFINITY;
    }
    for (int i = 0; i < n; i++) {
        s->mn[tensor] = fminf(s->mn[tensor], x[i]);
        s->mx[tensor] = fmaxf(s->mx[tensor], x[i]);
        for (int j = 0; j < n; j++) s->h[tensor][i * n + j] += (double)x[i] * (double)x[j];
    }
    s->count[tensor]++;
}

static void test_calib_hessian_is_sum_of_outer_products(void **state) {
    (void)state;
    assert_true(model->n_tensors <= 64);
    assert_true(set.n_seqs > 8);
    Seen seen;
    memset(&seen, 0, sizeof seen);
    Weights w;
    RunState rs;
    Error err;
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    assert_int_equal(runstate_init(&rs, &model->cfg, set.max_len, NULL, &err), ST_OK);
    rs.observe = record;
    rs.observe_ctx = &seen;
    for (int q = 0; q < set.n_seqs; q++)
        for (int p = 0; p < set.seq_start[q + 1] - set.seq_start[q]; p++)
            model_forward(&w, &rs, set.tokens[set.seq_start[q] + p], p);
    runstate_free(&rs);
    weights_free(&w);

    Calibration c;
    assert_int_equal(calib_run(&c, model, &set, "small", NULL, NULL, NULL, &err), ST_OK);
    assert_int_equal(c.n_tokens, set.seq_start[set.n_seqs]);
    assert_int_equal(c.n_seqs, set.n_seqs);
    assert_int_equal(c.n_sites, 5 * 4 + 1);
    int checked = 0;
    for (int i = 0; i < model->n_tensors; i++) {
        int64_t n = 0;
        const double *h = calib_hessian(&c, i, &n);
        if (!seen.h[i]) { /* not a matrix input: norms, token_embd */
            assert_null(h);
            continue;
        }
        assert_non_null(h);
        const CalibSite *site = calib_site(&c, i);
        assert_int_equal(n, model->tensors[i].cols);
        assert_int_equal(site->count, seen.count[i]);
        assert_true(site->min == seen.mn[i] && site->max == seen.mx[i]);
        assert_true(site->absmax == fmaxf(-seen.mn[i], seen.mx[i]));
        /* the sums differ in order only: a few roundings of 1e-16 per term */
        for (int64_t k = 0; k < n * n; k++) {
            const double want = seen.h[i][k];
            if (fabs(h[k] - want) > 1e-13 * (1.0 + fabs(want)) * (double)site->count)
                fail_msg("%s: H[%lld] = %.17g, the inputs give %.17g", model->tensors[i].name, (long long)k, h[k], want);
        }
        checked++;
    }
    assert_int_equal(checked, 5 * 7 + 1); /* 7 matrices a block and output */
    /* q, k, v share one site; so do gate and up */
    const LayerTensors *L = &model->layers[2];
    assert_ptr_equal(calib_site(&c, L->attn_q), calib_site(&c, L->attn_v));
    assert_ptr_equal(calib_site(&c, L->ffn_gate), calib_site(&c, L->ffn_up));
    assert_ptr_not_equal(calib_site(&c, L->attn_q), calib_site(&c, L->attn_output));
    assert_null(calib_site(&c, model->token_embd)); /* looked up; the classifier is untied here */
    calib_free(&c);
    for (int i = 0; i < 64; i++) free(seen.h[i]);
}

static void test_calib_same_on_any_thread_count(void **state) {
    (void)state;
    Calibration a, b;
    Error err;
    Pool *pool = pool_new(2);
    assert_int_equal(calib_run(&a, model, &set, "small", NULL, NULL, NULL, &err), ST_OK);
    assert_int_equal(calib_run(&b, model, &set, "small", NULL, pool, NULL, &err), ST_OK);
    for (int s = 0; s < a.n_sites; s++) {
        const int64_t n = a.sites[s].n;
        assert_memory_equal(a.sites[s].h, b.sites[s].h, (size_t)(n * n) * sizeof(double));
        assert_true(a.sites[s].sum_sq == b.sites[s].sum_sq);
        assert_memory_equal(a.sites[s].chan_absmax, b.sites[s].chan_absmax, (size_t)n * sizeof(float));
    }
    calib_free(&a);
    calib_free(&b);
    pool_delete(pool);
}

static void test_calib_budget_and_choice(void **state) {
    (void)state;
    Calibration c;
    Error err;
    bool want[64] = {false};
    want[model->layers[0].ffn_down] = true;
    /* one 172 x 172 H: 236,672 bytes, twice while running */
    assert_true(calib_h_bytes(model, want) == 172.0 * 172 * 8);
    CalibOptions small = {want, 400000};
    assert_int_equal(calib_run(&c, model, &set, "small", &small, NULL, NULL, &err), ST_LIMIT);
    assert_non_null(strstr(err.msg, "MB"));
    assert_null(c.sites);
    CalibOptions enough = {want, 500000};
    assert_int_equal(calib_run(&c, model, &set, "small", &enough, NULL, NULL, &err), ST_OK);
    int64_t n;
    assert_non_null(calib_hessian(&c, model->layers[0].ffn_down, &n));
    assert_null(calib_hessian(&c, model->layers[0].attn_q, &n));
    assert_non_null(calib_site(&c, model->layers[0].attn_q)); /* ranges are still there */
    assert_true(calib_site(&c, model->layers[0].attn_q)->count > 0);
    calib_free(&c);
    /* cancelled */
    atomic_bool cancel = true;
    Progress p = {NULL, NULL, &cancel};
    assert_int_equal(calib_run(&c, model, &set, "small", NULL, NULL, &p, &err), ST_CANCELLED);
    assert_null(c.sites);
}

/* ------------------------------------------------ GPTQ through the cache */

static void test_calib_gptq_copies(void **state) {
    (void)state;
    QuantCache *cache = qcache_new(model, NULL);
    Format gq, rtn = FORMAT_INT4;
    Error err;
    assert_int_equal(format_parse("q4_0+gptq", &gq, &err), ST_OK);
    const QTensor *q;
    const int wq = model->layers[1].attn_q;
    assert_int_equal(qcache_get(cache, wq, gq, &q, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "calibrate first"));
    assert_non_null(strstr(err.msg, "blk.1.attn_q.weight"));

    Calibration c;
    assert_int_equal(calib_run(&c, model, &set, "small", NULL, NULL, NULL, &err), ST_OK);
    qcache_set_calibration(cache, &c);
    assert_null(c.sites); /* the cache owns it now */
    const Calibration *held = qcache_calibration(cache);
    assert_non_null(held);
    /* every multiplied matrix: GPTQ's output error on the calibration inputs below RTN's */
    double sum_g = 0, sum_r = 0;
    int lower = 0, total = 0;
    for (int i = 0; i < model->n_tensors; i++) {
        int64_t n;
        const double *h = calib_hessian(held, i, &n);
        if (!h) continue;
        const ModelTensor *t = &model->tensors[i];
        const QTensor *g, *r;
        assert_int_equal(qcache_get(cache, i, gq, &g, &err), ST_OK);
        assert_int_equal(qcache_get(cache, i, rtn, &r, &err), ST_OK);
        assert_true(format_equal(g->fmt, gq));
        assert_int_equal(g->row_bytes, r->row_bytes);
        double eg, er, ref;
        gptq_output_error(h, t->f32, g->dequant, t->rows, t->cols, &eg, &ref);
        gptq_output_error(h, t->f32, r->dequant, t->rows, t->cols, &er, &ref);
        sum_g += eg;
        sum_r += er;
        lower += eg < er;
        total++;
    }
    print_message("output error on the calibration inputs: GPTQ %.4g, RTN %.4g (%d of %d matrices lower)\n", sum_g,
                  sum_r, lower, total);
    assert_int_equal(total, 36);
    assert_true(sum_g < 0.8 * sum_r);
    assert_true(lower >= total - 2);
    /* the embedding is looked up: +gptq is round-to-nearest there, byte for byte */
    assert_true(qcache_gptq_is_rtn(cache, model->token_embd));
    const QTensor *ge, *re;
    assert_int_equal(qcache_get(cache, model->token_embd, gq, &ge, &err), ST_OK);
    assert_int_equal(qcache_get(cache, model->token_embd, rtn, &re, &err), ST_OK);
    assert_memory_equal(ge->blocks, re->blocks, (size_t)re->rows * re->row_bytes);
    /* a new calibration drops the old copies: the copy made before it is not
     * handed out after it (this time its site has no H, so none can be made) */
    const QTensor *before, *after;
    assert_int_equal(qcache_get(cache, wq, gq, &before, &err), ST_OK);
    bool want[64] = {false};
    want[model->layers[0].ffn_down] = true;
    CalibOptions only = {want, 0};
    assert_int_equal(calib_run(&c, model, &set, "small", &only, NULL, NULL, &err), ST_OK);
    qcache_set_calibration(cache, &c);
    assert_int_equal(qcache_get(cache, wq, gq, &after, &err), ST_USAGE); /* its site has no H this time */
    assert_non_null(strstr(err.msg, "without the statistics GPTQ needs"));
    qcache_delete(cache);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calib_hessian_is_sum_of_outer_products),
        cmocka_unit_test(test_calib_same_on_any_thread_count),
        cmocka_unit_test(test_calib_budget_and_choice),
        cmocka_unit_test(test_calib_gptq_copies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
