/* scr_layers.c — the Layers screen: every tensor as a tree (blocks > matrices),
 * its format, bytes and rounding error; keys change formats, per tensor, per
 * block or everywhere. Formats with GPTQ, pruning or an outlier split show
 * their modifiers in the format column (tui/layout.c), pruned tensors their
 * share of zeros, and the lines under the list say what each modifier of the
 * selected row does, with its bytes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui/layout.h"
#include "tui/ui.h"

typedef struct Row {
    int tensor; /* >= 0 for a tensor row */
    int layer;  /* >= 0 for a block header row */
} Row;

enum { MAX_ROWS = 8192 };
static Row rows[MAX_ROWS];

/* The visible rows: tensors outside the blocks, then each block and, when it is
 * open, its tensors. */
static int build_rows(App *a) {
    const Model *m = a->s->model;
    int n = 0;
    for (int i = 0; i < m->n_tensors && n < MAX_ROWS; i++)
        if (m->tensors[i].layer < 0) rows[n++] = (Row){i, -1};
    for (int l = 0; l < m->cfg.n_layers && n < MAX_ROWS; l++) {
        rows[n++] = (Row){-1, l};
        if (l < 1024 && !a->layers.expanded[l]) continue;
        for (int i = 0; i < m->n_tensors && n < MAX_ROWS; i++)
            if (m->tensors[i].layer == l) rows[n++] = (Row){i, -1};
    }
    return n;
}

static void layers_enter(App *a) {
    LayersView *v = &a->layers;
    if (!v->init) {
        v->init = true;
        bool open = a->s->model->cfg.n_layers <= 8;
        for (int l = 0; l < 1024; l++) v->expanded[l] = open;
    }
}

/* The block's common format, or false when its tensors differ. */
static bool block_format(const Session *s, int layer, Format *out) {
    bool first = true;
    for (int i = 0; i < s->model->n_tensors; i++) {
        const ModelTensor *t = &s->model->tensors[i];
        if (t->layer != layer || !plan_is_quantizable(t)) continue;
        if (first) {
            *out = s->plan.fmt[i];
            first = false;
        } else if (!format_equal(*out, s->plan.fmt[i])) {
            return false;
        }
    }
    return !first;
}

static double block_bytes(const Session *s, int layer, double *f32) {
    double total = 0;
    *f32 = 0;
    for (int i = 0; i < s->model->n_tensors; i++) {
        const ModelTensor *t = &s->model->tensors[i];
        if (t->layer != layer || !t->f32) continue;
        total += format_tensor_bytes(plan_is_quantizable(t) ? s->plan.fmt[i] : FORMAT_FP32, t->rows, t->cols);
        *f32 += 4.0 * (double)t->n_elements;
    }
    return total;
}

/* Column layout for the current width; `zeros` (the share of weights stored
 * as 0) only when the plan prunes something. */
typedef struct Cols {
    int name, shape, weights, format, bytes, bits, rmse, sqnr, maxerr, zeros;
} Cols;

static bool plan_prunes(const Session *s) {
    for (int i = 0; i < s->model->n_tensors; i++)
        if (plan_is_quantizable(&s->model->tensors[i]) && s->plan.fmt[i].prune) return true;
    return false;
}

static Cols layout(int w, bool zeros) {
    Cols c = {15, 9, 0, zeros ? 16 : 18, 9, 6, 9, 8, 0, zeros ? 6 : 0};
    int used = 2 + c.name + c.shape + c.format + c.bytes + c.bits + c.rmse + c.sqnr + c.zeros;
    if (w - used >= 10) {
        c.weights = 10;
        used += 10;
    }
    if (w - used >= 10) {
        c.maxerr = 10;
        used += 10;
    }
    if (w - used > 0) c.name += w - used > 16 ? 16 : w - used;
    return c;
}

