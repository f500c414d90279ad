/* cmd_synth.c — `quantlab synth`: write a synthetic llama model (model/synth.h). */
#include <stdio.h>

#include "base/clock.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/synth.h"

static const CliOption OPTIONS[] = {
    {"output", 'o', "FILE", "the GGUF file to write (required)"},
    {"dim", 0, "N", "embedding width (default 768)"},
    {"hidden", 0, "N", "feed-forward width (default 2048)"},
    {"layers", 0, "N", "blocks (default 12)"},
    {"heads", 0, "N", "attention heads (default 12)"},
    {"kv-heads", 0, "N", "key/value heads, dividing --heads (default: --heads)"},
    {"vocab", 0, "N", "vocabulary size (default 32000)"},
    {"ctx", 0, "N", "context length written in the file (default 1024)"},
    {"seed", 's', "S", "random seed: the same seed gives the same file (default 1)"},
    {"force", 0, NULL, "replace FILE if it exists"},
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

Status cmd_synth(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "synth", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout,
                       "synth -o FILE.gguf [--dim 768 --hidden 2048 --layers 12 --heads 12 --kv-heads 12\n"
                       "       --vocab 32000 --ctx 1024] [--seed S] [--force]",
                       "Writes a llama-architecture GGUF with random weights, for speed tests and for\n"
                       "seeing quantization on a model larger than the bundled one. The weights are\n"
                       "not trained (the text it writes is gibberish) but spread like trained ones:\n"
                       "a standard deviation per kind of matrix as measured on stories260K, heavy\n"
                       "tails (Student-t, 5 degrees of freedom), rows of different spreads, a few\n"
                       "outliers per matrix, norm weights around 1. The vocabulary is made up too\n"
                       "(SentencePiece style: <unk> <s> </s>, 256 byte tokens, word pieces). The\n"
                       "defaults give stories110M's shape, about 110 million weights per token\n"
                       "(134 million in the file: the output matrix is not tied). Same options and\n"
                       "seed, same bytes.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "synth: unexpected argument '%s'", a.pos[0]);
    const char *out = cli_str(&a, "output", NULL);
    if (!out) return error_set(err, ST_USAGE, "synth: say where to write with -o FILE.gguf");
    SynthConfig c = synth_config_default();
    long dim, hidden, layers, heads, kv, vocab, ctx;
    uint64_t seed;
    if ((st = cli_int(&a, "dim", 1, 65536, c.dim, &dim, err)) ||
        (st = cli_int(&a, "hidden", 1, 1 << 20, c.hidden_dim, &hidden, err)) ||
        (st = cli_int(&a, "layers", 1, 1024, c.n_layers, &layers, err)) ||
        (st = cli_int(&a, "heads", 1, 1024, c.n_heads, &heads, err)) ||
        (st = cli_int(&a, "kv-heads", 1, 1024, heads, &kv, err)) ||
        (st = cli_int(&a, "vocab", 1, 1 << 20, c.vocab_size, &vocab, err)) ||
        (st = cli_int(&a, "ctx", 1, 1 << 20, c.context_length, &ctx, err)) ||
        (st = cli_u64(&a, "seed", c.seed, &seed, err)))
        return st;
    c = (SynthConfig){(int)dim, (int)hidden, (int)layers, (int)heads, (int)kv, (int)vocab, (int)ctx, seed};
    if ((st = synth_config_check(&c, err))) return st;
    if ((st = cli_check_output(&a, out, NULL, err))) return st;

    Pool *pool = NULL;
    int n_threads;
    if ((st = cli_make_pool(&a, &pool, &n_threads, err))) return st;
    const double t0 = clock_now();
    st = synth_write_file(&c, out, pool, err);
    const double secs = clock_now() - t0;
    pool_delete(pool);
    if (st != ST_OK) return st;
    char n[32], b[32];
    printf("wrote %s: %s weights (F32, %s), dim %d, hidden %d, %d layers, %d heads (%d kv), vocab %d, "
           "seed %llu, in %.1f s\n",
           out, fmt_count(n, sizeof n, synth_weight_count(&c)), fmt_bytes(b, sizeof b, 4.0 * (double)synth_weight_count(&c)),
           c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, (unsigned long long)c.seed, secs);
    return ST_OK;
}
