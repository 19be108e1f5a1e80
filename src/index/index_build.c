/*
 * index_build.c - records in, one immutable index file out.
 *
 * The builder keeps compact copies of the records (strings interned once), then groups
 * addresses by street (normalised key, country, city key), sorts every table with a total
 * order so that the same input gives a byte-identical file, and writes the sections of
 * index_format.h to a temporary file that is fsynced and renamed into place.
 * Single-threaded: one builder belongs to one thread.
 */
#include "index/index.h"
#include "base/err.h"
#include "record/geo.h"
#include "index/index_format.h"
#include "base/log.h"
#include "text/norm.h"
#include "base/smap.h"
#include "base/mem.h"
#include "base/hash.h"
#include "base/fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DEDUP_METRES 50.0

struct b_addr {
    int32_t lat, lon;
    int32_t number, number2;
    char suffix[3];
    uint8_t flags;
    uint32_t raw, postcode, source;
    uint32_t group;
    uint32_t seq; /* arrival order: the last tie-breaker */
};

struct b_group {
    uint32_t key, name, city, city_key, district, district_key, county, state;
    char country[2];
    double sum_lat, sum_lon;
    uint32_t n_addr;
    int32_t min_lat, min_lon, max_lat, max_lon;
    int32_t way_lat, way_lon; /* middle of the longest way seen */
    double way_len;
    uint32_t seq;
};

struct b_interp {
    uint32_t group;
    int32_t from, to;
    uint32_t parity;
    uint32_t geom_first, geom_count;
    uint32_t postcode;
    uint32_t seq;
};

/* One way of a street: its points in spoints. */
struct b_sgeom {
    uint32_t group;
    uint32_t first, count;
    uint32_t seq;
};

struct b_place {
    struct ix_place p;
    uint32_t seq;
    double sum_lat, sum_lon; /* derived places: running centroid */
    uint32_t n;
};

struct b_postcode {
    struct ix_postcode p;
    double sum_lat, sum_lon;
    uint32_t n_rec; /* from REC_POSTCODE records */
    int32_t rec_lat, rec_lon;
};

struct index_builder {
    struct smap strings; /* string -> offset in the STRINGS blob */
    char *blob;
    size_t blob_len, blob_cap;
    struct smap groups;     /* "key\x1fCC\x1fcitykey" -> group index */
    struct smap raw_groups; /* the same from the raw strings: skips normalising repeats */
    struct smap raw_places;
    struct smap raw_postcodes;
    struct smap derived_places;
    struct smap postcode_map;
    struct b_addr *addrs;
    size_t n_addrs, cap_addrs;
    struct b_group *grps;
    size_t n_grps, cap_grps;
    struct b_interp *interps;
    size_t n_interps, cap_interps;
    struct ix_point *points; /* interpolation lines */
    size_t n_points, cap_points;
    struct ix_point *spoints; /* street ways */
    size_t n_spoints, cap_spoints;
    struct b_sgeom *sgeoms;
    size_t n_sgeoms, cap_sgeoms;
    struct ix_point *apoints; /* admin rings */
    size_t n_apoints, cap_apoints;
    struct b_place *places;
    size_t n_places, cap_places;
    struct b_postcode *pcs;
    size_t n_pcs, cap_pcs;
    struct ix_admin *admins;
    size_t n_admins, cap_admins;
    struct ix_source *sources;
    size_t n_sources, cap_sources;
    uint32_t seq;
};

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

static const char *str_at(const struct index_builder *b, uint32_t off)
{
    return b->blob + off;
}

int index_builder_new(struct index_builder **out)
{
    struct index_builder *b = xcalloc(1, sizeof(*b));
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

static int32_t to_fix(double deg)
{
    return (int32_t)lround(deg * IX_COORD_SCALE);
}

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

static size_t key_of(const char *s, const char *country, char *out, size_t cap)
{
    if (!s || !*s)
        return 0;
    int n = norm_key(s, strlen(s), country, out, cap);
    return n > 0 ? (size_t)n : 0;
}

static void bbox_add(struct b_group *g, int32_t lat, int32_t lon)
{
    if (g->n_addr == 0 && g->way_len == 0 && g->min_lat == 0 && g->max_lat == 0) {
        g->min_lat = g->max_lat = lat;
        g->min_lon = g->max_lon = lon;
        return;
    }
    if (lat < g->min_lat)
        g->min_lat = lat;
    if (lat > g->max_lat)
        g->max_lat = lat;
    if (lon < g->min_lon)
        g->min_lon = lon;
    if (lon > g->max_lon)
        g->max_lon = lon;
}

/* Find or create the street group of (street, country, city). Return its index, or -1 when
 * the street has no usable key. */
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

static bool coord_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 &&
           !(lat == 0 && lon == 0);
}

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

