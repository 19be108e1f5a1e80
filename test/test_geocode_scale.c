/*
 * test_geocode_scale.c - a street name that exists in many towns, as "Hauptstrasse" does in a
 * country: the geocoder narrows it by what the query gives (postcode, city) through the index,
 * finds the right town wherever it sorts among the others, and answers a query that names
 * none honestly (ambiguous, above the street) instead of picking one town.
 *
 * The index is built from records made here: TOWNS towns "Town 001" ... in Germany, each with
 * "Hauptstrasse" 1..3 and a street of its own ("Weg Ddd" in town 333) 1, postcode 10000 +
 * town, on a grid 0.1° apart, and Germany's area; "Obere Kirchgasse" 1..3 in town 2 and
 * "Kirchgasse" 1 in towns 101 to 110; "Untere Muehlgasse" 1..3 and "Muehlgasse" 2 in town 3;
 * "Birkenau Waldweg" 1 and "Birke Waldweg" 1 in town 5 and "Waldweg" 1 in "Birkenau" (slot 5);
 * "Dorfstrasse" 1..3, "Kapellenhof" 1..3 and "Kapellenho" 2 in "Lindenau" (slot 401) and
 * "Lindenbau" 1 in town 7; "Strasse 19" 1..3 and "Strasse 195" 1 in town 9; "Grenzweg" 1 in
 * "Zollhaus" in Germany, Austria and Switzerland; "Ahornweg" 2 in towns 1 to 120,
 * "Birkenweg" 2 in towns 121 to 240 and "Ulmenweg" 2 in towns 241 to 359 and "Wiesental"
 * (slot 402); "Kesse" 1 in "Hagenau" (slot 403) and "Dorfweg" 1 in "Hagenau Kesese" (slot 404);
 * and "Queens Road" in two towns of Fiji, on either side of longitude 180.
 */
#include "base/err.h"
#include "geocode/geocode.h"
#include "geocode/geocode_int.h" /* struct gctx: how many candidates were scored */
#include "index/index.h"
#include "text/norm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TOWNS 400 /* more than any fixed candidate limit the geocoder ever had (256) */

static struct index *ix;
static struct gc_result *res;

static double town_lat(int t)
{
    return 48.0 + (t / 20) * 0.1;
}

static double town_lon(int t)
{
    return 9.0 + (t % 20) * 0.1;
}

/* An address of street in the town named city, at grid slot t, postcode 10000 + t. */
static void emit_named(const struct rec_sink *sink, int t, const char *city, const char *street,
                       int number)
{
    char pc[16], num[16], id[96];
    snprintf(pc, sizeof(pc), "%d", 10000 + t);
    snprintf(num, sizeof(num), "%d", number);
    snprintf(id, sizeof(id), "t%d-%s-%d", t, street, number);
    struct record r = {
        .kind = REC_ADDRESS,
        .lat = town_lat(t) + number * 0.0001,
        .lon = town_lon(t),
        .number = num,
        .street = street,
        .postcode = pc,
        .city = city,
        .country = "DE",
        .source_id = id,
    };
    assert_int_equal(sink->emit(sink->ctx, &r), 0);
}

