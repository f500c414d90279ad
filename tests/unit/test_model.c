/* test_model.c — the model layer against the reference programs.
 *
 * Expected outputs come from outside quantlab: llama2.c's run.c (greedy ids and
 * text, tests/data/ids_fp32_*, run_fp32_*), its documentation (the sampled story
 * for seed 133742) and llama.cpp's converted GGUF files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "lib/proc.h"
#include "model/generate.h"
#include "model/model.h"

/* Reads "1 403 407 ..." into ids; returns the count. */
static int read_ids(const char *path, int *ids, int max) {
    char *text = proc_read_file(path, NULL);
    assert_non_null(text);
    int n = 0;
    for (char *p = text; *p && n < max;) {
        while (*p && (*p < '0' || *p > '9')) p++;
        if (!*p) break;
        ids[n++] = (int)strtol(p, &p, 10);
    }
    free(text);
    return n;
}

typedef struct Collect {
    int ids[1024];
    int n;
    char text[16384];
    size_t len;
} Collect;

static bool collect(void *ctx, const GenerateStep *step) {
    Collect *c = ctx;
    if (c->n < 1024) c->ids[c->n++] = step->token;
    if (c->len + step->piece_len < sizeof c->text) {
        memcpy(c->text + c->len, step->piece, step->piece_len);
        c->len += step->piece_len;
        c->text[c->len] = '\0';
    }
    return true;
}

/* Generates n_new tokens from `prompt` with the given sampler settings. */
static void run_generate(Model *m, const char *prompt, int n_new, float temp, float top_p,
                         uint64_t seed, Collect *c) {
    Error err = {0};
    Weights w;
    RunState s;
    Sampler smp;
    int *ids = NULL, n_ids = 0;
    memset(c, 0, sizeof *c);
    assert_int_equal(tokenizer_encode(&m->tok, prompt, strlen(prompt), true, false, &ids, &n_ids, &err), ST_OK);
    assert_int_equal(weights_init_f32(&w, m, &err), ST_OK);
    assert_int_equal(runstate_init(&s, &m->cfg, n_ids + n_new, NULL, &err), ST_OK);
    assert_int_equal(sampler_init(&smp, m->cfg.vocab_size, temp, top_p, seed, &err), ST_OK);
    GenerateStats st;
    assert_int_equal(generate_run(&w, &s, &smp, ids, n_ids, n_new, collect, c, &st, &err), ST_OK);
    free(ids);
    sampler_free(&smp);
    runstate_free(&s);
    weights_free(&w);
}

static Model *open_model(const char *relative, const char *tok) {
    Model *m = NULL;
    Error err = {0};
    Status st = model_open(&m, proc_data_path(relative), tok ? proc_data_path(tok) : NULL, &err);
    if (st != ST_OK) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, ST_OK);
    return m;
}

/* Shapes row length first, as llama.cpp prints them (stories260K: dim 64,
 * hidden 172); names without ".weight" only where it ends the name. */
static void test_model_tensor_shape_and_short_name(void **state) {
    (void)state;
    Model *m = open_model("assets/stories260K.gguf", NULL);
    char buf[64];
    assert_string_equal(model_tensor_shape(&m->tensors[model_find_tensor(m, "blk.0.ffn_gate.weight")], buf, sizeof buf),
                        "64x172");
    assert_string_equal(model_tensor_shape(&m->tensors[model_find_tensor(m, "blk.0.ffn_down.weight")], buf, sizeof buf),
                        "172x64");
    assert_string_equal(model_tensor_shape(&m->tensors[model_find_tensor(m, "output_norm.weight")], buf, sizeof buf),
                        "64");
    assert_string_equal(model_tensor_short_name("blk.0.attn_q.weight", buf, sizeof buf), "blk.0.attn_q");
    assert_string_equal(model_tensor_short_name("blk.3", buf, sizeof buf), "blk.3");
    assert_string_equal(model_tensor_short_name("x.weight.bias", buf, sizeof buf), "x.weight.bias");
    assert_string_equal(model_tensor_short_name(".weight", buf, sizeof buf), ".weight");
    model_close(m);
}