static void draw_header(int y, int x, const Cols *c) {
    char line[512];
    int n = snprintf(line, sizeof line, "  %-*s%-*s", c->name, "tensor", c->shape, "shape");
    if (c->weights) n += snprintf(line + n, sizeof line - (size_t)n, "%*s ", c->weights - 1, "weights");
    n += snprintf(line + n, sizeof line - (size_t)n, "%-*s%*s %*s%*s%*s", c->format, "format", c->bytes - 1, "bytes",
                  c->bits - 1, "bits", c->rmse - 1, "RMSE", c->sqnr, "SQNR dB");
    if (c->zeros) n += snprintf(line + n, sizeof line - (size_t)n, "%*s", c->zeros, "zeros");
    if (c->maxerr) snprintf(line + n, sizeof line - (size_t)n, "%*s", c->maxerr, "max|err|");
    draw_fill(y, x, COLS - x, ROLE_HEADER, ' ');
    draw_text(y, x, COLS - x, ROLE_HEADER, line);
}

static void draw_tensor_row(App *a, int y, int x, int w, const Cols *c, int i, bool selected) {
    Session *s = a->s;
    const ModelTensor *t = &s->model->tensors[i];
    bool quant = plan_is_quantizable(t);
    Format f = quant ? s->plan.fmt[i] : FORMAT_FP32;
    bool changed = quant && !(f.kind == FORMAT_GGML && f.type == t->file_type);
    ThemeRole base = selected ? ROLE_SELECTED : ROLE_NORMAL;
    if (selected) draw_fill(y, x, w, ROLE_SELECTED, ' ');
    char name[96], shape[32], fmt[64], bytes[32];
    const char *shown = t->name;
    if (t->layer >= 0) { /* inside a block: drop the "blk.N." prefix */
        const char *dot = strchr(t->name + 4, '.');
        if (dot) shown = dot + 1;
    }
    char bare[96];
    snprintf(name, sizeof name, "%s%s", t->layer >= 0 ? "  " : "", /* ".weight": every row says it */
             model_tensor_short_name(shown, bare, sizeof bare));
    model_tensor_shape(t, shape, sizeof shape);
    if (quant) layout_format_short(f, c->format - 1, fmt, sizeof fmt);
    else snprintf(fmt, sizeof fmt, "%s", t->is_norm ? "FP32 (norm)" : "FP32");
    double nbytes = format_tensor_bytes(f, t->rows, t->cols);
    ui_fmt_count(bytes, sizeof bytes, ceil(nbytes));
    int col = x;
    draw_text(y, col, 2, selected ? ROLE_SELECTED : ROLE_CHANGED, changed ? "* " : "  ");
    col += 2;
    draw_text(y, col, c->name - 1, base, name);
    col += c->name;
    draw_text(y, col, c->shape - 1, selected ? base : ROLE_DIM, shape);
    col += c->shape;
    if (c->weights) {
        char wts[32];
        draw_textf(y, col, c->weights, base, "%*s ", c->weights - 1, ui_fmt_count(wts, sizeof wts, (double)t->n_elements));
        col += c->weights;
    }
    draw_text(y, col, c->format - 1, selected ? base : (changed ? ROLE_CHANGED : (quant ? ROLE_NORMAL : ROLE_DIM)), fmt);
    col += c->format;
    draw_textf(y, col, c->bytes + c->bits, base, "%*s %*.2f", c->bytes - 1, bytes, c->bits - 1,
               nbytes * 8.0 / (double)t->n_elements);
    col += c->bytes + c->bits;
    TensorStatsEntry e;
    if (!quant || (f.kind == FORMAT_GGML && f.type == 0)) {
        draw_textf(y, col, c->rmse + c->sqnr, selected ? base : ROLE_DIM, "%*s%*s", c->rmse - 1, "0", c->sqnr, "exact");
    } else if (session_tensor_stats(s, i, &e)) {
        ThemeRole q = selected ? base : (e.st.sqnr_db < 15 ? ROLE_BAD : e.st.sqnr_db < 25 ? ROLE_WARN : ROLE_NORMAL);
        if (isinf(e.st.sqnr_db)) draw_textf(y, col, c->rmse + c->sqnr, q, "%*.3g%*s", c->rmse - 1, e.st.rmse, c->sqnr, "exact");
        else draw_textf(y, col, c->rmse + c->sqnr, q, "%*.3g%*.1f", c->rmse - 1, e.st.rmse, c->sqnr, e.st.sqnr_db);
        int zc = col + c->rmse + c->sqnr;
        if (c->zeros) {
            draw_textf(y, zc, c->zeros, selected ? base : f.prune ? ROLE_CHANGED : ROLE_NORMAL, "%*.0f%%", c->zeros - 1,
                       100 * e.st.zeroed);
            zc += c->zeros;
        }
        if (c->maxerr) draw_textf(y, zc, c->maxerr, base, "%*.3g", c->maxerr, e.st.max_abs_err);
    } else {
        draw_textf(y, col, c->rmse + c->sqnr, ROLE_DIM, "%*s", c->rmse, "...");
    }
}

