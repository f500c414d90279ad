/* test_pool.c — the thread pool runs every task exactly once, run after run,
 * and the background worker runs, supersedes and cancels jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}


#include "base/pool.h"
#include "base/worker.h"

typedef struct Count {
    atomic_int hits[257];
    int n;
} Count;

static void count_task(void *ctx, int task, int n_tasks) {
    Count *c = ctx;
    assert_int_equal(n_tasks, c->n);
    atomic_fetch_add(&c->hits[task], 1);
}

/* 20,000 back-to-back runs of 1..257 tasks on 2 and 4 threads: each task runs
 * exactly once per run (a straggler from an old run would add a second hit). */
static void test_pool_every_task_once(void **state) {
    (void)state;
    static Count c;
    for (int threads = 2; threads <= 4; threads += 2) {
        Pool *p = pool_new(threads);
        assert_non_null(p);
        assert_int_equal(pool_threads(p), threads);
        for (int run = 0; run < 10000; run++) {
            c.n = 1 + (run * 7919) % 257;
            for (int i = 0; i < c.n; i++) atomic_store(&c.hits[i], 0);
            pool_run(p, count_task, &c, c.n);
            for (int i = 0; i < c.n; i++) assert_int_equal(atomic_load(&c.hits[i]), 1);
        }
        pool_delete(p);
    }
    /* a NULL pool runs everything on the caller */
    c.n = 5;
    for (int i = 0; i < 5; i++) atomic_store(&c.hits[i], 0);
    pool_run(NULL, count_task, &c, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(atomic_load(&c.hits[i]), 1);
}

typedef struct JobCtx {
    int value;
    int *done_log;
    int *n_done;
    Status *statuses;
    bool slow;
} JobCtx;

static Status job_run(void *ctx, Pool *pool, const Progress *progress, Error *err) {
    JobCtx *j = ctx;
    (void)pool;
    (void)err;
    for (int i = 0; j->slow && i < 2000; i++) {
        if (!progress_update(progress, i / 2000.0, "slow")) return ST_CANCELLED;
        sleep_ms(1);
    }
    return ST_OK;
}

static void job_done(void *app, void *ctx, Status st, const Error *err) {
    (void)app;
    (void)err;
    JobCtx *j = ctx;
    j->done_log[*j->n_done] = j->value;
    j->statuses[(*j->n_done)++] = st;
    free(j);
}

static void submit(Worker *w, int kind, int value, bool slow, int *log, int *n, Status *sts) {
    JobCtx *j = calloc(1, sizeof *j);
    *j = (JobCtx){value, log, n, sts, slow};
    assert_true(worker_submit(w, kind, "test", job_run, job_done, j));
}

/* Takes in completions until `want` have come (worker_wait_idle has returned,
 * so they are all there); fails instead of spinning forever if one is lost. */
static int poll_until(Worker *w, int want) {
    int done = 0;
    for (int tries = 0; done < want && tries < 1000; tries++) {
        done += worker_poll(w, NULL);
        if (done < want) sleep_ms(1);
    }
    if (done < want) fail_msg("%d of %d completions arrived", done, want);
    return done;
}

/* A new job of a kind cancels the queued and running ones of that kind; other
 * kinds are untouched; every completion runs (so contexts are freed). */
static void test_worker_supersedes_same_kind(void **state) {
    (void)state;
    int log[16], n = 0;
    Status sts[16];
    Worker *w = worker_new(1);
    submit(w, 1, 10, true, log, &n, sts);  /* slow, kind 1 */
    sleep_ms(20);
    assert_true(worker_busy(w, 1, NULL, NULL, 0));
    submit(w, 2, 20, false, log, &n, sts); /* kind 2, queued */
    submit(w, 1, 11, false, log, &n, sts); /* supersedes 10 */
    worker_wait_idle(w);
    assert_int_equal(poll_until(w, 3), 3);
    /* each of the three jobs completed once, in any order: 10 cancelled, 11 and 20 ran */
    assert_true(log[0] != log[1] && log[1] != log[2] && log[0] != log[2]);
    for (int i = 0; i < 3; i++) {
        assert_true(log[i] == 10 || log[i] == 11 || log[i] == 20);
        if (log[i] == 10) assert_int_equal(sts[i], ST_CANCELLED);
        else assert_int_equal(sts[i], ST_OK);
    }
    /* cancel_all: the slow job stops within a few milliseconds */
    submit(w, 3, 30, true, log, &n, sts);
    sleep_ms(20);
    worker_cancel_all(w);
    worker_wait_idle(w);
    assert_int_equal(poll_until(w, 1), 1);
    assert_int_equal(log[3], 30);
    assert_int_equal(sts[3], ST_CANCELLED);
    worker_delete(w, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_every_task_once),
        cmocka_unit_test(test_worker_supersedes_same_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
