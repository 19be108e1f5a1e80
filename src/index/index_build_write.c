/*
 * index_build_write.c - the collected records out: sorted tables, one index file.
 *
 * index_builder_write() runs a fixed list of phases over the builder (index_build_int.h): it
 * merges line-only streets into their address streets, sorts every table with a total order
 * (the last tie-breaker is arrival order), so that the same input gives a byte-identical file,
 * derives what the file stores about each street, builds the grids and hash tables, and writes
 * the sections of index_format.h to a temporary file that is fsynced and renamed into place.
 * Each phase reads what the phases before it laid out in struct layout and adds its own tables.
 * Single-threaded, like the builder; the builder is consumed (its arrays are reordered).
 */
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/smap.h"
#include "record/geo.h"
#include "text/norm.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define DEDUP_METRES 50.0  /* one address given twice within this distance is stored once */
#define MERGE_METRES 300.0 /* how far a line-only street looks for its address street */

/* A grid cell and what is in it (an address or a street index). */
struct cell_pair {
    uint64_t key;
    uint32_t idx;
};

/* The tables of the file as the phases lay them out; every array is owned here. */
struct layout {
    uint32_t *order;           /* builder group index -> street index */
    struct b_group *sorted;    /* the groups that stay, in street order */
    size_t ng;                 /* streets */
    struct ix_street *streets; /* ng */
    struct ix_addr *addrs;     /* na, duplicates dropped */
    size_t na;
    struct ix_interp *interps; /* b->n_interps */
    struct ix_fuzzy *fuzzy;    /* deletion variants of street keys */
    size_t n_fuzzy, cap_fuzzy;
    struct ix_place *places; /* b->n_places */
    struct ix_postcode *pcs; /* b->n_pcs */
    struct ix_cell *cells;   /* the reverse grid of addresses */
    size_t n_cells, cap_cells;
    uint32_t *cell_addrs;    /* na address indexes, grouped by cell */
    struct ix_point *points; /* interpolation lines, street ways, admin rings */
    size_t n_points;
    struct cell_pair *seg_cells; /* (cell, street) of every street segment, for the street grid */
    size_t n_seg_cells, cap_seg_cells;
    struct ix_cell *scells; /* the grid of streets */
    size_t n_scells, cap_scells;
    uint32_t *scell_streets; /* street indexes, grouped by cell */
    size_t n_scell_streets;
    struct ix_country *countries; /* per-country counts */
    size_t n_countries, cap_countries;
    uint32_t *h_st, *h_pl, *h_pc; /* the hash tables of streets, places, postcodes */
    size_t ns_st, ns_pl, ns_pc;
    struct ix_range *pc_ranges; /* b->n_pcs */
    uint32_t *pc_streets;       /* n_pc_streets */
    size_t n_pc_streets;
    uint32_t *fuzzy_dir; /* 2^fuzzy_bits + 1 */
    unsigned fuzzy_bits;
};

/* ---- orders: every table sorts on its content, then on arrival ---- */

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

