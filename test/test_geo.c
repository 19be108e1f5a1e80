/*
 * test_geo.c - the geometry helpers: distances, bounding boxes, point in polygon with holes,
 * areas, centroids and polylines, checked against values worked out by hand.
 */
#include "record/geo.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

/* One degree of latitude on the GEO_EARTH_RADIUS_M sphere. */
#define DEG_M (GEO_EARTH_RADIUS_M * M_PI / 180.0)

static void test_distance(void **state)
{
    (void)state;
    assert_float_equal(geo_distance_m(0, 0, 0, 0), 0, 1e-9);
    assert_float_equal(geo_distance_m(47, 9, 48, 9), DEG_M, 1e-6);
    assert_float_equal(geo_distance_m(0, 0, 0, 1), DEG_M, 1e-6);
    /* Along a parallel the distance shrinks with cos(lat) (nearly: a great circle is shorter). */
    double d = geo_distance_m(60, 0, 60, 0.01);
    assert_float_equal(d, DEG_M * 0.01 * 0.5, 0.01);
    /* Antipodes: half the circumference. */
    assert_float_equal(geo_distance_m(0, 0, 0, 180), M_PI * GEO_EARTH_RADIUS_M, 1e-3);
    /* Symmetric. */
    assert_float_equal(geo_distance_m(50.1, 14.4, 47.1, 9.5), geo_distance_m(47.1, 9.5, 50.1, 14.4),
                       1e-9);
}

static void test_bbox(void **state)
{
    (void)state;
    struct geo_bbox b, c;
    geo_bbox_empty(&b);
    assert_false(geo_bbox_contains(&b, 0, 0));
    geo_bbox_extend(&b, 1, 2);
    geo_bbox_extend(&b, 3, 4);
    assert_true(geo_bbox_contains(&b, 2, 3));
    assert_true(geo_bbox_contains(&b, 1, 2)); /* the edge is inside */
    assert_false(geo_bbox_contains(&b, 0.9, 3));
    geo_bbox_empty(&c);
    geo_bbox_extend(&c, 3, 4);
    geo_bbox_extend(&c, 5, 6);
    assert_true(geo_bbox_intersects(&b, &c)); /* they share a corner */
    geo_bbox_empty(&c);
    geo_bbox_extend(&c, 3.1, 0);
    assert_false(geo_bbox_intersects(&b, &c));
}

/* A 10x10 square (lat 0..10, lon 0..10) with a 2x2 hole at (4..6, 4..6); the outer ring is
 * closed explicitly, the hole is not. */
static const struct rec_point sq[] = {
    {0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}, {4, 4}, {4, 6}, {6, 6}, {6, 4},
};
static const size_t sq_ends[] = {5, 9};

static void test_contains_with_hole(void **state)
{
    (void)state;
    struct geo_poly p = {sq, sq_ends, 2};
    assert_true(geo_poly_contains(&p, 1, 1));
    assert_true(geo_poly_contains(&p, 9.9, 5));
    assert_false(geo_poly_contains(&p, 5, 5)); /* in the hole */
    assert_false(geo_poly_contains(&p, 11, 5));
    assert_false(geo_poly_contains(&p, 5, -0.1));
    struct geo_pip *ix = geo_pip_new(&p);
    for (double lat = -1; lat <= 11; lat += 0.37)
        for (double lon = -1; lon <= 11; lon += 0.41)
            assert_int_equal(geo_pip_contains(ix, lat, lon), geo_poly_contains(&p, lat, lon));
    assert_float_equal(geo_pip_bbox(ix)->max_lat, 10, 0);
    geo_pip_free(ix);
    geo_pip_free(NULL);
    struct geo_poly empty = {sq, sq_ends, 0};
    ix = geo_pip_new(&empty);
    assert_false(geo_pip_contains(ix, 1, 1));
    geo_pip_free(ix);
}

/* Many bands (a ring of 401 points: 100 bands), one edge across all of them (a half circle
 * closed by its diameter, as a repaired ring is closed by a straight line) and a hole: the
 * prepared polygon answers as the plain one everywhere. */
