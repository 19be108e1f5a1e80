/*
 * norm.c - the one normaliser of names (streets, places, cities) for index and query alike.
 *
 * Matching works because the importer and the geocoder pass data and query through the same
 * function, so the rules below need not be linguistically perfect: they must make every usual
 * spelling of a name meet and keep distinct names apart. The pipeline, per input:
 *   1. fold: each code point is decomposed (NFKD), case-folded and stripped of marks with
 *      utf8proc_decompose_char() into a stack buffer; letters without a decomposition are
 *      transliterated (æ→ae, ø→oe, œ→oe, þ→th, đ→d, ł→l ...); apostrophes vanish ("O'Farrell"
 *      = "OFarrell"), except after a single letter, where they end the word ("d'Urgell" =
 *      "d Urgell", so that the lists can drop the elided article); every other non-letter,
 * non-digit is a token boundary, and so is a digit after a letter ("Hauptstr15" reads as
 * "Hauptstr 15", so that the abbreviation and the house number are found); a '.' right after a
 * token marks that token as "dotted" (abbreviations like "g." need it);
 *   2. digraphs: inside a token "ae", "oe", "ue" fold to "a", "o", "u" and "aa" to "a" (the rule
 *      is "drop an 'e' after a/o/u, an 'a' after a", applied left to right against the last
 *      letter kept, so it is idempotent), which makes Nørrebrogade = Norrebrogade =
 *      Noerrebrogade and Müller = Mueller = Muller. The price: a few unrelated words lose a
 *      letter too ("avenue" → "avenu", "rue" → "ru", "michael" → "michal"); since both sides
 *      of a match fold alike this only merges names that differ by such an 'e', which is rare;
 *   3. numbers lose their leading zeros ("07th" → "7th");
 *   4. abbreviations: per-language rule lists (data/dict/<lang>.txt, format documented at the
 *      top of each file) are matched by whole token sequences (up to 3 words: "a.d.", "p.za"),
 *      then by word endings ("-str": "Landstr." → "landstrasse"), with position conditions
 *      (first/last/...) so that "St" is "saint" first and "street" elsewhere in English;
 *   5. output: tokens joined by one space (norm_name) or by nothing (norm_key); the key re-applies
 *      the digraph rule across the joints, so "Rosa Allee" and "Rosaallee" meet. Two numbers
 *      keep their space in a key too: "Town 005 2" (house 2 in Town 005) is "town5 2", and
 *      "Town 052" is "town52".
 *
 * THREADS: norm_init() builds the tables once under a mutex and publishes them with a release
 * store; afterwards every function here only reads them and may be called from any thread.
 * Hot path: no allocation per call; all work happens in fixed stack buffers.
 */
#include "text/norm.h"
#include "text/norm_int.h"
#include "base/hash.h"
#include "base/mem.h"

#include "base/err.h"
#include "base/log.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#ifndef GB_DICT_DIR
#define GB_DICT_DIR "data/dict"
#endif

/* The languages that have a list, in the order tried when the country is unknown. */
static const char *const lang_codes[] = {"en", "de", "fr", "it", "es", "ca", "pt",
                                         "nl", "da", "nb", "sv", "cs", "pl"};
#define NLANG     ((int)(sizeof(lang_codes) / sizeof(lang_codes[0])))
#define MAX_WORDS 3  /* words in one abbreviation */
#define MAX_KEY   64 /* bytes of one folded abbreviation key */
#define MIN_STEM  2  /* letters a word ending must leave before it ("Landstr" → "Land") */
#define LINE_MAX_ 512

/* ---- folding: code points to tokens ---- */

/* struct norm_tok (norm.h): off, len in toks.text; dot: a '.' followed the token directly;
 * digit: it starts with a digit. */

struct toks {
    int n;
    bool open;     /* the last token is still being built */
    bool overflow; /* too many tokens or bytes: the caller returns GB_ETOOLONG */
    size_t used;
    struct norm_tok v[NORM_MAX_TOKENS];
    char text[2 * NORM_MAX];
};

static void toks_close(struct toks *t)
{
    if (!t->open)
        return;
    t->open = false;
    struct norm_tok *k = &t->v[t->n - 1];
    /* "07" → "7", "007th" → "7th", but "0" stays. */
    while (k->digit && k->len > 1 && t->text[k->off] == '0' && t->text[k->off + 1] >= '0' &&
           t->text[k->off + 1] <= '9') {
        k->off++;
        k->len--;
    }
}

/* Whether a digit c after the byte p that ends a token starts a token of its own: a number
 * glued to the letters before it ("Grasgarten15", "Hauptstr15" as "Hauptstr 15"). A digit after
 * a digit, and letters after a digit ("12a", "10th"), stay in the token. */
static inline bool glued_digit(char p, char c)
{
    return c >= '0' && c <= '9' && !(p >= '0' && p <= '9');
}

/* Open a token whose first byte will be c; false (and overflow set) when NORM_MAX_TOKENS are
 * held. */
