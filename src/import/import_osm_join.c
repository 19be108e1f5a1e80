/*
 * import_osm_join.c - the ways' points by a join: instead of looking up each node of a way as
 * pass 2 reads it (a random access into the node file: once the file is larger than the pages
 * it may keep mapped, a fault a window), pass 2 logs the way without its points and adds its
 * node references here, numbered in the order they come (seq). The node file is cut into ranges
 * that fit the mapped budget (osm_nodes_split), and
 *   1. each reference goes to its range's spool as (id, seq) while pass 2 reads;
 *   2. after the last pass the ranges are looked up one after another (on as many threads as
 *      decode, each taking the next range, when the store is sealed: the ranges are cut at the
 *      budget over the threads), so the windows each one maps fit the budget and are faulted in
 *      once; every location found goes, as (seq, location), to the spool of its slice of seq (a
 *      slice is as many points as an array of memory / 8 bytes holds; a thread a set);
 *   3. the log is read and written again: each slice in turn is placed in that array by seq, and
 *      each deferred way takes its points from it (the ones found, in its own order), its point
 *      (the rule the lookups use) and, when none of its nodes is in the file, is skipped as the
 *      lookups would have skipped it.
 * No sort: every reference is written and read twice, in order (a spool is a buffer of its
 * share of memory / 8, then a temporary file in tmpdir), and looked up once; the work does not
 * depend on how large the node file is beside the memory. The records are the same as with the
 * lookups (test/e2e/import_memory.sh, test_osm_pbf): a way gets the nodes that came before it.
 * In a sorted file every node comes before the ways; in an unsorted one, a block of nodes after
 * ways runs the join at once, for the ways deferred so far, and the ways after it are looked
 * up. The skip of a way without any of its nodes is counted when the join runs, after the
 * passes' own skips before it, so the first reason an import reports may differ.
 *
 * Thread safety: called from the passes' thread. Step 2 starts threads of its own and joins them
 * before step 3; each reads its ranges' spools (one thread a range) and writes its own set of
 * the slices' spools, through a reader of the sealed store.
 */
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/xsort.h"
#include "import/import_osm_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_MIN ((size_t)64 << 10) /* a spool's buffer at least */

/* Records of one size appended in memory up to max bytes, then through that buffer to an
 * anonymous temporary file, and read back in the order they came. */
struct spool {
    char *buf;
    size_t len, cap, max;
    int fd; /* -1 while every record is in buf */
    uint64_t flen;
    uint64_t pos; /* reading: the file's next byte */
    size_t at;    /* reading: the next record in buf */
};

static void spool_init(struct spool *sp, size_t max, size_t size)
{
    memset(sp, 0, sizeof(*sp));
    sp->max = max / size * size;
    sp->fd = -1;
}

static void spool_release(struct spool *sp)
{
    free(sp->buf);
    if (sp->fd >= 0)
        close(sp->fd);
    spool_init(sp, 0, 1);
}

static int spool_add(struct spool *sp, const char *dir, const void *rec, size_t size)
{
    if (sp->len + size > sp->cap) {
        if (sp->cap < sp->max) {
            size_t cap = sp->cap ? sp->cap * 2 : 4096 / size * size;
            sp->cap = cap < sp->max ? cap : sp->max;
            sp->buf = xrealloc(sp->buf, sp->cap);
        } else {
            int rc = xs_append(dir, &sp->fd, sp->buf, sp->len, &sp->flen);
            if (rc < 0)
                return rc;
            sp->len = 0;
        }
    }
    memcpy(sp->buf + sp->len, rec, size);
    sp->len += size;
    return 0;
}

/* Before the first spool_next(): what is left in memory goes to the file, if there is one. */
static int spool_rewind(struct spool *sp, const char *dir)
{
    sp->pos = 0;
    sp->at = 0;
    if (sp->fd < 0)
        return 0;
    int rc = xs_append(dir, &sp->fd, sp->buf, sp->len, &sp->flen);
    sp->len = 0;
    return rc;
}

/* The next record (valid until the next call), or NULL at the end; *rc: 0 or -errno. */
static const void *spool_next(struct spool *sp, size_t size, int *rc)
{
    if (sp->at + size > sp->len) {
        if (sp->fd < 0 || sp->pos >= sp->flen)
            return NULL;
        uint64_t left = sp->flen - sp->pos;
        size_t want = left < sp->cap ? (size_t)left : sp->cap;
        ssize_t got = fs_pread_full(sp->fd, sp->buf, want, sp->pos);
        if (got < (ssize_t)want) {
            *rc = got < 0 ? (int)got : -EIO;
            return NULL;
        }
        sp->pos += want;
        sp->len = want;
        sp->at = 0;
    }
    const void *r = sp->buf + sp->at;
    sp->at += size;
    return r;
}

