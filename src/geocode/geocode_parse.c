/*
 * geocode_parse.c - read the query: structured fields as given; free-form text split into
 * tokens, of which some may be a house number, a postcode (known to the index) or the country,
 * and every span of up to MAX_SPAN tokens (a word first, numbers may follow) whose key names a
 * street (see geocode_int.h). Before that, the parts of an address block that are not the
 * address (recipient, company, department, unit text: data/dict/segment.txt) are set aside.
 */
#include "base/co.h"
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "text/norm.h"

#include <assert.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static size_t postcode_key(const char *s, size_t n, char *out, size_t cap)
{
    return norm_postcode(s, n, true, out, cap);
}

void gc_set_country(struct gctx *g, const char *country, char *out)
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

static uint32_t postcode_entry(const struct gctx *g, const char *key, size_t k, const char *cc,
                               uint32_t *run);
static size_t strip_prefix(const char *s, size_t n, char *key, size_t cap, const char **cc);

/* Whether postcode key (len bytes) is one of country cc in the index (postcode_entry), or in
 * another member of its index set (gc_query.set). */
static bool pc_key_in(const struct gctx *g, const char *key, size_t len, const char *cc)
{
    uint32_t run;
    if (postcode_entry(g, key, len, cc, &run) != IX_NONE)
        return true;
    const struct gc_set_lookup *set = g->q->set;
    char found_cc[3];
    return set && set->postcode_country(set->ctx, key, len, cc, found_cc);
}

/* A query that names no country is read in the languages of its postcode's country pc_cc (key:
 * the postcode's, len bytes); so is one read in the index's main country's (gctx.main_guess)
 * when the postcode is none of that country's ("98000" in an index of Czechia and Monaco). */
static void postcode_reading_of(struct gctx *g, const char *pc_cc, const char *key, size_t len)
{
    if (!pc_cc[0] || (g->cc_arg && !gc_main_guessed(g)))
        return; /* no country, or the query names one, or an earlier postcode did */
    if (g->cc_arg && pc_key_in(g, key, len, g->cc_arg))
        return; /* a postcode of the main country too: its reading stands */
    memcpy(g->guess_cc, pc_cc, 2);
    g->guess_cc[2] = '\0';
    g->cc_arg = g->guess_cc;
    g->main_guess = false;
    g->memo_cc = NULL; /* the same buffer, another country: the span memo is forgotten */
}

/* postcode_reading_of the query's postcode, found in this index (gctx.pc_entry). */
static void postcode_reading(struct gctx *g)
{
    if (g->pc_entry != IX_NONE)
        postcode_reading_of(g, g->v->postcodes[g->pc_entry].country, g->pc_key, strlen(g->pc_key));
}

/* Whether country (ISO2) is the filter's, or a territory of it (regions.txt "territory":
 * Puerto Rico of the US), which a query of the filter's country may name. */
static bool country_or_territory(const struct gctx *g, const char have[2])
{
    return country_ok(g->cc, have) || norm_territory(g->cc, have);
}

/* The filter becomes iso2 when that is a territory of its country ("San Juan, PR 00901" with
 * the country USA: GeoNames, OpenStreetMap and the importers file Puerto Rico under PR).
 * Return whether it did. */
static bool to_territory(struct gctx *g, const char *iso2)
{
    char cc[3] = {iso2[0], iso2[1], '\0'};
    if (!g->cc[0] || country_ok(g->cc, cc) || !norm_territory(g->cc, cc))
        return false;
    memcpy(g->cc, cc, 3);
    g->cc_arg = g->cc;
    g->memo_cc = NULL; /* the same buffer, another country: the span memo is forgotten */
    return true;
}

/* One form a postcode is looked up in: its key (len k, NUL-terminated) in country cc (NULL:
 * any). */
struct pc_form {
    char key[32];
    size_t k;
    const char *cc;
};

/*
 * The forms of postcode s (n bytes) into f, in the order they are looked up: its key (any
 * country; a caller that reads a national form sets f[0].cc), a ZIP+4's first five digits
 * ("94102-1234"), the rest after a country prefix ("D-91207", in the prefix's country). Return
 * their count, 0 when s has no key; *prefix_cc: the prefix's country as strip_prefix read it,
 * or NULL.
 */
static int postcode_forms(const char *s, size_t n, struct pc_form f[3], const char **prefix_cc)
{
    *prefix_cc = NULL;
    f[0].k = postcode_key(s, n, f[0].key, sizeof(f[0].key));
    f[0].cc = NULL;
    if (f[0].k == 0)
        return 0;
    int nf = 1;
    if (f[0].k == 9 && n == 10 && s[5] == '-') {
        memcpy(f[nf].key, f[0].key, 5);
        f[nf].key[5] = '\0';
        f[nf].k = 5;
        f[nf++].cc = NULL;
    }
    if ((f[nf].k = strip_prefix(s, n, f[nf].key, sizeof(f[nf].key), prefix_cc)) > 0)
        f[nf++].cc = *prefix_cc;
    return nf;
}

/*
 * Whether another member of the index set (gc_query.set) has one of postcode forms f[0..nf)
 * (postcode_forms; of three bytes at least). One index over the set reads it as the query's
 * postcode, and a query that names no country in that postcode country's languages
 * (postcode_reading): so does this member, which knows no such postcode.
 */
static bool postcode_elsewhere(struct gctx *g, const struct pc_form *f, int nf)
{
    const struct gc_set_lookup *set = g->q->set;
    if (!set)
        return false;
    char pc_cc[3];
    bool found = false;
    int x;
    for (x = 0; x < nf && !found; x++)
        found = f[x].k >= 3 && set->postcode_country(set->ctx, f[x].key, f[x].k,
                                                     f[x].cc    ? f[x].cc
                                                     : g->cc[0] ? g->cc
                                                                : NULL,
                                                     pc_cc);
    g->pc_elsewhere |= found;
    if (found)
        postcode_reading_of(g, pc_cc, f[x - 1].key, f[x - 1].k);
    return found;
}

/* The first of forms f[0..nf) that is a postcode of the index (postcode_entry): its entry, or
 * IX_NONE; *x: its form, *run: its key's first entry (both the first form's when none is). */
static uint32_t postcode_forms_entry(const struct gctx *g, const struct pc_form *f, int nf, int *x,
                                     uint32_t *run)
{
    uint32_t first_run = IX_NONE;
    for (*x = 0; *x < nf; ++*x) {
        uint32_t e = postcode_entry(g, f[*x].key, f[*x].k, f[*x].cc, run);
        if (*x == 0)
            first_run = *run;
        if (e != IX_NONE)
            return e;
    }
    *x = 0;
    *run = first_run;
    return IX_NONE;
}

void gc_set_postcode(struct gctx *g, const char *s, size_t n)
{
    struct pc_form f[3]; /* "94102", and the national forms of free text: "94102-1234", "D-91207" */
    const char *prefix_cc;
    int nf = postcode_forms(s, n, f, &prefix_cc), x;
    if (nf == 0)
        return;
    g->has_pc = true;
    g->pc_entry = postcode_forms_entry(g, f, nf, &x, &g->pc_run);
    memcpy(g->pc_key, f[x].key, f[x].k + 1);
    if (g->pc_entry != IX_NONE) {
        to_territory(g, g->v->postcodes[g->pc_entry].country);
        index_postcode_streets_prefetch(g->ix, g->pc_run);
        postcode_reading(g);
    } else {
        postcode_elsewhere(g, f, nf);
    }
}

void gc_postcode_keys(const char *s, size_t n, void (*fn)(const char *key, size_t len, void *arg),
                      void *arg)
{
    char key[32];
    const char *cc;
    size_t k = postcode_key(s, n, key, sizeof(key));
    if (k > 0)
        fn(key, k, arg);
    if (k == 9) /* a ZIP+4 */
        fn(key, 5, arg);
    if ((k = strip_prefix(s, n, key, sizeof(key), &cc)) > 0)
        fn(key, k, arg);
}

/* Whether the n bytes at s are a house number's Latin suffix: "bis", "ter", "quater" (French,
 * Italian, Spanish, Portuguese: "15bis", "15 bis"), any case. */
static bool latin_suffix(const char *s, size_t n)
{
    static const char *const words[] = {"bis", "ter", "quater"};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k]) == n && strncasecmp(s, words[k], n) == 0)
            return true;
    return false;
}

static bool numlike(const char *s, size_t n)
{
    if (n == 0 || !isdigit((unsigned char)s[0]))
        return false;
    size_t digits = 0;
    while (digits < n && isdigit((unsigned char)s[digits]))
        digits++;
    if (digits < n && latin_suffix(s + digits, n - digits))
        return true;    /* "15bis" */
    size_t letters = 0; /* in one part between dashes: "8a-c" is a range of letters */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' && i + 1 < n && isalpha((unsigned char)s[i + 1]))
            break;                                  /* "13/Top": unit text after the slash */
        if (isalpha(c) || (c >= 0xC0 && i + 1 < n)) /* a UTF-8 letter ("12а", "9/9б") is one */
            letters++;
        else if (c >= 0x80)
            continue; /* its continuation bytes */
        else if (c == '-')
            letters = 0;
        else if (!isdigit(c) && c != '/')
            return false;
        /* "12a" is a number with a letter; "10th" (an ordinal) belongs to a street name */
        if (letters > 1)
            return false;
    }
    return true;
}

/* Whether token k is a Latin suffix of the number before it ("15 bis"): not when a number
 * follows, where German "bis" makes a range ("5 bis 7"). */
static bool number_suffix(const struct gctx *g, int k)
{
    return latin_suffix(g->tok[k].s, g->tok[k].len) &&
           !(k + 1 < g->ntok && !g->tok[k].comma_after && g->tok[k + 1].numlike);
}

/* Whether token t is a fraction that a US house number can end in (norm_hnum_fraction). */
static bool is_fraction(const struct token *t)
{
    return norm_hnum_fraction(t->s, t->len);
}

/* Parts of an address block are separated by commas, semicolons or line ends. */
static bool part_sep(char c)
{
    return c == ',' || c == ';' || c == '\n' || c == '\r';
}

/* The length of a character at p that copying from documents and spreadsheets puts in text
 * (gc_plain_text), 0 when none; its plain form into *plain ('\\0': none). */
static size_t unplain(const unsigned char *p, char *plain)
{
    *plain = ' ';
    switch (p[0]) {
    case 0xc2: /* U+00A0 no-break space; U+00AD soft hyphen */
        *plain = p[1] == 0xa0 ? ' ' : '\0';
        return p[1] == 0xa0 || p[1] == 0xad ? 2 : 0;
    case 0xe2:
        if (p[1] == 0x80 && p[2] >= 0x80 && p[2] <= 0x8d) { /* U+2000..U+200A spaces, ... */
            *plain = p[2] <= 0x8a ? ' ' : '\0';             /* ... U+200B..U+200D zero-width */
            return 3;
        }
        if ((p[1] == 0x80 && p[2] == 0xaf) || (p[1] == 0x81 && p[2] == 0x9f))
            return 3; /* U+202F narrow no-break space, U+205F medium mathematical space */
        *plain = '\0';
        return p[1] == 0x81 && p[2] == 0xa0 ? 3 : 0; /* U+2060 word joiner */
    case 0xe3:
        return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0; /* U+3000 ideographic space */
    case 0xef:
        if (p[1] == 0xbb && p[2] == 0xbf) { /* U+FEFF zero-width no-break space */
            *plain = '\0';
            return 3;
        }
        if ((p[1] == 0xbc && p[2] >= 0x81 && p[2] <= 0xbf) ||
            (p[1] == 0xbd && p[2] >= 0x80 && p[2] <= 0x9e)) { /* U+FF01..U+FF5E full width */
            *plain = (char)((p[1] == 0xbc ? 0x20 : 0x60) + (p[2] & 0x3f));
            return 3;
        }
        return 0;
    default:
        return 0;
    }
}

bool gc_plain_text(const char *text, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)text;
    char plain;
    while (*p && (*p < 0xc2 || !unplain(p, &plain)))
        p++;
    if (!*p)
        return false; /* the usual case: nothing to change */
    size_t n = (size_t)(p - (const unsigned char *)text);
    if (n >= cap)
        return false;
    memcpy(out, text, n);
    while (*p) {
        size_t l = *p >= 0xc2 ? unplain(p, &plain) : 0;
        if (l == 0) {
            plain = (char)*p;
            l = 1;
        }
        if (plain) {
            if (n + 1 >= cap)
                return false;
            out[n++] = plain;
        }
        p += l;
    }
    out[n] = '\0';
    return true;
}

/* Whether the n bytes at s are shaped like a postcode written in a city field: digits with
 * dashes ("9490", "4000-432"), or a country prefix, a dash and digits ("FL-9490", "D-91207"). */
static bool city_pc_shaped(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 3 && isalpha((unsigned char)s[i]))
        i++;
    if (i > 0 && (i == n || s[i] != '-'))
        return false; /* letters: only a country prefix and a dash */
    i += i > 0;
    size_t digits = 0;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (s[i] != '-')
            return false;
    }
    return digits >= 3;
}

