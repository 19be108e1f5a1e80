/*
 * import_osm.c - the OpenStreetMap importer: .osm.pbf and .osm XML (plain, gzip or bzip2) in,
 * canonical records (record.h) out.
 *
 * DESIGN. readosm streams the file through callbacks and decodes only the blocks that have a
 * callback, so a relations-only pass costs about a tenth of a full one. Three passes:
 *   1. relations: which ways are members of boundaries and address relations;
 *   2. nodes and ways: every node's coordinates go into a compact array sorted by id (16 bytes a
 *      node: int64 id + two int32 1e-7 fixed-point coordinates; binary search); the node lists
 *      of the ways from pass 1 are kept; each object that will become a record (address,
 *      street, interpolation, place) is kept as a compact "pending" entry: id, point, line
 *      geometry and only the tags records need (addr:*, names, place);
 *   3. relations again: boundaries are assembled into rings, address relations get a point.
 * Records are emitted at the end, when every boundary is known: each pending entry gets its
 * hierarchy (country, state, county, city, district, postcode) from its own addr:* tags, then
 * from the boundaries that contain its point, then from place nodes. Memory is about 16 bytes
 * a node plus 100-200 bytes per record: a country with 5 M addresses and 300 M nodes fits in
 * about 6 GB. Ways must follow their nodes (sorted files, as PBF extracts and the API give).
 *
 * Clipped extracts. Boundary rings are joined from member ways by shared end nodes. Chains
 * that do not close (members outside the extract) are closed by joining nearest ends; such a
 * "repaired" boundary is kept only when at least a quarter of its member ways are present and
 * its admin_centre/label node (if any) falls inside, and a complete boundary always beats a
 * repaired one of the same bucket. An admin relation without usable rings of its own becomes
 * the union of its subarea relations (Praha in the Prague extract: none of its 87 ways, but 13
 * of its districts).
 *
 * Place nodes fill what boundaries leave empty: the district from the nearest suburb, quarter
 * or neighbourhood node (within 3, 1.5, 0.8 km) that is nearer than the nearest city, town or
 * village node and lies in the same country and city boundary (its city then fills an empty
 * city); the city from the nearest city, town or village node (within 15, 6, 2.5 km).
 *
 * Admin levels to ranks (enum rec_rank), the OSM wiki's table of admin_level per country reduced
 * to five buckets; within a bucket the finest level wins:
 *   2 country (ISO3166-1 code) | 3-4 state | 5-6 county | 7-8 city | 9-10 district.
 * What the datasets use: Liechtenstein 2 (LI), 6 Oberland/Unterland, 8 the 11 municipalities;
 * Lauf 6 Landkreis, 8 municipalities (no level 2); Prague 7 okres, 8 "Praha", 10 cadastral
 * districts (Vysočany, Prosek ...), no level 2 or 9. So in Prague city = "Praha" and district
 * = the level-10 area.
 * Country: the containing level-2 boundary's ISO3166-1 code, else the object's addr:country,
 * else, only in a file without any country boundary (e.g. Lauf), the most frequent addr:country
 * in the file. Points outside the country boundaries of a file that has some keep no country.
 * House number lists "12;14" and "12,14" give one REC_ADDRESS per number, all with the same
 * source_id; ranges "12-14" stay as written.
 * Czech numbers: "conscription/street" from addr:conscriptionnumber and addr:streetnumber
 * when both exist and addr:housenumber is a single number without a '/'.
 * Skipped objects are counted in import_stats with line number 0 (OSM has no lines).
 * Thread safety: all state lives in one struct osm per call.
 */
#include "base/err.h"
#include "base/mem.h"
#include "base/zread.h"
#include "record/geo.h"
#include "import/import.h"
#include "import/import_int.h"
#include "base/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <expat.h>
#include <readosm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define OSM_SCALE          1e7
#define OSM_MAX_XML_BYTES  ((uint64_t)64 << 30) /* decompressed XML above this is refused */
#define OSM_MAX_VALUE      1024                 /* longer tag values are ignored */
#define OSM_MAX_ALT        32                   /* alternative names kept per record */
#define OSM_MAX_NUMBERS    64                   /* numbers taken from one list "1;3;5" */
#define OSM_PLACE_RADIUS_M 15000.0              /* the largest place search radius */
#define OSM_GRID           64                   /* boundary grid cells per side */

enum { H_COUNTRY, H_STATE, H_COUNTY, H_CITY, H_DISTRICT, H_POSTCODE, H_N };

enum {
    P_ADDR = 1,   /* has addr:housenumber */
    P_STREET = 2, /* named highway way */
    P_INTERP = 4, /* addr:interpolation way */
    P_PLACE = 8,  /* named place node */
};

enum rel_class { REL_NONE, REL_ADMIN, REL_POSTAL, REL_ADDR };

struct node_rec {
    int64_t id;
    int32_t lat, lon; /* degrees * 1e7 */
};

struct kv {
    size_t k, v; /* offsets into the string pool */
};

struct pending {
    int64_t id;
    char type; /* 'n', 'w' or 'r' */
    uint8_t what;
    uint32_t ntag, ngeom;
    size_t tag0, geom0; /* into osm.tags, osm.pts */
    double lat, lon;
    int64_t first, last; /* interpolation end node ids */
};

struct wayref {
    int64_t id;
    size_t ref0;
    uint32_t nref;
};

struct bnd {
    int64_t id;
    int kind;  /* REL_ADMIN or REL_POSTAL */
    int level; /* admin_level; 0 for postcodes */
    int bucket;
    size_t name, code; /* pool offsets: name, ISO3166-1 code (admin) or the postcode */
    size_t iso2;
    size_t tag0;
    uint32_t ntag;
    size_t pt0, npt, end0, nring; /* into osm.bpts and osm.bends (ends relative to pt0) */
    size_t outer0, nouter;        /* the largest ring, relative to pt0 */
    double area;
    struct rec_point label;
    struct geo_pip *pip; /* NULL for a union of subareas */
    struct geo_bbox bbox;
    bool repaired;     /* some rings were closed by rings_repair() */
    size_t sub0, nsub; /* deferred: relation members in osm.subs */
    size_t kid0, nkid; /* a union: its subareas, indexes into osm.bnds listed in osm.kids */
};

struct place {
    double lat, lon, radius;
    int fills; /* H_CITY, H_DISTRICT or -1 */
    size_t name;
    const char *city;    /* the city whose boundary contains the place (set before emission) */
    const char *country; /* the country whose boundary contains it, NULL when none */
    uint64_t cell;
};

struct vec {
    void *p;
    size_t n, cap, sz;
};

struct osm {
    const char *path;
    int rc;
    struct import_stats *st;
    char *pool;
    size_t pool_len, pool_cap;
    struct vec nodes;     /* struct node_rec */
    bool nodes_unsorted;  /* a node arrived out of id order */
    struct vec wanted;    /* int64_t way ids (pass 1), sorted after it */
    struct vec ways;      /* struct wayref */
    struct vec refs;      /* int64_t */
    struct vec pend;      /* struct pending */
    struct vec tags;      /* struct kv */
    struct vec pts;       /* struct rec_point: pending geometry */
    struct vec bnds;      /* struct bnd */
    struct vec bpts;      /* struct rec_point: boundary rings */
    struct vec bends;     /* size_t */
    struct vec places;    /* struct place */
    struct vec countries; /* struct kv: (pool offset of a code, count) */
    /* scratch for ring assembly */
    struct vec chain;   /* int64_t node ids */
    struct vec cpts;    /* struct rec_point: chains as coordinates */
    struct vec copen;   /* size_t pairs (start, len) into cpts of open chains */
    struct vec rpts;    /* struct rec_point: assembled rings */
    struct vec rends;   /* size_t */
    struct vec segused; /* unsigned char */
    size_t *grid;       /* OSM_GRID^2 + 1 offsets into grid_ix */
    size_t *grid_ix;
    struct geo_bbox gbox;
    const char *default_country;
    size_t n_repaired;
    size_t seg_total, seg_found; /* way members of the last assembled relation, and found */
    bool last_repaired;          /* the last assembly closed open chains */
    struct vec deferred;         /* struct bnd: admin relations without own rings */
    struct vec subs;             /* int64_t: their relation members */
    struct vec kids;             /* size_t: subareas of unions */
};

/* ---- small containers ------------------------------------------------------------------ */

static void vec_init(struct vec *v, size_t sz)
{
    memset(v, 0, sizeof(*v));
    v->sz = sz;
}

static void *vec_push(struct vec *v, size_t k)
{
    if (v->n + k > v->cap || !v->p) { /* never NULL + 0: pushing nothing still allocates */
        /* Grow by half: the node array is the one big allocation. */
        size_t cap = v->cap ? v->cap + v->cap / 2 : 64;
        while (cap < v->n + k)
            cap += cap / 2;
        v->p = xreallocarray(v->p, cap, v->sz);
        v->cap = cap;
    }
    void *at = (char *)v->p + v->n * v->sz;
    v->n += k;
    return at;
}

#define VEC_AT(v, type, i) (((type *)(v).p)[i])

