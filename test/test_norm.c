/*
 * test_norm.c - the normaliser: golden cases (test/cases/norm.tsv, hnum.tsv, country.tsv),
 * list loading and its errors, limits, spelling variants of the real street names in
 * $GB_SHARED/data/openaddresses, concurrent use, and an informational timing line.
 *
 * The tests run in array order in one process: the failing norm_init() calls come first,
 * because a successful norm_init() makes every later call a no-op.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include "base/err.h"
#include "text/norm.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *shared_dir(void)
{
    const char *s = getenv("GB_SHARED");
    return s && *s ? s : "../shared";
}

static const char *tmp_dir(void)
{
    const char *s = getenv("GB_TMP");
    return s && *s ? s : "/tmp";
}

/* ---- loading ---- */

static void test_init_errors(void **state)
{
    (void)state;
    assert_int_equal(norm_init("/nonexistent/geobatch-dict"), -ENOENT);

    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/norm-dict-XXXXXX", tmp_dir());
    assert_non_null(mkdtemp(dir));
    char path[4200];
    snprintf(path, sizeof(path), "%s/en.txt", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("# a comment\nst\tstreet\tlast\n\nave\tavenue\tsomewhere\n", fp);
    fclose(fp);
    assert_int_equal(norm_init(dir), GB_EFORMAT);

    /* A rule with too few fields is refused too. */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("st street last\n", fp);
    fclose(fp);
    assert_int_equal(norm_init(dir), GB_EFORMAT);

    /* $GB_DICT_DIR overrides the compiled-in directory when dir is NULL. */
    setenv("GB_DICT_DIR", "/nonexistent/geobatch-dict", 1);
    assert_int_equal(norm_init(NULL), -ENOENT);
    unsetenv("GB_DICT_DIR");
    remove(path);
    rmdir(dir);
}

static void test_init_ok(void **state)
{
    (void)state;
    assert_int_equal(norm_init(NULL), 0);
    assert_int_equal(norm_init(NULL), 0);
    assert_int_equal(norm_init("/nonexistent/geobatch-dict"), 0); /* loaded: a no-op */
}

/* ---- golden cases ---- */

static void test_norm_cases(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "norm.tsv");
    while (tsv_next(&t, 4)) {
        char **f = t.col;
        const char *cc = strcmp(f[1], "-") == 0 ? NULL : f[1];
        char name[NORM_MAX], key[NORM_MAX];
        int rn = norm_name(f[0], strlen(f[0]), cc, name, sizeof(name));
        int rk = norm_key(f[0], strlen(f[0]), cc, key, sizeof(key));
        if (rn != (int)strlen(f[2]) || strcmp(name, f[2]) != 0 || rk != (int)strlen(f[3]) ||
            strcmp(key, f[3]) != 0)
            tsv_fail(&t, "[%s] %s: got [%s] [%s] (%d %d), want [%s] [%s]", f[0], f[1],
                     rn >= 0 ? name : "ERR", rk >= 0 ? key : "ERR", rn, rk, f[2], f[3]);
    }
    printf("norm.tsv: %d cases\n", t.ncases);
    tsv_close(&t, 150);
}

static void test_hnum_cases(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "hnum.tsv");
    while (tsv_next(&t, 8)) {
        char **f = t.col;
        struct hnum h;
        memset(&h, 0x5a, sizeof(h));
        int rc = norm_hnum(f[0], strlen(f[0]), &h);
        bool ok;
        if (strcmp(f[1], "EPARAM") == 0) {
            ok = rc == GB_EPARAM;
        } else {
            const char *suf = strcmp(f[4], "-") ? f[4] : "";
            const char *suf2 = strcmp(f[5], "-") ? f[5] : "";
            const char *unit = strcmp(f[6], "-") ? f[6] : "";
            ok = rc == 0 && h.number == strtol(f[2], NULL, 10) &&
                 h.number2 == strtol(f[3], NULL, 10) && strcmp(h.suffix, suf) == 0 &&
                 strcmp(h.suffix2, suf2) == 0 && strcmp(h.unit, unit) == 0 &&
                 h.is_range == (strcmp(f[7], "range") == 0) &&
                 h.is_slash == (strcmp(f[7], "slash") == 0) &&
                 h.is_evidence == (strcmp(f[7], "evidence") == 0);
        }
        if (!ok)
            tsv_fail(&t,
                     "[%s]: rc=%d number=%ld number2=%ld suffix=[%s] suffix2=[%s] unit=[%s] "
                     "range=%d slash=%d",
                     f[0], rc, rc ? 0 : h.number, rc ? 0 : h.number2, rc ? "" : h.suffix,
                     rc ? "" : h.suffix2, rc ? "" : h.unit, rc ? 0 : h.is_range,
                     rc ? 0 : h.is_slash);
    }
    tsv_close(&t, 40);
}

