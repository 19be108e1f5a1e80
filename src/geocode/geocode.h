/*
 * geocode.h - one query in, ranked candidates out.
 *
 * Forward geocoding takes free-form text and/or structured fields, tests the hypotheses of
 * which tokens are the number, street, postcode and locality against the index, and resolves
 * the best street to an address point, an interpolated position, the street, or (when no
 * street is credible) the postcode, district, city or country. Reverse geocoding finds the
 * nearest addresses to a point.
 *
 * Thread safety: the index is read-only and every call works only in the caller's struct
 * gc_result, so any number of threads may geocode at once, each with its own result.
 *
 * Memory: no call allocates. A forward query works in the scratch space of the result it is
 * given (struct gc_scratch, about 90 KB); beyond it, either direction needs under 20 KB of
 * stack. A struct gc_result is therefore large: allocate one per thread (on the heap, not on
 * a small thread stack) and reuse it for every query; it needs no initialisation and no
 * release.
 */
#ifndef GEOBATCH_GEOCODE_H
#define GEOBATCH_GEOCODE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index;
struct index_view;
struct ix_place;

#define GC_MAX_CANDIDATES   16
#define GC_CROSS_NAME       160   /* bytes of an intersection's "A & B" (cut beyond) */
#define GC_DEFAULT_RADIUS_M 250.0 /* reverse geocoding, when prox has no radius */

enum gc_level {
    GL_NONE = 0,
    GL_COUNTRY,
    GL_STATE,
    GL_COUNTY,
    GL_CITY,
    GL_DISTRICT,
    GL_POSTCODE,
    GL_STREET,
    GL_INTERSECTION, /* where two streets meet ("Franklin St & Fulton St") */
    GL_HOUSENUMBER,
};

enum gc_type { GT_NONE = 0, GT_POINT, GT_INTERPOLATED };

enum gc_code { GC_EXACT = 0, GC_AMBIGUOUS, GC_UPHIERARCHY, GC_AMBIGUOUS_UPHIERARCHY };

/* Match quality fields, in the order of the matchQuality* output columns; -1 = not asked. */
enum gc_mq {
    MQ_COUNTRY,
    MQ_STATE,
    MQ_COUNTY,
    MQ_CITY,
    MQ_DISTRICT,
    MQ_STREET,
    MQ_HOUSENUMBER,
    MQ_BUILDING,
    MQ_POSTCODE,
    MQ__COUNT
};

/* What an index set knows beyond the member it asks (geocode_set.c), so that the member
 * weighs the query as one index over the set would: it narrows a street name, sets it aside
 * or finds it too wide by how many streets of that key the whole set holds, and reads a
 * locality as a town, or as a place near the street, when any member has such a place. */
struct gc_set_lookup {
    /* The streets of key (len bytes and a NUL, as the indexes store it) over the set, in
     * country cc or in every country (cc NULL); any number above cap when they are more. */
    uint32_t (*count)(void *ctx, const char *key, size_t len, const char *cc, uint32_t cap);
    /* fn(arg, view, place) for each place of key (as count's) in the members that have one
     * (the asking member's too), until fn returns false. */
    void (*each_place)(void *ctx, const char *key, size_t len,
                       bool (*fn)(void *arg, const struct index_view *v, const struct ix_place *pl),
                       void *arg);
    /* The country of postcode key (len bytes) in one index over the set: of the members'
     * entries of key in country cc (NULL: any; an entry of no country is in every one), the
     * smallest country, as a merged index's sorted table holds them first; into out (ISO2, ""
     * for no country). False when no member has one. */
    bool (*postcode_country)(void *ctx, const char *key, size_t len, const char *cc, char out[3]);
    /* Whether a member has a town (in country filter cc) whose name begins with the words
     * of key and has more ("Lauf" of "Lauf a.d.Pegnitz"). */
    bool (*town_begun)(void *ctx, const char *key, size_t len, const char *cc);
    void *ctx;
    /* The set's main country (ISO2; "" when none): the one with at least 80 % of all its
     * members' addresses. A member reads a query that names no country in its languages, as
     * one index over all of them does, not in those of its own main country. */
    char main_cc[3];
};

