/* model.c — opening a model file and checking it is a llama network we can run. */
#include "model/model.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/checked.h"
#include "base/fmt.h"
#include "base/sysmem.h"
#include "gguf/llama2c.h"
#include "quant/types.h"

/* Generous upper bounds: anything larger is a hostile or broken header, not a model. */
enum { MODEL_MAX_DIM = 1 << 16, MODEL_MAX_HIDDEN = 1 << 20, MODEL_MAX_LAYERS = 1024,
       MODEL_MAX_HEADS = 1024 };

uint64_t model_machine_memory(void) {
    return sysmem_total();
}

char *model_tensor_shape(const ModelTensor *t, char *buf, size_t size) {
    if (t->n_dims == 1) snprintf(buf, size, "%lld", (long long)t->cols);
    else snprintf(buf, size, "%lldx%lld", (long long)t->cols, (long long)t->rows);
    return buf;
}

char *model_tensor_short_name(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s", name);
    size_t n = strlen(buf);
    if (n > 7 && strcmp(buf + n - 7, ".weight") == 0) buf[n - 7] = '\0';
    return buf;
}

int model_find_tensor(const Model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return i;
    return -1;
}

void model_close(Model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_tensors; i++) free(m->tensors[i].f32);
    free(m->tensors);
    free(m->layers);
    tokenizer_free(&m->tok);
    gguf_close(&m->gguf);
    free(m->owned);
    free(m->path);
    free(m->name);
    free(m->architecture);
    free(m);
}

/* ------------------------------------------------------- hyper-parameters */

static Status read_u32_key(const Model *m, const char *suffix, bool required, uint32_t dflt,
                           uint32_t *out, Error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->architecture, suffix);
    if (gguf_get_u32(&m->gguf, key, out)) return ST_OK;
    if (gguf_find_kv(&m->gguf, key))
        return error_set(err, ST_FORMAT, "%s: key '%s' is not an unsigned integer", m->path, key);
    if (required) return error_set(err, ST_FORMAT, "%s: missing key '%s'", m->path, key);
    *out = dflt;
    return ST_OK;
}

static Status read_config(Model *m, Error *err) {
    const char *arch = gguf_get_str(&m->gguf, "general.architecture");
    if (!arch) return error_set(err, ST_FORMAT, "%s: missing key 'general.architecture'", m->path);
    if (strcmp(arch, "llama") != 0)
        return error_set(err, ST_UNSUPPORTED,
                         "%s: architecture '%s' is not supported (quantlab runs 'llama' models)",
                         m->path, arch);
    m->architecture = strdup(arch);
    if (!m->architecture) return error_set(err, ST_NOMEM, "%s: out of memory", m->path);

    uint32_t dim, hidden, layers, heads, kv_heads, ctx, rope_dim;
    Status st;
    if ((st = read_u32_key(m, "embedding_length", true, 0, &dim, err)) ||
        (st = read_u32_key(m, "feed_forward_length", true, 0, &hidden, err)) ||
        (st = read_u32_key(m, "block_count", true, 0, &layers, err)) ||
        (st = read_u32_key(m, "attention.head_count", true, 0, &heads, err)) ||
        (st = read_u32_key(m, "attention.head_count_kv", false, heads, &kv_heads, err)) ||
        (st = read_u32_key(m, "context_length", false, 2048, &ctx, err)))
        return st;
    if (dim == 0 || dim > MODEL_MAX_DIM)
        return error_set(err, ST_FORMAT, "%s: embedding_length %" PRIu32 " is out of range", m->path, dim);
    if (hidden == 0 || hidden > MODEL_MAX_HIDDEN)
        return error_set(err, ST_FORMAT, "%s: feed_forward_length %" PRIu32 " is out of range", m->path, hidden);
    if (layers == 0 || layers > MODEL_MAX_LAYERS)
        return error_set(err, ST_FORMAT, "%s: block_count %" PRIu32 " is out of range", m->path, layers);
    if (heads == 0 || heads > MODEL_MAX_HEADS || dim % heads != 0)
        return error_set(err, ST_FORMAT, "%s: %" PRIu32 " attention heads do not divide embedding_length %" PRIu32,
                         m->path, heads, dim);
    if (kv_heads == 0 || heads % kv_heads != 0)
        return error_set(err, ST_FORMAT, "%s: %" PRIu32 " key/value heads do not divide %" PRIu32 " heads",
                         m->path, kv_heads, heads);
    uint32_t head_dim = dim / heads;
    if ((st = read_u32_key(m, "rope.dimension_count", false, head_dim, &rope_dim, err))) return st;
    if (rope_dim > head_dim || rope_dim % 2 != 0)
        return error_set(err, ST_FORMAT, "%s: rope.dimension_count %" PRIu32 " does not fit heads of %" PRIu32,
                         m->path, rope_dim, head_dim);
    char key[128];
    float base = 10000.0f, eps = 1e-5f;
    snprintf(key, sizeof key, "%s.rope.freq_base", m->architecture);
    if (gguf_find_kv(&m->gguf, key) && !gguf_get_f32(&m->gguf, key, &base))
        return error_set(err, ST_FORMAT, "%s: key '%s' is not a float", m->path, key);
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", m->architecture);
    if (gguf_find_kv(&m->gguf, key) && !gguf_get_f32(&m->gguf, key, &eps))
        return error_set(err, ST_FORMAT, "%s: key '%s' is not a float", m->path, key);
    if (!(base > 0.0f) || !(eps > 0.0f) || eps > 1.0f)
        return error_set(err, ST_FORMAT, "%s: rope.freq_base or rms epsilon out of range", m->path);

    ModelConfig *c = &m->cfg;
    c->dim = (int)dim;
    c->hidden_dim = (int)hidden;
    c->n_layers = (int)layers;
    c->n_heads = (int)heads;
    c->n_kv_heads = (int)kv_heads;
    c->head_dim = (int)head_dim;
    c->kv_dim = (int)(head_dim * kv_heads);
    c->context_length = ctx > INT32_MAX ? INT32_MAX : (int)ctx;
    c->rope_dim = (int)rope_dim;
    c->rope_freq_base = base;
    c->norm_eps = eps;
    return ST_OK;
}