static int cmp_sgeom(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct b_sgeom *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
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

/* ---- helpers of the phases ---- */

/* Approximate distance in metres between two fixed-point points. */
static double dist_m(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2)
{
    return geo_approx_distance_m(lat1 / IX_COORD_SCALE, lon1 / IX_COORD_SCALE,
                                 lat2 / IX_COORD_SCALE, lon2 / IX_COORD_SCALE);
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

/* ---- the phases, in the order index_builder_write() runs them ---- */

/*
 * A street known only by its ways (no addresses, no interpolation) is often the same street as
 * an address street of the same name nearby whose addresses name another locality (a village
 * within a municipality). Its ways join the nearest such street within MERGE_METRES (not when
 * the builder holds merged indexes, whose builds did it). Return target[g]: g itself, or the
 * group g joins (caller frees).
 */
static uint32_t *merge_line_only_streets(struct index_builder *b)
{
    size_t ng = b->n_grps;
    uint32_t *target = xmallocarray(ng + 1, sizeof(uint32_t));
    for (size_t i = 0; i < ng; i++)
        target[i] = (uint32_t)i;
    if (b->keep_line_only)
        return target; /* merged indexes: each input joined its own */
    uint8_t *content = xcalloc(ng + 1, 1);
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

/*
 * Give the streets their final order: merge line-only groups (merge_line_only_streets), sort
 * the groups that stay, and point addresses and interpolations at the new street indexes,
 * then sort those too (by street, number; by street, start).
 */
static void order_streets(struct index_builder *b, struct layout *o)
{
    size_t ng = b->n_grps;
    o->order = xmallocarray(ng + 1, sizeof(uint32_t));
    o->sorted = xmallocarray(ng + 1, sizeof(*o->sorted));
    /* Sort the groups that stay; seq carries the old index to remap everything that points
     * at a group. A merged group takes its target's new index. */
    uint32_t *target = merge_line_only_streets(b);
    size_t nkeep = 0;
    for (size_t i = 0; i < ng; i++) {
        if (target[i] != i)
            continue;
        o->sorted[nkeep] = b->grps[i];
        o->sorted[nkeep].seq = (uint32_t)i; /* creation order == index: a stable tie-breaker */
        nkeep++;
    }
    sort(o->sorted, nkeep, sizeof(*o->sorted), cmp_group, b);
    for (size_t i = 0; i < nkeep; i++)
        o->order[o->sorted[i].seq] = (uint32_t)i;
    for (size_t i = 0; i < ng; i++)
        o->order[i] = o->order[target[i]];
    free(target);
    o->ng = nkeep;
    for (size_t i = 0; i < b->n_addrs; i++)
        b->addrs[i].group = o->order[b->addrs[i].group];
    for (size_t i = 0; i < b->n_interps; i++)
        b->interps[i].group = o->order[b->interps[i].group];
    sort(b->addrs, b->n_addrs, sizeof(*b->addrs), cmp_addr, b);
    sort(b->interps, b->n_interps, sizeof(*b->interps), cmp_interp, b);
}

/* Addresses: one given twice (same street, number, postcode, within DEDUP_METRES; from one
 * source or two, such as the units of one address) is stored once. */
static void lay_out_addresses(struct index_builder *b, struct layout *o)
{
    struct ix_addr *addrs = xcalloc(b->n_addrs + 1, sizeof(*addrs));
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
        struct ix_addr *out = &addrs[na++];
        out->lat = a->lat;
        out->lon = a->lon;
        out->number = a->number;
        out->number2 = a->number2;
        memcpy(out->suffix, a->suffix, 3);
        out->flags = a->flags;
        out->raw = a->raw;
        out->postcode = a->postcode;
        out->street = a->group;
        out->source = a->source;
    }
    o->addrs = addrs;
    o->na = na;
}

/* Streets: the sorted groups, each with its stable id (FNV-1a 32 of "key|CC|citykey") and the
 * run of its addresses. */
static void lay_out_streets(struct index_builder *b, struct layout *o)
{
    struct ix_street *streets = xcalloc(o->ng + 1, sizeof(*streets));
    for (size_t i = 0; i < o->ng; i++) {
        const struct b_group *g = &o->sorted[i];
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
        s->id = hash_fnv1a(idsrc, (size_t)n); /* stored in the file: must never change */
    }
    for (size_t i = 0; i < o->na; i++) {
        struct ix_street *s = &streets[o->addrs[i].street];
        if (s->addr_first == IX_NONE)
            s->addr_first = (uint32_t)i;
        s->addr_count++;
    }
    o->streets = streets;
}

/* Interpolation lines, in street order, and the run of each street's lines. */
static void lay_out_interps(struct index_builder *b, struct layout *o)
{
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
        struct ix_street *s = &o->streets[it->group];
        if (s->interp_first == IX_NONE)
            s->interp_first = (uint32_t)i;
        s->interp_count++;
    }
    o->interps = interps;
}

/* A street's representative point: the middle of its longest way, else the address nearest
 * the centroid of its addresses (a point that is really on the street), else none. */
static void street_point(struct ix_street *s, const struct b_group *g, const struct ix_addr *addrs)
{
    if (g->way_len > 0) {
        s->lat = g->way_lat;
        s->lon = g->way_lon;
    } else if (s->addr_count) {
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
}

/* The postcode most of a street's addresses give (on a tie the smaller string; once one holds
 * a clear majority of a long street, the count stops), or 0 when none gives one. */
static uint32_t street_postcode(const struct index_builder *b, const struct ix_street *s,
                                const struct ix_addr *addrs)
{
    uint32_t best_pc = 0, best_n = 0;
    for (uint32_t k = s->addr_first; s->addr_count && k < s->addr_first + s->addr_count; k++) {
        if (!addrs[k].postcode)
            continue;
        uint32_t cnt = 0;
        for (uint32_t j = s->addr_first; j < s->addr_first + s->addr_count && cnt <= best_n; j++)
            cnt += addrs[j].postcode == addrs[k].postcode;
        if (cnt > best_n || (cnt == best_n && cmp_str(b, addrs[k].postcode, best_pc) < 0)) {
            best_n = cnt;
            best_pc = addrs[k].postcode;
        }
        if (s->addr_count > 64 && best_n > s->addr_count / 2)
            break;
    }
    return best_pc;
}

/* Representative point and most common postcode of each street. */
static void summarise_streets(struct index_builder *b, struct layout *o)
{
    for (size_t i = 0; i < o->ng; i++) {
        struct ix_street *s = &o->streets[i];
        street_point(s, &o->sorted[i], o->addrs);
        s->postcode = street_postcode(b, s, o->addrs);
    }
}

/* One (hash of s[0..len), street) entry of the FUZZY section. */
static void fuzzy_add(struct layout *o, const char *s, size_t len, uint32_t street)
{
    VEC_GROW(o->fuzzy, o->n_fuzzy, o->cap_fuzzy);
    o->fuzzy[o->n_fuzzy].hash = ix_key_hash(s, len);
    o->fuzzy[o->n_fuzzy].street = street;
    o->n_fuzzy++;
}

/* Fuzzy: every key and its one-deletion variants, sorted by hash, each (hash, street) once. */
static void build_fuzzy(struct index_builder *b, struct layout *o)
{
    const struct ix_street *streets = o->streets;
    for (size_t i = 0; i < o->ng; i++) {
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
            fuzzy_add(o, v, len - 1, (uint32_t)i);
        }
        fuzzy_add(o, k, len, (uint32_t)i);
    }
    sort(o->fuzzy, o->n_fuzzy, sizeof(*o->fuzzy), cmp_fuzzy, b);
    size_t w = 0;
    for (size_t i = 0; i < o->n_fuzzy; i++)
        if (w == 0 || o->fuzzy[i].hash != o->fuzzy[w - 1].hash ||
            o->fuzzy[i].street != o->fuzzy[w - 1].street)
            o->fuzzy[w++] = o->fuzzy[i];
    o->n_fuzzy = w;
}

/* The directory of FUZZY: 2^k buckets by the top k bits of the hash (about four entries a
 * bucket), dir[b] the first entry of bucket b, dir[2^k] = n_fuzzy. A probe reads two adjacent
 * words and a few entries instead of binary-searching the whole section. */
static void build_fuzzy_dir(struct index_builder *b, struct layout *o)
{
    (void)b;
    unsigned k = 1;
    while (k < 30 && ((size_t)1 << (k + 2)) < o->n_fuzzy)
        k++;
    size_t nb = (size_t)1 << k;
    uint32_t *dir = xmallocarray(nb + 1, sizeof(uint32_t));
    size_t e = 0;
    for (size_t bucket = 0; bucket < nb; bucket++) {
        while (e < o->n_fuzzy && (o->fuzzy[e].hash >> (32 - k)) < bucket)
            e++;
        dir[bucket] = (uint32_t)e;
    }
    dir[nb] = (uint32_t)o->n_fuzzy;
    o->fuzzy_dir = dir;
    o->fuzzy_bits = k;
}

/* Places: derived ones at the centroid of their addresses, all sorted, each with its stable id
 * (FNV-1a 32 of "key|CC|rank|source"). */
static void lay_out_places(struct index_builder *b, struct layout *o)
{
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
        places[i].id = hash_fnv1a(idsrc, (size_t)n); /* stored in the file: must never change */
    }
    o->places = places;
}

