/* scr_model.c — the Model screen: what the model is, how big it is under the
 * plan (a bar against FP32), what that means for a 7B model, and the measured
 * speed and quality. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui/ui.h"

/* A small model's quality and speed are measured whenever the plan changes. */
static void model_enter(App *a) {
    Session *s = a->s;
    if (!app_measures_automatically(a)) return;
    app_keep_quality_measured(a);
    uint64_t h = session_plan_hash(&s->plan);
    if (!(s->speed.valid && s->speed.plan_hash == h) && a->speed_hash != h) app_measure_speed(a);
}

static void draw_size(App *a, Rect r, int y) {
    Session *s = a->s;
    char b1[32], b2[32];
    double f32 = plan_bytes_f32(s->model), plan = session_plan_bytes(s);
    int label_w = 11, num_w = 24, bar_w = r.w - label_w - num_w - 4;
    if (bar_w < 10) bar_w = 10;
    draw_text(y, r.x + 1, r.w - 2, ROLE_TITLE, "Size");
    draw_textf(y, r.x + 1 + label_w + bar_w + 2, num_w, ROLE_DIM, "%-12s%s", "bytes", "bits/weight");
    draw_text(y + 1, r.x + 1, label_w, ROLE_NORMAL, "FP32");
    draw_hbar(y + 1, r.x + 1 + label_w, bar_w, f32, f32, ROLE_BAR_FP32, false);
    draw_textf(y + 1, r.x + 1 + label_w + bar_w + 2, num_w, ROLE_NORMAL, "%-12s%6.2f",
               ui_fmt_bytes(b1, sizeof b1, f32), 32.0);
    draw_text(y + 2, r.x + 1, label_w, ROLE_BAR_PLAN, "your plan");
    draw_hbar(y + 2, r.x + 1 + label_w, bar_w, plan, f32, ROLE_BAR_PLAN, true);
    draw_textf(y + 2, r.x + 1 + label_w + bar_w + 2, num_w, ROLE_BAR_PLAN, "%-12s%6.2f",
               ui_fmt_bytes(b2, sizeof b2, plan), session_plan_bits(s));
    if (plan < f32 * 0.999)
        draw_textf(y + 3, r.x + 1 + label_w, r.w - label_w - 2, ROLE_DIM, "%s bytes: %.1fx smaller than FP32",
                   ui_fmt_count(b1, sizeof b1, plan), plan > 0 ? f32 / plan : 0.0);
    else
        draw_textf(y + 3, r.x + 1 + label_w, r.w - label_w - 2, ROLE_DIM, "%s bytes: as big as FP32",
                   ui_fmt_count(b1, sizeof b1, plan));
    double bits = session_plan_bits(s);
    draw_textf(y + 5, r.x + 1, r.w - 2, ROLE_NORMAL,
               "7 billion weights at these bits: FP32 %s, your plan %s",
               ui_fmt_bytes(b1, sizeof b1, plan_projected_bytes(32, 7e9)),
               ui_fmt_bytes(b2, sizeof b2, plan_projected_bytes(bits, 7e9)));
    draw_text(y + 6, r.x + 1, r.w - 2, ROLE_DIM,
              "(arithmetic: weights x bits / 8; INT8 ~7 GB and INT4 ~3.5 GB, plus scales)");
}

static void draw_speed(App *a, int y, int x, int w) {
    Session *s = a->s;
    uint64_t h = session_plan_hash(&s->plan);
    char b[32];
    draw_text(y, x, w, ROLE_TITLE, "Speed, measured here");
    double prog;
    char label[64];
    if (session_job_progress(s, JOB_SPEED, &prog, label, sizeof label)) {
        draw_progress(y + 1, x, w, prog, label);
        return;
    }
    if (!s->speed.valid) {
        draw_text(y + 1, x, w, ROLE_DIM,
                  session_job_waiting(s, JOB_SPEED) ? "waiting for GPTQ's calibration..." : "not measured yet: press m");
        return;
    }
    bool stale = s->speed.plan_hash != h;
    draw_textf(y + 1, x, w, ROLE_NORMAL, "FP32      %s tokens/s", ui_fmt_count(b, sizeof b, s->speed.tps_fp32));
    draw_textf(y + 2, x, w, stale ? ROLE_DIM : ROLE_BAR_PLAN, "%s %s tokens/s (%.2fx)", stale ? "old plan " : "your plan",
               ui_fmt_count(b, sizeof b, s->speed.tps_plan),
               s->speed.tps_fp32 > 0 ? s->speed.tps_plan / s->speed.tps_fp32 : 0.0);
    draw_textf(y + 3, x, w, ROLE_DIM, "%d thread%s%s", s->speed.threads, s->speed.threads == 1 ? "" : "s",
               s->speed.plan_native ? "" : "; some formats run via floats");
}

