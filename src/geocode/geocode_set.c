/*
 * geocode_set.c - several indexes served as one (geocode_set.h).
 *
 * A set is its members' open indexes and, per member, the countries it holds (from the
 * index's COUNTRIES section). Routing reads the query's country as the geocoder does (the
 * structured field through norm_country; else a trailing run of one to five free-form tokens
 * that names a country, not a code that is also a region's) and asks only the members that hold it,
 * or hold records of no country (they pass any country filter). A query without a country asks the
 * members that may know its postcode, a locality or a street first (directories of every member's
 * keys by hash, built at open), alone when no other member could change their answer
 * (gc_set_forward). Every other query asks every member, one after another in the caller's tmp
 * result (free text first without spelling tolerance: only when no member's street as written
 * settles the query, as one index over them would find, is each asked again as it would answer
 * alone, misspellings included), and keeps the answer a merged index gives:
 *   - a member's street or house-number answer beats any member's fall-back (postcode,
 *     locality, country): a merged index falls back only when no street is a candidate;
 *   - among street answers the best first answer wins, by match level, then point over
 *     interpolated, then relevance; members whose first answers tie exactly are all shown
 *     (in member order) and the answer is ambiguous, as one index marks two equal streets,
 *     less those one index finds the same answer (one position, one street or address of
 *     its grouping, or one street's key close by: same_as_kept);
 *   - among fall-backs the finest level wins (postcode, district, city ... country); two
 *     postcode answers go to the smaller country code, the first a merged index's sorted
 *     postcode table holds.
 * A member asked counts a street name's streets over the whole set (gc_query.set, through
 * the street directory), so that it narrows a name, sets it aside or finds it too wide as one
 * index over the set would, and reads a locality as a town when any member has a place of
 * that name (through the town directory: "Praha" is no similar name of a town "Praha Xyz" of
 * its own when another member has the town Praha), and reads a query that names no country
 * in the languages one index over the set would (its main country's over all members, or
 * those of a postcode another member knows); a house number on a street it finds
 * unplaced it answers as found (gc_query.in_set), weighed against the others' answers, and
 * unplaced when it wins; a street answer that leaves a locality of the query unexplained
 * which another member knows as a place is contradicted, as in one index over both; a
 * fall-back while a member found the query's street in another town is asked again with those
 * tokens read as that street (what one index answers around it).
 * Reverse asks every member: house-number answers before street answers before areas, the
 * nearest first (areas: the finest first), as one index over all the points would find them.
 * Members are read-only and the work is in out and tmp; the one lock and allocation after open
 * make the directories, once (set_dirs).
 */
#include "geocode/geocode_set.h"
#include "geocode/geocode.h"
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "index/index_format.h"
#include "record/geo.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "text/norm.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SET_MAX_TOKENS 24 /* the geocoder reads at most this many free-form tokens */

struct member {
    struct index *ix;
    char *path;
    char (*cc)[2]; /* the countries it holds ("\0\0": records of no country), sorted */
    size_t ncc;
    uint64_t admin_base; /* admin areas of the members before it */
};

/* Keys of the members' tables by hash: ix_key_hash(key) << 32 | member, sorted, each once. A
 * key's entries name every member that holds it (and those that hold another key of the same
 * hash: a few more members asked, never one less). */
struct dir {
    uint64_t *e;
    size_t n, cap;
    uint32_t *bucket; /* bucket[b]: the first entry whose hash's top bits are b or more */
    int bits;         /* 2^bits buckets (bucket[2^bits] is n) */
};

/* What a query without a country is routed by (route_first): the members that may know a
 * postcode, a locality; a country of each language list the members' countries read in. Made
 * on the first such query (set_dirs); the members that may have a street, on the first that
 * nothing else narrows (set_street_dir). */
struct dirs {
    struct dir pc, town;
    bool towns_ok; /* every member's town keys are in town (else none is routed by them) */
    char (*langs)[3];
    size_t nlangs, cap_langs;
};

struct gc_set {
    struct member *m;
    size_t n, cap;
    _Atomic(void *) dirs;   /* struct dirs */
    _Atomic(void *) street; /* struct dir */
    pthread_mutex_t dirs_lock;
    char main_cc[3]; /* the main country over all members (gc_set_lookup.main_cc), or "" */
};

/* ---- opening ---- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Open path as the set's next member. */
static int add_member(struct gc_set *s, const char *path, char *err, size_t errlen)
{
    if (s->n >= GC_SET_MAX) {
        gb_errf(err, errlen, "%s: more than %d indexes in one set", path, GC_SET_MAX);
        return GB_ELIMIT;
    }
    struct index *ix = NULL;
    char e[512] = "";
    int rc = index_open_lazy(&ix, path, e, sizeof(e));
    if (rc < 0) {
        if (e[0]) /* index_open names the file */
            gb_errf(err, errlen, "%s", e);
        else
            gb_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        return rc;
    }
    VEC_GROW(s->m, s->n, s->cap);
    struct member *m = &s->m[s->n++];
    memset(m, 0, sizeof(*m));
    m->ix = ix;
    if (s->n > 1)
        m->admin_base = m[-1].admin_base + index_view(m[-1].ix)->n_admins;
    m->path = xmalloc(strlen(path) + 1);
    strcpy(m->path, path);
    const struct index_view *v = index_view(ix);
    m->cc = xmallocarray(v->n_countries + 1, sizeof(*m->cc));
    for (size_t i = 0; i < v->n_countries; i++) { /* sorted by code in the file */
        const struct ix_country *c = &v->countries[i];
        if (c->addresses || c->streets || c->places || c->postcodes)
            memcpy(m->cc[m->ncc++], c->code, 2);
    }
    return 0;
}

