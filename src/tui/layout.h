/* layout.h — the text layouts behind the Compare and Quality screens, kept free
 * of curses so unit tests can check them cell by cell (tests/unit/test_layout.c).
 *
 *  - layout_story: a story made of token pieces, decoded, made safe to show and
 *    word-wrapped into a column, each character remembering its token (for the
 *    confidence shading and the first-difference marker).
 *  - layout_agreement: how many new tokens the plan wrote as FP32 did before the
 *    first difference.
 *  - layout_scatter: the size-vs-quality frontier as a grid of characters: plans
 *    as points, the current one and the Pareto frontier set apart by glyph, short
 *    labels placed where they fit.
 *  - layout_format_short: a format's name for a narrow table cell, its GPTQ,
 *    pruning and outlier modifiers kept in sight.
 *
 * Called by scr_compare.c, scr_quality.c and scr_layers.c, which only turn the
 * cells into curses calls.
 */
#ifndef QL_TUI_LAYOUT_H
#define QL_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "plot/chart.h"
#include "quant/format.h"

/* ------------------------------------------------------------- stories --- */

typedef struct StoryChar {
    int line, col; /* where it is drawn; col -1 when it is not (a newline, or the
                      space a line was broken at) */
    int token;     /* the token it belongs to; n_tokens for the "[end]" marker */
    char text[5];  /* the character as drawn, NUL-terminated (see layout_story) */
} StoryChar;

typedef struct Story {
    StoryChar *chars; /* (n_chars) in reading order */
    int n_chars;
    int n_lines;      /* lines holding at least one character or an empty line
                         made by a newline */
} Story;

/* Lays out n_tokens pieces (pieces[i] is lens[i] bytes, not NUL-terminated, as
 * tokenizer_decode gives them) in lines of `width` cells, one cell a character.
 *
 * The pieces are joined before the bytes are read as UTF-8, so a character that
 * a model wrote as several byte tokens shows whole (it belongs to the token of
 * its first byte). A byte that starts no valid sequence shows as '?', and so does
 * every non-ASCII character when `utf8` is false (a LANG=C terminal); '\n' ends
 * the line; other control bytes show as a space.
 *
 * Lines break at spaces; a word longer than a line is cut. A space that falls
 * just past the end of a line is not drawn (it is the break).
 *
 * `mark` (a token index, or -1) brackets one token: "[" before its first
 * character that is not a space and "]" after its last, both belonging to it. A
 * marked token with nothing to show between the brackets reads "[space]" or
 * "[new line]" (the newline still follows), an empty one "[]". mark == n_tokens appends " [end]"
 * (that column stopped there; the characters belong to token n_tokens).
 *
 * Errors: ST_USAGE when width < 1 or n_tokens < 0, ST_NOMEM; *st is then empty
 * (safe to free). */
Status layout_story(Story *st, const char *const *pieces, const size_t *lens, int n_tokens, int mark,
                    int width, bool utf8, Error *err);
void layout_story_free(Story *st);

/* The plan column's agreement with FP32: n_prompt tokens were forced (BOS and
 * the prompt, identical in both columns), first_diff is CompareState's (-1 when
 * the columns are the same), n_fp32 / n_plan the tokens in each column.
 * *agree gets the new tokens the plan wrote as FP32 did before the first
 * difference, *written the new tokens FP32 wrote; returns agree / written (1 when
 * FP32 wrote nothing new). */
double layout_agreement(int n_prompt, int first_diff, int n_fp32, int n_plan, int *agree, int *written);

/* ------------------------------------------------------- text scatter --- */

/* What a cell of a text scatter shows. */
typedef enum ScatterCell {
    SCATTER_EMPTY = 0,
    SCATTER_LINE,          /* '.' on the way between two frontier points */
    SCATTER_POINT,         /* 'o' a plan tried */
    SCATTER_FRONTIER,      /* '*' a plan on the Pareto frontier */
    SCATTER_CURRENT,       /* '@' the current plan (wherever it lies) */
    SCATTER_LABEL,         /* a character of a point's label */
    SCATTER_LABEL_CURRENT  /* a character of the current plan's label */
} ScatterCell;

