/* test_nothing_lost.c — no failure loses work, and no command writes to a model.
 *
 * Every output (quantize, convert, plan -o, the explorer's S and W, lesson
 * progress) goes to a
 * temporary name beside the target, is flushed and renamed into place. So:
 *
 *  - a full disk leaves the old file as it was, leaves no temporary behind,
 *    and says why in one line. The disk is a 256 kB tmpfs filled to the brim,
 *    mounted in a private mount namespace (so nothing outlives the test, and
 *    nothing is seen outside it) when this process may mount (root with
 *    CAP_SYS_ADMIN, as CI usually is); otherwise RLIMIT_FSIZE of 16 bytes with
 *    SIGXFSZ ignored stands in for it (writes then fail with EFBIG, "File too
 *    large", the same code path as ENOSPC);
 *  - a read-only directory does the same: a tmpfs remounted read-only when we
 *    may mount (root ignores permission bits, so chmod would prove nothing),
 *    otherwise a path whose parent is a regular file (ENOTDIR), which checks
 *    the message and that nothing is left behind, though there is no old file
 *    to keep;
 *  - every command that reads a model leaves it byte-for-byte and its directory
 *    entry for entry as they were (copies in a temporary directory, compared
 *    before and after): info, generate, quantize, stats, eval, plan,
 *    sensitivity, convert, and the explorer with a plan saved and an export.
 *
 * Which technique ran is printed on stderr ("nothing_lost: full disk: ...");
 * QUANTLAB_TEST_NO_MOUNT=1 forces the fallbacks, to test them where mounting works.
 */
#define _GNU_SOURCE /* unshare(), mount() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mount.h>
#endif

#include "lesson/progress.h"
#include "lib/proc.h"
#include "lib/term.h"
#include "lib/term_fixture.h"

enum { WAIT = 30000 };

static char tmpdir[64];
/* What old.gguf, old.plan and progress.json hold before a write over them fails. */
#define OLD_MODEL "old model\n"
#define OLD_PLAN "default=q8_0\n"
#define OLD_PROGRESS "{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {}}\n"
static char in_dir[300], out_dir[300];
static bool may_mount; /* a private mount namespace is ours */

/* ------------------------------------------------------------- helpers */

