/* chart.h — the four charts quantlab draws, rendered into a Canvas.
 *
 * Called by the `plot` command (which saves them with plot_write_png) and by the
 * TUI. Every chart takes plain numbers and strings, not model objects, so tests
 * can draw one from numbers worked by hand and check the pixels.
 *
 * Every chart has a title, labelled axes with tick labels on round numbers
 * (1, 2, 5 x 10^k), a legend when it shows more than one kind of mark, and a
 * caption line at the bottom naming the model and plan (the caller's strings).
 * The default size is a 1280x720 slide. Colours are the Okabe-Ito palette,
 * which stays distinct for colour-blind viewers and on a washed-out projector;
 * a second series always differs in pattern or marker shape too, never by
 * colour alone.
 *
 * Geometry (the "documented plot area"): with text scale
 *     s = clamp(min(W / 640, H / 360), 1, 8)      (integer division; 2 at 1280x720)
 * the histogram, error-histogram and scatter charts put the plot area at
 *     left 76s, right margin 28s, top 32s + 16, bottom margin 64s
 * — 152, 56, 80 and 128 pixels at 1280x720, giving a 1072x512 area at (152, 80).
 * The bar chart has the same top, right and bottom; its left margin is
 * 28s + the width of its name column (see chart_bars).
 * Axes are drawn outside the area: the x axis starts on row y + h, the y axis
 * ends on column x - 1.
 *
 * Data to pixels (chart_map_x / chart_map_y), with t(v) = v, or log10(v) on a
 * log axis:
 *     px(v) = x + (t(v) - t(x_lo)) / (t(x_hi) - t(x_lo)) * w
 *     py(v) = y + h - (t(v) - t(y_lo)) / (t(y_hi) - t(y_lo)) * h
 * rounded to the nearest integer. So x_lo maps to column x and x_hi to x + w
 * (one past the area); y_lo maps to row y + h (the x axis) and y_hi to row y.
 * A histogram bar for bin [a, b) with count n fills columns px(a) .. px(b) - 1
 * (px(b) - 2 when bars are 6 pixels or wider: the last column is left as a gap)
 * and rows py(n) .. y + h - 1.
 */
#ifndef QL_PLOT_CHART_H
#define QL_PLOT_CHART_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "plot/canvas.h"
#include "quant/stats.h"

enum { CHART_DEFAULT_W = 1280, CHART_DEFAULT_H = 720 };

/* ------------------------------------------------------------- colours --- */

/* Colours by role, from one table (Okabe & Ito, "Color Universal Design", 2008). */
typedef enum ChartRole {
    CHART_BACKGROUND = 0, /* #FFFFFF */
    CHART_TEXT,           /* #000000: titles, labels, tick labels */
    CHART_AXIS,           /* #000000: axis lines and tick marks */
    CHART_GRID,           /* #DDDDDD: light lines behind the data at the y ticks */
    CHART_MUTED,          /* #555555: caption, Pareto frontier, the zero line */
    CHART_SERIES,         /* #0072B2 blue: the first series, solid */
    CHART_SERIES_2,       /* #D55E00 vermillion: the second series, hatched / diamonds */
    CHART_LEVELS,         /* #000000: dashed lines at the quantization levels */
    CHART_HIGHLIGHT,      /* #D55E00 vermillion: the highlighted point, a larger diamond */
    CHART_BOX,            /* #F4F4F4: legend and figure boxes */
    CHART_ROLE_COUNT
} ChartRole;

Rgb chart_colour(ChartRole role);

/* ------------------------------------------------------------ geometry --- */

typedef enum ChartScale { CHART_LINEAR = 0, CHART_LOG = 1 } ChartScale;

typedef struct PlotRect {
    int x, y, w, h; /* columns x .. x+w-1, rows y .. y+h-1 */
} PlotRect;

/* What a drawn chart's axes mean: enough to map data to pixels and back. */
typedef struct ChartFrame {
    PlotRect area;
    double x_lo, x_hi;          /* data at the left / right edge of the area */
    double y_lo, y_hi;          /* data at the bottom / top edge */
    ChartScale x_scale, y_scale;
    int text_scale;             /* s above */
} ChartFrame;

/* s for a canvas of w x h (see the top of this file). */
int chart_text_scale(int canvas_w, int canvas_h);
/* The plot area of the histogram, error-histogram and scatter charts. */
PlotRect chart_plot_area(int canvas_w, int canvas_h);
/* Data value -> pixel column / row, by the formulas above. On a log axis a value
 * <= 0 maps to the low edge. Values outside the range map outside the area. */
int chart_map_x(const ChartFrame *f, double v);
int chart_map_y(const ChartFrame *f, double v);

/* --------------------------------------------------------------- texts --- */

/* The caller's words. Any may be NULL (nothing drawn). Text is UTF-8; what is
 * not printable ASCII shows as '?'. Long text is drawn smaller, then cut with "...". */
typedef struct ChartLabels {
    const char *title;   /* e.g. "Weights of blk.0.attn_q.weight" */
    const char *x_label; /* e.g. "weight value" */
    const char *y_label; /* e.g. "count" (drawn reading upwards) */
    const char *caption; /* e.g. "model: stories15M.gguf   plan: all Q4_0 (4.5 bits/weight)" */
} ChartLabels;

