/* layout.c — see layout.h. No curses here: the screens draw what these
 * functions decide, and tests/unit/test_layout.c checks the decisions. */
#include "tui/layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

/* ------------------------------------------------------------- stories --- */

/* The bytes of a story with, for each byte, the token it came from. */
typedef struct ByteBuf {
    char *b;
    int *owner;
    size_t n, cap;
} ByteBuf;

static bool buf_put(ByteBuf *bb, const char *s, size_t len, int owner) {
    if (len == 0) return true; /* BOS and EOS decode to nothing (and the buffer may not exist yet) */
    if (bb->n + len > bb->cap) {
        size_t cap = bb->cap ? bb->cap : 256;
        while (cap < bb->n + len) cap *= 2;
        char *b = realloc(bb->b, cap);
        if (!b) return false;
        bb->b = b;
        int *o = realloc(bb->owner, cap * sizeof *o);
        if (!o) return false;
        bb->owner = o;
        bb->cap = cap;
    }
    memcpy(bb->b + bb->n, s, len);
    for (size_t i = 0; i < len; i++) bb->owner[bb->n + i] = owner;
    bb->n += len;
    return true;
}

/* The marked token's bytes: "[" after its leading spaces, "]" at the end; a token
 * with nothing visible says what it is. */
static bool put_marked(ByteBuf *bb, const char *p, size_t len, int token) {
    size_t lead = 0;
    while (lead < len && p[lead] == ' ') lead++;
    bool ok = buf_put(bb, p, lead, token);
    if (len == 0) return ok && buf_put(bb, "[]", 2, token);
    if (lead == len) return ok && buf_put(bb, "[space]", 7, token);
    if (p[lead] == '\n') return ok && buf_put(bb, "[new line]", 10, token) && buf_put(bb, p + lead, len - lead, token);
    return ok && buf_put(bb, "[", 1, token) && buf_put(bb, p + lead, len - lead, token) && buf_put(bb, "]", 1, token);
}

static bool is_space(const StoryChar *c) {
    return c->text[0] == ' ' && c->text[1] == '\0';
}

static bool is_newline(const StoryChar *c) {
    return c->text[0] == '\n';
}

/* Greedy word wrap of st->chars into lines of width cells. */
static void wrap(Story *st, int width) {
    StoryChar *c = st->chars;
    int n = st->n_chars, line = 0, col = 0;
    for (int i = 0; i < n;) {
        if (is_newline(&c[i])) {
            c[i].line = line++;
            c[i].col = -1;
            col = 0;
            i++;
            continue;
        }
        if (is_space(&c[i])) {
            c[i].line = line;
            if (col >= width) { /* the space is the break */
                c[i].col = -1;
                line++;
                col = 0;
            } else {
                c[i].col = col++;
            }
            i++;
            continue;
        }
        int j = i;
        while (j < n && !is_space(&c[j]) && !is_newline(&c[j])) j++;
        if (col > 0 && col + (j - i) > width) { /* the word goes to the next line */
            line++;
            col = 0;
        }
        for (; i < j; i++) {
            if (col >= width) { /* a word longer than a line is cut */
                line++;
                col = 0;
            }
            c[i].line = line;
            c[i].col = col++;
        }
    }
    st->n_lines = col > 0 ? line + 1 : line;
}

