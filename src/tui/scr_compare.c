/* scr_compare.c — the Compare screen: FP32 and the current plan continue one
 * prompt side by side, with the same settings (greedy, or sampled with one
 * shared seed). The first token where they part is bracketed, every word is
 * shaded by how sure the model was of it, and under each column stand its size,
 * its measured tokens/s and how long it agreed with FP32.
 *
 * The writing runs on the session's worker (session_request_compare); this
 * screen only decides when to ask again (a new plan, prompt or setting) and
 * draws CompareState through tui/layout.c's word wrap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/layout.h"
#include "tui/ui.h"

static const char *const STARTERS[] = {
    "Once upon a time",
    "Lily and Ben went to the park",
    "The little dog was sad because",
    "One day, a girl found a",
};
enum { N_STARTERS = (int)(sizeof STARTERS / sizeof STARTERS[0]), DEFAULT_SEED = 42 };

static const char KEYS_HINT[] = "e edit prompt  n next prompt  t greedy/sampled  s seed  g write again  Up/Down";

/* Confidence bands of GenColumn.probs: the model's probability of the token it
 * wrote. */
#define CONF_LOW 0.3
#define CONF_HIGH 0.7

/* ------------------------------------------------------------ requests */

static void compare_init(App *a) {
    CompareView *v = &a->cmp;
    if (v->init) return;
    v->init = true;
    /* presenter mode may have chosen a seed before the screen was first shown */
    if (!v->prompt[0]) snprintf(v->prompt, sizeof v->prompt, "%s", STARTERS[0]);
    if (!v->seed) v->seed = DEFAULT_SEED;
}

/* Whether `c` (a result or a request) was made for these settings. */
static bool settings_match(uint64_t hash, const char *prompt, bool sampled, uint64_t seed, const CompareView *v,
                           uint64_t plan_hash) {
    return hash == plan_hash && strcmp(prompt, v->prompt) == 0 && sampled == v->sampled &&
           (!sampled || seed == v->seed);
}

static bool result_current(const App *a) {
    const CompareState *c = &a->s->compare;
    return c->valid && settings_match(c->plan_hash, c->prompt, c->sampled, c->seed, &a->cmp,
                                      session_plan_hash(&a->s->plan));
}

void compare_request(App *a, int max_tokens) {
    CompareView *v = &a->cmp;
    compare_init(a);
    v->requested_hash = session_plan_hash(&a->s->plan);
    snprintf(v->requested_prompt, sizeof v->requested_prompt, "%s", v->prompt);
    v->requested_sampled = v->sampled;
    v->requested_seed = v->seed;
    v->scroll = 0;
    session_request_compare(a->s, v->prompt, v->sampled, v->seed, max_tokens);
}

/* As many tokens as the session keeps; generation stops earlier at the end of a story. */
static void request(App *a) {
    compare_request(a, SESSION_COMPARE_MAX);
}

/* Called on entry and whenever the session changed: asks for new stories only
 * when neither the result nor the last request matches the plan and settings. */
static void compare_enter(App *a) {
    CompareView *v = &a->cmp;
    compare_init(a);
    if (result_current(a)) return;
    if (settings_match(v->requested_hash, v->requested_prompt, v->requested_sampled, v->requested_seed, v,
                       session_plan_hash(&a->s->plan)))
        return; /* running, failed or stopped: g asks again */
    request(a);
}

/* ------------------------------------------------------------- drawing */

/* Tokens forced in both columns (BOS and the prompt), cached per prompt and
 * vocabulary. */
static int prompt_tokens(const Model *m, const char *prompt) {
    static const TokenizerPiece *vocab;
    static char text[SESSION_PROMPT_MAX];
    static int n;
    if (vocab == m->tok.pieces && strcmp(text, prompt) == 0) return n;
    int *ids = NULL, count = 0;
    Error err;
    if (tokenizer_encode(&m->tok, prompt, strlen(prompt), true, false, &ids, &count, &err) != ST_OK) count = 1;
    free(ids);
    vocab = m->tok.pieces;
    snprintf(text, sizeof text, "%s", prompt);
    n = count;
    return n;
}

