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

/* orig and deq: n values each (deq may equal orig for an unquantized tensor). */
void stats_compute(const float *orig, const float *deq, int64_t n, Pool *pool, WeightStats *out);

typedef struct Histogram {
    int n_bins;
    double lo, hi;       /* bin i covers [lo + i*w, lo + (i+1)*w), w = (hi-lo)/n_bins */
    uint64_t *counts;    /* (n_bins) */
    uint64_t below, above; /* values outside [lo, hi] */
    uint64_t total;
} Histogram;

/* Counts x into n_bins equal bins over [lo, hi] (hi itself goes in the last bin).
 * Allocates counts; hist_free releases them. */
Status stats_hist_build(Histogram *h, const float *x, int64_t n, double lo, double hi, int n_bins,
                        Pool *pool, Error *err);
/* The error histogram: bins over e = deq - orig. */
Status stats_hist_error(Histogram *h, const float *orig, const float *deq, int64_t n, double lo,
                        double hi, int n_bins, Pool *pool, Error *err);
void stats_hist_free(Histogram *h);

/* The largest count, for scaling bars. */
uint64_t stats_hist_max(const Histogram *h);

#endif
