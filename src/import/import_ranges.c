/*
 * import_ranges.c - street centerlines with address ranges as GeoJSON, the layer a city or
 * county GIS publishes for addressing (Cambridge MA's TRANS_Centerlines, Esri address-locator
 * exports, TIGER ADDRFEAT converted to GeoJSON): a FeatureCollection of LineString or
 * MultiLineString features, each a stretch of street with a range of house numbers on its left
 * and its right.
 *
 * Each feature with a street name gives one REC_STREET (its line) and one REC_INTERP per side
 * that has a range (its side of the line: reverse geocoding reads the number of the side a
 * point is on), for the name and again for the alias (alias_of: a street of its own in the
 * index, whose numbers are found on its own ranges, and whose answers carry the street's name
 * and id: "1000 Mass Ave" is 1000 Massachusetts Ave). Numbers run from the line's first point
 * ("from") to its last ("to"); the parity is the two ends' when they agree (1334 to 1378: even),
 * otherwise every number. A side whose two numbers are 0, negative (-1 in Cambridge's layer), null
 * or absent has no range; when one of them is, the range is the other number alone. A
 * MultiLineString's parts are one line in their order.
 *
 * Properties are found by name in any case, the first of each list that the feature has:
 *   left range     L_From/L_To, L_F_ADD/L_T_ADD, LFROMADD/LTOADD, FROMLEFT/TOLEFT,
 *                  LFROMHN/LTOHN, LEFT_FROM/LEFT_TO, L_ADD_FROM/L_ADD_TO
 *   right range    the same with R, RIGHT
 *   street         Street, FULLNAME, FULL_NAME, FULLSTNAME, FULL_STREET, STREET_FULL, Label,
 *                  NAME; else its parts: PREDIR, Street_Name/ST_NAME/STREETNAME,
 *                  Street_Type/ST_TYPE/SUFTYPE/STREETTYPE, SUFDIR (a bare NAME is the whole
 *                  name, and a bare TYPE a road's class in many layers: never a part)
 *   alias          Alias, ALT_NAME, ALTNAME, ALIAS_NAME
 *   postcode       ZIP_Left/ZIP_Right, ZIPL/ZIPR, L_ZIP/R_ZIP, ZIPLEFT/ZIPRIGHT, LZIP/RZIP,
 *                  POSTCODE_L/POSTCODE_R; for both sides ZIP, ZIPCODE, ZIP_CODE, POSTCODE
 *   city           City_Left/City_Right, L_CITY/R_CITY, CITYL/CITYR, PLACEL/PLACER,
 *                  POSTCOMM_L/POSTCOMM_R; for both sides City, MUNICIPALITY, MUNI, PLACE, TOWN
 *   state          State, STATE_CODE, STATEABBR, REGION, PROVINCE
 * Numbers may be JSON numbers (integral) or strings of digits. Such layers rarely say their
 * country and often not their city: `geobatch import --country --region --city` give them
 * (cmd_import.c fills what a record leaves out).
 *
 * A file whose "crs" names a projected system (a State Plane layer in feet) is refused with
 * how to reproject it (import_geojson_crs). A feature is skipped (counted, with its number) when it
 * has no street name, no LineString or MultiLineString of 2 to RANGES_LINE_MAX points in range, a
 * range number that is no whole number below 2^31, or is longer than RANGES_FEATURE_MAX bytes.
 */
#include "base/err.h"
#include "import/import.h"
#include "import/import_int.h"
#include "import/import_util.h"
#include "record/geo.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RANGES_FEATURE_MAX (4u * 1024 * 1024) /* bytes of one feature's text */
#define RANGES_LINE_MAX    (1u << 20)         /* points of one feature's line */
#define RANGES_NAME_MAX    256                /* bytes of a name put together from parts */

/* What a property is to the importer. */
enum role {
    P_LFROM,
    P_LTO,
    P_RFROM,
    P_RTO,
    P_STREET,
    P_PREDIR,
    P_NAME,
    P_TYPE,
    P_SUFDIR,
    P_ALIAS,
    P_ZIPL,
    P_ZIPR,
    P_ZIP,
    P_CITYL,
    P_CITYR,
    P_CITY,
    P_STATE,
    P_N
};

