/* figure.c — see figure.h. One table of figures, each read from the session. */
#include "lesson/figure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/utf8.h"
#include "lesson/check.h"
#include "model/plan.h"
#include "quant/outliers.h"
#include "quant/types.h"

typedef FigureStatus (*FigureFn)(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind);

typedef struct FigureDef {
    const char *name;
    FigureFn fn;
    int arg;
    const char *help;
} FigureDef;

/* ------------------------------------------------------------- helpers */

static FigureStatus put_text(char *out, size_t size, FigureKind *kind, const char *text) {
    snprintf(out, size, "%s", text);
    if (kind) *kind = FIGURE_TEXT;
    return FIGURE_OK;
}

static FigureStatus put_count(char *out, size_t size, double *value, FigureKind *kind, double n) {
    fmt_count(out, size, (int64_t)llround(n));
    if (value) *value = n;
    if (kind) *kind = FIGURE_COUNT;
    return FIGURE_OK;
}

static FigureStatus put_bytes(char *out, size_t size, double *value, FigureKind *kind, double bytes) {
    fmt_bytes(out, size, bytes);
    if (value) *value = bytes;
    if (kind) *kind = FIGURE_BYTES;
    return FIGURE_OK;
}

/* A number shown with `decimals` digits; the value is the number as shown, so a
 * learner who copies what the screen says is exactly right. */
static FigureStatus put_number(char *out, size_t size, double *value, FigureKind *kind, double x, int decimals,
                               const char *suffix) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, x);
    snprintf(out, size, "%s%s", buf, suffix);
    if (value) *value = strtod(buf, NULL);
    if (kind) *kind = FIGURE_NUMBER;
    return FIGURE_OK;
}

/* A number shown with `digits` significant digits ("%g"), its value as shown. */
static FigureStatus put_sig(char *out, size_t size, double *value, FigureKind *kind, double x, int digits) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    snprintf(out, size, "%s", buf);
    if (value) *value = strtod(buf, NULL);
    if (kind) *kind = FIGURE_NUMBER;
    return FIGURE_OK;
}

static FigureStatus not_measured(char *out, size_t size, const char *why) {
    snprintf(out, size, "%s", why ? why : FIGURE_NOT_MEASURED_TEXT);
    return FIGURE_NOT_MEASURED;
}

/* A tensor's name without the ".weight" every matrix has. */
static FigureStatus put_tensor_name(char *out, size_t size, FigureKind *kind, const ModelTensor *t) {
    char buf[96];
    return put_text(out, size, kind, model_tensor_short_name(t->name, buf, sizeof buf));
}

/* ------------------------------------------------------------ the model */

enum { MODEL_NAME, MODEL_WEIGHTS, MODEL_MATRICES, MODEL_BLOCKS, MODEL_FILE, MODEL_VOCAB };

static FigureStatus fig_model(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const Model *m = s->model;
    int n = 0;
    switch (arg) {
    case MODEL_NAME: return put_text(out, size, kind, m->name);
    case MODEL_WEIGHTS: return put_count(out, size, value, kind, (double)m->n_params);
    case MODEL_MATRICES:
        for (int i = 0; i < m->n_tensors; i++) n += plan_is_quantizable(&m->tensors[i]);
        return put_count(out, size, value, kind, n);
    case MODEL_BLOCKS: return put_count(out, size, value, kind, m->cfg.n_layers);
    case MODEL_FILE: return put_bytes(out, size, value, kind, (double)m->file_size);
    default: return put_count(out, size, value, kind, m->cfg.vocab_size);
    }
}

/* ---------------------------------------------- plans: current and presets */

enum { WHAT_BYTES, WHAT_BITS, WHAT_RATIO, WHAT_PERCENT, WHAT_NAME, N_WHAT };
enum { WHICH_PLAN = -1 }; /* otherwise a PlanPreset */
/* The argument of a preset's figure: which preset, and what of it. */
#define PRESET_ARG(preset, what) ((preset) * N_WHAT + (what))

static bool preset_size(const Session *s, PlanPreset preset, double *bytes, double *bits) {
    Plan p;
    Error err;
    if (plan_preset(&p, s->model, preset, &err) != ST_OK) return false;
    *bytes = plan_bytes(&p, s->model);
    *bits = plan_bits_per_weight(&p, s->model);
    plan_free(&p);
    return true;
}

