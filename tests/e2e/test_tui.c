/* test_tui.c — the explorer as a user meets it, driven through a pseudo-terminal:
 * start-up on the bundled model, a layer toggle that changes the size by the
 * right number of bytes, presets and undo, resizing below 80x24 and back,
 * NO_COLOR and LANG=C, quitting (with and without unsaved changes, Ctrl-C,
 * SIGTERM) with the terminal restored, help from the key table, and files that
 * cannot be opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/term.h"
#include "lib/term_fixture.h"

enum { WAIT = 15000 }; /* generous: sanitizer builds on a loaded machine */

typedef TermFixture Fixture;

/* A fresh directory for each test; the explorer it runs is closed by the
 * teardown even when an assertion fails. */
static int setup(void **state) {
    *state = term_fixture_new("tui", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    return term_fixture_free(*state);
}

static Term *start(Fixture *fx, const char *const *args, const char *const *env, int cols, int rows) {
    Term *t = term_fixture_spawn(fx, args, env, cols, rows, "1 Model");
    assert_non_null(t);
    assert_screen_text(t, "stories260K", WAIT);
    return t;
}

static void quit(Term *t) {
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

/* 64x64 weights: F32 16,384 bytes; Q4_0 64 rows x 2 blocks x 18 bytes = 2,304.
 * The plan total falls from 1,171,200 (292,800 x 4) by 14,080 to 1,157,120. */
static void test_tui_layer_to_int4_drops_size_by_hand_figure(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    term_send_str(t, "2");
    assert_screen_text(t, "plan total 1,171,200 bytes", WAIT);
    /* rows: token_embd, output_norm, output, blk.0, attn_q */
    for (int i = 0; i < 4; i++) term_send_key(t, TERM_KEY_DOWN);
    assert_screen_text(t, "blk.0.attn_q.weight: 4096 weights", WAIT);
    term_send_str(t, "   "); /* FP32 -> FP16 -> INT8 -> INT4 */
    assert_screen_text(t, "plan total 1,157,120 bytes", WAIT);
    assert_screen_text(t, "INT4 (Q4_0)", WAIT);
    assert_screen_text(t, "blk.0.attn_q.weight now INT4", WAIT);
    /* undo brings it back; redo again */
    term_send_str(t, "u");
    assert_screen_text(t, "plan total 1,159,168 bytes", WAIT); /* INT8: 64 x 2 x 34 = 4,352 */
    term_send_str(t, "U");
    assert_screen_text(t, "plan total 1,157,120 bytes", WAIT);
    /* unsaved: q asks; n keeps it running; y quits */
    term_send_str(t, "q");
    assert_screen_text(t, "not saved", WAIT);
    term_send_str(t, "n");
    assert_true(term_wait_text_gone(t, "not saved", WAIT));
    assert_true(term_alive(t));
    term_send_str(t, "q");
    assert_screen_text(t, "not saved", WAIT);
    term_send_str(t, "y");
    assert_exit_status(t, 0, WAIT);
}

/* The INT8 preset: every matrix Q8_0. 319,968 bytes (tests/unit/test_plan.c
 * works it out by hand). */
static void test_tui_preset_menu(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "all INT8", WAIT);
    term_send_str(t, "2");
    assert_screen_text(t, "plan total 319,968 bytes", WAIT);
    term_send_key(t, TERM_KEY_CTRL_C); /* quits at once, even unsaved */
    assert_exit_status(t, 0, WAIT);
}

static void test_tui_too_small_and_back(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    term_send_str(t, "2");
    assert_screen_text(t, "plan total", WAIT);
    assert_true(term_wait_idle(t, 200, WAIT));
    term_resize(t, 60, 20);
    assert_screen_text(t, "Terminal too small", WAIT);
    assert_screen_text(t, "60x20", WAIT);
    term_resize(t, 100, 30);
    assert_screen_text(t, "plan total", WAIT);
    assert_screen_text(t, "1 Model", WAIT);
    assert_true(term_wait_text_gone(t, "too small", WAIT));
    /* tiny and back again, then quit from the small screen */
    term_resize(t, 10, 4);
    assert_screen_text(t, "Terminal", WAIT);
    quit(t);
}

/* NO_COLOR and LANG=C: every screen without colour and without a byte >= 0x80. */
static void test_tui_no_color_and_ascii(void **state) {
    Fixture *fx = *state;
    const char *env[] = {"NO_COLOR=1", "LANG=C", "LC_ALL=C", NULL};
    Term *t = start(fx, NULL, env, 100, 30);
    /* each mark is on its screen only (the tab row names every screen) */
    const char *keys[] = {"1", "2", "3", "4", "5", "6", "?"};
    const char *marks[] = {"Size", "plan total", "FP32 keeps every weight exactly.", "Prompt: Once upon a time",
                           "Sensitivity at", "Lessons: learn what quantization does", "Everywhere"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        term_send_str(t, keys[i]);
        assert_screen_text(t, marks[i], WAIT);
        assert_true(term_wait_idle(t, 150, WAIT));
        if (term_screen_has_color(t)) {
            term_dump(t, stderr);
            fail_msg("colour on screen %s with NO_COLOR", keys[i]);
        }
    }
    assert_false(term_output_has_non_ascii(t));
    quit(t);
    /* the same in colour and UTF-8 does use colour and block glyphs */
    t = start(fx, NULL, NULL, 100, 30);
    assert_screen_text(t, "Size", WAIT);
    assert_true(term_wait_idle(t, 150, WAIT));
    assert_true(term_screen_has_color(t));
    assert_true(term_output_has_non_ascii(t));
    quit(t);
}

static void test_tui_quit_restores_terminal(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    TermModes m = term_modes(t);
    assert_true(m.altscreen);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
    m = term_modes(t);
    assert_false(m.altscreen);
    assert_true(m.cursor_visible);
    assert_int_equal(m.mouse, 0);
    /* SIGTERM: the terminal is restored too, and the status says why it ended */
    t = start(fx, NULL, NULL, 100, 30);
    assert_int_equal(term_send_signal(t, SIGTERM), 0);
    assert_exit_status(t, 128 + SIGTERM, WAIT);
    m = term_modes(t);
    assert_false(m.altscreen);
    assert_true(m.cursor_visible);
}

/* The help screen is printed from the key table. */
static void test_tui_help_from_key_table(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 120, 40);
    term_send_key(t, TERM_KEY_F1);
    assert_screen_text(t, "Everywhere", WAIT);
    assert_screen_text(t, "quit (asks first if the plan is not saved)", WAIT);
    assert_screen_text(t, "fewer bits", WAIT);
    term_send_key(t, TERM_KEY_ESC);
    assert_true(term_wait_text_gone(t, "Everywhere", WAIT));
    /* at 80 columns the Help tab is shown whole, after every other tab */
    term_resize(t, 80, 24);
    assert_screen_text(t, "1 Model", WAIT);
    term_send_str(t, "?");
    assert_screen_text(t, "Everywhere", WAIT);
    assert_true(term_wait_idle(t, 150, WAIT));
    char *top = term_row_text(t, 0);
    assert_non_null(top);
    bool whole = strstr(top, "6 Lessons") && strstr(top, "? Help");
    if (!whole) fprintf(stderr, "tab row at 80 columns: [%s]\n", top);
    free(top);
    assert_true(whole);
    quit(t);
}

