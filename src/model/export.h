/* export.h — writing a model under a plan as a GGUF file llama.cpp loads.
 *
 * The layout follows llama-quantize: the input's metadata copied in order, plus
 * general.quantization_version = 2 and general.file_type; tensors in llama.cpp's
 * order (the non-block tensors by name, then block by block, by name); quantized
 * tensors bit-exact with ggml's reference quantizers; norm vectors and tensors the
 * network does not use copied as the file stores them. A tensor GGUF cannot hold in
 * its planned format (a teaching format, an outlier split, or rows that are not a
 * whole number of blocks, like stories260K's 172-value ffn_down rows) is written
 * in the fallback type (F16 or F32, pruned like the plan when it prunes), as
 * llama.cpp itself must, and listed in the report. GPTQ copies are ordinary Q4_0
 * or Q8_0 blocks and are written as such; pruned ones are dense blocks holding
 * zeros.
 */
#ifndef QL_MODEL_EXPORT_H
#define QL_MODEL_EXPORT_H

#include "base/error.h"
#include "model/model.h"
#include "model/plan.h"
#include "model/qcache.h"

enum { EXPORT_MAX_NOTES = 64 };

typedef struct ExportReport {
    int n_tensors;
    int n_fallback;                /* tensors written in the fallback type */
    char notes[EXPORT_MAX_NOTES][256]; /* one line per fallback tensor (first 64) */
    uint32_t file_type;            /* the general.file_type written (llama_ftype) */
    double tensor_bytes;           /* bytes of tensor data (without padding) */
} ExportReport;

/* Writes to a temporary file beside `path`, then renames it into place; refuses a
 * path that is the model's own file. fallback must be F16 or F32. */
Status model_export_gguf(const Model *m, const Plan *p, QuantCache *c, Format fallback,
                         const char *path, ExportReport *report, Error *err);

/* llama.cpp's general.file_type for a plan: the llama_ftype of its most common
 * matrix type (0 all F32, 1 F16, 2 Q4_0, 3 Q4_1, 7 Q8_0, 8 Q5_0, 9 Q5_1, 32 BF16). */
uint32_t export_file_type(const Plan *p, const Model *m, Format fallback);

#endif
