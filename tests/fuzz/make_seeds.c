/* make_seeds.c — writes the seed corpora of the fuzz targets into
 * tests/fuzz/corpus/<target>/ (`make fuzz-seeds`; the files are committed, so
 * this only needs running when a format changes).
 *
 * Seeds are small real inputs: a tiny llama2.c checkpoint (dim 32, one layer,
 * two heads sharing one kv head, 17 tokens, seq_len 8) and its tokenizer, the
 * GGUF model quantlab converts them to and its F16/Q8_0/Q4_0 exports, a tied
 * variant without output.weight, a GGUF with one key of every value type,
 * tok512.bin, the first bytes of stories260K.bin, texts and plans.
 * Deterministic: the same files every run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "base/file.h"
#include "gguf/gguf.h"
#include "gguf/llama2c.h"
#include "model/export.h"
#include "model/model.h"
#include "model/plan.h"
#include "model/qcache.h"
#include "quant/types.h"

static const char *root;

static void die(const char *what, const Error *err) {
    fprintf(stderr, "make_seeds: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void put(const char *target, const char *name, const void *a, size_t na, const void *b,
                size_t nb) {
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s", root, target);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *buf = malloc(na + nb + 1);
    if (!buf) die(path, NULL);
    if (na) memcpy(buf, a, na);
    if (nb) memcpy(buf + na, b, nb);
    Error err;
    if (atomic_file_write(path, buf, na + nb, &err) != ST_OK) die(path, &err);
    free(buf);
}

static void put_text(const char *target, const char *name, const char *text) {
    put(target, name, text, strlen(text), NULL, 0);
}

/* ------------------------------------------------------------ llama2.c */

typedef struct Bytes {
    uint8_t *p;
    size_t n, cap;
} Bytes;

static void b_add(Bytes *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die("out of memory", NULL);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void b_i32(Bytes *b, int32_t v) {
    b_add(b, &v, 4);
}

static void b_f32(Bytes *b, float v) {
    b_add(b, &v, 4);
}

enum { DIM = 32, HIDDEN = 32, LAYERS = 1, HEADS = 2, KV_HEADS = 1, SEQ = 8 };
static const char *const PIECES[] = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", "<0x41>", " ",
                                     "a", "b", "c", "o", "n", "ce", " a", " b", "on", "Once", " upon"};
enum { VOCAB = (int)(sizeof PIECES / sizeof PIECES[0]) };

static uint32_t rng = 12345;
static float frand(void) { /* small deterministic weights in [-0.5, 0.5) */
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 16777216.0f - 0.5f;
}

static void floats(Bytes *b, size_t n, float base) {
    for (size_t i = 0; i < n; i++) b_f32(b, base != 0.0f ? base + 0.1f * frand() : frand());
}

static Bytes make_checkpoint(bool shared) {
    Bytes b = {0};
    int32_t hdr[7] = {DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, shared ? VOCAB : -VOCAB, SEQ};
    for (int i = 0; i < 7; i++) b_i32(&b, hdr[i]);
    size_t kv_dim = DIM / HEADS * KV_HEADS, hs = DIM / HEADS;
    floats(&b, (size_t)VOCAB * DIM, 0);                 /* token_embedding */
    floats(&b, (size_t)LAYERS * DIM, 1.0f);             /* rms_att */
    floats(&b, (size_t)LAYERS * DIM * DIM, 0);          /* wq */
    floats(&b, (size_t)LAYERS * kv_dim * DIM, 0);       /* wk */
    floats(&b, (size_t)LAYERS * kv_dim * DIM, 0);       /* wv */
    floats(&b, (size_t)LAYERS * DIM * DIM, 0);          /* wo */
    floats(&b, (size_t)LAYERS * DIM, 1.0f);             /* rms_ffn */
    floats(&b, (size_t)LAYERS * HIDDEN * DIM, 0);       /* w1 */
    floats(&b, (size_t)LAYERS * DIM * HIDDEN, 0);       /* w2 */
    floats(&b, (size_t)LAYERS * HIDDEN * DIM, 0);       /* w3 */
    floats(&b, DIM, 1.0f);                              /* rms_final */
    floats(&b, (size_t)SEQ * hs, 0);                    /* freq_cis_real + imag */
    if (!shared) floats(&b, (size_t)VOCAB * DIM, 0);    /* wcls */
    return b;
}

