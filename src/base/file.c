/* file.c — see file.h. POSIX only (Linux and macOS). */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static Status stat_regular(const char *path, int fd, size_t *size, Error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return error_set(err, ST_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return error_set(err, ST_IO, "%s: is a directory, not a file", path);
    if (!S_ISREG(st.st_mode))
        return error_set(err, ST_IO, "%s: not a regular file", path);
    if ((uintmax_t)st.st_size > (uintmax_t)SIZE_MAX)
        return error_set(err, ST_LIMIT, "%s: too large for this machine's address space", path);
    *size = (size_t)st.st_size;
    return ST_OK;
}

/* Opens for reading without waiting: O_NONBLOCK makes opening a FIFO (or a
 * device that waits for a carrier) return at once, so stat_regular can refuse
 * it instead of quantlab hanging on a named pipe called model.gguf. It has no
 * effect on reading regular files. */
static int open_input(const char *path) {
    return open(path, O_RDONLY | O_NONBLOCK);
}

Status file_map_open(FileMap *map, const char *path, Error *err) {
    memset(map, 0, sizeof *map);
    int fd = open_input(path);
    if (fd < 0) return error_set(err, ST_IO, "%s: %s", path, strerror(errno));
    size_t size = 0;
    Status st = stat_regular(path, fd, &size, err);
    if (st != ST_OK) {
        close(fd);
        return st;
    }
    if (size > 0) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return error_set(err, ST_IO, "%s: cannot map file: %s", path, strerror(e));
        }
        map->data = p;
        map->mapped = true;
    }
    map->size = size;
    close(fd);
    return ST_OK;
}

void file_map_close(FileMap *map) {
    if (!map) return;
    if (map->data) {
        if (map->mapped) munmap((void *)map->data, map->size);
        else free((void *)map->data);
    }
    memset(map, 0, sizeof *map);
}

Status file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, Error *err) {
    *out = NULL;
    *len = 0;
    int fd = open_input(path);
    if (fd < 0) return error_set(err, ST_IO, "%s: %s", path, strerror(errno));
    size_t size = 0;
    Status st = stat_regular(path, fd, &size, err);
    if (st == ST_OK && size > max_bytes)
        st = error_set(err, ST_LIMIT, "%s: %zu bytes is more than the %zu this command reads",
                       path, size, max_bytes);
    char *buf = NULL;
    if (st == ST_OK) {
        buf = malloc(size + 1);
        if (!buf) st = error_set(err, ST_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (st == ST_OK && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) st = error_set(err, ST_IO, "%s: %s", path, strerror(errno));
        else if (n == 0) break; /* the file shrank under us: keep what we have */
        else got += (size_t)n;
    }
    close(fd);
    if (st != ST_OK) {
        free(buf);
        return st;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return ST_OK;
}

bool file_same(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool file_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *file_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

Status atomic_file_open(AtomicFile *af, const char *path, Error *err) {
    memset(af, 0, sizeof *af);
    if (file_is_dir(path))
        return error_set(err, ST_IO, "%s: is a directory; give a file name", path);
    size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + sizeof ".tmp-XXXXXX");
    if (!af->path || !af->tmp_path) {
        atomic_file_abort(af);
        return error_set(err, ST_NOMEM, "%s: out of memory", path);
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        atomic_file_abort(af);
        return error_set(err, ST_IO, "%s: cannot create a file there: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give it the usual permissions. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        atomic_file_abort(af);
        return error_set(err, ST_IO, "%s: %s", path, strerror(e));
    }
    return ST_OK;
}

/* Makes a rename in the directory of `path` durable: after a crash or power
 * loss the directory then holds the new file, not the old one or nothing.
 * Best effort: some file systems cannot fsync a directory (EINVAL), and once
 * the rename is done the new file is in place whatever happens here. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else return;
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

Status atomic_file_commit(AtomicFile *af, Error *err) {
    Status st = ST_OK;
    int e = 0;
    /* errno is cleared first: a buffered write that failed earlier (ENOSPC,
     * EFBIG) leaves ferror set, and the reason in errno only if nothing since
     * has overwritten it. */
    errno = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) e = errno ? errno : EIO;
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno ? errno : EIO;
    af->fp = NULL;
    if (!e && rename(af->tmp_path, af->path) != 0) e = errno;
    if (e) {
        st = error_set(err, ST_IO, "%s: not written (%s); any previous file is unchanged", af->path,
                       strerror(e));
        atomic_file_abort(af);
        return st;
    }
    sync_parent_dir(af->path);
    free(af->tmp_path);
    af->tmp_path = NULL;
    free(af->path);
    af->path = NULL;
    return ST_OK;
}

void atomic_file_abort(AtomicFile *af) {
    if (!af) return;
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

Status atomic_file_write(const char *path, const void *data, size_t len, Error *err) {
    AtomicFile af;
    Status st = atomic_file_open(&af, path, err);
    if (st != ST_OK) return st;
    errno = 0;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        atomic_file_abort(&af);
        return error_set(err, ST_IO, "%s: not written (%s); any previous file is unchanged", path,
                         strerror(e ? e : EIO));
    }
    return atomic_file_commit(&af, err);
}
