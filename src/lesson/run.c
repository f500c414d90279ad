/* run.c — see run.h. */
#include "lesson/run.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson/figure.h"

static const LessonStep *cur(const LessonRun *r) {
    return r->step < r->lesson->n_steps ? &r->lesson->steps[r->step] : NULL;
}

static void enter_step(LessonRun *r, int step, double now) {
    r->step = step;
    r->phase = step >= r->lesson->n_steps ? RUN_FINISHED : RUN_ASKING;
    r->step_start = now;
    r->moves = 0;
    r->seen_valid = false;
    r->hint_shown = false;
    r->tries = 0;
    r->choice = -1;
    memset(r->picked, 0, sizeof r->picked);
    r->number = 0;
    r->skipped = false;
    r->last_right = false;
    r->right_choice = -1;
    r->waiting = false;
}

/* A mark is set once; a skip can be replaced by a real result later. */
static void mark(LessonRun *r, StepMark m) {
    char *slot = &r->marks[r->step];
    if (*slot == MARK_NONE || (*slot == MARK_SKIPPED && m != MARK_SKIPPED)) *slot = (char)m;
}

void lesson_run_start(LessonRun *r, const Lesson *l, int step, const char *marks, double now) {
    memset(r, 0, sizeof *r);
    r->lesson = l;
    memset(r->marks, MARK_NONE, (size_t)l->n_steps);
    r->marks[l->n_steps] = '\0';
    for (int i = 0; marks && marks[i] && i < l->n_steps; i++)
        if (strchr("drws", marks[i])) r->marks[i] = marks[i];
    if (step < 0) step = 0;
    if (step > l->n_steps) step = l->n_steps;
    enter_step(r, step, now);
}

static bool checks_hold(const LessonStep *st, Session *s) {
    for (int i = 0; i < st->n_checks; i++)
        if (!lesson_check_holds(s, &st->checks[i])) return false;
    return st->n_checks > 0;
}

static int grade_choice(LessonRun *r, Session *s);
static int grade_number(LessonRun *r, Session *s);

int lesson_run_tick(LessonRun *r, Session *s, double now) {
    const LessonStep *st = cur(r);
    int ev = 0;
    if (!st) return 0;
    if (r->waiting) { /* an answer waiting for its measurement */
        ev = st->numeric ? grade_number(r, s) : grade_choice(r, s);
        if (!(ev & RUN_EV_WAITING)) return ev;
        ev = 0;
    }
    if (st->kind == STEP_DO && r->phase == RUN_ASKING && s && s->model) {
        uint64_t h = session_plan_hash(&s->plan);
        bool changed = r->seen_valid && h != r->seen_plan;
        r->seen_plan = h;
        r->seen_valid = true;
        if (checks_hold(st, s)) {
            r->phase = RUN_COMPLETE;
            mark(r, MARK_DONE);
            return RUN_EV_DONE | RUN_EV_CHANGED;
        }
        if (changed) r->moves++;
    }
    bool can_hint = st->hint && (r->phase == RUN_ASKING || r->phase == RUN_TRY_AGAIN);
    int moves = st->kind == STEP_QUIZ ? r->tries : r->moves;
    if (can_hint && !r->hint_shown && (now - r->step_start >= st->hint_seconds || moves >= st->hint_moves)) {
        r->hint_shown = true;
        ev |= RUN_EV_HINT | RUN_EV_CHANGED;
    }
    return ev;
}

static bool asks(const LessonRun *r) {
    const LessonStep *st = cur(r);
    return st && (st->kind == STEP_PREDICT || st->kind == STEP_QUIZ) &&
           (r->phase == RUN_ASKING || r->phase == RUN_TRY_AGAIN);
}

/* Records an answer's result. */
static int graded(LessonRun *r, bool right) {
    const LessonStep *st = cur(r);
    r->tries++;
    r->waiting = false;
    r->last_right = right;
    if (st->kind == STEP_PREDICT) {
        mark(r, right ? MARK_RIGHT : MARK_WRONG);
        r->phase = RUN_ANSWERED;
        return RUN_EV_CHANGED | (right ? RUN_EV_RIGHT : RUN_EV_WRONG);
    }
    if (right) {
        mark(r, r->tries == 1 ? MARK_RIGHT : MARK_WRONG);
        r->phase = RUN_ANSWERED;
        return RUN_EV_CHANGED | RUN_EV_RIGHT;
    }
    mark(r, MARK_WRONG);
    /* after a few tries the answer is shown, so nobody is stuck on a quiz */
    r->phase = r->tries >= QUIZ_MAX_TRIES ? RUN_ANSWERED : RUN_TRY_AGAIN;
    return RUN_EV_CHANGED | RUN_EV_WRONG;
}

