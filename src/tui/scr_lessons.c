/* scr_lessons.c — the Lessons screen, the lesson panel and presenter mode.
 *
 * The list: every lesson by track with the learner's progress (new, step k of n,
 * done). The step view: the open lesson's current step with its live figures,
 * the choices, the feedback. While a lesson is open, every other screen shares
 * the window with a panel at the bottom that keeps the step's text in sight, so
 * a "do" step that needs the Layers screen is done on the Layers screen; 6 (F7)
 * comes back. The lesson engine (lesson/run.h) decides everything; this file
 * turns keys into engine calls and draws.
 *
 * Presenter mode (--present): the step view is the whole window, with a large
 * simple layout, the live size bars under it, and Space / Backspace to move;
 * progress is not recorded (a class demo is not a learner's own run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/datadir.h"
#include "lesson/check.h"
#include "lesson/figure.h"
#include "lesson/lesson.h"
#include "lesson/progress.h"
#include "lesson/run.h"
#include "lesson/wrap.h"
#include "tui/ui.h"

enum { TEXT_MAX = 12288, MAX_WRAP = 400, COMPARE_TOKENS = 60, MEASURE_KINDS = 6 };

static const char *const MEASURE_NAMES[MEASURE_KINDS] = {"quality", "speed", "compare", "sensitivity", "calibration",
                                                         "methods"};

struct LessonsUi {
    bool loaded;
    LessonSet set;
    char load_error[ERROR_MSG_MAX];   /* a lesson file that did not parse */
    LessonProgress prog;
    char prog_path[4096];
    bool can_save;
    char saved[256];                  /* what was last saved, to save only changes */
    int sel;                          /* selected lesson in the list */
    int list_scroll;
    int open;                         /* the open lesson, -1 none */
    bool viewing;                     /* the step view (else the list) */
    LessonRun run;
    char replayed[LESSON_ID_MAX];     /* the lesson resumed in this process */
    uint64_t requested[MEASURE_KINDS]; /* plan hash each measurement was asked for (+1; 0 never) */
    int step_scroll;
    int shown_step;                   /* what the view last drew, to see what is new */
    RunPhase shown_phase;
    bool shown_hint, shown_waiting;
    bool scroll_to_news;
    char text[TEXT_MAX], feedback[TEXT_MAX / 2];
};

/* ----------------------------------------------------------- lifetime */

static LessonsUi *ui_of(App *a) {
    if (!a->lessons) a->lessons = calloc(1, sizeof *a->lessons);
    return a->lessons;
}

static const Lesson *open_lesson(const LessonsUi *u) {
    return u->open >= 0 && u->open < u->set.n ? u->set.lessons[u->open] : NULL;
}

/* The first lesson that builds on l, or -1. */
static int next_lesson(const LessonsUi *u, const Lesson *l) {
    for (int k = 0; k < u->set.n; k++)
        if (strcmp(u->set.lessons[k]->builds_on, l->id) == 0) return k;
    return -1;
}

static void load(App *a) {
    LessonsUi *u = ui_of(a);
    if (!u || u->loaded) return;
    u->loaded = true;
    u->open = -1;
    char dir[4096];
    Error err = {0};
    if (!datadir_find("lessons", dir, sizeof dir)) {
        snprintf(u->load_error, sizeof u->load_error, "the lessons directory is missing");
    } else if (lesson_set_load(&u->set, dir, &err) != ST_OK) {
        snprintf(u->load_error, sizeof u->load_error, "%s", err.msg);
        app_set_status(a, true, "%s", err.msg);
    }
    lesson_progress_init(&u->prog);
    if (a->opt.present) return; /* a class demo records nothing */
    char note[600];
    if (lesson_progress_path(u->prog_path, sizeof u->prog_path, &err) != ST_OK) {
        app_set_status(a, true, "%s", err.msg);
    } else if (lesson_progress_load(&u->prog, u->prog_path, note, sizeof note, &err) != ST_OK) {
        app_set_status(a, true, "%s", err.msg);
    } else {
        u->can_save = true;
        if (note[0]) app_set_status(a, true, "%s", note);
    }
    /* the list opens where the learner left off */
    if (u->prog.current[0]) {
        int k = lesson_set_find(&u->set, u->prog.current);
        if (k >= 0) u->sel = k;
    }
}

