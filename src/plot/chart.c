/* chart.c — see chart.h. Sections in the order a chart is built: colours,
 * geometry, numbers on axes, the frame around the data (axes, texts, legend),
 * then one section per chart. */
#include "plot/chart.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/font.h"

/* --------------------------------------------------------------- colours --- */

static const Rgb CHART_PALETTE[CHART_ROLE_COUNT] = {
    [CHART_BACKGROUND] = RGB_HEX(0xFFFFFF),
    [CHART_TEXT] = RGB_HEX(0x000000),
    [CHART_AXIS] = RGB_HEX(0x000000),
    [CHART_GRID] = RGB_HEX(0xDDDDDD),
    [CHART_MUTED] = RGB_HEX(0x555555),
    [CHART_SERIES] = RGB_HEX(0x0072B2),
    [CHART_SERIES_2] = RGB_HEX(0xD55E00),
    [CHART_LEVELS] = RGB_HEX(0x000000),
    [CHART_HIGHLIGHT] = RGB_HEX(0xD55E00),
    [CHART_BOX] = RGB_HEX(0xF4F4F4),
};

Rgb chart_colour(ChartRole role) {
    assert(role >= 0 && role < CHART_ROLE_COUNT);
    return CHART_PALETTE[role];
}

static const Rgb WHITE = RGB_HEX(0xFFFFFF);

/* -------------------------------------------------------------- geometry --- */

int chart_text_scale(int canvas_w, int canvas_h) {
    int s = canvas_w / 640 < canvas_h / 360 ? canvas_w / 640 : canvas_h / 360;
    return s < 1 ? 1 : s > 8 ? 8 : s;
}

/* Margins in units of s, as documented in chart.h. */
static int margin_top(int s) { return 32 * s + 16; }
static int margin_bottom(int s) { return 64 * s; }
static int margin_right(int s) { return 28 * s; }
static int margin_left(int s) { return 76 * s; }

PlotRect chart_plot_area(int canvas_w, int canvas_h) {
    int s = chart_text_scale(canvas_w, canvas_h);
    PlotRect r = {margin_left(s), margin_top(s), 0, 0};
    r.w = canvas_w - margin_left(s) - margin_right(s);
    r.h = canvas_h - margin_top(s) - margin_bottom(s);
    return r;
}

static double axis_t(ChartScale scale, double v) {
    if (scale == CHART_LOG) return v > 0 ? log10(v) : -INFINITY;
    return v;
}

/* Position along an axis of `len` pixels as a fraction 0..1 of the range. */
static double axis_frac(ChartScale scale, double lo, double hi, double v) {
    double t0 = axis_t(scale, lo), t1 = axis_t(scale, hi), t = axis_t(scale, v);
    if (t == -INFINITY) t = t0;
    return (t - t0) / (t1 - t0);
}

static int to_pixel(double p) {
    /* Far-off values stay far off without overflowing an int. */
    if (!(p > -1e6)) p = -1e6;
    if (p > 1e6) p = 1e6;
    return (int)floor(p + 0.5);
}

int chart_map_x(const ChartFrame *f, double v) {
    return to_pixel(f->area.x + axis_frac(f->x_scale, f->x_lo, f->x_hi, v) * f->area.w);
}

int chart_map_y(const ChartFrame *f, double v) {
    return to_pixel(f->area.y + f->area.h - axis_frac(f->y_scale, f->y_lo, f->y_hi, v) * f->area.h);
}

/* ------------------------------------------------------- numbers on axes --- */

enum { TICKS_MAX = 48, MINOR_MAX = 160, LABEL_MAX = 24 };

typedef struct Ticks {
    int n;
    double v[TICKS_MAX];
    char label[TICKS_MAX][LABEL_MAX]; /* "" for a tick drawn without a label */
    int n_minor;
    double minor[MINOR_MAX]; /* log axes: 2..9 x 10^k, short marks, no label */
} Ticks;

/* The smallest 1, 2 or 5 x 10^k that is >= raw (raw > 0). */
static double nice_step_at_least(double raw) {
    double p = pow(10, floor(log10(raw)));
    static const double MULT[] = {1, 2, 5, 10, 20};
    for (size_t i = 0; i < sizeof MULT / sizeof MULT[0]; i++)
        if (MULT[i] * p >= raw * (1 - 1e-12)) return MULT[i] * p;
    return 20 * p;
}

/* Decimal places that show multiples of `step` exactly (step a 1-2-5 number). */
static int decimals_for(double step) {
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d;
}

/* A tick value for people: "0", "0.05", "-0.125", "20k", "1.5M", "2e-5".
 * ref is the largest |value| on the axis, so every label uses the same unit. */
static void format_tick(char *buf, size_t size, double v, double step, double ref) {
    if (fabs(v) < step * 1e-6) {
        snprintf(buf, size, "0");
        return;
    }
    if (ref >= 1e4) {
        double unit = ref >= 1e9 ? 1e9 : ref >= 1e6 ? 1e6 : 1e3;
        const char *suffix = ref >= 1e9 ? "G" : ref >= 1e6 ? "M" : "k";
        snprintf(buf, size, "%.*f%s", decimals_for(step / unit), v / unit, suffix);
        return;
    }
    int d = decimals_for(step);
    if (d <= 4) {
        snprintf(buf, size, "%.*f", d, v);
        return;
    }
    int e = (int)floor(log10(ref));
    double unit = pow(10, e);
    snprintf(buf, size, "%.*fe%d", decimals_for(step / unit), v / unit, e);
}

/* 10^d for a log axis: "1", "100", "10k", "1M", "0.01", "1e-4". */
static void format_power(char *buf, size_t size, int d) {
    static const char *const BIG[] = {"1", "10", "100", "1000", "10k", "100k", "1M", "10M",
                                      "100M", "1G", "10G", "100G"};
    static const char *const SMALL[] = {"", "0.1", "0.01", "0.001"};
    if (d >= 0 && d < (int)(sizeof BIG / sizeof BIG[0])) snprintf(buf, size, "%s", BIG[d]);
    else if (d < 0 && d >= -3) snprintf(buf, size, "%s", SMALL[-d]);
    else snprintf(buf, size, "1e%d", d);
}

