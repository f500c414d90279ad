/* test_plot.c — the canvas, the font, the charts and the PNG writer.
 *
 * Charts are written as PNG files into a fresh directory under /tmp, decoded
 * again with libpng (not with our code) and checked pixel by pixel. Expected
 * pixel positions are worked out by hand below from the geometry chart.h
 * documents (a 1072x512 plot area at (152, 80) on a 1280x720 canvas); the
 * public mapping function is used besides, and is itself checked against
 * hand-worked positions.
 *
 * QL_PLOT_SAMPLES=dir makes test_plot_samples_render leave its four sample
 * charts in dir (which must exist) instead of the temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/png_read.h"
#include "plot/canvas.h"
#include "plot/chart.h"
#include "plot/font.h"
#include "plot/png_write.h"

/* Okabe-Ito colours as chart.h names them, written out here rather than asked
 * of the code under test. */
static const Rgb BLUE = {0x00, 0x72, 0xB2};
static const Rgb VERMILLION = {0xD5, 0x5E, 0x00};
static const Rgb WHITE = {0xFF, 0xFF, 0xFF};
static const Rgb BLACK = {0x00, 0x00, 0x00};
static const Rgb GRID = {0xDD, 0xDD, 0xDD};

/* The documented plot area on a 1280x720 canvas (s = 2): left 76s = 152,
 * top 32s + 16 = 80, right margin 28s = 56, bottom margin 64s = 128. */
enum { AX = 152, AY = 80, AW = 1280 - 152 - 56, AH = 720 - 80 - 128, BASE = AY + AH };

/* ------------------------------------------------------------ fixtures --- */

typedef struct Fixture {
    char dir[64];
    char path[256];
} Fixture;

static int setup_dir(void **state) {
    Fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ql-plot-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

/* Removes everything the test left (one level of subdirectories). */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        chmod(p, 0700);
        if (unlink(p) != 0) remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown_dir(void **state) {
    Fixture *fx = *state;
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

static const char *fx_path(Fixture *fx, const char *name) {
    snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
    return fx->path;
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* ------------------------------------------------ PNG decoding (libpng) --- */

/* Reads a PNG with libpng's simplified API into 8-bit RGB (tests/lib/png_read.c). */
static void image_read(Image *img, const char *path) {
    char why[512];
    if (!image_read_png(img, path, why, sizeof why)) fail_msg("%s", why);
}

static Rgb px(const Image *img, int x, int y) {
    assert_true(x >= 0 && x < img->w && y >= 0 && y < img->h);
    const uint8_t *p = img->rgb + 3 * ((size_t)y * img->w + x);
    return (Rgb){p[0], p[1], p[2]};
}

static bool same(Rgb a, Rgb b) {
    return a.r == b.r && a.g == b.g && a.b == b.b;
}

/* First row from the top of the plot area where column x has colour col; -1 if none. */
static int first_row_of(const Image *img, int x, Rgb col) {
    for (int y = AY; y < BASE; y++)
        if (same(px(img, x, y), col)) return y;
    return -1;
}

static int count_in_column(const Image *img, int x, int y0, int y1, Rgb col) {
    int n = 0;
    for (int y = y0; y <= y1; y++) n += same(px(img, x, y), col);
    return n;
}

/* Draws with `draw`, writes the PNG, decodes it. */
static void render_and_read(Fixture *fx, const char *name, Canvas *c, Image *img) {
    Error err;
    assert_int_equal(plot_write_png(c, fx_path(fx, name), &err), ST_OK);
    image_read(img, fx->path);
    assert_int_equal(img->w, c->w);
    assert_int_equal(img->h, c->h);
}

static void canvas_slide(Canvas *c) {
    Error err;
    assert_int_equal(canvas_init(c, CHART_DEFAULT_W, CHART_DEFAULT_H, WHITE, &err), ST_OK);
}

/* ---------------------------------------------------------------- font --- */

/* Rows read off the glyph pictures in font.c: 'H' is "##...##." on its stem
 * rows and "#######." on its bar (row 7); '-' is ".######." on row 8. */
static void test_plot_font_glyph_table(void **state) {
    (void)state;
    assert_int_equal(font_row('H', 3), 0xC6);
    assert_int_equal(font_row('H', 7), 0xFE);
    assert_int_equal(font_row('H', 12), 0xC6);
    assert_int_equal(font_row('H', 13), 0x00);
    assert_int_equal(font_row('-', 8), 0x7E);
    for (int r = 0; r < FONT_H; r++) assert_int_equal(font_row(' ', r), 0);
    /* 'A' and 'B' differ; so do the look-alikes a chart axis mixes up. */
    static const char *const PAIRS[][2] = {{"A", "B"}, {"0", "O"}, {"1", "l"}, {"l", "I"},
                                           {"5", "S"}, {"8", "B"}, {"-", "_"}};
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        int diff = 0;
        for (int r = 0; r < FONT_H; r++)
            diff += font_row((unsigned char)PAIRS[i][0][0], r) !=
                    font_row((unsigned char)PAIRS[i][1][0], r);
        assert_true(diff > 0);
    }
    /* Every printable glyph but space has ink, and no two glyphs are the same. */
    for (int a = FONT_FIRST; a <= FONT_LAST; a++) {
        int ink = 0;
        for (int r = 0; r < FONT_H; r++) ink += font_row((unsigned char)a, r) != 0;
        assert_true(a == ' ' ? ink == 0 : ink > 0);
        for (int b = a + 1; b <= FONT_LAST; b++) {
            int diff = 0;
            for (int r = 0; r < FONT_H; r++)
                diff += font_row((unsigned char)a, r) != font_row((unsigned char)b, r);
            if (diff == 0) fail_msg("glyphs 0x%02X and 0x%02X are identical", a, b);
        }
    }
    /* Outside printable ASCII: the '?' glyph. */
    static const unsigned char ODD[] = {0x00, 0x09, 0x1F, 0x7F, 0x80, 0xC3, 0xFF};
    for (size_t i = 0; i < sizeof ODD; i++)
        for (int r = 0; r < FONT_H; r++) assert_int_equal(font_row(ODD[i], r), font_row('?', r));
}

/* ---------------------------------------------------------------- text --- */

static void test_plot_text_renders_glyph_pixels(void **state) {
    (void)state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 100, 40, WHITE, &err), ST_OK);
    int w = canvas_text(&c, 10, 4, "HA", 2, ALIGN_LEFT, BLACK);
    assert_int_equal(w, 2 * 8 * 2);
    /* 'H' bar row 7 at scale 2: rows 4+14, 4+15, columns 10..10+13 ink, 10+14 not. */
    for (int x = 10; x < 24; x++) assert_true(same(canvas_get(&c, x, 18), BLACK));
    assert_true(same(canvas_get(&c, 24, 18), WHITE));
    /* Above the cap height (rows 0-2 of the cell) nothing is drawn. */
    for (int y = 4; y < 10; y++)
        for (int x = 10; x < 42; x++) assert_true(same(canvas_get(&c, x, y), WHITE));
    /* Right-aligned text ends at its anchor. */
    canvas_clear(&c, WHITE);
    canvas_text(&c, 50, 4, "H", 1, ALIGN_RIGHT, BLACK);
    assert_true(same(canvas_get(&c, 50 - 8, 4 + 7), BLACK)); /* column 0 of 'H' */
    assert_true(same(canvas_get(&c, 50, 4 + 7), WHITE));
    canvas_free(&c);
}

