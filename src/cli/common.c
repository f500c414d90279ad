/* common.c — see common.h. */
#include "cli/common.h"

#include <stdio.h>
#include <string.h>

#include "base/datadir.h"
#include "base/file.h"

Status cli_model_path(const CliArgs *a, bool allow_positional, char *out, size_t size, Error *err) {
    const char *p = cli_str(a, "model", NULL);
    if (!p && allow_positional && a->n_pos > 0) p = a->pos[0];
    if (p) {
        snprintf(out, size, "%s", p);
        return ST_OK;
    }
    if (datadir_find(CLI_BUNDLED_MODEL, out, size)) return ST_OK;
    char where[1024];
    datadir_describe(where, sizeof where);
    return error_set(err, ST_IO, "the bundled model %s is missing (looked in: %s); give a model with -m FILE",
                     CLI_BUNDLED_MODEL, where);
}

Status cli_open_model(const CliArgs *a, bool allow_positional, Model **m, Error *err) {
    char path[4096];
    Status st = cli_model_path(a, allow_positional, path, sizeof path, err);
    if (st != ST_OK) return st;
    return model_open(m, path, cli_str(a, "tokenizer", NULL), err);
}

Status cli_threads(const CliArgs *a, int *n, Error *err) {
    long v;
    Status st = cli_int(a, "threads", 1, 256, pool_cpu_count(), &v, err);
    *n = (int)v;
    return st;
}

Status cli_make_pool(const CliArgs *a, Pool **pool, int *n_threads, Error *err) {
    *pool = NULL;
    Status st = cli_threads(a, n_threads, err);
    if (st != ST_OK || *n_threads <= 1) return st;
    *pool = pool_new(*n_threads);
    if (!*pool) return error_set(err, ST_NOMEM, "cannot start %d threads", *n_threads);
    return ST_OK;
}

Status cli_check_output(const char *out, const char *input, bool force, Error *err) {
    if (input && file_same(out, input))
        return error_set(err, ST_USAGE, "%s: that is the input model; quantlab never writes over it", out);
    if (file_is_dir(out)) return error_set(err, ST_USAGE, "%s: is a directory; give a file name", out);
    if (!force && file_exists(out))
        return error_set(err, ST_USAGE, "%s: already exists (add --force to replace it)", out);
    return ST_OK;
}
