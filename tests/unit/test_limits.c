/* test_limits.c — resource limits: every input that asks for more than the
 * machine can give is refused with one line that says what and why, before
 * the allocation, never by taking the machine down.
 *
 * Memory is checked against sysmem_total(); QUANTLAB_MEMORY_BYTES makes these
 * tests see a small machine, so the real refusals run on the bundled model.
 * Sizes are worked out by hand in each test's comment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sysmem.h"
#include "gguf/gguf.h"
#include "gguf/llama2c.h"
#include "lib/proc.h"
#include "model/eval.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "model/tokenizer.h"

#define BUNDLED "assets/stories260K.gguf"

/* One line, containing needle. */
static void expect_line(const Error *err, const char *needle) {
    if (!strstr(err->msg, needle)) fprintf(stderr, "message: '%s'\nwanted: '%s'\n", err->msg, needle);
    assert_non_null(strstr(err->msg, needle));
    assert_null(strchr(err->msg, '\n'));
}

static uint8_t *bundled_bytes(size_t *len) {
    uint8_t *buf = (uint8_t *)proc_read_file(proc_data_path(BUNDLED), len);
    assert_non_null(buf);
    return buf;
}

/* A writer holding every key and tensor of the bundled model, for a test to
 * change a key and write the result with bundled_image. The tensors' data is
 * borrowed from *buf (the file's bytes), which the caller frees afterwards. */
static GgufWriter *bundled_writer(uint8_t **buf) {
    size_t len;
    *buf = bundled_bytes(&len);
    GgufFile g;
    Error err = {0};
    assert_int_equal(gguf_parse(&g, *buf, len, "x", &err), ST_OK);
    GgufWriter *w = gguf_writer_new();
    assert_non_null(w);
    for (uint64_t i = 0; i < g.n_kv; i++)
        assert_int_equal(gguf_writer_set_value(w, g.kv[i].key, &g.kv[i].value), ST_OK);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *ti = &g.tensors[i];
        assert_int_equal(gguf_writer_add_tensor(w, ti->name, ti->n_dims, ti->ne, ti->type, ti->data, ti->nbytes),
                         ST_OK);
    }
    gguf_close(&g);
    return w;
}

/* The file bundled_writer's writer makes (caller frees); deletes the writer. */
static uint8_t *bundled_image(GgufWriter *w, size_t *len) {
    uint8_t *image;
    Error err = {0};
    assert_int_equal(gguf_writer_write_buffer(w, &image, len, &err), ST_OK);
    gguf_writer_delete(w);
    return image;
}

