/* datadir.c — see datadir.h. */
#include "base/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

#ifndef QL_DATADIR
#define QL_DATADIR "/usr/local/share/quantlab"
#endif
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static char exe_dir[PATH_MAX];

void datadir_set_argv0(const char *argv0) {
    char buf[PATH_MAX];
    exe_dir[0] = '\0';
#if defined(__linux__)
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
    } else
#endif
    {
        if (!argv0 || !strchr(argv0, '/') || !realpath(argv0, buf)) return;
    }
    char *slash = strrchr(buf, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(exe_dir, sizeof exe_dir, "%s", buf[0] ? buf : "/");
}

static int candidates(const char *out[4], char bufs[2][PATH_MAX]) {
    int n = 0;
    const char *env = getenv("QUANTLAB_DATA");
    if (env && *env) out[n++] = env;
    if (exe_dir[0]) {
        snprintf(bufs[0], PATH_MAX, "%s", exe_dir);
        out[n++] = bufs[0];
        snprintf(bufs[1], PATH_MAX, "%.4000s/../share/quantlab", exe_dir);
        out[n++] = bufs[1];
    }
    out[n++] = QL_DATADIR;
    return n;
}

bool datadir_find(const char *relative, char *out, size_t size) {
    const char *dirs[4];
    char bufs[2][PATH_MAX];
    int n = candidates(dirs, bufs);
    for (int i = 0; i < n; i++) {
        int len = snprintf(out, size, "%s/%s", dirs[i], relative);
        if (len > 0 && (size_t)len < size && file_exists(out)) return true;
    }
    return false;
}

void datadir_describe(char *out, size_t size) {
    const char *dirs[4];
    char bufs[2][PATH_MAX];
    int n = candidates(dirs, bufs);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int len = snprintf(out + used, size - used, "%s%s", i ? ", " : "", dirs[i]);
        if (len < 0) break;
        used += (size_t)len;
    }
}
