/* gguf_read.c — the GGUF reader: parse a file and check everything in it.
 *
 * Called through gguf_open()/gguf_parse() by the model loader, `quantlab info`
 * and the tests (lookups and conversion are in gguf_lookup.c). The parser works on
 * a (buffer, length) pair; gguf_open() maps a file read-only and hands the
 * mapping to the same parser. Tensor data is never copied: each GgufTensorInfo
 * points into the buffer.
 *
 * Every number in the file is hostile. In order:
 *   1. magic, then version (2 and 3; 1, big-endian and unknown versions are
 *      refused) — before anything is allocated;
 *   2. n_kv and n_tensors against the bytes that remain (a key/value pair takes
 *      at least KV_MIN_BYTES, a tensor info at least TI_MIN_BYTES), so the two
 *      arrays sized by them are never larger than a few times the file;
 *   3. each string length, and each array's count × element size, against the
 *      bytes that remain, before it is copied;
 *   4. keys, string values, string-array elements and tensor names: valid
 *      UTF-8 with no NUL byte; keys non-empty; tensor names 1..63 bytes (ggml's
 *      GGML_MAX_NAME); value types known; arrays of arrays refused (llama.cpp
 *      refuses them too); booleans read as llama.cpp does (any non-zero byte is
 *      true);
 *   5. duplicate keys and duplicate tensor names (sorted, so a file with a
 *      million keys costs n log n, not n²);
 *   6. general.alignment: a uint32 (llama.cpp requires that type), non-zero,
 *      a power of two;
 *   7. per tensor: n_dims 1..4; every ne >= 1 (see below); the element count
 *      overflow-checked and at most INT64_MAX (ggml's int64_t); a type
 *      type_traits() knows; ne[0] a whole number of blocks; the byte size
 *      overflow-checked; the offset a multiple of the alignment; offset + size
 *      inside the data section; and no two tensors' bytes overlapping.
 *
 * Zero-sized dimensions: the GGUF spec does not forbid them and recent llama.cpp
 * accepts zero-element tensors, but no model has one and older llama.cpp divides
 * by zero on them; quantlab refuses ne = 0 so every tensor has at least one
 * element and a non-empty, non-aliased data range.
 *
 * Unlike llama.cpp we do not require tensors to be stored back to back in
 * info order (gguf-py's reader does not either), and the last tensor's padding
 * may be missing; when there are no tensors the data section may be absent.
 *
 * Memory: kv and tensor arrays (bounded by step 2), one copy of each string
 * (bounded by the file), one block per array. Never more than a small multiple
 * of the input size.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/utf8.h"
#include "gguf/gguf_internal.h"
#include "quant/types.h"

/* Tensor data and array payloads are copied raw: GGUF v2/v3 as read here are
 * little-endian, and so is every host quantlab builds on. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "quantlab's GGUF reader assumes a little-endian host"
#endif
_Static_assert(sizeof(bool) == 1, "GGUF bool arrays are read as one byte per value");

enum {
    HEADER_BYTES = 4 + 4 + 8 + 8, /* magic, version, n_tensors, n_kv */
    /* smallest key/value pair: key length (8) + key (>= 1) + type (4) + a 1-byte value */
    KV_MIN_BYTES = 8 + 1 + 4 + 1,
    /* smallest tensor info: name length (8) + name (>= 1) + n_dims (4) + one ne (8)
     * + type (4) + offset (8) */
    TI_MIN_BYTES = 8 + 1 + 4 + 8 + 4 + 8,
    /* how much of a file's text goes into a message */
    MSG_NAME_MAX = 80,
};

/* ------------------------------------------------------------------ cursor */

/* A read position in the buffer plus what is being read, for messages. */
typedef struct Cursor {
    const uint8_t *buf;
    size_t len, pos;
    const char *name; /* file name for messages */
    Error *err;
    char what[160];   /* "the header", "key 'general.name'", "tensor 'x'" ... */
} Cursor;

