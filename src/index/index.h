/*
 * index.h - the geocoding index: one immutable file, written by the builder (index_build.c)
 * and mapped read-only by index_open(), then shared by every thread without locks.
 * docs/index-format.md describes the file byte by byte.
 */
#ifndef GEOBATCH_INDEX_H
#define GEOBATCH_INDEX_H

#include "record/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* 3: string offsets in units of 2^string_shift bytes (the header's string_shift), so that
 * the string section may pass 4 GiB; source ids after the interned strings. */
/* 4: PLACE_INFO, the population and capital status of every place (additive: the sections
 * of format 3 are unchanged). */
/* 5: an address carries its source id's hash (ix_addr.id), no longer the id itself in STRINGS:
 * a quarter of a large index's bytes, and a page a query's answer no longer reads. */
/* 6: FUZZY_DIR's buckets carry the bits of their entries' hashes (ix_fuzzy_bucket), in place of
 * the filter of FUZZY a reader built at start: one read less for each variant found. */
#define INDEX_FORMAT_VERSION 6

struct index;         /* an open, mapped index (read-only, thread-safe) */
struct ix_range;      /* a stretch of a section: first, count (index_format.h) */
struct index_builder; /* collects records, then writes an index file */
struct ix_fuzzy;      /* index_format.h */

/* ---- building (single thread) ---- */

/* Start a build. Return 0 and set *out, or -errno. */
int index_builder_new(struct index_builder **out);
/* Free the builder and everything it holds (its temporary files vanish with it). */
void index_builder_free(struct index_builder *b);

/* The memory the builder may use (geobatch import --memory): its tables, its sort buffers and
 * the sections it writes, counted together with what the process held when the builder was
 * made. Past it, the records are sorted in runs in temporary files and merged, which gives the
 * same index byte for byte. What stays in memory whatever the budget is the builder's tables
 * of streets, interned strings, places and postcodes (about 260 bytes a street). */
#define INDEX_DEFAULT_MEMORY (2ull << 30)
void index_builder_set_memory(struct index_builder *b, uint64_t bytes);

/* Where the temporary files go (geobatch import --tmp; default $TMPDIR or /tmp). They are
 * anonymous (O_TMPFILE, else unlinked as soon as created): nothing is left there when the build
 * ends, however it ends. Return 0, or -errno when no file can be made in dir. */
int index_builder_set_tmpdir(struct index_builder *b, const char *dir);

/* Why the build stopped (a limit passed, a temporary file that could not be written), or NULL.
 * Once it has, the sink refuses every record with that error and index_builder_write() returns
 * it. */
const char *index_builder_error(const struct index_builder *b);

/* The sink that importers write into (valid while b lives). */
struct rec_sink index_builder_sink(struct index_builder *b);

/* Record one input file (name, size, mtime, format) in the header's source list; records
 * emitted from now on are counted for it. Return 0 or -errno when it cannot be stat'ed. */
int index_builder_add_source(struct index_builder *b, const char *path, int format);

/*
 * Write the index to path: first to "<path>.tmp.<pid>", fsync, then rename, so an interrupted
 * build never leaves a partial index or damages an existing one. Deterministic: the same
 * records in the same order give a byte-identical file. Return 0 or a negative code.
 */
/* The most a count, a string offset or a reference in an index may be: they are 32-bit, and
 * 0xFFFFFFFF means "none". A string offset counts units of 1, 2, 4 or 8 bytes (the smallest
 * that fits: strings may pass 4 GiB, up to 32 GiB). The builder refuses (GB_ELIMIT, with a
 * message naming what passed it) to collect or write an index that would need more, never a
 * silently wrapped one. */
#define INDEX_MAX_REF 0xFFFFFFFEull

/* Lower the builder's limit (tests: a string section that needs units of 2, 4 or 8 bytes, and
 * the refusals, without building a 4 GiB index; make test-large builds one). */
void index_builder_set_limit(struct index_builder *b, uint64_t limit);

int index_builder_write(struct index_builder *b, const char *path, char *err, size_t errlen);

/*
 * Merge the indexes inputs[0..n) through builder b (new, with its memory and temporary
 * directory set) into one index at out (temporary file, fsync, rename): the index `geobatch
 * import` builds from all their inputs in that order (byte-identical when no street is in two
 * inputs, e.g. one index per country; index_merge.c says why). Every input is verified whole
 * first. Return 0, or a negative code with a message naming the input in err: GB_EVERSION for
 * an index of another format or normaliser version, GB_EPARAM when two inputs hold the same
 * source file, GB_ELIMIT when the result passes the 32-bit limits, -errno when a temporary
 * file cannot be written. The caller frees b.
 */
int index_merge(struct index_builder *b, const char *out, const char *const *inputs, size_t n,
                char *err, size_t errlen);

/* ---- reading ---- */

/*
 * Open the index at path read-only and map it. Every section's bounds and checksum are
 * verified. Return 0 and set *out; -errno if unreadable; GB_ECORRUPT (with a message in err)
 * for a truncated or corrupted file; GB_EVERSION for another format or normaliser version.
 */
