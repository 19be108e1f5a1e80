/*
 * csv.h - a streaming, line-oriented reader and a writer for delimited text.
 *
 * This is the one parser for every delimited input geobatch sees: HERE 6.2 job bodies, CLI
 * geocode files and OpenAddresses / TIGER imports. It knows nothing about geocoding (the HERE
 * column names live in input.h).
 *
 * Reading rules (HERE Batch 6.2 input, spec §4.1):
 *  - Input is line-oriented: a line ends at "\n" or "\r\n"; the last line may lack its newline
 *    (a final lone "\r" is also taken as its terminator). A "\r" anywhere else is data.
 *  - The first line that is not blank is the header; it is returned as an ordinary row and its
 *    field count (if the header itself is valid) is what every later row must have. A UTF-8 BOM
 *    at the very start of the input is dropped.
 *  - A blank line (empty, or only blanks) is skipped but still counts for line numbers.
 *  - Blanks are spaces, and tabs unless tab is the delimiter. Blanks around a field and around
 *    a quoted field are trimmed (` 1 | addr`, `1|"addr" `).
 *  - A field whose first non-blank byte is `"` is quoted: it may contain the delimiter, `""`
 *    stands for one `"`, and the closing quote may be followed only by blanks up to the next
 *    delimiter or the end of the line. A quote that is not closed on the same line, or text
 *    after a closing quote, makes the line invalid (a quoted field never spans lines). A `"`
 *    inside an unquoted field is an ordinary character (`1,O"Farell St,USA` has 3 fields).
 *  - A line is invalid when it is longer than max_line, holds a NUL byte, is not valid UTF-8,
 *    has more than max_fields fields or a field longer than max_field (after unquoting), or a
 *    field count other than the header's. An invalid line is returned as a row with error set;
 *    reading always continues with the next line.
 *
 * Memory is bounded by the limits, never by the input size: an overlong line is skipped to its
 * newline without being buffered. The reader allocates once, in csv_reader_new(); csv_next()
 * allocates nothing.
 *
 * Threads: a reader belongs to one thread at a time. The writer functions are reentrant.
 */
#ifndef GEOBATCH_CSV_H
#define GEOBATCH_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct csv_limits {
    size_t max_line;   /* bytes in a line, without its "\n" or "\r\n"; at least 1 */
    size_t max_field;  /* bytes in one field after unquoting and trimming */
    size_t max_fields; /* fields in one line; at least 1 */
};

/* 64 KiB lines, 8 KiB fields, 256 fields. */
#define CSV_LIMITS_DEFAULT ((struct csv_limits){65536, 8192, 256})

/* Bytes of an overlong line that are kept in csv_row.raw (cut back to a UTF-8 boundary). */
#define CSV_RAW_PREFIX 1024

/*
 * A source of bytes: read at most cap bytes into buf and return how many (> 0), 0 at the end
 * of the input, or a negative error (-errno or GB_E*), which csv_next() passes on.
 */
typedef long (*csv_read_fn)(void *ctx, char *buf, size_t cap);

/* Read function for a file descriptor: ctx points to an int fd. Retries EINTR. */
long csv_read_fd(void *ctx, char *buf, size_t cap);

/* Read function for stdio: ctx is a FILE *. Returns -EIO on a stream error. */
long csv_read_file(void *ctx, char *buf, size_t cap);

/* Read function for bytes in memory: ctx is a struct csv_mem_src. */
struct csv_mem_src {
    const char *data; /* the whole input */
    size_t len;       /* its length */
    size_t off;       /* bytes handed out so far; start at 0 */
    size_t max_read;  /* at most this many bytes per call (0: no limit); for tests */
};
long csv_read_mem(void *ctx, char *buf, size_t cap);

/*
 * One line. Everything it points to belongs to the reader and stays valid until the next
 * csv_next() or csv_reader_free().
 */
struct csv_row {
    size_t lineno;      /* 1-based line number, counting the header and blank lines */
    size_t nfields;     /* fields parsed; 0 when error is set, except for GB_EFIELDS */
    char **fields;      /* nfields NUL-terminated values (unquoted, trimmed) */
    size_t *lens;       /* their lengths (a value may not hold a NUL: such lines are invalid) */
    const char *raw;    /* the line as received, without its "\n" / "\r\n"; not NUL-terminated */
    size_t raw_len;     /* bytes at raw; at most CSV_RAW_PREFIX when raw_truncated */
    bool raw_truncated; /* the line was overlong and raw is only its beginning */
    int error;          /* 0 for a valid line, else GB_E* (see reason) */
    const char *reason; /* NULL for a valid line, else one of the static codes below */
};

/*
 * Reason codes of invalid lines, with their error codes:
 *   "line-too-long"      GB_ETOOLONG  longer than max_line
 *   "nul"                GB_EFORMAT   holds a NUL byte
 *   "utf8"               GB_EUTF8     not valid UTF-8
 *   "unterminated-quote" GB_EQUOTE    a quoted field is not closed on its line
 *   "after-quote"        GB_EQUOTE    text between a closing quote and the next delimiter
 *   "too-many-fields"    GB_ELIMIT    more than max_fields fields
 *   "field-too-long"     GB_ETOOLONG  a field longer than max_field
 *   "fields"             GB_EFIELDS   a field count other than the header's (fields are set)
 * The first failing check in this order wins.
 */

struct csv_reader;

/*
 * Create a reader of lines separated into fields by delim, pulling bytes from fn(ctx).
 * lim may be NULL for CSV_LIMITS_DEFAULT. Memory used: about 2 * max_line + 64 KiB +
 * 16 * max_fields bytes. Return 0 and set *out, or GB_EPARAM for a delimiter that is `"`,
 * CR, LF or NUL, or a zero max_line or max_fields.
 */
int csv_reader_new(struct csv_reader **out, char delim, const struct csv_limits *lim,
                   csv_read_fn fn, void *ctx);

/* Free the reader; NULL is fine. The source is not closed. */
void csv_reader_free(struct csv_reader *r);

/*
 * Read the next non-blank line into *row. Return 1 with a row (valid, or with row->error set),
 * 0 at the end of the input, or the source's negative error; after an error every later call
 * returns the same error.
 */
int csv_next(struct csv_reader *r, struct csv_row *row);

/* Return the header's field count, or 0 before the header or when the header was invalid. */
size_t csv_reader_ncols(const struct csv_reader *r);

/* Return the number of lines consumed so far (blank lines included). */
size_t csv_reader_lines(const struct csv_reader *r);

/*
 * Parse a delimiter parameter (indelim / outdelim): one of `|` `;` `:` `,` or TAB given
 * literally, URL-encoded (%7C %3B %3A %2C %09, hex digits in either case), as the two
 * characters `\t`, or URL-encoded `\t` (%5Ct). Return 0 and set *out, or GB_EPARAM.
 */
int csv_delim_parse(const char *s, char *out);

/*
 * Append one value, quoted when it holds delim, `"`, CR or LF (with quotes doubled inside), or
 * starts or ends with a space or tab (which the reader would trim), so that csv_next() reads
 * back exactly the value written. Return 0, or GB_ETOOLONG with out unchanged.
 */
int csv_put_field(struct buf *out, const char *s, size_t n, char delim);

/*
 * Append n values separated by delim and a final "\n"; a row of one empty value is written as
 * `""` (an empty line would be skipped as blank). lens may be NULL for NUL-terminated values.
 * Return 0, or GB_ETOOLONG with out unchanged.
 */
int csv_put_row(struct buf *out, const char *const *fields, const size_t *lens, size_t n,
                char delim);

#endif
