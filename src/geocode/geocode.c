/*
 * geocode.c - the geocoder's vocabulary for output: the names of match levels, types and codes,
 * and the location label as each country writes addresses. The geocoder itself is
 * geocode_forward.c and geocode_reverse.c with the files geocode_int.h lists; this file needs
 * none of their internals.
 */
#include "geocode/geocode.h"
#include "text/norm.h"

#include <stdbool.h>
#include <stdio.h>

const char *gc_level_name(enum gc_level l)
{
    static const char *const names[] = {"NOMATCH",      "country",    "state",      "county",
                                        "city",         "district",   "postalCode", "street",
                                        "intersection", "houseNumber"};
    return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "";
}

const char *gc_type_name(enum gc_type t)
{
    return t == GT_POINT ? "pointAddress" : t == GT_INTERPOLATED ? "interpolated" : "";
}

const char *gc_code_name(enum gc_code c)
{
    static const char *const names[] = {"exact", "ambiguous", "upHierarchy",
                                        "ambiguousUpHierarchy"};
    return (unsigned)c < 4 ? names[c] : "";
}

/* Countries that put the number before the street. */
static bool number_first(const char *cc)
{
    static const char *const list[] = {"US", "CA", "GB", "IE", "AU", "NZ", "FR", "LU", "ZA",
                                       "IN", "SG", "MY", "PH", "IL", "TH", "HK", "JP", "MC"};
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        if (cc[0] == list[i][0] && cc[1] == list[i][1])
            return true;
    return false;
}

void gc_label(const struct gc_candidate *c, char *out, size_t cap)
{
    char part[3][256];
    size_t np = 0;
    const char *cc = c->country;
    bool us = (cc[0] == 'U' && cc[1] == 'S') || (cc[0] == 'C' && cc[1] == 'A') ||
              (cc[0] == 'A' && cc[1] == 'U');
    if (*c->street) {
        if (*c->house_number && number_first(cc))
            snprintf(part[np++], sizeof(part[0]), "%s %s", c->house_number, c->street);
        else if (*c->house_number)
            snprintf(part[np++], sizeof(part[0]), "%s %s", c->street, c->house_number);
        else
            snprintf(part[np++], sizeof(part[0]), "%s", c->street);
    }
    const char *city = *c->city ? c->city : *c->district ? c->district : c->county;
    if (!*city && !us)
        city = c->state;
    if (us) {
        if (*city)
            snprintf(part[np++], sizeof(part[0]), "%s", city);
        if (*c->state || *c->postcode)
            snprintf(part[np++], sizeof(part[0]), "%s%s%s", c->state,
                     *c->state && *c->postcode ? " " : "", c->postcode);
    } else if (cc[0] == 'G' && cc[1] == 'B') {
        if (*city || *c->postcode)
            snprintf(part[np++], sizeof(part[0]), "%s%s%s", city, *city && *c->postcode ? " " : "",
                     c->postcode);
    } else if (*city || *c->postcode) {
        snprintf(part[np++], sizeof(part[0]), "%s%s%s", c->postcode,
                 *city && *c->postcode ? " " : "", city);
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < np && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", part[i]);
    const char *name = cc[0] ? norm_country_name(cc) : NULL;
    if (name && len < cap)
        snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
}

const char *gc_field(const struct gc_candidate *c, enum gc_field f)
{
    switch (f) {
    case GF_COUNTRY3:
        return c->country[0] ? norm_country_iso3(c->country) : NULL;
    case GF_COUNTRY2:
        return c->country;
    case GF_COUNTRY_NAME:
        return c->country[0] ? norm_country_name(c->country) : NULL;
    case GF_STATE:
        return c->state;
    case GF_COUNTY:
        return c->county;
    case GF_CITY:
        return c->city;
    case GF_DISTRICT:
        return c->district;
    case GF_STREET:
        return c->street;
    case GF_HOUSENUMBER:
        return c->house_number;
    case GF_POSTCODE:
        return c->postcode;
    case GF_LOCATION_ID:
        return c->location_id;
    }
    return NULL;
}