static void vec_release(struct vec *v)
{
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

/* Add s (n bytes) to the string pool; return its offset. Offset 0 is the empty string. */
static size_t pool_addn(struct osm *o, const char *s, size_t n)
{
    if (o->pool_len + n + 1 > o->pool_cap) {
        size_t cap = o->pool_cap ? o->pool_cap * 2 : 4096;
        while (cap < o->pool_len + n + 1)
            cap *= 2;
        o->pool = xrealloc(o->pool, cap);
        o->pool_cap = cap;
    }
    size_t at = o->pool_len;
    memcpy(o->pool + at, s, n);
    o->pool[at + n] = '\0';
    o->pool_len += n + 1;
    return at;
}

static size_t pool_add(struct osm *o, const char *s)
{
    return pool_addn(o, s, strlen(s));
}

/* The pooled string at off, or NULL for offset 0. */
static const char *pstr(const struct osm *o, size_t off)
{
    return off ? o->pool + off : NULL;
}

/* ---- tags ------------------------------------------------------------------------------- */

static const char *tag_get(int n, const readosm_tag *t, const char *key)
{
    for (int i = 0; i < n; i++)
        if (t[i].key && t[i].value && strcmp(t[i].key, key) == 0 && t[i].value[0] &&
            strlen(t[i].value) <= OSM_MAX_VALUE)
            return t[i].value;
    return NULL;
}

/* True for name:xx and name:xx-Script keys (language variants). */
static bool is_lang_name(const char *k)
{
    if (strncmp(k, "name:", 5) != 0)
        return false;
    const char *p = k + 5;
    size_t n = 0;
    while (p[n] >= 'a' && p[n] <= 'z')
        n++;
    if (n < 2 || n > 3)
        return false;
    p += n;
    if (*p == '-' || *p == '_') {
        p++;
        while (isalpha((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

static const char *const alt_keys[] = {"alt_name", "old_name", "short_name", "official_name",
                                       "loc_name", "reg_name", "nat_name",   "int_name"};

static bool is_alt_key(const char *k)
{
    for (size_t i = 0; i < sizeof(alt_keys) / sizeof(alt_keys[0]); i++)
        if (strcmp(k, alt_keys[i]) == 0)
            return true;
    return is_lang_name(k);
}

/* The tags records may need: addr:*, names, place. */
static bool keep_tag(const char *k)
{
    return strncmp(k, "addr:", 5) == 0 || strcmp(k, "name") == 0 || strcmp(k, "place") == 0 ||
           strcmp(k, "postal_code") == 0 || is_alt_key(k);
}

/* Store the kept tags; set *tag0, *ntag. */
static void store_tags(struct osm *o, int n, const readosm_tag *t, size_t *tag0, uint32_t *ntag)
{
    *tag0 = o->tags.n;
    *ntag = 0;
    for (int i = 0; i < n; i++) {
        if (!t[i].key || !t[i].value || !t[i].value[0] || strlen(t[i].value) > OSM_MAX_VALUE ||
            !keep_tag(t[i].key))
            continue;
        struct kv *kv = vec_push(&o->tags, 1);
        kv->k = pool_add(o, t[i].key);
        kv->v = pool_add(o, t[i].value);
        (*ntag)++;
    }
}

static const char *ptag(const struct osm *o, size_t tag0, uint32_t ntag, const char *key)
{
    for (uint32_t i = 0; i < ntag; i++) {
        const struct kv *kv = &VEC_AT(o->tags, struct kv, tag0 + i);
        if (strcmp(o->pool + kv->k, key) == 0)
            return o->pool + kv->v;
    }
    return NULL;
}

/* ---- nodes ------------------------------------------------------------------------------ */

static int cmp_node(const void *a, const void *b)
{
    int64_t x = ((const struct node_rec *)a)->id, y = ((const struct node_rec *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool node_get(struct osm *o, int64_t id, struct rec_point *out)
{
    if (o->nodes_unsorted) {
        if (o->nodes.n) /* qsort on a NULL array is undefined even for 0 items */
            qsort(o->nodes.p, o->nodes.n, sizeof(struct node_rec), cmp_node);
        o->nodes_unsorted = false;
    }
    const struct node_rec *a = o->nodes.p;
    size_t lo = 0, hi = o->nodes.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == o->nodes.n || a[lo].id != id)
        return false;
    out->lat = a[lo].lat / OSM_SCALE;
    out->lon = a[lo].lon / OSM_SCALE;
    return true;
}

static bool i64_find(const struct vec *v, int64_t id)
{
    return v->n && bsearch(&id, v->p, v->n, sizeof(int64_t), cmp_i64);
}

static const struct wayref *way_get(const struct osm *o, int64_t id)
{
    const struct wayref *a = o->ways.p;
    size_t lo = 0, hi = o->ways.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->ways.n && a[lo].id == id ? &a[lo] : NULL;
}

/* ---- classification --------------------------------------------------------------------- */

static int admin_bucket(int level)
{
    if (level == 2)
        return H_COUNTRY;
    if (level == 3 || level == 4)
        return H_STATE;
    if (level == 5 || level == 6)
        return H_COUNTY;
    if (level == 7 || level == 8)
        return H_CITY;
    if (level == 9 || level == 10)
        return H_DISTRICT;
    return -1;
}

static const int bucket_rank[] = {RANK_COUNTRY, RANK_STATE, RANK_COUNTY, RANK_CITY, RANK_DISTRICT};

static int parse_level(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]) || (s[1] && (!isdigit((unsigned char)s[1]) || s[2])))
        return -1;
    return s[1] ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
}

static enum rel_class rel_classify(const readosm_relation *r, int *level)
{
    const char *type = tag_get(r->tag_count, r->tags, "type");
    const char *b = tag_get(r->tag_count, r->tags, "boundary");
    bool areal = type && (strcmp(type, "boundary") == 0 || strcmp(type, "multipolygon") == 0);
    if (areal && b && strcmp(b, "administrative") == 0) {
        int lv = parse_level(tag_get(r->tag_count, r->tags, "admin_level"));
        if (admin_bucket(lv) >= 0 && tag_get(r->tag_count, r->tags, "name")) {
            *level = lv;
            return REL_ADMIN;
        }
    }
    if (areal && b && strcmp(b, "postal_code") == 0 &&
        (tag_get(r->tag_count, r->tags, "postal_code") || tag_get(r->tag_count, r->tags, "ref")))
        return REL_POSTAL;
    if (tag_get(r->tag_count, r->tags, "addr:housenumber"))
        return REL_ADDR;
    return REL_NONE;
}

static const char *const street_skip[] = {
    "platform",
    "bus_stop",
    "elevator",
    "street_lamp",
    "traffic_signals",
    "crossing",
    "proposed",
    "services",
    "rest_area",
    "stop",
    "emergency_access_point",
    "give_way",
    "milestone",
    "turning_circle",
    "speed_camera",
    "abandoned",
    "razed",
    "disused",
};

static bool is_street(const char *hw)
{
    for (size_t i = 0; i < sizeof(street_skip) / sizeof(street_skip[0]); i++)
        if (strcmp(hw, street_skip[i]) == 0)
            return false;
    return true;
}

struct place_type {
    const char *type;
    int rank;
    int fills;
    double radius_m;
};

static const struct place_type place_types[] = {
    {"city", RANK_CITY, H_CITY, 15000},
    {"town", RANK_CITY, H_CITY, 6000},
    {"village", RANK_CITY, H_CITY, 2500},
    {"hamlet", RANK_NEIGHBOURHOOD, -1, 800},
    {"suburb", RANK_DISTRICT, H_DISTRICT, 3000},
    {"quarter", RANK_DISTRICT, H_DISTRICT, 1500},
    {"neighbourhood", RANK_NEIGHBOURHOOD, H_DISTRICT, 800},
    {"locality", RANK_NEIGHBOURHOOD, -1, 500},
    {"isolated_dwelling", RANK_NEIGHBOURHOOD, -1, 300},
};

static const struct place_type *place_type_get(const char *v)
{
    for (size_t i = 0; v && i < sizeof(place_types) / sizeof(place_types[0]); i++)
        if (strcmp(v, place_types[i].type) == 0)
            return &place_types[i];
    return NULL;
}

/* ---- ring assembly ---------------------------------------------------------------------- */

/* Append the coordinates of node ids ids[0..n) to cpts, skipping missing nodes. */
static size_t chain_to_pts(struct osm *o, const int64_t *ids, size_t n)
{
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        struct rec_point p;
        if (node_get(o, ids[i], &p)) {
            *(struct rec_point *)vec_push(&o->cpts, 1) = p;
            got++;
        }
    }
    return got;
}

static void ring_add(struct osm *o, const struct rec_point *p, size_t n)
{
    if (n < 3)
        return;
    memcpy(vec_push(&o->rpts, n), p, n * sizeof(*p));
    *(size_t *)vec_push(&o->rends, 1) = o->rpts.n;
}

static double pt_dist2(struct rec_point a, struct rec_point b)
{
    double dx = (a.lon - b.lon) * cos(a.lat * M_PI / 180), dy = a.lat - b.lat;
    return dx * dx + dy * dy;
}

/* Close open chains (coordinate lists in copen) by joining nearest ends; add them as rings. */
static void rings_repair(struct osm *o)
{
    size_t nopen = o->copen.n / 2;
    if (!nopen)
        return;
    o->n_repaired++;
    o->last_repaired = true;
    unsigned char *used = xcalloc(nopen, 1);
    struct vec acc;
    vec_init(&acc, sizeof(struct rec_point));
    for (size_t a = 0; a < nopen; a++) {
        if (used[a])
            continue;
        used[a] = 1;
        acc.n = 0;
        size_t *oa = &VEC_AT(o->copen, size_t, 2 * a);
        memcpy(vec_push(&acc, oa[1]), &VEC_AT(o->cpts, struct rec_point, oa[0]),
               oa[1] * sizeof(struct rec_point));
        for (;;) {
            struct rec_point end = VEC_AT(acc, struct rec_point, acc.n - 1);
            double best = pt_dist2(end, VEC_AT(acc, struct rec_point, 0));
            size_t bi = SIZE_MAX;
            bool rev = false;
            for (size_t b = 0; b < nopen; b++) {
                if (used[b])
                    continue;
                size_t *ob = &VEC_AT(o->copen, size_t, 2 * b);
                const struct rec_point *bp = &VEC_AT(o->cpts, struct rec_point, ob[0]);
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
            size_t *ob = &VEC_AT(o->copen, size_t, 2 * bi);
            for (size_t k = 0; k < ob[1]; k++) {
                size_t idx = rev ? ob[0] + ob[1] - 1 - k : ob[0] + k;
                *(struct rec_point *)vec_push(&acc, 1) = VEC_AT(o->cpts, struct rec_point, idx);
            }
        }
        ring_add(o, acc.p, acc.n);
    }
    vec_release(&acc);
    free(used);
}

/*
 * Assemble the way members of r into closed rings in o->rpts / o->rends (emptied first). Chains
 * are joined by shared end nodes; chains that cannot be closed are repaired by rings_repair().
 * Return the number of rings.
 */
static size_t rings_assemble(struct osm *o, const readosm_relation *r)
{
    o->rpts.n = o->rends.n = o->cpts.n = o->copen.n = o->segused.n = 0;
    o->seg_total = o->seg_found = 0;
    o->last_repaired = false;
    size_t nm = r->member_count > 0 ? (size_t)r->member_count : 0;
    unsigned char *used = vec_push(&o->segused, nm);
    memset(used, 0, nm);
    const struct wayref **segs = xcalloc(nm ? nm : 1, sizeof(*segs));
    for (size_t i = 0; i < nm; i++) {
        if (r->members[i].member_type != READOSM_MEMBER_WAY)
            continue;
        o->seg_total++;
        segs[i] = way_get(o, r->members[i].id);
        if (!segs[i] || segs[i]->nref < 2)
            segs[i] = NULL;
        else
            o->seg_found++;
    }
    const int64_t *refs = o->refs.p;
    for (size_t s = 0; s < nm; s++) {
        if (!segs[s] || used[s])
            continue;
        used[s] = 1;
        o->chain.n = 0;
        memcpy(vec_push(&o->chain, segs[s]->nref), refs + segs[s]->ref0,
               segs[s]->nref * sizeof(int64_t));
        bool flipped = false;
        for (;;) {
            int64_t *c = o->chain.p;
            if (c[0] == c[o->chain.n - 1])
                break;
            int64_t last = c[o->chain.n - 1];
            bool found = false;
            for (size_t t = 0; t < nm && !found; t++) {
                if (!segs[t] || used[t])
                    continue;
                const int64_t *tr = refs + segs[t]->ref0;
                size_t tn = segs[t]->nref;
                if (tr[0] == last || tr[tn - 1] == last) {
                    bool rev = tr[0] != last;
                    int64_t *dst = vec_push(&o->chain, tn - 1);
                    for (size_t k = 1; k < tn; k++)
                        dst[k - 1] = rev ? tr[tn - 1 - k] : tr[k];
                    used[t] = 1;
                    found = true;
                }
            }
            if (found)
                continue;
            if (flipped)
                break;
            /* Try to grow the chain at its other end. */
            c = o->chain.p;
            for (size_t i = 0, j = o->chain.n - 1; i < j; i++, j--) {
                int64_t tmp = c[i];
                c[i] = c[j];
                c[j] = tmp;
            }
            flipped = true;
        }
        int64_t *c = o->chain.p;
        size_t start = o->cpts.n;
        size_t got = chain_to_pts(o, c, o->chain.n);
        if (c[0] == c[o->chain.n - 1] && got >= 4) {
            ring_add(o, &VEC_AT(o->cpts, struct rec_point, start), got);
            o->cpts.n = start;
        } else if (got >= 1) {
            size_t *op = vec_push(&o->copen, 2);
            op[0] = start;
            op[1] = got;
        }
    }
    free(segs);
    rings_repair(o);
    return o->rends.n;
}

/* ---- pass 1 ----------------------------------------------------------------------------- */

static int pass1_rel(const void *ud, const readosm_relation *r)
{
    struct osm *o = (struct osm *)ud;
    int level = 0;
    if (rel_classify(r, &level) == REL_NONE)
        return READOSM_OK;
    for (int i = 0; i < r->member_count; i++)
        if (r->members[i].member_type == READOSM_MEMBER_WAY)
            *(int64_t *)vec_push(&o->wanted, 1) = r->members[i].id;
    return READOSM_OK;
}

/* ---- pass 2 ----------------------------------------------------------------------------- */

static struct pending *pending_new(struct osm *o, char type, int64_t id, uint8_t what, int ntag,
                                   const readosm_tag *tags)
{
    struct pending *p = vec_push(&o->pend, 1);
    memset(p, 0, sizeof(*p));
    p->type = type;
    p->id = id;
    p->what = what;
    store_tags(o, ntag, tags, &p->tag0, &p->ntag);
    return p;
}

static void count_country(struct osm *o, const char *c)
{
    if (!c || strlen(c) != 2 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]))
        return;
    char up[3] = {(char)toupper((unsigned char)c[0]), (char)toupper((unsigned char)c[1]), 0};
    for (size_t i = 0; i < o->countries.n; i++) {
        struct kv *kv = &VEC_AT(o->countries, struct kv, i);
        if (strcmp(o->pool + kv->k, up) == 0) {
            kv->v++;
            return;
        }
    }
    struct kv *kv = vec_push(&o->countries, 1);
    kv->k = pool_add(o, up);
    kv->v = 1;
}

static int pass2_node(const void *ud, const readosm_node *n)
{
    struct osm *o = (struct osm *)ud;
    if (!isfinite(n->latitude) || !isfinite(n->longitude) || fabs(n->latitude) > 90 ||
        fabs(n->longitude) > 180) {
        import_stats_skip(o->st, 0, "node with invalid coordinates");
        return READOSM_OK;
    }
    struct node_rec *nr = vec_push(&o->nodes, 1);
    nr->id = n->id;
    nr->lat = (int32_t)lround(n->latitude * OSM_SCALE);
    nr->lon = (int32_t)lround(n->longitude * OSM_SCALE);
    if (o->nodes.n > 1 && nr[-1].id >= n->id)
        o->nodes_unsorted = true;
    if (n->tag_count <= 0)
        return READOSM_OK;
    uint8_t what = 0;
    if (tag_get(n->tag_count, n->tags, "addr:housenumber"))
        what |= P_ADDR;
    const struct place_type *pt = place_type_get(tag_get(n->tag_count, n->tags, "place"));
    if (pt && tag_get(n->tag_count, n->tags, "name"))
        what |= P_PLACE;
    count_country(o, tag_get(n->tag_count, n->tags, "addr:country"));
    if (!what)
        return READOSM_OK;
    struct pending *p = pending_new(o, 'n', n->id, what, n->tag_count, n->tags);
    p->lat = n->latitude;
    p->lon = n->longitude;
    if (pt && (what & P_PLACE)) {
        struct place *pl = vec_push(&o->places, 1);
        pl->lat = n->latitude;
        pl->lon = n->longitude;
        pl->radius = pt->radius_m;
        pl->fills = pt->fills;
        pl->name = ptag(o, p->tag0, p->ntag, "name") - o->pool;
    }
    return READOSM_OK;
}

/* Resolve the way's nodes into o->pts; return how many were found (0 leaves pts unchanged). */
static size_t way_geom(struct osm *o, const readosm_way *w, size_t *geom0)
{
    *geom0 = o->pts.n;
    size_t got = 0;
    for (int i = 0; i < w->node_ref_count; i++) {
        struct rec_point pt;
        if (node_get(o, w->node_refs[i], &pt)) {
            *(struct rec_point *)vec_push(&o->pts, 1) = pt;
            got++;
        }
    }
    return got;
}

static int pass2_way(const void *ud, const readosm_way *w)
{
    struct osm *o = (struct osm *)ud;
    if (w->node_ref_count <= 0)
        return READOSM_OK;
    if (i64_find(&o->wanted, w->id)) {
        struct wayref *wr = vec_push(&o->ways, 1);
        wr->id = w->id;
        wr->ref0 = o->refs.n;
        wr->nref = (uint32_t)w->node_ref_count;
        memcpy(vec_push(&o->refs, (size_t)w->node_ref_count), w->node_refs,
               (size_t)w->node_ref_count * sizeof(int64_t));
    }
    if (w->tag_count <= 0)
        return READOSM_OK;
    uint8_t what = 0;
    if (tag_get(w->tag_count, w->tags, "addr:housenumber"))
        what |= P_ADDR;
    const char *hw = tag_get(w->tag_count, w->tags, "highway");
    if (hw && is_street(hw) && tag_get(w->tag_count, w->tags, "name"))
        what |= P_STREET;
    if (tag_get(w->tag_count, w->tags, "addr:interpolation"))
        what |= P_INTERP;
    count_country(o, tag_get(w->tag_count, w->tags, "addr:country"));
    if (!what)
        return READOSM_OK;
    size_t geom0;
    size_t got = way_geom(o, w, &geom0);
    if (got == 0) {
        import_stats_skip(o->st, 0, "way without any of its nodes");
        return READOSM_OK;
    }
    struct pending *p = pending_new(o, 'w', w->id, what, w->tag_count, w->tags);
    p->geom0 = geom0;
    p->ngeom = (uint32_t)got;
    p->first = w->node_refs[0];
    p->last = w->node_refs[w->node_ref_count - 1];
    const struct rec_point *g = &VEC_AT(o->pts, struct rec_point, geom0);
    struct rec_point c;
    bool closed = w->node_ref_count >= 4 && p->first == p->last;
    if (closed && (what & P_ADDR)) {
        size_t end = got;
        struct geo_poly poly = {g, &end, 1};
        geo_poly_centroid(&poly, &c);
    } else {
        c = geo_line_point_at(g, got, 0.5);
    }
    p->lat = c.lat;
    p->lon = c.lon;
    if (!(what & (P_STREET | P_INTERP)))
        o->pts.n = geom0; /* buildings need only their point */
    return READOSM_OK;
}

/* Fill the name, codes and tags of b from relation r. */
static void bnd_meta(struct osm *o, struct bnd *b, const readosm_relation *r, enum rel_class cls,
                     int level)
{
    memset(b, 0, sizeof(*b));
    b->id = r->id;
    b->kind = cls;
    b->level = level;
    b->bucket = cls == REL_ADMIN ? admin_bucket(level) : H_POSTCODE;
    const char *name = tag_get(r->tag_count, r->tags, "name");
    if (cls == REL_POSTAL) {
        const char *pc = tag_get(r->tag_count, r->tags, "postal_code");
        b->code = pool_add(o, pc ? pc : tag_get(r->tag_count, r->tags, "ref"));
        b->name = name ? pool_add(o, name) : b->code;
    } else {
        b->name = pool_add(o, name);
        const char *iso = tag_get(r->tag_count, r->tags, "ISO3166-1");
        if (!iso)
            iso = tag_get(r->tag_count, r->tags, "ISO3166-1:alpha2");
        if (iso && strlen(iso) == 2 && isalpha((unsigned char)iso[0]) &&
            isalpha((unsigned char)iso[1])) {
            char up[3] = {(char)toupper((unsigned char)iso[0]),
                          (char)toupper((unsigned char)iso[1]), 0};
            b->code = pool_add(o, up);
        }
        const char *iso2 = tag_get(r->tag_count, r->tags, "ISO3166-2");
        b->iso2 = iso2 ? pool_add(o, iso2) : 0;
    }
    store_tags(o, r->tag_count, r->tags, &b->tag0, &b->ntag);
}

/* Give b the rings in o->rpts / o->rends and add it to the boundaries. */
static void bnd_commit(struct osm *o, struct bnd *tmpl)
{
    size_t nring = o->rends.n;
    struct bnd *b = vec_push(&o->bnds, 1);
    *b = *tmpl;
    b->pt0 = o->bpts.n;
    b->npt = o->rpts.n;
    b->end0 = o->bends.n;
    b->nring = nring;
    memcpy(vec_push(&o->bpts, o->rpts.n), o->rpts.p, o->rpts.n * sizeof(struct rec_point));
    memcpy(vec_push(&o->bends, nring), o->rends.p, nring * sizeof(size_t));
    struct geo_poly poly = {o->rpts.p, o->rends.p, nring};
    b->area = geo_poly_area_m2(&poly);
    geo_poly_centroid(&poly, &b->label);
    b->pip = geo_pip_new(&poly);
    b->bbox = *geo_pip_bbox(b->pip);
    double best = -1;
    for (size_t i = 0; i < nring; i++) {
        size_t s = i ? VEC_AT(o->rends, size_t, i - 1) : 0, e = VEC_AT(o->rends, size_t, i);
        size_t len = e - s;
        struct geo_poly one = {&VEC_AT(o->rpts, struct rec_point, s), &len, 1};
        double a = geo_poly_area_m2(&one);
        if (a > best) {
            best = a;
            b->outer0 = s;
            b->nouter = len;
        }
    }
}

/*
 * A boundary relation: assemble its rings. One that was clipped by the extract is kept when
 * at least a quarter of its member ways are present (its repaired rings then follow the clip
 * closely enough); a country of which only a few border ways are in the file is dropped. An
 * admin relation without any ring of its own is deferred: it may be the union of its subareas
 * (Praha in the Prague extract: none of its ways, 13 of its districts).
 */
static void bnd_add(struct osm *o, const readosm_relation *r, enum rel_class cls, int level)
{
    struct bnd b;
    size_t nring = rings_assemble(o, r);
    if (nring > 0 && o->last_repaired && o->seg_found * 4 < o->seg_total)
        nring = 0;
    if (nring > 0 && o->last_repaired) {
        /* A repaired polygon that leaves out its own admin_centre or label node was closed
         * on the wrong side: drop it. */
        struct geo_poly poly = {o->rpts.p, o->rends.p, nring};
        for (int i = 0; i < r->member_count && nring; i++) {
            const readosm_member *m = &r->members[i];
            struct rec_point pt;
            if (m->member_type == READOSM_MEMBER_NODE && m->role &&
                (strcmp(m->role, "admin_centre") == 0 || strcmp(m->role, "label") == 0) &&
                node_get(o, m->id, &pt) && !geo_poly_contains(&poly, pt.lat, pt.lon))
                nring = 0;
        }
    }
    if (nring == 0 && cls == REL_ADMIN) {
        bnd_meta(o, &b, r, cls, level);
        b.sub0 = o->subs.n;
        for (int i = 0; i < r->member_count; i++)
            if (r->members[i].member_type == READOSM_MEMBER_RELATION && r->members[i].id != r->id)
                *(int64_t *)vec_push(&o->subs, 1) = r->members[i].id;
        b.nsub = o->subs.n - b.sub0;
        if (b.nsub)
            *(struct bnd *)vec_push(&o->deferred, 1) = b;
        else
            import_stats_skip(o->st, 0, "boundary without a usable ring");
        return;
    }
    if (nring == 0) {
        import_stats_skip(o->st, 0, "boundary without a usable ring");
        return;
    }
    bnd_meta(o, &b, r, cls, level);
    b.repaired = o->last_repaired;
    bnd_commit(o, &b);
}

/* Resolve deferred boundaries as unions of their subareas, repeatedly, so that a parent of a
 * deferred parent resolves too. A point is inside a union when it is inside one of its
 * subareas (their repaired rings may overlap, so merging the rings would not do). The union's
 * label and outer ring are those of its largest subarea. */
static void bnd_resolve_deferred(struct osm *o)
{
    bool progress = true;
    while (progress && o->deferred.n) {
        progress = false;
        for (size_t d = 0; d < o->deferred.n; d++) {
            struct bnd b = VEC_AT(o->deferred, struct bnd, d);
            b.kid0 = o->kids.n;
            b.nkid = 0;
            geo_bbox_empty(&b.bbox);
            size_t largest = SIZE_MAX;
            for (size_t k = 0; k < b.nsub; k++) {
                int64_t id = VEC_AT(o->subs, int64_t, b.sub0 + k);
                for (size_t i = 0; i < o->bnds.n; i++) {
                    const struct bnd *c = &VEC_AT(o->bnds, struct bnd, i);
                    if (c->id != id || c->kind != REL_ADMIN || c->level <= b.level)
                        continue;
                    *(size_t *)vec_push(&o->kids, 1) = i;
                    b.nkid++;
                    b.area += c->area;
                    b.repaired |= c->repaired;
                    geo_bbox_extend(&b.bbox, c->bbox.min_lat, c->bbox.min_lon);
                    geo_bbox_extend(&b.bbox, c->bbox.max_lat, c->bbox.max_lon);
                    if (largest == SIZE_MAX || c->area > VEC_AT(o->bnds, struct bnd, largest).area)
                        largest = i;
                    break;
                }
            }
            if (!b.nkid) {
                o->kids.n = b.kid0;
                continue;
            }
            const struct bnd *big = &VEC_AT(o->bnds, struct bnd, largest);
            b.label = big->label;
            b.pt0 = big->pt0;
            b.outer0 = big->outer0;
            b.nouter = big->nouter;
            b.nring = 0;
            b.nsub = 0;
            *(struct bnd *)vec_push(&o->bnds, 1) = b;
            VEC_AT(o->deferred, struct bnd, d) = VEC_AT(o->deferred, struct bnd, o->deferred.n - 1);
            o->deferred.n--;
            d--;
            progress = true;
        }
    }
    for (size_t d = 0; d < o->deferred.n; d++)
        import_stats_skip(o->st, 0, "boundary without a usable ring");
}

static bool bnd_contains(const struct osm *o, const struct bnd *b, double lat, double lon);

/* True when the point lies in a complete boundary of b's bucket other than b. */
static bool in_complete_sibling(const struct osm *o, const struct bnd *b, struct rec_point pt)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        const struct bnd *c = &VEC_AT(o->bnds, struct bnd, i);
        if (c != b && !c->repaired && c->bucket == b->bucket && c->kind == b->kind &&
            bnd_contains(o, c, pt.lat, pt.lon))
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
static void bnd_fix_labels(struct osm *o)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        struct bnd *b = &VEC_AT(o->bnds, struct bnd, i);
        if (!b->repaired || !b->pip || !in_complete_sibling(o, b, b->label))
            continue;
        struct geo_poly poly = {&VEC_AT(o->bpts, struct rec_point, b->pt0),
                                &VEC_AT(o->bends, size_t, b->end0), b->nring};
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

static bool bnd_contains(const struct osm *o, const struct bnd *b, double lat, double lon)
{
    if (!geo_bbox_contains(&b->bbox, lat, lon))
        return false;
    if (b->pip)
        return geo_pip_contains(b->pip, lat, lon);
    for (size_t k = 0; k < b->nkid; k++)
        if (bnd_contains(o, &VEC_AT(o->bnds, struct bnd, VEC_AT(o->kids, size_t, b->kid0 + k)), lat,
                         lon))
            return true;
    return false;
}

static int pass2_rel(const void *ud, const readosm_relation *r)
{
    struct osm *o = (struct osm *)ud;
    int level = 0;
    enum rel_class cls = rel_classify(r, &level);
    if (cls == REL_ADMIN || cls == REL_POSTAL) {
        bnd_add(o, r, cls, level);
        return READOSM_OK;
    }
    if (cls != REL_ADDR)
        return READOSM_OK;
    /* An area's point is its centroid; any other relation (type=site ...), or an area whose
     * rings cannot be built, gets the mean of its members' points. */
    const char *type = tag_get(r->tag_count, r->tags, "type");
    struct rec_point c;
    bool areal = type && (strcmp(type, "multipolygon") == 0 || strcmp(type, "building") == 0);
    size_t nring = areal ? rings_assemble(o, r) : 0;
    struct geo_poly poly = {o->rpts.p, o->rends.p, nring};
    if (nring == 0 || !geo_poly_centroid(&poly, &c)) {
        double slat = 0, slon = 0;
        size_t n = 0;
        for (int i = 0; i < r->member_count; i++) {
            const readosm_member *m = &r->members[i];
            struct rec_point pt;
            if (m->member_type == READOSM_MEMBER_NODE && node_get(o, m->id, &pt)) {
                slat += pt.lat, slon += pt.lon, n++;
            } else if (m->member_type == READOSM_MEMBER_WAY) {
                const struct wayref *w = way_get(o, m->id);
                for (uint32_t k = 0; w && k < w->nref; k++)
                    if (node_get(o, VEC_AT(o->refs, int64_t, w->ref0 + k), &pt))
                        slat += pt.lat, slon += pt.lon, n++;
            }
        }
        if (!n) {
            import_stats_skip(o->st, 0, "address relation without any member in the file");
            return READOSM_OK;
        }
        c.lat = slat / (double)n;
        c.lon = slon / (double)n;
    }
    struct pending *p = pending_new(o, 'r', r->id, P_ADDR, r->tag_count, r->tags);
    p->lat = c.lat;
    p->lon = c.lon;
    return READOSM_OK;
}

/* ---- hierarchy -------------------------------------------------------------------------- */

static void grid_build(struct osm *o)
{
    geo_bbox_empty(&o->gbox);
    size_t nb = o->bnds.n;
    for (size_t i = 0; i < nb; i++) {
        const struct geo_bbox *bb = &VEC_AT(o->bnds, struct bnd, i).bbox;
        geo_bbox_extend(&o->gbox, bb->min_lat, bb->min_lon);
        geo_bbox_extend(&o->gbox, bb->max_lat, bb->max_lon);
    }
    o->grid = xcalloc(OSM_GRID * OSM_GRID + 1, sizeof(size_t));
    if (!nb)
        return;
    double ch = (o->gbox.max_lat - o->gbox.min_lat) / OSM_GRID;
    double cw = (o->gbox.max_lon - o->gbox.min_lon) / OSM_GRID;
    size_t *fill = xcalloc(OSM_GRID * OSM_GRID, sizeof(size_t));
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < nb; i++) {
            const struct geo_bbox *bb = &VEC_AT(o->bnds, struct bnd, i).bbox;
            int y0 = ch > 0 ? (int)((bb->min_lat - o->gbox.min_lat) / ch) : 0;
            int y1 = ch > 0 ? (int)((bb->max_lat - o->gbox.min_lat) / ch) : 0;
            int x0 = cw > 0 ? (int)((bb->min_lon - o->gbox.min_lon) / cw) : 0;
            int x1 = cw > 0 ? (int)((bb->max_lon - o->gbox.min_lon) / cw) : 0;
            y1 = y1 >= OSM_GRID ? OSM_GRID - 1 : y1;
            x1 = x1 >= OSM_GRID ? OSM_GRID - 1 : x1;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) {
                    size_t cell = (size_t)y * OSM_GRID + (size_t)x;
                    if (!round)
                        o->grid[cell + 1]++;
                    else
                        o->grid_ix[o->grid[cell] + fill[cell]++] = i;
                }
        }
        if (!round) {
            for (size_t c = 0; c < OSM_GRID * OSM_GRID; c++)
                o->grid[c + 1] += o->grid[c];
            o->grid_ix = xcalloc(o->grid[OSM_GRID * OSM_GRID] + 1, sizeof(size_t));
        }
    }
    free(fill);
}

