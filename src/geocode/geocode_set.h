/*
 * geocode_set.h - several indexes served as one: an index set.
 *
 * A user builds one index per country (or region), in parallel, on several machines if they
 * like, and serves them together; replacing one country is replacing one file. The set knows
 * each member's countries (the index's per-country counts) and routes a query that names a
 * country (the structured country field, or a country that ends the free text, read as the
 * geocoder reads it) only to the members that hold that country, and to those that hold
 * records of no country (which pass any country filter) only when the first find no address.
 * A query without a country asks first the members that may know its postcode, one of its
 * localities or one of its streets (the set's directories of every member's keys), when
 * they are at most half, and keeps their answer when no other member could change it (a
 * bound of what an answer without them could score); else, and for any other query, every
 * member (free text: first with no spelling tolerance, which a merged index would not use
 * either when one member's street as written is confirmed by the query's postcode or town),
 * and merges their answers into the one that a merged index
 * (`geobatch merge`) would give: street and house-number answers before the postcode, locality
 * and country fall-backs, the best of them first. Reverse geocoding asks every member and
 * keeps the nearest. A set of one index is that index: every call is the plain geocode_*
 * call, byte for byte. docs/scale.md ("Index sets") says where a set's answers can differ
 * from a merged index's and why.
 *
 * Thread safety: like the index, a set is read-only once open: any number of threads may
 * geocode at once, each with its own results (out and tmp). Memory: no call allocates but the
 * first one that asks several members, which makes the set's directories of keys (about 8
 * bytes a key of each member: its postcodes, places, towns and streets); a call over several
 * members needs about 100 KB of stack beyond the geocoder's (per-member notes).
 */
#ifndef GEOBATCH_GEOCODE_SET_H
#define GEOBATCH_GEOCODE_SET_H

#include "geocode/geocode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gc_set;

#define GC_SET_MAX 1024 /* member indexes */

/*
 * Open the indexes named by paths[0..n) as one set, in that order; a path that is a
 * directory stands for every *.gbx file in it, sorted by name. Each index is opened with
 * index_open_lazy() (gc_set_verify_checksums() finishes the check). Return 0 and set *out;
 * a negative code with a message naming the file in err (an unreadable or corrupt index, a
 * directory without indexes, more than GC_SET_MAX members).
 */
int gc_set_open(struct gc_set **out, const char *const *paths, size_t n, char *err, size_t errlen);
void gc_set_close(struct gc_set *s);

/* Members: how many, each one's index and path. */
size_t gc_set_count(const struct gc_set *s);
const struct index *gc_set_index(const struct gc_set *s, size_t i);
const char *gc_set_path(const struct gc_set *s, size_t i);
/* Bytes of the members' index files together. */
uint64_t gc_set_size(const struct gc_set *s);

/* Make the directories that route queries without a country (the first such query makes them
 * otherwise): a server calls it at start, off the request path. Thread-safe. */
void gc_set_warm(const struct gc_set *s);

/* Verify every member's checksums (index_verify_checksums), one after another. Return 0 or
 * the first failure, with its message in err. Read-only: safe while other threads geocode. */
int gc_set_verify_checksums(const struct gc_set *s, char *err, size_t errlen);

/* The members q is routed to, ascending, into members[0..GC_SET_MAX): their count. Every
 * member unless q names a country that some member holds. */
size_t gc_set_route(const struct gc_set *s, const struct gc_query *q, size_t *members);

/*
 * geocode_forward(), geocode_reverse() and geocode_reverse_areas() over the set. tmp is a
 * second result of the caller's (per thread, like out), the members' answers before they are
 * merged; it is not touched when one member is asked. Same returns as the single calls.
 */
int gc_set_forward(const struct gc_set *s, const struct gc_query *q, struct gc_result *out,
                   struct gc_result *tmp);
int gc_set_reverse(const struct gc_set *s, double lat, double lon, double radius_m, int max_results,
                   struct gc_result *out, struct gc_result *tmp);
int gc_set_reverse_areas(const struct gc_set *s, double lat, double lon, struct gc_result *out,
                         struct gc_result *tmp);

#endif
