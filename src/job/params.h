/*
 * params.h - the HERE 6.2 job parameters (spec §3), parsed the same way for the CLI
 * (`geobatch geocode --outcols=...`) and the server (query string of POST /6.2/jobs).
 *
 * Names are matched case-insensitively, booleans in any case, delimiters literal, URL-decoded
 * or as the two characters "\t". Parameters we cannot honour are accepted and ignored
 * (docs/api.md lists them); unknown names are ignored too, as HERE clients send extras.
 *
 * It is also the one percent codec of geobatch: the HTTP server decodes the path and query with
 * params_unescape(), and a job's parameters are stored (job_info.params) as the text that
 * params_encode() builds and params_decode() applies again.
 */
#ifndef GEOBATCH_PARAMS_H
#define GEOBATCH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* X(enum, canonical name): every output column of spec §6.6 we can fill. */
#define OUTCOL_TABLE(X)                                                                            \
    X(OC_RECID, "recId")                                                                           \
    X(OC_SEQNUMBER, "seqNumber")                                                                   \
    X(OC_SEQLENGTH, "seqLength")                                                                   \
    X(OC_DISPLAY_LAT, "displayLatitude")                                                           \
    X(OC_DISPLAY_LON, "displayLongitude")                                                          \
    X(OC_NAV_LAT, "navigationLatitude")                                                            \
    X(OC_NAV_LON, "navigationLongitude")                                                           \
    X(OC_LAT, "latitude")                                                                          \
    X(OC_LON, "longitude")                                                                         \
    X(OC_MV_TL_LAT, "mapViewTopLeftLatitude")                                                      \
    X(OC_MV_TL_LON, "mapViewTopLeftLongitude")                                                     \
    X(OC_MV_BR_LAT, "mapViewBottomRightLatitude")                                                  \
    X(OC_MV_BR_LON, "mapViewBottomRightLongitude")                                                 \
    X(OC_LOCATION_LABEL, "locationLabel")                                                          \
    X(OC_ADDRESS_LINES, "addressLines")                                                            \
    X(OC_HOUSENUMBER, "houseNumber")                                                               \
    X(OC_STREET, "street")                                                                         \
    X(OC_BUILDING, "building")                                                                     \
    X(OC_SUBDISTRICT, "subdistrict")                                                               \
    X(OC_DISTRICT, "district")                                                                     \
    X(OC_CITY, "city")                                                                             \
    X(OC_POSTALCODE, "postalCode")                                                                 \
    X(OC_COUNTY, "county")                                                                         \
    X(OC_STATE, "state")                                                                           \
    X(OC_COUNTRY, "country")                                                                       \
    X(OC_ADDR_DETAILS_COUNTRY, "addressDetailsCountry")                                            \
    X(OC_ADDR_DETAILS_BUILDING, "addressDetailsBuilding")                                          \
    X(OC_ADDR_ADDITIONAL_DATA, "addressAdditionalData")                                            \
    X(OC_LOCATION_ID, "locationId")                                                                \
    X(OC_RELEVANCE, "relevance")                                                                   \
    X(OC_MATCH_LEVEL, "matchLevel")                                                                \
    X(OC_MATCH_TYPE, "matchType")                                                                  \
    X(OC_MATCH_CODE, "matchCode")                                                                  \
    X(OC_MQ_COUNTRY, "matchQualityCountry")                                                        \
    X(OC_MQ_STATE, "matchQualityState")                                                            \
    X(OC_MQ_COUNTY, "matchQualityCounty")                                                          \
    X(OC_MQ_CITY, "matchQualityCity")                                                              \
    X(OC_MQ_DISTRICT, "matchQualityDistrict")                                                      \
    X(OC_MQ_STREET, "matchQualityStreet")                                                          \
    X(OC_MQ_HOUSENUMBER, "matchQualityHouseNumber")                                                \
    X(OC_MQ_BUILDING, "matchQualityBuilding")                                                      \
    X(OC_MQ_POSTALCODE, "matchQualityPostalCode")                                                  \
    X(OC_DISTANCE, "distance")

enum outcol {
#define OUTCOL_ENUM(e, name) e,
    OUTCOL_TABLE(OUTCOL_ENUM)
#undef OUTCOL_ENUM
        OC__COUNT
};

/* Return the canonical name of an output column. */
const char *outcol_name(enum outcol c);

enum job_mode {
    MODE_GEOCODE = 0,        /* forward geocoding (no mode parameter) */
    MODE_RETRIEVE_ADDRESSES, /* reverse: nearest addresses, then street, then area */
    MODE_RETRIEVE_AREAS,     /* reverse: the areas containing the point */
};

#define PARAMS_MAX_OUTCOLS 64
#define PARAMS_MAX_RESULTS 100

struct job_params {
    char indelim;      /* input field delimiter, default '|' */
    char outdelim;     /* output field delimiter, default: indelim */
    bool outdelim_set; /* outdelim was given */
    enum outcol outcols[PARAMS_MAX_OUTCOLS];
    size_t n_outcols;              /* 0: not given (an error for a job) */
    bool outputcombined;           /* default true (see docs/api.md) */
    bool header;                   /* default true: a header row in the output */
    bool includeinputfields;       /* default false */
    bool allowunknowninputcolumns; /* default false */
    bool includeinvalidinput;      /* default false */
    bool outputcompressed;         /* default true: results as a zip */
    enum job_mode mode;
    int maxresults;       /* 1..PARAMS_MAX_RESULTS, default 10 */
    int minresults;       /* accepted, reverse only */
    char language[16];    /* "en-US" ...; "" when not given */
    char countryfocus[4]; /* as given (ISO2 or ISO3, any case); "" when not given */
    char mailto[256];     /* "" when not given; an e-mail address that never starts with '-' */
};

/* Set the defaults described above. */
void params_init(struct job_params *p);

/*
 * Apply one parameter. name is matched case-insensitively; value is already URL-decoded.
 * Return 0 when applied or ignored (unknown or unsupported names), GB_EPARAM with a message
 * for humans in err when the value is invalid (bad delimiter, unknown outcol, not a boolean,
 * a mailto that is not an e-mail address, a value longer than its field: never cut).
 */
int params_set(struct job_params *p, const char *name, const char *value, char *err, size_t errlen);

/* Check that a job can run with p: outcols given (params_set() checked every value already).
 * 0 or GB_EPARAM + err; the parameter at fault is then PARAMS_CHECKED, for error documents. */
#define PARAMS_CHECKED "outcols"
int params_check(const struct job_params *p, char *err, size_t errlen);

/* ---- the percent codec ---- */

/*
 * Decode the n bytes at s, "%XX" (hex, any case) to one byte, into dst (cap bytes, always
 * NUL-terminated, cut when full) and return the length written. "%00" is kept as the three
 * characters: a NUL would cut the string, so "<id>%00junk" would reach the job <id> and a
 * secret followed by "%00junk" would authenticate. dst may be s (decoding never lengthens).
 */
size_t params_unescape(char *dst, size_t cap, const char *s, size_t n);

/* Append name=value, both percent-encoded (all but [A-Za-z0-9-_.~]), with '&' before every pair
 * but the first. Return 0, or a negative code when out is full. */
int params_encode(struct buf *out, const char *name, const char *value);

/*
 * Apply text made by params_encode() to p (after params_init) with params_set(); names and
 * values of any length come back exactly as they were encoded, so the parameters a job was
 * accepted with are the ones it runs with. Return 0, or GB_EPARAM with a message in err.
 */
int params_decode(const char *text, struct job_params *p, char *err, size_t errlen);

#endif
