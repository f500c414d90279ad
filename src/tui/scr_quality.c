/* scr_quality.c — the Quality screen: how far the plan's predictions drift from
 * FP32's (perplexity, KL divergence, top-1 agreement), the plan by
 * round-to-nearest and by GPTQ side by side (G), which tensors a format hurts
 * most (the sensitivity scan, as bars), and where every plan measured in this
 * session lies between size and damage (the frontier, as a text scatter).
 *
 * The measurements run on the session's worker (session_request_quality,
 * session_request_sensitivity); results live in the Session (quality, sens,
 * frontier). This file only chooses what to ask for and draws; the scatter's
 * layout is tui/layout.c's. P saves the bars or the frontier as a PNG
 * (plot/chart.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/chart.h"
#include "plot/png_write.h"
#include "quant/types.h"
#include "tui/layout.h"
#include "tui/ui.h"

/* Bars in a PNG, and their height in pixels. */
enum { PNG_MAX_BARS = 48, PNG_BAR_PX = 34 };

/* The formats a scan can use: the ones learners compare, then the teaching
 * formats that show why blocks and bits matter. */
static Format scan_format(int i) {
    switch (i) {
    case 0: return FORMAT_INT8;
    case 1: return FORMAT_INT4;
    case 2: return format_ggml(GGML_TYPE_Q4_1);
    case 3: return format_ggml(GGML_TYPE_Q5_0);
    case 4: return format_teach(4, GRAN_TENSOR, 0, false);
    case 5: return format_teach(3, GRAN_BLOCK, 32, false);
    case 6: return format_teach(2, GRAN_BLOCK, 32, true);
    default: return FORMAT_FP16;
    }
}
enum { N_SCAN_FORMATS = 8 };

/* ------------------------------------------------------------ requests */

static void quality_init(App *a) {
    QualityView *v = &a->qual;
    if (v->init) return;
    v->init = true;
    v->scan_target = FORMAT_INT4;
    v->scan_unit = SENS_TENSOR;
}

/* A small model is measured whenever the plan changes, as on the Model screen. */
static void quality_enter(App *a) {
    quality_init(a);
    if (app_measures_automatically(a)) app_keep_quality_measured(a);
}

/* ------------------------------------------------------------- figures */

static void draw_figures(App *a, Rect r) {
    Session *s = a->s;
    uint64_t h = session_plan_hash(&s->plan);
    int x = r.x + 1, w = r.w - 2, y = r.y;
    double prog;
    char label[64], b[32];
    bool running = session_job_progress(s, JOB_QUALITY, &prog, label, sizeof label);
    const QualityState *q = &s->quality;
    bool stale = q->valid && q->plan_hash != h;
    int right = r.x + r.w - 1 - 40;
    draw_textf(y, x, running ? right - 1 - x : w, ROLE_TITLE, "Your plan (%s) against FP32", s->plan_label);
    if (running) draw_progress(y, right, 40, prog, label);
    if (q->error[0] && !running) {
        draw_text(y + 1, x, w, ROLE_BAD, q->error);
        return;
    }
    if (!q->valid) {
        draw_text(y + 1, x, w, ROLE_DIM,
                  running                              ? "measuring: both models predict every next token of the text..."
                  : session_job_waiting(s, JOB_QUALITY) ? "waiting for the calibration GPTQ needs (Esc stops)..."
                                                       : "not measured yet: e measures (both models predict a text)");
        return;
    }
    const QualityResult *res = &q->r;
    ThemeRole role = stale ? ROLE_DIM : ROLE_NORMAL;
    double ratio = res->ppl_base > 0 ? res->ppl_plan / res->ppl_base : 0;
    draw_textf(y + 1, x, w, role, "perplexity  FP32 %.3f -> plan %.3f  (x%.3f; lower is better)", res->ppl_base,
               res->ppl_plan, ratio);
    draw_textf(y + 2, x, w, role, "KL divergence (nats)  mean %.4f  median %.4f  p99 %.3f  max %.3f", res->kl_mean,
               res->kl_median, res->kl_p99, res->kl_max);
    int used = draw_textf(y + 3, x, w, role, "same top token %.1f%%  RMS change of p %.1f%%  %s predictions",
                          100 * res->top1_agree, 100 * res->rms_dp, ui_fmt_count(b, sizeof b, (double)res->n_predictions));
    if (s->speed.valid && s->speed.plan_hash == h && s->speed.tps_fp32 > 0)
        draw_textf(y + 3, x + used, w - used, role, "  speed x%.2f", s->speed.tps_plan / s->speed.tps_fp32);
    if (stale)
        draw_text(y + 4, x, w, ROLE_WARN,
                  running ? "(these figures are for an earlier plan; this one is being measured)"
                          : "(these figures are for an earlier plan: e measures this one)");
}