/* Query tokens [i, j) read as a street and [num_i, num_j) as its house number (-1: none). */
struct gc_tokens {
    int8_t i, j, num_i, num_j;
};

struct gc_query {
    /* Free-form text, or NULL; the other fields are structured input; all NUL-terminated,
     * NULL or "" when absent. */
    const char *search_text;
    const char *street, *house_number, *postcode, *city, *district, *county, *state, *country;
    const char *country_focus;       /* preference only (ISO2/ISO3), or NULL */
    int max_results;                 /* 1..GC_MAX_CANDIDATES */
    bool exact_only;                 /* no spelling tolerance (an index set asks so first) */
    const struct gc_set_lookup *set; /* an index set's, or NULL: the index's own */
    /* an index set asks, to weigh the answer against its other members': a house number on a
     * street this index finds unplaced (its name in other towns of the country, nothing of the
     * query placing it) is answered as found, with gc_result.unplaced set, for the set to
     * unplace over all of them */
    bool in_set;
    /* an index set asks again: the street (and number) tokens another member found in another
     * town than the query names; the rest names the locality, as in one index over both */
    const struct gc_tokens *read_as_street;
    /* asked again (geocode_forward): a code at the end of the text that is a country's and a
     * region's ("CA": Canada, California) is read the other way than the first time */
    bool code_other;
};

struct gc_candidate {
    double lat, lon;                       /* display position */
    double nav_lat, nav_lon;               /* navigation position (same as display here) */
    double tl_lat, tl_lon, br_lat, br_lon; /* map view */
    enum gc_level level;
    enum gc_type type;
    enum gc_code code;
    double relevance;         /* 0..1 (geocode_resolve.c, gc_relevance) */
    double mq[MQ__COUNT];     /* 0..1, or -1 when the field was not in the query */
    double mq_street2;        /* an intersection's second street's (mq[MQ_STREET]: its first's) */
    double words_over;        /* free text: the share of its words no field accounts for */
    double distance;          /* reverse: metres from the query point; else -1 */
    const char *house_number; /* strings point into the index or into number_buf */
    const char *street, *district, *city, *postcode, *county, *state;
    char country[3]; /* ISO2, "" when unknown */
    char number_buf[24];
    char street_buf[GC_CROSS_NAME]; /* an intersection's street: its two streets' names */
    char location_id[24];
};

/* The working memory of one forward query (tokens, hypotheses, candidates): opaque, owned by
 * the geocoder while a call runs and meaningless between calls. The geocoder checks at compile
 * time that its context fits. */
#define GC_SCRATCH_BYTES (96 * 1024)
struct gc_scratch {
    alignas(max_align_t) unsigned char bytes[GC_SCRATCH_BYTES];
};

struct gc_result {
    int n;
    /* geocode_forward: a street spelt as the query spells it explains the whole query and its
     * postcode or town confirms it (so no spelling tolerance was needed, in this index or in
     * one merged with others) */
    bool exact_confirmed;
    /* ... or it needs none for a reason that holds in an index merged with others too: such a
     * street explains a query that gives no town and no postcode this index knows
     * (exact_alone: when no other index knows one either), or exists with the house number
     * under another postcode this index knows (exact_elsewhere) */
    bool exact_alone, exact_elsewhere;
    /* gc_query.in_set: the first candidate is a street this index finds unplaced; the query
     * tokens its street explains (what one index scores it by: "Livoba Loch" explains two,
     * though the street is "Livoba Im Loch") */
    bool unplaced;
    int span_tokens;
    /* the street (and number) it found in another town than the query's and answered around
     * (i -1: none), for an index set to ask its other members with (read_as_street) */
    struct gc_tokens conflict;
    /* its postcode is a lone number read so only because it found no street ("9490 Vaduz"):
     * one index with a street for that number reads it as the house number */
    bool pc_lone;
    /* the indexes asked for the answer: 1 from geocode_forward, the member calls it took
     * from gc_set_forward (geocode_set.h) */
    int asked;
    struct gc_candidate c[GC_MAX_CANDIDATES];
    struct gc_scratch scratch; /* the geocoder's; callers neither read nor set it */
};

