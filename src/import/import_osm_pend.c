/*
 * import_osm_pend.c - the log of pending objects: every object that will become a record
 * (address, street, interpolation, place) is written here when the passes meet it, and read
 * back, in the same order, when the records are emitted.
 *
 * A pending object is needed only at the end, once every boundary is known, so it need not stay
 * in memory: at planet size they are a few hundred million (the reader's largest memory after
 * the node locations). Records are appended to a buffer; when the buffer passes
 * PEND_BUF_BYTES (16 MiB) it goes to a temp file (unlinked at once), so small imports never
 * touch the disk. A record is 8-byte aligned: a head (struct pend_head), the kept geometry, the
 * tags as (key, value) offsets, the strings; read back it is a struct pend_view pointing into it.
 */
#include "base/err.h"
#include "base/mem.h"
#include "import/import_osm_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEND_BUF_BYTES  ((size_t)16 << 20) /* records kept in memory before the file is used */
#define PEND_READ_BYTES ((size_t)1 << 20)

struct pend_head {
    uint64_t len; /* the whole record, padded to 8 bytes */
    int64_t id, first, last;
    double lat, lon;
    uint32_t ntag, ngeom, nstored; /* nstored: points written (streets, interpolations) */
    char type;
    uint8_t what;
    uint8_t pad[2];
};
static_assert(sizeof(struct pend_head) % 8 == 0, "records stay 8-byte aligned");
static_assert(sizeof(struct kv) % 8 == 0 && sizeof(struct rec_point) % 8 == 0, "aligned parts");

void osm_pend_init(struct osm_pend *l, const char *tmpdir, size_t buffer)
{
    memset(l, 0, sizeof(*l));
    l->limit = buffer ? buffer : PEND_BUF_BYTES;
    if (!tmpdir || !*tmpdir)
        tmpdir = getenv("TMPDIR");
    snprintf(l->tmpdir, sizeof(l->tmpdir), "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    l->fd = -1;
}

void osm_pend_release(struct osm_pend *l)
{
    if (l->fd >= 0)
        close(l->fd);
    free(l->buf);
    free(l->rbuf);
    free(l->rec);
    memset(l, 0, sizeof(*l));
    l->fd = -1;
}

/* Write the buffer to the file (made on the first call). */
static int pend_flush(struct osm_pend *l)
{
    if (l->fd < 0) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/gb-pending-XXXXXX", l->tmpdir);
        l->fd = mkostemp(path, O_CLOEXEC);
        if (l->fd < 0) {
            int rc = -errno;
            gb_errf(l->err, sizeof(l->err), "cannot create the pending-object file in %s: %s",
                    l->tmpdir, strerror(errno));
            return rc;
        }
        unlink(path);
    }
    for (size_t done = 0; done < l->n;) {
        ssize_t w = pwrite(l->fd, l->buf + done, l->n - done, (off_t)(l->written + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? -errno : -EIO;
            gb_errf(l->err, sizeof(l->err), "cannot write the pending-object file in %s: %s",
                    l->tmpdir, strerror(-rc));
            return rc;
        }
        done += (size_t)w;
    }
    l->written += l->n;
    l->n = 0;
    return 0;
}

/* Log one record: head h (its len is set here), nstored points of geom, tags t. */
static int pend_write(struct osm_pend *l, struct pend_head *h, const struct rec_point *geom,
                      const struct tagref *t)
{
    size_t strs = 0;
    for (uint32_t i = 0; i < t->n; i++)
        strs += strlen(t->strs + t->kv[i].k) + 1 + strlen(t->strs + t->kv[i].v) + 1;
    size_t len =
        sizeof(*h) + h->nstored * sizeof(struct rec_point) + t->n * sizeof(struct kv) + strs;
    len = (len + 7) & ~(size_t)7;
    if (l->n && l->n + len > l->limit) {
        int rc = pend_flush(l);
        if (rc < 0)
            return rc;
    }
    l->buf = mem_reserve(l->buf, &l->cap, l->n + len, 1);
    unsigned char *w = l->buf + l->n;
    memset(w, 0, len);
    h->len = len;
    h->ntag = t->n;
    memcpy(w, h, sizeof(*h));
    unsigned char *g = w + sizeof(*h);
    if (h->nstored)
        memcpy(g, geom, h->nstored * sizeof(struct rec_point));
    struct kv *kvs = (struct kv *)(void *)(g + h->nstored * sizeof(struct rec_point));
    char *s = (char *)(kvs + t->n), *s0 = s;
    for (uint32_t i = 0; i < t->n; i++) {
        const char *k = t->strs + t->kv[i].k, *v = t->strs + t->kv[i].v;
        size_t kl = strlen(k) + 1, vl = strlen(v) + 1;
        kvs[i].k = (size_t)(s - s0);
        memcpy(s, k, kl);
        s += kl;
        kvs[i].v = (size_t)(s - s0);
        memcpy(s, v, vl);
        s += vl;
    }
    l->n += len;
    l->count++;
    l->bytes += len;
    return 0;
}

int osm_pend_add(struct osm *o, const struct pending *p, bool keep_geom)
{
    struct pend_head h = {.id = p->id,
                          .first = p->first,
                          .last = p->last,
                          .lat = p->lat,
                          .lon = p->lon,
                          .ngeom = p->ngeom,
                          .nstored = keep_geom ? p->ngeom : 0,
                          .type = p->type,
                          .what = p->what};
    struct tagref t = {p->ntag ? &OSM_AT(o->tags, struct kv, p->tag0) : NULL, p->ntag, o->pool};
    const struct rec_point *g = h.nstored ? &OSM_AT(o->pts, struct rec_point, p->geom0) : NULL;
    return pend_write(&o->plog, &h, g, &t);
}

int osm_pend_put(struct osm_pend *l, const struct pend_view *v, const struct rec_point *geom,
                 uint32_t nstored)
{
    struct pend_head h = {.id = v->id,
                          .first = v->first,
                          .last = v->last,
                          .lat = v->lat,
                          .lon = v->lon,
                          .ngeom = v->ngeom,
                          .nstored = nstored,
                          .type = v->type,
                          .what = v->what};
    return pend_write(l, &h, geom, &v->tags);
}

void osm_pend_reader(const struct osm_pend *l, struct osm_pend *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->tmpdir, l->tmpdir, sizeof(r->tmpdir));
    r->fd = l->fd;   /* read with pread at its own position */
    r->buf = l->buf; /* read only */
    r->n = l->n;
    r->written = l->written;
    r->count = l->count;
}

