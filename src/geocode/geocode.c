/*
 * geocode.c - forward and reverse geocoding against a mapped index (see geocode.h).
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
 * No step allocates: all working memory is on the stack or in struct gc_result.
 */
#include "geocode/geocode.h"
#include "record/geo.h"
#include "index/index.h"
#include "index/index_format.h"
#include "text/norm.h"
#include "record/record.h"
#include "base/hash.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS         24
#define MAX_SPAN           6
#define MAX_HYP            16
#define MAX_CANDS          256
#define MAX_RUNS           8
#define KEY_MAX            256
#define MIN_SCORE          3.0
#define INTERP_MAX_GAP_NUM 200
#define INTERP_MAX_GAP_M   1500.0
#define SAME_STREET_M      500.0

/* ---- small helpers ---- */

static double fix2deg(int32_t v)
{
    return v / IX_COORD_SCALE;
}

static size_t postcode_key(const char *s, size_t n, char *out, size_t cap)
{
    return norm_postcode(s, n, true, out, cap);
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), giving up
 * above max: only the diagonal band |i - j| <= max can hold a distance <= max, so only it is
 * computed; cells outside the band read as "too far".
 */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb, int max)
{
    enum { FAR = 1 << 20 };
    if (la > 64 || lb > 64 || max < 0)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    int d[65][65];
    size_t w = (size_t)max;
    for (size_t i = 0; i <= la; i++) {
        size_t lo = i > w ? i - w : 0, hi = i + w < lb ? i + w : lb;
        if (lo > 0)
            d[i][lo - 1] = FAR;
        if (hi < lb)
            d[i][hi + 1] = FAR;
        int rowmin = FAR;
        for (size_t j = lo; j <= hi; j++) {
            int v;
            if (i == 0)
                v = (int)j;
            else if (j == 0)
                v = (int)i;
            else {
                int cost = a[i - 1] != b[j - 1];
                v = d[i - 1][j - 1] + cost;
                if (d[i - 1][j] + 1 < v) /* FAR just past the band of row i - 1 */
                    v = d[i - 1][j] + 1;
                if (d[i][j - 1] + 1 < v)
                    v = d[i][j - 1] + 1;
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                    d[i - 2][j - 2] + 1 < v)
                    v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        if (rowmin > max)
            return max + 1;
    }
    return d[la][lb] > max ? max + 1 : d[la][lb];
}

/* Edits a key of this length may carry and still be found. */
static int allowed_edits(size_t len)
{
    return len >= 9 ? 2 : len >= 4 ? 1 : 0;
}

static bool country_ok(const char *want, const char have[2])
{
    return !want[0] || !have[0] || (want[0] == have[0] && want[1] == have[1]);
}

/* ---- the query as parsed ---- */

struct token {
    const char *s;
    size_t len;
    bool numlike; /* looks like a house number */
    bool used;    /* consumed as postcode or country */
    bool comma_after;
};

struct run {
    int first, ntok;
    char key[KEY_MAX];
    size_t klen;
};

struct hyp {
    int span_i, span_j; /* street tokens [i, j); -1 for structured input */
    int num_tok;        /* first token of the house number, or -1 */
    int num_end;        /* one past its last token (unit text included) */
    bool has_hn;
    struct hnum hn;
    const char *hn_raw;
    size_t hn_len;
    int n_runs;
    struct run runs[MAX_RUNS]; /* locality text left over */
};

struct cand {
    uint32_t street;
    int hyp;
    double street_q;
    int span_tokens;
    double score;
    double mq_city, mq_district, mq_pc, mq_hn, mq_state;
    int unexplained;
    bool confirmed; /* postcode or locality agreed */
    /* resolution */
    enum gc_level level;
    enum gc_type type;
    uint32_t addr;
    double lat, lon;
    long number; /* for interpolated results */
};

struct gctx {
    const struct index *ix;
    const struct index_view *v;
    const struct gc_query *q;
    char cc[3]; /* country filter, ISO2, "" when none */
    char focus[3];
    const char *cc_arg; /* cc or NULL for norm_* */
    char guess_cc[3];   /* the country that names are read in when the query gives none */
    bool structured;
    /* postcode */
    bool has_pc;
    char pc_key[32];
    uint32_t pc_entry; /* first postcode entry, IX_NONE if unknown to the index */
    /* tokens */
    struct token tok[MAX_TOKENS];
    int ntok;
    bool country_named; /* the text names the country */
    struct hyp hyp[MAX_HYP];
    int nhyp;
    struct cand cand[MAX_CANDS];
    int ncand;
};

static bool is_blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static void set_country(struct gctx *g, const char *country, char *out)
{
    out[0] = '\0';
    if (is_blank(country))
        return;
    const char *iso2 = norm_country(country, strlen(country));
    if (iso2) {
        out[0] = iso2[0];
        out[1] = iso2[1];
        out[2] = '\0';
    }
    (void)g;
}

static void set_postcode(struct gctx *g, const char *s, size_t n)
{
    size_t k = postcode_key(s, n, g->pc_key, sizeof(g->pc_key));
    if (k == 0)
        return;
    g->has_pc = true;
    g->pc_entry = IX_NONE;
    uint32_t e = index_postcode_first(g->ix, g->pc_key, k);
    for (; e != IX_NONE && e < g->v->n_postcodes &&
           strcmp(ix_str(g->v, g->v->postcodes[e].key), g->pc_key) == 0;
         e++) {
        if (country_ok(g->cc, g->v->postcodes[e].country)) {
            g->pc_entry = e;
            break;
        }
    }
}

static bool numlike(const char *s, size_t n)
{
    if (n == 0 || !isdigit((unsigned char)s[0]))
        return false;
    size_t letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' && i + 1 < n && isalpha((unsigned char)s[i + 1]))
            break; /* "13/Top": unit text after the slash */
        if (isalpha(c))
            letters++;
        else if (!isdigit(c) && c != '/' && c != '-')
            return false;
    }
    /* "12a" is a number with a letter; "10th" (an ordinal) belongs to a street name */
    return letters <= 1;
}

static void tokenize(struct gctx *g, const char *text)
{
    const char *p = text;
    g->ntok = 0;
    while (*p && g->ntok < MAX_TOKENS) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        struct token *t = &g->tok[g->ntok++];
        t->s = s;
        t->len = (size_t)(p - s);
        t->numlike = numlike(s, t->len);
        t->used = false;
        const char *q = p;
        while (*q && isspace((unsigned char)*q))
            q++;
        t->comma_after = *q == ',';
    }
}

/* Key of the raw text spanning tokens [i, j). */
static size_t span_key(const struct gctx *g, int i, int j, char *out, size_t cap)
{
    const char *s = g->tok[i].s;
    size_t n = (size_t)(g->tok[j - 1].s + g->tok[j - 1].len - s);
    int k = norm_key(s, n, g->cc_arg, out, cap);
    return k > 0 ? (size_t)k : 0;
}

/* Free-form: postcode tokens (one, or two adjacent like "182 00"), and the country. */
static void find_postcode(struct gctx *g, bool lone_number_ok);

