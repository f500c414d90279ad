/* stats.c — error statistics and histograms of a quantized tensor (see stats.h).
 *
 * Called by the Layers and Histogram screens, `quantlab stats` and the plots.
 *
 * stats_compute makes one pass. The array is cut into chunks whose boundaries
 * depend only on n (never on the number of threads), each chunk sums into its
 * own double-precision partial, and the partials are added in chunk order; so
 * the result is bit-identical whatever the pool. Distinct decoded values are
 * counted per chunk in a small open-addressing set on the stack, and each
 * chunk's set is merged into one shared insert-only set with compare-and-swap;
 * counting stops for good once more than STATS_MAX_LEVELS are seen.
 */
#include "quant/stats.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Chunks: at least CHUNK_MIN values (smaller ones cost more in set clearing and
 * task hand-off than they save), at most MAX_CHUNKS of them (the partials live on
 * the caller's stack). */
enum { STATS_CHUNK_MIN = 1 << 16, STATS_MAX_CHUNKS = 256 };
/* Set sizes: powers of two, about twice the cap, so probes stay short. Racing
 * threads may add a few keys to the shared set past the cap before they see it
 * reached; it has room for thousands. */
enum { SLOTS_LOG2 = 13, LOCAL_SLOTS = 1 << SLOTS_LOG2, SHARED_SLOTS = 1 << SLOTS_LOG2 };
_Static_assert(LOCAL_SLOTS >= 2 * STATS_MAX_LEVELS, "level set too small");

/* An empty slot. It is a NaN bit pattern, and NaNs are stored as 0x7FC00000. */
#define SLOT_EMPTY UINT32_C(0xFFFFFFFF)
#define KEY_NAN UINT32_C(0x7FC00000)

/* ------------------------------------------------------------ level sets */

static inline uint32_t level_key(float v) {
    const float c = v + 0.0f; /* -0 and +0 are one level */
    if (c != c) return KEY_NAN;
    uint32_t k;
    memcpy(&k, &c, sizeof k);
    return k;
}

static inline uint32_t slot_of(uint32_t key, int log2_slots) {
    return (key * UINT32_C(0x9E3779B1)) >> (32 - log2_slots);
}

/* Inserts key; returns 1 when it was not there yet. The table never fills: the
 * caller stops inserting once it holds more than STATS_MAX_LEVELS keys. */
static inline int local_insert(uint32_t *tab, uint32_t key) {
    uint32_t h = slot_of(key, SLOTS_LOG2);
    for (;;) {
        if (tab[h] == key) return 0;
        if (tab[h] == SLOT_EMPTY) {
            tab[h] = key;
            return 1;
        }
        h = (h + 1) & (LOCAL_SLOTS - 1);
    }
}

typedef struct SharedLevels {
    _Atomic uint32_t slot[SHARED_SLOTS];
    atomic_long count; /* keys inserted; > STATS_MAX_LEVELS means "too many" */
} SharedLevels;

static bool shared_full(SharedLevels *s) {
    return atomic_load_explicit(&s->count, memory_order_relaxed) > STATS_MAX_LEVELS;
}

static void shared_mark_full(SharedLevels *s) {
    atomic_store(&s->count, (long)STATS_MAX_LEVELS + 1);
}

static void shared_insert(SharedLevels *s, uint32_t key) {
    uint32_t h = slot_of(key, SLOTS_LOG2);
    for (uint32_t probes = 0; probes < SHARED_SLOTS; probes++) {
        uint32_t cur = atomic_load_explicit(&s->slot[h], memory_order_relaxed);
        if (cur == SLOT_EMPTY) {
            if (atomic_compare_exchange_strong(&s->slot[h], &cur, key)) {
                atomic_fetch_add(&s->count, 1);
                return;
            }
            /* lost the race: cur now holds the winner's key */
        }
        if (cur == key) return;
        h = (h + 1) & (SHARED_SLOTS - 1);
    }
    shared_mark_full(s); /* cannot happen with the sizes above; stay correct anyway */
}

/* ------------------------------------------------------------- one pass */

typedef struct Partial {
    int64_t n, zeroed;
    float min, max;
    double sum_d, sum_d2; /* of d = w - shift; shifting by a data value bounds the
                             cancellation in mean(d^2) - mean(d)^2 to about n ulps */
    double sum_w2, sum_e2, max_e;
} Partial;

/* A chunk's running sums in four lanes: value i of the chunk goes to lane i % 4.
 * The SSE2 loop and the portable loop below do the same IEEE double operations
 * lane by lane, so they give the same bits (checked with -DQL_NO_SIMD; a compiler
 * that fuses a*b+c into an FMA in the portable loop would differ in the last
 * bits, never in a figure anyone reads). The lanes are added once, at the end of
 * the chunk. */
typedef struct Lanes {
    double s1[4], s2[4], w2[4], e2[4], emax[4];
    float mn[4], mx[4];
    int64_t zeroed;
} Lanes;

static void lanes_init(Lanes *l, float first) {
    memset(l, 0, sizeof *l);
    for (int k = 0; k < 4; k++) l->mn[k] = l->mx[k] = first;
}

/* One value into lane k (the loop tails, and the portable loop). */
static inline void lane_add(Lanes *l, int k, float w, float q, double shift) {
    l->mn[k] = w < l->mn[k] ? w : l->mn[k];
    l->mx[k] = w > l->mx[k] ? w : l->mx[k];
    const double wd = w, dd = wd - shift, e = (double)q - wd, ae = fabs(e);
    l->s1[k] += dd;
    l->s2[k] += dd * dd;
    l->w2[k] += wd * wd;
    l->e2[k] += e * e;
    l->emax[k] = ae > l->emax[k] ? ae : l->emax[k];
    l->zeroed += (w != 0.0f) & (q == 0.0f);
}

/* Sums orig/deq[0, n) into the lanes; n is a multiple of 4 except at the end of
 * a chunk, so the lane of every value stays i % 4 from the chunk's start. */
#if defined(__SSE2__) && !defined(QL_NO_SIMD) /* -DQL_NO_SIMD: the portable loop */
#include <emmintrin.h>

static void sum_run(const float *orig, const float *deq, int64_t n, double shift, Lanes *l) {
    /* register pairs: *_lo holds lanes 0 and 1, *_hi lanes 2 and 3 */
    __m128d s1_lo = _mm_loadu_pd(l->s1), s1_hi = _mm_loadu_pd(l->s1 + 2);
    __m128d s2_lo = _mm_loadu_pd(l->s2), s2_hi = _mm_loadu_pd(l->s2 + 2);
    __m128d w2_lo = _mm_loadu_pd(l->w2), w2_hi = _mm_loadu_pd(l->w2 + 2);
    __m128d e2_lo = _mm_loadu_pd(l->e2), e2_hi = _mm_loadu_pd(l->e2 + 2);
    __m128d em_lo = _mm_loadu_pd(l->emax), em_hi = _mm_loadu_pd(l->emax + 2);
    __m128 mn = _mm_loadu_ps(l->mn), mx = _mm_loadu_ps(l->mx);
    const __m128d k = _mm_set1_pd(shift);
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(INT64_MAX));
    const __m128 zero = _mm_setzero_ps();
    __m128i zeroed = _mm_setzero_si128(); /* n <= STATS_RUN per call: no overflow */
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 w = _mm_loadu_ps(orig + i), q = _mm_loadu_ps(deq + i);
        mn = _mm_min_ps(w, mn); /* w < mn ? w : mn, as lane_add */
        mx = _mm_max_ps(w, mx);
        const __m128d w_lo = _mm_cvtps_pd(w), w_hi = _mm_cvtps_pd(_mm_movehl_ps(w, w));
        const __m128d q_lo = _mm_cvtps_pd(q), q_hi = _mm_cvtps_pd(_mm_movehl_ps(q, q));
        const __m128d d_lo = _mm_sub_pd(w_lo, k), d_hi = _mm_sub_pd(w_hi, k);
        const __m128d e_lo = _mm_sub_pd(q_lo, w_lo), e_hi = _mm_sub_pd(q_hi, w_hi);
        s1_lo = _mm_add_pd(s1_lo, d_lo);
        s1_hi = _mm_add_pd(s1_hi, d_hi);
        s2_lo = _mm_add_pd(s2_lo, _mm_mul_pd(d_lo, d_lo));
        s2_hi = _mm_add_pd(s2_hi, _mm_mul_pd(d_hi, d_hi));
        w2_lo = _mm_add_pd(w2_lo, _mm_mul_pd(w_lo, w_lo));
        w2_hi = _mm_add_pd(w2_hi, _mm_mul_pd(w_hi, w_hi));
        e2_lo = _mm_add_pd(e2_lo, _mm_mul_pd(e_lo, e_lo));
        e2_hi = _mm_add_pd(e2_hi, _mm_mul_pd(e_hi, e_hi));
        em_lo = _mm_max_pd(_mm_and_pd(e_lo, abs_mask), em_lo);
        em_hi = _mm_max_pd(_mm_and_pd(e_hi, abs_mask), em_hi);
        /* all-ones lanes where w != 0 and q == 0; subtracting -1 counts them */
        const __m128 z = _mm_and_ps(_mm_cmpneq_ps(w, zero), _mm_cmpeq_ps(q, zero));
        zeroed = _mm_sub_epi32(zeroed, _mm_castps_si128(z));
    }
    _mm_storeu_pd(l->s1, s1_lo), _mm_storeu_pd(l->s1 + 2, s1_hi);
    _mm_storeu_pd(l->s2, s2_lo), _mm_storeu_pd(l->s2 + 2, s2_hi);
    _mm_storeu_pd(l->w2, w2_lo), _mm_storeu_pd(l->w2 + 2, w2_hi);
    _mm_storeu_pd(l->e2, e2_lo), _mm_storeu_pd(l->e2 + 2, e2_hi);
    _mm_storeu_pd(l->emax, em_lo), _mm_storeu_pd(l->emax + 2, em_hi);
    _mm_storeu_ps(l->mn, mn);
    _mm_storeu_ps(l->mx, mx);
    int32_t z[4];
    _mm_storeu_si128((__m128i *)z, zeroed);
    l->zeroed += (int64_t)z[0] + z[1] + z[2] + z[3];
    for (int kk = 0; i < n; i++, kk++) lane_add(l, kk, orig[i], deq[i], shift);
}
#else
static void sum_run(const float *orig, const float *deq, int64_t n, double shift, Lanes *l) {
    for (int64_t i = 0; i < n; i++) lane_add(l, (int)(i & 3), orig[i], deq[i], shift);
}
#endif

