/* sensitivity.c — which tensors (or blocks) a format hurts most, and a plan that
 * spends a size budget where it removes the most damage.
 *
 * Called by the TUI's Sensitivity screen (on its worker thread) and by the batch
 * commands. A scan quantizes one unit at a time (everything else stays F32),
 * measures KL divergence and top-1 agreement against FP32 with eval_quality(),
 * and sorts the units most sensitive first. plan_auto() turns such a scan into a
 * plan: all tensors at the cheap format, then upgrades in order of measured KL
 * removed per extra byte while the plan fits the budget.
 *
 * Cost: one pass of the unit's plan per unit; FP32 runs once and its logits are
 * kept (EvalBaseCache) when they fit in EVAL_CACHE_MAX_BYTES, and re-run for
 * every unit otherwise.
 */
#include "model/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"

/* ---------------------------------------------------------------- units */

/* Whether tensor t belongs to the unit: the tensor itself, or every quantizable
 * tensor of the unit's block. */
static bool unit_has(const Model *m, const SensitivityItem *it, int t) {
    if (!plan_is_quantizable(&m->tensors[t])) return false;
    return it->tensor >= 0 ? t == it->tensor : m->tensors[t].layer == it->layer;
}

/* Fills units (caller frees) for a scan: one per quantizable tensor, or one per
 * block plus one per quantizable tensor outside the blocks (token_embd, output). */
static Status make_units(const Model *m, SensitivityUnit unit, SensitivityItem **out, int *n_out,
                         Error *err) {
    int max = m->n_tensors + m->cfg.n_layers;
    SensitivityItem *u = calloc((size_t)max + 1, sizeof *u);
    if (!u) return error_set(err, ST_NOMEM, "out of memory for a sensitivity scan");
    int n = 0;
    if (unit == SENS_BLOCK) {
        for (int l = 0; l < m->cfg.n_layers; l++) {
            bool any = false;
            for (int t = 0; t < m->n_tensors && !any; t++)
                any = plan_is_quantizable(&m->tensors[t]) && m->tensors[t].layer == l;
            if (!any) continue;
            u[n].tensor = -1;
            u[n].layer = l;
            snprintf(u[n].name, sizeof u[n].name, "blk.%d", l);
            n++;
        }
    }
    for (int t = 0; t < m->n_tensors; t++) {
        const ModelTensor *mt = &m->tensors[t];
        if (!plan_is_quantizable(mt) || (unit == SENS_BLOCK && mt->layer >= 0)) continue;
        u[n].tensor = t;
        u[n].layer = -1;
        snprintf(u[n].name, sizeof u[n].name, "%s", mt->name);
        n++;
    }
    *out = u;
    *n_out = n;
    return ST_OK;
}

/* F32 bytes minus `f` bytes over the unit's tensors. */
static double unit_bytes_saved(const Model *m, const SensitivityItem *it, Format f) {
    double saved = 0;
    for (int t = 0; t < m->n_tensors; t++) {
        if (!unit_has(m, it, t)) continue;
        const ModelTensor *mt = &m->tensors[t];
        saved += format_tensor_bytes(FORMAT_FP32, mt->rows, mt->cols) - format_tensor_bytes(f, mt->rows, mt->cols);
    }
    return saved;
}

/* ---------------------------------------------------------------- scan */

/* Most sensitive first; ties in a fixed order (block units, then by tensor). */
static int by_kl_desc(const void *a, const void *b) {
    const SensitivityItem *x = a, *y = b;
    if (x->kl_mean != y->kl_mean) return x->kl_mean > y->kl_mean ? -1 : 1;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    return (x->layer > y->layer) - (x->layer < y->layer);
}

Status eval_sensitivity(const Model *m, QuantCache *cache, Format target, SensitivityUnit unit,
                        const EvalSet *set, Pool *pool, const Progress *progress,
                        SensitivityItem **items, int *n_items, Error *err) {
    *items = NULL;
    *n_items = 0;
    char fname[48];
    if (!format_is_supported(target))
        return error_set(err, ST_UNSUPPORTED, "quantlab cannot produce %s weights",
                         format_name(target, fname, sizeof fname));
    SensitivityItem *u = NULL;
    int n = 0;
    Status st = make_units(m, unit, &u, &n, err);
    if (st) return st;
    if (n == 0) {
        free(u);
        return error_set(err, ST_USAGE, "%s: no tensor can be quantized", m->path);
    }
    Weights base = {0};
    if ((st = weights_init_f32(&base, m, err))) {
        free(u);
        return st;
    }
    EvalBaseCache fp32; /* FP32 runs once; every unit reads its logits */
    eval_base_cache_init(&fp32, set, m->cfg.vocab_size);
    for (int i = 0; i < n && st == ST_OK; i++) {
        if (!progress_update(progress, (double)i / n, u[i].name)) {
            st = error_set(err, ST_CANCELLED, "sensitivity scan cancelled");
            break;
        }
        Plan p = {0};
        Weights w = {0};
        QualityResult r;
        /* eval_quality's progress mapped into the unit's share of the scan */
        ProgressSpan span;
        Progress sub = progress_span(&span, progress, (double)i / n, (double)(i + 1) / n, u[i].name);
        if ((st = plan_init(&p, m, FORMAT_FP32, err)) == ST_OK) {
            for (int t = 0; t < m->n_tensors; t++)
                if (unit_has(m, &u[i], t)) p.fmt[t] = target;
            if ((st = weights_init_plan(&w, m, &p, cache, err)) == ST_OK &&
                (st = eval_quality_cached(&base, &w, set, &fp32, pool, &sub, &r, err)) == ST_OK) {
                u[i].kl_mean = r.kl_mean;
                u[i].top1_agree = r.top1_agree;
                u[i].bytes_saved = unit_bytes_saved(m, &u[i], target);
            } else if (st != ST_CANCELLED) {
                error_prefix(err, "%s", u[i].name);
            }
        }
        weights_free(&w);
        plan_free(&p);
    }
    weights_free(&base);
    eval_base_cache_free(&fp32);
    if (st == ST_OK && !progress_update(progress, 1.0, "done"))
        st = error_set(err, ST_CANCELLED, "sensitivity scan cancelled");
    if (st != ST_OK) {
        free(u);
        return st;
    }
    qsort(u, (size_t)n, sizeof *u, by_kl_desc);
    *items = u;
    *n_items = n;
    return ST_OK;
}