static void find_postcode_and_country(struct gctx *g)
{
    /* the country: a trailing run of tokens that names one */
    for (int len = 3; len >= 1 && !g->country_named; len--) {
        int i = g->ntok - len;
        if (i < 0 || (i == 0 && len != g->ntok))
            continue;
        const char *s = g->tok[i].s;
        size_t n = (size_t)(g->tok[g->ntok - 1].s + g->tok[g->ntok - 1].len - s);
        const char *iso2 = norm_country(s, n);
        if (iso2 && (n > 3 || !g->cc[0] || (iso2[0] == g->cc[0] && iso2[1] == g->cc[1]))) {
            if (!g->cc[0]) {
                g->cc[0] = iso2[0];
                g->cc[1] = iso2[1];
                g->cc[2] = '\0';
            }
            for (int k = i; k < g->ntok; k++)
                g->tok[k].used = true;
            g->country_named = true;
        }
    }
    find_postcode(g, false);
}

/* A postcode known to the index among the tokens (one, or two like "182 00"), later ones
 * first. A lone number next to words is taken as the house number unless lone_number_ok. */
static void find_postcode(struct gctx *g, bool lone_number_ok)
{
    int nnum = 0, nwords = 0;
    for (int i = 0; i < g->ntok; i++) {
        nnum += g->tok[i].numlike && !g->tok[i].used;
        nwords += !g->tok[i].numlike && !g->tok[i].used;
    }
    /* later tokens first: postcodes usually follow the street */
    for (int i = g->ntok - 1; i >= 0 && !g->has_pc; i--) {
        struct token *t = &g->tok[i];
        if (t->used)
            continue;
        for (int two = 1; two >= 0 && !g->has_pc; two--) {
            if (two && (i + 1 >= g->ntok || g->tok[i + 1].used))
                continue;
            size_t n = two ? (size_t)(g->tok[i + 1].s + g->tok[i + 1].len - t->s) : t->len;
            char key[32];
            size_t k = postcode_key(t->s, n, key, sizeof(key));
            if (k < 3 || !strpbrk(key, "0123456789"))
                continue;
            if (t->numlike && nnum == 1 && nwords > 0 && !two && !lone_number_ok)
                continue; /* the only number next to words is more likely the house number */
            uint32_t e = index_postcode_first(g->ix, key, k);
            bool found = false;
            for (; e != IX_NONE && e < g->v->n_postcodes &&
                   strcmp(ix_str(g->v, g->v->postcodes[e].key), key) == 0;
                 e++)
                if (country_ok(g->cc, g->v->postcodes[e].country)) {
                    found = true;
                    break;
                }
            if (!found)
                continue;
            memcpy(g->pc_key, key, k + 1);
            g->has_pc = true;
            g->pc_entry = e;
            if (!g->cc_arg && g->v->postcodes[e].country[0]) {
                memcpy(g->guess_cc, g->v->postcodes[e].country, 2);
                g->cc_arg = g->guess_cc;
            }
            t->used = true;
            if (two)
                g->tok[i + 1].used = true;
        }
    }
}

static void add_run(struct gctx *g, struct hyp *h, int first, int end)
{
    if (end <= first || h->n_runs >= MAX_RUNS)
        return;
    struct run *r = &h->runs[h->n_runs];
    r->first = first;
    r->ntok = end - first;
    r->klen = span_key(g, first, end, r->key, sizeof(r->key));
    if (r->klen)
        h->n_runs++;
}

/* Leftover tokens of a hypothesis, as runs split at commas and used tokens. */
static void leftover_runs(struct gctx *g, struct hyp *h)
{
    int start = -1;
    for (int k = 0; k <= g->ntok; k++) {
        bool free_tok = k < g->ntok && !g->tok[k].used && (k < h->span_i || k >= h->span_j) &&
                        (k < h->num_tok || k >= h->num_end);
        if (free_tok && start < 0)
            start = k;
        if (start >= 0 && (!free_tok || g->tok[k].comma_after)) {
            int end = free_tok ? k + 1 : k;
            add_run(g, h, start, end);
            start = -1;
        }
    }
}

static void add_cand(struct gctx *g, uint32_t street, int hyp, double q, int span_tokens)
{
    const struct ix_street *s = &g->v->streets[street];
    if (!country_ok(g->cc, s->country))
        return;
    for (int i = 0; i < g->ncand; i++)
        if (g->cand[i].street == street && g->cand[i].hyp == hyp) {
            if (q > g->cand[i].street_q)
                g->cand[i].street_q = q;
            return;
        }
    if (g->ncand >= MAX_CANDS)
        return;
    struct cand *c = &g->cand[g->ncand++];
    memset(c, 0, sizeof(*c));
    c->street = street;
    c->hyp = hyp;
    c->street_q = q;
    c->span_tokens = span_tokens;
    c->addr = IX_NONE;
}

/* Every street of the run that starts at first (equal keys are adjacent). */
static void add_street_run(struct gctx *g, uint32_t first, int hyp, double q, int span_tokens)
{
    const struct index_view *v = g->v;
    const char *key = ix_str(v, v->streets[first].key);
    for (uint32_t k = first; k < v->n_streets && strcmp(ix_str(v, v->streets[k].key), key) == 0;
         k++)
        add_cand(g, k, hyp, q, span_tokens);
}

/* Streets whose key is within the allowed edits of key: add them with quality < 1. */
static int fuzzy_streets_within(struct gctx *g, const char *key, size_t len, int maxd, int hyp,
                                int span_tokens, double quality);

static int fuzzy_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
{
    return fuzzy_streets_within(g, key, len, allowed_edits(len), hyp, span_tokens, 0.9);
}

/* Streets within maxd edits of key (one-deletion index, up to two deletions on our side). */
struct fuzzy_probe {
    struct gctx *g;
    const char *key;
    size_t len;
    int maxd, hyp, span_tokens;
    double quality;
    uint32_t seen[64];
    int nseen, added, best; /* best: the smallest distance added so far */
};

/* Look up one variant; verify and add the streets it names. */
static void fuzzy_probe_variant(struct fuzzy_probe *fp, const char *variant, size_t vlen)
{
    const struct index_view *v = fp->g->v;
    size_t n;
    const struct ix_fuzzy *fz = index_fuzzy_find(fp->g->ix, variant, vlen, &n);
    for (size_t e = 0; e < n; e++) {
        uint32_t st = fz[e].street;
        bool dup = false;
        for (int k = 0; k < fp->nseen && !dup; k++)
            dup = fp->seen[k] == st;
        if (dup || fp->nseen >= 64)
            continue;
        fp->seen[fp->nseen++] = st;
        const char *sk = ix_str(v, v->streets[st].key);
        size_t sl = strlen(sk);
        int dist = osa_distance(fp->key, fp->len, sk, sl, fp->maxd);
        if (dist == 0 || dist > fp->maxd || dist > allowed_edits(sl > fp->len ? sl : fp->len))
            continue;
        add_street_run(fp->g, st, fp->hyp, fp->quality - 0.1 * dist, fp->span_tokens);
        fp->added++;
        if (dist < fp->best)
            fp->best = dist;
    }
}

/* Probe key without the bytes at d1 and d2 (either may be len: nothing deleted). */
static void fuzzy_probe_without(struct fuzzy_probe *fp, size_t d1, size_t d2)
{
    char variant[KEY_MAX];
    size_t n = 0;
    for (size_t i = 0; i < fp->len && n < sizeof(variant); i++)
        if (i != d1 && i != d2)
            variant[n++] = fp->key[i];
    fuzzy_probe_variant(fp, variant, n);
}

/*
 * Streets within maxd edits of key. The index holds every key and its one-deletion variants;
 * we probe the key and its one-deletion variants (one edit of any kind), and only when that
 * finds nothing, its two-deletion variants (two edits, for long keys). A deletion next to an
 * equal byte gives the same variant as its neighbour: probed once.
 */