/* Every *.gbx in dir, sorted by name, as members. */
static int add_dir(struct gc_set *s, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int rc = -errno;
        gb_errf(err, errlen, "%s: %s", dir, gb_strerror(rc));
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".gbx") != 0)
            continue;
        VEC_GROW(names, n, cap);
        names[n] = xmalloc(strlen(dir) + len + 2);
        sprintf(names[n], "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    int rc = 0;
    if (n == 0) {
        gb_errf(err, errlen, "%s: no index (*.gbx) in the directory", dir);
        rc = GB_ENOTFOUND;
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = add_member(s, names[i], err, errlen);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void dir_add(struct dir *d, uint32_t hash, size_t member)
{
    VEC_GROW(d->e, d->n, d->cap);
    d->e[d->n++] = (uint64_t)hash << 32 | member;
}

/* The key's hash of d (a prefix's: the hash of its PREFIX_LEN bytes, less likely the same as a
 * whole key's). */
#define PREFIX_LEN 4
static uint32_t prefix_hash(const char *key)
{
    return ix_key_hash(key, PREFIX_LEN) ^ 0x9e3779b9u;
}

/* Sort d, drop repeats, and make its buckets: about two entries each. */
static void dir_finish(struct dir *d)
{
    if (d->n > 1)
        qsort(d->e, d->n, sizeof(*d->e), cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < d->n; i++)
        if (u == 0 || d->e[i] != d->e[u - 1])
            d->e[u++] = d->e[i];
    d->n = u;
    d->bits = 1;
    while (d->bits < 30 && ((size_t)2 << d->bits) < d->n)
        d->bits++;
    size_t nb = (size_t)1 << d->bits;
    d->bucket = xmallocarray(nb + 1, sizeof(*d->bucket));
    size_t i = 0;
    for (size_t b = 0; b <= nb; b++) {
        while (i < d->n && (d->e[i] >> (64 - d->bits)) < b)
            i++;
        d->bucket[b] = (uint32_t)i;
    }
}

/* The entries of d that may be hash h's, [*from, return value): its bucket; an entry is h's
 * when its top half is h. */
static size_t dir_bucket(const struct dir *d, uint32_t h, size_t *from)
{
    size_t b = h >> (32 - d->bits);
    *from = d->bucket[b];
    return d->bucket[b + 1];
}

/* The members of directory d that hold a key of hash h, one after another: walk = dir_walk(d, h),
 * then dir_walk_next(s, &walk) until NULL (a member of another key of the same hash finds no
 * such key in its tables). */
struct dir_walk {
    const struct dir *d;
    uint32_t h;
    size_t i, end;
};

static struct dir_walk dir_walk(const struct dir *d, uint32_t h)
{
    struct dir_walk w = {.d = d, .h = h};
    w.end = dir_bucket(d, h, &w.i);
    return w;
}

static const struct index *dir_walk_next(const struct gc_set *s, struct dir_walk *w)
{
    for (; w->i < w->end; w->i++)
        if (w->d->e[w->i] >> 32 == w->h)
            return s->m[w->d->e[w->i++] & 0xffffffffu].ix;
    return NULL;
}

/* A member's town key, whole and its first PREFIX_LEN bytes, into the town directory
 * (index_each_town_key). */
struct town_arg {
    struct dirs *d;
    size_t member;
};

static void town_add(const char *key, void *arg)
{
    struct town_arg *t = arg;
    size_t kl = strlen(key);
    dir_add(&t->d->town, ix_key_hash(key, kl), t->member);
    if (kl >= PREFIX_LEN)
        dir_add(&t->d->town, prefix_hash(key), t->member);
}

/* Every member's street keys (its streets are sorted by key: a key's are together and share
 * its string). */
static void *street_dir_build(const struct gc_set *s)
{
    struct dir *d = xcalloc(1, sizeof(*d));
    for (size_t i = 0; i < s->n; i++) {
        const struct index_view *v = index_view(s->m[i].ix);
        for (size_t t = 0; t < v->n_streets; t++)
            if (t == 0 || v->streets[t].key != v->streets[t - 1].key) {
                const char *k = ix_str(v, v->streets[t].key);
                dir_add(d, ix_key_hash(k, strlen(k)), i);
            }
    }
    dir_finish(d);
    return d;
}

/* What a query can be routed by: every member's postcode keys; its localities' keys (places,
 * the streets' cities and districts) and the first PREFIX_LEN bytes of the streets' (a query's
 * locality "similar" to the street's: geocode_score.c); the language lists its countries read
 * in (one country each). Each member's tables are sorted by key: a key's entries are together
 * and share its string. */
static void *dirs_build(const struct gc_set *s)
{
    struct dirs *d = xcalloc(1, sizeof(*d));
    d->towns_ok = true;
    for (size_t i = 0; i < s->n; i++) {
        const struct index_view *v = index_view(s->m[i].ix);
        for (size_t p = 0; p < v->n_postcodes; p++)
            if (p == 0 || v->postcodes[p].key != v->postcodes[p - 1].key) {
                const char *k = ix_str(v, v->postcodes[p].key);
                dir_add(&d->pc, ix_key_hash(k, strlen(k)), i);
            }
        for (size_t p = 0; p < v->n_places; p++)
            if (p == 0 || v->places[p].key != v->places[p - 1].key) {
                const char *k = ix_str(v, v->places[p].key);
                dir_add(&d->town, ix_key_hash(k, strlen(k)), i);
            }
        struct town_arg t = {d, i};
        d->towns_ok &= index_each_town_key(s->m[i].ix, town_add, &t);
        for (size_t c = 0; c < s->m[i].ncc; c++) {
            char cc[3] = {s->m[i].cc[c][0], s->m[i].cc[c][1], '\0'};
            const char *langs = cc[0] ? norm_country_langs(cc) : NULL;
            bool known = !langs || !*langs; /* every list: the NULL reading, always there */
            for (size_t l = 0; l < d->nlangs && !known; l++)
                known = strcmp(norm_country_langs(d->langs[l]), langs) == 0;
            if (!known) {
                VEC_GROW(d->langs, d->nlangs, d->cap_langs);
                memcpy(d->langs[d->nlangs++], cc, 3);
            }
        }
    }
    dir_finish(&d->pc);
    dir_finish(&d->town);
    return d;
}

/* The set's main country into s->main_cc: the members' address counts summed by country, as
 * one index over them all counts its own (gc_main_country). */
static void find_main_country(struct gc_set *s)
{
    struct {
        char code[2];
        uint64_t addresses;
    } *by = NULL;
    size_t nby = 0, cap = 0;
    uint64_t total = 0;
    for (size_t k = 0; k < s->n; k++) {
        const struct index_view *v = index_view(s->m[k].ix);
        for (size_t i = 0; i < v->n_countries; i++) {
            const struct ix_country *c = &v->countries[i];
            total += c->addresses;
            size_t j = 0;
            while (j < nby && memcmp(by[j].code, c->code, 2) != 0)
                j++;
            if (j == nby) {
                VEC_GROW(by, nby, cap);
                memcpy(by[nby].code, c->code, 2);
                by[nby++].addresses = 0;
            }
            by[j].addresses += c->addresses;
        }
    }
    size_t best = nby; /* the first of the most addresses, of a country named */
    for (size_t j = 0; j < nby; j++)
        if (by[j].code[0] && by[j].addresses > (best < nby ? by[best].addresses : 0))
            best = j;
    s->main_cc[0] = '\0';
    if (best < nby && gc_main_country(by[best].addresses, total)) {
        memcpy(s->main_cc, by[best].code, 2);
        s->main_cc[2] = '\0';
    }
    free(by);
}

int gc_set_open(struct gc_set **out, const char *const *paths, size_t n, char *err, size_t errlen)
{
    struct gc_set *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->dirs_lock, NULL);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_dir(s, paths[i], err, errlen);
        else
            rc = add_member(s, paths[i], err, errlen);
    }
    if (rc == 0 && s->n == 0) {
        gb_errf(err, errlen, "no index given");
        rc = GB_EUSAGE;
    }
    if (rc < 0) {
        gc_set_close(s);
        return rc;
    }
    find_main_country(s);
    *out = s;
    return 0;
}

void gc_set_close(struct gc_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        index_close(s->m[i].ix);
        free(s->m[i].path);
        free(s->m[i].cc);
    }
    free(s->m);
    struct dirs *d = atomic_load(&s->dirs);
    if (d) {
        free(d->pc.e);
        free(d->pc.bucket);
        free(d->town.e);
        free(d->town.bucket);
        free(d->langs);
        free(d);
    }
    struct dir *st = atomic_load(&s->street);
    if (st) {
        free(st->e);
        free(st->bucket);
        free(st);
    }
    pthread_mutex_destroy(&s->dirs_lock);
    free(s);
}

size_t gc_set_count(const struct gc_set *s)
{
    return s->n;
}

uint64_t gc_set_size(const struct gc_set *s)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < s->n; i++)
        bytes += index_size(gc_set_index(s, i));
    return bytes;
}

const struct index *gc_set_index(const struct gc_set *s, size_t i)
{
    return s->m[i].ix;
}

const char *gc_set_path(const struct gc_set *s, size_t i)
{
    return s->m[i].path;
}

