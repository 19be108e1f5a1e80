/*
 * import_osm_ring.c - rings from the way members of relations, and the boundaries made of them.
 *
 * A multipolygon's or boundary's member ways are joined into chains by shared end nodes; a chain
 * that comes back to its start is a ring. Chains that do not close (members outside a clipped
 * extract) are closed by joining nearest ends ("repaired"). A boundary relation keeps its rings
 * (with a point-in-polygon index, its area and a label point) when enough of it is in the file;
 * an admin relation without usable rings of its own may become the union of its subareas once
 * every relation is read. See the top of import_osm.c for the rules and the datasets behind them.
 */
#include "base/mem.h"
#include "import/import_osm_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ring assembly ---------------------------------------------------------------------- */

void osm_ring_work_init(struct ring_work *w)
{
    osm_vec_init(&w->chain, sizeof(int64_t));
    osm_vec_init(&w->chix, sizeof(size_t));
    osm_vec_init(&w->cpts, sizeof(struct rec_point));
    osm_vec_init(&w->copen, sizeof(size_t));
    osm_vec_init(&w->rpts, sizeof(struct rec_point));
    osm_vec_init(&w->rends, sizeof(size_t));
    osm_vec_init(&w->segused, 1);
    w->p0 = 0;
}

void osm_ring_work_release(struct ring_work *w)
{
    struct vec *v[] = {&w->chain, &w->chix, &w->cpts, &w->rpts, &w->rends, &w->segused, &w->copen};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        osm_vec_release(v[i]);
}

/* A ring of n points for the relation being assembled (its ends count from w->p0). */
static void ring_add(struct ring_work *w, const struct rec_point *p, size_t n)
{
    if (n < 3)
        return;
    memcpy(osm_vec_push(&w->rpts, n), p, n * sizeof(*p));
    *(size_t *)osm_vec_push(&w->rends, 1) = w->rpts.n - w->p0;
}

static double pt_dist2(struct rec_point a, struct rec_point b)
{
    double dx = (a.lon - b.lon) * cos(a.lat * M_PI / 180), dy = a.lat - b.lat;
    return dx * dx + dy * dy;
}

/* Close open chains (coordinate lists in w->copen) by joining nearest ends; add them as rings.
 * Return whether there were any. */
static bool rings_repair(struct ring_work *w)
{
    size_t nopen = w->copen.n / 2;
    if (!nopen)
        return false;
    unsigned char *used = xcalloc(nopen, 1);
    struct vec acc;
    osm_vec_init(&acc, sizeof(struct rec_point));
    for (size_t a = 0; a < nopen; a++) {
        if (used[a])
            continue;
        used[a] = 1;
        acc.n = 0;
        size_t *oa = &OSM_AT(w->copen, size_t, 2 * a);
        memcpy(osm_vec_push(&acc, oa[1]), &OSM_AT(w->cpts, struct rec_point, oa[0]),
               oa[1] * sizeof(struct rec_point));
        for (;;) {
            struct rec_point end = OSM_AT(acc, struct rec_point, acc.n - 1);
            double best = pt_dist2(end, OSM_AT(acc, struct rec_point, 0));
            size_t bi = SIZE_MAX;
            bool rev = false;
            for (size_t b = 0; b < nopen; b++) {
                if (used[b])
                    continue;
                size_t *ob = &OSM_AT(w->copen, size_t, 2 * b);
                const struct rec_point *bp = &OSM_AT(w->cpts, struct rec_point, ob[0]);
                double d0 = pt_dist2(end, bp[0]), d1 = pt_dist2(end, bp[ob[1] - 1]);
                if (d0 < best || d1 < best) {
                    best = d0 < d1 ? d0 : d1;
                    bi = b;
                    rev = d1 < d0;
                }
            }
            if (bi == SIZE_MAX)
                break; /* our own start is nearest: close the ring */
            used[bi] = 1;
            size_t *ob = &OSM_AT(w->copen, size_t, 2 * bi);
            for (size_t k = 0; k < ob[1]; k++) {
                size_t idx = rev ? ob[0] + ob[1] - 1 - k : ob[0] + k;
                *(struct rec_point *)osm_vec_push(&acc, 1) = OSM_AT(w->cpts, struct rec_point, idx);
            }
        }
        ring_add(w, acc.p, acc.n);
    }
    osm_vec_release(&acc);
    free(used);
    return true;
}

/* The points of the chain's nodes that are in the file, from o->ref_ll, appended to w->cpts (as
 * osm_node_points() would append them); return how many. */
