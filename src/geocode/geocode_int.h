/*
 * geocode_int.h - what the geocoder's files share and no one else may see: the query as parsed
 * (tokens, hypotheses, candidates), the working context of one forward query, the scoring
 * weights, and the steps each file provides.
 *
 *   geocode_forward.c  geocode_forward(): runs the steps below and ranks the candidates
 *   geocode_parse.c    tokens, postcode and country, house number, exact street hypotheses
 *   geocode_fuzzy.c    streets within a few edits, misspelt street types
 *   geocode_score.c    one score per (hypothesis, street) pair; the ranking order
 *   geocode_resolve.c  house numbers on a street, candidates as output, the fallback;
 *                      output helpers shared with reverse
 *   geocode_reverse.c  reverse geocoding
 */
#ifndef GEOBATCH_GEOCODE_INT_H
#define GEOBATCH_GEOCODE_INT_H

#include "geocode/geocode.h"
#include "index/index_format.h"
#include "text/norm.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_TOKENS    24    /* free-form tokens read; the rest is ignored */
#define MAX_SPAN      6     /* tokens in one exact street span */
#define MAX_HYP       16    /* street hypotheses per query */
#define MAX_CANDS     256   /* (hypothesis, street) pairs per query */
#define MAX_RUNS      8     /* locality runs per hypothesis */
#define MAX_TOWN_KEYS 16    /* keys of a hypothesis' runs that may name a town, kept */
#define MAX_WIDE      32    /* street runs set aside per query (gctx.wide) */
#define KEY_MAX       256   /* bytes of one normalised key, NUL included */
#define SAME_STREET_M 500.0 /* equal keys closer than this are one street */
#define NARROW_MIN    1     /* a name in at most this many localities: all are candidates */
#define WIDE_MAX      128   /* ... in more, and the query narrows it to none: ambiguous */
#define MEMO_POOL     8192  /* bytes of span keys remembered per query (gc_span_key) */
#define MAX_REGIONS   4     /* readings of one region qualifier ("WA": two countries) */

/* The scoring weights: points a candidate gains (or, for the *_miss and unexplained fields,
 * loses) by what agrees with the query. geocode_score.c adds them up; the house-number fields
 * rank the address points of one street (geocode_resolve.c). */
struct gc_weights {
    double street;           /* times the street quality (1 exact, less when misspelt) */
    double span_token;       /* per token of the street span: a longer name says more */
    double postcode;         /* the street has the query's postcode */
    double postcode_miss;    /* it has not (subtracted) */
    double postcode_near;    /* ... but the postcode's centre is within postcode_near_m */
    double postcode_near_m;  /* metres */
    double locality;         /* times the locality match: 1 the street's city or district, ... */
    double locality_near;    /* ... a place of that name near the street, ... */
    double near_city_m;      /* ... a city within this many metres, */
    double near_place_m;     /* ... or a smaller place within this many, */
    double locality_similar; /* ... a city or district name with a common prefix */
    double state;            /* a run names the street's state */
    double unexplained;      /* per token of a run that nothing explains (subtracted) */
    double point;            /* the house number found as an address point */
    double point_plain;      /* ... its plain number's, the query's suffix not there */
    double interpolated;     /* the house number interpolated */
    double focus;            /* the street is in the countryFocus country */
    double min_score;        /* a candidate below this is dropped */
    double tie;              /* candidates within this of the best are as good (ambiguous) */
    double fuzzy_quality;    /* street quality of a key found within a few edits ... */
    double per_edit;         /* ... less this per edit */
    double typed_quality;    /* street quality of a key with a misspelt street type */
    double optional_words;   /* street match quality of an exact key whose wording differs by
                                optional words (an article dropped or added) */
    /* one address point against the query's house number */
    double hn_equal;        /* the number (and a Czech pair's second number) equal */
    double hn_pair_second;  /* query pair: only the data pair's second number equal */
    double hn_pair_first;   /* query pair: only the number equal */
    double hn_orientation;  /* query number equals the data pair's second (orientation) number */
    double hn_in_range;     /* query number within the data's range "10-14" */
    double hn_suffix;       /* the letter suffixes equal (both may be none) */
    double hn_suffix_miss;  /* the query's suffix differs (subtracted) */
    double hn_suffix_extra; /* the data has a suffix the query has not (subtracted) */
    double hn_postcode;     /* the address point has the query's postcode */
    double hn_series_miss;  /* one is a Czech evidence number ("ev. 12"), the other not */
    double hn_sure;         /* at or above this the house number's match quality is 1, else 0.9 */
    double hn_plain;        /* the plain number's match quality, the query's suffix not there */
};

