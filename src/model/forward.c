/* forward.c — one llama decoder step: the maths of llama2.c's forward(), with every
 * matrix product going through matvec() in its planned format.
 *
 * Per layer:  xb = rmsnorm(x) * w_attn_norm
 *             q, k, v = Wq xb, Wk xb, Wv xb;  rotate q, k (RoPE, adjacent pairs)
 *             xb = softmax(q k^T / sqrt(head_dim)) v     (per head; kv heads shared)
 *             x += Wo xb
 *             xb = rmsnorm(x) * w_ffn_norm
 *             x += Wdown (silu(Wgate xb) * (Wup xb))
 * then logits = Woutput (rmsnorm(x) * w_output_norm).
 * Every product goes through product(), which first shows the input to the
 * RunState's observer when one is set (calibration, calib.c).
 */
#include "model/forward.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/fmt.h"
#include "base/sysmem.h"
#include "model/ops.h"
#include "quant/types.h"

Status weights_init_f32(Weights *w, const Model *m, Error *err) {
    w->model = m;
    w->mats = calloc((size_t)m->n_tensors + 1, sizeof *w->mats);
    if (!w->mats) return error_set(err, ST_NOMEM, "%s: out of memory", m->path);
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!t->f32) continue;
        w->mats[i] = (MatView){.type = GGML_TYPE_F32, .rows = t->rows, .cols = t->cols,
                               .row_bytes = (size_t)t->cols * sizeof(float), .data = t->f32};
    }
    return ST_OK;
}

void weights_free(Weights *w) {
    if (!w) return;
    free(w->mats);
    w->mats = NULL;
}

void runstate_free(RunState *s) {
    if (!s) return;
    free(s->x);
    free(s->xb);
    free(s->xb2);
    free(s->hb);
    free(s->hb2);
    free(s->q);
    free(s->att);
    free(s->logits);
    free(s->key_cache);
    free(s->value_cache);
    free(s->scratch);
    memset(s, 0, sizeof *s);
}

Status runstate_init(RunState *s, const ModelConfig *c, int n_ctx, Pool *pool, Error *err) {
    memset(s, 0, sizeof *s);
    if (n_ctx < 1 || n_ctx > RUNSTATE_MAX_CTX)
        return error_set(err, ST_LIMIT, "a sequence of %d positions is outside 1..%d", n_ctx,
                         RUNSTATE_MAX_CTX);
    size_t cache = 0, att = 0;
    if (!checked_mul_size((size_t)c->n_layers * (size_t)n_ctx, (size_t)c->kv_dim, &cache) ||
        !checked_mul_size(cache, sizeof(float), &cache) ||
        !checked_mul_size((size_t)c->n_heads * (size_t)n_ctx, sizeof(float), &att))
        return error_set(err, ST_LIMIT, "a cache for %d positions does not fit in memory", n_ctx);
    if (!sysmem_fits(2 * (uint64_t)cache + att)) {
        char need[32], have[32];
        fmt_bytes(need, sizeof need, 2.0 * (double)cache + (double)att);
        fmt_bytes(have, sizeof have, (double)sysmem_total());
        return error_set(err, ST_LIMIT, "a cache for %d positions needs %s; this machine has %s",
                         n_ctx, need, have);
    }
    s->n_ctx = n_ctx;
    s->pool = pool;
    int widest = c->dim > c->hidden_dim ? c->dim : c->hidden_dim;
    s->x = calloc((size_t)c->dim, sizeof(float));
    s->xb = calloc((size_t)c->dim, sizeof(float));
    s->xb2 = calloc((size_t)c->dim, sizeof(float));
    s->hb = calloc((size_t)c->hidden_dim, sizeof(float));
    s->hb2 = calloc((size_t)c->hidden_dim, sizeof(float));
    s->q = calloc((size_t)c->dim, sizeof(float));
    s->att = malloc(att);
    s->logits = calloc((size_t)c->vocab_size, sizeof(float));
    s->key_cache = calloc(1, cache);
    s->value_cache = calloc(1, cache);
    s->scratch = malloc(matvec_scratch_bytes(widest));
    if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->att || !s->logits ||
        !s->key_cache || !s->value_cache || !s->scratch) {
        runstate_free(s);
        return error_set(err, ST_NOMEM, "out of memory for a %d-position cache", n_ctx);
    }
    return ST_OK;
}

/* Rotates adjacent pairs (v[i], v[i+1]) of each head by pos * base^(-i/rope_dim),
 * for the first rope_dim values of the head (all of them in llama models). */
