/* model.h — a llama-architecture model: hyper-parameters, named tensors, tokenizer.
 *
 * model_open() reads a GGUF file (or a legacy llama2.c checkpoint plus its
 * tokenizer, converted in memory exactly as `quantlab convert` would), checks
 * that every tensor the llama forward pass needs is present with the right shape,
 * and keeps a float copy of every weight: the "FP32" reference that plans quantize
 * from and that quality is measured against. The file itself stays mapped
 * read-only and is never written.
 *
 * Lifetimes: Model owns everything it points to (mapping, tokenizer, floats).
 * Weights (forward.h) borrow from a Model.
 */
#ifndef QL_MODEL_MODEL_H
#define QL_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "model/tokenizer.h"

typedef struct ModelConfig {
    int dim;            /* embedding width (llama.embedding_length) */
    int hidden_dim;     /* feed-forward width (llama.feed_forward_length) */
    int n_layers;       /* llama.block_count */
    int n_heads;        /* query heads */
    int n_kv_heads;     /* key/value heads (grouped-query attention when < n_heads) */
    int head_dim;       /* dim / n_heads */
    int kv_dim;         /* head_dim * n_kv_heads */
    int vocab_size;
    int context_length; /* what the file declares; generation may run past it */
    int rope_dim;       /* rotated dimensions per head (llama.rope.dimension_count) */
    float rope_freq_base;
    float norm_eps;     /* RMSNorm epsilon */
} ModelConfig;

/* What a tensor does in the network; drives presets, grouping and the TUI tree. */
typedef enum TensorRole {
    ROLE_TOKEN_EMBD,
    ROLE_OUTPUT_NORM,
    ROLE_OUTPUT,
    ROLE_ATTN_NORM,
    ROLE_ATTN_Q,
    ROLE_ATTN_K,
    ROLE_ATTN_V,
    ROLE_ATTN_OUTPUT,
    ROLE_FFN_NORM,
    ROLE_FFN_GATE,
    ROLE_FFN_DOWN,
    ROLE_FFN_UP,
    ROLE_OTHER,
    ROLE_COUNT
} TensorRole;

typedef struct ModelTensor {
    const char *name;       /* borrowed from the GGUF file */
    int layer;              /* block number, -1 outside the blocks */
    TensorRole role;
    uint32_t file_type;     /* storage type in the file (GgmlType) */
    uint32_t n_dims;
    int64_t ne[4];
    int64_t cols;           /* ne[0]: values per row */
    int64_t rows;           /* product of the other dims */
    int64_t n_elements;
    size_t file_bytes;
    const void *file_data;  /* inside the read-only mapping */
    float *f32;             /* (rows, cols) float copy; NULL for tensors not used */
    bool is_norm;           /* a 1-D scale vector: always kept in F32 */
} ModelTensor;

typedef struct LayerTensors {
    int attn_norm, attn_q, attn_k, attn_v, attn_output; /* tensor indices */
    int ffn_norm, ffn_gate, ffn_down, ffn_up;
} LayerTensors;

typedef struct Model {
    char *path;            /* as given */
    char *name;            /* general.name, or the file name */
    char *architecture;    /* "llama" */
    bool from_llama2c;     /* converted in memory from a legacy checkpoint */
    uint64_t file_size;    /* bytes of the model file (of the .bin for llama2.c) */
    ModelConfig cfg;
    GgufFile gguf;
    void *owned;           /* buffers behind gguf when converted in memory */
    Tokenizer tok;
    int n_tensors;
    ModelTensor *tensors;  /* in file order */
    int token_embd, output_norm, output; /* indices; output == token_embd when tied */
    bool tied_output;      /* the file has no output.weight */
    LayerTensors *layers;  /* (n_layers) */
    int64_t n_params;      /* values in all tensors the model uses */
} Model;

/* Flags for model_open_ex. */
enum { MODEL_OPEN_NO_FLOATS = 1 }; /* check structure only; no float copies (for `info`) */

/* Opens a model file. A legacy llama2.c checkpoint needs `tokenizer_path` (NULL:
 * look for tok512.bin or tokenizer.bin beside it). On error *out is NULL and err
 * names the file and the problem. */
Status model_open(Model **out, const char *path, const char *tokenizer_path, Error *err);
Status model_open_ex(Model **out, const char *path, const char *tokenizer_path, int flags,
                     Error *err);

/* Reads a model file as GGUF: a GGUF file is mapped read-only; a llama2.c
 * checkpoint (with its tokenizer) is converted into a GGUF image in memory, which
 * *owned then holds (free() it after gguf_close). Used by model_open and by
 * `quantlab info`, which lists files it cannot run. */
Status model_read_file(const char *path, const char *tokenizer_path, GgufFile *g, void **owned,
                       bool *from_llama2c, Error *err);

/* Same, from a GGUF image in memory (borrowed; must outlive the model). */
Status model_open_buffer(Model **out, const void *buf, size_t len, const char *name, Error *err);

void model_close(Model *m);

/* Index of a tensor by name, or -1. */
int model_find_tensor(const Model *m, const char *name);

/* A tensor's shape as llama.cpp prints it, row length first: "64x172", or
 * "64" for a vector. Returns buf. */
char *model_tensor_shape(const ModelTensor *t, char *buf, size_t size);

/* A tensor's name without the ".weight" every matrix carries: "blk.0.attn_q".
 * Returns buf. */
char *model_tensor_short_name(const char *name, char *buf, size_t size);

/* Memory the machine has, in bytes (0 when unknown). */
uint64_t model_machine_memory(void);

#endif
