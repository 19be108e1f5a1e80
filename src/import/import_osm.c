/*
 * import_osm.c - the OpenStreetMap importer: .osm.pbf and .osm XML (plain, gzip or bzip2) in,
 * canonical records (record.h) out.
 *
 * DESIGN. Three passes over the file:
 *   1. relations: which ways are members of boundaries and address relations;
 *   2. nodes and ways: every node's location goes to the node store (osm_nodes.c); the node
 *      lists of the ways from pass 1 are kept; each object that will become a record (address,
 *      street, interpolation, place) becomes a "pending" entry: id, point, line geometry and only
 *      the tags records need (addr:*, names, place), written to the pending log
 *      (import_osm_pend.c);
 *   3. relations again: boundaries are assembled into rings, address relations get a point.
 * Records are emitted at the end, when every boundary is known: each pending entry, read back
 * from the log in order, gets its hierarchy (country, state, county, city, district, postcode)
 * from its own addr:* tags, then from the boundaries that contain its point, then from place
 * nodes. Ways must follow their nodes (sorted files, as PBF extracts and the API give).
 *
 * Readers. .osm.pbf goes through osm_pbf.c: it frames every block first, so pass 1 reads only
 * the blocks at the end of the file that hold relations (backwards, stopping at the first block
 * without any), pass 2 every other block (and those of the end that also hold nodes or ways),
 * pass 3 the blocks with relations. Blocks are decoded on --threads threads (this one among
 * them, when the next block is not ready yet) and handed to the passes in file order on this
 * thread, so every structure here is built in the same order whatever the number of threads:
 * the index is the same byte for byte (test/e2e/osm_threads.sh). What can be worked out from a
 * block alone is, on the thread that decoded it: in pass 2 (pbf_prep2) the tag tests (marks)
 * and, once the node store is sealed at the first block of ways alone, the points of the ways
 * that become records, through a reader of the store per thread (the passes use them only while
 * the store is still sealed: no node came between); in pass 3 (pbf_prep3) the rings of the
 * boundaries and address areas.
 * A file whose relations are not all at the end (pass 2 meets one) is read again with a pass 1
 * over every block. XML (and PBF when import_osm_configure() asks for it, for the tests that
 * compare the two) goes through readosm, three single-threaded passes, into the same handlers.
 * The records are the same with either reader (test_osm_pbf): readosm ignores granularity and
 * coordinate offsets and plain (non-dense) nodes, which no extract we know of uses.
 *
 * Memory at planet size. Node locations: the store writes them, sorted, to a temp file, 4 KiB
 * blocks of 341, and keeps each block's first id in memory (0.02 bytes a node); lookups map the
 * file with a bounded resident set (OSM_NODES_MAP_BUDGET). Ids out of order move the store into
 * memory (16 bytes a node), as every node was before. A file larger than the budget is not
 * looked up way by way (a fault a window once the budget is spent): the ways that become
 * records are logged without their points, their node references spooled by the range of the
 * file they lie in and joined with it after the passes, a range that fits the budget at a
 * time, and the log written again with the points (import_osm_join.c; import_osm_configure()
 * chooses). Pending entries: the log, a 16 MiB buffer and then a temp file, so the 100-200
 * bytes a record stay on disk until emission. What stays in memory grows with the boundaries,
 * the place nodes and the member ways of boundaries, not with the nodes or the records; per
 * record the index builder's own memory comes on top (see docs/scale.md, "OSM at planet size",
 * for the measured figures).
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
 * Where a country's town is the coarser level (Portugal: 7 the município, 8 the freguesia),
 * that level is the city and the finer one the district (town_levels in import_osm_admin.c).
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
 *
 * Thread safety: all state lives in one struct osm per call, used on the calling thread; the PBF
 * reader's decoding threads (the calling one among them) run pbf_prep2, which reads o->wanted
 * (not changed in pass 2) and the sealed node store through a reader of each thread's own,
 * under pbf_pass.lock, and pbf_prep3, which reads o->ways and o->refs (not changed in pass 3)
 * and the store, sealed for good. The settings (import_osm.h) are read when a call starts.
 *
 * Files: this one holds the passes and the pending objects they make; the input file is prepared
 * and checked in import_osm_input.c, the pending log is import_osm_pend.c, the ways' points by
 * a join import_osm_join.c, rings and boundaries are built in import_osm_ring.c, hierarchies
 * resolved in import_osm_admin.c and records emitted in import_osm_emit.c; import_osm_int.h
 * holds what they share. The PBF reader (osm_pbf.c) and the node store (osm_nodes.c) know
 * nothing of geocoding.
 */
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "import/import.h"
#include "import/import_int.h"
#include "import/import_osm.h"
#include "import/import_osm_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <readosm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- small containers ------------------------------------------------------------------ */

void osm_vec_init(struct vec *v, size_t sz)
{
    memset(v, 0, sizeof(*v));
    v->sz = sz;
}

void *osm_vec_push(struct vec *v, size_t k)
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

void osm_vec_release(struct vec *v)
{
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

/* Add s (n bytes) to the string pool; return its offset. Offset 0 is the empty string. */
size_t osm_pool_addn(struct osm *o, const char *s, size_t n)
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

size_t osm_pool_add(struct osm *o, const char *s)
{
    return osm_pool_addn(o, s, strlen(s));
}

/* The pooled string at off, or NULL for offset 0. */
const char *osm_pstr(const struct osm *o, size_t off)
{
    return off ? o->pool + off : NULL;
}

/* ---- tags ------------------------------------------------------------------------------- */

const char *osm_tag_get(int n, const struct osm_tag *t, const char *key)
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

bool osm_is_alt_key(const char *k)
{
    for (size_t i = 0; i < sizeof(alt_keys) / sizeof(alt_keys[0]); i++)
        if (strcmp(k, alt_keys[i]) == 0)
            return true;
    return is_lang_name(k);
}

/* The tags records may need: addr:*, names, place, and a place's importance. */
static bool keep_tag(const char *k)
{
    if (!k[0] || !strchr("acilnoprs", k[0]))
        return false; /* no key below starts so: most tags of a building are gone at once */
    return strncmp(k, "addr:", 5) == 0 || strcmp(k, "name") == 0 || strcmp(k, "place") == 0 ||
           strcmp(k, "postal_code") == 0 || strcmp(k, "population") == 0 ||
           strcmp(k, "capital") == 0 || osm_is_alt_key(k);
}

/* Store the kept tags; set *tag0, *ntag. */
void osm_store_tags(struct osm *o, int n, const struct osm_tag *t, size_t *tag0, uint32_t *ntag)
{
    *tag0 = o->tags.n;
    *ntag = 0;
    for (int i = 0; i < n; i++) {
        if (!t[i].key || !t[i].value || !t[i].value[0] || strlen(t[i].value) > OSM_MAX_VALUE ||
            !keep_tag(t[i].key))
            continue;
        struct kv *kv = osm_vec_push(&o->tags, 1);
        kv->k = osm_pool_add(o, t[i].key);
        kv->v = osm_pool_add(o, t[i].value);
        (*ntag)++;
    }
}

const char *osm_tagref_get(const struct tagref *t, const char *key)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (strcmp(t->strs + t->kv[i].k, key) == 0)
            return t->strs + t->kv[i].v;
    return NULL;
}

