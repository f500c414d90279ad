/* canvas.c — see canvas.h. Plain loops over an RGB buffer; no libpng here. */
#include "plot/canvas.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot/font.h"

/* ---------------------------------------------------------------- pixels --- */

Status canvas_init(Canvas *c, int w, int h, Rgb bg, Error *err) {
    memset(c, 0, sizeof *c);
    if (w < 1 || h < 1) return error_set(err, ST_USAGE, "canvas: size %dx%d is empty", w, h);
    if (w > CANVAS_MAX_SIDE || h > CANVAS_MAX_SIDE || (int64_t)w * h > CANVAS_MAX_PIXELS)
        return error_set(err, ST_LIMIT, "canvas: %dx%d pixels is more than this program draws",
                         w, h);
    size_t bytes = (size_t)w * (size_t)h * 3; /* <= 3 * 2^26: no overflow */
    c->px = malloc(bytes);
    if (!c->px) return error_set(err, ST_NOMEM, "canvas: out of memory for %dx%d pixels", w, h);
    c->w = w;
    c->h = h;
    canvas_clear(c, bg);
    return ST_OK;
}

void canvas_free(Canvas *c) {
    if (!c) return;
    free(c->px);
    memset(c, 0, sizeof *c);
}

void canvas_clear(Canvas *c, Rgb bg) {
    canvas_fill_rect(c, 0, 0, c->w, c->h, bg);
}

Rgb canvas_get(const Canvas *c, int x, int y) {
    assert(x >= 0 && x < c->w && y >= 0 && y < c->h);
    const uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    return (Rgb){p[0], p[1], p[2]};
}

bool rgb_equal(Rgb a, Rgb b) {
    return a.r == b.r && a.g == b.g && a.b == b.b;
}

void canvas_put(Canvas *c, int x, int y, Rgb col) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

static uint8_t mix(uint8_t under, uint8_t over, double alpha) {
    double v = under + (over - under) * alpha;
    return (uint8_t)lround(v);
}

void canvas_blend(Canvas *c, int x, int y, Rgb col, double alpha) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || !(alpha > 0)) return;
    if (alpha >= 1) {
        canvas_put(c, x, y, col);
        return;
    }
    uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    p[0] = mix(p[0], col.r, alpha);
    p[1] = mix(p[1], col.g, alpha);
    p[2] = mix(p[2], col.b, alpha);
}

/* ------------------------------------------------------------ rectangles --- */

/* Clips [x, x+w) x [y, y+h) to the canvas; false when nothing is left. */
static bool clip_rect(const Canvas *c, int *x, int *y, int *w, int *h) {
    int64_t x0 = *x, y0 = *y, x1 = (int64_t)*x + *w, y1 = (int64_t)*y + *h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    if (x0 >= x1 || y0 >= y1) return false;
    *x = (int)x0;
    *y = (int)y0;
    *w = (int)(x1 - x0);
    *h = (int)(y1 - y0);
    return true;
}

void canvas_fill_rect(Canvas *c, int x, int y, int w, int h, Rgb col) {
    if (!clip_rect(c, &x, &y, &w, &h)) return;
    for (int j = y; j < y + h; j++) {
        uint8_t *p = c->px + 3 * ((size_t)j * (size_t)c->w + (size_t)x);
        for (int i = 0; i < w; i++, p += 3) {
            p[0] = col.r;
            p[1] = col.g;
            p[2] = col.b;
        }
    }
}

void canvas_stroke_rect(Canvas *c, int x, int y, int w, int h, int thick, Rgb col) {
    if (w <= 0 || h <= 0 || thick <= 0) return;
    if (2 * thick >= w || 2 * thick >= h) {
        canvas_fill_rect(c, x, y, w, h, col);
        return;
    }
    canvas_fill_rect(c, x, y, w, thick, col);
    canvas_fill_rect(c, x, y + h - thick, w, thick, col);
    canvas_fill_rect(c, x, y + thick, thick, h - 2 * thick, col);
    canvas_fill_rect(c, x + w - thick, y + thick, thick, h - 2 * thick, col);
}

