/*
 * geocode_fuzzy.c - spelling tolerance: when no exact street is credible, the spans of the
 * free text that are within a few edits of a street key (the index's FUZZY section holds every
 * key's one-deletion variants), or whose street type is misspelt ("Strase").
 */
#include "base/co.h"
#include "base/hash.h"
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "text/edit.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The OSA distance of two keys (text/edit.h), max + 1 beyond max; keys of over 64 bytes are
 * not matched by spelling. */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb, int max)
{
    if (la > 64 || lb > 64)
        return max + 1;
    return edit_osa(a, la, b, lb, max);
}

/* Edits a key of this length may carry and still be found. */
static int allowed_edits(size_t len)
{
    return len >= 9 ? 2 : len >= 4 ? 1 : 0;
}

/* What a search within a few edits does: all of it (FZ_ALL), or in two passes, the nearer
 * part first (FZ_NEAR: the key and its one-deletion variants; typed keys that are streets) and
 * the farther part only when that gave no answer (FZ_FAR: the two-deletion variants; typed
 * keys within one more edit). */
enum fz_part { FZ_ALL, FZ_NEAR, FZ_FAR };

/* Streets whose key is within the allowed edits of key: add them with quality < 1. *best: the
 * smallest distance added by the one-deletion variants (99 none). */
static int fuzzy_streets_within(struct gctx *g, const char *key, size_t len, int maxd, int hyp,
                                int span_tokens, double quality, enum fz_part part, int *best);

int gc_fuzzy_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
{
    int best;
    return fuzzy_streets_within(g, key, len, allowed_edits(len), hyp, span_tokens,
                                GC_WEIGHTS.fuzzy_quality, FZ_ALL, &best);
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

/* Verify and add the streets of one variant's FUZZY entries. */
static void fuzzy_take(struct fuzzy_probe *fp, const struct ix_fuzzy *fz, size_t n)
{
    const struct index_view *v = fp->g->v;
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
        gc_add_street_run(fp->g, st, ix_key_hash(sk, sl), fp->hyp,
                          fp->quality - GC_WEIGHTS.per_edit * dist, fp->span_tokens);
        fp->added++;
        if (dist < fp->best)
            fp->best = dist;
    }
}

/* Variants are looked up FUZZY_BATCH at a time (index_fuzzy_find_hashes overlaps their reads)
 * and taken in the order they were made, so the batching changes no answer. */
enum { FUZZY_BATCH = 64 };
struct fuzzy_batch {
    uint32_t hash[FUZZY_BATCH];
    size_t n;
};

/* Before the entries are taken in order, the streets they name and then those streets' keys
 * are asked for in two sweeps (up to FUZZY_AHEAD entries), so that their reads are in flight
 * together instead of one after another, while another row runs (co_pass; with rows
 * interleaved only: an index small enough for one lane is in the cache). */
enum { FUZZY_AHEAD = 64 };

static void prefetch_streets(const struct index_view *v, const struct ix_fuzzy *const *first,
                             const size_t *count, size_t n, bool keys)
{
    size_t asked = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < count[i] && asked < FUZZY_AHEAD; e++, asked++) {
            const struct ix_street *s = &v->streets[first[i][e].street];
            if (keys)
                __builtin_prefetch(ix_str(v, s->key));
            else
                __builtin_prefetch(&s->key);
        }
    if (asked)
        co_pass();
}

static void batch_flush(struct fuzzy_probe *fp, struct fuzzy_batch *b)
{
    const struct ix_fuzzy *first[FUZZY_BATCH];
    size_t count[FUZZY_BATCH];
    index_fuzzy_find_hashes(fp->g->ix, b->hash, b->n, first, count);
    if (co_running) {
        prefetch_streets(fp->g->v, first, count, b->n, false);
        prefetch_streets(fp->g->v, first, count, b->n, true);
    }
    for (size_t i = 0; i < b->n; i++)
        fuzzy_take(fp, first[i], count[i]);
    b->n = 0;
}

static void batch_add(struct fuzzy_probe *fp, struct fuzzy_batch *b, uint32_t hash)
{
    b->hash[b->n++] = hash;
    if (b->n == FUZZY_BATCH)
        batch_flush(fp, b);
}

/*
 * Streets within maxd edits of key. The index holds every key and its one-deletion variants;
 * we probe the key and its one-deletion variants (one edit of any kind), and only when that
 * finds nothing, its two-deletion variants (two edits, for long keys). A deletion next to an
 * equal byte gives the same variant as its neighbour: probed once. A variant's hash (FNV-1a,
 * byte by byte) starts from that of the key's bytes before its first deletion, and a second
 * deletion's from the first's, so each variant hashes only what follows its last deletion.
 */
