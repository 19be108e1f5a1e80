/*
 * api_param.c - the query parameters of the synchronous APIs (api_sync.c: Geocoder 6.2,
 * api_v7.c: Geocoding & Search v7), read in one place with one contract (api_int.h): a value
 * is absent when missing, empty, "undefined" or "null"; a bad value is GB_EPARAM with a message
 * for humans and the name of the parameter at fault, which each API turns into its own error
 * document. Also the query's structured fields (6.2's parameters, v7's qq=) and v7's spatial
 * context (at, in=countryCode: / circle: / bbox:).
 *
 * Threads: pure functions of the request; any connection thread.
 */
#include "serve/api_int.h"
#include "base/err.h"
#include "text/norm.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *api_param(const struct http_request *req, const char *name)
{
    const char *v = http_param(req, name);
    if (!v || !*v || strcmp(v, "undefined") == 0 || strcmp(v, "null") == 0)
        return NULL;
    return v;
}

int api_param_int(const struct http_request *req, const char *name, long min, long max, long dflt,
                  long *out, char *err, size_t errlen)
{
    const char *v = api_param(req, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        gb_errf(err, errlen, "Invalid value for parameter '%s': an integer from %ld to %ld", name,
                min, max);
        return GB_EPARAM;
    }
    *out = n;
    return 0;
}

int api_parse_latlon(const char *s, double *lat, double *lon, double *extra, int nextra,
                     int *nextra_out)
{
    double v[2 + 4];
    int n = 0;
    const char *p = s;
    if (nextra > 4)
        nextra = 4;
    for (;;) {
        char *end;
        while (*p == ' ')
            p++;
        if (!*p || *p == ',')
            return GB_EPARAM;
        errno = 0;
        v[n] = strtod(p, &end);
        if (end == p || errno || !isfinite(v[n]))
            return GB_EPARAM;
        n++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',' || n == 2 + nextra)
            return GB_EPARAM;
        p++;
    }
    if (n < 2 || fabs(v[0]) > 90 || fabs(v[1]) > 180)
        return GB_EPARAM;
    *lat = v[0];
    *lon = v[1];
    for (int i = 2; i < n; i++)
        extra[i - 2] = v[i];
    if (nextra_out)
        *nextra_out = n - 2;
    return 0;
}

int api_param_text(const struct http_request *req, const char *name, const char **out, char *err,
                   size_t errlen)
{
    const char *v = api_param(req, name);
    if (v && strlen(v) > API_TEXT_MAX) {
        gb_errf(err, errlen, "Parameter '%s' is longer than %d bytes", name, API_TEXT_MAX);
        return GB_EPARAM;
    }
    *out = v;
    return 0;
}

/* ---- the structured fields of a query ---- */

/* Each field: its 6.2 parameter, its v7 qq key, where it goes in struct gc_query. */
static const struct {
    const char *name62, *key7;
    size_t off;
} fields[] = {
    {"street", "street", offsetof(struct gc_query, street)},
    {"housenumber", "houseNumber", offsetof(struct gc_query, house_number)},
    {"postalcode", "postalCode", offsetof(struct gc_query, postcode)},
    {"city", "city", offsetof(struct gc_query, city)},
    {"district", "district", offsetof(struct gc_query, district)},
    {"county", "county", offsetof(struct gc_query, county)},
    {"state", "state", offsetof(struct gc_query, state)},
    {"country", "country", offsetof(struct gc_query, country)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char **field_of(struct gc_query *q, size_t i)
{
    return (const char **)(void *)((char *)q + fields[i].off);
}

int api_query_62(const struct http_request *req, struct gc_query *q, const char **key, char *err,
                 size_t errlen)
{
    *key = "searchtext";
    if (api_param_text(req, "searchtext", &q->search_text, err, errlen) < 0)
        return GB_EPARAM;
    bool any = q->search_text != NULL;
    for (size_t i = 0; i < NFIELDS; i++) {
        *key = fields[i].name62;
        if (api_param_text(req, fields[i].name62, field_of(q, i), err, errlen) < 0)
            return GB_EPARAM;
        any |= *field_of(q, i) != NULL;
    }
    if (!any) {
        *key = "searchtext";
        gb_errf(err, errlen,
                "Input parameter validation failed. Missing: searchtext, or one of street, "
                "housenumber, postalcode, city, district, county, state, country");
        return GB_EPARAM;
    }
    return 0;
}

int api_query_qq(const char *qq, char *buf, size_t cap, struct gc_query *q)
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
        size_t i = 0;
        while (i < NFIELDS && strcmp(p, fields[i].key7) != 0)
            i++;
        if (i == NFIELDS)
            return GB_EPARAM;
        *field_of(q, i) = eq + 1;
        p = last ? end : end + 1;
    }
    return 0;
}