typedef struct TextScatter {
    int w, h;              /* cells: columns 0..w-1, rows 0..h-1 (row 0 at the top) */
    double x_lo, x_hi;     /* x at column 0 / column w-1: powers of two, log2 axis */
    double y_lo, y_hi;     /* y at the lowest / the top row of the log10 axis: powers of ten */
    bool zero_row;         /* row h-1 holds y = 0 (points with y < LAYOUT_Y_ZERO);
                              the log axis then ends on row h-2 */
    char *glyph;           /* (h, w) the ASCII character of each cell, ' ' if empty */
    unsigned char *kind;   /* (h, w) ScatterCell */
    int *col, *row;        /* (n) each point's cell; -1 for a point not drawn */
    bool *on_frontier;     /* (n) */
    bool *labelled;        /* (n) its label found room */
    int n;
} TextScatter;

/* y values below this count as 0 (a plan that changes nothing has KL 0). */
#define LAYOUT_Y_ZERO 1e-6

/* Lays out points (x > 0, y >= 0; others are not drawn) in a w x h grid (w >= 8,
 * h >= 3), x on a log2 axis from the power of two at or below the smallest x (4
 * at most) to the one at or above the largest (32 at least), y on a log10 axis
 * between the powers of ten around the positive values (one decade at least;
 * 0.001 to 1 when there are none), with a row for zero below it when a point
 * has y < LAYOUT_Y_ZERO. A point sits in the cell nearest its place:
 *     col = round((log2 x - log2 x_lo) / (log2 x_hi - log2 x_lo) * (w - 1))
 *     row = top_row - round((log10 y - log10 y_lo) / (log10 y_hi - log10 y_lo) * top_row)
 * with top_row = h - 1, or h - 2 with a zero row (a y outside the axis is clamped).
 * The Pareto frontier (chart_pareto_frontier: smaller x and smaller y both
 * better) is drawn '*' and joined by '.' through empty cells, other points 'o',
 * point `highlight` (-1: none) '@' on top of all. Labels (points[i].label cut
 * to label_max characters, non-ASCII shown as '?') are placed in the order
 * highlight, frontier, the rest: one blank right of the point, else one blank
 * left of it, never over a point or another label (a blank kept between
 * labels), over the frontier line when needed (the line then leaves a blank
 * on either side of the label); a label with no room is left out. Errors: ST_USAGE for a grid too small or n < 0, ST_NOMEM (*ts then
 * empty, safe to free). */
Status layout_scatter(TextScatter *ts, const ScatterPoint *points, int n, int highlight, int w, int h,
                      int label_max, Error *err);
void layout_scatter_free(TextScatter *ts);

/* The column of x / the row of y (> 0) on ts's axes, by the formulas above,
 * clamped to the grid; layout_scatter_row gives the zero row for y below
 * LAYOUT_Y_ZERO when there is one. For tick labels. */
int layout_scatter_col(const TextScatter *ts, double x);
int layout_scatter_row(const TextScatter *ts, double y);

/* ------------------------------------------------------------ formats --- */

/* A format's name in at most `width` columns (ASCII), for a table cell. A plain
 * format: its label (format_label: "INT4 (Q4_0)") when that fits. Otherwise, and
 * always with a method or modifiers, the base in short ("FP32", "INT8" for Q8_0,
 * "INT4" for Q4_0, "Q4_1", "INT4 tensor", "INT3 row asym", "INT4 b32") followed
 * by the modifiers as plans spell them ("+gptq", "+prune50", "+2:4",
 * "+out0.5%"): "INT4+gptq+2:4". A name still too long is cut and ends in '~'.
 * buf gets at most size - 1 bytes; width >= 1. */
char *layout_format_short(Format f, int width, char *buf, size_t size);

#endif
