/*
 * import.c - the table of importers, and what walks it: format names, format detection and
 * dispatch. The importers themselves are one file each (import_osm.c, import_oa.c ...); the
 * streaming readers they share are in import_util.c. This file only calls out to them.
 *
 * Detection looks at content only, never at file names: the first 64 KiB of the file (and for
 * gzip and bzip2 the first bytes of the decompressed stream, read through base/zread) make a
 * struct import_head (import_int.h), and the rows' detect functions are asked in table order.
 * Each rule is strict enough that no other supported format matches it, so the order of the
 * rows does not matter for valid files; for the odd file that two rules would both take, the
 * first row wins.
 */
#include "import/import.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/mem.h"
#include "base/zread.h"
#include "import/import_int.h"
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

/* ---- the table --------------------------------------------------------------------------- */

/* One format: a row of the table. */
struct importer {
    const char *name;          /* the --format name, shown by `check` too */
    enum import_format format; /* its value, stored in index files: never renumbered */
    bool packed;               /* it reads gzip and bzip2 files: detection decompresses them */
    bool (*detect)(const struct import_head *h); /* import_int.h */
    int (*import)(const char *path, enum import_format fmt, const struct rec_sink *sink,
                  struct import_stats *st, char *err, size_t errlen); /* import.h */
};

/* In detection order: a PBF header first, then the XML document, the JSON arrays (a postcode
 * object also has the keys of a GeoNames one: it goes first) and the delimited files (the TIGER
 * header goes before the others). */
static const struct importer importers[] = {
    {"osm-pbf", FMT_OSM_PBF, false, import_osm_detect_pbf, import_osm},
    {"osm-xml", FMT_OSM_XML, true, import_osm_detect_xml, import_osm},
    {"postcodes-json", FMT_POSTCODES_JSON, false, import_postcodes_detect, import_postcodes},
    {"tiger", FMT_TIGER, false, import_tiger_detect, import_tiger},
    {"geonames-json", FMT_GEONAMES_JSON, false, import_geonames_detect_json, import_geonames},
    {"geonames-tsv", FMT_GEONAMES_TSV, false, import_geonames_detect_tsv, import_geonames},
    {"geonames-postal", FMT_GEONAMES_POSTAL, false, import_geonames_detect_postal, import_geonames},
    {"oa-csv", FMT_OA_CSV, false, import_oa_detect, import_oa},
    {"geojson-ranges", FMT_GEOJSON_RANGES, false, import_ranges_detect, import_ranges},
    {"geojson-countries", FMT_GEOJSON_COUNTRIES, false, import_geojson_detect, import_geojson},
};
#define N_IMPORTERS (sizeof(importers) / sizeof(importers[0]))

/* The row of format f, or NULL. */
static const struct importer *importer_of(enum import_format f)
{
    for (size_t i = 0; i < N_IMPORTERS; i++)
        if (importers[i].format == f)
            return &importers[i];
    return NULL;
}

const char *import_format_name(enum import_format f)
{
    const struct importer *imp = importer_of(f);
    return imp ? imp->name : "unknown";
}

int import_format_parse(const char *name, enum import_format *out)
{
    if (!name)
        return GB_EFORMAT;
    for (size_t i = 0; i < N_IMPORTERS; i++) {
        if (strcasecmp(name, importers[i].name) == 0) {
            *out = importers[i].format;
            return 0;
        }
    }
    return GB_EFORMAT;
}

/* ---- detection --------------------------------------------------------------------------- */

#define DETECT_HEAD   (64 * 1024)       /* bytes of the file (or stream) that detection reads */
#define DETECT_BZ_MAX (4 * 1024 * 1024) /* compressed bytes read to get a bzip2 block out */

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

/* The first object of the JSON array p[0..n) (p[0] == '['), or NULL. */
static json_t *head_object(const char *p, size_t n)
{
    size_t i = 1; /* past the '[' */
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    if (i >= n || p[i] != '{')
        return NULL;
    size_t olen = json_object_len(p + i, n - i);
    if (olen == 0)
        return NULL;
    json_error_t jerr;
    return json_loadb(p + i, olen, 0, &jerr);
}

/* The first line of p[0..n) without its line end, as a string, or NULL when it does not end
 * within a full head (a first line this long is no header we know). */
static char *head_line(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (!nl && n == DETECT_HEAD)
        return NULL;
    size_t llen = nl ? (size_t)(nl - p) : n;
    if (llen > 0 && p[llen - 1] == '\r')
        llen--;
    char *line = xmalloc(llen + 1);
    memcpy(line, p, llen);
    line[llen] = '\0';
    return line;
}

/* Describe the content p[0..n) (plain, or decompressed) in h: its text and what it looks like.
 * Release with head_release(). */
static void head_describe(struct import_head *h, const unsigned char *content, size_t n)
{
    const char *p = (const char *)content;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    h->text = p + i;
    h->ntext = n - i;
    p = h->text;
    n = h->ntext;
    if (n == 0)
        return;
    if ((n >= 5 && memcmp(p, "<?xml", 5) == 0) || (n >= 4 && memcmp(p, "<osm", 4) == 0))
        h->xml = true;
    else if (p[0] == '[')
        h->object = head_object(p, n);
    else
        h->line = head_line(p, n);
}

static void head_release(struct import_head *h)
{
    json_decref(h->object);
    free((char *)h->line);
}

int import_detect(const char *path, enum import_format *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unsigned char *raw = xmalloc(DETECT_HEAD);
    unsigned char *plain = xmalloc(DETECT_HEAD);
    enum import_format f = FMT_UNKNOWN;
    int rc;
    ssize_t r = fs_read_full(fd, raw, DETECT_HEAD);
    if (r < 0) {
        rc = (int)r;
        goto out;
    }
    size_t n = (size_t)r;
    struct import_head h = {.raw = raw, .nraw = n};
    bool gz = n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
    bool bz2 = n >= 4 && memcmp(raw, "BZh", 3) == 0 && raw[3] >= '1' && raw[3] <= '9';
    if (gz || bz2) {
        h.packed = true;
        head_describe(&h, plain, unpack_head(fd, bz2, raw, n, plain, DETECT_HEAD));
    } else {
        head_describe(&h, raw, n);
    }
    rc = GB_EFORMAT;
    for (size_t i = 0; i < N_IMPORTERS && rc != 0; i++) {
        if ((!h.packed || importers[i].packed) && importers[i].detect(&h)) {
            f = importers[i].format;
            rc = 0;
        }
    }
    head_release(&h);
out:
    free(raw);
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
    const struct importer *imp = importer_of(fmt);
    if (!imp) {
        gb_errf(err, errlen, "%s: unknown import format %d", path, (int)fmt);
        return GB_EFORMAT;
    }
    return imp->import(path, fmt, sink, st, err, errlen);
}