static size_t cur_left(const Cursor *c) {
    return c->len - c->pos;
}

static bool cur_need(Cursor *c, uint64_t n) {
    if (n <= cur_left(c)) return true;
    error_set(c->err, ST_FORMAT,
              "%s: truncated file: it ends inside %s (%" PRIu64 " bytes needed at offset %zu, "
              "%zu left)",
              c->name, c->what, n, c->pos, cur_left(c));
    return false;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool cur_u32(Cursor *c, uint32_t *out) {
    if (!cur_need(c, 4)) return false;
    *out = le32(c->buf + c->pos);
    c->pos += 4;
    return true;
}

static bool cur_u64(Cursor *c, uint64_t *out) {
    if (!cur_need(c, 8)) return false;
    *out = le64(c->buf + c->pos);
    c->pos += 8;
    return true;
}

/* Reads a string's length and checks the bytes are there; *s points into the
 * buffer (not NUL-terminated). `role` says what the string is, for messages. */
static bool cur_str_view(Cursor *c, const char **s, uint64_t *len, const char *role) {
    uint64_t n;
    if (!cur_u64(c, &n)) return false;
    if (n > cur_left(c)) {
        error_set(c->err, ST_FORMAT,
                  "%s: %s of %s has length %" PRIu64 " but only %zu bytes are left in the file",
                  c->name, role, c->what, n, cur_left(c));
        return false;
    }
    *s = (const char *)c->buf + c->pos;
    *len = n;
    c->pos += (size_t)n;
    return true;
}

/* `s` escaped for a message, in the caller's buffer. */
static const char *shown(char out[MSG_NAME_MAX], const char *s, uint64_t len) {
    return utf8_escape(out, MSG_NAME_MAX, s, (size_t)len);
}

static Status no_memory(Cursor *c) {
    return error_set(c->err, ST_NOMEM, "%s: out of memory while reading %s", c->name, c->what);
}

/* ------------------------------------------------------------------ header */

static Status read_header(Cursor *c, uint32_t *version, uint64_t *n_tensors, uint64_t *n_kv) {
    const char *name = c->name;
    if (c->len == 0) return error_set(c->err, ST_FORMAT, "%s: empty file", name);
    size_t m = c->len < 4 ? c->len : 4;
    if (memcmp(c->buf, GGUF_MAGIC, m) != 0) {
        char esc[MSG_NAME_MAX];
        return error_set(c->err, ST_FORMAT, "%s: not a GGUF file (magic is '%s')", name,
                         shown(esc, (const char *)c->buf, m));
    }
    snprintf(c->what, sizeof c->what, "the header");
    if (!cur_need(c, HEADER_BYTES)) return ST_FORMAT; /* a prefix of "GGUF..." */
    c->pos = 4;
    cur_u32(c, version);
    uint32_t v = *version;
    if (v == 1)
        return error_set(c->err, ST_UNSUPPORTED,
                         "%s: GGUF version 1 is not supported (only versions 2 and 3; "
                         "re-convert the model with a current llama.cpp)", name);
    if (v == 0) return error_set(c->err, ST_FORMAT, "%s: invalid GGUF version 0", name);
    if ((v & 0xFFFFu) == 0)
        return error_set(c->err, ST_UNSUPPORTED,
                         "%s: GGUF version 0x%08" PRIX32 " looks like a big-endian file; only "
                         "little-endian GGUF files are supported", name, v);
    if (v != 2 && v != 3)
        return error_set(c->err, ST_UNSUPPORTED,
                         "%s: unknown GGUF version %" PRIu32 " (this reader knows versions 2 and 3)",
                         name, v);
    cur_u64(c, n_tensors);
    cur_u64(c, n_kv);
    /* Counts against what remains, before anything is sized by them. */
    size_t left = cur_left(c);
    if (*n_kv > left / KV_MIN_BYTES)
        return error_set(c->err, ST_FORMAT,
                         "%s: header says %" PRIu64 " key/value pairs, but the %zu bytes that "
                         "follow can hold at most %zu",
                         name, *n_kv, left, left / KV_MIN_BYTES);
    if (*n_tensors > left / TI_MIN_BYTES)
        return error_set(c->err, ST_FORMAT,
                         "%s: header says %" PRIu64 " tensors, but the %zu bytes that follow can "
                         "describe at most %zu",
                         name, *n_tensors, left, left / TI_MIN_BYTES);
    /* both fit separately, so neither product overflows */
    if (*n_kv * KV_MIN_BYTES + *n_tensors * TI_MIN_BYTES > left)
        return error_set(c->err, ST_FORMAT,
                         "%s: header says %" PRIu64 " key/value pairs and %" PRIu64 " tensors, "
                         "more than the %zu bytes that follow can hold",
                         name, *n_kv, *n_tensors, left);
    return ST_OK;
}

/* ------------------------------------------------------------ key / values */

/* Reads a string that must be valid text (key, value or element) into a new
 * NUL-terminated copy. */
static Status read_text(Cursor *c, const char *role, GgufString *out) {
    const char *s;
    uint64_t n;
    if (!cur_str_view(c, &s, &n, role)) return ST_FORMAT;
    const char *why = gguf_string_problem(s, n);
    if (why) {
        char esc[MSG_NAME_MAX];
        return error_set(c->err, ST_FORMAT, "%s: %s of %s %s ('%s')", c->name, role, c->what, why,
                         shown(esc, s, n));
    }
    out->data = gguf_str_copy(s, (size_t)n);
    if (!out->data) return no_memory(c);
    out->len = n;
    return ST_OK;
}

static void read_scalar(const uint8_t *p, GgufValueType type, GgufValue *v) {
    switch (type) {
    case GGUF_TYPE_UINT8: v->v.u8 = p[0]; break;
    case GGUF_TYPE_INT8: v->v.i8 = (int8_t)p[0]; break;
    case GGUF_TYPE_UINT16: v->v.u16 = (uint16_t)(p[0] | p[1] << 8); break;
    case GGUF_TYPE_INT16: v->v.i16 = (int16_t)(uint16_t)(p[0] | p[1] << 8); break;
    case GGUF_TYPE_UINT32: v->v.u32 = le32(p); break;
    case GGUF_TYPE_INT32: v->v.i32 = (int32_t)le32(p); break;
    case GGUF_TYPE_FLOAT32: { uint32_t u = le32(p); memcpy(&v->v.f32, &u, 4); break; }
    case GGUF_TYPE_BOOL: v->v.b = p[0] != 0; break; /* as llama.cpp: non-zero is true */
    case GGUF_TYPE_UINT64: v->v.u64 = le64(p); break;
    case GGUF_TYPE_INT64: v->v.i64 = (int64_t)le64(p); break;
    case GGUF_TYPE_FLOAT64: { uint64_t u = le64(p); memcpy(&v->v.f64, &u, 8); break; }
    case GGUF_TYPE_STRING:
    case GGUF_TYPE_ARRAY:
    case GGUF_TYPE_COUNT: break;
    }
}

/* An array of strings: a first pass checks every element where it lies and sums
 * the lengths, then one block is allocated and filled (see gguf_internal.h). */
static Status read_str_array(Cursor *c, uint64_t n, GgufValue *v) {
    size_t start = c->pos;
    uint64_t chars = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        if (!cur_u64(c, &len)) return ST_FORMAT;
        if (len > cur_left(c))
            return error_set(c->err, ST_FORMAT,
                             "%s: element %" PRIu64 " of %s has length %" PRIu64 " but only %zu "
                             "bytes are left in the file", c->name, i, c->what, len, cur_left(c));
        const char *s = (const char *)c->buf + c->pos;
        const char *why = gguf_string_problem(s, len);
        if (why) {
            char esc[MSG_NAME_MAX];
            return error_set(c->err, ST_FORMAT, "%s: element %" PRIu64 " of %s %s ('%s')", c->name,
                             i, c->what, why, shown(esc, s, len));
        }
        c->pos += (size_t)len;
        chars += len; /* bounded by the file size: cannot overflow */
    }
    char *text;
    GgufString *strs = gguf_str_array_alloc(n, chars, &text);
    if (!strs) return no_memory(c);
    /* second pass: everything was checked above */
    c->pos = start;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len = le64(c->buf + c->pos);
        c->pos += 8;
        memcpy(text, c->buf + c->pos, (size_t)len);
        c->pos += (size_t)len;
        text[len] = '\0';
        strs[i].len = len;
        strs[i].data = text;
        text += len + 1;
    }
    v->v.arr.data = strs;
    return ST_OK;
}

