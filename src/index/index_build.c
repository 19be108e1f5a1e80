/*
 * index_build.c - records in: the builder's lifecycle and its sink.
 *
 * The builder keeps compact copies of the records: strings interned once in one blob, every
 * address, interpolation line and way attached to its street group (normalised key, country,
 * city key), places and postcodes derived from the addresses that name them. Addresses (a
 * source id as its hash), interpolation lines, ways and admin rings go into external sorters
 * (base/xsort.h), which keep them in memory while the budget allows and in temporary
 * files after that; the groups, strings, places and postcodes stay in memory. Repeated raw
 * strings skip normalisation through small caches, dropped when they grow past their share of
 * the budget. index_build_write.c later sorts all of it and writes the file;
 * index_build_int.h is the struct between the two.
 *
 * Every count and reference that the builder narrows to 32 bits is checked where it is made:
 * the first one to pass the limit stops the import with GB_ELIMIT and a message naming it
 * (builder_fail), never a wrapped value.
 * Single-threaded: one builder belongs to one thread.
 */
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/smap.h"
#include "record/geo.h"
#include "text/norm.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int builder_fail(struct index_builder *b, int rc, const char *fmt, ...)
{
    if (b->rc == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->msg, sizeof(b->msg), fmt, ap);
        va_end(ap);
        b->rc = rc;
    }
    return b->rc;
}

int builder_count_ok(struct index_builder *b, const char *what, uint64_t n)
{
    if (n <= b->limit)
        return 0;
    return builder_fail(b, GB_ELIMIT,
                        "index too large: %s (%llu) passes %llu, the most a 32-bit reference can "
                        "address; build several indexes (one per country) instead",
                        what, (unsigned long long)n, (unsigned long long)b->limit);
}

/* Whether one more key of len bytes fits in m (its arena offsets and entry numbers are 32-bit);
 * records GB_ELIMIT when not. */
static bool smap_fits(struct index_builder *b, const struct smap *m, size_t len)
{
    if (m->arena_len + len + 1 <= UINT32_MAX && m->n + 2 < UINT32_MAX)
        return true;
    builder_fail(b, GB_ELIMIT,
                 "index too large: a table of distinct names passes 4 GiB; build "
                 "several indexes (one per country) instead");
    return false;
}

/* GB_ELIMIT (recorded) when the string section could pass what 32-bit offsets in units of 8
 * bytes address (the largest unit a file may use); else 0. */
static int strings_ok(struct index_builder *b)
{
    uint64_t bytes = b->blob_len; /* == hot_bytes[3] */
    if ((bytes >> B_STR_SHIFT) <= b->limit)
        return 0;
    return builder_fail(b, GB_ELIMIT,
                        "index too large: the string section (%llu bytes) passes %llu offsets of "
                        "8 bytes, the most a 32-bit string offset can address; build several "
                        "indexes (one per country) instead",
                        (unsigned long long)bytes, (unsigned long long)b->limit);
}

/* The reference of s[0..len) in the blob, stored once: a string seen before gives its first
 * reference. NULL or "" gives 0. Strings start on 8-byte boundaries (the reference is the
 * offset / 8). */
static uint32_t intern_n(struct index_builder *b, const char *s, size_t len)
{
    if (!s || len == 0 || b->rc)
        return 0;
    uint32_t *v = smap_get(&b->strings, s, len);
    if (v)
        return *v;
    if (!smap_fits(b, &b->strings, len))
        return 0;
    size_t span = (len + 1 + 7) & ~(size_t)7;
    b->blob_len += span; /* as if stored, for the check */
    int rc = strings_ok(b);
    b->blob_len -= span;
    if (rc < 0)
        return 0;
    for (int k = 0; k <= B_STR_SHIFT; k++)
        b->hot_bytes[k] += (len + 1 + ((size_t)1 << k) - 1) & ~(((size_t)1 << k) - 1);
    FMEM_RESERVE(&b->tables, b->blob, b->blob_len + span, b->blob_cap);
    uint32_t ref = (uint32_t)(b->blob_len >> B_STR_SHIFT);
    memcpy(b->blob + b->blob_len, s, len);
    memset(b->blob + b->blob_len + len, 0, span - len);
    b->blob_len += span;
    int ins;
    smap_put(&b->strings, s, len, ref, &ins);
    return ref;
}

uint32_t builder_intern(struct index_builder *b, const char *s, size_t len)
{
    return intern_n(b, s, len);
}