/* Postcodes: at the centroid of the addresses that give them, else where their record puts
 * them; sorted by key and country. */
static void lay_out_postcodes(struct index_builder *b, struct layout *o)
{
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
    o->pcs = pcs;
}

/* (postcode run, street) while the postcode street table is built. */
struct pc_pair {
    uint32_t run, street;
};

static int cmp_pc_pair(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct pc_pair *a = pa, *c = pb;
    if (a->run != c->run)
        return a->run < c->run ? -1 : 1;
    return (a->street > c->street) - (a->street < c->street);
}

/* The postcode -> streets table while it is built. */
struct pc_link {
    struct smap runs;      /* postcode key -> first entry of its run in o->pcs */
    struct smap cache;     /* postcode string as stored -> that run, IX_NONE when none has it */
    struct pc_pair *pairs; /* (run, street), in the order found */
    size_t n, cap;
};

/* Count a postcode string (off) of street st: a pair (first entry of the key's run, st). Each
 * stored string is keyed once. */
static void pc_link_add(const struct index_builder *b, struct pc_link *l, uint32_t off, uint32_t st)
{
    const char *pc = str_at(b, off);
    if (!off || !*pc)
        return;
    uint32_t *run = smap_get(&l->cache, pc, strlen(pc));
    if (!run) {
        char key[64];
        size_t kl = norm_postcode(pc, strlen(pc), false, key, sizeof(key));
        uint32_t *r = kl ? smap_get(&l->runs, key, kl) : NULL;
        int ins;
        run = smap_put(&l->cache, pc, strlen(pc), r ? *r : IX_NONE, &ins);
    }
    if (*run == IX_NONE ||
        (l->n && l->pairs[l->n - 1].run == *run && l->pairs[l->n - 1].street == st))
        return;
    VEC_GROW(l->pairs, l->n, l->cap);
    l->pairs[l->n++] = (struct pc_pair){*run, st};
}