/* -------------------------------------------------------------- charts --- */

/* Every chart function clears the whole canvas and draws on it; *frame (may be
 * NULL) receives the axes used. Errors: ST_USAGE when the canvas is too small
 * for a plot area of 16x16 pixels or the data has no finite range, ST_NOMEM; the
 * canvas content is then unspecified. The message starts with "chart: ". */

typedef struct HistogramSpec {
    const Histogram *hist;        /* required: solid bars in CHART_SERIES */
    const char *hist_name;        /* legend text, e.g. "original (F32)" */
    const Histogram *overlay;     /* optional: hatched step outline in CHART_SERIES_2 */
    const char *overlay_name;     /* e.g. "after Q4_0 round trip" */
    const double *levels;         /* optional: dashed vertical lines at these values */
    int n_levels;
    const char *levels_name;      /* e.g. "Q4_0 levels (block 0)" */
    ChartScale y_scale;           /* CHART_LOG: count 0 draws no bar */
    ChartLabels labels;
} HistogramSpec;

/* Bars of spec->hist over x = [lo, hi] (the union of both histograms' ranges).
 * Linear y: from 0 to the smallest multiple of the tick step >= 1.05 x the
 * largest count, the step being the smallest 1, 2, 5 x 10^k >= 1.05 x max / 5.
 * Log y: from 10^(floor(log10(smallest non-zero count)) - 0.5) to
 * 10^ceil(log10(1.05 x largest count)), so a count of 1 still shows. Levels
 * outside [lo, hi] are not drawn. */
Status chart_histogram(Canvas *c, const HistogramSpec *spec, ChartFrame *frame, Error *err);

typedef struct ErrorHistogramSpec {
    const Histogram *hist;        /* required: bins over e = dequantized - original */
    const char *hist_name;
    bool has_stats;               /* draw the figure box */
    double rmse, sqnr_db, max_abs_err; /* sqnr_db may be +inf (no error at all) */
    ChartScale y_scale;
    ChartLabels labels;
} ErrorHistogramSpec;

/* The rounding-error histogram: solid bars in CHART_SERIES_2, a thin line at
 * error 0, and a box with "RMSE", "SQNR ... dB" and "max |err|". Axes as
 * chart_histogram. */
Status chart_error_histogram(Canvas *c, const ErrorHistogramSpec *spec, ChartFrame *frame,
                             Error *err);

typedef struct BarItem {
    const char *label; /* e.g. "blk.3" or "blk.3.ffn_down" */
    double value;      /* e.g. mean KL with only this unit quantized */
} BarItem;

typedef struct BarsSpec {
    const BarItem *items; /* drawn top to bottom in this order */
    int n_items;          /* >= 1 */
    ChartScale x_scale;   /* CHART_LOG: values <= 0 draw no bar */
    int value_digits;     /* significant digits of the value labels; 0 means 3 */
    ChartLabels labels;
} BarsSpec;

/* Horizontal bars, one per item, each with its value written at the bar's end
 * (outside, or inside in white when there is no room). The names stand in a
 * column left of the y axis at scale s when the longest fits in 30% of the
 * canvas width, else at scale 1, cut with "..." if still too long; when rows
 * are lower than the text, every k-th row is labelled. Item i's row
 * spans rows y + i*h/n .. y + (i+1)*h/n; the frame maps it as y_lo = n,
 * y_hi = 0, so chart_map_y(f, i + 0.5) is the middle of item i.
 * x axis: as chart_histogram's y axis (0 to a round number past the largest
 * value; it starts lower when a value is negative). */
Status chart_bars(Canvas *c, const BarsSpec *spec, ChartFrame *frame, Error *err);

typedef struct ScatterPoint {
    double x, y;       /* e.g. bytes, mean KL */
    const char *label; /* written next to the point; may be NULL */
} ScatterPoint;

typedef struct ScatterSpec {
    const ScatterPoint *points;
    int n_points;              /* >= 1 */
    int highlight;             /* index drawn as the highlighted point, or -1 */
    const char *points_name;   /* legend text, e.g. "plans" */
    const char *highlight_name;/* e.g. "current plan" */
    bool frontier;             /* join the Pareto frontier with a dashed line */
    const char *frontier_name; /* e.g. "Pareto frontier" */
    ChartScale x_scale, y_scale;
    ChartLabels labels;
} ScatterSpec;

/* Points as CHART_SERIES circles; the highlighted one as a larger CHART_HIGHLIGHT
 * diamond with a black edge. Linear axes run from a round number at or below
 * (min - 5% of the span) to one at or above (max + 5%), not below 0 when all
 * values are >= 0; log axes from 10^floor(log10(min > 0)) to 10^ceil(log10(max)),
 * values <= 0 sitting on the low edge. Points with a non-finite coordinate are
 * skipped. */
Status chart_scatter(Canvas *c, const ScatterSpec *spec, ChartFrame *frame, Error *err);

/* The Pareto frontier of points (lower x and lower y both better): the points
 * no other point beats or equals in both coordinates while beating in one,
 * keeping the first of exact duplicates. Writes their indices to idx (room for
 * n) in order of increasing x and returns how many. Non-finite points are ignored. */
int chart_pareto_frontier(const ScatterPoint *points, int n, int *idx);

#endif
