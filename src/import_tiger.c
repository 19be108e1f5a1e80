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
#include "err.h"
#include "import.h"
#include "import_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_FROM, T_TO, T_INTERP, T_STREET, T_CITY, T_STATE, T_POSTCODE, T_GEOM, T_N };
static const char *const tiger_columns[T_N] = {
    "from", "to", "interpolation", "street", "city", "state", "postcode", "geometry",
};

struct points {
    struct rec_point *p;
    size_t n, cap;
};

static void points_add(struct points *pts, double lat, double lon)
{
    if (pts->n == pts->cap) {
        size_t cap = pts->cap ? pts->cap * 2 : 256;
        struct rec_point *p = realloc(pts->p, cap * sizeof(*p));
        if (!p)
            abort();
        pts->p = p;
        pts->cap = cap;
    }
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

int import_tiger(const char *path, const struct rec_sink *sink, struct import_stats *st, char *err,
                 size_t errlen)
{
    memset(st, 0, sizeof(*st));
    struct import_lines lr = {0};
    int rc = import_lines_open(&lr, path);
    if (rc < 0) {
        import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        return rc;
    }
    struct points pts = {0};
    char *f[IMPORT_FIELDS_MAX];
    char *line;
    size_t len;
    char reason[160];

    rc = import_lines_next(&lr, &line, &len);
    if (rc < 0 && rc != GB_ETOOLONG) {
        import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        goto out;
    }
    int ncols = rc == 1 ? import_split(line, ';', false, f, IMPORT_FIELDS_MAX) : -1;
    int idx[T_N];
    if (ncols < 0 || import_header_map(f, ncols, tiger_columns, T_N, idx) < 5 || idx[T_FROM] < 0 ||
        idx[T_TO] < 0 || idx[T_INTERP] < 0 || idx[T_STREET] < 0 || idx[T_GEOM] < 0) {
        import_errf(err, errlen,
                    "%s: not a TIGER range file: the first line must be the header "
                    "from;to;interpolation;street;city;state;postcode;geometry",
                    path);
        rc = GB_EFORMAT;
        goto out;
    }

    while ((rc = import_lines_next(&lr, &line, &len)) != 0) {
        if (rc == GB_ETOOLONG) {
            snprintf(reason, sizeof(reason), "line %zu: longer than %d bytes", lr.lineno,
                     IMPORT_LINE_MAX);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        if (rc < 0) {
            import_errf(err, errlen, "%s: line %zu: %s", path, lr.lineno, gb_strerror(rc));
            goto out;
        }
        if (len == 0)
            continue;
        int n = import_split(line, ';', false, f, IMPORT_FIELDS_MAX);
        if (n != ncols) {
            snprintf(reason, sizeof(reason), "line %zu: %d fields, the header has %d", lr.lineno, n,
                     ncols);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        long from, to;
        if (import_parse_long(f[idx[T_FROM]], &from) < 0 ||
            import_parse_long(f[idx[T_TO]], &to) < 0 || from < 0 || to < 0) {
            snprintf(reason, sizeof(reason), "line %zu: bad from/to numbers", lr.lineno);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        const char *ip = f[idx[T_INTERP]];
        enum rec_parity parity;
        if (strcasecmp(ip, "odd") == 0)
            parity = PARITY_ODD;
        else if (strcasecmp(ip, "even") == 0)
            parity = PARITY_EVEN;
        else if (strcasecmp(ip, "all") == 0)
            parity = PARITY_ALL;
        else {
            snprintf(reason, sizeof(reason), "line %zu: unknown interpolation '%.40s'", lr.lineno,
                     ip);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        const char *street = import_nz(f[idx[T_STREET]]);
        if (!street) {
            snprintf(reason, sizeof(reason), "line %zu: no street", lr.lineno);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        const char *why = NULL;
        if (parse_linestring(f[idx[T_GEOM]], &pts, &why) < 0) {
            snprintf(reason, sizeof(reason), "line %zu: %s", lr.lineno, why);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        struct rec_point mid = line_middle(&pts);
        struct record r = {
            .kind = REC_INTERP,
            .lat = mid.lat,
            .lon = mid.lon,
            .street = street,
            .postcode = idx[T_POSTCODE] < 0 ? NULL : import_nz(f[idx[T_POSTCODE]]),
            .county = idx[T_CITY] < 0 ? NULL : import_nz(f[idx[T_CITY]]),
            .state = idx[T_STATE] < 0 ? NULL : import_nz(f[idx[T_STATE]]),
            .country = "US",
            .geom = pts.p,
            .n_geom = pts.n,
            .from = from,
            .to = to,
            .parity = parity,
        };
        rc = sink->emit(sink->ctx, &r);
        if (rc < 0) {
            import_errf(err, errlen, "%s: line %zu: the index builder stopped the import: %s", path,
                        lr.lineno, gb_strerror(rc));
            goto out;
        }
        st->records++;
    }
    rc = 0;
out:
    free(pts.p);
    import_lines_close(&lr);
    return rc;
}
