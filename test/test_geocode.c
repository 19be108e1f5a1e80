/*
 * test_geocode.c - the geocoder against indexes built from the real data in $GB_SHARED/data,
 * written by someone who did not write the geocoder.
 *
 * Forward cases are golden rows in test/cases/geocode_<set>.tsv; each set names the data file
 * its index is built from (see SETS below). Expected values come from the data itself (the
 * OpenAddresses CSV derived from the same OSM extract), never from geocoder output. A row whose
 * id starts with "BUG:" is a known defect: it is reported but does not fail the suite, and it is
 * reported loudly if it starts to pass (so the mark can be removed).
 *
 * Columns (tab-separated; "-" means empty / expect empty, "*" means not checked; several
 * accepted values are separated by "|"):
 *   id searchText street houseNumber postalCode city country maxresults
 *   n level type code street houseNumber city postalCode lat lon tolerance_m
 * n is the expected number of candidates: a number, ">1", or "*".
 * Reverse geocoding cases are in this file (test_reverse_*).
 */
#include "base/err.h"
#include "geocode/geocode.h"
#include "import/import.h"
#include "index/index.h"
#include "base/log.h"
#include "text/norm.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_util.h"

#define NCOLS 19

struct set {
    const char *name;    /* geocode_<name>.tsv */
    const char *data[3]; /* under $GB_SHARED/data, one index of them all */
    struct index *ix;
};

static struct set SETS[] = {
    {"li", {"osm/liechtenstein-2026-03-29.osm.pbf"}, NULL},
    {"prague", {"osm/prague-small-2020-01.osm.pbf"}, NULL},
    /* OpenAddresses rows without CITY (8,077 of 8,233): towns only through the postcodes */
    {"prague_oa", {"openaddresses/cz-prague-ne-2020.csv"}, NULL},
    {"lauf", {"osm/lauf-2020-01-15.osm.pbf"}, NULL},
    {"sf", {"openaddresses/us-ca-san-francisco-excerpt.csv"}, NULL},
    {"andorra", {"osm/valhalla-docker-andorra-latest.osm.pbf"}, NULL},
    {"porto", {"osm/valhalla-bench-porto.osm.pbf"}, NULL},
    {"monaco", {"osm/nominatim-monaco-latest.osm.pbf"}, NULL},
    {"tiger", {"tiger/tiger-01001-autauga-al.csv"}, NULL},
    {"baltimore", {"osm/valhalla-baltimore.osm.pbf"}, NULL},
    {"london", {"osm/valhalla-bench-london.osm.pbf"}, NULL},
    {"munich", {"osm/valhalla-bench-munchen.osm.pbf"}, NULL},
    {"dreieich", {"osm/brouter-dreieich.osm.gz"}, NULL},
    /* one main country (at least 80 % of the addresses: gc_main_country) and another */
    {"li_sf",
     {"osm/liechtenstein-2026-03-29.osm.pbf", "openaddresses/us-ca-san-francisco-excerpt.csv"},
     NULL},
    {"prague_monaco",
     {"osm/prague-small-2020-01.osm.pbf", "osm/nominatim-monaco-latest.osm.pbf"},
     NULL},
};
#define NSETS (sizeof(SETS) / sizeof(SETS[0]))

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Import the data files (up to a NULL) into one index at GB_TMP/geocode-<name>.gbx and open
 * it. */
static struct index *build(const char *name, const char *const *data)
{
    char in[1024], out[1024], err[512] = "";
    snprintf(out, sizeof(out), "%s/geocode-%s.gbx", env_or("GB_TMP", "/tmp"), name);
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    for (; *data; data++) {
        snprintf(in, sizeof(in), "%s/data/%s", env_or("GB_SHARED", "../shared"), *data);
        enum import_format fmt;
        assert_int_equal(import_detect(in, &fmt), 0);
        assert_int_equal(index_builder_add_source(b, in, (int)fmt), 0);
        struct rec_sink sink = index_builder_sink(b);
        struct import_stats st;
        memset(&st, 0, sizeof(st));
        int rc = import_file(in, fmt, &sink, &st, err, sizeof(err));
        if (rc < 0)
            fail_msg("import %s: %s", in, err);
    }
    int rc = index_builder_write(b, out, err, sizeof(err));
    if (rc < 0)
        fail_msg("write %s: %s", out, err);
    index_builder_free(b);
    struct index *ix = NULL;
    rc = index_open(&ix, out, err, sizeof(err));
    if (rc < 0)
        fail_msg("open %s: %s", out, err);
    return ix;
}

