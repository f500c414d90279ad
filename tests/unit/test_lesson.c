/* test_lesson.c — the lesson engine (src/lesson/): reading lesson files, live
 * figures, checks on the session, the run of a lesson (every step type, grading,
 * hints, skip, resume), text layout, and the progress file (atomic writes, a
 * damaged file set aside, resume after a restart).
 *
 * Expected values from outside the code under test: byte counts worked by hand
 * from ggml's block sizes (Q8_0: 34 bytes per 32 values, Q4_0: 18; stories260K's
 * rows of 172 values padded to 192) and the model's shape as `quantlab info`
 * lists it (292,800 weights; 64x64 attn_q).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "lesson/check.h"
#include "lesson/figure.h"
#include "lesson/json.h"
#include "lesson/lesson.h"
#include "lesson/progress.h"
#include "lesson/run.h"
#include "lesson/wrap.h"
#include "lib/proc.h"

static Session *sess;
static char tmpdir[256];

/* stories260K under all-INT8 (Q8_0), by hand: token_embd and output 512 rows x 2
 * blocks x 34 = 34,816 each; per block attn_q and attn_output 64 x 2 x 34 = 4,352,
 * attn_k and attn_v 32 x 2 x 34 = 2,176, ffn_gate and ffn_up 172 x 2 x 34 = 11,696,
 * ffn_down 64 rows x 6 blocks (172 -> 192) x 34 = 13,056: 49,504 a block, 247,520
 * for five; the eleven norm vectors stay F32: 11 x 64 x 4 = 2,816. */
#define INT8_BYTES 319968.0
#define FP32_BYTES 1171200.0 /* 292,800 x 4 */