static int fuzzy_streets_within(struct gctx *g, const char *key, size_t len, int maxd, int hyp,
                                int span_tokens, double quality)
{
    if (maxd == 0)
        return 0;
    struct fuzzy_probe fp = {.g = g,
                             .key = key,
                             .len = len,
                             .maxd = maxd,
                             .hyp = hyp,
                             .span_tokens = span_tokens,
                             .quality = quality,
                             .best = 99};
    fuzzy_probe_without(&fp, len, len);
    for (size_t d1 = 0; d1 < len; d1++)
        if (d1 == 0 || key[d1] != key[d1 - 1])
            fuzzy_probe_without(&fp, d1, len);
    if (maxd < 2 || fp.best <= 1)
        return fp.added;
    for (size_t d1 = 0; d1 < len; d1++) {
        if (d1 > 0 && key[d1] == key[d1 - 1])
            continue;
        for (size_t d2 = d1 + 1; d2 < len; d2++)
            if (d2 == d1 + 1 || key[d2] != key[d2 - 1])
                fuzzy_probe_without(&fp, d1, d2);
    }
    return fp.added;
}

static struct hyp *new_hyp(struct gctx *g)
{
    if (g->nhyp >= MAX_HYP)
        return NULL;
    struct hyp *h = &g->hyp[g->nhyp];
    memset(h, 0, sizeof(*h));
    h->span_i = h->span_j = -1;
    h->num_tok = h->num_end = -1;
    return h;
}

/* The house-number token for a street span: adjacent first, else the first free number. */
static void pick_number(struct gctx *g, struct hyp *h)
{
    int best = -1;
    if (h->span_j < g->ntok && g->tok[h->span_j].numlike && !g->tok[h->span_j].used)
        best = h->span_j;
    else if (h->span_i > 0 && g->tok[h->span_i - 1].numlike && !g->tok[h->span_i - 1].used)
        best = h->span_i - 1;
    else
        for (int k = 0; k < g->ntok && best < 0; k++)
            if (g->tok[k].numlike && !g->tok[k].used && (k < h->span_i || k >= h->span_j))
                best = k;
    if (best < 0)
        return;
    /* What follows the number and belongs to it: a single letter ("12 a"), unit text after a
     * slash ("13/Top 3"), or a unit word and its number ("12 Apt 3", "12 #3"). */
    int end = best + 1;
    const struct token *t = &g->tok[best];
    if (end < g->ntok && end != h->span_i && !t->comma_after && g->tok[end].len == 1 &&
        isalpha((unsigned char)g->tok[end].s[0]))
        end++;
    else if (memchr(t->s, '/', t->len) && !isdigit((unsigned char)t->s[t->len - 1]) &&
             end < g->ntok && end != h->span_i && g->tok[end].numlike)
        end++;
    else if (end < g->ntok && end != h->span_i &&
             (g->tok[end].s[0] == '#' || norm_unit_word(g->tok[end].s, g->tok[end].len))) {
        end++;
        if (g->tok[end - 1].len == 1 && end < g->ntok && end != h->span_i && g->tok[end].numlike)
            end++; /* "#" "3" */
        else if (g->tok[end - 1].s[0] != '#' && end < g->ntok && end != h->span_i &&
                 (g->tok[end].numlike || g->tok[end].len <= 3))
            end++; /* "Apt" "3" */
    }
    size_t n = (size_t)(g->tok[end - 1].s + g->tok[end - 1].len - t->s);
    struct hnum hn;
    if (norm_hnum(t->s, n, &hn) == 0 && hn.number >= 0) {
        h->num_tok = best;
        h->num_end = end;
        h->has_hn = true;
        h->hn = hn;
        h->hn_raw = t->s;
        h->hn_len = n;
    }
}

