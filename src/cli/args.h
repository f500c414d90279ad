/* args.h — command-line options from one table per command.
 *
 * A command declares its options once (name, short letter, argument name, help);
 * the parser, the value getters and the --help text all read that table, so the
 * help can never disagree with what is accepted. Errors are usage errors (exit 2)
 * with one line naming the command and the option.
 */
#ifndef QL_CLI_ARGS_H
#define QL_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

typedef struct CliOption {
    const char *name;  /* long name without "--"; NULL ends a table */
    char short_name;   /* 0 when none */
    const char *arg;   /* argument placeholder ("FILE"), NULL for a flag */
    const char *help;  /* one line */
} CliOption;

enum { CLI_MAX_OPTIONS = 48, CLI_MAX_POSITIONAL = 16 };

typedef struct CliArgs {
    const CliOption *opts;
    const char *cmd;                       /* "generate", for messages */
    const char *values[CLI_MAX_OPTIONS];   /* by table index; flags get "" */
    int n_pos;
    const char *pos[CLI_MAX_POSITIONAL];
} CliArgs;

/* Parses argv[1..argc-1] (argv[0] is the command name). Accepts --name VALUE,
 * --name=VALUE, -x VALUE, -xVALUE, "--" to end options. A repeated option keeps
 * its last value. */
Status cli_parse(CliArgs *a, const char *cmd, const CliOption *opts, int argc, char **argv,
                 Error *err);

bool cli_has(const CliArgs *a, const char *name);
const char *cli_str(const CliArgs *a, const char *name, const char *dflt);
/* The value of an option the command may not have at all: NULL when its table
 * lacks the option or the user did not give it. */
const char *cli_given(const CliArgs *a, const char *name);
Status cli_int(const CliArgs *a, const char *name, long min, long max, long dflt, long *out,
               Error *err);
Status cli_u64(const CliArgs *a, const char *name, uint64_t dflt, uint64_t *out, Error *err);
Status cli_float(const CliArgs *a, const char *name, double min, double max, double dflt,
                 double *out, Error *err);

/* Prints "usage: quantlab USAGE\n\nSUMMARY\n\noptions:\n  -m, --model FILE  help..." */
void cli_print_help(FILE *fp, const char *usage, const char *summary, const CliOption *opts);

#endif