static struct index *set_index(const char *name)
{
    for (size_t i = 0; i < NSETS; i++)
        if (strcmp(SETS[i].name, name) == 0) {
            if (!SETS[i].ix)
                SETS[i].ix = build(SETS[i].name, SETS[i].data);
            return SETS[i].ix;
        }
    fail_msg("no data set named %s", name);
    return NULL;
}

static int group_setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return norm_init(NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSETS; i++) {
        index_close(SETS[i].ix);
        SETS[i].ix = NULL;
    }
    return 0;
}

/* Great-circle distance in metres. */
static double dist_m(double lat1, double lon1, double lat2, double lon2)
{
    double r = 6371008.8, p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * r * asin(sqrt(a));
}

/* Does got match the expectation exp ("*", "-" for empty, or alternatives "a/b")? */
static bool str_match(const char *exp, const char *got)
{
    if (strcmp(exp, "*") == 0)
        return true;
    if (!got)
        got = "";
    const char *p = exp;
    for (;;) {
        const char *slash = strchr(p, '|');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 1 && p[0] == '-') {
            if (got[0] == '\0')
                return true;
        } else if (strlen(got) == n && strncmp(p, got, n) == 0) {
            return true;
        }
        if (!slash)
            return false;
        p = slash + 1;
    }
}

static const char *nz(const char *s)
{
    return strcmp(s, "-") == 0 ? "" : s;
}

/* Check one golden row; on mismatch write why into why and return false. */
static bool check_row(struct index *ix, char **f, char *why, size_t cap)
{
    struct gc_query q;
    memset(&q, 0, sizeof(q));
    q.search_text = nz(f[1]);
    q.street = nz(f[2]);
    q.house_number = nz(f[3]);
    q.postcode = nz(f[4]);
    q.city = nz(f[5]);
    q.country = nz(f[6]);
    q.max_results = atoi(f[7]) > 0 ? atoi(f[7]) : 10; /* test data, not outside input */
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    int rc = geocode_forward(ix, &q, res);
    bool ok = true;
    size_t len = 0;
#define WHY(...)                                                                                   \
    do {                                                                                           \
        ok = false;                                                                                \
        if (len < cap)                                                                             \
            len += (size_t)snprintf(why + len, cap - len, __VA_ARGS__);                            \
    } while (0)
    if (rc < 0) {
        WHY("geocode_forward returned %d", rc);
        free(res);
        return false;
    }
    const char *n = f[8];
    if (strcmp(n, "*") == 0) {
    } else if (strcmp(n, ">1") == 0) {
        if (res->n < 2)
            WHY("n=%d want >1; ", res->n);
    } else if (res->n != atoi(n)) {
        WHY("n=%d want %s; ", res->n, n);
    }
    if (res->n > 0) {
        const struct gc_candidate *c = &res->c[0];
        if (!str_match(f[9], gc_level_name(c->level)))
            WHY("level=%s want %s; ", gc_level_name(c->level), f[9]);
        if (!str_match(f[10], gc_type_name(c->type)))
            WHY("type=%s want %s; ", gc_type_name(c->type), f[10]);
        if (!str_match(f[11], gc_code_name(c->code)))
            WHY("code=%s want %s; ", gc_code_name(c->code), f[11]);
        if (!str_match(f[12], c->street))
            WHY("street=%s want %s; ", c->street ? c->street : "", f[12]);
        if (!str_match(f[13], c->house_number))
            WHY("houseNumber=%s want %s; ", c->house_number ? c->house_number : "", f[13]);
        if (!str_match(f[14], c->city))
            WHY("city=%s want %s; ", c->city ? c->city : "", f[14]);
        if (!str_match(f[15], c->postcode))
            WHY("postalCode=%s want %s; ", c->postcode ? c->postcode : "", f[15]);
        if (strcmp(f[16], "*") != 0) {
            double lat = strtod(f[16], NULL), lon = strtod(f[17], NULL), tol = strtod(f[18], NULL);
            double d = dist_m(lat, lon, c->lat, c->lon);
            if (!(d <= tol))
                WHY("at %.7f,%.7f: %.0f m from %s,%s (tolerance %s m); ", c->lat, c->lon, d, f[16],
                    f[17], f[18]);
        }
        /* invariants of every candidate */
        for (int i = 0; i < res->n; i++) {
            const struct gc_candidate *k = &res->c[i];
            if (!(k->relevance >= 0 && k->relevance <= 1))
                WHY("candidate %d relevance %f; ", i, k->relevance);
            if (k->type != GT_NONE && k->level != GL_HOUSENUMBER)
                WHY("candidate %d has matchType %s at level %s; ", i, gc_type_name(k->type),
                    gc_level_name(k->level));
            if (res->n > 1 && k->code != GC_AMBIGUOUS && k->code != GC_AMBIGUOUS_UPHIERARCHY)
                WHY("candidate %d of %d has code %s; ", i, res->n, gc_code_name(k->code));
        }
    } else if (strcmp(f[9], "*") != 0 && !str_match(f[9], "NOMATCH")) {
        WHY("no candidate, want level %s; ", f[9]);
    }
#undef WHY
    free(res);
    return ok;
}

