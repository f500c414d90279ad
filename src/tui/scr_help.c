/* scr_help.c — the Help screen, printed from the key table (keys.c), so it never
 * disagrees with what the keys do. */
#include <stdio.h>
#include <string.h>

#include "tui/ui.h"

typedef struct HelpLine {
    const char *key;
    const char *text;
    bool heading;
} HelpLine;

enum { MAX_LINES = 256 };

static int collect(HelpLine *out) {
    static const struct {
        unsigned mask;
        const char *title;
    } groups[] = {{SCR_ALL, "Everywhere"},
                  {SCR_LAYERS, "Layers"},
                  {SCR_HIST, "Histogram"},
                  {SCR_COMPARE, "Compare"},
                  {SCR_QUALITY, "Quality"},
                  {SCR_LESSONS, "Lessons"}};
    int n = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        out[n++] = (HelpLine){NULL, groups[g].title, true};
        for (int i = 0; i < N_KEYS && n < MAX_LINES; i++) {
            const KeyBinding *k = &KEYS[i];
            if (!k->help || !k->name) continue;
            bool global = k->screens == SCR_ALL;
            if (groups[g].mask == SCR_ALL ? !global : (global || !(k->screens & groups[g].mask))) continue;
            out[n++] = (HelpLine){k->name, k->help, false};
        }
    }
    return n;
}

static void help_draw(App *a, Rect r) {
    static HelpLine lines[MAX_LINES];
    int n = collect(lines);
    int h = r.h - 1;
    if (a->help_scroll > n - h) a->help_scroll = n - h;
    if (a->help_scroll < 0) a->help_scroll = 0;
    draw_text(r.y, r.x + 1, r.w - 2, ROLE_DIM, "Keys (this list is the key table itself). Esc or ? goes back.");
    int col_w = r.w >= 160 ? r.w / 2 : r.w; /* two columns only where the texts fit */
    for (int k = 0; k < h * (col_w == r.w ? 1 : 2); k++) {
        int idx = a->help_scroll + k;
        if (idx >= n) break;
        int y = r.y + 1 + k % h;
        int x = r.x + 1 + (k / h) * col_w;
        if (lines[idx].heading) draw_text(y, x, col_w - 2, ROLE_TITLE, lines[idx].text);
        else {
            draw_textf(y, x, 14, ROLE_FKEY, "  %-12s", lines[idx].key);
            draw_text(y, x + 14, col_w - 16, ROLE_NORMAL, lines[idx].text);
        }
    }
}

static int help_action(App *a, Action act, int ch) {
    (void)ch;
    switch (act) {
    case ACT_UP: a->help_scroll--; return UI_REDRAW | UI_HANDLED;
    case ACT_DOWN: a->help_scroll++; return UI_REDRAW | UI_HANDLED;
    case ACT_PAGE_UP: a->help_scroll -= LINES - 6; return UI_REDRAW | UI_HANDLED;
    case ACT_PAGE_DOWN: a->help_scroll += LINES - 6; return UI_REDRAW | UI_HANDLED;
    case ACT_HOME: a->help_scroll = 0; return UI_REDRAW | UI_HANDLED;
    case ACT_CANCEL:
    case ACT_ACTIVATE: app_switch_screen(a, a->before_help); return UI_REDRAW | UI_HANDLED;
    default: return UI_NONE;
    }
}

const Screen SCREEN_HELP_DEF = {"Help", SCR_HELP, NULL, help_draw, help_action, NULL, NULL};
