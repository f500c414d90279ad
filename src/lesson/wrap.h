/* wrap.h — laying out a lesson's text in lines of a given width.
 *
 * Text as the parser stores it and figure.h renders it: '\n' separates display
 * lines; a line starting with '\t' is verbatim (a picture: cut, never filled);
 * an empty line is a blank line; any other line is a paragraph, filled to the
 * width at spaces. Figure marks (FIGURE_MARK_START/END) take no room. Widths
 * count UTF-8 characters. Used by the Lessons screen; no curses here.
 */
#ifndef QL_LESSON_WRAP_H
#define QL_LESSON_WRAP_H

#include <stdbool.h>

typedef struct WrapLine {
    const char *start; /* into the text */
    int len;           /* bytes */
    bool verbatim;
} WrapLine;

/* Fills lines[0..max) and returns how many lines the text needs (which may be
 * more than max: only the first max are stored). width >= 1. */
int lesson_wrap(const char *text, int width, WrapLine *lines, int max);

/* Display width of s[0..len): characters, figure marks not counted. */
int lesson_text_width(const char *s, int len);

#endif
