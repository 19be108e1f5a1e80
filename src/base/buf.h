/*
 * buf.h - a growable byte buffer with a maximum size (after curl's dynbuf).
 *
 * Every buffer that holds outside input has a limit: an append that would pass it fails with
 * GB_ETOOLONG and leaves the buffer unchanged. The data is always NUL-terminated (the NUL is
 * not counted in len and does not count against max). Allocation failure aborts.
 */
#ifndef GEOBATCH_BUF_H
#define GEOBATCH_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated contents, or NULL before the first append */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* len never exceeds this */
};

/* Prepare an empty buffer that will hold at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Free the memory; the buffer may be initialised again. */
void buf_release(struct buf *b);

/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Allocate room for n more bytes at once (at most up to max), so that appends of a size known
 * in advance do not grow the buffer step by step. */
void buf_grow(struct buf *b, size_t n);

/* Append n bytes. Return 0, or GB_ETOOLONG (buffer unchanged) when len + n > max. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. Same returns as buf_append(). */
int buf_puts(struct buf *b, const char *s);

/* Append one byte. Same returns as buf_append(). */
int buf_putc(struct buf *b, char c);

/* Append formatted text. Same returns as buf_append(). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Return the contents as a string: "" for a buffer that never held anything. */
const char *buf_str(const struct buf *b);

/* Hand the memory to the caller (free() it) and leave the buffer empty. Never NULL. */
char *buf_steal(struct buf *b);

#endif
