/*
 * api_geometry.c - GET /6.2/geometry.json?bbox=S,W,N,E[&tolerance=DEG]: the index's own
 * outlines for a box, simplified, for a map that cannot assume a tile server (the web
 * console's): the streets that pass through the box (from the street grid, IXS_SCELLS) and
 * the rings of the administrative areas down to districts whose bounding box meets it. An
 * extension to the HERE API, authenticated like every /6.2 request.
 *
 * Simplification: a line keeps its first and last point and every point at least `tolerance`
 * degrees (default: the box's width / 800) from the last point kept, on either axis. Limits:
 * streets only for a box of at most GEOM_MAX_CELLS grid cells (about 1 degree square;
 * "streets_omitted": true otherwise), and at most GEOM_MAX_POINTS points in all ("truncated":
 * true when lines were left out). The answer depends only on the index and the parameters.
 *
 * Threads: connection threads, any number at once; the index is read-only.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/err.h"
#include "base/mem.h"
#include "index/index.h"
#include "index/index_format.h"
#include "record/record.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEOM_MAX_CELLS  40000  /* grid cells searched for streets */
#define GEOM_MAX_POINTS 200000 /* points in one answer */
#define GEOM_MAX_SPAN   360.0

struct geom_out {
    double tol;     /* degrees */
    size_t npoints; /* emitted so far */
    bool truncated;
};

static double fix_deg(int32_t v)
{
    return v / IX_COORD_SCALE;
}

/*
 * Append the simplified parts of pts[0..n) (IX_PART_BREAK between parts) to lines, one array
 * [lat, lon, lat, lon, ...] per part of two points or more. False when the budget ran out.
 */
