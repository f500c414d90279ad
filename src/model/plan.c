/* plan.c — per-tensor formats, their llama-quantize-style text form, presets. */
#include "model/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/utf8.h"
#include "quant/types.h"

enum { PLAN_MAX_RULES = 4096, PLAN_MAX_LINE = 1024 };

/* What one pattern and one file may cost glibc's regcomp, in its tree nodes
 * (see pattern_cost). A name-matching pattern needs a few dozen; the bounds
 * keep a hostile plan file from taking gigabytes and minutes. */
enum { PLAN_MAX_PATTERN_NODES = 1024, PLAN_MAX_FILE_NODES = 1 << 18, PLAN_MAX_INTERVAL = 255 };

bool plan_is_quantizable(const ModelTensor *t) {
    return t->role != ROLE_OTHER && !t->is_norm && t->n_dims == 2 && t->f32 != NULL;
}

/* ------------------------------------------------------------- text form */

void plan_rules_free(PlanRules *r) {
    if (!r) return;
    for (int i = 0; i < r->n_rules; i++) {
        regfree(&r->rules[i].re);
        free(r->rules[i].pattern);
    }
    free(r->rules);
    memset(r, 0, sizeof *r);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

/* ------------------------------------------------------ pattern guard */

/* glibc compiles an ERE into a tree in which every repetition but * and ?
 * is written out: x+ becomes x x*, x{2,5} five copies of x. Repetitions of
 * repetitions multiply, so "a" followed by 80 '+' asks for 2^80 nodes, and
 * ((x{0,99}){0,99}){0,99} for a million, each pattern a few lines long (found
 * by fuzz_plan: regcomp took gigabytes). Back-references make regexec
 * exponential (seconds on a 30-byte name). So before regcomp a pattern is
 * measured here and refused when it
 *   - uses a back-reference (\1 .. \9),
 *   - puts a repetition right after another one (POSIX leaves "a+*" undefined),
 *   - has an interval bound above PLAN_MAX_INTERVAL (POSIX's RE_DUP_MAX minimum),
 *   - chains more than two repetition operators ("a***": POSIX leaves even two
 *     undefined, but ".*?" is a common habit; glibc takes seconds on 70),
 *   - would need more than PLAN_MAX_PATTERN_NODES nodes once written out.
 * The measure follows ERE syntax loosely (brackets, escapes, groups,
 * alternation); regcomp still judges whether the pattern is valid. */

typedef struct CostFrame {
    uint64_t total; /* nodes of the finished branches and atoms of this group */
    uint64_t last;  /* nodes of the last atom (what a repetition applies to) */
} CostFrame;

enum { COST_MAX_DEPTH = 256 };

static uint64_t cost_mul(uint64_t a, uint64_t b) {
    return a > UINT64_MAX / (b ? b : 1) ? UINT64_MAX : a * b;
}

/* Reads an interval "{m}", "{m,}", "{m,n}" or glibc's "{,n}" at p (after the
 * '{'); returns the copies regcomp writes out (at least 1) and advances *p, or
 * -1 when it is not one (then the brace is an ordinary character). Numbers
 * saturate, so "{99999999999}" reads as a bound too large, not as text. */
static long read_number(const char **p) {
    long v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v <= 100000) v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static long read_interval(const char **p, long *bound) {
    const char *s = *p;
    bool has_m = *s >= '0' && *s <= '9';
    long m = read_number(&s), n = m;
    if (*s == ',') {
        s++;
        n = *s >= '0' && *s <= '9' ? read_number(&s) : -1; /* -1: {m,} is m copies and a star */
    } else if (!has_m) {
        return -1;
    }
    if (*s != '}' || (!has_m && n < 0)) return -1;
    *p = s + 1;
    *bound = n > m ? n : m;
    long copies = n < 0 ? m + 1 : n;
    return copies > 0 ? copies : 1;
}

/* NULL when the pattern may go to regcomp; else why not. *nodes gets its cost. */
static const char *pattern_cost(const char *pat, uint64_t *nodes) {
    CostFrame st[COST_MAX_DEPTH];
    int depth = 0;
    st[0] = (CostFrame){0, 0};
    int reps_in_row = 0; /* repetition operators since the last atom ("*?" is two) */
    for (const char *p = pat; *p;) {
        CostFrame *f = &st[depth];
        char c = *p;
        uint64_t factor = 0; /* a repetition when > 0 */
        if (c == '*' || c == '?') {
            factor = 1;
            p++;
        } else if (c == '+') {
            factor = 2;
            p++;
        } else if (c == '{') {
            const char *q = p + 1;
            long bound = 0, copies = read_interval(&q, &bound);
            if (copies >= 0) {
                if (bound > PLAN_MAX_INTERVAL) return "a repetition count above 255";
                factor = (uint64_t)copies;
                p = q;
            }
        }
        if (factor && ++reps_in_row > 2) /* "a***": glibc's regcomp slows down (seconds at 70) */
            return "more than two repetition operators in a row (like a***)";
        if (!factor) reps_in_row = 0;
        if (factor) { /* the last atom written out `factor` times, plus the operator */
            uint64_t grown = cost_mul(f->last, factor);
            f->total += grown - f->last + 1;
            f->last = grown + 1;
        } else if (c == '(') {
            if (++depth >= COST_MAX_DEPTH) return "groups nested too deep";
            st[depth] = (CostFrame){0, 0};
            p++;
            continue;
        } else if (c == ')' && depth > 0) {
            uint64_t inner = st[depth].total + 1;
            depth--;
            st[depth].total += inner;
            st[depth].last = inner;
            p++;
        } else {
            if (c == '\\' && p[1] >= '1' && p[1] <= '9')
                return "a back-reference (\\1 to \\9), which can take glibc minutes";
            if (c == '\\' && p[1]) {
                p += 2;
            } else if (c == '[') { /* a bracket expression is one node */
                const char *q = p + 1;
                if (*q == '^') q++;
                if (*q == ']') q++;
                while (*q && *q != ']') {
                    if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
                        const char *end = strchr(q + 2, q[1]);
                        q = end && end[1] == ']' ? end + 2 : q + 1;
                    } else {
                        q++;
                    }
                }
                p = *q ? q + 1 : q;
            } else {
                p++;
            }
            f->total += 1;
            f->last = 1;
        }
        if (st[depth].total > PLAN_MAX_PATTERN_NODES)
            return "too complex: it would take more than 1024 regex nodes";
    }
    uint64_t total = 0;
    for (int d = 0; d <= depth; d++) total += st[d].total;
    if (total > PLAN_MAX_PATTERN_NODES) return "too complex: it would take more than 1024 regex nodes";
    *nodes = total;
    return NULL;
}

