/* scr_compare.c — the Compare screen (placeholder until it is written). */
#include "tui/ui.h"

static void compare_draw(App *a, Rect r) {
    (void)a;
    draw_text(r.y + 1, r.x + 1, r.w - 2, ROLE_DIM, "Compare: coming in the next change.");
}

const Screen SCREEN_COMPARE_DEF = {"Compare", SCR_COMPARE, NULL, compare_draw, NULL, NULL, NULL};