static int fuzzy_streets_within(struct gctx *g, const char *key, size_t len, int maxd, int hyp,
                                int span_tokens, double quality, enum fz_part part, int *best)
{
    *best = 99;
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
    struct fuzzy_batch b = {.n = 0};
    uint32_t pre[KEY_MAX + 1]; /* pre[i]: the hash of key[0, i) */
    assert(len <= KEY_MAX);    /* keys are shorter than KEY_MAX: gc_span_key's cap */
    pre[0] = HASH_FNV32_SEED;
    for (size_t i = 0; i < len; i++)
        pre[i + 1] = hash_fnv1a_byte(pre[i], (unsigned char)key[i]);
    assert(pre[len] == ix_key_hash(key, len)); /* the index's key hash is FNV-1a */
    if (part != FZ_FAR) {
        batch_add(&fp, &b, pre[len]);
        if (len == 0) {
            batch_flush(&fp, &b);
            return fp.added;
        }
        for (size_t d1 = 0; d1 < len; d1++) /* key without byte d1 */
            if (d1 == 0 || key[d1] != key[d1 - 1])
                batch_add(&fp, &b, hash_fnv1a_on(pre[d1], key + d1 + 1, len - d1 - 1));
        batch_flush(&fp, &b);
        *best = fp.best;
        if (maxd < 2 || fp.best <= 1 || part == FZ_NEAR)
            return fp.added;
    }
    for (size_t d1 = 0; d1 + 1 < len; d1++) {
        if (d1 > 0 && key[d1] == key[d1 - 1])
            continue;
        uint32_t h = pre[d1];                      /* key[0, d1) and key[d1 + 1, d2) */
        for (size_t d2 = d1 + 1; d2 < len; d2++) { /* key without bytes d1 and d2 */
            if (d2 == d1 + 1 || key[d2] != key[d2 - 1])
                batch_add(&fp, &b, hash_fnv1a_on(h, key + d2 + 1, len - d2 - 1));
            h = hash_fnv1a_byte(h, (unsigned char)key[d2]);
        }
    }
    batch_flush(&fp, &b);
    return fp.added;
}

/* The streets of the n keys kp (of kl bytes), looked up all at once (index_street_first_many),
 * as candidates of hyp for a span of span_tokens with a street type read for what the query
 * wrote (GC_WEIGHTS.typed_quality): their count. */
static int take_keys(struct gctx *g, const char *const *kp, const size_t *kl, size_t n, int hyp,
                     int span_tokens)
{
    uint32_t first[16], hash[16];
    assert(n <= 16);
    if (n == 0)
        return 0;
    index_street_first_many(g->ix, kp, kl, n, first, hash);
    int added = 0;
    for (size_t k = 0; k < n; k++)
        if (first[k] != IX_NONE) {
            gc_add_street_run(g, first[k], hash[k], hyp, GC_WEIGHTS.typed_quality, span_tokens);
            added++;
        }
    return added;
}

/* English street types that a query leaves out ("455 Franklin, San Francisco" for Franklin
 * St), folded as norm_key writes them. */
static const char *const omitted_types[] = {"street",    "avenu", "road",  "drive", "lane",
                                            "boulevard", "place", "court", "way",   "terrace"};
enum { N_OMITTED = sizeof(omitted_types) / sizeof(omitted_types[0]) };
static_assert(N_OMITTED <= 16, "take_keys takes up to 16 keys");

/* Whether the query is read in English: its reading country speaks it, or it has none (every
 * list). */
bool gc_reads_english(const struct gctx *g)
{
    const char *langs = g->cc_arg ? norm_country_langs(g->cc_arg) : NULL;
    return !langs || !*langs || strstr(langs, "en") != NULL;
}

/* Whether a span that ends before token j ends a name: before a number, a comma or the end. */
static bool ends_name(const struct gctx *g, int j)
{
    return j == g->ntok || g->tok[j - 1].comma_after || g->tok[j].numlike;
}

/* Whether a span that ends before token j may be a street less its English type: it ends a
 * name of a query read in English. */
static bool typeless_may(const struct gctx *g, int j)
{
    return ends_name(g, j) && gc_reads_english(g);
}

/* Whether the span [i, j) stands beside the house number in its part ("87 Clerkenwell",
 * "Oak 255"): where a street without its type is read even in a short name or a place's. */
static bool beside_number(const struct gctx *g, int i, int j)
{
    const struct token *t = g->tok;
    return (i > 0 && t[i - 1].numlike && !t[i - 1].used && !t[i - 1].comma_after) ||
           (j < g->ntok && t[j].numlike && !t[j].used && !t[j - 1].comma_after);
}

/*
 * The streets whose key is the span's key and an English street type that the span leaves
 * out: the type's lookups, all at once (take_keys), for a span that is a whole name (after a
 * number, a comma or the start; before a number, a comma or the end) and whose last word is not
 * such a type already ("Railway" is no "Rail" and a way). Found streets are candidates of hyp as
 * with a misspelt type.
 */
