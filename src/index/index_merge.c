/*
 * index_merge.c - several index files in, one index out: what `geobatch import` would have
 * built from all their inputs, read in the order the indexes are given.
 *
 * Each input is opened (every checksum verified), its tables are fed into one builder
 * (index_build_int.h) as the builder had them before it wrote that input (the addresses, lines,
 * ways and rings into its sorters), and the input is closed before the next is opened: memory
 * is the builder's budget (--memory), plus one mapped input. The builder's write phases then
 * run as for an import. What makes the result equal to a joint
 * import, byte for byte, when the inputs share no street (no street key, country and city key
 * in two of them: indexes of different countries):
 *   - STRINGS: the import interns names, keys, numbers and postcodes in first-use order, and
 *     writes each address's source id after them, beside the address (format 3). An input's
 *     interned strings are its own import's first-use order, so the joint order is input 1's,
 *     then each later input's less those an earlier input already interned (the keys a query
 *     compares go after the others sorted by content, which no order of interning changes:
 *     index_build_write.c, compact_strings); the source ids
 *     travel with their addresses through the builder's sorter, as in an import. (The one
 *     difference: an import counts the source ids of the duplicates it later drops when it
 *     picks the string unit, a merge never sees them; so the unit can differ when the section
 *     is within those bytes of 4, 8 or 16 GiB.)
 *   - Every table sorts on content with arrival order as the last tie-breaker: the entries of
 *     one input keep their relative order, and input 1 arrives before input 2.
 *   - Centroids (derived places, postcodes, street points) are taken as stored, not
 *     recomputed from rounded coordinates; interpolation lines and admin rings are fed in
 *     arrival order, which is where their points lie in the POINTS section.
 *   - Line-only streets were joined to their address streets by each input's own build; the
 *     merge does not join again (index_builder.keep_line_only).
 * Inputs that do share streets (two overlapping extracts of one country) merge into a valid
 * index that can differ from a joint import: their addresses are de-duplicated again, but a
 * derived place or postcode in both keeps the first input's centroid (postcodes: the centroid
 * weighted by the two counts), and a line-only street of one is not joined to an address
 * street of the other. docs/scale.md ("Index sets").
 * Single-threaded, like the builder.
 */
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/smap.h"
#include "record/geo.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where an input's interned strings went: their offsets in the input (units, ascending) and
 * their references in the builder. */
struct str_map {
    uint32_t *old_off, *new_off;
    size_t n;
};

/*
 * Intern the input's strings into the builder in the order of a joint import (the file's
 * comment) and fill m. Interned strings are stored once and never empty, so every NUL between
 * them is padding to the input's string unit. Return 0, or the builder's error (a limit).
 */
static int map_strings(struct index_builder *b, const struct index_view *v, struct str_map *m)
{
    uint64_t end = v->strings_len, items = 0;
    for (uint64_t i = 1; i < end; i++)
        items += v->strings[i] == '\0';
    /* per string of the input: among the builder's tables, which follow the budget */
    m->old_off = fmem_realloc(&b->tables, NULL, (items + 1) * sizeof(uint32_t));
    m->new_off = fmem_realloc(&b->tables, NULL, (items + 1) * sizeof(uint32_t));
    m->n = 0;
    for (uint64_t off = 1; off < end && !b->rc;) {
        if (v->strings[off] == '\0') {
            off++;
            continue;
        }
        const char *s = v->strings + off;
        size_t len = strnlen(s, end - off);
        m->old_off[m->n] = (uint32_t)(off >> v->str_shift);
        m->new_off[m->n] = builder_intern(b, s, len);
        m->n++;
        off += len + 1;
    }
    return b->rc;
}