/* -------------------------------------------------------------- tokenizer */

static Status read_tokenizer(Model *m, Error *err) {
    const GgufFile *g = &m->gguf;
    const char *kind = gguf_get_str(g, "tokenizer.ggml.model");
    if (!kind) return error_set(err, ST_FORMAT, "%s: missing key 'tokenizer.ggml.model'", m->path);
    if (strcmp(kind, "llama") != 0)
        return error_set(err, ST_UNSUPPORTED,
                         "%s: tokenizer '%s' is not supported (quantlab reads SentencePiece 'llama' vocabularies)",
                         m->path, kind);
    uint64_t n = 0, n_scores = 0, n_types = 0;
    const GgufString *strs = gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n);
    if (!strs) return error_set(err, ST_FORMAT, "%s: missing string array 'tokenizer.ggml.tokens'", m->path);
    if (n == 0 || n > TOKENIZER_MAX_VOCAB)
        return error_set(err, ST_LIMIT, "%s: %" PRIu64 " tokens is outside 1..%d", m->path, n,
                         TOKENIZER_MAX_VOCAB);
    const float *scores = gguf_get_arr(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &n_scores);
    const int32_t *types = gguf_get_arr(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &n_types);
    if ((scores && n_scores != n) || (types && n_types != n))
        return error_set(err, ST_FORMAT, "%s: tokenizer scores/types do not have %" PRIu64 " entries",
                         m->path, n);
    const char **texts = malloc(n * sizeof *texts);
    if (!texts) return error_set(err, ST_NOMEM, "%s: out of memory for %" PRIu64 " tokens", m->path, n);
    for (uint64_t i = 0; i < n; i++) texts[i] = strs[i].data;

    uint32_t bos = 1, eos = 2, unk = 0;
    gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &bos);
    gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &eos);
    gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &unk);
    const GgufKv *sp = gguf_find_kv(g, "tokenizer.ggml.add_space_prefix");
    bool space_prefix = !(sp && sp->value.type == GGUF_TYPE_BOOL && !sp->value.v.b);
    Status st = tokenizer_init(&m->tok, (int)n, texts, scores, types, bos < n ? (int)bos : -1,
                               eos < n ? (int)eos : -1, unk < n ? (int)unk : -1, space_prefix,
                               m->path, err);
    free(texts);
    return st;
}

/* ---------------------------------------------------------------- tensors */

