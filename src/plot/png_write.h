/* png_write.h — saving a Canvas as a PNG file (the only code that includes png.h).
 *
 * Called by the `plot` command and by the TUI's "save chart" action.
 */
#ifndef QL_PLOT_PNG_WRITE_H
#define QL_PLOT_PNG_WRITE_H

#include "base/error.h"
#include "plot/canvas.h"

/* Writes `c` to `path` as an 8-bit RGB PNG. The image goes to a temporary file
 * in the same directory, which is flushed and renamed over `path` only when
 * complete, so an existing file at `path` is either replaced whole or left as it
 * was. Errors (ST_IO, ST_NOMEM) leave no file behind and fill one line naming
 * `path`, e.g. "out/hist.png: cannot create a file there: No such file or directory". */
Status plot_write_png(const Canvas *c, const char *path, Error *err);

#endif