static void path_in(char *out, size_t size, const char *dir, const char *name) {
    int n = snprintf(out, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static void copy_file(const char *from, const char *to) {
    size_t len;
    char *data = proc_read_file(from, &len);
    assert_non_null(data);
    FILE *fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    free(data);
}

/* The names in dir, sorted, joined by spaces. */
static char *listing(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    char names[64][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    char *s = calloc(1, 64 * 257 + 1);
    assert_non_null(s);
    for (int i = 0; i < n; i++) {
        strcat(s, names[i]);
        strcat(s, " ");
    }
    return s;
}

typedef struct Snapshot {
    char *bytes[3];
    size_t len[3];
    struct stat st[3];
    char *names;
} Snapshot;

static const char *const INPUTS[3] = {"model.gguf", "stories260K.bin", "tok512.bin"};

static void snapshot_take(Snapshot *s) {
    for (int i = 0; i < 3; i++) {
        char p[400];
        path_in(p, sizeof p, in_dir, INPUTS[i]);
        s->bytes[i] = proc_read_file(p, &s->len[i]);
        assert_non_null(s->bytes[i]);
        assert_int_equal(stat(p, &s->st[i]), 0);
    }
    s->names = listing(in_dir);
}

static void snapshot_free(Snapshot *s) {
    for (int i = 0; i < 3; i++) free(s->bytes[i]);
    free(s->names);
}

/* The inputs are as they were: same bytes, same inode, same modification
 * time, and no file appeared or vanished beside them. */
static void snapshot_check(const Snapshot *before, const char *what) {
    Snapshot now;
    snapshot_take(&now);
    for (int i = 0; i < 3; i++) {
        bool same = now.len[i] == before->len[i] && memcmp(now.bytes[i], before->bytes[i], now.len[i]) == 0 &&
                    now.st[i].st_ino == before->st[i].st_ino &&
                    now.st[i].st_mtime == before->st[i].st_mtime;
        if (!same) fail_msg("%s changed %s", what, INPUTS[i]);
    }
    if (strcmp(now.names, before->names) != 0)
        fail_msg("%s changed the input directory: '%s' -> '%s'", what, before->names, now.names);
    snapshot_free(&now);
}

/* quantlab ARGS... (NULL-terminated) */
enum { RUN_WAIT = WAIT * 4 };
#define run(...) proc_quantlab((const char *const[]){__VA_ARGS__}, NULL, RUN_WAIT)

/* The run failed with status 1 and one line on stderr that names `path` and
 * contains `why`. */
static void expect_refused(const ProcResult *r, const char *path, const char *why) {
    if (r->status != 1 || proc_count_lines(r->err) != 1 || !strstr(r->err, path) || !strstr(r->err, why))
        fail_msg("status %d, stderr '%s' (wanted one line naming %s with '%s')", r->status, r->err, path, why);
}

static void expect_file(const char *path, const char *text) {
    size_t len;
    char *now = proc_read_file(path, &len);
    if (!now || len != strlen(text) || memcmp(now, text, len) != 0)
        fail_msg("%s: old contents lost (now '%.40s')", path, now ? now : "(missing)");
    free(now);
}

/* ------------------------------------------------------------- storage */

static int setup(void **state) {
    (void)state;
    if (proc_tmpdir_new(tmpdir, sizeof tmpdir, "lost") != 0) return -1;
    path_in(in_dir, sizeof in_dir, tmpdir, "in");
    path_in(out_dir, sizeof out_dir, tmpdir, "out");
    if (mkdir(in_dir, 0777) || mkdir(out_dir, 0777)) return -1;
    setenv("XDG_STATE_HOME", tmpdir, 1); /* lesson progress stays in the scratch directory */
    char p[400];
    path_in(p, sizeof p, in_dir, "model.gguf");
    copy_file(proc_data_path("assets/stories260K.gguf"), p);
    path_in(p, sizeof p, in_dir, "stories260K.bin");
    copy_file(proc_data_path("tests/data/stories260K.bin"), p);
    path_in(p, sizeof p, in_dir, "tok512.bin");
    copy_file(proc_data_path("tests/data/tok512.bin"), p);
#if defined(__linux__)
    /* A private mount namespace: our tmpfs mounts are invisible outside this
     * process and its children, and vanish with them. */
    may_mount = !getenv("QUANTLAB_TEST_NO_MOUNT") && unshare(CLONE_NEWNS) == 0 &&
                mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
#endif
    return 0;
}

static int teardown(void **state) {
    (void)state;
#if defined(__linux__)
    if (may_mount) {
        char p[400];
        path_in(p, sizeof p, tmpdir, "full");
        umount2(p, MNT_DETACH);
        path_in(p, sizeof p, tmpdir, "ro");
        umount2(p, MNT_DETACH);
    }
#endif
    return proc_tmpdir_remove(tmpdir);
}

/* Fills the file system holding dir until a write fails. */
static void fill_up(const char *dir) {
    char p[400];
    path_in(p, sizeof p, dir, "filler");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static char block[4096];
    while (write(fd, block, sizeof block) > 0) {
    }
    while (write(fd, block, 1) > 0) {
    }
    close(fd);
}

typedef enum Mode { MODE_TMPFS, MODE_RLIMIT, MODE_ENOTDIR } Mode;

/* old.gguf, old.plan and progress.json in dir, with their OLD_ contents. */
static void write_old_files(const char *dir) {
    static const char *const names[] = {"old.gguf", "old.plan", "progress.json"};
    static const char *const texts[] = {OLD_MODEL, OLD_PLAN, OLD_PROGRESS};
    for (int i = 0; i < 3; i++) {
        char p[450];
        path_in(p, sizeof p, dir, names[i]);
        write_file(p, texts[i]);
    }
}

/* A directory whose disk is full, holding the old files. */
static Mode full_disk(char *dir, size_t size) {
    path_in(dir, size, tmpdir, "full");
    assert_int_equal(mkdir(dir, 0777), 0);
    Mode mode = MODE_RLIMIT;
#if defined(__linux__)
    if (may_mount && mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0) mode = MODE_TMPFS;
#endif
    write_old_files(dir);
    if (mode == MODE_TMPFS) fill_up(dir);
    fprintf(stderr, "nothing_lost: full disk: %s\n", mode == MODE_TMPFS ? "a full 256 kB tmpfs" : "RLIMIT_FSIZE 16 bytes");
    return mode;
}

/* In RLIMIT mode, children inherit a 16-byte file size limit and an ignored
 * SIGXFSZ (quantlab ignores it itself too); both are undone afterwards. */
static struct rlimit saved_limit;
static void limit_begin(Mode mode) {
    if (mode != MODE_RLIMIT) return;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    struct rlimit small = {16, saved_limit.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
}

static void limit_end(Mode mode) {
    if (mode == MODE_RLIMIT) assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_limit), 0);
}

/* No temporary file of an output is left in dir. */
static void expect_no_temporaries(const char *dir) {
    char *names = listing(dir);
    if (strstr(names, ".tmp-")) fail_msg("a temporary file was left in %s: %s", dir, names);
    free(names);
}

/* Lesson progress saved over an old progress.json in dir: refused with a
 * line containing `why`, the old file as it was. */
static void expect_progress_kept(const char *dir, const char *why) {
    char path[450];
    path_in(path, sizeof path, dir, "progress.json");
    LessonProgress p;
    lesson_progress_init(&p);
    LessonRecord *r = lesson_progress_get(&p, "try-1-how-big", true);
    assert_non_null(r);
    r->step = 3;
    Error err = {0};
    assert_int_equal(lesson_progress_save(&p, path, &err), ST_IO);
    if (!strstr(err.msg, why) || !strstr(err.msg, "progress.json")) fail_msg("progress: '%s'", err.msg);
    lesson_progress_free(&p);
    expect_file(path, OLD_PROGRESS);
}

/* ---------------------------------------------------------------- tests */

static void test_lost_full_disk_keeps_old_files(void **state) {
    (void)state;
    char dir[400], gguf[450], plan[450], in_model[450], in_bin[450], in_tok[450];
    Mode mode = full_disk(dir, sizeof dir);
    const char *why = mode == MODE_TMPFS ? "No space left on device" : "File too large";
    path_in(gguf, sizeof gguf, dir, "old.gguf");
    path_in(plan, sizeof plan, dir, "old.plan");
    path_in(in_model, sizeof in_model, in_dir, "model.gguf");
    path_in(in_bin, sizeof in_bin, in_dir, "stories260K.bin");
    path_in(in_tok, sizeof in_tok, in_dir, "tok512.bin");
    ProcResult r;
    limit_begin(mode);
    r = run("quantize", "-m", in_model, "--type", "q8_0", "-o", gguf, "--force", NULL);
    limit_end(mode);
    expect_refused(&r, "old.gguf", why);
    assert_non_null(strstr(r.err, "any previous file is unchanged"));
    proc_result_free(&r);
    expect_file(gguf, OLD_MODEL);

    limit_begin(mode);
    r = run("convert", in_bin, "--tokenizer", in_tok, "-o", gguf, "--force", NULL);
    limit_end(mode);
    expect_refused(&r, "old.gguf", why);
    proc_result_free(&r);
    expect_file(gguf, OLD_MODEL);

    limit_begin(mode);
    r = run("plan", "-m", in_model, "--preset", "int4", "-o", plan, "--force", NULL);
    limit_end(mode);
    expect_refused(&r, "old.plan", why);
    proc_result_free(&r);
    expect_file(plan, OLD_PLAN);
    expect_no_temporaries(dir);

    /* lesson progress */
    limit_begin(mode);
    expect_progress_kept(dir, why);
    limit_end(mode);
    expect_no_temporaries(dir);

    /* the explorer: S (save the plan) and W (export) over the old files */
    limit_begin(mode);
    Term *t = term_spawn_quantlab((const char *[]){in_model, NULL}, NULL, 200, 40);
    limit_end(mode);
    assert_non_null(t);
    assert_screen_text(t, "1 Model", WAIT);
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    for (int i = 0; i < 3; i++) term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER); /* all INT4 */
    assert_screen_text(t, "all INT4*", WAIT);
    assert_true(term_fixture_answer(t, "S", "Save the plan as", plan, WAIT));
    assert_screen_text(t, "Replace it?", WAIT);
    term_send_str(t, "y");
    assert_screen_text(t, why, WAIT);
    assert_screen_text(t, "all INT4*", WAIT); /* still unsaved: the plan is not lost either */
    assert_true(term_fixture_answer(t, "W", "Write the model under this plan", gguf, WAIT));
    assert_screen_text(t, "Replace it?", WAIT);
    term_send_str(t, "y");
    assert_true(term_wait_text_gone(t, "in the background", WAIT));
    assert_screen_text(t, "old.gguf: not written", WAIT);
    assert_screen_text(t, why, WAIT);
    term_send_str(t, "q");
    assert_screen_text(t, "not saved", WAIT);
    term_send_str(t, "y");
    assert_exit_status(t, 0, WAIT);
    term_close(t);
    expect_file(plan, OLD_PLAN);
    expect_file(gguf, OLD_MODEL);
    expect_no_temporaries(dir);
}

static Mode read_only_dir(char *dir, size_t size) {
    path_in(dir, size, tmpdir, "ro");
    assert_int_equal(mkdir(dir, 0777), 0);
#if defined(__linux__)
    if (may_mount && mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0) {
        write_old_files(dir);
        if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0) {
            fprintf(stderr, "nothing_lost: read-only directory: a tmpfs remounted read-only\n");
            return MODE_TMPFS;
        }
        umount2(dir, MNT_DETACH);
    }
#endif
    /* the honest fallback: a "directory" that is a regular file */
    rmdir(dir);
    write_file(dir, "a file, not a directory\n");
    fprintf(stderr, "nothing_lost: read-only directory: a path under a regular file (ENOTDIR)\n");
    return MODE_ENOTDIR;
}

