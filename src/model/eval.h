/* eval.h — measuring a plan against FP32: quality, sensitivity, speed.
 *
 * All figures come from running the model here, on this machine, on the given
 * tokens; nothing is estimated or looked up.
 *
 * Token sets follow two published protocols so figures can be checked:
 *  - llama2.c's: the text split at blank lines, each piece encoded with BOS as its
 *    own sequence, every next token scored (FP32 on tinystories_val.txt: 5.3711).
 *  - llama.cpp's llama-perplexity: the whole text encoded with BOS, cut into
 *    chunks of n_ctx tokens whose first token is replaced by BOS, and only the
 *    second half of each chunk scored.
 */
#ifndef QL_MODEL_EVAL_H
#define QL_MODEL_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/progress.h"
#include "model/forward.h"
#include "model/plan.h"
#include "model/qcache.h"

typedef struct EvalSet {
    int n_seqs;
    int *seq_start;   /* (n_seqs + 1) offsets into tokens */
    int *tokens;      /* every sequence starts with BOS */
    int score_from;   /* first position whose prediction is scored (0: all) */
    int64_t n_predictions;
    int64_t n_bytes;  /* bytes of text behind the scored tokens (bits per byte) */
    int max_len;      /* longest sequence */
} EvalSet;

typedef enum EvalProtocol { EVAL_LLAMA2C = 0, EVAL_WINDOWED = 1 } EvalProtocol;

/* Builds a token set from text. Text must be non-empty UTF-8 without NUL bytes
 * (ST_FORMAT naming `name` otherwise). For EVAL_WINDOWED, n_ctx >= 4 tokens per
 * chunk (llama-perplexity's -c); max_tokens > 0 caps the tokens kept. */
Status evalset_from_text(EvalSet *s, const Model *m, const char *text, size_t len,
                         const char *name, EvalProtocol protocol, int n_ctx, int64_t max_tokens,
                         Error *err);
void evalset_free(EvalSet *s);

typedef struct QualityResult {
    int64_t n_predictions;
    double nll_base, nll_plan;   /* mean negative log-likelihood, nats */
    double ppl_base, ppl_plan;   /* exp(nll) */
    double bpb_base, bpb_plan;   /* bits per byte of text (llama2.c protocol) */
    double kl_mean, kl_median, kl_p99, kl_max; /* KL(base || plan), nats */
    double top1_agree;           /* fraction where both models' argmax agree */
    double rms_dp;               /* sqrt(mean((p_plan(tok) - p_base(tok))^2)) */
    double seconds;
} QualityResult;

/* Runs base and plan on the same tokens in one pass. plan may be NULL (then only
 * the base figures are filled). ST_CANCELLED if progress asks. */
Status eval_quality(const Weights *base, const Weights *plan, const EvalSet *set, Pool *pool,
                    const Progress *progress, QualityResult *out, Error *err);

typedef struct SensitivityItem {
    int tensor;        /* a tensor index, or -1 for a whole block */
    int layer;         /* block number for block units, -1 otherwise */
    char name[64];
    double kl_mean;    /* KL against FP32 with only this unit quantized */
    double top1_agree;
    double bytes_saved; /* F32 bytes minus bytes in the target format */
} SensitivityItem;

typedef enum SensitivityUnit { SENS_TENSOR = 0, SENS_BLOCK = 1 } SensitivityUnit;

/* Quantizes one unit at a time to `target` (everything else F32) and measures KL
 * against FP32 on `set`. Fills *items (caller frees) sorted most sensitive first. */
Status eval_sensitivity(const Model *m, QuantCache *cache, Format target, SensitivityUnit unit,
                        const EvalSet *set, Pool *pool, const Progress *progress,
                        SensitivityItem **items, int *n_items, Error *err);

/* A plan within a size budget: starting from all-`low`, gives `high` to the
 * tensors with the most KL per byte of the extra cost, while the plan fits
 * budget_bytes. Sensitivities must have been measured at `low`. */
Status plan_auto(Plan *p, const Model *m, const SensitivityItem *items, int n_items, Format low,
                 Format high, double budget_bytes, Error *err);

/* Decode speed: greedy generation of n_tokens from BOS, timed. tokens/s measured. */
Status eval_speed(const Weights *w, Pool *pool, int n_tokens, double *tokens_per_s, Error *err);

#endif