/* Ticks at every multiple of step in [lo, hi]. */
static void ticks_linear(Ticks *t, double lo, double hi, double step) {
    memset(t, 0, sizeof *t);
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    double ref = 0;
    for (double k = k0; k <= k1 && t->n < TICKS_MAX; k++) {
        t->v[t->n++] = k * step;
        if (fabs(k * step) > ref) ref = fabs(k * step);
    }
    for (int i = 0; i < t->n; i++) format_tick(t->label[i], LABEL_MAX, t->v[i], step, ref);
}

static int ticks_label_chars(const Ticks *t) {
    int n = 0;
    for (int i = 0; i < t->n; i++) {
        int len = (int)strlen(t->label[i]);
        if (len > n) n = len;
    }
    return n;
}

/* Linear ticks whose labels (at text scale s) stand at least two characters
 * apart along `len` pixels; at most max_n of them. */
static void ticks_linear_fit(Ticks *t, double lo, double hi, int len, int s, int max_n,
                             bool horizontal) {
    double step = nice_step_at_least((hi - lo) / max_n);
    for (int guard = 0; guard < 40; guard++) {
        ticks_linear(t, lo, hi, step);
        double spacing = step / (hi - lo) * len;
        double need = horizontal ? (ticks_label_chars(t) + 2) * FONT_W * s : 2 * FONT_H * s;
        if (spacing >= need || t->n <= 2) return;
        step = nice_step_at_least(step * 1.5);
    }
}

/* Decades of [lo, hi] with labels spaced like ticks_linear_fit; minor marks
 * when the decades are few enough to show them. */
static void ticks_log(Ticks *t, double lo, double hi, int len, int s, bool horizontal) {
    memset(t, 0, sizeof *t);
    int d0 = (int)ceil(log10(lo) - 1e-9), d1 = (int)floor(log10(hi) + 1e-9);
    double decades = log10(hi) - log10(lo);
    double per_decade = len / decades;
    int every = 1;
    for (;;) {
        double need = horizontal ? 7 * FONT_W * s : 2 * FONT_H * s;
        if (per_decade * every >= need || every > 64) break;
        every++;
    }
    for (int d = d0; d <= d1 && t->n < TICKS_MAX; d++) {
        t->v[t->n] = pow(10, d);
        if (((d % every) + every) % every == 0) format_power(t->label[t->n], LABEL_MAX, d);
        t->n++;
    }
    if (every == 1 && per_decade >= 6 * s) {
        for (int d = (int)floor(log10(lo)); d <= d1 && t->n_minor < MINOR_MAX; d++)
            for (int m = 2; m <= 9 && t->n_minor < MINOR_MAX; m++) {
                double v = m * pow(10, d);
                if (v > lo && v < hi) t->minor[t->n_minor++] = v;
            }
    }
}

/* The axis range for counts or values from 0 (or a negative min) up: see
 * chart_histogram's comment. Returns the tick step. */
static double range_from_zero(double min, double max, double *lo, double *hi) {
    if (min > 0) min = 0;
    if (max < 0) max = 0;
    if (max == min) max = 1;
    double step = nice_step_at_least(1.05 * (max - min) / 5);
    *lo = min < 0 ? -ceil(1.05 * -min / step - 1e-9) * step : 0;
    *hi = max > 0 ? ceil(1.05 * max / step - 1e-9) * step : 0;
    return step;
}

/* A log range covering [min_pos, max] in whole decades (at least one). */
static void range_log_decades(double min_pos, double max, double *lo, double *hi) {
    *lo = pow(10, floor(log10(min_pos) + 1e-9));
    *hi = pow(10, ceil(log10(max) - 1e-9));
    if (*hi <= *lo) *hi = *lo * 10;
}

/* -------------------------------------------------------------- texts ---- */

/* Draws `s` in at most max_w pixels: at `scale` if it fits, else at a smaller
 * scale (not below 1), else cut with "...". Vertical text reads upwards. */
static void text_fit(Canvas *c, int x, int y, const char *s, int scale, int max_w, Align align,
                     Rgb col, bool vertical) {
    if (!s || !*s || max_w <= 0) return;
    char buf[512];
    int n = canvas_text_flatten(s, buf, (int)sizeof buf);
    while (scale > 1 && n * FONT_W * scale > max_w) scale--;
    int fit = max_w / (FONT_W * scale);
    if (n > fit) {
        if (fit < 4) return;
        memcpy(buf + fit - 3, "...", 4);
    }
    if (vertical) canvas_text_up(c, x, y, buf, scale, align, col);
    else canvas_text(c, x, y, buf, scale, align, col);
}

/* ------------------------------------------------------ frame and axes ---- */

/* Axis line thickness and tick length at text scale s. */
static int axis_thick(int s) { return s; }

static void draw_grid_y(Canvas *c, const ChartFrame *f, const Ticks *yt) {
    const PlotRect *a = &f->area;
    for (int i = 0; i < yt->n; i++) {
        int py = chart_map_y(f, yt->v[i]);
        if (py >= a->y && py < a->y + a->h)
            canvas_fill_rect(c, a->x, py, a->w, 1, chart_colour(CHART_GRID));
    }
}

static void draw_grid_x(Canvas *c, const ChartFrame *f, const Ticks *xt) {
    const PlotRect *a = &f->area;
    for (int i = 0; i < xt->n; i++) {
        int px = chart_map_x(f, xt->v[i]);
        if (px >= a->x && px < a->x + a->w)
            canvas_fill_rect(c, px, a->y, 1, a->h, chart_colour(CHART_GRID));
    }
}

