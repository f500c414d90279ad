/* kernels_x86.c — AVX2 (+FMA, F16C) and AVX-VNNI row-dot kernels, chosen at run time.
 *
 * Every function here carries a target attribute instead of the whole file being
 * built with -mavx2, so the binary still starts on a CPU without AVX2:
 * kernels_x86_sets() asks the CPU (__builtin_cpu_supports, CPUID for AVX-VNNI)
 * before handing any of these out. The integer kernels are in
 * kernels_x86_int8.inc, compiled twice (AVX2 multiply-adds, VNNI dot products).
 *
 * What each set holds, against the scalar reference (kernels_scalar.c):
 *   - activation quantizers: byte-identical (same d, same 1/d, roundf's ties
 *     away from zero rebuilt from truncation; ggml's own AVX2 quantizer is not:
 *     it uses 127/amax and rounds ties to even);
 *   - integer kernels: identical integer sums per block, float totals in another
 *     order (8 lanes x 4 accumulators);
 *   - float kernels: 4 x 8-lane FMA accumulators, so a different float order.
 */
#include "quant/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <string.h>

#include "base/half.h"

#define QL_AVX2 __attribute__((target("avx2,fma,f16c")))
#define QL_VNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

/* ------------------------------------------------------------------ helpers */

static QL_AVX2 inline float kx_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static QL_AVX2 inline int kx_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static QL_AVX2 inline __m256i kx_load32(const int8_t *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

/* Port 5 (shuffles, and moves into vector registers) is what limits these
 * kernels on Intel cores, so the helpers below avoid it where they can. */

/* fp16 -> float for every bit pattern (256 KB), filled once by kernels_x86_sets
 * before any kernel here can be handed out. Looking a scale up is two loads
 * (the half, then its float, broadcast straight from memory); converting it
 * with F16C needs a move into a vector register and VCVTPH2PS, both on port 5,
 * the port these kernels are short of: the table made the integer kernels
 * 25-40% faster. */
static float kx_f16_table[1 << 16];
static pthread_once_t kx_f16_once = PTHREAD_ONCE_INIT;

static void kx_f16_fill(void) {
    for (uint32_t h = 0; h < (1u << 16); h++) kx_f16_table[h] = half_to_f32((uint16_t)h);
}

static inline float kx_f16(uint16_t h) {
    return kx_f16_table[h];
}

/* d_w * d_x in all 8 lanes (the broadcasts are loads, not shuffles). */
static QL_AVX2 inline __m256 kx_scale(const uint16_t *dw, const uint16_t *dx) {
    return _mm256_mul_ps(_mm256_broadcast_ss(&kx_f16_table[*dw]), _mm256_broadcast_ss(&kx_f16_table[*dx]));
}

/* 16 bytes of nibble pairs -> 32 bytes 0..15: byte j's low nibble is element j,
 * its high nibble element j + 16 (ggml's layout). The 16 bytes are loaded into
 * both halves at once and the upper half shifted right by 4 (a 64-bit shift is
 * fine: the bits it moves across bytes land in the nibble the mask drops). */
static QL_AVX2 inline __m256i kx_nibbles(const uint8_t *qs) {
    const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)qs));
    const __m256i shifted = _mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4));
    return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

/* Prefetches the `bytes` bytes that start KX_PREFETCH_AHEAD past p (a prefetch
 * never faults, so running past the end of the matrix is harmless). 4 KB: one
 * core streaming a matrix from memory keeps enough misses in flight only that
 * far ahead. Measured on the 2-vCPU Xeon, one thread, a 65536x2048 product
 * (75-537 MB, far past the caches), best of 3 rounds under load: Q8_0 8.8 GB/s
 * with 1 KB, 8.7 with 2 KB, 13.0 with 4 KB, no better with 8 KB; Q4_0 13.7,
 * 14.2, 15.3; F32 (no prefetch before) 11.8 without, 13.8 with 4 KB. */
#ifndef KX_PREFETCH_AHEAD
#define KX_PREFETCH_AHEAD 4096
#endif
static QL_AVX2 inline void kx_prefetch_ahead(const void *p, size_t bytes) {
    for (size_t off = 0; off < bytes; off += 64) _mm_prefetch((const char *)p + KX_PREFETCH_AHEAD + off, _MM_HINT_T0);
}

/* 32 bits (little-endian, bit i = element i) -> 32 bytes, 0xFF where the bit is set. */
static QL_AVX2 inline __m256i kx_bits(const uint8_t *qh) {
    /* the 4 bytes into every 32-bit lane (compilers make this one broadcast
     * load), then byte i takes byte i/8 of them and keeps bit i%8 */
    uint32_t b;
    memcpy(&b, qh, sizeof b);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)b),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

