/* calib.c — calibration statistics from the forward pass (see calib.h).
 *
 * Called by `quantlab eval/quantize/stats/generate` before GPTQ formats are
 * built, and by the session's calibration job. The sequences are cut into chunks
 * of CALIB_CHUNK_SEQS; each chunk runs with its own RunState whose observer
 * (forward.h) hands every matrix input to observe(), which keeps ranges and
 * buffers the inputs of sites with H, adding them CALIB_BATCH at a time
 * (H += X^T X on the upper triangle). Chunks run side by side on the pool when
 * their partial sums fit the memory budget; the partial sums are added to the
 * totals in chunk order, so H is the same on any thread count. H is mirrored
 * when the text is done.
 */
#include "model/calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/clock.h"
#include "model/eval.h"
#include "model/forward.h"
#include "model/plan.h"
#include "quant/gptq.h"

/* Inputs buffered per site before they are added to H. */
enum { CALIB_BATCH = 64 };
/* Sites narrower than this add their batches on the calling thread. */
enum { CALIB_PARALLEL_MIN = 256 };

/* ------------------------------------------------------------- sites */

/* Site layout of a model: which tensors read a distinct input. */
static int count_sites(const Model *m, int *site_of, int *owner) {
    int n = 0;
    for (int i = 0; i < m->n_tensors; i++) site_of[i] = -1;
#define SITE(first, ...)                                                              \
    do {                                                                              \
        const int members_[] = {first, __VA_ARGS__};                                  \
        for (size_t k_ = 0; k_ < sizeof members_ / sizeof members_[0]; k_++)          \
            site_of[members_[k_]] = n;                                                \
        owner[n++] = first;                                                           \
    } while (0)
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const LayerTensors *L = &m->layers[l];
        SITE(L->attn_q, L->attn_k, L->attn_v);
        SITE(L->attn_output, L->attn_output);
        SITE(L->ffn_gate, L->ffn_up);
        SITE(L->ffn_down, L->ffn_down);
    }
    SITE(m->output, m->output);
#undef SITE
    return n;
}

static int64_t site_cols(const Model *m, int owner) {
    return m->tensors[owner].cols;
}

double calib_h_bytes(const Model *m, const bool *want) {
    int *site_of = malloc(((size_t)m->n_tensors + 1) * sizeof *site_of);
    int *owner = malloc(((size_t)m->n_tensors + 1) * sizeof *owner);
    bool *need = calloc((size_t)m->n_tensors + 1, sizeof *need);
    double bytes = 0;
    if (site_of && owner && need) {
        const int n = count_sites(m, site_of, owner);
        for (int i = 0; i < m->n_tensors; i++)
            if (site_of[i] >= 0 && (!want || want[i])) need[site_of[i]] = true;
        for (int s = 0; s < n; s++)
            if (need[s]) bytes += 8.0 * (double)site_cols(m, owner[s]) * (double)site_cols(m, owner[s]);
    }
    free(site_of);
    free(owner);
    free(need);
    return bytes;
}

void calib_free(Calibration *c) {
    if (!c) return;
    for (int s = 0; s < c->n_sites; s++) {
        free(c->sites[s].h);
        free(c->sites[s].chan_absmax);
    }
    free(c->sites);
    free(c->site_of);
    memset(c, 0, sizeof *c);
}

const CalibSite *calib_site(const Calibration *c, int tensor) {
    if (!c || !c->site_of || tensor < 0 || tensor >= c->n_tensors || c->site_of[tensor] < 0) return NULL;
    return &c->sites[c->site_of[tensor]];
}

const double *calib_hessian(const Calibration *c, int tensor, int64_t *n) {
    const CalibSite *s = calib_site(c, tensor);
    if (!s || !s->h) return NULL;
    *n = s->n;
    return s->h;
}

/* ---------------------------------------------------------- observing */

/* What one thread gathers from a chunk of sequences: partial sums per site. */
typedef struct Accum {
    Calibration *c;      /* the site layout (read-only here) */
    Pool *pool;          /* for wide batch additions; NULL inside a pool task */
    double **h;          /* (n_sites) (n, n) upper triangle, or NULL */
    float **batch;       /* (n_sites) (CALIB_BATCH, n) inputs not yet in h */
    int *n_batch;        /* (n_sites) */
    double *xt;          /* (widest n, CALIB_BATCH) the batch transposed, in double */
    CalibSite *ranges;   /* (n_sites) count, min, max, absmax, sum_sq, chan_absmax */
    int64_t n_tokens;
    /* the batch being added (for the pool's tasks) */
    int64_t n;
    int rows;
    double *target;
} Accum;