/* The x axis with its ticks and labels, and the x-axis title. */
static void draw_x_axis(Canvas *c, const ChartFrame *f, const Ticks *xt, const char *label) {
    const PlotRect *a = &f->area;
    int s = f->text_scale, t = axis_thick(s);
    Rgb ink = chart_colour(CHART_AXIS), text = chart_colour(CHART_TEXT);
    canvas_fill_rect(c, a->x - t, a->y + a->h, a->w + t, t, ink);
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? xt->n_minor : xt->n;
        for (int i = 0; i < n; i++) {
            double v = pass == 0 ? xt->minor[i] : xt->v[i];
            int px = chart_map_x(f, v);
            if (px < a->x - 1 || px > a->x + a->w) continue;
            int len = pass == 0 ? s : 2 * s;
            canvas_fill_rect(c, px - t / 2, a->y + a->h + t, t, len, ink);
            if (pass == 1 && xt->label[i][0])
                canvas_text(c, px, a->y + a->h + 4 * s, xt->label[i], s, ALIGN_CENTER, text);
        }
    }
    text_fit(c, a->x + a->w / 2, a->y + a->h + 24 * s, label, s, c->w - 8 * s, ALIGN_CENTER, text,
             false);
}

/* The y axis line, its ticks and labels (right-aligned in a 48s-wide column,
 * smaller when a label is longer than 6 characters), and the y-axis title. */
static void draw_y_axis(Canvas *c, const ChartFrame *f, const Ticks *yt, const char *label) {
    const PlotRect *a = &f->area;
    int s = f->text_scale, t = axis_thick(s);
    Rgb ink = chart_colour(CHART_AXIS), text = chart_colour(CHART_TEXT);
    canvas_fill_rect(c, a->x - t, a->y, t, a->h + t, ink);
    if (yt) {
        int ls = s;
        while (ls > 1 && ticks_label_chars(yt) * FONT_W * ls > 48 * s) ls--;
        for (int pass = 0; pass < 2; pass++) {
            int n = pass == 0 ? yt->n_minor : yt->n;
            for (int i = 0; i < n; i++) {
                double v = pass == 0 ? yt->minor[i] : yt->v[i];
                int py = chart_map_y(f, v);
                if (py < a->y - 1 || py > a->y + a->h) continue;
                int len = pass == 0 ? s : 2 * s;
                canvas_fill_rect(c, a->x - t - len, py - t / 2, len, t, ink);
                if (pass == 1 && yt->label[i][0])
                    canvas_text(c, a->x - 4 * s, py - FONT_H * ls / 2, yt->label[i], ls,
                                ALIGN_RIGHT, text);
            }
        }
    }
    text_fit(c, 4 * s, a->y + a->h / 2, label, s, c->h - 8 * s, ALIGN_CENTER, text, true);
}

/* Title (scale s+1, centred on the canvas) and caption (bottom left, muted). */
static void draw_title_caption(Canvas *c, const ChartFrame *f, const ChartLabels *l) {
    int s = f->text_scale;
    text_fit(c, c->w / 2, 8 * s, l->title, s + 1, c->w - 8 * s, ALIGN_CENTER,
             chart_colour(CHART_TEXT), false);
    text_fit(c, 4 * s, c->h - 20 * s, l->caption, s, c->w - 8 * s, ALIGN_LEFT,
             chart_colour(CHART_MUTED), false);
}

static Status frame_check(const Canvas *c, const ChartFrame *f, Error *err) {
    if (f->area.w < 16 || f->area.h < 16)
        return error_set(err, ST_USAGE, "chart: a %dx%d canvas is too small for a chart", c->w,
                         c->h);
    return ST_OK;
}

/* ------------------------------------------------------ legend and boxes --- */

typedef enum Swatch { SWATCH_NONE = 0, SWATCH_FILL, SWATCH_HATCH, SWATCH_VDASH, SWATCH_HDASH,
                      SWATCH_MARKER } Swatch;

typedef struct LegendEntry {
    Swatch swatch;
    Rgb col;
    Marker marker;
    const char *text;
} LegendEntry;

enum { LEGEND_MAX = 6 };

typedef struct Box {
    int x, y, w, h;
} Box;

