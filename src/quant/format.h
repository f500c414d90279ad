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
 *
 * Beyond rounding: a base format may carry a method and modifiers, written after
 * it with '+' ("q4_0+gptq", "int4-b32-sym+2:4", "q4_0+gptq+prune50+out1%"):
 *   +gptq     GPTQ (Frantar et al. 2022, quant/gptq.h) instead of round-to-nearest:
 *             the codes of an ordinary block, chosen column by column with each
 *             column's rounding error spread over the columns not yet quantized,
 *             weighted by calibration activations. Q8_0, Q4_0 and teaching bases.
 *   +pruneP   magnitude pruning before quantizing: the floor(P * n / 100) weights of
 *             smallest |w| are set to 0 (P = 1..99; ties: the later index goes).
 *   +2:4      2:4 structured pruning: in every group of 4 consecutive weights of a
 *             row the 2 of largest |w| are kept (ties: the earlier kept); a short
 *             last group of a row keeps its 2 largest as well.
 *   +outK%    outlier split (LLM.int8()'s decomposition, applied to weights): the
 *             floor(K * n / 100) weights of largest |w| (ties: the earlier index
 *             first; K = 0..10 in steps of 0.01) are kept in FP16 in a sparse side
 *             list and set to 0 before the rest is quantized. Decoded values are
 *             the dense decode plus the outliers (the dense part holds 0 there,
 *             which every symmetric format decodes to exactly 0). Bytes: 4 (flat
 *             index) + 2 (FP16 value) per outlier, on top of the dense bytes. +out0%
 *             is a real format that runs the split code with no outliers.
 * Pruning comes first, then the outliers are taken from the surviving weights,
 * then the rest is quantized (by RTN or GPTQ). Dense formats do not shrink from
 * zeros: format_tensor_bytes of a pruned format is that of its base;
 * format_sparse_bytes says what a sparse encoding would take.
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

typedef enum QuantMethod { METHOD_RTN = 0, METHOD_GPTQ = 1 } QuantMethod;

typedef enum PruneKind { PRUNE_NONE = 0, PRUNE_UNSTRUCTURED = 1, PRUNE_2_4 = 2 } PruneKind;

/* Largest outlier share, in hundredths of a percent (10%). */
enum { FORMAT_OUTLIER_MAX_BP = 1000 };
/* Bytes one outlier takes in the side list: a 4-byte flat index and an FP16 value. */
enum { FORMAT_OUTLIER_BYTES = 6 };
/* A buffer this long holds every format_name() and format_label(). */
enum { FORMAT_NAME_MAX = 96 };

typedef struct Format {
    uint8_t kind;        /* FormatKind */
    uint8_t type;        /* GgmlType, for FORMAT_GGML */
    uint8_t bits;        /* 2..8, for FORMAT_TEACH */
    uint8_t gran;        /* Granularity, for FORMAT_TEACH */
    uint16_t block;      /* 16, 32, 64 or 128 when gran == GRAN_BLOCK */
    uint8_t asym;        /* 1: scale + zero point */
    uint8_t method;      /* QuantMethod */
    uint8_t prune;       /* PruneKind */
    uint8_t prune_pct;   /* PRUNE_UNSTRUCTURED: 1..99, else 0 */
    uint8_t split;       /* 1: outlier split (outlier_bp may be 0) */
    uint8_t pad;         /* always 0 (so formats compare with memcmp) */
    uint16_t outlier_bp; /* split: share kept in FP16, hundredths of a percent */
    uint16_t pad2;       /* always 0 */
} Format;

Format format_ggml(uint32_t ggml_type);
Format format_teach(int bits, Granularity gran, int block, bool asymmetric);
/* The same base with a method or a modifier set (the others kept). */
Format format_with_method(Format f, QuantMethod method);
Format format_with_prune(Format f, PruneKind kind, int percent);
Format format_with_outliers(Format f, int basis_points);
/* The format without method and modifiers: how the dense part is stored. */
Format format_base(Format f);
/* True when f has a method other than RTN or any modifier. */
bool format_has_modifiers(Format f);
bool format_equal(Format a, Format b);
/* A 64-bit key, unique per format (caches, plan tables). Plain formats keep the
 * keys they had as 32-bit keys: the modifiers live in the upper half. */
uint64_t format_key(Format f);

/* The learner-facing presets, in the order the TUI cycles through them. */
#define FORMAT_FP32 format_ggml(0)
#define FORMAT_FP16 format_ggml(1)
#define FORMAT_INT8 format_ggml(8) /* GGUF Q8_0 */
#define FORMAT_INT4 format_ggml(2) /* GGUF Q4_0 */

/* True for formats the quantlab engine can produce (all teaching formats, and the
 * GGML types with a reference quantizer: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1),
 * with modifiers that make sense on them: +gptq on Q8_0, Q4_0 and teaching bases;
 * +outK% on quantized bases (not F32/F16/BF16); pruning on any base. */
bool format_is_supported(Format f);

/* True for bases GPTQ can quantize to: Q8_0, Q4_0 and every teaching format. */
bool format_gptq_capable(Format base);

/* Canonical name, as plans and the command line spell it:
 *   "f32" "f16" "bf16" "q8_0" "q4_0" "q4_1" "q5_0" "q5_1"
 *   "int4-b32-sym" "int3-row-asym" "int8-tensor-sym" ...
 * then the method and modifiers in this order: "+gptq", "+prune50" or "+2:4",
 * "+out1%" ("q4_0+gptq+2:4+out0.5%"). */
char *format_name(Format f, char *buf, size_t size);

/* Short label for people: "FP32", "FP16", "INT8 (Q8_0)", "INT4 (Q4_0)",
 * "INT3 per row, asym", then ", GPTQ", ", 50% pruned" or ", 2:4 pruned",
 * ", 1% outliers in FP16". */
char *format_label(Format f, char *buf, size_t size);

/* Parses a name. Accepts format_name() spellings (any case), the aliases
 * fp32/fp16/bf16/int8 (= q8_0)/int4 (= q4_0), and teaching names whose parts may
 * come in any order: "int3-b64", "int2-row-asym", "int4-tensor" (default
 * symmetric, block 32); after the base, '+'-separated modifiers in any order, each
 * at most once: gptq, pruneP (1..99), 2:4, outK% (0..10, at most two decimals; the
 * '%' may be left out). ST_USAGE with a one-line message on anything else,
 * including a modifier the base cannot take ("f32+gptq"); *f is then untouched. */
Status format_parse(const char *text, Format *f, Error *err);

/* Values per block (1 for F32/F16/BF16; the group size for teaching formats with
 * block granularity; the row length for per-row; 0 for per-tensor). */
int64_t format_block_size(Format f, int64_t cols);

/* Row length after zero padding to a whole number of blocks. */
int64_t format_padded_cols(Format f, int64_t cols);

/* Honest storage of a rows x cols tensor in this format, in bytes (fractional for
 * sub-byte teaching codes is rounded up per tensor). Pruning does not change it (a
 * dense format stores its zeros); an outlier split adds FORMAT_OUTLIER_BYTES per
 * outlier. */
double format_tensor_bytes(Format f, int64_t rows, int64_t cols);

/* Weights the outlier split keeps in FP16: floor(n * outlier_bp / 10000), at most
 * the weights pruning leaves; 0 when f has no split. */
int64_t format_outlier_count(Format f, int64_t rows, int64_t cols);

/* Weights pruning sets to 0 (see the rules above); 0 without pruning. For 2:4,
 * max(0, len - 2) per group of len <= 4 values. */
int64_t format_prune_count(Format f, int64_t rows, int64_t cols);

/* What a sparse encoding of a pruned tensor would take, in bytes — arithmetic
 * about a storage layout quantlab does not implement, so screens must say so:
 *   kept values at the dense format's bits per weight (scales included:
 *   format_bits_per_weight of the base on this shape) plus the index:
 *   2:4          2 bits per kept value (NVIDIA's compressed format: two 2-bit
 *                positions per group of 4)
 *   unstructured a bitmap, 1 bit per weight (cheaper than CSR's 16- or 32-bit
 *                column index per kept value at every sparsity above 1/16 resp. 1/32)
 *   plus FORMAT_OUTLIER_BYTES per outlier; rounded up to whole bytes. Without
 *   pruning: format_tensor_bytes. */
double format_sparse_bytes(Format f, int64_t rows, int64_t cols);

/* format_tensor_bytes * 8 / (rows * cols). */
double format_bits_per_weight(Format f, int64_t rows, int64_t cols);

/* True when a GGUF file can hold a tensor with rows of `cols` values in this
 * format (a GGML type whose block size divides cols). GPTQ output is ordinary
 * blocks and pruned weights are zeros in them, so both fit; an outlier split does
 * not (GGUF has no sparse side list). */
bool format_fits_gguf(Format f, int64_t cols);

#endif