static Status read_array(Cursor *c, GgufValue *v) {
    uint32_t et;
    uint64_t n;
    if (!cur_u32(c, &et) || !cur_u64(c, &n)) return ST_FORMAT;
    if (et == GGUF_TYPE_ARRAY)
        return error_set(c->err, ST_UNSUPPORTED,
                         "%s: %s is an array of arrays, which GGUF readers (llama.cpp, quantlab) "
                         "do not support", c->name, c->what);
    if (et >= GGUF_TYPE_COUNT)
        return error_set(c->err, ST_FORMAT, "%s: %s is an array of unknown value type %" PRIu32,
                         c->name, c->what, et);
    size_t min = gguf_min_elem_size((GgufValueType)et);
    if (n > cur_left(c) / min) {
        const char *tn = gguf_value_type_name((GgufValueType)et);
        if (n > UINT64_MAX / min)
            return error_set(c->err, ST_FORMAT,
                             "%s: %s is an array of %" PRIu64 " %s values, more than any file "
                             "can hold", c->name, c->what, n, tn);
        return error_set(c->err, ST_FORMAT,
                         "%s: %s is an array of %" PRIu64 " %s values, which needs at least "
                         "%" PRIu64 " bytes, but only %zu are left in the file",
                         c->name, c->what, n, tn, n * min, cur_left(c));
    }
    v->type = GGUF_TYPE_ARRAY;
    v->v.arr.type = (GgufValueType)et;
    v->v.arr.n = n;
    if (et == GGUF_TYPE_STRING) {
        Status st = read_str_array(c, n, v);
        if (st != ST_OK) v->v.arr.n = 0;
        return st;
    }
    size_t bytes = (size_t)n * min; /* <= what is left, checked above */
    uint8_t *data = malloc(bytes ? bytes : 1);
    if (!data) return no_memory(c);
    memcpy(data, c->buf + c->pos, bytes);
    if (et == GGUF_TYPE_BOOL)
        for (size_t i = 0; i < bytes; i++) data[i] = data[i] != 0; /* any non-zero is true */
    c->pos += bytes;
    v->v.arr.data = data;
    return ST_OK;
}

