/*
 * osm_pbf.c - the .osm.pbf reader: block framing, blob inflation, a small protobuf decoder for
 * PrimitiveBlock, and the pipeline that decodes blocks on worker threads and hands them to one
 * consumer in order.
 *
 * DESIGN. osm_pbf_open() walks the file once reading only the BlobHeaders (4-byte length,
 * header, skip datasize), so every block's offset and size is known before any is decoded: a
 * pass can then visit any subset of the blocks in any order (the importer reads the relations at
 * the end of a sorted file first, without decoding the nodes before them). A block is decoded in
 * one go: pread the blob, inflate it (zlib, one z_stream per thread), then parse the
 * PrimitiveBlock into flat arrays of objects, tags, node references and members, with the
 * string table copied once into NUL-terminated strings. Arrays grow while a block is parsed, so
 * objects first record how many tags (refs, members) they have, and the pointers are set in one
 * walk at the end, in the same order as the items were appended.
 *
 * Threads. osm_pbf_run() with N threads starts N - 1 workers; a worker claims the next position
 * of the caller's order, decodes that block into slot (position mod slots) and marks it ready;
 * the caller, while the slot of its next position is not ready, claims and decodes the next
 * position itself if there is one to take (else it waits), then hands the slot to the consumer
 * and frees it. A position is claimed only when its slot is free, so at most N + 2 blocks are in
 * memory, and the consumer sees exactly the sequence a single thread would produce: the import
 * built on it is the same whatever the number of threads. An error in a block is reported when
 * its turn comes, so the first error in order wins, as with one thread.
 *
 * Limits. BlobHeader at most 64 KiB, blob and inflated block at most 32 MiB (the format's own
 * limits), inflated size exactly the declared raw_size, at most OSM_PBF_MAX_ITEMS objects, tags,
 * refs and members per block, every string index inside the block's table, counts of parallel
 * arrays equal. What is not supported is refused by name: lzma, bzip2, lz4, zstd blobs, required
 * features other than OsmSchema-V0.6 and DenseNodes.
 *
 * Coordinates are (offset + granularity * value) nanodegrees, as the format says (readosm 1.1
 * ignores granularity and the offsets; with the defaults, 100 and 0, both give the same double:
 * 100v / 1e9 and v / 1e7 are the correctly rounded quotients of the same real number).
 */
#include "import/osm_pbf.h"
#include "base/err.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- protobuf ---------------------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* A range of bytes being read. */
struct pb {
    const unsigned char *p, *end;
};

/* Read a varint; false when it runs past the end or over 10 bytes. */
static inline bool pb_varint(struct pb *b, uint64_t *out)
{
    const unsigned char *p = b->p;
    if (p < b->end && *p < 0x80) {
        *out = *p;
        b->p = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned s = 0; s < 64 && p < b->end; s += 7) {
        unsigned c = *p++;
        v |= (uint64_t)(c & 0x7f) << s;
        if (c < 0x80) {
            *out = v;
            b->p = p;
            return true;
        }
    }
    return false;
}

static inline int64_t zigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Read the next delta of a packed sint64 run into the running sum *acc. */
static inline bool pb_delta(struct pb *b, int64_t *acc)
{
    uint64_t v;
    if (!pb_varint(b, &v))
        return false;
    *acc = (int64_t)((uint64_t)*acc + (uint64_t)zigzag(v));
    return true;
}

/* One field: its number, wire type, and either its value (varint, fixed) or its bytes (len). */
struct pb_field {
    uint64_t num;
    int wt;
    uint64_t v;
    struct pb sub;
};

/* Read the next field of b into f. Return 1, 0 at the end, -1 when malformed (or a group). */
static int pb_next(struct pb *b, struct pb_field *f)
{
    if (b->p >= b->end)
        return 0;
    uint64_t key;
    if (!pb_varint(b, &key))
        return -1;
    f->num = key >> 3;
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case WT_VARINT:
        return pb_varint(b, &f->v) ? 1 : -1;
    case WT_I64:
    case WT_I32: {
        size_t n = f->wt == WT_I64 ? 8 : 4;
        if ((size_t)(b->end - b->p) < n)
            return -1;
        f->v = 0;
        for (size_t i = 0; i < n; i++)
            f->v |= (uint64_t)b->p[i] << (8 * i);
        b->p += n;
        return 1;
    }
    case WT_LEN: {
        uint64_t len;
        if (!pb_varint(b, &len) || len > (uint64_t)(b->end - b->p))
            return -1;
        f->sub.p = b->p;
        f->sub.end = b->p + len;
        b->p += len;
        return 1;
    }
    default:
        return -1; /* groups (3, 4) are not used by the format; 6 and 7 do not exist */
    }
}

/* The number of varints in a packed field; SIZE_MAX when the last one is cut short. */
static size_t pb_count(struct pb b)
{
    size_t n = 0;
    for (const unsigned char *p = b.p; p < b.end; p++)
        n += *p < 0x80;
    return b.p < b.end && b.end[-1] >= 0x80 ? SIZE_MAX : n;
}

/* ---- the file ---------------------------------------------------------------------------- */

struct frame {
    int64_t off;   /* the blob's first byte */
    uint32_t size; /* its length */
};

