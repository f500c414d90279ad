/* stats.h — what quantization did to a tensor, in numbers and histograms.
 *
 * Everything the Layers and Histogram screens and `quantlab stats` show comes
 * from here: the spread of the original weights, the error the format made, the
 * histograms of the weights, of the values they were rounded to (the discrete
 * levels) and of the rounding error. One pass over the data, threaded, so the
 * statistics of 100 million weights take well under a second.
 *
 * Definitions (n weights w, decoded values w~, error e = w~ - w):
 *   RMSE        sqrt(mean(e^2))
 *   rel. RMSE   RMSE / sqrt(mean(w^2))
 *   SQNR        10 log10( sum(w^2) / sum(e^2) ) dB  (+inf when e == 0)
 *   max |e|     largest absolute error
 *   zeroed      share of weights with w != 0 but w~ == 0
 */
#ifndef QL_QUANT_STATS_H
#define QL_QUANT_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"

typedef struct WeightStats {
    int64_t n;
    double min, max, mean, std; /* of the original weights (population std) */
    double rmse, rel_rmse, sqnr_db, max_abs_err;
    double zeroed;              /* fraction 0..1 */
    int64_t n_levels;           /* distinct decoded values (capped at STATS_MAX_LEVELS + 1) */
} WeightStats;

enum { STATS_MAX_LEVELS = 4096 };

/* orig and deq: n values each (deq may equal orig for an unquantized tensor).
 * Sums are in double; the result is bit-identical with or without a pool (chunk
 * boundaries depend on n only). `pool` may be NULL.
 *   sqnr_db is +inf when the error is exactly zero (also for n == 0) and -inf
 *   when every weight is 0 but the error is not: printing "lossless" or "-" for
 *   them is the caller's job. rel_rmse is 0 when the error is zero.
 *   n_levels counts distinct values of deq (-0 and +0 are one; NaNs are one),
 *   exactly up to STATS_MAX_LEVELS, STATS_MAX_LEVELS + 1 meaning "more".
 *   Weights are expected finite (qtensor refuses others); a deq holding inf or
 *   NaN (a GGML scale beyond FP16) makes the error figures inf or NaN. */
void stats_compute(const float *orig, const float *deq, int64_t n, Pool *pool, WeightStats *out);

typedef struct Histogram {
    int n_bins;
    double lo, hi;       /* bin i covers [lo + i*w, lo + (i+1)*w), w = (hi-lo)/n_bins,
                            edges computed in double exactly as written here */
    uint64_t *counts;    /* (n_bins) */
    uint64_t below, above; /* values outside [lo, hi] */
    uint64_t total;      /* sum of counts + below + above: every value but NaNs */
} Histogram;

/* Counts x into n_bins equal bins over [lo, hi] (hi itself goes in the last bin;
 * NaN values are counted nowhere). Allocates counts; stats_hist_free releases
 * them. ST_USAGE for n_bins outside 1..2^20 or a range that is empty or not
 * finite, ST_NOMEM; on error *h is empty. Threaded when pool != NULL and
 * n >= 65536; counts do not depend on the pool. */
Status stats_hist_build(Histogram *h, const float *x, int64_t n, double lo, double hi, int n_bins,
                        Pool *pool, Error *err);
/* The error histogram: bins over e = deq - orig, computed in double. */
Status stats_hist_error(Histogram *h, const float *orig, const float *deq, int64_t n, double lo,
                        double hi, int n_bins, Pool *pool, Error *err);
void stats_hist_free(Histogram *h);

/* The largest count, for scaling bars. */
uint64_t stats_hist_max(const Histogram *h);

#endif
