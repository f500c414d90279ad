/* font.h — the bitmap font every chart label is drawn with.
 *
 * One monospace face, 8x16 pixels a glyph, covering printable ASCII (0x20-0x7E);
 * canvas.c scales it by whole numbers (x2 axis labels, x3 titles on a 1280x720
 * slide). Vertical strokes are two pixels wide so the text survives a projector.
 *
 * Metrics, in rows of the 16-row cell (0 at the top): capitals and digits fill
 * rows 3-12 (baseline under row 12), lower case x-height rows 6-12, descenders
 * rows 13-15. Columns 0-6 hold the glyph, column 7 is the gap to the next one.
 */
#ifndef QL_PLOT_FONT_H
#define QL_PLOT_FONT_H

#include <stdbool.h>
#include <stdint.h>

enum { FONT_W = 8, FONT_H = 16, FONT_FIRST = 0x20, FONT_LAST = 0x7E };

/* The byte that is actually drawn for `c`: c itself when printable ASCII,
 * '?' for everything else (control characters, bytes >= 0x7F). */
unsigned char font_map(unsigned char c);

/* Row `row` (0..FONT_H-1) of the glyph for `c` as a bit mask, bit 7 = column 0
 * (the leftmost). Bytes outside 0x20-0x7E give the '?' glyph. */
uint8_t font_row(unsigned char c, int row);

/* Whether pixel (x, y) of the glyph for `c` is ink; x in 0..FONT_W-1, y in 0..FONT_H-1. */
bool font_pixel(unsigned char c, int x, int y);

#endif
