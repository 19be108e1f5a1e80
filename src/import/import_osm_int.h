/*
 * import_osm_int.h - what the files of the OSM importer share: the state of one import (struct
 * osm), its containers, and the functions that one phase hands the next.
 *
 *   import_osm.c        the reader: the passes over the file, pending objects, import_osm()
 *   import_osm_pend.c   the log of pending objects, written by the passes, read by emission
 *   import_osm_join.c   the ways' points by a join with the node file, into the log again
 *   import_osm_input.c  the input made fit for the readers: decompressed, named, checked
 *   osm_pbf.c           the PBF reader (blocks decoded on worker threads, handed over in order)
 *   osm_nodes.c         node locations by id (a memory-mapped block file, or an array)
 *   import_osm_ring.c   rings from relation members, and the boundaries made of them
 *   import_osm_admin.c  the hierarchy of a point: boundaries that contain it, nearby places
 *   import_osm_near.c   the nearest named street of an address that names none
 *   import_osm_emit.c   the records, once every boundary is known
 *
 * The design (passes, memory, threads, clipped extracts, admin levels) is described at the top
 * of import_osm.c. Thread safety: everything here works on one struct osm, owned by one
 * import_osm() call, on the thread that called it (the PBF reader's workers only decode blocks;
 * they never see a struct osm).
 */
#ifndef GEOBATCH_IMPORT_OSM_INT_H
#define GEOBATCH_IMPORT_OSM_INT_H

#include "import/osm_nodes.h"
#include "import/osm_pbf.h"
#include "record/geo.h"
#include "record/record.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSM_SCALE          1e7
#define OSM_MAX_VALUE      1024    /* longer tag values are ignored */
#define OSM_MAX_ALT        32      /* alternative names kept per record */
#define OSM_MAX_NUMBERS    64      /* numbers taken from one list "1;3;5" */
#define OSM_PLACE_RADIUS_M 15000.0 /* the largest place search radius */
#define OSM_GRID           64      /* boundary grid cells per side */

enum { H_COUNTRY, H_STATE, H_COUNTY, H_CITY, H_DISTRICT, H_POSTCODE, H_N };

enum {
    P_ADDR = 1,   /* has addr:housenumber */
    P_STREET = 2, /* named highway way */
    P_INTERP = 4, /* addr:interpolation way */
    P_PLACE = 8,  /* named place node */
    P_JOIN = 16,  /* a way logged without its points: the join gives them (import_osm_join.c) */
};

enum rel_class { REL_NONE, REL_ADMIN, REL_POSTAL, REL_ADDR };

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

/* Stored tags: n (key, value) pairs of offsets into strs. */
struct tagref {
    const struct kv *kv;
    uint32_t n;
    const char *strs;
};

/* A pending object read back from the log: what emission needs of it. */
struct pend_view {
    int64_t id;
    char type;
    uint8_t what;
    uint32_t ngeom;
    double lat, lon;
    int64_t first, last;
    struct tagref tags;
    const struct rec_point *geom; /* ngeom points for streets and interpolations, else NULL */
};

/* The log of pending objects (import_osm_pend.c): a buffer, then a temp file. */
struct osm_pend {
    char tmpdir[PATH_MAX];
    char err[PATH_MAX + 64]; /* why the last call failed */
    int fd;                  /* -1 while every record is in buf */
    size_t limit;            /* bytes of buf before it goes to the file */
    unsigned char *buf;      /* records not yet in the file */
    size_t n, cap;
    uint64_t written; /* bytes in the file */
    uint64_t bytes;   /* bytes logged */
    size_t count;     /* records logged */
    /* reading */
    uint64_t rpos; /* next byte of the file (or of buf) to read */
    unsigned char *rbuf;
    size_t rlen, roff;
    unsigned char *rec; /* the record read last (file mode) */
    size_t rec_cap;
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
    size_t nring;
    size_t geom;  /* the boundary whose geo_pip holds its outer ring (geo_pip_ring): itself, or
                     for a union its largest subarea */
    size_t outer; /* that ring's index */
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
    double coslat; /* geo_cos_lat(lat) */
    int fills;     /* H_CITY, H_DISTRICT or -1 */
    uint32_t seq;  /* its place in the file, among the places */
    size_t name;
    const char *city;    /* the city whose boundary contains the place (set before emission) */
    const char *country; /* the country whose boundary contains it, NULL when none */
    uint64_t cell;       /* what it fills, then its 0.1-degree cell (import_osm_admin.c) */
};