static void draw_block_row(App *a, int y, int x, int w, const Cols *c, int layer, bool selected) {
    Session *s = a->s;
    const Glyphs *g = glyphs();
    ThemeRole base = selected ? ROLE_SELECTED : ROLE_TITLE;
    if (selected) draw_fill(y, x, w, ROLE_SELECTED, ' ');
    char name[64], fmt[64], bytes[32];
    bool open = layer < 1024 && a->layers.expanded[layer];
    snprintf(name, sizeof name, "%s blk.%d", open ? g->arrow_d : g->arrow_r, layer);
    Format f;
    if (block_format(s, layer, &f)) layout_format_short(f, c->format - 1, fmt, sizeof fmt);
    else snprintf(fmt, sizeof fmt, "mixed");
    double f32, nb = block_bytes(s, layer, &f32);
    ui_fmt_count(bytes, sizeof bytes, ceil(nb));
    draw_text(y, x + 2, c->name - 1, base, name);
    int col = x + 2 + c->name + c->shape + c->weights;
    draw_text(y, col, c->format - 1, base, fmt);
    col += c->format;
    draw_textf(y, col, w - (col - x), base, "%*s  %.0f%% of FP32", c->bytes - 1, bytes, f32 > 0 ? 100 * nb / f32 : 0.0);
}

/* ------------------------------------------------- what a modifier does */

enum { EXPLAIN_MAX = 3 };

static int drawn_list_h; /* rows of the list last drawn (for clicks) */

/* Copies the first of the texts that fits in w columns (draw_fitting). */
static void pick(char out[256], int w, const char *a, const char *b, const char *c) {
    snprintf(out, 256, "%s", draw_fitting(w, a, b, c));
}

/* One line for each of GPTQ, pruning and an outlier split on tensor i, saying
 * what it does to this tensor and its bytes. Returns how many. */
