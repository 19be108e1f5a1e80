/*
 * test_api_json.c - the JSON writer of the synchronous APIs' answers (api_geo.c): numbers
 * written without printf are printf's "%.*f" (trailing zeros dropped, one kept, "-0.0" as
 * "0.0") for coordinates, distances and scores, ties and edge values included; keys, nesting
 * and jsonattributes=1's lower first letter; the spatial context's filter and bias
 * (api_geo_place) on candidates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/api_int.h"
#include "base/buf.h"

/* What aj_num wrote before it had its own digits: printf, then the trimming. */
static void reference(char *out, size_t cap, double v, int decimals)
{
    if (!isfinite(v))
        v = 0;
    snprintf(out, cap, "%.*f", decimals, v);
    char *dot = strchr(out, '.');
    if (dot) {
        char *e = out + strlen(out) - 1;
        while (e > dot + 1 && *e == '0')
            *e-- = '\0';
    }
    if (strcmp(out, "-0.0") == 0)
        snprintf(out, cap, "0.0");
}

static void check_num(struct buf *b, double v, int decimals)
{
    char want[128];
    reference(want, sizeof(want), v, decimals);
    buf_reset(b);
    struct api_json j;
    aj_init(&j, b, false);
    aj_num(&j, NULL, v, decimals);
    buf_putc(b, '\0');
    if (strcmp(b->data, want) != 0)
        fail_msg("aj_num(%.17g, %d) = %s, printf: %s", v, decimals, b->data, want);
}

static void test_numbers(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    static const double edge[] = {
        0,           -0.0, 1,     -1,         0.5,       -0.5,       0.125,       0.375,
        2.5,         1e-9, -1e-9, 47.1412167, 9.5212545, -122.41942, 179.9999999, -90,
        89.99999995, 0.05, 0.15,  0.25,       0.35,      1.005,      999999999.5, 1e9,
        -1e9,        1e15, NAN,   INFINITY,   -INFINITY, 4.9e-324};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        for (int d = 0; d <= 10; d++)
            check_num(&b, edge[i], d);
    /* coordinates, distances and scores as answers carry them, and ties at every digit */
    srand(12345);
    for (int i = 0; i < 300000; i++) {
        double v = ((double)rand() / RAND_MAX - 0.5) * (i % 3 == 0 ? 360 : i % 3 == 1 ? 2 : 4e4);
        check_num(&b, v, i % 3 == 1 ? 2 : i % 3 == 2 ? 1 : 7);
        long long k = rand() % 2000000 - 1000000;
        check_num(&b, ((double)k + 0.5) / 1e7, 7);
        check_num(&b, ((double)k + 0.5) / 100, 2);
    }
    buf_release(&b);
}

static void test_writer(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    struct api_json j;
    aj_init(&j, &b, true);
    aj_open(&j, NULL, '{');
    aj_str(&j, "Label", "a\"b");
    aj_str_nz(&j, "Empty", "");
    aj_int(&j, "ViewId", 0);
    aj_open(&j, "View", '[');
    aj_num(&j, NULL, 47.14121670, 7);
    aj_num(&j, NULL, -0.00001, 2);
    aj_close(&j, ']');
    aj_close(&j, '}');
    buf_putc(&b, '\0');
    assert_string_equal(b.data, "{\"label\":\"a\\\"b\",\"viewId\":0,\"view\":[47.1412167,0.0]}");
    buf_release(&b);
}

/* A street candidate at (lat, lon) with relevance rel and level l. */
static void cand(struct gc_candidate *c, const char *id, double lat, double lon, double rel,
                 enum gc_level l, const char *cc)
{
    memset(c, 0, sizeof(*c));
    c->lat = lat;
    c->lon = lon;
    c->relevance = rel;
    c->level = l;
    c->distance = -1;
    snprintf(c->country, sizeof(c->country), "%s", cc);
    snprintf(c->location_id, sizeof(c->location_id), "%s", id);
}

static void ids(const struct api_geo *g, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < g->res.n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "",
                 g->res.c[i].location_id);
}

static void test_place(void **state)
{
    (void)state;
    struct api_geo *g = api_geo_new();
    char got[256];
    /* the geocoder's order: a better answer far away, then three equally good ones */
    struct gc_candidate c[5];
    cand(&c[0], "best", 47.15, 9.51, 0.95, GL_HOUSENUMBER, "LI");
    cand(&c[1], "far", 47.24, 9.52, 0.9, GL_STREET, "LI");
    cand(&c[2], "mid", 47.16, 9.51, 0.9, GL_STREET, "LI");
    cand(&c[3], "near", 47.08, 9.52, 0.9, GL_STREET, "LI");
    cand(&c[4], "de", 47.07, 9.51, 0.9, GL_STREET, "DE");
    struct api_area ar;
    memset(&ar, 0, sizeof(ar));

    /* no context: the order stays, limit cuts */
    g->res.n = 5;
    memcpy(g->res.c, c, sizeof(c));
    api_geo_place(g, &ar, 3);
    ids(g, got, sizeof(got));
    assert_string_equal(got, "best far mid");
    assert_true(g->res.c[0].distance < 0);

    /* at near Balzers: equally good answers nearest first, the better one stays first */
    ar.has_at = true;
    ar.at_lat = 47.07;
    ar.at_lon = 9.51;
    g->res.n = 5;
    memcpy(g->res.c, c, sizeof(c));
    api_geo_place(g, &ar, 16);
    ids(g, got, sizeof(got));
    assert_string_equal(got, "best de near mid far");
    assert_int_equal((int)lround(g->res.c[1].distance), 0);

    /* in=countryCode:LIE drops the German one */
    ar.in = API_IN_COUNTRY;
    ar.ncc = 1;
    memcpy(ar.cc[0], "LI", 3);
    g->res.n = 5;
    memcpy(g->res.c, c, sizeof(c));
    api_geo_place(g, &ar, 16);
    ids(g, got, sizeof(got));
    assert_string_equal(got, "best near mid far");

    /* in=circle: 3 km around Schaan keeps what lies within */
    memset(&ar, 0, sizeof(ar));
    ar.in = API_IN_CIRCLE;
    ar.lat = 47.16;
    ar.lon = 9.51;
    ar.radius = 3000;
    g->res.n = 5;
    memcpy(g->res.c, c, sizeof(c));
    api_geo_place(g, &ar, 16);
    ids(g, got, sizeof(got));
    assert_string_equal(got, "best mid");

    /* in=bbox: the south */
    memset(&ar, 0, sizeof(ar));
    ar.in = API_IN_BBOX;
    ar.west = 9.49;
    ar.south = 47.05;
    ar.east = 9.53;
    ar.north = 47.09;
    ar.lat = 47.07;
    ar.lon = 9.51;
    g->res.n = 5;
    memcpy(g->res.c, c, sizeof(c));
    api_geo_place(g, &ar, 16);
    ids(g, got, sizeof(got));
    assert_string_equal(got, "de near");
    api_geo_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
