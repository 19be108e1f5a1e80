/*
 * geocode_score.c - score a (hypothesis, street) pair by what agrees: the street itself, the
 * tokens it explains, the postcode, the locality (city, district, or a place near the street),
 * the house number; tokens left unexplained cost points. The weights are GC_WEIGHTS.
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "record/geo.h"
#include "text/norm.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* Whether the data's postcode string at off is the query's postcode, keyed the way the builder
 * keys data (norm_postcode, not strict). */
bool gc_pc_matches(const struct gctx *g, uint32_t off)
{
    const char *pc = ix_str(g->v, off);
    char k[32];
    return *pc && norm_postcode(pc, strlen(pc), false, k, sizeof(k)) && strcmp(k, g->pc_key) == 0;
}

/* Whether street s has the query's postcode (an address, an interpolation or the street's own):
 * a binary search in the postcode's streets. */
static bool street_has_postcode(const struct gctx *g, const struct ix_street *s)
{
    size_t n;
    uint32_t want = (uint32_t)(s - g->v->streets);
    const uint32_t *st = index_postcode_streets(g->ix, g->pc_run, want, &n);
    return n > 0 && st[0] == want;
}

static double prefix_similarity(const char *a, size_t la, const char *b, size_t lb)
{
    size_t n = 0;
    while (n < la && n < lb && a[n] == b[n])
        n++;
    size_t shorter = la < lb ? la : lb;
    if (n >= 4 && n * 2 >= shorter)
        return GC_WEIGHTS.locality_similar;
    return 0;
}

/* The first place entry of run r's key (looked up once per run, not once per candidate). */
static uint32_t run_places(const struct gctx *g, struct run *r)
{
    if (!r->place_known) {
        r->place_first = index_place_first(g->ix, r->key, r->klen);
        r->place_known = true;
    }
    return r->place_first;
}

bool gc_run_names_place_here(const struct gctx *g, struct run *r, int max_rank)
{
    const struct index_view *v = g->v;
    for (uint32_t p = run_places(g, r);
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), r->key) == 0; p++)
        if (country_ok(g->cc, v->places[p].country) && v->places[p].rank <= max_rank)
            return true;
    return false;
}

/* each_place: the smallest rank of the places in country cc */
struct rank_arg {
    const char *cc;
    int rank;
};

static bool min_rank(void *arg, const struct index_view *v, const struct ix_place *pl)
{
    struct rank_arg *a = arg;
    (void)v;
    if (country_ok(a->cc, pl->country) && pl->rank < a->rank)
        a->rank = pl->rank;
    return true;
}

bool gc_run_names_place(const struct gctx *g, struct run *r, int max_rank)
{
    if (gc_run_names_place_here(g, r, max_rank))
        return true;
    const struct gc_set_lookup *set = g->q->set;
    if (!set)
        return false;
    if (r->set_rank < 0 || memcmp(r->set_cc, g->cc, 2) != 0) { /* once a run and filter */
        struct rank_arg a = {g->cc, INT_MAX};
        set->each_place(set->ctx, r->key, r->klen, min_rank, &a);
        r->set_rank = a.rank;
        memcpy(r->set_cc, g->cc, 2);
    }
    return r->set_rank <= max_rank;
}

#define TOWN_START_SCAN 64 /* places whose keys begin with a run's key, read at most */

/* Whether the name of place pl, normalised in its country's languages, begins with words whose
 * key is key (klen bytes) and has more words after them. */
static bool name_begins(const struct index_view *v, const struct ix_place *pl, const char *key,
                        size_t klen)
{
    const char *name = ix_str(v, pl->name);
    char cc[3] = {pl->country[0], pl->country[1], '\0'};
    char nm[NORM_MAX];
    int n = norm_name(name, strlen(name), cc[0] ? cc : NULL, nm, sizeof(nm));
    size_t k = 0; /* bytes of key matched, spaces between the name's words left out */
    for (int i = 0; i < n; i++) {
        if (nm[i] == ' ') {
            if (k == klen)
                return true;
        } else if (k >= klen || nm[i] != key[k++]) {
            return false;
        }
    }
    return false; /* the whole name (its own key) or less */
}

