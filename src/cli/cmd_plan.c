/* cmd_plan.c — `quantlab plan`: write a plan file from a preset, a type or a plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    {"budget", 0, "SIZE", "pick formats by measured sensitivity to fit SIZE: bytes (300000, 300kB, 1.2MB) or bits per weight (5bpw)"},
    {"low", 0, "FORMAT", "with --budget: the format every tensor starts in (default q4_0)"},
    {"high", 0, "FORMAT", "with --budget: the format tensors are upgraded to (default q8_0)"},
    CLI_OPT_TEXT,
    {"max-tokens", 0, "N", "with --budget: tokens of the text the scan measures on (default 2048)"},
    CLI_OPT_THREADS,
    {"output", 'o', "FILE", "write the plan here instead of printing it"},
    {"force", 0, NULL, "replace FILE if it exists"},
    CLI_OPT_HELP,
    {0},
};

/* "300000", "300kB", "1.2MB", "2GB" (decimal units) or "5bpw" / "5.5bits" (per weight). */
static Status parse_budget(const char *text, const Model *m, double *bytes, Error *err) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || !(v > 0))
        return error_set(err, ST_USAGE, "plan: --budget wants a size like 300kB or 5bpw, not '%s'", text);
    static const struct {
        const char *suffix;
        double scale;
        bool per_weight;
    } units[] = {{"", 1, false},    {"B", 1, false},       {"kB", 1e3, false},   {"KB", 1e3, false},
                 {"MB", 1e6, false}, {"GB", 1e9, false},    {"bpw", 1, true},     {"bits", 1, true}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) != 0) continue;
        *bytes = units[i].per_weight ? v * (double)m->n_params / 8.0 : v * units[i].scale;
        return ST_OK;
    }
    return error_set(err, ST_USAGE, "plan: --budget wants a size like 300kB or 5bpw, not '%s'", text);
}

/* The plan within a budget: a sensitivity scan at --low, then plan_auto. */
static Status budget_plan(const CliArgs *a, Model *m, Plan *p, char *desc, size_t size, Error *err) {
    double budget = 0;
    Format low, high;
    Status st;
    if ((st = parse_budget(cli_str(a, "budget", ""), m, &budget, err)) ||
        (st = format_parse(cli_str(a, "low", "q4_0"), &low, err)) ||
        (st = format_parse(cli_str(a, "high", "q8_0"), &high, err)))
        return st;
    Pool *pool = NULL;
    int n_threads;
    SensitivityItem *items = NULL;
    int n = 0;
    if ((st = cli_make_pool(a, &pool, &n_threads, err)) ||
        (st = cli_run_sensitivity(a, m, low, SENS_TENSOR, pool, &items, &n, err)) ||
        (st = plan_auto(p, m, items, n, low, high, budget, err)))
        goto done;
    char b[32], l[32], h[32];
    snprintf(desc, size, "a budget of %s (%s, upgrades to %s by measured KL per byte)",
             fmt_bytes(b, sizeof b, budget), format_name(low, l, sizeof l), format_name(high, h, sizeof h));
done:
    free(items);
    pool_delete(pool);
    return st;
}

Status cmd_plan(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "plan", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "plan [-m FILE] (--preset NAME | --type T | --plan FILE | --budget SIZE) [-o OUT]",
                       "Prints a plan in its text form: one PATTERN=FORMAT rule per line (POSIX\n"
                       "extended regular expressions searched in tensor names; the last matching rule\n"
                       "wins; default= sets the rest), the rules of llama-quantize's --tensor-type.\n"
                       "Start from a preset, edit the file, and use it with --plan in quantize, stats,\n"
                       "eval and generate. Sizes for the model are printed on stderr.\n"
                       "--budget measures each tensor's sensitivity at --low (see quantlab sensitivity)\n"
                       "and gives --high to the tensors where it removes the most damage per byte,\n"
                       "as long as the plan fits the budget.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "plan: unexpected argument '%s'", a.pos[0]);
    const char *out = cli_str(&a, "output", NULL);
    char path[4096];
    if ((st = cli_model_path(&a, false, path, sizeof path, err)) ||
        (out && (st = cli_check_output(&a, out, path, err))))
        return st;
    Model *m = NULL;
    Plan p = {0};
    bool given;
    char desc[128];
    char *text = NULL;
    if ((st = model_open(&m, path, cli_str(&a, "tokenizer", NULL), err))) goto done;
    if (cli_has(&a, "budget")) {
        if (cli_has(&a, "plan") || cli_has(&a, "type") || cli_has(&a, "preset")) {
            st = error_set(err, ST_USAGE, "plan: --budget makes its own plan; leave out --plan, --type and --preset");
            goto done;
        }
        if ((st = budget_plan(&a, m, &p, desc, sizeof desc, err))) goto done;
    } else if ((st = cli_plan(&a, m, &p, &given, desc, sizeof desc, err))) {
        goto done;
    }
    if ((st = plan_to_text(&p, m, &text, err))) goto done;
    if (out) st = atomic_file_write(out, text, strlen(text), err);
    else fputs(text, stdout);
    if (st == ST_OK) {
        char b1[32], b2[32];
        fprintf(stderr, "%s under %s: %s in memory (%.2f bits per weight), %s as GGUF with F16 fallbacks\n",
                m->name, desc, fmt_bytes(b1, sizeof b1, plan_bytes(&p, m)), plan_bits_per_weight(&p, m),
                fmt_bytes(b2, sizeof b2, plan_bytes_export(&p, m, FORMAT_FP16)));
    }
done:
    free(text);
    plan_free(&p);
    model_close(m);
    return st;
}
