/*
 * index_merge.c - several index files in, one index out: what `geobatch import` would have
 * built from all their inputs, read in the order the indexes are given.
 *
 * Each input is opened (every checksum verified), its tables are fed into one builder
 * (index_build_int.h) as the builder had them before it wrote that input, and the input is
 * closed before the next is opened: memory is the builder's, plus one mapped input. The
 * builder's write phases then run as for an import. What makes the result equal to a joint
 * import, byte for byte, when the inputs share no street (no street key, country and city key
 * in two of them: indexes of different countries):
 *   - STRINGS: the import interns strings in first-use order and appends each address's
 *     source id without looking for an earlier copy. An input's string section is its own
 *     import's first-use order, so the joint order is input 1's section, then each later
 *     input's strings in their order, less those an earlier input already interned; a source
 *     id (a string an address points at as its source) is always appended. The one guess: a
 *     string no table points at (left by an address stored once for two) is taken for a source
 *     id when it has the shape of the input's source ids, else for an interned string; a
 *     wrong guess moves string offsets, never an answer.
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

/* Where an input's strings went: item starts (ascending) and their offsets in the output. */
struct str_map {
    uint32_t *old_off, *new_off;
    size_t n;
};

/* Append s[0..len) and its NUL to the builder's blob; return its offset. */
static uint32_t blob_append(struct index_builder *b, const char *s, size_t len)
{
    VEC_RESERVE(b->blob, b->blob_len + len + 1, b->blob_cap);
    uint32_t off = (uint32_t)b->blob_len;
    memcpy(b->blob + off, s, len);
    b->blob[off + len] = '\0';
    b->blob_len += len + 1;
    return off;
}

/* Bit off of a bitmap. */
static void bit_set(uint8_t *bits, uint32_t off)
{
    bits[off >> 3] |= (uint8_t)(1u << (off & 7));
}

static bool bit_get(const uint8_t *bits, uint32_t off)
{
    return bits[off >> 3] >> (off & 7) & 1;
}

/* A string's shape: its length (up to 255) and which of digits, lower-case, upper-case and
 * other bytes it has; 4,096 shapes. */
static unsigned shape_of(const char *s, size_t len)
{
    unsigned cls = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        cls |= c >= '0' && c <= '9'   ? 1u
               : c >= 'a' && c <= 'z' ? 2u
               : c >= 'A' && c <= 'Z' ? 4u
                                      : 8u;
    }
    return (unsigned)(len > 255 ? 255 : len) << 4 | cls;
}

/* The strings tables point at: every reference but the addresses' source ids into ref, those
 * into src, and the shapes of the source ids into shapes. */
static void mark_references(const struct index_view *v, uint8_t *ref, uint8_t *src, bool *shapes)
{
    for (size_t i = 0; i < v->n_sources; i++)
        bit_set(ref, v->sources[i].name);
    for (size_t i = 0; i < v->n_streets; i++) {
        const struct ix_street *t = &v->streets[i];
        const uint32_t f[] = {t->key,          t->name,     t->city,   t->city_key, t->district,
                              t->district_key, t->postcode, t->county, t->state};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            bit_set(ref, f[k]);
    }
    for (size_t i = 0; i < v->n_addrs; i++) {
        bit_set(ref, v->addrs[i].raw);
        bit_set(ref, v->addrs[i].postcode);
        uint32_t so = v->addrs[i].source;
        bit_set(src, so);
        shapes[shape_of(ix_str(v, so), strlen(ix_str(v, so)))] = true;
    }
    for (size_t i = 0; i < v->n_interps; i++)
        bit_set(ref, v->interps[i].postcode);
    for (size_t i = 0; i < v->n_places; i++) {
        const struct ix_place *p = &v->places[i];
        const uint32_t f[] = {p->key, p->name, p->city, p->county, p->state};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            bit_set(ref, f[k]);
    }
    for (size_t i = 0; i < v->n_postcodes; i++) {
        bit_set(ref, v->postcodes[i].key);
        bit_set(ref, v->postcodes[i].name);
        bit_set(ref, v->postcodes[i].city);
    }
    for (size_t i = 0; i < v->n_admins; i++)
        bit_set(ref, v->admins[i].name);
}

