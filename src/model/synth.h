/* synth.h — synthetic llama models: random weights with the spread of trained ones.
 *
 * `quantlab synth` and `make bench` (a ~100M-weight model in stories110M's shape,
 * the one llama.cpp's reference speed figures used) write one to a file; tests
 * make tiny ones in memory. A synthetic model is a complete llama GGUF: the same
 * keys and tensor order as llama.cpp's convert-llama2c-to-ggml writes (see
 * tests/data/gguf-dump-stories260K-f32.txt), every tensor F32, and a
 * SentencePiece-style vocabulary, so every quantlab command (and llama.cpp) runs
 * it. Its text is gibberish: the weights are random, not trained.
 *
 * Weights (everything derives from the seed; the same config and seed give the
 * same bytes on the same platform; libm's log/sin/cos are the only outside input):
 *   matrix w[r][c] = std(role) * row[r] * t, where
 *     t      Student-t with SYNTH_T_DOF degrees of freedom, scaled to variance 1
 *            (heavier tails than a normal: excess kurtosis 6/(dof-4) = 6)
 *     row[r] exp(SYNTH_ROW_SIGMA * z - SYNTH_ROW_SIGMA^2), z ~ N(0,1): rows differ
 *            in spread, as trained rows do, and E[row^2] = 1
 *     std    synth_std(): factor(role) / sqrt(fan_in), the factors measured on
 *            stories260K (quantlab stats: RMS of each role times sqrt(fan_in))
 *   then synth_outlier_count(n) weights at random places are replaced by
 *   +-m * std(role), m uniform in [SYNTH_OUTLIER_MIN, SYNTH_OUTLIER_MAX).
 *   norm vectors: exp(SYNTH_NORM_SIGMA * z), z ~ N(0,1) clamped to
 *   +-SYNTH_NORM_CLAMP, so every value is in [exp(-0.8), exp(0.8)] around 1.
 *
 * Vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then pieces
 * built the way BPE builds them (each the concatenation of two earlier pieces,
 * word starts marked "▁", scores falling in creation order so the tokenizer's
 * merges can reach every one), then the single characters they are made of. All
 * pieces are unique and valid UTF-8.
 */
#ifndef QL_MODEL_SYNTH_H
#define QL_MODEL_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "model/model.h"

#define SYNTH_T_DOF 5.0
#define SYNTH_ROW_SIGMA 0.25
#define SYNTH_OUTLIER_MIN 8.0
#define SYNTH_OUTLIER_MAX 16.0
#define SYNTH_NORM_SIGMA 0.2
#define SYNTH_NORM_CLAMP 4.0

typedef struct SynthConfig {
    int dim;            /* embedding width */
    int hidden_dim;     /* feed-forward width */
    int n_layers;
    int n_heads;
    int n_kv_heads;     /* divides n_heads */
    int vocab_size;     /* at least synth_min_vocab() */
    int context_length; /* written as llama.context_length */
    uint64_t seed;
} SynthConfig;

/* stories110M's shape (dim 768, hidden 2048, 12 layers, 12 heads and kv heads,
 * vocab 32000), context 1024, seed 1. */
SynthConfig synth_config_default(void);

/* The smallest vocabulary: the 3 special tokens, 256 byte tokens and the
 * single characters the pieces are made of. */
int synth_min_vocab(void);

/* ST_USAGE naming the option when a field is out of range (dims 1..65536, dim a
 * multiple of n_heads with an even head size, n_kv_heads dividing n_heads,
 * layers 1..1024, vocab synth_min_vocab()..1<<20, context 1..1<<20); ST_LIMIT when
 * the weights would not fit in memory. */
Status synth_config_check(const SynthConfig *c, Error *err);

/* Values in all tensors of the file (an untied output matrix included). */
int64_t synth_weight_count(const SynthConfig *c);

/* Intended standard deviation of a matrix of `role` before outliers (0 for
 * norms and ROLE_OTHER). */
double synth_std(const SynthConfig *c, TensorRole role);

/* Outliers put in a matrix of n values: 1 + n / 65536. */
int64_t synth_outlier_count(int64_t n);

/* Generates the model and writes it through gguf_writer_write_file (temporary
 * name, then renamed: on error nothing at `path` changes). Holds one copy of the
 * weights (4 bytes a value) while writing. pool (may be NULL) spreads the
 * random numbers over threads; the bytes do not depend on it. */
Status synth_write_file(const SynthConfig *c, const char *path, Pool *pool, Error *err);

/* The same bytes into a heap buffer (*out, caller frees; *len bytes), for tests. */
Status synth_write_buffer(const SynthConfig *c, Pool *pool, uint8_t **out, size_t *len, Error *err);

#endif
