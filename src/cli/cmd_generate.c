/* cmd_generate.c — `quantlab generate`: write a story with the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/generate.h"
#include "model/qcache.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    {"prompt", 'p', "TEXT", "start the story with this text (default: nothing, just BOS)"},
    {"tokens", 'n', "N", "number of new tokens to generate (default 256)"},
    {"temp", 0, "T", "temperature: 0 picks the likeliest token every time (default 0)"},
    {"top-p", 0, "P", "with --temp > 0, sample only from the top P of probability (default 0.9)"},
    {"seed", 's', "S", "random seed for sampling (default 42)"},
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    CLI_OPT_CALIB,
    CLI_OPT_CALIB_TOKENS,
    CLI_OPT_THREADS,
    {"stats", 0, NULL, "print the measured speed on stderr even when it is not a terminal"},
    CLI_OPT_HELP,
    {0},
};

typedef struct PrintCtx {
    bool flush;
} PrintCtx;

static bool print_piece(void *ctx, const GenerateStep *step) {
    const PrintCtx *pc = ctx;
    if (step->piece_len) fwrite(step->piece, 1, step->piece_len, stdout);
    if (pc->flush) fflush(stdout);
    return true;
}

Status cmd_generate(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "generate", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "generate [-m FILE] [-p TEXT] [-n N] [--temp T] [--top-p P] [--seed S] [--plan P | --type T | --preset NAME]",
                       "Generates text with the model, printing each token as it comes, the way\n"
                       "llama2.c's `run` does: `quantlab generate --temp 0 -n 200` prints what\n"
                       "`run stories260K.bin -z tok512.bin -t 0 -n 200` prints.\n\n"
                       "Without --plan, --type or --preset every matrix runs in FP32 from the float\n"
                       "copy of the file's values; with one, each runs in its planned format (the\n"
                       "preset as-stored runs each tensor in the type the file stores it in).",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "generate: unexpected argument '%s' (the prompt goes after -p)", a.pos[0]);
    long n_new;
    double temp, top_p;
    uint64_t seed;
    if ((st = cli_int(&a, "tokens", 0, RUNSTATE_MAX_CTX, 256, &n_new, err)) ||
        (st = cli_float(&a, "temp", 0.0, 100.0, 0.0, &temp, err)) ||
        (st = cli_float(&a, "top-p", 0.0, 1.0, 0.9, &top_p, err)) ||
        (st = cli_u64(&a, "seed", 42, &seed, err)))
        return st;

    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads = 1;
    Weights w = {0};
    RunState s = {0};
    Sampler sampler = {0};
    int *prompt = NULL;
    int n_prompt = 0;
    Plan plan = {0};
    QuantCache *cache = NULL;
    bool has_plan = false;
    char desc[128], calib_note[512] = "";
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) || (st = cli_open_model(&a, false, &m, err)) ||
        (st = cli_plan(&a, m, &plan, &has_plan, desc, sizeof desc, err)))
        goto done;
    if (!has_plan) snprintf(desc, sizeof desc, "FP32");
    const char *text = cli_str(&a, "prompt", "");
    if ((st = tokenizer_encode(&m->tok, text, strlen(text), true, false, &prompt, &n_prompt, err)))
        goto done;
    /* A prompt longer than the model's context is refused, as llama.cpp does:
     * feeding it would cost time quadratic in its length (a 128 kB prompt is
     * ~38,000 tokens, minutes of attention) for positions the model never saw. */
    if (n_prompt > m->cfg.context_length) {
        st = error_set(err, ST_LIMIT, "generate: the prompt is %d tokens, longer than the %d-token context %s declares",
                       n_prompt, m->cfg.context_length, file_basename(m->path));
        goto done;
    }
    long positions = (long)n_prompt - 1 + n_new;
    if (positions > RUNSTATE_MAX_CTX) {
        st = error_set(err, ST_LIMIT, "generate: the prompt (%d tokens) and %ld new tokens "
                       "need %ld positions; at most %d fit", n_prompt, n_new, positions, RUNSTATE_MAX_CTX);
        goto done;
    }
    if (positions > m->cfg.context_length)
        fprintf(stderr, "quantlab: note: running %ld positions; %s declares a context of %d\n",
                positions, file_basename(m->path), m->cfg.context_length);
    if (has_plan) {
        if ((st = cli_plan_cache(&a, m, &plan, pool, &cache, calib_note, sizeof calib_note, err)) ||
            (st = weights_init_plan(&w, m, &plan, cache, err)))
            goto done;
        if (calib_note[0] && isatty(STDERR_FILENO)) fprintf(stderr, "quantlab: calibration: %s\n", calib_note);
    } else if ((st = weights_init_f32(&w, m, err))) {
        goto done;
    }
    if ((st = runstate_init(&s, &m->cfg, positions > 0 ? (int)positions : 1, pool, err)) ||
        (st = sampler_init(&sampler, m->cfg.vocab_size, (float)temp, (float)top_p, seed, err)))
        goto done;

    PrintCtx pc = {isatty(STDOUT_FILENO) != 0};
    GenerateStats stats;
    st = generate_run(&w, &s, &sampler, prompt, n_prompt, (int)n_new, print_piece, &pc, &stats, err);
    if (st == ST_OK) {
        printf("\n");
        fflush(stdout);
        if (cli_has(&a, "stats") || isatty(STDERR_FILENO)) {
            int n = stats.n_prompt - 1 + stats.n_generated;
            fprintf(stderr, "quantlab: %d tokens in %.3f s: %.0f tokens/s measured (%s, %d thread%s)\n",
                    n, stats.seconds, stats.seconds > 0 ? n / stats.seconds : 0.0, desc, n_threads,
                    n_threads == 1 ? "" : "s");
        }
    }
done:
    free(prompt);
    sampler_free(&sampler);
    runstate_free(&s);
    weights_free(&w);
    qcache_delete(cache);
    plan_free(&plan);
    model_close(m);
    pool_delete(pool);
    return st;
}