static void hier_boundaries(const struct osm *o, double lat, double lon, const char *h[H_N]);

static uint64_t place_cell(double lat, double lon)
{
    int64_t y = (int64_t)floor(lat * 10) + 900, x = (int64_t)floor(lon * 10) + 1800;
    return (uint64_t)y * 3601 + (uint64_t)x;
}

static int cmp_place(const void *a, const void *b)
{
    uint64_t x = ((const struct place *)a)->cell, y = ((const struct place *)b)->cell;
    return x < y ? -1 : x > y;
}

static void places_index(struct osm *o)
{
    for (size_t i = 0; i < o->places.n; i++) {
        struct place *p = &VEC_AT(o->places, struct place, i);
        p->cell = place_cell(p->lat, p->lon);
        const char *h[H_N] = {0};
        hier_boundaries(o, p->lat, p->lon, h);
        p->city = h[H_CITY];
        p->country = h[H_COUNTRY];
    }
    if (o->places.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(o->places.p, o->places.n, sizeof(struct place), cmp_place);
}

/* The nearest place that fills field 'fills' within its own radius, lies in the same country
 * boundary as the point (or, like it, in none) and not in another city boundary than the
 * point's city boundary; or NULL. */
static const struct place *place_nearest(const struct osm *o, double lat, double lon, int fills,
                                         const char *country, const char *city, double *dist)
{
    const struct place *a = o->places.p, *found = NULL;
    double best = INFINITY;
    int dy = (int)ceil(OSM_PLACE_RADIUS_M / 11000.0);
    double k = cos(lat * M_PI / 180);
    int dx = k > 0.05 ? (int)ceil(OSM_PLACE_RADIUS_M / (11000.0 * k)) : 40;
    dx = dx > 40 ? 40 : dx;
    for (int y = -dy; y <= dy; y++)
        for (int x = -dx; x <= dx; x++) {
            double clat = lat + y * 0.1, clon = lon + x * 0.1;
            if (clat < -90 || clat > 90 || clon < -180 || clon > 180)
                continue;
            uint64_t cell = place_cell(clat, clon);
            size_t lo = 0, hi = o->places.n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a[mid].cell < cell)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t i = lo; i < o->places.n && a[i].cell == cell; i++) {
                if (a[i].fills != fills || (!a[i].country) != (!country) ||
                    (country && strcmp(country, a[i].country) != 0) ||
                    (city && a[i].city && strcmp(city, a[i].city) != 0))
                    continue;
                double d = geo_distance_m(lat, lon, a[i].lat, a[i].lon);
                if (d <= a[i].radius && d < best) {
                    best = d;
                    found = &a[i];
                }
            }
        }
    *dist = best;
    return found;
}