static void rope(float *vec, int n_heads, int head_dim, int rope_dim, float base, int pos) {
    for (int h = 0; h < n_heads; h++) {
        float *v = vec + h * head_dim;
        for (int i = 0; i < rope_dim; i += 2) {
            float freq = 1.0f / powf(base, i / (float)rope_dim);
            float val = pos * freq;
            float fcr = cosf(val);
            float fci = sinf(val);
            float v0 = v[i];
            float v1 = v[i + 1];
            v[i] = v0 * fcr - v1 * fci;
            v[i + 1] = v0 * fci + v1 * fcr;
        }
    }
}

static void attention(const ModelConfig *p, RunState *s, int layer, int pos) {
    const int head_size = p->head_dim;
    const int kv_mul = p->n_heads / p->n_kv_heads; /* query heads per kv head */
    const size_t loff = (size_t)layer * s->n_ctx * p->kv_dim;
    for (int h = 0; h < p->n_heads; h++) {
        const float *q = s->q + h * head_size;
        float *att = s->att + (size_t)h * s->n_ctx;
        for (int t = 0; t <= pos; t++) {
            const float *k = s->key_cache + loff + (size_t)t * p->kv_dim + (h / kv_mul) * head_size;
            float score = 0.0f;
            for (int i = 0; i < head_size; i++) score += q[i] * k[i];
            score /= sqrtf((float)head_size);
            att[t] = score;
        }
        ops_softmax(att, pos + 1);
        float *xb = s->xb + h * head_size;
        memset(xb, 0, (size_t)head_size * sizeof(float));
        for (int t = 0; t <= pos; t++) {
            const float *v = s->value_cache + loff + (size_t)t * p->kv_dim + (h / kv_mul) * head_size;
            float a = att[t];
            for (int i = 0; i < head_size; i++) xb[i] += a * v[i];
        }
    }
}

/* out = W x for one weight matrix, shown to the observer first when there is one. */
static void product(const Weights *w, RunState *s, float *out, int tensor, const float *x) {
    const MatView *m = &w->mats[tensor];
    if (s->observe) s->observe(s->observe_ctx, tensor, x, (int)m->cols);
    matvec(s->pool, out, m, x, s->scratch);
}

float *model_forward(const Weights *w, RunState *s, int token, int pos) {
    const Model *m = w->model;
    const ModelConfig *p = &m->cfg;
    const int dim = p->dim;
    const int hidden_dim = p->hidden_dim;
    float *x = s->x;

    /* x = embedding row of the token (dequantized when the embedding is quantized) */
    matview_row_to_float(&w->mats[m->token_embd], token, x);

    for (int l = 0; l < p->n_layers; l++) {
        const LayerTensors *L = &m->layers[l];
        const size_t loff = (size_t)l * s->n_ctx * p->kv_dim;
        float *k = s->key_cache + loff + (size_t)pos * p->kv_dim;
        float *v = s->value_cache + loff + (size_t)pos * p->kv_dim;

        ops_rmsnorm(s->xb, x, m->tensors[L->attn_norm].f32, dim, p->norm_eps);
        product(w, s, s->q, L->attn_q, s->xb);
        product(w, s, k, L->attn_k, s->xb);
        product(w, s, v, L->attn_v, s->xb);
        rope(s->q, p->n_heads, p->head_dim, p->rope_dim, p->rope_freq_base, pos);
        rope(k, p->n_kv_heads, p->head_dim, p->rope_dim, p->rope_freq_base, pos);

        attention(p, s, l, pos);
        product(w, s, s->xb2, L->attn_output, s->xb);
        for (int i = 0; i < dim; i++) x[i] += s->xb2[i];

        ops_rmsnorm(s->xb, x, m->tensors[L->ffn_norm].f32, dim, p->norm_eps);
        product(w, s, s->hb, L->ffn_gate, s->xb);
        product(w, s, s->hb2, L->ffn_up, s->xb);
        for (int i = 0; i < hidden_dim; i++) { /* SwiGLU: silu(gate) * up */
            float val = s->hb[i];
            val *= (1.0f / (1.0f + expf(-val)));
            val *= s->hb2[i];
            s->hb[i] = val;
        }
        product(w, s, s->xb, L->ffn_down, s->hb);
        for (int i = 0; i < dim; i++) x[i] += s->xb[i];
    }

    ops_rmsnorm(x, x, m->tensors[m->output_norm].f32, dim, p->norm_eps);
    product(w, s, s->logits, m->output, x);
    return s->logits;
}