/* ---- finishing: sort, group, lay out ---- */

/* qsort_r with the builder as context (comparators read its strings), except that an empty
 * (possibly NULL) array is left alone: qsort(NULL, 0) is undefined. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
                 const struct index_builder *b)
{
    if (n > 1)
        qsort_r(base, n, size, cmp, (void *)b);
}

static int cmp_str(const struct index_builder *bld, uint32_t a, uint32_t b)
{
    return strcmp(str_at(bld, a), str_at(bld, b));
}

static int cmp_group(const void *pa, const void *pb, void *ctx)
{
    const struct index_builder *bld = ctx;
    const struct b_group *a = pa, *b = pb;
    int c = cmp_str(bld, a->key, b->key);
    if (c)
        return c;
    c = memcmp(a->country, b->country, 2);
    if (c)
        return c;
    c = cmp_str(bld, a->city_key, b->city_key);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_addr(const void *pa, const void *pb, void *ctx)
{
    const struct index_builder *bld = ctx;
    const struct b_addr *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    if (a->number2 != b->number2)
        return a->number2 < b->number2 ? -1 : 1;
    int c = memcmp(a->suffix, b->suffix, 3);
    if (c)
        return c;
    c = cmp_str(bld, a->postcode, b->postcode);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Distance in metres between two groups' bounding boxes (0 when they overlap). */
static double bbox_gap_m(const struct b_group *a, const struct b_group *b)
{
    double dy = 0, dx = 0;
    if (a->max_lat < b->min_lat)
        dy = b->min_lat - a->max_lat;
    else if (b->max_lat < a->min_lat)
        dy = a->min_lat - b->max_lat;
    if (a->max_lon < b->min_lon)
        dx = b->min_lon - a->max_lon;
    else if (b->max_lon < a->min_lon)
        dx = a->min_lon - b->max_lon;
    double lat = (a->min_lat + a->max_lat) / 2.0 / IX_COORD_SCALE;
    dy = dy / IX_COORD_SCALE * 111320.0;
    dx = dx / IX_COORD_SCALE * 111320.0 * cos(lat * M_PI / 180);
    return sqrt(dx * dx + dy * dy);
}

#define MERGE_METRES 300.0

/*
 * A street known only by its ways (no addresses, no interpolation) is often the same street as
 * an address street of the same name nearby whose addresses name another locality (a village
 * within a municipality). Its ways join the nearest such street within MERGE_METRES. Return
 * target[g]: g itself, or the group g joins (caller frees).
 */
