/* inspect.h — one block of a quantized tensor laid open: its weights, scale,
 * integer codes, bytes as stored, the values they decode to, and the grid of
 * every value its codes can stand for.
 *
 * Called by the Histogram screen (the block inspector and the level grid drawn
 * over the weights) and by `quantlab plot hist`. Nothing here draws; every fact
 * is read back from the QTensor the model runs, so what the inspector shows is
 * what the forward pass multiplies by.
 *
 * The unit inspected is a window of at most INSPECT_WINDOW consecutive values of
 * one row, never crossing a block or a row:
 *   GGML block types (Q4_0, Q8_0, ...): one block of 32, padding included;
 *   F32/F16/BF16: 32 values (they have no blocks; nothing but the number
 *       format is rounded);
 *   teaching formats: one block of 16 or 32, or a 32-value part of a block of
 *       64/128, of a row (per-row scale) or of the tensor (one scale).
 * Windows are numbered row by row: window i is row i / per_row, part i % per_row
 * with per_row = inspect_blocks_per_row().
 */
#ifndef QL_QUANT_INSPECT_H
#define QL_QUANT_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "quant/qtensor.h"

enum { INSPECT_WINDOW = 32, INSPECT_MAX_BYTES = 128, INSPECT_MAX_LEVELS = 256 };

/* Which values share this window's scale. */
typedef enum InspectScope {
    INSPECT_SCOPE_NONE = 0, /* F32/F16/BF16: no scale at all */
    INSPECT_SCOPE_BLOCK,    /* a block of the row (GGML block types, teaching per block) */
    INSPECT_SCOPE_ROW,      /* the whole row (teaching per row) */
    INSPECT_SCOPE_TENSOR    /* every value of the tensor (teaching per tensor) */
} InspectScope;

typedef struct BlockInfo {
    Format fmt;
    int64_t index, count;     /* this window, and how many the tensor has */
    int64_t row, col;         /* its row and first column */
    int n;                    /* real values (a row's last window may be shorter) */
    int n_stored;             /* values stored for it: n, plus the zeros a short last
                                 GGML block is padded with */
    float values[INSPECT_WINDOW];  /* (n_stored) the original weights; padding 0 */
    float decoded[INSPECT_WINDOW]; /* (n_stored) what the stored form decodes to; with an
                                      outlier split, plus the FP16 values kept beside it */

    bool has_codes;                /* false for F32/F16/BF16 */
    int32_t codes[INSPECT_WINDOW]; /* (n_stored) integer codes as stored: Q4_0 0..15,
                                      Q5_0 0..31, Q8_0 -128..127, IQ4_NL a table index
                                      0..15, teaching symmetric -qmax..qmax, asymmetric
                                      0..2^b-1 */
    uint32_t raw[INSPECT_WINDOW];  /* F32/F16/BF16: each value's bit pattern as stored */
    int code_bits;                 /* bits a code takes (4, 5, 8, teaching b); 0 if none */
    int32_t code_lo, code_hi;      /* every code the storage can hold */
    char rule[64];                 /* how a code decodes: "value = (code - 8) x d" */

    bool has_scale;
    float scale;                   /* d (GGML) or s (teaching), as stored */
    uint16_t scale_fp16;           /* its FP16 bits */
    bool has_min;                  /* Q4_1, Q5_1: value = code x d + m */
    float min;
    uint16_t min_fp16;
    bool has_zero;                 /* teaching asymmetric: value = (code - z) x s */
    int32_t zero;

    size_t n_bytes;                /* the window's bytes as a GGUF file stores them;
                                      0 for teaching formats, which no file holds */
    uint8_t bytes[INSPECT_MAX_BYTES];

    int n_levels;                  /* distinct values the codes decode to with this
                                      window's scale (and min or zero point); 0 for
                                      F32/F16/BF16 */
    double levels[INSPECT_MAX_LEVELS]; /* (n_levels) ascending */

    InspectScope scope;
    int64_t group;                 /* the scale's group: block index in the tensor
                                      (row * blocks per row + block), the row, or 0 */
    int64_t group_col, group_len;  /* the group's first column and real values in its
                                      row (tensor scope: cols, the row's share) */
} BlockInfo;

/* Values per window for format f on rows of `cols` (32, or 16 for teaching
 * blocks of 16; a GGML block type's block size). */
int inspect_window_len(Format f, int64_t cols);
/* Windows in each row, and in the whole tensor. */
int64_t inspect_blocks_per_row(const QTensor *q);
int64_t inspect_block_count(const QTensor *q);

/* Fills *out for window `index` of q, whose original weights are `w` (rows x
 * cols floats, the ones q was quantized from). Errors: ST_USAGE for an index
 * outside 0 .. inspect_block_count(q) - 1; ST_UNSUPPORTED for a GGML type whose
 * blocks are longer than INSPECT_WINDOW or whose layout is not known here
 * (k-quants); *out is then zeroed. */
Status inspect_block(const QTensor *q, const float *w, int64_t index, BlockInfo *out, Error *err);

#endif
