/* fuzz.h — what the fuzz targets in tests/fuzz/ share.
 *
 * Every target defines LLVMFuzzerInitialize and LLVMFuzzerTestOneInput, so it
 * links three ways: with libFuzzer (clang -fsanitize=fuzzer, `make fuzz`), with
 * standalone.c (any C compiler: replays files and directories, or one input on
 * stdin for AFL++; `make test` replays the corpora and tests/fuzz/regress/ this
 * way), or with AFL++'s own libFuzzer driver.
 *
 * A target checks invariants with FUZZ_CHECK, which aborts with the line, so a
 * broken invariant is a crash the fuzzer keeps, like a sanitizer report.
 */
#ifndef QL_TESTS_FUZZ_H
#define QL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A refusal message fit to print on a terminal: one line, no control
 * characters (a file's bytes are escaped before they go into a message, so a
 * hostile file cannot move the cursor or clear the screen), and it starts with
 * `name`, the input's name. */
#define FUZZ_CHECK_MESSAGE(msg, name)                                                              \
    do {                                                                                           \
        FUZZ_CHECK(strncmp((msg), (name), strlen(name)) == 0);                                     \
        for (const char *fuzz_p_ = (msg); *fuzz_p_; fuzz_p_++)                                     \
            FUZZ_CHECK((unsigned char)*fuzz_p_ >= 0x20 && *fuzz_p_ != 0x7f);                       \
    } while (0)

/* Reads a repository file (tok512.bin, the bundled model) for a target's fixed
 * half: $QUANTLAB_DATA/relative, else ./relative. Aborts with a message when it
 * is missing, so a misconfigured run fails at once instead of fuzzing nothing.
 * The buffer is the caller's (malloc'd, NUL after *len bytes). */
uint8_t *fuzz_read_data_file(const char *relative, size_t *len);

/* The bundled model (assets/stories260K.gguf, read as above), for the targets
 * that check their input against it. Exits with a message when it does not
 * open. It and its buffer live until the process ends. */
Model *fuzz_open_bundled_model(void);

#endif