static void test_prepared_polygon_with_a_long_edge(void **state)
{
    (void)state;
    enum { HALF = 400, HOLE = 4 };
    struct rec_point pts[HALF + 1 + HOLE];
    for (int i = 0; i <= HALF; i++) { /* lon 0..10 on the right half of a circle, then back */
        double a = M_PI * i / HALF - M_PI / 2;
        pts[i] = (struct rec_point){5 + 5 * sin(a), 5 + 5 * cos(a)};
    }
    const struct rec_point hole[HOLE] = {{4, 6}, {4, 7}, {6, 7}, {6, 6}};
    memcpy(pts + HALF + 1, hole, sizeof(hole));
    const size_t ends[] = {HALF + 1, HALF + 1 + HOLE};
    struct geo_poly p = {pts, ends, 2};
    struct geo_pip *ix = geo_pip_new(&p);
    int inside = 0;
    for (double lat = -0.5; lat <= 10.5; lat += 0.093)
        for (double lon = -0.5; lon <= 10.5; lon += 0.087) {
            bool in = geo_poly_contains(&p, lat, lon);
            assert_int_equal(geo_pip_contains(ix, lat, lon), in);
            inside += in;
        }
    assert_true(inside > 1000); /* the test is not of an empty polygon */
    size_t n_ring;              /* its own copy of the rings, as given */
    assert_memory_equal(geo_pip_ring(ix, 0, &n_ring), pts, (HALF + 1) * sizeof(pts[0]));
    assert_int_equal(n_ring, HALF + 1);
    assert_memory_equal(geo_pip_ring(ix, 1, &n_ring), hole, sizeof(hole));
    assert_int_equal(n_ring, HOLE);
    struct geo_poly closed = geo_pip_poly(ix); /* each ring closed again: the same crossings */
    assert_int_equal(closed.n_rings, 2);
    assert_int_equal(closed.ring_end[1], HALF + 1 + 1 + HOLE + 1);
    assert_int_equal(geo_poly_contains(&closed, 5, 8), 1);
    assert_int_equal(geo_poly_contains(&closed, 5, 6.5), 0);
    for (double lat = 0.05; lat < 10; lat += 0.7) {
        struct rec_point a, b;
        assert_int_equal(geo_poly_scanline_point(&closed, lat, &a),
                         geo_poly_scanline_point(&p, lat, &b));
        assert_float_equal(a.lon, b.lon, 0);
    }
    assert_false(geo_pip_contains(ix, 5, 6.5)); /* in the hole */
    assert_true(geo_pip_contains(ix, 5, 8));
    assert_false(geo_pip_contains(ix, 5, 4)); /* left of the diameter */
    geo_pip_free(ix);
}

static void test_area(void **state)
{
    (void)state;
    /* A 0.01 x 0.01 degree square at the equator: (0.01 * DEG_M)^2 within the projection. */
    const struct rec_point small[] = {{0, 0}, {0.01, 0}, {0.01, 0.01}, {0, 0.01}};
    size_t end = 4;
    struct geo_poly p = {small, &end, 1};
    assert_float_equal(geo_poly_area_m2(&p), 0.01 * DEG_M * 0.01 * DEG_M, 1.0);
    /* The holed square: 100 - 4 = 96 square degrees, longitudes scaled by the cosine of the
     * mean latitude of its nine points (40 / 9 degrees). */
    struct geo_poly h = {sq, sq_ends, 2};
    double k = cos(40.0 / 9.0 * M_PI / 180);
    assert_float_equal(geo_poly_area_m2(&h) / (DEG_M * DEG_M * k), 96, 1e-9);
}

static void test_centroid(void **state)
{
    (void)state;
    struct rec_point c;
    /* A plain square: its centre. */
    const struct rec_point plain[] = {{0, 0}, {0, 2}, {2, 2}, {2, 0}};
    size_t four = 4;
    struct geo_poly pp = {plain, &four, 1};
    assert_true(geo_poly_centroid(&pp, &c));
    assert_float_equal(c.lat, 1, 1e-9);
    assert_float_equal(c.lon, 1, 1e-9);
    /* A C shape whose centroid is outside: lat 0..3, lon 0..3 minus lat 1..2, lon 1..3. */
    const struct rec_point cs[] = {{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}};
    size_t end = 8;
    struct geo_poly cp = {cs, &end, 1};
    assert_true(geo_poly_centroid(&cp, &c));
    assert_true(geo_poly_contains(&cp, c.lat, c.lon));
    /* No points: false, *out untouched. */
    struct geo_poly none = {cs, &end, 0};
    c.lat = 42;
    assert_false(geo_poly_centroid(&none, &c));
    assert_float_equal(c.lat, 42, 0);
}

