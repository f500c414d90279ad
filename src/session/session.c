/* session.c — see session.h. */
#include "session/session.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/datadir.h"
#include "base/file.h"
#include "model/calib.h"
#include "model/export.h"
#include "model/generate.h"
#include "model/inject.h"
#include "quant/gptq.h"
#include "quant/types.h"

/* Tensors at most this big get their statistics on the interface thread: a few
 * milliseconds at most, so a toggle redraws at once. Bigger ones go to the worker. */
enum { SESSION_SYNC_STATS_MAX = 1 << 18 };
/* Predictions used by a sensitivity scan (one pass per tensor). */
enum { SESSION_SENS_TOKENS = 2048 };

#define EVAL_TEXT "assets/eval.txt"
#define CALIB_TEXT "assets/calib.txt"
/* Calibration statistics the session may hold (H matrices, twice: totals and one
 * chunk's partial sums while running). */
#define SESSION_CALIB_MAX_BYTES (1024.0 * 1024.0 * 1024.0)

/* ------------------------------------------------------------ lifetime */

static void drop_waiting(Session *s, int kind, Status st, const Error *err);
static void drop_all_waiting(Session *s, Status st, const Error *err);
static bool format_ready(const Session *s, int i, Format f);
static void stop_jobs(Session *s);

/* A failure for the status line. */
static void fail(Session *s, const char *fmt, ...) QL_PRINTF(2, 3);
static void fail(Session *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->message, sizeof s->message, fmt, ap);
    va_end(ap);
    s->message_is_note = false;
}

/* True while a calibration is running or queued. */
static bool calibrating(Session *s) {
    return worker_busy(s->worker, JOB_CALIB, NULL, NULL, 0);
}

static void free_history(Format **stack, int *n) {
    for (int i = 0; i < *n; i++) free(stack[i]);
    *n = 0;
}

static void reset_methods(Session *s) {
    free(s->methods.per_tensor);
    memset(&s->methods, 0, sizeof s->methods);
}

static void reset_measurements(Session *s) {
    memset(&s->quality, 0, sizeof s->quality);
    memset(&s->speed, 0, sizeof s->speed);
    memset(&s->compare, 0, sizeof s->compare);
    free(s->sens.items);
    memset(&s->sens, 0, sizeof s->sens);
    s->n_frontier = 0;
    reset_methods(s);
}

/* Everything that belongs to the model: dropped before switching models. */
static void release_model(Session *s) {
    if (s->worker) {
        stop_jobs(s);
        worker_poll(s->worker, s);
    }
    drop_all_waiting(s, ST_CANCELLED, NULL);
    s->methods_after_calib = false;
    reset_measurements(s);
    free_history(s->undo, &s->n_undo);
    free_history(s->redo, &s->n_redo);
    evalset_free(&s->eval_set);
    calib_free(&s->acts);
    s->acts_valid = false;
    weight_edits_free(&s->edits); /* the model goes: nothing to restore */
    memset(&s->calib, 0, sizeof s->calib);
    free(s->stats);
    s->stats = NULL;
    plan_free(&s->plan);
    qcache_delete(s->cache);
    s->cache = NULL;
    model_close(s->model);
    s->model = NULL;
    free(s->model_path);
    s->model_path = NULL;
}

static Status attach_model(Session *s, Model *m, const char *path, Error *err) {
    s->model = m;
    s->model_path = malloc(strlen(path) + 1);
    s->cache = qcache_new(m, NULL);
    s->stats = calloc((size_t)m->n_tensors + 1, sizeof *s->stats);
    if (!s->model_path || !s->cache || !s->stats) return error_set(err, ST_NOMEM, "out of memory");
    strcpy(s->model_path, path);
    Status st = plan_init(&s->plan, m, FORMAT_FP32, err);
    if (st != ST_OK) return st;
    snprintf(s->plan_label, sizeof s->plan_label, "%s", plan_preset_label(PRESET_FP32));
    s->saved_hash = session_plan_hash(&s->plan);
    s->generation++;
    return ST_OK;
}

Status session_open(Session **out, const char *model_path, const char *tokenizer_path, int threads,
                    Error *err) {
    *out = NULL;
    Session *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, ST_NOMEM, "out of memory");
    s->threads = threads > 0 ? threads : pool_cpu_count();
    s->ui_tensor = -1;
    Model *m = NULL;
    Status st = model_open(&m, model_path, tokenizer_path, err);
    if (st == ST_OK) st = attach_model(s, m, model_path, err);
    else m = NULL;
    if (st == ST_OK && !(s->worker = worker_new(s->threads)))
        st = error_set(err, ST_NOMEM, "cannot start the background thread");
    if (st != ST_OK) {
        if (!s->model) model_close(m);
        session_close(s);
        return st;
    }
    datadir_find(EVAL_TEXT, s->eval_path, sizeof s->eval_path);
    datadir_find(CALIB_TEXT, s->calib_path, sizeof s->calib_path);
    *out = s;
    return ST_OK;
}

void session_close(Session *s) {
    if (!s) return;
    release_model(s);
    worker_delete(s->worker, s);
    free(s);
}

Status session_switch_model(Session *s, const char *path, const char *tokenizer_path, Error *err) {
    Model *m = NULL;
    Status st = model_open(&m, path, tokenizer_path, err);
    if (st != ST_OK) return st; /* the current model stays */
    release_model(s);
    st = attach_model(s, m, path, err);
    if (st != ST_OK) { /* out of memory half-way: leave an empty but safe session */
        release_model(s);
        return st;
    }
    return ST_OK;
}

/* ------------------------------------------------------------- the plan */

