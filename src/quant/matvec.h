/* matvec.h — matrix-vector products in a weight's own storage format.
 *
 * The forward pass calls matvec() for every weight matrix; the format of the
 * matrix picks the kernel through one table (kernels.h), never an if-chain in the
 * forward pass. Block formats run as llama.cpp runs them: x is quantized once per
 * product to Q8_0 (or Q8_1) blocks and each row's dot product is integer
 * arithmetic block by block. Rows are spread over the thread pool when the
 * product is large enough to pay for the hand-off. QUANTLAB_NO_SIMD=1 in the
 * environment runs the scalar reference kernels (see kernels.h).
 */
#ifndef QL_QUANT_MATVEC_H
#define QL_QUANT_MATVEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"

/* A weight matrix as the kernels see it: `rows` rows of `cols` values each, row r
 * starting at data + r * row_bytes, all in storage type `type` (a GgmlType).
 * Block formats whose cols is not a multiple of the block size store each row
 * padded with zero values to whole blocks: row_bytes is at least
 * type_row_size(type, cols rounded up to the block); cols stays the logical length. */
typedef struct MatView {
    uint32_t type;
    int64_t rows;
    int64_t cols;
    size_t row_bytes;
    const void *data;
    /* Optional sparse side list (an outlier split, qtensor.h), added to each row's
     * dot product in F32: row r adds sp_val[k] * x[sp_col[k]] for k in
     * [sp_row[r], sp_row[r+1]). NULL when there is none. */
    const int64_t *sp_row;
    const uint32_t *sp_col;
    const float *sp_val;
} MatView;

/* out[r] = dot(row r of w, x) (+ its side list's entries) for every row. x has w->cols floats (never read
 * past), out w->rows. scratch holds matvec_scratch_bytes(w->cols) bytes, any
 * alignment: x's quantized blocks go there. The result does not depend on the
 * pool: threads take whole rows. */
void matvec(Pool *pool, float *out, const MatView *w, const float *x, void *scratch);

/* Several products of one x (q, k and v of a layer; gate and up) in a single
 * hand-off to the pool: outs[i] = ws[i] x, each exactly as matvec() would give
 * it. 1 <= n <= MATVEC_MAX_PARTS; every matrix has x's w->cols; x is prepared
 * once per vec type. scratch as for matvec. */
enum { MATVEC_MAX_PARTS = 4 };
void matvec_multi(Pool *pool, int n, float *const *outs, const MatView *const *ws, const float *x, void *scratch);

/* Scratch bytes matvec and matvec_multi need for rows of `cols` values in any
 * format. */
size_t matvec_scratch_bytes(int64_t cols);

/* True when matvec has a kernel for this storage type. */
int matvec_supports(uint32_t type);

/* Copies row `r` of w into dst as floats (embedding lookups); dst receives
 * exactly w->cols values, padded rows included, side-list entries added. */
void matview_row_to_float(const MatView *w, int64_t r, float *dst);

#endif