/*
 * A city field that holds the postcode too, as spreadsheets often have it: a leading postcode
 * ("9490 Vaduz", "FL-9490 Vaduz", "182 00 Praha 9": one or two tokens) or a trailing one of four
 * digits or more ("Vaduz 9490", "9490"; "Praha 9" is a town's name). The city without it into
 * *city and the postcode into *pc (each n bytes at s, both set), true; false when the field has
 * none.
 */
static bool city_postcode(const char *s, const char **city, size_t *ncity, const char **pc,
                          size_t *npc)
{
    const char *t[4];
    size_t tl[4];
    int n = 0;
    for (const char *p = s; *p;) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        if (n == 4)
            return false; /* a city of more words is read as it is */
        t[n] = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        tl[n] = (size_t)(p - t[n]);
        n++;
    }
    int lead = n > 1 && city_pc_shaped(t[0], tl[0]);
    if (lead && n > 2 && tl[0] == 3 && tl[1] >= 2 && tl[1] <= 3 &&
        strspn(t[0], "0123456789") == 3 && strspn(t[1], "0123456789") == tl[1])
        lead = 2; /* "182 00" */
    if (lead > 0) {
        *pc = t[0];
        *npc = (size_t)(t[lead - 1] + tl[lead - 1] - t[0]);
        *city = t[lead];
        *ncity = (size_t)(t[n - 1] + tl[n - 1] - t[lead]);
        return true;
    }
    if (n >= 1 && tl[n - 1] >= 4 && isdigit((unsigned char)t[n - 1][0]) &&
        city_pc_shaped(t[n - 1], tl[n - 1])) {
        *pc = t[n - 1];
        *npc = tl[n - 1];
        *city = t[0];
        *ncity = n > 1 ? (size_t)(t[n - 2] + tl[n - 2] - t[0]) : 0; /* "9490": no city */
        return true;
    }
    return false;
}

const struct gc_query *gc_plain_query(const struct gc_query *q, struct gc_query *plain, char *buf,
                                      size_t cap)
{
    *plain = *q;
    const char **fields[] = {&plain->search_text, &plain->street, &plain->house_number,
                             &plain->postcode,    &plain->city,   &plain->district,
                             &plain->county,      &plain->state,  &plain->country};
    size_t used = 0;
    bool any = false;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
        if (*fields[f] && gc_plain_text(*fields[f], buf + used, cap - used)) {
            *fields[f] = buf + used;
            used += strlen(buf + used) + 1;
            any = true;
        }
    const char *city, *pc;
    size_t ncity, npc;
    if (is_blank(plain->search_text) && !is_blank(plain->city) &&
        city_postcode(plain->city, &city, &ncity, &pc, &npc) && used + ncity + npc + 2 <= cap) {
        memcpy(buf + used, city, ncity);
        buf[used + ncity] = '\0';
        plain->city = buf + used;
        used += ncity + 1;
        if (is_blank(plain->postcode)) { /* else the field's postcode stands */
            memcpy(buf + used, pc, npc);
            buf[used + npc] = '\0';
            plain->postcode = buf + used;
        }
        any = true;
    }
    return any ? plain : q;
}

/* The quotation marks and brackets that open (open: true) or close a word, in UTF-8: their
 * byte length at s (n bytes) or, when !open, at its end; 0 when none. */
static size_t word_mark(const char *s, size_t n, bool open)
{
    static const char *const opening[] = {
        "(", "[", "\"", "\xc2\xab", "\xe2\x80\x9c", "\xe2\x80\x9e", "\xe2\x80\xb9"}; /* « “ „ ‹ */
    static const char *const closing[] = {")",           "]", "\"", "\xc2\xbb", "\xe2\x80\x9d",
                                          "\xe2\x80\xba"}; /* » ” › */
    const char *const *m = open ? opening : closing;
    size_t nm = open ? sizeof(opening) / sizeof(opening[0]) : sizeof(closing) / sizeof(closing[0]);
    for (size_t k = 0; k < nm; k++) {
        size_t l = strlen(m[k]);
        if (l <= n && memcmp(open ? s : s + n - l, m[k], l) == 0)
            return l;
    }
    return 0;
}

/* Whether the n bytes at s are a dash that stands between words: en or em dash, or a hyphen
 * alone ("Praha 8 - Kobylisy"). */
static bool word_dash(const char *s, size_t n)
{
    return (n == 1 && s[0] == '-') ||
           (n == 3 && (memcmp(s, "\xe2\x80\x93", 3) == 0 || memcmp(s, "\xe2\x80\x94", 3) == 0));
}

/* Whether the bytes [s, p), before a digit at p, are a word that only announces the house
 * number, of two bytes or more: "n°27", "nº11", "n.º11", "Nr5" are the word and the number
 * ("N1" stays a name). */
static bool prefix_glued(const char *s, const char *p)
{
    return p - s >= 2 && norm_hnum_prefix(s, (size_t)(p - s));
}

/* Whether the n bytes at s are an ordinal's ending of three letters or more ("1ère", "2ème",
 * "3ième", "1ste", "2nde", "1era"), any case. */
static bool ordinal_ending(const char *s, size_t n)
{
    static const char *const ends[] = {"eme",         "\xc3\xa8me", "\xc3\x88ME", "ieme",
                                       "i\xc3\xa8me", "ere",        "\xc3\xa8re", "\xc3\x88RE",
                                       "ste",         "nde",        "era",        "ero"};
    for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++)
        if (strlen(ends[k]) == n && strncasecmp(s, ends[k], n) == 0)
            return true;
    return false;
}

/* Whether the bytes [s, p), before a letter at p, are a house number glued to the word that
 * follows, of three letters or more: "327Fulton" is 327 and Fulton; "12a", "10th", "3OG",
 * "15bis" and "1ère" stay one token. */
static bool number_glued(const char *s, const char *p)
{
    for (const char *d = s; d < p; d++)
        if (!isdigit((unsigned char)*d))
            return false;
    size_t n = 0, letters = 0; /* a letter of two or three bytes is one ("1ère") */
    for (;;) {
        unsigned char c = (unsigned char)p[n];
        size_t l = isalpha(c) ? 1 : (c >= 0xC3 && c <= 0xDF) ? 2 : (c >= 0xE3 && c <= 0xEF) ? 3 : 0;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)p[n + k] & 0xC0) != 0x80)
                l = 0; /* a broken sequence: no letter */
        if (l == 0)
            break; /* not a letter: U+2013 '–' (0xE2) is punctuation ("418–420") */
        n += l;
        letters++;
    }
    return p > s && letters >= 3 && !latin_suffix(p, n) && !ordinal_ending(p, n);
}

/* Whether the n bytes at s hold a digit. */
static bool memchr_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)s[i]))
            return true;
    return false;
}

/*
 * The query's tokens: split at white space and part separators (and before a glued number, or
 * after a word that announces one, prefix_glued, or after a number glued to a word,
 * number_glued), each without the quotation marks and
 * brackets around it ("(6ème", "«Le", "Forum»"); a token of those alone is none, and a dash
 * between words ends a part as a comma does ("28 Boulevard Princesse Charlotte – Immeuble « Le
 * Forum »").
 */
static void tokenize(struct gctx *g, const char *text)
{
    const char *p = text;
    g->ntok = 0;
    while (*p && g->ntok < MAX_TOKENS) {
        while (*p && (isspace((unsigned char)*p) || part_sep(*p)))
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p) && !part_sep(*p) &&
               !(isdigit((unsigned char)*p) && p > s && !isdigit((unsigned char)p[-1]) &&
                 (norm_word_glued(s, p) || prefix_glued(s, p))) &&
               !(p > s && isdigit((unsigned char)p[-1]) && !isdigit((unsigned char)*p) &&
                 number_glued(s, p)))
            p++;
        size_t n = (size_t)(p - s), l;
        bool paren_open = false, paren_close = false;
        while ((l = word_mark(s, n, true)) > 0) {
            paren_open |= *s == '(';
            s += l, n -= l;
        }
        while ((l = word_mark(s, n, false)) > 0) {
            paren_close |= s[n - 1] == ')';
            n -= l;
        }
        const char *q = p;
        while (*q && (*q == ' ' || *q == '\t'))
            q++;
        if (!*q && n > 0 && s[n - 1] == '.' && (n == 1 || memchr_digit(s, n - 1)))
            n--; /* a full stop that ends the text: "..., AL 36067.", "London WC1X 8PN." */
        if (n == 0 || word_dash(s, n)) {
            if (g->ntok > 0)
                g->tok[g->ntok - 1].comma_after |= n > 0 || part_sep(*q);
            continue;
        }
        struct token *t = &g->tok[g->ntok++];
        t->s = s;
        t->len = n;
        t->numlike = numlike(s, t->len);
        t->used = false;
        t->comma_after = part_sep(*q);
        t->paren_open = paren_open;
        t->paren_close = paren_close;
    }
    /* what separates two tokens is white space, a part separator, or nothing before a glued
     * number (norm_word_glued): norm_words' condition */
    static_assert(MAX_TOKENS <= NORM_WORDS_MAX, "a word for every token");
    norm_words_reset(&g->words);
    for (int i = 0; i < g->ntok; i++)
        norm_words_add(&g->words, g->tok[i].s, g->tok[i].len);
}

bool gc_route_keys(struct gctx *g, const struct gc_query *q, const char *const *ccs, size_t ncc,
                   const struct gc_route_fns *fns, void *arg)
{
    char key[KEY_MAX];
    bool all = fns->locality != NULL;
    if (fns->postcode && !is_blank(q->postcode))
        gc_postcode_keys(q->postcode, strlen(q->postcode), fns->postcode, arg);
    const char *fields[3] = {q->city, q->district, q->county};
    for (int f = 0; fns->locality && f < 3; f++)
        for (size_t c = 0; !is_blank(fields[f]) && c < ncc; c++) {
            int k = norm_key(fields[f], strlen(fields[f]), ccs[c], key, sizeof(key));
            if (k > 0)
                fns->locality(key, (size_t)k, arg);
        }
    if (is_blank(q->search_text))
        return true;
    tokenize(g, q->search_text);
    for (int i = 0; fns->postcode && i < g->ntok; i++) /* a postcode is one to three tokens */
        for (int j = i; j < g->ntok && j < i + 3; j++)
            gc_postcode_keys(g->tok[i].s, (size_t)(g->tok[j].s + g->tok[j].len - g->tok[i].s),
                             fns->postcode, arg);
    for (int a = 0; fns->locality && a < g->ntok;) { /* each part: the spans of its tokens */
        int b = a + 1;
        while (b < g->ntok && !g->tok[b - 1].comma_after)
            b++;
        if (b - a > GC_ROUTE_PART) {
            all = false;
            a = b;
            continue;
        }
        for (int i = a; i < b; i++)
            for (int j = i + 1; j <= b; j++)
                for (size_t c = 0; c < ncc; c++) {
                    int k = norm_words_key(&g->words, i, j, ccs[c], key, sizeof(key));
                    if (k > 0)
                        fns->locality(key, (size_t)k, arg);
                }
        a = b;
    }
    return all;
}

/* ---- parts of an address block that are not the address ---- */

static unsigned seg_kinds(const struct token *t)
{
    if (t->s[0] == '#')
        return NORM_SEG_UNIT;
    if (isdigit((unsigned char)t->s[0]))
        return 0; /* no marker word starts with a digit */
    return norm_segment_word(t->s, t->len);
}

/* A token of unit text: a unit word, a short number or ordinal ("2.", "3º", "5e", "14B"), one
 * letter ("bloc A"). kinds: its seg_kinds. */
static bool unit_token(const struct token *t, unsigned kinds)
{
    if (kinds & NORM_SEG_UNIT)
        return true;
    if (isdigit((unsigned char)t->s[0]))
        return t->len <= 5;
    return t->len == 1 || (t->len == 2 && t->s[1] == '.');
}

static bool ordinal_token(const struct token *t)
{
    return isdigit((unsigned char)t->s[0]) && t->len >= 2 && t->len <= 4 &&
           !isdigit((unsigned char)t->s[t->len - 1]);
}

/* A designator of unit text: one letter ("bloc A", "Bât. C"), a short number or ordinal
 * ("4B", "12", "210", "3r", "5e", "2.", "3º", "2/Top"). Not a postcode: a plain number has
 * at most three digits. */
static bool unit_designator(const struct token *t)
{
    if (!isdigit((unsigned char)t->s[0]))
        return t->len == 1 || (t->len == 2 && t->s[1] == '.');
    size_t digits = 0;
    while (digits < t->len && isdigit((unsigned char)t->s[digits]))
        digits++;
    if (digits == t->len)
        return digits <= 3;
    if (t->s[digits] == '/')
        return digits <= 3; /* "2/Top" */
    return digits <= 3 && t->len <= 4;
}

/* Whether the tokens [a, b) of one part are unit text: "2. OG", "Stiege 2/Top 5", "3º Esq.",
 * "bloc A", "Flat 2"; or only ordinals, none a plain number ("2n 4a"). */