static FigureStatus plan_figure(Session *s, int which, int what, char *out, size_t size, double *value,
                                FigureKind *kind) {
    double bytes, bits;
    if (which == WHICH_PLAN) {
        if (what == WHAT_NAME) return put_text(out, size, kind, s->plan_label);
        bytes = session_plan_bytes(s);
        bits = session_plan_bits(s);
    } else if (!preset_size(s, (PlanPreset)which, &bytes, &bits)) {
        return not_measured(out, size, NULL);
    }
    double f32 = plan_bytes_f32(s->model);
    switch (what) {
    case WHAT_BYTES: return put_bytes(out, size, value, kind, bytes);
    case WHAT_BITS: return put_number(out, size, value, kind, bits, 2, "");
    case WHAT_RATIO: return put_number(out, size, value, kind, bytes > 0 ? f32 / bytes : 0, 1, "");
    default: return put_number(out, size, value, kind, f32 > 0 ? 100 * bytes / f32 : 0, 0, "%");
    }
}

static FigureStatus fig_plan(Session *s, int arg, char *out, size_t size, double *v, FigureKind *k) {
    return plan_figure(s, WHICH_PLAN, arg, out, size, v, k);
}
static FigureStatus fig_preset(Session *s, int arg, char *out, size_t size, double *v, FigureKind *k) {
    return plan_figure(s, arg / N_WHAT, arg % N_WHAT, out, size, v, k);
}

/* What 7 billion weights take at a format's bits per weight (block-aligned rows,
 * as in a big model), or at the current plan's average. Arithmetic, not a
 * measurement; the lessons say so. */
static FigureStatus fig_7b(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    static const uint32_t types[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0};
    double bits = arg < 0 ? session_plan_bits(s) : format_bits_per_weight(format_ggml(types[arg]), 1, 4096);
    return put_bytes(out, size, value, kind, plan_projected_bytes(bits, 7e9));
}

/* --------------------------------------------------- the selected tensor */

enum { T_NAME, T_FORMAT, T_BYTES, T_FP32_BYTES, T_WEIGHTS, T_RMSE, T_SQNR, T_MAXERR };

static FigureStatus fig_tensor(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    int i = s->ui_tensor;
    if (i < 0 || i >= s->model->n_tensors) return not_measured(out, size, "no tensor selected");
    const ModelTensor *t = &s->model->tensors[i];
    Format f = plan_is_quantizable(t) ? s->plan.fmt[i] : FORMAT_FP32;
    char buf[96];
    switch (arg) {
    case T_NAME: return put_tensor_name(out, size, kind, t);
    case T_FORMAT: return put_text(out, size, kind, format_label(f, buf, sizeof buf));
    case T_BYTES: return put_bytes(out, size, value, kind, format_tensor_bytes(f, t->rows, t->cols));
    case T_FP32_BYTES: return put_bytes(out, size, value, kind, 4.0 * (double)t->n_elements);
    case T_WEIGHTS: return put_count(out, size, value, kind, (double)t->n_elements);
    default: break;
    }
    TensorStatsEntry e;
    if (!session_tensor_stats(s, i, &e)) return not_measured(out, size, NULL);
    if (arg == T_SQNR) {
        if (isinf(e.st.sqnr_db)) return put_text(out, size, kind, "exact (no error)");
        return put_number(out, size, value, kind, e.st.sqnr_db, 1, " dB");
    }
    return put_sig(out, size, value, kind, arg == T_RMSE ? e.st.rmse : e.st.max_abs_err, 3);
}

/* -------------------------------------------------------------- measured */

enum { SP_FP32, SP_PLAN, SP_RATIO, SP_THREADS };

static FigureStatus fig_speed(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const SpeedState *sp = &s->speed;
    if (!lesson_measured(s, "speed")) return not_measured(out, size, NULL);
    char buf[48];
    switch (arg) {
    case SP_FP32:
    case SP_PLAN: {
        double tps = arg == SP_FP32 ? sp->tps_fp32 : sp->tps_plan;
        snprintf(out, size, "%s tokens/s", fmt_count(buf, sizeof buf, (int64_t)llround(tps)));
        if (value) *value = round(tps);
        if (kind) *kind = FIGURE_NUMBER;
        return FIGURE_OK;
    }
    case SP_RATIO: return put_number(out, size, value, kind, sp->tps_fp32 > 0 ? sp->tps_plan / sp->tps_fp32 : 0, 2, "");
    default: return put_count(out, size, value, kind, sp->threads);
    }
}

