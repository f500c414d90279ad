/* test_session.c — the session calls the screens will make for GPTQ, outliers
 * and activation ranges (session/session.c), run as the interface runs them:
 * requests, then session_poll until the background job is done. Texts are kept
 * short (three pieces of tests/data/tinystories_sample_small.txt for calibration
 * and evaluation) so the jobs take a fraction of a second. Calibrating and
 * measuring on the same text flatters GPTQ; that is fine for checking the
 * plumbing (the session's defaults, calib.txt and eval.txt, share no piece). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc.h"
#include "quant/outliers.h"
#include "session/session.h"

static Session *s;
static char small_path[128];

static int setup(void **state) {
    (void)state;
    Error err = {0};
    if (session_open(&s, proc_data_path("assets/stories260K.gguf"), NULL, 2, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    /* the first 800 bytes of the small sample, cut into three pieces: about 180
     * tokens, enough for the jobs to have something to measure */
    size_t len;
    char *text = proc_read_file(proc_data_path("tests/data/tinystories_sample_small.txt"), &len);
    if (!text || len < 800) return -1;
    memcpy(text + 270, "\n\n", 2);
    memcpy(text + 540, "\n\n", 2);
    snprintf(small_path, sizeof small_path, "/tmp/ql-session-%d.txt", (int)getpid());
    FILE *f = fopen(small_path, "wb");
    if (!f || fwrite(text, 1, 800, f) != 800) return -1;
    fclose(f);
    free(text);
    snprintf(s->calib_path, sizeof s->calib_path, "%s", small_path);
    snprintf(s->eval_path, sizeof s->eval_path, "%s", small_path);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    session_close(s);
    remove(small_path);
    return 0;
}

