/* standalone.c — a main() for the fuzz targets without libFuzzer.
 *
 *   fuzz_gguf FILE|DIR...   runs every file given (directories: every regular
 *                           file in them, in name order) through the target
 *   fuzz_gguf               runs one input read from stdin (AFL++: afl-fuzz -i
 *                           seeds -o out -- ./fuzz_gguf)
 *
 * Used by `make test` / `make check` to replay the seed corpora and every
 * crash kept in tests/fuzz/regress/ with gcc and the sanitizers, so a fixed
 * crash stays fixed on machines without clang. Prints one line per directory
 * and a total; exits 0 when every input ran (a crash aborts the process, which
 * is the failure).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file.h"
#include "fuzz/fuzz.h"

static int run_file(const char *path) {
    char *buf = NULL;
    size_t len = 0;
    Error err;
    if (file_read_all(path, (size_t)256 << 20, &buf, &len, &err) != ST_OK) {
        fprintf(stderr, "standalone: %s\n", err.msg);
        return -1;
    }
    /* An exact-size copy, so ASan sees a read one byte past the input. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        free(buf);
        return -1;
    }
    memcpy(copy, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *names);
            if (!p) break;
            names = p;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) break;
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0) rc = -1;
            else (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) { /* one input on stdin */
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        size_t got;
        while (buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0) {
            len += got;
            if (len == cap) {
                uint8_t *p = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
                if (!p) break;
                buf = p;
                cap *= 2;
            }
        }
        if (!buf) return 1;
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
    }
    int total = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        int count = 0;
        if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) != 0) rc = 1;
        } else if (run_file(argv[i]) == 0) {
            count = 1;
        } else {
            rc = 1;
        }
        printf("%s: %d inputs\n", argv[i], count);
        total += count;
    }
    printf("%s: %d inputs replayed without a crash\n", argv[0], total);
    return rc;
}
