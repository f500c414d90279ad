/* term.c — see term.h. A pty master (non-blocking, poll()ed) on one side, the
 * program under test on the other, libvterm in between as the screen.
 *
 * Sections follow the data: the environment and starting the program; bytes
 * to the program (typing, and libvterm's answers to queries); bytes from the
 * program (the pump: into libvterm and a bounded raw log); waiting; reading
 * the screen; ending the program; debugging output.
 */

/* forkpty, TIOCSWINSZ and struct winsize are BSD interfaces: glibc hides them
 * under the strict -D_XOPEN_SOURCE=700 the build uses unless asked. (macOS
 * gets _DARWIN_C_SOURCE from the Makefile.) */
#if !defined(__APPLE__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE
#endif

#include "lib/term.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <util.h>
#else
#include <pty.h>
#endif

#include <vterm.h>

extern char **environ;

enum {
    TERM_SLICE_MS = 20,         /* longest sleep between checks that the program lives */
    TERM_DRAIN_MS = 250,        /* after exit, how long to wait for a straggler's output */
    TERM_SEND_MS = 2000,        /* how long typing may wait for the program to read */
    TERM_SPAWN_MS = 5000,       /* how long exec may take to succeed or fail */
    TERM_TERM_GRACE_MS = 500,   /* SIGTERM -> SIGKILL in term_close */
    TERM_READ_CHUNK = 1 << 14,
    TERM_READ_MAX = 1 << 18,    /* per pump, bytes and ...           */
    TERM_READ_MAX_MS = 10       /* ... time: a program that never stops writing
                                   must not keep a wait past its deadline */
};

struct Term {
    pid_t pid;
    int fd;         /* pty master, O_NONBLOCK */
    int cols, rows;
    VTerm *vt;
    VTermScreen *screen; /* owned by vt */

    bool eof;       /* the master read EIO/0: no process has the slave open */
    bool reaped;
    int status;     /* once reaped: exit status, or -signal */

    char *raw;      /* (raw_len) the most recent output, at most 2*TERM_RAW_KEEP */
    size_t raw_len, raw_cap;
    size_t raw_total;
    bool non_ascii;
    long long last_output_ms;
    unsigned long generation; /* bumped on every read and resize: "the screen may have changed" */

    char *out;      /* (out_len) bytes for the program not yet written */
    size_t out_len, out_cap;

    TermModes modes;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static void *term_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "term: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static long long term_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Timeouts stretched by QUANTLAB_E2E_TIMEOUT_SCALE for slow runs. */
static long long term_scaled_ms(int ms) {
    const char *s = getenv("QUANTLAB_E2E_TIMEOUT_SCALE");
    double k = s ? strtod(s, NULL) : 1.0;
    if (!(k >= 1.0)) k = 1.0;
    if (k > 100.0) k = 100.0;
    return (long long)(ms < 0 ? 0 : ms) * (long long)(k * 1000) / 1000;
}

/* Appends n bytes to the growable array *buf of *len bytes in *cap, with a
 * NUL after them. */
static void term_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1) c *= 2;
        *buf = term_xrealloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* A growable string for building screen text. */
typedef struct {
    char *s;
    size_t len, cap;
} TermBuf;

static void term_buf_add(TermBuf *b, const char *p, size_t n) {
    term_append(&b->s, &b->len, &b->cap, p, n);
}

static size_t term_utf8_put(uint32_t cp, char out[4]) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* memmem is not in POSIX. */
static const char *term_memfind(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0) return hay;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Environment and starting the program                                     */
/* ------------------------------------------------------------------------ */

/* Inherited variables that would make a run depend on who runs it. */
static bool term_env_dropped(const char *entry) {
    static const char *const exact[] = {"TERM", "LANG", "LANGUAGE", "LINES", "COLUMNS",
                                        "NO_COLOR", "COLORTERM", "ESCDELAY"};
    static const char *const prefix[] = {"LC_", "NCURSES_"};
    size_t n = strcspn(entry, "=");
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strlen(exact[i]) == n && memcmp(entry, exact[i], n) == 0) return true;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
        if (strncmp(entry, prefix[i], strlen(prefix[i])) == 0) return true;
    return false;
}

/* Does the caller's list name the variable of `entry` ("NAME=..." or "NAME")? */
static bool term_env_named(const char *const *env, const char *entry) {
    size_t n = strcspn(entry, "=");
    for (size_t i = 0; env && env[i]; i++)
        if (strcspn(env[i], "=") == n && memcmp(env[i], entry, n) == 0) return true;
    return false;
}