/* The README's key list is the Help screen, row for row: a key added, changed
 * or removed in the key table without the README following fails here. */
static void test_tui_readme_key_list_is_the_help(void **state) {
    Fixture *fx = *state;
    size_t len = 0;
    char *readme = proc_read_file(proc_data_path("README.md"), &len);
    assert_non_null(readme);
    const char *begin_mark = "<!-- key list: the Help screen at 100 columns -->\n```\n";
    char *begin = strstr(readme, begin_mark);
    assert_non_null(begin);
    begin += strlen(begin_mark);
    char *end = strstr(begin, "```");
    assert_non_null(end);
    *end = '\0';

    Term *t = start(fx, NULL, NULL, 100, 100);
    term_send_str(t, "?");
    assert_screen_text(t, "Everywhere", WAIT);
    assert_true(term_wait_idle(t, 200, WAIT));
    int col, row = -1;
    assert_true(term_find_text(t, " Everywhere", &col, &row));
    int n = 0;
    for (char *line = strtok(begin, "\n"); line; line = strtok(NULL, "\n"), n++) {
        char *shown = term_row_text(t, row + n);
        assert_non_null(shown);
        if (strcmp(shown, line) != 0) fprintf(stderr, "README key list line %d: [%s], Help shows [%s]\n", n + 1, line, shown);
        assert_string_equal(shown, line);
        free(shown);
    }
    assert_true(n > 40);
    /* and the Help has nothing after the README's last line */
    char *after = term_row_text(t, row + n);
    assert_non_null(after);
    if (after[0] != '\0') fprintf(stderr, "Help shows a key the README lacks: [%s]\n", after);
    assert_string_equal(after, "");
    free(after);
    free(readme);
    quit(t);
}

