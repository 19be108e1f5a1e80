/*
 * csv.c - the delimited-text reader and writer (see csv.h for the rules).
 *
 * The reader keeps one input buffer of max_line + 2 + CSV_CHUNK bytes. A line is found with
 * memchr('\n') inside it; the unread tail is moved to the front only when more input is needed,
 * so every byte is copied about once more than the parse itself needs. A line that fills more
 * than max_line + 1 bytes without a newline is overlong: its first bytes are kept as the raw
 * prefix and the rest is read through the remaining space and thrown away up to its newline.
 * Fields are unquoted into a second buffer of max_line + 1 bytes, which always suffices: each
 * field plus its NUL takes no more room than the field plus its delimiter took in the line.
 */
#include "base/csv.h"
#include "base/mem.h"
#include "base/buf.h"
#include "base/err.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Bytes asked from the source per read, beyond the room a whole line needs. */
#define CSV_CHUNK (64 * 1024)

/* Upper bounds on the limits, so that buffer sizes cannot overflow. */
#define CSV_MAX_LINE_CAP   ((size_t)1 << 30)
#define CSV_MAX_FIELDS_CAP ((size_t)1 << 20)

struct csv_reader {
    csv_read_fn fn; /* the source */
    void *ctx;
    char delim;
    bool tab_blank; /* tab is trimmed as a blank (it is not the delimiter) */
    struct csv_limits lim;

    char *in; /* input buffer of cap bytes */
    size_t cap;
    size_t pos;  /* start of the unread part */
    size_t end;  /* end of the bytes read */
    size_t scan; /* [pos, scan) is known to hold no newline */
    bool eof;    /* the source returned 0 */
    int err;     /* sticky source error, or 0 */

    char *fbuf;    /* unquoted field values, max_line + 1 bytes */
    char **fields; /* max_fields entries */
    size_t *lens;

    size_t lineno;    /* lines consumed */
    size_t ncols;     /* the header's field count, 0 if none yet or invalid */
    bool have_header; /* the first non-blank line was seen */
};