struct vec {
    void *p;
    size_t n, cap, sz;
};

/* A relation's rings as assembled into a struct ring_work w (osm_rings_assemble): nring rings,
 * ring i the points w->rpts[p0 + (i ? ends[i - 1] : 0), p0 + ends[i]) where ends = w->rends +
 * e0, each closed; seg_total of its members are ways, seg_found of them were in the file;
 * repaired: chains that did not close were joined by their nearest ends. */
struct rings {
    size_t p0, e0, nring;
    size_t seg_total, seg_found;
    bool repaired;
};

/* Where rings are assembled: the scratch of one thread and the rings it appends. */
struct ring_work {
    struct vec chain;   /* int64_t node ids */
    struct vec chix;    /* size_t: where each of chain's ids is in osm.refs (osm.ref_ll given) */
    struct vec cpts;    /* struct rec_point: chains as coordinates */
    struct vec copen;   /* size_t pairs (start, len) into cpts of open chains */
    struct vec rpts;    /* struct rec_point: the rings, relation after relation */
    struct vec rends;   /* size_t: each ring's end, counted from its relation's first point */
    struct vec segused; /* unsigned char */
    size_t p0;          /* the first point of the relation being assembled */
};

struct osm {
    const char *path;
    int rc;
    struct import_stats *st;
    char *pool;
    size_t pool_len, pool_cap;
    char *err; /* where a pass writes why it failed */
    size_t errlen;
    struct osm_nodes *nodes; /* node locations */
    struct osm_join *join;   /* pass 2 defers the ways' points to it, or NULL: it looks them up */
    struct vec wanted;       /* int64_t way ids (pass 1), sorted after it */
    struct vec ways;         /* struct wayref */
    struct vec refs;         /* int64_t */
    struct vec ref_ll;       /* struct osm_ll: where refs' nodes are (the join), or empty */
    struct vec pend;         /* struct pending: the one being built (then it goes to plog) */
    struct vec tags;         /* struct kv */
    struct vec pts;          /* struct rec_point: pending geometry */
    struct vec bnds;         /* struct bnd */
    struct vec places;       /* struct place */
    struct vec countries;    /* struct kv: (pool offset of a code, count) */
    struct ring_work rw;     /* ring assembly on this thread (relations no decoder prepared) */
    size_t *grid;            /* OSM_GRID^2 + 1 offsets into grid_ix */
    size_t *grid_ix;
    struct geo_bbox gbox;
    const char *default_country;
    size_t n_repaired;    /* relations whose rings were repaired */
    long long pass_ms;    /* PBF: CPU time of the passes on the calling thread, decoding apart */
    struct vec deferred;  /* struct bnd: admin relations without own rings */
    struct vec subs;      /* int64_t: their relation members */
    struct vec kids;      /* size_t: subareas of unions */
    struct osm_pend plog; /* pending objects, in the order they were met */
    bool emit_log_failed; /* osm_emit_all() failed reading plog, not in the sink */
    struct vec ends;      /* int64_t: end nodes of interpolations */
    struct vec xrefs;     /* int64_t: scratch, readosm's node refs */
    struct vec xmems;     /* struct osm_member: scratch, readosm's members */
};

/* A node's location as stored (degrees * 1e7); lat INT32_MIN: not in the file. */
struct osm_ll {
    int32_t lat, lon;
};

/* A place=* value: the rank of its record, the hierarchy field its nodes fill, how far. */
struct place_type {
    const char *type;
    int rank;
    int fills;
    double radius_m;
};

