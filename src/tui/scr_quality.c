/* scr_quality.c — the Quality screen (placeholder until it is written). */
#include "tui/ui.h"

static void quality_draw(App *a, Rect r) {
    (void)a;
    draw_text(r.y + 1, r.x + 1, r.w - 2, ROLE_DIM, "Quality: coming in the next change.");
}

const Screen SCREEN_QUALITY_DEF = {"Quality", SCR_QUALITY, NULL, quality_draw, NULL, NULL, NULL};
