/*
 * geo.c - geometry helpers for importers and the geocoder (see geo.h).
 *
 * Everything works on plain lat/lon arrays. Planar computations (areas, centroids, nearest
 * points) project locally: x = lon * cos(lat0), y = lat, in degrees, then scale to metres where
 * a metric result is promised.
 */
#include "record/geo.h"
#include "base/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEG2RAD   (M_PI / 180.0)
#define M_PER_DEG (GEO_EARTH_RADIUS_M * DEG2RAD)

double geo_cos_lat(double lat)
{
    return cos(lat * DEG2RAD);
}

double geo_distance_cos_m(double lat1, double lon1, double cos1, double lat2, double lon2,
                          double cos2)
{
    double dp = (lat2 - lat1) * DEG2RAD, dl = (lon2 - lon1) * DEG2RAD;
    double a = sin(dp / 2) * sin(dp / 2) + cos1 * cos2 * sin(dl / 2) * sin(dl / 2);
    if (a > 1)
        a = 1;
    return 2 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    return geo_distance_cos_m(lat1, lon1, geo_cos_lat(lat1), lat2, lon2, geo_cos_lat(lat2));
}

double geo_lat_gap_m(double lat1, double lat2)
{
    /* haversine's a is at least sin^2(dp / 2), so the distance at least R |dp|; the margin
     * covers the rounding of both computations */
    double d = GEO_EARTH_RADIUS_M * fabs(lat2 - lat1) * DEG2RAD;
    return d * (1 - 1e-9) - 1e-6;
}

void geo_bbox_empty(struct geo_bbox *b)
{
    b->min_lat = b->min_lon = INFINITY;
    b->max_lat = b->max_lon = -INFINITY;
}

void geo_bbox_extend(struct geo_bbox *b, double lat, double lon)
{
    if (lat < b->min_lat)
        b->min_lat = lat;
    if (lat > b->max_lat)
        b->max_lat = lat;
    if (lon < b->min_lon)
        b->min_lon = lon;
    if (lon > b->max_lon)
        b->max_lon = lon;
}

bool geo_bbox_contains(const struct geo_bbox *b, double lat, double lon)
{
    return lat >= b->min_lat && lat <= b->max_lat && lon >= b->min_lon && lon <= b->max_lon;
}

bool geo_bbox_intersects(const struct geo_bbox *a, const struct geo_bbox *b)
{
    return a->min_lat <= b->max_lat && b->min_lat <= a->max_lat && a->min_lon <= b->max_lon &&
           b->min_lon <= a->max_lon;
}

static size_t ring_start(const struct geo_poly *p, size_t i)
{
    return i ? p->ring_end[i - 1] : 0;
}

/* Toggle-count the crossings of a ray from (lat, lon) towards +lon with ring pts[s, e). */
static bool ring_crosses_odd(const struct rec_point *pts, size_t s, size_t e, double lat,
                             double lon)
{
    bool in = false;
    if (e <= s)
        return false;
    for (size_t i = s, j = e - 1; i < e; j = i++) {
        double yi = pts[i].lat, yj = pts[j].lat;
        if ((yi > lat) != (yj > lat)) {
            double x = pts[i].lon + (lat - yi) * (pts[j].lon - pts[i].lon) / (yj - yi);
            if (lon < x)
                in = !in;
        }
    }
    return in;
}

bool geo_poly_contains(const struct geo_poly *p, double lat, double lon)
{
    bool in = false;
    for (size_t r = 0; r < p->n_rings; r++)
        if (ring_crosses_odd(p->pts, ring_start(p, r), p->ring_end[r], lat, lon))
            in = !in;
    return in;
}

/* The planar signed area (shoelace) and centroid sums of one ring in projected degrees. */
static double ring_sums(const struct rec_point *pts, size_t s, size_t e, double k, double *cx,
                        double *cy)
{
    double a = 0;
    *cx = *cy = 0;
    if (e - s < 3)
        return 0;
    /* Subtract the first point to keep the products small and precise. */
    double x0 = pts[s].lon * k, y0 = pts[s].lat;
    for (size_t i = s, j = e - 1; i < e; j = i++) {
        double xi = pts[i].lon * k - x0, yi = pts[i].lat - y0;
        double xj = pts[j].lon * k - x0, yj = pts[j].lat - y0;
        double f = xj * yi - xi * yj;
        a += f;
        *cx += (xj + xi) * f;
        *cy += (yj + yi) * f;
    }
    a /= 2;
    if (a != 0) {
        *cx = *cx / (6 * a) + x0;
        *cy = *cy / (6 * a) + y0;
    }
    return a;
}