static double seconds_since(struct timespec t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ------------------------------------------------------------------ model */

/* token_embd.weight declared 64 x 2^40 floats (256 TiB) in the bundled file: the
 * reader sees its data would end past the end of the file and says so. */
static void test_limits_tensor_larger_than_memory_refused(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = bundled_bytes(&len);
    static const char name[] = "token_embd.weight";
    uint8_t *p = NULL;
    for (size_t i = 8; i + sizeof name + 24 < len && !p; i++)
        if (memcmp(buf + i, name, sizeof name - 1) == 0 && buf[i - 8] == sizeof name - 1) p = buf + i;
    assert_non_null(p);
    p += sizeof name - 1;
    uint32_t n_dims;
    memcpy(&n_dims, p, 4);
    assert_int_equal(n_dims, 2);
    uint64_t rows = 1ull << 40;
    memcpy(p + 4 + 8, &rows, 8); /* ne[1] */
    Model *m = (Model *)1;
    Error err = {0};
    assert_int_equal(model_open_buffer(&m, buf, len, "huge.gguf", &err), ST_FORMAT);
    assert_null(m);
    expect_line(&err, "huge.gguf: tensor 'token_embd.weight' data ends past the end of the file");
    free(buf);
}

/* A file whose tensors really exist but whose float copies do not fit: the
 * bundled model's 292,800 weights are 1,171,200 bytes as floats; on a "machine"
 * of 1 MB (80% usable) that is refused before a single tensor is copied. */
static void test_limits_floats_exceed_memory(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = bundled_bytes(&len);
    Model *m = NULL;
    Error err = {0};
    setenv("QUANTLAB_MEMORY_BYTES", "1M", 1);
    assert_int_equal(sysmem_total(), 1000000);
    assert_int_equal(model_open_buffer(&m, buf, len, "stories260K.gguf", &err), ST_LIMIT);
    assert_null(m);
    expect_line(&err, "stories260K.gguf: its 0.29 million weights need 1.17 MB as floats; this machine has 1.00 MB");
    /* the same through a path (what every command uses) */
    assert_int_equal(model_open(&m, proc_data_path(BUNDLED), NULL, &err), ST_LIMIT);
    expect_line(&err, "need 1.17 MB as floats; this machine has 1.00 MB");
    /* a llama2.c checkpoint is refused before its in-memory conversion */
    assert_int_equal(model_open(&m, proc_data_path("tests/data/stories260K.bin"),
                                proc_data_path("tests/data/tok512.bin"), &err), ST_LIMIT);
    expect_line(&err, "stories260K.bin: converting this checkpoint needs 2.");
    /* the check is what refused: on 2 MB it opens */
    setenv("QUANTLAB_MEMORY_BYTES", "2M", 1);
    assert_int_equal(model_open_buffer(&m, buf, len, "stories260K.gguf", &err), ST_OK);
    model_close(m);
    unsetenv("QUANTLAB_MEMORY_BYTES");
    assert_true(sysmem_total() > 2000000);
    free(buf);
}

/* Nonsense in the variable is ignored (the real memory is used). */
static void test_limits_memory_variable_parsing(void **state) {
    (void)state;
    uint64_t real = (unsetenv("QUANTLAB_MEMORY_BYTES"), sysmem_total());
    static const struct { const char *v; uint64_t want; } cases[] = {
        {"123456", 123456}, {"512k", 512000}, {"3G", 3000000000ull}, {"", 0}, {"-5", 0},
        {"12x", 0}, {"99999999999999999999", 0}, {"G", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("QUANTLAB_MEMORY_BYTES", cases[i].v, 1);
        assert_int_equal(sysmem_total(), cases[i].want ? cases[i].want : real);
    }
    setenv("QUANTLAB_MEMORY_BYTES", "1000", 1);
    assert_true(sysmem_fits(800));
    assert_false(sysmem_fits(801));
    assert_false(sysmem_fits(UINT64_MAX));
    unsetenv("QUANTLAB_MEMORY_BYTES");
}

/* ------------------------------------------------------------ vocabulary */

/* 4,194,305 tokens (TOKENIZER_MAX_VOCAB + 1) in a GGUF, in a llama2.c header
 * and asked of tokenizer_init: each refused with the limit in the message. */
static void test_limits_vocabulary_of_millions_refused(void **state) {
    (void)state;
    Error err = {0};
    Tokenizer t;
    const char *one[] = {"a"};
    assert_int_equal(tokenizer_init(&t, TOKENIZER_MAX_VOCAB + 1, one, NULL, NULL, -1, -1, -1, true,
                                    "big.gguf", &err), ST_LIMIT);
    expect_line(&err, "big.gguf: a vocabulary of 4194305 tokens is outside what quantlab accepts (1 to 4194304)");

    /* llama2.c: refused from the size alone, before reading a record */
    char **tokens;
    float *scores;
    int32_t *types;
    static const uint8_t tiny[12] = {0};
    assert_int_equal(llama2c_read_tokenizer(tiny, sizeof tiny, "tokenizer.bin", 5000000, &tokens, &scores,
                                            &types, &err), ST_LIMIT);
    expect_line(&err, "tokenizer.bin: vocabulary size 5000000 is more than the 4194304 quantlab accepts");

    /* a GGUF that really holds 4,194,305 one-byte tokens (about 38 MB) */
    uint8_t *buf;
    GgufWriter *w = bundled_writer(&buf);
    size_t n = (size_t)TOKENIZER_MAX_VOCAB + 1;
    const char **strs = malloc(n * sizeof *strs);
    assert_non_null(strs);
    for (size_t i = 0; i < n; i++) strs[i] = "x";
    assert_int_equal(gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", strs, n), ST_OK);
    free(strs);
    assert_true(gguf_writer_remove(w, "tokenizer.ggml.scores"));
    assert_true(gguf_writer_remove(w, "tokenizer.ggml.token_type"));
    size_t image_len;
    uint8_t *image = bundled_image(w, &image_len);
    Model *m = (Model *)1;
    assert_int_equal(model_open_buffer(&m, image, image_len, "big.gguf", &err), ST_LIMIT);
    assert_null(m);
    expect_line(&err, "big.gguf: 4194305 tokens is outside 1..4194304");
    free(image);
    free(buf);
}

/* --------------------------------------------------------------- context */

/* A file that declares a context of 2^31 positions opens (llama.cpp's
 * converter writes what it likes there), but no cache is ever sized by it:
 * runstate_init refuses anything past RUNSTATE_MAX_CTX, evaluation cuts its
 * pieces to RUNSTATE_MAX_CTX, generation sizes its cache by the prompt and -n. */
static void test_limits_context_of_2_31(void **state) {
    (void)state;
    uint8_t *buf;
    GgufWriter *w = bundled_writer(&buf);
    assert_int_equal(gguf_writer_set_u32(w, "llama.context_length", 1u << 31), ST_OK);
    size_t image_len;
    uint8_t *image = bundled_image(w, &image_len);

    Error err = {0};
    Model *m = NULL;
    assert_int_equal(model_open_buffer(&m, image, image_len, "ctx.gguf", &err), ST_OK);
    assert_int_equal(m->cfg.context_length, INT32_MAX); /* 2^31 clamped to what an int holds */
    RunState s;
    assert_int_equal(runstate_init(&s, &m->cfg, m->cfg.context_length, NULL, &err), ST_LIMIT);
    expect_line(&err, "a sequence of 2147483647 positions is outside 1..65536");
    EvalSet set;
    static const char text[] = "Once upon a time there was a cat.\n\nThe end.";
    assert_int_equal(evalset_from_text(&set, m, text, sizeof text - 1, "t.txt", EVAL_LLAMA2C, 0, 0, &err), ST_OK);
    assert_int_equal(set.n_ctx, RUNSTATE_MAX_CTX);
    evalset_free(&set);
    model_close(m);
    free(image);
    free(buf);
}

/* The KV cache is checked against memory too: stories260K at 65,536 positions
 * needs 5 layers x 65,536 x 32 floats x 4 bytes x 2 (keys and values) =
 * 83,886,080 bytes plus 8 heads x 65,536 x 4 = 2,097,152 of scores: 85.98 MB. */
static void test_limits_kv_cache_exceeds_memory(void **state) {
    (void)state;
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, proc_data_path(BUNDLED), NULL, &err), ST_OK);
    RunState s;
    setenv("QUANTLAB_MEMORY_BYTES", "50M", 1);
    assert_int_equal(runstate_init(&s, &m->cfg, RUNSTATE_MAX_CTX, NULL, &err), ST_LIMIT);
    expect_line(&err, "a cache for 65536 positions needs 86.0 MB; this machine has 50.0 MB");
    setenv("QUANTLAB_MEMORY_BYTES", "200M", 1);
    assert_int_equal(runstate_init(&s, &m->cfg, RUNSTATE_MAX_CTX, NULL, &err), ST_OK);
    runstate_free(&s);
    unsetenv("QUANTLAB_MEMORY_BYTES");
    model_close(m);
}

/* Quantized copies accumulate in the cache (one per tensor and format, with
 * its dequantized floats: about 5 bytes a weight). On a "machine" of 3 MB
 * (2.4 MB usable), beside 1.17 MB of floats, the INT8 copies of the first
 * matrices fit and then the next is refused with a line naming the tensor,
 * instead of growing until the kernel kills the program. */
static void test_limits_quantized_copies_exceed_memory(void **state) {
    (void)state;
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, proc_data_path(BUNDLED), NULL, &err), ST_OK);
    Plan p;
    assert_int_equal(plan_init(&p, m, FORMAT_INT8, &err), ST_OK);
    QuantCache *c = qcache_new(m, NULL);
    Weights w;
    setenv("QUANTLAB_MEMORY_BYTES", "3M", 1);
    assert_int_equal(weights_init_plan(&w, m, &p, c, &err), ST_LIMIT);
    expect_line(&err, "no memory left for another quantized copy");
    expect_line(&err, "this machine has 3.00 MB");
    unsetenv("QUANTLAB_MEMORY_BYTES");
    assert_int_equal(weights_init_plan(&w, m, &p, c, &err), ST_OK);
    weights_free(&w);
    qcache_delete(c);
    plan_free(&p);
    model_close(m);
}

