/* term_fixture.c — see term_fixture.h. */
#include "lib/term_fixture.h"

#include <assert.h>
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
    snprintf(fx->state_env, sizeof fx->state_env, "XDG_STATE_HOME=%s", fx->dir);
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

Term *term_fixture_spawn(TermFixture *fx, const char *const *args, const char *const *env, int cols, int rows,
                         const char *first) {
    enum { MAX_ENV = 15 };
    const char *all[MAX_ENV + 2] = {fx->state_env};
    int n = 1;
    for (int i = 0; env && env[i]; i++) {
        assert(n <= MAX_ENV);
        all[n++] = env[i];
    }
    term_close(fx->t);
    fx->t = term_spawn_quantlab(args, all, cols, rows);
    if (fx->t && first && !term_wait_text(fx->t, first, TERM_FIXTURE_FIRST_MS)) {
        term_dump(fx->t, stderr);
        fprintf(stderr, "term_fixture: the screen never showed \"%s\" within %d ms\n", first, TERM_FIXTURE_FIRST_MS);
        return NULL; /* still fx->t: term_fixture_free closes it */
    }
    return fx->t;
}

const char *term_fixture_path(TermFixture *fx, const char *name) {
    char *b = fx->path[fx->next_path++ % 2];
    snprintf(b, sizeof fx->path[0], "%s/%s", fx->dir, name);
    return b;
}

bool term_fixture_answer(Term *t, const char *key, const char *question, const char *text, int timeout_ms) {
    term_send_str(t, key);
    if (!term_wait_text(t, question, timeout_ms)) {
        term_dump(t, stderr);
        fprintf(stderr, "term_fixture: \"%s\" never asked \"%s\" within %d ms\n", key, question, timeout_ms);
        return false;
    }
    term_send_str(t, "\x15"); /* Ctrl-U: clear the suggested text */
    term_send_str(t, text);
    term_send_key(t, TERM_KEY_ENTER);
    return true;
}