int gc_set_verify_checksums(const struct gc_set *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = index_verify_checksums(s->m[i].ix, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- routing ---- */

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* The country that ends free-form text (one to five trailing tokens of the first
 * SET_MAX_TOKENS, split at spaces and commas as the geocoder splits them) and is set off by a
 * comma or is the whole text, into cc; false when none does. After a word of its part a
 * country may end a street's name ("16 Boulevard de Suisse", in Monaco; "FRANKLIN ST", not São
 * Tomé): the members read it as one index over them does, and are asked as for no country. */
static bool text_country(const char *text, char cc[2])
{
    const char *ts[SET_MAX_TOKENS];
    size_t tl[SET_MAX_TOKENS];
    bool comma[SET_MAX_TOKENS]; /* a comma before the token */
    int n = 0;
    for (const char *p = text; *p && n < SET_MAX_TOKENS;) {
        comma[n] = false;
        while (*p && (isspace((unsigned char)*p) || *p == ',')) {
            comma[n] |= *p == ',';
            p++;
        }
        if (!*p)
            break;
        ts[n] = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        tl[n] = (size_t)(p - ts[n]);
        n++;
    }
    for (int len = 5; len >= 1; len--) {
        int i = n - len;
        bool words = i >= 0;
        for (int k = i + 1; k < n && len > 3 && words; k++)
            words = !comma[k]; /* four words and five: one part ("United States of America") */
        if (!words)
            continue;
        size_t bytes = (size_t)(ts[n - 1] + tl[n - 1] - ts[i]);
        const char *iso2 = norm_country(ts[i], bytes);
        if (iso2) {
            /* a region's code too ("CA": Canada, California) is read either way (gc_query's
             * code_other): asked as for no country */
            if ((i > 0 && !comma[i]) || (bytes <= 3 && norm_region_elsewhere(ts[i], bytes, iso2)))
                return false;
            memcpy(cc, iso2, 2);
            return true;
        }
    }
    return false;
}

/* The country q filters on (ISO2), as the geocoder reads it; false when none. */
static bool query_country(const struct gc_query *q, char cc[2])
{
    if (!blank(q->country)) {
        const char *iso2 = norm_country(q->country, strlen(q->country));
        if (iso2) {
            memcpy(cc, iso2, 2);
            return true;
        }
    }
    return !blank(q->search_text) && text_country(q->search_text, cc);
}

static bool holds(const struct member *m, const char cc[2])
{
    for (size_t i = 0; i < m->ncc; i++)
        if (memcmp(m->cc[i], cc, 2) == 0)
            return true;
    return false;
}

/* gc_set_route(), and after its members (*nfirst of them) the members that hold records of
 * no country but not the query's country (such records pass any country filter): asked only
 * when the first give no address point. */
static size_t route(const struct gc_set *s, const struct gc_query *q, size_t *members,
                    size_t *nfirst)
{
    char cc[2];
    size_t n = 0;
    if (s->n > 1 && query_country(q, cc)) {
        for (size_t i = 0; i < s->n; i++)
            if (holds(&s->m[i], cc))
                members[n++] = i;
        *nfirst = n;
        for (size_t i = 0; n > 0 && i < s->n; i++)
            if (!holds(&s->m[i], cc) && holds(&s->m[i], "\0\0"))
                members[n++] = i;
    }
    if (n == 0) { /* no country, or no member holds it: every member */
        for (size_t i = 0; i < s->n; i++)
            members[n++] = i;
        *nfirst = n;
    }
    return n;
}

/* What the members not asked first can do (route_first): know no postcode of the query, and
 * no locality of it when every locality key was looked up. */
struct outside {
    bool pc_keys;   /* the query may give a postcode */
    bool towns_all; /* every key its localities could have was looked up */
};

/* The members a query that no country routes asks first, as bits, grown try by try
 * (route_first), and what its keys showed: the hashes it looked up (dir_members, in
 * FIRST_SEEN slots of which half are used), its localities' among them (looked up again as
 * street keys, without making the keys again). */
#define FIRST_SEEN 1024
struct first_ask {
    const struct dirs *d;
    uint64_t bits[GC_SET_MAX / 64];
    bool pc_keys;   /* it may give a postcode (a key of one) */
    bool towns_all; /* BY_TOWN made every key its localities could have */
    struct {
        const struct dir *d;
        uint32_t h;
    } seen[FIRST_SEEN];
    size_t nseen;
    uint32_t town[FIRST_SEEN / 2]; /* its localities' whole keys' hashes */
    size_t ntown;
};

/* The members of dir d that hold a key of hash h into fa->bits (once a query per hash: the
 * languages of a set mostly give a span the same key). Return whether h was new for d. */
static bool dir_members(struct first_ask *fa, const struct dir *d, uint32_t h)
{
    if (!d->n)
        return false;
    size_t slot = (h * 2654435761u) % FIRST_SEEN;
    for (; fa->seen[slot].d; slot = (slot + 1) % FIRST_SEEN)
        if (fa->seen[slot].d == d && fa->seen[slot].h == h)
            return false;
    if (fa->nseen < FIRST_SEEN / 2) {
        fa->seen[slot].d = d;
        fa->seen[slot].h = h;
        fa->nseen++;
    }
    size_t i, end = dir_bucket(d, h, &i);
    for (; i < end; i++)
        if (d->e[i] >> 32 == h)
            fa->bits[(d->e[i] & 0xffffffffu) / 64] |= 1ull << (d->e[i] & 63);
    return true;
}

static void first_postcode(const char *key, size_t len, void *arg)
{
    struct first_ask *fa = arg;
    for (size_t i = 0; i < len && !fa->pc_keys; i++) /* free text reads none without a digit */
        fa->pc_keys = isdigit((unsigned char)key[i]);
    dir_members(fa, &fa->d->pc, ix_key_hash(key, len));
}

static void first_locality(const char *key, size_t len, void *arg)
{
    struct first_ask *fa = arg;
    uint32_t h = ix_key_hash(key, len);
    /* the seen table holds at most FIRST_SEEN / 2: so does town[] */
    if (dir_members(fa, &fa->d->town, h) && fa->ntown < FIRST_SEEN / 2)
        fa->town[fa->ntown++] = h;
    if (len >= PREFIX_LEN)
        dir_members(fa, &fa->d->town, prefix_hash(key));
}

/* What *slot (of s) holds, made by build(s) on first use (a set whose queries name their
 * country never needs the postcode and town directories, a planet's cost seconds and hundreds
 * of MB; a set of more than one member needs the street directory for its counts). */
static void *lazy(const struct gc_set *s, _Atomic(void *) *slot,
                  void *(*build)(const struct gc_set *s))
{
    struct gc_set *ms = (struct gc_set *)s; /* a cache; the members stay read-only */
    void *p = atomic_load(slot);
    if (!p) {
        pthread_mutex_lock(&ms->dirs_lock);
        p = atomic_load(slot);
        if (!p) {
            p = build(s);
            atomic_store(slot, p);
        }
        pthread_mutex_unlock(&ms->dirs_lock);
    }
    return p;
}

static const struct dirs *set_dirs(const struct gc_set *s)
{
    return lazy(s, &((struct gc_set *)s)->dirs, dirs_build);
}

static const struct dir *set_street_dir(const struct gc_set *s)
{
    return lazy(s, &((struct gc_set *)s)->street, street_dir_build);
}

void gc_set_warm(const struct gc_set *s)
{
    if (s->n > 1) {
        (void)set_dirs(s);
        (void)set_street_dir(s);
    }
}

/* ---- what the set knows for the member it asks (gc_query.set) ---- */

/* One query's counts so far: each member it asks counts the same names (COUNT_SEEN of them,
 * then counted again). */
#define COUNT_SEEN 32
struct counts {
    struct gc_set_lookup api;
    const struct gc_set *s;
    struct {
        uint64_t h; /* hash_fnv1a64_str of the key */
        char cc[2]; /* "\0\0": every country */
        uint32_t cap, n;
    } seen[COUNT_SEEN];
    int nseen;
    struct gc_tokens conflict; /* the first street a member asked answered around (ask) */
};

/* gc_set_lookup.count: the streets of key in the members that hold it (the street directory
 * names them; a member of another key of the same hash finds none), in country cc or in all;
 * counting stops past cap. */
static uint32_t street_count(void *ctx, const char *key, size_t len, const char *cc, uint32_t cap)
{
    struct counts *c = ctx;
    uint64_t h64 = hash_fnv1a64_str(key, HASH_FNV64_SEED);
    char want[2] = {cc ? cc[0] : 0, cc ? cc[1] : 0};
    for (int i = 0; i < c->nseen; i++)
        if (c->seen[i].h == h64 && memcmp(c->seen[i].cc, want, 2) == 0 && c->seen[i].cap == cap)
            return c->seen[i].n;
    uint32_t n = 0;
    struct dir_walk w = dir_walk(set_street_dir(c->s), ix_key_hash(key, len));
    for (const struct index *ix; n <= cap && (ix = dir_walk_next(c->s, &w)) != NULL;) {
        uint32_t lo = index_street_first(ix, key, len);
        if (lo == IX_NONE)
            continue;
        uint32_t hi = index_street_run_end(ix, lo);
        if (cc)
            gc_country_span(index_view(ix), cc, &lo, &hi);
        n += hi - lo;
    }
    if (c->nseen < COUNT_SEEN) {
        c->seen[c->nseen].h = h64;
        memcpy(c->seen[c->nseen].cc, want, 2);
        c->seen[c->nseen].cap = cap;
        c->seen[c->nseen++].n = n;
    }
    return n;
}

/* gc_set_lookup.each_place: the places of key in the members that hold key (the town
 * directory names them, with others of the same hash). */
static void each_place(void *ctx, const char *key, size_t len,
                       bool (*fn)(void *arg, const struct index_view *v, const struct ix_place *pl),
                       void *arg)
{
    struct counts *c = ctx;
    struct dir_walk w = dir_walk(&set_dirs(c->s)->town, ix_key_hash(key, len));
    for (const struct index *ix; (ix = dir_walk_next(c->s, &w)) != NULL;) {
        const struct index_view *v = index_view(ix);
        for (uint32_t p = index_place_first(ix, key, len);
             p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), key) == 0; p++)
            if (!fn(arg, v, &v->places[p]))
                return;
    }
}

/* gc_set_lookup.town_begun: over every member (a key that begins a name is in no directory). */
static bool town_begun(void *ctx, const char *key, size_t len, const char *cc)
{
    struct counts *c = ctx;
    for (size_t i = 0; i < c->s->n; i++)
        if (gc_town_begun_in(c->s->m[i].ix, key, len, cc) != IX_NONE)
            return true;
    return false;
}

/* gc_set_lookup.postcode_country: over the members the postcode directory names. */
static bool postcode_country(void *ctx, const char *key, size_t len, const char *cc, char out[3])
{
    struct counts *c = ctx;
    char want[64];
    if (len >= sizeof(want))
        return false;
    memcpy(want, key, len);
    want[len] = '\0';
    key = want;
    bool found = false;
    struct dir_walk w = dir_walk(&set_dirs(c->s)->pc, ix_key_hash(key, len));
    for (const struct index *ix; (ix = dir_walk_next(c->s, &w)) != NULL;) {
        const struct index_view *v = index_view(ix);
        for (uint32_t e = index_postcode_first(ix, key, len);
             e != IX_NONE && e < v->n_postcodes && strcmp(ix_str(v, v->postcodes[e].key), key) == 0;
             e++) {
            const char *pc_cc = v->postcodes[e].country;
            if ((cc && !country_ok(cc, pc_cc)) || (found && memcmp(pc_cc, out, 2) >= 0))
                continue;
            memcpy(out, pc_cc, 2);
            out[2] = '\0';
            found = true;
        }
    }
    return found;
}

