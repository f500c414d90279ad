/* synth.c — synthetic llama models (see synth.h for what is generated and why).
 *
 * Called by `quantlab synth` (cli/cmd_synth.c), `make bench` through it, and the
 * tests. Sections in the order the file is made: random numbers, the config,
 * the vocabulary, the weights, the GGUF.
 *
 * Every random stream is derived from (seed, tensor, chunk) alone, so threads
 * may fill chunks in any order and the bytes stay the same.
 */
#include "model/synth.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "model/tokenizer.h"
#include "quant/types.h"

/* ------------------------------------------------------------ random numbers */

/* splitmix64: a 64-bit counter through a strong mixer; each stream is a counter
 * started at a hash of (seed, tensor, chunk). */
typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rng_next(Rng *r) {
    return mix64(r->s += 0x9E3779B97F4A7C15ULL);
}

static Rng rng_stream(uint64_t seed, uint64_t tensor, uint64_t chunk) {
    Rng r = {mix64(mix64(mix64(seed + 0x9E3779B97F4A7C15ULL) ^ tensor) + chunk)};
    return r;
}

/* Uniform in (0, 1): never 0, so log() is finite. */
static double rng_uniform(Rng *r) {
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static const double SYNTH_PI = 3.14159265358979323846;

static double rng_normal(Rng *r) {
    const double u1 = rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * SYNTH_PI * u2);
}

/* Student-t with 5 degrees of freedom, scaled to variance 1:
 *   t = z1 / sqrt(chi2 / 5),  chi2 = -2 ln(u3 u4) + z2^2   (chi2(4) + chi2(1))
 * z1, z2 one Box-Muller pair; Var(t5) = 5/3, hence the factor sqrt(3/5). */
static double rng_t5(Rng *r) {
    const double u1 = rng_uniform(r), u2 = rng_uniform(r);
    const double rad = sqrt(-2.0 * log(u1));
    const double z1 = rad * cos(2.0 * SYNTH_PI * u2), z2 = rad * sin(2.0 * SYNTH_PI * u2);
    const double chi2 = -2.0 * log(rng_uniform(r) * rng_uniform(r)) + z2 * z2;
    return z1 * sqrt((SYNTH_T_DOF - 2.0) / chi2); /* z1 / sqrt(chi2 / 5) * sqrt(3 / 5) */
}

/* Stream tags besides chunk numbers. */
static const uint64_t TAG_ROWS = UINT64_MAX, TAG_OUTLIERS = UINT64_MAX - 1;
static const uint64_t TENSOR_VOCAB = UINT64_MAX;

/* -------------------------------------------------------------------- config */

SynthConfig synth_config_default(void) {
    SynthConfig c = {768, 2048, 12, 12, 12, 32000, 1024, 1};
    return c;
}

/* std(role) * sqrt(fan_in), measured on stories260K (`quantlab stats`: RMS of
 * each role averaged over its 5 layers, times sqrt of the row length). */
static double role_factor(TensorRole role) {
    switch (role) {
    case ROLE_TOKEN_EMBD:
    case ROLE_OUTPUT: return 2.47;
    case ROLE_ATTN_Q: return 1.80;
    case ROLE_ATTN_K: return 1.60;
    case ROLE_ATTN_V: return 0.53;
    case ROLE_ATTN_OUTPUT: return 0.61;
    case ROLE_FFN_GATE: return 1.03;
    case ROLE_FFN_UP: return 0.97;
    case ROLE_FFN_DOWN: return 1.67;
    default: return 0.0;
    }
}

double synth_std(const SynthConfig *c, TensorRole role) {
    const int fan_in = role == ROLE_FFN_DOWN ? c->hidden_dim : c->dim;
    return role_factor(role) / sqrt((double)fan_in);
}

int64_t synth_outlier_count(int64_t n) {
    return 1 + n / 65536;
}

/* The characters the pieces are made of: "▁", lowercase by English frequency
 * (the generator favours the front), uppercase, digits, punctuation and a few
 * non-ASCII characters so pieces of 2 and 3 bytes exist too. */
