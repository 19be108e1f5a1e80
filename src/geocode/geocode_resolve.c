/*
 * geocode_resolve.c - turn the best candidates into answers: a house number on its street
 * (address point or interpolated position), the candidate as output, and, when no street is
 * credible, the fallback to postcode, district, city or country.
 */
#include "base/co.h"
#include "geocode/geocode_int.h"
#include "base/hash.h"
#include "index/index.h"
#include "record/geo.h"
#include "text/norm.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* How well address point ad matches hn (GC_WEIGHTS' hn_* fields); 0 when its number does not. */
static double address_score(const struct gctx *g, const struct ix_addr *ad, const struct hnum *hn)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    double sc = 0;
    if (hn->is_slash) {
        if (ad->number == hn->number && ad->number2 == hn->number2)
            sc = w->hn_equal;
        else if ((ad->flags & IXA_SLASH) && ad->number2 == hn->number2 && hn->number2 >= 0)
            sc = w->hn_pair_second;
        else if (ad->number == hn->number)
            sc = w->hn_pair_first;
    } else {
        if (ad->number == hn->number)
            sc = w->hn_equal;
        else if ((ad->flags & IXA_SLASH) && ad->number2 == hn->number)
            sc = w->hn_orientation;
        else if ((ad->flags & IXA_RANGE) && ad->number <= hn->number && hn->number <= ad->number2)
            sc = w->hn_in_range;
    }
    if (sc == 0)
        return 0;
    if (((ad->flags & IXA_EVIDENCE) != 0) != hn->is_evidence)
        sc -= w->hn_series_miss;
    char sfx[4] = {0};
    memcpy(sfx, ad->suffix, 3);
    if (strcmp(sfx, hn->suffix) == 0)
        sc += w->hn_suffix;
    else if (!(ad->flags & IXA_RANGE))
        return 0; /* "40a" is another building than "40" or "40b": not this address */
    else if (hn->suffix[0])
        sc -= w->hn_suffix_miss;
    else
        sc -= w->hn_suffix_extra;
    if (g->has_pc) {
        if (gc_pc_matches(g, ad->postcode))
            sc += w->hn_postcode;
    }
    return sc;
}

/* The highest score address_score gives an address whose number is not hn's: a Czech pair's
 * second number, or a range that holds the number. */
static double score_beside(const struct gctx *g, const struct hnum *hn)
{
    const struct gc_weights *w = &GC_WEIGHTS;
    double by_number;
    if (hn->is_slash)
        by_number = hn->number2 >= 0 ? w->hn_pair_second : 0;
    else
        by_number = w->hn_orientation > w->hn_in_range ? w->hn_orientation : w->hn_in_range;
    if (by_number == 0)
        return 0;
    return by_number + w->hn_suffix + (g->has_pc ? w->hn_postcode : 0);
}

/* The best of s's addresses [a, end) for hn, in their order (the first of equal scores), into
 * *best; its score. Only the stretch of hn's number when stretch. */
static double best_address(const struct gctx *g, uint32_t a, uint32_t end, bool stretch,
                           const struct hnum *hn, int *best)
{
    const struct index_view *v = g->v;
    double best_score = 0;
    for (; a < end && (!stretch || v->addrs[a].number == hn->number); a++) {
        double sc = address_score(g, &v->addrs[a], hn);
        if (sc > best_score) {
            best_score = sc;
            *best = (int)a;
        }
    }
    return best_score;
}

/* The best address point of s for hn into c. Return whether there is one. A street's
 * addresses ascend by number: a binary search finds the stretch of hn's number. On a street
 * with pairs or ranges (no IXS_PLAIN_NUMBERS) an address beside the stretch may match too;
 * they are read, in order, only when one of them could score above the stretch's best. */
/* The first of street s's addresses whose number is n or above (the addresses ascend by
 * number): a binary search, its reads overlapped with another row's (co_wait). */
static uint32_t number_stretch(const struct index_view *v, const struct ix_street *s, long n)
{
    uint32_t a = s->addr_first;
    for (uint32_t hi = s->addr_first + s->addr_count; a < hi;) {
        uint32_t m = a + (hi - a) / 2;
        if (hi - a > 2)
            co_wait(&v->addrs[m]);
        if (v->addrs[m].number < n)
            a = m + 1;
        else
            hi = m;
    }
    return a;
}

static bool address_point(const struct gctx *g, const struct ix_street *s, const struct hnum *hn,
                          struct cand *c)
{
    const struct index_view *v = g->v;
    uint32_t first = s->addr_first, end = s->addr_first + s->addr_count;
    uint32_t a = number_stretch(v, s, hn->number);
    int best = -1;
    double best_score = best_address(g, a, end, true, hn, &best);
    if (!(s->flags & IXS_PLAIN_NUMBERS) && !(best_score > score_beside(g, hn))) {
        best = -1;
        best_score = best_address(g, first, end, false, hn, &best);
    }
    if (best < 0)
        return false;
    const struct ix_addr *ad = &v->addrs[best];
    c->addr = (uint32_t)best;
    c->lat = fix2deg(ad->lat);
    c->lon = fix2deg(ad->lon);
    c->mq_hn = best_score >= GC_WEIGHTS.hn_sure ? 1.0 : 0.9;
    return true;
}

