/* test_tui_compare.c — the Compare screen as a user meets it, in a pseudo-terminal:
 * FP32 and the all-INT4 plan continue the default prompt side by side, the
 * first difference is bracketed at the same place in both columns, the figures
 * under the columns give tokens/s and agreement, and the marker survives
 * NO_COLOR and LANG=C.
 *
 * Expected stories come from outside quantlab: llama2.c's own greedy output for
 * stories260K (tests/data/run_fp32_t0_n200_noprompt.txt) and the sampled story of
 * llama2.c's documentation (temperature 1, top-p 0.9, seed 133742:
 * tests/data/llama2c_doc_t1_p0.9_s133742.txt), both from BOS with no prompt.
 * The columns are read cell by cell and their wrapped lines joined with single
 * spaces, so the texts are compared with their newlines turned into spaces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/term.h"
#include "lib/term_fixture.h"

enum { WAIT = 15000 };     /* screens and keys */
enum { JOBS = 240000 };    /* measurements queued on a loaded machine, sanitizers on */

typedef TermFixture Fixture;

static int setup(void **state) {
    *state = term_fixture_new("cmp", "default=q4_0\n");
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    return term_fixture_free(*state);
}

static Term *start(Fixture *fx, const char *const *args, const char *const *env, int cols, int rows) {
    Term *t = term_fixture_spawn(fx, args, env, cols, rows, "stories260K");
    assert_non_null(t);
    return t;
}

/* ---------------------------------------------------------- the columns --- */

typedef struct Columns {
    int top, bottom;     /* text rows top .. bottom - 1 */
    int left_x, right_x, width;
} Columns;

/* Where the story columns are, from the headers and figures on screen. */
static Columns find_columns(Term *t) {
    Columns c;
    int col, row, fig_col, fig_row, plan_col, plan_row;
    assert_true(term_find_text(t, "FP32: the original", &col, &row));
    assert_true(term_find_text(t, "your plan:", &plan_col, &plan_row));
    assert_true(term_find_text(t, "agreement: FP32 is the reference", &fig_col, &fig_row));
    assert_int_equal(plan_row, row);
    c.top = row + 1;
    c.bottom = fig_row - 2; /* the figures: size, speed, agreement */
    c.left_x = col;
    c.right_x = plan_col;
    c.width = plan_col - 2 - col;
    assert_true(c.bottom - c.top >= 5 && c.width >= 30);
    return c;
}

/* The text of one column: its rows, trailing spaces trimmed, joined by one
 * space (empty rows skipped). */
static void column_text(Term *t, const Columns *c, int x, char *out, size_t size) {
    size_t n = 0;
    out[0] = '\0';
    for (int y = c->top; y < c->bottom; y++) {
        char row[1024];
        size_t len = 0;
        for (int i = 0; i < c->width; i++) {
            TermCell cell;
            term_cell(t, x + i, y, &cell);
            const char *s = cell.text[0] ? cell.text : " ";
            size_t l = strlen(s);
            if (len + l + 1 >= sizeof row) break;
            memcpy(row + len, s, l);
            len += l;
        }
        while (len > 0 && row[len - 1] == ' ') len--;
        row[len] = '\0';
        if (len == 0) continue;
        int w = snprintf(out + n, size - n, "%s%s", n ? " " : "", row);
        if (w < 0 || (size_t)w >= size - n) break;
        n += (size_t)w;
    }
}

/* A reference story as the columns show it: newlines as spaces, no final space. */
static char *reference(const char *relative) {
    char *text = proc_read_file(proc_data_path(relative), NULL);
    assert_non_null(text);
    for (char *p = text; *p; p++)
        if (*p == '\n') *p = ' ';
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == ' ') text[--n] = '\0';
    return text;
}

/* Every row of the screen joined, to count needles across the whole screen. */
static int count_on_screen(Term *t, const char *needle) {
    return term_find_text(t, needle, NULL, NULL);
}

/* ---------------------------------------------------------------- tests --- */

