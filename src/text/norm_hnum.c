/*
 * norm_hnum.c - house numbers as people write them.
 *
 * A house-number field holds more than a number: a letter ("12a", "12 A"), a range or list
 * ("12-14", "12;14", "10a-d"), a Czech conscription/orientation pair ("1075/47"), an unknown
 * conscription number ("?/228"), and unit text that the geocoder must set aside ("110/Top 20",
 * "21, Whg. 7", "808/1, byt 3", "216 Ste 14", "77 #12", "Apt 3", Danish floors "12 st. th").
 * The input is split into number, word and punctuation tokens and read by a small grammar:
 *
 *   [prefix] NUMBER [suffix] [ ("/" | "-" | ";" | ",") NUMBER [suffix2] ] [unit...]
 *
 * A slash followed by a word starts unit text ("110/Top 20"), followed by a number it is a pair
 * ("1075/47", "12/3": which of the two numbers is the street's is the caller's choice by
 * country). A fraction after a number and a space, "226 1/2" or "226½", is its suffix "1/2". A word
 * after the number is a suffix only when it is attached and short ("12a", "12bis") or a single
 * letter ("12 A"); known unit words ("Ste", "Whg", "byt", "st") never are. Everything after the
 * numbers is unit text, folded like names ("top 20", "whg 7", "# 12").
 *
 * Pure function, no allocation; safe from any thread.
 */
#include "text/norm.h"

#include "base/err.h"

#include <ctype.h>
#include <string.h>

#define HNUM_MAX_IN   256 /* bytes of input read */
#define HNUM_MAX_TOKS 32
#define HNUM_MAX_DIG  9 /* digits of one number */

enum htype { HT_NUM, HT_WORD, HT_PUNCT };

struct htok {
    enum htype type;
    bool space;    /* whitespace before it */
    char punct;    /* HT_PUNCT */
    long num;      /* HT_NUM, -1 when too long */
    char word[24]; /* HT_WORD: folded ("whg", "tur"), "" when it folds to nothing */
};

/* Unit designators, folded, in strcmp order (in_list searches them by halves). */
static const char *const unit_words[] = {
    "apartment", "app",      "appt",  "apt",    "bld",  "bldg",   "blk",   "block", "boite",
    "bte",       "building", "bus",   "byt",    "dept", "depto",  "dg",    "door",  "dpto",
    "eg",        "esc",      "etage", "fl",     "flat", "floor",  "haus",  "hs",    "int",
    "interno",   "kl",       "level", "lgh",    "lot",  "lvl",    "mf",    "ofc",   "office",
    "og",        "piso",     "pta",   "puerta", "rm",   "room",   "sal",   "sc",    "scala",
    "space",     "spc",      "st",    "ste",    "stg",  "stiege", "stock", "suite", "th",
    "top",       "tr",       "trlr",  "tur",    "tv",   "ug",     "unit",  "whg",   "wohnung",
};