void gc_point_along(const struct ix_point *pt, uint32_t count, double frac, double *lat,
                    double *lon)
{
    double total = 0;
    for (uint32_t k = 1; k < count; k++)
        total += geo_approx_distance_m(fix2deg(pt[k - 1].lat), fix2deg(pt[k - 1].lon),
                                       fix2deg(pt[k].lat), fix2deg(pt[k].lon));
    double want = frac * total, acc = 0;
    *lat = fix2deg(pt[0].lat);
    *lon = fix2deg(pt[0].lon);
    for (uint32_t k = 1; k < count; k++) {
        double seg = geo_approx_distance_m(fix2deg(pt[k - 1].lat), fix2deg(pt[k - 1].lon),
                                           fix2deg(pt[k].lat), fix2deg(pt[k].lon));
        if (acc + seg >= want && seg > 0) {
            double t = (want - acc) / seg;
            *lat = fix2deg(pt[k - 1].lat) + t * (fix2deg(pt[k].lat) - fix2deg(pt[k - 1].lat));
            *lon = fix2deg(pt[k - 1].lon) + t * (fix2deg(pt[k].lon) - fix2deg(pt[k - 1].lon));
            return;
        }
        acc += seg;
        *lat = fix2deg(pt[k].lat);
        *lon = fix2deg(pt[k].lon);
    }
}

/* Number n on the first interpolation range of s (TIGER, OSM addr:interpolation) that holds
 * it, into c. Return whether one did. */
static bool on_range(const struct gctx *g, const struct ix_street *s, long n, struct cand *c)
{
    const struct index_view *v = g->v;
    for (uint32_t i = s->interp_first; s->interp_count && i < s->interp_first + s->interp_count;
         i++) {
        const struct ix_interp *it = &v->interps[i];
        long a = it->from, b = it->to;
        long mn = a < b ? a : b, mx = a < b ? b : a;
        if (n < mn || n > mx)
            continue;
        if ((it->parity == PARITY_ODD && n % 2 == 0) || (it->parity == PARITY_EVEN && n % 2 != 0))
            continue;
        double frac = a == b ? 0.5 : (double)(n - a) / (double)(b - a);
        gc_point_along(&v->points[it->geom_first], it->geom_count, frac, &c->lat, &c->lon);
        c->addr = i;
        c->number = n;
        c->mq_hn = 0.8;
        return true;
    }
    return false;
}

#define PREFETCH_CANDS 4 /* candidates whose addresses gc_prefetch_numbers asks for */

void gc_prefetch_numbers(const struct gctx *g, const uint16_t *ord, int n)
{
    const struct index_view *v = g->v;
    if (co_running && n > 0) {
        for (int i = 0; i < n && i < PREFETCH_CANDS; i++) {
            const struct ix_street *s = &v->streets[g->cand[ord[i]].street];
            __builtin_prefetch(&s->flags);
            __builtin_prefetch(&s->addr_count);
        }
        co_pass();
    }
    for (int i = 0; i < n && i < PREFETCH_CANDS; i++) {
        const struct ix_street *s = &v->streets[g->cand[ord[i]].street];
        if (s->addr_count) /* a binary search's first step */
            __builtin_prefetch(&v->addrs[s->addr_first + s->addr_count / 2]);
    }
    if (n > 0)
        co_pass();
}

/* Whether hn's suffix is a directional's letter written apart from its number in English
 * ("455 N Franklin St"): the street's directional, which its data may not have. */
static bool directional_letter(const struct gctx *g, const struct cand *c, const struct hnum *hn)
{
    const struct hyp *h = &g->hyp[c->hyp];
    return hn->suffix[0] && !hn->suffix[1] && strchr("nsew", hn->suffix[0]) && h->hn_len >= 3 &&
           h->hn_raw[h->hn_len - 2] == ' ' && gc_reads_english(g);
}

/* Whether street s has an address point of number n with a suffix ("53a" beside "53"). */
static bool number_has_suffixes(const struct gctx *g, const struct ix_street *s, long n)
{
    const struct ix_addr *ad = g->v->addrs;
    for (uint32_t a = number_stretch(g->v, s, n);
         a < s->addr_first + s->addr_count && ad[a].number == n; a++)
        if (ad[a].suffix[0])
            return true;
    return false;
}

/* The address point of hn's plain number into c: no suffix, the first of a pair or of a
 * range of letters ("455 N", "198/200", "8a-c" as 455, 198, 8). */
static bool plain_point(const struct gctx *g, const struct ix_street *s, const struct hnum *hn,
                        struct cand *c)
{
    struct hnum p = *hn;
    p.suffix[0] = p.suffix2[0] = '\0';
    if (p.is_slash || (p.is_range && p.number2 == p.number)) {
        p.is_slash = p.is_range = false;
        p.number2 = -1;
    }
    return address_point(g, s, &p, c);
}

/* Whether hn, a pair written with a slash that the street does not have, is rather two house
 * numbers of one building in English ("198/200 River St", "633/635"): the second above the
 * first by at most 20, of the same parity. */
