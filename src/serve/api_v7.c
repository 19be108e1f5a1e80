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
    const char *iso3 = c->country[0] ? norm_country_iso3(c->country) : NULL;
    aj_str_nz(j, "countryCode", iso3);
    aj_str_nz(j, "countryName", c->country[0] ? norm_country_name(c->country) : NULL);
    aj_str_nz(j, "state", c->state);
    aj_str_nz(j, "county", c->county);
    aj_str_nz(j, "city", c->city);
    aj_str_nz(j, "district", c->district);
    aj_str_nz(j, "street", c->street);
    aj_str_nz(j, "postalCode", c->postcode);
    aj_str_nz(j, "houseNumber", c->house_number);
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
        static const struct {
            enum gc_mq mq;
            const char *key;
        } f[] = {{MQ_COUNTRY, "country"},         {MQ_STATE, "state"},
                 {MQ_COUNTY, "county"},           {MQ_CITY, "city"},
                 {MQ_DISTRICT, "district"},       {MQ_STREET, "streets"},
                 {MQ_HOUSENUMBER, "houseNumber"}, {MQ_POSTCODE, "postalCode"}};
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
            double v = c->mq[f[i].mq];
            if (v < 0)
                continue;
            if (f[i].mq == MQ_STREET) {
                aj_open(j, "streets", '[');
                aj_num(j, NULL, v, 2);
                aj_close(j, ']');
            } else
                aj_num(j, f[i].key, v, 2);
        }
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

struct v7_area {
    char cc[API_MAX_IN][3]; /* in=countryCode: ISO2 */
    int ncc;
    bool has_at;   /* at=, or the centre of in=circle: / in=bbox: */
    bool at_given; /* at= itself: answers give their distance from it */
    double lat, lon;
    double radius; /* in=circle:...;r=, else -1 */
};

/* at and in. Return 0, or answer 400 and return GB_EPARAM. */
static int area(const struct http_request *req, struct http_response *resp, struct v7_area *ar)
{
    memset(ar, 0, sizeof(*ar));
    ar->radius = -1;
    const char *at = api_param(req, "at");
    if (at) {
        if (api_parse_latlon(at, &ar->lat, &ar->lon, NULL, 0, NULL) < 0) {
            bad(resp, "at", "Invalid coordinates: at=latitude,longitude in degrees");
            return GB_EPARAM;
        }
        ar->has_at = ar->at_given = true;
    }
    const char *in = api_param(req, "in");
    if (!in)
        return 0;
    if (strlen(in) > 120) {
        bad(resp, "in", "Parameter 'in' is longer than 120 bytes");
        return GB_EPARAM;
    }
    if (strncasecmp(in, "countryCode:", 12) == 0) {
        const char *p = in + 12;
        while (*p) {
            size_t n = strcspn(p, ",");
            const char *iso2 = n == 3 ? norm_country(p, n) : NULL;
            if (!iso2 || ar->ncc == API_MAX_IN) {
                bad(resp, "in",
                    "Expected countryCode: followed by up to 16 ISO 3166-1 alpha-3 codes, "
                    "comma-separated");
                return GB_EPARAM;
            }
            snprintf(ar->cc[ar->ncc++], 3, "%s", iso2);
            p += n;
            if (*p == ',')
                p++;
        }
        if (ar->ncc == 0) {
            bad(resp, "in", "Expected countryCode: followed by ISO 3166-1 alpha-3 codes");
            return GB_EPARAM;
        }
        return 0;
    }
    if (strncasecmp(in, "circle:", 7) == 0) {
        char tmp[128];
        snprintf(tmp, sizeof(tmp), "%s", in + 7);
        char *r = strstr(tmp, ";r=");
        char *end = NULL;
        if (r) {
            *r = '\0';
            ar->radius = strtod(r + 3, &end);
        }
        if (!r || end == r + 3 || *end || !(ar->radius >= 0) ||
            api_parse_latlon(tmp, &ar->lat, &ar->lon, NULL, 0, NULL) < 0) {
            bad(resp, "in", "Expected circle:latitude,longitude;r=metres");
            return GB_EPARAM;
        }
        ar->has_at = true;
        return 0;
    }
    if (strncasecmp(in, "bbox:", 5) == 0) {
        double b[4]; /* west, south, east, north */
        const char *p = in + 5;
        int n = 0;
        for (; n < 4; n++) {
            char *end;
            b[n] = strtod(p, &end);
            if (end == p || !isfinite(b[n]) || *end != (n < 3 ? ',' : '\0'))
                break;
            p = end + 1;
        }
        if (n < 4 || fabs(b[0]) > 180 || fabs(b[2]) > 180 || fabs(b[1]) > 90 || fabs(b[3]) > 90 ||
            b[0] > b[2] || b[1] > b[3]) {
            bad(resp, "in", "Expected bbox:west,south,east,north in degrees");
            return GB_EPARAM;
        }
        ar->lat = (b[1] + b[3]) / 2;
        ar->lon = (b[0] + b[2]) / 2;
        ar->has_at = true;
        return 0;
    }
    bad(resp, "in", "Expected countryCode:, circle: or bbox:");
    return GB_EPARAM;
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

/*
 * qq=street=...;houseNumber=...;city=...;district=...;county=...;state=...;postalCode=...;
 * country=... into q (the values point into buf).
 */
static int parse_qq(const char *qq, char *buf, size_t cap, struct gc_query *q)
{
    snprintf(buf, cap, "%s", qq);
    for (char *p = buf; *p;) {
        char *end = p + strcspn(p, ";");
        bool last = *end == '\0';
        *end = '\0';
        char *eq = strchr(p, '=');
        if (!eq)
            return GB_EPARAM;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(p, "street") == 0)
            q->street = v;
        else if (strcmp(p, "houseNumber") == 0)
            q->house_number = v;
        else if (strcmp(p, "postalCode") == 0)
            q->postcode = v;
        else if (strcmp(p, "city") == 0)
            q->city = v;
        else if (strcmp(p, "district") == 0)
            q->district = v;
        else if (strcmp(p, "county") == 0)
            q->county = v;
        else if (strcmp(p, "state") == 0)
            q->state = v;
        else if (strcmp(p, "country") == 0)
            q->country = v;
        else
            return GB_EPARAM;
        p = last ? end : end + 1;
    }
    return 0;
}

