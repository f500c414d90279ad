/* scr_hist.c — the Histogram screen: one tensor's weights with the grid of its
 * planned format drawn over them, the values they were rounded to, the rounding
 * error with its figures, and a block inspector that lays one block open down to
 * its bytes. Below the figures: how far the largest weights sit from the rest
 * (quant/outliers.h), the range of the inputs the matrix reads (measured on the
 * evaluation text, A), and, while an injected outlier is in place (x), a warning
 * that the model itself is edited (r restores it).
 *
 * Numbers come from the session (statistics), the quantized-copy cache (the
 * decoded values the model runs) and inspect_block() (one block's facts); this
 * file only bins and draws them. Histograms are rebuilt only when the tensor, its
 * format, the zoom or the chart width change, or the session does (hist_enter: a
 * new plan, a finished measurement, an edited weight), so a redraw in between
 * makes no pass over the weights.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/tensor_plot.h"
#include "quant/inspect.h"
#include "quant/outliers.h"
#include "quant/types.h"
#include "tui/ui.h"

enum { LABEL_W = 7, ZOOM_MAX = 1024 };

/* ------------------------------------------------------------------ model */

/* What the screen shows, rebuilt when its key changes. */
typedef struct HistCache {
    const Model *model;
    int tensor;
    uint64_t fmt_key;
    const QTensor *q;        /* the tensor in its planned format (owned by the cache) */
    double lo_all, hi_all;   /* range of the weights and of their decoded values */
    double emax;             /* largest |decoded - weight| */
    /* per view */
    double zoom;
    int bins, ebins;
    double lo, hi;           /* the weights chart's x range */
    Histogram w, d, e;       /* weights, decoded values, errors */
    bool hist_ok;
    int64_t block;
    BlockInfo info;
    bool info_ok;
    char info_err[ERROR_MSG_MAX];
} HistCache;

static HistCache cache = {.tensor = -1};

static void cache_drop_hists(void) {
    stats_hist_free(&cache.w);
    stats_hist_free(&cache.d);
    stats_hist_free(&cache.e);
    cache.hist_ok = false;
    cache.bins = cache.ebins = 0;
}

static Format tensor_format(const Session *s, int i) {
    return plan_is_quantizable(&s->model->tensors[i]) ? s->plan.fmt[i] : FORMAT_FP32;
}

static bool usable(const Model *m, int i) {
    return i >= 0 && i < m->n_tensors && m->tensors[i].f32 != NULL;
}

/* A valid tensor index: the current one, or the token embeddings. */
static int current_tensor(App *a) {
    const Model *m = a->s->model;
    if (!usable(m, a->hist.tensor)) a->hist.tensor = m->token_embd;
    for (int i = 0; !usable(m, a->hist.tensor) && i < m->n_tensors; i++) a->hist.tensor = i;
    return a->hist.tensor;
}

/* The tensor's QTensor and statistics once they are ready (a big tensor's are
 * measured on the worker: false until then). */
static bool current_data(App *a, TensorStatsEntry *st, const QTensor **q) {
    Session *s = a->s;
    int i = current_tensor(a);
    if (!session_tensor_stats(s, i, st)) return false;
    Error err;
    if (qcache_get(s->cache, i, tensor_format(s, i), q, &err) != ST_OK) {
        app_set_status(a, true, "%s", err.msg);
        return false;
    }
    return true;
}

/* Points the cache at tensor i in its format (ranges only; histograms later). */
static void cache_select(App *a, int i, const QTensor *q) {
    const Model *m = a->s->model;
    uint64_t key = format_key(q->fmt);
    if (cache.model == m && cache.tensor == i && cache.fmt_key == key && cache.q == q) return;
    cache_drop_hists();
    cache.model = m;
    cache.tensor = i;
    cache.fmt_key = key;
    cache.q = q;
    cache.block = -1;
    const float *w = m->tensors[i].f32, *d = q->dequant;
    int64_t n = m->tensors[i].n_elements;
    double lo = INFINITY, hi = -INFINITY, e = 0;
    for (int64_t k = 0; k < n; k++) {
        if (w[k] < lo) lo = w[k];
        if (w[k] > hi) hi = w[k];
        if (isfinite(d[k])) {
            if (d[k] < lo) lo = d[k];
            if (d[k] > hi) hi = d[k];
        }
        double err = fabs((double)d[k] - (double)w[k]);
        if (isfinite(err) && err > e) e = err;
    }
    if (!(hi > lo)) { /* a constant tensor */
        double pad = lo != 0 ? fabs(lo) * 0.01 : 1e-3;
        lo -= pad;
        hi += pad;
    }
    cache.lo_all = lo;
    cache.hi_all = hi;
    cache.emax = e;
}

/* The zoomed x range: 1/zoom of the whole range, around 0 when 0 is inside. */
static void view_range(double zoom, double *lo, double *hi) {
    double c = cache.lo_all < 0 && cache.hi_all > 0 ? 0 : (cache.lo_all + cache.hi_all) / 2;
    *lo = c + (cache.lo_all - c) / zoom;
    *hi = c + (cache.hi_all - c) / zoom;
}

static void cache_hists(App *a, int bins, int ebins) {
    if (cache.hist_ok && cache.bins == bins && cache.ebins == ebins && cache.zoom == a->hist.zoom) return;
    cache_drop_hists();
    const ModelTensor *t = &a->s->model->tensors[cache.tensor];
    Error err;
    cache.zoom = a->hist.zoom;
    view_range(cache.zoom, &cache.lo, &cache.hi);
    bool ok = stats_hist_build(&cache.w, t->f32, t->n_elements, cache.lo, cache.hi, bins, NULL, &err) == ST_OK &&
              stats_hist_build(&cache.d, cache.q->dequant, t->n_elements, cache.lo, cache.hi, bins, NULL, &err) == ST_OK;
    if (ok && cache.emax > 0)
        ok = stats_hist_error(&cache.e, t->f32, cache.q->dequant, t->n_elements, -cache.emax, cache.emax, ebins, NULL,
                              &err) == ST_OK;
    if (!ok) {
        app_set_status(a, true, "%s", err.msg);
        cache_drop_hists();
        return;
    }
    cache.bins = bins;
    cache.ebins = ebins;
    cache.hist_ok = true;
}

static void cache_block(App *a) {
    int64_t count = inspect_block_count(cache.q);
    if (a->hist.block >= count) a->hist.block = count - 1;
    if (a->hist.block < 0) a->hist.block = 0;
    if (cache.block == a->hist.block) return;
    Error err;
    cache.block = a->hist.block;
    cache.info_ok = inspect_block(cache.q, a->s->model->tensors[cache.tensor].f32, cache.block, &cache.info, &err) == ST_OK;
    snprintf(cache.info_err, sizeof cache.info_err, "%s", cache.info_ok ? "" : err.msg);
}

/* Everything the screen needs for the current tensor; false (and *why) while a
 * big tensor is still being measured. */