/* Fill the empty fields of h[] from the boundaries that contain the point. */
static void hier_boundaries(const struct osm *o, double lat, double lon, const char *h[H_N])
{
    const struct bnd *best[H_N] = {0};
    if (o->bnds.n && geo_bbox_contains(&o->gbox, lat, lon)) {
        double ch = (o->gbox.max_lat - o->gbox.min_lat) / OSM_GRID;
        double cw = (o->gbox.max_lon - o->gbox.min_lon) / OSM_GRID;
        int y = ch > 0 ? (int)((lat - o->gbox.min_lat) / ch) : 0;
        int x = cw > 0 ? (int)((lon - o->gbox.min_lon) / cw) : 0;
        y = y >= OSM_GRID ? OSM_GRID - 1 : y;
        x = x >= OSM_GRID ? OSM_GRID - 1 : x;
        size_t cell = (size_t)y * OSM_GRID + (size_t)x;
        for (size_t k = o->grid[cell]; k < o->grid[cell + 1]; k++) {
            const struct bnd *b = &VEC_AT(o->bnds, struct bnd, o->grid_ix[k]);
            /* Per bucket: a complete polygon beats a repaired one, then the finer level, then
             * the smaller area. */
            const struct bnd *cur = best[b->bucket];
            if (cur &&
                (cur->repaired < b->repaired ||
                 (cur->repaired == b->repaired &&
                  (cur->level > b->level || (cur->level == b->level && cur->area <= b->area)))))
                continue;
            if (bnd_contains(o, b, lat, lon))
                best[b->bucket] = b;
        }
    }
    for (int i = 0; i < H_N; i++) {
        if (h[i] || !best[i])
            continue;
        if (i == H_COUNTRY)
            h[i] = pstr(o, best[i]->code);
        else if (i == H_POSTCODE)
            h[i] = pstr(o, best[i]->code);
        else
            h[i] = pstr(o, best[i]->name);
    }
}

