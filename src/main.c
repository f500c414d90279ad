/* main.c — command dispatch. With tui/, the only code that prints errors or exits.
 *
 * Exit codes: 0 success, 1 a runtime error (a bad file, a failed write),
 * 2 a usage error (a wrong flag or argument). Every error is one line on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/datadir.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tui/theme.h"
#include "tui/tui.h"

#define QUANTLAB_VERSION "0.1.0"

const Command COMMANDS[] = {
    {"info", cmd_info, "list a model file: hyper-parameters, tensors, types, sizes"},
    {"generate", cmd_generate, "write a story with the model (greedy or sampled)"},
    {"convert", cmd_convert, "turn a llama2.c checkpoint into a GGUF file"},
    {"quantize", cmd_quantize, "write the model under a plan as a GGUF file llama.cpp loads"},
    {"stats", cmd_stats, "what a plan does to each tensor: sizes, errors, histograms"},
    {"plan", cmd_plan, "print or save a plan (presets, one type, or a plan file)"},
    {"sensitivity", cmd_sensitivity, "which tensors a format hurts most, ranked (KL against FP32)"},
    {"eval", cmd_eval, "perplexity and KL divergence of a plan against FP32 on a text"},
    {"lessons", cmd_lessons, "list the lessons and your progress; check lesson files"},
    {"plot", cmd_plot, "pictures (PNG): weights and grid, rounding error, sensitivity, frontier"},
    {"bench", cmd_bench, "speed figures measured on this machine: decode, bandwidth, quantizing"},
    {"synth", cmd_synth, "write a synthetic llama model (random weights, trained-like spreads)"},
    {NULL, NULL, NULL},
};

static const CliOption EXPLORER_OPTIONS[] = {
    {"tokenizer", 0, "FILE", "tokenizer of a llama2.c .bin model"},
    {"plan", 0, "FILE", "start with this plan"},
    {"theme", 0, "NAME", "colours: default, contrast (for projectors) or mono"},
    {"no-color", 0, NULL, "no colours (also when NO_COLOR is set)"},
    {"no-mouse", 0, NULL, "ignore the mouse"},
    {"models", 0, "DIR", "another directory for the open-file picker (o)"},
    {"screen", 0, "NAME", "screen to start on: model, layers, histogram, compare, quality, lessons"},
    {"threads", 0, "N", "threads for matrix products (default: one per core)"},
    {"lesson", 0, "ID", "open this lesson (quantlab lessons --list shows them)"},
    {"present", 0, NULL, "presenter mode for a projector: quantlab --present [LESSON]"},
    {"help", 'h', NULL, "show this help"},
    {"version", 0, NULL, "print the version"},
    {0},
};

static void print_help(FILE *fp) {
    fprintf(fp,
            "usage: quantlab [MODEL.gguf]          open the explorer\n"
            "       quantlab --present [LESSON]    a lesson on a projector, for a class\n"
            "       quantlab COMMAND [OPTIONS]     run a batch command\n"
            "\n"
            "quantlab lets you see what quantization does to a language model: switch\n"
            "its layers between FP32, INT8 and INT4 and watch size, speed and quality.\n"
            "With no MODEL it opens the bundled stories260K model.\n"
            "\ncommands:\n");
    for (const Command *c = COMMANDS; c->name; c++) fprintf(fp, "  %-12s %s\n", c->name, c->summary);
    fprintf(fp, "\n  quantlab COMMAND --help   shows a command's options\n\nexplorer options:\n");
    for (const CliOption *o = EXPLORER_OPTIONS; o->name; o++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(fp, "  %-24s %s\n", left, o->help);
    }
    fprintf(fp, "\nIn the explorer, ? shows every key. Exit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

static int run_explorer(int argc, char **argv) {
    CliArgs a;
    Error err = {ST_OK, ""};
    if (cli_parse(&a, "", EXPLORER_OPTIONS, argc, argv, &err) != ST_OK) {
        fprintf(stderr, "quantlab: %s\n", err.msg[0] == ':' ? err.msg + 2 : err.msg);
        return 2;
    }
    if (cli_has(&a, "help")) {
        print_help(stdout);
        return 0;
    }
    if (cli_has(&a, "version")) {
        printf("quantlab %s\n", QUANTLAB_VERSION);
        return 0;
    }
    const char *model = a.n_pos ? a.pos[0] : NULL;
    const char *lesson = cli_str(&a, "lesson", NULL);
    /* quantlab --present try-1: a word that is no file names the lesson */
    if (cli_has(&a, "present") && a.n_pos > 0 && !lesson && !strchr(a.pos[a.n_pos - 1], '/') &&
        !strchr(a.pos[a.n_pos - 1], '.')) {
        lesson = a.pos[--a.n_pos];
        model = a.n_pos ? a.pos[0] : NULL;
    }
    if (a.n_pos > 1) {
        fprintf(stderr, "quantlab: give one model file (or a command: see quantlab --help)\n");
        return 2;
    }
    long threads = 0;
    if (cli_int(&a, "threads", 1, 256, 0, &threads, &err) != ST_OK) {
        fprintf(stderr, "quantlab: --threads wants a whole number from 1 to 256\n");
        return 2;
    }
    const char *theme = cli_str(&a, "theme", NULL);
    if (theme && theme_from_name(theme) < 0) {
        fprintf(stderr, "quantlab: unknown theme '%s' (default, contrast or mono)\n", theme);
        return 2;
    }
    const char *no_color = getenv("NO_COLOR");
    TuiOptions opt = {
        .model_path = model,
        .tokenizer_path = cli_str(&a, "tokenizer", NULL),
        .plan_path = cli_str(&a, "plan", NULL),
        .theme = theme,
        .models_dir = cli_str(&a, "models", NULL),
        .start_screen = cli_str(&a, "screen", NULL),
        .no_color = cli_has(&a, "no-color") || (no_color && *no_color),
        .no_mouse = cli_has(&a, "no-mouse"),
        .threads = (int)threads,
        .present = cli_has(&a, "present"),
        .lesson = lesson,
    };
    return tui_main(&opt);
}

static int exit_code(Status st) {
    return st == ST_OK ? 0 : st == ST_USAGE ? 2 : 1;
}

int main(int argc, char **argv) {
    datadir_set_argv0(argv[0]);
    /* A file size limit (ulimit -f) must fail a write with EFBIG, which every
     * writer reports ("not written (File too large)"), not kill quantlab. */
    signal(SIGXFSZ, SIG_IGN);
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
    /* Not a command: a word without a dot or slash is most likely a mistyped one. */
    if (argc > 1 && argv[1][0] != '-' && !strchr(argv[1], '.') && !strchr(argv[1], '/')) {
        fprintf(stderr, "quantlab: unknown command '%s' (see quantlab --help)\n", argv[1]);
        return 2;
    }
    return run_explorer(argc, argv);
}