struct osm_pbf {
    int fd;
    char *path;
    struct frame *blocks; /* OSMData blobs only */
    size_t nblock;
    /* the blocks of the last osm_pbf_run(), their buffers grown to the sizes its blocks needed:
     * the next run decodes into them instead of faulting fresh pages in again (three passes) */
    struct osm_pbf_block *spare;
    size_t nspare, spare_cap;
};

/* Storage of a decoded block, reused from one decode to the next. */
struct osm_pbf_store {
    unsigned char *blob; /* the blob as stored */
    size_t blob_cap;
    unsigned char *raw; /* the inflated PrimitiveBlock */
    size_t raw_cap;
    char *strs; /* the string table, NUL-terminated copies */
    size_t strs_cap;
    const char **st; /* string i */
    size_t nst, st_cap;
    struct osm_tag *tags;
    size_t ntag, tag_cap;
    int64_t *refs;
    size_t nref, ref_cap;
    struct osm_member *mems;
    size_t nmem, mem_cap;
    size_t group_cap, node_cap, way_cap, rel_cap;
    size_t items; /* objects + tags + refs + members, against OSM_PBF_MAX_ITEMS */
    int32_t granularity;
    int64_t lat_offset, lon_offset;
};

size_t osm_pbf_nblocks(const struct osm_pbf *f)
{
    return f->nblock;
}

void osm_pbf_close(struct osm_pbf *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    for (size_t i = 0; i < f->nspare; i++)
        osm_pbf_block_release(&f->spare[i]);
    free(f->spare);
    free(f->blocks);
    free(f->path);
    free(f);
}

/* Read exactly n bytes at off. Return 0, -errno, or GB_ECORRUPT at the end of the file. */
static int read_at(int fd, void *buf, size_t n, int64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return GB_ECORRUPT;
        done += (size_t)r;
    }
    return 0;
}

struct osm_pbf_decoder {
    z_stream z;
    bool init;
};

struct osm_pbf_decoder *osm_pbf_decoder_new(void)
{
    return xcalloc(1, sizeof(struct osm_pbf_decoder));
}

void osm_pbf_decoder_free(struct osm_pbf_decoder *d)
{
    if (!d)
        return;
    if (d->init)
        inflateEnd(&d->z);
    free(d);
}

static const char *const compressions[] = {NULL, NULL, NULL, NULL, "lzma", "bzip2", "lz4", "zstd"};

/*
 * Read blob f->blocks[i] (or the header blob at hoff/hsize when i is SIZE_MAX) and make *data,
 * *n the PrimitiveBlock (or HeaderBlock) it holds: the raw bytes or the inflated zlib_data.
 * Return 0 or a negative code with err written ("block at byte N: ...").
 */
static int blob_read(const struct osm_pbf *f, struct osm_pbf_decoder *d, int64_t off, uint32_t size,
                     struct osm_pbf_store *s, const unsigned char **data, size_t *n, char *err,
                     size_t errlen)
{
    s->blob = mem_reserve(s->blob, &s->blob_cap, size ? size : 1, 1);
    int rc = read_at(f->fd, s->blob, size, off);
    if (rc < 0) {
        gb_errf(err, errlen, "osm: %s: blob at byte %lld: %s", f->path, (long long)off,
                rc == GB_ECORRUPT ? "truncated" : strerror(-rc));
        return rc;
    }
    struct pb b = {s->blob, s->blob + size}, raw = {NULL, NULL}, zdata = {NULL, NULL};
    struct pb_field fl;
    uint64_t raw_size = 0;
    bool have_raw = false, have_zlib = false, have_size = false;
    while ((rc = pb_next(&b, &fl)) > 0) {
        if (fl.num == 1 && fl.wt == WT_LEN) {
            raw = fl.sub;
            have_raw = true;
        } else if (fl.num == 2 && fl.wt == WT_VARINT) {
            raw_size = fl.v;
            have_size = true;
        } else if (fl.num == 3 && fl.wt == WT_LEN) {
            zdata = fl.sub;
            have_zlib = true;
        } else if (fl.num >= 4 && fl.num <= 7) {
            gb_errf(err, errlen,
                    "osm: %s: blob at byte %lld is compressed with %s: geobatch reads only zlib "
                    "and uncompressed blocks (re-encode the file, e.g. osmium cat -o out.osm.pbf "
                    "in.osm.pbf)",
                    f->path, (long long)off, compressions[fl.num]);
            return GB_EFORMAT;
        }
    }
    if (rc < 0 || (!have_raw && !have_zlib)) {
        gb_errf(err, errlen, "osm: %s: blob at byte %lld is corrupt (%s)", f->path, (long long)off,
                rc < 0 ? "bad protobuf" : "no data");
        return GB_ECORRUPT;
    }
    if (have_raw) {
        *data = raw.p;
        *n = (size_t)(raw.end - raw.p);
        return 0;
    }
    if (!have_size || raw_size == 0 || raw_size > OSM_PBF_MAX_BLOB) {
        gb_errf(err, errlen,
                "osm: %s: blob at byte %lld: raw_size %llu is missing or over the limit of %d "
                "bytes",
                f->path, (long long)off, (unsigned long long)raw_size, OSM_PBF_MAX_BLOB);
        return GB_ECORRUPT;
    }
    s->raw = mem_reserve(s->raw, &s->raw_cap, raw_size, 1);
    if (!d->init) {
        memset(&d->z, 0, sizeof(d->z));
        if (inflateInit(&d->z) != Z_OK)
            return -ENOMEM;
        d->init = true;
    } else if (inflateReset(&d->z) != Z_OK) {
        return -ENOMEM;
    }
    d->z.next_in = (unsigned char *)zdata.p;
    d->z.avail_in = (uInt)(zdata.end - zdata.p);
    d->z.next_out = s->raw;
    d->z.avail_out = (uInt)raw_size;
    int zr = inflate(&d->z, Z_FINISH);
    if (zr != Z_STREAM_END || d->z.total_out != raw_size) {
        const char *why = zr == Z_STREAM_END    ? "inflates to fewer bytes than its raw_size"
                          : zr == Z_DATA_ERROR  ? "corrupt zlib data"
                          : d->z.avail_out == 0 ? "inflates to more bytes than its raw_size"
                                                : "truncated zlib data";
        gb_errf(err, errlen, "osm: %s: blob at byte %lld: %s", f->path, (long long)off, why);
        return GB_ECORRUPT;
    }
    *data = s->raw;
    *n = (size_t)raw_size;
    return 0;
}

