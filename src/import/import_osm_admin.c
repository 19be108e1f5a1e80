/*
 * import_osm_admin.c - the hierarchy of a point (country, state, county, city, district,
 * postcode): from the object's own addr:* tags, then from the boundaries that contain it (found
 * through a grid of boundary boxes), then from nearby place nodes (found through a sorted grid
 * of 0.1-degree cells). The rules are at the top of import_osm.c.
 */
#include "base/mem.h"
#include "import/import_osm_int.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- hierarchy -------------------------------------------------------------------------- */

static void grid_build(struct osm *o)
{
    geo_bbox_empty(&o->gbox);
    size_t nb = o->bnds.n;
    for (size_t i = 0; i < nb; i++) {
        const struct geo_bbox *bb = &OSM_AT(o->bnds, struct bnd, i).bbox;
        geo_bbox_extend(&o->gbox, bb->min_lat, bb->min_lon);
        geo_bbox_extend(&o->gbox, bb->max_lat, bb->max_lon);
    }
    o->grid = xcalloc(OSM_GRID * OSM_GRID + 1, sizeof(size_t));
    if (!nb)
        return;
    double ch = (o->gbox.max_lat - o->gbox.min_lat) / OSM_GRID;
    double cw = (o->gbox.max_lon - o->gbox.min_lon) / OSM_GRID;
    size_t *fill = xcalloc(OSM_GRID * OSM_GRID, sizeof(size_t));
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < nb; i++) {
            const struct geo_bbox *bb = &OSM_AT(o->bnds, struct bnd, i).bbox;
            int y0 = ch > 0 ? (int)((bb->min_lat - o->gbox.min_lat) / ch) : 0;
            int y1 = ch > 0 ? (int)((bb->max_lat - o->gbox.min_lat) / ch) : 0;
            int x0 = cw > 0 ? (int)((bb->min_lon - o->gbox.min_lon) / cw) : 0;
            int x1 = cw > 0 ? (int)((bb->max_lon - o->gbox.min_lon) / cw) : 0;
            y1 = y1 >= OSM_GRID ? OSM_GRID - 1 : y1;
            x1 = x1 >= OSM_GRID ? OSM_GRID - 1 : x1;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) {
                    size_t cell = (size_t)y * OSM_GRID + (size_t)x;
                    if (!round)
                        o->grid[cell + 1]++;
                    else
                        o->grid_ix[o->grid[cell] + fill[cell]++] = i;
                }
        }
        if (!round) {
            for (size_t c = 0; c < OSM_GRID * OSM_GRID; c++)
                o->grid[c + 1] += o->grid[c];
            o->grid_ix = xcalloc(o->grid[OSM_GRID * OSM_GRID] + 1, sizeof(size_t));
        }
    }
    free(fill);
}

static void hier_boundaries(const struct osm *o, double lat, double lon, const char *h[H_N]);

/* The places are sorted by what they fill, then by 0.1-degree cell, then in file order: a
 * search for a city or district reads only those. */
static uint64_t place_cell(int fills, double lat, double lon)
{
    int64_t y = (int64_t)floor(lat * 10) + 900, x = (int64_t)floor(lon * 10) + 1800;
    return ((uint64_t)(fills + 1) << 32) | ((uint64_t)y * 3601 + (uint64_t)x);
}

