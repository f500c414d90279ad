/* test_plan.c — plans: the rule text, presets, sizes, the quantized-copy cache,
 * and GGUF export against llama.cpp's own quantized files. */
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
#include "model/export.h"
#include "model/generate.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "quant/types.h"

static Model *model;
static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    Error err = {0};
    if (model_open(&model, proc_data_path("assets/stories260K.gguf"), NULL, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-plan-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    model_close(model);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int tensor(const char *name) {
    int i = model_find_tensor(model, name);
    assert_true(i >= 0);
    return i;
}

static Status parse(const char *text, PlanRules *r, Error *err) {
    return plan_rules_parse(r, text, strlen(text), "my.plan", err);
}

static void expect_parse_error(const char *text, Status want, const char *needle) {
    PlanRules r;
    Error err = {0};
    Status st = parse(text, &r, &err);
    if (st != want || !strstr(err.msg, needle)) fail_msg("'%s': status %d, '%s'", text, st, err.msg);
    assert_null(strchr(err.msg, '\n'));
    plan_rules_free(&r);
}

static void test_plan_rules_last_match_wins(void **state) {
    (void)state;
    const char *text =
        "# stories260K: INT4 with a few exceptions\n"
        "default=q4_0\n"
        "attn_v=q8_0\n"
        "blk\\.[0-1]\\.ffn_.*=int3-b64\n"
        "blk\\.1\\.ffn_up=f16\n"
        "  output\\.weight = q8_0  \n"
        "_norm=q8_0\n";
    PlanRules r;
    Error err = {0};
    assert_int_equal(parse(text, &r, &err), ST_OK);
    assert_int_equal(r.n_rules, 5);
    Plan p;
    assert_int_equal(plan_init(&p, model, FORMAT_FP32, &err), ST_OK);
    assert_int_equal(plan_apply_rules(&p, model, &r, "my.plan", &err), ST_OK);
    char name[64];
#define EXPECT(tensor_name, fmt_text) \
    assert_string_equal(format_name(p.fmt[tensor(tensor_name)], name, sizeof name), fmt_text)
    EXPECT("token_embd.weight", "q4_0");
    EXPECT("blk.3.attn_v.weight", "q8_0");
    EXPECT("blk.0.attn_q.weight", "q4_0");
    EXPECT("blk.0.ffn_gate.weight", "int3-b64-sym");
    EXPECT("blk.1.ffn_up.weight", "f16");     /* later rule wins over the block rule */
    EXPECT("blk.2.ffn_up.weight", "q4_0");
    EXPECT("output.weight", "q8_0");          /* "output\.weight" also matches attn_output... */
    EXPECT("blk.4.attn_output.weight", "q8_0"); /* ...as a search does in llama-quantize */
    EXPECT("blk.0.attn_norm.weight", "f32");  /* norms never change */
    EXPECT("output_norm.weight", "f32");
#undef EXPECT
    plan_free(&p);
    plan_rules_free(&r);
}

static void test_plan_rules_errors_name_file_and_line(void **state) {
    (void)state;
    expect_parse_error("default=q4_0\nattn_v=q9_0\n", ST_USAGE, "my.plan:2: unknown format 'q9_0'");
    expect_parse_error("blk\\.[0-=q4_0\n", ST_USAGE, "my.plan:1: bad regular expression 'blk\\.[0-'");
    expect_parse_error("default=q4_0\n\nattn_v q8_0\n", ST_USAGE, "my.plan:3: expected PATTERN=FORMAT");
    expect_parse_error("attn_v=q4_K\n", ST_UNSUPPORTED, "my.plan:1:");
    expect_parse_error("", ST_FORMAT, "empty");
    expect_parse_error("# only a comment\n\n", ST_FORMAT, "no rules");
    expect_parse_error("default=q4_0\n\xff\xfe\n", ST_FORMAT, "not UTF-8");
    PlanRules r;
    Error err = {0};
    assert_int_equal(plan_rules_parse(&r, "a=q4_0\0b", 8, "bin.plan", &err), ST_FORMAT);
    assert_non_null(strstr(err.msg, "bin.plan"));
}

/* plan_to_text is compact and parses back to the same plan, for presets and for
 * a plan with scattered per-tensor changes. */
static void test_plan_text_round_trips(void **state) {
    (void)state;
    Error err = {0};
    for (int preset = 0; preset < PRESET_COUNT + 1; preset++) {
        Plan p;
        if (preset < PRESET_COUNT) {
            assert_int_equal(plan_preset(&p, model, (PlanPreset)preset, &err), ST_OK);
        } else { /* a messy hand-made plan */
            assert_int_equal(plan_init(&p, model, FORMAT_INT4, &err), ST_OK);
            p.fmt[tensor("blk.2.attn_q.weight")] = FORMAT_INT8;
            p.fmt[tensor("blk.4.ffn_down.weight")] = format_teach(3, GRAN_ROW, 0, true);
            p.fmt[tensor("output.weight")] = FORMAT_FP16;
        }
        char *text = NULL;
        assert_int_equal(plan_to_text(&p, model, &text, &err), ST_OK);
        PlanRules r;
        assert_int_equal(parse(text, &r, &err), ST_OK);
        Plan back;
        assert_int_equal(plan_init(&back, model, FORMAT_FP32, &err), ST_OK);
        assert_int_equal(plan_apply_rules(&back, model, &r, "x", &err), ST_OK);
        if (!plan_equal(&p, &back)) fail_msg("plan %d did not survive its text:\n%s", preset, text);
        if (preset == PRESET_INT4) assert_true(proc_count_lines(text) == 2); /* comment + default */
        free(text);
        plan_rules_free(&r);
        plan_free(&back);
        plan_free(&p);
    }
}

/* llama.cpp's use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2;
 * for n = 5: n/8 = 0, 7n/8 = 4, so layers 2 ((2-0)%3 == 2) and 4 (>= 4). */
static void test_plan_q4_k_m_like_preset(void **state) {
    (void)state;
    Plan p;
    Error err = {0};
    assert_int_equal(plan_preset(&p, model, PRESET_Q4_K_M_LIKE, &err), ST_OK);
    char buf[64];
    for (int l = 0; l < 5; l++) {
        const char *want = (l == 2 || l == 4) ? "q8_0" : "q4_0";
        snprintf(buf, sizeof buf, "blk.%d.attn_v.weight", l);
        assert_true(format_equal(p.fmt[tensor(buf)], l == 2 || l == 4 ? FORMAT_INT8 : FORMAT_INT4));
        snprintf(buf, sizeof buf, "blk.%d.ffn_down.weight", l);
        char name[32];
        assert_string_equal(format_name(p.fmt[tensor(buf)], name, sizeof name), want);
        snprintf(buf, sizeof buf, "blk.%d.attn_q.weight", l);
        assert_true(format_equal(p.fmt[tensor(buf)], FORMAT_INT4));
    }
    assert_true(format_equal(p.fmt[tensor("output.weight")], FORMAT_INT8));
    assert_true(format_equal(p.fmt[tensor("token_embd.weight")], FORMAT_INT4));
    plan_free(&p);
}

/* Sizes worked by hand for stories260K: 292,800 values, 704 of them in the 11 norm
 * vectors (5 attn_norm + 5 ffn_norm + output_norm, 64 each).
 * F32: 292,800 x 4 = 1,171,200 bytes.
 * INT8 (Q8_0: 34 bytes per block of 32 values, rows padded to whole blocks):
 *   64-column matrices: token_embd and output 512 rows each; per block attn_q and
 *     attn_output 64 rows, attn_k and attn_v 32, ffn_gate and ffn_up 172, i.e. 536;
 *     1024 + 5 x 536 = 3,704 rows x 2 blocks x 34 bytes           = 251,872
 *   ffn_down, 172 columns -> 6 blocks per row (12 values of padding):
 *     5 x 64 rows x 6 x 34                                         =  65,280
 *   norms 704 x 4                                                  =   2,816
 *                                                           total    319,968
 * Exported to GGUF with ffn_down kept F32 (5 x 11,008 x 4 = 220,160 instead of
 * 65,280): 474,848 bytes, the "tensor bytes" of llama.cpp's Q8_0 file. */
static void test_plan_bytes_by_hand(void **state) {
    (void)state;
    Plan p;
    Error err = {0};
    assert_true(plan_bytes_f32(model) == 1171200.0);
    assert_int_equal(plan_preset(&p, model, PRESET_INT8, &err), ST_OK);
    assert_true(plan_bytes(&p, model) == 319968.0);
    assert_true(plan_bytes_export(&p, model, FORMAT_FP32) == 474848.0);
    plan_free(&p);
}

/* The cache quantizes a (tensor, format) once and returns the same copy; F32 is the
 * model's own floats, not a copy. */
static void test_plan_cache_reuses_copies(void **state) {
    (void)state;
    QuantCache *c = qcache_new(model, NULL);
    Error err = {0};
    const QTensor *a, *b, *f;
    int q = tensor("blk.1.attn_q.weight");
    assert_int_equal(qcache_get(c, q, FORMAT_INT4, &a, &err), ST_OK);
    size_t mem = qcache_memory(c);
    assert_true(mem > 0);
    assert_int_equal(qcache_get(c, q, FORMAT_INT4, &b, &err), ST_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(qcache_memory(c), mem);
    assert_int_equal(qcache_get(c, q, FORMAT_FP32, &f, &err), ST_OK);
    assert_ptr_equal(f->dequant, model->tensors[q].f32);
    assert_int_equal(qcache_memory(c), mem);
    qcache_invalidate(c, q);
    assert_int_equal(qcache_memory(c), 0);
    qcache_delete(c);
}

typedef struct Ids {
    int ids[256];
    int n;
} Ids;

static bool collect(void *ctx, const GenerateStep *step) {
    Ids *c = ctx;
    if (c->n < 256) c->ids[c->n++] = step->token;
    return true;
}

static void greedy(const Weights *w, int n, Ids *out) {
    RunState s;
    Sampler smp;
    Error err = {0};
    memset(out, 0, sizeof *out);
    assert_int_equal(runstate_init(&s, &w->model->cfg, n, NULL, &err), ST_OK);
    assert_int_equal(sampler_init(&smp, w->model->cfg.vocab_size, 0.0f, 0.9f, 1, &err), ST_OK);
    int bos = 1;
    assert_int_equal(generate_run(w, &s, &smp, &bos, 1, n, collect, out, NULL, &err), ST_OK);
    sampler_free(&smp);
    runstate_free(&s);
}

/* Exporting all-INT8 / all-INT4 / Q4_1 / Q5_0 / Q5_1 with ffn_down kept F32 writes,
 * tensor for tensor and in the same order, the bytes llama.cpp wrote into its own
 * quantized files; the file reads back in quantlab and generates what the plan
 * generated in memory. */
static void test_plan_export_matches_llamacpp_files(void **state) {
    (void)state;
    static const struct {
        const char *file;
        uint32_t type;
        uint32_t ftype;
    } cases[] = {{"q8_0", GGML_TYPE_Q8_0, 7}, {"q4_0", GGML_TYPE_Q4_0, 2}, {"q4_1", GGML_TYPE_Q4_1, 3},
                 {"q5_0", GGML_TYPE_Q5_0, 8}, {"q5_1", GGML_TYPE_Q5_1, 9}};
    Error err = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char ref_path[128], out[512];
        snprintf(ref_path, sizeof ref_path, "tests/data/stories260K-%s.gguf", cases[k].file);
        snprintf(out, sizeof out, "%s/out-%s.gguf", tmpdir, cases[k].file);
        Plan p;
        assert_int_equal(plan_init(&p, model, format_ggml(cases[k].type), &err), ST_OK);
        QuantCache *c = qcache_new(model, NULL);
        ExportReport rep;
        assert_int_equal(model_export_gguf(model, &p, c, FORMAT_FP32, out, &rep, &err), ST_OK);
        assert_int_equal(rep.n_fallback, 5); /* the five ffn_down tensors, rows of 172 */
        assert_non_null(strstr(rep.notes[0], "ffn_down"));
        assert_int_equal(rep.file_type, cases[k].ftype);

        GgufFile ref, got;
        assert_int_equal(gguf_open(&ref, proc_data_path(ref_path), &err), ST_OK);
        assert_int_equal(gguf_open(&got, out, &err), ST_OK);
        assert_int_equal(got.n_tensors, ref.n_tensors);
        for (uint64_t i = 0; i < ref.n_tensors; i++) {
            const GgufTensorInfo *a = &got.tensors[i], *b = &ref.tensors[i];
            assert_string_equal(a->name, b->name); /* llama-quantize's order */
            assert_int_equal(a->type, b->type);
            assert_int_equal(a->nbytes, b->nbytes);
            if (memcmp(a->data, b->data, a->nbytes) != 0)
                fail_msg("%s: %s differs from llama.cpp's bytes", cases[k].file, a->name);
        }
        /* metadata: llama.cpp's keys, in its order, the last two being the new ones */
        assert_int_equal(got.n_kv, ref.n_kv);
        for (uint64_t i = 0; i < ref.n_kv; i++) assert_string_equal(got.kv[i].key, ref.kv[i].key);
        uint32_t ft = 0;
        assert_true(gguf_get_u32(&got, "general.file_type", &ft));
        assert_int_equal(ft, cases[k].ftype);
        gguf_close(&ref);
        gguf_close(&got);

        /* read back: the same greedy story as the exported plan (ffn_down in F32) in memory */
        plan_apply_export_fallback(&p, model, FORMAT_FP32);
        assert_true(format_equal(p.fmt[tensor("blk.3.ffn_down.weight")], FORMAT_FP32));
        Weights mem_w, file_w;
        assert_int_equal(weights_init_plan(&mem_w, model, &p, c, &err), ST_OK);
        Model *back = NULL;
        assert_int_equal(model_open(&back, out, NULL, &err), ST_OK);
        Plan stored;
        assert_int_equal(plan_preset(&stored, back, PRESET_AS_STORED, &err), ST_OK);
        QuantCache *c2 = qcache_new(back, NULL);
        assert_int_equal(weights_init_plan(&file_w, back, &stored, c2, &err), ST_OK);
        Ids a, b;
        greedy(&mem_w, 60, &a);
        greedy(&file_w, 60, &b);
        assert_int_equal(a.n, b.n);
        assert_memory_equal(a.ids, b.ids, sizeof(int) * (size_t)a.n);
        weights_free(&file_w);
        weights_free(&mem_w);
        qcache_delete(c2);
        plan_free(&stored);
        model_close(back);
        qcache_delete(c);
        plan_free(&p);
    }
}

/* A mixed plan with a teaching format: what GGUF cannot hold is written as F16
 * and reported; the model refuses to be written over. */
static void test_plan_export_fallbacks_and_refusals(void **state) {
    (void)state;
    Error err = {0};
    Plan p;
    assert_int_equal(plan_preset(&p, model, PRESET_Q4_K_M_LIKE, &err), ST_OK);
    p.fmt[tensor("blk.0.attn_q.weight")] = format_teach(3, GRAN_BLOCK, 64, false);
    QuantCache *c = qcache_new(model, NULL);
    ExportReport rep;
    char out[512];
    snprintf(out, sizeof out, "%s/mixed.gguf", tmpdir);
    assert_int_equal(model_export_gguf(model, &p, c, FORMAT_FP16, out, &rep, &err), ST_OK);
    /* ffn_down at q4_0 in layers 0, 1, 3 (172-value rows) plus the INT3 tensor; layers 2 and
     * 4 planned q8_0 for ffn_down, which do not fit either */
    assert_int_equal(rep.n_fallback, 6);
    GgufFile g;
    assert_int_equal(gguf_open(&g, out, &err), ST_OK);
    assert_int_equal(gguf_find_tensor(&g, "blk.0.attn_q.weight")->type, GGML_TYPE_F16);
    assert_int_equal(gguf_find_tensor(&g, "blk.0.ffn_down.weight")->type, GGML_TYPE_F16);
    assert_int_equal(gguf_find_tensor(&g, "blk.2.attn_v.weight")->type, GGML_TYPE_Q8_0);
    assert_int_equal(gguf_find_tensor(&g, "blk.1.attn_v.weight")->type, GGML_TYPE_Q4_0);
    assert_int_equal(gguf_find_tensor(&g, "output.weight")->type, GGML_TYPE_Q8_0);
    assert_int_equal(gguf_find_tensor(&g, "blk.3.ffn_norm.weight")->type, GGML_TYPE_F32);
    gguf_close(&g);
    assert_int_equal(model_export_gguf(model, &p, c, FORMAT_FP16, model->path, &rep, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "input model"));
    assert_int_equal(model_export_gguf(model, &p, c, FORMAT_INT8, out, &rep, &err), ST_USAGE);
    qcache_delete(c);
    plan_free(&p);
}

/* Methods and modifiers in plans: rules take them, the text form keeps them, and
 * an export writes GPTQ and pruned tensors as their ordinary type while an
 * outlier split goes to the fallback; a pruned tensor that falls back stays
 * pruned (2 non-zeros in every 4 of the F16 tensor written). */
static void test_plan_modifiers_text_and_export(void **state) {
    (void)state;
    Error err = {0};
    PlanRules r;
    assert_int_equal(parse("default=q4_0+2:4\nattn_v=q8_0+out1%\nffn_down=q4_0+2:4\n^output\\.weight$=f32+prune50\n",
                           &r, &err), ST_OK);
    Plan p;
    assert_int_equal(plan_init(&p, model, FORMAT_FP32, &err), ST_OK);
    assert_int_equal(plan_apply_rules(&p, model, &r, "my.plan", &err), ST_OK);
    plan_rules_free(&r);
    Format f;
    assert_int_equal(format_parse("q8_0+out1%", &f, &err), ST_OK);
    assert_true(format_equal(p.fmt[tensor("blk.3.attn_v.weight")], f));
    char *text = NULL;
    assert_int_equal(plan_to_text(&p, model, &text, &err), ST_OK);
    assert_non_null(strstr(text, "default=q4_0+2:4"));
    assert_non_null(strstr(text, "=q8_0+out1%"));
    assert_int_equal(parse(text, &r, &err), ST_OK);
    Plan back;
    assert_int_equal(plan_init(&back, model, FORMAT_FP32, &err), ST_OK);
    assert_int_equal(plan_apply_rules(&back, model, &r, "x", &err), ST_OK);
    assert_true(plan_equal(&p, &back));
    plan_free(&back);
    plan_rules_free(&r);
    free(text);
    /* plan bytes: pruning does not shrink a dense format; the split adds 6 bytes an outlier */
    Plan dense;
    assert_int_equal(plan_init(&dense, model, FORMAT_INT4, &err), ST_OK);
    dense.fmt[tensor("output.weight")] = FORMAT_FP32;
    for (int l = 0; l < 5; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", l);
        dense.fmt[tensor(name)] = FORMAT_INT8;
    }
    assert_true(plan_bytes(&p, model) == plan_bytes(&dense, model) + 5 * 6 * (2048 / 100));
    plan_free(&dense);

    QuantCache *c = qcache_new(model, NULL);
    ExportReport rep;
    char out[512];
    snprintf(out, sizeof out, "%s/mods.gguf", tmpdir);
    assert_int_equal(model_export_gguf(model, &p, c, FORMAT_FP16, out, &rep, &err), ST_OK);
    assert_int_equal(rep.n_fallback, 5 + 5); /* five attn_v (split), five ffn_down (172-value rows) */
    bool said = false;
    for (int k = 0; k < rep.n_fallback; k++)
        said |= strstr(rep.notes[k], "blk.0.attn_v.weight: written as f16 (GGUF cannot hold the FP16 outlier side list") != NULL;
    assert_true(said);
    GgufFile g;
    assert_int_equal(gguf_open(&g, out, &err), ST_OK);
    assert_int_equal(gguf_find_tensor(&g, "blk.0.attn_q.weight")->type, GGML_TYPE_Q4_0);
    assert_int_equal(gguf_find_tensor(&g, "blk.0.attn_v.weight")->type, GGML_TYPE_F16);
    assert_int_equal(gguf_find_tensor(&g, "output.weight")->type, GGML_TYPE_F32);
    const GgufTensorInfo *down = gguf_find_tensor(&g, "blk.1.ffn_down.weight");
    assert_int_equal(down->type, GGML_TYPE_F16);
    float *v = malloc(64 * 172 * sizeof *v);
    assert_int_equal(gguf_tensor_to_float(&g, down, v, &err), ST_OK);
    for (int k = 0; k < 64 * 172; k += 4) {
        int nz = (v[k] != 0) + (v[k + 1] != 0) + (v[k + 2] != 0) + (v[k + 3] != 0);
        assert_int_equal(nz, 2);
    }
    free(v);
    gguf_close(&g);
    qcache_delete(c);
    plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_rules_last_match_wins),
        cmocka_unit_test(test_plan_rules_errors_name_file_and_line),
        cmocka_unit_test(test_plan_text_round_trips),
        cmocka_unit_test(test_plan_q4_k_m_like_preset),
        cmocka_unit_test(test_plan_bytes_by_hand),
        cmocka_unit_test(test_plan_cache_reuses_copies),
        cmocka_unit_test(test_plan_export_matches_llamacpp_files),
        cmocka_unit_test(test_plan_export_fallbacks_and_refusals),
        cmocka_unit_test(test_plan_modifiers_text_and_export),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