static bool unit_part(const struct gctx *g, const unsigned *kinds, int a, int b)
{
    bool word = false, all_ordinal = b - a >= 2;
    for (int k = a; k < b; k++) {
        const struct token *t = &g->tok[k];
        if (!unit_token(t, kinds[k]))
            return false;
        word |= (kinds[k] & NORM_SEG_UNIT) != 0;
        bool ordinal = isdigit((unsigned char)t->s[0]) && t->len >= 2 &&
                       !isdigit((unsigned char)t->s[t->len - 1]);
        all_ordinal &= ordinal;
    }
    return word || all_ordinal;
}

/* Whether the part at a opens with a recipient marker of one to three words ("Attn", "z. Hd.",
 * "à l'attention"). */
static bool recipient_part(const struct gctx *g, const unsigned *kinds, int a, int b)
{
    if (kinds[a] & NORM_SEG_RECIPIENT)
        return true;
    if (g->tok[a].len > 3)
        return false; /* the first word of a marker of several is short: "z.", "à", "k" */
    for (int n = 2; n <= 3 && a + n <= b; n++) {
        const struct token *l = &g->tok[a + n - 1];
        if (norm_segment_word(g->tok[a].s, (size_t)(l->s + l->len - g->tok[a].s)) &
            NORM_SEG_RECIPIENT)
            return true;
    }
    return false;
}

/* Whether key (kl bytes) is a street of the index or (a set's member) of the set. */
static bool key_names_street(struct gctx *g, const char *key, size_t kl)
{
    const struct gc_set_lookup *set = g->q->set;
    return kl > 0 && (index_street_first(g->ix, key, kl) != IX_NONE ||
                      (set && set->count(set->ctx, key, kl, NULL, 1) > 0));
}

/* Whether tokens [i, j) name a street of the index or (a set's member) of the set. */
static bool span_names_street(struct gctx *g, int i, int j)
{
    char key[KEY_MAX];
    return key_names_street(g, key, gc_span_key(g, i, j, key, sizeof(key)));
}

/* span_names_street with tokens [i, j) read in every language list at once (norm.h). */
static bool names_street_any_reading(struct gctx *g, int i, int j)
{
    char key[KEY_MAX];
    int kl = norm_words_key(&g->words, i, j, NULL, key, sizeof(key));
    return kl > 0 && key_names_street(g, key, (size_t)kl);
}

/* Whether the tokens from a to end or further, up to a number or the part's end b, name a
 * street: a "legal form" is a word of a street's name ("Rua Sá da Bandeira": "Sá" is no S.A.),
 * and so may a building word be ("Residence Road"). */
static bool words_name_street(struct gctx *g, int a, int end, int b)
{
    for (int j = end; j <= b && j - a <= MAX_SPAN; j++) {
        if (span_names_street(g, a, j))
            return true;
        if (j < b && g->tok[j].numlike)
            break;
    }
    return false;
}

/* Whether the part [a, b) is a telephone number or a mail or web address: it opens with a
 * contact word ("Tel.", "Fax", "E-Mail") and holds a digit or an '@', or opens with '+' and a
 * digit ("+423 ..."), or holds an e-mail or web address. */
static bool contact_part(const struct gctx *g, const unsigned *kinds, int a, int b)
{
    bool digit = false, address = false;
    for (int k = a; k < b; k++) {
        const struct token *t = &g->tok[k];
        for (size_t i = 0; i < t->len && !digit; i++)
            digit = isdigit((unsigned char)t->s[i]);
        address |= memchr(t->s, '@', t->len) != NULL ||
                   (t->len > 4 && strncasecmp(t->s, "www.", 4) == 0) ||
                   (t->len > 7 && strncasecmp(t->s, "http", 4) == 0 && memchr(t->s, ':', t->len));
    }
    const char *s = g->tok[a].s;
    return address || ((kinds[a] & NORM_SEG_CONTACT) && digit) ||
           (s[0] == '+' && g->tok[a].len > 1 && isdigit((unsigned char)s[1]));
}

/* Whether token i is a postcode of country cc in the index, in any of its forms. */
static bool postcode_of(const struct gctx *g, int i, const char *cc)
{
    const char *prefix_cc;
    struct pc_form f[3];
    int nf = postcode_forms(g->tok[i].s, g->tok[i].len, f, &prefix_cc);
    uint32_t run;
    for (int x = 0; x < nf; x++)
        if (f[x].k >= 3 && postcode_entry(g, f[x].key, f[x].k, cc, &run) != IX_NONE)
            return true;
    return false;
}

/* How many of the part's tokens [a, b) to set aside: all of a recipient, department, unit or
 * contact part; a company name up to and with its legal form ("Huber AG", "Silva & Filhos
 * Lda"). */
static int aside_count(struct gctx *g, const unsigned *kinds, int a, int b, bool first_part)
{
    if (contact_part(g, kinds, a, b))
        return b - a;
    bool numbers = false;
    for (int k = a; k < b; k++)
        numbers |= g->tok[k].numlike;
    /* a word that names a region, alone or before a postcode of its country, after the first
     * part is the region, whatever else it may be: no floor ("Melbourne, FL"; "Fl 3" is one),
     * no "Ms" ("Jackson, MS") and no "Co." ("Denver, CO 80202") */
    struct norm_region r[MAX_REGIONS];
    int nr = !first_part && b - a <= 2 && kinds[a] /* a word the rules below would set aside */
                 ? norm_region(g->tok[a].s, g->tok[a].len, NULL, r, MAX_REGIONS)
                 : 0;
    bool region = nr > 0 && b - a == 1;
    for (int k = 0; k < nr && !region; k++)
        region = g->tok[a + 1].numlike && postcode_of(g, a + 1, r[k].country);
    if (region)
        return 0;
    if (!numbers && recipient_part(g, kinds, a, b))
        return b - a;
    /* a first part without a number may be a place ("Mitte"); a unit word with a letter after
     * it ("Bât. C", "Bloc A"), or an ordinal ("2nd Floor"), is unit text there too */
    bool lettered = false;
    for (int k = a; k < b; k++)
        lettered |= (k > a && (kinds[k - 1] & NORM_SEG_UNIT) &&
                     isalpha((unsigned char)g->tok[k].s[0]) && unit_designator(&g->tok[k])) ||
                    ordinal_token(&g->tok[k]);
    if (unit_part(g, kinds, a, b) && (!first_part || numbers || lettered))
        return b - a;
    /* a building's name and what follows it in its part ("Immeuble Le Forum, 6ème Etage") */
    if ((kinds[a] & NORM_SEG_BUILDING) && b - a > 1 && !words_name_street(g, a, a + 1, b))
        return b - a;
    int legal_end = -1;
    bool department = false;
    for (int k = a; k < b; k++) {
        department |= (kinds[k] & NORM_SEG_DEPARTMENT) != 0;
        if (g->tok[k].numlike)
            break;
        if ((kinds[k] & NORM_SEG_LEGAL) && (k > a || legal_end >= 0))
            legal_end = k + 1;
    }
    if (department && !numbers)
        return b - a;
    if (legal_end <= a)
        return 0;
    /* A place before a "legal form" that is a region's code is a place and its region
     * ("Aarau AG", "Sion VS"), not a company: the words before the first legal word are no
     * place of the index. A form that names no region ("LLC", "&") is one whatever the name
     * ("Jones LLC", "Smith & Jones": Jones, Oklahoma and Smith, Nevada are places too). */
    int first_legal = a + 1;
    while (first_legal < legal_end && !(kinds[first_legal] & NORM_SEG_LEGAL))
        first_legal++;
    char key[KEY_MAX];
    size_t kl = gc_span_key(g, a, first_legal, key, sizeof(key));
    if (kl > 0 &&
        norm_region(g->tok[first_legal].s, g->tok[first_legal].len, NULL, r, MAX_REGIONS) > 0 &&
        index_place_first(g->ix, key, kl) != IX_NONE)
        return 0;
    if (words_name_street(g, a, legal_end, b))
        return 0;
    return legal_end - a;
}

/* ---- unit text inside a part, without commas: "Hauptstrasse 5 Apt 4B Vaduz" ---- */

/* The end of unit text that starts at token u of the part that ends at b (u itself when none
 * does): a unit word ("Apt", "OG", "étage", "#"); or, right after the house number, a floor
 * before its word ("2. OG", "5e étage", "2º Dto"; not "Antoine 1er Apt 12": a name's ordinal
 * before a unit word and its number) or two ordinals ("3r 2a"); after the street's name, an
 * ordinal floor before its word ("455 Franklin St 2nd Floor San Francisco"); then more unit
 * words and designators. *bare: the unit text is unit words alone ("baixos", "EG links"). */
static int unit_run_end(const struct gctx *g, const unsigned *kinds, int u, int b, bool *bare)
{
    const struct token *t = g->tok;
    bool starts = (kinds[u] & NORM_SEG_UNIT) != 0, after_number = t[u - 1].numlike;
    if (!starts && u + 1 < b && (after_number || ordinal_token(&t[u])) &&
        isdigit((unsigned char)t[u].s[0]) && unit_designator(&t[u])) {
        bool floor_word =
            (kinds[u + 1] & NORM_SEG_UNIT) &&
            !(u + 2 < b && unit_designator(&t[u + 2]) && !(kinds[u + 2] & NORM_SEG_UNIT));
        starts = floor_word || (after_number && ordinal_token(&t[u]) && ordinal_token(&t[u + 1]));
    }
    if (!starts)
        return u;
    int e = u;
    *bare = true;
    while (e < b && ((kinds[e] & NORM_SEG_UNIT) || unit_designator(&t[e]))) {
        /* "#3" is a unit word and its designator in one ("Apt #3", "Suite #200") */
        *bare &= (kinds[e] & NORM_SEG_UNIT) != 0 && !(t[e].s[0] == '#' && t[e].len > 1);
        e++;
    }
    return e;
}

/* Unit text inside the part [a, b) (after what aside_count set aside) into aside[]: after the
 * house number ("Hauptstrasse 5 Apt 4B Vaduz", "Carrer Major 5 3r 2a", "12 rue X bloc A 5e
 * étage 75001 Paris", "1035 Natoma St Apt 4B"), or before it at the start of the part ("Flat 2
 * 10 Downing Street", "Bât. C Esc. 2 1 Rue Pasteur"). Unit words alone ("baixos", "EG links")
 * count only right after a number that follows the street name, where no street or town word
 * stands ("10 Top Road", "Main St Miami FL" keep theirs). Return how many were added. */
static int inline_unit(const struct gctx *g, const unsigned *kinds, int a, int b, int *aside)
{
    const struct token *t = g->tok;
    int n = 0;
    /* before the house number: unit words each with its designator, then number and street */
    if (kinds[a] & NORM_SEG_UNIT) {
        int k = a;
        while (k + 1 < b && (kinds[k] & NORM_SEG_UNIT) && unit_designator(&t[k + 1]) &&
               !(kinds[k + 1] & NORM_SEG_UNIT))
            k += 2;
        if (k > a && k + 2 < b && t[k].numlike && t[k].len <= 4 && !t[k + 1].numlike &&
            !(kinds[k + 1] & NORM_SEG_UNIT)) {
            for (int i = a; i < k; i++)
                aside[n++] = i;
            return n;
        }
    }
    /* after it: the first number after a word, then unit text after it */
    int h = a;
    while (h < b && !t[h].numlike)
        h++;
    if (h >= b)
        return 0;
    int after = h + 1; /* past the number's letter: "15 v" */
    if (after < b && t[after].len == 1 && isalpha((unsigned char)t[after].s[0]) &&
        !(kinds[after] & NORM_SEG_UNIT))
        after++;
    for (int u = after; u < b; u++) {
        bool bare = false;
        int e = unit_run_end(g, kinds, u, b, &bare);
        if (e == u)
            continue;
        if (bare && (u != after || h == a))
            return 0;
        for (int i = u; i < e; i++)
            aside[n++] = i;
        return n;
    }
    return 0;
}

/* A delivery mark that ends the part [a, b) ("98000 Monaco CEDEX", "75008 Paris Cedex 08",
 * or a part of its own), and its number of at most three digits, into aside[]: how many. */
static int postal_mark(const struct gctx *g, const unsigned *kinds, int a, int b, int *aside)
{
    const struct token *t = g->tok;
    int k = b - 1;
    if (k > a && t[k].len <= 3 && t[k].numlike && isdigit((unsigned char)t[k].s[0]))
        k--;
    if (k < a || !(kinds[k] & NORM_SEG_POSTAL))
        return 0;
    int n = 0;
    for (int i = k; i < b; i++)
        aside[n++] = i;
    return n;
}

static bool names_place_in(struct gctx *g, int i, int j, const char *cc);

