/*
 * index_build.c - records in: the builder's lifecycle and its sink.
 *
 * The builder keeps compact copies of the records: strings interned once in one blob, every
 * address, interpolation line and way attached to its street group (normalised key, country,
 * city key), places and postcodes derived from the addresses that name them. Repeated raw
 * strings skip normalisation through small caches. index_build_write.c later sorts all of it
 * and writes the file; index_build_int.h is the struct between the two.
 * Single-threaded: one builder belongs to one thread.
 */
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "base/mem.h"
#include "base/smap.h"
#include "record/geo.h"
#include "text/norm.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Offset of s[0..len) in the blob, stored once: a string seen before gives its first offset.
 * NULL or "" gives 0. */
static uint32_t intern_n(struct index_builder *b, const char *s, size_t len)
{
    if (!s || len == 0)
        return 0;
    int ins;
    uint32_t *v = smap_put(&b->strings, s, len, 0, &ins);
    if (!ins)
        return *v;
    VEC_RESERVE(b->blob, b->blob_len + len + 1, b->blob_cap);
    uint32_t off = (uint32_t)b->blob_len;
    memcpy(b->blob + off, s, len);
    b->blob[off + len] = '\0';
    b->blob_len += len + 1;
    *v = off;
    return off;
}

/* intern_n() of a NUL-terminated string (NULL gives 0). */
static uint32_t intern(struct index_builder *b, const char *s)
{
    return s ? intern_n(b, s, strlen(s)) : 0;
}

/* Append a string to the blob without looking for an earlier copy. */
static uint32_t append_unique(struct index_builder *b, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t len = strlen(s);
    VEC_RESERVE(b->blob, b->blob_len + len + 1, b->blob_cap);
    uint32_t off = (uint32_t)b->blob_len;
    memcpy(b->blob + off, s, len + 1);
    b->blob_len += len + 1;
    return off;
}

/*
 * A display name: data written all in capitals ("MCALLISTER ST", San Francisco's address
 * system) is shown in title case ("Mcallister St"); anything with a lower-case letter is kept
 * as written.
 */
static uint32_t intern_display(struct index_builder *b, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s), upper = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || c >= 0x80)
            return intern_n(b, s, n); /* has lower case, or non-ASCII: keep */
        upper += c >= 'A' && c <= 'Z';
    }
    if (upper < 2 || n >= 512)
        return intern_n(b, s, n);
    char t[512];
    bool word_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool letter = c >= 'A' && c <= 'Z';
        t[i] = letter && !word_start ? (char)(c + 32) : c;
        word_start = !(letter || (c >= '0' && c <= '9') || c == '\'');
    }
    return intern_n(b, t, n);
}

/* Allocation failure aborts (base/mem.h), so this returns 0. */
int index_builder_new(struct index_builder **out)
{
    struct index_builder *b = xcalloc(1, sizeof(*b));
    b->limit = INDEX_MAX_REF;
    smap_init(&b->strings);
    smap_init(&b->groups);
    smap_init(&b->raw_groups);
    smap_init(&b->raw_places);
    smap_init(&b->raw_postcodes);
    smap_init(&b->derived_places);
    smap_init(&b->postcode_map);
    b->blob_cap = 1 << 20;
    b->blob = xmalloc(b->blob_cap);
    b->blob[0] = '\0';
    b->blob_len = 1; /* offset 0 is "" */
    *out = b;
    return 0;
}

void index_builder_free(struct index_builder *b)
{
    if (!b)
        return;
    smap_release(&b->strings);
    smap_release(&b->groups);
    smap_release(&b->raw_groups);
    smap_release(&b->raw_places);
    smap_release(&b->raw_postcodes);
    smap_release(&b->derived_places);
    smap_release(&b->postcode_map);
    free(b->blob);
    free(b->addrs);
    free(b->grps);
    free(b->interps);
    free(b->points);
    free(b->spoints);
    free(b->sgeoms);
    free(b->apoints);
    free(b->places);
    free(b->pcs);
    free(b->admins);
    free(b->sources);
    free(b);
}

