/* common.h — what the batch commands share: the options every command takes,
 * finding the bundled model, opening a model, the thread count. */
#ifndef QL_CLI_COMMON_H
#define QL_CLI_COMMON_H

#include <stdbool.h>

#include "base/error.h"
#include "base/pool.h"
#include "base/progress.h"
#include "cli/args.h"
#include "model/model.h"
#include "model/eval.h"
#include "model/plan.h"
#include "model/qcache.h"

#define CLI_OPT_MODEL \
    {"model", 'm', "FILE", "model: a GGUF file or a llama2.c .bin (default: the bundled stories260K)"}
#define CLI_OPT_TOKENIZER \
    {"tokenizer", 0, "FILE", "tokenizer of a llama2.c .bin (default: tok512.bin or tokenizer.bin beside it)"}
#define CLI_OPT_THREADS {"threads", 0, "N", "threads for matrix products (default: one per core)"}
#define CLI_OPT_HELP {"help", 'h', NULL, "show this help"}

#define CLI_OPT_PLAN {"plan", 0, "FILE", "a plan file: PATTERN=FORMAT lines, as llama-quantize's --tensor-type"}
#define CLI_OPT_TYPE                                                                               \
    {"type", 0, "FORMAT",                                                                           \
     "one format for every matrix: f32 f16 bf16 q8_0 (int8) q4_0 (int4) q4_1 q5_0 q5_1 int3-b64 ...; " \
     "+gptq +prune50 +2:4 +out1% after it (q4_0+gptq)"}
#define CLI_OPT_CALIB                                                                              \
    {"calib", 0, "FILE", "calibration text for +gptq formats (default: the bundled calib.txt, "      \
                         "100 TinyStories pieces that are not in eval.txt)"}
#define CLI_OPT_CALIB_TOKENS {"calib-tokens", 0, "N", "calibrate on the first N tokens only (whole pieces)"}
#define CLI_OPT_PRESET \
    {"preset", 0, "NAME", "a preset plan: fp32 fp16 int8 int4 int4-keep-edges q4_k_m-like as-stored"}

/* The bundled model's path relative to the data directory. */
#define CLI_BUNDLED_MODEL "assets/stories260K.gguf"
/* The bundled calibration text (disjoint from assets/eval.txt). */
#define CLI_CALIB_TEXT "assets/calib.txt"
/* H matrices a command may hold for GPTQ (calib.h). */
#define CLI_CALIB_MAX_BYTES (1024.0 * 1024.0 * 1024.0)

/* The model path the user asked for (-m, else the first positional when
 * allow_positional, else the bundled model). */
Status cli_model_path(const CliArgs *a, bool allow_positional, char *out, size_t size, Error *err);

/* Opens the model the options name. */
Status cli_open_model(const CliArgs *a, bool allow_positional, Model **m, Error *err);

/* --threads N (1..256), default: the number of online cores. */
Status cli_threads(const CliArgs *a, int *n, Error *err);

/* A pool of --threads threads (NULL pool when 1). */
Status cli_make_pool(const CliArgs *a, Pool **pool, int *n_threads, Error *err);

/* The plan named by --plan / --type / --preset (at most one). With none, *given
 * is false and the plan is all F32. desc gets a short description ("q4_0",
 * "plan my.plan", "preset int4-keep-edges"). */
Status cli_plan(const CliArgs *a, const Model *m, Plan *p, bool *given, char *desc, size_t size,
                Error *err);

/* When plan p has +gptq formats: reads --calib (default CLI_CALIB_TEXT), cut by
 * --calib-tokens, runs the FP32 model over it collecting what GPTQ needs for
 * those tensors, and hands the calibration to cache c. note gets one line for
 * the user ("calib.txt: 300 pieces, 31,234 tokens, 8.1 s") or "" when the plan
 * needs none. A progress line goes to stderr when it is a terminal. */
Status cli_calibrate(const CliArgs *a, const Model *m, const Plan *p, QuantCache *c, Pool *pool, char *note,
                     size_t size, Error *err);

/* A new cache of quantized copies on pool (*cache; the caller qcache_deletes it,
 * also after an error) calibrated for plan p by cli_calibrate (note as there). */
Status cli_plan_cache(const CliArgs *a, const Model *m, const Plan *p, Pool *pool, QuantCache **cache, char *note,
                      size_t size, Error *err);

#define CLI_OPT_TEXT {"text", 0, "FILE", "UTF-8 text to measure on (default: the bundled assets/eval.txt, 100 TinyStories pieces)"}
#define CLI_EVAL_TEXT "assets/eval.txt"

/* The text --text names, or the bundled evaluation text. */
Status cli_text_path(const CliArgs *a, char *out, size_t size, Error *err);

/* Reads that text and builds a llama2.c-protocol token set of at most max_tokens. */
Status cli_eval_set(const CliArgs *a, const Model *m, int64_t max_tokens, EvalSet *set, Error *err);

/* Reads the text at path (at most 256 MB) and builds a llama2.c-protocol token
 * set of at most max_tokens (0: all); name is what messages call the text. */
Status cli_read_eval_set(const char *path, const char *name, const Model *m, int64_t max_tokens, EvalSet *set,
                         Error *err);

/* A sensitivity scan on the text the options name (--text, --max-tokens; default
 * 2048 tokens of the bundled text), used by `sensitivity` and `plan --budget`. */
Status cli_run_sensitivity(const CliArgs *a, Model *m, Format target, SensitivityUnit unit, Pool *pool,
                           SensitivityItem **items, int *n, Error *err);

/* A progress reporter for long commands: a line on stderr that rewrites itself,
 * only when stderr is a terminal (quiet when piped). cli_progress_end clears it. */
Progress cli_progress(const char *cmd);
void cli_progress_end(const Progress *p);

/* Refuses to write over the input model (model, or NULL), any other file the
 * command reads (--tokenizer, --plan, --text, --calib), a directory, or
 * (without --force) an existing file. */
Status cli_check_output(const CliArgs *a, const char *out, const char *model, Error *err);

#endif
