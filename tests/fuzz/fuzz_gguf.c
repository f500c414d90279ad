/* fuzz_gguf.c — fuzz target for the GGUF reader (and the writer round trip).
 *
 *   make fuzz FUZZ_TARGETS=gguf        libFuzzer, seeds in tests/fuzz/corpus/gguf/
 *   build/tests/fuzz_gguf FILE...      replay without clang (standalone.c)
 *
 * Invariants: parsing never reads outside the input and frees everything; a
 * refusal is one message that starts with the file's name; an accepted file has
 * every tensor inside the input and convertible (or ST_UNSUPPORTED); copying an
 * accepted file through the writer gives a file the reader accepts with the same
 * keys and tensors. Running with -malloc_limit_mb shows the reader never
 * allocates much more than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "gguf/gguf.h"

#define check FUZZ_CHECK

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    GgufFile f;
    Error err;
    if (gguf_parse(&f, data, size, "fuzz.gguf", &err) != ST_OK) {
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.gguf: ");
        return 0;
    }
    char line[256];
    for (uint64_t i = 0; i < f.n_kv; i++) gguf_value_format(&f.kv[i].value, line, sizeof line);

    GgufWriter *w = gguf_writer_new();
    check(w != NULL);
    for (uint64_t i = 0; i < f.n_kv; i++)
        check(gguf_writer_set_value(w, f.kv[i].key, &f.kv[i].value) == ST_OK);
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const GgufTensorInfo *t = &f.tensors[i];
        check(t->data >= data + f.data_offset && t->data + t->nbytes <= data + size);
        float *out = malloc(t->n_elements * sizeof *out);
        if (out) {
            Status st = gguf_tensor_to_float(&f, t, out, &err);
            check(st == ST_OK || st == ST_UNSUPPORTED);
            free(out);
        }
        check(gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type, t->data, t->nbytes) ==
              ST_OK);
    }
    uint8_t *buf;
    size_t len;
    /* (a file without tensors may declare a huge alignment; the writer would
     * honour it with that much padding, which is correct but not interesting) */
    if (f.alignment <= 4096 && gguf_writer_write_buffer(w, &buf, &len, &err) == ST_OK) {
        GgufFile g;
        check(gguf_parse(&g, buf, len, "copy.gguf", &err) == ST_OK);
        check(g.n_kv == f.n_kv && g.n_tensors == f.n_tensors);
        for (uint64_t i = 0; i < g.n_kv; i++)
            check(strcmp(g.kv[i].key, f.kv[i].key) == 0 && g.kv[i].value.type == f.kv[i].value.type);
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            check(strcmp(g.tensors[i].name, f.tensors[i].name) == 0 && g.tensors[i].type == f.tensors[i].type);
            check(memcmp(g.tensors[i].data, f.tensors[i].data, f.tensors[i].nbytes) == 0);
        }
        gguf_close(&g);
        free(buf);
    }
    gguf_writer_delete(w);
    gguf_close(&f);
    return 0;
}