static bool slash_list(const struct gctx *g, const struct hnum *hn)
{
    long d = hn->number2 - hn->number;
    return d > 0 && d <= 20 && d % 2 == 0 && !hn->suffix[0] && !hn->suffix2[0] &&
           gc_reads_english(g);
}

int gc_resolve_number(const struct gctx *g, const struct ix_street *s, const struct hnum *hn,
                      struct cand *c)
{
    if (address_point(g, s, hn, c))
        return 2;
    if (directional_letter(g, c, hn) && plain_point(g, s, hn, c)) {
        c->mq_hn = 0.9; /* the number without it, at a lower match quality */
        return 2;
    }
    if (hn->is_slash && hn->number2 >= 0) {
        if (!slash_list(g, hn))
            return 0; /* a Czech pair that is not there: no guessing */
        if (plain_point(g, s, hn, c))
            return 2; /* the building's first number */
    }
    if (hn->suffix[0] && !hn->is_slash && c->street_q >= GC_WEIGHTS.optional_words &&
        !number_has_suffixes(g, s, hn->number)) {
        /* "97a", "11 bis", "12 1/2", "8a-c" where the data has only the plain number: a
         * building on that house's plot, or the house itself written with its entrance; the
         * plain number's point, less sure. Only on a street named as the data names it (two
         * guesses are no house), and where the data has no suffix of that number: where it
         * does, one it lacks is a building it does not have (53b beside 53 and 53a). */
        if (plain_point(g, s, hn, c)) {
            c->mq_hn = GC_WEIGHTS.hn_plain;
            return 3;
        }
    }
    /* Address ranges (TIGER, addr:interpolation) say the number exists; address points alone
     * do not: a number missing between two points is a house the map does not have (yet), and
     * a position guessed between its neighbours would be house level without evidence (the
     * street is the answer, geocode_forward marks it upHierarchy). */
    return on_range(g, s, hn->number, c) ? 1 : 0;
}

void gc_emit_cand(struct gctx *g, const struct cand *c, struct gc_candidate *o)
{
    const struct index_view *v = g->v;
    const struct ix_street *s = &v->streets[c->street];
    const struct hyp *h = &g->hyp[c->hyp];
    if (co_running) { /* the strings the answer will be written with */
        const uint32_t str[] = {s->name, s->city, s->district, s->postcode, s->county, s->state};
        for (size_t k = 0; k < sizeof(str) / sizeof(str[0]); k++)
            __builtin_prefetch(ix_str(v, str[k]));
        if (c->type == GT_POINT) {
            const struct ix_addr *a = &v->addrs[c->addr];
            __builtin_prefetch(ix_str(v, a->raw));
            __builtin_prefetch(ix_str(v, a->postcode));
        }
        co_pass();
    }
    gc_init_out(o);
    gc_fill_from_street(v, o, s);
    o->lat = o->nav_lat = c->lat;
    o->lon = o->nav_lon = c->lon;
    o->level = c->level;
    o->type = c->type;
    if (c->type == GT_POINT) {
        const struct ix_addr *a = &v->addrs[c->addr];
        o->house_number = ix_str(v, a->raw);
        if (*ix_str(v, a->postcode))
            o->postcode = ix_str(v, a->postcode);
        gc_location_id(o->location_id, sizeof(o->location_id), 'A', s->id, a->id);
        gc_set_view(o, 50);
    } else if (c->type == GT_INTERPOLATED) {
        gc_range_house_out(v, s, &v->interps[c->addr], c->number, o);
    } else {
        gc_location_id(o->location_id, sizeof(o->location_id), 'S', s->id, 0);
        o->tl_lat = fix2deg(s->max_lat);
        o->tl_lon = fix2deg(s->min_lon);
        o->br_lat = fix2deg(s->min_lat);
        o->br_lon = fix2deg(s->max_lon);
        if (s->max_lat == s->min_lat && s->max_lon == s->min_lon)
            gc_set_view(o, 100);
    }
    gc_postcode_town_out(g->ix, o);
    const struct gc_query *q = g->q;
    o->mq[MQ_STREET] = gc_street_quality(g, c);
    if (h->has_hn || !is_blank(q->house_number))
        o->mq[MQ_HOUSENUMBER] = c->mq_hn < 0 ? 0 : c->mq_hn;
    if (g->has_pc || g->pc_unknown || !is_blank(q->postcode))
        o->mq[MQ_POSTCODE] = c->mq_pc < 0 ? 0 : c->mq_pc;
    if (c->mq_city >= 0 || !is_blank(q->city))
        o->mq[MQ_CITY] = c->mq_city < 0 ? 0 : c->mq_city;
    if (c->mq_district >= 0 || !is_blank(q->district))
        o->mq[MQ_DISTRICT] = c->mq_district < 0 ? 0 : c->mq_district;
    if (c->mq_state >= 0 || (!is_blank(q->state) && g->nregion == 0))
        o->mq[MQ_STATE] = c->mq_state < 0 ? 0 : c->mq_state;
    if (!is_blank(q->country) || g->country_named)
        o->mq[MQ_COUNTRY] = 1;
    if (!g->structured && g->ntok > 0)
        o->words_over = (double)c->extra / g->ntok;
    o->relevance = gc_relevance(o);
}

