/* llama2c.h — import of llama2.c's legacy checkpoint (.bin, "version 0") and
 * tokenizer (tokenizer.bin / tok512.bin) into GGUF form.
 *
 * Checkpoint: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate
 * classifier follows), then fp32 arrays: token_embedding (vocab, dim),
 * rms_att (layer, dim), wq (layer, dim, dim), wk (layer, kv_dim, dim),
 * wv (layer, kv_dim, dim), wo (layer, dim, dim), rms_ffn (layer, dim),
 * w1 (layer, hidden, dim), w2 (layer, dim, hidden), w3 (layer, hidden, dim),
 * rms_final (dim), freq_cis_real and freq_cis_imag (seq_len, head_size/2; unused,
 * skipped), then wcls (vocab, dim) when the classifier is separate.
 *
 * Tokenizer: int32 max_token_length, then vocab_size records of
 * (float score, int32 len, len bytes). Ids 0/1/2 are unk/BOS/EOS.
 *
 * The result matches what llama.cpp's convert-llama2c-to-ggml writes (tensor
 * names, shapes, order, tokenizer keys, an output.weight copy of token_embd when
 * the classifier is shared) except that llama.context_length is the checkpoint's
 * real seq_len, not a hard-coded 128, and general.name is the given model name.
 */
#ifndef QL_GGUF_LLAMA2C_H
#define QL_GGUF_LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "gguf/gguf.h"

typedef struct Llama2cConfig {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier; /* 1 when vocab_size was positive in the header */
} Llama2cConfig;

/* Validates the header of a checkpoint image against its length (every field
 * positive and bounded, sizes consistent with the byte count). */
Status llama2c_read_config(const uint8_t *buf, size_t len, const char *name, Llama2cConfig *cfg,
                           Error *err);

/* Adds the checkpoint's tensors and llama hyper-parameters, and the tokenizer's
 * keys, to `w`. Tensor data is borrowed from `model_buf`, which must outlive the
 * write; nothing is copied, so *owned is always set to NULL (a buffer the caller
 * would free()). `model_name` goes to general.name. */
Status llama2c_to_gguf(const uint8_t *model_buf, size_t model_len, const char *model_path,
                       const uint8_t *tok_buf, size_t tok_len, const char *tok_path,
                       const char *model_name, GgufWriter *w, void **owned, Error *err);

/* Reads only the tokenizer into GGUF-style arrays: tokens (with "▁"), scores,
 * types. Caller frees each tokens[i], then tokens, scores and types. */
Status llama2c_read_tokenizer(const uint8_t *buf, size_t len, const char *name, int vocab_size,
                              char ***tokens, float **scores, int32_t **types, Error *err);

#endif
