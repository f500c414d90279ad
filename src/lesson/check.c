/* check.c — see check.h. One table of checks: name, arguments, test, action. */
#include "lesson/check.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lesson/figure.h"
#include "model/plan.h"
#include "quant/outliers.h"

typedef bool (*CheckHolds)(Session *s, const LessonCheck *c);
typedef void (*CheckPerform)(Session *s, const LessonCheck *c, LessonAct *act);

typedef struct CheckDef {
    CheckInfo info;
    CheckHolds holds;
    CheckPerform perform;
    const char *needs; /* the measurement without which the check cannot tell, or NULL */
    bool plan;         /* performing it changes the plan (what lesson_run_replay redoes) */
} CheckDef;

static const char *const SCREENS[] = {"model", "layers", "histogram", "compare", "quality", "lessons"};
static const char *const MEASURES[] = {"quality", "speed", "compare", "sensitivity", "calibration", "methods"};

enum { SPEED_TOKENS = 128 };

/* --------------------------------------------------------------- helpers */

static Format parsed_format(const LessonCheck *c, int arg) {
    Format f = FORMAT_FP32;
    Error err;
    format_parse(c->args[arg], &f, &err); /* checked when the lesson was parsed */
    return f;
}

static bool is_plan_hash(const Session *s, uint64_t h) {
    return h == session_plan_hash(&s->plan);
}

bool lesson_measured(const Session *s, const char *what) {
    if (strcmp(what, "quality") == 0) return s->quality.valid && is_plan_hash(s, s->quality.plan_hash);
    if (strcmp(what, "speed") == 0) return s->speed.valid && is_plan_hash(s, s->speed.plan_hash);
    if (strcmp(what, "compare") == 0) return s->compare.valid && is_plan_hash(s, s->compare.plan_hash);
    if (strcmp(what, "sensitivity") == 0) return s->sens.valid && s->sens.n > 0;
    if (strcmp(what, "calibration") == 0) return qcache_calibration(s->cache) && !session_needs_calibration(s);
    if (strcmp(what, "methods") == 0) return s->methods.valid && is_plan_hash(s, s->methods.plan_hash);
    return false;
}

bool lesson_measure_start(Session *s, const char *what) {
    double progress;
    if (lesson_measured(s, what)) return true;
    if (strcmp(what, "quality") == 0) {
        if (!session_job_progress(s, JOB_QUALITY, &progress, NULL, 0)) session_request_quality(s);
        return true;
    }
    if (strcmp(what, "speed") == 0) {
        if (!session_job_progress(s, JOB_SPEED, &progress, NULL, 0)) session_request_speed(s, SPEED_TOKENS);
        return true;
    }
    if (strcmp(what, "sensitivity") == 0) {
        if (!session_job_progress(s, JOB_SENS, &progress, NULL, 0))
            session_request_sensitivity(s, FORMAT_INT4, SENS_TENSOR);
        return true;
    }
    if (strcmp(what, "calibration") == 0) {
        if (!session_job_progress(s, JOB_CALIB, &progress, NULL, 0)) session_calibrate(s);
        return true;
    }
    if (strcmp(what, "methods") == 0) {
        if (!session_job_progress(s, JOB_METHODS, &progress, NULL, 0) && !s->methods_after_calib)
            session_request_method_compare(s);
        return true;
    }
    return false;
}

bool lesson_target_resolve(const Model *m, const char *target, int *tensor, int *layer) {
    *tensor = -1;
    *layer = -1;
    if (strcmp(target, "all") == 0) return true;
    char name[LESSON_ARG_MAX + 16];
    int n = 0, end = 0;
    if (sscanf(target, "blk.%d%n", &n, &end) == 1 && target[end] == '\0') {
        if (n < 0 || n >= m->cfg.n_layers) return false;
        *layer = n;
        return true;
    }
    if (strcmp(target, "output") == 0 && m->tied_output) { /* the output shares the embedding */
        *tensor = m->token_embd;
        return true;
    }
    snprintf(name, sizeof name, "%s", target);
    int i = model_find_tensor(m, name);
    if (i < 0) {
        snprintf(name, sizeof name, "%s.weight", target);
        i = model_find_tensor(m, name);
    }
    if (i < 0) return false;
    *tensor = i;
    return true;
}

