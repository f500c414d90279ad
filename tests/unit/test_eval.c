/* test_eval.c — token sets, quality figures and speed (model/eval.c).
 *
 * Expected values come from outside quantlab:
 *  - llama2.c's forward() on the first 100 blank-line pieces of tinystories_val.txt
 *    (shared/models/reference_outputs/perplexity.txt): 9618 predictions, 20443
 *    bytes, mean NLL 1.431359, PPL 4.1844, 0.971546 bits per byte;
 *  - llama.cpp's llama-perplexity on tinystories_sample_small.txt, -c 128, F32 KV
 *    cache (shared/reference/README.md): 14 chunks, 882 predictions, PPL 6.8453;
 *    and llama.cpp's token ids of that text (tests/data/tinystories_sample_small.ids);
 *  - facts of mathematics: KL of a distribution against itself is 0 and never
 *    negative; percentiles worked by hand.
 * The full-text checks (all 4300 pieces: 5.3711; val text windowed: 4.9693) take
 * about a minute each and are run by hand, not here.
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

#include "lib/proc.h"
#include "model/eval.h"

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

static void assert_near(double got, double want, double tol) {
    if (!(fabs(got - want) <= tol)) fail_msg("got %.7f, want %.7f +- %g", got, want, tol);
}

/* An evaluation set from a string; asserts success. */
static void set_from(EvalSet *s, const char *text, EvalProtocol p, int n_ctx, int64_t max_tokens) {
    Error err = {0};
    Status st = evalset_from_text(s, model, text, strlen(text), "t.txt", p, n_ctx, max_tokens, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
}

static void set_from_file(EvalSet *s, const char *rel, EvalProtocol p, int n_ctx, int64_t max_tokens) {
    size_t len;
    char *text = proc_read_file(proc_data_path(rel), &len);
    assert_non_null(text);
    Error err = {0};
    Status st = evalset_from_text(s, model, text, len, rel, p, n_ctx, max_tokens, &err);
    free(text);
    if (st != ST_OK) fail_msg("%s", err.msg);
}

/* The status and a one-line message containing `needle`. */
static void expect_refused(const char *text, size_t len, EvalProtocol p, int n_ctx, Status want,
                           const char *needle) {
    EvalSet s;
    Error err = {0};
    Status st = evalset_from_text(&s, model, text, len, "notes.txt", p, n_ctx, 0, &err);
    if (st != want || !strstr(err.msg, needle) || strchr(err.msg, '\n'))
        fail_msg("status %d '%s' (wanted %d and '%s')", st, err.msg, want, needle);
    assert_null(s.tokens);
    assert_null(s.seq_start);
    assert_int_equal(s.n_seqs, 0);
    evalset_free(&s);
}

static void run_quality(const Weights *base, const Weights *plan, const EvalSet *s, Pool *pool,
                        QualityResult *r) {
    Error err = {0};
    Status st = eval_quality(base, plan, s, pool, NULL, r, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
}

/* FP32 weights whose output matrix is a copy with uniform noise of +-amp added
 * (a fixed xorshift sequence). Returns the copy (caller frees after weights_free). */
static float *perturbed_weights(Weights *w, float amp, int nan_at) {
    Error err = {0};
    assert_int_equal(weights_init_f32(w, model, &err), ST_OK);
    const ModelTensor *t = &model->tensors[model->output];
    float *copy = malloc((size_t)t->n_elements * sizeof *copy);
    assert_non_null(copy);
    uint32_t x = 2463534242u;
    for (int64_t i = 0; i < t->n_elements; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        copy[i] = t->f32[i] + amp * ((float)(x >> 8) / 8388608.0f - 1.0f);
    }
    if (nan_at >= 0) copy[nan_at] = NAN;
    w->mats[model->output].data = copy;
    return copy;
}

/* ------------------------------------------------------------ outside references */

static void test_eval_llama2c_first_100_pieces_match_llama2c(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "assets/eval.txt", EVAL_LLAMA2C, 0, 0);
    assert_int_equal(s.n_seqs, 100);
    assert_int_equal(s.n_predictions, 9618);
    assert_int_equal(s.n_bytes, 20443);
    assert_int_equal(s.score_from, 0);
    assert_int_equal(s.n_truncated, 0);
    assert_int_equal(s.n_ctx, 512);
    for (int i = 0; i < s.n_seqs; i++) assert_int_equal(s.tokens[s.seq_start[i]], model->tok.bos_id);
    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    QualityResult r;
    run_quality(&w, NULL, &s, NULL, &r);
    assert_int_equal(r.n_predictions, 9618);
    assert_near(r.ppl_base, 4.1844, 0.0005);
    assert_near(r.nll_base, 1.431359, 0.0001);
    assert_near(r.bpb_base, 0.971546, 0.0001);
    assert_true(r.kl_mean == 0 && r.top1_agree == 0 && r.ppl_plan == 0); /* no plan: not filled */
    weights_free(&w);
    evalset_free(&s);
}

static void test_eval_windowed_small_text_matches_llamacpp(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "tests/data/tinystories_sample_small.txt", EVAL_WINDOWED, 128, 0);
    assert_int_equal(s.n_seqs, 14);
    assert_int_equal(s.n_predictions, 882);
    assert_int_equal(s.score_from, 64);
    assert_int_equal(s.max_len, 128);
    assert_int_equal(s.n_bytes, 0);
    /* llama.cpp's ids of the file (with its final '\n', which -f drops: one
     * token fewer); chunk i is ids[128i .. 128i+127] with BOS first. */
    char *json = proc_read_file(proc_data_path("tests/data/tinystories_sample_small.ids"), NULL);
    assert_non_null(json);
    int ids[2048], n = 0;
    for (char *p = json; *p && n < 2048;) {
        while (*p && (*p < '0' || *p > '9')) p++;
        if (*p) ids[n++] = (int)strtol(p, &p, 10);
    }
    free(json);
    assert_int_equal(n, 1883);
    assert_int_equal(s.n_text_tokens, 1882);
    for (int i = 0; i < 14 * 128; i++)
        assert_int_equal(s.tokens[i], i % 128 == 0 ? model->tok.bos_id : ids[i]);

    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    QualityResult r;
    run_quality(&w, NULL, &s, NULL, &r);
    assert_int_equal(r.n_predictions, 882);
    assert_near(r.ppl_base, 6.8453, 6.8453 * 0.005);
    assert_true(r.bpb_base == 0); /* no bytes per token in this protocol */
    weights_free(&w);
    evalset_free(&s);
}

