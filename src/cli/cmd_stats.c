/* cmd_stats.c — `quantlab stats`: what a plan does to every tensor's weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/qcache.h"
#include "quant/stats.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    {"hist", 0, "NAME", "print text histograms of one tensor: weights, rounded values, errors"},
    {"bins", 0, "N", "bars in each histogram (default 32)"},
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

static void print_sqnr(double db) {
    if (isinf(db)) printf(" %7s", db > 0 ? "exact" : "-inf");
    else printf(" %7.1f", db);
}

/* One histogram as rows of '#'. */
static void print_hist(const char *title, const Histogram *h) {
    uint64_t top = stats_hist_max(h);
    double w = (h->hi - h->lo) / h->n_bins;
    printf("\n%s (%llu values", title, (unsigned long long)h->total);
    if (h->below || h->above)
        printf(", %llu below and %llu above the range", (unsigned long long)h->below, (unsigned long long)h->above);
    printf(")\n");
    for (int i = 0; i < h->n_bins; i++) {
        int len = top ? (int)((double)h->counts[i] * 50.0 / (double)top + 0.5) : 0;
        if (h->counts[i] && len == 0) len = 1;
        printf("  %+11.6f %-50.*s %llu\n", h->lo + (i + 0.5) * w, len,
               "##################################################", (unsigned long long)h->counts[i]);
    }
}

static Status print_histograms(const ModelTensor *t, const QTensor *q, int bins, Pool *pool, Error *err) {
    WeightStats s;
    stats_compute(t->f32, q->dequant, t->n_elements, pool, &s);
    double lo = s.min, hi = s.max;
    if (!(hi > lo)) hi = lo + 1e-6;
    double e = s.max_abs_err > 0 ? s.max_abs_err : 1e-9;
    Histogram h = {0};
    Status st = stats_hist_build(&h, t->f32, t->n_elements, lo, hi, bins, pool, err);
    if (st == ST_OK) print_hist("weights as stored in the file (float copy)", &h);
    stats_hist_free(&h);
    if (st == ST_OK) st = stats_hist_build(&h, q->dequant, t->n_elements, lo, hi, bins, pool, err);
    char name[48];
    char title[128];
    snprintf(title, sizeof title, "the values they became in %s (%lld distinct levels)",
             format_name(q->fmt, name, sizeof name), (long long)s.n_levels);
    if (st == ST_OK) print_hist(title, &h);
    stats_hist_free(&h);
    if (st == ST_OK) st = stats_hist_error(&h, t->f32, q->dequant, t->n_elements, -e, e, bins, pool, err);
    if (st == ST_OK) print_hist("rounding error (rounded value - weight)", &h);
    stats_hist_free(&h);
    if (st == ST_OK)
        printf("\nRMSE %.6g, relative RMSE %.2f%%, SQNR %.1f dB, max |error| %.6g, %.2f%% rounded to zero\n",
               s.rmse, 100 * s.rel_rmse, s.sqnr_db, s.max_abs_err, 100 * s.zeroed);
    return st;
}

Status cmd_stats(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "stats", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "stats [-m FILE] [--plan FILE | --type T | --preset NAME] [--hist NAME]",
                       "For every tensor: its format, bytes and bits per weight, and what rounding did to\n"
                       "it: RMSE, relative RMSE, SQNR (signal to quantization noise, in dB), the largest\n"
                       "error, the share of weights rounded to zero and how many distinct values remain.\n"
                       "Then the totals, and what a 7-billion-weight model would take at the same bits\n"
                       "per weight. --hist shows one tensor's histograms as text.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "stats: unexpected argument '%s'", a.pos[0]);
    long bins;
    if ((st = cli_int(&a, "bins", 2, 400, 32, &bins, err))) return st;
    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads;
    Plan p = {0};
    QuantCache *cache = NULL;
    bool given;
    char desc[128];
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) || (st = cli_open_model(&a, false, &m, err)) ||
        (st = cli_plan(&a, m, &p, &given, desc, sizeof desc, err)))
        goto done;
    cache = qcache_new(m, pool);
    if (!cache) {
        st = error_set(err, ST_NOMEM, "out of memory");
        goto done;
    }
    const char *hist = cli_str(&a, "hist", NULL);
    if (hist) {
        int i = model_find_tensor(m, hist);
        if (i < 0 || !m->tensors[i].f32) {
            st = error_set(err, ST_USAGE, "%s: no tensor named '%s' (see quantlab info)", m->path, hist);
            goto done;
        }
        const QTensor *q;
        Format f = plan_is_quantizable(&m->tensors[i]) ? p.fmt[i] : FORMAT_FP32;
        if ((st = qcache_get(cache, i, f, &q, err))) goto done;
        st = print_histograms(&m->tensors[i], q, (int)bins, pool, err);
        goto done;
    }

    printf("%s under %s\n\n", m->name, desc);
    printf("%-26s %-9s %-14s %10s %6s %10s %6s %7s %9s %7s %6s\n", "tensor", "shape", "format", "bytes",
           "bits/w", "RMSE", "rel%", "SQNR dB", "max|err|", "zeroed%", "levels");
    double sse = 0, ssw = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!t->f32) continue;
        Format f = plan_is_quantizable(t) ? p.fmt[i] : FORMAT_FP32;
        const QTensor *q;
        if ((st = qcache_get(cache, i, f, &q, err))) goto done;
        WeightStats s;
        stats_compute(t->f32, q->dequant, t->n_elements, pool, &s);
        sse += s.rmse * s.rmse * (double)s.n;
        ssw += (s.std * s.std + s.mean * s.mean) * (double)s.n;
        char shape[32], name[48], bytes[32];
        if (t->n_dims == 1) snprintf(shape, sizeof shape, "%lld", (long long)t->cols);
        else snprintf(shape, sizeof shape, "%lldx%lld", (long long)t->cols, (long long)t->rows);
        printf("%-26s %-9s %-14s %10s %6.2f %10.3g %6.2f", t->name, shape, format_name(f, name, sizeof name),
               fmt_count(bytes, sizeof bytes, (int64_t)ceil(q->bytes)), q->bytes * 8.0 / (double)t->n_elements,
               s.rmse, 100 * s.rel_rmse);
        print_sqnr(s.sqnr_db);
        printf(" %9.3g %7.2f %6lld%s\n", s.max_abs_err, 100 * s.zeroed, (long long)s.n_levels,
               s.n_levels > STATS_MAX_LEVELS ? "+" : "");
    }
    double bytes = plan_bytes(&p, m), f32 = plan_bytes_f32(m), bpw = plan_bits_per_weight(&p, m);
    char b1[32], b2[32], b3[32], b4[32];
    printf("\ntotal: %s weights, %s bytes (%s), %.2f bits per weight; FP32 is %s (%.1fx smaller)\n",
           fmt_count(b1, sizeof b1, m->n_params), fmt_count(b2, sizeof b2, (int64_t)ceil(bytes)),
           fmt_bytes(b3, sizeof b3, bytes), bpw, fmt_bytes(b4, sizeof b4, f32), f32 / bytes);
    printf("overall: RMSE %.4g, SQNR ", sqrt(sse / (double)m->n_params));
    if (sse == 0) printf("exact (no rounding)\n");
    else printf("%.1f dB\n", 10 * log10(ssw / sse));
    printf("a 7-billion-weight model at %.2f bits per weight would take %s (arithmetic, not measured)\n", bpw,
           fmt_bytes(b1, sizeof b1, plan_projected_bytes(bpw, 7e9)));
done:
    qcache_delete(cache);
    plan_free(&p);
    model_close(m);
    pool_delete(pool);
    return st;
}