/* Run every row of test/cases/geocode_<set>.tsv. */
static void run_cases(const char *set)
{
    struct index *ix = set_index(set);
    char name[64];
    snprintf(name, sizeof(name), "geocode_%s.tsv", set);
    struct tsv t;
    tsv_open(&t, name);
    int bugs = 0, fixed = 0;
    while (tsv_next(&t, NCOLS)) {
        char **f = t.col;
        char why[1024] = "";
        bool ok = check_row(ix, f, why, sizeof(why));
        bool bug = strncmp(f[0], "BUG:", 4) == 0;
        if (ok && bug) {
            fixed++;
            fprintf(stderr, "FIXED? %s:%d %s now passes: remove the BUG: mark\n", t.name, t.lineno,
                    f[0]);
        } else if (!ok && bug) {
            bugs++;
            fprintf(stderr, "known %s (%s|%s %s %s %s): %s\n", f[0], f[1], f[2], f[3], f[4], f[5],
                    why);
        } else if (!ok) {
            tsv_fail(&t, "FAIL %s (%s|%s %s %s %s): %s", f[0], f[1], f[2], f[3], f[4], f[5], why);
        }
    }
    fprintf(stderr, "%s: %d rows, %d failed, %d known bugs, %d bug rows passing\n", name, t.ncases,
            t.nfail, bugs, fixed);
    tsv_close(&t, 5);
}

/* One cmocka test per data set: its name and its set, in main() below. */
static void test_cases(void **state)
{
    run_cases(*state);
}

/* maxresults caps the candidates of an ambiguous query; every one is distinct. */
static void test_maxresults_caps(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    /* "Dorfstrasse" exists in several municipalities of Liechtenstein (OA data: Triesen,
     * Triesenberg, Schellenberg, Planken ...), nothing in the query tells them apart. */
    struct gc_query q = {.search_text = "Dorfstrasse", .max_results = 10};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    int all = res->n;
    assert_true(all >= 3);
    for (int i = 0; i < all; i++)
        assert_int_equal(res->c[i].code, GC_AMBIGUOUS);
    q.max_results = 2;
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 2);
    q.max_results = 1;
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 1);
    /* beyond the array: clamped, never an overflow (run under ASan) */
    q.max_results = 1000;
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, all);
    free(res);
}

/* Inputs that must not crash or hang: empty, only blanks, huge, punctuation, lone numbers. */
/* Issue 11: an article dropped from or added to a street name still finds the street, at a
 * slightly lower street match quality; the data's own wording keeps 1. Real Porto names. */