static bool prepare(App *a, int bins, int ebins, TensorStatsEntry *st) {
    const QTensor *q;
    if (!current_data(a, st, &q)) return false;
    cache_select(a, a->hist.tensor, q);
    if (bins > 0) cache_hists(a, bins, ebins > 0 ? ebins : bins);
    cache_block(a);
    return true;
}

/* ------------------------------------------------------------ formatting */

static char *fmt_compact(char *buf, size_t size, double v) {
    if (v < 10000) snprintf(buf, size, "%.0f", v);
    else if (v < 999500) snprintf(buf, size, "%.0fk", v / 1e3);
    else if (v < 999.5e6) snprintf(buf, size, "%.1fM", v / 1e6);
    else snprintf(buf, size, "%.1fG", v / 1e9);
    return buf;
}

/* A value in w columns: fixed point with as many decimals as fit. */
static char *fmt_value(char *buf, size_t size, double v, int w) {
    if (w > 20) w = 20;
    if (w < 6) w = 6;
    int prec = w - 3 - (fabs(v) >= 10 ? (int)floor(log10(fabs(v))) : 0);
    if (prec < 1 || fabs(v) >= 1e5) snprintf(buf, size, "%+*.*g", w, w > 6 ? w - 6 : 1, v);
    else snprintf(buf, size, "%+*.*f", w, prec, v);
    return buf;
}

/* Where the inspected block's grid comes from, for the legend and the PNG. */
static void levels_caption(const BlockInfo *b, char *buf, size_t size, bool brief) {
    switch (b->scope) {
    case INSPECT_SCOPE_TENSOR:
        snprintf(buf, size, "%d levels (one scale for %s)", b->n_levels, brief ? "all" : "the whole tensor");
        break;
    case INSPECT_SCOPE_ROW:
        snprintf(buf, size, "%d levels of row %lld%s", b->n_levels, (long long)b->row, brief ? "" : " (one scale per row)");
        break;
    case INSPECT_SCOPE_BLOCK:
        snprintf(buf, size, "%d levels of block %lld (row %lld, %s%lld-%lld)", b->n_levels, (long long)b->index,
                 (long long)b->row, brief ? "" : "values ", (long long)b->group_col,
                 (long long)(b->group_col + b->group_len - 1));
        break;
    default: buf[0] = '\0';
    }
}

/* ---------------------------------------------------------------- charts */

static void put(int y, int x, Rect r, ThemeRole role, const char *glyph) {
    if (y < r.y || y >= r.y + r.h || x < r.x || x >= r.x + r.w || y >= LINES || x >= COLS) return;
    attrset(theme_attr(role));
    mvaddstr(y, x, glyph);
    attrset(A_NORMAL);
}

/* Height in eighths of a cell for count n on a chart of `rows` rows. */
static int eighths_of(uint64_t n, uint64_t max, int rows, bool log_scale) {
    if (n == 0 || max == 0) return 0;
    double f = log_scale ? log10(1.0 + (double)n) / log10(1.0 + (double)max) : (double)n / (double)max;
    int e = (int)(f * rows * 8 + 0.5);
    return e < 1 ? 1 : e > rows * 8 ? rows * 8 : e;
}

static int column_of(double v, double lo, double hi, int bins) {
    if (v < lo || v > hi) return -1;
    int c = (int)floor((v - lo) / (hi - lo) * bins);
    return c >= bins ? bins - 1 : c;
}

/* The count axis: the top count at the top, 0 at the bottom. */
static void draw_count_axis(Rect r, int y, int h, uint64_t max, bool log_scale) {
    char b[16];
    const Glyphs *g = glyphs();
    draw_textf(y, r.x, LABEL_W - 1, ROLE_DIM, "%*s", LABEL_W - 1, fmt_compact(b, sizeof b, (double)max));
    if (h >= 3) draw_textf(y + h - 1, r.x, LABEL_W - 1, ROLE_DIM, "%*s", LABEL_W - 1, "0");
    if (log_scale && h >= 4) draw_textf(y + 1, r.x, LABEL_W - 1, ROLE_DIM, "%*s", LABEL_W - 1, "log");
    for (int k = 0; k < h; k++) put(y + k, r.x + LABEL_W - 1, r, ROLE_DIM, g->vline);
}

/* x labels under a chart: lo at the left, hi at the right, 0 where it falls. */
static void draw_x_labels(Rect r, int y, int x, int w, double lo, double hi, int bins) {
    char l[24], h[24];
    snprintf(l, sizeof l, "%+.3g", lo);
    snprintf(h, sizeof h, "%+.3g", hi);
    draw_text(y, x, w, ROLE_DIM, l);
    int hw = (int)strlen(h);
    draw_text(y, x + w - hw, hw, ROLE_DIM, h);
    int zc = column_of(0.0, lo, hi, bins);
    if (zc >= 0) {
        int zx = x + zc * w / bins;
        if (zx > x + (int)strlen(l) && zx < x + w - hw - 1) draw_text(y, zx, 1, ROLE_DIM, "0");
    }
    (void)r;
}

/* The weights chart: bars of weights, a marker at the height of the decoded
 * values' count, the level grid as ticks on the axis row (and dotted lines when
 * they are few enough to tell apart). */
static void draw_weights_chart(App *a, Rect r, int y, int h) {
    const Glyphs *g = glyphs();
    int x = r.x + LABEL_W, w = r.w - LABEL_W - 1;
    int bins = cache.w.n_bins;
    uint64_t max = stats_hist_max(&cache.w), dmax = stats_hist_max(&cache.d);
    if (dmax > max) max = dmax;
    bool log_scale = a->hist.log_scale;
    draw_count_axis(r, y, h, max, log_scale);

    /* level columns */
    static bool level_col[1024];
    int n_level_cols = 0;
    memset(level_col, 0, sizeof level_col);
    const BlockInfo *b = cache.info_ok ? &cache.info : NULL;
    for (int i = 0; b && i < b->n_levels; i++) {
        int c = column_of(b->levels[i], cache.lo, cache.hi, bins);
        if (c >= 0 && c < 1024 && !level_col[c]) {
            level_col[c] = true;
            n_level_cols++;
        }
    }
    bool lines = n_level_cols > 0 && n_level_cols <= bins / 3;

    for (int c = 0; c < bins && c < w; c++) {
        int e = eighths_of(cache.w.counts[c], max, h, log_scale);
        int ed = eighths_of(cache.d.counts[c], max, h, log_scale);
        /* from the bottom; none when nothing was rounded (the two series are one) */
        int marker_row = ed > 0 && cache.emax > 0 ? (ed - 1) / 8 : -1;
        for (int k = 0; k < h; k++) {
            int cell = e - 8 * k;
            int yy = y + h - 1 - k;
            if (k == marker_row) put(yy, x + c, r, ROLE_BAR_PLAN, g->mark);
            else if (cell > 0) put(yy, x + c, r, ROLE_BAR_FP32, g->vbar[cell > 8 ? 8 : cell]);
            else if (lines && level_col[c]) put(yy, x + c, r, ROLE_GRID, g->gridline);
        }
    }
    /* the axis row, with a tick at every level */
    int ay = y + h;
    put(ay, r.x + LABEL_W - 1, r, ROLE_DIM, g->bl);
    for (int c = 0; c < w; c++)
        put(ay, x + c, r, c < bins && level_col[c] ? ROLE_GRID : ROLE_DIM, c < bins && level_col[c] ? g->tick : g->hline);
    draw_x_labels(r, ay + 1, x, w, cache.lo, cache.hi, bins);
}

