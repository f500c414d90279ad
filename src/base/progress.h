/* progress.h — how long jobs report progress and learn they were cancelled.
 *
 * Evaluation, sensitivity scans, quantizing a large model: each takes a Progress
 * (which may be NULL). The job calls progress_update() now and then; a false
 * return means "stop now": the job cleans up and returns ST_CANCELLED. The TUI's
 * worker thread points `cancel` at a flag the interface thread sets on Esc; the
 * command line points `report` at a one-line progress printer.
 */
#ifndef QL_BASE_PROGRESS_H
#define QL_BASE_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>

typedef struct Progress {
    /* Called with done in [0, 1] and a short stage name ("FP32", "layer blk.3.attn_q"). */
    void (*report)(void *ctx, double done, const char *stage);
    void *ctx;
    atomic_bool *cancel; /* may be NULL */
} Progress;

/* Reports (when a reporter is set) and returns false when cancellation was asked. */
bool progress_update(const Progress *p, double done, const char *stage);

/* True when cancellation was asked. */
bool progress_cancelled(const Progress *p);

/* A part of a job: its progress in [0, 1] is reported to the outer one as
 * [lo, hi), under `stage` (NULL: the part's own stage names); it shares the
 * outer cancel flag. The span must outlive the Progress made from it. */
typedef struct ProgressSpan {
    const Progress *outer;
    double lo, hi;
    const char *stage;
} ProgressSpan;

Progress progress_span(ProgressSpan *span, const Progress *outer, double lo, double hi, const char *stage);

#endif