/* The ISO 3166 alpha-2 code of c (two letters upper-cased, or a country name looked up with
 * norm_country), or two NULs when there is none. */
static void country2(char out[2], const char *c)
{
    out[0] = out[1] = '\0';
    if (c && c[0] && c[1] && !c[2]) {
        out[0] = (char)(c[0] & ~0x20);
        out[1] = (char)(c[1] & ~0x20);
    } else if (c && c[0]) {
        const char *iso2 = norm_country(c, strlen(c));
        if (iso2) {
            out[0] = iso2[0];
            out[1] = iso2[1];
        }
    }
}

/* The normalised key of s into out[cap]; return its length, 0 when s is empty or has none. */
static size_t key_of(const char *s, const char *country, char *out, size_t cap)
{
    if (!s || !*s)
        return 0;
    int n = norm_key(s, strlen(s), country, out, cap);
    return n > 0 ? (size_t)n : 0;
}

/* "a\x1fb\x1fc" into out (NULL parts are empty). Return its length, or 0 when it does not fit:
 * the key of the raw-string caches. */
static size_t join3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a ? a : "", b ? b : "", c ? c : ""};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (n + l + 2 > cap)
            return 0;
        memcpy(out + n, parts[i], l);
        n += l;
        if (i < 2)
            out[n++] = '\x1f';
    }
    return n;
}

/* Fill in what a group learns from a later record of it. */
static void group_update(struct index_builder *b, struct b_group *g, const struct record *r)
{
    if (!g->district && r->district && *r->district) {
        char dkey[NORM_MAX];
        char ccs[3] = {g->country[0], g->country[1], '\0'};
        size_t dlen = key_of(r->district, ccs[0] ? ccs : NULL, dkey, sizeof(dkey));
        g->district = intern(b, r->district);
        g->district_key = intern_n(b, dkey, dlen);
    }
    if (!g->county)
        g->county = intern(b, r->county);
    if (!g->state)
        g->state = intern(b, r->state);
}

static long group_of_norm(struct index_builder *b, const struct record *r, const char *street);

/* Find or create the street group of (street, country, city); the same raw strings seen before
 * skip normalisation. Return its index, or -1 when the street has no usable key. */
static long group_of(struct index_builder *b, const struct record *r, const char *street)
{
    char raw[3 * NORM_MAX];
    size_t rn = join3(raw, sizeof(raw), street, r->country, r->city);
    uint32_t *v = rn ? smap_get(&b->raw_groups, raw, rn) : NULL;
    if (v) {
        group_update(b, &b->grps[*v], r);
        return (long)*v;
    }
    long g = group_of_norm(b, r, street);
    if (g >= 0 && rn) {
        int ins;
        smap_put(&b->raw_groups, raw, rn, (uint32_t)g, &ins);
    }
    return g;
}

/* group_of() the slow way: normalise street and city to find or create the group. */
static long group_of_norm(struct index_builder *b, const struct record *r, const char *street)
{
    char key[NORM_MAX], ckey[NORM_MAX], comp[3 * NORM_MAX];
    char cc[2];
    country2(cc, r->country);
    char ccs[3] = {cc[0], cc[1], '\0'};
    size_t klen = key_of(street, cc[0] ? ccs : NULL, key, sizeof(key));
    if (klen == 0)
        return -1;
    const char *city = r->city && *r->city ? r->city : NULL;
    size_t clen = key_of(city, cc[0] ? ccs : NULL, ckey, sizeof(ckey));
    int n = snprintf(comp, sizeof(comp), "%s\x1f%c%c\x1f%s", key, cc[0] ? cc[0] : '-',
                     cc[1] ? cc[1] : '-', clen ? ckey : "");
    int ins;
    uint32_t *v = smap_put(&b->groups, comp, (size_t)n, (uint32_t)b->n_grps, &ins);
    if (ins) {
        VEC_GROW(b->grps, b->n_grps, b->cap_grps);
        struct b_group *g = &b->grps[b->n_grps++];
        memset(g, 0, sizeof(*g));
        g->key = intern_n(b, key, klen);
        g->name = intern_display(b, street);
        g->city = intern_display(b, city);
        g->city_key = intern_n(b, ckey, clen);
        char dkey[NORM_MAX];
        size_t dlen = key_of(r->district, cc[0] ? ccs : NULL, dkey, sizeof(dkey));
        g->district = intern(b, r->district);
        g->district_key = intern_n(b, dkey, dlen);
        g->county = intern(b, r->county);
        g->state = intern(b, r->state);
        memcpy(g->country, cc, 2);
        g->seq = b->seq;
    } else {
        group_update(b, &b->grps[*v], r);
    }
    return (long)*v;
}

