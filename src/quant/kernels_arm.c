/* kernels_arm.c — AArch64 NEON row-dot kernels.
 *
 * Built only where the compiler targets AArch64 with NEON (always there on
 * AArch64, so no run-time check is needed). The integer dot products use SDOT
 * (vdotq_s32) when the compiler targets the dot-product extension
 * (__ARM_FEATURE_DOTPROD, e.g. -march=armv8.2-a+dotprod) and widening multiplies
 * otherwise. Same contract as the AVX2 set: the activation quantizers are
 * byte-identical to the reference (vcvtaq_s32_f32 rounds halves away from zero,
 * exactly roundf), the integer sums are exact, only the float order differs.
 *
 * Testing: this machine is x86; the file is compiled and the unit tests run with
 * an AArch64 cross compiler under qemu-user (tests/cross/aarch64.sh), i.e. the
 * results are checked, the speed is not.
 */
#include "quant/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)

#include <arm_neon.h>
#include <string.h>

#include "base/half.h"

/* ------------------------------------------------------------------ helpers */

/* Four adjacent int8 products summed into each int32 lane. */
static inline int32x4_t kn_dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    /* lane sums differ from SDOT's grouping, but only the total of the block is used */
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}

static inline float kn_h(uint16_t h) {
    return half_to_f32(h);
}

/* A block's 32 codes x activation codes, exact, as an int32 total. lo/hi are
 * the codes of elements 0..15 and 16..31. */
static inline int32_t kn_block_sum(int8x16_t lo, int8x16_t hi, const int8_t *y) {
    int32x4_t acc = kn_dot(vdupq_n_s32(0), lo, vld1q_s8(y));
    acc = kn_dot(acc, hi, vld1q_s8(y + 16));
    return vaddvq_s32(acc);
}

/* ------------------------------------------------------------ float kernels */

static float kn_dot_f32(const void *row, const void *vec, int64_t n) {
    const float *w = row;
    const float *x = vec;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(w + j), vld1q_f32(x + j));
        a1 = vfmaq_f32(a1, vld1q_f32(w + j + 4), vld1q_f32(x + j + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(w + j + 8), vld1q_f32(x + j + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(w + j + 12), vld1q_f32(x + j + 12));
    }
    for (; j + 4 <= n; j += 4) a0 = vfmaq_f32(a0, vld1q_f32(w + j), vld1q_f32(x + j));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; j < n; j++) sum += w[j] * x[j];
    return sum;
}

/* F16 weights: FCVTL widens 4 halves to floats (exact). */
static inline float32x4_t kn_load_f16(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static float kn_dot_f16(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = vfmaq_f32(a0, kn_load_f16(w + j), vld1q_f32(x + j));
        a1 = vfmaq_f32(a1, kn_load_f16(w + j + 4), vld1q_f32(x + j + 4));
        a2 = vfmaq_f32(a2, kn_load_f16(w + j + 8), vld1q_f32(x + j + 8));
        a3 = vfmaq_f32(a3, kn_load_f16(w + j + 12), vld1q_f32(x + j + 12));
    }
    for (; j + 4 <= n; j += 4) a0 = vfmaq_f32(a0, kn_load_f16(w + j), vld1q_f32(x + j));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; j < n; j++) sum += half_to_f32(w[j]) * x[j];
    return sum;
}

/* bf16 is a float's top half: widen with a 16-bit left shift. */
static inline float32x4_t kn_load_bf16(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

static float kn_dot_bf16(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = vfmaq_f32(a0, kn_load_bf16(w + j), vld1q_f32(x + j));
        a1 = vfmaq_f32(a1, kn_load_bf16(w + j + 4), vld1q_f32(x + j + 4));
        a2 = vfmaq_f32(a2, kn_load_bf16(w + j + 8), vld1q_f32(x + j + 8));
        a3 = vfmaq_f32(a3, kn_load_bf16(w + j + 12), vld1q_f32(x + j + 12));
    }
    for (; j + 4 <= n; j += 4) a0 = vfmaq_f32(a0, kn_load_bf16(w + j), vld1q_f32(x + j));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; j < n; j++) sum += bf16_to_f32(w[j]) * x[j];
    return sum;
}

/* ------------------------------------------------------ activation quantizer */

/* As quant_row_q8_0_ref: d = amax/127, id = 1/d (quant_recip_or_zero), code = roundf(x * id); FCVTAS
 * (vcvtaq_s32_f32) is round-to-nearest, ties away from zero, i.e. roundf. */
