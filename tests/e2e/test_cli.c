/* test_cli.c — the batch commands, run as a user would run them: the real binary,
 * its exit codes (0 ok, 1 runtime error, 2 usage error), its stdout, and one-line
 * errors on stderr that name the file and the problem. */
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
#include "model/plan.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    return proc_tmpdir_new(tmpdir, sizeof tmpdir, "cli");
}

static int teardown(void **state) {
    (void)state;
    return proc_tmpdir_remove(tmpdir);
}

static const char *tmp(const char *name) {
    return proc_path(tmpdir, name);
}

/* quantlab ARGS... (NULL-terminated) */
#define run(...) proc_quantlab((const char *const[]){__VA_ARGS__}, NULL, 60000)

static void write_file(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len) assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void test_cli_version_and_help(void **state) {
    (void)state;
    ProcResult r = run("--version", NULL);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "quantlab ", 9) == 0);
    proc_result_free(&r);
    r = run("--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "generate"));
    assert_non_null(strstr(r.out, "convert"));
    proc_result_free(&r);
    r = run("generate", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--temp"));
    proc_result_free(&r);
}

/* `quantlab generate --temp 0 -n 200` prints exactly what llama2.c's
 * `run stories260K.bin -z tok512.bin -t 0.0 -n 200` printed. */
static void test_cli_generate_matches_llama2c_run(void **state) {
    (void)state;
    size_t len;
    char *want = proc_read_file(proc_data_path("tests/data/run_fp32_t0_n200_noprompt.txt"), &len);
    assert_non_null(want);
    ProcResult r = run("generate", "--temp", "0", "-n", "200", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.out_len, len);
    assert_memory_equal(r.out, want, len);
    assert_int_equal(r.err_len, 0); /* not a terminal: no speed line */
    proc_result_free(&r);
    /* from the legacy checkpoint directly, on two threads */
    r = run("generate", "-m", proc_data_path("tests/data/stories260K.bin"), "--tokenizer",
            proc_data_path("tests/data/tok512.bin"), "--temp", "0", "-n", "200", "--threads", "2", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.out_len, len);
    assert_memory_equal(r.out, want, len);
    proc_result_free(&r);
    /* --stats reports a measured speed on stderr */
    r = run("generate", "-n", "20", "--stats", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "tokens/s measured"));
    proc_result_free(&r);
    free(want);
}

static void test_cli_usage_errors_exit_2(void **state) {
    (void)state;
    proc_expect_error(run("generate", "--bogus", NULL), 2, "unknown option '--bogus'");
    proc_expect_error(run("generate", "-n", "abc", NULL), 2, "--tokens");
    proc_expect_error(run("generate", "-n", NULL), 2, "needs a value");
    proc_expect_error(run("generate", "--temp", "-1", NULL), 2, "--temp");
    proc_expect_error(run("generate", "--top-p", "1.5", NULL), 2, "--top-p");
    proc_expect_error(run("generate", "--threads", "0", NULL), 2, "--threads");
    proc_expect_error(run("convert", proc_data_path("tests/data/stories260K.bin"), NULL), 2, "-o");
    proc_expect_error(run("frobnicate", NULL), 2, "unknown command 'frobnicate'");
    /* every preset the plans have is named by --help and by the error (the
     * help text is written by hand, so it could fall behind) */
    ProcResult help = run("generate", "--help", NULL);
    ProcResult bad = run("generate", "--preset", "nope", NULL);
    assert_int_equal(help.status, 0);
    assert_int_equal(bad.status, 2);
    for (int k = 0; k < PRESET_COUNT; k++) {
        const char *name = plan_preset_name((PlanPreset)k);
        if (!strstr(help.out, name) || !strstr(bad.err, name)) fail_msg("preset %s missing from --help or the error", name);
    }
    proc_result_free(&help);
    proc_result_free(&bad);
}

