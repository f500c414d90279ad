/* tokenizer.c — SentencePiece-style BPE encoding and llama2.c-style decoding.
 *
 * Called by the model loader (vocabulary arrays from GGUF), the generate and eval
 * commands (prompt and evaluation text) and the TUI (one piece per token).
 *
 * Sections: vocabulary (build, hash of piece text -> id), encoding (symbols,
 * bigram heap, merge loop, byte fallback), decoding.
 *
 * The encoder is llama.cpp's llm_tokenizer_spm: the text (with a dummy-prefix
 * space) is cut into one symbol per UTF-8 character, kept in a doubly linked
 * list; every adjacent pair whose concatenation is a piece goes into a max-heap
 * ordered by the piece's score, ties to the leftmost pair. Popping the best pair
 * merges it and offers the two new neighbouring pairs. Stale heap entries (a side
 * already merged away or grown) are recognised by their recorded byte length and
 * skipped. Finally each symbol is its piece, or, when it is a single character
 * that is not a piece, its bytes as <0xXX> tokens. llama2.c's quadratic encode()
 * picks the same pairs in the same order (highest score, leftmost first).
 *
 * Pieces are kept decoded ("▁" -> ' '), so the text is matched as it is; unlike
 * llama.cpp, which escapes the text's spaces to "▁" first, a literal "▁" in the
 * text is therefore not taken for a space.
 */
#include "model/tokenizer.h"

#include "base/utf8.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/fmt.h"
#include "base/sysmem.h"

/* ------------------------------------------------------------------ vocabulary */

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Id of the mergeable piece whose text is exactly s[0..n), or -1. */
static int hash_find(const Tokenizer *t, const char *s, size_t n) {
    if (n == 0 || n > t->max_piece_len) return -1;
    uint32_t h = hash_bytes(s, n) & t->hash_mask;
    for (;;) {
        int32_t id = t->hash_ids[h];
        if (id < 0) return -1;
        const TokenizerPiece *p = &t->pieces[id];
        if (p->len == n && memcmp(p->text, s, n) == 0) return id;
        h = (h + 1) & t->hash_mask;
    }
}

static void hash_insert(Tokenizer *t, int id) {
    const TokenizerPiece *p = &t->pieces[id];
    uint32_t h = hash_bytes(p->text, p->len) & t->hash_mask;
    for (;;) {
        int32_t other = t->hash_ids[h];
        if (other < 0) break;
        const TokenizerPiece *q = &t->pieces[other];
        if (q->len == p->len && memcmp(q->text, p->text, p->len) == 0) return; /* first id wins */
        h = (h + 1) & t->hash_mask;
    }
    t->hash_ids[h] = id;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The byte a "<0xXX>" token stands for, or -1 when the text is anything else. */
static int parse_byte_token(const char *s) {
    if (strncmp(s, "<0x", 3) != 0) return -1;
    int hi = hex_digit(s[3]);
    int lo = hi < 0 ? -1 : hex_digit(s[4]); /* s[4] exists: s[3] was not the NUL */
    if (lo < 0 || s[5] != '>' || s[6] != '\0') return -1;
    return hi * 16 + lo;
}

/* Copies a GGUF token string, turning each "▁" (U+2581, E2 96 81) into ' '. */
static char *unescape_piece(const char *s, size_t n, uint32_t *out_len) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n && (uint8_t)s[i] == 0xE2 && (uint8_t)s[i + 1] == 0x96 &&
            (uint8_t)s[i + 2] == 0x81) {
            d[j++] = ' ';
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out_len = (uint32_t)j;
    return d;
}

/* Whether text can turn into token `id` (it goes into the hash). Byte tokens are
 * reached only by fallback; BOS, EOS, unknown and control tokens are never made
 * from text (llama2.c's "\n<s>\n" cannot be formed either). */
static bool is_mergeable(const Tokenizer *t, int id) {
    int32_t type = t->types[id];
    return type != TOKEN_TYPE_BYTE && type != TOKEN_TYPE_CONTROL && type != TOKEN_TYPE_UNKNOWN &&
           id != t->bos_id && id != t->eos_id && id != t->unk_id && t->pieces[id].len > 0;
}

static Status check_special_id(int id, const char *what, int n_vocab, const char *name,
                               Error *err) {
    if (id < -1 || id >= n_vocab)
        return error_set(err, ST_FORMAT, "%s: %s token id %d is outside the vocabulary (%d tokens)",
                         name, what, id, n_vocab);
    return ST_OK;
}