uint64_t session_plan_hash(const Plan *p) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the format keys */
    for (int i = 0; i < p->n_tensors; i++) {
        uint64_t k = format_key(p->fmt[i]);
        for (int b = 0; b < 8; b++) {
            h ^= (k >> (8 * b)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    return h;
}

bool session_plan_dirty(const Session *s) {
    return s->model && session_plan_hash(&s->plan) != s->saved_hash;
}

static Format *snapshot(const Session *s) {
    Format *f = malloc(((size_t)s->plan.n_tensors + 1) * sizeof *f);
    if (f) memcpy(f, s->plan.fmt, (size_t)s->plan.n_tensors * sizeof *f);
    return f;
}

static void push(Format **stack, int *n, Format *f) {
    if (!f) return;
    if (*n == SESSION_UNDO_MAX) { /* forget the oldest step */
        free(stack[0]);
        memmove(stack, stack + 1, (SESSION_UNDO_MAX - 1) * sizeof *stack);
        (*n)--;
    }
    stack[(*n)++] = f;
}

/* Statistics of tensor i are stale: computed again (or tried again, after a
 * failure) when next asked for. */
static void stats_forget(Session *s, int i) {
    s->stats[i].valid = s->stats[i].failed = false;
}

/* What depends on the plan: per-tensor statistics of changed tensors, and the
 * jobs measuring the old plan (their results would be stale on arrival). */
static void plan_changed(Session *s, const Format *before) {
    for (int i = 0; i < s->plan.n_tensors; i++)
        if (!before || !format_equal(before[i], s->plan.fmt[i])) stats_forget(s, i);
    worker_cancel(s->worker, JOB_QUALITY);
    worker_cancel(s->worker, JOB_SPEED);
    worker_cancel(s->worker, JOB_COMPARE);
    drop_waiting(s, JOB_QUALITY, ST_CANCELLED, NULL);
    drop_waiting(s, JOB_SPEED, ST_CANCELLED, NULL);
    drop_waiting(s, JOB_COMPARE, ST_CANCELLED, NULL);
    s->generation++;
}

/* Applies `next` (n_tensors formats) as a new undoable step; false when nothing changes. */
static bool commit_plan(Session *s, const Format *next, const char *label) {
    if (memcmp(next, s->plan.fmt, (size_t)s->plan.n_tensors * sizeof *next) == 0) return false;
    Format *before = snapshot(s);
    if (!before) return false;
    push(s->undo, &s->n_undo, before);
    free_history(s->redo, &s->n_redo);
    memcpy(s->plan.fmt, next, (size_t)s->plan.n_tensors * sizeof *next);
    snprintf(s->plan_label, sizeof s->plan_label, "%s", label);
    plan_changed(s, before);
    return true;
}

static bool set_where(Session *s, int tensor, int layer, Format f) {
    Format *next = snapshot(s);
    if (!next) return false;
    for (int i = 0; i < s->model->n_tensors; i++) {
        const ModelTensor *t = &s->model->tensors[i];
        if (!plan_is_quantizable(t)) continue;
        if ((tensor >= 0 && i == tensor) || (layer >= 0 && t->layer == layer) || (tensor < 0 && layer < 0))
            next[i] = f;
    }
    bool changed = commit_plan(s, next, "edited");
    free(next);
    return changed;
}

bool session_set_format(Session *s, int tensor, Format f) {
    if (tensor < 0 || tensor >= s->model->n_tensors || !plan_is_quantizable(&s->model->tensors[tensor]))
        return false;
    return set_where(s, tensor, -1, f);
}

bool session_set_format_layer(Session *s, int layer, Format f) {
    return layer >= 0 && set_where(s, -1, layer, f);
}

bool session_set_format_all(Session *s, Format f) {
    return set_where(s, -1, -1, f);
}

Status session_apply_preset(Session *s, PlanPreset preset, Error *err) {
    Plan p;
    Status st = plan_preset(&p, s->model, preset, err);
    if (st != ST_OK) return st;
    commit_plan(s, p.fmt, plan_preset_label(preset));
    snprintf(s->plan_label, sizeof s->plan_label, "%s", plan_preset_label(preset));
    plan_free(&p);
    return ST_OK;
}

static bool step_history(Session *s, Format **from, int *n_from, Format **to, int *n_to) {
    if (*n_from == 0) return false;
    Format *cur = snapshot(s);
    if (!cur) return false;
    Format *prev = from[--(*n_from)];
    push(to, n_to, cur);
    memcpy(s->plan.fmt, prev, (size_t)s->plan.n_tensors * sizeof *prev);
    plan_changed(s, cur);
    free(prev);
    snprintf(s->plan_label, sizeof s->plan_label, "edited");
    return true;
}

bool session_undo(Session *s) {
    return step_history(s, s->undo, &s->n_undo, s->redo, &s->n_redo);
}

bool session_redo(Session *s) {
    return step_history(s, s->redo, &s->n_redo, s->undo, &s->n_undo);
}

Status session_save_plan(Session *s, const char *path, Error *err) {
    if (file_same(path, s->model_path))
        return error_set(err, ST_USAGE, "%s: that is the model; quantlab never writes over it", path);
    char *text = NULL;
    Status st = plan_to_text(&s->plan, s->model, &text, err);
    if (st == ST_OK) st = atomic_file_write(path, text, strlen(text), err);
    free(text);
    if (st == ST_OK) {
        s->saved_hash = session_plan_hash(&s->plan);
        snprintf(s->plan_label, sizeof s->plan_label, "%s", file_basename(path));
        s->generation++;
    }
    return st;
}

Status session_load_plan(Session *s, const char *path, Error *err) {
    char *text = NULL;
    size_t len = 0;
    PlanRules r;
    Plan p = {0};
    Status st = file_read_all(path, 1 << 20, &text, &len, err);
    if (st == ST_OK) st = plan_rules_parse(&r, text, len, path, err);
    free(text);
    if (st != ST_OK) return st;
    if ((st = plan_init(&p, s->model, FORMAT_FP32, err)) == ST_OK &&
        (st = plan_apply_rules(&p, s->model, &r, path, err)) == ST_OK) {
        commit_plan(s, p.fmt, file_basename(path));
        snprintf(s->plan_label, sizeof s->plan_label, "%s", file_basename(path));
        s->saved_hash = session_plan_hash(&s->plan);
    }
    plan_rules_free(&r);
    plan_free(&p);
    return st;
}

Format session_ladder_step(Format f, int direction) {
    static const uint32_t ladder[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0};
    const int n = (int)(sizeof ladder / sizeof ladder[0]);
    int pos = -1;
    if (f.kind == FORMAT_GGML)
        for (int i = 0; i < n; i++)
            if (ladder[i] == f.type) pos = i;
    if (pos < 0) { /* off the ladder: place it by its bits per weight */
        double bits = format_bits_per_weight(f, 1, 256);
        pos = bits > 16 ? 0 : bits > 8.5 ? 1 : bits > 4.5 ? 2 : 3;
        if ((direction < 0 && bits > format_bits_per_weight(format_ggml(ladder[pos]), 1, 256)) ||
            (direction > 0 && bits < format_bits_per_weight(format_ggml(ladder[pos]), 1, 256)))
            return format_ggml(ladder[pos]);
    }
    pos += direction < 0 ? 1 : -1; /* "fewer bits" moves down the list */
    if (pos < 0) pos = 0;
    if (pos >= n) pos = n - 1;
    return format_ggml(ladder[pos]);
}

/* ----------------------------------------------------------- statistics */

/* Fills *e (left invalid on error). Runs on either thread: touches no session state. */
static Status compute_stats(Session *s, int i, Format f, Pool *pool, TensorStatsEntry *e, Error *err) {
    const ModelTensor *t = &s->model->tensors[i];
    const QTensor *q;
    memset(e, 0, sizeof *e);
    e->fmt = f;
    Status st = qcache_get(s->cache, i, f, &q, err);
    if (st != ST_OK) {
        e->failed = true;
        return st;
    }
    stats_compute(t->f32, q->dequant, t->n_elements, pool, &e->st);
    e->bytes = q->bytes;
    e->valid = true;
    return ST_OK;
}

typedef struct StatsJob {
    Session *s;
    int n;
    int *tensors;
    Format *fmts;
    TensorStatsEntry *out;
    Error failure; /* the first tensor that failed (msg "" when none), for stats_done */
} StatsJob;

static Status stats_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    StatsJob *j = ctx;
    (void)err;
    for (int k = 0; k < j->n; k++) {
        if (!progress_update(progress, (double)k / j->n, j->s->model->tensors[j->tensors[k]].name))
            return ST_CANCELLED;
        Error e;
        if (compute_stats(j->s, j->tensors[k], j->fmts[k], pool, &j->out[k], &e) != ST_OK && !j->failure.msg[0])
            j->failure = e;
    }
    return ST_OK;
}

static void stats_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    StatsJob *j = ctx;
    (void)err;
    if (st == ST_OK)
        for (int k = 0; k < j->n; k++) { /* only if the plan still wants that format */
            int i = j->tensors[k];
            if ((j->out[k].valid || j->out[k].failed) && format_equal(s->plan.fmt[i], j->fmts[k]))
                s->stats[i] = j->out[k];
        }
    if (j->failure.msg[0]) fail(s, "%s", j->failure.msg);
    s->generation++;
    free(j->tensors);
    free(j->fmts);
    free(j->out);
    free(j);
}

