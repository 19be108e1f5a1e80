/*
 * index_near.c - the city places of an index by grid cell (index_near.h): an array of
 * (cell, place) pairs sorted by cell, so that the places of one cell are one binary search
 * away and the nearest city to a point is found among the cells its radius covers.
 */
#include "index/index_near.h"
#include "base/mem.h"
#include "index/index_format.h"
#include "record/geo.h"
#include "record/record.h"

#include <math.h>
#include <stdlib.h>

#define PLACE_GRID_DEG 0.25 /* cell side in degrees: 28 km of latitude */
#define GRID_ROWS      ((uint32_t)(180 / PLACE_GRID_DEG) + 1)
#define GRID_COLS      ((uint32_t)(360 / PLACE_GRID_DEG) + 1)

static double fix2deg(int32_t v)
{
    return v / IX_COORD_SCALE;
}

struct cell_place {
    uint32_t cell, place;
};

struct place_grid {
    struct cell_place *e; /* sorted by cell, then place */
    size_t n;
};

static uint32_t row_of(double lat)
{
    long r = (long)floor((lat + 90.0) / PLACE_GRID_DEG);
    return (uint32_t)(r < 0 ? 0 : r >= (long)GRID_ROWS ? GRID_ROWS - 1 : r);
}

static uint32_t col_of(double lon)
{
    long c = (long)floor((lon + 180.0) / PLACE_GRID_DEG);
    return (uint32_t)(c < 0 ? 0 : c >= (long)GRID_COLS ? GRID_COLS - 1 : c);
}

static int by_cell(const void *a, const void *b)
{
    const struct cell_place *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->place < y->place ? -1 : x->place > y->place;
}

struct place_grid *place_grid_build(const struct index_view *v)
{
    struct place_grid *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < v->n_places; i++)
        n += v->places[i].rank == RANK_CITY &&
             !(v->place_info && (v->place_info[i].flags & IXP_ALT_NAME));
    g->e = n ? malloc(n * sizeof(*g->e)) : NULL;
    if (n && !g->e) {
        free(g);
        return NULL;
    }
    for (size_t i = 0; i < v->n_places; i++) {
        const struct ix_place *p = &v->places[i];
        if (p->rank != RANK_CITY || (v->place_info && (v->place_info[i].flags & IXP_ALT_NAME)))
            continue;
        g->e[g->n].cell = row_of(fix2deg(p->lat)) * GRID_COLS + col_of(fix2deg(p->lon));
        g->e[g->n].place = (uint32_t)i;
        g->n++;
    }
    qsort(g->e, g->n, sizeof(*g->e), by_cell);
    return g;
}

void place_grid_free(struct place_grid *g)
{
    if (!g)
        return;
    free(g->e);
    free(g);
}

/* The first entry of cell, or g->n. */
static size_t cell_first(const struct place_grid *g, uint32_t cell)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->e[mid].cell < cell)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t place_grid_nearest(const struct place_grid *g, const struct index_view *v, double lat,
                            double lon, double radius_m, double *d)
{
    if (!g || g->n == 0 || !(radius_m > 0))
        return IX_NONE;
    if (radius_m > PLACE_GRID_MAX_M)
        radius_m = PLACE_GRID_MAX_M;
    double dlat = radius_m / 111195.0;
    double coslat = cos((fabs(lat) + dlat > 89.9 ? 89.9 : fabs(lat) + dlat) * M_PI / 180.0);
    double dlon = radius_m / (111195.0 * coslat);
    uint32_t r0 = row_of(lat - dlat), r1 = row_of(lat + dlat);
    /* columns: the span, wrapped at the antimeridian, or all of them near the poles */
    long c0 = (long)floor((lon - dlon + 180.0) / PLACE_GRID_DEG);
    long c1 = (long)floor((lon + dlon + 180.0) / PLACE_GRID_DEG);
    if (c1 - c0 + 1 >= (long)GRID_COLS) {
        c0 = 0;
        c1 = (long)GRID_COLS - 1;
    }
    uint32_t best = IX_NONE;
    double bd = radius_m;
    for (uint32_t r = r0; r <= r1; r++)
        for (long c = c0; c <= c1; c++) {
            long cw = ((c % (long)GRID_COLS) + (long)GRID_COLS) % (long)GRID_COLS;
            uint32_t cell = r * GRID_COLS + (uint32_t)cw;
            for (size_t k = cell_first(g, cell); k < g->n && g->e[k].cell == cell; k++) {
                const struct ix_place *p = &v->places[g->e[k].place];
                double dd = geo_approx_distance_m(lat, lon, fix2deg(p->lat), fix2deg(p->lon));
                if (dd < bd || (dd == bd && best != IX_NONE && g->e[k].place < best)) {
                    bd = dd;
                    best = g->e[k].place;
                }
            }
        }
    if (best != IX_NONE)
        *d = bd;
    return best;
}
