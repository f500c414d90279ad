/* kernels.c — which activation form each weight type takes, and which kernel set runs.
 *
 * The sets themselves live in kernels_scalar.c, kernels_x86.c and kernels_arm.c;
 * this file only pairs weight types with vec types and picks a set from what the
 * CPU supports (asked once, the answer cached) and QUANTLAB_NO_SIMD (asked at
 * every call). Called by matvec.c and the tests.
 */
#include "quant/kernels.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Weight type -> vec type; 0 (= F32) is a real answer, so the table stores
 * vec type + 1 and 0 means "no kernel". */
static const uint8_t VEC_TYPE_PLUS_1[GGML_TYPE_COUNT] = {
    [GGML_TYPE_F32] = GGML_TYPE_F32 + 1,   [GGML_TYPE_F16] = GGML_TYPE_F32 + 1,
    [GGML_TYPE_BF16] = GGML_TYPE_F32 + 1,  [GGML_TYPE_Q8_0] = GGML_TYPE_Q8_0 + 1,
    [GGML_TYPE_Q4_0] = GGML_TYPE_Q8_0 + 1, [GGML_TYPE_Q5_0] = GGML_TYPE_Q8_0 + 1,
    [GGML_TYPE_Q4_1] = GGML_TYPE_Q8_1 + 1, [GGML_TYPE_Q5_1] = GGML_TYPE_Q8_1 + 1,
};

uint32_t kernels_vec_type(uint32_t type) {
    if (type >= GGML_TYPE_COUNT || VEC_TYPE_PLUS_1[type] == 0) return GGML_TYPE_COUNT;
    return VEC_TYPE_PLUS_1[type] - 1u;
}

int kernels_vec_block(uint32_t type) {
    const TypeTraits *t = type_traits(kernels_vec_type(type));
    return t ? t->block_size : 0;
}

size_t kernels_vec_bytes(uint32_t type, int64_t cols) {
    const TypeTraits *t = type_traits(kernels_vec_type(type));
    if (!t || cols <= 0) return 0;
    const int64_t blocks = (cols + t->block_size - 1) / t->block_size;
    return (size_t)blocks * t->type_size;
}

/* ---------------------------------------------------------------- selection */

enum { KERNELS_MAX_SETS = 8 };

int kernels_available(const KernelSet **out, int max) {
    int n = 0;
    if (n < max) out[n++] = kernels_scalar();
    n += kernels_x86_sets(out + n, max - n);
    n += kernels_arm_sets(out + n, max - n);
    return n;
}

const KernelSet *kernels_best(void) {
    /* CPU features do not change while we run; ask once. Two threads racing
     * here compute the same answer, so a plain atomic store is enough. */
    static _Atomic(const KernelSet *) best = NULL;
    const KernelSet *b = atomic_load_explicit(&best, memory_order_acquire);
    if (!b) {
        const KernelSet *sets[KERNELS_MAX_SETS];
        int n = kernels_available(sets, KERNELS_MAX_SETS);
        b = sets[n - 1];
        atomic_store_explicit(&best, b, memory_order_release);
    }
    return b;
}

const KernelSet *kernels_active(void) {
    const char *v = getenv("QUANTLAB_NO_SIMD");
    if (v && v[0] != '\0' && strcmp(v, "0") != 0) return kernels_scalar();
    return kernels_best();
}

const char *kernels_simd_name(void) {
    return kernels_active()->name;
}

KernelRowDotFn kernels_row_dot(const KernelSet *ks, uint32_t type, int64_t cols) {
    if (type >= GGML_TYPE_COUNT) return NULL;
    if (type == GGML_TYPE_F32 && cols < KERNELS_F32_SIMD_MIN_COLS)
        return kernels_scalar()->row_dot[GGML_TYPE_F32];
    return ks->row_dot[type];
}