/* What route_first looks the query's keys up as. */
enum route_by { BY_POSTCODE, BY_TOWN, BY_STREET };

/* fa (zeroed by the caller before BY_POSTCODE) grown to the members that may know a postcode
 * of q, from BY_TOWN a locality of it too, and BY_STREET a street of it too (gc_route_keys,
 * in every language list of the members' countries and of its focus country), each try
 * making only the keys it adds; those members, ascending, into members: their count; what
 * the others can do into *o. scratch: a result to work in. */
static size_t route_first(const struct gc_set *s, const struct gc_query *q, enum route_by by,
                          struct gc_result *scratch, struct first_ask *fa, size_t *members,
                          struct outside *o)
{
    const struct dirs *d = fa->d = set_dirs(s);
    o->towns_all = false;
    if (by == BY_STREET) {
        /* the street keys are the localities' keys (spans): their hashes, looked up again,
         * unless some could not be kept */
        const struct dir *street = set_street_dir(s);
        for (size_t i = 0; i < fa->ntown; i++)
            dir_members(fa, street, fa->town[i]);
        o->towns_all = fa->towns_all && fa->ntown < FIRST_SEEN / 2;
    } else {
        const struct gc_route_fns fns = {by == BY_POSTCODE ? first_postcode : NULL,
                                         by == BY_TOWN && d->towns_ok ? first_locality : NULL};
        const char *ccs[GC_SET_MAX + 2];
        size_t ncc = 0;
        ccs[ncc++] = NULL;
        for (size_t l = 0; l < d->nlangs && ncc < GC_SET_MAX; l++)
            ccs[ncc++] = d->langs[l];
        char focus[3];
        gc_set_country(NULL, q->country_focus, focus);
        if (focus[0])
            ccs[ncc++] = focus;
        o->towns_all = fa->towns_all = gc_route_keys(gc_context(scratch), q, ccs, ncc, &fns, fa);
    }
    o->pc_keys = fa->pc_keys || !blank(q->postcode);
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (fa->bits[i / 64] >> (i % 64) & 1)
            members[n++] = i;
    return n;
}

size_t gc_set_route(const struct gc_set *s, const struct gc_query *q, size_t *members)
{
    size_t nfirst;
    route(s, q, members, &nfirst);
    return nfirst;
}

/* ---- merging answers ---- */

/* Copy candidate *src into *dst, keeping a house number held in the candidate itself. */
static void copy_cand(struct gc_candidate *dst, const struct gc_candidate *src)
{
    *dst = *src;
    if (src->house_number == src->number_buf)
        dst->house_number = dst->number_buf;
}

/*
 * The locationIds that number an admin area by its place in the index ('R' an area, 'K' a
 * country: kind, then the area's index in 8 hex digits) number it as the merged index does,
 * whose ADMINS section is the members' one after another: the earlier members' areas are
 * added. Ids made of content hashes (addresses, streets, places, postcodes) need nothing.
 */
static void set_location_ids(const struct member *m, struct gc_result *r)
{
    if (m->admin_base == 0)
        return;
    for (int i = 0; i < r->n; i++) {
        char *id = r->c[i].location_id;
        if ((id[0] != 'R' && id[0] != 'K') || strlen(id) != 17)
            continue;
        char hex[9];
        memcpy(hex, id + 1, 8);
        hex[8] = '\0';
        unsigned long a = strtoul(hex, NULL, 16) + (unsigned long)m->admin_base;
        char tail[9];
        memcpy(tail, id + 9, 9);
        snprintf(id, sizeof(r->c[i].location_id), "%c%08lx%s", id[0], a & 0xffffffffUL, tail);
    }
}

/* What a member's first answer to a forward query says, for choosing among members. */
struct first {
    uint32_t member;
    uint8_t level, type;
    bool street;  /* a street or house-number answer (not a fall-back) */
    bool pc_data; /* ... whose data has a postcode */
    char country[2];
    float mq_street, mq_pc, mq_city, mq_district, mq_state; /* -1: not asked */
    int span_tokens;          /* query tokens its street explains (gc_result.span_tokens) */
    bool unplaced;            /* its member finds the street unplaced (gc_result.unplaced) */
    bool pc_lone;             /* a postcode it read from a lone number (gc_result.pc_lone) */
    float lat, lon, radius_m; /* where it is, and how far its map view reaches */
};

/* What any member's answer shows the query holds, as a merged index would read it: a
 * postcode it knows, a locality (and how many words it has). */
struct knowledge {
    bool pc, locality;
    bool place; /* the query names a place some member knows */
    int loc_words;
};

/* Words of s[0..n) (split at spaces and commas); with digits_too false, words that begin
 * with a digit (numbers, postcodes) are not counted. */
static int count_words(const char *s, size_t n, bool digits_too)
{
    int words = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (isspace((unsigned char)s[i]) || s[i] == ','))
            i++;
        if (i == n)
            break;
        words += digits_too || !isdigit((unsigned char)s[i]);
        while (i < n && !isspace((unsigned char)s[i]) && s[i] != ',')
            i++;
    }
    return words;
}

/* The words of the locality a query names, as one index counts the tokens it leaves
 * unexplained when a street is not there: the city (else district) field, or the free text
 * after its last comma, numbers left out; at least 1. */
static int locality_words(const struct gc_query *q)
{
    int n = 0;
    if (blank(q->search_text)) {
        const char *loc = !blank(q->city) ? q->city : q->district;
        n = loc ? count_words(loc, strlen(loc), true) : 0;
    } else {
        const char *comma = strrchr(q->search_text, ',');
        if (comma)
            n = count_words(comma + 1, strlen(comma + 1), false);
    }
    return n > 0 ? n : 1;
}

static void learn(struct knowledge *k, const struct first *f)
{
    k->place |= f->mq_city == 0 || f->level == GL_CITY || f->level == GL_DISTRICT;
    if (!f->street) {
        /* answered as a postcode it knows; not a lone number read so for want of a street,
         * which one index with a street for it reads as the house number */
        k->pc |= f->level == GL_POSTCODE && !f->pc_lone;
        return;
    }
    k->pc |= f->mq_pc >= 0;
    k->locality |= f->mq_city >= 0 || f->mq_district >= 0;
}

/*
 * The score one index would give first answer f, from what the answer shows (its match
 * qualities) and GC_WEIGHTS: the street and the query's tokens it explains, the postcode (a query
 * postcode that f's member did not know is a miss), the locality (a locality it did not place
 * leaves its words unexplained), the state, the house number.
 */
static double estimate(const struct first *f, const struct knowledge *k)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = w->street * f->mq_street + w->span_token * f->span_tokens;
    if (f->mq_pc >= 1)
        sc += w->postcode;
    else if (f->mq_pc >= 0 || k->pc)
        sc -= w->postcode_miss;
    double loc = f->mq_city > f->mq_district ? f->mq_city : f->mq_district;
    if (loc > 0)
        sc += w->locality * loc;
    else if (loc == 0 || k->locality)
        sc -= w->unexplained * k->loc_words;
    if (f->mq_state >= 1)
        sc += w->state;
    if (f->type == GT_POINT)
        sc += w->point;
    else if (f->type == GT_INTERPOLATED)
        sc += w->interpolated;
    return sc;
}

/* Member's first answer r->c[0] (r->n > 0), with what the set knows of it: its member found
 * it unplaced. */
static struct first first_answer(size_t member, const struct gc_result *r)
{
    const struct gc_candidate *c = &r->c[0];
    struct first f = {.member = (uint32_t)member,
                      .level = (uint8_t)c->level,
                      .type = (uint8_t)c->type,
                      .street = c->level >= GL_STREET,
                      .mq_street = (float)c->mq[MQ_STREET],
                      .mq_pc = (float)c->mq[MQ_POSTCODE],
                      .mq_city = (float)c->mq[MQ_CITY],
                      .mq_district = (float)c->mq[MQ_DISTRICT],
                      .mq_state = (float)c->mq[MQ_STATE]};
    memcpy(f.country, c->country, 2);
    f.lat = (float)c->lat;
    f.lon = (float)c->lon;
    f.radius_m = (float)((c->tl_lat - c->lat) * 111320.0); /* gc_set_view's */
    f.pc_data = c->postcode && *c->postcode;
    f.span_tokens = f.street ? r->span_tokens : 0;
    f.unplaced = r->unplaced;
    f.pc_lone = r->pc_lone;
    return f;
}

/* >0 when fall-back a is better than b, <0 when worse, 0 on a tie: the finer level; of two
 * postcodes the smaller country (the first of the key's entries in a merged index), then the
 * one whose town the query names (a postcode of several towns, members apart: one index over
 * them finds the query's town among the postcode's). */