/* Rows i of H's upper triangle taken by this task (interleaved, so long and
 * short rows are shared out evenly): H[i][j] += sum_b x_b[i] x_b[j], j >= i. */
static void add_rows(void *ctx, int task, int n_tasks) {
    const Accum *a = ctx;
    const int64_t n = a->n;
    for (int64_t i = task; i < n; i += n_tasks) {
        const double *xi = a->xt + i * a->rows;
        double *hi = a->target + i * n;
        for (int64_t j = i; j < n; j++) hi[j] += gptq_dot(xi, a->xt + j * a->rows, a->rows);
    }
}

static void flush_site(Accum *a, int s) {
    const int rows = a->n_batch[s];
    if (rows == 0) return;
    const int64_t n = a->c->sites[s].n;
    const float *x = a->batch[s];
    for (int b = 0; b < rows; b++) /* transpose into double once */
        for (int64_t i = 0; i < n; i++) a->xt[i * rows + b] = x[b * n + i];
    a->n = n;
    a->rows = rows;
    a->target = a->h[s];
    if (a->pool && n >= CALIB_PARALLEL_MIN && pool_threads(a->pool) > 1)
        pool_run(a->pool, add_rows, a, pool_threads(a->pool) * 2);
    else
        add_rows(a, 0, 1);
    a->n_batch[s] = 0;
}

static void observe(void *ctx, int tensor, const float *x, int n) {
    Accum *a = ctx;
    const int s = a->c->site_of[tensor];
    if (s < 0 || a->c->sites[s].owner != tensor) return; /* k and v see q's input again */
    CalibSite *r = &a->ranges[s];
    for (int i = 0; i < n; i++) {
        const float v = x[i], m = fabsf(v);
        r->min = v < r->min ? v : r->min;
        r->max = v > r->max ? v : r->max;
        r->absmax = m > r->absmax ? m : r->absmax;
        r->chan_absmax[i] = m > r->chan_absmax[i] ? m : r->chan_absmax[i];
        r->sum_sq += (double)v * (double)v;
    }
    r->count++;
    if (!a->h[s]) return;
    memcpy(a->batch[s] + (int64_t)a->n_batch[s] * n, x, (size_t)n * sizeof *x);
    if (++a->n_batch[s] == CALIB_BATCH) flush_site(a, s);
}

static void accum_reset(Accum *a) {
    for (int s = 0; s < a->c->n_sites; s++) {
        CalibSite *r = &a->ranges[s];
        const int64_t n = a->c->sites[s].n;
        if (a->h[s]) memset(a->h[s], 0, (size_t)(n * n) * sizeof(double));
        a->n_batch[s] = 0;
        r->count = 0;
        r->min = INFINITY;
        r->max = -INFINITY;
        r->absmax = 0;
        r->sum_sq = 0;
        memset(r->chan_absmax, 0, (size_t)n * sizeof(float));
    }
    a->n_tokens = 0;
}

static void accum_free(Accum *a) {
    if (!a->c) return;
    for (int s = 0; s < a->c->n_sites; s++) {
        if (a->h) free(a->h[s]);
        if (a->batch) free(a->batch[s]);
        if (a->ranges) free(a->ranges[s].chan_absmax);
    }
    free(a->h);
    free(a->batch);
    free(a->n_batch);
    free(a->ranges);
    free(a->xt);
    memset(a, 0, sizeof *a);
}

static bool accum_init(Accum *a, Calibration *c) {
    memset(a, 0, sizeof *a);
    a->c = c;
    const size_t ns = (size_t)c->n_sites + 1;
    a->h = calloc(ns, sizeof *a->h);
    a->batch = calloc(ns, sizeof *a->batch);
    a->n_batch = calloc(ns, sizeof *a->n_batch);
    a->ranges = calloc(ns, sizeof *a->ranges);
    int64_t widest = 1;
    bool ok = a->h && a->batch && a->n_batch && a->ranges;
    for (int s = 0; ok && s < c->n_sites; s++) {
        const int64_t n = c->sites[s].n;
        ok = (a->ranges[s].chan_absmax = calloc((size_t)n, sizeof(float))) != NULL;
        if (ok && c->sites[s].h) {
            ok = (a->h[s] = malloc((size_t)(n * n) * sizeof(double))) != NULL &&
                 (a->batch[s] = malloc((size_t)CALIB_BATCH * (size_t)n * sizeof(float))) != NULL;
            widest = n > widest ? n : widest;
        }
    }
    ok = ok && (a->xt = malloc((size_t)widest * CALIB_BATCH * sizeof(double))) != NULL;
    if (ok) accum_reset(a);
    return ok;
}

