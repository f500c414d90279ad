/* matvec.c — the threaded row loop around the kernels of kernels.h.
 *
 * One product: prepare the activation once in the form the weight format's
 * kernels take (F32 as it is; Q8_0 or Q8_1 blocks quantized into `scratch`),
 * then hand contiguous ranges of rows to the pool, one row-dot call per row.
 */
#include "quant/matvec.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "quant/kernels.h"
#include "quant/types.h"

/* The scratch is carved at this alignment so the prepared blocks start on a
 * cache line. */
enum { MATVEC_SCRATCH_ALIGN = 64 };

int matvec_supports(uint32_t type) {
    return kernels_row_dot(kernels_scalar(), type, 0) != NULL;
}

size_t matvec_scratch_bytes(int64_t cols) {
    /* every vec type's prepared activation side by side (a matvec_multi may
     * need Q8_0 and Q8_1 at once), each aligned */
    return kernels_vec_bytes(GGML_TYPE_Q8_0, cols) + kernels_vec_bytes(GGML_TYPE_Q4_1, cols) + 2 * MATVEC_SCRATCH_ALIGN;
}

/* One matrix of a job: its rows run with these kernels on this prepared x. */
typedef struct MatvecPart {
    const MatView *w;
    float *out;
    const float *x;           /* the activation as given (for the side list) */
    const void *vec;          /* prepared activation */
    int64_t n;                /* values per row as the kernel counts them (padded for blocks) */
    KernelRowDotFn row_dot;
    KernelRowDot2Fn row_dot2; /* NULL when the set has no two-row form */
    int64_t first;            /* index of its row 0 in the job's row space */
} MatvecPart;

/* The rows of all parts, one after the other, cut into tasks of rows_per_task. */
typedef struct MatvecJob {
    int n_parts;
    MatvecPart parts[MATVEC_MAX_PARTS];
    int64_t rows;             /* in all parts */
    int64_t rows_per_task;
} MatvecJob;

static void part_rows(const MatvecPart *pt, int64_t begin, int64_t end) {
    const MatView *w = pt->w;
    const uint8_t *base = w->data;
    int64_t r = begin;
    if (pt->row_dot2) /* same floats as row_dot, so pairing does not change results */
        for (; r + 1 < end; r += 2)
            pt->row_dot2(base + (size_t)r * w->row_bytes, base + (size_t)(r + 1) * w->row_bytes, pt->vec, pt->n,
                         pt->out + r);
    for (; r < end; r++) pt->out[r] = pt->row_dot(base + (size_t)r * w->row_bytes, pt->vec, pt->n);
    if (w->sp_row) /* outliers kept beside the blocks: their products in F32 */
        for (r = begin; r < end; r++) {
            float acc = 0.0f;
            for (int64_t k = w->sp_row[r]; k < w->sp_row[r + 1]; k++) acc += w->sp_val[k] * pt->x[w->sp_col[k]];
            pt->out[r] += acc;
        }
}

static void matvec_task(void *ctx, int task, int n_tasks) {
    const MatvecJob *job = ctx;
    (void)n_tasks;
    const int64_t begin = (int64_t)task * job->rows_per_task;
    const int64_t end = begin + job->rows_per_task < job->rows ? begin + job->rows_per_task : job->rows;
    for (int i = 0; i < job->n_parts; i++) {
        const MatvecPart *pt = &job->parts[i];
        const int64_t b = begin > pt->first ? begin - pt->first : 0;
        const int64_t e = end - pt->first < pt->w->rows ? end - pt->first : pt->w->rows;
        if (b < e) part_rows(pt, b, e);
    }
}

/* Below this many weight values a product runs on the calling thread: waking
 * another thread costs more than it saves (llama-bench shows 2 threads slower
 * than 1 on stories260K for the same reason). */
enum { MATVEC_PARALLEL_MIN_WORK = 1 << 16 };
/* Tasks are contiguous row ranges, a few per thread so a thread that was
 * descheduled (2 cores shared with other work) does not hold up the product,
 * but never shorter than this many rows. */
enum { MATVEC_TASKS_PER_THREAD = 4, MATVEC_MIN_TASK_ROWS = 16 };