/* ------------------------------------------------------------ token sets by hand */

static void test_eval_llama2c_pieces_by_hand(void **state) {
    (void)state;
    const char *text = "  Once upon a time.\r\n\n\n\nThe end. \n\n\t\n\nHi";
    const char *want[] = {"Once upon a time.", "The end.", "Hi"};
    EvalSet s;
    set_from(&s, text, EVAL_LLAMA2C, 0, 0);
    assert_int_equal(s.n_seqs, 3);
    assert_int_equal(s.n_bytes, 17 + 8 + 2);
    int64_t preds = 0;
    for (int i = 0; i < 3; i++) {
        int *ids, n;
        Error err = {0};
        assert_int_equal(tokenizer_encode(&model->tok, want[i], strlen(want[i]), true, false, &ids, &n, &err), ST_OK);
        assert_int_equal(s.seq_start[i + 1] - s.seq_start[i], n);
        assert_memory_equal(s.tokens + s.seq_start[i], ids, (size_t)n * sizeof *ids);
        preds += n - 1;
        free(ids);
    }
    assert_int_equal(s.n_predictions, preds);
    assert_int_equal(s.n_text_tokens, preds + 3);
    evalset_free(&s);
    evalset_free(&s); /* twice is harmless */
    evalset_free(NULL);
}

static void test_eval_windowed_chunks_by_hand(void **state) {
    (void)state;
    const char *text = "Once upon a time, there was a little girl named Lily. She loved to play.\n";
    int *ids, n;
    Error err = {0};
    /* llama-perplexity reads the file without its final '\n' */
    assert_int_equal(tokenizer_encode(&model->tok, text, strlen(text) - 1, true, false, &ids, &n, &err), ST_OK);
    EvalSet s;
    set_from(&s, text, EVAL_WINDOWED, 5, 0);
    assert_int_equal(s.n_text_tokens, n);
    assert_int_equal(s.n_seqs, n / 5); /* the incomplete tail is dropped */
    assert_int_equal(s.score_from, 2);
    assert_int_equal(s.n_predictions, (int64_t)(n / 5) * 2); /* positions 2, 3 score tokens 3, 4 */
    for (int i = 0; i < s.n_seqs * 5; i++) assert_int_equal(s.tokens[i], i % 5 == 0 ? model->tok.bos_id : ids[i]);
    evalset_free(&s);

    set_from(&s, text, EVAL_WINDOWED, 5, 12); /* a cap keeps whole chunks */
    assert_int_equal(s.n_seqs, 2);
    evalset_free(&s);
    free(ids);
}