static bool toks_open(struct toks *t, char c)
{
    if (t->n >= NORM_MAX_TOKENS) {
        t->overflow = true;
        return false;
    }
    t->v[t->n] = (struct norm_tok){
        .off = (uint16_t)t->used, .len = 0, .dot = false, .digit = (c >= '0' && c <= '9')};
    t->n++;
    t->open = true;
    return true;
}

/* Append bytes to the open token, opening one if needed. */
static void toks_put(struct toks *t, const char *s, size_t n)
{
    if (t->overflow || (!t->open && !toks_open(t, s[0])))
        return;
    struct norm_tok *k = &t->v[t->n - 1];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (k->len > 0) {
            char p = t->text[k->off + k->len - 1];
            if (glued_digit(p, c)) { /* "Grasgarten15": the number is a token of its own */
                toks_close(t);
                if (!toks_open(t, c))
                    return;
                k = &t->v[t->n - 1];
            } else if ((c == 'e' && (p == 'a' || p == 'o' || p == 'u')) || (c == 'a' && p == 'a')) {
                continue; /* the digraph rule: drop 'e' after a/o/u and 'a' after 'a' */
            }
        }
        if (t->used >= sizeof(t->text)) {
            t->overflow = true;
            return;
        }
        t->text[t->used++] = c;
        k->len++;
    }
}

/* Letters without a decomposition, lower case; NULL when c is not one. */
static const char *fold_special(int32_t c)
{
    switch (c) {
    case 0xC6:
    case 0xE6:
        return "ae"; /* Æ æ */
    case 0xD8:
    case 0xF8:
        return "oe"; /* Ø ø */
    case 0x152:
    case 0x153:
        return "oe"; /* Œ œ */
    case 0xDE:
    case 0xFE:
        return "th"; /* Þ þ */
    case 0xD0:
    case 0xF0:
        return "d"; /* Ð ð */
    case 0x110:
    case 0x111:
        return "d"; /* Đ đ */
    case 0x141:
    case 0x142:
        return "l"; /* Ł ł */
    case 0x131:
        return "i"; /* dotless ı */
    case 0x126:
    case 0x127:
        return "h"; /* Ħ ħ */
    case 0x166:
    case 0x167:
        return "t"; /* Ŧ ŧ */
    case 0x14A:
    case 0x14B:
        return "ng"; /* Ŋ ŋ */
    case 0x138:
        return "q"; /* ĸ */
    case 0xDF:
    case 0x1E9E:
        return "ss"; /* ß ẞ */
    default:
        return NULL;
    }
}

/* Characters that vanish without splitting a word: apostrophes, the Catalan middle dot. */
static bool fold_ignored(int32_t c)
{
    return c == '\'' || c == '`' || c == 0xB4 || c == 0xB7 || c == 0x2018 || c == 0x2019 ||
           c == 0x02BC || c == 0x02BB || c == 0x2032;
}

/* An apostrophe: after a single letter it ends the word, so that an elided article is a word
 * of its own ("d'Arinsal", "l'Église": "d arinsal"); elsewhere it vanishes ("O'Farrell" keeps
 * one key, "ofarrell", either way). */
static void fold_apostrophe(struct toks *t)
{
    if (t->open && t->v[t->n - 1].len == 1 && !t->v[t->n - 1].digit)
        toks_close(t);
}

static void fold_ascii(struct toks *t, int32_t c)
{
    if (c >= 'A' && c <= 'Z')
        c += 'a' - 'A';
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        char ch = (char)c;
        toks_put(t, &ch, 1);
        return;
    }
    if (c == '\'' || c == '`') {
        fold_apostrophe(t);
        return;
    }
    if (c == '.' && t->open)
        t->v[t->n - 1].dot = true;
    toks_close(t);
}

/* ASCII, the special transliterations and ignored code points. Return true when c was
 * handled here, false when it needs Unicode's tables. */
static bool fold_simple(struct toks *t, int32_t c)
{
    if (c < 0x80) {
        fold_ascii(t, c);
        return true;
    }
    const char *sp = fold_special(c);
    if (sp) {
        toks_put(t, sp, strlen(sp));
        return true;
    }
    if (fold_ignored(c) && c != 0xB7) /* an apostrophe; the Catalan middle dot only vanishes */
        fold_apostrophe(t);
    return fold_ignored(c);
}

/* One code point of a decomposition. */
static void fold_one(struct toks *t, int32_t c)
{
    if (fold_simple(t, c))
        return;
    utf8proc_category_t cat = utf8proc_category(c);
    if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
        cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO) {
        utf8proc_uint8_t b[4];
        utf8proc_ssize_t n = utf8proc_encode_char(c, b);
        if (n > 0)
            toks_put(t, (const char *)b, (size_t)n);
        return;
    }
    toks_close(t);
}

#define FOLD_OPTS                                                                                  \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |               \
     UTF8PROC_IGNORE)

static void fold_cp(struct toks *t, int32_t c)
{
    if (fold_simple(t, c))
        return;
    utf8proc_int32_t d[18];
    int bound = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(c, d, 18, FOLD_OPTS, &bound);
    if (n < 0 || n > 18) {
        toks_close(t);
        return;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++)
        fold_one(t, d[i]);
}