static const struct gc_weights GC_WEIGHTS = {
    .street = 4.0,
    .span_token = 0.3,
    .postcode = 2.0,
    .postcode_miss = 0.5,
    .postcode_near = 0.8,
    .postcode_near_m = 3000,
    .locality = 1.5,
    .locality_near = 0.8,
    .near_city_m = 8000,
    .near_place_m = 3000,
    .locality_similar = 0.7,
    .state = 0.3,
    .unexplained = 0.6,
    .point = 1.5,
    .point_plain = 1.0,
    .interpolated = 0.5,
    .focus = 0.2,
    .min_score = 3.0,
    .tie = 0.05,
    .fuzzy_quality = 0.9,
    .per_edit = 0.1,
    .typed_quality = 0.85,
    .optional_words = 0.95,
    .hn_equal = 3,
    .hn_pair_second = 2.6,
    .hn_pair_first = 2.5,
    .hn_orientation = 2.9,
    .hn_in_range = 2.5,
    .hn_suffix = 1,
    .hn_suffix_miss = 0.5,
    .hn_suffix_extra = 0.3,
    .hn_postcode = 0.2,
    .hn_series_miss = 1.5,
    .hn_sure = 4,
    .hn_plain = 0.8,
};

/* One free-form token: a run of bytes between spaces and commas. */
struct token {
    const char *s;
    size_t len;
    bool numlike; /* looks like a house number */
    bool used;    /* consumed as postcode or country */
    bool comma_after;
    bool paren_open, paren_close; /* written right after '(' / before ')' */
};

/* A locality run: tokens not otherwise explained, between commas (or one structured field). */
struct run {
    int first, ntok;
    char key[KEY_MAX];
    size_t klen;
    bool place_known;     /* place_first is looked up (the first candidate that asked) */
    uint32_t place_first; /* index_place_first(key), IX_NONE when no place has the name */
    int8_t town_beside;   /* -1 not yet: whether with its hypothesis' street tokens beside it
                           * the run names a town ("Praha" and the street "Kevofe": Praha Kevofe) */
    int8_t town_start;    /* -1 not yet: whether it begins a town's name (gc_run_begins_town) */
    char set_cc[2];       /* an index set's member: the country filter set_rank was asked in, */
    int set_rank;         /* ... and the smallest rank of its places over the set, -1 not yet */
};

/* A hypothesis of which tokens are the street and the house number; the rest are runs. */
struct hyp {
    int span_i, span_j; /* street tokens [i, j); -1 for structured input */
    int num_tok;        /* first token of the house number, or -1 */
    int num_end;        /* one past its last token (unit text included) */
    bool has_hn;
    struct hnum hn;
    const char *hn_raw;
    size_t hn_len;
    int n_runs;
    int n_towns; /* keys in towns: -1 not yet found, -2 too many to keep (found each time) */
    /* free text's exact span: the first street of its run; inner when the span lies inside
     * another exact span and its streets are not candidates yet (gc_add_inner_spans) */
    uint32_t first;
    uint32_t first_hash; /* ix_key_hash() of its key */
    bool inner;
    struct run runs[MAX_RUNS]; /* locality text left over */
    /* the keys of the runs and (free text) of their spans of up to three tokens that may name
     * a town of the index: found once per hypothesis, not once per street name it finds (run
     * keys and gc_span_key's memo: valid while the reading country stays) */
    const char *towns[MAX_TOWN_KEYS];
    uint32_t town_hash[MAX_TOWN_KEYS]; /* their ix_key_hash() */
};

