/* gguf_write.c — the GGUF writer: collect key/values and tensors, then stream
 * a version-3 file (or a heap buffer).
 *
 * Called by `quantlab quantize`/export, the llama2.c importer and the tests. The
 * layout is the one llama.cpp's gguf_write_to_file and gguf-py's GGUFWriter
 * produce: header, key/values in the order they were first set, tensor infos in
 * the order added, zero padding up to the alignment, then each tensor's bytes
 * followed by zero padding up to the alignment (the last one included). Offsets
 * are assigned back to back. The alignment is `general.alignment` (a uint32
 * power of two) when set, else 32. n_dims is written as given (gguf-py does the
 * same; llama.cpp drops trailing dimensions of 1 — give it the way you want it).
 *
 * The writer refuses (ST_USAGE) anything the reader would refuse, so what it
 * writes always reads back. Writing streams through stdio: tensor data goes
 * from the caller's buffers (typically a read-only mapping) straight to the file.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "gguf/gguf_internal.h"
#include "quant/types.h"

struct GgufWriter {
    GgufKv *kv;              /* (n_kv) owned keys and values, in file order */
    size_t n_kv, cap_kv;
    GgufTensorInfo *tensors; /* (n_tensors) owned names; data borrowed */
    size_t n_tensors, cap_tensors;
};

GgufWriter *gguf_writer_new(void) {
    return calloc(1, sizeof(GgufWriter));
}

void gguf_writer_delete(GgufWriter *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        gguf_value_free(&w->kv[i].value);
    }
    free(w->kv);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w);
}

/* Grows *arr (of elem-sized items) to hold one more; false when out of memory. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc > SIZE_MAX / elem) return false;
    void *p = realloc(*arr, nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

/* ------------------------------------------------------------ key / values */

static bool key_ok(const char *key) {
    return key && key[0] && gguf_string_problem(key, strlen(key)) == NULL;
}

static int64_t find_key(const GgufWriter *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) return (int64_t)i;
    return -1;
}

/* Takes ownership of *v (also on failure): stores it under key, replacing an
 * existing value in place. */
static Status put(GgufWriter *w, const char *key, GgufValue *v) {
    if (!key_ok(key)) {
        gguf_value_free(v);
        return ST_USAGE;
    }
    if (strcmp(key, "general.alignment") == 0) {
        /* the reader (and llama.cpp) accept only a uint32 power of two here */
        if (v->type != GGUF_TYPE_UINT32 || v->v.u32 == 0 || (v->v.u32 & (v->v.u32 - 1)) != 0) {
            gguf_value_free(v);
            return ST_USAGE;
        }
    }
    int64_t i = find_key(w, key);
    if (i >= 0) {
        gguf_value_free(&w->kv[i].value);
        w->kv[i].value = *v;
        return ST_OK;
    }
    char *k = gguf_str_copy(key, strlen(key));
    if (!k || !grow((void **)&w->kv, &w->cap_kv, w->n_kv, sizeof *w->kv)) {
        free(k);
        gguf_value_free(v);
        return ST_NOMEM;
    }
    w->kv[w->n_kv].key = k;
    w->kv[w->n_kv].value = *v;
    w->n_kv++;
    return ST_OK;
}

Status gguf_writer_set_u32(GgufWriter *w, const char *key, uint32_t x) {
    GgufValue v = {.type = GGUF_TYPE_UINT32, .v.u32 = x};
    return put(w, key, &v);
}

Status gguf_writer_set_i32(GgufWriter *w, const char *key, int32_t x) {
    GgufValue v = {.type = GGUF_TYPE_INT32, .v.i32 = x};
    return put(w, key, &v);
}

Status gguf_writer_set_u64(GgufWriter *w, const char *key, uint64_t x) {
    GgufValue v = {.type = GGUF_TYPE_UINT64, .v.u64 = x};
    return put(w, key, &v);
}