/* The tensor a check's argument names, or -1. */
static int target_tensor(const Session *s, const LessonCheck *c, int arg) {
    int tensor, layer;
    if (!lesson_target_resolve(s->model, c->args[arg], &tensor, &layer)) return -1;
    return tensor;
}

static const char *screen_name(const char *arg) {
    return strcmp(arg, "hist") == 0 ? "histogram" : arg;
}

static void note(LessonAct *act, const char *fmt, ...) QL_PRINTF(2, 3);
static void note(LessonAct *act, const char *fmt, ...) {
    if (act->note[0]) return; /* the first thing done is the one to tell */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(act->note, sizeof act->note, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- checks */

static bool holds_screen(Session *s, const LessonCheck *c) {
    return strcmp(s->ui_screen, screen_name(c->args[0])) == 0;
}

static void do_screen(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)s;
    snprintf(act->screen, sizeof act->screen, "%.15s", screen_name(c->args[0]));
}

static bool holds_select(Session *s, const LessonCheck *c) {
    int t = target_tensor(s, c, 0);
    return t >= 0 && s->ui_tensor == t;
}

static void do_select(Session *s, const LessonCheck *c, LessonAct *act) {
    act->tensor = target_tensor(s, c, 0);
}

static bool holds_histogram(Session *s, const LessonCheck *c) {
    return strcmp(s->ui_screen, "histogram") == 0 && holds_select(s, c);
}

static void do_histogram(Session *s, const LessonCheck *c, LessonAct *act) {
    snprintf(act->screen, sizeof act->screen, "histogram");
    do_select(s, c, act);
}

static bool holds_format(Session *s, const LessonCheck *c) {
    int tensor, layer;
    if (!lesson_target_resolve(s->model, c->args[0], &tensor, &layer)) return false;
    Format f = parsed_format(c, 1);
    bool any = false;
    for (int i = 0; i < s->model->n_tensors; i++) {
        const ModelTensor *t = &s->model->tensors[i];
        if (tensor >= 0 ? i != tensor : (layer >= 0 && t->layer != layer)) continue;
        if (!plan_is_quantizable(t)) continue;
        if (!format_equal(s->plan.fmt[i], f)) return false;
        any = true;
    }
    return any;
}

static void do_format(Session *s, const LessonCheck *c, LessonAct *act) {
    int tensor, layer;
    if (!lesson_target_resolve(s->model, c->args[0], &tensor, &layer)) return;
    Format f = parsed_format(c, 1);
    if (tensor >= 0) session_set_format(s, tensor, f);
    else if (layer >= 0) session_set_format_layer(s, layer, f);
    else session_set_format_all(s, f);
    char label[64];
    note(act, "%s is now %s", c->args[0], format_label(f, label, sizeof label));
}

static bool holds_preset(Session *s, const LessonCheck *c) {
    Plan p;
    Error err;
    int preset = plan_preset_from_name(c->args[0]);
    if (preset < 0 || plan_preset(&p, s->model, (PlanPreset)preset, &err) != ST_OK) return false;
    bool same = plan_equal(&p, &s->plan);
    plan_free(&p);
    return same;
}

static void apply_preset(Session *s, PlanPreset preset, LessonAct *act) {
    Error err;
    if (session_apply_preset(s, preset, &err) == ST_OK) note(act, "the plan is now %s", plan_preset_label(preset));
    else note(act, "%s", err.msg);
}

static void do_preset(Session *s, const LessonCheck *c, LessonAct *act) {
    int preset = plan_preset_from_name(c->args[0]);
    if (preset >= 0) apply_preset(s, (PlanPreset)preset, act);
}

static bool holds_mixed(Session *s, const LessonCheck *c) {
    (void)c;
    bool first = true;
    Format f0 = FORMAT_FP32;
    for (int i = 0; i < s->model->n_tensors; i++) {
        if (!plan_is_quantizable(&s->model->tensors[i])) continue;
        if (first) {
            f0 = s->plan.fmt[i];
            first = false;
        } else if (!format_equal(f0, s->plan.fmt[i])) {
            return true;
        }
    }
    return false;
}

static void do_mixed(Session *s, const LessonCheck *c, LessonAct *act) {
    if (!holds_mixed(s, c)) apply_preset(s, PRESET_INT4_KEEP_EDGES, act);
}

static bool holds_smaller_than(Session *s, const LessonCheck *c) {
    return session_plan_bytes(s) < c->number;
}

/* The first of INT8 and INT4 everywhere that makes `ok` hold. */
static void shrink_until(Session *s, const LessonCheck *c, LessonAct *act, CheckHolds ok) {
    static const PlanPreset tries[] = {PRESET_INT8, PRESET_INT4};
    for (size_t k = 0; k < sizeof tries / sizeof tries[0]; k++) {
        if (ok(s, c)) return;
        apply_preset(s, tries[k], act);
    }
    if (!ok(s, c)) snprintf(act->note, sizeof act->note, "even INT4 everywhere is not that small");
}

static void do_smaller_than(Session *s, const LessonCheck *c, LessonAct *act) {
    shrink_until(s, c, act, holds_smaller_than);
}

static bool holds_bits_below(Session *s, const LessonCheck *c) {
    return session_plan_bits(s) < c->number;
}

static void do_bits_below(Session *s, const LessonCheck *c, LessonAct *act) {
    shrink_until(s, c, act, holds_bits_below);
}

static bool holds_shrunk(Session *s, const LessonCheck *c) {
    (void)c;
    return session_plan_bytes(s) < plan_bytes_f32(s->model) * 0.999;
}

static void do_shrunk(Session *s, const LessonCheck *c, LessonAct *act) {
    shrink_until(s, c, act, holds_shrunk);
}

static bool holds_measured(Session *s, const LessonCheck *c) {
    return lesson_measured(s, c->args[0]);
}

static void do_measured(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)s;
    snprintf(act->measure, sizeof act->measure, "%.15s", c->args[0]);
    note(act, "measuring %s...", c->args[0]);
}

