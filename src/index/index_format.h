/*
 * index_format.h - the on-disk structures of the index file, shared by the builder
 * (index_build.c) and the reader (index.c). docs/index-format.md explains them.
 *
 * All integers are little-endian (the only byte order we build for; the header records it),
 * every section starts on an 8-byte boundary, coordinates are int32 degrees * 1e7, and a
 * string is a uint32 offset into the STRINGS section in units of 2^string_shift bytes (the
 * header's; 0 is the empty string): 1-byte units up to 4 GiB of strings, 8-byte units up to
 * 32 GiB, every string starting on a unit boundary. Every other reference is an entry index.
 */
#ifndef GEOBATCH_INDEX_FORMAT_H
#define GEOBATCH_INDEX_FORMAT_H

#include "base/hash.h"

#include <assert.h>
#include <stdint.h>

#define IX_MAGIC       "GBINDEX\0"
#define IX_ENDIAN_MARK 0x01020304u
#define IX_NONE        0xFFFFFFFFu /* "no entry" in u32 references and hash slots */
/* An address given twice (one street, number and postcode) within this distance is stored
 * once; an index set finds two members' answers the same by it (geocode_set.c). */
#define IX_DEDUP_METRES     50.0
#define IX_COORD_SCALE      1e7
#define IX_MAX_STRING_SHIFT 3 /* 8-byte units: up to 32 GiB of strings */

enum ix_section_id {
    IXS_STRINGS = 0,   /* NUL-terminated UTF-8 strings; offset 0 holds "" (entries: units) */
    IXS_SOURCES,       /* struct ix_source[] */
    IXS_STREETS,       /* struct ix_street[], sorted by key, country, city key */
    IXS_STREET_HASH,   /* uint32[] open-addressing table of street indexes by key (first of run) */
    IXS_FUZZY,         /* struct ix_fuzzy[], deletion neighbourhood of street keys, sorted */
    IXS_ADDRS,         /* struct ix_addr[], grouped by street, sorted by number */
    IXS_INTERPS,       /* struct ix_interp[], grouped by street */
    IXS_POINTS,        /* struct ix_point[]: interpolation lines, street lines, admin rings */
    IXS_PLACES,        /* struct ix_place[], sorted by key */
    IXS_PLACE_HASH,    /* uint32[] open-addressing table of place indexes by key (first of run) */
    IXS_POSTCODES,     /* struct ix_postcode[], sorted by key, country */
    IXS_PC_HASH,       /* uint32[] open-addressing table of postcode indexes (first of run) */
    IXS_ADMINS,        /* struct ix_admin[] */
    IXS_CELLS,         /* struct ix_cell[], sorted by cell id: the reverse-geocoding grid */
    IXS_CELL_ADDRS,    /* uint32[] address indexes, grouped by cell */
    IXS_COUNTRIES,     /* struct ix_country[]: per-country counts */
    IXS_SCELLS,        /* struct ix_cell[], sorted by cell id: streets passing through a cell */
    IXS_SCELL_STREETS, /* uint32[] street indexes, grouped by cell */
    IXS_PC_RANGES,     /* struct ix_range[n_postcodes]: each entry's streets in PC_STREETS */
    IXS_PC_STREETS,    /* uint32[] street indexes, grouped by postcode key, ascending */
    IXS_FUZZY_DIR,     /* struct ix_fuzzy_bucket[2^k + 1]: FUZZY by hash >> (32 - k) (format 6) */
    IXS_PLACE_INFO,    /* struct ix_place_info[n_places]: importance of PLACES[i] (format 4) */
    IXS__COUNT
};

struct ix_section {
    uint64_t off;   /* from the start of the file, 8-aligned */
    uint64_t len;   /* bytes */
    uint32_t crc;   /* CRC-32 (zlib) of the bytes */
    uint32_t count; /* entries (len / entry size), for arrays */
};
static_assert(sizeof(struct ix_section) == 24, "ix_section layout");

struct ix_header {
    char magic[8];           /* "GBINDEX\0" */
    uint32_t endian;         /* IX_ENDIAN_MARK as written by the builder */
    uint32_t format_version; /* INDEX_FORMAT_VERSION */
    uint32_t norm_version;   /* NORM_VERSION of the normaliser that built the keys */
    uint32_t n_sections;     /* IXS__COUNT */
    uint64_t file_size;      /* bytes, the whole file */
    uint64_t counts[6];      /* addresses, streets, interps, places, postcodes, admins */
    uint32_t header_crc;     /* CRC-32 of this header with header_crc = 0 */
    uint32_t string_shift;   /* string offsets count units of 2^string_shift bytes (0..3) */
    struct ix_section sect[IXS__COUNT];
};
static_assert(sizeof(struct ix_header) == 88 + 24 * IXS__COUNT, "ix_header layout");

struct ix_source {
    uint32_t name;   /* string: the file name as given */
    uint32_t format; /* enum import_format */
    uint64_t size;   /* bytes */
    int64_t mtime;   /* seconds since the epoch */
    uint64_t records;
};
static_assert(sizeof(struct ix_source) == 32, "ix_source layout");