static void test_eval_max_tokens_keeps_whole_pieces(void **state) {
    (void)state;
    EvalSet all, capped;
    set_from_file(&all, "assets/eval.txt", EVAL_LLAMA2C, 0, 0);
    set_from_file(&capped, "assets/eval.txt", EVAL_LLAMA2C, 0, 300);
    int64_t kept = capped.seq_start[capped.n_seqs];
    assert_true(kept <= 300);
    assert_true(kept + (all.seq_start[capped.n_seqs + 1] - all.seq_start[capped.n_seqs]) > 300);
    assert_memory_equal(capped.tokens, all.tokens, (size_t)kept * sizeof *all.tokens);
    assert_int_equal(capped.n_truncated, 0);
    evalset_free(&capped);
    /* a lone first piece longer than the cap is cut */
    set_from_file(&capped, "assets/eval.txt", EVAL_LLAMA2C, 0, 10);
    assert_int_equal(capped.n_seqs, 1);
    assert_int_equal(capped.n_predictions, 9);
    assert_int_equal(capped.n_truncated, 1);
    evalset_free(&capped);
    evalset_free(&all);
}

static void test_eval_long_piece_is_cut_to_the_context(void **state) {
    (void)state;
    size_t len = 6000;
    char *text = malloc(len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++) text[i] = "The cat sat. "[i % 13];
    text[len] = '\0';
    EvalSet s;
    set_from(&s, text, EVAL_LLAMA2C, 0, 0);
    assert_int_equal(s.n_seqs, 1);
    assert_int_equal(s.max_len, model->cfg.context_length);
    assert_int_equal(s.n_predictions, model->cfg.context_length - 1);
    assert_int_equal(s.n_truncated, 1);
    assert_true(s.n_text_tokens > model->cfg.context_length);
    /* bits per byte divides by the text the kept tokens stand for: decoded, they
     * give back exactly the first n_bytes bytes of the piece */
    char *back = malloc(len + 1);
    assert_non_null(back);
    size_t back_len = 0;
    for (int i = 1; i < s.max_len; i++) {
        size_t l;
        const char *piece = tokenizer_decode(&model->tok, s.tokens[i - 1], s.tokens[i], &l);
        assert_true(back_len + l <= len);
        memcpy(back + back_len, piece, l);
        back_len += l;
    }
    assert_int_equal(s.n_bytes, back_len);
    assert_true(back_len > 1000 && back_len < len);
    assert_memory_equal(back, text, back_len);
    free(back);
    evalset_free(&s);
    free(text);
}

static void test_eval_refuses_what_is_not_text(void **state) {
    (void)state;
    expect_refused("", 0, EVAL_LLAMA2C, 0, ST_FORMAT, "notes.txt: empty text");
    expect_refused("Once\0upon", 9, EVAL_LLAMA2C, 0, ST_FORMAT, "notes.txt: not text (NUL byte at offset 4)");
    char bad[1300];
    memset(bad, 'a', sizeof bad);
    bad[1234] = (char)0xff;
    expect_refused(bad, sizeof bad, EVAL_LLAMA2C, 0, ST_FORMAT, "notes.txt: not UTF-8 text (byte 0xff at offset 1234)");
    /* a truncated sequence at the very end, and an overlong encoding of '/' */
    expect_refused("caf\xc3", 4, EVAL_WINDOWED, 128, ST_FORMAT, "(byte 0xc3 at offset 3)");
    expect_refused("a\xc0\xaf", 3, EVAL_LLAMA2C, 0, ST_FORMAT, "(byte 0xc0 at offset 1)");
    char bin[200];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (char)(i % 3 == 0 ? 0x1b : 'x');
    expect_refused(bin, sizeof bin, EVAL_LLAMA2C, 0, ST_FORMAT, "notes.txt: looks binary");
    /* a few control characters in real text are fine */
    EvalSet s;
    set_from(&s, "Tab\there, bell \a, form feed\f.", EVAL_LLAMA2C, 0, 0);
    evalset_free(&s);
}