static void parse_free(struct gctx *g, const char *text)
{
    tokenize(g, text);
    find_postcode_and_country(g);
    /* exact street spans */
    for (int i = 0; i < g->ntok; i++) {
        if (g->tok[i].used || g->tok[i].numlike)
            continue;
        for (int j = i + 1; j <= g->ntok && j - i <= MAX_SPAN; j++) {
            if (g->tok[j - 1].used || g->tok[j - 1].numlike)
                break;
            char key[KEY_MAX];
            size_t kl = span_key(g, i, j, key, sizeof(key));
            if (kl == 0)
                continue;
            uint32_t first = index_street_first(g->ix, key, kl);
            if (first == IX_NONE)
                continue;
            struct hyp *h = new_hyp(g);
            if (!h)
                break;
            h->span_i = i;
            h->span_j = j;
            pick_number(g, h);
            leftover_runs(g, h);
            add_street_run(g, first, g->nhyp, 1.0, j - i);
            g->nhyp++;
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
}

/*
 * Street types where typos concentrate ("Strase", "Strße"): a span whose tail is close to one
 * of these and whose stem plus the type is a street. Folded forms, as norm_key writes them.
 */
static const char *const street_types[] = {
    "strasse", "gasse",  "weg",       "platz", "allee",   "ring",  "street",  "avenu", "road",
    "drive",   "lane",   "boulevard", "ulice", "namesti", "trida", "nabrezi", "rue",   "via",
    "calle",   "straat", "laan",      "vej",   "gade",    "gatan", "vagen",   "rua",   "avenida",
};

static int typed_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
{
    int added = 0;
    char cand[KEY_MAX];
    for (size_t t = 0; t < sizeof(street_types) / sizeof(street_types[0]); t++) {
        const char *ty = street_types[t];
        size_t tl = strlen(ty);
        int maxd = tl >= 7 ? 3 : tl >= 5 ? 2 : 1;
        for (size_t p = 4; p < len; p++) {
            size_t tail = len - p;
            if (tail + (size_t)maxd < tl || tail > tl + (size_t)maxd)
                continue;
            if (tail == tl && memcmp(key + p, ty, tl) == 0)
                continue; /* the exact type: the exact lookup has seen it */
            if (p + tl >= sizeof(cand))
                continue;
            int d = osa_distance(key + p, tail, ty, tl, maxd);
            if (d > maxd)
                continue;
            memcpy(cand, key, p);
            memcpy(cand + p, ty, tl);
            uint32_t first = index_street_first(g->ix, cand, p + tl);
            if (first != IX_NONE) {
                add_street_run(g, first, hyp, 0.85, span_tokens);
                added++;
            } else if (p >= 5) {
                /* a misspelt type and one more slip in the name ("Sebastjanstrase") */
                added += fuzzy_streets_within(g, cand, p + tl, 1, hyp, span_tokens, 0.85);
            }
        }
    }
    return added;
}

/* No credible exact street: spans within a few edits, or with a misspelt street type. */
static void parse_free_fuzzy(struct gctx *g)
{
    for (int i = 0; i < g->ntok; i++) {
        if (g->tok[i].used || g->tok[i].numlike)
            continue;
        for (int j = i + 1; j <= g->ntok && j - i <= 4; j++) {
            if (g->tok[j - 1].used || g->tok[j - 1].numlike)
                break;
            char key[KEY_MAX];
            size_t kl = span_key(g, i, j, key, sizeof(key));
            if (kl < 4)
                continue;
            if (g->nhyp >= MAX_HYP)
                return;
            struct hyp *h = new_hyp(g);
            h->span_i = i;
            h->span_j = j;
            int before = g->ncand;
            fuzzy_streets(g, key, kl, g->nhyp, j - i);
            typed_streets(g, key, kl, g->nhyp, j - i);
            if (g->ncand > before) {
                pick_number(g, h);
                leftover_runs(g, h);
                g->nhyp++;
            }
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
}

static void parse_structured(struct gctx *g)
{
    const struct gc_query *q = g->q;
    struct hyp *h = new_hyp(g);
    g->nhyp = 1;
    if (!is_blank(q->house_number)) {
        struct hnum hn;
        if (norm_hnum(q->house_number, strlen(q->house_number), &hn) == 0 && hn.number >= 0) {
            h->has_hn = true;
            h->hn = hn;
            h->hn_raw = q->house_number;
            h->hn_len = strlen(q->house_number);
        }
    }
    const char *locs[3] = {q->city, q->district, q->county};
    for (int i = 0; i < 3; i++) {
        if (is_blank(locs[i]) || h->n_runs >= MAX_RUNS)
            continue;
        struct run *r = &h->runs[h->n_runs];
        int k = norm_key(locs[i], strlen(locs[i]), g->cc_arg, r->key, sizeof(r->key));
        if (k > 0) {
            r->klen = (size_t)k;
            r->ntok = 1;
            r->first = -1;
            h->n_runs++;
        }
    }
    if (is_blank(q->street))
        return;
    char key[KEY_MAX];
    int kl = norm_key(q->street, strlen(q->street), g->cc_arg, key, sizeof(key));
    if (kl <= 0)
        return;
    uint32_t first = index_street_first(g->ix, key, (size_t)kl);
    if (first != IX_NONE) {
        add_street_run(g, first, 0, 1.0, 1);
        return;
    }
    if (!h->has_hn) {
        /* "Grasgarten 15" in the street field: read it as free text within this query */
        struct gctx *sub = g;
        int saved_nhyp = g->nhyp;
        sub->nhyp = 1;
        parse_free(sub, q->street);
        /* copy the structured locality runs onto the free hypotheses that have none */
        for (int i = 1; i < g->nhyp; i++)
            if (g->hyp[i].n_runs == 0) {
                memcpy(g->hyp[i].runs, h->runs, sizeof(h->runs));
                g->hyp[i].n_runs = h->n_runs;
            }
        if (g->ncand > 0)
            return;
        g->nhyp = saved_nhyp;
    }
    fuzzy_streets(g, key, (size_t)kl, 0, 1);
    typed_streets(g, key, (size_t)kl, 0, 1);
}

/* ---- scoring ---- */

/* Whether the data's postcode string at off is the query's postcode, keyed the way the builder
 * keys data (norm_postcode, not strict). */
static bool pc_matches(const struct gctx *g, uint32_t off)
{
    const char *pc = ix_str(g->v, off);
    char k[32];
    return *pc && norm_postcode(pc, strlen(pc), false, k, sizeof(k)) && strcmp(k, g->pc_key) == 0;
}

static bool street_has_postcode(const struct gctx *g, const struct ix_street *s)
{
    const struct index_view *v = g->v;
    if (pc_matches(g, s->postcode))
        return true;
    /* postcode strings are stored once: an offset already seen gives the same answer */
    uint32_t seen = s->postcode;
    for (uint32_t a = s->addr_first; s->addr_count && a < s->addr_first + s->addr_count; a++) {
        uint32_t off = v->addrs[a].postcode;
        if (off != seen && pc_matches(g, off))
            return true;
        seen = off;
    }
    for (uint32_t i = s->interp_first; s->interp_count && i < s->interp_first + s->interp_count;
         i++)
        if (pc_matches(g, v->interps[i].postcode))
            return true;
    return false;
}

static double prefix_similarity(const char *a, size_t la, const char *b, size_t lb)
{
    size_t n = 0;
    while (n < la && n < lb && a[n] == b[n])
        n++;
    size_t shorter = la < lb ? la : lb;
    if (n >= 4 && n * 2 >= shorter)
        return 0.7;
    return 0;
}

/* How well a locality run agrees with street s: 1 exact city or district, 0.8 a place of
 * that name near the street, 0.7 a similar name, 0 not at all. Sets which field matched. */
static double locality_match(const struct gctx *g, const struct ix_street *s, const struct run *r,
                             bool *is_district)
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
    /* a place with that name close to the street (a village within a municipality) */
    uint32_t p = index_place_first(g->ix, r->key, r->klen);
    double slat = fix2deg(s->lat), slon = fix2deg(s->lon);
    for (; p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), r->key) == 0;
         p++) {
        const struct ix_place *pl = &v->places[p];
        if (!country_ok(g->cc, pl->country))
            continue;
        double limit = pl->rank <= RANK_CITY ? 8000 : 3000;
        if (geo_approx_distance_m(slat, slon, fix2deg(pl->lat), fix2deg(pl->lon)) <= limit) {
            *is_district = pl->rank > RANK_CITY;
            return 0.8;
        }
    }
    double m = 0;
    if (*ck)
        m = prefix_similarity(ck, strlen(ck), r->key, r->klen);
    if (m == 0 && *dk) {
        m = prefix_similarity(dk, strlen(dk), r->key, r->klen);
        *is_district = m > 0;
    }
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

/* Resolve hn on street s. Return 2 (address point), 1 (interpolated), 0 (not found). */
static int resolve_number(const struct gctx *g, const struct ix_street *s, const struct hnum *hn,
                          struct cand *c)
{
    const struct index_view *v = g->v;
    int best = -1;
    double best_score = 0;
    for (uint32_t a = s->addr_first; s->addr_count && a < s->addr_first + s->addr_count; a++) {
        const struct ix_addr *ad = &v->addrs[a];
        double sc = 0;
        if (hn->is_slash) {
            if (ad->number == hn->number && ad->number2 == hn->number2)
                sc = 3;
            else if ((ad->flags & IXA_SLASH) && ad->number2 == hn->number2 && hn->number2 >= 0)
                sc = 2.6;
            else if (ad->number == hn->number)
                sc = 2.5;
        } else {
            if (ad->number == hn->number)
                sc = 3;
            else if ((ad->flags & IXA_SLASH) && ad->number2 == hn->number)
                sc = 2.9;
            else if ((ad->flags & IXA_RANGE) && ad->number <= hn->number &&
                     hn->number <= ad->number2)
                sc = 2.5;
        }
        if (sc == 0)
            continue;
        char sfx[4] = {0};
        memcpy(sfx, ad->suffix, 3);
        if (strcmp(sfx, hn->suffix) == 0)
            sc += 1;
        else if (hn->suffix[0])
            sc -= 0.5;
        else
            sc -= 0.3;
        if (g->has_pc) {
            if (pc_matches(g, ad->postcode))
                sc += 0.2;
        }
        if (sc > best_score) {
            best_score = sc;
            best = (int)a;
        }
    }
    if (best >= 0) {
        const struct ix_addr *ad = &v->addrs[best];
        c->addr = (uint32_t)best;
        c->lat = fix2deg(ad->lat);
        c->lon = fix2deg(ad->lon);
        c->mq_hn = best_score >= 4 ? 1.0 : 0.9;
        return 2;
    }
    if (hn->is_slash && hn->number2 >= 0)
        return 0; /* a Czech pair that is not there: no guessing */
    long n = hn->number;
    /* interpolate between the nearest numbers of the same parity on this street */
    const struct ix_addr *lo = NULL, *hi = NULL;
    for (uint32_t a = s->addr_first; s->addr_count && a < s->addr_first + s->addr_count; a++) {
        const struct ix_addr *ad = &v->addrs[a];
        if (ad->number < 0 || (ad->flags & IXA_SLASH) || (ad->number - n) % 2 != 0)
            continue;
        if (ad->number < n && (!lo || ad->number > lo->number))
            lo = ad;
        if (ad->number > n && (!hi || ad->number < hi->number))
            hi = ad;
    }
    if (lo && hi && hi->number - lo->number <= INTERP_MAX_GAP_NUM &&
        geo_approx_distance_m(fix2deg(lo->lat), fix2deg(lo->lon), fix2deg(hi->lat),
                              fix2deg(hi->lon)) <= INTERP_MAX_GAP_M) {
        double t = (double)(n - lo->number) / (double)(hi->number - lo->number);
        c->lat = fix2deg(lo->lat) + t * (fix2deg(hi->lat) - fix2deg(lo->lat));
        c->lon = fix2deg(lo->lon) + t * (fix2deg(hi->lon) - fix2deg(lo->lon));
        c->number = n;
        c->mq_hn = 0.8;
        return 1;
    }
    /* interpolation ranges (TIGER, OSM addr:interpolation) */
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
        const struct ix_point *pt = &v->points[it->geom_first];
        double total = 0;
        for (uint32_t k = 1; k < it->geom_count; k++)
            total += geo_approx_distance_m(fix2deg(pt[k - 1].lat), fix2deg(pt[k - 1].lon),
                                           fix2deg(pt[k].lat), fix2deg(pt[k].lon));
        double want = frac * total, acc = 0;
        c->lat = fix2deg(pt[0].lat);
        c->lon = fix2deg(pt[0].lon);
        for (uint32_t k = 1; k < it->geom_count; k++) {
            double seg = geo_approx_distance_m(fix2deg(pt[k - 1].lat), fix2deg(pt[k - 1].lon),
                                               fix2deg(pt[k].lat), fix2deg(pt[k].lon));
            if (acc + seg >= want && seg > 0) {
                double t = (want - acc) / seg;
                c->lat = fix2deg(pt[k - 1].lat) + t * (fix2deg(pt[k].lat) - fix2deg(pt[k - 1].lat));
                c->lon = fix2deg(pt[k - 1].lon) + t * (fix2deg(pt[k].lon) - fix2deg(pt[k - 1].lon));
                break;
            }
            acc += seg;
            c->lat = fix2deg(pt[k].lat);
            c->lon = fix2deg(pt[k].lon);
        }
        c->number = n;
        c->mq_hn = 0.8;
        return 1;
    }
    return 0;
}

static void score_cand(struct gctx *g, struct cand *c)
{
    const struct index_view *v = g->v;
    const struct ix_street *s = &v->streets[c->street];
    const struct hyp *h = &g->hyp[c->hyp];
    double sc = 4.0 * c->street_q + 0.3 * c->span_tokens;
    c->mq_pc = c->mq_city = c->mq_district = c->mq_state = -1;
    if (g->has_pc) {
        if (street_has_postcode(g, s)) {
            sc += 2.0;
            c->mq_pc = 1;
            c->confirmed = true;
        } else {
            sc -= 0.5;
            c->mq_pc = 0;
            /* a neighbouring postcode still says "this area" */
            if (g->pc_entry != IX_NONE) {
                const struct ix_postcode *p = &v->postcodes[g->pc_entry];
                if (geo_approx_distance_m(fix2deg(p->lat), fix2deg(p->lon), fix2deg(s->lat),
                                          fix2deg(s->lon)) < 3000)
                    sc += 0.8;
            }
        }
    }
    for (int i = 0; i < h->n_runs; i++) {
        const struct run *r = &h->runs[i];
        bool is_d;
        double m = locality_match(g, s, r, &is_d);
        if (m > 0) {
            sc += 1.5 * m;
            c->confirmed = true;
            if (is_d)
                c->mq_district = m > c->mq_district ? m : c->mq_district;
            else
                c->mq_city = m > c->mq_city ? m : c->mq_city;
        } else if (run_is_state(g, s, r)) {
            sc += 0.3;
            c->mq_state = 1;
        } else {
            sc -= 0.6 * r->ntok;
            c->unexplained += r->ntok;
            if (g->structured)
                c->mq_city = c->mq_city < 0 ? 0 : c->mq_city;
        }
    }
    c->level = GL_STREET;
    c->type = GT_NONE;
    c->lat = fix2deg(s->lat);
    c->lon = fix2deg(s->lon);
    c->mq_hn = h->has_hn ? 0 : -1;
    if (h->has_hn) {
        int r = resolve_number(g, s, &h->hn, c);
        if (r == 2) {
            sc += 1.5;
            c->level = GL_HOUSENUMBER;
            c->type = GT_POINT;
        } else if (r == 1) {
            sc += 0.5;
            c->level = GL_HOUSENUMBER;
            c->type = GT_INTERPOLATED;
        }
    }
    if (g->focus[0] && s->country[0] == g->focus[0] && s->country[1] == g->focus[1])
        sc += 0.2;
    c->score = sc;
}

static int cmp_cand(const void *pa, const void *pb, void *ctx)
{
    const struct cand *a = pa, *b = pb;
    const struct index_view *cmp_view = ctx;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
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

/* ---- output ---- */

static void location_id(char *out, size_t cap, char kind, uint32_t a, uint32_t b)
{
    snprintf(out, cap, "%c%08x%08x", kind, a, b);
}

static void fill_from_street(const struct gctx *g, struct gc_candidate *o,
                             const struct ix_street *s)
{
    const struct index_view *v = g->v;
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

static void set_view(struct gc_candidate *o, double radius_m)
{
    double dlat = radius_m / 111320.0;
    double dlon = dlat / fmax(0.01, cos(o->lat * M_PI / 180));
    o->tl_lat = o->lat + dlat;
    o->tl_lon = o->lon - dlon;
    o->br_lat = o->lat - dlat;
    o->br_lon = o->lon + dlon;
}

static void init_out(struct gc_candidate *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < MQ__COUNT; i++)
        o->mq[i] = -1;
    o->distance = -1;
    o->house_number = o->street = o->district = o->city = o->postcode = o->county = o->state = "";
}

static double relevance_of(const struct gc_candidate *o)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < MQ__COUNT; i++)
        if (o->mq[i] >= 0) {
            sum += o->mq[i];
            n++;
        }
    return n ? sum / n : 1.0;
}