struct osm_join {
    char tmpdir[PATH_MAX];
    uint64_t memory;
    size_t map_budget;
    unsigned threads; /* looking up at once, when the node store has readers */
    int64_t *bounds;  /* range i + 1 of the node file starts at node bounds[i] */
    size_t nrange;
    struct spool *in; /* a range's references: struct jref */
    size_t last;      /* the range of the last reference */
    uint64_t n;       /* references added: the next seq */
    uint64_t ways;    /* ways deferred */
};

struct jref {
    int64_t id;
    uint64_t seq;
};

struct jpt {
    uint64_t seq;
    struct osm_ll ll;
};

struct osm_join *osm_join_new(const char *tmpdir, uint64_t memory, const struct osm_nodes *nodes,
                              size_t map_budget, unsigned threads)
{
    struct osm_join *j = xcalloc(1, sizeof(*j));
    snprintf(j->tmpdir, sizeof(j->tmpdir), "%s", tmpdir);
    j->memory = memory;
    j->map_budget = map_budget;
    j->threads = threads ? threads : 1;
    /* as many ranges as there are threads fit the budget together */
    j->bounds = osm_nodes_split(nodes, map_budget / j->threads, &j->nrange);
    j->in = xcalloc(j->nrange, sizeof(*j->in));
    size_t share = (size_t)(memory / 8 / j->nrange);
    for (size_t i = 0; i < j->nrange; i++)
        spool_init(&j->in[i], share > SPOOL_MIN ? share : SPOOL_MIN, sizeof(struct jref));
    return j;
}

void osm_join_free(struct osm_join *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nrange; i++)
        spool_release(&j->in[i]);
    free(j->in);
    free(j->bounds);
    free(j);
}

