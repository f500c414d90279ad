/* proc.h — run a program to completion and capture what it printed (for tests of
 * the command-line interface: exit codes, stdout, one-line errors on stderr),
 * and the files around it: the data directory, a temporary directory per test
 * driver. proc_quantlab and proc_expect_error are cmocka checks (every test
 * linking this file links cmocka); the rest report failure to the caller. */
#ifndef QL_TESTS_PROC_H
#define QL_TESTS_PROC_H

#include <stddef.h>

typedef struct ProcResult {
    int status;   /* exit code, or 128 + signal number when killed */
    char *out;    /* stdout, NUL-terminated */
    size_t out_len;
    char *err;    /* stderr, NUL-terminated */
    size_t err_len;
} ProcResult;

/* Runs argv (argv[0] a path) with stdin from /dev/null, extra "NAME=value"
 * environment entries (NULL-terminated, may be NULL), killing it after
 * timeout_ms. Returns 0 on success (the program ran), -1 if it could not start. */
int proc_run(const char *const *argv, const char *const *env, int timeout_ms, ProcResult *r);
void proc_result_free(ProcResult *r);

/* The binary under test: $QUANTLAB_BIN or ./quantlab. */
const char *proc_quantlab_bin(void);

/* proc_run on the binary under test: argv[0] is proc_quantlab_bin(), then args
 * (NULL-terminated, at most PROC_MAX_ARGS). Fails the test if it cannot start. */
enum { PROC_MAX_ARGS = 62 };
ProcResult proc_quantlab(const char *const *args, const char *const *env, int timeout_ms);

/* Fails the test unless r exited with `status` and printed one line on stderr
 * that starts "quantlab: " and contains needle; frees r when it passes. */
void proc_expect_error(ProcResult r, int status, const char *needle);

/* A path under the data directory ($QUANTLAB_DATA or "."): proc_data_path("tests/data/x").
 * Eight buffers take turns: valid until eight more calls. */
const char *proc_data_path(const char *relative);

/* Makes a new directory /tmp/ql-TAG-XXXXXX, its name in dir; 0, or -1. */
int proc_tmpdir_new(char *dir, size_t size, const char *tag);
/* Removes dir and everything in it; 0, or -1. */
int proc_tmpdir_remove(const char *dir);
/* dir/name, in eight buffers of its own that take turns (as proc_data_path). */
const char *proc_path(const char *dir, const char *name);

/* Number of '\n'-terminated lines in s. */
int proc_count_lines(const char *s);

/* Reads a whole file (NUL-terminated); NULL on error. Caller frees. */
char *proc_read_file(const char *path, size_t *len);

#endif