int index_open(struct index **out, const char *path, char *err, size_t errlen);

/*
 * index_open() without the sections' checksums: the header, the section table and every
 * reference stored in the tables are still verified (so that no reader can go out of bounds,
 * whatever the bytes), but the sections are not read whole for their CRCs, which is most of
 * the cost of opening a big index. Call index_verify_checksums() (from any thread, while the
 * index is in use) to finish the check; `geobatch check` opens with index_open().
 */
int index_open_lazy(struct index **out, const char *path, char *err, size_t errlen);

/* Verify every section's CRC-32. Return 0, or GB_ECORRUPT with a message naming the file
 * and the section. Read-only: safe while other threads geocode. */
int index_verify_checksums(const struct index *ix, char *err, size_t errlen);

/* Build now the caches that forward queries otherwise build on first use (the filters in
 * front of the key tables and of FUZZY, the state keys once norm_init() has run: tens of
 * milliseconds and a few bytes an entry at country size), so that no query waits for them.
 * Any thread, any time; running out of memory leaves a cache to be tried again later. */
void index_warm(const struct index *ix);

/* How the kernel maps ix now (from /proc/self/smaps): *resident bytes of the file in memory,
 * *huge of them in 2 MiB pages. At country size a query's reads are scattered over the whole
 * file, and 4 KiB pages cost a fifth of the free-form speed at 18.5 M addresses; which size
 * the kernel gives is decided when the file's pages enter the page cache (docs/scale.md).
 * Return 0, or a negative code where the kernel does not say (GB_ENOTFOUND). */
int index_pages(const struct index *ix, size_t *resident, size_t *huge);

/* From this size up, opening an index whose pages the cache holds mostly in 4 KiB pieces (a copy
 * made with cp, pages read back with read(2)) drops them from the cache first, so that they are
 * read again in 2 MiB pages (base/fmap.h, fmap_open); index_recached() says whether it did. */
#define INDEX_RECACHE_MIN ((size_t)256 << 20)
bool index_recached(const struct index *ix);

void index_close(struct index *ix);

/* Bytes of the index file (mapped). */
uint64_t index_size(const struct index *ix);

/* The identity of the index file: "<header CRC-32>-<file size>" in hex. The header holds every
 * section's CRC, so two files with one identity hold the same bytes (as far as CRC-32 tells).
 * Writes at most 26 bytes with the NUL. */
void index_identity(const struct index *ix, char *out, size_t cap);

/* Counts per kind, for `geobatch check` and /metrics. */
struct index_counts {
    uint64_t addresses, streets, interps, places, postcodes, admins;
};
void index_counts(const struct index *ix, struct index_counts *out);

/* Print what `geobatch check` shows, summary first: the header line, the counts per kind, the
 * number of countries and those with addresses (most first, at most INDEX_DESCRIBE_TOP), the
 * sources; then with verbose one line per country. format_name names a source's format (the CLI
 * passes import_format_name); NULL prints its number. */
#define INDEX_DESCRIBE_TOP 20
void index_describe(const struct index *ix, FILE *fp, const char *(*format_name)(int format),
                    bool verbose);

/* ---- lookups (any thread, no locks, no allocation) ----
 *
 * Keys are norm_key()/norm_postcode() output, key[0..len) without a NUL. The tables are sorted
 * by key, so the entries that share a key follow the first one: callers walk on while the key
 * stays the same. How the tables are probed is the index's business (index_format.h). */

/* The first street whose key is key, or IX_NONE. */
uint32_t index_street_first(const struct index *ix, const char *key, size_t len);

/* Ask for the line index_street_run_end(first) reads first (a hint: no effect on answers). */
void index_street_run_prefetch(const struct index *ix, uint32_t first);
/* One past the last street of the run of equal keys that starts at first (< n_streets): the
 * length stored on its first street (IXS_RUN_SHIFT), else a search, O(log run). */
uint32_t index_street_run_end(const struct index *ix, uint32_t first);

/* The streets that have postcode entry's key (on an address, an interpolation or as the
 * street's postcode), ascending, from the first whose index is at least from: *n of them from
 * the returned pointer. O(log n). */
const uint32_t *index_postcode_streets(const struct index *ix, uint32_t entry, uint32_t from,
                                       size_t *n);
/* In interleaved geocoding (base/co.h): ask for the lines that the searches of postcode
 * entry's streets read first, and step aside while they arrive. Nothing otherwise. */
void index_postcode_streets_prefetch(const struct index *ix, uint32_t entry);

/* Key tables of at least slots slots (by default 2^18: beyond the caches) are probed through
 * a copy with their keys inline (index.c, struct key_cache); 0: every one. For tests, the path
 * a country's index takes on small data; set before an index's first lookup. */
void index_key_cache_min(size_t slots);

/* index_street_first() for n keys at once: first[i] for key[i] of len[i] bytes, and (hash not
 * NULL) hash[i] its ix_key_hash(). The same answers as n calls, with the lookups' memory reads
 * overlapped. */
