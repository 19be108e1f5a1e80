/*
 * import_geojson.c - country boundaries as GeoJSON: a FeatureCollection whose features are
 * countries (npm @geo-maps/countries-land-10km, Natural Earth's admin 0 files, and the like),
 * for reverse geocoding where no finer data is (`retrieveAreas` in the middle of Australia
 * answers Australia) and for the country of what lies inside.
 *
 * Each feature gives one REC_ADMIN of rank RANK_COUNTRY per outer ring: a Polygon's first ring,
 * and the first ring of each polygon of a MultiPolygon (islands are areas of their own). Holes
 * are left out (the index keeps one ring per area); an enclave is a feature of its own, and
 * reverse geocoding prefers the smaller of two areas of one rank that both contain a point.
 * The country is the first of these properties that names one (norm_country: an alpha-2 or
 * alpha-3 code, or a name): A2, ISO_A2, iso_a2, ISO3166-1-Alpha-2, A3, ISO_A3, iso_a3, ADM0_A3,
 * ISO3166-1-Alpha-3, ADMIN, name, NAME ("-99", Natural Earth's "none", names nothing). The
 * area's name is the country's English name; a name property that differs becomes an
 * alternate name. The representative point is the centroid of the largest ring.
 *
 * Features are read one at a time from the features array (import_json_open_features), never
 * the whole file; a feature longer than GEOJSON_FEATURE_MAX bytes, one without a country,
 * without a Polygon or MultiPolygon geometry, or with a ring of fewer than 3 or more than
 * GEOJSON_RING_MAX points (or a coordinate out of range) is skipped with its object number.
 */
#include "base/err.h"
#include "import/import.h"
#include "import/import_int.h"
#include "import/import_util.h"
#include "record/geo.h"
#include "text/norm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GEOJSON_FEATURE_MAX (64u * 1024 * 1024) /* bytes of one feature's text */
#define GEOJSON_RING_MAX    (4u * 1024 * 1024)  /* points of one ring */

/* The properties that may name a feature's country, in the order they are asked. */
static const char *const COUNTRY_KEYS[] = {
    "A2",     "ISO_A2", "iso_a2",  "ISO3166-1-Alpha-2", "A3",
    "ISO_A3", "iso_a3", "ADM0_A3", "ISO3166-1-Alpha-3", "ADMIN",
    "name",   "NAME",
};
static const char *const NAME_KEYS[] = {"name", "NAME", "ADMIN", "name_en"};

/* The alpha-2 code of the country that props names, or NULL. */
static const char *feature_country(json_t *props)
{
    for (size_t i = 0; i < sizeof(COUNTRY_KEYS) / sizeof(COUNTRY_KEYS[0]); i++) {
        const char *v = json_string_value(json_object_get(props, COUNTRY_KEYS[i]));
        const char *cc = v ? norm_country(v, strlen(v)) : NULL;
        if (cc)
            return cc;
    }
    return NULL;
}

/* Ring r (a JSON array of [lon, lat] pairs) into *pts (grown as needed, *cap points). Return
 * its point count, or 0 when it is no ring (fewer than 3 points, more than GEOJSON_RING_MAX, a
 * pair that is no pair of numbers in range); -ENOMEM. */
static long ring_points(json_t *r, struct rec_point **pts, size_t *cap)
{
    size_t n = json_array_size(r);
    if (n < 3 || n > GEOJSON_RING_MAX)
        return 0;
    if (n > *cap) {
        struct rec_point *p = realloc(*pts, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        *pts = p;
        *cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(r, i);
        json_t *x = json_array_get(pair, 0), *y = json_array_get(pair, 1);
        if (!json_is_number(x) || !json_is_number(y))
            return 0;
        (*pts)[i].lon = json_number_value(x);
        (*pts)[i].lat = json_number_value(y);
        if (!import_coord_ok((*pts)[i].lat, (*pts)[i].lon))
            return 0;
    }
    return (long)n;
}

/* The outer rings of geometry g: a Polygon's first ring, each MultiPolygon polygon's first, as
 * JSON arrays into rings[0..max). Return their count; 0 when g is neither. */
static size_t outer_rings(json_t *g, json_t **rings, size_t max)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *coords = json_object_get(g, "coordinates");
    if (!type || !json_is_array(coords))
        return 0;
    if (strcmp(type, "Polygon") == 0) {
        rings[0] = json_array_get(coords, 0);
        return rings[0] ? 1 : 0;
    }
    if (strcmp(type, "MultiPolygon") != 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(coords) && n < max; i++)
        if ((rings[n] = json_array_get(json_array_get(coords, i), 0)) != NULL)
            n++;
    return n;
}

