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
 * country is NULL. The part after the country is the region of every record whose REGION is
 * empty when it is one of that country's region codes ("us-ca-san-francisco.csv": CA,
 * "de_by_munich.csv": BY; "li-liechtenstein.csv" names none).
 *
 * Rows are skipped (and counted with their line number) for: bad coordinates (not numbers, out
 * of range, or 0,0), an empty NUMBER or STREET, a wrong number of fields, an unterminated
 * quote, or a line over IMPORT_LINE_MAX bytes. The per-row work is one split in place and two
 * strtod calls: no allocation.
 */
#include "base/err.h"
#include "import/import.h"
#include "base/mem.h"
#include "import/import_int.h"
#include "import/import_util.h"
#include "text/norm.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const char *import_oa_country(const char *path, char cc[3])
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

const char *import_oa_region(const char *path, const char *cc, char code[4])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!cc || strlen(base) < 4)
        return NULL;
    const char *p = base + 3; /* after "us-" */
    size_t n = strcspn(p, "-_.");
    struct norm_region r[4];
    if (n == 0 || n >= 4 || !p[n] || norm_region(p, n, cc, r, 4) == 0 ||
        strncasecmp(r[0].code, p, n) != 0 || r[0].code[n])
        return NULL; /* no part, or a region's name ("liechtenstein"), not its code */
    memcpy(code, r[0].code, n + 1);
    return code;
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
static const struct import_columns oa_header = {
    .sep = ',',
    .quotes = true,
    .names = oa_columns,
    .n = C_N,
    .need = 1u << C_LON | 1u << C_LAT | 1u << C_NUMBER | 1u << C_STREET,
    .bad_header = "not an OpenAddresses CSV file: the first line must be a header naming LON, "
                  "LAT, NUMBER and STREET",
};

/* What every row of a file takes from its name. */
struct oa_file {
    const char *country, *region; /* or NULL */
};

/* Import row n, line, into c (an import_row_fn; arg is its struct oa_file). */
static int oa_row(const struct import_ctx *c, size_t n, char *line, const struct import_header *h,
                  void *arg)
{
    const struct oa_file *file = arg;
    const int *idx = h->idx;
    char *f[IMPORT_FIELDS_MAX];
    int nf = import_split(line, ',', true, f, IMPORT_FIELDS_MAX);
    if (nf != h->ncols) {
        if (nf < 0)
            import_skipf(c, n, "%s", gb_strerror(nf));
        else
            import_skipf(c, n, "%d fields, the header has %d", nf, h->ncols);
        return 0;
    }
    double lon, lat;
    if (import_parse_coord(f[idx[C_LAT]], f[idx[C_LON]], &lat, &lon) < 0) {
        import_skipf(c, n, "bad coordinates LON=%.40s LAT=%.40s", f[idx[C_LON]], f[idx[C_LAT]]);
        return 0;
    }
    struct record r = {
        .kind = REC_ADDRESS,
        .lat = lat,
        .lon = lon,
        .number = import_col(f, idx, C_NUMBER),
        .street = import_col(f, idx, C_STREET),
        .unit = import_col(f, idx, C_UNIT),
        .postcode = import_col(f, idx, C_POSTCODE),
        .city = import_col(f, idx, C_CITY),
        .district = import_col(f, idx, C_DISTRICT),
        .state = import_col(f, idx, C_REGION),
        .country = file->country,
        .source_id = import_col(f, idx, C_HASH),
    };
    if (!r.source_id)
        r.source_id = import_col(f, idx, C_ID);
    if (!r.state)
        r.state = file->region;
    if (!r.number || !r.street) {
        import_skipf(c, n, "no %s", r.number ? "STREET" : "NUMBER");
        return 0;
    }
    return import_emit(c, n, &r);
}

int import_oa(const char *path, enum import_format fmt, const struct rec_sink *sink,
              struct import_stats *st, char *err, size_t errlen)
{
    (void)fmt;
    memset(st, 0, sizeof(*st));
    const struct import_ctx c = {path, sink, st, err, errlen, "line"};
    char cc[3], code[4];
    struct oa_file file = {import_oa_country(path, cc), NULL};
    file.region = import_oa_region(path, file.country, code);
    return import_delimited(&c, &oa_header, oa_row, &file);
}

/* ---- detection --------------------------------------------------------------------------- */

/* The OpenAddresses header: comma-separated (a first line with a tab is another format's),
 * with LON, LAT, NUMBER and STREET among its columns. */
bool import_oa_detect(const struct import_head *h)
{
    if (!h->line || strchr(h->line, '\t'))
        return false;
    static const char *const need[] = {"LON", "LAT", "NUMBER", "STREET"};
    char *line = xstrdup(h->line);
    char *f[IMPORT_FIELDS_MAX];
    int idx[4];
    int n = import_split(line, ',', true, f, IMPORT_FIELDS_MAX);
    bool yes = n >= 4 && import_header_map(f, n, need, 4, idx) == 4;
    free(line);
    return yes;
}