static void test_cli_bad_files_exit_1_with_one_line(void **state) {
    (void)state;
    proc_expect_error(run("info", "/nonexistent/model.gguf", NULL), 1, "/nonexistent/model.gguf");
    proc_expect_error(run("info", tmpdir, NULL), 1, "directory");
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H'};
    write_file(tmp("photo.gguf"), png, sizeof png);
    proc_expect_error(run("info", tmp("photo.gguf"), NULL), 1, "photo.gguf");
    write_file(tmp("empty.gguf"), "", 0);
    proc_expect_error(run("generate", "-m", tmp("empty.gguf"), NULL), 1, "empty file");
    size_t len;
    char *gguf = proc_read_file(proc_data_path("assets/stories260K.gguf"), &len);
    write_file(tmp("half.gguf"), gguf, len / 2);
    proc_expect_error(run("generate", "-m", tmp("half.gguf"), NULL), 1, "half.gguf");
    gguf[0] = 'X';
    write_file(tmp("magic.gguf"), gguf, len);
    proc_expect_error(run("info", tmp("magic.gguf"), NULL), 1, "magic.gguf");
    free(gguf);
}

static void test_cli_info_lists_tensors_and_totals(void **state) {
    (void)state;
    ProcResult r = run("info", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "GGUF v3"));
    assert_non_null(strstr(r.out, "blk.4.ffn_down.weight"));
    assert_non_null(strstr(r.out, "172 x 64"));
    /* 292,800 values at 4 bytes = 1,171,200 bytes (reference README's F32 row) */
    assert_non_null(strstr(r.out, "292,800"));
    assert_non_null(strstr(r.out, "1,171,200"));
    proc_result_free(&r);
    /* a file it cannot run is still listed, with the reason */
    r = run("info", proc_data_path("tests/data/stories260K-q8_0.gguf"), "--kv", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "q8_0"));
    assert_non_null(strstr(r.out, "general.file_type"));
    proc_result_free(&r);
}

/* convert writes the bundled model byte for byte, refuses to write over its input
 * or an existing file, and leaves them untouched. */
static void test_cli_convert_never_overwrites(void **state) {
    (void)state;
    size_t want_len, got_len, in_len, in_len2;
    char *want = proc_read_file(proc_data_path("assets/stories260K.gguf"), &want_len);
    const char *bin = proc_data_path("tests/data/stories260K.bin");
    const char *tok = proc_data_path("tests/data/tok512.bin");
    char *in_before = proc_read_file(bin, &in_len);

    /* convert names the model after the file, so copy it to stories260K.bin first */
    write_file(tmp("stories260K.bin"), in_before, in_len);
    ProcResult r = run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tmp("out.gguf"), NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    char *got = proc_read_file(tmp("out.gguf"), &got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);

    proc_expect_error(run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tmp("out.gguf"), NULL), 2,
                 "already exists");
    proc_expect_error(run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tmp("stories260K.bin"), NULL),
                 2, "input model");
    proc_expect_error(run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tok, NULL), 2, "tok512.bin");
    char *in_after = proc_read_file(tmp("stories260K.bin"), &in_len2);
    assert_int_equal(in_len2, in_len);
    assert_memory_equal(in_after, in_before, in_len);
    free(in_after);
    r = run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tmp("out.gguf"), "--force", NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    /* a directory that does not exist: runtime error, nothing written */
    proc_expect_error(run("convert", tmp("stories260K.bin"), "--tokenizer", tok, "-o", tmp("no/such/dir.gguf"), NULL),
                 1, "dir.gguf");
    free(in_before);
    free(want);
}

/* Nor, even with --force, over any other file a command reads: a plan, a text. */
static void test_cli_outputs_never_overwrite_inputs(void **state) {
    (void)state;
    static const char plan_text[] = "default=q4_0\n";
    write_file(tmp("in.plan"), plan_text, sizeof plan_text - 1);
    proc_expect_error(run("plan", "--plan", tmp("in.plan"), "-o", tmp("in.plan"), "--force", NULL), 2,
                      "--plan file it reads");
    proc_expect_error(run("plot", "hist", "--plan", tmp("in.plan"), "-o", tmp("in.plan"), "--force", NULL), 2,
                      "--plan file it reads");
    proc_expect_error(run("plot", "sensitivity", "--text", tmp("in.plan"), "-o", tmp("in.plan"), "--force", NULL), 2,
                      "--text file it reads");
    size_t len;
    char *after = proc_read_file(tmp("in.plan"), &len);
    assert_int_equal(len, sizeof plan_text - 1);
    assert_memory_equal(after, plan_text, len);
    free(after);
}