static const char *const CHARS[] = {
    "\xe2\x96\x81", "e", "t", "a", "o", "i", "n", "s", "h", "r", "d", "l", "u", "c", "m", "w", "f", "g",
    "y", "p", "b", "v", "k", "j", "x", "q", "z", "A", "B", "C", "D", "E", "F", "G", "H", "I",
    "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", ",", "!", "?", "'", "\"", "-",
    ":", ";", "(", ")", "\xc3\xa9", "\xc3\xbc", "\xc3\xb1", "\xe2\x80\x94", "\xe2\x80\x99",
    "\xe2\x80\x9c", "\xe2\x80\x9d",
};
enum { N_CHARS = (int)(sizeof CHARS / sizeof CHARS[0]), N_LOWER = 26, FIRST_UPPER = 27,
       N_UPPER = 26, FIRST_DIGIT = 53, N_SPECIAL = 3, N_BYTES = 256 };

int synth_min_vocab(void) {
    return N_SPECIAL + N_BYTES + N_CHARS;
}

Status synth_config_check(const SynthConfig *c, Error *err) {
    if (c->dim < 1 || c->dim > 65536) return error_set(err, ST_USAGE, "synth: --dim must be 1..65536");
    if (c->hidden_dim < 1 || c->hidden_dim > (1 << 20))
        return error_set(err, ST_USAGE, "synth: --hidden must be 1..1048576");
    if (c->n_layers < 1 || c->n_layers > 1024) return error_set(err, ST_USAGE, "synth: --layers must be 1..1024");
    if (c->n_heads < 1 || c->n_heads > 1024 || c->dim % c->n_heads != 0 || (c->dim / c->n_heads) % 2 != 0)
        return error_set(err, ST_USAGE, "synth: --heads must divide --dim %d into heads of an even size", c->dim);
    if (c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads != 0)
        return error_set(err, ST_USAGE, "synth: --kv-heads must divide --heads %d", c->n_heads);
    if (c->vocab_size < synth_min_vocab() || c->vocab_size > (1 << 20))
        return error_set(err, ST_USAGE, "synth: --vocab must be %d..1048576", synth_min_vocab());
    if (c->context_length < 1 || c->context_length > (1 << 20))
        return error_set(err, ST_USAGE, "synth: --ctx must be 1..1048576");
    const double bytes = 4.0 * (double)synth_weight_count(c);
    const uint64_t mem = model_machine_memory();
    if ((mem && bytes > (double)mem * 0.6) || bytes > (double)SIZE_MAX / 4)
        return error_set(err, ST_LIMIT, "synth: %.1f million weights need %.1f GB; this machine has %.1f GB",
                         (double)synth_weight_count(c) / 1e6, bytes / 1e9, (double)mem / 1e9);
    return ST_OK;
}

/* ---------------------------------------------------------------- the tensors */

typedef struct SynthTensor {
    char name[64];
    TensorRole role;
    uint32_t n_dims;
    uint64_t ne[2]; /* ne[0] = row length */
} SynthTensor;

/* The tensors in llama.cpp's converter order: token_embd, output_norm, output,
 * then per block q, k, v, output, attn_norm, gate, down, up, ffn_norm. Fills t
 * (when not NULL) and returns the count. */
static int synth_tensors(const SynthConfig *c, SynthTensor *t) {
    const uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim, vocab = (uint64_t)c->vocab_size;
    const uint64_t kv = (uint64_t)(c->dim / c->n_heads * c->n_kv_heads);
    int n = 0;
#define ADD(role_, dims_, ne0_, ne1_, ...)                                   \
    do {                                                                     \
        if (t) {                                                             \
            snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__);              \
            t[n].role = role_;                                               \
            t[n].n_dims = dims_;                                             \
            t[n].ne[0] = ne0_;                                               \
            t[n].ne[1] = ne1_;                                               \
        }                                                                    \
        n++;                                                                 \
    } while (0)
    ADD(ROLE_TOKEN_EMBD, 2, dim, vocab, "token_embd.weight");
    ADD(ROLE_OUTPUT_NORM, 1, dim, 1, "output_norm.weight");
    ADD(ROLE_OUTPUT, 2, dim, vocab, "output.weight");
    for (int l = 0; l < c->n_layers; l++) {
        ADD(ROLE_ATTN_Q, 2, dim, dim, "blk.%d.attn_q.weight", l);
        ADD(ROLE_ATTN_K, 2, dim, kv, "blk.%d.attn_k.weight", l);
        ADD(ROLE_ATTN_V, 2, dim, kv, "blk.%d.attn_v.weight", l);
        ADD(ROLE_ATTN_OUTPUT, 2, dim, dim, "blk.%d.attn_output.weight", l);
        ADD(ROLE_ATTN_NORM, 1, dim, 1, "blk.%d.attn_norm.weight", l);
        ADD(ROLE_FFN_GATE, 2, dim, hid, "blk.%d.ffn_gate.weight", l);
        ADD(ROLE_FFN_DOWN, 2, hid, dim, "blk.%d.ffn_down.weight", l);
        ADD(ROLE_FFN_UP, 2, dim, hid, "blk.%d.ffn_up.weight", l);
        ADD(ROLE_FFN_NORM, 1, dim, 1, "blk.%d.ffn_norm.weight", l);
    }
