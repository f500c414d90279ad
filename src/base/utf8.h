/* utf8.h — strict UTF-8 checks and escaping of untrusted text for messages.
 *
 * Used by the GGUF reader (keys, string values and tensor names must be valid
 * UTF-8) and by anything that quotes file content in a one-line message or on
 * screen. "Valid" follows RFC 3629: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. NUL is valid UTF-8; callers that
 * forbid it check separately.
 */
#ifndef QL_BASE_UTF8_H
#define QL_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one character from s[0..len). Returns the bytes it takes (1..4) and
 * sets *cp, or 0 when the bytes there are not a valid sequence (or len is 0). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Offset of the first byte that does not start a valid sequence, or len. */
size_t utf8_find_invalid(const char *s, size_t len);

/* True when s[0..len) is entirely valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

/* Writes s[0..len) into out (always NUL-terminated when size > 0) so that it can
 * be shown on one line: valid printable UTF-8 is copied, a backslash, a single
 * quote and control characters become C escapes (\\, \', \n, \t, \xNN), and bytes
 * that are not valid UTF-8 become \xNN. When the result does not fit, it is cut at
 * a character boundary and ends in "...". Returns out. */
char *utf8_escape(char *out, size_t size, const char *s, size_t len);

#endif