static bool ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* fold_ascii() of n ASCII letters and digits in a row: toks_put() of each, lower case, in one
 * loop. */
static void toks_put_ascii(struct toks *t, const char *s, size_t n)
{
    if (t->overflow)
        return;
    if (!t->open) {
        char c0 = s[0] >= 'A' && s[0] <= 'Z' ? (char)(s[0] + ('a' - 'A')) : s[0];
        toks_put(t, &c0, 1); /* opens the token */
        s++;
        n--;
        if (t->overflow)
            return;
    }
    struct norm_tok *k = &t->v[t->n - 1];
    size_t used = t->used;
    uint16_t klen = k->len;
    char p = klen > 0 ? t->text[k->off + klen - 1] : 0; /* 0: no digraph with it */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (p != 0 && glued_digit(p, c)) { /* a number glued to letters: a token of its own */
            t->used = used;
            k->len = klen;
            toks_close(t);
            if (!toks_open(t, c))
                return;
            k = &t->v[t->n - 1];
            klen = 0;
        } else if ((c == 'e' && (p == 'a' || p == 'o' || p == 'u')) || (c == 'a' && p == 'a')) {
            continue; /* the digraph rule: drop 'e' after a/o/u and 'a' after 'a' */
        }
        if (used >= sizeof(t->text)) {
            t->overflow = true;
            break;
        }
        t->text[used++] = c;
        klen++;
        p = c;
    }
    t->used = used;
    k->len = klen;
}

/* Split and fold len bytes of UTF-8 into t. Invalid bytes are dropped. */
static void fold_text(struct toks *t, const char *in, size_t len)
{
    t->n = 0;
    t->open = false;
    t->overflow = false;
    t->used = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    size_t i = 0;
    while (i < len && !t->overflow) {
        if (p[i] < 0x80) {
            size_t e = i;
            while (e < len && ascii_alnum(p[e]))
                e++;
            if (e > i) {
                toks_put_ascii(t, (const char *)p + i, e - i);
                i = e;
                continue;
            }
            fold_ascii(t, p[i]);
            i++;
            continue;
        }
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (n <= 0) {
            i++;
            continue;
        }
        fold_cp(t, c);
        i += (size_t)n;
    }
    toks_close(t);
}

/* ---- the abbreviation tables ---- */

enum where { W_ANY, W_FIRST, W_LAST, W_NOTFIRST, W_NOTLAST };

struct rule {
    uint8_t lang;
    uint8_t where;
    uint8_t nwords;   /* words of the abbreviation */
    uint8_t min;      /* words the name must have */
    uint8_t dot_mask; /* bit i: word i must be written with a dot */
    bool drop;        /* expansion "-": the words vanish */
    uint32_t exp;     /* offset of the expansion in pool (words separated by ' ', NUL-ended) */
    int32_t next;     /* next rule with the same key, -1 */
};

struct slot {
    uint32_t hash;
    uint32_t key; /* offset in pool, NUL-ended; 0 = empty slot (pool[0] is reserved) */
    int32_t first;
    int32_t last;
};

struct dict {
    char *pool;
    size_t pool_len, pool_cap;
    struct rule *rules;
    size_t nrules, rules_cap;
    struct slot *slots;
    size_t nslots; /* power of two */
    size_t nkeys;
    int max_words;
    size_t max_suffix;       /* longest word ending, in bytes */
    uint8_t suffix_last[32]; /* bit set of last bytes of word endings */
    /* Languages for each alpha-2 code (26*26), then the "all languages" order at [676]. */
    uint8_t langs[677][NLANG];
    uint8_t nlangs[677];
};

static _Atomic(struct dict *) g_dict;
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct slot *dict_find(const struct dict *d, const char *key, size_t n)
{
    uint32_t h = hash_fnv1a(key, n);
    size_t mask = d->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct slot *s = &d->slots[i];
        if (s->key == 0)
            return NULL;
        if (s->hash == h && strncmp(d->pool + s->key, key, n) == 0 && d->pool[s->key + n] == 0)
            return s;
    }
}

static uint32_t pool_add(struct dict *d, const char *s, size_t n)
{
    if (d->pool_len + n + 1 > d->pool_cap) {
        size_t cap = d->pool_cap ? d->pool_cap * 2 : 4096;
        while (cap < d->pool_len + n + 1)
            cap *= 2;
        d->pool = xrealloc(d->pool, cap);
        d->pool_cap = cap;
    }
    uint32_t off = (uint32_t)d->pool_len;
    memcpy(d->pool + off, s, n);
    d->pool[off + n] = 0;
    d->pool_len += n + 1;
    return off;
}

static void dict_rehash(struct dict *d, size_t nslots)
{
    struct slot *old = d->slots;
    size_t oldn = d->nslots;
    d->slots = xcalloc(nslots, sizeof(*d->slots));
    d->nslots = nslots;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i].key == 0)
            continue;
        size_t j = old[i].hash & (nslots - 1);
        while (d->slots[j].key != 0)
            j = (j + 1) & (nslots - 1);
        d->slots[j] = old[i];
    }
    free(old);
}

