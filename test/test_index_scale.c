/*
 * test_index_scale.c - the index at planet size, cheaply: the paths that a planet takes, forced
 * with the builder's hooks on small real data.
 *
 *  - String units: an index whose string section passes 4 GiB stores its string offsets in
 *    units of 2, 4 or 8 bytes (index_format.h). The builder's limit, forced down, makes the
 *    same data need each unit in turn; every string of every table must read the same as in the
 *    1-byte index, and the geocoder must give the same answers. make test-large does it with a
 *    real section of more than 4 GiB (test/large/).
 *  - Bounded memory: with a budget of 1 MiB every sorter spills to temporary files, sorts runs
 *    and merges them (more runs than one merge takes, so in several passes); the index must be
 *    the same, byte for byte, as the one built in memory, and no temporary file may be left in
 *    the directory, on success or on failure.
 *  - The external sorter on its own: random records, fixed and variable sizes, against qsort.
 */
#include "base/err.h"
#include "base/log.h"
#include "geocode/geocode.h"
#include "import/import.h"
#include "index/index.h"
#include "index/index_build_int.h"
#include "index/index_format.h"
#include "text/norm.h"

#include <dirent.h>
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
#include <unistd.h>

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
    snprintf(out, cap, "%s/scale-%s", env_or("GB_TMP", "/tmp"), name);
}

/* A fresh, empty directory for temporary files. */
static void tmp_dir(char *out, size_t cap, const char *name)
{
    tmp_path(out, cap, name);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", out, out);
    assert_int_equal(system(cmd), 0);
}

/* Entries in dir other than . and .. */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
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

/* Streets of their own, each with a county of COUNTY_BYTES: strings that outweigh every count
 * of the unit files (71,453 line points), so that a limit forced down to the string section's
 * units passes no count first. */
#define COUNTY_BYTES 100000

static int add_counties(const struct rec_sink *sink, size_t n)
{
    static char county[COUNTY_BYTES + 1];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char street[48];
        snprintf(street, sizeof(street), "Grafschaftsweg %zu", i);
        size_t k = (size_t)snprintf(county, 64, "Grafschaft %zu ", i);
        for (; k < COUNTY_BYTES; k++)
            county[k] = (char)('a' + (k * 7 + i * 13 + k / 26) % 26);
        county[COUNTY_BYTES] = '\0';
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 50.0 + (double)i * 0.01,
                           .lon = 8.7,
                           .number = "1",
                           .street = street,
                           .city = "Grafschaft",
                           .county = county,
                           .country = "DE"};
        rc = sink->emit(sink->ctx, &r);
    }
    return rc;
}

/* Build an index at out from the data files rel[0..n) and `counties` streets of add_counties
 * with the given limit (0: none) and memory budget (0: the default) and temporary directory
 * (NULL: the default). Return the write's code; its message in err. */
static int build(const char *const *rel, size_t n, size_t counties, const char *out, uint64_t limit,
                 uint64_t memory, const char *tmpdir, char *err, size_t errlen)
{
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    if (limit)
        index_builder_set_limit(b, limit);
    if (memory)
        index_builder_set_memory(b, memory);
    if (tmpdir)
        assert_int_equal(index_builder_set_tmpdir(b, tmpdir), 0);
    struct rec_sink sink = index_builder_sink(b);
    int rc = add_counties(&sink, counties); /* first: their strings pass a limit before a count */
    if (rc < 0 && index_builder_error(b))
        snprintf(err, errlen, "%s", index_builder_error(b));
    for (size_t i = 0; i < n && rc == 0; i++) {
        char in[1024];
        data_path(in, sizeof(in), rel[i]);
        enum import_format fmt;
        rc = import_detect(in, &fmt);
        if (rc < 0)
            fail_msg("detect %s: %s", in, gb_strerror(rc));
        assert_int_equal(index_builder_add_source(b, in, (int)fmt), 0);
        struct import_stats st;
        memset(&st, 0, sizeof(st));
        rc = import_file(in, fmt, &sink, &st, err, errlen);
        if (rc < 0 && index_builder_error(b))
            snprintf(err, errlen, "%s", index_builder_error(b));
    }
    if (rc == 0)
        rc = index_builder_write(b, out, err, errlen);
    index_builder_free(b);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return norm_init(NULL) < 0 ? -1 : 0;
}