/* ---------------------------------------------------------------- texts */

/* len bytes of phrase over and over (not NUL-terminated; caller frees). */
static char *repeat_text(const char *phrase, size_t len) {
    const size_t k = strlen(phrase);
    char *text = malloc(len);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++) text[i] = phrase[i % k];
    return text;
}

/* A megabyte of prompt encodes in well under a second (the encoder is
 * O(n log n)) into far more tokens than any cache holds; generate refuses it
 * (tests/e2e/test_limits_cli.c runs the command). On a "machine" of 10 MB the
 * encoder refuses to start: its working set is about 70 bytes per byte. */
static void test_limits_megabyte_prompt(void **state) {
    (void)state;
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, proc_data_path(BUNDLED), NULL, &err), ST_OK);
    size_t len = 1 << 20;
    char *text = repeat_text("Once upon a time, a little dog ran to the park. ", len);
    int *ids = NULL, n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tokenizer_encode(&m->tok, text, len, true, false, &ids, &n, &err), ST_OK);
    assert_true(seconds_since(t0) < 20.0); /* generous: sanitizers on a loaded machine */
    assert_true(n > RUNSTATE_MAX_CTX);
    free(ids);
    setenv("QUANTLAB_MEMORY_BYTES", "10M", 1);
    assert_int_equal(tokenizer_encode(&m->tok, text, len, true, false, &ids, &n, &err), ST_LIMIT);
    assert_null(ids);
    expect_line(&err, "text of 1048576 bytes is too long to tokenize at once on a machine with 10.0 MB");
    unsetenv("QUANTLAB_MEMORY_BYTES");
    free(text);
    model_close(m);
}

