/* fmt.c — see fmt.h. */
#include "base/fmt.h"

#include <stdio.h>
#include <string.h>

char *fmt_count(char *buf, size_t size, int64_t n) {
    char digits[32];
    uint64_t u = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    char out[48];
    int o = 0;
    if (n < 0) out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
    return buf;
}

char *fmt_bytes(char *buf, size_t size, double bytes) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    double v = bytes;
    while ((v >= 1000.0 || v <= -1000.0) && u < 4) {
        v /= 1000.0;
        u++;
    }
    if (u == 0) snprintf(buf, size, "%.0f B", v);
    else if (v < 10 && v > -10) snprintf(buf, size, "%.2f %s", v, units[u]);
    else if (v < 100 && v > -100) snprintf(buf, size, "%.1f %s", v, units[u]);
    else snprintf(buf, size, "%.0f %s", v, units[u]);
    return buf;
}