static const struct {
    const char *suffix;
    TensorRole role;
} BLOCK_ROLES[] = {
    {"attn_norm.weight", ROLE_ATTN_NORM}, {"attn_q.weight", ROLE_ATTN_Q},
    {"attn_k.weight", ROLE_ATTN_K},       {"attn_v.weight", ROLE_ATTN_V},
    {"attn_output.weight", ROLE_ATTN_OUTPUT}, {"ffn_norm.weight", ROLE_FFN_NORM},
    {"ffn_gate.weight", ROLE_FFN_GATE},   {"ffn_down.weight", ROLE_FFN_DOWN},
    {"ffn_up.weight", ROLE_FFN_UP},
};

static void classify(const char *name, int n_layers, int *layer, TensorRole *role) {
    *layer = -1;
    *role = ROLE_OTHER;
    if (strcmp(name, "token_embd.weight") == 0) *role = ROLE_TOKEN_EMBD;
    else if (strcmp(name, "output_norm.weight") == 0) *role = ROLE_OUTPUT_NORM;
    else if (strcmp(name, "output.weight") == 0) *role = ROLE_OUTPUT;
    else if (strncmp(name, "blk.", 4) == 0 && isdigit((unsigned char)name[4])) {
        const char *p = name + 4;
        long l = 0;
        while (isdigit((unsigned char)*p) && l <= MODEL_MAX_LAYERS) l = l * 10 + (*p++ - '0');
        if (*p != '.' || l >= n_layers) return;
        p++;
        for (size_t i = 0; i < sizeof BLOCK_ROLES / sizeof BLOCK_ROLES[0]; i++)
            if (strcmp(p, BLOCK_ROLES[i].suffix) == 0) {
                *layer = (int)l;
                *role = BLOCK_ROLES[i].role;
            }
    }
}

/* Expected (cols, rows) of a role; rows 0 for 1-D tensors. */
static void expected_shape(const ModelConfig *c, TensorRole role, int64_t *cols, int64_t *rows) {
    *cols = c->dim;
    *rows = 0;
    switch (role) {
    case ROLE_TOKEN_EMBD:
    case ROLE_OUTPUT: *rows = c->vocab_size; break;
    case ROLE_ATTN_Q:
    case ROLE_ATTN_OUTPUT: *rows = c->dim; break;
    case ROLE_ATTN_K:
    case ROLE_ATTN_V: *rows = c->kv_dim; break;
    case ROLE_FFN_GATE:
    case ROLE_FFN_UP: *rows = c->hidden_dim; break;
    case ROLE_FFN_DOWN: *cols = c->hidden_dim; *rows = c->dim; break;
    default: break;
    }
}