struct tagref osm_bnd_tags(const struct osm *o, const struct bnd *b)
{
    struct tagref t = {b->ntag ? &OSM_AT(o->tags, struct kv, b->tag0) : NULL, b->ntag, o->pool};
    return t;
}

/* ---- nodes ------------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* A stored location (degrees * OSM_SCALE) as a point: the one conversion, so that a point a
 * decoding thread found through its reader is the one osm_node_get() would give. */
static struct rec_point node_point(int32_t lat, int32_t lon)
{
    return (struct rec_point){lat / OSM_SCALE, lon / OSM_SCALE};
}

struct rec_point osm_ll_point(struct osm_ll ll)
{
    return node_point(ll.lat, ll.lon);
}

bool osm_node_read(const struct osm *o, struct osm_nodes_reader *rd, int64_t id,
                   struct rec_point *out)
{
    int32_t lat, lon;
    if (!(rd ? osm_nodes_reader_get(rd, id, &lat, &lon) : osm_nodes_get(o->nodes, id, &lat, &lon)))
        return false;
    *out = node_point(lat, lon);
    return true;
}

bool osm_node_get(const struct osm *o, int64_t id, struct rec_point *out)
{
    return osm_node_read(o, NULL, id, out);
}

size_t osm_node_points(const struct osm *o, struct osm_nodes_reader *rd, const int64_t *ids,
                       size_t n, struct vec *out)
{
    if (n == 0)
        return 0;
    struct rec_point *dst = osm_vec_push(out, n);
    size_t got = 0;
    for (size_t i = 0; i < n; i++)
        got += osm_node_read(o, rd, ids[i], &dst[got]);
    out->n -= n - got;
    return got;
}

struct rec_point osm_way_point(const struct rec_point *g, size_t got, bool area)
{
    struct rec_point c;
    if (area) {
        size_t end = got;
        struct geo_poly poly = {g, &end, 1};
        geo_poly_centroid(&poly, &c);
        return c;
    }
    return geo_line_point_at(g, got, 0.5);
}

static bool i64_find(const struct vec *v, int64_t id)
{
    return v->n && bsearch(&id, v->p, v->n, sizeof(int64_t), cmp_i64);
}

const struct wayref *osm_way_get(const struct osm *o, int64_t id)
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

int osm_admin_bucket(int level)
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

static int parse_level(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]) || (s[1] && (!isdigit((unsigned char)s[1]) || s[2])))
        return -1;
    return s[1] ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
}

static enum rel_class rel_classify(const struct osm_relation *r, int *level)
{
    const char *type = osm_tag_get(r->tag_count, r->tags, "type");
    const char *b = osm_tag_get(r->tag_count, r->tags, "boundary");
    bool areal = type && (strcmp(type, "boundary") == 0 || strcmp(type, "multipolygon") == 0);
    if (areal && b && strcmp(b, "administrative") == 0) {
        int lv = parse_level(osm_tag_get(r->tag_count, r->tags, "admin_level"));
        if (osm_admin_bucket(lv) >= 0 && osm_tag_get(r->tag_count, r->tags, "name")) {
            *level = lv;
            return REL_ADMIN;
        }
    }
    if (areal && b && strcmp(b, "postal_code") == 0 &&
        (osm_tag_get(r->tag_count, r->tags, "postal_code") ||
         osm_tag_get(r->tag_count, r->tags, "ref")))
        return REL_POSTAL;
    if (osm_tag_get(r->tag_count, r->tags, "addr:housenumber"))
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

const struct place_type *osm_place_type_get(const char *v)
{
    for (size_t i = 0; v && i < sizeof(place_types) / sizeof(place_types[0]); i++)
        if (strcmp(v, place_types[i].type) == 0)
            return &place_types[i];
    return NULL;
}

/* ---- pass 1 ----------------------------------------------------------------------------- */

static void pass1_rel(struct osm *o, const struct osm_relation *r)
{
    int level = 0;
    if (rel_classify(r, &level) == REL_NONE)
        return;
    for (int i = 0; i < r->member_count; i++)
        if (r->members[i].member_type == OSM_MEMBER_WAY)
            *(int64_t *)osm_vec_push(&o->wanted, 1) = r->members[i].id;
}

/* ---- pass 2 ----------------------------------------------------------------------------- */

/* A new pending object (o->pend holds only the one being built); the pool's length before its
 * tags goes to *pool_mark, for pending_done(). */
static struct pending *pending_new(struct osm *o, char type, int64_t id, uint8_t what, int ntag,
                                   const struct osm_tag *tags, size_t *pool_mark)
{
    o->pend.n = 0;
    struct pending *p = osm_vec_push(&o->pend, 1);
    memset(p, 0, sizeof(*p));
    p->type = type;
    p->id = id;
    p->what = what;
    *pool_mark = o->pool_len;
    osm_store_tags(o, ntag, tags, &p->tag0, &p->ntag);
    return p;
}

/* Log the finished pending object p (with its points when it is a street or interpolation) and
 * take its tags and points out of memory again. Return 0 or -errno (o->err written). */
static int pending_done(struct osm *o, struct pending *p, size_t pool_mark)
{
    bool join = p->what & P_JOIN; /* its points come later (import_osm_join.c) */
    bool line = (p->what & (P_STREET | P_INTERP)) && !join;
    int rc = osm_pend_add(o, p, line);
    if (rc < 0)
        gb_errf(o->err, o->errlen, "osm: %s: %s", o->path, osm_pend_error(&o->plog));
    if ((p->what & P_INTERP) && !join) {
        *(int64_t *)osm_vec_push(&o->ends, 1) = p->first;
        *(int64_t *)osm_vec_push(&o->ends, 1) = p->last;
    }
    o->tags.n = p->tag0;
    o->pool_len = pool_mark;
    if (p->type == 'w')
        o->pts.n = p->geom0;
    o->pend.n = 0;
    return rc;
}

static void count_country(struct osm *o, const char *c)
{
    if (!c || strlen(c) != 2 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]))
        return;
    char up[3] = {(char)toupper((unsigned char)c[0]), (char)toupper((unsigned char)c[1]), 0};
    for (size_t i = 0; i < o->countries.n; i++) {
        struct kv *kv = &OSM_AT(o->countries, struct kv, i);
        if (strcmp(o->pool + kv->k, up) == 0) {
            kv->v++;
            return;
        }
    }
    struct kv *kv = osm_vec_push(&o->countries, 1);
    kv->k = osm_pool_add(o, up);
    kv->v = 1;
}