static void save(App *a, bool force) {
    LessonsUi *u = a->lessons;
    if (!u || !u->can_save) return;
    const Lesson *l = open_lesson(u);
    if (l) {
        LessonRecord *r = lesson_progress_get(&u->prog, l->id, true);
        if (r) {
            /* a step already settled is behind the learner: resume after it */
            int step = u->run.step;
            if (step < l->n_steps && u->run.marks[step] != MARK_NONE && lesson_run_can_continue(&u->run)) step++;
            r->step = step < l->n_steps ? step : 0;
            snprintf(r->marks, sizeof r->marks, "%s", u->run.marks);
            if (u->run.phase == RUN_FINISHED) r->done = true;
        }
        snprintf(u->prog.current, sizeof u->prog.current, "%s", l->id);
    }
    char snap[sizeof u->saved];
    snprintf(snap, sizeof snap, "%.63s %d %.64s %d", u->prog.current, u->run.step, u->run.marks, u->run.phase);
    if (!force && strcmp(snap, u->saved) == 0) return;
    Error err;
    if (lesson_progress_save(&u->prog, u->prog_path, &err) != ST_OK) {
        app_set_status(a, true, "progress not saved: %s", err.msg);
        u->can_save = false; /* say it once, not at every step */
        return;
    }
    snprintf(u->saved, sizeof u->saved, "%s", snap);
}

/* Opens lesson k at the saved step (a finished one from the start). */
static void start_lesson(App *a, int k) {
    LessonsUi *u = a->lessons;
    const Lesson *l = u->set.lessons[k];
    LessonRecord *r = u->can_save ? lesson_progress_get(&u->prog, l->id, false) : NULL;
    int step = 0;
    const char *marks = NULL;
    if (r && !r->done && r->step > 0 && r->step < l->n_steps) {
        step = r->step;
        marks = r->marks;
    }
    u->open = k;
    u->sel = k;
    u->viewing = true;
    u->step_scroll = 0;
    memset(u->requested, 0, sizeof u->requested);
    lesson_run_start(&u->run, l, step, marks, clock_now());
    if (step > 0 && strcmp(u->replayed, l->id) != 0) {
        /* after a restart: set the model up as the earlier steps left it */
        lesson_run_replay(l, step, a->s);
        app_set_status(a, false, "welcome back: step %d of %d of \"%s\"", step + 1, l->n_steps, l->title);
    } else {
        app_set_status(a, false, "\"%s\": %d steps, about %d minutes", l->title, l->n_steps, l->minutes);
    }
    snprintf(u->replayed, sizeof u->replayed, "%s", l->id);
    save(a, false);
}

void lessons_start(App *a) {
    load(a);
    LessonsUi *u = a->lessons;
    if (!u) return;
    if (!a->opt.lesson && !a->opt.present && u->prog.current[0] && !a->status[0]) { /* an invitation back */
        int k = lesson_set_find(&u->set, u->prog.current);
        LessonRecord *r = lesson_progress_get(&u->prog, u->prog.current, false);
        if (k >= 0 && r && lesson_progress_state(&u->prog, u->prog.current) == LESSON_STARTED)
            app_set_status(a, false, "your lesson \"%.60s\" is at step %d of %d: press 6 to go on",
                           u->set.lessons[k]->title, r->step + 1, u->set.lessons[k]->n_steps);
    }
    if (!a->opt.lesson) return;
    int k = lesson_set_find(&u->set, a->opt.lesson);
    if (k < 0) {
        app_set_status(a, true, "no lesson '%s' (quantlab lessons --list shows them)", a->opt.lesson);
        return;
    }
    start_lesson(a, k);
}

void lessons_stop(App *a) {
    LessonsUi *u = a->lessons;
    if (!u) return;
    save(a, false);
    lesson_set_free(&u->set);
    lesson_progress_free(&u->prog);
    free(u);
    a->lessons = NULL;
}

/* --------------------------------------------------------- measurements */

/* Starts what a step needs measured, once per plan. Compare is started here
 * (its prompt is the Compare screen's); the rest by the engine's helper. */
static void want_measure(App *a, const char *what) {
    LessonsUi *u = a->lessons;
    Session *s = a->s;
    int k = -1;
    for (int i = 0; i < MEASURE_KINDS; i++)
        if (strcmp(what, MEASURE_NAMES[i]) == 0) k = i;
    if (k < 0 || lesson_measured(s, what)) return;
    uint64_t h = session_plan_hash(&s->plan) + 1;
    if (u->requested[k] == h) return; /* asked already: a failure is not retried in a loop */
    u->requested[k] = h;
    if (strcmp(what, "compare") == 0) compare_request(a, COMPARE_TOKENS);
    else lesson_measure_start(s, what);
}

/* What the interface must do after a check was performed for the learner. */
static void carry_out(App *a, const LessonAct *act) {
    if (act->tensor >= 0) app_select_tensor(a, act->tensor);
    if (act->measure[0]) want_measure(a, act->measure);
    int screen = act->screen[0] ? app_screen_named(act->screen) : -1;
    if (screen >= 0) app_switch_screen(a, (ScreenId)screen);
    if (act->note[0]) app_set_status(a, false, "%s", act->note);
}