static Status read_kv(Cursor *c, uint64_t index, uint64_t n_kv, GgufKv *kv) {
    snprintf(c->what, sizeof c->what, "key/value pair %" PRIu64 " of %" PRIu64, index, n_kv);
    GgufString key = {0, NULL};
    Status st = read_text(c, "the key", &key);
    if (st != ST_OK) return st;
    kv->key = key.data;
    if (key.len == 0)
        return error_set(c->err, ST_FORMAT, "%s: %s has an empty key", c->name, c->what);
    char esc[MSG_NAME_MAX];
    snprintf(c->what, sizeof c->what, "key '%s'", shown(esc, key.data, key.len));

    uint32_t type;
    if (!cur_u32(c, &type)) return ST_FORMAT;
    if (type >= GGUF_TYPE_COUNT)
        return error_set(c->err, ST_FORMAT, "%s: %s has unknown value type %" PRIu32, c->name,
                         c->what, type);
    GgufValue *v = &kv->value;
    if (type == GGUF_TYPE_ARRAY) return read_array(c, v);
    if (type == GGUF_TYPE_STRING) {
        st = read_text(c, "the value", &v->v.str);
        if (st == ST_OK) v->type = GGUF_TYPE_STRING;
        return st;
    }
    size_t size = gguf_scalar_size((GgufValueType)type);
    if (!cur_need(c, size)) return ST_FORMAT;
    v->type = (GgufValueType)type;
    read_scalar(c->buf + c->pos, v->type, v);
    c->pos += size;
    return ST_OK;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the n names and reports the first that occurs twice, or NULL. The
 * index array is the caller's (n entries). */
static const char *find_duplicate(const char **names, size_t n) {
    if (n < 2) return NULL;
    qsort(names, n, sizeof *names, cmp_str_ptr);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) return names[i];
    return NULL;
}