static void emit_cand(struct gctx *g, const struct cand *c, struct gc_candidate *o)
{
    const struct index_view *v = g->v;
    const struct ix_street *s = &v->streets[c->street];
    const struct hyp *h = &g->hyp[c->hyp];
    init_out(o);
    fill_from_street(g, o, s);
    o->lat = o->nav_lat = c->lat;
    o->lon = o->nav_lon = c->lon;
    o->level = c->level;
    o->type = c->type;
    if (c->type == GT_POINT) {
        const struct ix_addr *a = &v->addrs[c->addr];
        o->house_number = ix_str(v, a->raw);
        if (*ix_str(v, a->postcode))
            o->postcode = ix_str(v, a->postcode);
        const char *src = ix_str(v, a->source);
        location_id(o->location_id, sizeof(o->location_id), 'A', s->id,
                    *src ? hash_fnv1a(src, strlen(src)) : c->addr);
        set_view(o, 50);
    } else if (c->type == GT_INTERPOLATED) {
        snprintf(o->number_buf, sizeof(o->number_buf), "%ld", c->number);
        o->house_number = o->number_buf;
        location_id(o->location_id, sizeof(o->location_id), 'I', s->id, (uint32_t)c->number);
        set_view(o, 50);
    } else {
        location_id(o->location_id, sizeof(o->location_id), 'S', s->id, 0);
        o->tl_lat = fix2deg(s->max_lat);
        o->tl_lon = fix2deg(s->min_lon);
        o->br_lat = fix2deg(s->min_lat);
        o->br_lon = fix2deg(s->max_lon);
        if (s->max_lat == s->min_lat && s->max_lon == s->min_lon)
            set_view(o, 100);
    }
    const struct gc_query *q = g->q;
    o->mq[MQ_STREET] = c->street_q;
    if (h->has_hn || !is_blank(q->house_number))
        o->mq[MQ_HOUSENUMBER] = c->mq_hn < 0 ? 0 : c->mq_hn;
    if (g->has_pc || !is_blank(q->postcode))
        o->mq[MQ_POSTCODE] = c->mq_pc < 0 ? 0 : c->mq_pc;
    if (c->mq_city >= 0 || !is_blank(q->city))
        o->mq[MQ_CITY] = c->mq_city < 0 ? 0 : c->mq_city;
    if (c->mq_district >= 0 || !is_blank(q->district))
        o->mq[MQ_DISTRICT] = c->mq_district < 0 ? 0 : c->mq_district;
    if (c->mq_state >= 0 || !is_blank(q->state))
        o->mq[MQ_STATE] = c->mq_state < 0 ? 0 : c->mq_state;
    if (!is_blank(q->country) || g->country_named)
        o->mq[MQ_COUNTRY] = 1;
    o->relevance = relevance_of(o);
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

/* No credible street: the postcode, then a locality, then the country. */
static int fallback(struct gctx *g, struct gc_result *out)
{
    const struct index_view *v = g->v;
    struct gc_candidate *o = &out->c[0];
    /* free text: tokens other than the postcode, country and one locality ask for more */
    int free_tokens = 0;
    for (int i = 0; i < g->ntok; i++)
        free_tokens += !g->tok[i].used;
    bool asked_street = !is_blank(g->q->street) || !is_blank(g->q->house_number);
    if (g->has_pc && g->pc_entry != IX_NONE) {
        const struct ix_postcode *p = &v->postcodes[g->pc_entry];
        init_out(o);
        o->lat = o->nav_lat = fix2deg(p->lat);
        o->lon = o->nav_lon = fix2deg(p->lon);
        o->level = GL_POSTCODE;
        o->postcode = ix_str(v, p->name);
        o->city = ix_str(v, p->city);
        o->country[0] = p->country[0];
        o->country[1] = p->country[1];
        o->mq[MQ_POSTCODE] = 1;
        asked_street |= !g->structured && free_tokens > 0;
        if (asked_street)
            o->mq[MQ_STREET] = 0;
        set_view(o, 1000);
        location_id(o->location_id, sizeof(o->location_id), 'P',
                    hash_fnv1a(g->pc_key, strlen(g->pc_key)), 0);
        o->code = asked_street ? GC_UPHIERARCHY : GC_EXACT;
        o->relevance = relevance_of(o);
        out->n = 1;
        return 0;
    }
    /* localities: structured city/district, or free-form leftover runs */
    struct hyp tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.span_i = tmp.span_j = -1;
    tmp.num_tok = tmp.num_end = -1;
    const struct hyp *h = g->nhyp > 0 ? &g->hyp[0] : &tmp;
    if (!g->structured) {
        leftover_runs(g, &tmp);
        h = &tmp;
    }
    for (int i = 0; i < h->n_runs; i++) {
        const struct run *r = &h->runs[i];
        uint32_t p = index_place_first(g->ix, r->key, r->klen);
        const struct ix_place *best = NULL;
        int best_agree = -1;
        for (; p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), r->key) == 0;
             p++) {
            const struct ix_place *pl = &v->places[p];
            if (!country_ok(g->cc, pl->country))
                continue;
            /* first the place whose state or county another part of the query names
             * ("Sunnyvale, California"), then cities, then the place's own record over one
             * derived from addresses */
            int agree = place_agrees(g, h, i, pl);
            if (!best || agree > best_agree ||
                (agree == best_agree &&
                 ((pl->rank <= RANK_CITY && best->rank > RANK_CITY) ||
                  (pl->rank == best->rank && pl->source > best->source && pl->source == 2)))) {
                best = pl;
                best_agree = agree;
            }
        }
        if (!best)
            continue;
        /* every other run must be explained too, or this is not a credible answer */
        int unexplained = 0;
        for (int k = 0; k < h->n_runs; k++)
            if (k != i && index_place_first(g->ix, h->runs[k].key, h->runs[k].klen) == IX_NONE)
                unexplained += h->runs[k].ntok;
        if (!g->structured && unexplained > 3)
            continue;
        /* free text that said more than this locality asked for a street */
        asked_street |= !g->structured && free_tokens > r->ntok;
        init_out(o);
        o->lat = o->nav_lat = fix2deg(best->lat);
        o->lon = o->nav_lon = fix2deg(best->lon);
        o->level = best->rank > RANK_CITY ? GL_DISTRICT : GL_CITY;
        if (best->rank > RANK_CITY) {
            o->district = ix_str(v, best->name);
            o->city = ix_str(v, best->city);
            o->mq[MQ_DISTRICT] = 1;
        } else {
            o->city = ix_str(v, best->name);
            o->mq[MQ_CITY] = 1;
        }
        o->county = ix_str(v, best->county);
        o->state = ix_str(v, best->state);
        o->country[0] = best->country[0];
        o->country[1] = best->country[1];
        if (asked_street)
            o->mq[MQ_STREET] = 0;
        set_view(o, best->rank > RANK_CITY ? 1500 : 5000);
        location_id(o->location_id, sizeof(o->location_id), 'C', best->id, 0);
        o->code = asked_street ? GC_UPHIERARCHY : GC_EXACT;
        o->relevance = relevance_of(o);
        out->n = 1;
        return 0;
    }
    /* the country alone, when that is all the query says */
    bool only_country = g->structured ? (is_blank(g->q->street) && is_blank(g->q->city) &&
                                         is_blank(g->q->postcode) && is_blank(g->q->house_number) &&
                                         is_blank(g->q->district) && g->cc[0])
                                      : (g->country_named && h->n_runs == 0);
    if (only_country) {
        for (size_t i = 0; i < v->n_admins; i++) {
            const struct ix_admin *a = &v->admins[i];
            if (a->rank != RANK_COUNTRY || a->country[0] != g->cc[0] || a->country[1] != g->cc[1])
                continue;
            init_out(o);
            o->lat = o->nav_lat = fix2deg(a->lat);
            o->lon = o->nav_lon = fix2deg(a->lon);
            o->level = GL_COUNTRY;
            memcpy(o->country, a->country, 2);
            o->mq[MQ_COUNTRY] = 1;
            o->tl_lat = fix2deg(a->max_lat);
            o->tl_lon = fix2deg(a->min_lon);
            o->br_lat = fix2deg(a->min_lat);
            o->br_lon = fix2deg(a->max_lon);
            location_id(o->location_id, sizeof(o->location_id), 'K', (uint32_t)i, 0);
            o->relevance = 1;
            out->n = 1;
            return 0;
        }
    }
    out->n = 0;
    return 0;
}

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
    set_country(g, q->country, g->cc);
    set_country(g, q->country_focus, g->focus);
    out->n = 0;
    g->structured = is_blank(q->search_text);
    if (g->cc[0])
        g->cc_arg = g->cc;
    else if (g->focus[0])
        g->cc_arg = g->focus;
    else
        g->cc_arg = only_country(g);
    if (!is_blank(q->postcode))
        set_postcode(g, q->postcode, strlen(q->postcode));
    if (g->structured)
        parse_structured(g);
    else {
        parse_free(g, q->search_text);
        if (g->cc[0])
            g->cc_arg = g->cc;
    }
    for (int i = 0; i < g->ncand; i++)
        score_cand(g, &g->cand[i]);
    if (!g->structured && !credible(g)) {
        int before = g->ncand;
        parse_free_fuzzy(g);
        for (int i = before; i < g->ncand; i++)
            score_cand(g, &g->cand[i]);
    }
    /* a street found only by spelling tolerance needs something else to agree */
    int w = 0;
    for (int i = 0; i < g->ncand; i++) {
        struct cand *c = &g->cand[i];
        bool keep = c->score >= MIN_SCORE;
        if (c->street_q < 1 && !c->confirmed && !(c->type == GT_POINT && c->unexplained == 0))
            keep = false;
        if (c->unexplained > c->span_tokens + 1)
            keep = false;
        if (keep)
            g->cand[w++] = *c;
    }
    g->ncand = w;
    if (g->ncand == 0 && !g->structured && !g->has_pc)
        find_postcode(g, true); /* no street: "9490 Vaduz" is a postcode and a city */
    if (g->ncand == 0) {
        int rc = fallback(g, out);
        free(g);
        return rc;
    }
    qsort_r(g->cand, (size_t)g->ncand, sizeof(g->cand[0]), cmp_cand, (void *)g->v);
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
        if (c->score < top - 0.05)
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
            emit_cand(g, c, &out->c[n++]);
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