/* The child's environment as an array of borrowed pointers (see term_spawn).
 * Caller frees the array, not the strings. */
static char **term_env_build(const char *const *env) {
    static const char *const defaults[] = {"TERM=xterm-256color", "LANG=C.UTF-8"};
    size_t n = 0, k = 0;
    for (char **e = environ; e && *e; e++) n++;
    for (size_t i = 0; env && env[i]; i++) n++;
    char **out = term_xrealloc(NULL, (n + 3) * sizeof *out);
    for (char **e = environ; e && *e; e++)
        if (!term_env_dropped(*e) && !term_env_named(env, *e)) out[k++] = *e;
    for (size_t i = 0; env && env[i]; i++)
        if (strchr(env[i], '=')) out[k++] = (char *)env[i];
    for (size_t i = 0; i < 2; i++)
        if (!term_env_named(env, defaults[i])) out[k++] = (char *)defaults[i];
    out[k] = NULL;
    return out;
}

/* In the child, before exec: every descriptor but 0-2 is closed at exec
 * (other Terms' masters, the test's files). /dev/fd lists the open ones on
 * Linux and macOS; otherwise walk a bounded range. */
static void term_child_cloexec_all(void) {
    DIR *d = opendir("/dev/fd");
    if (d) {
        int self = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            int fd = atoi(de->d_name);
            if (fd > 2 && fd != self) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        closedir(d);
        return;
    }
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = 3; fd < max; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child: signals as a fresh login would have them, whatever the test
 * runner ignored or blocked (an ignored SIGINT would survive exec). */
static void term_child_reset_signals(void) {
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGALRM, SIGCHLD,
                               SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void term_on_output(const char *s, size_t len, void *user);
static int term_on_termprop(VTermProp prop, VTermValue *val, void *user);

static const VTermScreenCallbacks term_screen_callbacks = {
    .settermprop = term_on_termprop,
};

static bool term_set_flags(int fd, bool nonblock) {
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0) return false;
    if (nonblock && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return false;
    return fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}

/* Waits (bounded) for the exec report: EOF means exec succeeded (the pipe is
 * close-on-exec), an int is the errno of a failed exec. */
static int term_spawn_exec_errno(int rfd) {
    long long deadline = term_now_ms() + term_scaled_ms(TERM_SPAWN_MS);
    int err = 0;
    size_t got = 0;
    for (;;) {
        long long left = deadline - term_now_ms();
        if (left <= 0) return ETIMEDOUT;
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r == 0 ? ETIMEDOUT : errno;
        ssize_t n = read(rfd, (char *)&err + got, sizeof err - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return got == sizeof err ? err : 0;
        got += (size_t)n;
        if (got == sizeof err) return err;
    }
}

Term *term_spawn(const char *const *argv, const char *const *env, int cols, int rows) {
    assert(argv && argv[0]);
    assert(cols >= 1 && rows >= 1 && cols <= 0xFFFF && rows <= 0xFFFF);

    int report[2];
    if (pipe(report) != 0 || !term_set_flags(report[0], false) ||
        !term_set_flags(report[1], false)) {
        fprintf(stderr, "term_spawn: pipe: %s\n", strerror(errno));
        return NULL;
    }
    char **envp = term_env_build(env);
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    int fd = -1;
    pid_t pid = forkpty(&fd, NULL, NULL, &ws);
    if (pid == 0) {
        /* The child: stdin/out/err are the pty slave, we lead a new session. */
        term_child_reset_signals();
        term_child_cloexec_all();
        environ = envp;
        execvp(argv[0], (char *const *)argv);
        int err = errno;
        ssize_t w = write(report[1], &err, sizeof err);
        (void)w;
        _exit(127);
    }
    int fork_errno = errno;
    free(envp);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        fprintf(stderr, "term_spawn: forkpty: %s\n", strerror(fork_errno));
        return NULL;
    }
    int exec_errno = term_spawn_exec_errno(report[0]);
    close(report[0]);
    if (exec_errno != 0 || !term_set_flags(fd, true)) {
        if (exec_errno == 0) exec_errno = errno;
        fprintf(stderr, "term_spawn: cannot run '%s': %s\n", argv[0], strerror(exec_errno));
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        close(fd);
        return NULL;
    }

    Term *t = term_xrealloc(NULL, sizeof *t);
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->fd = fd;
    t->cols = cols;
    t->rows = rows;
    t->last_output_ms = term_now_ms();
    t->modes.cursor_visible = true;
    t->vt = vterm_new(rows, cols);
    if (!t->vt) {
        fprintf(stderr, "term_spawn: vterm_new failed\n");
        abort();
    }
    vterm_set_utf8(t->vt, 1);
    vterm_output_set_callback(t->vt, term_on_output, t);
    t->screen = vterm_obtain_screen(t->vt);
    vterm_screen_set_callbacks(t->screen, &term_screen_callbacks, t);
    vterm_screen_enable_altscreen(t->screen, 1);
    vterm_screen_reset(t->screen, 1);
    return t;
}

Term *term_spawn_quantlab(const char *const *args, const char *const *env, int cols, int rows) {
    const char *bin = getenv("QUANTLAB_BIN");
    if (!bin || !bin[0]) bin = "./quantlab";
    size_t n = 0;
    while (args && args[n]) n++;
    char *path = term_xrealloc(NULL, strlen(bin) + 3);
    snprintf(path, strlen(bin) + 3, "%s%s", strchr(bin, '/') ? "" : "./", bin);
    const char **argv = term_xrealloc(NULL, (n + 2) * sizeof *argv);
    argv[0] = path;
    for (size_t i = 0; i < n; i++) argv[i + 1] = args[i];
    argv[n + 1] = NULL;
    Term *t = term_spawn(argv, env, cols, rows);
    free(argv);
    free(path);
    return t;
}

int term_pid(const Term *t) {
    assert(t);
    return (int)t->pid;
}

void term_size(const Term *t, int *cols, int *rows) {
    assert(t);
    if (cols) *cols = t->cols;
    if (rows) *rows = t->rows;
}

/* ------------------------------------------------------------------------ */
/* Bytes to the program                                                     */
/* ------------------------------------------------------------------------ */

/* Writes what the pty takes now; keeps the rest queued. */
static void term_flush_some(Term *t) {
    while (t->out_len > 0) {
        if (t->eof) {
            t->out_len = 0; /* nobody left to read it */
            return;
        }
        ssize_t n = write(t->fd, t->out, t->out_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            t->out_len = 0; /* EIO: the slave side is gone */
            return;
        }
        memmove(t->out, t->out + n, t->out_len - (size_t)n);
        t->out_len -= (size_t)n;
    }
}

static void term_queue(Term *t, const char *bytes, size_t n) {
    term_append(&t->out, &t->out_len, &t->out_cap, bytes, n);
    term_flush_some(t);
}

/* libvterm's replies to queries (cursor position, device attributes) and the
 * keys it encodes go to the program like typed bytes. */
static void term_on_output(const char *s, size_t len, void *user) {
    term_queue(user, s, len);
}

static bool term_pump_wait(Term *t, int wait_ms);
static void term_reap(Term *t, bool block);

/* Queues bytes and waits (bounded) until the pty has taken them, reading
 * output meanwhile: a program blocked on a full output buffer cannot read
 * its input until we read its output. */
static void term_send_flush(Term *t) {
    long long deadline = term_now_ms() + term_scaled_ms(TERM_SEND_MS);
    while (t->out_len > 0 && !t->eof) {
        long long left = deadline - term_now_ms();
        if (left <= 0) return; /* still queued: later pumps keep trying */
        term_pump_wait(t, left < TERM_SLICE_MS ? (int)left : TERM_SLICE_MS);
        term_reap(t, false);
        if (t->reaped && t->out_len > 0) {
            term_pump_wait(t, 0);
            if (t->out_len > 0 && !t->eof) return;
        }
    }
}

void term_send(Term *t, const char *bytes, size_t n) {
    assert(t && (bytes || n == 0));
    if (n == 0) return;
    term_queue(t, bytes, n);
    term_send_flush(t);
}

void term_send_str(Term *t, const char *s) {
    assert(s);
    term_send(t, s, strlen(s));
}

/* One table: each key is a libvterm key, or a character with modifiers, so
 * libvterm encodes it as xterm would in the current modes (DECCKM, DECKPAM). */
static const struct {
    VTermKey key;   /* VTERM_KEY_NONE: send `ch` with `mod` instead */
    uint32_t ch;
    VTermModifier mod;
} term_keys[TERM_KEY_COUNT] = {
    [TERM_KEY_UP] = {VTERM_KEY_UP, 0, VTERM_MOD_NONE},
    [TERM_KEY_DOWN] = {VTERM_KEY_DOWN, 0, VTERM_MOD_NONE},
    [TERM_KEY_LEFT] = {VTERM_KEY_LEFT, 0, VTERM_MOD_NONE},
    [TERM_KEY_RIGHT] = {VTERM_KEY_RIGHT, 0, VTERM_MOD_NONE},
    [TERM_KEY_ENTER] = {VTERM_KEY_ENTER, 0, VTERM_MOD_NONE},
    [TERM_KEY_ESC] = {VTERM_KEY_ESCAPE, 0, VTERM_MOD_NONE},
    [TERM_KEY_TAB] = {VTERM_KEY_TAB, 0, VTERM_MOD_NONE},
    [TERM_KEY_BACKTAB] = {VTERM_KEY_TAB, 0, VTERM_MOD_SHIFT},
    [TERM_KEY_BACKSPACE] = {VTERM_KEY_BACKSPACE, 0, VTERM_MOD_NONE},
    [TERM_KEY_INSERT] = {VTERM_KEY_INS, 0, VTERM_MOD_NONE},
    [TERM_KEY_DELETE] = {VTERM_KEY_DEL, 0, VTERM_MOD_NONE},
    [TERM_KEY_HOME] = {VTERM_KEY_HOME, 0, VTERM_MOD_NONE},
    [TERM_KEY_END] = {VTERM_KEY_END, 0, VTERM_MOD_NONE},
    [TERM_KEY_PGUP] = {VTERM_KEY_PAGEUP, 0, VTERM_MOD_NONE},
    [TERM_KEY_PGDN] = {VTERM_KEY_PAGEDOWN, 0, VTERM_MOD_NONE},
    [TERM_KEY_F1] = {VTERM_KEY_FUNCTION(1), 0, VTERM_MOD_NONE},
    [TERM_KEY_F2] = {VTERM_KEY_FUNCTION(2), 0, VTERM_MOD_NONE},
    [TERM_KEY_F3] = {VTERM_KEY_FUNCTION(3), 0, VTERM_MOD_NONE},
    [TERM_KEY_F4] = {VTERM_KEY_FUNCTION(4), 0, VTERM_MOD_NONE},
    [TERM_KEY_F5] = {VTERM_KEY_FUNCTION(5), 0, VTERM_MOD_NONE},
    [TERM_KEY_F6] = {VTERM_KEY_FUNCTION(6), 0, VTERM_MOD_NONE},
    [TERM_KEY_F7] = {VTERM_KEY_FUNCTION(7), 0, VTERM_MOD_NONE},
    [TERM_KEY_F8] = {VTERM_KEY_FUNCTION(8), 0, VTERM_MOD_NONE},
    [TERM_KEY_F9] = {VTERM_KEY_FUNCTION(9), 0, VTERM_MOD_NONE},
    [TERM_KEY_F10] = {VTERM_KEY_FUNCTION(10), 0, VTERM_MOD_NONE},
    [TERM_KEY_F11] = {VTERM_KEY_FUNCTION(11), 0, VTERM_MOD_NONE},
    [TERM_KEY_F12] = {VTERM_KEY_FUNCTION(12), 0, VTERM_MOD_NONE},
    [TERM_KEY_CTRL_C] = {VTERM_KEY_NONE, 'c', VTERM_MOD_CTRL},
    [TERM_KEY_CTRL_D] = {VTERM_KEY_NONE, 'd', VTERM_MOD_CTRL},
    [TERM_KEY_CTRL_L] = {VTERM_KEY_NONE, 'l', VTERM_MOD_CTRL},
};

void term_send_key(Term *t, TermKey key) {
    assert(t && (int)key >= 0 && key < TERM_KEY_COUNT);
    /* libvterm calls term_on_output with the encoded bytes. */
    if (term_keys[key].key != VTERM_KEY_NONE)
        vterm_keyboard_key(t->vt, term_keys[key].key, term_keys[key].mod);
    else
        vterm_keyboard_unichar(t->vt, term_keys[key].ch, term_keys[key].mod);
    term_send_flush(t);
}

void term_send_mouse(Term *t, int button, int col, int row, bool press) {
    assert(t && button >= 0 && col >= 0 && row >= 0);
    char seq[64];
    int n = snprintf(seq, sizeof seq, "\x1b[<%d;%d;%d%c", button, col + 1, row + 1,
                     press ? 'M' : 'm');
    assert(n > 0 && (size_t)n < sizeof seq);
    term_send(t, seq, (size_t)n);
}

int term_send_signal(Term *t, int sig) {
    assert(t);
    term_reap(t, false);
    if (t->reaped) return -1;
    return kill(t->pid, sig) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Bytes from the program                                                   */
/* ------------------------------------------------------------------------ */

static void term_raw_append(Term *t, const char *buf, size_t n) {
    for (size_t i = 0; i < n && !t->non_ascii; i++)
        if ((unsigned char)buf[i] >= 0x80) t->non_ascii = true;
    t->raw_total += n;
    if (n >= TERM_RAW_KEEP) {
        buf += n - TERM_RAW_KEEP;
        n = TERM_RAW_KEEP;
        t->raw_len = 0;
    }
    /* Keep at most 2*KEEP, sliding the newest KEEP down when full: each byte
     * is moved at most once per KEEP bytes read. */
    if (t->raw_len + n > 2 * (size_t)TERM_RAW_KEEP) {
        size_t keep = TERM_RAW_KEEP - n;
        memmove(t->raw, t->raw + t->raw_len - keep, keep);
        t->raw_len = keep;
    }
    term_append(&t->raw, &t->raw_len, &t->raw_cap, buf, n);
}

/* Reads what is available now (up to TERM_READ_MAX bytes or TERM_READ_MAX_MS)
 * into libvterm and the raw log. Returns whether anything was read. */
static bool term_read_available(Term *t) {
    char buf[TERM_READ_CHUNK];
    bool got = false;
    long long until = term_now_ms() + TERM_READ_MAX_MS;
    for (size_t total = 0; !t->eof && total < TERM_READ_MAX && term_now_ms() < until;) {
        ssize_t n = read(t->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            /* EIO (Linux) or 0 (BSD): every slave descriptor is closed and
             * all that was written has been read. */
            t->eof = true;
            t->out_len = 0;
            break;
        }
        vterm_input_write(t->vt, buf, (size_t)n);
        term_raw_append(t, buf, (size_t)n);
        total += (size_t)n;
        got = true;
    }
    if (got) {
        t->last_output_ms = term_now_ms();
        t->generation++;
    }
    return got;
}

/* Waits up to wait_ms for output (or for room to write queued input), then
 * reads all there is. Returns whether output was read. */
static bool term_pump_wait(Term *t, int wait_ms) {
    if (t->eof) {
        if (wait_ms > 0) poll(NULL, 0, wait_ms);
        return false;
    }
    struct pollfd p = {.fd = t->fd, .events = POLLIN};
    if (t->out_len > 0) p.events |= POLLOUT;
    int r = poll(&p, 1, wait_ms < 0 ? 0 : wait_ms);
    bool got = false;
    if (r > 0) {
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) got = term_read_available(t);
        if (p.revents & POLLNVAL) t->eof = true;
    }
    term_flush_some(t);
    return got;
}

void term_pump(Term *t) {
    assert(t);
    term_pump_wait(t, 0);
}

static void term_reap(Term *t, bool block) {
    if (t->reaped) return;
    int st;
    pid_t r;
    do r = waitpid(t->pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r != t->pid) return;
    t->reaped = true;
    if (WIFEXITED(st))
        t->status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        t->status = -WTERMSIG(st);
    else
        t->status = -1;
}

/* libvterm reports mode changes here; the screen layer has applied them. */
static int term_on_termprop(VTermProp prop, VTermValue *val, void *user) {
    Term *t = user;
    switch (prop) {
    case VTERM_PROP_ALTSCREEN: t->modes.altscreen = val->boolean != 0; break;
    case VTERM_PROP_CURSORVISIBLE: t->modes.cursor_visible = val->boolean != 0; break;
    case VTERM_PROP_MOUSE: t->modes.mouse = val->number; break;
    default: break;
    }
    return 1; /* accepted: libvterm stores the new value */
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */
/* ------------------------------------------------------------------------ */

/* After the program is reaped: its last output may still be in flight (or
 * held open by a child it left behind), so read until EOF, briefly. */
static void term_drain(Term *t) {
    long long deadline = term_now_ms() + TERM_DRAIN_MS;
    while (!t->eof) {
        long long left = deadline - term_now_ms();
        if (left <= 0) break;
        term_pump_wait(t, left < TERM_SLICE_MS ? (int)left : TERM_SLICE_MS);
    }
}

typedef bool (*TermCond)(Term *t, const void *arg);

/* The one wait loop: read first, then test, so that output that piled up
 * while we were not scheduled counts before any verdict. */
static bool term_wait_for(Term *t, TermCond cond, const void *arg, int timeout_ms) {
    assert(t);
    long long deadline = term_now_ms() + term_scaled_ms(timeout_ms);
    unsigned long seen = t->generation - 1; /* test at least once */
    for (;;) {
        term_pump_wait(t, 0);
        term_reap(t, false);
        if (t->reaped) term_drain(t);
        if (seen != t->generation || t->reaped) {
            seen = t->generation;
            if (cond(t, arg)) return true;
        }
        if (t->reaped) return false; /* nothing will change any more */
        long long left = deadline - term_now_ms();
        if (left <= 0) return false;
        term_pump_wait(t, left < TERM_SLICE_MS ? (int)left : TERM_SLICE_MS);
    }
}

static bool term_cond_text(Term *t, const void *needle) {
    return term_find_text(t, needle, NULL, NULL) > 0;
}

static bool term_cond_no_text(Term *t, const void *needle) {
    return term_find_text(t, needle, NULL, NULL) == 0;
}

bool term_wait_text(Term *t, const char *needle, int timeout_ms) {
    assert(needle && needle[0]);
    return term_wait_for(t, term_cond_text, needle, timeout_ms);
}

typedef struct {
    int row;
    const char *text;
} TermRowWant;

static bool term_cond_row(Term *t, const void *arg) {
    const TermRowWant *want = arg;
    if (want->row >= t->rows) return false;
    char *s = term_row_text(t, want->row);
    bool same = strcmp(s, want->text) == 0;
    free(s);
    return same;
}

bool term_wait_row(Term *t, int row, const char *text, int timeout_ms) {
    assert(row >= 0 && text);
    TermRowWant want = {row, text};
    return term_wait_for(t, term_cond_row, &want, timeout_ms);
}

static bool term_cond_row_changed(Term *t, const void *arg) {
    const TermRowWant *old = arg;
    if (old->row >= t->rows) return false;
    char *s = term_row_text(t, old->row);
    bool changed = strcmp(s, old->text) != 0;
    free(s);
    return changed;
}

bool term_wait_row_change(Term *t, int row, const char *old, int timeout_ms) {
    assert(row >= 0 && old);
    TermRowWant was = {row, old};
    return term_wait_for(t, term_cond_row_changed, &was, timeout_ms);
}

bool term_wait_text_gone(Term *t, const char *needle, int timeout_ms) {
    assert(needle && needle[0]);
    return term_wait_for(t, term_cond_no_text, needle, timeout_ms);
}

bool term_wait_idle(Term *t, int quiet_ms, int timeout_ms) {
    assert(t && quiet_ms >= 0);
    long long start = term_now_ms();
    long long deadline = start + term_scaled_ms(timeout_ms);
    for (;;) {
        term_pump_wait(t, 0);
        term_reap(t, false);
        if (t->reaped) {
            term_drain(t);
            if (t->eof) return true;
        }
        long long now = term_now_ms();
        long long since = t->last_output_ms > start ? t->last_output_ms : start;
        if (now - since >= quiet_ms) return true;
        if (now >= deadline) return false;
        long long left = deadline - now;
        long long quiet_left = quiet_ms - (now - since);
        if (quiet_left < left) left = quiet_left;
        term_pump_wait(t, left < TERM_SLICE_MS ? (int)left : TERM_SLICE_MS);
    }
}

static bool term_cond_reaped(Term *t, const void *arg) {
    (void)arg;
    return t->reaped;
}

int term_wait_exit(Term *t, int timeout_ms) {
    assert(t);
    if (!term_wait_for(t, term_cond_reaped, NULL, timeout_ms)) return TERM_EXIT_TIMEOUT;
    return t->status;
}

bool term_alive(Term *t) {
    assert(t);
    term_reap(t, false);
    return !t->reaped;
}

/* ------------------------------------------------------------------------ */
/* Reading the screen                                                       */
/* ------------------------------------------------------------------------ */

static void term_get_cell(Term *t, int col, int row, VTermScreenCell *c) {
    assert(col >= 0 && col < t->cols && row >= 0 && row < t->rows);
    VTermPos pos = {.row = row, .col = col};
    if (!vterm_screen_get_cell(t->screen, pos, c)) memset(c, 0, sizeof *c);
}

/* Appends the cell's characters as UTF-8 (nothing for an empty cell or the
 * right half of a wide character). */
static size_t term_cell_utf8(const VTermScreenCell *c, char *out, size_t cap) {
    size_t n = 0;
    for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && c->chars[i] != 0; i++) {
        if (c->chars[i] == (uint32_t)-1) break; /* right half of a wide char */
        char u[4];
        size_t k = term_utf8_put(c->chars[i], u);
        if (n + k > cap) break;
        memcpy(out + n, u, k);
        n += k;
    }
    return n;
}

/* Appends row `row` to b, trailing spaces trimmed. If colmap is not NULL it
 * must hold 4 * VTERM_MAX_CHARS_PER_CELL * cols ints; colmap[i] gets the
 * column of the i-th byte appended. */
static void term_row_append(Term *t, int row, TermBuf *b, int *colmap) {
    size_t start = b->len, keep = b->len;
    for (int col = 0; col < t->cols;) {
        VTermScreenCell c;
        term_get_cell(t, col, row, &c);
        char u[4 * VTERM_MAX_CHARS_PER_CELL];
        size_t n = term_cell_utf8(&c, u, sizeof u);
        if (n == 0) {
            u[0] = ' ';
            n = 1;
        }
        if (colmap)
            for (size_t i = 0; i < n; i++) colmap[b->len - start + i] = col;
        term_buf_add(b, u, n);
        if (!(n == 1 && u[0] == ' ')) keep = b->len;
        col += c.width >= 1 ? c.width : 1;
    }
    b->len = keep;
    if (b->s) b->s[b->len] = '\0';
}

char *term_screen_text(Term *t) {
    assert(t);
    TermBuf b = {0};
    term_buf_add(&b, "", 0);
    for (int row = 0; row < t->rows; row++) {
        if (row > 0) term_buf_add(&b, "\n", 1);
        term_row_append(t, row, &b, NULL);
    }
    return b.s;
}

char *term_row_text(Term *t, int row) {
    assert(t && row >= 0 && row < t->rows);
    TermBuf b = {0};
    term_buf_add(&b, "", 0);
    term_row_append(t, row, &b, NULL);
    return b.s;
}

int term_find_text(Term *t, const char *needle, int *col, int *row) {
    assert(t && needle && needle[0]);
    size_t m = strlen(needle);
    int *colmap = term_xrealloc(NULL, sizeof(int) * 4 * VTERM_MAX_CHARS_PER_CELL *
                                          (size_t)t->cols);
    TermBuf b = {0};
    int count = 0;
    for (int r = 0; r < t->rows; r++) {
        b.len = 0;
        term_buf_add(&b, "", 0);
        term_row_append(t, r, &b, colmap);
        for (const char *p = b.s; (p = strstr(p, needle)) != NULL; p += m) {
            if (count++ == 0) {
                if (col) *col = colmap[p - b.s];
                if (row) *row = r;
            }
        }
    }
    free(b.s);
    free(colmap);
    return count;
}

static int term_color_code(const VTermColor *c, bool fg) {
    if (fg ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
        return TERM_COLOR_DEFAULT;
    if (VTERM_COLOR_IS_INDEXED(c)) return c->indexed.idx;
    return TERM_COLOR_RGB(c->rgb.red, c->rgb.green, c->rgb.blue);
}

void term_cell(Term *t, int col, int row, TermCell *cell) {
    assert(t && cell);
    VTermScreenCell c;
    term_get_cell(t, col, row, &c);
    memset(cell, 0, sizeof *cell);
    term_cell_utf8(&c, cell->text, sizeof cell->text - 1);
    cell->width = c.chars[0] == (uint32_t)-1 ? 0 : c.width;
    cell->attrs = (c.attrs.bold ? TERM_ATTR_BOLD : 0u) |
                  (c.attrs.underline ? TERM_ATTR_UNDERLINE : 0u) |
                  (c.attrs.italic ? TERM_ATTR_ITALIC : 0u) |
                  (c.attrs.blink ? TERM_ATTR_BLINK : 0u) |
                  (c.attrs.reverse ? TERM_ATTR_REVERSE : 0u) |
                  (c.attrs.strike ? TERM_ATTR_STRIKE : 0u);
    cell->fg = term_color_code(&c.fg, true);
    cell->bg = term_color_code(&c.bg, false);
}

bool term_cell_has_color(Term *t, int col, int row) {
    TermCell c;
    term_cell(t, col, row, &c);
    return c.fg != TERM_COLOR_DEFAULT || c.bg != TERM_COLOR_DEFAULT;
}

bool term_screen_has_color(Term *t) {
    assert(t);
    for (int row = 0; row < t->rows; row++)
        for (int col = 0; col < t->cols; col++)
            if (term_cell_has_color(t, col, row)) return true;
    return false;
}

void term_cursor(Term *t, int *col, int *row) {
    assert(t);
    VTermPos pos;
    vterm_state_get_cursorpos(vterm_obtain_state(t->vt), &pos);
    if (col) *col = pos.col;
    if (row) *row = pos.row;
}

TermModes term_modes(const Term *t) {
    assert(t);
    return t->modes;
}

bool term_output_has_non_ascii(const Term *t) {
    assert(t);
    return t->non_ascii;
}

bool term_raw_contains(const Term *t, const char *seq) {
    assert(t && seq);
    return term_memfind(t->raw, t->raw_len, seq, strlen(seq)) != NULL;
}

const char *term_raw(const Term *t, size_t *len, size_t *total) {
    assert(t);
    if (len) *len = t->raw_len;
    if (total) *total = t->raw_total;
    return t->raw ? t->raw : "";
}

/* ------------------------------------------------------------------------ */
/* Resizing                                                                 */
/* ------------------------------------------------------------------------ */

void term_resize(Term *t, int cols, int rows) {
    assert(t && cols >= 1 && rows >= 1 && cols <= 0xFFFF && rows <= 0xFFFF);
    /* What the program wrote for the old size is shown at the old size. */
    term_pump_wait(t, 0);
    vterm_set_size(t->vt, rows, cols);
    t->cols = cols;
    t->rows = rows;
    t->generation++;
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    /* The kernel signals the foreground process group itself; a second,
     * hand-sent SIGWINCH would make the program redraw twice. Fails only once
     * the program is gone, which is no error here. */
    if (!t->eof) ioctl(t->fd, TIOCSWINSZ, &ws);
}

/* ------------------------------------------------------------------------ */
/* Ending the program                                                       */
/* ------------------------------------------------------------------------ */

void term_close(Term *t) {
    if (!t) return;
    term_reap(t, false);
    if (!t->reaped) {
        /* The whole group: a shell's children too. The leader is not reaped
         * yet, so the group id cannot have been reused. */
        if (kill(-t->pid, SIGTERM) != 0) kill(t->pid, SIGTERM);
        long long deadline = term_now_ms() + TERM_TERM_GRACE_MS;
        while (!t->reaped && term_now_ms() < deadline) {
            term_pump_wait(t, TERM_SLICE_MS / 2); /* it may be writing its goodbye */
            term_reap(t, false);
        }
        if (!t->reaped) {
            if (kill(-t->pid, SIGKILL) != 0) kill(t->pid, SIGKILL);
            term_reap(t, true);
        }
    }
    close(t->fd);
    vterm_free(t->vt);
    free(t->raw);
    free(t->out);
    free(t);
}

/* ------------------------------------------------------------------------ */
/* Debugging output                                                         */
/* ------------------------------------------------------------------------ */

void term_dump(Term *t, FILE *fp) {
    assert(t && fp);
    term_reap(t, false);
    int ccol, crow;
    term_cursor(t, &ccol, &crow);
    fprintf(fp, "---- screen %dx%d, cursor (%d,%d)%s%s, ", t->cols, t->rows, ccol, crow,
            t->modes.altscreen ? ", alternate screen" : "",
            t->modes.cursor_visible ? "" : ", cursor hidden");
    if (!t->reaped)
        fprintf(fp, "program running (pid %d) ----\n", (int)t->pid);
    else if (t->status >= 0)
        fprintf(fp, "program exited with status %d ----\n", t->status);
    else
        fprintf(fp, "program killed by signal %d ----\n", -t->status);
    for (int row = 0; row < t->rows; row++) {
        char *s = term_row_text(t, row);
        fprintf(fp, "%3d|%s\n", row, s);
        free(s);
    }
    fprintf(fp, "---- end of screen (%zu bytes of output in all) ----\n", t->raw_total);
}

void term_dump_raw(const Term *t, FILE *fp, size_t max_bytes) {
    assert(t && fp);
    size_t n = t->raw_len < max_bytes ? t->raw_len : max_bytes;
    const unsigned char *p = (const unsigned char *)t->raw + (t->raw_len - n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == 0x1b)
            fputs("\\e", fp);
        else if (c == '\r')
            fputs("\\r", fp);
        else if (c == '\n')
            fputs("\\n\n", fp);
        else if (c == '\\')
            fputs("\\\\", fp);
        else if (c < 0x20 || c == 0x7f)
            fprintf(fp, "\\x%02x", c);
        else
            fputc(c, fp);
    }
    fputc('\n', fp);
}