static void emit(const struct rec_sink *sink, int t, const char *street, int number)
{
    char city[32];
    snprintf(city, sizeof(city), "Town %03d", t);
    emit_named(sink, t, city, street, number);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(norm_init(NULL), 0);
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (int t = 1; t <= TOWNS; t++) {
        for (int n = 1; n <= 3; n++)
            emit(&sink, t, "Hauptstrasse", n);
        char own[32]; /* "Weg Bdb": a name of its own, in letters */
        snprintf(own, sizeof(own), "Weg %c%c%c", 'A' + t / 100, 'a' + t / 10 % 10, 'a' + t % 10);
        emit(&sink, t, own, 1);
    }
    for (int n = 1; n <= 3; n++)
        emit(&sink, 2, "Obere Kirchgasse", n);
    for (int t = 101; t <= 110; t++)
        emit(&sink, t, "Kirchgasse", 1);
    for (int n = 1; n <= 3; n++)
        emit(&sink, 3, "Untere Muehlgasse", n);
    emit(&sink, 3, "Muehlgasse", 2);
    emit(&sink, 5, "Birkenau Waldweg", 1);
    emit(&sink, 5, "Birke Waldweg", 1);
    emit_named(&sink, 5, "Birkenau", "Waldweg", 1);
    for (int n = 1; n <= 3; n++) /* a town of a name in letters, at slot 401 */
        emit_named(&sink, TOWNS + 1, "Lindenau", "Dorfstrasse", n);
    emit(&sink, 7, "Lindenbau", 1); /* one edit from it */
    for (int n = 1; n <= 3; n++)    /* numbered streets, as Berlin has them */
        emit(&sink, 9, "Strasse 19", n);
    emit(&sink, 9, "Strasse 195", 1);
    for (int n = 1; n <= 3; n++)
        emit_named(&sink, TOWNS + 1, "Lindenau", "Kapellenhof", n);
    emit_named(&sink, TOWNS + 1, "Lindenau", "Kapellenho", 2); /* two edits from "Kapellenhoff" */
    for (int t = 1; t < 360; t++)                              /* three names in 120 towns each */
        emit(&sink, t, t <= 120 ? "Ahornweg" : t <= 240 ? "Birkenweg" : "Ulmenweg", 2);
    emit_named(&sink, TOWNS + 2, "Wiesental", "Ulmenweg", 2);
    emit_named(&sink, TOWNS + 3, "Hagenau", "Kesse", 1);
    emit_named(&sink, TOWNS + 4, "Hagenau Kesese", "Dorfweg", 1);
    /* house 12 and the pair 3/12 (12 its orientation number) on one street, postcodes apart */
    static const char *const sad_number[] = {"12", "3/12"}, *const sad_pc[] = {"11000", "12000"};
    for (int k = 0; k < 2; k++) {
        char id[16];
        snprintf(id, sizeof(id), "sad-%d", k);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 50.1 + k * 0.001,
                           .lon = 14.5,
                           .number = sad_number[k],
                           .street = "Na Sadech",
                           .postcode = sad_pc[k],
                           .city = "Sadova",
                           .country = "CZ",
                           .source_id = id};
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    static const char *const zoll[] = {"DE", "AT", "CH"}; /* a border town's name, thrice */
    for (int k = 0; k < 3; k++) {
        char id[16];
        snprintf(id, sizeof(id), "zoll-%s", zoll[k]);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 47.5 + k * 0.01,
                           .lon = 9.6,
                           .number = "1",
                           .street = "Grenzweg",
                           .city = "Zollhaus",
                           .country = zoll[k],
                           .source_id = id};
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    /* "Queens Road" in two Fijian towns 0.1 degree apart across the antimeridian */
    static const double fiji_lon[] = {179.95, -179.95};
    static const char *const fiji_town[] = {"Taveuni East", "Taveuni West"};
    for (int t = 0; t < 2; t++)
        for (int n = 1; n <= 3; n++) {
            char num[8], id[32];
            snprintf(num, sizeof(num), "%d", n);
            snprintf(id, sizeof(id), "fj%d-%d", t, n);
            struct record r = {.kind = REC_ADDRESS,
                               .lat = -16.8 + n * 0.0001,
                               .lon = fiji_lon[t],
                               .number = num,
                               .street = "Queens Road",
                               .city = fiji_town[t],
                               .country = "FJ",
                               .source_id = id};
            assert_int_equal(sink.emit(sink.ctx, &r), 0);
        }
    /* ... and a way of that name without a town, which the builder joins to the nearer one */
    static const struct rec_point way[] = {{-16.8, 179.96}, {-16.8, 179.97}};
    struct record qr = {.kind = REC_STREET,
                        .lat = -16.8,
                        .lon = 179.965,
                        .name = "Queens Road",
                        .country = "FJ",
                        .geom = way,
                        .n_geom = 2,
                        .source_id = "w-fj"};
    assert_int_equal(sink.emit(sink.ctx, &qr), 0);
    /* Germany's area, so that an ambiguous street can be answered with the country */
    static const struct rec_point ring[] = {{47, 5}, {56, 5}, {56, 16}, {47, 16}, {47, 5}};
    struct record de = {.kind = REC_ADMIN,
                        .lat = 51.5,
                        .lon = 10.5,
                        .name = "Deutschland",
                        .country = "DE",
                        .rank = RANK_COUNTRY,
                        .geom = ring,
                        .n_geom = 5,
                        .source_id = "r51477"};
    assert_int_equal(sink.emit(sink.ctx, &de), 0);
    char path[1024], err[512] = "";
    const char *tmp = getenv("GB_TMP");
    snprintf(path, sizeof(path), "%s/geocode-scale.gbx", tmp && *tmp ? tmp : "/tmp");
    assert_int_equal(index_builder_write(b, path, err, sizeof(err)), 0);
    index_builder_free(b);
    assert_int_equal(index_open(&ix, path, err, sizeof(err)), 0);
    res = malloc(sizeof(*res));
    assert_non_null(res);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(res);
    index_close(ix);
    return 0;
}

