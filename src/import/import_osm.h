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

/* How pass 2 gives the ways that become records their points (docs/scale.md, "The ways' points
 * by a join"): each way as it is read, looking its nodes up in the node file; or every way's
 * references joined with the file after the passes, one range of it at a time. */
enum osm_join_mode {
    OSM_JOIN_AUTO,   /* the join when the node file is larger than map_budget */
    OSM_JOIN_ALWAYS, /* the join whenever the node file is used (not in memory mode) */
    OSM_JOIN_NEVER,  /* the lookups */
};

struct import_osm_opts {
    unsigned threads;   /* PBF blocks decoded on this many threads; 0: one per core */
    const char *tmpdir; /* where the node file and the pending objects go (anonymous files);
                           NULL: $TMPDIR, else /tmp (copied) */
    size_t map_budget;  /* bytes of the node file mapped at once; 0: OSM_NODES_MAP_BUDGET
                           (geobatch import: a quarter of --memory) */
    size_t pend_buffer; /* bytes of pending objects held before they go to a temp file; 0: 16 MiB */
    enum osm_join_mode join; /* PBF only; readosm always looks up */
    size_t memory;    /* the join's sorters hold records in memory while the process's resident set
                         stays below this, else in temporary files in tmpdir; 0: 2 GiB
                         (geobatch import: --memory) */
    bool pbf_readosm; /* read .osm.pbf with readosm, single-threaded (the reader before this
                         one, kept so that tests can compare the two) */
};

/* Use these settings for the imports that start from now on. */
void import_osm_configure(const struct import_osm_opts *opts);

#endif