/* Fills everything but the hash; the caller frees *t on error. */
static Status build_pieces(Tokenizer *t, const char *const *tokens, const float *scores,
                           const int32_t *types, const char *name, Error *err) {
    for (int i = 0; i < t->n_vocab; i++) {
        if (!tokens[i])
            return error_set(err, ST_FORMAT, "%s: token %d has no text", name, i);
        size_t n = strlen(tokens[i]);
        if (n > UINT32_MAX)
            return error_set(err, ST_LIMIT, "%s: token %d is %zu bytes long", name, i, n);
        float score = scores ? scores[i] : 0.0f;
        if (isnan(score))
            return error_set(err, ST_FORMAT, "%s: token %d has a score that is not a number", name,
                             i);
        int32_t type = types ? types[i] : TOKEN_TYPE_NORMAL;
        if (type < TOKEN_TYPE_UNDEFINED || type > TOKEN_TYPE_BYTE)
            return error_set(err, ST_FORMAT, "%s: token %d has unknown type %d", name, i,
                             (int)type);

        int byte = -1;
        if (type == TOKEN_TYPE_BYTE || (type != TOKEN_TYPE_CONTROL && type != TOKEN_TYPE_UNKNOWN)) {
            byte = parse_byte_token(tokens[i]);
            if (type == TOKEN_TYPE_BYTE && byte < 0)
                return error_set(err, ST_FORMAT,
                                 "%s: token %d has type BYTE but its text is not <0xXX>", name, i);
        }
        TokenizerPiece *p = &t->pieces[i];
        if (byte >= 0) {
            p->text = malloc(2);
            if (!p->text) return error_set(err, ST_NOMEM, "%s: out of memory", name);
            p->text[0] = (char)byte;
            p->text[1] = '\0';
            p->len = 1;
            type = TOKEN_TYPE_BYTE;
            if (t->byte_ids[byte] < 0) t->byte_ids[byte] = i;
        } else {
            p->text = unescape_piece(tokens[i], n, &p->len);
            if (!p->text) return error_set(err, ST_NOMEM, "%s: out of memory", name);
        }
        t->scores[i] = score;
        t->types[i] = type;
        if (is_mergeable(t, i) && p->len > t->max_piece_len) t->max_piece_len = p->len;
    }
    return ST_OK;
}

Status tokenizer_init(Tokenizer *t, int n_vocab, const char *const *tokens, const float *scores,
                      const int32_t *types, int bos_id, int eos_id, int unk_id,
                      bool add_space_prefix, const char *name, Error *err) {
    assert(t && name);
    memset(t, 0, sizeof *t);
    t->bos_id = t->eos_id = t->unk_id = -1;
    if (n_vocab <= 0 || n_vocab > TOKENIZER_MAX_VOCAB)
        return error_set(err, ST_LIMIT,
                         "%s: a vocabulary of %d tokens is outside what quantlab accepts (1 to %d)",
                         name, n_vocab, (int)TOKENIZER_MAX_VOCAB);
    if (!tokens) return error_set(err, ST_FORMAT, "%s: the vocabulary has no token texts", name);
    Status st;
    if ((st = check_special_id(bos_id, "BOS", n_vocab, name, err)) != ST_OK ||
        (st = check_special_id(eos_id, "EOS", n_vocab, name, err)) != ST_OK ||
        (st = check_special_id(unk_id, "unknown", n_vocab, name, err)) != ST_OK)
        return st;

    /* Hash capacity: the power of two >= 2 * n_vocab (load factor <= 1/2). */
    size_t cap = 1;
    while (cap < 2 * (size_t)n_vocab) cap *= 2;
    size_t b_pieces, b_scores, b_types, b_hash;
    if (!checked_mul_size((size_t)n_vocab, sizeof *t->pieces, &b_pieces) ||
        !checked_mul_size((size_t)n_vocab, sizeof *t->scores, &b_scores) ||
        !checked_mul_size((size_t)n_vocab, sizeof *t->types, &b_types) ||
        !checked_mul_size(cap, sizeof *t->hash_ids, &b_hash) || cap - 1 > UINT32_MAX)
        return error_set(err, ST_LIMIT, "%s: vocabulary of %d tokens is too large", name, n_vocab);

    t->n_vocab = n_vocab;
    t->pieces = calloc(1, b_pieces);
    t->scores = malloc(b_scores);
    t->types = malloc(b_types);
    t->hash_ids = malloc(b_hash);
    if (!t->pieces || !t->scores || !t->types || !t->hash_ids) {
        tokenizer_free(t);
        return error_set(err, ST_NOMEM, "%s: out of memory for %d tokens", name, n_vocab);
    }
    for (int b = 0; b < 256; b++) t->byte_ids[b] = -1;
    for (size_t i = 0; i < cap; i++) t->hash_ids[i] = -1;
    t->hash_mask = (uint32_t)(cap - 1);
    t->bos_id = bos_id;
    t->eos_id = eos_id;
    t->unk_id = unk_id;
    t->add_space_prefix = add_space_prefix;

    st = build_pieces(t, tokens, scores, types, name, err);
    if (st != ST_OK) {
        tokenizer_free(t);
        return st;
    }
    for (int i = 0; i < n_vocab; i++)
        if (is_mergeable(t, i)) hash_insert(t, i);
    return ST_OK;
}

