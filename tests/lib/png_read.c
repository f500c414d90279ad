/* png_read.c — see png_read.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/png_read.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool image_read_png(Image *img, const char *path, char *why, size_t why_size) {
    memset(img, 0, sizeof *img);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path)) {
        snprintf(why, why_size, "%s: libpng cannot read it: %s", path, pi.message);
        return false;
    }
    pi.format = PNG_FORMAT_RGB;
    img->rgb = malloc(PNG_IMAGE_SIZE(pi));
    if (!img->rgb) {
        png_image_free(&pi);
        snprintf(why, why_size, "%s: out of memory", path);
        return false;
    }
    if (!png_image_finish_read(&pi, NULL, img->rgb, 0, NULL)) {
        snprintf(why, why_size, "%s: libpng cannot decode it: %s", path, pi.message);
        image_free(img);
        return false;
    }
    img->w = (int)pi.width;
    img->h = (int)pi.height;
    return true;
}

void image_free(Image *img) {
    free(img->rgb);
    img->rgb = NULL;
}

int image_count_near(const Image *img, int x0, int y0, int x1, int y1, int r, int g, int b, int tol) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = img->rgb + 3 * ((size_t)y * (size_t)img->w + (size_t)x);
            n += abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
        }
    return n;
}

int image_count_plot_colour(const char *path, int r, int g, int b, char *why, size_t why_size) {
    Image img;
    if (!image_read_png(&img, path, why, why_size)) return -1;
    int n = -1;
    if (img.w == 1280 && img.h == 720)
        n = image_count_near(&img, PLOT_AREA_X0, PLOT_AREA_Y0, PLOT_AREA_X1, PLOT_AREA_Y1, r, g, b, 39);
    else
        snprintf(why, why_size, "%s: %dx%d pixels, not 1280x720", path, img.w, img.h);
    image_free(&img);
    return n;
}

void image_expect_plot_colour(const char *path, int r, int g, int b, int min_px) {
    char why[512];
    int n = image_count_plot_colour(path, r, g, b, why, sizeof why);
    if (n < 0) fail_msg("%s", why);
    if (n < min_px) fail_msg("%s: %d pixels of #%02X%02X%02X in the plot area, expected %d or more", path, n, r, g, b, min_px);
}
