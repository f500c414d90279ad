/* types.c — the type-traits table, row dequantizers and ggml's reference quantizers.
 *
 * The quantizers reproduce ggml-quants.c (quantize_row_*_ref) operation for
 * operation: same float expressions, same rounding (roundf for Q8, +0.5/+8.5/+16.5
 * then truncation for the 4/5-bit types), scales stored through half_from_f32.
 * Changing an expression here breaks bit-exactness with llama.cpp's files, which
 * tests/unit/test_qtensor.c checks against the GGUFs in tests/data. One
 * deliberate difference, where ggml's C is undefined: see quant_recip_or_zero()
 * (types.h).
 */
#include "quant/types.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "base/half.h"

_Static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 layout");
_Static_assert(sizeof(BlockQ4_1) == 20, "block_q4_1 layout");
_Static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 layout");
_Static_assert(sizeof(BlockQ5_1) == 24, "block_q5_1 layout");
_Static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 layout");
_Static_assert(sizeof(BlockQ8_1) == 36, "block_q8_1 layout");
_Static_assert(sizeof(BlockIQ4_NL) == 18, "block_iq4_nl layout");

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---------------------------------------------------------------- to float */

static void f32_to_float(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void f16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = half_to_f32(h);
    }
}

static void bf16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
    }
}

static void f64_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, p + 8 * i, 8);
        dst[i] = (float)d;
    }
}

static void q4_0_to_float(const void *src, float *y, int64_t n) {
    const BlockQ4_0 *x = src;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        const float d = half_to_f32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[i * QK4_0 + j] = x0 * d;
            y[i * QK4_0 + j + QK4_0 / 2] = x1 * d;
        }
    }
}

static void q4_1_to_float(const void *src, float *y, int64_t n) {
    const BlockQ4_1 *x = src;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        const float d = half_to_f32(x[i].d);
        const float m = half_to_f32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            const int x0 = x[i].qs[j] & 0x0F;
            const int x1 = x[i].qs[j] >> 4;
            y[i * QK4_1 + j] = x0 * d + m;
            y[i * QK4_1 + j + QK4_1 / 2] = x1 * d + m;
        }
    }
}

static void q5_0_to_float(const void *src, float *y, int64_t n) {
    const BlockQ5_0 *x = src;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        const float d = half_to_f32(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
            const int32_t x0 = ((x[i].qs[j] & 0x0F) | xh_0) - 16;
            const int32_t x1 = ((x[i].qs[j] >> 4) | xh_1) - 16;
            y[i * QK5_0 + j] = x0 * d;
            y[i * QK5_0 + j + QK5_0 / 2] = x1 * d;
        }
    }
}

static void q5_1_to_float(const void *src, float *y, int64_t n) {
    const BlockQ5_1 *x = src;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        const float d = half_to_f32(x[i].d);
        const float m = half_to_f32(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
            const int x0 = (x[i].qs[j] & 0x0F) | xh_0;
            const int x1 = (x[i].qs[j] >> 4) | xh_1;
            y[i * QK5_1 + j] = x0 * d + m;
            y[i * QK5_1 + j + QK5_1 / 2] = x1 * d + m;
        }
    }
}

static void q8_0_to_float(const void *src, float *y, int64_t n) {
    const BlockQ8_0 *x = src;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        const float d = half_to_f32(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[i * QK8_0 + j] = x[i].qs[j] * d;
    }
}

static void q8_1_to_float(const void *src, float *y, int64_t n) {
    const BlockQ8_1 *x = src;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        const float d = half_to_f32(x[i].d);
        for (int j = 0; j < QK8_1; j++) y[i * QK8_1 + j] = x[i].qs[j] * d;
    }
}

static const int8_t IQ4NL_VALUES[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                        1,    13,   25,  38,  53,  69,  89,  113};

static void iq4_nl_to_float(const void *src, float *y, int64_t n) {
    const BlockIQ4_NL *x = src;
    for (int64_t i = 0; i < n / QK4_NL; i++) {
        const float d = half_to_f32(x[i].d);
        for (int j = 0; j < QK4_NL / 2; j++) {
            y[i * QK4_NL + j] = d * IQ4NL_VALUES[x[i].qs[j] & 0x0F];
            y[i * QK4_NL + j + QK4_NL / 2] = d * IQ4NL_VALUES[x[i].qs[j] >> 4];
        }
    }
}

/* ------------------------------------------------------- from float (plain) */