static int setup(void **state) {
    (void)state;
    Error err = {0};
    if (session_open(&sess, proc_data_path("assets/stories260K.gguf"), NULL, 1, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-lesson-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    session_close(sess);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Every test starts from an all-FP32 plan with nothing measured or shown. */
static int fresh(void **state) {
    (void)state;
    Error err;
    if (session_apply_preset(sess, PRESET_FP32, &err) != ST_OK) return -1;
    memset(&sess->quality, 0, sizeof sess->quality);
    memset(&sess->speed, 0, sizeof sess->speed);
    memset(&sess->compare, 0, sizeof sess->compare);
    sess->sens.valid = false;
    sess->ui_screen[0] = '\0';
    sess->ui_tensor = -1;
    return 0;
}

static const char *tmp(const char *name) {
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static int tensor(const char *name) {
    int i = model_find_tensor(sess->model, name);
    assert_true(i >= 0);
    return i;
}

static Lesson *parse_ok(const char *text) {
    Lesson *l = NULL;
    Error err = {0};
    if (lesson_parse(&l, text, strlen(text), "lessons/t.md", &err) != ST_OK) fail_msg("%s", err.msg);
    return l;
}

static void expect_error(const char *text, const char *want) {
    Lesson *l = NULL;
    Error err = {0};
    Status st = lesson_parse(&l, text, strlen(text), "lessons/t.md", &err);
    if (st != ST_FORMAT || !strstr(err.msg, want)) fail_msg("wanted '%s', got status %d '%s'", want, st, err.msg);
    assert_null(l);
    assert_null(strchr(err.msg, '\n'));
}

#define HEADER "# A lesson\n\ntrack: try\nages: 9-12\nminutes: 5\n\n"

/* One of each step. */
static const char *const EXAMPLE =
    "# How big is a model?\n"
    "\n"
    "track: Try it\n"
    "ages: 9-12\n"
    "minutes: 10\n"
    "builds-on: picture-1\n"
    "about: Bytes per weight.\n"
    "\n"
    "## read: A weight is a number\n"
    "This model has {model.weights} weights.\n"
    "They take {fp32.bytes}.\n"
    "\n"
    "A second paragraph, {{not a figure}.\n"
    "<!-- a note for teachers -->\n"
    "    a picture  {plan.bits}\n"
    "```\n"
    "  +--+\n"
    "```\n"
    "\n"
    "## do: Make one matrix INT4\n"
    "Select blk.0 attn_q and press Space until it says INT4.\n"
    "check: format blk.0.attn_q int4\n"
    "check: screen layers\n"
    "hint: Space steps through FP32, FP16, INT8, INT4.\n"
    "hint-after: 30s 3 moves\n"
    "screen: layers\n"
    "done: It takes {tensor.bytes} now.\n"
    "\n"
    "## predict: Smaller?\n"
    "Will INT4 be smaller than INT8?\n"
    "- [x] Yes\n"
    "  why: 4 bits instead of 8.\n"
    "- [ ] No\n"
    "reveal: INT8 {int8.bytes}, INT4 {int4.bytes}.\n"
    "measure: quality\n"
    "\n"
    "## quiz: Seven billion\n"
    "How many GB at INT8?\n"
    "answer: 7\n"
    "tolerance: 10%\n"
    "unit: GB\n"
    "too-low: Less than a byte each.\n"
    "too-high: More than a byte each.\n"
    "explain: 7 billion x 1 byte.\n";

/* ------------------------------------------------------------ parsing */

static void test_lesson_parse_every_step_type(void **state) {
    (void)state;
    Lesson *l = parse_ok(EXAMPLE);
    assert_string_equal(l->id, "t");
    assert_string_equal(l->title, "How big is a model?");
    assert_int_equal(l->track, TRACK_TRY);
    assert_string_equal(l->ages, "9-12");
    assert_int_equal(l->minutes, 10);
    assert_string_equal(l->builds_on, "picture-1");
    assert_string_equal(l->about, "Bytes per weight.");
    assert_int_equal(l->n_steps, 4);

    const LessonStep *s = &l->steps[0];
    assert_int_equal(s->kind, STEP_READ);
    assert_int_equal(s->line, 9);
    assert_string_equal(s->title, "A weight is a number");
    /* a paragraph is one line; a blank line, then verbatim lines start with a tab */
    assert_string_equal(s->text, "This model has {model.weights} weights. They take {fp32.bytes}.\n"
                                 "\n"
                                 "A second paragraph, {{not a figure}.\n"
                                 "\ta picture  {plan.bits}\n"
                                 "\t  +--+");

    s = &l->steps[1];
    assert_int_equal(s->kind, STEP_DO);
    assert_int_equal(s->n_checks, 2);
    assert_string_equal(lesson_check_info(s->checks[0].kind).name, "format");
    assert_string_equal(s->checks[0].args[0], "blk.0.attn_q");
    assert_string_equal(s->checks[0].args[1], "int4");
    assert_int_equal(s->checks[0].line, 22);
    assert_string_equal(lesson_check_info(s->checks[1].kind).name, "screen");
    assert_true(s->hint_seconds == 30);
    assert_int_equal(s->hint_moves, 3);
    assert_string_equal(s->screen, "layers");
    assert_string_equal(s->done, "It takes {tensor.bytes} now.");

    s = &l->steps[2];
    assert_int_equal(s->kind, STEP_PREDICT);
    assert_int_equal(s->n_choices, 2);
    assert_true(s->choices[0].right);
    assert_string_equal(s->choices[0].why, "4 bits instead of 8.");
    assert_false(s->choices[1].right);
    assert_null(s->choices[1].why); /* a prediction's wrong choice may go without */
    assert_string_equal(s->measure, "quality");

    s = &l->steps[3];
    assert_int_equal(s->kind, STEP_QUIZ);
    assert_true(s->numeric);
    assert_string_equal(s->answer, "7");
    assert_true(s->tol_relative);
    assert_true(s->tolerance > 0.0999 && s->tolerance < 0.1001);
    assert_string_equal(s->unit, "GB");
    /* a field continued on indented lines: one more line each */
    Lesson *c = parse_ok(HEADER "## predict: p\nQ?\n- [x] a\n  why: one\n  two\n- [ ] b\nreveal: first\n  second {plan.bits}\n"
                                "## read: r\nText.\n\n  Indented text is text.\n");
    assert_string_equal(c->steps[0].choices[0].why, "one\ntwo");
    assert_string_equal(c->steps[0].reveal, "first\nsecond {plan.bits}");
    assert_string_equal(c->steps[1].text, "Text.\n\nIndented text is text.");
    lesson_delete(c);
    /* the defaults */
    assert_true(l->steps[0].hint_seconds == LESSON_DEFAULT_HINT_SECONDS);
    lesson_delete(l);
}

static void test_lesson_parse_errors_name_file_and_line(void **state) {
    (void)state;
    lesson_delete(NULL);
    expect_error("", "lessons/t.md:1: the file is empty");
    expect_error("Hello\n", "t.md:1: a lesson starts with its title");
    expect_error("# T\ntrack: try\nages: 9-12\nminutes: 5\nlevel: 3\n", "t.md:5: unknown header field 'level:'");
    expect_error("# T\ntrack: maths\n", "t.md:2: unknown track 'maths'");
    expect_error("# T\nages: young\n", "t.md:2: ages wants a range");
    expect_error("# T\nminutes: 90\n", "t.md:2: minutes wants a whole number");
    expect_error("# T\ntrack: try\nages: 9-12\nminutes: 5\n", "no steps");
    expect_error("# T\nages: 9-12\nminutes: 5\n## read: x\nHi\n", "t.md:1: the header needs 'track:'");
    expect_error(HEADER "Some words\n", "t.md:7: text before the first step");
    expect_error(HEADER "## dance: x\nHi\n", "t.md:7: unknown step 'dance'");
    expect_error(HEADER "## read: x\n", "t.md:7: this read step has no text");
    expect_error(HEADER "## read: x\nHi {plan.byts} there\n", "t.md:8: unknown figure {plan.byts}");
    expect_error(HEADER "## read: x\nHi {plan.bytes\n", "t.md:8: a '{' that is never closed");
    expect_error(HEADER "## read: x\nHi\nhnit: y\n", "t.md:9: unknown field 'hnit:'");
    expect_error(HEADER "## read: x\nHi\ncheck: screen model\n", "t.md:9: 'check:' does not belong in a read step");
    expect_error(HEADER "## do: x\nDo it.\nhint: h\n", "t.md:7: a do step needs a 'check:'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: screen model\n", "t.md:7: a do step needs a 'hint:'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: fly to the moon\n", "t.md:9: unknown check 'fly'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: format blk.0.attn_q\n", "t.md:9: 'format' wants format TARGET FORMAT");
    expect_error(HEADER "## do: x\nDo it.\ncheck: format blk.0.attn_q q9_0\n", "t.md:9: unknown format 'q9_0'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: screen kitchen\n", "t.md:9: unknown screen 'kitchen'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: smaller-than lots\n", "t.md:9: 'lots' is not a size");
    expect_error(HEADER "## do: x\nDo it.\ncheck: preset int5\n", "t.md:9: unknown preset 'int5'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: measured luck\n", "t.md:9: unknown measurement 'luck'");
    expect_error(HEADER "## do: x\nDo it.\ncheck: screen model\nhint: h\nhint-after: soon\n", "t.md:11: hint-after wants");
    expect_error(HEADER "## quiz: x\nQ?\n- [x] a\n- [x] b\n", "t.md:7: 2 choices are marked right");
    expect_error(HEADER "## quiz: x\nQ?\n- [ ] a\n  why: no\n- [ ] b\n  why: no\n", "t.md:7: 0 choices are marked right");
    expect_error(HEADER "## quiz: x\nQ?\n- [x] a\n- [ ] b\n", "t.md:10: a choice that can be wrong needs a 'why:'");
    expect_error(HEADER "## quiz: x\nQ?\n- [?] a\n", "t.md:9: a choice starts '- [x]'");
    expect_error(HEADER "## predict: x\nQ?\n- [when differs] a\n- [when differs] b\nreveal: r\n", "t.md:7: with when/unless choices");
    expect_error(HEADER "## predict: x\nQ?\n- [when differs] a\n- [x] b\nreveal: r\n", "t.md:7: with when/unless choices");
    expect_error(HEADER "## predict: x\nQ?\n- [when differs] a\n- [unless kl-below 1] b\nreveal: r\n", "t.md:10: every when/unless choice");
    expect_error(HEADER "## predict: x\nQ?\n- [when dances] a\n- [unless dances] b\nreveal: r\n", "t.md:9: unknown check 'dances'");
    expect_error(HEADER "## quiz: x\nQ?\n- [x] a\n", "t.md:9: only one choice");
    expect_error(HEADER "## quiz: x\nQ?\n", "t.md:7: a quiz step needs choices");
    expect_error(HEADER "## quiz: x\nQ?\nanswer: seven\n", "t.md:9: answer 'seven' is not a number");
    expect_error(HEADER "## quiz: x\nQ?\nanswer: {plan.nope}\n", "t.md:9: answer '{plan.nope}' is neither");
    expect_error(HEADER "## quiz: x\nQ?\nanswer: 7\n", "t.md:7: a number quiz needs 'wrong:'");
    expect_error(HEADER "## quiz: x\nQ?\nanswer: 7\nwrong: no\ntolerance: some\n", "t.md:11: tolerance 'some'");
    expect_error(HEADER "## predict: x\nQ?\n- [x] a\n- [ ] b\n", "t.md:7: a predict step needs 'reveal:'");
    expect_error(HEADER "## predict: x\nQ?\n- [x] a\n- [ ] b\nanswer: 3\nreveal: r\n", "give either choices or 'answer:'");
    expect_error(HEADER "## read: x\nHi\n- [x] a\n", "t.md:9: choices belong in a predict or quiz step");
    expect_error(HEADER "## quiz: x\nQ?\n- [x] a\nwhy: b\n", "t.md:10: 'why:' goes indented under a choice");
    expect_error(HEADER "## quiz: x\nQ?\n- [x] a\n- [ ] b\n  because: c\n", "t.md:11: under a choice, only an indented 'why:'");
    expect_error(HEADER "## predict: x\nQ?\n- [x] a\n- [ ] b\nreveal: r\n  more {nope}\n", "t.md:12: unknown figure {nope}");
    expect_error(HEADER "## read: x\nHi\n```\npicture\n", "t.md:9: a ``` block that is never closed");
    expect_error(HEADER "## read: x\nHi\n<!-- open\n", "t.md:9: a <!-- comment that is never closed");
    expect_error(HEADER "## read: x\n\tHi\n", "t.md:8: a tab character");
    expect_error(HEADER "## read: x\nHi\n# Another title\n", "t.md:9: a second title");
    expect_error(HEADER "## read: x\nHi \xff there\n", "t.md:8: not UTF-8 text (byte 0xff)");
    char nul[] = HEADER "## read: x\nHi\0there\n";
    Lesson *l;
    Error err = {0};
    assert_int_equal(lesson_parse(&l, nul, sizeof nul - 1, "t.md", &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "t.md:8: not UTF-8 text (byte 0x00)"));
}

/* Tensors exist only in a model; the set of lessons knows which lessons exist. */
static void test_lesson_check_model_and_builds_on(void **state) {
    (void)state;
    Lesson *l = parse_ok(HEADER "builds-on: nowhere\n## do: x\nDo it.\ncheck: format blk.9.attn_q int4\nhint: h\n");
    Error err = {0};
    assert_int_equal(lesson_check_model(l, sess->model, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "lessons/t.md:10: no tensor or block 'blk.9.attn_q' in stories260K"));
    LessonSet set = {0};
    assert_int_equal(lesson_set_add(&set, l, &err), ST_OK);
    assert_int_equal(lesson_check_builds_on(l, &set, &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "lessons/t.md:7: builds-on names 'nowhere'"));
    lesson_set_free(&set);
    Lesson *ok = parse_ok(HEADER "## do: x\nDo it.\ncheck: format output q8_0\ncheck: histogram token_embd\nhint: h\n");
    assert_int_equal(lesson_check_model(ok, sess->model, &err), ST_OK);
    lesson_delete(ok);
}

/* ------------------------------------------------------------ figures */

static LessonCheck check(const char *text) {
    LessonCheck c;
    Error err = {0};
    if (lesson_check_parse(&c, text, &err) != ST_OK) fail_msg("%s: %s", text, err.msg);
    return c;
}


static void render(const char *text, char *out, size_t size) {
    lesson_render(sess, text, false, out, size);
}

static void test_lesson_figures_live_and_not_measured(void **state) {
    (void)state;
    char out[512];
    render("{model.weights} weights, {fp32.bytes}, {plan.bits} bits, {{braces}", out, sizeof out);
    assert_string_equal(out, "292,800 weights, 1.17 MB, 32.00 bits, {braces}");
    render("{int8.bytes} is {int8.percent} of FP32", out, sizeof out);
    assert_string_equal(out, "320 kB is 27% of FP32"); /* 319,968 / 1,171,200 */
    double v;
    FigureKind kind;
    assert_int_equal(lesson_figure(sess, "int8.bytes", out, sizeof out, &v, &kind), FIGURE_OK);
    assert_true(v == INT8_BYTES);
    assert_int_equal(kind, FIGURE_BYTES);
    /* the plan's own figures follow the plan */
    assert_true(session_set_format_all(sess, FORMAT_INT8));
    assert_int_equal(lesson_figure(sess, "plan.bytes", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == INT8_BYTES);
    assert_int_equal(lesson_figure(sess, "plan.ratio", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_string_equal(out, "3.7"); /* 1,171,200 / 319,968 = 3.66 */
    /* arithmetic for 7 billion weights at 32 bits and at Q8_0's 8.5 */
    render("{7b.fp32} {7b.int8}", out, sizeof out);
    assert_string_equal(out, "28.0 GB 7.44 GB");

    /* measurements: none yet */
    int missing = lesson_render(sess, "KL {quality.kl}, {speed.plan}, {compare.first_diff}, {sens.top}", false, out,
                                sizeof out);
    assert_int_equal(missing, 4);
    assert_string_equal(out, "KL not measured yet, not measured yet, not measured yet, not measured yet");
    /* measured for this plan */
    sess->quality.valid = true;
    sess->quality.plan_hash = session_plan_hash(&sess->plan);
    sess->quality.r.kl_mean = 0.01234;
    sess->quality.r.top1_agree = 0.9712;
    render("KL {quality.kl}, top-1 {quality.top1}", out, sizeof out);
    assert_string_equal(out, "KL 0.0123, top-1 97.1%");
    /* ...and stale once the plan changes: never shown as current */
    assert_true(session_set_format_all(sess, FORMAT_INT4));
    render("KL {quality.kl}", out, sizeof out);
    assert_string_equal(out, "KL not measured yet");
    /* the selected tensor */
    render("{tensor.name}", out, sizeof out);
    assert_string_equal(out, "no tensor selected");
    sess->ui_tensor = tensor("blk.0.attn_q.weight");
    render("{tensor.name} {tensor.format} {tensor.bytes} {tensor.fp32_bytes}", out, sizeof out);
    /* Q4_0: 64 rows x 2 blocks x 18 bytes = 2,304 */
    assert_string_equal(out, "blk.0.attn_q INT4 (Q4_0) 2.30 kB 16.4 kB");
    /* figures with arguments: a tensor in a format, measured here */
    render("{bits q4_0} {bits q8_0} {bytes blk.0.attn_q q4_0} {bytes blk.0.ffn_down q8_0}", out, sizeof out);
    /* 18 and 34 bytes per 32 weights; ffn_down's rows of 172 take 6 blocks: 64 x 6 x 34 = 13,056 */
    assert_string_equal(out, "4.50 8.50 2.30 kB 13.1 kB");
    double per_tensor, per_block;
    assert_int_equal(lesson_figure(sess, "rmse blk.0.ffn_down int4-tensor", out, sizeof out, &per_tensor, NULL), FIGURE_OK);
    assert_int_equal(lesson_figure(sess, "rmse blk.0.ffn_down int4-b32", out, sizeof out, &per_block, NULL), FIGURE_OK);
    assert_true(per_block > 0 && per_block < per_tensor);
    LessonCheck lower = check("lower-error blk.0.ffn_down int4-b32 int4-tensor");
    LessonCheck higher = check("lower-error blk.0.ffn_down int4-tensor int4-b32");
    assert_true(lesson_check_holds(sess, &lower));
    assert_false(lesson_check_holds(sess, &higher));
    /* symmetric INT4 has the codes -7..7: at most 15 values with one scale */
    assert_int_equal(lesson_figure(sess, "levels blk.0.attn_q int4-tensor", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v >= 2 && v <= 15);
    assert_int_equal(lesson_figure(sess, "zeroed blk.0.attn_q f32", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_string_equal(out, "0.0%");
    assert_int_equal(lesson_figure(sess, "rmse blk.0.attn_q f32", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == 0);
    assert_int_equal(lesson_figure(sess, "rmse nothing.here q4_0", out, sizeof out, NULL, NULL), FIGURE_NOT_MEASURED);
    assert_false(lesson_figure_exists("rmse blk.0.attn_q", 17));  /* the format is missing */
    assert_false(lesson_figure_exists("bits q9_0", 9));
    assert_false(lesson_figure_exists("rmse a b c", 10));
    char why[200];
    assert_false(lesson_figures_check_model("x {rmse blk.7.attn_q q4_0} y", sess->model, why, sizeof why));
    assert_non_null(strstr(why, "no tensor 'blk.7.attn_q'"));
    assert_true(lesson_figures_check_model("{rmse output q4_0} {bits q4_1}", sess->model, why, sizeof why));
    /* the format menu's per-tensor INT4 (app.c: format_teach(4, GRAN_TENSOR, 0, false)) is "int4-tensor" */
    Format menu = format_teach(4, GRAN_TENSOR, 0, false), named;
    Error ferr;
    assert_int_equal(format_parse("int4-tensor", &named, &ferr), ST_OK);
    assert_true(format_equal(menu, named));
    assert_int_equal(format_parse("int4-b32", &named, &ferr), ST_OK);
    assert_true(format_equal(format_teach(4, GRAN_BLOCK, 32, false), named));
    /* no session: every figure waits */
    assert_int_equal(lesson_figure(NULL, "model.weights", out, sizeof out, NULL, NULL), FIGURE_NOT_MEASURED);
    assert_int_equal(lesson_figure(sess, "no.such", out, sizeof out, NULL, NULL), FIGURE_UNKNOWN);
    /* marks around each value, for the screen's colour */
    lesson_render(sess, "a {model.blocks} b", true, out, sizeof out);
    assert_string_equal(out, "a \x02" "5\x03 b");
    /* every figure in the table renders without a session problem */
    for (int i = 0; i < lesson_figure_count(); i++) {
        FigureInfo f = lesson_figure_info(i);
        if (strchr(f.name, ' ')) continue; /* "rmse TENSOR FORMAT": a usage, tested above */
        assert_true(lesson_figure_exists(f.name, strlen(f.name)));
        assert_int_not_equal(lesson_figure(sess, f.name, out, sizeof out, NULL, NULL), FIGURE_UNKNOWN);
        assert_true(strlen(out) > 0);
    }
}

/* ------------------------------------------------------------- checks */


static void test_lesson_checks_hold_and_perform(void **state) {
    (void)state;
    LessonAct act;
    lesson_act_clear(&act);
    /* a plan change */
    LessonCheck c = check("format blk.0.attn_q int4");
    assert_false(lesson_check_holds(sess, &c));
    lesson_check_perform(sess, &c, &act);
    assert_true(lesson_check_holds(sess, &c));
    assert_true(format_equal(sess->plan.fmt[tensor("blk.0.attn_q.weight")], FORMAT_INT4));
    assert_non_null(strstr(act.note, "blk.0.attn_q is now INT4"));
    /* a block, and everything */
    c = check("format blk.1 int8");
    assert_false(lesson_check_holds(sess, &c));
    assert_true(session_set_format_layer(sess, 1, FORMAT_INT8));
    assert_true(lesson_check_holds(sess, &c));
    assert_true(session_set_format(sess, tensor("blk.1.ffn_up.weight"), FORMAT_FP16));
    assert_false(lesson_check_holds(sess, &c));
    c = check("mixed");
    assert_true(lesson_check_holds(sess, &c));
    c = check("format all q8_0");
    lesson_act_clear(&act);
    lesson_check_perform(sess, &c, &act);
    assert_true(lesson_check_holds(sess, &c));
    c = check("preset int8");
    assert_true(lesson_check_holds(sess, &c)); /* all Q8_0 is the preset */
    LessonCheck mixed = check("mixed");
    assert_false(lesson_check_holds(sess, &mixed));
    /* sizes: all INT8 is 319,968 bytes, not below 300 kB; perform goes to INT4 */
    c = check("smaller-than 300 kB");
    assert_true(c.number == 300000);
    assert_false(lesson_check_holds(sess, &c));
    c = check("smaller-than 320kB");
    assert_true(lesson_check_holds(sess, &c));
    c = check("smaller-than 300kB");
    lesson_act_clear(&act);
    lesson_check_perform(sess, &c, &act);
    assert_true(lesson_check_holds(sess, &c));
    LessonCheck p4 = check("preset int4");
    assert_true(lesson_check_holds(sess, &p4));
    c = check("bits-below 6");
    assert_true(lesson_check_holds(sess, &c));
    c = check("shrunk");
    assert_true(lesson_check_holds(sess, &c));

    /* what the interface shows */
    c = check("screen layers");
    assert_false(lesson_check_holds(sess, &c));
    snprintf(sess->ui_screen, sizeof sess->ui_screen, "layers");
    assert_true(lesson_check_holds(sess, &c));
    c = check("histogram output");
    assert_false(lesson_check_holds(sess, &c));
    lesson_act_clear(&act);
    lesson_check_perform(sess, &c, &act);
    assert_string_equal(act.screen, "histogram");
    assert_int_equal(act.tensor, tensor("output.weight"));
    snprintf(sess->ui_screen, sizeof sess->ui_screen, "histogram");
    sess->ui_tensor = act.tensor;
    assert_true(lesson_check_holds(sess, &c));
    c = check("select blk.2.ffn_down");
    assert_false(lesson_check_holds(sess, &c));
    sess->ui_tensor = tensor("blk.2.ffn_down.weight");
    assert_true(lesson_check_holds(sess, &c));

    /* measurements, for the current plan only */
    c = check("measured quality");
    assert_false(lesson_check_holds(sess, &c));
    lesson_act_clear(&act);
    lesson_check_perform(sess, &c, &act);
    assert_string_equal(act.measure, "quality");
    sess->quality.valid = true;
    sess->quality.plan_hash = session_plan_hash(&sess->plan);
    sess->quality.r.kl_mean = 0.02;
    sess->quality.r.top1_agree = 0.93;
    assert_true(lesson_check_holds(sess, &c));
    LessonCheck kl = check("kl-below 0.05"), kl2 = check("kl-below 0.01");
    LessonCheck top = check("top1-above 90%"), top2 = check("top1-above 95");
    assert_true(lesson_check_holds(sess, &kl));
    assert_false(lesson_check_holds(sess, &kl2));
    assert_true(lesson_check_holds(sess, &top));
    assert_false(lesson_check_holds(sess, &top2));
    assert_true(session_set_format(sess, tensor("output.weight"), FORMAT_INT8));
    assert_false(lesson_check_holds(sess, &c)); /* stale */
    assert_false(lesson_check_holds(sess, &kl));
    c = check("differs");
    assert_false(lesson_check_holds(sess, &c));
    sess->compare.valid = true;
    sess->compare.plan_hash = session_plan_hash(&sess->plan);
    sess->compare.first_diff = 12;
    assert_true(lesson_check_holds(sess, &c));
    sess->compare.first_diff = -1;
    assert_false(lesson_check_holds(sess, &c));

    /* the most sensitive tensor, from a scan */
    c = check("most-sensitive");
    assert_false(lesson_check_holds(sess, &c));
    SensitivityItem items[2] = {{.tensor = tensor("output.weight"), .layer = -1, .name = "output.weight"},
                                {.tensor = tensor("blk.3.attn_k.weight"), .layer = -1, .name = "blk.3.attn_k.weight"}};
    sess->sens.items = items;
    sess->sens.n = 2;
    sess->sens.valid = true;
    sess->ui_tensor = tensor("blk.3.attn_k.weight");
    assert_false(lesson_check_holds(sess, &c));
    lesson_act_clear(&act);
    lesson_check_perform(sess, &c, &act);
    assert_int_equal(act.tensor, tensor("output.weight"));
    sess->ui_tensor = act.tensor;
    assert_true(lesson_check_holds(sess, &c));
    sess->sens.items = NULL;
    sess->sens.n = 0;
    sess->sens.valid = false;

    /* every check in the table parses from its own usage line's name: its
     * usage starts with the name; the name alone is that check when it takes no
     * arguments, and otherwise is refused with the usage line */
    for (int i = 0; i < lesson_check_count(); i++) {
        const CheckInfo info = lesson_check_info(i);
        assert_non_null(info.help);
        const size_t len = strlen(info.name);
        assert_true(strncmp(info.usage, info.name, len) == 0 && (info.usage[len] == ' ' || info.usage[len] == '\0'));
        LessonCheck named;
        Error err = {0};
        if (info.args[0] == ARG_NONE) {
            assert_int_equal(lesson_check_parse(&named, info.name, &err), ST_OK);
            assert_int_equal(named.kind, i);
        } else {
            assert_int_equal(lesson_check_parse(&named, info.name, &err), ST_FORMAT);
            assert_non_null(strstr(err.msg, info.usage));
        }
    }
}

/* Outliers, GPTQ and pruning: the checks and figures the issue-5 lessons use.
 * The largest |w| of blk.0.ffn_down is found here by a plain scan of the
 * model's floats; the sparse size is worked by hand below. */
static void test_lesson_beyond_rounding_checks_and_figures(void **state) {
    (void)state;
    char out[512];
    LessonAct act;
    int down = tensor("blk.0.ffn_down.weight");
    const ModelTensor *t = &sess->model->tensors[down];
    float *orig = malloc((size_t)t->n_elements * sizeof *orig);
    assert_non_null(orig);
    memcpy(orig, t->f32, (size_t)t->n_elements * sizeof *orig);
    int64_t big = 0;
    for (int64_t k = 1; k < t->n_elements; k++)
        if (fabsf(orig[k]) > fabsf(orig[big])) big = k;

    double zeroed_before, zeroed_after, v;
    assert_int_equal(lesson_figure(sess, "zeroed blk.0.ffn_down int4-tensor", out, sizeof out, &zeroed_before, NULL),
                     FIGURE_OK);
    assert_int_equal(lesson_figure(sess, "outlier.tensor", out, sizeof out, NULL, NULL), FIGURE_NOT_MEASURED);

    /* outlier-injected: performing it multiplies the largest weight by 10 */
    LessonCheck inj = check("outlier-injected blk.0.ffn_down");
    LessonCheck other = check("outlier-injected blk.0.attn_q");
    LessonCheck restored = check("restored");
    assert_false(lesson_check_holds(sess, &inj));
    assert_true(lesson_check_holds(sess, &restored));
    lesson_act_clear(&act);
    lesson_check_perform(sess, &inj, &act);
    assert_true(lesson_check_holds(sess, &inj));
    assert_false(lesson_check_holds(sess, &other));
    assert_false(lesson_check_holds(sess, &restored));
    assert_int_equal(act.tensor, down);
    assert_non_null(strstr(act.note, "10 times bigger"));
    assert_true(t->f32[big] == orig[big] * 10.0f);
    render("{outlier.tensor}", out, sizeof out);
    assert_string_equal(out, "blk.0.ffn_down");
    double before, after;
    assert_int_equal(lesson_figure(sess, "outlier.before", out, sizeof out, &before, NULL), FIGURE_OK);
    assert_int_equal(lesson_figure(sess, "outlier.after", out, sizeof out, &after, NULL), FIGURE_OK);
    assert_true(fabs(before - orig[big]) <= 1e-3 * fabs(orig[big])); /* 4 significant digits */
    assert_true(fabs(after - 10.0 * orig[big]) <= 1e-3 * fabs(10.0 * orig[big]));
    assert_int_equal(lesson_figure(sess, "outlier.std", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v > 10); /* one weight ten times the largest: far out */
    /* one scale for the tensor: almost everything rounds to 0 now */
    assert_int_equal(lesson_figure(sess, "zeroed blk.0.ffn_down int4-tensor", out, sizeof out, &zeroed_after, NULL),
                     FIGURE_OK);
    assert_true(zeroed_after > 90.0 && zeroed_after > zeroed_before);

    /* restored: performing it puts every weight back, bit for bit */
    lesson_act_clear(&act);
    lesson_check_perform(sess, &restored, &act);
    assert_true(lesson_check_holds(sess, &restored));
    assert_false(lesson_check_holds(sess, &inj));
    assert_memory_equal(t->f32, orig, (size_t)t->n_elements * sizeof *orig);
    assert_int_equal(lesson_figure(sess, "zeroed blk.0.ffn_down int4-tensor", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == zeroed_before);
    free(orig);

    /* a check on a +gptq format waits for the calibration */
    LessonCheck g = check("lower-error blk.0.ffn_down q4_0+gptq q4_0");
    LessonCheck plain = check("lower-error blk.0.ffn_down int4-b32 int4-tensor");
    assert_string_equal(lesson_check_needs(&g), "calibration");
    assert_null(lesson_check_needs(&plain));
    assert_false(lesson_measured(sess, "calibration"));
    assert_false(lesson_check_decidable(sess, &g));
    assert_int_equal(lesson_figure(sess, "rmse blk.0.ffn_down q4_0+gptq", out, sizeof out, NULL, NULL),
                     FIGURE_NOT_MEASURED);
    LessonCheck all = check("format all q4_0+gptq");
    assert_false(lesson_check_holds(sess, &all));
    LessonCheck m = check("measured methods");
    assert_false(lesson_check_holds(sess, &m));

    /* RTN vs GPTQ figures: for the plan they were measured for, and only then */
    assert_int_equal(lesson_figure(sess, "methods.kl_gptq", out, sizeof out, NULL, NULL), FIGURE_NOT_MEASURED);
    sess->methods.valid = true;
    sess->methods.plan_hash = session_plan_hash(&sess->plan);
    sess->methods.rtn.kl_mean = 0.12744;
    sess->methods.gptq.kl_mean = 0.08266;
    sess->methods.rtn.top1_agree = 0.8207;
    sess->methods.gptq.top1_agree = 0.8563;
    sess->methods.rmse_rtn = 0.016254;
    sess->methods.rmse_gptq = 0.018131;
    assert_true(lesson_check_holds(sess, &m));
    render("{methods.kl_rtn} {methods.kl_gptq} {methods.top1_rtn} {methods.top1_gptq} {methods.rmse_rtn} "
           "{methods.rmse_gptq}", out, sizeof out);
    assert_string_equal(out, "0.1274 0.0827 82.1% 85.6% 0.0163 0.0181");
    assert_true(session_set_format_all(sess, FORMAT_INT8));
    assert_false(lesson_check_holds(sess, &m));
    assert_int_equal(lesson_figure(sess, "methods.kl_rtn", out, sizeof out, NULL, NULL), FIGURE_NOT_MEASURED);
    memset(&sess->methods, 0, sizeof sess->methods);

    /* pruning: zeros are stored densely; a 2:4 sparse encoding of blk.0.ffn_down
     * (64 rows of 172) keeps 2 of every 4: 64 x 86 = 5,504 values at Q4_0's bits
     * per weight on rows of 172 (6 blocks x 18 bytes = 864 bits a row, so
     * 5,504 / 172 = 32 rows' worth: 27,648 bits) plus 2 index bits each (11,008):
     * 38,656 bits = 4,832 bytes, against 64 x 6 x 18 = 6,912 dense. */
    assert_int_equal(lesson_figure(sess, "sparse blk.0.ffn_down q4_0+2:4", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == 4832.0);
    assert_int_equal(lesson_figure(sess, "bytes blk.0.ffn_down q4_0+2:4", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == 6912.0);
    assert_int_equal(lesson_figure(sess, "zeroed blk.0.ffn_down f32+prune50", out, sizeof out, &v, NULL), FIGURE_OK);
    assert_true(v == 50.0); /* 5,504 of 11,008 */
}

/* ------------------------------------------------------------- the run */

static const char *const RUN_LESSON = HEADER
    "## read: One\n"
    "Hello.\n"
    "## do: Two\n"
    "Make blk.0.attn_q INT4.\n"
    "check: format blk.0.attn_q int4\n"
    "hint: Press Space three times.\n"
    "hint-after: 45s 2 moves\n"
    "done: Now {tensor.bytes}.\n"
    "## predict: Three\n"
    "Smaller?\n"
    "- [x] Yes\n"
    "  why: Fewer bits.\n"
    "- [ ] No\n"
    "  why: Fewer bits make it smaller.\n"
    "reveal: INT4 everywhere: {int4.bytes}.\n"
    "## quiz: Four\n"
    "Which is 1 byte?\n"
    "- [ ] FP32\n"
    "  why: That is 4 bytes.\n"
    "- [x] INT8\n"
    "  why: 8 bits.\n"
    "- [ ] FP16\n"
    "  why: That is 2 bytes.\n"
    "hint: Count the bits.\n"
    "## quiz: Five\n"
    "GB at INT8 for 7 billion weights?\n"
    "answer: 7\n"
    "tolerance: 0.5\n"
    "unit: GB\n"
    "too-low: Too few.\n"
    "too-high: Too many.\n"
    "explain: 7 billion x 1 byte.\n";

static void test_lesson_run_every_step_type(void **state) {
    (void)state;
    Lesson *l = parse_ok(RUN_LESSON);
    LessonRun r;
    char fb[2048];
    double t = 1000;
    lesson_run_start(&r, l, 0, NULL, t);
    assert_string_equal(r.marks, ".....");
    /* read: next at once */
    assert_true(lesson_run_can_continue(&r));
    assert_int_equal(lesson_run_next(&r, t) & RUN_EV_CHANGED, RUN_EV_CHANGED);
    assert_int_equal(r.step, 1);
    assert_int_equal(r.marks[0], MARK_DONE);

    /* do: not until the session says so */
    assert_false(lesson_run_can_continue(&r));
    assert_int_equal(lesson_run_next(&r, t), 0);
    assert_int_equal(lesson_run_tick(&r, sess, t + 1), 0);
    sess->ui_tensor = tensor("blk.0.attn_q.weight");
    assert_true(session_set_format(sess, sess->ui_tensor, FORMAT_INT4));
    assert_true(lesson_run_tick(&r, sess, t + 2) & RUN_EV_DONE);
    assert_int_equal(r.phase, RUN_COMPLETE);
    assert_int_equal(r.marks[1], MARK_DONE);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Done!\n\nNow 2.30 kB."); /* 64 rows x 2 blocks x 18 bytes */
    lesson_run_next(&r, t + 3);

    /* predict: one answer, right or wrong, then the reveal with its live figure */
    assert_int_equal(r.step, 2);
    assert_false(lesson_run_can_continue(&r));
    int ev = lesson_run_choose(&r, sess, 1, t + 4);
    assert_true(ev & RUN_EV_WRONG);
    assert_int_equal(r.phase, RUN_ANSWERED);
    assert_int_equal(r.marks[2], MARK_WRONG);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Fewer bits make it smaller."));
    /* all INT4 by hand: 512 x 2 x 18 = 18,432 twice; per block 64x2x18 = 2,304
     * (q, out), 32x2x18 = 1,152 (k, v), 172x2x18 = 6,192 (gate, up), 64x6x18 =
     * 6,912 (down): 26,208, x5 = 131,040; + 2,816 of norms = 170,720 */
    assert_non_null(strstr(fb, "INT4 everywhere: 171 kB."));
    assert_int_equal(lesson_run_choose(&r, sess, 0, t + 5), 0); /* a prediction is made once */
    lesson_run_next(&r, t + 6);

    /* quiz with choices: a wrong answer explains and lets the learner try again */
    ev = lesson_run_choose(&r, sess, 0, t + 7);
    assert_true(ev & RUN_EV_WRONG);
    assert_int_equal(r.phase, RUN_TRY_AGAIN);
    assert_false(lesson_run_can_continue(&r));
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Not quite. Try again.\n\nThat is 4 bytes.");
    assert_int_equal(lesson_run_choose(&r, sess, 0, t + 8), 0); /* the same wrong one again: nothing */
    assert_int_equal(r.tries, 1);
    ev = lesson_run_choose(&r, sess, 1, t + 9);
    assert_true(ev & RUN_EV_RIGHT);
    assert_int_equal(r.phase, RUN_ANSWERED);
    assert_int_equal(r.marks[3], MARK_WRONG); /* right, but not at the first try */
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Right!\n\n8 bits.");
    lesson_run_next(&r, t + 10);

    /* quiz with a number and a tolerance */
    assert_int_equal(lesson_run_choose(&r, sess, 0, t), 0); /* no choices here */
    ev = lesson_run_answer(&r, sess, 7.6, t + 11);
    assert_true(ev & RUN_EV_WRONG);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Not quite. Try again.\n\nYou said 7.6 GB.\n\nToo many.");
    ev = lesson_run_answer(&r, sess, 2, t + 12);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Too few."));
    ev = lesson_run_answer(&r, sess, 7.5, t + 13); /* the edge of the tolerance is right */
    assert_true(ev & RUN_EV_RIGHT);
    assert_int_equal(r.marks[4], MARK_WRONG);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Right!\n\n7 billion x 1 byte.");
    assert_true(lesson_run_next(&r, t + 14) & RUN_EV_FINISHED);
    assert_int_equal(r.phase, RUN_FINISHED);
    int right, questions, skipped;
    lesson_run_score(&r, &right, &questions, &skipped);
    assert_int_equal(right, 0);
    assert_int_equal(questions, 3);
    assert_int_equal(skipped, 0);
    /* back from the end, to look again */
    assert_true(lesson_run_back(&r, t + 15) & RUN_EV_CHANGED);
    assert_int_equal(r.step, 4);
    assert_int_equal(r.phase, RUN_ASKING);
    assert_string_equal(r.marks, "ddwww"); /* marks stay */
    lesson_delete(l);
}

static void test_lesson_run_right_first_time_and_quiz_gives_up(void **state) {
    (void)state;
    Lesson *l = parse_ok(RUN_LESSON);
    LessonRun r;
    char fb[2048];
    lesson_run_start(&r, l, 3, "dd", 0);
    assert_int_equal(r.step, 3);
    assert_string_equal(r.marks, "dd...");
    assert_true(lesson_run_choose(&r, sess, 1, 1) & RUN_EV_RIGHT);
    assert_int_equal(r.marks[3], MARK_RIGHT);
    lesson_run_next(&r, 2);
    /* three wrong numbers: the answer is shown, the learner is not stuck */
    lesson_run_answer(&r, sess, 1, 3);
    lesson_run_answer(&r, sess, 100, 4);
    assert_int_equal(r.phase, RUN_TRY_AGAIN);
    lesson_run_answer(&r, sess, 28, 5);
    assert_int_equal(r.phase, RUN_ANSWERED);
    assert_true(lesson_run_can_continue(&r));
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Not quite."));
    assert_non_null(strstr(fb, "The answer: 7 GB."));
    lesson_delete(l);
}

static void test_lesson_hints_after_time_or_moves(void **state) {
    (void)state;
    Lesson *l = parse_ok(RUN_LESSON);
    LessonRun r;
    char fb[2048];
    /* by time: 45 s on the step */
    lesson_run_start(&r, l, 1, NULL, 100);
    assert_int_equal(lesson_run_tick(&r, sess, 144.9), 0);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "");
    assert_true(lesson_run_tick(&r, sess, 145) & RUN_EV_HINT);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_string_equal(fb, "Hint: Press Space three times.");
    assert_int_equal(lesson_run_tick(&r, sess, 146) & RUN_EV_HINT, 0); /* once */

    /* by moves: two plan changes that do not do it */
    lesson_run_start(&r, l, 1, NULL, 100);
    lesson_run_tick(&r, sess, 100);
    assert_true(session_set_format(sess, tensor("blk.0.attn_q.weight"), FORMAT_FP16));
    assert_int_equal(lesson_run_tick(&r, sess, 101) & RUN_EV_HINT, 0);
    assert_int_equal(r.moves, 1);
    lesson_run_tick(&r, sess, 102); /* no change: not a move */
    assert_int_equal(r.moves, 1);
    assert_true(session_set_format(sess, tensor("blk.0.attn_q.weight"), FORMAT_INT8));
    assert_true(lesson_run_tick(&r, sess, 103) & RUN_EV_HINT);
    assert_int_equal(r.moves, 2);
    /* the learner may ask before the time */
    lesson_run_start(&r, l, 1, NULL, 100);
    assert_true(lesson_run_hint(&r) & RUN_EV_HINT);
    assert_int_equal(lesson_run_hint(&r), 0);
    /* a quiz: wrong answers count as moves (none here: 45 s) */
    lesson_run_start(&r, l, 3, NULL, 100);
    lesson_run_choose(&r, sess, 0, 101);
    assert_int_equal(lesson_run_tick(&r, sess, 102) & RUN_EV_HINT, 0);
    assert_true(lesson_run_tick(&r, sess, 145) & RUN_EV_HINT);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Hint: Count the bits."));
    /* a read step has no hint */
    lesson_run_start(&r, l, 0, NULL, 100);
    assert_int_equal(lesson_run_tick(&r, sess, 1000), 0);
    assert_int_equal(lesson_run_hint(&r), 0);
    lesson_delete(l);
}

static void test_lesson_skip_does_it_or_shows_the_answer(void **state) {
    (void)state;
    Lesson *l = parse_ok(RUN_LESSON);
    LessonRun r;
    LessonAct act;
    char fb[2048];
    lesson_run_start(&r, l, 0, NULL, 0);
    lesson_run_skip(&r, sess, &act, 1); /* a read step: on to the next */
    assert_int_equal(r.step, 1);
    assert_int_equal(r.marks[0], MARK_SKIPPED);
    /* a do step: quantlab does it for the learner */
    int q = tensor("blk.0.attn_q.weight");
    assert_false(format_equal(sess->plan.fmt[q], FORMAT_INT4));
    lesson_run_skip(&r, sess, &act, 2);
    assert_true(format_equal(sess->plan.fmt[q], FORMAT_INT4));
    assert_int_equal(r.phase, RUN_COMPLETE);
    assert_int_equal(r.marks[1], MARK_SKIPPED);
    assert_non_null(strstr(act.note, "blk.0.attn_q is now INT4"));
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Skipped: quantlab did it for you."));
    lesson_run_next(&r, 3);
    /* a question: its answer */
    lesson_run_next(&r, 3); /* not answered: no */
    assert_int_equal(r.step, 2);
    lesson_run_skip(&r, sess, &act, 4);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "Skipped."));
    assert_non_null(strstr(fb, "INT4 everywhere: 171 kB.")); /* the reveal */
    lesson_run_skip(&r, sess, &act, 5); /* skip again = next */
    assert_int_equal(r.step, 3);
    lesson_run_skip(&r, sess, &act, 6);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "The answer: b) INT8"));
    int right, questions, skipped;
    lesson_run_score(&r, &right, &questions, &skipped);
    assert_int_equal(skipped, 4);
    assert_int_equal(questions, 0);
    /* going back and answering for real replaces the skip */
    lesson_run_back(&r, 7);
    assert_int_equal(r.step, 2);
    assert_true(lesson_run_choose(&r, sess, 0, 8) & RUN_EV_RIGHT);
    assert_int_equal(r.marks[2], MARK_RIGHT);
    lesson_delete(l);
}

/* A prediction graded by what the app measures: "[when differs]" is right when
 * the stories differ, "[unless differs]" when they do not. */
static void test_lesson_predict_graded_by_measurement(void **state) {
    (void)state;
    Lesson *l = parse_ok(HEADER "## predict: Same story?\nWill the story change?\n"
                                "- [when differs] Yes, somewhere\n- [unless differs] No, not a word\n- [ ] It stops\n"
                                "reveal: First difference: {compare.first_diff}.\nmeasure: compare\n");
    LessonRun r;
    char fb[1024];
    assert_int_equal(l->steps[0].choices[0].cond, 1);
    assert_int_equal(l->steps[0].choices[1].cond, -1);
    lesson_run_start(&r, l, 0, NULL, 0);
    assert_int_equal(lesson_run_right_choice(&r, sess), -1); /* nothing measured: cannot tell */
    assert_true(lesson_run_choose(&r, sess, 1, 1) & RUN_EV_WAITING);
    assert_int_equal(r.phase, RUN_ASKING);
    assert_int_equal(lesson_run_tick(&r, sess, 2) & (RUN_EV_RIGHT | RUN_EV_WRONG), 0);
    /* the measurement comes in: the stories differ at token 9 */
    sess->compare.valid = true;
    sess->compare.plan_hash = session_plan_hash(&sess->plan);
    sess->compare.first_diff = 9;
    sess->compare.fp32.n = sess->compare.plan.n = 20;
    assert_true(lesson_run_tick(&r, sess, 3) & RUN_EV_WRONG);
    assert_int_equal(r.phase, RUN_ANSWERED);
    assert_int_equal(r.right_choice, 0);
    assert_int_equal(r.marks[0], MARK_WRONG);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "First difference: 9."));
    /* the same question when the stories agree */
    sess->compare.first_diff = -1;
    lesson_run_start(&r, l, 0, NULL, 0);
    assert_int_equal(lesson_run_right_choice(&r, sess), 1);
    assert_true(lesson_run_choose(&r, sess, 1, 1) & RUN_EV_RIGHT);
    assert_int_equal(r.marks[0], MARK_RIGHT);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "First difference: no difference in 19 tokens."));
    /* stale after a plan change: the right choice is graded, not re-read */
    assert_true(session_set_format_all(sess, FORMAT_INT8));
    assert_int_equal(lesson_run_right_choice(&r, sess), 1);
    lesson_delete(l);
}

/* A lesson resumed after a restart finds the plan as its earlier steps left it. */
static void test_lesson_replay_on_resume(void **state) {
    (void)state;
    Lesson *l = parse_ok(HEADER "## do: a\nDo.\ncheck: format blk.2 int4\ncheck: screen layers\nhint: h\n"
                                "## do: b\nDo.\ncheck: preset int8\nhint: h\n"
                                "## do: c\nDo.\ncheck: format output f16\nhint: h\n");
    lesson_run_replay(l, 2, sess); /* steps a and b, not c */
    LessonCheck p8 = check("preset int8");
    assert_true(lesson_check_holds(sess, &p8)); /* b came after a */
    assert_string_equal(sess->ui_screen, ""); /* screens are not replayed */
    lesson_run_replay(l, 1, sess);
    LessonCheck b2 = check("format blk.2 int4");
    assert_true(lesson_check_holds(sess, &b2));
    LessonCheck out = check("format output f16");
    assert_false(lesson_check_holds(sess, &out));
    lesson_delete(l);
}

static void test_lesson_answers_typed(void **state) {
    (void)state;
    double v;
    assert_true(lesson_parse_answer("7", &v) && v == 7);
    assert_true(lesson_parse_answer(" 3.5 ", &v) && v == 3.5);
    assert_true(lesson_parse_answer("3,5", &v) && v == 3.5);
    assert_true(lesson_parse_answer("1,000", &v) && v == 1000);
    assert_true(lesson_parse_answer("1,000,000", &v) && v == 1000000);
    assert_true(lesson_parse_answer("28 GB", &v) && v == 28);
    assert_true(lesson_parse_answer("95%", &v) && v == 95);
    assert_true(lesson_parse_answer("-2", &v) && v == -2);
    assert_false(lesson_parse_answer("seven", &v));
    assert_false(lesson_parse_answer("", &v));
    assert_false(lesson_parse_answer("1.2.3", &v));
    assert_false(lesson_parse_answer("7/2", &v));

    /* a relative tolerance, and an answer that is a live figure in the question's unit */
    Lesson *l = parse_ok(HEADER "## quiz: q\nPercent?\nanswer: 50\ntolerance: 10%\nwrong: w\n"
                                "## quiz: q\nkB at INT8?\nanswer: {int8.bytes}\nunit: kB\ntolerance: 1\nwrong: w\n"
                                "## quiz: q\nKL?\nanswer: {quality.kl}\nwrong: w\n");
    assert_int_equal(lesson_grade_number(&l->steps[0], sess, 54.9, NULL), 1);
    assert_int_equal(lesson_grade_number(&l->steps[0], sess, 45.1, NULL), 1);
    bool low = false;
    assert_int_equal(lesson_grade_number(&l->steps[0], sess, 44, &low), 0);
    assert_true(low);
    assert_int_equal(lesson_grade_number(&l->steps[1], sess, 320, NULL), 1); /* 319.968 kB */
    assert_int_equal(lesson_grade_number(&l->steps[1], sess, 1170, &low), 0);
    assert_false(low);
    /* not measured: the answer waits, and the tick that finds the figure grades it */
    assert_int_equal(lesson_grade_number(&l->steps[2], sess, 0.01, NULL), -1);
    LessonRun r;
    char fb[1024];
    lesson_run_start(&r, l, 2, NULL, 0);
    assert_true(lesson_run_answer(&r, sess, 0.0123, 1) & RUN_EV_WAITING);
    assert_int_equal(r.tries, 0);
    assert_int_equal(r.marks[2], MARK_NONE);
    lesson_run_feedback(&r, sess, false, fb, sizeof fb);
    assert_non_null(strstr(fb, "quantlab is measuring"));
    assert_int_equal(lesson_run_tick(&r, sess, 2) & RUN_EV_RIGHT, 0);
    sess->quality.valid = true;
    sess->quality.plan_hash = session_plan_hash(&sess->plan);
    sess->quality.r.kl_mean = 0.0123;
    assert_true(lesson_run_tick(&r, sess, 3) & RUN_EV_RIGHT);
    assert_int_equal(r.marks[2], MARK_RIGHT);
    lesson_delete(l);
}

/* ------------------------------------------------------------- layout */

static void test_lesson_wrap(void **state) {
    (void)state;
    WrapLine ln[16];
    int n = lesson_wrap("one two three four\n\n\tpicture line that is long\nfive", 10, ln, 16);
    assert_int_equal(n, 5);
    assert_int_equal(ln[0].len, 7);
    assert_memory_equal(ln[0].start, "one two", 7);
    assert_memory_equal(ln[1].start, "three four", 10);
    assert_int_equal(ln[2].len, 0);                       /* the blank line */
    assert_true(ln[3].verbatim);
    assert_memory_equal(ln[3].start, "picture li", 10);   /* cut, never filled */
    assert_memory_equal(ln[4].start, "five", 4);
    /* marks take no room; a word longer than the line is cut */
    n = lesson_wrap("ab \x02" "1234\x03 cd", 7, ln, 16);
    assert_int_equal(n, 2);
    assert_int_equal(lesson_text_width(ln[0].start, ln[0].len), 7);
    n = lesson_wrap("abcdefghij", 4, ln, 16);
    assert_int_equal(n, 3);
    /* UTF-8: characters, not bytes */
    n = lesson_wrap("\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9", 3, ln, 16);
    assert_int_equal(n, 2);
    assert_int_equal(lesson_wrap("", 10, ln, 16), 0);
    /* more lines than room: the count says so */
    assert_int_equal(lesson_wrap("a b c d e f", 1, ln, 2), 6);
}

/* ------------------------------------------------------------- progress */

static void test_lesson_json(void **state) {
    (void)state;
    JsonValue *v;
    Error err = {0};
    const char *ok = " {\"a\": [1, -2.5e1, true, false, null], \"b\": \"\\u00e9\\ud83d\\ude00\\n\", \"c\": {}} ";
    assert_int_equal(json_parse(&v, ok, strlen(ok), "x", &err), ST_OK);
    const JsonValue *a = json_get(v, "a");
    assert_int_equal(a->type, JSON_ARRAY);
    assert_true(a->child->number == 1);
    assert_true(a->child->next->number == -25);
    assert_true(a->child->next->next->boolean);
    assert_false(a->child->next->next->next->boolean);
    assert_string_equal(json_get(v, "b")->string, "\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_null(json_get(v, "z"));
    json_free(v);
    static const char *const bad[] = {"", "{", "{\"a\" 1}", "[1,]", "\"abc", "{\"a\":1} x", "01", "\"\\u0000\"",
                                      "\"\\ud800\"", "nul", "1e999", "\"\xff\"", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (json_parse(&v, bad[i], strlen(bad[i]), "p.json", &err) == ST_OK) fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(err.msg, "p.json: not valid JSON (byte "));
    }
    JsonOut o = {0};
    json_out_string(&o, "a\"b\\c\n\x01");
    assert_string_equal(o.s, "\"a\\\"b\\\\c\\u000a\\u0001\"");
    json_out_free(&o);
}

static void test_lesson_progress_roundtrip(void **state) {
    (void)state;
    LessonProgress p, q;
    lesson_progress_init(&p);
    LessonRecord *r = lesson_progress_get(&p, "try-1-how-big", true);
    r->step = 4;
    snprintf(r->marks, sizeof r->marks, "ddrw.....");
    lesson_progress_get(&p, "picture-1", true)->done = true;
    snprintf(lesson_progress_get(&p, "picture-1", false)->marks, LESSON_MAX_STEPS, "dddd");
    snprintf(p.current, sizeof p.current, "try-1-how-big");
    char *text = lesson_progress_format(&p);
    Error err = {0};
    assert_int_equal(lesson_progress_parse(&q, text, strlen(text), "progress.json", &err), ST_OK);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.current, "try-1-how-big");
    r = lesson_progress_get(&q, "try-1-how-big", false);
    assert_int_equal(r->step, 4);
    assert_string_equal(r->marks, "ddrw.....");
    assert_false(r->done);
    assert_int_equal(lesson_progress_state(&q, "try-1-how-big"), LESSON_STARTED);
    assert_int_equal(lesson_progress_state(&q, "picture-1"), LESSON_DONE);
    assert_int_equal(lesson_progress_state(&q, "build-9"), LESSON_NEW);
    free(text);
    lesson_progress_free(&p);
    lesson_progress_free(&q);

    /* not ours, or not whole: refused with a reason */
    static const char *const bad[][2] = {
        {"{\"lessons\": {}}", "not a quantlab progress file"},
        {"{\"format\": \"something-else\", \"version\": 1, \"lessons\": {}}", "not a quantlab progress file"},
        {"{\"format\": \"quantlab-lesson-progress\", \"version\": 9, \"lessons\": {}}", "newer quantlab"},
        {"{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": []}", "\"lessons\" is not an object"},
        {"{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {\"a\": {\"step\": 1, \"marks\": \"dq\"}}}", "'a' is damaged"},
        {"{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {\"a\": {\"step\": -1, \"marks\": \"\"}}}", "'a' is damaged"},
        {"{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {\"a\": {\"step\": 1, \"marks\": \"\"}, \"a\": {\"step\": 1, \"marks\": \"\"}}}", "listed twice"},
        {"[1, 2", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lesson_progress_parse(&q, bad[i][0], strlen(bad[i][0]), "progress.json", &err) == ST_OK)
            fail_msg("accepted %s", bad[i][0]);
        if (!strstr(err.msg, bad[i][1])) fail_msg("'%s' for %s", err.msg, bad[i][0]);
        assert_int_equal(q.n, 0);
    }
}

static char *slurp(const char *path) {
    return proc_read_file(path, NULL);
}

static int count_files(const char *dir, const char *prefix) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '^%s' > '%s/count.txt'", dir, prefix, tmpdir);
    if (system(cmd) < 0) return -1;
    char *t = slurp(tmp("count.txt"));
    int n = t ? atoi(t) : -1;
    free(t);
    return n;
}

/* The old file survives a write that fails half-way. Root ignores permissions,
 * so the failure is injected with a file-size limit: writes past it fail with
 * EFBIG. */
static void test_lesson_progress_atomic_write(void **state) {
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/state/quantlab", tmpdir);
    char path[700];
    snprintf(path, sizeof path, "%s/progress.json", dir);
    LessonProgress p;
    lesson_progress_init(&p);
    snprintf(lesson_progress_get(&p, "one", true)->marks, LESSON_MAX_STEPS, "dd");
    Error err = {0};
    assert_int_equal(lesson_progress_save(&p, path, &err), ST_OK); /* creates the directories */
    char *before = slurp(path);
    assert_non_null(strstr(before, "\"one\""));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* a bigger file, written under a size limit smaller than it */
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "lesson-%d", i);
        lesson_progress_get(&p, id, true)->step = i;
    }
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    Status s = lesson_progress_save(&p, path, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(s, ST_IO);
    assert_non_null(strstr(err.msg, "any previous file is unchanged"));
    char *after = slurp(path);
    assert_string_equal(after, before);
    assert_int_equal(count_files(dir, "progress.json.tmp"), 0); /* no temporary left behind */
    free(after);
    /* and without the limit it goes through */
    assert_int_equal(lesson_progress_save(&p, path, &err), ST_OK);
    after = slurp(path);
    assert_non_null(strstr(after, "lesson-39"));
    free(after);
    free(before);

    /* a directory on the way that is a file: an error, no crash */
    FILE *fp = fopen(tmp("plainfile"), "w");
    assert_non_null(fp);
    fclose(fp);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/plainfile/quantlab/progress.json", tmpdir);
    assert_int_equal(lesson_progress_save(&p, bad, &err), ST_IO);
    assert_non_null(strstr(err.msg, "plainfile"));
    lesson_progress_free(&p);
}

static void test_lesson_progress_damaged_file_set_aside(void **state) {
    (void)state;
    static const char *const damaged[] = {
        "{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {\"a\": {\"st",  /* cut short */
        "{\"name\": \"someone else's settings\"}",                                              /* foreign */
        "\x89PNG\r\n\x1a\n",                                                                    /* not text */
    };
    char dir[600], path[700], note[600];
    snprintf(dir, sizeof dir, "%s/aside", tmpdir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/progress.json", dir);
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        fputs(damaged[i], fp);
        fclose(fp);
        LessonProgress p;
        Error err = {0};
        assert_int_equal(lesson_progress_load(&p, path, note, sizeof note, &err), ST_OK);
        assert_int_equal(p.n, 0); /* a fresh start */
        assert_non_null(strstr(note, "progress reset: damaged file kept as progress.json.bad-"));
        assert_non_null(strstr(note, "(progress.json: ")); /* and why */
        assert_false(file_exists(path));
        assert_int_equal(count_files(dir, "progress.json.bad-"), (int)i + 1); /* each kept, none overwritten */
        /* the next save makes a good file again */
        lesson_progress_get(&p, "a", true);
        assert_int_equal(lesson_progress_save(&p, path, &err), ST_OK);
        lesson_progress_free(&p);
        assert_int_equal(lesson_progress_load(&p, path, note, sizeof note, &err), ST_OK);
        assert_string_equal(note, "");
        assert_int_equal(p.n, 1);
        lesson_progress_free(&p);
        assert_int_equal(unlink(path), 0);
    }
    /* no file at all: a fresh start without a note */
    LessonProgress p;
    Error err = {0};
    assert_int_equal(lesson_progress_load(&p, path, note, sizeof note, &err), ST_OK);
    assert_string_equal(note, "");
    lesson_progress_free(&p);
}

/* Where the file goes: XDG_STATE_HOME when absolute, else ~/.local/state. */
static void test_lesson_progress_path(void **state) {
    (void)state;
    char path[600], *home = getenv("HOME"), *xdg = getenv("XDG_STATE_HOME");
    char saved_home[512] = "", saved_xdg[512] = "";
    if (home) snprintf(saved_home, sizeof saved_home, "%s", home);
    if (xdg) snprintf(saved_xdg, sizeof saved_xdg, "%s", xdg);
    Error err = {0};
    setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
    setenv("HOME", "/home/kid", 1);
    assert_int_equal(lesson_progress_path(path, sizeof path, &err), ST_OK);
    assert_string_equal(path, "/tmp/xdg/quantlab/progress.json");
    setenv("XDG_STATE_HOME", "relative/dir", 1); /* the spec says: ignore it */
    assert_int_equal(lesson_progress_path(path, sizeof path, &err), ST_OK);
    assert_string_equal(path, "/home/kid/.local/state/quantlab/progress.json");
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    assert_int_equal(lesson_progress_path(path, sizeof path, &err), ST_IO);
    if (saved_home[0]) setenv("HOME", saved_home, 1);
    if (saved_xdg[0]) setenv("XDG_STATE_HOME", saved_xdg, 1);
}

/* Save, "restart" (load again), and carry on where the learner was. */
static void test_lesson_resume_after_restart(void **state) {
    (void)state;
    Lesson *l = parse_ok(RUN_LESSON);
    LessonRun r;
    lesson_run_start(&r, l, 0, NULL, 0);
    lesson_run_next(&r, 1);
    lesson_run_skip(&r, sess, NULL, 2);
    lesson_run_next(&r, 3);
    lesson_run_choose(&r, sess, 0, 4);
    LessonProgress p;
    lesson_progress_init(&p);
    LessonRecord *rec = lesson_progress_get(&p, l->id, true);
    rec->step = r.step;
    snprintf(rec->marks, sizeof rec->marks, "%s", r.marks);
    snprintf(p.current, sizeof p.current, "%s", l->id);
    Error err = {0};
    const char *path = tmp("resume/progress.json");
    assert_int_equal(lesson_progress_save(&p, path, &err), ST_OK);
    lesson_progress_free(&p);

    char note[200];
    assert_int_equal(lesson_progress_load(&p, path, note, sizeof note, &err), ST_OK);
    assert_string_equal(p.current, "t");
    rec = lesson_progress_get(&p, "t", false);
    assert_non_null(rec);
    LessonRun again;
    lesson_run_start(&again, l, rec->step, rec->marks, 10);
    assert_int_equal(again.step, 2);
    assert_string_equal(again.marks, "dsr..");
    lesson_progress_free(&p);
    lesson_delete(l);
}

/* The bundled lessons read, and every tensor they name is in the model. */
static void test_lesson_bundled_lessons(void **state) {
    (void)state;
    LessonSet set;
    Error err = {0};
    Status st = lesson_set_load(&set, proc_data_path("lessons"), &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
    assert_true(set.n >= 1);
    for (int i = 0; i < set.n; i++) {
        if (lesson_check_model(set.lessons[i], sess->model, &err) != ST_OK) fail_msg("%s", err.msg);
        if (lesson_check_builds_on(set.lessons[i], &set, &err) != ST_OK) fail_msg("%s", err.msg);
        if (i > 0) assert_true(set.lessons[i - 1]->track <= set.lessons[i]->track);
    }
    assert_true(lesson_set_find(&set, set.lessons[0]->id) == 0);
    assert_int_equal(lesson_set_find(&set, "no-such-lesson"), -1);
    lesson_set_free(&set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lesson_parse_every_step_type, fresh),
        cmocka_unit_test_setup(test_lesson_parse_errors_name_file_and_line, fresh),
        cmocka_unit_test_setup(test_lesson_check_model_and_builds_on, fresh),
        cmocka_unit_test_setup(test_lesson_figures_live_and_not_measured, fresh),
        cmocka_unit_test_setup(test_lesson_checks_hold_and_perform, fresh),
        cmocka_unit_test_setup(test_lesson_beyond_rounding_checks_and_figures, fresh),
        cmocka_unit_test_setup(test_lesson_run_every_step_type, fresh),
        cmocka_unit_test_setup(test_lesson_run_right_first_time_and_quiz_gives_up, fresh),
        cmocka_unit_test_setup(test_lesson_hints_after_time_or_moves, fresh),
        cmocka_unit_test_setup(test_lesson_skip_does_it_or_shows_the_answer, fresh),
        cmocka_unit_test_setup(test_lesson_predict_graded_by_measurement, fresh),
        cmocka_unit_test_setup(test_lesson_replay_on_resume, fresh),
        cmocka_unit_test_setup(test_lesson_answers_typed, fresh),
        cmocka_unit_test(test_lesson_wrap),
        cmocka_unit_test(test_lesson_json),
        cmocka_unit_test(test_lesson_progress_roundtrip),
        cmocka_unit_test(test_lesson_progress_atomic_write),
        cmocka_unit_test(test_lesson_progress_damaged_file_set_aside),
        cmocka_unit_test(test_lesson_progress_path),
        cmocka_unit_test_setup(test_lesson_resume_after_restart, fresh),
        cmocka_unit_test_setup(test_lesson_bundled_lessons, fresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