static int explain(App *a, int i, int w, char lines[EXPLAIN_MAX][256]) {
    Session *s = a->s;
    const ModelTensor *t = &s->model->tensors[i];
    Format f = s->plan.fmt[i];
    char base[FORMAT_NAME_MAX], b1[32], b2[32], l1[256], l2[256], l3[256];
    format_label(format_base(f), base, sizeof base);
    int n = 0;
    double dense = format_tensor_bytes(f, t->rows, t->cols);
    if (f.method == METHOD_GPTQ) {
        double prog;
        if (session_needs_calibration(s) && !qcache_calibration(s->cache)) {
            bool running = session_job_progress(s, JOB_CALIB, &prog, NULL, 0);
            pick(lines[n++], w,
                 running ? "GPTQ: waiting for the calibration (the FP32 model reads calib.txt; Esc stops)"
                         : "GPTQ: needs a calibration on calib.txt first: C runs it, u undoes",
                 running ? "GPTQ: calibrating on calib.txt (Esc stops)" : "GPTQ needs a calibration: C runs it", NULL);
        } else if (qcache_gptq_is_rtn(s->cache, i)) {
            pick(lines[n++], w, "GPTQ: this table is looked up, not multiplied: no inputs, so plain rounding",
                 "GPTQ: looked up, not multiplied: plain rounding", NULL);
        } else {
            snprintf(l1, sizeof l1, "GPTQ: as big as %.40s; codes picked to cancel output error on %.60s%s", base,
                     s->calib.source[0] ? s->calib.source : "calib.txt", s->calib.stale ? " (before the edit)" : "");
            snprintf(l2, sizeof l2, "GPTQ: %s bytes, errors made up for (calib.txt)", base);
            pick(lines[n++], w, l1, l2, NULL);
        }
    }
    if (f.prune) {
        TensorStatsEntry e;
        double sparse = format_sparse_bytes(f, t->rows, t->cols);
        char zeros[48] = "";
        if (session_tensor_stats(s, i, &e)) snprintf(zeros, sizeof zeros, " (%.1f%% now 0)", 100 * e.st.zeroed);
        ui_fmt_count(b1, sizeof b1, ceil(dense));
        ui_fmt_count(b2, sizeof b2, sparse);
        if (f.prune == PRUNE_2_4) {
            snprintf(l1, sizeof l1, "2:4 pruning: half the weights are 0%s, but a dense file is just as big (%s B);"
                                    " a 2:4 sparse format: %s B", zeros, b1, b2);
            snprintf(l2, sizeof l2, "2:4: half are zero, yet a dense file is as big (%s B); 2:4-sparse: %s B", b1, b2);
            snprintf(l3, sizeof l3, "2:4: half are 0; dense %s B, 2:4-sparse %s B", b1, b2);
        } else {
            char cut[32];
            ui_fmt_count(cut, sizeof cut, (double)format_prune_count(f, t->rows, t->cols));
            snprintf(l1, sizeof l1, "pruned %d%%: %s weights set to 0%s; dense file as big (%s B); bitmap-sparse: %s B",
                     f.prune_pct, cut, zeros, b1, b2);
            snprintf(l2, sizeof l2, "pruned %d%%: %s weights are 0, yet as big dense (%s B); sparse: %s B",
                     f.prune_pct, cut, b1, b2);
            snprintf(l3, sizeof l3, "pruned %d%%: dense %s B, bitmap-sparse %s B", f.prune_pct, b1, b2);
        }
        pick(lines[n++], w, l1, l2, l3);
    }
    if (f.split) {
        int64_t k = format_outlier_count(f, t->rows, t->cols);
        ui_fmt_count(b1, sizeof b1, (double)k);
        ui_fmt_count(b2, sizeof b2, (double)k * FORMAT_OUTLIER_BYTES);
        snprintf(l1, sizeof l1, "outliers: the %s largest weights (%g%%) kept in FP16 off the grid: +%s bytes", b1,
                 f.outlier_bp / 100.0, b2);
        snprintf(l2, sizeof l2, "outliers: %s kept in FP16, +%s B (6 each)", b1, b2);
        pick(lines[n++], w, l1, l2, NULL);
    }
    return n;
}