/* Geocode q and require one house-number answer in town t, exact. */
static void expect_town(const struct gc_query *q, int t)
{
    assert_int_equal(geocode_forward(ix, q, res), 0);
    char city[32];
    snprintf(city, sizeof(city), "Town %03d", t);
    if (res->n != 1 || res->c[0].level != GL_HOUSENUMBER || strcmp(res->c[0].city, city) != 0)
        fail_msg("%s: %d answers, first %s in %s, want house number in %s",
                 q->search_text ? q->search_text : q->street, res->n,
                 res->n ? gc_level_name(res->c[0].level) : "-", res->n ? res->c[0].city : "-",
                 city);
    assert_int_equal(res->c[0].code, GC_EXACT);
    assert_float_equal(res->c[0].lat, town_lat(t) + 2 * 0.0001, 1e-6);
    assert_float_equal(res->c[0].lon, town_lon(t), 1e-6);
}

static void test_every_town_is_found_by_its_postcode_or_its_name(void **state)
{
    (void)state;
    /* towns at the start, the middle and past the 256th in the index's order */
    static const int towns[] = {1, 2, 128, 255, 256, 257, 300, 399, 400};
    for (size_t i = 0; i < sizeof(towns) / sizeof(towns[0]); i++) {
        int t = towns[i];
        char text[96], city[32], pc[16];
        snprintf(city, sizeof(city), "Town %03d", t);
        snprintf(pc, sizeof(pc), "%d", 10000 + t);
        snprintf(text, sizeof(text), "Hauptstrasse 2, %s %s", pc, city);
        struct gc_query q = {.search_text = text, .country = "DEU", .max_results = 5};
        expect_town(&q, t);
        snprintf(text, sizeof(text), "Hauptstrasse 2, %s", pc); /* postcode alone */
        expect_town(&q, t);
        snprintf(text, sizeof(text), "Hauptstrasse 2, %s", city); /* city alone */
        expect_town(&q, t);
        snprintf(text, sizeof(text), "Hauptstrase 2, %s", city); /* misspelt: the town too */
        expect_town(&q, t);
        struct gc_query s = {.street = "Hauptstrasse",
                             .house_number = "2",
                             .city = city,
                             .country = "DEU",
                             .max_results = 5};
        expect_town(&s, t);
        struct gc_query p = {.street = "Hauptstrasse",
                             .house_number = "2",
                             .postcode = pc,
                             .country = "DEU",
                             .max_results = 5};
        expect_town(&p, t);
    }
}

static void test_a_name_in_every_town_without_a_town_is_ambiguous(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "Hauptstrasse 2", .country = "DEU", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    /* never a confident house number in one of 400 towns */
    for (int i = 0; i < res->n; i++) {
        assert_true(res->c[i].level < GL_STREET);
        assert_int_equal(res->c[i].code, GC_AMBIGUOUS_UPHIERARCHY);
    }
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, GL_COUNTRY);
    assert_string_equal(res->c[0].country, "DE");
    assert_float_equal(res->c[0].mq[MQ_STREET], 0, 0);
    assert_float_equal(res->c[0].mq[MQ_HOUSENUMBER], 0, 0);
    assert_true(res->c[0].relevance < 0.5);
    /* the same street with a town is exact (test above); with a postcode unknown to the
     * index it is no more certain than without */
    q.search_text = "Hauptstrasse 2, 99999";
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    for (int i = 0; i < res->n; i++)
        assert_true(res->c[i].level < GL_STREET);
}

/* Two towns' streets on each side of longitude 180 are 10.6 km apart, not 359.9 degrees (and
 * their distance is computed without overflow). */
