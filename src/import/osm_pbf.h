/*
 * osm_pbf.h - an OpenStreetMap .osm.pbf reader: the file's blocks framed, decoded on worker
 * threads, handed to one consumer in the order it asks for.
 *
 * A PBF file is a sequence of blocks: a 4-byte big-endian length, a BlobHeader (type
 * "OSMHeader" or "OSMData", datasize), and a Blob (raw or zlib_data). Each OSMData blob holds a
 * PrimitiveBlock: a string table, granularity and offsets, and primitive groups of DenseNodes,
 * Nodes, Ways or Relations. This reader knows nothing of geocoding: it gives the objects with
 * their tags as C strings, the way readosm does, so that one set of handlers serves both.
 *
 * Every size read from the file has a limit (OSM_PBF_MAX_*); a file that passes one, or is
 * otherwise corrupt, is an error naming the block and its byte offset, never a crash or an
 * unbounded allocation. Blobs compressed with lzma, bzip2, lz4 or zstd are refused by name.
 *
 * Thread safety: osm_pbf_open(), osm_pbf_run() and osm_pbf_close() are called from one thread;
 * osm_pbf_run() starts its workers and joins them before it returns, and calls the consumer
 * only on the calling thread. osm_pbf_block_decode() may run on any thread with its own block
 * and decoder.
 */
#ifndef GEOBATCH_OSM_PBF_H
#define GEOBATCH_OSM_PBF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSM_PBF_MAX_HEADER  (64 * 1024)        /* BlobHeader: the format's hard limit */
#define OSM_PBF_MAX_BLOB    (32 * 1024 * 1024) /* Blob, stored or inflated: the format's limit */
#define OSM_PBF_MAX_BLOCKS  (16u << 20)        /* blocks in a file (the planet has about 1.3 M) */
#define OSM_PBF_MAX_ITEMS   (8u << 20)         /* objects + tags + refs + members in one block */
#define OSM_PBF_MAX_THREADS 64

/* Kinds of primitive group (bits). */
enum { OSM_PBF_NODES = 1, OSM_PBF_WAYS = 2, OSM_PBF_RELATIONS = 4 };

/* Member types as in the format (0, 1, 2); anything else is OSM_MEMBER_OTHER. */
enum { OSM_MEMBER_NODE = 0, OSM_MEMBER_WAY = 1, OSM_MEMBER_RELATION = 2, OSM_MEMBER_OTHER = -1 };

struct osm_tag {
    const char *key, *value;
};

struct osm_node {
    int64_t id;
    double latitude, longitude; /* degrees: (offset + granularity * stored) / 1e9 */
    int32_t lat7, lon7;         /* lround(degrees * 1e7); 0 when not within +-90, +-180 */
    int tag_count;
    const struct osm_tag *tags;
    unsigned mark; /* the caller's: 0 as decoded; osm_pbf_run()'s prep may set it */
};

/* Set n->lat7, n->lon7 from n->latitude, n->longitude. */
void osm_node_fix7(struct osm_node *n);

struct osm_way {
    int64_t id;
    int node_ref_count;
    const int64_t *node_refs;
    int tag_count;
    const struct osm_tag *tags;
    unsigned mark; /* the caller's: 0 as decoded; osm_pbf_run()'s prep may set it */
};

struct osm_member {
    int member_type; /* OSM_MEMBER_* */
    int64_t id;
    const char *role;
};

struct osm_relation {
    int64_t id;
    int member_count;
    const struct osm_member *members;
    int tag_count;
    const struct osm_tag *tags;
};

/* A run of objects of one kind, in file order. */
struct osm_pbf_group {
    unsigned kind;       /* OSM_PBF_NODES, _WAYS or _RELATIONS */
    size_t first, count; /* into the block's nodes, ways or relations */
};

/*
 * One decoded OSMData block. Groups of the kinds that were asked for are decoded, in file order
 * (groups[]); the kinds of every group present, decoded or not, are in kinds. Everything points
 * into storage the block owns, valid until the block is decoded again or released.
 */