static void layers_draw(App *a, Rect r) {
    LayersView *v = &a->layers;
    int n = build_rows(a);
    if (v->sel >= n) v->sel = n - 1;
    if (v->sel < 0) v->sel = 0;
    Cols c = layout(r.w, plan_prunes(a->s));
    draw_header(r.y, r.x, &c);
    const Row *cur = n > 0 ? &rows[v->sel] : NULL;
    char why[EXPLAIN_MAX][256];
    int n_why = 0;
    if (cur && cur->tensor >= 0 && plan_is_quantizable(&a->s->model->tensors[cur->tensor]) && r.h >= 12)
        n_why = explain(a, cur->tensor, r.w - 2, why);
    int info = n_why > 1 ? n_why : 1; /* rows between the total and the keys */
    int list_h = r.h - 3 - info;
    drawn_list_h = list_h;
    if (v->sel < v->scroll) v->scroll = v->sel;
    if (v->sel >= v->scroll + list_h) v->scroll = v->sel - list_h + 1;
    for (int k = 0; k < list_h && v->scroll + k < n; k++) {
        const Row *row = &rows[v->scroll + k];
        bool sel = v->scroll + k == v->sel;
        if (row->tensor >= 0) draw_tensor_row(a, r.y + 1 + k, r.x, r.w, &c, row->tensor, sel);
        else draw_block_row(a, r.y + 1 + k, r.x, r.w, &c, row->layer, sel);
    }

    Session *s = a->s;
    char b1[32], b2[32], b3[32];
    double plan = session_plan_bytes(s), f32 = plan_bytes_f32(s->model);
    int y = r.y + r.h - 2 - info;
    draw_fill(y, r.x, r.w, ROLE_NORMAL, ' ');
    draw_textf(y, r.x + 1, r.w - 2, ROLE_BAR_PLAN, "plan total %s bytes (%s), %.2f bits/weight; FP32 %s bytes",
               ui_fmt_count(b1, sizeof b1, ceil(plan)), ui_fmt_bytes(b2, sizeof b2, plan), session_plan_bits(s),
               ui_fmt_count(b3, sizeof b3, f32));
    if (n_why > 0) {
        for (int k = 0; k < n_why; k++) draw_text(y + 1 + k, r.x + 1, r.w - 2, ROLE_DIM, why[k]);
    } else if (cur && cur->tensor >= 0) {
        const ModelTensor *t = &s->model->tensors[cur->tensor];
        if (!plan_is_quantizable(t))
            draw_text(y + 1, r.x + 1, r.w - 2, ROLE_DIM, "norm vectors stay FP32, as llama.cpp keeps them: they are tiny and sensitive");
        else if (t->cols % 32 != 0)
            draw_textf(y + 1, r.x + 1, r.w - 2, ROLE_DIM,
                       "rows of %lld: 32-weight blocks need %lld zeros of padding a row (in the bytes)",
                       (long long)t->cols, (long long)((t->cols + 31) / 32 * 32 - t->cols));
        else
            draw_textf(y + 1, r.x + 1, r.w - 2, ROLE_DIM, "%s: %lld weights  (row %d of %d; * = not as in the file)",
                       t->name, (long long)t->n_elements, v->sel + 1, n);
    }
    draw_text(y + 1 + info, r.x + 1, r.w - 2, ROLE_DIM,
              "Space/- fewer bits  + more  f format  F all  b block  a all  x outlier  u undo");
}

static int current_target(App *a, bool *is_block) {
    int n = build_rows(a);
    if (n == 0) return -1;
    const Row *row = &rows[a->layers.sel < n ? a->layers.sel : n - 1];
    *is_block = row->tensor < 0;
    return row->tensor >= 0 ? row->tensor : row->layer;
}

/* Moves the selection; keeps the Histogram screen pointing at the same tensor. */
static void select_row(App *a, int sel) {
    int n = build_rows(a);
    if (sel >= n) sel = n - 1;
    if (sel < 0) sel = 0;
    a->layers.sel = sel;
    if (n > 0 && rows[sel].tensor >= 0) app_select_tensor(a, rows[sel].tensor);
}

static void change_bits(App *a, int dir) {
    Session *s = a->s;
    bool block;
    int target = current_target(a, &block);
    if (target < 0) return;
    char label[64];
    if (block) {
        /* from the first matrix's format: the block's own, or where a mixed block starts */
        Format f = FORMAT_FP32;
        for (int i = 0; i < s->model->n_tensors; i++)
            if (s->model->tensors[i].layer == target && plan_is_quantizable(&s->model->tensors[i])) {
                f = s->plan.fmt[i];
                break;
            }
        Format next = session_ladder_step(f, dir);
        if (session_set_format_layer(s, target, next))
            app_set_status(a, false, "blk.%d now %s", target, format_label(next, label, sizeof label));
        return;
    }
    const ModelTensor *t = &s->model->tensors[target];
    if (!plan_is_quantizable(t)) {
        app_set_status(a, false, "%s is a norm vector: it stays FP32", t->name);
        return;
    }
    Format cur = s->plan.fmt[target];
    Format next = session_ladder_step(cur, dir);
    if (dir < 0 && format_equal(cur, next)) next = FORMAT_FP32; /* Space wraps INT4 -> FP32 */
    if (session_set_format(s, target, next))
        app_set_status(a, false, "%s now %s", t->name, format_label(next, label, sizeof label));
}

