/* check.h — the actions a "do" step waits for, as named checks on the session.
 *
 * A step says `check: format blk.0.attn_q int4`; the engine (run.c) evaluates
 * the check against the session after every change, and the step is done when
 * all its checks hold. Checks see only the session: the plan, what was measured
 * for it, and what the interface shows (Session.ui_screen, ui_tensor), so they
 * run the same under the terminal interface and in tests.
 *
 * A check can also be *performed* ("do it for me": skipping a step, or Enter in
 * presenter mode): plan changes are made on the session directly; what only the
 * interface can do (show a screen, select a tensor, start a measurement) is
 * returned in a LessonAct for it to carry out.
 */
#ifndef QL_LESSON_CHECK_H
#define QL_LESSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "lesson/lesson.h"
#include "session/session.h"

/* What kind of argument a check takes. */
typedef enum CheckArg {
    ARG_NONE = 0,
    ARG_SCREEN,   /* model, layers, histogram, compare, quality, lessons */
    ARG_TARGET,   /* a tensor (blk.0.attn_q, output, token_embd), a block (blk.0) or "all" */
    ARG_TENSOR,   /* a tensor only */
    ARG_FORMAT,   /* any name format_parse() accepts: int4, q8_0, int3-b64 ... */
    ARG_PRESET,   /* fp32 fp16 int8 int4 int4-keep-edges q4_k_m-like as-stored */
    ARG_SIZE,     /* 300kB, 1.2MB, 5000 (bytes) */
    ARG_NUMBER,   /* 0.05 */
    ARG_PERCENT,  /* 95% or 95 */
    ARG_MEASURE   /* quality, speed, compare, sensitivity, calibration, methods */
} CheckArg;

typedef struct CheckInfo {
    const char *name;      /* "format" */
    const char *usage;     /* "format TARGET FORMAT" */
    const char *help;      /* what the learner must do */
    CheckArg args[3];
} CheckInfo;

int lesson_check_count(void);
CheckInfo lesson_check_info(int i);

/* Parses "NAME ARG..." into *c (kind, args, number). ST_FORMAT with a one-line
 * reason ("unknown check 'fly' (checks: screen, select, ...)", "format wants
 * TARGET FORMAT", "unknown format 'q9_0'") on error. */
Status lesson_check_parse(LessonCheck *c, const char *text, Error *err);

/* The tensor (*tensor >= 0), block (*layer >= 0) or everything (both -1) a
 * target names in model m. False when m has no such tensor or block. */
bool lesson_target_resolve(const Model *m, const char *target, int *tensor, int *layer);

/* Whether the check holds for the session now. */
bool lesson_check_holds(Session *s, const LessonCheck *c);

/* Whether performing the check changes the plan (format, preset, a size), as
 * opposed to the interface, a measurement or the weights. */
bool lesson_check_changes_plan(const LessonCheck *c);

/* The measurement a check needs before it can say yes or no ("compare" for
 * differs, "quality" for kl-below, "calibration" for a check on a +gptq
 * format...), or NULL; and whether it is there for the current plan. A
 * when/unless choice is graded only once it is. */
const char *lesson_check_needs(const LessonCheck *c);
bool lesson_check_decidable(Session *s, const LessonCheck *c);

/* What the interface should do for a performed check. */
typedef struct LessonAct {
    char screen[16];    /* show this screen, or "" */
    int tensor;         /* select this tensor, or -1 */
    char measure[16];   /* start this measurement, or "" */
    char note[200];     /* what was done, for the status line, or "" */
} LessonAct;

void lesson_act_clear(LessonAct *act);

/* Makes the check hold where the session can: plan changes are applied (undoable
 * like any edit), the rest is added to *act. A check that cannot be forced (a
 * quality below a threshold) asks for the measurement and says so in act->note. */
void lesson_check_perform(Session *s, const LessonCheck *c, LessonAct *act);

/* Starts a measurement by name on the session when it is not already there for
 * the current plan: "quality", "speed", "sensitivity", "calibration" (GPTQ's,
 * on calib.txt), "methods" (the plan by round-to-nearest and by GPTQ). "compare"
 * needs a prompt the interface owns, so it is left to the caller (returns
 * false). */
bool lesson_measure_start(Session *s, const char *what);

/* Whether `what` has been measured for the current plan. */
bool lesson_measured(const Session *s, const char *what);

/* Parses a size: "300kB", "300 kB", "1.2MB", "5000", "5000B" (1 kB = 1000 B). */
bool lesson_parse_size(const char *text, double *bytes);

#endif
