/* cmd_sensitivity.c — `quantlab sensitivity`: which tensors a format hurts most. */
#include <stdio.h>
#include <stdlib.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/eval.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    {"type", 0, "FORMAT", "the format each tensor is tried in, alone (default q4_0)"},
    {"blocks", 0, NULL, "try whole blocks (plus token_embd and output) instead of single tensors"},
    CLI_OPT_TEXT,
    {"max-tokens", 0, "N", "tokens of the text to measure on (default 2048; 0 = all)"},
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

/* Runs a scan with the options' model, format and text (shared with `plan --budget`). */
Status cli_run_sensitivity(const CliArgs *a, Model *m, Format target, SensitivityUnit unit, Pool *pool,
                           SensitivityItem **items, int *n, Error *err) {
    long max_tokens;
    Status st = cli_int(a, "max-tokens", 0, INT32_MAX, 2048, &max_tokens, err);
    if (st != ST_OK) return st;
    EvalSet set = {0};
    if ((st = cli_eval_set(a, m, max_tokens, &set, err))) return st;
    QuantCache *cache = qcache_new(m, pool);
    if (!cache) {
        evalset_free(&set);
        return error_set(err, ST_NOMEM, "out of memory");
    }
    Progress progress = cli_progress("sensitivity");
    st = eval_sensitivity(m, cache, target, unit, &set, pool, &progress, items, n, err);
    cli_progress_end(&progress);
    qcache_delete(cache);
    evalset_free(&set);
    return st;
}

Status cmd_sensitivity(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "sensitivity", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "sensitivity [-m FILE] [--type T] [--blocks] [--text FILE] [--max-tokens N]",
                       "Puts one tensor (or one block) at a time into the format, keeps everything else\n"
                       "FP32, and measures how far the model's next-token probabilities move (mean KL\n"
                       "divergence against FP32) and how often its top token changes. The table is\n"
                       "ranked most sensitive first; the last column is the damage per kB saved, which\n"
                       "`quantlab plan --budget` uses to decide where extra bits pay off.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "sensitivity: unexpected argument '%s'", a.pos[0]);
    Format target;
    if ((st = format_parse(cli_str(&a, "type", "q4_0"), &target, err))) return st;
    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads;
    SensitivityItem *items = NULL;
    int n = 0;
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) || (st = cli_open_model(&a, false, &m, err)) ||
        (st = cli_run_sensitivity(&a, m, target, cli_has(&a, "blocks") ? SENS_BLOCK : SENS_TENSOR, pool, &items,
                                  &n, err)))
        goto done;
    char name[48];
    printf("%s: each %s alone at %s, against FP32\n\n", m->name, cli_has(&a, "blocks") ? "block" : "tensor",
           format_name(target, name, sizeof name));
    printf("%4s  %-28s %12s %8s %12s %14s\n", "rank", "unit", "mean KL", "top-1", "bytes saved", "KL per kB saved");
    for (int i = 0; i < n; i++) {
        char saved[32];
        printf("%4d  %-28s %12.6f %7.2f%% %12s %14.6f\n", i + 1, items[i].name, items[i].kl_mean,
               100 * items[i].top1_agree, fmt_count(saved, sizeof saved, (int64_t)items[i].bytes_saved),
               items[i].bytes_saved > 0 ? items[i].kl_mean / (items[i].bytes_saved / 1000.0) : 0.0);
    }
done:
    free(items);
    model_close(m);
    pool_delete(pool);
    return st;
}