static float kn_quantize_block(const float *x, int8_t *qs, int *sum) {
    float32x4_t v[8];
    for (int k = 0; k < 8; k++) v[k] = vld1q_f32(x + 4 * k);
    float32x4_t m = vabsq_f32(v[0]);
    for (int k = 1; k < 8; k++) m = vmaxq_f32(m, vabsq_f32(v[k]));
    const float amax = vmaxvq_f32(m);
    const float d = amax / ((1 << 7) - 1);
    const float id = quant_recip_or_zero(d);
    int32x4_t total = vdupq_n_s32(0);
    int16x8_t h[4];
    for (int k = 0; k < 4; k++) {
        const int32x4_t a = vcvtaq_s32_f32(vmulq_n_f32(v[2 * k], id));
        const int32x4_t b = vcvtaq_s32_f32(vmulq_n_f32(v[2 * k + 1], id));
        total = vaddq_s32(total, vaddq_s32(a, b));
        h[k] = vcombine_s16(vmovn_s32(a), vmovn_s32(b)); /* |code| <= 127: narrowing is exact */
    }
    vst1q_s8(qs, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8(qs + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
    *sum = vaddvq_s32(total);
    return d;
}

static void kn_quantize_q8_0(const float *x, void *vy, int64_t n) {
    BlockQ8_0 *y = vy;
    float tail[QK8_0];
    for (int64_t i = 0; i < (n + QK8_0 - 1) / QK8_0; i++) {
        int sum;
        y[i].d = half_from_f32(kn_quantize_block(kernels_vec_block_at(x, n, i, tail), y[i].qs, &sum));
    }
}

static void kn_quantize_q8_1(const float *x, void *vy, int64_t n) {
    BlockQ8_1 *y = vy;
    float tail[QK8_1];
    for (int64_t i = 0; i < (n + QK8_1 - 1) / QK8_1; i++) {
        int sum;
        const float d = kn_quantize_block(kernels_vec_block_at(x, n, i, tail), y[i].qs, &sum);
        y[i].d = half_from_f32(d);
        y[i].s = half_from_f32(sum * d);
    }
}

/* ---------------------------------------------------------- integer kernels */

/* Two float accumulators, one per block of a pair, as in ggml's NEON loops;
 * each block's integer total is scaled by d_w * d_x and added lane-wise. */

static float kn_dot_q8_0(const void *row, const void *vec, int64_t n) {
    const BlockQ8_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sum0 = 0.0f, sum1 = 0.0f;
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2) {
        const int32_t s0 = kn_block_sum(vld1q_s8(x[ib].qs), vld1q_s8(x[ib].qs + 16), y[ib].qs);
        const int32_t s1 = kn_block_sum(vld1q_s8(x[ib + 1].qs), vld1q_s8(x[ib + 1].qs + 16), y[ib + 1].qs);
        sum0 += (float)s0 * (kn_h(x[ib].d) * kn_h(y[ib].d));
        sum1 += (float)s1 * (kn_h(x[ib + 1].d) * kn_h(y[ib + 1].d));
    }
    if (ib < nb) {
        const int32_t s0 = kn_block_sum(vld1q_s8(x[ib].qs), vld1q_s8(x[ib].qs + 16), y[ib].qs);
        sum0 += (float)s0 * (kn_h(x[ib].d) * kn_h(y[ib].d));
    }
    return sum0 + sum1;
}

/* Nibbles of 16 bytes: low ones are elements 0..15, high ones 16..31. */
static inline void kn_nibbles(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t raw = vld1q_u8(qs);
    *lo = vandq_u8(raw, vdupq_n_u8(0x0F));
    *hi = vshrq_n_u8(raw, 4);
}

static inline int32_t kn_q4_0_block(const BlockQ4_0 *b, const int8_t *y) {
    uint8x16_t lo, hi;
    kn_nibbles(b->qs, &lo, &hi);
    const int8x16_t eight = vdupq_n_s8(8);
    return kn_block_sum(vsubq_s8(vreinterpretq_s8_u8(lo), eight), vsubq_s8(vreinterpretq_s8_u8(hi), eight), y);
}

static float kn_dot_q4_0(const void *row, const void *vec, int64_t n) {
    const BlockQ4_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sum0 = 0.0f, sum1 = 0.0f;
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2) {
        sum0 += (float)kn_q4_0_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
        sum1 += (float)kn_q4_0_block(&x[ib + 1], y[ib + 1].qs) * (kn_h(x[ib + 1].d) * kn_h(y[ib + 1].d));
    }
    if (ib < nb) sum0 += (float)kn_q4_0_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
    return sum0 + sum1;
}

