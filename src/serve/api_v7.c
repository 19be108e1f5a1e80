/*
 * api_v7.c - HERE Geocoding & Search v7 on the job API's index, engine and credentials:
 * GET /v1/geocode, /v1/discover, /v1/revgeocode, /v1/autosuggest, /v1/lookup (docs/api.md).
 *
 * DESIGN. As api_sync.c: check the parameters (the v7 error document names the first bad one),
 * geocode through api_geo.c, write items[] (empty when nothing matches). discover is geocode
 * that, as HERE's, wants a position (at or in); autosuggest answers what a full query finds and
 * then the streets whose name starts with the text as typed (geocode_suggest). Always JSON,
 * whatever Accept says; unknown parameters are ignored; "undefined" is an absent value.
 * Threads: handlers run on connection threads; each request has its own geocoding memory.
 */
#include "serve/api_int.h"
#include "base/err.h"
#include "base/mem.h"
#include "text/norm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define V7_MAX_LIMIT    100  /* limit accepted; answers hold GC_MAX_CANDIDATES at most */
#define V7_MAX_RADIUS_M 2e4f /* in=circle:...;r= of revgeocode */

void api_v7_error(struct http_response *resp, int status, const char *title, const char *cause,
                  const char *action)
{
    char id[33];
    api_new_request_id(id);
    buf_reset(&resp->body);
    resp->status = status;
    resp->content_type = CT_JSON;
    struct api_json j;
    aj_init(&j, &resp->body, false);
    aj_open(&j, NULL, '{');
    aj_int(&j, "status", status);
    aj_str(&j, "title", title);
    aj_str(&j, "correlationId", id);
    aj_str(&j, "requestId", id);
    aj_str(&j, "cause", cause);
    aj_str(&j, "action", action);
    if (status == 401) {
        aj_str(&j, "error", "Unauthorized");
        aj_str(&j, "error_description", cause);
    }
    aj_close(&j, '}');
}

/* 400 naming parameter key. */
static int bad(struct http_response *resp, const char *key, const char *cause)
{
    char title[160];
    snprintf(title, sizeof(title), "Illegal input for parameter '%s'", key);
    api_v7_error(resp, 400, title, cause, "");
    return HTTP_RESPOND;
}

/* ---- the item ---- */

static const char *result_type(enum gc_level l)
{
    switch (l) {
    case GL_HOUSENUMBER:
        return "houseNumber";
    case GL_STREET:
        return "street";
    case GL_INTERSECTION:
        return "intersection";
    case GL_POSTCODE:
        return "postalCodePoint";
    case GL_CITY:
    case GL_DISTRICT:
        return "locality";
    default:
        return "administrativeArea";
    }
}

static void latlng(struct api_json *j, const char *key, double lat, double lon)
{
    aj_open(j, key, '{');
    aj_num(j, "lat", lat, 7);
    aj_num(j, "lng", lon, 7);
    aj_close(j, '}');
}

/* address{} and scoring.fieldScore{} */
static const struct aj_field address[] = {{GF_COUNTRY3, "countryCode"},
                                          {GF_COUNTRY_NAME, "countryName"},
                                          {GF_STATE, "state"},
                                          {GF_COUNTY, "county"},
                                          {GF_CITY, "city"},
                                          {GF_DISTRICT, "district"},
                                          {GF_STREET, "street"},
                                          {GF_POSTCODE, "postalCode"},
                                          {GF_HOUSENUMBER, "houseNumber"}};
static const char *const field_score[MQ__COUNT] = {
    [MQ_COUNTRY] = "country",         [MQ_STATE] = "state",
    [MQ_COUNTY] = "county",           [MQ_CITY] = "city",
    [MQ_DISTRICT] = "district",       [MQ_STREET] = "streets",
    [MQ_HOUSENUMBER] = "houseNumber", [MQ_POSTCODE] = "postalCode"};

static void item(struct api_json *j, struct api_geo *g, const struct gc_candidate *c, bool scoring,
                 bool distance)
{
    gc_label(c, g->label, sizeof(g->label));
    aj_open(j, NULL, '{');
    aj_str(j, "title", g->label);
    aj_str(j, "id", c->location_id);
    aj_str(j, "resultType", result_type(c->level));
    if (c->level == GL_HOUSENUMBER)
        aj_str(j, "houseNumberType", c->type == GT_INTERPOLATED ? "interpolated" : "PA");
    else if (c->level == GL_CITY || c->level == GL_DISTRICT)
        aj_str(j, "localityType", c->level == GL_CITY ? "city" : "district");
    else if (c->level >= GL_COUNTRY && c->level <= GL_COUNTY)
        aj_str(j, "administrativeAreaType",
               c->level == GL_COUNTRY ? "country"
               : c->level == GL_STATE ? "state"
                                      : "county");
    aj_open(j, "address", '{');
    aj_str(j, "label", g->label);
    aj_fields(j, c, address, sizeof(address) / sizeof(address[0]));
    aj_close(j, '}');
    latlng(j, "position", c->lat, c->lon);
    if (c->level >= GL_STREET) {
        aj_open(j, "access", '[');
        latlng(j, NULL, c->nav_lat, c->nav_lon);
        aj_close(j, ']');
    }
    if (distance && c->distance >= 0)
        aj_int(j, "distance", (long long)(c->distance + 0.5));
    aj_open(j, "mapView", '{');
    aj_num(j, "west", c->tl_lon, 7);
    aj_num(j, "south", c->br_lat, 7);
    aj_num(j, "east", c->br_lon, 7);
    aj_num(j, "north", c->tl_lat, 7);
    aj_close(j, '}');
    if (scoring) {
        aj_open(j, "scoring", '{');
        aj_num(j, "queryScore", c->relevance, 2);
        aj_open(j, "fieldScore", '{');
        aj_scores(j, c, field_score);
        aj_close(j, '}');
        aj_close(j, '}');
    }
    aj_close(j, '}');
}