/* The property names of each role, in order of preference (any case). */
static const struct {
    enum role role;
    const char *names[12];
} ROLES[] = {
    {P_LFROM, {"L_From", "L_F_ADD", "LFROMADD", "FROMLEFT", "LFROMHN", "LEFT_FROM", "L_ADD_FROM"}},
    {P_LTO, {"L_To", "L_T_ADD", "LTOADD", "TOLEFT", "LTOHN", "LEFT_TO", "L_ADD_TO"}},
    {P_RFROM,
     {"R_From", "R_F_ADD", "RFROMADD", "FROMRIGHT", "RFROMHN", "RIGHT_FROM", "R_ADD_FROM"}},
    {P_RTO, {"R_To", "R_T_ADD", "RTOADD", "TORIGHT", "RTOHN", "RIGHT_TO", "R_ADD_TO"}},
    {P_STREET,
     {"Street", "FULLNAME", "FULL_NAME", "FULLSTNAME", "FULL_STREET", "STREET_FULL", "Label",
      "NAME"}},
    {P_PREDIR, {"PREDIR", "PRE_DIR", "ST_PREDIR", "DIRPRE"}},
    {P_NAME, {"Street_Name", "ST_NAME", "STREETNAME"}},
    {P_TYPE, {"Street_Type", "ST_TYPE", "SUFTYPE", "STREETTYPE"}},
    {P_SUFDIR, {"SUFDIR", "SUF_DIR", "ST_POSDIR", "DIRSUF", "POSTDIR"}},
    {P_ALIAS, {"Alias", "ALT_NAME", "ALTNAME", "ALIAS_NAME"}},
    {P_ZIPL, {"ZIP_Left", "ZIPL", "L_ZIP", "ZIPLEFT", "LZIP", "POSTCODE_L"}},
    {P_ZIPR, {"ZIP_Right", "ZIPR", "R_ZIP", "ZIPRIGHT", "RZIP", "POSTCODE_R"}},
    {P_ZIP, {"ZIP", "ZIPCODE", "ZIP_CODE", "POSTCODE"}},
    {P_CITYL, {"City_Left", "L_CITY", "CITYL", "PLACEL", "POSTCOMM_L"}},
    {P_CITYR, {"City_Right", "R_CITY", "CITYR", "PLACER", "POSTCOMM_R"}},
    {P_CITY, {"City", "MUNICIPALITY", "MUNI", "PLACE", "TOWN"}},
    {P_STATE, {"State", "STATE_CODE", "STATEABBR", "REGION", "PROVINCE"}},
};
#define N_ROLES (sizeof(ROLES) / sizeof(ROLES[0]))

/* The role of property key and its rank in the role's list; P_N when it has none. */
static enum role role_of(const char *key, int *rank)
{
    for (size_t i = 0; i < N_ROLES; i++)
        for (int k = 0; k < 12 && ROLES[i].names[k]; k++)
            if (strcasecmp(key, ROLES[i].names[k]) == 0) {
                *rank = k;
                return ROLES[i].role;
            }
    return P_N;
}

/* The properties of one feature by role: the first of each role's list it has. */
struct props {
    json_t *v[P_N];
    int rank[P_N];
};

static void props_read(json_t *obj, struct props *p)
{
    for (int i = 0; i < P_N; i++) {
        p->v[i] = NULL;
        p->rank[i] = 99;
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int rank;
        enum role r = role_of(key, &rank);
        if (r != P_N && rank < p->rank[r] && !json_is_null(val)) {
            p->v[r] = val;
            p->rank[r] = rank;
        }
    }
}

/* Property r as a string without blanks around it (a number is written out), into buf;
 * NULL when absent or empty. */
static const char *prop_str(const struct props *p, enum role r, char *buf, size_t cap)
{
    json_t *v = p->v[r];
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    const char *s = json_string_value(v);
    if (!s)
        return NULL;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0)
        return NULL;
    snprintf(buf, cap, "%.*s", (int)n, s);
    return buf;
}

/* Property r as a house number: 0 and *out (0 when absent, null, empty or negative), or
 * GB_EPARAM. */
static int prop_number(const struct props *p, enum role r, long *out)
{
    json_t *v = p->v[r];
    *out = 0;
    if (!v)
        return 0;
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else if (json_is_string(v)) {
        char buf[32];
        const char *s = prop_str(p, r, buf, sizeof(buf));
        if (!s)
            return 0;
        if (import_parse_double(s, &d) < 0)
            return GB_EPARAM;
    } else
        return GB_EPARAM;
    if (!(d >= -INT32_MAX && d <= INT32_MAX) || d != floor(d))
        return GB_EPARAM;
    *out = d > 0 ? (long)d : 0; /* layers write -1 or 0 for no number */
    return 0;
}