/* ---- string units ---- */

/* Addresses, streets with names, places, postcodes and interpolation lines, and little
 * geometry (the forced limit also bounds every count); with add_counties' streets. */
static const char *const unit_files[] = {
    "openaddresses/li-liechtenstein-2026.csv",
    "openaddresses/cz-prague-ne-2020.csv",
    "openaddresses/us-ca-san-francisco-excerpt.csv",
    "tiger/tiger-01001-autauga-al.csv",
    "osm/brouter-dreieich.osm.gz",
};
#define N_UNIT_FILES (sizeof(unit_files) / sizeof(unit_files[0]))

static void same_str(const struct index_view *a, uint32_t oa, const struct index_view *b,
                     uint32_t ob, const char *what, size_t i)
{
    const char *sa = ix_str(a, oa), *sb = ix_str(b, ob);
    if (strcmp(sa, sb) != 0)
        fail_msg("%s %zu: '%s' in 1-byte units, '%s' in units of %u", what, i, sa, sb,
                 1u << b->str_shift);
    /* every string starts on a unit boundary: the byte before it ends another string */
    size_t at = (size_t)ob << b->str_shift;
    if (ob && b->strings[at - 1] != '\0')
        fail_msg("%s %zu: string not at the start of a unit", what, i);
}

/* Every string of every table of b reads as in a (the same data in 1-byte units), and every
 * non-string field is the same. */
static void same_strings(const struct index_view *a, const struct index_view *b)
{
    assert_int_equal(a->n_streets, b->n_streets);
    assert_int_equal(a->n_addrs, b->n_addrs);
    assert_int_equal(a->n_places, b->n_places);
    assert_int_equal(a->n_postcodes, b->n_postcodes);
    assert_int_equal(a->n_admins, b->n_admins);
    assert_int_equal(a->n_interps, b->n_interps);
    assert_int_equal(a->n_sources, b->n_sources);
    for (size_t i = 0; i < a->n_streets; i++) {
        const struct ix_street *x = &a->streets[i], *y = &b->streets[i];
        same_str(a, x->key, b, y->key, "street key", i);
        same_str(a, x->name, b, y->name, "street name", i);
        same_str(a, x->city, b, y->city, "street city", i);
        same_str(a, x->city_key, b, y->city_key, "street city key", i);
        same_str(a, x->district, b, y->district, "street district", i);
        same_str(a, x->district_key, b, y->district_key, "street district key", i);
        same_str(a, x->postcode, b, y->postcode, "street postcode", i);
        same_str(a, x->county, b, y->county, "street county", i);
        same_str(a, x->state, b, y->state, "street state", i);
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->addr_first, y->addr_first);
        assert_int_equal(x->addr_count, y->addr_count);
        assert_int_equal(x->lat, y->lat);
        assert_int_equal(x->geom_count, y->geom_count);
    }
    for (size_t i = 0; i < a->n_addrs; i++) {
        const struct ix_addr *x = &a->addrs[i], *y = &b->addrs[i];
        same_str(a, x->raw, b, y->raw, "address number", i);
        same_str(a, x->postcode, b, y->postcode, "address postcode", i);
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->street, y->street);
        assert_int_equal(x->lat, y->lat);
        assert_int_equal(x->number, y->number);
    }
    for (size_t i = 0; i < a->n_interps; i++)
        same_str(a, a->interps[i].postcode, b, b->interps[i].postcode, "interpolation", i);
    for (size_t i = 0; i < a->n_places; i++) {
        const struct ix_place *x = &a->places[i], *y = &b->places[i];
        same_str(a, x->key, b, y->key, "place key", i);
        same_str(a, x->name, b, y->name, "place name", i);
        same_str(a, x->city, b, y->city, "place city", i);
        same_str(a, x->county, b, y->county, "place county", i);
        same_str(a, x->state, b, y->state, "place state", i);
        assert_int_equal(x->id, y->id);
    }
    for (size_t i = 0; i < a->n_postcodes; i++) {
        const struct ix_postcode *x = &a->postcodes[i], *y = &b->postcodes[i];
        same_str(a, x->key, b, y->key, "postcode key", i);
        same_str(a, x->name, b, y->name, "postcode name", i);
        same_str(a, x->city, b, y->city, "postcode city", i);
    }
    for (size_t i = 0; i < a->n_admins; i++)
        same_str(a, a->admins[i].name, b, b->admins[i].name, "admin", i);
    for (size_t i = 0; i < a->n_sources; i++)
        same_str(a, a->sources[i].name, b, b->sources[i].name, "source", i);
    /* the sections without strings are the same bytes */
    assert_int_equal(a->n_fuzzy, b->n_fuzzy);
    assert_memory_equal(a->fuzzy, b->fuzzy, a->n_fuzzy * sizeof(*a->fuzzy));
    assert_int_equal(a->n_points, b->n_points);
    assert_memory_equal(a->points, b->points, a->n_points * sizeof(*a->points));
    assert_int_equal(a->n_cell_addrs, b->n_cell_addrs);
    assert_memory_equal(a->cell_addrs, b->cell_addrs, a->n_cell_addrs * 4);
    assert_int_equal(a->n_pc_streets, b->n_pc_streets);
    assert_memory_equal(a->pc_streets, b->pc_streets, a->n_pc_streets * 4);
}

