/* run.h — running a lesson: one state machine per lesson, grading, hints, marks.
 *
 * The Lessons screen (tui/scr_lessons.c) and the tests drive a LessonRun with the
 * learner's moves and the time; the run looks at the session to see whether a
 * "do" step is done. No terminal, no clock of its own: `now` is passed in
 * (seconds, any origin), so tests control time.
 *
 * A step goes through phases:
 *   read     ASKING -> (next) -> the next step
 *   do       ASKING -> COMPLETE when every check holds (or skipped) -> (next)
 *   predict  ASKING -> ANSWERED on the first answer, right or wrong: the reveal
 *            shows -> (next)
 *   quiz     ASKING -> TRY_AGAIN on a wrong answer (its explanation shows; answer
 *            again) -> ANSWERED on the right one (or after QUIZ_MAX_TRIES, or a
 *            skip: the right answer shows) -> (next)
 * and after the last step the run is FINISHED.
 *
 * Each step gets one mark, from the first time it is settled: d done (read, do),
 * r right at the first answer, w wrong at first (right later, or shown), s skipped.
 * A skipped step that is later done properly becomes d/r/w.
 */
#ifndef QL_LESSON_RUN_H
#define QL_LESSON_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lesson/check.h"
#include "lesson/lesson.h"
#include "session/session.h"

typedef enum StepMark {
    MARK_NONE = '.',
    MARK_DONE = 'd',
    MARK_RIGHT = 'r',
    MARK_WRONG = 'w',
    MARK_SKIPPED = 's'
} StepMark;

typedef enum RunPhase { RUN_ASKING, RUN_TRY_AGAIN, RUN_ANSWERED, RUN_COMPLETE, RUN_FINISHED } RunPhase;

/* Events a call reports (bit flags). */
enum {
    RUN_EV_CHANGED = 1,    /* something to redraw */
    RUN_EV_DONE = 2,       /* a do step's checks now hold */
    RUN_EV_HINT = 4,       /* the hint is now shown */
    RUN_EV_RIGHT = 8,      /* an answer was right */
    RUN_EV_WRONG = 16,     /* an answer was wrong */
    RUN_EV_FINISHED = 32,  /* the lesson is over */
    RUN_EV_WAITING = 64    /* the answer is kept until a measurement it depends on is in */
};

enum { QUIZ_MAX_TRIES = 3 };

typedef struct LessonRun {
    const Lesson *lesson;    /* borrowed */
    int step;                /* current step; lesson->n_steps when finished */
    RunPhase phase;
    char marks[LESSON_MAX_STEPS + 1]; /* one StepMark per step */
    double step_start;       /* when the current step began */
    int moves;               /* plan changes on this do step that did not finish it */
    uint64_t seen_plan;      /* plan hash at the last tick */
    bool seen_valid;
    bool hint_shown;
    int tries;               /* answers given to this step */
    int choice;              /* the last choice picked, -1 */
    bool picked[LESSON_MAX_CHOICES]; /* wrong choices already tried */
    double number;           /* the last number given */
    bool skipped;            /* this step was skipped */
    bool last_right;         /* the last graded answer was right */
    int right_choice;        /* the right choice as graded (when/unless resolved), -1 before */
    bool waiting;            /* an answer waits for a measurement (choice or number above) */
} LessonRun;

/* Starts at `step` (0 for a new lesson; clamped) with earlier marks (a string of
 * StepMark, may be NULL or shorter than the lesson). */
void lesson_run_start(LessonRun *r, const Lesson *l, int step, const char *marks, double now);

/* Looks at the session and the time: a do step whose checks hold is COMPLETE;
 * the hint shows after the step's time or moves. Call after every change and
 * regularly (hints are timed). s may be NULL (nothing to check). */
int lesson_run_tick(LessonRun *r, Session *s, double now);

/* The learner picks choice k (0-based) of a predict or quiz step. */
int lesson_run_choose(LessonRun *r, Session *s, int k, double now);
/* The learner answers a number step. */
int lesson_run_answer(LessonRun *r, Session *s, double value, double now);
/* An answer that depends on a measurement not made yet (a when/unless choice, a
 * figure as the answer) is kept (RUN_EV_WAITING) and graded by the tick that
 * finds the measurement in. */

/* The index of the right choice: as graded once answered; before that, as the
 * session says now (-1 while a when/unless choice cannot tell yet). */
int lesson_run_right_choice(const LessonRun *r, Session *s);

/* Whether the learner may go on: a read step; a do step COMPLETE; an answered
 * predict or quiz. */
bool lesson_run_can_continue(const LessonRun *r);
/* Goes to the next step (when allowed), marking a read step done. */
int lesson_run_next(LessonRun *r, double now);
/* Goes back one step, to look at it again (marks are kept). */
int lesson_run_back(LessonRun *r, double now);
/* Skips the current step: a do step's checks are performed ("do it for me",
 * *act says what the interface must do), a question shows its answer. The mark
 * is s. act may be NULL. */
int lesson_run_skip(LessonRun *r, Session *s, LessonAct *act, double now);
/* Shows the hint now (the learner asked). */
int lesson_run_hint(LessonRun *r);
/* Performs a do step's checks without marking it skipped (presenter mode). */
int lesson_run_perform(LessonRun *r, Session *s, LessonAct *act, double now);

/* Re-applies what the do steps before `upto` asked of the plan (formats,
 * presets, sizes), so a lesson resumed after a restart finds the model as its
 * earlier steps left it. Screens and measurements are not replayed. */
void lesson_run_replay(const Lesson *l, int upto, Session *s);

/* The feedback for the current state, figures rendered (marked when `mark`):
 * the hint, a do step's "done" text, why an answer is right or wrong, the
 * reveal, the explanation. "" when there is nothing to say. */
void lesson_run_feedback(const LessonRun *r, Session *s, bool mark, char *out, size_t size);

/* Counts over the marks: questions right first time, questions, skipped steps. */
void lesson_run_score(const LessonRun *r, int *right, int *questions, int *skipped);

/* Grades `value` against a number step's answer (figures read from s).
 * Returns 1 right, 0 wrong, -1 when the answer needs a figure not measured yet.
 * *low tells which side a wrong answer is on. */
int lesson_grade_number(const LessonStep *st, Session *s, double value, bool *low);

/* Reads a number a learner typed: "7", "3.5", "3,5", "1,000", "28 GB", "95%". */
bool lesson_parse_answer(const char *text, double *value);

#endif
