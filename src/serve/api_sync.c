/*
 * api_sync.c - HERE's synchronous Geocoder 6.2 on the job API's index, engine and credentials:
 * GET /6.2/geocode.json, /6.2/reversegeocode.json and /6.2/search.json (docs/api.md).
 *
 * DESIGN. A handler checks its parameters (a 400 document naming the first bad one), asks the
 * geocoder through api_geo.c (the calls a batch row makes) and writes HERE's document:
 * Response.MetaInfo, Response.View[] (empty when nothing matches) with one view of Result[].
 * jsonattributes=1 lowers the first letter of every key, as HERE did. Unknown parameters are
 * ignored, as HERE ignored them. Threads: handlers run on connection threads; each request has
 * its own geocoding memory.
 */
#include "serve/api_int.h"
#include "base/err.h"
#include "text/norm.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SYNC_MAX_RESULTS  100  /* maxresults accepted; answers hold GC_MAX_CANDIDATES at most */
#define SYNC_DEFAULT      10   /* maxresults when absent */
#define SYNC_MAX_RADIUS_M 2e4f /* prox's radius: the batch's cap */

/* "2026-12-03T14:30:00.000+0000" */
static void timestamp(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03d+0000", (int)(ts.tv_nsec / 1000000) % 1000);
}

static void position(struct api_json *j, const char *key, double lat, double lon)
{
    aj_open(j, key, '{');
    aj_num(j, "Latitude", lat, 7);
    aj_num(j, "Longitude", lon, 7);
    aj_close(j, '}');
}

/* Address and AdditionalData, and the keys of MatchQuality. */
static const struct aj_field address[] = {
    {GF_COUNTRY3, "Country"},        {GF_STATE, "State"},
    {GF_COUNTY, "County"},           {GF_CITY, "City"},
    {GF_DISTRICT, "District"},       {GF_STREET, "Street"},
    {GF_HOUSENUMBER, "HouseNumber"}, {GF_POSTCODE, "PostalCode"}};
static const struct aj_field additional[] = {{GF_COUNTRY_NAME, "CountryName"},
                                             {GF_STATE, "StateName"},
                                             {GF_COUNTY, "CountyName"},
                                             {GF_COUNTRY2, "Country2"}};
static const char *const quality[MQ__COUNT] = {
    [MQ_COUNTRY] = "Country",         [MQ_STATE] = "State",
    [MQ_COUNTY] = "County",           [MQ_CITY] = "City",
    [MQ_DISTRICT] = "District",       [MQ_STREET] = "Street",
    [MQ_HOUSENUMBER] = "HouseNumber", [MQ_BUILDING] = "Building",
    [MQ_POSTCODE] = "PostalCode"};

static void result(struct api_json *j, struct api_geo *g, const struct gc_candidate *c,
                   bool reverse)
{
    aj_open(j, NULL, '{');
    aj_num(j, "Relevance", c->relevance, 2);
    if (reverse && c->distance >= 0)
        aj_num(j, "Distance", c->distance, 1);
    aj_str(j, "MatchLevel", gc_level_name(c->level));
    if (aj_has_scores(c)) { /* reverse geocoding: no query fields to match */
        aj_open(j, "MatchQuality", '{');
        aj_scores(j, c, quality);
        aj_close(j, '}');
    }
    aj_str_nz(j, "MatchType", gc_type_name(c->type));
    aj_open(j, "Location", '{');
    aj_str(j, "LocationId", c->location_id);
    aj_str(j, "LocationType", c->level >= GL_STREET ? "point" : "area");
    position(j, "DisplayPosition", c->lat, c->lon);
    aj_open(j, "NavigationPosition", '[');
    position(j, NULL, c->nav_lat, c->nav_lon);
    aj_close(j, ']');
    aj_open(j, "MapView", '{');
    position(j, "TopLeft", c->tl_lat, c->tl_lon);
    position(j, "BottomRight", c->br_lat, c->br_lon);
    aj_close(j, '}');
    aj_open(j, "Address", '{');
    gc_label(c, g->label, sizeof(g->label));
    aj_str(j, "Label", g->label);
    aj_fields(j, c, address, sizeof(address) / sizeof(address[0]));
    aj_open(j, "AdditionalData", '[');
    for (size_t i = 0; i < sizeof(additional) / sizeof(additional[0]); i++) {
        const char *v = gc_field(c, additional[i].f);
        if (!v || !*v)
            continue;
        aj_open(j, NULL, '{');
        aj_str(j, "value", v);
        aj_str(j, "key", additional[i].key);
        aj_close(j, '}');
    }
    aj_close(j, ']');
    aj_close(j, '}');
    aj_close(j, '}');
    aj_close(j, '}');
}

/* The whole answer: the first max results of g. */
static void respond(struct http_response *resp, bool lower, struct api_geo *g, int max,
                    bool reverse)
{
    char ts[40];
    timestamp(ts);
    resp->status = 200;
    resp->content_type = CT_JSON;
    buf_reset(&resp->body);
    buf_grow(&resp->body, API_ITEM_BYTES * (size_t)(g->res.n < max ? g->res.n : max) + 256);
    struct api_json j;
    aj_init(&j, &resp->body, lower);
    aj_open(&j, NULL, '{');
    aj_open(&j, "Response", '{');
    aj_open(&j, "MetaInfo", '{');
    aj_str(&j, "Timestamp", ts);
    aj_close(&j, '}');
    aj_open(&j, "View", '[');
    if (g->res.n > 0) {
        aj_open(&j, NULL, '{');
        aj_str(&j, "_type", "SearchResultsViewType");
        aj_int(&j, "ViewId", 0);
        aj_open(&j, "Result", '[');
        for (int i = 0; i < g->res.n && i < max; i++)
            result(&j, g, &g->res.c[i], reverse);
        aj_close(&j, ']');
        aj_close(&j, '}');
    }
    aj_close(&j, ']');
    aj_close(&j, '}');
    aj_close(&j, '}');
}

