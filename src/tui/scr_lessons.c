/* scr_lessons.c — the Lessons screen (placeholder until it is written). */
#include "tui/ui.h"

static void lessons_draw(App *a, Rect r) {
    (void)a;
    draw_text(r.y + 1, r.x + 1, r.w - 2, ROLE_DIM, "Lessons: coming in the next change.");
}

const Screen SCREEN_LESSONS_DEF = {"Lessons", SCR_LESSONS, NULL, lessons_draw, NULL, NULL, NULL};
