/*
 * import_osm_input.c - the OSM file made fit for its reader, and checked before readosm sees it.
 *
 * A gzip or bzip2 file is decompressed (through base/zread, up to OSM_MAX_XML_BYTES) into a temp
 * dir. readosm (the XML reader) picks its parser by the file name's suffix and reads only plain
 * files, so a file with another suffix is linked there under the right one. readosm 1.1 also
 * trusts its input too far: it crashes on XML elements that lack their attributes and allocates
 * whatever block size a PBF file claims, so both are checked first and such files refused,
 * naming the place. The PBF reader of osm_pbf.c needs none of this: it reads any name and checks
 * every size itself.
 */
#include "base/err.h"
#include "base/mem.h"
#include "base/zread.h"
#include "import/import_osm_int.h"

#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OSM_MAX_XML_BYTES ((uint64_t)64 << 30) /* decompressed XML above this is refused */

/* ---- decompression ------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decompress gzip or bzip2 file src into dst. Return 0, -errno or GB_ECORRUPT/GB_ELIMIT. */
static int decompress(const char *src, bool bz2, const char *dst, char *err, size_t errlen)
{
    int rc = 0;
    FILE *out = fopen(dst, "wb");
    struct zread *in = NULL;
    char *buf = xmalloc(1 << 16);
    if (!out) {
        rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot create temp file: %s", src, strerror(errno));
        goto out;
    }
    const struct zread_opts opts = {.kind = bz2 ? ZREAD_BZIP2 : ZREAD_GZIP,
                                    .max_out = OSM_MAX_XML_BYTES};
    rc = zread_open(&in, src, &opts);
    if (rc < 0) {
        gb_errf(err, errlen, "osm: %s: cannot open: %s", src, strerror(-rc));
        goto out;
    }
    for (;;) {
        ssize_t n = zread_read(in, buf, 1 << 16);
        if (n == 0)
            break;
        if (n < 0 && n != GB_ELIMIT) {
            rc = GB_ECORRUPT; /* a read error too: the data could not be had */
            gb_errf(err, errlen, "osm: %s: corrupt or truncated %s data", src,
                    bz2 ? "bzip2" : "gzip");
            goto out;
        }
        if (n < 0 || fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
            rc = n < 0 ? GB_ELIMIT : -EIO;
            gb_errf(err, errlen, "osm: %s: decompressed data too large or not written", src);
            goto out;
        }
    }
    if (fflush(out) != 0) {
        rc = -EIO;
        gb_errf(err, errlen, "osm: %s: cannot write temp file", src);
    }
out:
    zread_close(in);
    if (out && fclose(out) != 0 && rc == 0)
        rc = -EIO;
    free(buf);
    return rc;
}

/* ---- OSM XML: a check before readosm ------------------------------------------------------ */

struct xml_check_state {
    XML_Parser p;
    const char *bad; /* the element that lacks an attribute, or NULL */
    unsigned long line;
};

static bool has_attrs(const XML_Char **atts, const char *const *need)
{
    for (; *need; need++) {
        bool found = false;
        for (const XML_Char **a = atts; *a && !found; a += 2)
            found = strcmp(a[0], *need) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void XMLCALL xml_check_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    static const char *const tag[] = {"k", "v", NULL}, *const nd[] = {"ref", NULL},
                             *const member[] = {"type", "ref", "role", NULL},
                             *const node[] = {"id", "lat", "lon", NULL}, *const id[] = {"id", NULL};
    struct xml_check_state *st = ud;
    const char *const *need = strcmp(name, "tag") == 0                                    ? tag
                              : strcmp(name, "nd") == 0                                   ? nd
                              : strcmp(name, "member") == 0                               ? member
                              : strcmp(name, "node") == 0                                 ? node
                              : strcmp(name, "way") == 0 || strcmp(name, "relation") == 0 ? id
                                                                                          : NULL;
    if (st->bad || !need || has_attrs(atts, need))
        return;
    st->bad = strcmp(name, "tag") == 0 ? "tag"
              : need == nd             ? "nd"
              : need == member         ? "member"
                                       : "node/way/relation";
    st->line = (unsigned long)XML_GetCurrentLineNumber(st->p);
    XML_StopParser(st->p, XML_FALSE);
}

/*
 * readosm 1.1 dereferences the attributes of <tag>, <nd>, <member>, <node>, <way> and
 * <relation> without checking that they are there (a <tag k="x"/> crashes it). Parse the file
 * once with expat first and refuse it, naming the line, when an element lacks one, or when it is
 * not well-formed XML. Return 0 or GB_ECORRUPT (-errno when unreadable).
 */
static int xml_check(const char *rpath, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(rpath, "rb");
    if (!fp) {
        gb_errf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        return -errno;
    }
    struct xml_check_state st = {.p = XML_ParserCreate(NULL)};
    if (!st.p)
        abort();
    XML_SetUserData(st.p, &st);
    XML_SetStartElementHandler(st.p, xml_check_start);
    int rc = 0;
    char buf[65536];
    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), fp);
        bool last = n < sizeof(buf);
        if (XML_Parse(st.p, buf, (int)n, last) == XML_STATUS_ERROR) {
            if (st.bad)
                gb_errf(err, errlen, "osm: %s: line %lu: <%s> without its required attributes",
                        path, st.line, st.bad);
            else
                gb_errf(err, errlen, "osm: %s: line %lu: not well-formed XML: %s", path,
                        (unsigned long)XML_GetCurrentLineNumber(st.p),
                        XML_ErrorString(XML_GetErrorCode(st.p)));
            rc = GB_ECORRUPT;
            break;
        }
        if (last)
            break;
    }
    if (rc == 0 && ferror(fp)) {
        gb_errf(err, errlen, "osm: %s: read error", path);
        rc = -EIO;
    }
    XML_ParserFree(st.p);
    fclose(fp);
    return rc;
}

