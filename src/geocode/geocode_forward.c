/*
 * geocode_forward.c - forward geocoding: one query against a mapped index (see geocode.h).
 *
 * Forward, in four steps:
 *   1. read the query: structured fields as given; free-form text split into tokens, of which
 *      some may be a house number, a postcode (known to the index) or the country;
 *   2. find street hypotheses: every span of up to 6 word tokens whose key names a street in
 *      the index, exactly or, when none does, within a small edit distance;
 *   3. score every (hypothesis, street) pair by what agrees: the street itself, the tokens it
 *      explains, the postcode, the locality (city, district, or a place near the street), the
 *      house number; tokens left unexplained cost points;
 *   4. resolve the best streets to an address point, an interpolated position or the street,
 *      or, when no street is credible, fall back to postcode, district, city, country.
 * Steps 1-2 are geocode_parse.c and geocode_fuzzy.c, 3 geocode_score.c, 4 geocode_resolve.c;
 * this file runs them and ranks what they found.
 * No step allocates: the query's working memory (struct gctx) is the scratch space of the
 * caller's struct gc_result, reused by every query that is given the same result.
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "record/geo.h"

#include <assert.h>
#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

/* The country whose languages names are read in when the query names none: the index's main
 * country (gc_main_country), or an index set's (gc_query.set: as one index over all of its
 * members reads). */
static const char *only_country(struct gctx *g)
{
    if (g->q->set) {
        if (!g->q->set->main_cc[0])
            return NULL;
        memcpy(g->guess_cc, g->q->set->main_cc, 3);
        return g->guess_cc;
    }
    const struct index_view *v = g->v;
    const char *found = NULL;
    uint64_t total = 0, best = 0;
    for (size_t i = 0; i < v->n_countries; i++) {
        total += v->countries[i].addresses;
        if (v->countries[i].code[0] && v->countries[i].addresses > best) {
            best = v->countries[i].addresses;
            found = v->countries[i].code;
        }
    }
    if (!found || !gc_main_country(best, total))
        return NULL;
    memcpy(g->guess_cc, found, 2);
    g->guess_cc[2] = '\0';
    return g->guess_cc;
}

/* Whether c (scored) is an exact street that is confirmed and explains every token (any_cand). */
static bool credible_cand(struct gctx *g, const struct cand *c)
{
    return c->street_q >= 1 && c->unexplained == 0 &&
           (c->confirmed || (!g->has_pc && g->hyp[c->hyp].n_runs == 0));
}

/* Whether some candidate of [from, g->ncand) passes ok. */
static bool any_cand(struct gctx *g, int from, bool (*ok)(struct gctx *g, const struct cand *c))
{
    for (int i = from; i < g->ncand; i++)
        if (ok(g, &g->cand[i]))
            return true;
    return false;
}

/* any_cand: credible because the query gives neither a postcode this index knows nor a town. */
static bool credible_alone(struct gctx *g, const struct cand *c)
{
    return c->street_q >= 1 && c->unexplained == 0 && !g->has_pc && g->hyp[c->hyp].n_runs == 0;
}

/* any_cand: credible by the query's postcode or town, not by default. */
static bool confirmed(struct gctx *g, const struct cand *c)
{
    return c->confirmed && credible_cand(g, c);
}

static bool kept(const struct cand *c);

/* any_cand: found by spelling tolerance (scored), an answer that the query's postcode or town
 * confirms and that explains every token. */
static bool spelled_answer(struct gctx *g, const struct cand *c)
{
    (void)g;
    return c->confirmed && c->unexplained == 0 && kept(c);
}

/* any_cand: found within one edit (scored), an answer that no street two edits away can
 * outrank: a spelled_answer whose street quality is above theirs, and whose house number is an
 * address point (the most a number adds), or the query asks none. Its number is looked up on
 * a copy: resolve_numbers does it again in its turn. */
static bool near_answer(struct gctx *g, const struct cand *c)
{
    if (!spelled_answer(g, c) ||
        c->street_q < GC_WEIGHTS.fuzzy_quality - GC_WEIGHTS.per_edit - 1e-9)
        return false;
    if (!g->hyp[c->hyp].has_hn)
        return true;
    struct cand t = *c;
    gc_score_number(g, &t);
    return t.type == GT_POINT;
}

struct gctx *gc_context(struct gc_result *out)
{
    static_assert(sizeof(struct gctx) <= sizeof(out->scratch.bytes), "raise GC_SCRATCH_BYTES");
    static_assert(alignof(struct gctx) <= alignof(struct gc_scratch), "gc_scratch alignment");
    return (struct gctx *)(void *)out->scratch.bytes;
}

/* Step 1 begins: the context for q, with the country filter and the postcode field read
 * (names read in the languages of reading, when given and the query names no country).
 * Whatever an earlier query left in the context is dead: the counts start at 0. */
