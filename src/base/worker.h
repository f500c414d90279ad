/* worker.h — a background thread for long jobs (used by the explorer).
 *
 * Evaluation, generation, sensitivity scans, statistics of big tensors and
 * exports run here so the interface never waits. A job is a function run on the
 * worker thread with a context it owns, and a completion function the interface
 * thread runs (from worker_poll) to take the result and free the context. Jobs
 * have a kind; submitting a job cancels any queued or running job of the same
 * kind (a new plan makes the old evaluation pointless). Progress and the stage
 * name of the running job can be read at any time for progress bars.
 */
#ifndef QL_BASE_WORKER_H
#define QL_BASE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "base/progress.h"

typedef struct Worker Worker;

/* Runs on the worker thread. Must poll progress (progress_update) and return
 * ST_CANCELLED when asked. */
typedef Status (*JobRun)(void *ctx, Pool *pool, const Progress *progress, Error *err);
/* Runs on the interface thread; owns ctx (frees it). st is ST_CANCELLED for a
 * superseded or cancelled job. */
typedef void (*JobDone)(void *app, void *ctx, Status st, const Error *err);

/* n_threads for the worker's pool (its matrix products); 0 = cores. */
Worker *worker_new(int n_threads);
/* Cancels everything, waits for the thread, runs pending completions with
 * ST_CANCELLED (so contexts are freed), frees. */
void worker_delete(Worker *w, void *app);

/* Queues a job; cancels queued/running jobs of the same kind. False (and ctx
 * still the caller's) when out of memory. */
bool worker_submit(Worker *w, int kind, const char *label, JobRun run, JobDone done, void *ctx);
void worker_cancel(Worker *w, int kind);
void worker_cancel_all(Worker *w);
/* Blocks until no job is running or queued (completions still to be polled). */
void worker_wait_idle(Worker *w);

/* Whether a job of this kind is queued or running; its progress 0..1 and label. */
bool worker_busy(Worker *w, int kind, double *progress, char *label, size_t label_size);
bool worker_any_busy(Worker *w);

/* Runs completions of finished jobs on this thread. Returns how many ran. */
int worker_poll(Worker *w, void *app);

#endif
