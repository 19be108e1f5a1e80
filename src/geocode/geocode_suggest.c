/*
 * geocode_suggest.c - the two lookups of the synchronous APIs that are not a query through
 * the geocoder: street names by prefix (results while the user is still typing) and one result
 * looked up again by its locationId (see geocode.h).
 *
 * DESIGN. The STREETS table is sorted by key (strcmp order, then country and city key), so the
 * streets whose key starts with a prefix are one contiguous run: a binary search finds its
 * start, and the run is read up to GC_SUGGEST_SCAN entries (a bounded cost at any index size:
 * a one-letter prefix of a country reads that many, never the country). A locationId names a
 * result by stable ids (hashes of content, not positions), which no table of the index is sorted
 * by: gc_ids_new sorts the streets, places and postcodes by id once (O(n log n), 8 bytes an
 * entry), and a lookup is a binary search in it, O(log n), plus the addresses of one street for
 * an address point. Areas ('R', 'K') are numbered by their place in the index: O(1).
 *
 * Thread safety and memory: as geocode.h says; nothing allocates but gc_ids_new.
 */
#include "geocode/geocode.h"
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "record/record.h"
#include "record/geo.h"
#include "text/norm.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void street_out(const struct index_view *v, const struct ix_street *s,
                       struct gc_candidate *o)
{
    gc_init_out(o);
    gc_fill_from_street(v, o, s);
    o->lat = o->nav_lat = fix2deg(s->lat);
    o->lon = o->nav_lon = fix2deg(s->lon);
    o->level = GL_STREET;
    o->type = GT_NONE;
    o->code = GC_EXACT;
    o->tl_lat = fix2deg(s->max_lat);
    o->tl_lon = fix2deg(s->min_lon);
    o->br_lat = fix2deg(s->min_lat);
    o->br_lon = fix2deg(s->max_lon);
    if (s->max_lat == s->min_lat && s->max_lon == s->min_lon)
        gc_set_view(o, 100);
    gc_location_id(o->location_id, sizeof(o->location_id), 'S', s->id, 0);
}

/* Streets of one prefix key into out (best first by rank: distance from the focus, else the
 * shortest name); return how many. */
static int suggest_key(const struct index *ix, const struct gc_suggest *q, const char *key,
                       size_t len, struct gc_result *out)
{
    const struct index_view *v = index_view(ix);
    double rank[GC_MAX_CANDIDATES];
    int n = 0;
    size_t i = index_street_from(ix, key, len);
    for (size_t seen = 0; i < v->n_streets && seen < GC_SUGGEST_SCAN; i++, seen++) {
        const struct ix_street *s = &v->streets[i];
        const char *k = ix_str(v, s->key);
        if (strncmp(k, key, len) != 0)
            break;
        if (q->country[0] && s->country[0] &&
            (s->country[0] != q->country[0] || s->country[1] != q->country[1]))
            continue;
        double r = q->has_at ? geo_distance_m(q->lat, q->lon, fix2deg(s->lat), fix2deg(s->lon))
                             : (double)strlen(k);
        /* a street and its alias ("Massachusetts Ave", "Mass Ave") are one street, one id:
         * suggested once, at the better rank */
        char id[sizeof(out->c[0].location_id)];
        gc_location_id(id, sizeof(id), 'S', s->id, 0);
        int same = -1;
        for (int j = 0; j < n && same < 0; j++)
            if (strcmp(out->c[j].location_id, id) == 0)
                same = j;
        if (same >= 0 && rank[same] <= r)
            continue;
        if (same >= 0) {
            memmove(&out->c[same], &out->c[same + 1], (size_t)(n - same - 1) * sizeof(out->c[0]));
            memmove(&rank[same], &rank[same + 1], (size_t)(n - same - 1) * sizeof(rank[0]));
            n--;
        }
        int at = n < q->max_results ? n : q->max_results;
        while (at > 0 && rank[at - 1] > r)
            at--;
        if (at >= q->max_results)
            continue;
        int last = n < q->max_results ? n : q->max_results - 1;
        memmove(&out->c[at + 1], &out->c[at], (size_t)(last - at) * sizeof(out->c[0]));
        memmove(&rank[at + 1], &rank[at], (size_t)(last - at) * sizeof(rank[0]));
        struct gc_candidate *o = &out->c[at];
        street_out(v, s, o);
        o->distance = q->has_at ? r : -1;
        o->mq[MQ_STREET] = (double)len / (double)strlen(k);
        o->relevance = o->mq[MQ_STREET];
        rank[at] = r;
        if (n < q->max_results)
            n++;
    }
    return n;
}

