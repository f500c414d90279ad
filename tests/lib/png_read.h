/* png_read.h — PNG files read back for the tests, with libpng (not with
 * quantlab's own code), as 8-bit RGB. Only the tests that check pictures link
 * it (test_plot and the end-to-end tests), so the other unit tests stay free
 * of libpng. */
#ifndef QL_TESTS_PNG_READ_H
#define QL_TESTS_PNG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Image {
    int w, h;
    uint8_t *rgb; /* (h, w, 3) */
} Image;

/* Reads path into *img (free with image_free). False, with libpng's reason in
 * why, when the file cannot be read as a PNG. */
bool image_read_png(Image *img, const char *path, char *why, size_t why_size);
void image_free(Image *img);

/* Pixels in columns x0..x1-1 of rows y0..y1-1 within tol of (r, g, b) in every
 * channel (tol 0: exactly that colour). The rectangle is clipped to the image. */
int image_count_near(const Image *img, int x0, int y0, int x1, int y1, int r, int g, int b, int tol);

/* The plot area of quantlab's 1280x720 charts (plot/chart.h): columns
 * 152..1223, rows 80..591. */
enum { PLOT_AREA_X0 = 152, PLOT_AREA_Y0 = 80, PLOT_AREA_X1 = 1224, PLOT_AREA_Y1 = 592 };

/* Reads a 1280x720 chart and counts the pixels of its plot area within 40 of
 * (r, g, b) in every channel; -1, with the reason in why, when the file is not
 * a PNG of that size. */
int image_count_plot_colour(const char *path, int r, int g, int b, char *why, size_t why_size);
/* The same as a cmocka check: fails the test unless the plot area holds at
 * least min_px such pixels. */
void image_expect_plot_colour(const char *path, int r, int g, int b, int min_px);

#endif