/* Check the HeaderBlock's required features. Return 0 or GB_EFORMAT/GB_ECORRUPT. */
static int header_check(const char *path, const unsigned char *data, size_t n, char *err,
                        size_t errlen)
{
    struct pb b = {data, data + n};
    struct pb_field fl;
    int rc;
    while ((rc = pb_next(&b, &fl)) > 0) {
        if (fl.num != 4 || fl.wt != WT_LEN)
            continue;
        size_t len = (size_t)(fl.sub.end - fl.sub.p);
        static const char *const known[] = {"OsmSchema-V0.6", "DenseNodes"};
        bool ok = false;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !ok; k++)
            ok = len == strlen(known[k]) && memcmp(fl.sub.p, known[k], len) == 0;
        if (!ok) {
            gb_errf(err, errlen,
                    "osm: %s: the file requires the feature \"%.*s\", which geobatch "
                    "does not support",
                    path, (int)(len > 64 ? 64 : len), (const char *)fl.sub.p);
            return GB_EFORMAT;
        }
    }
    if (rc < 0) {
        gb_errf(err, errlen, "osm: %s: corrupt OSMHeader block", path);
        return GB_ECORRUPT;
    }
    return 0;
}

int osm_pbf_open(struct osm_pbf **out, const char *path, char *err, size_t errlen)
{
    struct osm_pbf *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(path);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct osm_pbf_store hs = {0};
    struct osm_pbf_decoder *d = NULL;
    size_t cap = 0;
    int rc = 0;
    if (f->fd < 0) {
        rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    struct stat sb;
    if (fstat(f->fd, &sb) < 0) {
        rc = -errno;
        gb_errf(err, errlen, "osm: %s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    /* Only headers are read here: no read-ahead of the blobs between them. */
    posix_fadvise(f->fd, 0, 0, POSIX_FADV_RANDOM);
    int64_t size = sb.st_size, pos = 0;
    unsigned char head[4 + 64];
    unsigned char *hdr = xmalloc(OSM_PBF_MAX_HEADER);
    size_t nhead = 0; /* blocks seen, the OSMHeader included */
    while (pos < size && rc == 0) {
        const char *why = NULL;
        size_t want = size - pos < (int64_t)sizeof(head) ? (size_t)(size - pos) : sizeof(head);
        if (want < 4) {
            why = "truncated block length";
        } else if ((rc = read_at(f->fd, head, want, pos)) < 0) {
            gb_errf(err, errlen, "osm: %s: cannot read: %s", path,
                    rc == GB_ECORRUPT ? "file shrank" : strerror(-rc));
            break;
        }
        uint32_t hlen = why ? 0
                            : (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
                                  (uint32_t)head[2] << 8 | head[3];
        if (!why && (hlen == 0 || hlen > OSM_PBF_MAX_HEADER))
            why = "BlobHeader length is 0 or over 64 KiB";
        else if (!why && (int64_t)hlen > size - pos - 4)
            why = "truncated BlobHeader";
        if (!why) {
            if (hlen <= want - 4)
                memcpy(hdr, head + 4, hlen);
            else if ((rc = read_at(f->fd, hdr, hlen, pos + 4)) < 0) {
                gb_errf(err, errlen, "osm: %s: cannot read: %s", path,
                        rc == GB_ECORRUPT ? "file shrank" : strerror(-rc));
                break;
            }
        }
        struct pb b = {hdr, hdr + hlen};
        struct pb_field fl;
        uint64_t datasize = UINT64_MAX;
        int type = 0; /* 1 OSMHeader, 2 OSMData, 3 another */
        int prc = 0;
        while (!why && (prc = pb_next(&b, &fl)) > 0) {
            if (fl.num == 1 && fl.wt == WT_LEN) {
                size_t len = (size_t)(fl.sub.end - fl.sub.p);
                type = len == 9 && memcmp(fl.sub.p, "OSMHeader", 9) == 0 ? 1
                       : len == 7 && memcmp(fl.sub.p, "OSMData", 7) == 0 ? 2
                                                                         : 3;
            } else if (fl.num == 3 && fl.wt == WT_VARINT) {
                datasize = fl.v;
            }
        }
        if (!why && (prc < 0 || datasize == UINT64_MAX || type == 0))
            why = "corrupt BlobHeader";
        else if (!why && datasize > OSM_PBF_MAX_BLOB)
            why = "blob size over the limit of 32 MiB";
        else if (!why && (int64_t)datasize > size - pos - 4 - (int64_t)hlen)
            why = "truncated blob";
        else if (!why && nhead == 0 && type != 1)
            why = "the file does not start with an OSMHeader block";
        else if (!why && type == 2 && f->nblock >= OSM_PBF_MAX_BLOCKS)
            why = "more than 16,777,216 blocks";
        if (why) {
            gb_errf(err, errlen, "osm: %s: corrupt or truncated PBF: block at byte %lld: %s", path,
                    (long long)pos, why);
            rc = GB_ECORRUPT;
            break;
        }
        int64_t boff = pos + 4 + hlen;
        if (nhead == 0) {
            const unsigned char *data;
            size_t n;
            d = osm_pbf_decoder_new();
            rc = blob_read(f, d, boff, (uint32_t)datasize, &hs, &data, &n, err, errlen);
            if (rc == 0)
                rc = header_check(path, data, n, err, errlen);
        } else if (type == 2) {
            VEC_GROW(f->blocks, f->nblock, cap);
            f->blocks[f->nblock].off = boff;
            f->blocks[f->nblock].size = (uint32_t)datasize;
            f->nblock++;
        } /* other types: skipped, as the format asks */
        nhead++;
        pos = boff + (int64_t)datasize;
    }
    free(hdr);
    if (rc == 0 && nhead == 0) {
        gb_errf(err, errlen, "osm: %s: empty PBF file", path);
        rc = GB_ECORRUPT;
    }
    posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
out:
    free(hs.blob);
    free(hs.raw);
    osm_pbf_decoder_free(d);
    if (rc < 0) {
        osm_pbf_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* ---- PrimitiveBlock ---------------------------------------------------------------------- */

void osm_node_fix7(struct osm_node *n)
{
    bool ok = fabs(n->latitude) <= 90 && fabs(n->longitude) <= 180; /* false for NaN */
    n->lat7 = ok ? (int32_t)lround(n->latitude * 1e7) : 0;
    n->lon7 = ok ? (int32_t)lround(n->longitude * 1e7) : 0;
}

struct parse {
    struct osm_pbf_block *b;
    struct osm_pbf_store *s;
    const char *why; /* set on the first error */
};

static bool fail(struct parse *ps, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return false;
}

/* Count k more items against the block's limit. */
static bool items_add(struct parse *ps, size_t k)
{
    if (k > OSM_PBF_MAX_ITEMS || ps->s->items + k > OSM_PBF_MAX_ITEMS)
        return fail(ps, "more than 8,388,608 objects, tags, refs and members in one block");
    ps->s->items += k;
    return true;
}

/* The string table: every entry copied once, NUL-terminated. */
static bool parse_strings(struct parse *ps, struct pb b)
{
    struct osm_pbf_store *s = ps->s;
    struct pb_field fl;
    size_t n = 0, bytes = 0;
    int rc;
    struct pb c = b;
    while ((rc = pb_next(&c, &fl)) > 0)
        if (fl.num == 1 && fl.wt == WT_LEN) {
            n++;
            bytes += (size_t)(fl.sub.end - fl.sub.p) + 1;
        }
    if (rc < 0)
        return fail(ps, "corrupt string table");
    if (!items_add(ps, n))
        return false;
    s->st = mem_reserve(s->st, &s->st_cap, n ? n : 1, sizeof(*s->st));
    s->strs = mem_reserve(s->strs, &s->strs_cap, bytes ? bytes : 1, 1);
    char *w = s->strs;
    s->nst = 0;
    while (pb_next(&b, &fl) > 0)
        if (fl.num == 1 && fl.wt == WT_LEN) {
            size_t len = (size_t)(fl.sub.end - fl.sub.p);
            memcpy(w, fl.sub.p, len);
            w[len] = '\0';
            s->st[s->nst++] = w;
            w += len + 1;
        }
    return true;
}

/* Add count objects of kind from first to the runs (extending the last run when it can). */
static void group_add(struct parse *ps, unsigned kind, size_t first, size_t count)
{
    struct osm_pbf_block *b = ps->b;
    struct osm_pbf_group *last = b->ngroup ? &b->groups[b->ngroup - 1] : NULL;
    if (last && last->kind == kind && last->first + last->count == first) {
        last->count += count;
        return;
    }
    VEC_GROW(b->groups, b->ngroup, ps->s->group_cap);
    b->groups[b->ngroup++] = (struct osm_pbf_group){kind, first, count};
}

/* Append tag (key, value) by string index. */
static inline bool tag_add(struct parse *ps, uint64_t k, uint64_t v)
{
    struct osm_pbf_store *s = ps->s;
    if (k >= s->nst || v >= s->nst)
        return fail(ps, "string index out of range");
    VEC_GROW(s->tags, s->ntag, s->tag_cap);
    s->tags[s->ntag++] = (struct osm_tag){s->st[k], s->st[v]};
    return true;
}

/* Append the tags of packed keys and values; set *count. */
static bool tags_kv(struct parse *ps, struct pb keys, struct pb vals, int *count)
{
    size_t nk = pb_count(keys), nv = pb_count(vals);
    if (nk == SIZE_MAX || nv == SIZE_MAX || nk != nv)
        return fail(ps, "keys and values differ in number");
    if (!items_add(ps, nk))
        return false;
    for (size_t i = 0; i < nk; i++) {
        uint64_t k, v;
        if (!pb_varint(&keys, &k) || !pb_varint(&vals, &v) || !tag_add(ps, k, v))
            return fail(ps, "corrupt tags");
    }
    *count = (int)nk;
    return true;
}

/* Degrees from a stored coordinate; NaN when the arithmetic overflows (an invalid node). */
static inline double coord(int64_t offset, int32_t gran, int64_t v)
{
    int64_t m, sum;
    if (__builtin_mul_overflow((int64_t)gran, v, &m) || __builtin_add_overflow(offset, m, &sum))
        return NAN;
    return (double)sum / 1e9;
}

static bool parse_dense(struct parse *ps, struct pb msg)
{
    struct osm_pbf_block *b = ps->b;
    struct osm_pbf_store *s = ps->s;
    struct pb ids = {0}, lats = {0}, lons = {0}, kv = {0};
    unsigned seen = 0;
    struct pb_field fl;
    int rc;
    while ((rc = pb_next(&msg, &fl)) > 0) {
        struct pb *to = fl.num == 1    ? &ids
                        : fl.num == 8  ? &lats
                        : fl.num == 9  ? &lons
                        : fl.num == 10 ? &kv
                                       : NULL;
        if (!to)
            continue;
        if (fl.wt != WT_LEN || (seen & (1u << fl.num)))
            return fail(ps, "dense nodes: unsupported encoding of a field");
        seen |= 1u << fl.num;
        *to = fl.sub;
    }
    if (rc < 0)
        return fail(ps, "corrupt dense nodes");
    size_t n = pb_count(ids);
    if (n == SIZE_MAX || n != pb_count(lats) || n != pb_count(lons))
        return fail(ps, "dense nodes: ids, latitudes and longitudes differ in number");
    if (!items_add(ps, n))
        return false;
    VEC_RESERVE(b->nodes, b->nnode + n, s->node_cap);
    int64_t id = 0, lat = 0, lon = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pb_delta(&ids, &id) || !pb_delta(&lats, &lat) || !pb_delta(&lons, &lon))
            return fail(ps, "corrupt dense nodes");
        struct osm_node *nd = &b->nodes[b->nnode];
        nd->id = id;
        nd->latitude = coord(s->lat_offset, s->granularity, lat);
        nd->longitude = coord(s->lon_offset, s->granularity, lon);
        osm_node_fix7(nd);
        nd->tag_count = 0;
        nd->tags = NULL;
        nd->mark = 0;
        /* keys_vals: key, value pairs ending with 0 per node; a key without value is dropped */
        while (kv.p < kv.end) {
            uint64_t k, v;
            if (!pb_varint(&kv, &k))
                return fail(ps, "corrupt dense node tags");
            if (k == 0)
                break;
            if (!pb_varint(&kv, &v))
                return fail(ps, "corrupt dense node tags");
            if (v == 0)
                break;
            if (!items_add(ps, 1) || !tag_add(ps, k, v))
                return false;
            nd->tag_count++;
        }
        b->nnode++;
    }
    if (n)
        group_add(ps, OSM_PBF_NODES, b->nnode - n, n);
    return true;
}

/*
 * The fields 1..10 of a Node, Way or Relation message: the last varint and the last byte run
 * of each number (fields of another wire type or number are skipped, as the format allows).
 */
enum { ELEM_FIELDS = 11 };
struct elem {
    uint64_t v[ELEM_FIELDS];
    struct pb sub[ELEM_FIELDS];
};

/*
 * Scan msg into *e and start the element every kind shares: count it, decode its id (zigzag
 * for nodes) and append its tags (fields 2 and 3) with *tag_count set. what names the kind in
 * the error of a malformed message.
 */
static bool elem_begin(struct parse *ps, struct pb msg, const char *what, struct elem *e,
                       int *tag_count)
{
    struct pb_field fl;
    int rc;
    memset(e, 0, sizeof(*e));
    while ((rc = pb_next(&msg, &fl)) > 0) {
        if (fl.num >= ELEM_FIELDS)
            continue;
        if (fl.wt == WT_VARINT)
            e->v[fl.num] = fl.v;
        else if (fl.wt == WT_LEN)
            e->sub[fl.num] = fl.sub;
    }
    if (rc < 0)
        return fail(ps, what);
    return items_add(ps, 1) && tags_kv(ps, e->sub[2], e->sub[3], tag_count);
}

static bool parse_node(struct parse *ps, struct pb msg)
{
    struct osm_pbf_block *b = ps->b;
    struct osm_pbf_store *s = ps->s;
    struct elem e;
    VEC_GROW(b->nodes, b->nnode, s->node_cap);
    struct osm_node *nd = &b->nodes[b->nnode];
    nd->tags = NULL;
    nd->mark = 0;
    if (!elem_begin(ps, msg, "corrupt node", &e, &nd->tag_count))
        return false;
    nd->id = zigzag(e.v[1]);
    nd->latitude = coord(s->lat_offset, s->granularity, zigzag(e.v[8]));
    nd->longitude = coord(s->lon_offset, s->granularity, zigzag(e.v[9]));
    osm_node_fix7(nd);
    group_add(ps, OSM_PBF_NODES, b->nnode, 1);
    b->nnode++;
    return true;
}

static bool parse_way(struct parse *ps, struct pb msg)
{
    struct osm_pbf_block *b = ps->b;
    struct osm_pbf_store *s = ps->s;
    struct elem e;
    VEC_GROW(b->ways, b->nway, s->way_cap);
    struct osm_way *w = &b->ways[b->nway];
    w->tags = NULL;
    w->node_refs = NULL;
    w->mark = 0;
    if (!elem_begin(ps, msg, "corrupt way", &e, &w->tag_count))
        return false;
    w->id = (int64_t)e.v[1];
    struct pb refs = e.sub[8];
    size_t n = pb_count(refs);
    if (n == SIZE_MAX)
        return fail(ps, "corrupt way node list");
    if (!items_add(ps, n))
        return false;
    VEC_RESERVE(s->refs, s->nref + n, s->ref_cap);
    int64_t ref = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pb_delta(&refs, &ref))
            return fail(ps, "corrupt way node list");
        s->refs[s->nref++] = ref;
    }
    w->node_ref_count = (int)n;
    group_add(ps, OSM_PBF_WAYS, b->nway, 1);
    b->nway++;
    return true;
}

static bool parse_relation(struct parse *ps, struct pb msg)
{
    struct osm_pbf_block *b = ps->b;
    struct osm_pbf_store *s = ps->s;
    struct elem e;
    VEC_GROW(b->rels, b->nrel, s->rel_cap);
    struct osm_relation *r = &b->rels[b->nrel];
    r->tags = NULL;
    r->members = NULL;
    if (!elem_begin(ps, msg, "corrupt relation", &e, &r->tag_count))
        return false;
    r->id = (int64_t)e.v[1];
    struct pb roles = e.sub[8], ids = e.sub[9], types = e.sub[10];
    size_t n = pb_count(ids);
    if (n == SIZE_MAX || n != pb_count(roles) || n != pb_count(types))
        return fail(ps, "relation: member ids, roles and types differ in number");
    if (!items_add(ps, n))
        return false;
    VEC_RESERVE(s->mems, s->nmem + n, s->mem_cap);
    int64_t ref = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t role, type;
        if (!pb_delta(&ids, &ref) || !pb_varint(&roles, &role) || !pb_varint(&types, &type))
            return fail(ps, "corrupt relation members");
        if (role >= s->nst)
            return fail(ps, "string index out of range");
        s->mems[s->nmem++] =
            (struct osm_member){type <= 2 ? (int)type : OSM_MEMBER_OTHER, ref, s->st[role]};
    }
    r->member_count = (int)n;
    group_add(ps, OSM_PBF_RELATIONS, b->nrel, 1);
    b->nrel++;
    return true;
}

/* A PrimitiveGroup: note the kinds it holds, decode those in want. */
static bool parse_group(struct parse *ps, struct pb g, unsigned want)
{
    struct pb_field fl;
    int rc;
    while ((rc = pb_next(&g, &fl)) > 0) {
        if (fl.wt != WT_LEN || fl.num < 1 || fl.num > 4)
            continue; /* 5: changesets */
        unsigned kind = fl.num <= 2   ? OSM_PBF_NODES
                        : fl.num == 3 ? OSM_PBF_WAYS
                                      : OSM_PBF_RELATIONS;
        ps->b->kinds |= kind;
        if (!(want & kind))
            continue;
        bool ok = fl.num == 1   ? parse_node(ps, fl.sub)
                  : fl.num == 2 ? parse_dense(ps, fl.sub)
                  : fl.num == 3 ? parse_way(ps, fl.sub)
                                : parse_relation(ps, fl.sub);
        if (!ok)
            return false;
    }
    return rc == 0 || fail(ps, "corrupt primitive group");
}

/* Give every object its tags, refs and members: they were appended in object order. An array
 * nothing was appended to may be NULL, and NULL + 0 is undefined: such pointers stay NULL. */
static void fix_pointers(struct osm_pbf_block *b, struct osm_pbf_store *s)
{
    size_t t = 0, r = 0, m = 0;
    for (size_t g = 0; g < b->ngroup; g++) {
        const struct osm_pbf_group *gr = &b->groups[g];
        for (size_t i = gr->first; i < gr->first + gr->count; i++) {
            if (gr->kind == OSM_PBF_NODES) {
                b->nodes[i].tags = s->tags ? s->tags + t : NULL;
                t += (size_t)b->nodes[i].tag_count;
            } else if (gr->kind == OSM_PBF_WAYS) {
                b->ways[i].tags = s->tags ? s->tags + t : NULL;
                t += (size_t)b->ways[i].tag_count;
                b->ways[i].node_refs = s->refs ? s->refs + r : NULL;
                r += (size_t)b->ways[i].node_ref_count;
            } else {
                b->rels[i].tags = s->tags ? s->tags + t : NULL;
                t += (size_t)b->rels[i].tag_count;
                b->rels[i].members = s->mems ? s->mems + m : NULL;
                m += (size_t)b->rels[i].member_count;
            }
        }
    }
}

/* Parse a PrimitiveBlock; return NULL or why it is corrupt. */
static const char *block_parse(const unsigned char *data, size_t n, unsigned want,
                               struct osm_pbf_block *b)
{
    if (!b->store)
        b->store = xcalloc(1, sizeof(*b->store));
    struct osm_pbf_store *s = b->store;
    b->kinds = 0;
    b->ngroup = b->nnode = b->nway = b->nrel = 0;
    s->nst = s->ntag = s->nref = s->nmem = s->items = 0;
    s->granularity = 100;
    s->lat_offset = s->lon_offset = 0;
    struct parse ps = {b, s, NULL};
    /* First the fields the groups depend on (they may come after the groups). */
    struct pb blk = {data, data + n}, strings = {NULL, NULL};
    struct pb_field fl;
    int rc;
    while ((rc = pb_next(&blk, &fl)) > 0) {
        if (fl.num == 1 && fl.wt == WT_LEN)
            strings = fl.sub;
        else if (fl.num == 17 && fl.wt == WT_VARINT)
            s->granularity = (int32_t)fl.v;
        else if (fl.num == 19 && fl.wt == WT_VARINT)
            s->lat_offset = (int64_t)fl.v;
        else if (fl.num == 20 && fl.wt == WT_VARINT)
            s->lon_offset = (int64_t)fl.v;
    }
    if (rc < 0)
        return "corrupt primitive block";
    if (s->granularity <= 0)
        return "granularity is not positive";
    if (strings.p && !parse_strings(&ps, strings))
        return ps.why;
    blk = (struct pb){data, data + n};
    while (pb_next(&blk, &fl) > 0)
        if (fl.num == 2 && fl.wt == WT_LEN && !parse_group(&ps, fl.sub, want))
            return ps.why;
    fix_pointers(b, s);
    return NULL;
}

int osm_pbf_block_parse(const unsigned char *data, size_t n, unsigned want, struct osm_pbf_block *b,
                        char *err, size_t errlen)
{
    const char *why = block_parse(data, n, want, b);
    if (why) {
        gb_errf(err, errlen, "osm: corrupt primitive block: %s", why);
        return GB_ECORRUPT;
    }
    return 0;
}

int osm_pbf_block_decode(const struct osm_pbf *f, struct osm_pbf_decoder *d, size_t i,
                         unsigned want, struct osm_pbf_block *b, char *err, size_t errlen)
{
    if (!b->store)
        b->store = xcalloc(1, sizeof(*b->store));
    b->index = i;
    const struct frame *fr = &f->blocks[i];
    const unsigned char *data;
    size_t n;
    int rc = blob_read(f, d, fr->off, fr->size, b->store, &data, &n, err, errlen);
    if (rc < 0)
        return rc;
    const char *why = block_parse(data, n, want, b);
    if (why) {
        gb_errf(err, errlen, "osm: %s: corrupt PBF: block at byte %lld: %s", f->path,
                (long long)fr->off, why);
        return GB_ECORRUPT;
    }
    return 0;
}

void osm_pbf_block_release(struct osm_pbf_block *b)
{
    struct osm_pbf_store *s = b->store;
    if (s) {
        free(s->blob);
        free(s->raw);
        free(s->strs);
        free(s->st);
        free(s->tags);
        free(s->refs);
        free(s->mems);
        free(s);
    }
    free(b->groups);
    free(b->nodes);
    free(b->ways);
    free(b->rels);
    if (b->caller_free)
        b->caller_free(b->caller);
    memset(b, 0, sizeof(*b));
}

/* ---- the pipeline ------------------------------------------------------------------------ */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

struct slot {
    struct osm_pbf_block b;
    int state;
    int rc;
    char err[256];
};

struct run {
    const struct osm_pbf *f; /* read-only while workers run */
    const size_t *order;
    size_t n;
    unsigned want;
    osm_pbf_prep_fn prep;
    const void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a slot was freed, or stop */
    pthread_cond_t done; /* a slot became ready */
    size_t next_claim, next_deliver, nslot;
    bool stop;
    struct slot *slots;
};

struct worker_arg {
    struct run *r;
    unsigned i;
};

/* Whether a block may be claimed for decoding: one is left, and it would find a slot (at most
 * nslot blocks past the next to deliver are decoded ahead). Under r->mu. */
static bool can_claim(const struct run *r)
{
    return r->next_claim < r->n && r->next_claim < r->next_deliver + r->nslot;
}

/* Claim the next block, decode it and prepare it on this thread (worker me, decoder d) into
 * its slot. Called and returns under r->mu, which it releases while it works. */
static void decode_next(struct run *r, unsigned me, struct osm_pbf_decoder *d)
{
    size_t pos = r->next_claim++;
    struct slot *s = &r->slots[pos % r->nslot];
    s->state = SLOT_BUSY;
    pthread_mutex_unlock(&r->mu);
    s->err[0] = '\0';
    int rc = osm_pbf_block_decode(r->f, d, r->order[pos], r->want, &s->b, s->err, sizeof(s->err));
    if (rc == 0 && r->prep)
        r->prep(r->ctx, me, &s->b);
    pthread_mutex_lock(&r->mu);
    s->rc = rc;
    s->state = SLOT_READY;
}

static void *worker(void *arg)
{
    struct run *r = ((struct worker_arg *)arg)->r;
    unsigned me = ((struct worker_arg *)arg)->i;
    struct osm_pbf_decoder *d = osm_pbf_decoder_new();
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->next_claim < r->n && !can_claim(r))
            pthread_cond_wait(&r->work, &r->mu);
        if (r->stop || r->next_claim >= r->n)
            break;
        decode_next(r, me, d);
        /* woken after the unlock, the consumer does not wait for the lock at once */
        pthread_mutex_unlock(&r->mu);
        pthread_cond_signal(&r->done);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    osm_pbf_decoder_free(d);
    return NULL;
}

