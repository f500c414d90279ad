/* test_lessons_cli.c — `quantlab lessons`: --check passes on every bundled
 * lesson and fails, with FILE:LINE: reason, on each file of
 * tests/data/lessons-broken/ (one per kind of mistake; each file's first line
 * says which line and reason to expect); --list shows the tracks and the
 * learner's progress; --figures and --checks list what a lesson can use. */
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

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    return proc_tmpdir_new(tmpdir, sizeof tmpdir, "lcli");
}

static int teardown(void **state) {
    (void)state;
    return proc_tmpdir_remove(tmpdir);
}

/* quantlab lessons ARGS... (NULL-terminated), with extra environment. */
#define run_env(env, ...) proc_quantlab((const char *const[]){"lessons", __VA_ARGS__}, env, 120000)
#define run(...) run_env(NULL, __VA_ARGS__)

static void test_lessons_check_passes_on_bundled_lessons(void **state) {
    (void)state;
    ProcResult r = run("--check", NULL);
    if (r.status != 0) fail_msg("exit %d: %s", r.status, r.err);
    assert_int_equal(r.err_len, 0);
    assert_non_null(strstr(r.out, "lesson files"));
    assert_non_null(strstr(r.out, "no problems"));
    proc_result_free(&r);
    r = run("--check", proc_data_path("lessons"), NULL);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    r = run("--check", proc_data_path("lessons/try-1-how-big.md"), NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "1 lesson file, 9 steps: no problems"));
    proc_result_free(&r);
}

/* The expected "LINE: reason" from a broken file's first line. */
static char *expectation(const char *path) {
    char *text = proc_read_file(path, NULL);
    assert_non_null(text);
    char *start = strstr(text, "<!-- expect: "), *end = start ? strstr(start, " -->") : NULL;
    if (!start || !end) fail_msg("%s: no '<!-- expect: LINE: reason -->' first line", path);
    *end = '\0';
    char *want = strdup(start + 13);
    free(text);
    return want;
}

static void test_lessons_check_names_file_and_line_of_each_mistake(void **state) {
    (void)state;
    const char *dir = proc_data_path("tests/data/lessons-broken");
    char dir_copy[1024];
    snprintf(dir_copy, sizeof dir_copy, "%s", dir);
    DIR *d = opendir(dir_copy);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".md") != 0 || strcmp(e->d_name, "README.md") == 0) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir_copy, e->d_name);
        char *want = expectation(path);
        ProcResult r = run("--check", path, NULL);
        char line[1600];
        snprintf(line, sizeof line, "%s:%s", path, want);
        if (r.status != 1 || strncmp(r.err, line, strlen(line)) != 0)
            fail_msg("%s: exit %d, stderr '%s' (wanted 1 and '%s')", e->d_name, r.status, r.err, line);
        assert_int_equal(proc_count_lines(r.err), 2); /* the problem, then the summary */
        assert_non_null(strstr(r.err, "quantlab: lessons: 1 problem in 1 lesson file"));
        proc_result_free(&r);
        free(want);
        files++;
    }
    closedir(d);
    assert_true(files >= 20);
    /* the whole directory: one line per file, and exit 1 */
    ProcResult r = run("--check", dir_copy, NULL);
    assert_int_equal(r.status, 1);
    assert_int_equal(proc_count_lines(r.err), files + 1);
    proc_result_free(&r);
    /* a good file and a bad one together: only the bad one is reported */
    char bad[1400];
    snprintf(bad, sizeof bad, "%s/unknown-check.md", dir_copy);
    r = run("--check", proc_data_path("lessons/try-1-how-big.md"), bad, NULL);
    assert_int_equal(r.status, 1);
    assert_int_equal(proc_count_lines(r.err), 2);
    assert_non_null(strstr(r.err, "problem in 2 lesson files"));
    proc_result_free(&r);
    r = run("--check", "/no/such/lesson.md", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/no/such/lesson.md: no such file"));
    proc_result_free(&r);
}

static void test_lessons_list_shows_tracks_and_progress(void **state) {
    (void)state;
    char dir[512], env0[600];
    snprintf(dir, sizeof dir, "%s/quantlab", tmpdir);
    snprintf(env0, sizeof env0, "XDG_STATE_HOME=%s", tmpdir);
    char cmd[600], path[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/progress.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"current\": \"try-1-how-big\", "
          "\"lessons\": {\"try-1-how-big\": {\"step\": 3, \"marks\": \"ddd\", \"done\": false}, "
          "\"picture-1-small-copy\": {\"step\": 0, \"marks\": \"ddddddd\", \"done\": true}}}", fp);
    fclose(fp);
    const char *env[] = {env0, NULL};
    ProcResult r = run_env(env, "--list", NULL);
    assert_int_equal(r.status, 0);
    static const char *const wants[] = {"Picture it", "Try it", "Build it", "picture-1-small-copy", "try-1-how-big",
                                        "build-1-rounding-and-scales", "5-8", "9-12", "13+"};
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        if (!strstr(r.out, wants[i])) fail_msg("--list has no '%s':\n%s", wants[i], r.out);
    const char *pic = strstr(r.out, "picture-1-small-copy"), *try1 = strstr(r.out, "try-1-how-big");
    const char *pic2 = strstr(r.out, "picture-2-fewer-digits");
    assert_non_null(strstr(pic, "done"));
    assert_true(strstr(pic, "done") < pic2);
    assert_non_null(strstr(try1, "in progress"));
    assert_non_null(strstr(pic2, "new"));
    proc_result_free(&r);
    /* the default is --list; a stray argument is a usage error */
    r = run_env(env, NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Build it"));
    proc_result_free(&r);
    r = run("bogus", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unexpected argument 'bogus'"));
    proc_result_free(&r);
}

static void test_lessons_figures_and_checks_listed(void **state) {
    (void)state;
    ProcResult r = run("--figures", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "{plan.bytes}"));
    assert_non_null(strstr(r.out, "{quality.kl}"));
    assert_non_null(strstr(r.out, "{rmse TENSOR FORMAT}"));
    proc_result_free(&r);
    r = run("--checks", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "format TARGET FORMAT"));
    assert_non_null(strstr(r.out, "most-sensitive"));
    proc_result_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lessons_check_passes_on_bundled_lessons),
        cmocka_unit_test(test_lessons_check_names_file_and_line_of_each_mistake),
        cmocka_unit_test(test_lessons_list_shows_tracks_and_progress),
        cmocka_unit_test(test_lessons_figures_and_checks_listed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