Status gguf_writer_set_f32(GgufWriter *w, const char *key, float x) {
    GgufValue v = {.type = GGUF_TYPE_FLOAT32, .v.f32 = x};
    return put(w, key, &v);
}

Status gguf_writer_set_bool(GgufWriter *w, const char *key, bool x) {
    GgufValue v = {.type = GGUF_TYPE_BOOL, .v.b = x};
    return put(w, key, &v);
}

Status gguf_writer_set_str(GgufWriter *w, const char *key, const char *s) {
    if (!s) return ST_USAGE;
    GgufValue v = {.type = GGUF_TYPE_STRING};
    v.v.str.len = strlen(s);
    if (gguf_string_problem(s, v.v.str.len)) return ST_USAGE;
    v.v.str.data = gguf_str_copy(s, (size_t)v.v.str.len);
    if (!v.v.str.data) return ST_NOMEM;
    return put(w, key, &v);
}

/* Copies n strings given as (pointer, length) pairs into one array block. */
static Status make_str_array(GgufValue *v, uint64_t n, const char *(*get)(const void *, uint64_t,
                                                                          uint64_t *),
                             const void *src) {
    uint64_t chars = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = get(src, i, &len);
        if (!s && len) return ST_USAGE;
        if (s && gguf_string_problem(s, len)) return ST_USAGE;
        if (len > SIZE_MAX - 1) return ST_NOMEM;
        if (!checked_add_u64(chars, len, &chars)) return ST_NOMEM;
    }
    char *text;
    GgufString *strs = gguf_str_array_alloc(n, chars, &text);
    if (!strs) return ST_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = get(src, i, &len);
        if (len) memcpy(text, s, (size_t)len);
        text[len] = '\0';
        strs[i].len = len;
        strs[i].data = text;
        text += len + 1;
    }
    v->type = GGUF_TYPE_ARRAY;
    v->v.arr.type = GGUF_TYPE_STRING;
    v->v.arr.n = n;
    v->v.arr.data = strs;
    return ST_OK;
}

static const char *get_cstr(const void *src, uint64_t i, uint64_t *len) {
    const char *s = ((const char *const *)src)[i];
    *len = s ? strlen(s) : 1; /* a NULL pointer is refused as (NULL, 1) */
    return s;
}

static const char *get_gstr(const void *src, uint64_t i, uint64_t *len) {
    const GgufString *s = &((const GgufString *)src)[i];
    *len = s->len;
    return s->data;
}

static Status make_scalar_array(GgufValue *v, GgufValueType elem, const void *data, uint64_t n) {
    size_t size = gguf_scalar_size(elem);
    if (size == 0) return ST_USAGE; /* arrays of arrays, unknown types */
    if (n > SIZE_MAX / size) return ST_NOMEM;
    if (n && !data) return ST_USAGE;
    size_t bytes = (size_t)n * size;
    uint8_t *copy = malloc(bytes ? bytes : 1);
    if (!copy) return ST_NOMEM;
    if (bytes) memcpy(copy, data, bytes);
    if (elem == GGUF_TYPE_BOOL)
        for (size_t i = 0; i < bytes; i++) copy[i] = copy[i] != 0;
    v->type = GGUF_TYPE_ARRAY;
    v->v.arr.type = elem;
    v->v.arr.n = n;
    v->v.arr.data = copy;
    return ST_OK;
}

Status gguf_writer_set_arr(GgufWriter *w, const char *key, GgufValueType elem, const void *data,
                           uint64_t n) {
    if (n && !data) return ST_USAGE;
    GgufValue v = {.type = GGUF_TYPE_UINT8};
    Status st = elem == GGUF_TYPE_STRING ? make_str_array(&v, n, get_cstr, data)
                                         : make_scalar_array(&v, elem, data, n);
    if (st != ST_OK) return st;
    return put(w, key, &v);
}

