/* lesson.c — reading lesson files (see lesson.h for the format) and sets of
 * them (a directory). Called by the Lessons screen and `quantlab lessons`. */
#include "lesson/lesson.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "lesson/check.h"
#include "lesson/figure.h"

static const char *const TRACK_NAMES[TRACK_COUNT] = {"picture", "try", "build"};
static const char *const TRACK_LABELS[TRACK_COUNT] = {"Picture it", "Try it", "Build it"};
static const char *const KIND_NAMES[] = {"read", "do", "predict", "quiz"};

const char *lesson_track_name(LessonTrack t) {
    return t < TRACK_COUNT ? TRACK_NAMES[t] : "?";
}

const char *lesson_track_label(LessonTrack t) {
    return t < TRACK_COUNT ? TRACK_LABELS[t] : "?";
}

const char *lesson_step_kind_name(StepKind k) {
    return k <= STEP_QUIZ ? KIND_NAMES[k] : "?";
}

/* ---------------------------------------------------------- the parser */

/* Which fields each kind of step takes (bit per StepKind). */
enum { K_READ = 1 << STEP_READ, K_DO = 1 << STEP_DO, K_PREDICT = 1 << STEP_PREDICT, K_QUIZ = 1 << STEP_QUIZ,
       K_ALL = 15, K_ASK = K_PREDICT | K_QUIZ };

typedef enum FieldId {
    F_SCREEN, F_MEASURE, F_CHECK, F_HINT, F_HINT_AFTER, F_DONE, F_ANSWER, F_TOLERANCE, F_UNIT,
    F_TOO_LOW, F_TOO_HIGH, F_WRONG, F_EXPLAIN, F_REVEAL
} FieldId;

static const struct {
    const char *name;
    FieldId id;
    unsigned kinds;
} FIELDS[] = {
    {"screen", F_SCREEN, K_ALL},
    {"measure", F_MEASURE, K_ALL},
    {"check", F_CHECK, K_DO},
    {"hint", F_HINT, K_DO | K_QUIZ},
    {"hint-after", F_HINT_AFTER, K_DO | K_QUIZ},
    {"done", F_DONE, K_DO},
    {"answer", F_ANSWER, K_ASK},
    {"tolerance", F_TOLERANCE, K_ASK},
    {"unit", F_UNIT, K_ASK},
    {"too-low", F_TOO_LOW, K_ASK},
    {"too-high", F_TOO_HIGH, K_ASK},
    {"wrong", F_WRONG, K_ASK},
    {"explain", F_EXPLAIN, K_ASK},
    {"reveal", F_REVEAL, K_PREDICT},
};
enum { N_FIELDS = (int)(sizeof FIELDS / sizeof FIELDS[0]) };

typedef struct Parser {
    const char *path;
    Error *err;
    Status st;
    Lesson *l;
    LessonStep *step;     /* the step being read, or NULL in the header */
    int line;
    /* the step's text, built line by line */
    StrBuf text;
    bool in_paragraph;
    bool pending_blank;
    bool in_fence;
    int fence_line;
    bool in_comment;
    int comment_line;
    char **last_field;    /* the text field an indented line would continue, or NULL */
    int title_line;
    bool after_choice;    /* the previous line was a choice (an indented why: may follow) */
} Parser;

static Status fail_at(Parser *p, int line, const char *fmt, ...) QL_PRINTF(3, 4);
static Status fail_at(Parser *p, int line, const char *fmt, ...) {
    if (p->st != ST_OK) return p->st;
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    p->st = error_set(p->err, ST_FORMAT, "%s:%d: %s", p->path, line, why);
    return p->st;
}

