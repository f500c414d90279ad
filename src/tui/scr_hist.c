/* scr_hist.c — the Histogram screen (placeholder until it is written). */
#include "tui/ui.h"

static void hist_draw(App *a, Rect r) {
    (void)a;
    draw_text(r.y + 1, r.x + 1, r.w - 2, ROLE_DIM, "Histogram: coming in the next change.");
}

const Screen SCREEN_HIST_DEF = {"Histogram", SCR_HIST, NULL, hist_draw, NULL, NULL, NULL};