static Status read_tensors(Model *m, Error *err) {
    const GgufFile *g = &m->gguf;
    ModelConfig *c = &m->cfg;
    if (g->n_tensors > INT32_MAX)
        return error_set(err, ST_LIMIT, "%s: too many tensors", m->path);
    m->n_tensors = (int)g->n_tensors;
    m->tensors = calloc((size_t)m->n_tensors + 1, sizeof *m->tensors);
    m->layers = malloc((size_t)c->n_layers * sizeof *m->layers);
    if (!m->tensors || !m->layers) return error_set(err, ST_NOMEM, "%s: out of memory", m->path);
    memset(m->layers, 0xff, (size_t)c->n_layers * sizeof *m->layers); /* every index -1 */
    m->token_embd = m->output_norm = m->output = -1;

    for (int i = 0; i < m->n_tensors; i++) {
        const GgufTensorInfo *gi = &g->tensors[i];
        ModelTensor *t = &m->tensors[i];
        t->name = gi->name;
        t->file_type = gi->type;
        t->n_dims = gi->n_dims;
        for (int d = 0; d < 4; d++) t->ne[d] = (int64_t)gi->ne[d];
        t->cols = t->ne[0];
        t->n_elements = (int64_t)gi->n_elements;
        t->rows = t->n_elements / t->cols;
        t->file_bytes = gi->nbytes;
        t->file_data = gi->data;
        classify(t->name, c->n_layers, &t->layer, &t->role);
        t->is_norm = t->role == ROLE_ATTN_NORM || t->role == ROLE_FFN_NORM || t->role == ROLE_OUTPUT_NORM;
        int *slot = NULL;
        switch (t->role) {
        case ROLE_TOKEN_EMBD: slot = &m->token_embd; break;
        case ROLE_OUTPUT_NORM: slot = &m->output_norm; break;
        case ROLE_OUTPUT: slot = &m->output; break;
        case ROLE_ATTN_NORM: slot = &m->layers[t->layer].attn_norm; break;
        case ROLE_ATTN_Q: slot = &m->layers[t->layer].attn_q; break;
        case ROLE_ATTN_K: slot = &m->layers[t->layer].attn_k; break;
        case ROLE_ATTN_V: slot = &m->layers[t->layer].attn_v; break;
        case ROLE_ATTN_OUTPUT: slot = &m->layers[t->layer].attn_output; break;
        case ROLE_FFN_NORM: slot = &m->layers[t->layer].ffn_norm; break;
        case ROLE_FFN_GATE: slot = &m->layers[t->layer].ffn_gate; break;
        case ROLE_FFN_DOWN: slot = &m->layers[t->layer].ffn_down; break;
        case ROLE_FFN_UP: slot = &m->layers[t->layer].ffn_up; break;
        default: break;
        }
        if (slot) *slot = i; /* the reader already refused duplicate names */
    }

    if (m->token_embd < 0)
        return error_set(err, ST_FORMAT, "%s: missing tensor 'token_embd.weight'", m->path);
    c->vocab_size = (int)m->tok.n_vocab;
    if (m->tensors[m->token_embd].rows != c->vocab_size)
        return error_set(err, ST_FORMAT, "%s: token_embd.weight has %" PRId64 " rows but the vocabulary has %d tokens",
                         m->path, m->tensors[m->token_embd].rows, c->vocab_size);
    if (m->output < 0) {
        m->tied_output = true;
        m->output = m->token_embd;
    }
    if (m->output_norm < 0)
        return error_set(err, ST_FORMAT, "%s: missing tensor 'output_norm.weight'", m->path);
    for (int l = 0; l < c->n_layers; l++) {
        const int *idx = &m->layers[l].attn_norm;
        for (size_t k = 0; k < sizeof BLOCK_ROLES / sizeof BLOCK_ROLES[0]; k++)
            if (idx[k] < 0)
                return error_set(err, ST_FORMAT, "%s: missing tensor 'blk.%d.%s'", m->path, l,
                                 BLOCK_ROLES[k].suffix);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        ModelTensor *t = &m->tensors[i];
        if (t->role == ROLE_OTHER) continue;
        m->n_params += t->n_elements;
        int64_t cols, rows;
        expected_shape(c, t->role, &cols, &rows);
        bool ok = rows == 0 ? (t->n_dims == 1 && t->cols == cols)
                            : (t->n_dims == 2 && t->cols == cols && t->rows == rows);
        if (!ok) {
            if (rows == 0)
                return error_set(err, ST_FORMAT, "%s: tensor '%s' should be a vector of %" PRId64 " values",
                                 m->path, t->name, cols);
            return error_set(err, ST_FORMAT,
                             "%s: tensor '%s' has shape %" PRId64 "x%" PRId64 ", expected %" PRId64 "x%" PRId64,
                             m->path, t->name, t->cols, t->rows, cols, rows);
        }
    }
    return ST_OK;
}

/* Float copies of every tensor the network uses. Refused up front when they
 * would not fit in this machine's memory. */
static Status load_floats(Model *m, Error *err) {
    uint64_t total = (uint64_t)m->n_params;
    uint64_t bytes = total * sizeof(float);
    uint64_t mem = sysmem_total();
    if (!sysmem_fits(bytes) || bytes > SIZE_MAX / 2) {
        char need[32], have[32];
        fmt_bytes(need, sizeof need, (double)bytes);
        fmt_bytes(have, sizeof have, (double)mem);
        return error_set(err, ST_LIMIT,
                         "%s: its %.2f million weights need %s as floats; this machine has %s",
                         m->path, (double)total / 1e6, need, have);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        ModelTensor *t = &m->tensors[i];
        if (t->role == ROLE_OTHER) continue;
        t->f32 = malloc((size_t)t->n_elements * sizeof(float));
        if (!t->f32)
            return error_set(err, ST_NOMEM, "%s: out of memory for tensor '%s'", m->path, t->name);
        Status st = gguf_tensor_to_float(&m->gguf, &m->gguf.tensors[i], t->f32, err);
        if (st != ST_OK) return st;
    }
    return ST_OK;
}

