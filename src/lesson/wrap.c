/* wrap.c — see wrap.h. */
#include "lesson/wrap.h"

#include <string.h>

#include "lesson/figure.h"

static bool is_mark(unsigned char c) {
    return c == FIGURE_MARK_START || c == FIGURE_MARK_END;
}

int lesson_text_width(const char *s, int len) {
    int w = 0;
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80 && !is_mark(c)) w++;
    }
    return w;
}

static void emit(WrapLine *lines, int max, int *n, const char *start, int len, bool verbatim) {
    if (*n < max) lines[*n] = (WrapLine){start, len, verbatim};
    (*n)++;
}

/* Bytes of s (at most len) that fit in width characters. */
static int fit(const char *s, int len, int width) {
    int w = 0, i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80 || is_mark(c)) continue;
        if (w == width) break;
        w++;
    }
    return i;
}

int lesson_wrap(const char *text, int width, WrapLine *lines, int max) {
    int n = 0;
    if (width < 1) width = 1;
    for (const char *p = text; *p || p == text;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (len > 0 && p[0] == '\t') {
            emit(lines, max, &n, p + 1, fit(p + 1, len - 1, width), true);
        } else if (len == 0) {
            if (*text) emit(lines, max, &n, p, 0, false);
        } else {
            /* fill: break at the last space that fits, or cut a word too long */
            const char *s = p, *end = p + len;
            while (s < end) {
                while (s < end && *s == ' ') s++;
                if (s >= end) break;
                int rest = (int)(end - s);
                if (lesson_text_width(s, rest) <= width) {
                    emit(lines, max, &n, s, rest, false);
                    break;
                }
                int room = fit(s, rest, width);
                int cut = room;
                while (cut > 0 && s[cut] != ' ') cut--;
                if (cut == 0) cut = room; /* a word longer than the line */
                int keep = cut;
                while (keep > 0 && s[keep - 1] == ' ') keep--;
                emit(lines, max, &n, s, keep, false);
                s += cut;
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}