/* A street in one locality: the unit of ambiguity. */
struct ix_street {
    uint32_t key;      /* string: norm_key of the name */
    uint32_t name;     /* string: the name as written in the data */
    uint32_t city;     /* string: display city */
    uint32_t city_key; /* string: norm_key of the city */
    uint32_t district; /* string: display district */
    uint32_t district_key;
    uint32_t postcode; /* string: most common postcode of its addresses */
    uint32_t county, state;
    char country[2];                            /* ISO2, or "\0\0" when unknown */
    uint16_t flags;                             /* IXS_PLAIN_NUMBERS, IXS_RUN_SHIFT */
    int32_t lat, lon;                           /* representative point */
    int32_t min_lat, min_lon, max_lat, max_lon; /* bounding box of addresses and geometry */
    uint32_t addr_first, addr_count;
    uint32_t interp_first, interp_count;
    uint32_t id; /* stable id: hash of key (an alias's: its name's), country and city */
    uint32_t geom_first, geom_count; /* into IXS_POINTS: its ways, IX_PART_BREAK between them */
};
static_assert(sizeof(struct ix_street) == 92, "ix_street layout");
/* A street's addresses are in ascending order of number (then second number, suffix,
 * postcode). With IXS_PLAIN_NUMBERS none of them is a slash pair or a range, so only those of
 * the number asked can match it and they are one stretch: the geocoder binary-searches it.
 * Indexes written before the flag have it clear and are read address by address. */
#define IXS_PLAIN_NUMBERS 1
/* Bits 1 to 15 of flags on the first street of a run of equal keys: the run's length, 1 to
 * IXS_RUN_MAX, so that a reader finds the run's end without searching for it. 0 on every other
 * street, on a run longer than that, and in indexes written before (a reader then searches, as
 * it did): old readers ignore the bits. index_open checks every length it finds. */
#define IXS_RUN_SHIFT 1
#define IXS_RUN_MAX   0x7FFF

/* In a street's geometry, a point with both fields IX_PART_BREAK separates two ways. */
#define IX_PART_BREAK INT32_MIN

struct ix_fuzzy {
    uint32_t hash;   /* hash of a deletion variant of a street key */
    uint32_t street; /* first street of the key's run */
};
static_assert(sizeof(struct ix_fuzzy) == 8, "ix_fuzzy layout");

/* A bucket of FUZZY_DIR: the entries whose hash has the bucket's number as its top k bits
 * start at first (the next bucket's first ends them), and bits has bit ix_fuzzy_bit() of each
 * one's hash set: a probe whose bit is clear reads no entry (format 6; most probes of a typo
 * search find nothing). */
struct ix_fuzzy_bucket {
    uint32_t first;
    uint32_t bits;
};
static_assert(sizeof(struct ix_fuzzy_bucket) == 8, "ix_fuzzy_bucket layout");

/* The bucket of hash in a directory of 2^k buckets: its top k bits. */
static inline uint32_t ix_fuzzy_bucket_of(uint32_t hash, unsigned k)
{
    return hash >> (32 - k);
}

/* The bit of hash in its bucket's bits, in a directory of 2^k buckets: the five bits below the
 * top k. */
static inline uint32_t ix_fuzzy_bit(uint32_t hash, unsigned k)
{
    return (uint32_t)1 << ((uint32_t)((uint64_t)hash << k) >> 27);
}

struct ix_addr {
    int32_t lat, lon;
    int32_t number;    /* main number, -1 when none */
    int32_t number2;   /* second number (Czech orientation number, range end), -1 when none */
    char suffix[3];    /* lower-case letters, NUL-padded */
    uint8_t flags;     /* IXA_SLASH: "1075/47" pair; IXA_RANGE: number..number2; IXA_EVIDENCE */
    uint32_t raw;      /* string: the number as written */
    uint32_t postcode; /* string */
    uint32_t street;   /* index of its ix_street */
    uint32_t id;       /* what its locationId carries: the FNV-1a hash of its source id, or
                          with IXA_NO_SOURCE its own index in ADDRS (format 5) */
};
static_assert(sizeof(struct ix_addr) == 36, "ix_addr layout");
#define IXA_SLASH     1
#define IXA_RANGE     2
#define IXA_EVIDENCE  4 /* a Czech evidence number ("ev.12"): a number series of its own */
#define IXA_NO_SOURCE 8 /* the data gave it no source id: id is its index */

struct ix_interp {
    uint32_t street;
    int32_t from, to;
    uint32_t parity;                 /* enum rec_parity */
    uint32_t geom_first, geom_count; /* into IXS_POINTS */
    uint32_t postcode;               /* string */
    uint32_t side; /* enum rec_side: where the range lies from the line (0 unknown; was reserved,
                      0, before normaliser 6) */
};
static_assert(sizeof(struct ix_interp) == 32, "ix_interp layout");

struct ix_point {
    int32_t lat, lon;
};

struct ix_place {
    uint32_t key, name;
    uint32_t city; /* string: the city it belongs to (itself for cities) */
    uint32_t county, state;
    char country[2];
    uint8_t rank;   /* enum rec_rank */
    uint8_t source; /* 0 place, 1 admin area, 2 derived from addresses */
    int32_t lat, lon;
    uint32_t radius_m; /* extent: addresses or area seen around it */
    uint32_t id;
};
static_assert(sizeof(struct ix_place) == 40, "ix_place layout");