static void respond(struct http_response *resp, struct api_geo *g, int max, bool scoring,
                    bool distance)
{
    resp->status = 200;
    resp->content_type = CT_JSON;
    buf_reset(&resp->body);
    buf_grow(&resp->body, API_ITEM_BYTES * (size_t)(g->res.n < max ? g->res.n : max) + 64);
    struct api_json j;
    aj_init(&j, &resp->body, false);
    aj_open(&j, NULL, '{');
    aj_open(&j, "items", '[');
    for (int i = 0; i < g->res.n && i < max; i++)
        item(&j, g, &g->res.c[i], scoring, distance);
    aj_close(&j, ']');
    aj_close(&j, '}');
}

/* ---- parameters ---- */

/* at and in (allow: the in= forms the endpoint takes). Return 0, or answer 400 and return
 * GB_EPARAM. */
static int area(const struct http_request *req, struct http_response *resp, unsigned allow,
                struct api_area *ar)
{
    const char *key;
    char err[160];
    if (api_area_parse(req, allow, ar, &key, err, sizeof(err)) < 0) {
        bad(resp, key, err);
        return GB_EPARAM;
    }
    return 0;
}

/* limit: 1..V7_MAX_LIMIT, dflt when absent; capped at GC_MAX_CANDIDATES. */
static int limit(const struct http_request *req, struct http_response *resp, long dflt, long *out)
{
    char err[160];
    if (api_param_int(req, "limit", 1, V7_MAX_LIMIT, dflt, out, err, sizeof(err)) < 0) {
        bad(resp, "limit", err);
        return GB_EPARAM;
    }
    if (*out > GC_MAX_CANDIDATES)
        *out = GC_MAX_CANDIDATES;
    return 0;
}

/* ---- the endpoints ---- */

#define IN_ANY (API_ALLOW(API_IN_COUNTRY) | API_ALLOW(API_IN_CIRCLE) | API_ALLOW(API_IN_BBOX))

/* How many answers to ask the geocoder for: all it gives when the spatial context may drop or
 * reorder them (a circle or box filter, a focus to rank by), else max. */
static int ask_for(const struct api_area *ar, long max)
{
    double lat, lon;
    return api_area_focus(ar, &lat, &lon) || ar->in == API_IN_CIRCLE || ar->in == API_IN_BBOX
               ? GC_MAX_CANDIDATES
               : (int)max;
}

int api_v7_geocode(struct api *a, struct http_request *req, struct http_response *resp,
                   const char *app, int arg)
{
    (void)app;
    bool discover = arg == 1;
    char err[160];
    const char *text, *qq;
    if (api_param_text(req, "q", &text, err, sizeof(err)) < 0)
        return bad(resp, "q", err);
    if (api_param_text(req, "qq", &qq, err, sizeof(err)) < 0)
        return bad(resp, "qq", err);
    if (!text && (!qq || discover))
        return bad(resp, "q",
                   discover ? "Missing parameter 'q'" : "Either 'q' or 'qq' must be provided");
    long max;
    if (limit(req, resp, 20, &max) < 0)
        return HTTP_RESPOND;
    struct api_area ar;
    if (area(req, resp, discover ? IN_ANY : API_ALLOW(API_IN_COUNTRY), &ar) < 0)
        return HTTP_RESPOND;
    if (discover && !ar.has_at && ar.in == API_IN_NONE)
        return bad(resp, "at", "Either 'at' or 'in' must be provided");
    struct gc_query q = {.search_text = text, .max_results = ask_for(&ar, max)};
    char qbuf[API_TEXT_MAX + 1];
    if (qq && !discover && api_query_qq(qq, qbuf, sizeof(qbuf), &q) < 0)
        return bad(resp, "qq",
                   "Expected key=value pairs separated by ';', keys: street, houseNumber, "
                   "postalCode, city, district, county, state, country");
    struct api_geo *g = api_geo_new();
    if (api_geo_forward_in(a, g, &q, ar.cc, ar.ncc) < 0)
        g->res.n = 0;
    api_geo_place(g, &ar, (int)max);
    respond(resp, g, (int)max, true, discover && ar.has_at);
    api_geo_free(g);
    return HTTP_RESPOND;
}

