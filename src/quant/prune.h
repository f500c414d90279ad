/* prune.h — which weights leave the dense grid: pruned weights (set to 0) and
 * outliers (kept in FP16 beside it), chosen by magnitude.
 *
 * The quantizers (qtensor.c for round-to-nearest, gptq.c for GPTQ) call
 * prune_mask_build() once per tensor and then treat every weight by its mask
 * entry; the selection rules are those written in format.h (+pruneP, +2:4,
 * +outK%), made deterministic by breaking ties on the flat index, so the same
 * weights are chosen on every machine and thread count.
 */
#ifndef QL_QUANT_PRUNE_H
#define QL_QUANT_PRUNE_H

#include <stdint.h>

#include "base/error.h"
#include "quant/format.h"

typedef enum MaskKind {
    MASK_KEEP = 0,    /* quantized in the dense part */
    MASK_PRUNED = 1,  /* set to 0 */
    MASK_OUTLIER = 2  /* kept in FP16 in the side list; 0 in the dense part */
} MaskKind;

/* Marks the floor(n * percent / 100) weights of smallest |w| MASK_PRUNED (ties:
 * the later flat index is pruned first). mask has n entries, set to MASK_KEEP or
 * MASK_PRUNED. ST_NOMEM is the only error. */
Status prune_mark_smallest(const float *w, int64_t n, int percent, uint8_t *mask, Error *err);

/* 2:4: in every group of 4 consecutive weights of a row, the 2 of largest |w|
 * are kept (ties: the earlier kept); a short last group of a row (cols % 4
 * values) keeps its 2 largest. mask: rows * cols entries. */
void prune_mark_2_4(const float *w, int64_t rows, int64_t cols, uint8_t *mask);

/* Marks the k weights of largest |w| among those still MASK_KEEP as
 * MASK_OUTLIER (ties: the earlier flat index first). k must not exceed the
 * number of MASK_KEEP entries. ST_NOMEM is the only error. */
Status prune_mark_largest(const float *w, int64_t n, int64_t k, uint8_t *mask, Error *err);

/* The whole selection of format f on a rows x cols tensor: pruning first (none,
 * +pruneP or +2:4), then the outliers among the survivors. *mask (rows * cols
 * entries, caller frees) is NULL when f prunes nothing and has no split. Weights
 * must be finite. On error *mask is NULL. */
Status prune_mask_build(const float *w, int64_t rows, int64_t cols, Format f, uint8_t **mask,
                        Error *err);

#endif
