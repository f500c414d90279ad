/* theme.c — see theme.h. */
#include "tui/theme.h"

#include <curses.h>
#include <string.h>

#define THEME_ROW(role, f, b, cf, cb, mono) {f, b, cf, cb, mono},
static const struct {
    short fg, bg, cfg, cbg;
    int mono;
} ROLES[] = {THEME_ROLES(THEME_ROW)};
#undef THEME_ROW

static const char *const NAMES[SCHEME_COUNT] = {"default", "contrast", "mono"};

static ThemeScheme current = SCHEME_MONO;
static int attrs[ROLE_COUNT_];

const char *theme_name(ThemeScheme scheme) {
    return scheme < SCHEME_COUNT ? NAMES[scheme] : "?";
}

int theme_from_name(const char *name) {
    for (int i = 0; i < SCHEME_COUNT; i++)
        if (strcmp(name, NAMES[i]) == 0) return i;
    if (strcmp(name, "high-contrast") == 0 || strcmp(name, "projector") == 0) return SCHEME_CONTRAST;
    if (strcmp(name, "monochrome") == 0 || strcmp(name, "none") == 0) return SCHEME_MONO;
    return -1;
}

void theme_init(ThemeScheme scheme) {
    if (scheme != SCHEME_MONO && !has_colors()) scheme = SCHEME_MONO;
    current = scheme;
    if (scheme != SCHEME_MONO) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < ROLE_COUNT_; r++) {
        if (scheme == SCHEME_MONO) {
            attrs[r] = ROLES[r].mono;
            continue;
        }
        short fg = scheme == SCHEME_CONTRAST ? ROLES[r].cfg : ROLES[r].fg;
        short bg = scheme == SCHEME_CONTRAST ? ROLES[r].cbg : ROLES[r].bg;
        init_pair((short)(r + 1), fg, bg);
        attrs[r] = COLOR_PAIR(r + 1);
        if (scheme == SCHEME_CONTRAST) attrs[r] |= A_BOLD;
        /* keep the non-colour cue of roles that carry meaning */
        attrs[r] |= ROLES[r].mono & (A_UNDERLINE | A_BOLD);
    }
}

ThemeScheme theme_scheme(void) {
    return current;
}

int theme_attr(ThemeRole role) {
    return role < ROLE_COUNT_ ? attrs[role] : 0;
}

static const Glyphs UTF8 = {
    true, "\u2500", "\u2502", "\u250c", "\u2510", "\u2514", "\u2518",
    "\u2588",
    {" ", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589", "\u2588"},
    {" ", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"},
    "\u2593", "\u25b6", "\u25bc", "\u2022", "\u25c6", "\u2534", "\u250a", "\u2713",
};

static const Glyphs ASCII = {
    false, "-", "|", "+", "+", "+", "+",
    "#",
    {" ", " ", " ", " ", "#", "#", "#", "#", "#"},
    {" ", ".", ".", ":", ":", "|", "|", "#", "#"},
    "=", ">", "v", "*", "*", "^", "'", "=",
};

static const Glyphs *active = &ASCII;

void glyphs_init(bool utf8) {
    active = utf8 ? &UTF8 : &ASCII;
}

const Glyphs *glyphs(void) {
    return active;
}