/* Is byte c part of a word (a letter or digit, or any byte of a multi-byte character)? */
static bool word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/*
 * The key of text[0..len) as typed so far: when it ends inside a word, that word is folded but
 * not expanded ("Vorarlberger St" must not read "St" as "Street"), and it is joined to the key
 * of the words before it. Return its length, or 0 when there is none (or it is the full key).
 */
static int typed_key(const char *text, size_t len, const char *cc, char *key, size_t cap)
{
    if (len == 0 || !word_byte((unsigned char)text[len - 1]))
        return 0;
    size_t start = len;
    while (start > 0 && word_byte((unsigned char)text[start - 1]))
        start--;
    int n = 0;
    if (start > 0) {
        n = norm_key(text, start, cc, key, cap);
        if (n < 0)
            return 0;
    }
    char last[NORM_MAX];
    int m = norm_fold(text + start, len - start, last, sizeof(last));
    if (m <= 0)
        return 0;
    if (n > 0 && isdigit((unsigned char)key[n - 1]) && isdigit((unsigned char)last[0])) {
        if ((size_t)n + 1 >= cap) /* two numbers keep their space in a key (norm.h) */
            return 0;
        key[n++] = ' ';
    }
    for (int i = 0; i < m; i++)
        if (last[i] != ' ') {
            if ((size_t)n + 1 >= cap)
                return 0;
            key[n++] = last[i];
        }
    key[n] = '\0';
    return n;
}

int geocode_suggest(const struct index *ix, const struct gc_suggest *q, struct gc_result *out)
{
    out->n = 0;
    if (q->max_results < 1 || q->max_results > GC_MAX_CANDIDATES || !q->text)
        return GB_EPARAM;
    /* The whole text as typed, then its part before the first comma ("Städtle 1, Vad"); each
     * first with its last word as typed, then as the normaliser expands it. */
    const char *t = q->text;
    const char *cc = q->country[0] ? q->country : NULL;
    size_t lens[2] = {strlen(t), strcspn(t, ",")};
    for (int pass = 0; pass < 4 && out->n == 0; pass++) {
        size_t len = lens[pass / 2];
        if (pass >= 2 && lens[1] == lens[0])
            break;
        char key[NORM_MAX + 1];
        int n = pass % 2 == 0 ? typed_key(t, len, cc, key, sizeof(key))
                              : norm_key(t, len, cc, key, sizeof(key));
        if (n <= 0)
            continue;
        out->n = suggest_key(ix, q, key, (size_t)n, out);
    }
    for (int i = 0; i < out->n; i++)
        gc_postcode_town_out(ix, &out->c[i]);
    return 0;
}

/* ---- lookup by locationId ---- */

/* An id and the position of what it names, sorted by id then position. */
struct id_pos {
    uint32_t id, pos;
};

struct gc_ids {
    struct id_pos *streets, *places, *postcodes;
    size_t n_streets, n_places, n_postcodes;
};

static int cmp_id_pos(const void *a, const void *b)
{
    const struct id_pos *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static struct id_pos *ids_sorted(size_t n, const void *base, size_t size, size_t id_off,
                                 const struct index_view *v, bool key_hash)
{
    struct id_pos *t = xmallocarray(n ? n : 1, sizeof(*t));
    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = (const unsigned char *)base + i * size;
        uint32_t id;
        memcpy(&id, e + id_off, sizeof(id));
        if (key_hash) { /* a postcode's id: the hash of its key string */
            const char *k = ix_str(v, id);
            id = hash_fnv1a(k, strlen(k));
        }
        t[i] = (struct id_pos){id, (uint32_t)i};
    }
    qsort(t, n, sizeof(*t), cmp_id_pos);
    return t;
}

int gc_ids_new(const struct index *ix, struct gc_ids **out)
{
    const struct index_view *v = index_view(ix);
    struct gc_ids *ids = xcalloc(1, sizeof(*ids));
    ids->n_streets = v->n_streets;
    ids->n_places = v->n_places;
    ids->n_postcodes = v->n_postcodes;
    ids->streets = ids_sorted(v->n_streets, v->streets, sizeof(v->streets[0]),
                              offsetof(struct ix_street, id), v, false);
    ids->places = ids_sorted(v->n_places, v->places, sizeof(v->places[0]),
                             offsetof(struct ix_place, id), v, false);
    ids->postcodes = ids_sorted(v->n_postcodes, v->postcodes, sizeof(v->postcodes[0]),
                                offsetof(struct ix_postcode, key), v, true);
    *out = ids;
    return 0;
}

void gc_ids_free(struct gc_ids *ids)
{
    if (!ids)
        return;
    free(ids->streets);
    free(ids->places);
    free(ids->postcodes);
    free(ids);
}

/* The first entry of t[0..n) with id, or n. */
static size_t ids_first(const struct id_pos *t, size_t n, uint32_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && t[lo].id == id ? lo : n;
}

