/* common.c — see common.h. */
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/datadir.h"
#include "base/file.h"
#include "base/fmt.h"
#include "model/calib.h"
#include "model/eval.h"

/* A file of the data directory, or an error saying where it was looked for. */
static Status find_bundled(const char *relative, const char *hint, char *out, size_t size, Error *err) {
    if (datadir_find(relative, out, size)) return ST_OK;
    char where[1024];
    datadir_describe(where, sizeof where);
    return error_set(err, ST_IO, "the bundled %s is missing (looked in: %s); %s", relative, where, hint);
}

Status cli_model_path(const CliArgs *a, bool allow_positional, char *out, size_t size, Error *err) {
    const char *p = cli_str(a, "model", NULL);
    if (!p && allow_positional && a->n_pos > 0) p = a->pos[0];
    if (p) {
        snprintf(out, size, "%s", p);
        return ST_OK;
    }
    return find_bundled(CLI_BUNDLED_MODEL, "give a model with -m FILE", out, size, err);
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

Status cli_check_output(const CliArgs *a, const char *out, const char *model, Error *err) {
    if (model && file_same(out, model))
        return error_set(err, ST_USAGE, "%s: that is the input model; quantlab never writes over it", out);
    /* nor over any other file the command reads, --force or not */
    static const char *const inputs[] = {"tokenizer", "plan", "text", "calib"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        const char *in = cli_given(a, inputs[i]);
        if (in && file_same(out, in))
            return error_set(err, ST_USAGE, "%s: that is the --%s file it reads; quantlab never writes over an input",
                             out, inputs[i]);
    }
    if (file_is_dir(out)) return error_set(err, ST_USAGE, "%s: is a directory; give a file name", out);
    if (!cli_has(a, "force") && file_exists(out))
        return error_set(err, ST_USAGE, "%s: already exists (add --force to replace it)", out);
    return ST_OK;
}

Status cli_plan(const CliArgs *a, const Model *m, Plan *p, bool *given, char *desc, size_t size,
                Error *err) {
    const char *file = cli_str(a, "plan", NULL);
    const char *type = cli_str(a, "type", NULL);
    const char *preset = cli_str(a, "preset", NULL);
    *given = (file != NULL) + (type != NULL) + (preset != NULL) > 0;
    if ((file != NULL) + (type != NULL) + (preset != NULL) > 1)
        return error_set(err, ST_USAGE, "%s: give only one of --plan, --type and --preset", a->cmd);
    snprintf(desc, size, "f32");
    if (type) {
        Format f;
        Status st = format_parse(type, &f, err);
        if (st != ST_OK) return st;
        if (!format_is_supported(f))
            return error_set(err, ST_USAGE, "%s: quantlab cannot produce '%s' weights", a->cmd, type);
        format_name(f, desc, size);
        return plan_init(p, m, f, err);
    }
    if (preset) {
        int id = plan_preset_from_name(preset);
        if (id < 0) {
            char names[256] = "";
            for (int k = 0; k < PRESET_COUNT; k++) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", k ? " " : "", plan_preset_name((PlanPreset)k));
            }
            return error_set(err, ST_USAGE, "%s: unknown preset '%s' (%s)", a->cmd, preset, names);
        }
        snprintf(desc, size, "preset %s", preset);
        return plan_preset(p, m, (PlanPreset)id, err);
    }
    Status st = plan_init(p, m, FORMAT_FP32, err);
    if (st != ST_OK || !file) return st;
    char *text = NULL;
    size_t len = 0;
    PlanRules r;
    if ((st = file_read_all(file, 1 << 20, &text, &len, err)) == ST_OK &&
        (st = plan_rules_parse(&r, text, len, file, err)) == ST_OK) {
        st = plan_apply_rules(p, m, &r, file, err);
        plan_rules_free(&r);
    }
    free(text);
    if (st != ST_OK) {
        plan_free(p);
        return st;
    }
    snprintf(desc, size, "plan %s", file_basename(file));
    return ST_OK;
}

static void print_progress(void *ctx, double done, const char *stage) {
    fprintf(stderr, "\rquantlab %s: %3.0f%% %-48.48s", (const char *)ctx, 100.0 * done, stage ? stage : "");
    fflush(stderr);
}

Progress cli_progress(const char *cmd) {
    bool show = isatty(STDERR_FILENO) != 0;
    return (Progress){show ? print_progress : NULL, (void *)cmd, NULL};
}