static bool holds_differs(Session *s, const LessonCheck *c) {
    (void)c;
    return lesson_measured(s, "compare") && s->compare.first_diff >= 0;
}

static void do_differs(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!lesson_measured(s, "compare")) snprintf(act->measure, sizeof act->measure, "compare");
    else if (s->compare.first_diff < 0) note(act, "%s", "the stories are the same: try fewer bits");
}

static bool holds_kl_below(Session *s, const LessonCheck *c) {
    return lesson_measured(s, "quality") && s->quality.r.kl_mean < c->number;
}

static bool holds_top1_above(Session *s, const LessonCheck *c) {
    return lesson_measured(s, "quality") && 100 * s->quality.r.top1_agree > c->number;
}

static void do_quality(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!lesson_measured(s, "quality")) snprintf(act->measure, sizeof act->measure, "quality");
    else note(act, "%s", "the quality is measured; the plan needs more bits to pass");
}

static bool holds_most_sensitive(Session *s, const LessonCheck *c) {
    (void)c;
    if (!lesson_measured(s, "sensitivity")) return false;
    const SensitivityItem *top = &s->sens.items[0];
    int t = s->ui_tensor;
    if (t < 0 || t >= s->model->n_tensors) return false;
    return top->tensor >= 0 ? t == top->tensor : s->model->tensors[t].layer == top->layer;
}

static bool holds_sens_top(Session *s, const LessonCheck *c) {
    int tensor, layer;
    if (!lesson_measured(s, "sensitivity") || !lesson_target_resolve(s->model, c->args[0], &tensor, &layer)) return false;
    const SensitivityItem *top = &s->sens.items[0];
    return tensor >= 0 ? top->tensor == tensor : layer >= 0 && top->layer == layer;
}

static void do_sens_top(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!lesson_measured(s, "sensitivity")) snprintf(act->measure, sizeof act->measure, "sensitivity");
}

static void do_most_sensitive(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!lesson_measured(s, "sensitivity")) {
        snprintf(act->measure, sizeof act->measure, "sensitivity");
        return;
    }
    const SensitivityItem *top = &s->sens.items[0];
    act->tensor = top->tensor >= 0 ? top->tensor
                  : top->layer >= 0 && top->layer < s->model->cfg.n_layers ? s->model->layers[top->layer].attn_q
                                                                            : -1;
    note(act, "the most sensitive is %s", top->name);
}

static bool holds_lower_error(Session *s, const LessonCheck *c) {
    int t = target_tensor(s, c, 0);
    WeightStats a, b;
    return t >= 0 && lesson_tensor_stats(s, t, parsed_format(c, 1), &a, NULL) &&
           lesson_tensor_stats(s, t, parsed_format(c, 2), &b, NULL) && a.rmse < b.rmse;
}

static void do_lower_error(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)s;
    (void)c;
    note(act, "%s", "quantlab measures both formats' errors itself; nothing to do");
}