/* llama2.c run.c, greedy, 200 steps: BOS + 200 ids (tests/data/ids_fp32_t0_n200_noprompt.txt). */
static void check_greedy_ids(const char *model, const char *tok) {
    int want[512];
    int n_want = read_ids(proc_data_path("tests/data/ids_fp32_t0_n200_noprompt.txt"), want, 512);
    assert_int_equal(n_want, 201);
    Model *m = open_model(model, tok);
    Collect c;
    run_generate(m, "", 200, 0.0f, 0.9f, 1, &c);
    assert_int_equal(c.n, n_want);
    for (int i = 0; i < n_want; i++) assert_int_equal(c.ids[i], want[i]);
    model_close(m);
}

static void test_model_greedy_bundled_matches_llama2c(void **state) {
    (void)state;
    check_greedy_ids("assets/stories260K.gguf", NULL);
}

static void test_model_greedy_legacy_bin_matches_llama2c(void **state) {
    (void)state;
    check_greedy_ids("tests/data/stories260K.bin", "tests/data/tok512.bin");
}

static void test_model_greedy_llamacpp_f32_matches_llama2c(void **state) {
    (void)state;
    check_greedy_ids("tests/data/stories260K-f32.gguf", NULL);
}

static void test_model_greedy_llamacpp_f16_matches_llama2c(void **state) {
    (void)state;
    check_greedy_ids("tests/data/stories260K-f16.gguf", NULL);
}

/* 512 steps stop early at BOS, as llama2.c's run does; the text is byte-identical
 * to its stdout minus the final newline it prints. */
static void test_model_greedy_512_stops_at_bos(void **state) {
    (void)state;
    size_t len;
    char *want = proc_read_file(proc_data_path("tests/data/run_fp32_t0_n512_noprompt.txt"), &len);
    assert_non_null(want);
    Model *m = open_model("assets/stories260K.gguf", NULL);
    Collect c;
    run_generate(m, "", 512, 0.0f, 0.9f, 1, &c);
    assert_true(c.n < 513); /* stopped before the step limit */
    assert_int_equal(c.len, len - 1);
    assert_memory_equal(c.text, want, len - 1);
    free(want);
    model_close(m);
}

/* "Once upon a time" as a prompt continues exactly as the unprompted greedy story
 * (llama2.c's reference for -i "Once upon a time" equals the no-prompt output). */
static void test_model_prompt_is_forced_then_continued(void **state) {
    (void)state;
    size_t len;
    char *want = proc_read_file(proc_data_path("tests/data/run_fp32_t0_n200_noprompt.txt"), &len);
    Model *m = open_model("assets/stories260K.gguf", NULL);
    Collect c;
    run_generate(m, "Once upon a time", 196, 0.0f, 0.9f, 1, &c); /* 4 prompt tokens + 196 = 200 */
    int prompt_ids[] = {1, 403, 407, 261, 378};
    for (int i = 0; i < 5; i++) assert_int_equal(c.ids[i], prompt_ids[i]);
    assert_int_equal(c.len, len - 1);
    assert_memory_equal(c.text, want, len - 1);
    free(want);
    model_close(m);
}

/* llama2.c doc/stories260K.md: run -t 1.0 -p 0.9 -s 133742 (256 steps) prints this
 * story; reproducing it checks the xorshift generator, top-p and the softmax. */
static void test_model_sampled_story_matches_llama2c_doc(void **state) {
    (void)state;
    size_t len;
    char *want = proc_read_file(proc_data_path("tests/data/llama2c_doc_t1_p0.9_s133742.txt"), &len);
    Model *m = open_model("assets/stories260K.gguf", NULL);
    Collect c;
    run_generate(m, "", 256, 1.0f, 0.9f, 133742, &c);
    assert_true(c.len >= len - 1);
    assert_memory_equal(c.text, want, len - 1); /* the doc's text ends with a newline */
    free(want);
    model_close(m);
}

