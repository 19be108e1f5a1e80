/*
 * osm_nodes.h - the node locations of one OSM import, looked up by id.
 *
 * While ids arrive in ascending order (every sorted extract: all nodes first, by id) the
 * locations go to a file in a temp dir, 341 to a 4 KiB block (id deltas and 1e-7 degree
 * coordinates), and only each block's first id stays in memory: 0.02 bytes of RAM a node. The
 * file is memory-mapped for lookups, and the pages a lookup maps are counted: past the budget
 * they are unmapped again (they stay in the page cache, which the kernel may drop), so the
 * import's resident memory does not grow with the file. The file is unlinked as soon as it is
 * made; nothing is left behind, even after a crash. When an id arrives out of order the store
 * moves everything into memory (16 bytes a node, sorted when first looked up) and carries on:
 * small unsorted files still import, as before.
 *
 * Thread safety: one store belongs to one import and is used from one thread, but for its
 * readers: once osm_nodes_seal() has put every location in the file, readers made on other
 * threads (osm_nodes_reader_new(); they share one mapping of the file and its budget) may look
 * up nodes beside the store's own thread until the next osm_nodes_add(), which the caller must
 * not make while a reader exists (it unseals the store and grows the file).
 */
#ifndef GEOBATCH_OSM_NODES_H
#define GEOBATCH_OSM_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSM_NODES_MAP_BUDGET ((size_t)64 << 20) /* default: bytes of the file mapped at once */

struct osm_nodes;

/* What a store holds and costs, for the import's log line and the benchmarks. */
struct osm_nodes_stats {
    size_t nodes;      /* locations added */
    size_t ram_bytes;  /* heap held for them (index, write buffer; the array in memory mode) */
    size_t file_bytes; /* written to the temp file */
    size_t unmaps;     /* times the mapped pages passed the budget and were dropped */
    bool in_memory;    /* ids came out of order: the locations are in memory */
};

/*
 * A new, empty store whose file (made on the first full block) goes to tmpdir (NULL: $TMPDIR,
 * else /tmp), mapping at most map_budget bytes of it at once (0: OSM_NODES_MAP_BUDGET).
 * Never fails; release it with osm_nodes_free().
 */
struct osm_nodes *osm_nodes_new(const char *tmpdir, size_t map_budget);
/* Free the store and close its file; NULL is fine. */
void osm_nodes_free(struct osm_nodes *s);

/* Add node id at lat, lon (degrees * 1e7). Return 0, or -errno when the temp file cannot be
 * made or written (osm_nodes_error() says why). */
int osm_nodes_add(struct osm_nodes *s, int64_t id, int32_t lat, int32_t lon);
/* Why the last failed osm_nodes_add() failed ("cannot write the node file in DIR: ..."). */
const char *osm_nodes_error(const struct osm_nodes *s);
/* The location of node id; false when it was not added. */
bool osm_nodes_get(struct osm_nodes *s, int64_t id, int32_t *lat, int32_t *lon);

void osm_nodes_stats(const struct osm_nodes *s, struct osm_nodes_stats *out);

/* The stored ids cut into ranges of the file of at most bytes each (a block at least), in order:
 * *n ranges (1 in memory mode), range i + 1 starting at id bounds[i] (n - 1 of them, malloc'd;
 * NULL when n is 1). A join looks up one range's nodes at a time, within the mapped budget. */
int64_t *osm_nodes_split(const struct osm_nodes *s, size_t bytes, size_t *n);

/* Write every location to the file (the block being filled is closed short), so that readers
 * can look them up. Return 0; GB_ESTATE in memory mode (no readers then); or -errno when the
 * file cannot be written (osm_nodes_error()). */
int osm_nodes_seal(struct osm_nodes *s);

struct osm_nodes_reader;
/* A reader of sealed s for another thread; NULL when s is not sealed. The readers of s share one
 * mapping of the file, at most map_budget bytes of it at once (0: OSM_NODES_MAP_BUDGET; the
 * budget of the reader that made it, while any of them exists). Free it before s. */
struct osm_nodes_reader *osm_nodes_reader_new(struct osm_nodes *s, size_t map_budget);
void osm_nodes_reader_free(struct osm_nodes_reader *r);
/* osm_nodes_get() through r: the same answer, while s stays sealed. */
bool osm_nodes_reader_get(struct osm_nodes_reader *r, int64_t id, int32_t *lat, int32_t *lon);

#endif
