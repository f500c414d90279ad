/* generate.c — see generate.h. */
#include "model/generate.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "model/ops.h"

Status generate_run(const Weights *w, RunState *s, Sampler *sampler, const int *prompt,
                    int n_prompt, int n_new, GenerateCallback cb, void *ctx, GenerateStats *stats,
                    Error *err) {
    const Model *m = w->model;
    const int vocab = m->cfg.vocab_size;
    if (n_prompt < 1) return error_set(err, ST_USAGE, "the prompt needs at least one token");
    if (n_new < 0) return error_set(err, ST_USAGE, "cannot generate a negative number of tokens");
    int steps = n_prompt - 1 + n_new; /* forward passes */
    if (steps > s->n_ctx)
        return error_set(err, ST_LIMIT, "%d positions do not fit the %d-position cache", steps,
                         s->n_ctx);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= vocab)
            return error_set(err, ST_USAGE, "prompt token %d is not in the vocabulary", prompt[i]);
    float *probs = malloc((size_t)vocab * sizeof *probs);
    if (!probs) return error_set(err, ST_NOMEM, "out of memory");

    GenerateStats st = {n_prompt, 0, 0.0, false};
    int token = prompt[0];
    bool go = true;
    if (cb) { /* the first prompt token has no prediction behind it */
        size_t len;
        const char *piece = tokenizer_decode(&m->tok, -1, token, &len);
        GenerateStep step = {0, token, true, piece, len, 1.0f};
        go = cb(ctx, &step);
    }
    for (int pos = 0; go && pos < steps; pos++) {
        double t0 = clock_now();
        float *logits = model_forward(w, s, token, pos);
        memcpy(probs, logits, (size_t)vocab * sizeof *probs);
        ops_softmax(probs, vocab);
        bool forced = pos < n_prompt - 1;
        int next = forced ? prompt[pos + 1] : sampler_sample(sampler, logits);
        st.seconds += clock_now() - t0;
        if (!forced) st.n_generated++;
        if (!forced && (next == m->tok.bos_id || next == m->tok.eos_id)) {
            st.stopped_at_end = true;
            break;
        }
        if (cb) {
            size_t len;
            const char *piece = tokenizer_decode(&m->tok, token, next, &len);
            GenerateStep step = {pos + 1, next, forced, piece, len, probs[next]};
            go = cb(ctx, &step);
        }
        token = next;
    }
    free(probs);
    if (stats) *stats = st;
    return ST_OK;
}
