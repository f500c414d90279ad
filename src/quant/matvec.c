/* matvec.c — the kernel table and the threaded row loop. */
#include "quant/matvec.h"

#include <assert.h>
#include <string.h>

#include "quant/types.h"

/* A row kernel: dot product of one stored row with the prepared activation. */
typedef float (*RowDotFn)(const void *row, const void *x, int64_t n);

/* F32 rows: a plain left-to-right float sum, the order llama2.c's matmul uses,
 * so FP32 results follow the reference program as closely as float allows. */
static float row_dot_f32(const void *row, const void *x, int64_t n) {
    const float *w = row;
    const float *v = x;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += w[j] * v[j];
    return sum;
}

typedef struct Kernel {
    RowDotFn row_dot;
} Kernel;

static const Kernel *kernel_for(uint32_t type) {
    static const Kernel F32 = {row_dot_f32};
    switch (type) {
    case GGML_TYPE_F32: return &F32;
    default: return NULL;
    }
}

int matvec_supports(uint32_t type) {
    return kernel_for(type) != NULL;
}

size_t matvec_scratch_bytes(int64_t cols) {
    return (size_t)cols * sizeof(float) + 64;
}

typedef struct MatvecJob {
    const MatView *w;
    const void *x;
    float *out;
    RowDotFn row_dot;
} MatvecJob;

static void matvec_task(void *ctx, int task, int n_tasks) {
    const MatvecJob *job = ctx;
    const MatView *w = job->w;
    int64_t begin = w->rows * task / n_tasks;
    int64_t end = w->rows * (task + 1) / n_tasks;
    const uint8_t *base = w->data;
    for (int64_t r = begin; r < end; r++)
        job->out[r] = job->row_dot(base + (size_t)r * w->row_bytes, job->x, w->cols);
}

/* Below this many multiply-adds a product runs on the calling thread: waking
 * another thread costs more than it saves (llama-bench shows 2 threads slower
 * than 1 on stories260K for the same reason). */
enum { MATVEC_PARALLEL_MIN_WORK = 1 << 16 };

void matvec(Pool *pool, float *out, const MatView *w, const float *x, void *scratch) {
    const Kernel *k = kernel_for(w->type);
    assert(k && "matvec on a type without a kernel");
    (void)scratch;
    MatvecJob job = {w, x, out, k->row_dot};
    int n_tasks = 1;
    if (pool && (int64_t)w->rows * w->cols >= MATVEC_PARALLEL_MIN_WORK) {
        n_tasks = pool_threads(pool);
        if (n_tasks > w->rows) n_tasks = (int)w->rows;
    }
    if (n_tasks <= 1) matvec_task(&job, 0, 1);
    else pool_run(pool, matvec_task, &job, n_tasks);
}

void matview_row_to_float(const MatView *w, int64_t r, float *dst) {
    const TypeTraits *t = type_traits(w->type);
    assert(t && t->to_float);
    t->to_float((const uint8_t *)w->data + (size_t)r * w->row_bytes, dst, w->cols);
}
