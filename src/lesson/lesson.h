/* lesson.h — lessons: what a lesson file says, and how it is read.
 *
 * A lesson is a plain-text file a teacher can read and edit (markdown), parsed
 * here from a (buffer, length) so tests need no file. The engine that runs a
 * lesson is run.h; the live figures a text may show are figure.h; the actions
 * a "do" step waits for are check.h. Nothing in lesson/ draws or prints.
 *
 * The format, by example (lessons/README.md has the full reference):
 *
 *     # How big is a model?
 *
 *     track: try                       picture | try | build
 *     ages: 9-12
 *     minutes: 10
 *     builds-on: picture-1-small-copy  another lesson's id (its file name without .md)
 *     about: Bytes per weight, and what a 7B model weighs.
 *
 *     ## read: A weight is a number
 *     This model has {model.weights} weights. At FP32 they take {fp32.bytes}.
 *
 *     ## do: Make one matrix INT4
 *     Press 2 for Layers, pick blk.0 attn_q, press Space until it says INT4.
 *     check: format blk.0.attn_q int4
 *     hint: Space steps through FP32, FP16, INT8, INT4.
 *     hint-after: 45s 5 moves
 *
 *     ## predict: Smaller or not?
 *     Will INT4 make the whole model smaller than INT8 does?
 *     - [x] Yes, about half of INT8
 *       why: 4 bits a weight instead of 8.
 *     - [ ] No, the same
 *       why: The codes are half as long.
 *     reveal: INT8: {int8.bytes}. INT4: {int4.bytes}.
 *
 *     ## quiz: A big model
 *     How many GB does a 7-billion-weight model take at INT8, one byte a weight?
 *     answer: 7
 *     tolerance: 0.5
 *     unit: GB
 *     too-low: ...      too-high: ...      explain: ...
 *
 * Lines: "# " the title; "key: value" header fields; "## KIND: Title" starts a
 * step; inside a step, "key: value" fields at the start of a line (keys are
 * lower-case words; an unknown key is an error, so a typo is caught), "- [x]" /
 * "- [ ]" choices with an indented "why:" under each, and everything else is the
 * step's text. Blank lines separate paragraphs; lines indented by four spaces or
 * inside ``` fences are kept as they are (pictures). "<!-- ... -->" lines are
 * comments. "{name}" shows a live figure (figure.h); "{{" is a literal brace.
 */
#ifndef QL_LESSON_LESSON_H
#define QL_LESSON_LESSON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "model/model.h"

typedef enum LessonTrack { TRACK_PICTURE = 0, TRACK_TRY, TRACK_BUILD, TRACK_COUNT } LessonTrack;

typedef enum StepKind { STEP_READ = 0, STEP_DO, STEP_PREDICT, STEP_QUIZ } StepKind;

enum {
    LESSON_MAX_BYTES = 256 * 1024,
    LESSON_MAX_STEPS = 64,
    LESSON_MAX_CHOICES = 6,
    LESSON_MAX_CHECKS = 4,
    LESSON_ARG_MAX = 64,
    LESSON_ID_MAX = 64,
    LESSON_DEFAULT_HINT_SECONDS = 45,
    LESSON_DEFAULT_HINT_MOVES = 5
};

/* One condition of a "do" step: a named check (check.h) and its arguments. */
typedef struct LessonCheck {
    int kind;                         /* index in the check table */
    int n_args;
    char args[3][LESSON_ARG_MAX];     /* as written */
    double number;                    /* a numeric argument, parsed (bytes for sizes) */
    int line;
} LessonCheck;

/* A choice is right or wrong as written ("- [x]", "- [ ]"), or depending on
 * what the app measures when the learner answers: "- [when differs]" is right
 * when the check holds, "- [unless differs]" when it does not. A step with such
 * choices has exactly one "when" and one "unless" of the same check, so exactly
 * one choice is right whatever the measurement says. */
typedef struct LessonChoice {
    char *text;
    char *why;   /* why it is right or wrong (required for a quiz's wrong choices) */
    bool right;  /* as written (cond == 0) */
    int cond;    /* 0 fixed; +1 right when `check` holds; -1 right when it does not */
    LessonCheck check;
    int line;
} LessonChoice;