/* One line per candidate of what a query answers. */
static void answers(struct index *ix, char *out, size_t cap)
{
    static const char *const queries[] = {
        "Äulestrasse 12, 9490 Vaduz",
        "Grasgarten 15, 9492 Eschen",
        "9490 Vaduz",
        "Vadus, Äulestrase 12",
        "Vysočanská 548/2, Praha",
        "Prosecká 5, 190 00 Praha 9",
        "150 Mission St, San Francisco CA 94103",
        "1500 Main St, Prattville, AL 36067",
        "100 County Road 1, Autauga",
        "Hauptstraße 1, Dreieich",
        "Frankfurter Strasse 10, 63303 Dreieich",
        "Grafschaftsweg 7 1, Grafschaft",
    };
    struct gc_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        struct gc_query q = {.search_text = queries[i], .max_results = 5};
        assert_int_equal(geocode_forward(ix, &q, res), 0);
        for (int k = 0; k < res->n; k++) {
            const struct gc_candidate *o = &res->c[k];
            const char *county = o->county ? o->county : "";
            n += (size_t)snprintf(out + n, cap - n, "%s|%.7f|%.7f|%s|%s|%s|%s|%s|%s|%zu:%08x\n",
                                  queries[i], o->lat, o->lon, o->street, o->house_number,
                                  o->postcode, o->city, o->district, o->location_id, strlen(county),
                                  hash_fnv1a(county, strlen(county)));
            assert_true(n < cap);
        }
    }
    assert_int_equal(geocode_reverse(ix, 47.1405, 9.5215, 250, 5, res), 0);
    for (int k = 0; k < res->n; k++) {
        const struct gc_candidate *o = &res->c[k];
        n += (size_t)snprintf(out + n, cap - n, "rev|%s|%s|%s|%s\n", o->street, o->house_number,
                              o->city, o->location_id);
        assert_true(n < cap);
    }
    free(res);
}

/* The same data in string units of 1, 2, 4 and 8 bytes, each unit forced by a limit just
 * below what the smaller unit needs: the same strings, the same answers. */