static void queue_big_stats(Session *s) {
    if (worker_busy(s->worker, JOB_STATS, NULL, NULL, 0)) return;
    StatsJob *j = calloc(1, sizeof *j);
    if (!j) return;
    int n_max = s->model->n_tensors;
    j->s = s;
    j->tensors = malloc((size_t)n_max * sizeof *j->tensors);
    j->fmts = malloc((size_t)n_max * sizeof *j->fmts);
    j->out = calloc((size_t)n_max, sizeof *j->out);
    for (int i = 0; j->tensors && j->fmts && i < n_max; i++) {
        const ModelTensor *t = &s->model->tensors[i];
        if (!t->f32 || s->stats[i].valid || t->n_elements <= SESSION_SYNC_STATS_MAX) continue;
        Format f = plan_is_quantizable(t) ? s->plan.fmt[i] : FORMAT_FP32;
        if (s->stats[i].failed && format_equal(s->stats[i].fmt, f)) continue;
        if (!format_ready(s, i, f)) continue;
        j->tensors[j->n] = i;
        j->fmts[j->n] = f;
        j->n++;
    }
    if (j->n == 0 || !j->out || !worker_submit(s->worker, JOB_STATS, "statistics", stats_run, stats_done, j)) {
        free(j->tensors);
        free(j->fmts);
        free(j->out);
        free(j);
    }
}

bool session_tensor_stats(Session *s, int i, TensorStatsEntry *out) {
    const ModelTensor *t = &s->model->tensors[i];
    if (!t->f32) return false;
    Format f = plan_is_quantizable(t) ? s->plan.fmt[i] : FORMAT_FP32;
    if (!s->stats[i].valid || !format_equal(s->stats[i].fmt, f)) {
        /* a failure is shown once, not retried (and re-queued) on every redraw */
        if (s->stats[i].failed && format_equal(s->stats[i].fmt, f)) return false;
        stats_forget(s, i);
        if (!format_ready(s, i, f)) return false; /* a +gptq copy waits for the calibration */
        if (t->n_elements > SESSION_SYNC_STATS_MAX) {
            queue_big_stats(s);
            return false;
        }
        Error err;
        if (compute_stats(s, i, f, NULL, &s->stats[i], &err) != ST_OK) {
            fail(s, "%s", err.msg);
            return false;
        }
    }
    *out = s->stats[i];
    return true;
}

double session_plan_bytes(const Session *s) {
    return plan_bytes(&s->plan, s->model);
}

double session_plan_bits(const Session *s) {
    return plan_bits_per_weight(&s->plan, s->model);
}

/* ------------------------------------------------------------ measuring */

static Status ensure_eval_set(Session *s, Error *err) {
    if (s->eval_set.n_seqs > 0) return ST_OK;
    if (!s->eval_path[0])
        return error_set(err, ST_IO, "the evaluation text %s is missing", EVAL_TEXT);
    char *text = NULL;
    size_t len = 0;
    Status st = file_read_all(s->eval_path, 16u << 20, &text, &len, err);
    if (st == ST_OK)
        st = evalset_from_text(&s->eval_set, s->model, text, len, s->eval_path, EVAL_LLAMA2C, 0, 0, err);
    free(text);
    return st;
}

/* A job's own copy of the plan, so edits during the job cannot touch it. */
typedef struct MeasureJob {
    Session *s;
    Plan plan;
    uint64_t hash;
    QualityResult quality;
    double tps_fp32, tps_plan;
    bool native;
    int n_tokens;
    SensitivityItem *items;
    int n_items;
    Format target;
    SensitivityUnit unit;
    CompareState compare;
    char path[1024];
    Format fallback;
    ExportReport report;
    /* how it is submitted, kept so that one waiting for a calibration can be */
    int kind;
    const char *label;
    JobRun run;
    JobDone done;
} MeasureJob;