static void test_model_config_from_gguf(void **state) {
    (void)state;
    Model *m = open_model("assets/stories260K.gguf", NULL);
    const ModelConfig *c = &m->cfg;
    /* shared/models/README.md: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512, seq 512 */
    assert_int_equal(c->dim, 64);
    assert_int_equal(c->hidden_dim, 172);
    assert_int_equal(c->n_layers, 5);
    assert_int_equal(c->n_heads, 8);
    assert_int_equal(c->n_kv_heads, 4);
    assert_int_equal(c->head_dim, 8);
    assert_int_equal(c->kv_dim, 32);
    assert_int_equal(c->vocab_size, 512);
    assert_int_equal(c->context_length, 512);
    assert_int_equal(c->rope_dim, 8);
    assert_false(m->tied_output);
    assert_int_equal(m->n_tensors, 48);
    assert_int_equal(m->n_params, 292800); /* reference README: 292,800 stored values */
    /* tensor roles: ffn_down rows of 172 values */
    const ModelTensor *down = &m->tensors[m->layers[0].ffn_down];
    assert_string_equal(down->name, "blk.0.ffn_down.weight");
    assert_int_equal(down->cols, 172);
    assert_int_equal(down->rows, 64);
    /* the float copy equals the checkpoint: shared/models README, w2 at byte offset 599580 */
    FILE *fp = fopen(proc_data_path("tests/data/stories260K.bin"), "rb");
    assert_non_null(fp);
    float first[4];
    fseek(fp, 599580, SEEK_SET);
    assert_int_equal(fread(first, sizeof(float), 4, fp), 4);
    fclose(fp);
    assert_memory_equal(down->f32, first, sizeof first);
    model_close(m);
}

static void expect_open_error(const char *path, const char *tok, Status want, const char *needle) {
    Model *m = (Model *)1;
    Error err = {0};
    Status st = model_open(&m, path, tok, &err);
    if (st != want || !strstr(err.msg, needle))
        fprintf(stderr, "%s: status %d msg '%s'\n", path, st, err.msg);
    assert_int_equal(st, want);
    assert_null(m);
    assert_non_null(strstr(err.msg, needle));
    assert_null(strchr(err.msg, '\n')); /* one line */
}

static char tmpdir[256];

static int setup_tmp(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-model-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmpfile_with(const char *name, const void *data, size_t len) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len) assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    return path;
}

static void test_model_bad_files_give_one_line(void **state) {
    (void)state;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13};
    expect_open_error(tmpfile_with("empty.gguf", "", 0), NULL, ST_FORMAT, "empty file");
    expect_open_error(tmpfile_with("picture.gguf", png, sizeof png), NULL, ST_FORMAT, "89 50 4E 47");
    expect_open_error(tmpdir, NULL, ST_IO, "directory");
    expect_open_error("/nonexistent/model.gguf", NULL, ST_IO, "model.gguf");
    /* a llama2.c checkpoint with no tokenizer beside it */
    size_t len;
    char *bin = proc_read_file(proc_data_path("tests/data/stories260K.bin"), &len);
    expect_open_error(tmpfile_with("alone.bin", bin, len), NULL, ST_USAGE, "--tokenizer");
    /* ... and cut short: the header promises more bytes than there are */
    expect_open_error(tmpfile_with("short.bin", bin, len - 4), proc_data_path("tests/data/tok512.bin"),
                      ST_FORMAT, "short.bin");
    free(bin);
    /* the bundled GGUF cut in the tensor data: refused before anything is allocated */
    char *gguf = proc_read_file(proc_data_path("assets/stories260K.gguf"), &len);
    expect_open_error(tmpfile_with("cut.gguf", gguf, len / 2), NULL, ST_FORMAT, "cut.gguf");
    expect_open_error(tmpfile_with("header.gguf", gguf, 100), NULL, ST_FORMAT, "header.gguf");
    free(gguf);
}

