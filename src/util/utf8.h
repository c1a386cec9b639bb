/* utf8.h - UTF-8 well-formedness (RFC 3629 §4). */
#ifndef JAGA_UTIL_UTF8_H
#define JAGA_UTIL_UTF8_H

#include <stddef.h>

/* Length (2..4) of the well-formed multi-byte UTF-8 sequence at p (n bytes
 * available), or 0.  Overlongs, UTF-16 surrogates, code points above
 * U+10FFFF and the C1 controls U+0080..U+009F are refused: control
 * characters have no place in addresses or commands. */
size_t utf8_seq(const unsigned char *p, size_t n);

#endif
