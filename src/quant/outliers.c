/* outliers.c — see outliers.h. The top k come from prune_mark_largest (the same
 * selection, with the same tie rule, as the outlier split of format.h), so the
 * weights listed here are exactly those +outK% would keep in FP16. */
#include "quant/outliers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/prune.h"

static int by_magnitude(const void *a, const void *b) {
    const OutlierEntry *x = a, *y = b;
    const float ax = fabsf(x->value), ay = fabsf(y->value);
    if (ax != ay) return ax > ay ? -1 : 1;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

Status outliers_facts(const float *w, int64_t rows, int64_t cols, int k, OutlierFacts *out, Error *err) {
    memset(out, 0, sizeof *out);
    if (rows <= 0 || cols <= 0) return error_set(err, ST_USAGE, "no weights to describe");
    const int64_t n = rows * cols;
    out->n = n;
    double sum = 0, max_abs = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += w[i];
        max_abs = fmax(max_abs, fabs((double)w[i]));
    }
    const double mean = sum / (double)n;
    double m2 = 0, m4 = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = (double)w[i] - mean, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m4 /= (double)n;
    out->mean = mean;
    out->std = sqrt(m2);
    out->max_abs = max_abs;
    out->max_over_std = m2 > 0 ? max_abs / out->std : 0.0;
    out->kurtosis = m2 > 0 ? m4 / (m2 * m2) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)w[i] - mean);
        out->beyond_3std += d > 3 * out->std;
        out->beyond_6std += d > 6 * out->std;
    }
    if (k > OUTLIERS_TOP_MAX) k = OUTLIERS_TOP_MAX;
    if (k > n) k = (int)n;
    if (k <= 0) return ST_OK;
    uint8_t *mask = malloc((size_t)n);
    if (!mask) return error_set(err, ST_NOMEM, "out of memory describing %lld weights", (long long)n);
    memset(mask, MASK_KEEP, (size_t)n);
    Status st = prune_mark_largest(w, n, k, mask, err);
    for (int64_t i = 0; st == ST_OK && i < n && out->n_top < k; i++)
        if (mask[i] == MASK_OUTLIER) out->top[out->n_top++] = (OutlierEntry){w[i], i / cols, i % cols};
    free(mask);
    qsort(out->top, (size_t)out->n_top, sizeof out->top[0], by_magnitude);
    return st;
}

int64_t outliers_largest_index(const float *w, int64_t n) {
    int64_t best = 0;
    for (int64_t k = 1; k < n; k++)
        if (fabsf(w[k]) > fabsf(w[best])) best = k;
    return best;
}
