/* format.c — names, parsing and honest sizes of the storage formats (see format.h).
 *
 * Called by plans (names, parsing), the quantizer (block sizes, padding) and every
 * screen that prints a size. GGML facts come from type_traits(); the teaching
 * formats' sizes follow the counting rule in format.h, in one function
 * (dense_bytes) so the bytes and the bits per weight cannot disagree.
 */
#include "quant/format.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/types.h"

/* ------------------------------------------------------------- construction */

Format format_ggml(uint32_t ggml_type) {
    assert(ggml_type <= UINT8_MAX);
    Format f;
    memset(&f, 0, sizeof f);
    f.kind = FORMAT_GGML;
    f.type = (uint8_t)ggml_type;
    return f;
}

Format format_teach(int bits, Granularity gran, int block, bool asymmetric) {
    Format f;
    memset(&f, 0, sizeof f);
    f.kind = FORMAT_TEACH;
    f.bits = (uint8_t)(bits < 0 ? 0 : bits > UINT8_MAX ? UINT8_MAX : bits);
    f.gran = (uint8_t)gran;
    /* Only block granularity has a block size; keeping it 0 otherwise makes equal
     * formats compare equal byte for byte. */
    if (gran == GRAN_BLOCK)
        f.block = (uint16_t)(block < 0 ? 0 : block > UINT16_MAX ? UINT16_MAX : block);
    f.asym = asymmetric ? 1 : 0;
    return f;
}

_Static_assert(sizeof(Format) == 16, "Format has no implicit padding (memcmp-comparable)");

Format format_with_method(Format f, QuantMethod method) {
    f.method = (uint8_t)method;
    return f;
}

Format format_with_prune(Format f, PruneKind kind, int percent) {
    f.prune = (uint8_t)kind;
    f.prune_pct = kind == PRUNE_UNSTRUCTURED ? (uint8_t)(percent < 0 ? 0 : percent > 100 ? 100 : percent) : 0;
    return f;
}

Format format_with_outliers(Format f, int basis_points) {
    if (basis_points < 0) {
        f.split = 0;
        f.outlier_bp = 0;
    } else {
        f.split = 1;
        f.outlier_bp = (uint16_t)(basis_points > UINT16_MAX ? UINT16_MAX : basis_points);
    }
    return f;
}

Format format_base(Format f) {
    f.method = METHOD_RTN;
    f.prune = PRUNE_NONE;
    f.prune_pct = 0;
    f.split = 0;
    f.outlier_bp = 0;
    return f;
}

bool format_has_modifiers(Format f) {
    return f.method != METHOD_RTN || f.prune != PRUNE_NONE || f.split != 0;
}

bool format_equal(Format a, Format b) {
    return a.kind == b.kind && a.type == b.type && a.bits == b.bits && a.gran == b.gran &&
           a.block == b.block && a.asym == b.asym && a.method == b.method && a.prune == b.prune &&
           a.prune_pct == b.prune_pct && a.split == b.split && a.outlier_bp == b.outlier_bp;
}

/* Low 32 bits, the base: GGML, the type id (0..255); teaching, bit 31 set, then
 * asym (bit 30), granularity (bits 28-29), bits (20-27) and block (0-15).
 * High 32 bits, the modifiers: method (32-33), prune kind (34-35), prune percent
 * (36-42), split (43), outlier basis points (44-57). */
uint64_t format_key(Format f) {
    uint64_t k;
    if (f.kind == FORMAT_GGML) k = f.type;
    else
        k = UINT32_C(1) << 31 | (uint32_t)(f.asym & 1) << 30 | (uint32_t)(f.gran & 3) << 28 |
            (uint32_t)f.bits << 20 | f.block;
    return k | (uint64_t)(f.method & 3) << 32 | (uint64_t)(f.prune & 3) << 34 |
           (uint64_t)(f.prune_pct & 0x7f) << 36 | (uint64_t)(f.split & 1) << 43 |
           (uint64_t)(f.outlier_bp & 0x3fff) << 44;
}

static bool teach_block_ok(int block) {
    return block == 16 || block == 32 || block == 64 || block == 128;
}

/* Activation-only type: llama.cpp never stores weights in it. */
static bool ggml_is_weight_type(uint32_t type) {
    return type != GGML_TYPE_Q8_1;
}

static bool base_is_supported(Format f);

bool format_gptq_capable(Format base) {
    if (base.kind == FORMAT_TEACH) return true;
    return base.kind == FORMAT_GGML && (base.type == GGML_TYPE_Q8_0 || base.type == GGML_TYPE_Q4_0);
}