/* How many of the other runs name the place's state or county. */
static int place_agrees(const struct gctx *g, const struct hyp *h, int self,
                        const struct ix_place *pl)
{
    const char *names[2] = {ix_str(g->v, pl->state), ix_str(g->v, pl->county)};
    int n = 0;
    for (int k = 0; k < 2; k++) {
        char key[KEY_MAX];
        int kl = *names[k] ? norm_key(names[k], strlen(names[k]), g->cc_arg, key, sizeof(key)) : 0;
        for (int i = 0; kl > 0 && i < h->n_runs; i++)
            n += i != self && h->runs[i].klen == (size_t)kl && strcmp(h->runs[i].key, key) == 0;
    }
    return n;
}

/* The postcode alone as the answer. */
static void answer_postcode(const struct gctx *g, bool asked_street, struct gc_candidate *o)
{
    gc_postcode_out(g->v, &g->v->postcodes[g->pc_entry], o);
    gc_location_id(o->location_id, sizeof(o->location_id), 'P',
                   hash_fnv1a(g->pc_key, strlen(g->pc_key)), 0); /* the key as the query read it */
    o->mq[MQ_POSTCODE] = 1;
    if (asked_street)
        o->mq[MQ_STREET] = 0;
    o->code = asked_street ? GC_UPHIERARCHY : GC_EXACT;
    o->relevance = gc_relevance(o);
}

/* Places of one name this close to the most important one are the same town (a GeoNames
 * point, an OSM node, the town's boundary and the centroid of its addresses). */
#define PLACE_SAME_TOWN_M 40000.0

/* Whether place pl may be what run i of h names (neither the query's country nor its region
 * contradicts it); then *agree is how many other parts of the query agree with it (its state
 * or county, its region, the country of an unknown postcode's national form). */
static bool place_fits(struct gctx *g, const struct hyp *h, int i, const struct ix_place *pl,
                       int *agree)
{
    int fit = gc_state_fits(g, pl->state, pl->country);
    if (!country_ok(g->cc, pl->country) || fit < 0)
        return false;
    *agree = place_agrees(g, h, i, pl) + (fit > 0) +
             (g->pc_form_cc[0] && memcmp(pl->country, g->pc_form_cc, 2) == 0);
    return true;
}

/* The place that run i of h names, or NULL: first the places whose state or county another
 * part of the query names ("Sunnyvale, California"); among them the town of the most important
 * one (population, capital: "Paris" is the one in France; a region after the town narrows them)
 * when the index knows importance; in that town cities before districts, then the place's own
 * record over one derived from addresses, then the more important ("London" is not the City of
 * London within it). */
static const struct ix_place *best_place(struct gctx *g, const struct hyp *h, int i)
{
    const struct index_view *v = g->v;
    const struct run *r = &h->runs[i];
    const uint32_t first = index_place_first(g->ix, r->key, r->klen);
    const struct ix_place *top = NULL;
    double top_imp = 0;
    int top_agree = -1;
    for (uint32_t p = first;
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), r->key) == 0; p++) {
        const struct ix_place *pl = &v->places[p];
        int agree;
        if (!place_fits(g, h, i, pl, &agree))
            continue;
        double imp = index_place_importance(g->ix, p);
        if (agree > top_agree || (agree == top_agree && imp > top_imp)) {
            top = pl;
            top_imp = imp;
            top_agree = agree;
        }
    }
    const struct ix_place *best = NULL;
    int best_agree = -1;
    double best_imp = 0;
    for (uint32_t p = first;
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), r->key) == 0; p++) {
        const struct ix_place *pl = &v->places[p];
        if (top_imp > 0 && geo_distance_m(fix2deg(pl->lat), fix2deg(pl->lon), fix2deg(top->lat),
                                          fix2deg(top->lon)) > PLACE_SAME_TOWN_M)
            continue;
        int agree;
        if (!place_fits(g, h, i, pl, &agree))
            continue;
        double imp = index_place_importance(g->ix, p);
        if (!best || agree > best_agree ||
            (agree == best_agree &&
             ((pl->rank <= RANK_CITY && best->rank > RANK_CITY) ||
              (pl->rank == best->rank && pl->source > best->source && pl->source == 2) ||
              (pl->rank == best->rank && pl->source == best->source && imp > best_imp)))) {
            best = pl;
            best_agree = agree;
            best_imp = imp;
        }
    }
    return best;
}

/* Whether the runs of h other than i are explained well enough for run i's place to be a
 * credible answer: structured input always; free text with at most 3 tokens naming no place. */
static bool others_explained(const struct gctx *g, const struct hyp *h, int i)
{
    int unexplained = 0;
    for (int k = 0; k < h->n_runs; k++)
        if (k != i && index_place_first(g->ix, h->runs[k].key, h->runs[k].klen) == IX_NONE)
            unexplained += h->runs[k].ntok;
    return g->structured || unexplained <= 3;
}