static Status check_duplicates(Cursor *c, const char *what, const char *(*name_of)(const void *, size_t),
                               const void *items, size_t n) {
    if (n < 2) return ST_OK;
    const char **names = malloc(n * sizeof *names);
    if (!names) return no_memory(c);
    for (size_t i = 0; i < n; i++) names[i] = name_of(items, i);
    const char *dup = find_duplicate(names, n);
    Status st = ST_OK;
    if (dup) {
        char esc[MSG_NAME_MAX];
        st = error_set(c->err, ST_FORMAT, "%s: duplicate %s '%s'", c->name, what,
                       shown(esc, dup, strlen(dup)));
    }
    free(names);
    return st;
}

static const char *kv_name(const void *items, size_t i) {
    return ((const GgufKv *)items)[i].key;
}

static const char *tensor_name(const void *items, size_t i) {
    return ((const GgufTensorInfo *)items)[i].name;
}

static Status read_alignment(Cursor *c, const GgufFile *f, uint64_t *alignment) {
    *alignment = GGUF_DEFAULT_ALIGNMENT;
    const GgufKv *kv = gguf_find_kv(f, "general.alignment");
    if (!kv) return ST_OK;
    if (kv->value.type != GGUF_TYPE_UINT32)
        return error_set(c->err, ST_FORMAT,
                         "%s: general.alignment must be a uint32 (as llama.cpp requires), not %s",
                         c->name, gguf_value_type_name(kv->value.type));
    uint32_t a = kv->value.v.u32;
    if (a == 0 || (a & (a - 1)) != 0)
        return error_set(c->err, ST_FORMAT,
                         "%s: general.alignment is %" PRIu32 ", not a non-zero power of two",
                         c->name, a);
    *alignment = a;
    return ST_OK;
}

/* ----------------------------------------------------------- tensor infos */

