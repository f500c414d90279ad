/* test_tui_quality.c — the Quality screen as a user meets it, in a
 * pseudo-terminal: the automatic measurement of the plan against FP32, the
 * sensitivity scan as bars, the frontier of the plans measured, and the PNG
 * pictures of both, decoded again with libpng (not with quantlab's code).
 *
 * Expected figures come from outside quantlab: stories260K's FP32 perplexity on
 * the bundled text is 4.1844, what llama2.c's own forward() gives (README,
 * tests/unit/test_eval.c); llama.cpp's reference README for this model observes
 * that the tied output matrix is the tensor INT4 hurts most. Picture geometry
 * follows plot/chart.h's documented plot area.
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

#include "lib/png_read.h"
#include "lib/proc.h"
#include "lib/term.h"
#include "lib/term_fixture.h"

enum { WAIT = 15000 };     /* screens and keys */
enum { JOBS = 300000 };    /* a measurement queued behind others, sanitizers on, a loaded machine */
enum { SCAN = 1200000 };   /* a per-tensor scan: 37 measurements (minutes under sanitizers) */

typedef TermFixture Fixture;

static int setup(void **state) {
    *state = term_fixture_new("qual", "default=q4_0\n");
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

/* ------------------------------------------------------------ pictures --- */

/* Reads a picture the explorer wrote, failing the test with libpng's reason. */
static void read_png(const char *path, Image *img) {
    char why[512];
    if (!image_read_png(img, path, why, sizeof why)) fail_msg("%s", why);
}

/* Pixels of one colour on row y. */
static int count_row(const Image *img, int y, uint8_t r, uint8_t g, uint8_t b) {
    return image_count_near(img, 0, y, img->w, y + 1, r, g, b, 0);
}

/* Pixels that are not the white background inside a rectangle. */
static int count_ink(const Image *img, int x0, int y0, int x1, int y1) {
    return (x1 - x0) * (y1 - y0) - image_count_near(img, x0, y0, x1, y1, 0xFF, 0xFF, 0xFF, 0);
}

/* Types a file name into the "Save the chart as PNG" question. */
static void save_png(Term *t, const char *path) {
    assert_true(term_fixture_answer(t, "P", "Save the chart as PNG", path, WAIT));
}

/* ---------------------------------------------------------------- tests --- */

/* Model screen measures FP32, then all INT4; the Quality screen shows the
 * figures and both plans on the frontier; n scans every tensor at INT4 and
 * output comes first; P draws the bars and the frontier. */
static void test_tui_quality_measures_scans_and_draws(void **state) {
    Fixture *fx = *state;
    Term *t = start(fx, NULL, NULL, 100, 30);
    assert_screen_text(t, "same top token 100.0%", JOBS); /* FP32 against itself, measured at start */
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    for (int i = 0; i < 3; i++) term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "all INT4*", WAIT);
    term_send_str(t, "5");
    assert_screen_text(t, "Your plan (all INT4) against FP32", WAIT);
    assert_screen_text(t, "perplexity  FP32 4.184 -> plan", JOBS);
    /* The screen may first show FP32's own figures marked as stale, then the
     * measurement of all INT4: wait until the plan's perplexity is INT4's (above
     * FP32's: INT4 predicts worse) and nothing is marked stale, not for one frame. */
    double ppl_plan = 0;
    char *line = NULL;
    int col, row;
    for (int tries = 0; tries < JOBS / 100; tries++) {
        term_wait_idle(t, 100, WAIT);
        free(line);
        line = NULL;
        if (!term_find_text(t, "perplexity  FP32 4.184 -> plan", &col, &row)) continue;
        line = term_row_text(t, row);
        if (sscanf(strstr(line, "-> plan"), "-> plan %lf", &ppl_plan) == 1 && ppl_plan > 4.184 &&
            !term_find_text(t, "for an earlier plan", NULL, NULL))
            break;
    }
    if (!(ppl_plan > 4.184)) { /* INT4 predicts worse */
        term_dump(t, stderr);
        fail_msg("plan perplexity %g in \"%s\"", ppl_plan, line ? line : "");
    }
    assert_screen_text(t, "KL divergence (nats)  mean", WAIT);
    assert_screen_text(t, "same top token", WAIT);
    free(line);
    assert_false(term_find_text(t, "same top token 100.0%", NULL, NULL));
    /* the frontier: this plan '@' labelled INT4, FP32 on the frontier '*' */
    assert_screen_text(t, "@ INT4", WAIT);
    assert_screen_text(t, "FP32 *", WAIT);
    assert_screen_text(t, "0 │", WAIT); /* FP32's KL of 0 has its own row */

    /* the scan: output first */
    term_send_str(t, "n");
    assert_screen_text(t, "of 37", SCAN); /* 37 matrices: "1-N of 37" */
    assert_true(term_wait_idle(t, 200, WAIT));
    assert_true(term_find_text(t, "only this one quantized", &col, &row));
    line = term_row_text(t, row + 1);
    if (strncmp(line, " output ", 8) != 0 || !strstr(line, "\xe2\x96\x88")) { /* a full block */
        term_dump(t, stderr);
        fail_msg("first bar row is \"%s\"", line);
    }
    free(line);
    assert_screen_text(t, "blk.4.ffn_gate", WAIT);
    assert_screen_text(t, "token_embd", WAIT);

    /* the bars as a picture: 37 bars of 34 pixels, so 208 + 37 x 34 rows */
    const char *bars = term_fixture_path(fx, "bars.png"), *frontier = term_fixture_path(fx, "frontier.png");
    save_png(t, bars);
    assert_screen_text(t, "Which chart?", WAIT);
    term_send_key(t, TERM_KEY_ENTER); /* the sensitivity bars */
    assert_screen_text(t, "wrote ", WAIT);
    Image img;
    read_png(bars, &img);
    assert_int_equal(img.w, 1280);
    assert_int_equal(img.h, 208 + 37 * 34);
    /* plot area (chart.h): top 32s + 16 = 80, bottom margin 64s = 128 at s = 2;
     * item i's row spans 80 + i*h/37 .. 80 + (i+1)*h/37 with h = 1258 */
    int h = img.h - 80 - 128;
    int first = 80 + h / 37 / 2, last = 80 + (int)(36.5 * h / 37);
    int blue_first = count_row(&img, first, 0x00, 0x72, 0xB2);
    int blue_last = count_row(&img, last, 0x00, 0x72, 0xB2);
    /* output's bar reaches most of the way across; the last is a sliver */
    assert_true(blue_first > 500);
    assert_true(blue_last > 0 && blue_last * 10 < blue_first);
    image_free(&img);

    /* the frontier as a picture: a 1280x720 slide, marks in the plot area,
     * the current plan as the vermillion diamond */
    save_png(t, frontier);
    assert_screen_text(t, "Which chart?", WAIT);
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "frontier.png", WAIT);
    read_png(frontier, &img);
    assert_int_equal(img.w, 1280);
    assert_int_equal(img.h, 720);
    assert_true(count_ink(&img, PLOT_AREA_X0, PLOT_AREA_Y0, PLOT_AREA_X1, PLOT_AREA_Y1) > 2000);
    int vermillion = image_count_near(&img, PLOT_AREA_X0, PLOT_AREA_Y0, PLOT_AREA_X1, PLOT_AREA_Y1, 0xD5, 0x5E, 0x00, 0);
    assert_true(vermillion > 50);
    image_free(&img);
    term_send_key(t, TERM_KEY_CTRL_C);
    assert_exit_status(t, 0, WAIT);
}