/* A candidate: one street under one hypothesis, its score, and where it resolved to. */
struct cand {
    uint32_t street;
    int hyp;
    double street_q;
    int span_tokens;
    double street_score; /* what the street says, before the house number and the focus */
    double score;        /* street_score + number + focus once resolved; before, without number */
    bool resolved;       /* the house number was looked up (gc_score_number) */
    double mq_city, mq_district, mq_pc, mq_hn, mq_state;
    int unexplained; /* tokens of the query's runs that nothing of the street explains */
    int extra;       /* ... of them, those of runs that name no place either (relevance) */
    bool confirmed;  /* postcode or locality agreed */
    bool conflict;   /* the query names a postcode or locality and neither is the street's */
    /* resolution */
    enum gc_level level;
    enum gc_type type;
    uint32_t addr; /* the address (GT_POINT) or the range (GT_INTERPOLATED) */
    double lat, lon;
    long number; /* for interpolated results */
};

/* The working context of one forward query. It lives in the caller's struct gc_result
 * (gc_scratch), so it is reused from query to query: the fields before tok are zeroed when a
 * query starts, the arrays after it are valid only up to their counts. */
struct gctx {
    const struct index *ix;
    const struct index_view *v;
    const struct gc_query *q;
    char cc[3]; /* country filter, ISO2, "" when none */
    char focus[3];
    const char *cc_arg; /* cc or NULL for norm_* */
    char guess_cc[3];   /* the country that names are read in when the query gives none */
    bool main_guess;    /* cc_arg is the index's main country, which the query does not name */
    bool structured;
    /* postcode */
    bool has_pc;
    char pc_key[32];
    uint32_t pc_entry;    /* first postcode entry, IX_NONE if unknown to the index */
    uint32_t pc_run;      /* first entry of the postcode's key in any country (its streets) */
    bool too_wide;        /* a street name in more localities than WIDE_MAX, none named */
    bool pc_unknown;      /* a postcode-shaped token the index does not know (set aside) */
    bool pc_elsewhere;    /* ... that another member of the set knows (postcode_elsewhere) */
    char pc_form_cc[3];   /* ... and the country its national form is of ("SW1A 1AA": GB), or "" */
    int conflict_hyp;     /* 1 + the hypothesis of the best street dropped as contradicted, or 0 */
    int made;             /* candidates made (add_cand): step 2's work */
    int scored;           /* candidates scored in full (gc_score_street): step 3's work */
    int nwide;            /* runs set aside in wide[] */
    int ninner;           /* hypotheses whose streets wait (hyp.inner) */
    int cand_from;        /* cand[cand_from, ncand) are not scored yet (score_streets) */
    bool bounds_known;    /* cand_bound[cand_from, ncand) hold those candidates' bounds */
    bool refused;         /* cand[] was full (MAX_CANDS) and a street was left out ... */
    double refused_bound; /* ... the highest gc_street_bound of one left out */
    bool exact_confirmed; /* gc_result.exact_confirmed, exact_alone, exact_elsewhere */
    bool exact_alone, exact_elsewhere;
    /* regions the query names ("Sunnyvale, CA", the state field): qualifiers, never streets */
    int nregion;
    struct norm_region region[MAX_REGIONS];
    uint32_t state_off; /* gc_state_fits' memo: the data's state string last judged ... */
    int state_fit;      /* ... and its verdict + 2 (0: none yet) */
    /* gc_span_key's memo: the key of tokens [i, i + n) for n <= MAX_SPAN, made once per
     * query and reading country; bit n - 1 of memo_known[i] says it is in memo_off/memo_pool */
    const char *memo_cc; /* the cc_arg the memo was made with */
    uint8_t memo_known[MAX_TOKENS];
    /* ... and bit n - 1 of town_known[i] whether that key has been asked index_city_key_maybe,
     * of town_maybe[i] its answer (each_locality_key: every hypothesis asks for the same
     * spans) */
    uint8_t town_known[MAX_TOKENS], town_maybe[MAX_TOKENS];
    uint16_t memo_used;
    uint16_t cand_set[2 * MAX_CANDS]; /* hash set of (street, hypothesis): cand index + 1 */
    /* gc_pick_number's memo: per token whether it is a number prefix / a unit word (0 not yet
     * known, 1 no, 2 yes), and the last house number parsed (tokens [start, end): end 0 none) */
    uint8_t tok_prefix[MAX_TOKENS], tok_unit[MAX_TOKENS];
    int8_t hn_memo_start, hn_memo_end;
    bool hn_memo_ok;
    struct hnum hn_memo;
    /* tokens */
    struct token tok[MAX_TOKENS];
    uint16_t memo_off[MAX_TOKENS][MAX_SPAN]; /* into memo_pool: a key, NUL-terminated */
    uint8_t fz_left[MAX_TOKENS][MAX_SPAN];   /* gc_parse_free_fuzzy: what the nearer pass left */
    uint8_t fz_place[MAX_TOKENS][MAX_SPAN];  /* ... whether a span names a place beside words */
    char memo_pool[MEMO_POOL];
    struct norm_words words; /* the tokens folded once (tokenize), for gc_span_key */
    int ntok;
    bool country_named; /* the text names the country */
    bool code_two_ways; /* a code at the end names a country and a region (gc_query.code_other) */
    struct hyp hyp[MAX_HYP];
    int nhyp;
    struct cand cand[MAX_CANDS];
    double cand_bound[MAX_CANDS]; /* add_cand's, when full: gc_street_bound of cand[i] */
    int ncand;
    uint16_t order[MAX_CANDS]; /* ranking: indexes into cand, best first */
    uint16_t order_tmp[MAX_CANDS];
    /* runs of a street name that the query's postcode and towns narrowed to none, set aside
     * by gc_add_street_run: their streets are candidates only if no other is credible and
     * confirmed by them (a run past MAX_WIDE is added at once) */
    struct wide_run {
        uint32_t lo, hi; /* the streets [lo, hi), of the query's country if it names one */
        int hyp, span_tokens;
        double q;
    } wide[MAX_WIDE];
};

