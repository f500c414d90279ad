/* gptq.h — error-compensating quantization (GPTQ, Frantar et al. 2022,
 * "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers", Algorithm 1), with no knowledge of models.
 *
 * A weight matrix W (rows = outputs, cols = inputs) is quantized column by
 * column, left to right. Each column's rounding error is spread over the columns
 * not yet quantized so that the layer's output on calibration inputs X changes as
 * little as possible: the objective is ||W X^T - Wq X^T||^2, whose Hessian is
 * H = sum over inputs x of x x^T (cols x cols, from calibration, model/calib.h).
 *
 *   1. dead columns (H_jj = 0: an input that was always 0) get weight 0, H_jj = 1
 *   2. H += lambda I, lambda = damp * mean(diag H)              (damping, 1%)
 *   3. U = the upper Cholesky factor of H^-1 (H^-1 = U^T U), computed as R^-1
 *      where H = R R^T with R upper (a Cholesky factorization taken from the last
 *      column backwards: the same U that Cholesky-factoring H^-1 would give, with
 *      one factorization and one triangular inverse instead of two and an inverse)
 *   4. for each column j, in lazy batches of `block` columns:
 *        when a group of the format starts at j, each row's scale is computed from
 *        the row's *current* (error-updated) values of that group, the way the
 *        reference quantizer computes it (Q4_0: d = signed max / -8, codes with
 *        1/d, d stored in FP16; Q8_0: d = max|w| / 127; teaching: format.h)
 *        q = quantize(w_j) with that scale (codes clamped to the format's range:
 *            updated weights may leave the range the scale was made for)
 *        e = (w_j - q) / U_jj
 *        w_k -= e * U_jk for the later columns k of the batch at once, and for the
 *        columns after the batch when the batch ends (the "lazy batch" update)
 *   Per-row teaching scales are computed from each initial row and the per-tensor
 *   scale from the whole initial W, before any column is quantized (as GPTQ's
 *   reference code does for per-channel scales).
 *
 * Pruning and outlier splits (format.h) combine with it: the mask is chosen from
 * the initial weights by magnitude; a pruned weight is quantized to exactly 0 and
 * its whole value is compensated by the later columns (SparseGPT's update with a
 * fixed mask); an outlier keeps its current value in FP16 (error below FP16's
 * rounding) and counts as 0 when a group's scale is computed.
 *
 * The output is a QTensor laid out exactly as qtensor_quantize() lays it out:
 * ordinary ggml blocks (a GGUF file stores them as Q4_0 / Q8_0 and llama.cpp
 * runs them), or teaching codes and scales. All arithmetic on W and H is in
 * double; quantizing a value uses the reference quantizer's float arithmetic. Rows
 * are independent given U, so they are spread over the pool and the result does
 * not depend on the thread count.
 */
#ifndef QL_QUANT_GPTQ_H
#define QL_QUANT_GPTQ_H

#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "base/progress.h"
#include "quant/format.h"
#include "quant/qtensor.h"

typedef struct GptqOptions {
    double damp; /* lambda = damp * mean(diag H); GPTQ's default 0.01 */
    int block;   /* columns per lazy batch; 128 by default, rounded up to a whole
                    number of the format's groups */
} GptqOptions;

#define GPTQ_DAMP_DEFAULT 0.01
enum { GPTQ_BLOCK_DEFAULT = 128 };

typedef struct GptqInfo {
    int64_t dead_cols;     /* columns whose H_jj was 0 */
    double damp;           /* the relative damping used: opt->damp, or 10x, 100x,
                              1000x it when H + lambda I was not positive definite */
    double seconds_factor; /* steps 1-3 */
    double seconds;        /* everything */
} GptqInfo;

/* Fills *u (n x n doubles, row-major, upper triangle; the rest set to 0) with
 * the upper Cholesky factor of (H + lambda I)^-1 after steps 1-3 above; dead (n
 * entries, may be NULL) gets 1 for dead columns. The damping is raised tenfold,
 * up to three times, while the matrix is not positive definite; *damp_used says
 * what was used. h must be symmetric with finite entries (ST_USAGE otherwise, and
 * ST_FORMAT "not positive definite even with damping D" at the end). pool may be
 * NULL. */
Status gptq_factor(const double *h, int64_t n, double damp, Pool *pool, double *u, uint8_t *dead,
                   double *damp_used, Error *err);

/* Quantizes w (rows x cols floats, row-major, output x input) with calibration
 * Hessian h (cols x cols, symmetric, sum of x x^T) into format f, whose method
 * must be METHOD_GPTQ and whose base format_gptq_capable(). opt NULL means the
 * defaults; progress (may be NULL) is polled and reported between batches, from
 * one thread at a time; info may be NULL. Errors: those of qtensor_quantize (bad
 * format, empty shape, non-finite weight), of gptq_factor, ST_CANCELLED; *q is
 * then empty. */
Status gptq_quantize(QTensor *q, const float *w, int64_t rows, int64_t cols, const double *h, Format f,
                     const GptqOptions *opt, Pool *pool, const Progress *progress, GptqInfo *info,
                     Error *err);

/* The layer's output error on the calibration inputs, from H alone:
 *   *err_sq = sum_r (w_r - d_r)^T H (w_r - d_r) = sum over inputs x of ||(W - D) x||^2
 *   *ref_sq = sum_r w_r^T H w_r                 = sum over inputs x of ||W x||^2
 * w and d (the decoded values) are rows x cols. err_sq / ref_sq is the relative
 * output error GPTQ minimises (RTN ignores H). */
void gptq_output_error(const double *h, const float *w, const float *d, int64_t rows, int64_t cols,
                       double *err_sq, double *ref_sq);

/* A double-precision dot product with four partial sums (independent chains
 * the compiler can keep in registers). GPTQ's Cholesky and its error figures
 * use it, and so does calibration summing H = X^T X. */
static inline double gptq_dot(const double *restrict a, const double *restrict b, int64_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

#endif
