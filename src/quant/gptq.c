/* gptq.c — GPTQ (see gptq.h for the algorithm and its conventions).
 *
 * Called by the quantized-copy cache (model/qcache.c) for formats with +gptq, by
 * the benchmark and by the tests. Three parts, in the order data flows:
 *   the inverse-Hessian factor U (gptq_factor), done once per tensor;
 *   the column loop, run on independent chunks of rows in parallel;
 *   packing the codes into the QTensor layout qtensor_quantize() makes.
 * Quantizing one value repeats the reference quantizers' float arithmetic
 * (types.c: quant_row_q4_0_ref, quant_row_q8_0_ref; qtensor.c for the teaching
 * formats), so with H = I — no error to spread — the codes are exactly those of
 * round-to-nearest (tests/unit/test_gptq.c checks it byte for byte).
 */
#include "quant/gptq.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/clock.h"
#include "base/half.h"
#include "quant/prune.h"
#include "quant/types.h"

/* Rows handled together by one pass over U (their working rows stay in cache
 * while U's rows stream past). */
enum { GPTQ_ROWS_PER_PASS = 16 };
/* Below this many columns the factorization runs on the calling thread. */
enum { GPTQ_PARALLEL_MIN_COLS = 256 };
/* Damping is raised tenfold at most this many times. */
enum { GPTQ_DAMP_RETRIES = 3 };

/* ---------------------------------------------------------- vector maths */

/* sum a[i] * b[i], four partial sums (a fixed order: same result every run) */
/* y -= a * x */
static void axpy_neg(double *restrict y, double a, const double *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] -= a * x[i];
}

/* ------------------------------------------------------ the factor U */

typedef struct FactorJob {
    double *a;      /* (n, n): H + lambda I in, R in its upper triangle out */
    double *ut;     /* (n, n): rows of U^T (columns of U), lower triangle */
    int64_t n, j;
    atomic_bool bad;
} FactorJob;

/* R[i][j] = (A[i][j] - sum_{k>j} R[i][k] R[j][k]) / R[j][j] for this task's rows
 * i < j (interleaved, so every task gets short and long rows). */
static void factor_column(void *ctx, int task, int n_tasks) {
    FactorJob *f = ctx;
    const int64_t n = f->n, j = f->j;
    const double *rj = f->a + j * n;
    for (int64_t i = task; i < j; i += n_tasks) {
        double *ri = f->a + i * n;
        ri[j] = (ri[j] - gptq_dot(ri + j + 1, rj + j + 1, n - j - 1)) / rj[j];
    }
}

/* Column k of U = R^-1 by back substitution (stored as row k of ut):
 *   U[k][k] = 1 / R[k][k];  U[i][k] = -sum_{m=i+1..k} R[i][m] U[m][k] / R[i][i]. */
static void invert_columns(void *ctx, int task, int n_tasks) {
    FactorJob *f = ctx;
    const int64_t n = f->n;
    for (int64_t k = task; k < n; k += n_tasks) {
        double *uk = f->ut + k * n; /* uk[m] = U[m][k] */
        uk[k] = 1.0 / f->a[k * n + k];
        for (int64_t i = k - 1; i >= 0; i--) {
            const double *ri = f->a + i * n;
            uk[i] = -gptq_dot(ri + i + 1, uk + i + 1, k - i) / ri[i];
        }
    }
}

static void run_tasks(Pool *pool, int64_t n, PoolFn fn, void *ctx) {
    if (pool && n >= GPTQ_PARALLEL_MIN_COLS && pool_threads(pool) > 1)
        pool_run(pool, fn, ctx, pool_threads(pool) * 2);
    else
        fn(ctx, 0, 1);
}

/* H + lambda I = R R^T, R upper: the Cholesky factorization run from the last
 * column backwards. False when a pivot is not positive (not positive definite). */
static bool factor_ul(FactorJob *f, Pool *pool) {
    const int64_t n = f->n;
    for (int64_t j = n - 1; j >= 0; j--) {
        double *rj = f->a + j * n;
        const double pivot = rj[j] - gptq_dot(rj + j + 1, rj + j + 1, n - j - 1);
        if (!(pivot > 0.0) || !isfinite(pivot)) return false;
        rj[j] = sqrt(pivot);
        f->j = j;
        if (j > 0) {
            if (j >= GPTQ_PARALLEL_MIN_COLS) run_tasks(pool, n, factor_column, f);
            else factor_column(f, 0, 1);
        }
    }
    return true;
}

