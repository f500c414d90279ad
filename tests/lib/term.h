/* term.h — end-to-end test harness: runs a real program in a pseudo-terminal,
 * types at it, and lets a test read what its screen shows.
 *
 * Called by the cmocka drivers in tests/e2e/. The program's output is fed to
 * libvterm, an xterm-compatible terminal emulator, so the "screen" is what a
 * person would see in xterm: cursor motion, colours, wide characters and the
 * alternate screen are all applied. Terminal queries the program sends (cursor
 * position, device attributes) are answered the way xterm answers them.
 *
 * Coordinates are 0-based, column first: (col, row), (0, 0) the top-left cell.
 *
 * Nothing here can hang a test run: every wait takes a timeout in milliseconds
 * and returns as soon as its condition holds, or as soon as the program has
 * exited and its last output has been read. Timeouts are multiplied by
 * QUANTLAB_E2E_TIMEOUT_SCALE (a number >= 1, default 1) for slow runs such as
 * valgrind; quiet periods are not.
 *
 * Caller bugs (NULL argv, a cell outside the screen, a size below 1x1) are
 * assert()s. A program that cannot be started makes term_spawn return NULL and
 * say why on stderr.
 */
#ifndef QL_TESTS_TERM_H
#define QL_TESTS_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct Term Term;

/* Keys, sent as xterm sends them. Cursor keys and Home/End follow the mode
 * the program set (DECCKM): ESC [ A normally, ESC O A once the program sent
 * ESC [ ? 1 h (ncurses does, through keypad()). */
typedef enum TermKey {
    TERM_KEY_UP,
    TERM_KEY_DOWN,
    TERM_KEY_LEFT,
    TERM_KEY_RIGHT,
    TERM_KEY_ENTER,     /* CR */
    TERM_KEY_ESC,       /* a lone ESC: ncurses waits ESCDELAY ms before reporting it */
    TERM_KEY_TAB,
    TERM_KEY_BACKTAB,   /* shift-Tab: ESC [ Z */
    TERM_KEY_BACKSPACE, /* DEL (0x7f), xterm's default and terminfo's kbs */
    TERM_KEY_INSERT,
    TERM_KEY_DELETE,
    TERM_KEY_HOME,
    TERM_KEY_END,
    TERM_KEY_PGUP,
    TERM_KEY_PGDN,
    TERM_KEY_F1,
    TERM_KEY_F2,
    TERM_KEY_F3,
    TERM_KEY_F4,
    TERM_KEY_F5,
    TERM_KEY_F6,
    TERM_KEY_F7,
    TERM_KEY_F8,
    TERM_KEY_F9,
    TERM_KEY_F10,
    TERM_KEY_F11,
    TERM_KEY_F12,
    TERM_KEY_CTRL_C, /* 0x03: SIGINT to the program unless it turned ISIG off (raw mode) */
    TERM_KEY_CTRL_D, /* 0x04 */
    TERM_KEY_CTRL_L, /* 0x0c: the usual "redraw" key */
    TERM_KEY_COUNT
} TermKey;

/* Mouse buttons as SGR (mode 1006) numbers them. */
enum {
    TERM_MOUSE_LEFT = 0,
    TERM_MOUSE_MIDDLE = 1,
    TERM_MOUSE_RIGHT = 2,
    TERM_MOUSE_WHEEL_UP = 64,
    TERM_MOUSE_WHEEL_DOWN = 65
};

/* term_wait_exit's answer when the program is still running at the timeout. */
enum { TERM_EXIT_TIMEOUT = -1000 };

/* Raw output kept for term_raw_contains / term_raw: at least the most recent
 * TERM_RAW_KEEP bytes, never more than twice that. */
enum { TERM_RAW_KEEP = 1 << 20 };

/* Cell attributes (TermCell.attrs). */
enum {
    TERM_ATTR_BOLD = 1 << 0,
    TERM_ATTR_UNDERLINE = 1 << 1,
    TERM_ATTR_ITALIC = 1 << 2,
    TERM_ATTR_BLINK = 1 << 3,
    TERM_ATTR_REVERSE = 1 << 4,
    TERM_ATTR_STRIKE = 1 << 5
};