uint32_t gc_town_begun_in(const struct index *ix, const char *key, size_t klen, const char *cc)
{
    const struct index_view *v = index_view(ix);
    uint32_t best = IX_NONE;
    double best_imp = -1;
    if (!index_place_prefix_maybe(ix, key, klen)) /* also every key of fewer than 4 bytes */
        return IX_NONE;
    uint32_t p = index_place_from(ix, key, klen);
    for (int seen = 0; p < v->n_places && seen < TOWN_START_SCAN; p++, seen++) {
        const struct ix_place *pl = &v->places[p];
        if (strncmp(ix_str(v, pl->key), key, klen) != 0)
            break;
        if (pl->rank > RANK_CITY || !country_ok(cc, pl->country) || !name_begins(v, pl, key, klen))
            continue;
        double imp = index_place_importance(ix, p);
        if (imp > best_imp) {
            best = p;
            best_imp = imp;
        }
    }
    return best;
}

bool gc_run_begins_town(const struct gctx *g, struct run *r)
{
    if (r->town_start < 0) {
        const struct gc_set_lookup *set = g->q->set;
        r->town_start = gc_town_begun_in(g->ix, r->key, r->klen, g->cc) != IX_NONE ||
                        (set && set->town_begun(set->ctx, r->key, r->klen, g->cc));
    }
    return r->town_start > 0;
}

const struct ix_place *gc_town_begun(const struct gctx *g, const struct run *r)
{
    uint32_t p = gc_town_begun_in(g->ix, r->key, r->klen, g->cc);
    return p == IX_NONE ? NULL : &g->v->places[p];
}

typedef bool place_fn(void *arg, const struct index_view *v, const struct ix_place *pl);

/* This index's places of key from first (index_place_first's) to fn; false when fn stopped. */
static bool here_places(const struct index_view *v, uint32_t first, const char *key, place_fn *fn,
                        void *arg)
{
    for (uint32_t p = first;
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), key) == 0; p++)
        if (!fn(arg, v, &v->places[p]))
            return false;
    return true;
}

/* Places of key in this index (and in an index set's member, in every member) to fn, until
 * it returns false. */
static void each_place(const struct gctx *g, const char *key, size_t len, place_fn *fn, void *arg)
{
    if (here_places(g->v, index_place_first(g->ix, key, len), key, fn, arg) && g->q->set)
        g->q->set->each_place(g->q->set->ctx, key, len, fn, arg);
}

/* each_place: the nearest place of city rank or coarser in country cc */
struct city_arg {
    const char *cc;
    double lat, lon, best;
};

static bool nearest_city(void *arg, const struct index_view *v, const struct ix_place *pl)
{
    struct city_arg *a = arg;
    (void)v;
    if (pl->rank > RANK_CITY || (a->cc[0] && pl->country[0] && memcmp(pl->country, a->cc, 2) != 0))
        return true;
    double d = geo_approx_distance_m(a->lat, a->lon, fix2deg(pl->lat), fix2deg(pl->lon));
    if (d < a->best)
        a->best = d;
    return true;
}

/* Metres from (lat, lon) to the nearest place of key in country cc of at least city rank, or
 * HUGE_VAL when there is none. */
static double city_distance(const struct gctx *g, const char *key, const char cc[2], double lat,
                            double lon)
{
    struct city_arg a = {cc, lat, lon, HUGE_VAL};
    each_place(g, key, strlen(key), nearest_city, &a);
    return a.best;
}

/* Whether place pl (in view v) belongs to the city whose key is ck ("Praha 9" to Praha). */
static bool place_in_city(const struct gctx *g, const struct index_view *v,
                          const struct ix_place *pl, const char *ck)
{
    const char *city = ix_str(v, pl->city);
    char key[KEY_MAX];
    int n = *city ? norm_key(city, strlen(city), g->cc_arg, key, sizeof(key)) : 0;
    return n > 0 && strcmp(key, ck) == 0;
}

/* each_place: whether a place of the run's name is near street s (locality_match) */
struct near_arg {
    const struct gctx *g;
    const struct ix_street *s;
    const char *ck; /* s's city key */
    double slat, slon;
    bool near, district;
};