static MeasureJob *measure_job_new(Session *s) {
    MeasureJob *j = calloc(1, sizeof *j);
    Error err;
    if (!j) return NULL;
    if (plan_copy(&j->plan, &s->plan, &err) != ST_OK) {
        free(j);
        return NULL;
    }
    j->s = s;
    j->hash = session_plan_hash(&s->plan);
    return j;
}

static void measure_job_free(MeasureJob *j) {
    if (!j) return;
    plan_free(&j->plan);
    free(j->items);
    free(j);
}

static void note_failure(Session *s, Status st, const Error *err) {
    if (st != ST_OK && st != ST_CANCELLED) fail(s, "%s", err->msg);
}

/* News for the status line (not a failure). */
static void note(Session *s, const char *fmt, ...) QL_PRINTF(2, 3);
static void note(Session *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->message, sizeof s->message, fmt, ap);
    va_end(ap);
    s->message_is_note = true;
}

/* ---- waiting for a calibration */

/* True when the cache can build tensor i in format f now: a +gptq format needs
 * the calibration's H for the tensor's inputs (a tensor without inputs, such as
 * token_embd, needs none: qcache rounds it to nearest). */
static bool format_ready(const Session *s, int i, Format f) {
    if (f.method != METHOD_GPTQ) return true;
    const Calibration *cal = qcache_calibration(s->cache);
    int64_t n;
    return cal && (!calib_site(cal, i) || calib_hessian(cal, i, &n));
}

static bool plan_ready(const Session *s, const Plan *p) {
    for (int i = 0; i < s->model->n_tensors; i++)
        if (plan_is_quantizable(&s->model->tensors[i]) && !format_ready(s, i, p->fmt[i])) return false;
    return true;
}

/* Ends a job that never ran, through its own completion, as if the worker had
 * given it st (ST_CANCELLED, or the calibration's failure). */
static void abandon(Session *s, MeasureJob *j, Status st, const Error *err) {
    Error none = {ST_CANCELLED, "stopped"};
    j->done(s, j, st, err ? err : &none);
}

/* Ends the measurement of this kind waiting for a calibration, if any. */
static void drop_waiting(Session *s, int kind, Status st, const Error *err) {
    MeasureJob *j = s->after_calib[kind];
    s->after_calib[kind] = NULL;
    if (j) abandon(s, j, st, err);
}

static void drop_all_waiting(Session *s, Status st, const Error *err) {
    for (int k = 0; k < SESSION_JOB_KINDS; k++) drop_waiting(s, k, st, err);
}

static void submit(Session *s, int kind, const char *label, JobRun run, JobDone done, MeasureJob *j) {
    if (!j) return;
    j->kind = kind;
    j->label = label;
    j->run = run;
    j->done = done;
    if (kind != JOB_SENS && !plan_ready(s, &j->plan)) { /* wait for the calibration */
        drop_waiting(s, kind, ST_CANCELLED, NULL);
        s->after_calib[kind] = j;
        if (!calibrating(s)) session_calibrate(s);
        if (s->calib.error[0] && !calibrating(s)) {
            Error e;
            error_set(&e, ST_USAGE, "GPTQ needs a calibration: %s", s->calib.error);
            drop_waiting(s, kind, ST_USAGE, &e);
        }
        return;
    }
    if (!worker_submit(s->worker, kind, label, run, done, j)) measure_job_free(j);
}

bool session_job_waiting(const Session *s, SessionJobKind kind) {
    if (kind == JOB_METHODS) return s->methods_after_calib;
    return (int)kind >= 0 && (int)kind < SESSION_JOB_KINDS && s->after_calib[kind] != NULL;
}

static Status quality_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MeasureJob *j = ctx;
    Weights base = {0}, plan = {0};
    Status st = weights_init_f32(&base, j->s->model, err);
    if (st == ST_OK) st = weights_init_plan(&plan, j->s->model, &j->plan, j->s->cache, err);
    if (st == ST_OK) st = eval_quality(&base, &plan, &j->s->eval_set, pool, progress, &j->quality, err);
    weights_free(&plan);
    weights_free(&base);
    return st;
}

/* Records plan p's quality as a frontier point (replacing one of the same plan). */
static void add_frontier(Session *s, const Plan *p, uint64_t hash, const QualityResult *q, const char *label) {
    int k = 0;
    while (k < s->n_frontier && s->frontier[k].plan_hash != hash) k++;
    if (k == s->n_frontier) {
        if (s->n_frontier == SESSION_FRONTIER_MAX) { /* keep the newest */
            memmove(s->frontier, s->frontier + 1, (SESSION_FRONTIER_MAX - 1) * sizeof *s->frontier);
            k = SESSION_FRONTIER_MAX - 1;
        } else {
            s->n_frontier++;
        }
    }
    FrontierPoint *f = &s->frontier[k];
    f->plan_hash = hash;
    f->bytes = plan_bytes(p, s->model);
    f->bits_per_weight = plan_bits_per_weight(p, s->model);
    f->kl_mean = q->kl_mean;
    f->ppl = q->ppl_plan;
    f->top1 = q->top1_agree;
    snprintf(f->label, sizeof f->label, "%s", label);
}

static void quality_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MeasureJob *j = ctx;
    if (st == ST_OK) {
        s->quality.valid = true;
        s->quality.plan_hash = j->hash;
        s->quality.r = j->quality;
        s->quality.error[0] = '\0';
        add_frontier(s, &j->plan, j->hash, &j->quality,
                     j->hash == session_plan_hash(&s->plan) ? s->plan_label : "plan");
    } else if (st != ST_CANCELLED) {
        snprintf(s->quality.error, sizeof s->quality.error, "%s", err->msg);
    }
    note_failure(s, st, err);
    s->generation++;
    measure_job_free(j);
}

void session_request_quality(Session *s) {
    Error err;
    if (ensure_eval_set(s, &err) != ST_OK) {
        snprintf(s->quality.error, sizeof s->quality.error, "%s", err.msg);
        fail(s, "%s", err.msg);
        return;
    }
    submit(s, JOB_QUALITY, "measuring quality", quality_run, quality_done, measure_job_new(s));
}

