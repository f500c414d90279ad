/* prune.c — magnitude selections for pruning and outlier splits (see prune.h).
 *
 * Each selection finds the threshold |w| of the k-th weight with a selection
 * pass (expected O(n)), then marks everything strictly beyond it and as many
 * weights equal to it as are still needed, in flat-index order: the result
 * depends on the weights only, never on how the selection went.
 */
#include "quant/prune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- k-th value */

/* Rearranges v so that v[k] is the value a sort would put there (Hoare-style
 * quickselect with a median-of-three pivot). */
static void select_kth(float *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        const int64_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi];
        float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return; /* v[j+1 .. i-1] all equal the pivot */
    }
}

/* |w| of the weight a sort of |w| over the MASK_KEEP entries would put at rank k
 * (0 = smallest). */
static Status kth_magnitude(const float *w, int64_t n, const uint8_t *mask, int64_t k, float *out,
                            Error *err) {
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return error_set(err, ST_NOMEM, "out of memory selecting weights by magnitude");
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!mask || mask[i] == MASK_KEEP) v[m++] = fabsf(w[i]);
    select_kth(v, m, k);
    *out = v[k];
    free(v);
    return ST_OK;
}

/* ----------------------------------------------------------- selections */

Status prune_mark_smallest(const float *w, int64_t n, int percent, uint8_t *mask, Error *err) {
    memset(mask, MASK_KEEP, (size_t)n);
    const int64_t k = n / 100 * percent + n % 100 * percent / 100;
    if (k <= 0) return ST_OK;
    float t;
    Status st = kth_magnitude(w, n, NULL, k - 1, &t, err);
    if (st != ST_OK) return st;
    int64_t marked = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabsf(w[i]) < t) {
            mask[i] = MASK_PRUNED;
            marked++;
        }
    for (int64_t i = n - 1; i >= 0 && marked < k; i--) /* ties: the later index goes first */
        if (fabsf(w[i]) == t) {
            mask[i] = MASK_PRUNED;
            marked++;
        }
    return ST_OK;
}

void prune_mark_2_4(const float *w, int64_t rows, int64_t cols, uint8_t *mask) {
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c0 = 0; c0 < cols; c0 += 4) {
            const int64_t len = cols - c0 < 4 ? cols - c0 : 4;
            const float *g = w + r * cols + c0;
            uint8_t *mk = mask + r * cols + c0;
            for (int64_t i = 0; i < len; i++) {
                /* kept when fewer than 2 others beat it: larger |w|, or equal and earlier */
                int beaten = 0;
                for (int64_t j = 0; j < len; j++)
                    if (j != i && (fabsf(g[j]) > fabsf(g[i]) || (fabsf(g[j]) == fabsf(g[i]) && j < i)))
                        beaten++;
                mk[i] = beaten < 2 ? MASK_KEEP : MASK_PRUNED;
            }
        }
    }
}

Status prune_mark_largest(const float *w, int64_t n, int64_t k, uint8_t *mask, Error *err) {
    if (k <= 0) return ST_OK;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) m += mask[i] == MASK_KEEP;
    if (k > m) k = m;
    float t;
    Status st = kth_magnitude(w, n, mask, m - k, &t, err); /* the k-th largest */
    if (st != ST_OK) return st;
    int64_t marked = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i] == MASK_KEEP && fabsf(w[i]) > t) {
            mask[i] = MASK_OUTLIER;
            marked++;
        }
    for (int64_t i = 0; i < n && marked < k; i++) /* ties: the earlier index first */
        if (mask[i] == MASK_KEEP && fabsf(w[i]) == t) {
            mask[i] = MASK_OUTLIER;
            marked++;
        }
    return ST_OK;
}

Status prune_mask_build(const float *w, int64_t rows, int64_t cols, Format f, uint8_t **mask,
                        Error *err) {
    *mask = NULL;
    if (f.prune == PRUNE_NONE && !f.split) return ST_OK;
    const int64_t n = rows * cols;
    uint8_t *m = malloc((size_t)(n > 0 ? n : 1));
    if (!m) return error_set(err, ST_NOMEM, "out of memory for a %lld x %lld weight mask", (long long)rows,
                             (long long)cols);
    memset(m, MASK_KEEP, (size_t)n);
    Status st = ST_OK;
    if (f.prune == PRUNE_UNSTRUCTURED) st = prune_mark_smallest(w, n, f.prune_pct, m, err);
    else if (f.prune == PRUNE_2_4) prune_mark_2_4(w, rows, cols, m);
    if (st == ST_OK && f.split) st = prune_mark_largest(w, n, format_outlier_count(f, rows, cols), m, err);
    if (st != ST_OK) {
        free(m);
        return st;
    }
    *mask = m;
    return ST_OK;
}
