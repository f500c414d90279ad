/* test_layout.c — the text layouts of the Compare and Quality screens
 * (tui/layout.c): word wrap of token pieces with the first-difference marker,
 * the agreement count, and the text scatter plot of the frontier.
 *
 * Every expected line, cell and count below was worked out by hand from the
 * rules layout.h states (greedy wrap at spaces; log2 / log10 axes with
 * round-to-nearest cells; the Pareto frontier of smaller-is-better points), and
 * the bytes of split UTF-8 characters from RFC 3629 (U+00E9 = C3 A9).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/layout.h"

/* ------------------------------------------------------------ fixtures --- */

typedef struct Fixture {
    Story st;
    TextScatter ts;
    char line[256];
} Fixture;

static int setup(void **state) {
    *state = calloc(1, sizeof(Fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    Fixture *fx = *state;
    layout_story_free(&fx->st);
    layout_scatter_free(&fx->ts);
    free(fx);
    return 0;
}

/* Lays out NUL-terminated pieces. */
static void story(Fixture *fx, const char *const *pieces, int n, int mark, int width, bool utf8) {
    size_t lens[64];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++) lens[i] = strlen(pieces[i]);
    layout_story_free(&fx->st);
    Error err;
    assert_int_equal(layout_story(&fx->st, pieces, lens, n, mark, width, utf8, &err), ST_OK);
}

/* Line `y` of the laid-out story as text, trailing spaces trimmed. */
static const char *line(Fixture *fx, int y) {
    char cells[64][5];
    int w = 0;
    memset(cells, 0, sizeof cells);
    for (int i = 0; i < fx->st.n_chars; i++) {
        const StoryChar *c = &fx->st.chars[i];
        if (c->line != y || c->col < 0) continue;
        assert_true(c->col < 64);
        assert_string_equal(cells[c->col], ""); /* no two characters in one cell */
        strcpy(cells[c->col], c->text);
        if (c->col + 1 > w) w = c->col + 1;
    }
    fx->line[0] = '\0';
    for (int x = 0; x < w; x++) strcat(fx->line, cells[x][0] ? cells[x] : " ");
    size_t n = strlen(fx->line);
    while (n > 0 && fx->line[n - 1] == ' ') fx->line[--n] = '\0';
    return fx->line;
}

/* The token of the character drawn at (y, x), or -1. */
static int token_at(Fixture *fx, int y, int x) {
    for (int i = 0; i < fx->st.n_chars; i++)
        if (fx->st.chars[i].line == y && fx->st.chars[i].col == x) return fx->st.chars[i].token;
    return -1;
}

/* -------------------------------------------------------------- stories --- */

static const char *const ONCE[] = {"Once", " upon", " a", " time", ",", " there", " was"};

/* A column starts with BOS, which decodes to nothing: no character, no cell. */
static void test_layout_story_skips_empty_pieces(void **state) {
    Fixture *fx = *state;
    const char *const bos[] = {"", "Once", "", " upon"};
    story(fx, bos, 4, -1, 10, true);
    assert_int_equal(fx->st.n_chars, 9);
    assert_string_equal(line(fx, 0), "Once upon");
    assert_int_equal(token_at(fx, 0, 0), 1);
    assert_int_equal(token_at(fx, 0, 4), 3);
    story(fx, bos, 4, 0, 20, true); /* marked, an empty piece still shows */
    assert_string_equal(line(fx, 0), "[]Once upon");
}

/* "Once upon a time, there was" in 10 cells:
 *   "Once upon " fills the line (the space at column 9), "a" would make 11;
 *   "a time, " ends at column 8, "there" would end at 13;
 *   "there was". */
static void test_layout_story_wraps_at_spaces(void **state) {
    Fixture *fx = *state;
    story(fx, ONCE, 7, -1, 10, true);
    assert_int_equal(fx->st.n_lines, 3);
    assert_string_equal(line(fx, 0), "Once upon");
    assert_string_equal(line(fx, 1), "a time,");
    assert_string_equal(line(fx, 2), "there was");
    assert_int_equal(token_at(fx, 0, 0), 0);
    assert_int_equal(token_at(fx, 0, 4), 1); /* the space of " upon" */
    assert_int_equal(token_at(fx, 1, 2), 3); /* 't' of " time" */
    assert_int_equal(token_at(fx, 1, 6), 4); /* ',' */
    assert_int_equal(fx->st.n_chars, 27);   /* every byte, each one cell */
}

/* The marked token " there" becomes " [there]", 7 cells: after "a time, "
 * (column 8) it goes to line 2; "was" then needs 8 + 3 > 10: line 3. */
static void test_layout_story_brackets_the_marked_token(void **state) {
    Fixture *fx = *state;
    story(fx, ONCE, 7, 5, 10, true);
    assert_int_equal(fx->st.n_lines, 4);
    assert_string_equal(line(fx, 1), "a time,");
    assert_string_equal(line(fx, 2), "[there]");
    assert_string_equal(line(fx, 3), "was");
    for (int x = 0; x < 7; x++) assert_int_equal(token_at(fx, 2, x), 5); /* brackets too */
    assert_int_equal(token_at(fx, 1, 7), 5); /* its leading space, before the bracket */
    assert_int_equal(token_at(fx, 3, 0), 6);
}

/* A whitespace-only marked token says what it is; a marker past the last
 * token says the column ended. */
static void test_layout_story_marks_spaces_newlines_and_the_end(void **state) {
    Fixture *fx = *state;
    const char *const nl[] = {"Hi", "\n", "Bob"};
    story(fx, nl, 3, 1, 20, true);
    assert_int_equal(fx->st.n_lines, 2);
    assert_string_equal(line(fx, 0), "Hi[new line]");
    assert_string_equal(line(fx, 1), "Bob");
    assert_int_equal(token_at(fx, 0, 2), 1);

    const char *const sp[] = {"Hi", " ", "Bob"};
    story(fx, sp, 3, 1, 20, true);
    assert_string_equal(line(fx, 0), "Hi [space]Bob");

    const char *const two[] = {"The", " end"};
    story(fx, two, 2, 2, 20, true);
    assert_string_equal(line(fx, 0), "The end [end]");
    assert_int_equal(token_at(fx, 0, 8), 2); /* '[' of "[end]" belongs to no real token */
    assert_int_equal(token_at(fx, 0, 7), 2);
}

/* Newlines end lines (two make an empty one); a word longer than the line is
 * cut; a space just past the end of a line is the break and is not drawn. */
static void test_layout_story_newlines_long_words_and_breaks(void **state) {
    Fixture *fx = *state;
    const char *const a[] = {"a\n\nb"};
    story(fx, a, 1, -1, 10, true);
    assert_int_equal(fx->st.n_lines, 3);
    assert_string_equal(line(fx, 0), "a");
    assert_string_equal(line(fx, 1), "");
    assert_string_equal(line(fx, 2), "b");
    assert_int_equal(fx->st.chars[1].col, -1);

    const char *const longw[] = {"abcdefghijkl"};
    story(fx, longw, 1, -1, 5, true);
    assert_int_equal(fx->st.n_lines, 3);
    assert_string_equal(line(fx, 0), "abcde");
    assert_string_equal(line(fx, 1), "fghij");
    assert_string_equal(line(fx, 2), "kl");

    const char *const brk[] = {"aaaa", " bbbb"};
    story(fx, brk, 2, -1, 4, true);
    assert_int_equal(fx->st.n_lines, 2);
    assert_string_equal(line(fx, 0), "aaaa");
    assert_string_equal(line(fx, 1), "bbbb");
    assert_int_equal(fx->st.chars[4].col, -1); /* the space */
    assert_int_equal(fx->st.chars[4].token, 1);

    const char *const exact[] = {"ab", " cd", " e"}; /* "ab cd" fills 5 cells exactly */
    story(fx, exact, 3, -1, 5, true);
    assert_int_equal(fx->st.n_lines, 2);
    assert_string_equal(line(fx, 0), "ab cd");
    assert_string_equal(line(fx, 1), "e");

    story(fx, NULL, 0, -1, 4, true); /* nothing: no lines */
    assert_int_equal(fx->st.n_lines, 0);
    assert_int_equal(fx->st.n_chars, 0);
}

/* "café" with é written as two byte tokens C3 and A9 shows one character,
 * belonging to the token of its first byte; on LANG=C it is one '?'. A byte
 * that starts nothing is '?', a tab a space. */
static void test_layout_story_joins_split_utf8(void **state) {
    Fixture *fx = *state;
    const char *const cafe[] = {"caf", "\xC3", "\xA9", "!"};
    story(fx, cafe, 4, -1, 20, true);
    assert_int_equal(fx->st.n_chars, 5);
    assert_string_equal(line(fx, 0), "caf\xC3\xA9!");
    assert_int_equal(token_at(fx, 0, 3), 1);
    assert_int_equal(token_at(fx, 0, 4), 3);

    story(fx, cafe, 4, -1, 20, false);
    assert_int_equal(fx->st.n_chars, 5);
    assert_string_equal(line(fx, 0), "caf?!");

    const char *const bad[] = {"a\xFF", "\tb", "\xC3"}; /* the last: cut short */
    story(fx, bad, 3, -1, 20, true);
    assert_string_equal(line(fx, 0), "a? b?");
}

static void test_layout_story_refuses_no_width(void **state) {
    Fixture *fx = *state;
    Error err;
    size_t len = 1;
    const char *p = "a";
    assert_int_equal(layout_story(&fx->st, &p, &len, 1, -1, 0, true, &err), ST_USAGE);
    assert_null(fx->st.chars);
    assert_int_equal(fx->st.n_chars, 0);
}

/* ------------------------------------------------------------ agreement --- */

/* BOS + 4 prompt tokens; FP32 wrote 35 new tokens. */
static void test_layout_agreement_counts_new_tokens(void **state) {
    (void)state;
    int agree, written;
    double share = layout_agreement(5, 12, 40, 38, &agree, &written);
    assert_int_equal(agree, 7); /* tokens 5..11 */
    assert_int_equal(written, 35);
    assert_true(fabs(share - 0.2) < 1e-12);
    share = layout_agreement(5, -1, 40, 40, &agree, &written); /* identical */
    assert_int_equal(agree, 35);
    assert_true(share == 1.0);
    share = layout_agreement(5, 5, 40, 40, &agree, &written); /* the very first new token differs */
    assert_int_equal(agree, 0);
    assert_true(share == 0.0);
    share = layout_agreement(5, 20, 20, 30, &agree, &written); /* FP32 stopped first */
    assert_int_equal(agree, 15);
    assert_int_equal(written, 15);
    share = layout_agreement(5, -1, 5, 5, &agree, &written); /* nothing new */
    assert_int_equal(written, 0);
    assert_true(share == 1.0);
}

/* --------------------------------------------------------- text scatter --- */

static const char *row(Fixture *fx, int y) {
    memcpy(fx->line, fx->ts.glyph + y * fx->ts.w, (size_t)fx->ts.w);
    fx->line[fx->ts.w] = '\0';
    return fx->line;
}

/* Four plans, 20 x 6 cells. x: 4 .. 32 (3 octaves over columns 0..19),
 * col = round(log2(x / 4) / 3 * 19): 4.5 -> 1.08 -> 1, 8.5 -> 6.89 -> 7,
 * 16 -> 12.67 -> 13, 32 -> 19. y: FP32's 0 gets the zero row (5); the log axis
 * runs 0.001 (row 4) to 1 (row 0), row = 4 - round((log10 y + 3) / 3 * 4):
 * 0.002 -> 0.40 -> 4, 0.13 -> 2.82 -> 1, 0.2 -> 3.07 -> 1.
 * Frontier by x: INT4 (0.13), INT8 (0.002), FP32 (0); "bad" (16, 0.2) is beaten.
 * Lines: (1,1)->(7,4) over 6 steps: rows 1 + round(3s/6) = 2,2,3,3,4 at columns
 * 2..6; (7,4)->(19,5) over 12 steps: row 4 + round(s/12), 5 from s = 6 on.
 * Labels: "INT4" right of '@' at columns 3..6; "INT8" right of its '*' over
 * the line at 9..12; "FP32" has no room on the right, so left at 14..17; "bad"
 * right at 15..17. The line leaves a blank either side of a label. */
static void test_layout_scatter_places_points_frontier_and_labels(void **state) {
    Fixture *fx = *state;
    const ScatterPoint pts[] = {{32, 0, "FP32"}, {8.5, 0.002, "INT8"}, {4.5, 0.13, "INT4"}, {16, 0.2, "bad"}};
    Error err;
    assert_int_equal(layout_scatter(&fx->ts, pts, 4, 2, 20, 6, 6, &err), ST_OK);
    assert_true(fx->ts.zero_row);
    assert_true(fx->ts.x_lo == 4 && fx->ts.x_hi == 32);
    assert_true(fabs(fx->ts.y_lo - 0.001) < 1e-15 && fx->ts.y_hi == 1);
    assert_string_equal(row(fx, 0), "                    ");
    assert_string_equal(row(fx, 1), " @ INT4      o bad  ");
    assert_string_equal(row(fx, 2), "  ..                ");
    assert_string_equal(row(fx, 3), "    ..              ");
    assert_string_equal(row(fx, 4), "      .* INT8       ");
    assert_string_equal(row(fx, 5), "              FP32 *");
    assert_true(fx->ts.on_frontier[0] && fx->ts.on_frontier[1] && fx->ts.on_frontier[2]);
    assert_false(fx->ts.on_frontier[3]);
    for (int i = 0; i < 4; i++) assert_true(fx->ts.labelled[i]);
    assert_int_equal(fx->ts.kind[1 * 20 + 1], SCATTER_CURRENT);
    assert_int_equal(fx->ts.kind[1 * 20 + 3], SCATTER_LABEL_CURRENT);
    assert_int_equal(fx->ts.kind[1 * 20 + 13], SCATTER_POINT);
    assert_int_equal(fx->ts.kind[1 * 20 + 15], SCATTER_LABEL);
    assert_int_equal(fx->ts.kind[4 * 20 + 7], SCATTER_FRONTIER);
    assert_int_equal(fx->ts.kind[4 * 20 + 6], SCATTER_LINE);
    assert_int_equal(fx->ts.kind[4 * 20 + 8], SCATTER_EMPTY); /* the line gave way around "INT8" */
    /* ticks on the same axes */
    assert_int_equal(layout_scatter_col(&fx->ts, 4), 0);
    assert_int_equal(layout_scatter_col(&fx->ts, 8), 6);   /* 1/3 of 19 = 6.33 */
    assert_int_equal(layout_scatter_col(&fx->ts, 16), 13); /* 12.67 */
    assert_int_equal(layout_scatter_col(&fx->ts, 64), 19); /* clamped */
    assert_int_equal(layout_scatter_row(&fx->ts, 1), 0);
    assert_int_equal(layout_scatter_row(&fx->ts, 0.01), 3); /* 4 - 1.33 */
    assert_int_equal(layout_scatter_row(&fx->ts, 0.001), 4);
    assert_int_equal(layout_scatter_row(&fx->ts, 0), 5);
}

/* Labels never overlap points or each other: two plans in one cell get one
 * label; a label with room on neither side is left out; labels are cut to
 * label_max. The current plan is drawn over a point in its cell.
 * x 4..32 over 10 columns: col = round(log2(x/4) / 3 * 9): 8 -> 3, 16 -> 6,
 * 32 -> 9. y 0.01 .. 0.1 (one decade), no zero row, rows 0..2:
 * row = 2 - round((log10 y + 2) * 2): 0.1 -> 0, 0.03 -> 2 - round(0.95) = 1,
 * 0.01 -> 2. Frontier: "edited" (the first of the twins), "long label", "FP".
 * Lines: (3,0)->(6,1): (4,0) (5,1); (6,1)->(9,2): (7,1) (8,2).
 * Labels: "twin" (current) right of '@' at 5..8 over nothing; "edited" finds
 * twin's label on the right and the edge on the left; "long label" cut to
 * "long" has no room right (8..11), so left at 1..4; "FP" left at 6..7. */
static void test_layout_scatter_labels_only_where_they_fit(void **state) {
    Fixture *fx = *state;
    const ScatterPoint pts[] = {{8, 0.1, "edited"}, {8, 0.1, "twin"}, {16, 0.03, "long label"}, {32, 0.01, "FP"}};
    Error err;
    assert_int_equal(layout_scatter(&fx->ts, pts, 4, 1, 10, 3, 4, &err), ST_OK);
    assert_false(fx->ts.zero_row);
    assert_true(fabs(fx->ts.y_lo - 0.01) < 1e-15 && fabs(fx->ts.y_hi - 0.1) < 1e-15);
    assert_string_equal(row(fx, 0), "   @ twin ");
    assert_string_equal(row(fx, 1), " long *.  ");
    assert_string_equal(row(fx, 2), "      FP *");
    assert_true(fx->ts.on_frontier[0]);
    assert_false(fx->ts.on_frontier[1]); /* a duplicate: the first one counts */
    assert_false(fx->ts.labelled[0]);
    assert_true(fx->ts.labelled[1] && fx->ts.labelled[2] && fx->ts.labelled[3]);
}

static void test_layout_scatter_refuses_tiny_grids(void **state) {
    Fixture *fx = *state;
    Error err;
    const ScatterPoint p = {8, 0.1, "x"};
    assert_int_equal(layout_scatter(&fx->ts, &p, 1, 0, 7, 5, 4, &err), ST_USAGE);
    assert_null(fx->ts.glyph);
    assert_int_equal(layout_scatter(&fx->ts, &p, 1, 0, 8, 2, 4, &err), ST_USAGE);
    /* nothing drawable: default axes, no cells used */
    const ScatterPoint bad[] = {{NAN, 1, "nan"}, {-1, 1, "neg"}};
    assert_int_equal(layout_scatter(&fx->ts, bad, 2, 0, 8, 3, 4, &err), ST_OK);
    assert_int_equal(fx->ts.col[0], -1);
    assert_int_equal(fx->ts.col[1], -1);
    assert_true(fabs(fx->ts.y_lo - 0.001) < 1e-15 && fx->ts.y_hi == 1);
    for (int y = 0; y < 3; y++) assert_string_equal(row(fx, y), "        ");
}

/* ---------------------------------------------------- format_short --- */

static const char *short_of(const char *name, int width) {
    static char buf[128];
    Format f;
    Error err;
    assert_int_equal(format_parse(name, &f, &err), ST_OK);
    return layout_format_short(f, width, buf, sizeof buf);
}

/* Plain labels that fit stay as they are; modifiers always take the plan's
 * spelling after a short base; what still does not fit is cut with '~'. */
static void test_layout_format_short_keeps_modifiers_in_sight(void **state) {
    (void)state;
    assert_string_equal(short_of("q4_0", 16), "INT4 (Q4_0)");
    assert_string_equal(short_of("f32", 16), "FP32");
    assert_string_equal(short_of("q4_0+gptq", 16), "INT4+gptq");
    assert_string_equal(short_of("q4_0+gptq", 40), "INT4+gptq");
    assert_string_equal(short_of("int4-b32-sym", 40), "INT4 per block of 32, sym");
    assert_string_equal(short_of("q8_0+2:4", 16), "INT8+2:4");
    assert_string_equal(short_of("f32+prune50", 16), "FP32+prune50");
    assert_string_equal(short_of("q4_0+out0.5%", 16), "INT4+out0.5%");
    assert_string_equal(short_of("q4_1+prune20", 16), "Q4_1+prune20");
    assert_string_equal(short_of("int4-b32-sym", 16), "INT4 b32");
    assert_string_equal(short_of("int3-row-asym", 16), "INT3 row asym");
    assert_string_equal(short_of("int4-tensor+gptq", 16), "INT4 tensor+gptq");
    /* the order of the modifiers is format_name's: method, pruning, outliers */
    assert_string_equal(short_of("q4_0+out1%+prune50+gptq", 30), "INT4+gptq+prune50+out1%");
    assert_string_equal(short_of("q4_0+out1%+prune50+gptq", 16), "INT4+gptq+prune~");
    assert_int_equal(strlen(short_of("int2-b128-asym+gptq+2:4+out0.25%", 16)), 16);
    assert_string_equal(short_of("q4_0", 3), "IN~");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_story_wraps_at_spaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_brackets_the_marked_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_marks_spaces_newlines_and_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_newlines_long_words_and_breaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_joins_split_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_refuses_no_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_story_skips_empty_pieces, setup, teardown),
        cmocka_unit_test(test_layout_agreement_counts_new_tokens),
        cmocka_unit_test(test_layout_format_short_keeps_modifiers_in_sight),
        cmocka_unit_test_setup_teardown(test_layout_scatter_places_points_frontier_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_scatter_labels_only_where_they_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_scatter_refuses_tiny_grids, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
