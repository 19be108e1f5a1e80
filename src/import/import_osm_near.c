/*
 * import_osm_near.c - the street of an address that names none: an OSM object with
 * addr:housenumber but neither addr:street nor addr:place belongs to the nearest named street
 * (a P_STREET way of the log) within OSM_NEAR_MAX_M of its point.
 *
 * osm_near_build() reads the log once for the cells within OSM_NEAR_MAX_M of such addresses, and
 * once more for the named streets, keeping the segments that pass through those cells in a grid
 * of OSM_NEAR_CELL_DEG cells: each segment is listed in every wanted cell its bounding box
 * touches (segments longer than a few cells are cut into pieces first, so a long straight road
 * costs a few entries per cell it crosses, not its whole bounding box). osm_near_street() measures
 * the point's distance to the segments of the cells within OSM_NEAR_MAX_M (on a local
 * equirectangular plane: exact enough at 150 m) and returns the name of the nearest; an equal
 * distance keeps the street met first in the file. The log is in file order for any number of
 * decoding threads, so the answer is too.
 *
 * Memory: 8 bytes a wanted cell (about 4 cells an address without a street), 24 bytes a kept
 * segment piece, 16 a cell entry and the kept names: it grows with the addresses that name no
 * street, not with the file; nothing when every address names its street.
 */
#include "base/mem.h"
#include "import/import_osm_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OSM_NEAR_CELL_DEG 0.002 /* about 220 m north-south */
#define OSM_NEAR_PIECE    4     /* a segment spanning more cells than this is cut in pieces */

struct near_seg {
    int32_t lat1, lon1, lat2, lon2; /* degrees * 1e7 */
    uint32_t name;                  /* offset into names */
    uint32_t street;                /* the street's number in file order (the tie-break) */
};

struct near_cell {
    uint64_t cell;
    uint32_t seg;
};

static int64_t cell_of(double deg)
{
    return (int64_t)floor(deg / OSM_NEAR_CELL_DEG);
}

static uint64_t cell_id(int64_t la, int64_t lo)
{
    return ((uint64_t)(uint32_t)(int32_t)la << 32) | (uint32_t)(int32_t)lo;
}

