/*
 * import.c - format names, format detection and dispatch to the importers. The streaming
 * readers that the non-OSM importers share are in import_util.c.
 *
 * Detection looks at content only, never at file names: the first 64 KiB of the file (and for
 * gzip and bzip2 the first bytes of the decompressed stream) decide. Each rule is strict enough
 * that no other supported format matches it, so the order of the checks does not matter for
 * valid files.
 */
#include "import/import.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/zread.h"
#include "import/import_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

/* Decompress the start of the gzip or bzip2 file fd, whose first n bytes are in raw, into
 * plain[cap]. Return the number of bytes, 0 when nothing could be decompressed. gzip: the first
 * member, from the n bytes only, and nothing when they are not valid data. bzip2 gives no output
 * before a whole block (up to 900 kB) is in, so this reads on, up to DETECT_BZ_MAX, and keeps
 * what one decoder step gave even when the data turns out broken. */
static size_t unpack_head(int fd, bool bz2, const unsigned char *raw, size_t n,
                          unsigned char *plain, size_t cap)
{
    struct zread_opts o = {
        .kind = bz2 ? ZREAD_BZIP2 : ZREAD_GZIP,
        .head = raw,
        .nhead = n,
        .max_in = bz2 ? DETECT_BZ_MAX : n,
        .one_member = true,
    };
    struct zread *z = zread_new(fd, &o);
    ssize_t got = zread_read(z, plain, cap);
    if (got < 0 || (!bz2 && zread_error(z) != 0))
        got = 0;
    zread_free(z);
    return (size_t)got;
}

/* Return the length of the JSON object that starts at p[0] == '{', or 0 when it does not end
 * within n bytes. */
static size_t json_object_len(const char *p, size_t n)
{
    struct import_json_scan sc = {0};
    for (size_t i = 0; i < n; i++)
        if (import_json_scan_byte(&sc, p[i]))
            return i + 1;
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
    char *line = xmalloc(llen + 1);
    memcpy(line, p, llen);
    line[llen] = '\0';
    int rc = detect_line(line, out);
    free(line);
    return rc;
}

/* Classify the got bytes decompressed from a gzip or bzip2 file: of our formats, only OSM XML
 * comes compressed. Return 0 (*f is FMT_OSM_XML) or GB_EFORMAT (*f may have been written). */
static int detect_packed(const unsigned char *plain, size_t got, enum import_format *f)
{
    if (got > 0 && detect_text(plain, got, f) == 0 && *f == FMT_OSM_XML)
        return 0;
    return GB_EFORMAT;
}

int import_detect(const char *path, enum import_format *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unsigned char *head = xmalloc(DETECT_HEAD);
    unsigned char *plain = xmalloc(DETECT_HEAD);
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
        rc = detect_packed(plain, unpack_head(fd, false, head, n, plain, DETECT_HEAD), &f);
        goto out;
    }
    if (n >= 4 && memcmp(head, "BZh", 3) == 0 && head[3] >= '1' && head[3] <= '9') {
        rc = detect_packed(plain, unpack_head(fd, true, head, n, plain, DETECT_HEAD), &f);
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
            gb_errf(err, errlen,
                    "%s: not a format geobatch can import (OSM PBF or XML, OpenAddresses "
                    "CSV, TIGER, GeoNames, postcode JSON)",
                    path);
            return rc;
        }
        if (rc < 0) {
            gb_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
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
    gb_errf(err, errlen, "%s: unknown import format %d", path, (int)fmt);
    return GB_EFORMAT;
}