static int cmp_place(const void *a, const void *b)
{
    const struct place *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void places_index(struct osm *o)
{
    for (size_t i = 0; i < o->places.n; i++) {
        struct place *p = &OSM_AT(o->places, struct place, i);
        p->seq = (uint32_t)i;
        p->cell = place_cell(p->fills, p->lat, p->lon);
        p->coslat = geo_cos_lat(p->lat);
        const char *h[H_N] = {0};
        hier_boundaries(o, p->lat, p->lon, h);
        p->city = h[H_CITY];
        p->country = h[H_COUNTRY];
    }
    if (o->places.n) /* qsort on a NULL array is undefined even for 0 items */
        qsort(o->places.p, o->places.n, sizeof(struct place), cmp_place);
}

/* Whether two strings of the pool are equal, or both are none (NULL); one string is often
 * both. */
static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A point the place nodes are searched around: what every search from it needs, made once. */
struct place_probe {
    double lat, lon, coslat; /* coslat: geo_cos_lat(lat) */
    int dx;                  /* the cells searched on either side, in longitude */
};

static struct place_probe place_probe_at(double lat, double lon)
{
    struct place_probe pt = {lat, lon, geo_cos_lat(lat), 40};
    double k = cos(lat * M_PI / 180);
    int dx = k > 0.05 ? (int)ceil(OSM_PLACE_RADIUS_M / (11000.0 * k)) : 40;
    if (dx < 40)
        pt.dx = dx;
    return pt;
}

/* The nearest place that fills field 'fills' within its own radius, lies in the same country
 * boundary as the point (or, like it, in none) and not in another city boundary than the
 * point's city boundary; or NULL. The cells of a row are in the places' order (of those that
 * fill that field), so each is searched from where the one before it began; a place farther in
 * latitude alone than its radius or the best so far is not measured. */
static const struct place *place_nearest(const struct osm *o, const struct place_probe *pt,
                                         int fills, const char *country, const char *city,
                                         double *dist)
{
    const struct place *a = o->places.p, *found = NULL;
    double best = INFINITY, lat = pt->lat, lon = pt->lon;
    int dy = (int)ceil(OSM_PLACE_RADIUS_M / 11000.0), dx = pt->dx;
    for (int y = -dy; y <= dy; y++) {
        size_t lo = 0;
        for (int x = -dx; x <= dx; x++) {
            double clat = lat + y * 0.1, clon = lon + x * 0.1;
            if (clat < -90 || clat > 90 || clon < -180 || clon > 180)
                continue;
            uint64_t cell = place_cell(fills, clat, clon);
            size_t hi = o->places.n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a[mid].cell < cell)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t i = lo; i < o->places.n && a[i].cell == cell; i++) {
                const struct place *p = &a[i];
                if (!same_str(country, p->country) || (city && p->city && !same_str(city, p->city)))
                    continue;
                double gap = geo_lat_gap_m(lat, p->lat);
                if (gap > p->radius || gap >= best)
                    continue;
                double d = geo_distance_cos_m(lat, lon, pt->coslat, p->lat, p->lon, p->coslat);
                if (d <= p->radius && d < best) {
                    best = d;
                    found = p;
                }
            }
        }
    }
    *dist = best;
    return found;
}

/* Whether boundary b beats cur (or there is no cur) as its bucket's: a complete polygon beats
 * a repaired one, then the finer level, then the smaller area. */
static bool bnd_better(const struct bnd *b, const struct bnd *cur)
{
    return !cur || cur->repaired > b->repaired ||
           (cur->repaired == b->repaired &&
            (cur->level < b->level || (cur->level == b->level && cur->area > b->area)));
}

/*
 * Countries whose towns are a coarser admin_level than the finest of the city bucket: in
 * Portugal, 7 is the município ("Porto") and 8 the freguesia, often a union of parishes
 * ("Cedofeita, Santo Ildefonso, Sé, Miragaia, São Nicolau e Vitória"), which is the district.
 */
static const struct {
    char cc[3];
    int city_level;
} town_levels[] = {{"PT", 7}};

/* The admin_level of a town in the country whose ISO2 code is cc (NULL: unknown), 0 when it
 * is the finest of the city bucket. */
static int town_level(const char *cc)
{
    for (size_t i = 0; cc && i < sizeof(town_levels) / sizeof(town_levels[0]); i++)
        if (strcmp(cc, town_levels[i].cc) == 0)
            return town_levels[i].city_level;
    return 0;
}

/* The grid cell of the point, or -1 when no boundary can hold it. */
static long bnd_cell(const struct osm *o, double lat, double lon)
{
    if (!o->bnds.n || !geo_bbox_contains(&o->gbox, lat, lon))
        return -1;
    double ch = (o->gbox.max_lat - o->gbox.min_lat) / OSM_GRID;
    double cw = (o->gbox.max_lon - o->gbox.min_lon) / OSM_GRID;
    int y = ch > 0 ? (int)((lat - o->gbox.min_lat) / ch) : 0;
    int x = cw > 0 ? (int)((lon - o->gbox.min_lon) / cw) : 0;
    y = y >= OSM_GRID ? OSM_GRID - 1 : y;
    x = x >= OSM_GRID ? OSM_GRID - 1 : x;
    return (long)y * OSM_GRID + x;
}

