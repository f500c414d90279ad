/* bandwidth.c — see bandwidth.h.
 *
 * A bound is only a bound if nothing reads faster, so each pass is timed with
 * several ways of reading and the fastest counts: a plain loop (what the
 * hardware prefetcher alone gives), the same with software prefetches 1 KB and
 * 4 KB ahead (what the matrix kernels do: one core keeps more misses in flight
 * that way), and on x86 with AVX2, 32-byte loads with the 4 KB prefetch. On the
 * 2-core Xeon this was written on, the plain loop alone read about 30% slower
 * than the FP32 kernel did, which made "fraction of the bound" exceed 100%.
 */
#include "quant/bandwidth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BW_X86 1
#endif

enum { BANDWIDTH_MAX_TASKS = 256 };

typedef uint64_t (*ReadFn)(const uint64_t *w, size_t begin, size_t end);

/* Sums [begin, end) (multiples of 8 words) with 8 independent lanes held in
 * locals, so no add waits on the previous one; reading, not adding, is the limit.
 * PF is the prefetch distance in words (0: none). */
#define BW_READER(name, PF)                                                              \
    static uint64_t name(const uint64_t *w, size_t begin, size_t end) {                  \
        uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;          \
        for (size_t i = begin; i < end; i += 8) {                                        \
            if (PF) __builtin_prefetch(w + i + (PF));                                     \
            a0 += w[i];                                                                  \
            a1 += w[i + 1];                                                              \
            a2 += w[i + 2];                                                              \
            a3 += w[i + 3];                                                              \
            a4 += w[i + 4];                                                              \
            a5 += w[i + 5];                                                              \
            a6 += w[i + 6];                                                              \
            a7 += w[i + 7];                                                              \
        }                                                                                \
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));                        \
    }
BW_READER(read_plain, 0)
BW_READER(read_pf1k, 128)
BW_READER(read_pf4k, 512)

#ifdef BW_X86
/* 64 bytes a turn in two 32-byte loads per accumulator pair, prefetching 4 KB ahead. */
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint64_t *w, size_t begin, size_t end) {
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    for (size_t i = begin; i < end; i += 8) {
        _mm_prefetch((const char *)(w + i + 512), _MM_HINT_T0);
        a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(const void *)(w + i)));
        b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(const void *)(w + i + 4)));
    }
    uint64_t lanes[4];
    memcpy(lanes, &a, sizeof lanes);
    uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    memcpy(lanes, &b, sizeof lanes);
    return s + lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

typedef struct BandwidthJob {
    const uint64_t *words;
    size_t n_words;
    ReadFn read;
    /* one slot per task, a cache line apart, so the sums are used (and not
     * optimised away) without the threads sharing a line */
    uint64_t sums[BANDWIDTH_MAX_TASKS][8];
} BandwidthJob;

/* Each task reads one contiguous share (whole 64-byte lines). */
static void bandwidth_task(void *ctx, int task, int n_tasks) {
    BandwidthJob *job = ctx;
    const size_t n8 = job->n_words / 8;
    const size_t begin = n8 * (size_t)task / (size_t)n_tasks * 8;
    const size_t end = n8 * (size_t)(task + 1) / (size_t)n_tasks * 8;
    job->sums[task][0] = job->read(job->words, begin, end);
}

struct BandwidthBuffer {
    void *data;
    size_t bytes;
    BandwidthJob *job;
};

BandwidthBuffer *bandwidth_buffer_new(size_t bytes) {
    if (bytes < 64) return NULL;
    BandwidthBuffer *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->job = malloc(sizeof *b->job);
    /* 4 KB of slack: the prefetches run past the end (harmless, but kept inside
     * the allocation all the same) */
    if (!b->job || posix_memalign(&b->data, 64, bytes + 4096) != 0) {
        free(b->job);
        free(b);
        return NULL;
    }
    memset(b->data, 1, bytes + 4096); /* fault every page in before timing */
    b->bytes = bytes;
    return b;
}

void bandwidth_buffer_delete(BandwidthBuffer *b) {
    if (!b) return;
    free(b->data);
    free(b->job);
    free(b);
}

double bandwidth_read(Pool *pool, BandwidthBuffer *b, size_t bytes, int repeats) {
    if (!b || bytes < 64 || bytes > b->bytes) return 0.0;
    if (repeats < 1) repeats = 1;
    ReadFn readers[4];
    int n_readers = 0;
    readers[n_readers++] = read_plain;
    readers[n_readers++] = read_pf1k;
    readers[n_readers++] = read_pf4k;
#ifdef BW_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) readers[n_readers++] = read_avx2;
#endif
    BandwidthJob *job = b->job;
    job->words = b->data;
    job->n_words = bytes / sizeof(uint64_t);
    int n_tasks = pool_threads(pool);
    if (n_tasks > BANDWIDTH_MAX_TASKS) n_tasks = BANDWIDTH_MAX_TASKS;

    const double counted = (double)(job->n_words / 8 * 8 * sizeof(uint64_t));
    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        for (int k = 0; k < n_readers; k++) { /* readers interleaved: load changes hit all alike */
            job->read = readers[k];
            const double t0 = clock_now();
            pool_run(pool, bandwidth_task, job, n_tasks);
            const double dt = clock_now() - t0;
            const double rate = dt > 0 ? counted / dt : 0.0;
            if (rate > best) best = rate;
        }
    }
    return best;
}

double bandwidth_measure(Pool *pool, size_t bytes, int repeats) {
    BandwidthBuffer *b = bandwidth_buffer_new(bytes);
    const double rate = bandwidth_read(pool, b, bytes, repeats);
    bandwidth_buffer_delete(b);
    return rate;
}