/* ------------------------------------------------------ RTN vs GPTQ */

/* Rows the comparison takes (0 when it was never asked for). */
static int methods_rows(const Session *s) {
    double prog;
    const MethodState *m = &s->methods;
    if (m->valid) return 4;
    if (session_job_progress((Session *)s, JOB_METHODS, &prog, NULL, 0) || s->methods_after_calib) return 2;
    return m->error[0] ? 1 : 0;
}

/* One row of the table: weight RMSE, output error, KL, top-1, perplexity; the
 * better of the two in each column in the "good" role. */
static void method_row(int y, int x, int w, const char *name, double rmse, double oerr, const QualityResult *q,
                       const double other[4], ThemeRole role) {
    int c = draw_textf(y, x, w, role, "%-17s", name);
    const double mine[4] = {rmse, oerr, q->kl_mean, -q->top1_agree};
    char cell[4][24];
    snprintf(cell[0], sizeof cell[0], "%12.4g", rmse);
    snprintf(cell[1], sizeof cell[1], "%11.2f%%", 100 * oerr);
    snprintf(cell[2], sizeof cell[2], "%10.4f", q->kl_mean);
    snprintf(cell[3], sizeof cell[3], "%8.1f%%", 100 * q->top1_agree);
    for (int k = 0; k < 4; k++)
        c += draw_textf(y, x + c, w - c, role == ROLE_DIM ? role : mine[k] < other[k] ? ROLE_GOOD : ROLE_NORMAL, "%s",
                        cell[k]);
    draw_textf(y, x + c, w - c, role, "%9.3f", q->ppl_plan);
}

static void draw_methods(App *a, Rect r, int y) {
    Session *s = a->s;
    const MethodState *m = &s->methods;
    int x = r.x + 1, w = r.w - 2;
    double prog;
    char label[64];
    bool running = session_job_progress(s, JOB_METHODS, &prog, label, sizeof label);
    bool stale = m->valid && m->plan_hash != session_plan_hash(&s->plan);
    const char *title = "Round to nearest vs GPTQ: calibrated on calib.txt, measured on eval.txt";
    if (!m->valid && !running && !s->methods_after_calib) {
        draw_textf(y, x, w, ROLE_BAD, "RTN vs GPTQ: %s", m->error);
        return;
    }
    if (running || s->methods_after_calib) {
        int bar = w >= 100 ? 40 : 30;
        draw_text(y, x, w - bar - 1, ROLE_TITLE, w - bar - 1 >= (int)strlen(title) ? title : "Round to nearest vs GPTQ");
        if (running) draw_progress(y, x + w - bar, bar, prog, label);
        else if (session_job_progress(s, JOB_CALIB, &prog, label, sizeof label))
            draw_progress(y, x + w - bar, bar, prog, label);
        if (!m->valid) {
            draw_text(y + 1, x, w, ROLE_DIM,
                      running ? "quantizing both ways, then both predict every next token of eval.txt..."
                              : "calibrating first: the FP32 model reads calib.txt (Esc stops)...");
            return;
        }
    } else {
        char t[160];
        snprintf(t, sizeof t, "%s%s", title, stale ? " (an earlier plan: G again)" : "");
        draw_text(y, x, w, ROLE_TITLE, t);
    }
    ThemeRole role = stale ? ROLE_DIM : ROLE_NORMAL;
    char head[160];
    snprintf(head, sizeof head, "%-17s%12s%12s%10s%9s%9s", "", "weight RMSE", "output err", "KL mean", "top-1", "PPL");
    draw_text(y + 1, x, w, ROLE_DIM, head);
    const double rtn[4] = {m->rmse_rtn, m->oerr_rtn, m->rtn.kl_mean, -m->rtn.top1_agree};
    const double gptq[4] = {m->rmse_gptq, m->oerr_gptq, m->gptq.kl_mean, -m->gptq.top1_agree};
    method_row(y + 2, x, w, "round to nearest", m->rmse_rtn, m->oerr_rtn, &m->rtn, gptq, role);
    method_row(y + 3, x, w, "GPTQ", m->rmse_gptq, m->oerr_gptq, &m->gptq, rtn, role);
}

