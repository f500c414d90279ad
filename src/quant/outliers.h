/* outliers.h — how far a tensor's largest weights sit from the rest.
 *
 * The facts the Layers and Histogram screens and `quantlab stats --outliers`
 * show about one weight matrix: its k largest-magnitude weights with their
 * positions, max|w| / std (a per-tensor scale is set by max|w|, so this is how
 * many "typical" weights fit between zero and the top of the grid), the
 * kurtosis (heavy tails) and how many weights lie beyond 3 and 6 standard
 * deviations. Three passes in double (mean and max, the central moments, the
 * counts beyond 3 and 6 std), one selection for the top k.
 */
#ifndef QL_QUANT_OUTLIERS_H
#define QL_QUANT_OUTLIERS_H

#include <stdint.h>

#include "base/error.h"

enum { OUTLIERS_TOP_MAX = 64 };

typedef struct OutlierEntry {
    float value;
    int64_t row, col;
} OutlierEntry;

typedef struct OutlierFacts {
    int64_t n;
    int n_top;                          /* min(k, n, OUTLIERS_TOP_MAX) */
    OutlierEntry top[OUTLIERS_TOP_MAX]; /* largest |w| first; ties: earlier index first */
    double mean, std;                   /* population std */
    double max_abs;
    double max_over_std;                /* max|w| / std; 0 when every weight is 0 */
    double kurtosis;                    /* m4 / m2^2 about the mean: 3 for a Gaussian,
                                           1.8 for a uniform; 0 when m2 = 0 */
    int64_t beyond_3std, beyond_6std;   /* weights with |w - mean| > 3 std, > 6 std (a
                                           Gaussian has 0.27% and 2e-9 of them) */
} OutlierFacts;

/* Facts about w (rows x cols, finite values), with the k largest listed (k is
 * capped at OUTLIERS_TOP_MAX). ST_USAGE for an empty shape, ST_NOMEM. */
Status outliers_facts(const float *w, int64_t rows, int64_t cols, int k, OutlierFacts *out, Error *err);

/* Index of the largest |w[i]| (the first of equals); 0 when n <= 1. The weight
 * "inject an outlier" multiplies, in a tensor or in one block. */
int64_t outliers_largest_index(const float *w, int64_t n);

#endif
