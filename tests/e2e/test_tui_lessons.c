/* test_tui_lessons.c — the lessons as a learner meets them, driven through a
 * pseudo-terminal: one whole lesson of each track by key presses (with wrong
 * answers and skipped steps), the lesson panel under another screen, progress
 * saved and resumed after a restart, a damaged progress file set aside, and
 * presenter mode. XDG_STATE_HOME points at a temporary directory, so the
 * learner's own progress is never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/term.h"
#include "lib/term_fixture.h"

enum { WAIT = 20000 }; /* generous: sanitizer builds on a loaded machine */

typedef TermFixture Fixture;

/* A fresh directory for each test: XDG_STATE_HOME, so nothing learnt before. */
static int setup(void **state) {
    *state = term_fixture_new("lessons", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    return term_fixture_free(*state);
}

static const char *progress_path(Fixture *fx) {
    return term_fixture_path(fx, "quantlab/progress.json");
}

static Term *start_at(Fixture *fx, const char *const *args, const char *const *env, int cols, int rows,
                      const char *first) {
    const char *fast_esc[] = {"ESCDELAY=25", NULL};
    Term *t = term_fixture_spawn(fx, args, env ? env : fast_esc, cols, rows, first);
    assert_non_null(t);
    return t;
}

static Term *start(Fixture *fx, const char *const *args) {
    return start_at(fx, args, NULL, 80, 24, "1 Model");
}

/* Presses key, then waits for what it must bring. */
static void key(Term *t, const char *keys, const char *expect) {
    term_send_str(t, keys);
    if (expect) assert_screen_text(t, expect, WAIT);
}

static void enter(Term *t, const char *expect) {
    term_send_key(t, TERM_KEY_ENTER);
    if (expect) assert_screen_text(t, expect, WAIT);
}

/* A number answer: Enter opens the box, the digits, Enter. */
static void answer(Term *t, const char *number, const char *expect) {
    enter(t, "Your answer");
    term_send_str(t, number);
    enter(t, expect);
}

static void quit_discarding_plan(Term *t) {
    term_send_str(t, "q");
    if (term_wait_text(t, "not saved", 2000)) term_send_str(t, "y");
    assert_exit_status(t, 0, WAIT);
}

static char *progress_text(Fixture *fx) {
    char *text = proc_read_file(progress_path(fx), NULL);
    if (!text) fail_msg("no progress file at %s", progress_path(fx));
    return text;
}

/* Picture it, from the lesson list: a wrong prediction, a skipped do step
 * (quantlab does it: the plan becomes all INT4), a wrong then right quiz. */
static void test_tui_lessons_picture_track_with_wrong_answer_and_skip(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL);
    key(t, "6", "Lessons: learn what quantization does");
    assert_screen_text(t, "Picture it", WAIT);
    assert_screen_text(t, "new        A photo and its small copy", WAIT);
    enter(t, "A picture made of marks");
    assert_screen_text(t, "step  1 of 7", WAIT);
    assert_screen_text(t, "(o)  (o)", WAIT); /* the picture, as written */
    enter(t, "A small copy");
    enter(t, "Is it still a face?");
    key(t, "b", "Not what happened");
    assert_screen_text(t, "Look again: the eyes and the smile", WAIT);
    assert_screen_text(t, "A small copy keeps what matters most", WAIT); /* the reveal */
    enter(t, "A story-teller made of numbers");
    assert_screen_text(t, "292,800 of them", WAIT); /* a live figure */
    enter(t, "Make a small copy");
    key(t, "s", "Skipped: quantlab did it for you.");
    assert_screen_text(t, "all INT4", WAIT);            /* the summary line: the plan changed */
    assert_screen_text(t, "171 kB instead of 1.17 MB", WAIT);
    enter(t, "Which is smaller?");
    key(t, "a", "Not quite. Try again.");
    assert_screen_text(t, "The first one takes 1.17 MB", WAIT);
    key(t, "b", "Right!");
    assert_screen_text(t, "6.9 times less space", WAIT); /* 1,171,200 / 170,720 */
    enter(t, "Next time");
    enter(t, "Lesson complete");
    assert_screen_text(t, "Questions right the first time: 0 of 2.", WAIT);
    assert_screen_text(t, "Steps skipped: 1", WAIT);
    assert_screen_text(t, "Next: \"A number with fewer digits\"", WAIT);
    enter(t, "Lessons: learn");
    assert_screen_text(t, "done       A photo and its small copy", WAIT);
    assert_screen_text(t, "1 of 3 done", WAIT);
    quit_discarding_plan(t);
    char *p = progress_text(fx);
    assert_non_null(strstr(p, "\"picture-1-small-copy\": {\"step\": 0, \"marks\": \"ddwdswd\", \"done\": true}"));
    free(p);
}