static double poly_mean_lat(const struct geo_poly *p)
{
    size_t n = p->n_rings ? p->ring_end[p->n_rings - 1] : 0;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += p->pts[i].lat;
    return n ? s / (double)n : 0;
}

/* Return true when ring r lies inside an odd number of the other rings (a hole). */
static bool ring_is_hole(const struct geo_poly *p, size_t r)
{
    size_t s = ring_start(p, r);
    if (s >= p->ring_end[r])
        return false;
    bool in = false;
    for (size_t o = 0; o < p->n_rings; o++)
        if (o != r && ring_crosses_odd(p->pts, ring_start(p, o), p->ring_end[o], p->pts[s].lat,
                                       p->pts[s].lon))
            in = !in;
    return in;
}

double geo_poly_area_m2(const struct geo_poly *p)
{
    double k = cos(poly_mean_lat(p) * DEG2RAD), total = 0, cx, cy;
    for (size_t r = 0; r < p->n_rings; r++) {
        double a = fabs(ring_sums(p->pts, ring_start(p, r), p->ring_end[r], k, &cx, &cy));
        total += ring_is_hole(p, r) ? -a : a;
    }
    total *= M_PER_DEG * M_PER_DEG;
    return total > 0 ? total : 0;
}

bool geo_poly_scanline_point(const struct geo_poly *p, double lat, struct rec_point *out)
{
    size_t nx = 0, cap = 16;
    double *xs = xmallocarray(cap, sizeof(*xs));
    for (size_t r = 0; r < p->n_rings; r++) {
        size_t s = ring_start(p, r), e = p->ring_end[r];
        for (size_t i = s, j = e ? e - 1 : 0; i < e; j = i++) {
            double yi = p->pts[i].lat, yj = p->pts[j].lat;
            if ((yi > lat) != (yj > lat)) {
                if (nx == cap) {
                    cap *= 2;
                    xs = xreallocarray(xs, cap, sizeof(*xs));
                }
                xs[nx++] = p->pts[i].lon + (lat - yi) * (p->pts[j].lon - p->pts[i].lon) / (yj - yi);
            }
        }
    }
    /* Insertion sort: crossings of one scanline are few. */
    for (size_t i = 1; i < nx; i++)
        for (size_t j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
            double t = xs[j];
            xs[j] = xs[j - 1];
            xs[j - 1] = t;
        }
    double best = -1;
    for (size_t i = 0; i + 1 < nx; i += 2)
        if (xs[i + 1] - xs[i] > best) {
            best = xs[i + 1] - xs[i];
            out->lat = lat;
            out->lon = (xs[i] + xs[i + 1]) / 2;
        }
    free(xs);
    return best >= 0;
}

bool geo_poly_centroid(const struct geo_poly *p, struct rec_point *out)
{
    size_t n = p->n_rings ? p->ring_end[p->n_rings - 1] : 0;
    if (n == 0)
        return false;
    double k = cos(poly_mean_lat(p) * DEG2RAD), sa = 0, sx = 0, sy = 0, cx, cy;
    for (size_t r = 0; r < p->n_rings; r++) {
        double a = ring_sums(p->pts, ring_start(p, r), p->ring_end[r], k, &cx, &cy);
        double w = fabs(a) * (ring_is_hole(p, r) ? -1 : 1);
        sa += w;
        sx += w * cx;
        sy += w * cy;
    }
    struct rec_point c;
    if (sa > 0 && k > 0) {
        c.lat = sy / sa;
        c.lon = sx / sa / k;
        /* A concave or holed shape can have its centroid outside: move it inside. */
        if (!geo_poly_contains(p, c.lat, c.lon))
            (void)geo_poly_scanline_point(p, c.lat, &c);
        *out = c;
        return true;
    }
    c.lat = c.lon = 0;
    for (size_t i = 0; i < n; i++) {
        c.lat += p->pts[i].lat;
        c.lon += p->pts[i].lon;
    }
    c.lat /= (double)n;
    c.lon /= (double)n;
    *out = c;
    return true;
}

double geo_line_length_m(const struct rec_point *pts, size_t n)
{
    double len = 0;
    for (size_t i = 1; i < n; i++)
        len += geo_distance_m(pts[i - 1].lat, pts[i - 1].lon, pts[i].lat, pts[i].lon);
    return len;
}

