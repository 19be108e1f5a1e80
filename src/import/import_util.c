/*
 * import_util.c - the streaming readers and row-loop helpers that the non-OSM importers share
 * (declared in import_util.h): one byte source under a line reader and a JSON array scanner,
 * the field splitter and number parsers, the admin-name table, and the chores of every row
 * loop (skip notes, emits, the errors that stop an import), so that each is written once.
 */
#include "import/import_util.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "text/norm.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- messages and numbers ---------------------------------------------------------------- */

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

unsigned long import_population(const char *s)
{
    if (!s)
        return 0;
    while (*s == ' ')
        s++;
    unsigned long v = 0;
    int digits = 0, group = -1; /* digits since the last separator; -1 before any separator */
    for (const char *p = s;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (v > 4000000000ul / 10) /* more than anyone counts: not a population */
                return 0;
            v = v * 10 + (unsigned long)(*p - '0');
            digits++;
            if (group >= 0 && ++group > 3)
                return 0;
        } else if ((*p == ',' || *p == '.' || *p == ' ' || *p == '\'') && p[1] >= '0' &&
                   p[1] <= '9' && digits > 0 && (group < 0 ? digits <= 3 : group == 3)) {
            group = 0;
        } else if (*p == '\0' || *p == ';') {
            return digits > 0 && (group < 0 || group == 3) ? v : 0;
        } else {
            return 0;
        }
    }
}

bool import_coord_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0 && !(lat == 0.0 && lon == 0.0);
}

