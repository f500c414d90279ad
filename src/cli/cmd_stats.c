/* cmd_stats.c — `quantlab stats`: what a plan does to every tensor's weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/calib.h"
#include "model/eval.h"
#include "model/qcache.h"
#include "quant/outliers.h"
#include "quant/stats.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    {"hist", 0, "NAME", "print text histograms of one tensor: weights, rounded values, errors"},
    {"bins", 0, "N", "bars in each histogram (default 32)"},
    {"outliers", 0, NULL, "the largest weights of each matrix and how far they sit from the rest"},
    {"tensor", 0, "NAME", "with --outliers: one tensor, listing its largest weights"},
    {"top", 0, "N", "with --outliers --tensor: how many to list (default 10, at most 64)"},
    {"activations", 0, NULL, "the range of every matrix's inputs while the FP32 model reads --text"},
    {"text", 0, "FILE", "with --activations: the text (default: the bundled eval.txt)"},
    CLI_OPT_CALIB,
    CLI_OPT_CALIB_TOKENS,
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

/* ------------------------------------------------------------ outliers */

static Status print_outliers(const Model *m, const char *only, int top, Error *err) {
    int shown = 0;
    printf("%-26s %-9s %10s %10s %8s %9s %8s %8s\n", "tensor", "shape", "max|w|", "std", "max/std", "kurtosis",
           ">3 std", ">6 std");
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!plan_is_quantizable(t) || (only && strcmp(only, t->name) != 0)) continue;
        OutlierFacts f;
        Status st = outliers_facts(t->f32, t->rows, t->cols, only ? top : 0, &f, err);
        if (st != ST_OK) return st;
        char shape[32];
        model_tensor_shape(t, shape, sizeof shape);
        printf("%-26s %-9s %10.4g %10.4g %8.1f %9.2f %8lld %8lld\n", t->name, shape, f.max_abs, f.std, f.max_over_std,
               f.kurtosis, (long long)f.beyond_3std, (long long)f.beyond_6std);
        if (only) {
            printf("\nthe %d largest weights (row = output, column = input):\n", f.n_top);
            for (int k = 0; k < f.n_top; k++)
                printf("  %2d. %+11.6f at row %lld, column %lld (|w| = %.1f std)\n", k + 1, f.top[k].value,
                       (long long)f.top[k].row, (long long)f.top[k].col, f.std > 0 ? fabs(f.top[k].value) / f.std : 0.0);
        }
        shown++;
    }
    if (only && shown == 0)
        return error_set(err, ST_USAGE, "%s: no weight matrix named '%s' (see quantlab info)", m->path, only);
    printf("\nmax/std: max|w| in standard deviations. A per-tensor INT4 scale has 7 steps from 0 to max|w|:\n"
           "the larger max/std, the fewer of them the typical weight gets.\n"
           "kurtosis: 3 for a Gaussian; heavier tails give more. A Gaussian has 0.27%% of its values beyond\n"
           "3 std and practically none beyond 6.\n");
    return ST_OK;
}

static Status print_activations(const CliArgs *a, const Model *m, Pool *pool, Error *err) {
    char path[4096];
    Status st = cli_text_path(a, path, sizeof path, err);
    if (st != ST_OK) return st;
    const char *arg = cli_str(a, "text", NULL);
    const char *name = arg ? arg : file_basename(path);
    EvalSet set = {0};
    Calibration cal = {0};
    bool *none = calloc((size_t)m->n_tensors + 1, sizeof *none); /* ranges only, no GPTQ statistics */
    Progress progress = cli_progress(a->cmd);
    CalibOptions opt = {none, 0};
    st = none ? ST_OK : error_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK && (st = cli_read_eval_set(path, name, m, 0, &set, err)) == ST_OK)
        st = calib_run(&cal, m, &set, name, &opt, pool, &progress, err);
    cli_progress_end(&progress);
    if (st == ST_OK) {
        char b1[32];
        printf("inputs of every weight matrix while the FP32 model reads %s (%s tokens)\n\n", name,
               fmt_count(b1, sizeof b1, cal.n_tokens));
        printf("%-34s %5s %10s %10s %10s %10s %12s\n", "matrix input (read by)", "width", "min", "max", "RMS",
               "max|x|", "top channel");
        for (int k = 0; k < cal.n_sites; k++) {
            const CalibSite *site = &cal.sites[k];
            char who[64];
            const ModelTensor *t = &m->tensors[site->owner];
            int readers = 0;
            for (int i = 0; i < m->n_tensors; i++) readers += cal.site_of[i] == k;
            snprintf(who, sizeof who, "%s%s", t->name, readers > 1 ? (readers == 3 ? " (+k, v)" : " (+up)") : "");
            /* the median channel's max |x|, to show how far the top channel sits */
            float *c = malloc((size_t)site->n * sizeof *c);
            double median = 0;
            if (c) {
                memcpy(c, site->chan_absmax, (size_t)site->n * sizeof *c);
                median = eval_percentile(c, (size_t)site->n, 0.5);
                free(c);
            }
            printf("%-34s %5lld %10.4g %10.4g %10.4g %10.4g %6.1fx med\n", who, (long long)site->n, site->min,
                   site->max, sqrt(site->sum_sq / ((double)site->count * (double)site->n)), site->absmax,
                   median > 0 ? site->absmax / median : 0.0);
        }
        printf("\ntop channel: the largest max|x| of one input channel over the median channel's max|x|\n"
               "(LLM.int8()'s outlier features are channels far above the rest).\n");
    }
    calib_free(&cal);
    evalset_free(&set);
    free(none);
    return st;
}