static void test_eval_blank_text_has_nothing_to_score(void **state) {
    (void)state;
    const char *blank = "\n\n  \n\t\r\n\n\n";
    expect_refused(blank, strlen(blank), EVAL_LLAMA2C, 0, ST_FORMAT, "notes.txt: no text to score");
}

static void test_eval_text_shorter_than_a_chunk_is_refused(void **state) {
    (void)state;
    const char *text = "Once upon a time";
    expect_refused(text, strlen(text), EVAL_WINDOWED, 128, ST_FORMAT, "make no whole 128-token chunk");
    expect_refused(text, strlen(text), EVAL_WINDOWED, 3, ST_USAGE, "outside 4..");
    expect_refused(text, strlen(text), EVAL_WINDOWED, RUNSTATE_MAX_CTX + 1, ST_USAGE, "outside 4..");
}

/* ------------------------------------------------------------ quality */

static void test_eval_model_against_itself_has_zero_kl(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "tests/data/tinystories_sample_small.txt", EVAL_WINDOWED, 128, 5 * 128);
    Weights a, b;
    Error err = {0};
    assert_int_equal(weights_init_f32(&a, model, &err), ST_OK);
    assert_int_equal(weights_init_f32(&b, model, &err), ST_OK);
    QualityResult r;
    run_quality(&a, &b, &s, NULL, &r);
    assert_true(r.kl_mean == 0.0 && r.kl_median == 0.0 && r.kl_p99 == 0.0 && r.kl_max == 0.0 && r.kl_min == 0.0);
    assert_true(r.top1_agree == 1.0);
    assert_true(r.rms_dp == 0.0);
    assert_true(r.ppl_plan == r.ppl_base && r.nll_plan == r.nll_base);
    weights_free(&a);
    weights_free(&b);
    evalset_free(&s);
}

static void test_eval_perturbed_model_has_positive_kl(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "tests/data/tinystories_sample_small.txt", EVAL_WINDOWED, 128, 5 * 128);
    Weights base, noisy;
    Error err = {0};
    assert_int_equal(weights_init_f32(&base, model, &err), ST_OK);
    float *copy = perturbed_weights(&noisy, 0.05f, -1);
    QualityResult alone, r;
    run_quality(&base, NULL, &s, NULL, &alone);
    run_quality(&base, &noisy, &s, NULL, &r);
    assert_true(r.ppl_base == alone.ppl_base); /* the plan does not disturb FP32 */
    assert_true(r.ppl_plan != r.ppl_base);
    assert_true(r.kl_min >= 0.0); /* every token's KL is non-negative */
    assert_true(r.kl_mean > 0.0);
    assert_true(r.kl_median > 0.0 && r.kl_median <= r.kl_p99 && r.kl_p99 <= r.kl_max);
    assert_true(r.kl_mean <= r.kl_max);
    assert_true(r.top1_agree > 0.5 && r.top1_agree < 1.0);
    assert_true(r.rms_dp > 0.0 && r.rms_dp < 1.0);
    /* more noise, more divergence */
    Weights noisier;
    float *copy2 = perturbed_weights(&noisier, 0.2f, -1);
    QualityResult r2;
    run_quality(&base, &noisier, &s, NULL, &r2);
    assert_true(r2.kl_mean > r.kl_mean);
    weights_free(&noisier);
    free(copy2);
    weights_free(&noisy);
    free(copy);
    weights_free(&base);
    evalset_free(&s);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Every figure against a direct computation in long double, for a plan whose
 * logits are exactly twice FP32's (its classifier is FP32's times 2, which float
 * multiplies exactly): the plan is sharper, so KL > 0, yet its argmax is FP32's. */