/* A two-byte UTF-8 letter is one '?', drawn exactly as "?" is. */
static void test_plot_text_non_ascii_is_question_mark(void **state) {
    (void)state;
    Canvas a, b;
    Error err;
    assert_int_equal(canvas_init(&a, 60, 20, WHITE, &err), ST_OK);
    assert_int_equal(canvas_init(&b, 60, 20, WHITE, &err), ST_OK);
    assert_int_equal(canvas_text_len("\xC3\xA9t\xC3\xA9"), 3); /* "été" */
    canvas_text(&a, 2, 2, "\xC3\xA9t\xC3\xA9", 1, ALIGN_LEFT, BLACK);
    canvas_text(&b, 2, 2, "?t?", 1, ALIGN_LEFT, BLACK);
    assert_memory_equal(a.px, b.px, (size_t)60 * 20 * 3);
    char flat[8];
    assert_int_equal(canvas_text_flatten("\xE2\x80\x94x\xFF", flat, sizeof flat), 3);
    assert_string_equal(flat, "?x?");
    canvas_free(&a);
    canvas_free(&b);
}

/* Rotated text: glyph pixel (col, row) of the first character lands at
 * (x + row, y - col) for a bottom-anchored label at scale 1. */
static void test_plot_text_up_rotates_left(void **state) {
    (void)state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 40, 40, WHITE, &err), ST_OK);
    canvas_text_up(&c, 5, 30, "F", 1, ALIGN_LEFT, BLACK);
    for (int row = 0; row < FONT_H; row++)
        for (int col = 0; col < FONT_W; col++)
            assert_int_equal(same(canvas_get(&c, 5 + row, 30 - col), BLACK),
                             font_pixel('F', col, row));
    canvas_free(&c);
}

/* -------------------------------------------------------------- canvas --- */

static void test_plot_canvas_clips_and_draws(void **state) {
    (void)state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 20, 10, WHITE, &err), ST_OK);
    canvas_fill_rect(&c, -5, -5, 10, 8, BLUE); /* covers x 0..4, y 0..2 */
    assert_true(same(canvas_get(&c, 4, 2), BLUE));
    assert_true(same(canvas_get(&c, 5, 2), WHITE));
    assert_true(same(canvas_get(&c, 4, 3), WHITE));
    /* Far outside, huge or negative: nothing breaks, nothing drawn. */
    canvas_fill_rect(&c, 1000, 1000, 5, 5, BLACK);
    canvas_fill_rect(&c, 2, 2, -3, 4, BLACK);
    canvas_line(&c, -100, -100, -50, -60, 3, BLACK);
    canvas_marker(&c, -40, 5, MARKER_CIRCLE, 5, BLACK, BLACK, 1);
    canvas_text(&c, 15, 5, "clipped text", 3, ALIGN_LEFT, BLACK);
    canvas_text_up(&c, 15, 5, "up", 2, ALIGN_CENTER, BLACK);
    /* Coordinates no int can hold, and NaN: no overflow (UBSan), no hang. */
    canvas_line(&c, 1e300, 1e300, 2e300, -1e300, 2, BLACK);
    canvas_dashed_line(&c, 0, 0, INFINITY, 0, 1, 3, 2, BLACK);
    canvas_dashed_line(&c, NAN, 0, 5, 5, 1, 3, 2, BLACK);
    canvas_marker(&c, 1e300, -1e300, MARKER_DIAMOND, 1e300, BLACK, BLACK, 1);
    canvas_marker(&c, NAN, 5, MARKER_SQUARE, 4, BLACK, BLACK, 1);
    assert_true(same(canvas_get(&c, 0, 9), WHITE));
    /* A one-pixel horizontal line covers its row exactly. */
    canvas_clear(&c, WHITE);
    canvas_line(&c, 2, 5, 12, 5, 1, BLACK);
    for (int x = 2; x <= 12; x++) assert_true(same(canvas_get(&c, x, 5), BLACK));
    for (int x = 0; x < 20; x++) {
        assert_true(same(canvas_get(&c, x, 4), WHITE));
        assert_true(same(canvas_get(&c, x, 6), WHITE));
    }
    /* The outline stays inside its rectangle. */
    canvas_clear(&c, WHITE);
    canvas_stroke_rect(&c, 2, 2, 10, 6, 1, BLACK);
    assert_true(same(canvas_get(&c, 2, 2), BLACK) && same(canvas_get(&c, 11, 7), BLACK));
    assert_true(same(canvas_get(&c, 12, 7), WHITE) && same(canvas_get(&c, 5, 4), WHITE));
    canvas_free(&c);
    /* Sizes it refuses, leaving the canvas zeroed. */
    assert_int_equal(canvas_init(&c, 0, 10, WHITE, &err), ST_USAGE);
    assert_null(c.px);
    assert_int_equal(canvas_init(&c, 20000, 20000, WHITE, &err), ST_LIMIT);
    assert_null(c.px);
    canvas_free(&c);
    canvas_free(NULL);
}