/* ----------------------------------------------------------------- tick */

static const LessonStep *current_step(const LessonsUi *u) {
    const Lesson *l = open_lesson(u);
    return l && u->run.step < l->n_steps ? &l->steps[u->run.step] : NULL;
}

int lessons_tick(App *a) {
    LessonsUi *u = a->lessons;
    const LessonStep *st = u ? current_step(u) : NULL;
    if (!st) return UI_NONE;
    int ev = lesson_run_tick(&u->run, a->s, clock_now());
    /* a step's measurement, as soon as the step shows (a prediction's stays hidden until answered) */
    if (st->measure[0]) want_measure(a, st->measure);
    /* an answer waiting for a when/unless check needs that measurement */
    for (int i = 0; u->run.waiting && i < st->n_choices; i++) {
        const char *need = st->choices[i].cond ? lesson_check_needs(&st->choices[i].check) : NULL;
        if (need) want_measure(a, need);
    }
    if (ev & RUN_EV_DONE) {
        app_set_status(a, false, "%s", a->screen != SCREEN_LESSONS ? "done! 6 (or F7) goes back to the lesson"
                                       : a->opt.present           ? "done! Space goes on"
                                                                   : "done! Enter goes on");
        save(a, false);
    }
    return ev & RUN_EV_CHANGED ? UI_REDRAW : UI_NONE;
}

/* -------------------------------------------------------------- drawing */

/* Draws one wrapped line; live figures (between the marks) in their own role.
 * *in_fig carries a figure cut by the wrap to the next line. */
static void draw_rich(int y, int x, int w, const WrapLine *ln, ThemeRole role, bool *in_fig) {
    char seg[1024];
    int col = 0;
    size_t n = 0;
    for (int i = 0; i <= ln->len; i++) {
        unsigned char c = i < ln->len ? (unsigned char)ln->start[i] : 0;
        bool mark = c == FIGURE_MARK_START || c == FIGURE_MARK_END;
        if (i == ln->len || mark || n + 1 >= sizeof seg) {
            seg[n] = '\0';
            if (n > 0 && col < w) col += draw_textf(y, x + col, w - col, *in_fig ? ROLE_BAR_PLAN : role, "%s", seg);
            n = 0;
            if (mark) *in_fig = c == FIGURE_MARK_START;
            if (i == ln->len) break;
            if (mark) continue;
        }
        seg[n++] = (char)c;
    }
}

/* Lays out text in lines of width w at column x, from row y, at most h rows,
 * skipping the first `skip` lines. Returns the rows the whole text needs. */
static int draw_para(int y, int x, int w, int h, int skip, const char *text, ThemeRole role) {
    static WrapLine lines[MAX_WRAP];
    int n = lesson_wrap(text, w, lines, MAX_WRAP);
    if (n > MAX_WRAP) n = MAX_WRAP;
    bool in_fig = false;
    for (int i = 0; i < n; i++) {
        int row = i - skip;
        if (row >= 0 && row < h) draw_rich(y + row, x, w, &lines[i], lines[i].verbatim ? ROLE_NORMAL : role, &in_fig);
        else { /* keep track of figures cut across lines that are not drawn */
            for (int k = 0; k < lines[i].len; k++) {
                unsigned char c = (unsigned char)lines[i].start[k];
                if (c == FIGURE_MARK_START) in_fig = true;
                if (c == FIGURE_MARK_END) in_fig = false;
            }
        }
    }
    return n;
}

static const char *kind_label(StepKind k) {
    static const char *const labels[] = {"Read", "Do", "Predict", "Quiz"};
    return labels[k];
}

/* What the learner can press now, in words. */
static void keys_line(const LessonsUi *u, const LessonStep *st, bool present, char *out, size_t size) {
    const LessonRun *r = &u->run;
    const char *go = present ? "Space" : "Enter";
    if (!st) {
        snprintf(out, size, "%s: back to the list", go);
        return;
    }
    bool asking = r->phase == RUN_ASKING || r->phase == RUN_TRY_AGAIN;
    char first[96] = "";
    switch (st->kind) {
    case STEP_READ: snprintf(first, sizeof first, "%s next", go); break;
    case STEP_DO:
        if (r->phase == RUN_COMPLETE) snprintf(first, sizeof first, "%s next", go);
        else if (present) snprintf(first, sizeof first, "Space do it for the class");
        else if (st->screen[0]) snprintf(first, sizeof first, "Enter go to %s", st->screen);
        else snprintf(first, sizeof first, "do it in the app");
        break;
    default:
        if (!asking) snprintf(first, sizeof first, "%s next", go);
        else if (st->numeric) snprintf(first, sizeof first, "Enter type your answer");
        else snprintf(first, sizeof first, "%c-%c answer", 'a', 'a' + st->n_choices - 1);
    }
    snprintf(out, size, "%s  Backspace back  s skip%s  %s", first, st->hint && asking ? "  h hint" : "",
             present ? "q quit" : "Esc list  1-5 screens");
}

