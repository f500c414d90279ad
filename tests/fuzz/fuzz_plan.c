/* fuzz_plan.c — fuzz target for the plan text format (plan_rules_parse): lines
 * of PATTERN=FORMAT with POSIX extended regular expressions, as llama-quantize's
 * --tensor-type.
 *
 * The rules are applied to the bundled stories260K model (assets/, read once).
 * Invariants: a refusal is one line naming the file (and the line number);
 * accepted rules resolve to a plan; the plan's own text form parses and resolves
 * to the same plan. A pathological pattern must be refused or run quickly — run
 * with -timeout so a regex that takes seconds (glibc's back-references, nested
 * counted repetitions) is reported as a hang.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "model/model.h"
#include "model/plan.h"

static Model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    model = fuzz_open_bundled_model();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    PlanRules r;
    Error err;
    if (plan_rules_parse(&r, (const char *)data, size, "fuzz.plan", &err) != ST_OK) {
        FUZZ_CHECK(r.rules == NULL && r.n_rules == 0);
        FUZZ_CHECK_MESSAGE(err.msg, "fuzz.plan");
        return 0;
    }
    Plan p, q;
    FUZZ_CHECK(plan_init(&p, model, FORMAT_FP32, &err) == ST_OK);
    FUZZ_CHECK(plan_apply_rules(&p, model, &r, "fuzz.plan", &err) == ST_OK);
    plan_rules_free(&r);

    char *text = NULL;
    FUZZ_CHECK(plan_to_text(&p, model, &text, &err) == ST_OK);
    if (plan_rules_parse(&r, text, strlen(text), "again.plan", &err) != ST_OK) {
        fprintf(stderr, "%s\n---\n%s---\n", err.msg, text);
        FUZZ_CHECK(!"the text form of a plan parses");
    }
    FUZZ_CHECK(plan_init(&q, model, FORMAT_FP32, &err) == ST_OK);
    FUZZ_CHECK(plan_apply_rules(&q, model, &r, "again.plan", &err) == ST_OK);
    FUZZ_CHECK(plan_equal(&p, &q));
    plan_rules_free(&r);
    plan_free(&p);
    plan_free(&q);
    free(text);
    return 0;
}