static void f32_from_float(const float *x, void *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

static void f16_from_float(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = half_from_f32(x[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

static void bf16_from_float(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = bf16_from_f32(x[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

/* ---------------------------------------------- reference quantizers (ggml) */

void quant_row_q4_0_ref(const float *x, void *vy, int64_t k) {
    const int qk = QK4_0;
    BlockQ4_0 *y = vy;
    for (int64_t i = 0; i < k / qk; i++) {
        float amax = 0.0f; /* absolute max */
        float max = 0.0f;  /* the value with that magnitude, sign kept */
        for (int j = 0; j < qk; j++) {
            const float v = x[i * qk + j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        const float d = max / -8;
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = x[i * qk + 0 + j] * id;
            const float x1 = x[i * qk + qk / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)MIN(15, (int8_t)(x0 + 8.5f));
            const uint8_t xi1 = (uint8_t)MIN(15, (int8_t)(x1 + 8.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

void quant_row_q4_1_ref(const float *x, void *vy, int64_t k) {
    const int qk = QK4_1;
    BlockQ4_1 *y = vy;
    for (int64_t i = 0; i < k / qk; i++) {
        float min = FLT_MAX;
        float max = -FLT_MAX;
        for (int j = 0; j < qk; j++) {
            const float v = x[i * qk + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        y[i].m = half_from_f32(min);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (x[i * qk + 0 + j] - min) * id;
            const float x1 = (x[i * qk + qk / 2 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)MIN(15, (int8_t)(x0 + 0.5f));
            const uint8_t xi1 = (uint8_t)MIN(15, (int8_t)(x1 + 0.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

void quant_row_q5_0_ref(const float *x, void *vy, int64_t k) {
    const int qk = QK5_0;
    BlockQ5_0 *y = vy;
    for (int64_t i = 0; i < k / qk; i++) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < qk; j++) {
            const float v = x[i * qk + j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        const float d = max / -16;
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = x[i * qk + 0 + j] * id;
            const float x1 = x[i * qk + qk / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)MIN(31, (int8_t)(x0 + 16.5f));
            const uint8_t xi1 = (uint8_t)MIN(31, (int8_t)(x1 + 16.5f));
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            /* the fifth bit of each code goes to qh */
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
        }
        memcpy(y[i].qh, &qh, sizeof qh);
    }
}

void quant_row_q5_1_ref(const float *x, void *vy, int64_t k) {
    const int qk = QK5_1;
    BlockQ5_1 *y = vy;
    for (int64_t i = 0; i < k / qk; i++) {
        float min = FLT_MAX;
        float max = -FLT_MAX;
        for (int j = 0; j < qk; j++) {
            const float v = x[i * qk + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        y[i].m = half_from_f32(min);
        uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (x[i * qk + 0 + j] - min) * id;
            const float x1 = (x[i * qk + qk / 2 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)(x0 + 0.5f);
            const uint8_t xi1 = (uint8_t)(x1 + 0.5f);
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
        }
        memcpy(y[i].qh, &qh, sizeof qh);
    }
}

void quant_row_q8_0_ref(const float *x, void *vy, int64_t k) {
    BlockQ8_0 *y = vy;
    for (int64_t i = 0; i < k / QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            const float v = x[i * QK8_0 + j];
            amax = amax > fabsf(v) ? amax : fabsf(v);
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        for (int j = 0; j < QK8_0; ++j) {
            const float x0 = x[i * QK8_0 + j] * id;
            y[i].qs[j] = (int8_t)roundf(x0);
        }
    }
}

void quant_row_q8_1_ref(const float *x, void *vy, int64_t k) {
    BlockQ8_1 *y = vy;
    for (int64_t i = 0; i < k / QK8_1; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; j++) {
            const float v = x[i * QK8_1 + j];
            amax = amax > fabsf(v) ? amax : fabsf(v);
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = quant_recip_or_zero(d);
        y[i].d = half_from_f32(d);
        int sum = 0;
        for (int j = 0; j < QK8_1 / 2; ++j) {
            const float v0 = x[i * QK8_1 + j] * id;
            const float v1 = x[i * QK8_1 + QK8_1 / 2 + j] * id;
            y[i].qs[j] = (int8_t)roundf(v0);
            y[i].qs[QK8_1 / 2 + j] = (int8_t)roundf(v1);
            sum += y[i].qs[j];
            sum += y[i].qs[QK8_1 / 2 + j];
        }
        y[i].s = half_from_f32(sum * d);
    }
}

/* ------------------------------------------------------------------ table */

#define PLAIN(nm, bytes, tof, fromf) {nm, 1, bytes, false, tof, fromf}
#define QUANT(nm, bs, bytes, tof, fromf) {nm, bs, bytes, true, tof, fromf}

static const TypeTraits TRAITS[GGML_TYPE_COUNT] = {
    [GGML_TYPE_F32] = PLAIN("f32", 4, f32_to_float, f32_from_float),
    [GGML_TYPE_F16] = PLAIN("f16", 2, f16_to_float, f16_from_float),
    [GGML_TYPE_Q4_0] = QUANT("q4_0", QK4_0, sizeof(BlockQ4_0), q4_0_to_float, quant_row_q4_0_ref),
    [GGML_TYPE_Q4_1] = QUANT("q4_1", QK4_1, sizeof(BlockQ4_1), q4_1_to_float, quant_row_q4_1_ref),
    [GGML_TYPE_Q5_0] = QUANT("q5_0", QK5_0, sizeof(BlockQ5_0), q5_0_to_float, quant_row_q5_0_ref),
    [GGML_TYPE_Q5_1] = QUANT("q5_1", QK5_1, sizeof(BlockQ5_1), q5_1_to_float, quant_row_q5_1_ref),
    [GGML_TYPE_Q8_0] = QUANT("q8_0", QK8_0, sizeof(BlockQ8_0), q8_0_to_float, quant_row_q8_0_ref),
    [GGML_TYPE_Q8_1] = QUANT("q8_1", QK8_1, sizeof(BlockQ8_1), q8_1_to_float, quant_row_q8_1_ref),
    [GGML_TYPE_Q2_K] = QUANT("q2_K", QK_K, 84, NULL, NULL),
    [GGML_TYPE_Q3_K] = QUANT("q3_K", QK_K, 110, NULL, NULL),
    [GGML_TYPE_Q4_K] = QUANT("q4_K", QK_K, 144, NULL, NULL),
    [GGML_TYPE_Q5_K] = QUANT("q5_K", QK_K, 176, NULL, NULL),
    [GGML_TYPE_Q6_K] = QUANT("q6_K", QK_K, 210, NULL, NULL),
    [GGML_TYPE_Q8_K] = QUANT("q8_K", QK_K, 292, NULL, NULL),
    [GGML_TYPE_IQ2_XXS] = QUANT("iq2_xxs", QK_K, 66, NULL, NULL),
    [GGML_TYPE_IQ2_XS] = QUANT("iq2_xs", QK_K, 74, NULL, NULL),
    [GGML_TYPE_IQ3_XXS] = QUANT("iq3_xxs", QK_K, 98, NULL, NULL),
    [GGML_TYPE_IQ1_S] = QUANT("iq1_s", QK_K, 50, NULL, NULL),
    [GGML_TYPE_IQ4_NL] = QUANT("iq4_nl", QK4_NL, sizeof(BlockIQ4_NL), iq4_nl_to_float, NULL),
    [GGML_TYPE_IQ3_S] = QUANT("iq3_s", QK_K, 110, NULL, NULL),
    [GGML_TYPE_IQ2_S] = QUANT("iq2_s", QK_K, 82, NULL, NULL),
    [GGML_TYPE_IQ4_XS] = QUANT("iq4_xs", QK_K, 136, NULL, NULL),
    [GGML_TYPE_I8] = PLAIN("i8", 1, NULL, NULL),
    [GGML_TYPE_I16] = PLAIN("i16", 2, NULL, NULL),
    [GGML_TYPE_I32] = PLAIN("i32", 4, NULL, NULL),
    [GGML_TYPE_I64] = PLAIN("i64", 8, NULL, NULL),
    [GGML_TYPE_F64] = PLAIN("f64", 8, f64_to_float, NULL),
    [GGML_TYPE_IQ1_M] = QUANT("iq1_m", QK_K, 56, NULL, NULL),
    [GGML_TYPE_BF16] = PLAIN("bf16", 2, bf16_to_float, bf16_from_float),
    [GGML_TYPE_TQ1_0] = QUANT("tq1_0", QK_K, 54, NULL, NULL),
    [GGML_TYPE_TQ2_0] = QUANT("tq2_0", QK_K, 66, NULL, NULL),
    [GGML_TYPE_MXFP4] = QUANT("mxfp4", 32, 17, NULL, NULL),
};

const TypeTraits *type_traits(uint32_t type) {
    if (type >= GGML_TYPE_COUNT || TRAITS[type].name == NULL) return NULL;
    return &TRAITS[type];
}

const char *type_name(uint32_t type) {
    const TypeTraits *t = type_traits(type);
    return t ? t->name : "unknown";
}

int type_from_name(const char *name) {
    for (int i = 0; i < GGML_TYPE_COUNT; i++) {
        const char *n = TRAITS[i].name;
        if (!n) continue;
        size_t k = 0;
        while (n[k] && name[k] && tolower((unsigned char)n[k]) == tolower((unsigned char)name[k])) k++;
        if (n[k] == '\0' && name[k] == '\0') return i;
    }
    return -1;
}

size_t type_row_size(uint32_t type, int64_t n) {
    const TypeTraits *t = type_traits(type);
    return t ? t->type_size * (size_t)(n / t->block_size) : 0;
}

double type_bits_per_weight(uint32_t type) {
    const TypeTraits *t = type_traits(type);
    return t ? 8.0 * (double)t->type_size / t->block_size : 0.0;
}
