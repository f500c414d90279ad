/* json.h — the small JSON reader and writer the progress file needs.
 *
 * Reads RFC 8259 JSON from a (buffer, length) into a tree of JsonValue (one
 * allocation per node), treating the input as hostile: nesting is limited, every
 * string must be valid UTF-8 without NUL, numbers must be finite, and trailing
 * bytes after the value are an error. Used by progress.c only.
 */
#ifndef QL_LESSON_JSON_H
#define QL_LESSON_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"

typedef enum JsonType { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
    JsonType type;
    bool boolean;
    double number;
    char *string;      /* JSON_STRING: NUL-terminated UTF-8 */
    char *key;         /* when inside an object: this member's name */
    JsonValue *child;  /* first element or member */
    JsonValue *next;   /* next sibling */
};

enum { JSON_MAX_DEPTH = 16 };

/* Parses buf[0..len). Errors are ST_FORMAT "name: not JSON (byte 12: expected ':')"
 * or ST_NOMEM; *out is then NULL. */
Status json_parse(JsonValue **out, const char *buf, size_t len, const char *name, Error *err);
void json_free(JsonValue *v);

/* The member `key` of an object, or NULL (also when v is not an object). */
const JsonValue *json_get(const JsonValue *v, const char *key);

/* Writing JSON into a growing text buffer (check .failed once at the end). */
typedef StrBuf JsonOut;

void json_out_raw(JsonOut *o, const char *text);
/* Writes s as a JSON string, quoted and escaped. */
void json_out_string(JsonOut *o, const char *s);
void json_out_free(JsonOut *o);

#endif