/* ---- reverse ---- */

/* Cells of the grid around (lat, lon) within search metres: [cy0, cy1] x [cx0, cx1]. */
static void cell_range(double lat, double lon, double search, int32_t r[4])
{
    double dlat = search / 111320.0;
    double dlon = dlat / fmax(0.01, cos(lat * M_PI / 180));
    r[0] = (int32_t)floor((lat - dlat) / IX_CELL_DEG);
    r[1] = (int32_t)floor((lat + dlat) / IX_CELL_DEG);
    r[2] = (int32_t)floor((lon - dlon) / IX_CELL_DEG);
    r[3] = (int32_t)floor((lon + dlon) / IX_CELL_DEG);
}

static const struct ix_cell *find_cell(const struct ix_cell *cells, size_t n, int32_t cy,
                                       int32_t cx)
{
    uint64_t key = ((uint64_t)(uint32_t)cy << 32) | (uint32_t)cx;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cells[mid].cell < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && cells[lo].cell == key ? &cells[lo] : NULL;
}

/* Distance from (lat, lon) to segment p-q in metres; the nearest point in *nlat, *nlon. */
static double segment_distance(double lat, double lon, const struct ix_point *p,
                               const struct ix_point *q, double *nlat, double *nlon)
{
    double k = cos(lat * M_PI / 180);
    double ax = fix2deg(p->lon) * k, ay = fix2deg(p->lat);
    double bx = fix2deg(q->lon) * k, by = fix2deg(q->lat);
    double px = lon * k, py = lat;
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    *nlat = ay + t * dy;
    *nlon = (ax + t * dx) / k;
    return geo_approx_distance_m(lat, lon, *nlat, *nlon);
}

