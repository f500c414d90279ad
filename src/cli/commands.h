/* commands.h — the batch commands. Each parses its own options (from its option
 * table), prints its results on stdout, and returns a Status with a one-line
 * error for main() to print. `argv[0]` is the command name. */
#ifndef QL_CLI_COMMANDS_H
#define QL_CLI_COMMANDS_H

#include "base/error.h"

typedef Status (*CommandFn)(int argc, char **argv, Error *err);

typedef struct Command {
    const char *name;
    CommandFn run;
    const char *summary; /* one line for `quantlab --help` */
} Command;

/* The command table, ended by a {NULL} entry. */
extern const Command COMMANDS[];

Status cmd_info(int argc, char **argv, Error *err);
Status cmd_generate(int argc, char **argv, Error *err);
Status cmd_convert(int argc, char **argv, Error *err);
Status cmd_quantize(int argc, char **argv, Error *err);
Status cmd_stats(int argc, char **argv, Error *err);
Status cmd_plan(int argc, char **argv, Error *err);
Status cmd_sensitivity(int argc, char **argv, Error *err);
Status cmd_eval(int argc, char **argv, Error *err);
Status cmd_lessons(int argc, char **argv, Error *err);
Status cmd_plot(int argc, char **argv, Error *err);
Status cmd_synth(int argc, char **argv, Error *err);
Status cmd_bench(int argc, char **argv, Error *err);

#endif
