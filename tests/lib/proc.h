/* proc.h — run a program to completion and capture what it printed (for tests of
 * the command-line interface: exit codes, stdout, one-line errors on stderr). */
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

/* A path under the data directory ($QUANTLAB_DATA or "."): proc_data_path("tests/data/x"). */
const char *proc_data_path(const char *relative);

/* Number of '\n'-terminated lines in s. */
int proc_count_lines(const char *s);

/* Reads a whole file (NUL-terminated); NULL on error. Caller frees. */
char *proc_read_file(const char *path, size_t *len);

#endif
