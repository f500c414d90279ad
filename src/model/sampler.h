/* sampler.h — picking the next token from logits: greedy, temperature, top-p.
 *
 * Reproduces llama2.c's sampler exactly (xorshift64* generator, its top-p cutoff
 * and ordering), so `--temp 1 --top-p 0.9 --seed S` gives the same story as
 * llama2.c's `run -t 1 -p 0.9 -s S`.
 */
#ifndef QL_MODEL_SAMPLER_H
#define QL_MODEL_SAMPLER_H

#include <stdint.h>

#include "base/error.h"

typedef struct SamplerCandidate {
    float prob;
    int index;
} SamplerCandidate;

typedef struct Sampler {
    int vocab_size;
    float temperature;  /* 0 = greedy (argmax) */
    float top_p;        /* in (0,1) enables nucleus sampling; otherwise full distribution */
    uint64_t rng_state; /* never 0 */
    SamplerCandidate *candidates; /* (vocab_size) top-p scratch */
} Sampler;

/* temperature >= 0, top_p in [0,1]; seed 0 is replaced by 1 (xorshift needs a non-zero state). */
Status sampler_init(Sampler *s, int vocab_size, float temperature, float top_p, uint64_t seed,
                    Error *err);
void sampler_free(Sampler *s);

/* Picks a token. Overwrites logits (they become probabilities unless greedy). */
int sampler_sample(Sampler *s, float *logits);

/* Index of the largest value (first on ties). */
int sampler_argmax(const float *x, int n);

#endif