static int typeless_streets(struct gctx *g, int i, int j, const char *key, size_t len, int hyp)
{
    if (!typeless_may(g, j))
        return 0;
    /* the span starts the name: after the number, a comma or what is set aside, not after a
     * word of the name ("76 Auburn Park" is no "Park Ave" with "Auburn" left over) */
    if (i > 0 && !g->tok[i - 1].used && !g->tok[i - 1].numlike && !g->tok[i - 1].comma_after)
        return 0;
    if (j - i >= 2) { /* its last word a type: "Franklin St" */
        char pk[KEY_MAX];
        size_t pl = gc_span_key(g, i, j - 1, pk, sizeof(pk));
        for (size_t t = 0; pl > 0 && pl < len && memcmp(key, pk, pl) == 0 && t < N_OMITTED; t++)
            if (strlen(omitted_types[t]) == len - pl &&
                memcmp(key + pl, omitted_types[t], len - pl) == 0)
                return 0;
    }
    char keys[N_OMITTED][KEY_MAX];
    const char *kp[N_OMITTED];
    size_t kl[N_OMITTED];
    size_t n = 0;
    for (size_t t = 0; t < N_OMITTED; t++) {
        size_t tl = strlen(omitted_types[t]);
        if (len + tl >= KEY_MAX)
            continue;
        memcpy(keys[n], key, len);
        memcpy(keys[n] + len, omitted_types[t], tl);
        kp[n] = keys[n];
        kl[n++] = len + tl;
    }
    return take_keys(g, kp, kl, n, hyp, j - i);
}

/* Street types written before the name, folded (norm_fold) and as written: a first word one
 * edit from one of them is read as it ("Plaç Coprínceps", "Qua Antoine 1er", "Cmí Cap del
 * Carrer"). */
static const struct {
    const char *folded, *written;
} leading_types[] = {
    {"rue", "rue"},         {"avenu", "avenue"},        {"boulevard", "boulevard"},
    {"place", "place"},     {"quai", "quai"},           {"chemin", "chemin"},
    {"route", "route"},     {"impasse", "impasse"},     {"rua", "rua"},
    {"avenida", "avenida"}, {"praca", "praça"},         {"travessa", "travessa"},
    {"largo", "largo"},     {"calle", "calle"},         {"plaza", "plaza"},
    {"paseo", "paseo"},     {"camino", "camino"},       {"carrer", "carrer"},
    {"placa", "plaça"},     {"avinguda", "avinguda"},   {"passeig", "passeig"},
    {"cami", "camí"},       {"carretera", "carretera"}, {"via", "via"},
    {"viale", "viale"},     {"piazza", "piazza"},       {"corso", "corso"},
    {"vicolo", "vicolo"},   {"strada", "strada"},       {"ulica", "ulica"},
    {"namesti", "náměstí"}, {"trida", "třída"},
};
enum { N_LEADING = sizeof(leading_types) / sizeof(leading_types[0]) };

/* Up to 4 keys of texts a misspelt span is read as, for take_keys. */
#define TEXT_KEYS_MAX 12 /* take_keys reads at most 16 */

struct text_keys {
    char keys[TEXT_KEYS_MAX][KEY_MAX];
    const char *kp[TEXT_KEYS_MAX];
    size_t kl[TEXT_KEYS_MAX];
    size_t n;
};

/* The key of text (m bytes as snprintf wrote it into a buffer of cap) in the reading's
 * languages into k, when it fits and has one. */
static void text_key(const struct gctx *g, const char *text, int m, size_t cap, struct text_keys *k)
{
    if (k->n >= TEXT_KEYS_MAX || m < 0 || (size_t)m >= cap)
        return;
    int l = norm_key(text, (size_t)m, g->cc_arg, k->keys[k->n], KEY_MAX);
    if (l <= 0)
        return;
    k->kp[k->n] = k->keys[k->n];
    k->kl[k->n++] = (size_t)l;
}

/*
 * The streets of the span [i, j) with its first word, a street type misspelt by one edit, read
 * as that type: the span's text with the type as written, its key in the reading's languages,
 * looked up all at once; for a span of two words or more that ends a name. Candidates of hyp
 * as with a misspelt type at the end (GC_WEIGHTS.typed_quality).
 */
static int retyped_streets(struct gctx *g, int i, int j, int hyp)
{
    const struct token *t = &g->tok[i];
    if (j - i < 2 || t->len > 12 || !ends_name(g, j))
        return 0;
    char f[64];
    int fl = norm_fold(t->s, t->len, f, sizeof(f));
    if (fl < 2)
        return 0;
    const char *rest = g->tok[i + 1].s;
    size_t rl = (size_t)(g->tok[j - 1].s + g->tok[j - 1].len - rest);
    struct text_keys tk = {.n = 0};
    for (size_t k = 0; k < N_LEADING && tk.n < 4; k++) {
        const char *ty = leading_types[k].folded;
        if (edit_osa(f, (size_t)fl, ty, strlen(ty), 1) != 1)
            continue;
        char text[KEY_MAX + 16];
        int m = snprintf(text, sizeof(text), "%s %.*s", leading_types[k].written, (int)rl, rest);
        text_key(g, text, m, sizeof(text), &tk);
    }
    return take_keys(g, tk.kp, tk.kl, tk.n, hyp, j - i);
}

