/* error.h — status codes and one-line error messages.
 *
 * Every function below main.c / tui/ that can fail returns a Status and fills an
 * Error with one line that names the file (or input) and what is wrong, e.g.
 *   "model.gguf: tensor 'blk.0.attn_q.weight' ends past the end of the file".
 * Nothing below main.c prints or exits; caller bugs are assert()s instead.
 */
#ifndef QL_BASE_ERROR_H
#define QL_BASE_ERROR_H

#include <stdarg.h>

typedef enum Status {
    ST_OK = 0,
    ST_IO,          /* the operating system refused (open, read, write, rename) */
    ST_FORMAT,      /* the input is malformed: bad magic, truncated, inconsistent */
    ST_UNSUPPORTED, /* well-formed but something we do not handle (an unknown type) */
    ST_LIMIT,       /* well-formed but larger than we are willing to allocate */
    ST_NOMEM,       /* an allocation failed */
    ST_USAGE,       /* the caller asked for something impossible (bad flag, bad plan) */
    ST_CANCELLED    /* a long job was cancelled on request */
} Status;

enum { ERROR_MSG_MAX = 512 };

typedef struct Error {
    Status status;
    char msg[ERROR_MSG_MAX];
} Error;

#if defined(__GNUC__)
#define QL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QL_PRINTF(a, b)
#endif

/* Records status and a printf-formatted message in *err (err may be NULL) and
 * returns status, so callers can write `return error_set(err, ST_FORMAT, ...)`. */
Status error_set(Error *err, Status status, const char *fmt, ...) QL_PRINTF(3, 4);
Status error_setv(Error *err, Status status, const char *fmt, va_list ap);

/* Prepends "prefix: " to an existing message (for adding the file name on the way up). */
void error_prefix(Error *err, const char *fmt, ...) QL_PRINTF(2, 3);

/* Empties *err (status ST_OK, empty message). */
void error_clear(Error *err);

/* The short English name of a status, e.g. "malformed input". */
const char *status_name(Status status);

#endif
