/* theme.h — colours by role, three schemes, and the glyphs for the locale.
 *
 * Screens never name a colour: they ask for a role (ROLE_BAR_PLAN, ROLE_WARN...).
 * The schemes: "default" on the terminal's own background, "contrast" (bright,
 * bold, for projectors) and "mono" (attributes only; used for NO_COLOR and
 * --no-color). Meaning never rests on red against green alone: the plan's bars
 * are also a different glyph, the worst figures are also bold or underlined.
 * Glyphs are Unicode blocks and box lines on a UTF-8 locale and plain ASCII
 * otherwise, so LANG=C screens hold only ASCII bytes.
 */
#ifndef QL_TUI_THEME_H
#define QL_TUI_THEME_H

#include <stdbool.h>

/* X-macro: role, default fg, default bg, contrast fg, contrast bg, mono attributes */
#define THEME_ROLES(X)                                                         \
    X(ROLE_NORMAL, -1, -1, COLOR_WHITE, COLOR_BLACK, 0)                        \
    X(ROLE_DIM, COLOR_BLUE, -1, COLOR_CYAN, COLOR_BLACK, A_DIM)                \
    X(ROLE_TITLE, COLOR_CYAN, -1, COLOR_YELLOW, COLOR_BLACK, A_BOLD)           \
    X(ROLE_TAB, -1, -1, COLOR_WHITE, COLOR_BLACK, 0)                           \
    X(ROLE_TAB_ACTIVE, COLOR_BLACK, COLOR_CYAN, COLOR_BLACK, COLOR_YELLOW, A_REVERSE | A_BOLD) \
    X(ROLE_SELECTED, COLOR_BLACK, COLOR_CYAN, COLOR_BLACK, COLOR_YELLOW, A_REVERSE) \
    X(ROLE_HEADER, COLOR_BLACK, COLOR_GREEN, COLOR_BLACK, COLOR_WHITE, A_BOLD | A_UNDERLINE) \
    X(ROLE_FKEY, -1, -1, COLOR_WHITE, COLOR_BLACK, A_BOLD)                     \
    X(ROLE_FKEY_LABEL, COLOR_BLACK, COLOR_CYAN, COLOR_BLACK, COLOR_CYAN, A_REVERSE) \
    X(ROLE_BAR_FP32, COLOR_BLUE, -1, COLOR_CYAN, COLOR_BLACK, 0)               \
    X(ROLE_BAR_PLAN, COLOR_YELLOW, -1, COLOR_YELLOW, COLOR_BLACK, A_BOLD)      \
    X(ROLE_GRID, COLOR_MAGENTA, -1, COLOR_MAGENTA, COLOR_BLACK, A_BOLD)        \
    X(ROLE_GOOD, COLOR_GREEN, -1, COLOR_GREEN, COLOR_BLACK, 0)                 \
    X(ROLE_WARN, COLOR_YELLOW, -1, COLOR_YELLOW, COLOR_BLACK, A_BOLD)          \
    X(ROLE_BAD, COLOR_RED, -1, COLOR_RED, COLOR_BLACK, A_BOLD | A_UNDERLINE)   \
    X(ROLE_CHANGED, COLOR_YELLOW, -1, COLOR_YELLOW, COLOR_BLACK, A_BOLD)       \
    X(ROLE_DIFF, COLOR_BLACK, COLOR_YELLOW, COLOR_BLACK, COLOR_YELLOW, A_REVERSE | A_BOLD) \
    X(ROLE_CONF_LOW, COLOR_RED, -1, COLOR_RED, COLOR_BLACK, A_UNDERLINE)       \
    X(ROLE_CONF_MID, COLOR_YELLOW, -1, COLOR_YELLOW, COLOR_BLACK, 0)           \
    X(ROLE_CONF_HIGH, -1, -1, COLOR_WHITE, COLOR_BLACK, A_BOLD)                \
    X(ROLE_STATUS, COLOR_BLACK, COLOR_WHITE, COLOR_BLACK, COLOR_WHITE, A_REVERSE) \
    X(ROLE_POPUP, COLOR_BLACK, COLOR_WHITE, COLOR_WHITE, COLOR_BLUE, A_REVERSE)

#define THEME_ENUM(role, f, b, cf, cb, mono) role,
typedef enum ThemeRole { THEME_ROLES(THEME_ENUM) ROLE_COUNT_ } ThemeRole;
#undef THEME_ENUM

typedef enum ThemeScheme { SCHEME_DEFAULT = 0, SCHEME_CONTRAST, SCHEME_MONO, SCHEME_COUNT } ThemeScheme;

/* Chooses the scheme and sets up colour pairs (after initscr). A terminal
 * without colours falls back to mono. */
void theme_init(ThemeScheme scheme);
ThemeScheme theme_scheme(void);
const char *theme_name(ThemeScheme scheme);
/* Scheme by name; -1 when unknown. */
int theme_from_name(const char *name);

/* The curses attributes for a role in the current scheme. */
int theme_attr(ThemeRole role);

typedef struct Glyphs {
    bool utf8;
    const char *hline, *vline, *tl, *tr, *bl, *br;
    const char *full;        /* a full block of a bar */
    const char *eighths[9];  /* 0..8 eighths of a cell, horizontally */
    const char *vbar[9];     /* 0..8 eighths of a cell, vertically */
    const char *plan_full;   /* the plan's bar (differs from FP32's in shape, not only colour) */
    const char *arrow_r, *arrow_d, *bullet;
    const char *mark;        /* a decoded value's count on the Histogram chart */
    const char *tick;        /* a grid level on the Histogram's axis row */
    const char *gridline;    /* a grid level's dotted line up the chart */
    const char *check;       /* the right answer of a lesson question */
} Glyphs;

/* Unicode glyphs when the locale's codeset is UTF-8, ASCII otherwise. */
void glyphs_init(bool utf8);
const Glyphs *glyphs(void);

#endif
