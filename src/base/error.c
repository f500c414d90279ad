/* error.c — see error.h. */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

/* A message is one line for a terminal, and often quotes a file's bytes (a
 * plan pattern, a lesson line, a key): control characters become '?', so a
 * hostile file can neither break the line nor send escape sequences that move
 * the cursor or retitle the window (found by the fuzz targets' message check).
 * Callers that want a faithful quote escape it first (utf8_escape). */
static void make_printable(char *msg) {
    for (unsigned char *c = (unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c == 0x7f) *c = '?';
}

Status error_setv(Error *err, Status status, const char *fmt, va_list ap) {
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        make_printable(err->msg);
    }
    return status;
}

Status error_set(Error *err, Status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void error_prefix(Error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    /* prefix + ": " + old, cut to fit (plain copies: a truncating snprintf warns) */
    size_t cap = sizeof err->msg - 1, n = 0;
    for (const char *parts[3] = {prefix, ": ", old}, **p = parts; p < parts + 3; p++)
        for (const char *c = *p; *c && n < cap; c++) err->msg[n++] = *c;
    err->msg[n] = '\0';
    make_printable(err->msg);
}

void error_clear(Error *err) {
    if (!err) return;
    err->status = ST_OK;
    err->msg[0] = '\0';
}

const char *status_name(Status status) {
    switch (status) {
    case ST_OK: return "ok";
    case ST_IO: return "input/output error";
    case ST_FORMAT: return "malformed input";
    case ST_UNSUPPORTED: return "unsupported";
    case ST_LIMIT: return "too large";
    case ST_NOMEM: return "out of memory";
    case ST_USAGE: return "usage error";
    case ST_CANCELLED: return "cancelled";
    }
    return "unknown status";
}