/* Forward geocode q. Return 0 with out->n candidates (0 means no match), or a negative code.
 * The candidates' strings point into the index or into out; they stay valid until out is
 * given to the next call. */
int geocode_forward(const struct index *ix, const struct gc_query *q, struct gc_result *out);

/* Reverse geocode: the nearest addresses within radius_m of (lat, lon), nearest first; when
 * none, the nearest street line within the radius; then the administrative area containing the
 * point; then the nearest city within 30 km. */
int geocode_reverse(const struct index *ix, double lat, double lon, double radius_m,
                    int max_results, struct gc_result *out);

/* Reverse geocode to areas: the finest administrative area containing (lat, lon), with its
 * parents as district/city/county/state; else the nearest city within 30 km. */
int geocode_reverse_areas(const struct index *ix, double lat, double lon, struct gc_result *out);

/* Names for output: "houseNumber", "pointAddress", "exact" ... */
const char *gc_level_name(enum gc_level l);
const char *gc_type_name(enum gc_type t);
const char *gc_code_name(enum gc_code c);

/* Write the locationLabel of c as its country writes addresses. */
void gc_label(const struct gc_candidate *c, char *out, size_t cap);

/* The address fields of a candidate that answers name (each writer of an answer walks its own
 * table of keys over them, in its own order). */
enum gc_field {
    GF_COUNTRY3,     /* ISO 3166-1 alpha-3 */
    GF_COUNTRY2,     /* ISO 3166-1 alpha-2 */
    GF_COUNTRY_NAME, /* in English */
    GF_STATE,
    GF_COUNTY,
    GF_CITY,
    GF_DISTRICT,
    GF_STREET,
    GF_HOUSENUMBER,
    GF_POSTCODE,
    GF_LOCATION_ID,
};
/* Field f of c, or NULL / "" when c has none. */
const char *gc_field(const struct gc_candidate *c, enum gc_field f);

/* ---- the synchronous APIs' own lookups (geocode_suggest.c) ---- */

#define GC_SUGGEST_SCAN 4096 /* streets of one prefix read at most */

struct gc_suggest {
    const char *text; /* as typed so far (a street name, perhaps cut in a word) */
    char country[3];  /* ISO2 filter, "" for any */
    bool has_at;      /* rank by distance from (lat, lon), else the shortest name first */
    double lat, lon;
    int max_results; /* 1..GC_MAX_CANDIDATES */
};

/*
 * Streets whose normalised name starts with the normalised text (or, when none does, with its
 * part before the first comma), street-level candidates: the first GC_SUGGEST_SCAN streets of
 * the prefix in key order are ranked. Relevance is the share of the name typed. Return 0 with
 * out->n candidates (0: none), GB_EPARAM for max_results out of range.
 */
int geocode_suggest(const struct index *ix, const struct gc_suggest *q, struct gc_result *out);

/* The table geocode_lookup finds ids in: the index's streets, places and postcodes sorted by
 * id. gc_ids_new takes O(n log n) time and 8 bytes per street, place and postcode (it aborts
 * when out of memory); read-only once built, so any number of threads may use it. */
struct gc_ids;
int gc_ids_new(const struct index *ix, struct gc_ids **out);
void gc_ids_free(struct gc_ids *ids);

/*
 * The result a locationId of this index names, again, as one candidate with relevance 1: a
 * street ('S'), an address point ('A'), an interpolated number ('I', asked of the geocoder
 * again), a locality ('C'), a postcode ('P'), a country ('K') or an area ('R'). ids: the
 * index's gc_ids_new table. Return 0, or GB_ENOTFOUND. O(log n) (an address point: plus the
 * addresses of its street; an area: the areas containing it).
 */
int geocode_lookup(const struct index *ix, const struct gc_ids *ids, const char *location_id,
                   struct gc_result *out);

#endif