static void draw_error_chart(App *a, Rect r, int y, int h) {
    const Glyphs *g = glyphs();
    int x = r.x + LABEL_W, w = r.w - LABEL_W - 1;
    int bins = cache.e.n_bins;
    uint64_t max = stats_hist_max(&cache.e);
    bool log_scale = a->hist.log_scale;
    draw_count_axis(r, y, h, max, log_scale);
    for (int c = 0; c < bins && c < w; c++) {
        int e = eighths_of(cache.e.counts[c], max, h, log_scale);
        for (int k = 0; k < h; k++) {
            int cell = e - 8 * k;
            if (cell > 0) put(y + h - 1 - k, x + c, r, ROLE_BAR_PLAN, g->vbar[cell > 8 ? 8 : cell]);
        }
    }
    draw_x_labels(r, y + h, x, w, -cache.emax, cache.emax, bins);
}

/* --------------------------------------------------------------- layout */

typedef struct Layout {
    int header;
    int wy, wh;          /* weights chart: rows wy .. wy+wh-1, axis wy+wh, labels +1 */
    int legend;
    int ehead, ey, eh;   /* error chart: heading, rows, labels at ey+eh */
    int fig1, fig2, hint;
    int fig3, fig4;      /* outliers; inputs or the edited-weights warning (0: no room) */
    int iy, ih;          /* inspector (ih 0: closed) */
} Layout;

enum { INSPECT_ROWS = 20, FIXED_ROWS = 9 };

/* Rows for the outliers and inputs lines: both on a full screen, one (the
 * warning if weights are edited, else the outliers) when rows are short. */
static int extra_rows(int h) {
    return h >= 20 ? 2 : h >= 16 ? 1 : 0;
}

static Layout layout(const App *a, Rect r) {
    Layout L;
    memset(&L, 0, sizeof L);
    L.header = r.y;
    if (a->hist.inspect) {
        if (r.h >= INSPECT_ROWS + 10) { /* the weights chart above the inspector */
            L.wy = r.y + 1;
            L.wh = r.h - INSPECT_ROWS - 4;
            L.legend = L.wy + L.wh + 2;
            L.iy = r.y + r.h - INSPECT_ROWS;
            L.ih = INSPECT_ROWS;
        } else {
            L.iy = r.y;
            L.ih = r.h;
        }
        return L;
    }
    int extra = extra_rows(r.h);
    int charts = r.h - FIXED_ROWS - extra;
    int eh = charts * 2 / 5;
    if (eh < 3) eh = 3;
    L.wy = r.y + 1;
    L.wh = charts - eh;
    L.legend = L.wy + L.wh + 2;
    L.ehead = L.legend + 1;
    L.ey = L.ehead + 1;
    L.eh = eh;
    L.fig1 = L.ey + eh + 1;
    L.fig2 = L.fig1 + 1;
    if (extra == 2) {
        L.fig3 = L.fig2 + 1;
        L.fig4 = L.fig3 + 1;
    } else if (extra == 1) {
        if (session_weights_edited(a->s)) L.fig4 = L.fig2 + 1;
        else L.fig3 = L.fig2 + 1;
    }
    L.hint = L.fig2 + 1 + extra;
    return L;
}

/* ------------------------------------------------------------- sections */

static void draw_header(App *a, Rect r, int y, bool marker) {
    const Session *s = a->s;
    int i = a->hist.tensor;
    const ModelTensor *t = &s->model->tensors[i];
    char shape[32], fmt[64];
    model_tensor_shape(t, shape, sizeof shape);
    format_label(tensor_format(s, i), fmt, sizeof fmt);
    int x = r.x;
    draw_textf(y, x, 2, ROLE_TITLE, "%s ", marker ? glyphs()->arrow_r : " ");
    x += 2;
    x += draw_textf(y, x, r.w - (x - r.x), ROLE_TITLE, "%s", t->name);
    x += draw_textf(y, x, r.w - (x - r.x), ROLE_DIM, "  %s  ", shape);
    x += draw_textf(y, x, r.w - (x - r.x), ROLE_CHANGED, "%s", plan_is_quantizable(t) ? fmt : t->is_norm ? "FP32 (norm)" : "FP32");
    char right[3][96], outside[48] = "";
    if (a->hist.zoom > 1 && cache.hist_ok && cache.tensor == i && cache.w.below + cache.w.above > 0) {
        char b[32];
        snprintf(outside, sizeof outside, ", %s weights outside",
                 ui_fmt_count(b, sizeof b, (double)(cache.w.below + cache.w.above)));
    }
    /* the longest of these that fits */
    const char *lg = a->hist.log_scale ? "  log" : "";
    snprintf(right[0], sizeof right[0], "tensor %d/%d  zoom %gx%s%s", i + 1, s->model->n_tensors, a->hist.zoom, outside, lg);
    snprintf(right[1], sizeof right[1], "zoom %gx%s%s", a->hist.zoom, outside, lg);
    snprintf(right[2], sizeof right[2], "zoom %gx%s", a->hist.zoom, lg);
    for (int k = 0; k < 3; k++) {
        int n = (int)strlen(right[k]);
        if (r.x + r.w - n - 1 > x + 1) {
            draw_text(y, r.x + r.w - n - 1, n, ROLE_DIM, right[k]);
            break;
        }
    }
}