/* ---- import_osm.c: containers, tags, nodes ------------------------------------------------ */

#define OSM_AT(v, type, i) (((type *)(v).p)[i]) /* element i of a struct vec of type */

/* An empty vector of sz-byte elements. */
void osm_vec_init(struct vec *v, size_t sz);
/* Append k elements (uninitialised) and return the first; grows by half, never returns NULL. */
void *osm_vec_push(struct vec *v, size_t k);
/* Free the elements; the vector is empty (its element size stays). */
void osm_vec_release(struct vec *v);

/* Add s (n bytes, or a string) to the string pool; return its offset. Offset 0 is "none". */
size_t osm_pool_addn(struct osm *o, const char *s, size_t n);
size_t osm_pool_add(struct osm *o, const char *s);
/* The pooled string at off, or NULL for offset 0. */
const char *osm_pstr(const struct osm *o, size_t off);

/* The value of key among the n tags t: NULL when absent, empty or over OSM_MAX_VALUE. */
const char *osm_tag_get(int n, const struct osm_tag *t, const char *key);
/* Keep the tags records may need (addr:*, names, place) in o->tags; set *tag0 and *ntag. */
void osm_store_tags(struct osm *o, int n, const struct osm_tag *t, size_t *tag0, uint32_t *ntag);
/* The value of key among t's tags, or NULL. */
const char *osm_tagref_get(const struct tagref *t, const char *key);
/* The kept tags of boundary b. */
struct tagref osm_bnd_tags(const struct osm *o, const struct bnd *b);
/* True for keys of alternative names: alt_name, old_name ..., name:xx. */
bool osm_is_alt_key(const char *k);

/* The coordinates of node id (from o->nodes); false when absent. On the passes' thread. */
bool osm_node_get(const struct osm *o, int64_t id, struct rec_point *out);
/* The same through reader rd of the sealed store (any thread), or as osm_node_get() when rd is
 * NULL. */
bool osm_node_read(const struct osm *o, struct osm_nodes_reader *rd, int64_t id,
                   struct rec_point *out);
/* A stored location as a point: the one conversion (osm_node_get() gives the same). */
struct rec_point osm_ll_point(struct osm_ll ll);
/* Append the points of the nodes ids[0..n) that are in the store to out (struct rec_point),
 * through rd as osm_node_read(); return how many. */
size_t osm_node_points(const struct osm *o, struct osm_nodes_reader *rd, const int64_t *ids,
                       size_t n, struct vec *out);
/* The point of a way that becomes a record, from the got points of its nodes that were found:
 * the centroid of an address area (area: a closed way of 4 references or more with an address),
 * else the middle of the line. The one rule, for the lookups and the join alike. */
struct rec_point osm_way_point(const struct rec_point *g, size_t got, bool area);
/* The kept way with this id (a member of a pass-1 relation), or NULL. */
const struct wayref *osm_way_get(const struct osm *o, int64_t id);

/* The bucket (H_COUNTRY ... H_DISTRICT) of an admin_level, or -1. */
int osm_admin_bucket(int level);
/* The place type called v, or NULL. */
const struct place_type *osm_place_type_get(const char *v);

/* ---- import_osm_ring.c -------------------------------------------------------------------- */

void osm_ring_work_init(struct ring_work *w);
void osm_ring_work_release(struct ring_work *w);
/* Assemble the way members of r (o->ways, read only) into closed rings appended to w,
 * repairing chains that do not close; *out says where they are. Node points through rd (NULL:
 * o's store, on the passes' thread): so a decoding thread may assemble a relation beside the
 * passes, each in a ring_work of its own. */
void osm_rings_assemble(const struct osm *o, struct osm_nodes_reader *rd, struct ring_work *w,
                        const struct osm_relation *r, struct rings *out);
/* The rings g of w as a polygon (valid until w changes); none (w may then be NULL): an empty
 * one. */