static void test_a_name_in_two_towns_across_the_antimeridian_is_ambiguous(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "Queens Road 2", .country = "FJI", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    /* no area of Fiji in this index to answer with: no answer, never one town's house */
    for (int i = 0; i < res->n; i++) {
        assert_true(res->c[i].level < GL_STREET);
        assert_int_equal(res->c[i].code, GC_AMBIGUOUS_UPHIERARCHY);
    }
    q.search_text = "Queens Road 2, Taveuni West";
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_true(res->n >= 1);
    assert_int_equal(res->c[0].level, GL_HOUSENUMBER);
    assert_string_equal(res->c[0].city, "Taveuni West");
    assert_float_equal(res->c[0].lon, -179.95, 1e-6);
}

/* Candidates scored in full by the last query (the geocoder's step 3). */
static int scored(void)
{
    return ((const struct gctx *)(const void *)res->scratch.bytes)->scored;
}

/* Candidates made by the last query (the geocoder's step 2). */
static int made(void)
{
    return ((const struct gctx *)(const void *)res->scratch.bytes)->made;
}

/* Geocode text (in Germany) and require house 2 of street in town t, exact (expect_town). */
static void expect_street_in_town(const char *text, const char *street, int t)
{
    struct gc_query q = {.search_text = text, .country = "DEU", .max_results = 5};
    expect_town(&q, t);
    assert_string_equal(res->c[0].street, street);
}

/* "Kirchgasse" in ten towns is found in "Obere Kirchgasse 2, 10002 Town 002", but neither the
 * postcode nor the town narrows it (they are not theirs), and the street that has both explains
 * the whole query: the ten are not even candidates, and only that one is scored. Without
 * postcode and town, nothing confirms it and the ten could come near it: all eleven are
 * candidates and scored, and the answer is the same. So it is when the names are found by
 * spelling tolerance ("Kirchgase"). */
static void test_a_street_that_cannot_win_is_not_scored(void **state)
{
    (void)state;
    expect_street_in_town("Obere Kirchgasse 2, 10002 Town 002", "Obere Kirchgasse", 2);
    assert_int_equal(made(), 1);
    assert_int_equal(scored(), 1);
    expect_street_in_town("Obere Kirchgasse 2", "Obere Kirchgasse", 2);
    assert_int_equal(made(), 11);
    assert_int_equal(scored(), 11);
    expect_street_in_town("Obere Kirchgase 2, 10002 Town 002", "Obere Kirchgasse", 2);
    assert_int_equal(made(), 1);
    assert_int_equal(scored(), 1);
}

/* A name inside a longer one ("Muehlgasse" in "Untere Muehlgasse 2, 10003 Town 003") is made
 * a candidate only when its streets could be answers: here the longer name is the street of
 * the postcode and town, and "Untere" is no town, place, similar name or state, so the town's
 * "Muehlgasse" could not come near it and is not made. Where the word left over names the
 * shorter name's town ("Birkenau Waldweg 1, 10005": the "Waldweg" of Birkenau, in that
 * postcode too) or a name like it ("Birke"), that street is a candidate, and it is the
 * answer, as it was when every name was read at once. */
