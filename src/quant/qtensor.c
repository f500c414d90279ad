/* qtensor.c — quantizing one float matrix into a format (see qtensor.h).
 *
 * Called by the quantized-copy cache (model/qcache.c) and the `quantize` and
 * `stats` commands. GGML formats go row by row through type_traits()'s reference
 * quantizer and decoder, so the blocks are those llama.cpp writes. Teaching
 * formats follow the conventions in format.h; their arithmetic is in
 * qtensor_teach_params() and qtensor_teach_code() below (gptq.c calls them too),
 * and nowhere else.
 *
 * Work is split over rows (and, for the whole-tensor passes, over the flat
 * array) when the tensor is large enough to pay for waking the pool.
 */
#include "quant/qtensor.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/half.h"
#include "quant/prune.h"
#include "quant/types.h"

/* Below this many weights the calling thread does everything. */
enum { QTENSOR_PARALLEL_MIN = 1 << 16 };
/* Tasks per pool thread: a few more tasks than threads evens out the load. */
enum { QTENSOR_TASKS_PER_THREAD = 4 };

static int task_count(Pool *pool, int64_t n, int64_t units) {
    if (!pool || n < QTENSOR_PARALLEL_MIN) return 1;
    int64_t t = (int64_t)pool_threads(pool) * QTENSOR_TASKS_PER_THREAD;
    if (t > units) t = units;
    return t < 1 ? 1 : (int)t;
}

static void run(Pool *pool, PoolFn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 1) fn(ctx, 0, 1);
    else pool_run(pool, fn, ctx, n_tasks);
}

/* ---------------------------------------------------------- teaching maths */

/* The scale as stored: rounded to FP16 (to nearest even). A scale too large for
 * FP16 saturates at its largest finite value, 65504, rather than becoming inf —
 * values beyond qmax * 65504 then clamp, which the error figures show. */
static float scale_to_fp16(float s) {
    float h = half_to_f32(half_from_f32(s));
    return isinf(h) ? 65504.0f : h;
}