/*
 * Fill the empty fields of h[] for the point: from the boundaries that contain it, then the
 * district from the nearest suburb-like place node (which also gives the city its own point
 * lies in, e.g. Praha for a suburb of Prague outside the extract's district boundaries), then
 * the city from the nearest city, town or village node. An empty country then becomes
 * fallback_country, or the file default when that is NULL.
 */
static void hier_fill(const struct osm *o, double lat, double lon, const char *h[H_N],
                      const char *fallback_country)
{
    const char *hb[H_N] = {0};
    hier_boundaries(o, lat, lon, hb);
    for (int i = 0; i < H_N; i++)
        if (!h[i])
            h[i] = hb[i];
    /* A suburb node only names the district when it is nearer than the nearest city, town or
     * village node: the centre of a town is not in its outlying suburb. */
    double dc, dd;
    const struct place *pc = place_nearest(o, lat, lon, H_CITY, hb[H_COUNTRY], NULL, &dc);
    if (!h[H_DISTRICT]) {
        const struct place *pd =
            place_nearest(o, lat, lon, H_DISTRICT, hb[H_COUNTRY], hb[H_CITY], &dd);
        if (pd && dd < dc) {
            h[H_DISTRICT] = o->pool + pd->name;
            if (!h[H_CITY])
                h[H_CITY] = pd->city;
        }
    }
    if (!h[H_CITY] && pc)
        h[H_CITY] = o->pool + pc->name;
    if (!h[H_COUNTRY])
        h[H_COUNTRY] = fallback_country ? fallback_country : o->default_country;
}