/* Try it, with a restart in the middle: do steps done with the app's own keys
 * (the Model screen, the presets), the lesson panel under the Model screen, a
 * wrong number answer; quit, start again, and carry on from the saved step. */
static void test_tui_lessons_try_track_resumes_after_restart(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, (const char *[]){"--lesson", "try-1", NULL});
    assert_screen_text(t, "A weight is a number", WAIT);
    enter(t, "Open the Model screen");
    key(t, "1", "Done! The bar marked FP32");             /* in the panel, under the Model screen */
    assert_screen_text(t, "Lesson, step 2 of 9", WAIT);
    assert_screen_text(t, "7 billion weights at these bits", WAIT); /* the Model screen itself */
    key(t, "6", "Enter next");
    enter(t, "Four bytes for every number");
    assert_screen_text(t, "1.17 MB in all", WAIT);
    enter(t, "Count the bytes");
    answer(t, "400", "Not quite. Try again.");
    assert_screen_text(t, "You said 400 bytes.", WAIT);
    assert_screen_text(t, "That is less than 4 bytes", WAIT);
    answer(t, "4,000", "Right!");
    enter(t, "One byte instead of four");
    key(t, "c", "Your prediction was right!");
    assert_screen_text(t, "320 kB instead of 1.17 MB", WAIT); /* 319,968 bytes, worked out in test_lesson.c */
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
    char *p = progress_text(fx);
    assert_non_null(strstr(p, "\"current\": \"try-1-how-big\""));
    assert_non_null(strstr(p, "\"try-1-how-big\": {\"step\": 5, \"marks\": \"dddwr....\", \"done\": false}"));
    free(p);

    /* a restart: the list knows, and the lesson goes on at step 6 */
    t = start(fx, NULL);
    assert_screen_text(t, "your lesson \"How big is a model?\" is at step 6 of 9: press 6 to go on", WAIT);
    key(t, "6", "step 6/9   How big is a model?");
    assert_screen_text(t, "Try it  (ages 9-12)", WAIT);
    enter(t, "welcome back: step 6 of 9");
    assert_screen_text(t, "Make it INT8", WAIT);
    key(t, "p", "Presets");
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_DOWN);
    enter(t, "The model is now 320 kB.");
    enter(t, "Half a byte");
    key(t, "c", "Right!");
    enter(t, "A 7-billion-weight model");
    answer(t, "7", "Right!");
    assert_screen_text(t, "7.44 GB and 3.94 GB", WAIT);
    enter(t, "Why size matters");
    enter(t, "Lesson complete");
    assert_screen_text(t, "Questions right the first time: 3 of 4.", WAIT);
    quit_discarding_plan(t);
    p = progress_text(fx);
    assert_non_null(strstr(p, "\"try-1-how-big\": {\"step\": 0, \"marks\": \"dddwrdrrd\", \"done\": true}"));
    free(p);
}

/* Build it: figures measured on the tensor, a prediction graded by measurement,
 * a skipped do step, one done through the format menu on the Layers screen, a
 * decimal comma, a wrong then right choice. */
static void test_tui_lessons_build_track(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, (const char *[]){"--lesson", "build-1", NULL});
    assert_screen_text(t, "A grid of steps", WAIT);
    enter(t, "Your turn");
    answer(t, "5", "Right!");
    enter(t, "Where the scale comes from");
    enter(t, "One big weight");
    key(t, "a", "Your prediction was right!");
    enter(t, "One scale, or many");
    assert_screen_text(t, "44.0 kB at", WAIT); /* 172 x 64 x 4 = 44,032 bytes */
    enter(t, "Which is more exact?");
    key(t, "b", "Your prediction was right!");
    assert_screen_text(t, "one scale per block of 32: RMSE", WAIT);
    enter(t, "One scale for the whole tensor");
    key(t, "s", "Skipped: quantlab did it for you.");
    enter(t, "One scale per block of 32");
    /* on the Layers screen: down to blk.0 ffn_down, the format menu keeps its
     * teaching format's place, and INT4 / block of 32 / symmetric are the defaults */
    enter(t, "plan total");
    assert_screen_text(t, "Lesson, step 8 of 12", WAIT);
    for (int i = 0; i < 10; i++) term_send_key(t, TERM_KEY_DOWN);
    assert_screen_text(t, "rows of 172: 32-weight blocks need 20 zeros", WAIT); /* what Layers says under ffn_down */
    key(t, "f", "Format for blk.0.ffn_down.weight");
    enter(t, "bits per weight");
    enter(t, "How many scales");
    enter(t, "Range");
    enter(t, "Done! RMSE");
    key(t, "6", "Enter next");
    enter(t, "See the grid");
    /* Enter goes to the Histogram screen, of the tensor selected on Layers: done */
    enter(t, "Done! Every block has its own grid.");
    assert_screen_text(t, "blk.0.ffn_down.weight", WAIT);
    key(t, "6", "Enter next");
    enter(t, "The price of a scale");
    answer(t, "0,5", "Right!");
    assert_screen_text(t, "quantlab counts 4.50", WAIT);
    enter(t, "Outliers in big models");
    assert_screen_text(t, "LLM.int8() (Dettmers et al., 2022)", WAIT);
    enter(t, "Why blocks?");
    key(t, "a", "Not quite. Try again.");
    key(t, "b", "Right!");
    enter(t, "Lesson complete");
    assert_screen_text(t, "Questions right the first time: 4 of 5.", WAIT);
    assert_screen_text(t, "Steps skipped: 1", WAIT);
    quit_discarding_plan(t);
    char *p = progress_text(fx);
    assert_non_null(strstr(p, "\"build-1-rounding-and-scales\": {\"step\": 0, \"marks\": \"drdrdrsddrdw\", \"done\": true}"));
    free(p);
}

