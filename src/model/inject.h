/* inject.h — editing single weights of the float copy, and putting them back.
 *
 * The "inject an outlier" experiment: multiply one weight by a factor and watch
 * what a per-tensor scale does to every other weight of the tensor (they collapse
 * onto a few levels, many onto 0) while per-block scales keep the damage inside
 * one block. The float copy is the FP32 reference every plan is quantized from
 * and measured against, so an edit changes the reference too: quality figures
 * measured before it are about another model. Every edit is logged with the
 * original value so that restoring gives back the model bit for bit.
 *
 * Called by the session (session_inject_outlier / session_restore_weights), which
 * stops its background jobs first: nothing may read the weights while they change.
 */
#ifndef QL_MODEL_INJECT_H
#define QL_MODEL_INJECT_H

#include <stdint.h>

#include "base/error.h"
#include "model/model.h"
#include "model/qcache.h"

typedef struct WeightEdit {
    int tensor;
    int64_t index;   /* row * cols + col */
    float original;  /* the value before this edit */
    float value;     /* the value after it */
} WeightEdit;

typedef struct WeightEdits {
    int n, cap;
    WeightEdit *items; /* oldest first */
} WeightEdits;

/* Multiplies weight (row, col) of tensor's float copy by factor, logs the edit,
 * and marks the tensor edited in cache c (its quantized copies are dropped and the
 * file's bytes no longer stand in for it; c may be NULL). ST_USAGE when the
 * tensor is not a matrix the model uses, (row, col) is outside it, or the new
 * value is not finite; ST_NOMEM. On error nothing changes. */
Status model_inject_outlier(Model *m, QuantCache *c, WeightEdits *log, int tensor, int64_t row, int64_t col,
                            double factor, Error *err);

/* Puts every logged weight back, newest edit first (a weight edited twice ends
 * as it was), empties the log, and tells cache c (may be NULL) that those tensors
 * are the file's values again. */
void model_restore_weights(Model *m, QuantCache *c, WeightEdits *log);

void weight_edits_free(WeightEdits *log);

#endif