static inline double fix2deg(int32_t v)
{
    return v / IX_COORD_SCALE;
}

/* Whether a record of country have passes the filter want ("" on either side passes). */
static inline bool country_ok(const char *want, const char have[2])
{
    return !want[0] || !have[0] || (want[0] == have[0] && want[1] == have[1]);
}

/* NULL, "" and white space only are all "absent". */
static inline bool is_blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* The scratch memory of r as the context of one query (geocode_forward.c). */
struct gctx *gc_context(struct gc_result *r);

/* geocode_forward.c: out made empty for an answer (no candidate, nothing reported); q read
 * into out as geocode_forward reads it, in the languages its words ask for (0, or a negative
 * code); the streets of the candidates of that reading as good as its best (within
 * GC_WEIGHTS.tie), distinct, up to max into streets: how many (0 when it had none). */
void gc_start_result(struct gc_result *out);
int gc_read(struct gctx *g, const struct index *ix, const struct gc_query *q,
            struct gc_result *out);
int gc_answer_streets(const struct gctx *g, uint32_t *streets, int max);

/* geocode_fuzzy.c: whether the query is read in English (its country's languages, or none). */
bool gc_reads_english(const struct gctx *g);

/* geocode_cross.c: q, answered in out by the reading rc (below a house, and not a street as
 * written), read as an intersection when its street is two streets' names ("Franklin St &
 * Fulton St, San Francisco"; "and", "at", "@", "/", "und", "Ecke", "et" between them): where the
 * two meet at match level intersection, else q read again. Return rc, or the new reading's. */