/* ---- v7's spatial context: at and in ---- */

/* in=countryCode:ISO3[,ISO3]* into ar->cc. */
static int parse_countries(const char *p, struct api_area *ar, char *err, size_t errlen)
{
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *iso2 = n == 3 ? norm_country(p, n) : NULL;
        if (!iso2 || ar->ncc == API_MAX_IN) {
            gb_errf(err, errlen,
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
        gb_errf(err, errlen, "Expected countryCode: followed by ISO 3166-1 alpha-3 codes");
        return GB_EPARAM;
    }
    ar->in = API_IN_COUNTRY;
    return 0;
}

/* in=circle:LAT,LNG;r=METRES (r a whole number, as HERE's). */
static int parse_circle(const char *s, struct api_area *ar, char *err, size_t errlen)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s", s);
    char *r = strstr(tmp, ";r=");
    bool ok = r != NULL;
    if (ok) {
        *r = '\0';
        const char *d = r + 3;
        ok = *d != '\0' && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 9 &&
             api_parse_latlon(tmp, &ar->lat, &ar->lon, NULL, 0, NULL) == 0;
        ar->radius = ok ? strtod(d, NULL) : 0;
    }
    if (!ok) {
        gb_errf(err, errlen, "Expected circle:latitude,longitude;r=metres (a whole number)");
        return GB_EPARAM;
    }
    ar->in = API_IN_CIRCLE;
    return 0;
}

/* in=bbox:WEST,SOUTH,EAST,NORTH in degrees, west <= east and south <= north. */
static int parse_bbox(const char *p, struct api_area *ar, char *err, size_t errlen)
{
    double b[4];
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
        gb_errf(err, errlen, "Expected bbox:west,south,east,north in degrees");
        return GB_EPARAM;
    }
    ar->west = b[0];
    ar->south = b[1];
    ar->east = b[2];
    ar->north = b[3];
    ar->lat = (b[1] + b[3]) / 2;
    ar->lon = (b[0] + b[2]) / 2;
    ar->in = API_IN_BBOX;
    return 0;
}

int api_area_parse(const struct http_request *req, unsigned allow, struct api_area *ar,
                   const char **key, char *err, size_t errlen)
{
    memset(ar, 0, sizeof(*ar));
    ar->in = API_IN_NONE;
    *key = "at";
    const char *at = api_param(req, "at");
    if (at) {
        if (api_parse_latlon(at, &ar->at_lat, &ar->at_lon, NULL, 0, NULL) < 0) {
            gb_errf(err, errlen, "Invalid coordinates: at=latitude,longitude in degrees");
            return GB_EPARAM;
        }
        ar->has_at = true;
    }
    *key = "in";
    const char *in = api_param(req, "in");
    if (!in)
        return 0;
    if (strlen(in) > 120) {
        gb_errf(err, errlen, "Parameter 'in' is longer than 120 bytes");
        return GB_EPARAM;
    }
    int rc;
    if (strncasecmp(in, "countryCode:", 12) == 0)
        rc = parse_countries(in + 12, ar, err, errlen);
    else if (strncasecmp(in, "circle:", 7) == 0)
        rc = parse_circle(in + 7, ar, err, errlen);
    else if (strncasecmp(in, "bbox:", 5) == 0)
        rc = parse_bbox(in + 5, ar, err, errlen);
    else {
        gb_errf(err, errlen, "Expected countryCode:, circle: or bbox:");
        return GB_EPARAM;
    }
    if (rc < 0)
        return rc;
    if (!(allow & (1u << ar->in))) {
        static const char *const kind[] = {"", "countryCode:", "circle:", "bbox:"};
        gb_errf(err, errlen, "in=%s is not supported by this endpoint", kind[ar->in]);
        return GB_EPARAM;
    }
    if (ar->has_at && (ar->in == API_IN_CIRCLE || ar->in == API_IN_BBOX)) {
        gb_errf(err, errlen,
                "Parameters 'at', 'in=circle' and 'in=bbox' are mutually exclusive: give one");
        return GB_EPARAM;
    }
    return 0;
}

bool api_area_focus(const struct api_area *ar, double *lat, double *lon)
{
    if (ar->has_at) {
        *lat = ar->at_lat;
        *lon = ar->at_lon;
        return true;
    }
    if (ar->in == API_IN_CIRCLE || ar->in == API_IN_BBOX) {
        *lat = ar->lat;
        *lon = ar->lon;
        return true;
    }
    return false;
}