static int cmp_fallback(const struct first *a, const struct first *b)
{
    if (a->level != b->level)
        return a->level > b->level ? 1 : -1;
    if (a->level != GL_POSTCODE)
        return 0;
    int c = memcmp(a->country, b->country, 2);
    if (c != 0)
        return -c;
    return a->mq_city > b->mq_city ? 1 : a->mq_city < b->mq_city ? -1 : 0;
}

static int max_of(int max_results)
{
    if (max_results < 1)
        return 1;
    return max_results > GC_MAX_CANDIDATES ? GC_MAX_CANDIDATES : max_results;
}

/* An ambiguous answer: every candidate's code says so. */
static void mark_ambiguous(struct gc_result *out)
{
    for (int i = 0; i < out->n; i++) {
        enum gc_code c = out->c[i].code;
        out->c[i].code = c == GC_UPHIERARCHY || c == GC_AMBIGUOUS_UPHIERARCHY
                             ? GC_AMBIGUOUS_UPHIERARCHY
                             : GC_AMBIGUOUS;
    }
}

/* The street of member m that candidate c (a street or house-number answer of m) names, or
 * NULL: the street of c's key, country and name. */
static const struct ix_street *street_of(const struct member *m, const struct gc_candidate *c)
{
    const struct index_view *v = index_view(m->ix);
    if (c->level < GL_STREET || !c->street || !*c->street)
        return NULL;
    char key[1024];
    int n =
        norm_key(c->street, strlen(c->street), c->country[0] ? c->country : NULL, key, sizeof(key));
    if (n <= 0)
        return NULL;
    uint32_t first = index_street_first(m->ix, key, (size_t)n);
    if (first == IX_NONE)
        return NULL;
    uint32_t end = index_street_run_end(m->ix, first);
    for (uint32_t i = first; i < end; i++) {
        const struct ix_street *st = &v->streets[i];
        if (ix_str(v, st->name) == c->street && ix_str(v, st->city) == c->city &&
            memcmp(st->country, c->country, 2) == 0)
            return st;
    }
    return NULL;
}

/*
 * <0 when candidate a (of member ma) ranks before b (of mb) among the equally good answers of
 * two members: the higher relevance, then the finer level, then what one index does with two
 * equal streets: the bigger first (addresses and interpolation lines), then the one that comes
 * first in its street order (key, country, city key); then the earlier member.
 */
static int cmp_tied(const struct member *ma, const struct gc_candidate *a, size_t ia,
                    const struct member *mb, const struct gc_candidate *b, size_t ib)
{
    if (a->relevance != b->relevance)
        return a->relevance > b->relevance ? -1 : 1;
    if (a->level != b->level)
        return a->level > b->level ? -1 : 1;
    const struct ix_street *sa = street_of(ma, a), *sb = street_of(mb, b);
    if (sa && sb) {
        const struct index_view *va = index_view(ma->ix), *vb = index_view(mb->ix);
        uint32_t na = sa->addr_count + sa->interp_count, nb = sb->addr_count + sb->interp_count;
        if (na != nb)
            return na > nb ? -1 : 1;
        int c = strcmp(ix_str(va, sa->key), ix_str(vb, sb->key));
        if (!c)
            c = memcmp(sa->country, sb->country, 2);
        if (!c)
            c = strcmp(ix_str(va, sa->city_key), ix_str(vb, sb->city_key));
        if (c)
            return c;
    }
    return (ia > ib) - (ia < ib);
}

static bool same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whether candidates a and b of two members are one answer of a merged index, by their
 * location ids: one street of it (the id's first part: the hash of the street's key, country
 * and town, which a merged index groups its streets by), and for a house number the same number
 * and postcode within IX_DEDUP_METRES, which it stores once ("Bergstrasse 12" in two extracts
 * of Liechtenstein, 2 m apart, from streets whose centres are 850 m apart). */
static bool same_street_group(const struct gc_candidate *a, const struct gc_candidate *b)
{
    const char *ia = a->location_id, *ib = b->location_id;
    if (ia[0] != ib[0] || strlen(ia) != 17 || strlen(ib) != 17 || memcmp(ia + 1, ib + 1, 8) != 0)
        return false;
    switch (ia[0]) {
    case 'S':
        return true;
    case 'I':
        return strcmp(ia, ib) == 0;
    case 'A':
        return same_text(a->house_number, b->house_number) && same_text(a->postcode, b->postcode) &&
               geo_approx_distance_m(a->lat, a->lon, b->lat, b->lon) <= IX_DEDUP_METRES;
    default:
        return false;
    }
}

/* Whether candidate c of member m is the answer of one kept[0..n) of another member (from[i]:
 * its member), as one index finds two of its candidates the same (geocode_forward.c,
 * same_answer): the same position, one street or address of a merged index
 * (same_street_group), or streets of one key whose centres are closer than
 * SAME_STREET_M (in one index, one street when their towns' keys are one: "Lauf a.d.Pegnitz"
 * and "Lauf an der Pegnitz", members apart when a set is split by town). */
static bool same_as_kept(const struct gc_set *s, const struct gc_candidate *kept,
                         const size_t *from, int n, size_t m, const struct gc_candidate *c)
{
    const struct ix_street *sc = NULL;
    bool looked = false;
    for (int i = 0; i < n; i++) {
        const struct gc_candidate *k = &kept[i];
        if (from[i] == m)
            continue; /* its own member found them apart */
        if ((fabs(k->lat - c->lat) < 1e-7 && fabs(k->lon - c->lon) < 1e-7) ||
            same_street_group(k, c))
            return true;
        if (!looked) {
            sc = street_of(&s->m[m], c);
            looked = true;
        }
        const struct ix_street *sk = sc ? street_of(&s->m[from[i]], k) : NULL;
        if (sk &&
            strcmp(ix_str(index_view(s->m[m].ix), sc->key),
                   ix_str(index_view(s->m[from[i]].ix), sk->key)) == 0 &&
            geo_approx_distance_m(fix2deg(sc->lat), fix2deg(sc->lon), fix2deg(sk->lat),
                                  fix2deg(sk->lon)) < SAME_STREET_M)
            return true;
    }
    return false;
}

/* A query postcode that some member knows is a postcode to a merged index, and a miss for
 * the streets of a member that does not know it: their postcode quality is 0, not "not
 * asked", and their relevance counts it. */
static void align_postcode(struct gc_result *r, const struct knowledge *k)
{
    for (int i = 0; k->pc && i < r->n; i++) {
        struct gc_candidate *c = &r->c[i];
        if (c->level >= GL_STREET && c->mq[MQ_POSTCODE] < 0) {
            c->mq[MQ_POSTCODE] = 0;
            c->relevance = gc_relevance(c);
        }
    }
}

/* Member m's answer to q in r (its admin locationIds numbered as in a merged index), counted
 * in *asked. */
static int ask(const struct member *m, const struct gc_query *q, struct gc_result *r, int *asked)
{
    int rc = geocode_forward(m->ix, q, r);
    (*asked)++;
    set_location_ids(m, r);
    if (rc == 0 && r->conflict.i >= 0 && q->set) {
        struct counts *c = q->set->ctx;
        if (c->conflict.i < 0)
            c->conflict = r->conflict;
    }
    return rc;
}

/* Whether street answer f is one a merged index would drop as contradicted: neither the query
 * postcode nor a locality agrees, and the query names a postcode some member knows and the
 * street has a postcode of its own that is not it (geocode_score.c, "never confidently wrong";
 * a locality that another member knows as a place the member itself finds contradicting,
 * through gc_query.set). */
static bool contradicted(const struct first *f, const struct knowledge *k)
{
    return f->street && f->mq_pc < 1 && f->mq_city <= 0 && f->mq_district <= 0 && k->pc &&
           f->pc_data;
}

/* Whether f answers at street level or finer in a merged index. */
static bool answers_street(const struct first *f, const struct knowledge *k)
{
    return f->street && !contradicted(f, k);
}

/* Whether fall-back p, a postcode whose member knows no town of the query, is one that a
 * merged index finds contradicted by fall-back t, a town of the query another member knows,
 * farther from the postcode than its extent and GC_WEIGHTS.near_city_m ("94103 Nendeln":
 * the town, geocode_resolve.c gc_fallback). */
static bool pc_contradicted(const struct first *p, const struct first *t)
{
    return p->level == GL_POSTCODE && p->mq_city < 0 &&
           (t->level == GL_CITY || t->level == GL_DISTRICT) &&
           geo_approx_distance_m(p->lat, p->lon, t->lat, t->lon) >
               p->radius_m + GC_WEIGHTS.near_city_m;
}

/* Whether first answer a beats b: street answers by estimate, then fall-backs, then street
 * answers a merged index drops (kept only when no member falls back). */