static void test_optional_words(void **state)
{
    (void)state;
    struct index *ix = set_index("porto");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    const struct {
        const char *text;
        double mq;
    } cases[] = {
        {"Rua Santa Catarina 464", 0.95},   /* the data: "Rua de Santa Catarina" */
        {"Rua de Santa Catarina 464", 1.0}, /* as in the data */
        {"Rua Cima do Muro 52", 0.95},      /* the data: "Rua de Cima do Muro" */
        {"Rua de Cima do Muroo 52", 0.8},   /* a typo: 0.9 less 0.1 an edit (spelling tolerance) */
        {"Praça da Batalha 64", 1.0},       /* as in the data */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gc_query q = {.search_text = cases[i].text, .country = "PRT", .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        if (res->n != 1)
            fail_msg("%s: %d candidates", cases[i].text, res->n);
        assert_int_equal(res->c[0].level, GL_HOUSENUMBER);
        if (fabs(res->c[0].mq[MQ_STREET] - cases[i].mq) > 1e-9)
            fail_msg("%s: street quality %.3f, want %.3f", cases[i].text, res->c[0].mq[MQ_STREET],
                     cases[i].mq);
    }
    free(res);
}

/* A query and the relevance its one answer, a house, must have. */
struct rel_case {
    const char *text;
    double relevance;
};

/* Each query of cases on the index of set: one house, at the case's relevance, and every one
 * at the first one's position. */
static void check_relevance(const char *set, const struct rel_case *cases, size_t n)
{
    struct index *ix = set_index(set);
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    double lat = 0, lon = 0;
    for (size_t i = 0; i < n; i++) {
        struct gc_query q = {.search_text = cases[i].text, .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        if (res->n != 1 || res->c[0].level != GL_HOUSENUMBER)
            fail_msg("%s: %d candidates", cases[i].text, res->n);
        if (fabs(res->c[0].relevance - cases[i].relevance) > 1e-9)
            fail_msg("%s: relevance %.4f, want %.4f", cases[i].text, res->c[0].relevance,
                     cases[i].relevance);
        if (i == 0) {
            lat = res->c[0].lat;
            lon = res->c[0].lon;
        }
        assert_true(res->c[0].lat == lat && res->c[0].lon == lon);
    }
    free(res);
}

/* The relevance is the share of the input the answer matches (HERE's definition): words no
 * field of the answer accounts for lower it, the answer the same house. A town the street is
 * not in lowers the city's match quality instead, and parts the reader sets aside (a company
 * line, unit text) neither. */
static void test_relevance_counts_words_over(void **state)
{
    (void)state;
    const struct rel_case cases[] = {
        {"Grasgarten 15, 9492 Eschen", 1.0},
        {"Grasgarten Mamertenweg 15, 9492 Eschen", 4.0 / 5},
        {"Grasgarten Quoxel Blu 15, 9492 Eschen", 4.0 / 6},
        {"Grasgarten 15 Quoxel", 2.0 / 3},
        /* unit text before the street, a letter after a unit word: set aside, even as the
         * first part ("Bât. C" was no answer at all: "C" read as a street type) */
        {"Stiege B, Grasgarten 15, 9492 Eschen", 1.0},
        {"Bât. C, Grasgarten 15, 9492 Eschen", 1.0},
    };
    check_relevance("li", cases, sizeof(cases) / sizeof(cases[0]));
}

/* A delivery mark after the town (segment.txt: postal), with or without its office's number, or
 * a part of its own, is set aside: the house at relevance 1, as without it (it was a word of
 * the town's name, "Monaco Cedex" a similar name at 0.7, or a word over). */
static void test_delivery_mark_set_aside(void **state)
{
    (void)state;
    const struct rel_case cases[] = {
        {"18 Boulevard des Moulins, 98000 Monaco", 1.0},
        {"18 Boulevard des Moulins, 98000 Monaco Cedex", 1.0},
        {"18 bd des Moulins 98000 MONACO CEDEX", 1.0},
        {"18 Boulevard des Moulins, 98000 Monaco Cedex 4", 1.0},
        {"18 Boulevard des Moulins, Cedex, 98000 Monaco", 1.0},
    };
    check_relevance("monaco", cases, sizeof(cases) / sizeof(cases[0]));
}

/* A country's postcode prefix before the postcode and a space is the postcode's, as with a
 * dash ("LI-9490"): not a word over (0.8 before). Another country's prefix is one. */
static void test_country_prefix_apart(void **state)
{
    (void)state;
    const struct rel_case cases[] = {
        {"Städtle 5, 9490 Vaduz", 1.0},    {"Städtle 5, LI-9490 Vaduz", 1.0},
        {"Städtle 5, LI 9490 Vaduz", 1.0}, {"Städtle 5, FL 9490 Vaduz", 1.0},
        {"Städtle 5, D 9490 Vaduz", 0.8},
    };
    check_relevance("li", cases, sizeof(cases) / sizeof(cases[0]));
}

/* Words that are no part of the address cost no relevance: a telephone or mail address
 * inside the last part (after the postcode, no comma), a note in round brackets. A town's own
 * brackets stay its name's ("Frankfurt (Oder)", world_cities.tsv). */
static void test_notes_set_aside(void **state)
{
    (void)state;
    const struct rel_case cases[] = {
        {"Städtle 5, 9490 Vaduz", 1.0},
        {"Städtle 5, 9490 Vaduz Tel. +423 123 45 67", 1.0},
        {"Städtle 5, 9490 Vaduz Tel: 0041 79 123 45 67", 1.0},
        {"Städtle 5, 9490 Vaduz E-Mail info@example.li", 1.0},
        {"Städtle 5, 9490 Vaduz (beim Rathaus)", 1.0},
        {"Städtle 5 (2. Stock links), 9490 Vaduz", 1.0},
    };
    check_relevance("li", cases, sizeof(cases) / sizeof(cases[0]));
}

/* A suffix the data does not have on a number it has ("5a", "5 bis", "5a-c" where only 5 is
 * there) is that house, at house-number quality 0.8: a building on its plot. Never another
 * suffix's house, and never on a misspelt street (two guesses are no house). */
static void test_suffix_not_there(void **state)
{
    (void)state;
    const struct rel_case cases[] = {
        {"Städtle 5, 9490 Vaduz", 1.0},
        {"Städtle 5a, 9490 Vaduz", 0.95},
        {"Städtle 5 bis, 9490 Vaduz", 0.95},
        {"Städtle 5a-c, 9490 Vaduz", 0.95},
    };
    check_relevance("li", cases, sizeof(cases) / sizeof(cases[0]));
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    struct gc_query q = {.search_text = "Städtle 5a, 9490 Vaduz", .max_results = 1};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 1);
    assert_true(fabs(res->c[0].mq[MQ_HOUSENUMBER] - 0.8) < 1e-9);
    q.search_text = "Stätle 5a, 9490 Vaduz";
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, GL_STREET);
    free(res);
}