enum { Q_KL, Q_TOP1, Q_PPL, Q_PPL_FP32, Q_PREDICTIONS };

static FigureStatus fig_quality(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const QualityState *q = &s->quality;
    if (!lesson_measured(s, "quality")) return not_measured(out, size, NULL);
    switch (arg) {
    case Q_KL: return put_number(out, size, value, kind, q->r.kl_mean, 4, "");
    case Q_TOP1: return put_number(out, size, value, kind, 100 * q->r.top1_agree, 1, "%");
    case Q_PPL: return put_number(out, size, value, kind, q->r.ppl_plan, 2, "");
    case Q_PPL_FP32: return put_number(out, size, value, kind, q->r.ppl_base, 2, "");
    default: return put_count(out, size, value, kind, (double)q->r.n_predictions);
    }
}

enum { C_FIRST_DIFF, C_FP32_WORD, C_PLAN_WORD, C_FP32_TEXT, C_PLAN_TEXT, C_TOKENS };

/* Decoded text of ids[from..to), control characters shown as spaces. */
static void decode(const Model *m, const GenColumn *col, int from, int to, char *out, size_t size) {
    size_t o = 0;
    out[0] = '\0';
    if (to > col->n) to = col->n;
    for (int i = from < 1 ? 1 : from; i < to && o + 1 < size; i++) {
        size_t len;
        const char *piece = tokenizer_decode(&m->tok, i > 0 ? col->ids[i - 1] : -1, col->ids[i], &len);
        for (size_t k = 0; k < len && o + 1 < size; k++) {
            unsigned char c = (unsigned char)piece[k];
            out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        }
    }
    /* never end inside a UTF-8 character */
    while (o > 0 && !utf8_valid(out, o)) o--;
    out[o] = '\0';
}

/* Whether token i of a column starts a new word (its text begins with a space
 * or is not a letter, like punctuation). */
