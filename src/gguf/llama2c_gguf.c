/* llama2c_gguf.c — a llama2.c checkpoint and tokenizer as GGUF keys and tensors.
 *
 * Called by the import command and by the model loader when it is given a .bin.
 * Kept apart from llama2c.c so that the parsers can be linked (and tested)
 * without the GGUF writer.
 *
 * The output matches llama.cpp's convert-llama2c-to-ggml (save_as_llama_model):
 * the same keys in the same order, the same tensor names, shapes and order, and
 * output.weight holding the token embedding again when the classifier is shared.
 * Two deliberate differences: llama.context_length is the checkpoint's seq_len
 * (the converter hard-codes 128) and general.name is the caller's model name.
 *
 * Layout: llama2.c stores a matrix W as (out, in) row-major, which is GGUF's
 * ne = (in, out), so the bytes are used as they are. llama2.c and llama.cpp's
 * "normal" RoPE both rotate adjacent pairs, so wq and wk need no permutation.
 */
#include "gguf/llama2c.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "quant/types.h"

static Status kv_status(Status st, const char *path, const char *key, Error *err) {
    if (st == ST_OK) return ST_OK;
    return error_set(err, st, "%s: cannot add key '%s': %s", path, key, status_name(st));
}

static Status add_keys(const Llama2cConfig *c, char **tokens, const float *scores,
                       const int32_t *types, const char *model_name, const char *path,
                       GgufWriter *w, Error *err) {
    uint64_t n = (uint64_t)c->vocab_size;
    Status st;
#define KV(call, key)                                                                              \
    do {                                                                                           \
        if ((st = kv_status((call), path, (key), err)) != ST_OK) return st;                        \
    } while (0)
    /* The order of llama.cpp's converter (see gguf-dump-stories260K-f32.txt). */
    KV(gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n),
       "tokenizer.ggml.tokens");
    KV(gguf_writer_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, n),
       "tokenizer.ggml.scores");
    KV(gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, n),
       "tokenizer.ggml.token_type");
    KV(gguf_writer_set_str(w, "tokenizer.ggml.model", "llama"), "tokenizer.ggml.model");
    KV(gguf_writer_set_str(w, "general.architecture", "llama"), "general.architecture");
    KV(gguf_writer_set_str(w, "general.name", model_name), "general.name");
    KV(gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0),
       "tokenizer.ggml.unknown_token_id");
    KV(gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1), "tokenizer.ggml.bos_token_id");
    KV(gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2), "tokenizer.ggml.eos_token_id");
    /* llama.cpp's spelling; -1 as u32 means "none" */
    KV(gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", UINT32_MAX),
       "tokenizer.ggml.seperator_token_id");
    KV(gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", UINT32_MAX),
       "tokenizer.ggml.padding_token_id");
    KV(gguf_writer_set_u32(w, "llama.context_length", (uint32_t)c->seq_len),
       "llama.context_length");
    KV(gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)c->dim),
       "llama.embedding_length");
    KV(gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)c->hidden_dim),
       "llama.feed_forward_length");
    KV(gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)c->n_heads),
       "llama.attention.head_count");
    KV(gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads),
       "llama.attention.head_count_kv");
    KV(gguf_writer_set_u32(w, "llama.block_count", (uint32_t)c->n_layers), "llama.block_count");
    KV(gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(c->dim / c->n_heads)),
       "llama.rope.dimension_count");
    KV(gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f),
       "llama.attention.layer_norm_rms_epsilon");
#undef KV
    return ST_OK;
}

/* Where each llama2.c array starts, in floats from the end of the header. The
 * sizes were validated by llama2c_read_config (total == file length), so no
 * partial sum here can overflow. */
typedef struct Layout {
    size_t embd, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls;
} Layout;

static Layout layout_of(const Llama2cConfig *c) {
    size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t head_size = dim / (size_t)c->n_heads, kv_dim = head_size * (size_t)c->n_kv_heads;
    Layout l;
    l.embd = 0;
    l.rms_att = l.embd + (size_t)c->vocab_size * dim;
    l.wq = l.rms_att + L * dim;
    l.wk = l.wq + L * dim * dim;
    l.wv = l.wk + L * kv_dim * dim;
    l.wo = l.wv + L * kv_dim * dim;
    l.rms_ffn = l.wo + L * dim * dim;
    l.w1 = l.rms_ffn + L * dim;
    l.w2 = l.w1 + L * hidden * dim;
    l.w3 = l.w2 + L * dim * hidden;
    l.rms_final = l.w3 + L * hidden * dim;
    /* freq_cis_real and freq_cis_imag, (seq_len, head_size / 2) each, are skipped */
    l.wcls = l.rms_final + dim + (size_t)c->seq_len * head_size;
    return l;
}