static bool place_near(void *arg, const struct index_view *v, const struct ix_place *pl)
{
    struct near_arg *a = arg;
    if (!country_ok(a->g->cc, pl->country))
        return true;
    double limit = pl->rank <= RANK_CITY ? GC_WEIGHTS.near_city_m : GC_WEIGHTS.near_place_m;
    double d = geo_approx_distance_m(a->slat, a->slon, fix2deg(pl->lat), fix2deg(pl->lon));
    if (d <= limit && (!*a->ck || place_in_city(a->g, v, pl, a->ck) ||
                       d < city_distance(a->g, a->ck, a->s->country, a->slat, a->slon))) {
        a->near = true;
        a->district = pl->rank > RANK_CITY;
        return false;
    }
    return true;
}

/* Whether run r and the street tokens of h beside it name a town together: the street was
 * read from the rest of the name of a town the query gives in full ("keloraova 160/40, Praha
 * Kevofe", a street "Kevofe" elsewhere), so r says nothing of where that street is. */
static bool town_beside(struct gctx *g, const struct hyp *h, struct run *r)
{
    if (r->town_beside < 0) {
        int i = r->first, j = r->first + r->ntok;
        if (h->span_i < 0 || i < 0 || (j != h->span_i && h->span_j != i)) {
            r->town_beside = 0;
        } else {
            struct run t = {.first = j == h->span_i ? i : h->span_i,
                            .place_known = false,
                            .set_rank = -1,
                            .town_beside = 0};
            int end = j == h->span_i ? h->span_j : j;
            t.ntok = end - t.first;
            t.klen = gc_span_key(g, t.first, end, t.key, sizeof(t.key));
            r->town_beside = t.klen > 0 && gc_run_names_place(g, &t, RANK_CITY);
        }
    }
    return r->town_beside;
}

/* For a street the data gives no town or district (an OpenAddresses row without CITY), the
 * key of its postcode's town: the query's postcode where the street has it, else the street's
 * own, in its country. "" for a street with a town, without such a postcode, or when the key
 * may be no street's town (run_most's filters, which bound what a run adds, know only those).
 * Into buf (KEY_MAX bytes). */
static const char *postcode_town(const struct gctx *g, const struct ix_street *s, char *buf)
{
    buf[0] = '\0';
    if (s->city_key || s->district_key)
        return buf;
    const char *pc = g->has_pc && street_has_postcode(g, s) ? g->pc_key : ix_str(g->v, s->postcode);
    const char *city = gc_postcode_city(g->ix, pc, s->country);
    int n = *city ? norm_key(city, strlen(city), g->cc_arg, buf, KEY_MAX) : 0;
    if (n <= 0 || !index_town_key_maybe(g->ix, buf, (size_t)n) ||
        !index_town_prefix_maybe(g->ix, buf, (size_t)n))
        buf[0] = '\0';
    return buf;
}

/* Whether free-text run r is one word that opens with town key ck and a hyphen: a German
 * "Stadt-Ortsteil" ("Dreieich-Dreieichenhain"). */
static bool hyphen_town(const struct gctx *g, const struct run *r, const char *ck)
{
    size_t n = strlen(ck);
    if (r->first < 0 || r->ntok != 1 || r->klen <= n || memcmp(r->key, ck, n) != 0)
        return false;
    const struct token *t = &g->tok[r->first];
    const char *hy = memchr(t->s, '-', t->len);
    char k[KEY_MAX];
    return hy && norm_key(t->s, (size_t)(hy - t->s), g->cc_arg, k, sizeof(k)) == (int)n &&
           memcmp(k, ck, n) == 0;
}

/* Whether run r's key is town key ck and a number of one or two digits, apart or joined as
 * the normaliser may join them: a numbered part of the town ("Praha 9", "Wien 3"), often a
 * place's name of its own too. */
static bool numbered_part(const struct run *r, const char *ck)
{
    size_t n = strlen(ck);
    if (r->klen <= n || memcmp(r->key, ck, n) != 0)
        return false;
    size_t i = n + (r->key[n] == ' ');
    if (r->klen - i < 1 || r->klen - i > 2)
        return false;
    for (; i < r->klen; i++)
        if (!isdigit((unsigned char)r->key[i]))
            return false;
    return true;
}

/* How well a locality run of h agrees with street s: 1 exact city or district, 0.8 a place of
 * that name near the street, 0.7 a similar name, 0 not at all (nor when the run and the
 * street's tokens name a town). pk: s's postcode_town. Sets which field matched. */