/* Adds a chunk's partial sums to the calibration (in chunk order: the totals do
 * not depend on how many chunks ran side by side). */
static void accum_merge(Calibration *c, Accum *a) {
    for (int s = 0; s < c->n_sites; s++) {
        CalibSite *site = &c->sites[s];
        const CalibSite *r = &a->ranges[s];
        const int64_t n = site->n;
        if (site->h)
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = i; j < n; j++) site->h[i * n + j] += a->h[s][i * n + j];
        site->count += r->count;
        site->min = r->min < site->min ? r->min : site->min;
        site->max = r->max > site->max ? r->max : site->max;
        site->absmax = r->absmax > site->absmax ? r->absmax : site->absmax;
        site->sum_sq += r->sum_sq;
        for (int64_t i = 0; i < n; i++)
            site->chan_absmax[i] = r->chan_absmax[i] > site->chan_absmax[i] ? r->chan_absmax[i] : site->chan_absmax[i];
    }
    c->n_tokens += a->n_tokens;
}

/* --------------------------------------------------------------- run */

/* Sequences per chunk: partial sums are formed per chunk, then added in order. */
enum { CALIB_CHUNK_SEQS = 8 };

static Status setup(Calibration *c, const Model *m, const CalibOptions *opt, Error *err) {
    c->n_tensors = m->n_tensors;
    c->site_of = malloc(((size_t)m->n_tensors + 1) * sizeof *c->site_of);
    int *owner = malloc(((size_t)m->n_tensors + 1) * sizeof *owner);
    c->sites = calloc((size_t)m->n_tensors + 1, sizeof *c->sites);
    if (!c->site_of || !owner || !c->sites) {
        free(owner);
        return error_set(err, ST_NOMEM, "out of memory for calibration");
    }
    c->n_sites = count_sites(m, c->site_of, owner);
    bool ok = true;
    for (int s = 0; s < c->n_sites && ok; s++) {
        CalibSite *site = &c->sites[s];
        site->owner = owner[s];
        site->n = site_cols(m, owner[s]);
        site->min = INFINITY;
        site->max = -INFINITY;
        site->chan_absmax = calloc((size_t)site->n, sizeof *site->chan_absmax);
        bool want = opt == NULL || opt->want_h == NULL;
        for (int i = 0; !want && i < m->n_tensors; i++) want = c->site_of[i] == s && opt->want_h[i];
        if (want) {
            size_t bytes;
            ok = checked_mul_size((size_t)site->n, (size_t)site->n, &bytes) &&
                 checked_mul_size(bytes, sizeof(double), &bytes) && (site->h = calloc(1, bytes)) != NULL;
        }
        ok = ok && site->chan_absmax;
    }
    free(owner);
    if (!ok) return error_set(err, ST_NOMEM, "out of memory for the calibration statistics");
    return ST_OK;
}

typedef struct WaveJob {
    const Model *m;
    const Weights *w;
    const struct EvalSet *set;
    Accum *acc;        /* (n_threads) */
    RunState *rs;      /* (n_threads) */
    int first_chunk;   /* of this wave */
    int n_chunks;
    const Progress *progress; /* polled between sequences, so a cancel is quick */
} WaveJob;

/* Runs chunk first_chunk + task into acc[task]. */
static void run_chunk(void *ctx, int task, int n_tasks) {
    (void)n_tasks;
    WaveJob *j = ctx;
    const int chunk = j->first_chunk + task;
    if (chunk >= j->n_chunks) return;
    Accum *a = &j->acc[task];
    RunState *rs = &j->rs[task];
    accum_reset(a);
    rs->observe = observe;
    rs->observe_ctx = a;
    const int q0 = chunk * CALIB_CHUNK_SEQS;
    const int q1 = q0 + CALIB_CHUNK_SEQS < j->set->n_seqs ? q0 + CALIB_CHUNK_SEQS : j->set->n_seqs;
    for (int q = q0; q < q1; q++) {
        if (progress_cancelled(j->progress)) return; /* the wave's caller sees it too */
        const int *tok = j->set->tokens + j->set->seq_start[q];
        const int n = j->set->seq_start[q + 1] - j->set->seq_start[q];
        for (int pos = 0; pos < n; pos++) model_forward(j->w, rs, tok[pos], pos);
        a->n_tokens += n;
    }
    for (int s = 0; s < a->c->n_sites; s++) flush_site(a, s);
}