/* English ordinals as words, which the normaliser reads as numbers ("Third St" is "3rd
 * street"): a word one edit from one is no misspelt street of letters. */
static const char *const ordinals[] = {
    "first",     "second",    "third",       "fourth",     "fifth",      "sixth",      "seventh",
    "eighth",    "ninth",     "tenth",       "eleventh",   "twelfth",    "thirteenth", "fourteenth",
    "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth",
};
enum { N_ORDINALS = sizeof(ordinals) / sizeof(ordinals[0]) };

/*
 * The streets of the span [i, j) with a word one edit from an English ordinal read as that
 * ordinal ("Thrid St", "Eigthh St", "Secodn St" for Third, Eighth and Second St; query read in
 * English): the span's text with the ordinal in the word's place, its key looked up. Candidates
 * of hyp as with a misspelt type (GC_WEIGHTS.typed_quality).
 */
static int reordinal_streets(struct gctx *g, int i, int j, int hyp)
{
    if (!gc_reads_english(g))
        return 0;
    struct text_keys tk = {.n = 0};
    const char *start = g->tok[i].s, *end = g->tok[j - 1].s + g->tok[j - 1].len;
    for (int k = i; k < j && tk.n < 4; k++) {
        const struct token *t = &g->tok[k];
        char f[32];
        int fl = t->len < 16 && !t->numlike ? norm_fold(t->s, t->len, f, sizeof(f)) : 0;
        if (fl < 4)
            continue;
        for (size_t o = 0; o < N_ORDINALS && tk.n < 4; o++) {
            if (edit_osa(f, (size_t)fl, ordinals[o], strlen(ordinals[o]), 1) != 1)
                continue;
            char text[KEY_MAX + 32];
            int m = snprintf(text, sizeof(text), "%.*s%s%.*s", (int)(t->s - start), start,
                             ordinals[o], (int)(end - (t->s + t->len)), t->s + t->len);
            text_key(g, text, m, sizeof(text), &tk);
        }
    }
    return take_keys(g, tk.kp, tk.kl, tk.n, hyp, j - i);
}

/* English directionals that lead a street's name ("East Pratt Street", "N Charles St"). */
static const char *const directionals[] = {"north", "south", "east", "west"};

/*
 * The streets of the span [i, j) with an English directional before it, as the data may name
 * them and a writer leave out ("501 Pratt Street, Baltimore" for East Pratt Street): a query
 * read in English, a span that starts the name (after the number, a comma or what is set
 * aside), is no street as written and does not start with a directional, ends a name, and of
 * two words or more. Each directional's key looked up; candidates of hyp as with a misspelt
 * type (GC_WEIGHTS.typed_quality), so that a number both East and West have is ambiguous.
 */
static int directional_streets(struct gctx *g, int i, int j, const char *key, size_t len, int hyp)
{
    if ((j - i < 2 && !beside_number(g, i, j)) || !typeless_may(g, j) ||
        (i > 0 && !g->tok[i - 1].used && !g->tok[i - 1].numlike && !g->tok[i - 1].comma_after))
        return 0; /* one word only beside the house number: "501 Broadway" */
    if (index_street_first(g->ix, key, len) != IX_NONE)
        return 0; /* a street as written: "77 Van Ness Ave" is not South Van Ness Ave's 77 */
    const char *start = g->tok[i].s, *end = g->tok[j - 1].s + g->tok[j - 1].len;
    char first[8];
    int fl = g->tok[i].len < sizeof(first)
                 ? norm_fold(g->tok[i].s, g->tok[i].len, first, sizeof(first))
                 : 0;
    bool has_one = false; /* "N", "North" */
    for (size_t d = 0; d < 4 && fl > 0; d++)
        has_one |= fl == 1 ? first[0] == directionals[d][0] : strcmp(first, directionals[d]) == 0;
    struct text_keys tk = {.n = 0};
    char text[KEY_MAX + 16];
    if (has_one && j - i >= 3) { /* one the data may not have: without it ("455 N Franklin St") */
        const char *rest = g->tok[i + 1].s;
        text_key(g, text, snprintf(text, sizeof(text), "%.*s", (int)(end - rest), rest),
                 sizeof(text), &tk);
    }
    for (size_t d = 0; d < 4 && !has_one; d++)
        text_key(
            g, text,
            snprintf(text, sizeof(text), "%s %.*s", directionals[d], (int)(end - start), start),
            sizeof(text), &tk);
    return take_keys(g, tk.kp, tk.kl, tk.n, hyp, j - i);
}

/*
 * The streets whose name is the span's with a street type before it that the writer left out,
 * in a language of the reading whose types lead ("Santa Catarina 337, Porto": Rua de Santa
 * Catarina, whose article the keys drop; "Princep Benlloch 4": Avinguda): for a span that is a
 * whole name beside the house number, in a reading with a country. Found streets are
 * candidates of hyp as with a misspelt type.
 */