/* All INT4 against FP32 on the default prompt: the FP32 column is llama2.c's
 * greedy story continued from "Once upon a time"; the plan's differs; the first
 * difference is bracketed in both columns after the same text. */
static void test_tui_compare_int4_marks_first_difference(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    for (int i = 0; i < 3; i++) term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "all INT4*", WAIT);
    term_send_str(t, "4");
    assert_screen_text(t, "Prompt: Once upon a time", WAIT);
    assert_screen_text(t, "agreement: first", JOBS);
    assert_true(term_wait_idle(t, 200, WAIT));

    Columns c = find_columns(t);
    char left[4096], right[4096];
    column_text(t, &c, c.left_x, left, sizeof left);
    column_text(t, &c, c.right_x, right, sizeof right);
    const char *start_text = "Once upon a time, there was a little girl named Lily";
    if (strncmp(left, start_text, strlen(start_text)) != 0) {
        term_dump(t, stderr);
        fail_msg("FP32 column starts \"%.80s\"", left);
    }
    assert_string_not_equal(left, right);
    /* the marker: one "[...]" per column, after the same text */
    char *lb = strchr(left, '['), *rb = strchr(right, '[');
    assert_non_null(lb);
    assert_non_null(rb);
    assert_non_null(strchr(lb, ']'));
    assert_non_null(strchr(rb, ']'));
    assert_null(strchr(lb + 1, '['));
    assert_null(strchr(rb + 1, '['));
    assert_int_equal(lb - left, rb - right);
    assert_memory_equal(left, right, (size_t)(lb - left));
    char lw[64], rw[64];
    assert_int_equal(sscanf(lb, "[%63[^]]]", lw), 1);
    assert_int_equal(sscanf(rb, "[%63[^]]]", rw), 1);
    assert_string_not_equal(lw, rw); /* the two models chose different tokens there */
    /* without the marker, FP32's text is llama2.c's greedy story: the default
     * prompt is that story's own beginning, so greedy decoding goes on the same */
    char unmarked[4096];
    size_t o = 0;
    for (const char *p = left; *p && o + 1 < sizeof unmarked; p++)
        if (*p != '[' && *p != ']') unmarked[o++] = *p;
    unmarked[o] = '\0';
    char *ref = reference("tests/data/run_fp32_t0_n200_noprompt.txt");
    size_t cmp = strlen(unmarked) < strlen(ref) ? strlen(unmarked) : strlen(ref);
    assert_true(cmp > 300);
    if (strncmp(unmarked, ref, cmp) != 0) fail_msg("FP32 column:\n%s\nllama2.c:\n%s", unmarked, ref);
    free(ref);

    /* the figures: speed under both columns, agreement as a count and a share */
    assert_int_equal(count_on_screen(t, "tokens/s"), 2);
    assert_int_equal(count_on_screen(t, "bits/weight"), 2);
    assert_screen_text(t, "32.00 bits/weight", WAIT);
    int col, row;
    assert_true(term_find_text(t, "agreement: first", &col, &row));
    char *line = term_row_text(t, row);
    int agree = -1, written = -1, pct = -1;
    assert_int_equal(sscanf(strstr(line, "agreement: first"), "agreement: first %d of %d tokens (%d%%)", &agree, &written,
                            &pct),
                     3);
    free(line);
    assert_true(agree > 0 && agree < written);
    assert_int_equal(pct, (int)(100.0 * agree / written + 0.5));
    term_send_key(t, TERM_KEY_CTRL_C);
    assert_exit_status(t, 0, WAIT);
}

/* The sampled story of llama2.c's README: no prompt, temperature 1, top-p 0.9,
 * seed 133742 typed with s. */
