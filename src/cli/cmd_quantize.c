/* cmd_quantize.c — `quantlab quantize`: write a model under a plan as GGUF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/export.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    {"output", 'o', "FILE", "the GGUF file to write (required)"},
    {"fallback", 0, "TYPE", "type for tensors GGUF cannot hold as planned: f16 (default) or f32"},
    {"force", 0, NULL, "replace FILE if it exists"},
    CLI_OPT_CALIB,
    CLI_OPT_CALIB_TOKENS,
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

Status cmd_quantize(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "quantize", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "quantize [-m IN] (--plan FILE | --type T | --preset NAME) -o OUT.gguf",
                       "Writes the model with every matrix in its planned format, as a GGUF file that\n"
                       "llama.cpp and LM Studio load. Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 blocks are\n"
                       "bit-exact with llama.cpp's own quantizers. A tensor GGUF cannot store as\n"
                       "planned (a teaching format such as int3-b64, or rows that are not a whole\n"
                       "number of 32-value blocks, like stories260K's ffn_down) is written in the\n"
                       "--fallback type, and each one is listed. Norm vectors stay F32.\n\n"
                       "+gptq formats are calibrated on --calib first and written as the ordinary\n"
                       "Q4_0 / Q8_0 blocks they are; pruned ones as dense blocks holding the zeros.\n"
                       "An outlier split (+out1%) cannot be stored in GGUF: such tensors go to the\n"
                       "fallback type, as teaching formats do.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "quantize: unexpected argument '%s' (the model goes after -m)", a.pos[0]);
    const char *out = cli_str(&a, "output", NULL);
    if (!out) return error_set(err, ST_USAGE, "quantize: say where to write with -o OUT.gguf");
    Format fallback;
    const char *fb = cli_str(&a, "fallback", "f16");
    if (strcmp(fb, "f16") == 0) fallback = FORMAT_FP16;
    else if (strcmp(fb, "f32") == 0) fallback = FORMAT_FP32;
    else return error_set(err, ST_USAGE, "quantize: --fallback is f16 or f32, not '%s'", fb);

    char path[4096];
    if ((st = cli_model_path(&a, false, path, sizeof path, err))) return st;
    if ((st = cli_check_output(&a, out, path, err))) return st;

    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads;
    Plan p = {0};
    QuantCache *cache = NULL;
    bool given;
    char desc[128];
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) || (st = model_open(&m, path, cli_str(&a, "tokenizer", NULL), err)) ||
        (st = cli_plan(&a, m, &p, &given, desc, sizeof desc, err)))
        goto done;
    if (!given) {
        st = error_set(err, ST_USAGE, "quantize: say what to quantize to: --type q4_0, --preset int8 or --plan FILE");
        goto done;
    }
    char calib_note[512];
    if ((st = cli_plan_cache(&a, m, &p, pool, &cache, calib_note, sizeof calib_note, err))) goto done;
    if (calib_note[0]) printf("calibration: %s\n", calib_note);
    ExportReport rep;
    if ((st = model_export_gguf(m, &p, cache, fallback, out, &rep, err))) goto done;
    for (int i = 0; i < rep.n_fallback && i < EXPORT_MAX_NOTES; i++) printf("note: %s\n", rep.notes[i]);
    if (rep.n_fallback > EXPORT_MAX_NOTES) printf("note: ... and %d more\n", rep.n_fallback - EXPORT_MAX_NOTES);
    FileMap check;
    double size = 0;
    if (file_map_open(&check, out, NULL) == ST_OK) size = (double)check.size;
    file_map_close(&check);
    char b1[32], b2[32], b3[32];
    printf("wrote %s (%s): %d tensors, %s bytes (%s); the same tensors at F32: %s\n", out, desc, rep.n_tensors,
           fmt_count(b1, sizeof b1, (int64_t)size), fmt_bytes(b2, sizeof b2, size),
           fmt_bytes(b3, sizeof b3, plan_bytes_f32(m)));
done:
    qcache_delete(cache);
    plan_free(&p);
    model_close(m);
    pool_delete(pool);
    return st;
}