/*
 * Carry the input's STRINGS into the builder in the order of a joint import (the file's
 * comment) and fill m. A string no table points at was left by a record the build dropped:
 * almost always the source id of an address stored once for two (an id is appended, never
 * interned), else a string of that record interned; it is taken for a source id when it has
 * the shape (length, kinds of characters) of one of the input's source ids. Return 0, or
 * GB_ELIMIT when the strings pass the builder's limit.
 */
static int map_strings(struct index_builder *b, const struct index_view *v, struct str_map *m,
                       char *err, size_t errlen)
{
    size_t nbits = v->strings_len / 8 + 1;
    uint8_t *ref = xcalloc(nbits, 1), *src = xcalloc(nbits, 1);
    bool *shapes = xcalloc(4096, sizeof(bool));
    mark_references(v, ref, src, shapes);
    size_t items = 0;
    for (size_t i = 1; i < v->strings_len; i++)
        items += v->strings[i] == '\0';
    m->old_off = xmallocarray(items + 1, sizeof(uint32_t));
    m->new_off = xmallocarray(items + 1, sizeof(uint32_t));
    m->n = 0;
    size_t start = b->blob_len; /* this input's strings begin here */
    int rc = 0;
    for (size_t off = 1; off < v->strings_len;) {
        const char *s = v->strings + off;
        size_t len = strlen(s);
        uint32_t key = (uint32_t)off, out;
        if (b->blob_len + len + 1 > b->limit) {
            gb_errf(err, errlen,
                    "index too large: the string section's bytes pass %llu, the most a 32-bit "
                    "reference can address",
                    (unsigned long long)b->limit);
            rc = GB_ELIMIT;
            break;
        }
        bool appended = bit_get(src, key) || (!bit_get(ref, key) && shapes[shape_of(s, len)]);
        if (appended) {
            out = blob_append(b, s, len);
        } else {
            int ins;
            uint32_t *val = smap_put(&b->strings, s, len, (uint32_t)b->blob_len, &ins);
            if (ins)
                out = blob_append(b, s, len);
            else if (*val >= start) /* a second copy within one input: not interned */
                out = blob_append(b, s, len);
            else
                out = *val;
        }
        m->old_off[m->n] = key;
        m->new_off[m->n] = out;
        m->n++;
        off += len + 1;
    }
    free(ref);
    free(src);
    free(shapes);
    return rc;
}

/* The output offset of the input's string at off (0 stays 0; validated at open). */
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
 * later inputs); its index. */