static Bytes make_tokenizer(void) {
    Bytes b = {0};
    b_i32(&b, 8); /* max_token_length */
    for (int i = 0; i < VOCAB; i++) {
        b_f32(&b, i < 3 ? 0.0f : -(float)(i % 7));
        b_i32(&b, (int32_t)strlen(PIECES[i]));
        b_add(&b, PIECES[i], strlen(PIECES[i]));
    }
    return b;
}

static uint8_t *read_repo(const char *rel, size_t *len) {
    char *buf;
    Error err;
    if (file_read_all(rel, (size_t)16 << 20, &buf, len, &err) != ST_OK) die(rel, &err);
    return (uint8_t *)buf;
}

/* ---------------------------------------------------------------- GGUF */

static uint8_t *to_gguf(const Bytes *model, const Bytes *tok, size_t *len) {
    GgufWriter *w = gguf_writer_new();
    void *owned;
    Error err;
    if (llama2c_to_gguf(model->p, model->n, "tiny.bin", tok->p, tok->n, "tiny.tok", "tiny", w, &owned,
                        &err) != ST_OK)
        die("llama2c_to_gguf", &err);
    uint8_t *image;
    if (gguf_writer_write_buffer(w, &image, len, &err) != ST_OK) die("write_buffer", &err);
    gguf_writer_delete(w);
    free(owned);
    return image;
}

/* The same file without output.weight: a model whose classifier is the embedding. */
static uint8_t *without_output(const uint8_t *image, size_t len, size_t *out_len) {
    GgufFile g;
    Error err;
    if (gguf_parse(&g, image, len, "tiny.gguf", &err) != ST_OK) die("parse", &err);
    GgufWriter *w = gguf_writer_new();
    for (uint64_t i = 0; i < g.n_kv; i++) gguf_writer_set_value(w, g.kv[i].key, &g.kv[i].value);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *t = &g.tensors[i];
        if (strcmp(t->name, "output.weight") == 0) continue;
        gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type, t->data, t->nbytes);
    }
    uint8_t *out;
    if (gguf_writer_write_buffer(w, &out, out_len, &err) != ST_OK) die("write_buffer", &err);
    gguf_writer_delete(w);
    gguf_close(&g);
    return out;
}