static bool plan_runs_natively(Session *s, const Plan *p) {
    for (int i = 0; i < s->model->n_tensors; i++) {
        if (!plan_is_quantizable(&s->model->tensors[i])) continue;
        const QTensor *q;
        Error err;
        if (qcache_get(s->cache, i, p->fmt[i], &q, &err) != ST_OK || !qtensor_runs_natively(q)) return false;
    }
    return true;
}

static Status speed_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MeasureJob *j = ctx;
    Weights base = {0}, plan = {0};
    Status st = weights_init_f32(&base, j->s->model, err);
    if (st == ST_OK) st = weights_init_plan(&plan, j->s->model, &j->plan, j->s->cache, err);
    if (st == ST_OK && progress_update(progress, 0.0, "FP32 speed"))
        st = eval_speed(&base, pool, j->n_tokens, &j->tps_fp32, err);
    if (st == ST_OK && progress_update(progress, 0.5, "plan speed"))
        st = eval_speed(&plan, pool, j->n_tokens, &j->tps_plan, err);
    if (st == ST_OK && progress_cancelled(progress)) st = ST_CANCELLED;
    if (st == ST_OK) j->native = plan_runs_natively(j->s, &j->plan);
    weights_free(&plan);
    weights_free(&base);
    return st;
}

static void speed_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MeasureJob *j = ctx;
    if (st == ST_OK) {
        s->speed.valid = true;
        s->speed.plan_hash = j->hash;
        s->speed.tps_fp32 = j->tps_fp32;
        s->speed.tps_plan = j->tps_plan;
        s->speed.plan_native = j->native;
        s->speed.threads = s->threads;
    }
    note_failure(s, st, err);
    s->generation++;
    measure_job_free(j);
}

void session_request_speed(Session *s, int n_tokens) {
    MeasureJob *j = measure_job_new(s);
    if (!j) return;
    int ctx = s->model->cfg.context_length;
    j->n_tokens = n_tokens < ctx ? n_tokens : ctx;
    if (j->n_tokens < 2) j->n_tokens = 2;
    submit(s, JOB_SPEED, "measuring speed", speed_run, speed_done, j);
}

static bool column_add(void *ctx, const GenerateStep *step) {
    GenColumn *c = ctx;
    if (c->n > SESSION_COMPARE_MAX) return false;
    c->ids[c->n] = step->token;
    c->probs[c->n] = step->prob;
    c->n++;
    return true;
}

static Status generate_column(const Weights *w, Pool *pool, const int *prompt, int n_prompt,
                              const CompareState *cfg, GenColumn *out, Error *err) {
    RunState rs;
    Sampler smp;
    memset(out, 0, sizeof *out);
    int positions = n_prompt - 1 + cfg->n_new;
    Status st = runstate_init(&rs, &w->model->cfg, positions > 0 ? positions : 1, pool, err);
    if (st != ST_OK) return st;
    st = sampler_init(&smp, w->model->cfg.vocab_size, cfg->sampled ? 1.0f : 0.0f, 0.9f, cfg->seed, err);
    if (st == ST_OK) {
        GenerateStats gs;
        st = generate_run(w, &rs, &smp, prompt, n_prompt, cfg->n_new, column_add, out, &gs, err);
        out->tps = gs.seconds > 0 ? (gs.n_prompt - 1 + gs.n_generated) / gs.seconds : 0;
        sampler_free(&smp);
    }
    runstate_free(&rs);
    return st;
}

static Status compare_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MeasureJob *j = ctx;
    CompareState *c = &j->compare;
    const Model *m = j->s->model;
    int *prompt = NULL, n_prompt = 0;
    Status st = tokenizer_encode(&m->tok, c->prompt, strlen(c->prompt), true, false, &prompt, &n_prompt, err);
    if (st == ST_OK && n_prompt > SESSION_COMPARE_MAX / 2)
        st = error_set(err, ST_USAGE, "the prompt is %d tokens; keep it under %d", n_prompt, SESSION_COMPARE_MAX / 2);
    int max_new = SESSION_COMPARE_MAX - n_prompt;
    if (c->n_new > max_new) c->n_new = max_new;
    Weights base = {0}, plan = {0};
    if (st == ST_OK) st = weights_init_f32(&base, m, err);
    if (st == ST_OK) st = weights_init_plan(&plan, m, &j->plan, j->s->cache, err);
    if (st == ST_OK && progress_update(progress, 0.0, "FP32 writes"))
        st = generate_column(&base, pool, prompt, n_prompt, c, &c->fp32, err);
    if (st == ST_OK && progress_update(progress, 0.5, "the plan writes"))
        st = generate_column(&plan, pool, prompt, n_prompt, c, &c->plan, err);
    if (st == ST_OK && progress_cancelled(progress)) st = ST_CANCELLED;
    if (st == ST_OK) {
        c->first_diff = -1;
        int n = c->fp32.n < c->plan.n ? c->fp32.n : c->plan.n;
        for (int i = 0; i < n && c->first_diff < 0; i++)
            if (c->fp32.ids[i] != c->plan.ids[i]) c->first_diff = i;
        if (c->first_diff < 0 && c->fp32.n != c->plan.n) c->first_diff = n;
        c->valid = true;
        c->plan_hash = j->hash;
    }
    weights_free(&plan);
    weights_free(&base);
    free(prompt);
    return st;
}

static void compare_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MeasureJob *j = ctx;
    if (st == ST_OK) s->compare = j->compare;
    note_failure(s, st, err);
    s->generation++;
    measure_job_free(j);
}

void session_request_compare(Session *s, const char *prompt, bool sampled, uint64_t seed, int n_new) {
    MeasureJob *j = measure_job_new(s);
    if (!j) return;
    snprintf(j->compare.prompt, sizeof j->compare.prompt, "%s", prompt);
    j->compare.sampled = sampled;
    j->compare.seed = seed;
    j->compare.n_new = n_new;
    submit(s, JOB_COMPARE, "writing both stories", compare_run, compare_done, j);
}