/* Own addr:* tags of a pending object into h[]. */
static void hier_own(const struct osm *o, const struct pending *p, const char *h[H_N],
                     char country[3])
{
    memset(h, 0, H_N * sizeof(h[0]));
    const char *c = ptag(o, p->tag0, p->ntag, "addr:country");
    if (c && strlen(c) == 2 && isalpha((unsigned char)c[0]) && isalpha((unsigned char)c[1])) {
        country[0] = (char)toupper((unsigned char)c[0]);
        country[1] = (char)toupper((unsigned char)c[1]);
        country[2] = 0;
    }
    h[H_STATE] = ptag(o, p->tag0, p->ntag, "addr:state");
    if (!h[H_STATE])
        h[H_STATE] = ptag(o, p->tag0, p->ntag, "addr:province");
    h[H_COUNTY] = ptag(o, p->tag0, p->ntag, "addr:county");
    h[H_CITY] = ptag(o, p->tag0, p->ntag, "addr:city");
    h[H_DISTRICT] = ptag(o, p->tag0, p->ntag, "addr:suburb");
    if (!h[H_DISTRICT])
        h[H_DISTRICT] = ptag(o, p->tag0, p->ntag, "addr:district");
    h[H_POSTCODE] = ptag(o, p->tag0, p->ntag, "addr:postcode");
    if (!h[H_POSTCODE])
        h[H_POSTCODE] = ptag(o, p->tag0, p->ntag, "postal_code");
}

/* Full hierarchy: boundary country first, then own addr:country, then the rest. */
static void hier_resolve(const struct osm *o, const struct pending *p, const char *h[H_N],
                         char country[3])
{
    country[0] = 0;
    hier_own(o, p, h, country);
    hier_fill(o, p->lat, p->lon, h, country[0] ? country : NULL);
}

static void rec_set_hier(struct record *r, const char *h[H_N])
{
    r->country = h[H_COUNTRY];
    r->state = h[H_STATE];
    r->county = h[H_COUNTY];
    r->city = h[H_CITY];
    r->district = h[H_DISTRICT];
    r->postcode = h[H_POSTCODE];
}

/* ---- emission --------------------------------------------------------------------------- */

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
        const struct kv *kv = &VEC_AT(o->tags, struct kv, tag0 + i);
        if (!is_alt_key(o->pool + kv->k))
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
    const char *hn = ptag(o, p->tag0, p->ntag, "addr:housenumber");
    const char *cn = ptag(o, p->tag0, p->ntag, "addr:conscriptionnumber");
    const char *sn = ptag(o, p->tag0, p->ntag, "addr:streetnumber");
    const char *h[H_N];
    char country[3];
    hier_resolve(o, p, h, country);
    struct record r = {.kind = REC_ADDRESS, .lat = p->lat, .lon = p->lon, .source_id = sid};
    rec_set_hier(&r, h);
    r.street = ptag(o, p->tag0, p->ntag, "addr:street");
    if (!r.street)
        r.street = ptag(o, p->tag0, p->ntag, "addr:place");
    r.unit = ptag(o, p->tag0, p->ntag, "addr:unit");
    if (!r.unit)
        r.unit = ptag(o, p->tag0, p->ntag, "addr:flats");
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
        if (VEC_AT(o->pend, struct pending, a[mid]).id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ix->n && VEC_AT(o->pend, struct pending, a[lo]).id == id)
        return &VEC_AT(o->pend, struct pending, a[lo]);
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
    const char *kind = ptag(o, p->tag0, p->ntag, "addr:interpolation");
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
        !parse_number(ptag(o, a->tag0, a->ntag, "addr:housenumber"), &from) ||
        !parse_number(ptag(o, b->tag0, b->ntag, "addr:housenumber"), &to)) {
        import_stats_skip(o->st, 0, "interpolation without numbered end nodes");
        return 0;
    }
    const char *h[H_N];
    char country[3];
    hier_resolve(o, p, h, country);
    struct record r = {.kind = REC_INTERP, .lat = p->lat, .lon = p->lon, .source_id = sid};
    rec_set_hier(&r, h);
    const char *street = ptag(o, p->tag0, p->ntag, "addr:street");
    for (int k = 0; k < 2 && !street; k++)
        street = ptag(o, (k ? b : a)->tag0, (k ? b : a)->ntag, "addr:street");
    for (int k = 0; k < 2 && !street; k++)
        street = ptag(o, (k ? b : a)->tag0, (k ? b : a)->ntag, "addr:place");
    r.street = street;
    if (!r.postcode)
        r.postcode = ptag(o, a->tag0, a->ntag, "addr:postcode");
    r.from = from;
    r.to = to;
    r.parity = par;
    r.geom = &VEC_AT(o->pts, struct rec_point, p->geom0);
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
        hier_resolve(o, p, h, country);
        struct alts alts;
        struct record r = {.lat = p->lat, .lon = p->lon, .source_id = sid};
        r.name = ptag(o, p->tag0, p->ntag, "name");
        alts_collect(o, p->tag0, p->ntag, r.name, &alts);
        r.alt_names = alts.v;
        r.n_alt = alts.n;
        if (p->what & P_STREET) {
            r.kind = REC_STREET;
            rec_set_hier(&r, h);
            r.geom = &VEC_AT(o->pts, struct rec_point, p->geom0);
            r.n_geom = p->ngeom;
            rc = emit(o, sink, &r);
        }
        if (rc == 0 && (p->what & P_PLACE)) {
            const struct place_type *pt = place_type_get(ptag(o, p->tag0, p->ntag, "place"));
            r.kind = REC_PLACE;
            r.rank = pt->rank;
            r.geom = NULL;
            r.n_geom = 0;
            clear_from(h, pt->rank == RANK_CITY ? H_CITY : H_DISTRICT);
            h[H_POSTCODE] = NULL;
            rec_set_hier(&r, h);
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
        h[H_POSTCODE] = pstr(o, b->code);
        hier_fill(o, b->label.lat, b->label.lon, h, NULL);
        h[H_DISTRICT] = NULL;
        r.kind = REC_POSTCODE;
        r.name = pstr(o, b->code);
        rec_set_hier(&r, h);
        return emit(o, sink, &r);
    }
    if (b->bucket == H_COUNTRY)
        h[H_COUNTRY] = pstr(o, b->code);
    hier_fill(o, b->label.lat, b->label.lon, h, NULL);
    clear_from(h, b->bucket == H_COUNTRY ? H_STATE : b->bucket);
    h[H_POSTCODE] = NULL;
    struct alts alts;
    r.kind = REC_ADMIN;
    r.name = pstr(o, b->name);
    alts_collect(o, b->tag0, b->ntag, r.name, &alts);
    if (b->iso2)
        alts_add(&alts, r.name, pstr(o, b->iso2), strlen(pstr(o, b->iso2)));
    r.alt_names = alts.v;
    r.n_alt = alts.n;
    r.rank = bucket_rank[b->bucket];
    rec_set_hier(&r, h);
    r.geom = &VEC_AT(o->bpts, struct rec_point, b->pt0 + b->outer0);
    r.n_geom = b->nouter;
    return emit(o, sink, &r);
}

