/*
 * index_build_write.c - the collected records out: sorted tables, one index file.
 *
 * index_builder_write() runs a fixed list of phases over the builder (index_build_int.h): it
 * picks the string unit, merges line-only streets into their address streets, sorts every
 * table with a total order (the last tie-breaker is arrival order), so that the same input
 * gives a byte-identical file, derives what the file stores about each street, builds the grids
 * and hash tables, and writes the sections of index_format.h to a temporary file that is
 * fsynced and renamed into place. Each phase reads what the phases before it laid out in
 * struct layout and adds its own tables.
 *
 * Per street, place and postcode the tables are in memory; everything per address or per point
 * streams: the sorters of the builder (addresses, interpolation lines, ways, rings) and of the
 * phases (grid cells, postcode streets, fuzzy variants) hand their records over in order, and
 * the sections they make are struct sect_out (memory while the budget has room, else a
 * temporary file). Whether a sorter or a section went through a file never changes a byte.
 * Single-threaded, like the builder; the builder is consumed.
 */
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "base/crc.h"
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
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MERGE_METRES 300.0 /* how far a line-only street looks for its address street */

/* A grid cell and what is in it (an address or a street index). */
struct cell_pair {
    uint64_t key;
    uint32_t idx;
    uint32_t zero; /* padding, always 0: records are compared and written whole */
};

/* (first postcode entry of a key, street) while the postcode street table is built. */
struct pc_pair {
    uint32_t run, street;
};

/* The tables of the file as the phases lay them out; every array is owned here. */
struct layout {
    unsigned shift;            /* string offsets count units of 2^shift bytes */
    uint32_t *remap;           /* builder reference -> file reference of an interned string */
    uint64_t hot_len;          /* the interned strings: STRINGS (the builder's blob) */
    uint64_t hot_bound;        /* what choose_shift counted for them */
    uint32_t *order;           /* builder group index -> street index */
    struct b_group *sorted;    /* the groups that stay, in street order */
    size_t ng;                 /* streets */
    struct ix_street *streets; /* ng */
    uint64_t na;               /* addresses kept */
    uint64_t n_points;         /* points written */
    struct ix_place *places;   /* b->n_places */
    struct ix_place_info *place_info; /* b->n_places, in the order of places */
    struct ix_postcode *pcs;          /* b->n_pcs */
    struct ix_range *pc_ranges;
    struct smap pc_runs;  /* postcode key -> first entry of its run in pcs */
    struct smap pc_cache; /* postcode string as stored -> that run, IX_NONE when none has it */
    struct pc_pair last_pair;
    struct ix_country *countries; /* per-country counts */
    size_t n_countries, cap_countries;
    struct ix_country *last_country;
    uint32_t *h_st, *h_pl, *h_pc; /* the hash tables of streets, places, postcodes */
    size_t ns_st, ns_pl, ns_pc;
    unsigned fuzzy_bits;
    struct xsort pc_pairs, cells, scells, fuzzy;
    struct sect_out sect[IXS__COUNT]; /* STRINGS: the source ids only (after the blob) */
    uint32_t *pcbuf;                  /* the current street's address postcodes */
    size_t n_pcbuf, cap_pcbuf;
};

/* n zeroed elements of size bytes among the builder's tables (base/fmem.h): an array that
 * grows with the streets, strings, places or postcodes follows them to temporary files when
 * they pass the budget. Free it with fmem_free(&b->tables, ...). */
static void *table_new(struct index_builder *b, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        abort(); /* a count the limits keep far below */
    void *p = fmem_realloc(&b->tables, NULL, n * size);
    b->pool.resident += b->in_files ? 0 : n * size;
    builder_over_budget(b);
    return p;
}

/* What the comparators need. */
struct wctx {
    const struct index_builder *b;
    const struct layout *o;
};

/* ---- strings ---- */

/* The file's reference of a builder reference (the addresses and lines in the sorters still
 * carry builder references; every table in memory has file references after compact_strings). */
static inline uint32_t fref(const struct layout *o, uint32_t ref)
{
    return o->remap[ref];
}

/* The string at a file reference of an interned string (the blob is the start of STRINGS). */
static inline const char *hot_str(const struct index_builder *b, const struct layout *o,
                                  uint32_t ref)
{
    return b->blob + ((size_t)ref << o->shift);
}

/* The string unit: the smallest (1, 2, 4, 8 bytes) whose offsets address the whole string
 * section within the limit, with every string aligned to it. */
static int choose_shift(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    for (unsigned s = 0; s <= B_STR_SHIFT; s++) {
        o->hot_bound = b->hot_bytes[s];
        if ((b->hot_bytes[s] >> s) <= b->limit) {
            o->shift = s;
            return 0;
        }
    }
    gb_errf(err, errlen,
            "index too large: the string section (%llu bytes) passes %llu offsets of 8 bytes, "
            "the most a 32-bit string offset can address; build several indexes (one per "
            "country) instead",
            (unsigned long long)b->hot_bytes[B_STR_SHIFT], (unsigned long long)b->limit);
    return GB_ELIMIT;
}

/*
 * Where the interned strings go in STRINGS. A query compares few of them, but those at random:
 * the keys of the localities, districts, places and postcodes it names (a binary search over
 * a street run by city key reads one key a step, a hash probe reads the key it finds) and the
 * street keys its spans name. In first-use order each sits among names, house numbers and
 * postcodes, a cache line of its own; together they take few lines. So the interned strings
 * are written in three classes: every other string in first-use order, then the locality
 * keys, then the street keys, each of these two sorted by content (an order that does not
 * depend on how the input was divided, so that a merge lays them out as the joint import
 * does: index_merge.c). The order is no part of the format: a reader finds every string by
 * its reference.
 */
enum str_class { SC_OTHER = 0, SC_LOCALITY, SC_STREET_KEY, SC__COUNT };

/* A key, copied aside while the other strings are compacted. */
struct str_copy {
    uint64_t at;    /* in the copy buffer */
    uint32_t ref;   /* the builder's reference */
    uint32_t class; /* enum str_class */
};

/* Mark builder reference ref as of class c, unless a class before c has it. remap[] holds the
 * classes until compact_strings gives each string its file reference. */
static void mark_class(struct layout *o, uint32_t ref, enum str_class c)
{
    if (ref && (o->remap[ref] == SC_OTHER || o->remap[ref] > (uint32_t)c))
        o->remap[ref] = (uint32_t)c;
}

/* The keys' order in STRINGS: by class, then by content. */
static int cmp_copy(const void *a, const void *b, void *ctx)
{
    const struct str_copy *x = a, *y = b;
    const char *buf = ctx;
    if (x->class != y->class)
        return x->class < y->class ? -1 : 1;
    return strcmp(buf + x->at, buf + y->at);
}

/* s (len bytes and its NUL), of builder reference ref, to the next boundary of the file's unit
 * at or after *to. */
static void place_string(struct layout *o, char *blob, size_t *to, const char *s, size_t len,
                         uint32_t ref)
{
    size_t unit = (size_t)1 << o->shift;
    size_t start = (*to + unit - 1) & ~(unit - 1);
    memset(blob + *to, 0, start - *to);
    o->remap[ref] = (uint32_t)(start >> o->shift);
    memmove(blob + start, s, len + 1);
    *to = start + len + 1;
}