static Status sens_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MeasureJob *j = ctx;
    EvalSet small;
    char *text = NULL;
    size_t len = 0;
    Status st = file_read_all(j->s->eval_path, 16u << 20, &text, &len, err);
    if (st == ST_OK)
        st = evalset_from_text(&small, j->s->model, text, len, j->s->eval_path, EVAL_LLAMA2C, 0,
                               SESSION_SENS_TOKENS, err);
    free(text);
    if (st != ST_OK) return st;
    st = eval_sensitivity(j->s->model, j->s->cache, j->target, j->unit, &small, pool, progress, &j->items,
                          &j->n_items, err);
    evalset_free(&small);
    return st;
}

static void sens_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MeasureJob *j = ctx;
    if (st == ST_OK) {
        free(s->sens.items);
        s->sens.items = j->items;
        s->sens.n = j->n_items;
        s->sens.target = j->target;
        s->sens.unit = j->unit;
        s->sens.valid = true;
        j->items = NULL;
    }
    note_failure(s, st, err);
    s->generation++;
    measure_job_free(j);
}

void session_request_sensitivity(Session *s, Format target, SensitivityUnit unit) {
    if (!s->eval_path[0]) {
        fail(s, "the evaluation text %s is missing", EVAL_TEXT);
        return;
    }
    MeasureJob *j = measure_job_new(s);
    if (!j) return;
    j->target = target;
    j->unit = unit;
    submit(s, JOB_SENS, "sensitivity scan", sens_run, sens_done, j);
}

static Status export_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MeasureJob *j = ctx;
    (void)pool;
    (void)progress;
    return model_export_gguf(j->s->model, &j->plan, j->s->cache, j->fallback, j->path, &j->report, err);
}

static void export_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MeasureJob *j = ctx;
    if (st == ST_OK)
        note(s, "wrote %.300s (%d tensors%s)", j->path, j->report.n_tensors,
             j->report.n_fallback ? ", some kept in F16: their rows are not whole blocks" : "");
    note_failure(s, st, err);
    s->generation++;
    measure_job_free(j);
}

void session_request_export(Session *s, const char *path, Format fallback) {
    MeasureJob *j = measure_job_new(s);
    if (!j) return;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fallback = fallback;
    submit(s, JOB_EXPORT, "writing GGUF", export_run, export_done, j);
}

void session_cancel_jobs(Session *s) {
    worker_cancel_all(s->worker);
    drop_all_waiting(s, ST_CANCELLED, NULL);
    if (s->methods_after_calib) {
        s->methods_after_calib = false;
        snprintf(s->methods.error, sizeof s->methods.error, "stopped before the calibration was taken");
    }
}

int session_poll(Session *s) {
    return worker_poll(s->worker, s);
}

bool session_job_progress(Session *s, SessionJobKind kind, double *progress, char *label,
                          size_t label_size) {
    return worker_busy(s->worker, kind, progress, label, label_size);
}

/* ================================================ beyond rounding */

/* Stops every background job and waits for the worker: they may read weights
 * or cached copies that are about to change. Their completions (ST_CANCELLED)
 * are taken in by the next session_poll. */
static void stop_jobs(Session *s) {
    worker_cancel_all(s->worker);
    worker_wait_idle(s->worker);
}

static bool plan_has_gptq(const Session *s) {
    for (int i = 0; i < s->model->n_tensors; i++)
        if (plan_is_quantizable(&s->model->tensors[i]) && s->plan.fmt[i].method == METHOD_GPTQ) return true;
    return false;
}

/* After the copies a plan's GPTQ tensors come from changed. */
static void gptq_copies_changed(Session *s) {
    for (int i = 0; i < s->model->n_tensors; i++)
        if (s->plan.fmt[i].method == METHOD_GPTQ) stats_forget(s, i);
    if (plan_has_gptq(s)) {
        s->quality.valid = false;
        memset(&s->compare, 0, sizeof s->compare);
    }
    reset_methods(s);
}

/* ---- calibration */

typedef struct CalibJob {
    Session *s;
    bool *want;     /* NULL: every matrix */
    char path[1024];
    Calibration cal;
} CalibJob;

static void calib_job_free(CalibJob *j) {
    if (!j) return;
    calib_free(&j->cal);
    free(j->want);
    free(j);
}

static Status calib_job_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    CalibJob *j = ctx;
    char *text = NULL;
    size_t len = 0;
    EvalSet set = {0};
    const char *name = file_basename(j->path);
    CalibOptions opt = {j->want, SESSION_CALIB_MAX_BYTES};
    Status st = file_read_all(j->path, 256u << 20, &text, &len, err);
    if (st == ST_OK) st = evalset_from_text(&set, j->s->model, text, len, name, EVAL_LLAMA2C, 0, 0, err);
    if (st == ST_OK) st = calib_run(&j->cal, j->s->model, &set, name, &opt, pool, progress, err);
    evalset_free(&set);
    free(text);
    return st;
}

static void calib_job_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    CalibJob *j = ctx;
    if (st == ST_OK) {
        stop_jobs(s); /* they may be using copies made from the old calibration */
        CalibState *c = &s->calib;
        memset(c, 0, sizeof *c);
        c->valid = true;
        c->all_matrices = j->want == NULL;
        c->n_tokens = j->cal.n_tokens;
        c->n_seqs = j->cal.n_seqs;
        c->seconds = j->cal.seconds;
        snprintf(c->source, sizeof c->source, "%s", j->cal.source);
        qcache_set_calibration(s->cache, &j->cal);
        gptq_copies_changed(s);
        note(s, "calibrated on %s: %lld tokens%s", c->source, (long long)c->n_tokens,
             c->all_matrices ? "" : " (GPTQ statistics for the +gptq matrices only)");
        /* what waited for it */
        for (int k = 0; k < SESSION_JOB_KINDS; k++) {
            MeasureJob *w = s->after_calib[k];
            if (!w) continue;
            s->after_calib[k] = NULL;
            if (!plan_ready(s, &w->plan)) { /* a big model, calibrated for another plan */
                Error e;
                error_set(&e, ST_USAGE, "the calibration lacks GPTQ statistics for some of this plan's matrices: "
                                        "calibrate again with this plan");
                abandon(s, w, ST_USAGE, &e);
            } else if (!worker_submit(s->worker, w->kind, w->label, w->run, w->done, w)) {
                measure_job_free(w);
            }
        }
        if (s->methods_after_calib) {
            s->methods_after_calib = false;
            session_request_method_compare(s);
        }
    } else {
        if (st != ST_CANCELLED) snprintf(s->calib.error, sizeof s->calib.error, "%s", err->msg);
        if (!calibrating(s)) { /* not replaced by a newer calibration */
            Error e;
            error_set(&e, ST_USAGE, "GPTQ needs a calibration: %s", st == ST_CANCELLED ? "it was stopped" : err->msg);
            drop_all_waiting(s, st == ST_CANCELLED ? ST_CANCELLED : ST_USAGE, &e);
            if (s->methods_after_calib) {
                s->methods_after_calib = false;
                snprintf(s->methods.error, sizeof s->methods.error, "%s", e.msg);
            }
        }
    }
    note_failure(s, st, err);
    s->generation++;
    calib_job_free(j);
}