/* ------------------------------------------------------------ float kernels */

static QL_AVX2 float kx_dot_f32(const void *row, const void *vec, int64_t n) {
    const float *w = row;
    const float *x = vec;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        kx_prefetch_ahead(w + j, 32 * sizeof *w);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 16), _mm256_loadu_ps(x + j + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 24), _mm256_loadu_ps(x + j + 24), a3);
    }
    for (; j + 8 <= n; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
    float sum = kx_hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < n; j++) sum += w[j] * x[j];
    return sum;
}

static QL_AVX2 inline __m256 kx_load_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

static QL_AVX2 float kx_dot_f16(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        kx_prefetch_ahead(w + j, 32 * sizeof *w);
        a0 = _mm256_fmadd_ps(kx_load_f16(w + j), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(kx_load_f16(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
        a2 = _mm256_fmadd_ps(kx_load_f16(w + j + 16), _mm256_loadu_ps(x + j + 16), a2);
        a3 = _mm256_fmadd_ps(kx_load_f16(w + j + 24), _mm256_loadu_ps(x + j + 24), a3);
    }
    for (; j + 8 <= n; j += 8) a0 = _mm256_fmadd_ps(kx_load_f16(w + j), _mm256_loadu_ps(x + j), a0);
    float sum = kx_hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < n; j++) sum += _cvtsh_ss(w[j]) * x[j];
    return sum;
}

/* bf16 is the top half of a float: widen to 32 bits and shift into place. */
static QL_AVX2 inline __m256 kx_load_bf16(const uint16_t *p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

static QL_AVX2 float kx_dot_bf16(const void *row, const void *vec, int64_t n) {
    const uint16_t *w = row;
    const float *x = vec;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        kx_prefetch_ahead(w + j, 32 * sizeof *w);
        a0 = _mm256_fmadd_ps(kx_load_bf16(w + j), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(kx_load_bf16(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
        a2 = _mm256_fmadd_ps(kx_load_bf16(w + j + 16), _mm256_loadu_ps(x + j + 16), a2);
        a3 = _mm256_fmadd_ps(kx_load_bf16(w + j + 24), _mm256_loadu_ps(x + j + 24), a3);
    }
    for (; j + 8 <= n; j += 8) a0 = _mm256_fmadd_ps(kx_load_bf16(w + j), _mm256_loadu_ps(x + j), a0);
    float sum = kx_hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < n; j++) sum += bf16_to_f32(w[j]) * x[j];
    return sum;
}

/* ------------------------------------------------------ activation quantizer */

/* One block of 32 floats -> codes, exactly as quant_row_q8_0_ref: d = amax/127 and
 * id = 1/d in float (quant_recip_or_zero), code = roundf(x * id). roundf rounds halves away from zero,
 * which no SSE/AVX rounding mode does, so it is rebuilt: t = trunc(v) and
 * f = v - t (exact: f is v's fraction bits); add sign(v) when |f| >= 0.5.
 * Returns d; *sum gets the sum of the 32 codes (for Q8_1's s). */
static QL_AVX2 float kx_quantize_block(const float *x, int8_t *qs, int *sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
    __m256 amax8 = _mm256_andnot_ps(sign, v[0]);
    for (int k = 1; k < 4; k++) amax8 = _mm256_max_ps(amax8, _mm256_andnot_ps(sign, v[k]));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4); /* max is exact, so its order is free */

    const float d = amax / ((1 << 7) - 1);
    const float id = quant_recip_or_zero(d);
    const __m256 vid = _mm256_set1_ps(id);
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        const __m256 s = _mm256_mul_ps(v[k], vid);
        const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 f = _mm256_andnot_ps(sign, _mm256_sub_ps(s, t));
        const __m256 away = _mm256_or_ps(one, _mm256_and_ps(sign, s)); /* copysign(1, s) */
        const __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(f, half, _CMP_GE_OQ), away));
        q[k] = _mm256_cvttps_epi32(r); /* r is a whole number: exact */
    }
    *sum = kx_hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    /* int32 -> int8 (|code| <= 127, so the saturating packs never clip), then undo
     * the per-128-bit-lane interleave of the packs. */
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)(void *)qs, ordered);
    return d;
}

static QL_AVX2 void kx_quantize_q8_0(const float *x, void *vy, int64_t n) {
    BlockQ8_0 *y = vy;
    float tail[QK8_0];
    for (int64_t i = 0; i < (n + QK8_0 - 1) / QK8_0; i++) {
        int sum;
        y[i].d = half_from_f32(kx_quantize_block(kernels_vec_block_at(x, n, i, tail), y[i].qs, &sum));
    }
}