static void test_odd_inputs(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    static char big[20000];
    for (size_t i = 0; i + 1 < sizeof(big); i++)
        big[i] = (char)("strasse 12 "[i % 11]);
    const char *texts[] = {"",     "   ", ",,,,",     "12",
                           "9490", "a",   "\xc3\xa4", "12 12 12 12 12",
                           "////", "-1",  "0",        "99999999999999999999 Äulestrasse",
                           big};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query q = {.search_text = texts[i], .max_results = 5};
        int rc = geocode_forward(ix, &q, res);
        assert_true(rc == 0 || rc < 0);
        if (rc == 0) {
            assert_true(res->n >= 0 && res->n <= 5);
        }
    }
    /* nothing at all: no candidates */
    struct gc_query none = {.max_results = 5};
    assert_int_equal(geocode_forward(ix, &none, res), 0);
    assert_int_equal(res->n, 0);
    free(res);
}

/* Text copied from documents and spreadsheets: no-break and thin spaces, zero-width
 * characters, a soft hyphen, a byte order mark and full-width digits and letters read as
 * their plain forms; each text is answered as its plain form is (before, "Städtle\u00a05,
 * 9490\u00a0Vaduz" had no answer and "Städtle ５, Vaduz" was the street), and so are the
 * structured fields. */
static void test_text_made_plain(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res)), *want = calloc(1, sizeof(*want));
    assert_non_null(res);
    assert_non_null(want);
    struct gc_query plain = {.search_text = "Städtle 5, 9490 Vaduz", .max_results = 1};
    assert_int_equal(geocode_forward(ix, &plain, want), 0);
    assert_int_equal(want->n, 1);
    assert_int_equal(want->c[0].level, GL_HOUSENUMBER);
    /* U+00A0 no-break space; U+2009 thin space and U+202F narrow no-break space; a byte order
     * mark, a soft hyphen and a zero-width space; full-width "５, ９４９０ Ｖａｄｕｚ"; U+3000
     * ideographic space */
    const char *texts[] = {
        "Städtle\xc2\xa0"
        "5, 9490\xc2\xa0"
        "Vaduz",
        "Städtle\xe2\x80\x89"
        "5, 9490\xe2\x80\xaf"
        "Vaduz",
        "\xef\xbb\xbf"
        "St\xc3\xa4"
        "d\xc2\xad"
        "tle 5\xe2\x80\x8b"
        ", 9490 Vaduz",
        "Städtle \xef\xbc\x95, \xef\xbc\x99\xef\xbc\x94\xef\xbc\x99\xef\xbc\x90 "
        "\xef\xbc\xb6\xef\xbd\x81\xef\xbd\x84\xef\xbd\x95\xef\xbd\x9a",
        "Städtle\xe3\x80\x80"
        "5, 9490 Vaduz",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query q = {.search_text = texts[i], .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        assert_int_equal(res->n, 1);
        assert_int_equal(res->c[0].level, want->c[0].level);
        assert_true(res->c[0].lat == want->c[0].lat && res->c[0].lon == want->c[0].lon);
        assert_true(res->c[0].relevance == want->c[0].relevance);
    }
    /* the structured fields alike: a full-width number, a postcode with a no-break space */
    struct gc_query fields = {.street = "Städtle",
                              .house_number = "5",
                              .postcode = "9490",
                              .city = "Vaduz",
                              .max_results = 1};
    assert_int_equal(geocode_forward(ix, &fields, want), 0);
    assert_int_equal(want->n, 1);
    assert_int_equal(want->c[0].level, GL_HOUSENUMBER);
    fields.house_number = "\xef\xbc\x95";
    fields.postcode = "9490\xc2\xa0";
    assert_int_equal(geocode_forward(ix, &fields, res), 0);
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, want->c[0].level);
    assert_true(res->c[0].lat == want->c[0].lat && res->c[0].lon == want->c[0].lon);
    assert_true(res->c[0].relevance == want->c[0].relevance);
    free(res);
    free(want);
}

