/* buf.h - growable byte buffer with a mandatory maximum size.
 *
 * Every buffer that peer input can grow is a struct buf with a limit, so no
 * peer can make jaga allocate without bound (after curl's dynbuf).  The data
 * is always NUL-terminated for convenience; len excludes the NUL.
 */
#ifndef JAGA_UTIL_BUF_H
#define JAGA_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* NULL until the first append */
	size_t len;	/* bytes used, excluding the terminating NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard limit on len */
};

/* Prepare an empty buffer that will never hold more than max bytes. */
void buf_init(struct buf *b, size_t max);
/* Release the memory; the buffer is empty and reusable after. */
void buf_done(struct buf *b);
/* Empty the buffer, keeping its allocation. */
void buf_reset(struct buf *b);
/* Make room for len more bytes (plus the NUL) now, growing geometrically,
 * so appends of a roughly known total do not reallocate one by one.
 * Returns 0, or -1 (buffer unchanged) as buf_append. */
int buf_reserve(struct buf *b, size_t len);
/* Append len bytes.  Returns 0, or -1 (buffer unchanged) when the result
 * would exceed max or memory is exhausted. */
int buf_append(struct buf *b, const void *p, size_t len);
/* Append a NUL-terminated string; as buf_append. */
int buf_puts(struct buf *b, const char *s);
/* Append printf-style formatted text; as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Detach the data; caller owns it (free()), the buffer is empty after.
 * Returns an allocated empty string when the buffer was empty. */
char *buf_steal(struct buf *b);

#endif