/* The right choice as the session says now, or -1 when it cannot tell yet. */
static int right_now(const LessonStep *st, Session *s) {
    for (int i = 0; i < st->n_choices; i++) {
        const LessonChoice *c = &st->choices[i];
        if (!c->cond) {
            if (c->right) return i;
            continue;
        }
        if (!lesson_check_decidable(s, &c->check)) return -1;
        if (lesson_check_holds(s, &c->check) == (c->cond > 0)) return i;
    }
    return -1;
}

int lesson_run_right_choice(const LessonRun *r, Session *s) {
    const LessonStep *st = cur(r);
    if (!st || st->numeric) return -1;
    if (r->right_choice >= 0) return r->right_choice;
    return right_now(st, s);
}

static int grade_choice(LessonRun *r, Session *s) {
    const LessonStep *st = cur(r);
    int right = right_now(st, s);
    if (right < 0) {
        r->waiting = true;
        return RUN_EV_WAITING | RUN_EV_CHANGED;
    }
    r->right_choice = right;
    if (r->choice != right) r->picked[r->choice] = true;
    return graded(r, r->choice == right);
}

int lesson_run_choose(LessonRun *r, Session *s, int k, double now) {
    (void)now;
    const LessonStep *st = cur(r);
    if (!asks(r) || st->numeric || k < 0 || k >= st->n_choices) return 0;
    if (r->picked[k]) return 0; /* already tried and explained */
    r->choice = k;
    return grade_choice(r, s);
}

/* The answer of a number step in the step's unit, or false when a figure it
 * names is not measured yet. */
static bool expected_value(const LessonStep *st, Session *s, double *want) {
    if (st->answer[0] != '{') {
        *want = strtod(st->answer, NULL);
        return true;
    }
    char name[64], text[128];
    size_t n = strlen(st->answer);
    snprintf(name, sizeof name, "%.*s", (int)(n - 2), st->answer + 1);
    FigureKind kind;
    if (lesson_figure(s, name, text, sizeof text, want, &kind) != FIGURE_OK) return false;
    if (kind == FIGURE_BYTES && st->unit) { /* "unit: kB" asks for the answer in kB */
        char one[32];
        double unit_bytes;
        snprintf(one, sizeof one, "1 %s", st->unit);
        if (lesson_parse_size(one, &unit_bytes)) *want /= unit_bytes;
    }
    return true;
}

int lesson_grade_number(const LessonStep *st, Session *s, double value, bool *low) {
    double want;
    if (!st->numeric || !expected_value(st, s, &want)) return -1;
    double tol = st->tol_relative ? st->tolerance * fabs(want) : st->tolerance;
    tol += 1e-9 * (fabs(want) > 1 ? fabs(want) : 1); /* 0.1 + 0.2 is 0.3 here */
    if (low) *low = value < want;
    return fabs(value - want) <= tol ? 1 : 0;
}

static int grade_number(LessonRun *r, Session *s) {
    int g = lesson_grade_number(cur(r), s, r->number, NULL);
    if (g < 0) {
        r->waiting = true;
        return RUN_EV_WAITING | RUN_EV_CHANGED;
    }
    return graded(r, g == 1);
}

int lesson_run_answer(LessonRun *r, Session *s, double value, double now) {
    (void)now;
    const LessonStep *st = cur(r);
    if (!asks(r) || !st->numeric) return 0;
    r->number = value;
    return grade_number(r, s);
}

bool lesson_run_can_continue(const LessonRun *r) {
    const LessonStep *st = cur(r);
    if (!st) return false;
    switch (st->kind) {
    case STEP_READ: return true;
    case STEP_DO: return r->phase == RUN_COMPLETE;
    default: return r->phase == RUN_ANSWERED;
    }
}

int lesson_run_next(LessonRun *r, double now) {
    const LessonStep *st = cur(r);
    if (!st || !lesson_run_can_continue(r)) return 0;
    if (st->kind == STEP_READ) mark(r, MARK_DONE);
    enter_step(r, r->step + 1, now);
    return RUN_EV_CHANGED | (r->phase == RUN_FINISHED ? RUN_EV_FINISHED : 0);
}

int lesson_run_back(LessonRun *r, double now) {
    if (r->step == 0) return 0;
    enter_step(r, r->step - 1, now);
    return RUN_EV_CHANGED;
}