static void test_centroid_moves_out_of_hole(void **state)
{
    (void)state;
    struct geo_poly h = {sq, sq_ends, 2};
    struct rec_point c;
    assert_true(geo_poly_centroid(&h, &c));
    /* The area centroid (5, 5) is in the hole: moved along latitude 5 to the middle of the
     * widest inside stretch (0..4 and 6..10 tie: the first). */
    assert_true(geo_poly_contains(&h, c.lat, c.lon));
    assert_float_equal(c.lat, 5, 1e-9);
    assert_float_equal(c.lon, 2, 1e-9);
    struct rec_point s;
    assert_true(geo_poly_scanline_point(&h, 1, &s));
    assert_float_equal(s.lon, 5, 1e-9);
    assert_false(geo_poly_scanline_point(&h, 12, &s));
}

static void test_line(void **state)
{
    (void)state;
    /* An L: north 0.01 degrees, then east 0.01 degrees at the equator. */
    const struct rec_point l[] = {{0, 0}, {0.01, 0}, {0.01, 0.01}};
    double seg1 = geo_distance_m(0, 0, 0.01, 0), seg2 = geo_distance_m(0.01, 0, 0.01, 0.01);
    assert_float_equal(geo_line_length_m(l, 3), seg1 + seg2, 1e-9);
    assert_float_equal(geo_line_length_m(l, 1), 0, 0);
    struct rec_point m = geo_line_point_at(l, 3, 0.5);
    assert_float_equal(m.lat, 0.01, 1e-7);
    assert_float_equal(m.lon, 0, 1e-6);
    m = geo_line_point_at(l, 3, 0.25);
    assert_float_equal(m.lat, 0.005, 1e-6);
    m = geo_line_point_at(l, 3, 2); /* clamped */
    assert_float_equal(m.lon, 0.01, 0);
    m = geo_line_point_at(l, 3, -1);
    assert_float_equal(m.lat, 0, 0);
    struct rec_point c = geo_line_centroid(l, 3);
    assert_float_equal(c.lat, 0.0075, 1e-6);
    assert_float_equal(c.lon, 0.0025, 1e-6);
    const struct rec_point dot[] = {{1, 2}, {1, 2}};
    c = geo_line_centroid(dot, 2);
    assert_float_equal(c.lat, 1, 0);
    assert_float_equal(c.lon, 2, 0);
}

static void test_nearest(void **state)
{
    (void)state;
    const struct rec_point l[] = {{0, 0}, {0, 0.02}};
    struct rec_point at;
    double frac;
    double d = geo_line_nearest(l, 2, 0.001, 0.005, &at, &frac);
    assert_float_equal(at.lat, 0, 1e-12);
    assert_float_equal(at.lon, 0.005, 1e-9);
    assert_float_equal(frac, 0.25, 1e-9);
    assert_float_equal(d, geo_distance_m(0.001, 0.005, 0, 0.005), 1e-6);
    /* Beyond the end: the end point. */
    d = geo_line_nearest(l, 2, 0, 0.03, &at, &frac);
    assert_float_equal(frac, 1, 1e-12);
    assert_float_equal(d, geo_distance_m(0, 0.03, 0, 0.02), 1e-6);
    /* A single point; NULL out-params are allowed. */
    d = geo_line_nearest(l, 1, 0, 0.01, NULL, NULL);
    assert_float_equal(d, geo_distance_m(0, 0.01, 0, 0), 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_bbox),
        cmocka_unit_test(test_contains_with_hole),
        cmocka_unit_test(test_prepared_polygon_with_a_long_edge),
        cmocka_unit_test(test_area),
        cmocka_unit_test(test_centroid),
        cmocka_unit_test(test_centroid_moves_out_of_hole),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_nearest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