struct rec_point geo_line_point_at(const struct rec_point *pts, size_t n, double frac)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    double want = geo_line_length_m(pts, n) * frac, done = 0;
    for (size_t i = 1; i < n; i++) {
        double d = geo_distance_m(pts[i - 1].lat, pts[i - 1].lon, pts[i].lat, pts[i].lon);
        if (d > 0 && done + d >= want) {
            double t = (want - done) / d;
            struct rec_point r = {pts[i - 1].lat + t * (pts[i].lat - pts[i - 1].lat),
                                  pts[i - 1].lon + t * (pts[i].lon - pts[i - 1].lon)};
            return r;
        }
        done += d;
    }
    return frac <= 0 ? pts[0] : pts[n - 1];
}

struct rec_point geo_line_centroid(const struct rec_point *pts, size_t n)
{
    double sw = 0, sx = 0, sy = 0;
    for (size_t i = 1; i < n; i++) {
        double d = geo_distance_m(pts[i - 1].lat, pts[i - 1].lon, pts[i].lat, pts[i].lon);
        sw += d;
        sy += d * (pts[i - 1].lat + pts[i].lat) / 2;
        sx += d * (pts[i - 1].lon + pts[i].lon) / 2;
    }
    struct rec_point c = {0, 0};
    if (sw > 0) {
        c.lat = sy / sw;
        c.lon = sx / sw;
        return c;
    }
    for (size_t i = 0; i < n; i++) {
        c.lat += pts[i].lat;
        c.lon += pts[i].lon;
    }
    c.lat /= (double)n;
    c.lon /= (double)n;
    return c;
}

double geo_line_nearest(const struct rec_point *pts, size_t n, double lat, double lon,
                        struct rec_point *at, double *frac)
{
    double k = cos(lat * DEG2RAD), best = INFINITY, best_along = 0, along = 0;
    struct rec_point bp = pts[0];
    for (size_t i = 0; i < n; i++) {
        struct rec_point q = pts[i];
        double t = 0, seg = 0;
        if (i + 1 < n) {
            double ax = pts[i].lon * k, ay = pts[i].lat;
            double dx = pts[i + 1].lon * k - ax, dy = pts[i + 1].lat - ay;
            double l2 = dx * dx + dy * dy;
            if (l2 > 0) {
                t = ((lon * k - ax) * dx + (lat - ay) * dy) / l2;
                t = t < 0 ? 0 : t > 1 ? 1 : t;
            }
            q.lat = pts[i].lat + t * (pts[i + 1].lat - pts[i].lat);
            q.lon = pts[i].lon + t * (pts[i + 1].lon - pts[i].lon);
            seg = geo_distance_m(pts[i].lat, pts[i].lon, pts[i + 1].lat, pts[i + 1].lon);
        }
        double d = geo_distance_m(lat, lon, q.lat, q.lon);
        if (d < best) {
            best = d;
            bp = q;
            best_along = along + t * seg;
        }
        along += seg;
    }
    if (at)
        *at = bp;
    if (frac)
        *frac = along > 0 ? best_along / along : 0;
    return best;
}

/* ---- prepared polygons ---------------------------------------------------------------- */

/* Each edge is kept once: the points are stored ring after ring, each ring followed by a copy
 * of its first point, so edge j runs from pts[j] to pts[j + 1], and a band lists the edges that
 * cross it by j. An edge long in latitude (a repaired ring's closing line crosses the whole
 * polygon) is in many bands: 4 bytes each, not its two points (32). */
struct geo_pip {
    struct geo_bbox bbox;
    double band_h;         /* height of a band in degrees */
    size_t n_bands;        /* >= 1 */
    size_t *band_off;      /* n_bands + 1 offsets into edge */
    uint32_t *edge;        /* the edges of each band, by their first point's index into pts */
    struct rec_point *pts; /* the rings, each closed by a copy of its first point */
    size_t *ring_end;      /* n_rings: one past each ring's copy of its first point */
    size_t n_rings;
};

static size_t pip_band(const struct geo_pip *ix, double lat)
{
    double f = (lat - ix->bbox.min_lat) / ix->band_h;
    if (!(f > 0))
        return 0;
    size_t b = (size_t)f;
    return b >= ix->n_bands ? ix->n_bands - 1 : b;
}