static void start_query(struct gctx *g, const struct index *ix, const struct gc_query *q,
                        const char *reading)
{
    memset(g, 0, offsetof(struct gctx, tok));
    g->ntok = g->nhyp = g->ncand = 0;
    g->country_named = false;
    g->ix = ix;
    g->v = index_view(ix);
    g->q = q;
    g->pc_entry = g->pc_run = IX_NONE;
    gc_set_country(g, q->country, g->cc);
    gc_set_country(g, q->country_focus, g->focus);
    g->structured = is_blank(q->search_text);
    if (g->cc[0])
        g->cc_arg = g->cc;
    else if (g->focus[0])
        g->cc_arg = g->focus;
    else if (reading) {
        memcpy(g->guess_cc, reading, 3);
        g->cc_arg = g->guess_cc;
    } else {
        g->cc_arg = only_country(g);
        g->main_guess = g->cc_arg != NULL;
    }
    if (!is_blank(q->postcode))
        gc_set_postcode(g, q->postcode, strlen(q->postcode));
}

/* out, before a forward query fills it: no answer yet, one index asked, nothing reported. */
void gc_start_result(struct gc_result *out)
{
    out->n = 0;
    out->asked = 1;
    out->unplaced = false;
    out->span_tokens = 0;
    out->conflict = (struct gc_tokens){-1, -1, -1, -1};
    out->pc_lone = false;
}

/* The most a house number adds to a candidate's score. */
#define MOST_NUMBER                                                                                \
    (GC_WEIGHTS.point > GC_WEIGHTS.interpolated ? GC_WEIGHTS.point : GC_WEIGHTS.interpolated)

/* A three-letter name read as a four-letter one ("Lch" for "Loch") is an answer only where
 * the query's postcode or town confirms it. */
static void three_letters(struct gctx *g, struct cand *c)
{
    const struct hyp *h = &g->hyp[c->hyp];
    char key[KEY_MAX];
    if (!c->confirmed && h->span_j - h->span_i == 1 &&
        gc_span_key(g, h->span_i, h->span_j, key, sizeof(key)) == 3)
        c->conflict = true;
}

/*
 * Step 3, first part: the street scores of candidates [from, g->ncand), in order of what each
 * could score at most (gc_street_bound), except those that cannot be answers. Once a
 * candidate that drop_weak keeps scores s, one whose bound with the most a number adds is
 * under s - GC_WEIGHTS.tie is one resolve_numbers would never reach (the kept one comes
 * before it, and its house number can only raise it): it is left unscored and unresolved, and
 * drop_weak drops it, as it would have. Among the exact streets (spelled false) only a
 * credible candidate sets that bar: it ends the search (no spelling tolerance, no fallback),
 * so no other step reads what an unscored one would have said. Among the streets found by
 * spelling tolerance (spelled), any kept candidate does, the exact ones' included.
 */
static void score_streets(struct gctx *g, int from, bool spelled)
{
    uint16_t *ord = g->order_tmp;
    int n = g->ncand - from;
    double bar = -HUGE_VAL;
    for (int i = 0; spelled && i < from; i++)
        if (kept(&g->cand[i]) && g->cand[i].score > bar)
            bar = g->cand[i].score;
    for (int i = 0; i < n; i++) { /* insertion sort by bound, highest first */
        struct cand *c = &g->cand[from + i];
        c->score = gc_street_bound(g, c);
        int k = i;
        while (k > 0 && g->cand[ord[k - 1]].score < c->score) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = (uint16_t)(from + i);
    }
    for (int i = 0; i < n; i++) {
        struct cand *c = &g->cand[ord[i]];
        if (c->score + MOST_NUMBER + 1e-9 < bar - GC_WEIGHTS.tie) {
            for (; i < n; i++) { /* and so can none after it */
                c = &g->cand[ord[i]];
                c->score = c->street_score = -HUGE_VAL;
                c->resolved = c->conflict = c->confirmed = false;
            }
            break;
        }
        double bound = c->score;
        gc_score_street(g, c);
        assert(c->score <= bound + 1e-9); /* the bound is one */
        (void)bound;
        if (spelled)
            three_letters(g, c);
        if ((spelled || credible_cand(g, c)) && kept(c) && c->score > bar)
            bar = c->score;
    }
    g->cand_from = g->ncand;
    g->bounds_known = false;
}

/* What the exact streets say (gc_result.exact_confirmed, exact_alone, exact_elsewhere). A
 * street name that exists (with its house number), only not where the query says, is no
 * misspelling of another, when it explains the whole query ("Obre Bergstraße 39" is not
 * "Bergstraße 39" elsewhere with a word left over). */
static void exact_flags(struct gctx *g)
{
    bool elsewhere = false;
    for (int i = 0; i < g->ncand && !elsewhere; i++)
        elsewhere = g->cand[i].street_q >= 1 && g->cand[i].conflict &&
                    g->cand[i].unexplained == 0 && g->hyp[g->cand[i].hyp].has_hn;
    g->exact_confirmed = any_cand(g, 0, confirmed);
    g->exact_alone = any_cand(g, 0, credible_alone);
    g->exact_elsewhere = elsewhere;
}

/*
 * Steps 1-3: the hypotheses and their scored candidates. The streets of a name that the query's
 * postcode and towns narrow to none (some other town's "Hauptstraße", found in "Alte
 * Hauptstraße 5, 12345 Town") are candidates only when no street is credible and confirmed by
 * that postcode or town: such a one explains every token, and those streets are not in the
 * postcode or town, so they could not outrank it (at country scale they are most of a query's
 * candidates). Spelling tolerance only when no exact street is credible: within one edit
 * first, two edits only when nothing near answers the query (near_answer). The streets of a
 * span inside a longer exact span wait (hyp.inner) until no confirmed street is found without
 * them, or forward finds that they could not be answers (inner_outranked).
 */
