/* test_plot_cli.c — `quantlab plot`, run as a user would: every kind writes a
 * PNG that libpng (not our code) decodes to a 1280x720 picture whose plot area
 * (chart.h: 1072x512 at (152, 80); the bar chart's starts further right but
 * spans the same rows) holds the series colours; usage errors exit 2 with one
 * line; the model is never written over.
 *
 * The measured kinds run on a copy of the bundled model with --max-tokens 64, so
 * each takes about a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/png_read.h"
#include "lib/proc.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    return proc_tmpdir_new(tmpdir, sizeof tmpdir, "plot-cli");
}

static int teardown(void **state) {
    (void)state;
    return proc_tmpdir_remove(tmpdir);
}

static const char *tmp(const char *name) {
    return proc_path(tmpdir, name);
}

/* quantlab ARGS... (NULL-terminated) */
#define run(...) proc_quantlab((const char *const[]){__VA_ARGS__}, NULL, 300000)

static void expect_ok(ProcResult r) {
    if (r.status != 0) fail_msg("exit %d, stderr '%s'", r.status, r.err);
    assert_int_equal(r.err_len, 0); /* not a terminal: no progress line */
    proc_result_free(&r);
}

/* A copy of the bundled model in the temporary directory. */
static const char *model_copy(void) {
    static char path[256];
    size_t len;
    char *data = proc_read_file(proc_data_path("assets/stories260K.gguf"), &len);
    assert_non_null(data);
    snprintf(path, sizeof path, "%s/model.gguf", tmpdir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    free(data);
    return path;
}

/* -------------------------------------------------------------- tests --- */

static void test_plot_cli_hist_and_error(void **state) {
    (void)state;
    const char *m = model_copy();
    expect_ok(run("plot", "hist", "-m", m, "-o", tmp("hist.png"), NULL));
    image_expect_plot_colour(tmp("hist.png"), 0x00, 0x72, 0xB2, 3000); /* the weights' bars */
    image_expect_plot_colour(tmp("hist.png"), 0xD5, 0x5E, 0x00, 500);  /* the rounded values' outline */
    expect_ok(run("plot", "error", "-m", m, "--tensor", "blk.1.ffn_down.weight", "--type", "int3-b32-asym", "--log",
                  "-o", tmp("error.png"), NULL));
    image_expect_plot_colour(tmp("error.png"), 0xD5, 0x5E, 0x00, 3000);
    proc_expect_error(run("plot", "hist", "-m", m, "--preset", "int8", "--type", "q8_0", "-o", tmp("x.png"), NULL), 2,
                 "only one of");
}

static void test_plot_cli_sensitivity_and_frontier(void **state) {
    (void)state;
    const char *m = model_copy();
    expect_ok(run("plot", "sensitivity", "-m", m, "--max-tokens", "64", "--threads", "2", "-o", tmp("sens.png"), NULL));
    image_expect_plot_colour(tmp("sens.png"), 0x00, 0x72, 0xB2, 3000); /* a bar per tensor */
    expect_ok(run("plot", "frontier", "-m", m, "--type", "int3-b32-asym", "--max-tokens", "64", "--threads", "2", "-o",
                  tmp("frontier.png"), NULL));
    image_expect_plot_colour(tmp("frontier.png"), 0x00, 0x72, 0xB2, 300); /* the presets' markers */
    image_expect_plot_colour(tmp("frontier.png"), 0xD5, 0x5E, 0x00, 100); /* the highlighted plan */
}

static void test_plot_cli_refusals(void **state) {
    (void)state;
    const char *m = model_copy();
    size_t before_len, after_len;
    char *before = proc_read_file(m, &before_len);
    proc_expect_error(run("plot", "bogus", "-m", m, "-o", tmp("b.png"), NULL), 2, "unknown kind 'bogus'");
    proc_expect_error(run("plot", "-m", m, "-o", tmp("b.png"), NULL), 2, "hist, error, sensitivity or frontier");
    proc_expect_error(run("plot", "hist", "-m", m, NULL), 2, "-o FILE.png");
    proc_expect_error(run("plot", "hist", "-m", m, "-o", m, NULL), 2, "never writes over it");
    proc_expect_error(run("plot", "hist", "-m", m, "-o", m, "--force", NULL), 2, "never writes over it");
    proc_expect_error(run("plot", "hist", "-m", m, "--tensor", "nope", "-o", tmp("b.png"), NULL), 2,
                      "no tensor named 'nope'");
    proc_expect_error(run("plot", "error", "-m", m, "--type", "f32", "-o", tmp("b.png"), NULL), 2, "no rounding error");
    proc_expect_error(run("plot", "sensitivity", "-m", m, "--preset", "int4", "-o", tmp("b.png"), NULL), 2, "--type");
    struct stat st;
    assert_int_not_equal(stat(tmp("b.png"), &st), 0); /* nothing written by a refusal */
    char *after = proc_read_file(m, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    free(before);
    free(after);
    /* an existing picture stays without --force, and is replaced with it */
    expect_ok(run("plot", "hist", "-m", m, "-o", tmp("h.png"), NULL));
    proc_expect_error(run("plot", "hist", "-m", m, "-o", tmp("h.png"), NULL), 2, "already exists");
    expect_ok(run("plot", "hist", "-m", m, "--type", "int2-row-sym", "-o", tmp("h.png"), "--force", NULL));
    image_expect_plot_colour(tmp("h.png"), 0x00, 0x72, 0xB2, 3000);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_cli_hist_and_error),
        cmocka_unit_test(test_plot_cli_sensitivity_and_frontier),
        cmocka_unit_test(test_plot_cli_refusals),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, setup, teardown);
}