/*
 * The blob as the start of STRINGS: each string moved down to the next boundary of the file's
 * unit (the builder aligned them to 8 bytes), in place, so that an index whose strings fit in
 * 4 GiB pays no padding at all, in the classes above (the keys are copied aside first, a small
 * part of the blob, and written after the others); remap[] maps the builder's references to
 * the file's, and every table in memory takes its file references now. Each string starts on
 * a unit boundary in any order, so the section is as long as choose_shift counted.
 */
static void compact_strings(struct index_builder *b, struct layout *o)
{
    size_t units8 = b->blob_len >> B_STR_SHIFT;
    o->hot_bound = b->hot_bytes[o->shift];
    o->remap = table_new(b, units8 + 1, sizeof(uint32_t));
    for (size_t i = 0; i < b->n_grps; i++) {
        const struct b_group *g = &b->grps[i];
        mark_class(o, g->city_key, SC_LOCALITY);
        mark_class(o, g->district_key, SC_LOCALITY);
        mark_class(o, g->key, SC_STREET_KEY);
    }
    for (size_t i = 0; i < b->n_places; i++)
        mark_class(o, b->places[i].p.key, SC_LOCALITY);
    for (size_t i = 0; i < b->n_pcs; i++)
        mark_class(o, b->pcs[i].p.key, SC_LOCALITY);
    struct str_copy *copy = NULL;
    char *buf = NULL;
    size_t n_copy = 0, cap_copy = 0, at = 0, cap_buf = 0, nc[SC__COUNT] = {0};
    size_t to = 1; /* offset 0 keeps "" */
    o->remap[0] = 0;
    for (size_t from = 8; from < b->blob_len;) {
        size_t len = strlen(b->blob + from);
        uint32_t ref = (uint32_t)(from >> B_STR_SHIFT), c = o->remap[ref];
        nc[c]++;
        if (c == SC_OTHER) {
            place_string(o, b->blob, &to, b->blob + from, len, ref);
        } else {
            VEC_GROW(copy, n_copy, cap_copy);
            copy[n_copy++] = (struct str_copy){at, ref, c};
            VEC_RESERVE(buf, at + len + 1, cap_buf);
            memcpy(buf + at, b->blob + from, len + 1);
            at += len + 1;
        }
        from = (from + len + 1 + 7) & ~(size_t)7;
    }
    xs_qsort(copy, n_copy, sizeof(*copy), cmp_copy, buf);
    for (size_t k = 0; k < n_copy; k++) {
        const char *s = buf + copy[k].at;
        place_string(o, b->blob, &to, s, strlen(s), copy[k].ref);
    }
    log_debug("strings: other=%zu locality_keys=%zu street_keys=%zu keys_bytes=%zu", nc[SC_OTHER],
              nc[SC_LOCALITY], nc[SC_STREET_KEY], at);
    free(copy);
    free(buf);
    size_t unit = (size_t)1 << o->shift;
    size_t end = (to + unit - 1) & ~(unit - 1);
    memset(b->blob + to, 0, end - to);
    b->blob_len = end;
    o->hot_len = end;
    for (size_t i = 0; i < b->n_grps; i++) {
        struct b_group *g = &b->grps[i];
        uint32_t *f[] = {&g->key,      &g->name,         &g->city,   &g->city_key,
                         &g->district, &g->district_key, &g->county, &g->state};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            *f[k] = fref(o, *f[k]);
    }
    for (size_t i = 0; i < b->n_places; i++) {
        struct ix_place *p = &b->places[i].p;
        uint32_t *f[] = {&p->key, &p->name, &p->city, &p->county, &p->state};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            *f[k] = fref(o, *f[k]);
    }
    for (size_t i = 0; i < b->n_pcs; i++) {
        struct ix_postcode *p = &b->pcs[i].p;
        p->key = fref(o, p->key);
        p->name = fref(o, p->name);
        p->city = fref(o, p->city);
    }
    for (size_t i = 0; i < b->n_admins; i++)
        b->admins[i].name = fref(o, b->admins[i].name);
    for (size_t i = 0; i < b->n_sources; i++)
        b->sources[i].name = fref(o, b->sources[i].name);
}

/* ---- orders: every table sorts on its content, then on arrival ---- */

/* Compare two interned strings by their file references. */
static int cmp_str(const struct wctx *w, uint32_t a, uint32_t b)
{
    return a == b ? 0 : strcmp(hot_str(w->b, w->o, a), hot_str(w->b, w->o, b));
}