static void draw_legend(App *a, Rect r, int y) {
    const Glyphs *g = glyphs();
    int x = r.x + 1, end = r.x + r.w - 1;
    char fmt[64];
    format_label(cache.q->fmt, fmt, sizeof fmt);
    x += draw_textf(y, x, end - x, ROLE_BAR_FP32, "%s", g->vbar[8]);
    x += draw_textf(y, x, end - x, ROLE_NORMAL, " weights  ");
    bool f32 = cache.q->fmt.kind == FORMAT_GGML && cache.q->fmt.type == GGML_TYPE_F32;
    if (f32) {
        draw_text(y, x, end - x, ROLE_DIM, "FP32 stores them exactly: no grid, no rounding");
        return;
    }
    x += draw_textf(y, x, end - x, ROLE_BAR_PLAN, "%s", g->mark);
    x += draw_textf(y, x, end - x, ROLE_NORMAL, " after rounding  ");
    const BlockInfo *b = cache.info_ok ? &cache.info : NULL;
    if (!b || b->n_levels == 0) {
        draw_textf(y, x, end - x, ROLE_DIM, "no grid: each weight rounds to the nearest %s", fmt);
        return;
    }
    /* what a pruned or split format adds to the picture, said first when room is short */
    Format f = cache.q->fmt;
    char more[128] = "";
    if (f.prune == PRUNE_2_4) snprintf(more, sizeof more, "  spike at 0: 2:4 pruned");
    else if (f.prune) snprintf(more, sizeof more, "  spike at 0: %d%% pruned", f.prune_pct);
    if (f.split && cache.q->n_outliers > 0) {
        char k[32];
        size_t n = strlen(more);
        snprintf(more + n, sizeof more - n, "  %s kept in FP16 off the grid",
                 ui_fmt_count(k, sizeof k, (double)cache.q->n_outliers));
    }
    char cap[128];
    levels_caption(b, cap, sizeof cap, false);
    if (x + 2 + draw_width(cap) + draw_width(more) > end) levels_caption(b, cap, sizeof cap, true);
    if (x + 2 + draw_width(cap) + draw_width(more) > end) snprintf(cap, sizeof cap, "%d levels", b->n_levels);
    x += draw_textf(y, x, end - x, ROLE_GRID, "%s", g->tick);
    x += draw_textf(y, x, end - x, ROLE_NORMAL, " %s", cap);
    if (more[0]) draw_text(y, x, end - x, ROLE_WARN, more);
    (void)a;
}

/* ------------------------------------------------- outliers and inputs */

/* The outlier facts of the shown tensor, for the session's generation (an
 * injected outlier changes them; so may nothing else, but a generation is cheap
 * to compare and a tensor's facts take one pass). */
static struct {
    const Session *s;
    const Model *m;
    unsigned generation;
    int tensor;
    bool ok;
    OutlierFacts f;
} facts = {.tensor = -1};

static const OutlierFacts *tensor_facts(App *a, int i) {
    const Session *s = a->s;
    if (facts.s == s && facts.m == s->model && facts.generation == s->generation && facts.tensor == i)
        return facts.ok ? &facts.f : NULL;
    const ModelTensor *t = &s->model->tensors[i];
    Error err;
    facts.s = s;
    facts.m = s->model;
    facts.generation = s->generation;
    facts.tensor = i;
    facts.ok = t->f32 && outliers_facts(t->f32, t->rows, t->cols, 1, &facts.f, &err) == ST_OK;
    return facts.ok ? &facts.f : NULL;
}

static void draw_outliers(App *a, Rect r, int y) {
    const OutlierFacts *f = tensor_facts(a, cache.tensor);
    if (!f || f->n_top == 0) return;
    const OutlierEntry *e = &f->top[0];
    char l1[200], l2[200], l3[200], k6[32];
    ui_fmt_count(k6, sizeof k6, (double)f->beyond_6std);
    snprintf(l1, sizeof l1, "outliers: largest |w| %.3g at [%lld, %lld] = %.1f std; kurtosis %.1f (Gaussian 3); %s beyond 6 std",
             fabs((double)e->value), (long long)e->row, (long long)e->col, f->max_over_std, f->kurtosis, k6);
    snprintf(l2, sizeof l2, "largest |w| %.3g at [%lld, %lld] = %.1f std  kurtosis %.1f  beyond 6 std: %s",
             fabs((double)e->value), (long long)e->row, (long long)e->col, f->max_over_std, f->kurtosis, k6);
    snprintf(l3, sizeof l3, "max|w| %.3g = %.1f std  kurtosis %.1f", fabs((double)e->value), f->max_over_std, f->kurtosis);
    ThemeRole role = f->max_over_std >= 10 ? ROLE_WARN : ROLE_NORMAL;
    draw_text(y, r.x + 1, r.w - 2, role, draw_fitting(r.w - 2, l1, l2, l3));
}

/* The inputs the shown matrix reads (eval.txt, else calib.txt), or the
 * warning that weights are edited. */
static void draw_inputs(App *a, Rect r, int y) {
    Session *s = a->s;
    int w = r.w - 2, i = cache.tensor;
    const ModelTensor *t = &s->model->tensors[i];
    char l1[256], l2[256];
    if (session_weights_edited(s)) {
        const WeightEdit *e = &s->edits.items[s->edits.n - 1];
        const ModelTensor *et = &s->model->tensors[e->tensor];
        int64_t row = e->index / et->cols, col = e->index % et->cols;
        if (e->tensor == i) {
            snprintf(l1, sizeof l1, "EDITED: w[%lld, %lld] %+.3g -> %+.3g: every figure is of the edited model",
                     (long long)row, (long long)col, (double)e->original, (double)e->value);
            snprintf(l2, sizeof l2, "EDITED: w[%lld, %lld] %+.3g -> %+.3g; r restores", (long long)row, (long long)col,
                     (double)e->original, (double)e->value);
        } else {
            snprintf(l1, sizeof l1, "EDITED: a weight of %s is changed (x); r restores the model", et->name);
            snprintf(l2, sizeof l2, "EDITED: %s; r restores", et->name);
        }
        draw_text(y, r.x + 1, w, ROLE_WARN, draw_fitting(w, l1, l2, NULL));
        return;
    }
    double prog;
    if (session_job_progress(s, JOB_ACTS, &prog, NULL, 0)) {
        draw_text(y, r.x + 1, w, ROLE_DIM, "inputs: the FP32 model is reading eval.txt (Esc stops)...");
        return;
    }
    bool eval = true;
    const CalibSite *site = session_activation_site(s, i, true);
    if (!site) {
        site = session_activation_site(s, i, false);
        eval = false;
    }
    if (!site) {
        const char *why = !plan_is_quantizable(t) ? "inputs: ranges are measured for matrices"
                          : i == s->model->token_embd && !s->model->tied_output
                              ? "inputs: token_embd is looked up by token, not multiplied: it reads no inputs"
                              : "inputs: A measures what this matrix reads while the model runs eval.txt";
        draw_text(y, r.x + 1, w, ROLE_DIM, why);
        return;
    }
    double rms = site->count > 0 && site->n > 0 ? sqrt(site->sum_sq / ((double)site->count * (double)site->n)) : 0;
    int64_t widest = 0;
    for (int64_t c = 1; site->chan_absmax && c < site->n; c++)
        if (site->chan_absmax[c] > site->chan_absmax[widest]) widest = c;
    const char *text = eval ? "eval.txt" : "calib.txt";
    snprintf(l1, sizeof l1, "inputs on %s: %+.3g .. %+.3g, RMS %.3g; widest channel %lld: |x| %.3g = %.1fx RMS", text,
             (double)site->min, (double)site->max, rms, (long long)widest, (double)site->absmax,
             rms > 0 ? site->absmax / rms : 0.0);
    char l3[256];
    snprintf(l2, sizeof l2, "inputs on %s: %+.3g .. %+.3g, RMS %.3g; channel %lld reaches %.1fx RMS", text,
             (double)site->min, (double)site->max, rms, (long long)widest, rms > 0 ? site->absmax / rms : 0.0);
    snprintf(l3, sizeof l3, "inputs (%s): %+.3g .. %+.3g, RMS %.3g, max %.1fx RMS", text, (double)site->min,
             (double)site->max, rms, rms > 0 ? site->absmax / rms : 0.0);
    draw_text(y, r.x + 1, w, ROLE_NORMAL, draw_fitting(w, l1, l2, l3));
}