long csv_read_fd(void *ctx, char *buf, size_t cap)
{
    int fd = *(const int *)ctx;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

long csv_read_file(void *ctx, char *buf, size_t cap)
{
    FILE *fp = ctx;
    size_t n = fread(buf, 1, cap, fp);
    if (n == 0 && ferror(fp))
        return -EIO;
    return (long)n;
}

long csv_read_mem(void *ctx, char *buf, size_t cap)
{
    struct csv_mem_src *m = ctx;
    size_t n = m->len - m->off;
    if (n > cap)
        n = cap;
    if (m->max_read && n > m->max_read)
        n = m->max_read;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return (long)n;
}

int csv_reader_new(struct csv_reader **out, char delim, const struct csv_limits *lim,
                   csv_read_fn fn, void *ctx)
{
    struct csv_limits l = lim ? *lim : CSV_LIMITS_DEFAULT;
    if (delim == '"' || delim == '\r' || delim == '\n' || delim == '\0' || delim == ' ')
        return GB_EPARAM;
    if (l.max_line == 0 || l.max_line > CSV_MAX_LINE_CAP || l.max_fields == 0 ||
        l.max_fields > CSV_MAX_FIELDS_CAP)
        return GB_EPARAM;
    struct csv_reader *r = xcalloc(1, sizeof(*r));
    r->fn = fn;
    r->ctx = ctx;
    r->delim = delim;
    r->tab_blank = delim != '\t';
    r->lim = l;
    r->cap = l.max_line + 2 + CSV_CHUNK;
    r->in = xmalloc(r->cap);
    r->fbuf = xmalloc(l.max_line + 1);
    r->fields = xmallocarray(l.max_fields, sizeof(*r->fields));
    r->lens = xmallocarray(l.max_fields, sizeof(*r->lens));
    *out = r;
    return 0;
}

void csv_reader_free(struct csv_reader *r)
{
    if (!r)
        return;
    free(r->in);
    free(r->fbuf);
    free(r->fields);
    free(r->lens);
    free(r);
}

size_t csv_reader_ncols(const struct csv_reader *r)
{
    return r->ncols;
}

size_t csv_reader_lines(const struct csv_reader *r)
{
    return r->lineno;
}

/* Return n shortened so that p[0..n) does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *p, size_t n)
{
    size_t j = n;
    while (j > 0 && n - j < 3 && ((unsigned char)p[j - 1] & 0xC0) == 0x80)
        j--;
    if (j == 0)
        return n;
    unsigned char lead = (unsigned char)p[j - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (need > 1 && n - (j - 1) < need)
        return j - 1;
    return n;
}

/*
 * The line is overlong and [pos, end) holds at least max_line + 2 bytes of it and no newline.
 * Keep its prefix at the front of the buffer and read the rest through the space behind it,
 * dropping everything up to the newline. Return 1 with the prefix as the line, or an error.
 */
static int reader_skip(struct csv_reader *r, const char **line, size_t *len)
{
    size_t keep = r->lim.max_line + 1;
    if (keep > CSV_RAW_PREFIX)
        keep = CSV_RAW_PREFIX;
    memmove(r->in, r->in + r->pos, keep);
    r->pos = r->end = r->scan = keep;
    while (!r->eof) {
        long n = r->fn(r->ctx, r->in + keep, r->cap - keep);
        if (n < 0) {
            r->err = (int)n;
            return r->err;
        }
        assert((size_t)n <= r->cap - keep);
        if (n == 0) {
            r->eof = true;
            break;
        }
        const char *nl = memchr(r->in + keep, '\n', (size_t)n);
        if (nl) {
            r->end = keep + (size_t)n;
            r->pos = r->scan = (size_t)(nl - r->in) + 1;
            break;
        }
    }
    *line = r->in;
    *len = utf8_cut(r->in, keep);
    return 1;
}

/*
 * Find the next line. Return 1 and set *line, *len (without the "\n") and *overlong, 0 at the
 * end of the input, or a negative source error.
 */
static int reader_line(struct csv_reader *r, const char **line, size_t *len, bool *overlong)
{
    if (r->err)
        return r->err;
    for (;;) {
        const char *nl = NULL;
        if (r->scan < r->end)
            nl = memchr(r->in + r->scan, '\n', r->end - r->scan);
        if (nl) {
            *line = r->in + r->pos;
            *len = (size_t)(nl - *line);
            *overlong = false;
            r->pos = r->scan = (size_t)(nl - r->in) + 1;
            return 1;
        }
        r->scan = r->end;
        size_t avail = r->end - r->pos;
        if (avail >= r->lim.max_line + 2) {
            *overlong = true;
            return reader_skip(r, line, len);
        }
        if (r->eof) {
            if (avail == 0)
                return 0;
            *line = r->in + r->pos;
            *len = avail;
            *overlong = false;
            r->pos = r->scan = r->end;
            return 1;
        }
        if (r->pos > 0) {
            memmove(r->in, r->in + r->pos, avail);
            r->pos = 0;
            r->end = r->scan = avail;
        }
        long n = r->fn(r->ctx, r->in + r->end, r->cap - r->end);
        if (n < 0) {
            r->err = (int)n;
            return r->err;
        }
        assert((size_t)n <= r->cap - r->end);
        if (n == 0)
            r->eof = true;
        else
            r->end += (size_t)n;
    }
}

static inline bool is_blank(const struct csv_reader *r, char c)
{
    return c == ' ' || (c == '\t' && r->tab_blank);
}

/* Return true when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

/* Mark row invalid with code rc and reason, dropping its fields; return rc. */
static int row_fail(struct csv_row *row, int rc, const char *reason)
{
    row->error = rc;
    row->reason = reason;
    row->nfields = 0;
    return rc;
}

/* Split p[0..n) into fields. Return 0, or the error code after row_fail(). */
static int reader_split(struct csv_reader *r, const char *p, size_t n, struct csv_row *row)
{
    const char *e = p + n;
    const char d = r->delim;
    char *o = r->fbuf;
    size_t nf = 0;
    for (;;) {
        while (p < e && is_blank(r, *p))
            p++;
        if (nf == r->lim.max_fields)
            return row_fail(row, GB_ELIMIT, "too-many-fields");
        char *start = o;
        if (p < e && *p == '"') {
            p++;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(e - p));
                if (!q)
                    return row_fail(row, GB_EQUOTE, "unterminated-quote");
                memcpy(o, p, (size_t)(q - p));
                o += q - p;
                p = q + 1;
                if (p < e && *p == '"') {
                    *o++ = '"';
                    p++;
                    continue;
                }
                break;
            }
            while (p < e && is_blank(r, *p))
                p++;
            if (p < e && *p != d)
                return row_fail(row, GB_EQUOTE, "after-quote");
        } else {
            const char *q = memchr(p, d, (size_t)(e - p));
            if (!q)
                q = e;
            const char *t = q;
            while (t > p && is_blank(r, t[-1]))
                t--;
            memcpy(o, p, (size_t)(t - p));
            o += t - p;
            p = q;
        }
        size_t flen = (size_t)(o - start);
        if (flen > r->lim.max_field)
            return row_fail(row, GB_ETOOLONG, "field-too-long");
        *o++ = '\0';
        r->fields[nf] = start;
        r->lens[nf] = flen;
        nf++;
        if (p >= e)
            break;
        p++; /* the delimiter */
    }
    row->nfields = nf;
    return 0;
}