#undef ADD
    return n;
}

int64_t synth_weight_count(const SynthConfig *c) {
    const int64_t dim = c->dim, hid = c->hidden_dim, vocab = c->vocab_size;
    const int64_t kv = c->n_heads > 0 ? c->dim / c->n_heads * c->n_kv_heads : 0;
    const int64_t block = dim * dim * 2 + dim * kv * 2 + dim * hid * 3 + dim * 2;
    return vocab * dim * 2 + dim + block * c->n_layers;
}

/* ----------------------------------------------------------------- vocabulary */

typedef struct Vocab {
    int n;
    char **text;     /* (n) NUL-terminated; text[i] points into `arena` or CHARS */
    float *scores;   /* (n) */
    int32_t *types;  /* (n) */
    char *arena;     /* the generated pieces and byte-token names */
    size_t arena_used, arena_cap;
    uint32_t *hash;  /* open addressing over ids + 1 (0 = empty) */
    uint32_t mask;
} Vocab;

static void vocab_free(Vocab *v) {
    free(v->text);
    free(v->scores);
    free(v->types);
    free(v->arena);
    free(v->hash);
    memset(v, 0, sizeof *v);
}

static uint32_t str_hash(const char *s, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* Slot of `s` in the hash: where it is, or the empty slot where it would go. */
static uint32_t vocab_slot(const Vocab *v, const char *s, size_t len) {
    uint32_t i = str_hash(s, len) & v->mask;
    while (v->hash[i]) {
        const char *t = v->text[v->hash[i] - 1];
        if (strlen(t) == len && memcmp(t, s, len) == 0) return i;
        i = (i + 1) & v->mask;
    }
    return i;
}

/* Appends a piece (copied into the arena unless `stat` is a static string);
 * false when it is already there. Capacity is reserved by vocab_build. */
static bool vocab_add(Vocab *v, const char *s, size_t len, const char *stat, float score, int32_t type) {
    const uint32_t slot = vocab_slot(v, s, len);
    if (v->hash[slot]) return false;
    char *text = (char *)stat;
    if (!text) {
        text = v->arena + v->arena_used;
        memcpy(text, s, len);
        text[len] = '\0';
        v->arena_used += len + 1;
    }
    v->text[v->n] = text;
    v->scores[v->n] = score;
    v->types[v->n] = type;
    v->n++;
    v->hash[slot] = (uint32_t)v->n;
    return true;
}

enum { PIECE_MAX_BYTES = 16 };

static bool is_vowel(char ch) {
    return ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u' || ch == 'y';
}

/* An index in [0, n) favouring the front (density ~ 1/sqrt): short, early pieces
 * are extended more often, as frequent ones are in a real vocabulary. */
static int pick_front(Rng *r, int n) {
    const double u = rng_uniform(r);
    int i = (int)(u * u * n);
    return i < n ? i : n - 1;
}

/* ids >= 0 are tokens already made; -1 - k stands for CHARS[k] */
static const char *piece_text(const Vocab *v, int id) {
    return id >= 0 ? v->text[id] : CHARS[-1 - id];
}

static Status vocab_build(Vocab *v, const SynthConfig *c, Error *err) {
    memset(v, 0, sizeof *v);
    const int n = c->vocab_size;
    uint32_t cap = 1;
    while (cap < 2u * (uint32_t)n) cap <<= 1;
    v->mask = cap - 1;
    v->arena_cap = (size_t)n * (PIECE_MAX_BYTES + 1) + N_BYTES * 7;
    v->text = calloc((size_t)n, sizeof *v->text);
    v->scores = calloc((size_t)n, sizeof *v->scores);
    v->types = calloc((size_t)n, sizeof *v->types);
    v->arena = malloc(v->arena_cap);
    v->hash = calloc(cap, sizeof *v->hash);
    /* word pieces (start with "▁") and inner pieces (lowercase letters only) */
    int *words = malloc((size_t)n * sizeof *words), *inner = malloc((size_t)n * sizeof *inner);
    if (!v->text || !v->scores || !v->types || !v->arena || !v->hash || !words || !inner) {
        free(words);
        free(inner);
        vocab_free(v);
        return error_set(err, ST_NOMEM, "synth: out of memory for a vocabulary of %d tokens", n);
    }

    vocab_add(v, "<unk>", 5, "<unk>", 0.0f, TOKEN_TYPE_UNKNOWN);
    vocab_add(v, "<s>", 3, "<s>", 0.0f, TOKEN_TYPE_CONTROL);
    vocab_add(v, "</s>", 4, "</s>", 0.0f, TOKEN_TYPE_CONTROL);
    for (int b = 0; b < N_BYTES; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        vocab_add(v, name, 6, NULL, 0.0f, TOKEN_TYPE_BYTE);
    }

    /* Merged pieces, each two known pieces joined; the characters themselves go
     * last (as in llama's vocabulary), so a piece's id says when it was made. */
    const int n_merged = n - synth_min_vocab();
    Rng r = rng_stream(c->seed, TENSOR_VOCAB, 0);
    int n_words = 0, n_inner = 0;
    words[n_words++] = -1; /* "▁" alone */
    for (int k = 1; k <= N_LOWER; k++) inner[n_inner++] = -1 - k;
    int made = 0;
    long attempts = 0, give_up = 1000L * n_merged + 100000L;
    while (made < n_merged) {
        char buf[2 * PIECE_MAX_BYTES + 8];
        const char *p, *q;
        bool word;
        const double u = rng_uniform(&r);
        if (u < 0.55) { /* extend a word */
            p = piece_text(v, words[pick_front(&r, n_words)]);
            q = piece_text(v, inner[pick_front(&r, n_inner)]);
            word = true;
        } else if (u < 0.92) { /* join two inner pieces */
            p = piece_text(v, inner[pick_front(&r, n_inner)]);
            q = piece_text(v, inner[pick_front(&r, n_inner)]);
            word = false;
        } else { /* a capitalised word or a number starts */
            p = CHARS[0];
            q = CHARS[FIRST_UPPER + (int)(rng_uniform(&r) * (N_UPPER + 10))];
            word = true;
        }
        const size_t lp = strlen(p), lq = strlen(q);
        attempts++;
        if (attempts > give_up) {
            /* practically unreachable (the space of joins is vast): fill with
             * numbered pieces so the vocabulary still has its size */
            snprintf(buf, sizeof buf, "\xe2\x96\x81%d", made);
            if (vocab_add(v, buf, strlen(buf), NULL, (float)-made, TOKEN_TYPE_NORMAL)) made++;
            continue;
        }
        if (lp + lq > PIECE_MAX_BYTES) continue;
        /* keep joins pronounceable most of the time: a consonant pair or a vowel
         * pair at the seam only now and then */
        const char a = p[lp - 1], b = q[0];
        const bool letters = a >= 'a' && a <= 'z' && b >= 'a' && b <= 'z';
        if (letters && is_vowel(a) == is_vowel(b) && rng_uniform(&r) > 0.3) continue;
        memcpy(buf, p, lp);
        memcpy(buf + lp, q, lq);
        if (!vocab_add(v, buf, lp + lq, NULL, (float)-made, TOKEN_TYPE_NORMAL)) continue;
        made++;
        if (word) words[n_words++] = v->n - 1;
        else inner[n_inner++] = v->n - 1;
    }
    for (int k = 0; k < N_CHARS; k++)
        vocab_add(v, CHARS[k], strlen(CHARS[k]), CHARS[k], (float)-(n_merged + k), TOKEN_TYPE_NORMAL);
    free(words);
    free(inner);
    if (v->n != n) { /* a generated piece equal to a character would land here */
        vocab_free(v);
        return error_set(err, ST_USAGE, "synth: could not make %d distinct tokens", n);
    }
    return ST_OK;
}

/* -------------------------------------------------------------------- weights */

enum { CHUNK = 1 << 16 };

typedef struct FillJob {
    float *w;
    int64_t n, cols;
    double std;
    const double *row_scale; /* (rows) */
    uint64_t seed, tensor;
    int64_t n_chunks;
} FillJob;

static void fill_task(void *ctx, int task, int n_tasks) {
    const FillJob *j = ctx;
    const int64_t c0 = j->n_chunks * task / n_tasks, c1 = j->n_chunks * (task + 1) / n_tasks;
    for (int64_t k = c0; k < c1; k++) {
        Rng r = rng_stream(j->seed, j->tensor, (uint64_t)k);
        const int64_t end = (k + 1) * CHUNK < j->n ? (k + 1) * CHUNK : j->n;
        /* row by row, so the row is found with one division per row, not per value */
        for (int64_t i = k * CHUNK; i < end;) {
            const int64_t row = i / j->cols, row_end = (row + 1) * j->cols < end ? (row + 1) * j->cols : end;
            const double scale = j->std * j->row_scale[row];
            for (; i < row_end; i++) j->w[i] = (float)(scale * rng_t5(&r));
        }
    }
}

/* Fills tensor `index` (its values w, shape from t) as synth.h describes. */
static Status fill_tensor(const SynthConfig *c, const SynthTensor *t, uint64_t index, float *w,
                          Pool *pool, Error *err) {
    const int64_t cols = (int64_t)t->ne[0], rows = (int64_t)t->ne[1], n = cols * rows;
    if (t->n_dims == 1) { /* a norm vector: around 1 */
        Rng r = rng_stream(c->seed, index, 0);
        for (int64_t i = 0; i < n; i++) {
            double z = rng_normal(&r);
            z = z < -SYNTH_NORM_CLAMP ? -SYNTH_NORM_CLAMP : z > SYNTH_NORM_CLAMP ? SYNTH_NORM_CLAMP : z;
            w[i] = (float)exp(SYNTH_NORM_SIGMA * z);
        }
        return ST_OK;
    }
    double *row_scale = malloc((size_t)rows * sizeof *row_scale);
    if (!row_scale) return error_set(err, ST_NOMEM, "synth: out of memory");
    Rng rr = rng_stream(c->seed, index, TAG_ROWS);
    for (int64_t i = 0; i < rows; i++)
        row_scale[i] = exp(SYNTH_ROW_SIGMA * rng_normal(&rr) - SYNTH_ROW_SIGMA * SYNTH_ROW_SIGMA);
    const double std = synth_std(c, t->role);
    FillJob job = {w, n, cols, std, row_scale, c->seed, index, (n + CHUNK - 1) / CHUNK};
    int n_tasks = (int)(job.n_chunks < 4 * pool_threads(pool) ? job.n_chunks : 4 * pool_threads(pool));
    pool_run(pool, fill_task, &job, n_tasks);
    free(row_scale);

    Rng ro = rng_stream(c->seed, index, TAG_OUTLIERS);
    for (int64_t k = synth_outlier_count(n); k > 0; k--) {
        const int64_t at = (int64_t)(rng_next(&ro) % (uint64_t)n);
        const double sign = (rng_next(&ro) >> 63) ? -1.0 : 1.0;
        const double m = SYNTH_OUTLIER_MIN + (SYNTH_OUTLIER_MAX - SYNTH_OUTLIER_MIN) * rng_uniform(&ro);
        w[at] = (float)(sign * m * std);
    }
    return ST_OK;
}

/* ------------------------------------------------------------------- the file */

typedef struct Build {
    GgufWriter *w;
    Vocab vocab;
    int n_tensors;
    float **data; /* (n_tensors) */
} Build;

static void build_free(Build *b) {
    gguf_writer_delete(b->w);
    vocab_free(&b->vocab);
    for (int i = 0; b->data && i < b->n_tensors; i++) free(b->data[i]);
    free(b->data);
    memset(b, 0, sizeof *b);
}

static Status set_keys(GgufWriter *w, const SynthConfig *c, const Vocab *v) {
    char name[64], desc[256];
    const double m = (double)synth_weight_count(c) / 1e6;
    if (m >= 10) snprintf(name, sizeof name, "synth-%.0fM", m);
    else snprintf(name, sizeof name, "synth-%.2gM", m);
    snprintf(desc, sizeof desc,
             "synthetic llama model from quantlab synth, seed %llu: random weights with trained-like "
             "spreads, not a trained model",
             (unsigned long long)c->seed);
    const uint32_t head_dim = (uint32_t)(c->dim / c->n_heads);
    Status st;
    if ((st = gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->text, (uint64_t)v->n)) ||
        (st = gguf_writer_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->scores, (uint64_t)v->n)) ||
        (st = gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->types, (uint64_t)v->n)) ||
        (st = gguf_writer_set_str(w, "tokenizer.ggml.model", "llama")) ||
        (st = gguf_writer_set_str(w, "general.architecture", "llama")) ||
        (st = gguf_writer_set_str(w, "general.name", name)) ||
        (st = gguf_writer_set_str(w, "general.description", desc)) ||
        (st = gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0)) ||
        (st = gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1)) ||
        (st = gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2)) ||
        (st = gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", UINT32_MAX)) ||
        (st = gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", UINT32_MAX)) ||
        (st = gguf_writer_set_u32(w, "llama.context_length", (uint32_t)c->context_length)) ||
        (st = gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)c->dim)) ||
        (st = gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)c->hidden_dim)) ||
        (st = gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)c->n_heads)) ||
        (st = gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads)) ||
        (st = gguf_writer_set_u32(w, "llama.block_count", (uint32_t)c->n_layers)) ||
        (st = gguf_writer_set_u32(w, "llama.rope.dimension_count", head_dim)) ||
        (st = gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f)))
        return st;
    return ST_OK;
}

