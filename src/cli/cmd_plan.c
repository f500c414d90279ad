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
    {"output", 'o', "FILE", "write the plan here instead of printing it"},
    {"force", 0, NULL, "replace FILE if it exists"},
    CLI_OPT_HELP,
    {0},
};

Status cmd_plan(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "plan", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "plan [-m FILE] (--preset NAME | --type T | --plan FILE) [-o OUT]",
                       "Prints a plan in its text form: one PATTERN=FORMAT rule per line (POSIX\n"
                       "extended regular expressions searched in tensor names; the last matching rule\n"
                       "wins; default= sets the rest), the rules of llama-quantize's --tensor-type.\n"
                       "Start from a preset, edit the file, and use it with --plan in quantize, stats,\n"
                       "eval and generate. Sizes for the model are printed on stderr.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "plan: unexpected argument '%s'", a.pos[0]);
    const char *out = cli_str(&a, "output", NULL);
    if (out && (st = cli_check_output(out, NULL, cli_has(&a, "force"), err))) return st;
    Model *m = NULL;
    Plan p = {0};
    bool given;
    char desc[128];
    char *text = NULL;
    if ((st = cli_open_model(&a, false, &m, err)) || (st = cli_plan(&a, m, &p, &given, desc, sizeof desc, err)))
        goto done;
    if (out && file_same(out, m->path)) {
        st = error_set(err, ST_USAGE, "%s: that is the model; quantlab never writes over it", out);
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