Status gguf_writer_set_arr_str(GgufWriter *w, const char *key, const char *const *strs,
                               uint64_t n) {
    return gguf_writer_set_arr(w, key, GGUF_TYPE_STRING, strs, n);
}

Status gguf_writer_set_value(GgufWriter *w, const char *key, const GgufValue *src) {
    GgufValue v = *src;
    Status st;
    switch (src->type) {
    case GGUF_TYPE_STRING:
        if (src->v.str.len && !src->v.str.data) return ST_USAGE;
        if (src->v.str.len > SIZE_MAX - 1) return ST_NOMEM;
        if (src->v.str.len && gguf_string_problem(src->v.str.data, src->v.str.len))
            return ST_USAGE;
        v.v.str.data = gguf_str_copy(src->v.str.data, (size_t)src->v.str.len);
        if (!v.v.str.data) return ST_NOMEM;
        break;
    case GGUF_TYPE_ARRAY:
        if (src->v.arr.n && !src->v.arr.data) return ST_USAGE;
        st = src->v.arr.type == GGUF_TYPE_STRING
                 ? make_str_array(&v, src->v.arr.n, get_gstr, src->v.arr.data)
                 : make_scalar_array(&v, src->v.arr.type, src->v.arr.data, src->v.arr.n);
        if (st != ST_OK) return st;
        break;
    case GGUF_TYPE_BOOL:
        v.v.b = src->v.b != 0;
        break;
    case GGUF_TYPE_COUNT:
        return ST_USAGE;
    default:
        if ((unsigned)src->type >= GGUF_TYPE_COUNT) return ST_USAGE;
        break; /* the other scalars copy as they are */
    }
    return put(w, key, &v);
}

bool gguf_writer_remove(GgufWriter *w, const char *key) {
    int64_t i = find_key(w, key);
    if (i < 0) return false;
    free(w->kv[i].key);
    gguf_value_free(&w->kv[i].value);
    memmove(&w->kv[i], &w->kv[i + 1], (w->n_kv - (size_t)i - 1) * sizeof *w->kv);
    w->n_kv--;
    return true;
}

/* ----------------------------------------------------------------- tensors */

Status gguf_writer_add_tensor(GgufWriter *w, const char *name, uint32_t n_dims,
                              const uint64_t *ne, uint32_t type, const void *data, size_t nbytes) {
    if (!name || !name[0] || strlen(name) > GGUF_MAX_TENSOR_NAME ||
        gguf_string_problem(name, strlen(name)))
        return ST_USAGE;
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS || !ne || !data) return ST_USAGE;
    const TypeTraits *tt = type_traits(type);
    if (!tt) return ST_USAGE;
    uint64_t count = 1;
    for (uint32_t j = 0; j < n_dims; j++)
        if (ne[j] == 0 || !checked_mul_u64(count, ne[j], &count) || count > INT64_MAX)
            return ST_USAGE;
    if (ne[0] % (uint64_t)tt->block_size != 0) return ST_USAGE;
    uint64_t want;
    if (!checked_mul_u64(count / (uint64_t)tt->block_size, tt->type_size, &want) ||
        want != nbytes)
        return ST_USAGE;
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0) return ST_USAGE;

    char *copy = gguf_str_copy(name, strlen(name));
    if (!copy ||
        !grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors, sizeof *w->tensors)) {
        free(copy);
        return ST_NOMEM;
    }
    GgufTensorInfo *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    t->n_dims = n_dims;
    for (int j = 0; j < GGUF_MAX_DIMS; j++) t->ne[j] = (uint32_t)j < n_dims ? ne[j] : 1;
    t->type = type;
    t->n_elements = count;
    t->nbytes = nbytes;
    t->data = data;
    return ST_OK;
}

/* ------------------------------------------------------------------ layout */

static uint64_t writer_alignment(const GgufWriter *w) {
    int64_t i = find_key(w, "general.alignment");
    return i >= 0 ? w->kv[i].value.v.u32 : GGUF_DEFAULT_ALIGNMENT; /* checked by put() */
}

