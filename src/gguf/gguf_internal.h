/* gguf_internal.h — helpers shared by gguf_read.c, gguf_write.c and gguf_value.c.
 * Not part of the public API: nothing outside src/gguf/ includes this.
 *
 * Ownership convention for a GgufValue (the reader's and the writer's alike):
 *   - STRING: str.data is a malloc'd copy with a NUL after len bytes.
 *   - ARRAY of scalars: arr.data is one malloc'd block of n packed elements
 *     (never NULL, even for n = 0, so "empty" and "absent" differ).
 *   - ARRAY of strings: arr.data is ONE malloc'd block holding GgufString[n]
 *     followed by the characters, each string NUL-terminated; freeing arr.data
 *     frees everything. One allocation per array keeps a 150k-token vocabulary
 *     from costing 150k mallocs and keeps memory proportional to the file.
 */
#ifndef QL_GGUF_INTERNAL_H
#define QL_GGUF_INTERNAL_H

#include "gguf/gguf.h"

/* GGUF's magic and the version the writer produces. */
#define GGUF_MAGIC "GGUF"
enum { GGUF_WRITE_VERSION = 3 };

/* ggml's GGML_MAX_NAME: llama.cpp refuses tensor names of 64 bytes or more. */
enum { GGUF_MAX_TENSOR_NAME = 63 };

/* Bytes of one element of a scalar type (1, 2, 4 or 8); 0 for STRING, ARRAY and
 * unknown types. */
size_t gguf_scalar_size(GgufValueType type);

/* Smallest number of bytes one element of this type takes in a file (a string
 * is at least its 8-byte length); 0 for ARRAY and unknown types. */
size_t gguf_min_elem_size(GgufValueType type);

/* A NUL-terminated heap copy of s[0..len) (s may be NULL when len is 0); NULL
 * when out of memory. */
char *gguf_str_copy(const char *s, size_t len);

/* Frees what *v owns (see above) and leaves it as a zeroed UINT8. */
void gguf_value_free(GgufValue *v);

/* Allocates the single block for an array of n strings holding `chars` bytes of
 * text in total (terminators not included). Returns NULL on overflow or when out
 * of memory. The GgufString slots are zeroed; *text points at the character area. */
GgufString *gguf_str_array_alloc(uint64_t n, uint64_t chars, char **text);

/* Why a string may not be a key, string value or tensor name: NULL when it is
 * fine, else a short reason ("is not valid UTF-8", "contains a NUL byte"). */
const char *gguf_string_problem(const char *s, uint64_t len);

#endif
