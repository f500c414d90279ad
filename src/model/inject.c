/* inject.c — see inject.h. */
#include "model/inject.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/plan.h"

Status model_inject_outlier(Model *m, QuantCache *c, WeightEdits *log, int tensor, int64_t row, int64_t col,
                            double factor, Error *err) {
    if (tensor < 0 || tensor >= m->n_tensors || !plan_is_quantizable(&m->tensors[tensor]))
        return error_set(err, ST_USAGE, "outliers can be injected into weight matrices only");
    ModelTensor *t = &m->tensors[tensor];
    if (row < 0 || row >= t->rows || col < 0 || col >= t->cols)
        return error_set(err, ST_USAGE, "%s has rows 0..%lld and columns 0..%lld, not (%lld, %lld)", t->name,
                         (long long)t->rows - 1, (long long)t->cols - 1, (long long)row, (long long)col);
    const int64_t i = row * t->cols + col;
    const double product = (double)t->f32[i] * factor;
    if (!isfinite(product) || fabs(product) > FLT_MAX) /* checked before the conversion, which would be undefined */
        return error_set(err, ST_USAGE, "%s: %g times %g is not a finite float", t->name, (double)t->f32[i], factor);
    const float value = (float)product;
    if (log->n == log->cap) {
        int cap = log->cap ? log->cap * 2 : 8;
        WeightEdit *items = realloc(log->items, (size_t)cap * sizeof *items);
        if (!items) return error_set(err, ST_NOMEM, "out of memory");
        log->items = items;
        log->cap = cap;
    }
    log->items[log->n++] = (WeightEdit){tensor, i, t->f32[i], value};
    t->f32[i] = value;
    if (c) qcache_mark_edited(c, tensor, true);
    return ST_OK;
}

void model_restore_weights(Model *m, QuantCache *c, WeightEdits *log) {
    for (int k = log->n - 1; k >= 0; k--) {
        const WeightEdit *e = &log->items[k];
        m->tensors[e->tensor].f32[e->index] = e->original;
    }
    for (int k = 0; k < log->n; k++) {
        const int tensor = log->items[k].tensor;
        bool seen = false;
        for (int j = 0; j < k && !seen; j++) seen = log->items[j].tensor == tensor;
        if (!seen && c) qcache_mark_edited(c, tensor, false);
    }
    log->n = 0;
}

void weight_edits_free(WeightEdits *log) {
    if (!log) return;
    free(log->items);
    memset(log, 0, sizeof *log);
}
