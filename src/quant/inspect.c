/* inspect.c — one block of a quantized tensor laid open (see inspect.h).
 *
 * GGML blocks are read back from their bytes: the scale (and min) from the FP16
 * fields, the codes from the packed bits, the decoded values through
 * type_traits()->to_float, the same function the rest of quantlab decodes with.
 * The level grid is decoded the same way, from a copy of the block whose codes
 * are all set to one value, so a level is exactly what a weight with that code
 * decodes to. Teaching formats keep their codes and scales unpacked in the
 * QTensor; their levels follow qtensor.c's `r * s`.
 */
#include "quant/inspect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "quant/types.h"

/* ------------------------------------------------------- GGML code layouts */

/* Where a GGML block type keeps its codes (ggml-common.h). Four-bit codes are
 * nibbles: byte j of qs holds code j in its low half and code j + 16 in its high
 * half. Q5 types add a fifth bit per code, bit k of the 32-bit qh for code k. */
typedef struct CodeLayout {
    uint32_t type;
    int bits;          /* 4, 5 or 8 */
    size_t qs_at;      /* byte offset of the nibbles, or of the int8 codes */
    int qh_at;         /* byte offset of qh, -1 when none */
    int32_t offset;    /* the code for zero: value = (code - offset) x d */
    bool has_min;      /* an FP16 m follows d: value = code x d + m */
    bool table;        /* IQ4_NL: value = d x table[code] */
    const char *rule;
} CodeLayout;

static const CodeLayout LAYOUTS[] = {
    {GGML_TYPE_Q4_0, 4, 2, -1, 8, false, false, "value = (code - 8) x d"},
    {GGML_TYPE_Q4_1, 4, 4, -1, 0, true, false, "value = code x d + m"},
    {GGML_TYPE_Q5_0, 5, 6, 2, 16, false, false, "value = (code - 16) x d"},
    {GGML_TYPE_Q5_1, 5, 8, 4, 0, true, false, "value = code x d + m"},
    {GGML_TYPE_Q8_0, 8, 2, -1, 0, false, false, "value = code x d"},
    {GGML_TYPE_IQ4_NL, 4, 2, -1, 0, false, true, "value = d x table[code] (a fixed uneven table)"},
};

static const CodeLayout *layout_of(uint32_t type) {
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (LAYOUTS[i].type == type) return &LAYOUTS[i];
    return NULL;
}

static int32_t code_get(const uint8_t *block, const CodeLayout *l, int k) {
    if (l->bits == 8) return (int8_t)block[l->qs_at + (size_t)k];
    const int half = QK4_0 / 2;
    int32_t c = k < half ? block[l->qs_at + (size_t)k] & 0x0F : block[l->qs_at + (size_t)(k - half)] >> 4;
    if (l->qh_at >= 0) {
        uint32_t qh;
        memcpy(&qh, block + l->qh_at, sizeof qh);
        c |= (int32_t)((qh >> k) & 1u) << 4;
    }
    return c;
}

/* Sets every code of the block to c (for decoding one level). */
static void code_fill(uint8_t *block, const CodeLayout *l, int32_t c) {
    if (l->bits == 8) {
        memset(block + l->qs_at, (uint8_t)(int8_t)c, QK8_0);
        return;
    }
    const uint8_t nib = (uint8_t)(c & 0x0F);
    memset(block + l->qs_at, nib | (uint8_t)(nib << 4), QK4_0 / 2);
    if (l->qh_at >= 0) {
        const uint32_t qh = (c >> 4) & 1 ? 0xFFFFFFFFu : 0u;
        memcpy(block + l->qh_at, &qh, sizeof qh);
    }
}

/* ------------------------------------------------------------------ levels */

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the levels, drops repeats (and -0 as a repeat of 0) and non-finite ones. */
static void levels_finish(BlockInfo *b) {
    int n = 0;
    for (int i = 0; i < b->n_levels; i++)
        if (isfinite(b->levels[i])) b->levels[n++] = b->levels[i] == 0.0 ? 0.0 : b->levels[i];
    qsort(b->levels, (size_t)n, sizeof b->levels[0], cmp_double);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || b->levels[i] != b->levels[k - 1]) b->levels[k++] = b->levels[i];
    b->n_levels = k;
}

/* -------------------------------------------------------------- windows */