/* --------------------------------------------------------- sensitivity */

static void draw_sensitivity(App *a, int y, int x, int w, int h) {
    Session *s = a->s;
    QualityView *v = &a->qual;
    const SensState *sn = &s->sens;
    char fmt[64], want[64];
    format_label(sn->valid ? sn->target : v->scan_target, fmt, sizeof fmt);
    format_label(v->scan_target, want, sizeof want);
    SensitivityUnit unit = sn->valid ? sn->unit : v->scan_unit;
    draw_textf(y, x, w, ROLE_TITLE, "Sensitivity at %s, per %s", fmt, unit == SENS_BLOCK ? "block" : "tensor");
    double prog;
    char label[64];
    int row = y + 1;
    if (session_job_progress(s, JOB_SENS, &prog, label, sizeof label)) {
        draw_progress(row++, x, w, prog, label);
    } else if (sn->valid && (!format_equal(sn->target, v->scan_target) || sn->unit != v->scan_unit)) {
        draw_textf(row++, x, w, ROLE_WARN, "n scans at %s%s", want, v->scan_unit == SENS_BLOCK ? " per block" : "");
    }
    if (!sn->valid || sn->n == 0) {
        if (row == y + 1) {
            draw_text(row++, x, w, ROLE_DIM, "not scanned yet: n quantizes one");
            draw_textf(row++, x, w, ROLE_DIM, "%s at a time to %s, keeps", v->scan_unit == SENS_BLOCK ? "block" : "tensor", want);
            draw_text(row++, x, w, ROLE_DIM, "the rest FP32, and measures the damage");
            draw_text(row++, x, w, ROLE_DIM, "(KL against FP32); t format, b blocks");
        }
        return;
    }
    draw_text(row++, x, w, ROLE_DIM, w >= 50 ? "mean KL from FP32 with only this one quantized" : "KL, only this one quantized");
    int rows = y + h - row;
    if (rows < 1) return;
    int max_scroll = sn->n - rows > 0 ? sn->n - rows : 0;
    if (v->scroll > max_scroll) v->scroll = max_scroll;
    if (v->scroll < 0) v->scroll = 0;
    int name_w = 6;
    for (int i = 0; i < sn->n; i++) {
        char nm[64];
        model_tensor_short_name(sn->items[i].name, nm, sizeof nm);
        if ((int)strlen(nm) > name_w) name_w = (int)strlen(nm);
    }
    if (name_w > w / 2) name_w = w / 2;
    int value_w = 8, bar_w = w - name_w - value_w - 2;
    double max = sn->items[0].kl_mean;
    for (int i = 1; i < sn->n; i++)
        if (sn->items[i].kl_mean > max) max = sn->items[i].kl_mean;
    for (int k = 0; k < rows && v->scroll + k < sn->n; k++) {
        const SensitivityItem *it = &sn->items[v->scroll + k];
        char nm[64];
        model_tensor_short_name(it->name, nm, sizeof nm);
        int yy = row + k;
        bool top = v->scroll + k < 3; /* the three worst, also in bold */
        draw_text(yy, x, name_w, top ? ROLE_WARN : ROLE_NORMAL, nm);
        draw_hbar(yy, x + name_w + 1, bar_w, it->kl_mean, max, ROLE_BAR_PLAN, false);
        draw_textf(yy, x + name_w + 2 + bar_w, value_w, ROLE_NORMAL, "%*.3g", value_w, it->kl_mean);
    }
    if (max_scroll > 0) {
        char where[32];
        snprintf(where, sizeof where, "%d-%d of %d", v->scroll + 1, v->scroll + rows < sn->n ? v->scroll + rows : sn->n, sn->n);
        int ww = (int)strlen(where);
        draw_text(row - 1, x + w - ww, ww, ROLE_DIM, where);
    }
}