static uint32_t *merge_line_only_streets(struct index_builder *b)
{
    size_t ng = b->n_grps;
    uint32_t *target = xmallocarray(ng + 1, sizeof(uint32_t));
    uint8_t *content = xcalloc(ng + 1, 1);
    for (size_t i = 0; i < ng; i++)
        target[i] = (uint32_t)i;
    for (size_t i = 0; i < b->n_addrs; i++)
        content[b->addrs[i].group] = 1;
    for (size_t i = 0; i < b->n_interps; i++)
        content[b->interps[i].group] = 1;
    /* groups with content, chained by (key, country) */
    struct smap heads;
    smap_init(&heads);
    uint32_t *next = xmallocarray(ng + 1, sizeof(uint32_t));
    for (size_t i = 0; i < ng; i++) {
        next[i] = IX_NONE;
        if (!content[i])
            continue;
        char k[16];
        memcpy(k, &b->grps[i].key, 4);
        memcpy(k + 4, b->grps[i].country, 2);
        int ins;
        uint32_t *v = smap_put(&heads, k, 6, (uint32_t)i, &ins);
        if (!ins) {
            next[i] = *v;
            *v = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < ng; i++) {
        if (content[i])
            continue;
        char k[16];
        memcpy(k, &b->grps[i].key, 4);
        memcpy(k + 4, b->grps[i].country, 2);
        uint32_t *v = smap_get(&heads, k, 6);
        uint32_t best = IX_NONE;
        double bd = MERGE_METRES;
        for (uint32_t h = v ? *v : IX_NONE; h != IX_NONE; h = next[h]) {
            double d = bbox_gap_m(&b->grps[i], &b->grps[h]);
            if (d < bd || (d == bd && best != IX_NONE && h < best)) {
                bd = d;
                best = h;
            }
        }
        if (best == IX_NONE)
            continue;
        target[i] = best;
        struct b_group *t = &b->grps[best], *g = &b->grps[i];
        if (g->way_len > t->way_len) {
            t->way_len = g->way_len;
            t->way_lat = g->way_lat;
            t->way_lon = g->way_lon;
        }
        bbox_add(t, g->min_lat, g->min_lon);
        bbox_add(t, g->max_lat, g->max_lon);
    }
    smap_release(&heads);
    free(next);
    free(content);
    return target;
}

struct cell_pair {
    uint64_t key;
    uint32_t idx;
};

static int cmp_sgeom(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct b_sgeom *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Append (cell, street) pairs for every grid cell the segment's bounding box touches. */
static void segment_cells(struct cell_pair **pairs, size_t *n, size_t *cap, struct ix_point p,
                          struct ix_point q, uint32_t street)
{
    int32_t y0 = (int32_t)floor(fmin(p.lat, q.lat) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t y1 = (int32_t)floor(fmax(p.lat, q.lat) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t x0 = (int32_t)floor(fmin(p.lon, q.lon) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t x1 = (int32_t)floor(fmax(p.lon, q.lon) / IX_COORD_SCALE / IX_CELL_DEG);
    if ((int64_t)(y1 - y0 + 1) * (x1 - x0 + 1) > 10000)
        return; /* a broken segment across the map: not worth indexing */
    for (int32_t y = y0; y <= y1; y++)
        for (int32_t x = x0; x <= x1; x++) {
            VEC_GROW(*pairs, *n, *cap);
            (*pairs)[*n].key = ((uint64_t)(uint32_t)y << 32) | (uint32_t)x;
            (*pairs)[*n].idx = street;
            (*n)++;
        }
}

static int cmp_interp(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct b_interp *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_place(const void *pa, const void *pb, void *ctx)
{
    const struct index_builder *bld = ctx;
    const struct b_place *a = pa, *b = pb;
    int c = cmp_str(bld, a->p.key, b->p.key);
    if (c)
        return c;
    c = memcmp(a->p.country, b->p.country, 2);
    if (c)
        return c;
    if (a->p.rank != b->p.rank)
        return a->p.rank < b->p.rank ? -1 : 1;
    if (a->p.source != b->p.source)
        return a->p.source < b->p.source ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_postcode(const void *pa, const void *pb, void *ctx)
{
    const struct index_builder *bld = ctx;
    const struct ix_postcode *a = pa, *b = pb;
    int c = cmp_str(bld, a->key, b->key);
    if (c)
        return c;
    return memcmp(a->country, b->country, 2);
}

static int cmp_fuzzy(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct ix_fuzzy *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->street < b->street ? -1 : a->street > b->street;
}

static double dist_m(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2)
{
    return geo_approx_distance_m(lat1 / IX_COORD_SCALE, lon1 / IX_COORD_SCALE,
                                 lat2 / IX_COORD_SCALE, lon2 / IX_COORD_SCALE);
}

static int cmp_pair(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct cell_pair *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_country(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct ix_country *a = pa, *b = pb;
    return memcmp(a->code, b->code, 2);
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p *= 2;
    return p;
}

/* An open-addressing table of the first index of each run of equal keys. */
static uint32_t *build_hash(const struct index_builder *b, size_t n, const void *arr, size_t stride,
                            size_t key_field, size_t *nslots)
{
    size_t runs = 0;
    const char *base = arr;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = *(const uint32_t *)(base + i * stride + key_field);
        uint32_t kp = i ? *(const uint32_t *)(base + (i - 1) * stride + key_field) : 0;
        if (i == 0 || strcmp(str_at(b, k), str_at(b, kp)) != 0)
            runs++;
    }
    size_t ns = pow2_at_least(runs * 2 + 1);
    uint32_t *t = xmallocarray(ns, sizeof(uint32_t));
    memset(t, 0xff, ns * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        uint32_t k = *(const uint32_t *)(base + i * stride + key_field);
        uint32_t kp = i ? *(const uint32_t *)(base + (i - 1) * stride + key_field) : 0;
        if (i != 0 && strcmp(str_at(b, k), str_at(b, kp)) == 0)
            continue;
        const char *ks = str_at(b, k);
        size_t h = ix_key_hash(ks, strlen(ks)) & (ns - 1);
        while (t[h] != IX_NONE)
            h = (h + 1) & (ns - 1);
        t[h] = (uint32_t)i;
    }
    *nslots = ns;
    return t;
}

struct out_sect {
    const void *data;
    size_t len;
    size_t count;
};

static int write_file(const char *path, struct ix_header *h, struct out_sect *s, char *err,
                      size_t errlen)
{
    char tmp[GB_PATH_MAX];
    int rc = 0;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        gb_errf(err, errlen, "cannot create %s: %s", tmp, gb_strerror(rc));
        return rc;
    }
    uint64_t off = sizeof(*h);
    for (int i = 0; i < IXS__COUNT; i++) {
        off = (off + 7) & ~(uint64_t)7;
        h->sect[i].off = off;
        h->sect[i].len = s[i].len;
        h->sect[i].count = (uint32_t)s[i].count;
        /* crc32 takes uInt lengths: feed big sections in pieces */
        uLong crc = crc32(0L, Z_NULL, 0);
        const unsigned char *p = s[i].data;
        for (size_t done = 0; done < s[i].len;) {
            size_t piece = s[i].len - done > (1u << 30) ? (1u << 30) : s[i].len - done;
            crc = crc32(crc, p + done, (uInt)piece);
            done += piece;
        }
        h->sect[i].crc = (uint32_t)crc;
        off += s[i].len;
    }
    h->file_size = off;
    h->header_crc = 0;
    h->header_crc = (uint32_t)crc32(0L, (const unsigned char *)h, sizeof(*h));
    rc = fs_write_all(fd, h, sizeof(*h));
    uint64_t pos = sizeof(*h);
    static const char zeros[8];
    for (int i = 0; rc == 0 && i < IXS__COUNT; i++) {
        if (h->sect[i].off > pos)
            rc = fs_write_all(fd, zeros, (size_t)(h->sect[i].off - pos));
        if (rc == 0 && s[i].len)
            rc = fs_write_all(fd, s[i].data, s[i].len);
        pos = h->sect[i].off + s[i].len;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        gb_errf(err, errlen, "cannot write %s: %s", path, gb_strerror(rc));
        unlink(tmp);
    }
    return rc;
}

static void fuzzy_add(struct ix_fuzzy **f, size_t *n, size_t *cap, const char *s, size_t len,
                      uint32_t street)
{
    VEC_GROW(*f, *n, *cap);
    (*f)[*n].hash = ix_key_hash(s, len);
    (*f)[*n].street = street;
    (*n)++;
}

int index_builder_write(struct index_builder *b, const char *path, char *err, size_t errlen)
{
    int rc = 0;

    /* Streets: sort groups, remember where each old group went. */
    size_t ng = b->n_grps;
    uint32_t *order = xmallocarray(ng + 1, sizeof(uint32_t));
    struct b_group *sorted = xmallocarray(ng + 1, sizeof(*sorted));
    /* Sort the groups that stay; seq carries the old index to remap everything that points
     * at a group. A merged group takes its target's new index. */
    uint32_t *target = merge_line_only_streets(b);
    size_t nkeep = 0;
    for (size_t i = 0; i < ng; i++) {
        if (target[i] != i)
            continue;
        sorted[nkeep] = b->grps[i];
        sorted[nkeep].seq = (uint32_t)i; /* creation order == index: a stable tie-breaker */
        nkeep++;
    }
    sort(sorted, nkeep, sizeof(*sorted), cmp_group, b);
    for (size_t i = 0; i < nkeep; i++)
        order[sorted[i].seq] = (uint32_t)i;
    for (size_t i = 0; i < ng; i++)
        order[i] = order[target[i]];
    free(target);
    ng = nkeep;
    for (size_t i = 0; i < b->n_addrs; i++)
        b->addrs[i].group = order[b->addrs[i].group];
    for (size_t i = 0; i < b->n_interps; i++)
        b->interps[i].group = order[b->interps[i].group];
    sort(b->addrs, b->n_addrs, sizeof(*b->addrs), cmp_addr, b);
    sort(b->interps, b->n_interps, sizeof(*b->interps), cmp_interp, b);

    /* Addresses: one given twice (same street, number, postcode, within 50 m; from one
     * source or two, such as the units of one address) is stored once. */
    struct ix_addr *addrs = xcalloc(b->n_addrs + 1, sizeof(*addrs));
    struct ix_street *streets = xcalloc(ng + 1, sizeof(*streets));
    size_t na = 0;
    for (size_t i = 0; i < b->n_addrs; i++) {
        const struct b_addr *a = &b->addrs[i];
        if (na > 0) {
            const struct ix_addr *p = &addrs[na - 1];
            if (p->street == a->group && p->number == a->number && p->number2 == a->number2 &&
                memcmp(p->suffix, a->suffix, 3) == 0 && p->postcode == a->postcode &&
                dist_m(p->lat, p->lon, a->lat, a->lon) <= DEDUP_METRES)
                continue;
        }
        struct ix_addr *o = &addrs[na++];
        o->lat = a->lat;
        o->lon = a->lon;
        o->number = a->number;
        o->number2 = a->number2;
        memcpy(o->suffix, a->suffix, 3);
        o->flags = a->flags;
        o->raw = a->raw;
        o->postcode = a->postcode;
        o->street = a->group;
        o->source = a->source;
    }
    for (size_t i = 0; i < ng; i++) {
        const struct b_group *g = &sorted[i];
        struct ix_street *s = &streets[i];
        s->key = g->key;
        s->name = g->name;
        s->city = g->city;
        s->city_key = g->city_key;
        s->district = g->district;
        s->district_key = g->district_key;
        s->county = g->county;
        s->state = g->state;
        memcpy(s->country, g->country, 2);
        s->min_lat = g->min_lat;
        s->min_lon = g->min_lon;
        s->max_lat = g->max_lat;
        s->max_lon = g->max_lon;
        s->addr_first = IX_NONE;
        s->interp_first = IX_NONE;
        char idsrc[3 * NORM_MAX];
        int n = snprintf(idsrc, sizeof(idsrc), "%s|%.2s|%s", str_at(b, g->key), g->country,
                         str_at(b, g->city_key));
        s->id = hash_fnv1a(idsrc, (size_t)n);
    }
    for (size_t i = 0; i < na; i++) {
        struct ix_street *s = &streets[addrs[i].street];
        if (s->addr_first == IX_NONE)
            s->addr_first = (uint32_t)i;
        s->addr_count++;
    }
    struct ix_interp *interps = xcalloc(b->n_interps + 1, sizeof(*interps));
    for (size_t i = 0; i < b->n_interps; i++) {
        const struct b_interp *it = &b->interps[i];
        interps[i].street = it->group;
        interps[i].from = it->from;
        interps[i].to = it->to;
        interps[i].parity = it->parity;
        interps[i].geom_first = it->geom_first;
        interps[i].geom_count = it->geom_count;
        interps[i].postcode = it->postcode;
        struct ix_street *s = &streets[it->group];
        if (s->interp_first == IX_NONE)
            s->interp_first = (uint32_t)i;
        s->interp_count++;
    }
    /* Representative point and most common postcode of each street. */
    for (size_t i = 0; i < ng; i++) {
        struct ix_street *s = &streets[i];
        const struct b_group *g = &sorted[i];
        if (g->way_len > 0) {
            s->lat = g->way_lat;
            s->lon = g->way_lon;
        } else if (s->addr_count) {
            /* the address nearest the centroid: a point that is really on the street */
            int32_t clat = to_fix(g->sum_lat / g->n_addr), clon = to_fix(g->sum_lon / g->n_addr);
            double best = 1e18;
            for (uint32_t k = s->addr_first; k < s->addr_first + s->addr_count; k++) {
                double d = dist_m(clat, clon, addrs[k].lat, addrs[k].lon);
                if (d < best) {
                    best = d;
                    s->lat = addrs[k].lat;
                    s->lon = addrs[k].lon;
                }
            }
        }
        uint32_t best_pc = 0, best_n = 0;
        for (uint32_t k = s->addr_first; s->addr_count && k < s->addr_first + s->addr_count; k++) {
            if (!addrs[k].postcode)
                continue;
            uint32_t cnt = 0;
            for (uint32_t j = s->addr_first; j < s->addr_first + s->addr_count && cnt <= best_n;
                 j++)
                cnt += addrs[j].postcode == addrs[k].postcode;
            if (cnt > best_n || (cnt == best_n && cmp_str(b, addrs[k].postcode, best_pc) < 0)) {
                best_n = cnt;
                best_pc = addrs[k].postcode;
            }
            if (s->addr_count > 64 && best_n > s->addr_count / 2)
                break;
        }
        s->postcode = best_pc;
    }

    /* Fuzzy: every key and its one-deletion variants. */
    struct ix_fuzzy *fz = NULL;
    size_t nfz = 0, capfz = 0;
    for (size_t i = 0; i < ng; i++) {
        if (i > 0 && streets[i].key == streets[i - 1].key)
            continue;
        const char *k = str_at(b, streets[i].key);
        size_t len = strlen(k);
        if (len < 4 || len >= NORM_MAX)
            continue;
        char v[NORM_MAX];
        for (size_t d = 0; d < len; d++) {
            if (d > 0 && k[d] == k[d - 1])
                continue; /* the same variant as the previous deletion */
            memcpy(v, k, d);
            memcpy(v + d, k + d + 1, len - d - 1);
            fuzzy_add(&fz, &nfz, &capfz, v, len - 1, (uint32_t)i);
        }
        fuzzy_add(&fz, &nfz, &capfz, k, len, (uint32_t)i);
    }
    sort(fz, nfz, sizeof(*fz), cmp_fuzzy, b);
    size_t w = 0;
    for (size_t i = 0; i < nfz; i++)
        if (w == 0 || fz[i].hash != fz[w - 1].hash || fz[i].street != fz[w - 1].street)
            fz[w++] = fz[i];
    nfz = w;

    /* Places: derived centroids, then sorted. */
    for (size_t i = 0; i < b->n_places; i++) {
        struct b_place *p = &b->places[i];
        if (p->p.source == 2 && p->n) {
            p->p.lat = to_fix(p->sum_lat / p->n);
            p->p.lon = to_fix(p->sum_lon / p->n);
        }
    }
    sort(b->places, b->n_places, sizeof(*b->places), cmp_place, b);
    struct ix_place *places = xcalloc(b->n_places + 1, sizeof(*places));
    for (size_t i = 0; i < b->n_places; i++) {
        places[i] = b->places[i].p;
        char idsrc[NORM_MAX + 16];
        int n = snprintf(idsrc, sizeof(idsrc), "%s|%.2s|%d|%d", str_at(b, places[i].key),
                         places[i].country, places[i].rank, places[i].source);
        places[i].id = hash_fnv1a(idsrc, (size_t)n);
    }

    /* Postcodes. */
    struct ix_postcode *pcs = xcalloc(b->n_pcs + 1, sizeof(*pcs));
    for (size_t i = 0; i < b->n_pcs; i++) {
        struct b_postcode *p = &b->pcs[i];
        pcs[i] = p->p;
        if (p->p.count) {
            pcs[i].lat = to_fix(p->sum_lat / p->p.count);
            pcs[i].lon = to_fix(p->sum_lon / p->p.count);
        } else {
            pcs[i].lat = p->rec_lat;
            pcs[i].lon = p->rec_lon;
        }
    }
    sort(pcs, b->n_pcs, sizeof(*pcs), cmp_postcode, b);

    /* Reverse grid: address indexes grouped by cell. */
    struct ix_cell *cells = NULL;
    size_t ncells = 0, capcells = 0;
    uint64_t *cellkeys = xmallocarray(na + 1, sizeof(uint64_t));
    uint32_t *cell_addrs = xmallocarray(na + 1, sizeof(uint32_t));
    for (size_t i = 0; i < na; i++) {
        uint64_t cy =
            (uint64_t)(uint32_t)(int32_t)floor(addrs[i].lat / IX_COORD_SCALE / IX_CELL_DEG);
        uint64_t cx =
            (uint64_t)(uint32_t)(int32_t)floor(addrs[i].lon / IX_COORD_SCALE / IX_CELL_DEG);
        cellkeys[i] = ((cy << 32) | cx);
    }
    {
        struct cell_pair *pairs = xmallocarray(na + 1, sizeof(*pairs));
        for (size_t i = 0; i < na; i++) {
            pairs[i].key = cellkeys[i];
            pairs[i].idx = (uint32_t)i;
        }
        sort(pairs, na, sizeof(*pairs), cmp_pair, b);
        for (size_t i = 0; i < na; i++) {
            cell_addrs[i] = pairs[i].idx;
            if (ncells == 0 || cells[ncells - 1].cell != pairs[i].key) {
                VEC_GROW(cells, ncells, capcells);
                cells[ncells].cell = pairs[i].key;
                cells[ncells].first = (uint32_t)i;
                cells[ncells].count = 0;
                ncells++;
            }
            cells[ncells - 1].count++;
        }
        free(pairs);
    }

    /* Points: interpolation lines, each street's ways in street order, then admin rings. */
    for (size_t i = 0; i < b->n_sgeoms; i++)
        b->sgeoms[i].group = order[b->sgeoms[i].group];
    sort(b->sgeoms, b->n_sgeoms, sizeof(*b->sgeoms), cmp_sgeom, b);
    size_t npoints = 0;
    struct ix_point *points =
        xmallocarray(b->n_points + b->n_spoints + b->n_sgeoms + b->n_apoints + 1, sizeof(*points));
    if (b->n_points)
        memcpy(points, b->points, b->n_points * sizeof(*points));
    npoints = b->n_points;
    struct cell_pair *spairs = NULL;
    size_t nspairs = 0, capspairs = 0;
    for (size_t i = 0; i < b->n_sgeoms; i++) {
        const struct b_sgeom *sg = &b->sgeoms[i];
        struct ix_street *st = &streets[sg->group];
        if (st->geom_count == 0) {
            st->geom_first = (uint32_t)npoints;
        } else {
            points[npoints].lat = points[npoints].lon = IX_PART_BREAK;
            npoints++;
            st->geom_count++;
        }
        for (uint32_t k = 0; k < sg->count; k++) {
            points[npoints++] = b->spoints[sg->first + k];
            if (k > 0)
                segment_cells(&spairs, &nspairs, &capspairs, b->spoints[sg->first + k - 1],
                              b->spoints[sg->first + k], sg->group);
        }
        st->geom_count += sg->count;
    }
    size_t admin_base = npoints;
    if (b->n_apoints)
        memcpy(points + npoints, b->apoints, b->n_apoints * sizeof(*points));
    npoints += b->n_apoints;
    for (size_t i = 0; i < b->n_admins; i++)
        if (b->admins[i].geom_count)
            b->admins[i].geom_first += (uint32_t)admin_base;
    sort(spairs, nspairs, sizeof(*spairs), cmp_pair, b);
    struct ix_cell *scells = NULL;
    size_t nscells = 0, capscells = 0;
    uint32_t *scell_streets = xmallocarray(nspairs + 1, sizeof(uint32_t));
    size_t nss = 0;
    for (size_t i = 0; i < nspairs; i++) {
        if (i > 0 && spairs[i].key == spairs[i - 1].key && spairs[i].idx == spairs[i - 1].idx)
            continue;
        if (nscells == 0 || scells[nscells - 1].cell != spairs[i].key) {
            VEC_GROW(scells, nscells, capscells);
            scells[nscells].cell = spairs[i].key;
            scells[nscells].first = (uint32_t)nss;
            scells[nscells].count = 0;
            nscells++;
        }
        scells[nscells - 1].count++;
        scell_streets[nss++] = spairs[i].idx;
    }
    free(spairs);

    /* Per-country counts. */
    struct ix_country *countries = NULL;
    size_t ncountries = 0, capcountries = 0;
#define COUNTRY_SLOT(cc, field)                                                                    \
    do {                                                                                           \
        size_t k_;                                                                                 \
        for (k_ = 0; k_ < ncountries; k_++)                                                        \
            if (memcmp(countries[k_].code, (cc), 2) == 0)                                          \
                break;                                                                             \
        if (k_ == ncountries) {                                                                    \
            VEC_GROW(countries, ncountries, capcountries);                                         \
            memset(&countries[k_], 0, sizeof(countries[k_]));                                      \
            memcpy(countries[k_].code, (cc), 2);                                                   \
            ncountries++;                                                                          \
        }                                                                                          \
        countries[k_].field++;                                                                     \
    } while (0)
    for (size_t i = 0; i < na; i++)
        COUNTRY_SLOT(streets[addrs[i].street].country, addresses);
    for (size_t i = 0; i < ng; i++)
        COUNTRY_SLOT(streets[i].country, streets);
    for (size_t i = 0; i < b->n_places; i++)
        COUNTRY_SLOT(places[i].country, places);
    for (size_t i = 0; i < b->n_pcs; i++)
        COUNTRY_SLOT(pcs[i].country, postcodes);
#undef COUNTRY_SLOT
    sort(countries, ncountries, sizeof(*countries), cmp_country, b);

    size_t ns_st, ns_pl, ns_pc;
    uint32_t *h_st =
        build_hash(b, ng, streets, sizeof(*streets), offsetof(struct ix_street, key), &ns_st);
    uint32_t *h_pl =
        build_hash(b, b->n_places, places, sizeof(*places), offsetof(struct ix_place, key), &ns_pl);
    uint32_t *h_pc =
        build_hash(b, b->n_pcs, pcs, sizeof(*pcs), offsetof(struct ix_postcode, key), &ns_pc);

    struct ix_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, IX_MAGIC, 8);
    h.endian = IX_ENDIAN_MARK;
    h.format_version = INDEX_FORMAT_VERSION;
    h.norm_version = NORM_VERSION;
    h.n_sections = IXS__COUNT;
    h.counts[0] = na;
    h.counts[1] = ng;
    h.counts[2] = b->n_interps;
    h.counts[3] = b->n_places;
    h.counts[4] = b->n_pcs;
    h.counts[5] = b->n_admins;
    struct out_sect s[IXS__COUNT] = {
        [IXS_STRINGS] = {b->blob, b->blob_len, b->blob_len},
        [IXS_SOURCES] = {b->sources, b->n_sources * sizeof(*b->sources), b->n_sources},
        [IXS_STREETS] = {streets, ng * sizeof(*streets), ng},
        [IXS_STREET_HASH] = {h_st, ns_st * sizeof(uint32_t), ns_st},
        [IXS_FUZZY] = {fz, nfz * sizeof(*fz), nfz},
        [IXS_ADDRS] = {addrs, na * sizeof(*addrs), na},
        [IXS_INTERPS] = {interps, b->n_interps * sizeof(*interps), b->n_interps},
        [IXS_POINTS] = {points, npoints * sizeof(*points), npoints},
        [IXS_PLACES] = {places, b->n_places * sizeof(*places), b->n_places},
        [IXS_PLACE_HASH] = {h_pl, ns_pl * sizeof(uint32_t), ns_pl},
        [IXS_POSTCODES] = {pcs, b->n_pcs * sizeof(*pcs), b->n_pcs},
        [IXS_PC_HASH] = {h_pc, ns_pc * sizeof(uint32_t), ns_pc},
        [IXS_ADMINS] = {b->admins, b->n_admins * sizeof(*b->admins), b->n_admins},
        [IXS_CELLS] = {cells, ncells * sizeof(*cells), ncells},
        [IXS_CELL_ADDRS] = {cell_addrs, na * sizeof(uint32_t), na},
        [IXS_COUNTRIES] = {countries, ncountries * sizeof(*countries), ncountries},
        [IXS_SCELLS] = {scells, nscells * sizeof(*scells), nscells},
        [IXS_SCELL_STREETS] = {scell_streets, nss * sizeof(uint32_t), nss},
    };
    rc = write_file(path, &h, s, err, errlen);
    if (rc == 0)
        log_info("index written path=%s addresses=%zu streets=%zu interps=%zu places=%zu "
                 "postcodes=%zu admins=%zu bytes=%llu",
                 path, na, ng, b->n_interps, b->n_places, b->n_pcs, b->n_admins,
                 (unsigned long long)h.file_size);
    free(order);
    free(sorted);
    free(addrs);
    free(streets);
    free(interps);
    free(fz);
    free(places);
    free(pcs);
    free(cells);
    free(cellkeys);
    free(cell_addrs);
    free(countries);
    free(points);
    free(scells);
    free(scell_streets);
    free(h_st);
    free(h_pl);
    free(h_pc);
    return rc;
}