/* F32, F16, BF16: nothing is rounded to a grid, so there is nothing to split off. */
static bool base_is_float(Format base) {
    return base.kind == FORMAT_GGML &&
           (base.type == GGML_TYPE_F32 || base.type == GGML_TYPE_F16 || base.type == GGML_TYPE_BF16);
}

/* Why a modifier does not fit its base, or NULL when they all do. */
static const char *modifier_problem(Format f) {
    const Format base = format_base(f);
    if (f.method > METHOD_GPTQ) return "unknown method";
    if (f.method == METHOD_GPTQ && !format_gptq_capable(base))
        return "+gptq needs q8_0, q4_0 or a teaching format (intN-...)";
    switch (f.prune) {
    case PRUNE_NONE:
    case PRUNE_2_4:
        if (f.prune_pct != 0) return "a prune percentage without unstructured pruning";
        break;
    case PRUNE_UNSTRUCTURED:
        if (f.prune_pct < 1 || f.prune_pct > 99) return "pruning is prune1 to prune99";
        break;
    default: return "unknown pruning";
    }
    if (f.split > 1 || (!f.split && f.outlier_bp != 0)) return "bad outlier split";
    if (f.split && f.outlier_bp > FORMAT_OUTLIER_MAX_BP) return "outliers are out0% to out10%";
    if (f.split && base_is_float(base))
        return "+out needs a quantized base: f32, f16 and bf16 have no grid to split outliers from";
    return NULL;
}

bool format_is_supported(Format f) {
    if (f.pad != 0 || f.pad2 != 0) return false;
    return base_is_supported(format_base(f)) && modifier_problem(f) == NULL;
}

static bool base_is_supported(Format f) {
    if (f.kind == FORMAT_GGML) {
        const TypeTraits *t = type_traits(f.type);
        return t && t->from_float && t->to_float && ggml_is_weight_type(f.type) && f.bits == 0 &&
               f.gran == 0 && f.block == 0 && f.asym == 0;
    }
    if (f.kind != FORMAT_TEACH) return false;
    if (f.bits < 2 || f.bits > 8 || f.asym > 1) return false;
    switch (f.gran) {
    case GRAN_TENSOR:
    case GRAN_ROW: return f.block == 0;
    case GRAN_BLOCK: return teach_block_ok(f.block);
    default: return false;
    }
}

/* -------------------------------------------------------------------- names */

static const char *gran_word(Format f, char *buf, size_t size) {
    switch (f.gran) {
    case GRAN_TENSOR: return "tensor";
    case GRAN_ROW: return "row";
    default: snprintf(buf, size, "b%u", (unsigned)f.block); return buf;
    }
}

/* "1", "0.5", "0.25": basis points as a percentage without trailing zeros. */
static void percent_text(unsigned bp, char *buf, size_t size) {
    if (bp % 100 == 0) snprintf(buf, size, "%u", bp / 100);
    else if (bp % 10 == 0) snprintf(buf, size, "%u.%u", bp / 100, bp / 10 % 10);
    else snprintf(buf, size, "%u.%02u", bp / 100, bp % 100);
}

/* The modifiers, in canonical order, as "+gptq+prune50+out1%" or as a label
 * ", GPTQ, 50% pruned, 1% outliers in FP16". */
static void modifier_text(Format f, bool label, char *buf, size_t size) {
    char pct[16];
    size_t o = 0;
    buf[0] = '\0';
#define ADD(...) do { if (o < size) { int n_ = snprintf(buf + o, size - o, __VA_ARGS__); if (n_ > 0) o += (size_t)n_; } } while (0)
    if (f.method == METHOD_GPTQ) ADD("%s", label ? ", GPTQ" : "+gptq");
    if (f.prune == PRUNE_UNSTRUCTURED) {
        if (label) ADD(", %u%% pruned", (unsigned)f.prune_pct);
        else ADD("+prune%u", (unsigned)f.prune_pct);
    } else if (f.prune == PRUNE_2_4) {
        ADD("%s", label ? ", 2:4 pruned" : "+2:4");
    }
    if (f.split) {
        percent_text(f.outlier_bp, pct, sizeof pct);
        if (label) ADD(", %s%% outliers in FP16", pct);
        else ADD("+out%s%%", pct);
    }
#undef ADD
}

/* Appends a modifier text to buf (cut at size, never overrun). */
static char *append(char *buf, size_t size, const char *tail) {
    size_t n = strlen(buf);
    if (n + 1 < size) snprintf(buf + n, size - n, "%s", tail);
    return buf;
}

