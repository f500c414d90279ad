/* gguf.h — reading and writing GGUF files (versions 2 and 3).
 *
 * The reader parses from a (buffer, length) pair, so tests need no file, and from
 * a path through a read-only mapping. Every number in the file is treated as
 * hostile (magic and version before anything else, counts against what remains,
 * string lengths, dimension products, alignment, tensor extents, duplicate names,
 * UTF-8): a bad file gives one line naming the file and what is wrong.
 *
 * The writer collects key/value pairs and tensors, then writes them to a temporary
 * file in the destination directory and renames it into place.
 *
 * Layout (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 * n_kv × (string key, u32 type, value), n_tensors × (string name, u32 n_dims,
 * u64 ne[n_dims], u32 ggml type, u64 offset), padding to `general.alignment`
 * (default 32), then the tensor data; each tensor's offset is relative to the
 * start of the data section and a multiple of the alignment. Strings are u64 length
 * + bytes (no NUL). Version 1 (u32 counts) is refused.
 */
#ifndef QL_GGUF_GGUF_H
#define QL_GGUF_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/file.h"

enum { GGUF_DEFAULT_ALIGNMENT = 32, GGUF_MAX_DIMS = 4 };

typedef enum GgufValueType {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} GgufValueType;

/* A string as stored: not NUL-terminated in the file, but the reader's copies
 * always have a NUL after `len` bytes (and contain no NUL inside). */
typedef struct GgufString {
    uint64_t len;
    char *data;
} GgufString;

typedef struct GgufValue {
    GgufValueType type;
    union {
        uint8_t u8;
        int8_t i8;
        uint16_t u16;
        int16_t i16;
        uint32_t u32;
        int32_t i32;
        float f32;
        bool b;
        uint64_t u64;
        int64_t i64;
        double f64;
        GgufString str;
        struct {
            GgufValueType type; /* element type; never ARRAY (nested arrays are refused) */
            uint64_t n;
            void *data;         /* n elements: packed scalars of that type, or GgufString[n] */
        } arr;
    } v;
} GgufValue;

typedef struct GgufKv {
    char *key; /* NUL-terminated, valid UTF-8 */
    GgufValue value;
} GgufKv;

typedef struct GgufTensorInfo {
    char *name;                 /* NUL-terminated, valid UTF-8, unique in the file */
    uint32_t n_dims;            /* 1..4 */
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] = row length; unused dims are 1 */
    uint32_t type;              /* GgmlType id, known to type_traits() */
    uint64_t offset;            /* relative to the data section */
    uint64_t n_elements;        /* product of ne */
    size_t nbytes;              /* bytes of data */
    const uint8_t *data;        /* points into the file's buffer */
} GgufTensorInfo;

typedef struct GgufFile {
    char *name;             /* the path or name used in messages */
    uint32_t version;
    uint64_t n_kv;
    GgufKv *kv;
    uint64_t n_tensors;
    GgufTensorInfo *tensors;
    uint64_t alignment;
    uint64_t data_offset;   /* start of the data section in the buffer */
    const uint8_t *buf;     /* whole file */
    size_t size;
    FileMap map;            /* set when opened from a path */
} GgufFile;

/* Parses a GGUF image held in memory. `name` is used in error messages. The
 * buffer is borrowed and must outlive *f. On error *f is left empty (safe to
 * gguf_close) and err names `name` and the problem: ST_FORMAT for a malformed or
 * truncated file, ST_UNSUPPORTED for a well-formed one we do not read (GGUF v1,
 * a big-endian or newer version, an unknown ggml type, arrays of arrays),
 * ST_NOMEM. Memory used stays a small multiple of `len`, whatever the file says.
 * What is checked, and the few deliberate differences from llama.cpp, are listed
 * at the top of gguf_read.c. */
Status gguf_parse(GgufFile *f, const void *buf, size_t len, const char *name, Error *err);

/* Maps `path` read-only and parses it; messages name `path`. ST_IO when the path
 * cannot be opened or is not a regular file (a directory, say). */
Status gguf_open(GgufFile *f, const char *path, Error *err);

/* Frees everything gguf_parse/gguf_open made; accepts a zeroed or NULL *f. */
void gguf_close(GgufFile *f);

/* Lookups: NULL / -1 when absent. */
const GgufKv *gguf_find_kv(const GgufFile *f, const char *key);
const GgufTensorInfo *gguf_find_tensor(const GgufFile *f, const char *name);
int64_t gguf_find_tensor_index(const GgufFile *f, const char *name);