static char *dup_range(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_str(Parser *p, const char *s) {
    char *d = dup_range(s, strlen(s));
    if (!d && p->st == ST_OK) p->st = error_set(p->err, ST_NOMEM, "%s: out of memory", p->path);
    return d;
}

static void text_append(Parser *p, const char *s, size_t n) {
    if (p->st == ST_OK && !strbuf_append(&p->text, s, n))
        p->st = error_set(p->err, ST_NOMEM, "%s: out of memory", p->path);
}

/* Text is stored one display line per '\n': a paragraph (to be filled to the
 * width), a verbatim line (starting with '\t'), or an empty line. */
static void text_line(Parser *p, const char *s, size_t n, bool verbatim) {
    if (n == 0 && !verbatim) { /* a blank line ends a paragraph */
        if (p->text.len > 0) p->pending_blank = true;
        p->in_paragraph = false;
        return;
    }
    if (p->pending_blank) {
        text_append(p, "\n", 1);
        p->pending_blank = false;
    }
    if (verbatim) {
        if (p->text.len > 0) text_append(p, "\n", 1);
        text_append(p, "\t", 1);
        text_append(p, s, n);
        p->in_paragraph = false;
        return;
    }
    if (p->in_paragraph) text_append(p, " ", 1);
    else if (p->text.len > 0) text_append(p, "\n", 1);
    text_append(p, s, n);
    p->in_paragraph = true;
}

static bool figures_ok(Parser *p, const char *text) {
    char why[160];
    size_t off;
    if (lesson_figures_valid(text, why, sizeof why, &off)) return true;
    fail_at(p, p->line, "%s", why);
    return false;
}

static const char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

/* "key: value" with a lower-case key at the start of the line. */
static bool split_field(char *line, char **key, char **value) {
    char *c = line;
    if (!(*c >= 'a' && *c <= 'z')) return false;
    while ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-') c++;
    if (*c != ':' || (c[1] != ' ' && c[1] != '\0' && c[1] != '\t')) return false;
    *c = '\0';
    *key = line;
    *value = (char *)trim(c + 1);
    return true;
}

static bool parse_number(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

static Status parse_hint_after(Parser *p, LessonStep *st, const char *value) {
    const char *s = value;
    bool any = false;
    while (*s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || v < 0) break;
        while (*end == ' ') end++;
        const char *unit = end;
        while (*end && *end != ' ' && *end != ',') end++;
        size_t n = (size_t)(end - unit);
        if ((n == 1 && *unit == 's') || (n == 3 && !strncmp(unit, "sec", 3)) || (n == 7 && !strncmp(unit, "seconds", 7)))
            st->hint_seconds = v;
        else if ((n == 3 && !strncmp(unit, "min", 3)) || (n == 7 && !strncmp(unit, "minutes", 7)) ||
                 (n == 6 && !strncmp(unit, "minute", 6)))
            st->hint_seconds = 60 * v;
        else if ((n == 5 && !strncmp(unit, "moves", 5)) || (n == 4 && !strncmp(unit, "move", 4)) ||
                 (n == 5 && !strncmp(unit, "tries", 5)))
            st->hint_moves = (int)v;
        else
            break;
        any = true;
        s = end;
    }
    if (*s || !any) return fail_at(p, p->line, "hint-after wants a time and/or moves: '45s', '5 moves', '45s 5 moves'");
    return ST_OK;
}

static Status set_string(Parser *p, char **slot, const char *value, const char *key) {
    if (*slot) return fail_at(p, p->line, "'%s:' given twice in this step", key);
    if (!*value) return fail_at(p, p->line, "'%s:' is empty", key);
    if (!figures_ok(p, value)) return p->st;
    *slot = dup_str(p, value);
    p->last_field = slot;
    return p->st;
}

/* "  more text" under a field: a new line of that field. */
static Status continue_field(Parser *p, const char *text) {
    if (!figures_ok(p, text)) return p->st;
    size_t a = strlen(*p->last_field), b = strlen(text);
    char *grown = realloc(*p->last_field, a + b + 2);
    if (!grown) return p->st = error_set(p->err, ST_NOMEM, "%s: out of memory", p->path);
    grown[a] = '\n';
    memcpy(grown + a + 1, text, b + 1);
    *p->last_field = grown;
    return ST_OK;
}

static Status step_field(Parser *p, const char *key, const char *value) {
    LessonStep *st = p->step;
    int f = -1;
    for (int i = 0; i < N_FIELDS; i++)
        if (strcmp(FIELDS[i].name, key) == 0) f = i;
    if (f < 0 || !(FIELDS[f].kinds & (1u << st->kind))) {
        char names[300] = "";
        size_t used = 0;
        for (int i = 0; i < N_FIELDS && used < sizeof names; i++)
            if (FIELDS[i].kinds & (1u << st->kind))
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", FIELDS[i].name);
        if (f < 0) return fail_at(p, p->line, "unknown field '%s:' (a %s step takes: %s)", key, KIND_NAMES[st->kind], names);
        return fail_at(p, p->line, "'%s:' does not belong in a %s step (it takes: %s)", key, KIND_NAMES[st->kind], names);
    }
    Error cerr = {0};
    double v;
    switch (FIELDS[f].id) {
    case F_SCREEN:
    case F_MEASURE: { /* the value is checked as the check "screen"/"measured" checks it */
        bool screen = FIELDS[f].id == F_SCREEN;
        LessonCheck c;
        char text[LESSON_ARG_MAX + 16];
        snprintf(text, sizeof text, "%s %s", screen ? "screen" : "measured", value);
        if (lesson_check_parse(&c, text, &cerr) != ST_OK) return fail_at(p, p->line, "%s", cerr.msg);
        if (screen) snprintf(st->screen, sizeof st->screen, "%s", strcmp(value, "hist") == 0 ? "histogram" : value);
        else snprintf(st->measure, sizeof st->measure, "%s", value);
        return ST_OK;
    }
    case F_CHECK:
        if (st->n_checks == LESSON_MAX_CHECKS) return fail_at(p, p->line, "more than %d checks in one step", LESSON_MAX_CHECKS);
        if (lesson_check_parse(&st->checks[st->n_checks], value, &cerr) != ST_OK)
            return fail_at(p, p->line, "%s", cerr.msg);
        st->checks[st->n_checks++].line = p->line;
        return ST_OK;
    case F_HINT: return set_string(p, &st->hint, value, key);
    case F_HINT_AFTER: return parse_hint_after(p, st, value);
    case F_DONE: return set_string(p, &st->done, value, key);
    case F_ANSWER:
        if (st->answer) return fail_at(p, p->line, "'answer:' given twice in this step");
        if (value[0] == '{') {
            size_t n = strlen(value);
            if (n < 3 || value[n - 1] != '}' || !lesson_figure_exists(value + 1, n - 2))
                return fail_at(p, p->line, "answer '%s' is neither a number nor one known {figure}", value);
        } else if (!parse_number(value, &v)) {
            return fail_at(p, p->line, "answer '%s' is not a number", value);
        }
        st->answer = dup_str(p, value);
        st->numeric = true;
        return p->st;
    case F_TOLERANCE: {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", value);
        size_t n = strlen(buf);
        bool pct = n > 0 && buf[n - 1] == '%';
        if (pct) buf[n - 1] = '\0';
        if (!parse_number(trim(buf), &v) || v < 0)
            return fail_at(p, p->line, "tolerance '%s' is not a number (write 0.5, or 10%%)", value);
        st->tolerance = pct ? v / 100 : v;
        st->tol_relative = pct;
        return ST_OK;
    }
    case F_UNIT: return set_string(p, &st->unit, value, key);
    case F_TOO_LOW: return set_string(p, &st->too_low, value, key);
    case F_TOO_HIGH: return set_string(p, &st->too_high, value, key);
    case F_WRONG: return set_string(p, &st->wrong, value, key);
    case F_EXPLAIN: return set_string(p, &st->explain, value, key);
    case F_REVEAL: return set_string(p, &st->reveal, value, key);
    }
    return ST_OK;
}

/* Everything a finished step must have. */
static Status step_finish(Parser *p) {
    LessonStep *st = p->step;
    if (!st || p->st != ST_OK) return p->st;
    if (p->in_fence) return fail_at(p, p->fence_line, "a ``` block that is never closed");
    st->text = p->text.s ? p->text.s : dup_str(p, "");
    p->text = (StrBuf){0};
    p->in_paragraph = p->pending_blank = false;
    if (p->st != ST_OK) return p->st;
    const char *kind = KIND_NAMES[st->kind];
    if (!st->text[0]) return fail_at(p, st->line, "this %s step has no text", kind);
    switch (st->kind) {
    case STEP_READ: break;
    case STEP_DO:
        if (st->n_checks == 0) return fail_at(p, st->line, "a do step needs a 'check:' saying what the learner must do");
        if (!st->hint) return fail_at(p, st->line, "a do step needs a 'hint:' for learners who are stuck");
        break;
    case STEP_PREDICT:
    case STEP_QUIZ: {
        if (st->n_choices > 0 && st->numeric)
            return fail_at(p, st->line, "give either choices or 'answer:', not both");
        if (st->n_choices == 0 && !st->numeric)
            return fail_at(p, st->line, "a %s step needs choices ('- [x] right', '- [ ] wrong') or 'answer:'", kind);
        if (st->n_choices == 1) return fail_at(p, st->choices[0].line, "only one choice; give at least two");
        int right = 0, when = 0, unless = 0;
        const LessonChoice *first_cond = NULL;
        for (int i = 0; i < st->n_choices; i++) {
            const LessonChoice *c = &st->choices[i];
            right += c->right;
            when += c->cond > 0;
            unless += c->cond < 0;
            if (!c->cond) continue;
            if (!first_cond) first_cond = c;
            else if (c->check.kind != first_cond->check.kind || strcmp(c->check.args[0], first_cond->check.args[0]) ||
                     strcmp(c->check.args[1], first_cond->check.args[1]) ||
                     strcmp(c->check.args[2], first_cond->check.args[2]))
                return fail_at(p, c->line, "every when/unless choice of a step must name the same check");
        }
        if (first_cond && (when != 1 || unless != 1 || right != 0))
            return fail_at(p, st->line, "with when/unless choices, give exactly one '[when CHECK]', one '[unless CHECK]' and no [x], so exactly one is right");
        if (st->n_choices > 0 && !first_cond && right != 1)
            return fail_at(p, st->line, "%d choices are marked right ([x]); exactly one must be", right);
        if (st->kind == STEP_QUIZ) {
            for (int i = 0; i < st->n_choices; i++)
                if ((!st->choices[i].right || st->choices[i].cond) && !st->choices[i].why)
                    return fail_at(p, st->choices[i].line, "a choice that can be wrong needs a 'why:' line under it saying why it is wrong");
            if (st->numeric && !st->wrong && !(st->too_low && st->too_high))
                return fail_at(p, st->line, "a number quiz needs 'wrong:' or both 'too-low:' and 'too-high:' to explain a wrong answer");
        }
        if (st->kind == STEP_PREDICT && !st->reveal)
            return fail_at(p, st->line, "a predict step needs 'reveal:' (the answer, with live figures)");
        if (!st->numeric && (st->unit || st->too_low || st->too_high || st->tolerance > 0))
            return fail_at(p, st->line, "'unit:', 'tolerance:', 'too-low:' and 'too-high:' go with 'answer:'");
        break;
    }
    }
    p->step = NULL;
    return ST_OK;
}

static Status step_start(Parser *p, char *rest) {
    if (step_finish(p) != ST_OK) return p->st;
    Lesson *l = p->l;
    if (l->n_steps == LESSON_MAX_STEPS) return fail_at(p, p->line, "more than %d steps", LESSON_MAX_STEPS);
    char *title = strchr(rest, ':');
    if (title) *title++ = '\0';
    const char *kind = trim(rest);
    int k = -1;
    for (int i = 0; i <= STEP_QUIZ; i++)
        if (strcmp(kind, KIND_NAMES[i]) == 0) k = i;
    if (k < 0) return fail_at(p, p->line, "unknown step '%s' (steps are read, do, predict, quiz)", kind);
    LessonStep *st = &l->steps[l->n_steps++];
    memset(st, 0, sizeof *st);
    st->kind = (StepKind)k;
    st->line = p->line;
    st->hint_seconds = LESSON_DEFAULT_HINT_SECONDS;
    st->hint_moves = LESSON_DEFAULT_HINT_MOVES;
    const char *t = title ? trim(title) : "";
    if (!figures_ok(p, t)) return p->st;
    st->title = dup_str(p, t);
    p->step = st;
    p->last_field = NULL;
    p->after_choice = false;
    return p->st;
}

static Status header_field(Parser *p, const char *key, const char *value) {
    Lesson *l = p->l;
    if (strcmp(key, "track") == 0) {
        char word[32];
        snprintf(word, sizeof word, "%s", value);
        for (char *c = word; *c; c++) *c = (char)tolower((unsigned char)*c);
        char *sp = strchr(word, ' '); /* "try it" = "try" */
        if (sp && strcmp(sp, " it") == 0) *sp = '\0';
        for (int t = 0; t < TRACK_COUNT; t++)
            if (strcmp(word, TRACK_NAMES[t]) == 0) {
                l->track = (LessonTrack)t;
                return ST_OK;
            }
        return fail_at(p, p->line, "unknown track '%s' (picture, try or build)", value);
    }
    if (strcmp(key, "ages") == 0) {
        int lo, hi, n = 0;
        if ((sscanf(value, "%d-%d%n", &lo, &hi, &n) == 2 || sscanf(value, "%d+%n", &lo, &n) == 1) && value[n] == '\0' &&
            strlen(value) < sizeof l->ages) {
            snprintf(l->ages, sizeof l->ages, "%s", value);
            return ST_OK;
        }
        return fail_at(p, p->line, "ages wants a range like 9-12 or 13+");
    }
    if (strcmp(key, "minutes") == 0) {
        double v;
        if (!parse_number(value, &v) || v < 1 || v > 60 || v != floor(v))
            return fail_at(p, p->line, "minutes wants a whole number from 1 to 60");
        l->minutes = (int)v;
        return ST_OK;
    }
    if (strcmp(key, "builds-on") == 0) {
        if (strlen(value) >= sizeof l->builds_on || strchr(value, ' '))
            return fail_at(p, p->line, "builds-on wants one lesson id (a file name without .md)");
        snprintf(l->builds_on, sizeof l->builds_on, "%s", value);
        l->builds_on_line = p->line;
        return ST_OK;
    }
    if (strcmp(key, "about") == 0) {
        if (l->about) return fail_at(p, p->line, "'about:' given twice");
        l->about = dup_str(p, value);
        return p->st;
    }
    return fail_at(p, p->line, "unknown header field '%s:' (track, ages, minutes, builds-on, about)", key);
}

/* One line (without its newline; may be modified). */
static Status parse_line(Parser *p, char *line) {
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
    for (char *c = line; *c; c++)
        if (*c == '\t') return fail_at(p, p->line, "a tab character: use spaces");
    /* comments */
    if (p->in_comment) {
        if (strstr(line, "-->")) p->in_comment = false;
        return ST_OK;
    }
    const char *t = trim(line);
    if (!p->in_fence && strncmp(t, "<!--", 4) == 0) {
        if (!strstr(t + 4, "-->")) {
            p->in_comment = true;
            p->comment_line = p->line;
        }
        return ST_OK;
    }
    if (strncmp(line, "```", 3) == 0) {
        if (!p->step) return fail_at(p, p->line, "a ``` block before the first step");
        p->in_fence = !p->in_fence;
        p->fence_line = p->line;
        return ST_OK;
    }
    if (p->in_fence) {
        if (!figures_ok(p, line)) return p->st;
        text_line(p, line, n, true);
        return p->st;
    }
    Lesson *l = p->l;
    if (!l->title) {
        if (!*t) return ST_OK;
        if (strncmp(line, "# ", 2) != 0 || !*trim(line + 2))
            return fail_at(p, p->line, "a lesson starts with its title: '# Title'");
        const char *title = trim(line + 2);
        if (!figures_ok(p, title)) return p->st;
        l->title = dup_str(p, title);
        p->title_line = p->line;
        return p->st;
    }
    if (strncmp(line, "## ", 3) == 0) return step_start(p, line + 3);
    if (strncmp(line, "# ", 2) == 0) return fail_at(p, p->line, "a second title; steps start with '## '");
    char *key, *value;
    if (!p->step) {
        if (!*t) return ST_OK;
        if (split_field(line, &key, &value)) return header_field(p, key, value);
        return fail_at(p, p->line, "text before the first step (steps start with '## read:', '## do:', '## predict:' or '## quiz:')");
    }
    LessonStep *st = p->step;
    /* a choice, and the lines that belong to it */
    if (strncmp(line, "- [", 3) == 0 && strchr(line + 3, ']')) {
        if (st->kind != STEP_PREDICT && st->kind != STEP_QUIZ)
            return fail_at(p, p->line, "choices belong in a predict or quiz step");
        if (st->n_choices == LESSON_MAX_CHOICES) return fail_at(p, p->line, "more than %d choices", LESSON_MAX_CHOICES);
        char *close = strchr(line + 3, ']');
        *close = '\0';
        const char *mark = line + 3, *text = trim(close + 1);
        LessonChoice *c = &st->choices[st->n_choices];
        if (strcmp(mark, "x") == 0 || strcmp(mark, "X") == 0) {
            c->right = true;
        } else if (strncmp(mark, "when ", 5) == 0 || strncmp(mark, "unless ", 7) == 0) {
            Error cerr = {0};
            c->cond = mark[0] == 'w' ? 1 : -1;
            if (lesson_check_parse(&c->check, mark + (c->cond > 0 ? 5 : 7), &cerr) != ST_OK)
                return fail_at(p, p->line, "%s", cerr.msg);
            c->check.line = p->line;
        } else if (strcmp(mark, " ") != 0) {
            return fail_at(p, p->line, "a choice starts '- [x]' (right), '- [ ]' (wrong), or '- [when CHECK]' / '- [unless CHECK]'");
        }
        if (!*text) return fail_at(p, p->line, "an empty choice");
        if (!figures_ok(p, text)) return p->st;
        st->n_choices++;
        c->line = p->line;
        c->text = dup_str(p, text);
        p->after_choice = true;
        p->last_field = NULL;
        return p->st;
    }
    /* an indented line: a choice's why, or the next line of the field above */
    bool after_choice = p->after_choice;
    char **last_field = p->last_field;
    p->after_choice = false;
    p->last_field = NULL;
    if (line[0] == ' ' && strncmp(line, "    ", 4) != 0 && *t) {
        char *why = (char *)t;
        if (after_choice && split_field(why, &key, &value) && strcmp(key, "why") == 0)
            return set_string(p, &st->choices[st->n_choices - 1].why, value, "why");
        if (last_field) {
            p->last_field = last_field;
            return continue_field(p, t);
        }
        if (st->n_choices > 0) return fail_at(p, p->line, "under a choice, only an indented 'why:' line");
    }
    if (split_field(line, &key, &value)) {
        if (strcmp(key, "why") == 0) return fail_at(p, p->line, "'why:' goes indented under a choice");
        return step_field(p, key, value);
    }
    if (strncmp(line, "    ", 4) == 0) { /* a picture or a table, shown as written */
        if (!figures_ok(p, line + 4)) return p->st;
        text_line(p, line + 4, n - 4, true);
        return p->st;
    }
    if (!figures_ok(p, t)) return p->st;
    text_line(p, t, strlen(t), false);
    return p->st;
}

Status lesson_parse(Lesson **out, const char *buf, size_t len, const char *path, Error *err) {
    *out = NULL;
    Parser p = {.path = path, .err = err, .st = ST_OK};
    if (len == 0) return error_set(err, ST_FORMAT, "%s:1: the file is empty", path);
    if (len > LESSON_MAX_BYTES) return error_set(err, ST_FORMAT, "%s:1: larger than %d kB; split the lesson", path, LESSON_MAX_BYTES / 1024);
    size_t bad = utf8_find_invalid(buf, len);
    const char *nul = memchr(buf, '\0', len);
    if (nul && (size_t)(nul - buf) < bad) bad = (size_t)(nul - buf);
    if (bad < len) {
        int line = 1;
        for (size_t i = 0; i < bad; i++) line += buf[i] == '\n';
        return error_set(err, ST_FORMAT, "%s:%d: not UTF-8 text (byte 0x%02x)", path, line, (unsigned char)buf[bad]);
    }
    Lesson *l = calloc(1, sizeof *l);
    if (l) l->steps = calloc(LESSON_MAX_STEPS, sizeof *l->steps);
    if (l) l->path = dup_range(path, strlen(path));
    if (!l || !l->steps || !l->path) {
        lesson_delete(l);
        return error_set(err, ST_NOMEM, "%s: out of memory", path);
    }
    p.l = l;
    l->track = TRACK_COUNT;
    /* the id: the file name without .md */
    const char *base = file_basename(path);
    size_t bl = strlen(base);
    if (bl > 3 && strcmp(base + bl - 3, ".md") == 0) bl -= 3;
    if (bl == 0 || bl >= sizeof l->id) {
        lesson_delete(l);
        return error_set(err, ST_FORMAT, "%s:1: the file name makes a bad lesson id (1 to %d characters)", path, LESSON_ID_MAX - 1);
    }
    memcpy(l->id, base, bl);
    l->id[bl] = '\0';

    char line[4096];
    size_t pos = 0;
    while (pos < len && p.st == ST_OK) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        p.line++;
        if (n >= sizeof line) {
            fail_at(&p, p.line, "a line longer than %zu bytes", sizeof line - 1);
            break;
        }
        memcpy(line, buf + pos, n);
        line[n] = '\0';
        parse_line(&p, line);
        pos += n + 1;
    }
    if (p.st == ST_OK && p.in_comment) fail_at(&p, p.comment_line, "a <!-- comment that is never closed");
    if (p.st == ST_OK) step_finish(&p);
    if (p.st == ST_OK) {
        if (!l->title) fail_at(&p, 1, "a lesson starts with its title: '# Title'");
        else if (l->track == TRACK_COUNT) fail_at(&p, p.title_line, "the header needs 'track:' (picture, try or build)");
        else if (!l->ages[0]) fail_at(&p, p.title_line, "the header needs 'ages:' (like 9-12)");
        else if (l->minutes == 0) fail_at(&p, p.title_line, "the header needs 'minutes:'");
        else if (l->n_steps == 0) fail_at(&p, p.line, "no steps (start one with '## read: Title')");
    }
    if (!l->about && p.st == ST_OK) l->about = dup_str(&p, "");
    strbuf_free(&p.text);
    if (p.st != ST_OK) {
        lesson_delete(l);
        return p.st;
    }
    *out = l;
    return ST_OK;
}

