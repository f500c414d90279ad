/* forward.h — the llama forward pass for one token, with a KV cache.
 *
 * Weights says which stored form of every matrix a pass runs with (a MatView per
 * tensor: the FP32 copies, or a plan's quantized copies); RunState holds the
 * scratch buffers and the cache of one sequence. Running FP32 and a plan side by
 * side is two Weights and two RunStates over one Model.
 */
#ifndef QL_MODEL_FORWARD_H
#define QL_MODEL_FORWARD_H

#include "base/error.h"
#include "base/pool.h"
#include "model/model.h"
#include "quant/matvec.h"

typedef struct Weights {
    const Model *model; /* borrowed */
    MatView *mats;      /* (n_tensors) the form each matrix runs in */
} Weights;

/* Views over the model's float copies (every matrix F32). */
Status weights_init_f32(Weights *w, const Model *m, Error *err);
void weights_free(Weights *w);

/* Longest sequence a RunState may be made for (bounds the KV cache). */
enum { RUNSTATE_MAX_CTX = 1 << 16 };

typedef struct RunState {
    int n_ctx;          /* positions the cache holds */
    Pool *pool;         /* borrowed; NULL runs on the calling thread */
    float *x;           /* (dim) residual stream */
    float *xb, *xb2;    /* (dim) scratch */
    float *hb, *hb2;    /* (hidden_dim) feed-forward scratch */
    float *q;           /* (dim) queries */
    float *k;           /* (kv_dim) keys of the current position */
    float *rope_freq;   /* (rope_dim / 2) RoPE frequencies */
    float *rope_cs;     /* (rope_dim) cos, sin of the current position's angles */
    float *att;         /* (n_heads, n_ctx) attention scores */
    float *logits;      /* (vocab_size) output */
    float *key_cache;   /* (n_layers, n_kv_heads, head_dim, n_ctx): transposed, so the
                           scores of consecutive positions are computed together */
    float *value_cache; /* (n_layers, n_ctx, kv_dim) */
    void *scratch;      /* matvec activation scratch */
    /* Optional observer (calibration, model/calib.h): called with each weight
     * matrix's tensor index and input vector (n values) just before its product.
     * NULL, as runstate_init leaves it, costs one test per product. */
    void (*observe)(void *ctx, int tensor, const float *x, int n);
    void *observe_ctx;
} RunState;

/* Allocates buffers for sequences of up to n_ctx positions (1..RUNSTATE_MAX_CTX). */
Status runstate_init(RunState *s, const ModelConfig *c, int n_ctx, Pool *pool, Error *err);
void runstate_free(RunState *s);

/* Runs token at position pos (0 <= pos < s->n_ctx, positions filled in order)
 * and returns the logits (s->logits, vocab_size floats). */
float *model_forward(const Weights *w, RunState *s, int token, int pos);

#endif