static int leading_typeless(struct gctx *g, int i, int j, int hyp)
{
    static const struct {
        const char *lang, *types[6];
    } leading[] = {
        {"pt", {"Rua", "Avenida", "Travessa", "Praça", "Largo", "Alameda"}},
        {"ca", {"Carrer", "Avinguda", "Plaça", "Passeig", "Carretera", NULL}},
        {"es", {"Calle", "Avenida", "Plaza", "Paseo", "Carretera", NULL}},
        {"it", {"Via", "Viale", "Piazza", "Corso", NULL, NULL}},
    };
    const char *langs = g->cc_arg ? norm_country_langs(g->cc_arg) : NULL;
    if (!langs || !*langs || !ends_name(g, j) || !beside_number(g, i, j) ||
        (i > 0 && !g->tok[i - 1].used && !g->tok[i - 1].numlike && !g->tok[i - 1].comma_after))
        return 0;
    const char *start = g->tok[i].s, *end = g->tok[j - 1].s + g->tok[j - 1].len;
    struct text_keys tk = {.n = 0};
    char text[KEY_MAX + 16];
    for (size_t l = 0; l < sizeof(leading) / sizeof(leading[0]); l++)
        for (size_t t = 0; strstr(langs, leading[l].lang) && t < 6 && leading[l].types[t]; t++)
            text_key(g, text,
                     snprintf(text, sizeof(text), "%s %.*s", leading[l].types[t],
                              (int)(end - start), start),
                     sizeof(text), &tk);
    return take_keys(g, tk.kp, tk.kl, tk.n, hyp, j - i);
}

/*
 * A numbered road as people write it, read as the data names it (US TIGER): a county road
 * ("County Road 170", "CR 170", "Co Rd 170") is "<County> County 170" in the county of the
 * query's postcode (its first street's) or of a town run of the query; a highway ("Highway 82",
 * "Hwy 82", "US 82", "SR 14", "AL 14") is "US Hwy 82" or "State Rte 14". The span [i, j) is
 * the words and the route number (j - 1, digits), with the house number before it; only in a
 * query read in English. Its streets are candidates of a hypothesis of their own, as with a
 * misspelt type. Return false when no hypothesis is left.
 */
static bool route_span(struct gctx *g, int i, int j)
{
    const struct token *nt = &g->tok[j - 1];
    if (i == 0 || !g->tok[i - 1].numlike || g->tok[i - 1].used || nt->used || nt->len > 4 ||
        !gc_reads_english(g))
        return true;
    for (size_t b = 0; b < nt->len; b++)
        if (!isdigit((unsigned char)nt->s[b]))
            return true;
    char key[KEY_MAX];
    size_t pl = gc_span_key(g, i, j - 1, key, sizeof(key)); /* the words before the number */
    static const char *const words[] = {                    /* county roads, then highways */
                                        "County Road", "Co Rd",    "CR", "Highway",
                                        "US",          "US Route", "SR", "State Highway",
                                        "State Road"};
    bool is_county = false, is_highway = false;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]) && !is_county && !is_highway; k++) {
        char wk[KEY_MAX]; /* the words' key as the reading's normaliser makes it */
        int wl = norm_key(words[k], strlen(words[k]), g->cc_arg, wk, sizeof(wk));
        if (wl > 0 && (size_t)wl == pl && memcmp(key, wk, pl) == 0)
            *(k < 3 ? &is_county : &is_highway) = true;
    }
    struct norm_region reg[MAX_REGIONS]; /* "AL 14": a state's code before the number */
    if (!is_county && !is_highway && j - 1 - i == 1 && g->tok[i].len == 2 &&
        isupper((unsigned char)g->tok[i].s[0]) && isupper((unsigned char)g->tok[i].s[1]))
        is_highway = norm_region(g->tok[i].s, 2, "US", reg, MAX_REGIONS) > 0;
    if (!is_county && !is_highway)
        return true;
    if (g->nhyp >= MAX_HYP)
        return false;
    struct hyp *h = gc_new_hyp(g);
    h->span_i = i;
    h->span_j = j;
    gc_pick_number(g, h);
    gc_leftover_runs(g, h);
    struct text_keys tk = {.n = 0};
    char text[KEY_MAX + 32];
    int nl = (int)nt->len;
    if (is_highway) {
        text_key(g, text, snprintf(text, sizeof(text), "US Hwy %.*s", nl, nt->s), sizeof(text),
                 &tk);
        text_key(g, text, snprintf(text, sizeof(text), "State Rte %.*s", nl, nt->s), sizeof(text),
                 &tk);
    } else {
        size_t n;
        const uint32_t *st = g->has_pc && g->pc_run != IX_NONE
                                 ? index_postcode_streets(g->ix, g->pc_run, 0, &n)
                                 : NULL;
        const char *c = st && n > 0 ? ix_str(g->v, g->v->streets[st[0]].county) : "";
        if (*c)
            text_key(g, text, snprintf(text, sizeof(text), "%s County %.*s", c, nl, nt->s),
                     sizeof(text), &tk);
        for (int r = 0; r < h->n_runs && tk.n < 4; r++) {
            const struct run *run = &h->runs[r];
            if (run->first < 0)
                continue;
            const struct token *a = &g->tok[run->first];
            const struct token *b = &g->tok[run->first + run->ntok - 1];
            int rl = (int)(b->s + b->len - a->s);
            bool county_word = rl > 7 && strncasecmp(b->s + b->len - 7, " county", 7) == 0;
            text_key(g, text,
                     snprintf(text, sizeof(text), "%.*s%s %.*s", rl, a->s,
                              county_word ? "" : " County", nl, nt->s),
                     sizeof(text), &tk);
        }
    }
    int before = g->ncand;
    take_keys(g, tk.kp, tk.kl, tk.n, g->nhyp, j - i);
    if (g->ncand > before)
        g->nhyp++;
    return true;
}