Status lesson_load(Lesson **out, const char *path, Error *err) {
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    Status st = file_read_all(path, LESSON_MAX_BYTES, &buf, &len, err);
    if (st == ST_LIMIT) st = error_set(err, ST_FORMAT, "%s:1: larger than %d kB; split the lesson", path, LESSON_MAX_BYTES / 1024);
    if (st == ST_OK) st = lesson_parse(out, buf, len, path, err);
    free(buf);
    return st;
}

void lesson_delete(Lesson *l) {
    if (!l) return;
    for (int i = 0; l->steps && i < l->n_steps; i++) {
        LessonStep *s = &l->steps[i];
        free(s->title);
        free(s->text);
        free(s->hint);
        free(s->done);
        free(s->answer);
        free(s->unit);
        free(s->too_low);
        free(s->too_high);
        free(s->wrong);
        free(s->explain);
        free(s->reveal);
        for (int c = 0; c < s->n_choices; c++) {
            free(s->choices[c].text);
            free(s->choices[c].why);
        }
    }
    free(l->steps);
    free(l->path);
    free(l->title);
    free(l->about);
    free(l);
}

/* Every text of a step, for checks that look at all of them. */
static int step_texts(const LessonStep *s, const char **out) {
    int n = 0;
    const char *fields[] = {s->title, s->text, s->hint, s->done, s->answer, s->too_low, s->too_high, s->wrong,
                            s->explain, s->reveal};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        if (fields[k]) out[n++] = fields[k];
    for (int c = 0; c < s->n_choices; c++) {
        out[n++] = s->choices[c].text;
        if (s->choices[c].why) out[n++] = s->choices[c].why;
    }
    return n;
}