int import_parse_coord(const char *slat, const char *slon, double *lat, double *lon)
{
    double la, lo;
    if (import_parse_double(slat, &la) < 0 || import_parse_double(slon, &lo) < 0 ||
        !import_coord_ok(la, lo))
        return GB_EPARAM;
    *lat = la;
    *lon = lo;
    return 0;
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
    char *b = xmalloc(SRC_CAP + 1);
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

int import_json_open_features(struct import_json *js, const char *path, size_t max)
{
    int rc = import_json_open(js, path);
    if (rc < 0)
        return rc;
    buf_init(&js->obj, max);
    js->state = -1;
    return 0;
}

/* Past the '[' of the top-level "features" member of the object js starts with: state 1.
 * Return 0, GB_EFORMAT when the file is no object or its top level has no such array, or
 * -errno. Keys are compared as written (one with escapes is no "features"). */
static int seek_features(struct import_json *js)
{
    struct import_src *s = &js->src;
    struct import_json_scan sc = {0};
    char key[16];
    size_t klen = 0;
    bool key_str = false, features = false; /* the string at depth 1 is a key; it is "features" */
    for (;;) {
        int rc = src_ready(s);
        if (rc <= 0)
            return rc < 0 ? rc : GB_EFORMAT;
        char c = s->buf[s->pos++];
        if (sc.depth == 0 && !sc.in_str) { /* before the object: a BOM and blanks only */
            if (c == '{') {
                sc.depth = 1;
                key_str = true; /* the first string is a key */
            } else if (c == '\0' || !strchr(" \t\r\n\xEF\xBB\xBF", c)) {
                return GB_EFORMAT;
            }
            continue;
        }
        if (sc.depth == 1 && !sc.in_str) {
            if (c == ':') {
                features = !key_str && klen == 8 && memcmp(key, "features", 8) == 0;
                continue;
            }
            if (c == ',') {
                key_str = true;
                features = false;
                continue;
            }
            if (c == '[' && features) {
                js->state = 1;
                return 0;
            }
            if (c == '"' && key_str) {
                klen = 0;
                sc.in_str = true;
                continue;
            }
        }
        if (sc.depth == 1 && sc.in_str && key_str) { /* a key's text */
            if (c == '"' && !sc.esc) {
                sc.in_str = false;
                key_str = false;
            } else {
                sc.esc = !sc.esc && c == '\\';
                if (klen < sizeof(key))
                    key[klen++] = c;
            }
            continue;
        }
        if (import_json_scan_byte(&sc, c))
            return GB_EFORMAT; /* the object ended without the array */
    }
}

void import_json_close(struct import_json *js)
{
    src_close(&js->src);
    buf_release(&js->obj);
}

bool import_json_scan_byte(struct import_json_scan *sc, char c)
{
    if (sc->in_str) {
        if (sc->esc)
            sc->esc = false;
        else if (c == '\\')
            sc->esc = true;
        else if (c == '"')
            sc->in_str = false;
    } else if (c == '"') {
        sc->in_str = true;
    } else if (c == '{' || c == '[') {
        sc->depth++;
    } else if (c == '}' || c == ']') {
        return --sc->depth == 0;
    }
    return false;
}

int import_json_next(struct import_json *js, const char **text, size_t *len)
{
    struct import_src *s = &js->src;
    if (js->state == 2)
        return 0;
    if (js->state == -1) {
        int rc = seek_features(js);
        if (rc < 0)
            return rc;
    }
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
    struct import_json_scan sc = {0};
    bool toolong = false, done = false;
    while (!done) {
        int rc = src_ready(s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return GB_ECORRUPT;
        size_t start = s->pos;
        while (s->pos < s->end) {
            if (import_json_scan_byte(&sc, s->buf[s->pos++])) {
                done = true;
                break;
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

int import_json_coord(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v))
        return import_parse_double(json_string_value(v), out);
    return GB_EPARAM;
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

static void names_grow(struct import_names *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *slot = xcalloc(cap, sizeof(*slot));
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        const char *k = t->arena.data + t->slot[i] - 1;
        size_t j = hash_fnv1a(k, strlen(k)) & (cap - 1);
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
    size_t j = hash_fnv1a(key, klen) & (t->cap - 1);
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
    size_t j = hash_fnv1a(key, klen) & (t->cap - 1);
    while (t->slot[j]) {
        const char *k = t->arena.data + t->slot[j] - 1;
        if (strcmp(k, key) == 0)
            return k + klen + 1;
        j = (j + 1) & (t->cap - 1);
    }
    return NULL;
}

/* ---- row loops --------------------------------------------------------------------------- */

void import_skipf(const struct import_ctx *c, size_t n, const char *fmt, ...)
{
    char reason[IMPORT_REASON_MAX];
    int k = snprintf(reason, sizeof(reason), "%s %zu: ", c->unit, n);
    if (k > 0 && (size_t)k < sizeof(reason)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason + k, sizeof(reason) - (size_t)k, fmt, ap);
        va_end(ap);
    }
    import_stats_skip(c->st, n, reason);
}

int import_fail(const struct import_ctx *c, int rc)
{
    gb_errf(c->err, c->errlen, "%s: %s", c->path, gb_strerror(rc));
    return rc;
}

/* The value of the first "name" string after a "crs" key in text (n bytes) into out; false
 * when there is none. */
static bool crs_name(const char *text, size_t n, char *out, size_t cap)
{
    const char *end = text + n, *p = memmem(text, n, "\"crs\"", 5);
    for (;;) { /* the key "name", not the value of "type": "name" */
        p = p ? memmem(p, (size_t)(end - p), "\"name\"", 6) : NULL;
        if (!p)
            return false;
        p += 6;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && *p == ':')
            break;
    }
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= end || *p != '"')
        return false;
    p++;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q || (size_t)(q - p) >= cap)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

int import_geojson_crs(const struct import_ctx *c)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return import_fail(c, -errno);
    char head[16384];
    ssize_t n = read(fd, head, sizeof(head));
    int rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc < 0)
        return import_fail(c, rc);
    char name[128];
    if (!crs_name(head, (size_t)n, name, sizeof(name)))
        return 0; /* RFC 7946: longitude and latitude, WGS 84 */
    size_t nl = strlen(name);
    static const char *const geographic[] = {"CRS84", "CRS83", "4326", "4269"};
    for (size_t i = 0; i < sizeof(geographic) / sizeof(geographic[0]); i++) {
        size_t gl = strlen(geographic[i]);
        if (nl >= gl && strcmp(name + nl - gl, geographic[i]) == 0)
            return 0;
    }
    gb_errf(c->err, c->errlen,
            "%s: coordinates in %s, not longitude and latitude: reproject the file to WGS 84 "
            "first (ogr2ogr -t_srs EPSG:4326 OUT.geojson IN.geojson)",
            c->path, name);
    return GB_EFORMAT;
}

int import_geojson_features(const char *path, const struct rec_sink *sink, struct import_stats *st,
                            char *err, size_t errlen, size_t max, import_feature_fn fn, void *arg)
{
    memset(st, 0, sizeof(*st));
    const struct import_ctx c = {path, sink, st, err, errlen, "feature"};
    int rc = import_geojson_crs(&c);
    if (rc < 0)
        return rc;
    struct import_json js = {0};
    rc = import_json_open_features(&js, path, max);
    if (rc < 0)
        return import_fail(&c, rc);
    json_t *f;
    while ((rc = import_json_object(&c, &js, "GeoJSON FeatureCollection", &f)) > 0) {
        rc = fn(&c, js.index, f, arg);
        json_decref(f);
        if (rc < 0)
            break;
    }
    import_json_close(&js);
    return rc;
}

/* The territory of r's country that r lies in (regions.txt "territory": Puerto Rico of the
 * US), by its state ("PR", "PRI", "Puerto Rico"), else by its postcode ("00901"); NULL when none
 * is. */