/* Whether tokens [i, j) name a place of the index, a country or a region. */
static bool span_names_area(struct gctx *g, int i, int j)
{
    struct norm_region r[MAX_REGIONS];
    const char *s = g->tok[i].s;
    size_t n = (size_t)(g->tok[j - 1].s + g->tok[j - 1].len - s);
    return names_place_in(g, i, j, "") || norm_country(s, n) ||
           norm_region(s, n, NULL, r, MAX_REGIONS) > 0;
}

/* Whether the part [a, b) is an address's: it names a street of the index whole, or starts
 * with a place, a country or a region ("Vaduz", "Vaduz Zentrum", "Cambridge MA"). A name that
 * only holds such words is a name line ("Green Street Parking Garage", "East Cambridge Health
 * Center"). */
static bool part_of_address(struct gctx *g, int a, int b)
{
    if (b - a <= MAX_SPAN && span_names_street(g, a, b))
        return true;
    for (int j = a + 1; j <= b && j - a <= MAX_SPAN; j++)
        if (span_names_area(g, a, j))
            return true;
    return false;
}

/* Name lines: the parts before the first part with a number, when that part holds a street of
 * the index beside its number ("Gold Star Mothers Swimming Pool, 123 Berkshire St, Cambridge";
 * "Westmorely Court, Adams House, 13 Bow St"), are a building's or an organisation's name unless
 * they are an address's (part_of_address: "Mitte, Hauptstr. 5", "Vaduz, Städtle 5", "Běloveská,
 * č. 238, 19900" keep theirs). Their tokens into aside[]; return how many. */
static int name_lines(struct gctx *g, int *aside)
{
    int a = 0, b = 0;
    for (;;) { /* the first part with a number: [a, b) */
        if (a >= g->ntok)
            return 0;
        b = a + 1;
        while (b < g->ntok && !g->tok[b - 1].comma_after)
            b++;
        bool digit = false; /* "10a-d" too, which is no house number of the grammar */
        for (int k = a; k < b; k++)
            digit |= isdigit((unsigned char)g->tok[k].s[0]) != 0;
        if (digit)
            break;
        a = b;
    }
    if (a == 0)
        return 0;
    /* a house number with the street after it ("123 Berkshire St") or before it ("Städtle 5"),
     * not a postcode before a town */
    bool street = false;
    for (int k = a; k < b && !street; k++) {
        if (!g->tok[k].numlike || g->tok[k].used)
            continue;
        street = k + 1 < b && !g->tok[k + 1].numlike && words_name_street(g, k + 1, k + 2, b);
        for (int i = k - 1; i >= a && k - i <= MAX_SPAN && !street; i--)
            street = span_names_street(g, i, k);
    }
    if (!street)
        return 0;
    int n = 0;
    for (int p = 0; p < a;) {
        int e = p + 1;
        while (e < a && !g->tok[e - 1].comma_after)
            e++;
        if (!part_of_address(g, p, e))
            for (int k = p; k < e; k++)
                aside[n++] = k;
        p = e;
    }
    return n;
}

/* Whether token k, a contact word inside a part, opens a telephone number or a mail address
 * ("... London EC4Y 1DH Tel: 020 7946 0018"): the token after it opens with '+' or a digit and
 * the rest of the part holds six digits or more, or an '@'. ("Mobile AL 36602" is a town.) */
static bool contact_inside(const struct gctx *g, const unsigned *kinds, int k)
{
    if (k == 0 || k + 1 >= g->ntok || g->tok[k - 1].comma_after || g->tok[k].comma_after ||
        !(kinds[k] & NORM_SEG_CONTACT))
        return false;
    const struct token *t = &g->tok[k + 1];
    bool opens = t->s[0] == '+' || isdigit((unsigned char)t->s[0]);
    int digits = 0;
    for (int j = k + 1; j < g->ntok; j++) {
        const struct token *u = &g->tok[j];
        if (memchr(u->s, '@', u->len))
            return true;
        for (size_t i = 0; i < u->len; i++)
            digits += isdigit((unsigned char)u->s[i]) != 0;
        if (u->comma_after)
            break;
    }
    return opens && digits >= 6;
}

/* A note in round brackets of two words or more ("(leave at door)", "(near the corner)")
 * that is no address's part (part_of_address: "(Vaduz Zentrum)" keeps; "Halle (Saale)" is one
 * word): made a part of its own, its tokens' flags in note[]. */
static void bracket_notes(struct gctx *g, bool *note)
{
    for (int i = 0; i < g->ntok; i++) {
        if (!g->tok[i].paren_open || g->tok[i].paren_close)
            continue;
        int j = i + 1;
        while (j < g->ntok && j - i < MAX_SPAN && !g->tok[j].paren_close && !g->tok[j].paren_open)
            j++;
        if (j >= g->ntok || !g->tok[j].paren_close || part_of_address(g, i, j + 1))
            continue;
        for (int k = i; k <= j; k++)
            note[k] = true;
        if (i > 0)
            g->tok[i - 1].comma_after = true;
        g->tok[j].comma_after = true;
        i = j;
    }
}

/* Set aside (mark used) the parts of an address block that are not the address: recipient,
 * company and department lines, building/floor/unit text, name lines. At least one word
 * stays. */
static void set_aside_parts(struct gctx *g)
{
    int aside[MAX_TOKENS];
    unsigned kinds[MAX_TOKENS];
    int n = 0, words_left = 0;
    bool any_unit = false;
    for (int k = 0; k < g->ntok; k++) {
        kinds[k] = seg_kinds(&g->tok[k]);
        any_unit |= (kinds[k] & NORM_SEG_UNIT) != 0 || ordinal_token(&g->tok[k]);
    }
    for (int k = 1; k < g->ntok; k++) /* a telephone inside a part opens a part of its own */
        if (contact_inside(g, kinds, k))
            g->tok[k - 1].comma_after = true;
    bool note[MAX_TOKENS] = {false};
    bracket_notes(g, note);
    for (int a = 0; a < g->ntok;) {
        int b = a + 1;
        while (b < g->ntok && !g->tok[b - 1].comma_after)
            b++;
        int c = note[a] ? b - a : aside_count(g, kinds, a, b, a == 0);
        int first = n;
        for (int k = a; k < a + c; k++)
            aside[n++] = k;
        if (any_unit && a + c < b)
            n += inline_unit(g, kinds, a + c, b, aside + n);
        n += postal_mark(g, kinds, a + c, b, aside + n);
        for (int k = a; k < b; k++)
            words_left += !g->tok[k].numlike;
        for (int i = first; i < n; i++) /* each token of the part is set aside once */
            words_left -= !g->tok[aside[i]].numlike;
        a = b;
    }
    if (words_left == 0)
        return;
    for (int i = 0; i < n; i++)
        g->tok[aside[i]].used = true;
    n = name_lines(g, aside); /* after the others: a company line is one already */
    for (int i = 0; i < n; i++)
        g->tok[aside[i]].used = true;
}

/* The span memo (gc_span_key's keys, and whether each may name a town) holds the keys of the
 * current reading country: forgotten when it changed since they were made. */
static void span_memo_sync(struct gctx *g)
{
    if (g->memo_cc != g->cc_arg) { /* another reading country: other keys */
        memset(g->memo_known, 0, sizeof(g->memo_known));
        memset(g->town_known, 0, sizeof(g->town_known));
        memset(g->town_maybe, 0, sizeof(g->town_maybe));
        g->memo_used = 0;
        g->memo_cc = g->cc_arg;
    }
}

/* Key of the raw text spanning tokens [i, j). A query asks for the same spans many times (as
 * street spans, locality runs, their sub-spans, again for the typo search): each span of up to
 * MAX_SPAN tokens is normalised once per reading country and then copied from the memo. */
size_t gc_span_key(struct gctx *g, int i, int j, char *out, size_t cap)
{
    static_assert(MAX_SPAN <= 8, "memo_known has a bit per span length");
    static_assert(MEMO_POOL <= UINT16_MAX, "memo_off is 16-bit");
    span_memo_sync(g);
    int n_tok = j - i;
    bool memo = n_tok <= MAX_SPAN; /* and made with a whole KEY_MAX buffer, see below */
    if (memo && (g->memo_known[i] >> (n_tok - 1) & 1)) {
        const char *key = g->memo_pool + g->memo_off[i][n_tok - 1];
        size_t kl = strlen(key);
        if (kl >= cap)
            return 0;
        memcpy(out, key, kl + 1);
        return kl;
    }
    int k = norm_words_key(&g->words, i, j, g->cc_arg, out, cap);
    size_t kl = k > 0 ? (size_t)k : 0;
    if (kl == 0 && cap > 0)
        out[0] = '\0';
    if (memo && cap >= KEY_MAX && g->memo_used + kl + 1 <= MEMO_POOL) {
        memcpy(g->memo_pool + g->memo_used, kl ? out : "", kl + 1);
        g->memo_off[i][n_tok - 1] = g->memo_used;
        g->memo_used = (uint16_t)(g->memo_used + kl + 1);
        g->memo_known[i] |= (uint8_t)(1u << (n_tok - 1));
    }
    return kl;
}

/* Whether the index holds addresses, streets or places of country cc (an index of address
 * ranges, TIGER's or a city's, has streets and no address points). */
static bool index_has_country(const struct gctx *g, const char cc[2])
{
    for (size_t i = 0; i < g->v->n_countries; i++)
        if (memcmp(g->v->countries[i].code, cc, 2) == 0)
            return g->v->countries[i].addresses > 0 || g->v->countries[i].streets > 0 ||
                   g->v->countries[i].places > 0;
    return false;
}

/* Whether the key of tokens [i, j) names a place of the index in country cc ("" for any). */
static bool names_place_in(struct gctx *g, int i, int j, const char *cc)
{
    char key[KEY_MAX];
    size_t kl = gc_span_key(g, i, j, key, sizeof(key));
    const struct index_view *v = g->v;
    for (uint32_t p = kl ? index_place_first(g->ix, key, kl) : IX_NONE;
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), key) == 0; p++)
        if (country_ok(cc, v->places[p].country))
            return true;
    return false;
}

/* Whether the town before token i, of up to three words back to a comma ("Little Rock"), is a
 * place of country cc. */
static bool town_before_in(struct gctx *g, int i, const char *cc)
{
    for (int k = i - 1; k >= 0 && k >= i - 3; k--) {
        if (g->tok[k].used || g->tok[k].numlike || (k < i - 1 && g->tok[k].comma_after))
            break;
        if (names_place_in(g, k, i, cc))
            return true;
    }
    return false;
}

/* A trailing code or name after a town that is both a country and a region ("Portland, ME":
 * Maine or Montenegro; "Lauf, DE": Germany or Delaware; "Little Rock, AR": Arkansas or
 * Argentina; "Atlanta, Georgia"): the region when the town before it is a place of the region's
 * country, or when the index has the region's country and not the code's. After a number, the
 * region when that number is a postcode of the region's country and not of the code's ("90210
 * CA"). */
static bool region_not_country(struct gctx *g, int i, const char *s, size_t n, const char *iso2)
{
    struct norm_region r[MAX_REGIONS];
    int nr = norm_region(s, n, g->cc[0] ? g->cc : NULL, r, MAX_REGIONS);
    if (nr == 0 || i == 0 || g->tok[i - 1].used)
        return false;
    for (int k = 0; k < nr; k++)
        if (strcmp(r[k].code, iso2) == 0 && norm_territory(r[k].country, iso2))
            return false; /* Puerto Rico: the region is the country */
    if (g->tok[i - 1].numlike) {
        if (postcode_of(g, i - 1, iso2))
            return false;
        for (int k = 0; k < nr; k++)
            if (postcode_of(g, i - 1, r[k].country))
                return true;
        return false;
    }
    bool have_code = index_has_country(g, iso2);
    for (int k = 0; k < nr; k++) {
        if (!index_has_country(g, r[k].country))
            continue;
        if (!have_code || town_before_in(g, i, r[k].country))
            return true;
    }
    return false;
}

/* Where the town before token i (up to three words back to a comma) is as to the nr regions
 * g->region names: 1 a place of that name is in a region's country, 0 no place has that name,
 * -1 only places elsewhere do ("Vaduz, FL" is Liechtenstein's old code, not Florida). */
static int town_in_region(struct gctx *g, int i, int nr)
{
    for (int r = 0; r < nr; r++)
        if (town_before_in(g, i, g->region[r].country))
            return 1;
    return town_before_in(g, i, "") ? -1 : 0;
}

/* Whether tokens [i, e), a country or a region, end a street's name in their part: the words
 * before them back to a number or a comma, with them, name a street ("15 Boulevard de
 * Belgique", "Avenida de Portugal", "100 FRANKLIN ST": not São Tomé, nor Sachsen-Anhalt), read
 * as the query is or, in an index's main country's languages (gc_main_guessed), in every list:
 * "28 Bd de Belgique" is no Czech street. A country set off by a comma is one ("Boulevard de
 * Belgique, Monaco"). */
static bool ends_street(struct gctx *g, int i, int e)
{
    for (int a = i - 1; a >= 0 && e - a <= MAX_SPAN; a--) {
        const struct token *t = &g->tok[a];
        if (t->numlike || t->used || t->comma_after)
            break;
        if (span_names_street(g, a, e) || (gc_main_guessed(g) && names_street_any_reading(g, a, e)))
            return true;
    }
    return false;
}

