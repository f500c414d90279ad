/* test_tui_chaos.c — the explorer under a storm of input: thousands of random
 * keys (printable, control, Esc sequences whole and cut short, function keys,
 * SGR mouse events, pasted bursts) and hundreds of resizes from 10x4 to
 * 200x60, while quality, speed and generation jobs keep starting and being
 * superseded on the worker thread. Afterwards the program must still answer
 * (? shows help, Esc closes it, 1 shows the Model screen), quit with status 0
 * and give the terminal back (alternate screen left, cursor visible, mouse
 * reporting off).
 *
 * Deterministic: the events come from a seeded generator (QUANTLAB_CHAOS_SEED,
 * default below; every failure message prints it, so a failing storm can be
 * replayed). QUANTLAB_CHAOS_EVENTS changes the count (default 4000).
 *
 * The storm never sends what would end the program on purpose — 'q', F10,
 * Ctrl-C, a click on the function-key bar's Quit, 'y' (the answer to "Quit
 * anyway?") — nor '~', which could complete a cut-short "Esc [ 2" into F10.
 * Everything else goes, including Ctrl-Z and Ctrl-\ (raw mode: just bytes). It
 * runs in a scratch directory, so the S, W and P keys write their files there,
 * and so does lesson progress (XDG_STATE_HOME).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/term.h"

enum { WAIT = 20000, DEFAULT_EVENTS = 4000 };
#define DEFAULT_SEED 20240611ull

static char tmpdir[64], old_cwd[PATH_MAX];
static uint64_t seed;

/* xorshift64*: the same storm for the same seed on every machine. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static int rng_below(int n) {
    return (int)(rng_next() % (uint64_t)n);
}

static int setup(void **state) {
    (void)state;
    const char *s = getenv("QUANTLAB_CHAOS_SEED");
    seed = s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
    rng_state = seed ? seed : 1;
    /* absolute paths for the binary and the data, then work in a scratch dir */
    char bin[PATH_MAX];
    const char *b = getenv("QUANTLAB_BIN");
    if (!b || !*b) b = "quantlab";
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s%s", strchr(b, '/') ? "" : "./", b);
    if (!realpath(rel, bin) || !getcwd(old_cwd, sizeof old_cwd)) return -1;
    setenv("QUANTLAB_BIN", bin, 1);
    const char *data = getenv("QUANTLAB_DATA");
    char data_abs[PATH_MAX];
    if (!realpath(data && *data ? data : ".", data_abs)) return -1;
    setenv("QUANTLAB_DATA", data_abs, 1);
    if (proc_tmpdir_new(tmpdir, sizeof tmpdir, "chaos") != 0 || chdir(tmpdir) != 0) return -1;
    setenv("XDG_STATE_HOME", tmpdir, 1); /* lesson progress goes here, not to the user's home */
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (chdir(old_cwd) != 0) return -1;
    return proc_tmpdir_remove(tmpdir);
}

/* ------------------------------------------------------------- the storm */

static const char PRINTABLE[] = "abcdefghijklmnoprstuvwxzABCDEFGHIJKLMNOPRSTUVWXZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}";

/* Whole sequences xterm sends (F10, ESC [ 21 ~, left out). */
static const char *const SEQUENCES[] = {
    "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D", "\x1bOA", "\x1bOB", "\x1bOC", "\x1bOD", "\x1b[H", "\x1b[F",
    "\x1bOH", "\x1bOF", "\x1b[5~", "\x1b[6~", "\x1b[2~", "\x1b[3~", "\x1bOP", "\x1bOQ", "\x1bOR", "\x1bOS",
    "\x1b[15~", "\x1b[17~", "\x1b[18~", "\x1b[19~", "\x1b[20~", "\x1b[23~", "\x1b[24~", "\x1b[Z",
    "\x1b[1;5A", "\x1b[1;2B", "\x1b[1;3C", "\x1b[1;5D", "\x1b[3;5~", "\x1b[200~", "\x1b[201~",
};

/* Cut short, or not a key at all: what a slow link or a confused terminal sends. */
static const char *const BROKEN[] = {
    "\x1b", "\x1b[", "\x1bO", "\x1b[1", "\x1b[1;", "\x1b[1;5", "\x1b[<", "\x1b[<0;", "\x1b[<0;12;",
    "\x1b[<64;5", "\x1b[M", "\x1b[M !", "\x1b[?", "\x1b]0;title", "\x1b\x1b", "\x1b[99;99;99;99;99z",
    "\x1b[9999999999999999999A", "\x1bP", "\x1b[<999999;999999;999999M", "\x1b[<-1;-1;-1m",
};

typedef struct Storm {
    Term *t;
    int cols, rows;
    int resizes, keys;
    int jobs_seen; /* times a worker job's progress bar was on screen */
} Storm;

