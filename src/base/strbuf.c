/* strbuf.c — see strbuf.h. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool strbuf_append(StrBuf *b, const char *s, size_t n) {
    if (b->failed) return false;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->failed = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return false;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return true;
}

bool strbuf_puts(StrBuf *b, const char *s) {
    return strbuf_append(b, s, strlen(s));
}

bool strbuf_printf(StrBuf *b, const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return false;
    }
    if ((size_t)n < sizeof line) return strbuf_append(b, line, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = strbuf_append(b, big, (size_t)n);
    free(big);
    return ok;
}

void strbuf_free(StrBuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}