/* Add rule r under key; rules of one key keep file order. */
static void dict_add(struct dict *d, const char *key, size_t n, const struct rule *r)
{
    if ((d->nkeys + 1) * 2 > d->nslots)
        dict_rehash(d, d->nslots ? d->nslots * 2 : 256);
    if (d->nrules == d->rules_cap) {
        d->rules_cap = d->rules_cap ? d->rules_cap * 2 : 256;
        d->rules = xreallocarray(d->rules, d->rules_cap, sizeof(*d->rules));
    }
    int32_t ri = (int32_t)d->nrules++;
    d->rules[ri] = *r;
    d->rules[ri].next = -1;
    uint32_t h = hash_fnv1a(key, n);
    size_t mask = d->nslots - 1;
    size_t i = h & mask;
    while (d->slots[i].key != 0) {
        struct slot *s = &d->slots[i];
        if (s->hash == h && strncmp(d->pool + s->key, key, n) == 0 && d->pool[s->key + n] == 0) {
            d->rules[s->last].next = ri;
            s->last = ri;
            return;
        }
        i = (i + 1) & mask;
    }
    d->slots[i] = (struct slot){.hash = h, .key = pool_add(d, key, n), .first = ri, .last = ri};
    d->nkeys++;
}

static void dict_free(struct dict *d)
{
    if (!d)
        return;
    free(d->pool);
    free(d->rules);
    free(d->slots);
    free(d);
}

/* Tokens as expand() reads them: those of one fold_text() or a stretch of a norm_words. */
struct tview {
    const struct norm_tok *v;
    int n;
    const char *text;
    struct norm_words *memo; /* when the tokens are a norm_words': its dictionary lookups */
    int base;                /* v[0] is memo->tok[base] */
};

static struct tview toks_view(const struct toks *t)
{
    return (struct tview){.v = t->v, .n = t->n, .text = t->text};
}

/* Join the tokens of t with spaces into buf (cap bytes). Return the length, or -1. */
static int toks_join(const struct tview *t, int from, int n, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = from; i < from + n; i++) {
        size_t need = t->v[i].len + (i > from ? 1 : 0);
        if (len + need + 1 > cap)
            return -1;
        if (i > from)
            buf[len++] = ' ';
        memcpy(buf + len, t->text + t->v[i].off, t->v[i].len);
        len += t->v[i].len;
    }
    buf[len] = 0;
    return (int)len;
}