void osm_pend_reader_release(struct osm_pend *r)
{
    free(r->rbuf);
    free(r->rec);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

const char *osm_pend_error(const struct osm_pend *l)
{
    return l->err;
}

int osm_pend_rewind(struct osm_pend *l)
{
    if (l->fd >= 0 && l->n) {
        int rc = pend_flush(l);
        if (rc < 0)
            return rc;
    }
    l->rpos = 0;
    l->rlen = l->roff = 0;
    return 0;
}

/* Copy n bytes at the read position of the file into dst (through the read buffer). */
static int pend_read(struct osm_pend *l, void *dst, size_t n)
{
    unsigned char *d = dst;
    while (n) {
        if (l->roff == l->rlen) {
            if (!l->rbuf)
                l->rbuf = xmalloc(PEND_READ_BYTES);
            uint64_t left = l->written - l->rpos;
            size_t want = left < PEND_READ_BYTES ? (size_t)left : PEND_READ_BYTES;
            ssize_t r = want ? pread(l->fd, l->rbuf, want, (off_t)l->rpos) : 0;
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                int rc = r < 0 ? -errno : -EIO;
                gb_errf(l->err, sizeof(l->err), "cannot read the pending-object file in %s: %s",
                        l->tmpdir, strerror(-rc));
                return rc;
            }
            l->rpos += (uint64_t)r;
            l->rlen = (size_t)r;
            l->roff = 0;
        }
        size_t k = l->rlen - l->roff < n ? l->rlen - l->roff : n;
        memcpy(d, l->rbuf + l->roff, k);
        l->roff += k;
        d += k;
        n -= k;
    }
    return 0;
}

int osm_pend_next(struct osm_pend *l, struct pend_view *v)
{
    const unsigned char *r;
    if (l->fd < 0) { /* everything is in the buffer */
        if (l->rpos == l->n)
            return 0;
        r = l->buf + l->rpos;
        l->rpos += ((const struct pend_head *)(const void *)r)->len;
    } else {
        if (l->rpos == l->written && l->roff == l->rlen)
            return 0;
        struct pend_head h;
        int rc = pend_read(l, &h, sizeof(h));
        if (rc < 0)
            return rc;
        l->rec = mem_reserve(l->rec, &l->rec_cap, h.len, 1);
        memcpy(l->rec, &h, sizeof(h));
        rc = pend_read(l, l->rec + sizeof(h), h.len - sizeof(h));
        if (rc < 0)
            return rc;
        r = l->rec;
    }
    const struct pend_head *h = (const struct pend_head *)(const void *)r;
    v->id = h->id;
    v->type = h->type;
    v->what = h->what;
    v->lat = h->lat;
    v->lon = h->lon;
    v->first = h->first;
    v->last = h->last;
    v->ngeom = h->ngeom;
    const unsigned char *g = r + sizeof(*h);
    v->geom = h->nstored ? (const struct rec_point *)(const void *)g : NULL;
    v->tags.kv = (const struct kv *)(const void *)(g + h->nstored * sizeof(struct rec_point));
    v->tags.n = h->ntag;
    v->tags.strs = (const char *)(v->tags.kv + h->ntag);
    return 1;
}