int inspect_window_len(Format f, int64_t cols) {
    (void)cols;
    if (f.kind == FORMAT_GGML) {
        const TypeTraits *t = type_traits(f.type);
        return t && t->block_size > 1 ? t->block_size : INSPECT_WINDOW;
    }
    if (f.gran == GRAN_BLOCK && f.block < INSPECT_WINDOW) return f.block;
    return INSPECT_WINDOW;
}

int64_t inspect_blocks_per_row(const QTensor *q) {
    const int64_t w = inspect_window_len(q->fmt, q->cols);
    const int64_t len = q->fmt.kind == FORMAT_GGML ? q->cols_padded : q->cols;
    return (len + w - 1) / w;
}

int64_t inspect_block_count(const QTensor *q) {
    return q->rows * inspect_blocks_per_row(q);
}

/* ------------------------------------------------------------ per family */

static Status inspect_ggml_block(const QTensor *q, const TypeTraits *t, BlockInfo *b, Error *err) {
    char name[32];
    const CodeLayout *l = layout_of(q->fmt.type);
    if (!l || t->block_size > INSPECT_WINDOW || t->type_size > INSPECT_MAX_BYTES || !t->to_float)
        return error_set(err, ST_UNSUPPORTED, "cannot lay open a %s block (its layout is not known here)",
                         format_name(q->fmt, name, sizeof name));
    const uint8_t *block = (const uint8_t *)q->blocks + (size_t)b->row * q->row_bytes +
                           (size_t)(b->col / t->block_size) * t->type_size;
    b->n_stored = t->block_size;
    b->n_bytes = t->type_size;
    memcpy(b->bytes, block, t->type_size);
    t->to_float(b->bytes, b->decoded, t->block_size);

    b->has_codes = true;
    b->code_bits = l->bits;
    b->code_lo = l->bits == 8 ? -128 : 0;
    b->code_hi = l->bits == 8 ? 127 : (1 << l->bits) - 1;
    snprintf(b->rule, sizeof b->rule, "%s", l->rule);
    for (int k = 0; k < b->n_stored; k++) b->codes[k] = code_get(b->bytes, l, k);
    b->has_scale = true;
    memcpy(&b->scale_fp16, b->bytes, sizeof b->scale_fp16);
    b->scale = half_to_f32(b->scale_fp16);
    if (l->has_min) {
        b->has_min = true;
        memcpy(&b->min_fp16, b->bytes + 2, sizeof b->min_fp16);
        b->min = half_to_f32(b->min_fp16);
    }

    /* every code's value, decoded from a copy of this block holding only that code */
    uint8_t tmp[INSPECT_MAX_BYTES];
    float out[INSPECT_WINDOW];
    b->n_levels = 0;
    for (int32_t c = b->code_lo; c <= b->code_hi && b->n_levels < INSPECT_MAX_LEVELS; c++) {
        memcpy(tmp, b->bytes, t->type_size);
        code_fill(tmp, l, c);
        t->to_float(tmp, out, t->block_size);
        b->levels[b->n_levels++] = out[0];
    }
    levels_finish(b);
    b->scope = INSPECT_SCOPE_BLOCK;
    b->group = b->index;
    b->group_col = b->col;
    b->group_len = b->n;
    return ST_OK;
}

static void inspect_float_values(const QTensor *q, const TypeTraits *t, BlockInfo *b) {
    const uint8_t *p = (const uint8_t *)q->blocks + (size_t)b->row * q->row_bytes + (size_t)b->col * t->type_size;
    b->n_stored = b->n;
    b->n_bytes = (size_t)b->n * t->type_size;
    memcpy(b->bytes, p, b->n_bytes);
    t->to_float(b->bytes, b->decoded, b->n);
    for (int k = 0; k < b->n; k++) {
        if (t->type_size == 4) {
            memcpy(&b->raw[k], b->bytes + 4 * k, 4);
        } else {
            uint16_t h;
            memcpy(&h, b->bytes + 2 * (size_t)k, 2);
            b->raw[k] = h;
        }
    }
    switch (q->fmt.type) {
    case GGML_TYPE_F32: snprintf(b->rule, sizeof b->rule, "32 bits: 1 sign, 8 exponent, 23 fraction"); break;
    case GGML_TYPE_F16: snprintf(b->rule, sizeof b->rule, "16 bits: 1 sign, 5 exponent, 10 fraction"); break;
    case GGML_TYPE_BF16: snprintf(b->rule, sizeof b->rule, "16 bits: 1 sign, 8 exponent, 7 fraction"); break;
    default: snprintf(b->rule, sizeof b->rule, "%d bytes a value", (int)t->type_size);
    }
    b->scope = INSPECT_SCOPE_NONE;
}