static double locality_match(struct gctx *g, const struct hyp *h, const struct ix_street *s,
                             const char *pk, struct run *r, bool *is_district)
{
    const struct index_view *v = g->v;
    const char *ck = ix_str(v, s->city_key), *dk = ix_str(v, s->district_key);
    *is_district = false;
    if (*ck && strcmp(ck, r->key) == 0)
        return 1.0;
    if (*dk && strcmp(dk, r->key) == 0) {
        *is_district = true;
        return 1.0;
    }
    if (town_beside(g, h, r))
        return 0;
    /* a street without a town of its own in its postcode's town: as near as a place of that
     * name, below a street whose data names the town */
    if (*pk && strcmp(pk, r->key) == 0)
        return GC_WEIGHTS.locality_near;
    /* A place with that name close to the street (a village within a municipality) that
     * belongs to the street's city or is closer to the street than that city is: a
     * neighbouring town is not the street's. */
    struct near_arg a = {g, s, ck, fix2deg(s->lat), fix2deg(s->lon), false, false};
    if (here_places(v, run_places(g, r), r->key, place_near, &a) && g->q->set &&
        gc_run_names_place(g, r, RANK_NEIGHBOURHOOD)) /* the set's, when it has any */
        g->q->set->each_place(g->q->set->ctx, r->key, r->klen, place_near, &a);
    if (a.near) {
        *is_district = a.district;
        return GC_WEIGHTS.locality_near;
    }
    /* the town and its part, joined by a hyphen ("Dreieich-Dreieichenhain") or numbered
     * ("Praha 9"), often a place's name of its own too: the town's similar name */
    if (*ck && (hyphen_town(g, r, ck) || numbered_part(r, ck)))
        return GC_WEIGHTS.locality_similar;
    /* a similar name ("Lauf" for "Lauf a.d.Pegnitz", "Praha 9" for "Praha"), unless it is
     * another town's own name ("Triesen" is not "Triesenberg") */
    double m = 0;
    if (gc_run_names_place(g, r, RANK_CITY))
        return 0;
    if (*ck)
        m = prefix_similarity(ck, strlen(ck), r->key, r->klen);
    if (m == 0 && *dk) {
        m = prefix_similarity(dk, strlen(dk), r->key, r->klen);
        *is_district = m > 0;
    }
    if (m == 0 && *pk)
        m = prefix_similarity(pk, strlen(pk), r->key, r->klen);
    return m;
}

static bool run_is_state(const struct gctx *g, const struct ix_street *s, const struct run *r)
{
    const char *st = ix_str(g->v, s->state);
    if (!*st)
        return false;
    char k[KEY_MAX];
    int n = norm_key(st, strlen(st), g->cc_arg, k, sizeof(k));
    return n > 0 && (size_t)n == r->klen && strcmp(k, r->key) == 0;
}

/* The countryFocus bonus of street s. */
static double focus_bonus(const struct gctx *g, const struct ix_street *s)
{
    bool in = g->focus[0] && s->country[0] == g->focus[0] && s->country[1] == g->focus[1];
    return in ? GC_WEIGHTS.focus : 0;
}

/* Add to *sc what the query's postcode says of street s (in the order gc_score_street always
 * added it: the same sums to the last bit); *mq is 1 when s has it, else 0. */
static void add_postcode(const struct gctx *g, const struct ix_street *s, double *sc, double *mq)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    if (street_has_postcode(g, s)) {
        *sc += w->postcode;
        *mq = 1;
        return;
    }
    *sc -= w->postcode_miss;
    *mq = 0;
    /* a neighbouring postcode still says "this area" */
    if (g->pc_entry != IX_NONE) {
        const struct ix_postcode *p = &g->v->postcodes[g->pc_entry];
        if (geo_approx_distance_m(fix2deg(p->lat), fix2deg(p->lon), fix2deg(s->lat),
                                  fix2deg(s->lon)) < w->postcode_near_m)
            *sc += w->postcode_near;
    }
}

/* The most run r adds to a street's score (gc_score_street) when it names no town of it: a
 * region's bonus where it may name a state of the index (read in the languages of the query's
 * country: with none, any run may), else what its unexplained tokens cost. */