/* ------------------------------------------------------------ frontier */

/* A point's label in the scatter: "all INT4" -> "INT4"; the twins G measures
 * ("all INT4, GPTQ") say their method first, so it survives a cut label
 * ("GPTQ INT4"); plans without a name get their place in the order measured. */
static void point_label(const FrontierPoint *f, int i, char *out, size_t size) {
    size_t n = strlen(f->label);
    const char *method = n > 6 && strcmp(f->label + n - 6, ", GPTQ") == 0 ? "GPTQ"
                         : n > 5 && strcmp(f->label + n - 5, ", RTN") == 0 ? "RTN"
                                                                           : NULL;
    if (method) {
        const char *base = strncmp(f->label, "all ", 4) == 0 ? f->label + 4 : f->label;
        int len = (int)(f->label + n - base) - (method[0] == 'G' ? 6 : 5);
        if (len > 5 && strncmp(base + len - 5, ".plan", 5) == 0) len -= 5; /* "int4.plan" -> "int4" */
        if (strncmp(base, "edited,", 7) == 0 || strncmp(base, "plan,", 5) == 0) snprintf(out, size, "%s #%d", method, i + 1);
        else snprintf(out, size, "%s %.*s", method, len < 20 ? len : 20, base);
        return;
    }
    if (strncmp(f->label, "all ", 4) == 0) snprintf(out, size, "%.20s", f->label + 4);
    else if (strcmp(f->label, "edited") == 0 || strcmp(f->label, "plan") == 0) snprintf(out, size, "#%d", i + 1);
    else snprintf(out, size, "%.24s", f->label);
}

/* The measured plans as scatter points, labelled (labels: storage for them). */
static void frontier_points(const Session *s, ScatterPoint *pts, char labels[][32]) {
    for (int i = 0; i < s->n_frontier; i++) {
        point_label(&s->frontier[i], i, labels[i], sizeof labels[i]);
        pts[i] = (ScatterPoint){s->frontier[i].bits_per_weight, s->frontier[i].kl_mean, labels[i]};
    }
}

static int current_point(const Session *s) {
    uint64_t h = session_plan_hash(&s->plan);
    for (int i = 0; i < s->n_frontier; i++)
        if (s->frontier[i].plan_hash == h) return i;
    return -1;
}

static ThemeRole cell_role(unsigned char kind) {
    switch (kind) {
    case SCATTER_LINE: return ROLE_DIM;
    case SCATTER_FRONTIER: return ROLE_GOOD;
    case SCATTER_CURRENT: return ROLE_BAR_PLAN;
    case SCATTER_LABEL: return ROLE_DIM;
    case SCATTER_LABEL_CURRENT: return ROLE_BAR_PLAN;
    default: return ROLE_NORMAL;
    }
}