/* intern_n() of a NUL-terminated string (NULL gives 0). */
static uint32_t intern(struct index_builder *b, const char *s)
{
    return s ? intern_n(b, s, strlen(s)) : 0;
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
    b->base_rss = process_rss(); /* the normaliser, the code: counted in the budget */
    b->limit = INDEX_MAX_REF;
    const char *tmp = getenv("TMPDIR");
    snprintf(b->tmpdir, sizeof(b->tmpdir), "%s", tmp && *tmp ? tmp : "/tmp");
    index_builder_set_memory(b, INDEX_DEFAULT_MEMORY);
    b->pool.tmpdir = b->tmpdir;
    fmem_init(&b->tables, b->tmpdir);
    smap_init_ext(&b->strings, (const char *const *)&b->blob, B_STR_SHIFT); /* keys: the blob */
    smap_use(&b->strings, &b->tables);
    smap_init(&b->groups);
    smap_use(&b->groups, &b->tables);
    smap_init(&b->raw_groups);
    smap_init(&b->raw_places);
    smap_init(&b->raw_postcodes);
    smap_init(&b->derived_places);
    smap_use(&b->derived_places, &b->tables);
    smap_init(&b->postcode_map);
    smap_use(&b->postcode_map, &b->tables);
    b->blob_cap = 1 << 20;
    b->blob = fmem_realloc(&b->tables, NULL, b->blob_cap); /* zero: "" at 0 */
    b->blob_len = 8;                                       /* reference 0 is "" */
    for (int k = 0; k <= B_STR_SHIFT; k++)
        b->hot_bytes[k] = (uint64_t)1 << k;
    xsort_init(&b->addrs, "addresses", &b->pool, sizeof(struct a_rec));
    xsort_init(&b->interps, "interpolation lines", &b->pool, 0);
    xsort_init(&b->ways, "street ways", &b->pool, 0);
    xsort_init(&b->rings, "admin rings", &b->pool, 0);
    *out = b;
    return 0;
}

/* Free the memoising caches: they only save normalising a raw string again. */
static void drop_caches(struct index_builder *b)
{
    smap_release(&b->raw_groups);
    smap_release(&b->raw_places);
    smap_release(&b->raw_postcodes);
}

void index_builder_free(struct index_builder *b)
{
    if (!b)
        return;
    smap_release(&b->strings);
    smap_release(&b->groups);
    drop_caches(b);
    smap_release(&b->derived_places);
    smap_release(&b->postcode_map);
    xsort_release(&b->addrs);
    xsort_release(&b->interps);
    xsort_release(&b->ways);
    xsort_release(&b->rings);
    free(b->scratch);
    fmem_release(&b->tables); /* the blob, the groups, places and postcodes */
    free(b->admins);
    free(b->sources);
    free(b);
}

static uint64_t smap_bytes(const struct smap *m)
{
    return m->nslots * 4 + m->cap * sizeof(struct smap_entry) + m->arena_cap;
}

uint64_t builder_tables_counted(const struct index_builder *b)
{
    uint64_t bytes = fmem_bytes(&b->tables);
    return b->in_files && bytes > b->pool.budget / 4 ? b->pool.budget / 4 : bytes;
}

void builder_resident(struct index_builder *b)
{
    /* the blob, the strings, groups, derived places and postcode maps, the groups, places and
       postcodes: b->tables */
    b->pool.resident = builder_tables_counted(b) + smap_bytes(&b->raw_groups) +
                       smap_bytes(&b->raw_places) + smap_bytes(&b->raw_postcodes) +
                       b->cap_admins * sizeof(*b->admins) + b->cap_sources * sizeof(*b->sources) +
                       b->scratch_cap + b->base_rss;
    /* the caches may use an eighth of the budget */
    uint64_t caches =
        smap_bytes(&b->raw_groups) + smap_bytes(&b->raw_places) + smap_bytes(&b->raw_postcodes);
    if (caches > (64u << 20) && caches > b->pool.budget / 8) {
        drop_caches(b);
        b->pool.resident -= caches;
    }
    /* the tables grew into what the sorters hold: their records to their spill files, as when
       a sorter finds no room itself (else a long input of large names passes the budget) */
    if (b->pool.resident + b->pool.held > b->pool.budget) {
        struct xsort *x[] = {&b->addrs, &b->interps, &b->ways, &b->rings};
        for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
            int rc = xsort_spill(x[i]);
            if (rc < 0 && !b->rc)
                builder_sort_failed(b, x[i], rc);
        }
    }
    builder_over_budget(b);
}