/* The postcode -> streets table: for every postcode key, the streets that have an address, an
 * interpolation or a street postcode of that key, in street order; every entry of the key's
 * run shares the one range. The geocoder narrows a street name to a postcode with it and tells
 * whether a street has the query's postcode with one binary search. */
static void link_postcode_streets(struct index_builder *b, struct layout *o)
{
    struct pc_link l = {0};
    smap_init(&l.runs);
    smap_init(&l.cache);
    for (size_t i = 0; i < b->n_pcs; i++) {
        if (i > 0 && o->pcs[i].key == o->pcs[i - 1].key)
            continue;
        const char *k = str_at(b, o->pcs[i].key);
        int ins;
        smap_put(&l.runs, k, strlen(k), (uint32_t)i, &ins);
    }
    for (size_t st = 0; st < o->ng; st++) {
        const struct ix_street *s = &o->streets[st];
        pc_link_add(b, &l, s->postcode, (uint32_t)st);
        for (uint32_t a = s->addr_first; s->addr_count && a < s->addr_first + s->addr_count; a++)
            pc_link_add(b, &l, o->addrs[a].postcode, (uint32_t)st);
        for (uint32_t i = s->interp_first; s->interp_count && i < s->interp_first + s->interp_count;
             i++)
            pc_link_add(b, &l, o->interps[i].postcode, (uint32_t)st);
    }
    sort(l.pairs, l.n, sizeof(*l.pairs), cmp_pc_pair, b);
    o->pc_streets = xmallocarray(l.n + 1, sizeof(uint32_t));
    o->pc_ranges = xcalloc(b->n_pcs + 1, sizeof(*o->pc_ranges));
    size_t w = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct pc_pair *p = &l.pairs[i];
        if (i && p->run == p[-1].run && p->street == p[-1].street)
            continue;
        struct ix_range *r = &o->pc_ranges[p->run];
        if (r->count == 0)
            r->first = (uint32_t)w;
        r->count++;
        o->pc_streets[w++] = p->street;
    }
    o->n_pc_streets = w;
    for (size_t i = 1; i < b->n_pcs; i++) /* the run's other entries share its range */
        if (o->pcs[i].key == o->pcs[i - 1].key)
            o->pc_ranges[i] = o->pc_ranges[i - 1];
    free(l.pairs);
    smap_release(&l.runs);
    smap_release(&l.cache);
}