/* Typed getters that accept any integer type whose value fits (as llama.cpp's
 * loaders do). They return false when the key is absent or does not fit.
 * gguf_get_f32 takes float32, or a float64 within float range. */
bool gguf_get_u32(const GgufFile *f, const char *key, uint32_t *out);
bool gguf_get_u64(const GgufFile *f, const char *key, uint64_t *out);
bool gguf_get_f32(const GgufFile *f, const char *key, float *out);
/* Borrowed NUL-terminated string, or NULL. */
const char *gguf_get_str(const GgufFile *f, const char *key);
/* Array of the given element type: fills *n and returns the data, or NULL. An
 * empty array gives a non-NULL pointer and *n = 0. Strings come as GgufString[n]. */
const void *gguf_get_arr(const GgufFile *f, const char *key, GgufValueType elem, uint64_t *n);

/* Converts a whole tensor to float (dst holds n_elements). ST_UNSUPPORTED for a
 * type quantlab recognises but cannot convert (e.g. k-quants); the message names
 * the file, the tensor and the type. */
Status gguf_tensor_to_float(const GgufFile *f, const GgufTensorInfo *t, float *dst, Error *err);

/* Names of value types ("uint32", "string", "array") for `quantlab info`. */
const char *gguf_value_type_name(GgufValueType type);

/* Formats a value on one line into buf: integers in decimal, floats with enough
 * digits to read back the same value (%.9g / %.17g), strings in single quotes
 * with control characters and invalid UTF-8 escaped and cut to 72 bytes with
 * "...", arrays as "[512 x string]". Always NUL-terminates (size > 0). */
void gguf_value_format(const GgufValue *v, char *buf, size_t size);

/* ------------------------------------------------------------------ writer */

typedef struct GgufWriter GgufWriter;

GgufWriter *gguf_writer_new(void);
void gguf_writer_delete(GgufWriter *w);

/* Key/value setters copy key and value; setting an existing key replaces it (the
 * key keeps its first position). Return ST_NOMEM or ST_USAGE (bad key). ST_USAGE
 * too for what the reader would refuse: an empty or non-UTF-8 key, a string with
 * a NUL or invalid UTF-8, an array of arrays, and a general.alignment that is
 * not a uint32 power of two. */
Status gguf_writer_set_u32(GgufWriter *w, const char *key, uint32_t v);
Status gguf_writer_set_i32(GgufWriter *w, const char *key, int32_t v);
Status gguf_writer_set_u64(GgufWriter *w, const char *key, uint64_t v);
Status gguf_writer_set_f32(GgufWriter *w, const char *key, float v);
Status gguf_writer_set_bool(GgufWriter *w, const char *key, bool v);
Status gguf_writer_set_str(GgufWriter *w, const char *key, const char *v);
/* Any value (scalar, string or array), deep-copied; used to copy a reader's kv. */
Status gguf_writer_set_value(GgufWriter *w, const char *key, const GgufValue *v);
/* Arrays: scalars packed in `data`, or strings as an array of NUL-terminated pointers. */
Status gguf_writer_set_arr(GgufWriter *w, const char *key, GgufValueType elem, const void *data,
                           uint64_t n);
Status gguf_writer_set_arr_str(GgufWriter *w, const char *key, const char *const *strs, uint64_t n);
bool gguf_writer_remove(GgufWriter *w, const char *key);

/* Adds a tensor. `data` (nbytes, which must equal the size the type and shape
 * give) is borrowed until the file is written. ST_USAGE for anything the reader
 * would refuse: a duplicate, empty, non-UTF-8 or longer than 63-byte name,
 * n_dims outside 1..4, a zero dimension, an unknown type, a row that is not a
 * whole number of blocks. n_dims is written as given. */
Status gguf_writer_add_tensor(GgufWriter *w, const char *name, uint32_t n_dims,
                              const uint64_t *ne, uint32_t type, const void *data, size_t nbytes);

/* Writes version 3 with the alignment in `general.alignment` (default 32) to a
 * temporary file beside `path`, then renames it to `path`. On error nothing at
 * `path` has changed. */
Status gguf_writer_write_file(GgufWriter *w, const char *path, Error *err);

/* Serialises into a heap buffer (caller frees *out); the same bytes as
 * gguf_writer_write_file. */
Status gguf_writer_write_buffer(GgufWriter *w, uint8_t **out, size_t *len, Error *err);

#endif