static bool box_overlap(Box a, Box b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* Pixels in the box that belong to the data: neither background nor grid. */
static long box_data_pixels(const Canvas *c, Box b) {
    Rgb bg = chart_colour(CHART_BACKGROUND), grid = chart_colour(CHART_GRID);
    long n = 0;
    for (int y = b.y; y < b.y + b.h; y++)
        for (int x = b.x; x < b.x + b.w; x++) {
            if (x < 0 || y < 0 || x >= c->w || y >= c->h) continue;
            Rgb p = canvas_get(c, x, y);
            n += !rgb_equal(p, bg) && !rgb_equal(p, grid);
        }
    return n;
}

/* Puts a w x h box in the plot-area corner that hides the least data
 * (top right, top left, bottom right, bottom left on a tie); *hidden receives
 * the data pixels it covers. */
static Box box_place(const Canvas *c, const ChartFrame *f, int w, int h, long *hidden) {
    const PlotRect *a = &f->area;
    int m = 4 * f->text_scale;
    Box cand[4] = {
        {a->x + a->w - m - w, a->y + m, w, h},
        {a->x + m, a->y + m, w, h},
        {a->x + a->w - m - w, a->y + a->h - m - h, w, h},
        {a->x + m, a->y + a->h - m - h, w, h},
    };
    int best = 0;
    long best_n = box_data_pixels(c, cand[0]);
    for (int i = 1; i < 4; i++) {
        long n = box_data_pixels(c, cand[i]);
        if (n < best_n) {
            best = i;
            best_n = n;
        }
    }
    *hidden = best_n;
    return cand[best];
}

/* Sizes a box drawn at text scale ls and places it; when even the best corner
 * hides data (over 1% of the box), tries one scale smaller and keeps the
 * smaller box if it hides less. *ls is the scale chosen. */
typedef Box (*BoxSizer)(const void *content, int n, int ls);

static Box box_fit(const Canvas *c, const ChartFrame *f, BoxSizer size, const void *content,
                   int n, int *ls) {
    *ls = f->text_scale;
    Box b = size(content, n, *ls);
    long hidden = 0;
    b = box_place(c, f, b.w, b.h, &hidden);
    if (*ls > 1 && hidden > (long)b.w * b.h / 100) {
        Box b2 = size(content, n, *ls - 1);
        long hidden2 = 0;
        b2 = box_place(c, f, b2.w, b2.h, &hidden2);
        if (hidden2 < hidden) {
            b = b2;
            (*ls)--;
        }
    }
    return b;
}

static void box_frame(Canvas *c, Box b, int s) {
    canvas_fill_rect(c, b.x, b.y, b.w, b.h, chart_colour(CHART_BOX));
    canvas_stroke_rect(c, b.x, b.y, b.w, b.h, s > 1 ? s / 2 : 1, chart_colour(CHART_MUTED));
}

/* Legend metrics at text scale s. */
static int legend_pad(int s) { return 5 * s; }
static int legend_swatch_w(int s) { return 14 * s; }
static int legend_row(int s) { return FONT_H * s + 5 * s; }

static Box legend_size(const void *content, int n, int s) {
    const LegendEntry *e = content;
    int text_w = 0;
    for (int i = 0; i < n; i++) {
        int w = canvas_text_width(e[i].text ? e[i].text : "", s);
        if (w > text_w) text_w = w;
    }
    if (text_w > 40 * FONT_W * s) text_w = 40 * FONT_W * s;
    int pad = legend_pad(s);
    return (Box){0, 0, pad + legend_swatch_w(s) + 3 * s + text_w + pad,
                 2 * pad + n * legend_row(s) - 5 * s};
}

/* Draws a legend (one row per entry: swatch, then text) in the emptiest corner. */
static void draw_legend(Canvas *c, const ChartFrame *f, const LegendEntry *e, int n) {
    int s;
    Box b = box_fit(c, f, legend_size, e, n, &s);
    int pad = legend_pad(s), sw = legend_swatch_w(s), row = legend_row(s);
    box_frame(c, b, s);
    for (int i = 0; i < n; i++) {
        int ty = b.y + pad + i * row, cx = b.x + pad + sw / 2, cy = ty + FONT_H * s / 2;
        int sx = b.x + pad, sy = ty + 2 * s, sh = FONT_H * s - 4 * s;
        switch (e[i].swatch) {
        case SWATCH_NONE: break;
        case SWATCH_FILL: canvas_fill_rect(c, sx, sy, sw, sh, e[i].col); break;
        case SWATCH_HATCH:
            canvas_fill_rect(c, sx, sy, sw, sh, WHITE);
            canvas_hatch_rect(c, sx, sy, sw, sh, 4 * s, (3 * s + 1) / 2, e[i].col);
            canvas_stroke_rect(c, sx, sy, sw, sh, s, e[i].col);
            break;
        case SWATCH_VDASH: /* two dashed uprights, as drawn in the plot */
            for (int k = 1; k <= 2; k++)
                for (int y = sy - s; y < sy + sh + s; y += 5 * s)
                    canvas_fill_rect(c, sx + k * sw / 3, y, (s + 1) / 2, 3 * s, e[i].col);
            break;
        case SWATCH_HDASH:
            canvas_dashed_line(c, sx, cy, sx + sw, cy, s, 4 * s, 2 * s, e[i].col);
            break;
        case SWATCH_MARKER:
            canvas_marker(c, cx, cy, e[i].marker, 4 * s, e[i].col, chart_colour(CHART_TEXT),
                          e[i].marker == MARKER_DIAMOND ? s : 0);
            break;
        }
        int tx = e[i].swatch == SWATCH_NONE ? b.x + pad : sx + sw + 3 * s;
        text_fit(c, tx, ty, e[i].text, s, b.x + b.w - pad - tx, ALIGN_LEFT,
                 chart_colour(CHART_TEXT), false);
    }
}

enum { TEXT_BOX_LINE = 64 };

static Box text_box_size(const void *content, int n, int s) {
    const char *lines = content; /* n rows of TEXT_BOX_LINE chars */
    int w = 0;
    for (int i = 0; i < n; i++) {
        int tw = canvas_text_width(lines + (size_t)i * TEXT_BOX_LINE, s);
        if (tw > w) w = tw;
    }
    return (Box){0, 0, w + 2 * legend_pad(s), 2 * legend_pad(s) + n * legend_row(s) - 5 * s};
}

/* A box of text lines (the error histogram's figures) in the emptiest corner. */
static void draw_text_box(Canvas *c, const ChartFrame *f, char lines[][TEXT_BOX_LINE], int n) {
    int s;
    Box b = box_fit(c, f, text_box_size, lines, n, &s);
    box_frame(c, b, s);
    for (int i = 0; i < n; i++)
        canvas_text(c, b.x + legend_pad(s), b.y + legend_pad(s) + i * legend_row(s), lines[i], s,
                    ALIGN_LEFT, chart_colour(CHART_TEXT));
}

/* ------------------------------------------------------------ histograms --- */

static void hist_check(const Histogram *h) {
    assert(h && h->n_bins > 0 && h->counts);
    (void)h;
}

static double hist_bin_lo(const Histogram *h, int i) {
    return h->lo + (h->hi - h->lo) * i / h->n_bins;
}

/* Solid bars; a one-pixel gap on the right of each when bars are >= 6 px wide. */
static void draw_hist_bars(Canvas *c, const ChartFrame *f, const Histogram *h, Rgb col) {
    int base = f->area.y + f->area.h;
    for (int i = 0; i < h->n_bins; i++) {
        if (h->counts[i] == 0) continue;
        int x0 = chart_map_x(f, hist_bin_lo(h, i)), x1 = chart_map_x(f, hist_bin_lo(h, i + 1));
        int top = chart_map_y(f, (double)h->counts[i]);
        if (top < f->area.y) top = f->area.y;
        if (x1 - x0 >= 6) x1--;
        canvas_fill_rect(c, x0, top, x1 - x0, base - top, col);
    }
}

/* The second series: hatched under a step outline (matplotlib's histtype
 * "step"), so narrow spiky bins keep both their colour and their pattern. */
static void draw_hist_overlay(Canvas *c, const ChartFrame *f, const Histogram *h, Rgb col) {
    int s = f->text_scale, base = f->area.y + f->area.h, lw = s;
    int prev_top = base;
    for (int i = 0; i <= h->n_bins; i++) {
        int x0 = chart_map_x(f, hist_bin_lo(h, i));
        int top = base;
        if (i < h->n_bins && h->counts[i] > 0) {
            top = chart_map_y(f, (double)h->counts[i]);
            if (top < f->area.y) top = f->area.y;
        }
        /* the riser between bin i-1 and bin i */
        int y0 = top < prev_top ? top : prev_top, y1 = top < prev_top ? prev_top : top;
        if (y1 > y0) canvas_fill_rect(c, x0 - lw / 2, y0, lw, y1 - y0 + (y1 < base ? lw : 0), col);
        if (i < h->n_bins && top < base) {
            int x1 = chart_map_x(f, hist_bin_lo(h, i + 1));
            canvas_hatch_rect(c, x0, top, x1 - x0, base - top, 4 * s, (3 * s + 1) / 2, col);
            canvas_fill_rect(c, x0, top, x1 - x0, lw, col);
        }
        prev_top = top;
    }
}

static void draw_levels(Canvas *c, const ChartFrame *f, const double *levels, int n) {
    int s = f->text_scale, lw = (s + 1) / 2;
    for (int i = 0; i < n; i++) {
        if (!(levels[i] >= f->x_lo && levels[i] <= f->x_hi)) continue;
        int px = chart_map_x(f, levels[i]);
        if (px >= f->area.x + f->area.w) px = f->area.x + f->area.w - 1;
        for (int y = f->area.y; y < f->area.y + f->area.h; y += 5 * s) {
            int len = 3 * s;
            if (y + len > f->area.y + f->area.h) len = f->area.y + f->area.h - y;
            canvas_fill_rect(c, px, y, lw, len, chart_colour(CHART_LEVELS));
        }
    }
}

/* Axes for one or two histograms, by the rules in chart_histogram's comment. */
static Status hist_frame(const Canvas *c, const Histogram *h, const Histogram *ov,
                         ChartScale y_scale, ChartFrame *f, Ticks *xt, Ticks *yt, Error *err) {
    memset(f, 0, sizeof *f);
    f->area = chart_plot_area(c->w, c->h);
    f->text_scale = chart_text_scale(c->w, c->h);
    Status st = frame_check(c, f, err);
    if (st != ST_OK) return st;
    f->x_lo = h->lo;
    f->x_hi = h->hi;
    if (ov) {
        if (ov->lo < f->x_lo) f->x_lo = ov->lo;
        if (ov->hi > f->x_hi) f->x_hi = ov->hi;
    }
    if (!isfinite(f->x_hi - f->x_lo) || !(f->x_hi > f->x_lo))
        return error_set(err, ST_USAGE, "chart: histogram range [%g, %g] is empty", f->x_lo,
                         f->x_hi);
    uint64_t max = 0, min_nz = 0;
    for (int k = 0; k < 2; k++) {
        const Histogram *g = k == 0 ? h : ov;
        for (int i = 0; g && i < g->n_bins; i++) {
            uint64_t n = g->counts[i];
            if (n > max) max = n;
            if (n > 0 && (min_nz == 0 || n < min_nz)) min_nz = n;
        }
    }
    f->x_scale = CHART_LINEAR;
    f->y_scale = y_scale;
    int s = f->text_scale;
    ticks_linear_fit(xt, f->x_lo, f->x_hi, f->area.w, s, 10, true);
    if (y_scale == CHART_LOG) {
        if (min_nz == 0) min_nz = max = 1;
        f->y_lo = pow(10, floor(log10((double)min_nz)) - 0.5);
        f->y_hi = pow(10, ceil(log10(1.05 * (double)max)));
        ticks_log(yt, f->y_lo, f->y_hi, f->area.h, s, false);
    } else {
        double step = range_from_zero(0, (double)max, &f->y_lo, &f->y_hi);
        ticks_linear(yt, f->y_lo, f->y_hi, step);
    }
    return ST_OK;
}

static void hist_outside_note(char *buf, size_t size, const Histogram *h) {
    uint64_t out = h->below + h->above;
    if (out == 0) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "%llu %s outside the x range", (unsigned long long)out,
             out == 1 ? "value" : "values");
}

