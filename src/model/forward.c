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
    free(s->k);
    free(s->rope_freq);
    free(s->rope_cs);
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
    s->k = calloc((size_t)c->kv_dim, sizeof(float));
    s->rope_freq = malloc((size_t)(c->rope_dim / 2 + 1) * sizeof(float));
    s->rope_cs = malloc((size_t)(c->rope_dim + 1) * sizeof(float));
    s->att = malloc(att);
    s->logits = calloc((size_t)c->vocab_size, sizeof(float));
    s->key_cache = calloc(1, cache);
    s->value_cache = calloc(1, cache);
    s->scratch = malloc(matvec_scratch_bytes(widest));
    if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->k || !s->rope_freq ||
        !s->rope_cs || !s->att || !s->logits || !s->key_cache || !s->value_cache || !s->scratch) {
        runstate_free(s);
        return error_set(err, ST_NOMEM, "out of memory for a %d-position cache", n_ctx);
    }
    /* freq_j = base^(-2j / rope_dim), llama2.c's expression, computed once */
    for (int i = 0; i < c->rope_dim; i += 2) s->rope_freq[i / 2] = 1.0f / powf(c->rope_freq_base, i / (float)c->rope_dim);
    return ST_OK;
}

/* The rotation of position pos: cos and sin of pos * freq_j for each pair j,
 * shared by every head of every layer (the values llama2.c computes per head). */
static void rope_angles(RunState *s, int rope_dim, int pos) {
    for (int i = 0; i < rope_dim; i += 2) {
        const float val = pos * s->rope_freq[i / 2];
        s->rope_cs[i] = cosf(val);
        s->rope_cs[i + 1] = sinf(val);
    }
}

/* Rotates adjacent pairs (v[i], v[i+1]) of each head by the angles of
 * rope_angles, for the first rope_dim values of the head (all of them in llama
 * models). */
static void rope(float *vec, const float *cs, int n_heads, int head_dim, int rope_dim) {
    for (int h = 0; h < n_heads; h++) {
        float *v = vec + h * head_dim;
        for (int i = 0; i < rope_dim; i += 2) {
            const float fcr = cs[i], fci = cs[i + 1];
            const float v0 = v[i], v1 = v[i + 1];
            v[i] = v0 * fcr - v1 * fci;
            v[i + 1] = v0 * fci + v1 * fcr;
        }
    }
}

/* Positions scored together: the keys are stored transposed, (head_dim, n_ctx)
 * per kv head, so one dimension of ATT_LANES consecutive positions is one
 * contiguous run the compiler turns into vector operations. Each score is still
 * summed in llama2.c's order (dimension 0 first, a multiply then an add), so the
 * results are bit-identical to its scalar loop. */
enum { ATT_LANES = 16 };

typedef struct AttnJob {
    const ModelConfig *p;
    RunState *s;
    int layer, pos;
} AttnJob;

/* Heads [task * n_heads / n_tasks, ...): each reads the caches and writes only
 * its own scores and its slice of xb, so heads run on any thread. */
static void attention_heads(void *ctx, int task, int n_tasks) {
    const AttnJob *j = ctx;
    const ModelConfig *p = j->p;
    RunState *s = j->s;
    const int pos = j->pos;
    const int head_size = p->head_dim;
    const int kv_mul = p->n_heads / p->n_kv_heads; /* query heads per kv head */
    const size_t n_ctx = (size_t)s->n_ctx;
    const size_t loff = (size_t)j->layer * n_ctx * p->kv_dim;
    const float scale = sqrtf((float)head_size);
    const int h0 = p->n_heads * task / n_tasks, h1 = p->n_heads * (task + 1) / n_tasks;
    for (int h = h0; h < h1; h++) {
        const float *q = s->q + h * head_size;
        const float *kt = s->key_cache + loff + (size_t)(h / kv_mul) * head_size * n_ctx; /* (head_size, n_ctx) */
        float *att = s->att + (size_t)h * n_ctx;
        /* att[t] = q . k_t / sqrt(head_size) */
        int t = 0;
        for (; t + ATT_LANES <= pos + 1; t += ATT_LANES) {
            float acc[ATT_LANES] = {0};
            for (int i = 0; i < head_size; i++) {
                const float qi = q[i];
                const float *row = kt + (size_t)i * n_ctx + t;
                for (int l = 0; l < ATT_LANES; l++) acc[l] += qi * row[l];
            }
            for (int l = 0; l < ATT_LANES; l++) att[t + l] = acc[l] / scale;
        }
        for (; t <= pos; t++) {
            float score = 0.0f;
            for (int i = 0; i < head_size; i++) score += q[i] * kt[(size_t)i * n_ctx + t];
            att[t] = score / scale;
        }
        ops_softmax(att, pos + 1);
        /* xb = sum_t att[t] v_t, each element summed over t in order */
        float *xb = s->xb + h * head_size;
        memset(xb, 0, (size_t)head_size * sizeof(float));
        for (t = 0; t <= pos; t++) {
            const float *v = s->value_cache + loff + (size_t)t * p->kv_dim + (h / kv_mul) * head_size;
            const float a = att[t];
            int i = 0;
            for (; i + ATT_LANES <= head_size; i += ATT_LANES)
                for (int l = 0; l < ATT_LANES; l++) xb[i + l] += a * v[i + l];
            for (; i < head_size; i++) xb[i] += a * v[i];
        }
    }
}