void session_calibrate(Session *s) {
    if (!s->calib_path[0]) {
        snprintf(s->calib.error, sizeof s->calib.error, "the calibration text %s is missing", CALIB_TEXT);
        fail(s, "%s", s->calib.error);
        return;
    }
    CalibJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->s = s;
    snprintf(j->path, sizeof j->path, "%s", s->calib_path);
    if (2 * calib_h_bytes(s->model, NULL) > SESSION_CALIB_MAX_BYTES) { /* too big for all: the plan's +gptq ones */
        j->want = calloc((size_t)s->model->n_tensors + 1, sizeof *j->want);
        if (!j->want) {
            free(j);
            return;
        }
        for (int i = 0; i < s->model->n_tensors; i++)
            j->want[i] = s->plan.fmt[i].method == METHOD_GPTQ ||
                         (s->methods_after_calib && plan_is_quantizable(&s->model->tensors[i]) &&
                          format_gptq_capable(format_base(s->plan.fmt[i])));
    }
    if (!worker_submit(s->worker, JOB_CALIB, "calibrating", calib_job_run, calib_job_done, j)) calib_job_free(j);
    else s->calib.error[0] = '\0';
}

bool session_needs_calibration(const Session *s) {
    return !plan_ready(s, &s->plan);
}

Status session_plan_with_method(const Session *s, QuantMethod method, Plan *out, Error *err) {
    Status st = plan_copy(out, &s->plan, err);
    if (st != ST_OK) return st;
    for (int i = 0; i < s->model->n_tensors; i++)
        if (plan_is_quantizable(&s->model->tensors[i]) && format_gptq_capable(format_base(out->fmt[i])))
            out->fmt[i] = format_with_method(out->fmt[i], method);
    return ST_OK;
}

/* ---- RTN vs GPTQ */

typedef struct MethodJob {
    Session *s;
    Plan rtn, gptq;
    uint64_t hash, hash_rtn, hash_gptq;
    MethodState out;
    char label[64];
} MethodJob;

static void method_job_free(MethodJob *j) {
    if (!j) return;
    plan_free(&j->rtn);
    plan_free(&j->gptq);
    free(j->out.per_tensor);
    free(j);
}

/* Weight RMSE and output error of one matrix in one plan's format. */
static Status method_figures(const Model *m, QuantCache *c, int i, Format f, double *sse, double *oerr, double *oref,
                             Error *err) {
    const ModelTensor *t = &m->tensors[i];
    const QTensor *q;
    Status st = qcache_get(c, i, f, &q, err);
    if (st != ST_OK) return st;
    double e = 0;
    for (int64_t k = 0; k < t->n_elements; k++) {
        const double d = (double)q->dequant[k] - (double)t->f32[k];
        e += d * d;
    }
    *sse = e;
    int64_t n;
    const double *h = calib_hessian(qcache_calibration(c), i, &n);
    *oerr = *oref = 0;
    if (h) gptq_output_error(h, t->f32, q->dequant, t->rows, t->cols, oerr, oref);
    return ST_OK;
}

static Status method_job_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    MethodJob *j = ctx;
    Session *s = j->s;
    const Model *m = s->model;
    ProgressSpan sp;
    Progress p = progress_span(&sp, progress, 0.0, 0.2, NULL);
    Status st = qcache_prepare(s->cache, &j->gptq, &p, err);
    if (st == ST_OK) st = qcache_prepare(s->cache, &j->rtn, NULL, err);
    /* per matrix: weight error and output error on the calibration inputs */
    double sse_r = 0, sse_g = 0, n_w = 0, oe_r = 0, oe_g = 0, oref = 0;
    for (int i = 0; st == ST_OK && i < m->n_tensors; i++) {
        if (!plan_is_quantizable(&m->tensors[i]) || format_equal(j->rtn.fmt[i], j->gptq.fmt[i])) continue;
        MethodTensor *mt = &j->out.per_tensor[i];
        double a, b, ref;
        mt->changed = true;
        j->out.n_changed++;
        if ((st = method_figures(m, s->cache, i, j->rtn.fmt[i], &a, &mt->oerr_rtn, &ref, err)) != ST_OK) break;
        if ((st = method_figures(m, s->cache, i, j->gptq.fmt[i], &b, &mt->oerr_gptq, &ref, err)) != ST_OK) break;
        const double n = (double)m->tensors[i].n_elements;
        mt->rmse_rtn = sqrt(a / n);
        mt->rmse_gptq = sqrt(b / n);
        sse_r += a;
        sse_g += b;
        n_w += n;
        oe_r += mt->oerr_rtn;
        oe_g += mt->oerr_gptq;
        oref += ref;
        if (ref > 0) {
            mt->oerr_rtn /= ref;
            mt->oerr_gptq /= ref;
        }
    }
    j->out.rmse_rtn = n_w > 0 ? sqrt(sse_r / n_w) : 0;
    j->out.rmse_gptq = n_w > 0 ? sqrt(sse_g / n_w) : 0;
    j->out.oerr_rtn = oref > 0 ? oe_r / oref : 0;
    j->out.oerr_gptq = oref > 0 ? oe_g / oref : 0;
    Weights base = {0}, wr = {0}, wg = {0};
    if (st == ST_OK) st = weights_init_f32(&base, m, err);
    if (st == ST_OK) st = weights_init_plan(&wr, m, &j->rtn, s->cache, err);
    if (st == ST_OK) st = weights_init_plan(&wg, m, &j->gptq, s->cache, err);
    if (st == ST_OK) {
        p = progress_span(&sp, progress, 0.2, 0.6, NULL);
        st = eval_quality(&base, &wr, &s->eval_set, pool, &p, &j->out.rtn, err);
    }
    if (st == ST_OK) {
        p = progress_span(&sp, progress, 0.6, 1.0, NULL);
        st = eval_quality(&base, &wg, &s->eval_set, pool, &p, &j->out.gptq, err);
    }
    weights_free(&wg);
    weights_free(&wr);
    weights_free(&base);
    return st;
}