static bool beats(const struct first *a, const struct first *b, const struct knowledge *k)
{
    bool sa = answers_street(a, k), sb = answers_street(b, k);
    if (sa != sb)
        return sa;
    if (sa)
        return estimate(a, k) > estimate(b, k);
    if (a->street != b->street)
        return !a->street;
    if (a->street)
        return estimate(a, k) > estimate(b, k);
    if (pc_contradicted(a, b) || pc_contradicted(b, a))
        return pc_contradicted(b, a);
    return cmp_fallback(a, b) > 0;
}

/* What asking the routed members gave: each one's first answer, the best's list in out. */
struct asked {
    struct first firsts[GC_SET_MAX];
    size_t nf;
    int kept;   /* the best first answer, -1 none */
    int listed; /* the first answer whose list out holds, -1 none */
    struct knowledge k;
    /* some member's pass without spelling tolerance was confirmed, or needed none (gc_result) */
    bool exact_confirmed, exact_alone, exact_elsewhere;
};

/* The answers of the members asked first (gc_set_forward), kept so that no member is asked
 * the same twice for one query: per member and pass ([1] without spelling tolerance), whether
 * it was asked, answered, was confirmed, and its first answer. */
#define MEMO_MAX 64
struct memo {
    size_t n;
    struct {
        size_t member;
        bool asked[2], answered[2], confirmed[2], alone[2], elsewhere[2];
        struct first f[2];
    } m[MEMO_MAX];
};

/* Member m's remembered answer to one pass (what it gave in r's flags, r->n 0 or 1), NULL
 * when none. */
static const struct first *memo_find(const struct memo *mo, size_t member, bool exact,
                                     struct gc_result *r)
{
    for (size_t i = 0; mo && i < mo->n; i++)
        if (mo->m[i].member == member && mo->m[i].asked[exact]) {
            r->n = mo->m[i].answered[exact];
            r->exact_confirmed = mo->m[i].confirmed[exact];
            r->exact_alone = mo->m[i].alone[exact];
            r->exact_elsewhere = mo->m[i].elsewhere[exact];
            return &mo->m[i].f[exact];
        }
    return NULL;
}

/* Remember member's answer r to one pass (first: its first answer, read when r->n > 0), while
 * there is room. */
static void memo_put(struct memo *mo, size_t member, bool exact, const struct gc_result *r,
                     const struct first *first)
{
    size_t i = 0;
    while (mo && i < mo->n && mo->m[i].member != member)
        i++;
    if (!mo || i == MEMO_MAX)
        return;
    if (i == mo->n) {
        memset(&mo->m[mo->n], 0, sizeof(mo->m[0]));
        mo->m[mo->n++].member = member;
    }
    mo->m[i].asked[exact] = true;
    mo->m[i].answered[exact] = r->n > 0;
    mo->m[i].confirmed[exact] = r->exact_confirmed;
    mo->m[i].alone[exact] = r->exact_alone;
    mo->m[i].elsewhere[exact] = r->exact_elsewhere;
    if (r->n > 0)
        mo->m[i].f[exact] = *first;
}

/* Ask members[0..n) (those from nfirst on only when the first found no address point) for q:
 * their first answers and the best of them in *a, the list of a->listed in out (the best's
 * unless memo held its answer: a member memo holds is not asked again). Return 0 or the first
 * member's error. */
static int ask_members(const struct gc_set *s, const struct gc_query *q, const size_t *members,
                       size_t n, size_t nfirst, struct gc_result *out, struct gc_result *tmp,
                       struct asked *a, struct memo *memo)
{
    /*
     * Every member's answer, the best so far kept in out. Knowledge learnt from a later
     * member moves the estimates of all the answers before it alike (none of them showed what
     * it shows), but it may drop one of them as contradicted (a place another member knows):
     * the best is then chosen again under all the knowledge, and asked again when it is not
     * the one kept.
     */
    a->nf = 0;
    a->kept = -1;
    a->k = (struct knowledge){false, false, false, locality_words(q)};
    a->exact_confirmed = a->exact_alone = a->exact_elsewhere = false;
    out->n = 0;
    int listed = -1; /* the first answer whose list out holds */
    for (size_t i = 0; i < n; i++) {
        if (i == nfirst && a->kept >= 0 && a->firsts[a->kept].level == GL_HOUSENUMBER &&
            a->firsts[a->kept].type == GT_POINT)
            break; /* the country's members found the address: records of no country not asked */
        const struct first *known = memo_find(memo, members[i], q->exact_only, tmp);
        if (known) {
            a->firsts[a->nf] = *known;
        } else {
            int rc = ask(&s->m[members[i]], q, tmp, &out->asked);
            if (rc < 0)
                return rc;
            if (tmp->n > 0)
                a->firsts[a->nf] = first_answer(members[i], tmp);
            memo_put(memo, members[i], q->exact_only, tmp, &a->firsts[a->nf]);
        }
        a->exact_confirmed |= tmp->exact_confirmed;
        a->exact_alone |= tmp->exact_alone;
        a->exact_elsewhere |= tmp->exact_elsewhere;
        if (tmp->n == 0)
            continue;
        learn(&a->k, &a->firsts[a->nf]);
        if (a->kept < 0 || beats(&a->firsts[a->nf], &a->firsts[a->kept], &a->k)) {
            a->kept = (int)a->nf;
            if (!known) {
                for (int c = 0; c < tmp->n; c++)
                    copy_cand(&out->c[c], &tmp->c[c]);
                out->n = tmp->n;
                listed = a->kept;
            }
        }
        a->nf++;
    }
    int best = a->kept;
    for (size_t i = 0; i < a->nf; i++)
        if (beats(&a->firsts[i], &a->firsts[best], &a->k))
            best = (int)i;
    a->kept = best;
    a->listed = listed;
    return 0;
}

/* Whether street answer f has the query's postcode and town (or district): what other
 * members' answers teach (knowledge) leaves its estimate as it is. */
static bool settled(const struct first *f)
{
    return f->mq_pc >= 1 && (f->mq_city >= 1 || f->mq_district >= 1);
}

/*
 * Whether street answer f, the best of firsts[0..nf) under knowledge k (the answers of the
 * members asked first), stays the best by more than a tie whatever the others add:
 *   - no knowledge can drop it as contradicted (it has the postcode or a locality), and its
 *     estimate is at least ef, the one it has when a postcode and a locality are known;
 *   - ef beats the most another member could score: an address point on the street spelt as
 *     the query spells it, explaining two more of its tokens than f's, in the query's state,
 *     not in its postcode, and in its town only when a locality key was not looked up;
 *   - the other answers of firsts stay below ef by more than a tie (knowledge only lowers
 *     them), unless they and f are settled (they keep their estimates and ties).
 */
static bool beyond_reach(const struct first *firsts, size_t nf, size_t kept,
                         const struct knowledge *k, const struct outside *out)
{
    const struct first *f = &firsts[kept];
    if (f->mq_pc < 1 && f->mq_city <= 0 && f->mq_district <= 0)
        return false;
    struct knowledge kf = *k;
    kf.locality = true;
    kf.pc = k->pc || out->pc_keys;
    double ef = estimate(f, &kf);
    struct first o = {.street = true,
                      .type = GT_POINT,
                      .mq_street = 1,
                      .mq_pc = -1,
                      .mq_city = out->towns_all ? -1 : 1,
                      .mq_district = -1,
                      .mq_state = 1,
                      .span_tokens = f->span_tokens + 2};
    struct knowledge ko = {.pc = k->pc, .locality = false, .loc_words = k->loc_words};
    if (ef - estimate(&o, &ko) <= GC_WEIGHTS.tie)
        return false;
    for (size_t i = 0; i < nf; i++)
        if (i != kept && answers_street(&firsts[i], k) && !(settled(f) && settled(&firsts[i])) &&
            estimate(&firsts[i], k) >= ef - GC_WEIGHTS.tie - 1e-9)
            return false;
    return true;
}

/* Whether fall-back f, the best answer of the members asked first, stays the set's whatever
 * the others add: they know no postcode and no locality of the query (towns_all), so a place
 * it names that some member knows (k->place), with words beside it (f asked for more: a
 * street of theirs leaves that place unexplained), drops each street answer of theirs as
 * contradicted, and their own fall-backs can only be a state or coarser. */
static bool fallback_beyond_reach(const struct first *f, const struct knowledge *k,
                                  const struct outside *out)
{
    return out->towns_all && k->place && f->level > GL_STATE && f->mq_street == 0;
}

/* Whether the best answer of the members asked first (a) stays the set's whatever the others
 * (out) add. */
static bool reach_of(const struct asked *a, const struct outside *out)
{
    if (a->kept < 0)
        return false;
    const struct first *f = &a->firsts[a->kept];
    if (!answers_street(f, &a->k))
        return fallback_beyond_reach(f, &a->k, out);
    return beyond_reach(a->firsts, a->nf, (size_t)a->kept, &a->k, out);
}

