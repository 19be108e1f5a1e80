/*
 * import_osm_emit.c - the OSM importer's records, emitted once every boundary is known: one
 * REC_ADMIN or REC_POSTCODE per boundary, then per pending object (read back from the log of
 * import_osm_pend.c, in the order the passes met them) its addresses (one per number of a list
 * "12;14", or "conscription/street" for Czech numbers), its interpolation, its street and its
 * place, each with the hierarchy that import_osm_admin.c resolves. An interpolation needs the
 * address nodes at its ends: one read of the log before the emitting one keeps their numbers,
 * streets and postcodes (only theirs).
 */
#include "base/err.h"
#include "base/mem.h"
#include "import/import_osm_int.h"
#include "import/import_util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int bucket_rank[] = {RANK_COUNTRY, RANK_STATE, RANK_COUNTY, RANK_CITY, RANK_DISTRICT};

struct alts {
    const char *v[OSM_MAX_ALT];
    size_t n;
    char buf[8192];
    size_t used;
};

static void alts_add(struct alts *a, const char *name, const char *s, size_t n)
{
    while (n && (*s == ' '))
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    if (!n || a->n == OSM_MAX_ALT || a->used + n + 1 > sizeof(a->buf))
        return;
    if (name && strlen(name) == n && memcmp(name, s, n) == 0)
        return;
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->v[i]) == n && memcmp(a->v[i], s, n) == 0)
            return;
    char *d = a->buf + a->used;
    memcpy(d, s, n);
    d[n] = 0;
    a->used += n + 1;
    a->v[a->n++] = d;
}

/* Collect alternative names (split at ';') from the stored tags. */
static void alts_collect(const struct tagref *t, const char *name, struct alts *a)
{
    a->n = a->used = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct kv *kv = &t->kv[i];
        if (!osm_is_alt_key(t->strs + kv->k))
            continue;
        const char *v = t->strs + kv->v;
        for (;;) {
            const char *semi = strchr(v, ';');
            size_t n = semi ? (size_t)(semi - v) : strlen(v);
            alts_add(a, name, v, n);
            if (!semi)
                break;
            v = semi + 1;
        }
    }
}

/* The rank of the area whose seat a place with OSM tag capital=v is: "yes" and "2" the
 * country's, "3" and "4" a state's, "5" and "6" a county's; 0 otherwise. */
static int capital_rank(const char *v)
{
    if (!v)
        return 0;
    if (strcmp(v, "yes") == 0 || strcmp(v, "2") == 0)
        return RANK_COUNTRY;
    if (strcmp(v, "3") == 0 || strcmp(v, "4") == 0)
        return RANK_STATE;
    if (strcmp(v, "5") == 0 || strcmp(v, "6") == 0)
        return RANK_COUNTY;
    return 0;
}

static int emit(struct osm *o, const struct rec_sink *sink, struct record *r)
{
    int rc = sink->emit(sink->ctx, r);
    if (rc < 0)
        return rc;
    o->st->records++;
    return 0;
}

/*
 * The k-th of the ';'-separated values of a street tag as a street's name, into buf (cap bytes):
 * up to a comma or a spaced dash, which add what is no part of the name ("Rua Sá da Bandeira, 2°
 * Direito 4000-432 Porto", "Bride Lane, Fleet Street", "Boulevard Princesse Charlotte –
 * Immeuble « Le Forum »"), trimmed. NULL when v is NULL, has no k-th value, or nothing is left.
 */
static const char *street_value(const char *v, int k, char *buf, size_t cap)
{
    static const char *const ends[] = {",", ";", " \xe2\x80\x93 ",
                                       " \xe2\x80\x94 "}; /* en, em dash */
    if (!v)
        return NULL;
    for (; k > 0; k--) {
        v = strchr(v, ';');
        if (!v)
            return NULL;
        v++;
    }
    size_t n = strlen(v);
    for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
        const char *d = strstr(v, ends[e]);
        if (d && (size_t)(d - v) < n)
            n = (size_t)(d - v);
    }
    while (n && isspace((unsigned char)*v))
        v++, n--;
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (!n || n >= cap)
        return NULL;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* The number of ';'-separated values of v. */