/* The parameters every endpoint reads: maxresults and jsonattributes. */
static int common(const struct http_request *req, struct http_response *resp, long *max,
                  bool *lower)
{
    char err[160];
    long ja;
    if (api_param_int(req, "maxresults", 1, SYNC_MAX_RESULTS, SYNC_DEFAULT, max, err, sizeof(err)) <
        0) {
        api_bad_request(resp, req, err, "maxresults");
        return GB_EPARAM;
    }
    if (api_param_int(req, "jsonattributes", 0, 1023, 0, &ja, err, sizeof(err)) < 0) {
        api_bad_request(resp, req, err, "jsonattributes");
        return GB_EPARAM;
    }
    *lower = ja & 1;
    if (*max > GC_MAX_CANDIDATES)
        *max = GC_MAX_CANDIDATES;
    return 0;
}

/* Forward geocoding of searchtext and the structured fields. */
static int forward(struct api *a, struct http_request *req, struct http_response *resp)
{
    long max;
    bool lower;
    if (common(req, resp, &max, &lower) < 0)
        return HTTP_RESPOND;
    struct gc_query q = {.max_results = (int)max};
    const char *key;
    char err[200];
    if (api_query_62(req, &q, &key, err, sizeof(err)) < 0) {
        api_bad_request(resp, req, err, key);
        return HTTP_RESPOND;
    }
    struct api_geo *g = api_geo_new();
    if (api_geo_forward(a, g, &q) < 0)
        g->res.n = 0; /* the batch's FAILED row: nothing matches */
    respond(resp, lower, g, (int)max, false);
    api_geo_free(g);
    return HTTP_RESPOND;
}

int api_sync_geocode(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, int arg)
{
    (void)app;
    (void)arg;
    return forward(a, req, resp);
}

int api_sync_search(struct api *a, struct http_request *req, struct http_response *resp,
                    const char *app, int arg)
{
    (void)app;
    (void)arg;
    const char *id = api_param(req, "locationid");
    if (!id)
        return forward(a, req, resp);
    long max;
    bool lower;
    if (common(req, resp, &max, &lower) < 0)
        return HTTP_RESPOND;
    if (strlen(id) > 64) {
        api_bad_request(resp, req, "Parameter 'locationid' is longer than 64 bytes", "locationid");
        return HTTP_RESPOND;
    }
    struct api_geo *g = api_geo_new();
    if (api_geo_lookup(a, g, id) < 0)
        g->res.n = 0;
    respond(resp, lower, g, (int)max, false);
    api_geo_free(g);
    return HTTP_RESPOND;
}

int api_sync_reverse(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, int arg)
{
    (void)app;
    (void)arg;
    long max;
    bool lower;
    if (common(req, resp, &max, &lower) < 0)
        return HTTP_RESPOND;
    const char *mode = api_param(req, "mode");
    if (!mode) {
        api_bad_request(resp, req,
                        "Input parameter validation failed. Missing: mode (retrieveAddresses, "
                        "retrieveAreas, retrieveAll or trackPosition)",
                        "mode");
        return HTTP_RESPOND;
    }
    bool areas = strcasecmp(mode, "retrieveAreas") == 0;
    bool track = strcasecmp(mode, "trackPosition") == 0;
    if (!areas && !track && strcasecmp(mode, "retrieveAddresses") != 0 &&
        strcasecmp(mode, "retrieveAll") != 0) {
        api_bad_request(resp, req,
                        "Invalid value for parameter 'mode': retrieveAddresses, retrieveAreas, "
                        "retrieveAll or trackPosition",
                        "mode");
        return HTTP_RESPOND;
    }
    const char *key = track && api_param(req, "pos") ? "pos" : "prox";
    const char *at = api_param(req, key);
    double lat, lon, extra[1] = {GC_DEFAULT_RADIUS_M};
    int nextra = 0;
    if (!at) {
        api_bad_request(resp, req,
                        track ? "Input parameter validation failed. Missing: pos (or prox)"
                              : "Input parameter validation failed. Missing: prox",
                        key);
        return HTTP_RESPOND;
    }
    if (api_parse_latlon(at, &lat, &lon, extra, 1, &nextra) < 0) {
        api_bad_request(resp, req,
                        "Invalid value: latitude,longitude[,radius] in degrees (-90..90, "
                        "-180..180) and metres",
                        key);
        return HTTP_RESPOND;
    }
    double radius = GC_DEFAULT_RADIUS_M;
    if (nextra && !track) { /* pos's third number is a heading */
        radius = extra[0];
        if (!(radius >= 0 && radius <= SYNC_MAX_RADIUS_M)) {
            api_bad_request(resp, req, "Invalid value: the radius is 0 to 20000 metres", key);
            return HTTP_RESPOND;
        }
    }
    struct api_geo *g = api_geo_new();
    int rc = areas ? api_geo_reverse_areas(a, g, lat, lon)
                   : api_geo_reverse(a, g, lat, lon, radius, track ? 1 : (int)max);
    if (rc < 0)
        g->res.n = 0;
    respond(resp, lower, g, track ? 1 : (int)max, true);
    api_geo_free(g);
    return HTTP_RESPOND;
}