Status gptq_factor(const double *h, int64_t n, double damp, Pool *pool, double *u, uint8_t *dead,
                   double *damp_used, Error *err) {
    size_t nn;
    if (n <= 0 || !checked_mul_size((size_t)n, (size_t)n, &nn) || !checked_mul_size(nn, sizeof(double), &nn))
        return error_set(err, ST_LIMIT, "a %lld x %lld Hessian is too large", (long long)n, (long long)n);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            const double x = h[i * n + j];
            if (!isfinite(x) || x != h[j * n + i])
                return error_set(err, ST_USAGE, "the calibration Hessian is not symmetric and finite at (%lld, %lld)",
                                 (long long)i, (long long)j);
        }
    if (!(damp >= 0.0) || !isfinite(damp)) return error_set(err, ST_USAGE, "damping must be a finite number >= 0");
    FactorJob f = {.n = n};
    f.a = malloc(nn);
    f.ut = malloc(nn);
    if (!f.a || !f.ut) {
        free(f.a);
        free(f.ut);
        return error_set(err, ST_NOMEM, "out of memory for a %lld x %lld Hessian", (long long)n, (long long)n);
    }
    /* 1. dead columns: H_jj = 0 becomes 1 (their weights are zeroed by the caller) */
    double mean_diag = 0.0;
    for (int64_t j = 0; j < n; j++) {
        const bool d = h[j * n + j] == 0.0;
        if (dead) dead[j] = d;
        mean_diag += d ? 1.0 : h[j * n + j];
    }
    mean_diag /= (double)n;
    Status st = ST_OK;
    double rel = damp;
    for (int attempt = 0;; attempt++) {
        /* 2. damping */
        memcpy(f.a, h, nn);
        for (int64_t j = 0; j < n; j++) {
            double *d = &f.a[j * n + j];
            if (*d == 0.0) *d = 1.0;
            *d += rel * mean_diag;
        }
        /* 3. R, then U = R^-1 */
        if (factor_ul(&f, pool)) break;
        if (attempt == GPTQ_DAMP_RETRIES || rel == 0.0) {
            st = error_set(err, ST_FORMAT,
                           "the calibration Hessian is not positive definite even with damping %g "
                           "(calibrate on more text)", rel);
            break;
        }
        rel *= 10.0;
    }
    if (st == ST_OK) {
        run_tasks(pool, n, invert_columns, &f);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < n; k++) u[i * n + k] = k >= i ? f.ut[k * n + i] : 0.0;
        if (damp_used) *damp_used = rel;
    }
    free(f.a);
    free(f.ut);
    return st;
}

/* --------------------------------------------- quantizing one value */

/* One row's parameters for the group being quantized. */
typedef struct Group {
    float d16;    /* GGML: the stored FP16 scale, widened (decoding) */
    float id;     /* GGML: 1/d with d unrounded, as the reference codes with it */
    uint16_t dh;  /* GGML: the FP16 bits stored */
    float s;      /* teaching: scale (FP16-rounded) */
    int32_t z;    /* teaching: zero point */
} Group;

/* Parameters of a group of n values (float, as the reference quantizer sees them). */
static void group_params(Format f, const float *x, int64_t n, Group *g) {
    memset(g, 0, sizeof *g);
    if (f.kind == FORMAT_GGML && f.type == GGML_TYPE_Q4_0) {
        float amax = 0.0f, max = 0.0f; /* quant_row_q4_0_ref */
        for (int64_t i = 0; i < n; i++)
            if (amax < fabsf(x[i])) {
                amax = fabsf(x[i]);
                max = x[i];
            }
        const float d = max / -8;
        g->id = quant_recip_or_zero(d);
        g->dh = half_from_f32(d);
        g->d16 = half_to_f32(g->dh);
    } else if (f.kind == FORMAT_GGML) { /* Q8_0: quant_row_q8_0_ref */
        float amax = 0.0f;
        for (int64_t i = 0; i < n; i++) amax = amax > fabsf(x[i]) ? amax : fabsf(x[i]);
        const float d = amax / ((1 << 7) - 1);
        g->id = quant_recip_or_zero(d);
        g->dh = half_from_f32(d);
        g->d16 = half_to_f32(g->dh);
    } else {
        float mn = x[0], mx = x[0];
        for (int64_t i = 1; i < n; i++) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        qtensor_teach_params(f.bits, f.asym, mn, mx, &g->s, &g->z);
    }
}