/* Words that only announce the number: "Nr. 12", "No 5", "č.p. 1075", "ev. 12"; in strcmp order. */
static const char *const prefix_words[] = {
    "c",   "cislo", "co", "cp", "ev",  "evc", "hausnummer",
    "hnr", "n",     "no", "nr", "nro", "num", "number",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w, list[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static bool is_unit_word(const char *w)
{
    return in_list(w, unit_words, sizeof(unit_words) / sizeof(unit_words[0]));
}

static bool is_prefix_word(const char *w)
{
    return in_list(w, prefix_words, sizeof(prefix_words) / sizeof(prefix_words[0]));
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Split in into tokens. Return the count. */
static int hnum_lex(const char *in, size_t len, struct htok *t)
{
    int n = 0;
    bool space = false;
    size_t i = 0;
    while (i < len && n < HNUM_MAX_TOKS) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            i++;
            continue;
        }
        struct htok *k = &t[n];
        memset(k, 0, sizeof(*k));
        k->space = space;
        space = false;
        if (c >= '0' && c <= '9') {
            long v = 0;
            int dig = 0;
            while (i < len && in[i] >= '0' && in[i] <= '9') {
                if (dig < HNUM_MAX_DIG + 1)
                    v = v * 10 + (in[i] - '0');
                dig++;
                i++;
            }
            k->type = HT_NUM;
            k->num = dig > HNUM_MAX_DIG ? -1 : v;
            n++;
            continue;
        }
        /* The vulgar fractions ¼ ½ ¾ (U+00BC..U+00BE) are the numbers and slash they stand
         * for, glued to the number before them or not: "226½", "226 ½" are "226 1/2". */
        if (c == 0xC2 && i + 1 < len && (unsigned char)in[i + 1] >= 0xBC &&
            (unsigned char)in[i + 1] <= 0xBE && n + 3 <= HNUM_MAX_TOKS) {
            unsigned char f = (unsigned char)in[i + 1];
            struct htok frac[3] = {{.type = HT_NUM, .space = true, .num = f == 0xBE ? 3 : 1},
                                   {.type = HT_PUNCT, .punct = '/'},
                                   {.type = HT_NUM, .num = f == 0xBD ? 2 : 4}};
            memcpy(k, frac, sizeof(frac));
            n += 3;
            i += 2;
            continue;
        }
        /* En and em dashes are dashes. */
        if (c == 0xE2 && i + 2 < len && (unsigned char)in[i + 1] == 0x80 &&
            ((unsigned char)in[i + 2] == 0x93 || (unsigned char)in[i + 2] == 0x94)) {
            k->type = HT_PUNCT;
            k->punct = '-';
            i += 3;
            n++;
            continue;
        }
        if (is_alpha(c)) {
            size_t s = i;
            while (
                i < len && is_alpha((unsigned char)in[i]) &&
                !((unsigned char)in[i] == 0xE2 && i + 1 < len && (unsigned char)in[i + 1] == 0x80))
                i++;
            if (i == s) { /* other U+20xx punctuation ("…", "‘"): skip it */
                i = i + 3 < len ? i + 3 : len;
                continue;
            }
            char buf[NORM_MAX];
            int fl = norm_fold(in + s, i - s, buf, sizeof(buf));
            k->type = HT_WORD;
            if (fl > 0 && (size_t)fl < sizeof(k->word))
                memcpy(k->word, buf, (size_t)fl + 1);
            else if (fl > 0)
                memcpy(k->word, buf, sizeof(k->word) - 1);
            if (strchr(k->word, ' ')) /* "Nº" folds to "n o"? keep it one word */
                *strchr(k->word, ' ') = 0;
            if (!k->word[0]) {
                k->type = HT_PUNCT;
                k->punct = '.';
            }
            n++;
            continue;
        }
        k->type = HT_PUNCT;
        k->punct = (char)c;
        i++;
        n++;
    }
    return n;
}

/* Append a piece of unit text with one space between pieces; stop quietly when full. */
static void unit_add(char *u, size_t cap, const char *s)
{
    size_t ul = strlen(u), sl = strlen(s);
    if (sl == 0)
        return;
    size_t need = sl + (ul > 0 ? 1 : 0);
    if (ul + need + 1 > cap)
        return;
    if (ul > 0)
        u[ul++] = ' ';
    memcpy(u + ul, s, sl + 1);
}

/* Collect tokens from i on as unit text. */
static void unit_collect(const struct htok *t, int n, int i, char *u, size_t cap)
{
    for (; i < n; i++) {
        if (t[i].type == HT_WORD) {
            unit_add(u, cap, t[i].word);
        } else if (t[i].type == HT_NUM) {
            char d[16];
            int dl = 0;
            long v = t[i].num < 0 ? 0 : t[i].num;
            char rev[16];
            do {
                rev[dl++] = (char)('0' + v % 10);
                v /= 10;
            } while (v > 0 && dl < 15);
            for (int j = 0; j < dl; j++)
                d[j] = rev[dl - 1 - j];
            d[dl] = 0;
            unit_add(u, cap, d);
        } else if (t[i].punct == '#') {
            unit_add(u, cap, "#");
        }
    }
}

/* An attached short word or a lone letter after a number: its suffix. Return tokens used. */
static int take_suffix(const struct htok *t, int n, int i, char *suf, size_t cap)
{
    if (i >= n || t[i].type != HT_WORD || is_unit_word(t[i].word))
        return 0;
    size_t wl = strlen(t[i].word);
    bool one_letter = wl == 1 || (wl == 2 && (unsigned char)t[i].word[0] >= 0x80);
    bool ok = (!t[i].space && wl <= 3) || one_letter || strcmp(t[i].word, "bis") == 0 ||
              strcmp(t[i].word, "ter") == 0;
    /* "12 st.th": a single letter followed by a dot and a word is Danish floor text. */
    if (ok && t[i].space && i + 2 < n && t[i + 1].type == HT_PUNCT && t[i + 1].punct == '.' &&
        t[i + 2].type == HT_WORD)
        ok = false;
    if (!ok || wl >= cap)
        return 0;
    memcpy(suf, t[i].word, wl + 1);
    return 1;
}

/* A fraction after a number and a space: "226 1/2", "12 3/4" (a US house behind or beside
 * another, written with the number it shares), 1/2, 1/4 or 3/4 with nothing glued after it: its
 * text into suf. Return tokens used. */
/* Whether a/b is a fraction a house number can end in: 1/2, 1/4, 3/4. */
static bool fraction_of(long a, long b)
{
    return (a == 1 && (b == 2 || b == 4)) || (a == 3 && b == 4);
}

bool norm_hnum_fraction(const char *s, size_t len)
{
    if (len == 3)
        return s[1] == '/' && s[0] >= '0' && s[0] <= '9' && s[2] >= '0' && s[2] <= '9' &&
               fraction_of(s[0] - '0', s[2] - '0');
    /* U+00BC..U+00BE: ¼ ½ ¾, as hnum_lex reads them */
    return len == 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] >= 0xBC &&
           (unsigned char)s[1] <= 0xBE;
}

