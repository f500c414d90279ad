/* strbuf.h — a growing text buffer: appends that may fail on memory, checked
 * once at the end. Plans written as text, progress files, lesson pages. */
#ifndef QL_BASE_STRBUF_H
#define QL_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct StrBuf {
    char *s;          /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
    bool failed;      /* an allocation failed: later appends do nothing */
} StrBuf;

/* Appends n bytes of s; false (and from then on failed) when memory runs out. */
bool strbuf_append(StrBuf *b, const char *s, size_t n);
bool strbuf_puts(StrBuf *b, const char *s);
bool strbuf_printf(StrBuf *b, const char *fmt, ...) QL_PRINTF(2, 3);
void strbuf_free(StrBuf *b);

#endif