char *format_name(Format f, char *buf, size_t size) {
    if (size == 0) return buf;
    if (f.kind == FORMAT_GGML) {
        snprintf(buf, size, "%s", type_name(f.type));
    } else {
        char g[16];
        snprintf(buf, size, "int%u-%s-%s", (unsigned)f.bits, gran_word(f, g, sizeof g),
                 f.asym ? "asym" : "sym");
    }
    char mods[FORMAT_NAME_MAX];
    modifier_text(f, false, mods, sizeof mods);
    return append(buf, size, mods);
}

static char *base_label(Format f, char *buf, size_t size);

char *format_label(Format f, char *buf, size_t size) {
    if (size == 0) return buf;
    base_label(f, buf, size);
    char mods[FORMAT_NAME_MAX];
    modifier_text(f, true, mods, sizeof mods);
    return append(buf, size, mods);
}

static char *base_label(Format f, char *buf, size_t size) {
    if (f.kind == FORMAT_GGML) {
        switch (f.type) {
        case GGML_TYPE_F32: snprintf(buf, size, "FP32"); break;
        case GGML_TYPE_F16: snprintf(buf, size, "FP16"); break;
        case GGML_TYPE_BF16: snprintf(buf, size, "BF16"); break;
        case GGML_TYPE_Q8_0: snprintf(buf, size, "INT8 (Q8_0)"); break;
        case GGML_TYPE_Q4_0: snprintf(buf, size, "INT4 (Q4_0)"); break;
        default: {
            /* ggml's own spelling, upper-cased: "Q4_1", "Q4_K", "IQ4_NL" */
            const char *n = type_name(f.type);
            size_t i = 0;
            for (; n[i] && i + 1 < size; i++) buf[i] = (char)toupper((unsigned char)n[i]);
            if (size) buf[i] = '\0';
        }
        }
        return buf;
    }
    const char *sym = f.asym ? "asym" : "sym";
    switch (f.gran) {
    case GRAN_TENSOR: snprintf(buf, size, "INT%u per tensor, %s", (unsigned)f.bits, sym); break;
    case GRAN_ROW: snprintf(buf, size, "INT%u per row, %s", (unsigned)f.bits, sym); break;
    default:
        snprintf(buf, size, "INT%u per block of %u, %s", (unsigned)f.bits, (unsigned)f.block, sym);
    }
    return buf;
}

/* ------------------------------------------------------------------ parsing */

static const char FORMAT_HINT[] =
    "(try f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, int8, int4, int4-b32-sym, "
    "int3-row-asym, int2-tensor, ...)";

/* The input as a short printable quote for a one-line message: control bytes
 * become '?', and long input is cut with "...". */
static void quote_input(const char *text, char *out, size_t size) {
    size_t o = 0;
    const size_t keep = size > 4 ? size - 4 : 0;
    for (const char *c = text; *c; c++) {
        if (o >= keep) {
            if (size >= 4) memcpy(out + o, "...", 3), o += 3;
            break;
        }
        unsigned char u = (unsigned char)*c;
        out[o++] = (u < 0x20 || u == 0x7f) ? '?' : (char)u;
    }
    if (size) out[o < size ? o : size - 1] = '\0';
}

static Status parse_error(Error *err, const char *text, const char *why) {
    char q[48];
    quote_input(text, q, sizeof q);
    if (why) return error_set(err, ST_USAGE, "unknown format '%s': %s %s", q, why, FORMAT_HINT);
    return error_set(err, ST_USAGE, "unknown format '%s' %s", q, FORMAT_HINT);
}