/* What pass 2 makes of a node or a way, from its tags and pass 1 alone: P_* bits, and these.
 * Worked out on the decoding threads (pbf_prep2), or by pass2_* when nothing did (readosm). */
enum {
    MARK_DONE = 0x100,    /* the marks are worked out */
    MARK_WANTED = 0x200,  /* a way a pass-1 relation wants */
    MARK_COUNTRY = 0x400, /* has addr:country */
    MARK_GEOM = 0x800,    /* a way whose points a decoding thread found (struct way_geoms) */
};

static unsigned node_marks(const struct osm_node *n)
{
    unsigned m = MARK_DONE;
    if (n->tag_count <= 0)
        return m;
    if (osm_tag_get(n->tag_count, n->tags, "addr:housenumber"))
        m |= P_ADDR;
    if (osm_place_type_get(osm_tag_get(n->tag_count, n->tags, "place")) &&
        osm_tag_get(n->tag_count, n->tags, "name"))
        m |= P_PLACE;
    if (osm_tag_get(n->tag_count, n->tags, "addr:country"))
        m |= MARK_COUNTRY;
    return m;
}

/* Reads o->wanted, which pass 2 does not change: safe beside it on another thread. */
static unsigned way_marks(const struct osm *o, const struct osm_way *w)
{
    unsigned m = MARK_DONE;
    if (w->node_ref_count <= 0)
        return m;
    if (i64_find(&o->wanted, w->id))
        m |= MARK_WANTED;
    if (w->tag_count <= 0)
        return m;
    if (osm_tag_get(w->tag_count, w->tags, "addr:housenumber"))
        m |= P_ADDR;
    const char *hw = osm_tag_get(w->tag_count, w->tags, "highway");
    if (hw && is_street(hw) && osm_tag_get(w->tag_count, w->tags, "name"))
        m |= P_STREET;
    if (osm_tag_get(w->tag_count, w->tags, "addr:interpolation"))
        m |= P_INTERP;
    if (osm_tag_get(w->tag_count, w->tags, "addr:country"))
        m |= MARK_COUNTRY;
    return m;
}

/* A node: its location into the store; a pending record when it is an address or a place.
 * Return 0 or the store's negative code (o->err written). */
static int pass2_node(struct osm *o, const struct osm_node *n)
{
    if (!isfinite(n->latitude) || !isfinite(n->longitude) || fabs(n->latitude) > 90 ||
        fabs(n->longitude) > 180) {
        import_stats_skip(o->st, 0, "node with invalid coordinates");
        return 0;
    }
    int rc = osm_nodes_add(o->nodes, n->id, n->lat7, n->lon7);
    if (rc < 0) {
        gb_errf(o->err, o->errlen, "osm: %s: %s", o->path, osm_nodes_error(o->nodes));
        return rc;
    }
    if (n->tag_count <= 0)
        return 0;
    unsigned m = n->mark ? n->mark : node_marks(n);
    uint8_t what = (uint8_t)(m & (P_ADDR | P_PLACE));
    if (m & MARK_COUNTRY)
        count_country(o, osm_tag_get(n->tag_count, n->tags, "addr:country"));
    if (!what)
        return 0;
    size_t mark;
    struct pending *p = pending_new(o, 'n', n->id, what, n->tag_count, n->tags, &mark);
    p->lat = n->latitude;
    p->lon = n->longitude;
    rc = pending_done(o, p, mark);
    if (rc == 0 && (what & P_PLACE)) {
        struct place *pl = osm_vec_push(&o->places, 1);
        const struct place_type *pt =
            osm_place_type_get(osm_tag_get(n->tag_count, n->tags, "place"));
        pl->lat = n->latitude;
        pl->lon = n->longitude;
        pl->radius = pt->radius_m;
        pl->fills = pt->fills;
        pl->name = osm_pool_add(o, osm_tag_get(n->tag_count, n->tags, "name"));
    }
    return rc;
}

/* Resolve the way's nodes into o->pts; return how many were found (0 leaves pts unchanged).
 * pts: the got points a decoding thread found for it (pbf_prep2), or NULL. */
static size_t way_geom(struct osm *o, const struct osm_way *w, const struct rec_point *pts,
                       size_t got_there, size_t *geom0)
{
    *geom0 = o->pts.n;
    if (pts) {
        if (got_there)
            memcpy(osm_vec_push(&o->pts, got_there), pts, got_there * sizeof(*pts));
        return got_there;
    }
    return osm_node_points(o, NULL, w->node_refs, (size_t)w->node_ref_count, &o->pts);
}

/* Way w that becomes a record (what), logged without its points: its references go to the join,
 * which gives them after the passes. Return 0 or a negative code (o->err written). */
static int pass2_way_join(struct osm *o, const struct osm_way *w, uint8_t what)
{
    int rc = osm_join_add(o->join, w->node_refs, (size_t)w->node_ref_count);
    if (rc < 0) {
        gb_errf(o->err, o->errlen, "osm: %s: cannot write the ways' node references in %s: %s",
                o->path, o->plog.tmpdir, gb_strerror(rc));
        return rc;
    }
    size_t mark;
    struct pending *p = pending_new(o, 'w', w->id, what | P_JOIN, w->tag_count, w->tags, &mark);
    p->ngeom = (uint32_t)w->node_ref_count; /* references, until the join */
    p->first = w->node_refs[0];
    p->last = w->node_refs[w->node_ref_count - 1];
    return pending_done(o, p, mark);
}

/* A way: its node list when a pass-1 relation wants it; a pending record when it is an address,
 * a street or an interpolation (its points: pts[0..got_there) when a decoding thread found them,
 * else pts is NULL). Return 0 or the log's negative code (o->err written). */
