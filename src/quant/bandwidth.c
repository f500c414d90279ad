/* bandwidth.c — see bandwidth.h. */
#include "quant/bandwidth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

enum { BANDWIDTH_MAX_TASKS = 256 };

typedef struct BandwidthJob {
    const uint64_t *words;
    size_t n_words;
    /* one slot per task, a cache line apart, so the sums are used (and not
     * optimised away) without the threads sharing a line */
    uint64_t sums[BANDWIDTH_MAX_TASKS][8];
} BandwidthJob;

/* Sums the task's contiguous share with 8 independent lanes held in locals, so
 * no add waits on the previous one and the compiler keeps them in registers
 * (it vectorises the loop at -O2; reading, not adding, is the limit). */
static void bandwidth_task(void *ctx, int task, int n_tasks) {
    BandwidthJob *job = ctx;
    const size_t n8 = job->n_words / 8;
    const size_t begin = n8 * (size_t)task / (size_t)n_tasks * 8;
    const size_t end = n8 * (size_t)(task + 1) / (size_t)n_tasks * 8;
    const uint64_t *w = job->words;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (size_t i = begin; i < end; i += 8) {
        a0 += w[i];
        a1 += w[i + 1];
        a2 += w[i + 2];
        a3 += w[i + 3];
        a4 += w[i + 4];
        a5 += w[i + 5];
        a6 += w[i + 6];
        a7 += w[i + 7];
    }
    const uint64_t acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    memcpy(job->sums[task], acc, sizeof acc);
}

double bandwidth_measure(Pool *pool, size_t bytes, int repeats) {
    if (bytes < 64) return 0.0;
    if (repeats < 1) repeats = 1;
    void *buf = NULL;
    if (posix_memalign(&buf, 64, bytes) != 0) return 0.0;
    memset(buf, 1, bytes); /* fault every page in before timing */

    BandwidthJob *job = malloc(sizeof *job);
    if (!job) {
        free(buf);
        return 0.0;
    }
    job->words = buf;
    job->n_words = bytes / sizeof(uint64_t);
    int n_tasks = pool_threads(pool);
    if (n_tasks > BANDWIDTH_MAX_TASKS) n_tasks = BANDWIDTH_MAX_TASKS;

    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        const double t0 = clock_now();
        pool_run(pool, bandwidth_task, job, n_tasks);
        const double dt = clock_now() - t0;
        const double rate = dt > 0 ? (double)(job->n_words / 8 * 8 * sizeof(uint64_t)) / dt : 0.0;
        if (rate > best) best = rate;
    }
    free(job);
    free(buf);
    return best;
}
