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
 * No step allocates: all working memory is on the stack or in struct gc_result.
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "record/geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The country whose languages names are read in when the query names none. */
static const char *only_country(struct gctx *g)
{
    /* The index's main country, when it holds at least 80% of the addresses. */
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
    if (!found || best * 5 < total * 4)
        return NULL;
    memcpy(g->guess_cc, found, 2);
    g->guess_cc[2] = '\0';
    return g->guess_cc;
}

/* Whether some exact candidate is confirmed and explains every token. */
static bool credible(const struct gctx *g)
{
    for (int i = 0; i < g->ncand; i++)
        if (g->cand[i].street_q >= 1 && g->cand[i].unexplained == 0 &&
            (g->cand[i].confirmed || (!g->has_pc && g->hyp[g->cand[i].hyp].n_runs == 0)))
            return true;
    return false;
}

int geocode_forward(const struct index *ix, const struct gc_query *q, struct gc_result *out)
{
    struct gctx *g = malloc(sizeof(*g)); /* ~60 KB: too big for small thread stacks */
    if (!g)
        return -12;
    memset(g, 0, offsetof(struct gctx, tok));
    g->ntok = g->nhyp = g->ncand = 0;
    g->country_named = false;
    g->ix = ix;
    g->v = index_view(ix);
    g->q = q;
    g->pc_entry = IX_NONE;
    gc_set_country(g, q->country, g->cc);
    gc_set_country(g, q->country_focus, g->focus);
    out->n = 0;
    g->structured = is_blank(q->search_text);
    if (g->cc[0])
        g->cc_arg = g->cc;
    else if (g->focus[0])
        g->cc_arg = g->focus;
    else
        g->cc_arg = only_country(g);
    if (!is_blank(q->postcode))
        gc_set_postcode(g, q->postcode, strlen(q->postcode));
    if (g->structured)
        gc_parse_structured(g);
    else {
        gc_parse_free(g, q->search_text);
        if (g->cc[0])
            g->cc_arg = g->cc;
    }
    for (int i = 0; i < g->ncand; i++)
        gc_score_cand(g, &g->cand[i]);
    if (!g->structured && !credible(g)) {
        int before = g->ncand;
        gc_parse_free_fuzzy(g);
        for (int i = before; i < g->ncand; i++)
            gc_score_cand(g, &g->cand[i]);
    }
    /* a street found only by spelling tolerance needs something else to agree */
    int w = 0;
    for (int i = 0; i < g->ncand; i++) {
        struct cand *c = &g->cand[i];
        bool keep = c->score >= GC_WEIGHTS.min_score;
        if (c->street_q < 1 && !c->confirmed && !(c->type == GT_POINT && c->unexplained == 0))
            keep = false;
        if (c->unexplained > c->span_tokens + 1)
            keep = false;
        if (keep)
            g->cand[w++] = *c;
    }
    g->ncand = w;
    if (g->ncand == 0 && !g->structured && !g->has_pc)
        gc_find_postcode(g, true); /* no street: "9490 Vaduz" is a postcode and a city */
    if (g->ncand == 0) {
        int rc = gc_fallback(g, out);
        free(g);
        return rc;
    }
    qsort_r(g->cand, (size_t)g->ncand, sizeof(g->cand[0]), gc_cmp_cand, (void *)g->v);
    /* candidates as good as the best one (within a hair) make the answer ambiguous */
    int max = q->max_results > 0 ? q->max_results : 1;
    if (max > GC_MAX_CANDIDATES)
        max = GC_MAX_CANDIDATES;
    double top = g->cand[0].score;
    int n = 0;
    /* distinct answers as good as the best, counted past maxresults: matchCode says
     * "ambiguous" even when only one of them is shown */
    int distinct = 0;
    int kept[GC_MAX_CANDIDATES + 1];
    for (int i = 0; i < g->ncand && distinct <= GC_MAX_CANDIDATES; i++) {
        const struct cand *c = &g->cand[i];
        if (c->score < top - GC_WEIGHTS.tie)
            break;
        /* the same point through another hypothesis, or the same street split by how its
         * addresses name their locality (a village within a municipality): skip */
        bool dup = false;
        const struct ix_street *b = &g->v->streets[c->street];
        for (int k = 0; k < distinct && !dup; k++) {
            const struct cand *o = &g->cand[kept[k]];
            const struct ix_street *a = &g->v->streets[o->street];
            dup |= fabs(o->lat - c->lat) < 1e-7 && fabs(o->lon - c->lon) < 1e-7;
            dup |= a->key == b->key &&
                   geo_approx_distance_m(fix2deg(a->lat), fix2deg(a->lon), fix2deg(b->lat),
                                         fix2deg(b->lon)) < SAME_STREET_M;
        }
        if (dup)
            continue;
        kept[distinct++] = i;
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
    free(g);
    return 0;
}