/* One key of every value type, two small tensors of different types. */
static uint8_t *every_type(size_t *len) {
    GgufWriter *w = gguf_writer_new();
    gguf_writer_set_u32(w, "general.alignment", 64);
    gguf_writer_set_str(w, "general.name", "every type \xc3\xa9");
    gguf_writer_set_i32(w, "a.i32", -5);
    gguf_writer_set_u64(w, "a.u64", 1ull << 40);
    gguf_writer_set_f32(w, "a.f32", 0.25f);
    gguf_writer_set_bool(w, "a.bool", true);
    GgufValue v;
    memset(&v, 0, sizeof v);
    v.type = GGUF_TYPE_INT8; v.v.i8 = -3; gguf_writer_set_value(w, "a.i8", &v);
    v.type = GGUF_TYPE_UINT8; v.v.u8 = 7; gguf_writer_set_value(w, "a.u8", &v);
    v.type = GGUF_TYPE_INT16; v.v.i16 = -300; gguf_writer_set_value(w, "a.i16", &v);
    v.type = GGUF_TYPE_UINT16; v.v.u16 = 600; gguf_writer_set_value(w, "a.u16", &v);
    v.type = GGUF_TYPE_INT64; v.v.i64 = -1; gguf_writer_set_value(w, "a.i64", &v);
    v.type = GGUF_TYPE_FLOAT64; v.v.f64 = 1e-300; gguf_writer_set_value(w, "a.f64", &v);
    float fa[3] = {1, 2, 3};
    gguf_writer_set_arr(w, "a.farr", GGUF_TYPE_FLOAT32, fa, 3);
    const char *sa[3] = {"x", "", "\xe2\x96\x81y"};
    gguf_writer_set_arr_str(w, "a.sarr", sa, 3);
    static float t0[64];
    static uint8_t t1[34 * 2];
    for (int i = 0; i < 64; i++) t0[i] = (float)i - 32.0f;
    quant_row_q8_0_ref(t0, t1, 64);
    uint64_t ne0[2] = {8, 8}, ne1[1] = {64};
    gguf_writer_add_tensor(w, "t.f32", 2, ne0, GGML_TYPE_F32, t0, sizeof t0);
    gguf_writer_add_tensor(w, "t.q8", 1, ne1, GGML_TYPE_Q8_0, t1, sizeof t1);
    uint8_t *out;
    Error err;
    if (gguf_writer_write_buffer(w, &out, len, &err) != ST_OK) die("every_type", &err);
    gguf_writer_delete(w);
    return out;
}

static void export_as(const uint8_t *image, size_t len, Format f, const char *target, const char *name) {
    Model *m;
    Error err;
    if (model_open_buffer(&m, image, len, "tiny.gguf", &err) != ST_OK) die("model_open_buffer", &err);
    Plan p;
    if (plan_init(&p, m, f, &err) != ST_OK) die("plan", &err);
    QuantCache *c = qcache_new(m, NULL);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    ExportReport rep;
    if (model_export_gguf(m, &p, c, FORMAT_FP16, path, &rep, &err) != ST_OK) die(path, &err);
    qcache_delete(c);
    plan_free(&p);
    model_close(m);
}

