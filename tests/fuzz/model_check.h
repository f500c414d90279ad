/* model_check.h — what fuzz_model and fuzz_llama2c_convert do with a model that
 * opened: run it, so a shape the loader let through that the forward pass
 * cannot handle is a crash the fuzzer sees. Header-only, static: each target
 * includes it once. */
#ifndef QL_TESTS_FUZZ_MODEL_CHECK_H
#define QL_TESTS_FUZZ_MODEL_CHECK_H

#include <string.h>

#include "fuzz/fuzz.h"
#include "model/forward.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "model/sampler.h"

/* Models larger than this open (the shape checks run) but are not run: a
 * forward pass over millions of weights would slow the fuzzer to a crawl. */
enum { FUZZ_RUN_MAX_PARAMS = 1 << 18 };

static void fuzz_run_weights(const Model *m, const Weights *w) {
    RunState s;
    Error err;
    FUZZ_CHECK(runstate_init(&s, &m->cfg, 3, NULL, &err) == ST_OK);
    int token = m->tok.bos_id >= 0 ? m->tok.bos_id : 0;
    for (int pos = 0; pos < 3; pos++) {
        float *logits = model_forward(w, &s, token, pos);
        token = sampler_argmax(logits, m->cfg.vocab_size);
        FUZZ_CHECK(token >= 0 && token < m->cfg.vocab_size);
    }
    runstate_free(&s);
}

static void fuzz_check_model(const Model *m) {
    FUZZ_CHECK(m->cfg.vocab_size == m->tok.n_vocab);
    FUZZ_CHECK(m->token_embd >= 0 && m->output >= 0 && m->output_norm >= 0);
    /* the tokenizer of a file works on text it never saw */
    static const char text[] = "Once upon a time \xe2\x96\x81\xff";
    int *ids = NULL, n = 0;
    Error err;
    Status st = tokenizer_encode(&m->tok, text, sizeof text - 1, false, false, &ids, &n, &err);
    FUZZ_CHECK(st == ST_OK || st == ST_UNSUPPORTED);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(ids[i] >= 0 && ids[i] < m->tok.n_vocab);
        size_t k;
        tokenizer_decode(&m->tok, i ? ids[i - 1] : -1, ids[i], &k);
    }
    free(ids);
    if (m->n_params > FUZZ_RUN_MAX_PARAMS) return;

    Weights w;
    FUZZ_CHECK(weights_init_f32(&w, m, &err) == ST_OK);
    fuzz_run_weights(m, &w);
    weights_free(&w);
    /* the same under a plan: quantized copies of whatever the file holds */
    static const PlanPreset presets[] = {PRESET_INT4_KEEP_EDGES, PRESET_AS_STORED};
    for (size_t k = 0; k < sizeof presets / sizeof presets[0]; k++) {
        Plan p;
        FUZZ_CHECK(plan_preset(&p, m, presets[k], &err) == ST_OK);
        QuantCache *c = qcache_new(m, NULL);
        FUZZ_CHECK(c != NULL);
        if (weights_init_plan(&w, m, &p, c, &err) == ST_OK) {
            fuzz_run_weights(m, &w);
            weights_free(&w);
        }
        qcache_delete(c);
        plan_free(&p);
    }
}

#endif