static Status read_tensor_info(Cursor *c, uint64_t index, uint64_t n_tensors, uint64_t alignment,
                               GgufTensorInfo *t) {
    snprintf(c->what, sizeof c->what, "tensor info %" PRIu64 " of %" PRIu64, index, n_tensors);
    GgufString name = {0, NULL};
    Status st = read_text(c, "the name", &name);
    if (st != ST_OK) return st;
    t->name = name.data;
    char esc[MSG_NAME_MAX];
    if (name.len == 0)
        return error_set(c->err, ST_FORMAT, "%s: %s has an empty name", c->name, c->what);
    if (name.len > GGUF_MAX_TENSOR_NAME)
        return error_set(c->err, ST_FORMAT,
                         "%s: tensor name '%s' is %" PRIu64 " bytes long (ggml allows at most %d)",
                         c->name, shown(esc, name.data, name.len), name.len, GGUF_MAX_TENSOR_NAME);
    snprintf(c->what, sizeof c->what, "tensor '%s'", shown(esc, name.data, name.len));

    if (!cur_u32(c, &t->n_dims)) return ST_FORMAT;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return error_set(c->err, ST_FORMAT, "%s: %s has %" PRIu32 " dimensions (must be 1 to %d)",
                         c->name, c->what, t->n_dims, GGUF_MAX_DIMS);
    uint64_t count = 1;
    for (int j = 0; j < GGUF_MAX_DIMS; j++) t->ne[j] = 1;
    for (uint32_t j = 0; j < t->n_dims; j++) {
        if (!cur_u64(c, &t->ne[j])) return ST_FORMAT;
        if (t->ne[j] == 0)
            return error_set(c->err, ST_FORMAT, "%s: %s has a dimension of size 0 (ne[%" PRIu32 "])",
                             c->name, c->what, j);
        if (!checked_mul_u64(count, t->ne[j], &count) || count > INT64_MAX)
            return error_set(c->err, ST_FORMAT,
                             "%s: %s has too many elements (the product of its dimensions "
                             "exceeds 2^63 - 1)", c->name, c->what);
    }
    t->n_elements = count;

    if (!cur_u32(c, &t->type)) return ST_FORMAT;
    const TypeTraits *tt = type_traits(t->type);
    if (!tt)
        return error_set(c->err, ST_UNSUPPORTED, "%s: %s has unknown ggml type %" PRIu32, c->name,
                         c->what, t->type);
    if (t->ne[0] % (uint64_t)tt->block_size != 0)
        return error_set(c->err, ST_FORMAT,
                         "%s: %s has rows of %" PRIu64 " values, not a whole number of %s blocks "
                         "of %d", c->name, c->what, t->ne[0], tt->name, tt->block_size);
    uint64_t nbytes;
    if (!checked_mul_u64(count / (uint64_t)tt->block_size, tt->type_size, &nbytes) ||
        nbytes > SIZE_MAX)
        return error_set(c->err, ST_FORMAT, "%s: %s is too large for this machine", c->name,
                         c->what);
    t->nbytes = (size_t)nbytes;

    if (!cur_u64(c, &t->offset)) return ST_FORMAT;
    if (t->offset % alignment != 0)
        return error_set(c->err, ST_FORMAT,
                         "%s: %s has offset %" PRIu64 ", not a multiple of the alignment %" PRIu64,
                         c->name, c->what, t->offset, alignment);
    return ST_OK;
}