static void find_candidates(struct gctx *g)
{
    if (g->structured)
        gc_parse_structured(g);
    else {
        gc_parse_free(g, g->q->search_text);
        if (g->cc[0])
            g->cc_arg = g->cc;
    }
    score_streets(g, 0, false);
    if (g->ninner > 0 && !any_cand(g, 0, confirmed)) { /* the inner spans may answer */
        gc_add_inner_spans(g);
        score_streets(g, 0, false);
    }
    if (g->nwide > 0 && !any_cand(g, 0, confirmed)) {
        int before = g->ncand;
        gc_add_wide_runs(g);
        score_streets(g, before, false);
    }
    exact_flags(g);
    if (!g->structured && !g->q->exact_only && !any_cand(g, 0, credible_cand) &&
        !g->exact_elsewhere) {
        int before = g->ncand;
        gc_parse_free_fuzzy(g, false);
        score_streets(g, before, true);
        if (!any_cand(g, before, near_answer)) { /* no answer near: two edits */
            int from = g->ncand;
            gc_parse_free_fuzzy(g, true);
            score_streets(g, from, true);
        }
        if (g->nwide > 0 && !any_cand(g, before, spelled_answer)) {
            int from = g->ncand;
            gc_add_wide_runs(g);
            score_streets(g, from, true);
        }
    }
}

/* Whether drop_weak keeps c (c->score complete). */
static bool kept(const struct cand *c)
{
    if (c->score < GC_WEIGHTS.min_score || c->conflict)
        return false;
    if (c->street_q < 1 && !c->confirmed && !(c->type == GT_POINT && c->unexplained == 0))
        return false;
    return c->unexplained <= c->span_tokens + 1;
}

/*
 * Step 3, second pass: house numbers only for the candidates that can still be answers. In
 * order of street score, a candidate's number is looked up unless even an address point
 * (the most a number adds) could not bring it within GC_WEIGHTS.tie of the best kept score so
 * far; those are left unresolved and dropped, which changes no answer: they could never rank
 * among the best.
 */
static void resolve_numbers(struct gctx *g)
{
    uint16_t *ord = g->order_tmp;
    int n = g->ncand;
    for (int i = 0; i < n; i++) { /* insertion sort by street score, best first */
        int k = i;
        while (k > 0 && g->cand[ord[k - 1]].score < g->cand[i].score) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = (uint16_t)i;
    }
    gc_prefetch_numbers(g, ord, n);
    double best = -1e300;
    for (int i = 0; i < n; i++) {
        struct cand *c = &g->cand[ord[i]];
        if (c->score + MOST_NUMBER + 1e-9 < best - GC_WEIGHTS.tie)
            break; /* and so are all after it */
        gc_score_number(g, c);
        if (kept(c) && c->score > best)
            best = c->score;
    }
}

/*
 * The house number on another part of the best street. The data may split one street by
 * locality (OSM houses whose addr:city is a neighbourhood: London's Whitecross Street under
 * London and Smithfield, Baltimore's Gough Street under Baltimore and Highlandtown), and the
 * query's town or postcode then finds the part without the house. When the best kept answer is
 * such a street without the number asked, the parts of its name within STREET_GAP_M of it in
 * the same town or in none (a district's alone) are asked for the number: up to SIBLING_NEAR
 * beside it in the index's order (name, country, town key) and the first SIBLING_NEAR of its
 * country without a town, a few reads however common the name. A house found there is the
 * answer, with the best street's evidence, its town as near (the house's own part names
 * another place). A part in another town is another town's street with its own numbers
 * (Liechtenstein's Landstrasse through Vaduz and Schaan).
 */
#define SIBLING_NEAR 8 /* parts asked on each side, and parts without a town */

/* Ask street e for the number of b's hypothesis; when it has it, make b that house. */
static bool house_on_part(struct gctx *g, struct cand *b, uint32_t e)
{
    const struct ix_street *s = &g->v->streets[e], *bs = &g->v->streets[b->street];
    if (e == b->street || gc_extent_gap_m(s, bs) >= STREET_GAP_M)
        return false;
    struct cand c = *b;
    c.street = e;
    int r = gc_resolve_number(g, s, &g->hyp[b->hyp].hn, &c);
    if (r != 2 && r != 3)
        return false;
    c.score += r == 2 ? GC_WEIGHTS.point : GC_WEIGHTS.point_plain;
    c.level = GL_HOUSENUMBER;
    c.type = GT_POINT;
    if (c.mq_city > GC_WEIGHTS.locality_near)
        c.mq_city = GC_WEIGHTS.locality_near;
    *b = c;
    return true;
}

