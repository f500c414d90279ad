/* pool.h — a small fixed thread pool for data-parallel loops (matrix-vector rows).
 *
 * pool_run() hands out task indices 0..n_tasks-1 to the pool's threads and the
 * calling thread, and returns when every task has finished. Workers spin for a
 * few microseconds before sleeping, because a decode step issues dozens of short
 * parallel loops and waking a sleeping thread costs more than the loop itself.
 */
#ifndef QL_BASE_POOL_H
#define QL_BASE_POOL_H

typedef struct Pool Pool;

/* fn(ctx, task, n_tasks) runs once for every task index. */
typedef void (*PoolFn)(void *ctx, int task, int n_tasks);

/* A pool of n_threads threads in all (the caller counts as one; n_threads <= 1
 * makes a pool that runs everything on the caller). NULL when out of memory or
 * when threads cannot be created. */
Pool *pool_new(int n_threads);
void pool_delete(Pool *pool);
int pool_threads(const Pool *pool);

/* Runs every task; pool may be NULL (then the caller runs them all). Not reentrant:
 * one pool_run at a time per pool. */
void pool_run(Pool *pool, PoolFn fn, void *ctx, int n_tasks);

/* The number of online processors (at least 1). */
int pool_cpu_count(void);

#endif
