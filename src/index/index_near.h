/*
 * index_near.h - inside src/index: grids that answer "what is near this point" without a scan
 * of every place or area: the town places by cell (the nearest town to a point) and the
 * administrative areas by the cells their bounding boxes cover (the areas that may contain a
 * point). The index file has no such sections: index.c builds them in memory on first use
 * (derived, read-only tables) and owns them.
 *
 * Thread safety: built once, then only read.
 */
#ifndef GEOBATCH_INDEX_NEAR_H
#define GEOBATCH_INDEX_NEAR_H

#include "index/index_format.h"

#include <stddef.h>
#include <stdint.h>

struct near_grids;

/* The grids of v: its city-rank places under their own names (not their alternate-name
 * entries), 8 bytes a place, and its areas, 8 bytes for each cell an area's box covers (an
 * area that covers more than NEAR_AREA_CELLS_MAX cells, a country, is in a list of its own).
 * NULL when out of memory. */
#define NEAR_AREA_CELLS_MAX 64
struct near_grids *near_grids_build(const struct index_view *v);

/* Free g (NULL is fine). */
void near_grids_free(struct near_grids *g);

/* The place of g nearest to (lat, lon) within radius_m (at most NEAR_PLACE_MAX_M), and its
 * distance in *d; IX_NONE when none. Equal distances: the lower place index. Work: the cells
 * the radius covers, a binary search each. */
#define NEAR_PLACE_MAX_M 100000.0
uint32_t near_city(const struct near_grids *g, const struct index_view *v, double lat, double lon,
                   double radius_m, double *d);

/* The areas whose bounding box may hold (lat, lon): *ncell of them at the returned pointer
 * (those of its cell), and *nbig at *big (the areas too big for the grid). Either may hold
 * areas whose box does not hold the point; callers check. */
const uint32_t *near_areas(const struct near_grids *g, double lat, double lon, size_t *ncell,
                           const uint32_t **big, size_t *nbig);

#endif