/* Cell colours (TermCell.fg/bg): a palette index 0..255, the terminal's
 * default, or a direct (24-bit) colour. */
enum { TERM_COLOR_DEFAULT = -1 };
#define TERM_COLOR_RGB(r, g, b) (0x1000000 | ((r) << 16) | ((g) << 8) | (b))

typedef struct TermCell {
    char text[32]; /* UTF-8: the character and its combining marks; "" if never written
                      and for the right half of a wide character */
    int width;     /* 1; 2 for a wide character's left half, 0 for its right half */
    unsigned attrs; /* TERM_ATTR_* */
    int fg, bg;    /* palette index, TERM_COLOR_DEFAULT or TERM_COLOR_RGB(...) */
} TermCell;

/* Terminal modes the program has set, for "did it restore the terminal" checks. */
typedef struct TermModes {
    bool altscreen;      /* the alternate screen is shown (smcup ... rmcup) */
    bool cursor_visible; /* DECTCEM (civis/cnorm) */
    int mouse;           /* 0 none, 1 clicks, 2 drags, 3 all motion (?1000/?1002/?1003) */
} TermModes;

/* Starts argv[0] (a path, or a name looked up in PATH) with argv in a new
 * pseudo-terminal of cols x rows, as the leader of a new session whose
 * controlling terminal it is. The window size is set before the program runs.
 *
 * Environment: the test's own, minus variables that would make a run depend
 * on who runs it (TERM, LANG, LANGUAGE, LC_*, LINES, COLUMNS, NO_COLOR,
 * COLORTERM, ESCDELAY, NCURSES_*), plus TERM=xterm-256color and LANG=C.UTF-8,
 * then `env` (NULL or a NULL-terminated list): "NAME=value" sets or overrides,
 * a bare "NAME" removes. The strings are copied by the kernel at exec; the
 * caller keeps ownership.
 *
 * Returns a Term to be released with term_close, or NULL (having said why on
 * stderr) if no pty could be made or the program could not be executed. */
Term *term_spawn(const char *const *argv, const char *const *env, int cols, int rows);

/* term_spawn for the program under test: argv[0] is $QUANTLAB_BIN (default
 * ./quantlab; a bare name is taken as ./name, never looked up in PATH, so an
 * installed quantlab is not tested by mistake), then `args` (NULL-terminated,
 * may be NULL). QUANTLAB_DATA and the rest pass through as for term_spawn. */
Term *term_spawn_quantlab(const char *const *args, const char *const *env, int cols, int rows);

/* Kills the program if still running (SIGTERM to its process group, then
 * SIGKILL after 500 ms), reaps it, closes the pty and frees everything.
 * Accepts NULL. */
void term_close(Term *t);

/* Typing. Bytes go to the program's terminal as if typed: the line discipline
 * applies (ECHO, ICRNL, ^C -> SIGINT) unless the program turned it off. Output
 * is read meanwhile, so a program that is busy writing cannot deadlock us;
 * bytes a dead program can no longer receive are dropped. */
void term_send(Term *t, const char *bytes, size_t n);
void term_send_str(Term *t, const char *s);
void term_send_key(Term *t, TermKey key);
/* A mouse event at cell (col, row) in SGR encoding: ESC [ < b ; col+1 ; row+1 M
 * for a press, ... m for a release. Sent whether or not the program turned
 * mouse reporting on (see term_modes). Wheel buttons have presses only. */
void term_send_mouse(Term *t, int button, int col, int row, bool press);
/* Sends signal sig to the program (not its whole group). Returns 0, or -1 if
 * it has already been reaped. */
int term_send_signal(Term *t, int sig);

/* Changes the window size as a terminal emulator does: output already sent
 * is read at the old size, the emulated screen is resized, then TIOCSWINSZ on
 * the pty, upon which the kernel sends SIGWINCH to the terminal's foreground
 * process group (only if the size really changed, as with any terminal).
 * cols and rows >= 1; may be called any number of times. */
void term_resize(Term *t, int cols, int rows);

/* Waiting. Each reads output as it comes and returns as soon as its
 * condition holds; if the program exits first, they read what it left and
 * return promptly instead of sitting out the timeout. */