/* Free-form: a region after the town ("Sunnyvale, CA", "Lauf, Bayern", "Springfield IL 62701"):
 * up to three word tokens that only used tokens (postcode, country) follow, after a word token,
 * set off by a comma or a postcode after it or written as a capitalised code, and not the name of
 * a place of the index unless the words before it are a town of the region's country ("San
 * Francisco, California": California, Pennsylvania is a town too). With a postcode found, also the
 * region just after it ("90210 CA") or before it alone ("CA 90210"). It becomes a qualifier: used,
 * and the country filter when all its readings share one country. */
static void find_region(struct gctx *g)
{
    int e = g->ntok;
    while (e > 0 && g->tok[e - 1].used)
        e--;
    for (int len = 3; len >= 1; len--) {
        int i = e - len;
        bool by_pc = g->has_pc && ((i == 0 && e < g->ntok) ||
                                   (i > 0 && g->tok[i - 1].used && g->tok[i - 1].numlike));
        if (i < 0 || (!by_pc && (i < 1 || g->tok[i - 1].used || g->tok[i - 1].numlike)))
            continue;
        bool words = true, upper = len == 1 && g->tok[i].len <= 3;
        for (int k = i; k < e; k++) {
            /* one part: "Washington, DC" is a town and its region, not "Washington DC" */
            words &=
                !g->tok[k].numlike && !g->tok[k].used && (k == e - 1 || !g->tok[k].comma_after);
            for (size_t b = 0; upper && b < g->tok[k].len; b++)
                upper = isupper((unsigned char)g->tok[k].s[b]);
        }
        if (!words || !((i > 0 && g->tok[i - 1].comma_after) || e < g->ntok || upper))
            continue;
        const char *s = g->tok[i].s;
        size_t n = (size_t)(g->tok[e - 1].s + g->tok[e - 1].len - s);
        int nr = norm_region(s, n, g->cc[0] ? g->cc : NULL, g->region, MAX_REGIONS);
        int town = nr ? town_in_region(g, i, nr) : -1;
        if (nr == 0 || town < 0 || (!upper && town == 0 && names_place_in(g, i, e, g->cc)) ||
            ends_street(g, i, e))
            continue;
        g->nregion = nr;
        for (int k = i; k < e; k++)
            g->tok[k].used = true;
        bool one = true;
        for (int k = 1; k < nr; k++)
            one &= strcmp(g->region[k].country, g->region[0].country) == 0;
        if (!g->cc[0] && one) {
            memcpy(g->cc, g->region[0].country, 3);
            g->cc_arg = g->cc;
        }
        if (nr == 1 && to_territory(g, g->region[0].code))
            g->nregion = 0; /* "San Juan, PR, USA": the territory is the country */
        return;
    }
}

int gc_region_fit(const struct gctx *g, const char *st, const char country[2])
{
    struct norm_region r[MAX_REGIONS];
    char cc[3] = {country[0], country[1], '\0'};
    int nr = g->nregion && *st ? norm_region(st, strlen(st), cc[0] ? cc : NULL, r, MAX_REGIONS) : 0;
    int fit = 0;
    for (int k = 0; k < nr && fit <= 0; k++) {
        fit = -1;
        for (int q = 0; q < g->nregion && fit < 1; q++)
            if (strcmp(r[k].country, g->region[q].country) == 0 &&
                strcmp(r[k].code, g->region[q].code) == 0)
                fit = 1;
    }
    return fit;
}

int gc_state_fits(struct gctx *g, uint32_t off, const char country[2])
{
    if (g->nregion == 0)
        return 0;
    if (g->state_fit && g->state_off == off)
        return g->state_fit - 2;
    int fit = gc_region_fit(g, ix_str(g->v, off), country);
    if (fit == 0 && country[0]) { /* unknown state: at least the country must be a region's */
        bool any = false;
        for (int q = 0; q < g->nregion; q++)
            any |= memcmp(g->region[q].country, country, 2) == 0;
        fit = any ? 0 : -1;
    }
    g->state_off = off;
    g->state_fit = fit + 2;
    return fit;
}

/* Whether tokens [i, e), a country's name, end a region's name of up to four words in their
 * part: "New Mexico", "New Jersey", "New South Wales" are no Mexico, Jersey or Wales. */
static bool ends_region(const struct gctx *g, int i, int e)
{
    struct norm_region r[MAX_REGIONS];
    for (int a = i - 1; a >= 0 && e - a <= 4; a--) {
        const struct token *t = &g->tok[a];
        if (t->used || t->numlike || t->comma_after)
            return false;
        const char *s = t->s;
        size_t n = (size_t)(g->tok[e - 1].s + g->tok[e - 1].len - s);
        if (norm_region(s, n, NULL, r, MAX_REGIONS) > 0)
            return true;
    }
    return false;
}

/* The country: a trailing run of tokens that names one, before the parts set aside (a company
 * line at the end: "Städtle 5, Vaduz, Muster AG" is not Antigua) and the postcode found; with
 * only not NULL, only that country or a territory of it. */
static void find_country(struct gctx *g, const char *only)
{
    int e = g->ntok;
    while (e > 0 && g->tok[e - 1].used)
        e--;
    for (int len = 5; len >= 1 && !g->country_named; len--) {
        int i = e - len;
        if (i < 0 || (i == 0 && len != g->ntok))
            continue;
        /* four words and five ("United States of America", "Saint Vincent and the
         * Grenadines"): words of one part */
        bool words = true;
        for (int k = i; k < e && len > 3 && words; k++)
            words = !g->tok[k].numlike && (k == e - 1 || !g->tok[k].comma_after);
        if (!words)
            continue;
        const char *s = g->tok[i].s;
        size_t n = (size_t)(g->tok[e - 1].s + g->tok[e - 1].len - s);
        const char *iso2 = norm_country_words(&g->words, i, e);
        /* a code of a country and a region ("CA") is read one way, and may be asked again the
         * other (gc_query.code_other) */
        bool two_ways = iso2 && n <= 3 && !g->cc[0] && norm_region_elsewhere(s, n, iso2);
        g->code_two_ways |= two_ways;
        if (iso2 && region_not_country(g, i, s, n, iso2) != (two_ways && g->q->code_other))
            continue;
        /* a code that is also a legal form ("AG", "SA", "SL", "BV", "AS", "GbR") is a country
         * only as a part of its own: after a word of the same part it ends a company name */
        if (iso2 && n <= 3 && len == 1 && i > 0 && !g->tok[i - 1].comma_after &&
            (norm_segment_word(s, n) & NORM_SEG_LEGAL))
            continue;
        if (iso2 && (ends_street(g, i, e) || ends_region(g, i, e)))
            continue;
        if (iso2 && only && !(iso2[0] == only[0] && iso2[1] == only[1]) &&
            !norm_territory(iso2, only))
            continue;
        if (iso2 && (n > 3 || !g->cc[0] || (iso2[0] == g->cc[0] && iso2[1] == g->cc[1]) ||
                     norm_territory(g->cc, iso2))) {
            to_territory(g, iso2);
            if (!g->cc[0]) {
                g->cc[0] = iso2[0];
                g->cc[1] = iso2[1];
                g->cc[2] = '\0';
            }
            g->cc_arg = g->cc; /* its names are read in its languages */
            for (int k = i; k < e; k++)
                g->tok[k].used = true;
            g->country_named = true;
        }
    }
}

/* Free-form: the country, postcode tokens (one, or two adjacent like "182 00"; then a country
 * before them, gc_find_postcode), and the region. */
static void find_postcode_and_country(struct gctx *g)
{
    find_country(g, NULL);
    gc_find_postcode(g, false);
    find_region(g);
}

/* Whether tokens i, i + 1 are a US ZIP+4 written with a space: five digits, then four that end
 * the text or its part ("CA 94102, 1232 Market Street" has a house number after the ZIP). */
static bool zip4(const struct gctx *g, int i)
{
    if (i < 0 || i + 1 >= g->ntok)
        return false;
    const struct token *a = &g->tok[i], *b = &g->tok[i + 1];
    if (a->len != 5 || b->len != 4 || a->comma_after || a->used || b->used ||
        !(i + 2 == g->ntok || b->comma_after || g->tok[i + 2].used))
        return false;
    for (size_t k = 0; k < 5; k++)
        if (!isdigit((unsigned char)a->s[k]) || (k < 4 && !isdigit((unsigned char)b->s[k])))
            return false;
    return true;
}

/* The first postcode entry of key (k bytes) in the country filter and, when cc is not NULL, of
 * country cc; IX_NONE when none. *run: the first entry of the key in any country. */
static uint32_t postcode_entry(const struct gctx *g, const char *key, size_t k, const char *cc,
                               uint32_t *run)
{
    char want[32];
    memcpy(want, key, k);
    want[k] = '\0';
    uint32_t e = index_postcode_first(g->ix, want, k);
    *run = e;
    for (; e != IX_NONE && e < g->v->n_postcodes &&
           strcmp(ix_str(g->v, g->v->postcodes[e].key), want) == 0;
         e++)
        if (country_or_territory(g, g->v->postcodes[e].country) &&
            (!cc || country_ok(cc, g->v->postcodes[e].country)))
            return e;
    return IX_NONE;
}

/* A postcode written after a country prefix and a dash ("D-91207", "CH-9470", "FL-9490",
 * "NL-1012 AB"): the key of the rest into key and the prefix's country into *cc. Return the
 * key's length, 0 when the text has no such prefix. */
static size_t strip_prefix(const char *s, size_t n, char *key, size_t cap, const char **cc)
{
    const char *dash = memchr(s, '-', n);
    if (!dash || dash == s || dash + 1 >= s + n || !isdigit((unsigned char)dash[1]))
        return 0;
    for (const char *p = s; p < dash; p++)
        if (!isalpha((unsigned char)*p))
            return 0;
    *cc = norm_postcode_prefix(s, (size_t)(dash - s));
    if (!*cc)
        return 0;
    size_t k = postcode_key(dash + 1, (size_t)(s + n - dash - 1), key, cap);
    return k >= 3 ? k : 0;
}

/* The postcode at token i (found: g->pc_entry) after its country's prefix and a space ("D
 * 91207 Lauf", "LI 9490 Vaduz", "MC 98000 Monaco", as "D-91207" is read whole by
 * strip_prefix): the prefix is the postcode's, not a word over. */
static void country_prefix_apart(struct gctx *g, int i)
{
    struct token *p = i > 0 ? &g->tok[i - 1] : NULL;
    if (!p || p->used || p->numlike || p->comma_after || p->len > 3)
        return;
    for (size_t k = 0; k < p->len; k++)
        if (!isalpha((unsigned char)p->s[k]))
            return;
    const char *cc = norm_postcode_prefix(p->s, p->len);
    if (cc && memcmp(cc, g->v->postcodes[g->pc_entry].country, 2) == 0)
        p->used = true;
}

/* Whether s (n bytes) has the shape pat: 'A' a letter, '9' a digit, ' ' one or more spaces
 * or none (the space of "SW1A 1AA" is often left out), '-' a dash. */
static bool shape_is(const char *s, size_t n, const char *pat)
{
    size_t k = 0;
    for (; *pat; pat++) {
        if (*pat == ' ') {
            while (k < n && s[k] == ' ')
                k++;
            continue;
        }
        if (k >= n)
            return false;
        unsigned char c = (unsigned char)s[k++];
        if (*pat == 'A' ? !isalpha(c) : *pat == '9' ? !isdigit(c) : c != (unsigned char)*pat)
            return false;
    }
    return k == n;
}

/* The national postcode forms that are not a plain number, and the country that writes each
 * (NULL: several). With letters, never a house number: British (outward "SW1A", "M1", "EC1A",
 * inward "1AA"), Canadian ("K1A 0B1"), Dutch ("1012 AB"). Digits only, a house number unless
 * another number is there: three and two digits (Czech, Slovak, Swedish, Greek: "110 00"),
 * digits around a dash (Polish "00-950", Portuguese "1000-001": never a US ZIP), four or five
 * digits. */
static const struct {
    const char *shape;
    bool letters;
    const char *cc;
} POSTCODE_FORMS[] = {
    {"A9 9AA", true, "GB"},   {"A99 9AA", true, "GB"},   {"AA9 9AA", true, "GB"},
    {"AA99 9AA", true, "GB"}, {"A9A 9AA", true, "GB"},   {"AA9A 9AA", true, "GB"},
    {"A9A 9A9", true, "CA"},  {"9999 AA", true, "NL"},   {"999 99", false, NULL},
    {"99-999", false, "PL"},  {"9999-999", false, "PT"}, {"9999", false, NULL},
    {"99999", false, NULL},
};

/* The national form of the span of token i (and i + 1 when two): its POSTCODE_FORMS index,
 * -1 when none. */