/* Whether a job runs on the worker now, as its progress bar shows it. */
static bool job_on_screen(Term *t) {
    static const char *const labels[] = {"measuring", "speed", "writes", "sensitivity", "statistics",
                                         "waiting", "writing"};
    term_pump(t);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (term_find_text(t, labels[i], NULL, NULL)) return true;
    return false;
}

static void send_random_key(Storm *s) {
    char buf[64];
    int kind = rng_below(100);
    if (kind < 45) { /* printable */
        buf[0] = PRINTABLE[rng_below((int)sizeof PRINTABLE - 1)];
        term_send(s->t, buf, 1);
    } else if (kind < 55) { /* control bytes, not Ctrl-C */
        static const char ctrl[] = "\t\r\n\x7f\x08\x0c\x15\x12\x1a\x1c\x01\x02\x04\x05\x0b\x0e\x10\x17\x18\x00";
        buf[0] = ctrl[rng_below((int)sizeof ctrl - 1)];
        term_send(s->t, buf, 1);
    } else if (kind < 75) {
        term_send_str(s->t, SEQUENCES[rng_below((int)(sizeof SEQUENCES / sizeof SEQUENCES[0]))]);
    } else if (kind < 82) {
        term_send_str(s->t, BROKEN[rng_below((int)(sizeof BROKEN / sizeof BROKEN[0]))]);
    } else if (kind < 84) { /* Alt-key: ESC then a letter */
        buf[0] = '\x1b';
        buf[1] = PRINTABLE[rng_below(48)];
        term_send(s->t, buf, 2);
    } else { /* mouse: anywhere but the function-key bar (its Quit would end the storm) */
        static const int buttons[] = {0, 0, 0, 1, 2, 64, 65, 32, 35};
        int b = buttons[rng_below((int)(sizeof buttons / sizeof buttons[0]))];
        int rows = s->rows > 3 ? s->rows - 2 : 1;
        int col = rng_below(s->cols + 10), row = rng_below(rows);
        term_send_mouse(s->t, b, col, row, true);
        if (b < 64 && rng_below(3)) term_send_mouse(s->t, b, col, row, false);
    }
    s->keys++;
}

/* Pasted text: a burst of printable bytes, sometimes in bracketed-paste marks. */
static void send_paste(Storm *s) {
    char buf[300];
    int n = 20 + rng_below(250), k = 0;
    bool marks = rng_below(2);
    if (marks) k += snprintf(buf, sizeof buf, "\x1b[200~");
    for (int i = 0; i < n && k < 280; i++) buf[k++] = rng_below(10) ? PRINTABLE[rng_below(52)] : ' ';
    if (marks) k += snprintf(buf + k, sizeof buf - (size_t)k, "\x1b[201~");
    term_send(s->t, buf, (size_t)k);
    s->keys += n;
}

/* Work for the worker thread: quality, speed, a side-by-side story, presets. */
static void send_work(Storm *s) {
    static const char *const macros[] = {
        "5e",          /* Quality screen: measure */
        "1e", "1m",    /* from the Model screen: quality, speed */
        "4g", "4n",    /* Compare: write both stories, next starter */
        "5n",          /* a sensitivity scan */
        "p\x1b[B\x1b[B\r", "p\x1b[B\x1b[B\x1b[B\r", "p\r", "p\x1b[A\r", /* presets */
        "2\x1b[B\x1b[B\x1b[B\x1b[B   ", /* Layers: a tensor down the ladder */
        "u", "U",
    };
    term_send_str(s->t, macros[rng_below((int)(sizeof macros / sizeof macros[0]))]);
    s->keys++;
}

static void resize_random(Storm *s) {
    int w, h;
    switch (rng_below(6)) {
    case 0: w = 10; h = 4; break;            /* the smallest */
    case 1: w = 200; h = 60; break;          /* the largest */
    case 2: w = 80; h = 24; break;           /* the classic */
    default: w = 10 + rng_below(191); h = 4 + rng_below(57); break;
    }
    term_resize(s->t, w, h);
    s->cols = w;
    s->rows = h;
    s->resizes++;
}

#define CHAOS_FAIL(t, ...)                                                                         \
    do {                                                                                           \
        term_dump((t), stderr);                                                                    \
        fprintf(stderr, "chaos seed %llu (replay: QUANTLAB_CHAOS_SEED=%llu)\n",                    \
                (unsigned long long)seed, (unsigned long long)seed);                               \
        fail_msg(__VA_ARGS__);                                                                     \
    } while (0)

static void wait_text(Term *t, const char *text) {
    if (!term_wait_text(t, text, WAIT)) CHAOS_FAIL(t, "after the storm the screen never showed \"%s\"", text);
}