static int parse_where(const char *s, uint8_t *out)
{
    static const char *const names[] = {"any", "first", "last", "notfirst", "notlast"};
    for (uint8_t i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* Parse one rule line (already without comment and line end). Return 0 or a reason. */
static const char *dict_parse_line(struct dict *d, int lang, char *line)
{
    char *f[5];
    int nf = 0;
    char *p = line;
    while (*p && nf < 5) {
        while (*p == '\t')
            p++;
        if (!*p)
            break;
        f[nf++] = p;
        while (*p && *p != '\t')
            p++;
        if (*p)
            *p++ = 0;
    }
    if (*p)
        return "too many fields";
    if (nf < 3)
        return "needs abbreviation, expansion and position";
    struct rule r = {.lang = (uint8_t)lang, .min = 1};
    if (parse_where(f[2], &r.where) < 0)
        return "position is not any, first, last, notfirst or notlast";
    if (nf == 4) {
        char *end;
        long m = strtol(f[3], &end, 10);
        if (*end || m < 1 || m > NORM_MAX_TOKENS)
            return "min-words is not a number from 1 to 64";
        r.min = (uint8_t)m;
    }
    bool suffix = f[0][0] == '-';
    struct toks t;
    fold_text(&t, f[0] + (suffix ? 1 : 0), strlen(f[0] + (suffix ? 1 : 0)));
    if (t.n < 1 || t.n > MAX_WORDS || t.overflow)
        return "abbreviation must have 1 to 3 words";
    if (suffix && t.n != 1)
        return "a word ending must be one word";
    r.nwords = (uint8_t)t.n;
    for (int i = 0; i < t.n; i++)
        if (t.v[i].dot)
            r.dot_mask |= (uint8_t)(1u << i);
    char key[MAX_KEY + 1];
    key[0] = '-';
    struct tview tv = toks_view(&t);
    int kl = toks_join(&tv, 0, t.n, key + (suffix ? 1 : 0), sizeof(key) - 1);
    if (kl < 0)
        return "abbreviation too long";
    kl += suffix ? 1 : 0;
    if (strcmp(f[1], "-") == 0) {
        r.drop = true;
        r.exp = 0;
    } else {
        struct toks e;
        fold_text(&e, f[1], strlen(f[1]));
        char exp[NORM_MAX];
        struct tview ev = toks_view(&e);
        int el = e.overflow ? -1 : toks_join(&ev, 0, e.n, exp, sizeof(exp));
        if (el <= 0)
            return "expansion is empty or too long";
        r.exp = pool_add(d, exp, (size_t)el);
    }
    if (suffix && r.drop)
        return "a word ending cannot be dropped";
    dict_add(d, key, (size_t)kl, &r);
    if (suffix) {
        size_t sl = (size_t)kl - 1;
        if (sl > d->max_suffix)
            d->max_suffix = sl;
        uint8_t lastb = (uint8_t)key[kl - 1];
        d->suffix_last[lastb >> 3] |= (uint8_t)(1u << (lastb & 7));
    }
    if (t.n > d->max_words)
        d->max_words = t.n;
    return NULL;
}

int norm_list_open(const char *dir, const char *name, char *path, size_t cap, FILE **fp)
{
    int pn = snprintf(path, cap, "%s/%s", dir, name);
    if (pn < 0 || (size_t)pn >= cap)
        return GB_ETOOLONG;
    *fp = fopen(path, "r");
    if (!*fp) {
        int rc = -errno;
        log_error("norm dict open failed path=%s err=%s", path, gb_strerror(rc));
        return rc;
    }
    return 0;
}

static int dict_load_file(struct dict *d, int lang, const char *dir)
{
    char path[4096], name[16];
    snprintf(name, sizeof(name), "%s.txt", lang_codes[lang]);
    FILE *fp;
    int rc = norm_list_open(dir, name, path, sizeof(path), &fp);
    if (rc < 0)
        return rc;
    char line[LINE_MAX_];
    int lineno = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            log_error("norm dict bad line path=%s line=%d reason=\"line too long\"", path, lineno);
            rc = GB_EFORMAT;
            goto out;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = 0;
        char *s = line;
        while (*s == ' ')
            s++;
        if (*s == 0 || *s == '#')
            continue;
        const char *why = dict_parse_line(d, lang, s);
        if (why) {
            log_error("norm dict bad line path=%s line=%d reason=\"%s\"", path, lineno, why);
            rc = GB_EFORMAT;
            goto out;
        }
    }
    if (ferror(fp))
        rc = -EIO;
out:
    fclose(fp);
    return rc;
}

/* Parse "de fr it" into language indexes. */
static int langs_parse(const char *s, uint8_t *out)
{
    int n = 0;
    while (s && *s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        for (int i = 0; i < NLANG && n < NLANG; i++)
            if ((size_t)(s - w) == strlen(lang_codes[i]) && memcmp(w, lang_codes[i], 2) == 0)
                out[n++] = (uint8_t)i;
    }
    return n;
}

bool norm_ready(void)
{
    return atomic_load_explicit(&g_dict, memory_order_acquire) != NULL;
}

int norm_init(const char *dir)
{
    if (atomic_load_explicit(&g_dict, memory_order_acquire))
        return 0;
    pthread_mutex_lock(&g_init_lock);
    int rc = 0;
    struct dict *d = NULL;
    if (atomic_load_explicit(&g_dict, memory_order_acquire))
        goto out;
    if (!dir) {
        const char *env = getenv("GB_DICT_DIR");
        dir = env && *env ? env : GB_DICT_DIR;
    }
    d = xcalloc(1, sizeof(*d));
    pool_add(d, "", 0); /* offset 0 means "none" */
    dict_rehash(d, 256);
    for (int l = 0; l < NLANG; l++) {
        rc = dict_load_file(d, l, dir);
        if (rc < 0)
            goto out;
    }
    rc = norm_region_load(dir);
    if (rc < 0)
        goto out;
    rc = norm_segment_load(dir);
    if (rc < 0)
        goto out;
    for (int l = 0; l < NLANG; l++)
        d->langs[676][l] = (uint8_t)l;
    d->nlangs[676] = NLANG;
    for (int a = 0; a < 26; a++) {
        for (int b = 0; b < 26; b++) {
            char cc[3] = {(char)('A' + a), (char)('A' + b), 0};
            int idx = a * 26 + b;
            int n = langs_parse(norm_country_langs(cc), d->langs[idx]);
            if (n == 0) { /* no list for this country (or no such country): all lists */
                memcpy(d->langs[idx], d->langs[676], NLANG);
                n = NLANG;
            }
            d->nlangs[idx] = (uint8_t)n;
        }
    }
    log_debug("norm init dir=%s rules=%zu keys=%zu", dir, d->nrules, d->nkeys);
    atomic_store_explicit(&g_dict, d, memory_order_release);
    d = NULL;
out:
    pthread_mutex_unlock(&g_init_lock);
    dict_free(d);
    return rc;
}

/* ---- expansion and output ---- */

struct out {
    char *p;
    size_t cap;
    size_t len;
    bool key;          /* no spaces between words */
    bool keep_dropped; /* the words of a rule "-" stay as written */
    bool overflow;     /* cap reached */
};

static void out_byte(struct out *o, char c)
{
    if (o->len + 1 >= o->cap) {
        o->overflow = true;
        return;
    }
    o->p[o->len++] = c;
}

/* Append bytes to the current word, applying the digraph rule against the last byte. */
static void out_bytes(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (o->len > 0) {
            char p = o->p[o->len - 1];
            if ((c == 'e' && (p == 'a' || p == 'o' || p == 'u')) || (c == 'a' && p == 'a'))
                continue;
        }
        out_byte(o, c);
    }
}

