/*
 * test_geocode_consist.c - issue 11, capabilities 5-7 and the regions table: postcodes in
 * national forms and the fall-back when a postcode is not in the index, regions as qualifiers,
 * and answers that are never confidently wrong (a house or street only where the query's
 * postcode or town agrees; else the postcode or town the query and the data agree on, with the
 * conflict in matchQuality and relevance). Indexes built from the real data in $GB_SHARED/data;
 * every expected street, number, town, postcode and position is a row of its OpenAddresses
 * files (li-liechtenstein-2026.csv, de-lauf-2020.csv, us-ca-san-francisco-excerpt.csv).
 */
#include "base/err.h"
#include "base/log.h"
#include "geocode/geocode.h"
#include "import/import.h"
#include "index/index.h"
#include "index/index_format.h"
#include "record/geo.h"
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

#include <cmocka.h>

enum { LI, LAUF, SF, LI_NOPC, WORLD, SF_WORLD, NIX };

/* The data files of each index (under $GB_SHARED/data); LI_NOPC is made from the first. */
static const char *const INPUTS[NIX][3] = {
    [LI] = {"osm/liechtenstein-2026-03-29.osm.pbf"},
    [LAUF] = {"osm/lauf-2020-01-15.osm.pbf"},
    [SF] = {"openaddresses/us-ca-san-francisco-excerpt.csv"},
    [LI_NOPC] = {"openaddresses/li-liechtenstein-2026.csv"},
    [WORLD] = {"osm/liechtenstein-2026-03-29.osm.pbf", "geonames/cities.json",
               "postcodes/us-zcta-2021-centroids.json"},
    [SF_WORLD] = {"openaddresses/us-ca-san-francisco-excerpt.csv", "geonames/cities.json",
                  "postcodes/us-zcta-2021-centroids.json"},
};
static struct index *IX[NIX];

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* The Liechtenstein OpenAddresses file with its POSTCODE column emptied, at out. */
static void without_postcodes(const char *in, const char *out)
{
    FILE *f = fopen(in, "r"), *g = fopen(out, "w");
    assert_non_null(f);
    assert_non_null(g);
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        for (int col = 0; col < 8 && p; col++) /* LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION */
            p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
        char *end = p ? strchr(p, ',') : NULL;
        if (p && end && line[0] != 'L') /* not the header */
            memmove(p, end, strlen(end) + 1);
        fputs(line, g);
    }
    fclose(f);
    assert_int_equal(fclose(g), 0);
}

static struct index *index_of(int which)
{
    if (IX[which])
        return IX[which];
    char out[1024], err[512] = "";
    snprintf(out, sizeof(out), "%s/consist-%d.gbx", env_or("GB_TMP", "/tmp"), which);
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (int i = 0; i < 3 && INPUTS[which][i]; i++) {
        char in[1100];
        snprintf(in, sizeof(in), "%s/data/%s", env_or("GB_SHARED", "../shared"), INPUTS[which][i]);
        if (which == LI_NOPC) {
            char tmp[1100];
            snprintf(tmp, sizeof(tmp), "%s.nopc.csv", out);
            without_postcodes(in, tmp);
            memcpy(in, tmp, sizeof(in));
        }
        enum import_format fmt;
        assert_int_equal(import_detect(in, &fmt), 0);
        assert_int_equal(index_builder_add_source(b, in, (int)fmt), 0);
        struct import_stats st;
        memset(&st, 0, sizeof(st));
        if (import_file(in, fmt, &sink, &st, err, sizeof(err)) < 0)
            fail_msg("import %s: %s", in, err);
    }
    if (index_builder_write(b, out, err, sizeof(err)) < 0)
        fail_msg("write %s: %s", out, err);
    index_builder_free(b);
    if (index_open(&IX[which], out, err, sizeof(err)) < 0)
        fail_msg("open %s: %s", out, err);
    return IX[which];
}

/* One query and its expected first answer. NULL strings are not checked, "" means empty;
 * lat 0 means no position check; relevance < 0 is not checked; level GL_NONE means no answer. */
struct want {
    int ix;
    const char *text;                                      /* free text, or NULL */
    const char *street, *number, *postcode, *city, *state; /* structured fields */
    enum gc_level level;
    enum gc_type type;
    enum gc_code code;
    const char *w_street, *w_number, *w_city, *w_postcode, *w_country;
    double lat, lon;
    double relevance;
    int mq;         /* a match quality to check (MQ_*), -1 none */
    double mq_want; /* its value */
};

#define FREE(ix, text)                      ix, text, NULL, NULL, NULL, NULL, NULL
#define STRUCT(ix, st, hn, pc, city, state) ix, NULL, st, hn, pc, city, state

