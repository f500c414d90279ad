/* test_stats.c — weight and error statistics and histograms: small arrays worked
 * out by hand, and larger ones against plain double-precision re-derivations
 * written here in the most obvious way (two passes, a sort, a linear bin search). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "quant/stats.h"

#define assert_near(a, b, tol)                                                                   \
    do {                                                                                         \
        const double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                              \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, t_);              \
    } while (0)
/* relative tolerance */
#define assert_close(a, b, rel) assert_near(a, b, (rel) * fabs((double)(b)))

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static double rng_uniform(void) { /* xorshift64, [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static Pool *pool2;
static int setup(void **state) {
    (void)state;
    pool2 = pool_new(2);
    return pool2 ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    pool_delete(pool2);
    return 0;
}

/* --------------------------------------------------------- by hand */

/* w = 1 2 3 4, w~ = 1 2 2 0:
 *   min 1, max 4, mean 2.5, var = (1.5^2 + 0.5^2 + 0.5^2 + 1.5^2)/4 = 1.25, std 1.1180340
 *   e = 0 0 -1 -4: sum e^2 = 17, RMSE = sqrt(17/4) = 2.0615528
 *   mean w^2 = 30/4 = 7.5, rel. RMSE = sqrt(4.25/7.5) = 0.7527727
 *   SQNR = 10 log10(30/17) = 2.4667233 dB, max |e| = 4
 *   zeroed: w = 4 became 0 -> 1/4; levels {1, 2, 0} -> 3 */
static void test_stats_hand_worked(void **state) {
    (void)state;
    const float w[4] = {1, 2, 3, 4}, q[4] = {1, 2, 2, 0};
    WeightStats s;
    stats_compute(w, q, 4, NULL, &s);
    assert_int_equal(s.n, 4);
    assert_near(s.min, 1, 0);
    assert_near(s.max, 4, 0);
    assert_near(s.mean, 2.5, 1e-15);
    assert_near(s.std, 1.1180339887498949, 1e-15);
    assert_near(s.rmse, 2.0615528128088303, 1e-15);
    assert_near(s.rel_rmse, 0.75277265270908100, 1e-15);
    assert_near(s.sqnr_db, 2.4667233334138850, 1e-13);
    assert_near(s.max_abs_err, 4, 0);
    assert_near(s.zeroed, 0.25, 0);
    assert_int_equal(s.n_levels, 3);
}

/* w = 0.5 -0.5 0.25 -0.25 0 1, w~ = 0.5 -0.5 0 -0 0 1:
 *   mean 1/6; mean w^2 = 1.625/6 = 0.2708333; var = 0.2708333 - 1/36 = 0.2430556,
 *   std 0.4930066; e = 0 0 -0.25 0.25 0 0: RMSE = sqrt(0.125/6) = 0.1443376;
 *   SQNR = 10 log10(1.625/0.125) = 10 log10 13 = 11.1394335 dB; max |e| 0.25;
 *   zeroed: 0.25 and -0.25 (w = 0 does not count) -> 2/6;
 *   levels: 0.5, -0.5, 0, 1 (-0 and +0 are one level) -> 4 */
static void test_stats_signed_zero_and_zeroed(void **state) {
    (void)state;
    const float w[6] = {0.5f, -0.5f, 0.25f, -0.25f, 0.0f, 1.0f};
    const float q[6] = {0.5f, -0.5f, 0.0f, -0.0f, 0.0f, 1.0f};
    WeightStats s;
    stats_compute(w, q, 6, NULL, &s);
    assert_near(s.mean, 1.0 / 6, 1e-15);
    assert_near(s.std, 0.49300664859163470, 1e-15);
    assert_near(s.rmse, 0.14433756729740643, 1e-15);
    assert_near(s.sqnr_db, 11.139433523068368, 1e-12);
    assert_near(s.max_abs_err, 0.25, 0);
    assert_near(s.zeroed, 2.0 / 6, 1e-15);
    assert_int_equal(s.n_levels, 4);
}

/* No error at all: RMSE 0, rel. RMSE 0, SQNR +inf (the caller prints it). */
static void test_stats_exact_copy(void **state) {
    (void)state;
    const float w[5] = {-2, -1, 0, 1, 2};
    WeightStats s;
    stats_compute(w, w, 5, NULL, &s);
    assert_near(s.rmse, 0, 0);
    assert_near(s.rel_rmse, 0, 0);
    assert_true(isinf(s.sqnr_db) && s.sqnr_db > 0);
    assert_near(s.max_abs_err, 0, 0);
    assert_near(s.zeroed, 0, 0);
    assert_int_equal(s.n_levels, 5);
    assert_near(s.std, sqrt(2.0), 1e-15); /* (4 + 1 + 0 + 1 + 4) / 5 = 2 */

    const float zeros[2] = {0, 0}, some[2] = {0.5f, 0}; /* all-zero weights, some error */
    stats_compute(zeros, some, 2, NULL, &s);
    assert_true(isinf(s.sqnr_db) && s.sqnr_db < 0); /* 10 log10(0 / 0.25) */
    assert_true(isinf(s.rel_rmse));

    stats_compute(w, w, 0, NULL, &s); /* empty: nothing, and no error */
    assert_int_equal(s.n, 0);
    assert_int_equal(s.n_levels, 0);
    assert_true(isinf(s.sqnr_db));
}

/* A large mean and a small spread: 1e6 + {0, 1/16, -1/16, 0} (float steps by 1/16
 * there). var = 2 * (1/16)^2 / 4 = 1/512, std = 0.0441942. And 1000 values
 * 1e6 -+ 1/16 alternating: mean 1e6, std exactly 1/16. Summing w^2 directly
 * (~1e15, double steps of 1/8 there) would lose the 1/256 each value adds to it;
 * sums shifted by a data value keep it. */
static void test_stats_large_mean_small_spread(void **state) {
    (void)state;
    const float w[4] = {1e6f, 1e6f + 0.0625f, 1e6f - 0.0625f, 1e6f};
    WeightStats s;
    stats_compute(w, w, 4, NULL, &s);
    assert_near(s.mean, 1e6, 0);
    assert_near(s.std, 0.044194173824159220, 1e-15);
    float many[1000];
    for (int i = 0; i < 1000; i++) many[i] = i % 2 ? 1e6f + 0.0625f : 1e6f - 0.0625f;
    stats_compute(many, many, 1000, NULL, &s);
    assert_near(s.mean, 1e6, 1e-9);
    assert_near(s.std, 0.0625, 1e-12);
    const float v[4] = {1000.0f, 1000.5f, 999.5f, 1000.0f}; /* var 0.125 */
    stats_compute(v, v, 4, NULL, &s);
    assert_near(s.std, 0.35355339059327378, 1e-15);
}

/* The level count is exact up to STATS_MAX_LEVELS and then capped at one more,
 * also when the distinct values are spread over chunks and threads. */
static void test_stats_levels_exact_and_capped(void **state) {
    (void)state;
    const int64_t n = 300000; /* several chunks */
    float *w = malloc(n * sizeof *w), *q = malloc(n * sizeof *q);
    static const int ks[] = {1, 2, 15, 4095, 4096, 4097, 4098, 10000};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        const int k = ks[t];
        const int64_t expect = k <= STATS_MAX_LEVELS ? k : STATS_MAX_LEVELS + 1;
        for (int pattern = 0; pattern < 2; pattern++) {
            for (int64_t i = 0; i < n; i++) {
                /* pattern 0: every level in every chunk, in a scrambled order;
                 * pattern 1: level i*k/n, so each chunk holds levels no other has */
                const int64_t level = pattern == 0 ? (i * 7919) % k : i * k / n;
                q[i] = (float)level * 0.25f - 100.0f;
                w[i] = q[i] + 0.01f;
            }
            WeightStats a, b;
            stats_compute(w, q, n, NULL, &a);
            stats_compute(w, q, n, pool2, &b);
            assert_int_equal(a.n_levels, expect);
            assert_int_equal(b.n_levels, expect);
        }
        WeightStats c;
        stats_compute(w, q, 5000, NULL, &c); /* one chunk: levels 0 .. 5000k/n */
        const int64_t in_c = (4999 * (int64_t)k) / n + 1;
        assert_int_equal(c.n_levels, in_c <= STATS_MAX_LEVELS ? in_c : STATS_MAX_LEVELS + 1);
    }
    free(w);
    free(q);
}

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* 1M random weights with a coarse rounding as the "quantization": the pool and the
 * calling thread alone give identical bits, and both agree with a two-pass
 * double-precision computation and a sorted distinct count. */
