/* cmocka.h — a stand-in for the few cmocka 1.1 calls the unit tests use, for
 * running a test driver built with a cross compiler under qemu-user, where no
 * cmocka for the target is installed (tests/cross/aarch64.sh). Output follows
 * cmocka's lines ("[ RUN      ]", "[       OK ]", "[  PASSED  ] N test(s).").
 * Not used by the normal build, which links the real cmocka. */
#ifndef QL_TESTS_CROSS_CMOCKA_H
#define QL_TESTS_CROSS_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
};

static jmp_buf shim_jmp;
static int shim_skipped;

static void print_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void shim_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: error: %s\n", file, line, what);
    longjmp(shim_jmp, 1);
}

#define cmocka_unit_test(f) {#f, f}
#define fail() shim_fail(__FILE__, __LINE__, "Failure!")
#define fail_msg(...) (print_error("ERROR: " __VA_ARGS__), print_error("\n"), fail())
#define skip() (shim_skipped = 1, longjmp(shim_jmp, 2))
#define assert_true(c) ((c) ? (void)0 : shim_fail(__FILE__, __LINE__, #c " is false"))
#define assert_false(c) ((c) ? shim_fail(__FILE__, __LINE__, #c " is true") : (void)0)
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_int_equal(a, b) \
    ((uintmax_t)(a) == (uintmax_t)(b) ? (void)0 : shim_fail(__FILE__, __LINE__, #a " != " #b))
#define assert_ptr_equal(a, b) assert_true((uintptr_t)(a) == (uintptr_t)(b))
#define assert_string_equal(a, b) assert_true(strcmp((a), (b)) == 0)
#define assert_string_not_equal(a, b) assert_true(strcmp((a), (b)) != 0)
#define assert_memory_equal(a, b, n) assert_true(memcmp((a), (b), (n)) == 0)
#define assert_memory_not_equal(a, b, n) assert_true(memcmp((a), (b), (n)) != 0)

#define cmocka_run_group_tests(tests, setup, teardown) \
    shim_run((tests), sizeof(tests) / sizeof((tests)[0]))

static int shim_run(const struct CMUnitTest *tests, size_t n) {
    /* volatile: it must survive the longjmp out of a failing test */
    volatile int failed = 0;
    printf("[==========] Running %zu test(s).\n", n);
    for (size_t i = 0; i < n; i++) {
        printf("[ RUN      ] %s\n", tests[i].name);
        fflush(stdout);
        shim_skipped = 0;
        const int r = setjmp(shim_jmp);
        if (r == 0) tests[i].test_func(NULL);
        if (r == 1) {
            printf("[  FAILED  ] %s\n", tests[i].name);
            failed++;
        } else {
            printf(shim_skipped ? "[  SKIPPED ] %s\n" : "[       OK ] %s\n", tests[i].name);
        }
    }
    printf("[==========] %zu test(s) run.\n", n);
    if (failed) printf("[  FAILED  ] %d test(s).\n", failed);
    else printf("[  PASSED  ] %zu test(s).\n", n);
    return failed;
}

#endif
