/* canvas.h — an RGB image in memory and the drawing the charts are made of.
 *
 * chart.c draws into a Canvas; png_write.c saves one; the TUI may read pixels
 * back. Nothing here knows about files or libpng.
 *
 * Coordinates: x to the right, y down, (0, 0) the top-left pixel. The centre of
 * pixel (x, y) is the point (x, y), so a one-pixel line from (2, 5) to (9, 5)
 * covers exactly row 5. Every drawing call clips to the canvas: drawing partly
 * or wholly outside it is allowed and touches only the pixels inside.
 * Lines and markers are antialiased (blended with what is under them);
 * rectangles and text are not, so axis-aligned edges stay crisp.
 */
#ifndef QL_PLOT_CANVAS_H
#define QL_PLOT_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef struct Rgb {
    uint8_t r, g, b;
} Rgb;

/* 0xRRGGBB -> Rgb, usable in initialisers: RGB_HEX(0x0072B2). */
#define RGB_HEX(hex) \
    { (uint8_t)(((hex) >> 16) & 0xFF), (uint8_t)(((hex) >> 8) & 0xFF), (uint8_t)((hex) & 0xFF) }

typedef struct Canvas {
    int w, h;
    uint8_t *px; /* (h, w, 3): row-major RGB8; pixel (x, y) at px[3 * (y * w + x)] */
} Canvas;

/* Largest side and pixel count canvas_init accepts (1,048,576 and 64 Mpx). */
enum { CANVAS_MAX_SIDE = 1 << 20, CANVAS_MAX_PIXELS = 1 << 26 };

/* Allocates a w x h canvas filled with `bg`. ST_USAGE for a side < 1, ST_LIMIT
 * past the limits above, ST_NOMEM if the allocation fails; on error *c is zeroed. */
Status canvas_init(Canvas *c, int w, int h, Rgb bg, Error *err);
/* Releases the pixels; accepts NULL and a zeroed or already freed canvas. */
void canvas_free(Canvas *c);

void canvas_clear(Canvas *c, Rgb bg);
/* The pixel at (x, y), which must be inside the canvas. */
Rgb canvas_get(const Canvas *c, int x, int y);
bool rgb_equal(Rgb a, Rgb b);

/* One pixel, replaced or mixed: alpha 0 keeps what is there, 1 replaces it. */
void canvas_put(Canvas *c, int x, int y, Rgb col);
void canvas_blend(Canvas *c, int x, int y, Rgb col, double alpha);

/* Rectangles: (x, y) top-left, w x h pixels; nothing drawn when w or h <= 0. */
void canvas_fill_rect(Canvas *c, int x, int y, int w, int h, Rgb col);
/* The outline, `thick` pixels wide, inside the rectangle's bounds. */
void canvas_stroke_rect(Canvas *c, int x, int y, int w, int h, int thick, Rgb col);
/* Diagonal stripes ("/") inside the rectangle: a pixel is ink when
 * (x + y) mod period < thick. The stripes are anchored to the canvas, so
 * neighbouring hatched rectangles join into one continuous pattern. */
void canvas_hatch_rect(Canvas *c, int x, int y, int w, int h, int period, int thick, Rgb col);

/* A straight line `width` pixels wide with round ends, antialiased. */
void canvas_line(Canvas *c, double x0, double y0, double x1, double y1, double width, Rgb col);
/* The same line drawn as dashes `dash` long separated by gaps `gap` long,
 * starting with a dash at (x0, y0). */
void canvas_dashed_line(Canvas *c, double x0, double y0, double x1, double y1, double width,
                        double dash, double gap, Rgb col);

typedef enum Marker { MARKER_CIRCLE = 0, MARKER_SQUARE, MARKER_TRIANGLE, MARKER_DIAMOND } Marker;

/* A filled marker centred on (cx, cy), about as large as a circle of `radius`,
 * with an edge `edge_w` wide in `edge` (edge_w 0: no edge). The circle, the
 * diamond (corners at +-radius) and the up-pointing triangle fit inside that
 * circle; the square's half side is 0.85 radius, so its area is close. */
void canvas_marker(Canvas *c, double cx, double cy, Marker m, double radius, Rgb fill, Rgb edge,
                   double edge_w);

typedef enum Align { ALIGN_LEFT = 0, ALIGN_CENTER, ALIGN_RIGHT } Align;

/* Text in the font of font.h scaled by `scale` (>= 1): each glyph is
 * FONT_W*scale x FONT_H*scale pixels. Text is UTF-8; each character outside
 * printable ASCII (one UTF-8 sequence, or one invalid byte) is drawn as '?'. */
int canvas_text_len(const char *s);                /* characters drawn */
int canvas_text_width(const char *s, int scale);   /* pixels */
/* The characters that would be drawn, as plain ASCII ('?' for the others), cut
 * to fit `size` with its NUL; returns the number of characters written. */
int canvas_text_flatten(const char *s, char *out, int size);

/* Horizontal text whose cell top is row y; x is the left end, the middle or the
 * right end of the text as `align` says. Returns the width drawn in pixels. */
int canvas_text(Canvas *c, int x, int y, const char *s, int scale, Align align, Rgb col);
/* Text turned 90 degrees counter-clockwise (read bottom to top, as a y-axis
 * label): glyph tops face left, the cell's left edge is column x, and y is the
 * bottom end, the middle or the top end of the text as `align` says. */
int canvas_text_up(Canvas *c, int x, int y, const char *s, int scale, Align align, Rgb col);

#endif