static int cmp_tensor_offset(const void *a, const void *b) {
    const GgufTensorInfo *x = *(const GgufTensorInfo *const *)a;
    const GgufTensorInfo *y = *(const GgufTensorInfo *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Places every tensor in the data section: inside it, and not overlapping. */
static Status place_tensors(Cursor *c, GgufFile *f) {
    char esc[MSG_NAME_MAX], esc2[MSG_NAME_MAX];
    uint64_t data_size = f->data_offset <= f->size ? f->size - f->data_offset : 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        GgufTensorInfo *t = &f->tensors[i];
        uint64_t end;
        if (!checked_add_u64(t->offset, t->nbytes, &end) || end > data_size) {
            uint64_t abs;
            if (checked_add_u64(f->data_offset, t->offset, &abs))
                return error_set(c->err, ST_FORMAT,
                                 "%s: tensor '%s' data ends past the end of the file (offset "
                                 "%" PRIu64 " + %zu bytes > %zu)",
                                 c->name, shown(esc, t->name, strlen(t->name)), abs, t->nbytes,
                                 f->size);
            return error_set(c->err, ST_FORMAT,
                             "%s: tensor '%s' data offset %" PRIu64 " is past the end of the file",
                             c->name, shown(esc, t->name, strlen(t->name)), t->offset);
        }
        t->data = f->buf + f->data_offset + t->offset;
    }
    if (f->n_tensors < 2) return ST_OK;
    GgufTensorInfo **by = malloc((size_t)f->n_tensors * sizeof *by);
    if (!by) return no_memory(c);
    for (uint64_t i = 0; i < f->n_tensors; i++) by[i] = &f->tensors[i];
    qsort(by, (size_t)f->n_tensors, sizeof *by, cmp_tensor_offset);
    Status st = ST_OK;
    for (uint64_t i = 1; i < f->n_tensors && st == ST_OK; i++) {
        const GgufTensorInfo *a = by[i - 1], *b = by[i];
        if (a->offset + a->nbytes > b->offset) /* no overflow: both lie in the buffer */
            st = error_set(c->err, ST_FORMAT,
                           "%s: tensors '%s' and '%s' overlap (offset %" PRIu64 " + %zu bytes > "
                           "%" PRIu64 ")",
                           c->name, shown(esc, a->name, strlen(a->name)),
                           shown(esc2, b->name, strlen(b->name)), a->offset, a->nbytes, b->offset);
    }
    free(by);
    return st;
}

/* ------------------------------------------------------------------- parse */

static Status parse(GgufFile *f, Cursor *c) {
    uint64_t n_tensors, n_kv;
    Status st = read_header(c, &f->version, &n_tensors, &n_kv);
    if (st != ST_OK) return st;

    /* counts are bounded by the file size (read_header), so these fit */
    f->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *f->tensors);
    if (!f->kv || !f->tensors) return no_memory(c);

    for (uint64_t i = 0; i < n_kv; i++) {
        f->n_kv = i + 1; /* so gguf_close frees a half-read pair */
        st = read_kv(c, i, n_kv, &f->kv[i]);
        if (st != ST_OK) return st;
    }
    st = check_duplicates(c, "key", kv_name, f->kv, (size_t)f->n_kv);
    if (st == ST_OK) st = read_alignment(c, f, &f->alignment);
    if (st != ST_OK) return st;

    for (uint64_t i = 0; i < n_tensors; i++) {
        f->n_tensors = i + 1;
        st = read_tensor_info(c, i, n_tensors, f->alignment, &f->tensors[i]);
        if (st != ST_OK) return st;
    }
    st = check_duplicates(c, "tensor name", tensor_name, f->tensors, (size_t)f->n_tensors);
    if (st != ST_OK) return st;

    /* The data section starts at the next multiple of the alignment. */
    if (!checked_align_u64(c->pos, f->alignment, &f->data_offset))
        return error_set(c->err, ST_FORMAT, "%s: data section offset overflows", c->name);
    if (n_tensors > 0 && f->data_offset > c->len)
        return error_set(c->err, ST_FORMAT,
                         "%s: truncated file: the tensor data should start at offset %" PRIu64
                         " but the file is %zu bytes", c->name, f->data_offset, c->len);
    return place_tensors(c, f);
}

Status gguf_parse(GgufFile *f, const void *buf, size_t len, const char *name, Error *err) {
    assert(f && name && (buf || len == 0));
    memset(f, 0, sizeof *f);
    f->name = gguf_str_copy(name, strlen(name));
    if (!f->name) return error_set(err, ST_NOMEM, "%s: out of memory", name);
    f->buf = buf;
    f->size = len;
    Cursor c = {.buf = buf, .len = len, .pos = 0, .name = name, .err = err, .what = "the header"};
    Status st = parse(f, &c);
    if (st != ST_OK) gguf_close(f);
    return st;
}

Status gguf_open(GgufFile *f, const char *path, Error *err) {
    memset(f, 0, sizeof *f);
    FileMap map;
    Status st = file_map_open(&map, path, err);
    if (st != ST_OK) return st;
    st = gguf_parse(f, map.data, map.size, path, err);
    if (st != ST_OK) {
        file_map_close(&map);
        return st;
    }
    f->map = map;
    return ST_OK;
}

void gguf_close(GgufFile *f) {
    if (!f) return;
    if (f->kv)
        for (uint64_t i = 0; i < f->n_kv; i++) {
            free(f->kv[i].key);
            gguf_value_free(&f->kv[i].value);
        }
    free(f->kv);
    if (f->tensors)
        for (uint64_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    free(f->name);
    file_map_close(&f->map);
    memset(f, 0, sizeof *f);
}