/* Place pl (a city, or a district of one) as the answer. */
static void answer_place(const struct gctx *g, const struct ix_place *pl, bool asked_street,
                         struct gc_candidate *o)
{
    gc_place_out(g->v, pl, o);
    o->mq[pl->rank > RANK_CITY ? MQ_DISTRICT : MQ_CITY] = 1;
    if (asked_street)
        o->mq[MQ_STREET] = 0;
    o->code = asked_street ? GC_UPHIERARCHY : GC_EXACT;
    o->relevance = gc_relevance(o);
}

/* The country of the filter (g->cc) as the answer: its area in the index. Return whether the
 * index has it. */
static bool answer_country_area(const struct gctx *g, struct gc_candidate *o)
{
    const struct index_view *v = g->v;
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        if (a->rank != RANK_COUNTRY || a->country[0] != g->cc[0] || a->country[1] != g->cc[1])
            continue;
        gc_init_out(o);
        o->lat = o->nav_lat = fix2deg(a->lat);
        o->lon = o->nav_lon = fix2deg(a->lon);
        o->level = GL_COUNTRY;
        memcpy(o->country, a->country, 2);
        o->mq[MQ_COUNTRY] = 1;
        o->tl_lat = fix2deg(a->max_lat);
        o->tl_lon = fix2deg(a->min_lon);
        o->br_lat = fix2deg(a->min_lat);
        o->br_lon = fix2deg(a->max_lon);
        gc_location_id(o->location_id, sizeof(o->location_id), 'K', (uint32_t)i, 0);
        o->relevance = 1;
        return true;
    }
    return false;
}

/* The country alone as the answer, when that is all the query says (h: its locality runs).
 * Return whether it was. */
static bool answer_country(const struct gctx *g, const struct hyp *h, struct gc_candidate *o)
{
    const struct gc_query *q = g->q;
    bool only_country = g->structured
                            ? (is_blank(q->street) && is_blank(q->city) && is_blank(q->postcode) &&
                               is_blank(q->house_number) && is_blank(q->district) && g->cc[0])
                            : (g->country_named && h->n_runs == 0);
    if (!only_country)
        return false;
    return answer_country_area(g, o);
}

/* Whether the words of free-text run r are the first words of city, or city's the first of
 * r's, four bytes or more folded ("Lauf" and "Lauf a.d.Pegnitz", "Praha 8" and "Praha"; not
 * "Schaan" and "Schaanwald"). */
static bool first_words(const struct gctx *g, const struct run *r, const char *city)
{
    if (r->first < 0)
        return false; /* a structured field's run: no text kept */
    const struct token *t = &g->tok[r->first], *e = &g->tok[r->first + r->ntok - 1];
    char a[NORM_MAX], b[NORM_MAX];
    int na = norm_fold(t->s, (size_t)(e->s + e->len - t->s), a, sizeof(a));
    int nb = norm_fold(city, strlen(city), b, sizeof(b));
    if (na < 4 || nb < 4 || na == nb)
        return false;
    const char *longer = na > nb ? a : b;
    size_t n = (size_t)(na < nb ? na : nb);
    unsigned char next = (unsigned char)longer[n];
    return memcmp(a, b, n) == 0 && !isalnum(next) && next < 0x80;
}

/* How well run r names postcode p's town: 1 its city, or a place of that name within the
 * postcode's extent and GC_WEIGHTS.near_city_m of its centre (that place into *place when place
 * is not NULL; IX_NONE when the city named it); GC_WEIGHTS.locality_similar when the first
 * words of one are the other, of four bytes or more, and the run names no town of its own
 * ("Lauf" of "Lauf a.d.Pegnitz", "Praha 8" of "Praha"); 0 none. */
static double run_fits_postcode(struct gctx *g, struct run *r, const struct ix_postcode *p,
                                uint32_t *place)
{
    const struct index_view *v = g->v;
    const char *city = ix_str(v, p->city);
    char key[KEY_MAX];
    int kl = *city ? norm_key(city, strlen(city), g->cc_arg, key, sizeof(key)) : 0;
    if (place)
        *place = IX_NONE;
    if (kl > 0 && (size_t)kl == r->klen && strcmp(key, r->key) == 0)
        return 1;
    double limit = p->radius_m + GC_WEIGHTS.near_city_m;
    for (uint32_t k = index_place_first(g->ix, r->key, r->klen);
         k != IX_NONE && k < v->n_places && strcmp(ix_str(v, v->places[k].key), r->key) == 0; k++)
        if (country_ok(p->country, v->places[k].country) &&
            geo_approx_distance_m(fix2deg(p->lat), fix2deg(p->lon), fix2deg(v->places[k].lat),
                                  fix2deg(v->places[k].lon)) <= limit) {
            if (place)
                *place = k;
            return 1;
        }
    size_t n = (size_t)kl < r->klen ? (size_t)kl : r->klen; /* keys have no spaces: a prefix */
    return kl > 0 && n >= 4 && (size_t)kl != r->klen && memcmp(key, r->key, n) == 0 &&
                   first_words(g, r, city) && !gc_run_names_place(g, r, RANK_CITY)
               ? GC_WEIGHTS.locality_similar
               : 0;
}

/* Whether one of h's runs names the query postcode's town. */
static bool names_postcode_town(struct gctx *g, struct hyp *h)
{
    const struct ix_postcode *p = &g->v->postcodes[g->pc_entry];
    for (int i = 0; i < h->n_runs; i++)
        if (run_fits_postcode(g, &h->runs[i], p, NULL) > 0)
            return true;
    return false;
}