Status chart_histogram(Canvas *c, const HistogramSpec *sp, ChartFrame *frame, Error *err) {
    assert(c && sp);
    hist_check(sp->hist);
    if (sp->overlay) hist_check(sp->overlay);
    assert(sp->n_levels >= 0 && (sp->n_levels == 0 || sp->levels));
    ChartFrame f;
    Ticks xt, yt;
    Status st = hist_frame(c, sp->hist, sp->overlay, sp->y_scale, &f, &xt, &yt, err);
    if (st != ST_OK) return st;

    canvas_clear(c, chart_colour(CHART_BACKGROUND));
    draw_grid_y(c, &f, &yt);
    draw_hist_bars(c, &f, sp->hist, chart_colour(CHART_SERIES));
    if (sp->overlay) draw_hist_overlay(c, &f, sp->overlay, chart_colour(CHART_SERIES_2));
    if (sp->n_levels > 0) draw_levels(c, &f, sp->levels, sp->n_levels);
    draw_x_axis(c, &f, &xt, sp->labels.x_label);
    draw_y_axis(c, &f, &yt, sp->labels.y_label);
    draw_title_caption(c, &f, &sp->labels);

    LegendEntry e[LEGEND_MAX];
    int n = 0;
    e[n++] = (LegendEntry){SWATCH_FILL, chart_colour(CHART_SERIES), MARKER_CIRCLE,
                           sp->hist_name ? sp->hist_name : "data"};
    if (sp->overlay)
        e[n++] = (LegendEntry){SWATCH_HATCH, chart_colour(CHART_SERIES_2), MARKER_CIRCLE,
                               sp->overlay_name ? sp->overlay_name : "second series"};
    if (sp->n_levels > 0)
        e[n++] = (LegendEntry){SWATCH_VDASH, chart_colour(CHART_LEVELS), MARKER_CIRCLE,
                               sp->levels_name ? sp->levels_name : "levels"};
    char note[64];
    hist_outside_note(note, sizeof note, sp->hist);
    if (note[0]) e[n++] = (LegendEntry){SWATCH_NONE, chart_colour(CHART_TEXT), MARKER_CIRCLE, note};
    if (n > 1) draw_legend(c, &f, e, n);
    if (frame) *frame = f;
    return ST_OK;
}

