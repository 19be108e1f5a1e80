/*
 * index_build_int.h - what the builder's files share and no one else may see.
 *
 * index_build.c collects records into struct index_builder (the sink: records in, compact
 * copies with interned strings out); index_build_write.c turns those copies into the sorted
 * tables of index_format.h and streams them into the file; two tools keep the builder within its
 * memory budget (--memory): the external sorter (base/xsort.h: sorted runs in temporary files
 * under --tmp, merged) and the section outputs (index_build_out.c: a section in memory, or in a
 * temporary file once the budget is spent). This header is the builder struct between
 * them and the few small helpers they share. Single-threaded, like the builder.
 *
 * What stays in memory whatever the input size: one entry per street (group), per distinct
 * interned string (names, keys, numbers, postcodes; a source id is only hashed, into its
 * address), per place, postcode and admin area. Everything counted per address or per point goes
 * through an xsort or a sect_out, which hold at most what the budget leaves.
 */
#ifndef GEOBATCH_INDEX_BUILD_INT_H
#define GEOBATCH_INDEX_BUILD_INT_H

#include "base/fmem.h"
#include "base/fsio.h"
#include "base/smap.h"
#include "base/xsort.h"
#include "index/index_format.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- section outputs ---- */

/* A section of the file as it is produced: bytes in memory while the pool has room, else in a
 * temporary file (the memory is then a write buffer); its CRC-32 is kept as it goes. Or a
 * table the builder owns (so_adopt), which costs nothing to keep. */
struct sect_out {
    struct xs_pool *pool;
    const void *ext; /* an adopted table, or NULL */
    char *buf;
    size_t len, cap;
    uint64_t held; /* what this output counts in pool->held */
    int fd;        /* >= 0: the first file_len bytes are in this file */
    uint64_t file_len;
    uint64_t total; /* bytes written */
    uint32_t crc;   /* of the bytes in the file (of all of them after so_finish) */
    bool finished;
    int rc;
};

void so_init(struct sect_out *o, struct xs_pool *pool);
void so_adopt(struct sect_out *o, const void *data, uint64_t len);
int so_write(struct sect_out *o, const void *p, size_t n);
/* Flush and compute the CRC. Return 0 or -errno. */
int so_finish(struct sect_out *o);
/* Read n bytes at off (after so_finish). Return 0 or -errno. */
int so_read(const struct sect_out *o, uint64_t off, void *dst, size_t n);
/* Append the whole section to fd (after so_finish), through block[cap]. */
int so_copy_to(const struct sect_out *o, int fd, char *block, size_t cap);
void so_release(struct sect_out *o);

/* ---- what the builder collects ---- */

/* One address as collected, as the address sorter holds it. */
struct a_rec {
    uint32_t group; /* builder group */
    int32_t number, number2;
    char suffix[3];
    uint8_t flags;
    uint32_t postcode, raw; /* strings (builder references, see str_at) */
    int32_t lat, lon;
    uint32_t seq; /* arrival order: the last tie-breaker */
    uint32_t id;  /* ix_addr.id: its source id's hash (builder_source_id) */
};
static_assert(sizeof(struct a_rec) % 8 == 0, "a fixed-size sorter record");

/* One interpolation line, then its n_points struct ix_point. */
struct i_rec {
    uint32_t group;
    int32_t from, to;
    uint32_t parity;
    uint32_t side; /* enum rec_side */
    uint32_t postcode;
    uint32_t seq;
    uint32_t n_points;
};

/* One way of a street, then its n_points points. */
struct g_rec {
    uint32_t group;
    uint32_t seq;
    uint32_t n_points;
};

/* The outer ring of admin area `admin`, then its n_points points. */
struct r_rec {
    uint32_t admin;
    uint32_t n_points;
};

/* One street as collected: (normalised key, country, city key), with what its records
 * taught about it. */
struct b_group {
    uint32_t key, name, city, city_key, district, district_key, county, state;
    char country[2];
    uint8_t has_interp; /* an interpolation line names it (it is not "line only") */
    uint8_t alias;      /* only records with alias_of named it: name is the street they alias */
    uint32_t n_addr;
    uint32_t seq; /* arrival of its first record (while ordering: its old index) */
    double sum_lat, sum_lon;
    int32_t min_lat, min_lon, max_lat, max_lon;
    int32_t way_lat, way_lon; /* middle of the longest way seen */
    double way_len;
};
/* one a street whatever the input size: kept without holes */
static_assert(sizeof(struct b_group) == 96, "b_group layout");

/* A place, given (place and admin records) or derived from the addresses that name it. */
struct b_place {
    struct ix_place p;
    struct ix_place_info info; /* its PLACE_INFO entry */
    uint32_t seq;
    double sum_lat, sum_lon; /* derived places: running centroid */
    uint32_t n;
};

/* A postcode, at the centroid of the addresses that give it, else where its record puts it. */
struct b_postcode {
    struct ix_postcode p;
    double sum_lat, sum_lon;
    uint32_t n_rec; /* from REC_POSTCODE records */
    int32_t rec_lat, rec_lon;
    /* p.city, its town, is the one most of its records name, by a majority vote (Boyer-Moore:
     * the town of more than half of them when one is, else one of theirs): votes, its lead */
    uint32_t votes;
};

/* One record's town (string ref; w records' in a merge) toward postcode p's vote. */
static inline void builder_postcode_vote(struct b_postcode *p, uint32_t city, uint32_t w)
{
    if (!city)
        return;
    if (p->p.city == city || p->votes == 0) {
        p->votes = p->p.city == city ? p->votes + w : w;
        p->p.city = city;
    } else if (p->votes >= w) {
        p->votes -= w;
    } else {
        p->votes = w - p->votes;
        p->p.city = city;
    }
}