static inline float clampf(float x, float lo, float hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* Scale and zero point of a group whose values span [mn, mx] (see format.h).
 *   symmetric:  s = max(|mn|, |mx|) / qmax,  qmax = 2^(b-1) - 1,  z = 0
 *   asymmetric: lo = min(mn, 0), hi = max(mx, 0), s = (hi - lo) / qmax,
 *               qmax = 2^b - 1, z = clamp(round(-lo / s16), 0, qmax)
 * s is computed in float and rounded to FP16 (s16) before z and the codes are
 * computed, so the scale used is the scale stored. */
void qtensor_teach_params(int bits, bool asym, float mn, float mx, float *scale, int32_t *zero) {
    if (!asym) {
        const float qmax = (float)((1 << (bits - 1)) - 1);
        const float amax = fmaxf(-mn, mx);
        *scale = scale_to_fp16(amax / qmax);
        *zero = 0;
        return;
    }
    const float qmax = (float)((1 << bits) - 1);
    const float lo = fminf(mn, 0.0f), hi = fmaxf(mx, 0.0f);
    const float s16 = scale_to_fp16((hi - lo) / qmax);
    *scale = s16;
    /* -lo / s16 <= qmax * (1 + 2^-11) by construction; the clamp only absorbs the
     * FP16 rounding of s (and keeps the conversion to int defined). */
    *zero = s16 > 0.0f ? (int32_t)roundf(clampf(-lo / s16, 0.0f, qmax)) : 0;
}

/* The code and decoded value of one value x.
 *   symmetric:  q = round(clamp(x / s, -qmax, qmax)),          w~ = q * s
 *   asymmetric: r = round(clamp(x / s, -z, qmax - z)), q = r + z, w~ = (q - z) * s
 * The clamp happens in float, before the conversion to an integer. A zero scale
 * (an all-zero group, or one whose scale underflows FP16; qtensor_teach_params
 * gives it z = 0) gives code z and value 0 without dividing by zero. */
int16_t qtensor_teach_code(float x, int bits, bool asym, float s, int32_t z, float *deq) {
    if (s == 0.0f) {
        *deq = 0.0f;
        return (int16_t)z;
    }
    float lo, hi;
    if (asym) {
        lo = (float)-z;
        hi = (float)((1 << bits) - 1 - z);
    } else {
        hi = (float)((1 << (bits - 1)) - 1);
        lo = -hi;
    }
    const float r = roundf(clampf(x / s, lo, hi));
    *deq = r * s;
    return (int16_t)((int32_t)r + z);
}

/* Codes and decoded values of one group of n values. */
static void teach_code(const float *x, int64_t n, int bits, bool asym, float s, int32_t z,
                       int16_t *codes, float *deq) {
    for (int64_t i = 0; i < n; i++) codes[i] = qtensor_teach_code(x[i], bits, asym, s, z, &deq[i]);
}

static void range_of(const float *x, int64_t n, float *mn, float *mx) {
    float a = x[0], b = x[0];
    for (int64_t i = 1; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *mn = a;
    *mx = b;
}

/* -------------------------------------------------------------------- jobs */

typedef struct Job {
    QTensor *q;
    const float *w;           /* (rows, cols) the input */
    int64_t n;                /* rows * cols */
    const TypeTraits *traits; /* GGML formats */
    float *scratch;           /* (n_tasks, cols_padded) GGML padding scratch */
    float *part_lo, *part_hi; /* (n_tasks) per-task min and max (per-tensor scale) */
    int64_t *part_bad;        /* (n_tasks) first non-finite index, or -1 */
} Job;

static void rows_of(const QTensor *q, int task, int n_tasks, int64_t *begin, int64_t *end) {
    *begin = q->rows * task / n_tasks;
    *end = q->rows * (task + 1) / n_tasks;
}

/* First non-finite weight in this task's share of the flat array (or -1). */
static void task_find_bad(void *ctx, int task, int n_tasks) {
    Job *j = ctx;
    const int64_t begin = j->n * task / n_tasks, end = j->n * (task + 1) / n_tasks;
    j->part_bad[task] = -1;
    for (int64_t i = begin; i < end; i++) {
        if (!isfinite(j->w[i])) {
            j->part_bad[task] = i;
            return;
        }
    }
}

static void task_range(void *ctx, int task, int n_tasks) {
    Job *j = ctx;
    const int64_t begin = j->n * task / n_tasks, end = j->n * (task + 1) / n_tasks;
    if (end > begin) {
        range_of(j->w + begin, end - begin, &j->part_lo[task], &j->part_hi[task]);
    } else { /* an empty share must not widen the range */
        j->part_lo[task] = FLT_MAX;
        j->part_hi[task] = -FLT_MAX;
    }
}

static void task_ggml(void *ctx, int task, int n_tasks) {
    Job *j = ctx;
    QTensor *q = j->q;
    const int64_t cols = q->cols, padded = q->cols_padded;
    float *scratch = j->scratch + (size_t)task * (size_t)padded;
    int64_t begin, end;
    rows_of(q, task, n_tasks, &begin, &end);
    for (int64_t r = begin; r < end; r++) {
        const float *src = j->w + r * cols;
        uint8_t *dst = (uint8_t *)q->blocks + (size_t)r * q->row_bytes;
        float *deq = q->dequant + r * cols;
        if (padded == cols) {
            j->traits->from_float(src, dst, cols);
            j->traits->to_float(dst, deq, cols);
        } else {
            /* a short last block is padded with zeros, as a whole block is stored */
            memcpy(scratch, src, (size_t)cols * sizeof(float));
            memset(scratch + cols, 0, (size_t)(padded - cols) * sizeof(float));
            j->traits->from_float(scratch, dst, padded);
            j->traits->to_float(dst, scratch, padded);
            memcpy(deq, scratch, (size_t)cols * sizeof(float)); /* padding dropped */
        }
    }
}

static void task_teach(void *ctx, int task, int n_tasks) {
    Job *j = ctx;
    QTensor *q = j->q;
    const Format f = q->fmt;
    const int64_t cols = q->cols;
    int64_t begin, end;
    rows_of(q, task, n_tasks, &begin, &end);
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->w + r * cols;
        int16_t *codes = q->codes + r * cols;
        float *deq = q->dequant + r * cols;
        if (f.gran == GRAN_TENSOR) {
            teach_code(x, cols, f.bits, f.asym, q->scales[0], q->zeros ? q->zeros[0] : 0, codes,
                       deq);
            continue;
        }
        /* per row: one group of cols; per block: groups of `block`, the last one
         * shorter (its padding is counted in bytes but never quantized) */
        const int64_t gs = q->group_size;
        const int64_t per_row = (cols + gs - 1) / gs;
        for (int64_t b = 0; b < per_row; b++) {
            const int64_t c0 = b * gs, len = cols - c0 < gs ? cols - c0 : gs;
            const int64_t g = r * per_row + b;
            float mn, mx;
            int32_t z;
            range_of(x + c0, len, &mn, &mx);
            qtensor_teach_params(f.bits, f.asym, mn, mx, &q->scales[g], &z);
            if (q->zeros) q->zeros[g] = z;
            teach_code(x + c0, len, f.bits, f.asym, q->scales[g], z, codes + c0, deq + c0);
        }
    }
}

/* --------------------------------------------------------------- quantize */

static Status refuse_non_finite(const float *w, int64_t n, int64_t cols, Pool *pool, Error *err) {
    int n_tasks = task_count(pool, n, n);
    int64_t bad[64];
    if (n_tasks > 64) n_tasks = 64;
    Job j = {.w = w, .n = n, .part_bad = bad};
    run(pool, task_find_bad, &j, n_tasks);
    for (int t = 0; t < n_tasks; t++) {
        if (bad[t] < 0) continue;
        const float v = w[bad[t]];
        return error_set(err, ST_FORMAT,
                         "weight %lld (row %lld, column %lld) is %s: cannot quantize a non-finite "
                         "value",
                         (long long)bad[t], (long long)(bad[t] / cols), (long long)(bad[t] % cols),
                         isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
    }
    return ST_OK;
}

static void *alloc_array(size_t count, size_t size, bool *ok) {
    size_t bytes;
    if (!checked_mul_size(count, size, &bytes)) {
        *ok = false;
        return NULL;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (!p) *ok = false;
    return p;
}

Status qtensor_alloc(QTensor *q, int64_t rows, int64_t cols, Format f, Error *err) {
    memset(q, 0, sizeof *q);
    char name[FORMAT_NAME_MAX];
    const int64_t padded = format_padded_cols(f, cols);
    size_t n_sz, pad_sz;
    if (rows <= 0 || cols <= 0 || !checked_mul_size((size_t)rows, (size_t)cols, &n_sz) ||
        !checked_mul_size((size_t)rows, (size_t)padded, &pad_sz) || n_sz > (size_t)INT64_MAX / 8)
        return error_set(err, ST_LIMIT, "a %lld x %lld tensor is too large", (long long)rows,
                         (long long)cols);
    q->fmt = f;
    q->rows = rows;
    q->cols = cols;
    q->cols_padded = padded;
    q->bytes = format_tensor_bytes(f, rows, cols);
    bool ok = true;
    q->dequant = alloc_array(n_sz, sizeof(float), &ok);
    if (f.kind == FORMAT_GGML) {
        q->row_bytes = type_row_size(f.type, padded);
        q->blocks = alloc_array((size_t)rows, q->row_bytes, &ok);
    } else {
        if (f.gran == GRAN_TENSOR) {
            q->group_size = (int64_t)n_sz;
            q->n_groups = 1;
        } else if (f.gran == GRAN_ROW) {
            q->group_size = cols;
            q->n_groups = rows;
        } else {
            q->group_size = f.block;
            q->n_groups = rows * ((cols + f.block - 1) / f.block);
        }
        q->codes = alloc_array(n_sz, sizeof(int16_t), &ok);
        q->scales = alloc_array((size_t)q->n_groups, sizeof(float), &ok);
        if (f.asym) q->zeros = alloc_array((size_t)q->n_groups, sizeof(int32_t), &ok);
    }
    if (ok) return ST_OK;
    qtensor_free(q);
    return error_set(err, ST_NOMEM, "out of memory quantizing a %lld x %lld tensor to %s",
                     (long long)rows, (long long)cols, format_name(f, name, sizeof name));
}

Status qtensor_attach_outliers(QTensor *q, const uint8_t *mask, const float *values, Error *err) {
    const int64_t n = q->rows * q->cols;
    if ((uint64_t)n > UINT32_MAX)
        return error_set(err, ST_LIMIT, "a tensor of %lld weights is too large for an outlier list with "
                         "4-byte indices", (long long)n);
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) count += mask[i] == MASK_OUTLIER;
    bool ok = true;
    q->sp_row = alloc_array((size_t)q->rows + 1, sizeof(int64_t), &ok);
    q->sp_col = alloc_array((size_t)count, sizeof(uint32_t), &ok);
    q->sp_val = alloc_array((size_t)count, sizeof(float), &ok);
    if (!ok) {
        free(q->sp_row);
        free(q->sp_col);
        free(q->sp_val);
        q->sp_row = NULL;
        q->sp_col = NULL;
        q->sp_val = NULL;
        return error_set(err, ST_NOMEM, "out of memory for %lld outliers", (long long)count);
    }
    int64_t k = 0;
    for (int64_t r = 0; r < q->rows; r++) {
        q->sp_row[r] = k;
        for (int64_t c = 0; c < q->cols; c++) {
            const int64_t i = r * q->cols + c;
            if (mask[i] != MASK_OUTLIER) continue;
            const float v = half_to_f32(half_from_f32(values[i]));
            q->sp_col[k] = (uint32_t)c;
            q->sp_val[k] = v;
            q->dequant[i] += v; /* the dense part decodes to 0 here */
            k++;
        }
    }
    q->sp_row[q->rows] = k;
    q->n_outliers = k;
    return ST_OK;
}

/* Round-to-nearest of the dense part: w (already pruned and with its outliers
 * set to 0) into the base of q->fmt; q allocated by qtensor_alloc. */
static Status quantize_dense(QTensor *q, const float *w, Pool *pool, Error *err) {
    const Format f = q->fmt;
    const int64_t n = q->rows * q->cols;
    const int n_tasks = task_count(pool, n, q->rows);
    Job job = {.q = q, .w = w, .n = n};
    if (f.kind == FORMAT_GGML) {
        bool ok = true;
        job.traits = type_traits(f.type);
        job.scratch = alloc_array((size_t)n_tasks, (size_t)q->cols_padded * sizeof(float), &ok);
        if (!ok) return error_set(err, ST_NOMEM, "out of memory quantizing a %lld x %lld tensor",
                                  (long long)q->rows, (long long)q->cols);
        run(pool, task_ggml, &job, n_tasks);
        free(job.scratch);
        return ST_OK;
    }
    if (f.gran == GRAN_TENSOR) {
        /* one range for the whole tensor, then every row against it */
        float lo[64], hi[64];
        int rt = task_count(pool, n, n);
        if (rt > 64) rt = 64;
        job.part_lo = lo;
        job.part_hi = hi;
        run(pool, task_range, &job, rt);
        float mn = lo[0], mx = hi[0];
        for (int t = 1; t < rt; t++) {
            mn = fminf(mn, lo[t]);
            mx = fmaxf(mx, hi[t]);
        }
        int32_t z;
        qtensor_teach_params(f.bits, f.asym, mn, mx, &q->scales[0], &z);
        if (q->zeros) q->zeros[0] = z;
    }
    run(pool, task_teach, &job, n_tasks);
    return ST_OK;
}

Status qtensor_quantize(QTensor *q, const float *w, int64_t rows, int64_t cols, Format f,
                        Pool *pool, Error *err) {
    memset(q, 0, sizeof *q);
    char name[FORMAT_NAME_MAX];
    if (!format_is_supported(f))
        return error_set(err, ST_UNSUPPORTED,
                         "format '%s' cannot be produced here (try f32, f16, bf16, q8_0, q4_0, "
                         "q4_1, q5_0, q5_1 or an int2..int8 teaching format)",
                         format_name(f, name, sizeof name));
    if (f.method == METHOD_GPTQ)
        return error_set(err, ST_UNSUPPORTED,
                         "'%s' is chosen by GPTQ from calibration activations: calibrate first",
                         format_name(f, name, sizeof name));
    if (rows <= 0 || cols <= 0)
        return error_set(err, ST_USAGE, "cannot quantize an empty %lld x %lld tensor",
                         (long long)rows, (long long)cols);
    size_t n_sz;
    if (!checked_mul_size((size_t)rows, (size_t)cols, &n_sz) || n_sz > (size_t)INT64_MAX / 8)
        return error_set(err, ST_LIMIT, "a %lld x %lld tensor is too large", (long long)rows,
                         (long long)cols);
    Status st = refuse_non_finite(w, (int64_t)n_sz, cols, pool, err);
    if (st != ST_OK) return st;

    /* pruning and outliers: the dense quantizer sees 0 at every weight taken out */
    uint8_t *mask = NULL;
    float *dense = NULL;
    if ((st = prune_mask_build(w, rows, cols, f, &mask, err)) != ST_OK) return st;
    if (mask) {
        bool ok = true;
        dense = alloc_array(n_sz, sizeof(float), &ok);
        if (!ok) {
            free(mask);
            return error_set(err, ST_NOMEM, "out of memory quantizing a %lld x %lld tensor",
                             (long long)rows, (long long)cols);
        }
        for (size_t i = 0; i < n_sz; i++) dense[i] = mask[i] == MASK_KEEP ? w[i] : 0.0f;
    }
    if ((st = qtensor_alloc(q, rows, cols, f, err)) == ST_OK &&
        (st = quantize_dense(q, dense ? dense : w, pool, err)) == ST_OK && f.split)
        st = qtensor_attach_outliers(q, mask, w, err);
    if (st != ST_OK) qtensor_free(q);
    free(dense);
    free(mask);
    return st;
}

void qtensor_free(QTensor *q) {
    if (!q) return;
    free(q->blocks);
    free(q->codes);
    free(q->scales);
    free(q->zeros);
    free(q->dequant);
    free(q->sp_row);
    free(q->sp_col);
    free(q->sp_val);
    memset(q, 0, sizeof *q);
}

/* ------------------------------------------------------------------- views */

int qtensor_runs_natively(const QTensor *q) {
    return q->fmt.kind == FORMAT_GGML && q->blocks && matvec_supports(q->fmt.type);
}

MatView qtensor_view(const QTensor *q) {
    MatView v;
    v.rows = q->rows;
    v.cols = q->cols;
    v.sp_row = NULL;
    v.sp_col = NULL;
    v.sp_val = NULL;
    if (qtensor_runs_natively(q)) {
        v.type = q->fmt.type;
        v.row_bytes = q->row_bytes;
        v.data = q->blocks;
        if (q->sp_row) { /* the outliers, added to the dense product */
            v.sp_row = q->sp_row;
            v.sp_col = q->sp_col;
            v.sp_val = q->sp_val;
        }
    } else { /* dequant already holds the outliers */
        v.type = GGML_TYPE_F32;
        v.row_bytes = (size_t)q->cols * sizeof(float);
        v.data = q->dequant;
    }
    return v;
}