int gc_intersection(struct gctx *g, const struct index *ix, const struct gc_query *q,
                    struct gc_result *out, int rc);

/* Streets of one name whose extents are STREET_GAP_M apart are two streets; OTHER_TOWN_M apart
 * (or in towns of other names) they are in two towns (geocode_forward.c, street_unplaced). */
#define STREET_GAP_M 200.0
#define OTHER_TOWN_M 10000.0
/* The gap between the extents of streets a and b, in metres (0 when they touch). */
double gc_extent_gap_m(const struct ix_street *a, const struct ix_street *b);
/* Whether street a (of the index viewed by va) and b (of vb), of one name, are in two towns. */
bool gc_other_town(const struct index_view *va, const struct ix_street *a,
                   const struct index_view *vb, const struct ix_street *b);
/* Whether index ix has a street of b's name (b of the index viewed by vb) in b's country and in
 * another town than b (gc_other_town). */
bool gc_name_elsewhere(const struct index *ix, const struct index_view *vb,
                       const struct ix_street *b);
/* The answer one index gives q when its best answer is a house number on a street spelt as
 * written that the query does not place and that country cc has in several towns: cc's area,
 * ambiguous, or none (an index set's street in several members: geocode_set.c). */
int geocode_street_unplaced(const struct index *ix, const struct gc_query *q, const char cc[2],
                            struct gc_result *out);

/* ---- geocode_parse.c ---- */

/* The ISO2 code that country names into out[3] ("" when none or unknown). */
void gc_set_country(struct gctx *g, const char *country, char *out);
/* The structured postcode field: g->pc_key, g->has_pc and g->pc_entry. */
void gc_set_postcode(struct gctx *g, const char *s, size_t n);
/* Each key an index's postcode table could hold for the postcode written s[0..n) (a field, or
 * one to three free-form tokens as they stand in the text), as the geocoder looks them up:
 * norm_postcode()'s, a ZIP+4's first five digits, the rest after a country prefix ("D-91207").
 * fn(key, len, arg) for each (one may come twice). */
void gc_postcode_keys(const char *s, size_t n, void (*fn)(const char *key, size_t len, void *arg),
                      void *arg);
/* What gc_route_keys gives its caller: each key a postcode of the query could have in an
 * index, each key a locality of it could have. */
struct gc_route_fns {
    void (*postcode)(const char *key, size_t len, void *arg);
    void (*locality)(const char *key, size_t len, void *arg);
};
#define GC_ROUTE_PART 8 /* tokens of a free-form part whose locality keys gc_route_keys gives */
/*
 * The keys that route a query without a country in an index set (geocode_set.c), g a context
 * to work in: its postcode's (gc_postcode_keys of the postcode field, and of one to three
 * free-form tokens in a row) and its localities' in the languages of each country of
 * ccs[0..ncc) (NULL: every list): the city, district and county fields, and every span of
 * tokens within each part of the free text (split as the geocoder splits it); each kind only
 * when its function is not NULL. A key may come more than once. Return whether every
 * locality key was given: false without fns->locality, or when a part has more than
 * GC_ROUTE_PART tokens.
 */
bool gc_route_keys(struct gctx *g, const struct gc_query *q, const char *const *ccs, size_t ncc,
                   const struct gc_route_fns *fns, void *arg);
/* Free-form: a postcode known to the index among the unused tokens, written in any national
 * form ("D-91207", "94102-1234", "SW1A1AA"). A lone number next to words is taken as the house
 * number unless lone_number_ok. When none is known, a token shaped like a postcode is set aside
 * (g->pc_unknown) so that it does not stand in the way of the town; a form only one country
 * writes ("SW1A 1AA", "K1A 0B1", "1012 AB", "00-950") is looked up in that country alone, and
 * when unknown its country (g->pc_form_cc) favours that country's places of the town's name.
 * A postcode found only as a lone number frees the region before it ("Cambridge, MA 02139"),
 * which is then read as one. */
