/* term_fixture.h — what an end-to-end test of the explorer needs around its
 * terminal: a fresh temporary directory (and, when asked, a plan file in it)
 * that also holds the learner's progress (XDG_STATE_HOME), the program spawned
 * again for each test, its questions answered, and all of it removed
 * afterwards. No cmocka here (the benchmarks link the pty harness too):
 * functions report failure, with the screen dumped to stderr, and the tests
 * assert. */
#ifndef QL_TESTS_TERM_FIXTURE_H
#define QL_TESTS_TERM_FIXTURE_H

#include "lib/term.h"

/* How long term_fixture_spawn waits for the first screen. */
enum { TERM_FIXTURE_FIRST_MS = 20000 };

typedef struct TermFixture {
    Term *t;        /* the running explorer, or NULL */
    char dir[64];   /* /tmp/ql-TAG-XXXXXX, removed by term_fixture_free */
    char plan[128]; /* DIR/int4.plan when plan_text was given, else "" */
    char state_env[96]; /* XDG_STATE_HOME=DIR: progress.json goes to DIR/quantlab/ */
    char path[2][256];
    int next_path;
} TermFixture;

/* A new fixture with its directory; plan_text (or NULL) is written to
 * DIR/int4.plan. NULL on failure. */
TermFixture *term_fixture_new(const char *tag, const char *plan_text);
/* Closes the terminal, removes the directory, frees; 0 when all went well. */
int term_fixture_free(TermFixture *fx);
/* Closes the explorer the fixture had running and starts quantlab again
 * (term_spawn_quantlab, with fx->state_env before env), then waits up to
 * TERM_FIXTURE_FIRST_MS for `first` on its screen (NULL: no wait). NULL when
 * it cannot start or never shows `first`. */
Term *term_fixture_spawn(TermFixture *fx, const char *const *args, const char *const *env, int cols, int rows,
                         const char *first);
/* DIR/name; valid until two more calls. */
const char *term_fixture_path(TermFixture *fx, const char *name);

/* Answers one of the explorer's input boxes: presses key, waits for the
 * question, clears the suggested text (Ctrl-U), types text, then Enter.
 * False when the question never showed. */
bool term_fixture_answer(Term *t, const char *key, const char *question, const char *text, int timeout_ms);

#endif
