/* pool.c — see pool.h. pthreads + C11 atomics.
 *
 * Each pool_run publishes a job in one of two slots (alternating) and bumps the
 * generation. A worker that sees a new generation enters that slot, checks the
 * generation again (so it never reads a slot being refilled), takes tasks until
 * none are left, and leaves. The caller waits only until every task is done, not
 * for idle workers to wake up; before refilling a slot it waits for stragglers of
 * the run two generations back to leave it, which in practice they long have.
 *
 * Idle workers spin for POOL_SPIN_SECONDS, then yield the processor between
 * checks until POOL_YIELD_SECONDS, and only then sleep on the condition
 * variable; the caller takes the mutex and signals only when one sleeps.
 * Why: waking a sleeping thread is a futex call and, in a virtual machine, an
 * inter-processor interrupt; measured on the 2-vCPU KVM guest this was written
 * on, a pool_run after a 50-500 us pause cost 50-190 us when the worker had
 * gone to sleep (20,000 spins, about 30 us), against 0.2-2 us when it was
 * still spinning. A decode step has such pauses between its products (the
 * attention of a long context, the sampler), 85 products per token on a
 * 12-layer model, so the worker now outwaits them. Yielding rather than
 * spinning for most of that wait matters on a machine shared with other work
 * (this one): a spinning thread takes a core another process could use, and
 * measured there under a load of 5 (2-thread INT4 decode of the 110M-shaped
 * model, runs interleaved with the build before this pool, which also lacked
 * the two-row kernel): spinning for the whole 2 ms gave 19-43 tokens/s against
 * that build's 33-63; spinning 50 us and then yielding gave 31-37 against
 * 26-31. sched_yield returns at once when nothing else wants the core, so an
 * idle machine loses nothing. Waiting callers do the same. */
#include "base/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define POOL_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define POOL_RELAX() __asm__ __volatile__("yield")
#else
#define POOL_RELAX() ((void)0)
#endif

/* How long an idle worker checks for work by spinning, then by yielding,
 * before it sleeps. */
#define POOL_SPIN_SECONDS 50e-6
#define POOL_YIELD_SECONDS 2e-3

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
    atomic_int sleepers;    /* workers waiting on `wake` (or about to) */
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
        /* Spin, then yield, for the next generation (the clock read every 64
         * turns), then sleep on the condition. */
        unsigned gen = seen;
        const double start = clock_now();
        bool yielding = false;
        for (unsigned spin = 1;; spin++) {
            gen = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (gen != seen || atomic_load_explicit(&p->quit, memory_order_relaxed)) break;
            if (yielding) sched_yield();
            else POOL_RELAX();
            if ((spin & 63) == 0) {
                const double waited = clock_now() - start;
                if (waited > POOL_YIELD_SECONDS) break;
                yielding = waited > POOL_SPIN_SECONDS;
            }
        }
        if (gen == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mutex);
            /* announced before the generation is read again under the mutex: a
             * pool_run that bumps it after this sees a sleeper and signals (it
             * takes the mutex to do so, so the signal cannot fall between the
             * check and the wait) */
            atomic_fetch_add(&p->sleepers, 1);
            while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->mutex);
            atomic_fetch_sub(&p->sleepers, 1);
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
    while (atomic_load_explicit(&j->inside, memory_order_acquire) > 0)
        POOL_RELAX(); /* a straggler from two runs ago is still leaving this slot */
    j->fn = fn;
    j->ctx = ctx;
    j->n_tasks = n_tasks;
    atomic_store_explicit(&j->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&j->tasks_done, 0, memory_order_relaxed);
    /* seq_cst store then load: either a worker about to sleep sees the new
     * generation, or we see it counted in `sleepers` and wake it */
    atomic_store(&p->generation, gen);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mutex);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
    }
    run_tasks(j);
    /* the last tasks are running elsewhere: spin a little, then yield (their
     * thread may be waiting for a core) */
    for (unsigned spin = 0; atomic_load_explicit(&j->tasks_done, memory_order_acquire) < n_tasks; spin++) {
        if (spin < 4096) POOL_RELAX();
        else sched_yield();
    }
}

int pool_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
