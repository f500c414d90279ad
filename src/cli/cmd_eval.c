/* cmd_eval.c — `quantlab eval`: perplexity, KL divergence and top-1 agreement of
 * a plan against FP32 on a text, measured on this machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/eval.h"

/* Texts longer than this are refused (a whole book is about 1 MB). */
#define EVAL_MAX_TEXT_BYTES ((size_t)256 << 20)

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    CLI_OPT_TEXT,
    {"protocol", 0, "P", "llama2c (default): every blank-line piece is its own sequence; "
                         "windowed: llama-perplexity's chunks, second halves scored"},
    {"ctx", 'c', "N", "windowed: tokens per chunk (default: the model's context, at most 512)"},
    {"max-tokens", 0, "N", "score only the first N tokens of the text (whole pieces or chunks)"},
    CLI_OPT_CALIB,
    CLI_OPT_CALIB_TOKENS,
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

/* ------------------------------------------------------------ the plan */

/* The plan the options ask for (cli_plan), and a label for it; *has_plan false
 * for FP32 only. */
static Status open_plan(const CliArgs *a, const Model *m, Plan *p, bool *has_plan, char *label,
                        size_t size, Error *err) {
    char desc[128];
    Status st = cli_plan(a, m, p, has_plan, desc, sizeof desc, err);
    if (st != ST_OK) return st;
    if (!*has_plan) {
        plan_free(p);
        snprintf(label, size, "none: FP32 only (add --type, --preset or --plan to compare)");
        return ST_OK;
    }
    char b1[32], b2[32];
    snprintf(label, size, "%s: %s bytes of weights (FP32: %s)", desc,
             fmt_count(b1, sizeof b1, (int64_t)ceil(plan_bytes(p, m))),
             fmt_count(b2, sizeof b2, (int64_t)ceil(plan_bytes_f32(m))));
    return ST_OK;
}

/* ------------------------------------------------------------ output */

static void print_results(const Model *m, const char *text_name, const EvalSet *set,
                          const char *plan_label, const char *calib_note, bool has_plan,
                          const QualityResult *r, int n_threads) {
    char b1[32], b2[32], b3[32];
    printf("model            %s\n", file_basename(m->path));
    if (set->protocol == EVAL_LLAMA2C)
        printf("text             %s: %s pieces, %s bytes scored; llama2.c protocol (each piece its own sequence)\n",
               text_name, fmt_count(b1, sizeof b1, set->n_seqs), fmt_count(b2, sizeof b2, set->n_bytes));
    else
        printf("text             %s: %s tokens, %s chunks of %d; llama-perplexity protocol (second halves scored)\n",
               text_name, fmt_count(b1, sizeof b1, set->n_text_tokens), fmt_count(b2, sizeof b2, set->n_seqs),
               set->n_ctx);
    printf("plan             %s\n", plan_label);
    if (calib_note[0]) printf("calibration      %s\n", calib_note);
    printf("predictions      %s\n", fmt_count(b3, sizeof b3, r->n_predictions));
    printf("PPL FP32         %.4f\n", r->ppl_base);
    if (has_plan) {
        printf("PPL plan         %.4f\n", r->ppl_plan);
        printf("PPL ratio        %.4f\n", r->ppl_plan / r->ppl_base);
    }
    printf("NLL FP32         %.6f nats per token\n", r->nll_base);
    if (has_plan) printf("NLL plan         %.6f nats per token\n", r->nll_plan);
    if (has_plan) {
        printf("KL mean          %.6f nats\n", r->kl_mean);
        printf("KL median        %.6f\n", r->kl_median);
        printf("KL p99           %.6f\n", r->kl_p99);
        printf("KL max           %.6f\n", r->kl_max);
        printf("top-1 agreement  %.3f %%\n", 100.0 * r->top1_agree);
        printf("RMS delta-p      %.3f %%\n", 100.0 * r->rms_dp);
    }
    if (set->n_bytes > 0) {
        printf("bits/byte FP32   %.6f\n", r->bpb_base);
        if (has_plan) printf("bits/byte plan   %.6f\n", r->bpb_plan);
    }
    printf("seconds          %.2f (%d thread%s)\n", r->seconds, n_threads, n_threads == 1 ? "" : "s");
}

/* ------------------------------------------------------------ command */