/* An evaluation text of one 1 MB line without a blank line is one piece, cut
 * to the model's context (512 for stories260K), not a 1 MB sequence. */
static void test_limits_eval_text_one_huge_piece(void **state) {
    (void)state;
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, proc_data_path(BUNDLED), NULL, &err), ST_OK);
    size_t len = 1 << 20;
    char *text = repeat_text("the cat sat. ", len);
    EvalSet set;
    assert_int_equal(evalset_from_text(&set, m, text, len, "one.txt", EVAL_LLAMA2C, 0, 0, &err), ST_OK);
    assert_int_equal(set.n_seqs, 1);
    assert_int_equal(set.max_len, m->cfg.context_length);
    assert_int_equal(set.n_truncated, 1);
    evalset_free(&set);
    free(text);
    model_close(m);
}

/* ---------------------------------------------------------------- plans */

static char *repeat_lines(const char *line, size_t n, size_t *len) {
    size_t k = strlen(line);
    char *s = malloc(n * k + 32);
    assert_non_null(s);
    memcpy(s, "default=q4_0\n", 13);
    for (size_t i = 0; i < n; i++) memcpy(s + 13 + i * k, line, k);
    *len = 13 + n * k;
    return s;
}

/* A million comment lines parse quickly; a million rules stop at the 4,096th;
 * a megabyte line is refused at its first 1,024 bytes. */
