/* tensor_plot.c — one tensor's weights and rounding-error charts (see tensor_plot.h). */
#include "plot/tensor_plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/chart.h"
#include "plot/png_write.h"

static void range_of(const float *x, int64_t n, double *lo, double *hi) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        if (x[i] < *lo) *lo = x[i];
        if (x[i] > *hi) *hi = x[i];
    }
}

static Status draw_weights(Canvas *c, const TensorPlot *p, Error *err) {
    double lo = p->lo, hi = p->hi;
    if (!(hi > lo)) {
        lo = INFINITY;
        hi = -INFINITY;
        range_of(p->orig, p->n, &lo, &hi);
        range_of(p->deq, p->n, &lo, &hi);
        if (!(hi > lo)) { /* every weight equal: a narrow window around it */
            double pad = lo != 0 && isfinite(lo) ? fabs(lo) * 0.01 : 1e-3;
            lo = (isfinite(lo) ? lo : 0) - pad;
            hi = lo + 2 * pad;
        }
    }
    Histogram h = {0}, ov = {0};
    Status st = stats_hist_build(&h, p->orig, p->n, lo, hi, TENSOR_PLOT_BINS, NULL, err);
    if (st == ST_OK) st = stats_hist_build(&ov, p->deq, p->n, lo, hi, TENSOR_PLOT_BINS, NULL, err);
    if (st != ST_OK) {
        stats_hist_free(&h);
        return st;
    }
    char title[256], x_label[160], ov_name[128];
    snprintf(title, sizeof title, "Weights of %s in %s", p->tensor_name, p->format_label);
    snprintf(ov_name, sizeof ov_name, "after rounding (what the model uses)");
    bool draw_levels = p->n_levels > 0 && p->n_levels <= TENSOR_PLOT_MAX_LEVELS;
    if (p->n_levels > TENSOR_PLOT_MAX_LEVELS)
        snprintf(x_label, sizeof x_label, "weight value (%d levels: too close together to draw)", p->n_levels);
    else
        snprintf(x_label, sizeof x_label, "weight value");
    HistogramSpec spec = {
        .hist = &h,
        .hist_name = "original weights",
        .overlay = &ov,
        .overlay_name = ov_name,
        .levels = draw_levels ? p->levels : NULL,
        .n_levels = draw_levels ? p->n_levels : 0,
        .levels_name = p->levels_name,
        .y_scale = p->log_scale ? CHART_LOG : CHART_LINEAR,
        .labels = {title, x_label, p->log_scale ? "weights in the bar (log scale)" : "weights in the bar",
                   p->caption},
    };
    st = chart_histogram(c, &spec, NULL, err);
    stats_hist_free(&h);
    stats_hist_free(&ov);
    return st;
}

static Status draw_errors(Canvas *c, const TensorPlot *p, Error *err) {
    double e = 0;
    for (int64_t i = 0; i < p->n; i++) {
        double d = fabs((double)p->deq[i] - (double)p->orig[i]);
        if (isfinite(d) && d > e) e = d;
    }
    if (!(e > 0))
        return error_set(err, ST_USAGE, "no rounding error: %s keeps every weight of %s exactly",
                         p->format_label, p->tensor_name);
    Histogram h = {0};
    Status st = stats_hist_error(&h, p->orig, p->deq, p->n, -e, e, TENSOR_PLOT_BINS, NULL, err);
    if (st != ST_OK) return st;
    char title[256], name[128];
    snprintf(title, sizeof title, "Rounding error of %s in %s", p->tensor_name, p->format_label);
    snprintf(name, sizeof name, "rounded - original");
    ErrorHistogramSpec spec = {
        .hist = &h,
        .hist_name = name,
        .has_stats = p->has_stats,
        .rmse = p->stats.rmse,
        .sqnr_db = p->stats.sqnr_db,
        .max_abs_err = p->stats.max_abs_err,
        .y_scale = p->log_scale ? CHART_LOG : CHART_LINEAR,
        .labels = {title, "error: rounded value - original weight",
                   p->log_scale ? "weights in the bar (log scale)" : "weights in the bar", p->caption},
    };
    st = chart_error_histogram(c, &spec, NULL, err);
    stats_hist_free(&h);
    return st;
}

Status tensor_plot_draw(Canvas *c, TensorPlotKind kind, const TensorPlot *p, Error *err) {
    if (p->n <= 0) return error_set(err, ST_USAGE, "%s: no weights to draw", p->tensor_name);
    return kind == TENSOR_PLOT_ERRORS ? draw_errors(c, p, err) : draw_weights(c, p, err);
}

Status tensor_plot_png(const char *path, TensorPlotKind kind, const TensorPlot *p, Error *err) {
    Canvas c = {0};
    Status st = canvas_init(&c, CHART_DEFAULT_W, CHART_DEFAULT_H, chart_colour(CHART_BACKGROUND), err);
    if (st == ST_OK) st = tensor_plot_draw(&c, kind, p, err);
    if (st == ST_OK) st = plot_write_png(&c, path, err);
    canvas_free(&c);
    return st;
}