/* Whether the text of tokens [i, j) holds a digraph that the normaliser folds (norm.c: "ae",
 * "oe", "ue"; ASCII letters, any case). */
static bool span_has_digraph(const struct gctx *g, int i, int j)
{
    for (int k = i; k < j; k++) {
        const char *s = g->tok[k].s;
        for (size_t b = 1; b < g->tok[k].len; b++) {
            int p = s[b - 1] | 0x20, c = s[b] | 0x20; /* lower case, for letters */
            if (c == 'e' && (p == 'a' || p == 'o' || p == 'u'))
                return true;
        }
    }
    return false;
}

/*
 * A letter lost between a, o or u and an 'e' leaves a digraph that the normaliser folds:
 * "Grae" (for "Grace") is "gra", two edits from "grace" and so beyond a short key's one; and
 * so does a slip that brings the two together ("Fyaette" for "Fayette" is "fyatte", "Rboerts"
 * "rborts"). The key is searched again with the 'e' put back after each a, o and u in turn
 * ("grae", "fyaette"): the streets within one edit of such a key, itself and its one-deletion
 * variants. *best: as fuzzy_streets_within's.
 */
static void restored_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens,
                             int *best)
{
    char r[KEY_MAX + 1];
    if (len + 1 > KEY_MAX)
        return;
    for (size_t p = 0; p < len; p++) {
        if (key[p] != 'a' && key[p] != 'o' && key[p] != 'u')
            continue;
        memcpy(r, key, p + 1);
        r[p + 1] = 'e';
        memcpy(r + p + 2, key + p + 1, len - p - 1);
        r[len + 1] = '\0';
        int b;
        fuzzy_streets_within(g, r, len + 1, 1, hyp, span_tokens, GC_WEIGHTS.fuzzy_quality, FZ_NEAR,
                             &b);
        if (b < *best)
            *best = b;
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
enum { N_TYPES = sizeof(street_types) / sizeof(street_types[0]) };

/* Each type's length, the edits its tail may carry, and its edit_byte_set: made once. */
static struct {
    size_t len;
    int maxd;
    uint64_t set;
} type_info[N_TYPES];
static pthread_once_t type_once = PTHREAD_ONCE_INIT;

static void type_info_make(void)
{
    for (size_t t = 0; t < N_TYPES; t++) {
        size_t tl = strlen(street_types[t]);
        type_info[t].len = tl;
        type_info[t].maxd = tl >= 7 ? 3 : tl >= 5 ? 2 : 1;
        type_info[t].set = edit_byte_set(street_types[t], tl);
    }
}

/* A key made of a span's stem and a street type, to be looked up. */
struct typed_key {
    char key[KEY_MAX];
    size_t len, stem;
};
#define TYPED_BATCH 16 /* typed keys looked up together (index_street_first_many) */

/* Look the n typed keys up together, then take each in order: a street of that key is a
 * candidate, else the key within one more edit ("Sebastjanstrase"). FZ_NEAR takes only the
 * first (*missed: it left some of the second), FZ_FAR only the second. Return the count added. */
static int typed_flush(struct gctx *g, const struct typed_key *tk, size_t n, int hyp,
                       int span_tokens, enum fz_part part, bool *missed)
{
    const char *keys[TYPED_BATCH] = {NULL}; /* set up to n; zeroed past it for the compiler */
    size_t lens[TYPED_BATCH] = {0};
    uint32_t first[TYPED_BATCH], hash[TYPED_BATCH];
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        keys[i] = tk[i].key;
        lens[i] = tk[i].len;
    }
    index_street_first_many(g->ix, keys, lens, n, first, hash);
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        if (first[i] != IX_NONE) {
            if (part == FZ_FAR)
                continue; /* the nearer pass has it */
            gc_add_street_run(g, first[i], hash[i], hyp, GC_WEIGHTS.typed_quality, span_tokens);
            added++;
        } else if (tk[i].stem >= 5 && part == FZ_NEAR) {
            *missed = true;
        } else if (tk[i].stem >= 5) {
            /* a misspelt type and one more slip in the name */
            int best;
            added += fuzzy_streets_within(g, tk[i].key, tk[i].len, 1, hyp, span_tokens,
                                          GC_WEIGHTS.typed_quality, FZ_ALL, &best);
        }
    }
    return added;
}