/*
 * Whether one index over members[0..n) would find the street of its best answer c (of member
 * top) unplaced (geocode_forward.c, street_unplaced): a house number on a street, spelt as
 * written or not, in a query that gives no town, postcode or region, whose name another member
 * has in another town of c's country (top's own other towns it has weighed itself).
 */
static bool street_unplaced(const struct gc_set *s, const size_t *members, size_t n, size_t top,
                            const struct gc_candidate *c)
{
    if (c->level != GL_HOUSENUMBER || !c->country[0] || c->mq[MQ_POSTCODE] >= 0 ||
        c->mq[MQ_CITY] >= 0 || c->mq[MQ_DISTRICT] >= 0 || c->mq[MQ_STATE] >= 0)
        return false;
    const struct ix_street *ts = street_of(&s->m[top], c);
    if (!ts)
        return false;
    const struct index_view *vt = index_view(s->m[top].ix);
    for (size_t i = 0; i < n; i++)
        if (members[i] != top && gc_name_elsewhere(s->m[members[i]].ix, vt, ts))
            return true;
    return false;
}

/* out (with its best answer from member top) as one index over members[0..n) gives it: when
 * that answer's street is unplaced (known: top found so itself), its country's area,
 * ambiguous, from the first member that has that area (the one such an index finds first),
 * else none. */
static int unplaced(const struct gc_set *s, const size_t *members, size_t n,
                    const struct gc_query *q, size_t top, bool known, struct gc_result *out)
{
    if (out->n == 0 || !(known || street_unplaced(s, members, n, top, &out->c[0])))
        return 0;
    char cc[2] = {out->c[0].country[0], out->c[0].country[1]};
    for (size_t i = 0; i < n; i++) {
        const struct member *m = &s->m[members[i]];
        const struct index_view *v = index_view(m->ix);
        for (size_t a = 0; a < v->n_admins; a++)
            if (v->admins[a].rank == RANK_COUNTRY && memcmp(v->admins[a].country, cc, 2) == 0) {
                int asked = out->asked; /* the call sets out's own count */
                int rc = geocode_street_unplaced(m->ix, q, cc, out);
                out->asked = asked + 1;
                set_location_ids(m, out);
                return rc;
            }
    }
    out->n = 0;
    return 0;
}

/* The set's answer to q from members[0..n) (those from nfirst on asked only when the first
 * give no address point) into out; what their answers showed in *a. pc_known: some member may
 * know a postcode of q. *tolerance: free text was looked up with spelling tolerance. */
static int forward_over(const struct gc_set *s, const struct gc_query *q, const size_t *members,
                        size_t n, size_t nfirst, bool pc_known, struct gc_result *out,
                        struct gc_result *tmp, struct asked *a, struct memo *memo, bool *tolerance)
{
    *tolerance = false;
    /*
     * Free text asks every member without spelling tolerance first. One index over all of them
     * tries misspellings only when no street spelt as written explains the query: when one
     * member's such street is confirmed by the query's postcode or town, a merged index that
     * reads the query as that member does finds it too, and looks for no misspelt street in
     * the others (that search is most of a member's work where the address is not). It looks
     * for none either when such a street explains a query that gives no town and no postcode
     * any member knows, or exists with its number under another postcode its member knows.
     * Else every member is asked again as it would answer alone.
     */
    struct gc_query exact = *q;
    exact.exact_only = true;
    const struct gc_query *asked_q = &exact;
    bool exact_first = !blank(q->search_text);
    int rc;
    if (exact_first) {
        rc = ask_members(s, &exact, members, n, nfirst, out, tmp, a, memo);
        if (rc < 0)
            return rc;
    }
    if (!exact_first ||
        !(a->exact_confirmed || a->exact_elsewhere || (a->exact_alone && !pc_known))) {
        *tolerance = exact_first;
        asked_q = q;
        rc = ask_members(s, q, members, n, nfirst, out, tmp, a, memo);
        if (rc < 0)
            return rc;
    }
    const struct first *firsts = a->firsts;
    size_t nf = a->nf;
    int kept = a->kept;
    const struct knowledge k = a->k;
    if (kept >= 0 && a->listed != kept) { /* the best's list, not in out */
        int asked = out->asked;           /* geocode_forward sets out's own count */
        rc = ask(&s->m[firsts[kept].member], asked_q, out, &asked);
        out->asked = asked;
        if (rc < 0)
            return rc;
        a->listed = kept;
    }
    if (kept < 0 || !answers_street(&firsts[kept], &k))
        return 0; /* no answer, or the best fall-back */
    /* the winners: the best street answer and those within GC_WEIGHTS.tie of it */
    double best = estimate(&firsts[kept], &k);
    size_t win[GC_SET_MAX], nw = 0;
    for (size_t i = 0; i < nf; i++)
        if (answers_street(&firsts[i], &k) &&
            estimate(&firsts[i], &k) >= best - GC_WEIGHTS.tie - 1e-9)
            win[nw++] = firsts[i].member;
    if (nw == 1) {
        align_postcode(out, &k);
        return unplaced(s, members, n, q, firsts[kept].member, firsts[kept].unplaced, out);
    }
    /* several as good: their lists merged, each in its own order, less the answers another
     * member's list has (same_as_kept); ambiguous when more than one is left, or a member's
     * own answer is */
    int max = max_of(q->max_results);
    size_t from[GC_MAX_CANDIDATES];
    from[0] = firsts[kept].member; /* (overwritten by the first list) */
    struct gc_candidate merged[GC_MAX_CANDIDATES];
    size_t mfrom[GC_MAX_CANDIDATES];
    bool ambiguous = false;
    out->n = 0;
    for (size_t w = 0; w < nw; w++) {
        const struct member *m = &s->m[win[w]];
        rc = ask(m, asked_q, tmp, &out->asked);
        if (rc < 0)
            return rc;
        align_postcode(tmp, &k);
        ambiguous |= tmp->n > 0 &&
                     (tmp->c[0].code == GC_AMBIGUOUS || tmp->c[0].code == GC_AMBIGUOUS_UPHIERARCHY);
        int i = 0, j = 0, o = 0; /* all of both, to count them: shown up to max below */
        while (o < GC_MAX_CANDIDATES && (i < out->n || j < tmp->n)) {
            bool take_out =
                j >= tmp->n || (i < out->n && cmp_tied(&s->m[from[i]], &out->c[i], from[i], m,
                                                       &tmp->c[j], win[w]) <= 0);
            const struct gc_candidate *c = take_out ? &out->c[i++] : &tmp->c[j++];
            size_t cm = take_out ? from[i - 1] : win[w];
            if (same_as_kept(s, merged, mfrom, o, cm, c))
                continue;
            copy_cand(&merged[o], c);
            mfrom[o++] = cm;
        }
        for (int x = 0; x < o; x++) {
            copy_cand(&out->c[x], &merged[x]);
            from[x] = mfrom[x];
        }
        out->n = o;
    }
    if (ambiguous || out->n > 1)
        mark_ambiguous(out);
    if (out->n > max)
        out->n = max;
    bool known = false;
    for (size_t i = 0; i < nf; i++)
        known |= firsts[i].member == from[0] && firsts[i].unplaced;
    return unplaced(s, members, n, q, from[0], known, out);
}

/* Whether the answer of the members that may know the query's postcode, a locality or a
 * street (a) is the set's: every key was looked up (so no other member has a street of it as
 * written, nor knows its postcode or a place it names) and their pass without spelling
 * tolerance settled it (so no member looks for misspelt streets). The others then answer at
 * most a state or a country (a region the query names), below any street answer and any finer
 * fall-back; they know no place the query names, so they drop none of the answers. */
static bool streets_settle(const struct asked *a, const struct outside *out, bool tolerance)
{
    if (tolerance || !out->towns_all || a->kept < 0)
        return false;
    const struct first *f = &a->firsts[a->kept];
    return answers_street(f, &a->k) || (!f->street && f->level > GL_STATE);
}

/* Whether a member not among first[0..nf) (ascending), asked q without spelling tolerance
 * (remembered in memo), finds a street as written that would keep every member from that
 * search (forward_over); 1 yes, 0 no, or a member's error. */
static int others_settle(const struct gc_set *s, const struct gc_query *q, const size_t *first,
                         size_t nf, bool pc_known, struct gc_result *tmp, struct memo *memo,
                         int *asked)
{
    struct gc_query exact = *q;
    exact.exact_only = true;
    for (size_t i = 0, j = 0; i < s->n; i++) {
        if (j < nf && first[j] == i) {
            j++;
            continue;
        }
        if (!memo_find(memo, i, true, tmp)) {
            int rc = ask(&s->m[i], &exact, tmp, asked);
            if (rc < 0)
                return rc;
            struct first f;
            if (tmp->n > 0)
                f = first_answer(i, tmp);
            memo_put(memo, i, true, tmp, &f);
        }
        if (tmp->exact_confirmed || tmp->exact_elsewhere || (tmp->exact_alone && !pc_known))
            return 1;
    }
    return 0;
}