static double run_floor(const struct gctx *g, const struct run *r)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    if (!g->cc[0] || g->cc_arg != g->cc || index_state_key_maybe(g->ix, g->cc, r->key, r->klen))
        return w->state;
    return -w->unexplained * r->ntok;
}

/* The most run r can add to street s's score (pk: its postcode_town): an exact city or
 * district, else a place of that name near the street, else a similar name, else a region
 * where s has a state (run_floor), else unexplained (locality_match, run_is_state). */
static double run_bound(const struct gctx *g, const struct ix_street *s, const char *pk,
                        struct run *r)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    const char *ck = ix_str(g->v, s->city_key), *dk = ix_str(g->v, s->district_key);
    if ((*ck && strcmp(ck, r->key) == 0) || (*dk && strcmp(dk, r->key) == 0))
        return w->locality;
    if ((*pk && strcmp(pk, r->key) == 0) || run_places(g, r) != IX_NONE ||
        (g->q->set && gc_run_names_place(g, r, RANK_NEIGHBOURHOOD))) /* a place of the set */
        return w->locality * w->locality_near;
    if ((*ck && prefix_similarity(ck, strlen(ck), r->key, r->klen) > 0) ||
        (*dk && prefix_similarity(dk, strlen(dk), r->key, r->klen) > 0) ||
        (*pk && prefix_similarity(pk, strlen(pk), r->key, r->klen) > 0))
        return w->locality * w->locality_similar;
    return s->state ? run_floor(g, r) : -w->unexplained * r->ntok; /* 0: "" */
}

double gc_street_bound(struct gctx *g, struct cand *c)
{
    const struct ix_street *s = &g->v->streets[c->street];
    struct hyp *h = &g->hyp[c->hyp];
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = w->street * c->street_q + w->span_token * c->span_tokens;
    c->mq_pc = c->mq_city = c->mq_district = c->mq_state = -1;
    if (g->has_pc) {
        add_postcode(g, s, &sc, &c->mq_pc);
        if (c->mq_pc == 1)
            c->confirmed = true;
    }
    c->street_score = sc;
    bool state = s->state != 0; /* "": a region the query names cannot fit it */
    char pbuf[KEY_MAX];
    const char *pk = h->n_runs ? postcode_town(g, s, pbuf) : "";
    for (int i = 0; i < h->n_runs; i++)
        sc += run_bound(g, s, pk, &h->runs[i]);
    return sc + (state && g->nregion > 0 ? w->state : 0) + focus_bonus(g, s);
}

/* The most run r could add to any street's score (gc_score_street): locality_match's city or
 * district key, a place of that name near it, a similar name (four bytes in common at least),
 * then run_is_state; each only where the index (or the set) may have one. A state is read in
 * the languages of the query's country: with none, any run may be one. */
static double run_most(struct gctx *g, struct run *r)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    /* a town key is the most a run adds */
    assert(w->locality_near <= 1 && w->locality_similar <= 1 && w->state <= w->locality);
    if (index_town_key_maybe(g->ix, r->key, r->klen))
        return w->locality;
    double most = run_floor(g, r);
    if (index_town_prefix_maybe(g->ix, r->key, r->klen))
        most = fmax(most, w->locality * w->locality_similar);
    if (run_places(g, r) != IX_NONE || gc_run_names_place(g, r, RANK_NEIGHBOURHOOD))
        most = fmax(most, w->locality * fmax(w->locality_near, w->locality_similar));
    return most;
}

double gc_hyp_bound(struct gctx *g, struct hyp *h)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = w->street + w->span_token * (h->span_j - h->span_i);
    if (g->has_pc)
        sc += fmax(w->postcode, w->postcode_near - w->postcode_miss);
    for (int i = 0; i < h->n_runs; i++)
        sc += run_most(g, &h->runs[i]);
    return sc + (g->nregion > 0 ? w->state : 0) + (g->focus[0] ? fmax(w->focus, 0) : 0);
}

