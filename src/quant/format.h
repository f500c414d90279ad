/* format.h — the number formats a weight matrix can be stored in.
 *
 * Two families share one description:
 *  - GGML formats, which llama.cpp runs and GGUF stores: F32, F16, BF16,
 *    Q8_0 (quantlab's "INT8"), Q4_0 ("INT4"), Q4_1, Q5_0 (and Q5_1). Their facts
 *    (block size, bytes per block, quantizer) come from type_traits().
 *  - Teaching formats, which show *why* the real ones look as they do: codes of 2
 *    to 8 bits (the lessons use INT8, INT4, INT3, INT2) with one scale per tensor,
 *    per row or per block of
 *    16/32/64/128 values, symmetric (scale only) or asymmetric (scale + zero point).
 *    They live in memory only (GGUF cannot store them).
 *
 * Bits per weight are counted honestly: codes, scales (FP16, 16 bits each), zero
 * points (as many bits as the codes) and the zero padding of a row whose length
 * is not a multiple of the block size are all included.
 *   GGML:     rows * ceil(cols / block) * bytes_per_block   (Q4_0 on 172 columns:
 *             6 blocks = 108 bytes a row = 5.02 bits/weight, not 4.5)
 *   teaching: ceil((rows * cols_padded * b + groups * (16 + (asym ? b : 0))) / 8)
 *             bytes: codes, scales and zero points packed in one bit stream per
 *             tensor, rounded up to whole bytes once. groups = 1 per tensor,
 *             rows per row, rows * ceil(cols / block) per block.
 *
 * Teaching format conventions (documented in the README as well). For each group
 * (the tensor, a row, or a block of a row) with values w:
 *   symmetric  qmax = 2^(b-1)-1, s = max|w| / qmax, q = round(clamp(w/s, -qmax, qmax)),
 *              w~ = q*s   (INT2 symmetric has just the levels -s, 0, +s)
 *   asymmetric qmax = 2^b-1, lo = min(min w, 0), hi = max(max w, 0),
 *              s = (hi-lo) / qmax, z = clamp(round(-lo/s), 0, qmax),
 *              q = z + round(clamp(w/s, -z, qmax-z)) in [0, qmax], w~ = (q - z) * s
 *              The range is widened to include 0 (as PyTorch, TFLite and ONNX do):
 *              zero is then exactly representable and z always fits in b bits.
 *              Without it a group of only positive (or only negative) values would
 *              need z outside [0, qmax], and clamping z would clamp whole groups.
 *   s is computed in float from the group's min/max and rounded to FP16 (nearest
 *   even; a scale beyond FP16's range saturates at 65504) BEFORE z and the codes
 *   are computed, so the scale used is the scale stored. A group whose scale is
 *   0 (all zeros, or a scale below FP16's smallest subnormal) has codes 0 (z = 0)
 *   and decodes to 0. Codes round to nearest (roundf, halves away from zero).
 *   The last block of a row shorter than `block` is padded for storage (counted in
 *   the bytes) but its scale comes from its real values only.
 */
#ifndef QL_QUANT_FORMAT_H
#define QL_QUANT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum FormatKind { FORMAT_GGML = 0, FORMAT_TEACH = 1 } FormatKind;

typedef enum Granularity {
    GRAN_TENSOR = 0, /* one scale for the whole tensor */
    GRAN_ROW = 1,    /* one scale per row */
    GRAN_BLOCK = 2   /* one scale per `block` consecutive values of a row */
} Granularity;

typedef struct Format {
    uint8_t kind;   /* FormatKind */
    uint8_t type;   /* GgmlType, for FORMAT_GGML */
    uint8_t bits;   /* 2..8, for FORMAT_TEACH */
    uint8_t gran;   /* Granularity, for FORMAT_TEACH */
    uint16_t block; /* 16, 32, 64 or 128 when gran == GRAN_BLOCK */
    uint8_t asym;   /* 1: scale + zero point */
    uint8_t pad;    /* always 0 (so formats compare with memcmp) */
} Format;

Format format_ggml(uint32_t ggml_type);
Format format_teach(int bits, Granularity gran, int block, bool asymmetric);
bool format_equal(Format a, Format b);
/* A 32-bit key, unique per format (caches, plan tables). */
uint32_t format_key(Format f);

/* The learner-facing presets, in the order the TUI cycles through them. */
#define FORMAT_FP32 format_ggml(0)
#define FORMAT_FP16 format_ggml(1)
#define FORMAT_INT8 format_ggml(8) /* GGUF Q8_0 */
#define FORMAT_INT4 format_ggml(2) /* GGUF Q4_0 */

/* True for formats the quantlab engine can produce (all teaching formats, and the
 * GGML types with a reference quantizer: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1). */
bool format_is_supported(Format f);

/* Canonical name, as plans and the command line spell it:
 *   "f32" "f16" "bf16" "q8_0" "q4_0" "q4_1" "q5_0" "q5_1"
 *   "int4-b32-sym" "int3-row-asym" "int8-tensor-sym" ...       */
char *format_name(Format f, char *buf, size_t size);

/* Short label for people: "FP32", "FP16", "INT8 (Q8_0)", "INT4 (Q4_0)",
 * "INT3 per row, asym". */
char *format_label(Format f, char *buf, size_t size);

/* Parses a name. Accepts format_name() spellings (any case), the aliases
 * fp32/fp16/bf16/int8 (= q8_0)/int4 (= q4_0), and teaching names whose parts may
 * come in any order: "int3-b64", "int2-row-asym", "int4-tensor" (default
 * symmetric, block 32). ST_USAGE with a one-line message on anything else. */
Status format_parse(const char *text, Format *f, Error *err);

/* Values per block (1 for F32/F16/BF16; the group size for teaching formats with
 * block granularity; the row length for per-row; 0 for per-tensor). */
int64_t format_block_size(Format f, int64_t cols);

/* Row length after zero padding to a whole number of blocks. */
int64_t format_padded_cols(Format f, int64_t cols);

/* Honest storage of a rows x cols tensor in this format, in bytes (fractional for
 * sub-byte teaching codes is rounded up per tensor). */
double format_tensor_bytes(Format f, int64_t rows, int64_t cols);

/* format_tensor_bytes * 8 / (rows * cols). */
double format_bits_per_weight(Format f, int64_t rows, int64_t cols);

/* True when a GGUF file can hold a tensor with rows of `cols` values in this
 * format (a GGML type whose block size divides cols). */
bool format_fits_gguf(Format f, int64_t cols);

#endif