static Status column_story(const Model *m, const GenColumn *col, int mark, int width, Story *st) {
    static const char *pieces[SESSION_COMPARE_MAX + 1];
    static size_t lens[SESSION_COMPARE_MAX + 1];
    int n = col->n < SESSION_COMPARE_MAX + 1 ? col->n : SESSION_COMPARE_MAX + 1;
    for (int i = 0; i < n; i++) pieces[i] = tokenizer_decode(&m->tok, i > 0 ? col->ids[i - 1] : -1, col->ids[i], &lens[i]);
    Error err;
    return layout_story(st, pieces, lens, n, mark, width, draw_utf8(), &err);
}

static ThemeRole confidence_role(float p) {
    return p < CONF_LOW ? ROLE_CONF_LOW : p < CONF_HIGH ? ROLE_CONF_MID : ROLE_CONF_HIGH;
}

static void draw_story(const Story *st, const GenColumn *col, int n_prompt, int mark, bool stale, int y, int x,
                       int rows, int scroll) {
    for (int i = 0; i < st->n_chars; i++) {
        const StoryChar *c = &st->chars[i];
        int line = c->line - scroll;
        if (c->col < 0 || line < 0 || line >= rows) continue;
        ThemeRole role;
        if (c->text[0] == ' ') role = ROLE_NORMAL; /* no underlined or reversed gaps between words */
        else if (c->token == mark) role = ROLE_DIFF;
        else if (stale || c->token < n_prompt) role = ROLE_DIM;
        else role = confidence_role(col->probs[c->token]);
        draw_text(y + line, x + c->col, 1, role, c->text);
    }
}

typedef struct Geometry {
    int left_x, right_x, sep_x, col_w;
    int text_y, text_rows, fig_y, legend_y, keys_y;
} Geometry;

static Geometry geometry(Rect r) {
    Geometry g;
    g.col_w = (r.w - 4) / 2;
    g.left_x = r.x + 1;
    g.sep_x = g.left_x + g.col_w;
    g.right_x = g.sep_x + 2;
    g.text_y = r.y + 2;
    g.keys_y = r.y + r.h - 1;
    g.legend_y = g.keys_y - 1;
    g.fig_y = g.legend_y - 3;
    g.text_rows = g.fig_y - g.text_y;
    return g;
}

static void draw_prompt_row(App *a, Rect r) {
    CompareView *v = &a->cmp;
    int x = r.x + 1;
    x += draw_textf(r.y, x, r.w - 2, ROLE_TITLE, "Prompt: ");
    char mode[64];
    if (v->sampled) snprintf(mode, sizeof mode, "sampled, seed %llu", (unsigned long long)v->seed);
    else snprintf(mode, sizeof mode, "greedy");
    int right_w = 36;
    int prompt_w = r.x + r.w - 1 - right_w - x - 2;
    draw_textf(r.y, x, prompt_w, ROLE_NORMAL, "%s", v->prompt[0] ? v->prompt : "(none: the model starts from nothing)");
    double prog;
    char label[64];
    if (session_job_progress(a->s, JOB_COMPARE, &prog, label, sizeof label))
        draw_progress(r.y, r.x + r.w - 1 - right_w, right_w, prog, label);
    else
        draw_textf(r.y, r.x + r.w - 1 - right_w, right_w, ROLE_DIM, "%*s", right_w, mode);
}

static void draw_figures(App *a, const Geometry *g) {
    Session *s = a->s;
    const CompareState *c = &s->compare;
    bool current = result_current(a);
    char b1[32], b2[32];
    int y = g->fig_y;
    /* FP32 */
    draw_textf(y, g->left_x, g->col_w, ROLE_NORMAL, "size  %s, 32.00 bits/weight",
               ui_fmt_bytes(b1, sizeof b1, plan_bytes_f32(s->model)));
    draw_textf(y + 1, g->left_x, g->col_w, ROLE_NORMAL, "speed %s tokens/s", ui_fmt_count(b2, sizeof b2, c->fp32.tps));
    draw_text(y + 2, g->left_x, g->col_w, ROLE_DIM, "agreement: FP32 is the reference");
    /* the plan */
    if (current) {
        draw_textf(y, g->right_x, g->col_w, ROLE_BAR_PLAN, "size  %s, %.2f bits/weight",
                   ui_fmt_bytes(b1, sizeof b1, session_plan_bytes(s)), session_plan_bits(s));
    } else {
        draw_text(y, g->right_x, g->col_w, ROLE_DIM, "size  (of an earlier plan)");
    }
    draw_textf(y + 1, g->right_x, g->col_w, ROLE_NORMAL, "speed %s tokens/s (%.2fx)",
               ui_fmt_count(b2, sizeof b2, c->plan.tps), c->fp32.tps > 0 ? c->plan.tps / c->fp32.tps : 0.0);
    int agree, written;
    double share = layout_agreement(prompt_tokens(s->model, c->prompt), c->first_diff, c->fp32.n, c->plan.n,
                                    &agree, &written);
    draw_textf(y + 2, g->right_x, g->col_w, c->first_diff < 0 ? ROLE_GOOD : ROLE_NORMAL,
               "agreement: first %d of %d tokens (%.0f%%)", agree, written, 100 * share);
}