typedef struct LessonStep {
    StepKind kind;
    int line;           /* of its "## " heading */
    char *title;        /* may be "" */
    char *text;         /* the page or the question; figures unexpanded */
    char screen[16];    /* the screen the step is about ("layers"), or "" */
    char measure[16];   /* a measurement to start when the step shows or reveals, or "" */
    /* do */
    LessonCheck checks[LESSON_MAX_CHECKS];
    int n_checks;
    char *hint;
    char *done;         /* said when the checks hold (optional) */
    double hint_seconds; /* hint after this long on the step */
    int hint_moves;      /* or after this many plan changes that did not do it */
    /* predict and quiz */
    LessonChoice choices[LESSON_MAX_CHOICES];
    int n_choices;
    bool numeric;       /* a number answer instead of choices */
    char *answer;       /* numeric: a number or one {figure} */
    double tolerance;   /* numeric: absolute, or a fraction when tol_relative */
    bool tol_relative;
    char *unit;         /* numeric: shown after the answer box ("GB") */
    char *too_low, *too_high, *wrong; /* numeric: why a wrong answer is wrong */
    char *explain;      /* shown after any answer */
    char *reveal;       /* predict: the answer, with live figures */
} LessonStep;

typedef struct Lesson {
    char id[LESSON_ID_MAX];  /* the file name without ".md" */
    char *path;              /* for messages: "lessons/try-1-how-big.md" */
    char *title;
    LessonTrack track;
    char ages[16];           /* "9-12" */
    int minutes;
    char builds_on[LESSON_ID_MAX]; /* an id, or "" */
    int builds_on_line;
    char *about;             /* one line for the list, or "" */
    LessonStep *steps;
    int n_steps;
} Lesson;

/* Parses a lesson from buf[0..len). `path` names it in messages and gives its id
 * (the base name without ".md"). Errors are ST_FORMAT with one line
 * "path:LINE: reason" (the first problem found): unknown fields, steps or
 * checks; a check's arguments that do not parse; a quiz without exactly one
 * right choice or a wrong choice without "why:"; a figure name that does not
 * exist; text that is not UTF-8. On error *out is NULL. */
Status lesson_parse(Lesson **out, const char *buf, size_t len, const char *path, Error *err);

/* Reads and parses a file (at most LESSON_MAX_BYTES). */
Status lesson_load(Lesson **out, const char *path, Error *err);

void lesson_delete(Lesson *l);

/* What can only be checked against a model: every tensor a check names exists
 * in m. ST_FORMAT "path:LINE: no tensor 'blk.9.attn_q' in stories260K". */
Status lesson_check_model(const Lesson *l, const Model *m, Error *err);

/* "picture", "try", "build" (as files spell them) and for people: "Picture it"... */
const char *lesson_track_name(LessonTrack t);
const char *lesson_track_label(LessonTrack t);
const char *lesson_step_kind_name(StepKind k);

/* ---- a set of lessons (a directory) ---- */

typedef struct LessonSet {
    Lesson **lessons;  /* sorted by track, then by id */
    int n;
} LessonSet;

/* The lesson files of a directory: every "*.md" but README.md, as "dir/name",
 * sorted by name. Free with lesson_dir_list_free. */
Status lesson_dir_list(const char *dir, char ***paths, int *n, Error *err);
void lesson_dir_list_free(char **paths, int n);

/* Loads every lesson file of dir. Files that do not parse are skipped and the
 * first such error is returned in *err with ST_FORMAT, the good ones still
 * loaded; ST_IO only when the directory cannot be read. */
Status lesson_set_load(LessonSet *set, const char *dir, Error *err);
/* Adds one parsed lesson (takes ownership; keeps the order). */
Status lesson_set_add(LessonSet *set, Lesson *l, Error *err);
void lesson_set_free(LessonSet *set);
/* The lesson whose id is `id`, or else the only one whose id starts with it; -1. */
int lesson_set_find(const LessonSet *set, const char *id);
/* A builds-on that names no lesson in `known`: ST_FORMAT "path:LINE: ...". */
Status lesson_check_builds_on(const Lesson *l, const LessonSet *known, Error *err);

#endif