static void method_job_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    MethodJob *j = ctx;
    if (st == ST_OK) {
        reset_methods(s);
        s->methods = j->out;
        s->methods.valid = true;
        s->methods.plan_hash = j->hash;
        j->out.per_tensor = NULL;
        char label[96];
        snprintf(label, sizeof label, "%.50s, RTN", j->label);
        add_frontier(s, &j->rtn, j->hash_rtn, &s->methods.rtn, label);
        snprintf(label, sizeof label, "%.50s, GPTQ", j->label);
        add_frontier(s, &j->gptq, j->hash_gptq, &s->methods.gptq, label);
    } else if (st != ST_CANCELLED) {
        snprintf(s->methods.error, sizeof s->methods.error, "%s", err->msg);
    }
    note_failure(s, st, err);
    s->generation++;
    method_job_free(j);
}

void session_request_method_compare(Session *s) {
    Error err;
    s->methods.error[0] = '\0';
    const bool running = calibrating(s);
    if (!qcache_calibration(s->cache) || running) { /* compare once the calibration is in */
        s->methods_after_calib = true;
        if (!running) session_calibrate(s);
        if (!calibrating(s)) {
            s->methods_after_calib = false;
            snprintf(s->methods.error, sizeof s->methods.error, "GPTQ needs a calibration: %.400s",
                     s->calib.error[0] ? s->calib.error : "it could not be started");
        }
        return;
    }
    if (ensure_eval_set(s, &err) != ST_OK) {
        snprintf(s->methods.error, sizeof s->methods.error, "%s", err.msg);
        return;
    }
    MethodJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->s = s;
    j->hash = session_plan_hash(&s->plan);
    snprintf(j->label, sizeof j->label, "%s", s->plan_label);
    j->out.per_tensor = calloc((size_t)s->model->n_tensors + 1, sizeof *j->out.per_tensor);
    if (!j->out.per_tensor || session_plan_with_method(s, METHOD_RTN, &j->rtn, &err) != ST_OK ||
        session_plan_with_method(s, METHOD_GPTQ, &j->gptq, &err) != ST_OK) {
        method_job_free(j);
        return;
    }
    j->hash_rtn = session_plan_hash(&j->rtn);
    j->hash_gptq = session_plan_hash(&j->gptq);
    if (j->hash_rtn == j->hash_gptq) {
        snprintf(s->methods.error, sizeof s->methods.error,
                 "no matrix of this plan can take GPTQ (it needs q8_0, q4_0 or a teaching format)");
        method_job_free(j);
        return;
    }
    if (!worker_submit(s->worker, JOB_METHODS, "RTN vs GPTQ", method_job_run, method_job_done, j)) method_job_free(j);
}

/* ---- activation ranges */

typedef struct ActsJob {
    Session *s;
    bool *want; /* all false: ranges only */
    Calibration cal;
} ActsJob;

static Status acts_job_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    ActsJob *j = ctx;
    CalibOptions opt = {j->want, 0};
    return calib_run(&j->cal, j->s->model, &j->s->eval_set, file_basename(j->s->eval_path), &opt, pool, progress, err);
}

static void acts_job_done(void *app, void *ctx, Status st, const Error *err) {
    Session *s = app;
    ActsJob *j = ctx;
    if (st == ST_OK) {
        calib_free(&s->acts);
        s->acts = j->cal;
        memset(&j->cal, 0, sizeof j->cal);
        s->acts_valid = true;
    }
    note_failure(s, st, err);
    s->generation++;
    calib_free(&j->cal);
    free(j->want);
    free(j);
}

void session_request_activations(Session *s) {
    Error err;
    if (ensure_eval_set(s, &err) != ST_OK) {
        fail(s, "%s", err.msg);
        return;
    }
    ActsJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->s = s;
    j->want = calloc((size_t)s->model->n_tensors + 1, sizeof *j->want);
    if (!j->want || !worker_submit(s->worker, JOB_ACTS, "activation ranges", acts_job_run, acts_job_done, j)) {
        free(j->want);
        free(j);
    }
}

const CalibSite *session_activation_site(const Session *s, int tensor, bool from_eval) {
    if (from_eval) return s->acts_valid ? calib_site(&s->acts, tensor) : NULL;
    return calib_site(qcache_calibration(s->cache), tensor);
}

/* ---- injected outliers */

/* What an edit of the weights makes stale. */
static void weights_changed(Session *s, int tensor) {
    if (tensor >= 0) stats_forget(s, tensor);
    else
        for (int i = 0; i < s->model->n_tensors; i++) stats_forget(s, i);
    reset_measurements(s);
    calib_free(&s->acts);
    s->acts_valid = false;
    if (s->calib.valid) s->calib.stale = true;
    s->generation++;
}

Status session_inject_outlier(Session *s, int tensor, int64_t row, int64_t col, double factor, Error *err) {
    stop_jobs(s);
    Status st = model_inject_outlier(s->model, s->cache, &s->edits, tensor, row, col, factor, err);
    if (st != ST_OK) return st;
    weights_changed(s, tensor);
    const ModelTensor *t = &s->model->tensors[tensor];
    const WeightEdit *e = &s->edits.items[s->edits.n - 1];
    note(s, "%s[%lld, %lld]: %g -> %g (x%g); restore to undo", t->name, (long long)row, (long long)col,
         (double)e->original, (double)e->value, factor);
    return ST_OK;
}

void session_restore_weights(Session *s) {
    if (s->edits.n == 0) return;
    stop_jobs(s);
    model_restore_weights(s->model, s->cache, &s->edits);
    weights_changed(s, -1);
    note(s, "weights restored");
}

bool session_weights_edited(const Session *s) {
    return s->edits.n > 0;
}
