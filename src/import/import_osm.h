/*
 * import_osm.h - the OSM importer's settings (import_osm() itself is in import.h, a row of the
 * importers' table).
 *
 * Thread safety: call import_osm_configure() before any import starts (the CLI does, once);
 * each import_osm() call copies the settings when it begins.
 */
#ifndef GEOBATCH_IMPORT_OSM_H
#define GEOBATCH_IMPORT_OSM_H

#include <stdbool.h>
#include <stddef.h>

struct import_osm_opts {
    unsigned threads;   /* PBF blocks decoded on this many threads; 0: one per core */
    const char *tmpdir; /* where the node file and the pending objects go (anonymous files);
                           NULL: $TMPDIR, else /tmp (copied) */
    size_t map_budget;  /* bytes of the node file mapped at once; 0: OSM_NODES_MAP_BUDGET
                           (geobatch import: a quarter of --memory) */
    size_t pend_buffer; /* bytes of pending objects held before they go to a temp file; 0: 16 MiB */
    bool pbf_readosm;   /* read .osm.pbf with readosm, single-threaded (the reader before this
                           one, kept so that tests can compare the two) */
};

/* Use these settings for the imports that start from now on. */
void import_osm_configure(const struct import_osm_opts *opts);

#endif