void index_street_first_many(const struct index *ix, const char *const *key, const size_t *len,
                             size_t n, uint32_t *first, uint32_t *hash);

/* The first place whose key is key, or IX_NONE. */
uint32_t index_place_first(const struct index *ix, const char *key, size_t len);

/* The first place (street) whose key is key or sorts after it (byte order, as PLACES and
 * STREETS are sorted): the first of those whose keys begin with key, when there are any;
 * n_places (n_streets) when none sorts after. O(log places). */
uint32_t index_place_from(const struct index *ix, const char *key, size_t len);
uint32_t index_street_from(const struct index *ix, const char *key, size_t len);

/* Whether some place's key may begin with key's first four bytes: false only when none does
 * (a filter, as index_town_prefix_maybe; false for a key of fewer bytes). O(1). */
bool index_place_prefix_maybe(const struct index *ix, const char *key, size_t len);

/* The city-rank place nearest to (lat, lon) within radius_m (at most 100 km), under its own
 * name, and its distance in metres in *d; IX_NONE when none (equal distances: the lower
 * index). Work: the grid cells the radius covers; the grid (8 bytes a city) is built on the
 * first call of this or index_areas_near(), once, whichever thread makes it. */
uint32_t index_city_nearest(const struct index *ix, double lat, double lon, double radius_m,
                            double *d);

/* The administrative areas that may contain (lat, lon), as two lists of area indexes: *n at
 * the returned pointer (the areas whose bounding box touches the point's grid cell) and *nbig
 * at *big (areas too big for the grid: countries). Callers check the boxes and rings. Work:
 * one binary search; the grid is built with the towns' one. */
const uint32_t *index_areas_near(const struct index *ix, double lat, double lon, size_t *n,
                                 const uint32_t **big, size_t *nbig);

/* How important place entry p is among places of its name: log10(1 + population) plus 1 for
 * a national capital, 0.5 for a state's seat, 0.2 for a county's, less 1 when the entry is
 * under another of the place's names (PLACE_INFO); 0 when nothing is known, else at least 0.01.
 * A city of 2 M people scores 6.3, one of 25,000 4.4. */
double index_place_importance(const struct index *ix, uint32_t p);

/* Whether some street may have key (len bytes) as its city key: false when none has, true
 * when one may (a filter of the keys, as in front of the key tables: never false for a key
 * that is there, and true for about one in ten of those that are not). O(1). */
bool index_city_key_maybe(const struct index *ix, const char *key, size_t len);

/* Whether some street may have key as its city or district key; whether some such key may
 * begin with key's first four bytes (false for a key of fewer). Filters as above: false only
 * when none has. O(1). */
bool index_town_key_maybe(const struct index *ix, const char *key, size_t len);
bool index_town_prefix_maybe(const struct index *ix, const char *key, size_t len);

/* Whether key may be the norm_key(), in the languages of country cc (ISO2), of the state of a
 * street of that country (or of unknown country): false only when it is none's. The keys are
 * made on the first call after norm_init() (before it, true). O(1) after. */
bool index_state_key_maybe(const struct index *ix, const char cc[2], const char *key, size_t len);

/* Call fn(key, arg) once for each distinct key of ix's streets' towns (their city and
 * district keys). Return false when memory ran out: then not every key was given. */
bool index_each_town_key(const struct index *ix, void (*fn)(const char *key, void *arg), void *arg);

/*
 * The streets of [lo, hi) (a run of one street name, whose key has ix_key_hash() key_hash, or
 * a stretch of it) whose city key is town (town_hash its ix_key_hash()): as the stretches of
 * them (one a country) that start lowest, at most cap, ascending, in out; return how many.
 * When that is cap there may be more: ask again from the last one's end. O(1): a table of the
 * streets' (key, country, city key) stretches built on first use (13 to 26 bytes a street),
 * where a pair the index does not have is one slot's read, as in a filter.
 */
size_t index_street_town(const struct index *ix, uint32_t lo, uint32_t hi, uint32_t key_hash,
                         const char *town, uint32_t town_hash, struct ix_range *out, size_t cap);

/* The first postcode whose key is key, or IX_NONE. */
uint32_t index_postcode_first(const struct index *ix, const char *key, size_t len);

/* The FUZZY entries for key, a street key or a deletion variant of one: *n entries from the
 * returned one (none: *n = 0). Each names the first street of a key that is key or has key as
 * one of its one-deletion variants, or (rarely) one whose variant merely hashes alike, so
 * callers compare the street's key before they trust it. */
const struct ix_fuzzy *index_fuzzy_find(const struct index *ix, const char *key, size_t len,
                                        size_t *n);

/* index_fuzzy_find() for n keys given by their ix_key_hash(): the entries of hash[i] are
 * count[i] from first[i]. The same answers as n calls, but the n lookups' memory reads overlap
 * (each is a read of the directory and one of the section, which at country size miss the
 * cache): a typo query probes dozens of variants. */
void index_fuzzy_find_hashes(const struct index *ix, const uint32_t *hash, size_t n,
                             const struct ix_fuzzy **first, size_t *count);

#endif