static void test_a_name_inside_a_longer_one(void **state)
{
    (void)state;
    expect_street_in_town("Untere Muehlgasse 2, 10003 Town 003", "Untere Muehlgasse", 3);
    assert_int_equal(made(), 1);
    expect_street_in_town("Muehlgasse 2, 10003 Town 003", "Muehlgasse", 3);
    struct gc_query q = {
        .search_text = "Birkenau Waldweg 1, 10005", .country = "DEU", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_true(res->n >= 1);
    assert_int_equal(res->c[0].level, GL_HOUSENUMBER);
    assert_string_equal(res->c[0].street, "Waldweg");
    assert_string_equal(res->c[0].city, "Birkenau");
    q.search_text = "Birke Waldweg 1, 10005"; /* a name like the town's is one too */
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_true(res->n >= 1);
    assert_string_equal(res->c[0].street, "Waldweg");
    assert_string_equal(res->c[0].city, "Birkenau");
}

/* Whether the last query's candidates overflowed MAX_CANDS. */
static bool refused(void)
{
    return ((const struct gctx *)(const void *)res->scratch.bytes)->refused;
}

/* Three names, each in 120 towns that the query's misspelt town ("Wiesenthal") does not
 * narrow, are 360 streets, more than the candidates a query holds: the streets that could
 * score most are kept, whatever order they are found in, and the one in the town of a name
 * like that one is the answer (it sorts last of its name). With no town, a street that was
 * left out could have ranked with the best: which is best is not known, and the answer is the
 * country, ambiguous. */
static void test_more_streets_than_candidates(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "Ahornweg Birkenweg Ulmenweg 2, Wiesenthal",
                         .country = "DEU",
                         .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_true(refused());
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, GL_HOUSENUMBER);
    assert_string_equal(res->c[0].street, "Ulmenweg");
    assert_string_equal(res->c[0].city, "Wiesental");
    assert_float_equal(res->c[0].lat, town_lat(TOWNS + 2) + 2 * 0.0001, 1e-6);
    assert_float_equal(res->c[0].lon, town_lon(TOWNS + 2), 1e-6);
    q.search_text = "Ahornweg Birkenweg Ulmenweg 2";
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_true(refused());
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, GL_COUNTRY);
    assert_int_equal(res->c[0].code, GC_AMBIGUOUS_UPHIERARCHY);
}

/* Geocode text (in Germany) and require one exact house-number answer on street in
 * Lindenau, at the grid slot after the towns, and made candidates on the way. */
static void expect_lindenau(const char *text, const char *street, int n_made)
{
    struct gc_query q = {.search_text = text, .country = "DEU"};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    if (res->n != 1 || res->c[0].level != GL_HOUSENUMBER || strcmp(res->c[0].street, street) != 0)
        fail_msg("%s: %d answers, first %s on %s, want house number on %s", text, res->n,
                 res->n ? gc_level_name(res->c[0].level) : "-", res->n ? res->c[0].street : "-",
                 street);
    assert_int_equal(res->c[0].code, GC_EXACT);
    assert_string_equal(res->c[0].city, "Lindenau");
    assert_float_equal(res->c[0].lat, town_lat(TOWNS + 1) + 2 * 0.0001, 1e-6);
    assert_int_equal(made(), n_made);
}

/* A span that names a town of the index, beside a word that can be the street, is that town:
 * the typo search looks for no street within a few edits of it ("Lindenbau", in town 7, is one
 * edit from "Lindenau"). */
static void test_a_town_beside_a_misspelt_street_is_a_town(void **state)
{
    (void)state;
    expect_lindenau("Dorfstrase 2, Lindenau", "Dorfstrasse", 1);
}

/* The typo search looks two edits away only when nothing one edit away answers the query:
 * "Kapellenhof 2" in Lindenau does for "Kapellenhoff 2, Lindenau", so "Kapellenho" there (two
 * edits) is not looked for; for "Kapellenhoxx 2, Lindenau" nothing one edit away does, and both
 * streets are found two edits away. */
static void test_two_edits_only_when_one_does_not_answer(void **state)
{
    (void)state;
    expect_lindenau("Kapellenhoff 2, Lindenau", "Kapellenhof", 1);
    expect_lindenau("Kapellenhoxx 2, Lindenau", "Kapellenhof", 2);
}

/* The street's key's and its city key's hashes, as the geocoder has them. */
static uint32_t key_hash_of(const char *k)
{
    return ix_key_hash(k, strlen(k));
}

/* The table of (street name, town) pairs gives, for every street of the index, the stretch of
 * its name's run in its town: exactly the streets of that name whose city key is the town's. A
 * pair the index does not have gives nothing: "Kirchgasse" in the 390 towns that have none. */