struct geo_pip *geo_pip_new(const struct geo_poly *p)
{
    struct geo_pip *ix = xcalloc(1, sizeof(*ix));
    size_t n = p->n_rings ? p->ring_end[p->n_rings - 1] : 0;
    if (n + p->n_rings >= UINT32_MAX)
        abort(); /* a polygon of 4 G points: no memory holds its edges */
    geo_bbox_empty(&ix->bbox);
    for (size_t i = 0; i < n; i++)
        geo_bbox_extend(&ix->bbox, p->pts[i].lat, p->pts[i].lon);
    ix->n_bands = n / 4 < 1 ? 1 : n / 4 > 4096 ? 4096 : n / 4;
    double h = n ? ix->bbox.max_lat - ix->bbox.min_lat : 0;
    ix->band_h = h > 0 ? h / (double)ix->n_bands : 1;
    ix->band_off = xcalloc(ix->n_bands + 1, sizeof(size_t));
    ix->n_rings = p->n_rings;
    ix->ring_end = xmallocarray(p->n_rings, sizeof(size_t));
    ix->pts = xmallocarray(n + p->n_rings, sizeof(struct rec_point));
    for (size_t r = 0, at = 0; r < p->n_rings; r++) {
        size_t s = ring_start(p, r), e = p->ring_end[r];
        memcpy(ix->pts + at, p->pts + s, (e - s) * sizeof(struct rec_point));
        at += e - s;
        if (e > s)
            ix->pts[at++] = p->pts[s];
        ix->ring_end[r] = at;
    }
    /* Two rounds over the edges: count per band, then place. */
    for (int round = 0; round < 2; round++) {
        size_t *fill = round ? xcalloc(ix->n_bands, sizeof(size_t)) : NULL;
        for (size_t r = 0; r < ix->n_rings; r++) {
            size_t s = r ? ix->ring_end[r - 1] : 0, e = ix->ring_end[r];
            for (size_t j = s; j + 1 < e; j++) {
                double y0 = ix->pts[j].lat, y1 = ix->pts[j + 1].lat;
                if (y0 == y1)
                    continue; /* horizontal edges never count as crossings */
                size_t b0 = pip_band(ix, y0 < y1 ? y0 : y1), b1 = pip_band(ix, y0 < y1 ? y1 : y0);
                for (size_t b = b0; b <= b1; b++) {
                    if (!round)
                        ix->band_off[b + 1]++;
                    else
                        ix->edge[ix->band_off[b] + fill[b]++] = (uint32_t)j;
                }
            }
        }
        if (!round) {
            for (size_t b = 0; b < ix->n_bands; b++)
                ix->band_off[b + 1] += ix->band_off[b];
            ix->edge = xmallocarray(ix->band_off[ix->n_bands], sizeof(uint32_t));
        }
        free(fill);
    }
    return ix;
}

bool geo_pip_contains(const struct geo_pip *ix, double lat, double lon)
{
    if (!geo_bbox_contains(&ix->bbox, lat, lon))
        return false;
    size_t b = pip_band(ix, lat);
    bool in = false;
    for (size_t k = ix->band_off[b]; k < ix->band_off[b + 1]; k++) {
        const struct rec_point *ea = &ix->pts[ix->edge[k]], *eb = ea + 1;
        double yi = eb->lat, yj = ea->lat;
        if ((yi > lat) != (yj > lat)) {
            double x = eb->lon + (lat - yi) * (ea->lon - eb->lon) / (yj - yi);
            if (lon < x)
                in = !in;
        }
    }
    return in;
}

const struct geo_bbox *geo_pip_bbox(const struct geo_pip *ix)
{
    return &ix->bbox;
}

const struct rec_point *geo_pip_ring(const struct geo_pip *ix, size_t r, size_t *n)
{
    size_t s = r ? ix->ring_end[r - 1] : 0;
    *n = ix->ring_end[r] - s - 1;
    return ix->pts + s;
}

struct geo_poly geo_pip_poly(const struct geo_pip *ix)
{
    return (struct geo_poly){ix->pts, ix->ring_end, ix->n_rings};
}

void geo_pip_free(struct geo_pip *ix)
{
    if (!ix)
        return;
    free(ix->band_off);
    free(ix->edge);
    free(ix->pts);
    free(ix->ring_end);
    free(ix);
}

double geo_approx_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double dy = (lat2 - lat1) * 111320.0;
    double dx = (lon2 - lon1) * 111320.0 * cos((lat1 + lat2) * M_PI / 360);
    return sqrt(dx * dx + dy * dy);
}