/* Derived places: every city and district named by an address, at the centroid of them. */
static void derive_place(struct index_builder *b, const char *name, int rank, const char *cc,
                         const struct record *r)
{
    char raw[3 * NORM_MAX];
    size_t rn = join3(raw, sizeof(raw), name, cc, rank == RANK_CITY ? "c" : "d");
    uint32_t *cached = rn ? smap_get(&b->raw_places, raw, rn) : NULL;
    if (cached) {
        struct b_place *p = &b->places[*cached];
        p->sum_lat += r->lat;
        p->sum_lon += r->lon;
        p->n++;
        return;
    }
    char key[NORM_MAX], comp[NORM_MAX + 8];
    size_t klen = key_of(name, cc, key, sizeof(key));
    if (klen == 0)
        return;
    int n = snprintf(comp, sizeof(comp), "%s\x1f%s\x1f%d", key, cc ? cc : "--", rank);
    int ins;
    uint32_t *v = smap_put(&b->derived_places, comp, (size_t)n, (uint32_t)b->n_places, &ins);
    if (ins) {
        VEC_GROW(b->places, b->n_places, b->cap_places);
        struct b_place *p = &b->places[b->n_places++];
        memset(p, 0, sizeof(*p));
        p->p.key = intern_n(b, key, klen);
        p->p.name = intern(b, name);
        p->p.city = intern(b, rank == RANK_CITY ? name : r->city);
        p->p.county = intern(b, r->county);
        p->p.state = intern(b, r->state);
        if (cc) {
            p->p.country[0] = cc[0];
            p->p.country[1] = cc[1];
        }
        p->p.rank = (uint8_t)rank;
        p->p.source = 2;
        p->seq = b->seq;
    }
    struct b_place *p = &b->places[*v];
    p->sum_lat += r->lat;
    p->sum_lon += r->lon;
    p->n++;
    if (rn) {
        int raw_ins;
        smap_put(&b->raw_places, raw, rn, *v, &raw_ins);
    }
}

/* Count r toward the postcode pc of country cc: as its own record (from_record: the point
 * where the record puts it) or as one of the addresses it centres on. */
static void derive_postcode(struct index_builder *b, const char *pc, const char *cc,
                            const struct record *r, int from_record)
{
    char raw[3 * NORM_MAX];
    size_t rn = join3(raw, sizeof(raw), pc, cc, NULL);
    uint32_t *v = rn ? smap_get(&b->raw_postcodes, raw, rn) : NULL;
    int ins = 0;
    if (!v) {
        char key[64], comp[80];
        size_t klen = norm_postcode(pc, strlen(pc), false, key, sizeof(key));
        if (klen == 0)
            return;
        int n = snprintf(comp, sizeof(comp), "%s\x1f%s", key, cc ? cc : "--");
        v = smap_put(&b->postcode_map, comp, (size_t)n, (uint32_t)b->n_pcs, &ins);
        if (ins) {
            VEC_GROW(b->pcs, b->n_pcs, b->cap_pcs);
            struct b_postcode *p = &b->pcs[b->n_pcs++];
            memset(p, 0, sizeof(*p));
            p->p.key = intern_n(b, key, klen);
            p->p.name = intern(b, pc);
            if (cc) {
                p->p.country[0] = cc[0];
                p->p.country[1] = cc[1];
            }
        }
        if (rn) {
            int raw_ins;
            uint32_t idx = *v;
            smap_put(&b->raw_postcodes, raw, rn, idx, &raw_ins);
            v = smap_get(&b->postcode_map, comp, (size_t)n);
        }
    }
    struct b_postcode *p = &b->pcs[*v];
    if (!p->p.city && r->city && *r->city)
        p->p.city = intern(b, r->city);
    if (from_record) {
        p->n_rec++;
        p->rec_lat = to_fix(r->lat);
        p->rec_lon = to_fix(r->lon);
    } else {
        p->sum_lat += r->lat;
        p->sum_lon += r->lon;
        p->p.count++;
    }
}