/* Typed keys of key (a tail within a few edits of a street type read as that type) that are
 * streets, or within one more edit of one (*missed: FZ_NEAR left some of those for FZ_FAR). */
static int typed_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens,
                         enum fz_part part, bool *missed)
{
    int added = 0;
    struct typed_key tk[TYPED_BATCH];
    size_t nt = 0;
    if (len >= KEY_MAX)
        return 0; /* keys are shorter: their cap */
    pthread_once(&type_once, type_info_make);
    uint64_t tail_set[KEY_MAX]; /* tail_set[p]: edit_byte_set of key[p, len), p >= 4 */
    uint64_t acc = 0;
    for (size_t p = len; p-- > 4;)
        tail_set[p] = acc |= edit_byte_set(key + p, 1);
    for (size_t t = 0; t < N_TYPES; t++) {
        const char *ty = street_types[t];
        size_t tl = type_info[t].len;
        int maxd = type_info[t].maxd;
        uint64_t ty_set = type_info[t].set;
        /* tails of tl - maxd to tl + maxd bytes, after a stem of at least 4 */
        size_t from = len > tl + (size_t)maxd + 4 ? len - tl - (size_t)maxd : 4;
        int dist[KEY_MAX + 1]; /* dist[n]: the type's distance to the key's last n bytes */
        bool measured = false;
        for (size_t p = from; p < len && len - p + (size_t)maxd >= tl; p++) {
            size_t tail = len - p;
            if (edit_sets_apart(tail_set[p], ty_set, maxd))
                continue; /* too many letters apart to be within maxd edits */
            if (tail == tl && memcmp(key + p, ty, tl) == 0)
                continue; /* the exact type: the exact lookup has seen it */
            if (p + tl >= KEY_MAX)
                continue;
            if (!measured) { /* this tail and every shorter one, in one pass */
                edit_osa_tails(ty, tl, key + p, tail, maxd, dist);
                measured = true;
            }
            if (dist[tail] > maxd)
                continue;
            struct typed_key *k = &tk[nt++];
            memcpy(k->key, key, p);
            memcpy(k->key + p, ty, tl);
            k->len = p + tl;
            k->stem = p;
            if (nt == TYPED_BATCH) {
                added += typed_flush(g, tk, nt, hyp, span_tokens, part, missed);
                nt = 0;
            }
        }
    }
    return added + typed_flush(g, tk, nt, hyp, span_tokens, part, missed);
}

int gc_typed_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
{
    bool missed = false;
    return typed_streets(g, key, len, hyp, span_tokens, FZ_ALL, &missed);
}

/* Whether tokens [i, j) name a place of the index, and another token of the query, a word,
 * could be the misspelt street: then the span is read as the place ("Dtrfstrasse 22, Schaan",
 * not a street within two edits of "schaan"). Alone ("Lindenau 5") it may be the street. */
static bool names_place_beside_words(struct gctx *g, int i, int j, const char *key, size_t kl)
{
    bool words = false;
    for (int k = 0; k < g->ntok && !words; k++)
        words = (k < i || k >= j) && !g->tok[k].used && !g->tok[k].numlike;
    return words && index_place_first(g->ix, key, kl) != IX_NONE;
}

/* names_place_beside_words for tokens [i, j), asked once per near pass (gctx.fz_place: 0 not
 * yet, 1 no, 2 yes): the spans of a part are asked again for each span inside them. */
static bool span_names_place(struct gctx *g, int i, int j)
{
    uint8_t *memo = &g->fz_place[i][j - i - 1];
    if (!*memo) {
        char key[KEY_MAX];
        size_t kl = gc_span_key(g, i, j, key, sizeof(key));
        *memo = kl > 0 && names_place_beside_words(g, i, j, key, kl) ? 2 : 1;
    }
    return *memo == 2;
}

/* Whether tokens [i, j) name a place beside other words, or lie inside a longer span of their
 * part that does: "Banumo" of "679497 Triesenberg Banumo" is a word of that town, not a
 * misspelt street. */
static bool in_place_beside_words(struct gctx *g, int i, int j)
{
    for (int a = i; a >= 0 && j - a <= MAX_SPAN; a--) {
        if (a < i && (g->tok[a].used || g->tok[a].numlike || g->tok[a].comma_after))
            break;
        for (int b = j; b <= g->ntok && b - a <= MAX_SPAN; b++) {
            if (b > j && (g->tok[b - 1].used || g->tok[b - 1].numlike))
                break;
            if (span_names_place(g, a, b))
                return true;
            if (g->tok[b - 1].comma_after)
                break;
        }
    }
    return false;
}

/* What the nearer pass left to the farther for a span (gctx.fz_left). */
enum { LEFT_TWO = 1, LEFT_TYPED = 2 };

/* The search for the span of tokens [i, j): the nearer part, or the farther (far) where the
 * nearer left some. Return false when there is no room for another hypothesis. */
