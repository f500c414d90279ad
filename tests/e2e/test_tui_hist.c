/* test_tui_hist.c — the Histogram screen driven as a learner would drive it: the
 * real binary in a pseudo-terminal (tests/lib/term.h).
 *
 * What the screen must show is checked against numbers computed here, outside
 * the program: the bytes of an inspected Q4_0 block come from quantizing the
 * tensor's floats (read from the GGUF file with libquantlab) with
 * quant_row_q4_0_ref, ggml's reference arithmetic; the saved PNGs are decoded
 * with libpng and their plot area (chart.h: 1072x512 at (152, 80) on a 1280x720
 * slide) must hold the series colours.
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
#include "model/model.h"
#include "quant/types.h"

enum { WAIT_MS = 15000 }; /* first frames, quantizing, writing a PNG: well under a second */

/* ------------------------------------------------------------ fixture --- */

typedef TermFixture Fixture;

static int setup(void **state) {
    *state = term_fixture_new("hist", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    return term_fixture_free(*state);
}

/* ------------------------------------------------- expected bytes --- */

/* The 18 bytes of block `block` of `tensor` in Q4_0, by ggml's reference
 * quantizer on the file's floats, as the inspector prints them: the FP16 scale
 * (2 bytes), two spaces, the 16 bytes of nibbles. */
static void expected_q4_0_hex(const char *tensor, int64_t block, char *hex, size_t size, char *scale, size_t ssize) {
    Model *m = NULL;
    Error err;
    assert_int_equal(model_open(&m, proc_data_path("assets/stories260K.gguf"), NULL, &err), ST_OK);
    int i = model_find_tensor(m, tensor);
    assert_true(i >= 0);
    const ModelTensor *t = &m->tensors[i];
    assert_int_equal(t->cols % 32, 0);
    BlockQ4_0 q;
    quant_row_q4_0_ref(t->f32 + block * 32, &q, 32);
    uint8_t bytes[18];
    memcpy(bytes, &q, sizeof bytes);
    int n = snprintf(hex, size, "%02X %02X ", bytes[0], bytes[1]);
    for (int k = 2; k < 18; k++) n += snprintf(hex + n, size - (size_t)n, " %02X", bytes[k]);
    snprintf(scale, ssize, "FP16 %02X %02X", bytes[0], bytes[1]);
    model_close(m);
}

/* ------------------------------------------------------------ helpers --- */

static void wait_for(Term *t, const char *text) {
    assert_screen_text(t, text, WAIT_MS);
}

/* Answers the PNG prompt with an absolute path and waits for "wrote". */
static void save_png(Term *t, const char *path) {
    assert_true(term_fixture_answer(t, "P", "Save the chart as PNG:", path, WAIT_MS));
    char want[300];
    snprintf(want, sizeof want, "wrote %s", path);
    wait_for(t, want);
}

static void quit_unsaved(Term *t) {
    term_send_str(t, "q");
    wait_for(t, "Quit anyway?");
    term_send_str(t, "y");
    assert_exit_status(t, 0, WAIT_MS);
    assert_false(term_modes(t).altscreen);
}

/* -------------------------------------------------------------- tests --- */

/* Layers: blk.0.attn_q to INT4; Histogram: the grid and the error figures; the
 * inspector's bytes equal ggml's reference quantizer's; P saves both charts. */
static void test_tui_hist_int4_grid_inspector_png(void **state) {
    Fixture *fx = *state;
    Term *t = term_fixture_spawn(fx, NULL, NULL, 100, 30, "stories260K");
    assert_non_null(t);
    term_send_str(t, "2");
    wait_for(t, "shape");
    /* rows: token_embd, output_norm, output, blk.0, blk.0's attn_q */
    for (int k = 0; k < 4; k++) term_send_key(t, TERM_KEY_DOWN);
    wait_for(t, "blk.0.attn_q.weight: 4096 weights");
    term_send_str(t, " ");
    wait_for(t, "blk.0.attn_q.weight now FP16");
    term_send_str(t, " ");
    wait_for(t, "blk.0.attn_q.weight now INT8 (Q8_0)");
    term_send_str(t, " ");
    wait_for(t, "blk.0.attn_q.weight now INT4 (Q4_0)");

    term_send_str(t, "3");
    wait_for(t, "RMSE");
    wait_for(t, "SQNR");
    wait_for(t, "max|err|");
    wait_for(t, "16 levels of block 0 (row 0, values 0-31)");
    char *header = term_row_text(t, 2);
    assert_non_null(strstr(header, "blk.0.attn_q.weight"));
    assert_non_null(strstr(header, "INT4 (Q4_0)"));
    free(header);
    /* the grid: a tick on the axis row at each level (16 levels, at least a few columns) */
    assert_true(term_find_text(t, "\u2534", NULL, NULL) >= 4);
    wait_for(t, "4.50 bits/weight");

    /* the inspector: block 0, then block 1 */
    char hex[80], scale[32];
    term_send_str(t, "i");
    wait_for(t, "Block 0 of 128: row 0, values 0-31");
    expected_q4_0_hex("blk.0.attn_q.weight", 0, hex, sizeof hex, scale, sizeof scale);
    wait_for(t, hex);
    wait_for(t, scale);
    wait_for(t, "value = (code - 8) x d");
    term_send_key(t, TERM_KEY_RIGHT);
    wait_for(t, "Block 1 of 128: row 0, values 32-63");
    expected_q4_0_hex("blk.0.attn_q.weight", 1, hex, sizeof hex, scale, sizeof scale);
    wait_for(t, hex);
    term_send_key(t, TERM_KEY_ESC);
    assert_true(term_wait_text_gone(t, "Block 1 of 128", WAIT_MS));
    wait_for(t, "RMSE");

    /* P: the weights chart (blue bars), then with Down the error chart (vermillion) */
    save_png(t, term_fixture_path(fx, "weights.png"));
    image_expect_plot_colour(term_fixture_path(fx, "weights.png"), 0x00, 0x72, 0xB2, 2000);
    term_send_key(t, TERM_KEY_DOWN);
    save_png(t, term_fixture_path(fx, "errors.png"));
    image_expect_plot_colour(term_fixture_path(fx, "errors.png"), 0xD5, 0x5E, 0x00, 2000);
    quit_unsaved(t);
}

/* LANG=C and NO_COLOR at 80x24: the whole screen and the inspector in plain
 * ASCII without colour, and everything fits (the function-key bar is intact). */
static void test_tui_hist_ascii_80x24(void **state) {
    Fixture *fx = *state;
    const char *env[] = {"LANG=C", "NO_COLOR=1", NULL};
    Term *t = term_fixture_spawn(fx, NULL, env, 80, 24, "stories260K");
    assert_non_null(t);
    term_send_str(t, "3");
    wait_for(t, "FP32 keeps every weight exactly.");
    for (int k = 0; k < 3; k++) term_send_str(t, " ");
    wait_for(t, "token_embd.weight now INT4 (Q4_0)");
    wait_for(t, "RMSE");
    wait_for(t, "16 levels of block 0 (row 0, values 0-31)");
    wait_for(t, "i inspect");
    term_send_str(t, "i");
    wait_for(t, "Block 0 of 1,024: row 0, values 0-31");
    char hex[80], scale[32];
    expected_q4_0_hex("token_embd.weight", 0, hex, sizeof hex, scale, sizeof scale);
    wait_for(t, hex);
    wait_for(t, "err");
    term_send_key(t, TERM_KEY_DOWN); /* the next row: block 2 of 2 a row */
    wait_for(t, "Block 2 of 1,024: row 1, values 0-31");
    expected_q4_0_hex("token_embd.weight", 2, hex, sizeof hex, scale, sizeof scale);
    wait_for(t, hex);
    term_wait_idle(t, 100, WAIT_MS);
    char *fbar = term_row_text(t, 23);
    assert_true(strncmp(fbar, "F1Help", 6) == 0);
    free(fbar);
    term_send_key(t, TERM_KEY_ESC);
    wait_for(t, "i inspect");
    term_send_str(t, "L");
    wait_for(t, "counts: logarithmic");
    term_send_str(t, "+");
    wait_for(t, "zoom 2x");
    term_wait_idle(t, 100, WAIT_MS);
    assert_false(term_output_has_non_ascii(t));
    assert_false(term_screen_has_color(t));
    quit_unsaved(t);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_hist_int4_grid_inspector_png, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_hist_ascii_80x24, setup, teardown),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
