/* qtensor.h — one weight matrix quantized into a format, in memory.
 *
 * GGML formats hold ggml blocks exactly as a GGUF file would (bit-exact with
 * llama.cpp's reference quantizers); rows whose length is not a multiple of the
 * block size are padded with zeros to a whole block, and the padding is counted in
 * `bytes`. Teaching formats hold integer codes plus per-group scales (and zero
 * points). Every QTensor also keeps the float values its codes decode to, which
 * the statistics, the histograms and the error figures are computed from.
 *
 * A QTensor is immutable once built, so one may be shared between threads and
 * between the FP32/plan columns of the Compare screen.
 */
#ifndef QL_QUANT_QTENSOR_H
#define QL_QUANT_QTENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "quant/format.h"
#include "quant/matvec.h"

typedef struct QTensor {
    Format fmt;
    int64_t rows, cols;   /* logical shape: rows of cols values */
    int64_t cols_padded;  /* cols rounded up to the block size */
    double bytes;         /* honest storage (format_tensor_bytes) */

    /* GGML formats: rows * row_bytes bytes of blocks (padded rows). */
    size_t row_bytes;
    void *blocks;

    /* Teaching formats: codes and their groups (NULL / 0 for GGML formats, whose
     * blocks hold their own scales). Group g covers, per granularity:
     *   tensor: every value (g = 0);  row: row g;
     *   block:  row g / per_row, columns [(g % per_row) * block, ... + block) cut at
     *           cols, with per_row = ceil(cols / block).                          */
    int16_t *codes;       /* (rows, cols) integer codes as stored: symmetric in
                             [-qmax, qmax], asymmetric in [0, 2^b - 1] (int16: INT8
                             asymmetric codes reach 255) */
    int64_t group_size;   /* values per group (a block, a row, or the whole tensor) */
    int64_t n_groups;
    float *scales;        /* (n_groups) the FP16 scale as stored, widened to float */
    int32_t *zeros;       /* (n_groups) zero points; NULL when symmetric */

    float *dequant;       /* (rows, cols) the values the stored form decodes to (the
                             padding of a short last block is dropped); with an
                             outlier split, the dense decode plus the outliers */

    /* Outlier split (fmt.split): the weights kept beside the dense part in FP16,
     * by row: row r's are sp_col[k], sp_val[k] for k in [sp_row[r], sp_row[r+1]).
     * The dense part (blocks or codes) holds 0 at their positions. NULL / 0
     * without a split. In a file they would take FORMAT_OUTLIER_BYTES each; here
     * the row index costs (rows + 1) * 8 bytes more, not counted in `bytes`. */
    int64_t n_outliers;
    int64_t *sp_row;      /* (rows + 1) */
    uint32_t *sp_col;     /* (n_outliers) */
    float *sp_val;        /* (n_outliers) the FP16 value as stored, widened */
} QTensor;

/* Quantizes w (rows x cols floats, row-major) into format f by round-to-nearest,
 * with f's pruning and outlier split (format.h) applied first; *q owns what it
 * allocates until qtensor_free. GPTQ formats need calibration data: they are
 * gptq_quantize()'s (ST_UNSUPPORTED here, "calibrate first"). Refuses non-finite weights (ST_FORMAT, naming the
 * first bad index, its row and column), unsupported formats (ST_UNSUPPORTED), an
 * empty shape (ST_USAGE), an impossible size (ST_LIMIT) and reports ST_NOMEM.
 * `pool` may be NULL; it is used when rows * cols >= 65536.
 *
 * GGML formats: each row is padded with zeros to whole blocks and quantized with
 * type_traits()->from_float; dequant is to_float of those blocks, padding dropped.
 * Like ggml, a scale beyond FP16's range is stored as inf (F16 of a value beyond
 * 65504 is inf too), so dequant may then hold inf or NaN: Q8_0 needs max|w| per
 * block below about 127 * 65504, Q4_0 below 8 * 65504.
 * F32 "quantization" copies the floats (blocks and dequant hold the same values).
 * On error *q is empty (qtensor_free-safe). */
Status qtensor_quantize(QTensor *q, const float *w, int64_t rows, int64_t cols, Format f,
                        Pool *pool, Error *err);
void qtensor_free(QTensor *q);

/* ---- building blocks shared with gptq.c, so both quantizers store the same way */

/* Sets q's shape fields and bytes for format f and allocates what f stores
 * (blocks for GGML formats; codes, scales and zero points for teaching ones; and
 * dequant), uninitialised. n_groups and group_size are set. The outlier side
 * list is left empty (qtensor_attach_outliers). ST_LIMIT / ST_NOMEM; on error *q
 * is empty. */
Status qtensor_alloc(QTensor *q, int64_t rows, int64_t cols, Format f, Error *err);

/* Builds the side list from mask (prune.h, rows * cols entries): every
 * MASK_OUTLIER weight i keeps fp16(values[i]), which is added to dequant[i]
 * (the dense part must hold 0 there). ST_LIMIT when the tensor has 2^32 or more
 * weights (the index is 4 bytes), ST_NOMEM. */
Status qtensor_attach_outliers(QTensor *q, const uint8_t *mask, const float *values, Error *err);

/* The teaching formats' arithmetic (format.h): the FP16 scale and the zero point
 * of a group whose values span [mn, mx], and the code of one value x in a group
 * (returned; *deq gets its decoded value). Codes are clamped to the format's
 * range, so any finite x gives a valid code. */
void qtensor_teach_params(int bits, bool asym, float mn, float mx, float *scale, int32_t *zero);
int16_t qtensor_teach_code(float x, int bits, bool asym, float s, int32_t z, float *deq);

/* How the forward pass runs this tensor. GGML formats with a kernel run natively
 * (their blocks, padded rows, plus the outlier side list added in F32); other
 * formats run from `dequant` as F32 — see qtensor_runs_natively(). */
MatView qtensor_view(const QTensor *q);

/* True when qtensor_view() uses the stored format itself, so speed figures mean
 * something; false for teaching formats, whose speed is that of FP32. */
int qtensor_runs_natively(const QTensor *q);

#endif