static uint64_t value_bytes(const GgufValue *v) {
    /* bounded by what is held in memory, so no overflow on 64-bit sizes */
    switch (v->type) {
    case GGUF_TYPE_STRING: return 8 + v->v.str.len;
    case GGUF_TYPE_ARRAY: {
        uint64_t b = 4 + 8;
        if (v->v.arr.type != GGUF_TYPE_STRING) return b + v->v.arr.n * gguf_scalar_size(v->v.arr.type);
        const GgufString *s = v->v.arr.data;
        for (uint64_t i = 0; i < v->v.arr.n; i++) b += 8 + s[i].len;
        return b;
    }
    default: return gguf_scalar_size(v->type);
    }
}

/* Assigns tensor offsets; gives the data section's start and the file size. */
static bool writer_layout(GgufWriter *w, uint64_t *data_offset, uint64_t *total) {
    uint64_t align = writer_alignment(w);
    uint64_t pos = 4 + 4 + 8 + 8;
    for (size_t i = 0; i < w->n_kv; i++)
        pos += 8 + strlen(w->kv[i].key) + 4 + value_bytes(&w->kv[i].value);
    for (size_t i = 0; i < w->n_tensors; i++)
        pos += 8 + strlen(w->tensors[i].name) + 4 + 8 * (uint64_t)w->tensors[i].n_dims + 4 + 8;
    if (!checked_align_u64(pos, align, data_offset)) return false;
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        w->tensors[i].offset = off;
        if (!checked_add_u64(off, w->tensors[i].nbytes, &off) ||
            !checked_align_u64(off, align, &off))
            return false;
    }
    return checked_add_u64(*data_offset, off, total);
}

/* ------------------------------------------------------------------ output */

/* Where bytes go: a FILE (streaming) or a buffer sized in advance. */
typedef struct Sink {
    FILE *fp;
    uint8_t *buf;
    uint64_t pos;
    int err; /* errno of the first failed write, or 0 */
} Sink;

static void sink_put(Sink *s, const void *p, size_t n) {
    if (s->err || n == 0) return;
    if (s->fp) {
        if (fwrite(p, 1, n, s->fp) != n) s->err = errno ? errno : EIO;
    } else {
        memcpy(s->buf + s->pos, p, n);
    }
    s->pos += n;
}

static void sink_zeros(Sink *s, uint64_t n) {
    static const uint8_t zeros[256];
    while (n > 0 && !s->err) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        sink_put(s, zeros, k);
        n -= k;
    }
}

static void put_u32(Sink *s, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sink_put(s, b, 4);
}

static void put_u64(Sink *s, uint64_t v) {
    put_u32(s, (uint32_t)v);
    put_u32(s, (uint32_t)(v >> 32));
}

static void put_str(Sink *s, const char *p, uint64_t len) {
    put_u64(s, len);
    sink_put(s, p, (size_t)len);
}

/* Scalars are stored in host order, which is little-endian (see gguf_read.c). */
static void put_scalar(Sink *s, const GgufValue *v) {
    switch (v->type) {
    case GGUF_TYPE_UINT8: sink_put(s, &v->v.u8, 1); break;
    case GGUF_TYPE_INT8: sink_put(s, &v->v.i8, 1); break;
    case GGUF_TYPE_UINT16: sink_put(s, &v->v.u16, 2); break;
    case GGUF_TYPE_INT16: sink_put(s, &v->v.i16, 2); break;
    case GGUF_TYPE_UINT32: sink_put(s, &v->v.u32, 4); break;
    case GGUF_TYPE_INT32: sink_put(s, &v->v.i32, 4); break;
    case GGUF_TYPE_FLOAT32: sink_put(s, &v->v.f32, 4); break;
    case GGUF_TYPE_BOOL: { uint8_t b = v->v.b ? 1 : 0; sink_put(s, &b, 1); break; }
    case GGUF_TYPE_UINT64: sink_put(s, &v->v.u64, 8); break;
    case GGUF_TYPE_INT64: sink_put(s, &v->v.i64, 8); break;
    case GGUF_TYPE_FLOAT64: sink_put(s, &v->v.f64, 8); break;
    default: break;
    }
}

