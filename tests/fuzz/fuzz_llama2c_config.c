/* fuzz_llama2c_config.c — fuzz target for llama2c_read_config, the header check of
 * a llama2.c checkpoint (seven int32 fields, then a length that must be exactly
 * what they imply).
 *
 * Invariants: a refusal names the file; an accepted header has every field
 * positive and within the bounds the model loader relies on (heads divide dim,
 * kv heads divide heads, an even head size), and the input length is exactly
 * the header plus the floats it describes, so llama2c_to_gguf may index the
 * buffer without further checks.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "gguf/llama2c.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Llama2cConfig c;
    Error err;
    if (llama2c_read_config(data, size, "fuzz.bin", &c, &err) != ST_OK) {
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.bin: ");
        return 0;
    }
    FUZZ_CHECK(c.dim > 0 && c.hidden_dim > 0 && c.n_layers > 0 && c.n_heads > 0);
    FUZZ_CHECK(c.n_kv_heads > 0 && c.vocab_size > 0 && c.seq_len > 0);
    FUZZ_CHECK(c.dim % c.n_heads == 0 && c.n_heads % c.n_kv_heads == 0);
    FUZZ_CHECK((c.dim / c.n_heads) % 2 == 0);
    /* the length is what the header says: recompute it independently */
    uint64_t dim = (uint64_t)c.dim, hid = (uint64_t)c.hidden_dim, L = (uint64_t)c.n_layers;
    uint64_t kv = dim / (uint64_t)c.n_heads * (uint64_t)c.n_kv_heads, hs = dim / (uint64_t)c.n_heads;
    uint64_t floats = (uint64_t)c.vocab_size * dim * (c.shared_classifier ? 1 : 2) +
                      L * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * hid * dim) + dim +
                      (uint64_t)c.seq_len * hs;
    FUZZ_CHECK(28 + 4 * floats == (uint64_t)size);
    return 0;
}