static void test_eval_figures_match_a_direct_computation(void **state) {
    (void)state;
    EvalSet s;
    set_from(&s, "Lily saw a big red ball.\n\nTom ran to the park. He was happy.\n\nThe end.",
             EVAL_LLAMA2C, 0, 0);
    Weights base, sharp;
    Error err = {0};
    assert_int_equal(weights_init_f32(&base, model, &err), ST_OK);
    assert_int_equal(weights_init_f32(&sharp, model, &err), ST_OK);
    const ModelTensor *t = &model->tensors[model->output];
    float *twice = malloc((size_t)t->n_elements * sizeof *twice);
    assert_non_null(twice);
    for (int64_t i = 0; i < t->n_elements; i++) twice[i] = 2.0f * t->f32[i];
    sharp.mats[model->output].data = twice;

    const int V = model->cfg.vocab_size;
    RunState rs;
    assert_int_equal(runstate_init(&rs, &model->cfg, s.max_len, NULL, &err), ST_OK);
    long double nll_b = 0, nll_p = 0, kl_sum = 0, dp2 = 0;
    double *kls = malloc((size_t)s.n_predictions * sizeof *kls);
    assert_non_null(kls);
    int64_t k = 0;
    for (int q = 0; q < s.n_seqs; q++) {
        const int *tok = s.tokens + s.seq_start[q];
        int n = s.seq_start[q + 1] - s.seq_start[q];
        for (int pos = 0; pos + 1 < n; pos++) {
            const float *L = model_forward(&base, &rs, tok[pos], pos);
            long double zb = 0, zp = 0;
            for (int i = 0; i < V; i++) {
                zb += expl((long double)L[i]);
                zp += expl(2.0L * L[i]);
            }
            long double kl = 0;
            for (int i = 0; i < V; i++) {
                long double pb = expl((long double)L[i]) / zb, pp = expl(2.0L * L[i]) / zp;
                kl += pb * (logl(pb) - logl(pp));
            }
            const int next = tok[pos + 1];
            long double pb = expl((long double)L[next]) / zb, pp = expl(2.0L * L[next]) / zp;
            nll_b -= logl(pb);
            nll_p -= logl(pp);
            dp2 += (pp - pb) * (pp - pb);
            kl_sum += kl;
            kls[k++] = (double)kl;
        }
    }
    assert_int_equal(k, s.n_predictions);
    QualityResult r;
    run_quality(&base, &sharp, &s, NULL, &r);
    const double n = (double)k;
    assert_near(r.nll_base, (double)(nll_b / n), 1e-6);
    assert_near(r.nll_plan, (double)(nll_p / n), 1e-6);
    assert_near(r.ppl_plan, exp((double)(nll_p / n)), 1e-5);
    assert_near(r.kl_mean, (double)(kl_sum / n), 1e-6);
    assert_true(r.kl_mean > 0.05);
    assert_near(r.rms_dp, sqrt((double)(dp2 / n)), 1e-6);
    assert_true(r.top1_agree == 1.0);
    assert_near(r.bpb_plan, (double)(nll_p / logl(2.0L)) / (double)s.n_bytes, 1e-6);
    qsort(kls, (size_t)k, sizeof *kls, cmp_double);
    assert_near(r.kl_max, kls[k - 1], 1e-6);
    assert_near(r.kl_min, kls[0], 1e-6);
    double p = 0.99 * (double)(k - 1);
    size_t ip = (size_t)p;
    assert_near(r.kl_p99, (1 - (p - ip)) * kls[ip] + (p - ip) * kls[ip + 1], 1e-6);
    assert_near(r.kl_median, k % 2 ? kls[k / 2] : 0.5 * (kls[k / 2 - 1] + kls[k / 2]), 1e-6);
    free(kls);
    runstate_free(&rs);
    weights_free(&sharp);
    free(twice);
    weights_free(&base);
    evalset_free(&s);
}

static void test_eval_results_do_not_depend_on_threads(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "assets/eval.txt", EVAL_LLAMA2C, 0, 800);
    Weights base, noisy;
    Error err = {0};
    assert_int_equal(weights_init_f32(&base, model, &err), ST_OK);
    float *copy = perturbed_weights(&noisy, 0.05f, -1);
    Pool *pool = pool_new(3);
    assert_non_null(pool);
    QualityResult one, three;
    run_quality(&base, &noisy, &s, NULL, &one);
    run_quality(&base, &noisy, &s, pool, &three);
    one.seconds = three.seconds = 0;
    assert_memory_equal(&one, &three, sizeof one);
    /* a single sequence runs on the calling thread with the pool in the matrices */
    EvalSet single;
    set_from_file(&single, "assets/eval.txt", EVAL_LLAMA2C, 0, 150);
    assert_int_equal(single.n_seqs, 1);
    run_quality(&base, &noisy, &single, NULL, &one);
    run_quality(&base, &noisy, &single, pool, &three);
    one.seconds = three.seconds = 0;
    assert_memory_equal(&one, &three, sizeof one);
    evalset_free(&single);
    pool_delete(pool);
    weights_free(&noisy);
    free(copy);
    weights_free(&base);
    evalset_free(&s);
}