void canvas_hatch_rect(Canvas *c, int x, int y, int w, int h, int period, int thick, Rgb col) {
    assert(period > 0);
    if (!clip_rect(c, &x, &y, &w, &h)) return;
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            if ((i + j) % period < thick) canvas_put(c, i, j, col);
}

/* ----------------------------------------------------------------- lines --- */

/* The pixels of the box [x0, x1] x [y0, y1] (doubles, any size) that lie
 * inside the canvas; false when none do. */
static bool clip_box(const Canvas *c, double x0, double x1, double y0, double y1, int *bx0,
                     int *bx1, int *by0, int *by1) {
    if (!(x1 >= 0 && y1 >= 0 && x0 <= c->w - 1 && y0 <= c->h - 1)) return false; /* NaN too */
    *bx0 = x0 < 0 ? 0 : (int)floor(x0);
    *by0 = y0 < 0 ? 0 : (int)floor(y0);
    *bx1 = x1 > c->w - 1 ? c->w - 1 : (int)ceil(x1);
    *by1 = y1 > c->h - 1 ? c->h - 1 : (int)ceil(y1);
    return true;
}

void canvas_line(Canvas *c, double x0, double y0, double x1, double y1, double width, Rgb col) {
    /* Coverage of each pixel centre from its distance d to the segment:
     * 1 inside width/2 - 0.5, falling to 0 at width/2 + 0.5. */
    double r = width / 2 + 0.5;
    int bx0, bx1, by0, by1;
    if (!clip_box(c, fmin(x0, x1) - r, fmax(x0, x1) + r, fmin(y0, y1) - r, fmax(y0, y1) + r,
                  &bx0, &bx1, &by0, &by1))
        return;
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int y = by0; y <= by1; y++) {
        for (int x = bx0; x <= bx1; x++) {
            double t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
            double cover = r - sqrt(ex * ex + ey * ey);
            if (cover > 0) canvas_blend(c, x, y, col, cover);
        }
    }
}

void canvas_dashed_line(Canvas *c, double x0, double y0, double x1, double y1, double width,
                        double dash, double gap, Rgb col) {
    assert(dash > 0 && gap >= 0);
    double dx = x1 - x0, dy = y1 - y0, len = sqrt(dx * dx + dy * dy);
    if (!isfinite(len)) return;
    if (len == 0) {
        canvas_line(c, x0, y0, x1, y1, width, col);
        return;
    }
    double ux = dx / len, uy = dy / len;
    for (double s = 0; s < len; s += dash + gap) {
        double e = fmin(s + dash, len);
        /* Round ends add width/2 at each end; pull them in so gaps stay gaps. */
        double a = s + width / 2, b = e - width / 2;
        if (b < a) a = b = (s + e) / 2;
        canvas_line(c, x0 + ux * a, y0 + uy * a, x0 + ux * b, y0 + uy * b, width, col);
    }
}

/* --------------------------------------------------------------- markers --- */

static bool marker_inside(Marker m, double x, double y, double r) {
    if (r <= 0) return false;
    switch (m) {
    case MARKER_CIRCLE: return x * x + y * y <= r * r;
    case MARKER_SQUARE: return fabs(x) <= 0.85 * r && fabs(y) <= 0.85 * r;
    case MARKER_DIAMOND: return fabs(x) + fabs(y) <= r;
    case MARKER_TRIANGLE: /* vertices (0,-r), (+-0.866r, r/2): centroid at the centre */
        return y <= r / 2 && fabs(x) * sqrt(3.0) <= y + r;
    }
    return false;
}

/* How far the inner (fill) shape's "radius" shrinks for an edge of width 1. */
static double marker_edge_factor(Marker m) {
    switch (m) {
    case MARKER_CIRCLE: return 1;
    case MARKER_SQUARE: return 1 / 0.85;
    case MARKER_DIAMOND: return sqrt(2.0);
    case MARKER_TRIANGLE: return 2; /* the inradius is r/2 */
    }
    return 1;
}