/* Every tensor or block a check names exists in m. */
static Status check_targets(const Lesson *l, const LessonCheck *ck, const Model *m, Error *err) {
    CheckInfo info = lesson_check_info(ck->kind);
    for (int a = 0; a < ck->n_args && a < 3; a++) {
        if (info.args[a] != ARG_TARGET && info.args[a] != ARG_TENSOR) continue;
        int tensor, layer;
        if (!lesson_target_resolve(m, ck->args[a], &tensor, &layer))
            return error_set(err, ST_FORMAT, "%s:%d: no tensor or block '%s' in %s", l->path, ck->line, ck->args[a],
                             m->name);
    }
    return ST_OK;
}

Status lesson_check_model(const Lesson *l, const Model *m, Error *err) {
    for (int i = 0; i < l->n_steps; i++) {
        const LessonStep *s = &l->steps[i];
        const char *texts[16 + 2 * LESSON_MAX_CHOICES];
        int n_texts = step_texts(s, texts);
        char why[300];
        for (int k = 0; k < n_texts; k++)
            if (!lesson_figures_check_model(texts[k], m, why, sizeof why))
                return error_set(err, ST_FORMAT, "%s:%d: %s", l->path, s->line, why);
        Status st = ST_OK;
        for (int c = 0; c < s->n_checks && st == ST_OK; c++) st = check_targets(l, &s->checks[c], m, err);
        for (int c = 0; c < s->n_choices && st == ST_OK; c++)
            if (s->choices[c].cond) st = check_targets(l, &s->choices[c].check, m, err);
        if (st != ST_OK) return st;
    }
    return ST_OK;
}

