/*
 * index_near.c - the grids of index_near.h: arrays of (cell, item) pairs sorted by cell, so
 * that the items of one cell are one binary search away. Towns are in cells of NEAR_PLACE_DEG
 * degrees (the nearest town is found among the cells its radius covers); areas in cells of
 * NEAR_AREA_DEG, one pair for every cell their bounding box covers.
 */
#include "index/index_near.h"
#include "record/geo.h"
#include "record/record.h"

#include <math.h>
#include <stdlib.h>

#define NEAR_PLACE_DEG 0.25 /* town cells: 28 km of latitude */
#define NEAR_AREA_DEG  1.0  /* area cells */

struct cell_item {
    uint32_t cell, item;
};

/* Items by cell of side deg degrees: while built, (cell, item) pairs in e; then sorted by cell
 * and item and split in two arrays, cell[k] the cell of item[k]. */
struct grid {
    double deg;
    uint32_t rows, cols;
    struct cell_item *e;
    size_t n, cap;
    uint32_t *cell, *item;
};

struct near_grids {
    struct grid towns, areas;
    uint32_t *big; /* areas whose box covers more than NEAR_AREA_CELLS_MAX cells */
    size_t nbig;
};

static double fix2deg(int32_t v)
{
    return v / IX_COORD_SCALE;
}

static void grid_init(struct grid *g, double deg)
{
    g->deg = deg;
    g->rows = (uint32_t)(180 / deg) + 1;
    g->cols = (uint32_t)(360 / deg) + 1;
}

static uint32_t row_of(const struct grid *g, double lat)
{
    long r = (long)floor((lat + 90.0) / g->deg);
    return (uint32_t)(r < 0 ? 0 : r >= (long)g->rows ? g->rows - 1 : r);
}

static uint32_t col_of(const struct grid *g, double lon)
{
    long c = (long)floor((lon + 180.0) / g->deg);
    return (uint32_t)(c < 0 ? 0 : c >= (long)g->cols ? g->cols - 1 : c);
}

static int add(struct grid *g, uint32_t cell, uint32_t item)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        struct cell_item *e = realloc(g->e, cap * sizeof(*e));
        if (!e)
            return -1;
        g->e = e;
        g->cap = cap;
    }
    g->e[g->n].cell = cell;
    g->e[g->n].item = item;
    g->n++;
    return 0;
}

static int by_cell(const void *a, const void *b)
{
    const struct cell_item *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* Sort g's pairs and split them into g->cell and g->item. Return 0, or -1 out of memory. */
static int grid_seal(struct grid *g)
{
    if (g->n) /* an index without towns or areas: no pairs, and qsort must not see NULL */
        qsort(g->e, g->n, sizeof(*g->e), by_cell);
    g->cell = malloc((g->n + 1) * sizeof(uint32_t));
    g->item = malloc((g->n + 1) * sizeof(uint32_t));
    if (!g->cell || !g->item)
        return -1;
    for (size_t k = 0; k < g->n; k++) {
        g->cell[k] = g->e[k].cell;
        g->item[k] = g->e[k].item;
    }
    free(g->e);
    g->e = NULL;
    g->cap = 0;
    return 0;
}

static void grid_free(struct grid *g)
{
    free(g->e);
    free(g->cell);
    free(g->item);
}

/* The items of cell: *n of them at the returned pointer. One binary search. */
static const uint32_t *cell_items(const struct grid *g, uint32_t cell, size_t *n)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->cell[mid] < cell)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t e = lo;
    while (e < g->n && g->cell[e] == cell)
        e++;
    *n = e - lo;
    return g->item + lo;
}

static int build_towns(struct grid *g, const struct index_view *v)
{
    grid_init(g, NEAR_PLACE_DEG);
    for (size_t i = 0; i < v->n_places; i++) {
        const struct ix_place *p = &v->places[i];
        if (p->rank != RANK_CITY || (v->place_info && (v->place_info[i].flags & IXP_ALT_NAME)))
            continue;
        uint32_t cell = row_of(g, fix2deg(p->lat)) * g->cols + col_of(g, fix2deg(p->lon));
        if (add(g, cell, (uint32_t)i) < 0)
            return -1;
    }
    return grid_seal(g);
}