void canvas_marker(Canvas *c, double cx, double cy, Marker m, double radius, Rgb fill, Rgb edge,
                   double edge_w) {
    enum { SS = 4 }; /* 4x4 samples a pixel */
    double r_in = edge_w > 0 ? radius - edge_w * marker_edge_factor(m) : radius;
    int x0, x1, y0, y1;
    if (!clip_box(c, cx - radius - 1, cx + radius + 1, cy - radius - 1, cy + radius + 1, &x0, &x1,
                  &y0, &y1))
        return;
    for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
            int n_out = 0, n_in = 0;
            for (int sy = 0; sy < SS; sy++) {
                for (int sx = 0; sx < SS; sx++) {
                    double px = x - cx + (sx + 0.5) / SS - 0.5;
                    double py = y - cy + (sy + 0.5) / SS - 0.5;
                    n_out += marker_inside(m, px, py, radius);
                    n_in += marker_inside(m, px, py, r_in);
                }
            }
            if (edge_w > 0) canvas_blend(c, x, y, edge, (double)n_out / (SS * SS));
            canvas_blend(c, x, y, fill, (double)n_in / (SS * SS));
        }
    }
}

/* ------------------------------------------------------------------ text --- */

/* The next character of UTF-8 text: returns the byte to draw ('?' for anything
 * outside printable ASCII) and advances *p past the whole sequence. */
static unsigned char text_next(const char **p) {
    const unsigned char *s = (const unsigned char *)*p;
    unsigned char c = *s++;
    if (c >= 0xC0 && c <= 0xF7) {
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        while (more-- > 0 && (*s & 0xC0) == 0x80) s++;
    }
    *p = (const char *)s;
    return font_map(c);
}

int canvas_text_len(const char *s) {
    int n = 0;
    while (*s) {
        text_next(&s);
        n++;
    }
    return n;
}

int canvas_text_flatten(const char *s, char *out, int size) {
    assert(size >= 1);
    int n = 0;
    while (*s && n < size - 1) out[n++] = (char)text_next(&s);
    out[n] = '\0';
    return n;
}

int canvas_text_width(const char *s, int scale) {
    return canvas_text_len(s) * FONT_W * scale;
}

static int align_start(int anchor, int width, Align align) {
    switch (align) {
    case ALIGN_LEFT: return anchor;
    case ALIGN_CENTER: return anchor - width / 2;
    case ALIGN_RIGHT: return anchor - width;
    }
    return anchor;
}

int canvas_text(Canvas *c, int x, int y, const char *s, int scale, Align align, Rgb col) {
    assert(scale >= 1);
    int width = canvas_text_width(s, scale);
    int gx = align_start(x, width, align);
    while (*s) {
        unsigned char ch = text_next(&s);
        for (int row = 0; row < FONT_H; row++) {
            uint8_t bits = font_row(ch, row);
            for (int col_i = 0; col_i < FONT_W; col_i++)
                if (bits & (0x80u >> col_i))
                    canvas_fill_rect(c, gx + col_i * scale, y + row * scale, scale, scale, col);
        }
        gx += FONT_W * scale;
    }
    return width;
}

int canvas_text_up(Canvas *c, int x, int y, const char *s, int scale, Align align, Rgb col) {
    assert(scale >= 1);
    int width = canvas_text_width(s, scale);
    /* Along the text, y decreases; start is the bottom end. */
    int start = -align_start(-y, width, align);
    int gy = start;
    while (*s) {
        unsigned char ch = text_next(&s);
        /* Glyph pixel (col, row) lands at (x + row, gy - col): turned a quarter left. */
        for (int row = 0; row < FONT_H; row++) {
            uint8_t bits = font_row(ch, row);
            for (int col_i = 0; col_i < FONT_W; col_i++)
                if (bits & (0x80u >> col_i))
                    canvas_fill_rect(c, x + row * scale, gy - (col_i + 1) * scale + 1, scale,
                                     scale, col);
        }
        gy -= FONT_W * scale;
    }
    return width;
}