static Status parse_line(PlanRules *r, char *line, int lineno, const char *name, bool *entry,
                         uint64_t *file_nodes, Error *err) {
    char *s = trim(line);
    if (*s == '\0' || *s == '#') return ST_OK;
    *entry = true;
    char *eq = strrchr(s, '=');
    if (!eq || eq == s)
        return error_set(err, ST_USAGE, "%s:%d: expected PATTERN=FORMAT, e.g. attn_v=q8_0", name, lineno);
    *eq = '\0';
    char *pattern = trim(s);
    char *fmt_name = trim(eq + 1);
    Format f;
    Error ferr = {0};
    if (format_parse(fmt_name, &f, &ferr) != ST_OK)
        return error_set(err, ST_USAGE, "%s:%d: %s", name, lineno, ferr.msg);
    if (!format_is_supported(f))
        return error_set(err, ST_UNSUPPORTED, "%s:%d: quantlab cannot produce '%s' weights", name, lineno, fmt_name);
    if (strcmp(pattern, "default") == 0) {
        r->dflt = f;
        return ST_OK;
    }
    if (r->n_rules >= PLAN_MAX_RULES)
        return error_set(err, ST_LIMIT, "%s:%d: more than %d rules", name, lineno, PLAN_MAX_RULES);
    uint64_t nodes = 0;
    const char *why = pattern_cost(pattern, &nodes);
    if (why)
        return error_set(err, ST_LIMIT, "%s:%d: pattern '%.60s%s' refused: %s", name, lineno, pattern,
                         strlen(pattern) > 60 ? "..." : "", why);
    *file_nodes += nodes;
    if (*file_nodes > PLAN_MAX_FILE_NODES)
        return error_set(err, ST_LIMIT, "%s:%d: the patterns together are too complex (more than %d regex nodes)",
                         name, lineno, PLAN_MAX_FILE_NODES);
    PlanRule *rule = &r->rules[r->n_rules];
    memset(rule, 0, sizeof *rule);
    int rc = regcomp(&rule->re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &rule->re, why, sizeof why);
        return error_set(err, ST_USAGE, "%s:%d: bad regular expression '%s': %s", name, lineno, pattern, why);
    }
    rule->pattern = malloc(strlen(pattern) + 1);
    if (!rule->pattern) {
        regfree(&rule->re);
        return error_set(err, ST_NOMEM, "%s: out of memory", name);
    }
    strcpy(rule->pattern, pattern);
    rule->fmt = f;
    rule->line = lineno;
    r->n_rules++;
    return ST_OK;
}