/* ---- the endpoints ---- */

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
    struct v7_area ar;
    if (area(req, resp, &ar) < 0)
        return HTTP_RESPOND;
    if (discover && !ar.has_at && ar.ncc == 0)
        return bad(resp, "at", "Either 'at' or 'in' must be provided");
    struct gc_query q = {.search_text = text, .max_results = (int)max};
    char qbuf[API_TEXT_MAX + 1];
    if (qq && !discover && parse_qq(qq, qbuf, sizeof(qbuf), &q) < 0)
        return bad(resp, "qq",
                   "Expected key=value pairs separated by ';', keys: street, houseNumber, "
                   "postalCode, city, district, county, state, country");
    struct api_geo *g = api_geo_new();
    if (api_geo_forward_in(a, g, &q, ar.cc, ar.ncc) < 0)
        g->res.n = 0;
    respond(resp, g, (int)max, true, false);
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
    struct v7_area ar;
    if (area(req, resp, &ar) < 0)
        return HTTP_RESPOND;
    if (!ar.has_at || ar.ncc)
        return bad(resp, "at", "Either 'at' or 'in=circle:' must be provided");
    double radius = ar.radius >= 0 ? ar.radius : GC_DEFAULT_RADIUS_M;
    if (radius > V7_MAX_RADIUS_M)
        return bad(resp, "in", "The radius is 0 to 20000 metres");
    struct api_geo *g = api_geo_new();
    if (api_geo_reverse(a, g, ar.lat, ar.lon, radius, (int)max) < 0)
        g->res.n = 0;
    respond(resp, g, (int)max, false, true);
    api_geo_free(g);
    return HTTP_RESPOND;
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
    struct v7_area ar;
    if (area(req, resp, &ar) < 0)
        return HTTP_RESPOND;
    if (!ar.has_at && ar.ncc == 0)
        return bad(resp, "at", "Either 'at' or 'in' must be provided");
    struct api_geo *g = api_geo_new();
    /* first what the text finds as a whole query, then streets by prefix */
    struct gc_query q = {.search_text = text, .max_results = (int)max};
    struct gc_result *full = xmalloc(sizeof(*full));
    full->n = 0;
    if (api_geo_forward_in(a, g, &q, ar.cc, ar.ncc) == 0 && g->res.n > 0) {
        full->n = g->res.n;
        for (int i = 0; i < g->res.n; i++) {
            full->c[i] = g->res.c[i];
            if (g->res.c[i].house_number == g->res.c[i].number_buf)
                full->c[i].house_number = full->c[i].number_buf;
        }
    }
    /* only the confident answers of the whole query (a street or better, relevance >= 0.8) */
    int nfull = 0;
    for (int i = 0; i < full->n; i++)
        if (full->c[i].level >= GL_STREET && full->c[i].relevance >= 0.8) {
            full->c[nfull] = full->c[i];
            if (full->c[i].house_number == full->c[i].number_buf)
                full->c[nfull].house_number = full->c[nfull].number_buf;
            nfull++;
        }
    struct gc_suggest sq = {
        .text = text, .has_at = ar.has_at, .lat = ar.lat, .lon = ar.lon, .max_results = (int)max};
    if (ar.ncc == 1)
        snprintf(sq.country, sizeof(sq.country), "%s", ar.cc[0]);
    if (api_geo_suggest(a, g, &sq) < 0)
        g->res.n = 0;
    /* keep suggestions in the in= countries, not already answered */
    int n = 0;
    for (int i = 0; i < g->res.n; i++) {
        const struct gc_candidate *c = &g->res.c[i];
        bool keep = ar.ncc == 0;
        for (int k = 0; k < ar.ncc && !keep; k++)
            keep = !c->country[0] || strcmp(c->country, ar.cc[k]) == 0;
        for (int k = 0; k < nfull && keep; k++)
            keep = strcmp(full->c[k].location_id, c->location_id) != 0 &&
                   !(full->c[k].level == GL_STREET && strcmp(full->c[k].street, c->street) == 0 &&
                     strcmp(full->c[k].city, c->city) == 0);
        if (keep && nfull + n < GC_MAX_CANDIDATES)
            full->c[nfull + n++] = *c;
    }
    g->res.n = nfull + n;
    for (int i = 0; i < g->res.n; i++) {
        g->res.c[i] = full->c[i];
        if (full->c[i].house_number == full->c[i].number_buf)
            g->res.c[i].house_number = g->res.c[i].number_buf;
        if (!ar.has_at)
            g->res.c[i].distance = -1;
    }
    free(full);
    respond(resp, g, (int)max, true, ar.at_given);
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