static void draw_figures(App *a, Rect r, const Layout *L, const TensorStatsEntry *e) {
    const ModelTensor *t = &a->s->model->tensors[cache.tensor];
    const WeightStats *st = &e->st;
    char b1[32], b2[32];
    int w = r.w - 2;
    if (cache.emax == 0) {
        draw_textf(L->fig1, r.x + 1, w, ROLE_NORMAL, "no rounding: every weight is stored exactly, RMSE 0, SQNR exact");
    } else {
        ThemeRole q = st->sqnr_db < 15 ? ROLE_BAD : st->sqnr_db < 25 ? ROLE_WARN : ROLE_NORMAL;
        int x = r.x + 1;
        x += draw_textf(L->fig1, x, w, ROLE_NORMAL, "RMSE %.3g (%.2g%% of RMS)  ", st->rmse, 100 * st->rel_rmse);
        if (isinf(st->sqnr_db)) x += draw_textf(L->fig1, x, r.x + r.w - 1 - x, ROLE_NORMAL, "SQNR exact  ");
        else x += draw_textf(L->fig1, x, r.x + r.w - 1 - x, q, "SQNR %.1f dB", st->sqnr_db);
        draw_textf(L->fig1, x, r.x + r.w - 1 - x, ROLE_NORMAL, "  max|err| %.3g  zeroed %.1f%%", st->max_abs_err,
                   100 * st->zeroed);
    }
    char lv[32];
    if (st->n_levels > STATS_MAX_LEVELS) snprintf(lv, sizeof lv, "%d+", STATS_MAX_LEVELS);
    else snprintf(lv, sizeof lv, "%lld", (long long)st->n_levels);
    draw_textf(L->fig2, r.x + 1, w, ROLE_NORMAL, "%s distinct values  %s bytes  %.2f bits/weight  FP32 %s bytes",
               lv, ui_fmt_count(b1, sizeof b1, ceil(e->bytes)), e->bytes * 8.0 / (double)t->n_elements,
               ui_fmt_count(b2, sizeof b2, 4.0 * (double)t->n_elements));
}

/* ------------------------------------------------------------- inspector */

/* The block's bytes in hex from row y, wrapped to the width; the scale (and
 * min) set apart from the codes by a second space. Returns the next free row. */
static int draw_bytes(Rect r, int y, int y_end, const BlockInfo *b) {
    const int room = r.w - 8;
    const size_t head = b->has_codes ? (b->has_min ? 4 : 2) : 0;
    char line[512];
    size_t k = 0;
    draw_text(y, r.x + 1, 6, ROLE_DIM, "bytes");
    while (y < y_end && k < b->n_bytes) {
        int n = 0;
        line[0] = '\0';
        while (k < b->n_bytes) {
            const char *sep = n == 0 ? "" : head && k == head ? "  " : " ";
            if (n + (int)strlen(sep) + 2 > room - 4) break; /* room for " ..." */
            n += snprintf(line + n, sizeof line - (size_t)n, "%s%02X", sep, b->bytes[k]);
            k++;
        }
        bool more = k < b->n_bytes && y + 1 >= y_end;
        draw_textf(y, r.x + 7, room, ROLE_NORMAL, "%s%s", line, more ? " ..." : "");
        y++;
    }
    return y;
}

static const char *layout_note(const BlockInfo *b) {
    if (b->fmt.kind == FORMAT_TEACH) return NULL;
    switch (b->fmt.type) {
    case GGML_TYPE_Q4_0:
    case GGML_TYPE_IQ4_NL: return "d as FP16 little-endian, then byte j = code j + 16 x code j+16";
    case GGML_TYPE_Q4_1: return "d, m as FP16 little-endian, then byte j = code j + 16 x code j+16";
    case GGML_TYPE_Q5_0: return "d, then 4 bytes: bit k = 5th bit of code k, then the low nibbles";
    case GGML_TYPE_Q5_1: return "d, m, then 4 bytes: bit k = 5th bit of code k, then the low nibbles";
    case GGML_TYPE_Q8_0: return "d as FP16 little-endian, then one byte per code (two's complement)";
    default: return "each value little-endian, as a GGUF file stores it";
    }
}

/* Every level of the block's grid with how many of its values landed there,
 * as many rows as fit from y. */
static void draw_level_list(Rect r, int y, int end, const BlockInfo *b) {
    draw_text(y, r.x + 1, 6, ROLE_DIM, "grid");
    const int cell = 15, per_line = (r.w - 8) / cell;
    for (int i = 0; i < b->n_levels; i++) {
        int line = i / per_line, col = i % per_line;
        if (y + line >= end) break;
        int count = 0;
        for (int k = 0; k < b->n; k++) count += (double)b->decoded[k] == b->levels[i];
        bool last_room = y + line + 1 >= end && col == per_line - 1 && i + 1 < b->n_levels;
        char text[40];
        if (last_room) snprintf(text, sizeof text, "...");
        else if (b->levels[i] == 0) snprintf(text, sizeof text, "0 x%d", count);
        else snprintf(text, sizeof text, "%+.4f x%d", b->levels[i], count);
        draw_text(y + line, r.x + 7 + col * cell, cell - 1, count ? ROLE_NORMAL : ROLE_DIM, text);
        if (last_room) break;
    }
}

/* An outlier split's side list, for the inspected window: the weights kept in
 * FP16 (their place in the window, as the value rows number them, and value).
 * The dense codes hold 0 there; the decoded row shows code + FP16 value. */
static void draw_block_outliers(Rect r, int y, const BlockInfo *b) {
    const QTensor *q = cache.q;
    char list[256] = "";
    size_t n = 0;
    int count = 0;
    for (int64_t k = q->sp_row ? q->sp_row[b->row] : 0; q->sp_row && k < q->sp_row[b->row + 1]; k++) {
        int64_t c = q->sp_col[k];
        if (c < b->col || c >= b->col + b->n) continue;
        count++;
        if (n + 24 < sizeof list)
            n += (size_t)snprintf(list + n, sizeof list - n, "  w%lld = %+.4f", (long long)(c - b->col), (double)q->sp_val[k]);
    }
    if (count == 0)
        draw_textf(y, r.x + 1, r.w - 2, ROLE_DIM, "outlier split: none of this block's weights is among the %lld kept in FP16",
                   (long long)q->n_outliers);
    else
        draw_textf(y, r.x + 1, r.w - 2, ROLE_WARN, "%d weight%s of this block kept in FP16 (its code stands for 0):%s", count,
                   count == 1 ? "" : "s", list);
}