struct osm_pbf_block {
    size_t index;   /* the block's number among the file's data blocks */
    unsigned kinds; /* OSM_PBF_* bits of the groups present */
    struct osm_pbf_group *groups;
    size_t ngroup;
    struct osm_node *nodes;
    size_t nnode;
    struct osm_way *ways;
    size_t nway;
    struct osm_relation *rels;
    size_t nrel;
    struct osm_pbf_store *store; /* buffers, reused from one decode to the next */
    void *caller;                /* the preparer's own, kept with the block's buffers, */
    void (*caller_free)(void *); /* and freed with them by this (when not NULL) */
};

struct osm_pbf; /* an open file */

/*
 * Open the PBF file at path, frame every block (read each BlobHeader, check its sizes against
 * the limits and the file's end) and read the OSMHeader block (its required features must be
 * ones this reader supports: OsmSchema-V0.6, DenseNodes). On success return 0 and set *out;
 * release it with osm_pbf_close(). Return -errno when unreadable, GB_ECORRUPT or GB_EFORMAT
 * (unsupported feature or compression) with err saying "osm: <path>: ...".
 */
int osm_pbf_open(struct osm_pbf **out, const char *path, char *err, size_t errlen);
/* The number of data blocks. */
size_t osm_pbf_nblocks(const struct osm_pbf *f);
/* Close the file (and free the blocks osm_pbf_run() keeps from one run to the next); NULL is
 * fine. */
void osm_pbf_close(struct osm_pbf *f);

/* A decoder's state: a zlib stream (one per thread). */
struct osm_pbf_decoder;
struct osm_pbf_decoder *osm_pbf_decoder_new(void);
void osm_pbf_decoder_free(struct osm_pbf_decoder *d);

/*
 * Decode data block i of f into b (its storage is reused; zero b before the first use), with the
 * groups of the kinds in want. Return 0, -errno on a read error, GB_ECORRUPT or GB_EFORMAT with
 * err naming the block.
 */
int osm_pbf_block_decode(const struct osm_pbf *f, struct osm_pbf_decoder *d, size_t i,
                         unsigned want, struct osm_pbf_block *b, char *err, size_t errlen);
/* Decode a PrimitiveBlock held in memory (the inflated blob: for tests and the fuzzer). */
int osm_pbf_block_parse(const unsigned char *data, size_t n, unsigned want, struct osm_pbf_block *b,
                        char *err, size_t errlen);
/* Free a block's storage; the block is empty. */
void osm_pbf_block_release(struct osm_pbf_block *b);

/* The consumer: 0 to go on, 1 to stop (osm_pbf_run() then returns 0), or a negative code. */
typedef int (*osm_pbf_block_fn)(void *ctx, const struct osm_pbf_block *b);
/* The preparer: sets the objects' marks of a block just decoded (and may keep what it works
 * out in b->caller), on the thread that decoded it, worker (0 to threads - 1; 0 when there is
 * one thread), so that the consumer's thread has less to do. It may read ctx but not change
 * it: several run at once, beside the consumer. */
typedef void (*osm_pbf_prep_fn)(const void *ctx, unsigned worker, struct osm_pbf_block *b);

/*
 * Decode the data blocks order[0..n) of f (groups of the kinds in want) on threads threads:
 * threads - 1 workers and the calling thread, which decodes the next block not yet taken
 * whenever the one it is to hand on is not ready (1: the calling thread alone); call prep
 * (unless NULL) with each where it was decoded, and fn with each block, in the order of
 * order[], on the calling thread: the consumer sees the same sequence whatever the number of
 * threads. At most threads + 2 blocks are decoded ahead, into blocks whose buffers f keeps for
 * its next run (the preparer's b->caller is freed at the end of each). Return 0 when fn saw every
 * block or asked to stop, fn's negative code, or the first error (in order) of a block, with err
 * written.
 */
int osm_pbf_run(struct osm_pbf *f, const size_t *order, size_t n, unsigned want, unsigned threads,
                osm_pbf_prep_fn prep, osm_pbf_block_fn fn, void *ctx, char *err, size_t errlen);

#endif