static void test_eval_non_finite_logits_are_refused(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "tests/data/tinystories_sample_small.txt", EVAL_WINDOWED, 128, 256);
    Weights base, broken;
    Error err = {0};
    assert_int_equal(weights_init_f32(&base, model, &err), ST_OK);
    float *copy = perturbed_weights(&broken, 0.0f, 64 * 7 + 3); /* row 7 of the classifier: logit 7 is NaN */
    QualityResult r;
    memset(&r, 0xab, sizeof r);
    QualityResult untouched = r;
    assert_int_equal(eval_quality(&base, &broken, &s, NULL, NULL, &r, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "the planned model gave a non-finite logit"));
    assert_memory_equal(&r, &untouched, sizeof r);
    weights_free(&broken);
    free(copy);
    weights_free(&base);
    evalset_free(&s);
}

static void test_eval_tokens_outside_the_vocabulary_are_refused(void **state) {
    (void)state;
    int starts[2] = {0, 3}, toks[3] = {1, 42, 99999};
    EvalSet s = {.protocol = EVAL_LLAMA2C, .n_seqs = 1, .seq_start = starts, .tokens = toks,
                 .n_predictions = 2, .max_len = 3, .n_ctx = 512, .n_text_tokens = 3};
    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    QualityResult r;
    assert_int_equal(eval_quality(&w, NULL, &s, NULL, NULL, &r, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "token 99999"));
    weights_free(&w);
}

/* ------------------------------------------------------------ progress */

typedef struct Watch {
    int calls;
    double last, max_done;
    bool monotonic;
    int cancel_after; /* set the flag on this call (0: never) */
    atomic_bool flag;
    char stage[32];
} Watch;

static void watch_report(void *ctx, double done, const char *stage) {
    Watch *w = ctx;
    w->calls++;
    if (done < w->last) w->monotonic = false;
    w->last = done;
    if (done > w->max_done) w->max_done = done;
    snprintf(w->stage, sizeof w->stage, "%s", stage);
    if (w->cancel_after && w->calls >= w->cancel_after) atomic_store(&w->flag, true);
}

static void test_eval_progress_reaches_one(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "assets/eval.txt", EVAL_LLAMA2C, 0, 2000);
    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    Watch watch = {0, 0, 0, true, 0, false, ""};
    Progress p = {watch_report, &watch, &watch.flag};
    QualityResult r;
    assert_int_equal(eval_quality(&w, NULL, &s, NULL, &p, &r, &err), ST_OK);
    assert_true(watch.monotonic);
    assert_true(watch.last == 1.0);
    assert_true(watch.calls >= 3 && watch.calls <= 102); /* per sequence, about every 1 % */
    assert_string_equal(watch.stage, "FP32");
    weights_free(&w);
    evalset_free(&s);
}

static void test_eval_cancel_stops_early_and_fills_nothing(void **state) {
    (void)state;
    EvalSet s;
    set_from_file(&s, "assets/eval.txt", EVAL_LLAMA2C, 0, 0);
    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    Pool *pool = pool_new(2);
    for (int k = 0; k < 2; k++) { /* on the calling thread, then on the pool */
        Watch watch = {0, 0, 0, true, 3, false, ""};
        Progress p = {watch_report, &watch, &watch.flag};
        QualityResult r;
        memset(&r, 0xab, sizeof r);
        QualityResult untouched = r;
        err = (Error){0};
        assert_int_equal(eval_quality(&w, &w, &s, k ? pool : NULL, &p, &r, &err), ST_CANCELLED);
        assert_true(watch.max_done < 0.5); /* stopped long before the end */
        assert_memory_equal(&r, &untouched, sizeof r);
        assert_true(err.msg[0] != '\0');
    }
    /* already cancelled: nothing runs */
    Watch watch = {0, 0, 0, true, 0, true, ""};
    Progress p = {watch_report, &watch, &watch.flag};
    QualityResult r;
    assert_int_equal(eval_quality(&w, NULL, &s, pool, &p, &r, &err), ST_CANCELLED);
    assert_int_equal(watch.calls, 1);
    pool_delete(pool);
    weights_free(&w);
    evalset_free(&s);
}