/* A file that cannot be opened: one line naming it; the model stays. */
static void test_tui_open_bad_file_keeps_model(void **state) {
    Fixture *fx = *state;
    char bad[512], models[600];
    snprintf(bad, sizeof bad, "%s/broken.gguf", fx->dir);
    FILE *fp = fopen(bad, "wb");
    assert_non_null(fp);
    fputs("GGUF\x03\0\0\0 not really", fp);
    fclose(fp);
    snprintf(models, sizeof models, "%s", fx->dir);
    const char *args[] = {"--models", models, NULL};
    Term *t = start(fx, args, NULL, 120, 30);
    term_send_str(t, "o");
    assert_screen_text(t, "broken.gguf", WAIT);
    /* it is listed last, after the bundled assets */
    term_send_key(t, TERM_KEY_END);
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "broken.gguf:", WAIT); /* the error line names the file */
    assert_screen_text(t, "stories260K", WAIT);
    term_send_str(t, "2");
    assert_screen_text(t, "plan total 1,171,200 bytes", WAIT);
    quit(t);
}

/* Start-up errors are one line and an exit status, before the screen is taken. */
static void test_tui_startup_errors(void **state) {
    Fixture *fx = *state;
    ProcResult r = proc_quantlab(NULL, NULL, WAIT); /* stdin is not a terminal */
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "needs a terminal"));
    proc_result_free(&r);
    const char *args[] = {"/nonexistent/model.gguf", NULL};
    Term *t = term_fixture_spawn(fx, args, NULL, 100, 30, NULL);
    assert_non_null(t);
    assert_exit_status(t, 1, WAIT);
    assert_screen_text(t, "/nonexistent/model.gguf", WAIT);
    const char *bad_theme[] = {"--theme", "purple", NULL};
    t = term_fixture_spawn(fx, bad_theme, NULL, 100, 30, NULL);
    assert_non_null(t);
    assert_exit_status(t, 2, WAIT);
    assert_screen_text(t, "unknown theme 'purple'", WAIT);
}

/* Save the plan: a text file in the plan format; never over the model. */
static void test_tui_save_plan(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 120, 30);
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    for (int i = 0; i < 3; i++) term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER); /* all INT4 */
    assert_screen_text(t, "all INT4*", WAIT);
    char path[600];
    snprintf(path, sizeof path, "%s/mine.plan", fx->dir);
    assert_true(term_fixture_answer(t, "S", "Save the plan as", path, WAIT));
    assert_screen_text(t, "saved the plan", WAIT);
    assert_true(term_wait_text_gone(t, "all INT4*", WAIT)); /* no longer unsaved */
    char *text = proc_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "default=q4_0"));
    free(text);
    /* over the model: refused, the model unchanged */
    size_t before_len, after_len;
    char *before = proc_read_file(proc_data_path("assets/stories260K.gguf"), &before_len);
    assert_true(term_fixture_answer(t, "S", "Save the plan as", proc_data_path("assets/stories260K.gguf"), WAIT));
    assert_screen_text(t, "never writes over it", WAIT);
    char *after = proc_read_file(proc_data_path("assets/stories260K.gguf"), &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    quit(t);
}

/* Mouse: a click on a tab switches screens; --no-mouse ignores it. */
static void test_tui_mouse_tabs(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    int col, row;
    assert_true(term_find_text(t, "2 Layers", &col, &row));
    term_send_mouse(t, TERM_MOUSE_LEFT, col + 2, row, true);
    term_send_mouse(t, TERM_MOUSE_LEFT, col + 2, row, false);
    assert_screen_text(t, "plan total", WAIT);
    /* at 80 columns the Help screen shifts the tabs left (the name gives way
     * to its tab): a click still lands on the tab under the pointer */
    term_resize(t, 80, 24);
    term_send_str(t, "?");
    assert_screen_text(t, "Everywhere", WAIT);
    assert_true(term_wait_idle(t, 150, WAIT));
    assert_true(term_find_text(t, "5 Quality", &col, &row));
    term_send_mouse(t, TERM_MOUSE_LEFT, col + 2, row, true);
    term_send_mouse(t, TERM_MOUSE_LEFT, col + 2, row, false);
    assert_screen_text(t, "Sensitivity at", WAIT);
    quit(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_layer_to_int4_drops_size_by_hand_figure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_preset_menu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_too_small_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_no_color_and_ascii, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_quit_restores_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_help_from_key_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_readme_key_list_is_the_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_open_bad_file_keeps_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_startup_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_save_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_mouse_tabs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
