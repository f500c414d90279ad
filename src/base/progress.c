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

static void span_report(void *ctx, double done, const char *stage) {
    const ProgressSpan *sp = ctx;
    progress_update(sp->outer, sp->lo + (sp->hi - sp->lo) * done, sp->stage ? sp->stage : stage);
}

Progress progress_span(ProgressSpan *span, const Progress *outer, double lo, double hi, const char *stage) {
    *span = (ProgressSpan){outer, lo, hi, stage};
    return (Progress){span_report, span, outer ? outer->cancel : NULL};
}
