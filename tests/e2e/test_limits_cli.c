/* test_limits_cli.c — the resource limits as a user meets them on the command
 * line: each oversized input gives exit status 1 and one line on stderr that
 * says what was too big, never a crash or a machine out of memory.
 * (tests/unit/test_limits.c checks the same limits function by function.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "lib/proc.h"

enum { WAIT = 120000 };

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    return proc_tmpdir_new(tmpdir, sizeof tmpdir, "limits");
}

static int teardown(void **state) {
    (void)state;
    return proc_tmpdir_remove(tmpdir);
}

/* quantlab ARGS... (NULL-terminated), with extra environment (or NULL). */
#define run(env, ...) proc_quantlab((const char *const[]){__VA_ARGS__}, env, WAIT)

/* A prompt as long as one argument may be (Linux: 128 kB; the megabyte of the
 * issue cannot even reach a program: execve refuses it with E2BIG) is ~38,000
 * tokens, far past stories260K's 512-token context: refused in one line
 * instead of minutes of quadratic attention. */
static void test_limits_cli_huge_prompt(void **state) {
    (void)state;
    size_t len = 128 * 1024 - 1;
    char *prompt = malloc(len + 1);
    assert_non_null(prompt);
    for (size_t i = 0; i < len; i++) prompt[i] = "Once upon a time there was a dog. "[i % 34];
    prompt[len] = '\0';
    ProcResult r = run(NULL, "generate", "-p", prompt, "-n", "10", NULL);
    assert_int_equal(r.out_len, 0);
    proc_expect_error(r, 1, "tokens, longer than the 512-token context stories260K.gguf declares");
    free(prompt);
}

/* An evaluation text of 300 MB (sparse: no disk used) is refused before it is read. */
static void test_limits_cli_absurd_eval_text(void **state) {
    (void)state;
    const char *path = proc_path(tmpdir, "huge.txt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)300 << 20), 0);
    close(fd);
    ProcResult r = run(NULL, "eval", "--text", path, NULL);
    proc_expect_error(r, 1, "huge.txt: 314572800 bytes is more than the 268435456 this command reads");
}

/* Plan files: 2 MB (a million lines) refused before reading; a 1 MB line too. */
static void test_limits_cli_plan_files(void **state) {
    (void)state;
    const char *path = proc_path(tmpdir, "million.plan");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("default=q4_0\n", fp);
    for (int i = 0; i < 1000000; i++) fputs("#\n", fp);
    fclose(fp);
    ProcResult r = run(NULL, "plan", "--plan", path, NULL);
    proc_expect_error(r, 1, "million.plan: 2000013 bytes is more than the 1048576 this command reads");

    path = proc_path(tmpdir, "long.plan");
    fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 1000000; i++) fputc('x', fp);
    fputs("=q8_0\n", fp);
    fclose(fp);
    r = run(NULL, "stats", "--plan", path, NULL);
    proc_expect_error(r, 1, "long.plan:1: line longer than 1024 bytes");

    path = proc_path(tmpdir, "evil.plan");
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("default=q4_0\nattn_q+++++++++++++++++++++++++++++++++++++++++++++++++=q8_0\n", fp);
    fclose(fp);
    r = run(NULL, "quantize", "--plan", path, "-o", proc_path(tmpdir, "never.gguf"), NULL);
    proc_expect_error(r, 1, "evil.plan:2: pattern 'attn_q++++");
}

/* On a machine too small for the model's floats (QUANTLAB_MEMORY_BYTES), every
 * command that runs the model says so; info, which only lists, still works. */
static void test_limits_cli_model_larger_than_memory(void **state) {
    (void)state;
    const char *env[] = {"QUANTLAB_MEMORY_BYTES=1M", NULL};
    ProcResult r = run(env, "generate", "-n", "4", NULL);
    proc_expect_error(r, 1, "need 1.17 MB as floats; this machine has 1.00 MB");
    r = run(env, "info", NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
}

/* A model declaring a context of 2^31 runs: caches are sized by what is asked. */
static void test_limits_cli_context_of_2_31(void **state) {
    (void)state;
    GgufFile g;
    Error err = {0};
    assert_int_equal(gguf_open(&g, proc_data_path("assets/stories260K.gguf"), &err), ST_OK);
    GgufWriter *w = gguf_writer_new();
    for (uint64_t i = 0; i < g.n_kv; i++)
        assert_int_equal(gguf_writer_set_value(w, g.kv[i].key, &g.kv[i].value), ST_OK);
    assert_int_equal(gguf_writer_set_u32(w, "llama.context_length", 1u << 31), ST_OK);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *t = &g.tensors[i];
        assert_int_equal(gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type, t->data, t->nbytes), ST_OK);
    }
    const char *path = proc_path(tmpdir, "ctx2g.gguf");
    assert_int_equal(gguf_writer_write_file(w, path, &err), ST_OK);
    gguf_writer_delete(w);
    gguf_close(&g);
    ProcResult r = run(NULL, "generate", "-m", path, "-n", "16", NULL);
    if (r.status != 0) fail_msg("generate: %s", r.err);
    proc_result_free(&r);
    r = run(NULL, "eval", "-m", path, "--max-tokens", "300", NULL);
    if (r.status != 0) fail_msg("eval: %s", r.err);
    proc_result_free(&r);
    r = run(NULL, "eval", "-m", path, "--protocol", "windowed", "--max-tokens", "1100", NULL);
    if (r.status != 0) fail_msg("eval --protocol windowed: %s", r.err);
    proc_result_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_cli_huge_prompt),
        cmocka_unit_test(test_limits_cli_absurd_eval_text),
        cmocka_unit_test(test_limits_cli_plan_files),
        cmocka_unit_test(test_limits_cli_model_larger_than_memory),
        cmocka_unit_test(test_limits_cli_context_of_2_31),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