static void draw_inspector(Rect r, int y0, int h) {
    const BlockInfo *b = &cache.info;
    int end = y0 + h;
    char fmt[64], v1[32], v2[32];
    format_label(cache.q->fmt, fmt, sizeof fmt);
    if (!cache.info_ok) {
        draw_textf(y0, r.x + 1, r.w - 2, ROLE_BAD, "%s", cache.info_err);
        return;
    }
    const bool utf8 = glyphs()->utf8;
    const int right = r.x + r.w - 1;
    int x = r.x + 1;
    x += draw_textf(y0, x, r.w - 2, ROLE_TITLE, "Block %s of %s: row %lld, values %lld-%lld",
                    ui_fmt_count(v1, sizeof v1, (double)b->index), ui_fmt_count(v2, sizeof v2, (double)b->count),
                    (long long)b->row, (long long)b->col, (long long)(b->col + b->n - 1));
    x += draw_textf(y0, x, right - x, ROLE_CHANGED, "  %s", fmt);
    const char *keys = utf8 ? "\u2190\u2192 block  \u2191\u2193 row  Esc close" : "Left/Right block  Esc close";
    const int kw = draw_width(keys);
    bool keys_shown = right - kw > x + 1;
    if (keys_shown) draw_text(y0, right - kw, kw, ROLE_DIM, keys);

    /* the scale line: each piece only when it fits whole */
    int y = y0 + 1;
    x = r.x + 1;
    char piece[128];
    if (b->has_scale) {
        snprintf(piece, sizeof piece, "%s = %.6g (FP16 %02X %02X)", b->fmt.kind == FORMAT_TEACH ? "scale s" : "scale d",
                 b->scale, b->scale_fp16 & 0xFF, b->scale_fp16 >> 8);
        x += 2 + draw_textf(y, x, right - x, ROLE_NORMAL, "%s", piece);
        if (b->has_min) {
            snprintf(piece, sizeof piece, "min m = %.6g (FP16 %02X %02X)", b->min, b->min_fp16 & 0xFF, b->min_fp16 >> 8);
            if (x + (int)strlen(piece) <= right) x += 2 + draw_textf(y, x, right - x, ROLE_NORMAL, "%s", piece);
        }
        if (b->has_zero) {
            snprintf(piece, sizeof piece, "zero point z = %d", (int)b->zero);
            if (x + (int)strlen(piece) <= right) x += 2 + draw_textf(y, x, right - x, ROLE_NORMAL, "%s", piece);
        }
        if (x + (int)strlen(b->rule) <= right) draw_text(y, x, right - x, ROLE_DIM, b->rule);
    } else {
        draw_textf(y, x, r.w - 2, ROLE_NORMAL, "%s: %s; no scale, no grid: %s", fmt, b->rule,
                   cache.emax == 0 ? "nothing rounded" : "each value rounded alone");
    }
    y++;
    if (b->fmt.split && y < end) draw_block_outliers(r, y++, b);

    /* the values, 8 to a row: weight, code, decoded, error */
    int cw = (r.w - 2 - 6) / 8;
    if (cw > 11) cw = 11; /* 7 decimals: about what a float holds */
    int groups = (b->n_stored + 7) / 8;
    bool floats = !b->has_codes;
    for (int gi = 0; gi < groups && y + 4 <= end - 1; gi++) {
        static const char *const labels[4] = {"w", "code", "w~", "err"};
        for (int row = 0; row < 4; row++, y++) {
            char lab[16];
            snprintf(lab, sizeof lab, "%s", row == 1 && floats ? "bits" : labels[row]);
            if (row == 0) snprintf(lab, sizeof lab, "w%-3d", gi * 8);
            draw_textf(y, r.x + 1, 6, ROLE_DIM, "%-6s", lab);
            for (int j = 0; j < 8; j++) {
                int k = gi * 8 + j;
                if (k >= b->n_stored) break;
                int cx = r.x + 7 + j * cw;
                bool pad = k >= b->n;
                char cell[40];
                ThemeRole role = ROLE_NORMAL;
                switch (row) {
                case 0:
                    if (pad) snprintf(cell, sizeof cell, "%*s", cw - 1, "pad"), role = ROLE_DIM;
                    else fmt_value(cell, sizeof cell, b->values[k], cw - 1);
                    break;
                case 1:
                    if (floats) snprintf(cell, sizeof cell, "%*X", cw - 1, (unsigned)b->raw[k]);
                    else snprintf(cell, sizeof cell, "%*d", cw - 1, (int)b->codes[k]);
                    role = ROLE_CHANGED;
                    break;
                case 2:
                    if (b->decoded[k] == 0) snprintf(cell, sizeof cell, "%*s", cw - 1, "0"); /* -0 too */
                    else fmt_value(cell, sizeof cell, b->decoded[k], cw - 1);
                    break;
                default: {
                    double err = (double)b->decoded[k] - (double)b->values[k];
                    if (pad) snprintf(cell, sizeof cell, "%*s", cw - 1, "");
                    else if (err == 0) snprintf(cell, sizeof cell, "%*s", cw - 1, "0"), role = ROLE_DIM;
                    else fmt_value(cell, sizeof cell, err, cw - 1), role = b->decoded[k] == 0 ? ROLE_WARN : ROLE_NORMAL;
                }
                }
                draw_text(y, cx, cw, role, cell);
            }
        }
    }

    /* the bytes, and how to read them */
    if (b->n_bytes > 0) {
        const char *note = layout_note(b);
        y = draw_bytes(r, y, end, b);
        if (note && y < end) draw_text(y++, r.x + 7, r.w - 8, ROLE_DIM, note);
    } else {
        char scope[128] = "";
        if (b->scope == INSPECT_SCOPE_TENSOR) snprintf(scope, sizeof scope, "One scale for the whole tensor.");
        else if (b->scope == INSPECT_SCOPE_ROW) snprintf(scope, sizeof scope, "One scale per row: row %lld's.", (long long)b->row);
        else if (b->group_len > b->n)
            snprintf(scope, sizeof scope, "One scale for values %lld-%lld (a block of %u%s).", (long long)b->group_col,
                     (long long)(b->group_col + b->group_len - 1), (unsigned)b->fmt.block,
                     b->group_len < b->fmt.block ? ", cut at the row's end" : "");
        if (scope[0] && y < end) {
            int used = draw_textf(y, r.x + 1, r.w - 2, ROLE_DIM, "%s", scope);
            if (!keys_shown && r.x + 1 + used + 2 < right - kw) {
                draw_text(y, right - kw, kw, ROLE_DIM, keys);
                keys_shown = true;
            }
            y++;
        }
        if (y < end)
            draw_textf(y++, r.x + 1, r.w - 2, ROLE_DIM, "No file format holds these %d-bit codes: quantlab keeps them in memory.",
                       b->code_bits);
    }
    if (!keys_shown && y < end) draw_text(y++, r.x + 1, r.w - 2, ROLE_DIM, keys);
    if (y + 1 < end && b->n_levels > 0 && b->n_levels <= 64) draw_level_list(r, y + 1, end, b);
}