static int value_count(const char *v)
{
    int n = 1;
    for (; (v = strchr(v, ';')) != NULL; v++)
        n++;
    return n;
}

static int emit_address(struct osm *o, const struct rec_sink *sink, const struct pend_view *p,
                        const struct hier_geo *g, const struct osm_near *near, const char *sid)
{
    const struct tagref *t = &p->tags;
    const char *hn = osm_tagref_get(t, "addr:housenumber");
    const char *cn = osm_tagref_get(t, "addr:conscriptionnumber");
    const char *sn = osm_tagref_get(t, "addr:streetnumber");
    const char *h[H_N];
    char country[3];
    osm_hier_resolve(o, p, g, h, country);
    struct record r = {.kind = REC_ADDRESS, .lat = p->lat, .lon = p->lon, .source_id = sid};
    osm_rec_set_hier(&r, h);
    const char *tag = osm_tagref_get(t, "addr:street");
    char name[OSM_MAX_VALUE + 1], nth[OSM_MAX_VALUE + 1];
    r.street = street_value(tag, 0, name, sizeof(name));
    if (!r.street) {
        tag = osm_tagref_get(t, "addr:place");
        r.street = street_value(tag, 0, name, sizeof(name));
    }
    if (!r.street) {
        tag = NULL;
        r.street = osm_near_street(near, p->lat, p->lon); /* the street it stands on */
    }
    /* a corner house's numbers, one a street: "822/5;1773/26" on "Na Ládví;Veltěžská" */
    int streets = tag ? value_count(tag) : 1;
    bool paired = streets > 1 && !strchr(hn, ',') && value_count(hn) == streets;
    const char *first = r.street;
    r.unit = osm_tagref_get(t, "addr:unit");
    if (!r.unit)
        r.unit = osm_tagref_get(t, "addr:flats");
    char num[2 * OSM_MAX_VALUE + 2];
    if (cn && sn && !strchr(hn, '/') && !strpbrk(hn, ";,")) {
        snprintf(num, sizeof(num), "%s/%s", cn, sn);
        r.number = num;
        return emit(o, sink, &r);
    }
    size_t emitted = 0;
    const char *s = hn;
    for (int i = 0;; i++) {
        if (paired) {
            r.street = street_value(tag, i, nth, sizeof(nth));
            if (!r.street)
                r.street = first;
        }
        size_t n = strcspn(s, ";,");
        const char *a = s;
        size_t m = n;
        while (m && isspace((unsigned char)*a))
            a++, m--;
        while (m && isspace((unsigned char)a[m - 1]))
            m--;
        if (m && emitted < OSM_MAX_NUMBERS) {
            memcpy(num, a, m);
            num[m] = 0;
            r.number = num;
            int rc = emit(o, sink, &r);
            if (rc < 0)
                return rc;
            emitted++;
        }
        if (!s[n])
            break;
        s += n + 1;
    }
    if (!emitted)
        import_stats_skip(o->st, 0, "empty house number");
    return 0;
}

/* An address node at the end of an interpolation: the tags emission takes from it. */
struct endpt {
    bool found;
    char *hn, *street, *place, *postcode;
};

/* The end nodes of interpolations: ids (sorted, unique: o->ends) and what their first pending
 * address node says. */
struct endpts {
    const int64_t *id;
    struct endpt *e;
    size_t n;
};