/* Copies a mapped model file into memory and drops the mapping. A file that is
 * truncated or rewritten in place while quantlab runs (`cp new.gguf model.gguf`
 * in a classroom) would otherwise turn the next read of the mapping — an export
 * copying norms as stored, a plan running the file's own Q8_0 blocks — into
 * SIGBUS. Done only when the copy fits beside the floats; otherwise the mapping
 * stays (and so does that risk). Pointers into the file are moved to the copy. */
static Status detach_file(Model *m, Error *err) {
    GgufFile *g = &m->gguf;
    if (!g->map.mapped || !g->buf) return ST_OK; /* a buffer or an in-memory conversion */
    if (!sysmem_fits((uint64_t)m->n_params * sizeof(float) + g->size)) return ST_OK;
    uint8_t *copy = malloc(g->size);
    if (!copy) return error_set(err, ST_NOMEM, "%s: out of memory for a copy of the file", m->path);
    memcpy(copy, g->buf, g->size);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        GgufTensorInfo *t = &g->tensors[i];
        t->data = copy + (t->data - g->buf);
    }
    for (int i = 0; i < m->n_tensors; i++)
        m->tensors[i].file_data = copy + ((const uint8_t *)m->tensors[i].file_data - g->buf);
    file_map_close(&g->map);
    g->map = (FileMap){copy, g->size, false}; /* freed by gguf_close */
    g->buf = copy;
    return ST_OK;
}

static Status model_init_from_gguf(Model *m, int flags, Error *err) {
    Status st;
    if ((st = read_config(m, err)) || (st = read_tokenizer(m, err)) || (st = read_tensors(m, err)))
        return st;
    if (!(flags & MODEL_OPEN_NO_FLOATS) && ((st = detach_file(m, err)) || (st = load_floats(m, err))))
        return st;
    const char *gname = gguf_get_str(&m->gguf, "general.name");
    if (gname && *gname && strcmp(gname, "llama") != 0) {
        m->name = strdup(gname);
    } else { /* llama.cpp's converter writes "llama": the file name says more */
        const char *base = file_basename(m->path);
        m->name = strdup(base);
        if (m->name) {
            char *dot = strrchr(m->name, '.');
            if (dot && dot != m->name) *dot = '\0';
        }
    }
    if (!m->name) return error_set(err, ST_NOMEM, "%s: out of memory", m->path);
    return ST_OK;
}