static void progress_dots(const LessonsUi *u, char *out, size_t size) {
    const Glyphs *g = glyphs();
    size_t o = 0;
    const Lesson *l = open_lesson(u);
    for (int i = 0; l && i < l->n_steps && o + 8 < size; i++) {
        const char *c = i == u->run.step ? g->arrow_r : u->run.marks[i] != MARK_NONE ? g->bullet : ".";
        o += (size_t)snprintf(out + o, size - o, "%s", c);
    }
    out[o] = '\0';
}

/* The scrolling part of a step: its text, the choices, the feedback, drawn
 * from row y in h rows after skipping `skip` (h = 0 only measures). Returns the
 * rows it all takes; *fb_start gets the feedback's first row (-1 if none). */
static int step_body(App *a, const LessonStep *st, int y, int x, int w, int h, int skip, bool present,
                     int *fb_start) {
    LessonsUi *u = a->lessons;
    const LessonRun *run = &u->run;
    int used = 0;
    lesson_render(a->s, st->text, true, u->text, sizeof u->text);
    used += draw_para(y, x, w, h, skip, u->text, ROLE_NORMAL);
    bool asking = run->phase == RUN_ASKING || run->phase == RUN_TRY_AGAIN;
    int right = asking ? -1 : lesson_run_right_choice(run, a->s);
    for (int c = 0; c < st->n_choices; c++) {
        if (c == 0 || present) used++; /* a blank line before the choices (between them on a projector) */
        const LessonChoice *ch = &st->choices[c];
        const char *tag = " ";
        ThemeRole role = ROLE_NORMAL;
        if (c == right) {
            tag = glyphs()->check; /* the right one, once answered */
            role = ROLE_GOOD;
        } else if (run->picked[c] || (!asking && run->choice == c)) {
            tag = "x";
            role = ROLE_DIM;
        }
        char rendered[1100];
        lesson_render(a->s, ch->text, true, rendered, sizeof rendered);
        int row = used - skip;
        if (row >= 0 && row < h) draw_textf(y + row, x + 1, 5, role, "%s %c)", tag, 'a' + c);
        used += draw_para(y + (row > 0 ? row : 0), x + 6, w - 6, row >= 0 ? h - row : 0, row < 0 ? -row : 0, rendered, role);
    }
    lesson_run_feedback(run, a->s, true, u->feedback, sizeof u->feedback);
    if (st->kind == STEP_DO && run->phase == RUN_ASKING && !u->feedback[0])
        snprintf(u->feedback, sizeof u->feedback, "%s", present ? "Space does it for the class, or do it yourself."
                                                                : "quantlab is watching: do it, and this step ticks itself off.");
    *fb_start = -1;
    if (u->feedback[0]) {
        used++;
        *fb_start = used;
        int row = used - skip;
        bool good = run->phase == RUN_COMPLETE || (run->phase == RUN_ANSWERED && !run->skipped && run->last_right);
        ThemeRole role = good ? ROLE_GOOD : run->phase == RUN_TRY_AGAIN ? ROLE_WARN : ROLE_NORMAL;
        used += draw_para(y + (row > 0 ? row : 0), x, w, row >= 0 ? h - row : 0, row < 0 ? -row : 0, u->feedback, role);
    }
    return used;
}

