/* fuzz_llama2c_convert.c — fuzz target for the whole in-memory conversion of a
 * llama2.c checkpoint and tokenizer into a model, as `quantlab -m model.bin`
 * does it: llama2c_to_gguf, the GGUF writer, the reader, model_open_buffer.
 *
 * Input: a little-endian uint32 N, then N bytes of checkpoint, then the
 * tokenizer file (N larger than what follows takes everything). Seeds: tiny
 * checkpoints and tokenizers from tests/fuzz/make_seeds.c.
 *
 * Invariants: a refusal names one of the two files; whatever the conversion
 * accepts, the GGUF reader accepts as written (the writer never produces a file
 * the reader refuses) and the model either opens and runs (model_check.h) or is
 * refused with a message.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "fuzz/model_check.h"
#include "gguf/llama2c.h"
#include "model/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    uint32_t n;
    memcpy(&n, data, 4);
    size_t model_len = n < size - 4 ? n : size - 4;
    const uint8_t *model = data + 4, *tok = data + 4 + model_len;
    size_t tok_len = size - 4 - model_len;

    GgufWriter *w = gguf_writer_new();
    FUZZ_CHECK(w != NULL);
    void *owned = NULL;
    Error err;
    Status st = llama2c_to_gguf(model, model_len, "fuzz.bin", tok, tok_len, "fuzz.tok", "fuzz", w,
                                &owned, &err);
    if (st != ST_OK) {
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.");
        gguf_writer_delete(w);
        free(owned);
        return 0;
    }
    uint8_t *image = NULL;
    size_t image_len = 0;
    FUZZ_CHECK(gguf_writer_write_buffer(w, &image, &image_len, &err) == ST_OK);
    gguf_writer_delete(w);
    free(owned);
    GgufFile g;
    FUZZ_CHECK(gguf_parse(&g, image, image_len, "fuzz.bin", &err) == ST_OK);
    gguf_close(&g);

    Model *m = NULL;
    if (model_open_buffer(&m, image, image_len, "fuzz.bin", &err) == ST_OK) {
        fuzz_check_model(m);
        model_close(m);
    } else {
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.bin");
    }
    free(image);
    return 0;
}
