/* session.h — one explorer session: a model, the plan being edited, its history,
 * and everything measured about it, independent of any screen.
 *
 * The terminal interface (tui/) and the lesson engine (lesson/) are clients: the
 * interface turns keys into session calls and draws session state; lessons check
 * session state to see whether a learner did what a step asked. Long work runs on
 * the session's worker thread; session_poll() (called by the interface loop)
 * takes finished results in. Nothing here draws or prints.
 *
 * Every figure held here was measured by this program on this machine during
 * this session; a figure computed for another plan is marked stale, never shown
 * as current.
 */
#ifndef QL_SESSION_SESSION_H
#define QL_SESSION_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/worker.h"
#include "model/calib.h"
#include "model/eval.h"
#include "model/inject.h"
#include "model/model.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "quant/stats.h"

typedef enum SessionJobKind {
    JOB_QUALITY = 1, /* perplexity / KL / top-1 of the plan against FP32 */
    JOB_SPEED,       /* tokens/s of FP32 and of the plan */
    JOB_COMPARE,     /* side-by-side generation */
    JOB_SENS,        /* sensitivity scan */
    JOB_STATS,       /* statistics of big tensors */
    JOB_EXPORT,      /* writing a GGUF */
    JOB_CALIB,       /* calibration for GPTQ: the FP32 model over the calibration text */
    JOB_ACTS,        /* activation ranges on the evaluation text */
    JOB_METHODS      /* the plan by round-to-nearest and by GPTQ, side by side */
} SessionJobKind;

enum { SESSION_JOB_KINDS = JOB_METHODS + 1 };

struct MeasureJob; /* session.c: a measurement with its own copy of the plan */

enum { SESSION_UNDO_MAX = 256, SESSION_FRONTIER_MAX = 64, SESSION_COMPARE_MAX = 256,
       SESSION_PROMPT_MAX = 256 };

typedef struct TensorStatsEntry {
    bool valid;
    bool failed;       /* computing them failed for fmt (the reason was shown once):
                          not tried again until the tensor's format changes */
    Format fmt;        /* the format these statistics describe */
    WeightStats st;
    double bytes;      /* honest bytes in that format */
} TensorStatsEntry;

typedef struct QualityState {
    bool valid;
    uint64_t plan_hash;     /* which plan it measured */
    QualityResult r;
    char error[ERROR_MSG_MAX]; /* last failure, shown once */
} QualityState;

typedef struct SpeedState {
    bool valid;
    uint64_t plan_hash;
    double tps_fp32, tps_plan;
    bool plan_native;       /* every matrix ran in its own format (not via floats) */
    int threads;
} SpeedState;

typedef struct GenColumn {
    int n;                        /* tokens, the BOS first */
    int ids[SESSION_COMPARE_MAX + 1];
    float probs[SESSION_COMPARE_MAX + 1]; /* the model's probability of each token */
    double tps;
} GenColumn;

typedef struct CompareState {
    bool valid;
    uint64_t plan_hash;
    char prompt[SESSION_PROMPT_MAX];
    bool sampled;           /* false: greedy */
    uint64_t seed;
    int n_new;
    GenColumn fp32, plan;
    int first_diff;         /* index of the first differing token, -1 if none */
} CompareState;

typedef struct SensState {
    bool valid;
    Format target;
    SensitivityUnit unit;
    SensitivityItem *items; /* most sensitive first */
    int n;
} SensState;

typedef struct CalibState {
    bool valid;             /* the cache holds a calibration: +gptq formats can be built */
    bool stale;             /* weights were edited (or restored) after it was taken */
    bool all_matrices;      /* GPTQ statistics for every matrix; else only for those the
                               plan had in +gptq formats then (the model was too big) */
    int64_t n_tokens;
    int n_seqs;
    double seconds;
    char source[256];       /* the text's file name */
    char error[ERROR_MSG_MAX]; /* last failure */
} CalibState;

/* One matrix under round-to-nearest and under GPTQ (same base and modifiers). */
typedef struct MethodTensor {
    bool changed;               /* its planned base can take +gptq */
    double rmse_rtn, rmse_gptq; /* weight RMSE (GPTQ may raise it) */
    double oerr_rtn, oerr_gptq; /* output error on the calibration inputs, relative:
                                   sum_r (w_r - d_r)^T H (w_r - d_r) / sum_r w_r^T H w_r
                                   (what GPTQ lowers); 0 when the tensor has no H */
} MethodTensor;