static void test_string_units(void **state)
{
    (void)state;
    char path[4][1024], err[512] = "";
    struct index *ix[4] = {0};
    static char want[1 << 16], got[1 << 16];
    uint64_t units = 0;
    for (unsigned s = 0; s < 4; s++) {
        char name[32];
        snprintf(name, sizeof(name), "unit%u.gbx", 1u << s);
        tmp_path(path[s], sizeof(path[s]), name);
        /* just below what the previous unit needed */
        int rc = build(unit_files, N_UNIT_FILES, 8, path[s], s ? units - 1 : 0, 0, NULL, err,
                       sizeof(err));
        if (rc < 0)
            fail_msg("unit %u: %s", 1u << s, err);
        if (index_open(&ix[s], path[s], err, sizeof(err)) < 0)
            fail_msg("open %s: %s", path[s], err);
        const struct index_view *v = index_view(ix[s]);
        assert_int_equal(v->str_shift, s);
        assert_int_equal(v->hdr->string_shift, s);
        assert_int_equal(v->hdr->sect[IXS_STRINGS].count, v->strings_len >> s);
        units = v->hdr->sect[IXS_STRINGS].count;
        if (s == 0) {
            answers(ix[0], want, sizeof(want));
            assert_true(strlen(want) > 400);
            /* a county read back whole: the filler street's own */
            assert_non_null(strstr(want, "|Grafschaftsweg 7|1|"));
            assert_non_null(strstr(want, "|100000:"));
            continue;
        }
        same_strings(index_view(ix[0]), v);
        answers(ix[s], got, sizeof(got));
        assert_string_equal(got, want);
    }
    /* below what 8-byte units need: refused, nothing written */
    char over[1024];
    tmp_path(over, sizeof(over), "unit16.gbx");
    unlink(over);
    assert_int_equal(build(unit_files, N_UNIT_FILES, 8, over, units - 1, 0, NULL, err, sizeof(err)),
                     GB_ELIMIT);
    assert_non_null(strstr(err, "the string section"));
    assert_non_null(strstr(err, "offsets of 8 bytes"));
    struct stat st;
    assert_int_equal(stat(over, &st), -1);
    for (unsigned s = 0; s < 4; s++) {
        index_close(ix[s]);
        unlink(path[s]);
    }
}

/* ---- bounded memory ---- */

/* The sanitizer build runs the OSM importer about 10x slower: lighter OSM files there. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/* Every kind of record: addresses (OSM and OpenAddresses), ways, interpolation lines (OSM and
 * TIGER), admin rings, places, postcodes. */
static const char *const mem_files[] = {
#ifdef SANITIZER_BUILD
    "osm/brouter-dreieich.osm.gz",
    "osm/valhalla-bench-munchen.osm.pbf",
#else
    "osm/liechtenstein-2026-03-29.osm.pbf",    "osm/lauf-2020-01-15.osm.pbf",
    "osm/prague-small-2020-01.osm.pbf",
#endif
    "openaddresses/li-liechtenstein-2026.csv",
    "openaddresses/us-ca-san-francisco-excerpt.csv",
    "tiger/tiger-01001-autauga-al.csv",
    "postcodes/us-zcta-2021-centroids.json",
};
#define N_MEM_FILES (sizeof(mem_files) / sizeof(mem_files[0]))

/* 1 MiB of budget (everything spilled, sorted in many runs and merged in passes) and 64 MiB
 * give the same bytes as the default 2 GiB, and leave nothing in the temporary directory. */
