/*
 * import_tiger.c - the US Census TIGER address-range importer (the CSV export Nominatim uses):
 * one REC_INTERP per row of  from;to;interpolation;street;city;state;postcode;geometry.
 *
 * The header is required and columns are found by name (any case, any order); from, to,
 * interpolation, street and geometry must be there. The geometry is a WKT LINESTRING of
 * "lon lat" pairs; the record's point is the middle of the line (half its length along it).
 * The country is always US; state is the 2-letter code as given.
 *
 * The "city" column: in this export it holds the county name (every row of the Autauga file
 * says "Autauga"), so it goes to record.county, not record.city, where it would claim a city
 * that does not exist.
 *
 * Rows are skipped (and counted) for bad numbers, an unknown interpolation, an empty street, a
 * geometry that does not parse, has fewer than 2 points or bad coordinates, or a wrong number
 * of fields. The line's points live in one array reused from row to row.
 */
#include "base/err.h"
#include "base/mem.h"
#include "import/import.h"
#include "import/import_int.h"
#include "import/import_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_FROM, T_TO, T_INTERP, T_STREET, T_CITY, T_STATE, T_POSTCODE, T_GEOM, T_N };
static const char *const tiger_columns[T_N] = {
    "from", "to", "interpolation", "street", "city", "state", "postcode", "geometry",
};
static const struct import_columns tiger_header = {
    .sep = ';',
    .quotes = false,
    .names = tiger_columns,
    .n = T_N,
    .need = 1u << T_FROM | 1u << T_TO | 1u << T_INTERP | 1u << T_STREET | 1u << T_GEOM,
    .bad_header = "not a TIGER range file: the first line must be the header "
                  "from;to;interpolation;street;city;state;postcode;geometry",
};

struct points {
    struct rec_point *p;
    size_t n, cap;
};

static void points_add(struct points *pts, double lat, double lon)
{
    VEC_GROW(pts->p, pts->n, pts->cap);
    pts->p[pts->n++] = (struct rec_point){.lat = lat, .lon = lon};
}

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Parse "LINESTRING(x y, x y ...)" into pts. Return 0, or GB_EPARAM with *why set. The number
 * of points is bounded by the line length limit. */
static int parse_linestring(const char *s, struct points *pts, const char **why)
{
    pts->n = 0;
    s = skip_blanks(s);
    if (strncasecmp(s, "LINESTRING", 10) != 0) {
        *why = "geometry is not a WKT LINESTRING";
        return GB_EPARAM;
    }
    s = skip_blanks(s + 10);
    if (*s != '(') {
        *why = "geometry: no '('";
        return GB_EPARAM;
    }
    s++;
    for (;;) {
        char *end;
        s = skip_blanks(s);
        double lon = strtod(s, &end);
        if (end == s)
            goto bad;
        s = end;
        double lat = strtod(s, &end);
        if (end == s)
            goto bad;
        if (!import_coord_ok(lat, lon)) {
            *why = "geometry: coordinates out of range";
            return GB_EPARAM;
        }
        points_add(pts, lat, lon);
        s = skip_blanks(end);
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == ')')
            break;
        goto bad;
    }
    s = skip_blanks(s + 1);
    if (*s != '\0')
        goto bad;
    if (pts->n < 2) {
        *why = "geometry: fewer than 2 points";
        return GB_EPARAM;
    }
    return 0;
bad:
    *why = "geometry: malformed LINESTRING";
    return GB_EPARAM;
}

/* The point half-way along the line (by length in degrees, fine for these short segments). */
static struct rec_point line_middle(const struct points *pts)
{
    double total = 0;
    for (size_t i = 1; i < pts->n; i++)
        total += hypot(pts->p[i].lat - pts->p[i - 1].lat, pts->p[i].lon - pts->p[i - 1].lon);
    double half = total / 2, walked = 0;
    for (size_t i = 1; i < pts->n; i++) {
        const struct rec_point *a = &pts->p[i - 1], *b = &pts->p[i];
        double d = hypot(b->lat - a->lat, b->lon - a->lon);
        if (walked + d >= half && d > 0) {
            double t = (half - walked) / d;
            return (struct rec_point){a->lat + t * (b->lat - a->lat),
                                      a->lon + t * (b->lon - a->lon)};
        }
        walked += d;
    }
    return pts->p[0];
}

/* The parity named by an interpolation value (any case). Return 0 and set *out, or GB_EPARAM. */
static int parse_parity(const char *s, enum rec_parity *out)
{
    if (strcasecmp(s, "odd") == 0)
        *out = PARITY_ODD;
    else if (strcasecmp(s, "even") == 0)
        *out = PARITY_EVEN;
    else if (strcasecmp(s, "all") == 0)
        *out = PARITY_ALL;
    else
        return GB_EPARAM;
    return 0;
}

/* Import row n, line, into c (an import_row_fn; arg is the struct points reused from row to
 * row). */
static int tiger_row(const struct import_ctx *c, size_t n, char *line,
                     const struct import_header *h, void *arg)
{
    struct points *pts = arg;
    const int *idx = h->idx;
    char *f[IMPORT_FIELDS_MAX];
    int nf = import_split(line, ';', false, f, IMPORT_FIELDS_MAX);
    if (nf != h->ncols) {
        import_skipf(c, n, "%d fields, the header has %d", nf, h->ncols);
        return 0;
    }
    long from, to;
    if (import_parse_long(f[idx[T_FROM]], &from) < 0 || import_parse_long(f[idx[T_TO]], &to) < 0 ||
        from < 0 || to < 0) {
        import_skipf(c, n, "bad from/to numbers");
        return 0;
    }
    enum rec_parity parity;
    if (parse_parity(f[idx[T_INTERP]], &parity) < 0) {
        import_skipf(c, n, "unknown interpolation '%.40s'", f[idx[T_INTERP]]);
        return 0;
    }
    const char *street = import_nz(f[idx[T_STREET]]);
    if (!street) {
        import_skipf(c, n, "no street");
        return 0;
    }
    const char *why = NULL;
    if (parse_linestring(f[idx[T_GEOM]], pts, &why) < 0) {
        import_skipf(c, n, "%s", why);
        return 0;
    }
    struct rec_point mid = line_middle(pts);
    struct record r = {
        .kind = REC_INTERP,
        .lat = mid.lat,
        .lon = mid.lon,
        .street = street,
        .postcode = import_col(f, idx, T_POSTCODE),
        .county = import_col(f, idx, T_CITY),
        .state = import_col(f, idx, T_STATE),
        .country = "US",
        .geom = pts->p,
        .n_geom = pts->n,
        .from = from,
        .to = to,
        .parity = parity,
    };
    return import_emit(c, n, &r);
}

int import_tiger(const char *path, enum import_format fmt, const struct rec_sink *sink,
                 struct import_stats *st, char *err, size_t errlen)
{
    (void)fmt;
    memset(st, 0, sizeof(*st));
    const struct import_ctx c = {path, sink, st, err, errlen, "line"};
    struct points pts = {0};
    int rc = import_delimited(&c, &tiger_header, tiger_row, &pts);
    free(pts.p);
    return rc;
}

/* ---- detection --------------------------------------------------------------------------- */

/* The TIGER range header starts "from;to;interpolation" (any case). */
bool import_tiger_detect(const struct import_head *h)
{
    return h->line && strncasecmp(h->line, "from;to;interpolation", 21) == 0;
}