void tokenizer_free(Tokenizer *t) {
    if (!t) return;
    if (t->pieces)
        for (int i = 0; i < t->n_vocab; i++) free(t->pieces[i].text);
    free(t->pieces);
    free(t->scores);
    free(t->types);
    free(t->hash_ids);
    memset(t, 0, sizeof *t);
    t->bos_id = t->eos_id = t->unk_id = -1;
}

int tokenizer_find(const Tokenizer *t, const char *text, size_t len) {
    assert(t && (text || len == 0));
    return hash_find(t, text, len);
}

/* -------------------------------------------------------------------- encoding */

/* A span of the (prefixed) text. Merging appends the right symbol to the left
 * one and empties the right one (n = 0), so spans stay contiguous. */
typedef struct Symbol {
    int prev, next; /* neighbours in the list, -1 at the ends */
    int start, n;   /* byte offset and length */
} Symbol;

/* A candidate merge of symbols left and right (adjacent when pushed). */
typedef struct Bigram {
    float score;
    int left, right;
    int size; /* left.n + right.n when pushed: a mismatch later means stale */
} Bigram;

typedef struct Heap {
    Bigram *items;
    size_t n, cap;
} Heap;

/* a comes out before b: higher score first, then the leftmost pair. */
static bool bigram_before(const Bigram *a, const Bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(Heap *h, Bigram b) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64, bytes;
        if (!checked_mul_size(cap, sizeof *h->items, &bytes)) return false;
        Bigram *items = realloc(h->items, bytes);
        if (!items) return false;
        h->items = items;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) { /* sift up */
        size_t parent = (i - 1) / 2;
        if (!bigram_before(&b, &h->items[parent])) break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = b;
    return true;
}

static Bigram heap_pop(Heap *h) {
    assert(h->n > 0);
    Bigram top = h->items[0], last = h->items[--h->n];
    size_t i = 0;
    for (;;) { /* sift down */
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->items[c + 1], &h->items[c])) c++;
        if (!bigram_before(&h->items[c], &last)) break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->n > 0) h->items[i] = last;
    return top;
}

/* Length of the UTF-8 character at s (n >= 1 bytes left): 2 to 4 for a
 * well-formed sequence (no overlongs, surrogates or values past U+10FFFF),
 * otherwise 1, so a bad byte becomes a symbol of its own. */
static int utf8_char_len(const uint8_t *s, size_t n) {
    uint32_t cp;
    size_t len = utf8_decode((const char *)s, n, &cp);
    return len ? (int)len : 1;
}

typedef struct Encoder {
    const Tokenizer *t;
    const char *text; /* the text with its dummy prefix */
    Symbol *sym;
    Heap heap;
} Encoder;

/* Offers the merge of symbols left and right; false only when out of memory. */
static bool try_add_bigram(Encoder *e, int left, int right) {
    if (left < 0 || right < 0) return true;
    const Symbol *l = &e->sym[left];
    int size = l->n + e->sym[right].n;
    int id = hash_find(e->t, e->text + l->start, (size_t)size);
    if (id < 0) return true;
    Bigram b = {e->t->scores[id], left, right, size};
    return heap_push(&e->heap, b);
}

static Status emit_bytes(const Tokenizer *t, const char *s, int n, int *out, int *n_out,
                         Error *err) {
    for (int i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        int id = t->byte_ids[b] >= 0 ? t->byte_ids[b] : t->unk_id;
        if (id < 0)
            return error_set(err, ST_UNSUPPORTED,
                             "byte 0x%02X is not in the vocabulary, which has no byte tokens and "
                             "no unknown token",
                             b);
        out[(*n_out)++] = id;
    }
    return ST_OK;
}

/* Merges the best adjacent pair until no pair is a piece; false when out of memory. */
static bool encoder_merge(Encoder *e, int n_sym) {
    for (int i = 1; i < n_sym; i++)
        if (!try_add_bigram(e, i - 1, i)) return false;
    while (e->heap.n > 0) {
        Bigram b = heap_pop(&e->heap);
        Symbol *l = &e->sym[b.left], *r = &e->sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) e->sym[r->next].prev = b.left;
        if (!try_add_bigram(e, l->prev, b.left) || !try_add_bigram(e, b.left, l->next))
            return false;
    }
    return true;
}