Status chart_error_histogram(Canvas *c, const ErrorHistogramSpec *sp, ChartFrame *frame,
                             Error *err) {
    assert(c && sp);
    hist_check(sp->hist);
    ChartFrame f;
    Ticks xt, yt;
    Status st = hist_frame(c, sp->hist, NULL, sp->y_scale, &f, &xt, &yt, err);
    if (st != ST_OK) return st;
    int s = f.text_scale;

    canvas_clear(c, chart_colour(CHART_BACKGROUND));
    draw_grid_y(c, &f, &yt);
    if (f.x_lo < 0 && f.x_hi > 0) { /* error 0, behind the bars */
        int px = chart_map_x(&f, 0);
        canvas_dashed_line(c, px, f.area.y, px, f.area.y + f.area.h - 1, s, 6 * s, 4 * s,
                           chart_colour(CHART_MUTED));
    }
    draw_hist_bars(c, &f, sp->hist, chart_colour(CHART_SERIES_2));
    draw_x_axis(c, &f, &xt, sp->labels.x_label);
    draw_y_axis(c, &f, &yt, sp->labels.y_label);
    draw_title_caption(c, &f, &sp->labels);

    char lines[5][TEXT_BOX_LINE];
    int n = 0;
    if (sp->has_stats) {
        snprintf(lines[n++], TEXT_BOX_LINE, "RMSE %.3g", sp->rmse);
        if (isinf(sp->sqnr_db) && sp->sqnr_db > 0) snprintf(lines[n++], TEXT_BOX_LINE, "SQNR inf (exact)");
        else snprintf(lines[n++], TEXT_BOX_LINE, "SQNR %.1f dB", sp->sqnr_db);
        snprintf(lines[n++], TEXT_BOX_LINE, "max |err| %.3g", sp->max_abs_err);
    }
    hist_outside_note(lines[n], TEXT_BOX_LINE, sp->hist);
    if (lines[n][0]) n++;
    if (n > 0) draw_text_box(c, &f, lines, n);
    if (frame) *frame = f;
    return ST_OK;
}

/* ------------------------------------------------------------------ bars --- */

Status chart_bars(Canvas *c, const BarsSpec *sp, ChartFrame *frame, Error *err) {
    assert(c && sp && sp->n_items >= 1 && sp->items);
    int s = chart_text_scale(c->w, c->h), n = sp->n_items;
    int digits = sp->value_digits > 0 ? sp->value_digits : 3;

    /* The name column: scale s if the longest name fits in 30% of the width. */
    int longest = 1;
    for (int i = 0; i < n; i++) {
        int len = canvas_text_len(sp->items[i].label ? sp->items[i].label : "");
        if (len > longest) longest = len;
    }
    int name_max = c->w * 3 / 10, ns = s;
    while (ns > 1 && longest * FONT_W * ns > name_max) ns--;
    int name_w = longest * FONT_W * ns;
    if (name_w > name_max) name_w = name_max / FONT_W * FONT_W;

    ChartFrame f;
    memset(&f, 0, sizeof f);
    f.text_scale = s;
    f.area.x = 28 * s + name_w;
    f.area.y = margin_top(s);
    f.area.w = c->w - f.area.x - margin_right(s);
    f.area.h = c->h - margin_top(s) - margin_bottom(s);
    Status st = frame_check(c, &f, err);
    if (st != ST_OK) return st;

    double vmin = INFINITY, vmax = -INFINITY, min_pos = INFINITY;
    for (int i = 0; i < n; i++) {
        double v = sp->items[i].value;
        if (!isfinite(v)) continue;
        if (v < vmin) vmin = v;
        if (v > vmax) vmax = v;
        if (v > 0 && v < min_pos) min_pos = v;
    }
    if (!isfinite(vmin))
        return error_set(err, ST_USAGE, "chart: no finite value among %d bars", n);
    if (!isfinite(1.1 * (fmax(vmax, 0) - fmin(vmin, 0))))
        return error_set(err, ST_USAGE, "chart: bar values from %g to %g are too far apart",
                         vmin, vmax);
    f.x_scale = sp->x_scale;
    f.y_scale = CHART_LINEAR;
    f.y_lo = n;
    f.y_hi = 0;
    Ticks xt;
    if (sp->x_scale == CHART_LOG) {
        if (!isfinite(min_pos))
            return error_set(err, ST_USAGE, "chart: a log axis needs a value above 0");
        range_log_decades(min_pos, vmax, &f.x_lo, &f.x_hi);
        ticks_log(&xt, f.x_lo, f.x_hi, f.area.w, s, true);
    } else {
        range_from_zero(vmin, vmax, &f.x_lo, &f.x_hi);
        ticks_linear_fit(&xt, f.x_lo, f.x_hi, f.area.w, s, 10, true);
    }

    canvas_clear(c, chart_colour(CHART_BACKGROUND));
    draw_grid_x(c, &f, &xt);

    /* Rows: a label scale that fits the row height, or labels on every k-th row. */
    double rh = (double)f.area.h / n;
    int ls = ns;
    while (ls > 1 && FONT_H * ls > rh) ls--;
    int every = 1;
    while (FONT_H * ls + 2 > rh * every) every++;
    double zero = sp->x_scale == CHART_LOG ? f.x_lo : 0;
    int x_zero = chart_map_x(&f, zero);
    Rgb bar = chart_colour(CHART_SERIES), text = chart_colour(CHART_TEXT);
    for (int i = 0; i < n; i++) {
        const BarItem *it = &sp->items[i];
        int row_top = to_pixel(f.area.y + i * rh), row_bot = to_pixel(f.area.y + (i + 1) * rh);
        int bh = to_pixel((row_bot - row_top) * 0.7);
        if (bh < 1) bh = 1;
        int by = row_top + (row_bot - row_top - bh) / 2;
        int cy = chart_map_y(&f, i + 0.5);
        bool drawn = isfinite(it->value) && !(sp->x_scale == CHART_LOG && it->value <= 0);
        int x_end = drawn ? chart_map_x(&f, it->value) : x_zero;
        if (drawn) {
            int xa = x_zero < x_end ? x_zero : x_end, xb = x_zero < x_end ? x_end : x_zero;
            canvas_fill_rect(c, xa, by, xb - xa, bh, bar);
        }
        if (i % every != 0) continue;
        int ty = cy - FONT_H * ls / 2;
        text_fit(c, f.area.x - 4 * s, ty, it->label ? it->label : "", ls, name_w, ALIGN_RIGHT,
                 text, false);
        char val[32];
        if (isfinite(it->value)) snprintf(val, sizeof val, "%.*g", digits, it->value);
        else snprintf(val, sizeof val, "%s", "n/a");
        int vw = canvas_text_width(val, ls);
        bool right = !drawn || it->value >= zero;
        int out_x = right ? x_end + 3 * s : x_end - 3 * s - vw;
        if (out_x >= 2 * s && out_x + vw <= c->w - 2 * s)
            canvas_text(c, out_x, ty, val, ls, ALIGN_LEFT, text);
        else if (right)
            canvas_text(c, x_end - 2 * s, ty, val, ls, ALIGN_RIGHT, WHITE);
        else
            canvas_text(c, x_end + 2 * s, ty, val, ls, ALIGN_LEFT, WHITE);
    }
    if (sp->x_scale == CHART_LINEAR && f.x_lo < 0) /* the zero line between both signs */
        canvas_fill_rect(c, x_zero, f.area.y, 1, f.area.h, chart_colour(CHART_AXIS));
    draw_x_axis(c, &f, &xt, sp->labels.x_label);
    draw_y_axis(c, &f, NULL, sp->labels.y_label);
    draw_title_caption(c, &f, &sp->labels);
    if (frame) *frame = f;
    return ST_OK;
}