static void test_the_street_town_table(void **state)
{
    (void)state;
    const struct index_view *v = index_view(ix);
    for (size_t e = 0; e < v->n_streets; e++) {
        const char *k = ix_str(v, v->streets[e].key), *c = ix_str(v, v->streets[e].city_key);
        if (!*c)
            continue;
        uint32_t lo = index_street_first(ix, k, strlen(k)), hi = index_street_run_end(ix, lo);
        struct ix_range r[4];
        size_t n = index_street_town(ix, lo, hi, key_hash_of(k), c, key_hash_of(c), r, 4);
        size_t i = 0;
        while (i < n && !(r[i].first <= e && e < r[i].first + r[i].count))
            i++;
        if (i == n)
            fail_msg("street %zu (%s in %s): not in the %zu stretches found", e, k, c, n);
        for (uint32_t s = lo; s < hi; s++) {
            bool in = r[i].first <= s && s < r[i].first + r[i].count;
            bool same = strcmp(ix_str(v, v->streets[s].city_key), c) == 0 &&
                        memcmp(v->streets[s].country, v->streets[e].country, 2) == 0;
            assert_int_equal(in, same);
        }
    }
    const char *kg = "kirchgasse";
    uint32_t lo = index_street_first(ix, kg, strlen(kg)), hi = index_street_run_end(ix, lo);
    assert_int_equal(hi - lo, 10);
    for (int t = 1; t <= TOWNS; t++) {
        char city[32], town[32];
        snprintf(city, sizeof(city), "Town %03d", t);
        int n = norm_key(city, strlen(city), "DE", town, sizeof(town));
        assert_true(n > 0);
        struct ix_range r[2];
        size_t found =
            index_street_town(ix, lo, hi, key_hash_of(kg), town, key_hash_of(town), r, 2);
        assert_int_equal(found, t >= 101 && t <= 110);
        if (found)
            assert_int_equal(r[0].first, lo + (uint32_t)(t - 101));
    }
}

/* "Grenzweg" in "Zollhaus" is in Austria, Switzerland and Germany: three stretches, in the
 * run's (country) order, all at once, or one at a time when asked for one. */
static void test_a_town_in_three_countries(void **state)
{
    (void)state;
    const struct index_view *v = index_view(ix);
    const char *k = "grenzweg", *c = "zollhaus";
    uint32_t lo = index_street_first(ix, k, strlen(k)), hi = index_street_run_end(ix, lo);
    assert_int_equal(hi - lo, 3);
    struct ix_range r[4];
    assert_int_equal(index_street_town(ix, lo, hi, key_hash_of(k), c, key_hash_of(c), r, 4), 3);
    static const char *const cc[] = {"AT", "CH", "DE"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].first, lo + (uint32_t)i);
        assert_int_equal(r[i].count, 1);
        assert_memory_equal(v->streets[r[i].first].country, cc[i], 2);
    }
    uint32_t from = lo;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(index_street_town(ix, from, hi, key_hash_of(k), c, key_hash_of(c), r, 1),
                         1);
        assert_int_equal(r[0].first, lo + (uint32_t)i);
        from = r[0].first + r[0].count;
    }
    assert_int_equal(index_street_town(ix, from, hi, key_hash_of(k), c, key_hash_of(c), r, 1), 0);
}

