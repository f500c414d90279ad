/* utf8.c — see utf8.h. */
#include "base/utf8.h"

#include <stdio.h>
#include <string.h>

size_t utf8_decode(const char *s, size_t len, uint32_t *cp) {
    if (len == 0) return 0;
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { /* 0xC0, 0xC1 could only start overlong forms */
        n = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* a continuation byte, or 0xF5..0xFF which UTF-8 never uses */
    }
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

size_t utf8_find_invalid(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        /* ASCII runs are the common case (tensor names, keys) */
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) return i;
        i += n;
    }
    return len;
}

bool utf8_valid(const char *s, size_t len) {
    return utf8_find_invalid(s, len) == len;
}

/* The escaped form of the character at s[0..len): fills piece (up to 16 bytes),
 * sets *used to the input bytes it stands for and returns its length. */
static size_t escape_one(const char *s, size_t len, char piece[16], size_t *used) {
    uint32_t cp;
    size_t n = utf8_decode(s, len, &cp);
    if (n == 0) {
        *used = 1;
        return (size_t)snprintf(piece, 16, "\\x%02X", (unsigned char)s[0]);
    }
    *used = n;
    if (cp == '\\' || cp == '\'') {
        piece[0] = '\\', piece[1] = (char)cp;
        return 2;
    }
    if (cp == '\n' || cp == '\t' || cp == '\r') {
        piece[0] = '\\', piece[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
        return 2;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
        /* C0 and C1 controls: shown as the bytes they are */
        size_t pn = 0;
        for (size_t k = 0; k < n; k++)
            pn += (size_t)snprintf(piece + pn, 16 - pn, "\\x%02X", (unsigned char)s[k]);
        return pn;
    }
    memcpy(piece, s, n);
    return n;
}

char *utf8_escape(char *out, size_t size, const char *s, size_t len) {
    if (size == 0) return out;
    static const char dots[] = "...";
    char piece[16];
    size_t used, total = 0;
    /* (stops counting once it is known not to fit, so a huge input costs little) */
    for (size_t i = 0; i < len && total <= size - 1; i += used)
        total += escape_one(s + i, len - i, piece, &used);
    /* everything fits, or only what leaves room for the dots */
    bool cut = total > size - 1;
    size_t limit = size - 1;
    if (cut) limit = limit > sizeof dots - 1 ? limit - (sizeof dots - 1) : 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i += used) {
        size_t pn = escape_one(s + i, len - i, piece, &used);
        if (o + pn > limit) break;
        memcpy(out + o, piece, pn);
        o += pn;
    }
    if (cut) {
        size_t d = sizeof dots - 1 < size - 1 - o ? sizeof dots - 1 : size - 1 - o;
        memcpy(out + o, dots, d);
        o += d;
    }
    out[o] = '\0';
    return out;
}