/* The lanes, added in a fixed order, become the chunk's partial. */
static void lanes_fold(const Lanes *l, Partial *p) {
    p->min = fminf(fminf(l->mn[0], l->mn[1]), fminf(l->mn[2], l->mn[3]));
    p->max = fmaxf(fmaxf(l->mx[0], l->mx[1]), fmaxf(l->mx[2], l->mx[3]));
    p->sum_d = (l->s1[0] + l->s1[1]) + (l->s1[2] + l->s1[3]);
    p->sum_d2 = (l->s2[0] + l->s2[1]) + (l->s2[2] + l->s2[3]);
    p->sum_w2 = (l->w2[0] + l->w2[1]) + (l->w2[2] + l->w2[3]);
    p->sum_e2 = (l->e2[0] + l->e2[1]) + (l->e2[2] + l->e2[3]);
    p->max_e = fmax(fmax(l->emax[0], l->emax[1]), fmax(l->emax[2], l->emax[3]));
    p->zeroed = l->zeroed;
}

typedef struct StatsJob {
    const float *orig, *deq;
    int64_t n, chunk;
    double shift;
    Partial *parts; /* (n_chunks) */
    SharedLevels *levels;
} StatsJob;

/* Adds the distinct values of deq[0, n) to the chunk's set; false once the set
 * holds more than STATS_MAX_LEVELS. A value already in the set (nearly all of
 * them, for quantized data) costs one hash and one compare. */