static void house_on_sibling(struct gctx *g)
{
    struct cand *b = NULL;
    for (int i = 0; i < g->ncand; i++) {
        struct cand *c = &g->cand[i];
        if (c->resolved && kept(c) && (!b || c->score > b->score))
            b = c;
    }
    if (!b || b->level >= GL_HOUSENUMBER || !g->hyp[b->hyp].has_hn || b->street_q < 1)
        return;
    const struct index_view *v = g->v;
    const uint32_t at = b->street;
    const struct ix_street *bs = &v->streets[at];
    const char *key = ix_str(v, bs->key);
    uint32_t lo = index_street_first(g->ix, key, strlen(key));
    if (lo == IX_NONE)
        return;
    uint32_t hi = index_street_run_end(g->ix, lo);
    gc_country_span(v, bs->country, &lo, &hi); /* sorted by town key within it */
    const uint32_t town = bs->city_key;
    for (uint32_t e = at + 1; e < hi && e <= at + SIBLING_NEAR && v->streets[e].city_key == town;
         e++)
        if (house_on_part(g, b, e))
            return;
    for (uint32_t e = at; e > lo && at - e < SIBLING_NEAR && v->streets[e - 1].city_key == town;
         e--)
        if (house_on_part(g, b, e - 1))
            return;
    for (uint32_t e = lo;
         town != 0 && e < hi && e < lo + SIBLING_NEAR && v->streets[e].city_key == 0;
         e++) /* the parts without a town sort first */
        if (house_on_part(g, b, e))
            return;
}

/* The score of the best answer resolved so far that drop_weak keeps and that confirmed_only
 * wants confirmed (confirmed()), or -HUGE_VAL. */
static double best_kept(struct gctx *g, bool confirmed_only)
{
    double best = -HUGE_VAL;
    for (int i = 0; i < g->ncand; i++) {
        const struct cand *c = &g->cand[i];
        if (c->resolved && kept(c) && (!confirmed_only || confirmed(g, c)) && c->score > best)
            best = c->score;
    }
    return best;
}

/*
 * Whether the streets of the spans that wait inside longer ones (hyp.inner) could not be
 * answers, had gc_parse_free made them candidates with the others: then find_candidates and
 * resolve_numbers would have found what they found without them. It is so when a confirmed
 * answer has been resolved (so no spelling tolerance and no set-aside runs were or would have
 * been tried) and each waiting hypothesis' bound (gc_hyp_bound, above any of its streets'
 * scores) with the most a number adds is under that answer's score less the tie: such a
 * street's score is then below the answer's street score by more than the tie, so it could
 * not raise score_streets' bar, and resolve_numbers, reaching it after the answer, would
 * leave it unresolved, to be dropped by drop_weak. (Scored, it could have set exact_elsewhere
 * or exact_alone: no one reads those beside exact_confirmed.) One difference: when every span
 * at once overflows MAX_CANDS, the inner spans' streets (first when they start the longer
 * span) filled the candidates and the longer name's were dropped unseen; waiting keeps them.
 */
static bool inner_outranked(struct gctx *g)
{
    double best = best_kept(g, true);
    for (int k = 0; k < g->nhyp; k++) {
        struct hyp *h = &g->hyp[k];
        if (h->inner && gc_hyp_bound(g, h) + MOST_NUMBER + 1e-9 >= best - GC_WEIGHTS.tie)
            return false;
    }
    return true;
}

/*
 * Whether the streets left out for want of room (MAX_CANDS: add_cand keeps the highest bounds,
 * gctx.refused) could not be answers: the highest bound of those (gc_street_bound) with the
 * most a number adds is under the best kept answer's score less the tie, so none could have
 * ranked beside it. When one could, the best answer is not known and forward gives no street:
 * the query's postcode or town, else its country's area as ambiguous. A query makes that many
 * candidates only when what it gives leaves hundreds of streets (several names, or several
 * readings of its words, each in over a hundred towns that nothing narrows).
 */
static bool refused_outranked(struct gctx *g)
{
    return g->refused_bound + MOST_NUMBER + 1e-9 < best_kept(g, false) - GC_WEIGHTS.tie;
}

/* Drop the candidates that are not answers: left unresolved by resolve_numbers, too low a
 * score, contradicted by the query's postcode or town (the best of those names the street the
 * fallback reads the rest of the query around: g->conflict_hyp), a street found only by
 * spelling tolerance that nothing else agrees with, or too many tokens left unexplained. */
static void drop_weak(struct gctx *g)
{
    int w = 0;
    double conflict_best = -1e300;
    for (int i = 0; i < g->ncand; i++) {
        struct cand *c = &g->cand[i];
        if (c->conflict && c->street_q >= 1 && c->score > conflict_best) {
            conflict_best = c->score;
            g->conflict_hyp = c->hyp + 1;
        }
        if (c->resolved && kept(c))
            g->cand[w++] = *c;
    }
    g->ncand = w;
}

/* g->order: the candidates best first. A merge sort in the context's own memory (qsort may
 * allocate); gc_cmp_cand is a total order, so every correct sort ranks alike. */
static void sort_candidates(struct gctx *g)
{
    int n = g->ncand;
    uint16_t *a = g->order, *b = g->order_tmp;
    for (int i = 0; i < n; i++)
        a[i] = (uint16_t)i;
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] =
                    gc_cmp_cand(&g->cand[a[j]], &g->cand[a[i]], (void *)g->v) < 0 ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        uint16_t *t = a;
        a = b;
        b = t;
    }
    if (a != g->order)
        memcpy(g->order, a, (size_t)n * sizeof(*a));
}

/* Whether c is an answer already kept: the same point through another hypothesis, or the
 * same street split by how its addresses name their locality (a village within a
 * municipality). */