static void test_limits_plan_million_lines_and_megabyte_line(void **state) {
    (void)state;
    PlanRules r;
    Error err = {0};
    size_t len;
    char *text = repeat_lines("# a comment\n", 1000000, &len);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(plan_rules_parse(&r, text, len, "comments.plan", &err), ST_OK);
    assert_true(seconds_since(t0) < 20.0);
    assert_int_equal(r.n_rules, 0);
    plan_rules_free(&r);
    free(text);

    text = repeat_lines("attn_q=q8_0\n", 1000000, &len);
    assert_int_equal(plan_rules_parse(&r, text, len, "rules.plan", &err), ST_LIMIT);
    expect_line(&err, "rules.plan:4098: more than 4096 rules");
    assert_null(r.rules);
    free(text);

    len = 1 << 20;
    text = malloc(len);
    assert_non_null(text);
    memset(text, 'a', len);
    memcpy(text + len - 5, "=f16\n", 5);
    assert_int_equal(plan_rules_parse(&r, text, len, "long.plan", &err), ST_FORMAT);
    expect_line(&err, "long.plan:1: line longer than 1024 bytes");
    free(text);
}

/* Patterns glibc would spend gigabytes or minutes on are refused before
 * regcomp (fuzz_plan found the first: a '+' repeated 80 times doubles the
 * compiled tree 80 times). What plans really use still passes. */
static void test_limits_plan_patterns_glibc_chokes_on(void **state) {
    (void)state;
    static const struct { const char *pattern; const char *why; } bad[] = {
        {"attn_(q|k~++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++)", "more than two repetition operators"},
        {"((((x{0,99}){0,99}){0,99}){0,99})", "more than 1024 regex nodes"},
        {"((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)", "more than 1024 regex nodes"},
        {"x{0,4096}", "a repetition count above 255"},
        {"x{,99999999999}", "a repetition count above 255"},
        {"(.*)(.*)(.*)\\3\\2\\1x", "a back-reference"},
        {"=*\\bkx?x?/?*********************************************???", "more than two repetition operators"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "default=q4_0\n%s=q8_0\n", bad[i].pattern);
        PlanRules r;
        Error err = {0};
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(plan_rules_parse(&r, text, strlen(text), "evil.plan", &err), ST_LIMIT);
        assert_true(seconds_since(t0) < 1.0);
        expect_line(&err, "evil.plan:2: pattern '");
        expect_line(&err, bad[i].why);
    }
    static const char *const good[] = {
        "^blk\\.1[0-9]\\.attn_output\\.weight$", "blk\\.[0-2]\\.ffn_.*", "attn_(q|k|v)", "x{0,255}",
        "(blk\\.[0-9]+\\.)+ffn", "a{2}b{3,}c{1,5}", ".*?", "[[:digit:]]{1,3}\\.attn_[^.]+",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "default=q4_0\n%s=q8_0\n", good[i]);
        PlanRules r;
        Error err = {0};
        Status st = plan_rules_parse(&r, text, strlen(text), "fine.plan", &err);
        if (st != ST_OK) fprintf(stderr, "%s: %s\n", good[i], err.msg);
        assert_int_equal(st, ST_OK);
        assert_int_equal(r.n_rules, 1);
        plan_rules_free(&r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_tensor_larger_than_memory_refused),
        cmocka_unit_test(test_limits_floats_exceed_memory),
        cmocka_unit_test(test_limits_memory_variable_parsing),
        cmocka_unit_test(test_limits_vocabulary_of_millions_refused),
        cmocka_unit_test(test_limits_context_of_2_31),
        cmocka_unit_test(test_limits_kv_cache_exceeds_memory),
        cmocka_unit_test(test_limits_quantized_copies_exceed_memory),
        cmocka_unit_test(test_limits_megabyte_prompt),
        cmocka_unit_test(test_limits_eval_text_one_huge_piece),
        cmocka_unit_test(test_limits_plan_million_lines_and_megabyte_line),
        cmocka_unit_test(test_limits_plan_patterns_glibc_chokes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