static void test_stats_threaded_matches_single_and_reference(void **state) {
    (void)state;
    const int64_t n = 1000000;
    float *w = malloc(n * sizeof *w), *q = malloc(n * sizeof *q);
    rng_seed(12345);
    for (int64_t i = 0; i < n; i++) {
        w[i] = (float)(rng_uniform() * 0.08 + 0.01);
        q[i] = roundf(w[i] / 0.01f) * 0.01f; /* 11 or so levels */
    }
    WeightStats a, b;
    stats_compute(w, q, n, NULL, &a);
    stats_compute(w, q, n, pool2, &b);
    assert_memory_equal(&a, &b, sizeof a);

    /* reference, the obvious way */
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        sum += w[i];
        mn = fmin(mn, w[i]);
        mx = fmax(mx, w[i]);
    }
    const double mean = sum / n;
    double var = 0, se = 0, sw = 0, emax = 0;
    int64_t zeroed = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = w[i] - mean, e = (double)q[i] - w[i];
        var += d * d;
        se += e * e;
        sw += (double)w[i] * w[i];
        emax = fmax(emax, fabs(e));
        zeroed += w[i] != 0 && q[i] == 0;
    }
    float *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, q, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_float);
    int64_t distinct = 1;
    for (int64_t i = 1; i < n; i++) distinct += sorted[i] != sorted[i - 1];

    assert_near(a.min, mn, 0);
    assert_near(a.max, mx, 0);
    assert_close(a.mean, mean, 1e-12);
    assert_close(a.std, sqrt(var / n), 1e-12);
    assert_close(a.rmse, sqrt(se / n), 1e-12);
    assert_close(a.rel_rmse, sqrt(se / n) / sqrt(sw / n), 1e-12);
    assert_close(a.sqnr_db, 10 * log10(sw / se), 1e-12);
    assert_near(a.max_abs_err, emax, 0);
    assert_near(a.zeroed, (double)zeroed / n, 1e-15);
    assert_true(zeroed > 0);
    assert_int_equal(a.n_levels, distinct);

    /* unquantized: too many levels, capped */
    stats_compute(w, w, n, pool2, &a);
    assert_int_equal(a.n_levels, STATS_MAX_LEVELS + 1);
    free(sorted);
    free(w);
    free(q);
}