static bool track_run(const float *deq, int64_t n, uint32_t *tab, int *n_local) {
    for (int64_t i = 0; i < n; i++) {
        const uint32_t key = level_key(deq[i]);
        if (tab[slot_of(key, SLOTS_LOG2)] == key) continue;
        *n_local += local_insert(tab, key);
        if (*n_local > STATS_MAX_LEVELS) return false;
    }
    return true;
}

/* Values summed between two looks at the level set: a multiple of 4 (lanes),
 * small enough to still be in L1 when track_run reads them again. */
enum { STATS_RUN = 2048 };
_Static_assert(STATS_RUN % 4 == 0, "runs keep values in their lanes");

static void stats_chunk(void *ctx, int task, int n_tasks) {
    (void)n_tasks;
    StatsJob *j = ctx;
    const int64_t begin = (int64_t)task * j->chunk;
    const int64_t end = begin + j->chunk < j->n ? begin + j->chunk : j->n;
    Partial *p = &j->parts[task];
    Lanes lanes;
    lanes_init(&lanes, j->orig[begin]);

    bool tracking = !shared_full(j->levels);
    uint32_t tab[LOCAL_SLOTS];
    int n_local = 0;
    if (tracking) memset(tab, 0xFF, sizeof tab); /* every slot SLOT_EMPTY */
    for (int64_t i = begin; i < end; i += STATS_RUN) {
        const int64_t len = end - i < STATS_RUN ? end - i : STATS_RUN;
        sum_run(j->orig + i, j->deq + i, len, j->shift, &lanes);
        if (tracking) {
            tracking = track_run(j->deq + i, len, tab, &n_local);
            if (!tracking) shared_mark_full(j->levels); /* this chunk alone has too many */
        }
    }
    memset(p, 0, sizeof *p);
    p->n = end - begin;
    lanes_fold(&lanes, p);
    if (tracking)
        for (int s = 0; s < LOCAL_SLOTS && !shared_full(j->levels); s++)
            if (tab[s] != SLOT_EMPTY) shared_insert(j->levels, tab[s]);
}

