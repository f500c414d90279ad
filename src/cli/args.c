/* args.c — see args.h. */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int find_long(const CliOption *opts, const char *name, size_t len) {
    for (int i = 0; opts[i].name; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return i;
    return -1;
}

static int find_short(const CliOption *opts, char c) {
    for (int i = 0; opts[i].name; i++)
        if (opts[i].short_name == c) return i;
    return -1;
}

Status cli_parse(CliArgs *a, const char *cmd, const CliOption *opts, int argc, char **argv,
                 Error *err) {
    memset(a, 0, sizeof *a);
    a->opts = opts;
    a->cmd = cmd;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int idx = -1;
        const char *value = NULL;
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (a->n_pos >= CLI_MAX_POSITIONAL)
                return error_set(err, ST_USAGE, "%s: too many arguments", cmd);
            a->pos[a->n_pos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            idx = find_long(opts, name, eq ? (size_t)(eq - name) : strlen(name));
            if (idx < 0)
                return error_set(err, ST_USAGE, "%s: unknown option '%.*s' (see quantlab %s%s--help)",
                                 cmd, eq ? (int)(eq - arg) : (int)strlen(arg), arg, cmd, *cmd ? " " : "");
            if (eq) {
                if (!opts[idx].arg)
                    return error_set(err, ST_USAGE, "%s: option '--%s' takes no value", cmd,
                                     opts[idx].name);
                value = eq + 1;
            }
        } else {
            idx = find_short(opts, arg[1]);
            if (idx < 0)
                return error_set(err, ST_USAGE, "%s: unknown option '-%c' (see quantlab %s%s--help)",
                                 cmd, arg[1], cmd, *cmd ? " " : "");
            if (arg[2] != '\0') {
                if (!opts[idx].arg)
                    return error_set(err, ST_USAGE, "%s: option '-%c' takes no value", cmd, arg[1]);
                value = arg + 2;
            }
        }
        if (opts[idx].arg && !value) {
            if (i + 1 >= argc)
                return error_set(err, ST_USAGE, "%s: option '--%s' needs a value (%s)", cmd,
                                 opts[idx].name, opts[idx].arg);
            value = argv[++i];
        }
        if (idx >= CLI_MAX_OPTIONS)
            return error_set(err, ST_USAGE, "%s: option table too large", cmd);
        a->values[idx] = opts[idx].arg ? value : "";
    }
    return ST_OK;
}

static int index_of(const CliArgs *a, const char *name) {
    int idx = find_long(a->opts, name, strlen(name));
    /* asking for an option the table does not have is a programming error */
    if (idx < 0) abort();
    return idx;
}

bool cli_has(const CliArgs *a, const char *name) {
    return a->values[index_of(a, name)] != NULL;
}

const char *cli_given(const CliArgs *a, const char *name) {
    int idx = find_long(a->opts, name, strlen(name));
    return idx < 0 ? NULL : a->values[idx];
}

const char *cli_str(const CliArgs *a, const char *name, const char *dflt) {
    const char *v = a->values[index_of(a, name)];
    return v ? v : dflt;
}

Status cli_int(const CliArgs *a, const char *name, long min, long max, long dflt, long *out,
               Error *err) {
    const char *v = a->values[index_of(a, name)];
    if (!v) {
        *out = dflt;
        return ST_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max)
        return error_set(err, ST_USAGE, "%s: --%s wants a whole number from %ld to %ld, not '%s'",
                         a->cmd, name, min, max, v);
    *out = n;
    return ST_OK;
}

Status cli_u64(const CliArgs *a, const char *name, uint64_t dflt, uint64_t *out, Error *err) {
    const char *v = a->values[index_of(a, name)];
    if (!v) {
        *out = dflt;
        return ST_OK;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end != '\0' || v[0] == '-')
        return error_set(err, ST_USAGE, "%s: --%s wants a non-negative whole number, not '%s'",
                         a->cmd, name, v);
    *out = (uint64_t)n;
    return ST_OK;
}

Status cli_float(const CliArgs *a, const char *name, double min, double max, double dflt,
                 double *out, Error *err) {
    const char *v = a->values[index_of(a, name)];
    if (!v) {
        *out = dflt;
        return ST_OK;
    }
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(d) || d < min || d > max)
        return error_set(err, ST_USAGE, "%s: --%s wants a number from %g to %g, not '%s'",
                         a->cmd, name, min, max, v);
    *out = d;
    return ST_OK;
}

void cli_print_help(FILE *fp, const char *usage, const char *summary, const CliOption *opts) {
    fprintf(fp, "usage: quantlab %s\n\n%s\n", usage, summary);
    if (!opts || !opts[0].name) return;
    fprintf(fp, "\noptions:\n");
    for (int i = 0; opts[i].name; i++) {
        char left[64];
        int n = 0;
        if (opts[i].short_name) n = snprintf(left, sizeof left, "-%c, ", opts[i].short_name);
        else n = snprintf(left, sizeof left, "    ");
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(fp, "  %-24s %s\n", left, opts[i].help);
    }
}