void cli_progress_end(const Progress *p) {
    if (!p->report) return;
    fprintf(stderr, "\r%76s\r", "");
    fflush(stderr);
}

/* The file option `opt` names, else the bundled file `relative`. */
static Status given_or_bundled(const CliArgs *a, const char *opt, const char *relative, const char *hint, char *out,
                               size_t size, Error *err) {
    const char *given = cli_str(a, opt, NULL);
    if (!given) return find_bundled(relative, hint, out, size, err);
    snprintf(out, size, "%s", given);
    return ST_OK;
}

Status cli_text_path(const CliArgs *a, char *out, size_t size, Error *err) {
    return given_or_bundled(a, "text", CLI_EVAL_TEXT, "give a text with --text FILE", out, size, err);
}

Status cli_read_eval_set(const char *path, const char *name, const Model *m, int64_t max_tokens, EvalSet *set,
                         Error *err) {
    char *text = NULL;
    size_t len = 0;
    Status st = file_read_all(path, (size_t)256 << 20, &text, &len, err);
    if (st == ST_OK) st = evalset_from_text(set, m, text, len, name, EVAL_LLAMA2C, 0, max_tokens, err);
    free(text);
    return st;
}

Status cli_eval_set(const CliArgs *a, const Model *m, int64_t max_tokens, EvalSet *set, Error *err) {
    char path[4096];
    Status st = cli_text_path(a, path, sizeof path, err);
    if (st == ST_OK) st = cli_read_eval_set(path, path, m, max_tokens, set, err);
    return st;
}

/* ---------------------------------------------------------- calibration */

Status cli_calibrate(const CliArgs *a, const Model *m, const Plan *p, QuantCache *c, Pool *pool, char *note,
                     size_t size, Error *err) {
    snprintf(note, size, "%s", "");
    bool *want = calloc((size_t)m->n_tensors + 1, sizeof *want);
    if (!want) return error_set(err, ST_NOMEM, "out of memory");
    int n_gptq = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (plan_is_quantizable(&m->tensors[i]) && p->fmt[i].method == METHOD_GPTQ) want[i] = true, n_gptq++;
    long max_tokens;
    Status st = cli_int(a, "calib-tokens", 2, INT32_MAX, 0, &max_tokens, err);
    if (st != ST_OK || n_gptq == 0) {
        free(want);
        return st;
    }
    char path[4096];
    if ((st = given_or_bundled(a, "calib", CLI_CALIB_TEXT, "give a calibration text with --calib FILE", path,
                               sizeof path, err)) != ST_OK) {
        free(want);
        return st;
    }
    const char *arg = cli_str(a, "calib", NULL);
    const char *name = arg ? arg : file_basename(path);
    EvalSet set = {0};
    Calibration cal = {0};
    Progress progress = cli_progress(a->cmd);
    CalibOptions opt = {want, CLI_CALIB_MAX_BYTES};
    if ((st = cli_read_eval_set(path, name, m, max_tokens, &set, err)) == ST_OK)
        st = calib_run(&cal, m, &set, name, &opt, pool, &progress, err);
    cli_progress_end(&progress);
    if (st == ST_OK) {
        char b1[32], b2[32];
        snprintf(note, size, "%s: %s pieces, %s tokens through the FP32 model, %.1f s", name,
                 fmt_count(b1, sizeof b1, cal.n_seqs), fmt_count(b2, sizeof b2, cal.n_tokens), cal.seconds);
        qcache_set_calibration(c, &cal);
        for (int i = 0; i < m->n_tensors; i++)
            if (want[i] && qcache_gptq_is_rtn(c, i)) {
                size_t used = strlen(note);
                snprintf(note + used, size - used, "; %s is looked up, not multiplied: +gptq rounds it to nearest",
                         m->tensors[i].name);
            }
    }
    calib_free(&cal);
    evalset_free(&set);
    free(want);
    return st;
}

Status cli_plan_cache(const CliArgs *a, const Model *m, const Plan *p, Pool *pool, QuantCache **cache, char *note,
                      size_t size, Error *err) {
    snprintf(note, size, "%s", "");
    if (!(*cache = qcache_new(m, pool))) return error_set(err, ST_NOMEM, "out of memory for the quantized copies");
    return cli_calibrate(a, m, p, *cache, pool, note, size, err);
}