/* Before a word that starts with byte next: a space, and in a key none, except between two
 * numbers ("Town 005 2" is "town5 2", not the key of "Town 052"). */
static void out_word_start(struct out *o, char next)
{
    if (o->len > 0 && (!o->key || (ascii_digit(o->p[o->len - 1]) && ascii_digit(next))))
        out_byte(o, ' ');
}

/* Append an expansion ("an der"): its first word continues the current word when glue. */
static void out_expansion(struct out *o, const char *exp, bool glue)
{
    bool first = true;
    while (*exp) {
        const char *w = exp;
        while (*exp && *exp != ' ')
            exp++;
        if (!(first && glue))
            out_word_start(o, *w);
        out_bytes(o, w, (size_t)(exp - w));
        first = false;
        while (*exp == ' ')
            exp++;
    }
}

struct langset {
    const uint8_t *v;
    int n;
};

static const struct rule *rule_pick(const struct dict *d, const struct slot *s,
                                    const struct langset *ls, const struct tview *t, int i, int nw)
{
    for (int li = 0; li < ls->n; li++) {
        for (int32_t ri = s->first; ri >= 0; ri = d->rules[ri].next) {
            const struct rule *r = &d->rules[ri];
            if (r->lang != ls->v[li] || r->nwords != nw || t->n < r->min)
                continue;
            bool ok = true;
            for (int w = 0; w < nw && ok; w++)
                if ((r->dot_mask & (1u << w)) && !t->v[i + w].dot)
                    ok = false;
            switch (r->where) {
            case W_FIRST:
                ok = ok && i == 0;
                break;
            case W_LAST:
                ok = ok && i + nw == t->n;
                break;
            case W_NOTFIRST:
                ok = ok && i > 0;
                break;
            case W_NOTLAST:
                ok = ok && i + nw < t->n;
                break;
            default:
                break;
            }
            if (ok)
                return r;
        }
    }
    return NULL;
}

static void langs_for(const struct dict *d, const char *country, struct langset *ls)
{
    int idx = 676;
    if (country && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' &&
        country[1] <= 'Z' && !country[2]) {
        /* an alpha-2 code as the geocoder passes it: its row (an unknown code's row is the
         * "all lists" order, as norm_country() would make it) */
        idx = (country[0] - 'A') * 26 + (country[1] - 'A');
    } else if (country) {
        const char *cc = norm_country(country, strlen(country));
        if (cc)
            idx = (cc[0] - 'A') * 26 + (cc[1] - 'A');
    }
    ls->v = d->langs[idx];
    ls->n = d->nlangs[idx];
}

/* The dictionary slot of the nw tokens from t->v[i] joined, NULL when none (remembered in
 * t->memo when there is one: the same tokens are looked up again by every span that holds them). */
static const struct slot *seq_slot(const struct dict *d, const struct tview *t, int i, int nw,
                                   char *key, size_t cap)
{
    static_assert(MAX_WORDS <= NORM_WORDS_SEQ, "a memo slot per sequence length");
    struct norm_words *m = t->memo;
    int g = t->base + i;
    if (m && (m->known[g] >> (nw - 1) & 1))
        return m->slot[g][nw - 1];
    int kl = toks_join(t, i, nw, key, cap);
    const struct slot *s = kl < 0 ? NULL : dict_find(d, key, (size_t)kl);
    if (m) {
        m->slot[g][nw - 1] = s;
        m->known[g] |= (uint8_t)(1u << (nw - 1));
    }
    return s;
}

/* Bit sl - 1 set for each ending length sl <= maxs of token t->v[i] that the dictionary has
 * (remembered in t->memo); all bits when there is no memo. Lengths past 64 are not in it. */
static uint64_t ending_slots(const struct dict *d, const struct tview *t, int i, size_t maxs,
                             char *key)
{
    struct norm_words *m = t->memo;
    if (!m)
        return ~(uint64_t)0;
    int g = t->base + i;
    if (m->known[g] & NORM_WORDS_ENDINGS)
        return m->endings[g];
    const struct norm_tok *k = &t->v[i];
    const char *kt = t->text + k->off;
    uint64_t has = 0;
    for (size_t sl = 1; sl <= maxs && sl <= 64; sl++) {
        key[0] = '-';
        memcpy(key + 1, kt + k->len - sl, sl);
        if (dict_find(d, key, sl + 1))
            has |= (uint64_t)1 << (sl - 1);
    }
    m->endings[g] = has;
    m->known[g] |= NORM_WORDS_ENDINGS;
    return has;
}