/* Read a protobuf varint from p..end; return the number of bytes used, 0 when malformed. */
static size_t pb_varint(const unsigned char *p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

#define PBF_MAX_HEADER 65536              /* BlobHeader limit of the PBF format */
#define PBF_MAX_BLOB   (32 * 1024 * 1024) /* Blob limit of the PBF format */

/*
 * Walk the PBF block structure (header length, BlobHeader, Blob) without decoding the blobs:
 * readosm trusts the sizes it reads and allocates them, so a corrupted size would ask for
 * gigabytes. Return 0 when every block is within the format's limits and the file's end.
 */
static int pbf_check(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gb_errf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        return -errno;
    }
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
        goto out;
    }
    off_t pos = 0;
    unsigned char *hdr = xmalloc(PBF_MAX_HEADER);
    size_t blocks = 0;
    while (pos < sb.st_size) {
        unsigned char len4[4];
        if (pread(fd, len4, 4, pos) != 4) {
            rc = GB_ECORRUPT;
            break;
        }
        uint32_t hlen =
            (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
        if (hlen == 0 || hlen > PBF_MAX_HEADER || pos + 4 + (off_t)hlen > sb.st_size ||
            pread(fd, hdr, hlen, pos + 4) != (ssize_t)hlen) {
            rc = GB_ECORRUPT;
            break;
        }
        /* BlobHeader: field 3 (datasize, varint) is the blob's length */
        uint64_t datasize = UINT64_MAX;
        const unsigned char *p = hdr, *end = hdr + hlen;
        while (p < end) {
            uint64_t key, v;
            size_t n = pb_varint(p, end, &key);
            if (!n)
                break;
            p += n;
            if ((key & 7) == 0) {
                n = pb_varint(p, end, &v);
                if (!n)
                    break;
                p += n;
                if ((key >> 3) == 3)
                    datasize = v;
            } else if ((key & 7) == 2) {
                n = pb_varint(p, end, &v);
                if (!n || v > (uint64_t)(end - p - n))
                    break;
                p += n + v;
            } else
                break;
        }
        if (p != end || datasize > PBF_MAX_BLOB ||
            pos + 4 + (off_t)hlen + (off_t)datasize > sb.st_size) {
            rc = GB_ECORRUPT;
            break;
        }
        pos += 4 + (off_t)hlen + (off_t)datasize;
        blocks++;
    }
    free(hdr);
    if (rc == 0 && blocks == 0)
        rc = GB_ECORRUPT;
    if (rc < 0)
        gb_errf(err, errlen, "osm: %s: corrupt or truncated PBF (block at byte %lld is broken)",
                path, (long long)pos);
out:
    close(fd);
    return rc;
}

/* ---- the input --------------------------------------------------------------------------- */

/* Put a plain copy of path (decompressed when packed) or a link to it into a new temp dir in
 * $TMPDIR (else /tmp) as "in<suffix>", and make it in->rpath: readosm opens a name, so the copy
 * has one, and an import killed meanwhile leaves it; not in the import's --tmp, which such an
 * import leaves empty. Return 0 or a negative code, err written. */
static int input_temp(struct osm_input *in, const char *path, const char *suffix, bool packed,
                      bool bz2, char *err, size_t errlen)
{
    const char *td = getenv("TMPDIR");
    if (!td || !*td)
        td = "/tmp";
    snprintf(in->tmpdir, sizeof(in->tmpdir), "%s/gb-osm-XXXXXX", td);
    if (!mkdtemp(in->tmpdir)) {
        int rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot create a temp dir in %s: %s", path, td,
                strerror(errno));
        in->tmpdir[0] = 0;
        return rc;
    }
    snprintf(in->tmpfile, sizeof(in->tmpfile), "%s/in%s", in->tmpdir, suffix);
    int rc;
    if (packed) {
        rc = decompress(path, bz2, in->tmpfile, err, errlen);
    } else {
        char *abs = realpath(path, NULL);
        rc = abs && symlink(abs, in->tmpfile) == 0 ? 0 : -errno;
        free(abs);
        if (rc < 0)
            gb_errf(err, errlen, "osm: %s: cannot link temp file", path);
    }
    if (rc == 0)
        in->rpath = in->tmpfile;
    return rc;
}

int osm_input_open(struct osm_input *in, const char *path, bool pbf, bool readosm, char *err,
                   size_t errlen)
{
    in->tmpdir[0] = in->tmpfile[0] = '\0';
    in->rpath = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        return rc;
    }
    unsigned char magic[3] = {0};
    ssize_t nmagic = read(fd, magic, sizeof(magic));
    close(fd);
    if (nmagic < 0) {
        int rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot read", path);
        return rc;
    }
    bool gz = nmagic >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    bool bz2 = nmagic >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h';
    int rc;
    if (pbf && readosm && !gz && !bz2) {
        rc = pbf_check(path, err, errlen);
        if (rc < 0)
            return rc;
    }
    const char *suffix = pbf ? ".pbf" : ".osm";
    if (gz || bz2 || (readosm && !ends_with(path, suffix))) {
        /* readosm picks its parser by suffix and needs a plain file: give it one. */
        rc = input_temp(in, path, suffix, gz || bz2, bz2, err, errlen);
        if (rc < 0)
            return rc;
    }
    return pbf ? 0 : xml_check(in->rpath, path, err, errlen);
}

void osm_input_close(struct osm_input *in)
{
    if (in->tmpfile[0])
        unlink(in->tmpfile);
    if (in->tmpdir[0])
        rmdir(in->tmpdir);
}
