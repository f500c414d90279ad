/* checked.h — overflow-checked size arithmetic for numbers that come from files.
 *
 * Every count, dimension and offset read from a model file is hostile: products
 * and sums go through these before they size an allocation or index a buffer.
 * Each returns false (and leaves *out untouched) when the result would overflow.
 */
#ifndef QL_BASE_CHECKED_H
#define QL_BASE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool checked_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

static inline bool checked_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

static inline bool checked_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return false;
    *out = a * b;
    return true;
}

static inline bool checked_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (b > UINT64_MAX - a) return false;
    *out = a + b;
    return true;
}

/* Rounds x up to a multiple of align (a power of two); false on overflow. */
static inline bool checked_align_u64(uint64_t x, uint64_t align, uint64_t *out) {
    uint64_t r;
    if (!checked_add_u64(x, align - 1, &r)) return false;
    *out = r & ~(align - 1);
    return true;
}

#endif
