/*
 * import_osm_int.h - what the files of the OSM importer share: the state of one import (struct
 * osm), its containers, and the functions that one phase hands the next.
 *
 *   import_osm.c        the reader: readosm's passes over the file, pending objects, import_osm()
 *   import_osm_input.c  the input made fit for readosm: decompressed, named, checked
 *   import_osm_ring.c   rings from relation members, and the boundaries made of them
 *   import_osm_admin.c  the hierarchy of a point: boundaries that contain it, nearby places
 *   import_osm_emit.c   the records, once every boundary is known
 *
 * The design (passes, memory, clipped extracts, admin levels) is described at the top of
 * import_osm.c. Thread safety: everything works on one struct osm, owned by one import_osm()
 * call.
 */
#ifndef GEOBATCH_IMPORT_OSM_INT_H
#define GEOBATCH_IMPORT_OSM_INT_H

#include "record/geo.h"
#include "record/record.h"

#include <limits.h>
#include <readosm.h>
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

/* The value of key among readosm's n tags t: NULL when absent, empty or over OSM_MAX_VALUE. */
const char *osm_tag_get(int n, const readosm_tag *t, const char *key);
/* Keep the tags records may need (addr:*, names, place) in o->tags; set *tag0 and *ntag. */
void osm_store_tags(struct osm *o, int n, const readosm_tag *t, size_t *tag0, uint32_t *ntag);
/* The value of key among the ntag kept tags from tag0, or NULL. */
const char *osm_ptag(const struct osm *o, size_t tag0, uint32_t ntag, const char *key);
/* True for keys of alternative names: alt_name, old_name ..., name:xx. */
bool osm_is_alt_key(const char *k);

/* The coordinates of node id (sorting the node array first when needed); false when absent. */
bool osm_node_get(struct osm *o, int64_t id, struct rec_point *out);
/* The kept way with this id (a member of a pass-1 relation), or NULL. */
const struct wayref *osm_way_get(const struct osm *o, int64_t id);

/* The bucket (H_COUNTRY ... H_DISTRICT) of an admin_level, or -1. */
int osm_admin_bucket(int level);
/* The place type called v, or NULL. */
const struct place_type *osm_place_type_get(const char *v);

/* ---- import_osm_ring.c -------------------------------------------------------------------- */

/* Assemble the way members of r into closed rings in o->rpts / o->rends (emptied first),
 * repairing chains that do not close. Return the number of rings. */
size_t osm_rings_assemble(struct osm *o, const readosm_relation *r);
/* Add the boundary relation r (REL_ADMIN at level, or REL_POSTAL) to o->bnds, or defer it as
 * a union of its subareas, or skip it (counted in o->st). */
void osm_bnd_add(struct osm *o, const readosm_relation *r, enum rel_class cls, int level);
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
/* The full hierarchy of p: its own addr:* tags first (country[] holds its addr:country). */
void osm_hier_resolve(const struct osm *o, const struct pending *p, const char *h[H_N],
                      char country[3]);
/* Copy h[] into the record's hierarchy fields. */
void osm_rec_set_hier(struct record *r, const char *h[H_N]);

/* ---- import_osm_emit.c -------------------------------------------------------------------- */

/* Emit the records of every boundary and pending object to sink, counted in o->st. Return 0
 * or the sink's negative code. */
int osm_emit_all(struct osm *o, const struct rec_sink *sink);

/* ---- import_osm_input.c ------------------------------------------------------------------- */

/* The file readosm reads: path itself, or a decompressed copy or a link in a temp dir. */
struct osm_input {
    char tmpdir[PATH_MAX];       /* "" when none was made */
    char tmpfile[PATH_MAX + 16]; /* "" when none was made */
    const char *rpath;           /* what to hand readosm */
};

/* Make path, OSM PBF (pbf) or XML, readable by readosm: decompress a gzip or bzip2 file, give
 * readosm the suffix it wants, and refuse files that would crash it (a broken PBF block
 * structure, XML elements without their attributes). Return 0, or -errno, GB_ECORRUPT or
 * GB_ELIMIT with err saying "osm: <path>: ...". Call osm_input_close() in either case. */
int osm_input_open(struct osm_input *in, const char *path, bool pbf, char *err, size_t errlen);
/* Remove what osm_input_open() made. */
void osm_input_close(struct osm_input *in);

#endif