static bool same_answer(const struct gctx *g, const struct cand *c, const int *kept, int nkept)
{
    const struct ix_street *b = &g->v->streets[c->street];
    for (int k = 0; k < nkept; k++) {
        const struct cand *o = &g->cand[kept[k]];
        const struct ix_street *a = &g->v->streets[o->street];
        if (fabs(o->lat - c->lat) < 1e-7 && fabs(o->lon - c->lon) < 1e-7)
            return true;
        if (a->key == b->key &&
            geo_approx_distance_m(fix2deg(a->lat), fix2deg(a->lon), fix2deg(b->lat),
                                  fix2deg(b->lon)) < SAME_STREET_M)
            return true;
    }
    return false;
}

/* Step 4: the distinct candidates as good as the best one (within GC_WEIGHTS.tie) into out,
 * up to max_results; more than one of them, shown or not, makes the answer ambiguous. */
static void emit_best(struct gctx *g, struct gc_result *out)
{
    int max = g->q->max_results > 0 ? g->q->max_results : 1;
    if (max > GC_MAX_CANDIDATES)
        max = GC_MAX_CANDIDATES;
    double top = g->cand[g->order[0]].score;
    int n = 0;
    int distinct = 0;
    int kept[GC_MAX_CANDIDATES + 1]; /* indexes into g->cand */
    for (int i = 0; i < g->ncand && distinct <= GC_MAX_CANDIDATES; i++) {
        const struct cand *c = &g->cand[g->order[i]];
        if (c->score < top - GC_WEIGHTS.tie)
            break;
        if (same_answer(g, c, kept, distinct))
            continue;
        kept[distinct++] = g->order[i];
        if (n < max)
            gc_emit_cand(g, c, &out->c[n++]);
    }
    out->n = n;
    bool asked_hn = false;
    for (int i = 0; i < g->nhyp; i++)
        asked_hn |= g->hyp[i].has_hn;
    for (int i = 0; i < n; i++) {
        bool up = asked_hn && out->c[i].level != GL_HOUSENUMBER;
        out->c[i].code = distinct > 1 ? (up ? GC_AMBIGUOUS_UPHIERARCHY : GC_AMBIGUOUS)
                                      : (up ? GC_UPHIERARCHY : GC_EXACT);
    }
}

int gc_answer_streets(const struct gctx *g, uint32_t *streets, int max)
{
    if (g->ncand == 0)
        return 0;
    double top = g->cand[g->order[0]].score;
    int n = 0;
    for (int i = 0; i < g->ncand && n < max; i++) {
        const struct cand *c = &g->cand[g->order[i]];
        if (c->score < top - GC_WEIGHTS.tie)
            break;
        bool seen = false;
        for (int k = 0; k < n && !seen; k++)
            seen = streets[k] == c->street;
        if (!seen)
            streets[n++] = c->street;
    }
    return n;
}

double gc_extent_gap_m(const struct ix_street *a, const struct ix_street *b)
{
    /* 64-bit: two longitudes of one sign each are up to 3.6e9 units apart */
    int64_t dlat = a->min_lat > b->max_lat   ? (int64_t)a->min_lat - b->max_lat
                   : b->min_lat > a->max_lat ? (int64_t)b->min_lat - a->max_lat
                                             : 0;
    int64_t dlon = a->min_lon > b->max_lon   ? (int64_t)a->min_lon - b->max_lon
                   : b->min_lon > a->max_lon ? (int64_t)b->min_lon - a->max_lon
                                             : 0;
    double lat = fix2deg(a->lat), dlon_deg = (double)dlon / IX_COORD_SCALE;
    if (dlon_deg > 180.0) /* the short way, across the antimeridian */
        dlon_deg = 360.0 - dlon_deg;
    return geo_approx_distance_m(lat, 0, lat + (double)dlat / IX_COORD_SCALE, dlon_deg);
}

bool gc_other_town(const struct index_view *va, const struct ix_street *a,
                   const struct index_view *vb, const struct ix_street *b)
{
    double gap = gc_extent_gap_m(a, b);
    return gap >= OTHER_TOWN_M ||
           (gap >= STREET_GAP_M && strcmp(ix_str(va, a->city), ix_str(vb, b->city)) != 0);
}

bool gc_name_elsewhere(const struct index *ix, const struct index_view *vb,
                       const struct ix_street *b)
{
    const struct index_view *v = index_view(ix);
    const char *key = ix_str(vb, b->key);
    uint32_t e = index_street_first(ix, key, strlen(key));
    uint32_t end = e == IX_NONE ? e : index_street_run_end(ix, e);
    for (; e < end; e++)
        if (memcmp(v->streets[e].country, b->country, 2) == 0 &&
            gc_other_town(v, &v->streets[e], vb, b))
            return true;
    return false;
}

/*
 * Whether the best answer is a street name and house number that the query does not place:
 * the same name in several towns of one country, and neither a postcode, a locality nor a
 * region of the query confirms one of them ("Sonnenstrasse 20, Germany"). That one town's
 * street has the house number is no reason to prefer it (the map may lack it elsewhere): the
 * answer is ambiguous, as for a name in more than WIDE_MAX towns. One street in one town is an
 * answer; so is a street-level answer, already marked ambiguous (no town has the number). Only the
 * best candidate's country counts (an index set asks one member a country, and must answer as the
 * merged index does); when the query named no country, it becomes the country filter.
 */