/* Dashes 6 long with gaps 4 over 100 pixels: about 60% ink, and gaps exist. */
static void test_plot_dashed_line_has_gaps(void **state) {
    (void)state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 120, 10, WHITE, &err), ST_OK);
    canvas_dashed_line(&c, 10, 5, 110, 5, 1, 6, 4, BLACK);
    int ink = 0, runs = 0;
    bool in = false;
    for (int x = 0; x < 120; x++) {
        bool dark = canvas_get(&c, x, 5).r < 128;
        ink += dark;
        if (dark && !in) runs++;
        in = dark;
    }
    assert_int_equal(runs, 10);
    assert_in_range(ink, 45, 65);
    canvas_free(&c);
}

/* Each marker has its fill at the centre and nothing beyond its size; the
 * square (side 1.7r) covers more than the diamond (diagonal 2r), the circle
 * more than the triangle (inscribed in the circle). */
static void test_plot_markers_shapes(void **state) {
    (void)state;
    Canvas c;
    Error err;
    int area[4];
    for (int m = 0; m < 4; m++) {
        assert_int_equal(canvas_init(&c, 41, 41, WHITE, &err), ST_OK);
        canvas_marker(&c, 20, 20, (Marker)m, 10, VERMILLION, BLACK, 2);
        assert_true(same(canvas_get(&c, 20, 20), VERMILLION));
        area[m] = 0;
        for (int y = 0; y < 41; y++)
            for (int x = 0; x < 41; x++) {
                bool inked = !same(canvas_get(&c, x, y), WHITE);
                area[m] += inked;
                if (inked) assert_true(abs(x - 20) <= 11 && abs(y - 20) <= 11);
            }
        canvas_free(&c);
    }
    assert_true(area[MARKER_SQUARE] > area[MARKER_DIAMOND]);
    assert_true(area[MARKER_CIRCLE] > area[MARKER_TRIANGLE]);
}

/* --------------------------------------------------------- PNG writing --- */

static void test_plot_png_round_trip(void **state) {
    Fixture *fx = *state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 7, 5, WHITE, &err), ST_OK);
    canvas_put(&c, 0, 0, BLUE);
    canvas_put(&c, 6, 4, VERMILLION);
    canvas_put(&c, 3, 2, (Rgb){1, 2, 3});
    Image img;
    render_and_read(fx, "tiny.png", &c, &img);
    assert_memory_equal(img.rgb, c.px, (size_t)7 * 5 * 3);
    image_free(&img);
    /* Writing again replaces the file whole, and leaves no temporary behind. */
    canvas_clear(&c, BLACK);
    render_and_read(fx, "tiny.png", &c, &img);
    assert_true(same(px(&img, 3, 2), BLACK));
    assert_int_equal(dir_entries(fx->dir), 1);
    image_free(&img);
    canvas_free(&c);
}

static void assert_one_line_naming(const Error *err, const char *path) {
    assert_non_null(strstr(err->msg, path));
    assert_null(strchr(err->msg, '\n'));
}

static void test_plot_png_missing_directory(void **state) {
    Fixture *fx = *state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 8, 8, WHITE, &err), ST_OK);
    const char *path = fx_path(fx, "no/such/dir/chart.png");
    assert_int_equal(plot_write_png(&c, path, &err), ST_IO);
    assert_one_line_naming(&err, path);
    assert_int_equal(dir_entries(fx->dir), 0);
    canvas_free(&c);
}

/* A directory we may not write to. root may write anywhere, so as root the
 * test uses /proc, where nobody may create files. */