void gc_find_postcode(struct gctx *g, bool lone_number_ok);
/* Whether the data's state string at off agrees with the query's regions: 1 the same region,
 * -1 another region or country, 0 unknown (no region asked, or a state the table does not
 * know). */
int gc_state_fits(struct gctx *g, uint32_t off, const char country[2]);
/* Whether state st (a name or code of country, as data or the regions table write it) is one
 * of the query's regions: 1 it is, -1 another, 0 no region asked or a state the table does not
 * know. gc_state_fits' reading, for a state that is no index string. */
int gc_region_fit(const struct gctx *g, const char *st, const char country[2]);
/* The key of the raw text spanning tokens [i, j) into out; its length, 0 when empty. */
size_t gc_span_key(struct gctx *g, int i, int j, char *out, size_t cap);
/* A fresh hypothesis at g->hyp[g->nhyp] (the caller counts it), or NULL when full. */
struct hyp *gc_new_hyp(struct gctx *g);
/* The house-number tokens of h (adjacent to its street span first). */
void gc_pick_number(struct gctx *g, struct hyp *h);
/* The tokens h leaves over, as locality runs. */
void gc_leftover_runs(struct gctx *g, struct hyp *h);
/* [*lo, *hi) of v's streets (a run of one key, sorted by country) narrowed to those of
 * country cc. */
void gc_country_span(const struct index_view *v, const char cc[2], uint32_t *lo, uint32_t *hi);
/* The streets of the run of equal keys that starts at first (key_hash: ix_key_hash() of the
 * key, as the caller that found it has it), as candidates of hyp: those the
 * query's postcode or towns narrow it to; when they narrow it to none, all (set aside in
 * g->wide, see find_candidates), or none when they are too many (g->too_wide); too many and
 * how many narrow counted over an index set when the query carries its counts. */
void gc_add_street_run(struct gctx *g, uint32_t first, uint32_t key_hash, int hyp, double q,
                       int span_tokens);
/* The streets of the runs set aside in g->wide, as candidates; g->nwide becomes 0. */
void gc_add_wide_runs(struct gctx *g);
/* The candidates as if gc_parse_free had taken every exact span at once: made again, the
 * inner spans' streets (hyp.inner) among them, in the order of the spans; g->ninner becomes
 * 0. (Scored again by the caller.) */
void gc_add_inner_spans(struct gctx *g);
/* The most tokens of a span of free text (the spans gc_parse_free looks up, after it) whose
 * key, read in the languages of cc (NULL: every list), is a street of the index. */
int gc_longest_street(struct gctx *g, const char *cc);

/* Whether a country with best of an index's total addresses is its main one, whose languages
 * a query that names no country is read in: at least 80 % of them. */
static inline bool gc_main_country(uint64_t best, uint64_t total)
{
    return best > 0 && best * 5 >= total * 4;
}

/* Whether names are read in the index's main country's languages because the query names no
 * country (gctx.main_guess), not in those of a country it names or of its postcode's. */
static inline bool gc_main_guessed(const struct gctx *g)
{
    return g->main_guess && g->cc_arg == g->guess_cc;
}

/* Free-form text: tokens, postcode, country and the exact street hypotheses. */
void gc_parse_free(struct gctx *g, const char *text);

/* Free text as copying from documents and spreadsheets leaves it made plain: Unicode spaces
 * (no-break, thin, ideographic) as ASCII spaces, zero-width characters and soft hyphens
 * dropped, full-width forms of ASCII as ASCII ("Städtle\u00a0５"). Into out (cap bytes) and
 * true when text had such a character and the plain text fits; false otherwise. */
bool gc_plain_text(const char *text, char *out, size_t cap);

