/* llama2c.c — parsing of llama2.c checkpoints (header and size) and tokenizers.
 *
 * Pure parsing from (buffer, length): no files, no GGUF writer, so the tests and
 * the model loader can use it alone. llama2c_gguf.c turns the result into GGUF
 * keys and tensors. Every number read is hostile: header fields are bounded,
 * the file length must be exactly what the header implies, and every tokenizer
 * record is checked against the bytes that remain.
 */
#include "gguf/llama2c.h"

#include "base/utf8.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

/* GGUF tokenizer.ggml.token_type values. They equal TOKEN_TYPE_* in
 * model/tokenizer.h, which gguf/ does not include (arrows point down);
 * test_llama2c checks that the two agree. */
enum {
    L2C_TYPE_NORMAL = 1,
    L2C_TYPE_UNKNOWN = 2,
    L2C_TYPE_CONTROL = 3,
    L2C_TYPE_BYTE = 6
};

/* Header bounds. The vocabulary bound equals TOKENIZER_MAX_VOCAB. */
enum {
    L2C_HEADER_BYTES = 7 * 4,
    L2C_MAX_DIM = 1 << 20,
    L2C_MAX_LAYERS = 1024,
    L2C_MAX_VOCAB = 1 << 22,
    L2C_MAX_SEQ = 1 << 20
};

#define L2C_MAGIC_AK42 0x616b3432u /* llama2.c export.py --version 1/2 */
#define GGUF_MAGIC_LE 0x46554747u  /* "GGUF" */

static uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t rd_i32(const uint8_t *p) {
    uint32_t u = rd_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static float rd_f32(const uint8_t *p) {
    uint32_t u = rd_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ------------------------------------------------------------------ checkpoint */

static Status check_field(const char *name, const char *field, int32_t v, int32_t max,
                          Error *err) {
    if (v <= 0)
        return error_set(err, ST_FORMAT, "%s: %s is %" PRId32 " in the llama2.c header, must be positive",
                         name, field, v);
    if (v > max)
        return error_set(err, ST_LIMIT,
                         "%s: %s is %" PRId32 " in the llama2.c header, more than the %" PRId32
                         " quantlab accepts",
                         name, field, v, max);
    return ST_OK;
}

/* Floats after the header: weights, the two freq_cis tables, wcls if separate.
 * False on overflow (cannot happen within the header bounds, checked anyway). */
static bool checkpoint_floats(const Llama2cConfig *c, uint64_t *out) {
    uint64_t dim = (uint64_t)c->dim, hidden = (uint64_t)c->hidden_dim, L = (uint64_t)c->n_layers;
    uint64_t vocab = (uint64_t)c->vocab_size, seq = (uint64_t)c->seq_len;
    uint64_t kv_dim = dim / (uint64_t)c->n_heads * (uint64_t)c->n_kv_heads;
    uint64_t head_size = dim / (uint64_t)c->n_heads;
    uint64_t per_layer, t, total, embd;
    /* per layer: rms_att + rms_ffn (dim each), wq + wo (dim*dim each),
     * wk + wv (kv_dim*dim each), w1 + w2 + w3 (hidden*dim each) */
    uint64_t dd, kd, hd;
    if (!checked_mul_u64(dim, dim, &dd) || !checked_mul_u64(kv_dim, dim, &kd) ||
        !checked_mul_u64(hidden, dim, &hd))
        return false;
    if (!checked_mul_u64(dd, 2, &per_layer) || !checked_mul_u64(kd, 2, &t) ||
        !checked_add_u64(per_layer, t, &per_layer) || !checked_mul_u64(hd, 3, &t) ||
        !checked_add_u64(per_layer, t, &per_layer) || !checked_add_u64(per_layer, 2 * dim, &per_layer))
        return false;
    if (!checked_mul_u64(per_layer, L, &total) || !checked_mul_u64(vocab, dim, &embd) ||
        !checked_add_u64(total, embd, &total) || !checked_add_u64(total, dim, &total))
        return false;
    /* freq_cis_real and freq_cis_imag: (seq_len, head_size/2) each */
    if (!checked_mul_u64(seq, head_size, &t) || !checked_add_u64(total, t, &total)) return false;
    if (!c->shared_classifier && !checked_add_u64(total, embd, &total)) return false;
    *out = total;
    return true;
}

Status llama2c_read_config(const uint8_t *buf, size_t len, const char *name, Llama2cConfig *cfg,
                           Error *err) {
    assert((buf || len == 0) && name && cfg);
    memset(cfg, 0, sizeof *cfg);
    if (len < L2C_HEADER_BYTES)
        return error_set(err, ST_FORMAT,
                         "%s: %zu bytes, too short for the %d-byte header of a llama2.c checkpoint",
                         name, len, L2C_HEADER_BYTES);
    uint32_t magic = rd_u32(buf);
    if (magic == GGUF_MAGIC_LE)
        return error_set(err, ST_FORMAT, "%s: a GGUF file, not a llama2.c checkpoint", name);
    if (magic == L2C_MAGIC_AK42)
        return error_set(err, ST_UNSUPPORTED,
                         "%s: a llama2.c export of version 1 or later (magic \"ak42\"); only the "
                         "legacy version-0 checkpoint is supported",
                         name);

    Llama2cConfig c;
    c.dim = rd_i32(buf);
    c.hidden_dim = rd_i32(buf + 4);
    c.n_layers = rd_i32(buf + 8);
    c.n_heads = rd_i32(buf + 12);
    c.n_kv_heads = rd_i32(buf + 16);
    c.vocab_size = rd_i32(buf + 20);
    c.seq_len = rd_i32(buf + 24);
    /* A negative vocab_size says the classifier wcls is stored separately. */
    c.shared_classifier = c.vocab_size > 0;
    if (c.vocab_size < 0 && c.vocab_size != INT32_MIN) c.vocab_size = -c.vocab_size;

    Status st;
    if ((st = check_field(name, "dim", c.dim, L2C_MAX_DIM, err)) != ST_OK ||
        (st = check_field(name, "hidden_dim", c.hidden_dim, L2C_MAX_DIM, err)) != ST_OK ||
        (st = check_field(name, "n_layers", c.n_layers, L2C_MAX_LAYERS, err)) != ST_OK ||
        (st = check_field(name, "n_heads", c.n_heads, INT32_MAX, err)) != ST_OK ||
        (st = check_field(name, "n_kv_heads", c.n_kv_heads, INT32_MAX, err)) != ST_OK ||
        (st = check_field(name, "seq_len", c.seq_len, L2C_MAX_SEQ, err)) != ST_OK)
        return st;
    int32_t raw_vocab = rd_i32(buf + 20);
    if (raw_vocab == 0)
        return error_set(err, ST_FORMAT, "%s: vocab_size is 0 in the llama2.c header", name);
    if (raw_vocab == INT32_MIN || c.vocab_size > L2C_MAX_VOCAB)
        return error_set(err, ST_LIMIT,
                         "%s: vocab_size is %" PRId32 " in the llama2.c header, more than the %d "
                         "tokens quantlab accepts",
                         name, raw_vocab, (int)L2C_MAX_VOCAB);
    if (c.n_heads > c.dim)
        return error_set(err, ST_FORMAT, "%s: n_heads %" PRId32 " is more than dim %" PRId32, name,
                         c.n_heads, c.dim);
    if (c.n_kv_heads > c.n_heads)
        return error_set(err, ST_FORMAT, "%s: n_kv_heads %" PRId32 " is more than n_heads %" PRId32,
                         name, c.n_kv_heads, c.n_heads);
    if (c.dim % c.n_heads != 0)
        return error_set(err, ST_FORMAT, "%s: dim %" PRId32 " is not a multiple of n_heads %" PRId32,
                         name, c.dim, c.n_heads);
    if ((c.dim / c.n_heads) % 2 != 0)
        return error_set(err, ST_FORMAT,
                         "%s: head size %" PRId32 " (dim / n_heads) is odd; RoPE rotates pairs",
                         name, c.dim / c.n_heads);
    if (c.n_heads % c.n_kv_heads != 0)
        return error_set(err, ST_FORMAT,
                         "%s: n_heads %" PRId32 " is not a multiple of n_kv_heads %" PRId32, name,
                         c.n_heads, c.n_kv_heads);

    uint64_t floats, need;
    if (!checkpoint_floats(&c, &floats) || !checked_mul_u64(floats, 4, &need) ||
        !checked_add_u64(need, L2C_HEADER_BYTES, &need))
        return error_set(err, ST_LIMIT, "%s: the llama2.c header describes an impossibly large model",
                         name);
    if ((uint64_t)len != need)
        return error_set(err, ST_FORMAT,
                         "%s: %zu bytes, but a llama2.c checkpoint with dim %" PRId32
                         ", hidden_dim %" PRId32 ", %" PRId32 " layers, %" PRId32 " heads, %" PRId32
                         " kv heads, vocab %" PRId32 ", seq_len %" PRId32
                         " and a %s classifier needs %" PRIu64 " bytes",
                         name, len, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                         c.vocab_size, c.seq_len, c.shared_classifier ? "shared" : "separate", need);
    *cfg = c;
    return ST_OK;
}

/* ------------------------------------------------------------------- tokenizer */


/* A NUL-terminated copy of s[0..n) with every ' ' written as "▁" (U+2581), as
 * llama.cpp's converter does; NULL when out of memory. */
static char *escape_spaces(const uint8_t *s, size_t n) {
    size_t spaces = 0, size;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    if (!checked_mul_size(spaces, 2, &size) || !checked_add_size(size, n, &size) ||
        !checked_add_size(size, 1, &size))
        return NULL;
    char *d = malloc(size), *p = d;
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            memcpy(p, "\xe2\x96\x81", 3);
            p += 3;
        } else {
            *p++ = (char)s[i];
        }
    }
    *p = '\0';
    return d;
}