/* ----------------------------------------------------------------- draw */

static void draw_pending(App *a, Rect r) {
    double prog;
    char label[64];
    draw_header(a, r, r.y, false);
    if (tensor_format(a->s, a->hist.tensor).method == METHOD_GPTQ && session_needs_calibration(a->s)) {
        bool running = session_job_progress(a->s, JOB_CALIB, &prog, label, sizeof label);
        draw_text(r.y + 2, r.x + 1, r.w - 2, ROLE_DIM,
                  running ? "GPTQ weighs rounding errors by this matrix's inputs: calibrating on calib.txt..."
                          : "GPTQ needs a calibration on calib.txt first: C runs it, u undoes the format.");
        if (running) draw_progress(r.y + 3, r.x + 1, r.w - 2 < 60 ? r.w - 2 : 60, prog, label);
    } else if (session_job_progress(a->s, JOB_STATS, &prog, label, sizeof label)) {
        draw_text(r.y + 2, r.x + 1, r.w - 2, ROLE_DIM, "A big tensor: its statistics are being measured in the background.");
        draw_progress(r.y + 3, r.x + 1, r.w - 2 < 60 ? r.w - 2 : 60, prog, label);
    } else {
        draw_text(r.y + 2, r.x + 1, r.w - 2, ROLE_DIM, "Waiting for this tensor's statistics...");
    }
}

static void hist_draw(App *a, Rect r) {
    if (a->hist.zoom < 1) a->hist.zoom = 1;
    Layout L = layout(a, r);
    int w = r.w - LABEL_W - 1;
    if (w > 1024) w = 1024;
    TensorStatsEntry st;
    if (!prepare(a, w, w, &st)) {
        draw_pending(a, r);
        return;
    }
    if (!cache.hist_ok) {
        draw_header(a, r, r.y, false);
        return;
    }
    if (L.ih == 0 || L.wh > 0) {
        draw_header(a, r, L.header, !a->hist.focus_errors || L.ih > 0);
        draw_weights_chart(a, r, L.wy, L.wh);
        draw_legend(a, r, L.legend);
    }
    if (L.ih > 0) {
        draw_inspector(r, L.iy, L.ih);
        return;
    }
    const ModelTensor *t = &a->s->model->tensors[cache.tensor];
    bool marker = a->hist.focus_errors;
    draw_textf(L.ehead, r.x, 2, ROLE_TITLE, "%s ", marker ? glyphs()->arrow_r : " ");
    if (cache.emax == 0) {
        draw_text(L.ehead, r.x + 2, r.w - 3, ROLE_TITLE, "Rounding error");
        const char *why = !plan_is_quantizable(t) ? (t->is_norm ? "Norm vectors stay FP32, as llama.cpp keeps them."
                                                                : "This tensor stays FP32.")
                                                  : "FP32 keeps every weight exactly.";
        draw_text(L.ey, r.x + 4, r.w - 5, ROLE_DIM, why);
        draw_text(L.ey + 1, r.x + 4, r.w - 5, ROLE_DIM, "Nothing is rounded, so there is no error to show.");
        if (plan_is_quantizable(t))
            draw_text(L.ey + 2, r.x + 4, r.w - 5, ROLE_DIM, "Space or f picks a format with fewer bits: watch the grid appear.");
    } else {
        char n[32];
        int x = r.x + 2;
        x += draw_textf(L.ehead, x, r.w - 3, ROLE_TITLE, "Rounding error");
        draw_textf(L.ehead, x, r.x + r.w - 1 - x, ROLE_DIM, " = rounded value - weight, all %s weights",
                   ui_fmt_count(n, sizeof n, (double)t->n_elements));
        draw_error_chart(a, r, L.ey, L.eh);
    }
    draw_figures(a, r, &L, &st);
    if (L.fig3) draw_outliers(a, r, L.fig3);
    if (L.fig4) draw_inputs(a, r, L.fig4);
    const char *hint = session_weights_edited(a->s)
                           ? "i inspect  f format  x outlier  r restore  +/- zoom  L log  [ ] tensor  P PNG"
                           : "i inspect  f format  x outlier  A inputs  +/- zoom  L log  [ ] tensor  P PNG";
    draw_text(L.hint, r.x + 1, r.w - 2, ROLE_DIM, hint);
}

/* --------------------------------------------------------------- actions */

static void select_tensor(App *a, int dir) {
    const Model *m = a->s->model;
    int i = current_tensor(a);
    for (int k = 0; k < m->n_tensors; k++) {
        i = (i + dir + m->n_tensors) % m->n_tensors;
        if (usable(m, i)) break;
    }
    app_select_tensor(a, i);
    a->hist.block = 0;
    app_set_status(a, false, "%s", m->tensors[i].name);
}

static void change_bits(App *a) {
    Session *s = a->s;
    int i = current_tensor(a);
    const ModelTensor *t = &s->model->tensors[i];
    if (!plan_is_quantizable(t)) {
        app_set_status(a, false, "%s %s: it stays FP32", t->name, t->is_norm ? "is a norm vector" : "is not a matrix");
        return;
    }
    Format cur = s->plan.fmt[i];
    Format next = session_ladder_step(cur, -1);
    if (format_equal(cur, next)) next = FORMAT_FP32; /* INT4 wraps to FP32 */
    char label[64];
    if (session_set_format(s, i, next)) app_set_status(a, false, "%s now %s", t->name, format_label(next, label, sizeof label));
}

/* x: the largest |w| of the inspected block when the inspector is open, else
 * of the whole tensor. */
static void inject(App *a) {
    int i = current_tensor(a);
    TensorStatsEntry st;
    if (!a->hist.inspect || !prepare(a, 0, 0, &st) || !cache.info_ok) {
        app_inject_largest(a, i);
        return;
    }
    const BlockInfo *b = &cache.info;
    app_inject_menu(a, i, b->row, b->col + outliers_largest_index(b->values, b->n));
}

static void move_block(App *a, int64_t delta, bool absolute) {
    TensorStatsEntry st;
    if (!prepare(a, 0, 0, &st)) return;
    int64_t count = inspect_block_count(cache.q);
    int64_t b = absolute ? delta : a->hist.block + delta;
    if (b < 0) b = 0;
    if (b >= count) b = count - 1;
    a->hist.block = b;
}

