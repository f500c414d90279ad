/* sysmem.c — see sysmem.h. */
#include "base/sysmem.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* QUANTLAB_MEMORY_BYTES: "123456", "512k", "64M", "2G"; 0 when unset or bad. */
static uint64_t env_memory(void) {
    const char *s = getenv("QUANTLAB_MEMORY_BYTES");
    if (!s || *s < '0' || *s > '9') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE) return 0;
    uint64_t unit = 1;
    if (*end == 'k' || *end == 'K') unit = 1000, end++;
    else if (*end == 'M') unit = 1000 * 1000, end++;
    else if (*end == 'G') unit = 1000 * 1000 * 1000, end++;
    if (*end != '\0' || v > UINT64_MAX / unit) return 0;
    return (uint64_t)v * unit;
}

uint64_t sysmem_total(void) {
    uint64_t env = env_memory();
    if (env) return env;
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    return (uint64_t)pages * (uint64_t)page;
}

bool sysmem_fits(uint64_t bytes) {
    if (bytes == UINT64_MAX) return false;
    uint64_t total = sysmem_total();
    return total == 0 || bytes <= total / 10 * 8;
}