/* Type of token `id` >= 3 with llama2.c text s[0..n) (no NUL inside), as
 * llama.cpp's convert-llama2c-to-ggml load_vocab() decides it: empty -> CONTROL,
 * sscanf(text, "<0x%02hhX>", ...) == 1 -> BYTE, else NORMAL. -1: out of memory. */
static int32_t classify_token(const uint8_t *s, size_t n) {
    if (n == 0) return L2C_TYPE_CONTROL;
    /* The literal "<0x" and at least one more character are needed to convert. */
    if (n < 4 || memcmp(s, "<0x", 3) != 0) return L2C_TYPE_NORMAL;
    char *z = malloc(n + 1); /* sscanf needs a C string; the %X skips any white space */
    if (!z) return -1;
    memcpy(z, s, n);
    z[n] = '\0';
    unsigned char byte_val;
    int32_t type = sscanf(z, "<0x%02hhX>", &byte_val) == 1 ? L2C_TYPE_BYTE : L2C_TYPE_NORMAL;
    free(z);
    return type;
}

static void free_vocab(char **tokens, int n) {
    if (!tokens) return;
    for (int i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
}

Status llama2c_read_tokenizer(const uint8_t *buf, size_t len, const char *name, int vocab_size,
                              char ***tokens, float **scores, int32_t **types, Error *err) {
    assert((buf || len == 0) && name && tokens && scores && types);
    *tokens = NULL;
    *scores = NULL;
    *types = NULL;
    if (vocab_size <= 0)
        return error_set(err, ST_FORMAT, "%s: vocabulary size %d, must be positive", name,
                         vocab_size);
    if (vocab_size > L2C_MAX_VOCAB)
        return error_set(err, ST_LIMIT, "%s: vocabulary size %d is more than the %d quantlab accepts",
                         name, vocab_size, (int)L2C_MAX_VOCAB);
    if (len < 4)
        return error_set(err, ST_FORMAT,
                         "%s: %zu bytes, too short for a llama2.c tokenizer (4-byte header)", name,
                         len);
    /* Every record takes at least 8 bytes: check before allocating. */
    if ((len - 4) / 8 < (size_t)vocab_size)
        return error_set(err, ST_FORMAT,
                         "%s: %zu bytes cannot hold %d tokens (8 bytes or more each)", name, len,
                         vocab_size);
    /* buf[0..4) is max_token_length: llama.cpp ignores it, and so do we (lengths
     * are checked against the file instead). */
    char **tok = calloc((size_t)vocab_size, sizeof *tok);
    float *sc = malloc((size_t)vocab_size * sizeof *sc);
    int32_t *ty = malloc((size_t)vocab_size * sizeof *ty);
    Status st = ST_OK;
    if (!tok || !sc || !ty) st = error_set(err, ST_NOMEM, "%s: out of memory", name);

    size_t off = 4;
    for (int id = 0; st == ST_OK && id < vocab_size; id++) {
        if (len - off < 8) {
            st = error_set(err, ST_FORMAT,
                           "%s: token %d: record at byte %zu runs past the end of the file (%zu bytes)",
                           name, id, off, len);
            break;
        }
        float score = rd_f32(buf + off);
        uint32_t n32 = rd_u32(buf + off + 4);
        off += 8;
        if (n32 > len - off) {
            st = error_set(err, ST_FORMAT,
                           "%s: token %d: %" PRIu32
                           " bytes of text at byte %zu run past the end of the file (%zu bytes)",
                           name, id, n32, off, len);
            break;
        }
        const uint8_t *text = buf + off;
        size_t n = n32;
        off += n32;
        /* Ids 0, 1, 2 are renamed whatever their text (llama2.c writes BOS as "\n<s>\n"). */
        static const char *const special[3] = {"<unk>", "<s>", "</s>"};
        static const int32_t special_type[3] = {L2C_TYPE_UNKNOWN, L2C_TYPE_CONTROL,
                                                L2C_TYPE_CONTROL};
        int32_t type;
        if (id < 3) {
            text = (const uint8_t *)special[id];
            n = strlen(special[id]);
            type = special_type[id];
        } else if (memchr(text, '\0', n)) {
            st = error_set(err, ST_FORMAT, "%s: token %d contains a NUL byte", name, id);
            break;
        } else if (!utf8_valid((const char *)text, n)) {
            st = error_set(err, ST_FORMAT, "%s: token %d is not valid UTF-8", name, id);
            break;
        } else {
            type = classify_token(text, n);
        }
        tok[id] = type < 0 ? NULL : escape_spaces(text, n);
        if (!tok[id]) {
            st = error_set(err, ST_NOMEM, "%s: out of memory", name);
            break;
        }
        sc[id] = score;
        ty[id] = type;
    }
    if (st == ST_OK && off != len)
        st = error_set(err, ST_FORMAT, "%s: %zu bytes follow the last of the %d tokens", name,
                       len - off, vocab_size);
    if (st != ST_OK) {
        free_vocab(tok, vocab_size);
        free(sc);
        free(ty);
        return st;
    }
    *tokens = tok;
    *scores = sc;
    *types = ty;
    return ST_OK;
}