static void test_tui_compare_sampled_seed_matches_llama2c(void **state) {
    Fixture *fx = *state;
    const char *args[] = {"--screen", "compare", NULL};
    Term *t = start(fx, args, NULL, 120, 40);
    assert_screen_text(t, "agreement: first", JOBS);
    assert_true(term_fixture_answer(t, "e", "both models continue this text", "", WAIT)); /* no prompt at all */
    assert_screen_text(t, "the model starts from nothing", WAIT);
    assert_true(term_fixture_answer(t, "s", "Seed for sampling", "133742", WAIT));
    assert_screen_text(t, "sampled, seed 133742", WAIT);
    /* the old stories are marked until the new ones come */
    assert_screen_text(t, "for an earlier plan or prompt", WAIT);
    assert_true(term_wait_text_gone(t, "for an earlier plan or prompt", JOBS));
    /* FP32 and an FP32 plan write the same: nothing to mark */
    assert_screen_text(t, "the plan wrote what FP32 wrote", WAIT);
    assert_true(term_wait_idle(t, 200, WAIT));
    Columns c = find_columns(t);
    char left[8192], right[8192];
    column_text(t, &c, c.left_x, left, sizeof left);
    column_text(t, &c, c.right_x, right, sizeof right);
    assert_string_equal(left, right);
    char *ref = reference("tests/data/llama2c_doc_t1_p0.9_s133742.txt");
    assert_true(strlen(left) > 300);
    if (strncmp(left, ref, strlen(left)) != 0) fail_msg("FP32 column:\n%s\nllama2.c's README:\n%s", left, ref);
    free(ref);
    assert_screen_text(t, "agreement: first", WAIT);
    assert_non_null(strstr(left, "Timmy"));
    /* t goes back to greedy, and n to the next starter prompt */
    term_send_str(t, "t");
    assert_screen_text(t, "greedy", WAIT);
    term_send_str(t, "n");
    assert_screen_text(t, "Prompt: Lily and Ben went to the park", WAIT);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

/* NO_COLOR: no colour anywhere, the marker still there (brackets, reverse). */
static void test_tui_compare_no_color_keeps_marker(void **state) {
    Fixture *fx = *state;
    const char *args[] = {"--plan", fx->plan, "--screen", "compare", NULL};
    const char *env[] = {"NO_COLOR=1", NULL};
    Term *t = start(fx, args, env, 100, 30);
    assert_screen_text(t, "agreement: first", JOBS);
    assert_true(term_wait_idle(t, 200, WAIT));
    if (term_screen_has_color(t)) {
        term_dump(t, stderr);
        fail_msg("colour on the Compare screen with NO_COLOR");
    }
    Columns c = find_columns(t);
    char left[4096], right[4096];
    column_text(t, &c, c.left_x, left, sizeof left);
    column_text(t, &c, c.right_x, right, sizeof right);
    assert_non_null(strchr(left, '['));
    assert_non_null(strchr(right, '['));
    /* the bracket is drawn in reverse video: seen without colour too */
    int col, row;
    assert_true(term_find_text(t, "[", &col, &row));
    TermCell cell;
    term_cell(t, col, row, &cell);
    assert_true(cell.attrs & TERM_ATTR_REVERSE);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

/* LANG=C: only ASCII bytes, box lines in ASCII, the marker as brackets. */
static void test_tui_compare_lang_c_is_ascii(void **state) {
    Fixture *fx = *state;
    const char *args[] = {"--plan", fx->plan, "--screen", "compare", NULL};
    const char *env[] = {"LANG=C", "LC_ALL=C", NULL};
    Term *t = start(fx, args, env, 80, 24);
    assert_screen_text(t, "agreement: first", JOBS);
    assert_true(term_wait_idle(t, 200, WAIT));
    assert_false(term_output_has_non_ascii(t));
    assert_screen_text(t, "[x] first difference", WAIT);
    Columns c = find_columns(t);
    assert_int_equal(c.width, 38); /* 80 columns: two of 38 */
    char left[4096];
    column_text(t, &c, c.left_x, left, sizeof left);
    assert_non_null(strchr(left, '['));
    assert_int_equal(count_on_screen(t, "tokens/s"), 2);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_compare_int4_marks_first_difference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_compare_sampled_seed_matches_llama2c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_compare_no_color_keeps_marker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_compare_lang_c_is_ascii, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