struct geo_poly osm_rings_poly(const struct ring_work *w, const struct rings *g);
/* Add the boundary relation r (REL_ADMIN at level, or REL_POSTAL), its rings g assembled in w,
 * to o->bnds, or defer it as a union of its subareas, or skip it (counted in o->st). */
void osm_bnd_add(struct osm *o, const struct osm_relation *r, enum rel_class cls, int level,
                 const struct ring_work *w, const struct rings *g);
/* After the last pass: resolve deferred boundaries as unions of their subareas. */
void osm_bnd_resolve_deferred(struct osm *o);
/* After that: move the labels of repaired boundaries out of their complete neighbours. */
void osm_bnd_fix_labels(struct osm *o);
/* True when b contains the point. */
bool osm_bnd_contains(const struct osm *o, const struct bnd *b, double lat, double lon);

/* ---- import_osm_admin.c ------------------------------------------------------------------- */

/* Before the first lookup, with every boundary known: index the boundaries and places, and
 * pick the file's default country. */
void osm_hier_prepare(struct osm *o);
/* Fill the empty fields of h[] for the point from boundaries, then place nodes; an empty
 * country then becomes fallback_country, or the file default when that is NULL. */
void osm_hier_fill(const struct osm *o, double lat, double lon, const char *h[H_N],
                   const char *fallback_country);
/* What osm_hier_fill() owes to the point alone: the boundaries that contain it and the nearest
 * city and district place nodes. The same for every record at the point, and read-only on o,
 * so the emission works it out ahead on another thread (osm_emit_all). */
struct hier_geo {
    const char *hb[H_N];         /* from the boundaries */
    const struct place *pc, *pd; /* the nearest city and district place nodes, or NULL */
    double dc, dd;               /* their distances */
};
void osm_hier_geo(const struct osm *o, double lat, double lon, struct hier_geo *g);
/* osm_hier_fill() of the point whose osm_hier_geo() is g. */
void osm_hier_apply(const struct osm *o, const struct hier_geo *g, const char *h[H_N],
                    const char *fallback_country);
/* The full hierarchy of p: its own addr:* tags first (country[] holds its addr:country); g is
 * osm_hier_geo() of p's point, or NULL to work it out here. */
void osm_hier_resolve(const struct osm *o, const struct pend_view *p, const struct hier_geo *g,
                      const char *h[H_N], char country[3]);
/* Copy h[] into the record's hierarchy fields. */
void osm_rec_set_hier(struct record *r, const char *h[H_N]);

/* ---- import_osm_near.c -------------------------------------------------------------------- */

#define OSM_NEAR_MAX_M 100.0 /* an address without addr:street takes a named street this near */

/* The named streets of the log as segments in a grid (import_osm_near.c). */
struct osm_near {
    struct near_seg *segs;
    size_t n_segs, cap_segs;
    struct near_cell *cells; /* sorted by cell, then segment */
    size_t n_cells, cap_cells;
    char *names; /* NUL-terminated street names; offset 0 is "" */
    size_t n_names, cap_names;
    uint64_t *want; /* the cells addresses without a street look in, sorted */
    size_t n_want, cap_want;
};

/* Read the log for its named streets into n (n is always initialised; osm_near_free it).
 * Return 0 or the log's negative code. */
int osm_near_build(struct osm *o, struct osm_near *n);
/* The name of the named street nearest to (lat, lon) within OSM_NEAR_MAX_M, or NULL; of two
 * at the same distance the one met first in the file. */
const char *osm_near_street(const struct osm_near *n, double lat, double lon);
void osm_near_free(struct osm_near *n);

/* ---- import_osm_emit.c -------------------------------------------------------------------- */

/* Emit the records of every boundary and pending object to sink, counted in o->st, in the
 * log's order; with threads > 1 the points' hierarchies are worked out ahead on one more
 * thread (the same records). Return 0 or the sink's negative code, or -errno when the log
 * cannot be read (o->err written). */
int osm_emit_all(struct osm *o, const struct rec_sink *sink, unsigned threads);