Status layout_story(Story *st, const char *const *pieces, const size_t *lens, int n_tokens, int mark,
                    int width, bool utf8, Error *err) {
    memset(st, 0, sizeof *st);
    if (width < 1 || n_tokens < 0) return error_set(err, ST_USAGE, "layout: width %d, %d tokens", width, n_tokens);
    ByteBuf bb = {0};
    bool ok = true;
    for (int t = 0; t < n_tokens && ok; t++)
        ok = t == mark ? put_marked(&bb, pieces[t], lens[t], t) : buf_put(&bb, pieces[t], lens[t], t);
    if (ok && mark == n_tokens) ok = buf_put(&bb, " [end]", 6, n_tokens);
    if (ok && bb.n > 0) ok = (st->chars = calloc(bb.n, sizeof *st->chars)) != NULL;
    if (!ok) {
        free(bb.b);
        free(bb.owner);
        return error_set(err, ST_NOMEM, "out of memory laying out a story");
    }
    int n = 0;
    for (size_t i = 0; i < bb.n;) {
        StoryChar *c = &st->chars[n++];
        unsigned char byte = (unsigned char)bb.b[i];
        c->token = bb.owner[i];
        if (byte < 0x80) {
            c->text[0] = byte == '\n' ? '\n' : (byte < 0x20 || byte == 0x7f) ? ' ' : (char)byte;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(bb.b + i, bb.n - i, &cp);
        if (len == 0) {
            c->text[0] = '?';
            i++;
        } else {
            if (utf8) memcpy(c->text, bb.b + i, len);
            else c->text[0] = '?';
            i += len;
        }
    }
    st->n_chars = n;
    free(bb.b);
    free(bb.owner);
    wrap(st, width);
    return ST_OK;
}

void layout_story_free(Story *st) {
    if (!st) return;
    free(st->chars);
    memset(st, 0, sizeof *st);
}

double layout_agreement(int n_prompt, int first_diff, int n_fp32, int n_plan, int *agree, int *written) {
    int same = first_diff >= 0 ? first_diff : (n_fp32 < n_plan ? n_fp32 : n_plan);
    *agree = same > n_prompt ? same - n_prompt : 0;
    *written = n_fp32 > n_prompt ? n_fp32 - n_prompt : 0;
    return *written > 0 ? (double)*agree / *written : 1.0;
}

/* ------------------------------------------------------- text scatter --- */

static bool point_drawn(const ScatterPoint *p) {
    return isfinite(p->x) && isfinite(p->y) && p->x > 0 && p->y >= 0;
}

static int top_row(const TextScatter *ts) {
    return ts->zero_row ? ts->h - 2 : ts->h - 1;
}

int layout_scatter_col(const TextScatter *ts, double x) {
    double lo = log2(ts->x_lo), hi = log2(ts->x_hi);
    double f = x > 0 ? (log2(x) - lo) / (hi - lo) : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    return (int)lround(f * (ts->w - 1));
}

int layout_scatter_row(const TextScatter *ts, double y) {
    if (ts->zero_row && y < LAYOUT_Y_ZERO) return ts->h - 1;
    double lo = log10(ts->y_lo), hi = log10(ts->y_hi);
    double f = y > 0 ? (log10(y) - lo) / (hi - lo) : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    int top = top_row(ts);
    return top - (int)lround(f * top);
}

static void set_cell(TextScatter *ts, int row, int col, char g, ScatterCell k) {
    ts->glyph[row * ts->w + col] = g;
    ts->kind[row * ts->w + col] = (unsigned char)k;
}

/* Whether `len` label characters fit from column `start` on `row`. */
static bool label_fits(const TextScatter *ts, int row, int start, int len) {
    if (start < 0 || start + len > ts->w) return false;
    for (int c = start - 1; c <= start + len; c++) {
        if (c < 0 || c >= ts->w) continue;
        unsigned char k = ts->kind[row * ts->w + c];
        bool inside = c >= start && c < start + len;
        if (k == SCATTER_LABEL || k == SCATTER_LABEL_CURRENT) return false; /* keeps a blank between labels */
        if (inside && k != SCATTER_EMPTY && k != SCATTER_LINE) return false;
    }
    return true;
}

static void place_label(TextScatter *ts, const ScatterPoint *p, int i, bool current, int label_max) {
    char text[128];
    int len = canvas_text_flatten(p->label ? p->label : "", text, (int)sizeof text);
    if (len > label_max) len = label_max;
    while (len > 0 && text[len - 1] == ' ') len--;
    if (len <= 0) return;
    int row = ts->row[i], col = ts->col[i];
    int start = col + 2;
    if (!label_fits(ts, row, start, len)) {
        start = col - 1 - len;
        if (!label_fits(ts, row, start, len)) return;
    }
    for (int k = 0; k < len; k++)
        set_cell(ts, row, start + k, text[k], current ? SCATTER_LABEL_CURRENT : SCATTER_LABEL);
    for (int c = start - 1; c <= start + len; c += len + 1) /* a blank around it, not the line */
        if (c >= 0 && c < ts->w && ts->kind[row * ts->w + c] == SCATTER_LINE) set_cell(ts, row, c, ' ', SCATTER_EMPTY);
    ts->labelled[i] = true;
}

/* '.' on the empty cells of the straight way between two cells. */
static void draw_line(TextScatter *ts, int c0, int r0, int c1, int r1) {
    int steps = abs(c1 - c0) > abs(r1 - r0) ? abs(c1 - c0) : abs(r1 - r0);
    for (int s = 1; s < steps; s++) {
        int c = c0 + (int)lround((double)(c1 - c0) * s / steps);
        int r = r0 + (int)lround((double)(r1 - r0) * s / steps);
        if (ts->kind[r * ts->w + c] == SCATTER_EMPTY) set_cell(ts, r, c, '.', SCATTER_LINE);
    }
}

static void scatter_axes(TextScatter *ts, const ScatterPoint *p, int n) {
    double x_min = 4, x_max = 32, y_min = INFINITY, y_max = 0;
    ts->zero_row = false;
    for (int i = 0; i < n; i++) {
        if (!point_drawn(&p[i])) continue;
        if (p[i].x < x_min) x_min = p[i].x;
        if (p[i].x > x_max) x_max = p[i].x;
        if (p[i].y < LAYOUT_Y_ZERO) {
            ts->zero_row = true;
            continue;
        }
        if (p[i].y < y_min) y_min = p[i].y;
        if (p[i].y > y_max) y_max = p[i].y;
    }
    ts->x_lo = exp2(floor(log2(x_min)));
    ts->x_hi = exp2(ceil(log2(x_max)));
    if (isinf(y_min)) {
        ts->y_lo = 1e-3;
        ts->y_hi = 1;
    } else {
        ts->y_lo = pow(10, floor(log10(y_min)));
        ts->y_hi = pow(10, ceil(log10(y_max)));
        if (ts->y_hi <= ts->y_lo) ts->y_hi = ts->y_lo * 10;
    }
}

Status layout_scatter(TextScatter *ts, const ScatterPoint *points, int n, int highlight, int w, int h,
                      int label_max, Error *err) {
    memset(ts, 0, sizeof *ts);
    if (w < 8 || h < 3 || n < 0) return error_set(err, ST_USAGE, "layout: scatter of %dx%d cells, %d points", w, h, n);
    size_t cells = (size_t)w * (size_t)h, np = (size_t)n + 1;
    ts->glyph = malloc(cells);
    ts->kind = calloc(cells, 1);
    ts->col = malloc(np * sizeof *ts->col);
    ts->row = malloc(np * sizeof *ts->row);
    ts->on_frontier = calloc(np, sizeof *ts->on_frontier);
    ts->labelled = calloc(np, sizeof *ts->labelled);
    int *idx = malloc(np * sizeof *idx);
    ScatterPoint *q = calloc(np, sizeof *q);
    if (!ts->glyph || !ts->kind || !ts->col || !ts->row || !ts->on_frontier || !ts->labelled || !idx || !q) {
        free(idx);
        free(q);
        layout_scatter_free(ts);
        return error_set(err, ST_NOMEM, "out of memory laying out a scatter plot");
    }
    memset(ts->glyph, ' ', cells);
    ts->w = w;
    ts->h = h;
    ts->n = n;
    scatter_axes(ts, points, n);
    if (highlight >= n) highlight = -1;

    for (int i = 0; i < n; i++) {
        bool ok = point_drawn(&points[i]);
        ts->col[i] = ok ? layout_scatter_col(ts, points[i].x) : -1;
        ts->row[i] = ok ? layout_scatter_row(ts, points[i].y) : -1;
    }
    /* the frontier among the drawn points (zero counts as zero) */
    for (int i = 0; i < n; i++) {
        q[i] = points[i];
        if (!point_drawn(&q[i])) q[i].x = NAN;
        else if (q[i].y < LAYOUT_Y_ZERO) q[i].y = 0;
    }
    int m = chart_pareto_frontier(q, n, idx);
    free(q);
    for (int k = 0; k < m; k++) ts->on_frontier[idx[k]] = true;
    /* points: others, then the frontier, then the current plan on top */
    for (int i = 0; i < n; i++)
        if (ts->col[i] >= 0 && !ts->on_frontier[i]) set_cell(ts, ts->row[i], ts->col[i], 'o', SCATTER_POINT);
    for (int k = 0; k < m; k++) set_cell(ts, ts->row[idx[k]], ts->col[idx[k]], '*', SCATTER_FRONTIER);
    if (highlight >= 0 && ts->col[highlight] >= 0)
        set_cell(ts, ts->row[highlight], ts->col[highlight], '@', SCATTER_CURRENT);
    for (int k = 0; k + 1 < m; k++)
        draw_line(ts, ts->col[idx[k]], ts->row[idx[k]], ts->col[idx[k + 1]], ts->row[idx[k + 1]]);
    /* labels: the current plan, the frontier, the rest */
    if (label_max > 0) {
        if (highlight >= 0 && ts->col[highlight] >= 0) place_label(ts, &points[highlight], highlight, true, label_max);
        for (int k = 0; k < m; k++)
            if (idx[k] != highlight) place_label(ts, &points[idx[k]], idx[k], false, label_max);
        for (int i = 0; i < n; i++)
            if (i != highlight && !ts->on_frontier[i] && ts->col[i] >= 0) place_label(ts, &points[i], i, false, label_max);
    }
    free(idx);
    return ST_OK;
}

void layout_scatter_free(TextScatter *ts) {
    if (!ts) return;
    free(ts->glyph);
    free(ts->kind);
    free(ts->col);
    free(ts->row);
    free(ts->on_frontier);
    free(ts->labelled);
    memset(ts, 0, sizeof *ts);
}

/* ============================================================ formats === */

char *layout_format_short(Format f, int width, char *buf, size_t size) {
    if (size == 0) return buf;
    char text[FORMAT_NAME_MAX * 2];
    format_label(f, text, sizeof text);
    if ((int)strlen(text) > width || format_has_modifiers(f)) {
        Format b = format_base(f);
        char base[48], name[FORMAT_NAME_MAX];
        if (b.kind == FORMAT_TEACH) {
            char gran[16];
            if (b.gran == GRAN_TENSOR) snprintf(gran, sizeof gran, "tensor");
            else if (b.gran == GRAN_ROW) snprintf(gran, sizeof gran, "row");
            else snprintf(gran, sizeof gran, "b%u", (unsigned)b.block);
            snprintf(base, sizeof base, "INT%u %s%s", (unsigned)b.bits, gran, b.asym ? " asym" : "");
        } else if (format_equal(b, FORMAT_INT8)) {
            snprintf(base, sizeof base, "INT8");
        } else if (format_equal(b, FORMAT_INT4)) {
            snprintf(base, sizeof base, "INT4");
        } else {
            format_label(b, base, sizeof base); /* FP32, FP16, BF16, Q4_1, ... */
        }
        format_name(f, name, sizeof name);
        const char *mods = strchr(name, '+');
        snprintf(text, sizeof text, "%s%s", base, mods ? mods : "");
    }
    if ((int)strlen(text) > width) { /* cut, and say so */
        text[width > 1 ? width - 1 : 0] = '~';
        text[width] = '\0';
    }
    snprintf(buf, size, "%s", text);
    return buf;
}