static void test_lost_read_only_directory_keeps_old_files(void **state) {
    (void)state;
    char dir[400], gguf[450], plan[450], in_model[450];
    Mode mode = read_only_dir(dir, sizeof dir);
    const char *why = mode == MODE_TMPFS ? "Read-only file system" : "Not a directory";
    path_in(gguf, sizeof gguf, dir, "old.gguf");
    path_in(plan, sizeof plan, dir, "old.plan");
    path_in(in_model, sizeof in_model, in_dir, "model.gguf");
    ProcResult r = run("quantize", "-m", in_model, "--type", "q4_0", "-o", gguf, "--force", NULL);
    expect_refused(&r, "old.gguf", why);
    proc_result_free(&r);
    r = run("plan", "-m", in_model, "--preset", "int8", "-o", plan, "--force", NULL);
    expect_refused(&r, "old.plan", why);
    proc_result_free(&r);

    Term *t = term_spawn_quantlab((const char *[]){in_model, NULL}, NULL, 200, 40);
    assert_non_null(t);
    assert_screen_text(t, "1 Model", WAIT);
    assert_true(term_fixture_answer(t, "S", "Save the plan as", plan, WAIT));
    if (mode == MODE_TMPFS) {
        assert_screen_text(t, "Replace it?", WAIT);
        term_send_str(t, "y");
    }
    assert_screen_text(t, why, WAIT);
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
    term_close(t);
    if (mode == MODE_TMPFS) {
        expect_progress_kept(dir, why);
        expect_file(gguf, OLD_MODEL);
        expect_file(plan, OLD_PLAN);
        expect_no_temporaries(dir);
    }
}

