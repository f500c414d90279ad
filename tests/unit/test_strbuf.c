/* test_strbuf.c — the growing text buffer (base/strbuf.c): appends, formatted
 * lines longer than its stack buffer, and a failure that sticks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/strbuf.h"

static void test_strbuf_appends_and_formats(void **state) {
    (void)state;
    StrBuf b = {0};
    assert_true(strbuf_puts(&b, "default=q4_0\n"));
    assert_true(strbuf_append(&b, "abcdef", 3));
    assert_true(strbuf_printf(&b, "|%d|%s|", 42, "x"));
    assert_string_equal(b.s, "default=q4_0\nabc|42|x|");
    assert_int_equal(b.len, strlen(b.s));
    /* 1,000 characters through printf, and 10,000 more appended: the buffer grows */
    char long_name[1001];
    memset(long_name, 'w', 1000);
    long_name[1000] = '\0';
    size_t before = b.len;
    assert_true(strbuf_printf(&b, "^%s$", long_name));
    assert_int_equal(b.len, before + 1002);
    assert_int_equal(b.s[before], '^');
    assert_int_equal(b.s[before + 1001], '$');
    for (int i = 0; i < 1000; i++) assert_true(strbuf_append(&b, "0123456789", 10));
    assert_int_equal(b.len, before + 1002 + 10000);
    assert_int_equal(b.s[b.len], '\0');
    strbuf_free(&b);
    assert_null(b.s);
    assert_int_equal(b.len, 0);
}

static void test_strbuf_failure_sticks(void **state) {
    (void)state;
    StrBuf b = {0};
    assert_true(strbuf_puts(&b, "kept"));
    b.failed = true; /* as after a failed allocation */
    assert_false(strbuf_puts(&b, " lost"));
    assert_false(strbuf_printf(&b, "%d", 1));
    assert_string_equal(b.s, "kept");
    strbuf_free(&b);
    assert_false(b.failed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strbuf_appends_and_formats),
        cmocka_unit_test(test_strbuf_failure_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