/* Expand the tokens of t into o. */
static void expand(const struct dict *d, const struct langset *ls, const struct tview *t,
                   struct out *o)
{
    char key[MAX_KEY + 2];
    for (int i = 0; i < t->n;) {
        const struct norm_tok *k = &t->v[i];
        const char *kt = t->text + k->off;
        if (d) {
            /* Longest word sequence first. */
            int done = 0;
            for (int nw = d->max_words < t->n - i ? d->max_words : t->n - i; nw >= 1; nw--) {
                const struct slot *s = seq_slot(d, t, i, nw, key, sizeof(key));
                const struct rule *r = s ? rule_pick(d, s, ls, t, i, nw) : NULL;
                if (r) {
                    if (r->drop && o->keep_dropped) {
                        for (int w = i; w < i + nw; w++) {
                            out_word_start(o, t->text[t->v[w].off]);
                            out_bytes(o, t->text + t->v[w].off, t->v[w].len);
                        }
                    } else if (!r->drop)
                        out_expansion(o, d->pool + r->exp, false);
                    done = nw;
                    break;
                }
            }
            if (done) {
                i += done;
                continue;
            }
            /* Word endings: "landstr" → "land" + "strasse". */
            uint8_t lastb = (uint8_t)kt[k->len - 1];
            if (!k->digit && k->len > MIN_STEM &&
                (d->suffix_last[lastb >> 3] & (1u << (lastb & 7)))) {
                size_t maxs = d->max_suffix < (size_t)k->len - MIN_STEM ? d->max_suffix
                                                                        : (size_t)k->len - MIN_STEM;
                uint64_t has = ending_slots(d, t, i, maxs, key);
                for (size_t sl = maxs; sl >= 1 && !done; sl--) {
                    if (sl <= 64 && !(has >> (sl - 1) & 1))
                        continue;
                    key[0] = '-';
                    memcpy(key + 1, kt + k->len - sl, sl);
                    const struct slot *s = dict_find(d, key, sl + 1);
                    const struct rule *r = s ? rule_pick(d, s, ls, t, i, 1) : NULL;
                    if (r) {
                        out_word_start(o, *kt);
                        out_bytes(o, kt, k->len - sl);
                        out_expansion(o, d->pool + r->exp, true);
                        done = 1;
                    }
                }
            }
            if (done) {
                i++;
                continue;
            }
        }
        out_word_start(o, *kt);
        out_bytes(o, kt, k->len);
        i++;
    }
}

/* Expand the tokens of t into out (cap bytes, at most NORM_MAX used): norm_run's second half. */
static int norm_view(const struct tview *t, const char *country, char *out, size_t cap, bool key,
                     bool abbrev, bool keep_dropped)
{
    if (cap > NORM_MAX)
        cap = NORM_MAX;
    const struct dict *d = abbrev ? atomic_load_explicit(&g_dict, memory_order_acquire) : NULL;
    struct langset ls = {0};
    if (d)
        langs_for(d, country, &ls);
    struct out o = {.p = out, .cap = cap, .key = key, .keep_dropped = keep_dropped};
    expand(d, &ls, t, &o);
    if (o.overflow)
        return GB_ETOOLONG;
    out[o.len] = 0;
    return (int)o.len;
}

static int norm_run(const char *in, size_t len, const char *country, char *out, size_t cap,
                    bool key, bool abbrev, bool keep_dropped)
{
    if (cap == 0)
        return GB_ETOOLONG;
    struct toks t;
    fold_text(&t, in, len);
    if (t.overflow)
        return GB_ETOOLONG;
    struct tview tv = toks_view(&t);
    return norm_view(&tv, country, out, cap, key, abbrev, keep_dropped);
}

int norm_name(const char *in, size_t len, const char *country, char *out, size_t cap)
{
    return norm_run(in, len, country, out, cap, false, true, false);
}

int norm_key(const char *in, size_t len, const char *country, char *out, size_t cap)
{
    return norm_run(in, len, country, out, cap, true, true, false);
}

int norm_key_all(const char *in, size_t len, const char *country, char *out, size_t cap)
{
    return norm_run(in, len, country, out, cap, true, true, true);
}

int norm_fold(const char *in, size_t len, char *out, size_t cap)
{
    return norm_run(in, len, NULL, out, cap, false, false, false);
}

/* ---- words folded once (norm_words) ---- */

void norm_words_reset(struct norm_words *w)
{
    w->nword = 0;
    w->ntok = 0;
    w->used = 0;
}

/* The start of the code point that ends the text [s, p) (p > s): at most 3 continuation bytes
 * back. */
static const char *cp_start(const char *s, const char *p)
{
    const char *b = p - 1;
    while (b > s && p - b < 4 && ((unsigned char)*b & 0xC0) == 0x80)
        b--;
    return b;
}

/* The code point of the bytes [b, p), or -1 when they are not one valid UTF-8 sequence. */
static int32_t cp_of(const char *b, const char *p)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)b, p - b, &c);
    return n == p - b ? c : -1;
}

/* Whether c is a letter that folds to a token still open and ending in no digit, so that a
 * digit after it starts a token (a Hangul filler, a letter, folds to nothing). */
static bool letter_cp(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t cat = utf8proc_category(c);
    if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_LO)
        return false;
    struct toks t = {.n = 0, .open = false, .overflow = false, .used = 0};
    fold_cp(&t, c);
    return t.open && !t.overflow && t.used > 0 && !ascii_digit(t.text[t.used - 1]);
}

