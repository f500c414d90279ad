/* cmd_convert.c — `quantlab convert`: a llama2.c checkpoint to GGUF. */
#include <inttypes.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "gguf/gguf.h"
#include "base/file.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_TOKENIZER,
    {"output", 'o', "FILE", "the GGUF file to write (required)"},
    {"force", 0, NULL, "replace FILE if it exists"},
    CLI_OPT_HELP,
    {0},
};

Status cmd_convert(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "convert", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "convert MODEL.bin [--tokenizer TOK.bin] -o OUT.gguf",
                       "Converts a llama2.c checkpoint and its tokenizer into a GGUF file that\n"
                       "llama.cpp and LM Studio load: the same tensors, names and tokenizer keys as\n"
                       "llama.cpp's convert-llama2c-to-ggml, with the checkpoint's real context length.\n"
                       "The output is written to a temporary name and renamed; the input is never changed.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos != 1) return error_set(err, ST_USAGE, "convert: give one llama2.c checkpoint (see --help)");
    const char *in = a.pos[0];
    const char *out = cli_str(&a, "output", NULL);
    if (!out) return error_set(err, ST_USAGE, "convert: say where to write with -o OUT.gguf");
    if ((st = cli_check_output(&a, out, in, err))) return st;

    GgufFile g;
    void *owned = NULL;
    bool from_llama2c = false;
    if ((st = model_read_file(in, cli_str(&a, "tokenizer", NULL), &g, &owned, &from_llama2c, err))) return st;
    if (!from_llama2c) {
        gguf_close(&g);
        free(owned);
        return error_set(err, ST_USAGE, "%s: already a GGUF file; convert reads llama2.c checkpoints", in);
    }
    /* The in-memory image model_read_file built is exactly the file to write. */
    st = atomic_file_write(out, owned, g.size, err);
    if (st == ST_OK) {
        char n[32];
        printf("wrote %s: %" PRIu64 " tensors, %s bytes\n", out, g.n_tensors,
               fmt_count(n, sizeof n, (int64_t)g.size));
    }
    gguf_close(&g);
    free(owned);
    return st;
}