static void draw_frontier(App *a, int y, int x, int w, int h) {
    Session *s = a->s;
    draw_text(y, x, w, ROLE_TITLE, "Every plan: damage (KL) vs bits/weight");
    int axis_w = 7;
    int plot_w = w - axis_w - 1, plot_h = h - 4;
    if (s->n_frontier == 0) {
        draw_text(y + 2, x, w, ROLE_DIM, "no plan measured yet: each plan you");
        draw_text(y + 3, x, w, ROLE_DIM, "measure (e) becomes a point here:");
        draw_text(y + 4, x, w, ROLE_DIM, "bits per weight across, KL up");
        return;
    }
    if (plot_w < 8 || plot_h < 3) return;
    ScatterPoint pts[SESSION_FRONTIER_MAX];
    char labels[SESSION_FRONTIER_MAX][32];
    frontier_points(s, pts, labels);
    int cur = current_point(s);
    TextScatter ts;
    Error err;
    int label_max = plot_w / 3 < 6 ? 6 : plot_w / 3 > 16 ? 16 : plot_w / 3;
    if (layout_scatter(&ts, pts, s->n_frontier, cur, plot_w, plot_h, label_max, &err) != ST_OK) {
        draw_text(y + 1, x, w, ROLE_BAD, err.msg);
        return;
    }
    int py = y + 1, px = x + axis_w + 1;
    const Glyphs *g = glyphs();
    /* y axis: KL at each power of ten, 0 on the zero row */
    for (int row = 0; row < plot_h; row++) draw_text(py + row, px - 1, 1, ROLE_DIM, g->vline);
    int last_row = -2;
    for (double d = ts.y_hi; d >= ts.y_lo * 0.999; d /= 10) {
        int row = layout_scatter_row(&ts, d);
        if (row - last_row < 2) continue; /* keep a blank between tick labels */
        draw_textf(py + row, x, axis_w, ROLE_DIM, "%*g", axis_w - 1, d);
        last_row = row;
    }
    if (ts.zero_row) draw_textf(py + plot_h - 1, x, axis_w, ROLE_DIM, "%*s", axis_w - 1, "0");
    /* the cells */
    for (int row = 0; row < plot_h; row++)
        for (int col = 0; col < plot_w; col++) {
            unsigned char k = ts.kind[row * plot_w + col];
            if (k == SCATTER_EMPTY) continue;
            char c[2] = {ts.glyph[row * plot_w + col], '\0'};
            draw_text(py + row, px + col, 1, cell_role(k), c);
        }
    /* x axis: bits per weight at each power of two */
    int ay = py + plot_h;
    draw_text(ay, px - 1, 1, ROLE_DIM, g->bl);
    for (int col = 0; col < plot_w; col++) draw_text(ay, px + col, 1, ROLE_DIM, g->hline);
    int next_free = px;
    for (double b = ts.x_lo; b <= ts.x_hi * 1.001; b *= 2) {
        char t[16];
        snprintf(t, sizeof t, "%g", b);
        int col = px + layout_scatter_col(&ts, b) - (int)strlen(t) / 2;
        if (col < next_free) continue;
        draw_text(ay + 1, col, (int)strlen(t), ROLE_DIM, t);
        next_free = col + (int)strlen(t) + 1;
    }
    /* legend: glyphs, not only colours */
    int lx = x;
    int ly = ay + 2;
    if (cur >= 0) {
        lx += draw_textf(ly, lx, x + w - lx, ROLE_BAR_PLAN, "@");
        lx += draw_textf(ly, lx, x + w - lx, ROLE_DIM, " this plan  ");
    }
    lx += draw_textf(ly, lx, x + w - lx, ROLE_GOOD, "*");
    lx += draw_textf(ly, lx, x + w - lx, ROLE_DIM, " best trade-off  ");
    lx += draw_textf(ly, lx, x + w - lx, ROLE_NORMAL, "o");
    draw_textf(ly, lx, x + w - lx, ROLE_DIM, cur >= 0 ? " other" : " other plans");
    layout_scatter_free(&ts);
}

/* ---------------------------------------------------------------- draw */

static void quality_draw(App *a, Rect r) {
    quality_init(a);
    draw_figures(a, r);
    int mrows = methods_rows(a->s);
    if (r.h - 5 - mrows < 9) mrows = mrows > 1 ? 1 : mrows; /* keep room for the bars and the frontier */
    if (mrows == 1 && a->s->methods.valid) {
        const MethodState *m = &a->s->methods;
        draw_textf(r.y + 5, r.x + 1, r.w - 2, ROLE_NORMAL, "KL: round to nearest %.4f, GPTQ %.4f (calib.txt / eval.txt)",
                   m->rtn.kl_mean, m->gptq.kl_mean);
    } else if (mrows > 0) {
        draw_methods(a, r, r.y + 5);
    }
    int top = r.y + 5 + mrows, h = r.h - 6 - mrows;
    int half = r.w / 2;
    draw_sensitivity(a, top, r.x + 1, half - 2, h);
    for (int y = top; y < top + h; y++) draw_text(y, r.x + half - 1, 1, ROLE_DIM, glyphs()->vline);
    draw_frontier(a, top, r.x + half + 1, r.w - half - 2, h);
    draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, ROLE_DIM,
              "e measure  G RTN vs GPTQ  n scan  t format  b tensors/blocks  P save PNG");
}

/* ---------------------------------------------------------------- keys */

static void scan_format_chosen(App *a, int index, const char *text) {
    (void)text;
    char label[64];
    a->qual.scan_target = scan_format(index);
    app_set_status(a, false, "scan format: %s; n scans", format_label(a->qual.scan_target, label, sizeof label));
}