/* The end node with id among the address nodes, or NULL. */
static const struct endpt *endpt_get(const struct endpts *ep, int64_t id)
{
    size_t lo = 0, hi = ep->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ep->id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ep->n && ep->id[lo] == id && ep->e[lo].found ? &ep->e[lo] : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Read the log once for the address nodes at the ends of interpolations (the first one of an id,
 * as an index of all address nodes sorted by id would find). Return 0 or -errno. */
static int endpts_collect(struct osm *o, struct endpts *ep)
{
    int64_t *ids = o->ends.p;
    size_t n = 0;
    if (o->ends.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(ids, o->ends.n, sizeof(int64_t), cmp_i64);
    for (size_t i = 0; i < o->ends.n; i++)
        if (n == 0 || ids[n - 1] != ids[i])
            ids[n++] = ids[i];
    o->ends.n = n;
    ep->id = ids;
    ep->n = n;
    ep->e = xcalloc(n ? n : 1, sizeof(struct endpt));
    if (!n)
        return 0;
    int rc = osm_pend_rewind(&o->plog);
    struct pend_view v;
    while (rc == 0 && (rc = osm_pend_next(&o->plog, &v)) > 0) {
        rc = 0;
        if (v.type != 'n' || !(v.what & P_ADDR))
            continue;
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid] < v.id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n || ids[lo] != v.id || ep->e[lo].found)
            continue; /* not an end node, or its first address node was found before */
        struct endpt *e = &ep->e[lo];
        e->found = true;
        e->hn = dup_or_null(osm_tagref_get(&v.tags, "addr:housenumber"));
        e->street = dup_or_null(osm_tagref_get(&v.tags, "addr:street"));
        e->place = dup_or_null(osm_tagref_get(&v.tags, "addr:place"));
        e->postcode = dup_or_null(osm_tagref_get(&v.tags, "addr:postcode"));
    }
    return rc;
}

static void endpts_free(struct endpts *ep)
{
    for (size_t i = 0; i < ep->n; i++) {
        free(ep->e[i].hn);
        free(ep->e[i].street);
        free(ep->e[i].place);
        free(ep->e[i].postcode);
    }
    free(ep->e);
}

static bool parse_number(const char *s, long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || v < 0)
        return false;
    *out = v;
    return true;
}

static int emit_interp(struct osm *o, const struct rec_sink *sink, const struct pend_view *p,
                       const struct hier_geo *g, const struct endpts *ep, const char *sid)
{
    const char *kind = osm_tagref_get(&p->tags, "addr:interpolation");
    enum rec_parity par;
    if (strcmp(kind, "odd") == 0)
        par = PARITY_ODD;
    else if (strcmp(kind, "even") == 0)
        par = PARITY_EVEN;
    else if (strcmp(kind, "all") == 0)
        par = PARITY_ALL;
    else {
        import_stats_skip(o->st, 0, "interpolation that is not odd, even or all");
        return 0;
    }
    const struct endpt *a = endpt_get(ep, p->first);
    const struct endpt *b = endpt_get(ep, p->last);
    long from, to;
    if (!a || !b || p->ngeom < 2 || !parse_number(a->hn, &from) || !parse_number(b->hn, &to)) {
        import_stats_skip(o->st, 0, "interpolation without numbered end nodes");
        return 0;
    }
    const char *h[H_N];
    char country[3];
    osm_hier_resolve(o, p, g, h, country);
    struct record r = {.kind = REC_INTERP, .lat = p->lat, .lon = p->lon, .source_id = sid};
    osm_rec_set_hier(&r, h);
    char name[OSM_MAX_VALUE + 1];
    const char *street =
        street_value(osm_tagref_get(&p->tags, "addr:street"), 0, name, sizeof(name));
    for (int k = 0; k < 2 && !street; k++)
        street = street_value((k ? b : a)->street, 0, name, sizeof(name));
    for (int k = 0; k < 2 && !street; k++)
        street = street_value((k ? b : a)->place, 0, name, sizeof(name));
    r.street = street;
    if (!r.postcode)
        r.postcode = a->postcode;
    r.from = from;
    r.to = to;
    r.parity = par;
    r.geom = p->geom;
    r.n_geom = p->ngeom;
    return emit(o, sink, &r);
}

static void clear_from(const char *h[H_N], int bucket)
{
    for (int i = bucket; i < H_POSTCODE; i++)
        if (i >= 0)
            h[i] = NULL;
}