/* Appends the tokens of the symbol list starting at symbol 0 (if any). */
static Status encoder_emit(const Encoder *e, int n_sym, int *out, int *n_out, Error *err) {
    for (int i = n_sym > 0 ? 0 : -1; i >= 0; i = e->sym[i].next) {
        const char *s = e->text + e->sym[i].start;
        int id = hash_find(e->t, s, (size_t)e->sym[i].n);
        if (id >= 0) {
            out[(*n_out)++] = id;
        } else {
            Status st = emit_bytes(e->t, s, e->sym[i].n, out, n_out, err);
            if (st != ST_OK) return st;
        }
    }
    return ST_OK;
}

Status tokenizer_encode(const Tokenizer *t, const char *text, size_t len, bool add_bos,
                        bool add_eos, int **ids, int *n_ids, Error *err) {
    assert(t && t->pieces && (text || len == 0) && ids && n_ids);
    *ids = NULL;
    *n_ids = 0;
    if (add_bos && t->bos_id < 0) return error_set(err, ST_USAGE, "the vocabulary has no BOS token");
    if (add_eos && t->eos_id < 0) return error_set(err, ST_USAGE, "the vocabulary has no EOS token");
    bool prefix = t->add_space_prefix && len > 0;
    /* Every symbol gives at most one token per byte; int counts need headroom
     * for the prefix, BOS and EOS. */
    size_t out_bytes, sym_bytes;
    if (len > (size_t)INT_MAX - 3 || !checked_mul_size(len + 3, sizeof **ids, &out_bytes) ||
        !checked_mul_size(len + 1, sizeof(Symbol), &sym_bytes))
        return error_set(err, ST_LIMIT, "text of %zu bytes is too long to tokenize at once", len);
    /* Working set per byte: a symbol, an output id, the prefixed copy and, at
     * worst, three heap entries (one per initial pair and two per merge). */
    if (!sysmem_fits((uint64_t)len * (sizeof(Symbol) + sizeof(int) + 1 + 3 * sizeof(Bigram)))) {
        char have[32];
        fmt_bytes(have, sizeof have, (double)sysmem_total());
        return error_set(err, ST_LIMIT, "text of %zu bytes is too long to tokenize at once on a machine with %s",
                         len, have);
    }
    int n_text = (int)len + (prefix ? 1 : 0);

    Encoder e = {.t = t, .text = text};
    char *buf = prefix ? malloc(len + 1) : NULL;
    int *out = malloc(out_bytes);
    e.sym = malloc(sym_bytes);
    if (!out || !e.sym || (prefix && !buf)) {
        free(buf);
        free(out);
        free(e.sym);
        return error_set(err, ST_NOMEM, "out of memory tokenizing %zu bytes", len);
    }
    if (prefix) {
        buf[0] = ' ';
        memcpy(buf + 1, text, len);
        e.text = buf;
    }

    /* One symbol per UTF-8 character (or per invalid byte). */
    int n_sym = 0;
    for (int off = 0; off < n_text; n_sym++) {
        int n = utf8_char_len((const uint8_t *)e.text + off, (size_t)(n_text - off));
        e.sym[n_sym] = (Symbol){n_sym - 1, -1, off, n};
        if (n_sym > 0) e.sym[n_sym - 1].next = n_sym;
        off += n;
    }

    Status st = ST_OK;
    int n_out = 0;
    if (!encoder_merge(&e, n_sym))
        st = error_set(err, ST_NOMEM, "out of memory tokenizing %zu bytes", len);
    if (st == ST_OK && add_bos) out[n_out++] = t->bos_id;
    if (st == ST_OK) st = encoder_emit(&e, n_sym, out, &n_out, err);
    if (st == ST_OK && add_eos) out[n_out++] = t->eos_id;
    if (st == ST_OK) {
        *ids = out;
        *n_ids = n_out;
        out = NULL;
    }
    free(out);
    free(buf);
    free(e.sym);
    free(e.heap.items);
    return st;
}

/* -------------------------------------------------------------------- decoding */

const char *tokenizer_decode(const Tokenizer *t, int prev, int token, size_t *len) {
    assert(t && len && token >= 0 && token < t->n_vocab);
    int32_t type = t->types[token];
    if (token == t->bos_id || token == t->eos_id || type == TOKEN_TYPE_CONTROL ||
        type == TOKEN_TYPE_UNUSED) {
        *len = 0;
        return "";
    }
    const TokenizerPiece *p = &t->pieces[token];
    /* SentencePiece drops the dummy-prefix space of the first piece after BOS
     * (llama2.c PR #89); a byte token for ' ' is a real space and stays. */
    if (prev >= 0 && prev == t->bos_id && type != TOKEN_TYPE_BYTE && p->len > 0 &&
        p->text[0] == ' ') {
        *len = p->len - 1;
        return p->text + 1;
    }
    *len = p->len;
    return p->text;
}