static bool street_unplaced(struct gctx *g)
{
    const struct cand *top = &g->cand[g->order[0]];
    const struct ix_street *ts = &g->v->streets[top->street];
    if (top->level != GL_HOUSENUMBER || !ts->country[0])
        return false;
    bool other_town = false;
    if (top->street_q < 1) {
        /* a misspelt name: when other towns' streets of the name are answers too, the answer
         * is a list marked ambiguous; when those lack the number they were dropped as nothing
         * agreed with them, and the one town's house would be answered as if it were certain:
         * the index's run of the name has them */
        if (top->confirmed || top->mq_state > 0)
            return false;
        for (int i = 0; i < g->ncand; i++) {
            const struct ix_street *s = &g->v->streets[g->cand[i].street];
            if (s->key == ts->key && gc_other_town(g->v, s, g->v, ts))
                return false;
        }
        other_town = gc_name_elsewhere(g->ix, g->v, ts);
    } else {
        for (int i = 0; i < g->ncand; i++) {
            const struct cand *c = &g->cand[i];
            const struct ix_street *s = &g->v->streets[c->street];
            if (s->key != ts->key || c->street_q < 1 || memcmp(s->country, ts->country, 2) != 0)
                continue;
            if (c->confirmed || c->mq_state > 0)
                return false;
            /* another town's street; not a part of the same street that the data splits by
             * locality (a road through two boroughs) */
            other_town |= gc_other_town(g->v, s, g->v, ts);
        }
    }
    if (other_town && !g->cc[0]) {
        memcpy(g->cc, ts->country, 2);
        g->cc[2] = '\0';
    }
    return other_town;
}

int geocode_street_unplaced(const struct index *ix, const struct gc_query *q, const char cc[2],
                            struct gc_result *out)
{
    struct gctx *g = gc_context(out);
    start_query(g, ix, q, NULL);
    gc_start_result(out);
    find_candidates(g); /* its hypotheses: whether a house number was asked */
    memcpy(g->cc, cc, 2);
    g->cc[2] = '\0';
    return gc_answer_ambiguous(g, out);
}

/* One reading of q (geocode_forward). */
static int forward(struct gctx *g, const struct index *ix, const struct gc_query *q,
                   const char *reading, struct gc_result *out)
{
    start_query(g, ix, q, reading);
    gc_start_result(out);
    find_candidates(g);
    resolve_numbers(g);
    if (g->ninner > 0 && !inner_outranked(g)) {
        gc_add_inner_spans(g);
        score_streets(g, 0, false);
        exact_flags(g);
        resolve_numbers(g);
    }
    house_on_sibling(g);
    bool unknown_best = g->refused && !refused_outranked(g);
    if (unknown_best)
        g->ncand = 0;
    out->exact_confirmed = g->exact_confirmed;
    out->exact_alone = g->exact_alone;
    out->exact_elsewhere = g->exact_elsewhere;
    drop_weak(g);
    if (g->ncand == 0 && !g->structured && !g->has_pc) {
        gc_find_postcode(g, true); /* no street: "9490 Vaduz" is a postcode and a city */
        out->pc_lone = g->has_pc;
    }
    if (g->ncand == 0 && g->too_wide)
        return gc_answer_ambiguous(g, out);
    if (g->ncand == 0 && unknown_best) {
        gc_fallback(g, out); /* a country is ambiguous when it is the filter */
        if (out->n > 0 && (out->c[0].level != GL_COUNTRY || !g->cc[0]))
            return 0;
        return gc_answer_ambiguous(g, out);
    }
    if (g->ncand == 0)
        return gc_fallback(g, out);
    sort_candidates(g);
    char cc[3];
    memcpy(cc, g->cc, sizeof(cc));
    if (street_unplaced(g)) {
        if (!q->in_set)
            return gc_answer_ambiguous(g, out);
        memcpy(g->cc, cc, sizeof(cc)); /* the answer as found */
        out->unplaced = true;
    }
    emit_best(g, out);
    out->span_tokens = g->cand[g->order[0]].span_tokens; /* emit_best's first */
    return 0;
}

/* The index's countries' language lists, at most READINGS of them, one country each, into
 * cc: their count, or -1 when there are more. */
#define READINGS 8
static int readings(const struct index_view *v, char cc[READINGS][3])
{
    int n = 0;
    for (size_t i = 0; i < v->n_countries; i++) {
        const struct ix_country *c = &v->countries[i];
        char code[3] = {c->code[0], c->code[1], '\0'};
        const char *langs = code[0] && c->streets ? norm_country_langs(code) : NULL;
        bool seen = !langs || !*langs;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(norm_country_langs(cc[k]), langs) == 0;
        if (seen)
            continue;
        if (n == READINGS)
            return -1;
        memcpy(cc[n++], code, 3);
    }
    return n;
}

/* Whether out's first answer is a house on a street as written. */
static bool house_as_written(const struct gc_result *out)
{
    return out->n > 0 && out->c[0].level == GL_HOUSENUMBER && out->c[0].mq[MQ_STREET] >= 1;
}