/* The 32 fifth bits as 0x10 bytes: bit i of qh (little-endian) -> byte i. */
static inline void kn_bits(const uint8_t *qh, uint8x16_t *lo, uint8x16_t *hi) {
    uint32_t b;
    memcpy(&b, qh, sizeof b);
    static const uint8_t SEL[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t sel = vld1q_u8(SEL);
    const uint8x8_t b0 = vdup_n_u8((uint8_t)b), b1 = vdup_n_u8((uint8_t)(b >> 8));
    const uint8x8_t b2 = vdup_n_u8((uint8_t)(b >> 16)), b3 = vdup_n_u8((uint8_t)(b >> 24));
    const uint8x16_t m = vdupq_n_u8(0x10);
    /* vtstq: 0xFF where (byte & sel) != 0 */
    *lo = vandq_u8(vtstq_u8(vcombine_u8(b0, b1), sel), m);
    *hi = vandq_u8(vtstq_u8(vcombine_u8(b2, b3), sel), m);
}

static inline int32_t kn_q5_0_block(const BlockQ5_0 *b, const int8_t *y) {
    uint8x16_t lo, hi, blo, bhi;
    kn_nibbles(b->qs, &lo, &hi);
    kn_bits(b->qh, &blo, &bhi);
    const int8x16_t sixteen = vdupq_n_s8(16);
    const int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, blo)), sixteen);
    const int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, bhi)), sixteen);
    return kn_block_sum(q0, q1, y);
}

static float kn_dot_q5_0(const void *row, const void *vec, int64_t n) {
    const BlockQ5_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sum0 = 0.0f, sum1 = 0.0f;
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2) {
        sum0 += (float)kn_q5_0_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
        sum1 += (float)kn_q5_0_block(&x[ib + 1], y[ib + 1].qs) * (kn_h(x[ib + 1].d) * kn_h(y[ib + 1].d));
    }
    if (ib < nb) sum0 += (float)kn_q5_0_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
    return sum0 + sum1;
}

/* Q4_1 / Q5_1 codes are unsigned (0..15, 0..31) and so fit int8 as they are. */
static inline int32_t kn_q4_1_block(const BlockQ4_1 *b, const int8_t *y) {
    uint8x16_t lo, hi;
    kn_nibbles(b->qs, &lo, &hi);
    return kn_block_sum(vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), y);
}

static float kn_dot_q4_1(const void *row, const void *vec, int64_t n) {
    const BlockQ4_1 *x = row;
    const BlockQ8_1 *y = vec;
    const int64_t nb = n / QK8_1;
    float sum = 0.0f, summs = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        sum += (float)kn_q4_1_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
        summs += kn_h(x[ib].m) * kn_h(y[ib].s);
    }
    return sum + summs;
}

static inline int32_t kn_q5_1_block(const BlockQ5_1 *b, const int8_t *y) {
    uint8x16_t lo, hi, blo, bhi;
    kn_nibbles(b->qs, &lo, &hi);
    kn_bits(b->qh, &blo, &bhi);
    return kn_block_sum(vreinterpretq_s8_u8(vorrq_u8(lo, blo)), vreinterpretq_s8_u8(vorrq_u8(hi, bhi)), y);
}

static float kn_dot_q5_1(const void *row, const void *vec, int64_t n) {
    const BlockQ5_1 *x = row;
    const BlockQ8_1 *y = vec;
    const int64_t nb = n / QK8_1;
    float sum = 0.0f, summs = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        sum += (float)kn_q5_1_block(&x[ib], y[ib].qs) * (kn_h(x[ib].d) * kn_h(y[ib].d));
        summs += kn_h(x[ib].m) * kn_h(y[ib].s);
    }
    return sum + summs;
}

/* -------------------------------------------------------------------- table */

static const KernelSet NEON = {
    .name = "neon",
    .row_dot =
        {
            [GGML_TYPE_F32] = kn_dot_f32,
            [GGML_TYPE_F16] = kn_dot_f16,
            [GGML_TYPE_BF16] = kn_dot_bf16,
            [GGML_TYPE_Q8_0] = kn_dot_q8_0,
            [GGML_TYPE_Q4_0] = kn_dot_q4_0,
            [GGML_TYPE_Q5_0] = kn_dot_q5_0,
            [GGML_TYPE_Q4_1] = kn_dot_q4_1,
            [GGML_TYPE_Q5_1] = kn_dot_q5_1,
        },
    .quantize = {[GGML_TYPE_Q8_0] = kn_quantize_q8_0, [GGML_TYPE_Q8_1] = kn_quantize_q8_1},
};

int kernels_arm_sets(const KernelSet **out, int max) {
    if (max < 1) return 0;
    out[0] = &NEON;
    return 1;
}

#else /* not AArch64 NEON */

int kernels_arm_sets(const KernelSet **out, int max) {
    (void)out;
    (void)max;
    return 0;
}

#endif