static int cmp_cell(const void *a, const void *b)
{
    const struct near_cell *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->seg < y->seg ? -1 : x->seg > y->seg;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The cells within OSM_NEAR_MAX_M of (lat, lon): rows la0..la1, columns lo0..lo1; and kx, the
 * metres in a degree of longitude there. False within a few km of a pole (no streets). */
static bool window(double lat, double lon, int64_t w[4], double *kx)
{
    *kx = 111195.0 * cos(lat * M_PI / 180.0);
    if (*kx < 1000.0)
        return false;
    double dlat = OSM_NEAR_MAX_M / 111195.0, dlon = OSM_NEAR_MAX_M / *kx;
    w[0] = cell_of(lat - dlat);
    w[1] = cell_of(lat + dlat);
    w[2] = cell_of(lon - dlon);
    w[3] = cell_of(lon + dlon);
    return true;
}

/* Whether p is an address that names no street (nor place). */
static bool streetless(const struct pend_view *p)
{
    return (p->what & P_ADDR) && !osm_tagref_get(&p->tags, "addr:street") &&
           !osm_tagref_get(&p->tags, "addr:place");
}

static int cmp_cell_only(const void *a, const void *b)
{
    const struct near_cell *x = a, *y = b;
    return x->cell < y->cell ? -1 : x->cell > y->cell;
}

static void add_piece(struct osm_near *n, struct rec_point a, struct rec_point b, uint32_t name,
                      uint32_t street)
{
    VEC_GROW(n->segs, n->n_segs, n->cap_segs);
    struct near_seg *s = &n->segs[n->n_segs];
    s->lat1 = (int32_t)lround(a.lat * OSM_SCALE);
    s->lon1 = (int32_t)lround(a.lon * OSM_SCALE);
    s->lat2 = (int32_t)lround(b.lat * OSM_SCALE);
    s->lon2 = (int32_t)lround(b.lon * OSM_SCALE);
    s->name = name;
    s->street = street;
    int64_t la0 = cell_of(fmin(a.lat, b.lat)), la1 = cell_of(fmax(a.lat, b.lat));
    int64_t lo0 = cell_of(fmin(a.lon, b.lon)), lo1 = cell_of(fmax(a.lon, b.lon));
    bool kept = false;
    for (int64_t la = la0; la <= la1; la++)
        for (int64_t lo = lo0; lo <= lo1; lo++) {
            uint64_t id = cell_id(la, lo);
            if (!bsearch(&id, n->want, n->n_want, sizeof(id), cmp_u64))
                continue; /* no address without a street looks here */
            VEC_GROW(n->cells, n->n_cells, n->cap_cells);
            n->cells[n->n_cells++] = (struct near_cell){id, (uint32_t)n->n_segs};
            kept = true;
        }
    if (kept)
        n->n_segs++;
}

/* Segment a-b, cut so that no piece spans more than OSM_NEAR_PIECE cells either way. */
static void add_segment(struct osm_near *n, struct rec_point a, struct rec_point b, uint32_t name,
                        uint32_t street)
{
    double span = fmax(fabs(a.lat - b.lat), fabs(a.lon - b.lon)) / OSM_NEAR_CELL_DEG;
    int pieces = span > OSM_NEAR_PIECE ? (int)ceil(span / OSM_NEAR_PIECE) : 1;
    if (pieces > 10000) /* a broken way across the world: not a street of this town */
        return;
    for (int i = 0; i < pieces; i++) {
        double t0 = (double)i / pieces, t1 = (double)(i + 1) / pieces;
        struct rec_point p = {a.lat + (b.lat - a.lat) * t0, a.lon + (b.lon - a.lon) * t0};
        struct rec_point q = {a.lat + (b.lat - a.lat) * t1, a.lon + (b.lon - a.lon) * t1};
        add_piece(n, p, q, name, street);
    }
}

/* The cells that addresses without a street look in: n->want, sorted, unique. */
static int want_cells(struct osm *o, struct osm_near *n)
{
    int rc = osm_pend_rewind(&o->plog);
    struct pend_view v;
    while (rc == 0 && (rc = osm_pend_next(&o->plog, &v)) > 0) {
        rc = 0;
        int64_t w[4];
        double kx;
        if (!streetless(&v) || !window(v.lat, v.lon, w, &kx))
            continue;
        for (int64_t la = w[0]; la <= w[1]; la++)
            for (int64_t lo = w[2]; lo <= w[3]; lo++) {
                VEC_GROW(n->want, n->n_want, n->cap_want);
                n->want[n->n_want++] = cell_id(la, lo);
            }
    }
    if (n->n_want)
        qsort(n->want, n->n_want, sizeof(*n->want), cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n->n_want; i++)
        if (k == 0 || n->want[k - 1] != n->want[i])
            n->want[k++] = n->want[i];
    n->n_want = k;
    return rc < 0 ? rc : 0;
}

int osm_near_build(struct osm *o, struct osm_near *n)
{
    memset(n, 0, sizeof(*n));
    VEC_GROW(n->names, n->n_names, n->cap_names);
    n->names[n->n_names++] = '\0';
    int rc = want_cells(o, n);
    if (rc < 0 || n->n_want == 0)
        return rc; /* every address names its street: no grid */
    rc = osm_pend_rewind(&o->plog);
    uint32_t street = 0;
    struct pend_view v;
    while (rc == 0 && (rc = osm_pend_next(&o->plog, &v)) > 0) {
        rc = 0;
        if (!(v.what & P_STREET) || v.ngeom < 1)
            continue;
        const char *name = osm_tagref_get(&v.tags, "name");
        if (!name || !*name)
            continue;
        size_t len = strlen(name) + 1;
        if (n->n_names + len > UINT32_MAX)
            break; /* 4 GiB of street names: the rest keep no neighbours */
        VEC_RESERVE(n->names, n->n_names + len, n->cap_names);
        memcpy(n->names + n->n_names, name, len);
        uint32_t off = (uint32_t)n->n_names;
        n->n_names += len;
        size_t segs = n->n_segs;
        if (v.ngeom == 1)
            add_segment(n, v.geom[0], v.geom[0], off, street);
        for (uint32_t i = 1; i < v.ngeom; i++)
            add_segment(n, v.geom[i - 1], v.geom[i], off, street);
        if (n->n_segs == segs)
            n->n_names = off; /* far from every such address: its name is not kept */
        street++;
    }
    if (n->n_cells)
        qsort(n->cells, n->n_cells, sizeof(*n->cells), cmp_cell);
    return rc < 0 ? rc : 0;
}

/* Distance in metres from (x, y) to segment s, all on the plane around the query point. */
static double seg_dist_m(const struct near_seg *s, double lat, double lon, double kx)
{
    const double ky = 111195.0; /* metres per degree of latitude */
    double ax = (s->lon1 / OSM_SCALE - lon) * kx, ay = (s->lat1 / OSM_SCALE - lat) * ky;
    double bx = (s->lon2 / OSM_SCALE - lon) * kx, by = (s->lat2 / OSM_SCALE - lat) * ky;
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double px = ax + t * dx, py = ay + t * dy;
    return sqrt(px * px + py * py);
}

const char *osm_near_street(const struct osm_near *n, double lat, double lon)
{
    int64_t w[4];
    double kx;
    if (!n->n_cells || !window(lat, lon, w, &kx))
        return NULL;
    const struct near_seg *best = NULL;
    double best_d = OSM_NEAR_MAX_M;
    for (int64_t la = w[0]; la <= w[1]; la++)
        for (int64_t lo = w[2]; lo <= w[3]; lo++) {
            const struct near_cell key = {cell_id(la, lo), 0};
            const struct near_cell *hit =
                bsearch(&key, n->cells, n->n_cells, sizeof(key), cmp_cell_only);
            if (!hit)
                continue;
            size_t a = (size_t)(hit - n->cells);
            while (a > 0 && n->cells[a - 1].cell == key.cell)
                a--; /* the cell's first entry */
            for (; a < n->n_cells && n->cells[a].cell == key.cell; a++) {
                const struct near_seg *s = &n->segs[n->cells[a].seg];
                double d = seg_dist_m(s, lat, lon, kx);
                if (d < best_d || (d == best_d && best && s->street < best->street)) {
                    best = s;
                    best_d = d;
                }
            }
        }
    return best ? n->names + best->name : NULL;
}

void osm_near_free(struct osm_near *n)
{
    free(n->segs);
    free(n->cells);
    free(n->names);
    free(n->want);
    memset(n, 0, sizeof(*n));
}