/* The code of x and its decoded value. Q4_0: (int)(x * id + 8.5) as the
 * reference, clamped to 0..15 first (the reference never needs to: its values
 * never leave the range their scale came from; updated ones may). Q8_0:
 * roundf(x * id) clamped to -127..127. */
static int32_t quant_value(Format f, const Group *g, float x, float *deq) {
    if (f.kind == FORMAT_GGML && f.type == GGML_TYPE_Q4_0) {
        const float x0 = x * g->id;
        float v = x0 + 8.5f;
        v = v < 0.0f ? 0.0f : v > 15.0f ? 15.0f : v;
        const int32_t c = (int32_t)v;
        *deq = (float)(c - 8) * g->d16;
        return c;
    }
    if (f.kind == FORMAT_GGML) {
        const float x0 = x * g->id;
        float r = roundf(x0);
        r = r < -127.0f ? -127.0f : r > 127.0f ? 127.0f : r;
        const int32_t c = (int32_t)r;
        *deq = (float)c * g->d16;
        return c;
    }
    return qtensor_teach_code(x, f.bits, f.asym, g->s, g->z, deq);
}

/* ------------------------------------------------------- the column loop */

typedef struct GptqJob {
    const float *w;
    int64_t rows, cols;
    const uint8_t *mask;  /* (rows, cols) prune.h kinds, or NULL */
    const uint8_t *dead;  /* (cols) */
    const double *u;      /* (cols, cols) upper factor */
    Format f;
    int64_t gs;           /* group columns (GGML block, teaching block); 0: per row / tensor */
    int64_t batch;        /* lazy batch columns, a multiple of gs */
    Group tensor_group;   /* per-tensor teaching scale */
    QTensor *q;
    float *out_vals;      /* (rows, cols) outlier values kept, or NULL */
    const Progress *progress;
    atomic_int next_chunk;
    atomic_bool stop;
    pthread_mutex_t lock; /* progress reports and the first failure */
    int64_t done, total;  /* row-batches */
    Status status;
    Error err;
} GptqJob;

static bool job_report(GptqJob *j, int64_t units) {
    pthread_mutex_lock(&j->lock);
    j->done += units;
    bool go = progress_update(j->progress, (double)j->done / (double)j->total, "GPTQ");
    pthread_mutex_unlock(&j->lock);
    if (!go) atomic_store(&j->stop, true);
    return go;
}

/* Value of weight (r, c) as the dense part sees it: 0 where it is taken out. */
static float dense_value(const GptqJob *j, int64_t r, int64_t c, double v) {
    if (j->mask && j->mask[r * j->cols + c] != MASK_KEEP) return 0.0f;
    return (float)v;
}

/* One task's working memory, for GPTQ_ROWS_PER_PASS rows. */
typedef struct TaskBuf {
    double *w;       /* (rows, cols) the rows being quantized, updated as columns go */
    double *e;       /* (rows, batch) the scaled errors of the current batch */
    int32_t *codes;  /* (rows, cols_padded) GGML codes before packing */
    uint16_t *dh;    /* (rows, groups per row) GGML FP16 scales */
    Group *groups;   /* (rows) each row's current group */
    float *scratch;  /* (cols_padded) */
} TaskBuf;

/* Packs row r of the buffers into GGML blocks and decodes them into dequant:
 * padding columns get the code of 0, as the reference quantizer stores them. */
static void pack_row(GptqJob *j, TaskBuf *b, int64_t r, int64_t row) {
    const Format f = j->f;
    const int64_t cols = j->cols, gs = j->gs, padded = j->q->cols_padded, per_row = padded / gs;
    int32_t *codes = b->codes + r * padded;
    Group none;
    memset(&none, 0, sizeof none);
    float zero_deq;
    for (int64_t c = cols; c < padded; c++) codes[c] = quant_value(f, &none, 0.0f, &zero_deq);
    uint8_t *dst = (uint8_t *)j->q->blocks + (size_t)row * j->q->row_bytes;
    for (int64_t g = 0; g < per_row; g++) {
        const int32_t *cb = codes + g * gs;
        if (f.type == GGML_TYPE_Q4_0) { /* byte k holds values k and k + 16 */
            BlockQ4_0 *blk = (BlockQ4_0 *)(void *)(dst + (size_t)g * sizeof(BlockQ4_0));
            blk->d = b->dh[r * per_row + g];
            for (int k = 0; k < QK4_0 / 2; k++)
                blk->qs[k] = (uint8_t)((uint8_t)cb[k] | (uint8_t)(cb[k + QK4_0 / 2] << 4));
        } else {
            BlockQ8_0 *blk = (BlockQ8_0 *)(void *)(dst + (size_t)g * sizeof(BlockQ8_0));
            blk->d = b->dh[r * per_row + g];
            for (int k = 0; k < QK8_0; k++) blk->qs[k] = (int8_t)cb[k];
        }
    }
    /* the decoded values from the blocks themselves, as qtensor_quantize does */
    type_traits(f.type)->to_float(dst, b->scratch, padded);
    memcpy(j->q->dequant + row * cols, b->scratch, (size_t)cols * sizeof(float));
}

