/*
 * import.c - format names, format detection and dispatch to the importers, plus the small
 * streaming readers that the non-OSM importers share (declared in import_util.h).
 *
 * Detection looks at content only, never at file names: the first 64 KiB of the file (and for
 * gzip and bzip2 the first bytes of the decompressed stream) decide. Each rule is strict enough
 * that no other supported format matches it, so the order of the checks does not matter for
 * valid files.
 */
#include "import.h"
#include "err.h"
#include "import_util.h"

#include <bzlib.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

/* ---- format names ------------------------------------------------------------------------ */

static const char *const format_names[] = {
    [FMT_UNKNOWN] = "unknown",
    [FMT_OSM_PBF] = "osm-pbf",
    [FMT_OSM_XML] = "osm-xml",
    [FMT_OA_CSV] = "oa-csv",
    [FMT_TIGER] = "tiger",
    [FMT_GEONAMES_JSON] = "geonames-json",
    [FMT_GEONAMES_TSV] = "geonames-tsv",
    [FMT_GEONAMES_POSTAL] = "geonames-postal",
    [FMT_POSTCODES_JSON] = "postcodes-json",
};
#define N_FORMATS (sizeof(format_names) / sizeof(format_names[0]))

const char *import_format_name(enum import_format f)
{
    if ((unsigned)f >= N_FORMATS)
        return "unknown";
    return format_names[f];
}

int import_format_parse(const char *name, enum import_format *out)
{
    if (!name)
        return GB_EFORMAT;
    for (size_t i = 1; i < N_FORMATS; i++) {
        if (strcasecmp(name, format_names[i]) == 0) {
            *out = (enum import_format)i;
            return 0;
        }
    }
    return GB_EFORMAT;
}

/* ---- small helpers ----------------------------------------------------------------------- */

void import_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int import_parse_double(const char *s, double *out)
{
    /* strtod alone would accept blanks, "nan", "inf" and hex; coordinates are plain decimals. */
    if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
        return GB_EPARAM;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return GB_EPARAM;
    *out = v;
    return 0;
}

int import_parse_long(const char *s, long *out)
{
    if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+'))
        return GB_EPARAM;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return GB_EPARAM;
    *out = v;
    return 0;
}

bool import_coord_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0 && !(lat == 0.0 && lon == 0.0);
}

int import_split(char *line, char sep, bool quotes, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return GB_EFIELDS;
        if (quotes && *p == '"') {
            /* Unquote in place: the write pointer never passes the read pointer. */
            char *w = p;
            char *r = p + 1;
            fields[n++] = w;
            for (;;) {
                if (*r == '\0')
                    return GB_EQUOTE;
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            /* Text after the closing quote is kept, as most CSV readers do. */
            while (*r && *r != sep)
                *w++ = *r++;
            bool last = *r == '\0';
            *w = '\0';
            if (last)
                return n;
            p = r + 1;
            continue;
        }
        fields[n++] = p;
        char *e = strchr(p, sep);
        if (!e)
            return n;
        *e = '\0';
        p = e + 1;
    }
}

int import_header_map(char *const *fields, int n, const char *const *names, int nnames, int *idx)
{
    int found = 0;
    for (int i = 0; i < nnames; i++) {
        idx[i] = -1;
        for (int j = 0; j < n; j++) {
            if (strcasecmp(fields[j], names[i]) == 0) {
                idx[i] = j;
                found++;
                break;
            }
        }
    }
    return found;
}

/* ---- the byte source --------------------------------------------------------------------- */

#define SRC_CAP (256 * 1024) /* more than IMPORT_LINE_MAX, so a full buffer holds a whole line */

static int src_open(struct import_src *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char *b = malloc(SRC_CAP + 1);
    if (!b)
        abort();
    s->fd = fd;
    s->buf = b;
    s->cap = SRC_CAP;
    s->pos = 0;
    s->end = 0;
    s->eof = false;
    return 0;
}

static void src_close(struct import_src *s)
{
    if (s->buf) {
        close(s->fd);
        free(s->buf);
    }
    s->buf = NULL;
    s->fd = -1;
}