/* ---------------------------------------------------------------- plan_auto */

typedef struct Upgrade {
    int item;     /* index into items */
    double extra; /* bytes high costs over low for the unit */
    double score; /* KL removed per extra byte */
} Upgrade;

static int by_score_desc(const void *a, const void *b) {
    const Upgrade *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

Status plan_auto(Plan *p, const Model *m, const SensitivityItem *items, int n_items, Format low,
                 Format high, double budget_bytes, Error *err) {
    memset(p, 0, sizeof *p);
    char lname[48], hname[48], b1[32], b2[32];
    format_name(low, lname, sizeof lname);
    format_name(high, hname, sizeof hname);
    if (!format_is_supported(low)) return error_set(err, ST_UNSUPPORTED, "quantlab cannot produce %s weights", lname);
    if (!format_is_supported(high)) return error_set(err, ST_UNSUPPORTED, "quantlab cannot produce %s weights", hname);
    if (n_items < 0 || (n_items > 0 && !items)) return error_set(err, ST_USAGE, "no sensitivities given");
    for (int i = 0; i < n_items; i++) {
        const SensitivityItem *it = &items[i];
        bool ok = it->tensor >= 0 ? it->tensor < m->n_tensors && plan_is_quantizable(&m->tensors[it->tensor])
                                  : it->layer >= 0 && it->layer < m->cfg.n_layers;
        if (!ok) return error_set(err, ST_USAGE, "sensitivity '%s' names no quantizable tensor or block of %s", it->name, m->path);
        double want = unit_bytes_saved(m, it, low);
        if (fabs(it->bytes_saved - want) > 0.5)
            return error_set(err, ST_USAGE, "sensitivity '%s' was not measured at %s (it saves %.0f bytes; %s would save %.0f)",
                             it->name, lname, it->bytes_saved, lname, want);
    }
    Status st = plan_init(p, m, low, err);
    if (st) return st;
    const double smallest = plan_bytes(p, m);
    if (smallest > budget_bytes) {
        plan_free(p);
        return error_set(err, ST_USAGE, "budget %s bytes is below the smallest plan (%s bytes at %s)",
                         fmt_count(b1, sizeof b1, (int64_t)ceil(budget_bytes)),
                         fmt_count(b2, sizeof b2, (int64_t)ceil(smallest)), lname);
    }
    Upgrade *up = calloc((size_t)n_items + 1, sizeof *up);
    if (!up) {
        plan_free(p);
        return error_set(err, ST_NOMEM, "out of memory for a plan");
    }
    for (int i = 0; i < n_items; i++) {
        up[i].item = i;
        up[i].extra = unit_bytes_saved(m, &items[i], low) - unit_bytes_saved(m, &items[i], high);
        /* an upgrade that costs nothing goes first */
        up[i].score = up[i].extra > 0 ? items[i].kl_mean / up[i].extra : INFINITY;
    }
    qsort(up, (size_t)n_items, sizeof *up, by_score_desc);
    /* Greedy: take each upgrade that still fits, in order; a big one that does not
     * fit does not stop smaller ones further down. The real plan size decides. */
    Format *saved = malloc(((size_t)m->n_tensors + 1) * sizeof *saved);
    if (!saved) {
        free(up);
        plan_free(p);
        return error_set(err, ST_NOMEM, "out of memory for a plan");
    }
    for (int k = 0; k < n_items; k++) {
        const SensitivityItem *it = &items[up[k].item];
        memcpy(saved, p->fmt, (size_t)m->n_tensors * sizeof *saved);
        for (int t = 0; t < m->n_tensors; t++)
            if (unit_has(m, it, t)) p->fmt[t] = high;
        if (plan_bytes(p, m) > budget_bytes) memcpy(p->fmt, saved, (size_t)m->n_tensors * sizeof *saved);
    }
    free(saved);
    free(up);
    return ST_OK;
}