/* Ray casting on a ring of fixed-point coordinates. */
static bool ring_contains(const struct ix_point *pt, uint32_t n, double lat, double lon)
{
    bool in = false;
    for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
        double yi = fix2deg(pt[i].lat), xi = fix2deg(pt[i].lon);
        double yj = fix2deg(pt[j].lat), xj = fix2deg(pt[j].lon);
        if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static enum gc_level level_of_rank(uint32_t rank)
{
    return rank <= RANK_COUNTRY  ? GL_COUNTRY
           : rank <= RANK_STATE  ? GL_STATE
           : rank <= RANK_COUNTY ? GL_COUNTY
           : rank <= RANK_CITY   ? GL_CITY
                                 : GL_DISTRICT;
}

/* The areas that contain the point, finest first, as one candidate with the hierarchy filled
 * from the coarser areas. Return 1 when one was found. */
static int containing_area(const struct index_view *v, double lat, double lon,
                           struct gc_candidate *o)
{
    const struct ix_admin *finest = NULL;
    const struct ix_admin *by_level[GL_HOUSENUMBER + 1] = {0};
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        if (a->geom_count < 3 || lat < fix2deg(a->min_lat) || lat > fix2deg(a->max_lat) ||
            lon < fix2deg(a->min_lon) || lon > fix2deg(a->max_lon))
            continue;
        if (!ring_contains(&v->points[a->geom_first], a->geom_count, lat, lon))
            continue;
        enum gc_level l = level_of_rank(a->rank);
        if (!by_level[l] || a->rank > by_level[l]->rank)
            by_level[l] = a;
        if (!finest || a->rank > finest->rank)
            finest = a;
    }
    if (!finest)
        return 0;
    init_out(o);
    o->lat = o->nav_lat = fix2deg(finest->lat);
    o->lon = o->nav_lon = fix2deg(finest->lon);
    o->level = level_of_rank(finest->rank);
    memcpy(o->country, finest->country, 2);
    if (by_level[GL_DISTRICT])
        o->district = ix_str(v, by_level[GL_DISTRICT]->name);
    if (by_level[GL_CITY])
        o->city = ix_str(v, by_level[GL_CITY]->name);
    if (by_level[GL_COUNTY])
        o->county = ix_str(v, by_level[GL_COUNTY]->name);
    if (by_level[GL_STATE])
        o->state = ix_str(v, by_level[GL_STATE]->name);
    o->tl_lat = fix2deg(finest->max_lat);
    o->tl_lon = fix2deg(finest->min_lon);
    o->br_lat = fix2deg(finest->min_lat);
    o->br_lon = fix2deg(finest->max_lon);
    o->distance = 0;
    o->relevance = 1.0;
    location_id(o->location_id, sizeof(o->location_id), 'R', (uint32_t)(finest - v->admins),
                finest->rank);
    return 1;
}

/* The nearest city place within 30 km: the last resort of reverse geocoding. */
static int nearest_city(const struct index_view *v, double lat, double lon, struct gc_candidate *o)
{
    const struct ix_place *bp = NULL;
    double bd = 30000;
    for (size_t i = 0; i < v->n_places; i++) {
        const struct ix_place *p = &v->places[i];
        if (p->rank != RANK_CITY)
            continue;
        double d = geo_approx_distance_m(lat, lon, fix2deg(p->lat), fix2deg(p->lon));
        if (d < bd) {
            bd = d;
            bp = p;
        }
    }
    if (!bp)
        return 0;
    init_out(o);
    o->lat = o->nav_lat = fix2deg(bp->lat);
    o->lon = o->nav_lon = fix2deg(bp->lon);
    o->level = GL_CITY;
    o->city = ix_str(v, bp->name);
    o->county = ix_str(v, bp->county);
    o->state = ix_str(v, bp->state);
    o->country[0] = bp->country[0];
    o->country[1] = bp->country[1];
    o->distance = bd;
    o->relevance = 1.0;
    location_id(o->location_id, sizeof(o->location_id), 'C', bp->id, 0);
    set_view(o, 5000);
    return 1;
}