/* --------------------------------------------------------------- scatter --- */

static bool point_ok(const ScatterPoint *p) {
    return isfinite(p->x) && isfinite(p->y);
}

int chart_pareto_frontier(const ScatterPoint *points, int n, int *idx) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (point_ok(&points[i])) idx[m++] = i;
    /* insertion sort by (x, y, index): n is a handful of plans */
    for (int i = 1; i < m; i++) {
        int k = idx[i], j = i - 1;
        while (j >= 0) {
            const ScatterPoint *a = &points[idx[j]], *b = &points[k];
            bool after = a->x > b->x || (a->x == b->x && a->y > b->y);
            if (!after) break;
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = k;
    }
    int out = 0;
    double best_y = INFINITY;
    for (int i = 0; i < m; i++) {
        if (points[idx[i]].y < best_y) {
            best_y = points[idx[i]].y;
            idx[out++] = idx[i];
        }
    }
    return out;
}

/* One scatter axis: see chart_scatter's comment. */
static Status scatter_range(const ScatterPoint *p, int n, bool use_x, ChartScale scale, int len,
                            int s, double *lo, double *hi, Ticks *t, Error *err) {
    double mn = INFINITY, mx = -INFINITY, mn_pos = INFINITY;
    for (int i = 0; i < n; i++) {
        if (!point_ok(&p[i])) continue;
        double v = use_x ? p[i].x : p[i].y;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        if (v > 0 && v < mn_pos) mn_pos = v;
    }
    if (!isfinite(mn)) return error_set(err, ST_USAGE, "chart: no point has finite coordinates");
    if (scale == CHART_LOG) {
        if (!isfinite(mn_pos))
            return error_set(err, ST_USAGE, "chart: a log axis needs a value above 0");
        range_log_decades(mn_pos, mx, lo, hi);
        ticks_log(t, *lo, *hi, len, s, use_x);
        return ST_OK;
    }
    double span = mx - mn;
    if (!isfinite(span) || !isfinite(1.1 * fmax(fabs(mn), fabs(mx))))
        return error_set(err, ST_USAGE, "chart: values from %g to %g are too far apart to plot",
                         mn, mx);
    if (span == 0) span = mn != 0 ? fabs(mn) : 1;
    double a = mn - 0.05 * span, b = mx + 0.05 * span;
    if (mn >= 0 && a < 0) a = 0;
    double step = nice_step_at_least((b - a) / (use_x ? 8 : 5));
    *lo = floor(a / step + 1e-9) * step;
    *hi = ceil(b / step - 1e-9) * step;
    if (*hi <= *lo) *hi = *lo + step;
    if (use_x) ticks_linear_fit(t, *lo, *hi, len, s, 8, true);
    else ticks_linear(t, *lo, *hi, step);
    return ST_OK;
}

/* Places each label next to its point where it covers no marker, no other label
 * and stays inside the plot area: right, left, above, below, in that order. */