/* The reverse grid: address indexes grouped by IX_CELL_DEG cell, cells in id order. */
static void build_addr_cells(struct index_builder *b, struct layout *o)
{
    size_t na = o->na;
    o->cell_addrs = xmallocarray(na + 1, sizeof(uint32_t));
    struct cell_pair *pairs = xmallocarray(na + 1, sizeof(*pairs));
    for (size_t i = 0; i < na; i++) {
        uint64_t cy =
            (uint64_t)(uint32_t)(int32_t)floor(o->addrs[i].lat / IX_COORD_SCALE / IX_CELL_DEG);
        uint64_t cx =
            (uint64_t)(uint32_t)(int32_t)floor(o->addrs[i].lon / IX_COORD_SCALE / IX_CELL_DEG);
        pairs[i].key = (cy << 32) | cx;
        pairs[i].idx = (uint32_t)i;
    }
    sort(pairs, na, sizeof(*pairs), cmp_pair, b);
    for (size_t i = 0; i < na; i++) {
        o->cell_addrs[i] = pairs[i].idx;
        if (o->n_cells == 0 || o->cells[o->n_cells - 1].cell != pairs[i].key) {
            VEC_GROW(o->cells, o->n_cells, o->cap_cells);
            o->cells[o->n_cells].cell = pairs[i].key;
            o->cells[o->n_cells].first = (uint32_t)i;
            o->cells[o->n_cells].count = 0;
            o->n_cells++;
        }
        o->cells[o->n_cells - 1].count++;
    }
    free(pairs);
}

/*
 * Points: interpolation lines (their offsets are already right), then each street's ways in
 * street order (ways after the first behind an IX_PART_BREAK), then admin rings, whose offsets
 * move by where they start. Every way segment also notes the cells it crosses (seg_cells).
 */