static void inspect_teach(const QTensor *q, BlockInfo *b) {
    const Format f = q->fmt;
    b->n_stored = b->n;
    const size_t at = (size_t)(b->row * q->cols + b->col);
    for (int k = 0; k < b->n; k++) {
        b->codes[k] = q->codes[at + (size_t)k];
        b->decoded[k] = q->dequant[at + (size_t)k];
    }
    switch (f.gran) {
    case GRAN_TENSOR:
        b->scope = INSPECT_SCOPE_TENSOR;
        b->group = 0;
        b->group_col = 0;
        b->group_len = q->cols;
        break;
    case GRAN_ROW:
        b->scope = INSPECT_SCOPE_ROW;
        b->group = b->row;
        b->group_col = 0;
        b->group_len = q->cols;
        break;
    default: {
        const int64_t per_row = (q->cols + f.block - 1) / f.block;
        b->scope = INSPECT_SCOPE_BLOCK;
        b->group = b->row * per_row + b->col / f.block;
        b->group_col = b->col / f.block * f.block;
        b->group_len = q->cols - b->group_col < f.block ? q->cols - b->group_col : f.block;
    }
    }
    b->has_codes = true;
    b->code_bits = f.bits;
    b->has_scale = true;
    b->scale = q->scales[b->group];
    b->scale_fp16 = half_from_f32(b->scale); /* exact: the scale was rounded to FP16 */
    int32_t r_lo, r_hi; /* code - zero point */
    if (f.asym) {
        b->has_zero = true;
        b->zero = q->zeros[b->group];
        b->code_lo = 0;
        b->code_hi = (1 << f.bits) - 1;
        r_lo = -b->zero;
        r_hi = b->code_hi - b->zero;
        snprintf(b->rule, sizeof b->rule, "value = (code - z) x s");
    } else {
        b->code_hi = (1 << (f.bits - 1)) - 1;
        b->code_lo = -b->code_hi;
        r_lo = b->code_lo;
        r_hi = b->code_hi;
        snprintf(b->rule, sizeof b->rule, "value = code x s");
    }
    b->n_levels = 0;
    for (int32_t r = r_lo; r <= r_hi && b->n_levels < INSPECT_MAX_LEVELS; r++)
        b->levels[b->n_levels++] = (float)r * b->scale; /* as qtensor.c: r * s in float */
    levels_finish(b);
}

/* ------------------------------------------------------------------ entry */

Status inspect_block(const QTensor *q, const float *w, int64_t index, BlockInfo *out, Error *err) {
    memset(out, 0, sizeof *out);
    const int64_t count = inspect_block_count(q);
    if (index < 0 || index >= count)
        return error_set(err, ST_USAGE, "block %lld is outside 0..%lld", (long long)index, (long long)count - 1);
    const int64_t per_row = inspect_blocks_per_row(q);
    const int win = inspect_window_len(q->fmt, q->cols);
    out->fmt = q->fmt;
    out->index = index;
    out->count = count;
    out->row = index / per_row;
    out->col = index % per_row * win;
    out->n = (int)(q->cols - out->col < win ? q->cols - out->col : win);
    for (int k = 0; k < out->n; k++) out->values[k] = w[out->row * q->cols + out->col + k];

    Status st = ST_OK;
    if (q->fmt.kind == FORMAT_GGML) {
        const TypeTraits *t = type_traits(q->fmt.type);
        if (t && t->block_size == 1 && t->to_float && t->type_size <= 4)
            inspect_float_values(q, t, out);
        else if (t)
            st = inspect_ggml_block(q, t, out, err);
        else
            st = error_set(err, ST_UNSUPPORTED, "unknown ggml type %u", (unsigned)q->fmt.type);
    } else {
        inspect_teach(q, out);
    }
    if (st != ST_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    /* An outlier split: the weights kept in FP16 are added to the dense decode
     * (whose code there stands for 0), as the forward pass adds them. */
    if (q->fmt.split && q->sp_row)
        for (int64_t k = q->sp_row[out->row]; k < q->sp_row[out->row + 1]; k++) {
            const int64_t c = (int64_t)q->sp_col[k];
            if (c >= out->col && c < out->col + out->n) out->decoded[c - out->col] = q->dequant[out->row * q->cols + c];
        }
    return ST_OK;
}