#define GLUED_LETTERS 4 /* letters before a glued number ("Haus1" splits, "SW1A" does not) */

bool norm_word_glued(const char *s, const char *p)
{
    if (p <= s || p[0] < '0' || p[0] > '9')
        return false;
    if (p - s >= 2 && p[-1] == '.') /* a dotted abbreviation */
        return letter_cp(cp_of(cp_start(s, p - 1), p - 1));
    int letters = 0;
    for (; p > s && letters < GLUED_LETTERS; letters++) {
        const char *b = cp_start(s, p);
        if (!letter_cp(cp_of(b, p)))
            return false;
        p = b;
    }
    return letters == GLUED_LETTERS;
}

int norm_words_add(struct norm_words *w, const char *s, size_t len)
{
    if (w->nword >= NORM_WORDS_MAX)
        return GB_ETOOLONG;
    int k = w->nword++;
    w->word[k].s = s;
    w->word[k].len = len;
    w->word[k].tok = (uint16_t)w->ntok;
    w->word[k].ntok = 0;
    w->word[k].bytes = 0;
    w->word[k].ok = false;
    struct toks t;
    fold_text(&t, s, len);
    if (t.overflow || w->ntok + t.n > NORM_WORDS_TOKS || w->used + t.used > NORM_WORDS_TEXT)
        return k; /* its spans are normalised from their text */
    memcpy(w->text + w->used, t.text, t.used);
    for (int i = 0; i < t.n; i++) {
        w->tok[w->ntok + i] = t.v[i];
        w->tok[w->ntok + i].off = (uint16_t)(t.v[i].off + w->used);
        w->known[w->ntok + i] = 0;
    }
    w->ntok += t.n;
    w->used = (uint16_t)(w->used + t.used);
    w->word[k].ntok = (uint16_t)t.n;
    w->word[k].bytes = (uint16_t)t.used;
    w->word[k].ok = true;
    return k;
}

/* Whether fold_text() of the text of words [i, j) gives their tokens without overflowing (its
 * limits: NORM_MAX_TOKENS tokens, sizeof(toks.text) bytes appended); *n their count. */
static bool words_fit(const struct norm_words *w, int i, int j, int *n)
{
    size_t bytes = 0;
    *n = 0;
    for (int k = i; k < j; k++) {
        if (!w->word[k].ok)
            return false;
        *n += w->word[k].ntok;
        bytes += w->word[k].bytes;
    }
    return *n <= NORM_MAX_TOKENS && bytes <= sizeof(((struct toks *)0)->text);
}

/* The tokens of words [i, j) as fold_text() of their text would give them, when it fits. */
static bool words_view(struct norm_words *w, int i, int j, struct tview *tv)
{
    int n;
    if (!words_fit(w, i, j, &n))
        return false;
    *tv = (struct tview){
        .v = w->tok + w->word[i].tok, .n = n, .text = w->text, .memo = w, .base = w->word[i].tok};
    return true;
}

/* The text that words [i, j) span. */
static size_t words_text(const struct norm_words *w, int i, int j, const char **s)
{
    *s = w->word[i].s;
    return (size_t)(w->word[j - 1].s + w->word[j - 1].len - w->word[i].s);
}

int norm_words_key(struct norm_words *w, int i, int j, const char *country, char *out, size_t cap)
{
    struct tview tv;
    if (cap == 0 || !words_view(w, i, j, &tv)) {
        const char *s;
        size_t n = words_text(w, i, j, &s);
        return norm_key(s, n, country, out, cap);
    }
    return norm_view(&tv, country, out, cap, true, true, false);
}

int norm_words_fold_nospace(const struct norm_words *w, int i, int j, char *out, size_t cap)
{
    int n;
    if (cap == 0 || !words_fit(w, i, j, &n)) {
        const char *s;
        size_t len = words_text(w, i, j, &s);
        int k = norm_fold(s, len, out, cap);
        if (k < 0)
            return k;
        int m = 0;
        for (int x = 0; x < k; x++)
            if (out[x] != ' ')
                out[m++] = out[x];
        out[m] = 0;
        return m;
    }
    /* norm_fold() joins the tokens with spaces and, with no lists, writes each as folded (the
     * digraph rule changes nothing in a folded token and does not cross a space); it fails when
     * that text does not fit in cap, as here */
    const struct norm_tok *t = w->tok + (n ? w->word[i].tok : 0);
    size_t spaced = n ? (size_t)n - 1 : 0, len = 0;
    for (int x = 0; x < n; x++)
        spaced += t[x].len;
    if (spaced + 1 > (cap < NORM_MAX ? cap : NORM_MAX))
        return GB_ETOOLONG;
    for (int x = 0; x < n; x++) {
        memcpy(out + len, w->text + t[x].off, t[x].len);
        len += t[x].len;
    }
    out[len] = 0;
    return (int)len;
}

size_t norm_postcode(const char *s, size_t n, bool strict, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z')
            out[k++] = (char)(c - 32);
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            out[k++] = (char)c;
        else if (strict && c != ' ' && c != '-')
            return 0;
    }
    out[k] = '\0';
    return k;
}
