/* gguf_value.c — GGUF key/value values: sizes, names, ownership and formatting.
 *
 * Shared by the reader (gguf_read.c), the writer (gguf_write.c) and, through
 * gguf_value_format(), by `quantlab info`. See gguf_internal.h for who owns what.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "gguf/gguf_internal.h"

size_t gguf_scalar_size(GgufValueType type) {
    switch (type) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64: return 8;
    case GGUF_TYPE_STRING:
    case GGUF_TYPE_ARRAY:
    case GGUF_TYPE_COUNT: break;
    }
    return 0;
}

size_t gguf_min_elem_size(GgufValueType type) {
    return type == GGUF_TYPE_STRING ? sizeof(uint64_t) : gguf_scalar_size(type);
}

const char *gguf_value_type_name(GgufValueType type) {
    static const char *const names[GGUF_TYPE_COUNT] = {
        [GGUF_TYPE_UINT8] = "uint8",     [GGUF_TYPE_INT8] = "int8",
        [GGUF_TYPE_UINT16] = "uint16",   [GGUF_TYPE_INT16] = "int16",
        [GGUF_TYPE_UINT32] = "uint32",   [GGUF_TYPE_INT32] = "int32",
        [GGUF_TYPE_FLOAT32] = "float32", [GGUF_TYPE_BOOL] = "bool",
        [GGUF_TYPE_STRING] = "string",   [GGUF_TYPE_ARRAY] = "array",
        [GGUF_TYPE_UINT64] = "uint64",   [GGUF_TYPE_INT64] = "int64",
        [GGUF_TYPE_FLOAT64] = "float64",
    };
    return (unsigned)type < GGUF_TYPE_COUNT ? names[type] : "unknown";
}

char *gguf_str_copy(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void gguf_value_free(GgufValue *v) {
    if (!v) return;
    if (v->type == GGUF_TYPE_STRING) free(v->v.str.data);
    else if (v->type == GGUF_TYPE_ARRAY) free(v->v.arr.data);
    memset(v, 0, sizeof *v);
}

GgufString *gguf_str_array_alloc(uint64_t n, uint64_t chars, char **text) {
    /* n slots, then the characters and n terminators */
    uint64_t slots, bytes;
    if (n > SIZE_MAX / sizeof(GgufString)) return NULL;
    slots = n * sizeof(GgufString);
    if (chars > UINT64_MAX - n || chars + n > UINT64_MAX - slots) return NULL;
    bytes = slots + chars + n;
    if (bytes == 0) bytes = sizeof(GgufString); /* never NULL for an empty array */
    if (bytes > SIZE_MAX) return NULL;
    GgufString *s = malloc((size_t)bytes);
    if (!s) return NULL;
    memset(s, 0, (size_t)slots);
    *text = (char *)s + slots;
    return s;
}

const char *gguf_string_problem(const char *s, uint64_t len) {
    if (len > 0 && memchr(s, '\0', (size_t)len)) return "contains a NUL byte";
    if (!utf8_valid(s, (size_t)len)) return "is not valid UTF-8";
    return NULL;
}

/* Strings longer than this (after escaping) are cut with "..." by gguf_value_format. */
enum { FORMAT_STR_MAX = 72 };

void gguf_value_format(const GgufValue *v, char *buf, size_t size) {
    if (size == 0) return;
    switch (v->type) {
    case GGUF_TYPE_UINT8: snprintf(buf, size, "%u", (unsigned)v->v.u8); return;
    case GGUF_TYPE_INT8: snprintf(buf, size, "%d", (int)v->v.i8); return;
    case GGUF_TYPE_UINT16: snprintf(buf, size, "%u", (unsigned)v->v.u16); return;
    case GGUF_TYPE_INT16: snprintf(buf, size, "%d", (int)v->v.i16); return;
    case GGUF_TYPE_UINT32: snprintf(buf, size, "%" PRIu32, v->v.u32); return;
    case GGUF_TYPE_INT32: snprintf(buf, size, "%" PRId32, v->v.i32); return;
    case GGUF_TYPE_UINT64: snprintf(buf, size, "%" PRIu64, v->v.u64); return;
    case GGUF_TYPE_INT64: snprintf(buf, size, "%" PRId64, v->v.i64); return;
    /* 9 and 17 significant digits are enough to get the same float / double back */
    case GGUF_TYPE_FLOAT32: snprintf(buf, size, "%.9g", (double)v->v.f32); return;
    case GGUF_TYPE_FLOAT64: snprintf(buf, size, "%.17g", v->v.f64); return;
    case GGUF_TYPE_BOOL: snprintf(buf, size, "%s", v->v.b ? "true" : "false"); return;
    case GGUF_TYPE_STRING: {
        char esc[FORMAT_STR_MAX + 1];
        size_t cap = size > 2 ? size - 2 : 1; /* room for the quotes */
        if (cap > sizeof esc) cap = sizeof esc;
        if (v->v.str.data) utf8_escape(esc, cap, v->v.str.data, (size_t)v->v.str.len);
        else esc[0] = '\0';
        snprintf(buf, size, "'%s'", esc);
        return;
    }
    case GGUF_TYPE_ARRAY:
        snprintf(buf, size, "[%" PRIu64 " x %s]", v->v.arr.n, gguf_value_type_name(v->v.arr.type));
        return;
    case GGUF_TYPE_COUNT: break;
    }
    snprintf(buf, size, "(unknown type %d)", (int)v->type);
}