static int layers_action(App *a, Action act, int ch) {
    LayersView *v = &a->layers;
    Session *s = a->s;
    bool block;
    int target;
    int page = LINES - 8;
    (void)ch;
    switch (act) {
    case ACT_UP: select_row(a, v->sel - 1); return UI_REDRAW | UI_HANDLED;
    case ACT_DOWN: select_row(a, v->sel + 1); return UI_REDRAW | UI_HANDLED;
    case ACT_PAGE_UP: select_row(a, v->sel - page); return UI_REDRAW | UI_HANDLED;
    case ACT_PAGE_DOWN: select_row(a, v->sel + page); return UI_REDRAW | UI_HANDLED;
    case ACT_HOME: select_row(a, 0); return UI_REDRAW | UI_HANDLED;
    case ACT_END: select_row(a, MAX_ROWS); return UI_REDRAW | UI_HANDLED;
    case ACT_LEFT:
    case ACT_RIGHT:
        target = current_target(a, &block);
        if (target < 0) return UI_HANDLED;
        if (block) {
            if (target < 1024) v->expanded[target] = act == ACT_RIGHT;
        } else if (act == ACT_LEFT && s->model->tensors[target].layer >= 0) {
            int n = build_rows(a); /* jump to the block header */
            for (int k = v->sel; k >= 0 && k < n; k--)
                if (rows[k].tensor < 0) {
                    select_row(a, k);
                    break;
                }
        }
        return UI_REDRAW | UI_HANDLED;
    case ACT_FEWER_BITS: change_bits(a, -1); return UI_REDRAW | UI_HANDLED;
    case ACT_MORE_BITS: change_bits(a, +1); return UI_REDRAW | UI_HANDLED;
    case ACT_FORMAT_MENU:
        target = current_target(a, &block);
        if (target < 0) return UI_HANDLED;
        if (block) {
            if (ch == '\n' && target < 1024) v->expanded[target] = !v->expanded[target];
            else app_format_menu(a, -1 - target);
        } else if (!plan_is_quantizable(&s->model->tensors[target])) {
            app_set_status(a, false, "%s is a norm vector: it stays FP32", s->model->tensors[target].name);
        } else {
            app_format_menu(a, target);
        }
        return UI_REDRAW | UI_HANDLED;
    case ACT_FORMAT_ALL: app_format_menu(a, INT32_MIN); return UI_REDRAW | UI_HANDLED;
    case ACT_INJECT:
        target = current_target(a, &block);
        if (target < 0 || block) app_set_status(a, false, "select a matrix first: x multiplies its largest weight");
        else app_inject_largest(a, target);
        return UI_REDRAW | UI_HANDLED;
    case ACT_APPLY_BLOCK:
    case ACT_APPLY_ALL: {
        target = current_target(a, &block);
        if (target < 0 || block || !plan_is_quantizable(&s->model->tensors[target])) {
            app_set_status(a, false, "select a matrix first; its format is the one given");
            return UI_REDRAW | UI_HANDLED;
        }
        Format f = s->plan.fmt[target];
        char label[64];
        format_label(f, label, sizeof label);
        if (act == ACT_APPLY_ALL) {
            if (session_set_format_all(s, f)) app_set_status(a, false, "every matrix now %s", label);
        } else if (s->model->tensors[target].layer < 0) {
            app_set_status(a, false, "%s is not in a block", s->model->tensors[target].name);
        } else if (session_set_format_layer(s, s->model->tensors[target].layer, f)) {
            app_set_status(a, false, "blk.%d now %s", s->model->tensors[target].layer, label);
        }
        return UI_REDRAW | UI_HANDLED;
    }
    default: return UI_NONE;
    }
}

static int layers_click(App *a, Rect r, int y, int x, bool double_click) {
    (void)x;
    (void)r;
    if (y < 1 || y > drawn_list_h) return UI_NONE;
    int n = build_rows(a);
    int k = a->layers.scroll + y - 1;
    if (k >= n) return UI_NONE;
    select_row(a, k);
    if (double_click) return layers_action(a, ACT_FORMAT_MENU, 'f');
    if (rows[k].tensor < 0 && rows[k].layer < 1024) a->layers.expanded[rows[k].layer] = !a->layers.expanded[rows[k].layer];
    return UI_REDRAW;
}

const Screen SCREEN_LAYERS_DEF = {"Layers", SCR_LAYERS, layers_enter, layers_draw, layers_action, layers_click, NULL};