static int emit_pending(struct osm *o, const struct rec_sink *sink, const struct pend_view *p,
                        const struct hier_geo *g, const struct endpts *ep,
                        const struct osm_near *near)
{
    char sid[32];
    snprintf(sid, sizeof(sid), "%c%lld", p->type, (long long)p->id);
    int rc = 0;
    if (p->what & P_ADDR)
        rc = emit_address(o, sink, p, g, near, sid);
    if (rc == 0 && (p->what & P_INTERP))
        rc = emit_interp(o, sink, p, g, ep, sid);
    if (rc == 0 && (p->what & (P_STREET | P_PLACE))) {
        const char *h[H_N];
        char country[3];
        osm_hier_resolve(o, p, g, h, country);
        struct alts alts;
        struct record r = {.lat = p->lat, .lon = p->lon, .source_id = sid};
        r.name = osm_tagref_get(&p->tags, "name");
        alts_collect(&p->tags, r.name, &alts);
        r.alt_names = alts.v;
        r.n_alt = alts.n;
        if (p->what & P_STREET) {
            r.kind = REC_STREET;
            osm_rec_set_hier(&r, h);
            r.geom = p->geom;
            r.n_geom = p->ngeom;
            rc = emit(o, sink, &r);
        }
        if (rc == 0 && (p->what & P_PLACE)) {
            const struct place_type *pt = osm_place_type_get(osm_tagref_get(&p->tags, "place"));
            r.kind = REC_PLACE;
            r.rank = pt->rank;
            r.population = import_population(osm_tagref_get(&p->tags, "population"));
            r.capital = capital_rank(osm_tagref_get(&p->tags, "capital"));
            r.geom = NULL;
            r.n_geom = 0;
            clear_from(h, pt->rank == RANK_CITY ? H_CITY : H_DISTRICT);
            h[H_POSTCODE] = NULL;
            osm_rec_set_hier(&r, h);
            rc = emit(o, sink, &r);
        }
    }
    return rc;
}

static int emit_boundary(struct osm *o, const struct rec_sink *sink, const struct bnd *b)
{
    char sid[32];
    snprintf(sid, sizeof(sid), "r%lld", (long long)b->id);
    const char *h[H_N] = {0};
    struct record r = {.lat = b->label.lat, .lon = b->label.lon, .source_id = sid};
    if (b->kind == REL_POSTAL) {
        h[H_POSTCODE] = osm_pstr(o, b->code);
        osm_hier_fill(o, b->label.lat, b->label.lon, h, NULL);
        h[H_DISTRICT] = NULL;
        r.kind = REC_POSTCODE;
        r.name = osm_pstr(o, b->code);
        osm_rec_set_hier(&r, h);
        return emit(o, sink, &r);
    }
    if (b->bucket == H_COUNTRY)
        h[H_COUNTRY] = osm_pstr(o, b->code);
    osm_hier_fill(o, b->label.lat, b->label.lon, h, NULL);
    clear_from(h, b->bucket == H_COUNTRY ? H_STATE : b->bucket);
    h[H_POSTCODE] = NULL;
    struct alts alts;
    r.kind = REC_ADMIN;
    r.name = osm_pstr(o, b->name);
    struct tagref bt = osm_bnd_tags(o, b);
    alts_collect(&bt, r.name, &alts);
    if (b->iso2)
        alts_add(&alts, r.name, osm_pstr(o, b->iso2), strlen(osm_pstr(o, b->iso2)));
    r.alt_names = alts.v;
    r.n_alt = alts.n;
    r.rank = bucket_rank[b->bucket];
    r.population = import_population(osm_tagref_get(&bt, "population"));
    osm_rec_set_hier(&r, h);
    size_t n_outer;
    r.geom = geo_pip_ring(OSM_AT(o->bnds, struct bnd, b->geom).pip, b->outer, &n_outer);
    r.n_geom = n_outer;
    return emit(o, sink, &r);
}

/*
 * The points' hierarchies worked out ahead (struct hier_geo: what depends on the point alone),
 * on a thread of their own that reads the log with a second reader: the emission takes record
 * i's from ring[i % GEO_RING] once made > i, and tells how far it is (used) every GEO_BATCH
 * records, so the thread never writes a slot still in use. The emission stays on the calling
 * thread, in the log's order, so the records and the index are the same with or without it.
 */
enum { GEO_RING = 4096, GEO_BATCH = 256 };
struct geo_ahead {
    const struct osm *o;
    struct osm_pend rd;
    struct hier_geo *ring;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t made; /* records worked out */
    uint64_t used; /* records the emission is done with */
    bool done;     /* the thread has stopped (the log's end, or its reader failed) */
    bool stop;     /* the emission has stopped */
};