/* The step view: used by the Lessons screen and, larger, by presenter mode. */
static void draw_step(App *a, Rect r, bool present) {
    LessonsUi *u = a->lessons;
    const Lesson *l = open_lesson(u);
    const LessonStep *st = current_step(u);
    const LessonRun *run = &u->run;
    int margin = present ? (r.w >= 100 ? 8 : 4) : 2;
    int x = r.x + margin, w = r.w - 2 * margin;
    int y = r.y;
    char line[256], dots[LESSON_MAX_STEPS * 4 + 1];
    if (u->shown_step != run->step) { /* a new step starts at its top */
        u->step_scroll = 0;
        u->scroll_to_news = false;
    } else if (u->shown_phase != run->phase || u->shown_hint != run->hint_shown || u->shown_waiting != run->waiting) {
        u->scroll_to_news = true; /* an answer's feedback, a hint: bring it into view */
    }
    u->shown_step = run->step;
    u->shown_phase = run->phase;
    u->shown_hint = run->hint_shown;
    u->shown_waiting = run->waiting;
    /* the lesson's title, where we are */
    progress_dots(u, dots, sizeof dots);
    if (!present) draw_textf(y, x, w, ROLE_TITLE, "%s", l->title); /* presenter mode has it on top */
    int right = draw_width(dots) + 22;
    if (w > right + 20) draw_textf(y, x + w - right, right, ROLE_DIM, "step %2d of %-2d %s", run->step + 1 > l->n_steps ? l->n_steps : run->step + 1, l->n_steps, dots);
    y += present ? 2 : 1;
    if (!st) { /* finished */
        int right_n, questions, skipped;
        lesson_run_score(run, &right_n, &questions, &skipped);
        y++;
        draw_text(y++, x, w, ROLE_GOOD, "Lesson complete. Well done!");
        y++;
        if (questions > 0) draw_textf(y++, x, w, ROLE_NORMAL, "Questions right the first time: %d of %d.", right_n, questions);
        if (skipped > 0) draw_textf(y++, x, w, ROLE_NORMAL, "Steps skipped: %d (you can go back to them with Backspace).", skipped);
        y++;
        int next = next_lesson(u, l);
        if (next >= 0) draw_textf(y++, x, w, ROLE_NORMAL, "Next: \"%s\" (%s, %d minutes).", u->set.lessons[next]->title,
                                  lesson_track_label(u->set.lessons[next]->track), u->set.lessons[next]->minutes);
        keys_line(u, NULL, present, line, sizeof line);
        draw_text(r.y + r.h - 1, x, w, ROLE_DIM, line);
        return;
    }
    draw_textf(y, x, w, ROLE_HEADER, " %s ", kind_label(st->kind));
    draw_textf(y, x + draw_width(kind_label(st->kind)) + 3, w - 12, ROLE_TITLE, "%s", st->title);
    y += 2;

    /* everything below scrolls: the text, the choices, the feedback. Measured
     * first, so that news (an answer's feedback, a hint) scrolls into view. */
    int h = r.y + r.h - 1 - y - (present ? 4 : 0);
    int fb_start = -1;
    int total = step_body(a, st, y, x, w, 0, 0, present, &fb_start);
    int max_scroll = total > h ? total - h : 0;
    if (u->scroll_to_news) {
        u->step_scroll = fb_start >= 0 && fb_start < max_scroll ? fb_start : max_scroll;
        u->scroll_to_news = false;
    }
    if (u->step_scroll > max_scroll) u->step_scroll = max_scroll;
    if (u->step_scroll < 0) u->step_scroll = 0;
    step_body(a, st, y, x, w, h, u->step_scroll, present, &fb_start);
    bool more = total - u->step_scroll > h;
    /* a measurement the step waits for: its progress, where the learner looks */
    static const SessionJobKind jobs[] = {JOB_CALIB, JOB_QUALITY, JOB_METHODS, JOB_SPEED, JOB_COMPARE, JOB_SENS};
    for (size_t k = 0; k < sizeof jobs / sizeof jobs[0]; k++) {
        double prog;
        char label[64];
        if (session_job_progress(a->s, jobs[k], &prog, label, sizeof label)) {
            int py = r.y + r.h - 2 - (present ? 4 : 0);
            draw_fill(py, x, w, ROLE_NORMAL, ' ');
            draw_progress(py, x, w < 60 ? w : 60, prog, label);
            break;
        }
    }
    if (present) { /* the live figure every lesson is about */
        Session *s = a->s;
        double f32 = plan_bytes_f32(s->model), plan = session_plan_bytes(s);
        char b1[32], b2[32];
        int by = r.y + r.h - 4, bw = w - 24;
        draw_text(by, x, 10, ROLE_NORMAL, "FP32");
        draw_hbar(by, x + 10, bw, f32, f32, ROLE_BAR_FP32, false);
        draw_textf(by, x + 12 + bw, 12, ROLE_NORMAL, "%s", ui_fmt_bytes(b1, sizeof b1, f32));
        draw_text(by + 1, x, 10, ROLE_BAR_PLAN, "your plan");
        draw_hbar(by + 1, x + 10, bw, plan, f32, ROLE_BAR_PLAN, true);
        draw_textf(by + 1, x + 12 + bw, 12, ROLE_BAR_PLAN, "%s", ui_fmt_bytes(b2, sizeof b2, plan));
    }
    keys_line(u, st, present, line, sizeof line);
    if (more || u->step_scroll > 0) /* the text goes on: say how to see it */
        snprintf(line + strlen(line), sizeof line - strlen(line), "  %s", more ? "Down more" : "Up top");
    draw_text(r.y + r.h - 1, x, w, ROLE_DIM, line);
}

