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

typedef enum EvalProtocol { EVAL_LLAMA2C = 0, EVAL_WINDOWED = 1 } EvalProtocol;

typedef struct EvalSet {
    EvalProtocol protocol;
    int n_seqs;
    int *seq_start;   /* (n_seqs + 1) offsets into tokens */
    int *tokens;      /* every sequence starts with BOS */
    int score_from;   /* first position whose prediction is scored (0: all) */
    int64_t n_predictions;
    int64_t n_bytes;  /* bytes of text behind the scored tokens (bits per byte): the
                         stripped pieces; 0 for EVAL_WINDOWED, which has no byte count */
    int max_len;      /* longest sequence */
    int n_ctx;        /* EVAL_WINDOWED: tokens per chunk; EVAL_LLAMA2C: the length
                         pieces are cut to (the model's context) */
    int n_truncated;  /* EVAL_LLAMA2C: pieces longer than n_ctx, cut to it */
    int64_t n_text_tokens; /* tokens the kept text encodes to, BOS included (before
                              EVAL_WINDOWED drops the incomplete last chunk) */
} EvalSet;

/* Builds a token set from text, following one of the two protocols exactly (see
 * eval.c for every step and where it comes from).
 *
 * Text must be non-empty UTF-8 without NUL bytes and not mostly control
 * characters; otherwise ST_FORMAT with one line naming `name` and the first bad
 * byte ("notes.txt: not UTF-8 text (byte 0xff at offset 1234)"). ST_FORMAT too
 * when nothing is left to score (only blank lines; a text shorter than one
 * chunk). For EVAL_WINDOWED, n_ctx (llama-perplexity's -c) is 4..RUNSTATE_MAX_CTX
 * (ST_USAGE otherwise); EVAL_LLAMA2C ignores n_ctx and cuts pieces to
 * min(context_length, RUNSTATE_MAX_CTX) tokens. max_tokens > 0 caps the tokens
 * kept (whole pieces; whole chunks), 0 keeps all. On error *s is empty
 * (evalset_free-safe). */
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
    double kl_min;               /* smallest per-token KL (never negative) */
    double top1_agree;           /* fraction where both models' argmax agree */
    double rms_dp;               /* sqrt(mean((p_plan(tok) - p_base(tok))^2)) */
    double seconds;
} QualityResult;

/* FP32's logits at every scored position of one EvalSet, kept so that measuring
 * many plans on the same tokens (a sensitivity scan) runs FP32 only once. */
typedef struct EvalBaseCache {
    float *logits;        /* (n_predictions, vocab) */
    int64_t n_predictions;
    int vocab;
    bool ready;           /* filled by a complete eval_quality_cached run */
} EvalBaseCache;

/* Memory a cache for this set would take; caches above EVAL_CACHE_MAX_BYTES are
 * not made (eval_base_cache_init leaves it empty and quality runs FP32 each time). */
#define EVAL_CACHE_MAX_BYTES ((size_t)256 << 20)
void eval_base_cache_init(EvalBaseCache *c, const EvalSet *set, int vocab);
void eval_base_cache_free(EvalBaseCache *c);

/* Runs base and plan on the same tokens in one pass. plan may be NULL (then only
 * the base figures are filled and the others are 0). Both must run the same
 * Model. Figures follow llama-perplexity's definitions (eval.c says how); they do
 * not depend on the pool's thread count. pool (borrowed, may be NULL) runs
 * independent sequences side by side, or a lone sequence's matrix products.
 * progress may be NULL; its report is called with done in [0,1] and the stage
 * "FP32" or "FP32 vs plan", from any of the pool's threads but never two at once.
 * Errors leave *out untouched: ST_CANCELLED when progress asks; ST_USAGE for a set
 * with nothing to score or tokens outside the vocabulary; ST_FORMAT when a forward
 * pass gives a non-finite logit (the figures cannot be measured); ST_NOMEM. */
Status eval_quality(const Weights *base, const Weights *plan, const EvalSet *set, Pool *pool,
                    const Progress *progress, QualityResult *out, Error *err);

/* The same, reading FP32's logits from the cache when it is ready and filling it
 * otherwise. Results are bit-identical to eval_quality's. cache may be empty. */
Status eval_quality_cached(const Weights *base, const Weights *plan, const EvalSet *set,
                           EvalBaseCache *cache, Pool *pool, const Progress *progress,
                           QualityResult *out, Error *err);

/* llama-perplexity's percentile of n values: linear interpolation at
 * fraction * (n - 1) of the sorted values, so fraction 0.5 is the median (the mean
 * of the two middle values when n is even). Reorders `values` (a selection, not a
 * sort: expected O(n)). 0 when n is 0. */
double eval_percentile(float *values, size_t n, double fraction);

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
 * against FP32 on `set`. Units: SENS_TENSOR, one per quantizable tensor (tensor =
 * its index, layer -1, its name); SENS_BLOCK, one per block (tensor -1, layer N,
 * "blk.N") and one per quantizable tensor outside the blocks (token_embd, output).
 * Fills *items (caller frees) sorted most sensitive first (ties: blocks, then by
 * tensor index). progress gets the unit's name as its stage. Errors:
 * ST_UNSUPPORTED for a target quantlab cannot produce, ST_CANCELLED, and those of
 * quantizing and eval_quality (prefixed with the unit's name); *items is then
 * NULL and *n_items 0. */
Status eval_sensitivity(const Model *m, QuantCache *cache, Format target, SensitivityUnit unit,
                        const EvalSet *set, Pool *pool, const Progress *progress,
                        SensitivityItem **items, int *n_items, Error *err);

/* A plan within a size budget: starting from all-`low`, gives `high` to the
 * units with the most KL per byte of the extra cost, while the plan fits
 * budget_bytes (plan_bytes). Upgrades are tried in that order and each is kept
 * only if the plan still fits, so a large one that does not fit leaves room for
 * smaller ones after it. Sensitivities must have been measured at `low` (their
 * bytes_saved is checked against it). Errors (*p then empty): ST_USAGE "budget X
 * bytes is below the smallest plan (Y bytes at q4_0)", an item that names no
 * quantizable tensor or block, or was measured at another format;
 * ST_UNSUPPORTED for a format quantlab cannot produce. */
Status plan_auto(Plan *p, const Model *m, const SensitivityItem *items, int n_items, Format low,
                 Format high, double budget_bytes, Error *err);

/* Decode speed: greedy generation of n_tokens (1..RUNSTATE_MAX_CTX) from BOS, one
 * token at a time, every token fed back whatever it is (no stop at EOS). Only the
 * forward passes and the argmax are timed, after one untimed warm-up pass.
 * *tokens_per_s = n_tokens / seconds. pool (may be NULL) threads the matrices. */
Status eval_speed(const Weights *w, Pool *pool, int n_tokens, double *tokens_per_s, Error *err);

#endif
