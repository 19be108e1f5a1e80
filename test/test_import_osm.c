/*
 * test_import_osm.c - the OSM importer on a hand-written fixture (every field checked) and on
 * the real extracts in $GB_SHARED/data/osm (counts cross-checked with an independent count made
 * with readosm directly: objects with addr:housenumber, and numbers after list splitting).
 */
#include "base/err.h"
#include "import/import.h"
#include "record/record.h"

#include <bzlib.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* readosm 1.1.0 does not free its expat parser when the XML is malformed (a few KB per failed
 * import, inside the library): tell LeakSanitizer, so that the garbage tests can run under it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libexpat.so\n";
}

/* ---- a sink that keeps copies (fixture) or counts (real files) --------------------------- */

struct kept {
    enum rec_kind kind;
    double lat, lon;
    char *number, *street, *unit, *postcode, *city, *district, *country, *name, *source_id;
    char *alts; /* alt names joined with '|' */
    int rank;
    size_t n_geom;
    long from, to;
    enum rec_parity parity;
};

struct counts {
    size_t kind[REC_ADMIN + 1];
    size_t addr_objects; /* address records with a new source_id */
    size_t addr_city, addr_district, addr_city_district, addr_country, addr_street;
    size_t admin_rank[16];
    size_t admin_city_li; /* city-rank admin areas with country LI */
    size_t interp_geom_ok;
    const char *want_city; /* count addresses with exactly this city */
    size_t addr_want_city;
    char last_sid[32];
    struct kept *keep;
    size_t nkeep;
    bool keep_all;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int count_emit(void *ctx, const struct record *r)
{
    struct counts *c = ctx;
    c->kind[r->kind]++;
    if (r->kind == REC_ADDRESS) {
        if (strcmp(c->last_sid, r->source_id) != 0)
            c->addr_objects++;
        snprintf(c->last_sid, sizeof(c->last_sid), "%s", r->source_id);
        c->addr_city += r->city != NULL;
        c->addr_district += r->district != NULL;
        c->addr_city_district += r->city && r->district;
        c->addr_country += r->country != NULL;
        c->addr_street += r->street != NULL;
        c->addr_want_city += c->want_city && r->city && strcmp(r->city, c->want_city) == 0;
        assert_non_null(r->number);
        assert_true(r->number[0] != '\0');
    }
    if (r->kind == REC_ADMIN) {
        assert_true(r->rank >= 2 && r->rank <= 10);
        c->admin_rank[r->rank]++;
        if (r->rank == RANK_CITY && r->country && strcmp(r->country, "LI") == 0)
            c->admin_city_li++;
        assert_true(r->n_geom >= 3);
    }
    if (r->kind == REC_INTERP && r->n_geom >= 2)
        c->interp_geom_ok++;
    if (r->kind == REC_STREET)
        assert_true(r->n_geom >= 1 && r->name != NULL);
    if (c->keep_all) {
        c->keep = realloc(c->keep, (c->nkeep + 1) * sizeof(*c->keep));
        assert_non_null(c->keep);
        struct kept *k = &c->keep[c->nkeep++];
        memset(k, 0, sizeof(*k));
        k->kind = r->kind;
        k->lat = r->lat;
        k->lon = r->lon;
        k->number = dup_or_null(r->number);
        k->street = dup_or_null(r->street);
        k->unit = dup_or_null(r->unit);
        k->postcode = dup_or_null(r->postcode);
        k->city = dup_or_null(r->city);
        k->district = dup_or_null(r->district);
        k->country = dup_or_null(r->country);
        k->name = dup_or_null(r->name);
        k->source_id = dup_or_null(r->source_id);
        char alts[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < r->n_alt; i++)
            used += (size_t)snprintf(alts + used, sizeof(alts) - used, "%s%s", i ? "|" : "",
                                     r->alt_names[i]);
        k->alts = strdup(alts);
        k->rank = r->rank;
        k->n_geom = r->n_geom;
        k->from = r->from;
        k->to = r->to;
        k->parity = r->parity;
    }
    return 0;
}

static void counts_free(struct counts *c)
{
    for (size_t i = 0; i < c->nkeep; i++) {
        struct kept *k = &c->keep[i];
        char *ss[] = {k->number,   k->street,  k->unit, k->postcode,  k->city,
                      k->district, k->country, k->name, k->source_id, k->alts};
        for (size_t j = 0; j < sizeof(ss) / sizeof(ss[0]); j++)
            free(ss[j]);
    }
    free(c->keep);
}

static const char *data_path(char *buf, size_t n, const char *file)
{
    const char *shared = getenv("GB_SHARED");
    snprintf(buf, n, "%s/data/osm/%s", shared ? shared : "../shared", file);
    return buf;
}

static const char *tmp_dir(void)
{
    const char *t = getenv("GB_TMP");
    return t && *t ? t : "/tmp";
}

/* Import a file; return the importer's rc, fill *c and *st, print the time. */
static int run(const char *path, enum import_format fmt, struct counts *c, struct import_stats *st,
               char *err, size_t errlen)
{
    struct rec_sink sink = {count_emit, c};
    memset(st, 0, sizeof(*st));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = import_osm(path, fmt, &sink, st, err, errlen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const char *base = strrchr(path, '/');
    printf("# %s rc=%d records=%zu skipped=%zu ms=%.0f\n", base ? base + 1 : path, rc, st->records,
           st->skipped,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return rc;
}

/* Import the real extract data/osm/<file> as fmt into c; it must succeed. */
static void run_data(const char *file, enum import_format fmt, struct counts *c,
                     struct import_stats *st)
{
    char p[512], err[256] = "";
    int rc = run(data_path(p, sizeof(p), file), fmt, c, st, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: rc=%d %s", file, rc, err);
}

static const struct kept *find(const struct counts *c, enum rec_kind kind, const char *sid,
                               const char *number)
{
    for (size_t i = 0; i < c->nkeep; i++)
        if (c->keep[i].kind == kind && strcmp(c->keep[i].source_id, sid) == 0 &&
            (!number || (c->keep[i].number && strcmp(c->keep[i].number, number) == 0)))
            return &c->keep[i];
    return NULL;
}

#define assert_str(a, b) assert_string_equal((a) ? (a) : "(null)", (b) ? (b) : "(null)")

/* ---- the fixture ------------------------------------------------------------------------- */

static void check_fixture(const struct counts *c)
{
    assert_int_equal(c->kind[REC_ADDRESS], 11);
    assert_int_equal(c->kind[REC_INTERP], 1);
    assert_int_equal(c->kind[REC_STREET], 1);
    assert_int_equal(c->kind[REC_PLACE], 2);
    assert_int_equal(c->kind[REC_ADMIN], 2);
    assert_int_equal(c->kind[REC_POSTCODE], 1);

    /* A list gives one record per number; boundaries give city, district (repaired ring) and
     * postcode; the country is the file's most frequent addr:country (no country boundary). */
    const struct kept *k = find(c, REC_ADDRESS, "n10", "12");
    assert_non_null(k);
    assert_str(k->street, "Hlavní");
    assert_str(k->unit, "3");
    assert_str(k->city, "Testov");
    assert_str(k->district, "Horní");
    assert_str(k->postcode, "19000");
    assert_str(k->country, "CZ");
    assert_non_null(find(c, REC_ADDRESS, "n10", "14"));

    /* A street tag's name: up to a comma or a spaced dash (what follows is a unit, a
     * postcode, a building), trimmed; a corner house's numbers, one a street of a list. */
    k = find(c, REC_ADDRESS, "n13", "9");
    assert_non_null(k);
    assert_str(k->street, "Hlavní");
    k = find(c, REC_ADDRESS, "n15", "3");
    assert_non_null(k);
    assert_str(k->street, "Nová");
    k = find(c, REC_ADDRESS, "n14", "822/5");
    assert_non_null(k);
    assert_str(k->street, "Hlavní");
    k = find(c, REC_ADDRESS, "n14", "1773/26");
    assert_non_null(k);
    assert_str(k->street, "Nová");

    /* Czech number from conscription and street number; own city wins; district from the
     * nearest suburb node; addr:place stands in for the street. */
    k = find(c, REC_ADDRESS, "n11", NULL);
    assert_non_null(k);
    assert_str(k->number, "1075/47");
    assert_str(k->street, "Lhota");
    assert_str(k->city, "Praha 9");
    assert_str(k->district, "Dolní");
    assert_str(k->postcode, "19000");

    k = find(c, REC_ADDRESS, "n12", NULL);
    assert_non_null(k);
    assert_str(k->number, "5a");
    assert_null(k->street);
    assert_str(k->city, "Testov");
    assert_null(k->district); /* outside Horní, no suburb within 3 km */

    /* A building way's point is its centroid. */
    k = find(c, REC_ADDRESS, "w14", "7");
    assert_non_null(k);
    assert_float_equal(k->lat, 50.041, 1e-9);
    assert_float_equal(k->lon, 14.041, 1e-9);

    k = find(c, REC_INTERP, "w10", NULL);
    assert_non_null(k);
    assert_int_equal(k->from, 2);
    assert_int_equal(k->to, 10);
    assert_int_equal(k->parity, PARITY_EVEN);
    assert_str(k->street, "Nová");
    assert_int_equal(k->n_geom, 2);
    assert_str(k->city, "Testov");

    k = find(c, REC_STREET, "w12", NULL);
    assert_non_null(k);
    assert_str(k->name, "Hlavní");
    assert_str(k->alts, "Main St|Hauptstrasse|Hauptstraße");
    assert_str(k->district, "Horní");
    assert_int_equal(k->n_geom, 2);

    k = find(c, REC_PLACE, "n41", NULL);
    assert_non_null(k);
    assert_str(k->name, "Testov");
    assert_str(k->alts, "Testtown");
    assert_int_equal(k->rank, RANK_CITY);
    assert_null(k->city);
    k = find(c, REC_PLACE, "n40", NULL);
    assert_non_null(k);
    assert_int_equal(k->rank, RANK_DISTRICT);
    assert_str(k->city, "Testov");

    k = find(c, REC_ADMIN, "r2", NULL);
    assert_non_null(k);
    assert_str(k->name, "Horní");
    assert_int_equal(k->rank, RANK_DISTRICT);
    assert_str(k->city, "Testov");
    assert_int_equal(k->n_geom, 5);
    k = find(c, REC_ADMIN, "r1", NULL);
    assert_non_null(k);
    assert_int_equal(k->rank, RANK_CITY);
    assert_null(k->city);
    assert_null(k->district);

    k = find(c, REC_POSTCODE, "r3", NULL);
    assert_non_null(k);
    assert_str(k->postcode, "19000");
    assert_str(k->name, "19000");
    assert_float_equal(k->lat, 50.05, 1e-9);
    assert_float_equal(k->lon, 14.05, 1e-9);
}

static void test_fixture_xml(void **state)
{
    (void)state;
    struct counts c = {.keep_all = true};
    struct import_stats st;
    char err[256] = "";
    assert_int_equal(run("test/fixtures/osm/small.osm", FMT_OSM_XML, &c, &st, err, sizeof(err)), 0);
    check_fixture(&c);
    assert_int_equal(st.skipped, 1); /* the alphabetic interpolation */
    assert_string_equal(st.first_reason, "interpolation that is not odd, even or all");
    counts_free(&c);
}

/* The same fixture compressed with bzip2 under an unrelated name. */
static void test_fixture_bz2(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/osm-fixture.bz2", tmp_dir());
    FILE *in = fopen("test/fixtures/osm/small.osm", "rb");
    FILE *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    int bze;
    BZFILE *bz = BZ2_bzWriteOpen(&bze, out, 9, 0, 0);
    assert_non_null(bz);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        BZ2_bzWrite(&bze, bz, buf, (int)n);
    BZ2_bzWriteClose(&bze, bz, 0, NULL, NULL);
    fclose(in);
    fclose(out);
    struct counts c = {.keep_all = true};
    struct import_stats st;
    char err[256] = "";
    assert_int_equal(run(path, FMT_OSM_XML, &c, &st, err, sizeof(err)), 0);
    check_fixture(&c);
    counts_free(&c);
    remove(path);
}

/* ---- real files -------------------------------------------------------------------------- */

static void test_liechtenstein(void **state)
{
    (void)state;
    struct counts c = {0};
    struct import_stats st;
    run_data("liechtenstein-2026-03-29.osm.pbf", FMT_OSM_PBF, &c, &st);
    /* 12,559 objects with addr:housenumber (README; the independent count agrees); three of
     * them are lists of two numbers, so 12,562 records. */
    assert_int_equal(c.addr_objects, 12559);
    assert_int_equal(c.kind[REC_ADDRESS], 12562);
    assert_true(c.kind[REC_STREET] > 0);
    assert_int_equal(c.admin_rank[RANK_COUNTRY], 1);
    assert_true(c.admin_rank[RANK_CITY] > 0);
    assert_int_equal(c.admin_city_li, 11);
    assert_int_equal(c.kind[REC_PLACE], 106); /* 111 place nodes less country, farm, square */
    assert_int_equal(c.addr_city, 12562);     /* every address has a municipality */
    printf("# li streets=%zu places=%zu admin=%zu postcodes=%zu city=%zu country=%zu\n",
           c.kind[REC_STREET], c.kind[REC_PLACE], c.kind[REC_ADMIN], c.kind[REC_POSTCODE],
           c.addr_city, c.addr_country);
}

static void test_lauf(void **state)
{
    (void)state;
    struct counts c = {0};
    struct import_stats st;
    run_data("lauf-2020-01-15.osm.pbf", FMT_OSM_PBF, &c, &st);
    assert_int_equal(c.addr_objects, 5425);
    assert_int_equal(c.kind[REC_INTERP], 29);
    assert_int_equal(c.interp_geom_ok, 29);
    /* No country boundary: the country comes from the file's addr:country majority (DE). */
    assert_int_equal(c.addr_country, c.kind[REC_ADDRESS]);
    printf("# lauf addresses=%zu city=%zu\n", c.kind[REC_ADDRESS], c.addr_city);
}

static void test_prague(void **state)
{
    (void)state;
    struct counts c = {.want_city = "Praha"};
    struct import_stats st;
    run_data("prague-small-2020-01.osm.pbf", FMT_OSM_PBF, &c, &st);
    assert_int_equal(c.addr_objects, 8234);
    printf("# prague addresses=%zu city=%zu district=%zu both=%zu\n", c.kind[REC_ADDRESS],
           c.addr_city, c.addr_district, c.addr_city_district);
    assert_true(c.addr_city_district * 100 >= c.kind[REC_ADDRESS] * 95);
    /* Only 157 carry addr:city; Praha comes from the union of the extract's 13 district
     * boundaries (its own ways are not in the file) or, outside them, from the suburb node that
     * names the district. The 54 others keep their own addr:city ("Praha 8", "Praha 9" ...). */
    assert_int_equal(c.kind[REC_ADDRESS], 8235);
    assert_int_equal(c.addr_city_district, 8235);
    assert_int_equal(c.addr_want_city, 8181);
}

static void test_dreieich_gz(void **state)
{
    (void)state;
    struct counts c = {0};
    struct import_stats st;
    run_data("brouter-dreieich.osm.gz", FMT_OSM_XML, &c, &st);
    assert_int_equal(c.addr_objects, 915);
    assert_int_equal(c.kind[REC_ADDRESS], 916); /* one "a;b" list */
    assert_true(c.kind[REC_STREET] > 0);
}

static void test_heidelberg_stripped(void **state)
{
    (void)state;
    struct counts c = {0};
    struct import_stats st;
    run_data("ors-heidelberg.test.pbf", FMT_OSM_PBF, &c, &st);
    printf("# heidelberg addresses=%zu streets=%zu\n", c.kind[REC_ADDRESS], c.kind[REC_STREET]);
    /* 633 objects carry addr:housenumber; one is a relation none of whose members survived the
     * filtering, so it is skipped and counted. */
    assert_int_equal(c.addr_objects, 632);
    assert_true(st.skipped >= 1);
}

/* A PBF under a name without the .pbf suffix readosm insists on. */
static void test_pbf_any_name(void **state)
{
    (void)state;
    char p[512], t[512], err[256] = "";
    snprintf(t, sizeof(t), "%s/osm-no-suffix.dat", tmp_dir());
    remove(t);
    assert_int_equal(symlink(data_path(p, sizeof(p), "valhalla-universitatstunnel.osm.pbf"), t), 0);
    struct counts c = {0};
    struct import_stats st;
    assert_int_equal(run(t, FMT_OSM_PBF, &c, &st, err, sizeof(err)), 0);
    assert_int_equal(c.addr_objects, 796);
    remove(t);
}

/* ---- bad input --------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct counts c = {0};
    struct import_stats st;
    char err[256] = "";
    int rc = run("/nonexistent/x.osm.pbf", FMT_OSM_PBF, &c, &st, err, sizeof(err));
    assert_int_equal(rc, -2); /* -ENOENT */
    assert_non_null(strstr(err, "/nonexistent/x.osm.pbf"));
}

static void test_truncated_pbf(void **state)
{
    (void)state;
    char p[512], t[512], err[256] = "";
    FILE *f = fopen(data_path(p, sizeof(p), "lauf-2020-01-15.osm.pbf"), "rb");
    assert_non_null(f);
    size_t n = 400000;
    char *buf = malloc(n);
    assert_int_equal(fread(buf, 1, n, f), n);
    fclose(f);
    snprintf(t, sizeof(t), "%s/osm-truncated.osm.pbf", tmp_dir());
    write_file(t, buf, n);
    struct counts c = {0};
    struct import_stats st;
    assert_int_equal(run(t, FMT_OSM_PBF, &c, &st, err, sizeof(err)), GB_ECORRUPT);
    assert_non_null(strstr(err, t));
    assert_int_equal(st.records, 0);
    /* A corrupted byte in the middle of a block. */
    for (size_t i = 200000; i < 200064; i++)
        buf[i] ^= 0x5a;
    write_file(t, buf, n);
    assert_true(run(t, FMT_OSM_PBF, &c, &st, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, t));
    free(buf);
    remove(t);
}

static void test_garbage(void **state)
{
    (void)state;
    char t[512], err[256] = "";
    unsigned char buf[65536];
    srand(42);
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (unsigned char)rand();
        size_t n = (size_t)(rand() % (int)sizeof(buf));
        snprintf(t, sizeof(t), "%s/osm-garbage%s", tmp_dir(), round & 1 ? ".osm" : ".osm.pbf");
        write_file(t, buf, n);
        struct counts c = {0};
        struct import_stats st;
        int rc = run(t, round & 1 ? FMT_OSM_XML : FMT_OSM_PBF, &c, &st, err, sizeof(err));
        assert_true(rc < 0);
        assert_non_null(strstr(err, t));
        remove(t);
    }
    /* Truncated gzip: the decompression fails, naming the file. */
    snprintf(t, sizeof(t), "%s/osm-trunc.osm.gz", tmp_dir());
    const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0xab, 0xcd};
    write_file(t, gz, sizeof(gz));
    struct counts c = {0};
    struct import_stats st;
    assert_int_equal(run(t, FMT_OSM_XML, &c, &st, err, sizeof(err)), GB_ECORRUPT);
    assert_non_null(strstr(err, t));
    remove(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_xml),
        cmocka_unit_test(test_fixture_bz2),
        cmocka_unit_test(test_liechtenstein),
        cmocka_unit_test(test_lauf),
        cmocka_unit_test(test_prague),
        cmocka_unit_test(test_dreieich_gz),
        cmocka_unit_test(test_heidelberg_stripped),
        cmocka_unit_test(test_pbf_any_name),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_truncated_pbf),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