/* ------------------------------------------------------ histograms */

/* [0, 1] in 4 bins of 0.25: 0 and 0.2499999 -> bin 0; 0.25 -> 1; 0.5, 0.6 -> 2;
 * 0.75, 0.9999 and hi itself (1.0) -> 3; -0.1 below, 1.1 above; -0 -> bin 0;
 * NaN counted nowhere, so total = 11 of 12. */
static void test_stats_hist_edges(void **state) {
    (void)state;
    const float x[12] = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, -0.1f,
                         1.1f, 0.2499999f, 0.9999f, 0.6f, -0.0f, NAN};
    Histogram h;
    Error err = {0};
    assert_int_equal(stats_hist_build(&h, x, 12, 0.0, 1.0, 4, NULL, &err), ST_OK);
    assert_int_equal(h.n_bins, 4);
    assert_int_equal(h.counts[0], 3);
    assert_int_equal(h.counts[1], 1);
    assert_int_equal(h.counts[2], 2);
    assert_int_equal(h.counts[3], 3);
    assert_int_equal(h.below, 1);
    assert_int_equal(h.above, 1);
    assert_int_equal(h.total, 11);
    assert_int_equal(stats_hist_max(&h), 3);
    stats_hist_free(&h);
    assert_null(h.counts);
    stats_hist_free(NULL);
}

/* Float values exactly on an edge lo + i w whose position (v - lo) / w rounds to
 * the other side in double (found by a search over random ranges):
 *   [0, 1.492658257484436] in 108 bins: v = 0.373164564371109 is exactly lo + 27 w,
 *     but (v - lo) * 108 / (hi - lo) = 26.999999999999996 -> bin 27, not 26;
 *   [-0.4598904550075531, 0.5401095151901245] in 60 bins: v = 0.040109530091285706
 *     lies just below lo + 30 w, though the product rounds to 30.0 -> bin 29.   */
static void test_stats_hist_rounding_at_edges(void **state) {
    (void)state;
    Histogram h;
    Error err = {0};
    const float a = 0.373164564371109f;
    assert_true((double)a == 0.0 + 27 * (1.492658257484436 / 108));
    assert_int_equal(stats_hist_build(&h, &a, 1, 0.0, 1.492658257484436, 108, NULL, &err), ST_OK);
    assert_int_equal(h.counts[27], 1);
    stats_hist_free(&h);
    const double lo = -0.4598904550075531, hi = 0.5401095151901245;
    const float b = 0.040109530091285706f;
    assert_true((double)b < lo + 30 * ((hi - lo) / 60));
    assert_int_equal(stats_hist_build(&h, &b, 1, lo, hi, 60, NULL, &err), ST_OK);
    assert_int_equal(h.counts[29], 1);
    stats_hist_free(&h);
}

/* e = w~ - w = 0, 0.5, -1, 0.75 over [-1, 1] in 4 bins of 0.5:
 * -1 -> bin 0, 0 -> bin 2, 0.5 and 0.75 -> bin 3. */