static void test_country_cases(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "country.tsv");
    while (tsv_next(&t, 4)) {
        char **f = t.col;
        const char *c = norm_country(f[0], strlen(f[0]));
        const char *want = strcmp(f[1], "-") ? f[1] : NULL;
        bool ok;
        if (!want)
            ok = c == NULL;
        else
            ok = c && strcmp(c, want) == 0 && strcmp(norm_country_iso3(c), f[2]) == 0 &&
                 strcmp(norm_country_name(c), f[3]) == 0;
        if (!ok)
            tsv_fail(&t, "[%s]: got %s", f[0], c ? c : "NULL");
    }
    tsv_close(&t, 40);
}

/* Every country is found by its codes (any case) and its English name. */
static void test_country_all(void **state)
{
    (void)state;
    int found = 0;
    for (char a = 'A'; a <= 'Z'; a++) {
        for (char b = 'A'; b <= 'Z'; b++) {
            char cc[3] = {a, b, 0};
            const char *a3 = norm_country_iso3(cc);
            if (!a3) {
                assert_null(norm_country_name(cc));
                assert_null(norm_country_langs(cc));
                continue;
            }
            found++;
            const char *name = norm_country_name(cc);
            assert_non_null(name);
            assert_non_null(norm_country_langs(cc));
            char lower[4] = {(char)(a3[0] | 0x20), (char)(a3[1] | 0x20), (char)(a3[2] | 0x20), 0};
            const char *r1 = norm_country(cc, 2);
            const char *r2 = norm_country(lower, 3);
            const char *r3 = norm_country(name, strlen(name));
            assert_non_null(r1);
            assert_non_null(r2);
            assert_non_null(r3);
            assert_string_equal(r1, cc);
            assert_string_equal(r2, cc);
            if (strcmp(r3, cc) != 0)
                fail_msg("name %s of %s gives %s", name, cc, r3);
        }
    }
    assert_int_equal(found, 250); /* 249 ISO 3166-1 entries and XK */
    assert_string_equal(norm_country_langs("CH"), "de fr it");
    assert_string_equal(norm_country_langs("li"), "de");
    assert_string_equal(norm_country_langs("CZ"), "cs");
    assert_string_equal(norm_country_langs("US"), "en");
    assert_string_equal(norm_country_langs("DK"), "da");
    assert_null(norm_country_iso3("DEU"));
    assert_null(norm_country_iso3(NULL));
    assert_null(norm_country(NULL, 0));
}

/* ---- limits and odd input ---- */