static void lay_out_points(struct index_builder *b, struct layout *o)
{
    for (size_t i = 0; i < b->n_sgeoms; i++)
        b->sgeoms[i].group = o->order[b->sgeoms[i].group];
    sort(b->sgeoms, b->n_sgeoms, sizeof(*b->sgeoms), cmp_sgeom, b);
    struct ix_point *points =
        xmallocarray(b->n_points + b->n_spoints + b->n_sgeoms + b->n_apoints + 1, sizeof(*points));
    if (b->n_points)
        memcpy(points, b->points, b->n_points * sizeof(*points));
    size_t npoints = b->n_points;
    for (size_t i = 0; i < b->n_sgeoms; i++) {
        const struct b_sgeom *sg = &b->sgeoms[i];
        struct ix_street *st = &o->streets[sg->group];
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
                segment_cells(&o->seg_cells, &o->n_seg_cells, &o->cap_seg_cells,
                              b->spoints[sg->first + k - 1], b->spoints[sg->first + k], sg->group);
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
    o->points = points;
    o->n_points = npoints;
}

/* The street grid: street indexes grouped by the cells their segments cross, each street once
 * per cell. Consumes seg_cells. */
static void build_street_cells(struct index_builder *b, struct layout *o)
{
    struct cell_pair *pairs = o->seg_cells;
    size_t n = o->n_seg_cells;
    sort(pairs, n, sizeof(*pairs), cmp_pair, b);
    o->scell_streets = xmallocarray(n + 1, sizeof(uint32_t));
    size_t nss = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pairs[i].key == pairs[i - 1].key && pairs[i].idx == pairs[i - 1].idx)
            continue;
        if (o->n_scells == 0 || o->scells[o->n_scells - 1].cell != pairs[i].key) {
            VEC_GROW(o->scells, o->n_scells, o->cap_scells);
            o->scells[o->n_scells].cell = pairs[i].key;
            o->scells[o->n_scells].first = (uint32_t)nss;
            o->scells[o->n_scells].count = 0;
            o->n_scells++;
        }
        o->scells[o->n_scells - 1].count++;
        o->scell_streets[nss++] = pairs[i].idx;
    }
    o->n_scell_streets = nss;
    free(o->seg_cells);
    o->seg_cells = NULL;
    o->n_seg_cells = o->cap_seg_cells = 0;
}

/* The counts of country cc, added (zeroed) the first time cc is seen. */
static struct ix_country *country_slot(struct layout *o, const char cc[2])
{
    for (size_t k = 0; k < o->n_countries; k++)
        if (memcmp(o->countries[k].code, cc, 2) == 0)
            return &o->countries[k];
    VEC_GROW(o->countries, o->n_countries, o->cap_countries);
    struct ix_country *c = &o->countries[o->n_countries++];
    memset(c, 0, sizeof(*c));
    memcpy(c->code, cc, 2);
    return c;
}

/* Per-country counts of addresses, streets, places and postcodes, sorted by code. */
static void count_countries(struct index_builder *b, struct layout *o)
{
    for (size_t i = 0; i < o->na; i++)
        country_slot(o, o->streets[o->addrs[i].street].country)->addresses++;
    for (size_t i = 0; i < o->ng; i++)
        country_slot(o, o->streets[i].country)->streets++;
    for (size_t i = 0; i < b->n_places; i++)
        country_slot(o, o->places[i].country)->places++;
    for (size_t i = 0; i < b->n_pcs; i++)
        country_slot(o, o->pcs[i].country)->postcodes++;
    sort(o->countries, o->n_countries, sizeof(*o->countries), cmp_country, b);
}

/* The hash tables of street, place and postcode keys (first index of each run). */
static void build_hash_tables(struct index_builder *b, struct layout *o)
{
    o->h_st = build_hash(b, o->ng, o->streets, sizeof(*o->streets), offsetof(struct ix_street, key),
                         &o->ns_st);
    o->h_pl = build_hash(b, b->n_places, o->places, sizeof(*o->places),
                         offsetof(struct ix_place, key), &o->ns_pl);
    o->h_pc = build_hash(b, b->n_pcs, o->pcs, sizeof(*o->pcs), offsetof(struct ix_postcode, key),
                         &o->ns_pc);
}

/* ---- the file ---- */

/* One section's bytes and entry count. */
struct out_sect {
    const void *data;
    size_t len;
    size_t count;
};

/*
 * Lay out the sections after the header (each 8-aligned, with its CRC-32), then write header and
 * sections to "<path>.tmp.<pid>", fsync, and rename it over path. Return 0, or a negative code
 * with a message in err (the temporary file is removed).
 */
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

