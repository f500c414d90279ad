/* main.c — command dispatch. With tui/, the only code that prints errors or exits.
 *
 * Exit codes: 0 success, 1 a runtime error (a bad file, a failed write),
 * 2 a usage error (a wrong flag or argument). Every error is one line on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "base/datadir.h"
#include "cli/commands.h"

#define QUANTLAB_VERSION "0.1.0"

const Command COMMANDS[] = {
    {"info", cmd_info, "list a model file: hyper-parameters, tensors, types, sizes"},
    {"generate", cmd_generate, "write a story with the model (greedy or sampled)"},
    {"convert", cmd_convert, "turn a llama2.c checkpoint into a GGUF file"},
    {"eval", cmd_eval, "perplexity and KL divergence of a plan against FP32 on a text"},
    {NULL, NULL, NULL},
};

static void print_help(FILE *fp) {
    fprintf(fp,
            "usage: quantlab [MODEL.gguf]          open the explorer\n"
            "       quantlab COMMAND [OPTIONS]     run a batch command\n"
            "\n"
            "quantlab lets you see what quantization does to a language model: switch\n"
            "its layers between FP32, INT8 and INT4 and watch size, speed and quality.\n"
            "With no MODEL it opens the bundled stories260K model.\n"
            "\ncommands:\n");
    for (const Command *c = COMMANDS; c->name; c++) fprintf(fp, "  %-12s %s\n", c->name, c->summary);
    fprintf(fp,
            "\n  quantlab COMMAND --help   shows a command's options\n"
            "  quantlab --version        prints the version\n");
}

static int exit_code(Status st) {
    return st == ST_OK ? 0 : st == ST_USAGE ? 2 : 1;
}

int main(int argc, char **argv) {
    datadir_set_argv0(argv[0]);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_help(stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("quantlab %s\n", QUANTLAB_VERSION);
        return 0;
    }
    if (argc > 1 && argv[1][0] != '-') {
        for (const Command *c = COMMANDS; c->name; c++) {
            if (strcmp(argv[1], c->name) != 0) continue;
            Error err = {ST_OK, ""};
            Status st = c->run(argc - 1, argv + 1, &err);
            fflush(stdout);
            if (st != ST_OK) fprintf(stderr, "quantlab: %s\n", err.msg);
            return exit_code(st);
        }
    }
    /* The explorer comes with the TUI; until then say what is available. */
    if (argc > 1 && argv[1][0] != '-' && strchr(argv[1], '.') == NULL) {
        fprintf(stderr, "quantlab: unknown command '%s' (see quantlab --help)\n", argv[1]);
        return 2;
    }
    print_help(stderr);
    return 2;
}