/* Adds an F32 tensor of shape ne (ne[0] = row length) starting `at` floats
 * after the header. */
static Status add_f32(GgufWriter *w, const char *path, const char *name, uint32_t n_dims,
                      uint64_t ne0, uint64_t ne1, const uint8_t *data, size_t at, Error *err) {
    uint64_t ne[2] = {ne0, ne1};
    size_t nbytes = (size_t)(ne0 * ne1) * sizeof(float);
    Status st = gguf_writer_add_tensor(w, name, n_dims, ne, GGML_TYPE_F32, data + at * sizeof(float),
                                       nbytes);
    if (st != ST_OK)
        return error_set(err, st, "%s: cannot add tensor '%s': %s", path, name, status_name(st));
    return ST_OK;
}

static Status add_tensors(const Llama2cConfig *c, const uint8_t *model_buf, const char *path,
                          GgufWriter *w, Error *err) {
    const Layout l = layout_of(c);
    const uint8_t *data = model_buf + 7 * 4;
    uint64_t dim = (uint64_t)c->dim, hidden = (uint64_t)c->hidden_dim;
    uint64_t vocab = (uint64_t)c->vocab_size;
    uint64_t kv_dim = dim / (uint64_t)c->n_heads * (uint64_t)c->n_kv_heads;
    size_t d = (size_t)dim, dd = d * d, kd = (size_t)kv_dim * d, hd = (size_t)hidden * d;
    Status st;
    if ((st = add_f32(w, path, "token_embd.weight", 2, dim, vocab, data, l.embd, err)) != ST_OK ||
        (st = add_f32(w, path, "output_norm.weight", 1, dim, 1, data, l.rms_final, err)) != ST_OK ||
        /* a shared classifier is written twice, as llama.cpp's converter does */
        (st = add_f32(w, path, "output.weight", 2, dim, vocab, data,
                      c->shared_classifier ? l.embd : l.wcls, err)) != ST_OK)
        return st;
    for (size_t i = 0; i < (size_t)c->n_layers; i++) {
        char name[64];
#define T(suffix, n_dims, ne0, ne1, at)                                                            \
    do {                                                                                           \
        snprintf(name, sizeof name, "blk.%zu." suffix, i);                                         \
        if ((st = add_f32(w, path, name, (n_dims), (ne0), (ne1), data, (at), err)) != ST_OK)       \
            return st;                                                                             \
    } while (0)
        T("attn_q.weight", 2, dim, dim, l.wq + i * dd);
        T("attn_k.weight", 2, dim, kv_dim, l.wk + i * kd);
        T("attn_v.weight", 2, dim, kv_dim, l.wv + i * kd);
        T("attn_output.weight", 2, dim, dim, l.wo + i * dd);
        T("attn_norm.weight", 1, dim, 1, l.rms_att + i * d);
        T("ffn_gate.weight", 2, dim, hidden, l.w1 + i * hd);
        T("ffn_down.weight", 2, hidden, dim, l.w2 + i * hd);
        T("ffn_up.weight", 2, dim, hidden, l.w3 + i * hd);
        T("ffn_norm.weight", 1, dim, 1, l.rms_ffn + i * d);
#undef T
    }
    return ST_OK;
}

Status llama2c_to_gguf(const uint8_t *model_buf, size_t model_len, const char *model_path,
                       const uint8_t *tok_buf, size_t tok_len, const char *tok_path,
                       const char *model_name, GgufWriter *w, void **owned, Error *err) {
    assert(model_path && tok_path && model_name && w && owned);
    /* Both output.weight and token_embd.weight borrow the same bytes of
     * model_buf, so nothing needs copying: *owned stays NULL (kept in the API
     * for a converter that has to rewrite data, e.g. on a big-endian host). */
    *owned = NULL;
    Llama2cConfig cfg;
    Status st = llama2c_read_config(model_buf, model_len, model_path, &cfg, err);
    if (st != ST_OK) return st;
    char **tokens = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    st = llama2c_read_tokenizer(tok_buf, tok_len, tok_path, cfg.vocab_size, &tokens, &scores,
                                &types, err);
    if (st != ST_OK) return st;
    st = add_keys(&cfg, tokens, scores, types, model_name, model_path, w, err);
    for (int i = 0; i < cfg.vocab_size; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    if (st != ST_OK) return st;
    return add_tensors(&cfg, model_buf, model_path, w, err);
}
