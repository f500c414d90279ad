/* test_mapping.c — input files that are not what they seem: a model file
 * rewritten while quantlab has it open, a named pipe instead of a file.
 *
 * `cp new.gguf model.gguf` truncates the file quantlab opened and writes it
 * again; a read-only mapping then has no page behind it and the next read of
 * it is SIGBUS. model_open copies the file into memory (when that fits), so
 * running a plan on the file's own Q8_0 blocks and exporting (which copies the
 * norm vectors as stored) still work. The work runs in a child process, so a
 * regression shows as "killed by signal 7", not as a dead test driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "lib/proc.h"
#include "model/export.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "model/sampler.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-mapping-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* In the child: open, truncate the file to nothing, then use everything that
 * reads the file's bytes after loading. Exit 0 when all of it worked. */
static int open_truncate_and_use(const char *path, const char *out) {
    Model *m = NULL;
    Error err = {0};
    if (model_open(&m, path, NULL, &err) != ST_OK) return 10;
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) return 11;
    if (write(fd, "GGUF", 4) != 4) return 12; /* rewritten: shorter, and not the same bytes */
    close(fd);
    Plan p;
    QuantCache *c = qcache_new(m, NULL);
    Weights w;
    RunState s;
    if (!c || plan_preset(&p, m, PRESET_AS_STORED, &err) != ST_OK) return 13;
    if (weights_init_plan(&w, m, &p, c, &err) != ST_OK || runstate_init(&s, &m->cfg, 4, NULL, &err) != ST_OK)
        return 14;
    int token = 1;
    for (int pos = 0; pos < 4; pos++) token = sampler_argmax(model_forward(&w, &s, token, pos), m->cfg.vocab_size);
    ExportReport rep;
    if (model_export_gguf(m, &p, c, FORMAT_FP16, out, &rep, &err) != ST_OK) return 15;
    runstate_free(&s);
    weights_free(&w);
    plan_free(&p);
    qcache_delete(c);
    model_close(m);
    return 0;
}

static void test_mapping_file_truncated_while_open(void **state) {
    (void)state;
    char path[400], out[400];
    snprintf(path, sizeof path, "%s/q8.gguf", tmpdir);
    snprintf(out, sizeof out, "%s/out.gguf", tmpdir);
    size_t len;
    char *data = proc_read_file(proc_data_path("tests/data/stories260K-q8_0.gguf"), &len);
    assert_non_null(data);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    free(data);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(open_truncate_and_use(path, out));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("the child was killed by signal %d (7 is SIGBUS)", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the export holds the model as it was when opened */
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, out, NULL, &err), ST_OK);
    model_close(m);
}

/* A named pipe called model.gguf (or a plan, or a text) is refused at once:
 * opening it for reading used to wait forever for a writer. */
static void test_mapping_fifo_refused_without_waiting(void **state) {
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/pipe.gguf", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10); /* a hang becomes SIGALRM */
        Model *m = NULL;
        Error err = {0};
        if (model_open(&m, path, NULL, &err) != ST_IO || !strstr(err.msg, "not a regular file")) _exit(1);
        char *text;
        size_t len;
        if (file_read_all(path, 1 << 20, &text, &len, &err) != ST_IO) _exit(2);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("killed by signal %d (14: it waited for a writer)", WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_file_truncated_while_open),
        cmocka_unit_test(test_mapping_fifo_refused_without_waiting),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
