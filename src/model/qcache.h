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

#include <stdbool.h>

#include "base/error.h"
#include "base/pool.h"
#include "base/progress.h"
#include "model/calib.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/plan.h"
#include "quant/gptq.h"
#include "quant/qtensor.h"

typedef struct QuantCache QuantCache;

/* pool (borrowed, may be NULL) speeds up quantizing large tensors. */
QuantCache *qcache_new(const Model *m, Pool *pool);
void qcache_delete(QuantCache *c);

/* The tensor in format f, built on first use. The QTensor lives as long as the
 * cache (or until qcache_invalidate / qcache_set_calibration drop it).
 * GPTQ formats (+gptq) are built from the calibration the cache holds
 * (qcache_set_calibration): without one, ST_USAGE "... calibrate first"; for a
 * tensor whose site was calibrated without H, ST_USAGE naming it. A tensor the
 * model only looks up (token_embd with an untied classifier) has no inputs to
 * weigh its errors by: GPTQ's objective is then the plain weight error (H = I),
 * which round-to-nearest minimises, so it is rounded to nearest (the QTensor
 * still says +gptq; qcache_gptq_is_rtn() tells). */
Status qcache_get(QuantCache *c, int tensor, Format f, const QTensor **out, Error *err);

/* The same, with progress and cancellation for the GPTQ work (stage "GPTQ
 * blk.0.attn_q.weight"); progress may be NULL. */
Status qcache_get_progress(QuantCache *c, int tensor, Format f, const Progress *progress,
                           const QTensor **out, Error *err);

/* Builds every tensor of plan p, reporting progress over the tensors (GPTQ takes
 * seconds per tensor on large models). ST_CANCELLED when asked. */
Status qcache_prepare(QuantCache *c, const Plan *p, const Progress *progress, Error *err);

/* Drops every cached copy of one tensor (after its float weights were edited,
 * e.g. an injected outlier). Must not run while another thread uses a QTensor of
 * that tensor from this cache. */
void qcache_invalidate(QuantCache *c, int tensor);

/* Invalidates tensor i and records whether its float copy now differs from the
 * file (edited: the file's bytes must no longer stand in for it). */
void qcache_mark_edited(QuantCache *c, int tensor, bool edited);

/* Hands the cache a calibration (calib.h); the cache owns it from now on (*cal is
 * emptied), frees the one it held and drops every GPTQ copy built from it. NULL
 * drops the calibration. Same threading rule as qcache_invalidate, for all
 * tensors. */
void qcache_set_calibration(QuantCache *c, Calibration *cal);

/* The calibration held (NULL when none); valid until the next set. */
const Calibration *qcache_calibration(const QuantCache *c);

/* True when a +gptq copy of tensor i is (or would be) plain round-to-nearest
 * because the tensor has no calibration site (see qcache_get). */
bool qcache_gptq_is_rtn(const QuantCache *c, int tensor);

/* GPTQ's damping and batch for copies built from now on (default: gptq.h's). */
void qcache_set_gptq_options(QuantCache *c, const GptqOptions *opt);

/* Bytes held by cached copies. */
size_t qcache_memory(const QuantCache *c);

/* Weights that run every tensor in the plan's format (norms from the float copies). */
Status weights_init_plan(Weights *w, const Model *m, const Plan *p, QuantCache *c, Error *err);

#endif
