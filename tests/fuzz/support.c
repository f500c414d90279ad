/* support.c — helpers linked into every fuzz target (see fuzz.h). */
#include "fuzz/fuzz.h"

#include <string.h>

#include "base/file.h"

uint8_t *fuzz_read_data_file(const char *relative, size_t *len) {
    char path[4096];
    const char *dir = getenv("QUANTLAB_DATA");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", relative);
    char *buf = NULL;
    Error err;
    if (file_read_all(path, (size_t)64 << 20, &buf, len, &err) != ST_OK) {
        fprintf(stderr, "fuzz: %s (run from the repository root or set QUANTLAB_DATA)\n", err.msg);
        exit(1);
    }
    return (uint8_t *)buf;
}

Model *fuzz_open_bundled_model(void) {
    size_t len;
    uint8_t *buf = fuzz_read_data_file("assets/stories260K.gguf", &len);
    Model *m = NULL;
    Error err;
    if (model_open_buffer(&m, buf, len, "stories260K.gguf", &err) != ST_OK) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        exit(1);
    }
    return m; /* buf stays: the model borrows it */
}
