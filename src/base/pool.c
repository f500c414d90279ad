/* pool.c — see pool.h. pthreads + C11 atomics.
 *
 * Each pool_run publishes a job in one of two slots (alternating) and bumps the
 * generation. A worker that sees a new generation enters that slot, checks the
 * generation again (so it never reads a slot being refilled), takes tasks until
 * none are left, and leaves. The caller waits only until every task is done, not
 * for idle workers to wake up; before refilling a slot it waits for stragglers of
 * the run two generations back to leave it, which in practice they long have. */
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct PoolJob {
    PoolFn fn;
    void *ctx;
    int n_tasks;
    atomic_int next_task;
    atomic_int tasks_done;
    atomic_int inside; /* workers currently reading this slot */
} PoolJob;

struct Pool {
    int n_threads;          /* including the caller */
    pthread_t *threads;     /* n_threads - 1 workers */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_uint generation; /* bumped by every pool_run */
    atomic_bool quit;
    PoolJob jobs[2];        /* slot generation & 1 */
};

static void run_tasks(PoolJob *j) {
    for (;;) {
        int t = atomic_fetch_add_explicit(&j->next_task, 1, memory_order_relaxed);
        if (t >= j->n_tasks) break;
        j->fn(j->ctx, t, j->n_tasks);
        atomic_fetch_add_explicit(&j->tasks_done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    Pool *p = arg;
    unsigned seen = atomic_load(&p->generation);
    for (;;) {
        /* Spin a little for the next generation, then sleep on the condition. */
        unsigned gen = seen;
        for (int spin = 0; spin < 20000; spin++) {
            gen = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (gen != seen || atomic_load_explicit(&p->quit, memory_order_relaxed)) break;
        }
        if (gen == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mutex);
            while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->mutex);
            pthread_mutex_unlock(&p->mutex);
        }
        if (atomic_load(&p->quit)) break;
        seen = gen;
        PoolJob *j = &p->jobs[gen & 1];
        atomic_fetch_add_explicit(&j->inside, 1, memory_order_acq_rel);
        /* Still the same run? Otherwise the slot may be refilled under us: skip it. */
        if (atomic_load_explicit(&p->generation, memory_order_acquire) == gen) run_tasks(j);
        atomic_fetch_sub_explicit(&j->inside, 1, memory_order_release);
    }
    return NULL;
}

Pool *pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    Pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            pool_delete(p);
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
                p->n_threads = i + 1; /* only join the ones that started */
                pool_delete(p);
                return NULL;
            }
        }
    }
    return p;
}

void pool_delete(Pool *p) {
    if (!p) return;
    if (p->threads) {
        pthread_mutex_lock(&p->mutex);
        atomic_store(&p->quit, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
        for (int i = 0; i < p->n_threads - 1; i++) pthread_join(p->threads[i], NULL);
        free(p->threads);
    }
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mutex);
    free(p);
}

int pool_threads(const Pool *p) {
    return p ? p->n_threads : 1;
}

void pool_run(Pool *p, PoolFn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 0) return;
    if (!p || p->n_threads <= 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t, n_tasks);
        return;
    }
    unsigned gen = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    PoolJob *j = &p->jobs[gen & 1];
    while (atomic_load_explicit(&j->inside, memory_order_acquire) > 0) {
        /* a straggler from two runs ago is still leaving this slot */
    }
    j->fn = fn;
    j->ctx = ctx;
    j->n_tasks = n_tasks;
    atomic_store_explicit(&j->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&j->tasks_done, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mutex);
    atomic_store_explicit(&p->generation, gen, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);
    run_tasks(j);
    while (atomic_load_explicit(&j->tasks_done, memory_order_acquire) < n_tasks) {
    }
}

int pool_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
