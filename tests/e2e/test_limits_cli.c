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

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-limits-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name) {
    static char buf[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void run(ProcResult *r, const char *const *args, const char *const *env) {
    const char *argv[32];
    int n = 0;
    argv[n++] = proc_quantlab_bin();
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(proc_run(argv, env, WAIT, r), 0);
}

static void expect_one_line(const ProcResult *r, int status, const char *needle) {
    if (r->status != status || proc_count_lines(r->err) != 1 || !strstr(r->err, needle))
        fail_msg("status %d (wanted %d), stderr '%s' (wanted one line with '%s')", r->status, status, r->err,
                 needle);
}

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
    ProcResult r;
    run(&r, (const char *[]){"generate", "-p", prompt, "-n", "10", NULL}, NULL);
    expect_one_line(&r, 1, "tokens, longer than the 512-token context stories260K.gguf declares");
    assert_int_equal(r.out_len, 0);
    proc_result_free(&r);
    free(prompt);
}

/* An evaluation text of 300 MB (sparse: no disk used) is refused before it is read. */
static void test_limits_cli_absurd_eval_text(void **state) {
    (void)state;
    const char *path = tmp_path("huge.txt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)300 << 20), 0);
    close(fd);
    ProcResult r;
    run(&r, (const char *[]){"eval", "--text", path, NULL}, NULL);
    expect_one_line(&r, 1, "huge.txt: 314572800 bytes is more than the 268435456 this command reads");
    proc_result_free(&r);
}

/* Plan files: 2 MB (a million lines) refused before reading; a 1 MB line too. */
static void test_limits_cli_plan_files(void **state) {
    (void)state;
    const char *path = tmp_path("million.plan");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("default=q4_0\n", fp);
    for (int i = 0; i < 1000000; i++) fputs("#\n", fp);
    fclose(fp);
    ProcResult r;
    run(&r, (const char *[]){"plan", "--plan", path, NULL}, NULL);
    expect_one_line(&r, 1, "million.plan: 2000013 bytes is more than the 1048576 this command reads");
    proc_result_free(&r);

    path = tmp_path("long.plan");
    fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 1000000; i++) fputc('x', fp);
    fputs("=q8_0\n", fp);
    fclose(fp);
    run(&r, (const char *[]){"stats", "--plan", path, NULL}, NULL);
    expect_one_line(&r, 1, "long.plan:1: line longer than 1024 bytes");
    proc_result_free(&r);

    path = tmp_path("evil.plan");
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("default=q4_0\nattn_q+++++++++++++++++++++++++++++++++++++++++++++++++=q8_0\n", fp);
    fclose(fp);
    run(&r, (const char *[]){"quantize", "--plan", path, "-o", tmp_path("never.gguf"), NULL}, NULL);
    expect_one_line(&r, 1, "evil.plan:2: pattern 'attn_q++++");
    proc_result_free(&r);
}

/* On a machine too small for the model's floats (QUANTLAB_MEMORY_BYTES), every
 * command that runs the model says so; info, which only lists, still works. */
static void test_limits_cli_model_larger_than_memory(void **state) {
    (void)state;
    const char *env[] = {"QUANTLAB_MEMORY_BYTES=1M", NULL};
    ProcResult r;
    run(&r, (const char *[]){"generate", "-n", "4", NULL}, env);
    expect_one_line(&r, 1, "need 1.17 MB as floats; this machine has 1.00 MB");
    proc_result_free(&r);
    run(&r, (const char *[]){"info", NULL}, env);
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
    const char *path = tmp_path("ctx2g.gguf");
    assert_int_equal(gguf_writer_write_file(w, path, &err), ST_OK);
    gguf_writer_delete(w);
    gguf_close(&g);
    ProcResult r;
    run(&r, (const char *[]){"generate", "-m", path, "-n", "16", NULL}, NULL);
    if (r.status != 0) fail_msg("generate: %s", r.err);
    proc_result_free(&r);
    run(&r, (const char *[]){"eval", "-m", path, "--max-tokens", "300", NULL}, NULL);
    if (r.status != 0) fail_msg("eval: %s", r.err);
    proc_result_free(&r);
    run(&r, (const char *[]){"eval", "-m", path, "--protocol", "windowed", "--max-tokens", "1100", NULL}, NULL);
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