Status plan_rules_parse(PlanRules *r, const char *text, size_t len, const char *name, Error *err) {
    memset(r, 0, sizeof *r);
    r->dflt = FORMAT_FP32;
    if (len == 0) return error_set(err, ST_FORMAT, "%s: the plan is empty", name);
    if (memchr(text, '\0', len))
        return error_set(err, ST_FORMAT, "%s: not a plan (it holds NUL bytes: a binary file?)", name);
    size_t bad = utf8_find_invalid(text, len);
    if (bad < len)
        return error_set(err, ST_FORMAT, "%s: not UTF-8 text (byte 0x%02x at offset %zu)", name,
                         (unsigned char)text[bad], bad);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (lines > PLAN_MAX_RULES) lines = PLAN_MAX_RULES;
    r->rules = calloc(lines, sizeof *r->rules);
    if (!r->rules) return error_set(err, ST_NOMEM, "%s: out of memory", name);
    int lineno = 0;
    int n_entries = 0;
    uint64_t file_nodes = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n >= PLAN_MAX_LINE) {
            plan_rules_free(r);
            return error_set(err, ST_FORMAT, "%s:%d: line longer than %d bytes", name, lineno, PLAN_MAX_LINE);
        }
        char line[PLAN_MAX_LINE];
        memcpy(line, text + pos, n);
        line[n] = '\0';
        bool entry = false;
        Status st = parse_line(r, line, lineno, name, &entry, &file_nodes, err);
        if (st != ST_OK) {
            plan_rules_free(r);
            return st;
        }
        n_entries += entry;
        pos += n + 1;
    }
    if (n_entries == 0) {
        plan_rules_free(r);
        return error_set(err, ST_FORMAT, "%s: the plan has no rules (lines like default=q4_0)", name);
    }
    return ST_OK;
}

/* -------------------------------------------------------------- plans */

Status plan_init(Plan *p, const Model *m, Format all, Error *err) {
    p->n_tensors = m->n_tensors;
    p->fmt = calloc((size_t)m->n_tensors + 1, sizeof *p->fmt);
    if (!p->fmt) return error_set(err, ST_NOMEM, "out of memory for a plan");
    for (int i = 0; i < m->n_tensors; i++)
        p->fmt[i] = plan_is_quantizable(&m->tensors[i]) ? all : FORMAT_FP32;
    return ST_OK;
}

void plan_free(Plan *p) {
    if (!p) return;
    free(p->fmt);
    p->fmt = NULL;
    p->n_tensors = 0;
}

Status plan_copy(Plan *dst, const Plan *src, Error *err) {
    dst->n_tensors = src->n_tensors;
    dst->fmt = malloc(((size_t)src->n_tensors + 1) * sizeof *dst->fmt);
    if (!dst->fmt) return error_set(err, ST_NOMEM, "out of memory for a plan");
    memcpy(dst->fmt, src->fmt, (size_t)src->n_tensors * sizeof *dst->fmt);
    return ST_OK;
}

bool plan_equal(const Plan *a, const Plan *b) {
    if (a->n_tensors != b->n_tensors) return false;
    for (int i = 0; i < a->n_tensors; i++)
        if (!format_equal(a->fmt[i], b->fmt[i])) return false;
    return true;
}

Status plan_apply_rules(Plan *p, const Model *m, const PlanRules *r, const char *name, Error *err) {
    (void)name; /* parse already refused formats quantlab cannot produce */
    (void)err;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!plan_is_quantizable(t)) {
            p->fmt[i] = FORMAT_FP32;
            continue;
        }
        Format f = r->dflt;
        for (int k = 0; k < r->n_rules; k++) /* the last matching rule wins */
            if (regexec(&r->rules[k].re, t->name, 0, NULL, 0) == 0) f = r->rules[k].fmt;
        p->fmt[i] = f;
    }
    return ST_OK;
}