static void country_out(const struct ix_admin *a, struct gc_candidate *o)
{
    gc_init_out(o);
    o->lat = o->nav_lat = fix2deg(a->lat);
    o->lon = o->nav_lon = fix2deg(a->lon);
    o->level = GL_COUNTRY;
    memcpy(o->country, a->country, 2);
    o->tl_lat = fix2deg(a->max_lat);
    o->tl_lon = fix2deg(a->min_lon);
    o->br_lat = fix2deg(a->min_lat);
    o->br_lon = fix2deg(a->max_lon);
}

/* Address b of street s (its source id's hash, or its position when it has none). */
static bool address_out(const struct index_view *v, const struct ix_street *s, uint32_t b,
                        struct gc_candidate *o)
{
    for (uint32_t k = s->addr_first; k < s->addr_first + s->addr_count; k++) {
        const struct ix_addr *ad = &v->addrs[k];
        if (ad->id != b)
            continue;
        street_out(v, s, o);
        o->lat = o->nav_lat = fix2deg(ad->lat);
        o->lon = o->nav_lon = fix2deg(ad->lon);
        o->level = GL_HOUSENUMBER;
        o->type = GT_POINT;
        o->house_number = ix_str(v, ad->raw);
        if (*ix_str(v, ad->postcode))
            o->postcode = ix_str(v, ad->postcode);
        gc_set_view(o, 50);
        return true;
    }
    return false;
}

/* Number b of street s, interpolated: the geocoder asked for it again (structured: the
 * street, number, city and country), and its answer with this id kept. */
static bool interpolated_out(const struct index *ix, const struct index_view *v,
                             const struct ix_street *s, uint32_t b, const char *location_id,
                             struct gc_result *out)
{
    char number[16], cc[3] = {s->country[0], s->country[1], '\0'};
    snprintf(number, sizeof(number), "%u", b);
    struct gc_query q = {.street = ix_str(v, s->name),
                         .house_number = number,
                         .city = ix_str(v, s->city),
                         .country = cc[0] ? cc : NULL,
                         .max_results = GC_MAX_CANDIDATES};
    if (geocode_forward(ix, &q, out) < 0)
        return false;
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->c[i].location_id, location_id) == 0) {
            if (i > 0) {
                out->c[0] = out->c[i];
                if (out->c[i].house_number == out->c[i].number_buf)
                    out->c[0].house_number = out->c[0].number_buf;
            }
            return true;
        }
    return false;
}

int geocode_lookup(const struct index *ix, const struct gc_ids *ids, const char *location_id,
                   struct gc_result *out)
{
    const struct index_view *v = index_view(ix);
    out->n = 0;
    char kind;
    unsigned a, b;
    char end;
    if (strlen(location_id) != 17 || sscanf(location_id, "%c%8x%8x%c", &kind, &a, &b, &end) != 3)
        return GB_ENOTFOUND;
    struct gc_candidate *o = &out->c[0];
    bool found = false;
    switch (kind) {
    case 'S':
    case 'A':
    case 'I':
        for (size_t i = ids_first(ids->streets, ids->n_streets, a);
             !found && i < ids->n_streets && ids->streets[i].id == a; i++) {
            const struct ix_street *s = &v->streets[ids->streets[i].pos];
            if (kind == 'S' && b == 0) {
                street_out(v, s, o);
                found = true;
            } else if (kind == 'A')
                found = address_out(v, s, b, o);
            else if (kind == 'I')
                found = interpolated_out(ix, v, s, b, location_id, out);
        }
        break;
    case 'C': {
        size_t i = ids_first(ids->places, ids->n_places, a);
        if (b == 0 && i < ids->n_places) {
            gc_place_out(v, &v->places[ids->places[i].pos], o);
            found = true;
        }
        break;
    }
    case 'P': {
        size_t i = ids_first(ids->postcodes, ids->n_postcodes, a);
        if (b == 0 && i < ids->n_postcodes) {
            gc_postcode_out(v, &v->postcodes[ids->postcodes[i].pos], o);
            found = true;
        }
        break;
    }
    case 'K':
        if (b == 0 && a < v->n_admins && v->admins[a].rank == RANK_COUNTRY) {
            country_out(&v->admins[a], o);
            found = true;
        }
        break;
    case 'R':
        if (a < v->n_admins && v->admins[a].rank == b) {
            gc_area_out(ix, a, o);
            found = true;
        }
        break;
    default:
        break;
    }
    if (!found)
        return GB_ENOTFOUND;
    snprintf(o->location_id, sizeof(o->location_id), "%s", location_id);
    o->relevance = 1;
    o->distance = -1;
    for (int f = 0; f < MQ__COUNT; f++)
        o->mq[f] = -1;
    gc_postcode_town_out(ix, o);
    out->n = 1;
    return 0;
}