/*
 * gc_set_forward for q (its own copy), whose set lookup (q->set) is ready: routed, asked,
 * merged.
 *
 * A query that no country routes asks every member, unless what it gives narrows them: the
 * members that may know its postcode or one of its localities (route_first), when they are at
 * most half, are asked first, alone, and their answer is the set's when no other member could
 * change it (beyond_reach, fallback_beyond_reach). A member that knows neither cannot confirm
 * a street by the query's postcode or town; but a street as written that explains a query
 * giving no postcode any member knows keeps every member from spelling tolerance too, so an
 * answer that needed that search is kept only when every locality key was looked up and, when
 * no member knows a postcode of the query, the others' passes without it find no such street
 * (others_settle). Else every member is asked.
 */
static int forward_set(const struct gc_set *s, struct gc_query *q, struct gc_result *out,
                       struct gc_result *tmp)
{
    size_t members[GC_SET_MAX], nfirst;
    size_t n = route(s, q, members, &nfirst);
    if (n == 1) {
        int one = 0; /* geocode_forward counts its call in out->asked */
        return ask(&s->m[members[0]], q, out, &one);
    }
    q->in_set = true; /* weighed, unplaced over the members, contradicted by their places */
    out->asked = 0;
    struct asked a; /* on the stack (about 53 KB): lanes of one thread interleave calls */
    struct memo memo = {.n = 0};
    bool tolerance;
    size_t first[GC_SET_MAX];
    struct outside o;
    struct first_ask fa; /* about 20 KB */
    memset(&fa, 0, sizeof(fa));
    size_t npc = route_first(s, q, BY_POSTCODE, tmp, &fa, first, &o); /* its postcode's */
    bool pc_known = npc > 0;
    /* the members that know its postcode, then (its localities' keys cost more to make) those
     * that know its postcode or a locality of it, then those that also have one of its streets,
     * when they are at most half */
    size_t asked[GC_SET_MAX], nasked = 0, ntown = 0;
    for (int by = BY_POSTCODE; n == s->n && nfirst == n && by <= BY_STREET; by++) {
        if (by == BY_STREET && ntown > 0)
            break; /* the members that know its postcode or towns left it open: the members
                    * of its streets, more of them, would seldom settle it */
        size_t nf = by > BY_POSTCODE ? route_first(s, q, by, tmp, &fa, first, &o) : npc;
        if (by == BY_TOWN)
            ntown = nf;
        if (nf == 0 || nf * 2 > n)
            continue;
        if (nf != nasked || memcmp(first, asked, nf * sizeof(*first)) != 0) {
            int rc = forward_over(s, q, first, nf, nf, pc_known, out, tmp, &a, &memo, &tolerance);
            if (rc < 0)
                return rc;
            memcpy(asked, first, nf * sizeof(*first));
            nasked = nf;
        } /* else the same members gave out and a: only what the others can do is new */
        if (by == BY_STREET && streets_settle(&a, &o, tolerance))
            return 0;
        if (!reach_of(&a, &o))
            continue;
        /* after spelling tolerance: a member that may know a locality of the query may
         * confirm a street as written, and when no member knows its postcode any member may
         * find one that explains the whole query; either keeps every member from that search */
        if (!tolerance || (o.towns_all && pc_known))
            return 0;
        if (o.towns_all) {
            int rc = others_settle(s, q, first, nf, pc_known, tmp, &memo, &out->asked);
            if (rc <= 0)
                return rc;
        }
    }
    return forward_over(s, q, members, n, nfirst, pc_known, out, tmp, &a, &memo, &tolerance);
}

int gc_set_forward(const struct gc_set *s, const struct gc_query *q, struct gc_result *out,
                   struct gc_result *tmp)
{
    /* every member asked counts a street name's streets and finds places over the set */
    struct counts counts = {.api = {street_count, each_place, postcode_country, town_begun, NULL},
                            .s = s};
    counts.api.ctx = &counts;
    counts.conflict.i = -1;
    memcpy(counts.api.main_cc, s->main_cc, sizeof(s->main_cc));
    char plain[GC_PLAIN_TEXT]; /* the members read the plain query, and route by it */
    struct gc_query plain_q;
    struct gc_query counted = *gc_plain_query(q, &plain_q, plain, sizeof(plain));
    counted.set = s->n > 1 ? &counts.api : NULL;
    int rc = forward_set(s, &counted, out, tmp);
    if (rc < 0 || counts.conflict.i < 0 || !counted.in_set || counted.read_as_street ||
        (out->n > 0 && out->c[0].level >= GL_STREET))
        return rc;
    /*
     * The answer is a fall-back, and a member found the query's street in another town than
     * the query names. One index over the set reads those tokens as that street, and the rest
     * of the query around it ("SOUTH VAN NESS AVE 140, Schaan": the town Schaan; "Landstrasse
     * 60, 94103": the postcode, not a town Landstraße read from the street's name); a member
     * without such a street read them as words of a locality. The members are asked again with
     * those tokens read as the street (gc_query.read_as_street).
     */
    struct gc_tokens conflict = counts.conflict;
    int asked = out->asked;
    counted.read_as_street = &conflict;
    rc = forward_set(s, &counted, out, tmp);
    out->asked += asked;
    return rc;
}

/* What a reverse answer is, in the order one index tries them: house numbers (4), else the
 * nearest street (3), else the area containing the point (2: an admin area, locationId 'R'),
 * else the nearest city (1). */
static int rev_class(const struct gc_candidate *c)
{
    if (c->level == GL_HOUSENUMBER)
        return 4;
    if (c->level == GL_STREET)
        return 3;
    return c->location_id[0] == 'R' ? 2 : 1;
}

/* <0 when a comes before b in a reverse answer: the better class, then the nearer (areas
 * containing the point: the finer); on a tie the one seen first (earlier member, rank). */
static int cmp_rev(const struct gc_candidate *a, const struct gc_candidate *b)
{
    int ca = rev_class(a), cb = rev_class(b);
    if (ca != cb)
        return ca > cb ? -1 : 1;
    if (ca == 2 && a->level != b->level)
        return a->level > b->level ? -1 : 1;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return 0;
}

/* Insert c into out, kept in cmp_rev order, at most max long (a tie goes after). */
static void insert_rev(struct gc_result *out, const struct gc_candidate *c, int max)
{
    int pos = out->n;
    while (pos > 0 && cmp_rev(c, &out->c[pos - 1]) < 0)
        pos--;
    if (pos >= max)
        return;
    int last = out->n < max ? out->n : max - 1;
    for (int i = last; i > pos; i--)
        copy_cand(&out->c[i], &out->c[i - 1]);
    copy_cand(&out->c[pos], c);
    if (out->n < max)
        out->n++;
}

/* Every member's answer to one reverse query (areas or points) merged into out. */
static int reverse_all(const struct gc_set *s, bool areas, double lat, double lon, double radius_m,
                       int max_results, struct gc_result *out, struct gc_result *tmp)
{
    int max = areas ? 1 : max_of(max_results);
    out->n = 0;
    for (size_t k = 0; k < s->n; k++) {
        int rc = areas ? geocode_reverse_areas(s->m[k].ix, lat, lon, tmp)
                       : geocode_reverse(s->m[k].ix, lat, lon, radius_m, max_results, tmp);
        if (rc < 0)
            return rc;
        set_location_ids(&s->m[k], tmp);
        for (int i = 0; i < tmp->n; i++)
            insert_rev(out, &tmp->c[i], max);
    }
    /* one class only, as one index answers: the best present; one street, area or city */
    int n = 0;
    while (n < out->n && rev_class(&out->c[n]) == rev_class(&out->c[0]))
        n++;
    out->n = n > 0 && rev_class(&out->c[0]) < 4 ? 1 : n;
    return 0;
}

int gc_set_reverse(const struct gc_set *s, double lat, double lon, double radius_m, int max_results,
                   struct gc_result *out, struct gc_result *tmp)
{
    if (s->n == 1)
        return geocode_reverse(s->m[0].ix, lat, lon, radius_m, max_results, out);
    return reverse_all(s, false, lat, lon, radius_m, max_results, out, tmp);
}

int gc_set_reverse_areas(const struct gc_set *s, double lat, double lon, struct gc_result *out,
                         struct gc_result *tmp)
{
    if (s->n == 1)
        return geocode_reverse_areas(s->m[0].ix, lat, lon, out);
    return reverse_all(s, true, lat, lon, 0, 1, out, tmp);
}