static void test_memory_budget_same_index(void **state)
{
    (void)state;
    char big[1024], small[1024], mid[1024], dir[1024], err[512] = "";
    tmp_path(big, sizeof(big), "mem-big.gbx");
    tmp_path(small, sizeof(small), "mem-small.gbx");
    tmp_path(mid, sizeof(mid), "mem-mid.gbx");
    tmp_dir(dir, sizeof(dir), "mem-tmp");
    if (build(mem_files, N_MEM_FILES, 0, big, 0, 0, dir, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    if (build(mem_files, N_MEM_FILES, 0, small, 0, 1u << 20, dir, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    if (build(mem_files, N_MEM_FILES, 0, mid, 0, 64u << 20, dir, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_int_equal(dir_entries(dir), 0);
    size_t nb, ns, nm;
    unsigned char *pb = read_all(big, &nb), *ps = read_all(small, &ns), *pm = read_all(mid, &nm);
    assert_int_equal(nb, ns);
    assert_memory_equal(pb, ps, nb);
    assert_int_equal(nb, nm);
    assert_memory_equal(pb, pm, nb);
    free(pb);
    free(ps);
    free(pm);
    unlink(big);
    unlink(small);
    unlink(mid);
}

/* Tables that grow into the room the address sorter took while they were small: the sorter's
 * records go to its spill file, so that the two together stay within the budget (the tables
 * alone stay below it here, so they stay in memory). */
static void test_tables_grow_into_the_sorters_room(void **state)
{
    (void)state;
    char dir[1024];
    tmp_dir(dir, sizeof(dir), "room-tmp");
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    /* usable: what the process held before the builder and 160 MB (the budget is 15/16) */
    index_builder_set_memory(b, (b->base_rss + (160u << 20)) / 15 * 16);
    assert_int_equal(index_builder_set_tmpdir(b, dir), 0);
    struct rec_sink sink = index_builder_sink(b);
    /* 1.5 M addresses on one street: 60 MB of records, in memory */
    for (int i = 0; i < 1500000; i++) {
        char num[16];
        snprintf(num, sizeof(num), "%d", 1 + i % 5000);
        struct record r = {.kind = REC_ADDRESS,
                           .lat = 50.0,
                           .lon = 8.7,
                           .number = num,
                           .street = "Lange Strasse",
                           .city = "Langen",
                           .country = "DE"};
        assert_int_equal(sink.emit(sink.ctx, &r), 0);
    }
    assert_true(b->addrs.spill_fd < 0);
    assert_true(b->pool.held > (50u << 20));
    /* then 1,000 streets with a county of 100 KB each: 100 MB of tables */
    assert_int_equal(add_counties(&sink, 1000), 0);
    builder_resident(b);
    assert_false(b->in_files);           /* the tables alone fit */
    assert_true(b->addrs.spill_fd >= 0); /* the sorter made room */
    assert_true(b->pool.resident + b->pool.held <= b->pool.budget);
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "room.gbx");
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), 0);
    index_builder_free(b);
    struct index *ix = NULL;
    assert_int_equal(index_open(&ix, out, err, sizeof(err)), 0);
    struct index_counts c;
    index_counts(ix, &c);
    assert_int_equal(c.addresses, 5000 + 1000); /* the same number 300 times is one address */
    index_close(ix);
    unlink(out);
    rmdir(dir);
}

/* A build that fails after spilling (a limit passed late) leaves no temporary file and no
 * index. */
static void test_memory_failure_leaves_nothing(void **state)
{
    (void)state;
    char out[1024], dir[1024], err[512] = "";
    tmp_path(out, sizeof(out), "mem-fail.gbx");
    tmp_dir(dir, sizeof(dir), "mem-fail-tmp");
    unlink(out);
    /* TIGER alone has 6,213 lines: the limit stops the build after the first 6,000 spilled */
    static const char *const files[] = {"openaddresses/li-liechtenstein-2026.csv",
                                        "tiger/tiger-01001-autauga-al.csv"};
    int rc = build(files, 2, 0, out, 6000, 1u << 20, dir, err, sizeof(err));
    assert_int_equal(rc, GB_ELIMIT);
    assert_non_null(strstr(err, "passes 6000"));
    assert_int_equal(dir_entries(dir), 0);
    struct stat st;
    assert_int_equal(stat(out, &st), -1);
}

/* ---- what the phases derive ---- */

/* A limit that every count collected fits but a derived table passes: refused at write, with
 * a message naming the table, and no file. */
static void test_derived_limits(void **state)
{
    (void)state;
    char out[1024], err[512] = "";
    tmp_path(out, sizeof(out), "derived.gbx");
    unlink(out);
    /* one street whose single segment crosses 100 x 100 grid cells: 10,000 street grid entries
     * from 2 points */
    struct index_builder *b = NULL;
    assert_int_equal(index_builder_new(&b), 0);
    index_builder_set_limit(b, 5000);
    struct rec_sink sink = index_builder_sink(b);
    static const struct rec_point line[] = {{47.0, 9.0}, {47.499, 9.499}};
    struct record st = {.kind = REC_STREET,
                        .lat = 47.2,
                        .lon = 9.2,
                        .name = "Langer Weg",
                        .city = "Ort",
                        .country = "LI",
                        .geom = line,
                        .n_geom = 2};
    assert_int_equal(sink.emit(sink.ctx, &st), 0);
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), GB_ELIMIT);
    assert_string_equal(err, "index too large: street grid entries (5001) passes 5000, the most a "
                             "32-bit reference can address; build several indexes (one per "
                             "country) instead");
    index_builder_free(b);
    struct stat sb;
    assert_int_equal(stat(out, &sb), -1);
    /* one street of a 60-letter name: 60 one-deletion variants and the key itself */
    assert_int_equal(index_builder_new(&b), 0);
    index_builder_set_limit(b, 30);
    sink = index_builder_sink(b);
    struct record ad = {.kind = REC_ADDRESS,
                        .lat = 47.1,
                        .lon = 9.5,
                        .number = "1",
                        .street = "Abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh",
                        .country = "LI"};
    assert_int_equal(sink.emit(sink.ctx, &ad), 0);
    assert_int_equal(index_builder_write(b, out, err, sizeof(err)), GB_ELIMIT);
    assert_string_equal(err, "index too large: fuzzy entries (31) passes 30, the most a 32-bit "
                             "reference can address; build several indexes (one per country) "
                             "instead");
    index_builder_free(b);
    assert_int_equal(stat(out, &sb), -1);
}

/* ---- the external sorter ---- */

static int cmp_u64(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y)
        return x < y ? -1 : 1;
    memcpy(&x, (const char *)a + 8, 8);
    memcpy(&y, (const char *)b + 8, 8);
    return x < y ? -1 : x > y;
}