/* ------------------------------------------------------------- lesson sets */

static int lesson_order(const Lesson *a, const Lesson *b) {
    if (a->track != b->track) return (int)a->track - (int)b->track;
    return strcmp(a->id, b->id);
}

Status lesson_set_add(LessonSet *set, Lesson *l, Error *err) {
    Lesson **grown = realloc(set->lessons, ((size_t)set->n + 1) * sizeof *grown);
    if (!grown) {
        lesson_delete(l);
        return error_set(err, ST_NOMEM, "out of memory");
    }
    set->lessons = grown;
    int k = set->n;
    while (k > 0 && lesson_order(set->lessons[k - 1], l) > 0) {
        set->lessons[k] = set->lessons[k - 1];
        k--;
    }
    set->lessons[k] = l;
    set->n++;
    return ST_OK;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Status lesson_dir_list(const char *dir, char ***paths, int *n, Error *err) {
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return error_set(err, ST_IO, "%s: cannot read the lessons directory", dir);
    char **list = NULL;
    int count = 0, cap = 0;
    Status st = ST_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".md") != 0 || strcmp(e->d_name, "README.md") == 0) continue;
        if (count == 1024) break; /* more lesson files than anyone writes */
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(list, (size_t)cap * sizeof *grown);
            if (!grown) {
                st = error_set(err, ST_NOMEM, "out of memory");
                break;
            }
            list = grown;
        }
        size_t need = strlen(dir) + len + 2;
        if (!(list[count] = malloc(need))) {
            st = error_set(err, ST_NOMEM, "out of memory");
            break;
        }
        snprintf(list[count++], need, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (st != ST_OK) {
        lesson_dir_list_free(list, count);
        return st;
    }
    /* file-name order, so what is reported first does not depend on the directory */
    if (count > 1) qsort(list, (size_t)count, sizeof *list, name_cmp);
    *paths = list;
    *n = count;
    return ST_OK;
}