/* Reads a decimal number filling the whole of s; -1 if s is not one (or too big). */
static int parse_small_uint(const char *s) {
    if (!*s) return -1;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* "int3-b64", "row-int2-asym", ...: parts in any order, each at most once. */
static Status parse_teach(const char *lower, const char *text, Format *f, Error *err) {
    int bits = -1, block = 32, asym = -1;
    int gran = -1;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", lower);
    char *part = buf;
    for (;;) {
        char *dash = strchr(part, '-');
        if (dash) *dash = '\0';
        if (!*part) return parse_error(err, text, "empty part between '-'");
        if (strncmp(part, "int", 3) == 0) {
            if (bits != -1) return parse_error(err, text, "two bit widths");
            bits = parse_small_uint(part + 3);
            if (bits < 2 || bits > 8) return parse_error(err, text, "bits must be 2 to 8");
        } else if (strcmp(part, "sym") == 0 || strcmp(part, "asym") == 0) {
            if (asym != -1) return parse_error(err, text, "sym/asym given twice");
            asym = part[0] == 'a';
        } else if (strcmp(part, "tensor") == 0 || strcmp(part, "row") == 0) {
            if (gran != -1) return parse_error(err, text, "two granularities");
            gran = part[0] == 't' ? GRAN_TENSOR : GRAN_ROW;
        } else if (part[0] == 'b' && parse_small_uint(part + 1) >= 0) {
            if (gran != -1) return parse_error(err, text, "two granularities");
            gran = GRAN_BLOCK;
            block = parse_small_uint(part + 1);
            if (!teach_block_ok(block))
                return parse_error(err, text, "block must be b16, b32, b64 or b128");
        } else {
            return parse_error(err, text, NULL);
        }
        if (!dash) break;
        part = dash + 1;
    }
    if (bits == -1) return parse_error(err, text, "no bit width (int2 to int8)");
    if (gran == -1) gran = GRAN_BLOCK;
    *f = format_teach(bits, (Granularity)gran, block, asym == 1);
    return ST_OK;
}

/* "1", "0.5", "0.25" (at most two decimals) as basis points; -1 if not one. */
static int parse_percent_bp(const char *s) {
    int whole = 0, frac = 0, digits = 0, frac_digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (whole > 1000) return -1;
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, frac_digits++) {
            if (frac_digits == 2) return -1;
            frac = frac * 10 + (*s - '0');
        }
        if (frac_digits == 0) return -1;
    }
    if (*s == '%') s++;
    if (*s || digits == 0) return -1;
    if (frac_digits == 1) frac *= 10;
    return whole * 100 + frac;
}

/* One '+' modifier (lower case) into *f; a reason on failure. */
static const char *parse_modifier(const char *m, Format *f) {
    if (strcmp(m, "gptq") == 0) {
        if (f->method != METHOD_RTN) return "+gptq given twice";
        f->method = METHOD_GPTQ;
    } else if (strcmp(m, "2:4") == 0) {
        if (f->prune != PRUNE_NONE) return "two kinds of pruning";
        f->prune = PRUNE_2_4;
    } else if (strncmp(m, "prune", 5) == 0) {
        if (f->prune != PRUNE_NONE) return "two kinds of pruning";
        const char *num = m + 5;
        char digits[8];
        size_t n = strlen(num);
        if (n > 0 && num[n - 1] == '%') n--;
        if (n == 0 || n >= sizeof digits) return "pruning is prune1 to prune99";
        memcpy(digits, num, n);
        digits[n] = '\0';
        int p = parse_small_uint(digits);
        if (p < 1 || p > 99) return "pruning is prune1 to prune99";
        f->prune = PRUNE_UNSTRUCTURED;
        f->prune_pct = (uint8_t)p;
    } else if (strncmp(m, "out", 3) == 0) {
        if (f->split) return "two outlier splits";
        int bp = parse_percent_bp(m + 3);
        if (bp < 0 || bp > FORMAT_OUTLIER_MAX_BP) return "outliers are out0% to out10% (at most two decimals)";
        f->split = 1;
        f->outlier_bp = (uint16_t)bp;
    } else {
        return "modifiers are +gptq, +pruneP, +2:4 and +outK%";
    }
    return NULL;
}

static Status parse_base(const char *lower, const char *text, Format *f, Error *err);

Status format_parse(const char *text, Format *f, Error *err) {
    char lower[64];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof lower) return parse_error(err, text, NULL);
    for (size_t i = 0; i <= len; i++) lower[i] = (char)tolower((unsigned char)text[i]);
    char *plus = strchr(lower, '+');
    if (plus) *plus = '\0';
    Format g;
    Status st = parse_base(lower, text, &g, err);
    if (st != ST_OK) return st;
    while (plus) {
        char *m = plus + 1;
        plus = strchr(m, '+');
        if (plus) *plus = '\0';
        if (!*m) return parse_error(err, text, "empty modifier after '+'");
        const char *why = parse_modifier(m, &g);
        if (why) return parse_error(err, text, why);
    }
    const char *why = modifier_problem(g);
    if (why) return parse_error(err, text, why);
    *f = g;
    return ST_OK;
}

static Status parse_base(const char *lower, const char *text, Format *f, Error *err) {

    static const struct {
        const char *alias;
        uint32_t type;
    } ALIASES[] = {
        {"fp32", GGML_TYPE_F32}, {"fp16", GGML_TYPE_F16}, {"bf16", GGML_TYPE_BF16},
        {"int8", GGML_TYPE_Q8_0}, {"int4", GGML_TYPE_Q4_0},
    };
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++) {
        if (strcmp(lower, ALIASES[i].alias) == 0) {
            *f = format_ggml(ALIASES[i].type);
            return ST_OK;
        }
    }
    int t = type_from_name(lower);
    if (t >= 0) {
        *f = format_ggml((uint32_t)t);
        return ST_OK;
    }
    /* Anything with an "intN" part is a teaching format. */
    if (strstr(lower, "int")) return parse_teach(lower, text, f, err);
    return parse_error(err, text, NULL);
}