static void test_norm_limits(void **state)
{
    (void)state;
    char out[NORM_MAX];
    /* Exactly fitting output, one byte short, no room at all. */
    assert_int_equal(norm_name("Abc Def", 7, "US", out, 8), 7);
    assert_string_equal(out, "abc def");
    assert_int_equal(norm_name("Abc Def", 7, "US", out, 7), GB_ETOOLONG);
    assert_int_equal(norm_key("Abc Def", 7, "US", out, 7), 6);
    assert_int_equal(norm_name("Abc", 3, "US", out, 0), GB_ETOOLONG);
    /* An expansion that does not fit. */
    assert_int_equal(norm_name("Market St", 9, "US", out, 11), GB_ETOOLONG);
    assert_int_equal(norm_name("Market St", 9, "US", out, 14), 13);

    /* 64 words fit, 65 do not. */
    char many[65 * 2 + 1];
    for (int i = 0; i < 65; i++) {
        many[2 * i] = 'x';
        many[2 * i + 1] = ' ';
    }
    assert_int_equal(norm_name(many, 64 * 2, NULL, out, sizeof(out)), 64 * 2 - 1);
    assert_int_equal(norm_name(many, 65 * 2, NULL, out, sizeof(out)), GB_ETOOLONG);

    /* An input whose output cannot fit NORM_MAX. */
    char *big = malloc(4000);
    assert_non_null(big);
    memset(big, 'a', 4000);
    big[0] = 'b';
    for (int i = 1; i < 4000; i += 2)
        big[i] = 'r';
    assert_int_equal(norm_name(big, 4000, NULL, out, sizeof(out)), GB_ETOOLONG);
    free(big);

    /* Invalid UTF-8 is dropped, not a boundary; an empty name gives 0. */
    assert_int_equal(norm_name("Stra\xff\xfesse", 9, "DE", out, sizeof(out)), 7);
    assert_string_equal(out, "strasse");
    assert_int_equal(norm_name("\xc3", 1, "DE", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(norm_name("", 0, NULL, out, sizeof(out)), 0);
    /* Only len bytes are read. */
    assert_int_equal(norm_name("Main Street", 4, "US", out, sizeof(out)), 4);
    assert_string_equal(out, "main");
}

/* ---- norm_words: the same keys from words folded once ---- */

/* Split text into words as the geocoder's tokenizer does (white space, ',', ';', and a glued
 * number starts a word: "Hauptstr.5", "Grasgarten15"), add them to w, and check that every span
 * of words gives norm_key(), norm_fold() without spaces and norm_country() of its text, for
 * the output capacities in caps. Return the spans checked. */
static int prefixes; /* words that check_words found to be house-number prefixes */

static int check_words(struct norm_words *w, const char *text, const char *country)
{
    const char *ws[NORM_WORDS_MAX + 8];
    size_t wl[NORM_WORDS_MAX + 8];
    int n = 0;
    for (const char *p = text; *p && n < NORM_WORDS_MAX + 8;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != ';' && *p != '\n' &&
               !norm_word_glued(s, p))
            p++;
        ws[n] = s;
        wl[n++] = (size_t)(p - s);
    }
    norm_words_reset(w);
    int added = 0;
    for (int i = 0; i < n; i++) {
        int r = norm_words_add(w, ws[i], wl[i]);
        if (i < NORM_WORDS_MAX) {
            assert_int_equal(r, i);
            added++;
        } else
            assert_int_equal(r, GB_ETOOLONG);
    }
    assert_int_equal(w->nword, added);
    static const size_t caps[] = {NORM_MAX, 256, 12, 5, 1, 0};
    int spans = 0;
    for (int i = 0; i < added; i++)
        for (int j = i + 1; j <= added; j++) {
            size_t len = (size_t)(ws[j - 1] + wl[j - 1] - ws[i]);
            for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
                char want[NORM_MAX], got[NORM_MAX];
                for (int again = 0; again < 2; again++) { /* the second time from the memo */
                    int a = norm_key(ws[i], len, country, want, caps[c]);
                    int b = norm_words_key(w, i, j, country, got, caps[c]);
                    if (a != b || (a >= 0 && strcmp(want, got) != 0))
                        fail_msg("norm_words_key [%.*s] %s cap %zu: %d [%s], want %d [%s]",
                                 (int)len, ws[i], country ? country : "-", caps[c], b,
                                 b >= 0 ? got : "", a, a >= 0 ? want : "");
                }
                int a = norm_fold(ws[i], len, want, caps[c]);
                if (a > 0) { /* what norm_country's lookup reads: no spaces */
                    int k = 0;
                    for (int x = 0; x < a; x++)
                        if (want[x] != ' ')
                            want[k++] = want[x];
                    want[k] = 0;
                    a = k;
                }
                int b = norm_words_fold_nospace(w, i, j, got, caps[c]);
                if (a != b || (a >= 0 && strcmp(want, got) != 0))
                    fail_msg("norm_words_fold_nospace [%.*s] cap %zu: %d [%s], want %d [%s]",
                             (int)len, ws[i], caps[c], b, b >= 0 ? got : "", a, a >= 0 ? want : "");
            }
            prefixes += j == i + 1 && norm_hnum_prefix(ws[i], len);
            if (j == i + 1 && norm_hnum_prefix(ws[i], len) != norm_words_hnum_prefix(w, i))
                fail_msg("norm_words_hnum_prefix [%.*s]: %d", (int)len, ws[i],
                         norm_words_hnum_prefix(w, i));
            const char *ca = norm_country(ws[i], len), *cb = norm_country_words(w, i, j);
            if (ca != cb)
                fail_msg("norm_country_words [%.*s]: %s, want %s", (int)len, ws[i],
                         cb ? cb : "NULL", ca ? ca : "NULL");
            spans++;
        }
    return spans;
}

