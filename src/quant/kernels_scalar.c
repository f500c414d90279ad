/* kernels_scalar.c — the portable row-dot kernels: the reference for every SIMD set.
 *
 * The quantized kernels are ggml's generic ones (ggml-cpu/quants.c,
 * ggml_vec_dot_*_generic), down to the order of the float operations that fold a
 * block's integer sum into the total, so their results are those of a llama.cpp
 * build without SIMD. The float kernels sum left to right in float, the order of
 * llama2.c's matmul. Called through kernels_scalar(), which kernels_row_dot()
 * also uses for short F32 rows whatever the active set (the SIMD files do their
 * own tails).
 */
#include "quant/kernels.h"

#include <string.h>

#include "base/half.h"

/* clang contracts a*b+c into an FMA by default where the target has one
 * (AArch64 always does); the reference must round every product on its own. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* ------------------------------------------------------ activation quantizers */

/* Block by block through the reference quantizer, the last partial block as a
 * zero-padded copy (kernels_vec_block_at). */
void kernels_quantize_q8_0_scalar(const float *x, void *vy, int64_t n) {
    BlockQ8_0 *y = vy;
    float tail[QK8_0];
    for (int64_t i = 0; i < (n + QK8_0 - 1) / QK8_0; i++)
        quant_row_q8_0_ref(kernels_vec_block_at(x, n, i, tail), &y[i], QK8_0);
}

void kernels_quantize_q8_1_scalar(const float *x, void *vy, int64_t n) {
    BlockQ8_1 *y = vy;
    float tail[QK8_1];
    for (int64_t i = 0; i < (n + QK8_1 - 1) / QK8_1; i++)
        quant_row_q8_1_ref(kernels_vec_block_at(x, n, i, tail), &y[i], QK8_1);
}

/* ------------------------------------------------------------ float weights */

/* sum += w[j] * x[j], j = 0, 1, ... n-1: llama2.c's matmul order. */
float kernels_dot_f32_scalar(const void *row, const void *vec, int64_t n) {
    const float *w = row;
    const float *x = vec;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += w[j] * x[j];
    return sum;
}

/* The same sum with each F16 weight widened to float first (exact). ggml would
 * also round x to F16; quantlab keeps x in float so an F16 matrix shows the error
 * of its weights alone. */
float kernels_dot_f16_scalar(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += half_to_f32(w[j]) * x[j];
    return sum;
}

float kernels_dot_bf16_scalar(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += bf16_to_f32(w[j]) * x[j];
    return sum;
}

/* ------------------------------------------------------ block weights, Q8_0 x */

/* Each block: an exact int sum of code products, then folded into the float total
 * with ggml's expression for that format (the parentheses differ between formats
 * in ggml and are kept as they are there). */

float kernels_dot_q8_0_scalar(const void *row, const void *vec, int64_t n) {
    const BlockQ8_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sumf = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[ib].qs[j] * y[ib].qs[j];
        sumf += sumi * (half_to_f32(x[ib].d) * half_to_f32(y[ib].d));
    }
    return sumf;
}

float kernels_dot_q4_0_scalar(const void *row, const void *vec, int64_t n) {
    const BlockQ4_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sumf = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int v0 = (x[ib].qs[j] & 0x0F) - 8; /* element j */
            const int v1 = (x[ib].qs[j] >> 4) - 8;   /* element j + 16 */
            sumi0 += v0 * y[ib].qs[j];
            sumi1 += v1 * y[ib].qs[j + QK4_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += sumi * half_to_f32(x[ib].d) * half_to_f32(y[ib].d);
    }
    return sumf;
}

float kernels_dot_q5_0_scalar(const void *row, const void *vec, int64_t n) {
    const BlockQ5_0 *x = row;
    const BlockQ8_0 *y = vec;
    const int64_t nb = n / QK8_0;
    float sumf = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        uint32_t qh;
        memcpy(&qh, x[ib].qh, sizeof qh);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            /* bit i of qh is the fifth bit of element i */
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            const int v0 = ((x[ib].qs[j] & 0x0F) | h0) - 16;
            const int v1 = ((x[ib].qs[j] >> 4) | h1) - 16;
            sumi0 += v0 * y[ib].qs[j];
            sumi1 += v1 * y[ib].qs[j + QK5_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (half_to_f32(x[ib].d) * half_to_f32(y[ib].d)) * sumi;
    }
    return sumf;
}

/* ------------------------------------------------------ block weights, Q8_1 x */

/* w = d_w*q + m and x ~ d_x*p, so  sum w*x = d_w*d_x * sum q*p  +  m * (d_x * sum p);
 * the last factor is the Q8_1 block's s, stored once per activation block. */

float kernels_dot_q4_1_scalar(const void *row, const void *vec, int64_t n) {
    const BlockQ4_1 *x = row;
    const BlockQ8_1 *y = vec;
    const int64_t nb = n / QK8_1;
    float sumf = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            sumi0 += (x[ib].qs[j] & 0x0F) * y[ib].qs[j];
            sumi1 += (x[ib].qs[j] >> 4) * y[ib].qs[j + QK4_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (half_to_f32(x[ib].d) * half_to_f32(y[ib].d)) * sumi +
                half_to_f32(x[ib].m) * half_to_f32(y[ib].s);
    }
    return sumf;
}

float kernels_dot_q5_1_scalar(const void *row, const void *vec, int64_t n) {
    const BlockQ5_1 *x = row;
    const BlockQ8_1 *y = vec;
    const int64_t nb = n / QK8_1;
    float sumf = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        uint32_t qh;
        memcpy(&qh, x[ib].qh, sizeof qh);
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            sumi0 += ((x[ib].qs[j] & 0x0F) | h0) * y[ib].qs[j];
            sumi1 += ((x[ib].qs[j] >> 4) | h1) * y[ib].qs[j + QK5_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (half_to_f32(x[ib].d) * half_to_f32(y[ib].d)) * sumi +
                half_to_f32(x[ib].m) * half_to_f32(y[ib].s);
    }
    return sumf;
}

/* ------------------------------------------------------------------ the table */

static const KernelSet SCALAR = {
    .name = "scalar",
    .row_dot =
        {
            [GGML_TYPE_F32] = kernels_dot_f32_scalar,
            [GGML_TYPE_F16] = kernels_dot_f16_scalar,
            [GGML_TYPE_BF16] = kernels_dot_bf16_scalar,
            [GGML_TYPE_Q8_0] = kernels_dot_q8_0_scalar,
            [GGML_TYPE_Q4_0] = kernels_dot_q4_0_scalar,
            [GGML_TYPE_Q5_0] = kernels_dot_q5_0_scalar,
            [GGML_TYPE_Q4_1] = kernels_dot_q4_1_scalar,
            [GGML_TYPE_Q5_1] = kernels_dot_q5_1_scalar,
        },
    .quantize =
        {
            [GGML_TYPE_Q8_0] = kernels_quantize_q8_0_scalar,
            [GGML_TYPE_Q8_1] = kernels_quantize_q8_1_scalar,
        },
};

const KernelSet *kernels_scalar(void) {
    return &SCALAR;
}
