/*
 * index_build_int.h - what the builder's files share and no one else may see.
 *
 * index_build.c collects records into struct index_builder (the sink: records in, compact
 * copies with interned strings out); index_build_write.c turns those copies into the sorted
 * tables of index_format.h and writes the file. This header is the builder struct between
 * them and the few small helpers both use. Single-threaded, like the builder.
 */
#ifndef GEOBATCH_INDEX_BUILD_INT_H
#define GEOBATCH_INDEX_BUILD_INT_H

#include "base/smap.h"
#include "index/index_format.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One address as collected; its street is the group it belongs to. */
struct b_addr {
    int32_t lat, lon;
    int32_t number, number2;
    char suffix[3];
    uint8_t flags;
    uint32_t raw, postcode, source;
    uint32_t group; /* street group (after ordering: street index) */
    uint32_t seq;   /* arrival order: the last tie-breaker */
};

/* One street as collected: (normalised key, country, city key), with what its records
 * taught about it. */
struct b_group {
    uint32_t key, name, city, city_key, district, district_key, county, state;
    char country[2];
    double sum_lat, sum_lon;
    uint32_t n_addr;
    int32_t min_lat, min_lon, max_lat, max_lon;
    int32_t way_lat, way_lon; /* middle of the longest way seen */
    double way_len;
    uint32_t seq; /* arrival of its first record (while ordering: its old index) */
};

/* One interpolation line; its points are in points. */
struct b_interp {
    uint32_t group;
    int32_t from, to;
    uint32_t parity;
    uint32_t geom_first, geom_count; /* in points */
    uint32_t postcode;
    uint32_t seq;
};

/* One way of a street: its points in spoints. */
struct b_sgeom {
    uint32_t group;
    uint32_t first, count;
    uint32_t seq;
};

/* A place, given (place and admin records) or derived from the addresses that name it. */
struct b_place {
    struct ix_place p;
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
};

/* Everything collected so far. Strings are offsets into blob (0 is ""); a group is an index
 * into grps. */
struct index_builder {
    uint64_t limit; /* the most any count, offset or reference may be (index_builder_set_limit) */
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
    bool keep_line_only; /* index_merge: each input's build joined its line-only streets */
};

/* The string at offset off of the builder's blob. */
static inline const char *str_at(const struct index_builder *b, uint32_t off)
{
    return b->blob + off;
}

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