/* A regex matching exactly the tensors of one role. */
static const char *role_pattern(TensorRole role) {
    switch (role) {
    case ROLE_TOKEN_EMBD: return "^token_embd\\.weight$";
    case ROLE_OUTPUT: return "^output\\.weight$";
    case ROLE_ATTN_Q: return "\\.attn_q\\.weight$";
    case ROLE_ATTN_K: return "\\.attn_k\\.weight$";
    case ROLE_ATTN_V: return "\\.attn_v\\.weight$";
    case ROLE_ATTN_OUTPUT: return "\\.attn_output\\.weight$";
    case ROLE_FFN_GATE: return "\\.ffn_gate\\.weight$";
    case ROLE_FFN_DOWN: return "\\.ffn_down\\.weight$";
    case ROLE_FFN_UP: return "\\.ffn_up\\.weight$";
    default: return NULL;
    }
}

/* Appends "\" before regex metacharacters of a tensor name. */
static void escape_name(const char *name, char *out, size_t size) {
    size_t o = 0;
    for (const char *c = name; *c && o + 3 < size; c++) {
        if (strchr(".^$*+?()[]{}|\\", *c)) out[o++] = '\\';
        out[o++] = *c;
    }
    out[o] = '\0';
}

Status plan_to_text(const Plan *p, const Model *m, char **text, Error *err) {
    *text = NULL;
    /* the most common format among quantizable tensors becomes the default */
    Format dflt = FORMAT_FP32;
    int best = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        if (!plan_is_quantizable(&m->tensors[i])) continue;
        int count = 0;
        for (int j = 0; j < m->n_tensors; j++)
            if (plan_is_quantizable(&m->tensors[j]) && format_equal(p->fmt[j], p->fmt[i])) count++;
        if (count > best) {
            best = count;
            dflt = p->fmt[i];
        }
    }
    StrBuf b = {0};
    char fname[64];
    strbuf_printf(&b, "# quantlab plan for %s: PATTERN=FORMAT, the last matching rule wins\n", m->name);
    strbuf_printf(&b, "default=%s\n", format_name(dflt, fname, sizeof fname));
    Format *now = malloc(((size_t)m->n_tensors + 1) * sizeof *now); /* what the text says so far */
    if (!now) return error_set(err, ST_NOMEM, "out of memory");
    for (int i = 0; i < m->n_tensors; i++) now[i] = dflt;
    for (int role = 0; role < ROLE_COUNT; role++) {
        const char *pat = role_pattern((TensorRole)role);
        if (!pat) continue;
        int first = -1;
        bool uniform = true;
        for (int i = 0; i < m->n_tensors; i++) {
            if (m->tensors[i].role != (TensorRole)role || !plan_is_quantizable(&m->tensors[i])) continue;
            if (first < 0) first = i;
            else if (!format_equal(p->fmt[i], p->fmt[first])) uniform = false;
        }
        if (first < 0 || !uniform || format_equal(p->fmt[first], dflt)) continue;
        strbuf_printf(&b, "%s=%s\n", pat, format_name(p->fmt[first], fname, sizeof fname));
        for (int i = 0; i < m->n_tensors; i++)
            if (m->tensors[i].role == (TensorRole)role) now[i] = p->fmt[first];
    }
    for (int i = 0; i < m->n_tensors; i++) {
        if (!plan_is_quantizable(&m->tensors[i]) || format_equal(now[i], p->fmt[i])) continue;
        char esc[256];
        escape_name(m->tensors[i].name, esc, sizeof esc);
        strbuf_printf(&b, "^%s$=%s\n", esc, format_name(p->fmt[i], fname, sizeof fname));
    }
    free(now);
    if (b.failed) {
        strbuf_free(&b);
        return error_set(err, ST_NOMEM, "out of memory");
    }
    *text = b.s;
    return ST_OK;
}

/* ------------------------------------------------------------- presets */