/* Quantizes rows [r0, r0 + nr) (nr <= GPTQ_ROWS_PER_PASS). False when cancelled. */
static bool quantize_rows(GptqJob *j, int64_t r0, int64_t nr, TaskBuf *b) {
    const Format f = j->f;
    const int64_t cols = j->cols, batch = j->batch, gs = j->gs;
    const int64_t padded = j->q->cols_padded;
    const bool ggml = f.kind == FORMAT_GGML;

    for (int64_t r = 0; r < nr; r++) {
        double *wr = b->w + r * cols;
        for (int64_t c = 0; c < cols; c++) wr[c] = j->dead[c] ? 0.0 : (double)j->w[(r0 + r) * cols + c];
        if (f.kind == FORMAT_TEACH && f.gran == GRAN_ROW) { /* from the initial row */
            for (int64_t c = 0; c < cols; c++) b->scratch[c] = dense_value(j, r0 + r, c, wr[c]);
            group_params(f, b->scratch, cols, &b->groups[r]);
            j->q->scales[r0 + r] = b->groups[r].s;
            if (j->q->zeros) j->q->zeros[r0 + r] = b->groups[r].z;
        } else if (f.kind == FORMAT_TEACH && f.gran == GRAN_TENSOR) {
            b->groups[r] = j->tensor_group;
        }
    }

    for (int64_t i1 = 0; i1 < cols; i1 += batch) {
        const int64_t i2 = i1 + batch < cols ? i1 + batch : cols;
        if (atomic_load_explicit(&j->stop, memory_order_relaxed) || progress_cancelled(j->progress)) {
            atomic_store(&j->stop, true);
            return false;
        }
        for (int64_t r = 0; r < nr; r++) {
            const int64_t row = r0 + r;
            double *wr = b->w + r * cols;
            double *er = b->e + r * batch;
            Group *g = &b->groups[r];
            for (int64_t c = i1; c < i2; c++) {
                if (gs && c % gs == 0) { /* a group starts: its scale from the current values */
                    const int64_t len = c + gs <= cols ? gs : cols - c;
                    for (int64_t k = 0; k < len; k++) b->scratch[k] = dense_value(j, row, c + k, wr[c + k]);
                    group_params(f, b->scratch, len, g);
                    if (ggml) {
                        b->dh[r * (padded / gs) + c / gs] = g->dh;
                    } else {
                        const int64_t gi = row * ((cols + gs - 1) / gs) + c / gs;
                        j->q->scales[gi] = g->s;
                        if (j->q->zeros) j->q->zeros[gi] = g->z;
                    }
                }
                const uint8_t kind = j->mask ? j->mask[row * cols + c] : MASK_KEEP;
                const double x = wr[c];
                float deq;
                /* pruned and outlier weights take the code of 0, which decodes to 0 */
                const int32_t code = quant_value(f, g, kind == MASK_KEEP ? (float)x : 0.0f, &deq);
                double kept = deq;
                if (kind == MASK_OUTLIER) { /* kept beside the grid, in FP16 */
                    const float v = half_to_f32(half_from_f32((float)x));
                    j->out_vals[row * cols + c] = v;
                    kept = v;
                }
                if (ggml) {
                    b->codes[r * padded + c] = code;
                } else {
                    j->q->codes[row * cols + c] = (int16_t)code;
                    j->q->dequant[row * cols + c] = deq; /* an outlier is added later */
                }
                /* e = (w - q) / U_cc, spread over the rest of the batch now */
                const double e = (x - kept) / j->u[c * cols + c];
                er[c - i1] = e;
                if (e != 0.0) axpy_neg(wr + c + 1, e, j->u + c * cols + c + 1, i2 - c - 1);
            }
            /* the lazy batch update: every column after the batch at once */
            if (i2 < cols)
                for (int64_t c = i1; c < i2; c++)
                    if (er[c - i1] != 0.0) axpy_neg(wr + i2, er[c - i1], j->u + c * cols + i2, cols - i2);
        }
        if (!job_report(j, nr)) return false;
    }
    if (ggml)
        for (int64_t r = 0; r < nr; r++) pack_row(j, b, r, r0 + r);
    return true;
}