typedef struct MethodState {
    bool valid;
    uint64_t plan_hash;          /* the plan it was asked for */
    QualityResult rtn, gptq;     /* against FP32 on the evaluation text */
    int n_changed;               /* matrices whose format could take +gptq */
    double rmse_rtn, rmse_gptq;  /* over the changed matrices, all weights pooled */
    double oerr_rtn, oerr_gptq;  /* sum of output errors / sum of output energies */
    MethodTensor *per_tensor;    /* (n_tensors) */
    char error[ERROR_MSG_MAX];
} MethodState;

typedef struct FrontierPoint {
    uint64_t plan_hash;
    double bytes, bits_per_weight;
    double kl_mean, ppl, top1;
    char label[64];
} FrontierPoint;

typedef struct Session {
    Model *model;
    char *model_path;
    Plan plan;
    char plan_label[64];     /* "INT4 (Q4_0) everywhere", "edited", "my.plan" */
    uint64_t saved_hash;     /* plan hash at the last save/load; dirty when different */
    Format *undo[SESSION_UNDO_MAX];
    int n_undo;
    Format *redo[SESSION_UNDO_MAX];
    int n_redo;
    QuantCache *cache;
    Worker *worker;
    int threads;

    TensorStatsEntry *stats; /* (n_tensors) for the current plan's format of each */
    EvalSet eval_set;        /* the evaluation text, llama2.c protocol (n_seqs 0 until read) */
    char eval_path[1024];

    QualityState quality;
    SpeedState speed;
    CompareState compare;
    SensState sens;
    FrontierPoint frontier[SESSION_FRONTIER_MAX];
    int n_frontier;

    CalibState calib;        /* what the cache's calibration is (qcache_calibration) */
    char calib_path[1024];   /* the calibration text (assets/calib.txt) */
    MethodState methods;
    Calibration acts;        /* activation ranges on the evaluation text (ranges only) */
    bool acts_valid;
    WeightEdits edits;       /* injected outliers, for session_restore_weights */
    /* Measurements of a plan with +gptq formats the cache cannot build yet, waiting
     * for the calibration (one per kind; NULL none), and a comparison RTN vs GPTQ
     * asked for before there was a calibration. See session_request_quality. */
    struct MeasureJob *after_calib[SESSION_JOB_KINDS];
    bool methods_after_calib;

    char message[ERROR_MSG_MAX]; /* the last job error or note, for the status line */
    bool message_is_note;    /* message is news (a file written, a calibration taken), not a failure */
    unsigned generation;     /* bumped on every change worth a redraw */

    /* What the interface shows, written by tui/app.c and read by lesson checks
     * ("open the Histogram of the output layer"), so lesson/ needs no curses.
     * The session itself never reads them. */
    char ui_screen[16];      /* lower-case screen name: "model", "layers", "histogram"...; "" none */
    int ui_tensor;           /* the tensor selected on Layers/Histogram, -1 none */
} Session;

/* Opens a model into a new session with an all-F32 plan. On error *out is NULL
 * and err says why (one line). threads 0 = cores. */
Status session_open(Session **out, const char *model_path, const char *tokenizer_path, int threads,
                    Error *err);
/* Cancels jobs, waits for the worker, frees everything. */
void session_close(Session *s);

/* Replaces the model (file picker); on error the current model stays. */
Status session_switch_model(Session *s, const char *path, const char *tokenizer_path, Error *err);

/* ---- the plan ---- */
uint64_t session_plan_hash(const Plan *p);
bool session_plan_dirty(const Session *s);
/* Each records an undo step (when something changes) and invalidates what
 * depends on the plan. Non-quantizable tensors are left alone. */
bool session_set_format(Session *s, int tensor, Format f);
bool session_set_format_layer(Session *s, int layer, Format f);  /* a whole block */
bool session_set_format_all(Session *s, Format f);
Status session_apply_preset(Session *s, PlanPreset preset, Error *err);
bool session_undo(Session *s);
bool session_redo(Session *s);
Status session_save_plan(Session *s, const char *path, Error *err);
Status session_load_plan(Session *s, const char *path, Error *err);

/* The next format up or down the learner's ladder FP32 > FP16 > INT8 > INT4
 * (a format off the ladder moves to the nearest rung). */