/* A real point: finite, in range, and not the 0,0 of missing data. */
static bool coord_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 &&
           !(lat == 0 && lon == 0);
}

/* The add_* functions keep one record of their kind, dropping it quietly when it cannot be
 * found or placed (no number, street or usable point). Each returns 0 (or a sink error). */
static int add_address(struct index_builder *b, const struct record *r)
{
    if (!r->number || !coord_ok(r->lat, r->lon))
        return 0;
    struct hnum h;
    if (norm_hnum(r->number, strlen(r->number), &h) < 0)
        return 0;
    const char *street = r->street;
    if (!street || !*street)
        return 0; /* nothing to find it by */
    long g = group_of(b, r, street);
    if (g < 0)
        return 0;
    char cc[3];
    country2(cc, r->country);
    cc[2] = '\0';
    VEC_GROW(b->addrs, b->n_addrs, b->cap_addrs);
    struct b_addr *a = &b->addrs[b->n_addrs++];
    memset(a, 0, sizeof(*a));
    a->lat = to_fix(r->lat);
    a->lon = to_fix(r->lon);
    a->number = (int32_t)h.number;
    a->number2 = (int32_t)h.number2;
    memcpy(a->suffix, h.suffix, strnlen(h.suffix, sizeof(a->suffix)));
    a->flags = (uint8_t)((h.is_slash ? IXA_SLASH : 0) | (h.is_range ? IXA_RANGE : 0));
    a->raw = intern(b, r->number);
    a->postcode = intern(b, r->postcode);
    a->source = append_unique(b, r->source_id); /* ids rarely repeat: not worth a lookup */
    a->group = (uint32_t)g;
    a->seq = b->seq;
    struct b_group *gr = &b->grps[g];
    bbox_add(gr, a->lat, a->lon);
    gr->sum_lat += r->lat;
    gr->sum_lon += r->lon;
    gr->n_addr++;
    const char *ccp = cc[0] ? cc : NULL;
    if (r->city && *r->city)
        derive_place(b, r->city, RANK_CITY, ccp, r);
    if (r->district && *r->district)
        derive_place(b, r->district, RANK_DISTRICT, ccp, r);
    if (r->postcode && *r->postcode)
        derive_postcode(b, r->postcode, ccp, r, 0);
    return 0;
}

/* A street: its longest way gives its point, ways of two or more points are kept as its
 * geometry, and each alternative name is a street of its own. */