/* A block for a run: one a run before left (its buffers grown), else an empty one. */
static struct osm_pbf_block block_take(struct osm_pbf *f)
{
    struct osm_pbf_block b = {0};
    if (f->nspare)
        b = f->spare[--f->nspare];
    return b;
}

/* Keep b's buffers for the next run; what its preparer kept is freed (another run's preparer
 * keeps something else). */
static void block_keep(struct osm_pbf *f, struct osm_pbf_block *b)
{
    if (b->caller_free)
        b->caller_free(b->caller);
    b->caller = NULL;
    b->caller_free = NULL;
    VEC_GROW(f->spare, f->nspare, f->spare_cap);
    f->spare[f->nspare++] = *b;
    memset(b, 0, sizeof(*b));
}

/* One thread: decode and consume in turn. */
static int run_inline(struct osm_pbf *f, const size_t *order, size_t n, unsigned want,
                      osm_pbf_prep_fn prep, osm_pbf_block_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    struct osm_pbf_decoder *d = osm_pbf_decoder_new();
    struct osm_pbf_block b = block_take(f);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = osm_pbf_block_decode(f, d, order[i], want, &b, err, errlen);
        if (rc == 0 && prep)
            prep(ctx, 0, &b);
        if (rc == 0)
            rc = fn(ctx, &b);
    }
    block_keep(f, &b);
    osm_pbf_decoder_free(d);
    return rc > 0 ? 0 : rc;
}