static uint32_t feed_street(struct index_builder *b, const struct index_view *v,
                            const struct str_map *m, const struct ix_street *s)
{
    char comp[3 * 1024];
    const char *key = ix_str(v, s->key), *ckey = ix_str(v, s->city_key);
    int n =
        snprintf(comp, sizeof(comp), "%s\x1f%c%c\x1f%s", key, s->country[0] ? s->country[0] : '-',
                 s->country[1] ? s->country[1] : '-', ckey);
    size_t clen = n > 0 && (size_t)n < sizeof(comp) ? (size_t)n : sizeof(comp) - 1;
    int ins;
    uint32_t *gi = smap_put(&b->groups, comp, clen, (uint32_t)b->n_grps, &ins);
    double way = s->geom_count ? longest_way_m(v, s) : 0;
    if (way <= 0)
        way = 1e-12; /* the stored point stands: no build recomputes it from the addresses */
    if (ins) {
        VEC_GROW(b->grps, b->n_grps, b->cap_grps);
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

/* A street's ways (split at IX_PART_BREAK) as the builder's street geometry of group g. */
static void feed_ways(struct index_builder *b, const struct index_view *v,
                      const struct ix_street *s, uint32_t g)
{
    uint32_t k = 0;
    while (k < s->geom_count) {
        uint32_t from = k;
        while (k < s->geom_count && v->points[s->geom_first + k].lat != IX_PART_BREAK)
            k++;
        if (k - from >= 2) {
            VEC_GROW(b->sgeoms, b->n_sgeoms, b->cap_sgeoms);
            struct b_sgeom *sg = &b->sgeoms[b->n_sgeoms++];
            sg->group = g;
            sg->first = (uint32_t)b->n_spoints;
            sg->count = k - from;
            sg->seq = ++b->seq;
            VEC_RESERVE(b->spoints, b->n_spoints + sg->count, b->cap_spoints);
            memcpy(b->spoints + b->n_spoints, v->points + s->geom_first + from,
                   sg->count * sizeof(struct ix_point));
            b->n_spoints += sg->count;
        }
        k++; /* past the break */
    }
}

static int cmp_interp_arrival(const void *pa, const void *pb, void *ctx)
{
    const struct index_view *v = ctx;
    uint32_t a = v->interps[*(const uint32_t *)pa].geom_first;
    uint32_t c = v->interps[*(const uint32_t *)pb].geom_first;
    return (a > c) - (a < c);
}

/* Streets, their ways, addresses and interpolation lines of one input. */
static void feed_streets(struct index_builder *b, const struct index_view *v,
                         const struct str_map *m)
{
    uint32_t *gmap = xmallocarray(v->n_streets + 1, sizeof(uint32_t));
    for (size_t i = 0; i < v->n_streets; i++)
        gmap[i] = feed_street(b, v, m, &v->streets[i]);
    for (size_t i = 0; i < v->n_streets; i++)
        feed_ways(b, v, &v->streets[i], gmap[i]);
    VEC_RESERVE(b->addrs, b->n_addrs + v->n_addrs, b->cap_addrs);
    for (size_t i = 0; i < v->n_addrs; i++) {
        const struct ix_addr *a = &v->addrs[i];
        struct b_addr *o = &b->addrs[b->n_addrs++];
        memset(o, 0, sizeof(*o));
        o->lat = a->lat;
        o->lon = a->lon;
        o->number = a->number;
        o->number2 = a->number2;
        memcpy(o->suffix, a->suffix, 3);
        o->flags = a->flags;
        o->raw = remap(m, a->raw);
        o->postcode = remap(m, a->postcode);
        o->source = remap(m, a->source);
        o->group = gmap[a->street];
        o->seq = ++b->seq;
        b->grps[o->group].n_addr++;
    }
    /* interpolation lines in arrival order: their points lie in POINTS in that order */
    uint32_t *ord = xmallocarray(v->n_interps + 1, sizeof(uint32_t));
    for (size_t i = 0; i < v->n_interps; i++)
        ord[i] = (uint32_t)i;
    if (v->n_interps > 1)
        qsort_r(ord, v->n_interps, sizeof(*ord), cmp_interp_arrival, (void *)v);
    for (size_t k = 0; k < v->n_interps; k++) {
        const struct ix_interp *it = &v->interps[ord[k]];
        VEC_GROW(b->interps, b->n_interps, b->cap_interps);
        struct b_interp *o = &b->interps[b->n_interps++];
        o->group = gmap[it->street];
        o->from = it->from;
        o->to = it->to;
        o->parity = it->parity;
        o->geom_first = (uint32_t)b->n_points;
        o->geom_count = it->geom_count;
        o->postcode = remap(m, it->postcode);
        o->seq = ++b->seq;
        VEC_RESERVE(b->points, b->n_points + it->geom_count, b->cap_points);
        memcpy(b->points + b->n_points, v->points + it->geom_first,
               it->geom_count * sizeof(struct ix_point));
        b->n_points += it->geom_count;
    }
    free(ord);
    free(gmap);
}

/* Places (derived ones keep their stored centroid: n = 0), postcodes and admin areas. */
static void feed_areas(struct index_builder *b, const struct index_view *v, const struct str_map *m)
{
    for (size_t i = 0; i < v->n_places; i++) {
        struct ix_place p = v->places[i];
        p.key = remap(m, p.key);
        p.name = remap(m, p.name);
        p.city = remap(m, p.city);
        p.county = remap(m, p.county);
        p.state = remap(m, p.state);
        if (p.source == 2) { /* derived from addresses: one per key, country and rank */
            char comp[1100];
            int n = snprintf(comp, sizeof(comp), "%s\x1f%.2s\x1f%d", ix_str(v, v->places[i].key),
                             p.country[0] ? p.country : "--", p.rank);
            int ins;
            smap_put(&b->derived_places, comp, n > 0 && (size_t)n < sizeof(comp) ? (size_t)n : 0,
                     (uint32_t)b->n_places, &ins);
            if (!ins)
                continue; /* an earlier input has it: its centroid stands */
        }
        VEC_GROW(b->places, b->n_places, b->cap_places);
        struct b_place *o = &b->places[b->n_places++];
        memset(o, 0, sizeof(*o));
        o->p = p;
        o->seq = ++b->seq;
    }
    for (size_t i = 0; i < v->n_postcodes; i++) {
        const struct ix_postcode *p = &v->postcodes[i];
        char comp[1100];
        int n = snprintf(comp, sizeof(comp), "%s\x1f%.2s", ix_str(v, p->key),
                         p->country[0] ? p->country : "--");
        int ins;
        uint32_t *pi =
            smap_put(&b->postcode_map, comp, n > 0 && (size_t)n < sizeof(comp) ? (size_t)n : 0,
                     (uint32_t)b->n_pcs, &ins);
        if (ins) {
            VEC_GROW(b->pcs, b->n_pcs, b->cap_pcs);
            struct b_postcode *o = &b->pcs[b->n_pcs++];
            memset(o, 0, sizeof(*o));
            o->p = *p;
            o->p.key = remap(m, p->key);
            o->p.name = remap(m, p->name);
            o->p.city = remap(m, p->city);
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
        if (!o->p.city)
            o->p.city = remap(m, p->city);
    }
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        VEC_GROW(b->admins, b->n_admins, b->cap_admins);
        struct ix_admin *o = &b->admins[b->n_admins++];
        *o = *a;
        o->name = remap(m, a->name);
        o->geom_first = 0;
        if (a->geom_count) {
            o->geom_first = (uint32_t)b->n_apoints;
            VEC_RESERVE(b->apoints, b->n_apoints + a->geom_count, b->cap_apoints);
            memcpy(b->apoints + b->n_apoints, v->points + a->geom_first,
                   a->geom_count * sizeof(struct ix_point));
            b->n_apoints += a->geom_count;
        }
    }
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
        gb_errf(err, errlen, "%s: %s", path, e[0] ? e : gb_strerror(rc));
        return rc;
    }
    const struct index_view *v = index_view(ix);
    struct str_map m = {0};
    rc = map_strings(b, v, &m, err, errlen);
    if (rc == 0)
        rc = feed_sources(b, v, &m, path, err, errlen);
    if (rc == 0) {
        feed_streets(b, v, &m);
        feed_areas(b, v, &m);
    }
    free(m.old_off);
    free(m.new_off);
    index_close(ix);
    return rc;
}

int index_merge(const char *out, const char *const *inputs, size_t n, char *err, size_t errlen)
{
    struct index_builder *b = NULL;
    int rc = index_builder_new(&b);
    if (rc < 0)
        return rc;
    b->keep_line_only = true;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = feed_index(b, inputs[i], err, errlen);
        if (rc == 0)
            log_info("merge input=%s streets=%zu addresses=%zu", inputs[i], b->n_grps, b->n_addrs);
    }
    if (rc == 0)
        rc = index_builder_write(b, out, err, errlen);
    index_builder_free(b);
    return rc;
}