/* A postcode answer o without a town of its own takes place k's, the town the query named
 * that lies within the postcode's reach (run_fits_postcode), and its county, unless the
 * postcode's state is known to be another; the place's state when the postcode has none. */
static void postcode_town(const struct gctx *g, uint32_t k, struct gc_candidate *o)
{
    const struct index_view *v = g->v;
    if (k == IX_NONE || *o->city)
        return;
    const struct ix_place *pl = &v->places[k];
    const char *state = ix_str(v, pl->state);
    struct norm_region a[MAX_REGIONS], b[MAX_REGIONS];
    char cc[3] = {pl->country[0], pl->country[1], '\0'};
    if (*o->state && *state && strcmp(o->state, state) != 0) {
        int na = norm_region(o->state, strlen(o->state), cc, a, MAX_REGIONS);
        int nb = norm_region(state, strlen(state), cc, b, MAX_REGIONS);
        if (na > 0 && nb > 0 && strcmp(a[0].code, b[0].code) != 0)
            return; /* the town of that name near it is across a state line */
    }
    if (pl->rank > RANK_CITY) {
        o->district = ix_str(v, pl->name);
        o->city = ix_str(v, pl->city);
    } else {
        o->city = ix_str(v, pl->name);
    }
    o->county = ix_str(v, pl->county);
    if (!*o->state)
        o->state = state;
}

/* The first of h's runs that names a place, as the answer (asked_street: the query asked for
 * more; free text that says more than the locality asks for a street too). Return whether
 * one did. */
static bool answer_locality(struct gctx *g, struct hyp *h, bool asked_street, int free_tokens,
                            struct gc_candidate *o)
{
    for (int i = 0; i < h->n_runs; i++) {
        const struct ix_place *best = best_place(g, h, i);
        bool begun = false; /* a town named by its first words ("Lauf" for "Lauf a.d.Pegnitz") */
        if (!best && !g->structured && (best = gc_town_begun(g, &h->runs[i])) != NULL)
            begun = true;
        if (!best || !others_explained(g, h, i))
            continue;
        answer_place(g, best, asked_street || (!g->structured && free_tokens > h->runs[i].ntok), o);
        if (begun)
            o->mq[best->rank > RANK_CITY ? MQ_DISTRICT : MQ_CITY] = GC_WEIGHTS.locality_similar;
        if (g->has_pc || g->pc_unknown) /* a postcode the town does not confirm */
            o->mq[MQ_POSTCODE] = 0;
        o->relevance = gc_relevance(o);
        return true;
    }
    return false;
}

/* Free text's leftover runs h read again with a number at either end of the text set aside
 * (the first or last token not taken as postcode or country, when it looks like a house
 * number): "Vaduz 5" is no place, "Vaduz" is. Return whether there was such a number. */
static bool number_aside(struct gctx *g, struct hyp *h)
{
    int first = -1, last = -1;
    for (int k = 0; k < g->ntok; k++)
        if (!g->tok[k].used) {
            if (first < 0)
                first = k;
            last = k;
        }
    if (first < 0 || first == last)
        return false;
    int k = g->tok[last].numlike ? last : g->tok[first].numlike ? first : -1;
    if (k < 0)
        return false;
    h->n_runs = 0;
    h->n_towns = -1;
    h->num_tok = k;
    h->num_end = k + 1;
    gc_leftover_runs(g, h);
    return true;
}

/* Whether one of the runs of free text's leftover (tmp: no street taken) names a town and
 * holds the tokens of h's street with others: the street was a word of a town the query names
 * in full ("Praha Basejo", with a street "Basejo" in that town, read as that street in Praha). */
static bool street_in_named_town(const struct gctx *g, const struct hyp *h, struct hyp *tmp)
{
    for (int i = 0; i < tmp->n_runs; i++) {
        struct run *r = &tmp->runs[i];
        if (r->first >= 0 && r->first <= h->span_i && h->span_j <= r->first + r->ntok &&
            r->ntok > h->span_j - h->span_i && gc_run_names_place(g, r, RANK_CITY))
            return true;
    }
    return false;
}

/* No credible street: the postcode, then a locality, then the country. A postcode whose town
 * the query contradicts ("10115 Berlin" against a US ZIP 10115) gives way to the town. */
