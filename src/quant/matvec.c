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
    /* the largest prepared activation over the vec types (Q8_1: 36 bytes per
     * 32 values), plus room to align its start */
    size_t most = kernels_vec_bytes(GGML_TYPE_Q4_1, cols);
    size_t q8_0 = kernels_vec_bytes(GGML_TYPE_Q8_0, cols);
    if (q8_0 > most) most = q8_0;
    return most + MATVEC_SCRATCH_ALIGN;
}

typedef struct MatvecJob {
    const MatView *w;
    const float *x;      /* the activation as given (for the side list) */
    const void *vec;     /* prepared activation */
    int64_t n;           /* values per row as the kernel counts them (padded for blocks) */
    float *out;
    KernelRowDotFn row_dot;
    int64_t rows_per_task;
} MatvecJob;

static void matvec_task(void *ctx, int task, int n_tasks) {
    const MatvecJob *job = ctx;
    const MatView *w = job->w;
    (void)n_tasks;
    const int64_t begin = (int64_t)task * job->rows_per_task;
    int64_t end = begin + job->rows_per_task;
    if (end > w->rows) end = w->rows;
    const uint8_t *base = w->data;
    for (int64_t r = begin; r < end; r++)
        job->out[r] = job->row_dot(base + (size_t)r * w->row_bytes, job->vec, job->n);
    if (w->sp_row) /* outliers kept beside the blocks: their products in F32 */
        for (int64_t r = begin; r < end; r++) {
            float acc = 0.0f;
            for (int64_t k = w->sp_row[r]; k < w->sp_row[r + 1]; k++) acc += w->sp_val[k] * job->x[w->sp_col[k]];
            job->out[r] += acc;
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

void matvec(Pool *pool, float *out, const MatView *w, const float *x, void *scratch) {
    if (w->rows <= 0) return;
    const KernelSet *ks = kernels_active();
    const KernelRowDotFn row_dot = kernels_row_dot(ks, w->type, w->cols);
    assert(row_dot && "matvec on a type without a kernel");
    const uint32_t vec_type = kernels_vec_type(w->type);

    MatvecJob job = {w, x, x, w->cols, out, row_dot, w->rows};
    if (vec_type != GGML_TYPE_F32) {
        /* Quantize x once for all rows, padded with zeros to whole blocks, the
         * way the weight rows are padded. */
        const int block = kernels_vec_block(w->type);
        const int64_t padded = (w->cols + block - 1) / block * block;
        assert(w->row_bytes >= type_row_size(w->type, padded) && "row shorter than its padded blocks");
        uintptr_t p = (uintptr_t)scratch;
        p = (p + MATVEC_SCRATCH_ALIGN - 1) & ~(uintptr_t)(MATVEC_SCRATCH_ALIGN - 1);
        void *vec = (void *)p;
        ks->quantize[vec_type](x, vec, w->cols);
        job.vec = vec;
        job.n = padded;
    }

    int64_t n_tasks = 1;
    if (pool && pool_threads(pool) > 1 && w->rows * w->cols >= MATVEC_PARALLEL_MIN_WORK) {
        const int64_t threads = pool_threads(pool);
        int64_t most = w->rows / MATVEC_MIN_TASK_ROWS;
        if (most < threads) most = threads;
        n_tasks = threads * MATVEC_TASKS_PER_THREAD;
        if (n_tasks > most) n_tasks = most;
        if (n_tasks > w->rows) n_tasks = w->rows;
    }
    job.rows_per_task = (w->rows + n_tasks - 1) / n_tasks;
    n_tasks = (w->rows + job.rows_per_task - 1) / job.rows_per_task;
    if (n_tasks <= 1) matvec_task(&job, 0, 1);
    else pool_run(pool, matvec_task, &job, (int)n_tasks);
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
