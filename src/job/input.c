/*
 * input.c - HERE 6.2 input columns, header mapping and errors-file lines (see input.h).
 */
#include "job/input.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Canonical spellings, indexed by enum input_col; they are echoed as `in:<name>`. */
static const char *const col_names[INPUT_NCOLS] = {
    [INPUT_RECID] = "recId",
    [INPUT_SEARCHTEXT] = "searchText",
    [INPUT_COUNTRY] = "country",
    [INPUT_STATE] = "state",
    [INPUT_COUNTY] = "county",
    [INPUT_CITY] = "city",
    [INPUT_DISTRICT] = "district",
    [INPUT_STREET] = "street",
    [INPUT_HOUSENUMBER] = "houseNumber",
    [INPUT_POSTALCODE] = "postalCode",
    [INPUT_PROX] = "prox",
};

/* Column names are quoted in messages up to this many bytes. */
#define NAME_SHOWN 64

const char *input_col_name(enum input_col c)
{
    if ((unsigned)c >= INPUT_NCOLS)
        return NULL;
    return col_names[c];
}

int input_col_lookup(const char *s, size_t n)
{
    for (int c = 0; c < INPUT_NCOLS; c++)
        if (strlen(col_names[c]) == n && strncasecmp(col_names[c], s, n) == 0)
            return c;
    return -1;
}

static int shown(size_t len)
{
    return (int)(len > NAME_SHOWN ? NAME_SHOWN : len);
}

int input_header_parse(const struct csv_row *hdr, bool allow_unknown, struct input_header *out,
                       char *err, size_t errlen)
{
    int rc = 0;
    int *col = NULL;
    char **names = NULL;

    if (hdr->error) {
        gb_errf(err, errlen, "invalid input data: header line %zu: %s", hdr->lineno,
                gb_strerror(hdr->error));
        return hdr->error;
    }
    size_t n = hdr->nfields;
    int idx[INPUT_NCOLS];
    for (int c = 0; c < INPUT_NCOLS; c++)
        idx[c] = -1;
    col = xmallocarray(n ? n : 1, sizeof(*col));

    bool usable = false;
    for (size_t i = 0; i < n; i++) {
        const char *name = hdr->fields[i];
        size_t len = hdr->lens[i];
        col[i] = input_col_lookup(name, len);
        if (col[i] < 0 && !allow_unknown) {
            gb_errf(err, errlen, "invalid input data: unknown column '%.*s'", shown(len), name);
            rc = GB_ECOLUMN;
            goto out;
        }
        for (size_t j = 0; len > 0 && j < i; j++) {
            if (hdr->lens[j] == len && strncasecmp(hdr->fields[j], name, len) == 0) {
                gb_errf(err, errlen, "invalid input data: column '%.*s' given twice", shown(len),
                        name);
                rc = GB_ECOLUMN;
                goto out;
            }
        }
        if (col[i] >= 0) {
            idx[col[i]] = (int)i;
            if (col[i] != INPUT_RECID)
                usable = true;
        }
    }
    if (!usable) {
        gb_errf(err, errlen,
                "invalid input data: no usable column (needs searchText, prox, or one of "
                "country, state, county, city, district, street, houseNumber, postalCode)");
        rc = GB_EFORMAT;
        goto out;
    }

    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += hdr->lens[i] + 1;
    names = xmalloc(n * sizeof(*names) + total);
    char *p = (char *)(names + n);
    for (size_t i = 0; i < n; i++) {
        names[i] = p;
        memcpy(p, hdr->fields[i], hdr->lens[i] + 1);
        p += hdr->lens[i] + 1;
    }

    memcpy(out->idx, idx, sizeof(idx));
    out->ncols = n;
    out->col = col;
    out->names = names;
    col = NULL; /* the header owns them now */
    names = NULL;
out:
    free(col);
    free(names);
    return rc;
}

void input_header_release(struct input_header *h)
{
    if (!h)
        return;
    free(h->col);
    free(h->names);
    h->col = NULL;
    h->names = NULL;
    h->ncols = 0;
    for (int c = 0; c < INPUT_NCOLS; c++)
        h->idx[c] = -1;
}

const char *input_field(const struct input_header *h, const struct csv_row *row, enum input_col c,
                        size_t *len)
{
    int i = (unsigned)c < INPUT_NCOLS ? h->idx[c] : -1;
    if (i < 0 || (size_t)i >= row->nfields) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = row->lens[i];
    return row->fields[i];
}

int input_error_line(struct buf *out, size_t lineno, const char *raw, size_t raw_len)
{
    char head[48];
    int hn = snprintf(head, sizeof(head), "Line Number:%zu ", lineno);
    assert(hn > 0 && (size_t)hn < sizeof(head));
    size_t need = (size_t)hn + raw_len + 1;
    if (need > out->max - out->len)
        return GB_ETOOLONG;
    int rc = buf_append(out, head, (size_t)hn);
    const char *p = raw, *e = raw + raw_len;
    while (p < e) {
        const char *q = p;
        while (q < e && *q != '\0' && *q != '\r' && *q != '\n')
            q++;
        rc |= buf_append(out, p, (size_t)(q - p));
        if (q < e)
            rc |= buf_putc(out, ' ');
        p = q + (q < e);
    }
    rc |= buf_putc(out, '\n');
    assert(rc == 0);
    (void)rc;
    return 0;
}