static void perform_checks(const LessonStep *st, Session *s, LessonAct *act) {
    LessonAct local;
    if (!act) act = &local;
    lesson_act_clear(act);
    for (int i = 0; i < st->n_checks; i++) lesson_check_perform(s, &st->checks[i], act);
}

int lesson_run_skip(LessonRun *r, Session *s, LessonAct *act, double now) {
    const LessonStep *st = cur(r);
    if (act) lesson_act_clear(act);
    if (!st) return 0;
    switch (st->kind) {
    case STEP_READ:
        mark(r, MARK_SKIPPED);
        enter_step(r, r->step + 1, now);
        return RUN_EV_CHANGED | (r->phase == RUN_FINISHED ? RUN_EV_FINISHED : 0);
    case STEP_DO:
        if (r->phase == RUN_COMPLETE) return lesson_run_next(r, now);
        if (s && s->model) perform_checks(st, s, act);
        mark(r, MARK_SKIPPED);
        r->skipped = true;
        r->phase = RUN_COMPLETE;
        return RUN_EV_CHANGED;
    default:
        if (r->phase == RUN_ANSWERED) return lesson_run_next(r, now);
        mark(r, MARK_SKIPPED);
        r->skipped = true;
        r->phase = RUN_ANSWERED;
        return RUN_EV_CHANGED;
    }
}

int lesson_run_hint(LessonRun *r) {
    const LessonStep *st = cur(r);
    if (!st || !st->hint || r->hint_shown) return 0;
    r->hint_shown = true;
    return RUN_EV_HINT | RUN_EV_CHANGED;
}

int lesson_run_perform(LessonRun *r, Session *s, LessonAct *act, double now) {
    (void)now;
    const LessonStep *st = cur(r);
    if (act) lesson_act_clear(act);
    if (!st || st->kind != STEP_DO || r->phase != RUN_ASKING || !s || !s->model) return 0;
    perform_checks(st, s, act);
    return RUN_EV_CHANGED; /* the next tick sees the checks hold */
}

void lesson_run_replay(const Lesson *l, int upto, Session *s) {
    if (!s || !s->model) return;
    for (int i = 0; i < upto && i < l->n_steps; i++) {
        const LessonStep *st = &l->steps[i];
        if (st->kind != STEP_DO) continue;
        for (int c = 0; c < st->n_checks; c++) {
            /* only what changes the plan: screens and measurements belong to the moment */
            if (!lesson_check_changes_plan(&st->checks[c])) continue;
            LessonAct act;
            lesson_act_clear(&act);
            lesson_check_perform(s, &st->checks[c], &act);
        }
    }
}

/* ------------------------------------------------------------- feedback */

typedef struct Out {
    char *buf;
    size_t size, len;
} Out;

static void put(Out *o, Session *s, bool mark_figs, const char *prefix, const char *text) {
    if (!text || !*text || o->len + 1 >= o->size) return;
    if (o->len > 0) o->len += (size_t)snprintf(o->buf + o->len, o->size - o->len, "\n\n");
    if (o->len >= o->size) o->len = o->size - 1;
    if (prefix) o->len += (size_t)snprintf(o->buf + o->len, o->size - o->len, "%s", prefix);
    if (o->len >= o->size) o->len = o->size - 1;
    lesson_render(s, text, mark_figs, o->buf + o->len, o->size - o->len);
    o->len += strlen(o->buf + o->len);
}

static void right_answer(const LessonRun *r, Session *s, char *out, size_t size) {
    const LessonStep *st = cur(r);
    out[0] = '\0';
    if (st->numeric) {
        char fig[128];
        lesson_render(s, st->answer, false, fig, sizeof fig);
        snprintf(out, size, "The answer: %s%s%s.", fig, st->unit ? " " : "", st->unit ? st->unit : "");
        return;
    }
    int i = lesson_run_right_choice(r, s);
    if (i >= 0) snprintf(out, size, "The answer: %c) %s", 'a' + i, st->choices[i].text);
}