static int take_fraction(const struct htok *t, int n, int i, char *suf, size_t cap)
{
    if (i + 2 >= n || t[i].type != HT_NUM || !t[i].space || t[i + 1].type != HT_PUNCT ||
        t[i + 1].punct != '/' || t[i + 1].space || t[i + 2].type != HT_NUM || t[i + 2].space)
        return 0;
    long a = t[i].num, b = t[i + 2].num;
    if (!fraction_of(a, b) || cap < 4)
        return 0;
    if (i + 3 < n && !t[i + 3].space && t[i + 3].type != HT_PUNCT)
        return 0; /* "12 1/2a" is no fraction */
    suf[0] = (char)('0' + a);
    suf[1] = '/';
    suf[2] = (char)('0' + b);
    suf[3] = '\0';
    return 3;
}

/* Does a list item "NUM [suffix]" at i end there (end, ',' or ';')? */
static bool list_item_ends(const struct htok *t, int n, int i)
{
    if (i >= n)
        return true;
    return t[i].type == HT_PUNCT && (t[i].punct == ',' || t[i].punct == ';');
}

int norm_hnum(const char *in, size_t len, struct hnum *out)
{
    if (!in)
        return GB_EPARAM;
    if (len > HNUM_MAX_IN)
        len = HNUM_MAX_IN;
    bool digit = false;
    for (size_t i = 0; i < len && !digit; i++)
        digit = in[i] >= '0' && in[i] <= '9';
    if (!digit)
        return GB_EPARAM;

    struct htok t[HNUM_MAX_TOKS];
    int n = hnum_lex(in, len, t);
    struct hnum h = {.number = -1, .number2 = -1};
    int i = 0;

    /* Stray punctuation first ("/Top 3"), then a leading unit: "Apt 3", "Top 3, 12". */
    while (i < n && t[i].type == HT_PUNCT && t[i].punct != '#' && t[i].punct != '?')
        i++;
    if (i < n && t[i].type == HT_WORD && is_unit_word(t[i].word) && i + 1 < n) {
        int j = i + 1;
        while (j < n && t[j].type == HT_PUNCT && t[j].punct == '.')
            j++;
        if (j < n && t[j].type != HT_PUNCT) {
            unit_collect(t, j + 1, i, h.unit, sizeof(h.unit));
            i = j + 1;
            while (i < n && t[i].type == HT_PUNCT)
                i++;
        }
    }
    /* Prefixes: "#3", "Nr. 12", "č.p. 1075", "č.o. 47", "ev.12". */
    bool after_prefix = false;
    while (i < n) {
        if (t[i].type == HT_PUNCT && (t[i].punct == '#' || t[i].punct == '.')) {
            i++;
        } else if (t[i].type == HT_WORD &&
                   (is_prefix_word(t[i].word) || (after_prefix && (strcmp(t[i].word, "p") == 0 ||
                                                                   strcmp(t[i].word, "o") == 0)))) {
            if (strcmp(t[i].word, "ev") == 0 || strcmp(t[i].word, "evc") == 0)
                h.is_evidence = true;
            after_prefix = true;
            i++;
        } else {
            break;
        }
    }

    if (i + 2 < n && t[i].type == HT_PUNCT && t[i].punct == '?' && t[i + 1].type == HT_PUNCT &&
        t[i + 1].punct == '/' && t[i + 2].type == HT_NUM) {
        /* "?/228": the conscription number is unknown. */
        if (t[i + 2].num < 0)
            return GB_EPARAM;
        h.number2 = t[i + 2].num;
        h.is_slash = true;
        i += 3;
        i += take_suffix(t, n, i, h.suffix2, sizeof(h.suffix2));
        unit_collect(t, n, i, h.unit, sizeof(h.unit));
        *out = h;
        return 0;
    }

    if (i >= n || t[i].type != HT_NUM) {
        if (h.unit[0] == 0)
            return GB_EPARAM;
        *out = h; /* only a unit: "Apt 3" */
        return 0;
    }
    if (t[i].num < 0)
        return GB_EPARAM;
    h.number = t[i].num;
    i++;
    int frac = take_fraction(t, n, i, h.suffix, sizeof(h.suffix));
    i += frac ? frac : take_suffix(t, n, i, h.suffix, sizeof(h.suffix));

    if (i + 1 < n && t[i].type == HT_PUNCT) {
        char p = t[i].punct;
        const struct htok *nx = &t[i + 1];
        if (p == '/' && nx->type == HT_NUM && nx->num >= 0) {
            h.number2 = nx->num;
            h.is_slash = true;
            i += 2;
            i += take_suffix(t, n, i, h.suffix2, sizeof(h.suffix2));
        } else if ((p == '-' || p == ';' || p == '&') && nx->type == HT_NUM && nx->num >= 0) {
            h.number2 = nx->num;
            h.is_range = true;
            i += 2;
            i += take_suffix(t, n, i, h.suffix2, sizeof(h.suffix2));
        } else if (p == '-' && h.suffix[0] && nx->type == HT_WORD && strlen(nx->word) <= 2 &&
                   !is_unit_word(nx->word) && list_item_ends(t, n, i + 2)) {
            /* "10a-d": letters a to d of number 10. */
            h.number2 = h.number;
            memcpy(h.suffix2, nx->word, strlen(nx->word) + 1);
            h.is_range = true;
            i += 2;
        } else if (p == ',' && nx->type == HT_NUM && nx->num >= 0) {
            /* "76, 76a": a list when the item ends there; else unit text ("12, 3. th"). */
            char s2[8] = "";
            int k = i + 2 + take_suffix(t, n, i + 2, s2, sizeof(s2));
            if (list_item_ends(t, n, k)) {
                h.number2 = nx->num;
                memcpy(h.suffix2, s2, sizeof(s2));
                h.is_range = true;
                i = k;
            }
        }
    }
    /* Further list items ("822/5;1773/26", "76, 76a, 76b") are not unit text: skip them. */
    if (h.number2 >= 0) {
        while (i + 1 < n && t[i].type == HT_PUNCT && (t[i].punct == ';' || t[i].punct == ',') &&
               t[i + 1].type == HT_NUM) {
            int k = i + 2;
            while (k < n && (t[k].type == HT_NUM ||
                             (t[k].type == HT_WORD && !t[k].space && !is_unit_word(t[k].word)) ||
                             (t[k].type == HT_PUNCT && (t[k].punct == '/' || t[k].punct == '-'))))
                k++;
            i = k;
        }
    }
    unit_collect(t, n, i, h.unit, sizeof(h.unit));
    *out = h;
    return 0;
}