/* Until the screen shows needle (within one row; UTF-8). */
bool term_wait_text(Term *t, const char *needle, int timeout_ms);
/* Until row `row` reads exactly `text` (trailing spaces trimmed, as
 * term_row_text gives it). A row beyond a later resize never matches. */
bool term_wait_row(Term *t, int row, const char *text, int timeout_ms);
/* Until row `row` no longer reads `old` (compared as term_wait_row compares),
 * e.g. to time how long a key takes to change what a row shows. */
bool term_wait_row_change(Term *t, int row, const char *old, int timeout_ms);
/* Until needle is gone from the screen. */
bool term_wait_text_gone(Term *t, const char *needle, int timeout_ms);
/* Until no output has arrived for quiet_ms (true at once after exit). */
bool term_wait_idle(Term *t, int quiet_ms, int timeout_ms);
/* Until the program exits: its exit status 0..255, or -N if signal N killed
 * it, or TERM_EXIT_TIMEOUT. A timeout leaves it running (term_close kills it),
 * so a test can also check that a key did NOT end the program. */
int term_wait_exit(Term *t, int timeout_ms);
/* False once the program has exited (reaps it if so); does not wait. */
bool term_alive(Term *t);
/* Its process id, for tests that must look at it from outside. */
int term_pid(const Term *t);

/* Reading the screen: what has been read so far (a wait or term_pump brings
 * it up to date). Strings are malloc'd, UTF-8, owned by the caller. */

/* Reads whatever output is waiting, without waiting for more. */
void term_pump(Term *t);
void term_size(const Term *t, int *cols, int *rows);
/* Every row, trailing spaces trimmed, joined with '\n' (no final '\n'). */
char *term_screen_text(Term *t);
/* One row, trailing spaces trimmed. */
char *term_row_text(Term *t, int row);
/* Number of (non-overlapping) occurrences of needle on the screen, each
 * within a row; the first (topmost, then leftmost) one's cell is stored in
 * *col and *row when found (either may be NULL). Wide characters count 2
 * columns. */
int term_find_text(Term *t, const char *needle, int *col, int *row);
void term_cell(Term *t, int col, int row, TermCell *cell);
/* The cell's foreground or background is not the terminal's default. */
bool term_cell_has_color(Term *t, int col, int row);
bool term_screen_has_color(Term *t);
void term_cursor(Term *t, int *col, int *row);
TermModes term_modes(const Term *t);

/* The raw output stream. */

/* Any byte >= 0x80 in the output since spawn (a program in LANG=C must send
 * none). Not limited to the kept window. */
bool term_output_has_non_ascii(const Term *t);
/* The kept output (see TERM_RAW_KEEP) contains seq (e.g. "\x1b[?1049l"). */
bool term_raw_contains(const Term *t, const char *seq);
/* The kept bytes (not NUL-terminated; valid until the next read) and their
 * count; *total gets the count of all bytes ever read (either may be NULL). */
const char *term_raw(const Term *t, size_t *len, size_t *total);

/* Debugging: the screen framed with row numbers, the size, cursor, modes and
 * whether the program is running or how it ended. */
void term_dump(Term *t, FILE *fp);
/* The last max_bytes of raw output, control bytes escaped (\e, \r, \n...). */
void term_dump_raw(const Term *t, FILE *fp, size_t max_bytes);

/* cmocka helpers (need <cmocka.h> where they are used): fail the test with
 * the screen dumped to stderr. */
#define assert_screen_text(t, needle, timeout_ms)                                  \
    do {                                                                           \
        if (!term_wait_text((t), (needle), (timeout_ms))) {                        \
            term_dump((t), stderr);                                                \
            fail_msg("screen never showed \"%s\" within %d ms", (needle),          \
                     (int)(timeout_ms));                                           \
        }                                                                          \
    } while (0)

#define assert_exit_status(t, expected, timeout_ms)                                \
    do {                                                                           \
        int assert_exit_got_ = term_wait_exit((t), (timeout_ms));                  \
        if (assert_exit_got_ != (expected)) {                                      \
            term_dump((t), stderr);                                                \
            fail_msg("exit status %d, expected %d", assert_exit_got_, (int)(expected)); \
        }                                                                          \
    } while (0)

#endif