/* Polls until no job of this kind runs (at most 60 s). */
static void wait_job(SessionJobKind kind) {
    for (int i = 0; i < 6000; i++) {
        double p;
        session_poll(s);
        if (!session_job_progress(s, kind, &p, NULL, 0)) {
            session_poll(s);
            return;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    fail_msg("job %d still running after 60 s", (int)kind);
}

static Format parse(const char *name) {
    Format f;
    Error err;
    if (format_parse(name, &f, &err) != ST_OK) fail_msg("%s", err.msg);
    return f;
}

/* A tensor whose statistics cannot be computed (here: over the memory limit)
 * says so once; redraws asking again do not retry it (nor re-queue a job)
 * until its format changes. */
static void test_session_stats_failure_shown_once(void **state) {
    (void)state;
    int q = 0;
    while (q < s->model->n_tensors && strcmp(s->model->tensors[q].name, "blk.0.attn_q.weight") != 0) q++;
    assert_true(q < s->model->n_tensors);
    TensorStatsEntry e;
    setenv("QUANTLAB_MEMORY_BYTES", "1k", 1);
    assert_true(session_set_format(s, q, parse("q4_0")));
    s->message[0] = '\0';
    assert_false(session_tensor_stats(s, q, &e));
    assert_non_null(strstr(s->message, "memory"));
    s->message[0] = '\0';
    assert_false(session_tensor_stats(s, q, &e));
    assert_string_equal(s->message, ""); /* not tried again */
    unsetenv("QUANTLAB_MEMORY_BYTES");
    assert_false(session_tensor_stats(s, q, &e)); /* still the same format */
    assert_true(session_set_format(s, q, parse("q8_0")));
    assert_true(session_tensor_stats(s, q, &e));
    assert_true(e.valid);
    assert_true(session_set_format(s, q, parse("q4_0")));
    assert_true(session_tensor_stats(s, q, &e)); /* a change of format forgets the failure */
    assert_true(session_set_format(s, q, parse("f32")));
}

static void test_session_calibrate_then_compare_methods(void **state) {
    (void)state;
    const Model *m = s->model;
    assert_true(session_set_format_all(s, parse("q4_0+gptq")));
    assert_true(session_needs_calibration(s));
    TensorStatsEntry e;
    const int wq = m->layers[0].attn_q;
    assert_false(session_tensor_stats(s, wq, &e)); /* waits for the calibration, quietly */
    assert_string_equal(s->message, "");
    /* asked for before there is a calibration: one starts, and both wait for it */
    session_request_method_compare(s);
    assert_true(s->methods_after_calib);
    assert_true(session_job_waiting(s, JOB_METHODS));
    session_request_quality(s);
    assert_true(session_job_waiting(s, JOB_QUALITY));
    double p;
    assert_true(session_job_progress(s, JOB_CALIB, &p, NULL, 0));
    assert_false(session_job_progress(s, JOB_QUALITY, &p, NULL, 0));
    wait_job(JOB_CALIB);
    assert_false(session_job_waiting(s, JOB_QUALITY));
    assert_false(s->methods_after_calib);
    wait_job(JOB_QUALITY);
    wait_job(JOB_METHODS);
    assert_true(s->quality.valid);
    assert_true(s->quality.plan_hash == session_plan_hash(&s->plan));
    assert_true(s->calib.valid);
    assert_false(s->calib.stale);
    assert_true(s->calib.all_matrices);
    assert_true(s->calib.n_tokens > 150);
    assert_int_equal(s->calib.n_seqs, 3);
    assert_non_null(strstr(s->calib.source, "ql-session-"));
    assert_false(session_needs_calibration(s));
    assert_true(session_tensor_stats(s, wq, &e));
    assert_true(format_equal(e.fmt, parse("q4_0+gptq")));
    const CalibSite *site = session_activation_site(s, wq, false);
    assert_non_null(site);
    assert_true(site->absmax > 0);

    /* the RTN twin of this plan is plain q4_0 everywhere */
    Plan twin;
    Error err;
    assert_int_equal(session_plan_with_method(s, METHOD_RTN, &twin, &err), ST_OK);
    assert_true(format_equal(twin.fmt[wq], FORMAT_INT4));
    plan_free(&twin);

    const MethodState *ms = &s->methods; /* the comparison asked for before the calibration */
    if (!ms->valid) fail_msg("methods: %s", ms->error);
    assert_int_equal(ms->n_changed, 2 + 5 * 7);
    print_message("RTN KL %.4f top-1 %.3f, GPTQ KL %.4f top-1 %.3f; output error %.4f vs %.4f, weight RMSE %.5f vs %.5f\n",
                  ms->rtn.kl_mean, ms->rtn.top1_agree, ms->gptq.kl_mean, ms->gptq.top1_agree, ms->oerr_rtn,
                  ms->oerr_gptq, ms->rmse_rtn, ms->rmse_gptq);
    assert_true(ms->gptq.kl_mean < ms->rtn.kl_mean);
    assert_true(ms->oerr_gptq < ms->oerr_rtn);      /* what GPTQ minimises, on its own inputs */
    assert_true(ms->per_tensor[wq].changed);
    assert_true(ms->per_tensor[wq].oerr_gptq < ms->per_tensor[wq].oerr_rtn);
    assert_true(ms->per_tensor[m->token_embd].rmse_gptq == ms->per_tensor[m->token_embd].rmse_rtn); /* looked up */
    int labelled = 0;
    for (int k = 0; k < s->n_frontier; k++)
        labelled += strstr(s->frontier[k].label, ", RTN") || strstr(s->frontier[k].label, ", GPTQ");
    assert_int_equal(labelled, 2);
}

static void test_session_inject_and_restore(void **state) {
    (void)state;
    const Model *m = s->model;
    const int wq = m->layers[1].attn_q;
    const ModelTensor *t = &m->tensors[wq];
    float *saved = malloc((size_t)t->n_elements * sizeof *saved);
    memcpy(saved, t->f32, (size_t)t->n_elements * sizeof *saved);
    session_request_activations(s);
    wait_job(JOB_ACTS);
    assert_true(s->acts_valid);
    assert_non_null(session_activation_site(s, wq, true));

    /* the largest weight times 25: a per-tensor INT4 scale of 25 max / 7 leaves
     * every other weight below half a step */
    Error err;
    OutlierFacts f;
    assert_int_equal(outliers_facts(t->f32, t->rows, t->cols, 1, &f, &err), ST_OK);
    const int64_t row = f.top[0].row, col = f.top[0].col, at = row * t->cols + col;
    assert_int_equal(session_inject_outlier(s, wq, row, col, 25.0, &err), ST_OK);
    assert_true(session_weights_edited(s));
    assert_true(t->f32[at] == (float)((double)saved[at] * 25.0));
    assert_false(s->methods.valid);
    assert_false(s->quality.valid);
    assert_false(s->acts_valid); /* ranges of the old weights */
    assert_true(s->calib.stale);
    assert_int_equal(s->n_frontier, 0);
    assert_non_null(strstr(s->message, "restore to undo"));
    TensorStatsEntry e;
    assert_true(session_set_format(s, wq, format_teach(4, GRAN_TENSOR, 0, false)));
    assert_true(session_tensor_stats(s, wq, &e));
    assert_int_equal(e.st.n_levels, 2); /* the outlier took the whole per-tensor scale */
    assert_int_equal(session_inject_outlier(s, wq, 99, 0, 2.0, &err), ST_USAGE);

    session_restore_weights(s);
    assert_false(session_weights_edited(s));
    assert_memory_equal(t->f32, saved, (size_t)t->n_elements * sizeof *saved);
    assert_true(session_tensor_stats(s, wq, &e));
    assert_true(e.st.n_levels > 2);
    free(saved);
}

/* A measurement waiting for a calibration ends when the calibration is
 * stopped or cannot be taken, and when the plan changes. */
static void test_session_waiting_measurements_end_with_the_calibration(void **state) {
    (void)state;
    Error err;
    double p;
    /* the same file again: a session without a calibration */
    assert_int_equal(session_switch_model(s, proc_data_path("assets/stories260K.gguf"), NULL, &err), ST_OK);
    assert_true(session_set_format_all(s, parse("q8_0+gptq")));
    session_request_quality(s);
    assert_true(session_job_waiting(s, JOB_QUALITY));
    assert_true(session_job_progress(s, JOB_CALIB, &p, NULL, 0));
    session_cancel_jobs(s); /* Esc */
    assert_false(session_job_waiting(s, JOB_QUALITY));
    wait_job(JOB_CALIB);
    assert_false(s->quality.valid);
    assert_string_equal(s->quality.error, "");

    /* a plan change drops it, as it cancels a running measurement */
    session_request_quality(s);
    assert_true(session_job_waiting(s, JOB_QUALITY));
    assert_true(session_set_format_all(s, parse("q4_0+gptq")));
    assert_false(session_job_waiting(s, JOB_QUALITY));
    session_cancel_jobs(s);
    wait_job(JOB_CALIB);

    /* no calibration text: the measurement says why at once */
    char saved[sizeof s->calib_path];
    memcpy(saved, s->calib_path, sizeof saved);
    s->calib_path[0] = '\0';
    session_request_quality(s);
    assert_false(session_job_waiting(s, JOB_QUALITY));
    assert_non_null(strstr(s->quality.error, "GPTQ needs a calibration"));
    session_request_method_compare(s);
    assert_false(s->methods_after_calib);
    assert_non_null(strstr(s->methods.error, "GPTQ needs a calibration"));
    memcpy(s->calib_path, saved, sizeof saved);
    s->calib.error[0] = '\0';
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_stats_failure_shown_once),
        cmocka_unit_test(test_session_calibrate_then_compare_methods),
        cmocka_unit_test(test_session_inject_and_restore),
        cmocka_unit_test(test_session_waiting_measurements_end_with_the_calibration),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