static bool add_lines(json_t *lines, const struct ix_point *pts, uint32_t n, struct geom_out *g)
{
    uint32_t i = 0;
    while (i < n) {
        uint32_t end = i;
        while (end < n && pts[end].lat != IX_PART_BREAK)
            end++;
        if (end - i >= 2) {
            json_t *line = json_array();
            const struct ix_point *last = NULL;
            size_t kept = 0;
            for (uint32_t k = i; k < end; k++) {
                const struct ix_point *p = &pts[k];
                bool keep = !last || k == end - 1 ||
                            fabs(fix_deg(p->lat) - fix_deg(last->lat)) >= g->tol ||
                            fabs(fix_deg(p->lon) - fix_deg(last->lon)) >= g->tol;
                if (!keep)
                    continue;
                json_array_append_new(line, json_real(round(fix_deg(p->lat) * 1e6) / 1e6));
                json_array_append_new(line, json_real(round(fix_deg(p->lon) * 1e6) / 1e6));
                last = p;
                kept++;
            }
            if (g->npoints + kept > GEOM_MAX_POINTS) {
                json_decref(line);
                g->truncated = true;
                return false;
            }
            g->npoints += kept;
            json_array_append_new(lines, line);
        }
        i = end + 1;
    }
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static const struct ix_cell *find_cell(const struct index_view *v, int32_t cy, int32_t cx)
{
    uint64_t key = ((uint64_t)(uint32_t)cy << 32) | (uint32_t)cx;
    size_t lo = 0, hi = v->n_scells;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->scells[mid].cell < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n_scells && v->scells[lo].cell == key ? &v->scells[lo] : NULL;
}

/* The streets through the grid cells of the box, ascending, each once; *n set. */
static uint32_t *streets_in_box(const struct index_view *v, const double b[4], size_t *n)
{
    int32_t y0 = (int32_t)floor(b[0] / IX_CELL_DEG), y1 = (int32_t)floor(b[2] / IX_CELL_DEG);
    int32_t x0 = (int32_t)floor(b[1] / IX_CELL_DEG), x1 = (int32_t)floor(b[3] / IX_CELL_DEG);
    size_t cap = 256, len = 0;
    uint32_t *ids = xmallocarray(cap, sizeof(*ids));
    for (int32_t cy = y0; cy <= y1; cy++)
        for (int32_t cx = x0; cx <= x1; cx++) {
            const struct ix_cell *c = find_cell(v, cy, cx);
            for (uint32_t k = 0; c && k < c->count; k++) {
                if (len == cap) {
                    cap *= 2;
                    ids = xreallocarray(ids, cap, sizeof(*ids));
                }
                ids[len++] = v->scell_streets[c->first + k];
            }
        }
    qsort(ids, len, sizeof(*ids), cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < len; i++)
        if (u == 0 || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    *n = u;
    return ids;
}

/* Parse "S,W,N,E" into b. Return 0, or -1 when it is not four numbers with S <= N, W <= E in
 * range and a span of at most GEOM_MAX_SPAN. */
static int parse_bbox(const char *s, double b[4])
{
    char *end;
    for (int i = 0; i < 4; i++) {
        b[i] = strtod(s, &end);
        if (end == s || !isfinite(b[i]) || *end != (i < 3 ? ',' : '\0'))
            return -1;
        s = end + 1;
    }
    if (b[0] < -90 || b[2] > 90 || b[1] < -180 || b[3] > 180 || b[0] > b[2] || b[1] > b[3])
        return -1;
    return 0;
}

int api_geometry(struct api *a, struct http_request *req, struct http_response *resp,
                 const char *app, int arg)
{
    (void)app;
    (void)arg;
    double b[4];
    const char *s = http_param(req, "bbox");
    if (!s || parse_bbox(s, b) < 0) {
        api_bad_request(resp, req,
                        "bbox must be south,west,north,east in degrees (south <= north, "
                        "west <= east)",
                        "bbox");
        return HTTP_RESPOND;
    }
    struct geom_out g = {(b[3] - b[1]) / 800, 0, false};
    s = http_param(req, "tolerance");
    if (s && *s) {
        char *end;
        g.tol = strtod(s, &end);
        if (end == s || *end || !(g.tol >= 0 && g.tol <= 10)) {
            api_bad_request(resp, req, "tolerance must be a number of degrees from 0 to 10",
                            "tolerance");
            return HTTP_RESPOND;
        }
    }
    if (!a->cfg.index) {
        api_not_found(resp, req, "No geometry: the server runs an index set");
        return HTTP_RESPOND;
    }
    const struct index_view *v = index_view(a->cfg.index);
    json_t *root = json_object(), *streets = json_array(), *areas = json_array();
    int32_t lat0 = (int32_t)floor(b[0] * IX_COORD_SCALE),
            lat1 = (int32_t)ceil(b[2] * IX_COORD_SCALE);
    int32_t lon0 = (int32_t)floor(b[1] * IX_COORD_SCALE),
            lon1 = (int32_t)ceil(b[3] * IX_COORD_SCALE);
    /* areas first: they are few, and the map is useless without them */
    for (size_t i = 0; i < v->n_admins && !g.truncated; i++) {
        const struct ix_admin *ad = &v->admins[i];
        if (ad->geom_count == 0 || ad->rank > RANK_DISTRICT || ad->max_lat < lat0 ||
            ad->min_lat > lat1 || ad->max_lon < lon0 || ad->min_lon > lon1)
            continue;
        json_t *lines = json_array();
        add_lines(lines, &v->points[ad->geom_first], ad->geom_count, &g);
        json_array_append_new(areas, json_pack("{s:s, s:i, s:o}", "name", ix_str(v, ad->name),
                                               "rank", (int)ad->rank, "lines", lines));
    }
    double cells = (floor(b[2] / IX_CELL_DEG) - floor(b[0] / IX_CELL_DEG) + 1) *
                   (floor(b[3] / IX_CELL_DEG) - floor(b[1] / IX_CELL_DEG) + 1);
    bool omitted = cells > GEOM_MAX_CELLS;
    if (!omitted) {
        size_t n;
        uint32_t *ids = streets_in_box(v, b, &n);
        for (size_t i = 0; i < n && !g.truncated; i++) {
            const struct ix_street *st = &v->streets[ids[i]];
            if (st->geom_count == 0)
                continue;
            json_t *lines = json_array();
            add_lines(lines, &v->points[st->geom_first], st->geom_count, &g);
            if (json_array_size(lines) == 0) {
                json_decref(lines);
                continue;
            }
            json_array_append_new(
                streets, json_pack("{s:s, s:o}", "name", ix_str(v, st->name), "lines", lines));
        }
        free(ids);
    }
    json_object_set_new(root, "areas", areas);
    json_object_set_new(root, "streets", streets);
    json_object_set_new(root, "streets_omitted", json_boolean(omitted));
    json_object_set_new(root, "truncated", json_boolean(g.truncated));
    json_object_set_new(root, "points", json_integer((json_int_t)g.npoints));
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!text) {
        api_internal_error(resp, req, GB_EINTERNAL);
        return HTTP_RESPOND;
    }
    buf_reset(&resp->body);
    buf_puts(&resp->body, text);
    free(text);
    resp->status = 200;
    resp->content_type = CT_JSON;
    return HTTP_RESPOND;
}