static int hist_action(App *a, Action act, int ch) {
    (void)ch;
    HistView *v = &a->hist;
    TensorStatsEntry st;
    if (v->inspect) {
        int64_t per_row = 1;
        if (prepare(a, 0, 0, &st)) per_row = inspect_blocks_per_row(cache.q);
        switch (act) {
        case ACT_LEFT: move_block(a, -1, false); return UI_REDRAW | UI_HANDLED;
        case ACT_RIGHT: move_block(a, +1, false); return UI_REDRAW | UI_HANDLED;
        case ACT_UP: move_block(a, -per_row, false); return UI_REDRAW | UI_HANDLED;
        case ACT_DOWN: move_block(a, +per_row, false); return UI_REDRAW | UI_HANDLED;
        case ACT_PAGE_UP: move_block(a, -10 * per_row, false); return UI_REDRAW | UI_HANDLED;
        case ACT_PAGE_DOWN: move_block(a, +10 * per_row, false); return UI_REDRAW | UI_HANDLED;
        case ACT_HOME: move_block(a, 0, true); return UI_REDRAW | UI_HANDLED;
        case ACT_END: move_block(a, INT64_MAX, true); return UI_REDRAW | UI_HANDLED;
        case ACT_CANCEL:
        case ACT_INSPECT: v->inspect = false; return UI_REDRAW | UI_HANDLED;
        default: break;
        }
    }
    switch (act) {
    case ACT_LEFT:
    case ACT_PREV_TENSOR: select_tensor(a, -1); return UI_REDRAW | UI_HANDLED;
    case ACT_RIGHT:
    case ACT_NEXT_TENSOR: select_tensor(a, +1); return UI_REDRAW | UI_HANDLED;
    case ACT_UP: v->focus_errors = false; return UI_REDRAW | UI_HANDLED;
    case ACT_DOWN: v->focus_errors = true; return UI_REDRAW | UI_HANDLED;
    case ACT_ZOOM_IN:
        if (v->zoom < ZOOM_MAX) v->zoom *= 2;
        return UI_REDRAW | UI_HANDLED;
    case ACT_ZOOM_OUT:
        if (v->zoom > 1) v->zoom /= 2;
        return UI_REDRAW | UI_HANDLED;
    case ACT_ZOOM_RESET: v->zoom = 1; return UI_REDRAW | UI_HANDLED;
    case ACT_LOG_SCALE:
        v->log_scale = !v->log_scale;
        app_set_status(a, false, "counts: %s", v->log_scale ? "logarithmic (small bars show)" : "linear");
        return UI_REDRAW | UI_HANDLED;
    case ACT_INSPECT:
        if (!prepare(a, 0, 0, &st)) {
            app_set_status(a, false, "wait: this tensor is still being measured");
            return UI_REDRAW | UI_HANDLED;
        }
        v->inspect = true;
        return UI_REDRAW | UI_HANDLED;
    case ACT_FEWER_BITS: change_bits(a); return UI_REDRAW | UI_HANDLED;
    case ACT_FORMAT_ALL: app_format_menu(a, INT32_MIN); return UI_REDRAW | UI_HANDLED;
    case ACT_INJECT: inject(a); return UI_REDRAW | UI_HANDLED;
    case ACT_ACTIVATIONS: {
        double prog;
        if (session_job_progress(a->s, JOB_ACTS, &prog, NULL, 0)) {
            app_set_status(a, false, "measuring already: the FP32 model is reading eval.txt");
        } else {
            session_request_activations(a->s);
            app_set_status(a, false, "measuring input ranges: the FP32 model reads eval.txt (Esc stops)");
        }
        return UI_REDRAW | UI_HANDLED;
    }
    case ACT_FORMAT_MENU: {
        int i = current_tensor(a);
        if (plan_is_quantizable(&a->s->model->tensors[i])) app_format_menu(a, i);
        else app_set_status(a, false, "%s stays FP32", a->s->model->tensors[i].name);
        return UI_REDRAW | UI_HANDLED;
    }
    default: return UI_NONE;
    }
}

static int hist_click(App *a, Rect r, int y, int x, bool double_click) {
    (void)x;
    Layout L = layout(a, r);
    if (L.ih > 0) return UI_NONE;
    a->hist.focus_errors = r.y + y >= L.ehead;
    if (double_click) a->hist.inspect = true;
    return UI_REDRAW;
}

static void hist_enter(App *a) {
    static unsigned seen_generation;
    static const Session *seen_session;
    /* the session changed (a new plan, another model): nothing cached may be
     * trusted, since a freed model's addresses can come back for a new one */
    if (a->s != seen_session || a->s->generation != seen_generation) {
        cache_drop_hists();
        cache.model = NULL;
        cache.tensor = -1;
        seen_session = a->s;
        seen_generation = a->s->generation;
    }
    current_tensor(a);
    if (a->hist.zoom < 1) a->hist.zoom = 1;
}

/* ------------------------------------------------------------------ PNG */

static int hist_export_png(App *a, const char *path, char *msg, size_t size) {
    Session *s = a->s;
    TensorStatsEntry st;
    if (!prepare(a, 0, 0, &st)) {
        snprintf(msg, size, "this tensor is still being measured; try again in a moment");
        return 0;
    }
    const ModelTensor *t = &s->model->tensors[cache.tensor];
    char fmt[64], caption[512], levels[256], shape[32];
    format_label(cache.q->fmt, fmt, sizeof fmt);
    model_tensor_shape(t, shape, sizeof shape);
    snprintf(caption, sizeof caption, "model: %s   plan: %s, %.2f bits/weight   tensor: %s (%s), %.2f bits/weight",
             s->model->name, s->plan_label, session_plan_bits(s), t->name, shape, st.bytes * 8.0 / (double)t->n_elements);
    levels[0] = '\0';
    if (cache.info_ok) {
        levels_caption(&cache.info, levels, sizeof levels, true);
    }
    double lo, hi;
    view_range(a->hist.zoom, &lo, &hi);
    TensorPlot p = {
        .tensor_name = t->name,
        .format_label = fmt,
        .orig = t->f32,
        .deq = cache.q->dequant,
        .n = t->n_elements,
        .lo = lo,
        .hi = hi,
        .levels = cache.info_ok ? cache.info.levels : NULL,
        .n_levels = cache.info_ok ? cache.info.n_levels : 0,
        .levels_name = levels,
        .log_scale = a->hist.log_scale,
        .has_stats = true,
        .stats = st.st,
        .caption = caption,
    };
    Error err;
    TensorPlotKind kind = a->hist.focus_errors ? TENSOR_PLOT_ERRORS : TENSOR_PLOT_WEIGHTS;
    if (tensor_plot_png(path, kind, &p, &err) != ST_OK) {
        snprintf(msg, size, "%s", err.msg);
        return 0;
    }
    snprintf(msg, size, "wrote %s (%s of %s)", path, kind == TENSOR_PLOT_ERRORS ? "rounding error" : "weights", t->name);
    return 1;
}

const Screen SCREEN_HIST_DEF = {"Histogram", SCR_HIST, hist_enter, hist_draw, hist_action, hist_click, hist_export_png};