static const struct want CASES[] = {
    /* 5: postcodes in national forms */
    {FREE(LI, "Floraweg 13, FL-9490 Vaduz"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Floraweg", "13",
     "Vaduz", "9490", "LI", 47.1236503, 9.5284904, 1.0, MQ_POSTCODE, 1},
    {FREE(LI, "FL-9490 Vaduz"), GL_POSTCODE, GT_NONE, GC_EXACT, "", "", "Vaduz", "9490", "LI", 0, 0,
     1.0, MQ_CITY, 1},
    {FREE(LI, "9490 Vaduz"), GL_POSTCODE, GT_NONE, GC_EXACT, "", "", "Vaduz", "9490", "LI", 0, 0,
     1.0, MQ_CITY, 1},
    {FREE(LI, "Floraweg 13, CH-9490 Vaduz"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Floraweg", "13",
     "Vaduz", "9490", "LI", 47.1236503, 9.5284904, -1, MQ_POSTCODE, 0},
    {FREE(LAUF, "Marktplatz 24, D-91207 Lauf a.d.Pegnitz"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Marktplatz", "24", "Lauf a.d.Pegnitz", "91207", "DE", 49.5125645, 11.2822893, 1.0,
     MQ_POSTCODE, 1},
    {FREE(LAUF, "Marktplatz 24, DE-91207 Lauf a.d.Pegnitz"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Marktplatz", "24", "Lauf a.d.Pegnitz", "91207", "DE", 49.5125645, 11.2822893, 1.0,
     MQ_POSTCODE, 1},
    {FREE(SF, "7 Octavia St, San Francisco, CA 94102-4417"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Octavia St", "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0,
     MQ_POSTCODE, 1},
    {FREE(SF, "7 Octavia St, San Francisco, CA 94102 4417"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Octavia St", "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0,
     MQ_POSTCODE, 1},
    {STRUCT(LAUF, "Marktplatz", "24", "D-91207", "Lauf a.d.Pegnitz", NULL), GL_HOUSENUMBER,
     GT_POINT, GC_EXACT, "Marktplatz", "24", "Lauf a.d.Pegnitz", "91207", "DE", 49.5125645,
     11.2822893, 1.0, MQ_POSTCODE, 1},
    {STRUCT(SF, "Octavia St", "7", "94102-4417", "San Francisco", NULL), GL_HOUSENUMBER, GT_POINT,
     GC_EXACT, "Octavia St", "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0,
     MQ_POSTCODE, 1},
    /* ... a postcode's town is the one most of its addresses name (91207: Lauf, not the
     * forest its first address lay in), and a shorter form of its name names it */
    {FREE(LAUF, "91207"), GL_POSTCODE, GT_NONE, GC_EXACT, "", "", "Lauf a.d.Pegnitz", "91207", "DE",
     0, 0, 1.0, -1, 0},
    {FREE(LAUF, "91207 Lauf"), GL_POSTCODE, GT_NONE, GC_EXACT, "", "", "Lauf a.d.Pegnitz", "91207",
     "DE", 0, 0, -1, MQ_CITY, 0.7},
    /* ... a postcode the index does not have is set aside: the town, the address */
    {FREE(LI_NOPC, "9490 Vaduz"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Vaduz", NULL, NULL, 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(LI_NOPC, "Floraweg 13, 9490 Vaduz"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Floraweg", "13",
     "Vaduz", NULL, NULL, 47.1236503, 9.5284904, 0.75, MQ_POSTCODE, 0},
    {STRUCT(LI_NOPC, "", "", "9490", "Vaduz", NULL), GL_CITY, GT_NONE, GC_EXACT, "", "", "Vaduz",
     NULL, NULL, 0, 0, 0.5, MQ_POSTCODE, 0},
    /* ... and a postcode alone never overrides the town (and country) that contradict it */
    {FREE(WORLD, "10115 Berlin"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Berlin", NULL, "DE", 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "10115 Berlin, Germany"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Berlin", NULL, "DE",
     0, 0, -1, MQ_CITY, 1},
    {FREE(WORLD, "10115"), GL_POSTCODE, GT_NONE, GC_EXACT, "", "", NULL, "10115", "US", 0, 0, 1.0,
     -1, 0},
    /* ... national forms of letters and digits, unknown to the index, are set aside too, and
     * favour the town of the form's country ("London" is also in Ontario; this index has no
     * population) */
    {FREE(WORLD, "SW1A 1AA London"), GL_CITY, GT_NONE, GC_EXACT, "", "", "London", NULL, "GB", 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "SW1A1AA London"), GL_CITY, GT_NONE, GC_EXACT, "", "", "London", NULL, "GB", 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "K1A 0B1 Ottawa"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Ottawa", NULL, "CA", 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "1012 AB Amsterdam"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Amsterdam", NULL, "NL",
     0, 0, 0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "602 00 Brno"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Brno", NULL, "CZ", 0, 0, 0.5,
     MQ_POSTCODE, 0},
    /* ... and a Polish or Portuguese dash form is never the US ZIP of the same digits (00950) */
    {FREE(WORLD, "00-950 Warsaw"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Warsaw", NULL, "PL", 0, 0,
     0.5, MQ_POSTCODE, 0},
    {FREE(WORLD, "00-950"), GL_NONE, GT_NONE, GC_EXACT, NULL, NULL, NULL, NULL, NULL, 0, 0, -1, -1,
     0},
    {FREE(WORLD, "1000-001 Lisbon"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Lisbon", NULL, "PT", 0, 0,
     0.5, MQ_POSTCODE, 0},
    /* 6: regions narrow, and are never a street, a town or a country */
    {FREE(SF, "7 Octavia St, San Francisco, CA"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Octavia St",
     "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0, MQ_STATE, 1},
    {FREE(SF, "7 Octavia Street, San Francisco, California"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Octavia St", "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0, MQ_STATE,
     1},
    {FREE(SF, "7 Octavia St, San Francisco, NY"), GL_NONE, GT_NONE, GC_EXACT, NULL, NULL, NULL,
     NULL, NULL, 0, 0, -1, -1, 0},
    {STRUCT(SF, "Octavia St", "7", "", "San Francisco", "California"), GL_HOUSENUMBER, GT_POINT,
     GC_EXACT, "Octavia St", "7", "San Francisco", "94102", "US", 37.77213916, -122.42387743, 1.0,
     MQ_STATE, 1},
    {FREE(LAUF, "Marktplatz 24, Lauf a.d.Pegnitz, Bayern"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Marktplatz", "24", "Lauf a.d.Pegnitz", "91207", "DE", 49.5125645, 11.2822893, 1.0, -1, 0},
    {FREE(LAUF, "Marktplatz 24, Lauf a.d.Pegnitz, BY"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Marktplatz", "24", "Lauf a.d.Pegnitz", "91207", "DE", 49.5125645, 11.2822893, 1.0, -1, 0},
    {FREE(WORLD, "Portland, ME"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Portland", NULL, "US", 0, 0,
     1.0, -1, 0},
    {FREE(WORLD, "Springfield, IL"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Springfield", NULL, "US",
     0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Sunnyvale, CA"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Sunnyvale", NULL, "US", 0,
     0, 1.0, -1, 0},
    {FREE(WORLD, "Buchs, SG"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Buchs", NULL, "CH", 0, 0, 1.0,
     -1, 0},
    /* ... a region whose name ends in a country's is the region ("New Mexico", "New Jersey",
     * "New South Wales"), the country's name alone the country */
    {FREE(WORLD, "Santa Fe, New Mexico"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Santa Fe", NULL,
     "US", 0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Trenton, New Jersey"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Trenton", NULL, "US",
     0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Sydney, New South Wales"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Sydney", NULL,
     "AU", 0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Guadalajara, Mexico"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Guadalajara", NULL,
     "MX", 0, 0, 1.0, -1, 0},
    /* ... a code or name of a country and a region after a town of several words is the
     * region when the town is in its country ("Little Rock, AR": not Argentina) */
    {FREE(WORLD, "Little Rock, AR"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Little Rock", NULL, "US",
     0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Baton Rouge LA"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Baton Rouge", NULL, "US",
     0, 0, 1.0, -1, 0},
    {FREE(WORLD, "Melbourne, FL"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Melbourne", NULL, "US", 0,
     0, 1.0, -1, 0}, /* FL alone is no floor ("Fl") */
    {FREE(WORLD, "Atlanta, Georgia"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Atlanta", NULL, "US", 0,
     0, 1.0, -1, 0},
    {FREE(WORLD, "Tbilisi, Georgia"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Tbilisi", NULL, "GE", 0,
     0, 1.0, -1, 0},
    {FREE(WORLD, "Floraweg 13, Vaduz, FL"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Floraweg", "13",
     "Vaduz", "9490", "LI", 47.1236503, 9.5284904, -1, -1, 0},
    /* 7: never confidently wrong. Floraweg is in Vaduz only; Kurrstrasse in Triesenberg only */
    {FREE(LI, "Floraweg 13, Schaan"), GL_CITY, GT_NONE, GC_UPHIERARCHY, "", "", "Schaan", NULL,
     "LI", 0, 0, 0.5, MQ_STREET, 0},
    {FREE(LI, "Floraweg 13, 9494 Schaan"), GL_POSTCODE, GT_NONE, GC_UPHIERARCHY, "", "", "Schaan",
     "9494", "LI", 0, 0, 2.0 / 3, MQ_STREET, 0},
    {STRUCT(LI, "Floraweg", "13", "", "Schaan", NULL), GL_CITY, GT_NONE, GC_UPHIERARCHY, "", "",
     "Schaan", NULL, "LI", 0, 0, 0.5, MQ_STREET, 0},
    {FREE(LI, "Kurrstrasse 63, Triesen"), GL_CITY, GT_NONE, GC_UPHIERARCHY, "", "", "Triesen", NULL,
     "LI", 0, 0, 0.5, MQ_STREET, 0},
    {FREE(LI, "Kurrstrasse 63, Triesenberg"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Kurrstrasse",
     "63", "Triesenberg", "9497", "LI", 47.0992720, 9.6139977, 1.0, MQ_CITY, 1},
    /* ... the postcode agrees, the town does not: the house, with the conflict reported */
    {FREE(LI, "Floraweg 13, 9490 Schaan"), GL_HOUSENUMBER, GT_POINT, GC_EXACT, "Floraweg", "13",
     "Vaduz", "9490", "LI", 47.1236503, 9.5284904, 0.75, MQ_CITY, 0},
    /* ... a number the map does not have is the street, not a guess between its neighbours */
    {FREE(LI, "Gapetschstrasse 53b, 9494 Schaan"), GL_STREET, GT_NONE, GC_UPHIERARCHY,
     "Gapetschstrasse", "", "Schaan", NULL, "LI", 0, 0, 0.75, MQ_HOUSENUMBER, 0},
    {FREE(LI, "Gapetschstrasse 53a, 9494 Schaan"), GL_HOUSENUMBER, GT_POINT, GC_EXACT,
     "Gapetschstrasse", "53a", "Schaan", "9494", "LI", 47.1599007, 9.5062231, 1.0, MQ_HOUSENUMBER,
     1},
    {FREE(LI, "Floraweg 4, 9490 Vaduz"), GL_STREET, GT_NONE, GC_UPHIERARCHY, "Floraweg", "",
     "Vaduz", NULL, "LI", 0, 0, 0.75, MQ_HOUSENUMBER, 0},
    /* ... a town and a number that no street explains: the town, up the hierarchy */
    {FREE(LI, "Vaduz 5"), GL_CITY, GT_NONE, GC_UPHIERARCHY, "", "", "Vaduz", NULL, "LI", 0, 0, 0.5,
     MQ_CITY, 1},
    {FREE(LI, "5 Vaduz"), GL_CITY, GT_NONE, GC_UPHIERARCHY, "", "", "Vaduz", NULL, "LI", 0, 0, 0.5,
     MQ_CITY, 1},
    {FREE(LI, "Vaduz"), GL_CITY, GT_NONE, GC_EXACT, "", "", "Vaduz", NULL, "LI", 0, 0, 1.0, MQ_CITY,
     1},
    {FREE(LI, "5"), GL_NONE, GT_NONE, GC_EXACT, NULL, NULL, NULL, NULL, NULL, 0, 0, -1, -1, 0},
};

static const char *ISO3[] = {"LI",  "LIE", "DE",  "DEU", "US",  "USA", "CH",
                             "CHE", "AU",  "AUS", "MX",  "MEX", "GE",  "GEO"};

/* The ISO2 form of an output country (alpha-3) for comparing with a case. */
static const char *iso2_of(const char *c)
{
    for (size_t i = 1; i < sizeof(ISO3) / sizeof(ISO3[0]); i += 2)
        if (strcmp(ISO3[i], c) == 0 || strcmp(ISO3[i - 1], c) == 0)
            return ISO3[i - 1];
    return c;
}

static double dist_m(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180, dl = (lon2 - lon1) * M_PI / 180;
    double a =
        sin((p2 - p1) / 2) * sin((p2 - p1) / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * 6371008.8 * asin(sqrt(a));
}

static bool str_ok(const char *want, const char *got)
{
    return !want || strcmp(want, got ? got : "") == 0;
}

static void test_cases(void **state)
{
    (void)state;
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    int failed = 0;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const struct want *w = &CASES[i];
        struct gc_query q = {.search_text = w->text,
                             .street = w->street,
                             .house_number = w->number,
                             .postcode = w->postcode,
                             .city = w->city,
                             .state = w->state,
                             .max_results = 5};
        assert_int_equal(geocode_forward(index_of(w->ix), &q, res), 0);
        const char *what = w->text ? w->text : w->street;
        if (w->level == GL_NONE) {
            if (res->n != 0) {
                print_message("case %zu [%s]: want no answer, got %s\n", i, what,
                              gc_level_name(res->c[0].level));
                failed++;
            }
            continue;
        }
        const struct gc_candidate *c = res->n ? &res->c[0] : NULL;
        bool ok = c && c->level == w->level && c->type == w->type && c->code == w->code &&
                  str_ok(w->w_street, c->street) && str_ok(w->w_number, c->house_number) &&
                  str_ok(w->w_city, c->city) && str_ok(w->w_postcode, c->postcode) &&
                  str_ok(w->w_country, iso2_of(c->country)) &&
                  (w->lat == 0 || dist_m(w->lat, w->lon, c->lat, c->lon) <= 25) &&
                  (w->relevance < 0 || fabs(c->relevance - w->relevance) < 1e-6) &&
                  (w->mq < 0 || fabs(c->mq[w->mq] - w->mq_want) < 1e-6);
        if (!ok) {
            failed++;
            if (!c)
                print_message("case %zu [%s]: no answer\n", i, what);
            else
                print_message(
                    "case %zu [%s]: got %s %s %s rel %.4f [%s %s, %s %s, %s] at %.7f,%.7f "
                    "mq %.2f\n",
                    i, what, gc_level_name(c->level), gc_type_name(c->type), gc_code_name(c->code),
                    c->relevance, c->street, c->house_number, c->postcode, c->city, c->country,
                    c->lat, c->lon, w->mq >= 0 ? c->mq[w->mq] : -9.0);
        }
    }
    free(res);
    assert_int_equal(failed, 0);
}

/* The regions table: names, codes and spellings of one region meet; a code two countries use
 * has both readings; a country narrows; postcode prefixes. */
static void test_regions(void **state)
{
    (void)state;
    struct norm_region r[4];
    assert_int_equal(norm_region("CA", 2, NULL, r, 4), 1); /* California (Canada is no region) */
    assert_int_equal(norm_region("California", 10, NULL, r, 4), 1);
    assert_string_equal(r[0].country, "US");
    assert_string_equal(r[0].code, "CA");
    assert_int_equal(norm_region("Bayern", 6, NULL, r, 4), 1);
    assert_string_equal(r[0].code, "BY");
    assert_int_equal(norm_region("bavaria", 7, "DE", r, 4), 1);
    assert_string_equal(r[0].code, "BY");
    assert_int_equal(norm_region("NIEDERÖSTERREICH", strlen("NIEDERÖSTERREICH"), NULL, r, 4), 1);
    assert_string_equal(r[0].country, "AT");
    assert_string_equal(r[0].code, "3");
    assert_int_equal(norm_region("new south wales", 15, NULL, r, 4), 1);
    assert_string_equal(r[0].code, "NSW");
    assert_int_equal(norm_region("Graubünden", strlen("Graubünden"), NULL, r, 4), 1);
    assert_string_equal(r[0].code, "GR");
    assert_int_equal(norm_region("ON", 2, NULL, r, 4), 1);
    assert_string_equal(r[0].country, "CA");
    assert_int_equal(norm_region("WA", 2, NULL, r, 4), 2); /* Washington, Western Australia */
    assert_int_equal(norm_region("WA", 2, "AU", r, 4), 1);
    assert_string_equal(r[0].country, "AU");
    assert_int_equal(norm_region("Vaduz", 5, NULL, r, 4), 0);
    assert_int_equal(norm_region("", 0, NULL, r, 4), 0);
    assert_string_equal(norm_postcode_prefix("D", 1), "DE");
    assert_string_equal(norm_postcode_prefix("FL", 2), "LI");
    assert_string_equal(norm_postcode_prefix("ch", 2), "CH");
    assert_string_equal(norm_postcode_prefix("DEU", 3), "DE");
    assert_null(norm_postcode_prefix("Vaduz", 5));
    assert_null(norm_postcode_prefix("X", 1));
}

/* index_city_nearest (the grid of city places) finds what a scan of every place finds: the
 * nearest city-rank place under its own name within the radius, the lower index on a tie, on
 * the 171,000 GeoNames places, at random points and at the edges (poles, antimeridian). */
static void test_city_nearest(void **state)
{
    (void)state;
    const struct index *ix = index_of(WORLD);
    const struct index_view *v = index_view(ix);
    double pts[2100][2];
    int n = 0;
    srand(7);
    for (; n < 2000; n++) {
        pts[n][0] = -89.0 + 178.0 * rand() / (double)RAND_MAX;
        pts[n][1] = -180.0 + 360.0 * rand() / (double)RAND_MAX;
    }
    const double edges[][2] = {{90, 0},       {-90, 0},      {89.99, 179.99}, {-17.8, 179.999},
                               {-17.8, -180}, {47.14, 9.52}, {48.857, 2.352}, {0, 0}};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++, n++) {
        pts[n][0] = edges[i][0];
        pts[n][1] = edges[i][1];
    }
    int found = 0;
    for (int i = 0; i < n; i++) {
        double lat = pts[i][0], lon = pts[i][1], radius = i % 2 ? 30000 : 5000, d = -1;
        uint32_t want = IX_NONE;
        double wd = radius;
        for (uint32_t p = 0; p < v->n_places; p++) {
            const struct ix_place *pl = &v->places[p];
            if (pl->rank != RANK_CITY || (v->place_info[p].flags & IXP_ALT_NAME))
                continue;
            double dd =
                geo_approx_distance_m(lat, lon, pl->lat / IX_COORD_SCALE, pl->lon / IX_COORD_SCALE);
            if (dd < wd || (dd == wd && want != IX_NONE && p < want)) {
                wd = dd;
                want = p;
            }
        }
        uint32_t got = index_city_nearest(ix, lat, lon, radius, &d);
        if (got != want)
            fail_msg("(%f, %f) within %.0f m: place %u, want %u", lat, lon, radius, got, want);
        if (got != IX_NONE) {
            assert_true(d == wd);
            found++;
        }
    }
    print_message("%d of %d points have a town near\n", found, n);
    assert_true(found > 90); /* 104: most random points are at sea or far from a town */
    double d;
    assert_int_equal(index_city_nearest(ix, 47.14, 9.52, 0, &d), IX_NONE);
}

/* A US postcode's state, by its ZIP prefix when the data (ZCTA centroids) gives none; the town
 * the query names beside it (GeoNames) when it lies within the postcode's reach; and the
 * region written next to it ("Cambridge, MA 02139", "90210 CA", "CA 90210") read as the
 * region, with the postcode as the answer's level, not as an unexplained word or as Canada. */
static void test_postcode_state(void **state)
{
    (void)state;
    static const struct {
        const char *text, *postcode, *city, *state; /* free text, or the structured fields */
        enum gc_code code;
        double relevance;
        const char *label;
    } cases[] = {
        {"02139", NULL, NULL, NULL, GC_EXACT, 1.0, "MA 02139, United States"},
        {"Cambridge, MA 02139", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Cambridge, MA 02139, United States"},
        {"Cambridge MA 02139", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Cambridge, MA 02139, United States"},
        {"Cambridge, Massachusetts 02139", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Cambridge, MA 02139, United States"},
        {"Beverly Hills, CA 90210", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Beverly Hills, CA 90210, United States"},
        /* a region's name that is also a town's (California, Pennsylvania; Oregon, Wisconsin;
         * Washington, Pennsylvania), after a town of its country */
        {"Beverly Hills, California 90210", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Beverly Hills, CA 90210, United States"},
        {"Portland, Oregon 97205", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Portland, OR 97205, United States"},
        {"Seattle, Washington 98101", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Seattle, WA 98101, United States"},
        {"Springfield, Illinois 62701", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Springfield, IL 62701, United States"},
        {"90210 CA", NULL, NULL, NULL, GC_EXACT, 1.0, "CA 90210, United States"},
        {"Melbourne, FL 32901", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Melbourne, FL 32901, United States"}, /* no floor 32901 */
        /* a town and its region in two parts, not the region's name "Washington DC" */
        {"Washington, DC 20001", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Washington, DC 20001, United States"},
        {"CA 90210", NULL, NULL, NULL, GC_EXACT, 1.0, "CA 90210, United States"},
        {"94086-1234", NULL, NULL, NULL, GC_EXACT, 1.0, "CA 94086, United States"},
        /* a post office box is delivered at the post office: the postcode and town */
        {"PO Box 123, Boston, MA 02108", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Boston, MA 02108, United States"},
        {"P.O. Box 45, Cambridge, MA 02139", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Cambridge, MA 02139, United States"},
        /* Puerto Rico is a country of its own in GeoNames, OSM and HERE's answers: its ZIPs are
         * its postcodes, and "PR" or "Puerto Rico" after its town, or before its ZIP, is it */
        {"00601", NULL, NULL, NULL, GC_EXACT, 1.0, "00601, Puerto Rico"},
        {"San Juan, PR 00901", NULL, NULL, NULL, GC_EXACT, 1.0, "00901 San Juan, Puerto Rico"},
        {"San Juan, Puerto Rico 00901", NULL, NULL, NULL, GC_EXACT, 1.0,
         "00901 San Juan, Puerto Rico"},
        {"San Juan, PR, USA", NULL, NULL, NULL, GC_EXACT, 1.0, "San Juan, Puerto Rico"},
        {"San Juan, PR", NULL, NULL, NULL, GC_EXACT, 1.0, "San Juan, Puerto Rico"},
        {NULL, "00901", "San Juan", "PR", GC_EXACT, 1.0, "00901 San Juan, Puerto Rico"},
        /* a country between the town and the postcode */
        {"Boston, MA, USA 02108", NULL, NULL, NULL, GC_EXACT, 1.0,
         "Boston, MA 02108, United States"},
        {"Vaduz, Liechtenstein 9490", NULL, NULL, NULL, GC_EXACT, 1.0, "9490 Vaduz, Liechtenstein"},
        /* the region written is another state's: the postcode, with the conflict reported */
        {"Cambridge, CA 02139", NULL, NULL, NULL, GC_EXACT, 2.0 / 3,
         "Cambridge, MA 02139, United States"},
        /* ... a town of that name far from it: the town, not the postcode */
        {"Cambridge, MA 90210", NULL, NULL, NULL, GC_EXACT, 0.5,
         "Cambridge, Massachusetts, United States"},
        {NULL, "02139", "Cambridge", "MA", GC_EXACT, 1.0, "Cambridge, MA 02139, United States"},
        {NULL, "90210", "Beverly Hills", NULL, GC_EXACT, 1.0,
         "Beverly Hills, CA 90210, United States"},
        {NULL, "90210", "", "NV", GC_EXACT, 0.5, "CA 90210, United States"},
    };
    const struct index *ix = index_of(WORLD);
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gc_query q = {.search_text = cases[i].text,
                             .postcode = cases[i].postcode,
                             .city = cases[i].city,
                             .state = cases[i].state,
                             .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        char label[512] = "";
        const struct gc_candidate *c = res->n ? &res->c[0] : NULL;
        if (c)
            gc_label(c, label, sizeof(label));
        if (!c || c->code != cases[i].code || fabs(c->relevance - cases[i].relevance) > 1e-6 ||
            strcmp(label, cases[i].label) != 0) {
            print_message("case %zu [%s]: got %s %s rel %.4f [%s]\n", i,
                          cases[i].text ? cases[i].text : cases[i].postcode,
                          c ? gc_level_name(c->level) : "nothing", c ? gc_code_name(c->code) : "",
                          c ? c->relevance : 0, label);
            failed++;
        }
    }
    free(res);
    assert_int_equal(failed, 0);
    /* the table: a ZIP's first three digits; ZIP+4; a ZIP that lost its leading zero has none */
    assert_string_equal(norm_postcode_region("US", "02139", 5), "MA");
    assert_string_equal(norm_postcode_region("US", "02139-4307", 10), "MA");
    assert_string_equal(norm_postcode_region("US", "20101", 5), "VA");
    assert_string_equal(norm_postcode_region("US", "20001", 5), "DC");
    assert_string_equal(norm_postcode_region("US", "99501", 5), "AK");
    assert_null(norm_postcode_region("US", "2139", 4));
    assert_null(norm_postcode_region("US", "02139x", 6));
    assert_null(norm_postcode_region("DE", "02139", 5));
    assert_null(norm_postcode_region("US", "09001", 5)); /* military mail: no state */
}

/* US addresses as people write them, on San Francisco's houses with the world's towns: a
 * state's code that is also a country's ("CA": Canada) after a street or a misspelt town is
 * the state, and after a town only the country has, the country; a country's name of four
 * words ends the text; "#3" after a unit word is its designator; a structured street with
 * its unit is read as free text; a floor written after the street
 * ("2nd Floor"), or in a part before it, is unit text; a company line is set aside. */
static void test_us_address_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double relevance;
    } cases[] = {
        {"455 Franklin Street, CA", 1.0},
        {"455 Franklin St, San Fransisco, CA", 0.925},
        {"455 Franklin St, Sna Francisco CA", 2.0 / 3},
        {"455 Franklin St 2nd Floor San Francisco CA", 1.0},
        {"455 Franklin St 3rd Fl, San Francisco, CA 94102", 1.0},
        {"2nd Floor, 455 Franklin St, San Francisco", 1.0},
        {"455 Franklin St, San Francisco, United States of America", 1.0},
        {"455 Franklin St. Apt. #3, San Francisco, CA 94102", 1.0},
        {"455 Franklin St Suite #200, San Francisco, CA 94102", 1.0},
        {"455 Franklin St #3, San Francisco, CA 94102", 1.0},
        /* a company whose name is a town of the world's (Acme, Washington; Jones, Oklahoma;
         * Smith, Nevada) before a legal form that names no region: a company line (0.71, and
         * "Smith & Jones LLC" no answer, before) */
        {"Acme LLC, 455 Franklin St, San Francisco", 1.0},
        {"Jones Inc., 455 Franklin St, San Francisco, CA 94102", 1.0},
        {"Smith & Jones LLC, 455 Franklin St, San Francisco", 1.0},
    };
    const struct index *ix = index_of(SF_WORLD);
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gc_query q = {.search_text = cases[i].text, .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        const struct gc_candidate *c = res->n ? &res->c[0] : NULL;
        if (!c || c->level != GL_HOUSENUMBER || strcmp(c->street, "Franklin St") != 0 ||
            strcmp(c->house_number, "455") != 0 || strcmp(c->country, "US") != 0 ||
            fabs(c->relevance - cases[i].relevance) > 0.005) {
            print_message("case %zu [%s]: got %s %s %s rel %.4f\n", i, cases[i].text,
                          c ? gc_level_name(c->level) : "nothing", c ? c->street : "",
                          c ? c->country : "", c ? c->relevance : 0);
            failed++;
        }
    }
    /* a structured street field with its unit, or without its type, is read as free text is */
    static const char *const streets[] = {"Franklin St Apt 3", "Franklin St #3", "Franklin"};
    for (int i = 0; i < 3; i++) {
        struct gc_query q = {.street = streets[i],
                             .house_number = "455",
                             .city = "San Francisco",
                             .state = "CA",
                             .postcode = "94102",
                             .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        const struct gc_candidate *c = res->n ? &res->c[0] : NULL;
        if (!c || c->level != GL_HOUSENUMBER || strcmp(c->street, "Franklin St") != 0 ||
            c->relevance < 0.95) {
            print_message("structured [%s]: got %s rel %.4f\n", streets[i],
                          c ? gc_level_name(c->level) : "nothing", c ? c->relevance : 0);
            failed++;
        }
    }
    /* two streets that do not meet (parallel): the answer of the readings before the
     * intersection was tried, here the code read the other way (California), not the first */
    struct gc_query par = {.search_text = "Franklin St & Gough St, CA", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &par, res), 0);
    assert_int_equal(res->n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(res->c[i].level, GL_STREET);
        assert_string_equal(res->c[i].country, "US");
    }
    /* and the country where no town of that name is in the state (Toronto, Ohio; Vancouver,
     * Washington) */
    static const char *const canada[] = {"Toronto, CA", "Vancouver, CA"};
    for (int i = 0; i < 2; i++) {
        struct gc_query q = {.search_text = canada[i], .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        assert_int_equal(res->n, 1);
        assert_int_equal(res->c[0].level, GL_CITY);
        assert_string_equal(res->c[0].country, "CA");
    }
    free(res);
    assert_int_equal(failed, 0);
}

/* An index of the one file in (of format fmt), written to $GB_TMP/consist-NAME.gbx and opened. */
static struct index *index_from(const char *in, enum import_format fmt, const char *name)
{
    char out[1024], err[512] = "";
    snprintf(out, sizeof(out), "%s/consist-%s.gbx", env_or("GB_TMP", "/tmp"), name);
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    struct import_stats st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(index_builder_add_source(b, in, (int)fmt), 0);
    if (import_file(in, fmt, &sink, &st, err, sizeof(err)) < 0 ||
        index_builder_write(b, out, err, sizeof(err)) < 0)
        fail_msg("%s: %s", in, err);
    index_builder_free(b);
    struct index *ix = NULL;
    if (index_open(&ix, out, err, sizeof(err)) < 0)
        fail_msg("open %s: %s", out, err);
    return ix;
}

/* The words of a post office box are unit words only in a part of their own: streets named with
 * them stay streets (test/fixtures/gb-box.csv: a town named Box). */
static void test_po_box_words_in_streets(void **state)
{
    (void)state;
    static const char *const houses[][2] = {
        {"12 Box Hill Road, Box", "Box Hill Road"}, {"5 Case Street, Box", "Case Street"},
        {"7 Postal Way, Box", "Postal Way"},        {"3 Po Lane, Box", "Po Lane"},
        {"Box Hill Road 12", "Box Hill Road"},      {"9 High Street Box", "High Street"},
    };
    struct index *ix = index_from("test/fixtures/gb-box.csv", FMT_OA_CSV, "box");
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    for (size_t i = 0; i < sizeof(houses) / sizeof(houses[0]); i++) {
        struct gc_query q = {.search_text = houses[i][0], .max_results = 1};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        if (res->n == 0 || res->c[0].level != GL_HOUSENUMBER ||
            strcmp(res->c[0].street, houses[i][1]) != 0)
            fail_msg("[%s]: %s %s", houses[i][0], res->n ? gc_level_name(res->c[0].level) : "none",
                     res->n ? res->c[0].street : "");
    }
    free(res);
    index_close(ix);
}

/* A street range layer's alias ("Mass Ave" of "Massachusetts Ave", Cambridge MA's centerlines)
 * answers under its street's name and id: the same house, the same locationId, one suggestion,
 * and the id looked up again gives the street's name. Unless the alias is itself a street's name,
 * or the alias of two streets. */
static void test_alias_answers_as_its_street(void **state)
{
    (void)state;
    char in[1100];
    snprintf(in, sizeof(in), "%s/data/cambridge-ma/TRANS_Centerlines.geojson",
             env_or("GB_SHARED", "../shared"));
    struct index *ix = index_from(in, FMT_GEOJSON_RANGES, "cam");
    struct gc_result *res = calloc(2, sizeof(*res));
    assert_non_null(res);
    struct gc_query q = {.search_text = "1000 Mass Ave", .max_results = 1};
    assert_int_equal(geocode_forward(ix, &q, &res[0]), 0);
    q.search_text = "1000 Massachusetts Ave";
    assert_int_equal(geocode_forward(ix, &q, &res[1]), 0);
    assert_int_equal(res[0].n, 1);
    assert_int_equal(res[1].n, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(res[i].c[0].level, GL_HOUSENUMBER);
        assert_string_equal(res[i].c[0].street, "Massachusetts Ave");
        assert_string_equal(res[i].c[0].house_number, "1000");
    }
    assert_string_equal(res[0].c[0].location_id, res[1].c[0].location_id);
    assert_true(dist_m(res[0].c[0].lat, res[0].c[0].lon, res[1].c[0].lat, res[1].c[0].lon) < 1);
    /* an alias that is also a street's own name is that street ("Munroe St", alias of Linskey
     * Way); an alias of two streets names neither ("Industrial Park Rd" of Education St and of
     * Museum Way) */
    static const char *const own[][2] = {{"125 Munroe St", "Munroe St"},
                                         {"6 Industrial Park Rd", "Industrial Park Rd"}};
    for (int i = 0; i < 2; i++) {
        q.search_text = own[i][0];
        assert_int_equal(geocode_forward(ix, &q, &res[1]), 0);
        assert_int_equal(res[1].n, 1);
        assert_string_equal(res[1].c[0].street, own[i][1]);
    }
    char id[sizeof(res[0].c[0].location_id)];
    snprintf(id, sizeof(id), "%s", res[0].c[0].location_id);
    struct gc_ids *ids = NULL;
    assert_int_equal(gc_ids_new(ix, &ids), 0);
    assert_int_equal(geocode_lookup(ix, ids, id, &res[0]), 0);
    assert_string_equal(res[0].c[0].street, "Massachusetts Ave");
    assert_string_equal(res[0].c[0].house_number, "1000");
    gc_ids_free(ids);
    /* "Mass": both keys start so; one street */
    struct gc_suggest sq = {.text = "Mass", .max_results = 10};
    assert_int_equal(geocode_suggest(ix, &sq, &res[0]), 0);
    int named = 0;
    for (int i = 0; i < res[0].n; i++) {
        named += strcmp(res[0].c[i].street, "Massachusetts Ave") == 0;
        for (int j = 0; j < i; j++)
            assert_string_not_equal(res[0].c[i].location_id, res[0].c[j].location_id);
    }
    assert_int_equal(named, 1);
    free(res);
    index_close(ix);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return norm_init(NULL) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NIX; i++)
        index_close(IX[i]);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_us_address_forms),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_city_nearest),
        cmocka_unit_test(test_postcode_state),
        cmocka_unit_test(test_po_box_words_in_streets),
        cmocka_unit_test(test_alias_answers_as_its_street),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