static void draw_list(App *a, Rect r) {
    LessonsUi *u = a->lessons;
    int x = r.x + 2, w = r.w - 4;
    int y = r.y;
    draw_text(y, x, w, ROLE_TITLE, "Lessons: learn what quantization does by doing it");
    if (!u->can_save && !a->opt.present) draw_text(y, x + w - 24, 24, ROLE_DIM, "(progress is not saved)");
    y += 2;
    if (u->set.n == 0) {
        draw_text(y, x, w, ROLE_BAD, u->load_error[0] ? u->load_error : "no lessons found");
        return;
    }
    /* rows: a heading per track, then its lessons */
    static const char *const ages[TRACK_COUNT] = {"ages 5-8, read it together with a grown-up", "ages 9-12",
                                                  "ages 13 and up"};
    int rows_h = r.h - 6;
    int row_of_sel = 0, n_rows = 0;
    int track = -1;
    for (int i = 0; i < u->set.n; i++) {
        if ((int)u->set.lessons[i]->track != track) {
            track = (int)u->set.lessons[i]->track;
            n_rows++;
        }
        if (i == u->sel) row_of_sel = n_rows;
        n_rows++;
    }
    if (row_of_sel < u->list_scroll + 1) u->list_scroll = row_of_sel > 0 ? row_of_sel - 1 : 0;
    if (row_of_sel >= u->list_scroll + rows_h) u->list_scroll = row_of_sel - rows_h + 1;
    track = -1;
    int row = 0;
    for (int i = 0; i < u->set.n; i++) {
        const Lesson *l = u->set.lessons[i];
        if ((int)l->track != track) {
            track = (int)l->track;
            int yy = y + row - u->list_scroll;
            int done = 0, total = 0;
            for (int k = 0; k < u->set.n; k++)
                if ((int)u->set.lessons[k]->track == track) {
                    total++;
                    done += lesson_progress_state(&u->prog, u->set.lessons[k]->id) == LESSON_DONE;
                }
            if (yy >= y && yy < y + rows_h) {
                int used = draw_textf(yy, x, w, ROLE_TITLE, "%s  (%s)", lesson_track_label(l->track), ages[l->track]);
                if (done > 0) draw_textf(yy, x + used + 2, w - used - 2, ROLE_DIM, "%d of %d done", done, total);
            }
            row++;
        }
        int yy = y + row - u->list_scroll;
        row++;
        if (yy < y || yy >= y + rows_h) continue;
        char state[32];
        LessonRecord *rec = lesson_progress_get(&u->prog, l->id, false);
        LessonState ls = lesson_progress_state(&u->prog, l->id);
        if (i == u->open) snprintf(state, sizeof state, "step %d/%d", u->run.step + 1 > l->n_steps ? l->n_steps : u->run.step + 1, l->n_steps);
        else if (ls == LESSON_DONE) snprintf(state, sizeof state, "done");
        else if (ls == LESSON_STARTED && rec) snprintf(state, sizeof state, "step %d/%d", rec->step + 1, l->n_steps);
        else snprintf(state, sizeof state, "new");
        bool sel = i == u->sel;
        if (sel) draw_fill(yy, x, w, ROLE_SELECTED, ' ');
        ThemeRole role = sel ? ROLE_SELECTED : ls == LESSON_DONE ? ROLE_GOOD : ROLE_NORMAL;
        draw_textf(yy, x + 2, w - 2, role, "%-10s %-*.*s %2d min", state, w - 22, w - 22, l->title, l->minutes);
    }
    /* the selected lesson, in a sentence */
    const Lesson *l = u->set.lessons[u->sel];
    int by = r.y + r.h - 3;
    if (l->about[0]) draw_para(by, x, w, 2, 0, l->about, ROLE_DIM);
    LessonState ls = lesson_progress_state(&u->prog, l->id);
    draw_textf(r.y + r.h - 1, x, w, ROLE_DIM, "Enter %s   Up/Down choose   %s",
               u->sel == u->open ? "continue" : ls == LESSON_DONE ? "do it again" : ls == LESSON_STARTED ? "continue" : "start",
               u->open >= 0 ? "Esc back to the open lesson" : "? all keys");
}

static void lessons_draw(App *a, Rect r) {
    load(a);
    LessonsUi *u = a->lessons;
    if (!u) {
        draw_text(r.y + 1, r.x + 2, r.w - 4, ROLE_BAD, "out of memory");
        return;
    }
    if (u->viewing && open_lesson(u)) draw_step(a, r, a->opt.present);
    else draw_list(a, r);
}

int lessons_panel_height(App *a) {
    LessonsUi *u = a->lessons;
    if (!u || !open_lesson(u) || a->screen == SCREEN_LESSONS || a->screen == SCREEN_HELP) return 0;
    return LINES >= 32 ? 8 : 6;
}