Status cmd_eval(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "eval", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "eval [-m FILE] [--plan P | --type T] [--text FILE] [--protocol llama2c|windowed] [--ctx N] [--calib FILE]",
                       "Measures how well the model predicts a text, in FP32 and under a plan:\n"
                       "perplexity, and how far the plan's next-token probabilities are from FP32's\n"
                       "(KL divergence, top-1 agreement, RMS delta-p), as llama.cpp's llama-perplexity\n"
                       "reports them. `quantlab eval` on the bundled text gives FP32 perplexity 4.1844,\n"
                       "what llama2.c's own forward pass gives on the same pieces.\n\n"
                       "A +gptq format (--type q4_0+gptq) is first calibrated: the FP32 model reads\n"
                       "--calib (by default the bundled calib.txt, other stories than eval.txt's, so the\n"
                       "figures are not measured on the text GPTQ was fitted to).",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "eval: unexpected argument '%s' (the text goes after --text)", a.pos[0]);
    const char *proto_name = cli_str(&a, "protocol", "llama2c");
    EvalProtocol protocol;
    if (strcmp(proto_name, "llama2c") == 0)
        protocol = EVAL_LLAMA2C;
    else if (strcmp(proto_name, "windowed") == 0)
        protocol = EVAL_WINDOWED;
    else
        return error_set(err, ST_USAGE, "eval: --protocol is llama2c or windowed, not '%s'", proto_name);
    if (protocol == EVAL_LLAMA2C && cli_has(&a, "ctx"))
        return error_set(err, ST_USAGE, "eval: --ctx is for --protocol windowed (llama2c pieces run at the model's context)");
    long ctx_opt, max_tokens;
    if ((st = cli_int(&a, "ctx", 4, RUNSTATE_MAX_CTX, 0, &ctx_opt, err)) ||
        (st = cli_int(&a, "max-tokens", 2, INT32_MAX, 0, &max_tokens, err)))
        return st;

    char text_path[4096];
    const char *text_arg = cli_str(&a, "text", NULL);
    if ((st = cli_text_path(&a, text_path, sizeof text_path, err))) return st;
    const char *text_name = text_arg ? text_arg : file_basename(text_path);

    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads = 1;
    char *text = NULL;
    size_t text_len = 0;
    EvalSet set = {0};
    Weights base = {0}, planned = {0};
    Plan plan = {0};
    QuantCache *cache = NULL;
    bool has_plan = false;
    char plan_label[512], calib_note[512] = "";
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) ||
        (st = file_read_all(text_path, EVAL_MAX_TEXT_BYTES, &text, &text_len, err)) ||
        (st = cli_open_model(&a, false, &m, err)))
        goto done;
    int n_ctx = (int)ctx_opt;
    if (protocol == EVAL_WINDOWED && n_ctx == 0) n_ctx = m->cfg.context_length < 512 ? m->cfg.context_length : 512;
    if (protocol == EVAL_WINDOWED && n_ctx < 4) n_ctx = 4;
    if ((st = evalset_from_text(&set, m, text, text_len, text_name, protocol, n_ctx, max_tokens, err)))
        goto done;
    if (protocol == EVAL_WINDOWED && n_ctx > m->cfg.context_length)
        fprintf(stderr, "quantlab: note: chunks of %d tokens; %s declares a context of %d\n", n_ctx,
                file_basename(m->path), m->cfg.context_length);
    if (set.n_truncated > 0)
        fprintf(stderr, "quantlab: note: %d piece%s longer than %d tokens; only %s first %d tokens "
                "are scored\n", set.n_truncated, set.n_truncated == 1 ? " is" : "s are",
                set.n_ctx, set.n_truncated == 1 ? "its" : "their", set.n_ctx);
    if ((st = open_plan(&a, m, &plan, &has_plan, plan_label, sizeof plan_label, err)) ||
        (st = weights_init_f32(&base, m, err)))
        goto done;
    if (has_plan && ((st = cli_plan_cache(&a, m, &plan, pool, &cache, calib_note, sizeof calib_note, err)) ||
                     (st = weights_init_plan(&planned, m, &plan, cache, err))))
        goto done;
    Progress progress = cli_progress("eval");
    QualityResult r;
    st = eval_quality(&base, has_plan ? &planned : NULL, &set, pool, &progress, &r, err);
    cli_progress_end(&progress);
    if (st == ST_OK) print_results(m, text_name, &set, plan_label, calib_note, has_plan, &r, n_threads);
done:
    weights_free(&planned);
    qcache_delete(cache);
    plan_free(&plan);
    weights_free(&base);
    evalset_free(&set);
    free(text);
    model_close(m);
    pool_delete(pool);
    return st;
}