void lesson_run_feedback(const LessonRun *r, Session *s, bool mark_figs, char *out, size_t size) {
    Out o = {out, size, 0};
    if (size == 0) return;
    out[0] = '\0';
    const LessonStep *st = cur(r);
    if (!st) return;
    char line[400];
    switch (st->kind) {
    case STEP_READ: return;
    case STEP_DO:
        if (r->phase == RUN_COMPLETE) {
            put(&o, s, mark_figs, NULL, r->skipped ? "Skipped: quantlab did it for you." : "Done!");
            if (st->done) put(&o, s, mark_figs, NULL, st->done);
        } else if (r->hint_shown) {
            put(&o, s, mark_figs, "Hint: ", st->hint);
        }
        return;
    default: break;
    }
    if (r->phase == RUN_ASKING) {
        if (r->waiting) put(&o, s, mark_figs, NULL, "Your answer is in. quantlab is measuring to see what really happens...");
        if (r->hint_shown) put(&o, s, mark_figs, "Hint: ", st->hint);
        return;
    }
    bool right = r->phase == RUN_ANSWERED && !r->skipped && r->last_right;
    if (r->skipped) {
        put(&o, s, mark_figs, NULL, "Skipped.");
    } else if (right) {
        put(&o, s, mark_figs, NULL, st->kind == STEP_PREDICT ? "Your prediction was right!" : "Right!");
        if (!st->numeric) put(&o, s, mark_figs, NULL, st->choices[r->choice].why);
    } else {
        bool low = false;
        if (st->numeric) lesson_grade_number(st, s, r->number, &low);
        if (st->kind == STEP_PREDICT) put(&o, s, mark_figs, NULL, "Not what happened - that is how we learn.");
        else if (r->phase == RUN_TRY_AGAIN) put(&o, s, mark_figs, NULL, "Not quite. Try again.");
        else put(&o, s, mark_figs, NULL, "Not quite.");
        if (st->numeric) {
            snprintf(line, sizeof line, "You said %g%s%s.", r->number, st->unit ? " " : "", st->unit ? st->unit : "");
            put(&o, s, false, NULL, line);
            put(&o, s, mark_figs, NULL, low ? (st->too_low ? st->too_low : st->wrong)
                                            : (st->too_high ? st->too_high : st->wrong));
        } else if (r->choice >= 0) {
            put(&o, s, mark_figs, NULL, st->choices[r->choice].why);
        }
        if (st->hint && r->hint_shown && r->phase == RUN_TRY_AGAIN) put(&o, s, mark_figs, "Hint: ", st->hint);
    }
    if (r->phase == RUN_ANSWERED) {
        if ((r->skipped || !right) && st->kind == STEP_QUIZ) {
            right_answer(r, s, line, sizeof line);
            put(&o, s, mark_figs, NULL, line);
        }
        if (st->kind == STEP_PREDICT) put(&o, s, mark_figs, NULL, st->reveal);
        put(&o, s, mark_figs, NULL, st->explain);
    }
}

void lesson_run_score(const LessonRun *r, int *right, int *questions, int *skipped) {
    *right = *questions = *skipped = 0;
    for (int i = 0; i < r->lesson->n_steps; i++) {
        StepKind k = r->lesson->steps[i].kind;
        char m = r->marks[i];
        if (m == MARK_SKIPPED) (*skipped)++;
        if (k == STEP_PREDICT || k == STEP_QUIZ) {
            if (m != MARK_SKIPPED && m != MARK_NONE) (*questions)++;
            if (m == MARK_RIGHT) (*right)++;
        }
    }
}

bool lesson_parse_answer(const char *text, double *value) {
    char buf[64];
    size_t o = 0;
    const char *p = text;
    while (*p == ' ') p++;
    if (*p == '+' || *p == '-') buf[o++] = *p++;
    int digits = 0, commas = 0, dots = 0, after_comma = -1;
    for (; *p && o + 1 < sizeof buf; p++) {
        if (isdigit((unsigned char)*p)) {
            buf[o++] = *p;
            digits++;
            if (after_comma >= 0) after_comma++;
        } else if (*p == '.') {
            buf[o++] = '.';
            dots++;
        } else if (*p == ',') {
            commas++;
            after_comma = 0;
            buf[o++] = ',';
        } else {
            break;
        }
    }
    buf[o] = '\0';
    /* what may follow: spaces and a unit ("GB", "%", "x", "times") */
    for (; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != ' ' && *p != '%') return false;
    if (digits == 0 || dots > 1) return false;
    /* "3,5" is a decimal comma; "1,000" and "1,000,000" group thousands */
    char clean[64];
    size_t c = 0;
    bool decimal_comma = commas == 1 && dots == 0 && after_comma != 3;
    for (size_t i = 0; i < o; i++) {
        if (buf[i] == ',') {
            if (decimal_comma) clean[c++] = '.';
            continue;
        }
        clean[c++] = buf[i];
    }
    clean[c] = '\0';
    char *end;
    *value = strtod(clean, &end);
    return end != clean && *end == '\0' && isfinite(*value);
}
