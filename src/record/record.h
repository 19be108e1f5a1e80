/*
 * record.h - the one canonical record that every importer produces and the index builder
 * consumes. Importers know their file formats and nothing of the index; the builder knows the
 * index and nothing of file formats.
 *
 * Strings are UTF-8 as found in the source (not normalised), NULL when absent, and valid only
 * during the emit call: the sink copies what it keeps.
 */
#ifndef GEOBATCH_RECORD_H
#define GEOBATCH_RECORD_H

#include <stddef.h>

enum rec_kind {
    REC_ADDRESS,  /* an address point: number + street (or place) */
    REC_STREET,   /* a named street with its geometry */
    REC_INTERP,   /* an address interpolation range along a line (OSM addr:interpolation, TIGER) */
    REC_PLACE,    /* a named place: city, town, village, suburb ... */
    REC_POSTCODE, /* a postcode centroid */
    REC_ADMIN,    /* an administrative area (country, state, county, city, district) */
};

/* Place and admin ranks, coarse to fine, shared by places and admin areas. */
enum rec_rank {
    RANK_COUNTRY = 2,
    RANK_STATE = 4,
    RANK_COUNTY = 6,
    RANK_CITY = 8,           /* city, town, village, municipality */
    RANK_DISTRICT = 10,      /* suburb, quarter, city district */
    RANK_NEIGHBOURHOOD = 12, /* neighbourhood, hamlet, locality */
};

enum rec_parity { PARITY_ALL = 0, PARITY_ODD = 1, PARITY_EVEN = 2 };

/* The side of its line an address range lies on, looking from its first point to its last:
 * unknown (OSM interpolation ways lie at their houses; TIGER's export does not say), left or
 * right (a street centerline's ranges, import_ranges.c). */
enum rec_side { SIDE_UNKNOWN = 0, SIDE_LEFT = 1, SIDE_RIGHT = 2 };

struct rec_point {
    double lat, lon;
};

struct record {
    enum rec_kind kind;
    double lat, lon;    /* the point; for lines and areas a representative point */
    const char *number; /* REC_ADDRESS: the house number as written */
    const char *street; /* REC_ADDRESS/REC_INTERP: street name (or OSM addr:place) */
    const char *unit;   /* REC_ADDRESS: unit / flat */
    const char *postcode;
    const char *city;
    const char *district;
    const char *county;
    const char *state;
    const char *country;          /* ISO 3166-1 alpha-2, upper case */
    const char *name;             /* REC_STREET/PLACE/ADMIN/POSTCODE: the primary name */
    const char *const *alt_names; /* other names (alt_name, old_name, name:xx ...) */
    size_t n_alt;
    int rank;                 /* REC_PLACE/REC_ADMIN: an enum rec_rank */
    unsigned long population; /* REC_PLACE/REC_ADMIN: inhabitants, 0 when unknown */
    int capital; /* REC_PLACE: seat of an area of this rank (RANK_COUNTRY, _STATE, _COUNTY), 0 */
    const struct rec_point *geom; /* REC_STREET/REC_INTERP: the line; REC_ADMIN: outer ring */
    size_t n_geom;
    long from, to;          /* REC_INTERP: the numbers at the first and last point */
    enum rec_parity parity; /* REC_INTERP */
    enum rec_side side;     /* REC_INTERP */
    const char *source_id;  /* stable id in its source ("n123", "w45", OA HASH) */
    /* REC_STREET/REC_INTERP: when name (street) is an alias of a street ("Mass Ave" of
     * "Massachusetts Ave"), that street's own name: answers found by the alias carry it, and
     * the alias's street has its id. NULL otherwise (alt_names are streets of their own). */
    const char *alias_of;
};

/* Where importers send records. emit returns 0, or a negative code that stops the import. */
struct rec_sink {
    int (*emit)(void *ctx, const struct record *r);
    void *ctx;
};

/* Counts an importer reports back; skipped lines keep the first few line numbers. */
#define IMPORT_SKIP_LINES 5
struct import_stats {
    size_t records;                       /* records emitted */
    size_t skipped;                       /* input rows or objects skipped as broken */
    size_t skip_lines[IMPORT_SKIP_LINES]; /* first line numbers (1-based) of skipped rows */
    char first_reason[160];               /* why the first skipped row was skipped */
};

/* Note a skipped row in stats (keeps the first IMPORT_SKIP_LINES line numbers and reason). */
void import_stats_skip(struct import_stats *st, size_t line, const char *reason);

#endif
