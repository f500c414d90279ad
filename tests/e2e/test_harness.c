/* test_harness.c — the pty harness (tests/lib/term.c) driven against real
 * programs on this machine: sh, printf, stty, od, tput, clear, sleep, yes.
 *
 * Expected bytes come from outside our code: key and mouse encodings from
 * xterm's ctlseqs and `infocmp -1 xterm-256color` (kcuu1=\EOA, kf5=\E[15~,
 * kbs=^?, kcbt=\E[Z, smcup=\E[?1049h...), window sizes from stty, exit
 * statuses from the shell. Timeouts are generous (a loaded 2-core machine)
 * but every wait returns as soon as its condition holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/term.h"

enum { WAIT_MS = 5000 }; /* for things that should take milliseconds */

/* ------------------------------------------------------------------------ */
/* Fixture: up to two terminals, closed by teardown even when a test fails   */
/* ------------------------------------------------------------------------ */

typedef struct {
    Term *t[2];
} Fixture;

static int setup(void **state) {
    *state = calloc(1, sizeof(Fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    Fixture *fx = *state;
    term_close(fx->t[0]);
    term_close(fx->t[1]);
    free(fx);
    return 0;
}

/* Replaces slot's terminal (closing the old one) with a new one running argv. */
static Term *spawn_argv(void **state, int slot, const char *const *argv,
                        const char *const *env, int cols, int rows) {
    Fixture *fx = *state;
    term_close(fx->t[slot]);
    fx->t[slot] = term_spawn(argv, env, cols, rows);
    assert_non_null(fx->t[slot]);
    return fx->t[slot];
}

static Term *spawn_sh(void **state, const char *script, int cols, int rows) {
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return spawn_argv(state, 0, argv, NULL, cols, rows);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void assert_row(Term *t, int row, const char *expected) {
    char *got = term_row_text(t, row);
    if (strcmp(got, expected) != 0) {
        term_dump(t, stderr);
        fail_msg("row %d is \"%s\", expected \"%s\"", row, got, expected);
    }
    free(got);
}

/* Waits until row `row` reads exactly `expected`; dumps the screen if not. */
static void assert_row_soon(Term *t, int row, const char *expected) {
    if (!term_wait_row(t, row, expected, WAIT_MS)) {
        term_dump(t, stderr);
        fail_msg("row %d never read \"%s\"", row, expected);
    }
}

/* Waits until needle occurs at least n times on screen. */
static int wait_count(Term *t, const char *needle, int n, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    int c;
    while ((c = term_find_text(t, needle, NULL, NULL)) < n && now_ms() < deadline)
        term_wait_idle(t, 20, 100);
    return c;
}

/* ------------------------------------------------------------------------ */
/* Raw byte reader: what exactly reaches the program's input                 */
/* ------------------------------------------------------------------------ */

/* A shell that puts its terminal in raw mode (no echo, no ^C, no CR->NL),
 * runs `prelude` (which may switch terminal modes, e.g. DECCKM), says READY,
 * reads exactly nbytes and prints them in hex on row 1, then " END". */
static Term *spawn_byte_reader(void **state, const char *prelude, size_t nbytes) {
    char script[512];
    snprintf(script, sizeof script,
             "stty raw -echo; %s; printf 'READY\\r\\n'; "
             "dd bs=1 count=%zu 2>/dev/null | od -An -v -tx1 | tr -d '\\n'; "
             "printf ' END\\r\\n'",
             prelude, nbytes);
    Term *t = spawn_sh(state, script, 250, 6);
    assert_screen_text(t, "READY", WAIT_MS);
    return t;
}

/* Checks that row 1 shows `bytes` as the reader prints them. */
static void assert_bytes_read(Term *t, const char *bytes, size_t n) {
    char *hex = malloc(n * 3 + 8);
    assert_non_null(hex);
    for (size_t i = 0; i < n; i++) sprintf(hex + 3 * i, " %02x", (unsigned char)bytes[i]);
    strcpy(hex + 3 * n, " END");
    assert_screen_text(t, " END", WAIT_MS);
    assert_row(t, 1, hex);
    free(hex);
}

/* ------------------------------------------------------------------------ */
/* Screen text                                                              */
/* ------------------------------------------------------------------------ */

static void test_harness_screen_text_is_exact(void **state) {
    Term *t = spawn_sh(state, "printf 'hello\\n  world  \\n'", 20, 5);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    char *s = term_screen_text(t);
    assert_string_equal(s, "hello\n  world\n\n\n"); /* 5 rows, trailing spaces trimmed */
    free(s);
    assert_row(t, 1, "  world");
    assert_row(t, 4, "");
    int col = -1, row = -1;
    assert_int_equal(term_find_text(t, "world", &col, &row), 1);
    assert_int_equal(col, 2);
    assert_int_equal(row, 1);
    assert_int_equal(term_find_text(t, "absent", &col, &row), 0);
    int cols, rows;
    term_size(t, &cols, &rows);
    assert_int_equal(cols, 20);
    assert_int_equal(rows, 5);
}

static void test_harness_find_counts_every_occurrence(void **state) {
    Term *t = spawn_sh(state, "printf 'x ab ab\\nab\\n'", 20, 4);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    int col = -1, row = -1;
    assert_int_equal(term_find_text(t, "ab", &col, &row), 3);
    assert_int_equal(col, 2); /* the first, top-left-most one */
    assert_int_equal(row, 0);
}

static void test_harness_cursor_motion_is_applied(void **state) {
    /* Absolute moves and overwrites: the screen, not the byte stream. */
    Term *t = spawn_sh(state, "printf 'AAAA\\033[1;2HB\\033[3;5HC\\033[?25l'", 10, 4);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_row(t, 0, "ABAA");
    assert_row(t, 2, "    C");
    int col, row;
    term_cursor(t, &col, &row);
    assert_int_equal(col, 5);
    assert_int_equal(row, 2);
    assert_false(term_modes(t).cursor_visible);
}

/* ------------------------------------------------------------------------ */
/* Colour and attributes                                                    */
/* ------------------------------------------------------------------------ */

static void test_harness_color_is_detected(void **state) {
    Term *t = spawn_sh(state,
                       "printf 'plain \\033[31mred\\033[0m \\033[44mblue\\033[0m "
                       "\\033[38;5;208mX\\033[0m\\033[38;2;1;2;3mY\\033[0m'",
                       40, 3);
    assert_screen_text(t, "XY", WAIT_MS);
    int col, row;
    assert_int_equal(term_find_text(t, "plain", &col, &row), 1);
    assert_false(term_cell_has_color(t, col, row));
    assert_int_equal(term_find_text(t, "red", &col, &row), 1);
    assert_true(term_cell_has_color(t, col, row));
    TermCell c;
    term_cell(t, col, row, &c);
    assert_string_equal(c.text, "r");
    assert_int_equal(c.fg, 1);
    assert_int_equal(c.bg, TERM_COLOR_DEFAULT);
    assert_int_equal(term_find_text(t, "blue", &col, &row), 1);
    term_cell(t, col, row, &c);
    assert_int_equal(c.fg, TERM_COLOR_DEFAULT);
    assert_int_equal(c.bg, 4);
    assert_int_equal(term_find_text(t, "XY", &col, &row), 1);
    term_cell(t, col, row, &c);
    assert_int_equal(c.fg, 208);
    term_cell(t, col + 1, row, &c);
    assert_int_equal(c.fg, TERM_COLOR_RGB(1, 2, 3));
    assert_false(term_cell_has_color(t, col + 2, row)); /* reset after Y */
    assert_true(term_screen_has_color(t));
}

static void test_harness_plain_output_has_no_color(void **state) {
    /* Bold and reverse are attributes, not colour: a monochrome scheme
     * highlights with them and must still count as colourless. */
    Term *t = spawn_sh(state, "printf 'plain \\033[1mbold\\033[0m \\033[7mrev\\033[0m'", 40, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_false(term_screen_has_color(t));
    int col, row;
    TermCell c;
    assert_int_equal(term_find_text(t, "bold", &col, &row), 1);
    term_cell(t, col, row, &c);
    assert_int_equal(c.attrs, TERM_ATTR_BOLD);
    assert_int_equal(term_find_text(t, "rev", &col, &row), 1);
    term_cell(t, col, row, &c);
    assert_int_equal(c.attrs, TERM_ATTR_REVERSE);
    term_cell(t, 0, 0, &c);
    assert_int_equal(c.attrs, 0);
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

static void test_harness_wide_char_takes_two_cells(void **state) {
    /* U+4E2D (wide), then x; then e + U+0301 combining acute in one cell. */
    Term *t = spawn_sh(state, "printf '\\344\\270\\255x\\ne\\314\\201z'", 10, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_row(t, 0, "\xe4\xb8\xadx");
    TermCell c;
    term_cell(t, 0, 0, &c);
    assert_string_equal(c.text, "\xe4\xb8\xad");
    assert_int_equal(c.width, 2);
    term_cell(t, 1, 0, &c);
    assert_int_equal(c.width, 0);
    assert_string_equal(c.text, "");
    int col, row;
    assert_int_equal(term_find_text(t, "x", &col, &row), 1);
    assert_int_equal(col, 2);
    assert_row(t, 1, "e\xcc\x81z");
    term_cell(t, 0, 1, &c);
    assert_string_equal(c.text, "e\xcc\x81");
    assert_int_equal(term_find_text(t, "z", &col, &row), 1);
    assert_int_equal(col, 1);
    assert_true(term_output_has_non_ascii(t));
}

static void test_harness_non_ascii_is_detected_in_raw_output(void **state) {
    Term *t = spawn_sh(state, "printf 'only ascii here\\n'", 40, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_true(term_find_text(t, "only ascii here", NULL, NULL) == 1);
    assert_false(term_output_has_non_ascii(t));
    /* U+2588 FULL BLOCK, as a UTF-8 bar chart would draw it. */
    t = spawn_sh(state, "printf 'bar \\342\\226\\210'", 40, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_true(term_output_has_non_ascii(t));
    assert_row(t, 0, "bar \xe2\x96\x88");
}

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

static void test_harness_environment_defaults_and_overrides(void **state) {
    static const char script[] =
        "printf '[%s][%s][%s][%s][%s]' \"$TERM\" \"$LANG\" \"${LC_ALL-unset}\" "
        "\"${COLUMNS-unset}\" \"${QL_E2E_PROBE-unset}\"";
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    /* What the test runner happens to have must not leak into the program. */
    setenv("QL_E2E_PROBE", "inherited", 1);
    setenv("LC_ALL", "C", 1);
    setenv("COLUMNS", "999", 1);
    Term *t = spawn_argv(state, 0, argv, NULL, 80, 3);
    unsetenv("QL_E2E_PROBE");
    unsetenv("LC_ALL");
    unsetenv("COLUMNS");
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_row(t, 0, "[xterm-256color][C.UTF-8][unset][unset][inherited]");

    setenv("QL_E2E_PROBE", "inherited", 1);
    const char *env[] = {"LANG=C", "TERM=vt100", "QL_E2E_PROBE", "LC_ALL=POSIX", NULL};
    t = spawn_argv(state, 0, argv, env, 80, 3);
    unsetenv("QL_E2E_PROBE");
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_row(t, 0, "[vt100][C][POSIX][unset][unset]");
}

static void test_harness_only_standard_fds_are_inherited(void **state) {
    /* Another terminal's master and a file the test holds must not reach the
     * program: ls sees 0-2 plus its own directory handle. */
    const char *sleeper[] = {"sleep", "5", NULL};
    spawn_argv(state, 1, sleeper, NULL, 20, 3);
    int extra = open("/dev/null", O_RDONLY);
    assert_true(extra > 2);
    Term *t = spawn_sh(state, "printf '[%s]' $(ls /dev/fd/)", 40, 3);
    close(extra);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_row(t, 0, "[0][1][2][3]");
}

/* ------------------------------------------------------------------------ */
/* Exit status, signals, timeouts                                           */
/* ------------------------------------------------------------------------ */

static void test_harness_exit_status_is_reported(void **state) {
    Term *t = spawn_sh(state, "exit 3", 20, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 3);
    assert_false(term_alive(t));
    assert_int_equal(term_wait_exit(t, 0), 3); /* asked again: same answer */
    t = spawn_sh(state, "true", 20, 3);
    assert_exit_status(t, 0, WAIT_MS);
}

static void test_harness_signal_death_is_reported(void **state) {
    Term *t = spawn_sh(state, "kill -9 $$", 20, 3);
    assert_int_equal(term_wait_exit(t, WAIT_MS), -SIGKILL);
    const char *argv[] = {"sleep", "5", NULL};
    t = spawn_argv(state, 0, argv, NULL, 20, 3);
    assert_true(term_alive(t));
    assert_int_equal(term_send_signal(t, SIGTERM), 0);
    assert_int_equal(term_wait_exit(t, WAIT_MS), -SIGTERM);
    assert_int_equal(term_send_signal(t, SIGTERM), -1); /* already reaped */
}

static void test_harness_ctrl_c_interrupts_through_the_tty(void **state) {
    /* ^C is turned into SIGINT by the line discipline, as in a real terminal
     * (and the child gets SIGINT back even if the runner ignores it). */
    void (*old)(int) = signal(SIGINT, SIG_IGN);
    const char *argv[] = {"sleep", "5", NULL};
    Term *t = spawn_argv(state, 0, argv, NULL, 20, 3);
    signal(SIGINT, old);
    term_send_key(t, TERM_KEY_CTRL_C);
    assert_int_equal(term_wait_exit(t, WAIT_MS), -SIGINT);
}

static void test_harness_timeout_is_prompt_and_close_kills(void **state) {
    const char *argv[] = {"sleep", "5", NULL};
    Term *t = spawn_argv(state, 0, argv, NULL, 20, 3);
    int pid = term_pid(t);
    long long t0 = now_ms();
    assert_int_equal(term_wait_exit(t, 200), TERM_EXIT_TIMEOUT);
    long long waited = now_ms() - t0;
    assert_true(waited >= 190 && waited < 1500);
    assert_true(term_alive(t)); /* a timeout leaves it running */
    t0 = now_ms();
    Fixture *fx = *state;
    term_close(t);
    fx->t[0] = NULL;
    assert_true(now_ms() - t0 < 1500);
    /* Reaped by term_close: no zombie left for us to collect. */
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_harness_waits_return_when_program_dies(void **state) {
    Term *t = spawn_sh(state, "echo bye", 20, 3);
    long long t0 = now_ms();
    assert_false(term_wait_text(t, "never printed", 5000)); /* shown able to fail */
    assert_true(now_ms() - t0 < 2000);
    assert_true(term_find_text(t, "bye", NULL, NULL) == 1); /* its last output was read */
    assert_true(term_wait_idle(t, 1000, 5000));
    assert_true(now_ms() - t0 < 2000);
    assert_false(term_wait_text_gone(t, "bye", 100));
}

static void test_harness_spawn_of_missing_program_fails(void **state) {
    (void)state;
    const char *argv[] = {"/nonexistent/quantlab", NULL};
    fprintf(stderr, "(an error line about /nonexistent/quantlab is expected here)\n");
    assert_null(term_spawn(argv, NULL, 80, 24));
}

static void test_harness_spawn_quantlab_runs_quantlab_bin(void **state) {
    Fixture *fx = *state;
    const char *saved = getenv("QUANTLAB_BIN");
    char *copy = saved ? strdup(saved) : NULL;
    setenv("QUANTLAB_BIN", "/bin/echo", 1);
    const char *args[] = {"hello", "world", NULL};
    fx->t[0] = term_spawn_quantlab(args, NULL, 40, 3);
    /* A bare name means ./name, not a PATH search (which would find /bin/echo). */
    setenv("QUANTLAB_BIN", "echo", 1);
    fprintf(stderr, "(an error line about ./echo is expected here)\n");
    Term *bare = term_spawn_quantlab(args, NULL, 40, 3);
    if (copy)
        setenv("QUANTLAB_BIN", copy, 1);
    else
        unsetenv("QUANTLAB_BIN");
    free(copy);
    assert_null(bare);
    assert_non_null(fx->t[0]);
    assert_int_equal(term_wait_exit(fx->t[0], WAIT_MS), 0);
    assert_row(fx->t[0], 0, "hello world");
}

/* ------------------------------------------------------------------------ */
/* Waiting for quiet                                                        */
/* ------------------------------------------------------------------------ */

static void test_harness_wait_idle_sees_a_pause(void **state) {
    Term *t = spawn_sh(state, "printf first; sleep 2; printf second", 40, 3);
    assert_screen_text(t, "first", WAIT_MS);
    long long t0 = now_ms();
    assert_true(term_wait_idle(t, 150, WAIT_MS));
    assert_true(now_ms() - t0 < 1500);
    assert_int_equal(term_find_text(t, "second", NULL, NULL), 0);
}

static void test_harness_wait_idle_fails_while_output_flows(void **state) {
    /* yes writes as fast as we read: never quiet; the raw log stays bounded. */
    const char *argv[] = {"yes", NULL};
    Term *t = spawn_argv(state, 0, argv, NULL, 20, 3);
    long long t0 = now_ms();
    assert_false(term_wait_idle(t, 250, 500));
    assert_true(now_ms() - t0 < 1500); /* a flood must not keep a wait past its deadline */
    size_t len, total;
    term_raw(t, &len, &total);
    assert_true(total > 0);
    assert_true(len <= total && len <= 2 * (size_t)TERM_RAW_KEEP);
}

static void test_harness_raw_log_keeps_the_newest_bytes(void **state) {
    /* 1.5 MiB of 'a', then a marker: the log drops the oldest bytes, keeps
     * the marker, and still counts everything. */
    Term *t = spawn_sh(state, "head -c 1572864 /dev/zero | tr '\\0' a; printf MARK", 80, 4);
    assert_int_equal(term_wait_exit(t, 4 * WAIT_MS), 0);
    size_t len, total;
    const char *raw = term_raw(t, &len, &total);
    assert_int_equal(total, 1572864 + 4);
    assert_true(len >= (size_t)TERM_RAW_KEEP && len <= 2 * (size_t)TERM_RAW_KEEP);
    assert_memory_equal(raw + len - 4, "MARK", 4);
    assert_true(term_raw_contains(t, "aMARK"));
    assert_false(term_raw_contains(t, "MARKa"));
}

/* ------------------------------------------------------------------------ */
/* Window size and SIGWINCH                                                 */
/* ------------------------------------------------------------------------ */

static void test_harness_stty_size_follows_resize(void **state) {
    Term *t = spawn_sh(state, "stty size; while read l; do stty size; done", 80, 24);
    assert_screen_text(t, "24 80", WAIT_MS); /* the size was set before exec */
    term_resize(t, 100, 30);
    term_send_str(t, "\n");
    assert_screen_text(t, "30 100", WAIT_MS);
    term_resize(t, 10, 4);
    term_send_key(t, TERM_KEY_ENTER); /* CR, turned into NL by ICRNL */
    assert_screen_text(t, "4 10", WAIT_MS);
    char *s = term_screen_text(t);
    int newlines = 0;
    for (char *p = s; *p; p++) newlines += *p == '\n';
    free(s);
    assert_int_equal(newlines, 3);
}

static void test_harness_resize_survives_hundreds_of_changes(void **state) {
    Term *t = spawn_sh(state, "echo ready; while read l; do stty size; done", 80, 24);
    assert_screen_text(t, "ready", WAIT_MS);
    uint32_t seed = 12345;
    for (int i = 0; i < 400; i++) {
        seed = seed * 1103515245u + 12345u;
        int cols = 10 + (int)((seed >> 16) % 151); /* 10..160 */
        int rows = 4 + (int)((seed >> 8) % 57);    /* 4..60 */
        if (i % 50 == 0) cols = 10, rows = 4;
        term_resize(t, cols, rows);
        term_pump(t);
    }
    term_resize(t, 37, 11);
    term_send_str(t, "\n");
    assert_screen_text(t, "11 37", WAIT_MS);
    int cols, rows;
    term_size(t, &cols, &rows);
    assert_int_equal(cols, 37);
    assert_int_equal(rows, 11);
    assert_true(term_alive(t));
}

static void test_harness_resize_sends_one_sigwinch(void **state) {
    Term *t = spawn_sh(state,
                       "trap 'echo WINCH' WINCH; echo ready; "
                       "while :; do sleep 0.05; done",
                       80, 24);
    assert_screen_text(t, "ready", WAIT_MS);
    term_resize(t, 90, 24);
    assert_int_equal(wait_count(t, "WINCH", 1, WAIT_MS), 1);
    term_wait_idle(t, 200, WAIT_MS);
    assert_int_equal(term_find_text(t, "WINCH", NULL, NULL), 1); /* not twice */
    term_resize(t, 90, 20);
    assert_int_equal(wait_count(t, "WINCH", 2, WAIT_MS), 2);
    /* Same size again: no change, so no signal (as in any terminal). */
    term_resize(t, 90, 20);
    term_wait_idle(t, 200, WAIT_MS);
    assert_int_equal(term_find_text(t, "WINCH", NULL, NULL), 2);
}

/* ------------------------------------------------------------------------ */
/* Keys and mouse, byte-exact                                               */
/* ------------------------------------------------------------------------ */

static void send_keys(Term *t, const TermKey *keys, size_t n) {
    for (size_t i = 0; i < n; i++) term_send_key(t, keys[i]);
}

static void test_harness_keys_arrive_byte_exact(void **state) {
    static const TermKey keys[] = {
        TERM_KEY_UP,     TERM_KEY_DOWN,   TERM_KEY_RIGHT,   TERM_KEY_LEFT,
        TERM_KEY_HOME,   TERM_KEY_END,    TERM_KEY_ENTER,   TERM_KEY_TAB,
        TERM_KEY_BACKTAB, TERM_KEY_BACKSPACE, TERM_KEY_ESC, TERM_KEY_INSERT,
        TERM_KEY_DELETE, TERM_KEY_PGUP,   TERM_KEY_PGDN,    TERM_KEY_CTRL_C,
        TERM_KEY_CTRL_D, TERM_KEY_CTRL_L,
    };
    static const char expected[] = "\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\r\t\x1b[Z\x7f\x1b"
                                   "\x1b[2~\x1b[3~\x1b[5~\x1b[6~\x03\x04\x0c";
    Term *t = spawn_byte_reader(state, ":", sizeof expected - 1);
    send_keys(t, keys, sizeof keys / sizeof keys[0]);
    assert_bytes_read(t, expected, sizeof expected - 1);
}

static void test_harness_keys_follow_application_cursor_mode(void **state) {
    /* After smkx (what ncurses' keypad() sends), cursor keys are SS3 as
     * terminfo's kcuu1=\EOA says; function keys do not change. */
    static const TermKey keys[] = {
        TERM_KEY_UP, TERM_KEY_DOWN, TERM_KEY_RIGHT, TERM_KEY_LEFT, TERM_KEY_HOME, TERM_KEY_END,
        TERM_KEY_F1, TERM_KEY_F2,   TERM_KEY_F3,    TERM_KEY_F4,   TERM_KEY_F5,   TERM_KEY_F6,
        TERM_KEY_F7, TERM_KEY_F8,   TERM_KEY_F9,    TERM_KEY_F10,  TERM_KEY_F11,  TERM_KEY_F12,
    };
    static const char expected[] = "\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF"
                                   "\x1bOP\x1bOQ\x1bOR\x1bOS\x1b[15~\x1b[17~\x1b[18~\x1b[19~"
                                   "\x1b[20~\x1b[21~\x1b[23~\x1b[24~";
    Term *t = spawn_byte_reader(state, "tput smkx", sizeof expected - 1);
    send_keys(t, keys, sizeof keys / sizeof keys[0]);
    assert_bytes_read(t, expected, sizeof expected - 1);
}

static void test_harness_text_and_utf8_arrive_byte_exact(void **state) {
    static const char text[] = "q\xc3\xa9 \x01";
    Term *t = spawn_byte_reader(state, ":", sizeof text - 1);
    term_send_str(t, "q\xc3\xa9");
    term_send(t, " \x01", 2);
    assert_bytes_read(t, text, sizeof text - 1);
}

static void test_harness_mouse_uses_sgr_encoding(void **state) {
    static const char expected[] = "\x1b[<0;5;3M\x1b[<0;5;3m\x1b[<64;1;1M\x1b[<65;10;10M"
                                   "\x1b[<2;120;40M";
    Term *t = spawn_byte_reader(state, "printf '\\033[?1000h\\033[?1006h'", sizeof expected - 1);
    assert_int_equal(term_modes(t).mouse, 1); /* the program asked for clicks */
    term_send_mouse(t, TERM_MOUSE_LEFT, 4, 2, true);
    term_send_mouse(t, TERM_MOUSE_LEFT, 4, 2, false);
    term_send_mouse(t, TERM_MOUSE_WHEEL_UP, 0, 0, true);
    term_send_mouse(t, TERM_MOUSE_WHEEL_DOWN, 9, 9, true);
    term_send_mouse(t, TERM_MOUSE_RIGHT, 119, 39, true);
    assert_bytes_read(t, expected, sizeof expected - 1);
}

static void test_harness_cursor_position_query_is_answered(void **state) {
    /* ESC [ 6 n asks where the cursor is; xterm answers ESC [ row ; col R.
     * The cursor is at row 2, column 4 (1-based) when the question is asked. */
    Term *t = spawn_sh(state,
                       "stty raw -echo; printf 'ab\\r\\n   \\033[6n'; "
                       "dd bs=1 count=6 2>/dev/null | od -An -v -tx1 | tr -d '\\n'; "
                       "printf ' END'",
                       80, 4);
    assert_screen_text(t, " END", WAIT_MS);
    assert_row(t, 1, "    1b 5b 32 3b 34 52 END");
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
}

static void test_harness_typing_goes_through_the_line_discipline(void **state) {
    Term *t = spawn_sh(state, "read l; echo \"got:$l\"", 40, 4);
    term_send_str(t, "hix");
    term_send_key(t, TERM_KEY_BACKSPACE); /* DEL is the pty's erase character */
    term_send_key(t, TERM_KEY_ENTER);
    assert_screen_text(t, "got:hi", WAIT_MS);
    assert_int_equal(term_find_text(t, "got:hix", NULL, NULL), 0);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
}

static void test_harness_large_input_does_not_deadlock(void **state) {
    /* cat echoes every byte back: typing 200 KB works only if output is read
     * while the input is written. */
    enum { N = 200 * 1024 };
    Term *t = spawn_sh(state, "stty raw -echo; printf 'READY\\r\\n'; exec cat", 80, 4);
    assert_screen_text(t, "READY", WAIT_MS);
    char *buf = malloc(N);
    assert_non_null(buf);
    memset(buf, 'a', N);
    term_send(t, buf, N);
    free(buf);
    term_send_str(t, "ZEND");
    assert_screen_text(t, "ZEND", 4 * WAIT_MS);
    size_t total;
    term_raw(t, NULL, &total);
    assert_int_equal(total, strlen("READY\r\n") + N + strlen("ZEND")); /* every byte echoed */
}

/* ------------------------------------------------------------------------ */
/* What a TUI does to the terminal: alternate screen, clear                 */
/* ------------------------------------------------------------------------ */

static void test_harness_alternate_screen_is_tracked(void **state) {
    Term *t = spawn_sh(state, "printf before; tput smcup; printf inside; read x; tput rmcup; "
                              "printf ' after'",
                       40, 5);
    assert_screen_text(t, "inside", WAIT_MS);
    assert_true(term_modes(t).altscreen);
    assert_int_equal(term_find_text(t, "before", NULL, NULL), 0);
    assert_true(term_raw_contains(t, "\x1b[?1049h"));
    assert_false(term_raw_contains(t, "\x1b[?1049l"));
    term_send_key(t, TERM_KEY_ENTER);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    assert_true(term_raw_contains(t, "\x1b[?1049l"));
    assert_false(term_modes(t).altscreen);
    assert_row(t, 0, "before after"); /* the main screen and cursor are back */
    assert_int_equal(term_find_text(t, "inside", NULL, NULL), 0);
}

static void test_harness_drives_a_terminfo_program(void **state) {
    /* less reads its keys through terminfo, as ncurses does: after smkx the
     * arrows must come as ESC O A, PgDn as ESC [ 6 ~. It redraws on SIGWINCH
     * and leaves the alternate screen and keypad mode on exit. */
    if (access("/usr/bin/less", X_OK) != 0) skip();
    const char *argv[] = {"/bin/sh", "-c", "seq 1 200 | /usr/bin/less", NULL};
    const char *env[] = {"LESS", "LESSOPEN", "LESSCLOSE", "LESSHISTFILE=-", NULL};
    Term *t = spawn_argv(state, 0, argv, env, 40, 10);
    assert_row_soon(t, 8, "9");
    assert_row_soon(t, 9, ":");
    assert_true(term_modes(t).altscreen);
    term_send_key(t, TERM_KEY_DOWN);
    assert_row_soon(t, 0, "2");
    assert_row_soon(t, 8, "10"); /* the scroll may come in pieces */
    term_send_key(t, TERM_KEY_PGDN);
    assert_row_soon(t, 0, "11");
    /* less checks for signals, draws its prompt, then blocks in read(): a
     * SIGWINCH landing between the check and the read waits for the next key
     * (a race in less, not in the terminal). So resize once it is idle, and
     * if it still missed the signal, resize again (a second, real SIGWINCH). */
    term_wait_idle(t, 150, WAIT_MS);
    term_resize(t, 40, 20);
    if (!term_wait_row(t, 18, "29", 2000)) {
        term_resize(t, 40, 21);
        assert_row_soon(t, 19, "30");
    } /* redrawn for 19 (or 20) lines */
    term_send_str(t, "q");
    assert_exit_status(t, 0, WAIT_MS);
    assert_false(term_modes(t).altscreen);
    assert_true(term_raw_contains(t, "\x1b[?1h"));  /* smkx ... */
    assert_true(term_raw_contains(t, "\x1b[?1l"));  /* ... rmkx */
    assert_true(term_raw_contains(t, "\x1b[?1049l"));
}

static void test_harness_clear_erases_the_screen(void **state) {
    Term *t = spawn_sh(state, "printf 'one\\ntwo\\n'; clear; printf three", 20, 4);
    assert_int_equal(term_wait_exit(t, WAIT_MS), 0);
    char *s = term_screen_text(t);
    assert_string_equal(s, "three\n\n\n");
    free(s);
}

/* Usage: test_harness [PATTERN]  runs only the tests whose names match
 * PATTERN (cmocka's filter: '*' and '?' wildcards). */
int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_harness_screen_text_is_exact),
        T(test_harness_find_counts_every_occurrence),
        T(test_harness_cursor_motion_is_applied),
        T(test_harness_color_is_detected),
        T(test_harness_plain_output_has_no_color),
        T(test_harness_wide_char_takes_two_cells),
        T(test_harness_non_ascii_is_detected_in_raw_output),
        T(test_harness_environment_defaults_and_overrides),
        T(test_harness_only_standard_fds_are_inherited),
        T(test_harness_exit_status_is_reported),
        T(test_harness_signal_death_is_reported),
        T(test_harness_ctrl_c_interrupts_through_the_tty),
        T(test_harness_timeout_is_prompt_and_close_kills),
        T(test_harness_waits_return_when_program_dies),
        T(test_harness_spawn_of_missing_program_fails),
        T(test_harness_spawn_quantlab_runs_quantlab_bin),
        T(test_harness_wait_idle_sees_a_pause),
        T(test_harness_wait_idle_fails_while_output_flows),
        T(test_harness_raw_log_keeps_the_newest_bytes),
        T(test_harness_stty_size_follows_resize),
        T(test_harness_resize_survives_hundreds_of_changes),
        T(test_harness_resize_sends_one_sigwinch),
        T(test_harness_keys_arrive_byte_exact),
        T(test_harness_keys_follow_application_cursor_mode),
        T(test_harness_text_and_utf8_arrive_byte_exact),
        T(test_harness_mouse_uses_sgr_encoding),
        T(test_harness_cursor_position_query_is_answered),
        T(test_harness_typing_goes_through_the_line_discipline),
        T(test_harness_large_input_does_not_deadlock),
        T(test_harness_alternate_screen_is_tracked),
        T(test_harness_drives_a_terminfo_program),
        T(test_harness_clear_erases_the_screen),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
