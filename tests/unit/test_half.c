/* test_half.c — F16 and BF16 conversion against values worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "base/half.h"

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Hand-worked: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 (max) = 0x7BFF,
 * smallest subnormal 2^-24 = 0x0001, 1/3 -> 0x3555 (0.333251953125). */
static void test_half_known_values(void **state) {
    (void)state;
    assert_int_equal(half_from_f32(1.0f), 0x3C00);
    assert_int_equal(half_from_f32(-2.0f), 0xC000);
    assert_int_equal(half_from_f32(0.5f), 0x3800);
    assert_int_equal(half_from_f32(65504.0f), 0x7BFF);
    assert_int_equal(half_from_f32(0x1.0p-24f), 0x0001);
    assert_int_equal(half_from_f32(1.0f / 3.0f), 0x3555);
    assert_int_equal(half_from_f32(0.0f), 0x0000);
    assert_int_equal(half_from_f32(-0.0f), 0x8000);
    assert_int_equal(half_from_f32(1e6f), 0x7C00); /* overflow -> +inf */
    assert_true(half_to_f32(0x3555) == 0.333251953125f);
    assert_true(half_to_f32(0x0001) == 0x1.0p-24f);
    assert_true(half_to_f32(0x7BFF) == 65504.0f);
    assert_true(isinf(half_to_f32(0xFC00)) && half_to_f32(0xFC00) < 0);
    assert_true(isnan(half_to_f32(0x7E00)));
}

/* Ties go to even: 1 + 2^-11 lies halfway between 0x3C00 and 0x3C01 -> 0x3C00;
 * 1 + 3*2^-11 lies halfway between 0x3C01 and 0x3C02 -> 0x3C02. */
static void test_half_rounds_to_nearest_even(void **state) {
    (void)state;
    assert_int_equal(half_from_f32(1.0f + 0x1.0p-11f), 0x3C00);
    assert_int_equal(half_from_f32(1.0f + 3 * 0x1.0p-11f), 0x3C02);
    assert_int_equal(half_from_f32(1.0f + 0x1.0p-11f + 0x1.0p-20f), 0x3C01); /* just above half */
}

/* Every one of the 65,536 half patterns decodes to the value IEEE 754's binary16
 * definition gives (sign s, exponent e, mantissa m: (-1)^s 2^(e-15) (1 + m/1024),
 * 2^-14 m/1024 when e = 0, infinity or NaN when e = 31), and survives
 * half -> float -> half (NaNs stay NaN: their payload is not promised). */
static void test_half_round_trips_all_patterns(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = half_to_f32((uint16_t)h);
        const int e = (int)(h >> 10) & 31, m = (int)(h & 1023);
        const double sign = (h >> 15) ? -1.0 : 1.0;
        if (e == 31) assert_true(m ? isnan(f) : f == (float)(sign * INFINITY));
        else assert_true(f == (float)(sign * (e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14))));
        if (isnan(f)) {
            assert_true(isnan(half_to_f32(half_from_f32(f))));
            continue;
        }
        assert_int_equal(half_from_f32(f), h);
    }
}

/* BF16 keeps the top 16 bits of the float, rounding to nearest even:
 * 1.0 = 0x3F80; 1 + 2^-8 is halfway between 0x3F80 and 0x3F81 -> 0x3F80;
 * 1 + 3*2^-8 is halfway between 0x3F81 and 0x3F82 -> 0x3F82; pi -> 0x4049. */
static void test_bf16_known_values(void **state) {
    (void)state;
    assert_int_equal(bf16_from_f32(1.0f), 0x3F80);
    assert_int_equal(bf16_from_f32(1.0f + 0x1.0p-8f), 0x3F80);
    assert_int_equal(bf16_from_f32(1.0f + 3 * 0x1.0p-8f), 0x3F82);
    assert_int_equal(bf16_from_f32(3.14159265f), 0x4049);
    assert_int_equal(bits_of(bf16_to_f32(0x4049)), 0x40490000u);
    assert_true(isnan(bf16_to_f32(bf16_from_f32(NAN))));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_known_values),
        cmocka_unit_test(test_half_rounds_to_nearest_even),
        cmocka_unit_test(test_half_round_trips_all_patterns),
        cmocka_unit_test(test_bf16_known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