static int cmp_group(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct b_group *a = pa, *b = pb;
    int c = cmp_str(w, a->key, b->key);
    if (c)
        return c;
    c = memcmp(a->country, b->country, 2);
    if (c)
        return c;
    c = cmp_str(w, a->city_key, b->city_key);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Addresses: by street, number, second number, suffix, postcode, arrival. */
static int cmp_addr(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct a_rec *a = pa, *b = pb;
    uint32_t sa = w->o->order[a->group], sb = w->o->order[b->group];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    if (a->number2 != b->number2)
        return a->number2 < b->number2 ? -1 : 1;
    int c = memcmp(a->suffix, b->suffix, 3);
    if (c)
        return c;
    if (a->postcode != b->postcode) {
        c = cmp_str(w, fref(w->o, a->postcode), fref(w->o, b->postcode));
        if (c)
            return c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* (street, number) in 64 bits, in cmp_addr's order. */
static uint64_t key_addr(const void *rec, void *ctx)
{
    const struct wctx *w = ctx;
    const struct a_rec *a = rec;
    return (uint64_t)w->o->order[a->group] << 32 | ((uint32_t)a->number ^ 0x80000000u);
}

/* Interpolation lines: by street, first number, arrival. */
static int cmp_interp(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct i_rec *a = pa, *b = pb;
    uint32_t sa = w->o->order[a->group], sb = w->o->order[b->group];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Ways: by street (a line-only street's ways go with the street it joins), arrival. */
static int cmp_way(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct g_rec *a = pa, *b = pb;
    uint32_t sa = w->o->order[a->group], sb = w->o->order[b->group];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Admin rings: in the order of their areas. */
static int cmp_ring(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct r_rec *a = pa, *b = pb;
    return a->admin < b->admin ? -1 : a->admin > b->admin;
}

static int cmp_place(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct b_place *a = pa, *b = pb;
    int c = cmp_str(w, a->p.key, b->p.key);
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

/* Postcodes: by key, country (a key and a country are one postcode: a total order). */
static int cmp_postcode(const void *pa, const void *pb, void *ctx)
{
    const struct wctx *w = ctx;
    const struct ix_postcode *a = pa, *b = pb;
    int c = cmp_str(w, a->key, b->key);
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

/* The 64-bit prefixes of cmp_fuzzy's, cmp_pair's and cmp_pc_pair's orders (xs_key_fn). */
static uint64_t key_fuzzy(const void *rec, void *ctx)
{
    (void)ctx;
    const struct ix_fuzzy *a = rec;
    return (uint64_t)a->hash << 32 | a->street;
}

static uint64_t key_pair(const void *rec, void *ctx)
{
    (void)ctx;
    return ((const struct cell_pair *)rec)->key;
}

static uint64_t key_pc_pair(const void *rec, void *ctx)
{
    (void)ctx;
    const struct pc_pair *a = rec;
    return (uint64_t)a->run << 32 | a->street;
}

static int cmp_pc_pair(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct pc_pair *a = pa, *c = pb;
    if (a->run != c->run)
        return a->run < c->run ? -1 : 1;
    return (a->street > c->street) - (a->street < c->street);
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
    if (a->max_lat < b->min_lat) /* in double: longitudes differ by up to 3.6e9 units */
        dy = (double)b->min_lat - a->max_lat;
    else if (b->max_lat < a->min_lat)
        dy = (double)a->min_lat - b->max_lat;
    if (a->max_lon < b->min_lon)
        dx = (double)b->min_lon - a->max_lon;
    else if (b->max_lon < a->min_lon)
        dx = (double)a->min_lon - b->max_lon;
    double lat = ((double)a->min_lat + a->max_lat) / 2.0 / IX_COORD_SCALE;
    dy = dy / IX_COORD_SCALE * 111320.0;
    /* no short way across the antimeridian: a merged box would span the globe */
    dx = dx / IX_COORD_SCALE * 111320.0 * cos(lat * M_PI / 180);
    return sqrt(dx * dx + dy * dy);
}

/* The grid cell of a fixed-point point. */
static uint64_t cell_of(int32_t lat, int32_t lon)
{
    uint64_t cy = (uint64_t)(uint32_t)(int32_t)floor(lat / IX_COORD_SCALE / IX_CELL_DEG);
    uint64_t cx = (uint64_t)(uint32_t)(int32_t)floor(lon / IX_COORD_SCALE / IX_CELL_DEG);
    return (cy << 32) | cx;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p *= 2;
    return p;
}

/* A sorter's I/O error, with a message naming the temporary directory. */
static int sort_error(const struct index_builder *b, const struct xsort *x, int rc, char *err,
                      size_t errlen)
{
    gb_errf(err, errlen, "cannot use a temporary file (%s) in %s: %s", x->name, b->tmpdir,
            gb_strerror(rc));
    return rc;
}

/* A section's I/O error. */
static int sect_error(const struct index_builder *b, int rc, char *err, size_t errlen)
{
    gb_errf(err, errlen, "cannot write a temporary file in %s: %s", b->tmpdir, gb_strerror(rc));
    return rc;
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

/* An open-addressing table of the first index of each run of equal keys (file references). */
static int build_hash(struct index_builder *b, const struct layout *o, size_t n, const void *arr,
                      size_t stride, size_t key_field, const char *what, uint32_t **table,
                      size_t *nslots, char *err, size_t errlen)
{
    size_t runs = 0;
    const char *base = arr;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = *(const uint32_t *)(base + i * stride + key_field);
        uint32_t kp = i ? *(const uint32_t *)(base + (i - 1) * stride + key_field) : 0;
        if (i == 0 || strcmp(hot_str(b, o, k), hot_str(b, o, kp)) != 0)
            runs++;
    }
    size_t ns = pow2_at_least(runs * 2 + 1);
    int rc = over_limit(b, what, ns, err, errlen);
    if (rc < 0)
        return rc;
    uint32_t *t = table_new(b, ns, sizeof(uint32_t));
    memset(t, 0xff, ns * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        uint32_t k = *(const uint32_t *)(base + i * stride + key_field);
        uint32_t kp = i ? *(const uint32_t *)(base + (i - 1) * stride + key_field) : 0;
        if (i != 0 && strcmp(hot_str(b, o, k), hot_str(b, o, kp)) == 0)
            continue;
        const char *ks = hot_str(b, o, k);
        size_t h = ix_key_hash(ks, strlen(ks)) & (ns - 1);
        while (t[h] != IX_NONE)
            h = (h + 1) & (ns - 1);
        t[h] = (uint32_t)i;
    }
    *table = t;
    *nslots = ns;
    return 0;
}

/* The counts of country cc, added (zeroed) the first time cc is seen. */
static struct ix_country *country_slot(struct layout *o, const char cc[2])
{
    if (o->last_country && memcmp(o->last_country->code, cc, 2) == 0)
        return o->last_country;
    for (size_t k = 0; k < o->n_countries; k++)
        if (memcmp(o->countries[k].code, cc, 2) == 0)
            return o->last_country = &o->countries[k];
    VEC_GROW(o->countries, o->n_countries, o->cap_countries);
    struct ix_country *c = &o->countries[o->n_countries++];
    memset(c, 0, sizeof(*c));
    memcpy(c->code, cc, 2);
    return o->last_country = c;
}

/* ---- the phases, in the order index_builder_write() runs them ---- */

/* What stays in memory during the phases, for the budget. */
static void layout_resident(struct index_builder *b, const struct layout *o)
{
    /* the blob, places and postcodes, and the layout's arrays of streets, strings, places and
       postcodes (table_new) */
    b->pool.resident = b->base_rss + builder_tables_counted(b) +
                       b->cap_admins * sizeof(*b->admins) + (uint64_t)o->cap_pcbuf * 4;
    builder_over_budget(b);
}

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
    uint32_t *target = table_new(b, ng + 1, sizeof(uint32_t));
    for (size_t i = 0; i < ng; i++)
        target[i] = (uint32_t)i;
    if (b->keep_line_only)
        return target; /* merged indexes: each input joined its own */
    /* groups with content, chained by (key, country) */
    struct smap heads;
    smap_init(&heads);
    smap_use(&heads, &b->tables);
    uint32_t *next = table_new(b, ng + 1, sizeof(uint32_t));
    for (size_t i = 0; i < ng; i++) {
        next[i] = IX_NONE;
        if (!b->grps[i].n_addr && !b->grps[i].has_interp)
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
        if (b->grps[i].n_addr || b->grps[i].has_interp)
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
    fmem_free(&b->tables, next);
    return target;
}

/*
 * Give the streets their final order: merge line-only groups (merge_line_only_streets), sort
 * the groups that stay, and map every group to its street index (order); addresses, lines and
 * ways are sorted through it later. The groups themselves are then freed: sorted holds them.
 */
static int order_streets(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    size_t ng = b->n_grps;
    o->order = table_new(b, ng + 1, sizeof(uint32_t));
    uint32_t *target = merge_line_only_streets(b);
    size_t nkeep = 0;
    for (size_t i = 0; i < ng; i++)
        nkeep += target[i] == i;
    o->sorted = table_new(b, nkeep + 1, sizeof(*o->sorted));
    nkeep = 0;
    for (size_t i = 0; i < ng; i++) {
        if (target[i] != i)
            continue;
        o->sorted[nkeep] = b->grps[i];
        o->sorted[nkeep].seq = (uint32_t)i; /* creation order == index: a stable tie-breaker */
        nkeep++;
    }
    fmem_free(&b->tables, b->grps);
    b->grps = NULL;
    b->cap_grps = 0;
    struct wctx w = {b, o};
    xs_sort_in(&b->pool, o->sorted, nkeep, sizeof(*o->sorted), cmp_group, &w);
    for (size_t i = 0; i < nkeep; i++)
        o->order[o->sorted[i].seq] = (uint32_t)i;
    for (size_t i = 0; i < ng; i++)
        o->order[i] = o->order[target[i]];
    fmem_free(&b->tables, target);
    o->ng = nkeep;
    return 0;
}

/* Streets: the sorted groups, each with its stable id (FNV-1a 32 of "key|CC|citykey"); the
 * runs of addresses, lines and ways come with those passes. */
static int lay_out_streets(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct ix_street *streets = table_new(b, o->ng + 1, sizeof(*streets));
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
        if (g->way_len > 0) { /* its point: the middle of its longest way, else an address */
            s->lat = g->way_lat;
            s->lon = g->way_lon;
        }
        /* an alias's: its street's, whose name it carries (the key of that name) */
        char idsrc[3 * NORM_MAX], akey[NORM_MAX];
        const char *key = hot_str(b, o, g->key);
        char ccs[3] = {g->country[0], g->country[1], '\0'};
        const char *name = g->alias ? hot_str(b, o, g->name) : NULL;
        if (name && norm_key(name, strlen(name), ccs[0] ? ccs : NULL, akey, sizeof(akey)) > 0)
            key = akey;
        int n = snprintf(idsrc, sizeof(idsrc), "%s|%.2s|%s", key, g->country,
                         hot_str(b, o, g->city_key));
        s->id = hash_fnv1a(idsrc, (size_t)n); /* stored in the file: must never change */
    }
    /* each run's length on its first street (equal keys are one interned string) */
    for (size_t i = 0, j; i < o->ng; i = j) {
        for (j = i + 1; j < o->ng && streets[j].key == streets[i].key; j++)
            ;
        if (j - i <= IXS_RUN_MAX)
            streets[i].flags |= (uint16_t)((j - i) << IXS_RUN_SHIFT);
    }
    o->streets = streets;
    return 0;
}

/* Places: derived ones at the centroid of their addresses, all sorted, each with its stable id
 * (FNV-1a 32 of "key|CC|rank|source"). */
static int lay_out_places(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    for (size_t i = 0; i < b->n_places; i++) {
        struct b_place *p = &b->places[i];
        if (p->p.source == 2 && p->n) {
            p->p.lat = to_fix(p->sum_lat / p->n);
            p->p.lon = to_fix(p->sum_lon / p->n);
        }
    }
    struct wctx w = {b, o};
    xs_sort_in(&b->pool, b->places, b->n_places, sizeof(*b->places), cmp_place, &w);
    struct ix_place *places = table_new(b, b->n_places + 1, sizeof(*places));
    struct ix_place_info *info = table_new(b, b->n_places + 1, sizeof(*info));
    for (size_t i = 0; i < b->n_places; i++) {
        struct ix_place *p = &places[i];
        *p = b->places[i].p;
        info[i] = b->places[i].info;
        char idsrc[NORM_MAX + 16];
        int n = snprintf(idsrc, sizeof(idsrc), "%s|%.2s|%d|%d", hot_str(b, o, p->key), p->country,
                         p->rank, p->source);
        p->id = hash_fnv1a(idsrc, (size_t)n); /* stored in the file: must never change */
    }
    o->places = places;
    o->place_info = info;
    return 0;
}

/* Postcodes: at the centroid of the addresses that give them, else where their record puts
 * them; sorted by key and country. The runs of equal keys are noted for the postcode streets. */
static int lay_out_postcodes(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct ix_postcode *pcs = table_new(b, b->n_pcs + 1, sizeof(*pcs));
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
    struct wctx w = {b, o};
    xs_sort_in(&b->pool, pcs, b->n_pcs, sizeof(*pcs), cmp_postcode, &w);
    o->pcs = pcs;
    smap_init(&o->pc_runs);
    smap_init(&o->pc_cache);
    for (size_t i = 0; i < b->n_pcs; i++) {
        if (i > 0 && pcs[i].key == pcs[i - 1].key)
            continue;
        const char *k = hot_str(b, o, pcs[i].key);
        int ins;
        smap_put(&o->pc_runs, k, strlen(k), (uint32_t)i, &ins);
    }
    o->pc_ranges = table_new(b, b->n_pcs + 1, sizeof(*o->pc_ranges));
    o->last_pair = (struct pc_pair){IX_NONE, IX_NONE};
    return 0;
}

/* Count a postcode string (file reference off) of street st: a pair (first entry of the key's
 * run, st) for the postcode street table. Each stored string is keyed once. */
static int pc_link_add(const struct index_builder *b, struct layout *o, uint32_t off, uint32_t st)
{
    const char *pc = hot_str(b, o, off);
    if (!off || !*pc)
        return 0;
    uint32_t *run = smap_get(&o->pc_cache, pc, strlen(pc));
    if (!run) {
        char key[64];
        size_t kl = norm_postcode(pc, strlen(pc), false, key, sizeof(key));
        uint32_t *r = kl ? smap_get(&o->pc_runs, key, kl) : NULL;
        int ins;
        run = smap_put(&o->pc_cache, pc, strlen(pc), r ? *r : IX_NONE, &ins);
    }
    if (*run == IX_NONE || (o->last_pair.run == *run && o->last_pair.street == st))
        return 0;
    o->last_pair = (struct pc_pair){*run, st};
    return xsort_add(&o->pc_pairs, &o->last_pair, sizeof(o->last_pair));
}

/* The postcode most of a street's addresses give (on a tie the smaller string; once one holds
 * a clear majority of a long street, the count stops), or 0 when none gives one: pc[0..n) are
 * the file references of its addresses' postcodes, in address order. */
static uint32_t street_postcode(const struct index_builder *b, const struct layout *o,
                                const uint32_t *pc, size_t n)
{
    uint32_t best_pc = 0, best_n = 0;
    for (size_t k = 0; k < n; k++) {
        if (!pc[k])
            continue;
        uint32_t cnt = 0;
        for (size_t j = 0; j < n && cnt <= best_n; j++)
            cnt += pc[j] == pc[k];
        if (cnt > best_n ||
            (cnt == best_n && strcmp(hot_str(b, o, pc[k]), hot_str(b, o, best_pc)) < 0)) {
            best_n = cnt;
            best_pc = pc[k];
        }
        if (n > 64 && best_n > n / 2)
            break;
    }
    return best_pc;
}

/* A street's addresses are all written: its postcode, and its pair in the postcode table. */
static int finish_street(const struct index_builder *b, struct layout *o, uint32_t st)
{
    struct ix_street *s = &o->streets[st];
    s->postcode = street_postcode(b, o, o->pcbuf, o->n_pcbuf);
    o->n_pcbuf = 0;
    return pc_link_add(b, o, s->postcode, st);
}

/*
 * Addresses, merged in order: one given twice (same street, number, postcode, within
 * IX_DEDUP_METRES; from one source or two, such as the units of one address) is stored once. Each
 * kept address is written to ADDRS, its source id to the strings after the blob; its street
 * learns its run, its point (the address nearest the centroid of its addresses, when it has
 * no way) and its postcode; the grid and the postcode table get their pairs.
 */
static int write_addresses(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    struct wctx w = {b, o};
    int rc = xsort_sort(&b->addrs, cmp_addr, key_addr, &w);
    if (rc < 0)
        return sort_error(b, &b->addrs, rc, err, errlen);
    struct sect_out *out = &o->sect[IXS_ADDRS];
    struct ix_addr prev = {0};
    uint32_t cur = IX_NONE;
    int32_t clat = 0, clon = 0;
    double best = 0;
    bool by_address = false;
    size_t len;
    const void *rec;
    while ((rec = xsort_next(&b->addrs, &len)) != NULL) {
        const struct a_rec *a = rec;
        uint32_t st = o->order[a->group];
        uint32_t pc = fref(o, a->postcode);
        if (o->na > 0 && prev.street == st && prev.number == a->number &&
            prev.number2 == a->number2 && memcmp(prev.suffix, a->suffix, 3) == 0 &&
            prev.postcode == pc && dist_m(prev.lat, prev.lon, a->lat, a->lon) <= IX_DEDUP_METRES)
            continue;
        if (st != cur) {
            if (cur != IX_NONE && (rc = finish_street(b, o, cur)) < 0)
                break;
            cur = st;
            const struct b_group *g = &o->sorted[st];
            o->streets[st].addr_first = (uint32_t)o->na;
            o->streets[st].flags |= IXS_PLAIN_NUMBERS;
            by_address = !(g->way_len > 0);
            best = 1e18;
            if (by_address) {
                clat = to_fix(g->sum_lat / g->n_addr);
                clon = to_fix(g->sum_lon / g->n_addr);
            }
        }
        struct ix_addr x;
        memset(&x, 0, sizeof(x));
        x.lat = a->lat;
        x.lon = a->lon;
        x.number = a->number;
        x.number2 = a->number2;
        memcpy(x.suffix, a->suffix, 3);
        x.flags = a->flags;
        x.raw = fref(o, a->raw);
        x.postcode = pc;
        x.street = st;
        x.id = (a->flags & IXA_NO_SOURCE) ? (uint32_t)o->na : a->id;
        if ((rc = so_write(out, &x, sizeof(x))) < 0)
            break;
        struct ix_street *s = &o->streets[st];
        s->addr_count++;
        if (x.flags & (IXA_SLASH | IXA_RANGE))
            s->flags &= (uint16_t)~IXS_PLAIN_NUMBERS;
        if (by_address) {
            double d = dist_m(clat, clon, x.lat, x.lon);
            if (d < best) {
                best = d;
                s->lat = x.lat;
                s->lon = x.lon;
            }
        }
        VEC_GROW(o->pcbuf, o->n_pcbuf, o->cap_pcbuf);
        o->pcbuf[o->n_pcbuf++] = pc;
        if ((rc = pc_link_add(b, o, pc, st)) < 0)
            break;
        struct cell_pair cp = {cell_of(x.lat, x.lon), (uint32_t)o->na, 0};
        if ((rc = xsort_add(&o->cells, &cp, sizeof(cp))) < 0)
            break;
        country_slot(o, s->country)->addresses++;
        prev = x;
        o->na++;
    }
    if (rc == 0 && cur != IX_NONE)
        rc = finish_street(b, o, cur);
    if (rc == 0 && b->addrs.rc)
        return sort_error(b, &b->addrs, b->addrs.rc, err, errlen);
    xsort_release(&b->addrs);
    if (rc < 0)
        return sect_error(b, rc, err, errlen);
    if (o->hot_len != o->hot_bound) { /* cannot happen */
        gb_errf(err, errlen, "internal error: the string section outgrew its estimate");
        return GB_EINTERNAL;
    }
    return 0;
}

static int segment_cells(struct xsort *x, struct ix_point p, struct ix_point q, uint32_t street);

/* Interpolation lines in street order, their points first in POINTS, each street's run. */
static int write_interps(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    struct wctx w = {b, o};
    int rc = xsort_sort(&b->interps, cmp_interp, NULL, &w);
    if (rc < 0)
        return sort_error(b, &b->interps, rc, err, errlen);
    size_t len;
    const void *rec;
    uint64_t i = 0;
    while ((rec = xsort_next(&b->interps, &len)) != NULL) {
        const struct i_rec *it = rec;
        uint32_t st = o->order[it->group];
        struct ix_interp x = {
            .street = st,
            .from = it->from,
            .to = it->to,
            .parity = it->parity,
            .side = it->side,
            .geom_first = (uint32_t)o->n_points,
            .geom_count = it->n_points,
            .postcode = fref(o, it->postcode),
        };
        if ((rc = so_write(&o->sect[IXS_INTERPS], &x, sizeof(x))) < 0 ||
            (rc = so_write(&o->sect[IXS_POINTS], (const char *)rec + sizeof(*it),
                           (size_t)it->n_points * sizeof(struct ix_point))) < 0)
            return sect_error(b, rc, err, errlen);
        o->n_points += it->n_points;
        /* the street grid lists the street where its ranges run too: a street of ranges alone
         * (TIGER's) has no other line for reverse geocoding to find */
        const struct ix_point *ip =
            (const struct ix_point *)(const void *)((const char *)rec + sizeof(*it));
        for (uint32_t k = 1; k < it->n_points; k++)
            if ((rc = segment_cells(&o->scells, ip[k - 1], ip[k], st)) < 0)
                return sort_error(b, &o->scells, rc, err, errlen);
        struct ix_street *s = &o->streets[st];
        if (s->interp_first == IX_NONE)
            s->interp_first = (uint32_t)i;
        s->interp_count++;
        if ((rc = pc_link_add(b, o, x.postcode, st)) < 0)
            return sort_error(b, &o->pc_pairs, rc, err, errlen);
        i++;
    }
    if (b->interps.rc)
        return sort_error(b, &b->interps, b->interps.rc, err, errlen);
    xsort_release(&b->interps);
    return 0;
}

/* Append (cell, street) pairs for every grid cell the segment's bounding box touches. */
static int segment_cells(struct xsort *x, struct ix_point p, struct ix_point q, uint32_t street)
{
    int32_t y0 = (int32_t)floor(fmin(p.lat, q.lat) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t y1 = (int32_t)floor(fmax(p.lat, q.lat) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t x0 = (int32_t)floor(fmin(p.lon, q.lon) / IX_COORD_SCALE / IX_CELL_DEG);
    int32_t x1 = (int32_t)floor(fmax(p.lon, q.lon) / IX_COORD_SCALE / IX_CELL_DEG);
    if ((int64_t)(y1 - y0 + 1) * (x1 - x0 + 1) > 10000)
        return 0; /* a broken segment across the map: not worth indexing */
    for (int32_t y = y0; y <= y1; y++)
        for (int32_t xx = x0; xx <= x1; xx++) {
            struct cell_pair cp = {((uint64_t)(uint32_t)y << 32) | (uint32_t)xx, street, 0};
            int rc = xsort_add(x, &cp, sizeof(cp));
            if (rc < 0)
                return rc;
        }
    return 0;
}

/* Each street's ways in street order (ways after the first behind an IX_PART_BREAK), after the
 * interpolation lines in POINTS; every segment notes the cells it crosses. */
static int write_ways(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    struct wctx w = {b, o};
    int rc = xsort_sort(&b->ways, cmp_way, NULL, &w);
    if (rc < 0)
        return sort_error(b, &b->ways, rc, err, errlen);
    struct sect_out *pts = &o->sect[IXS_POINTS];
    size_t len;
    const void *rec;
    while ((rec = xsort_next(&b->ways, &len)) != NULL) {
        const struct g_rec *g = rec;
        const struct ix_point *p =
            (const struct ix_point *)(const void *)((const char *)rec + sizeof(*g));
        uint32_t st = o->order[g->group];
        struct ix_street *s = &o->streets[st];
        if (s->geom_count == 0) {
            s->geom_first = (uint32_t)o->n_points;
        } else {
            struct ix_point brk = {IX_PART_BREAK, IX_PART_BREAK};
            if ((rc = so_write(pts, &brk, sizeof(brk))) < 0)
                return sect_error(b, rc, err, errlen);
            o->n_points++;
            s->geom_count++;
        }
        if ((rc = so_write(pts, p, (size_t)g->n_points * sizeof(*p))) < 0)
            return sect_error(b, rc, err, errlen);
        o->n_points += g->n_points;
        s->geom_count += g->n_points;
        for (uint32_t k = 1; k < g->n_points; k++)
            if ((rc = segment_cells(&o->scells, p[k - 1], p[k], st)) < 0)
                return sort_error(b, &o->scells, rc, err, errlen);
    }
    if (b->ways.rc)
        return sort_error(b, &b->ways, b->ways.rc, err, errlen);
    xsort_release(&b->ways);
    return 0;
}

/* The admin rings last in POINTS, in the order of their areas, whose offsets move by where they
 * start. */
static int write_rings(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    int rc = xsort_sort(&b->rings, cmp_ring, NULL, NULL);
    if (rc < 0)
        return sort_error(b, &b->rings, rc, err, errlen);
    uint64_t base = o->n_points;
    size_t len;
    const void *rec;
    while ((rec = xsort_next(&b->rings, &len)) != NULL) {
        const struct r_rec *r = rec;
        if ((rc = so_write(&o->sect[IXS_POINTS], (const char *)rec + sizeof(*r),
                           (size_t)r->n_points * sizeof(struct ix_point))) < 0)
            return sect_error(b, rc, err, errlen);
        o->n_points += r->n_points;
    }
    if (b->rings.rc)
        return sort_error(b, &b->rings, b->rings.rc, err, errlen);
    xsort_release(&b->rings);
    for (size_t i = 0; i < b->n_admins; i++) {
        struct ix_admin *a = &b->admins[i];
        if (a->geom_count)
            a->geom_first += (uint32_t)base;
    }
    return 0;
}

/* The postcode -> streets table: for every postcode key, the streets that have an address, an
 * interpolation or a street postcode of that key, in street order; every entry of the key's
 * run shares the one range. The geocoder narrows a street name to a postcode with it and tells
 * whether a street has the query's postcode with one binary search. */
static int write_postcode_streets(struct index_builder *b, struct layout *o, char *err,
                                  size_t errlen)
{
    int rc = xsort_sort(&o->pc_pairs, cmp_pc_pair, key_pc_pair, NULL);
    if (rc < 0)
        return sort_error(b, &o->pc_pairs, rc, err, errlen);
    uint64_t w = 0;
    struct pc_pair last = {IX_NONE, IX_NONE};
    size_t len;
    const void *rec;
    while ((rec = xsort_next(&o->pc_pairs, &len)) != NULL) {
        const struct pc_pair *p = rec;
        if (p->run == last.run && p->street == last.street)
            continue;
        last = *p;
        if ((rc = over_limit(b, "postcode streets", w + 1, err, errlen)) < 0)
            return rc;
        struct ix_range *r = &o->pc_ranges[p->run];
        if (r->count == 0)
            r->first = (uint32_t)w;
        r->count++;
        if ((rc = so_write(&o->sect[IXS_PC_STREETS], &p->street, 4)) < 0)
            return sect_error(b, rc, err, errlen);
        w++;
    }
    if (o->pc_pairs.rc)
        return sort_error(b, &o->pc_pairs, o->pc_pairs.rc, err, errlen);
    xsort_release(&o->pc_pairs);
    for (size_t i = 1; i < b->n_pcs; i++) /* the run's other entries share its range */
        if (o->pcs[i].key == o->pcs[i - 1].key)
            o->pc_ranges[i] = o->pc_ranges[i - 1];
    return 0;
}

/* A grid (cells in id order, and what is in each) from sorted (cell, index) pairs; dedup drops
 * a pair equal to the one before it. */
static int write_grid(struct index_builder *b, struct xsort *x, struct sect_out *cells,
                      struct sect_out *items, bool dedup, const char *what, char *err,
                      size_t errlen)
{
    int rc = xsort_sort(x, cmp_pair, key_pair, NULL);
    if (rc < 0)
        return sort_error(b, x, rc, err, errlen);
    struct ix_cell c = {0};
    bool open = false;
    struct cell_pair last = {0};
    uint64_t n = 0;
    size_t len;
    const void *rec;
    while ((rec = xsort_next(x, &len)) != NULL) {
        const struct cell_pair *p = rec;
        if (dedup && n > 0 && p->key == last.key && p->idx == last.idx)
            continue;
        last = *p;
        if ((rc = over_limit(b, what, n + 1, err, errlen)) < 0)
            return rc;
        if (!open || c.cell != p->key) {
            if (open && (rc = so_write(cells, &c, sizeof(c))) < 0)
                return sect_error(b, rc, err, errlen);
            c = (struct ix_cell){p->key, (uint32_t)n, 0};
            open = true;
        }
        c.count++;
        if ((rc = so_write(items, &p->idx, 4)) < 0)
            return sect_error(b, rc, err, errlen);
        n++;
    }
    if (x->rc)
        return sort_error(b, x, x->rc, err, errlen);
    if (open && (rc = so_write(cells, &c, sizeof(c))) < 0)
        return sect_error(b, rc, err, errlen);
    xsort_release(x);
    return 0;
}

/* The reverse grid of addresses and the grid of streets. */
static int write_grids(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    int rc = write_grid(b, &o->cells, &o->sect[IXS_CELLS], &o->sect[IXS_CELL_ADDRS], false,
                        "grid addresses", err, errlen);
    if (rc == 0)
        rc = write_grid(b, &o->scells, &o->sect[IXS_SCELLS], &o->sect[IXS_SCELL_STREETS], true,
                        "street grid entries", err, errlen);
    return rc;
}

/* One (hash of s[0..len), street) entry of the FUZZY section. */
static int fuzzy_add(struct layout *o, const char *s, size_t len, uint32_t street)
{
    struct ix_fuzzy f = {ix_key_hash(s, len), street};
    return xsort_add(&o->fuzzy, &f, sizeof(f));
}

/*
 * Fuzzy: every key and its one-deletion variants, sorted by hash, each (hash, street) once; then
 * its directory: 2^k buckets by the top k bits of the hash (about four entries a bucket),
 * dir[b] the first entry of bucket b and the bits of its entries' hashes (ix_fuzzy_bucket),
 * dir[2^k].first = n_fuzzy. A probe reads one bucket and, where its bit is set, a few entries
 * instead of binary-searching the whole section.
 */
static int write_fuzzy(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    const struct ix_street *streets = o->streets;
    int rc = 0;
    for (size_t i = 0; i < o->ng && rc == 0; i++) {
        if (i > 0 && streets[i].key == streets[i - 1].key)
            continue;
        const char *k = hot_str(b, o, streets[i].key);
        size_t len = strlen(k);
        if (len < 4 || len >= NORM_MAX)
            continue;
        char v[NORM_MAX];
        for (size_t d = 0; d < len && rc == 0; d++) {
            if (d > 0 && k[d] == k[d - 1])
                continue; /* the same variant as the previous deletion */
            memcpy(v, k, d);
            memcpy(v + d, k + d + 1, len - d - 1);
            rc = fuzzy_add(o, v, len - 1, (uint32_t)i);
        }
        if (rc == 0)
            rc = fuzzy_add(o, k, len, (uint32_t)i);
    }
    if (rc == 0)
        rc = xsort_sort(&o->fuzzy, cmp_fuzzy, key_fuzzy, NULL);
    if (rc < 0)
        return sort_error(b, &o->fuzzy, rc, err, errlen);
    struct sect_out *fz = &o->sect[IXS_FUZZY], *dir = &o->sect[IXS_FUZZY_DIR];
    struct ix_fuzzy last = {0};
    uint64_t n = 0;
    size_t len;
    const void *rec;
    while ((rec = xsort_next(&o->fuzzy, &len)) != NULL) {
        const struct ix_fuzzy *f = rec;
        if (n > 0 && f->hash == last.hash && f->street == last.street)
            continue;
        last = *f;
        if ((rc = over_limit(b, "fuzzy entries", n + 1, err, errlen)) < 0)
            return rc;
        if ((rc = so_write(fz, f, sizeof(*f))) < 0)
            return sect_error(b, rc, err, errlen);
        n++;
    }
    if (o->fuzzy.rc)
        return sort_error(b, &o->fuzzy, o->fuzzy.rc, err, errlen);
    xsort_release(&o->fuzzy);
    if ((rc = so_finish(fz)) < 0)
        return sect_error(b, rc, err, errlen);
    unsigned k = 1;
    while (k < 30 && ((uint64_t)1 << (k + 2)) < n)
        k++;
    o->fuzzy_bits = k;
    /* the directory, from the entries read back in blocks: bucket cur is written when the
     * entries pass it */
    uint64_t nb = (uint64_t)1 << k, cur = 0;
    struct ix_fuzzy_bucket bk = {0, 0};
    struct ix_fuzzy blk[4096];
    for (uint64_t e = 0; e < n;) {
        size_t m = n - e < 4096 ? (size_t)(n - e) : 4096;
        if ((rc = so_read(fz, e * sizeof(*blk), blk, m * sizeof(*blk))) < 0)
            return sect_error(b, rc, err, errlen);
        for (size_t j = 0; j < m; j++, e++) {
            uint64_t top = ix_fuzzy_bucket_of(blk[j].hash, k);
            for (; cur < top; cur++) {
                if ((rc = so_write(dir, &bk, sizeof(bk))) < 0)
                    return sect_error(b, rc, err, errlen);
                bk = (struct ix_fuzzy_bucket){(uint32_t)e, 0};
            }
            bk.bits |= ix_fuzzy_bit(blk[j].hash, k);
        }
    }
    for (; cur <= nb; cur++) { /* the last with entries, the empty ones after, the end */
        if ((rc = so_write(dir, &bk, sizeof(bk))) < 0)
            return sect_error(b, rc, err, errlen);
        bk = (struct ix_fuzzy_bucket){(uint32_t)n, 0};
    }
    return 0;
}

/* Per-country counts of streets, places and postcodes (addresses were counted as written),
 * sorted by code. */
static int count_countries(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    for (size_t i = 0; i < o->ng; i++)
        country_slot(o, o->streets[i].country)->streets++;
    for (size_t i = 0; i < b->n_places; i++)
        country_slot(o, o->places[i].country)->places++;
    for (size_t i = 0; i < b->n_pcs; i++)
        country_slot(o, o->pcs[i].country)->postcodes++;
    o->last_country = NULL;
    xs_qsort(o->countries, o->n_countries, sizeof(*o->countries), cmp_country, NULL);
    return 0;
}

/* The hash tables of street, place and postcode keys (first index of each run). */
static int build_hash_tables(struct index_builder *b, struct layout *o, char *err, size_t errlen)
{
    int rc =
        build_hash(b, o, o->ng, o->streets, sizeof(*o->streets), offsetof(struct ix_street, key),
                   "street hash slots", &o->h_st, &o->ns_st, err, errlen);
    if (rc == 0)
        rc = build_hash(b, o, b->n_places, o->places, sizeof(*o->places),
                        offsetof(struct ix_place, key), "place hash slots", &o->h_pl, &o->ns_pl,
                        err, errlen);
    if (rc == 0)
        rc = build_hash(b, o, b->n_pcs, o->pcs, sizeof(*o->pcs), offsetof(struct ix_postcode, key),
                        "postcode hash slots", &o->h_pc, &o->ns_pc, err, errlen);
    return rc;
}

/* ---- the file ---- */

/*
 * Write the header and the sections (each 8-aligned) to "<path>.tmp.<pid>", fsync, and rename
 * it over path.
 * Return 0, or a negative code with a message in err (the temporary file is removed).
 */
static int write_file(const struct index_builder *b, struct layout *o, const char *path,
                      struct ix_header *h, const size_t entry[IXS__COUNT], char *err, size_t errlen)
{
    char tmp[GB_PATH_MAX];
    int rc = 0;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    for (int i = 0; i < IXS__COUNT; i++)
        if ((rc = so_finish(&o->sect[i])) < 0)
            return sect_error(b, rc, err, errlen);
    uint64_t off = sizeof(*h);
    for (int i = 0; i < IXS__COUNT; i++) {
        const struct sect_out *s = &o->sect[i];
        uint64_t len = s->total, crc = s->crc;
        uint64_t count = len / entry[i];
        if ((rc = over_limit(b, "a section's entries", count, err, errlen)) < 0)
            return rc;
        off = (off + 7) & ~(uint64_t)7;
        h->sect[i].off = off;
        h->sect[i].len = len;
        h->sect[i].count = (uint32_t)count;
        h->sect[i].crc = (uint32_t)crc;
        off += len;
    }
    h->file_size = off;
    h->header_crc = 0;
    h->header_crc = crc_update(0, h, sizeof(*h));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        gb_errf(err, errlen, "cannot create %s: %s", tmp, gb_strerror(rc));
        return rc;
    }
    size_t cap = 1u << 20;
    char *block = xmalloc(cap);
    rc = fs_write_all(fd, h, sizeof(*h));
    uint64_t pos = sizeof(*h);
    static const char zeros[8];
    for (int i = 0; rc == 0 && i < IXS__COUNT; i++) {
        if (h->sect[i].off > pos)
            rc = fs_write_all(fd, zeros, (size_t)(h->sect[i].off - pos));
        if (rc == 0)
            rc = so_copy_to(&o->sect[i], fd, block, cap);
        pos = h->sect[i].off + h->sect[i].len;
    }
    free(block);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    /* what was written is on disk: its pages leave the cache, so that the first reader maps the
     * file in 2 MiB pages (index_open's MADV_HUGEPAGE), not in the 4 KiB pages of the writes */
    if (rc == 0)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
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
static int write_index(struct index_builder *b, struct layout *o, const char *path, char *err,
                       size_t errlen)
{
    struct ix_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, IX_MAGIC, 8);
    h.endian = IX_ENDIAN_MARK;
    h.format_version = INDEX_FORMAT_VERSION;
    h.norm_version = NORM_VERSION;
    h.n_sections = IXS__COUNT;
    h.string_shift = o->shift;
    h.counts[0] = o->na;
    h.counts[1] = o->ng;
    h.counts[2] = b->n_interps;
    h.counts[3] = b->n_places;
    h.counts[4] = b->n_pcs;
    h.counts[5] = b->n_admins;
    struct {
        int id;
        const void *data;
        uint64_t len;
    } tables[] = {
        {IXS_STRINGS, b->blob, o->hot_len},
        {IXS_SOURCES, b->sources, b->n_sources * sizeof(*b->sources)},
        {IXS_STREETS, o->streets, o->ng * sizeof(*o->streets)},
        {IXS_STREET_HASH, o->h_st, o->ns_st * sizeof(uint32_t)},
        {IXS_PLACES, o->places, b->n_places * sizeof(*o->places)},
        {IXS_PLACE_HASH, o->h_pl, o->ns_pl * sizeof(uint32_t)},
        {IXS_POSTCODES, o->pcs, b->n_pcs * sizeof(*o->pcs)},
        {IXS_PC_HASH, o->h_pc, o->ns_pc * sizeof(uint32_t)},
        {IXS_ADMINS, b->admins, b->n_admins * sizeof(*b->admins)},
        {IXS_COUNTRIES, o->countries, o->n_countries * sizeof(*o->countries)},
        {IXS_PC_RANGES, o->pc_ranges, b->n_pcs * sizeof(*o->pc_ranges)},
        {IXS_PLACE_INFO, o->place_info, b->n_places * sizeof(*o->place_info)},
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        so_adopt(&o->sect[tables[i].id], tables[i].data, tables[i].len);
    size_t entry[IXS__COUNT] = {
        [IXS_STRINGS] = (size_t)1 << o->shift,
        [IXS_SOURCES] = sizeof(struct ix_source),
        [IXS_STREETS] = sizeof(struct ix_street),
        [IXS_STREET_HASH] = 4,
        [IXS_FUZZY] = sizeof(struct ix_fuzzy),
        [IXS_ADDRS] = sizeof(struct ix_addr),
        [IXS_INTERPS] = sizeof(struct ix_interp),
        [IXS_POINTS] = sizeof(struct ix_point),
        [IXS_PLACES] = sizeof(struct ix_place),
        [IXS_PLACE_HASH] = 4,
        [IXS_POSTCODES] = sizeof(struct ix_postcode),
        [IXS_PC_HASH] = 4,
        [IXS_ADMINS] = sizeof(struct ix_admin),
        [IXS_CELLS] = sizeof(struct ix_cell),
        [IXS_CELL_ADDRS] = 4,
        [IXS_COUNTRIES] = sizeof(struct ix_country),
        [IXS_SCELLS] = sizeof(struct ix_cell),
        [IXS_SCELL_STREETS] = 4,
        [IXS_PC_RANGES] = sizeof(struct ix_range),
        [IXS_PC_STREETS] = 4,
        [IXS_FUZZY_DIR] = sizeof(struct ix_fuzzy_bucket),
        [IXS_PLACE_INFO] = sizeof(struct ix_place_info),
    };
    int rc = write_file(b, o, path, &h, entry, err, errlen);
    if (rc == 0)
        log_info("index written path=%s addresses=%llu streets=%zu interps=%llu places=%zu "
                 "postcodes=%zu admins=%zu bytes=%llu string_unit=%u",
                 path, (unsigned long long)o->na, o->ng, (unsigned long long)b->n_interps,
                 b->n_places, b->n_pcs, b->n_admins, (unsigned long long)h.file_size,
                 1u << o->shift);
    return rc;
}

/* Free every table of the layout (what a phase did not create is NULL). */
static void layout_release(struct index_builder *b, struct layout *o)
{
    struct fmem *t = &b->tables;
    fmem_free(t, o->remap);
    fmem_free(t, o->order);
    fmem_free(t, o->sorted);
    fmem_free(t, o->streets);
    fmem_free(t, o->places);
    fmem_free(t, o->place_info);
    fmem_free(t, o->pcs);
    fmem_free(t, o->pc_ranges);
    smap_release(&o->pc_runs);
    smap_release(&o->pc_cache);
    free(o->countries);
    fmem_free(t, o->h_st);
    fmem_free(t, o->h_pl);
    fmem_free(t, o->h_pc);
    free(o->pcbuf);
    xsort_release(&o->pc_pairs);
    xsort_release(&o->cells);
    xsort_release(&o->scells);
    xsort_release(&o->fuzzy);
    for (int i = 0; i < IXS__COUNT; i++)
        so_release(&o->sect[i]);
}

/* The phases of a build, in order: each reads what the ones before it laid out. */
typedef int build_phase_fn(struct index_builder *b, struct layout *o, char *err, size_t errlen);
static build_phase_fn *const build_phases[] = {
    order_streets,          /* merge line-only streets, sort the streets */
    lay_out_streets,        /* streets with ids */
    lay_out_places,         /* place centroids, order, ids */
    lay_out_postcodes,      /* postcode points and order */
    write_addresses,        /* addresses, source ids, street runs, points, postcodes */
    write_interps,          /* interpolation lines and their points */
    write_ways,             /* street ways */
    write_rings,            /* admin rings */
    write_postcode_streets, /* the streets of each postcode key */
    write_grids,            /* the grids of addresses and streets */
    write_fuzzy,            /* one-deletion variants of street keys, their directory */
    count_countries,        /* per-country counts */
    build_hash_tables,      /* street, place and postcode hash tables */
};

int index_builder_write(struct index_builder *b, const char *path, char *err, size_t errlen)
{
    if (b->rc) {
        gb_errf(err, errlen, "%s", b->msg);
        return b->rc;
    }
    builder_resident(b);
    log_debug("collected streets=%zu strings=%zu places=%zu postcodes=%zu resident_mb=%llu "
              "held_mb=%llu rss_mb=%llu",
              b->n_grps, b->strings.n, b->n_places, b->n_pcs,
              (unsigned long long)(b->pool.resident >> 20),
              (unsigned long long)(b->pool.held >> 20), (unsigned long long)(process_rss() >> 20));
    struct layout o;
    memset(&o, 0, sizeof(o));
    int rc = choose_shift(b, &o, err, errlen);
    if (rc < 0)
        return rc;
    compact_strings(b, &o);
    /* what only the collection needed */
    smap_release(&b->strings);
    smap_release(&b->groups);
    smap_release(&b->raw_groups);
    smap_release(&b->raw_places);
    smap_release(&b->raw_postcodes);
    smap_release(&b->derived_places);
    smap_release(&b->postcode_map);
    free(b->scratch);
    b->scratch = NULL;
    b->scratch_cap = 0;
    xsort_init(&o.pc_pairs, "postcode streets", &b->pool, sizeof(struct pc_pair));
    xsort_init(&o.cells, "address grid", &b->pool, sizeof(struct cell_pair));
    xsort_init(&o.scells, "street grid", &b->pool, sizeof(struct cell_pair));
    xsort_init(&o.fuzzy, "fuzzy variants", &b->pool, sizeof(struct ix_fuzzy));
    for (int i = 0; i < IXS__COUNT; i++)
        so_init(&o.sect[i], &b->pool);
    for (size_t i = 0; rc == 0 && i < sizeof(build_phases) / sizeof(build_phases[0]); i++) {
        malloc_trim(0); /* what the last phase freed, back to the system */
        layout_resident(b, &o);
        log_debug("build phase=%zu rss_mb=%llu resident_mb=%llu held_mb=%llu", i,
                  (unsigned long long)(process_rss() >> 20),
                  (unsigned long long)(b->pool.resident >> 20),
                  (unsigned long long)(b->pool.held >> 20));
        rc = build_phases[i](b, &o, err, errlen);
    }
    if (rc == 0)
        rc = write_index(b, &o, path, err, errlen);
    layout_release(b, &o);
    return rc;
}