static QL_AVX2 void kx_quantize_q8_1(const float *x, void *vy, int64_t n) {
    BlockQ8_1 *y = vy;
    float tail[QK8_1];
    for (int64_t i = 0; i < (n + QK8_1 - 1) / QK8_1; i++) {
        int sum;
        const float d = kx_quantize_block(kernels_vec_block_at(x, n, i, tail), y[i].qs, &sum);
        y[i].d = half_from_f32(d);
        y[i].s = half_from_f32(sum * d);
    }
}

/* ---------------------------------------------------------- integer kernels */

/* AVX2: u8*s8 pairs to int16 (VPMADDUBSW; no saturation here since |u| <= 128
 * and |s| <= 127 give |pair| <= 32512), then pairs of int16 to int32 (VPMADDWD). */
static QL_AVX2 inline __m256i kx_dpbusd_avx2(__m256i acc, __m256i u, __m256i s) {
    const __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

#define KX_ATTR QL_AVX2
#define KX_NAME(base) base##_avx2
#define KX_DPBUSD(acc, u, s) kx_dpbusd_avx2(acc, u, s)
#include "quant/kernels_x86_int8.inc"
#undef KX_ATTR
#undef KX_NAME
#undef KX_DPBUSD

/* AVX-VNNI: the same four products and their sum in one VPDPBUSD. */
#define KX_ATTR QL_VNNI
#define KX_NAME(base) base##_vnni
#define KX_DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "quant/kernels_x86_int8.inc"
#undef KX_ATTR
#undef KX_NAME
#undef KX_DPBUSD

/* ------------------------------------------------------------------- tables */

static const KernelSet AVX2 = {
    .name = "avx2",
    .row_dot =
        {
            [GGML_TYPE_F32] = kx_dot_f32,
            [GGML_TYPE_F16] = kx_dot_f16,
            [GGML_TYPE_BF16] = kx_dot_bf16,
            [GGML_TYPE_Q8_0] = kx_dot_q8_0_avx2,
            [GGML_TYPE_Q4_0] = kx_dot_q4_0_avx2,
            [GGML_TYPE_Q5_0] = kx_dot_q5_0_avx2,
            [GGML_TYPE_Q4_1] = kx_dot_q4_1_avx2,
            [GGML_TYPE_Q5_1] = kx_dot_q5_1_avx2,
        },
    .row_dot2 = {[GGML_TYPE_Q8_0] = kx_dot2_q8_0_avx2, [GGML_TYPE_Q4_0] = kx_dot2_q4_0_avx2},
    .quantize = {[GGML_TYPE_Q8_0] = kx_quantize_q8_0, [GGML_TYPE_Q8_1] = kx_quantize_q8_1},
};

static const KernelSet VNNI = {
    .name = "avx-vnni",
    .row_dot =
        {
            [GGML_TYPE_F32] = kx_dot_f32,
            [GGML_TYPE_F16] = kx_dot_f16,
            [GGML_TYPE_BF16] = kx_dot_bf16,
            [GGML_TYPE_Q8_0] = kx_dot_q8_0_vnni,
            [GGML_TYPE_Q4_0] = kx_dot_q4_0_vnni,
            [GGML_TYPE_Q5_0] = kx_dot_q5_0_vnni,
            [GGML_TYPE_Q4_1] = kx_dot_q4_1_vnni,
            [GGML_TYPE_Q5_1] = kx_dot_q5_1_vnni,
        },
    .row_dot2 = {[GGML_TYPE_Q8_0] = kx_dot2_q8_0_vnni, [GGML_TYPE_Q4_0] = kx_dot2_q4_0_vnni},
    .quantize = {[GGML_TYPE_Q8_0] = kx_quantize_q8_0, [GGML_TYPE_Q8_1] = kx_quantize_q8_1},
};

/* AVX-VNNI is CPUID.(EAX=7,ECX=1):EAX bit 4; __builtin_cpu_supports has no name
 * for it in every compiler we build with. The OS saving YMM state is already
 * implied by __builtin_cpu_supports("avx2") being true. */
static int cpu_has_avx_vnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 4) & 1u;
}

int kernels_x86_sets(const KernelSet **out, int max) {
    __builtin_cpu_init();
    pthread_once(&kx_f16_once, kx_f16_fill);
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    /* F16C has no __builtin_cpu_supports name in older compilers: CPUID.1:ECX bit 29. */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 29) & 1u)) return 0;
    int n = 0;
    if (n < max) out[n++] = &AVX2;
    if (n < max && cpu_has_avx_vnni()) out[n++] = &VNNI;
    return n;
}

#else /* not x86 */

int kernels_x86_sets(const KernelSet **out, int max) {
    (void)out;
    (void)max;
    return 0;
}

#endif