/* What makes a place important among places of its name (format 4): entry i describes
 * PLACES[i]. population 0 is unknown; capital is the rank (enum rec_rank) of the area whose
 * seat it is: RANK_COUNTRY for a national capital, RANK_STATE, RANK_COUNTY, 0 none known;
 * flags say whether the entry's key comes from the place's own name or another of its names. */
struct ix_place_info {
    uint32_t population;
    uint8_t capital;
    uint8_t flags; /* IXP_ALT_NAME: the entry is under an alternative name of the place */
    uint8_t reserved[2];
};
#define IXP_ALT_NAME 1
static_assert(sizeof(struct ix_place_info) == 8, "ix_place_info layout");

struct ix_postcode {
    uint32_t key, name;
    uint32_t city;
    char country[2];
    uint16_t reserved;
    int32_t lat, lon;
    uint32_t radius_m;
    uint32_t count; /* addresses carrying it */
};
static_assert(sizeof(struct ix_postcode) == 32, "ix_postcode layout");

/* A run [first, first + count) of another section. The entries of one postcode key share one
 * range: the streets that have an address, interpolation or street postcode of that key. */
struct ix_range {
    uint32_t first, count;
};
static_assert(sizeof(struct ix_range) == 8, "ix_range layout");

struct ix_admin {
    uint32_t name;
    uint32_t rank;
    char country[2];
    uint16_t reserved;
    int32_t lat, lon;
    int32_t min_lat, min_lon, max_lat, max_lon;
    uint32_t geom_first, geom_count; /* outer ring in IXS_POINTS; count 0 when unknown */
};
static_assert(sizeof(struct ix_admin) == 44, "ix_admin layout");

struct ix_cell {
    uint64_t cell;         /* (lat_cell << 32) | lon_cell */
    uint32_t first, count; /* into IXS_CELL_ADDRS */
};
static_assert(sizeof(struct ix_cell) == 16, "ix_cell layout");

#define IX_CELL_DEG 0.005 /* grid cell size: about 550 m north-south */

struct ix_country {
    char code[2];
    uint16_t reserved;
    uint32_t addresses, streets, places, postcodes;
};
static_assert(sizeof(struct ix_country) == 20, "ix_country layout");

/* The mapped sections of an open index, validated by index_open(): every array is in
 * bounds and every string offset stored in them points inside STRINGS (NUL-terminated). */
struct index_view {
    const struct ix_header *hdr;
    const char *strings;
    size_t strings_len; /* bytes */
    const struct ix_source *sources;
    size_t n_sources;
    const struct ix_street *streets;
    size_t n_streets;
    const uint32_t *street_hash;
    size_t n_street_hash;
    const struct ix_fuzzy *fuzzy;
    size_t n_fuzzy;
    const struct ix_addr *addrs;
    size_t n_addrs;
    const struct ix_interp *interps;
    size_t n_interps;
    const struct ix_point *points;
    size_t n_points;
    const struct ix_place *places;
    size_t n_places;
    const uint32_t *place_hash;
    size_t n_place_hash;
    const struct ix_postcode *postcodes;
    size_t n_postcodes;
    const uint32_t *pc_hash;
    size_t n_pc_hash;
    const struct ix_admin *admins;
    size_t n_admins;
    const struct ix_cell *cells;
    size_t n_cells;
    const uint32_t *cell_addrs;
    size_t n_cell_addrs;
    const struct ix_country *countries;
    size_t n_countries;
    const struct ix_cell *scells;
    size_t n_scells;
    const uint32_t *scell_streets;
    size_t n_scell_streets;
    const struct ix_range *pc_ranges; /* n_postcodes */
    const uint32_t *pc_streets;
    size_t n_pc_streets;
    const struct ix_place_info *place_info;  /* n_places */
    const struct ix_fuzzy_bucket *fuzzy_dir; /* n_fuzzy_dir = 2^fuzzy_bits + 1 entries */
    size_t n_fuzzy_dir;
    unsigned fuzzy_bits;
    unsigned str_shift; /* the header's string_shift */
};

struct index;
/* The view of an open index (valid until index_close). */
const struct index_view *index_view(const struct index *ix);

/* The hash of the index's open-addressing tables (STREET_HASH, PLACE_HASH, PC_HASH; linear
 * probing over a power-of-two slot count, IX_NONE = empty) and of FUZZY's deletion variants:
 * 32-bit FNV-1a of the key's bytes. Part of the file format: the builder and every reader use
 * this one function. */
static inline uint32_t ix_key_hash(const char *key, size_t len)
{
    return hash_fnv1a(key, len);
}

/* The string at offset off ("" for 0): byte off << string_shift of STRINGS (size_t: the section
 * may pass 4 GiB). Offsets are validated at open. */
static inline const char *ix_str(const struct index_view *v, uint32_t off)
{
    return v->strings + ((size_t)off << v->str_shift);
}

#endif