static int build_areas(struct near_grids *ng, const struct index_view *v)
{
    struct grid *g = &ng->areas;
    grid_init(g, NEAR_AREA_DEG);
    size_t capbig = 0;
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        uint32_t r0 = row_of(g, fix2deg(a->min_lat)), r1 = row_of(g, fix2deg(a->max_lat));
        uint32_t c0 = col_of(g, fix2deg(a->min_lon)), c1 = col_of(g, fix2deg(a->max_lon));
        if ((uint64_t)(r1 - r0 + 1) * (c1 - c0 + 1) > NEAR_AREA_CELLS_MAX) {
            if (ng->nbig == capbig) {
                capbig = capbig ? 2 * capbig : 64;
                uint32_t *b = realloc(ng->big, capbig * sizeof(*b));
                if (!b)
                    return -1;
                ng->big = b;
            }
            ng->big[ng->nbig++] = (uint32_t)i;
            continue;
        }
        for (uint32_t r = r0; r <= r1; r++)
            for (uint32_t c = c0; c <= c1; c++)
                if (add(g, r * g->cols + c, (uint32_t)i) < 0)
                    return -1;
    }
    return grid_seal(g);
}

struct near_grids *near_grids_build(const struct index_view *v)
{
    struct near_grids *g = calloc(1, sizeof(*g));
    if (g && (build_towns(&g->towns, v) < 0 || build_areas(g, v) < 0)) {
        near_grids_free(g);
        return NULL;
    }
    return g;
}

void near_grids_free(struct near_grids *g)
{
    if (!g)
        return;
    grid_free(&g->towns);
    grid_free(&g->areas);
    free(g->big);
    free(g);
}

uint32_t near_city(const struct near_grids *ng, const struct index_view *v, double lat, double lon,
                   double radius_m, double *d)
{
    const struct grid *g = ng ? &ng->towns : NULL;
    if (!g || g->n == 0 || !(radius_m > 0))
        return IX_NONE;
    if (radius_m > NEAR_PLACE_MAX_M)
        radius_m = NEAR_PLACE_MAX_M;
    double dlat = radius_m / 111195.0;
    double coslat = cos((fabs(lat) + dlat > 89.9 ? 89.9 : fabs(lat) + dlat) * M_PI / 180.0);
    double dlon = radius_m / (111195.0 * coslat);
    uint32_t r0 = row_of(g, lat - dlat), r1 = row_of(g, lat + dlat);
    /* columns: the span, wrapped at the antimeridian, or all of them near the poles */
    long c0 = (long)floor((lon - dlon + 180.0) / g->deg);
    long c1 = (long)floor((lon + dlon + 180.0) / g->deg);
    if (c1 - c0 + 1 >= (long)g->cols) {
        c0 = 0;
        c1 = (long)g->cols - 1;
    }
    uint32_t best = IX_NONE;
    double bd = radius_m;
    for (uint32_t r = r0; r <= r1; r++)
        for (long c = c0; c <= c1; c++) {
            long cw = ((c % (long)g->cols) + (long)g->cols) % (long)g->cols;
            size_t n;
            const uint32_t *items = cell_items(g, r * g->cols + (uint32_t)cw, &n);
            for (size_t k = 0; k < n; k++) {
                const struct ix_place *p = &v->places[items[k]];
                double dd = geo_approx_distance_m(lat, lon, fix2deg(p->lat), fix2deg(p->lon));
                if (dd < bd || (dd == bd && best != IX_NONE && items[k] < best)) {
                    bd = dd;
                    best = items[k];
                }
            }
        }
    if (best != IX_NONE)
        *d = bd;
    return best;
}

const uint32_t *near_areas(const struct near_grids *ng, double lat, double lon, size_t *ncell,
                           const uint32_t **big, size_t *nbig)
{
    *ncell = 0;
    *big = ng ? ng->big : NULL;
    *nbig = ng ? ng->nbig : 0;
    if (!ng || ng->areas.n == 0)
        return NULL;
    const struct grid *g = &ng->areas;
    return cell_items(g, row_of(g, lat) * g->cols + col_of(g, lon), ncell);
}