/* The builder interns strings 8-aligned and refers to them by offset / 8 (up to 32 GiB); the
 * file refers to them in units of 2^string_shift bytes (index_format.h). */
#define B_STR_SHIFT 3

/* Everything collected so far. Strings are references into blob (0 is ""); a group is an
 * index into grps. */
struct index_builder {
    uint64_t
        limit; /* the most any count, unit offset or reference may be (index_builder_set_limit) */
    struct xs_pool pool;
    char tmpdir[GB_PATH_MAX];
    int rc;              /* the first error that stopped the build (GB_ELIMIT, -errno), sticky */
    char msg[512];       /* its message */
    struct fmem tables;  /* the arrays below that grow a street at a time (base/fmem.h) */
    struct smap strings; /* string -> reference */
    char *blob;          /* the interned strings, each NUL-terminated and 8-aligned */
    size_t blob_len, blob_cap;
    struct smap groups;     /* builder_group_key() -> group index */
    struct smap raw_groups; /* the same from the raw strings: skips normalising repeats */
    struct smap raw_places;
    struct smap raw_postcodes;
    struct smap derived_places;
    struct smap postcode_map;
    struct b_group *grps;
    size_t n_grps, cap_grps;
    struct xsort addrs;   /* struct a_rec */
    struct xsort interps; /* struct i_rec + points */
    struct xsort ways;    /* struct g_rec + points */
    struct xsort rings;   /* struct r_rec + points */
    uint64_t n_addrs, n_interps, n_ipoints, n_ways, n_spoints, n_apoints;
    uint64_t hot_bytes[B_STR_SHIFT + 1]; /* the interned strings' bytes (and ""), each
                                            NUL-terminated and aligned to 1, 2, 4, 8 bytes */
    struct b_place *places;
    size_t n_places, cap_places;
    struct b_postcode *pcs;
    size_t n_pcs, cap_pcs;
    struct ix_admin *admins;
    size_t n_admins, cap_admins;
    struct ix_source *sources;
    size_t n_sources, cap_sources;
    char *scratch; /* one record being added to a sorter */
    size_t scratch_cap;
    uint64_t base_rss; /* what the process held when the builder was made */
    bool warned;       /* builder_over_budget said it */
    bool in_files;     /* the tables moved to temporary files (builder_over_budget) */
    uint32_t seq;
    uint32_t since_resident; /* records since the resident estimate was refreshed */
    bool keep_line_only;     /* index_merge: each input's build joined its line-only streets */
};

/* The key of street group (key, country, city key) in index_builder.groups: the two interned
 * references and the country's two bytes (no copy of the strings). */
#define B_GROUP_KEY_LEN 10
static inline void builder_group_key(char out[B_GROUP_KEY_LEN], uint32_t key, const char cc[2],
                                     uint32_t city_key)
{
    memcpy(out, &key, 4);
    memcpy(out + 4, cc, 2);
    memcpy(out + 6, &city_key, 4);
}

/* The string at reference ref of the builder's blob. */
static inline const char *str_at(const struct index_builder *b, uint32_t ref)
{
    return b->blob + ((size_t)ref << B_STR_SHIFT);
}

/* Refresh b->pool.resident from the capacities of the builder's tables. */
void builder_resident(struct index_builder *b);

/* What b->tables count in b->pool.resident: all of them, or, once they are in files, at most
 * a quarter of the budget (their keeper thread drops the rest from the process: fmem_keep). */
uint64_t builder_tables_counted(const struct index_builder *b);

/* When b->pool.resident passes the budget: move the tables to temporary files (once; a
 * warning when that fails, and the build goes on above the budget). */
void builder_over_budget(struct index_builder *b);

/* Record the first error of the build: rc with a message (printf format). Return rc. */
int builder_fail(struct index_builder *b, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* GB_ELIMIT (recorded with builder_fail) when n, a count of what, passes the builder's limit;
 * else 0. */
int builder_count_ok(struct index_builder *b, const char *what, uint64_t n);

/* An I/O error rc of sorter x, recorded with a message naming the temporary directory; returns
 * the build's error. */
int builder_sort_failed(struct index_builder *b, const struct xsort *x, int rc);

/* The reference of s[0..len) in the blob, interned once (the first reference of a string seen
 * before; 0 for ""), or 0 with b->rc set when the strings pass the limit. */
uint32_t builder_intern(struct index_builder *b, const char *s, size_t len);

/* Whether n more line points (and a part break) still fit the point section: 0, or GB_ELIMIT
 * recorded. */
int builder_points_ok(struct index_builder *b, size_t n);

/* The key of a place derived from addresses into out (cap bytes): its name's key, country (cc,
 * or NULL), rank and parent's key (a city's state, a district's city; parent may be NULL or "");
 * the builder and index_merge key them so. Return its length, 0 when it does not fit. */
size_t builder_place_key(char *out, size_t cap, const char *key, const char *cc, int rank,
                         const char *parent);

/* Give a its source id (NULL or "": none): the id's FNV-1a hash, which is all that the index
 * keeps of it (its locationId), or IXA_NO_SOURCE. */
void builder_source_id(struct a_rec *a, const char *source_id);

/* Add address a (its group counted) to the address sorter. Return 0, or the build's error (a
 * temporary file). */
int builder_push_address(struct index_builder *b, const struct a_rec *a);

/* Degrees to the file's fixed point (degrees * IX_COORD_SCALE, rounded). */
static inline int32_t to_fix(double deg)
{
    return (int32_t)lround(deg * IX_COORD_SCALE);
}

/* Widen a group's bounding box to (lat, lon); the first point of a group sets it. */
static inline void bbox_add(struct b_group *g, int32_t lat, int32_t lon)
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

#endif
