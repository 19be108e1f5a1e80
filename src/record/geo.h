/*
 * geo.h - small geometry helpers on WGS84 lat/lon points (struct rec_point).
 *
 * Distances use the haversine formula on a sphere of radius GEO_EARTH_RADIUS_M. Areas and
 * nearest-point searches use a local equirectangular projection around the geometry, which is
 * accurate to well under a percent for anything smaller than a country and good enough for
 * choosing between candidates. Pure functions: no I/O, no globals; geo_pip objects are read-only
 * after geo_pip_new() and may be shared between threads.
 */
#ifndef GEOBATCH_GEO_H
#define GEOBATCH_GEO_H

#include "record/record.h"

#include <stdbool.h>
#include <stddef.h>

#define GEO_EARTH_RADIUS_M 6371008.8

/* Return the great-circle distance in metres between two points (haversine). */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* The cosine of a latitude in degrees, as geo_distance_m() takes it. */
double geo_cos_lat(double lat);

/* geo_distance_m() given both latitudes' geo_cos_lat(), for a caller that measures from one
 * point to many it has prepared: the same result, bit for bit. */
double geo_distance_cos_m(double lat1, double lon1, double cos1, double lat2, double lon2,
                          double cos2);

/* A bound no geo_distance_m() between points at these latitudes is below (the distance along a
 * meridian, less a margin for rounding): to skip the points that cannot be near enough. */
double geo_lat_gap_m(double lat1, double lat2);

/* The equirectangular approximation of the same: within 0.5% up to tens of kilometres and much
 * cheaper; for ranking and thresholds on the hot path, not for long distances. */
double geo_approx_distance_m(double lat1, double lon1, double lat2, double lon2);

struct geo_bbox {
    double min_lat, min_lon, max_lat, max_lon; /* empty when min > max */
};

/* Make b empty (contains nothing; the first geo_bbox_extend() sets it to one point). */
void geo_bbox_empty(struct geo_bbox *b);

/* Grow b to include the point. */
void geo_bbox_extend(struct geo_bbox *b, double lat, double lon);

/* Return true when the point lies inside b or on its edge. */
bool geo_bbox_contains(const struct geo_bbox *b, double lat, double lon);

/* Return true when a and b share at least one point. */
bool geo_bbox_intersects(const struct geo_bbox *a, const struct geo_bbox *b);

/*
 * A polygon with holes, or several polygons: n_rings rings; ring i is pts[s, ring_end[i]) with
 * s = ring_end[i - 1] (0 for the first). A ring may repeat its first point at the end or not: the
 * closing edge is implied. Holes need no special marking: containment follows the even-odd
 * rule over all rings, so a hole inside an outer ring is outside the polygon.
 */
struct geo_poly {
    const struct rec_point *pts;
    const size_t *ring_end;
    size_t n_rings;
};

/* Return true when the point is inside p (even-odd rule). O(number of points). */
bool geo_poly_contains(const struct geo_poly *p, double lat, double lon);

/* Return the area of p in square metres: rings that are holes (inside an odd number of other
 * rings) count negative. Never negative itself. */
double geo_poly_area_m2(const struct geo_poly *p);

/*
 * Set *out to a representative point of p: its area-weighted centroid when that lies inside p,
 * otherwise a point inside p on the centroid's latitude (the middle of the widest inside
 * stretch). A polygon without area (all points on a line) gives the mean of its points.
 * Return false only when p has no points (then *out is untouched).
 */
bool geo_poly_centroid(const struct geo_poly *p, struct rec_point *out);

/* Set *out to the middle of the widest stretch of latitude lat that lies inside p. Return
 * false (and leave *out alone) when that latitude does not cross p. */
bool geo_poly_scanline_point(const struct geo_poly *p, double lat, struct rec_point *out);

/* Return the length in metres of the polyline pts[0..n). 0 for n < 2. */
double geo_line_length_m(const struct rec_point *pts, size_t n);

/* Return the point at fraction frac (clamped to 0..1) of the length of the polyline, n >= 1. */
struct rec_point geo_line_point_at(const struct rec_point *pts, size_t n, double frac);

/* Return the length-weighted centroid of the polyline (mean of segment midpoints weighted by
 * segment length; the mean of the points when the length is 0), n >= 1. */
struct rec_point geo_line_centroid(const struct rec_point *pts, size_t n);

/*
 * Find the point of the polyline pts[0..n) (n >= 1) nearest to (lat, lon). Return its distance
 * in metres; set *at to it and *frac to its position as a fraction of the line's length (0 for
 * a line of length 0) when they are not NULL.
 */
double geo_line_nearest(const struct rec_point *pts, size_t n, double lat, double lon,
                        struct rec_point *at, double *frac);

/*
 * A polygon prepared for many containment tests: its edges sorted into horizontal bands, so a
 * test looks only at the edges crossing the point's latitude band. Copies what it needs from p.
 */
struct geo_pip;

/* Prepare p. Return the new object (free it with geo_pip_free()); never NULL (aborts when out
 * of memory). A polygon without points gives an object that contains nothing. */
struct geo_pip *geo_pip_new(const struct geo_poly *p);

/* Return true when the point is inside (same answer as geo_poly_contains()). */
bool geo_pip_contains(const struct geo_pip *ix, double lat, double lon);

/* Return the bounding box of the prepared polygon. */
const struct geo_bbox *geo_pip_bbox(const struct geo_pip *ix);

/* Ring r of the polygon as geo_pip_new() was given it: its first point and *n points (not
 * closed again), valid until geo_pip_free(): a caller need not keep its own copy. */
const struct rec_point *geo_pip_ring(const struct geo_pip *ix, size_t r, size_t *n);

/* The polygon as the object keeps it, each ring closed by a copy of its first point, valid
 * until geo_pip_free(): the same crossings for geo_poly_contains() and
 * geo_poly_scanline_point() (the closing edge has no length), not for the area or centroid,
 * which average the points. */
struct geo_poly geo_pip_poly(const struct geo_pip *ix);

void geo_pip_free(struct geo_pip *ix);

#endif
