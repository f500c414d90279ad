/* fuzz_lesson_progress.c — fuzz target for the learner's progress file
 * (lesson_progress_parse, and the JSON reader under it): a file on disk that a
 * crash, another program or a curious learner may have damaged.
 *
 * Invariants: a refusal is one line naming the file and leaves the progress
 * empty; an accepted file round-trips: formatting it and parsing that again
 * gives the same records, the same current lesson.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lesson/progress.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    LessonProgress p, q;
    Error err;
    lesson_progress_init(&p);
    if (lesson_progress_parse(&p, (const char *)data, size, "progress.json", &err) != ST_OK) {
        FUZZ_CHECK(p.n == 0);
        FUZZ_CHECK_MESSAGE(err.msg, "progress.json");
        lesson_progress_free(&p);
        return 0;
    }
    char *text = lesson_progress_format(&p);
    FUZZ_CHECK(text != NULL);
    lesson_progress_init(&q);
    if (lesson_progress_parse(&q, text, strlen(text), "again.json", &err) != ST_OK) {
        fprintf(stderr, "%s\n%s\n", err.msg, text);
        FUZZ_CHECK(!"the formatted progress parses");
    }
    FUZZ_CHECK(p.n == q.n && strcmp(p.current, q.current) == 0);
    for (int i = 0; i < p.n; i++) {
        FUZZ_CHECK(strcmp(p.rec[i].id, q.rec[i].id) == 0 && p.rec[i].step == q.rec[i].step);
        FUZZ_CHECK(strcmp(p.rec[i].marks, q.rec[i].marks) == 0 && p.rec[i].done == q.rec[i].done);
    }
    free(text);
    lesson_progress_free(&p);
    lesson_progress_free(&q);
    return 0;
}