/* Pruning: how many weights are zero and what a sparse encoding would take. */
static void print_sparsity(const Plan *p, const Model *m) {
    double zeros = 0, n = 0, dense = 0, sparse = 0;
    bool any = false;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!t->f32) continue;
        const Format f = plan_is_quantizable(t) ? p->fmt[i] : FORMAT_FP32;
        any |= f.prune != PRUNE_NONE;
        zeros += (double)format_prune_count(f, t->rows, t->cols);
        n += (double)t->n_elements;
        dense += format_tensor_bytes(f, t->rows, t->cols);
        sparse += format_sparse_bytes(f, t->rows, t->cols);
    }
    if (!any) return;
    char b1[32], b2[32];
    printf("pruning: %.1f%% of all weights set to 0. Stored dense (as here and in GGUF) they still take %s bytes;\n"
           "a sparse encoding would take %s bytes (%.2f bits per weight): the kept values at their format's\n"
           "bits per weight plus the positions (2 bits per kept value for 2:4, as NVIDIA's sparse tensor cores\n"
           "store them; a 1-bit-per-weight bitmap for unstructured). Arithmetic, not a format quantlab writes.\n",
           100.0 * zeros / n, fmt_count(b1, sizeof b1, (int64_t)ceil(dense)), fmt_count(b2, sizeof b2, (int64_t)ceil(sparse)),
           sparse * 8.0 / n);
}

Status cmd_stats(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "stats", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "stats [-m FILE] [--plan FILE | --type T | --preset NAME] [--hist NAME] [--outliers [--tensor NAME]] [--activations [--text FILE]]",
                       "For every tensor: its format, bytes and bits per weight, and what rounding did to\n"
                       "it: RMSE, relative RMSE, SQNR (signal to quantization noise, in dB), the largest\n"
                       "error, the share of weights rounded to zero and how many distinct values remain.\n"
                       "Then the totals, and what a 7-billion-weight model would take at the same bits\n"
                       "per weight. --hist shows one tensor's histograms as text.\n\n"
                       "--outliers lists how far each matrix's largest weights sit from the rest (--tensor\n"
                       "NAME: one matrix, with its largest weights); --activations the range of every\n"
                       "matrix's inputs while the model reads a text. With a pruned plan (+prune50, +2:4)\n"
                       "the totals say what a sparse encoding would take.",
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
    if (cli_has(&a, "outliers")) {
        long top;
        if ((st = cli_int(&a, "top", 1, OUTLIERS_TOP_MAX, 10, &top, err))) goto done;
        st = print_outliers(m, cli_str(&a, "tensor", NULL), (int)top, err);
        goto done;
    }
    if (cli_has(&a, "activations")) {
        st = print_activations(&a, m, pool, err);
        goto done;
    }
    char calib_note[512];
    if ((st = cli_plan_cache(&a, m, &p, pool, &cache, calib_note, sizeof calib_note, err))) goto done;
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

    printf("%s under %s\n", m->name, desc);
    if (calib_note[0]) printf("calibration: %s\n", calib_note);
    printf("\n");
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
        model_tensor_shape(t, shape, sizeof shape);
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
    print_sparsity(&p, m);
done:
    qcache_delete(cache);
    plan_free(&p);
    model_close(m);
    pool_delete(pool);
    return st;
}