int gc_fallback(struct gctx *g, struct gc_result *out)
{
    struct gc_candidate *o = &out->c[0];
    /* free text: tokens other than the postcode, country and one locality ask for more */
    int free_tokens = 0;
    for (int i = 0; i < g->ntok; i++)
        free_tokens += !g->tok[i].used;
    bool asked_street = !is_blank(g->q->street) || !is_blank(g->q->house_number);
    out->n = 1;
    /* localities: structured city/district, or free-form leftover runs */
    struct hyp tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.span_i = tmp.span_j = -1;
    tmp.num_tok = tmp.num_end = -1;
    struct hyp *h = g->nhyp > 0 ? &g->hyp[0] : &tmp;
    /* an index set's street of another member in another town (gc_query.read_as_street): its
     * tokens are no locality here either */
    const struct gc_tokens *ras = g->q->read_as_street;
    bool read_as = ras && !g->structured && g->nhyp == 0;
    if (read_as) {
        for (int k = 0; k < g->ntok; k++)
            if ((k >= ras->i && k < ras->j) || (k >= ras->num_i && k < ras->num_j))
                g->tok[k].used = true;
        asked_street = true;
    }
    if (!g->structured)
        gc_leftover_runs(g, &tmp);
    /* a street that is not in the town named: the rest is the town; unless that street is a
     * word of the query postcode's town, which the query's leftover runs name and the rest
     * read around it does not ("679497 Triesenberg Banumo" with a street "Banumo" elsewhere),
     * or a word of another town the leftover names in full */
    struct hyp *conflict = g->conflict_hyp > 0 ? &g->hyp[g->conflict_hyp - 1] : NULL;
    bool word_of_town = conflict && !g->structured &&
                        ((g->has_pc && g->pc_entry != IX_NONE &&
                          !names_postcode_town(g, conflict) && names_postcode_town(g, &tmp)) ||
                         street_in_named_town(g, conflict, &tmp));
    if (conflict && !word_of_town) {
        h = conflict;
        asked_street = true;
        out->conflict = (struct gc_tokens){(int8_t)h->span_i, (int8_t)h->span_j, (int8_t)h->num_tok,
                                           (int8_t)h->num_end};
    } else if (!g->structured) {
        h = &tmp;
    }
    int pc_town = -1; /* the run that names the postcode's town */
    bool pc_contradicted = false;
    if (g->has_pc && g->pc_entry != IX_NONE) {
        const struct ix_postcode *p = &g->v->postcodes[g->pc_entry];
        /* this index's towns: a set weighs a postcode against another member's town itself
         * (geocode_set.c, pc_contradicted) */
        uint32_t town = IX_NONE;
        double town_fit = 1;
        int similar = -1; /* the first run that names it by a shorter or longer form */
        for (int i = 0; i < h->n_runs; i++) {
            uint32_t t;
            double fit = pc_town < 0 ? run_fits_postcode(g, &h->runs[i], p, &t) : 0;
            if (fit >= 1) {
                pc_town = i;
                town = t;
            } else if (fit > 0 && similar < 0) {
                similar = i;
            } else if (g->structured ||
                       gc_run_names_place_here(g, &h->runs[i], RANK_NEIGHBOURHOOD)) {
                pc_contradicted = true;
            }
        }
        if (pc_town < 0 && similar >= 0) {
            pc_town = similar;
            town_fit = GC_WEIGHTS.locality_similar;
        }
        if (!pc_contradicted || pc_town >= 0) {
            int said = pc_town >= 0 ? h->runs[pc_town].ntok : 0;
            answer_postcode(g, asked_street || (!g->structured && free_tokens > said), o);
            postcode_town(g, town, o);
            int fit = gc_region_fit(g, o->state, o->country);
            if (fit != 0)
                o->mq[MQ_STATE] = fit > 0;
            if (pc_town >= 0 || !is_blank(g->q->city))
                o->mq[MQ_CITY] = pc_town >= 0 ? town_fit : 0;
            o->relevance = gc_relevance(o);
            return 0;
        }
    }
    if (answer_locality(g, h, asked_street, free_tokens, o))
        return 0;
    if (h == &tmp && number_aside(g, &tmp) && answer_locality(g, &tmp, true, free_tokens, o))
        return 0; /* "Vaduz 5": the town, and a house number that no street explains */
    if (g->has_pc && g->pc_entry != IX_NONE) { /* a town not known here: the postcode, unsure */
        answer_postcode(g, true, o);
        o->mq[MQ_CITY] = 0;
        o->relevance = gc_relevance(o);
        return 0;
    }
    out->n = answer_country(g, h, o) ? 1 : 0;
    return 0;
}

int gc_answer_ambiguous(struct gctx *g, struct gc_result *out)
{
    out->n = g->cc[0] && answer_country_area(g, &out->c[0]) ? 1 : 0;
    if (out->n) { /* the street was asked and not placed; nor was a house number */
        struct gc_candidate *o = &out->c[0];
        o->code = GC_AMBIGUOUS_UPHIERARCHY;
        o->mq[MQ_STREET] = 0;
        for (int i = 0; i < g->nhyp; i++)
            if (g->hyp[i].has_hn)
                o->mq[MQ_HOUSENUMBER] = 0;
        o->relevance = gc_relevance(o);
    }
    return 0;
}

/* ---- output ---- */

void gc_location_id(char *out, size_t cap, char kind, uint32_t a, uint32_t b)
{
    snprintf(out, cap, "%c%08x%08x", kind, a, b);
}