/* The best boundary (bnd_better) of cell of the city bucket and admin_level level that
 * contains the point, or NULL. */
static const struct bnd *town_at(const struct osm *o, long cell, int level, double lat, double lon)
{
    const struct bnd *best = NULL;
    for (size_t k = o->grid[cell]; k < o->grid[cell + 1]; k++) {
        const struct bnd *b = &OSM_AT(o->bnds, struct bnd, o->grid_ix[k]);
        if (b->bucket == H_CITY && b->level == level && bnd_better(b, best) &&
            osm_bnd_contains(o, b, lat, lon))
            best = b;
    }
    return best;
}

/* Fill the empty fields of h[] from the boundaries that contain the point. */
static void hier_boundaries(const struct osm *o, double lat, double lon, const char *h[H_N])
{
    const struct bnd *best[H_N] = {0};
    long cell = bnd_cell(o, lat, lon);
    if (cell < 0)
        return; /* no boundary holds the point */
    for (size_t k = o->grid[cell]; k < o->grid[cell + 1]; k++) {
        const struct bnd *b = &OSM_AT(o->bnds, struct bnd, o->grid_ix[k]);
        if (bnd_better(b, best[b->bucket]) && osm_bnd_contains(o, b, lat, lon))
            best[b->bucket] = b;
    }
    /* a country whose towns are a coarser level: that level's boundary, read only there */
    const char *cc = h[H_COUNTRY]      ? h[H_COUNTRY]
                     : best[H_COUNTRY] ? osm_pstr(o, best[H_COUNTRY]->code)
                                       : NULL;
    int tl = town_level(cc);
    const struct bnd *town =
        tl > 0 && best[H_CITY] && best[H_CITY]->level > tl ? town_at(o, cell, tl, lat, lon) : NULL;
    if (town) {
        if (!best[H_DISTRICT])
            best[H_DISTRICT] = best[H_CITY];
        best[H_CITY] = town;
    }
    for (int i = 0; i < H_N; i++) {
        if (h[i] || !best[i])
            continue;
        if (i == H_COUNTRY)
            h[i] = osm_pstr(o, best[i]->code);
        else if (i == H_POSTCODE)
            h[i] = osm_pstr(o, best[i]->code);
        else
            h[i] = osm_pstr(o, best[i]->name);
    }
}

/* osm_hier_geo(), without the district's place node when h (not NULL) or the boundaries give
 * the district: osm_hier_apply() would not read it. */
static void hier_geo(const struct osm *o, double lat, double lon, const char *const h[H_N],
                     struct hier_geo *g)
{
    memset(g->hb, 0, sizeof(g->hb));
    hier_boundaries(o, lat, lon, g->hb);
    struct place_probe pt = place_probe_at(lat, lon);
    g->pc = place_nearest(o, &pt, H_CITY, g->hb[H_COUNTRY], NULL, &g->dc);
    g->pd = NULL;
    g->dd = INFINITY;
    if ((!h || !h[H_DISTRICT]) && !g->hb[H_DISTRICT])
        g->pd = place_nearest(o, &pt, H_DISTRICT, g->hb[H_COUNTRY], g->hb[H_CITY], &g->dd);
}

void osm_hier_geo(const struct osm *o, double lat, double lon, struct hier_geo *g)
{
    hier_geo(o, lat, lon, NULL, g);
}

/*
 * Fill the empty fields of h[] for the point: from the boundaries that contain it, then the
 * district from the nearest suburb-like place node (which also gives the city its own point
 * lies in, e.g. Praha for a suburb of Prague outside the extract's district boundaries), then
 * the city from the nearest city, town or village node. An empty country then becomes
 * fallback_country, or the file default when that is NULL.
 */