static void gptq_task(void *ctx, int task, int n_tasks) {
    (void)task;
    (void)n_tasks;
    GptqJob *j = ctx;
    const int64_t cols = j->cols, nr_max = GPTQ_ROWS_PER_PASS;
    const int64_t padded = j->q->cols_padded;
    const int64_t per_row = j->gs ? padded / j->gs : 0;
    TaskBuf b;
    b.w = malloc((size_t)(nr_max * cols) * sizeof *b.w);
    b.e = malloc((size_t)(nr_max * j->batch) * sizeof *b.e);
    b.codes = malloc((size_t)(nr_max * padded) * sizeof *b.codes);
    b.dh = malloc((size_t)(nr_max * (per_row + 1)) * sizeof *b.dh);
    b.groups = malloc((size_t)nr_max * sizeof *b.groups);
    b.scratch = malloc((size_t)padded * sizeof *b.scratch);
    if (!b.w || !b.e || !b.codes || !b.dh || !b.groups || !b.scratch) {
        pthread_mutex_lock(&j->lock);
        if (j->status == ST_OK) j->status = error_set(&j->err, ST_NOMEM, "out of memory for GPTQ's working rows");
        pthread_mutex_unlock(&j->lock);
        atomic_store(&j->stop, true);
    } else {
        for (;;) {
            const int64_t r0 = (int64_t)atomic_fetch_add(&j->next_chunk, 1) * nr_max;
            if (r0 >= j->rows || atomic_load(&j->stop)) break;
            const int64_t nr = j->rows - r0 < nr_max ? j->rows - r0 : nr_max;
            if (!quantize_rows(j, r0, nr, &b)) break;
        }
    }
    free(b.w);
    free(b.e);
    free(b.codes);
    free(b.dh);
    free(b.groups);
    free(b.scratch);
}

/* ---------------------------------------------------------------- entry */