void gc_place_out(const struct index_view *v, const struct ix_place *pl, struct gc_candidate *o)
{
    gc_init_out(o);
    o->lat = o->nav_lat = fix2deg(pl->lat);
    o->lon = o->nav_lon = fix2deg(pl->lon);
    o->level = pl->rank > RANK_CITY ? GL_DISTRICT : GL_CITY;
    if (pl->rank > RANK_CITY) {
        o->district = ix_str(v, pl->name);
        o->city = ix_str(v, pl->city);
    } else
        o->city = ix_str(v, pl->name);
    o->county = ix_str(v, pl->county);
    o->state = ix_str(v, pl->state);
    o->country[0] = pl->country[0];
    o->country[1] = pl->country[1];
    gc_set_view(o, pl->rank > RANK_CITY ? 1500 : 5000);
    gc_location_id(o->location_id, sizeof(o->location_id), 'C', pl->id, 0);
}

/* Postcode p's state and county into o: those of the first of its streets in its country that
 * has a state (of its first 16), else the state its first digits give (norm_postcode_region: the
 * US's ZIP prefixes), else none. */
static void postcode_state(const struct index_view *v, const struct ix_postcode *p,
                           struct gc_candidate *o)
{
    size_t e = (size_t)(p - v->postcodes);
    const struct ix_range *r = v->pc_ranges ? &v->pc_ranges[e] : NULL;
    for (uint32_t i = 0; r && i < r->count && i < 16 && r->first + i < v->n_pc_streets; i++) {
        uint32_t k = v->pc_streets[r->first + i];
        const struct ix_street *s = k < v->n_streets ? &v->streets[k] : NULL;
        if (s && s->state && memcmp(s->country, p->country, 2) == 0) {
            o->state = ix_str(v, s->state);
            o->county = ix_str(v, s->county);
            return;
        }
    }
    const char *name = ix_str(v, p->name);
    const char *code = norm_postcode_region(o->country, name, strlen(name));
    if (code)
        o->state = code;
}

void gc_postcode_out(const struct index_view *v, const struct ix_postcode *p,
                     struct gc_candidate *o)
{
    gc_init_out(o);
    o->lat = o->nav_lat = fix2deg(p->lat);
    o->lon = o->nav_lon = fix2deg(p->lon);
    o->level = GL_POSTCODE;
    o->postcode = ix_str(v, p->name);
    o->city = ix_str(v, p->city);
    o->country[0] = p->country[0];
    o->country[1] = p->country[1];
    postcode_state(v, p, o);
    gc_set_view(o, 1000);
    const char *key = ix_str(v, p->key);
    gc_location_id(o->location_id, sizeof(o->location_id), 'P', hash_fnv1a(key, strlen(key)), 0);
}

void gc_range_house_out(const struct index_view *v, const struct ix_street *s,
                        const struct ix_interp *it, long n, struct gc_candidate *o)
{
    snprintf(o->number_buf, sizeof(o->number_buf), "%ld", n);
    o->house_number = o->number_buf;
    if (*ix_str(v, it->postcode)) /* the range's (TIGER's ZIP) */
        o->postcode = ix_str(v, it->postcode);
    gc_location_id(o->location_id, sizeof(o->location_id), 'I', s->id, (uint32_t)n);
    gc_set_view(o, 50);
}

void gc_fill_from_street(const struct index_view *v, struct gc_candidate *o,
                         const struct ix_street *s)
{
    o->street = ix_str(v, s->name);
    o->city = ix_str(v, s->city);
    o->district = ix_str(v, s->district);
    o->postcode = ix_str(v, s->postcode);
    o->county = ix_str(v, s->county);
    o->state = ix_str(v, s->state);
    o->country[0] = s->country[0];
    o->country[1] = s->country[1];
    o->country[2] = '\0';
}

const char *gc_postcode_city(const struct index *ix, const char *pc, const char cc[2])
{
    const struct index_view *v = index_view(ix);
    char key[32];
    size_t kl = *pc ? norm_postcode(pc, strlen(pc), false, key, sizeof(key)) : 0;
    for (uint32_t e = kl ? index_postcode_first(ix, key, kl) : IX_NONE;
         e != IX_NONE && e < v->n_postcodes && strcmp(ix_str(v, v->postcodes[e].key), key) == 0;
         e++)
        if (memcmp(v->postcodes[e].country, cc, 2) == 0)
            return ix_str(v, v->postcodes[e].city);
    return "";
}

void gc_postcode_town_out(const struct index *ix, struct gc_candidate *o)
{
    if (o->level >= GL_STREET && !*o->city && !*o->district && o->country[0])
        o->city = gc_postcode_city(ix, o->postcode, o->country);
}

void gc_set_view(struct gc_candidate *o, double radius_m)
{
    double dlat = radius_m / 111320.0;
    double dlon = dlat / fmax(0.01, cos(o->lat * M_PI / 180));
    o->tl_lat = o->lat + dlat;
    o->tl_lon = o->lon - dlon;
    o->br_lat = o->lat - dlat;
    o->br_lon = o->lon + dlon;
}

void gc_init_out(struct gc_candidate *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < MQ__COUNT; i++)
        o->mq[i] = -1;
    o->mq_street2 = -1;
    o->distance = -1;
    o->house_number = o->street = o->district = o->city = o->postcode = o->county = o->state = "";
}

double gc_relevance(const struct gc_candidate *o)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < MQ__COUNT; i++)
        if (o->mq[i] >= 0) {
            sum += o->mq[i];
            n++;
        }
    return (n ? sum / n : 1.0) * (1.0 - o->words_over);
}