static int cmp_u64_plain(const void *a, const void *b)
{
    return cmp_u64(a, b, NULL);
}

/* Variable records: a 64-bit key, then 0..40 bytes made from it; ordered by key, length. */
static int cmp_var(const void *a, const void *b, void *ctx)
{
    size_t *lens = ctx; /* unused: the length is in the record's first byte after the key */
    (void)lens;
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y)
        return x < y ? -1 : 1;
    unsigned char la = ((const unsigned char *)a)[8], lb = ((const unsigned char *)b)[8];
    return (la > lb) - (la < lb);
}

static uint64_t key_var(const void *rec, void *ctx)
{
    (void)ctx;
    uint64_t x;
    memcpy(&x, rec, 8);
    return x >> 40; /* a prefix of the order, as xs_key_fn requires */
}

static uint64_t key_fixed(const void *rec, void *ctx)
{
    (void)ctx;
    uint64_t x;
    memcpy(&x, rec, 8);
    return x; /* the whole first word: records of one key are ordered by cmp_u64's second */
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n records through a sorter with the given budget; compared with qsort. keyed: fixed-size
 * records with a key (sorted by its digits, then cmp within each key, through an order index:
 * xsort.c sort_fixed_by_key), wide: keys of all 64 bits rather than few and small. */
static void sorter_case_keyed(uint64_t budget, size_t n, bool variable, bool keyed, bool wide)
{
    char dir[1024];
    tmp_dir(dir, sizeof(dir), "xsort");
    struct xs_pool pool = {.budget = budget, .tmpdir = dir};
    struct xsort x;
    xsort_init(&x, "test", &pool, variable ? 0 : 16);
    uint64_t seed = 88172645463325252ull + n + budget;
    unsigned char *want = malloc(n * 16);
    assert_non_null(want);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = wide ? rnd(&seed) & ~(uint64_t)1 : (rnd(&seed) % (n / 4 + 1)) << 20, t = i;
        unsigned char rec[64];
        memcpy(rec, &k, 8);
        if (variable) {
            unsigned char len = (unsigned char)(k % 41);
            rec[8] = len;
            for (unsigned j = 0; j < len; j++)
                rec[9 + j] = (unsigned char)(k + j);
            memcpy(want + i * 16, &k, 8);
            uint64_t l = len;
            memcpy(want + i * 16 + 8, &l, 8);
            assert_int_equal(xsort_add(&x, rec, 9 + len), 0);
        } else {
            memcpy(rec + 8, &t, 8);
            memcpy(want + i * 16, rec, 16);
            assert_int_equal(xsort_add(&x, rec, 16), 0);
        }
    }
    assert_int_equal(x.n, n);
    qsort(want, n, 16, cmp_u64_plain);
    assert_int_equal(xsort_sort(&x, variable ? cmp_var : cmp_u64,
                                variable ? key_var
                                : keyed  ? key_fixed
                                         : NULL,
                                NULL),
                     0);
    if (budget == 0 && n > 100000)
        assert_true(x.n_runs > 1);
    /* nothing visible in the directory while the files are open */
    assert_int_equal(dir_entries(dir), 0);
    size_t len, i = 0;
    const void *r;
    while ((r = xsort_next(&x, &len)) != NULL) {
        assert_true(i < n);
        assert_int_equal((uintptr_t)r % (variable ? 4 : 8), 0);
        uint64_t k;
        memcpy(&k, r, 8);
        if (memcmp(r, want + i * 16, 8) != 0)
            fail_msg("record %zu: key %llu", i, (unsigned long long)k);
        if (variable) {
            const unsigned char *u = r;
            assert_int_equal(len, 9 + u[8]);
            assert_int_equal(u[8], want[i * 16 + 8]);
            for (unsigned j = 0; j < u[8]; j++)
                assert_int_equal(u[9 + j], (unsigned char)(k + j));
        } else {
            assert_int_equal(len, 16);
            assert_memory_equal(r, want + i * 16, 16);
        }
        i++;
    }
    assert_int_equal(x.rc, 0);
    assert_int_equal(i, n);
    assert_null(xsort_next(&x, &len));
    xsort_release(&x);
    assert_int_equal(pool.held, 0);
    free(want);
}

