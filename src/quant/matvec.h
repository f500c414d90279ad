/* matvec.h — matrix-vector products in a weight's own storage format.
 *
 * The forward pass calls matvec() for every weight matrix; the format of the
 * matrix picks the kernel through one table (matvec.c), never an if-chain in the
 * forward pass. Rows are spread over the thread pool when the product is large
 * enough to pay for the hand-off.
 */
#ifndef QL_QUANT_MATVEC_H
#define QL_QUANT_MATVEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"

/* A weight matrix as the kernels see it: `rows` rows of `cols` values each, row r
 * starting at data + r * row_bytes, all in storage type `type` (a GgmlType). */
typedef struct MatView {
    uint32_t type;
    int64_t rows;
    int64_t cols;
    size_t row_bytes;
    const void *data;
} MatView;

/* out[r] = dot(row r of w, x) for every row. x has w->cols floats, out w->rows.
 * scratch holds matvec_scratch_bytes(w->cols) bytes (activation quantization). */
void matvec(Pool *pool, float *out, const MatView *w, const float *x, void *scratch);

/* Scratch bytes matvec needs for rows of `cols` values in any format. */
size_t matvec_scratch_bytes(int64_t cols);

/* True when matvec has a kernel for this storage type. */
int matvec_supports(uint32_t type);

/* Copies row `r` of w into dst as floats (embedding lookups). */
void matview_row_to_float(const MatView *w, int64_t r, float *dst);

#endif
