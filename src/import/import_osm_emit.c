/*
 * import_osm_emit.c - the OSM importer's records, emitted once every boundary is known: one
 * REC_ADMIN or REC_POSTCODE per boundary, then per pending object its addresses (one per
 * number of a list "12;14", or "conscription/street" for Czech numbers), its interpolation,
 * its street and its place, each with the hierarchy that import_osm_admin.c resolves.
 */
#include "import/import_osm_int.h"

#include <ctype.h>
#include <errno.h>
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
static void alts_collect(const struct osm *o, size_t tag0, uint32_t ntag, const char *name,
                         struct alts *a)
{
    a->n = a->used = 0;
    for (uint32_t i = 0; i < ntag; i++) {
        const struct kv *kv = &OSM_AT(o->tags, struct kv, tag0 + i);
        if (!osm_is_alt_key(o->pool + kv->k))
            continue;
        const char *v = o->pool + kv->v;
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

static int emit(struct osm *o, const struct rec_sink *sink, struct record *r)
{
    int rc = sink->emit(sink->ctx, r);
    if (rc < 0)
        return rc;
    o->st->records++;
    return 0;
}

static int emit_address(struct osm *o, const struct rec_sink *sink, const struct pending *p,
                        const char *sid)
{
    const char *hn = osm_ptag(o, p->tag0, p->ntag, "addr:housenumber");
    const char *cn = osm_ptag(o, p->tag0, p->ntag, "addr:conscriptionnumber");
    const char *sn = osm_ptag(o, p->tag0, p->ntag, "addr:streetnumber");
    const char *h[H_N];
    char country[3];
    osm_hier_resolve(o, p, h, country);
    struct record r = {.kind = REC_ADDRESS, .lat = p->lat, .lon = p->lon, .source_id = sid};
    osm_rec_set_hier(&r, h);
    r.street = osm_ptag(o, p->tag0, p->ntag, "addr:street");
    if (!r.street)
        r.street = osm_ptag(o, p->tag0, p->ntag, "addr:place");
    r.unit = osm_ptag(o, p->tag0, p->ntag, "addr:unit");
    if (!r.unit)
        r.unit = osm_ptag(o, p->tag0, p->ntag, "addr:flats");
    char num[2 * OSM_MAX_VALUE + 2];
    if (cn && sn && !strchr(hn, '/') && !strpbrk(hn, ";,")) {
        snprintf(num, sizeof(num), "%s/%s", cn, sn);
        r.number = num;
        return emit(o, sink, &r);
    }
    size_t emitted = 0;
    const char *s = hn;
    for (;;) {
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

/* The pending address node with id, or NULL (addr_nodes: sorted pending indexes). */
static const struct pending *addr_node(const struct osm *o, const struct vec *ix, int64_t id)
{
    const size_t *a = ix->p;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (OSM_AT(o->pend, struct pending, a[mid]).id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ix->n && OSM_AT(o->pend, struct pending, a[lo]).id == id)
        return &OSM_AT(o->pend, struct pending, a[lo]);
    return NULL;
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

static int emit_interp(struct osm *o, const struct rec_sink *sink, const struct pending *p,
                       const struct vec *addr_ix, const char *sid)
{
    const char *kind = osm_ptag(o, p->tag0, p->ntag, "addr:interpolation");
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
    const struct pending *a = addr_node(o, addr_ix, p->first);
    const struct pending *b = addr_node(o, addr_ix, p->last);
    long from, to;
    if (!a || !b || p->ngeom < 2 ||
        !parse_number(osm_ptag(o, a->tag0, a->ntag, "addr:housenumber"), &from) ||
        !parse_number(osm_ptag(o, b->tag0, b->ntag, "addr:housenumber"), &to)) {
        import_stats_skip(o->st, 0, "interpolation without numbered end nodes");
        return 0;
    }
    const char *h[H_N];
    char country[3];
    osm_hier_resolve(o, p, h, country);
    struct record r = {.kind = REC_INTERP, .lat = p->lat, .lon = p->lon, .source_id = sid};
    osm_rec_set_hier(&r, h);
    const char *street = osm_ptag(o, p->tag0, p->ntag, "addr:street");
    for (int k = 0; k < 2 && !street; k++)
        street = osm_ptag(o, (k ? b : a)->tag0, (k ? b : a)->ntag, "addr:street");
    for (int k = 0; k < 2 && !street; k++)
        street = osm_ptag(o, (k ? b : a)->tag0, (k ? b : a)->ntag, "addr:place");
    r.street = street;
    if (!r.postcode)
        r.postcode = osm_ptag(o, a->tag0, a->ntag, "addr:postcode");
    r.from = from;
    r.to = to;
    r.parity = par;
    r.geom = &OSM_AT(o->pts, struct rec_point, p->geom0);
    r.n_geom = p->ngeom;
    return emit(o, sink, &r);
}

static void clear_from(const char *h[H_N], int bucket)
{
    for (int i = bucket; i < H_POSTCODE; i++)
        if (i >= 0)
            h[i] = NULL;
}

static int emit_pending(struct osm *o, const struct rec_sink *sink, const struct pending *p,
                        const struct vec *addr_ix)
{
    char sid[32];
    snprintf(sid, sizeof(sid), "%c%lld", p->type, (long long)p->id);
    int rc = 0;
    if (p->what & P_ADDR)
        rc = emit_address(o, sink, p, sid);
    if (rc == 0 && (p->what & P_INTERP))
        rc = emit_interp(o, sink, p, addr_ix, sid);
    if (rc == 0 && (p->what & (P_STREET | P_PLACE))) {
        const char *h[H_N];
        char country[3];
        osm_hier_resolve(o, p, h, country);
        struct alts alts;
        struct record r = {.lat = p->lat, .lon = p->lon, .source_id = sid};
        r.name = osm_ptag(o, p->tag0, p->ntag, "name");
        alts_collect(o, p->tag0, p->ntag, r.name, &alts);
        r.alt_names = alts.v;
        r.n_alt = alts.n;
        if (p->what & P_STREET) {
            r.kind = REC_STREET;
            osm_rec_set_hier(&r, h);
            r.geom = &OSM_AT(o->pts, struct rec_point, p->geom0);
            r.n_geom = p->ngeom;
            rc = emit(o, sink, &r);
        }
        if (rc == 0 && (p->what & P_PLACE)) {
            const struct place_type *pt =
                osm_place_type_get(osm_ptag(o, p->tag0, p->ntag, "place"));
            r.kind = REC_PLACE;
            r.rank = pt->rank;
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
    alts_collect(o, b->tag0, b->ntag, r.name, &alts);
    if (b->iso2)
        alts_add(&alts, r.name, osm_pstr(o, b->iso2), strlen(osm_pstr(o, b->iso2)));
    r.alt_names = alts.v;
    r.n_alt = alts.n;
    r.rank = bucket_rank[b->bucket];
    osm_rec_set_hier(&r, h);
    r.geom = &OSM_AT(o->bpts, struct rec_point, b->pt0 + b->outer0);
    r.n_geom = b->nouter;
    return emit(o, sink, &r);
}

static int cmp_pend_ix(const void *a, const void *b, void *ctx)
{
    const struct osm *o = ctx;
    int64_t x = OSM_AT(o->pend, struct pending, *(const size_t *)a).id;
    int64_t y = OSM_AT(o->pend, struct pending, *(const size_t *)b).id;
    return x < y ? -1 : x > y;
}

int osm_emit_all(struct osm *o, const struct rec_sink *sink)
{
    /* Boundaries and pending objects point into growing arrays: only now are they stable. */
    struct vec addr_ix;
    osm_vec_init(&addr_ix, sizeof(size_t));
    for (size_t i = 0; i < o->pend.n; i++) {
        const struct pending *p = &OSM_AT(o->pend, struct pending, i);
        if (p->type == 'n' && (p->what & P_ADDR))
            *(size_t *)osm_vec_push(&addr_ix, 1) = i;
    }
    if (addr_ix.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort_r(addr_ix.p, addr_ix.n, sizeof(size_t), cmp_pend_ix, o);
    osm_hier_prepare(o);
    int rc = 0;
    for (size_t i = 0; i < o->bnds.n && rc == 0; i++)
        rc = emit_boundary(o, sink, &OSM_AT(o->bnds, struct bnd, i));
    for (size_t i = 0; i < o->pend.n && rc == 0; i++)
        rc = emit_pending(o, sink, &OSM_AT(o->pend, struct pending, i), &addr_ix);
    osm_vec_release(&addr_ix);
    return rc;
}
