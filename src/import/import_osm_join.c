/*
 * import_osm_join.c - the ways' points by a sort-join: instead of looking up each node of a way
 * as pass 2 reads it (a random access into the node file: once the file is larger than the
 * pages it may keep mapped, a fault a window), pass 2 logs the way without its points and adds
 * its node references here, numbered in the order they come (seq). After the last pass:
 *   1. the references are sorted by node id (an external sort, base/xsort.h);
 *   2. the node file is read in that order, each node looked up once, a sequential pass;
 *      every found location goes to a second sorter as (seq, point);
 *   3. that one is sorted by seq, which is the order of the ways in the pending log;
 *   4. the log is read and written again: each deferred way gets its points (the ones found,
 *      in its own order), its point (the same function as the lookups use) and, when none of
 *      its nodes is in the file, is skipped as the lookups would have skipped it.
 * The work does not depend on how large the node file is beside the memory: two sorts of 16 and
 * 24 bytes a reference, spilling to --tmp past the budget, and one pass over the file. The
 * records are the same as with the lookups (test/e2e/import_memory.sh, test_osm_pbf): a way
 * gets the nodes that came before it. In a sorted file every node comes before the ways; in an
 * unsorted one, a block of nodes after ways runs the join at once, for the ways deferred so far,
 * and the ways after it are looked up. The skip of a way without any of its nodes is counted
 * when the join runs, after the passes' own skips before it, so the first reason an import
 * reports may differ.
 *
 * Thread safety: used from the passes' thread only.
 */
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/xsort.h"
#include "import/import_osm_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct osm_join {
    char tmpdir[PATH_MAX];
    struct xs_pool pool;
    struct xsort refs; /* struct jref, added in seq order */
    struct xsort pts;  /* struct jpt, found locations */
    uint64_t n;        /* references added: the next seq */
    uint64_t ways;     /* ways deferred */
};

struct jref {
    int64_t id;
    uint64_t seq;
};

struct jpt {
    uint64_t seq;
    struct rec_point pt;
};

struct osm_join *osm_join_new(const char *tmpdir, uint64_t memory)
{
    struct osm_join *j = xcalloc(1, sizeof(*j));
    j->pool.budget = memory;
    snprintf(j->tmpdir, sizeof(j->tmpdir), "%s", tmpdir);
    j->pool.tmpdir = j->tmpdir;
    xsort_init(&j->refs, "osm node references", &j->pool, sizeof(struct jref));
    xsort_init(&j->pts, "osm way points", &j->pool, sizeof(struct jpt));
    return j;
}

void osm_join_free(struct osm_join *j)
{
    if (!j)
        return;
    xsort_release(&j->refs);
    xsort_release(&j->pts);
    free(j);
}

int osm_join_add(struct osm_join *j, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct jref r = {ids[i], j->n++};
        int rc = xsort_add(&j->refs, &r, sizeof(r));
        if (rc < 0)
            return rc;
    }
    j->ways++;
    return 0;
}

/* The orders: node id (references of one node in any order: what they find goes back by seq);
 * seq (unique). */
static uint64_t ref_key(const void *rec, void *ctx)
{
    (void)ctx;
    return (uint64_t)((const struct jref *)rec)->id ^ (UINT64_C(1) << 63);
}

static uint64_t pt_key(const void *rec, void *ctx)
{
    (void)ctx;
    return ((const struct jpt *)rec)->seq;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Steps 1 and 2: every reference's location, by node id, into j->pts; the milliseconds of the
 * sort and of the lookups to ms[0], ms[1]. */
static int join_lookup(struct osm *o, struct osm_join *j, uint64_t *found, long long ms[2])
{
    long long t0 = now_ms();
    int rc = xsort_sort(&j->refs, NULL, ref_key, NULL);
    ms[0] = now_ms() - t0;
    const struct jref *r;
    int64_t last = 0;
    bool have = false, known = false;
    struct rec_point pt = {0, 0};
    size_t len;
    while (rc == 0 && (r = xsort_next(&j->refs, &len)) != NULL) {
        if (!known || r->id != last) { /* each node once: its references come together */
            have = osm_node_get(o, r->id, &pt);
            last = r->id;
            known = true;
        }
        if (have) {
            struct jpt p = {r->seq, pt};
            rc = xsort_add(&j->pts, &p, sizeof(p));
            (*found)++;
        }
    }
    if (rc == 0)
        rc = j->refs.rc;
    xsort_release(&j->refs); /* its files and buffers go before the second sort */
    ms[1] = now_ms() - t0 - ms[0];
    return rc;
}

/* Step 4: the log again, each deferred way with its points, into nl. */
static int join_rewrite(struct osm *o, struct osm_join *j, struct osm_pend *nl)
{
    int rc = osm_pend_rewind(&o->plog);
    size_t len;
    const struct jpt *cur = rc == 0 ? xsort_next(&j->pts, &len) : NULL;
    uint64_t seq = 0;
    struct pend_view v;
    while (rc == 0 && (rc = osm_pend_next(&o->plog, &v)) > 0) {
        if (!(v.what & P_JOIN)) {
            rc = osm_pend_put(nl, &v, v.geom, v.geom ? v.ngeom : 0);
            continue;
        }
        uint64_t end = seq + v.ngeom;
        o->pts.n = 0;
        for (; cur && cur->seq < end; cur = xsort_next(&j->pts, &len))
            *(struct rec_point *)osm_vec_push(&o->pts, 1) = cur->pt;
        seq = end;
        size_t got = o->pts.n;
        if (got == 0) {
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
    if (rc == 0 && j->pts.rc)
        rc = j->pts.rc;
    return rc;
}

int osm_join_run(struct osm *o)
{
    struct osm_join *j = o->join;
    if (!j)
        return 0;
    if (j->ways == 0) {
        osm_join_free(j);
        o->join = NULL;
        return 0;
    }
    long long t0 = now_ms(), ms[4];
    uint64_t found = 0;
    int rc = join_lookup(o, j, &found, ms);
    long long t1 = now_ms();
    if (rc == 0)
        rc = xsort_sort(&j->pts, NULL, pt_key, NULL);
    ms[2] = now_ms() - t1;
    if (rc < 0) {
        gb_errf(o->err, o->errlen, "osm: %s: cannot sort the ways' node references in %s: %s",
                o->path, j->pool.tmpdir, gb_strerror(rc));
        return rc;
    }
    struct osm_pend nl;
    osm_pend_init(&nl, o->plog.tmpdir, o->plog.limit);
    t1 = now_ms();
    rc = join_rewrite(o, j, &nl);
    ms[3] = now_ms() - t1;
    if (rc < 0) {
        const char *why = nl.err[0] ? nl.err : o->plog.err[0] ? o->plog.err : gb_strerror(rc);
        gb_errf(o->err, o->errlen, "osm: %s: %s", o->path, why);
        osm_pend_release(&nl);
        return rc;
    }
    osm_pend_release(&o->plog);
    o->plog = nl;
    log_info("osm join file=%s ways=%llu refs=%llu found=%llu sort_ms=%lld lookup_ms=%lld "
             "sort_back_ms=%lld rewrite_ms=%lld ms=%lld",
             o->path, (unsigned long long)j->ways, (unsigned long long)j->n,
             (unsigned long long)found, ms[0], ms[1], ms[2], ms[3], now_ms() - t0);
    osm_join_free(j);
    o->join = NULL;
    return 0;
}