static void put_value(Sink *s, const GgufValue *v) {
    put_u32(s, (uint32_t)v->type);
    if (v->type == GGUF_TYPE_STRING) {
        put_str(s, v->v.str.data, v->v.str.len);
    } else if (v->type == GGUF_TYPE_ARRAY) {
        put_u32(s, (uint32_t)v->v.arr.type);
        put_u64(s, v->v.arr.n);
        if (v->v.arr.type == GGUF_TYPE_STRING) {
            const GgufString *str = v->v.arr.data;
            for (uint64_t i = 0; i < v->v.arr.n; i++) put_str(s, str[i].data, str[i].len);
        } else {
            sink_put(s, v->v.arr.data, (size_t)(v->v.arr.n * gguf_scalar_size(v->v.arr.type)));
        }
    } else {
        put_scalar(s, v);
    }
}

/* Writes the whole image; offsets must come from writer_layout(). */
static void writer_emit(const GgufWriter *w, Sink *s, uint64_t data_offset) {
    uint64_t align = writer_alignment(w);
    sink_put(s, GGUF_MAGIC, 4);
    put_u32(s, GGUF_WRITE_VERSION);
    put_u64(s, w->n_tensors);
    put_u64(s, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(s, w->kv[i].key, strlen(w->kv[i].key));
        put_value(s, &w->kv[i].value);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        const GgufTensorInfo *t = &w->tensors[i];
        put_str(s, t->name, strlen(t->name));
        put_u32(s, t->n_dims);
        for (uint32_t j = 0; j < t->n_dims; j++) put_u64(s, t->ne[j]);
        put_u32(s, t->type);
        put_u64(s, t->offset);
    }
    sink_zeros(s, data_offset - s->pos);
    for (size_t i = 0; i < w->n_tensors; i++) {
        const GgufTensorInfo *t = &w->tensors[i];
        sink_put(s, t->data, t->nbytes);
        sink_zeros(s, (align - t->nbytes % align) % align);
    }
}

Status gguf_writer_write_buffer(GgufWriter *w, uint8_t **out, size_t *len, Error *err) {
    *out = NULL;
    *len = 0;
    uint64_t data_offset, total;
    if (!writer_layout(w, &data_offset, &total) || total > SIZE_MAX)
        return error_set(err, ST_LIMIT, "GGUF image: too large for this machine's address space");
    uint8_t *buf = malloc((size_t)total);
    if (!buf)
        return error_set(err, ST_NOMEM, "GGUF image: out of memory for %" PRIu64 " bytes", total);
    Sink s = {.buf = buf};
    writer_emit(w, &s, data_offset);
    assert(s.pos == total);
    *out = buf;
    *len = (size_t)total;
    return ST_OK;
}

Status gguf_writer_write_file(GgufWriter *w, const char *path, Error *err) {
    uint64_t data_offset, total;
    if (!writer_layout(w, &data_offset, &total))
        return error_set(err, ST_LIMIT, "%s: not written: the file would be larger than 2^64 bytes",
                         path);
    AtomicFile af;
    Status st = atomic_file_open(&af, path, err);
    if (st != ST_OK) return st;
    Sink s = {.fp = af.fp};
    errno = 0;
    writer_emit(w, &s, data_offset);
    if (s.err) {
        atomic_file_abort(&af);
        return error_set(err, ST_IO, "%s: not written (%s); any previous file is unchanged", path,
                         strerror(s.err));
    }
    return atomic_file_commit(&af, err);
}