/* q with its free text and structured fields made plain (gc_plain_text), and a postcode that
 * a structured city field holds ("9490 Vaduz") made the postcode (when the postcode field is
 * blank; else left out), in *plain and their bytes in buf (cap): q itself when none changes. A
 * field that does not fit stays as it is. */
const struct gc_query *gc_plain_query(const struct gc_query *q, struct gc_query *plain, char *buf,
                                      size_t cap);
#define GC_PLAIN_TEXT 4096 /* the callers' buffer for gc_plain_query */
/* Structured fields: one hypothesis (the street field as free text when it is no street). */
void gc_parse_structured(struct gctx *g);

/* The street match quality of candidate c as output: c->street_q, less when the query's
 * wording of the street differs from the data's by optional words (GC_WEIGHTS.optional_words). */
double gc_street_quality(struct gctx *g, const struct cand *c);

/* ---- geocode_fuzzy.c ---- */

/* Streets within the edits allowed for len of key, as candidates of quality < 1. Return how
 * many street runs were added. */
int gc_fuzzy_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens);
/* Streets whose key is key with its tail read as a (misspelt) street type. Return the count. */
int gc_typed_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens);
/* No credible exact street: hypotheses from spans within a few edits of a street (not the
 * words of a place the query names beside others); the nearer part of the search (one edit, a
 * misspelt street type), or (far) the farther part (two edits, a misspelt type and one more) for
 * the spans where the nearer found nothing near. */
void gc_parse_free_fuzzy(struct gctx *g, bool far);

/* ---- geocode_score.c ---- */

/* Whether the data's postcode string at off is the query's postcode. */
bool gc_pc_matches(const struct gctx *g, uint32_t off);
/* Whether run r names a place of the index (in the country filter) of rank max_rank or
 * coarser (RANK_CITY: a town; RANK_NEIGHBOURHOOD: any place); in an index set's member, of
 * any member (gc_query.set). */
bool gc_run_names_place(const struct gctx *g, struct run *r, int max_rank);
/* ... of this index alone. */
bool gc_run_names_place_here(const struct gctx *g, struct run *r, int max_rank);
/* Whether the words of free-text run r are the first words of the name of a town (RANK_CITY
 * or coarser, in the country filter) that has more words: "Lauf" of "Lauf a.d.Pegnitz",
 * "Frankfurt" of "Frankfurt am Main"; in an index set's member, of any member. A town the
 * query names by its first word: a street elsewhere is not in it. Asked once a run. */
bool gc_run_begins_town(const struct gctx *g, struct run *r);
/* The most important place of ix (in country filter cc) whose name begins with words of key
 * key (klen bytes) and has more words, or IX_NONE: gc_run_begins_town's search in one index. */
uint32_t gc_town_begun_in(const struct index *ix, const char *key, size_t klen, const char *cc);
/* The place of this index that gc_run_begins_town found for r's words, the most important of
 * them; NULL when none. */
const struct ix_place *gc_town_begun(const struct gctx *g, const struct run *r);
/* Begin c's street score with what costs little (the street, the tokens it explains, the
 * postcode) and return the most gc_score_street can make of it: each locality run at the best
 * it could be for this street, and the region's bonus. Reads no place near the street. */
double gc_street_bound(struct gctx *g, struct cand *c);
/* The most gc_score_street could make of any street of exact free-text hypothesis h (so at
 * least its score before the house number): what every locality run could be worth to some
 * street (a town key, a place, a similar name, a state of the index, else unexplained). */
double gc_hyp_bound(struct gctx *g, struct hyp *h);
/* Complete what gc_street_bound began: score what street c says (postcode, locality, tokens
 * explained) and fill its match qualities; c->score is then without the house number.
 * Cheap: no address is read. */