void lessons_panel_draw(App *a, Rect r) {
    LessonsUi *u = a->lessons;
    const Lesson *l = open_lesson(u);
    const LessonStep *st = current_step(u);
    char title[200];
    if (st) snprintf(title, sizeof title, "Lesson, step %d of %d: %s", u->run.step + 1, l->n_steps, st->title);
    else snprintf(title, sizeof title, "Lesson complete: %s", l->title);
    for (int y = 0; y < r.h; y++) draw_fill(r.y + y, r.x, r.w, ROLE_NORMAL, ' ');
    draw_box(r, ROLE_TITLE, title);
    int x = r.x + 2, w = r.w - 4, h = r.h - 2;
    const char *back = "6 (F7): back to the lesson";
    if (!st) {
        draw_text(r.y + 1, x, w, ROLE_GOOD, "Well done! Press 6 to see how it went.");
        return;
    }
    lesson_run_feedback(&u->run, a->s, true, u->feedback, sizeof u->feedback);
    for (char *p = u->feedback; (p = strstr(p, "\n\n"));) memmove(p, p + 1, strlen(p)); /* rows are few here */
    for (char *p = u->feedback; *p; p++)
        if (*p == '\n') *p = ' ';
    /* the latest news first: done, or the hint; then as much of the step as fits */
    int fb_rows = 0;
    if (u->feedback[0]) {
        WrapLine tmp[8];
        fb_rows = lesson_wrap(u->feedback, w, tmp, 8);
        if (fb_rows > h - 1) fb_rows = h - 1;
    }
    lesson_render(a->s, st->text, true, u->text, sizeof u->text);
    int text_rows = h - 1 - fb_rows;
    if (text_rows > 0) {
        int need = draw_para(r.y + 1, x, w, text_rows, 0, u->text, ROLE_NORMAL);
        if (need > text_rows) draw_text(r.y + text_rows, x + w - 8, 8, ROLE_DIM, " (more)");
    }
    if (fb_rows > 0)
        draw_para(r.y + 1 + h - 1 - fb_rows, x, w, fb_rows, 0, u->feedback,
                  u->run.phase == RUN_COMPLETE ? ROLE_GOOD : ROLE_WARN);
    bool can_go = lesson_run_can_continue(&u->run) || st->kind != STEP_DO;
    draw_text(r.y + r.h - 2, x + w - draw_width(back), draw_width(back), can_go ? ROLE_BAR_PLAN : ROLE_DIM, back);
}

void lessons_present_frame(App *a) {
    LessonsUi *u = a->lessons;
    const Lesson *l = u ? open_lesson(u) : NULL;
    draw_fill(0, 0, COLS, ROLE_TAB, ' ');
    draw_textf(0, 1, COLS - 2, ROLE_TITLE, "quantlab  %s%s", l ? "- " : "- lessons for a class", l ? l->title : "");
    draw_fill(LINES - 1, 0, COLS, ROLE_FKEY_LABEL, ' ');
    draw_text(LINES - 1, 1, COLS - 2, ROLE_FKEY_LABEL,
              "Space next   Backspace back   a-d answer   h hint   s skip   6 lesson   q quit");
}

/* ---------------------------------------------------------------- keys */

static void number_typed(App *a, int index, const char *text) {
    (void)index;
    LessonsUi *u = a->lessons;
    double v;
    if (!u || !text || !*text) return;
    if (!lesson_parse_answer(text, &v)) {
        app_set_status(a, true, "'%.40s' is not a number: type digits, like 7 or 3.5", text);
        return;
    }
    int ev = lesson_run_answer(&u->run, a->s, v, clock_now());
    if (ev & RUN_EV_WAITING) app_set_status(a, false, "quantlab is measuring; your answer is kept");
    else if (ev & RUN_EV_RIGHT) app_set_status(a, false, "right!");
    else if (ev & RUN_EV_WRONG) app_set_status(a, false, "not quite");
    save(a, false);
}

static void ask_number(App *a, const LessonStep *st) {
    char title[160];
    snprintf(title, sizeof title, "Your answer%s%s%s:", st->unit ? " (in " : "", st->unit ? st->unit : "", st->unit ? ")" : "");
    app_input(a, title, "", number_typed, 0);
}