/* Reverse next to a known address: that address first, with its distance. */
static void test_reverse_near_address(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    /* OA: "9.6125629,47.0978122,137,Heitastrasse,,Triesenberg,,,9497", an isolated house in
     * the mountains (the only address within 40 m). The query point is the OA point itself. */
    double lat = 47.0978122, lon = 9.6125629;
    assert_int_equal(geocode_reverse(ix, lat, lon, 250, 3, res), 0);
    assert_true(res->n >= 1 && res->n <= 3);
    const struct gc_candidate *c = &res->c[0];
    assert_int_equal(c->level, GL_HOUSENUMBER);
    assert_int_equal(c->type, GT_POINT);
    assert_string_equal(c->street, "Heitastrasse");
    assert_string_equal(c->house_number, "137");
    assert_string_equal(c->city, "Triesenberg");
    assert_string_equal(c->postcode, "9497");
    assert_true(dist_m(c->lat, c->lon, lat, lon) < 15);
    assert_true(fabs(c->distance - dist_m(lat, lon, c->lat, c->lon)) < 2);
    /* nearest first, all within the radius */
    for (int i = 1; i < res->n; i++)
        assert_true(res->c[i].distance >= res->c[i - 1].distance);
    for (int i = 0; i < res->n; i++)
        assert_true(res->c[i].distance <= 250);
    /* max_results caps the list */
    assert_int_equal(geocode_reverse(ix, lat, lon, 2000, 1, res), 0);
    assert_int_equal(res->n, 1);
    assert_string_equal(res->c[0].house_number, "137");
    free(res);
}

/* A house whose street the data gives no town is answered in its postcode's town, in reverse
 * as forward (geocode_prague_oa.tsv): OA "14.4758870,50.1367650,1403/17,Modřínová,,,,,18200",
 * no CITY; 18200's rows that name a town mostly name Praha. */
static void test_reverse_postcode_town(void **state)
{
    (void)state;
    struct index *ix = set_index("prague_oa");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    assert_int_equal(geocode_reverse(ix, 50.1367650, 14.4758870, 50, 1, res), 0);
    assert_int_equal(res->n, 1);
    assert_string_equal(res->c[0].street, "Modřínová");
    assert_string_equal(res->c[0].house_number, "1403/17");
    assert_string_equal(res->c[0].postcode, "18200");
    assert_string_equal(res->c[0].city, "Praha");
    free(res);
}

/* Far from every address (Alpine terrain at the south-east of the country, and open water of
 * the Lake of Constance): never a house number; the street or the city or nothing. */