/* -------------------------------------------------------------------- sizes */

int64_t format_block_size(Format f, int64_t cols) {
    if (f.kind == FORMAT_GGML) {
        const TypeTraits *t = type_traits(f.type);
        return t ? t->block_size : 0;
    }
    switch (f.gran) {
    case GRAN_TENSOR: return 0;
    case GRAN_ROW: return cols;
    default: return f.block;
    }
}

static int64_t round_up(int64_t x, int64_t m) {
    return m > 0 ? (x + m - 1) / m * m : x;
}

int64_t format_padded_cols(Format f, int64_t cols) {
    if (f.kind == FORMAT_TEACH && f.gran != GRAN_BLOCK) return cols;
    return round_up(cols, format_block_size(f, cols));
}

/* Groups (scales) of a teaching format on a rows x cols tensor. */
static double teach_groups(Format f, int64_t rows, int64_t cols) {
    switch (f.gran) {
    case GRAN_TENSOR: return 1.0;
    case GRAN_ROW: return (double)rows;
    default: return (double)rows * (double)((cols + f.block - 1) / f.block);
    }
}

static double dense_bytes(Format f, int64_t rows, int64_t cols);

double format_tensor_bytes(Format f, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return 0.0;
    return dense_bytes(format_base(f), rows, cols) +
           (double)FORMAT_OUTLIER_BYTES * (double)format_outlier_count(f, rows, cols);
}

int64_t format_outlier_count(Format f, int64_t rows, int64_t cols) {
    if (!f.split || rows <= 0 || cols <= 0) return 0;
    /* n * bp / 10000 without overflow for any n below 2^63 / 10000 per factor */
    const int64_t n = rows * cols;
    const int64_t k = n / 10000 * f.outlier_bp + n % 10000 * f.outlier_bp / 10000;
    const int64_t left = n - format_prune_count(f, rows, cols); /* outliers come from the survivors */
    return k < left ? k : left;
}

int64_t format_prune_count(Format f, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return 0;
    if (f.prune == PRUNE_UNSTRUCTURED) {
        const int64_t n = rows * cols;
        return n / 100 * f.prune_pct + n % 100 * f.prune_pct / 100;
    }
    if (f.prune == PRUNE_2_4) {
        const int64_t tail = cols % 4;
        return rows * ((cols / 4) * 2 + (tail > 2 ? tail - 2 : 0));
    }
    return 0;
}

double format_sparse_bytes(Format f, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return 0.0;
    if (f.prune == PRUNE_NONE) return format_tensor_bytes(f, rows, cols);
    const double n = (double)rows * (double)cols;
    const double kept = n - (double)format_prune_count(f, rows, cols);
    const double value_bits = kept * format_bits_per_weight(format_base(f), rows, cols);
    const double index_bits = f.prune == PRUNE_2_4 ? 2.0 * kept : n;
    return ceil((value_bits + index_bits) / 8.0) +
           (double)FORMAT_OUTLIER_BYTES * (double)format_outlier_count(f, rows, cols);
}

static double dense_bytes(Format f, int64_t rows, int64_t cols) {
    if (f.kind == FORMAT_GGML) {
        const TypeTraits *t = type_traits(f.type);
        if (!t) return 0.0;
        const int64_t blocks_per_row = format_padded_cols(f, cols) / t->block_size;
        return (double)rows * (double)blocks_per_row * (double)t->type_size;
    }
    /* codes (padding included) + FP16 scales + zero points, one packed bit
     * stream per tensor rounded up to whole bytes */
    const double groups = teach_groups(f, rows, cols);
    const double bits = (double)rows * (double)format_padded_cols(f, cols) * f.bits +
                        groups * 16.0 + (f.asym ? groups * f.bits : 0.0);
    return ceil(bits / 8.0);
}

double format_bits_per_weight(Format f, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return 0.0;
    return format_tensor_bytes(f, rows, cols) * 8.0 / ((double)rows * (double)cols);
}

bool format_fits_gguf(Format f, int64_t cols) {
    if (f.kind != FORMAT_GGML || cols <= 0 || f.split) return false;
    const TypeTraits *t = type_traits(f.type);
    return t && cols % t->block_size == 0;
}