Status calib_run(Calibration *c, const Model *m, const struct EvalSet *set, const char *source,
                 const CalibOptions *opt, Pool *pool, const Progress *progress, Error *err) {
    memset(c, 0, sizeof *c);
    const double t0 = clock_now();
    if (set->n_seqs < 1) return error_set(err, ST_USAGE, "the calibration text has nothing to run");
    const int64_t n_tokens = set->seq_start[set->n_seqs];
    for (int64_t i = 0; i < n_tokens; i++)
        if (set->tokens[i] < 0 || set->tokens[i] >= m->cfg.vocab_size)
            return error_set(err, ST_USAGE, "token %d of the calibration text is outside the vocabulary of %d",
                             set->tokens[i], m->cfg.vocab_size);
    const double need = calib_h_bytes(m, opt ? opt->want_h : NULL);
    if (opt && opt->max_h_bytes > 0 && 2 * need > opt->max_h_bytes)
        return error_set(err, ST_LIMIT,
                         "calibrating these matrices for GPTQ needs %.0f MB of statistics (twice %.0f MB: totals "
                         "and one chunk's), more than the %.0f MB allowed: quantize fewer matrices with +gptq at a time",
                         2 * need / 1e6, need / 1e6, opt->max_h_bytes / 1e6);
    /* Chunks run side by side, one per thread, when their partial sums fit. */
    int n_threads = pool ? pool_threads(pool) : 1;
    const int n_chunks = (set->n_seqs + CALIB_CHUNK_SEQS - 1) / CALIB_CHUNK_SEQS;
    if (n_threads > n_chunks) n_threads = n_chunks;
    const double budget = opt && opt->max_h_bytes > 0 ? opt->max_h_bytes : 1e18;
    while (n_threads > 1 && (double)(n_threads + 1) * need > budget) n_threads--;
    const bool side_by_side = n_threads > 1;

    Weights w = {0};
    WaveJob job = {m, &w, set, NULL, NULL, 0, n_chunks, progress};
    job.acc = calloc((size_t)n_threads, sizeof *job.acc);
    job.rs = calloc((size_t)n_threads, sizeof *job.rs);
    Status st = job.acc && job.rs ? ST_OK : error_set(err, ST_NOMEM, "out of memory for calibration");
    if (st == ST_OK) st = setup(c, m, opt, err);
    if (st == ST_OK) st = weights_init_f32(&w, m, err);
    for (int t = 0; st == ST_OK && t < n_threads; t++) {
        if (!accum_init(&job.acc[t], c)) st = error_set(err, ST_NOMEM, "out of memory for the calibration statistics");
        else st = runstate_init(&job.rs[t], &m->cfg, set->max_len > 0 ? set->max_len : 1, side_by_side ? NULL : pool, err);
        if (st == ST_OK) job.acc[t].pool = side_by_side ? NULL : pool; /* no pool_run inside a pool task */
    }
    if (st == ST_OK && !progress_update(progress, 0.0, "calibrating"))
        st = error_set(err, ST_CANCELLED, "calibration cancelled");
    for (int first = 0; st == ST_OK && first < n_chunks; first += n_threads) {
        job.first_chunk = first;
        if (side_by_side) pool_run(pool, run_chunk, &job, n_threads);
        else run_chunk(&job, 0, 1);
        if (progress_cancelled(progress)) {
            st = error_set(err, ST_CANCELLED, "calibration cancelled");
            break;
        }
        for (int t = 0; t < n_threads && first + t < n_chunks; t++) accum_merge(c, &job.acc[t]);
        c->n_seqs = (first + n_threads) * CALIB_CHUNK_SEQS < set->n_seqs ? (first + n_threads) * CALIB_CHUNK_SEQS
                                                                          : set->n_seqs;
        if (!progress_update(progress, (double)c->n_tokens / (double)n_tokens, "calibrating"))
            st = error_set(err, ST_CANCELLED, "calibration cancelled");
    }
    if (st == ST_OK) {
        for (int s = 0; s < c->n_sites; s++) {
            CalibSite *site = &c->sites[s];
            if (site->h) /* mirror the upper triangle */
                for (int64_t i = 0; i < site->n; i++)
                    for (int64_t j = 0; j < i; j++) site->h[i * site->n + j] = site->h[j * site->n + i];
        }
        snprintf(c->source, sizeof c->source, "%s", source ? source : "");
        c->seconds = clock_now() - t0;
    }
    for (int t = 0; t < n_threads; t++) {
        if (job.rs) runstate_free(&job.rs[t]);
        if (job.acc) accum_free(&job.acc[t]);
    }
    free(job.rs);
    free(job.acc);
    weights_free(&w);
    if (st != ST_OK) calib_free(c);
    return st;
}
