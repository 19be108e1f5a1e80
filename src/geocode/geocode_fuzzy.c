/*
 * geocode_fuzzy.c - spelling tolerance: when no exact street is credible, the spans of the
 * free text that are within a few edits of a street key (the index's FUZZY section holds every
 * key's one-deletion variants), or whose street type is misspelt ("Strase").
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "text/edit.h"

#include <assert.h>
#include <string.h>

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

/* Streets whose key is within the allowed edits of key: add them with quality < 1. */
static int fuzzy_streets_within(struct gctx *g, const char *key, size_t len, int maxd, int hyp,
                                int span_tokens, double quality);

int gc_fuzzy_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
{
    return fuzzy_streets_within(g, key, len, allowed_edits(len), hyp, span_tokens,
                                GC_WEIGHTS.fuzzy_quality);
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
        gc_add_street_run(fp->g, st, fp->hyp, fp->quality - GC_WEIGHTS.per_edit * dist,
                          fp->span_tokens);
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

static void batch_flush(struct fuzzy_probe *fp, struct fuzzy_batch *b)
{
    const struct ix_fuzzy *first[FUZZY_BATCH];
    size_t count[FUZZY_BATCH];
    index_fuzzy_find_hashes(fp->g->ix, b->hash, b->n, first, count);
    for (size_t i = 0; i < b->n; i++)
        fuzzy_take(fp, first[i], count[i]);
    b->n = 0;
}

static void batch_add(struct fuzzy_probe *fp, struct fuzzy_batch *b, const char *variant,
                      size_t vlen)
{
    b->hash[b->n++] = ix_key_hash(variant, vlen);
    if (b->n == FUZZY_BATCH)
        batch_flush(fp, b);
}

/*
 * Streets within maxd edits of key. The index holds every key and its one-deletion variants;
 * we probe the key and its one-deletion variants (one edit of any kind), and only when that
 * finds nothing, its two-deletion variants (two edits, for long keys). A deletion next to an
 * equal byte gives the same variant as its neighbour: probed once. Moving a deletion one byte
 * to the right changes one byte of the variant, so each variant costs one store.
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
    struct fuzzy_batch b = {.n = 0};
    batch_add(&fp, &b, key, len);
    if (len == 0) {
        batch_flush(&fp, &b);
        return fp.added;
    }
    char var[KEY_MAX]; /* keys are shorter than KEY_MAX: gc_span_key's cap */
    assert(len <= sizeof(var));
    /* var: key without byte d1 */
    memcpy(var, key + 1, len - 1);
    for (size_t d1 = 0; d1 < len; d1++) {
        if (d1 > 0)
            var[d1 - 1] = key[d1 - 1];
        if (d1 == 0 || key[d1] != key[d1 - 1])
            batch_add(&fp, &b, var, len - 1);
    }
    batch_flush(&fp, &b);
    if (maxd < 2 || fp.best <= 1)
        return fp.added;
    for (size_t d1 = 0; d1 + 1 < len; d1++) {
        if (d1 > 0 && key[d1] == key[d1 - 1])
            continue;
        /* var: key without bytes d1 and d2 */
        memcpy(var, key, d1);
        memcpy(var + d1, key + d1 + 2, len - d1 - 2);
        for (size_t d2 = d1 + 1; d2 < len; d2++) {
            if (d2 > d1 + 1)
                var[d2 - 2] = key[d2 - 1];
            if (d2 == d1 + 1 || key[d2] != key[d2 - 1])
                batch_add(&fp, &b, var, len - 2);
        }
    }
    batch_flush(&fp, &b);
    return fp.added;
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

int gc_typed_streets(struct gctx *g, const char *key, size_t len, int hyp, int span_tokens)
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
                gc_add_street_run(g, first, hyp, GC_WEIGHTS.typed_quality, span_tokens);
                added++;
            } else if (p >= 5) {
                /* a misspelt type and one more slip in the name ("Sebastjanstrase") */
                added += fuzzy_streets_within(g, cand, p + tl, 1, hyp, span_tokens,
                                              GC_WEIGHTS.typed_quality);
            }
        }
    }
    return added;
}

/* No credible exact street: spans within a few edits, or with a misspelt street type. */
void gc_parse_free_fuzzy(struct gctx *g)
{
    for (int i = 0; i < g->ntok; i++) {
        if (g->tok[i].used || g->tok[i].numlike)
            continue;
        /* up to 4 words, not counting the short ones (articles, prepositions: "Rua de Cima
         * do Muro"), at most MAX_SPAN tokens */
        int words = 0;
        for (int j = i + 1; j <= g->ntok && j - i <= MAX_SPAN; j++) {
            if (g->tok[j - 1].used || g->tok[j - 1].numlike)
                break;
            words += g->tok[j - 1].len > 3;
            if (words > 4)
                break;
            char key[KEY_MAX];
            size_t kl = gc_span_key(g, i, j, key, sizeof(key));
            /* a three-letter name is a four-letter one less a letter ("Lch" for "Loch") only
             * where a postcode of the index narrows it: never alone */
            bool short_name = kl == 3 && j - i == 1 && g->has_pc && g->pc_entry != IX_NONE;
            if (kl < 4 && !short_name)
                continue;
            if (g->nhyp >= MAX_HYP)
                return;
            struct hyp *h = gc_new_hyp(g);
            h->span_i = i;
            h->span_j = j;
            int before = g->ncand;
            if (short_name)
                fuzzy_streets_within(g, key, kl, 1, g->nhyp, j - i, GC_WEIGHTS.fuzzy_quality);
            else {
                gc_fuzzy_streets(g, key, kl, g->nhyp, j - i);
                gc_typed_streets(g, key, kl, g->nhyp, j - i);
            }
            if (g->ncand > before) {
                gc_pick_number(g, h);
                gc_leftover_runs(g, h);
                g->nhyp++;
            }
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
}