void gc_score_street(struct gctx *g, struct cand *c)
{
    const struct index_view *v = g->v;
    const struct ix_street *s = &v->streets[c->street];
    struct hyp *h = &g->hyp[c->hyp];
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = c->street_score;
    g->scored++;
    bool other_town = false; /* a locality the query names that is not the street's */
    char pbuf[KEY_MAX];
    const char *pk = h->n_runs ? postcode_town(g, s, pbuf) : "";
    for (int i = 0; i < h->n_runs; i++) {
        struct run *r = &h->runs[i];
        bool is_d;
        double m = locality_match(g, h, s, pk, r, &is_d);
        if (m > 0) {
            sc += w->locality * m;
            c->confirmed = true;
            if (is_d)
                c->mq_district = m > c->mq_district ? m : c->mq_district;
            else
                c->mq_city = m > c->mq_city ? m : c->mq_city;
        } else if (run_is_state(g, s, r)) {
            sc += w->state;
            c->mq_state = 1;
        } else {
            sc -= w->unexplained * r->ntok;
            c->unexplained += r->ntok;
            /* a structured city is a town by definition; free text names one when a place of
             * the index (of the set, for a member) has that name */
            if (g->structured || gc_run_names_place(g, r, RANK_NEIGHBOURHOOD) ||
                gc_run_begins_town(g, r)) {
                c->mq_city = c->mq_city < 0 ? 0 : c->mq_city;
                other_town = true;
            } else {
                c->extra += r->ntok; /* words no field of the answer accounts for */
            }
        }
    }
    /* Never confidently wrong: a street in neither the postcode nor a locality the query names
     * (a same-named street in another town) is no answer; the fallback answers the postcode or
     * town the query and the data agree on. A street whose data has no postcode cannot
     * contradict one. (A postcode only another member of a set knows is no postcode of this
     * member's streets, as in one index over the set.) */
    bool pc_known = (g->has_pc && g->pc_entry != IX_NONE && c->mq_pc == 0) || g->pc_elsewhere;
    c->conflict = !c->confirmed && (other_town || (pc_known && *ix_str(v, s->postcode)));
    /* a region the query names narrows: another state (or country) is no answer */
    int fit = gc_state_fits(g, s->state, s->country);
    if (fit > 0 && c->mq_state < 0) {
        sc += w->state;
        c->mq_state = 1;
    } else if (fit < 0) {
        c->conflict = true;
    }
    c->level = GL_STREET;
    c->type = GT_NONE;
    c->lat = fix2deg(s->lat);
    c->lon = fix2deg(s->lon);
    c->mq_hn = h->has_hn ? 0 : -1;
    c->street_score = sc;
    c->score = sc + focus_bonus(g, s);
    c->resolved = false;
}

void gc_score_number(struct gctx *g, struct cand *c)
{
    const struct ix_street *s = &g->v->streets[c->street];
    const struct hyp *h = &g->hyp[c->hyp];
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = c->street_score;
    if (h->has_hn) {
        int r = gc_resolve_number(g, s, &h->hn, c);
        if (r == 2 || r == 3) {
            sc += r == 2 ? w->point : w->point_plain;
            c->level = GL_HOUSENUMBER;
            c->type = GT_POINT;
        } else if (r == 1) {
            sc += w->interpolated;
            c->level = GL_HOUSENUMBER;
            c->type = GT_INTERPOLATED;
        }
    }
    c->score = sc + focus_bonus(g, s);
    c->resolved = true;
}

int gc_cmp_cand(const void *pa, const void *pb, void *ctx)
{
    const struct cand *a = pa, *b = pb;
    const struct index_view *cmp_view = ctx;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    /* the house number itself before a range or an orientation number holding it ("39" before
     * "36-42" on a street split in two by its postcodes) */
    if (a->mq_hn != b->mq_hn)
        return a->mq_hn > b->mq_hn ? -1 : 1;
    if (a->level != b->level)
        return a->level > b->level ? -1 : 1;
    /* the bigger of two equal streets first: more addresses, then more interpolation */
    uint32_t na =
        cmp_view->streets[a->street].addr_count + cmp_view->streets[a->street].interp_count;
    uint32_t nb =
        cmp_view->streets[b->street].addr_count + cmp_view->streets[b->street].interp_count;
    if (na != nb)
        return na > nb ? -1 : 1;
    if (a->street != b->street)
        return a->street < b->street ? -1 : 1;
    return a->hyp - b->hyp;
}
