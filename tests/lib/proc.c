/* proc.c — see proc.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int append(char **buf, size_t *len, size_t *cap, const char *src, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap * 2 : 4096;
        while (c < *len + n + 1) c *= 2;
        char *p = realloc(*buf, c);
        if (!p) return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

int proc_run(const char *const *argv, const char *const *env, int timeout_ms, ProcResult *r) {
    memset(r, 0, sizeof *r);
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0) return -1;
    if (pipe(err_pipe) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    size_t out_cap = 0, err_cap = 0;
    append(&r->out, &r->out_len, &out_cap, "", 0);
    append(&r->err, &r->err_len, &err_cap, "", 0);
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    double deadline = now_ms() + timeout_ms;
    int timed_out = 0;
    while (open_fds > 0) {
        int left = (int)(deadline - now_ms());
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(fds, 2, left) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (i == 0) {
                append(&r->out, &r->out_len, &out_cap, buf, (size_t)n);
            } else {
                append(&r->err, &r->err_len, &err_cap, buf, (size_t)n);
            }
        }
    }
    if (timed_out) kill(pid, SIGKILL);
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

void proc_result_free(ProcResult *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

const char *proc_quantlab_bin(void) {
    const char *b = getenv("QUANTLAB_BIN");
    return b && *b ? b : "./quantlab";
}

ProcResult proc_quantlab(const char *const *args, const char *const *env, int timeout_ms) {
    const char *argv[PROC_MAX_ARGS + 2] = {proc_quantlab_bin()};
    int n = 1;
    for (int i = 0; args && args[i]; i++) {
        if (n > PROC_MAX_ARGS) fail_msg("more than %d arguments for %s", PROC_MAX_ARGS, argv[0]);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ProcResult r;
    if (proc_run(argv, env, timeout_ms, &r) != 0) fail_msg("cannot run %s", argv[0]);
    return r;
}

void proc_expect_error(ProcResult r, int status, const char *needle) {
    if (r.status != status || !strstr(r.err, needle) || proc_count_lines(r.err) != 1 ||
        strncmp(r.err, "quantlab: ", 10) != 0)
        fail_msg("exit %d, stderr '%s' (wanted %d and one line 'quantlab: ...%s...')", r.status, r.err, status,
                 needle);
    proc_result_free(&r);
}

/* dir/name in the next of eight buffers. */
static const char *join(char (*bufs)[4096], int *next, const char *dir, const char *name) {
    char *out = bufs[(*next)++ % 8];
    snprintf(out, 4096, "%s/%s", dir, name);
    return out;
}

const char *proc_data_path(const char *relative) {
    static char bufs[8][4096];
    static int next;
    const char *root = getenv("QUANTLAB_DATA");
    return join(bufs, &next, root && *root ? root : ".", relative);
}

int proc_tmpdir_new(char *dir, size_t size, const char *tag) {
    int n = snprintf(dir, size, "/tmp/ql-%s-XXXXXX", tag);
    return n > 0 && (size_t)n < size && mkdtemp(dir) ? 0 : -1;
}

int proc_tmpdir_remove(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *proc_path(const char *dir, const char *name) {
    static char bufs[8][4096];
    static int next;
    return join(bufs, &next, dir, name);
}

int proc_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

char *proc_read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (append(&buf, &n, &cap, chunk, got) != 0) {
            free(buf);
            fclose(fp);
            return NULL;
        }
    }
    fclose(fp);
    if (!buf) append(&buf, &n, &cap, "", 0);
    if (len) *len = n;
    return buf;
}