/* The header and the section list of the laid-out tables, written to path. */
static int write_index(const struct index_builder *b, const struct layout *o, const char *path,
                       char *err, size_t errlen)
{
    struct ix_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, IX_MAGIC, 8);
    h.endian = IX_ENDIAN_MARK;
    h.format_version = INDEX_FORMAT_VERSION;
    h.norm_version = NORM_VERSION;
    h.n_sections = IXS__COUNT;
    h.counts[0] = o->na;
    h.counts[1] = o->ng;
    h.counts[2] = b->n_interps;
    h.counts[3] = b->n_places;
    h.counts[4] = b->n_pcs;
    h.counts[5] = b->n_admins;
    size_t na = o->na, ng = o->ng;
    struct out_sect s[IXS__COUNT] = {
        [IXS_STRINGS] = {b->blob, b->blob_len, b->blob_len},
        [IXS_SOURCES] = {b->sources, b->n_sources * sizeof(*b->sources), b->n_sources},
        [IXS_STREETS] = {o->streets, ng * sizeof(*o->streets), ng},
        [IXS_STREET_HASH] = {o->h_st, o->ns_st * sizeof(uint32_t), o->ns_st},
        [IXS_FUZZY] = {o->fuzzy, o->n_fuzzy * sizeof(*o->fuzzy), o->n_fuzzy},
        [IXS_ADDRS] = {o->addrs, na * sizeof(*o->addrs), na},
        [IXS_INTERPS] = {o->interps, b->n_interps * sizeof(*o->interps), b->n_interps},
        [IXS_POINTS] = {o->points, o->n_points * sizeof(*o->points), o->n_points},
        [IXS_PLACES] = {o->places, b->n_places * sizeof(*o->places), b->n_places},
        [IXS_PLACE_HASH] = {o->h_pl, o->ns_pl * sizeof(uint32_t), o->ns_pl},
        [IXS_POSTCODES] = {o->pcs, b->n_pcs * sizeof(*o->pcs), b->n_pcs},
        [IXS_PC_HASH] = {o->h_pc, o->ns_pc * sizeof(uint32_t), o->ns_pc},
        [IXS_ADMINS] = {b->admins, b->n_admins * sizeof(*b->admins), b->n_admins},
        [IXS_CELLS] = {o->cells, o->n_cells * sizeof(*o->cells), o->n_cells},
        [IXS_CELL_ADDRS] = {o->cell_addrs, na * sizeof(uint32_t), na},
        [IXS_COUNTRIES] = {o->countries, o->n_countries * sizeof(*o->countries), o->n_countries},
        [IXS_SCELLS] = {o->scells, o->n_scells * sizeof(*o->scells), o->n_scells},
        [IXS_SCELL_STREETS] = {o->scell_streets, o->n_scell_streets * sizeof(uint32_t),
                               o->n_scell_streets},
        [IXS_PC_RANGES] = {o->pc_ranges, b->n_pcs * sizeof(*o->pc_ranges), b->n_pcs},
        [IXS_PC_STREETS] = {o->pc_streets, o->n_pc_streets * sizeof(uint32_t), o->n_pc_streets},
        [IXS_FUZZY_DIR] = {o->fuzzy_dir, (((size_t)1 << o->fuzzy_bits) + 1) * sizeof(uint32_t),
                           ((size_t)1 << o->fuzzy_bits) + 1},
    };
    int rc = write_file(path, &h, s, err, errlen);
    if (rc == 0)
        log_info("index written path=%s addresses=%zu streets=%zu interps=%zu places=%zu "
                 "postcodes=%zu admins=%zu bytes=%llu",
                 path, na, ng, b->n_interps, b->n_places, b->n_pcs, b->n_admins,
                 (unsigned long long)h.file_size);
    return rc;
}

/* Free every table of the layout (what a phase did not create is NULL). */
static void layout_release(struct layout *o)
{
    free(o->order);
    free(o->sorted);
    free(o->streets);
    free(o->addrs);
    free(o->interps);
    free(o->fuzzy);
    free(o->places);
    free(o->pcs);
    free(o->cells);
    free(o->cell_addrs);
    free(o->points);
    free(o->seg_cells);
    free(o->scells);
    free(o->scell_streets);
    free(o->countries);
    free(o->h_st);
    free(o->h_pl);
    free(o->h_pc);
    free(o->pc_ranges);
    free(o->pc_streets);
    free(o->fuzzy_dir);
}