/* ------------------------------------------------------------ percentiles, speed */

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_eval_percentile_worked_by_hand(void **state) {
    (void)state;
    float a[] = {3, 1, 2};
    assert_true(eval_percentile(a, 3, 0.5) == 2.0);
    float b[] = {4, 1, 3, 2}; /* even count: mean of the middle two, as llama-perplexity */
    assert_true(eval_percentile(b, 4, 0.5) == 2.5);
    float c[10];
    for (int i = 0; i < 10; i++) c[i] = (float)((i * 7) % 10); /* 0..9 shuffled */
    assert_near(eval_percentile(c, 10, 0.99), 8.91, 1e-9);    /* 0.99 * 9 = 8.91 */
    assert_true(eval_percentile(c, 10, 0.0) == 0.0);
    assert_true(eval_percentile(c, 10, 1.0) == 9.0);
    float d[101];
    for (int i = 0; i < 101; i++) d[i] = (float)((i * 37) % 101);
    assert_true(eval_percentile(d, 101, 0.99) == 99.0);
    assert_true(eval_percentile(d, 101, 0.5) == 50.0);
    float one = 5;
    assert_true(eval_percentile(&one, 1, 0.99) == 5.0);
    assert_true(eval_percentile(NULL, 0, 0.5) == 0.0);

    /* against a full sort, on values with many repeats */
    size_t n = 100001;
    float *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *v);
    assert_non_null(v);
    assert_non_null(sorted);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        v[i] = (float)(x >> 24) / 16.0f;
    }
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_float);
    const double fr[] = {0.0, 0.01, 0.5, 0.99, 1.0};
    for (int k = 0; k < 5; k++) {
        double p = fr[k] * (double)(n - 1);
        size_t ip = (size_t)p;
        double want = ip + 1 < n ? (1 - (p - ip)) * sorted[ip] + (p - ip) * sorted[ip + 1] : sorted[ip];
        assert_near(eval_percentile(v, n, fr[k]), want, 1e-9);
    }
    /* a million equal values (a model against itself) take one pass */
    n = 1000000;
    float *z = calloc(n, sizeof *z);
    assert_non_null(z);
    assert_true(eval_percentile(z, n, 0.99) == 0.0);
    free(z);
    free(v);
    free(sorted);
}

static void test_eval_speed_is_measured(void **state) {
    (void)state;
    Weights w;
    Error err = {0};
    assert_int_equal(weights_init_f32(&w, model, &err), ST_OK);
    double tps = 0;
    assert_int_equal(eval_speed(&w, NULL, 64, &tps, &err), ST_OK);
    assert_true(tps > 0 && isfinite(tps));
    assert_int_equal(eval_speed(&w, NULL, 0, &tps, &err), ST_USAGE);
    assert_int_equal(eval_speed(&w, NULL, RUNSTATE_MAX_CTX + 1, &tps, &err), ST_USAGE);
    weights_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_llama2c_first_100_pieces_match_llama2c),
        cmocka_unit_test(test_eval_windowed_small_text_matches_llamacpp),
        cmocka_unit_test(test_eval_llama2c_pieces_by_hand),
        cmocka_unit_test(test_eval_windowed_chunks_by_hand),
        cmocka_unit_test(test_eval_max_tokens_keeps_whole_pieces),
        cmocka_unit_test(test_eval_long_piece_is_cut_to_the_context),
        cmocka_unit_test(test_eval_refuses_what_is_not_text),
        cmocka_unit_test(test_eval_blank_text_has_nothing_to_score),
        cmocka_unit_test(test_eval_text_shorter_than_a_chunk_is_refused),
        cmocka_unit_test(test_eval_model_against_itself_has_zero_kl),
        cmocka_unit_test(test_eval_perturbed_model_has_positive_kl),
        cmocka_unit_test(test_eval_figures_match_a_direct_computation),
        cmocka_unit_test(test_eval_results_do_not_depend_on_threads),
        cmocka_unit_test(test_eval_non_finite_logits_are_refused),
        cmocka_unit_test(test_eval_tokens_outside_the_vocabulary_are_refused),
        cmocka_unit_test(test_eval_progress_reaches_one),
        cmocka_unit_test(test_eval_cancel_stops_early_and_fills_nothing),
        cmocka_unit_test(test_eval_percentile_worked_by_hand),
        cmocka_unit_test(test_eval_speed_is_measured),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