static void test_stats_hist_error(void **state) {
    (void)state;
    const float w[4] = {1, 2, 3, 4}, q[4] = {1, 2.5f, 2, 4.75f};
    Histogram h;
    Error err = {0};
    assert_int_equal(stats_hist_error(&h, w, q, 4, -1.0, 1.0, 4, NULL, &err), ST_OK);
    assert_int_equal(h.counts[0], 1);
    assert_int_equal(h.counts[1], 0);
    assert_int_equal(h.counts[2], 1);
    assert_int_equal(h.counts[3], 2);
    assert_int_equal(h.total, 4);
    stats_hist_free(&h);
}

/* Bin i is [lo + i w, lo + (i+1) w) with w = (hi - lo)/n_bins, hi in the last bin:
 * found here by a linear search over those edges, for random values and for the
 * float values nearest each edge (where a product could round across it). */
static void test_stats_hist_matches_definition(void **state) {
    (void)state;
    const double lo = -0.3, hi = 0.3;
    const int nb = 7;
    const double bw = (hi - lo) / nb;
    const int64_t n = 1000000;
    float *x = malloc(n * sizeof *x);
    rng_seed(777);
    int64_t k = 0;
    for (int i = 0; i <= nb; i++) {
        const float e = (float)(lo + i * bw);
        x[k++] = e;
        x[k++] = nextafterf(e, -1.0f);
        x[k++] = nextafterf(e, 1.0f);
    }
    while (k < n) x[k++] = (float)(rng_uniform() * 0.35);

    uint64_t counts[7] = {0}, below = 0, above = 0;
    for (int64_t i = 0; i < n; i++) {
        const double v = x[i];
        if (v < lo) below++;
        else if (v > hi) above++;
        else if (v == hi) counts[nb - 1]++;
        else
            for (int b = 0; b < nb; b++)
                if (v >= lo + b * bw && v < lo + (b + 1) * bw) {
                    counts[b]++;
                    break;
                }
    }
    Histogram a, b;
    Error err = {0};
    assert_int_equal(stats_hist_build(&a, x, n, lo, hi, nb, NULL, &err), ST_OK);
    assert_int_equal(stats_hist_build(&b, x, n, lo, hi, nb, pool2, &err), ST_OK);
    for (int i = 0; i < nb; i++) {
        assert_int_equal(a.counts[i], counts[i]);
        assert_int_equal(b.counts[i], counts[i]);
    }
    assert_int_equal(a.below, below);
    assert_int_equal(a.above, above);
    assert_int_equal(b.below, below);
    assert_int_equal(b.above, above);
    assert_int_equal(a.total, (uint64_t)n);
    assert_int_equal(b.total, (uint64_t)n);
    stats_hist_free(&a);
    stats_hist_free(&b);
    free(x);
}

static void test_stats_hist_bad_arguments(void **state) {
    (void)state;
    const float x[2] = {0, 1};
    Histogram h;
    Error err = {0};
    assert_int_equal(stats_hist_build(&h, x, 2, 0, 1, 0, NULL, &err), ST_USAGE);
    assert_null(h.counts);
    assert_int_equal(stats_hist_build(&h, x, 2, 1, 1, 4, NULL, &err), ST_USAGE);
    assert_int_equal(stats_hist_build(&h, x, 2, 1, 0, 4, NULL, &err), ST_USAGE);
    assert_int_equal(stats_hist_build(&h, x, 2, NAN, 1, 4, NULL, &err), ST_USAGE);
    assert_int_equal(stats_hist_build(&h, x, 2, 0, INFINITY, 4, NULL, &err), ST_USAGE);
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(stats_hist_build(&h, x, 0, 0, 1, 4, NULL, &err), ST_OK); /* empty */
    assert_int_equal(h.total, 0);
    assert_int_equal(stats_hist_max(&h), 0);
    stats_hist_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_hand_worked),
        cmocka_unit_test(test_stats_signed_zero_and_zeroed),
        cmocka_unit_test(test_stats_exact_copy),
        cmocka_unit_test(test_stats_large_mean_small_spread),
        cmocka_unit_test(test_stats_levels_exact_and_capped),
        cmocka_unit_test(test_stats_threaded_matches_single_and_reference),
        cmocka_unit_test(test_stats_hist_edges),
        cmocka_unit_test(test_stats_hist_rounding_at_edges),
        cmocka_unit_test(test_stats_hist_error),
        cmocka_unit_test(test_stats_hist_matches_definition),
        cmocka_unit_test(test_stats_hist_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