void lesson_dir_list_free(char **paths, int n) {
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

Status lesson_set_load(LessonSet *set, const char *dir, Error *err) {
    memset(set, 0, sizeof *set);
    char **paths;
    int n;
    Status st = lesson_dir_list(dir, &paths, &n, err);
    if (st != ST_OK) return st;
    Status first = ST_OK;
    for (int i = 0; i < n; i++) {
        Lesson *l;
        Error e1 = {0};
        if (lesson_load(&l, paths[i], &e1) != ST_OK) {
            if (first == ST_OK) {
                first = e1.status == ST_NOMEM ? ST_NOMEM : ST_FORMAT;
                if (err) *err = e1;
            }
            continue;
        }
        if (lesson_set_add(set, l, &e1) != ST_OK) {
            if (err) *err = e1;
            first = ST_NOMEM;
            break;
        }
    }
    lesson_dir_list_free(paths, n);
    return first;
}

void lesson_set_free(LessonSet *set) {
    for (int i = 0; i < set->n; i++) lesson_delete(set->lessons[i]);
    free(set->lessons);
    memset(set, 0, sizeof *set);
}

int lesson_set_find(const LessonSet *set, const char *id) {
    int found = -1, matches = 0;
    size_t n = strlen(id);
    if (n > 3 && strcmp(id + n - 3, ".md") == 0) n -= 3;
    for (int i = 0; i < set->n; i++) {
        if (strlen(set->lessons[i]->id) == n && strncmp(set->lessons[i]->id, id, n) == 0) return i;
        if (n > 0 && strncmp(set->lessons[i]->id, id, n) == 0) {
            found = i;
            matches++;
        }
    }
    return matches == 1 ? found : -1;
}

Status lesson_check_builds_on(const Lesson *l, const LessonSet *known, Error *err) {
    if (!l->builds_on[0]) return ST_OK;
    for (int k = 0; k < known->n; k++)
        if (strcmp(known->lessons[k]->id, l->builds_on) == 0) return ST_OK;
    return error_set(err, ST_FORMAT, "%s:%d: builds-on names '%s', which is not a lesson here", l->path,
                     l->builds_on_line, l->builds_on);
}
