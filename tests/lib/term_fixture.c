/* term_fixture.c — see term_fixture.h. */
#include "lib/term_fixture.h"

#include <stdio.h>
#include <stdlib.h>

TermFixture *term_fixture_new(const char *tag, const char *plan_text) {
    TermFixture *fx = calloc(1, sizeof *fx);
    if (!fx) return NULL;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ql-%s-XXXXXX", tag);
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return NULL;
    }
    if (plan_text) {
        snprintf(fx->plan, sizeof fx->plan, "%s/int4.plan", fx->dir);
        FILE *fp = fopen(fx->plan, "w");
        if (!fp || fputs(plan_text, fp) < 0 || fclose(fp) != 0) {
            term_fixture_free(fx);
            return NULL;
        }
    }
    return fx;
}

int term_fixture_free(TermFixture *fx) {
    if (!fx) return 0;
    term_close(fx->t);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

Term *term_fixture_spawn(TermFixture *fx, const char *const *args, const char *const *env, int cols, int rows) {
    term_close(fx->t);
    fx->t = term_spawn_quantlab(args, env, cols, rows);
    return fx->t;
}

const char *term_fixture_path(TermFixture *fx, const char *name) {
    char *b = fx->path[fx->next_path++ % 2];
    snprintf(b, sizeof fx->path[0], "%s/%s", fx->dir, name);
    return b;
}