static void sorter_case(uint64_t budget, size_t n, bool variable)
{
    sorter_case_keyed(budget, n, variable, false, false);
}

static void test_sorter(void **state)
{
    (void)state;
    sorter_case(1ull << 30, 50000, false); /* in memory */
    sorter_case(1ull << 30, 50000, true);
    sorter_case(0, 400000, false); /* 6.4 MB in chunks of 64 KiB: many runs, merge passes */
    sorter_case(0, 400000, true);
    sorter_case(0, 0, false);
    sorter_case(0, 1, true);
    /* with a key: by its digits (many equal keys, or all 64 bits), under the radix sort's
     * threshold, and in chunks with no room for the order index */
    sorter_case_keyed(1ull << 30, 50000, false, true, false);
    sorter_case_keyed(1ull << 30, 50000, false, true, true);
    sorter_case_keyed(1ull << 30, 1000, false, true, false);
    sorter_case_keyed(0, 400000, false, true, false);
    sorter_case_keyed(3ull << 20, 400000, false, true, true);
}

/* xs_qsort against qsort on sorted, reversed, equal and random input. */
static void test_qsort(void **state)
{
    (void)state;
    const size_t n = 20000;
    uint64_t *a = malloc(n * 16), *b = malloc(n * 16);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t seed = 42;
    for (int kind = 0; kind < 4; kind++) {
        for (size_t i = 0; i < n; i++) {
            a[2 * i] = kind == 0 ? i : kind == 1 ? n - i : kind == 2 ? 7 : rnd(&seed) % 1000;
            a[2 * i + 1] = i;
        }
        memcpy(b, a, n * 16);
        xs_qsort(a, n, 16, cmp_u64, NULL);
        qsort(b, n, 16, cmp_u64_plain);
        assert_memory_equal(a, b, n * 16);
    }
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qsort),
        cmocka_unit_test(test_sorter),
        cmocka_unit_test(test_string_units),
        cmocka_unit_test(test_memory_budget_same_index),
        cmocka_unit_test(test_memory_failure_leaves_nothing),
        cmocka_unit_test(test_derived_limits),
        cmocka_unit_test(test_tables_grow_into_the_sorters_room),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