int csv_next(struct csv_reader *r, struct csv_row *row)
{
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        bool overlong = false;
        int rc = reader_line(r, &line, &len, &overlong);
        if (rc <= 0)
            return rc;
        r->lineno++;

        row->lineno = r->lineno;
        row->nfields = 0;
        row->fields = r->fields;
        row->lens = r->lens;
        row->raw = line;
        row->raw_len = len;
        row->raw_truncated = false;
        row->error = 0;
        row->reason = NULL;

        if (!overlong && len > 0 && line[len - 1] == '\r')
            len--;
        if (overlong || len > r->lim.max_line) {
            size_t keep = r->lim.max_line + 1;
            if (keep > CSV_RAW_PREFIX)
                keep = CSV_RAW_PREFIX;
            if (!overlong)
                len = utf8_cut(line, keep); /* the same prefix reader_skip() keeps */
            row->raw_len = len;
            row->raw_truncated = true;
            row_fail(row, GB_ETOOLONG, "line-too-long");
            r->have_header = true;
            return 1;
        }
        if (r->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            len -= 3;
        }
        row->raw = line;
        row->raw_len = len;

        size_t i = 0;
        while (i < len && is_blank(r, line[i]))
            i++;
        if (i == len)
            continue; /* blank line */

        bool is_header = !r->have_header;
        r->have_header = true;
        if (memchr(line, '\0', len)) {
            row_fail(row, GB_EFORMAT, "nul");
            return 1;
        }
        if (!utf8_valid((const unsigned char *)line, len)) {
            row_fail(row, GB_EUTF8, "utf8");
            return 1;
        }
        if (reader_split(r, line, len, row) < 0)
            return 1;
        if (is_header) {
            r->ncols = row->nfields;
        } else if (r->ncols && row->nfields != r->ncols) {
            row->error = GB_EFIELDS;
            row->reason = "fields";
        }
        return 1;
    }
}

int csv_delim_parse(const char *s, char *out)
{
    if (!s)
        return GB_EPARAM;
    size_t n = strnlen(s, 5);
    char c;
    if (n == 1) {
        c = s[0];
    } else if (n == 2 && s[0] == '\\' && s[1] == 't') {
        c = '\t';
    } else if (n == 3 && s[0] == '%') {
        unsigned v = 0;
        for (int k = 1; k <= 2; k++) {
            char h = s[k];
            unsigned x;
            if (h >= '0' && h <= '9')
                x = (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f')
                x = (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                x = (unsigned)(h - 'A' + 10);
            else
                return GB_EPARAM;
            v = v * 16 + x;
        }
        c = (char)v;
    } else if (n == 4 && strncasecmp(s, "%5C", 3) == 0 && s[3] == 't') {
        c = '\t';
    } else {
        return GB_EPARAM;
    }
    if (c != '|' && c != ';' && c != ':' && c != ',' && c != '\t')
        return GB_EPARAM;
    *out = c;
    return 0;
}

/* Return the bytes csv_put_field() appends for s[0..n); set *quote when it must quote. */
static size_t field_size(const char *s, size_t n, char delim, bool *quote)
{
    size_t nq = 0;
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == delim || c == '\r' || c == '\n') {
            q = true;
        } else if (c == '"') {
            q = true;
            nq++;
        }
    }
    /* The reader trims outer blanks, so a value that has them is quoted to survive a reread. */
    if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        q = true;
    *quote = q;
    return q ? n + nq + 2 : n;
}

/* Append s[0..n) to out, which is known to have room for it. */
static void field_emit(struct buf *out, const char *s, size_t n, bool quote)
{
    int rc = 0;
    if (!quote) {
        rc = buf_append(out, s, n);
        assert(rc == 0);
        return;
    }
    rc |= buf_putc(out, '"');
    const char *e = s + n;
    while (s < e) {
        const char *q = memchr(s, '"', (size_t)(e - s));
        if (!q) {
            rc |= buf_append(out, s, (size_t)(e - s));
            break;
        }
        rc |= buf_append(out, s, (size_t)(q - s) + 1);
        rc |= buf_putc(out, '"');
        s = q + 1;
    }
    rc |= buf_putc(out, '"');
    assert(rc == 0);
    (void)rc;
}

int csv_put_field(struct buf *out, const char *s, size_t n, char delim)
{
    bool quote;
    size_t need = field_size(s, n, delim, &quote);
    if (need > out->max - out->len)
        return GB_ETOOLONG;
    field_emit(out, s, n, quote);
    return 0;
}

int csv_put_row(struct buf *out, const char *const *fields, const size_t *lens, size_t n,
                char delim)
{
    /* A lone empty value is written as "" so that the line is not read back as blank. */
    if (n == 1 && (lens ? lens[0] : strlen(fields[0])) == 0) {
        if (3 > out->max - out->len)
            return GB_ETOOLONG;
        return buf_puts(out, "\"\"\n");
    }
    size_t need = 1; /* the newline */
    for (size_t i = 0; i < n; i++) {
        bool quote;
        size_t len = lens ? lens[i] : strlen(fields[i]);
        need += field_size(fields[i], len, delim, &quote) + (i > 0);
        if (need > out->max - out->len)
            return GB_ETOOLONG;
    }
    for (size_t i = 0; i < n; i++) {
        bool quote;
        size_t len = lens ? lens[i] : strlen(fields[i]);
        field_size(fields[i], len, delim, &quote);
        if (i > 0)
            buf_putc(out, delim);
        field_emit(out, fields[i], len, quote);
    }
    buf_putc(out, '\n');
    return 0;
}