/*
 * A query that names no country, in an index of several (no main one) whose postcode it does
 * not give, is read in every language list at once (norm.h), which loses the words any list
 * drops ("Van" of "Van Ness Ave", "Dr." before a name) and reads a word as every list does
 * ("St." a street type, where German reads "Sankt"). When that reading finds no house on a
 * street as written, or one that leaves words of the query over, the language list of one of
 * the index's countries (up to READINGS of them) that finds a longer street name as written in
 * the query is the reading: into reading, true. house: the first answer is a house on a street
 * as written (house_as_written).
 */
static bool other_reading(struct gctx *g, bool house, char reading[3])
{
    if (g->cc_arg || g->structured)
        return false;
    if (house && g->cand[g->order[0]].unexplained == 0)
        return false;
    char cc[READINGS][3];
    int n = readings(g->v, cc);
    int best = gc_longest_street(g, NULL), pick = -1;
    for (int k = 0; k < n; k++) {
        int len = gc_longest_street(g, cc[k]);
        if (len > best) {
            best = len;
            pick = k;
        }
    }
    if (pick < 0)
        return false;
    memcpy(reading, cc[pick], 3);
    return true;
}

/* What an answer is ranked by among the readings of a query: its first candidate's level, then
 * its relevance. */
struct answer_rank {
    enum gc_level level;
    double relevance;
};

static struct answer_rank answer_rank(const struct gc_result *out)
{
    return out->n > 0 ? (struct answer_rank){out->c[0].level, out->c[0].relevance}
                      : (struct answer_rank){GL_NONE, 0};
}

static bool ranks_above(struct answer_rank a, struct answer_rank b)
{
    return a.level > b.level || (a.level == b.level && a.relevance > b.relevance + 1e-9);
}

/*
 * A query read in the languages of the index's main country (gc_main_guessed) reads another
 * country's words as that country does: "Bd" is no boulevard in Czech, "St" is "Sankt" in
 * German, Portuguese "Sá" a company's legal form. When that reading finds no house, the query
 * is read again in the language list of each other country of the index (readings); the
 * answer that ranks first (answer_rank) is out's, the main country's on a tie. rc: the first
 * reading's.
 */
static int main_or_other_reading(struct gctx *g, const struct index *ix, const struct gc_query *q,
                                 struct gc_result *out, int rc)
{
    if (out->n > 0 && out->c[0].level >= GL_HOUSENUMBER)
        return rc;
    char main_cc[3], cc[READINGS][3];
    memcpy(main_cc, g->guess_cc, 3);
    const char *main_langs = norm_country_langs(main_cc); /* NULL: a country of no list */
    int n = readings(g->v, cc), pick = -1, last = -1;
    struct answer_rank best = answer_rank(out);
    for (int k = 0; k < n && best.level < GL_HOUSENUMBER; k++) {
        if (main_langs && strcmp(norm_country_langs(cc[k]), main_langs) == 0)
            continue; /* the first reading's list */
        if ((rc = forward(g, ix, q, cc[k], out)) < 0)
            return rc;
        last = k;
        struct answer_rank r = answer_rank(out);
        if (ranks_above(r, best)) {
            best = r;
            pick = k;
        }
    }
    if (pick == last) /* out holds it (or the first reading, when no other was read) */
        return rc;
    if (pick < 0 && best.level == GL_NONE && !q->set)
        return rc; /* no answer in any reading: nothing of the first to give back (an index set
                    * weighs what a member reports beside its answers: the first's) */
    return forward(g, ix, q, pick >= 0 ? cc[pick] : NULL, out);
}

/* q read in the languages its words ask for (other_reading, main_or_other_reading). */
int gc_read(struct gctx *g, const struct index *ix, const struct gc_query *q, struct gc_result *out)
{
    int rc = forward(g, ix, q, NULL, out);
    if (rc >= 0 && gc_main_guessed(g))
        return main_or_other_reading(g, ix, q, out, rc);
    char reading[3];
    bool house = rc >= 0 && house_as_written(out);
    if (rc < 0 || !other_reading(g, house, reading))
        return rc;
    int span = out->span_tokens;
    rc = forward(g, ix, q, reading, out);
    /* a house with words over stands unless the other reading answers on a longer street as
     * written */
    if (rc < 0 || !house || (out->n > 0 && out->c[0].mq[MQ_STREET] >= 1 && out->span_tokens > span))
        return rc;
    return forward(g, ix, q, NULL, out);
}

/* The token of free text that opens a part with an English number word before a word ("One
 * Market Street", "Acme Inc, Two Embarcadero Center"): the first such, -1 when none; its
 * number into *value. */
static int number_word_token(const struct gctx *g, int *value)
{
    for (int k = 0; k + 1 < g->ntok; k++)
        if ((k == 0 || g->tok[k - 1].comma_after) && !g->tok[k].used && !g->tok[k].comma_after &&
            !g->tok[k + 1].numlike && (*value = norm_number_word(g->tok[k].s, g->tok[k].len)) > 0)
            return k;
    return -1;
}

/* Whether the street of the answer that is no house (if it has one) leaves token k out: then
 * the number word k may be the house number. "Ten Mile Road" is a street of that name. */