static int cmp_pend_ix(const void *a, const void *b, void *ctx)
{
    const struct osm *o = ctx;
    int64_t x = VEC_AT(o->pend, struct pending, *(const size_t *)a).id;
    int64_t y = VEC_AT(o->pend, struct pending, *(const size_t *)b).id;
    return x < y ? -1 : x > y;
}

/* The file default country applies only to files without a country boundary: there, the most
 * frequent addr:country. A file with country boundaries leaves points outside them alone. */
static void default_country_pick(struct osm *o)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        const struct bnd *b = &VEC_AT(o->bnds, struct bnd, i);
        if (b->kind == REL_ADMIN && b->bucket == H_COUNTRY && b->code)
            return;
    }
    size_t best = 0;
    for (size_t i = 0; i < o->countries.n; i++) {
        const struct kv *kv = &VEC_AT(o->countries, struct kv, i);
        if (kv->v > best) {
            best = kv->v;
            o->default_country = o->pool + kv->k;
        }
    }
}

static int emit_all(struct osm *o, const struct rec_sink *sink)
{
    /* Boundaries and pending objects point into growing arrays: only now are they stable. */
    struct vec addr_ix;
    vec_init(&addr_ix, sizeof(size_t));
    for (size_t i = 0; i < o->pend.n; i++) {
        const struct pending *p = &VEC_AT(o->pend, struct pending, i);
        if (p->type == 'n' && (p->what & P_ADDR))
            *(size_t *)vec_push(&addr_ix, 1) = i;
    }
    if (addr_ix.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort_r(addr_ix.p, addr_ix.n, sizeof(size_t), cmp_pend_ix, o);
    grid_build(o);
    places_index(o);
    default_country_pick(o);
    int rc = 0;
    for (size_t i = 0; i < o->bnds.n && rc == 0; i++)
        rc = emit_boundary(o, sink, &VEC_AT(o->bnds, struct bnd, i));
    for (size_t i = 0; i < o->pend.n && rc == 0; i++)
        rc = emit_pending(o, sink, &VEC_AT(o->pend, struct pending, i), &addr_ix);
    vec_release(&addr_ix);
    return rc;
}

/* ---- input files ------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decompress gzip or bzip2 file src into dst. Return 0, -errno or GB_ECORRUPT/GB_ELIMIT. */
static int decompress(const char *src, bool bz2, const char *dst, char *err, size_t errlen)
{
    int rc = 0;
    FILE *out = fopen(dst, "wb");
    struct zread *in = NULL;
    char *buf = xmalloc(1 << 16);
    if (!out) {
        rc = -errno;
        snprintf(err, errlen, "osm: %s: cannot create temp file: %s", src, strerror(errno));
        goto out;
    }
    const struct zread_opts opts = {.kind = bz2 ? ZREAD_BZIP2 : ZREAD_GZIP,
                                    .max_out = OSM_MAX_XML_BYTES};
    rc = zread_open(&in, src, &opts);
    if (rc < 0) {
        snprintf(err, errlen, "osm: %s: cannot open: %s", src, strerror(-rc));
        goto out;
    }
    for (;;) {
        ssize_t n = zread_read(in, buf, 1 << 16);
        if (n == 0)
            break;
        if (n < 0 && n != GB_ELIMIT) {
            rc = GB_ECORRUPT; /* a read error too: the data could not be had */
            snprintf(err, errlen, "osm: %s: corrupt or truncated %s data", src,
                     bz2 ? "bzip2" : "gzip");
            goto out;
        }
        if (n < 0 || fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
            rc = n < 0 ? GB_ELIMIT : -EIO;
            snprintf(err, errlen, "osm: %s: decompressed data too large or not written", src);
            goto out;
        }
    }
    if (fflush(out) != 0) {
        rc = -EIO;
        snprintf(err, errlen, "osm: %s: cannot write temp file", src);
    }
out:
    zread_close(in);
    if (out && fclose(out) != 0 && rc == 0)
        rc = -EIO;
    free(buf);
    return rc;
}

static int readosm_error(const char *path, int rc, char *err, size_t errlen)
{
    switch (rc) {
    case READOSM_INVALID_SUFFIX:
        snprintf(err, errlen, "osm: %s: not an .osm or .pbf file", path);
        return GB_EFORMAT;
    case READOSM_FILE_NOT_FOUND:
        snprintf(err, errlen, "osm: %s: cannot open", path);
        return -ENOENT;
    case READOSM_INSUFFICIENT_MEMORY:
        snprintf(err, errlen, "osm: %s: out of memory", path);
        return -ENOMEM;
    case READOSM_INVALID_PBF_HEADER:
        snprintf(err, errlen, "osm: %s: not a valid OSM PBF file (bad header)", path);
        return GB_ECORRUPT;
    case READOSM_XML_ERROR:
        snprintf(err, errlen, "osm: %s: XML syntax error (corrupt or truncated)", path);
        return GB_ECORRUPT;
    default:
        snprintf(err, errlen, "osm: %s: corrupt or truncated file (readosm error %d)", path, rc);
        return GB_ECORRUPT;
    }
}

/* One readosm pass over path with the given callbacks. */
static int run_pass(struct osm *o, const char *rpath, readosm_node_callback fn,
                    readosm_way_callback fw, readosm_relation_callback fr, char *err, size_t errlen)
{
    const void *h = NULL;
    int rc = readosm_open(rpath, &h);
    if (rc == READOSM_OK)
        rc = readosm_parse(h, o, fn, fw, fr);
    if (h)
        readosm_close(h);
    if (rc == READOSM_OK)
        return 0;
    if (rc == READOSM_ABORT && o->rc < 0)
        return o->rc;
    return readosm_error(o->path, rc, err, errlen);
}

static void osm_release(struct osm *o)
{
    struct vec *vs[] = {&o->nodes,     &o->wanted,  &o->ways, &o->refs,  &o->pend,
                        &o->tags,      &o->pts,     &o->bpts, &o->bends, &o->places,
                        &o->countries, &o->chain,   &o->cpts, &o->copen, &o->rpts,
                        &o->rends,     &o->segused, &o->subs, &o->kids};
    for (size_t i = 0; i < o->bnds.n; i++)
        geo_pip_free(VEC_AT(o->bnds, struct bnd, i).pip);
    vec_release(&o->bnds);
    vec_release(&o->deferred);
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
        vec_release(vs[i]);
    free(o->pool);
    free(o->grid);
    free(o->grid_ix);
}

static int cmp_wayref(const void *a, const void *b)
{
    int64_t x = ((const struct wayref *)a)->id, y = ((const struct wayref *)b)->id;
    return x < y ? -1 : x > y;
}

/* Dedupe a sorted int64 vector in place. */
static void i64_unique(struct vec *v)
{
    int64_t *a = v->p;
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        if (k == 0 || a[k - 1] != a[i])
            a[k++] = a[i];
    v->n = k;
}

/* ---- OSM XML: a check before readosm ---- */

struct xml_check_state {
    XML_Parser p;
    const char *bad; /* the element that lacks an attribute, or NULL */
    unsigned long line;
};

static bool has_attrs(const XML_Char **atts, const char *const *need)
{
    for (; *need; need++) {
        bool found = false;
        for (const XML_Char **a = atts; *a && !found; a += 2)
            found = strcmp(a[0], *need) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void XMLCALL xml_check_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    static const char *const tag[] = {"k", "v", NULL}, *const nd[] = {"ref", NULL},
                             *const member[] = {"type", "ref", "role", NULL},
                             *const node[] = {"id", "lat", "lon", NULL}, *const id[] = {"id", NULL};
    struct xml_check_state *st = ud;
    const char *const *need = strcmp(name, "tag") == 0                                    ? tag
                              : strcmp(name, "nd") == 0                                   ? nd
                              : strcmp(name, "member") == 0                               ? member
                              : strcmp(name, "node") == 0                                 ? node
                              : strcmp(name, "way") == 0 || strcmp(name, "relation") == 0 ? id
                                                                                          : NULL;
    if (st->bad || !need || has_attrs(atts, need))
        return;
    st->bad = strcmp(name, "tag") == 0 ? "tag"
              : need == nd             ? "nd"
              : need == member         ? "member"
                                       : "node/way/relation";
    st->line = (unsigned long)XML_GetCurrentLineNumber(st->p);
    XML_StopParser(st->p, XML_FALSE);
}

/*
 * readosm 1.1 dereferences the attributes of <tag>, <nd>, <member>, <node>, <way> and
 * <relation> without checking that they are there (a <tag k="x"/> crashes it). Parse the file
 * once with expat first and refuse it, naming the line, when an element lacks one, or when it is
 * not well-formed XML. Return 0 or GB_ECORRUPT (-errno when unreadable).
 */
static int xml_check(const char *rpath, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(rpath, "rb");
    if (!fp) {
        snprintf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        return -errno;
    }
    struct xml_check_state st = {.p = XML_ParserCreate(NULL)};
    if (!st.p)
        abort();
    XML_SetUserData(st.p, &st);
    XML_SetStartElementHandler(st.p, xml_check_start);
    int rc = 0;
    char buf[65536];
    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), fp);
        bool last = n < sizeof(buf);
        if (XML_Parse(st.p, buf, (int)n, last) == XML_STATUS_ERROR) {
            if (st.bad)
                snprintf(err, errlen, "osm: %s: line %lu: <%s> without its required attributes",
                         path, st.line, st.bad);
            else
                snprintf(err, errlen, "osm: %s: line %lu: not well-formed XML: %s", path,
                         (unsigned long)XML_GetCurrentLineNumber(st.p),
                         XML_ErrorString(XML_GetErrorCode(st.p)));
            rc = GB_ECORRUPT;
            break;
        }
        if (last)
            break;
    }
    if (rc == 0 && ferror(fp)) {
        snprintf(err, errlen, "osm: %s: read error", path);
        rc = -EIO;
    }
    XML_ParserFree(st.p);
    fclose(fp);
    return rc;
}

