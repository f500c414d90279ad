/* error.c — see error.h. */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

Status error_setv(Error *err, Status status, const char *fmt, va_list ap) {
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
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