void stats_compute(const float *orig, const float *deq, int64_t n, Pool *pool, WeightStats *out) {
    memset(out, 0, sizeof *out);
    if (n <= 0) {
        out->sqnr_db = INFINITY; /* no error at all */
        return;
    }
    int64_t chunk = (n + STATS_MAX_CHUNKS - 1) / STATS_MAX_CHUNKS;
    if (chunk < STATS_CHUNK_MIN) chunk = STATS_CHUNK_MIN;
    const int n_chunks = (int)((n + chunk - 1) / chunk);

    /* about 48 kB on the caller's stack (stats_compute cannot fail, so no malloc) */
    Partial parts[STATS_MAX_CHUNKS];
    SharedLevels levels;
    for (int s = 0; s < SHARED_SLOTS; s++) atomic_init(&levels.slot[s], SLOT_EMPTY);
    atomic_init(&levels.count, 0);

    StatsJob job = {orig, deq, n, chunk, orig[0], parts, &levels};
    if (pool && n_chunks > 1) pool_run(pool, stats_chunk, &job, n_chunks);
    else
        for (int c = 0; c < n_chunks; c++) stats_chunk(&job, c, n_chunks);

    /* merge in chunk order: the same sums whatever thread did which chunk */
    Partial t = parts[0];
    for (int c = 1; c < n_chunks; c++) {
        const Partial *p = &parts[c];
        t.n += p->n;
        t.zeroed += p->zeroed;
        t.min = p->min < t.min ? p->min : t.min;
        t.max = p->max > t.max ? p->max : t.max;
        t.sum_d += p->sum_d;
        t.sum_d2 += p->sum_d2;
        t.sum_w2 += p->sum_w2;
        t.sum_e2 += p->sum_e2;
        t.max_e = p->max_e > t.max_e ? p->max_e : t.max_e;
    }
    const double nn = (double)n;
    const double mean_d = t.sum_d / nn;
    const double var = t.sum_d2 / nn - mean_d * mean_d;

    out->n = n;
    out->min = t.min;
    out->max = t.max;
    out->mean = job.shift + mean_d;
    out->std = var > 0.0 ? sqrt(var) : 0.0;
    out->rmse = sqrt(t.sum_e2 / nn);
    out->rel_rmse = t.sum_e2 == 0.0 ? 0.0 : out->rmse / sqrt(t.sum_w2 / nn);
    out->sqnr_db = t.sum_e2 == 0.0 ? INFINITY : 10.0 * log10(t.sum_w2 / t.sum_e2);
    out->max_abs_err = t.max_e;
    out->zeroed = (double)t.zeroed / nn;
    const long levels_seen = atomic_load(&levels.count);
    out->n_levels = levels_seen > STATS_MAX_LEVELS ? STATS_MAX_LEVELS + 1 : levels_seen;
}

/* ----------------------------------------------------------- histograms */

/* Largest bin count accepted (a chart is never wider than this). */
enum { HIST_MAX_BINS = 1 << 20 };

typedef struct HistJob {
    const float *x;   /* values, or the originals when diff */
    const float *deq; /* NULL, or the decoded values: bin deq - x */
    int64_t n;
    int n_bins;
    double lo, hi, width, inv;
    uint64_t *counts; /* (n_tasks, n_bins) */
    uint64_t *below, *above; /* (n_tasks) */
} HistJob;