Status gptq_quantize(QTensor *q, const float *w, int64_t rows, int64_t cols, const double *h, Format f,
                     const GptqOptions *opt, Pool *pool, const Progress *progress, GptqInfo *info,
                     Error *err) {
    memset(q, 0, sizeof *q);
    const double t0 = clock_now();
    char name[FORMAT_NAME_MAX];
    GptqOptions o = {GPTQ_DAMP_DEFAULT, GPTQ_BLOCK_DEFAULT};
    if (opt) o = *opt;
    if (!format_is_supported(f) || f.method != METHOD_GPTQ)
        return error_set(err, ST_UNSUPPORTED, "format '%s' is not a GPTQ format quantlab can produce",
                         format_name(f, name, sizeof name));
    if (rows <= 0 || cols <= 0)
        return error_set(err, ST_USAGE, "cannot quantize an empty %lld x %lld tensor", (long long)rows,
                         (long long)cols);
    if (o.block < 1) return error_set(err, ST_USAGE, "the GPTQ batch must be at least one column");
    size_t n_sz;
    if (!checked_mul_size((size_t)rows, (size_t)cols, &n_sz) || n_sz > (size_t)INT64_MAX / 8)
        return error_set(err, ST_LIMIT, "a %lld x %lld tensor is too large", (long long)rows, (long long)cols);
    for (size_t i = 0; i < n_sz; i++)
        if (!isfinite(w[i]))
            return error_set(err, ST_FORMAT, "weight %zu (row %lld, column %lld) is not finite: cannot quantize it",
                             i, (long long)(i / (size_t)cols), (long long)(i % (size_t)cols));

    GptqJob j;
    memset(&j, 0, sizeof j);
    j.w = w;
    j.rows = rows;
    j.cols = cols;
    j.f = f;
    j.q = q;
    j.progress = progress;
    j.gs = format_block_size(f, cols);
    if (f.kind == FORMAT_TEACH && f.gran != GRAN_BLOCK) j.gs = 0;
    j.batch = o.block;
    if (j.gs > 0) j.batch = (j.batch + j.gs - 1) / j.gs * j.gs; /* groups never straddle batches */
    atomic_init(&j.next_chunk, 0);
    atomic_init(&j.stop, false);
    j.status = ST_OK;

    uint8_t *mask = NULL, *dead = malloc((size_t)cols);
    double *u = NULL;
    size_t uu = 0;
    double damp_used = o.damp;
    Status st = dead ? ST_OK : error_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK && (!checked_mul_size((size_t)cols, (size_t)cols, &uu) ||
                        !checked_mul_size(uu, sizeof(double), &uu) || !(u = malloc(uu))))
        st = error_set(err, ST_NOMEM, "out of memory for a %lld x %lld inverse Hessian", (long long)cols,
                       (long long)cols);
    if (st == ST_OK && !progress_update(progress, 0.0, "GPTQ: inverse Hessian"))
        st = error_set(err, ST_CANCELLED, "GPTQ cancelled");
    if (st == ST_OK) st = gptq_factor(h, cols, o.damp, pool, u, dead, &damp_used, err);
    const double t_factor = clock_now();
    if (st == ST_OK) st = prune_mask_build(w, rows, cols, f, &mask, err);
    if (st == ST_OK) st = qtensor_alloc(q, rows, cols, f, err);
    if (st == ST_OK && f.split && !(j.out_vals = calloc(n_sz, sizeof(float))))
        st = error_set(err, ST_NOMEM, "out of memory for the outlier values");
    if (st == ST_OK && f.kind == FORMAT_TEACH && f.gran == GRAN_TENSOR) {
        /* per tensor: one scale from the whole initial W (what is taken out as 0) */
        float mn = 0.0f, mx = 0.0f;
        for (size_t i = 0; i < n_sz; i++) {
            const float v = dead[i % (size_t)cols] || (mask && mask[i] != MASK_KEEP) ? 0.0f : w[i];
            if (i == 0 || v < mn) mn = v;
            if (i == 0 || v > mx) mx = v;
        }
        float two[2] = {mn, mx};
        group_params(f, two, 2, &j.tensor_group);
        q->scales[0] = j.tensor_group.s;
        if (q->zeros) q->zeros[0] = j.tensor_group.z;
    }
    if (st == ST_OK) {
        j.mask = mask;
        j.dead = dead;
        j.u = u;
        j.total = rows * ((cols + j.batch - 1) / j.batch);
        if (pthread_mutex_init(&j.lock, NULL) != 0) {
            st = error_set(err, ST_NOMEM, "cannot create a lock");
        } else {
            const int64_t chunks = (rows + GPTQ_ROWS_PER_PASS - 1) / GPTQ_ROWS_PER_PASS;
            int n_tasks = pool ? pool_threads(pool) : 1;
            if (n_tasks > chunks) n_tasks = (int)chunks;
            if (n_tasks > 1) pool_run(pool, gptq_task, &j, n_tasks);
            else gptq_task(&j, 0, 1);
            pthread_mutex_destroy(&j.lock);
            st = j.status;
            if (st != ST_OK) *err = j.err;
            else if (atomic_load(&j.stop)) st = error_set(err, ST_CANCELLED, "GPTQ cancelled");
        }
    }
    if (st == ST_OK && f.split) st = qtensor_attach_outliers(q, mask, j.out_vals, err);
    if (st != ST_OK) qtensor_free(q);
    if (st == ST_OK && info) {
        info->dead_cols = 0;
        for (int64_t c = 0; c < cols; c++) info->dead_cols += dead[c];
        info->damp = damp_used;
        info->seconds_factor = t_factor - t0;
        info->seconds = clock_now() - t0;
    }
    free(j.out_vals);
    free(mask);
    free(dead);
    free(u);
    return st;
}

void gptq_output_error(const double *h, const float *w, const float *d, int64_t rows, int64_t cols,
                       double *err_sq, double *ref_sq) {
    double *e = malloc((size_t)cols * sizeof *e), *x = malloc((size_t)cols * sizeof *x);
    double se = 0.0, sw = 0.0;
    if (e && x) {
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) {
                x[c] = w[r * cols + c];
                e[c] = (double)w[r * cols + c] - (double)d[r * cols + c];
            }
            for (int64_t i = 0; i < cols; i++) { /* v^T H v = sum_i v_i (H v)_i */
                se += e[i] * gptq_dot(h + i * cols, e, cols);
                sw += x[i] * gptq_dot(h + i * cols, x, cols);
            }
        }
    } else {
        se = sw = NAN;
    }
    free(e);
    free(x);
    *err_sq = se;
    *ref_sq = sw;
}