int main(int argc, char **argv) {
    root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    mkdir(root, 0777);
    Bytes shared = make_checkpoint(true), separate = make_checkpoint(false), tok = make_tokenizer();

    /* llama2c_config: whole tiny checkpoints, and stories260K's real header */
    put("llama2c_config", "tiny-shared.bin", shared.p, shared.n, NULL, 0);
    put("llama2c_config", "tiny-separate.bin", separate.p, separate.n, NULL, 0);
    size_t n260;
    uint8_t *s260 = read_repo("tests/data/stories260K.bin", &n260);
    put("llama2c_config", "stories260K-first-256.bin", s260, 256, NULL, 0);
    free(s260);

    /* llama2c_tokenizer: int32 vocab size + tokenizer file */
    int32_t v = VOCAB;
    put("llama2c_tokenizer", "tiny", &v, 4, tok.p, tok.n);
    size_t n512;
    uint8_t *t512 = read_repo("tests/data/tok512.bin", &n512);
    v = 512;
    put("llama2c_tokenizer", "tok512", &v, 4, t512, n512);

    /* llama2c_convert: uint32 checkpoint length + checkpoint + tokenizer */
    uint32_t n = (uint32_t)shared.n;
    Bytes conv = {0};
    b_add(&conv, &n, 4);
    b_add(&conv, shared.p, shared.n);
    put("llama2c_convert", "tiny-shared", conv.p, conv.n, tok.p, tok.n);
    conv.n = 0;
    n = (uint32_t)separate.n;
    b_add(&conv, &n, 4);
    b_add(&conv, separate.p, separate.n);
    put("llama2c_convert", "tiny-separate", conv.p, conv.n, tok.p, tok.n);

    /* model and gguf: the converted tiny model, its exports, a tied variant */
    size_t glen, tlen, elen;
    uint8_t *gguf = to_gguf(&shared, &tok, &glen);
    uint8_t *tied = without_output(gguf, glen, &tlen);
    uint8_t *every = every_type(&elen);
    put("model", "tiny-f32.gguf", gguf, glen, NULL, 0);
    put("model", "tiny-tied.gguf", tied, tlen, NULL, 0);
    export_as(gguf, glen, FORMAT_FP16, "model", "tiny-f16.gguf");
    export_as(gguf, glen, FORMAT_INT8, "model", "tiny-q8_0.gguf");
    export_as(gguf, glen, FORMAT_INT4, "model", "tiny-q4_0.gguf");
    put("gguf", "tiny-tied.gguf", tied, tlen, NULL, 0);
    put("gguf", "every-type.gguf", every, elen, NULL, 0);
    export_as(gguf, glen, FORMAT_INT4, "gguf", "tiny-q4_0.gguf");
    free(gguf);
    free(tied);
    free(every);

    /* tokenizer: texts */
    put_text("tokenizer", "once", "Once upon a time, there was a little girl named Lily.");
    put_text("tokenizer", "lines", "One day, she saw a big tree.\n\n\"Hello!\" said Tom.  Two  spaces.\n");
    put_text("tokenizer", "utf8", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xe2\x96\x81x");
    put("tokenizer", "bytes", "\0\xff\xfe\x80 a\r\t\x01<s>", 13, NULL, 0);
    put_text("tokenizer", "leading-spaces", "   x");

    /* lesson: every real lesson and every broken one */
    static const char *const lesson_dirs[] = {"lessons", "tests/data/lessons-broken"};
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(lesson_dirs[d]);
        if (!dir) die(lesson_dirs[d], NULL);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 4 || strcmp(e->d_name + n - 3, ".md") != 0 || strcmp(e->d_name, "README.md") == 0) continue;
            char rel[512], name[600];
            snprintf(rel, sizeof rel, "%s/%s", lesson_dirs[d], e->d_name);
            snprintf(name, sizeof name, "%s%s", d ? "broken-" : "", e->d_name);
            size_t len;
            uint8_t *text = read_repo(rel, &len);
            put("lesson", name, text, len, NULL, 0);
            free(text);
        }
        closedir(dir);
    }
    /* lesson_progress: what quantlab writes, and near misses */
    put_text("lesson_progress", "two-lessons",
             "{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"current\": \"try-1-how-big\",\n"
             " \"lessons\": {\"try-1-how-big\": {\"step\": 3, \"marks\": \"ddr.....\", \"done\": false},\n"
             "             \"build-2-q4_0-and-gguf\": {\"step\": 0, \"marks\": \"\", \"done\": true}}}\n");
    put_text("lesson_progress", "empty", "{\"format\": \"quantlab-lesson-progress\", \"version\": 1, \"lessons\": {}}");
    put_text("lesson_progress", "escapes",
             "{\"format\":\"quantlab-lesson-progress\",\"version\":1,\"current\":\"a\\u00e9\\n\",\"lessons\":"
             "{\"x\\\"y\":{\"step\":1e0,\"marks\":\"d\",\"done\":true}},\"extra\":[null,-1.5e3,[],{}]}");
    put_text("lesson_progress", "newer", "{\"format\": \"quantlab-lesson-progress\", \"version\": 2, \"lessons\": {}}");

    /* plan: what people write */
    put_text("plan", "preset-like", "# int4 with int8 edges\ndefault=q4_0\n^token_embd\\.weight$=q8_0\n^output\\.weight$=q8_0\n");
    put_text("plan", "roles", "default=f32\nattn_v=q8_0\nffn_down=q4_1\nblk\\.[0-2]\\.ffn_.*=int3-b64\n");
    put_text("plan", "teaching", "default=int4-row\nattn_(q|k)=int2-b16\n\\.ffn_up\\.=int8-tensor\n");
    put_text("plan", "crlf", "default=q5_0\r\n  attn_output = bf16  \r\n# done\r\n");
    return 0;
}