void osm_hier_apply(const struct osm *o, const struct hier_geo *g, const char *h[H_N],
                    const char *fallback_country)
{
    for (int i = 0; i < H_N; i++)
        if (!h[i])
            h[i] = g->hb[i];
    /* A suburb node only names the district when it is nearer than the nearest city, town or
     * village node: the centre of a town is not in its outlying suburb. */
    if (!h[H_DISTRICT] && g->pd && g->dd < g->dc) {
        h[H_DISTRICT] = o->pool + g->pd->name;
        if (!h[H_CITY])
            h[H_CITY] = g->pd->city;
    }
    if (!h[H_CITY] && g->pc)
        h[H_CITY] = o->pool + g->pc->name;
    if (!h[H_COUNTRY])
        h[H_COUNTRY] = fallback_country ? fallback_country : o->default_country;
}

void osm_hier_fill(const struct osm *o, double lat, double lon, const char *h[H_N],
                   const char *fallback_country)
{
    struct hier_geo g;
    hier_geo(o, lat, lon, h, &g);
    osm_hier_apply(o, &g, h, fallback_country);
}

/* Own addr:* tags of a pending object into h[]. */
static void hier_own(const struct pend_view *p, const char *h[H_N], char country[3])
{
    const struct tagref *t = &p->tags;
    memset(h, 0, H_N * sizeof(h[0]));
    const char *c = osm_tagref_get(t, "addr:country");
    if (c && strlen(c) == 2 && isalpha((unsigned char)c[0]) && isalpha((unsigned char)c[1])) {
        country[0] = (char)toupper((unsigned char)c[0]);
        country[1] = (char)toupper((unsigned char)c[1]);
        country[2] = 0;
    }
    h[H_STATE] = osm_tagref_get(t, "addr:state");
    if (!h[H_STATE])
        h[H_STATE] = osm_tagref_get(t, "addr:province");
    h[H_COUNTY] = osm_tagref_get(t, "addr:county");
    h[H_CITY] = osm_tagref_get(t, "addr:city");
    h[H_DISTRICT] = osm_tagref_get(t, "addr:suburb");
    if (!h[H_DISTRICT])
        h[H_DISTRICT] = osm_tagref_get(t, "addr:district");
    h[H_POSTCODE] = osm_tagref_get(t, "addr:postcode");
    if (!h[H_POSTCODE])
        h[H_POSTCODE] = osm_tagref_get(t, "postal_code");
}

/* Full hierarchy: boundary country first, then own addr:country, then the rest. */
void osm_hier_resolve(const struct osm *o, const struct pend_view *p, const struct hier_geo *g,
                      const char *h[H_N], char country[3])
{
    country[0] = 0;
    hier_own(p, h, country);
    if (g)
        osm_hier_apply(o, g, h, country[0] ? country : NULL);
    else
        osm_hier_fill(o, p->lat, p->lon, h, country[0] ? country : NULL);
}

void osm_rec_set_hier(struct record *r, const char *h[H_N])
{
    r->country = h[H_COUNTRY];
    r->state = h[H_STATE];
    r->county = h[H_COUNTY];
    r->city = h[H_CITY];
    r->district = h[H_DISTRICT];
    r->postcode = h[H_POSTCODE];
}

/* The file default country applies only to files without a country boundary: there, the most
 * frequent addr:country. A file with country boundaries leaves points outside them alone. */
static void default_country_pick(struct osm *o)
{
    for (size_t i = 0; i < o->bnds.n; i++) {
        const struct bnd *b = &OSM_AT(o->bnds, struct bnd, i);
        if (b->kind == REL_ADMIN && b->bucket == H_COUNTRY && b->code)
            return;
    }
    size_t best = 0;
    for (size_t i = 0; i < o->countries.n; i++) {
        const struct kv *kv = &OSM_AT(o->countries, struct kv, i);
        if (kv->v > best) {
            best = kv->v;
            o->default_country = o->pool + kv->k;
        }
    }
}

void osm_hier_prepare(struct osm *o)
{
    grid_build(o);
    places_index(o);
    default_country_pick(o);
}