static size_t chain_points(const struct osm *o, struct ring_work *w)
{
    const size_t *ix = w->chix.p;
    const struct osm_ll *ll = o->ref_ll.p;
    size_t got = 0;
    for (size_t k = 0; k < w->chix.n; k++)
        if (ll[ix[k]].lat != INT32_MIN) {
            *(struct rec_point *)osm_vec_push(&w->cpts, 1) = osm_ll_point(ll[ix[k]]);
            got++;
        }
    return got;
}

/*
 * Assemble the way members of r into closed rings appended to w (see osm_rings_assemble()).
 * Chains are joined by shared end nodes; chains that cannot be closed are repaired by
 * rings_repair().
 */
void osm_rings_assemble(const struct osm *o, struct osm_nodes_reader *rd, struct ring_work *w,
                        const struct osm_relation *r, struct rings *out)
{
    w->cpts.n = w->copen.n = w->segused.n = 0;
    w->p0 = w->rpts.n;
    *out = (struct rings){.p0 = w->rpts.n, .e0 = w->rends.n};
    size_t nm = r->member_count > 0 ? (size_t)r->member_count : 0;
    unsigned char *used = osm_vec_push(&w->segused, nm);
    memset(used, 0, nm);
    const struct wayref **segs = xcalloc(nm ? nm : 1, sizeof(*segs));
    for (size_t i = 0; i < nm; i++) {
        if (r->members[i].member_type != OSM_MEMBER_WAY)
            continue;
        out->seg_total++;
        segs[i] = osm_way_get(o, r->members[i].id);
        if (!segs[i] || segs[i]->nref < 2)
            segs[i] = NULL;
        else
            out->seg_found++;
    }
    const int64_t *refs = o->refs.p;
    bool joined = o->ref_ll.n > 0; /* the points are known: chix follows chain */
    for (size_t s = 0; s < nm; s++) {
        if (!segs[s] || used[s])
            continue;
        used[s] = 1;
        w->chain.n = w->chix.n = 0;
        memcpy(osm_vec_push(&w->chain, segs[s]->nref), refs + segs[s]->ref0,
               segs[s]->nref * sizeof(int64_t));
        if (joined) {
            size_t *ix = osm_vec_push(&w->chix, segs[s]->nref);
            for (size_t k = 0; k < segs[s]->nref; k++)
                ix[k] = segs[s]->ref0 + k;
        }
        bool flipped = false;
        for (;;) {
            int64_t *c = w->chain.p;
            if (c[0] == c[w->chain.n - 1])
                break;
            int64_t last = c[w->chain.n - 1];
            bool found = false;
            for (size_t t = 0; t < nm && !found; t++) {
                if (!segs[t] || used[t])
                    continue;
                const int64_t *tr = refs + segs[t]->ref0;
                size_t tn = segs[t]->nref;
                if (tr[0] == last || tr[tn - 1] == last) {
                    bool rev = tr[0] != last;
                    int64_t *dst = osm_vec_push(&w->chain, tn - 1);
                    for (size_t k = 1; k < tn; k++)
                        dst[k - 1] = rev ? tr[tn - 1 - k] : tr[k];
                    size_t *ix = joined ? osm_vec_push(&w->chix, tn - 1) : NULL;
                    for (size_t k = 1; ix && k < tn; k++)
                        ix[k - 1] = segs[t]->ref0 + (rev ? tn - 1 - k : k);
                    used[t] = 1;
                    found = true;
                }
            }
            if (found)
                continue;
            if (flipped)
                break;
            /* Try to grow the chain at its other end. */
            c = w->chain.p;
            size_t *cx = w->chix.p;
            for (size_t i = 0, j = w->chain.n - 1; i < j; i++, j--) {
                int64_t tmp = c[i];
                c[i] = c[j];
                c[j] = tmp;
                if (joined) {
                    size_t t = cx[i];
                    cx[i] = cx[j];
                    cx[j] = t;
                }
            }
            flipped = true;
        }
        int64_t *c = w->chain.p;
        size_t start = w->cpts.n;
        size_t got = joined ? chain_points(o, w) : osm_node_points(o, rd, c, w->chain.n, &w->cpts);
        if (c[0] == c[w->chain.n - 1] && got >= 4) {
            ring_add(w, &OSM_AT(w->cpts, struct rec_point, start), got);
            w->cpts.n = start;
        } else if (got >= 1) {
            size_t *op = osm_vec_push(&w->copen, 2);
            op[0] = start;
            op[1] = got;
        }
    }
    free(segs);
    out->repaired = rings_repair(w);
    out->nring = w->rends.n - out->e0;
}

struct geo_poly osm_rings_poly(const struct ring_work *w, const struct rings *g)
{
    if (g->nring == 0) /* w's vectors may be empty (NULL) */
        return (struct geo_poly){NULL, NULL, 0};
    return (struct geo_poly){(const struct rec_point *)w->rpts.p + g->p0,
                             (const size_t *)w->rends.p + g->e0, g->nring};
}