static int postcode_form(const struct gctx *g, int i, bool two)
{
    const struct token *t = &g->tok[i];
    size_t n = two ? (size_t)(g->tok[i + 1].s + g->tok[i + 1].len - t->s) : t->len;
    if (two && t->comma_after)
        return -1;
    for (size_t k = 0; k < sizeof(POSTCODE_FORMS) / sizeof(POSTCODE_FORMS[0]); k++)
        if (shape_is(t->s, n, POSTCODE_FORMS[k].shape))
            return (int)k;
    return -1;
}

/* Whether the span of token i (and i + 1 when two) of national form form, which the index does
 * not know, is a postcode: a country prefix and digits, a form with letters, or a form of
 * digits only that is not the house number (another number is there, or lone_number_ok). */
static bool postcode_shaped(const struct gctx *g, int i, bool two, int form, bool lone_number_ok,
                            const char *prefix_cc)
{
    if (prefix_cc && !two)
        return true;
    if (form < 0)
        return false;
    if (POSTCODE_FORMS[form].letters)
        return true;
    if (two && i + 2 < g->ntok && g->tok[i + 2].numlike)
        return false;
    /* a number that ends a part right after a word of a street's name is its house number
     * ("Modřínová 1403, Praha 8": not an unknown postcode, with 8 the number), not after a
     * region's code ("Cambridge MA 02139, USA") */
    const struct token *p = i > 0 ? &g->tok[i - 1] : NULL;
    struct norm_region r[MAX_REGIONS];
    if (!two && p && g->tok[i].comma_after && !p->numlike && !p->used && !p->comma_after &&
        norm_region(p->s, p->len, NULL, r, MAX_REGIONS) == 0)
        return false;
    if (lone_number_ok)
        return true;
    for (int k = 0; k < g->ntok; k++)
        if (k != i && (!two || k != i + 1) && g->tok[k].numlike && !g->tok[k].used)
            return true;
    return false;
}

/* A postcode known to the index among the tokens (one, or two like "182 00"), later ones
 * first. A lone number next to words is taken as the house number unless lone_number_ok. */
void gc_find_postcode(struct gctx *g, bool lone_number_ok)
{
    int nnum = 0, nwords = 0, unknown = 0; /* unknown: one past a postcode-shaped token */
    bool unknown_two = false;              /* ... that is two tokens ("SW1A 1AA") */
    const char *unknown_cc = NULL;         /* ... of a form only this country writes */
    bool elsewhere = false;                /* ... that another member of a set has */
    for (int i = 0; i < g->ntok; i++) {
        nnum += g->tok[i].numlike && !g->tok[i].used;
        nwords += !g->tok[i].numlike && !g->tok[i].used;
    }
    /* later tokens first: postcodes usually follow the street */
    for (int i = g->ntok - 1; i >= 0 && !g->has_pc && !elsewhere; i--) {
        struct token *t = &g->tok[i];
        if (t->used)
            continue;
        for (int two = 1; two >= 0 && !g->has_pc && !elsewhere; two--) {
            if (two && (i + 1 >= g->ntok || g->tok[i + 1].used))
                continue;
            if (i + 1 < g->ntok && !t->comma_after && is_fraction(&g->tok[i + 1]))
                continue; /* "6729 1/2": a house number and its fraction, not a postcode */
            size_t n = two ? (size_t)(g->tok[i + 1].s + g->tok[i + 1].len - t->s) : t->len;
            if (!two && zip4(g, i - 1))
                continue; /* "94102 1234": the pair's turn, as the ZIP */
            if (two && zip4(g, i))
                n = 5;
            const char *prefix_cc;
            struct pc_form f[3];
            int nf = postcode_forms(t->s, n, f, &prefix_cc), x;
            if (nf == 0 || f[0].k < 3 || !strpbrk(f[0].key, "0123456789"))
                continue;
            if (t->numlike && nnum == 1 && nwords > 0 && !two && !lone_number_ok)
                continue; /* the only number next to words is more likely the house number */
            int form = postcode_form(g, i, two);
            const char *form_cc = form >= 0 ? POSTCODE_FORMS[form].cc : NULL;
            f[0].cc = form_cc; /* the key in its national form's country */
            uint32_t run;
            uint32_t e = postcode_forms_entry(g, f, nf, &x, &run);
            if (e == IX_NONE && postcode_elsewhere(g, f, nf)) {
                /* the set's postcode, where one index over it stops looking: set aside here */
                unknown = i + 1;
                unknown_two = two;
                unknown_cc = prefix_cc ? prefix_cc : form_cc;
                elsewhere = true;
                continue;
            }
            if (e == IX_NONE) {
                if (!unknown && postcode_shaped(g, i, two, form, lone_number_ok, prefix_cc)) {
                    unknown = i + 1;
                    unknown_two = two;
                    unknown_cc = prefix_cc ? prefix_cc : form_cc;
                }
                continue;
            }
            memcpy(g->pc_key, f[x].key, f[x].k + 1);
            g->has_pc = true;
            g->pc_entry = e;
            g->pc_run = run;
            to_territory(g, g->v->postcodes[e].country);
            index_postcode_streets_prefetch(g->ix, run);
            postcode_reading(g);
            t->used = true;
            if (two)
                g->tok[i + 1].used = true;
            country_prefix_apart(g, i);
        }
    }
    if (g->has_pc && g->pc_entry != IX_NONE && !g->country_named && !g->structured) {
        /* a country before the postcode that agrees with it: "Vaduz, Liechtenstein 9490",
         * "Boston, MA, USA 02108" */
        const char *pcc = g->v->postcodes[g->pc_entry].country;
        find_country(g, (const char[3]){pcc[0], pcc[1], '\0'});
    }
    if (!g->has_pc && unknown) { /* the last postcode-shaped span, set aside */
        g->tok[unknown - 1].used = true;
        if (unknown_two)
            g->tok[unknown].used = true;
        g->pc_unknown = true;
        if (unknown_cc)
            memcpy(g->pc_form_cc, unknown_cc, 3);
    }
    /* "Cambridge, MA 02139": the ZIP was a house number's, now MA is free; so it is when the
     * index does not know the ZIP ("Austin, TX 78799") */
    if (lone_number_ok && (g->has_pc || g->pc_unknown) && g->nregion == 0)
        find_region(g);
}

/* A run's answers not asked yet (run_places, gc_run_names_place, town_beside,
 * gc_run_begins_town). */
static void run_unasked(struct run *r)
{
    r->place_known = false;
    r->set_rank = -1;
    r->town_beside = -1;
    r->town_start = -1;
}

static void add_run(struct gctx *g, struct hyp *h, int first, int end)
{
    if (end <= first || h->n_runs >= MAX_RUNS)
        return;
    struct run *r = &h->runs[h->n_runs];
    r->first = first;
    r->ntok = end - first;
    r->klen = gc_span_key(g, first, end, r->key, sizeof(r->key));
    run_unasked(r);
    if (r->klen)
        h->n_runs++;
}

/* Leftover tokens of a hypothesis, as runs split at commas and used tokens. */
void gc_leftover_runs(struct gctx *g, struct hyp *h)
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

static size_t cand_slot(uint32_t street, int hyp)
{
    return street * 2654435761u + (uint32_t)hyp * 40503u;
}

/* Take cand[i] out of the hash set: the entries after it in its probe sequence move back. */
static void cand_set_remove(struct gctx *g, int i)
{
    size_t mask = sizeof(g->cand_set) / sizeof(g->cand_set[0]) - 1;
    size_t hole = cand_slot(g->cand[i].street, g->cand[i].hyp) & mask;
    while (g->cand_set[hole] != i + 1)
        hole = (hole + 1) & mask;
    g->cand_set[hole] = 0;
    for (size_t j = (hole + 1) & mask; g->cand_set[j]; j = (j + 1) & mask) {
        const struct cand *c = &g->cand[g->cand_set[j] - 1];
        size_t home = cand_slot(c->street, c->hyp) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) { /* home is at or before the hole */
            g->cand_set[hole] = g->cand_set[j];
            g->cand_set[j] = 0;
            hole = j;
        }
    }
}

/*
 * cand[] is full and (street, hyp) is not in it, of bound b (gc_street_bound): the index of
 * the candidate not scored yet whose bound is lowest, when it is under b (it gives way: no
 * fixed order of finding decides which streets are weighed), else -1 (the new one is left
 * out). Either way refused_bound keeps the highest bound left out, for forward to weigh
 * (refused_outranked).
 */
static int cand_victim(struct gctx *g, double b)
{
    if (!g->bounds_known) {
        for (int i = g->cand_from; i < g->ncand; i++) {
            struct cand t = g->cand[i];
            g->cand_bound[i] = gc_street_bound(g, &t);
        }
        g->bounds_known = true;
    }
    int low = -1;
    for (int i = g->cand_from; i < g->ncand; i++)
        if (low < 0 || g->cand_bound[i] < g->cand_bound[low])
            low = i;
    bool evict = low >= 0 && g->cand_bound[low] < b;
    double out = evict ? g->cand_bound[low] : b;
    if (!g->refused || out > g->refused_bound)
        g->refused_bound = out;
    g->refused = true;
    return evict ? low : -1;
}

/* Add (street, hyp) as a candidate of street quality q, or raise the quality of the one there
 * is: a hash set finds it without a scan. Streets outside the country filter are skipped.
 * When cand[] is full, the new street and the candidates not scored yet keep the highest
 * bounds (cand_victim). */
static void add_cand(struct gctx *g, uint32_t street, int hyp, double q, int span_tokens)
{
    const struct ix_street *s = &g->v->streets[street];
    if (!country_ok(g->cc, s->country))
        return;
    size_t mask = sizeof(g->cand_set) / sizeof(g->cand_set[0]) - 1;
    size_t slot = cand_slot(street, hyp) & mask;
    for (; g->cand_set[slot]; slot = (slot + 1) & mask) {
        struct cand *c = &g->cand[g->cand_set[slot] - 1];
        if (c->street == street && c->hyp == hyp) {
            if (q > c->street_q) {
                c->street_q = q;
                g->bounds_known = false; /* its bound rose */
            }
            return;
        }
    }
    int at = g->ncand;
    double bound = 0;
    if (at >= MAX_CANDS) {
        struct cand t = {.street = street, .hyp = hyp, .street_q = q, .span_tokens = span_tokens};
        bound = gc_street_bound(g, &t);
        at = cand_victim(g, bound);
        if (at < 0)
            return;
        cand_set_remove(g, at);
        for (slot = cand_slot(street, hyp) & mask; g->cand_set[slot]; slot = (slot + 1) & mask)
            ;
        g->cand_bound[at] = bound;
    } else {
        g->ncand++;
    }
    g->cand_set[slot] = (uint16_t)(at + 1);
    g->made++;
    struct cand *c = &g->cand[at];
    memset(c, 0, sizeof(*c));
    c->street = street;
    c->hyp = hyp;
    c->street_q = q;
    c->span_tokens = span_tokens;
    c->addr = IX_NONE;
}

void gc_country_span(const struct index_view *v, const char cc[2], uint32_t *lo, uint32_t *hi)
{
    uint32_t a = *lo, b = *hi;
    if (co_running && b - a > 1) { /* the run's last street is a line of its own */
        __builtin_prefetch(&v->streets[a].country);
        __builtin_prefetch(&v->streets[b - 1].country);
        co_pass();
    }
    if (a < b && memcmp(v->streets[a].country, cc, 2) == 0 &&
        memcmp(v->streets[b - 1].country, cc, 2) == 0)
        return;     /* the whole range is of country cc */
    while (a < b) { /* first street of country >= cc */
        uint32_t m = a + (b - a) / 2;
        if (b - a > 2)
            co_wait(&v->streets[m]);
        if (memcmp(v->streets[m].country, cc, 2) < 0)
            a = m + 1;
        else
            b = m;
    }
    uint32_t c = a;
    b = *hi;
    while (c < b) { /* first street of country > cc */
        uint32_t m = c + (b - c) / 2;
        if (b - c > 2)
            co_wait(&v->streets[m]);
        if (memcmp(v->streets[m].country, cc, 2) <= 0)
            c = m + 1;
        else
            b = m;
    }
    *lo = a;
    *hi = c;
}

/* Candidates of [lo, hi), a run whose key has ix_key_hash() name_hash, whose city key is key
 * (of hash key_hash): the index's table of (name, town) pairs finds them (nothing, for most of
 * the query's towns, which have no street of that name). */
static void add_city(struct gctx *g, uint32_t lo, uint32_t hi, uint32_t name_hash, const char *key,
                     uint32_t key_hash, int hyp, double q, int span_tokens)
{
    enum { CAP = 8 };
    struct ix_range st[CAP];
    size_t n;
    do {
        n = index_street_town(g->ix, lo, hi, name_hash, key, key_hash, st, CAP);
        for (size_t i = 0; i < n; i++)
            for (uint32_t k = st[i].first; k < st[i].first + st[i].count; k++)
                add_cand(g, k, hyp, q, span_tokens);
        if (n == CAP)
            lo = st[n - 1].first + st[n - 1].count;
    } while (n == CAP);
}