/* The range of the node file that would hold id: the last one's, or a binary search. */
static size_t range_of(struct osm_join *j, int64_t id)
{
    size_t r = j->last;
    if ((r == 0 || j->bounds[r - 1] <= id) && (r + 1 == j->nrange || id < j->bounds[r]))
        return r;
    size_t lo = 0, hi = j->nrange - 1; /* ranges whose start is <= id: bounds[0..lo) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->bounds[mid] <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return j->last = lo;
}

int osm_join_add(struct osm_join *j, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct jref r = {ids[i], j->n++};
        int rc = spool_add(&j->in[range_of(j, ids[i])], j->tmpdir, &r, sizeof(r));
        if (rc < 0)
            return rc;
    }
    j->ways++;
    return 0;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The points by slice of seq: slice q is points [q * size, (q + 1) * size), spooled to
 * sp[t * n + q] by lookup thread t (sets of them), then placed in at by seq. */
struct slices {
    struct spool *sp;
    size_t n;
    unsigned sets;
    uint64_t size;
    struct osm_ll *at; /* size locations; INT32_MIN latitude: not found */
    uint64_t loaded;   /* the slice in at, or UINT64_MAX */
};

/* Step 2 on one thread (the passes' own, or one more): ranges taken in turn from next, the
 * references in their spools in[] looked up through rd (NULL: the store itself, on the passes'
 * thread), each location put at to[seq] (INT32_MIN latitude: not found) or, when to is NULL,
 * each found one spooled to out, this thread's set of the slices' spools (slice points a
 * slice). */
struct lookup_work {
    struct osm *o;
    struct osm_join *j;
    struct spool *in;
    struct osm_ll *to;
    struct osm_nodes_reader *rd;
    struct spool *out;
    uint64_t slice;
    size_t *next; /* the next range to take (atomic) */
    uint64_t found;
    int rc;
};

static void *lookup_ranges(void *arg)
{
    struct lookup_work *w = arg;
    struct osm_join *j = w->j;
    size_t i;
    while (w->rc == 0 && (i = __atomic_fetch_add(w->next, 1, __ATOMIC_RELAXED)) < j->nrange) {
        struct spool *in = &w->in[i];
        int rc = spool_rewind(in, j->tmpdir);
        const struct jref *r;
        while (rc == 0 && (r = spool_next(in, sizeof(*r), &rc)) != NULL) {
            struct jpt p = {r->seq, {INT32_MIN, 0}};
            bool got = w->rd ? osm_nodes_reader_get(w->rd, r->id, &p.ll.lat, &p.ll.lon)
                             : osm_nodes_get(w->o->nodes, r->id, &p.ll.lat, &p.ll.lon);
            w->found += got;
            if (w->to)
                w->to[r->seq] = got ? p.ll : (struct osm_ll){INT32_MIN, 0};
            else if (got)
                rc = spool_add(&w->out[r->seq / w->slice], j->tmpdir, &p, sizeof(p));
        }
        spool_release(in); /* its memory and file go before the next range's */
        w->rc = rc;
    }
    return NULL;
}

/* Step 2: the references in the range spools in[] looked up, into to (see struct lookup_work) or
 * else into sl, on up to sl->sets threads (the store's readers, when it is sealed; else on this
 * thread alone). Return 0 or -errno. */
static int join_lookup(struct osm *o, struct osm_join *j, struct spool *in, struct osm_ll *to,
                       struct slices *sl, uint64_t *found)
{
    struct lookup_work w[OSM_PBF_MAX_THREADS];
    pthread_t tid[OSM_PBF_MAX_THREADS];
    size_t next = 0;
    unsigned n = to ? 1 : sl->sets, started = 1;
    for (unsigned t = 0; t < n; t++) {
        w[t] = (struct lookup_work){.o = o, .j = j, .in = in, .to = to, .next = &next};
        if (!to) {
            w[t].out = sl->sp + (size_t)t * sl->n;
            w[t].slice = sl->size;
        }
        if (n > 1 && !(w[t].rd = osm_nodes_reader_new(o->nodes, j->map_budget)))
            n = 1; /* not sealed (nodes after ways): the store itself, on this thread */
    }
    if (n == 1) {
        osm_nodes_reader_free(w[0].rd);
        w[0].rd = NULL;
    }
    for (unsigned t = 1; t < n && started == t; t++)
        if (pthread_create(&tid[t], NULL, lookup_ranges, &w[t]) == 0)
            started = t + 1; /* else the threads that started take every range */
    lookup_ranges(&w[0]);
    int rc = 0;
    for (unsigned t = 0; t < n; t++) {
        if (t > 0 && t < started)
            pthread_join(tid[t], NULL);
        osm_nodes_reader_free(w[t].rd);
        if (t < started) {
            *found += w[t].found;
            rc = rc ? rc : w[t].rc;
        }
    }
    return rc;
}

/* Slice q of the points into sl->at, from every set's spool of it. */
static int slice_load(struct osm_join *j, struct slices *sl, uint64_t q)
{
    for (uint64_t i = 0; i < sl->size; i++)
        sl->at[i].lat = INT32_MIN;
    int rc = 0;
    for (unsigned t = 0; t < sl->sets && rc == 0; t++) {
        struct spool *sp = &sl->sp[t * sl->n + q];
        rc = spool_rewind(sp, j->tmpdir);
        const struct jpt *p;
        while (rc == 0 && (p = spool_next(sp, sizeof(*p), &rc)) != NULL)
            sl->at[p->seq - q * sl->size] = p->ll;
        spool_release(sp);
    }
    sl->loaded = q;
    return rc;
}

/* Step 3: the log again, each deferred way with its points, into nl. */
static int join_rewrite(struct osm *o, struct osm_join *j, struct slices *sl, struct osm_pend *nl)
{
    uint64_t seq = 0;
    int rc = osm_pend_rewind(&o->plog);
    struct pend_view v;
    while (rc == 0 && (rc = osm_pend_next(&o->plog, &v)) > 0) {
        rc = 0;
        if (!(v.what & P_JOIN)) {
            rc = osm_pend_put(nl, &v, v.geom, v.geom ? v.ngeom : 0);
            continue;
        }
        o->pts.n = 0;
        for (uint32_t k = 0; k < v.ngeom && rc == 0; k++, seq++) {
            if (seq / sl->size != sl->loaded)
                rc = slice_load(j, sl, seq / sl->size);
            struct osm_ll ll = sl->at[seq % sl->size];
            if (rc == 0 && ll.lat != INT32_MIN)
                *(struct rec_point *)osm_vec_push(&o->pts, 1) = osm_ll_point(ll);
        }
        size_t got = o->pts.n;
        if (rc < 0 || got == 0) {
            if (rc == 0)
                import_stats_skip(o->st, 0, "way without any of its nodes");
            continue;
        }
        const struct rec_point *g = o->pts.p;
        bool closed = v.ngeom >= 4 && v.first == v.last;
        struct rec_point c = osm_way_point(g, got, closed && (v.what & P_ADDR));
        v.what &= (uint8_t)~P_JOIN;
        v.ngeom = (uint32_t)got;
        v.lat = c.lat;
        v.lon = c.lon;
        if (v.what & P_INTERP) {
            *(int64_t *)osm_vec_push(&o->ends, 1) = v.first;
            *(int64_t *)osm_vec_push(&o->ends, 1) = v.last;
        }
        rc = osm_pend_put(nl, &v, g, v.what & (P_STREET | P_INTERP) ? (uint32_t)got : 0);
    }
    o->pts.n = 0;
    return rc;
}

int osm_join_run(struct osm *o)
{
    struct osm_join *j = o->join;
    if (!j)
        return 0;
    o->join = NULL;
    if (j->ways == 0) {
        osm_join_free(j);
        return 0;
    }
    long long t0 = now_ms();
    /* the points of a slice fit an array of memory / 8 bytes; one slice when all of them do */
    struct slices sl = {.size = j->memory / 8 / sizeof(struct osm_ll), .loaded = UINT64_MAX};
    if (sl.size < SPOOL_MIN / sizeof(struct osm_ll))
        sl.size = SPOOL_MIN / sizeof(struct osm_ll);
    if (sl.size > j->n)
        sl.size = j->n;
    sl.n = (size_t)((j->n + sl.size - 1) / sl.size);
    sl.sets = j->threads < j->nrange ? j->threads : (unsigned)j->nrange;
    if (sl.sets > OSM_PBF_MAX_THREADS)
        sl.sets = OSM_PBF_MAX_THREADS;
    size_t nsp = sl.n * sl.sets, share = (size_t)(j->memory / 8 / nsp);
    sl.sp = xcalloc(nsp, sizeof(*sl.sp));
    for (size_t i = 0; i < nsp; i++)
        spool_init(&sl.sp[i], share > SPOOL_MIN ? share : SPOOL_MIN, sizeof(struct jpt));
    uint64_t found = 0;
    int rc = join_lookup(o, j, j->in, NULL, &sl, &found);
    long long t1 = now_ms();
    struct osm_pend nl;
    osm_pend_init(&nl, o->plog.tmpdir, o->plog.limit);
    if (rc < 0) {
        gb_errf(o->err, o->errlen, "osm: %s: cannot keep the ways' node references in %s: %s",
                o->path, j->tmpdir, gb_strerror(rc));
    } else {
        sl.at = xmallocarray(sl.size, sizeof(*sl.at));
        if ((rc = join_rewrite(o, j, &sl, &nl)) < 0)
            gb_errf(o->err, o->errlen, "osm: %s: %s", o->path,
                    nl.err[0]        ? nl.err
                    : o->plog.err[0] ? o->plog.err
                                     : gb_strerror(rc));
    }
    if (rc == 0) {
        osm_pend_release(&o->plog);
        o->plog = nl;
        log_info("osm join file=%s ways=%llu refs=%llu found=%llu ranges=%zu slices=%zu "
                 "threads=%u lookup_ms=%lld rewrite_ms=%lld ms=%lld",
                 o->path, (unsigned long long)j->ways, (unsigned long long)j->n,
                 (unsigned long long)found, j->nrange, sl.n, sl.sets, t1 - t0, now_ms() - t1,
                 now_ms() - t0);
    } else {
        osm_pend_release(&nl);
    }
    for (size_t i = 0; i < nsp; i++)
        spool_release(&sl.sp[i]);
    free(sl.sp);
    free(sl.at);
    osm_join_free(j);
    return rc;
}

int osm_join_wanted(struct osm *o)
{
    struct osm_join *j = o->join;
    if (!j || o->refs.n == 0)
        return 0;
    long long t0 = now_ms();
    struct spool *in = xcalloc(j->nrange, sizeof(*in));
    size_t share = (size_t)(j->memory / 8 / j->nrange);
    for (size_t i = 0; i < j->nrange; i++)
        spool_init(&in[i], share > SPOOL_MIN ? share : SPOOL_MIN, sizeof(struct jref));
    const int64_t *refs = o->refs.p;
    int rc = 0;
    for (size_t i = 0; i < o->refs.n && rc == 0; i++) {
        struct jref r = {refs[i], i};
        rc = spool_add(&in[range_of(j, refs[i])], j->tmpdir, &r, sizeof(r));
    }
    uint64_t found = 0;
    if (rc == 0)
        rc = join_lookup(o, j, in, osm_vec_push(&o->ref_ll, o->refs.n), NULL, &found);
    for (size_t i = 0; i < j->nrange; i++)
        spool_release(&in[i]);
    free(in);
    if (rc < 0) {
        osm_vec_release(&o->ref_ll);
        gb_errf(o->err, o->errlen, "osm: %s: cannot keep the boundaries' node references in %s: %s",
                o->path, j->tmpdir, gb_strerror(rc));
        return rc;
    }
    log_info("osm join file=%s boundary_refs=%zu found=%llu ms=%lld", o->path, o->refs.n,
             (unsigned long long)found, now_ms() - t0);
    return 0;
}