/* A GGUF written with a tensor missing or misshapen, or another architecture. */
static void write_variant(const char *path, const char *drop, const char *arch, int reshape) {
    GgufFile g;
    Error err = {0};
    assert_int_equal(gguf_open(&g, proc_data_path("assets/stories260K.gguf"), &err), ST_OK);
    GgufWriter *w = gguf_writer_new();
    for (uint64_t i = 0; i < g.n_kv; i++) {
        if (arch && strcmp(g.kv[i].key, "general.architecture") == 0)
            assert_int_equal(gguf_writer_set_str(w, g.kv[i].key, arch), ST_OK);
        else
            assert_int_equal(gguf_writer_set_value(w, g.kv[i].key, &g.kv[i].value), ST_OK);
    }
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *t = &g.tensors[i];
        if (drop && strcmp(t->name, drop) == 0) continue;
        uint64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (reshape && strcmp(t->name, "blk.2.attn_k.weight") == 0) { /* 64x32 -> 32x64 */
            ne[0] = 32;
            ne[1] = 64;
        }
        assert_int_equal(gguf_writer_add_tensor(w, t->name, t->n_dims, ne, t->type, t->data, t->nbytes), ST_OK);
    }
    assert_int_equal(gguf_writer_write_file(w, path, &err), ST_OK);
    gguf_writer_delete(w);
    gguf_close(&g);
}

static void test_model_structure_errors_name_the_tensor(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/variant.gguf", tmpdir);
    write_variant(path, "blk.3.ffn_up.weight", NULL, 0);
    expect_open_error(path, NULL, ST_FORMAT, "missing tensor 'blk.3.ffn_up.weight'");
    write_variant(path, NULL, "qwen2", 0);
    expect_open_error(path, NULL, ST_UNSUPPORTED, "architecture 'qwen2'");
    write_variant(path, NULL, NULL, 1);
    expect_open_error(path, NULL, ST_FORMAT, "'blk.2.attn_k.weight' has shape 32x64, expected 64x32");
    /* without output.weight the classifier is tied to the embedding, and the story is the same */
    write_variant(path, "output.weight", NULL, 0);
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, path, NULL, &err), ST_OK);
    assert_true(m->tied_output);
    Collect c;
    run_generate(m, "", 40, 0.0f, 0.9f, 1, &c);
    int want[64];
    read_ids(proc_data_path("tests/data/ids_fp32_t0_n200_noprompt.txt"), want, 64);
    for (int i = 0; i < 41; i++) assert_int_equal(c.ids[i], want[i]);
    model_close(m);
}

static void test_model_runstate_limits(void **state) {
    (void)state;
    Model *m = open_model("assets/stories260K.gguf", NULL);
    RunState s;
    Error err = {0};
    assert_int_equal(runstate_init(&s, &m->cfg, 0, NULL, &err), ST_LIMIT);
    assert_int_equal(runstate_init(&s, &m->cfg, RUNSTATE_MAX_CTX + 1, NULL, &err), ST_LIMIT);
    assert_int_equal(runstate_init(&s, &m->cfg, 8, NULL, &err), ST_OK);
    /* a generation longer than the cache is refused, not overrun */
    Weights w;
    Sampler smp;
    assert_int_equal(weights_init_f32(&w, m, &err), ST_OK);
    assert_int_equal(sampler_init(&smp, 512, 0.0f, 0.9f, 1, &err), ST_OK);
    int bos = 1;
    assert_int_equal(generate_run(&w, &s, &smp, &bos, 1, 9, NULL, NULL, NULL, &err), ST_LIMIT);
    assert_int_equal(generate_run(&w, &s, &smp, &bos, 1, 8, NULL, NULL, NULL, &err), ST_OK);
    sampler_free(&smp);
    weights_free(&w);
    runstate_free(&s);
    model_close(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_tensor_shape_and_short_name),
        cmocka_unit_test(test_model_greedy_bundled_matches_llama2c),
        cmocka_unit_test(test_model_greedy_legacy_bin_matches_llama2c),
        cmocka_unit_test(test_model_greedy_llamacpp_f32_matches_llama2c),
        cmocka_unit_test(test_model_greedy_llamacpp_f16_matches_llama2c),
        cmocka_unit_test(test_model_greedy_512_stops_at_bos),
        cmocka_unit_test(test_model_prompt_is_forced_then_continued),
        cmocka_unit_test(test_model_sampled_story_matches_llama2c_doc),
        cmocka_unit_test(test_model_config_from_gguf),
        cmocka_unit_test(test_model_bad_files_give_one_line),
        cmocka_unit_test(test_model_structure_errors_name_the_tensor),
        cmocka_unit_test(test_model_runstate_limits),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