static void draw_quality(App *a, int y, int x, int w) {
    Session *s = a->s;
    uint64_t h = session_plan_hash(&s->plan);
    draw_text(y, x, w, ROLE_TITLE, "Quality against FP32");
    double prog;
    char label[64];
    if (session_job_progress(s, JOB_QUALITY, &prog, label, sizeof label)) {
        draw_progress(y + 1, x, w, prog, label);
        return;
    }
    if (s->quality.error[0]) {
        draw_text(y + 1, x, w, ROLE_BAD, s->quality.error);
        return;
    }
    if (!s->quality.valid) {
        draw_text(y + 1, x, w, ROLE_DIM,
                  session_job_waiting(s, JOB_QUALITY) ? "waiting for GPTQ's calibration..." : "not measured yet: press e");
        return;
    }
    const QualityResult *q = &s->quality.r;
    bool stale = s->quality.plan_hash != h;
    ThemeRole role = stale ? ROLE_DIM : ROLE_NORMAL;
    draw_textf(y + 1, x, w, role, "perplexity %.3f -> %.3f (%+.1f%%)", q->ppl_base, q->ppl_plan,
               100 * (q->ppl_plan / q->ppl_base - 1));
    draw_textf(y + 2, x, w, role, "KL divergence %.4f nats (mean)", q->kl_mean);
    draw_textf(y + 3, x, w, role, "same top token %.1f%% of %lld", 100 * q->top1_agree, (long long)q->n_predictions);
    if (stale) draw_text(y + 4, x, w, ROLE_WARN, "for an earlier plan: press e");
}

static void model_draw(App *a, Rect r) {
    Session *s = a->s;
    const Model *m = s->model;
    const ModelConfig *c = &m->cfg;
    char b1[32], b2[32];
    int y = r.y;
    draw_textf(y++, r.x + 1, r.w - 2, ROLE_TITLE, "%s  (%s)", m->name, m->architecture);
    draw_textf(y++, r.x + 1, r.w - 2, ROLE_DIM, "%s, %s", s->model_path, ui_fmt_bytes(b1, sizeof b1, (double)m->file_size));
    draw_textf(y++, r.x + 1, r.w - 2, ROLE_NORMAL,
               "%s weights, %d tensors: %d blocks, width %d, %d heads, %d tokens",
               ui_fmt_count(b2, sizeof b2, (double)m->n_params), m->n_tensors, c->n_layers, c->dim, c->n_heads,
               c->vocab_size);
    y++;
    draw_size(a, r, y);
    y += 8;
    int half = r.w / 2;
    if (y + 5 <= r.y + r.h) {
        draw_speed(a, y, r.x + 1, half - 2);
        draw_quality(a, y, r.x + half, r.w - half - 1);
    }
    if (r.h >= 22) /* room for a hint */
        draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, ROLE_DIM,
                  "2 Layers: change formats    p presets    e measure quality    m measure speed");
}

static int model_action(App *a, Action act, int ch) {
    (void)ch;
    switch (act) {
    case ACT_EVALUATE: app_measure_quality(a); return UI_REDRAW | UI_HANDLED;
    case ACT_SPEED: app_measure_speed(a); return UI_REDRAW | UI_HANDLED;
    default: return UI_NONE;
    }
}

const Screen SCREEN_MODEL_DEF = {"Model", SCR_MODEL, model_enter, model_draw, model_action, NULL, NULL};