#define GEOJSON_POLYGONS_MAX 4096 /* outer rings of one feature */

/* What one import call reuses from feature to feature. */
struct scratch {
    struct rec_point *pts; /* a ring's points */
    size_t cap;            /* ... room for this many */
    json_t *rings[GEOJSON_POLYGONS_MAX];
};

/* Import feature number n, f, into c: one REC_ADMIN per outer ring. Return 0 (emitted or
 * skipped), or a negative code that stops the import with c->err written. */
static int feature(const struct import_ctx *c, size_t n, json_t *f, void *arg)
{
    struct scratch *w = arg;
    json_t *props = json_object_get(f, "properties");
    const char *cc = feature_country(props);
    if (!cc) {
        import_skipf(c, n, "no country among its properties");
        return 0;
    }
    size_t nr = outer_rings(json_object_get(f, "geometry"), w->rings, GEOJSON_POLYGONS_MAX);
    if (nr == 0) {
        import_skipf(c, n, "no Polygon or MultiPolygon geometry");
        return 0;
    }
    const char *name = norm_country_name(cc);
    const char *alt = NULL;
    for (size_t i = 0; i < sizeof(NAME_KEYS) / sizeof(NAME_KEYS[0]) && !alt; i++) {
        const char *v = json_string_value(json_object_get(props, NAME_KEYS[i]));
        if (v && *v && strcmp(v, name) != 0)
            alt = v;
    }
    for (size_t i = 0; i < nr; i++) {
        long np = ring_points(w->rings[i], &w->pts, &w->cap);
        if (np < 0)
            return import_fail(c, (int)np);
        if (np == 0) {
            import_skipf(c, n, "polygon %zu: not a ring of 3 to %u points in range", i + 1,
                         GEOJSON_RING_MAX);
            continue;
        }
        size_t end = (size_t)np;
        struct geo_poly poly = {w->pts, &end, 1};
        struct rec_point label = w->pts[0];
        geo_poly_centroid(&poly, &label);
        struct record r = {
            .kind = REC_ADMIN,
            .lat = label.lat,
            .lon = label.lon,
            .name = name,
            .alt_names = alt ? &alt : NULL,
            .n_alt = alt ? 1 : 0,
            .country = cc,
            .rank = RANK_COUNTRY,
            .geom = w->pts,
            .n_geom = end,
        };
        int rc = import_emit(c, n, &r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int import_geojson(const char *path, enum import_format fmt, const struct rec_sink *sink,
                   struct import_stats *st, char *err, size_t errlen)
{
    (void)fmt;
    struct scratch *w = calloc(1, sizeof(*w)); /* GEOJSON_POLYGONS_MAX rings: off the stack */
    if (!w) {
        memset(st, 0, sizeof(*st));
        gb_errf(err, errlen, "%s: %s", path, gb_strerror(-ENOMEM));
        return -ENOMEM;
    }
    int rc = import_geojson_features(path, sink, st, err, errlen, GEOJSON_FEATURE_MAX, feature, w);
    free(w->pts);
    free(w);
    return rc;
}

/* ---- detection --------------------------------------------------------------------------- */

/* A JSON object that says it is a FeatureCollection near its start. */
bool import_geojson_detect(const struct import_head *h)
{
    if (h->ntext == 0 || h->text[0] != '{')
        return false;
    static const char want[] = "\"FeatureCollection\"";
    size_t n = h->ntext < 4096 ? h->ntext : 4096;
    for (size_t i = 0; i + sizeof(want) - 1 <= n; i++)
        if (memcmp(h->text + i, want, sizeof(want) - 1) == 0)
            return true;
    return false;
}