static void open_scan_formats(App *a) {
    static char items[N_SCAN_FORMATS][POPUP_ITEM_LEN];
    const char *ptrs[N_SCAN_FORMATS];
    int sel = 0;
    for (int i = 0; i < N_SCAN_FORMATS; i++) {
        format_label(scan_format(i), items[i], sizeof items[i]);
        ptrs[i] = items[i];
        if (format_equal(scan_format(i), a->qual.scan_target)) sel = i;
    }
    app_menu(a, "Format for the sensitivity scan", ptrs, N_SCAN_FORMATS, sel, scan_format_chosen, 0);
}

static int quality_action(App *a, Action act, int ch) {
    Session *s = a->s;
    QualityView *v = &a->qual;
    (void)ch;
    quality_init(a);
    switch (act) {
    case ACT_EVALUATE: app_measure_quality(a); return UI_REDRAW | UI_HANDLED;
    case ACT_SCAN:
        v->scroll = 0;
        session_request_sensitivity(s, v->scan_target, v->scan_unit);
        return UI_REDRAW | UI_HANDLED;
    case ACT_SCAN_TARGET: open_scan_formats(a); return UI_REDRAW | UI_HANDLED;
    case ACT_SCAN_UNIT:
        v->scan_unit = v->scan_unit == SENS_TENSOR ? SENS_BLOCK : SENS_TENSOR;
        app_set_status(a, false, "the scan goes %s; n scans", v->scan_unit == SENS_BLOCK ? "block by block" : "tensor by tensor");
        return UI_REDRAW | UI_HANDLED;
    case ACT_SPEED: app_measure_speed(a); return UI_REDRAW | UI_HANDLED;
    case ACT_METHODS:
        session_request_method_compare(s);
        if (s->methods.error[0]) app_set_status(a, true, "%s", s->methods.error);
        else if (s->methods_after_calib)
            app_set_status(a, false, "GPTQ needs a calibration: the FP32 model reads calib.txt first (Esc stops)");
        else app_set_status(a, false, "RTN vs GPTQ: quantizing both ways, then measuring both on eval.txt");
        return UI_REDRAW | UI_HANDLED;
    default: return app_scroll(&v->scroll, act, LINES - 14 > 1 ? LINES - 14 : 1);
    }
}

/* ----------------------------------------------------------------- PNG */

static Status png_bars(App *a, const char *path, Error *err) {
    Session *s = a->s;
    const SensState *sn = &s->sens;
    int n = sn->n < PNG_MAX_BARS ? sn->n : PNG_MAX_BARS;
    BarItem *items = calloc((size_t)n, sizeof *items);
    char (*names)[64] = calloc((size_t)n, sizeof *names);
    if (!items || !names) {
        free(items);
        free(names);
        return error_set(err, ST_NOMEM, "out of memory drawing the chart");
    }
    for (int i = 0; i < n; i++) {
        model_tensor_short_name(sn->items[i].name, names[i], sizeof names[i]);
        items[i] = (BarItem){names[i], sn->items[i].kl_mean};
    }
    char fmt[64], title[192], caption[256];
    format_label(sn->target, fmt, sizeof fmt);
    const char *what = sn->unit == SENS_BLOCK ? "block" : "tensor";
    if (n < sn->n) snprintf(title, sizeof title, "Which %ss %s hurts most (the %d worst of %d)", what, fmt, n, sn->n);
    else snprintf(title, sizeof title, "Which %ss %s hurts most", what, fmt);
    snprintf(caption, sizeof caption, "model: %.60s   each %s alone at %s, everything else FP32", s->model->name, what, fmt);
    BarsSpec spec = {items, n, CHART_LINEAR, 3,
                     {title, "mean KL divergence from FP32 (nats), only this one quantized", NULL, caption}};
    Canvas c;
    int height = 208 + PNG_BAR_PX * n > CHART_DEFAULT_H ? 208 + PNG_BAR_PX * n : CHART_DEFAULT_H;
    Status st = canvas_init(&c, CHART_DEFAULT_W, height, chart_colour(CHART_BACKGROUND), err);
    if (st == ST_OK) st = chart_bars(&c, &spec, NULL, err);
    if (st == ST_OK) st = plot_write_png(&c, path, err);
    canvas_free(&c);
    free(items);
    free(names);
    return st;
}