static int add_street(struct index_builder *b, const struct record *r)
{
    const char *name = r->name ? r->name : r->street;
    if (!name || !*name)
        return 0;
    long g = group_of(b, r, name);
    if (g < 0)
        return 0;
    struct b_group *gr = &b->grps[g];
    struct rec_point mid = {r->lat, r->lon};
    double len = 0;
    if (r->geom && r->n_geom > 0) {
        mid = geo_line_point_at(r->geom, r->n_geom, 0.5);
        len = geo_line_length_m(r->geom, r->n_geom);
        for (size_t i = 0; i < r->n_geom; i++)
            bbox_add(gr, to_fix(r->geom[i].lat), to_fix(r->geom[i].lon));
    } else if (!coord_ok(r->lat, r->lon))
        return 0;
    if (len >= gr->way_len) {
        gr->way_len = len > 0 ? len : 1e-12;
        gr->way_lat = to_fix(mid.lat);
        gr->way_lon = to_fix(mid.lon);
    }
    if (r->geom && r->n_geom >= 2) {
        VEC_GROW(b->sgeoms, b->n_sgeoms, b->cap_sgeoms);
        struct b_sgeom *sg = &b->sgeoms[b->n_sgeoms++];
        sg->group = (uint32_t)g;
        sg->first = (uint32_t)b->n_spoints;
        sg->count = (uint32_t)r->n_geom;
        sg->seq = b->seq;
        for (size_t i = 0; i < r->n_geom; i++) {
            VEC_GROW(b->spoints, b->n_spoints, b->cap_spoints);
            b->spoints[b->n_spoints].lat = to_fix(r->geom[i].lat);
            b->spoints[b->n_spoints].lon = to_fix(r->geom[i].lon);
            b->n_spoints++;
        }
    }
    /* Alternative names of a street are streets of their own at the same place. */
    for (size_t i = 0; i < r->n_alt; i++) {
        struct record alt = *r;
        alt.name = r->alt_names[i];
        alt.alt_names = NULL;
        alt.n_alt = 0;
        int rc = add_street(b, &alt);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* An interpolation line of a street, its points kept in points. */
static int add_interp(struct index_builder *b, const struct record *r)
{
    if (!r->street || !r->geom || r->n_geom < 2 || r->from < 0 || r->to < 0)
        return 0;
    long g = group_of(b, r, r->street);
    if (g < 0)
        return 0;
    VEC_GROW(b->interps, b->n_interps, b->cap_interps);
    struct b_interp *it = &b->interps[b->n_interps++];
    it->group = (uint32_t)g;
    it->from = (int32_t)r->from;
    it->to = (int32_t)r->to;
    it->parity = r->parity;
    it->geom_first = (uint32_t)b->n_points;
    it->geom_count = (uint32_t)r->n_geom;
    it->postcode = intern(b, r->postcode);
    it->seq = b->seq;
    struct b_group *gr = &b->grps[g];
    for (size_t i = 0; i < r->n_geom; i++) {
        VEC_GROW(b->points, b->n_points, b->cap_points);
        b->points[b->n_points].lat = to_fix(r->geom[i].lat);
        b->points[b->n_points].lon = to_fix(r->geom[i].lon);
        bbox_add(gr, b->points[b->n_points].lat, b->points[b->n_points].lon);
        b->n_points++;
    }
    if (gr->way_len == 0) {
        struct rec_point mid = geo_line_point_at(r->geom, r->n_geom, 0.5);
        gr->way_len = 1e-12;
        gr->way_lat = to_fix(mid.lat);
        gr->way_lon = to_fix(mid.lon);
    }
    char cc[3];
    country2(cc, r->country);
    cc[2] = '\0';
    if (r->postcode && *r->postcode) {
        struct record c = *r;
        struct rec_point mid = geo_line_point_at(r->geom, r->n_geom, 0.5);
        c.lat = mid.lat;
        c.lon = mid.lon;
        derive_postcode(b, r->postcode, cc[0] ? cc : NULL, &c, 0);
    }
    return 0;
}

/* A place under its name and each alternative name; source is 0 for place records, 1 for
 * admin areas. */
static int add_place(struct index_builder *b, const struct record *r, int source)
{
    if (!r->name || !coord_ok(r->lat, r->lon))
        return 0;
    char cc[3];
    country2(cc, r->country);
    cc[2] = '\0';
    for (size_t i = 0; i <= r->n_alt; i++) {
        const char *name = i == 0 ? r->name : r->alt_names[i - 1];
        char key[NORM_MAX];
        size_t klen = key_of(name, cc[0] ? cc : NULL, key, sizeof(key));
        if (klen == 0)
            continue;
        VEC_GROW(b->places, b->n_places, b->cap_places);
        struct b_place *p = &b->places[b->n_places++];
        memset(p, 0, sizeof(*p));
        p->p.key = intern_n(b, key, klen);
        p->p.name = intern(b, r->name);
        p->p.city = intern(b, r->rank <= RANK_CITY ? r->name : r->city);
        p->p.county = intern(b, r->county);
        p->p.state = intern(b, r->state);
        memcpy(p->p.country, cc, 2);
        p->p.rank = (uint8_t)(r->rank ? r->rank : RANK_CITY);
        p->p.source = (uint8_t)source;
        p->p.lat = to_fix(r->lat);
        p->p.lon = to_fix(r->lon);
        p->seq = b->seq;
    }
    return 0;
}

/* An admin area with its ring (when it has three points or more) and bounding box; an area of
 * county rank or finer (county, city, district...) is a place too. */
static int add_admin(struct index_builder *b, const struct record *r)
{
    if (!r->name)
        return 0;
    VEC_GROW(b->admins, b->n_admins, b->cap_admins);
    struct ix_admin *a = &b->admins[b->n_admins++];
    memset(a, 0, sizeof(*a));
    a->name = intern(b, r->name);
    a->rank = (uint32_t)r->rank;
    country2(a->country, r->country);
    a->lat = to_fix(r->lat);
    a->lon = to_fix(r->lon);
    a->min_lat = a->max_lat = a->lat;
    a->min_lon = a->max_lon = a->lon;
    if (r->n_geom >= 3) {
        a->geom_first = (uint32_t)b->n_apoints;
        a->geom_count = (uint32_t)r->n_geom;
    }
    for (size_t i = 0; i < r->n_geom; i++) {
        int32_t la = to_fix(r->geom[i].lat), lo = to_fix(r->geom[i].lon);
        if (r->n_geom >= 3) {
            VEC_GROW(b->apoints, b->n_apoints, b->cap_apoints);
            b->apoints[b->n_apoints].lat = la;
            b->apoints[b->n_apoints].lon = lo;
            b->n_apoints++;
        }
        if (i == 0 || la < a->min_lat)
            a->min_lat = la;
        if (i == 0 || la > a->max_lat)
            a->max_lat = la;
        if (i == 0 || lo < a->min_lon)
            a->min_lon = lo;
        if (i == 0 || lo > a->max_lon)
            a->max_lon = lo;
    }
    if (r->rank >= RANK_COUNTY && r->rank > RANK_COUNTRY)
        return add_place(b, r, 1);
    return 0;
}

/* The sink: every record counts for the current source, then goes to its kind's add_*. */
static int builder_emit(void *ctx, const struct record *r)
{
    struct index_builder *b = ctx;
    b->seq++;
    if (b->n_sources)
        b->sources[b->n_sources - 1].records++;
    switch (r->kind) {
    case REC_ADDRESS:
        return add_address(b, r);
    case REC_STREET:
        return add_street(b, r);
    case REC_INTERP:
        return add_interp(b, r);
    case REC_PLACE:
        return add_place(b, r, 0);
    case REC_POSTCODE: {
        if (!r->name || !coord_ok(r->lat, r->lon))
            return 0;
        char cc[3];
        country2(cc, r->country);
        cc[2] = '\0';
        derive_postcode(b, r->name, cc[0] ? cc : NULL, r, 1);
        return 0;
    }
    case REC_ADMIN:
        return add_admin(b, r);
    }
    return 0;
}

struct rec_sink index_builder_sink(struct index_builder *b)
{
    struct rec_sink s = {builder_emit, b};
    return s;
}

int index_builder_add_source(struct index_builder *b, const char *path, int format)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    VEC_GROW(b->sources, b->n_sources, b->cap_sources);
    struct ix_source *s = &b->sources[b->n_sources++];
    memset(s, 0, sizeof(*s));
    const char *base = strrchr(path, '/');
    s->name = intern(b, base ? base + 1 : path);
    s->size = (uint64_t)st.st_size;
    s->mtime = (int64_t)st.st_mtime;
    s->format = (uint32_t)format;
    return 0;
}

void index_builder_set_limit(struct index_builder *b, uint64_t limit)
{
    b->limit = limit < INDEX_MAX_REF ? limit : INDEX_MAX_REF;
}