static Model *model_alloc(const char *path, Error *err) {
    Model *m = calloc(1, sizeof *m);
    if (m) m->path = strdup(path);
    if (!m || !m->path) {
        free(m);
        error_set(err, ST_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    return m;
}

Status model_open_buffer(Model **out, const void *buf, size_t len, const char *name, Error *err) {
    *out = NULL;
    Model *m = model_alloc(name, err);
    if (!m) return ST_NOMEM;
    m->file_size = len;
    Status st = gguf_parse(&m->gguf, buf, len, name, err);
    if (st == ST_OK) st = model_init_from_gguf(m, 0, err);
    if (st != ST_OK) {
        model_close(m);
        return st;
    }
    *out = m;
    return ST_OK;
}

/* A llama2.c tokenizer beside the checkpoint, when none was named. */
static const char *find_tokenizer(const char *model_path, char *buf, size_t size) {
    static const char *const names[] = {"tok512.bin", "tokenizer.bin"};
    const char *base = file_basename(model_path);
    int dir_len = (int)(base - model_path);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(buf, size, "%.*s%s", dir_len, model_path, names[i]);
        if (file_exists(buf)) return buf;
    }
    return NULL;
}

static Status gguf_from_llama2c(GgufFile *g, void **owned, const char *path, const FileMap *bin,
                                const char *tokenizer_path, Error *err) {
    char found[4096];
    if (!tokenizer_path) tokenizer_path = find_tokenizer(path, found, sizeof found);
    if (!tokenizer_path)
        return error_set(err, ST_USAGE,
                         "%s: a llama2.c checkpoint needs its tokenizer: give --tokenizer FILE "
                         "(there is no tok512.bin or tokenizer.bin beside it)", path);
    /* The converted image is a copy of the checkpoint, and the float copies
     * another: refuse a checkpoint that cannot fit twice before copying it. */
    if (!sysmem_fits(2 * (uint64_t)bin->size)) {
        char need[32], have[32];
        fmt_bytes(need, sizeof need, 2.0 * (double)bin->size);
        fmt_bytes(have, sizeof have, (double)sysmem_total());
        return error_set(err, ST_LIMIT, "%s: converting this checkpoint needs %s; this machine has %s",
                         path, need, have);
    }
    FileMap tok;
    Status st = file_map_open(&tok, tokenizer_path, err);
    if (st != ST_OK) return st;
    GgufWriter *w = gguf_writer_new();
    void *copy = NULL;
    uint8_t *image = NULL;
    size_t image_len = 0;
    if (!w) st = error_set(err, ST_NOMEM, "%s: out of memory", path);
    char name[256];
    snprintf(name, sizeof name, "%s", file_basename(path));
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    if (st == ST_OK)
        st = llama2c_to_gguf(bin->data, bin->size, path, tok.data, tok.size, tokenizer_path, name, w,
                             &copy, err);
    if (st == ST_OK) st = gguf_writer_write_buffer(w, &image, &image_len, err);
    gguf_writer_delete(w);
    free(copy);
    file_map_close(&tok);
    if (st == ST_OK) st = gguf_parse(g, image, image_len, path, err);
    if (st != ST_OK) {
        free(image);
        return st;
    }
    *owned = image;
    return ST_OK;
}

/* A llama2.c header is seven small positive int32s (vocab_size may be negative). */
static bool looks_like_llama2c(const FileMap *map) {
    if (map->size < 28) return false;
    for (int i = 0; i < 7; i++) {
        int32_t v;
        memcpy(&v, map->data + 4 * i, 4);
        if (i == 5 && v < 0) v = -v;
        if (v <= 0 || v > (1 << 24)) return false;
    }
    return true;
}

Status model_read_file(const char *path, const char *tokenizer_path, GgufFile *g, void **owned,
                       bool *from_llama2c, Error *err) {
    memset(g, 0, sizeof *g);
    *owned = NULL;
    if (from_llama2c) *from_llama2c = false;
    FileMap map;
    Status st = file_map_open(&map, path, err);
    if (st != ST_OK) return st;
    if (map.size >= 4 && memcmp(map.data, "GGUF", 4) == 0) {
        file_map_close(&map);
        return gguf_open(g, path, err);
    }
    Llama2cConfig cfg;
    if (looks_like_llama2c(&map)) {
        st = llama2c_read_config(map.data, map.size, path, &cfg, err);
        if (st == ST_OK) st = gguf_from_llama2c(g, owned, path, &map, tokenizer_path, err);
        if (st == ST_OK && from_llama2c) *from_llama2c = true;
    } else if (map.size == 0) {
        st = error_set(err, ST_FORMAT, "%s: empty file", path);
    } else {
        char magic[16] = "";
        size_t n = map.size < 4 ? map.size : 4;
        for (size_t i = 0, o = 0; i < n; i++, o = strlen(magic))
            snprintf(magic + o, sizeof magic - o, "%s%02X", i ? " " : "", map.data[i]);
        st = error_set(err, ST_FORMAT,
                       "%s: not a GGUF file or llama2.c checkpoint (it starts with bytes %s)", path,
                       magic);
    }
    file_map_close(&map);
    return st;
}

Status model_open(Model **out, const char *path, const char *tokenizer_path, Error *err) {
    return model_open_ex(out, path, tokenizer_path, 0, err);
}

Status model_open_ex(Model **out, const char *path, const char *tokenizer_path, int flags,
                     Error *err) {
    *out = NULL;
    Model *m = model_alloc(path, err);
    if (!m) return ST_NOMEM;
    Status st = model_read_file(path, tokenizer_path, &m->gguf, &m->owned, &m->from_llama2c, err);
    if (st == ST_OK) {
        m->file_size = m->from_llama2c ? 0 : m->gguf.size;
        if (m->from_llama2c) {
            FileMap probe;
            if (file_map_open(&probe, path, NULL) == ST_OK) m->file_size = probe.size;
            file_map_close(&probe);
        }
        st = model_init_from_gguf(m, flags, err);
    }
    if (st != ST_OK) {
        model_close(m);
        return st;
    }
    *out = m;
    return ST_OK;
}
