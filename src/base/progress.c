/* progress.c — see progress.h. */
#include "base/progress.h"

#include <stddef.h>

bool progress_cancelled(const Progress *p) {
    return p && p->cancel && atomic_load_explicit(p->cancel, memory_order_relaxed);
}

bool progress_update(const Progress *p, double done, const char *stage) {
    if (!p) return true;
    if (p->report) p->report(p->ctx, done < 0 ? 0 : done > 1 ? 1 : done, stage);
    return !progress_cancelled(p);
}