int api_v7_revgeocode(struct api *a, struct http_request *req, struct http_response *resp,
                      const char *app, int arg)
{
    (void)app;
    (void)arg;
    long max;
    if (limit(req, resp, 1, &max) < 0)
        return HTTP_RESPOND;
    struct api_area ar;
    if (area(req, resp, API_ALLOW(API_IN_CIRCLE), &ar) < 0)
        return HTTP_RESPOND;
    double lat, lon;
    if (!api_area_focus(&ar, &lat, &lon))
        return bad(resp, "at", "Either 'at' or 'in=circle:' must be provided");
    double radius = ar.in == API_IN_CIRCLE ? ar.radius : GC_DEFAULT_RADIUS_M;
    if (radius > V7_MAX_RADIUS_M)
        return bad(resp, "in", "The radius is 0 to 20000 metres");
    struct api_geo *g = api_geo_new();
    if (api_geo_reverse(a, g, lat, lon, radius, (int)max) < 0)
        g->res.n = 0;
    respond(resp, g, (int)max, false, true);
    api_geo_free(g);
    return HTTP_RESPOND;
}

/* Is suggestion c already among the whole query's answers r[0..n) (the same result, or the
 * street an answer lies on)? */
static bool answered(const struct gc_result *r, int n, const struct gc_candidate *c)
{
    for (int k = 0; k < n; k++)
        if (strcmp(r->c[k].location_id, c->location_id) == 0 ||
            (r->c[k].level == GL_STREET && strcmp(r->c[k].street, c->street) == 0 &&
             strcmp(r->c[k].city, c->city) == 0))
            return true;
    return false;
}

int api_v7_autosuggest(struct api *a, struct http_request *req, struct http_response *resp,
                       const char *app, int arg)
{
    (void)app;
    (void)arg;
    char err[160];
    const char *text;
    if (api_param_text(req, "q", &text, err, sizeof(err)) < 0)
        return bad(resp, "q", err);
    if (!text)
        return bad(resp, "q", "Missing parameter 'q'");
    long max;
    if (limit(req, resp, 5, &max) < 0)
        return HTTP_RESPOND;
    struct api_area ar;
    if (area(req, resp, IN_ANY, &ar) < 0)
        return HTTP_RESPOND;
    if (!ar.has_at && ar.in == API_IN_NONE)
        return bad(resp, "at", "Either 'at' or 'in' must be provided");
    struct api_geo *g = api_geo_new();
    /* first the confident answers of the text as a whole query (a street or better, relevance
     * >= 0.8), kept in aux */
    struct gc_query q = {.search_text = text, .max_results = ask_for(&ar, max)};
    if (api_geo_forward_in(a, g, &q, ar.cc, ar.ncc) < 0)
        g->res.n = 0;
    api_geo_place(g, &ar, (int)max);
    struct gc_result *out = &g->aux;
    out->n = 0;
    for (int i = 0; i < g->res.n; i++)
        if (g->res.c[i].level >= GL_STREET && g->res.c[i].relevance >= 0.8)
            api_geo_copy(&out->c[out->n++], &g->res.c[i]);
    int nfull = out->n;
    /* then the streets whose name starts with the text, in the area, not already answered */
    struct gc_suggest sq = {.text = text, .max_results = GC_MAX_CANDIDATES}; /* then filtered */
    sq.has_at = api_area_focus(&ar, &sq.lat, &sq.lon);
    if (ar.ncc == 1)
        snprintf(sq.country, sizeof(sq.country), "%s", ar.cc[0]);
    if (api_geo_suggest(a, g, &sq) < 0)
        g->res.n = 0;
    api_geo_place(g, &ar, GC_MAX_CANDIDATES);
    for (int i = 0; i < g->res.n && out->n < GC_MAX_CANDIDATES; i++)
        if (!answered(out, nfull, &g->res.c[i]))
            api_geo_copy(&out->c[out->n++], &g->res.c[i]);
    api_geo_take(g, out);
    respond(resp, g, (int)max, true, ar.has_at);
    api_geo_free(g);
    return HTTP_RESPOND;
}

int api_v7_lookup(struct api *a, struct http_request *req, struct http_response *resp,
                  const char *app, int arg)
{
    (void)app;
    (void)arg;
    const char *id = api_param(req, "id");
    if (!id)
        return bad(resp, "id", "Missing parameter 'id'");
    if (strlen(id) > 64)
        return bad(resp, "id", "Parameter 'id' is longer than 64 bytes");
    struct api_geo *g = api_geo_new();
    if (api_geo_lookup(a, g, id) < 0) {
        api_geo_free(g);
        char cause[128];
        snprintf(cause, sizeof(cause), "No result with id '%s'", id);
        api_v7_error(resp, 404, "Not Found", cause,
                     "Look up an id that an answer of this server gave");
        return HTTP_RESPOND;
    }
    /* lookup answers one item, not items[] */
    resp->status = 200;
    resp->content_type = CT_JSON;
    buf_reset(&resp->body);
    struct api_json j;
    aj_init(&j, &resp->body, false);
    item(&j, g, &g->res.c[0], false, false);
    api_geo_free(g);
    return HTTP_RESPOND;
}