/* quantize → a GGUF that reads back and tells the same story as llama.cpp's Q4_0
 * file (reference greedy-q4_0 text: "...outside in the sun. One day, she found a
 * small box of paper on the ground..."); it lists the tensors it had to keep in
 * F16; stats and plan describe the same plan. */
static void test_cli_quantize_stats_plan(void **state) {
    (void)state;
    ProcResult r = run("quantize", "--type", "int4", "-o", tmp("q4.gguf"), NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(proc_count_lines(r.out), 6); /* 5 ffn_down notes + the summary */
    assert_non_null(strstr(r.out, "blk.4.ffn_down.weight: written as f16"));
    proc_result_free(&r);
    r = run("generate", "-m", tmp("q4.gguf"), "-p", "Once upon a time", "-n", "60", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "outside in the sun. One day, she found a small box of paper on the ground."));
    proc_result_free(&r);
    r = run("info", tmp("q4.gguf"), NULL);
    assert_non_null(strstr(r.out, "q4_0"));
    proc_result_free(&r);
    proc_expect_error(run("quantize", "--type", "q9_0", "-o", tmp("x.gguf"), NULL), 2, "unknown format 'q9_0'");
    proc_expect_error(run("quantize", "-o", tmp("x.gguf"), NULL), 2, "--type");
    proc_expect_error(run("quantize", "--type", "int4", "--preset", "int8", "-o", tmp("x.gguf"), NULL), 2, "only one");
    proc_expect_error(run("quantize", "--type", "int4", "-o", proc_data_path("assets/stories260K.gguf"), NULL), 2,
                 "input model");

    /* plan: a preset written to a file, then used by stats */
    r = run("plan", "--preset", "int4-keep-edges", "-o", tmp("edges.plan"), NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    char *text = proc_read_file(tmp("edges.plan"), NULL);
    assert_non_null(strstr(text, "default=q4_0"));
    assert_non_null(strstr(text, "=q8_0"));
    free(text);
    r = run("stats", "--plan", tmp("edges.plan"), NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "7-billion-weight model"));
    proc_result_free(&r);
    write_file(tmp("bad.plan"), "default=q4_0\nattn_v=q9_0\n", 25);
    proc_expect_error(run("stats", "--plan", tmp("bad.plan"), NULL), 2, "bad.plan:2: unknown format");
    write_file(tmp("bin.plan"), "\x7f" "ELF\0\0\0", 7);
    proc_expect_error(run("stats", "--plan", tmp("bin.plan"), NULL), 1, "bin.plan");
    proc_expect_error(run("stats", "--hist", "no.such.tensor", NULL), 2, "no.such.tensor");
}


/* sensitivity ranks the tied classifier first at q4_0 (llama.cpp's reference
 * README finds the output matrix the most sensitive tensor of this model);
 * plan --budget makes a plan that fits and spends the budget. */
static void test_cli_sensitivity_and_budget(void **state) {
    (void)state;
    ProcResult r = run("sensitivity", "--max-tokens", "300", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "   1  output.weight"));
    assert_int_equal(proc_count_lines(r.out), 3 + 37); /* title, blank, header, 37 matrices */
    proc_result_free(&r);
    r = run("plan", "--budget", "200kB", "--max-tokens", "300", "-o", tmp("budget.plan"), NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    r = run("stats", "--plan", tmp("budget.plan"), NULL);
    assert_int_equal(r.status, 0);
    const char *total = strstr(r.out, "total: 292,800 weights, ");
    assert_non_null(total);
    char digits[32] = {0};
    int k = 0;
    for (const char *c = total + strlen("total: 292,800 weights, "); *c && *c != ' ' && k < 31; c++)
        if (*c != ',') digits[k++] = *c;
    long bytes = atol(digits);
    assert_true(bytes <= 200000);
    assert_true(bytes > 170720); /* more than all-INT4: the budget was used */
    proc_result_free(&r);
    proc_expect_error(run("plan", "--budget", "10kB", "--max-tokens", "100", NULL), 2, "below the smallest plan");
    proc_expect_error(run("plan", "--budget", "lots", NULL), 2, "--budget");
}