/* GB_ELIMIT with a message when n (of what) passes the builder's limit, else 0. */
static int over_limit(const struct index_builder *b, const char *what, uint64_t n, char *err,
                      size_t errlen)
{
    if (n <= b->limit)
        return 0;
    gb_errf(err, errlen,
            "index too large: %s (%llu) passes %llu, the most a 32-bit reference can address; "
            "build several indexes (one per country) instead",
            what, (unsigned long long)n, (unsigned long long)b->limit);
    return GB_ELIMIT;
}

/* One size and what it counts, for the limit checks. */
struct limit_item {
    const char *what;
    uint64_t n;
};

/* over_limit() of each item: the first that passes the limit, else 0. */
static int check_limits(const struct index_builder *b, const struct limit_item *items, size_t n,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = over_limit(b, items[i].what, items[i].n, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* What the records collected need, before any phase narrows a size to 32 bits. */
static int check_input_limits(const struct index_builder *b, char *err, size_t errlen)
{
    const struct limit_item c[] = {
        {"the string section's bytes", b->blob_len},
        {"addresses", b->n_addrs},
        {"streets", b->n_grps},
        {"interpolation ranges", b->n_interps},
        {"places", b->n_places},
        {"postcodes", b->n_pcs},
        {"admin areas", b->n_admins},
        {"sources", b->n_sources},
        {"line points", (uint64_t)b->n_points + b->n_spoints + b->n_apoints},
    };
    return check_limits(b, c, sizeof(c) / sizeof(c[0]), err, errlen);
}

/* What the phases made: the derived tables' counts. */
static int check_layout_limits(const struct index_builder *b, const struct layout *o, char *err,
                               size_t errlen)
{
    const struct limit_item c[] = {
        {"fuzzy entries", o->n_fuzzy},
        {"points", o->n_points},
        {"grid cells", o->n_cells},
        {"street grid entries", o->n_scell_streets},
        {"postcode streets", o->n_pc_streets},
        {"street hash slots", o->ns_st},
        {"place hash slots", o->ns_pl},
        {"postcode hash slots", o->ns_pc},
    };
    return check_limits(b, c, sizeof(c) / sizeof(c[0]), err, errlen);
}

/* The phases of a build, in order: each reads what the ones before it laid out. */
typedef void build_phase_fn(struct index_builder *b, struct layout *o);
static build_phase_fn *const build_phases[] = {
    order_streets,         /* merge line-only streets, sort streets, addresses, interpolations */
    lay_out_addresses,     /* drop duplicate addresses */
    lay_out_streets,       /* streets with ids and address runs */
    lay_out_interps,       /* interpolation lines and their runs */
    summarise_streets,     /* each street's point and postcode */
    build_fuzzy,           /* one-deletion variants of street keys */
    build_fuzzy_dir,       /* their directory by hash bucket */
    lay_out_places,        /* place centroids, order, ids */
    lay_out_postcodes,     /* postcode points and order */
    link_postcode_streets, /* the streets of each postcode key */
    build_addr_cells,      /* the reverse grid of addresses */
    lay_out_points,        /* interpolation lines, street ways, admin rings */
    build_street_cells,    /* the grid of streets */
    count_countries,       /* per-country counts */
    build_hash_tables,     /* street, place and postcode hash tables */
};

int index_builder_write(struct index_builder *b, const char *path, char *err, size_t errlen)
{
    int rc = check_input_limits(b, err, errlen);
    if (rc < 0)
        return rc;
    struct layout o = {0};
    for (size_t i = 0; i < sizeof(build_phases) / sizeof(build_phases[0]); i++)
        build_phases[i](b, &o);
    rc = check_layout_limits(b, &o, err, errlen);
    if (rc == 0)
        rc = write_index(b, &o, path, err, errlen);
    layout_release(&o);
    return rc;
}