static void draw_legend(App *a, const Geometry *g, Rect r) {
    const CompareState *c = &a->s->compare;
    int x = r.x + 1, end = r.x + r.w - 1;
    if (c->valid && !result_current(a)) {
        bool running = session_job_progress(a->s, JOB_COMPARE, NULL, NULL, 0) || session_job_waiting(a->s, JOB_COMPARE);
        draw_text(g->legend_y, x, end - x, ROLE_WARN,
                  running ? "these stories are for an earlier plan or prompt; new ones are on the way"
                          : "these stories are for an earlier plan or prompt: g writes them again");
    } else {
        bool same = c->valid && c->first_diff < 0;
        if (same) x += draw_textf(g->legend_y, x, end - x, ROLE_GOOD, "the plan wrote what FP32 wrote");
        else x += draw_textf(g->legend_y, x, end - x, ROLE_DIFF, "[x]") +
                  draw_textf(g->legend_y, x + 3, end - x - 3, ROLE_DIM, " first difference");
        x += draw_textf(g->legend_y, x, end - x, ROLE_DIM, "   the model was: ");
        x += draw_textf(g->legend_y, x, end - x, ROLE_CONF_HIGH, "sure") + 2;
        x += draw_textf(g->legend_y, x, end - x, ROLE_CONF_MID, "unsure") + 2;
        x += draw_textf(g->legend_y, x, end - x, ROLE_CONF_LOW, "guessing");
        if (!same) draw_textf(g->legend_y, x, end - x, ROLE_DIM, "   dim: prompt");
    }
    draw_text(g->keys_y, r.x + 1, r.w - 2, ROLE_DIM, KEYS_HINT);
}

static void compare_draw(App *a, Rect r) {
    Session *s = a->s;
    CompareView *v = &a->cmp;
    const CompareState *c = &s->compare;
    Geometry g = geometry(r);
    draw_prompt_row(a, r);

    char plan_head[96];
    snprintf(plan_head, sizeof plan_head, "your plan: %s", s->plan_label);
    draw_text(r.y + 1, g.left_x, g.col_w, ROLE_TITLE, "FP32: the original");
    draw_text(r.y + 1, g.right_x, g.col_w, ROLE_TITLE, plan_head);
    for (int y = r.y + 1; y < g.fig_y + 3; y++) draw_text(y, g.sep_x, 1, ROLE_DIM, glyphs()->vline);

    if (!c->valid) {
        bool running = session_job_progress(s, JOB_COMPARE, NULL, NULL, 0);
        draw_text(g.text_y + 1, g.left_x, r.w - 2, ROLE_DIM,
                  running                              ? "FP32 and your plan are writing..."
                  : session_job_waiting(s, JOB_COMPARE) ? "waiting for the calibration GPTQ needs (Esc stops)..."
                                                       : "nothing written yet: press g");
        draw_text(g.keys_y, r.x + 1, r.w - 2, ROLE_DIM, KEYS_HINT);
        return;
    }

    bool stale = !result_current(a);
    int n_prompt = prompt_tokens(s->model, c->prompt);
    int mark_fp32 = c->first_diff < 0 ? -1 : c->first_diff < c->fp32.n ? c->first_diff : c->fp32.n;
    int mark_plan = c->first_diff < 0 ? -1 : c->first_diff < c->plan.n ? c->first_diff : c->plan.n;
    Story left = {0}, right = {0};
    if (column_story(s->model, &c->fp32, mark_fp32, g.col_w, &left) != ST_OK ||
        column_story(s->model, &c->plan, mark_plan, g.col_w, &right) != ST_OK) {
        layout_story_free(&left);
        draw_text(g.text_y, g.left_x, r.w - 2, ROLE_BAD, "out of memory laying out the stories");
        return;
    }
    int lines = left.n_lines > right.n_lines ? left.n_lines : right.n_lines;
    int max_scroll = lines - g.text_rows > 0 ? lines - g.text_rows : 0;
    if (v->scroll > max_scroll) v->scroll = max_scroll;
    if (v->scroll < 0) v->scroll = 0;
    draw_story(&left, &c->fp32, n_prompt, mark_fp32, stale, g.text_y, g.left_x, g.text_rows, v->scroll);
    draw_story(&right, &c->plan, n_prompt, mark_plan, stale, g.text_y, g.right_x, g.text_rows, v->scroll);
    if (max_scroll > 0) {
        char where[48];
        snprintf(where, sizeof where, "lines %d-%d/%d", v->scroll + 1,
                 v->scroll + g.text_rows < lines ? v->scroll + g.text_rows : lines, lines);
        int w = (int)strlen(where);
        /* the plan's name gives way to the position: cut short with "..." */
        int room = g.col_w - w - 1;
        if ((int)strlen(plan_head) > room && room > 4) {
            int cut = room - 3;
            while (cut > 0 && ((unsigned char)plan_head[cut] & 0xC0) == 0x80) cut--; /* UTF-8 boundary */
            memcpy(plan_head + cut, "...", 4);
            draw_fill(r.y + 1, g.right_x, g.col_w, ROLE_NORMAL, ' ');
            draw_text(r.y + 1, g.right_x, room, ROLE_TITLE, plan_head);
        }
        draw_fill(r.y + 1, g.right_x + g.col_w - w - 1, w + 1, ROLE_NORMAL, ' ');
        draw_text(r.y + 1, g.right_x + g.col_w - w, w, ROLE_DIM, where);
    }
    layout_story_free(&left);
    layout_story_free(&right);
    draw_figures(a, &g);
    draw_legend(a, &g, r);
}