/* English number words as house numbers: 1 to 99, any case, tens and units with a hyphen. */
static void test_number_words(void **state)
{
    (void)state;
    static const struct {
        const char *w;
        int v;
    } cases[] = {{"One", 1},
                 {"TWO", 2},
                 {"nineteen", 19},
                 {"Twenty", 20},
                 {"Twenty-One", 21},
                 {"ninety-nine", 99},
                 {"Seventy-Seven", 77},
                 {"Twenty-", 0},
                 {"-One", 0},
                 {"Twenty-Ten", 0},
                 {"One-Twenty", 0},
                 {"Once", 0},
                 {"On", 0},
                 {"", 0},
                 {"1", 0},
                 {"Hundred", 0},
                 {"Eins", 0},
                 {"Zwanzig", 0},
                 {"Ten Mile", 0},
                 {"twentytwentytwentytwenty", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (norm_number_word(cases[i].w, strlen(cases[i].w)) != cases[i].v)
            fail_msg("norm_number_word(%s): %d, want %d", cases[i].w,
                     norm_number_word(cases[i].w, strlen(cases[i].w)), cases[i].v);
}

static void test_norm_words(void **state)
{
    (void)state;
    struct norm_words *w = malloc(sizeof(*w));
    assert_non_null(w);
    int spans = 0;
    /* every golden name and country, in its country, in none, and in another */
    struct tsv t;
    tsv_open(&t, "norm.tsv");
    while (tsv_next(&t, 4)) {
        const char *cc = strcmp(t.col[1], "-") ? t.col[1] : NULL;
        spans += check_words(w, t.col[0], cc);
        spans += check_words(w, t.col[0], NULL);
        spans += check_words(w, t.col[0], "CZ");
    }
    tsv_close(&t, 150);
    tsv_open(&t, "country.tsv");
    while (tsv_next(&t, 4))
        spans += check_words(w, t.col[0], NULL);
    tsv_close(&t, 40);
    /* whole addresses, glued numbers, dots and apostrophes at word edges, leading zeros,
     * invalid and truncated UTF-8, multi-word abbreviations and endings across spans */
    static const char *const texts[] = {
        "Hauptstr.5, 91207 Lauf an der Pegnitz, Deutschland",
        "Nr.12 Landstr. 007, St. Gallen Schweiz",
        "č.p.1075 Náměstí Míru 1075/47, 120 00 Praha 2, Czech Republic",
        "1 Dr. Carlton B. Goodlett Pl, San Francisco, CA 94102, United States of America",
        "Rua de Santa Catarina 3 , Porto ; Portugal",
        "d 'Urgell d'Arinsal l’Église . St . Gallen",
        "Carrer de l'Església 3, Sant Julià de Lòria, Andorra",
        "Str . X 'a' `b` ...5 5. .5 Ave.5th",
        "Stra\xff\xfesse \xc3 Mu\xcc\x88ller \xe2\x82 Ærøskøbing ŁÓDŹ",
        "Rosa Allee Rosaallee Noerrebro gade aa ae oe ue",
        "Vorarlberger-Str. St.Gallen a.d. p.za 0 00 007th",
        "ul. Marszałkowska 10/12 m. 4 , Warszawa , Polska",
        "Bahnhofstraße 1 Vaduz FL-9490 Liechtenstein",
        "united states united kingdom czech republic great britain",
        "ev. 12 Nr. 5 No 7 č. p. 3 č.p. 4 ev.č. 5 NR 6 Nº 8 Čís. 9",
        "Grasgarten15 Eschen Hauptstr15a Hauptstraße15-17 Ленина15 Ulica Łódź15 Nr12",
        "A1 SW1A 1AA B52 Haus1 Route66 Strasse007 ab²15 abcd²15 x€.5 ab.²5",
        "1234\xe1\x85\x9f\xe1\x85\x9f\xe1\x85\x9f\xe1\x85\x9f"
        "5 Weg\xe1\x85\x9f"
        "5 Stra\xc3\x9f\xc3"
        "e15",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        spans += check_words(w, texts[i], NULL);
        spans += check_words(w, texts[i], "DE");
        spans += check_words(w, texts[i], "US");
    }
    /* past the limits: more words than NORM_WORDS_MAX, a word of 70 tokens (norm_key's 64),
     * words that together pass NORM_WORDS_TOKS tokens and NORM_WORDS_TEXT bytes */
    char many[NORM_WORDS_MAX * 2 + 20];
    for (size_t i = 0; i + 1 < sizeof(many); i += 2) {
        many[i] = 'x';
        many[i + 1] = ' ';
    }
    many[sizeof(many) - 1] = 0;
    spans += check_words(w, many, NULL);
    char big[2 * NORM_WORDS_TEXT];
    size_t k = 0;
    for (int i = 0; i < 70; i++) { /* one word: "a.a.a...." */
        big[k++] = 'a';
        big[k++] = '.';
    }
    big[k++] = ' ';
    for (int word = 0; word < 3; word++) { /* 3 words of 40 tokens: past NORM_WORDS_TOKS */
        for (int i = 0; i < 40; i++) {
            big[k++] = 'b';
            big[k++] = '-';
        }
        big[k++] = ' ';
    }
    big[k] = 0;
    spans += check_words(w, big, NULL);
    k = 0;
    for (int word = 0; word < 3; word++) { /* 3 words of 900 bytes: past NORM_WORDS_TEXT */
        for (int i = 0; i < 900; i++)
            big[k++] = (char)('b' + i % 3);
        big[k++] = ' ';
    }
    big[k] = 0;
    spans += check_words(w, big, NULL);
    printf("norm_words: %d spans, %d house-number prefixes\n", spans, prefixes);
    assert_true(spans > 5000);
    assert_true(prefixes >= 3 * 8);
    free(w);
}

static void test_norm_fold(void **state)
{
    (void)state;
    char out[NORM_MAX];
    assert_int_equal(norm_fold("St. Gallen-Straße", 18, out, sizeof(out)), 17);
    assert_string_equal(out, "st gallen strasse");
    assert_int_equal(norm_fold("NÆSTVED", 8, out, sizeof(out)), 7);
    assert_string_equal(out, "nastved");
}

/* ---- the real street names: spelling variants must meet ---- */

/* Read CSV field col of a line with quotes; return its length or -1. */
static int csv_field(const char *line, int col, char *out, size_t cap)
{
    int c = 0;
    const char *p = line;
    while (*p && *p != '\n' && *p != '\r') {
        size_t n = 0;
        bool q = *p == '"';
        if (q)
            p++;
        while (*p && (q ? !(*p == '"' && p[1] != '"') : (*p != ',' && *p != '\n'))) {
            if (q && *p == '"')
                p++;
            if (c == col && n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (q && *p == '"')
            p++;
        if (c == col) {
            out[n] = 0;
            return (int)n;
        }
        if (*p == ',')
            p++;
        c++;
    }
    return -1;
}

static bool ends_with(const char *s, const char *suf, size_t *stem)
{
    size_t sl = strlen(s), fl = strlen(suf);
    if (sl <= fl || strcmp(s + sl - fl, suf) != 0)
        return false;
    *stem = sl - fl;
    return true;
}

static void assert_meet(const char *a, const char *b, const char *cc)
{
    char ka[NORM_MAX], kb[NORM_MAX];
    assert_true(norm_key(a, strlen(a), cc, ka, sizeof(ka)) > 0);
    assert_true(norm_key(b, strlen(b), cc, kb, sizeof(kb)) > 0);
    if (strcmp(ka, kb) != 0)
        fail_msg("[%s] and [%s] (%s) do not meet: %s != %s", a, b, cc, ka, kb);
}

/* Replace a trailing type word of an upper-case SF name by the spelled-out form. */
static const char *const sf_types[][2] = {
    {" ST", " Street"}, {" AVE", " Avenue"},     {" PL", " Place"},   {" PLZ", " Plaza"},
    {" DR", " Drive"},  {" BLVD", " Boulevard"}, {" TER", " Terrace"}};

/* The words of data/dict/segment.txt by kind, written as real address blocks write them. */
static void test_segment_words(void **state)
{
    (void)state;
    const struct {
        const char *w;
        unsigned kinds;
    } cases[] = {
        {"c/o", NORM_SEG_RECIPIENT | NORM_SEG_LEGAL},
        {"C/O", NORM_SEG_RECIPIENT | NORM_SEG_LEGAL},
        {"Attn:", NORM_SEG_RECIPIENT},
        {"z. Hd.", NORM_SEG_RECIPIENT},
        {"Herrn", NORM_SEG_RECIPIENT},
        {"A/C", NORM_SEG_RECIPIENT},
        {"à l'attention", NORM_SEG_RECIPIENT},
        {"GmbH", NORM_SEG_LEGAL},
        {"S.L.U.", NORM_SEG_LEGAL},
        {"s.r.o.", NORM_SEG_LEGAL},
        {"Lda.", NORM_SEG_LEGAL},
        {"&", NORM_SEG_LEGAL},
        {"Personalabteilung", NORM_SEG_DEPARTMENT},
        {"Dept.", NORM_SEG_DEPARTMENT},
        {"oddělení", NORM_SEG_DEPARTMENT},
        {"OG", NORM_SEG_UNIT},
        {"étage", NORM_SEG_UNIT},
        {"Esq.", NORM_SEG_UNIT},
        {"r/c", NORM_SEG_UNIT},
        {"Bât.", NORM_SEG_UNIT},
        {"Stiege", NORM_SEG_UNIT},
        {"#", NORM_SEG_UNIT},
        {"CEDEX", NORM_SEG_POSTAL},
        {"Hauptstrasse", 0},
        {"Vaduz", 0},
        {"abteilung", NORM_SEG_DEPARTMENT},
        {"teilung", 0}, /* only the whole ending */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned got = norm_segment_word(cases[i].w, strlen(cases[i].w));
        if (got != cases[i].kinds)
            fail_msg("%s: kinds %u, want %u", cases[i].w, got, cases[i].kinds);
    }
}

static void test_data_variants(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *cc;
    } sets[] = {{"li-liechtenstein-2026.csv", "LIE"},
                {"de-lauf-2020.csv", "DEU"},
                {"cz-prague-ne-2020.csv", "CZE"},
                {"us-ca-san-francisco-excerpt.csv", "USA"}};
    int checked = 0;
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/data/openaddresses/%s", shared_dir(), sets[s].file);
        FILE *fp = fopen(path, "r");
        if (!fp)
            fail_msg("cannot open %s", path);
        char *line = NULL;
        size_t cap = 0;
        char street[512], var[600], prev[512] = "";
        bool header = true;
        while (getline(&line, &cap, fp) >= 0) {
            if (header) {
                header = false;
                continue;
            }
            if (csv_field(line, 3, street, sizeof(street)) <= 0 || strcmp(street, prev) == 0)
                continue;
            memcpy(prev, street, sizeof(prev));
            size_t stem;
            char out[NORM_MAX];
            assert_true(norm_key(street, strlen(street), sets[s].cc, out, sizeof(out)) > 0);
            if (ends_with(street, "strasse", &stem) || ends_with(street, "straße", &stem)) {
                snprintf(var, sizeof(var), "%.*sstr.", (int)stem, street);
                assert_meet(street, var, sets[s].cc);
                checked++;
            } else if (ends_with(street, "gasse", &stem)) {
                snprintf(var, sizeof(var), "%.*sg.", (int)stem, street);
                assert_meet(street, var, sets[s].cc);
                checked++;
            }
            if (strcmp(sets[s].cc, "CZE") == 0 && !strchr(street, ';')) {
                snprintf(var, sizeof(var), "ul. %s", street);
                assert_meet(street, var, sets[s].cc);
                checked++;
            }
            if (strcmp(sets[s].cc, "USA") == 0) {
                for (size_t t = 0; t < sizeof(sf_types) / sizeof(sf_types[0]); t++) {
                    if (ends_with(street, sf_types[t][0], &stem)) {
                        snprintf(var, sizeof(var), "%.*s%s", (int)stem, street, sf_types[t][1]);
                        assert_meet(street, var, sets[s].cc);
                        checked++;
                    }
                }
            }
            /* Lower case without accents must meet too. */
            assert_meet(street, out, sets[s].cc);
        }
        free(line);
        fclose(fp);
    }
    printf("data variants checked: %d\n", checked);
    assert_true(checked > 500);
}

/* ---- threads and speed ---- */

struct worker {
    const char *name;
    const char *want;
    int bad;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    char out[NORM_MAX];
    for (int i = 0; i < 20000; i++) {
        if (norm_key(w->name, strlen(w->name), "DEU", out, sizeof(out)) < 0 ||
            strcmp(out, w->want) != 0)
            w->bad++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct worker w[2] = {{"Stühleinshöhstr.", "stuhleinshohstrasse", 0},
                          {"Lauf a.d.Pegnitz", "laufpegnitz", 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(w[0].bad, 0);
    assert_int_equal(w[1].bad, 0);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Information only: no assertion on time. */
static void test_timing(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *cc;
    } names[] = {{"Hans-Sachs-Str.", "DEU"}, {"McAllister Street", "USA"},
                 {"ul. Modřínová", "CZE"},   {"Vorarlberger-Strasse", "LIE"},
                 {"Nørrebrogade 12", "DK"},  {"Avenue des Champs-Élysées", "FR"}};
    char out[NORM_MAX];
    const int rounds = 50000;
    int sum = 0;
    double t0 = now_ns();
    for (int i = 0; i < rounds; i++)
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            sum += norm_key(names[k].name, strlen(names[k].name), names[k].cc, out, sizeof(out));
    double t1 = now_ns();
    struct hnum h;
    for (int i = 0; i < rounds; i++)
        sum += norm_hnum("808/1, byt 3", 12, &h);
    double t2 = now_ns();
    for (int i = 0; i < rounds; i++)
        sum += norm_country("Deutschland", 11) != NULL;
    double t3 = now_ns();
    assert_true(sum > 0);
    printf("timing (information): norm_key %.0f ns/name (avg %zu names, ~18 bytes), "
           "norm_hnum %.0f ns, norm_country(name) %.0f ns\n",
           (t1 - t0) / (rounds * (double)(sizeof(names) / sizeof(names[0]))),
           sizeof(names) / sizeof(names[0]), (t2 - t1) / rounds, (t3 - t2) / rounds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_errors),   cmocka_unit_test(test_init_ok),
        cmocka_unit_test(test_norm_cases),    cmocka_unit_test(test_hnum_cases),
        cmocka_unit_test(test_country_cases), cmocka_unit_test(test_country_all),
        cmocka_unit_test(test_norm_limits),   cmocka_unit_test(test_norm_fold),
        cmocka_unit_test(test_norm_words),    cmocka_unit_test(test_data_variants),
        cmocka_unit_test(test_number_words),  cmocka_unit_test(test_threads),
        cmocka_unit_test(test_segment_words), cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
