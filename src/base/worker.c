/* worker.c — see worker.h. One thread, a FIFO of jobs, a list of finished jobs. */
#include "base/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Job {
    int kind;
    char label[64];
    JobRun run;
    JobDone done;
    void *ctx;
    atomic_bool cancel;
    Status status;
    Error err;
    struct Job *next;
} Job;

struct Worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* new job or quit */
    pthread_cond_t idle;  /* running finished */
    Job *queue;           /* FIFO */
    Job *running;
    Job *finished;        /* LIFO; reversed on poll */
    bool quit;
    Pool *pool;
    _Atomic double progress;
    char stage[64];
};

static void report(void *ctx, double done, const char *stage) {
    Worker *w = ctx;
    atomic_store(&w->progress, done);
    if (stage) {
        pthread_mutex_lock(&w->mu);
        snprintf(w->stage, sizeof w->stage, "%s", stage);
        pthread_mutex_unlock(&w->mu);
    }
}

static void *worker_main(void *arg) {
    Worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->queue && !w->quit) pthread_cond_wait(&w->wake, &w->mu);
        if (w->quit) break;
        Job *j = w->queue;
        w->queue = j->next;
        j->next = NULL;
        w->running = j;
        atomic_store(&w->progress, 0.0);
        snprintf(w->stage, sizeof w->stage, "%s", j->label);
        pthread_mutex_unlock(&w->mu);

        Progress p = {report, w, &j->cancel};
        error_clear(&j->err);
        j->status = atomic_load(&j->cancel) ? ST_CANCELLED : j->run(j->ctx, w->pool, &p, &j->err);
        if (atomic_load(&j->cancel) && j->status == ST_OK) j->status = ST_CANCELLED;

        pthread_mutex_lock(&w->mu);
        w->running = NULL;
        j->next = w->finished;
        w->finished = j;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

Worker *worker_new(int n_threads) {
    Worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->pool = pool_new(n_threads > 0 ? n_threads : pool_cpu_count());
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pool_delete(w->pool);
        free(w);
        return NULL;
    }
    return w;
}

static void cancel_kind_locked(Worker *w, int kind, bool all) {
    if (w->running && (all || w->running->kind == kind)) atomic_store(&w->running->cancel, true);
    /* queued jobs never start: move them to finished as cancelled */
    Job **link = &w->queue;
    while (*link) {
        Job *j = *link;
        if (all || j->kind == kind) {
            *link = j->next;
            j->status = ST_CANCELLED;
            j->next = w->finished;
            w->finished = j;
        } else {
            link = &j->next;
        }
    }
}

bool worker_submit(Worker *w, int kind, const char *label, JobRun run, JobDone done, void *ctx) {
    Job *j = calloc(1, sizeof *j);
    if (!j) return false;
    j->kind = kind;
    snprintf(j->label, sizeof j->label, "%s", label);
    j->run = run;
    j->done = done;
    j->ctx = ctx;
    pthread_mutex_lock(&w->mu);
    cancel_kind_locked(w, kind, false);
    Job **tail = &w->queue;
    while (*tail) tail = &(*tail)->next;
    *tail = j;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return true;
}

void worker_cancel(Worker *w, int kind) {
    pthread_mutex_lock(&w->mu);
    cancel_kind_locked(w, kind, false);
    pthread_mutex_unlock(&w->mu);
}

void worker_cancel_all(Worker *w) {
    pthread_mutex_lock(&w->mu);
    cancel_kind_locked(w, 0, true);
    pthread_mutex_unlock(&w->mu);
}

void worker_wait_idle(Worker *w) {
    pthread_mutex_lock(&w->mu);
    while (w->running || w->queue) pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

bool worker_busy(Worker *w, int kind, double *progress, char *label, size_t label_size) {
    bool busy = false;
    pthread_mutex_lock(&w->mu);
    if (w->running && w->running->kind == kind && !atomic_load(&w->running->cancel)) {
        busy = true;
        if (progress) *progress = atomic_load(&w->progress);
        if (label) snprintf(label, label_size, "%s", w->stage);
    } else {
        for (Job *j = w->queue; j; j = j->next)
            if (j->kind == kind) {
                busy = true;
                if (progress) *progress = 0;
                if (label) snprintf(label, label_size, "%s (waiting)", j->label);
                break;
            }
    }
    pthread_mutex_unlock(&w->mu);
    return busy;
}

bool worker_any_busy(Worker *w) {
    pthread_mutex_lock(&w->mu);
    bool busy = w->running || w->queue;
    pthread_mutex_unlock(&w->mu);
    return busy;
}

int worker_poll(Worker *w, void *app) {
    pthread_mutex_lock(&w->mu);
    Job *list = w->finished;
    w->finished = NULL;
    pthread_mutex_unlock(&w->mu);
    /* finished is newest first; complete in submission order */
    Job *ordered = NULL;
    while (list) {
        Job *next = list->next;
        list->next = ordered;
        ordered = list;
        list = next;
    }
    int n = 0;
    while (ordered) {
        Job *j = ordered;
        ordered = j->next;
        j->done(app, j->ctx, j->status, &j->err);
        free(j);
        n++;
    }
    return n;
}

void worker_delete(Worker *w, void *app) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    cancel_kind_locked(w, 0, true);
    w->quit = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    worker_poll(w, app);
    pool_delete(w->pool);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