static void test_plot_png_unwritable_directory(void **state) {
    Fixture *fx = *state;
    Canvas c;
    Error err;
    char path[300];
    assert_int_equal(canvas_init(&c, 8, 8, WHITE, &err), ST_OK);
    if (geteuid() != 0) {
        const char *ro = fx_path(fx, "ro");
        assert_int_equal(mkdir(ro, 0500), 0);
        snprintf(path, sizeof path, "%s/chart.png", ro);
        assert_int_equal(plot_write_png(&c, path, &err), ST_IO);
        assert_one_line_naming(&err, path);
        assert_int_equal(dir_entries(ro), 0);
    } else {
        struct stat st;
        if (stat("/proc/self", &st) != 0) {
            canvas_free(&c);
            skip();
        }
        snprintf(path, sizeof path, "/proc/ql-plot-test-%ld.png", (long)getpid());
        assert_int_equal(plot_write_png(&c, path, &err), ST_IO);
        assert_one_line_naming(&err, path);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    canvas_free(&c);
}

/* A fault injected into libpng itself: an image wider than libpng's default
 * limit of 1,000,000 columns makes png_set_IHDR fail and longjmp. The error
 * must name the file and leave nothing behind (ASan checks for leaks). */
static void test_plot_png_encoder_failure_cleans_up(void **state) {
    Fixture *fx = *state;
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 1000001, 1, WHITE, &err), ST_OK);
    const char *path = fx_path(fx, "too-wide.png");
    assert_int_equal(plot_write_png(&c, path, &err), ST_IO);
    assert_one_line_naming(&err, path);
    assert_non_null(strstr(err.msg, "PNG"));
    assert_int_equal(dir_entries(fx->dir), 0);
    canvas_free(&c);
}

/* ------------------------------------------------------------- geometry --- */

static void test_plot_geometry_documented(void **state) {
    (void)state;
    assert_int_equal(chart_text_scale(1280, 720), 2);
    assert_int_equal(chart_text_scale(640, 360), 1);
    assert_int_equal(chart_text_scale(1920, 1080), 3);
    assert_int_equal(chart_text_scale(300, 200), 1);
    PlotRect r = chart_plot_area(1280, 720);
    assert_int_equal(r.x, AX);
    assert_int_equal(r.y, AY);
    assert_int_equal(r.w, 1072);
    assert_int_equal(r.h, 512);
    /* s = 1 at 640x360: left 76, top 48, right 28, bottom 64. */
    r = chart_plot_area(640, 360);
    assert_int_equal(r.x, 76);
    assert_int_equal(r.y, 48);
    assert_int_equal(r.w, 640 - 76 - 28);
    assert_int_equal(r.h, 360 - 48 - 64);
}

/* Mapping on a hand-made frame: area (100, 20, 300x200); x log 1..1000, so
 * each decade is 100 px; y linear 0..50, so 4 px a unit, 0 on row 220. */
static void test_plot_map_linear_and_log(void **state) {
    (void)state;
    ChartFrame f = {{100, 20, 300, 200}, 1, 1000, 0, 50, CHART_LOG, CHART_LINEAR, 2};
    assert_int_equal(chart_map_x(&f, 1), 100);
    assert_int_equal(chart_map_x(&f, 10), 200);
    assert_int_equal(chart_map_x(&f, 1000), 400);
    assert_int_equal(chart_map_x(&f, sqrt(10.0)), 150);
    assert_int_equal(chart_map_x(&f, 0), 100);  /* <= 0 sits on the low edge */
    assert_int_equal(chart_map_x(&f, -5), 100);
    assert_int_equal(chart_map_y(&f, 0), 220);
    assert_int_equal(chart_map_y(&f, 50), 20);
    assert_int_equal(chart_map_y(&f, 12.5), 170);
    assert_int_equal(chart_map_y(&f, 1e300), -1000000); /* far off stays far off */
}

/* ----------------------------------------------------------- histogram --- */

/* Bins of width 1 over [0, 8) with counts 10, 20, 40, 0, 5, 0, 0, 0.
 * Worked by hand: largest count 40; 1.05 x 40 / 5 = 8.4, so the tick step is
 * 10 and the y axis runs 0..50; 512 rows / 50 = 10.24 rows a count.
 * A bin is 1072 / 8 = 134 columns wide; bin i's middle column is 152 + 134i + 67.
 * Bar tops: 592 - 10.24n -> 489.6 (n=10), 387.2 (20), 182.4 (40), 540.8 (5). */
