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

static void additional(struct api_json *j, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    aj_open(j, NULL, '{');
    aj_str(j, "value", value);
    aj_str(j, "key", key);
    aj_close(j, '}');
}

static void match_quality(struct api_json *j, const struct gc_candidate *c)
{
    static const struct {
        enum gc_mq mq;
        const char *key;
    } f[] = {{MQ_COUNTRY, "Country"},         {MQ_STATE, "State"},
             {MQ_COUNTY, "County"},           {MQ_CITY, "City"},
             {MQ_DISTRICT, "District"},       {MQ_STREET, "Street"},
             {MQ_HOUSENUMBER, "HouseNumber"}, {MQ_BUILDING, "Building"},
             {MQ_POSTCODE, "PostalCode"}};
    bool any = false;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        any |= c->mq[f[i].mq] >= 0;
    if (!any) /* reverse geocoding: no query fields to match */
        return;
    aj_open(j, "MatchQuality", '{');
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        double v = c->mq[f[i].mq];
        if (v < 0)
            continue;
        if (f[i].mq == MQ_STREET) {
            aj_open(j, "Street", '[');
            aj_num(j, NULL, v, 2);
            aj_close(j, ']');
        } else
            aj_num(j, f[i].key, v, 2);
    }
    aj_close(j, '}');
}

static void result(struct api_json *j, struct api_geo *g, const struct gc_candidate *c,
                   bool reverse)
{
    aj_open(j, NULL, '{');
    aj_num(j, "Relevance", c->relevance, 2);
    if (reverse && c->distance >= 0)
        aj_num(j, "Distance", c->distance, 1);
    aj_str(j, "MatchLevel", gc_level_name(c->level));
    match_quality(j, c);
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
    const char *iso3 = c->country[0] ? norm_country_iso3(c->country) : NULL;
    aj_str_nz(j, "Country", iso3);
    aj_str_nz(j, "State", c->state);
    aj_str_nz(j, "County", c->county);
    aj_str_nz(j, "City", c->city);
    aj_str_nz(j, "District", c->district);
    aj_str_nz(j, "Street", c->street);
    aj_str_nz(j, "HouseNumber", c->house_number);
    aj_str_nz(j, "PostalCode", c->postcode);
    aj_open(j, "AdditionalData", '[');
    additional(j, "CountryName", c->country[0] ? norm_country_name(c->country) : NULL);
    additional(j, "StateName", c->state);
    additional(j, "CountyName", c->county);
    additional(j, "Country2", c->country);
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
    static const char *const names[] = {"searchtext", "street", "housenumber", "postalcode", "city",
                                        "district",   "county", "state",       "country"};
    const char *v[9];
    bool any = false;
    char err[160];
    for (size_t i = 0; i < 9; i++) {
        if (api_param_text(req, names[i], &v[i], err, sizeof(err)) < 0) {
            api_bad_request(resp, req, err, names[i]);
            return HTTP_RESPOND;
        }
        any |= v[i] != NULL;
    }
    if (!any) {
        api_bad_request(resp, req,
                        "Input parameter validation failed. Missing: searchtext, or one of "
                        "street, housenumber, postalcode, city, district, county, state, country",
                        "searchtext");
        return HTTP_RESPOND;
    }
    struct gc_query q = {
        .search_text = v[0],
        .street = v[1],
        .house_number = v[2],
        .postcode = v[3],
        .city = v[4],
        .district = v[5],
        .county = v[6],
        .state = v[7],
        .country = v[8],
        .max_results = (int)max,
    };
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