static Status png_frontier(App *a, const char *path, Error *err) {
    Session *s = a->s;
    int n = s->n_frontier;
    ScatterPoint pts[SESSION_FRONTIER_MAX];
    char labels[SESSION_FRONTIER_MAX][32];
    frontier_points(s, pts, labels);
    int positive = 0;
    bool any_zero = false;
    for (int i = 0; i < n; i++) {
        positive += s->frontier[i].kl_mean >= LAYOUT_Y_ZERO;
        any_zero |= s->frontier[i].kl_mean < LAYOUT_Y_ZERO;
    }
    char caption[256];
    snprintf(caption, sizeof caption, "model: %.60s   plan: %.40s (%.2f bits/weight)%s", s->model->name, s->plan_label,
             session_plan_bits(s), any_zero && positive >= 2 ? "   KL 0 drawn on the bottom edge" : "");
    const char *ylabel = positive >= 2 ? "mean KL from FP32 (nats, log scale)" : "mean KL from FP32 (nats)";
    ScatterSpec spec = {pts, n, current_point(s), "plans measured", "current plan", true,
                        "Pareto frontier (best trade-offs)",
                        CHART_LINEAR, positive >= 2 ? CHART_LOG : CHART_LINEAR,
                        {"Size against damage: every plan measured", "bits per weight", ylabel, caption}};
    Canvas c;
    Status st = canvas_init(&c, CHART_DEFAULT_W, CHART_DEFAULT_H, chart_colour(CHART_BACKGROUND), err);
    if (st == ST_OK) st = chart_scatter(&c, &spec, NULL, err);
    if (st == ST_OK) st = plot_write_png(&c, path, err);
    canvas_free(&c);
    return st;
}

static char png_path[1024];

/* "x.png" + "-frontier" -> "x-frontier.png" */
static void suffixed(const char *path, const char *suffix, char *out, size_t size) {
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".png") == 0) snprintf(out, size, "%.*s%s.png", (int)(n - 4), path, suffix);
    else snprintf(out, size, "%s%s.png", path, suffix);
}

static void png_chosen(App *a, int index, const char *text) {
    (void)text;
    Error err;
    char p1[1100], p2[1100];
    Status st;
    if (index == 0) {
        st = png_bars(a, png_path, &err);
        if (st == ST_OK) app_set_status(a, false, "wrote %s", png_path);
    } else if (index == 1) {
        st = png_frontier(a, png_path, &err);
        if (st == ST_OK) app_set_status(a, false, "wrote %s", png_path);
    } else {
        suffixed(png_path, "-sensitivity", p1, sizeof p1);
        suffixed(png_path, "-frontier", p2, sizeof p2);
        st = png_bars(a, p1, &err);
        if (st == ST_OK) st = png_frontier(a, p2, &err);
        if (st == ST_OK) app_set_status(a, false, "wrote %.400s and %.400s", p1, p2);
    }
    if (st != ST_OK) app_set_status(a, true, "%s", err.msg);
}

static int quality_export_png(App *a, const char *path, char *msg, size_t size) {
    Session *s = a->s;
    bool bars = s->sens.valid && s->sens.n > 0, frontier = s->n_frontier > 0;
    snprintf(png_path, sizeof png_path, "%s", path);
    if (!bars && !frontier) {
        snprintf(msg, size, "nothing to draw yet: e measures the plan, n scans the tensors");
        return 0;
    }
    if (bars && frontier) {
        static const char *const items[] = {
            "the sensitivity bars",
            "the size-vs-damage frontier",
            "both (the name gets -sensitivity and -frontier)",
        };
        app_menu(a, "Which chart?", items, 3, 0, png_chosen, 0);
        snprintf(msg, size, "which chart?");
        return 1;
    }
    Error err;
    Status st = bars ? png_bars(a, path, &err) : png_frontier(a, path, &err);
    if (st != ST_OK) {
        snprintf(msg, size, "%s", err.msg);
        return 0;
    }
    snprintf(msg, size, "wrote %.400s", path);
    return 1;
}

const Screen SCREEN_QUALITY_DEF = {"Quality", SCR_QUALITY, quality_enter, quality_draw, quality_action, NULL,
                                   quality_export_png};