static void test_plot_histogram_bars_match_counts(void **state) {
    Fixture *fx = *state;
    uint64_t counts[8] = {10, 20, 40, 0, 5, 0, 0, 0};
    Histogram h = {8, 0.0, 8.0, counts, 0, 0, 75};
    HistogramSpec spec = {.hist = &h, .hist_name = "weights", .y_scale = CHART_LINEAR,
                          .labels = {"Known counts", "value", "count", "test model, test plan"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_histogram(&c, &spec, &f, &err), ST_OK);
    assert_int_equal(f.area.x, AX);
    assert_int_equal(f.area.y, AY);
    assert_int_equal(f.area.w, AW);
    assert_int_equal(f.area.h, AH);
    assert_true(f.y_lo == 0 && f.y_hi == 50);
    assert_true(f.x_lo == 0 && f.x_hi == 8);

    Image img;
    render_and_read(fx, "hist.png", &c, &img);
    static const int HAND_TOP[8] = {490, 387, 182, -1, 541, -1, -1, -1};
    for (int i = 0; i < 8; i++) {
        int xc = AX + 134 * i + 67;
        assert_int_equal(chart_map_x(&f, i + 0.5), xc);
        int top = first_row_of(&img, xc, BLUE);
        if (counts[i] == 0) {
            assert_int_equal(top, -1); /* an empty bin has no bar */
            continue;
        }
        assert_in_range(top, HAND_TOP[i] - 1, HAND_TOP[i] + 1);
        assert_in_range(top, chart_map_y(&f, (double)counts[i]) - 1,
                        chart_map_y(&f, (double)counts[i]) + 1);
        /* bar colour all the way down to the axis, which follows at row 592 */
        for (int y = top; y < BASE; y++) assert_true(same(px(&img, xc, y), BLUE));
        assert_true(same(px(&img, xc, BASE), BLACK));
        /* above the bar: paper (or a grid line), never bar */
        for (int y = AY; y < top; y++) {
            Rgb p = px(&img, xc, y);
            assert_true(same(p, WHITE) || same(p, GRID));
        }
    }
    /* Bars fill their bin's width: columns 152..284 for bin 0 (the last column
     * of each 134-wide bar is a one-pixel gap). */
    assert_true(same(px(&img, AX, 500), BLUE));
    assert_true(same(px(&img, AX + 132, 500), BLUE));
    assert_false(same(px(&img, AX + 133, 500), BLUE));
    /* The title row has dark pixels; the plot area has data. */
    int dark = 0;
    for (int y = 16; y < 64; y++)
        for (int x = 0; x < 1280; x++) dark += px(&img, x, y).r < 64;
    assert_true(dark > 200);
    int data = 0;
    for (int y = AY; y < BASE; y++)
        for (int x = AX; x < AX + AW; x++) {
            Rgb p = px(&img, x, y);
            data += !same(p, WHITE) && !same(p, GRID);
        }
    assert_true(data > 10000);
    image_free(&img);
    canvas_free(&c);
}

/* Counts 1, 10, 100 in three bins on a log axis: the bar for 100 rises twice as
 * far above the bar for 1 as the bar for 10 does. By hand: axis from
 * 10^-0.5 to 10^ceil(log10(105)) = 1000, 3.5 decades on 512 rows = 146.3 rows
 * a decade, so the tops are at 592 - 73.1 = 518.9, 372.6 and 226.3. */
static void test_plot_histogram_log_scale(void **state) {
    Fixture *fx = *state;
    uint64_t counts[4] = {1, 10, 100, 0};
    Histogram h = {4, 0.0, 4.0, counts, 0, 0, 111};
    HistogramSpec spec = {.hist = &h, .y_scale = CHART_LOG,
                          .labels = {"Log counts", "value", "count (log)", "caption"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_histogram(&c, &spec, &f, &err), ST_OK);
    assert_true(fabs(f.y_lo - pow(10, -0.5)) < 1e-12 && f.y_hi == 1000);
    Image img;
    render_and_read(fx, "log.png", &c, &img);
    int top[4];
    for (int i = 0; i < 4; i++) top[i] = first_row_of(&img, AX + 268 * i + 134, BLUE);
    assert_in_range(top[0], 518, 520);
    assert_in_range(top[1], 372, 374);
    assert_in_range(top[2], 225, 227);
    assert_int_equal(top[3], -1);
    int rise10 = top[0] - top[1], rise100 = top[0] - top[2];
    assert_in_range(rise100, 2 * rise10 - 2, 2 * rise10 + 2);
    image_free(&img);
    canvas_free(&c);
}

/* Level lines at 1.0, 2.5 and 6.0 on [0, 8): columns 152 + 134 v =
 * 286, 487 and 956. Bars are low (counts 40 then 5s, so tops at row 541 for
 * the 5s); rows 400..530 of those columns cross only level dashes. */
static void test_plot_histogram_level_lines(void **state) {
    Fixture *fx = *state;
    uint64_t counts[8] = {40, 5, 5, 5, 5, 5, 5, 5};
    Histogram h = {8, 0.0, 8.0, counts, 0, 0, 75};
    double levels[3] = {1.0, 2.5, 6.0};
    HistogramSpec spec = {.hist = &h, .hist_name = "weights", .levels = levels, .n_levels = 3,
                          .levels_name = "levels", .labels = {"Levels", "v", "n", "c"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_histogram(&c, &spec, &f, &err), ST_OK);
    Image img;
    render_and_read(fx, "levels.png", &c, &img);
    static const int HAND_X[3] = {286, 487, 956};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(chart_map_x(&f, levels[i]), HAND_X[i]);
        int n = count_in_column(&img, HAND_X[i], 400, 530, BLACK);
        assert_in_range(n, 131 * 45 / 100, 131 * 75 / 100); /* dashed: 3 on, 2 off */
    }
    /* a column between levels has none */
    assert_int_equal(count_in_column(&img, 700, 400, 530, BLACK), 0);
    image_free(&img);
    canvas_free(&c);
}

/* The overlay is told apart by pattern as well as colour: in a bin where only
 * the overlay has values, its bar region mixes vermillion stripes with paper. */
static void test_plot_histogram_overlay_is_hatched(void **state) {
    Fixture *fx = *state;
    uint64_t a[4] = {30, 0, 10, 0}, b[4] = {0, 30, 10, 0};
    Histogram ha = {4, 0.0, 4.0, a, 0, 0, 40}, hb = {4, 0.0, 4.0, b, 0, 0, 40};
    HistogramSpec spec = {.hist = &ha, .hist_name = "original", .overlay = &hb,
                          .overlay_name = "dequantized", .labels = {"Overlay", "v", "n", "c"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_histogram(&c, &spec, &f, &err), ST_OK);
    Image img;
    render_and_read(fx, "overlay.png", &c, &img);
    /* bin 1 (columns 420..687): count 30 -> top 592 - 30 * 512/40 ... y_hi:
     * 1.05 x 30 / 5 = 6.3 -> step 10, axis 0..40, top = 592 - 384 = 208. */
    int xc = AX + 268 + 134, stripes = 0, paper = 0, blue = 0;
    for (int y = 260; y < 580; y++) {
        Rgb p = px(&img, xc, y);
        stripes += same(p, VERMILLION);
        paper += same(p, WHITE);
        blue += same(p, BLUE);
    }
    assert_true(stripes > 40 && paper > 40);
    assert_int_equal(blue, 0);
    assert_true(same(px(&img, xc, 209), VERMILLION)); /* the outline along the top */
    image_free(&img);
    canvas_free(&c);
}

static void test_plot_error_histogram_box(void **state) {
    Fixture *fx = *state;
    uint64_t counts[10] = {1, 4, 9, 16, 30, 30, 16, 9, 4, 1};
    Histogram h = {10, -0.01, 0.01, counts, 2, 3, 125};
    ErrorHistogramSpec spec = {.hist = &h, .has_stats = true, .rmse = 0.0031,
                               .sqnr_db = INFINITY, .max_abs_err = 0.012,
                               .labels = {"Rounding error", "error", "count", "c"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_error_histogram(&c, &spec, &f, &err), ST_OK);
    Image img;
    render_and_read(fx, "err.png", &c, &img);
    /* bin 4 (middle column 152 + 107.2 * 4.5 = 634.4): count 30 of an axis 0..40 */
    int top = first_row_of(&img, 634, VERMILLION);
    assert_in_range(top, 207, 209);
    int box = 0;
    for (int y = AY; y < BASE; y++)
        for (int x = AX; x < AX + AW; x++) box += same(px(&img, x, y), (Rgb){0xF4, 0xF4, 0xF4});
    assert_true(box > 5000); /* the figure box is there ... */
    image_free(&img);
    canvas_free(&c);
}

/* ---------------------------------------------------------------- bars --- */

/* Items a=1, b=2, c=4. By hand: 1.05 x 4 / 5 = 0.84 -> step 1, x axis 0..5.
 * Names are one character at scale 2, 16 px, so the area starts at 28s + 16 = 72
 * and is 1280 - 72 - 56 = 1152 wide; value v ends at column 72 + 230.4v - 1.
 * Rows: 512 / 3 = 170.7 per item; item i's middle is row 80 + 170.7(i + 0.5). */
static void test_plot_bars_lengths(void **state) {
    Fixture *fx = *state;
    BarItem items[3] = {{"a", 1.0}, {"b", 2.0}, {"c", 4.0}};
    BarsSpec spec = {.items = items, .n_items = 3,
                     .labels = {"Sensitivity", "KL", "layer", "model, plan"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_bars(&c, &spec, &f, &err), ST_OK);
    assert_int_equal(f.area.x, 72);
    assert_int_equal(f.area.w, 1152);
    assert_true(f.x_lo == 0 && f.x_hi == 5);
    Image img;
    render_and_read(fx, "bars.png", &c, &img);
    /* round(72 + 230.4v) is the first column past the bar: 302.4, 532.8, 993.6 */
    static const int HAND_END[3] = {301, 532, 993};
    static const int HAND_ROW[3] = {165, 336, 507};
    for (int i = 0; i < 3; i++) {
        assert_in_range(chart_map_y(&f, i + 0.5), HAND_ROW[i] - 1, HAND_ROW[i] + 1);
        int y = HAND_ROW[i], x = 72, last = -1;
        while (x < 1280 && same(px(&img, x, y), BLUE)) last = x++;
        assert_in_range(last, HAND_END[i] - 1, HAND_END[i] + 1);
        /* the value label follows the bar end: dark pixels within 100 px */
        int dark = 0;
        for (int yy = y - 16; yy < y + 16; yy++)
            for (int xx = last + 2; xx < last + 100; xx++) dark += px(&img, xx, yy).r < 64;
        assert_true(dark > 30);
    }
    image_free(&img);
    canvas_free(&c);
}

/* ------------------------------------------------------------- scatter --- */

/* A(1,5) B(2,3) C(3,4) D(4,1) E(2,6): C is beaten by B, E by B, so the
 * frontier is A, B, D. */
static void test_plot_pareto_frontier(void **state) {
    (void)state;
    ScatterPoint p[6] = {{1, 5, "A"}, {2, 3, "B"}, {3, 4, "C"}, {4, 1, "D"}, {2, 6, "E"},
                         {NAN, 0, "bad"}};
    int idx[6];
    int n = chart_pareto_frontier(p, 6, idx);
    assert_int_equal(n, 3);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 3);
    /* exact duplicates: the first is kept */
    ScatterPoint q[3] = {{2, 2, "x"}, {2, 2, "y"}, {1, 3, "z"}};
    n = chart_pareto_frontier(q, 3, idx);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 0);
}

/* The points above, C highlighted. By hand: x from 1..4 padded by 5% of 3 to
 * 0.85..4.15, step >= 3.3/8 -> 0.5, axis 0.5..4.5; y 1..6 padded to
 * 0.75..6.25, step >= 5.5/5 -> 2, axis 0..8. C(3,4) lands at column
 * 152 + 2.5/4 x 1072 = 822, row 592 - 4/8 x 512 = 336. */
static void test_plot_scatter_highlight(void **state) {
    Fixture *fx = *state;
    ScatterPoint p[5] = {{1, 5, "A"}, {2, 3, "B"}, {3, 4, "C"}, {4, 1, "D"}, {2, 6, "E"}};
    ScatterSpec spec = {.points = p, .n_points = 5, .highlight = 2, .points_name = "plans",
                        .highlight_name = "current plan", .frontier = true,
                        .labels = {"Size vs quality", "bits/weight", "KL", "model, plan"}};
    Canvas c;
    canvas_slide(&c);
    ChartFrame f;
    Error err;
    assert_int_equal(chart_scatter(&c, &spec, &f, &err), ST_OK);
    assert_true(f.x_lo == 0.5 && f.x_hi == 4.5 && f.y_lo == 0 && f.y_hi == 8);
    assert_int_equal(chart_map_x(&f, 3), 822);
    assert_int_equal(chart_map_y(&f, 4), 336);
    Image img;
    render_and_read(fx, "scatter.png", &c, &img);
    assert_true(same(px(&img, 822, 336), VERMILLION));
    /* the ordinary points are blue at their centres */
    for (int i = 0; i < 5; i++) {
        if (i == 2) continue;
        assert_true(same(px(&img, chart_map_x(&f, p[i].x), chart_map_y(&f, p[i].y)), BLUE));
    }
    /* the dashed frontier from B(2,3) to D(4,1): grey ink along the way */
    int ink = 0;
    for (int k = 2; k < 38; k++) {
        double t = k / 40.0;
        int x = (int)lround(chart_map_x(&f, 2) * (1 - t) + chart_map_x(&f, 4) * t);
        int y = (int)lround(chart_map_y(&f, 3) * (1 - t) + chart_map_y(&f, 1) * t);
        ink += px(&img, x, y).r < 160;
    }
    assert_in_range(ink, 10, 34); /* some, not all: it is dashed */
    image_free(&img);
    canvas_free(&c);
}

/* ---------------------------------------------------------- edge cases --- */

static void test_plot_chart_refuses_tiny_canvas(void **state) {
    (void)state;
    uint64_t counts[2] = {1, 2};
    Histogram h = {2, 0.0, 1.0, counts, 0, 0, 3};
    HistogramSpec spec = {.hist = &h};
    Canvas c;
    Error err;
    assert_int_equal(canvas_init(&c, 100, 60, WHITE, &err), ST_OK);
    assert_int_equal(chart_histogram(&c, &spec, NULL, &err), ST_USAGE);
    assert_true(strncmp(err.msg, "chart: ", 7) == 0);
    canvas_free(&c);
    /* a histogram whose range is empty */
    canvas_slide(&c);
    Histogram flat = {2, 1.0, 1.0, counts, 0, 0, 3};
    spec.hist = &flat;
    assert_int_equal(chart_histogram(&c, &spec, NULL, &err), ST_USAGE);
    /* a log axis with nothing above zero */
    BarItem items[1] = {{"zero", 0.0}};
    BarsSpec bars = {.items = items, .n_items = 1, .x_scale = CHART_LOG};
    assert_int_equal(chart_bars(&c, &bars, NULL, &err), ST_USAGE);
    canvas_free(&c);
}

/* ------------------------------------------------------------- samples --- */

static double sample_gauss(unsigned *st) {
    *st = *st * 1103515245u + 12345u;
    double u1 = ((*st >> 8) + 1.0) / 16777218.0;
    *st = *st * 1103515245u + 12345u;
    double u2 = ((*st >> 8) + 1.0) / 16777218.0;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Four charts from made-up numbers that look like a small model's: weights
 * N(0, 0.02) through a Q4_0-style round trip per block of 32. */
static void test_plot_samples_render(void **state) {
    Fixture *fx = *state;
    const char *dir = getenv("QL_PLOT_SAMPLES");
    if (!dir || !*dir) dir = fx->dir;
    enum { N = 32768, B = 96 };
    float *w = malloc(sizeof *w * N), *q = malloc(sizeof *q * N);
    assert_true(w && q);
    unsigned st = 7;
    for (int i = 0; i < N; i++) w[i] = (float)(0.02 * sample_gauss(&st));
    double d0 = 0;
    for (int b = 0; b < N; b += 32) {
        float amax = 0, mx = 0;
        for (int j = 0; j < 32; j++)
            if (fabsf(w[b + j]) > amax) amax = fabsf(w[b + j]), mx = w[b + j];
        float d = mx / -8, id = d != 0 ? 1 / d : 0;
        if (b == 0) d0 = d;
        for (int j = 0; j < 32; j++) {
            int v = (int)(w[b + j] * id + 8.5f);
            q[b + j] = (float)((v > 15 ? 15 : v) - 8) * d;
        }
    }
    uint64_t cw[B] = {0}, cq[B] = {0}, ce[B] = {0};
    Histogram hw = {B, -0.08, 0.08, cw, 0, 0, 0}, hq = {B, -0.08, 0.08, cq, 0, 0, 0};
    Histogram he = {B, -0.004, 0.004, ce, 0, 0, 0};
    double se = 0, sw = 0, me = 0;
    for (int i = 0; i < N; i++) {
        int k = (int)floor((w[i] + 0.08) / 0.16 * B);
        if (k >= 0 && k < B) cw[k]++; else if (k < 0) hw.below++; else hw.above++;
        k = (int)floor((q[i] + 0.08) / 0.16 * B);
        if (k >= 0 && k < B) cq[k]++; else if (k < 0) hq.below++; else hq.above++;
        double e = (double)q[i] - w[i];
        se += e * e;
        sw += (double)w[i] * w[i];
        if (fabs(e) > me) me = fabs(e);
        k = (int)floor((e + 0.004) / 0.008 * B);
        if (k >= 0 && k < B) ce[k]++; else if (k < 0) he.below++; else he.above++;
    }
    double levels[16];
    for (int i = 0; i < 16; i++) levels[i] = (i - 8) * d0;
    const char *caption = "model: stories15M.gguf   plan: all Q4_0 (4.5 bits/weight)";

    Canvas c;
    canvas_slide(&c);
    Error err;
    char path[512];
    Image img;
    HistogramSpec hs = {.hist = &hw, .hist_name = "original (F32)", .overlay = &hq,
                        .overlay_name = "after Q4_0 round trip", .levels = levels,
                        .n_levels = 16, .levels_name = "Q4_0 levels, block 0",
                        .labels = {"Weights of blk.0.attn_q.weight", "weight value", "count",
                                   caption}};
    assert_int_equal(chart_histogram(&c, &hs, NULL, &err), ST_OK);
    snprintf(path, sizeof path, "%s/histogram.png", dir);
    assert_int_equal(plot_write_png(&c, path, &err), ST_OK);

    ErrorHistogramSpec es = {.hist = &he, .has_stats = true, .rmse = sqrt(se / N),
                             .sqnr_db = 10 * log10(sw / se), .max_abs_err = me,
                             .labels = {"Rounding error of blk.0.attn_q.weight (Q4_0)",
                                        "error = dequantized - original", "count", caption}};
    assert_int_equal(chart_error_histogram(&c, &es, NULL, &err), ST_OK);
    snprintf(path, sizeof path, "%s/error_histogram.png", dir);
    assert_int_equal(plot_write_png(&c, path, &err), ST_OK);

    BarItem items[] = {{"token_embd", 0.0032}, {"blk.0", 0.0412}, {"blk.1", 0.0213},
                       {"blk.2", 0.0127}, {"blk.3", 0.0098}, {"blk.4", 0.0071},
                       {"blk.5", 0.0154}, {"output", 0.0831}};
    BarsSpec bs = {.items = items, .n_items = 8, .value_digits = 2,
                   .labels = {"Which layers mind Q4_0 most?",
                              "mean KL vs F32 (nats) with only this layer in Q4_0", "layer",
                              "model: stories15M.gguf   target: Q4_0   text: 2,048 tokens"}};
    assert_int_equal(chart_bars(&c, &bs, NULL, &err), ST_OK);
    snprintf(path, sizeof path, "%s/bars.png", dir);
    assert_int_equal(plot_write_png(&c, path, &err), ST_OK);

    ScatterPoint pts[] = {{32, 0, "F32"},           {16, 0.00002, "F16"}, {8.5, 0.0011, "Q8_0"},
                          {4.5, 0.043, "Q4_0"},     {5.2, 0.021, "mixed A"},
                          {6.1, 0.0093, "mixed B"}, {7.3, 0.0109, "mixed C"},
                          {4.9, 0.051, "Q4_0 + F16 out"}};
    ScatterSpec ss = {.points = pts, .n_points = 8, .highlight = 4, .points_name = "plans",
                      .highlight_name = "current plan", .frontier = true,
                      .frontier_name = "Pareto frontier",
                      .labels = {"Size against quality", "bits per weight",
                                 "mean KL vs F32 (nats)",
                                 "model: stories15M.gguf   current plan: mixed A"}};
    assert_int_equal(chart_scatter(&c, &ss, NULL, &err), ST_OK);
    snprintf(path, sizeof path, "%s/scatter.png", dir);
    assert_int_equal(plot_write_png(&c, path, &err), ST_OK);

    static const char *const NAMES[] = {"histogram", "error_histogram", "bars", "scatter"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s.png", dir, NAMES[i]);
        image_read(&img, path);
        assert_int_equal(img.w, 1280);
        assert_int_equal(img.h, 720);
        image_free(&img);
    }
    canvas_free(&c);
    free(w);
    free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_font_glyph_table),
        cmocka_unit_test(test_plot_text_renders_glyph_pixels),
        cmocka_unit_test(test_plot_text_non_ascii_is_question_mark),
        cmocka_unit_test(test_plot_text_up_rotates_left),
        cmocka_unit_test(test_plot_canvas_clips_and_draws),
        cmocka_unit_test(test_plot_dashed_line_has_gaps),
        cmocka_unit_test(test_plot_markers_shapes),
        cmocka_unit_test_setup_teardown(test_plot_png_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_png_missing_directory, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_png_unwritable_directory, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_png_encoder_failure_cleans_up, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(test_plot_geometry_documented),
        cmocka_unit_test(test_plot_map_linear_and_log),
        cmocka_unit_test_setup_teardown(test_plot_histogram_bars_match_counts, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_histogram_log_scale, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_histogram_level_lines, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_histogram_overlay_is_hatched, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_error_histogram_box, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_bars_lengths, setup_dir, teardown_dir),
        cmocka_unit_test(test_plot_pareto_frontier),
        cmocka_unit_test_setup_teardown(test_plot_scatter_highlight, setup_dir, teardown_dir),
        cmocka_unit_test(test_plot_chart_refuses_tiny_canvas),
        cmocka_unit_test_setup_teardown(test_plot_samples_render, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