int osm_pbf_run(struct osm_pbf *f, const size_t *order, size_t n, unsigned want, unsigned threads,
                osm_pbf_prep_fn prep, osm_pbf_block_fn fn, void *ctx, char *err, size_t errlen)
{
    if (threads > OSM_PBF_MAX_THREADS)
        threads = OSM_PBF_MAX_THREADS;
    if (threads <= 1 || n <= 1)
        return run_inline(f, order, n, want, prep, fn, ctx, err, errlen);
    struct run r = {.f = f,
                    .order = order,
                    .n = n,
                    .want = want,
                    .prep = prep,
                    .ctx = ctx,
                    .nslot = threads + 2};
    r.slots = xcalloc(r.nslot, sizeof(*r.slots));
    for (size_t i = 0; i < r.nslot; i++)
        r.slots[i].b = block_take(f);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.work, NULL);
    pthread_cond_init(&r.done, NULL);
    /* threads - 1 workers decode ahead; this thread is the last decoder: while the block it
     * is to consume next is not ready, it decodes the next one not yet claimed instead of
     * waiting (no more threads than cores at work, and fewer sleeps and wake-ups) */
    pthread_t tid[OSM_PBF_MAX_THREADS];
    struct worker_arg wa[OSM_PBF_MAX_THREADS];
    unsigned started = 0;
    for (; started + 1 < threads; started++) {
        wa[started] = (struct worker_arg){&r, started};
        if (pthread_create(&tid[started], NULL, worker, &wa[started]) != 0)
            break; /* fewer workers: this thread decodes the rest */
    }
    struct osm_pbf_decoder *d = osm_pbf_decoder_new();
    int rc = 0;
    for (size_t pos = 0; pos < n && rc == 0; pos++) {
        struct slot *s = &r.slots[pos % r.nslot];
        pthread_mutex_lock(&r.mu);
        while (s->state != SLOT_READY) {
            if (can_claim(&r))
                decode_next(&r, threads - 1, d);
            else
                pthread_cond_wait(&r.done, &r.mu);
        }
        pthread_mutex_unlock(&r.mu);
        if (s->rc < 0) {
            rc = s->rc;
            gb_errf(err, errlen, "%s", s->err);
            break;
        }
        rc = fn(ctx, &s->b);
        pthread_mutex_lock(&r.mu);
        s->state = SLOT_FREE;
        r.next_deliver++;
        pthread_mutex_unlock(&r.mu);
        pthread_cond_signal(&r.work); /* one slot: one worker */
    }
    pthread_mutex_lock(&r.mu);
    r.stop = true;
    pthread_cond_broadcast(&r.work);
    pthread_mutex_unlock(&r.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (size_t i = 0; i < r.nslot; i++)
        block_keep(f, &r.slots[i].b);
    free(r.slots);
    osm_pbf_decoder_free(d);
    pthread_cond_destroy(&r.work);
    pthread_cond_destroy(&r.done);
    pthread_mutex_destroy(&r.mu);
    return rc > 0 ? 0 : rc;
}
