/* datadir.h — finding quantlab's data (the bundled model, lessons) at run time.
 *
 * Looked up, in order: $QUANTLAB_DATA; the directory holding the executable (a
 * source checkout: ./quantlab beside assets/ and lessons/); <exe dir>/../share/quantlab
 * (a relocated install); and the compile-time install directory QL_DATADIR.
 */
#ifndef QL_BASE_DATADIR_H
#define QL_BASE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

/* Tells the lookup how the program was started (main's argv[0]). */
void datadir_set_argv0(const char *argv0);

/* Finds `relative` (e.g. "assets/stories260K.gguf"); fills out and returns true. */
bool datadir_find(const char *relative, char *out, size_t size);

/* The places searched, for error messages ("looked in: ..."). */
void datadir_describe(char *out, size_t size);

#endif