static int pass2_way(struct osm *o, const struct osm_way *w, const struct rec_point *pts,
                     size_t got_there)
{
    if (w->node_ref_count <= 0)
        return 0;
    unsigned m = w->mark ? w->mark : way_marks(o, w);
    if (m & MARK_WANTED) {
        struct wayref *wr = osm_vec_push(&o->ways, 1);
        wr->id = w->id;
        wr->ref0 = o->refs.n;
        wr->nref = (uint32_t)w->node_ref_count;
        memcpy(osm_vec_push(&o->refs, (size_t)w->node_ref_count), w->node_refs,
               (size_t)w->node_ref_count * sizeof(int64_t));
    }
    if (w->tag_count <= 0)
        return 0;
    uint8_t what = (uint8_t)(m & (P_ADDR | P_STREET | P_INTERP));
    if (m & MARK_COUNTRY)
        count_country(o, osm_tag_get(w->tag_count, w->tags, "addr:country"));
    if (!what)
        return 0;
    if (o->join)
        return pass2_way_join(o, w, what);
    size_t geom0;
    size_t got = way_geom(o, w, pts, got_there, &geom0);
    if (got == 0) {
        import_stats_skip(o->st, 0, "way without any of its nodes");
        return 0;
    }
    size_t mark;
    struct pending *p = pending_new(o, 'w', w->id, what, w->tag_count, w->tags, &mark);
    p->geom0 = geom0;
    p->ngeom = (uint32_t)got;
    p->first = w->node_refs[0];
    p->last = w->node_refs[w->node_ref_count - 1];
    const struct rec_point *g = &OSM_AT(o->pts, struct rec_point, geom0);
    bool closed = w->node_ref_count >= 4 && p->first == p->last;
    struct rec_point c = osm_way_point(g, got, closed && (what & P_ADDR));
    p->lat = c.lat;
    p->lon = c.lon;
    return pending_done(o, p, mark); /* buildings keep only their point */
}

/* Whether relation r of class cls is made of rings: a boundary, or an address area. */
static bool rel_has_rings(const struct osm_relation *r, enum rel_class cls)
{
    if (cls == REL_ADMIN || cls == REL_POSTAL)
        return true;
    const char *type = cls == REL_ADDR ? osm_tag_get(r->tag_count, r->tags, "type") : NULL;
    return type && (strcmp(type, "multipolygon") == 0 || strcmp(type, "building") == 0);
}

/* A relation: a boundary, or a pending address. Its rings (when rel_has_rings()) are pg in pw,
 * assembled by a decoding thread, or when pw is NULL assembled here. Return 0 or the log's
 * negative code. */
static int pass2_rel(struct osm *o, const struct osm_relation *r, const struct ring_work *pw,
                     const struct rings *pg)
{
    int level = 0;
    enum rel_class cls = rel_classify(r, &level);
    if (cls == REL_NONE)
        return 0;
    const struct ring_work *w = pw;
    struct rings g = {0};
    if (rel_has_rings(r, cls)) {
        if (pw) {
            g = *pg;
        } else {
            o->rw.rpts.n = o->rw.rends.n = 0;
            osm_rings_assemble(o, NULL, &o->rw, r, &g);
            w = &o->rw;
        }
        o->n_repaired += g.repaired;
    }
    if (cls == REL_ADMIN || cls == REL_POSTAL) {
        osm_bnd_add(o, r, cls, level, w, &g);
        return 0;
    }
    /* An area's point is its centroid; any other relation (type=site ...), or an area whose
     * rings cannot be built, gets the mean of its members' points. */
    struct rec_point c;
    struct geo_poly poly = osm_rings_poly(w, &g);
    if (g.nring == 0 || !geo_poly_centroid(&poly, &c)) {
        double slat = 0, slon = 0;
        size_t n = 0;
        for (int i = 0; i < r->member_count; i++) {
            const struct osm_member *m = &r->members[i];
            struct rec_point pt;
            if (m->member_type == OSM_MEMBER_NODE && osm_node_get(o, m->id, &pt)) {
                slat += pt.lat, slon += pt.lon, n++;
            } else if (m->member_type == OSM_MEMBER_WAY) {
                const struct wayref *wr = osm_way_get(o, m->id);
                for (uint32_t k = 0; wr && k < wr->nref; k++)
                    if (osm_node_get(o, OSM_AT(o->refs, int64_t, wr->ref0 + k), &pt))
                        slat += pt.lat, slon += pt.lon, n++;
            }
        }
        if (!n) {
            import_stats_skip(o->st, 0, "address relation without any member in the file");
            return 0;
        }
        c.lat = slat / (double)n;
        c.lon = slon / (double)n;
    }
    size_t mark;
    struct pending *p = pending_new(o, 'r', r->id, P_ADDR, r->tag_count, r->tags, &mark);
    p->lat = c.lat;
    p->lon = c.lon;
    return pending_done(o, p, mark);
}

/* ---- readosm: OSM XML (and PBF when configured) ----------------------------------------- */

/* readosm's objects as this importer's: the tags have the same two pointers; node refs and
 * members are copied into scratch vectors (readosm's ids are long long, member types its own). */
static const struct osm_tag *rx_tags(int n, const readosm_tag *t)
{
    static_assert(sizeof(readosm_tag) == sizeof(struct osm_tag) &&
                      offsetof(readosm_tag, key) == offsetof(struct osm_tag, key) &&
                      offsetof(readosm_tag, value) == offsetof(struct osm_tag, value),
                  "readosm_tag is two string pointers, key first");
    return n > 0 ? (const struct osm_tag *)(const void *)t : NULL;
}

static int rx_member_type(int t)
{
    return t == READOSM_MEMBER_NODE       ? OSM_MEMBER_NODE
           : t == READOSM_MEMBER_WAY      ? OSM_MEMBER_WAY
           : t == READOSM_MEMBER_RELATION ? OSM_MEMBER_RELATION
                                          : OSM_MEMBER_OTHER;
}

static int rx_node(const void *ud, const readosm_node *n)
{
    struct osm *o = (struct osm *)ud;
    struct osm_node x = {
        n->id, n->latitude, n->longitude, 0, 0, n->tag_count, rx_tags(n->tag_count, n->tags), 0};
    osm_node_fix7(&x);
    o->rc = pass2_node(o, &x);
    return o->rc < 0 ? READOSM_ABORT : READOSM_OK;
}

static int rx_way(const void *ud, const readosm_way *w)
{
    struct osm *o = (struct osm *)ud;
    size_t n = w->node_ref_count > 0 ? (size_t)w->node_ref_count : 0;
    o->xrefs.n = 0;
    int64_t *refs = osm_vec_push(&o->xrefs, n);
    for (size_t i = 0; i < n; i++)
        refs[i] = w->node_refs[i];
    struct osm_way x = {
        w->id, w->node_ref_count, refs, w->tag_count, rx_tags(w->tag_count, w->tags), 0};
    o->rc = pass2_way(o, &x, NULL, 0);
    return o->rc < 0 ? READOSM_ABORT : READOSM_OK;
}

/* A relation as this importer's, in o->xmems. */
static struct osm_relation rx_relation(struct osm *o, const readosm_relation *r)
{
    size_t n = r->member_count > 0 ? (size_t)r->member_count : 0;
    o->xmems.n = 0;
    struct osm_member *m = osm_vec_push(&o->xmems, n);
    for (size_t i = 0; i < n; i++)
        m[i] = (struct osm_member){rx_member_type(r->members[i].member_type), r->members[i].id,
                                   r->members[i].role};
    return (struct osm_relation){r->id, r->member_count, m, r->tag_count,
                                 rx_tags(r->tag_count, r->tags)};
}