void builder_over_budget(struct index_builder *b)
{
    if (b->warned || b->pool.resident <= b->pool.budget)
        return;
    if (!b->in_files) {
        uint64_t bytes = fmem_bytes(&b->tables);
        int rc = fmem_to_files(&b->tables);
        if (rc == 0)
            rc = fmem_keep(&b->tables, b->pool.budget);
        if (rc == 0) {
            b->in_files = true;
            log_info("the builder's tables of streets, names, places and postcodes (%llu MB) "
                     "pass --memory (%llu MB usable): they go on in temporary files in %s",
                     (unsigned long long)(bytes >> 20), (unsigned long long)(b->pool.budget >> 20),
                     b->tmpdir);
            builder_resident(b);
            return;
        }
        log_warn("cannot keep the builder's tables in %s: %s", b->tmpdir, gb_strerror(rc));
    }
    b->warned = true;
    if (b->in_files)
        log_warn("the builder holds %llu MB (what the process held before it, and its tables' "
                 "share), more than --memory allows (%llu MB usable): the build goes on above it",
                 (unsigned long long)(b->pool.resident >> 20),
                 (unsigned long long)(b->pool.budget >> 20));
    else
        log_warn("the builder's tables of streets, names, places and postcodes hold %llu MB, "
                 "more than --memory allows (%llu MB usable): the build goes on above it; give "
                 "it more memory or import fewer countries at once",
                 (unsigned long long)(b->pool.resident >> 20),
                 (unsigned long long)(b->pool.budget >> 20));
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

/* Fill in what a group learns from a later record of it (street: the name the record gave). */
static void group_update(struct index_builder *b, struct b_group *g, const struct record *r,
                         const char *street)
{
    /* a street of that name is its own; an alias of two streets ("Industrial Park Rd" of
     * Education St and of Museum Way) names neither: both answer under the alias */
    if (g->alias && (!(r->alias_of && *r->alias_of) || intern_display(b, r->alias_of) != g->name)) {
        g->name = intern_display(b, street);
        g->alias = 0;
    }
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
        group_update(b, &b->grps[*v], r, street);
        return (long)*v;
    }
    long g = group_of_norm(b, r, street);
    if (g >= 0 && rn && smap_fits(b, &b->raw_groups, rn)) {
        int ins;
        smap_put(&b->raw_groups, raw, rn, (uint32_t)g, &ins);
    }
    return g;
}

/* group_of() the slow way: normalise street and city to find or create the group. A group's
 * key and city key are interned when it is made, in the order below (the string section keeps
 * that order), so a key not interned yet has no group. */
static long group_of_norm(struct index_builder *b, const struct record *r, const char *street)
{
    char key[NORM_MAX], ckey[NORM_MAX], comp[B_GROUP_KEY_LEN];
    char cc[2];
    country2(cc, r->country);
    char ccs[3] = {cc[0], cc[1], '\0'};
    size_t klen = key_of(street, cc[0] ? ccs : NULL, key, sizeof(key));
    if (klen == 0)
        return -1;
    const char *city = r->city && *r->city ? r->city : NULL;
    size_t clen = key_of(city, cc[0] ? ccs : NULL, ckey, sizeof(ckey));
    uint32_t none = 0;
    const uint32_t *kref = smap_get(&b->strings, key, klen);
    const uint32_t *cref = clen ? smap_get(&b->strings, ckey, clen) : &none;
    uint32_t *v = NULL;
    if (kref && cref) {
        builder_group_key(comp, *kref, cc, *cref);
        v = smap_get(&b->groups, comp, sizeof(comp));
    }
    if (v) {
        group_update(b, &b->grps[*v], r, street);
        return (long)*v;
    }
    if (!smap_fits(b, &b->groups, sizeof(comp)) ||
        builder_count_ok(b, "streets", b->n_grps + 1) < 0)
        return -1;
    FMEM_GROW(&b->tables, b->grps, b->n_grps, b->cap_grps);
    uint32_t gi = (uint32_t)b->n_grps++;
    struct b_group *g = &b->grps[gi];
    memset(g, 0, sizeof(*g));
    g->key = intern_n(b, key, klen);
    g->name = intern_display(b, r->alias_of && *r->alias_of ? r->alias_of : street);
    g->alias = r->alias_of && *r->alias_of;
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
    if (b->rc)
        return -1; /* a string did not fit: the build has failed */
    int ins;
    builder_group_key(comp, g->key, cc, g->city_key);
    smap_put(&b->groups, comp, sizeof(comp), gi, &ins);
    return (long)gi;
}