static bool starts_word(const Model *m, const GenColumn *col, int i) {
    size_t len;
    const char *piece = tokenizer_decode(&m->tok, i > 0 ? col->ids[i - 1] : -1, col->ids[i], &len);
    unsigned char c = len ? (unsigned char)piece[0] : ' ';
    return c == ' ' || !(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

/* The whole word holding token d (a token may be only a piece of a word:
 * "p" of "park"), without the space before it. */
static void word_at(const Model *m, const GenColumn *col, int d, char *out, size_t size) {
    int start = d, end = d + 1;
    while (start > 1 && !starts_word(m, col, start)) start--;
    while (end < col->n && !starts_word(m, col, end)) end++;
    decode(m, col, start, end, out, size);
    if (out[0] == ' ') memmove(out, out + 1, strlen(out));
}

static FigureStatus fig_compare(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const CompareState *c = &s->compare;
    if (!lesson_measured(s, "compare")) return not_measured(out, size, NULL);
    int d = c->first_diff;
    char buf[320];
    switch (arg) {
    case C_FIRST_DIFF:
        if (d < 0) {
            snprintf(out, size, "no difference in %d tokens", c->fp32.n - 1);
            if (value) *value = -1;
            if (kind) *kind = FIGURE_NUMBER;
            return FIGURE_OK;
        }
        return put_count(out, size, value, kind, d); /* the BOS is token 0: d counts the text's tokens */
    case C_FP32_WORD:
    case C_PLAN_WORD: {
        const GenColumn *col = arg == C_FP32_WORD ? &c->fp32 : &c->plan;
        if (d < 0 || d >= col->n) return put_text(out, size, kind, "(the same)");
        word_at(s->model, col, d, buf, sizeof buf);
        char quoted[340];
        snprintf(quoted, sizeof quoted, "\"%s\"", buf);
        return put_text(out, size, kind, quoted);
    }
    case C_FP32_TEXT:
    case C_PLAN_TEXT: {
        const GenColumn *col = arg == C_FP32_TEXT ? &c->fp32 : &c->plan;
        decode(s->model, col, 1, col->n, buf, 200);
        if (strlen(buf) >= 190) strcat(buf, "...");
        return put_text(out, size, kind, buf[0] == ' ' ? buf + 1 : buf);
    }
    default: return put_count(out, size, value, kind, c->fp32.n - 1);
    }
}

enum { S_TOP, S_TOP_KL, S_LEAST, S_FORMAT };

static FigureStatus fig_sens(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const SensState *sn = &s->sens;
    if (!lesson_measured(s, "sensitivity")) return not_measured(out, size, NULL);
    char buf[64];
    switch (arg) {
    case S_TOP: return put_text(out, size, kind, sn->items[0].name);
    case S_TOP_KL: return put_number(out, size, value, kind, sn->items[0].kl_mean, 4, "");
    case S_LEAST: return put_text(out, size, kind, sn->items[sn->n - 1].name);
    default: return put_text(out, size, kind, format_label(sn->target, buf, sizeof buf));
    }
}

/* ------------------------------------------------- beyond rounding */

enum { O_TENSOR, O_BEFORE, O_AFTER, O_STD };

/* The last injected outlier, while it is in place. */
static FigureStatus fig_outlier(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    if (s->edits.n == 0) return not_measured(out, size, "(no outlier injected)");
    const WeightEdit *e = &s->edits.items[s->edits.n - 1];
    const ModelTensor *t = &s->model->tensors[e->tensor];
    switch (arg) {
    case O_TENSOR: return put_tensor_name(out, size, kind, t);
    case O_BEFORE:
    case O_AFTER: return put_sig(out, size, value, kind, (double)(arg == O_BEFORE ? e->original : e->value), 4);
    default: {
        OutlierFacts f;
        Error err;
        if (outliers_facts(t->f32, t->rows, t->cols, 0, &f, &err) != ST_OK) return not_measured(out, size, NULL);
        return put_number(out, size, value, kind, f.max_over_std, 1, "");
    }
    }
}

enum { M_KL_RTN, M_KL_GPTQ, M_TOP1_RTN, M_TOP1_GPTQ, M_RMSE_RTN, M_RMSE_GPTQ };

/* Round to nearest vs GPTQ (the Quality screen's G), for the current plan. */
static FigureStatus fig_methods(Session *s, int arg, char *out, size_t size, double *value, FigureKind *kind) {
    const MethodState *m = &s->methods;
    if (!lesson_measured(s, "methods")) return not_measured(out, size, NULL);
    switch (arg) {
    case M_KL_RTN: return put_number(out, size, value, kind, m->rtn.kl_mean, 4, "");
    case M_KL_GPTQ: return put_number(out, size, value, kind, m->gptq.kl_mean, 4, "");
    case M_TOP1_RTN: return put_number(out, size, value, kind, 100 * m->rtn.top1_agree, 1, "%");
    case M_TOP1_GPTQ: return put_number(out, size, value, kind, 100 * m->gptq.top1_agree, 1, "%");
    default: return put_sig(out, size, value, kind, arg == M_RMSE_RTN ? m->rmse_rtn : m->rmse_gptq, 3);
    }
}

/* ----------------------------------------- figures with arguments */

/* Statistics of (tensor, format), remembered for the session's current
 * generation: a screen redraws many times a second while a job runs, and a
 * figure must not re-quantize a tensor each time. Called from one thread. */
enum { MEMO_SLOTS = 16 };
static struct {
    const Session *s;
    unsigned generation;
    int tensor;
    uint64_t key; /* format_key: modifiers live in the upper half */
    WeightStats st;
    double bytes;
} memo[MEMO_SLOTS];
static int memo_next;

bool lesson_tensor_stats(Session *s, int tensor, Format f, WeightStats *out, double *bytes) {
    if (!s || !s->model || tensor < 0 || tensor >= s->model->n_tensors) return false;
    uint64_t key = format_key(f);
    for (int k = 0; k < MEMO_SLOTS; k++)
        if (memo[k].s == s && memo[k].generation == s->generation && memo[k].tensor == tensor && memo[k].key == key) {
            *out = memo[k].st;
            if (bytes) *bytes = memo[k].bytes;
            return true;
        }
    const ModelTensor *t = &s->model->tensors[tensor];
    const QTensor *q;
    Error err;
    if (!t->f32 || !format_is_supported(f) || qcache_get(s->cache, tensor, f, &q, &err) != ST_OK) return false;
    WeightStats st;
    stats_compute(t->f32, q->dequant, t->n_elements, NULL, &st);
    int k = memo_next++ % MEMO_SLOTS;
    memo[k].s = s;
    memo[k].generation = s->generation;
    memo[k].tensor = tensor;
    memo[k].key = key;
    memo[k].st = st;
    memo[k].bytes = q->bytes;
    *out = st;
    if (bytes) *bytes = q->bytes;
    return true;
}

typedef enum ParamKind { P_RMSE, P_SQNR, P_ZEROED, P_LEVELS, P_BYTES, P_BITS, P_SPARSE } ParamKind;

static const struct {
    const char *name;
    const char *usage;
    ParamKind kind;
    int n_args; /* 2: TENSOR FORMAT; 1: FORMAT */
    const char *help;
} PARAMS[] = {
    {"rmse", "rmse TENSOR FORMAT", P_RMSE, 2, "rounding error (root mean square) of a tensor in a format, measured here"},
    {"sqnr", "sqnr TENSOR FORMAT", P_SQNR, 2, "signal-to-noise ratio of a tensor in a format, dB"},
    {"zeroed", "zeroed TENSOR FORMAT", P_ZEROED, 2, "share of a tensor's weights that round to exactly 0 in a format"},
    {"levels", "levels TENSOR FORMAT", P_LEVELS, 2, "how many different values a tensor's weights take in a format"},
    {"bytes", "bytes TENSOR FORMAT", P_BYTES, 2, "bytes of a tensor in a format"},
    {"bits", "bits FORMAT", P_BITS, 1, "bits per weight of a format (rows a whole number of blocks)"},
    {"sparse", "sparse TENSOR FORMAT", P_SPARSE, 2,
     "bytes a sparse encoding of a pruned tensor would take (arithmetic: quantlab stores it dense)"},
};
enum { N_PARAMS = (int)(sizeof PARAMS / sizeof PARAMS[0]) };

/* Splits "name a b" into words; false when there are more than 3. */
static int split_words(const char *text, size_t len, char words[3][LESSON_ARG_MAX]) {
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && text[i] == ' ') i++;
        if (i >= len) break;
        size_t start = i;
        while (i < len && text[i] != ' ') i++;
        if (n == 3 || i - start >= LESSON_ARG_MAX) return -1;
        memcpy(words[n], text + start, i - start);
        words[n][i - start] = '\0';
        n++;
    }
    return n;
}

