/* kernels.h — row dot products for every weight format, scalar and SIMD.
 *
 * matvec() (matvec.c) is the only production caller: it prepares the activation
 * vector once per product in the form the weight format pairs with (its "vec
 * type", as ggml calls it), then calls one row-dot function per row. This header
 * says which form each weight type wants and hands out the tables of functions.
 *
 *   weight type         vec type   row dot (ggml's name)
 *   F32, F16, BF16      F32        float sum, weights converted on the fly
 *   Q8_0, Q4_0, Q5_0    Q8_0       ggml_vec_dot_{q8_0,q4_0,q5_0}_q8_0
 *   Q4_1, Q5_1          Q8_1       ggml_vec_dot_{q4_1,q5_1}_q8_1
 *
 * A KernelSet is one instruction set's table: "scalar" (portable C, the
 * reference every other set is tested against), "avx2" (AVX2+FMA+F16C),
 * "avx-vnni" (avx2 with the int8 dot products done by VPDPBUSD), "neon"
 * (AArch64). Sets are picked at run time from what the CPU reports, so the
 * binary stays portable; QUANTLAB_NO_SIMD=1 in the environment forces "scalar".
 *
 * Rows whose length is not a multiple of the block size are stored padded with
 * zero values to whole blocks; the activation quantizers pad x with zeros to the
 * same number of blocks, so the padding adds exactly 0 to every integer sum.
 */
#ifndef QL_QUANT_KERNELS_H
#define QL_QUANT_KERNELS_H

#include <stdint.h>

#include "quant/types.h"

/* Dot product of one stored row with the prepared activation `vec`.
 * row: n values in the weight type (block types: n/32 whole blocks).
 * vec: n floats when the vec type is F32, else n/32 Q8_0 or Q8_1 blocks.
 * n:   for block types a multiple of 32 (the padded row length), else the row length. */
typedef float (*KernelRowDotFn)(const void *row, const void *vec, int64_t n);

/* Two rows against the same activation: out[0] = dot(row0, vec), out[1] =
 * dot(row1, vec), bit-identical to two calls of the set's row_dot for the type
 * (tests check it); the activation's loads and per-block work are shared. */
typedef void (*KernelRowDot2Fn)(const void *row0, const void *row1, const void *vec, int64_t n, float *out);

/* Quantizes n floats (any n >= 1) into ceil(n/32) blocks of the vec type,
 * treating the missing values of the last block as zeros. Byte-identical to
 * quant_row_q8_0_ref / quant_row_q8_1_ref on the zero-padded input. */
typedef void (*KernelQuantizeFn)(const float *x, void *y, int64_t n);

/* Block i of an activation of n floats, for the KernelQuantizeFn of every set
 * (QK8_0 == QK8_1 values a block): x + QK8_0 * i, or for a last block that n cuts
 * short a copy in tail padded with zeros, so the block is quantized as a padded
 * row holds it and x is never read past n. */
static inline const float *kernels_vec_block_at(const float *x, int64_t n, int64_t i, float tail[QK8_0]) {
    const float *src = x + i * QK8_0;
    if ((i + 1) * QK8_0 <= n) return src;
    for (int64_t k = 0; k < QK8_0; k++) tail[k] = i * QK8_0 + k < n ? src[k] : 0.0f;
    return tail;
}

typedef struct KernelSet {
    const char *name;                             /* "scalar", "avx2", "avx-vnni", "neon" */
    KernelRowDotFn row_dot[GGML_TYPE_COUNT];      /* by weight type; NULL: no kernel */
    KernelRowDot2Fn row_dot2[GGML_TYPE_COUNT];    /* optional two-row form; NULL: none */
    KernelQuantizeFn quantize[GGML_TYPE_COUNT];   /* by vec type (Q8_0, Q8_1); NULL elsewhere */
} KernelSet;

/* F32 rows shorter than this use the scalar left-to-right sum even when a SIMD
 * set is active. Why: FP32 generation must match llama2.c token for token, and
 * llama2.c sums a row left to right; an 8-lane FMA sum rounds differently and
 * can flip a near-tie in the greedy choice. stories260K (rows of 64 and 172, the
 * model the FP32 reference texts come from) therefore never leaves the reference
 * order, while real models (rows of 768 and up) get the SIMD kernel. */
enum { KERNELS_F32_SIMD_MIN_COLS = 512 };

/* The vec type a weight type's kernels take: GGML_TYPE_F32, _Q8_0 or _Q8_1;
 * GGML_TYPE_COUNT when no kernel exists for the type. */
uint32_t kernels_vec_type(uint32_t type);

/* Values per block of the vec type of `type` (32 for Q8_0/Q8_1, 1 for F32). */
int kernels_vec_block(uint32_t type);

/* Bytes the prepared activation of `cols` values takes for weight type `type`. */
size_t kernels_vec_bytes(uint32_t type, int64_t cols);

/* The portable C kernels; always present. */
const KernelSet *kernels_scalar(void);

/* The best set this CPU can run, whatever the environment says. */
const KernelSet *kernels_best(void);

/* The set matvec uses: kernels_scalar() when QUANTLAB_NO_SIMD is set to anything
 * but "" or "0", else kernels_best(). Read at every call (a getenv, cheap next to
 * a matrix product), so a test or a teacher can flip it without restarting. */
const KernelSet *kernels_active(void);

/* kernels_active()->name: "scalar", "avx2", "avx-vnni" or "neon". */
const char *kernels_simd_name(void);

/* Every set this CPU can run, scalar first, best last; returns how many (<= max). */
int kernels_available(const KernelSet **out, int max);

/* The row-dot function `ks` uses for a matrix of `type` with rows of `cols`
 * values, applying the F32 short-row rule above; NULL when there is none. */
KernelRowDotFn kernels_row_dot(const KernelSet *ks, uint32_t type, int64_t cols);

/* ---- per-architecture tables (kernels_x86.c, kernels_arm.c) ----
 * Each returns the sets this CPU supports, in increasing preference, into out
 * (at most max) and their count; 0 on other architectures. */
int kernels_x86_sets(const KernelSet **out, int max);
int kernels_arm_sets(const KernelSet **out, int max);

/* ---- the scalar kernels by name (kernels_scalar()'s table holds them; the
 * tests also call them directly) ---- */
float kernels_dot_f32_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_f16_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_bf16_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_q8_0_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_q4_0_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_q4_1_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_q5_0_scalar(const void *row, const void *vec, int64_t n);
float kernels_dot_q5_1_scalar(const void *row, const void *vec, int64_t n);
void kernels_quantize_q8_0_scalar(const float *x, void *y, int64_t n);
void kernels_quantize_q8_1_scalar(const float *x, void *y, int64_t n);

#endif