bool norm_unit_word(const char *s, size_t len)
{
    char w[16];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof(w); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.')
            continue;
        if (c >= 0x80)
            return false;
        w[n++] = (char)tolower(c);
    }
    if (n == 0 || n + 1 >= sizeof(w))
        return false;
    w[n] = '\0';
    return is_unit_word(w);
}

/* The value of an English number word of one word (no hyphen): units and teens, or with tens
 * the tens; 0 when w (lower case, n bytes) is none. */
static int number_word_part(const char *w, size_t n, bool tens)
{
    static const struct {
        char w[10];
        uint8_t n, v;
    } words[] = {{"one", 3, 1},        {"two", 3, 2},       {"three", 5, 3},     {"four", 4, 4},
                 {"five", 4, 5},       {"six", 3, 6},       {"seven", 5, 7},     {"eight", 5, 8},
                 {"nine", 4, 9},       {"ten", 3, 10},      {"eleven", 6, 11},   {"twelve", 6, 12},
                 {"thirteen", 8, 13},  {"fourteen", 8, 14}, {"fifteen", 7, 15},  {"sixteen", 7, 16},
                 {"seventeen", 9, 17}, {"eighteen", 8, 18}, {"nineteen", 8, 19}, {"twenty", 6, 20},
                 {"thirty", 6, 30},    {"forty", 5, 40},    {"fifty", 5, 50},    {"sixty", 5, 60},
                 {"seventy", 7, 70},   {"eighty", 6, 80},   {"ninety", 6, 90}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (words[i].n == n && (words[i].v >= 20) == tens && memcmp(words[i].w, w, n) == 0)
            return words[i].v;
    return 0;
}

int norm_number_word(const char *s, size_t len)
{
    char w[16];
    if (len < 3 || len > 13) /* "one" to "seventy-seven" */
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalpha(c) && c != '-')
            return 0;
        w[i] = (char)tolower(c);
    }
    const char *dash = memchr(w, '-', len);
    if (!dash) {
        int v = number_word_part(w, len, false);
        return v ? v : number_word_part(w, len, true);
    }
    size_t t = (size_t)(dash - w);
    int tens = number_word_part(w, t, true);
    int one = number_word_part(dash + 1, len - t - 1, false);
    return tens && one && one < 10 ? tens + one : 0;
}

/* Whether f, k bytes of norm_fold() output, names a prefix word once its spaces are gone. */
static bool prefix_folded(const char *f, int k)
{
    char w[16];
    size_t n = 0;
    for (int i = 0; i < k && n + 1 < sizeof(w); i++)
        if (f[i] != ' ')
            w[n++] = f[i];
    w[n] = '\0';
    return n > 0 && n + 1 < sizeof(w) && is_prefix_word(w);
}

bool norm_hnum_prefix(const char *s, size_t len)
{
    char f[32];
    int k = len < sizeof(f) ? norm_fold(s, len, f, sizeof(f)) : -1;
    return k > 0 && prefix_folded(f, k);
}

bool norm_words_hnum_prefix(const struct norm_words *w, int i)
{
    char f[32];
    int k = w->word[i].len < sizeof(f) ? norm_words_fold_nospace(w, i, i + 1, f, sizeof(f)) : -1;
    return k > 0 && prefix_folded(f, k);
}