/* ---- boundaries -------------------------------------------------------------------------- */

/* Fill the name, codes and tags of b from relation r. */
static void bnd_meta(struct osm *o, struct bnd *b, const struct osm_relation *r, enum rel_class cls,
                     int level)
{
    memset(b, 0, sizeof(*b));
    b->id = r->id;
    b->kind = cls;
    b->level = level;
    b->bucket = cls == REL_ADMIN ? osm_admin_bucket(level) : H_POSTCODE;
    const char *name = osm_tag_get(r->tag_count, r->tags, "name");
    if (cls == REL_POSTAL) {
        const char *pc = osm_tag_get(r->tag_count, r->tags, "postal_code");
        b->code = osm_pool_add(o, pc ? pc : osm_tag_get(r->tag_count, r->tags, "ref"));
        b->name = name ? osm_pool_add(o, name) : b->code;
    } else {
        b->name = osm_pool_add(o, name);
        const char *iso = osm_tag_get(r->tag_count, r->tags, "ISO3166-1");
        if (!iso)
            iso = osm_tag_get(r->tag_count, r->tags, "ISO3166-1:alpha2");
        if (iso && strlen(iso) == 2 && isalpha((unsigned char)iso[0]) &&
            isalpha((unsigned char)iso[1])) {
            char up[3] = {(char)toupper((unsigned char)iso[0]),
                          (char)toupper((unsigned char)iso[1]), 0};
            b->code = osm_pool_add(o, up);
        }
        const char *iso2 = osm_tag_get(r->tag_count, r->tags, "ISO3166-2");
        b->iso2 = iso2 ? osm_pool_add(o, iso2) : 0;
    }
    osm_store_tags(o, r->tag_count, r->tags, &b->tag0, &b->ntag);
}

/* Give b the rings of poly and add it to the boundaries. */
static void bnd_commit(struct osm *o, struct bnd *tmpl, const struct geo_poly *poly)
{
    size_t nring = poly->n_rings;
    struct bnd *b = osm_vec_push(&o->bnds, 1);
    *b = *tmpl;
    b->geom = o->bnds.n - 1;
    b->nring = nring;
    b->area = geo_poly_area_m2(poly);
    geo_poly_centroid(poly, &b->label);
    b->pip = geo_pip_new(poly);
    b->bbox = *geo_pip_bbox(b->pip);
    double best = -1;
    for (size_t i = 0; i < nring; i++) {
        size_t s = i ? poly->ring_end[i - 1] : 0, e = poly->ring_end[i];
        size_t len = e - s;
        struct geo_poly one = {poly->pts + s, &len, 1};
        double a = geo_poly_area_m2(&one);
        if (a > best) {
            best = a;
            b->outer = i;
        }
    }
}

/*
 * A boundary relation, its rings assembled (g, in w). One that was clipped by the extract is kept
 * when at least a quarter of its member ways are present (its repaired rings then follow the clip
 * closely enough); a country of which only a few border ways are in the file is dropped. An
 * admin relation without any ring of its own is deferred: it may be the union of its subareas
 * (Praha in the Prague extract: none of its ways, 13 of its districts).
 */
void osm_bnd_add(struct osm *o, const struct osm_relation *r, enum rel_class cls, int level,
                 const struct ring_work *w, const struct rings *g)
{
    struct bnd b;
    struct geo_poly poly = osm_rings_poly(w, g);
    size_t nring = g->nring;
    if (nring > 0 && g->repaired && g->seg_found * 4 < g->seg_total)
        nring = 0;
    if (nring > 0 && g->repaired) {
        /* A repaired polygon that leaves out its own admin_centre or label node was closed
         * on the wrong side: drop it. */
        for (int i = 0; i < r->member_count && nring; i++) {
            const struct osm_member *m = &r->members[i];
            struct rec_point pt;
            if (m->member_type == OSM_MEMBER_NODE && m->role &&
                (strcmp(m->role, "admin_centre") == 0 || strcmp(m->role, "label") == 0) &&
                osm_node_get(o, m->id, &pt) && !geo_poly_contains(&poly, pt.lat, pt.lon))
                nring = 0;
        }
    }
    if (nring == 0 && cls == REL_ADMIN) {
        bnd_meta(o, &b, r, cls, level);
        b.sub0 = o->subs.n;
        for (int i = 0; i < r->member_count; i++)
            if (r->members[i].member_type == OSM_MEMBER_RELATION && r->members[i].id != r->id)
                *(int64_t *)osm_vec_push(&o->subs, 1) = r->members[i].id;
        b.nsub = o->subs.n - b.sub0;
        if (b.nsub)
            *(struct bnd *)osm_vec_push(&o->deferred, 1) = b;
        else
            import_stats_skip(o->st, 0, "boundary without a usable ring");
        return;
    }
    if (nring == 0) {
        import_stats_skip(o->st, 0, "boundary without a usable ring");
        return;
    }
    bnd_meta(o, &b, r, cls, level);
    b.repaired = g->repaired;
    bnd_commit(o, &b, &poly);
}

