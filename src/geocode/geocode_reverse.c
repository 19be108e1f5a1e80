/*
 * geocode_reverse.c - reverse geocoding: the nearest addresses to a point through the index's
 * grid of cells, else the nearest street line (the number its address ranges give there, on the
 * point's side where the range's side is known), the administrative area that contains the
 * point (or, where only a country or state is known, the nearest town within 30 km).
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "record/geo.h"

#include <math.h>
#include <string.h>

/* Cells of the grid around (lat, lon) within search metres: [cy0, cy1] x [cx0, cx1]. */
static void cell_range(double lat, double lon, double search, int32_t r[4])
{
    double dlat = search / 111320.0;
    double dlon = dlat / fmax(0.01, cos(lat * M_PI / 180));
    r[0] = (int32_t)floor((lat - dlat) / IX_CELL_DEG);
    r[1] = (int32_t)floor((lat + dlat) / IX_CELL_DEG);
    r[2] = (int32_t)floor((lon - dlon) / IX_CELL_DEG);
    r[3] = (int32_t)floor((lon + dlon) / IX_CELL_DEG);
}

static const struct ix_cell *find_cell(const struct ix_cell *cells, size_t n, int32_t cy,
                                       int32_t cx)
{
    uint64_t key = ((uint64_t)(uint32_t)cy << 32) | (uint32_t)cx;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cells[mid].cell < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && cells[lo].cell == key ? &cells[lo] : NULL;
}

/* Distance from (lat, lon) to segment p-q in metres; the nearest point in *nlat, *nlon. */
static double segment_distance(double lat, double lon, const struct ix_point *p,
                               const struct ix_point *q, double *nlat, double *nlon)
{
    double k = cos(lat * M_PI / 180);
    double ax = fix2deg(p->lon) * k, ay = fix2deg(p->lat);
    double bx = fix2deg(q->lon) * k, by = fix2deg(q->lat);
    double px = lon * k, py = lat;
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    *nlat = ay + t * dy;
    *nlon = (ax + t * dx) / k;
    return geo_approx_distance_m(lat, lon, *nlat, *nlon);
}

