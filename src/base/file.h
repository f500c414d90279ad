/* file.h — read-only mappings of input files and atomic output files.
 *
 * Inputs (models, texts, plans) are opened read-only and never written.
 * Outputs (exported models, plans, progress) are written to a temporary name in
 * the destination directory, flushed to disk and then renamed over the target,
 * so a crash, a full disk or a read-only directory never leaves a half-written
 * file where a good one used to be.
 */
#ifndef QL_BASE_FILE_H
#define QL_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

typedef struct FileMap {
    const uint8_t *data; /* NULL for an empty file */
    size_t size;
    bool mapped;         /* true: munmap on close; false: free() on close */
} FileMap;

/* Maps `path` read-only. Refuses directories and anything that is not a regular
 * file with a one-line message naming the path. On error *map is zeroed. */
Status file_map_open(FileMap *map, const char *path, Error *err);
void file_map_close(FileMap *map);

/* Reads a whole regular file into a NUL-terminated heap buffer (caller frees).
 * Refuses files larger than max_bytes with ST_LIMIT. */
Status file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, Error *err);

/* True when both paths name the same existing file (same device and inode). */
bool file_same(const char *a, const char *b);
bool file_exists(const char *path);
bool file_is_dir(const char *path);

typedef struct AtomicFile {
    FILE *fp;        /* write through this */
    char *path;      /* final name */
    char *tmp_path;  /* temporary name in the same directory */
} AtomicFile;

/* Creates a temporary file next to `path`. Nothing at `path` changes until commit. */
Status atomic_file_open(AtomicFile *af, const char *path, Error *err);
/* Flushes, fsyncs and renames the temporary over `path`. On any failure the
 * temporary is removed, `path` is left as it was and the error says why. */
Status atomic_file_commit(AtomicFile *af, Error *err);
/* Discards the temporary (safe to call after a failed commit, or twice). */
void atomic_file_abort(AtomicFile *af);

/* Writes `len` bytes from `data` to `path` atomically (open + write + commit). */
Status atomic_file_write(const char *path, const void *data, size_t len, Error *err);

/* The last path component, for short messages ("a/b/model.gguf" -> "model.gguf"). */
const char *file_basename(const char *path);

#endif
