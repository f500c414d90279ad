/* test_kernels.c — row-dot kernels, activation quantizers, matvec, bandwidth.
 *
 * Expected values never come from the kernels under test: they come from
 * integer sums worked here from the block layouts of ggml-common.h, from double
 * precision sums over values dequantized by the type table, or from the scalar
 * kernels (for the SIMD ones) with a tolerance derived below. Every kernel set
 * this CPU can run is tested, not only the one matvec would pick.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/pool.h"
#include "quant/bandwidth.h"
#include "quant/kernels.h"
#include "quant/matvec.h"
#include "quant/types.h"

/* Unit roundoff of float: a correctly rounded float operation is off by at most
 * U times the exact result. */
#define U 0x1.0p-24

static const uint32_t TYPES[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q8_0,
                                 GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1};
enum { N_TYPES = sizeof TYPES / sizeof TYPES[0] };
/* 172 is stories260K's ffn_down row: 5 whole blocks and 12 values of a sixth. */
static const int64_t LENGTHS[] = {32, 64, 172, 256, 4096};
enum { N_LENGTHS = sizeof LENGTHS / sizeof LENGTHS[0], MAX_SETS = 8 };

/* ------------------------------------------------------------------ helpers */

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r) { /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(Rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static int rng_int(Rng *r, int lo, int hi) { /* inclusive */
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static float rng_normal(Rng *r) {
    double u1 = rng_unit(r), u2 = rng_unit(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static int block_of(uint32_t t) {
    return type_traits(t)->block_size;
}

static int64_t padded_len(uint32_t t, int64_t n) {
    const int64_t b = block_of(t);
    return (n + b - 1) / b * b;
}

/* Bytes of one stored row of n values (block types padded to whole blocks). */
static size_t stored_row_bytes(uint32_t t, int64_t n) {
    return type_row_size(t, padded_len(t, n));
}

/* The n the kernel is called with: the padded length for block types. */
static int64_t kernel_n(uint32_t t, int64_t n) {
    return padded_len(t, n);
}

/* Stores n floats as one row of t the way quantlab stores matrices: zero-padded
 * to whole blocks, then ggml's reference quantizer. Returns a malloc'd row. */
static void *store_row(uint32_t t, const float *x, int64_t n) {
    const int64_t np = padded_len(t, n);
    float *tmp = calloc((size_t)np, sizeof(float));
    void *row = malloc(stored_row_bytes(t, n));
    assert_non_null(tmp);
    assert_non_null(row);
    memcpy(tmp, x, (size_t)n * sizeof(float));
    type_traits(t)->from_float(tmp, row, np);
    free(tmp);
    return row;
}

/* The activation as the kernels of weight type t take it, prepared by set ks:
 * the floats themselves, or Q8_0/Q8_1 blocks. Returns a malloc'd buffer sized
 * exactly for n values (so ASan sees any read past it). */
static void *prepare_vec(const KernelSet *ks, uint32_t t, const float *x, int64_t n) {
    const uint32_t vt = kernels_vec_type(t);
    if (vt == GGML_TYPE_F32) {
        float *v = malloc((size_t)n * sizeof(float));
        assert_non_null(v);
        memcpy(v, x, (size_t)n * sizeof(float));
        return v;
    }
    void *v = malloc(kernels_vec_bytes(t, n));
    assert_non_null(v);
    ks->quantize[vt](x, v, n);
    return v;
}

/* One block's integer codes as the integer sum uses them, and its scale and min,
 * decoded from the layouts in ggml-common.h (independently of the kernels):
 * Q8_0 qs as they are; Q4_0 nibble - 8; Q4_1 nibble; Q5_0 (nibble | bit<<4) - 16;
 * Q5_1 nibble | bit<<4; byte j holds elements j (low) and j+16 (high); bit i of
 * qh is element i's fifth bit. Q8_1 (activations): qs, d, and s in *m. */
static void decode_block(uint32_t t, const void *row, int64_t b, int codes[32], double *d, double *m) {
    *m = 0.0;
    switch (t) {
    case GGML_TYPE_Q8_0: {
        const BlockQ8_0 *x = (const BlockQ8_0 *)row + b;
        for (int j = 0; j < 32; j++) codes[j] = x->qs[j];
        *d = half_to_f32(x->d);
        break;
    }
    case GGML_TYPE_Q8_1: {
        const BlockQ8_1 *x = (const BlockQ8_1 *)row + b;
        for (int j = 0; j < 32; j++) codes[j] = x->qs[j];
        *d = half_to_f32(x->d);
        *m = half_to_f32(x->s);
        break;
    }
    case GGML_TYPE_Q4_0:
    case GGML_TYPE_Q4_1: {
        const uint8_t *qs = t == GGML_TYPE_Q4_0 ? ((const BlockQ4_0 *)row + b)->qs : ((const BlockQ4_1 *)row + b)->qs;
        const int off = t == GGML_TYPE_Q4_0 ? 8 : 0;
        for (int j = 0; j < 16; j++) {
            codes[j] = (qs[j] & 15) - off;
            codes[j + 16] = (qs[j] >> 4) - off;
        }
        if (t == GGML_TYPE_Q4_0) {
            *d = half_to_f32(((const BlockQ4_0 *)row + b)->d);
        } else {
            *d = half_to_f32(((const BlockQ4_1 *)row + b)->d);
            *m = half_to_f32(((const BlockQ4_1 *)row + b)->m);
        }
        break;
    }
    case GGML_TYPE_Q5_0:
    case GGML_TYPE_Q5_1: {
        const uint8_t *qs, *qhb;
        if (t == GGML_TYPE_Q5_0) {
            qs = ((const BlockQ5_0 *)row + b)->qs;
            qhb = ((const BlockQ5_0 *)row + b)->qh;
            *d = half_to_f32(((const BlockQ5_0 *)row + b)->d);
        } else {
            qs = ((const BlockQ5_1 *)row + b)->qs;
            qhb = ((const BlockQ5_1 *)row + b)->qh;
            *d = half_to_f32(((const BlockQ5_1 *)row + b)->d);
            *m = half_to_f32(((const BlockQ5_1 *)row + b)->m);
        }
        const uint32_t qh = (uint32_t)qhb[0] | (uint32_t)qhb[1] << 8 | (uint32_t)qhb[2] << 16 | (uint32_t)qhb[3] << 24;
        const int off = t == GGML_TYPE_Q5_0 ? 16 : 0;
        for (int j = 0; j < 16; j++) {
            codes[j] = ((qs[j] & 15) | (int)((qh >> j) & 1) << 4) - off;
            codes[j + 16] = ((qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - off;
        }
        break;
    }
    default:
        fail_msg("decode_block: type %u has no blocks", t);
    }
}

/* Weight value j of a float-type row. */
static double float_weight(uint32_t t, const void *row, int64_t j) {
    if (t == GGML_TYPE_F32) return ((const float *)row)[j];
    const uint16_t h = ((const uint16_t *)row)[j];
    return t == GGML_TYPE_F16 ? half_to_f32(h) : bf16_to_f32(h);
}

/* M = the sum of the magnitudes of everything the kernel adds up:
 *   block types: sum over blocks of |d_w d_x| * sum_j |q_j p_j|  +  |m_w s_x|
 *   float types: sum_j |w_j x_j|
 * Float rounding errors of the kernels are bounded in units of U * M. */
static double dot_magnitude(uint32_t t, const void *row, const void *vec, int64_t n) {
    double mag = 0.0;
    if (block_of(t) == 1) {
        for (int64_t j = 0; j < n; j++) mag += fabs(float_weight(t, row, j) * ((const float *)vec)[j]);
        return mag;
    }
    const uint32_t vt = kernels_vec_type(t);
    for (int64_t b = 0; b < n / 32; b++) {
        int cw[32], cx[32];
        double dw, mw, dx, sx;
        decode_block(t, row, b, cw, &dw, &mw);
        decode_block(vt, vec, b, cx, &dx, &sx);
        double s = 0;
        for (int j = 0; j < 32; j++) s += fabs((double)cw[j] * cx[j]);
        mag += fabs(dw * dx) * s + fabs(mw * sx);
    }
    return mag;
}

/* The exact value of what the kernel computes, from the stored numbers, in
 * double: block types  sum_b d_w d_x S_b + m_w s_x  with S_b the exact integer
 * sum; float types  sum_j w_j x_j. Exact whenever no double rounding happens,
 * which holds for the dyadic rows of test_kernels_integer_sums_are_exact. */
static double dot_exact(uint32_t t, const void *row, const void *vec, int64_t n) {
    double sum = 0.0;
    if (block_of(t) == 1) {
        for (int64_t j = 0; j < n; j++) sum += float_weight(t, row, j) * ((const float *)vec)[j];
        return sum;
    }
    const uint32_t vt = kernels_vec_type(t);
    for (int64_t b = 0; b < n / 32; b++) {
        int cw[32], cx[32];
        double dw, mw, dx, sx;
        decode_block(t, row, b, cw, &dw, &mw);
        decode_block(vt, vec, b, cx, &dx, &sx);
        int64_t s = 0;
        for (int j = 0; j < 32; j++) s += (int64_t)cw[j] * cx[j];
        sum += dw * dx * (double)s + mw * sx;
    }
    return sum;
}

static void expect_within(double got, double want, double tol, const char *what, const char *set, uint32_t t,
                          int64_t n) {
    if (!(fabs(got - want) <= tol)) {
        fail_msg("%s [%s %s n=%lld]: got %.9g, want %.9g, |diff| %.3g > tolerance %.3g", what, set, type_name(t),
                 (long long)n, got, want, fabs(got - want), tol);
    }
}

static int simd_sets(const KernelSet **out) {
    const KernelSet *all[MAX_SETS];
    const int n = kernels_available(all, MAX_SETS);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all[i] != kernels_scalar()) out[k++] = all[i];
    return k;
}

/* ----------------------------------------------- exact integer sums (dyadic) */

/* Rows whose every float operation is exact, so that any order of summation
 * gives the same float and a kernel can be held to bitwise equality:
 *   weight scale d_w = 2^-4, activation scale d_x = 2^-7, mins m = k/16 with
 *   |k| <= 16, Q8_1 sums s = j/128 with |j| <= 512 (all exact in fp16);
 * every term (d_w d_x * lane sum, m*s) is then an integer multiple of 2^-11, and
 * the activation codes are capped at A so that the sum of all |terms| stays
 * below 2^24 units: every partial sum, in any order, is an integer number of
 * 2^-11 units below 2^24 — exactly representable. Float rows: integer weights
 * |w| <= 15 (exact in F16 and BF16) and integer x, same cap. Q8_0 weight codes
 * include -128, which ggml's quantizer never writes but a file may hold. */
static void fill_dyadic_row(uint32_t t, void *row, int64_t n, Rng *r) {
    const uint16_t dw = 0x2C00; /* 2^-4 */
    const int64_t nb = n / 32;
    switch (t) {
    case GGML_TYPE_F32:
        for (int64_t j = 0; j < n; j++) ((float *)row)[j] = (float)rng_int(r, -15, 15);
        break;
    case GGML_TYPE_F16:
        for (int64_t j = 0; j < n; j++) ((uint16_t *)row)[j] = half_from_f32((float)rng_int(r, -15, 15));
        break;
    case GGML_TYPE_BF16:
        for (int64_t j = 0; j < n; j++) ((uint16_t *)row)[j] = bf16_from_f32((float)rng_int(r, -15, 15));
        break;
    case GGML_TYPE_Q8_0:
        for (int64_t b = 0; b < nb; b++) {
            BlockQ8_0 *x = (BlockQ8_0 *)row + b;
            x->d = dw;
            for (int j = 0; j < 32; j++) x->qs[j] = (int8_t)rng_int(r, -128, 127);
        }
        break;
    case GGML_TYPE_Q4_0:
        for (int64_t b = 0; b < nb; b++) {
            BlockQ4_0 *x = (BlockQ4_0 *)row + b;
            x->d = dw;
            for (int j = 0; j < 16; j++) x->qs[j] = (uint8_t)rng_int(r, 0, 255);
        }
        break;
    case GGML_TYPE_Q4_1:
        for (int64_t b = 0; b < nb; b++) {
            BlockQ4_1 *x = (BlockQ4_1 *)row + b;
            x->d = dw;
            x->m = half_from_f32((float)rng_int(r, -16, 16) / 16.0f);
            for (int j = 0; j < 16; j++) x->qs[j] = (uint8_t)rng_int(r, 0, 255);
        }
        break;
    case GGML_TYPE_Q5_0:
        for (int64_t b = 0; b < nb; b++) {
            BlockQ5_0 *x = (BlockQ5_0 *)row + b;
            x->d = dw;
            for (int j = 0; j < 4; j++) x->qh[j] = (uint8_t)rng_int(r, 0, 255);
            for (int j = 0; j < 16; j++) x->qs[j] = (uint8_t)rng_int(r, 0, 255);
        }
        break;
    case GGML_TYPE_Q5_1:
        for (int64_t b = 0; b < nb; b++) {
            BlockQ5_1 *x = (BlockQ5_1 *)row + b;
            x->d = dw;
            x->m = half_from_f32((float)rng_int(r, -16, 16) / 16.0f);
            for (int j = 0; j < 4; j++) x->qh[j] = (uint8_t)rng_int(r, 0, 255);
            for (int j = 0; j < 16; j++) x->qs[j] = (uint8_t)rng_int(r, 0, 255);
        }
        break;
    default:
        fail();
    }
}

/* Largest |weight code| of each type in the dyadic rows. */
static int dyadic_wmax(uint32_t t) {
    switch (t) {
    case GGML_TYPE_Q8_0: return 128;
    case GGML_TYPE_Q4_0: return 8;
    case GGML_TYPE_Q4_1: return 15;
    case GGML_TYPE_Q5_0: return 16;
    case GGML_TYPE_Q5_1: return 31;
    default: return 15;
    }
}

static void fill_dyadic_vec(uint32_t t, void *vec, int64_t n, int a, Rng *r) {
    const uint32_t vt = kernels_vec_type(t);
    const int64_t nb = n / 32;
    if (vt == GGML_TYPE_F32) {
        for (int64_t j = 0; j < n; j++) ((float *)vec)[j] = (float)rng_int(r, -a, a);
    } else if (vt == GGML_TYPE_Q8_0) {
        for (int64_t b = 0; b < nb; b++) {
            BlockQ8_0 *x = (BlockQ8_0 *)vec + b;
            x->d = 0x2000; /* 2^-7 */
            for (int j = 0; j < 32; j++) x->qs[j] = (int8_t)rng_int(r, -a, a);
        }
    } else {
        for (int64_t b = 0; b < nb; b++) {
            BlockQ8_1 *x = (BlockQ8_1 *)vec + b;
            x->d = 0x2000;
            x->s = half_from_f32((float)rng_int(r, -512, 512) / 128.0f);
            for (int j = 0; j < 32; j++) x->qs[j] = (int8_t)rng_int(r, -a, a);
        }
    }
}

/* Runs every set's kernel of type t on dyadic rows of every length and holds it
 * to the exact value; returns the number of mismatches (so a test can also show
 * that a broken kernel is caught). */
static int check_exact(KernelRowDotFn fn, uint32_t t, int64_t n, Rng *r, int verbose, const char *set) {
    const int64_t nb = (n + 31) / 32;
    /* units of 2^-11 (block types) or 1 (float types) the min terms may take */
    const double min_units = block_of(t) > 1 ? (double)nb * 16 * 512 : 0;
    const double cap = ((double)(1 << 24) - 1 - min_units) / ((double)n * dyadic_wmax(t));
    const int a = cap >= 127 ? 127 : (int)cap;
    assert_true(a >= 1);
    void *row = malloc(stored_row_bytes(t, n));
    void *vec = malloc(block_of(t) > 1 ? kernels_vec_bytes(t, n) : (size_t)n * sizeof(float));
    assert_non_null(row);
    assert_non_null(vec);
    fill_dyadic_row(t, row, kernel_n(t, n), r);
    fill_dyadic_vec(t, vec, kernel_n(t, n), a, r);
    const double want = dot_exact(t, row, vec, kernel_n(t, n));
    const float got = fn(row, vec, kernel_n(t, n));
    int bad = (double)got != want;
    if (bad && verbose)
        print_error("exact sum [%s %s n=%lld]: got %.17g, want %.17g\n", set, type_name(t), (long long)n,
                    (double)got, want);
    free(row);
    free(vec);
    return bad;
}

static void test_kernels_integer_sums_are_exact(void **state) {
    (void)state;
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    Rng r = {1};
    int bad = 0;
    for (int s = 0; s < n_sets; s++)
        for (int ti = 0; ti < N_TYPES; ti++)
            for (int li = 0; li < N_LENGTHS; li++)
                for (int rep = 0; rep < 3; rep++)
                    bad += check_exact(sets[s]->row_dot[TYPES[ti]], TYPES[ti], LENGTHS[li], &r, 1, sets[s]->name);
    assert_int_equal(bad, 0);
}

/* A kernel that forgets the last block must be caught by the same check. */
static float broken_q4_0(const void *row, const void *vec, int64_t n) {
    return kernels_dot_q4_0_scalar(row, vec, n - 32);
}

/* And one that reads the nibbles in the wrong order (element j+16 as j). */
static float broken_q4_1(const void *row, const void *vec, int64_t n) {
    BlockQ4_1 *swapped = malloc((size_t)(n / 32) * sizeof *swapped);
    memcpy(swapped, row, (size_t)(n / 32) * sizeof *swapped);
    for (int64_t b = 0; b < n / 32; b++)
        for (int j = 0; j < 16; j++) swapped[b].qs[j] = (uint8_t)(swapped[b].qs[j] << 4 | swapped[b].qs[j] >> 4);
    const float f = kernels_dot_q4_1_scalar(swapped, vec, n);
    free(swapped);
    return f;
}

static void test_kernels_checker_catches_broken_kernel(void **state) {
    (void)state;
    Rng r = {2};
    assert_int_equal(check_exact(broken_q4_0, GGML_TYPE_Q4_0, 256, &r, 0, "broken"), 1);
    assert_int_equal(check_exact(broken_q4_1, GGML_TYPE_Q4_1, 256, &r, 0, "broken"), 1);
    assert_int_equal(check_exact(kernels_dot_q4_0_scalar, GGML_TYPE_Q4_0, 256, &r, 0, "scalar"), 0);
}

/* ------------------------------------------------- SIMD against scalar, random */

/* Tolerance of SIMD vs scalar on arbitrary data. Both sets compute the same
 * exact integer sum per block (the test above holds every set to that), so only
 * float rounding differs. Each result r satisfies |r - exact| <= k*U*M (M from
 * dot_magnitude): every term carries at most 2 roundings from forming it
 * (d_w*d_x, then *sum; or w*x) and at most nb + 8 from the additions on its way
 * into the total (a chain of nb block additions in the scalar kernel; in the
 * SIMD ones about nb/4 lane FMAs, 2 accumulator adds, 3 horizontal adds and the
 * min-term adds). So |simd - scalar| <= 2*(nb + 10)*U*M for block types; for float types
 * the scalar chain has n products and n additions: 2*(n + 10)*U*M. This is an
 * honest bound, not "1 ulp of the result": where the terms cancel, the result
 * is small and both kernels may be many of its ulps apart. */
static double simd_tolerance(uint32_t t, int64_t n, double mag) {
    const double steps = block_of(t) > 1 ? (double)(n / 32) : (double)n;
    return 2.0 * (steps + 10.0) * U * mag;
}

enum { CASE_RANDOM, CASE_EQUAL, CASE_ZERO, CASE_OUTLIER, CASE_SATURATE, N_CASES };
static const char *const CASE_NAMES[N_CASES] = {"random", "all equal", "all zero", "outlier", "+-max"};

static void fill_case(int c, float *w, float *x, int64_t n, Rng *r) {
    for (int64_t j = 0; j < n; j++) {
        switch (c) {
        case CASE_RANDOM:
            w[j] = 0.05f * rng_normal(r);
            x[j] = rng_normal(r);
            break;
        case CASE_EQUAL:
            w[j] = 0.37f;
            x[j] = -1.25f;
            break;
        case CASE_ZERO:
            w[j] = 0.0f;
            x[j] = 0.0f;
            break;
        case CASE_OUTLIER:
            w[j] = 0.05f * rng_normal(r);
            x[j] = rng_normal(r);
            break;
        case CASE_SATURATE: /* every code at the end of its range, signs alternating */
            w[j] = (j & 1) ? -1.0f : 1.0f;
            x[j] = (j % 3) ? 3.0f : -3.0f;
            break;
        }
    }
    if (c == CASE_OUTLIER) {
        x[n / 3] = 1.0e4f;
        w[n / 2] = -40.0f;
    }
}

static void test_kernels_simd_matches_scalar(void **state) {
    (void)state;
    const KernelSet *sets[MAX_SETS];
    const int n_sets = simd_sets(sets);
    if (n_sets == 0) skip();
    Rng r = {3};
    for (int s = 0; s < n_sets; s++)
        for (int ti = 0; ti < N_TYPES; ti++)
            for (int li = 0; li < N_LENGTHS; li++)
                for (int c = 0; c < N_CASES; c++) {
                    const uint32_t t = TYPES[ti];
                    const int64_t n = LENGTHS[li];
                    float *w = malloc((size_t)n * sizeof(float));
                    float *x = malloc((size_t)n * sizeof(float));
                    fill_case(c, w, x, n, &r);
                    void *row = store_row(t, w, n);
                    /* the same prepared activation for both (the quantizers are
                     * compared on their own below) */
                    void *vec = prepare_vec(kernels_scalar(), t, x, n);
                    const float want = kernels_scalar()->row_dot[t](row, vec, kernel_n(t, n));
                    const float got = sets[s]->row_dot[t](row, vec, kernel_n(t, n));
                    const double tol = simd_tolerance(t, kernel_n(t, n), dot_magnitude(t, row, vec, kernel_n(t, n)));
                    expect_within(got, want, tol, CASE_NAMES[c], sets[s]->name, t, n);
                    if (c == CASE_ZERO) assert_true(got == 0.0f && want == 0.0f);
                    free(w);
                    free(x);
                    free(row);
                    free(vec);
                }
}

/* A set's two-row form gives each row the very floats its row_dot gives (it
 * shares the activation's work, not the arithmetic), for every length and case. */
static void test_kernels_two_row_form_equals_row_dot(void **state) {
    (void)state;
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    Rng r = {12};
    int checked = 0;
    for (int s = 0; s < n_sets; s++)
        for (int ti = 0; ti < N_TYPES; ti++) {
            const uint32_t t = TYPES[ti];
            if (!sets[s]->row_dot2[t]) continue;
            for (int li = 0; li < N_LENGTHS; li++)
                for (int c = 0; c < N_CASES; c++) {
                    const int64_t n = LENGTHS[li];
                    float *w0 = malloc((size_t)n * sizeof(float)), *w1 = malloc((size_t)n * sizeof(float));
                    float *x = malloc((size_t)n * sizeof(float));
                    fill_case(c, w0, x, n, &r);
                    fill_case(CASE_RANDOM, w1, x, n, &r); /* another row, the same x */
                    void *row0 = store_row(t, w0, n), *row1 = store_row(t, w1, n);
                    void *vec = prepare_vec(sets[s], t, x, n);
                    float two[2];
                    sets[s]->row_dot2[t](row0, row1, vec, kernel_n(t, n), two);
                    const float one0 = sets[s]->row_dot[t](row0, vec, kernel_n(t, n));
                    const float one1 = sets[s]->row_dot[t](row1, vec, kernel_n(t, n));
                    if (memcmp(&two[0], &one0, sizeof one0) != 0 || memcmp(&two[1], &one1, sizeof one1) != 0)
                        fail_msg("%s [%s %s n=%lld]: two-row %.9g %.9g, row_dot %.9g %.9g", CASE_NAMES[c],
                                 sets[s]->name, type_name(t), (long long)n, two[0], two[1], one0, one1);
                    checked++;
                    free(w0);
                    free(w1);
                    free(x);
                    free(row0);
                    free(row1);
                    free(vec);
                }
        }
    /* the x86 sets have a two-row Q4_0 kernel: on such a CPU something was checked */
    const KernelSet *simd[MAX_SETS];
    if (simd_sets(simd) > 0 && kernels_best()->row_dot2[GGML_TYPE_Q4_0]) assert_true(checked > 0);
}

/* ------------------------------------------- scalar against dequantized, double */

/* The scalar kernels against sum_j w_j x_j in double, where w_j and x_j are the
 * weight row and the prepared activation dequantized by the type table's
 * to_float: a path that shares nothing with the kernels.
 * Dequantized values: q*d is exact in float (<= 8-bit code x 11-bit fp16 scale),
 * so for Q8_0/Q4_0/Q5_0 and F16/BF16/F32 the double reference equals the exact
 * value of the kernel's arithmetic and only the kernel's rounding remains,
 * (nb + 10)*U*M (blocks) or (n + 10)*U*M (floats), see simd_tolerance.
 * Q4_1/Q5_1 add two differences of ggml's design, bounded per block:
 *   - to_float computes q*d + m in float: one rounding, U*|q d + m| per value;
 *   - the kernel uses s = fp16(d_x * sum p) where the reference has
 *     fp16(d_x) * sum p: s's rounding (2^-11 relative) plus d_x's fp16 rounding
 *     (2^-11 relative) give |m| * |sum p| * |fp16(d_x)| * 2^-9 with margin. */
static void test_kernels_scalar_matches_dequantized_reference(void **state) {
    (void)state;
    Rng r = {4};
    const KernelSet *sc = kernels_scalar();
    for (int ti = 0; ti < N_TYPES; ti++)
        for (int li = 0; li < N_LENGTHS; li++)
            for (int c = 0; c < N_CASES; c++) {
                const uint32_t t = TYPES[ti];
                const int64_t n = LENGTHS[li];
                const int64_t nk = kernel_n(t, n);
                float *w = malloc((size_t)n * sizeof(float));
                float *x = malloc((size_t)n * sizeof(float));
                float *wd = malloc((size_t)nk * sizeof(float));
                float *xd = malloc((size_t)nk * sizeof(float));
                fill_case(c, w, x, n, &r);
                void *row = store_row(t, w, n);
                void *vec = prepare_vec(sc, t, x, n);
                type_traits(t)->to_float(row, wd, nk);
                const uint32_t vt = kernels_vec_type(t);
                type_traits(vt)->to_float(vec, xd, nk);

                double ref = 0.0, extra = 0.0;
                for (int64_t j = 0; j < nk; j++) ref += (double)wd[j] * xd[j];
                if (t == GGML_TYPE_Q4_1 || t == GGML_TYPE_Q5_1) {
                    for (int64_t b = 0; b < nk / 32; b++) {
                        int cw[32], cx[32];
                        double dw, mw, dx, sx;
                        decode_block(t, row, b, cw, &dw, &mw);
                        decode_block(vt, vec, b, cx, &dx, &sx);
                        int64_t sum_p = 0;
                        for (int j = 0; j < 32; j++) {
                            sum_p += cx[j];
                            extra += U * fabs(cw[j] * dw + mw) * fabs(cx[j] * dx) * 1.01;
                        }
                        extra += fabs(mw) * fabs((double)sum_p) * fabs(dx) * 0x1.0p-9;
                    }
                }
                const double mag = dot_magnitude(t, row, vec, nk);
                const double steps = block_of(t) > 1 ? (double)(nk / 32) : (double)nk;
                const double tol = (steps + 10.0) * U * mag + extra;
                const float got = sc->row_dot[t](row, vec, nk);
                expect_within(got, ref, tol, CASE_NAMES[c], "scalar vs dequantized", t, n);
                free(w);
                free(x);
                free(wd);
                free(xd);
                free(row);
                free(vec);
            }
}

/* ------------------------------------------- error of quantizing the activation */

/* How far is a Q8_0-activation product from the product with the float x?
 * With the weights fixed (dequantized w_j), the only change is x_j -> x'_j =
 * c_j * fp16(D), where D = amax/127 of x's block (in float, as the quantizer
 * computes it) and c_j = roundf(fl(x_j * fl(1/D))). Per value:
 *   |x_j - c_j D|      <= D/2 + D * 254*U   (rounding to an integer, after the
 *                                            two float roundings in x * (1/D),
 *                                            |x/D| <= 127)
 *   |c_j D - c_j fp16(D)| <= 127 * |D - fp16(D)|   (the scale is stored in fp16)
 * so |x_j - x'_j| <= e_b = D*(1/2 + 254U) + 127|D - fp16(D)|, and
 *   |kernel - sum w_j x_j| <= sum_b e_b * sum_{j in b} |w_j|  + kernel rounding.
 * The textbook bound sum |w| d_x/2 misses the second term: ggml keeps d in fp16,
 * which moves every code's value by up to 127 * 2^-11 * D (about 0.06 D). */
static void test_kernels_q8_activation_error_is_bounded(void **state) {
    (void)state;
    static const uint32_t Q8_VEC_TYPES[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q5_0};
    Rng r = {5};
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    for (int s = 0; s < n_sets; s++)
        for (int ti = 0; ti < 3; ti++)
            for (int li = 0; li < N_LENGTHS; li++)
                for (int c = 0; c < N_CASES; c++) {
                    const uint32_t t = Q8_VEC_TYPES[ti];
                    const int64_t n = LENGTHS[li];
                    const int64_t nk = kernel_n(t, n);
                    float *w = malloc((size_t)n * sizeof(float));
                    float *x = calloc((size_t)nk, sizeof(float)); /* zero-padded copy for the bound */
                    float *wd = malloc((size_t)nk * sizeof(float));
                    fill_case(c, w, x, n, &r);
                    void *row = store_row(t, w, n);
                    void *vec = prepare_vec(sets[s], t, x, n);
                    type_traits(t)->to_float(row, wd, nk);

                    double exact = 0.0, bound = 0.0;
                    for (int64_t b = 0; b < nk / 32; b++) {
                        float amax = 0.0f;
                        double wsum = 0.0;
                        for (int j = 0; j < 32; j++) {
                            amax = fmaxf(amax, fabsf(x[b * 32 + j]));
                            wsum += fabs(wd[b * 32 + j]);
                            exact += (double)wd[b * 32 + j] * x[b * 32 + j];
                        }
                        const float d = amax / 127;
                        const double e = d * (0.5 + 254 * U) + 127 * fabs((double)d - half_to_f32(half_from_f32(d)));
                        bound += e * wsum;
                    }
                    const double mag = dot_magnitude(t, row, vec, nk);
                    bound += 2.0 * (nk / 32 + 10.0) * U * mag;
                    const float got = sets[s]->row_dot[t](row, vec, nk);
                    expect_within(got, exact, bound, CASE_NAMES[c], sets[s]->name, t, n);
                    free(w);
                    free(x);
                    free(wd);
                    free(row);
                    free(vec);
                }
}

/* The correction is real, not pedantry: a block where fp16 rounds the scale up
 * (fp16(D) > D, by about half an fp16 ulp) and whose values all sit just past a
 * rounding tie, at 126.51 D, so each becomes code 127 and is dequantized to
 * 127 fp16(D): every value moves up by 0.49 D + 127 (fp16(D) - D) ~ 0.55 D, all
 * in the same direction. With positive weights the errors add up, and the
 * product misses by more than the textbook sum |w| d_x / 2 allows (34.3 against
 * 32.0 here), while staying inside the bound of the test above (35.9). */
static void test_kernels_q8_textbook_bound_misses_fp16_scale(void **state) {
    (void)state;
    const int64_t n = 128;
    /* D = 1 + 0.51 * 2^-10: just past the midpoint between fp16 1 and 1 + 2^-10 */
    const float amax = 127.0f * (1.0f + 0.51f * 0x1.0p-10f);
    const float d = amax / 127;
    const float d16 = half_to_f32(half_from_f32(d));
    assert_true(d16 - d > 0.4f * 0x1.0p-10f); /* the construction holds */
    float x[128], w[128];
    for (int j = 0; j < n; j++) {
        x[j] = j % 32 == 0 ? amax : 126.51f * d;
        w[j] = 0.5f;
    }
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    for (int s = 0; s < n_sets; s++) {
        void *row = store_row(GGML_TYPE_Q8_0, w, n);
        void *vec = prepare_vec(sets[s], GGML_TYPE_Q8_0, x, n);
        float wd[128];
        type_traits(GGML_TYPE_Q8_0)->to_float(row, wd, n);
        double exact = 0.0, wsum = 0.0;
        for (int j = 0; j < n; j++) {
            exact += (double)wd[j] * x[j];
            wsum += fabs(wd[j]);
        }
        const double rounding = 2.0 * (n / 32 + 10.0) * U * dot_magnitude(GGML_TYPE_Q8_0, row, vec, n);
        const double textbook = wsum * d16 / 2 + rounding;
        const double corrected = wsum * (d * (0.5 + 254 * U) + 127 * ((double)d16 - d)) + rounding;
        const double err = fabs((double)sets[s]->row_dot[GGML_TYPE_Q8_0](row, vec, n) - exact);
        if (!(err > textbook)) fail_msg("%s: error %.6g within the textbook bound %.6g", sets[s]->name, err, textbook);
        if (!(err <= corrected)) fail_msg("%s: error %.6g past the corrected bound %.6g", sets[s]->name, err, corrected);
        free(row);
        free(vec);
    }
}

/* -------------------------------------------------- activation quantizers */

static void expect_quantizers_agree(const KernelSet *ks, const float *x, int64_t n, const char *what) {
    static const uint32_t VT[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q8_1};
    for (int v = 0; v < 2; v++) {
        const TypeTraits *tt = type_traits(VT[v]);
        const size_t bytes = (size_t)((n + 31) / 32) * tt->type_size;
        uint8_t *want = malloc(bytes), *got = malloc(bytes);
        /* reference: ggml's quantizer on the zero-padded input */
        float *padded = calloc((size_t)((n + 31) / 32 * 32), sizeof(float));
        memcpy(padded, x, (size_t)n * sizeof(float));
        tt->from_float(padded, want, (n + 31) / 32 * 32);
        memset(got, 0xAB, bytes);
        ks->quantize[VT[v]](x, got, n);
        if (memcmp(want, got, bytes) != 0) fail_msg("%s quantizer %s differs from the reference: %s (n=%lld)", ks->name,
                                                    tt->name, what, (long long)n);
        /* ggml's codes stay within +-127: -128 never appears */
        for (int64_t b = 0; b < (n + 31) / 32; b++) {
            const int8_t *qs = VT[v] == GGML_TYPE_Q8_0 ? ((BlockQ8_0 *)(void *)got)[b].qs : ((BlockQ8_1 *)(void *)got)[b].qs;
            for (int j = 0; j < 32; j++) assert_true(qs[j] != -128);
        }
        free(want);
        free(got);
        free(padded);
    }
}

/* Ties: with amax = 127 the scale is d = 1 and 1/d = 1, so x = k + 0.5 lands on
 * k + 0.5 exactly; roundf sends it away from zero (2.5 -> 3, -2.5 -> -3), where
 * round-to-nearest-even (ggml's AVX2 quantizer) would give 2 and -2. With
 * amax = 63.5, d = 0.5 and 1/d = 2: x = (k + 0.5)/2 is again a tie. Beside each
 * tie, the float just below it must round the other way. */
static void test_kernels_quantizer_matches_reference_bytes(void **state) {
    (void)state;
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    Rng r = {6};
    float ties[256], ties_half[256], below[256];
    for (int i = 0; i < 256; i++) {
        const float k = (float)(i % 127) - 63.0f;
        ties[i] = i % 32 == 0 ? 127.0f : k + 0.5f;
        ties_half[i] = i % 32 == 0 ? -63.5f : (k + 0.5f) / 2;
        below[i] = i % 32 == 0 ? 127.0f : nextafterf(k + 0.5f, 0.0f);
    }
    /* check the construction: d = 1 exactly and a tie stays a tie */
    assert_true(127.0f / 127 == 1.0f);
    for (int s = 0; s < n_sets; s++) {
        expect_quantizers_agree(sets[s], ties, 256, "ties at d = 1");
        expect_quantizers_agree(sets[s], ties_half, 256, "ties at d = 1/2");
        expect_quantizers_agree(sets[s], below, 256, "just below ties");
        for (int li = 0; li < N_LENGTHS; li++)
            for (int c = 0; c < N_CASES; c++) {
                const int64_t n = LENGTHS[li];
                float *w = malloc((size_t)n * sizeof(float)), *x = malloc((size_t)n * sizeof(float));
                fill_case(c, w, x, n, &r);
                expect_quantizers_agree(sets[s], x, n, CASE_NAMES[c]);
                free(w);
                free(x);
            }
        const float odd[] = {1.0f, -2.0f, 0.5f, 1e-3f, -0.0f, 7.0f, 3.5f};
        for (int64_t n = 1; n <= 7; n++) expect_quantizers_agree(sets[s], odd, n, "short tail");
        float big[40];
        for (int i = 0; i < 40; i++) big[i] = (i % 2 ? -1.0f : 1.0f) * (1e30f / (float)(i + 1));
        expect_quantizers_agree(sets[s], big, 40, "huge values");
        /* blocks so small that 1/d overflows (|x| < 127 * 2^-128): the
         * reference writes code 0, not the -128 of 1/d = inf times 0 */
        float tiny[64];
        for (int i = 0; i < 64; i++) tiny[i] = (i % 3 - 1) * 1e-37f * (float)(i + 1) / 64.0f;
        expect_quantizers_agree(sets[s], tiny, 64, "tiny values");
    }
    /* the reference itself: ties go away from zero, so 2.5 -> 3 and -2.5 -> -3 */
    BlockQ8_0 q;
    float blk[32] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f};
    quant_row_q8_0_ref(blk, &q, 32);
    assert_int_equal(q.qs[1], 3);
    assert_int_equal(q.qs[2], -3);
    assert_int_equal(q.qs[3], 1);
    assert_int_equal(q.qs[4], -1);
    assert_int_equal(q.qs[5], 2);
}

/* ------------------------------------------------------- padded rows (172) */

/* A 172-value row is 6 blocks, the last holding 12 values and 20 of padding.
 * The activation quantizer writes zero codes there, so whatever the weight row
 * holds in its padding adds exactly nothing: the product with garbage in the
 * padding equals the product with clean padding bit for bit, in every set. */
static void test_kernels_padding_contributes_zero(void **state) {
    (void)state;
    const KernelSet *sets[MAX_SETS];
    const int n_sets = kernels_available(sets, MAX_SETS);
    Rng r = {7};
    const int64_t n = 172, nk = 192;
    float w[172], x[172];
    for (int j = 0; j < n; j++) {
        w[j] = 0.1f * rng_normal(&r);
        x[j] = rng_normal(&r);
    }
    for (int ti = 0; ti < N_TYPES; ti++) {
        const uint32_t t = TYPES[ti];
        if (block_of(t) == 1) continue;
        void *clean = store_row(t, w, n);
        const size_t bytes = stored_row_bytes(t, n);
        assert_int_equal(bytes, 6 * type_traits(t)->type_size);
        /* garbage: the padded values' codes replaced by random codes */
        void *dirty = malloc(bytes);
        memcpy(dirty, clean, bytes);
        uint8_t *last = (uint8_t *)dirty + 5 * type_traits(t)->type_size;
        if (t == GGML_TYPE_Q8_0) {
            for (int j = 12; j < 32; j++) last[offsetof(BlockQ8_0, qs) + (size_t)j] = (uint8_t)rng_int(&r, 1, 255);
        } else {
            /* nibble formats: elements 12..15 are the low nibbles of bytes
             * 12..15, elements 16..31 the high nibbles of bytes 0..15; their
             * fifth bits are bits 12..31 of qh */
            const size_t qs = t == GGML_TYPE_Q4_0   ? offsetof(BlockQ4_0, qs)
                              : t == GGML_TYPE_Q4_1 ? offsetof(BlockQ4_1, qs)
                              : t == GGML_TYPE_Q5_0 ? offsetof(BlockQ5_0, qs)
                                                    : offsetof(BlockQ5_1, qs);
            for (int j = 0; j < 16; j++) {
                uint8_t b = last[qs + (size_t)j];
                b = (uint8_t)((b & 0x0F) | (rng_int(&r, 0, 15) << 4));
                if (j >= 12) b = (uint8_t)((b & 0xF0) | rng_int(&r, 0, 15));
                last[qs + (size_t)j] = b;
            }
            if (t == GGML_TYPE_Q5_0 || t == GGML_TYPE_Q5_1) {
                const size_t qh = t == GGML_TYPE_Q5_0 ? offsetof(BlockQ5_0, qh) : offsetof(BlockQ5_1, qh);
                last[qh + 1] |= 0xF0;
                last[qh + 2] = 0xFF;
                last[qh + 3] = 0xFF;
            }
        }
        assert_memory_not_equal(clean, dirty, bytes);
        for (int s = 0; s < n_sets; s++) {
            void *vec = prepare_vec(sets[s], t, x, n); /* sized for 172 floats' blocks; x itself is 172 */
            int cx[32];
            double dx, sx;
            decode_block(kernels_vec_type(t), vec, 5, cx, &dx, &sx);
            for (int j = 12; j < 32; j++) assert_int_equal(cx[j], 0);
            const float a = sets[s]->row_dot[t](clean, vec, nk);
            const float b = sets[s]->row_dot[t](dirty, vec, nk);
            if (a != b) fail_msg("%s %s: padding changed the product: %.9g vs %.9g", sets[s]->name, type_name(t), a, b);
            free(vec);
        }
        free(clean);
        free(dirty);
    }
}

/* matview_row_to_float gives exactly the row's 172 values, never writing past them. */
static void test_kernels_row_to_float_handles_padded_rows(void **state) {
    (void)state;
    Rng r = {8};
    float w[2 * 172];
    for (int j = 0; j < 2 * 172; j++) w[j] = rng_normal(&r);
    for (int ti = 0; ti < N_TYPES; ti++) {
        const uint32_t t = TYPES[ti];
        const size_t rb = stored_row_bytes(t, 172);
        uint8_t *data = malloc(2 * rb);
        void *r0 = store_row(t, w, 172), *r1 = store_row(t, w + 172, 172);
        memcpy(data, r0, rb);
        memcpy(data + rb, r1, rb);
        const MatView mv = {.type = t, .rows = 2, .cols = 172, .row_bytes = rb, .data = data};
        float *got = malloc(172 * sizeof(float)); /* exactly 172: ASan catches overruns */
        float want[192];
        matview_row_to_float(&mv, 1, got);
        type_traits(t)->to_float(r1, want, padded_len(t, 172));
        assert_memory_equal(got, want, 172 * sizeof(float));
        free(got);
        free(data);
        free(r0);
        free(r1);
    }
}

/* ------------------------------------------------------------------ matvec */

static MatView make_matrix(uint32_t t, int64_t rows, int64_t cols, Rng *r, void **data_out) {
    const size_t rb = stored_row_bytes(t, cols);
    uint8_t *data = malloc((size_t)rows * rb);
    float *w = malloc((size_t)cols * sizeof(float));
    assert_non_null(data);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) w[j] = 0.05f * rng_normal(r);
        void *row = store_row(t, w, cols);
        memcpy(data + (size_t)i * rb, row, rb);
        free(row);
    }
    free(w);
    *data_out = data;
    return (MatView){.type = t, .rows = rows, .cols = cols, .row_bytes = rb, .data = data};
}

/* Threads split rows, never a row, so the threaded product is the same floats. */
static void test_kernels_matvec_threaded_equals_single(void **state) {
    (void)state;
    Pool *pool = pool_new(2);
    assert_non_null(pool);
    Rng r = {9};
    const int64_t rows = 200, cols = 1000; /* 200k values: above the parallel cut; 1000 = 31.25 blocks */
    float *x = malloc((size_t)cols * sizeof(float));
    for (int64_t j = 0; j < cols; j++) x[j] = rng_normal(&r);
    void *scratch = malloc(matvec_scratch_bytes(cols));
    float *one = malloc((size_t)rows * sizeof(float)), *two = malloc((size_t)rows * sizeof(float));
    for (int ti = 0; ti < N_TYPES; ti++) {
        void *data;
        const MatView mv = make_matrix(TYPES[ti], rows, cols, &r, &data);
        matvec(NULL, one, &mv, x, scratch);
        matvec(pool, two, &mv, x, scratch);
        assert_memory_equal(one, two, (size_t)rows * sizeof(float));
        /* and each row is the active set's kernel on that row */
        const KernelSet *ks = kernels_active();
        void *vec = prepare_vec(ks, TYPES[ti], x, cols);
        const KernelRowDotFn fn = kernels_row_dot(ks, TYPES[ti], cols);
        for (int64_t i = 0; i < rows; i += 37)
            assert_true(one[i] == fn((uint8_t *)data + (size_t)i * mv.row_bytes, vec, kernel_n(TYPES[ti], cols)));
        free(vec);
        free(data);
    }
    free(one);
    free(two);
    free(scratch);
    free(x);
    pool_delete(pool);
}

/* matvec_multi gives each product the floats matvec gives it, whatever mix of
 * vec types (F32, Q8_0, Q8_1) shares the one x, with or without the pool. */
static void test_kernels_matvec_multi_equals_separate(void **state) {
    (void)state;
    Pool *pool = pool_new(2);
    assert_non_null(pool);
    Rng r = {13};
    const int64_t cols = 1000;
    const uint32_t types[4] = {GGML_TYPE_Q4_0, GGML_TYPE_F32, GGML_TYPE_Q4_1, GGML_TYPE_Q8_0};
    const int64_t rows[4] = {120, 33, 67, 201};
    float *x = malloc((size_t)cols * sizeof(float));
    for (int64_t j = 0; j < cols; j++) x[j] = rng_normal(&r);
    void *scratch = malloc(matvec_scratch_bytes(cols));
    MatView mv[4];
    void *data[4];
    float *sep[4], *multi[4];
    const MatView *ws[4];
    for (int i = 0; i < 4; i++) {
        mv[i] = make_matrix(types[i], rows[i], cols, &r, &data[i]);
        ws[i] = &mv[i];
        sep[i] = malloc((size_t)rows[i] * sizeof(float));
        multi[i] = malloc((size_t)rows[i] * sizeof(float));
        matvec(NULL, sep[i], &mv[i], x, scratch);
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 4; i++) memset(multi[i], 0xff, (size_t)rows[i] * sizeof(float));
        matvec_multi(k ? pool : NULL, 4, multi, ws, x, scratch);
        for (int i = 0; i < 4; i++) assert_memory_equal(multi[i], sep[i], (size_t)rows[i] * sizeof(float));
    }
    for (int i = 0; i < 4; i++) {
        free(data[i]);
        free(sep[i]);
        free(multi[i]);
    }
    free(x);
    free(scratch);
    pool_delete(pool);
}

/* QUANTLAB_NO_SIMD=1 switches matvec to the scalar kernels (the next call
 * already), "0" or unset gives the best set back. */
static void test_kernels_no_simd_env_selects_scalar(void **state) {
    (void)state;
    Rng r = {10};
    const char *old = getenv("QUANTLAB_NO_SIMD");
    char *saved = old ? strdup(old) : NULL;

    setenv("QUANTLAB_NO_SIMD", "1", 1);
    assert_string_equal(kernels_simd_name(), "scalar");
    assert_ptr_equal(kernels_active(), kernels_scalar());
    const int64_t rows = 8, cols = 600;
    float x[600], out[8];
    for (int j = 0; j < cols; j++) x[j] = rng_normal(&r);
    void *scratch = malloc(matvec_scratch_bytes(cols));
    void *data;
    const MatView mv = make_matrix(GGML_TYPE_Q4_0, rows, cols, &r, &data);
    matvec(NULL, out, &mv, x, scratch);
    void *vec = prepare_vec(kernels_scalar(), GGML_TYPE_Q4_0, x, cols);
    for (int64_t i = 0; i < rows; i++)
        assert_true(out[i] == kernels_dot_q4_0_scalar((uint8_t *)data + (size_t)i * mv.row_bytes, vec, 608));

    setenv("QUANTLAB_NO_SIMD", "0", 1);
    assert_string_equal(kernels_simd_name(), kernels_best()->name);
    unsetenv("QUANTLAB_NO_SIMD");
    assert_string_equal(kernels_simd_name(), kernels_best()->name);
    const KernelSet *sets[MAX_SETS];
    if (simd_sets(sets) > 0) assert_string_not_equal(kernels_simd_name(), "scalar");
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) assert_true(simd_sets(sets) > 0);
#endif

    if (saved) setenv("QUANTLAB_NO_SIMD", saved, 1);
    free(saved);
    free(vec);
    free(data);
    free(scratch);
}

/* ------------------------------------------------------------- the tables */

static void test_kernels_table_pairs_types(void **state) {
    (void)state;
    assert_int_equal(kernels_vec_type(GGML_TYPE_F32), GGML_TYPE_F32);
    assert_int_equal(kernels_vec_type(GGML_TYPE_F16), GGML_TYPE_F32);
    assert_int_equal(kernels_vec_type(GGML_TYPE_BF16), GGML_TYPE_F32);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q8_0), GGML_TYPE_Q8_0);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q4_0), GGML_TYPE_Q8_0);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q5_0), GGML_TYPE_Q8_0);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q4_1), GGML_TYPE_Q8_1);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q5_1), GGML_TYPE_Q8_1);
    assert_int_equal(kernels_vec_type(GGML_TYPE_Q4_K), GGML_TYPE_COUNT);
    assert_int_equal(kernels_vec_type(1000), GGML_TYPE_COUNT);
    assert_false(matvec_supports(GGML_TYPE_Q6_K));
    /* 172 values: 6 blocks of 36 bytes (Q8_1), and the scratch holds them aligned */
    assert_int_equal(kernels_vec_bytes(GGML_TYPE_Q5_1, 172), 6 * 36);
    assert_true(matvec_scratch_bytes(172) >= 6 * 36 + 63);
    const KernelSet *sets[MAX_SETS];
    const int n = kernels_available(sets, MAX_SETS);
    assert_ptr_equal(sets[0], kernels_scalar());
    assert_ptr_equal(sets[n - 1], kernels_best());
    for (int s = 0; s < n; s++)
        for (int ti = 0; ti < N_TYPES; ti++) {
            assert_non_null(sets[s]->row_dot[TYPES[ti]]);
            assert_true(matvec_supports(TYPES[ti]));
        }
    /* F32's short-row rule: stories260K's rows (64, 172) keep llama2.c's order */
    for (int s = 0; s < n; s++) {
        assert_true(kernels_row_dot(sets[s], GGML_TYPE_F32, 172) == kernels_dot_f32_scalar);
        assert_true(kernels_row_dot(sets[s], GGML_TYPE_F32, 768) == sets[s]->row_dot[GGML_TYPE_F32]);
        assert_true(kernels_row_dot(sets[s], GGML_TYPE_Q4_0, 64) == sets[s]->row_dot[GGML_TYPE_Q4_0]);
    }
}

