/* plan.h — which format every tensor of a model is stored and run in.
 *
 * A Plan is resolved per tensor for one model (an array of Formats); PlanRules are
 * its text form, the rules of llama-quantize's --tensor-type option:
 *
 *     # a comment
 *     default=q4_0                  type for matrices no rule matches (default f32)
 *     attn_v=q8_0                   POSIX extended regex, searched anywhere in the name
 *     blk\.[0-2]\.ffn_.*=int3-b64   teaching formats are allowed too
 *
 * When several rules match a tensor the last one wins (as in llama-quantize).
 * Norm vectors and tensors the network does not use always stay F32, as llama.cpp
 * keeps them; rules never change them.
 */
#ifndef QL_MODEL_PLAN_H
#define QL_MODEL_PLAN_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "model/model.h"
#include "quant/format.h"

typedef struct PlanRule {
    char *pattern;
    Format fmt;
    int line;      /* where it came from, for messages */
    regex_t re;
} PlanRule;

typedef struct PlanRules {
    Format dflt;
    int n_rules;
    PlanRule *rules;
} PlanRules;

/* Parses the text form. Errors name `name` and the line: "my.plan:3: unknown
 * format 'q9_0'", "my.plan:4: bad regular expression 'blk\.[': brackets ([ ])
 * not balanced", "my.plan:5: expected PATTERN=FORMAT". Empty text, binary or
 * non-UTF-8 input are refused. On error *r is empty. */
Status plan_rules_parse(PlanRules *r, const char *text, size_t len, const char *name, Error *err);
void plan_rules_free(PlanRules *r);

typedef struct Plan {
    int n_tensors;
    Format *fmt; /* (n_tensors) */
} Plan;

/* Whether a tensor takes a planned format at all (a 2-D matrix the network uses). */
bool plan_is_quantizable(const ModelTensor *t);

/* Every quantizable tensor in `all`, everything else F32. */
Status plan_init(Plan *p, const Model *m, Format all, Error *err);
void plan_free(Plan *p);
Status plan_copy(Plan *dst, const Plan *src, Error *err);
bool plan_equal(const Plan *a, const Plan *b);

/* Resolves rules against the model's tensors. A rule whose format cannot be
 * produced (e.g. q4_K) is ST_UNSUPPORTED naming the rule's line. */
Status plan_apply_rules(Plan *p, const Model *m, const PlanRules *r, const char *name, Error *err);

/* The text form of a plan, compact: the most common format as default, then one
 * rule per role that is uniform across layers, then one anchored rule per
 * remaining tensor. Re-parsing it gives the same plan. Caller frees *text. */
Status plan_to_text(const Plan *p, const Model *m, char **text, Error *err);

typedef enum PlanPreset {
    PRESET_FP32,          /* everything F32 */
    PRESET_FP16,          /* every matrix F16 */
    PRESET_INT8,          /* every matrix Q8_0 */
    PRESET_INT4,          /* every matrix Q4_0 */
    PRESET_INT4_KEEP_EDGES, /* Q4_0, but token_embd and output at Q8_0 */
    PRESET_Q4_K_M_LIKE,   /* Q4_0 with Q8_0 for output and for attn_v / ffn_down in the
                             layers llama.cpp's Q4_K_M gives more bits (use_more_bits) */
    PRESET_AS_STORED,     /* each tensor in the type the file stores it in */
    PRESET_COUNT
} PlanPreset;

Status plan_preset(Plan *p, const Model *m, PlanPreset preset, Error *err);
const char *plan_preset_name(PlanPreset preset);  /* "int4-keep-edges" */
const char *plan_preset_label(PlanPreset preset); /* short, for a status line: "INT4, edges INT8" */
/* Preset by name; -1 if none. */
int plan_preset_from_name(const char *name);

/* Honest in-memory bytes of all tensors under the plan (padding, scales included). */
double plan_bytes(const Plan *p, const Model *m);
/* Average bits per weight of the plan: plan_bytes * 8 / weights. */
double plan_bits_per_weight(const Plan *p, const Model *m);

/* What a model of n_weights weights would take at this many bits per weight, in
 * bytes (7e9 weights at 4.5 bits: 3.94 GB). Pure arithmetic, said so on screen. */
double plan_projected_bytes(double bits_per_weight, double n_weights);

/* Bytes of the same tensors at F32. */
double plan_bytes_f32(const Model *m);

/* Whether a GGUF file can store tensor t in format f (a GGML type whose block
 * divides the row length, without an outlier side list; GPTQ and pruned formats
 * are ordinary blocks); otherwise an export writes it in plan_export_format. */
bool plan_exports_as_is(const ModelTensor *t, Format f);

/* The format an export writes tensor t in: f itself when plan_exports_as_is,
 * else `fallback` (F16 or F32) keeping f's pruning (the zeros stay zeros). */
Format plan_export_format(const ModelTensor *t, Format f, Format fallback);

/* Bytes of the tensors in a GGUF exported from this plan: tensors a GGUF cannot
 * hold in their planned format (teaching formats, outlier splits, rows that are
 * not a whole number of blocks) are written in plan_export_format. */
double plan_bytes_export(const Plan *p, const Model *m, Format fallback);

/* Turns p into the plan an export actually writes: every tensor a GGUF cannot
 * hold in its planned format gets plan_export_format. Running this plan in memory
 * gives exactly what the exported file gives. */
void plan_apply_export_fallback(Plan *p, const Model *m, Format fallback);

#endif