static const struct {
    const char *name;
    const char *label;
} PRESETS[PRESET_COUNT] = {
    [PRESET_FP32] = {"fp32", "all FP32"},
    [PRESET_FP16] = {"fp16", "all FP16"},
    [PRESET_INT8] = {"int8", "all INT8"},
    [PRESET_INT4] = {"int4", "all INT4"},
    [PRESET_INT4_KEEP_EDGES] = {"int4-keep-edges", "INT4, edges INT8"},
    [PRESET_Q4_K_M_LIKE] = {"q4_k_m-like", "Q4_K_M-like mix"},
    [PRESET_AS_STORED] = {"as-stored", "as stored"},
};

const char *plan_preset_name(PlanPreset preset) {
    return preset < PRESET_COUNT ? PRESETS[preset].name : "unknown";
}

const char *plan_preset_label(PlanPreset preset) {
    return preset < PRESET_COUNT ? PRESETS[preset].label : "unknown";
}

int plan_preset_from_name(const char *name) {
    for (int i = 0; i < PRESET_COUNT; i++)
        if (strcmp(PRESETS[i].name, name) == 0) return i;
    return -1;
}

/* llama.cpp's use_more_bits(): the first and last eighth of the layers and every
 * third layer in between get the larger type in its _M mixes. */
static bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

Status plan_preset(Plan *p, const Model *m, PlanPreset preset, Error *err) {
    static const uint32_t base[PRESET_COUNT] = {
        [PRESET_FP32] = GGML_TYPE_F32, [PRESET_FP16] = GGML_TYPE_F16, [PRESET_INT8] = GGML_TYPE_Q8_0,
        [PRESET_INT4] = GGML_TYPE_Q4_0, [PRESET_INT4_KEEP_EDGES] = GGML_TYPE_Q4_0,
        [PRESET_Q4_K_M_LIKE] = GGML_TYPE_Q4_0, [PRESET_AS_STORED] = GGML_TYPE_F32,
    };
    if (preset >= PRESET_COUNT) return error_set(err, ST_USAGE, "unknown preset");
    Status st = plan_init(p, m, format_ggml(base[preset]), err);
    if (st != ST_OK) return st;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!plan_is_quantizable(t)) continue;
        switch (preset) {
        case PRESET_INT4_KEEP_EDGES:
            if (t->role == ROLE_TOKEN_EMBD || t->role == ROLE_OUTPUT) p->fmt[i] = FORMAT_INT8;
            break;
        case PRESET_Q4_K_M_LIKE:
            if (t->role == ROLE_OUTPUT ||
                ((t->role == ROLE_ATTN_V || t->role == ROLE_FFN_DOWN) && use_more_bits(t->layer, m->cfg.n_layers)))
                p->fmt[i] = FORMAT_INT8;
            break;
        case PRESET_AS_STORED:
            p->fmt[i] = format_ggml(t->file_type);
            break;
        default: break;
        }
    }
    return ST_OK;
}

/* --------------------------------------------------------------- sizes */

static double tensor_bytes(const ModelTensor *t, Format f) {
    return format_tensor_bytes(f, t->rows, t->cols);
}

double plan_bytes(const Plan *p, const Model *m) {
    double total = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].f32) total += tensor_bytes(&m->tensors[i], p->fmt[i]);
    return total;
}

double plan_bits_per_weight(const Plan *p, const Model *m) {
    return m->n_params ? plan_bytes(p, m) * 8.0 / (double)m->n_params : 0.0;
}

double plan_projected_bytes(double bits_per_weight, double n_weights) {
    return bits_per_weight * n_weights / 8.0;
}

double plan_bytes_f32(const Model *m) {
    double total = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].f32) total += 4.0 * (double)m->tensors[i].n_elements;
    return total;
}

bool plan_exports_as_is(const ModelTensor *t, Format f) {
    return format_fits_gguf(f, t->cols);
}

Format plan_export_format(const ModelTensor *t, Format f, Format fallback) {
    if (plan_exports_as_is(t, f)) return f;
    return format_with_prune(fallback, (PruneKind)f.prune, f.prune_pct);
}

double plan_bytes_export(const Plan *p, const Model *m, Format fallback) {
    double total = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!t->f32) continue;
        total += tensor_bytes(t, plan_export_format(t, p->fmt[i], fallback));
    }
    return total;
}

void plan_apply_export_fallback(Plan *p, const Model *m, Format fallback) {
    for (int i = 0; i < m->n_tensors; i++)
        if (plan_is_quantizable(&m->tensors[i]))
            p->fmt[i] = plan_export_format(&m->tensors[i], p->fmt[i], fallback);
}