/* Ray casting on a ring of fixed-point coordinates. */
static bool ring_contains(const struct ix_point *pt, uint32_t n, double lat, double lon)
{
    bool in = false;
    for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
        double yi = fix2deg(pt[i].lat), xi = fix2deg(pt[i].lon);
        double yj = fix2deg(pt[j].lat), xj = fix2deg(pt[j].lon);
        if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static enum gc_level level_of_rank(uint32_t rank)
{
    return rank <= RANK_COUNTRY  ? GL_COUNTRY
           : rank <= RANK_STATE  ? GL_STATE
           : rank <= RANK_COUNTY ? GL_COUNTY
           : rank <= RANK_CITY   ? GL_CITY
                                 : GL_DISTRICT;
}

/* Whether area a is finer than b (or b is NULL): of a finer rank, or of the same rank and a
 * smaller bounding box (an enclave in its country's outer ring: Lesotho in South Africa's),
 * or, all else equal, earlier in the index (the answer does not depend on the order asked). */
static bool finer(const struct ix_admin *a, const struct ix_admin *b)
{
    if (!b || a->rank != b->rank)
        return !b || a->rank > b->rank;
    double sa = ((double)a->max_lat - a->min_lat) * ((double)a->max_lon - a->min_lon);
    double sb = ((double)b->max_lat - b->min_lat) * ((double)b->max_lon - b->min_lon);
    return sa < sb || (sa == sb && a < b);
}

/* Area a, if its box and ring contain the point and its rank is at most max_rank, into
 * by_level (the finest of each level) and *finest (the finest of all). */
static void area_try(const struct index_view *v, uint32_t i, double lat, double lon,
                     uint32_t max_rank, const struct ix_admin *by_level[GL_HOUSENUMBER + 1],
                     const struct ix_admin **finest)
{
    const struct ix_admin *a = &v->admins[i];
    if (a->rank > max_rank || a->geom_count < 3 || lat < fix2deg(a->min_lat) ||
        lat > fix2deg(a->max_lat) || lon < fix2deg(a->min_lon) || lon > fix2deg(a->max_lon))
        return;
    if (!ring_contains(&v->points[a->geom_first], a->geom_count, lat, lon))
        return;
    enum gc_level l = level_of_rank(a->rank);
    if (finer(a, by_level[l]))
        by_level[l] = a;
    if (finer(a, *finest))
        *finest = a;
}

/* The areas of rank at most max_rank that contain the point, by level (the finest of each),
 * into by_level; return the finest of all, or NULL. Only the areas of the point's grid cell
 * and the few too big for the grid are looked at (index_areas_near). */
static const struct ix_admin *areas_at(const struct index *ix, double lat, double lon,
                                       uint32_t max_rank,
                                       const struct ix_admin *by_level[GL_HOUSENUMBER + 1])
{
    const struct index_view *v = index_view(ix);
    const struct ix_admin *finest = NULL;
    const uint32_t *big;
    size_t n, nbig;
    const uint32_t *cell = index_areas_near(ix, lat, lon, &n, &big, &nbig);
    for (size_t i = 0; i < n; i++)
        area_try(v, cell[i], lat, lon, max_rank, by_level, &finest);
    for (size_t i = 0; i < nbig; i++)
        area_try(v, big[i], lat, lon, max_rank, by_level, &finest);
    return finest;
}

/* Area finest as one candidate, the hierarchy filled from by_level. */
static void area_out(const struct index_view *v, const struct ix_admin *finest,
                     const struct ix_admin *const by_level[GL_HOUSENUMBER + 1],
                     struct gc_candidate *o)
{
    gc_init_out(o);
    o->lat = o->nav_lat = fix2deg(finest->lat);
    o->lon = o->nav_lon = fix2deg(finest->lon);
    o->level = level_of_rank(finest->rank);
    memcpy(o->country, finest->country, 2);
    if (by_level[GL_DISTRICT])
        o->district = ix_str(v, by_level[GL_DISTRICT]->name);
    if (by_level[GL_CITY])
        o->city = ix_str(v, by_level[GL_CITY]->name);
    if (by_level[GL_COUNTY])
        o->county = ix_str(v, by_level[GL_COUNTY]->name);
    if (by_level[GL_STATE])
        o->state = ix_str(v, by_level[GL_STATE]->name);
    o->tl_lat = fix2deg(finest->max_lat);
    o->tl_lon = fix2deg(finest->min_lon);
    o->br_lat = fix2deg(finest->min_lat);
    o->br_lon = fix2deg(finest->max_lon);
    o->distance = 0;
    o->relevance = 1.0;
    gc_location_id(o->location_id, sizeof(o->location_id), 'R', (uint32_t)(finest - v->admins),
                   finest->rank);
}

void gc_area_out(const struct index *ix, size_t admin, struct gc_candidate *o)
{
    const struct index_view *v = index_view(ix);
    const struct ix_admin *a = &v->admins[admin];
    const struct ix_admin *by_level[GL_HOUSENUMBER + 1] = {0};
    areas_at(ix, fix2deg(a->lat), fix2deg(a->lon), a->rank, by_level);
    by_level[level_of_rank(a->rank)] = a;
    area_out(v, a, by_level, o);
}

/* City place p at distance d as one candidate; its state and county, else those of the
 * areas that contain the point (by_level). */
static void city_out(const struct index_view *v, const struct ix_place *p, double d,
                     const struct ix_admin *const by_level[GL_HOUSENUMBER + 1],
                     struct gc_candidate *o)
{
    gc_init_out(o);
    o->lat = o->nav_lat = fix2deg(p->lat);
    o->lon = o->nav_lon = fix2deg(p->lon);
    o->level = GL_CITY;
    o->city = ix_str(v, p->name);
    o->county = *ix_str(v, p->county) || !by_level[GL_COUNTY]
                    ? ix_str(v, p->county)
                    : ix_str(v, by_level[GL_COUNTY]->name);
    o->state = *ix_str(v, p->state) || !by_level[GL_STATE] ? ix_str(v, p->state)
                                                           : ix_str(v, by_level[GL_STATE]->name);
    o->country[0] = p->country[0];
    o->country[1] = p->country[1];
    o->distance = d;
    o->relevance = 1.0;
    gc_location_id(o->location_id, sizeof(o->location_id), 'C', p->id, 0);
    gc_set_view(o, 5000);
}

/* The finest area that contains the point, or, when none is as fine as a town (only the
 * country or state is known there, or nothing), the nearest town within 30 km (a GeoNames
 * place) with the hierarchy of the areas; else that coarse area. Return 1 when found. */
static int area_or_city(const struct index *ix, double lat, double lon, struct gc_candidate *o)
{
    const struct index_view *v = index_view(ix);
    const struct ix_admin *by_level[GL_HOUSENUMBER + 1] = {0};
    const struct ix_admin *finest = areas_at(ix, lat, lon, UINT32_MAX, by_level);
    if (finest && finest->rank >= RANK_CITY) {
        area_out(v, finest, by_level, o);
        return 1;
    }
    double d = 0;
    uint32_t p = index_city_nearest(ix, lat, lon, 30000, &d);
    if (p != IX_NONE && (!finest || memcmp(v->places[p].country, finest->country, 2) == 0 ||
                         !v->places[p].country[0])) {
        city_out(v, &v->places[p], d, by_level, o);
        return 1;
    }
    if (!finest)
        return 0;
    area_out(v, finest, by_level, o);
    return 1;
}

/* Where (lat, lon) lies from the line pt[0..n): its distance in metres, the fraction of the
 * line's length at the nearest point (*frac) and the side it is on, looking along the line
 * (*side: SIDE_LEFT or SIDE_RIGHT). */
static double line_position(double lat, double lon, const struct ix_point *pt, uint32_t n,
                            double *frac, enum rec_side *side)
{
    double k = cos(lat * M_PI / 180), best = INFINITY, at = 0, total = 0, cross = 0;
    for (uint32_t i = 1; i < n; i++) {
        double nl, nn;
        double d = segment_distance(lat, lon, &pt[i - 1], &pt[i], &nl, &nn);
        double seg = geo_approx_distance_m(fix2deg(pt[i - 1].lat), fix2deg(pt[i - 1].lon),
                                           fix2deg(pt[i].lat), fix2deg(pt[i].lon));
        if (d < best) {
            best = d;
            at = total +
                 geo_approx_distance_m(fix2deg(pt[i - 1].lat), fix2deg(pt[i - 1].lon), nl, nn);
            double dx = (fix2deg(pt[i].lon) - fix2deg(pt[i - 1].lon)) * k;
            double dy = fix2deg(pt[i].lat) - fix2deg(pt[i - 1].lat);
            double px = (lon - fix2deg(pt[i - 1].lon)) * k, py = lat - fix2deg(pt[i - 1].lat);
            cross = dx * py - dy * px;
        }
        total += seg;
    }
    *frac = total > 0 ? at / total : 0.5;
    *side = cross > 0 ? SIDE_LEFT : SIDE_RIGHT;
    return best;
}

/* The number of range it at fraction frac of its line: its ends' parity kept, within them. */
static long range_number(const struct ix_interp *it, double frac)
{
    long a = it->from, b = it->to, lo = a < b ? a : b, hi = a < b ? b : a;
    double x = (double)a + frac * (double)(b - a);
    long n = lround(x);
    if (it->parity == PARITY_ODD || it->parity == PARITY_EVEN) {
        long p = it->parity == PARITY_ODD ? 1 : 0;
        n = 2 * lround((x - (double)p) / 2) + p;
        if (n < lo)
            n += 2;
        if (n > hi)
            n -= 2;
    }
    return n < lo ? lo : n > hi ? hi : n;
}

#define RANGE_NEAR_M 50.0 /* a range's line this near at most: a house's distance from its line */

/* The number an address range of street s gives (lat, lon), the nearest of them on the point's
 * side (a range of unknown side is on both), within radius_m and RANGE_NEAR_M, as output o: the
 * house where a forward query of that number puts it. Return 1 when a range did. */
static int range_out(const struct index_view *v, uint32_t si, double lat, double lon,
                     double radius_m, struct gc_candidate *o)
{
    const struct ix_street *s = &v->streets[si];
    uint32_t best = IX_NONE;
    double bd = fmin(radius_m, RANGE_NEAR_M), bf = 0;
    for (uint32_t i = s->interp_first; s->interp_count && i < s->interp_first + s->interp_count;
         i++) {
        const struct ix_interp *it = &v->interps[i];
        double frac;
        enum rec_side side;
        double d =
            line_position(lat, lon, &v->points[it->geom_first], it->geom_count, &frac, &side);
        if (it->side != SIDE_UNKNOWN && it->side != (uint32_t)side && d > 1.0)
            continue; /* on the other side (a point on the line is on both) */
        if (d < bd) {
            bd = d;
            best = i;
            bf = frac;
        }
    }
    if (best == IX_NONE)
        return 0;
    const struct ix_interp *it = &v->interps[best];
    long n = range_number(it, bf);
    double plat, plon;
    double f = it->from == it->to ? 0.5 : (double)(n - it->from) / (double)(it->to - it->from);
    gc_point_along(&v->points[it->geom_first], it->geom_count, f, &plat, &plon);
    gc_init_out(o);
    gc_fill_from_street(v, o, s);
    o->lat = o->nav_lat = plat;
    o->lon = o->nav_lon = plon;
    gc_range_house_out(v, s, it, n, o);
    o->level = GL_HOUSENUMBER;
    o->type = GT_INTERPOLATED;
    o->distance = geo_approx_distance_m(lat, lon, plat, plon);
    o->relevance = 1.0;
    return 1;
}

/* The nearest street line within radius_m: the number of its address ranges there, else the
 * street. Return 1 when found. */
static int nearest_street(const struct index_view *v, double lat, double lon, double radius_m,
                          struct gc_candidate *o)
{
    int32_t r[4];
    cell_range(lat, lon, radius_m, r);
    uint32_t best = IX_NONE;
    double bd = radius_m, blat = 0, blon = 0;
    for (int32_t cy = r[0]; cy <= r[1]; cy++)
        for (int32_t cx = r[2]; cx <= r[3]; cx++) {
            const struct ix_cell *c = find_cell(v->scells, v->n_scells, cy, cx);
            for (uint32_t k = 0; c && k < c->count; k++) {
                uint32_t si = v->scell_streets[c->first + k];
                const struct ix_street *s = &v->streets[si];
                /* its ways; a street of address ranges alone (TIGER's): their lines */
                uint32_t lines = s->geom_count ? 1 : s->interp_count;
                for (uint32_t l = 0; l < lines; l++) {
                    const struct ix_interp *it =
                        s->geom_count ? NULL : &v->interps[s->interp_first + l];
                    const struct ix_point *pt = &v->points[it ? it->geom_first : s->geom_first];
                    uint32_t n = it ? it->geom_count : s->geom_count;
                    for (uint32_t i = 1; i < n; i++) {
                        if (pt[i].lat == IX_PART_BREAK || pt[i - 1].lat == IX_PART_BREAK)
                            continue;
                        double nl, nn;
                        double d = segment_distance(lat, lon, &pt[i - 1], &pt[i], &nl, &nn);
                        if (d < bd || (d == bd && si < best)) {
                            bd = d;
                            best = si;
                            blat = nl;
                            blon = nn;
                        }
                    }
                }
            }
        }
    if (best == IX_NONE)
        return 0;
    if (range_out(v, best, lat, lon, radius_m, o))
        return 1;
    const struct ix_street *s = &v->streets[best];
    gc_init_out(o);
    gc_fill_from_street(v, o, s);
    o->lat = o->nav_lat = blat;
    o->lon = o->nav_lon = blon;
    o->level = GL_STREET;
    o->distance = bd;
    o->relevance = 1.0;
    gc_location_id(o->location_id, sizeof(o->location_id), 'S', s->id, 0);
    gc_set_view(o, 200);
    return 1;
}

/* An address within the search radius and its distance. */
struct near_addr {
    uint32_t addr;
    double d; /* metres */
};

/* The max nearest addresses within radius_m of (lat, lon) into best[0..max), nearest first
 * (equal distances: lower index first). Return how many. */
static int nearest_addresses(const struct index_view *v, double lat, double lon, double radius_m,
                             int max, struct near_addr *best)
{
    int32_t r[4];
    cell_range(lat, lon, radius_m, r);
    int nb = 0;
    for (int32_t cy = r[0]; cy <= r[1]; cy++) {
        for (int32_t cx = r[2]; cx <= r[3]; cx++) {
            const struct ix_cell *c = find_cell(v->cells, v->n_cells, cy, cx);
            for (uint32_t k = 0; c && k < c->count; k++) {
                uint32_t a = v->cell_addrs[c->first + k];
                double d = geo_approx_distance_m(lat, lon, fix2deg(v->addrs[a].lat),
                                                 fix2deg(v->addrs[a].lon));
                if (d > radius_m)
                    continue;
                int pos = nb;
                while (pos > 0 &&
                       (best[pos - 1].d > d || (best[pos - 1].d == d && best[pos - 1].addr > a))) {
                    if (pos < max)
                        best[pos] = best[pos - 1];
                    pos--;
                }
                if (pos < max) {
                    best[pos].addr = a;
                    best[pos].d = d;
                    if (nb < max)
                        nb++;
                }
            }
        }
    }
    return nb;
}

/* Address point n (at distance n->d) as output o. */
static void emit_address(const struct index_view *v, const struct near_addr *n,
                         struct gc_candidate *o)
{
    const struct ix_addr *a = &v->addrs[n->addr];
    const struct ix_street *s = &v->streets[a->street];
    gc_init_out(o);
    gc_fill_from_street(v, o, s);
    o->lat = o->nav_lat = fix2deg(a->lat);
    o->lon = o->nav_lon = fix2deg(a->lon);
    o->house_number = ix_str(v, a->raw);
    if (*ix_str(v, a->postcode))
        o->postcode = ix_str(v, a->postcode);
    o->level = GL_HOUSENUMBER;
    o->type = GT_POINT;
    o->distance = n->d;
    o->relevance = 1.0;
    gc_location_id(o->location_id, sizeof(o->location_id), 'A', s->id, a->id);
    gc_set_view(o, 50);
}

int geocode_reverse(const struct index *ix, double lat, double lon, double radius_m,
                    int max_results, struct gc_result *out)
{
    const struct index_view *v = index_view(ix);
    out->n = 0;
    if (max_results < 1)
        max_results = 1;
    if (max_results > GC_MAX_CANDIDATES)
        max_results = GC_MAX_CANDIDATES;
    if (!(radius_m > 0))
        radius_m = GC_DEFAULT_RADIUS_M;
    if (radius_m > 20000)
        radius_m = 20000;
    struct near_addr best[GC_MAX_CANDIDATES + 1];
    int nb = nearest_addresses(v, lat, lon, radius_m, max_results, best);
    for (int i = 0; i < nb; i++)
        emit_address(v, &best[i], &out->c[i]);
    out->n = nb;
    if (nb == 0 && (nearest_street(v, lat, lon, radius_m, &out->c[0]) ||
                    area_or_city(ix, lat, lon, &out->c[0])))
        out->n = 1;
    for (int i = 0; i < out->n; i++)
        gc_postcode_town_out(ix, &out->c[i]);
    return 0;
}

int geocode_reverse_areas(const struct index *ix, double lat, double lon, struct gc_result *out)
{
    out->n = area_or_city(ix, lat, lon, &out->c[0]);
    return 0;
}
