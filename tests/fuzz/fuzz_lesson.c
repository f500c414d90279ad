/* fuzz_lesson.c — fuzz target for the lesson file format (lesson_parse), the
 * markdown-like text teachers write and learners may download.
 *
 * Seeds: every lesson in lessons/ and every broken one in
 * tests/data/lessons-broken/ (copied into corpus/lesson/ by make_seeds.c).
 * Accepted lessons are checked against the bundled model (lesson_check_model),
 * so the tensor names in checks are exercised too.
 *
 * Invariants: a refusal is one line starting with the file's name; an accepted
 * lesson has a title, 1..LESSON_MAX_STEPS steps each of a known kind, at most
 * LESSON_MAX_CHOICES choices and LESSON_MAX_CHECKS checks per step, and every
 * string it holds is NUL-terminated UTF-8.
 */
#include <string.h>

#include "base/utf8.h"
#include "fuzz/fuzz.h"
#include "lesson/lesson.h"
#include "model/model.h"

static Model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    model = fuzz_open_bundled_model();
    return 0;
}

static void check_text(const char *s) {
    FUZZ_CHECK(s == NULL || utf8_valid(s, strlen(s)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Lesson *l = NULL;
    Error err;
    if (lesson_parse(&l, (const char *)data, size, "lessons/fuzz-1.md", &err) != ST_OK) {
        FUZZ_CHECK(l == NULL);
        FUZZ_CHECK_MESSAGE(err.msg, "lessons/fuzz-1.md");
        return 0;
    }
    FUZZ_CHECK(l->title != NULL && l->n_steps >= 1 && l->n_steps <= LESSON_MAX_STEPS);
    FUZZ_CHECK(l->track >= 0 && l->track < TRACK_COUNT);
    check_text(l->title);
    check_text(l->about);
    for (int i = 0; i < l->n_steps; i++) {
        const LessonStep *s = &l->steps[i];
        FUZZ_CHECK(s->kind >= STEP_READ && s->kind <= STEP_QUIZ);
        FUZZ_CHECK(s->n_choices >= 0 && s->n_choices <= LESSON_MAX_CHOICES);
        FUZZ_CHECK(s->n_checks >= 0 && s->n_checks <= LESSON_MAX_CHECKS);
        check_text(s->title);
        check_text(s->text);
        check_text(s->hint);
        check_text(s->reveal);
        for (int k = 0; k < s->n_choices; k++) {
            check_text(s->choices[k].text);
            check_text(s->choices[k].why);
        }
    }
    Status st = lesson_check_model(l, model, &err);
    FUZZ_CHECK(st == ST_OK || st == ST_FORMAT);
    if (st != ST_OK) FUZZ_CHECK_MESSAGE(err.msg, "lessons/fuzz-1.md");
    lesson_delete(l);
    return 0;
}