static bool fuzzy_span(struct gctx *g, int i, int j, bool far)
{
    uint8_t *left = &g->fz_left[i][j - i - 1];
    if (far && !*left)
        return true;
    char key[KEY_MAX];
    size_t kl = gc_span_key(g, i, j, key, sizeof(key));
    /* a three-letter name is a four-letter one less a letter ("Lch" for "Loch") only where a
     * postcode of the index narrows it: never alone */
    bool short_name = kl == 3 && j - i == 1 && g->has_pc && g->pc_entry != IX_NONE;
    /* a short name or a place's is no misspelt street, but may be a street less its type
     * ("255 Oak, San Francisco", "87 Clerkenwell, London") */
    bool typeless_only = kl < 4 && !short_name;
    if (typeless_only && (far || kl == 0 || !typeless_may(g, j) || !beside_number(g, i, j)))
        return true;
    if (g->nhyp >= MAX_HYP)
        return false;
    if (!far && !typeless_only && in_place_beside_words(g, i, j)) {
        if (!typeless_may(g, j) || !beside_number(g, i, j))
            return true;
        typeless_only = true;
    }
    /* the hypothesis, its number and its towns first: they narrow what is found */
    struct hyp *h = gc_new_hyp(g);
    h->span_i = i;
    h->span_j = j;
    gc_pick_number(g, h);
    gc_leftover_runs(g, h);
    int before = g->ncand, wide_before = g->nwide, best;
    bool missed = false;
    if (typeless_only)
        typeless_streets(g, i, j, key, kl, g->nhyp);
    else if (short_name) {
        fuzzy_streets_within(g, key, kl, 1, g->nhyp, j - i, GC_WEIGHTS.fuzzy_quality, FZ_ALL,
                             &best);
        if (best > 1)
            typeless_streets(g, i, j, key, kl, g->nhyp);
    } else if (!far) {
        int maxd = allowed_edits(kl);
        fuzzy_streets_within(g, key, kl, maxd, g->nhyp, j - i, GC_WEIGHTS.fuzzy_quality, FZ_NEAR,
                             &best);
        if (best > 1 && span_has_digraph(g, i, j))
            restored_streets(g, key, kl, g->nhyp, j - i, &best);
        if (best > 1) {
            typeless_streets(g, i, j, key, kl, g->nhyp);
            retyped_streets(g, i, j, g->nhyp);
            reordinal_streets(g, i, j, g->nhyp);
            directional_streets(g, i, j, key, kl, g->nhyp);
            leading_typeless(g, i, j, g->nhyp);
        }
        typed_streets(g, key, kl, g->nhyp, j - i, FZ_NEAR, &missed);
        *left = (maxd >= 2 && best > 1 ? LEFT_TWO : 0) | (missed ? LEFT_TYPED : 0);
    } else {
        if (*left & LEFT_TWO)
            fuzzy_streets_within(g, key, kl, allowed_edits(kl), g->nhyp, j - i,
                                 GC_WEIGHTS.fuzzy_quality, FZ_FAR, &best);
        if (*left & LEFT_TYPED)
            typed_streets(g, key, kl, g->nhyp, j - i, FZ_FAR, &missed);
    }
    if (g->ncand > before || g->nwide > wide_before)
        g->nhyp++;
    return true;
}

/* No credible exact street: spans within a few edits, or with a misspelt street type; not the
 * spans that name a place beside other words, nor those inside one. The nearer part of the search
 * for every span first; the farther part (far) for the spans where it found nothing near. A span
 * ends at a comma. */
/* Whether tokens [i, j) are already a street as written that the query's postcode or town
 * confirms: then no misspelling of it is read. "Eichenweg 4, 63303 Dreieich-Dreieichenhain"
 * is Eichenweg, though Eschenweg, one edit away, lies nearer the place the town names. */
static bool span_confirmed(const struct gctx *g, int i, int j)
{
    for (int k = 0; k < g->ncand; k++) {
        const struct cand *c = &g->cand[k];
        const struct hyp *h = &g->hyp[c->hyp];
        if (c->confirmed && c->street_q >= 1 && h->span_i == i && h->span_j == j)
            return true;
    }
    return false;
}

void gc_parse_free_fuzzy(struct gctx *g, bool far)
{
    if (!far) {
        memset(g->fz_left, 0, sizeof(g->fz_left));
        memset(g->fz_place, 0, sizeof(g->fz_place));
    }
    for (int i = 0; i < g->ntok; i++) {
        if (g->tok[i].used || g->tok[i].numlike)
            continue;
        /* up to 4 words, not counting the short ones (articles, prepositions: "Rua de Cima
         * do Muro"), at most MAX_SPAN tokens */
        int words = 0;
        for (int j = i + 1; j <= g->ntok && j - i <= MAX_SPAN; j++) {
            if (!far && g->tok[j - 1].numlike && j - 1 > i && j - i <= 4 && !route_span(g, i, j))
                return;
            if (g->tok[j - 1].used || g->tok[j - 1].numlike)
                break;
            words += g->tok[j - 1].len > 3;
            if (words > 4)
                break;
            if (!span_confirmed(g, i, j) && !fuzzy_span(g, i, j, far))
                return;
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
}
