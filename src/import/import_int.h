/*
 * import_int.h - the importer contract inside src/import: what format detection shows each
 * importer of a file's start, and the detect function every importer provides for it.
 *
 * import.c owns the table of importers (one row per format: its name, its enum value, whether
 * it reads gzip and bzip2 files, its detect and import functions) and is the only file that
 * walks it; importers never call back into import.c. A new format is one new file that
 * implements the two functions plus one row in that table.
 *
 * Thread safety: detect functions are pure; they read the head and keep nothing.
 */
#ifndef GEOBATCH_IMPORT_INT_H
#define GEOBATCH_IMPORT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The start of a file as detection sees it. Exactly one of xml, object and line describes the
 * text (or none does: empty text, a JSON array whose first object does not parse, a first line
 * that does not end within the head), so an importer of delimited text never sees an XML
 * document or a JSON array, and the other way round.
 */
struct import_head {
    const unsigned char *raw; /* the file's first bytes as stored (up to 64 KiB) */
    size_t nraw;
    bool packed;      /* the file is gzip or bzip2: text is the start of its decompressed stream */
    const char *text; /* the content past a UTF-8 BOM and leading white space */
    size_t ntext;
    bool xml;         /* text starts like an XML document: "<?xml", or "<osm" without one */
    json_t *object;   /* text is a JSON array: its first object, or NULL when it does not parse */
    const char *line; /* otherwise: the first line without its line end (cut at a NUL byte),
                         or NULL when it does not end within the head */
};

/* Detect functions: true when the head is the start of a file of the row's format. Rows are
 * asked in table order and the first that says yes wins. */
bool import_osm_detect_pbf(const struct import_head *h);
bool import_osm_detect_xml(const struct import_head *h);
bool import_oa_detect(const struct import_head *h);
bool import_tiger_detect(const struct import_head *h);
bool import_geonames_detect_json(const struct import_head *h);
bool import_geonames_detect_tsv(const struct import_head *h);
bool import_geonames_detect_postal(const struct import_head *h);
bool import_postcodes_detect(const struct import_head *h);
bool import_ranges_detect(const struct import_head *h);
bool import_geojson_detect(const struct import_head *h);

#endif
