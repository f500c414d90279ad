/* test_utf8.c — strict UTF-8 validation and one-line escaping, against byte
 * sequences worked out by hand from RFC 3629 (table in section 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/utf8.h"

static bool valid(const char *s) {
    return utf8_valid(s, strlen(s));
}

/* U+00E9 = C3 A9, U+2581 = E2 96 81, U+1F600 = F0 9F 98 80, U+10FFFF = F4 8F BF BF. */
static void test_utf8_decodes_each_length(void **state) {
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(utf8_decode("A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(utf8_decode("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(utf8_decode("\xE2\x96\x81x", 4, &cp), 3);
    assert_int_equal(cp, 0x2581);
    assert_int_equal(utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(utf8_decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(utf8_decode("\0", 1, &cp), 1); /* NUL is valid UTF-8 */
    assert_int_equal(cp, 0);
    assert_int_equal(utf8_decode("", 0, &cp), 0);
}

static void test_utf8_refuses_malformed_sequences(void **state) {
    (void)state;
    assert_true(valid(""));
    assert_true(valid("blk.0.attn_q.weight"));
    assert_true(valid("\xE2\x96\x81the \xF0\x9F\x98\x80 caf\xC3\xA9"));
    assert_true(valid("\xED\x9F\xBF"));     /* U+D7FF, just below the surrogates */
    assert_true(valid("\xEE\x80\x80"));     /* U+E000, just above them */
    assert_false(valid("\x80"));            /* a lone continuation byte */
    assert_false(valid("a\xBF"));
    assert_false(valid("\xC3"));            /* truncated 2-byte sequence */
    assert_false(valid("\xE2\x96"));        /* truncated 3-byte sequence */
    assert_false(valid("\xE2\x96x"));       /* continuation replaced by ASCII */
    assert_false(valid("\xC0\xAF"));        /* overlong '/' */
    assert_false(valid("\xC1\xBF"));        /* overlong U+007F */
    assert_false(valid("\xE0\x80\xAF"));    /* overlong '/' in 3 bytes */
    assert_false(valid("\xE0\x9F\xBF"));    /* overlong U+07FF */
    assert_false(valid("\xF0\x80\x80\xAF")); /* overlong '/' in 4 bytes */
    assert_false(valid("\xF0\x8F\xBF\xBF")); /* overlong U+FFFF */
    assert_false(valid("\xED\xA0\x80"));    /* U+D800, a surrogate */
    assert_false(valid("\xED\xBF\xBF"));    /* U+DFFF */
    assert_false(valid("\xF4\x90\x80\x80")); /* U+110000, past the end of Unicode */
    assert_false(valid("\xF5\x80\x80\x80"));
    assert_false(valid("\xFE"));
    assert_false(valid("\xFF"));
    /* lengths are honoured: the NUL inside is data, the cut is a truncation */
    assert_true(utf8_valid("a\0b", 3));
    assert_false(utf8_valid("\xC3\xA9", 1));
}

static void test_utf8_escapes_for_one_line(void **state) {
    (void)state;
    char out[64];
    assert_string_equal(utf8_escape(out, sizeof out, "plain", 5), "plain");
    assert_string_equal(utf8_escape(out, sizeof out, "caf\xC3\xA9 \xE2\x96\x81", 9),
                        "caf\xC3\xA9 \xE2\x96\x81");
    assert_string_equal(utf8_escape(out, sizeof out, "it's a\\b", 8), "it\\'s a\\\\b");
    assert_string_equal(utf8_escape(out, sizeof out, "a\nb\tc\rd", 7), "a\\nb\\tc\\rd");
    assert_string_equal(utf8_escape(out, sizeof out, "\x89PNG", 4), "\\x89PNG");
    assert_string_equal(utf8_escape(out, sizeof out, "a\0b\x1B\x7F", 5), "a\\x00b\\x1B\\x7F");
    assert_string_equal(utf8_escape(out, sizeof out, "\xC2\x85", 2), "\\xC2\\x85"); /* C1 NEL */
    assert_string_equal(utf8_escape(out, sizeof out, "\xED\xA0\x80", 3), "\\xED\\xA0\\x80");
    assert_string_equal(utf8_escape(out, sizeof out, "", 0), "");
}

/* Too long: cut at a character boundary, "..." appended, never past size. */
static void test_utf8_escape_truncates(void **state) {
    (void)state;
    char out[10];
    assert_string_equal(utf8_escape(out, sizeof out, "abcdefghi", 9), "abcdefghi"); /* fits */
    assert_string_equal(utf8_escape(out, sizeof out, "abcdefghij", 10), "abcdef...");
    /* \xFF takes four output bytes and is not split */
    assert_string_equal(utf8_escape(out, sizeof out, "abcde\xFFzzzz", 10), "abcde...");
    /* nor is a 3-byte character */
    assert_string_equal(utf8_escape(out, sizeof out, "abcd\xE2\x96\x81zzzz", 11), "abcd...");
    char tiny[3];
    assert_string_equal(utf8_escape(tiny, sizeof tiny, "abcdef", 6), "..");
    char one[1] = {'x'};
    assert_string_equal(utf8_escape(one, 1, "abc", 3), "");
    utf8_escape(one, 0, "abc", 3); /* size 0 writes nothing */
    assert_int_equal(one[0], '\0');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decodes_each_length),
        cmocka_unit_test(test_utf8_refuses_malformed_sequences),
        cmocka_unit_test(test_utf8_escapes_for_one_line),
        cmocka_unit_test(test_utf8_escape_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
