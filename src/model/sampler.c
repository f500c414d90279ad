/* sampler.c — see sampler.h; follows llama2.c run.c's sampler line for line. */
#include "model/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "model/ops.h"

Status sampler_init(Sampler *s, int vocab_size, float temperature, float top_p, uint64_t seed,
                    Error *err) {
    s->candidates = NULL;
    if (!(temperature >= 0.0f) || !isfinite(temperature))
        return error_set(err, ST_USAGE, "temperature must be 0 or more (got %g)", temperature);
    if (!(top_p >= 0.0f && top_p <= 1.0f))
        return error_set(err, ST_USAGE, "top-p must be between 0 and 1 (got %g)", top_p);
    s->vocab_size = vocab_size;
    s->temperature = temperature;
    s->top_p = top_p;
    s->rng_state = seed ? seed : 1;
    s->candidates = malloc((size_t)vocab_size * sizeof *s->candidates);
    if (!s->candidates) return error_set(err, ST_NOMEM, "out of memory for the sampler");
    return ST_OK;
}

void sampler_free(Sampler *s) {
    if (!s) return;
    free(s->candidates);
    s->candidates = NULL;
}

/* xorshift64* (https://en.wikipedia.org/wiki/Xorshift#xorshift.2A) */
static uint32_t random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * UINT64_C(0x2545F4914F6CDD1D)) >> 32);
}

static float random_f32(uint64_t *state) { /* in [0, 1) */
    return (float)(random_u32(state) >> 8) / 16777216.0f;
}

int sampler_argmax(const float *x, int n) {
    int max_i = 0;
    float max_p = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max_p) {
            max_i = i;
            max_p = x[i];
        }
    return max_i;
}

static int sample_mult(const float *probabilities, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += probabilities[i];
        if (coin < cdf) return i;
    }
    return n - 1; /* rounding errors */
}

static int compare_candidates(const void *a, const void *b) {
    const SamplerCandidate *x = a, *y = b;
    if (x->prob > y->prob) return -1;
    if (x->prob < y->prob) return 1;
    return 0;
}

/* Nucleus sampling: the smallest set of tokens whose probability exceeds top_p.
 * Tokens below (1 - top_p) / (n - 1) cannot be in it and are dropped before sorting. */
static int sample_topp(const float *probabilities, int n, float topp, SamplerCandidate *probindex,
                       float coin) {
    int n0 = 0;
    const float cutoff = (1.0f - topp) / (n - 1);
    for (int i = 0; i < n; i++)
        if (probabilities[i] >= cutoff) {
            probindex[n0].index = i;
            probindex[n0].prob = probabilities[i];
            n0++;
        }
    qsort(probindex, (size_t)n0, sizeof *probindex, compare_candidates);
    float cumulative_prob = 0.0f;
    int last_idx = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cumulative_prob += probindex[i].prob;
        if (cumulative_prob > topp) {
            last_idx = i;
            break;
        }
    }
    float r = coin * cumulative_prob;
    float cdf = 0.0f;
    for (int i = 0; i <= last_idx; i++) {
        cdf += probindex[i].prob;
        if (r < cdf) return probindex[i].index;
    }
    return probindex[last_idx].index;
}

int sampler_sample(Sampler *s, float *logits) {
    if (s->temperature == 0.0f) return sampler_argmax(logits, s->vocab_size);
    for (int q = 0; q < s->vocab_size; q++) logits[q] /= s->temperature;
    ops_softmax(logits, s->vocab_size);
    float coin = random_f32(&s->rng_state);
    if (s->top_p <= 0 || s->top_p >= 1 || s->vocab_size < 2)
        return sample_mult(logits, s->vocab_size, coin);
    return sample_topp(logits, s->vocab_size, s->top_p, s->candidates, coin);
}