/* Every command that takes a model, then the explorer: the inputs stay as they were. */
static void test_lost_commands_never_write_the_model(void **state) {
    (void)state;
    char model[450], bin[450], tok[450], o_gguf[450], o_plan[450], o_conv[450];
    path_in(model, sizeof model, in_dir, "model.gguf");
    path_in(bin, sizeof bin, in_dir, "stories260K.bin");
    path_in(tok, sizeof tok, in_dir, "tok512.bin");
    path_in(o_gguf, sizeof o_gguf, out_dir, "q8.gguf");
    path_in(o_plan, sizeof o_plan, out_dir, "int4.plan");
    path_in(o_conv, sizeof o_conv, out_dir, "conv.gguf");
    Snapshot before;
    snapshot_take(&before);
    const char *const *cmds[] = {
        (const char *[]){"info", model, "--kv", NULL},
        (const char *[]){"info", bin, NULL},
        (const char *[]){"generate", "-m", model, "-n", "8", "-p", "Once upon", NULL},
        (const char *[]){"generate", "-m", bin, "--tokenizer", tok, "-n", "8", NULL},
        (const char *[]){"quantize", "-m", model, "--type", "q8_0", "-o", o_gguf, NULL},
        (const char *[]){"quantize", "-m", bin, "--preset", "int4", "-o", o_gguf, "--force", NULL},
        (const char *[]){"stats", "-m", model, "--type", "q4_0", NULL},
        (const char *[]){"eval", "-m", model, "--type", "q8_0", "--max-tokens", "200", NULL},
        (const char *[]){"plan", "-m", model, "--preset", "int4", "-o", o_plan, NULL},
        (const char *[]){"sensitivity", "-m", model, "--max-tokens", "64", NULL},
        (const char *[]){"convert", bin, "--tokenizer", tok, "-o", o_conv, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        ProcResult r = proc_quantlab(cmds[i], NULL, RUN_WAIT);
        if (r.status != 0) fail_msg("quantlab %s %s: status %d: %s", cmds[i][0], cmds[i][1], r.status, r.err);
        proc_result_free(&r);
        char what[64];
        snprintf(what, sizeof what, "quantlab %s", cmds[i][0]);
        snapshot_check(&before, what);
    }
    /* writing over the input is refused, also through a symbolic link */
    char link[450];
    path_in(link, sizeof link, out_dir, "link.gguf");
    assert_int_equal(symlink(model, link), 0);
    const char *const *over[] = {
        (const char *[]){"quantize", "-m", model, "--type", "q8_0", "-o", model, "--force", NULL},
        (const char *[]){"quantize", "-m", model, "--type", "q8_0", "-o", link, "--force", NULL},
        (const char *[]){"plan", "-m", model, "--preset", "int8", "-o", link, NULL},
        (const char *[]){"convert", bin, "--tokenizer", tok, "-o", bin, "--force", NULL},
    };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        ProcResult r = proc_quantlab(over[i], NULL, RUN_WAIT);
        assert_int_equal(r.status, 2);
        assert_int_equal(proc_count_lines(r.err), 1);
        proc_result_free(&r);
        snapshot_check(&before, "writing over the input");
    }

    /* the explorer: a preset, a saved plan, an export, a quality run, quit */
    Term *t = term_spawn_quantlab((const char *[]){model, NULL}, NULL, 200, 40);
    assert_non_null(t);
    assert_screen_text(t, "1 Model", WAIT);
    term_send_str(t, "p");
    assert_screen_text(t, "Presets", WAIT);
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_DOWN);
    term_send_key(t, TERM_KEY_ENTER); /* all INT8 */
    assert_screen_text(t, "all INT8", WAIT);
    path_in(o_plan, sizeof o_plan, out_dir, "tui.plan");
    assert_true(term_fixture_answer(t, "S", "Save the plan as", o_plan, WAIT));
    assert_screen_text(t, "saved the plan", WAIT);
    path_in(o_gguf, sizeof o_gguf, out_dir, "tui.gguf");
    assert_true(term_fixture_answer(t, "W", "Write the model under this plan", o_gguf, WAIT));
    assert_screen_text(t, "wrote", WAIT);
    term_send_str(t, "e"); /* quality, on the worker thread */
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT);
    term_close(t);
    snapshot_check(&before, "the explorer");
    struct stat st;
    assert_int_equal(stat(o_gguf, &st), 0);
    assert_true(st.st_size > 100000);
    snapshot_free(&before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_full_disk_keeps_old_files),
        cmocka_unit_test(test_lost_read_only_directory_keeps_old_files),
        cmocka_unit_test(test_lost_commands_never_write_the_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