/* Read a protobuf varint from p..end; return the number of bytes used, 0 when malformed. */
static size_t pb_varint(const unsigned char *p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

#define PBF_MAX_HEADER 65536              /* BlobHeader limit of the PBF format */
#define PBF_MAX_BLOB   (32 * 1024 * 1024) /* Blob limit of the PBF format */

/*
 * Walk the PBF block structure (header length, BlobHeader, Blob) without decoding the blobs:
 * readosm trusts the sizes it reads and allocates them, so a corrupted size would ask for
 * gigabytes. Return 0 when every block is within the format's limits and the file's end.
 */
static int pbf_check(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        return -errno;
    }
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
        goto out;
    }
    off_t pos = 0;
    unsigned char *hdr = xmalloc(PBF_MAX_HEADER);
    size_t blocks = 0;
    while (pos < sb.st_size) {
        unsigned char len4[4];
        if (pread(fd, len4, 4, pos) != 4) {
            rc = GB_ECORRUPT;
            break;
        }
        uint32_t hlen =
            (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
        if (hlen == 0 || hlen > PBF_MAX_HEADER || pos + 4 + (off_t)hlen > sb.st_size ||
            pread(fd, hdr, hlen, pos + 4) != (ssize_t)hlen) {
            rc = GB_ECORRUPT;
            break;
        }
        /* BlobHeader: field 3 (datasize, varint) is the blob's length */
        uint64_t datasize = UINT64_MAX;
        const unsigned char *p = hdr, *end = hdr + hlen;
        while (p < end) {
            uint64_t key, v;
            size_t n = pb_varint(p, end, &key);
            if (!n)
                break;
            p += n;
            if ((key & 7) == 0) {
                n = pb_varint(p, end, &v);
                if (!n)
                    break;
                p += n;
                if ((key >> 3) == 3)
                    datasize = v;
            } else if ((key & 7) == 2) {
                n = pb_varint(p, end, &v);
                if (!n || v > (uint64_t)(end - p - n))
                    break;
                p += n + v;
            } else
                break;
        }
        if (p != end || datasize > PBF_MAX_BLOB ||
            pos + 4 + (off_t)hlen + (off_t)datasize > sb.st_size) {
            rc = GB_ECORRUPT;
            break;
        }
        pos += 4 + (off_t)hlen + (off_t)datasize;
        blocks++;
    }
    free(hdr);
    if (rc == 0 && blocks == 0)
        rc = GB_ECORRUPT;
    if (rc < 0)
        snprintf(err, errlen, "osm: %s: corrupt or truncated PBF (block at byte %lld is broken)",
                 path, (long long)pos);
out:
    close(fd);
    return rc;
}

/* ---- detection --------------------------------------------------------------------------- */

/* PBF: a 4-byte big-endian BlobHeader length, then the BlobHeader whose type string
 * "OSMHeader" comes a few bytes in. */
bool import_osm_detect_pbf(const struct import_head *h)
{
    const unsigned char *p = h->raw;
    size_t n = h->nraw;
    if (n < 13)
        return false;
    uint32_t hlen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    size_t lim = n < 32 ? n : 32;
    return hlen > 0 && hlen < 64 * 1024 && memmem(p + 4, lim - 4, "OSMHeader", 9);
}

/* Any XML file starts with "<?xml": only one with an <osm> element is OSM. */
bool import_osm_detect_xml(const struct import_head *h)
{
    return h->xml && memmem(h->text, h->ntext, "<osm", 4);
}

int import_osm(const char *path, enum import_format fmt, const struct rec_sink *sink,
               struct import_stats *st, char *err, size_t errlen)
{
    struct osm o;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.st = st;
    vec_init(&o.nodes, sizeof(struct node_rec));
    vec_init(&o.wanted, sizeof(int64_t));
    vec_init(&o.ways, sizeof(struct wayref));
    vec_init(&o.refs, sizeof(int64_t));
    vec_init(&o.pend, sizeof(struct pending));
    vec_init(&o.tags, sizeof(struct kv));
    vec_init(&o.pts, sizeof(struct rec_point));
    vec_init(&o.bnds, sizeof(struct bnd));
    vec_init(&o.bpts, sizeof(struct rec_point));
    vec_init(&o.bends, sizeof(size_t));
    vec_init(&o.places, sizeof(struct place));
    vec_init(&o.countries, sizeof(struct kv));
    vec_init(&o.chain, sizeof(int64_t));
    vec_init(&o.cpts, sizeof(struct rec_point));
    vec_init(&o.copen, sizeof(size_t));
    vec_init(&o.rpts, sizeof(struct rec_point));
    vec_init(&o.rends, sizeof(size_t));
    vec_init(&o.segused, 1);
    vec_init(&o.deferred, sizeof(struct bnd));
    vec_init(&o.subs, sizeof(int64_t));
    vec_init(&o.kids, sizeof(size_t));
    pool_addn(&o, "", 0); /* offset 0 means "no string" */

    char tmpdir[PATH_MAX] = "", tmpfile[PATH_MAX + 16] = "";
    const char *rpath = path;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    if (fmt != FMT_OSM_PBF && fmt != FMT_OSM_XML) {
        snprintf(err, errlen, "osm: %s: not an OSM format", path);
        rc = GB_EFORMAT;
        goto out;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "osm: %s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    unsigned char magic[3] = {0};
    ssize_t nmagic = read(fd, magic, sizeof(magic));
    close(fd);
    if (nmagic < 0) {
        rc = -errno;
        snprintf(err, errlen, "osm: %s: cannot read", path);
        goto out;
    }
    bool gz = nmagic >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    bool bz2 = nmagic >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h';
    if (fmt == FMT_OSM_PBF && !gz && !bz2) {
        rc = pbf_check(path, err, errlen);
        if (rc < 0)
            goto out;
    }
    const char *suffix = fmt == FMT_OSM_PBF ? ".pbf" : ".osm";
    if (gz || bz2 || !ends_with(path, suffix)) {
        /* readosm picks its parser by suffix and needs a plain file: give it one. */
        const char *td = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/gb-osm-XXXXXX", td && *td ? td : "/tmp");
        if (!mkdtemp(tmpdir)) {
            rc = -errno;
            snprintf(err, errlen, "osm: %s: cannot create temp dir: %s", path, strerror(errno));
            tmpdir[0] = 0;
            goto out;
        }
        snprintf(tmpfile, sizeof(tmpfile), "%s/in%s", tmpdir, suffix);
        if (gz || bz2) {
            rc = decompress(path, bz2, tmpfile, err, errlen);
        } else {
            char *abs = realpath(path, NULL);
            rc = abs && symlink(abs, tmpfile) == 0 ? 0 : -errno;
            free(abs);
            if (rc < 0)
                snprintf(err, errlen, "osm: %s: cannot link temp file", path);
        }
        if (rc < 0)
            goto out;
        rpath = tmpfile;
    }

    if (fmt == FMT_OSM_XML) {
        rc = xml_check(rpath, path, err, errlen);
        if (rc < 0)
            goto out;
    }
    rc = run_pass(&o, rpath, NULL, NULL, pass1_rel, err, errlen);
    if (rc < 0)
        goto out;
    if (o.wanted.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(o.wanted.p, o.wanted.n, sizeof(int64_t), cmp_i64);
    i64_unique(&o.wanted);
    rc = run_pass(&o, rpath, pass2_node, pass2_way, NULL, err, errlen);
    if (rc < 0)
        goto out;
    /* Relations come last in a sorted file; ways must be searchable before them. */
    if (o.ways.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(o.ways.p, o.ways.n, sizeof(struct wayref), cmp_wayref);
    rc = run_pass(&o, rpath, NULL, NULL, pass2_rel, err, errlen);
    if (rc < 0)
        goto out;
    bnd_resolve_deferred(&o);
    bnd_fix_labels(&o);
    rc = emit_all(&o, sink);
    if (rc < 0) {
        snprintf(err, errlen, "osm: %s: the record sink failed: %s", path, gb_strerror(rc));
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_info("osm import file=%s nodes=%zu pending=%zu boundaries=%zu repaired=%zu records=%zu "
             "skipped=%zu ms=%lld",
             path, o.nodes.n, o.pend.n, o.bnds.n, o.n_repaired, st->records, st->skipped,
             (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
out:
    if (tmpfile[0])
        unlink(tmpfile);
    if (tmpdir[0])
        rmdir(tmpdir);
    osm_release(&o);
    return rc;
}