static void test_tui_chaos_storm_then_still_answers(void **state) {
    (void)state;
    const char *ev = getenv("QUANTLAB_CHAOS_EVENTS");
    int n_events = ev && *ev ? atoi(ev) : DEFAULT_EVENTS;
    Storm s = {NULL, 100, 30, 0, 0, 0};
    s.t = term_spawn_quantlab(NULL, NULL, s.cols, s.rows);
    assert_non_null(s.t);
    if (!term_wait_text(s.t, "1 Model", WAIT)) CHAOS_FAIL(s.t, "no first screen");
    term_send_str(s.t, "p\x1b[B\x1b[B\r"); /* a changed plan: quitting asks first */

    for (int i = 0; i < n_events; i++) {
        int what = rng_below(1000);
        if (what < 70) resize_random(&s);
        else if (what < 85) send_paste(&s);
        else if (what < 145) send_work(&s);
        else send_random_key(&s);
        if (i % 50 == 49) { /* let jobs start, get cancelled, finish */
            term_wait_idle(s.t, 10, 150);
            s.jobs_seen += job_on_screen(s.t);
        }
        if (i % 200 == 199 && !term_alive(s.t))
            CHAOS_FAIL(s.t, "the explorer ended during the storm (event %d, exit %d)", i,
                       term_wait_exit(s.t, 0));
    }
    fprintf(stderr, "chaos: seed %llu, %d events, %d keys, %d resizes, a job running at %d of %d looks\n",
            (unsigned long long)seed, n_events, s.keys, s.resizes, s.jobs_seen, n_events / 50);
    if (n_events >= 1000 && s.jobs_seen == 0) CHAOS_FAIL(s.t, "no worker job was ever seen running");

    /* still answering: back to a normal size, close whatever is open, help, model */
    term_resize(s.t, 100, 30);
    for (int i = 0; i < 4; i++) {
        term_send_key(s.t, TERM_KEY_ESC);
        term_wait_idle(s.t, 80, 2000);
    }
    if (!term_alive(s.t)) CHAOS_FAIL(s.t, "the explorer ended after the storm");
    term_send_str(s.t, "?");
    wait_text(s.t, "Keys (this list is the key table itself)");
    term_send_key(s.t, TERM_KEY_ESC);
    if (!term_wait_text_gone(s.t, "Keys (this list is the key table", WAIT)) CHAOS_FAIL(s.t, "Esc did not close the help");
    term_send_str(s.t, "1");
    wait_text(s.t, "Size");
    wait_text(s.t, "1 Model");

    /* quits cleanly, answering the unsaved-plan question if it is asked */
    term_send_str(s.t, "q");
    if (term_wait_text(s.t, "not saved", 3000)) term_send_str(s.t, "y");
    int status = term_wait_exit(s.t, WAIT);
    if (status != 0) CHAOS_FAIL(s.t, "exit status %d after the storm", status);
    TermModes m = term_modes(s.t);
    if (m.altscreen || !m.cursor_visible || m.mouse != 0)
        CHAOS_FAIL(s.t, "terminal not restored: altscreen %d, cursor visible %d, mouse %d", m.altscreen,
                   m.cursor_visible, m.mouse);
    term_close(s.t);
}

/* A shorter storm in plain ASCII and monochrome, ended by Ctrl-C mid-storm. */
static void test_tui_chaos_ascii_storm_then_ctrl_c(void **state) {
    (void)state;
    const char *env[] = {"LANG=C", "LC_ALL=C", "NO_COLOR=1", NULL};
    Storm s = {NULL, 80, 24, 0, 0, 0};
    s.t = term_spawn_quantlab(NULL, env, s.cols, s.rows);
    assert_non_null(s.t);
    if (!term_wait_text(s.t, "1 Model", WAIT)) CHAOS_FAIL(s.t, "no first screen");
    for (int i = 0; i < 800; i++) {
        int what = rng_below(1000);
        if (what < 80) resize_random(&s);
        else if (what < 100) send_paste(&s);
        else if (what < 140) send_work(&s);
        else send_random_key(&s);
        if (i % 50 == 49) term_wait_idle(s.t, 5, 100);
    }
    if (!term_alive(s.t)) CHAOS_FAIL(s.t, "the explorer ended during the storm");
    term_send_key(s.t, TERM_KEY_CTRL_C);
    int status = term_wait_exit(s.t, WAIT);
    if (status != 0) CHAOS_FAIL(s.t, "exit status %d after Ctrl-C", status);
    TermModes m = term_modes(s.t);
    if (m.altscreen || !m.cursor_visible || m.mouse != 0)
        CHAOS_FAIL(s.t, "terminal not restored after Ctrl-C");
    if (term_output_has_non_ascii(s.t)) CHAOS_FAIL(s.t, "a byte >= 0x80 in LANG=C");
    term_close(s.t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tui_chaos_storm_then_still_answers),
        cmocka_unit_test(test_tui_chaos_ascii_storm_then_ctrl_c),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