/* LANG=C and NO_COLOR at 80x24: ASCII only, no colour; t picks the scan
 * format, b scans whole blocks, and the bars come with their names. */
static void test_tui_quality_ascii_blocks_at_int8(void **state) {
    Fixture *fx = *state;
    const char *args[] = {"--plan", fx->plan, "--screen", "quality", NULL};
    const char *env[] = {"LANG=C", "LC_ALL=C", "NO_COLOR=1", NULL};
    Term *t = start(fx, args, env, 80, 24);
    assert_screen_text(t, "perplexity  FP32 4.184 -> plan", JOBS);
    assert_screen_text(t, "@ int4.plan", WAIT);
    term_send_str(t, "t");
    assert_screen_text(t, "Format for the sensitivity scan", WAIT);
    term_send_key(t, TERM_KEY_HOME);
    term_send_key(t, TERM_KEY_ENTER); /* INT8 (Q8_0), the first */
    assert_screen_text(t, "scan format: INT8 (Q8_0)", WAIT);
    term_send_str(t, "b");
    assert_screen_text(t, "Sensitivity at INT8 (Q8_0), per block", WAIT);
    term_send_str(t, "n");
    /* names pass through the progress line while it runs: wait for the bars' heading */
    assert_screen_text(t, "only this one quantized", SCAN);
    assert_screen_text(t, "token_embd ", WAIT);
    assert_screen_text(t, "blk.4 ", WAIT);
    assert_screen_text(t, "output ", WAIT);
    assert_true(term_wait_idle(t, 200, WAIT));
    if (term_screen_has_color(t)) {
        term_dump(t, stderr);
        fail_msg("colour on the Quality screen with NO_COLOR");
    }
    assert_false(term_output_has_non_ascii(t));
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

/* Nothing measured, nothing scanned: P says so rather than drawing nothing. */
static void test_tui_quality_png_needs_figures(void **state) {
    Fixture *fx = *state;
    const char *args[] = {"--screen", "quality", NULL};
    Term *t = start(fx, args, NULL, 100, 30);
    /* a model over 5M weights would wait for e; the bundled one measures at
     * once, so stop it with Esc before it can finish */
    term_send_key(t, TERM_KEY_ESC);
    assert_screen_text(t, "stopped", WAIT);
    const char *path = term_fixture_path(fx, "none.png");
    save_png(t, path);
    assert_screen_text(t, "nothing to draw yet", WAIT);
    assert_int_equal(access(path, F_OK), -1);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_quality_measures_scans_and_draws, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_quality_ascii_blocks_at_int8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_quality_png_needs_figures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