static const char *span_key_ref(struct gctx *g, int i, int j, size_t *kl);

/* Call fn for each key of h's locality runs that may name a town (index_city_key_maybe) in
 * turn: the whole run, and for free text any span of up to three of its tokens ("Praha 9" is
 * also "Praha"); kept says whether the key outlives the call (the run's, or in gc_span_key's
 * memo), else it is in a buffer of this call. Stop, returning false, when fn returns false. A
 * span's answer is asked once a query (gctx.town_known): most spans are no town's name. */
static bool each_locality_key(struct gctx *g, const struct hyp *h,
                              bool (*fn)(struct gctx *g, const char *key, bool kept, void *arg),
                              void *arg)
{
    span_memo_sync(g);
    for (int r = 0; r < h->n_runs; r++) {
        const struct run *run = &h->runs[r];
        if (index_city_key_maybe(g->ix, run->key, run->klen) && !fn(g, run->key, true, arg))
            return false;
        if (run->first < 0 || run->ntok < 2)
            continue;
        int end = run->first + run->ntok;
        for (int i = run->first; i < end; i++)
            for (int j = i + 1; j <= end && j - i <= 3; j++) {
                uint8_t bit = (uint8_t)(1u << (j - i - 1));
                if (i == run->first && j == end)
                    continue; /* the whole run, above */
                if ((g->town_known[i] & bit) && !(g->town_maybe[i] & bit))
                    continue; /* asked before: no town's name */
                size_t kl;
                const char *k = span_key_ref(g, i, j, &kl);
                char key[KEY_MAX];
                if (kl > 0 && !k)
                    k = gc_span_key(g, i, j, key, sizeof(key)) > 0 ? key : NULL;
                if (!(g->town_known[i] & bit)) {
                    g->town_known[i] |= bit;
                    if (kl > 0 && k && index_city_key_maybe(g->ix, k, kl))
                        g->town_maybe[i] |= bit;
                }
                if ((g->town_maybe[i] & bit) && !fn(g, k, k != key, arg))
                    return false;
            }
    }
    return true;
}

/* each_locality_key: a key that may name a town into the hypothesis' towns, or false (and
 * n_towns -2) when it cannot be kept */
static bool keep_town(struct gctx *g, const char *key, bool kept, void *arg)
{
    struct hyp *h = arg;
    (void)g;
    if (!kept || h->n_towns >= MAX_TOWN_KEYS) {
        h->n_towns = -2;
        return false;
    }
    h->town_hash[h->n_towns] = ix_key_hash(key, strlen(key));
    h->towns[h->n_towns++] = key;
    return true;
}

struct by_town {
    uint32_t lo, hi, name_hash;
    int hyp, span_tokens;
    double q;
};

/* each_locality_key: the candidates of one key, when it may name a town */
static bool add_town(struct gctx *g, const char *key, bool kept, void *arg)
{
    const struct by_town *t = arg;
    (void)kept;
    add_city(g, t->lo, t->hi, t->name_hash, key, ix_key_hash(key, strlen(key)), t->hyp, t->q,
             t->span_tokens);
    return true;
}

/* Candidates of [lo, hi) in a locality of hypothesis hyp's runs (each_locality_key). The keys
 * that may name a town are found at the hypothesis' first street name; a hypothesis of free
 * text finds many (every street within a few edits of its span). */
static void add_by_locality(struct gctx *g, uint32_t lo, uint32_t hi, uint32_t name_hash, int hyp,
                            double q, int span_tokens)
{
    struct hyp *h = &g->hyp[hyp];
    if (h->n_towns == -1) {
        h->n_towns = 0;
        each_locality_key(g, h, keep_town, h);
    }
    if (h->n_towns == 0 || lo >= hi)
        return;
    if (h->n_towns == -2) {
        struct by_town t = {lo, hi, name_hash, hyp, span_tokens, q};
        each_locality_key(g, h, add_town, &t);
        return;
    }
    for (int k = 0; k < h->n_towns; k++)
        add_city(g, lo, hi, name_hash, h->towns[k], h->town_hash[k], hyp, q, span_tokens);
}

/* Candidates of [lo, hi) that have the query's postcode: the postcode's streets are ascending,
 * so those of this name are one stretch of them. */
static void add_by_postcode(struct gctx *g, uint32_t lo, uint32_t hi, int hyp, double q,
                            int span_tokens)
{
    size_t n;
    const uint32_t *st = index_postcode_streets(g->ix, g->pc_run, lo, &n);
    if (co_running && n > 0 && st[0] < hi) { /* the streets add_cand will read */
        for (size_t k = 0; k < n && k < 8 && st[k] < hi; k++)
            __builtin_prefetch(&g->v->streets[st[k]].country);
        co_pass();
    }
    for (size_t k = 0; k < n && st[k] < hi; k++)
        add_cand(g, st[k], hyp, q, span_tokens);
}

/* The streets of [lo, hi) whose data names no town (OpenAddresses rows without CITY), as
 * candidates of hyp: their postcode's town may be the one the query names (geocode_score.c,
 * postcode_town). They sort first in their country's part of the run (the empty city key is
 * offset 0); at most TOWNLESS_MAX of them. */
static void add_townless(struct gctx *g, uint32_t lo, uint32_t hi, int hyp, double q,
                         int span_tokens)
{
    enum { TOWNLESS_MAX = 8 };
    for (uint32_t k = lo; k < hi && k < lo + TOWNLESS_MAX && g->v->streets[k].city_key == 0; k++)
        add_cand(g, k, hyp, q, span_tokens);
}

/*
 * The streets of the run of equal keys that starts at first, as candidates of hyp. A name in
 * few localities gives them all. A name in many is narrowed by what the query gives first (the
 * country, then the streets with its postcode and those in a locality it names, through the
 * index's order and its postcode table), so that the work depends on the plausible streets,
 * not on how many towns have a street of that name. When nothing narrows it, a name in up to
 * WIDE_MAX localities gives them all (set aside in g->wide: only if no other street answers
 * the query, see find_candidates); a name in more is truly ambiguous (g->too_wide).
 */
void gc_add_street_run(struct gctx *g, uint32_t first, uint32_t key_hash, int hyp, double q,
                       int span_tokens)
{
    uint32_t lo = first, hi = index_street_run_end(g->ix, first);
    /* an index set's member counts the set's streets of the name (gc_query.set), as far
     * as a decision needs: past NARROW_MIN (unless its own are), then past WIDE_MAX */
    const struct gc_set_lookup *sc = g->q->set;
    const char *key = sc ? ix_str(g->v, g->v->streets[first].key) : NULL;
    size_t klen = key ? strlen(key) : 0;
    uint32_t all = hi - lo;
    if (sc && all <= NARROW_MIN)
        all = sc->count(sc->ctx, key, klen, NULL, NARROW_MIN);
    if (all > NARROW_MIN) {
        if (g->cc[0]) {
            /* streets of unknown country pass any country filter: they sort first, so they
             * are the run's first streets (none when the first has a country) */
            for (uint32_t k = lo;
                 k < hi && !g->v->streets[k].country[0] && !g->v->streets[k].country[1]; k++)
                add_cand(g, k, hyp, q, span_tokens);
            gc_country_span(g->v, g->cc, &lo, &hi);
        }
        int before = g->ncand;
        if (g->pc_run != IX_NONE)
            add_by_postcode(g, lo, hi, hyp, q, span_tokens);
        int by_pc = g->ncand;
        add_by_locality(g, lo, hi, key_hash, hyp, q, span_tokens);
        if (g->ncand > by_pc) /* a town named: so may be the streets the data gives none */
            add_townless(g, lo, hi, hyp, q, span_tokens);
        if (g->ncand > before)
            return;
        uint32_t named = sc ? sc->count(sc->ctx, key, klen, g->cc[0] ? g->cc : NULL, WIDE_MAX)
                         : g->cc[0] ? hi - lo
                                    : all;
        if (named > WIDE_MAX) {
            g->too_wide = true;
            return;
        }
        if (g->nwide < MAX_WIDE) {
            g->wide[g->nwide++] = (struct wide_run){lo, hi, hyp, span_tokens, q};
            return;
        }
    }
    for (uint32_t k = lo; k < hi; k++)
        add_cand(g, k, hyp, q, span_tokens);
}

void gc_add_wide_runs(struct gctx *g)
{
    for (int i = 0; i < g->nwide; i++) {
        const struct wide_run *w = &g->wide[i];
        for (uint32_t k = w->lo; k < w->hi; k++)
            add_cand(g, k, w->hyp, w->q, w->span_tokens);
    }
    g->nwide = 0;
}

struct hyp *gc_new_hyp(struct gctx *g)
{
    if (g->nhyp >= MAX_HYP)
        return NULL;
    struct hyp *h = &g->hyp[g->nhyp];
    memset(h, 0, offsetof(struct hyp, runs)); /* runs are read up to n_runs, written first */
    h->n_towns = -1;
    h->span_i = h->span_j = -1;
    h->num_tok = h->num_end = -1;
    return h;
}

/* Whether token k is a house-number prefix (memo == g->tok_prefix: norm_hnum_prefix) or a unit
 * word (g->tok_unit: norm_unit_word), read once per query: 0 not yet, 1 no, 2 yes. */
static bool tok_is(struct gctx *g, uint8_t *memo, int k)
{
    if (!memo[k]) {
        bool yes = memo == g->tok_prefix ? norm_words_hnum_prefix(&g->words, k)
                                         : norm_unit_word(g->tok[k].s, g->tok[k].len);
        memo[k] = yes ? 2 : 1;
    }
    return memo[k] == 2;
}

/* The value of token k when it is digits alone, else -1. */
static long plain_number(const struct gctx *g, int k)
{
    const struct token *t = &g->tok[k];
    long v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (!isdigit((unsigned char)t->s[i]) || i >= 6)
            return -1;
        v = v * 10 + (t->s[i] - '0');
    }
    return t->len ? v : -1;
}

/* Whether tokens a and b (a < b) are the two ends of a range of house numbers written apart:
 * "329 - 331", "329 – 331", "329 & 331" (the dash is no token: a dash ends a part), the
 * second above the first by at most 100. */
static bool range_apart(const struct gctx *g, int a, int b)
{
    long x = plain_number(g, a), y = plain_number(g, b);
    if (x < 0 || y <= x || y - x > 100 || g->tok[a].used || g->tok[b].used)
        return false;
    if (b == a + 2)
        return g->tok[a + 1].len == 1 && g->tok[a + 1].s[0] == '&' && !g->tok[a + 1].used &&
               !g->tok[a].comma_after && !g->tok[a + 1].comma_after;
    if (b != a + 1)
        return false;
    const char *p = g->tok[a].s + g->tok[a].len, *e = g->tok[b].s;
    while (p < e && *p == ' ')
        p++;
    while (e > p && e[-1] == ' ')
        e--;
    return word_dash(p, (size_t)(e - p));
}

/* The house-number token for a street span: adjacent first (the one before the street when
 * the one after is in a part of its own, or in English, where the number comes first: "11 New
 * Square, 4", "327 Fulton St 4"), else the first free number. */