Format session_ladder_step(Format f, int direction);

/* ---- figures ---- */
/* Statistics of tensor i in its planned format: computed at once for small
 * tensors; for big ones a JOB_STATS is queued and false returned until ready. */
bool session_tensor_stats(Session *s, int i, TensorStatsEntry *out);
/* Plan sizes (honest, padding and scales included). */
double session_plan_bytes(const Session *s);
double session_plan_bits(const Session *s);

/* Starts (or restarts) background measurements of the current plan. When the
 * plan has +gptq formats the cache cannot build yet (session_needs_calibration),
 * the measurement (quality, speed, compare, export) waits for a calibration:
 * one is started if none is running, and the measurement is queued when it
 * arrives; if the calibration fails or is stopped, the waiting measurement ends
 * as cancelled (its error field says why when the calibration failed). A plan
 * change drops waiting quality, speed and compare measurements as it cancels
 * running ones. */
void session_request_quality(Session *s);
void session_request_speed(Session *s, int n_tokens);
void session_request_compare(Session *s, const char *prompt, bool sampled, uint64_t seed, int n_new);
void session_request_sensitivity(Session *s, Format target, SensitivityUnit unit);
void session_cancel_jobs(Session *s);
/* Takes finished results in; returns how many jobs completed. */
int session_poll(Session *s);
/* Progress of a running job kind: false when none runs. */
bool session_job_progress(Session *s, SessionJobKind kind, double *progress, char *label,
                          size_t label_size);
/* True while a measurement of this kind waits for a calibration (see above). */
bool session_job_waiting(const Session *s, SessionJobKind kind);

/* Exports the current plan to a GGUF (in the background; the result appears in
 * s->message). */
void session_request_export(Session *s, const char *path, Format fallback);

/* ---- beyond rounding: GPTQ, outliers, activation ranges ---- */

/* Runs the FP32 model over the calibration text in the background (JOB_CALIB)
 * and hands the result to the cache, so +gptq formats can be built; s->calib
 * says what was taken. Statistics for every matrix when they fit 1 GiB, else for
 * the matrices the plan has in +gptq formats (s->calib.all_matrices). On arrival
 * every running job is cancelled (they used the old calibration) and what depends
 * on GPTQ copies is marked stale. */
void session_calibrate(Session *s);

/* True when the plan has +gptq formats the cache cannot build yet (no
 * calibration, or one taken without statistics for one of them). Statistics of
 * such a tensor (session_tensor_stats) are then not ready, without an error. */
bool session_needs_calibration(const Session *s);

/* The plan with every matrix whose base can take +gptq set to `method`, all
 * else unchanged (RTN: the round-to-nearest twin of a GPTQ plan, and back). */
Status session_plan_with_method(const Session *s, QuantMethod method, Plan *out, Error *err);

/* Measures the current plan's round-to-nearest and GPTQ twins side by side
 * (JOB_METHODS): KL / top-1 / perplexity against FP32 on the evaluation text,
 * weight RMSE and output error on the calibration inputs per matrix; both go to
 * the frontier. Without a calibration one is taken first (methods_after_calib is
 * set meanwhile) and the comparison follows it; if the calibration cannot be
 * started, fails or is stopped, s->methods.error says so. */
void session_request_method_compare(Session *s);

/* Activation ranges on the evaluation text (JOB_ACTS: one FP32 pass, no GPTQ
 * statistics) into s->acts. */
void session_request_activations(Session *s);

/* The input statistics tensor i reads: from the evaluation text (s->acts) when
 * from_eval, else from the calibration. NULL when not measured or i has no input
 * (norms, token_embd). */
const CalibSite *session_activation_site(const Session *s, int tensor, bool from_eval);

/* Multiplies weight (row, col) of tensor i by factor. Cancels and waits for the
 * background jobs first (nothing may read the weights while they change); the
 * tensor's quantized copies and statistics are dropped; quality, speed, compare,
 * sensitivity and frontier figures are cleared (they describe other weights); a
 * calibration becomes stale. Errors as model_inject_outlier (nothing changes). */
Status session_inject_outlier(Session *s, int tensor, int64_t row, int64_t col, double factor, Error *err);

/* Puts every injected weight back (bit for bit), with the same clearing. */
void session_restore_weights(Session *s);

/* True while injected weights are in place. */
bool session_weights_edited(const Session *s);

#endif
