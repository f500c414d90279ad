/* draw.c — drawing helpers the screens share: clipped text, boxes, bars. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "base/utf8.h"
#include "tui/ui.h"

static bool utf8_mode;

bool draw_utf8(void) {
    return utf8_mode;
}

void draw_set_utf8(bool utf8) {
    utf8_mode = utf8;
}

void draw_sanitize(char *out, size_t size, const char *text, size_t len) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size;) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(text + i, len - i, &cp);
        if (n == 0) { /* a stray byte */
            out[o++] = '?';
            i++;
        } else if (!utf8_mode) {
            out[o++] = '?';
            i += n;
        } else {
            memcpy(out + o, text + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
}

int draw_width(const char *text) {
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80) w++; /* one column per character (no wide glyphs drawn) */
    return w;
}

/* Copies at most max_w characters of text. */
static void clip(char *out, size_t size, const char *text, int max_w) {
    size_t o = 0;
    int w = 0;
    for (const char *p = text; *p && o + 1 < size; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80) {
            if (w == max_w) break;
            w++;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

/* The last column of the last line is never written: some terminals (and
 * libvterm) scroll the whole screen when the bottom-right cell is filled with
 * a repeat sequence, which would push the tab bar off the top. */
static int right_edge(int y) {
    return y == LINES - 1 ? COLS - 1 : COLS;
}

void draw_text(int y, int x, int max_w, ThemeRole role, const char *text) {
    if (max_w <= 0 || y < 0 || y >= LINES || x >= right_edge(y)) return;
    if (x + max_w > right_edge(y)) max_w = right_edge(y) - x;
    char safe[1024], out[1024];
    draw_sanitize(safe, sizeof safe, text, strlen(text));
    clip(out, sizeof out, safe, max_w);
    attrset(theme_attr(role));
    mvaddstr(y, x, out);
    attrset(A_NORMAL);
}

int draw_textf(int y, int x, int max_w, ThemeRole role, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    draw_text(y, x, max_w, role, buf);
    int w = draw_width(buf);
    return w < max_w ? w : max_w;
}

const char *draw_fitting(int w, const char *a, const char *b, const char *c) {
    if ((int)strlen(a) <= w) return a;
    if ((int)strlen(b) <= w || !c) return b;
    return c;
}

void draw_fill(int y, int x, int w, ThemeRole role, char c) {
    if (y < 0 || y >= LINES) return;
    attrset(theme_attr(role));
    for (int i = 0; i < w && x + i < right_edge(y); i++) mvaddch(y, x + i, (chtype)(unsigned char)c);
    attrset(A_NORMAL);
}

static void put_glyph(int y, int x, const char *g) {
    if (y >= 0 && y < LINES && x >= 0 && x < COLS) mvaddstr(y, x, g);
}

void draw_box(Rect r, ThemeRole role, const char *title) {
    const Glyphs *g = glyphs();
    if (r.h < 2 || r.w < 2) return;
    attrset(theme_attr(role));
    for (int i = 1; i < r.w - 1; i++) {
        put_glyph(r.y, r.x + i, g->hline);
        put_glyph(r.y + r.h - 1, r.x + i, g->hline);
    }
    for (int i = 1; i < r.h - 1; i++) {
        put_glyph(r.y + i, r.x, g->vline);
        put_glyph(r.y + i, r.x + r.w - 1, g->vline);
    }
    put_glyph(r.y, r.x, g->tl);
    put_glyph(r.y, r.x + r.w - 1, g->tr);
    put_glyph(r.y + r.h - 1, r.x, g->bl);
    put_glyph(r.y + r.h - 1, r.x + r.w - 1, g->br);
    attrset(A_NORMAL);
    if (title && *title) {
        char t[256];
        snprintf(t, sizeof t, " %s ", title);
        draw_text(r.y, r.x + 2, r.w - 4, ROLE_TITLE, t);
    }
}

void draw_hbar(int y, int x, int w, double value, double max, ThemeRole role, bool plan) {
    if (w <= 0 || y < 0 || y >= LINES) return;
    const Glyphs *g = glyphs();
    double frac = max > 0 ? value / max : 0;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int eighths = (int)(frac * w * 8 + 0.5);
    attrset(theme_attr(role));
    for (int i = 0; i < w && x + i < COLS; i++) {
        int e = eighths - 8 * i;
        const char *c;
        if (e >= 8) c = plan ? g->plan_full : g->full;
        else if (e <= 0) c = " ";
        else c = plan && !g->utf8 ? (e >= 4 ? g->plan_full : " ") : g->eighths[e];
        mvaddstr(y, x + i, c);
    }
    attrset(A_NORMAL);
}

void draw_progress(int y, int x, int w, double fraction, const char *label) {
    if (w < 12) return;
    char pct[16];
    snprintf(pct, sizeof pct, " %3d%% ", (int)(fraction * 100 + 0.5));
    int bar_w = w / 3 < 10 ? 10 : w / 3;
    draw_text(y, x, 1, ROLE_NORMAL, "[");
    draw_hbar(y, x + 1, bar_w, fraction, 1.0, ROLE_BAR_PLAN, false);
    draw_text(y, x + 1 + bar_w, 1, ROLE_NORMAL, "]");
    draw_text(y, x + 2 + bar_w, 6, ROLE_NORMAL, pct);
    draw_text(y, x + 8 + bar_w, w - 8 - bar_w, ROLE_DIM, label);
}

char *ui_fmt_count(char *buf, size_t size, double n) {
    return fmt_count(buf, size, (int64_t)(n + 0.5));
}

char *ui_fmt_bytes(char *buf, size_t size, double bytes) {
    return fmt_bytes(buf, size, bytes);
}