/* quantlab synth writes a model every command runs (same options and seed,
 * same bytes; never over an existing file without --force), and quantlab bench
 * measures it and prints its figures; a model this small gets no PASS/MISS.
 * No timing is asserted: only that every part of the report is printed. */
static void test_cli_synth_then_bench(void **state) {
    (void)state;
    const char *a = tmp("a.gguf"), *b = tmp("b.gguf");
    ProcResult r = run("synth", "-o", a, "--dim", "64", "--hidden", "128", "--layers", "2", "--heads", "4",
                       "--vocab", "400", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "wrote"));
    proc_result_free(&r);
    r = run("synth", "-o", b, "--dim", "64", "--hidden", "128", "--layers", "2", "--heads", "4", "--vocab",
            "400", NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    size_t la, lb;
    char *fa = proc_read_file(a, &la), *fb = proc_read_file(b, &lb);
    assert_non_null(fa);
    assert_non_null(fb);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    free(fa);
    free(fb);
    proc_expect_error(run("synth", "-o", a, "--dim", "64", "--heads", "4", "--layers", "1", "--vocab", "400", NULL), 2,
                 "already exists");
    proc_expect_error(run("synth", "-o", tmp("c.gguf"), "--dim", "60", "--heads", "7", NULL), 2, "--heads");

    r = run("info", a, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "blk.1.ffn_down.weight"));
    proc_result_free(&r);
    r = run("generate", "-m", a, "-n", "8", "-p", "Once upon a time", NULL);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "Once upon a time", 16) == 0);
    proc_result_free(&r);

    r = run("bench", "-m", a, "--tokens", "8", "--repeats", "1", "--threads-list", "1,2", NULL);
    assert_int_equal(r.status, 0);
    const char *wants[] = {"memory read bandwidth", "INT8", "INT4", "tok/s", "quantize every matrix",
                           "statistics", "targets", "not checked"};
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        if (!strstr(r.out, wants[i])) fail_msg("bench output lacks '%s':\n%s", wants[i], r.out);
    proc_result_free(&r);
}

/* --json is one JSON object with the decode runs of each thread count. */
static void test_cli_bench_json(void **state) {
    (void)state;
    ProcResult r = run("bench", "--tokens", "4", "--repeats", "2", "--threads-list", "1", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_true(r.out[0] == '{');
    assert_non_null(strstr(r.out, "\"tokens_per_s_median\""));
    assert_non_null(strstr(r.out, "\"runs\": ["));
    assert_non_null(strstr(r.out, "\"bytes_per_token\": {\"FP32\": 1040384"));
    /* GPTQ on every matrix that reads an input: 7 in each of 5 blocks, and the output */
    assert_non_null(strstr(r.out, "\"gptq_q4_0\": {"));
    assert_non_null(strstr(r.out, "\"matrices\": 36, \"scope\": \"every matrix with an input\""));
    proc_result_free(&r);
    proc_expect_error(run("bench", "--threads-list", "1,x", NULL), 2, "--threads-list");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_version_and_help),
        cmocka_unit_test(test_cli_generate_matches_llama2c_run),
        cmocka_unit_test(test_cli_usage_errors_exit_2),
        cmocka_unit_test(test_cli_bad_files_exit_1_with_one_line),
        cmocka_unit_test(test_cli_info_lists_tensors_and_totals),
        cmocka_unit_test(test_cli_convert_never_overwrites),
        cmocka_unit_test(test_cli_outputs_never_overwrite_inputs),
        cmocka_unit_test(test_cli_quantize_stats_plan),
        cmocka_unit_test(test_cli_sensitivity_and_budget),
        cmocka_unit_test(test_cli_synth_then_bench),
        cmocka_unit_test(test_cli_bench_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