static bool holds_faster(Session *s, const LessonCheck *c) {
    (void)c;
    return lesson_measured(s, "speed") && s->speed.tps_plan > s->speed.tps_fp32;
}

static void do_faster(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!lesson_measured(s, "speed")) snprintf(act->measure, sizeof act->measure, "speed");
}

/* An outlier was injected into the tensor and is still in place. */
static bool holds_outlier_injected(Session *s, const LessonCheck *c) {
    int t = target_tensor(s, c, 0);
    for (int k = 0; t >= 0 && k < s->edits.n; k++)
        if (s->edits.items[k].tensor == t) return true;
    return false;
}

/* As the x key does: the tensor's largest |w| times 10. */
static void do_outlier_injected(Session *s, const LessonCheck *c, LessonAct *act) {
    int t = target_tensor(s, c, 0);
    if (t < 0 || holds_outlier_injected(s, c)) return;
    const ModelTensor *m = &s->model->tensors[t];
    int64_t best = m->f32 ? outliers_largest_index(m->f32, m->n_elements) : 0;
    Error err;
    if (session_inject_outlier(s, t, best / m->cols, best % m->cols, 10.0, &err) == ST_OK)
        note(act, "the largest weight of %s is now 10 times bigger", c->args[0]);
    else note(act, "%s", err.msg);
    act->tensor = t;
}

static bool holds_restored(Session *s, const LessonCheck *c) {
    (void)c;
    return !session_weights_edited(s);
}

static void do_restored(Session *s, const LessonCheck *c, LessonAct *act) {
    (void)c;
    if (!session_weights_edited(s)) return;
    session_restore_weights(s);
    note(act, "%s", "the weights are the file's again");
}

static const CheckDef CHECKS[] = {
    {{"screen", "screen SCREEN", "show a screen (model, layers, histogram, compare, quality, lessons)",
      {ARG_SCREEN, ARG_NONE, ARG_NONE}}, holds_screen, do_screen, NULL, false},
    {{"select", "select TENSOR", "select a tensor on the Layers or Histogram screen", {ARG_TENSOR, ARG_NONE, ARG_NONE}},
     holds_select, do_select, NULL, false},
    {{"histogram", "histogram TENSOR", "open the Histogram screen on a tensor", {ARG_TENSOR, ARG_NONE, ARG_NONE}},
     holds_histogram, do_histogram, NULL, false},
    {{"format", "format TARGET FORMAT", "give a tensor, a block (blk.N) or all matrices (all) a format",
      {ARG_TARGET, ARG_FORMAT, ARG_NONE}}, holds_format, do_format, NULL, true},
    {{"preset", "preset NAME", "choose a preset plan (p)", {ARG_PRESET, ARG_NONE, ARG_NONE}}, holds_preset, do_preset, NULL, true},
    {{"mixed", "mixed", "make a plan with at least two different formats (mixed precision)",
      {ARG_NONE, ARG_NONE, ARG_NONE}}, holds_mixed, do_mixed, NULL, true},
    {{"shrunk", "shrunk", "make the model smaller than FP32, any way", {ARG_NONE, ARG_NONE, ARG_NONE}}, holds_shrunk,
     do_shrunk, NULL, true},
    {{"smaller-than", "smaller-than SIZE", "make the model smaller than SIZE (300kB)", {ARG_SIZE, ARG_NONE, ARG_NONE}},
     holds_smaller_than, do_smaller_than, NULL, true},
    {{"bits-below", "bits-below N", "bring the average bits per weight below N", {ARG_NUMBER, ARG_NONE, ARG_NONE}},
     holds_bits_below, do_bits_below, NULL, true},
    {{"measured", "measured WHAT",
      "measure quality, speed, compare or methods for the current plan, run a sensitivity scan, or calibrate",
      {ARG_MEASURE, ARG_NONE, ARG_NONE}}, holds_measured, do_measured, NULL, false},
    {{"differs", "differs", "compare the stories with a plan whose story differs from FP32's",
      {ARG_NONE, ARG_NONE, ARG_NONE}}, holds_differs, do_differs, "compare", false},
    {{"kl-below", "kl-below N", "measure a plan whose KL divergence from FP32 is below N",
      {ARG_NUMBER, ARG_NONE, ARG_NONE}}, holds_kl_below, do_quality, "quality", false},
    {{"top1-above", "top1-above PERCENT", "measure a plan that agrees with FP32's top token above PERCENT",
      {ARG_PERCENT, ARG_NONE, ARG_NONE}}, holds_top1_above, do_quality, "quality", false},
    {{"lower-error", "lower-error TENSOR FORMAT FORMAT",
      "true when the tensor's rounding error (RMSE) in the first format is below the second's (for when/unless)",
      {ARG_TENSOR, ARG_FORMAT, ARG_FORMAT}}, holds_lower_error, do_lower_error, NULL, false},
    {{"faster", "faster", "measure the speed of a plan that runs faster than FP32 on this machine",
      {ARG_NONE, ARG_NONE, ARG_NONE}}, holds_faster, do_faster, "speed", false},
    {{"sens-top", "sens-top TARGET", "true when the sensitivity scan ranks this tensor (or block) first (for when/unless)",
      {ARG_TARGET, ARG_NONE, ARG_NONE}}, holds_sens_top, do_sens_top, "sensitivity", false},
    {{"most-sensitive", "most-sensitive", "run the sensitivity scan and select the most sensitive tensor",
      {ARG_NONE, ARG_NONE, ARG_NONE}}, holds_most_sensitive, do_most_sensitive, "sensitivity", false},
    {{"outlier-injected", "outlier-injected TENSOR",
      "inject an outlier into the tensor (x on Layers or Histogram) and keep it there",
      {ARG_TENSOR, ARG_NONE, ARG_NONE}}, holds_outlier_injected, do_outlier_injected, NULL, false},
    {{"restored", "restored", "put back every weight an injected outlier changed (r)", {ARG_NONE, ARG_NONE, ARG_NONE}},
     holds_restored, do_restored, NULL, false},
};