/* Geocode text (in Germany) and require one answer of level at code on street in city. */
static void expect_answer(const char *text, enum gc_level level, enum gc_code code,
                          const char *street, const char *city)
{
    struct gc_query q = {.search_text = text, .country = "DEU", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    if (res->n != 1 || res->c[0].level != level || res->c[0].code != code ||
        strcmp(res->c[0].street, street) != 0 || strcmp(res->c[0].city, city) != 0)
        fail_msg("%s: %d answers, first %s (code %d) on '%s' in %s, want %s (code %d) on '%s' "
                 "in %s",
                 text, res->n, res->n ? gc_level_name(res->c[0].level) : "-",
                 res->n ? (int)res->c[0].code : -1, res->n ? res->c[0].street : "-",
                 res->n ? res->c[0].city : "-", gc_level_name(level), (int)code, street, city);
}

/* A name that ends in a number, then a house number, is not the name with the two numbers
 * run together: house 5 of Strasse 19 (which has 1 to 3) is not Strasse 195, and Town 005 with
 * a house number is not Town 052. */
static void test_two_numbers_are_not_one(void **state)
{
    (void)state;
    expect_answer("Strasse 19 5, Town 009", GL_STREET, GC_UPHIERARCHY, "Strasse 19", "Town 009");
    expect_answer("Strasse 19 3, Town 009", GL_HOUSENUMBER, GC_EXACT, "Strasse 19", "Town 009");
    expect_answer("Strasse 195 1, Town 009", GL_HOUSENUMBER, GC_EXACT, "Strasse 195", "Town 009");
    expect_answer("Town 005 2", GL_CITY, GC_UPHIERARCHY, "", "Town 005");
    expect_answer("Town 052", GL_CITY, GC_EXACT, "", "Town 052");
}

/* Suggestions read the text as the geocoder does: "Strasse 19 5" is no prefix of Strasse 195. */
static void test_suggestions_keep_two_numbers_apart(void **state)
{
    (void)state;
    struct gc_suggest q = {.text = "Strasse 19", .country = "DE", .max_results = 5};
    assert_int_equal(geocode_suggest(ix, &q, res), 0);
    assert_int_equal(res->n, 2);
    assert_string_equal(res->c[0].street, "Strasse 19");
    assert_string_equal(res->c[1].street, "Strasse 195");
    q.text = "Strasse 19 5";
    assert_int_equal(geocode_suggest(ix, &q, res), 0);
    assert_int_equal(res->n, 0);
    q.text = "Strasse 195";
    assert_int_equal(geocode_suggest(ix, &q, res), 0);
    assert_int_equal(res->n, 1);
    assert_string_equal(res->c[0].street, "Strasse 195");
}

/* A word of a town's name is not a misspelt street: in "Zuselustrasse 1, Hagenau Kesese" (no
 * such street) "Kesese" is of the town Hagenau Kesese, not "Kesse" of Hagenau with a slip, and
 * the answer is that town, not a house of another. Alone beside a town it may be one. */
static void test_a_word_of_a_town_is_no_misspelt_street(void **state)
{
    (void)state;
    expect_answer("Zuselustrasse 1, Hagenau Kesese", GL_CITY, GC_UPHIERARCHY, "", "Hagenau Kesese");
    expect_answer("Kese 1, Hagenau", GL_HOUSENUMBER, GC_EXACT, "Kesse", "Hagenau");
}

/* House 12 of Na Sadech is the address 12 unless the pair 3/12 has the query's postcode and 12
 * has not: the addresses beside the stretch of number 12 are read when one could outscore it. */
static void expect_house(const char *text, const char *number)
{
    struct gc_query q = {.search_text = text, .country = "CZE", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    if (res->n != 1 || res->c[0].level != GL_HOUSENUMBER ||
        strcmp(res->c[0].house_number, number) != 0)
        fail_msg("%s: %d answers, first %s %s, want house %s", text, res->n,
                 res->n ? gc_level_name(res->c[0].level) : "-",
                 res->n ? res->c[0].house_number : "-", number);
}

static void test_a_pair_beside_the_number(void **state)
{
    (void)state;
    expect_house("Na Sadech 12, Sadova", "12");
    expect_house("Na Sadech 12, 11000 Sadova", "12");
    expect_house("Na Sadech 12, 12000 Sadova", "3/12");
    expect_house("Na Sadech 3/12, 11000 Sadova", "3/12");
    expect_house("Na Sadech 3, Sadova", "3/12");
}

static void test_a_unique_name_needs_no_town(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "Weg Ddd 1", .country = "DEU", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 1);
    assert_int_equal(res->c[0].level, GL_HOUSENUMBER);
    assert_string_equal(res->c[0].city, "Town 333");
    assert_int_equal(res->c[0].code, GC_EXACT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_town_is_found_by_its_postcode_or_its_name),
        cmocka_unit_test(test_a_name_in_every_town_without_a_town_is_ambiguous),
        cmocka_unit_test(test_a_name_in_two_towns_across_the_antimeridian_is_ambiguous),
        cmocka_unit_test(test_a_street_that_cannot_win_is_not_scored),
        cmocka_unit_test(test_a_name_inside_a_longer_one),
        cmocka_unit_test(test_more_streets_than_candidates),
        cmocka_unit_test(test_a_town_beside_a_misspelt_street_is_a_town),
        cmocka_unit_test(test_two_edits_only_when_one_does_not_answer),
        cmocka_unit_test(test_the_street_town_table),
        cmocka_unit_test(test_a_town_in_three_countries),
        cmocka_unit_test(test_two_numbers_are_not_one),
        cmocka_unit_test(test_suggestions_keep_two_numbers_apart),
        cmocka_unit_test(test_a_pair_beside_the_number),
        cmocka_unit_test(test_a_unique_name_needs_no_town),
        cmocka_unit_test(test_a_word_of_a_town_is_no_misspelt_street),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
