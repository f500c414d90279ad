/* tensor_plot.h — one tensor's two pictures: its weights with the quantization
 * grid and the values they were rounded to, and its rounding-error histogram.
 *
 * Shared by the Histogram screen's "save as PNG" key and `quantlab plot hist` /
 * `plot error`, so both draw the same chart from the same numbers. Built on
 * chart_histogram / chart_error_histogram (chart.h); the caller says what the
 * numbers are (names, caption) and where the levels come from.
 */
#ifndef QL_PLOT_TENSOR_PLOT_H
#define QL_PLOT_TENSOR_PLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "plot/canvas.h"
#include "quant/stats.h"

/* Bars in a saved histogram: about 9 pixels each on a 1280x720 slide. */
enum { TENSOR_PLOT_BINS = 120, TENSOR_PLOT_MAX_LEVELS = 64 };

typedef enum TensorPlotKind { TENSOR_PLOT_WEIGHTS = 0, TENSOR_PLOT_ERRORS = 1 } TensorPlotKind;

typedef struct TensorPlot {
    const char *tensor_name;   /* "blk.0.attn_q.weight" */
    const char *format_label;  /* "INT4 (Q4_0)" */
    const float *orig;         /* (n) the original weights */
    const float *deq;          /* (n) what they decode to in the format */
    int64_t n;
    double lo, hi;             /* weights chart x range; lo >= hi: both series' whole range */
    const double *levels;      /* the grid to draw (may be NULL); more than
                                  TENSOR_PLOT_MAX_LEVELS are not drawn (the axis says so) */
    int n_levels;
    const char *levels_name;   /* legend text: "Q4_0 levels of block 0 (row 0, values 0-31)" */
    bool log_scale;            /* counts on a log axis */
    bool has_stats;            /* draw RMSE / SQNR / max |err| in the error chart */
    WeightStats stats;
    const char *caption;       /* "model: stories260K   plan: ..." */
} TensorPlot;

/* Draws one chart of p on c (which must already be allocated; 1280x720 for a
 * slide). TENSOR_PLOT_WEIGHTS: original weights as solid bars, the decoded values
 * as a hatched outline, the levels as dashed lines. TENSOR_PLOT_ERRORS: the
 * histogram of decoded - original over +-max |error|. Errors: ST_USAGE when
 * there is nothing to draw ("no rounding error: ... keeps every weight exactly"
 * for an error chart of identical values), ST_NOMEM, or the chart's. */
Status tensor_plot_draw(Canvas *c, TensorPlotKind kind, const TensorPlot *p, Error *err);

/* tensor_plot_draw on a fresh 1280x720 canvas, written with plot_write_png. */
Status tensor_plot_png(const char *path, TensorPlotKind kind, const TensorPlot *p, Error *err);

#endif