static bool bad_copy_exists(Fixture *fx) {
    DIR *d = opendir(term_fixture_path(fx, "quantlab"));
    bool found = false;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "progress.json.bad-", 18) == 0) found = true;
    if (d) closedir(d);
    return found;
}

/* A damaged progress file is said on the status line and set aside; the
 * learner starts afresh and the new progress is saved. */
static void test_tui_lessons_damaged_progress_set_aside(void **state) {
    Fixture *fx = *state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/quantlab' && printf '{\"lessons\": {\"x\": 1' > '%s'", fx->dir,
             progress_path(fx));
    assert_int_equal(system(cmd), 0);
    Term *t = start(fx, NULL);
    key(t, "6", "progress reset: damaged file kept as progress.json.bad-");
    assert_true(bad_copy_exists(fx));
    enter(t, "A picture made of marks");
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
    char *p = progress_text(fx);
    assert_non_null(strstr(p, "\"format\": \"quantlab-lesson-progress\""));
    assert_non_null(strstr(p, "\"picture-1-small-copy\""));
    free(p);
}

/* Presenter mode: high contrast, no tabs or function keys, Space and Backspace
 * move, Space does a do step for the class, and nothing is recorded. */
static void test_tui_lessons_present_mode(void **state) {
    Fixture *fx = *state;
    Term *t = start_at(fx, (const char *[]){"--present", "picture-2", NULL}, NULL, 100, 30, "quantlab  - ");
    assert_screen_text(t, "quantlab  - A number with fewer digits", WAIT);
    assert_screen_text(t, "Space next   Backspace back", WAIT);
    assert_true(term_wait_text_gone(t, "2 Layers", WAIT)); /* the tabs are hidden */
    assert_screen_text(t, "3.14159", WAIT);
    key(t, " ", "Close or far?");
    term_send_key(t, TERM_KEY_BACKSPACE);
    assert_screen_text(t, "A long number", WAIT);
    key(t, " ", "Close or far?");
    key(t, "a", "Your prediction was right!");
    key(t, " ", "The story-teller's numbers");
    key(t, " ", "See where the numbers live");
    key(t, " ", "Lesson, step 4 of 7");    /* done for the class: the Layers screen, with the panel */
    assert_screen_text(t, "plan total", WAIT);
    key(t, "6", NULL); /* back to the lesson: the panel goes ("Space next" is on every screen here) */
    assert_true(term_wait_text_gone(t, "Lesson, step 4 of 7", WAIT));
    key(t, " ", "Make one group shorter");
    key(t, " ", "That group now uses fewer digits");
    term_send_str(t, "q");                   /* no question about the demo's plan */
    assert_exit_status(t, 0, WAIT);
    assert_int_not_equal(access(progress_path(fx), F_OK), 0); /* nothing recorded */
}

/* LANG=C and NO_COLOR: the lesson screens and the panel in plain ASCII, no colour. */
static void test_tui_lessons_ascii_and_no_color(void **state) {
    Fixture *fx = *state;
    const char *env[] = {"ESCDELAY=25", "LANG=C", "LC_ALL=C", "NO_COLOR=1", NULL};
    Term *t = start_at(fx, (const char *[]){"--lesson", "picture-1", NULL}, env, 80, 24, "A picture made of marks");
    enter(t, "A small copy");
    enter(t, "Is it still a face?");
    key(t, "a", "Your prediction was right!");
    assert_screen_text(t, "= a) Still a happy face", WAIT); /* the right one, marked in ASCII */
    enter(t, "A story-teller made of numbers");
    enter(t, "Make a small copy");
    key(t, "2", "Lesson, step 5 of 7"); /* the panel under Layers, boxed in ASCII */
    assert_true(term_wait_idle(t, 150, WAIT));
    assert_false(term_screen_has_color(t));
    assert_false(term_output_has_non_ascii(t));
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_lessons_picture_track_with_wrong_answer_and_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_lessons_try_track_resumes_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_lessons_build_track, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_lessons_damaged_progress_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_lessons_present_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_lessons_ascii_and_no_color, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