size_t builder_place_key(char *out, size_t cap, const char *key, const char *cc, int rank,
                         const char *parent)
{
    char pk[NORM_MAX];
    size_t pl = key_of(parent, cc, pk, sizeof(pk));
    int n = snprintf(out, cap, "%s\x1f%s\x1f%d\x1f%.*s", key, cc ? cc : "--", rank, (int)pl, pk);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Derived places: every city and district named by an address, at the centroid of them. A
 * district is one of its city's (the city of its first address), a city one of its state's
 * (when the address names one): "Altstadt" or "Praha 9" in other towns, "Springfield" in
 * other states, is another place, not one at the mean of them all. */
static void derive_place(struct index_builder *b, const char *name, int rank, const char *cc,
                         const struct record *r)
{
    char raw[3 * NORM_MAX], tag[NORM_MAX + 2];
    const char *parent = rank == RANK_CITY ? r->state : r->city;
    snprintf(tag, sizeof(tag), "%s%s", rank == RANK_CITY ? "c" : "d", parent ? parent : "");
    size_t rn = join3(raw, sizeof(raw), name, cc, tag);
    uint32_t *cached = rn ? smap_get(&b->raw_places, raw, rn) : NULL;
    if (cached) {
        struct b_place *p = &b->places[*cached];
        p->sum_lat += r->lat;
        p->sum_lon += r->lon;
        p->n++;
        return;
    }
    char key[NORM_MAX], comp[2 * NORM_MAX + 16];
    size_t klen = key_of(name, cc, key, sizeof(key));
    if (klen == 0)
        return;
    size_t n = builder_place_key(comp, sizeof(comp), key, cc, rank, parent);
    if (n == 0)
        return;
    uint32_t *v = smap_get(&b->derived_places, comp, n);
    if (!v && (!smap_fits(b, &b->derived_places, n) ||
               builder_count_ok(b, "places", b->n_places + 1) < 0))
        return;
    int ins = 0;
    if (!v)
        v = smap_put(&b->derived_places, comp, n, (uint32_t)b->n_places, &ins);
    if (ins) {
        FMEM_GROW(&b->tables, b->places, b->n_places, b->cap_places);
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
    if (rn && smap_fits(b, &b->raw_places, rn)) {
        int raw_ins;
        smap_put(&b->raw_places, raw, rn, *v, &raw_ins);
    }
}

/* Count r toward the postcode pc of country cc: as its own record (from_record: the point
 * where the record puts it) or as one of the addresses it centres on; city (a display string,
 * 0 none) toward its town. */
static void derive_postcode(struct index_builder *b, const char *pc, const char *cc,
                            const struct record *r, int from_record, uint32_t city)
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
        v = smap_get(&b->postcode_map, comp, (size_t)n);
        if (!v && (!smap_fits(b, &b->postcode_map, (size_t)n) ||
                   builder_count_ok(b, "postcodes", b->n_pcs + 1) < 0))
            return;
        if (!v)
            v = smap_put(&b->postcode_map, comp, (size_t)n, (uint32_t)b->n_pcs, &ins);
        if (ins) {
            FMEM_GROW(&b->tables, b->pcs, b->n_pcs, b->cap_pcs);
            struct b_postcode *p = &b->pcs[b->n_pcs++];
            memset(p, 0, sizeof(*p));
            p->p.key = intern_n(b, key, klen);
            p->p.name = intern(b, pc);
            if (cc) {
                p->p.country[0] = cc[0];
                p->p.country[1] = cc[1];
            }
        }
        if (rn && smap_fits(b, &b->raw_postcodes, rn)) {
            int raw_ins;
            uint32_t idx = *v;
            smap_put(&b->raw_postcodes, raw, rn, idx, &raw_ins);
            v = smap_get(&b->postcode_map, comp, (size_t)n);
        }
    }
    struct b_postcode *p = &b->pcs[*v];
    builder_postcode_vote(p, city, 1);
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
 * found or placed (no number, street or usable point). Each returns 0 or the error that stops
 * the build (b->rc: a limit passed, a temporary file that cannot be written). */

/* Room for n bytes in the scratch buffer. */
static char *scratch(struct index_builder *b, size_t n)
{
    VEC_RESERVE(b->scratch, n, b->scratch_cap);
    return b->scratch;
}

int builder_sort_failed(struct index_builder *b, const struct xsort *x, int rc)
{
    return builder_fail(b, rc, "cannot write a temporary file (%s) in %s: %s", x->name, b->tmpdir,
                        gb_strerror(rc));
}

void builder_source_id(struct a_rec *a, const char *source_id)
{
    size_t sl = source_id ? strnlen(source_id, 1u << 16) : 0;
    a->id = sl ? hash_fnv1a(source_id, sl) : 0;
    a->flags = (uint8_t)(sl ? a->flags & ~IXA_NO_SOURCE : a->flags | IXA_NO_SOURCE);
}

int builder_push_address(struct index_builder *b, const struct a_rec *a)
{
    int rc = xsort_add(&b->addrs, a, sizeof(*a));
    if (rc < 0)
        return builder_sort_failed(b, &b->addrs, rc);
    b->n_addrs++;
    b->grps[a->group].n_addr++;
    return 0;
}

/* Add a record of hdr_len bytes at hdr followed by n points (as struct ix_point) to x. */
static int add_with_points(struct index_builder *b, struct xsort *x, const void *hdr,
                           size_t hdr_len, const struct rec_point *geom, size_t n)
{
    size_t len = hdr_len + n * sizeof(struct ix_point);
    char *p = scratch(b, len);
    memcpy(p, hdr, hdr_len);
    struct ix_point *pt = (struct ix_point *)(void *)(p + hdr_len);
    for (size_t i = 0; i < n; i++) {
        pt[i].lat = to_fix(geom[i].lat);
        pt[i].lon = to_fix(geom[i].lon);
    }
    int rc = xsort_add(x, p, len);
    return rc < 0 ? builder_sort_failed(b, x, rc) : 0;
}

/* Count r, at its point, toward the places and the postcode it names: its city, its district
 * and its postcode, each derived at the centroid of the records that name it; its street group's
 * town, city, toward the postcode's. */
static void derive_areas(struct index_builder *b, const struct record *r, uint32_t city)
{
    char cc[3];
    country2(cc, r->country);
    cc[2] = '\0';
    const char *ccp = cc[0] ? cc : NULL;
    if (r->city && *r->city)
        derive_place(b, r->city, RANK_CITY, ccp, r);
    if (r->district && *r->district)
        derive_place(b, r->district, RANK_DISTRICT, ccp, r);
    if (r->postcode && *r->postcode)
        derive_postcode(b, r->postcode, ccp, r, 0, city);
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
    if (builder_count_ok(b, "addresses", b->n_addrs + 1) < 0)
        return b->rc;
    long g = group_of(b, r, street);
    if (g < 0)
        return b->rc;
    struct a_rec a;
    memset(&a, 0, sizeof(a));
    a.lat = to_fix(r->lat);
    a.lon = to_fix(r->lon);
    a.number = (int32_t)h.number;
    a.number2 = (int32_t)h.number2;
    memcpy(a.suffix, h.suffix, strnlen(h.suffix, sizeof(a.suffix)));
    a.flags = (uint8_t)((h.is_slash ? IXA_SLASH : 0) | (h.is_range ? IXA_RANGE : 0) |
                        (h.is_evidence ? IXA_EVIDENCE : 0));
    a.raw = intern(b, r->number);
    a.postcode = intern(b, r->postcode);
    a.group = (uint32_t)g;
    a.seq = b->seq;
    struct b_group *gr = &b->grps[g];
    bbox_add(gr, a.lat, a.lon); /* before the address counts: the first point sets the box */
    builder_source_id(&a, r->source_id);
    if (builder_push_address(b, &a) < 0)
        return b->rc;
    gr->sum_lat += r->lat;
    gr->sum_lon += r->lon;
    derive_areas(b, r, gr->city);
    return b->rc;
}

int builder_points_ok(struct index_builder *b, size_t n)
{
    return builder_count_ok(b, "line points",
                            b->n_ipoints + b->n_spoints + b->n_ways + b->n_apoints + n + 1);
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
        return b->rc;
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
        if (builder_points_ok(b, r->n_geom) < 0)
            return b->rc;
        struct g_rec w = {(uint32_t)g, b->seq, (uint32_t)r->n_geom};
        if (add_with_points(b, &b->ways, &w, sizeof(w), r->geom, r->n_geom) < 0)
            return b->rc;
        b->n_ways++;
        b->n_spoints += r->n_geom;
    }
    /* Alternative names of a street are streets of their own at the same place. */
    for (size_t i = 0; i < r->n_alt; i++) {
        struct record alt = *r;
        alt.name = r->alt_names[i];
        alt.alt_names = NULL;
        alt.n_alt = 0;
        alt.alias_of = NULL;
        int rc = add_street(b, &alt);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* An interpolation line of a street, with its points. */
static int add_interp(struct index_builder *b, const struct record *r)
{
    if (!r->street || !r->geom || r->n_geom < 2 || r->from < 0 || r->to < 0 ||
        r->from > INT32_MAX || r->to > INT32_MAX)
        return 0;
    if (builder_count_ok(b, "interpolation ranges", b->n_interps + 1) < 0 ||
        builder_points_ok(b, r->n_geom) < 0)
        return b->rc;
    long g = group_of(b, r, r->street);
    if (g < 0)
        return b->rc;
    struct i_rec it = {
        .group = (uint32_t)g,
        .from = (int32_t)r->from,
        .to = (int32_t)r->to,
        .parity = r->parity,
        .side = r->side <= SIDE_RIGHT ? (uint32_t)r->side : SIDE_UNKNOWN,
        .postcode = intern(b, r->postcode),
        .seq = b->seq,
        .n_points = (uint32_t)r->n_geom,
    };
    if (b->rc || add_with_points(b, &b->interps, &it, sizeof(it), r->geom, r->n_geom) < 0)
        return b->rc;
    b->n_interps++;
    b->n_ipoints += r->n_geom;
    struct b_group *gr = &b->grps[g];
    gr->has_interp = 1;
    for (size_t i = 0; i < r->n_geom; i++)
        bbox_add(gr, to_fix(r->geom[i].lat), to_fix(r->geom[i].lon));
    struct rec_point mid = geo_line_point_at(r->geom, r->n_geom, 0.5);
    if (gr->way_len == 0) {
        gr->way_len = 1e-12;
        gr->way_lat = to_fix(mid.lat);
        gr->way_lon = to_fix(mid.lon);
    }
    /* a range's town and postcode, at the middle of its line, as an address's at its point (a
     * city's street-range layer has no other source of its town: "Cambridge, MA") */
    struct record c = *r;
    c.lat = mid.lat;
    c.lon = mid.lon;
    derive_areas(b, &c, gr->city);
    return b->rc;
}

/* Whether one of the places from first on has the interned key ref (the names of one record
 * so far). */
static bool key_seen(const struct index_builder *b, size_t first, uint32_t ref)
{
    for (size_t j = first; j < b->n_places; j++)
        if (b->places[j].p.key == ref)
            return true;
    return false;
}

/* A place under its name and each alternative name, each under its key in the place's country
 * and its key in no country when that differs; source is 0 for place records, 1 for
 * admin areas. */
static int add_place(struct index_builder *b, const struct record *r, int source)
{
    if (!r->name || !coord_ok(r->lat, r->lon))
        return 0;
    char cc[3];
    country2(cc, r->country);
    cc[2] = '\0';
    size_t first = b->n_places;
    for (size_t j = 0; j <= 2 * r->n_alt + 1; j++) {
        /* each name under its country's key, then under the key of a query that names no
         * country (all languages' lists: "København" may read otherwise) */
        size_t i = j / 2;
        const char *name = i == 0 ? r->name : r->alt_names[i - 1];
        char key[NORM_MAX];
        if (j % 2 == 1 && !cc[0])
            continue;
        size_t klen = key_of(name, j % 2 == 0 && cc[0] ? cc : NULL, key, sizeof(key));
        if (klen == 0)
            continue;
        uint32_t kref = intern_n(b, key, klen);
        if (key_seen(b, first, kref))
            continue; /* an earlier name of the record has the key ("Munchen", "München") */
        if (builder_count_ok(b, "places", b->n_places + 1) < 0)
            return b->rc;
        FMEM_GROW(&b->tables, b->places, b->n_places, b->cap_places);
        struct b_place *p = &b->places[b->n_places++];
        memset(p, 0, sizeof(*p));
        p->p.key = kref;
        p->p.name = intern(b, r->name);
        p->p.city = intern(b, r->rank <= RANK_CITY ? r->name : r->city);
        p->p.county = intern(b, r->county);
        p->p.state = intern(b, r->state);
        memcpy(p->p.country, cc, 2);
        p->p.rank = (uint8_t)(r->rank ? r->rank : RANK_CITY);
        p->p.source = (uint8_t)source;
        p->p.lat = to_fix(r->lat);
        p->p.lon = to_fix(r->lon);
        p->info.population = r->population > UINT32_MAX ? UINT32_MAX : (uint32_t)r->population;
        p->info.capital = r->capital > 0 && r->capital < RANK_CITY ? (uint8_t)r->capital : 0;
        p->info.flags = i > 0 ? IXP_ALT_NAME : 0;
        p->seq = b->seq;
    }
    return b->rc;
}

/* An admin area with its ring (when it has three points or more) and bounding box; an area of
 * county rank or finer (county, city, district...) is a place too. */
static int add_admin(struct index_builder *b, const struct record *r)
{
    if (!r->name)
        return 0;
    if (builder_count_ok(b, "admin areas", b->n_admins + 1) < 0 ||
        (r->n_geom >= 3 && builder_points_ok(b, r->n_geom) < 0))
        return b->rc;
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
        a->geom_first = (uint32_t)b->n_apoints; /* moved by where admin rings start, at write */
        a->geom_count = (uint32_t)r->n_geom;
        struct r_rec rr = {(uint32_t)(b->n_admins - 1), (uint32_t)r->n_geom};
        if (add_with_points(b, &b->rings, &rr, sizeof(rr), r->geom, r->n_geom) < 0)
            return b->rc;
        b->n_apoints += r->n_geom;
    }
    for (size_t i = 0; i < r->n_geom; i++) {
        int32_t la = to_fix(r->geom[i].lat), lo = to_fix(r->geom[i].lon);
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
    return b->rc;
}

/* The sink: every record counts for the current source, then goes to its kind's add_*. Once
 * the build has failed, every record is refused with that error. */
static int builder_emit(void *ctx, const struct record *r)
{
    struct index_builder *b = ctx;
    if (b->rc)
        return b->rc;
    if (b->seq >= UINT32_MAX - 1) /* seq orders them: 32-bit (not lowered by set_limit) */
        return builder_fail(b, GB_ELIMIT,
                            "index too large: more than %u records; build several indexes (one "
                            "per country) instead",
                            UINT32_MAX - 2);
    b->seq++;
    if (b->n_sources)
        b->sources[b->n_sources - 1].records++;
    if (++b->since_resident >= 4096) {
        b->since_resident = 0;
        builder_resident(b);
    }
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
        derive_postcode(b, r->name, cc[0] ? cc : NULL, r, 1,
                        r->city && *r->city ? intern_display(b, r->city) : 0);
        return b->rc;
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
    if (builder_count_ok(b, "sources", b->n_sources + 1) < 0)
        return b->rc;
    VEC_GROW(b->sources, b->n_sources, b->cap_sources);
    struct ix_source *s = &b->sources[b->n_sources++];
    memset(s, 0, sizeof(*s));
    const char *base = strrchr(path, '/');
    s->name = intern(b, base ? base + 1 : path);
    s->size = (uint64_t)st.st_size;
    s->mtime = (int64_t)st.st_mtime;
    s->format = (uint32_t)format;
    return b->rc;
}

void index_builder_set_limit(struct index_builder *b, uint64_t limit)
{
    b->limit = limit < INDEX_MAX_REF ? limit : INDEX_MAX_REF;
}

void index_builder_set_memory(struct index_builder *b, uint64_t bytes)
{
    /* a sixteenth is left for what the estimates do not see: allocator slack, the importers */
    b->pool.budget = bytes - bytes / 16;
}

int index_builder_set_tmpdir(struct index_builder *b, const char *dir)
{
    if (strlen(dir) >= sizeof(b->tmpdir))
        return -ENAMETOOLONG;
    snprintf(b->tmpdir, sizeof(b->tmpdir), "%s", dir);
    int fd = xs_tmpfile(b->tmpdir); /* fail now, not after an hour of import */
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

const char *index_builder_error(const struct index_builder *b)
{
    return b->rc ? b->msg : NULL;
}
