/* progress.h — what a learner has done, saved between runs.
 *
 * One JSON file per user: $XDG_STATE_HOME/quantlab/progress.json, or
 * ~/.local/state/quantlab/progress.json when XDG_STATE_HOME is unset or not an
 * absolute path (the XDG Base Directory rule). It is written atomically (a
 * temporary file renamed over the old one), so a crash or a full disk never
 * leaves half a file. A file that is damaged or not ours is never trusted and
 * never overwritten in place: it is renamed to progress.json.bad-YYYYMMDD-HHMMSS
 * and the learner starts afresh, with a note saying so.
 *
 *     {"format": "quantlab-lesson-progress", "version": 1,
 *      "current": "try-1-how-big",
 *      "lessons": {"try-1-how-big": {"step": 3, "marks": "ddr.....", "done": false}}}
 *
 * Called by the Lessons screen; the tests use the (buffer, length) functions.
 */
#ifndef QL_LESSON_PROGRESS_H
#define QL_LESSON_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "lesson/lesson.h"

#define PROGRESS_FORMAT "quantlab-lesson-progress"
enum { PROGRESS_VERSION = 1, PROGRESS_MAX_BYTES = 1 << 20, PROGRESS_MAX_LESSONS = 1024 };

typedef struct LessonRecord {
    char id[LESSON_ID_MAX];
    int step;                          /* where to resume */
    char marks[LESSON_MAX_STEPS + 1];  /* StepMark per step (run.h) */
    bool done;                         /* reached the end at least once */
} LessonRecord;

typedef struct LessonProgress {
    LessonRecord *rec;
    int n, cap;
    char current[LESSON_ID_MAX];       /* the lesson last open, or "" */
} LessonProgress;

typedef enum LessonState { LESSON_NEW, LESSON_STARTED, LESSON_DONE } LessonState;

void lesson_progress_init(LessonProgress *p);
void lesson_progress_free(LessonProgress *p);

/* The record of lesson `id`; with create, added (empty) when missing. NULL when
 * missing (or out of memory). */
LessonRecord *lesson_progress_get(LessonProgress *p, const char *id, bool create);
LessonState lesson_progress_state(const LessonProgress *p, const char *id);

/* Parses the JSON text. ST_FORMAT "progress.json: ..." when it is not JSON, not
 * a quantlab progress file ("format" missing or another), a newer version, or a
 * record of the wrong shape. On error *p is left empty. */
Status lesson_progress_parse(LessonProgress *p, const char *buf, size_t len, const char *name, Error *err);
/* The JSON text (caller frees), or NULL when out of memory. */
char *lesson_progress_format(const LessonProgress *p);

/* The progress file's path for this user (see above). ST_IO when neither
 * XDG_STATE_HOME nor HOME says where. */
Status lesson_progress_path(char *out, size_t size, Error *err);

/* Loads path into *p (initialised here). A missing file is a fresh start. A
 * damaged or foreign file is set aside (renamed, see above), *p is fresh, and
 * `note` says what happened, new name first so it survives a narrow status
 * line: "progress reset: damaged file kept as progress.json.bad-... (why)"
 * (else note is ""); the result is still ST_OK. A file
 * that cannot be read at all (permissions), or a damaged one that cannot be set
 * aside, is ST_IO: *p is then fresh and the caller must not save over it. */
Status lesson_progress_load(LessonProgress *p, const char *path, char *note, size_t note_size, Error *err);

/* Writes p to path atomically, creating the directories (0700) first. On any
 * error the previous file is unchanged and err says why. */
Status lesson_progress_save(const LessonProgress *p, const char *path, Error *err);

#endif
