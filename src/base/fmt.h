/* fmt.h — numbers formatted for people: 1,185,376 and 1.19 MB (decimal units, so a
 * 7-billion-weight model at 4 bytes each reads 28.0 GB, as the lessons say). */
#ifndef QL_BASE_FMT_H
#define QL_BASE_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "1,185,376"; returns buf. */
char *fmt_count(char *buf, size_t size, int64_t n);
/* "812 B", "1.19 MB", "28.0 GB" (1 kB = 1000 B); returns buf. */
char *fmt_bytes(char *buf, size_t size, double bytes);

#endif