/* Enter / Space on the step view. */
static void go_on(App *a, bool space) {
    LessonsUi *u = a->lessons;
    const LessonStep *st = current_step(u);
    double now = clock_now();
    if (!st) { /* finished: back to the list, on the next lesson */
        int next = next_lesson(u, open_lesson(u));
        u->viewing = false;
        u->open = -1;
        if (next >= 0) u->sel = next;
        return;
    }
    if (lesson_run_can_continue(&u->run)) {
        lesson_run_next(&u->run, now);
        u->step_scroll = 0;
        app_set_status(a, false, "%s", "");
        return;
    }
    bool asking = u->run.phase == RUN_ASKING || u->run.phase == RUN_TRY_AGAIN;
    switch (st->kind) {
    case STEP_DO:
        if (a->opt.present && space) { /* the teacher shows it */
            LessonAct act;
            lesson_run_perform(&u->run, a->s, &act, now);
            carry_out(a, &act); /* a screen to show stays shown, with the panel; 6 comes back */
        } else if (st->screen[0]) {
            int screen = app_screen_named(st->screen);
            if (screen >= 0) app_switch_screen(a, (ScreenId)screen);
        } else {
            app_set_status(a, false, "do what the step says; h gives a hint, s skips it");
        }
        break;
    default:
        if (asking && st->numeric) ask_number(a, st);
        else if (asking) app_set_status(a, false, "answer with a letter: a, b%s", st->n_choices > 2 ? ", c..." : "");
    }
}

static int lessons_action(App *a, Action act, int ch) {
    load(a);
    LessonsUi *u = a->lessons;
    if (!u) return UI_NONE;
    double now = clock_now();
    bool step_view = u->viewing && open_lesson(u);
    if (!step_view) {
        int n = u->set.n;
        switch (act) {
        case ACT_UP: if (u->sel > 0) u->sel--; return UI_REDRAW | UI_HANDLED;
        case ACT_DOWN: if (u->sel + 1 < n) u->sel++; return UI_REDRAW | UI_HANDLED;
        case ACT_HOME: u->sel = 0; return UI_REDRAW | UI_HANDLED;
        case ACT_END: u->sel = n > 0 ? n - 1 : 0; return UI_REDRAW | UI_HANDLED;
        case ACT_PAGE_UP: u->sel = u->sel > 5 ? u->sel - 5 : 0; return UI_REDRAW | UI_HANDLED;
        case ACT_PAGE_DOWN: u->sel = u->sel + 5 < n ? u->sel + 5 : (n > 0 ? n - 1 : 0); return UI_REDRAW | UI_HANDLED;
        case ACT_LESSON_NEXT:
        case ACT_RIGHT:
            if (n == 0) return UI_HANDLED;
            if (u->sel == u->open) u->viewing = true;
            else start_lesson(a, u->sel);
            return UI_REDRAW | UI_HANDLED;
        case ACT_CANCEL:
            if (open_lesson(u)) {
                u->viewing = true;
                return UI_REDRAW | UI_HANDLED;
            }
            return UI_NONE;
        default: return UI_NONE;
        }
    }
    const LessonStep *st = current_step(u);
    int ev;
    switch (act) {
    case ACT_LESSON_NEXT: go_on(a, ch == ' '); break;
    case ACT_LESSON_BACK: lesson_run_back(&u->run, now); break;
    case ACT_LESSON_ANSWER:
        if (!st || st->numeric || st->n_choices == 0) {
            app_set_status(a, false, "%s", st && st->numeric ? "type the answer: press Enter" : "nothing to answer here");
            break;
        }
        if (ch - 'a' >= st->n_choices) {
            app_set_status(a, false, "there are only %d choices", st->n_choices);
            break;
        }
        ev = lesson_run_choose(&u->run, a->s, ch - 'a', now);
        if (ev & RUN_EV_RIGHT) app_set_status(a, false, "right!");
        else if (ev & RUN_EV_WRONG) app_set_status(a, false, "not quite");
        break;
    case ACT_LESSON_HINT:
        if (!st || !st->hint) app_set_status(a, false, "no hint for this step");
        else lesson_run_hint(&u->run);
        break;
    case ACT_LESSON_SKIP: {
        LessonAct done;
        lesson_run_skip(&u->run, a->s, &done, now);
        carry_out(a, &done);
        if (a->screen != SCREEN_LESSONS) app_switch_screen(a, SCREEN_LESSONS);
        break;
    }
    case ACT_UP: if (u->step_scroll > 0) u->step_scroll--; break;
    case ACT_DOWN: u->step_scroll++; break;
    case ACT_PAGE_UP: u->step_scroll = u->step_scroll > 8 ? u->step_scroll - 8 : 0; break;
    case ACT_PAGE_DOWN: u->step_scroll += 8; break;
    case ACT_CANCEL:
        u->viewing = false;
        save(a, false);
        return UI_REDRAW | UI_HANDLED;
    case ACT_ACTIVATE: go_on(a, ch == ' '); break;
    default: return UI_NONE;
    }
    save(a, false);
    return UI_REDRAW | UI_HANDLED;
}

static void lessons_enter(App *a) {
    load(a);
}

const Screen SCREEN_LESSONS_DEF = {"Lessons", SCR_LESSONS, lessons_enter, lessons_draw, lessons_action, NULL, NULL};