/* The street's name: the full name, else its parts joined by blanks, into buf; NULL when none. */
static const char *street_name(const struct props *p, char *buf, size_t cap)
{
    const char *full = prop_str(p, P_STREET, buf, cap);
    if (full)
        return full;
    char part[RANGES_NAME_MAX];
    if (!prop_str(p, P_NAME, part, sizeof(part)))
        return NULL;
    size_t len = 0;
    buf[0] = '\0';
    static const enum role order[] = {P_PREDIR, P_NAME, P_TYPE, P_SUFDIR};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!prop_str(p, order[i], part, sizeof(part)))
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? " " : "", part);
        if (w < 0 || (size_t)w >= cap - len)
            return NULL; /* longer than any street's name */
        len += (size_t)w;
    }
    return buf;
}

/* A feature's line: its points, grown as needed. */
struct line {
    struct rec_point *p;
    size_t n, cap;
};

/* Append the points of coords (a JSON array of [lon, lat(, z)]) to l, but a first point equal
 * to the last one there. Return 0; GB_EPARAM for a pair that is no pair of numbers in range or
 * a line past RANGES_LINE_MAX points; -ENOMEM. */
static int line_add(struct line *l, json_t *coords)
{
    size_t n = json_array_size(coords);
    if (l->n + n > RANGES_LINE_MAX)
        return GB_EPARAM;
    if (l->n + n > l->cap) {
        size_t cap = l->cap ? l->cap : 64;
        while (cap < l->n + n)
            cap *= 2;
        struct rec_point *p = realloc(l->p, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        l->p = p;
        l->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(coords, i);
        json_t *x = json_array_get(pair, 0), *y = json_array_get(pair, 1);
        if (!json_is_number(x) || !json_is_number(y))
            return GB_EPARAM;
        struct rec_point pt = {json_number_value(y), json_number_value(x)};
        if (!import_coord_ok(pt.lat, pt.lon))
            return GB_EPARAM;
        if (l->n > 0 && l->p[l->n - 1].lat == pt.lat && l->p[l->n - 1].lon == pt.lon)
            continue;
        l->p[l->n++] = pt;
    }
    return 0;
}

/* The line of geometry g into l. Return 0; GB_EPARAM when g is no LineString or
 * MultiLineString of 2 points or more in range; -ENOMEM. */
static int line_of(json_t *g, struct line *l)
{
    l->n = 0;
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *coords = json_object_get(g, "coordinates");
    if (!type || !json_is_array(coords))
        return GB_EPARAM;
    int rc = GB_EPARAM;
    if (strcmp(type, "LineString") == 0)
        rc = line_add(l, coords);
    else if (strcmp(type, "MultiLineString") == 0)
        for (size_t i = 0; i < json_array_size(coords); i++)
            if ((rc = line_add(l, json_array_get(coords, i))) < 0)
                break;
    if (rc < 0)
        return rc;
    return l->n >= 2 ? 0 : GB_EPARAM;
}

/* The parity of the range from..to: the ends' when they agree. */
static enum rec_parity parity_of(long from, long to)
{
    if (from % 2 != to % 2)
        return PARITY_ALL;
    return from % 2 ? PARITY_ODD : PARITY_EVEN;
}

/* One side of a feature: its numbers, postcode and city. */
struct side {
    long from, to;
    const char *postcode, *city;
    char pbuf[32], cbuf[RANGES_NAME_MAX];
};

/* Side of p by the roles given; false when it has no range. GB_EPARAM when a number is bad. */
static int side_of(const struct props *p, enum role from, enum role to, enum role zip,
                   enum role city, struct side *s)
{
    if (prop_number(p, from, &s->from) < 0 || prop_number(p, to, &s->to) < 0)
        return GB_EPARAM;
    if (s->from == 0 && s->to == 0)
        return 0;
    if (s->from == 0)
        s->from = s->to;
    else if (s->to == 0)
        s->to = s->from;
    s->postcode = prop_str(p, zip, s->pbuf, sizeof(s->pbuf));
    if (!s->postcode)
        s->postcode = prop_str(p, P_ZIP, s->pbuf, sizeof(s->pbuf));
    s->city = prop_str(p, city, s->cbuf, sizeof(s->cbuf));
    if (!s->city)
        s->city = prop_str(p, P_CITY, s->cbuf, sizeof(s->cbuf));
    return 1;
}

/* What one import call reuses from feature to feature. */
struct scratch {
    struct line line;
    struct props props;
};

/* Import feature number n, f, into c. Return 0 (emitted or skipped), or a negative code that
 * stops the import with c->err written. */
static int feature(const struct import_ctx *c, size_t n, json_t *f, void *arg)
{
    struct scratch *w = arg;
    struct props *p = &w->props;
    props_read(json_object_get(f, "properties"), p);
    char name[RANGES_NAME_MAX], alias[RANGES_NAME_MAX], state[RANGES_NAME_MAX];
    const char *street = street_name(p, name, sizeof(name));
    if (!street) {
        import_skipf(c, n, "no street name");
        return 0;
    }
    int rc = line_of(json_object_get(f, "geometry"), &w->line);
    if (rc == -ENOMEM)
        return import_fail(c, rc);
    if (rc < 0) {
        import_skipf(c, n, "no LineString or MultiLineString of 2 to %u points in range",
                     RANGES_LINE_MAX);
        return 0;
    }
    struct side sides[2];
    int has[2];
    has[0] = side_of(p, P_LFROM, P_LTO, P_ZIPL, P_CITYL, &sides[0]);
    has[1] = side_of(p, P_RFROM, P_RTO, P_ZIPR, P_CITYR, &sides[1]);
    if (has[0] < 0 || has[1] < 0) {
        import_skipf(c, n, "a range number that is no whole number below 2^31");
        return 0;
    }
    const char *alt = prop_str(p, P_ALIAS, alias, sizeof(alias));
    if (alt && strcasecmp(alt, street) == 0)
        alt = NULL;
    const char *st = prop_str(p, P_STATE, state, sizeof(state));
    const struct line *l = &w->line;
    struct rec_point mid = geo_line_point_at(l->p, l->n, 0.5);
    /* the street's city: the left side's, else the right's, else the feature's */
    char cbuf[RANGES_NAME_MAX];
    const char *city = has[0] > 0 && sides[0].city   ? sides[0].city
                       : has[1] > 0 && sides[1].city ? sides[1].city
                                                     : prop_str(p, P_CITY, cbuf, sizeof(cbuf));
    struct record r = {
        .kind = REC_STREET,
        .lat = mid.lat,
        .lon = mid.lon,
        .name = street,
        .city = city,
        .state = st,
        .geom = l->p,
        .n_geom = l->n,
    };
    if ((rc = import_emit(c, n, &r)) < 0)
        return rc;
    if (alt) { /* the alias: a street of its own that answers under the street's name */
        r.name = alt;
        r.alias_of = street;
        if ((rc = import_emit(c, n, &r)) < 0)
            return rc;
    }
    for (int i = 0; i < 2; i++) {
        if (has[i] <= 0)
            continue;
        const char *names[2] = {street, alt};
        for (int k = 0; k < 2 && names[k]; k++) {
            struct record it = {
                .kind = REC_INTERP,
                .lat = mid.lat,
                .lon = mid.lon,
                .street = names[k],
                .postcode = sides[i].postcode,
                .city = sides[i].city ? sides[i].city : city,
                .state = st,
                .geom = l->p,
                .n_geom = l->n,
                .from = sides[i].from,
                .to = sides[i].to,
                .parity = parity_of(sides[i].from, sides[i].to),
                .side = i == 0 ? SIDE_LEFT : SIDE_RIGHT,
                .alias_of = k == 1 ? street : NULL,
            };
            if ((rc = import_emit(c, n, &it)) < 0)
                return rc;
        }
    }
    return 0;
}

int import_ranges(const char *path, enum import_format fmt, const struct rec_sink *sink,
                  struct import_stats *st, char *err, size_t errlen)
{
    (void)fmt;
    struct scratch w = {0};
    int rc = import_geojson_features(path, sink, st, err, errlen, RANGES_FEATURE_MAX, feature, &w);
    free(w.line.p);
    return rc;
}

/* ---- detection --------------------------------------------------------------------------- */

/* A FeatureCollection whose first feature (within the head) is a line with a left or right
 * address range among its properties. */
bool import_ranges_detect(const struct import_head *h)
{
    if (h->ntext == 0 || h->text[0] != '{')
        return false;
    const char *end = h->text + h->ntext;
    static const char key[] = "\"features\"";
    const char *at = NULL;
    for (const char *s = h->text; s + sizeof(key) - 1 <= end; s++)
        if (memcmp(s, key, sizeof(key) - 1) == 0) {
            at = s + sizeof(key) - 1;
            break;
        }
    while (at && at < end && *at != '[')
        at++;
    while (at && at < end && *at != '{')
        at++;
    if (!at || at >= end)
        return false;
    json_t *f = json_loadb(at, (size_t)(end - at), JSON_DISABLE_EOF_CHECK, NULL);
    if (!f)
        return false;
    struct props p;
    props_read(json_object_get(f, "properties"), &p);
    const char *type = json_string_value(json_object_get(json_object_get(f, "geometry"), "type"));
    bool yes = type && (strcmp(type, "LineString") == 0 || strcmp(type, "MultiLineString") == 0) &&
               (p.v[P_LFROM] || p.v[P_LTO] || p.v[P_RFROM] || p.v[P_RTO]);
    json_decref(f);
    return yes;
}