static bool number_word_unread(const struct gctx *g, int k)
{
    if (g->ncand == 0)
        return true;
    const struct hyp *h = &g->hyp[g->cand[g->order[0]].hyp];
    return !(h->span_i <= k && k < h->span_j);
}

/* The answer to q that out holds, or other's (q asked another way) when that ranks above it
 * (answer_rank): other is read, and q again when other's answer does not rank above. */
static int read_better(struct gctx *g, const struct index *ix, const struct gc_query *q,
                       const struct gc_query *other, struct gc_result *out)
{
    struct answer_rank first = answer_rank(out);
    int rc = gc_read(g, ix, other, out);
    if (rc < 0 || ranks_above(answer_rank(out), first))
        return rc;
    return gc_read(g, ix, q, out);
}

/*
 * A code at the end of free text that names a country and a region ("CA": Canada and
 * California) is the region after a town of the region's country, else the country. A query
 * whose street or town is not read as written, or whose town is also the region's country's,
 * then finds nothing: "455 Franklin Street, CA" and "San Fransisco, CA" in Canada, "Toronto, CA"
 * in California (Toronto, Ohio). When that reading finds no street, the query is read again with
 * the code the other way; that answer stands when it ranks above (answer_rank), else the first
 * reading is made again. rc: the first reading's.
 */
static int code_read_other_way(struct gctx *g, const struct index *ix, const struct gc_query *q,
                               struct gc_result *out, int rc)
{
    if (rc < 0 || !g->code_two_ways || q->code_other || answer_rank(out).level >= GL_STREET)
        return rc;
    struct gc_query other = *q;
    other.code_other = true;
    return read_better(g, ix, q, &other, out);
}

/* Append field f (blank: nothing) to text (used bytes of cap) after sep; false when it does not
 * fit. */
static bool append_field(char *text, size_t cap, size_t *used, const char *sep, const char *f)
{
    if (is_blank(f))
        return true;
    int n = snprintf(text + *used, cap - *used, "%s%s", *used ? sep : "", f);
    if (n < 0 || (size_t)n >= cap - *used)
        return false;
    *used += (size_t)n;
    return true;
}

/*
 * Structured fields whose street is read as no street of the index ("Franklin St Apt 3": an
 * address line with its unit; "Franklin" without its type) are read again as the free text they
 * make ("455 Franklin St Apt 3, San Francisco, CA 94102"), where unit text, a street less its
 * type and the other forms of free text are read; that answer stands when it ranks above the
 * first (answer_rank), else the first reading is made again. rc: the first reading's.
 */
static int structured_as_text(struct gctx *g, const struct index *ix, const struct gc_query *q,
                              struct gc_result *out, int rc)
{
    if (rc < 0 || !g->structured || is_blank(q->street) || answer_rank(out).level >= GL_STREET)
        return rc;
    char text[1024];
    size_t used = 0;
    if (!append_field(text, sizeof(text), &used, "", q->house_number) ||
        !append_field(text, sizeof(text), &used, " ", q->street) ||
        !append_field(text, sizeof(text), &used, ", ", q->district) ||
        !append_field(text, sizeof(text), &used, ", ", q->city) ||
        !append_field(text, sizeof(text), &used, ", ", q->county) ||
        !append_field(text, sizeof(text), &used, ", ", q->state) ||
        !append_field(text, sizeof(text), &used, " ", q->postcode))
        return rc; /* fields that long: the first reading */
    struct gc_query t = *q;
    t.search_text = text;
    t.street = t.house_number = t.postcode = t.city = t.district = t.county = t.state = NULL;
    return read_better(g, ix, q, &t, out);
}

/*
 * Free text whose house number is written as a word ("One Dr. Carlton B. Goodlett Place", as
 * US buildings are named) is read again with the number in digits when the first reading
 * finds no house and its street leaves that word out; that reading is the answer when it is a
 * house on a street as written, else the first stands.
 */
int geocode_forward(const struct index *ix, const struct gc_query *q, struct gc_result *out)
{
    struct gctx *g = gc_context(out);
    char plain[GC_PLAIN_TEXT];
    struct gc_query plain_q;
    q = gc_plain_query(q, &plain_q, plain, sizeof(plain));
    int rc = gc_read(g, ix, q, out);
    rc = structured_as_text(g, ix, q, out, code_read_other_way(g, ix, q, out, rc));
    rc = gc_intersection(g, ix, q, out, rc);
    /* an intersection's context is its last side's reading, not q's: done */
    if (rc < 0 || g->structured || (out->n > 0 && out->c[0].level >= GL_INTERSECTION))
        return rc;
    int value = 0;
    int k = number_word_token(g, &value);
    if (k < 0 || !number_word_unread(g, k))
        return rc;
    char text[1024];
    int before = (int)(g->tok[k].s - q->search_text);
    int n = snprintf(text, sizeof(text), "%.*s%d%s", before, q->search_text, value,
                     g->tok[k].s + g->tok[k].len);
    if (n < 0 || (size_t)n >= sizeof(text)) /* a text that long: the first reading */
        return rc;
    struct gc_query digits = *q;
    digits.search_text = text;
    rc = gc_read(g, ix, &digits, out);
    if (rc < 0 || house_as_written(out))
        return rc;
    return gc_read(g, ix, q, out);
}