static int rx_pass1_rel(const void *ud, const readosm_relation *r)
{
    struct osm *o = (struct osm *)ud;
    struct osm_relation x = rx_relation(o, r);
    pass1_rel(o, &x);
    return READOSM_OK;
}

static int rx_pass3_rel(const void *ud, const readosm_relation *r)
{
    struct osm *o = (struct osm *)ud;
    struct osm_relation x = rx_relation(o, r);
    o->rc = pass2_rel(o, &x, NULL, NULL);
    return o->rc < 0 ? READOSM_ABORT : READOSM_OK;
}

static int readosm_error(const char *path, int rc, char *err, size_t errlen)
{
    switch (rc) {
    case READOSM_INVALID_SUFFIX:
        gb_errf(err, errlen, "osm: %s: not an .osm or .pbf file", path);
        return GB_EFORMAT;
    case READOSM_FILE_NOT_FOUND:
        gb_errf(err, errlen, "osm: %s: cannot open", path);
        return -ENOENT;
    case READOSM_INSUFFICIENT_MEMORY:
        gb_errf(err, errlen, "osm: %s: out of memory", path);
        return -ENOMEM;
    case READOSM_INVALID_PBF_HEADER:
        gb_errf(err, errlen, "osm: %s: not a valid OSM PBF file (bad header)", path);
        return GB_ECORRUPT;
    case READOSM_XML_ERROR:
        gb_errf(err, errlen, "osm: %s: XML syntax error (corrupt or truncated)", path);
        return GB_ECORRUPT;
    default:
        gb_errf(err, errlen, "osm: %s: corrupt or truncated file (readosm error %d)", path, rc);
        return GB_ECORRUPT;
    }
}

/* One readosm pass over path with the given callbacks. */
static int run_pass(struct osm *o, const char *rpath, readosm_node_callback fn,
                    readosm_way_callback fw, readosm_relation_callback fr)
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
    return readosm_error(o->path, rc, o->err, o->errlen);
}