static inline void hist_add(const HistJob *j, double v, uint64_t *counts, uint64_t *below,
                            uint64_t *above) {
    if (!(v >= j->lo)) {
        if (v < j->lo) (*below)++;
        return; /* NaN: counted nowhere */
    }
    if (v > j->hi) {
        (*above)++;
        return;
    }
    int64_t i = (int64_t)((v - j->lo) * j->inv); /* in [0, n_bins], as v - lo <= hi - lo */
    if (i >= j->n_bins) i = j->n_bins - 1;      /* v == hi goes in the last bin */
    /* the product may round across an edge: settle on the documented edges */
    if (i > 0 && v < j->lo + (double)i * j->width) i--;
    else if (i + 1 < j->n_bins && v >= j->lo + (double)(i + 1) * j->width) i++;
    counts[i]++;
}

static void hist_task(void *ctx, int task, int n_tasks) {
    const HistJob *j = ctx;
    const int64_t begin = j->n * task / n_tasks, end = j->n * (task + 1) / n_tasks;
    uint64_t *counts = j->counts + (size_t)task * (size_t)j->n_bins;
    uint64_t below = 0, above = 0;
    if (j->deq) {
        for (int64_t i = begin; i < end; i++)
            hist_add(j, (double)j->deq[i] - (double)j->x[i], counts, &below, &above);
    } else {
        for (int64_t i = begin; i < end; i++) hist_add(j, j->x[i], counts, &below, &above);
    }
    j->below[task] = below;
    j->above[task] = above;
}

enum { HIST_MAX_TASKS = 64 };

static Status hist_run(Histogram *h, const float *x, const float *deq, int64_t n, double lo,
                       double hi, int n_bins, Pool *pool, Error *err) {
    memset(h, 0, sizeof *h);
    if (n_bins < 1 || n_bins > HIST_MAX_BINS)
        return error_set(err, ST_USAGE, "histogram needs 1 to %d bins, not %d", HIST_MAX_BINS,
                         n_bins);
    if (!(lo < hi) || !isfinite(hi - lo))
        return error_set(err, ST_USAGE, "histogram range [%g, %g] is empty or not finite", lo, hi);
    if (n < 0) n = 0;
    int n_tasks = 1;
    if (pool && n >= STATS_CHUNK_MIN) {
        n_tasks = pool_threads(pool);
        if (n_tasks > HIST_MAX_TASKS) n_tasks = HIST_MAX_TASKS;
    }
    uint64_t below[HIST_MAX_TASKS], above[HIST_MAX_TASKS];
    uint64_t *counts = calloc((size_t)n_tasks * (size_t)n_bins, sizeof *counts);
    if (!counts) return error_set(err, ST_NOMEM, "out of memory for a %d-bin histogram", n_bins);
    HistJob job = {x, deq, n, n_bins, lo, hi, (hi - lo) / n_bins, n_bins / (hi - lo),
                   counts, below, above};
    if (n_tasks > 1) pool_run(pool, hist_task, &job, n_tasks);
    else hist_task(&job, 0, 1);

    /* task 0's counts become the result; the others are added in */
    for (int t = 1; t < n_tasks; t++) {
        const uint64_t *c = counts + (size_t)t * (size_t)n_bins;
        for (int b = 0; b < n_bins; b++) counts[b] += c[b];
    }
    h->n_bins = n_bins;
    h->lo = lo;
    h->hi = hi;
    h->counts = counts; /* a larger block than needed when threaded; freed whole */
    for (int t = 0; t < n_tasks; t++) {
        h->below += below[t];
        h->above += above[t];
    }
    h->total = h->below + h->above;
    for (int b = 0; b < n_bins; b++) h->total += counts[b];
    return ST_OK;
}

Status stats_hist_build(Histogram *h, const float *x, int64_t n, double lo, double hi, int n_bins,
                        Pool *pool, Error *err) {
    return hist_run(h, x, NULL, n, lo, hi, n_bins, pool, err);
}

Status stats_hist_error(Histogram *h, const float *orig, const float *deq, int64_t n, double lo,
                        double hi, int n_bins, Pool *pool, Error *err) {
    return hist_run(h, orig, deq, n, lo, hi, n_bins, pool, err);
}

void stats_hist_free(Histogram *h) {
    if (!h) return;
    free(h->counts);
    memset(h, 0, sizeof *h);
}

uint64_t stats_hist_max(const Histogram *h) {
    uint64_t m = 0;
    for (int b = 0; b < h->n_bins; b++) m = h->counts[b] > m ? h->counts[b] : m;
    return m;
}