/* The nearest street line within radius_m. Return 1 when found. */
static int nearest_street(const struct index_view *v, double lat, double lon, double radius_m,
                          struct gc_candidate *o)
{
    int32_t r[4];
    cell_range(lat, lon, radius_m, r);
    uint32_t best = IX_NONE;
    double bd = radius_m, blat = 0, blon = 0;
    for (int32_t cy = r[0]; cy <= r[1]; cy++)
        for (int32_t cx = r[2]; cx <= r[3]; cx++) {
            const struct ix_cell *c = find_cell(v->scells, v->n_scells, cy, cx);
            for (uint32_t k = 0; c && k < c->count; k++) {
                uint32_t si = v->scell_streets[c->first + k];
                const struct ix_street *s = &v->streets[si];
                const struct ix_point *pt = &v->points[s->geom_first];
                for (uint32_t i = 1; i < s->geom_count; i++) {
                    if (pt[i].lat == IX_PART_BREAK || pt[i - 1].lat == IX_PART_BREAK)
                        continue;
                    double nl, nn;
                    double d = segment_distance(lat, lon, &pt[i - 1], &pt[i], &nl, &nn);
                    if (d < bd || (d == bd && si < best)) {
                        bd = d;
                        best = si;
                        blat = nl;
                        blon = nn;
                    }
                }
            }
        }
    if (best == IX_NONE)
        return 0;
    const struct ix_street *s = &v->streets[best];
    init_out(o);
    struct gctx g;
    g.v = v;
    fill_from_street(&g, o, s);
    o->lat = o->nav_lat = blat;
    o->lon = o->nav_lon = blon;
    o->level = GL_STREET;
    o->distance = bd;
    o->relevance = 1.0;
    location_id(o->location_id, sizeof(o->location_id), 'S', s->id, 0);
    set_view(o, 200);
    return 1;
}

int geocode_reverse(const struct index *ix, double lat, double lon, double radius_m,
                    int max_results, struct gc_result *out)
{
    const struct index_view *v = index_view(ix);
    out->n = 0;
    if (max_results < 1)
        max_results = 1;
    if (max_results > GC_MAX_CANDIDATES)
        max_results = GC_MAX_CANDIDATES;
    if (!(radius_m > 0))
        radius_m = GC_DEFAULT_RADIUS_M;
    if (radius_m > 20000)
        radius_m = 20000;
    int32_t r[4];
    cell_range(lat, lon, radius_m, r);
    struct {
        uint32_t addr;
        double d;
    } best[GC_MAX_CANDIDATES + 1];
    int nb = 0;
    for (int32_t cy = r[0]; cy <= r[1]; cy++) {
        for (int32_t cx = r[2]; cx <= r[3]; cx++) {
            const struct ix_cell *c = find_cell(v->cells, v->n_cells, cy, cx);
            for (uint32_t k = 0; c && k < c->count; k++) {
                uint32_t a = v->cell_addrs[c->first + k];
                double d = geo_approx_distance_m(lat, lon, fix2deg(v->addrs[a].lat),
                                                 fix2deg(v->addrs[a].lon));
                if (d > radius_m)
                    continue;
                int pos = nb;
                while (pos > 0 &&
                       (best[pos - 1].d > d || (best[pos - 1].d == d && best[pos - 1].addr > a))) {
                    if (pos < max_results)
                        best[pos] = best[pos - 1];
                    pos--;
                }
                if (pos < max_results) {
                    best[pos].addr = a;
                    best[pos].d = d;
                    if (nb < max_results)
                        nb++;
                }
            }
        }
    }
    for (int i = 0; i < nb; i++) {
        const struct ix_addr *a = &v->addrs[best[i].addr];
        const struct ix_street *s = &v->streets[a->street];
        struct gc_candidate *o = &out->c[i];
        init_out(o);
        struct gctx g;
        g.v = v;
        fill_from_street(&g, o, s);
        o->lat = o->nav_lat = fix2deg(a->lat);
        o->lon = o->nav_lon = fix2deg(a->lon);
        o->house_number = ix_str(v, a->raw);
        if (*ix_str(v, a->postcode))
            o->postcode = ix_str(v, a->postcode);
        o->level = GL_HOUSENUMBER;
        o->type = GT_POINT;
        o->distance = best[i].d;
        o->relevance = 1.0;
        const char *src = ix_str(v, a->source);
        location_id(o->location_id, sizeof(o->location_id), 'A', s->id,
                    *src ? hash_fnv1a(src, strlen(src)) : best[i].addr);
        set_view(o, 50);
    }
    out->n = nb;
    if (nb == 0 &&
        (nearest_street(v, lat, lon, radius_m, &out->c[0]) ||
         containing_area(v, lat, lon, &out->c[0]) || nearest_city(v, lat, lon, &out->c[0])))
        out->n = 1;
    return 0;
}

int geocode_reverse_areas(const struct index *ix, double lat, double lon, struct gc_result *out)
{
    const struct index_view *v = index_view(ix);
    out->n = containing_area(v, lat, lon, &out->c[0]) || nearest_city(v, lat, lon, &out->c[0]);
    return 0;
}

/* ---- names and labels ---- */

const char *gc_level_name(enum gc_level l)
{
    static const char *const names[] = {"NOMATCH",  "country",    "state",  "county",     "city",
                                        "district", "postalCode", "street", "houseNumber"};
    return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "";
}

const char *gc_type_name(enum gc_type t)
{
    return t == GT_POINT ? "pointAddress" : t == GT_INTERPOLATED ? "interpolated" : "";
}

const char *gc_code_name(enum gc_code c)
{
    static const char *const names[] = {"exact", "ambiguous", "upHierarchy",
                                        "ambiguousUpHierarchy"};
    return (unsigned)c < 4 ? names[c] : "";
}

/* Countries that put the number before the street. */
static bool number_first(const char *cc)
{
    static const char *const list[] = {"US", "CA", "GB", "IE", "AU", "NZ", "FR", "LU", "ZA",
                                       "IN", "SG", "MY", "PH", "IL", "TH", "HK", "JP", "MC"};
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        if (cc[0] == list[i][0] && cc[1] == list[i][1])
            return true;
    return false;
}

void gc_label(const struct gc_candidate *c, char *out, size_t cap)
{
    char part[3][256];
    size_t np = 0;
    const char *cc = c->country;
    bool us = (cc[0] == 'U' && cc[1] == 'S') || (cc[0] == 'C' && cc[1] == 'A') ||
              (cc[0] == 'A' && cc[1] == 'U');
    if (*c->street) {
        if (*c->house_number && number_first(cc))
            snprintf(part[np++], sizeof(part[0]), "%s %s", c->house_number, c->street);
        else if (*c->house_number)
            snprintf(part[np++], sizeof(part[0]), "%s %s", c->street, c->house_number);
        else
            snprintf(part[np++], sizeof(part[0]), "%s", c->street);
    }
    const char *city = *c->city ? c->city : *c->district ? c->district : c->county;
    if (!*city && !us)
        city = c->state;
    if (us) {
        if (*city)
            snprintf(part[np++], sizeof(part[0]), "%s", city);
        if (*c->state || *c->postcode)
            snprintf(part[np++], sizeof(part[0]), "%s%s%s", c->state,
                     *c->state && *c->postcode ? " " : "", c->postcode);
    } else if (cc[0] == 'G' && cc[1] == 'B') {
        if (*city || *c->postcode)
            snprintf(part[np++], sizeof(part[0]), "%s%s%s", city, *city && *c->postcode ? " " : "",
                     c->postcode);
    } else if (*city || *c->postcode) {
        snprintf(part[np++], sizeof(part[0]), "%s%s%s", c->postcode,
                 *city && *c->postcode ? " " : "", city);
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < np && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", part[i]);
    const char *name = cc[0] ? norm_country_name(cc) : NULL;
    if (name && len < cap)
        snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
}
