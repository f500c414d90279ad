/* png_write.c — see png_write.h. libpng reports errors by longjmp; everything
 * that must be undone after a jump lives in objects created before setjmp. */
#include "plot/png_write.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "base/file.h"

/* libpng's own words for what went wrong. Lives in the caller of the function
 * that calls setjmp, so its contents are well defined after the jump. */
typedef struct PngFail {
    char msg[160];
    char warning[160]; /* the last warning: says which check a failure came from */
} PngFail;

static void png_on_error(png_structp png, png_const_charp msg) {
    PngFail *fail = png_get_error_ptr(png);
    snprintf(fail->msg, sizeof fail->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    PngFail *fail = png_get_error_ptr(png);
    snprintf(fail->warning, sizeof fail->warning, "%s", msg ? msg : "");
}

/* Encodes every row of `c` into af->fp. The caller owns af and fail; this owns png. */
static Status png_encode(const Canvas *c, AtomicFile *af, PngFail *fail, Error *err) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, fail, png_on_error,
                                              png_on_warning);
    if (!png) return error_set(err, ST_NOMEM, "%s: out of memory starting the PNG encoder", af->path);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return error_set(err, ST_NOMEM, "%s: out of memory starting the PNG encoder", af->path);
    }
    /* png and info are not changed after setjmp, so they need not be volatile. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (fail->warning[0])
            return error_set(err, ST_IO, "%s: PNG encoder failed: %s (%s)", af->path, fail->msg,
                             fail->warning);
        return error_set(err, ST_IO, "%s: PNG encoder failed: %s", af->path, fail->msg);
    }
    png_init_io(png, af->fp);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text text = {0};
    text.compression = PNG_TEXT_COMPRESSION_NONE;
    text.key = (png_charp) "Software";
    text.text = (png_charp) "quantlab";
    png_set_text(png, info, &text, 1);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->px + 3 * (size_t)y * (size_t)c->w);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return ST_OK;
}

Status plot_write_png(const Canvas *c, const char *path, Error *err) {
    AtomicFile af;
    Status st = atomic_file_open(&af, path, err);
    if (st != ST_OK) return st;
    PngFail fail = {{0}, {0}};
    st = png_encode(c, &af, &fail, err);
    if (st != ST_OK) {
        atomic_file_abort(&af);
        return st;
    }
    return atomic_file_commit(&af, err);
}