static void osm_release(struct osm *o)
{
    struct vec *vs[] = {&o->wanted, &o->ways,  &o->refs,   &o->ref_ll,    &o->pend,
                        &o->tags,   &o->pts,   &o->places, &o->countries, &o->subs,
                        &o->kids,   &o->xrefs, &o->xmems,  &o->ends};
    for (size_t i = 0; i < o->bnds.n; i++)
        geo_pip_free(OSM_AT(o->bnds, struct bnd, i).pip);
    osm_vec_release(&o->bnds);
    osm_vec_release(&o->deferred);
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
        osm_vec_release(vs[i]);
    osm_ring_work_release(&o->rw);
    osm_nodes_free(o->nodes);
    o->nodes = NULL;
    osm_join_free(o->join);
    o->join = NULL;
    osm_pend_release(&o->plog);
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

/* ---- settings --------------------------------------------------------------------------- */

static struct import_osm_opts osm_opts; /* import_osm_configure(); zero: the defaults */
static char osm_tmpdir[PATH_MAX];

/* Bytes of the node file mapped at once: the setting, or the store's default. */
static size_t map_budget(void)
{
    return osm_opts.map_budget ? osm_opts.map_budget : OSM_NODES_MAP_BUDGET;
}

void import_osm_configure(const struct import_osm_opts *opts)
{
    osm_opts = *opts;
    snprintf(osm_tmpdir, sizeof(osm_tmpdir), "%s", opts->tmpdir ? opts->tmpdir : "");
    osm_opts.tmpdir = osm_tmpdir[0] ? osm_tmpdir : NULL;
}

/* ---- the import -------------------------------------------------------------------------- */

/* An empty import of path, counted in st, errors written to err. */
static void osm_init(struct osm *o, const char *path, struct import_stats *st, char *err,
                     size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->st = st;
    o->err = err;
    o->errlen = errlen;
    o->nodes = osm_nodes_new(osm_opts.tmpdir, osm_opts.map_budget);
    osm_vec_init(&o->wanted, sizeof(int64_t));
    osm_vec_init(&o->ways, sizeof(struct wayref));
    osm_vec_init(&o->refs, sizeof(int64_t));
    osm_vec_init(&o->ref_ll, sizeof(struct osm_ll));
    osm_vec_init(&o->pend, sizeof(struct pending));
    osm_vec_init(&o->tags, sizeof(struct kv));
    osm_vec_init(&o->pts, sizeof(struct rec_point));
    osm_vec_init(&o->bnds, sizeof(struct bnd));
    osm_vec_init(&o->places, sizeof(struct place));
    osm_vec_init(&o->countries, sizeof(struct kv));
    osm_ring_work_init(&o->rw);
    osm_vec_init(&o->deferred, sizeof(struct bnd));
    osm_vec_init(&o->subs, sizeof(int64_t));
    osm_vec_init(&o->kids, sizeof(size_t));
    osm_vec_init(&o->xrefs, sizeof(int64_t));
    osm_vec_init(&o->ends, sizeof(int64_t));
    osm_pend_init(&o->plog, osm_opts.tmpdir, osm_opts.pend_buffer);
    osm_vec_init(&o->xmems, sizeof(struct osm_member));
    osm_pool_addn(o, "", 0); /* offset 0 means "no string" */
}

/* Between passes 1 and 2: the wanted ways sorted and unique. After pass 2: the kept ways sorted
 * (relations come last in a sorted file; ways must be searchable before them). */
static void wanted_sort(struct osm *o)
{
    if (o->wanted.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(o->wanted.p, o->wanted.n, sizeof(int64_t), cmp_i64);
    i64_unique(&o->wanted);
}

static void ways_sort(struct osm *o)
{
    if (o->ways.n)
        qsort(o->ways.p, o->ways.n, sizeof(struct wayref), cmp_wayref);
}

/* The three readosm passes over rpath (see DESIGN). Return 0 or a negative code, o->err written. */
static int osm_read_readosm(struct osm *o, const char *rpath)
{
    int rc = run_pass(o, rpath, NULL, NULL, rx_pass1_rel);
    if (rc < 0)
        return rc;
    wanted_sort(o);
    rc = run_pass(o, rpath, rx_node, rx_way, NULL);
    if (rc < 0)
        return rc;
    ways_sort(o);
    return run_pass(o, rpath, NULL, NULL, rx_pass3_rel);
}

/* The PBF passes' state beside struct osm. */
struct pbf_pass {
    struct osm *o;
    unsigned char *kinds; /* per block: OSM_PBF_* bits of its groups, once it was decoded */
    bool scan_back;       /* pass 1 goes backwards and stops at a block without relations */
    size_t suffix;        /* then: the first block of the relations at the file's end */
    bool misplaced;       /* pass 2 met a relation before the suffix */
    /* Pass 2 on several threads: once the node store is sealed (at the first block of ways
     * alone; every node of a sorted file is before them), each decoding thread finds the points of
     * the ways that become records through a reader of its own (pbf_prep2), while the consumer
     * goes on; a node added after that (an unsorted file) unseals the store, under the lock. */
    pthread_rwlock_t *lock;            /* readers (read) against the store's changes (write) */
    bool sealed, seal_tried;           /* sealed: under lock */
    bool join_tried;                   /* the join or the lookups, chosen (join_choose) */
    unsigned threads;                  /* decoding threads (the join looks up on as many) */
    struct osm_nodes_reader **readers; /* one a decoding thread, made by it */
    size_t reader_budget;              /* bytes of the node file they map at once, together */
    osm_pbf_block_fn pass;             /* the pass that timed_pass() runs and times */
    long long *pass_ns;                /* where it adds the CPU time of this thread in it */
};

/* CPU time of the calling thread, in ns. */
static long long thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The consumer of every PBF pass: pp->pass, its CPU time counted apart from the decoding that
 * this thread also does (osm_pbf_run: the part of the reading that does not run in parallel). */
static int timed_pass(void *ctx, const struct osm_pbf_block *b)
{
    struct pbf_pass *pp = ctx;
    long long t0 = thread_cpu_ns();
    int rc = pp->pass(ctx, b);
    *pp->pass_ns += thread_cpu_ns() - t0;
    return rc;
}

/* This decoding thread's reader of the sealed node store, made at its first use; NULL when
 * there is none (one thread, or the store is in memory). */
static struct osm_nodes_reader *worker_reader(const struct pbf_pass *pp, unsigned worker)
{
    if (!pp->readers)
        return NULL;
    if (!pp->readers[worker])
        pp->readers[worker] = osm_nodes_reader_new(pp->o->nodes, pp->reader_budget);
    return pp->readers[worker];
}

/* The points of a block's ways that a decoding thread found: way i's span[i].n points from
 * pts[span[i].at] (valid where its mark has MARK_GEOM). Kept with the block
 * (osm_pbf_block.caller). */
struct way_geoms {
    struct way_span {
        uint32_t at, n;
    } * span;
    size_t cap_span;
    struct vec pts; /* struct rec_point */
};

static void way_geoms_free(void *p)
{
    struct way_geoms *g = p;
    if (!g)
        return;
    free(g->span);
    osm_vec_release(&g->pts);
    free(g);
}

/* The points of the ways of b that become records, through this thread's reader. */
static void prep_geoms(const struct pbf_pass *pp, unsigned worker, struct osm_pbf_block *b)
{
    struct osm_nodes_reader *r = worker_reader(pp, worker);
    if (!r)
        return;
    if (!b->caller) {
        struct way_geoms *g = xcalloc(1, sizeof(*g));
        osm_vec_init(&g->pts, sizeof(struct rec_point));
        b->caller = g;
        b->caller_free = way_geoms_free;
    }
    struct way_geoms *g = b->caller;
    VEC_RESERVE(g->span, b->nway, g->cap_span);
    g->pts.n = 0;
    for (size_t i = 0; i < b->nway; i++) {
        struct osm_way *w = &b->ways[i];
        if (!(w->mark & (P_ADDR | P_STREET | P_INTERP)))
            continue;
        if (g->pts.n + (size_t)w->node_ref_count > UINT32_MAX)
            return; /* the rest found by the consumer */
        g->span[i].at = (uint32_t)g->pts.n;
        g->span[i].n =
            (uint32_t)osm_node_points(pp->o, r, w->node_refs, (size_t)w->node_ref_count, &g->pts);
        w->mark |= MARK_GEOM;
    }
}

static int pbf_pass1(void *ctx, const struct osm_pbf_block *b)
{
    struct pbf_pass *pp = ctx;
    pp->kinds[b->index] = (unsigned char)b->kinds;
    if (pp->scan_back && !(b->kinds & OSM_PBF_RELATIONS)) {
        pp->suffix = b->index + 1;
        return 1;
    }
    for (size_t i = 0; i < b->nrel; i++)
        pass1_rel(pp->o, &b->rels[i]);
    return 0;
}

/* Pass 2's preparer, on the decoding threads: every node's and way's marks, and once the node
 * store is sealed the points of the ways that become records. */
static void pbf_prep2(const void *ctx, unsigned worker, struct osm_pbf_block *b)
{
    const struct pbf_pass *pp = ctx;
    for (size_t i = 0; i < b->nnode; i++)
        b->nodes[i].mark = node_marks(&b->nodes[i]);
    for (size_t i = 0; i < b->nway; i++)
        b->ways[i].mark = way_marks(pp->o, &b->ways[i]);
    if (!b->nway || !pp->readers)
        return;
    pthread_rwlock_rdlock(pp->lock);
    if (pp->sealed)
        prep_geoms(pp, worker, b);
    pthread_rwlock_unlock(pp->lock);
}

/* Before the consumer's thread changes the node store (a node), or looks up the nodes of ways
 * (it is sealed at the first block of ways that holds no nodes, once). Return 0 or the store's
 * negative code. */
static int pass2_store(struct pbf_pass *pp, const struct osm_pbf_block *b)
{
    if (!pp->readers)
        return 0;
    if (b->nnode && pp->sealed) {
        pthread_rwlock_wrlock(pp->lock);
        pp->sealed = false; /* the next osm_nodes_add() unseals the store */
        pthread_rwlock_unlock(pp->lock);
    }
    /* not before a block's own nodes; not for the join, which needs no readers */
    if (b->nway && !b->nnode && !pp->seal_tried && !pp->o->join) {
        pp->seal_tried = true;
        pthread_rwlock_wrlock(pp->lock);
        int rc = osm_nodes_seal(pp->o->nodes);
        pp->sealed = rc == 0;
        pthread_rwlock_unlock(pp->lock);
        if (rc < 0 && rc != GB_ESTATE) {
            gb_errf(pp->o->err, pp->o->errlen, "osm: %s: %s", pp->o->path,
                    osm_nodes_error(pp->o->nodes));
            return rc;
        }
    }
    return 0;
}

/* At the first block of ways alone (every node of a sorted file is in the store by then): the
 * ways' points by the join (o->join) or by lookups, as osm_opts.join says. */
static void join_choose(struct pbf_pass *pp, const struct osm_pbf_block *b)
{
    if (pp->join_tried || !b->nway || b->nnode)
        return;
    pp->join_tried = true;
    struct osm_nodes_stats ns;
    osm_nodes_stats(pp->o->nodes, &ns);
    size_t budget = map_budget();
    bool join = !ns.in_memory && ns.nodes > 0 &&
                (osm_opts.join == OSM_JOIN_ALWAYS ||
                 (osm_opts.join == OSM_JOIN_AUTO && ns.file_bytes > budget));
    if (join)
        pp->o->join =
            osm_join_new(pp->o->plog.tmpdir, osm_opts.memory ? osm_opts.memory : (size_t)2 << 30,
                         pp->o->nodes, budget, pp->threads);
}

static int pbf_pass2(void *ctx, const struct osm_pbf_block *b)
{
    struct pbf_pass *pp = ctx;
    pp->kinds[b->index] = (unsigned char)b->kinds;
    if (b->index < pp->suffix && (b->kinds & OSM_PBF_RELATIONS)) {
        pp->misplaced = true;
        return 1;
    }
    join_choose(pp, b);
    int rc = 0;
    if (b->nnode && pp->o->join) /* nodes after ways (an unsorted file): the ways deferred so far
                                    get the points they would have had; lookups from here on */
        rc = osm_join_run(pp->o);
    if (rc == 0)
        rc = pass2_store(pp, b);
    const struct way_geoms *wg = b->caller;
    for (size_t g = 0; g < b->ngroup && rc >= 0; g++) {
        const struct osm_pbf_group *gr = &b->groups[g];
        for (size_t i = gr->first; i < gr->first + gr->count && rc >= 0; i++) {
            if (gr->kind == OSM_PBF_NODES) {
                rc = pass2_node(pp->o, &b->nodes[i]);
                continue;
            }
            /* points found while the store was sealed, used while it still is: no node came
             * between, so they are the ones the store would give now */
            const struct osm_way *w = &b->ways[i];
            rc = (w->mark & MARK_GEOM) && pp->sealed
                     ? pass2_way(pp->o, w, (const struct rec_point *)wg->pts.p + wg->span[i].at,
                                 wg->span[i].n)
                     : pass2_way(pp->o, w, NULL, 0);
        }
    }
    return rc < 0 ? rc : 0;
}

/* The rings of a block's relations that a decoding thread assembled (pbf_prep3): relation i's
 * are rel[i].g in w where rel[i].has, for the block numbered block (SIZE_MAX: none; the slot's
 * buffers, this one among them, are reused from block to block). Kept with the block
 * (osm_pbf_block.caller). */
struct rel_rings {
    struct ring_work w;
    struct rel_ring {
        struct rings g;
        bool has;
    } * rel;
    size_t cap;
    size_t block;
};

/* What a decoding thread assembles of one block at most (16 bytes each): the passes' thread
 * assembles the rest, so that the blocks in flight hold a bounded share of the boundaries. */
#define PREP_RING_POINTS ((size_t)1 << 22)

static void rel_rings_free(void *p)
{
    struct rel_rings *rr = p;
    if (!rr)
        return;
    osm_ring_work_release(&rr->w);
    free(rr->rel);
    free(rr);
}

/* Pass 3's preparer, on the decoding threads: the rings of the block's boundaries and address
 * areas (the node store no longer changes, and the ways are sorted). */
static void pbf_prep3(const void *ctx, unsigned worker, struct osm_pbf_block *b)
{
    const struct pbf_pass *pp = ctx;
    if (b->caller)
        ((struct rel_rings *)b->caller)->block = SIZE_MAX; /* an earlier block's */
    struct osm_nodes_reader *rd = b->nrel ? worker_reader(pp, worker) : NULL;
    if (!rd)
        return;
    if (!b->caller) {
        struct rel_rings *rr = xcalloc(1, sizeof(*rr));
        osm_ring_work_init(&rr->w);
        b->caller = rr;
        b->caller_free = rel_rings_free;
    }
    struct rel_rings *rr = b->caller;
    VEC_RESERVE(rr->rel, b->nrel, rr->cap);
    rr->w.rpts.n = rr->w.rends.n = 0;
    for (size_t i = 0; i < b->nrel; i++) {
        const struct osm_relation *r = &b->rels[i];
        struct rel_ring *x = &rr->rel[i];
        int level;
        enum rel_class cls = rel_classify(r, &level);
        x->has = cls != REL_NONE && rel_has_rings(r, cls) && rr->w.rpts.n < PREP_RING_POINTS;
        if (x->has)
            osm_rings_assemble(pp->o, rd, &rr->w, r, &x->g);
    }
    rr->block = b->index;
}

static int pbf_pass3(void *ctx, const struct osm_pbf_block *b)
{
    struct pbf_pass *pp = ctx;
    const struct rel_rings *rr = b->caller;
    if (rr && rr->block != b->index)
        rr = NULL;
    for (size_t i = 0; i < b->nrel; i++) {
        bool has = rr && rr->rel[i].has;
        int rc = pass2_rel(pp->o, &b->rels[i], has ? &rr->w : NULL, has ? &rr->rel[i].g : NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Readers of the node store for the decoding threads, made by each as it needs one (pass 2:
 * once sealed; pass 3), with lock and the array readers (OSM_PBF_MAX_THREADS) as their state. */
static void readers_begin(struct pbf_pass *pp, pthread_rwlock_t *lock,
                          struct osm_nodes_reader **readers)
{
    pthread_rwlock_init(lock, NULL);
    pp->lock = lock;
    pp->readers = readers;
    /* the readers share one mapping of the node file, and its budget */
    pp->reader_budget = map_budget();
}

/* Free the readers readers_begin() set up (none: nothing to do). */
static void readers_end(struct pbf_pass *pp)
{
    if (!pp->readers)
        return;
    for (size_t i = 0; i < OSM_PBF_MAX_THREADS; i++) {
        osm_nodes_reader_free(pp->readers[i]);
        pp->readers[i] = NULL;
    }
    pthread_rwlock_destroy(pp->lock);
    pp->readers = NULL;
}

/*
 * The PBF passes (see DESIGN): 1. relations, from the end of the file back to the first block
 * without any; 2. nodes and ways of every other block (and of those with relations that hold
 * nodes or ways too); 3. the blocks with relations, in order. When pass 2 finds a relation before
 * the blocks pass 1 read (an unsorted file), everything is thrown away and read again with a
 * pass 1 over every block. Return 0 or a negative code, o->err written.
 */
static int osm_read_pbf(struct osm *o, const char *rpath, unsigned threads)
{
    struct osm_pbf *f = NULL;
    int rc = osm_pbf_open(&f, rpath, o->err, o->errlen);
    if (rc < 0)
        return rc;
    size_t nb = osm_pbf_nblocks(f);
    unsigned char *kinds = xcalloc(nb ? nb : 1, 1);
    size_t *order = xmallocarray(nb ? nb : 1, sizeof(size_t));
    struct import_stats st0 = *o->st;
    long long pass_ns = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct pbf_pass pp = {.o = o,
                              .kinds = kinds,
                              .scan_back = attempt == 0,
                              .pass_ns = &pass_ns,
                              .threads = threads};
        memset(kinds, 0, nb);
        for (size_t i = 0; i < nb; i++)
            order[i] = pp.scan_back ? nb - 1 - i : i;
        pp.pass = pbf_pass1;
        rc = osm_pbf_run(f, order, nb, OSM_PBF_RELATIONS, threads, NULL, timed_pass, &pp, o->err,
                         o->errlen);
        if (rc < 0)
            break;
        wanted_sort(o);
        size_t n = 0;
        for (size_t i = 0; i < nb; i++)
            if (i < pp.suffix || (kinds[i] & (OSM_PBF_NODES | OSM_PBF_WAYS)))
                order[n++] = i;
        pthread_rwlock_t lock;
        struct osm_nodes_reader *readers[OSM_PBF_MAX_THREADS] = {0};
        if (threads > 1) /* one thread decodes and consumes in turn: it looks up itself */
            readers_begin(&pp, &lock, readers);
        pp.pass = pbf_pass2;
        rc = osm_pbf_run(f, order, n, OSM_PBF_NODES | OSM_PBF_WAYS, threads, pbf_prep2, timed_pass,
                         &pp, o->err, o->errlen);
        readers_end(&pp);
        if (rc < 0)
            break;
        if (pp.misplaced) {
            log_info("osm file=%s relations before the end of the file: reading it again", o->path);
            const char *path = o->path;
            struct import_stats *st = o->st;
            osm_release(o);
            osm_init(o, path, st, o->err, o->errlen);
            *st = st0;
            continue;
        }
        ways_sort(o);
        rc = osm_join_wanted(o); /* nothing without the join */
        if (rc < 0)
            break;
        n = 0;
        for (size_t i = 0; i < nb; i++)
            if (kinds[i] & OSM_PBF_RELATIONS)
                order[n++] = i;
        /* no node comes any more: sealed, the store has readers for the decoding threads,
         * which assemble the rings (in memory mode it has none: the passes do it) */
        if (threads > 1 && osm_nodes_seal(o->nodes) == 0)
            readers_begin(&pp, &lock, readers);
        pp.pass = pbf_pass3;
        rc = osm_pbf_run(f, order, n, OSM_PBF_RELATIONS, threads, pbf_prep3, timed_pass, &pp,
                         o->err, o->errlen);
        readers_end(&pp);
        break;
    }
    free(order);
    free(kinds);
    osm_pbf_close(f);
    o->pass_ms = pass_ns / 1000000;
    return rc;
}

/* The process's peak resident memory so far, in MB. */
static long peak_rss_mb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024 : -1;
}

/* CPU time of the process (every thread; RUSAGE_THREAD: this thread) so far, in ms. */
static long long cpu_ms_of(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static long long cpu_ms(void)
{
    return cpu_ms_of(RUSAGE_SELF);
}

static long long wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int import_osm(const char *path, enum import_format fmt, const struct rec_sink *sink,
               struct import_stats *st, char *err, size_t errlen)
{
    struct osm o;
    osm_init(&o, path, st, err, errlen);
    struct osm_input in = {.rpath = path};
    long long t0 = wall_ms(), c0 = cpu_ms(), m0 = cpu_ms_of(RUSAGE_THREAD);
    bool readosm = fmt == FMT_OSM_XML || osm_opts.pbf_readosm;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = readosm            ? 1
                       : osm_opts.threads ? osm_opts.threads
                       : ncpu > 0         ? (unsigned)ncpu
                                          : 1;
    if (threads > OSM_PBF_MAX_THREADS)
        threads = OSM_PBF_MAX_THREADS;
    int rc = 0;
    if (fmt != FMT_OSM_PBF && fmt != FMT_OSM_XML) {
        gb_errf(err, errlen, "osm: %s: not an OSM format", path);
        rc = GB_EFORMAT;
        goto out;
    }
    rc = osm_input_open(&in, path, fmt == FMT_OSM_PBF, readosm, err, errlen);
    if (rc < 0)
        goto out;
    rc = readosm ? osm_read_readosm(&o, in.rpath) : osm_read_pbf(&o, in.rpath, threads);
    if (rc < 0)
        goto out;
    if (!readosm)
        rc = osm_join_run(&o); /* before the node store goes */
    if (rc < 0)
        goto out;
    long read_rss = peak_rss_mb();
    long long t_read = wall_ms() - t0, c_read = cpu_ms() - c0;
    /* the passes themselves, without the decoding (readosm: its parsing too) */
    long long m_read = readosm ? cpu_ms_of(RUSAGE_THREAD) - m0 : o.pass_ms;
    struct osm_nodes_stats ns;
    osm_nodes_stats(o.nodes, &ns);
    osm_nodes_free(o.nodes); /* its memory and file are not needed past the last pass */
    o.nodes = NULL;
    /* nor the boundaries' member ways and their nodes (16 bytes a reference with the join),
     * which pass 3 has made into rings: they go before the records are emitted to the builder */
    struct vec *passes_only[] = {&o.wanted, &o.ways, &o.refs, &o.ref_ll};
    for (size_t i = 0; i < sizeof(passes_only) / sizeof(passes_only[0]); i++)
        osm_vec_release(passes_only[i]);
    osm_bnd_resolve_deferred(&o);
    osm_bnd_fix_labels(&o);
    rc = osm_emit_all(&o, sink, threads);
    if (rc < 0) {
        if (!o.emit_log_failed)
            gb_errf(err, errlen, "osm: %s: the record sink failed: %s", path, gb_strerror(rc));
        goto out;
    }
    /* The reading (passes 1-3) and all of it, each as wall and CPU time (every thread): the
     * figures scripts/bench-osm.sh reports; read_main_cpu_ms is the passes' own CPU time on
     * this thread (the decoding it also does left out): the part that does not run in
     * parallel. */
    size_t budget = map_budget();
    log_info("osm import file=%s reader=%s threads=%u nodes=%zu node_ram_kb=%zu node_file_mb=%zu "
             "node_map_budget_kb=%zu node_unmaps=%zu nodes_in_memory=%d pending=%zu boundaries=%zu "
             "repaired=%zu "
             "records=%zu skipped=%zu read_ms=%lld read_cpu_ms=%lld read_main_cpu_ms=%lld "
             "read_peak_rss_mb=%ld "
             "peak_rss_mb=%ld cpu_ms=%lld ms=%lld",
             path, readosm ? "readosm" : "pbf", threads, ns.nodes, ns.ram_bytes / 1024,
             ns.file_bytes >> 20, budget >> 10, ns.unmaps, ns.in_memory, o.plog.count, o.bnds.n,
             o.n_repaired, st->records, st->skipped, t_read, c_read, m_read, read_rss,
             peak_rss_mb(), cpu_ms() - c0, wall_ms() - t0);
out:
    osm_input_close(&in);
    osm_release(&o);
    return rc;
}