/* The PARAMS entry text names with well-formed arguments, or -1. */
static int param_find(const char *text, size_t len, char words[3][LESSON_ARG_MAX], Format *f) {
    int n = split_words(text, len, words);
    if (n < 2) return -1;
    for (int i = 0; i < N_PARAMS; i++) {
        if (strcmp(words[0], PARAMS[i].name) != 0 || n - 1 != PARAMS[i].n_args) continue;
        Error err;
        if (format_parse(words[n - 1], f, &err) != ST_OK || !format_is_supported(*f)) return -1;
        if (PARAMS[i].n_args == 2) { /* a tensor name: letters, digits, dots, underscores */
            for (const char *c = words[1]; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_'))
                    return -1;
        }
        return i;
    }
    return -1;
}

static FigureStatus fig_param(Session *s, int p, char words[3][LESSON_ARG_MAX], Format f, char *out, size_t size,
                              double *value, FigureKind *kind) {
    if (PARAMS[p].kind == P_BITS) return put_number(out, size, value, kind, format_bits_per_weight(f, 1, 4096), 2, "");
    int tensor, layer;
    if (!lesson_target_resolve(s->model, words[1], &tensor, &layer) || tensor < 0)
        return not_measured(out, size, "(no such tensor)");
    if (PARAMS[p].kind == P_SPARSE) {
        const ModelTensor *t = &s->model->tensors[tensor];
        return put_bytes(out, size, value, kind, format_sparse_bytes(f, t->rows, t->cols));
    }
    WeightStats st;
    double bytes;
    if (!lesson_tensor_stats(s, tensor, f, &st, &bytes)) return not_measured(out, size, NULL);
    switch (PARAMS[p].kind) {
    case P_RMSE: return put_sig(out, size, value, kind, st.rmse, 3);
    case P_SQNR:
        if (isinf(st.sqnr_db)) return put_text(out, size, kind, "exact (no error)");
        return put_number(out, size, value, kind, st.sqnr_db, 1, " dB");
    case P_ZEROED: return put_number(out, size, value, kind, 100 * st.zeroed, 1, "%");
    case P_LEVELS:
        if (st.n_levels > STATS_MAX_LEVELS) return put_text(out, size, kind, "more than 4,096");
        return put_count(out, size, value, kind, (double)st.n_levels);
    default: return put_bytes(out, size, value, kind, bytes);
    }
}

/* ------------------------------------------------------------- the table */

static const FigureDef FIGURES[] = {
    {"model.name", fig_model, MODEL_NAME, "the model's name"},
    {"model.weights", fig_model, MODEL_WEIGHTS, "how many weights (numbers) the model has"},
    {"model.matrices", fig_model, MODEL_MATRICES, "weight matrices a plan can change"},
    {"model.blocks", fig_model, MODEL_BLOCKS, "transformer blocks"},
    {"model.file", fig_model, MODEL_FILE, "size of the model file"},
    {"model.vocab", fig_model, MODEL_VOCAB, "tokens in the vocabulary"},
    {"plan.name", fig_plan, WHAT_NAME, "the current plan's name"},
    {"plan.bytes", fig_plan, WHAT_BYTES, "bytes of the model under the current plan"},
    {"plan.bits", fig_plan, WHAT_BITS, "average bits per weight of the current plan"},
    {"plan.ratio", fig_plan, WHAT_RATIO, "how many times smaller than FP32 the plan is"},
    {"plan.percent", fig_plan, WHAT_PERCENT, "the plan's size as a percentage of FP32"},
    {"fp32.bytes", fig_preset, PRESET_ARG(PRESET_FP32, WHAT_BYTES), "bytes with every matrix FP32 (the original)"},
    {"fp32.bits", fig_preset, PRESET_ARG(PRESET_FP32, WHAT_BITS), "bits per weight at FP32"},
    {"fp16.bytes", fig_preset, PRESET_ARG(PRESET_FP16, WHAT_BYTES), "bytes with every matrix FP16"},
    {"fp16.bits", fig_preset, PRESET_ARG(PRESET_FP16, WHAT_BITS), "bits per weight at FP16"},
    {"fp16.ratio", fig_preset, PRESET_ARG(PRESET_FP16, WHAT_RATIO), "times smaller than FP32, all FP16"},
    {"fp16.percent", fig_preset, PRESET_ARG(PRESET_FP16, WHAT_PERCENT), "percentage of FP32, all FP16"},
    {"int8.bytes", fig_preset, PRESET_ARG(PRESET_INT8, WHAT_BYTES), "bytes with every matrix INT8 (Q8_0)"},
    {"int8.bits", fig_preset, PRESET_ARG(PRESET_INT8, WHAT_BITS), "bits per weight, all INT8 (scales and padding included)"},
    {"int8.ratio", fig_preset, PRESET_ARG(PRESET_INT8, WHAT_RATIO), "times smaller than FP32, all INT8"},
    {"int8.percent", fig_preset, PRESET_ARG(PRESET_INT8, WHAT_PERCENT), "percentage of FP32, all INT8"},
    {"int4.bytes", fig_preset, PRESET_ARG(PRESET_INT4, WHAT_BYTES), "bytes with every matrix INT4 (Q4_0)"},
    {"int4.bits", fig_preset, PRESET_ARG(PRESET_INT4, WHAT_BITS), "bits per weight, all INT4 (scales and padding included)"},
    {"int4.ratio", fig_preset, PRESET_ARG(PRESET_INT4, WHAT_RATIO), "times smaller than FP32, all INT4"},
    {"int4.percent", fig_preset, PRESET_ARG(PRESET_INT4, WHAT_PERCENT), "percentage of FP32, all INT4"},
    {"7b.fp32", fig_7b, 0, "7 billion weights at FP32 (arithmetic: 32 bits each)"},
    {"7b.fp16", fig_7b, 1, "7 billion weights at FP16 (16 bits each)"},
    {"7b.int8", fig_7b, 2, "7 billion weights at Q8_0 (8.5 bits each, the scales included)"},
    {"7b.int4", fig_7b, 3, "7 billion weights at Q4_0 (4.5 bits each, the scales included)"},
    {"7b.plan", fig_7b, -1, "7 billion weights at the current plan's bits per weight"},
    {"tensor.name", fig_tensor, T_NAME, "the selected tensor"},
    {"tensor.format", fig_tensor, T_FORMAT, "the selected tensor's format in the plan"},
    {"tensor.bytes", fig_tensor, T_BYTES, "the selected tensor's bytes in that format"},
    {"tensor.fp32_bytes", fig_tensor, T_FP32_BYTES, "the selected tensor's bytes at FP32"},
    {"tensor.weights", fig_tensor, T_WEIGHTS, "weights in the selected tensor"},
    {"tensor.rmse", fig_tensor, T_RMSE, "rounding error of the selected tensor (root mean square)"},
    {"tensor.sqnr", fig_tensor, T_SQNR, "signal-to-noise ratio of the selected tensor, dB"},
    {"tensor.max_err", fig_tensor, T_MAXERR, "largest rounding error in the selected tensor"},
    {"speed.fp32", fig_speed, SP_FP32, "measured tokens per second at FP32"},
    {"speed.plan", fig_speed, SP_PLAN, "measured tokens per second with the plan"},
    {"speed.ratio", fig_speed, SP_RATIO, "plan speed divided by FP32 speed, measured"},
    {"speed.threads", fig_speed, SP_THREADS, "threads the speed was measured with"},
    {"quality.kl", fig_quality, Q_KL, "mean KL divergence of the plan from FP32, nats"},
    {"quality.top1", fig_quality, Q_TOP1, "how often the plan's likeliest next token is FP32's"},
    {"quality.ppl", fig_quality, Q_PPL, "perplexity of the plan on the evaluation text"},
    {"quality.ppl_fp32", fig_quality, Q_PPL_FP32, "perplexity of FP32 on the evaluation text"},
    {"quality.predictions", fig_quality, Q_PREDICTIONS, "predictions the quality figures are measured on"},
    {"compare.first_diff", fig_compare, C_FIRST_DIFF, "the token where the two stories first differ"},
    {"compare.fp32_word", fig_compare, C_FP32_WORD, "FP32's word at the first difference (the word holding that token)"},
    {"compare.plan_word", fig_compare, C_PLAN_WORD, "the plan's word at the first difference"},
    {"compare.fp32_text", fig_compare, C_FP32_TEXT, "the story FP32 wrote (its start)"},
    {"compare.plan_text", fig_compare, C_PLAN_TEXT, "the story the plan wrote (its start)"},
    {"compare.tokens", fig_compare, C_TOKENS, "tokens each story has"},
    {"sens.top", fig_sens, S_TOP, "the most sensitive tensor or block in the last scan"},
    {"sens.top_kl", fig_sens, S_TOP_KL, "its KL divergence when it alone is quantized"},
    {"sens.least", fig_sens, S_LEAST, "the least sensitive one"},
    {"sens.format", fig_sens, S_FORMAT, "the format the scan tried"},
    {"outlier.tensor", fig_outlier, O_TENSOR, "the tensor an outlier was last injected into (x)"},
    {"outlier.before", fig_outlier, O_BEFORE, "that weight before it was multiplied"},
    {"outlier.after", fig_outlier, O_AFTER, "that weight now"},
    {"outlier.std", fig_outlier, O_STD, "that tensor's largest |weight| now, in standard deviations"},
    {"methods.kl_rtn", fig_methods, M_KL_RTN, "mean KL from FP32 of the plan by round-to-nearest (G on Quality)"},
    {"methods.kl_gptq", fig_methods, M_KL_GPTQ, "mean KL from FP32 of the plan by GPTQ"},
    {"methods.top1_rtn", fig_methods, M_TOP1_RTN, "top-1 agreement with FP32, round-to-nearest"},
    {"methods.top1_gptq", fig_methods, M_TOP1_GPTQ, "top-1 agreement with FP32, GPTQ"},
    {"methods.rmse_rtn", fig_methods, M_RMSE_RTN, "weight RMSE over the matrices GPTQ changes, round-to-nearest"},
    {"methods.rmse_gptq", fig_methods, M_RMSE_GPTQ, "weight RMSE over the same matrices, GPTQ"},
};

enum { N_FIGURES = (int)(sizeof FIGURES / sizeof FIGURES[0]) };

int lesson_figure_count(void) {
    return N_FIGURES + N_PARAMS;
}

FigureInfo lesson_figure_info(int i) {
    FigureInfo info = {NULL, NULL};
    if (i >= 0 && i < N_FIGURES) info = (FigureInfo){FIGURES[i].name, FIGURES[i].help};
    else if (i >= N_FIGURES && i < N_FIGURES + N_PARAMS) info = (FigureInfo){PARAMS[i - N_FIGURES].usage, PARAMS[i - N_FIGURES].help};
    return info;
}

static const FigureDef *find(const char *name, size_t len) {
    for (int i = 0; i < N_FIGURES; i++)
        if (strlen(FIGURES[i].name) == len && memcmp(FIGURES[i].name, name, len) == 0) return &FIGURES[i];
    return NULL;
}

bool lesson_figure_exists(const char *text, size_t len) {
    char words[3][LESSON_ARG_MAX];
    Format f;
    return find(text, len) != NULL || param_find(text, len, words, &f) >= 0;
}

bool lesson_figures_check_model(const char *text, const Model *m, char *why, size_t why_size) {
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        if (p[1] == '{') {
            p++;
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) break;
        char words[3][LESSON_ARG_MAX];
        Format f;
        int k = param_find(p + 1, (size_t)(close - p - 1), words, &f);
        int tensor, layer;
        if (k >= 0 && PARAMS[k].n_args == 2 && (!lesson_target_resolve(m, words[1], &tensor, &layer) || tensor < 0)) {
            snprintf(why, why_size, "no tensor '%s' in %s (in {%s ...})", words[1], m->name, words[0]);
            return false;
        }
    }
    return true;
}