/* Resolve deferred boundaries as unions of their subareas, repeatedly, so that a parent of a
 * deferred parent resolves too. A point is inside a union when it is inside one of its
 * subareas (their repaired rings may overlap, so merging the rings would not do). The union's
 * label and outer ring are those of its largest subarea. */
void osm_bnd_resolve_deferred(struct osm *o)
{
    bool progress = true;
    while (progress && o->deferred.n) {
        progress = false;
        for (size_t d = 0; d < o->deferred.n; d++) {
            struct bnd b = OSM_AT(o->deferred, struct bnd, d);
            b.kid0 = o->kids.n;
            b.nkid = 0;
            geo_bbox_empty(&b.bbox);
            size_t largest = SIZE_MAX;
            for (size_t k = 0; k < b.nsub; k++) {
                int64_t id = OSM_AT(o->subs, int64_t, b.sub0 + k);
                for (size_t i = 0; i < o->bnds.n; i++) {
                    const struct bnd *c = &OSM_AT(o->bnds, struct bnd, i);
                    if (c->id != id || c->kind != REL_ADMIN || c->level <= b.level)
                        continue;
                    *(size_t *)osm_vec_push(&o->kids, 1) = i;
                    b.nkid++;
                    b.area += c->area;
                    b.repaired |= c->repaired;
                    geo_bbox_extend(&b.bbox, c->bbox.min_lat, c->bbox.min_lon);
                    geo_bbox_extend(&b.bbox, c->bbox.max_lat, c->bbox.max_lon);
                    if (largest == SIZE_MAX || c->area > OSM_AT(o->bnds, struct bnd, largest).area)
                        largest = i;
                    break;
                }
            }
            if (!b.nkid) {
                o->kids.n = b.kid0;
                continue;
            }
            const struct bnd *big = &OSM_AT(o->bnds, struct bnd, largest);
            b.label = big->label;
            b.geom = big->geom;
            b.outer = big->outer;
            b.nring = 0;
            b.nsub = 0;
            *(struct bnd *)osm_vec_push(&o->bnds, 1) = b;
            OSM_AT(o->deferred, struct bnd, d) = OSM_AT(o->deferred, struct bnd, o->deferred.n - 1);
            o->deferred.n--;
            d--;
            progress = true;
        }
    }
    for (size_t d = 0; d < o->deferred.n; d++)
        import_stats_skip(o->st, 0, "boundary without a usable ring");
}

/* True when the point lies in a complete boundary of b's bucket other than b. */
static bool in_complete_sibling(const struct osm *o, const struct bnd *b, struct rec_point pt)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        const struct bnd *c = &OSM_AT(o->bnds, struct bnd, i);
        if (c != b && !c->repaired && c->bucket == b->bucket && c->kind == b->kind &&
            osm_bnd_contains(o, c, pt.lat, pt.lon))
            return true;
    }
    return false;
}

/*
 * The centroid of a repaired boundary can land in a neighbour (Austrian Feldkirch, closed
 * across the extract's edge, would put its label in Liechtenstein). Move such a label to a
 * point of the polygon outside every complete boundary of the same bucket, trying the middle
 * of the widest inside stretch at 16 latitudes; keep the centroid when none qualifies.
 */
void osm_bnd_fix_labels(struct osm *o)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        struct bnd *b = &OSM_AT(o->bnds, struct bnd, i);
        if (!b->repaired || !b->pip || !in_complete_sibling(o, b, b->label))
            continue;
        struct geo_poly poly = geo_pip_poly(b->pip);
        for (int k = 0; k < 16; k++) {
            struct rec_point pt;
            double lat = b->bbox.min_lat + (b->bbox.max_lat - b->bbox.min_lat) * (k + 0.5) / 16;
            if (geo_poly_scanline_point(&poly, lat, &pt) && !in_complete_sibling(o, b, pt)) {
                b->label = pt;
                break;
            }
        }
    }
}

bool osm_bnd_contains(const struct osm *o, const struct bnd *b, double lat, double lon)
{
    if (!geo_bbox_contains(&b->bbox, lat, lon))
        return false;
    if (b->pip)
        return geo_pip_contains(b->pip, lat, lon);
    for (size_t k = 0; k < b->nkid; k++)
        if (osm_bnd_contains(o, &OSM_AT(o->bnds, struct bnd, OSM_AT(o->kids, size_t, b->kid0 + k)),
                             lat, lon))
            return true;
    return false;
}