/* The builder reference of the input's interned string at off (0 stays 0). */
static uint32_t remap(const struct str_map *m, uint32_t off)
{
    if (off == 0)
        return 0;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->old_off[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->old_off[lo] == off ? m->new_off[lo] : 0;
}

/* The length of the longest way of street s, in metres (0 without geometry). */
static double longest_way_m(const struct index_view *v, const struct ix_street *s)
{
    double best = 0;
    struct rec_point pts[256];
    size_t n = 0;
    double len = 0;
    for (uint32_t k = 0; k <= s->geom_count; k++) {
        bool end = k == s->geom_count || v->points[s->geom_first + k].lat == IX_PART_BREAK;
        if (!end) {
            const struct ix_point *p = &v->points[s->geom_first + k];
            struct rec_point q = {p->lat / IX_COORD_SCALE, p->lon / IX_COORD_SCALE};
            if (n == sizeof(pts) / sizeof(pts[0])) { /* keep the running sum, restart the run */
                len += geo_line_length_m(pts, n);
                pts[0] = pts[n - 1];
                n = 1;
            }
            pts[n++] = q;
            continue;
        }
        if (n >= 2)
            len += geo_line_length_m(pts, n);
        if (len > best)
            best = len;
        n = 0;
        len = 0;
    }
    return best;
}

/* The builder's group of input street s (created on first sight, shared by equal streets of
 * later inputs); its index, or IX_NONE when the streets pass the builder's limit. */
static uint32_t feed_street(struct index_builder *b, const struct index_view *v,
                            const struct str_map *m, const struct ix_street *s)
{
    char comp[B_GROUP_KEY_LEN];
    builder_group_key(comp, remap(m, s->key), s->country, remap(m, s->city_key));
    if (!smap_get(&b->groups, comp, sizeof(comp)) &&
        builder_count_ok(b, "streets", b->n_grps + 1) < 0)
        return IX_NONE;
    int ins;
    uint32_t *gi = smap_put(&b->groups, comp, sizeof(comp), (uint32_t)b->n_grps, &ins);
    double way = s->geom_count ? longest_way_m(v, s) : 0;
    if (way <= 0)
        way = 1e-12; /* the stored point stands: no build recomputes it from the addresses */
    if (ins) {
        FMEM_GROW(&b->tables, b->grps, b->n_grps, b->cap_grps);
        struct b_group *g = &b->grps[b->n_grps++];
        memset(g, 0, sizeof(*g));
        g->key = remap(m, s->key);
        g->name = remap(m, s->name);
        g->city = remap(m, s->city);
        g->city_key = remap(m, s->city_key);
        g->district = remap(m, s->district);
        g->district_key = remap(m, s->district_key);
        g->county = remap(m, s->county);
        g->state = remap(m, s->state);
        memcpy(g->country, s->country, 2);
        g->min_lat = s->min_lat;
        g->min_lon = s->min_lon;
        g->max_lat = s->max_lat;
        g->max_lon = s->max_lon;
        g->way_len = way;
        g->way_lat = s->lat;
        g->way_lon = s->lon;
        g->seq = ++b->seq;
        return *gi;
    }
    struct b_group *g = &b->grps[*gi]; /* the same street in an earlier input */
    if (way > g->way_len) {
        g->way_len = way;
        g->way_lat = s->lat;
        g->way_lon = s->lon;
    }
    if (!g->district) {
        g->district = remap(m, s->district);
        g->district_key = remap(m, s->district_key);
    }
    if (!g->county)
        g->county = remap(m, s->county);
    if (!g->state)
        g->state = remap(m, s->state);
    g->min_lat = s->min_lat < g->min_lat ? s->min_lat : g->min_lat;
    g->min_lon = s->min_lon < g->min_lon ? s->min_lon : g->min_lon;
    g->max_lat = s->max_lat > g->max_lat ? s->max_lat : g->max_lat;
    g->max_lon = s->max_lon > g->max_lon ? s->max_lon : g->max_lon;
    return *gi;
}

/* Add a record of hdr_len bytes at hdr followed by n points to sorter x. */
static int add_with_points(struct index_builder *b, struct xsort *x, const void *hdr,
                           size_t hdr_len, const struct ix_point *pts, size_t n)
{
    size_t len = hdr_len + n * sizeof(struct ix_point);
    VEC_RESERVE(b->scratch, len, b->scratch_cap);
    memcpy(b->scratch, hdr, hdr_len);
    memcpy(b->scratch + hdr_len, pts, n * sizeof(struct ix_point));
    int rc = xsort_add(x, b->scratch, len);
    return rc < 0 ? builder_sort_failed(b, x, rc) : 0;
}

/* A street's ways (split at IX_PART_BREAK) as the builder's ways of group g. */
static int feed_ways(struct index_builder *b, const struct index_view *v, const struct ix_street *s,
                     uint32_t g)
{
    uint32_t k = 0;
    while (k < s->geom_count) {
        uint32_t from = k;
        while (k < s->geom_count && v->points[s->geom_first + k].lat != IX_PART_BREAK)
            k++;
        if (k - from >= 2) {
            struct g_rec w = {g, ++b->seq, k - from};
            if (builder_points_ok(b, w.n_points) < 0 ||
                add_with_points(b, &b->ways, &w, sizeof(w), v->points + s->geom_first + from,
                                w.n_points) < 0)
                return b->rc;
            b->n_ways++;
            b->n_spoints += w.n_points;
        }
        k++; /* past the break */
    }
    return 0;
}

static int cmp_interp_arrival(const void *pa, const void *pb, void *ctx)
{
    const struct index_view *v = ctx;
    uint32_t a = v->interps[*(const uint32_t *)pa].geom_first;
    uint32_t c = v->interps[*(const uint32_t *)pb].geom_first;
    return (a > c) - (a < c);
}

/* The input's addresses into the address sorter, each with its source id. */
static int feed_addresses(struct index_builder *b, const struct index_view *v,
                          const struct str_map *m, const uint32_t *gmap)
{
    for (size_t i = 0; i < v->n_addrs; i++) {
        const struct ix_addr *a = &v->addrs[i];
        if (builder_count_ok(b, "addresses", b->n_addrs + 1) < 0)
            return b->rc;
        struct a_rec o;
        memset(&o, 0, sizeof(o));
        o.lat = a->lat;
        o.lon = a->lon;
        o.number = a->number;
        o.number2 = a->number2;
        memcpy(o.suffix, a->suffix, 3);
        o.flags = a->flags;
        o.raw = remap(m, a->raw);
        o.postcode = remap(m, a->postcode);
        o.group = gmap[a->street];
        o.seq = ++b->seq;
        o.id = a->id; /* with IXA_NO_SOURCE, the writer gives it its new index */
        if (builder_push_address(b, &o) < 0)
            return b->rc;
        if ((i & 4095) == 4095)
            builder_resident(b);
    }
    return 0;
}

/* The input's interpolation lines in arrival order (where their points lie in POINTS): within a
 * street, lines of the same start keep that order in the output. */
static int feed_interps(struct index_builder *b, const struct index_view *v,
                        const struct str_map *m, const uint32_t *gmap)
{
    uint32_t *ord = xmallocarray(v->n_interps + 1, sizeof(uint32_t));
    for (size_t i = 0; i < v->n_interps; i++)
        ord[i] = (uint32_t)i;
    if (v->n_interps > 1)
        qsort_r(ord, v->n_interps, sizeof(*ord), cmp_interp_arrival, (void *)v);
    for (size_t k = 0; k < v->n_interps && !b->rc; k++) {
        const struct ix_interp *it = &v->interps[ord[k]];
        struct i_rec r = {
            .group = gmap[it->street],
            .from = it->from,
            .to = it->to,
            .parity = it->parity,
            .side = it->side <= SIDE_RIGHT ? it->side : SIDE_UNKNOWN,
            .postcode = remap(m, it->postcode),
            .seq = ++b->seq,
            .n_points = it->geom_count,
        };
        if (builder_count_ok(b, "interpolation ranges", b->n_interps + 1) < 0 ||
            builder_points_ok(b, it->geom_count) < 0 ||
            add_with_points(b, &b->interps, &r, sizeof(r), v->points + it->geom_first,
                            it->geom_count) < 0)
            break;
        b->n_interps++;
        b->n_ipoints += it->geom_count;
        b->grps[r.group].has_interp = 1;
    }
    free(ord);
    return b->rc;
}

/* Streets, their ways, addresses and interpolation lines of one input. */
static int feed_streets(struct index_builder *b, const struct index_view *v,
                        const struct str_map *m)
{
    uint32_t *gmap = fmem_realloc(&b->tables, NULL, (v->n_streets + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < v->n_streets && !b->rc; i++)
        gmap[i] = feed_street(b, v, m, &v->streets[i]);
    for (size_t i = 0; i < v->n_streets && !b->rc; i++)
        feed_ways(b, v, &v->streets[i], gmap[i]);
    if (!b->rc)
        feed_addresses(b, v, m, gmap);
    if (!b->rc)
        feed_interps(b, v, m, gmap);
    fmem_free(&b->tables, gmap);
    return b->rc;
}

/* Places (derived ones keep their stored centroid: n = 0), postcodes and admin areas with their
 * rings. */
static int feed_areas(struct index_builder *b, const struct index_view *v, const struct str_map *m)
{
    for (size_t i = 0; i < v->n_places; i++) {
        struct ix_place p = v->places[i];
        p.key = remap(m, p.key);
        p.name = remap(m, p.name);
        p.city = remap(m, p.city);
        p.county = remap(m, p.county);
        p.state = remap(m, p.state);
        if (p.source == 2) { /* derived from addresses: one per builder_place_key() */
            char comp[2200], cc[3] = {p.country[0], p.country[1], 0};
            const struct ix_place *q = &v->places[i];
            size_t n =
                builder_place_key(comp, sizeof(comp), ix_str(v, q->key), cc[0] ? cc : NULL, p.rank,
                                  ix_str(v, q->rank == RANK_CITY ? q->state : q->city));
            int ins;
            smap_put(&b->derived_places, comp, n, (uint32_t)b->n_places, &ins);
            if (!ins)
                continue; /* an earlier input has it: its centroid stands */
        }
        if (builder_count_ok(b, "places", b->n_places + 1) < 0)
            return b->rc;
        FMEM_GROW(&b->tables, b->places, b->n_places, b->cap_places);
        struct b_place *o = &b->places[b->n_places++];
        memset(o, 0, sizeof(*o));
        o->p = p;
        o->info = v->place_info[i];
        o->seq = ++b->seq;
    }
    for (size_t i = 0; i < v->n_postcodes; i++) {
        const struct ix_postcode *p = &v->postcodes[i];
        char comp[1100];
        int n = snprintf(comp, sizeof(comp), "%s\x1f%.2s", ix_str(v, p->key),
                         p->country[0] ? p->country : "--");
        if (builder_count_ok(b, "postcodes", b->n_pcs + 1) < 0)
            return b->rc;
        int ins;
        uint32_t *pi =
            smap_put(&b->postcode_map, comp, n > 0 && (size_t)n < sizeof(comp) ? (size_t)n : 0,
                     (uint32_t)b->n_pcs, &ins);
        if (ins) {
            FMEM_GROW(&b->tables, b->pcs, b->n_pcs, b->cap_pcs);
            struct b_postcode *o = &b->pcs[b->n_pcs++];
            memset(o, 0, sizeof(*o));
            o->p = *p;
            o->p.key = remap(m, p->key);
            o->p.name = remap(m, p->name);
            o->p.city = 0; /* the vote below */
            o->p.count = 0;
        }
        struct b_postcode *o = &b->pcs[*pi];
        if (p->count) { /* the centroid of its addresses, as a sum the writer divides again */
            o->sum_lat += p->lat / IX_COORD_SCALE * p->count;
            o->sum_lon += p->lon / IX_COORD_SCALE * p->count;
            o->p.count += p->count;
        } else {
            o->n_rec++;
            o->rec_lat = p->lat;
            o->rec_lon = p->lon;
        }
        builder_postcode_vote(o, remap(m, p->city), p->count ? p->count : 1);
    }
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        if (builder_count_ok(b, "admin areas", b->n_admins + 1) < 0)
            return b->rc;
        VEC_GROW(b->admins, b->n_admins, b->cap_admins);
        struct ix_admin *o = &b->admins[b->n_admins++];
        *o = *a;
        o->name = remap(m, a->name);
        o->geom_first = 0;
        if (a->geom_count) {
            o->geom_first = (uint32_t)b->n_apoints; /* moved by where the rings start, at write */
            struct r_rec r = {(uint32_t)(b->n_admins - 1), a->geom_count};
            if (builder_points_ok(b, a->geom_count) < 0 ||
                add_with_points(b, &b->rings, &r, sizeof(r), v->points + a->geom_first,
                                a->geom_count) < 0)
                return b->rc;
            b->n_apoints += a->geom_count;
        }
    }
    return 0;
}

/* The input's sources, refusing one that an earlier input already holds. */
static int feed_sources(struct index_builder *b, const struct index_view *v,
                        const struct str_map *m, const char *path, char *err, size_t errlen)
{
    for (size_t i = 0; i < v->n_sources; i++) {
        struct ix_source s = v->sources[i];
        s.name = remap(m, s.name);
        for (size_t k = 0; k < b->n_sources; k++) {
            const struct ix_source *o = &b->sources[k];
            if (o->name == s.name && o->size == s.size && o->mtime == s.mtime &&
                o->format == s.format) {
                gb_errf(err, errlen,
                        "%s: source %s is already in an earlier index: merging would count its "
                        "records twice",
                        path, str_at(b, s.name));
                return GB_EPARAM;
            }
        }
        VEC_GROW(b->sources, b->n_sources, b->cap_sources);
        b->sources[b->n_sources++] = s;
    }
    return 0;
}

/* One input into the builder. */
static int feed_index(struct index_builder *b, const char *path, char *err, size_t errlen)
{
    struct index *ix = NULL;
    char e[512] = "";
    int rc = index_open(&ix, path, e, sizeof(e));
    if (rc < 0) {
        if (e[0] && strncmp(e, path, strlen(path)) == 0) /* the message names the file */
            gb_errf(err, errlen, "%s", e);
        else
            gb_errf(err, errlen, "%s: %s", path, e[0] ? e : gb_strerror(rc));
        return rc;
    }
    const struct index_view *v = index_view(ix);
    struct str_map m = {0};
    rc = map_strings(b, v, &m);
    if (rc == 0)
        rc = feed_sources(b, v, &m, path, err, errlen);
    if (rc == 0 && (rc = feed_streets(b, v, &m)) == 0)
        rc = feed_areas(b, v, &m);
    if (rc < 0 && b->rc)
        gb_errf(err, errlen, "%s: %s", path, b->msg);
    fmem_free(&b->tables, m.old_off);
    fmem_free(&b->tables, m.new_off);
    index_close(ix);
    builder_resident(b);
    return rc;
}

int index_merge(struct index_builder *b, const char *out, const char *const *inputs, size_t n,
                char *err, size_t errlen)
{
    int rc = 0;
    b->keep_line_only = true;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = feed_index(b, inputs[i], err, errlen);
        if (rc == 0)
            log_info("merge input=%s streets=%zu addresses=%llu", inputs[i], b->n_grps,
                     (unsigned long long)b->n_addrs);
    }
    if (rc == 0)
        rc = index_builder_write(b, out, err, errlen);
    return rc;
}