enum { N_CHECKS = (int)(sizeof CHECKS / sizeof CHECKS[0]) };

int lesson_check_count(void) {
    return N_CHECKS;
}

CheckInfo lesson_check_info(int i) {
    CheckInfo none = {NULL, NULL, NULL, {ARG_NONE, ARG_NONE, ARG_NONE}};
    return i >= 0 && i < N_CHECKS ? CHECKS[i].info : none;
}

/* ----------------------------------------------------------------- parse */

bool lesson_parse_size(const char *text, double *bytes) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v <= 0) return false;
    while (*end == ' ') end++;
    double mult = 1;
    if (*end == '\0' || strcasecmp(end, "B") == 0) mult = 1;
    else if (strcasecmp(end, "kB") == 0) mult = 1e3;
    else if (strcasecmp(end, "MB") == 0) mult = 1e6;
    else if (strcasecmp(end, "GB") == 0) mult = 1e9;
    else return false;
    *bytes = v * mult;
    return true;
}

static bool in_list(const char *word, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0) return true;
    return false;
}

/* Checks that `word` suits `kind`; sets c->number for numbers. */
static Status parse_arg(LessonCheck *c, CheckArg kind, const char *word, Error *err) {
    Format f;
    char *end;
    switch (kind) {
    case ARG_SCREEN:
        if (strcmp(word, "hist") == 0 || in_list(word, SCREENS, sizeof SCREENS / sizeof SCREENS[0])) return ST_OK;
        return error_set(err, ST_FORMAT, "unknown screen '%s' (model, layers, histogram, compare, quality, lessons)", word);
    case ARG_TARGET:
    case ARG_TENSOR: {
        /* the shape of a name; whether the model has it is lesson_check_model's job */
        if (kind == ARG_TARGET && strcmp(word, "all") == 0) return ST_OK;
        int n, e = 0;
        if (sscanf(word, "blk.%d%n", &n, &e) == 1 && word[e] == '\0') {
            if (kind == ARG_TENSOR) return error_set(err, ST_FORMAT, "'%s' is a block; name one of its tensors (blk.0.attn_q)", word);
            return ST_OK;
        }
        for (const char *p = word; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_')
                return error_set(err, ST_FORMAT, "'%s' is not a tensor name", word);
        return ST_OK;
    }
    case ARG_FORMAT: return format_parse(word, &f, err) == ST_OK ? ST_OK : (err->status = ST_FORMAT);
    case ARG_PRESET:
        if (plan_preset_from_name(word) >= 0) return ST_OK;
        return error_set(err, ST_FORMAT, "unknown preset '%s' (fp32, fp16, int8, int4, int4-keep-edges, q4_k_m-like, as-stored)", word);
    case ARG_SIZE:
        if (lesson_parse_size(word, &c->number)) return ST_OK;
        return error_set(err, ST_FORMAT, "'%s' is not a size (write 300kB, 1.2MB or a number of bytes)", word);
    case ARG_NUMBER:
    case ARG_PERCENT:
        c->number = strtod(word, &end);
        if (end != word && isfinite(c->number) && (*end == '\0' || (kind == ARG_PERCENT && strcmp(end, "%") == 0)))
            return ST_OK;
        return error_set(err, ST_FORMAT, "'%s' is not a number", word);
    case ARG_MEASURE:
        if (in_list(word, MEASURES, sizeof MEASURES / sizeof MEASURES[0])) return ST_OK;
        return error_set(err, ST_FORMAT, "unknown measurement '%s' (quality, speed, compare, sensitivity, calibration, methods)",
                         word);
    default: return ST_OK;
    }
}

Status lesson_check_parse(LessonCheck *c, const char *text, Error *err) {
    char words[5][LESSON_ARG_MAX];
    int n = 0;
    memset(c, 0, sizeof *c);
    for (const char *p = text;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        size_t len = strcspn(p, " \t");
        if (n == 5 || len >= LESSON_ARG_MAX) return error_set(err, ST_FORMAT, "check too long: '%.60s'", text);
        memcpy(words[n], p, len);
        words[n][len] = '\0';
        n++;
        p += len;
    }
    if (n == 0) return error_set(err, ST_FORMAT, "empty check");
    int kind = -1;
    for (int i = 0; i < N_CHECKS; i++)
        if (strcmp(words[0], CHECKS[i].info.name) == 0) kind = i;
    if (kind < 0) {
        char names[400] = "";
        size_t used = 0;
        for (int i = 0; i < N_CHECKS && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", CHECKS[i].info.name);
        return error_set(err, ST_FORMAT, "unknown check '%s' (checks: %s)", words[0], names);
    }
    const CheckInfo *info = &CHECKS[kind].info;
    int want = (info->args[0] != ARG_NONE) + (info->args[1] != ARG_NONE) + (info->args[2] != ARG_NONE);
    /* a size may be written with a space: "smaller-than 300 kB" */
    if (info->args[0] == ARG_SIZE && n == 3) {
        size_t l = strlen(words[1]);
        if (l + strlen(words[2]) + 1 < LESSON_ARG_MAX) {
            snprintf(words[1] + l, LESSON_ARG_MAX - l, "%s", words[2]);
            n = 2;
        }
    }
    if (n - 1 != want) return error_set(err, ST_FORMAT, "'%s' wants %s", info->name, info->usage);
    c->kind = kind;
    c->n_args = want;
    for (int a = 0; a < want; a++) {
        snprintf(c->args[a], sizeof c->args[a], "%s", words[a + 1]);
        Status st = parse_arg(c, info->args[a], words[a + 1], err);
        if (st != ST_OK) return st;
    }
    return ST_OK;
}

bool lesson_check_holds(Session *s, const LessonCheck *c) {
    if (!s || !s->model || c->kind < 0 || c->kind >= N_CHECKS) return false;
    return CHECKS[c->kind].holds(s, c);
}

bool lesson_check_changes_plan(const LessonCheck *c) {
    return c->kind >= 0 && c->kind < N_CHECKS && CHECKS[c->kind].plan;
}

const char *lesson_check_needs(const LessonCheck *c) {
    if (c->kind < 0 || c->kind >= N_CHECKS) return NULL;
    /* a +gptq format's error cannot be known before the calibration */
    for (int a = 0; a < c->n_args && a < 3; a++)
        if (CHECKS[c->kind].info.args[a] == ARG_FORMAT && parsed_format(c, a).method == METHOD_GPTQ) return "calibration";
    return CHECKS[c->kind].needs;
}

bool lesson_check_decidable(Session *s, const LessonCheck *c) {
    const char *need = lesson_check_needs(c);
    return !need || (s && s->model && lesson_measured(s, need));
}

void lesson_act_clear(LessonAct *act) {
    memset(act, 0, sizeof *act);
    act->tensor = -1;
}

void lesson_check_perform(Session *s, const LessonCheck *c, LessonAct *act) {
    if (!s || !s->model || c->kind < 0 || c->kind >= N_CHECKS) return;
    CHECKS[c->kind].perform(s, c, act);
}