static void test_reverse_far(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    assert_int_equal(geocode_reverse(ix, 47.5500, 9.4000, 250, 3, res), 0); /* Lake Constance */
    for (int i = 0; i < res->n; i++) {
        assert_true(res->c[i].level != GL_HOUSENUMBER);
        assert_true(res->c[i].level == GL_STREET || res->c[i].level == GL_CITY ||
                    res->c[i].level == GL_DISTRICT || res->c[i].level == GL_POSTCODE ||
                    res->c[i].level == GL_COUNTRY);
    }
    /* Naafkopf area, about 2 km from the nearest house: no address within 250 m */
    assert_int_equal(geocode_reverse(ix, 47.0520, 9.6100, 250, 3, res), 0);
    for (int i = 0; i < res->n; i++)
        assert_true(res->c[i].level != GL_HOUSENUMBER);
    /* NOTE: a radius of 0 is taken as "no radius" (GC_DEFAULT_RADIUS_M), see geocode_reverse.c */
    /* the poles and the antimeridian do not crash */
    assert_int_equal(geocode_reverse(ix, 90, 180, 250, 3, res), 0);
    assert_int_equal(geocode_reverse(ix, -90, -180, 250, 3, res), 0);
    free(res);
}

static bool same_candidate(const struct gc_candidate *a, const struct gc_candidate *b)
{
    if (a->lat != b->lat || a->lon != b->lon || a->level != b->level || a->type != b->type ||
        a->code != b->code || a->relevance != b->relevance)
        return false;
    for (int k = 0; k < MQ__COUNT; k++)
        if (a->mq[k] != b->mq[k])
            return false;
    return true;
}

/* The same query gives the same answer whatever was asked before (no hidden state). */
static void test_repeatable(void **state)
{
    (void)state;
    struct index *ix = set_index("li");
    struct gc_result *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    struct gc_query q = {.search_text = "Floraweg 13 Vaduz", .max_results = 5};
    struct gc_query plain = {.search_text = "Dorfstrasse", .max_results = 5};
    struct gc_query named = {.search_text = "Schaan, Liechtenstein", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &plain, b), 0);
    assert_int_equal(geocode_forward(ix, &q, a), 0); /* after a query without a country */
    assert_int_equal(a->n, 1);
    /* the query names no country: its country quality is "not asked" */
    bool ok = a->c[0].mq[MQ_COUNTRY] < 0;
    assert_int_equal(geocode_forward(ix, &named, b), 0);
    assert_int_equal(geocode_forward(ix, &q, b), 0); /* after a query naming the country */
    assert_int_equal(b->n, a->n);
    for (int i = 0; i < a->n; i++)
        ok = ok && same_candidate(&a->c[i], &b->c[i]);
    /* (struct gctx.country_named was once left uninitialised: the country quality and the
     * relevance of a query then depended on the query before it) */
    assert_true(ok);
    assert_true(a->c[0].lat == b->c[0].lat && a->c[0].lon == b->c[0].lon);
    assert_int_equal(a->c[0].level, b->c[0].level);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"test_cases_li", test_cases, NULL, NULL, "li"},
        {"test_cases_prague", test_cases, NULL, NULL, "prague"},
        {"test_cases_prague_oa", test_cases, NULL, NULL, "prague_oa"},
        {"test_cases_lauf", test_cases, NULL, NULL, "lauf"},
        {"test_cases_sf", test_cases, NULL, NULL, "sf"},
        {"test_cases_andorra", test_cases, NULL, NULL, "andorra"},
        {"test_cases_porto", test_cases, NULL, NULL, "porto"},
        {"test_cases_monaco", test_cases, NULL, NULL, "monaco"},
        {"test_cases_tiger", test_cases, NULL, NULL, "tiger"},
        {"test_cases_baltimore", test_cases, NULL, NULL, "baltimore"},
        {"test_cases_london", test_cases, NULL, NULL, "london"},
        {"test_cases_munich", test_cases, NULL, NULL, "munich"},
        {"test_cases_dreieich", test_cases, NULL, NULL, "dreieich"},
        {"test_cases_li_sf", test_cases, NULL, NULL, "li_sf"},
        {"test_cases_prague_monaco", test_cases, NULL, NULL, "prague_monaco"},
        cmocka_unit_test(test_maxresults_caps),
        cmocka_unit_test(test_optional_words),
        cmocka_unit_test(test_relevance_counts_words_over),
        cmocka_unit_test(test_delivery_mark_set_aside),
        cmocka_unit_test(test_country_prefix_apart),
        cmocka_unit_test(test_suffix_not_there),
        cmocka_unit_test(test_notes_set_aside),
        cmocka_unit_test(test_odd_inputs),
        cmocka_unit_test(test_text_made_plain),
        cmocka_unit_test(test_reverse_near_address),
        cmocka_unit_test(test_reverse_far),
        cmocka_unit_test(test_reverse_postcode_town),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