static void *geo_ahead_run(void *arg)
{
    struct geo_ahead *a = arg;
    uint64_t k = 0;
    bool end = false;
    while (!end) {
        pthread_mutex_lock(&a->mu);
        while (!a->stop && k + GEO_BATCH - a->used > GEO_RING)
            pthread_cond_wait(&a->cv, &a->mu);
        bool stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        if (stop)
            break;
        size_t n = 0;
        for (; n < GEO_BATCH; n++) {
            struct pend_view v;
            if (osm_pend_next(&a->rd, &v) <= 0) {
                end = true; /* the emission reads the log itself and reports its failure */
                break;
            }
            osm_hier_geo(a->o, v.lat, v.lon, &a->ring[(k + n) % GEO_RING]);
        }
        k += n;
        pthread_mutex_lock(&a->mu);
        a->made = k;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_lock(&a->mu);
    a->done = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Record i's hierarchy from the thread, or NULL when it stopped before i (then work it out).
 * *made caches what the thread had made at the last look. */
static const struct hier_geo *geo_ahead_take(struct geo_ahead *a, uint64_t i, uint64_t *made)
{
    if (i >= *made || i % GEO_BATCH == 0) {
        pthread_mutex_lock(&a->mu);
        a->used = i; /* before waiting: the thread may be waiting for room */
        pthread_cond_broadcast(&a->cv);
        while (a->made <= i && !a->done)
            pthread_cond_wait(&a->cv, &a->mu);
        *made = a->made;
        pthread_mutex_unlock(&a->mu);
    }
    return i < *made ? &a->ring[i % GEO_RING] : NULL;
}

/* Start the thread on the log o->plog (rewound); false when it cannot start. */
static bool geo_ahead_start(struct geo_ahead *a, const struct osm *o, pthread_t *tid)
{
    memset(a, 0, sizeof(*a));
    a->o = o;
    a->ring = xmallocarray(GEO_RING, sizeof(*a->ring));
    osm_pend_reader(&o->plog, &a->rd);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(tid, NULL, geo_ahead_run, a) == 0)
        return true;
    osm_pend_reader_release(&a->rd);
    free(a->ring);
    return false;
}

static void geo_ahead_end(struct geo_ahead *a, pthread_t tid)
{
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(tid, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    osm_pend_reader_release(&a->rd);
    free(a->ring);
}

int osm_emit_all(struct osm *o, const struct rec_sink *sink, unsigned threads)
{
    struct endpts ep;
    struct osm_near near;
    int rc = endpts_collect(o, &ep);
    if (rc == 0)
        rc = osm_near_build(o, &near);
    else
        memset(&near, 0, sizeof(near));
    bool log_failed = rc < 0;
    osm_hier_prepare(o);
    for (size_t i = 0; i < o->bnds.n && rc == 0; i++)
        rc = emit_boundary(o, sink, &OSM_AT(o->bnds, struct bnd, i));
    if (rc == 0) {
        rc = osm_pend_rewind(&o->plog);
        log_failed = rc < 0;
    }
    struct geo_ahead ahead;
    pthread_t tid;
    bool started = rc == 0 && threads > 1 && o->plog.count > 0 && geo_ahead_start(&ahead, o, &tid);
    uint64_t made = 0;
    for (uint64_t i = 0; rc == 0; i++) {
        struct pend_view v;
        int got = osm_pend_next(&o->plog, &v);
        if (got <= 0) {
            rc = got;
            log_failed = got < 0;
            break;
        }
        const struct hier_geo *g = started ? geo_ahead_take(&ahead, i, &made) : NULL;
        rc = emit_pending(o, sink, &v, g, &ep, &near);
    }
    if (started)
        geo_ahead_end(&ahead, tid);
    if (log_failed)
        gb_errf(o->err, o->errlen, "osm: %s: %s", o->path, osm_pend_error(&o->plog));
    o->emit_log_failed = log_failed;
    endpts_free(&ep);
    osm_near_free(&near);
    return rc;
}