static const char *record_territory(const struct record *r)
{
    const char *cc = r->country;
    if (!cc || !cc[0] || !cc[1] || cc[2] || !norm_territory_of(cc))
        return NULL;
    if (r->state && r->state[0]) {
        size_t n = strlen(r->state);
        char up[3] = {(char)toupper((unsigned char)r->state[0]),
                      (char)toupper((unsigned char)r->state[n > 1 ? 1 : 0]), '\0'};
        const char *iso = n == 2 ? up : norm_country(r->state, n);
        return iso ? norm_territory(cc, iso) : NULL;
    }
    return r->postcode ? norm_postcode_territory(cc, r->postcode, strlen(r->postcode)) : NULL;
}

int import_emit(const struct import_ctx *c, size_t n, const struct record *r)
{
    const char *territory = record_territory(r);
    struct record t;
    if (territory) { /* filed under its own country, which has no such region */
        t = *r;
        t.country = territory;
        t.state = NULL;
        r = &t;
    }
    int rc = c->sink->emit(c->sink->ctx, r);
    if (rc < 0) {
        gb_errf(c->err, c->errlen, "%s: %s %zu: the index builder stopped the import: %s", c->path,
                c->unit, n, gb_strerror(rc));
        return rc;
    }
    c->st->records++;
    return 0;
}

int import_lines_row(const struct import_ctx *c, struct import_lines *lr, char **line)
{
    size_t len;
    int rc;
    while ((rc = import_lines_next(lr, line, &len)) != 0) {
        if (rc == GB_ETOOLONG) {
            import_skipf(c, lr->lineno, "longer than %d bytes", IMPORT_LINE_MAX);
            continue;
        }
        if (rc < 0) {
            gb_errf(c->err, c->errlen, "%s: line %zu: %s", c->path, lr->lineno, gb_strerror(rc));
            return rc;
        }
        if (len > 0)
            return 1; /* a blank line (often the last one) is no row */
    }
    return 0;
}

/* Read the first line of lr as the header cols into *h. Return 0; GB_EFORMAT (with
 * cols->bad_header) when it is not that header; -errno when reading fails. */
static int header_read(const struct import_ctx *c, struct import_lines *lr,
                       const struct import_columns *cols, struct import_header *h)
{
    char *line, *f[IMPORT_FIELDS_MAX];
    size_t len;
    int rc = import_lines_next(lr, &line, &len);
    if (rc < 0 && rc != GB_ETOOLONG)
        return import_fail(c, rc);
    h->ncols = rc == 1 ? import_split(line, cols->sep, cols->quotes, f, IMPORT_FIELDS_MAX) : -1;
    bool ok = h->ncols >= 0;
    if (ok)
        import_header_map(f, h->ncols, cols->names, cols->n, h->idx);
    for (int i = 0; ok && i < cols->n; i++)
        if ((cols->need >> i & 1u) && h->idx[i] < 0)
            ok = false;
    if (!ok) {
        gb_errf(c->err, c->errlen, "%s: %s", c->path, cols->bad_header);
        return GB_EFORMAT;
    }
    return 0;
}

int import_delimited(const struct import_ctx *c, const struct import_columns *cols,
                     import_row_fn row, void *arg)
{
    assert(cols->n <= IMPORT_FIELDS_MAX);
    struct import_lines lr = {0};
    int rc = import_lines_open(&lr, c->path);
    if (rc < 0)
        return import_fail(c, rc);
    struct import_header h;
    rc = header_read(c, &lr, cols, &h);
    char *line;
    while (rc == 0 && (rc = import_lines_row(c, &lr, &line)) > 0)
        rc = row(c, lr.lineno, line, &h, arg);
    import_lines_close(&lr);
    return rc;
}

int import_json_object(const struct import_ctx *c, struct import_json *js, const char *what,
                       json_t **out)
{
    const char *text;
    size_t len;
    int rc;
    while ((rc = import_json_next(js, &text, &len)) != 0) {
        if (rc == GB_ETOOLONG) {
            import_skipf(c, js->index, "longer than %zu bytes", import_json_max(js));
            continue;
        }
        if (rc == GB_EFORMAT) {
            gb_errf(c->err, c->errlen, "%s: not a %s file: no JSON array%s", c->path, what,
                    js->state == -1 ? " of features" : "");
            return rc;
        }
        if (rc < 0) {
            gb_errf(c->err, c->errlen, "%s: after object %zu: %s", c->path, js->index,
                    rc == GB_ECORRUPT ? "broken or truncated JSON array" : gb_strerror(rc));
            return rc;
        }
        json_error_t jerr;
        json_t *o = json_loadb(text, len, 0, &jerr);
        if (!o) {
            import_skipf(c, js->index, "%.120s", jerr.text);
            continue;
        }
        *out = o;
        return 1;
    }
    return 0;
}