/* ---------------------------------------------------------------- keys */

static void prompt_chosen(App *a, int index, const char *text) {
    (void)index;
    if (!text) return;
    snprintf(a->cmp.prompt, sizeof a->cmp.prompt, "%s", text);
    request(a);
}

static void seed_chosen(App *a, int index, const char *text) {
    (void)index;
    if (!text) return;
    char *end;
    errno = 0;
    unsigned long long seed = strtoull(text, &end, 10);
    while (*end == ' ') end++;
    if (!*text || *text == '-' || *end || errno) {
        app_set_status(a, true, "a seed is a whole number from 0 to 18446744073709551615");
        return;
    }
    a->cmp.seed = seed;
    if (!a->cmp.sampled) app_set_status(a, false, "a seed only matters when sampling: now sampled, seed %llu", seed);
    a->cmp.sampled = true;
    request(a);
}

static uint64_t next_seed(uint64_t seed) {
    /* splitmix64, cut to six digits so it reads (and can be typed) easily */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) % 1000000;
}

static int compare_action(App *a, Action act, int ch) {
    CompareView *v = &a->cmp;
    (void)ch;
    compare_init(a);
    switch (act) {
    case ACT_EDIT_PROMPT:
        app_input(a, "Prompt: both models continue this text", v->prompt, prompt_chosen, 0);
        return UI_REDRAW | UI_HANDLED;
    case ACT_NEXT_STARTER:
        v->starter = (v->starter + 1) % N_STARTERS;
        snprintf(v->prompt, sizeof v->prompt, "%s", STARTERS[v->starter]);
        request(a);
        return UI_REDRAW | UI_HANDLED;
    case ACT_TOGGLE_SAMPLING:
        v->sampled = !v->sampled;
        if (v->sampled)
            app_set_status(a, false, "sampled: both draw at temperature 1, top-p 0.9, with seed %llu",
                           (unsigned long long)v->seed);
        else
            app_set_status(a, false, "greedy: both always take the likeliest token");
        request(a);
        return UI_REDRAW | UI_HANDLED;
    case ACT_NEW_SEED: {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)next_seed(v->seed));
        app_input(a, "Seed for sampling (both columns use it): a new one, or type yours", seed, seed_chosen, 0);
        return UI_REDRAW | UI_HANDLED;
    }
    case ACT_REGENERATE: request(a); return UI_REDRAW | UI_HANDLED;
    default: return app_scroll(&v->scroll, act, LINES - 12 > 1 ? LINES - 12 : 1);
    }
}

const Screen SCREEN_COMPARE_DEF = {"Compare", SCR_COMPARE, compare_enter, compare_draw, compare_action, NULL, NULL};
