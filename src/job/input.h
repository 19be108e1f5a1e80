/*
 * input.h - the HERE Batch 6.2 input layer on top of csv.h.
 *
 * A job body (or a CLI geocode file) is delimited text whose first line names the columns
 * (spec §4.1, §4.2). This module knows the HERE input column names, maps a header row to them
 * and writes the lines of the errors file (spec §6.5). It is shared by the CLI and the server
 * and holds no global state.
 */
#ifndef GEOBATCH_INPUT_H
#define GEOBATCH_INPUT_H

#include "base/csv.h"

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* The known input columns, in the order of the spec's list. */
enum input_col {
    INPUT_RECID,
    INPUT_SEARCHTEXT,
    INPUT_COUNTRY,
    INPUT_STATE,
    INPUT_COUNTY,
    INPUT_CITY,
    INPUT_DISTRICT,
    INPUT_STREET,
    INPUT_HOUSENUMBER,
    INPUT_POSTALCODE,
    INPUT_PROX,
    INPUT_NCOLS
};

/* Return the canonical spelling of c ("recId", "houseNumber" ...), or NULL if out of range. */
const char *input_col_name(enum input_col c);

/* Return the column named s[0..n) (ASCII case-insensitive), or -1 if it is not known. */
int input_col_lookup(const char *s, size_t n);

/* A parsed header row. Initialise with input_header_parse(), free with input_header_release(). */
struct input_header {
    int idx[INPUT_NCOLS]; /* field index of each known column, -1 if absent */
    size_t ncols;         /* fields in the header */
    int *col;             /* ncols entries: the enum input_col of each field, -1 if unknown */
    char **names;         /* ncols entries: each field's name as written (trimmed, unquoted) */
};

/*
 * Map the header row hdr to the known columns. Names are compared case-insensitively. Return 0
 * and fill *out, or on failure write a message for the API error document into err (errlen
 * bytes, always NUL-terminated when errlen > 0) and return:
 *   hdr->error    the header line itself is invalid (bad UTF-8, unterminated quote ...)
 *   GB_ECOLUMN    an unknown column name and !allow_unknown, or a non-empty name given twice
 *   GB_EFORMAT    no usable column: needs searchText, prox or one of country, state, county,
 *                 city, district, street, houseNumber, postalCode
 * Empty names are unknown columns (allowed only with allow_unknown).
 */
int input_header_parse(const struct csv_row *hdr, bool allow_unknown, struct input_header *out,
                       char *err, size_t errlen);

/* Free what input_header_parse() allocated; the header may be parsed again. NULL is fine. */
void input_header_release(struct input_header *h);

/*
 * Return the value of column c in row (which must be a valid row of the same input) and set
 * *len, or return "" with *len = 0 when the header lacks that column. len may be NULL.
 */
const char *input_field(const struct input_header *h, const struct csv_row *row, enum input_col c,
                        size_t *len);

/*
 * Append one line of the errors file for an invalid input line: "Line Number:N <raw>\n", N the
 * 1-based line number counting the header (NODEGEO parses /Line Number:(\d+)\s+(.*)/). raw is
 * the line as received; NUL, CR and LF bytes in it are written as spaces so that the entry
 * stays one line. Return 0, or GB_ETOOLONG with out unchanged.
 */
int input_error_line(struct buf *out, size_t lineno, const char *raw, size_t raw_len);

#endif