/* Move the unread bytes to the front and read more after them. Return the number of bytes
 * read (0 at end of file or when the buffer is full), or -errno. */
static int src_fill(struct import_src *s)
{
    if (s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, s->end - s->pos);
        s->end -= s->pos;
        s->pos = 0;
    }
    if (s->eof || s->end == s->cap)
        return 0;
    ssize_t n;
    do {
        n = read(s->fd, s->buf + s->end, s->cap - s->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        s->eof = true;
    s->end += (size_t)n;
    return (int)n;
}

/* Make sure at least one unread byte is there. Return 1, 0 at end of file, or -errno. */
static int src_ready(struct import_src *s)
{
    while (s->pos == s->end) {
        if (s->eof)
            return 0;
        int rc = src_fill(s);
        if (rc < 0)
            return rc;
    }
    return 1;
}

/* ---- lines ------------------------------------------------------------------------------- */

int import_lines_open(struct import_lines *lr, const char *path)
{
    struct import_src s;
    int rc = src_open(&s, path);
    if (rc < 0)
        return rc;
    lr->src = s;
    lr->lineno = 0;
    return 0;
}

void import_lines_close(struct import_lines *lr)
{
    src_close(&lr->src);
}

static int lines_finish(struct import_lines *lr, char *start, size_t n, char **line, size_t *len)
{
    if (n > 0 && start[n - 1] == '\r')
        start[--n] = '\0';
    if (lr->lineno == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
        start += 3;
        n -= 3;
    }
    *line = start;
    *len = n;
    return 1;
}

int import_lines_next(struct import_lines *lr, char **line, size_t *len)
{
    struct import_src *s = &lr->src;
    bool skipping = false; /* inside an overlong line: drop bytes up to its newline */
    for (;;) {
        char *start = s->buf + s->pos;
        char *nl = memchr(start, '\n', s->end - s->pos);
        if (nl) {
            size_t n = (size_t)(nl - start);
            s->pos += n + 1;
            lr->lineno++;
            if (skipping || n > IMPORT_LINE_MAX)
                return GB_ETOOLONG;
            *nl = '\0';
            return lines_finish(lr, start, n, line, len);
        }
        if (s->eof) {
            size_t n = s->end - s->pos;
            if (n == 0 && !skipping)
                return 0;
            s->pos = s->end;
            lr->lineno++;
            if (skipping || n > IMPORT_LINE_MAX)
                return GB_ETOOLONG;
            start[n] = '\0'; /* the buffer has one byte more than cap */
            return lines_finish(lr, start, n, line, len);
        }
        if (s->end - s->pos > IMPORT_LINE_MAX) {
            skipping = true;
            s->pos = s->end;
        }
        int rc = src_fill(s);
        if (rc < 0)
            return rc;
    }
}

/* ---- JSON arrays of objects -------------------------------------------------------------- */

int import_json_open(struct import_json *js, const char *path)
{
    struct import_src s;
    int rc = src_open(&s, path);
    if (rc < 0)
        return rc;
    js->src = s;
    buf_init(&js->obj, IMPORT_OBJECT_MAX);
    js->index = 0;
    js->state = 0;
    return 0;
}

void import_json_close(struct import_json *js)
{
    src_close(&js->src);
    buf_release(&js->obj);
}

int import_json_next(struct import_json *js, const char **text, size_t *len)
{
    struct import_src *s = &js->src;
    if (js->state == 2)
        return 0;
    /* Find the next object: skip the '[' (first), blanks and commas. */
    for (;;) {
        int rc = src_ready(s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return js->state == 0 ? GB_EFORMAT : GB_ECORRUPT;
        unsigned char c = (unsigned char)s->buf[s->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            s->pos++;
        } else if (js->state == 0) {
            if (c == 0xEF || c == 0xBB || c == 0xBF) { /* a UTF-8 byte order mark */
                s->pos++;
            } else if (c == '[') {
                s->pos++;
                js->state = 1;
            } else {
                return GB_EFORMAT;
            }
        } else if (c == ',') {
            s->pos++;
        } else if (c == ']') {
            s->pos++;
            js->state = 2;
            return 0;
        } else if (c == '{') {
            break;
        } else {
            return GB_ECORRUPT;
        }
    }
    /* Scan to the matching '}' and keep the text, unless it passes the limit. */
    buf_reset(&js->obj);
    js->index++;
    int depth = 0;
    bool in_str = false, esc = false, toolong = false, done = false;
    while (!done) {
        int rc = src_ready(s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return GB_ECORRUPT;
        size_t start = s->pos;
        while (s->pos < s->end) {
            char c = s->buf[s->pos++];
            if (in_str) {
                if (esc)
                    esc = false;
                else if (c == '\\')
                    esc = true;
                else if (c == '"')
                    in_str = false;
            } else if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    done = true;
                    break;
                }
            }
        }
        if (!toolong && buf_append(&js->obj, s->buf + start, s->pos - start) < 0)
            toolong = true;
    }
    if (toolong)
        return GB_ETOOLONG;
    *text = js->obj.data;
    *len = js->obj.len;
    return 1;
}

/* ---- string table ------------------------------------------------------------------------ */

void import_names_init(struct import_names *t)
{
    buf_init(&t->arena, IMPORT_NAMES_MAX);
    t->slot = NULL;
    t->n = 0;
    t->cap = 0;
}

void import_names_release(struct import_names *t)
{
    buf_release(&t->arena);
    free(t->slot);
    import_names_init(t);
}

static uint32_t names_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void names_grow(struct import_names *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *slot = calloc(cap, sizeof(*slot));
    if (!slot)
        abort();
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        const char *k = t->arena.data + t->slot[i] - 1;
        size_t j = names_hash(k, strlen(k)) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
}

int import_names_put(struct import_names *t, const char *key, size_t klen, const char *val,
                     size_t vlen)
{
    if (memchr(key, '\0', klen))
        return GB_EPARAM;
    if (2 * (t->n + 1) > t->cap)
        names_grow(t);
    size_t j = names_hash(key, klen) & (t->cap - 1);
    while (t->slot[j]) {
        const char *k = t->arena.data + t->slot[j] - 1;
        if (strncmp(k, key, klen) == 0 && k[klen] == '\0')
            return 0;
        j = (j + 1) & (t->cap - 1);
    }
    if (klen + vlen + 2 > IMPORT_NAMES_MAX - t->arena.len)
        return GB_ELIMIT;
    size_t off = t->arena.len;
    char nul = '\0';
    if (buf_append(&t->arena, key, klen) < 0 || buf_append(&t->arena, &nul, 1) < 0 ||
        buf_append(&t->arena, val, vlen) < 0 || buf_append(&t->arena, &nul, 1) < 0) {
        t->arena.len = off;
        return GB_ELIMIT;
    }
    t->slot[j] = (uint32_t)off + 1;
    t->n++;
    return 0;
}

const char *import_names_get(const struct import_names *t, const char *key)
{
    if (t->n == 0)
        return NULL;
    size_t klen = strlen(key);
    size_t j = names_hash(key, klen) & (t->cap - 1);
    while (t->slot[j]) {
        const char *k = t->arena.data + t->slot[j] - 1;
        if (strcmp(k, key) == 0)
            return k + klen + 1;
        j = (j + 1) & (t->cap - 1);
    }
    return NULL;
}

/* ---- detection --------------------------------------------------------------------------- */

#define DETECT_HEAD   (64 * 1024)       /* bytes of the file (or stream) that detection reads */
#define DETECT_BZ_MAX (4 * 1024 * 1024) /* compressed bytes read to get a bzip2 block out */

/* Read up to cap bytes from the start of fd. Return the count or -errno. */
static ssize_t read_head(int fd, unsigned char *p, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

/* Decompress the start of a gzip stream whose first n bytes are in in. Return the number of
 * bytes written to out (at most cap); 0 when nothing could be decompressed. */
static size_t gunzip_head(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return 0;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    return (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) ? got : 0;
}

/* Decompress the start of the bzip2 stream in fd (first n bytes already in in). bzip2 gives
 * no output before a whole block (up to 900 kB) is in, so this reads on, up to DETECT_BZ_MAX.
 * Return the number of bytes written to out, or 0. */
static size_t bunzip_head(int fd, const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    bz_stream z;
    memset(&z, 0, sizeof(z));
    if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
        return 0;
    unsigned char *more = malloc(DETECT_HEAD);
    if (!more)
        abort();
    z.next_in = (char *)in;
    z.avail_in = (unsigned)n;
    z.next_out = (char *)out;
    z.avail_out = (unsigned)cap;
    size_t total_in = n;
    for (;;) {
        int rc = BZ2_bzDecompress(&z);
        if (rc != BZ_OK || z.avail_out < cap)
            break; /* an error, the end of the stream, or some output: enough either way */
        if (z.avail_in == 0) {
            if (total_in >= DETECT_BZ_MAX)
                break;
            ssize_t r = read_head(fd, more, DETECT_HEAD);
            if (r <= 0)
                break;
            total_in += (size_t)r;
            z.next_in = (char *)more;
            z.avail_in = (unsigned)r;
        }
    }
    size_t got = cap - z.avail_out;
    BZ2_bzDecompressEnd(&z);
    free(more);
    return got;
}

/* Return the length of the JSON object that starts at p[0] == '{', or 0 when it does not end
 * within n bytes. */
static size_t json_object_len(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* Classify a JSON text by the keys of the first object of its top-level array. */
static int detect_json(const char *p, size_t n, enum import_format *out)
{
    size_t i = 1; /* past the '[' */
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    if (i >= n || p[i] != '{')
        return GB_EFORMAT;
    size_t olen = json_object_len(p + i, n - i);
    if (olen == 0)
        return GB_EFORMAT;
    json_error_t jerr;
    json_t *o = json_loadb(p + i, olen, 0, &jerr);
    if (!o)
        return GB_EFORMAT;
    int rc = GB_EFORMAT;
    if (json_object_get(o, "zipCode") && json_object_get(o, "latitude") &&
        json_object_get(o, "longitude")) {
        *out = FMT_POSTCODES_JSON;
        rc = 0;
    } else if (json_object_get(o, "lat") && json_object_get(o, "lng") &&
               json_object_get(o, "country")) {
        *out = FMT_GEONAMES_JSON;
        rc = 0;
    }
    json_decref(o);
    return rc;
}

/* Classify the first line of a delimited text file (line is a writable copy). */
static int detect_line(char *line, enum import_format *out)
{
    char *f[IMPORT_FIELDS_MAX];
    if (strncasecmp(line, "from;to;interpolation", 21) == 0) {
        *out = FMT_TIGER;
        return 0;
    }
    if (strchr(line, '\t')) {
        int n = import_split(line, '\t', false, f, IMPORT_FIELDS_MAX);
        double a, b;
        if (n == 19 && import_parse_double(f[4], &a) == 0 && import_parse_double(f[5], &b) == 0) {
            *out = FMT_GEONAMES_TSV;
            return 0;
        }
        if (n == 12 && import_parse_double(f[9], &a) == 0 && import_parse_double(f[10], &b) == 0) {
            *out = FMT_GEONAMES_POSTAL;
            return 0;
        }
        return GB_EFORMAT;
    }
    int n = import_split(line, ',', true, f, IMPORT_FIELDS_MAX);
    if (n < 4)
        return GB_EFORMAT;
    static const char *const need[] = {"LON", "LAT", "NUMBER", "STREET"};
    int idx[4];
    if (import_header_map(f, n, need, 4, idx) == 4) {
        *out = FMT_OA_CSV;
        return 0;
    }
    return GB_EFORMAT;
}

/* Classify plain (not compressed) content. */
static int detect_text(const unsigned char *head, size_t n, enum import_format *out)
{
    const char *p = (const char *)head;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    p += i;
    n -= i;
    if (n == 0)
        return GB_EFORMAT;
    if ((n >= 5 && memcmp(p, "<?xml", 5) == 0) || (n >= 4 && memcmp(p, "<osm", 4) == 0)) {
        /* Any XML file starts with "<?xml": only one with an <osm> element is OSM. */
        if (!memmem(p, n, "<osm", 4))
            return GB_EFORMAT;
        *out = FMT_OSM_XML;
        return 0;
    }
    if (p[0] == '[')
        return detect_json(p, n, out);
    const char *nl = memchr(p, '\n', n);
    if (!nl && n == DETECT_HEAD)
        return GB_EFORMAT; /* a first line this long is no header we know */
    size_t llen = nl ? (size_t)(nl - p) : n;
    if (llen > 0 && p[llen - 1] == '\r')
        llen--;
    char *line = malloc(llen + 1);
    if (!line)
        abort();
    memcpy(line, p, llen);
    line[llen] = '\0';
    int rc = detect_line(line, out);
    free(line);
    return rc;
}

int import_detect(const char *path, enum import_format *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unsigned char *head = malloc(DETECT_HEAD);
    unsigned char *plain = malloc(DETECT_HEAD);
    if (!head || !plain)
        abort();
    enum import_format f = FMT_UNKNOWN;
    int rc;
    ssize_t r = read_head(fd, head, DETECT_HEAD);
    if (r < 0) {
        rc = (int)r;
        goto out;
    }
    size_t n = (size_t)r;
    if (n >= 13) {
        /* PBF: a 4-byte big-endian BlobHeader length, then the BlobHeader whose type string
         * "OSMHeader" comes a few bytes in. */
        uint32_t hlen =
            (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
        size_t lim = n < 32 ? n : 32;
        if (hlen > 0 && hlen < 64 * 1024 && memmem(head + 4, lim - 4, "OSMHeader", 9)) {
            f = FMT_OSM_PBF;
            rc = 0;
            goto out;
        }
    }
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
        size_t got = gunzip_head(head, n, plain, DETECT_HEAD);
        rc = GB_EFORMAT;
        if (got > 0 && detect_text(plain, got, &f) == 0 && f == FMT_OSM_XML)
            rc = 0;
        goto out;
    }
    if (n >= 4 && memcmp(head, "BZh", 3) == 0 && head[3] >= '1' && head[3] <= '9') {
        size_t got = bunzip_head(fd, head, n, plain, DETECT_HEAD);
        rc = GB_EFORMAT;
        if (got > 0 && detect_text(plain, got, &f) == 0 && f == FMT_OSM_XML)
            rc = 0;
        goto out;
    }
    rc = detect_text(head, n, &f);
out:
    free(head);
    free(plain);
    close(fd);
    if (rc == 0)
        *out = f;
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

int import_file(const char *path, enum import_format fmt, const struct rec_sink *sink,
                struct import_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if (fmt == FMT_UNKNOWN) {
        int rc = import_detect(path, &fmt);
        if (rc == GB_EFORMAT) {
            import_errf(err, errlen,
                        "%s: not a format geobatch can import (OSM PBF or XML, OpenAddresses "
                        "CSV, TIGER, GeoNames, postcode JSON)",
                        path);
            return rc;
        }
        if (rc < 0) {
            import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
            return rc;
        }
    }
    switch (fmt) {
    case FMT_OSM_PBF:
    case FMT_OSM_XML:
        return import_osm(path, fmt, sink, st, err, errlen);
    case FMT_OA_CSV:
        return import_oa(path, sink, st, err, errlen);
    case FMT_TIGER:
        return import_tiger(path, sink, st, err, errlen);
    case FMT_GEONAMES_JSON:
    case FMT_GEONAMES_TSV:
    case FMT_GEONAMES_POSTAL:
        return import_geonames(path, fmt, sink, st, err, errlen);
    case FMT_POSTCODES_JSON:
        return import_postcodes(path, sink, st, err, errlen);
    case FMT_UNKNOWN:
        break;
    }
    import_errf(err, errlen, "%s: unknown import format %d", path, (int)fmt);
    return GB_EFORMAT;
}