FigureStatus lesson_figure(Session *s, const char *name, char *out, size_t size, double *value,
                           FigureKind *kind) {
    if (value) *value = 0;
    if (kind) *kind = FIGURE_TEXT;
    const FigureDef *f = find(name, strlen(name));
    char words[3][LESSON_ARG_MAX];
    Format fmt;
    int p = f ? -1 : param_find(name, strlen(name), words, &fmt);
    if (!f && p < 0) {
        snprintf(out, size, "{%s?}", name);
        return FIGURE_UNKNOWN;
    }
    if (!s || !s->model) return not_measured(out, size, NULL);
    if (p >= 0) return fig_param(s, p, words, fmt, out, size, value, kind);
    return f->fn(s, f->arg, out, size, value, kind);
}

/* ------------------------------------------------------------- rendering */

static void append(char *out, size_t size, size_t *o, const char *text, size_t n) {
    if (*o >= size) return;
    size_t room = size - 1 - *o;
    if (n > room) { /* cut at a character boundary */
        n = room;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;
    }
    memcpy(out + *o, text, n);
    *o += n;
    out[*o] = '\0';
}

int lesson_render(Session *s, const char *text, bool mark, char *out, size_t size) {
    size_t o = 0;
    int missing = 0;
    if (size == 0) return 0;
    out[0] = '\0';
    for (const char *p = text; *p;) {
        if (p[0] == '{' && p[1] == '{') {
            append(out, size, &o, "{", 1);
            p += 2;
            continue;
        }
        const char *close = p[0] == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            const char *next = strchr(p + 1, '{');
            size_t n = next ? (size_t)(next - p) : strlen(p);
            append(out, size, &o, p, n);
            p += n;
            continue;
        }
        char name[160], value[400];
        size_t len = (size_t)(close - p - 1);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p + 1);
        if (lesson_figure(s, name, value, sizeof value, NULL, NULL) != FIGURE_OK) missing++;
        char m[2] = {(char)FIGURE_MARK_START, (char)FIGURE_MARK_END};
        if (mark) append(out, size, &o, &m[0], 1);
        append(out, size, &o, value, strlen(value));
        if (mark) append(out, size, &o, &m[1], 1);
        p = close + 1;
    }
    return missing;
}

bool lesson_figures_valid(const char *text, char *why, size_t why_size, size_t *offset) {
    for (const char *p = text; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
            continue;
        }
        if (*p != '{') continue;
        const char *close = p + 1;
        while (*close && *close != '}' && *close != '{' && *close != '\n') close++;
        if (*close != '}') {
            snprintf(why, why_size, "a '{' that is never closed (write {{ for a brace)");
            *offset = (size_t)(p - text);
            return false;
        }
        if (!lesson_figure_exists(p + 1, (size_t)(close - p - 1))) {
            snprintf(why, why_size, "unknown figure {%.*s}", (int)(close - p - 1 < 60 ? close - p - 1 : 60), p + 1);
            *offset = (size_t)(p - text);
            return false;
        }
        p = close;
    }
    return true;
}
