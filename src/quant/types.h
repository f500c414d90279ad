/* types.h — the one table of per-format facts for GGML tensor types.
 *
 * Every fact about a storage format (its GGUF id, name, block size, bytes per
 * block, how to turn a row into floats and back) lives in type_traits(); nothing
 * else in quantlab switches on a tensor type to find these numbers. The GGUF
 * reader uses it to size tensors, the quantizers and kernels hang off it, and
 * the screens print names and bits per weight from it.
 *
 * Block layouts are those of ggml (ggml-common.h) and are pinned by
 * _Static_assert in types.c so a wrong struct cannot compile.
 */
#ifndef QL_QUANT_TYPES_H
#define QL_QUANT_TYPES_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GGUF / ggml type ids, as stored in a GGUF tensor info. The gaps are ids ggml
 * has retired; they are unknown types here. */
typedef enum GgmlType {
    GGML_TYPE_F32 = 0,
    GGML_TYPE_F16 = 1,
    GGML_TYPE_Q4_0 = 2,
    GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6,
    GGML_TYPE_Q5_1 = 7,
    GGML_TYPE_Q8_0 = 8,
    GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10,
    GGML_TYPE_Q3_K = 11,
    GGML_TYPE_Q4_K = 12,
    GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14,
    GGML_TYPE_Q8_K = 15,
    GGML_TYPE_IQ2_XXS = 16,
    GGML_TYPE_IQ2_XS = 17,
    GGML_TYPE_IQ3_XXS = 18,
    GGML_TYPE_IQ1_S = 19,
    GGML_TYPE_IQ4_NL = 20,
    GGML_TYPE_IQ3_S = 21,
    GGML_TYPE_IQ2_S = 22,
    GGML_TYPE_IQ4_XS = 23,
    GGML_TYPE_I8 = 24,
    GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26,
    GGML_TYPE_I64 = 27,
    GGML_TYPE_F64 = 28,
    GGML_TYPE_IQ1_M = 29,
    GGML_TYPE_BF16 = 30,
    GGML_TYPE_TQ1_0 = 34,
    GGML_TYPE_TQ2_0 = 35,
    GGML_TYPE_MXFP4 = 39,
    GGML_TYPE_COUNT = 40
} GgmlType;

/* Converts n values (a whole number of blocks) of this type to float. */
typedef void (*TypeToFloatFn)(const void *src, float *dst, int64_t n);
/* Quantizes n floats (a whole number of blocks) with ggml's reference quantizer. */
typedef void (*TypeFromFloatFn)(const float *src, void *dst, int64_t n);

typedef struct TypeTraits {
    const char *name;           /* ggml's name: "f32", "q8_0", "q4_K" ... */
    int block_size;             /* values per block (1 for plain types) */
    size_t type_size;           /* bytes per block */
    bool is_quantized;
    TypeToFloatFn to_float;     /* NULL: recognised but not convertible here */
    TypeFromFloatFn from_float; /* NULL: quantlab cannot write this type */
} TypeTraits;

/* Traits of a type id, or NULL when the id is not a known ggml type. */
const TypeTraits *type_traits(uint32_t type);

/* Name of a type id ("q4_0"), or "unknown" for ids type_traits() rejects. */
const char *type_name(uint32_t type);

/* Type id for a name, case-insensitive ("Q4_0", "q8_0", "F16"); -1 if none. */
int type_from_name(const char *name);

/* Bytes that n values (n a multiple of the block size) take in this type. */
size_t type_row_size(uint32_t type, int64_t n);

/* Bits per weight of a type, scales included: 8 * type_size / block_size. */
double type_bits_per_weight(uint32_t type);

/* ---- block layouts (ggml-common.h) ---- */
enum { QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32, QK_K = 256,
       QK4_NL = 32 };

typedef struct BlockQ4_0 { uint16_t d; uint8_t qs[QK4_0 / 2]; } BlockQ4_0;
typedef struct BlockQ4_1 { uint16_t d, m; uint8_t qs[QK4_1 / 2]; } BlockQ4_1;
typedef struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } BlockQ5_0;
typedef struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } BlockQ5_1;
typedef struct BlockQ8_0 { uint16_t d; int8_t qs[QK8_0]; } BlockQ8_0;
typedef struct BlockQ8_1 { uint16_t d, s; int8_t qs[QK8_1]; } BlockQ8_1;
typedef struct BlockIQ4_NL { uint16_t d; uint8_t qs[QK4_NL / 2]; } BlockIQ4_NL;

/* ggml's `d ? 1.0f/d : 0.0f`, except that a scale so small (|d| < 2^-128, a block
 * whose largest value is below about 1e-37) that 1/d overflows to inf is treated
 * like 0. ggml multiplies by that inf, gets inf or NaN and converts it to an
 * integer, which C leaves undefined (gcc and clang on x86 write different bytes,
 * UBSan stops). Such a scale is 0 in FP16 anyway, so the block decodes to zeros
 * either way; here its codes are those of 0. For every other input this is
 * ggml's arithmetic unchanged. Every quantizer that computes ggml's 1/d (the
 * reference ones, GPTQ, the SIMD activation quantizers) takes it from here. */
static inline float quant_recip_or_zero(float d) {
    const float id = d ? 1.0f / d : 0.0f;
    return isinf(id) ? 0.0f : id;
}

/* Reference row quantizers (ggml-quants.c *_ref), bit-exact with ggml. n must be a
 * multiple of 32 and the input finite. */
void quant_row_q4_0_ref(const float *x, void *y, int64_t n);
void quant_row_q4_1_ref(const float *x, void *y, int64_t n);
void quant_row_q5_0_ref(const float *x, void *y, int64_t n);
void quant_row_q5_1_ref(const float *x, void *y, int64_t n);
void quant_row_q8_0_ref(const float *x, void *y, int64_t n);
void quant_row_q8_1_ref(const float *x, void *y, int64_t n);

#endif