static void scatter_labels(Canvas *c, const ChartFrame *f, const ScatterSpec *sp, Box *used,
                           int n_used) {
    int s = f->text_scale, gap = 7 * s;
    const PlotRect *a = &f->area;
    Box area = {a->x, a->y, a->w, a->h};
    for (int i = 0; i < sp->n_points; i++) {
        const ScatterPoint *p = &sp->points[i];
        if (!point_ok(p) || !p->label || !*p->label) continue;
        int ls = s;
        int w = canvas_text_width(p->label, ls), h = FONT_H * ls;
        int px = chart_map_x(f, p->x), py = chart_map_y(f, p->y);
        /* right, left, above, below; then, for crowded points, right and left
         * one line lower or higher */
        Box cand[8] = {{px + gap, py - h / 2, w, h},
                       {px - gap - w, py - h / 2, w, h},
                       {px - w / 2, py - gap - h, w, h},
                       {px - w / 2, py + gap, w, h},
                       {px + gap, py + h / 2, w, h},
                       {px + gap, py - 3 * h / 2, w, h},
                       {px - gap - w, py + h / 2, w, h},
                       {px - gap - w, py - 3 * h / 2, w, h}};
        int pick = -1;
        for (int k = 0; k < 8 && pick < 0; k++) {
            Box b = cand[k];
            bool inside = b.x >= area.x && b.y >= area.y && b.x + b.w <= area.x + area.w &&
                          b.y + b.h <= area.y + area.h;
            bool clear = inside;
            for (int j = 0; j < n_used && clear; j++) clear = !box_overlap(b, used[j]);
            if (clear) pick = k;
        }
        if (pick < 0) pick = px + gap + w <= area.x + area.w ? 0 : 1;
        Box b = cand[pick];
        canvas_text(c, b.x, b.y, p->label, ls, ALIGN_LEFT,
                    i == sp->highlight ? chart_colour(CHART_HIGHLIGHT) : chart_colour(CHART_TEXT));
        used[n_used++] = b;
    }
}

Status chart_scatter(Canvas *c, const ScatterSpec *sp, ChartFrame *frame, Error *err) {
    assert(c && sp && sp->n_points >= 1 && sp->points);
    assert(sp->highlight >= -1 && sp->highlight < sp->n_points);
    ChartFrame f;
    memset(&f, 0, sizeof f);
    f.area = chart_plot_area(c->w, c->h);
    f.text_scale = chart_text_scale(c->w, c->h);
    int s = f.text_scale;
    Status st = frame_check(c, &f, err);
    if (st != ST_OK) return st;
    f.x_scale = sp->x_scale;
    f.y_scale = sp->y_scale;
    Ticks xt, yt;
    st = scatter_range(sp->points, sp->n_points, true, sp->x_scale, f.area.w, s, &f.x_lo, &f.x_hi,
                       &xt, err);
    if (st == ST_OK)
        st = scatter_range(sp->points, sp->n_points, false, sp->y_scale, f.area.h, s, &f.y_lo,
                           &f.y_hi, &yt, err);
    if (st != ST_OK) return st;

    int n = sp->n_points;
    int *idx = malloc(sizeof *idx * (size_t)n);
    Box *used = malloc(sizeof *used * (size_t)(2 * n));
    if (!idx || !used) {
        free(idx);
        free(used);
        return error_set(err, ST_NOMEM, "chart: out of memory for %d points", n);
    }

    canvas_clear(c, chart_colour(CHART_BACKGROUND));
    draw_grid_y(c, &f, &yt);
    draw_grid_x(c, &f, &xt);
    if (sp->frontier) {
        int m = chart_pareto_frontier(sp->points, n, idx);
        for (int k = 0; k + 1 < m; k++) {
            const ScatterPoint *a = &sp->points[idx[k]], *b = &sp->points[idx[k + 1]];
            canvas_dashed_line(c, chart_map_x(&f, a->x), chart_map_y(&f, a->y),
                               chart_map_x(&f, b->x), chart_map_y(&f, b->y), s, 6 * s, 4 * s,
                               chart_colour(CHART_MUTED));
        }
    }
    draw_x_axis(c, &f, &xt, sp->labels.x_label);
    draw_y_axis(c, &f, &yt, sp->labels.y_label);
    double r = 4 * s, rh = 7 * s;
    int n_used = 0;
    for (int i = 0; i < n; i++) {
        const ScatterPoint *p = &sp->points[i];
        if (!point_ok(p)) continue;
        int px = chart_map_x(&f, p->x), py = chart_map_y(&f, p->y);
        double rr = i == sp->highlight ? rh : r;
        if (i != sp->highlight)
            canvas_marker(c, px, py, MARKER_CIRCLE, r, chart_colour(CHART_SERIES), WHITE, 0);
        used[n_used++] = (Box){px - (int)rr, py - (int)rr, 2 * (int)rr + 1, 2 * (int)rr + 1};
    }
    if (sp->highlight >= 0 && point_ok(&sp->points[sp->highlight])) {
        const ScatterPoint *p = &sp->points[sp->highlight];
        canvas_marker(c, chart_map_x(&f, p->x), chart_map_y(&f, p->y), MARKER_DIAMOND, rh,
                      chart_colour(CHART_HIGHLIGHT), chart_colour(CHART_TEXT), s);
    }
    scatter_labels(c, &f, sp, used, n_used);
    draw_title_caption(c, &f, &sp->labels);

    LegendEntry e[LEGEND_MAX];
    int ne = 0;
    e[ne++] = (LegendEntry){SWATCH_MARKER, chart_colour(CHART_SERIES), MARKER_CIRCLE,
                            sp->points_name ? sp->points_name : "points"};
    if (sp->highlight >= 0)
        e[ne++] = (LegendEntry){SWATCH_MARKER, chart_colour(CHART_HIGHLIGHT), MARKER_DIAMOND,
                                sp->highlight_name ? sp->highlight_name : "highlighted"};
    if (sp->frontier)
        e[ne++] = (LegendEntry){SWATCH_HDASH, chart_colour(CHART_MUTED), MARKER_CIRCLE,
                                sp->frontier_name ? sp->frontier_name : "Pareto frontier"};
    if (ne > 1) draw_legend(c, &f, e, ne);
    free(idx);
    free(used);
    if (frame) *frame = f;
    return ST_OK;
}