static Status build_model(Build *b, const SynthConfig *c, Pool *pool, Error *err) {
    memset(b, 0, sizeof *b);
    Status st = synth_config_check(c, err);
    if (st != ST_OK) return st;
    if ((st = vocab_build(&b->vocab, c, err)) != ST_OK) return st;
    b->n_tensors = synth_tensors(c, NULL);
    SynthTensor *t = calloc((size_t)b->n_tensors, sizeof *t);
    b->data = calloc((size_t)b->n_tensors, sizeof *b->data);
    b->w = gguf_writer_new();
    if (!t || !b->data || !b->w) {
        free(t);
        build_free(b);
        return error_set(err, ST_NOMEM, "synth: out of memory");
    }
    synth_tensors(c, t);
    if ((st = set_keys(b->w, c, &b->vocab)) != ST_OK) {
        error_set(err, st, "synth: cannot set the file's keys (%s)", status_name(st));
        goto fail;
    }
    for (int i = 0; i < b->n_tensors; i++) {
        const size_t n = (size_t)(t[i].ne[0] * t[i].ne[1]);
        if (!(b->data[i] = malloc(n * sizeof(float)))) {
            st = error_set(err, ST_NOMEM, "synth: out of memory for tensor '%s'", t[i].name);
            goto fail;
        }
        if ((st = fill_tensor(c, &t[i], (uint64_t)i, b->data[i], pool, err)) != ST_OK) goto fail;
        if ((st = gguf_writer_add_tensor(b->w, t[i].name, t[i].n_dims, t[i].ne, GGML_TYPE_F32, b->data[i],
                                         n * sizeof(float))) != ST_OK) {
            error_set(err, st, "synth: cannot add tensor '%s'", t[i].name);
            goto fail;
        }
    }
    free(t);
    return ST_OK;
fail:
    free(t);
    build_free(b);
    return st;
}

Status synth_write_file(const SynthConfig *c, const char *path, Pool *pool, Error *err) {
    Build b;
    Status st = build_model(&b, c, pool, err);
    if (st != ST_OK) return st;
    st = gguf_writer_write_file(b.w, path, err);
    build_free(&b);
    return st;
}

Status synth_write_buffer(const SynthConfig *c, Pool *pool, uint8_t **out, size_t *len, Error *err) {
    *out = NULL;
    *len = 0;
    Build b;
    Status st = build_model(&b, c, pool, err);
    if (st != ST_OK) return st;
    st = gguf_writer_write_buffer(b.w, out, len, err);
    build_free(&b);
    return st;
}