/* --------------------------------------------------------------- bandwidth */

static void test_kernels_bandwidth_measures_something(void **state) {
    (void)state;
    Pool *pool = pool_new(2);
    const double bw = bandwidth_measure(pool, (size_t)8 << 20, 2);
    /* any machine this runs on reads faster than 100 MB/s and slower than 10 TB/s */
    assert_true(bw > 1e8 && bw < 1e13);
    assert_true(bandwidth_measure(NULL, 0, 1) == 0.0);
    /* a kept buffer: any prefix of it, nothing past it */
    BandwidthBuffer *b = bandwidth_buffer_new((size_t)8 << 20);
    assert_non_null(b);
    const double part = bandwidth_read(pool, b, (size_t)1 << 20, 2);
    assert_true(part > 1e8 && part < 1e13);
    assert_true(bandwidth_read(pool, b, ((size_t)8 << 20) + 64, 1) == 0.0);
    assert_true(bandwidth_read(pool, b, 32, 1) == 0.0);
    assert_true(bandwidth_read(pool, NULL, 1024, 1) == 0.0);
    bandwidth_buffer_delete(b);
    bandwidth_buffer_delete(NULL);
    assert_true(bandwidth_buffer_new(16) == NULL);
    pool_delete(pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_table_pairs_types),
        cmocka_unit_test(test_kernels_integer_sums_are_exact),
        cmocka_unit_test(test_kernels_checker_catches_broken_kernel),
        cmocka_unit_test(test_kernels_simd_matches_scalar),
        cmocka_unit_test(test_kernels_two_row_form_equals_row_dot),
        cmocka_unit_test(test_kernels_scalar_matches_dequantized_reference),
        cmocka_unit_test(test_kernels_q8_activation_error_is_bounded),
        cmocka_unit_test(test_kernels_q8_textbook_bound_misses_fp16_scale),
        cmocka_unit_test(test_kernels_quantizer_matches_reference_bytes),
        cmocka_unit_test(test_kernels_padding_contributes_zero),
        cmocka_unit_test(test_kernels_row_to_float_handles_padded_rows),
        cmocka_unit_test(test_kernels_matvec_threaded_equals_single),
        cmocka_unit_test(test_kernels_matvec_multi_equals_separate),
        cmocka_unit_test(test_kernels_no_simd_env_selects_scalar),
        cmocka_unit_test(test_kernels_bandwidth_measures_something),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