void matvec_multi(Pool *pool, int n, float *const *outs, const MatView *const *ws, const float *x, void *scratch) {
    assert(n >= 1 && n <= MATVEC_MAX_PARTS);
    const KernelSet *ks = kernels_active();
    MatvecJob job;
    job.n_parts = 0;
    job.rows = 0;
    int64_t work = 0;
    /* x prepared once per vec type, in its own aligned place in scratch */
    const void *prepared[GGML_TYPE_COUNT] = {NULL};
    uintptr_t next = (uintptr_t)scratch;
    for (int i = 0; i < n; i++) {
        const MatView *w = ws[i];
        assert(w->cols == ws[0]->cols && "the products of one matvec_multi share x");
        if (w->rows <= 0) continue;
        const KernelRowDotFn row_dot = kernels_row_dot(ks, w->type, w->cols);
        assert(row_dot && "matvec on a type without a kernel");
        const uint32_t vec_type = kernels_vec_type(w->type);
        MatvecPart *pt = &job.parts[job.n_parts++];
        pt->w = w;
        pt->out = outs[i];
        pt->x = x;
        pt->vec = x;
        pt->n = w->cols;
        pt->row_dot = row_dot;
        /* the two-row form only where row_dot is the set's own kernel (not the
         * scalar F32 one short rows get) */
        pt->row_dot2 = row_dot == ks->row_dot[w->type] ? ks->row_dot2[w->type] : NULL;
        pt->first = job.rows;
        if (vec_type != GGML_TYPE_F32) {
            /* x quantized once for all rows (and all parts of this vec type),
             * padded with zeros to whole blocks, the way the weight rows are */
            const int block = kernels_vec_block(w->type);
            const int64_t padded = (w->cols + block - 1) / block * block;
            assert(w->row_bytes >= type_row_size(w->type, padded) && "row shorter than its padded blocks");
            if (!prepared[vec_type]) {
                next = (next + MATVEC_SCRATCH_ALIGN - 1) & ~(uintptr_t)(MATVEC_SCRATCH_ALIGN - 1);
                void *vec = (void *)next;
                ks->quantize[vec_type](x, vec, w->cols);
                prepared[vec_type] = vec;
                next += kernels_vec_bytes(w->type, w->cols);
            }
            pt->vec = prepared[vec_type];
            pt->n = padded;
        }
        job.rows += w->rows;
        work += w->rows * w->cols;
    }
    if (job.rows == 0) return;

    int64_t n_tasks = 1;
    if (pool && pool_threads(pool) > 1 && work >= MATVEC_PARALLEL_MIN_WORK) {
        const int64_t threads = pool_threads(pool);
        int64_t most = job.rows / MATVEC_MIN_TASK_ROWS;
        if (most < threads) most = threads;
        n_tasks = threads * MATVEC_TASKS_PER_THREAD;
        if (n_tasks > most) n_tasks = most;
        if (n_tasks > job.rows) n_tasks = job.rows;
    }
    job.rows_per_task = (job.rows + n_tasks - 1) / n_tasks;
    n_tasks = (job.rows + job.rows_per_task - 1) / job.rows_per_task;
    if (n_tasks <= 1) matvec_task(&job, 0, 1);
    else pool_run(pool, matvec_task, &job, (int)n_tasks);
}

void matvec(Pool *pool, float *out, const MatView *w, const float *x, void *scratch) {
    matvec_multi(pool, 1, &out, &w, x, scratch);
}

void matview_row_to_float(const MatView *w, int64_t r, float *dst) {
    const TypeTraits *t = type_traits(w->type);
    assert(t && t->to_float);
    const uint8_t *row = (const uint8_t *)w->data + (size_t)r * w->row_bytes;
    /* Whole blocks straight into dst; a padded row's last block goes through a
     * local copy, since dst holds only the row's cols values. */
    const int64_t whole = w->cols / t->block_size * t->block_size;
    if (whole > 0) t->to_float(row, dst, whole);
    if (whole < w->cols) {
        float tail[256]; /* the largest block (QK_K) */
        assert(t->block_size <= 256);
        t->to_float(row + (size_t)(whole / t->block_size) * t->type_size, tail, t->block_size);
        memcpy(dst + whole, tail, (size_t)(w->cols - whole) * sizeof(float));
    }
    if (w->sp_row)
        for (int64_t k = w->sp_row[r]; k < w->sp_row[r + 1]; k++) dst[w->sp_col[k]] += w->sp_val[k];
}
