/* json.c — see json.h. A recursive-descent reader over a (buffer, length). */
#include "lesson/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

typedef struct Reader {
    const char *p, *end, *start;
    const char *name;
    Error *err;
    Status st;
} Reader;

static Status fail(Reader *r, const char *what) {
    if (r->st == ST_OK)
        r->st = error_set(r->err, ST_FORMAT, "%s: not valid JSON (byte %zu: %s)", r->name,
                          (size_t)(r->p - r->start), what);
    return r->st;
}

static void skip_space(Reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static JsonValue *node(Reader *r, JsonType type) {
    JsonValue *v = calloc(1, sizeof *v);
    if (!v && r->st == ST_OK) r->st = error_set(r->err, ST_NOMEM, "%s: out of memory", r->name);
    if (v) v->type = type;
    return v;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. The decoded string is never longer than its source. */
static char *read_string(Reader *r) {
    r->p++;
    const char *s = r->p;
    while (r->p < r->end && *r->p != '"') r->p += (*r->p == '\\' && r->p + 1 < r->end) ? 2 : 1;
    if (r->p >= r->end) {
        fail(r, "a string never ends");
        return NULL;
    }
    size_t n = (size_t)(r->p - s);
    char *out = malloc(n + 1);
    if (!out) {
        if (r->st == ST_OK) r->st = error_set(r->err, ST_NOMEM, "%s: out of memory", r->name);
        return NULL;
    }
    size_t o = 0;
    for (const char *q = s; q < r->p;) {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) {
            r->p = q;
            fail(r, "a control character in a string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            out[o++] = (char)c;
            q++;
            continue;
        }
        char e = q[1];
        q += 2;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            int cp = r->p - q >= 4 ? hex4(q) : -1;
            if (cp > 0 && cp < 0xD800) { /* NUL (\u0000) and surrogates are refused */
                o += put_utf8(out + o, (uint32_t)cp);
                q += 4;
                break;
            }
            if (cp >= 0xE000) {
                o += put_utf8(out + o, (uint32_t)cp);
                q += 4;
                break;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && r->p - q >= 10 && q[4] == '\\' && q[5] == 'u') {
                int lo = hex4(q + 6);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    o += put_utf8(out + o, 0x10000 + (((uint32_t)cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00));
                    q += 10;
                    break;
                }
            }
            r->p = q - 2;
            fail(r, "a bad \\u escape");
            free(out);
            return NULL;
        }
        default:
            r->p = q - 2;
            fail(r, "a bad escape");
            free(out);
            return NULL;
        }
    }
    out[o] = '\0';
    if (!utf8_valid(out, o)) {
        fail(r, "a string that is not UTF-8");
        free(out);
        return NULL;
    }
    r->p++; /* the closing quote */
    return out;
}

static JsonValue *read_value(Reader *r, int depth);

static JsonValue *read_container(Reader *r, int depth, bool object) {
    JsonValue *v = node(r, object ? JSON_OBJECT : JSON_ARRAY);
    if (!v) return NULL;
    r->p++;
    JsonValue **tail = &v->child;
    skip_space(r);
    if (r->p < r->end && *r->p == (object ? '}' : ']')) {
        r->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_space(r);
        if (object) {
            if (r->p >= r->end || *r->p != '"') {
                fail(r, "expected a member name");
                break;
            }
            if (!(key = read_string(r))) break;
            skip_space(r);
            if (r->p >= r->end || *r->p != ':') {
                free(key);
                fail(r, "expected ':'");
                break;
            }
            r->p++;
        }
        JsonValue *item = read_value(r, depth + 1);
        if (!item) {
            free(key);
            break;
        }
        item->key = key;
        *tail = item;
        tail = &item->next;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (object ? '}' : ']')) {
            r->p++;
            return v;
        }
        fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    json_free(v);
    return NULL;
}

static JsonValue *read_number(Reader *r) {
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9')) {
        fail(r, "expected a value");
        return NULL;
    }
    if (*r->p == '0') r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9')) return fail(r, "a digit after '.'"), NULL;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9')) return fail(r, "a digit in the exponent"), NULL;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    char buf[64];
    size_t n = (size_t)(r->p - s);
    if (n >= sizeof buf) {
        r->p = s;
        fail(r, "a number too long");
        return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (!isfinite(d)) {
        r->p = s;
        fail(r, "a number out of range");
        return NULL;
    }
    JsonValue *v = node(r, JSON_NUMBER);
    if (v) v->number = d;
    return v;
}

static bool word(Reader *r, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0) {
        r->p += n;
        return true;
    }
    return false;
}

static JsonValue *read_value(Reader *r, int depth) {
    if (depth > JSON_MAX_DEPTH) {
        fail(r, "nested too deeply");
        return NULL;
    }
    skip_space(r);
    if (r->p >= r->end) {
        fail(r, "expected a value");
        return NULL;
    }
    JsonValue *v;
    switch (*r->p) {
    case '{': return read_container(r, depth, true);
    case '[': return read_container(r, depth, false);
    case '"': {
        char *s = read_string(r);
        if (!s) return NULL;
        if (!(v = node(r, JSON_STRING))) {
            free(s);
            return NULL;
        }
        v->string = s;
        return v;
    }
    case 't':
    case 'f':
    case 'n':
        if (word(r, "true") || word(r, "false")) {
            if ((v = node(r, JSON_BOOL))) v->boolean = r->p[-1] == 'e' && r->p[-2] == 'u';
            return v;
        }
        if (word(r, "null")) return node(r, JSON_NULL);
        fail(r, "expected a value");
        return NULL;
    default: return read_number(r);
    }
}

Status json_parse(JsonValue **out, const char *buf, size_t len, const char *name, Error *err) {
    *out = NULL;
    Reader r = {buf, buf + len, buf, name, err, ST_OK};
    JsonValue *v = read_value(&r, 0);
    if (v) {
        skip_space(&r);
        if (r.p != r.end) fail(&r, "more after the value");
    }
    if (r.st != ST_OK) {
        json_free(v);
        return r.st;
    }
    *out = v;
    return ST_OK;
}

void json_free(JsonValue *v) {
    while (v) {
        JsonValue *next = v->next;
        json_free(v->child);
        free(v->string);
        free(v->key);
        free(v);
        v = next;
    }
}

const JsonValue *json_get(const JsonValue *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (const JsonValue *c = v->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0) return c;
    return NULL;
}

/* ---------------------------------------------------------------- writing */


void json_out_raw(JsonOut *o, const char *text) {
    strbuf_puts(o, text);
}

void json_out_string(JsonOut *o, const char *s) {
    strbuf_append(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            strbuf_append(o, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            strbuf_append(o, esc, 6);
        } else {
            strbuf_append(o, (const char *)p, 1);
        }
    }
    strbuf_append(o, "\"", 1);
}

void json_out_free(JsonOut *o) {
    strbuf_free(o);
}
