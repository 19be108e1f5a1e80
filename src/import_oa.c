/*
 * import_oa.c - the OpenAddresses CSV importer: one REC_ADDRESS per row.
 *
 * The header is required and columns are found by name in any case and order; LON, LAT,
 * NUMBER and STREET must be there, UNIT, CITY, DISTRICT, REGION, POSTCODE, ID and HASH are
 * used when present. Fields may be quoted (RFC 4180) but a row may not span lines.
 *
 * Country: an OpenAddresses file does not say which country it covers. The importer infers
 * nothing from the content; it takes the country only from the file name, following the
 * OpenAddresses naming convention "<cc>-<region>-<name>.csv" ("li-liechtenstein.csv",
 * "us-ca-san-francisco.csv"): when the base name starts with an ISO 3166-1 alpha-2 code
 * followed by '-' or '_', that code (upper case) is the country of every record; otherwise the
 * country is NULL.
 *
 * Rows are skipped (and counted with their line number) for: bad coordinates (not numbers, out
 * of range, or 0,0), an empty NUMBER or STREET, a wrong number of fields, an unterminated
 * quote, or a line over IMPORT_LINE_MAX bytes. The per-row work is one split in place and two
 * strtod calls: no allocation.
 */
#include "err.h"
#include "import.h"
#include "import_util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ISO 3166-1 alpha-2 codes (and XK, Kosovo, used by OpenAddresses and GeoNames). */
static const char iso_codes[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS XK YE YT ZA ZM ZW";

/* Set cc to the country code that starts the base name of path; return cc or NULL. */
static const char *oa_country_from_name(const char *path, char cc[3])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!isalpha((unsigned char)base[0]) || !isalpha((unsigned char)base[1]) ||
        (base[2] != '-' && base[2] != '_'))
        return NULL;
    cc[0] = (char)toupper((unsigned char)base[0]);
    cc[1] = (char)toupper((unsigned char)base[1]);
    cc[2] = '\0';
    for (const char *p = iso_codes; *p; p += 3) {
        if (p[0] == cc[0] && p[1] == cc[1])
            return cc;
        if (!p[2])
            break;
    }
    return NULL;
}

enum {
    C_LON,
    C_LAT,
    C_NUMBER,
    C_STREET,
    C_UNIT,
    C_CITY,
    C_DISTRICT,
    C_REGION,
    C_POSTCODE,
    C_ID,
    C_HASH,
    C_N
};
static const char *const oa_columns[C_N] = {
    "LON",      "LAT",    "NUMBER",   "STREET", "UNIT", "CITY",
    "DISTRICT", "REGION", "POSTCODE", "ID",     "HASH",
};

/* Field i of the row, or NULL when the header has no such column or it is empty. */
static inline const char *col(char **f, const int *idx, int i)
{
    return idx[i] < 0 ? NULL : import_nz(f[idx[i]]);
}

int import_oa(const char *path, const struct rec_sink *sink, struct import_stats *st, char *err,
              size_t errlen)
{
    memset(st, 0, sizeof(*st));
    struct import_lines lr = {0};
    int rc = import_lines_open(&lr, path);
    if (rc < 0) {
        import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        return rc;
    }
    char cc[3];
    const char *country = oa_country_from_name(path, cc);
    char *f[IMPORT_FIELDS_MAX];
    char *line;
    size_t len;
    char reason[160];

    rc = import_lines_next(&lr, &line, &len);
    if (rc < 0 && rc != GB_ETOOLONG) {
        import_errf(err, errlen, "%s: %s", path, gb_strerror(rc));
        goto out;
    }
    int ncols = rc == 1 ? import_split(line, ',', true, f, IMPORT_FIELDS_MAX) : -1;
    int idx[C_N];
    if (ncols < 0 || import_header_map(f, ncols, oa_columns, C_N, idx) < 4 || idx[C_LON] < 0 ||
        idx[C_LAT] < 0 || idx[C_NUMBER] < 0 || idx[C_STREET] < 0) {
        import_errf(err, errlen,
                    "%s: not an OpenAddresses CSV file: the first line must be a header naming "
                    "LON, LAT, NUMBER and STREET",
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
            continue; /* a blank line (often the last one) is no row */
        int n = import_split(line, ',', true, f, IMPORT_FIELDS_MAX);
        if (n != ncols) {
            if (n < 0)
                snprintf(reason, sizeof(reason), "line %zu: %s", lr.lineno, gb_strerror(n));
            else
                snprintf(reason, sizeof(reason), "line %zu: %d fields, the header has %d",
                         lr.lineno, n, ncols);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        double lon, lat;
        if (import_parse_double(f[idx[C_LON]], &lon) < 0 ||
            import_parse_double(f[idx[C_LAT]], &lat) < 0 || !import_coord_ok(lat, lon)) {
            snprintf(reason, sizeof(reason), "line %zu: bad coordinates LON=%.40s LAT=%.40s",
                     lr.lineno, f[idx[C_LON]], f[idx[C_LAT]]);
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
        struct record r = {
            .kind = REC_ADDRESS,
            .lat = lat,
            .lon = lon,
            .number = col(f, idx, C_NUMBER),
            .street = col(f, idx, C_STREET),
            .unit = col(f, idx, C_UNIT),
            .postcode = col(f, idx, C_POSTCODE),
            .city = col(f, idx, C_CITY),
            .district = col(f, idx, C_DISTRICT),
            .state = col(f, idx, C_REGION),
            .country = country,
            .source_id = col(f, idx, C_HASH),
        };
        if (!r.source_id)
            r.source_id = col(f, idx, C_ID);
        if (!r.number || !r.street) {
            snprintf(reason, sizeof(reason), "line %zu: no %s", lr.lineno,
                     r.number ? "STREET" : "NUMBER");
            import_stats_skip(st, lr.lineno, reason);
            continue;
        }
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
    import_lines_close(&lr);
    return rc;
}
