/* term_fixture.h — what an end-to-end test of the explorer needs around its
 * terminal: a fresh temporary directory (and, when asked, a plan file in it),
 * the program spawned again for each test, and all of it removed afterwards.
 * No cmocka here (the benchmarks link the pty harness too): functions report
 * failure, the tests assert. */
#ifndef QL_TESTS_TERM_FIXTURE_H
#define QL_TESTS_TERM_FIXTURE_H

#include "lib/term.h"

typedef struct TermFixture {
    Term *t;        /* the running explorer, or NULL */
    char dir[64];   /* /tmp/ql-TAG-XXXXXX, removed by term_fixture_free */
    char plan[128]; /* DIR/int4.plan when plan_text was given, else "" */
    char path[2][256];
    int next_path;
} TermFixture;

/* A new fixture with its directory; plan_text (or NULL) is written to
 * DIR/int4.plan. NULL on failure. */
TermFixture *term_fixture_new(const char *tag, const char *plan_text);
/* Closes the terminal, removes the directory, frees; 0 when all went well. */
int term_fixture_free(TermFixture *fx);
/* Closes the explorer the fixture had running and starts quantlab again
 * (term_spawn_quantlab); NULL when it cannot. */
Term *term_fixture_spawn(TermFixture *fx, const char *const *args, const char *const *env, int cols, int rows);
/* DIR/name; valid until two more calls. */
const char *term_fixture_path(TermFixture *fx, const char *name);

#endif