/* out = W x for one weight matrix, shown to the observer first when there is one. */
static void product(const Weights *w, RunState *s, float *out, int tensor, const float *x) {
    const MatView *m = &w->mats[tensor];
    if (s->observe) s->observe(s->observe_ctx, tensor, x, (int)m->cols);
    matvec(s->pool, out, m, x, s->scratch);
}

/* outs[i] = W[i] x for matrices that share their input (q/k/v, gate/up), in one
 * hand-off to the pool; each shown to the observer first. */
static void products(const Weights *w, RunState *s, int n, float *const *outs, const int *tensors,
                     const float *x) {
    const MatView *mats[4];
    for (int i = 0; i < n; i++) {
        mats[i] = &w->mats[tensors[i]];
        if (s->observe) s->observe(s->observe_ctx, tensors[i], x, (int)mats[i]->cols);
    }
    matvec_multi(s->pool, n, outs, mats, x, s->scratch);
}

/* Below this many multiply-adds the heads stay on the calling thread. */
enum { ATT_PARALLEL_MIN_WORK = 1 << 15 };

static void attention(const ModelConfig *p, RunState *s, int layer, int pos) {
    AttnJob job = {p, s, layer, pos};
    const int64_t work = 2 * (int64_t)p->n_heads * (pos + 1) * p->head_dim;
    const int threads = pool_threads(s->pool);
    if (threads > 1 && work >= ATT_PARALLEL_MIN_WORK && p->n_heads > 1)
        pool_run(s->pool, attention_heads, &job, p->n_heads < threads ? p->n_heads : threads);
    else
        attention_heads(&job, 0, 1);
}

float *model_forward(const Weights *w, RunState *s, int token, int pos) {
    const Model *m = w->model;
    const ModelConfig *p = &m->cfg;
    const int dim = p->dim;
    const int hidden_dim = p->hidden_dim;
    float *x = s->x;

    /* x = embedding row of the token (dequantized when the embedding is quantized) */
    matview_row_to_float(&w->mats[m->token_embd], token, x);
    rope_angles(s, p->rope_dim, pos);

    for (int l = 0; l < p->n_layers; l++) {
        const LayerTensors *L = &m->layers[l];
        const size_t loff = (size_t)l * s->n_ctx * p->kv_dim;
        float *v = s->value_cache + loff + (size_t)pos * p->kv_dim;

        ops_rmsnorm(s->xb, x, m->tensors[L->attn_norm].f32, dim, p->norm_eps);
        float *const qkv_out[3] = {s->q, s->k, v};
        const int qkv[3] = {L->attn_q, L->attn_k, L->attn_v};
        products(w, s, 3, qkv_out, qkv, s->xb);
        rope(s->q, s->rope_cs, p->n_heads, p->head_dim, p->rope_dim);
        rope(s->k, s->rope_cs, p->n_kv_heads, p->head_dim, p->rope_dim);
        /* k into the cache, transposed: key_cache[l][kv head][i][pos] */
        for (int j = 0; j < p->kv_dim; j++)
            s->key_cache[loff + (size_t)(j / p->head_dim) * p->head_dim * s->n_ctx +
                         (size_t)(j % p->head_dim) * s->n_ctx + pos] = s->k[j];

        attention(p, s, l, pos);
        product(w, s, s->xb2, L->attn_output, s->xb);
        for (int i = 0; i < dim; i++) x[i] += s->xb2[i];

        ops_rmsnorm(s->xb, x, m->tensors[L->ffn_norm].f32, dim, p->norm_eps);
        float *const ffn_out[2] = {s->hb, s->hb2};
        const int ffn[2] = {L->ffn_gate, L->ffn_up};
        products(w, s, 2, ffn_out, ffn, s->xb);
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
