/* fuzz_model.c — fuzz target for loading a model from a GGUF image in memory
 * (model_open_buffer): the GGUF reader, then the llama checks on top of it
 * (hyper-parameters, vocabulary arrays, tensor names and shapes, float copies).
 *
 * Seeds: tiny llama models written by tests/fuzz/make_seeds.c (F32, F16, Q8_0,
 * Q4_0, with and without output.weight). Run with -malloc_limit_mb: the loader
 * must refuse, not allocate, what the file cannot back.
 *
 * Invariants: a refusal names the file; a model that opens has consistent
 * indices, encodes and decodes text, and — when small — runs three forward
 * steps in FP32 and under two plans with every sampled id in the vocabulary.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "fuzz/model_check.h"
#include "model/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Model *m = NULL;
    Error err;
    if (model_open_buffer(&m, data, size, "fuzz.gguf", &err) != ST_OK) {
        FUZZ_CHECK(m == NULL);
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.gguf");
        return 0;
    }
    fuzz_check_model(m);
    model_close(m);
    return 0;
}
