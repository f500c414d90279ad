/* qcache.h — quantized copies of a model's tensors, made once and kept.
 *
 * Switching a layer from FP32 to INT4 and back should be instant, so every
 * (tensor, format) pair is quantized at most once per session and kept. F32 is
 * the model's own float copy (never duplicated); a GGML format equal to the
 * file's storage type, on a row length the format fits, uses the file's bytes as
 * they are. Thread-safe: the TUI's worker thread and its interface thread may
 * both ask; a tensor being quantized by one caller is waited for, not redone.
 */
#ifndef QL_MODEL_QCACHE_H
#define QL_MODEL_QCACHE_H

#include "base/error.h"
#include "base/pool.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/plan.h"
#include "quant/qtensor.h"

typedef struct QuantCache QuantCache;

/* pool (borrowed, may be NULL) speeds up quantizing large tensors. */
QuantCache *qcache_new(const Model *m, Pool *pool);
void qcache_delete(QuantCache *c);

/* The tensor in format f, built on first use. The QTensor lives as long as the
 * cache. */
Status qcache_get(QuantCache *c, int tensor, Format f, const QTensor **out, Error *err);

/* Drops every cached copy of one tensor (after its float weights were edited,
 * e.g. an injected outlier). */
void qcache_invalidate(QuantCache *c, int tensor);

/* Bytes held by cached copies. */
size_t qcache_memory(const QuantCache *c);

/* Weights that run every tensor in the plan's format (norms from the float copies). */
Status weights_init_plan(Weights *w, const Model *m, const Plan *p, QuantCache *c, Error *err);

#endif