void gc_pick_number(struct gctx *g, struct hyp *h)
{
    int best = -1;
    bool after = h->span_j < g->ntok && g->tok[h->span_j].numlike && !g->tok[h->span_j].used;
    bool before = h->span_i > 0 && g->tok[h->span_i - 1].numlike && !g->tok[h->span_i - 1].used;
    if (after && before && !g->tok[h->span_i - 1].comma_after &&
        (g->tok[h->span_j - 1].comma_after || gc_reads_english(g)) &&
        !range_apart(g, h->span_i - 1, h->span_j))
        best = h->span_i - 1;
    else if (after)
        best = h->span_j;
    else if (before)
        best = h->span_i - 1;
    else
        for (int k = 0; k < g->ntok && best < 0; k++)
            if (g->tok[k].numlike && !g->tok[k].used && (k < h->span_i || k >= h->span_j))
                best = k;
    if (best < 0)
        return;
    /* A fraction is the end of the number before it: "226 1/2 Cleveland Avenue" */
    if (best > 0 && is_fraction(&g->tok[best]) && g->tok[best - 1].numlike &&
        !g->tok[best - 1].used && !g->tok[best - 1].comma_after &&
        (best - 1 < h->span_i || best - 1 >= h->span_j))
        best--;
    /* A word before it that only announces it: "Nr. 12", "ev. 12" (a Czech evidence number,
     * a series of its own), "č.p. 1075". */
    int start = best;
    if (start > 0 && (start - 1 < h->span_i || start - 1 >= h->span_j) && !g->tok[start - 1].used &&
        !g->tok[start - 1].numlike && tok_is(g, g->tok_prefix, start - 1))
        start--;
    /* a range written apart: "329 - 331 Railway Avenue", "Hauptstraße 12 & 14" */
    for (int a = best - 1; a >= best - 2 && a >= 0 && start == best; a--)
        if ((best < h->span_i || a >= h->span_j) && range_apart(g, a, best))
            start = a;
    int range_end = -1;
    for (int b = best + 1; b <= best + 2 && start == best && range_end < 0; b++)
        if (b < g->ntok && (b < h->span_i || best >= h->span_j) && range_apart(g, best, b))
            range_end = b + 1;
    /* What follows the number and belongs to it: a single letter ("12 a"), a fraction ("226
     * 1/2"), unit text after a slash ("13/Top 3"), or a unit word and its number ("12 Apt 3",
     * "12 #3"). */
    int end = best + 1;
    const struct token *t = &g->tok[best];
    if (range_end > 0)
        end = range_end;
    else if (end < g->ntok && end != h->span_i && !t->comma_after &&
             ((g->tok[end].len == 1 && isalpha((unsigned char)g->tok[end].s[0])) ||
              number_suffix(g, end) || is_fraction(&g->tok[end])))
        end++;
    else if (memchr(t->s, '/', t->len) && !isdigit((unsigned char)t->s[t->len - 1]) &&
             end < g->ntok && end != h->span_i && g->tok[end].numlike)
        end++;
    else if (end < g->ntok && end != h->span_i &&
             (g->tok[end].s[0] == '#' || tok_is(g, g->tok_unit, end))) {
        end++;
        if (g->tok[end - 1].len == 1 && end < g->ntok && end != h->span_i && g->tok[end].numlike)
            end++; /* "#" "3" */
        else if (g->tok[end - 1].s[0] != '#' && end < g->ntok && end != h->span_i &&
                 (g->tok[end].numlike || g->tok[end].len <= 3))
            end++; /* "Apt" "3" */
    }
    const char *s = g->tok[start].s;
    size_t n = (size_t)(g->tok[end - 1].s + g->tok[end - 1].len - s);
    if (g->hn_memo_end != end || g->hn_memo_start != start) { /* hypotheses share numbers */
        g->hn_memo_start = (int8_t)start;
        g->hn_memo_end = (int8_t)end;
        g->hn_memo_ok = norm_hnum(s, n, &g->hn_memo) == 0 && g->hn_memo.number >= 0;
    }
    if (g->hn_memo_ok) {
        h->num_tok = start;
        h->num_end = end;
        h->has_hn = true;
        h->hn = g->hn_memo;
        h->hn_raw = s;
        h->hn_len = n;
    }
}

/* The memo's copy of the key of tokens [i, j) (made if need be), or NULL when the memo has
 * no room for it; *kl its length, 0 for an empty key. */
static const char *span_key_ref(struct gctx *g, int i, int j, size_t *kl)
{
    char key[KEY_MAX];
    *kl = gc_span_key(g, i, j, key, sizeof(key));
    if (j - i > MAX_SPAN || !(g->memo_known[i] >> (j - i - 1) & 1))
        return NULL;
    return g->memo_pool + g->memo_off[i][j - i - 1];
}

/* The street spans of free text (gc_parse_free, gc_longest_street): runs of up to MAX_SPAN
 * tokens, none past a comma (a street's name holds none), that start with a word. When the
 * text holds several numbers, a span may hold numbers after that word: "Rua 31 de Janeiro
 * 174", "Avenue du 8 Mai 1945 3", "Route 66 12" (the house number is then the number next to
 * it); a lone number is the house's. */
static int free_numbers(const struct gctx *g)
{
    int numbers = 0;
    for (int i = 0; i < g->ntok; i++)
        numbers += g->tok[i].numlike && !g->tok[i].used;
    return numbers;
}

/* Whether a span of free text may start at token i. */
static bool span_starts(const struct gctx *g, int i)
{
    return !g->tok[i].used && !g->tok[i].numlike;
}

/* Whether a span may go on to token j - 1 (numbers: free_numbers). */
static bool span_takes(const struct gctx *g, int j, int numbers)
{
    return !g->tok[j - 1].used && !(g->tok[j - 1].numlike && numbers < 2);
}

int gc_longest_street(struct gctx *g, const char *cc)
{
    int numbers = free_numbers(g), best = 0;
    for (int i = 0; i < g->ntok; i++) {
        if (!span_starts(g, i))
            continue;
        for (int j = i + 1; j <= g->ntok && j - i <= MAX_SPAN && span_takes(g, j, numbers); j++) {
            char key[KEY_MAX];
            int kl = 0;
            if (j - i > best) /* the parse's reading from its memo */
                kl = cc == g->cc_arg ? (int)gc_span_key(g, i, j, key, sizeof(key))
                                     : norm_words_key(&g->words, i, j, cc, key, sizeof(key));
            if (kl > 0 && index_street_first(g->ix, key, (size_t)kl) != IX_NONE)
                best = j - i;
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
    return best;
}

/* Whether a street of the span [i, j) could be confirmed: the query has a postcode, or a word
 * outside the span that could name its town. (Else the inner spans would wait in vain.) */
static bool may_confirm(const struct gctx *g, int i, int j)
{
    if (g->has_pc)
        return true;
    for (int k = 0; k < g->ntok; k++)
        if ((k < i || k >= j) && !g->tok[k].used && !g->tok[k].numlike)
            return true;
    return false;
}

void gc_parse_free(struct gctx *g, const char *text)
{
    tokenize(g, text);
    set_aside_parts(g);
    find_postcode_and_country(g);
    /* Exact street spans (span_starts, span_takes). Every span is looked up first, all
     * together (index_street_first_many overlaps their reads, which at country size miss the
     * cache), then taken in order. */
    enum { NSPAN = MAX_TOKENS * MAX_SPAN };
    struct {
        uint8_t i, j;
        int16_t batch;  /* its lookup in the batch, or -1 when looked up alone */
        uint32_t first; /* the lookup's answer when alone; then every found span's */
        uint32_t hash;  /* ... and its key's ix_key_hash() */
    } span[NSPAN];
    const char *keys[NSPAN];
    size_t lens[NSPAN];
    uint32_t found[NSPAN], hashes[NSPAN];
    int ns = 0, nb = 0, numbers = free_numbers(g);
    for (int i = 0; i < g->ntok; i++) {
        if (!span_starts(g, i))
            continue;
        for (int j = i + 1; j <= g->ntok && j - i <= MAX_SPAN && span_takes(g, j, numbers); j++) {
            size_t kl;
            const char *k = span_key_ref(g, i, j, &kl);
            if (kl > 0) {
                span[ns].i = (uint8_t)i;
                span[ns].j = (uint8_t)j;
                span[ns].batch = -1;
                if (k) { /* in the memo: batched */
                    keys[nb] = k;
                    lens[nb] = kl;
                    span[ns].batch = (int16_t)nb++;
                } else {
                    char key[KEY_MAX];
                    kl = gc_span_key(g, i, j, key, sizeof(key));
                    span[ns].first = index_street_first(g->ix, key, kl);
                    if (span[ns].first != IX_NONE) /* only a found span's is asked for */
                        span[ns].hash = ix_key_hash(key, kl);
                }
                ns++;
            }
            if (g->tok[j - 1].comma_after)
                break;
        }
    }
    index_street_first_many(g->ix, keys, lens, (size_t)nb, found, hashes);
    /* each found name's run end is looked for (index_street_run_end) while its hypothesis is
     * made: the lines it gallops over are asked for now, all names together */
    for (int x = 0; x < nb; x++)
        if (found[x] != IX_NONE)
            index_street_run_prefetch(g->ix, found[x]);
    int nf = 0;
    for (int x = 0; x < ns; x++) { /* the spans that name a street, first of their run */
        int b = span[x].batch;
        uint32_t first = b >= 0 ? found[b] : span[x].first;
        if (first != IX_NONE) {
            span[nf] = span[x];
            span[nf].first = first;
            if (b >= 0)
                span[nf].hash = hashes[b];
            nf++;
        }
    }
    for (int x = 0; x < nf; x++) {
        uint32_t first = span[x].first;
        struct hyp *h = gc_new_hyp(g);
        if (!h)
            break; /* MAX_HYP: no later span can have one either */
        h->span_i = span[x].i;
        h->span_j = span[x].j;
        h->first = first;
        h->first_hash = span[x].hash;
        gc_pick_number(g, h);
        gc_leftover_runs(g, h);
        /* A span inside another exact span ("Obereggastrasse" in "Bamo Obereggastrasse")
         * waits: at country size its name is often in hundreds of towns, which the query's
         * towns and postcode narrow at a cost, and the longer name usually answers. Its
         * streets become candidates only where the longer spans' answers leave room for them
         * (find_candidates, forward: gc_add_inner_spans), so the answers are those of taking
         * every span at once. Not in the street field of a structured query. */
        for (int y = 0; y < nf && !h->inner && !g->structured; y++)
            h->inner = y != x && span[y].i <= span[x].i && span[y].j >= span[x].j &&
                       may_confirm(g, span[y].i, span[y].j);
        if (h->inner)
            g->ninner++;
        else
            gc_add_street_run(g, first, h->first_hash, g->nhyp, 1.0, span[x].j - span[x].i);
        g->nhyp++;
    }
}

void gc_add_inner_spans(struct gctx *g)
{
    g->ncand = g->cand_from = 0;
    g->bounds_known = false;
    memset(g->cand_set, 0, sizeof(g->cand_set));
    g->nwide = 0;
    g->too_wide = false;
    g->ninner = 0;
    g->refused = false;
    for (int k = 0; k < g->nhyp; k++) {
        struct hyp *h = &g->hyp[k];
        assert(h->span_i >= 0); /* exact spans of free text only: no other hypothesis yet */
        h->inner = false;
        gc_add_street_run(g, h->first, h->first_hash, k, 1.0, h->span_j - h->span_i);
    }
}

void gc_parse_structured(struct gctx *g)
{
    const struct gc_query *q = g->q;
    struct hyp *h = gc_new_hyp(g);
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
    if (!is_blank(q->state)) { /* a region qualifier, as "Sunnyvale, CA" is in free text */
        g->nregion = norm_region(q->state, strlen(q->state), g->cc[0] ? g->cc : NULL, g->region,
                                 MAX_REGIONS);
        if (g->nregion == 1 && !g->cc[0]) {
            memcpy(g->cc, g->region[0].country, 3);
            g->cc_arg = g->cc;
        }
        if (g->nregion == 1 && to_territory(g, g->region[0].code))
            g->nregion = 0; /* state PR, country USA: the territory is the country */
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
            run_unasked(r);
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
        if (co_running) { /* the run's first street, whose length gc_add_street_run reads */
            index_street_run_prefetch(g->ix, first);
            co_pass();
        }
        gc_add_street_run(g, first, ix_key_hash(key, (size_t)kl), 0, 1.0, 1);
        return;
    }
    if (!h->has_hn) {
        /* "Grasgarten 15" in the street field: read it as free text within this query */
        struct gctx *sub = g;
        int saved_nhyp = g->nhyp;
        sub->nhyp = 1;
        gc_parse_free(sub, q->street);
        /* copy the structured locality runs onto the free hypotheses that have none */
        for (int i = 1; i < g->nhyp; i++)
            if (g->hyp[i].n_runs == 0) {
                memcpy(g->hyp[i].runs, h->runs, sizeof(h->runs));
                g->hyp[i].n_runs = h->n_runs;
            }
        if (g->ncand > 0 || g->nwide > 0)
            return;
        g->nhyp = saved_nhyp;
    }
    gc_fuzzy_streets(g, key, (size_t)kl, 0, 1);
    gc_typed_streets(g, key, (size_t)kl, 0, 1);
}

/* Words of a name as the normaliser splits them (runs of letters and digits; an apostrophe
 * joins), counted roughly: enough to see that two wordings have the same words. */
static int count_words(const char *s, size_t n)
{
    int w = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool part = isalnum(c) || c >= 0x80 || c == '\'';
        w += part && !in;
        in = part;
    }
    return w;
}

double gc_street_quality(struct gctx *g, const struct cand *c)
{
    if (c->street_q < 1 || c->hyp < 0 || c->hyp >= g->nhyp)
        return c->street_q;
    const struct hyp *h = &g->hyp[c->hyp];
    const char *qs;
    size_t qn;
    if (h->span_i >= 0 && h->span_j > h->span_i) {
        qs = g->tok[h->span_i].s;
        qn = (size_t)(g->tok[h->span_j - 1].s + g->tok[h->span_j - 1].len - qs);
    } else if (!is_blank(g->q->street)) {
        qs = g->q->street;
        qn = strlen(qs);
    } else {
        return c->street_q;
    }
    const char *name = ix_str(g->v, g->v->streets[c->street].name);
    size_t nn = strlen(name);
    if (count_words(qs, qn) == count_words(name, nn))
        return c->street_q; /* same words, then no optional one is missing (the quick case) */
    char a[KEY_MAX], b[KEY_MAX];
    int la = norm_key_all(qs, qn, g->cc_arg, a, sizeof(a));
    int lb = norm_key_all(name, nn, g->cc_arg, b, sizeof(b));
    if (la <= 0 || lb <= 0 || (la == lb && memcmp(a, b, (size_t)la) == 0))
        return c->street_q;
    return c->street_q * GC_WEIGHTS.optional_words;
}