/* ---- import_osm_pend.c -------------------------------------------------------------------- */

/* An empty log whose file (made when buffer bytes are logged; 0: PEND_BUF_BYTES) goes to tmpdir
 * (NULL: $TMPDIR, else /tmp). */
void osm_pend_init(struct osm_pend *l, const char *tmpdir, size_t buffer);
void osm_pend_release(struct osm_pend *l);
/* Log pending object p with its tags (o->tags, o->pool) and, when keep_geom, its points
 * (o->pts). Return 0 or -errno (osm_pend_error() says why). */
int osm_pend_add(struct osm *o, const struct pending *p, bool keep_geom);
/* Log what v says into l, with nstored points of geom (v's ngeom stays what v says). Return 0 or
 * -errno (osm_pend_error() says why). */
int osm_pend_put(struct osm_pend *l, const struct pend_view *v, const struct rec_point *geom,
                 uint32_t nstored);
/* Go back to the first record (call before osm_pend_next). Return 0 or -errno. */
int osm_pend_rewind(struct osm_pend *l);
/* The next record into *v (valid until the next call): 1, 0 at the end, or -errno. */
int osm_pend_next(struct osm_pend *l, struct pend_view *v);
/* A second reader r of l, rewound: it reads l's records (osm_pend_next on r) with buffers of
 * its own, on any one thread, while nothing is logged into l; l keeps its file and buffer. */
void osm_pend_reader(const struct osm_pend *l, struct osm_pend *r);
void osm_pend_reader_release(struct osm_pend *r);
const char *osm_pend_error(const struct osm_pend *l);

/* ---- import_osm_join.c ------------------------------------------------------------------- */

struct osm_join;
/* An empty join for the node file of nodes (every node in it), looked up on up to threads threads
 * (when the store is sealed by then), map_budget bytes of the file at a time in all, holding at
 * most 3/8 of memory bytes (past that, temporary files in tmpdir). Never fails. */
struct osm_join *osm_join_new(const char *tmpdir, uint64_t memory, const struct osm_nodes *nodes,
                              size_t map_budget, unsigned threads);
void osm_join_free(struct osm_join *j);
/* Defer one way: its n node references, numbered after the ones before. Return 0 or -errno. */
int osm_join_add(struct osm_join *j, const int64_t *ids, size_t n);
/* After the last pass, or before a block of nodes that follows ways, while the node store holds
 * what it held when the ways came: every deferred way of o->plog (P_JOIN) gets its points, and
 * the log is written again; o->join is freed (NULL: nothing to do). Return 0 or -errno (o->err
 * written). */
int osm_join_run(struct osm *o);
/* Between passes 2 and 3, when o->join is there: the locations of the wanted ways' nodes
 * (o->refs) into o->ref_ll, a range of the node file at a time, so that pass 3's rings look
 * none up. Return 0 or -errno (o->err written). */
int osm_join_wanted(struct osm *o);

/* ---- import_osm_input.c ------------------------------------------------------------------- */

/* The file a reader reads: path itself, or a decompressed copy or a link in a temp dir. */
struct osm_input {
    char tmpdir[PATH_MAX];       /* "" when none was made */
    char tmpfile[PATH_MAX + 16]; /* "" when none was made */
    const char *rpath;           /* what to hand the reader */
};

/* Make path, OSM PBF (pbf) or XML, readable: decompress a gzip or bzip2 file. For readosm
 * (always for XML; for PBF when readosm is set) also give it the suffix it wants and refuse files
 * that would crash it (a broken PBF block structure, XML elements without their attributes); the
 * PBF reader of osm_pbf.c checks everything itself. Return 0, or -errno, GB_ECORRUPT or
 * GB_ELIMIT with err saying "osm: <path>: ...". Call osm_input_close() in either case. */
int osm_input_open(struct osm_input *in, const char *path, bool pbf, bool readosm, char *err,
                   size_t errlen);
/* Remove what osm_input_open() made. */
void osm_input_close(struct osm_input *in);

#endif