void gc_score_street(struct gctx *g, struct cand *c);
/* Resolve c's house number on its street and complete c->score. */
void gc_score_number(struct gctx *g, struct cand *c);
/* qsort_r order of candidates (ctx: the index view): best first, a total order. */
int gc_cmp_cand(const void *pa, const void *pb, void *ctx);

/* ---- geocode_resolve.c ---- */

/* Ask for the first address lines of the streets of the first candidates of ord (n of them, in
 * the order gc_resolve_number will be called), so that their reads overlap: a hint, no answer
 * depends on it. */
void gc_prefetch_numbers(const struct gctx *g, const uint16_t *ord, int n);
/* The point at fraction frac (0 to 1) of the length of the line pt[0..count) into *lat, *lon:
 * where an address range puts a number (and reverse geocoding finds it again). */
void gc_point_along(const struct ix_point *pt, uint32_t count, double frac, double *lat,
                    double *lon);
/* House n of range it of street s as output o, which has the street's fields: its number, the
 * range's postcode, location id and view (forward and reverse geocoding alike). */
void gc_range_house_out(const struct index_view *v, const struct ix_street *s,
                        const struct ix_interp *it, long n, struct gc_candidate *o);
/* Resolve hn on street s into c. Return 2 (address point), 3 (the point of its plain number:
 * the query's suffix is not there), 1 (interpolated), 0 (not found). */
int gc_resolve_number(const struct gctx *g, const struct ix_street *s, const struct hnum *hn,
                      struct cand *c);
/* Write candidate c as output o. */
void gc_emit_cand(struct gctx *g, const struct cand *c, struct gc_candidate *o);
/* No credible street: the postcode, then a locality, then the country, into out. Return 0. */
int gc_fallback(struct gctx *g, struct gc_result *out);
/* A street name in more localities than the query narrows it to (g->too_wide) and nothing
 * else: the country (of the country filter) as an ambiguous answer, or no answer. Return 0. */
int gc_answer_ambiguous(struct gctx *g, struct gc_result *out);

/* ---- geocode_reverse.c, for geocode_suggest.c ---- */

/* Admin area admin as reverse geocoding to areas answers it where it is the finest area (its
 * parents: the coarser areas containing its point); its 'R' locationId. */
void gc_area_out(const struct index *ix, size_t admin, struct gc_candidate *o);

/* ---- geocode_resolve.c: output helpers, also for geocode_reverse.c ---- */

/* A candidate with nothing known: match qualities -1, strings "". */
void gc_init_out(struct gc_candidate *o);
/* The address, street and areas of s into o. */
void gc_fill_from_street(const struct index_view *v, struct gc_candidate *o,
                         const struct ix_street *s);
/* The town of postcode pc (any form) in country cc, as the index names it (the town most of
 * its addresses name), or "". An answer at street level or finer whose street the data gives
 * no town or district (an OpenAddresses row without CITY) takes its postcode's: o as it will
 * be output, its postcode final. */
const char *gc_postcode_city(const struct index *ix, const char *pc, const char cc[2]);
void gc_postcode_town_out(const struct index *ix, struct gc_candidate *o);
/* Place pl (a city, or a district of one) and postcode p as answers: position, names, map
 * view and locationId (match qualities, code and relevance are the caller's). */
void gc_place_out(const struct index_view *v, const struct ix_place *pl, struct gc_candidate *o);
void gc_postcode_out(const struct index_view *v, const struct ix_postcode *p,
                     struct gc_candidate *o);
/* A map view radius_m around o's position. */
void gc_set_view(struct gc_candidate *o, double radius_m);
/* The locationId: kind and two numbers. */
void gc_location_id(char *out, size_t cap, char kind, uint32_t a, uint32_t b);
/* The relevance of o: the mean of its match qualities (1 when none), times the share of the
 * free text's words that a field of it accounts for (HERE: "the percentage of the input that
 * matches the returned address"; a name or a note in the query lowers it, the answer may be
 * right: the match qualities tell). */
double gc_relevance(const struct gc_candidate *o);

#endif
