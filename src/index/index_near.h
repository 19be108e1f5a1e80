/*
 * index_near.h - inside src/index: the grid of city places that answers "the nearest city to
 * this point" without a scan of every place. index.c builds it on first use (the index file
 * has no such section: a derived, read-only table in memory) and owns it.
 *
 * Thread safety: built once, then only read.
 */
#ifndef GEOBATCH_INDEX_NEAR_H
#define GEOBATCH_INDEX_NEAR_H

#include "index/index.h"
#include "index/index_format.h"

#include <stdint.h>

struct place_grid;

/* The grid of v's city-rank places under their own names (not their alternate-name entries),
 * in cells of PLACE_GRID_DEG degrees: 8 bytes a place. NULL when out of memory. */
struct place_grid *place_grid_build(const struct index_view *v);

/* Free g (NULL is fine). */
void place_grid_free(struct place_grid *g);

/* The place of g nearest to (lat, lon) within radius_m (at most PLACE_GRID_MAX_M), and its
 * distance in *d; IX_NONE when none. Equal distances: the lower place index. Work: the cells
 * the radius covers, a binary search each. */
#define PLACE_GRID_MAX_M 100000.0
uint32_t place_grid_nearest(const struct place_grid *g, const struct index_view *v, double lat,
                            double lon, double radius_m, double *d);

#endif
