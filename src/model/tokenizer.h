/* tokenizer.h — SentencePiece-style (llama "spm") tokenizer from GGUF vocab arrays.
 *
 * Built from the arrays a GGUF file holds (tokenizer.ggml.tokens / scores /
 * token_type, with U+2581 "▁" standing for a space), so it is independent of any
 * file format and tests can build one from literals.
 *
 * Encoding follows llama2.c's encode() and llama.cpp's SPM tokenizer (they agree):
 * optional BOS; a dummy-prefix space before non-empty text (add_space_prefix);
 * one symbol per UTF-8 character; repeatedly merge the adjacent pair whose
 * concatenation is a vocabulary piece with the highest score (leftmost on ties);
 * characters that are not pieces fall back to their <0xXX> byte tokens. It runs in
 * O(n log n) with a heap over candidate pairs, so a whole book is fine.
 *
 * Decoding follows llama2.c: byte tokens give their raw byte, "▁" gives a space,
 * and the first piece after BOS loses its leading space.
 */
#ifndef QL_MODEL_TOKENIZER_H
#define QL_MODEL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* GGUF token types (tokenizer.ggml.token_type). */
enum {
    TOKEN_TYPE_UNDEFINED = 0,
    TOKEN_TYPE_NORMAL = 1,
    TOKEN_TYPE_UNKNOWN = 2,
    TOKEN_TYPE_CONTROL = 3,
    TOKEN_TYPE_USER_DEFINED = 4,
    TOKEN_TYPE_UNUSED = 5,
    TOKEN_TYPE_BYTE = 6
};

enum { TOKENIZER_MAX_VOCAB = 1 << 22 }; /* larger vocabularies are refused (ST_LIMIT) */

typedef struct TokenizerPiece {
    char *text;   /* decoded bytes: "▁" turned into ' ', a byte token into its byte */
    uint32_t len; /* bytes in text (a byte token's text may be "\0", so use len) */
} TokenizerPiece;

typedef struct Tokenizer {
    int n_vocab;
    TokenizerPiece *pieces; /* (n_vocab) */
    float *scores;          /* (n_vocab) merge priority, higher merges first */
    int32_t *types;         /* (n_vocab) TOKEN_TYPE_* */
    int bos_id, eos_id, unk_id; /* -1 when the vocabulary has none */
    int byte_ids[256];      /* id of <0xXX>, -1 when missing */
    bool add_space_prefix;
    /* private: open-addressing hash of piece text -> id (first id wins) */
    int32_t *hash_ids;
    uint32_t hash_mask;
    uint32_t max_piece_len;
} Tokenizer;

/* Builds a tokenizer. `tokens` are the GGUF token strings (with "▁"), each a
 * NUL-terminated UTF-8 string; `scores` and `types` may be NULL (0 and NORMAL).
 * Byte tokens are recognised by type BYTE or by the text "<0xXX>" (t->types then
 * says BYTE). Refused: n_vocab outside 1..TOKENIZER_MAX_VOCAB (ST_LIMIT); a NULL
 * token, a NaN score, an unknown type, a BYTE token whose text is not <0xXX>, or
 * a special id that is neither -1 nor a token (ST_FORMAT). `name` is used in
 * messages. On error *t is left empty (safe to tokenizer_free). */
Status tokenizer_init(Tokenizer *t, int n_vocab, const char *const *tokens, const float *scores,
                      const int32_t *types, int bos_id, int eos_id, int unk_id,
                      bool add_space_prefix, const char *name, Error *err);
void tokenizer_free(Tokenizer *t);

/* Encodes `len` bytes of text (need not be NUL-terminated or valid UTF-8: invalid
 * bytes fall back to byte tokens, or to unk when the vocabulary has none) into a
 * new array *ids (caller frees) of *n_ids tokens. A "▁" in the text is an
 * ordinary character, not a space. Errors (*ids NULL, *n_ids 0): ST_USAGE when
 * BOS/EOS is asked for and the vocabulary has none, ST_UNSUPPORTED when a byte
 * has neither a byte token nor unk to fall back to, ST_LIMIT past INT_MAX - 3
 * bytes, ST_NOMEM. */
Status tokenizer_encode(const Tokenizer *t, const char *text, size_t len, bool add_bos,
                        bool add_eos, int **ids, int *n_ids, Error *err);

/* The bytes to print for `token` (a valid id) when it follows `prev` (-1 for
 * none), as llama2.c's decode: sets *len and returns a pointer into the
 * tokenizer (valid while it lives). BOS, EOS, CONTROL and UNUSED tokens give an
 * empty string; the unknown token gives its text ("<unk>"), as llama2.c prints it. */
const char *tokenizer_decode(const Tokenizer *t, int prev, int token, size_t *len);

/* Id of the piece whose decoded text is exactly text[0..len), or -1. Only pieces
 * that encoding can produce by merging are found: byte, control and unknown
 * tokens and BOS/EOS are not (a byte token is reached only by fallback). */
int tokenizer_find(const Tokenizer *t, const char *text, size_t len);

#endif
