/* generate.h — the generation loop: feed the prompt, then sample new tokens.
 *
 * Follows llama2.c's generate(): position 0 is the first prompt token (BOS), the
 * prompt is forced token by token, then each forward pass's logits are sampled;
 * generation stops after n_new sampled tokens, at BOS or EOS, or when the
 * callback asks. Every token (prompt ones too) is reported to the callback with
 * its printable piece and the probability the model gave it.
 */
#ifndef QL_MODEL_GENERATE_H
#define QL_MODEL_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/forward.h"
#include "model/sampler.h"

typedef struct GenerateStep {
    int pos;            /* position of this token */
    int token;
    bool from_prompt;   /* forced from the prompt, not sampled */
    const char *piece;  /* bytes to print (tokenizer_decode) */
    size_t piece_len;
    float prob;         /* the model's probability of this token (softmax at temperature 1) */
} GenerateStep;

/* Return false to stop early. */
typedef bool (*GenerateCallback)(void *ctx, const GenerateStep *step);

typedef struct GenerateStats {
    int n_prompt;      /* prompt tokens fed (BOS included) */
    int n_generated;   /* tokens sampled */
    double seconds;    /* time in forward passes and sampling (not in the callback) */
    bool stopped_at_end; /* the model produced BOS/EOS */
} GenerateStats;

/* prompt: n_prompt >= 1 token ids (normally BOS first). The RunState must hold
 * n_prompt + n_new - 1 positions. stats may be NULL. */
Status generate_run(const Weights *w, RunState *s, Sampler *sampler, const int *prompt,
                    int n_prompt, int n_new, GenerateCallback cb, void *ctx, GenerateStats *stats,
                    Error *err);

#endif
