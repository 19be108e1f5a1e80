/*
 * test_geocode_set.c - an index set (geocode_set.h) against the merged index of the same
 * members (index_merge), on small indexes built here from records: the same street and
 * number in Liechtenstein (member "li"), in Germany (member "de", twice as many addresses)
 * and in Austria (member "at", with one more of no country), so that a query without a
 * country finds it in every member.
 *
 *   - routing: a query naming a country (structured field, free text, ISO2/ISO3/name) is
 *     routed only to the member holding it (gc_set_route, which gc_set_forward asks), and
 *     gives exactly that member's answer, which is the merged index's; a member holding records
 *     of no country is asked too when the country's member finds no address point;
 *   - a query without a country asks every member and gives the merged index's answer, to
 *     every field of every candidate: the ambiguous street in its three countries, in the
 *     merged index's order (the bigger street first, then key, country order);
 *   - a query without a country that gives a postcode, a town or a street only some members
 *     know asks those first, and only them when no other member could change their answer
 *     (the member calls counted, the answer the merged index's); a street and number alone
 *     whose street the country has in towns of two members is unplaced, as in one index, and
 *     so is one a member finds unplaced itself, over another member's lesser street;
 *   - a street that explains the whole query is no answer a town of another member
 *     contradicts, even one of the street's name;
 *   - a street name is counted over the set: in more towns than one index lists, though not in
 *     either member, it is too wide, as in the merged index; a town one member has is a place
 *     to the others, so a street read from the rest of a longer town's name is contradicted;
 *   - the merged index of several countries reads a query's names in the languages of the
 *     country it names, or of its postcode's, or of the country whose reading finds its
 *     street, as each member reads its own;
 *   - fall-backs (a postcode, a city; a postcode one member knows against a town far from it
 *     that another knows) and no answer agree with the merged index, which falls
 *     back to a postcode whose town the query names even when a word of that town is a street
 *     elsewhere, as the postcode's member does alone, and to a town named in full one of
 *     whose words is a street of it, not to the town left around that street;
 *   - reverse geocoding (points and areas) keeps the nearest, as the merged index does;
 *   - a set of one index gives that index's answers; a directory is its *.gbx by name;
 *     a missing index and an empty directory are refused naming the path.
 */
#include "base/err.h"
#include "geocode/geocode.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "text/norm.h"

#include <math.h>
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

static char dir[512];      /* GB_TMP/geocode-set-<pid>: the members, as a directory */
static char merged[600];   /* the merged index of the three */
static char paths[3][600]; /* the members, in directory (name) order: at, de, li */
static struct gc_set *set;
static struct index *mix;
static struct gc_result *ra, *rb, *tmp;

/* One address record. */
static struct record addr(const char *number, const char *street, const char *pc, const char *city,
                          const char *cc, double lat, double lon, const char *id)
{
    struct record r = {.kind = REC_ADDRESS,
                       .lat = lat,
                       .lon = lon,
                       .number = number,
                       .street = street,
                       .postcode = pc,
                       .city = city,
                       .country = cc,
                       .source_id = id};
    return r;
}

/* One postcode centroid record. */
static struct record pc_centroid(const char *code, const char *cc, double lat, double lon)
{
    struct record r = {.kind = REC_POSTCODE,
                       .lat = lat,
                       .lon = lon,
                       .name = code,
                       .postcode = code,
                       .country = cc};
    return r;
}

/* Write an index of recs[0..n) at path, its source being the test binary itself (any file:
 * the source list records its name, size and time). */
static void write_index(const char *path, const char *source, const struct record *recs, size_t n)
{
    struct index_builder *b = NULL;
    char err[512] = "";
    assert_int_equal(index_builder_new(&b), 0);
    assert_int_equal(index_builder_add_source(b, source, 2), 0);
    struct rec_sink sink = index_builder_sink(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sink.emit(sink.ctx, &recs[i]), 0);
    if (index_builder_write(b, path, err, sizeof(err)) < 0)
        fail_msg("write %s: %s", path, err);
    index_builder_free(b);
}

/* A small file to stand for a source (its name must differ per member). */
static void touch(const char *path)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "%s\n", path);
    fclose(fp);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(norm_init(NULL), 0);
    const char *t = getenv("GB_TMP");
    snprintf(dir, sizeof(dir), "%s/geocode-set-%d", t && *t ? t : "/tmp", (int)getpid());
    mkdir(dir, 0755);
    char src[3][600];
    const char *names[3] = {"at", "de", "li"};
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/%s.gbx", dir, names[i]);
        snprintf(src[i], sizeof(src[i]), "%s/%s.src", dir, names[i]);
        touch(src[i]);
    }
    const struct record li[] = {
        addr("13", "Floraweg", "9490", "Vaduz", "LI", 47.1236503, 9.5284904, "n1"),
        addr("15", "Floraweg", "9490", "Vaduz", "LI", 47.1238000, 9.5287000, "n2"),
        addr("16", "Aubündt", "9490", "Vaduz", "LI", 47.1322808, 9.5205904, "n3"),
        addr("3", "Landstrasse", "9494", "Schaan", "LI", 47.1650000, 9.5100000, "n4"),
    };
    const struct record de[] = {
        addr("13", "Floraweg", "91207", "Lauf", "DE", 49.5100000, 11.2800000, "w1"),
        addr("15", "Floraweg", "91207", "Lauf", "DE", 49.5102000, 11.2803000, "w2"),
        addr("17", "Floraweg", "91207", "Lauf", "DE", 49.5104000, 11.2806000, "w3"),
        addr("19", "Floraweg", "91207", "Lauf", "DE", 49.5106000, 11.2809000, "w4"),
        addr("2", "Marktplatz", "91207", "Lauf", "DE", 49.5110000, 11.2770000, "w5"),
    };
    const struct record at[] = {
        addr("13", "Floraweg", "6800", "Feldkirch", "AT", 47.2400000, 9.6000000, "a1"),
        addr("15", "Floraweg", "6800", "Feldkirch", "AT", 47.2402000, 9.6003000, "a2"),
        /* an address of no country: it passes any country filter */
        addr("21", "Floraweg", NULL, "Niemandsland", NULL, 47.3000000, 9.7000000, "a3"),
    };
    write_index(paths[0], src[0], at, sizeof(at) / sizeof(at[0]));
    write_index(paths[1], src[1], de, sizeof(de) / sizeof(de[0]));
    write_index(paths[2], src[2], li, sizeof(li) / sizeof(li[0]));
    snprintf(merged, sizeof(merged), "%s.merged", dir);
    char err[512] = "";
    const char *in[3] = {paths[0], paths[1], paths[2]};
    struct index_builder *mb = NULL;
    assert_int_equal(index_builder_new(&mb), 0);
    int mrc = index_merge(mb, merged, in, 3, err, sizeof(err));
    index_builder_free(mb);
    if (mrc < 0)
        fail_msg("merge: %s", err);
    const char *d = dir;
    if (gc_set_open(&set, &d, 1, err, sizeof(err)) < 0)
        fail_msg("set: %s", err);
    if (index_open(&mix, merged, err, sizeof(err)) < 0)
        fail_msg("open merged: %s", err);
    ra = calloc(1, sizeof(*ra));
    rb = calloc(1, sizeof(*rb));
    tmp = calloc(1, sizeof(*tmp));
    assert_true(ra && rb && tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gc_set_close(set);
    index_close(mix);
    free(ra);
    free(rb);
    free(tmp);
    for (int i = 0; i < 3; i++) {
        unlink(paths[i]);
        char src[600];
        snprintf(src, sizeof(src), "%.*s.src", (int)strlen(paths[i]) - 4, paths[i]);
        unlink(src);
    }
    unlink(merged);
    rmdir(dir);
    return 0;
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Every field of every candidate of a and b equal; else fail naming the first difference. */
static void assert_same(const struct gc_result *a, const struct gc_result *b, const char *what)
{
    if (a->n != b->n) {
        for (int i = 0; i < a->n || i < b->n; i++)
            print_message("  %d: set [%s %s %s %d %.2f]  merged [%s %s %s %d %.2f]\n", i + 1,
                          i < a->n ? a->c[i].street : "", i < a->n ? a->c[i].city : "",
                          i < a->n ? a->c[i].country : "", i < a->n ? (int)a->c[i].level : -1,
                          i < a->n ? a->c[i].relevance : 0, i < b->n ? b->c[i].street : "",
                          i < b->n ? b->c[i].city : "", i < b->n ? b->c[i].country : "",
                          i < b->n ? (int)b->c[i].level : -1, i < b->n ? b->c[i].relevance : 0);
        fail_msg("%s: %d candidates, merged index %d", what, a->n, b->n);
    }
    for (int i = 0; i < a->n; i++) {
        const struct gc_candidate *x = &a->c[i], *y = &b->c[i];
        bool ok = x->lat == y->lat && x->lon == y->lon && x->level == y->level &&
                  x->type == y->type && x->code == y->code && x->relevance == y->relevance &&
                  x->distance == y->distance && x->tl_lat == y->tl_lat && x->br_lon == y->br_lon;
        for (int k = 0; k < MQ__COUNT; k++)
            ok = ok && x->mq[k] == y->mq[k];
        ok = ok && same_str(x->house_number, y->house_number) && same_str(x->street, y->street) &&
             same_str(x->district, y->district) && same_str(x->city, y->city) &&
             same_str(x->postcode, y->postcode) && same_str(x->county, y->county) &&
             same_str(x->state, y->state) && strcmp(x->country, y->country) == 0 &&
             strcmp(x->location_id, y->location_id) == 0;
        if (!ok)
            fail_msg("%s: candidate %d differs: set %s %s %s (%.7f, %.7f) level %d code %d, "
                     "merged %s %s %s (%.7f, %.7f) level %d code %d",
                     what, i + 1, x->street, x->house_number, x->country, x->lat, x->lon, x->level,
                     x->code, y->street, y->house_number, y->country, y->lat, y->lon, y->level,
                     y->code);
    }
}

/* The set's and the merged index's answers to q, compared. */
static void forward_same(const struct gc_query *q, const char *what)
{
    assert_int_equal(gc_set_forward(set, q, ra, tmp), 0);
    assert_int_equal(geocode_forward(mix, q, rb), 0);
    assert_same(ra, rb, what);
}

/* The members a query is routed to, as a string of member numbers ("2" = li). */
static const char *route(const struct gc_query *q)
{
    static char out[16];
    size_t m[GC_SET_MAX];
    size_t n = gc_set_route(set, q, m);
    for (size_t i = 0; i < n && i < sizeof(out) - 1; i++)
        out[i] = (char)('0' + m[i]);
    out[n < sizeof(out) - 1 ? n : sizeof(out) - 1] = '\0';
    return out;
}

static void test_members(void **state)
{
    (void)state;
    assert_int_equal(gc_set_count(set), 3);
    for (int i = 0; i < 3; i++) /* *.gbx of the directory, by name */
        assert_string_equal(gc_set_path(set, (size_t)i), paths[i]);
}

/* A country named by the query: only its member is asked, and answers as the merged index. */
static void test_routing(void **state)
{
    (void)state;
    struct gc_query q = {
        .street = "Floraweg", .house_number = "13", .country = "LIE", .max_results = 5};
    assert_string_equal(route(&q), "2");
    forward_same(&q, "structured, LIE");
    assert_int_equal(ra->n, 1);
    assert_string_equal(ra->c[0].country, "LI");
    assert_int_equal(ra->c[0].code, GC_EXACT);
    /* that member alone gives the same answer */
    assert_int_equal(geocode_forward(gc_set_index(set, 2), &q, rb), 0);
    assert_same(ra, rb, "structured, LIE, member alone");
    q.country = "de";
    assert_string_equal(route(&q), "1");
    forward_same(&q, "structured, de");
    assert_string_equal(ra->c[0].city, "Lauf");
    q.country = "Austria";
    assert_string_equal(route(&q), "0");
    forward_same(&q, "structured, Austria");
    assert_string_equal(ra->c[0].city, "Feldkirch");

    struct gc_query f = {.search_text = "Floraweg 13, Lauf, Germany", .max_results = 5};
    assert_string_equal(route(&f), "1");
    forward_same(&f, "free text, Germany");
    /* after a word of its part a country may end a street's name: every member reads it */
    f.search_text = "Floraweg 13 9490 Vaduz Liechtenstein";
    assert_string_equal(route(&f), "012");
    forward_same(&f, "free text, Liechtenstein");
    assert_string_equal(ra->c[0].house_number, "13");
    /* the address of no country: asked of its member when the country's has no point */
    f.search_text = "Floraweg 21, Liechtenstein";
    assert_string_equal(route(&f), "2");
    forward_same(&f, "free text, a number only the address of no country has");
    assert_string_equal(ra->c[0].city, "Niemandsland");
    /* a country no member holds, an unknown country, none: every member */
    f.search_text = "Floraweg 13, France";
    assert_string_equal(route(&f), "012");
    forward_same(&f, "free text, France");
    struct gc_query u = {
        .street = "Floraweg", .house_number = "13", .country = "Atlantis", .max_results = 5};
    assert_string_equal(route(&u), "012");
    f.search_text = "Floraweg 13";
    assert_string_equal(route(&f), "012");
}

/* No country: every member is asked, and the answer is the merged index's, to the byte. */
static void test_unrouted(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "Floraweg 13", .max_results = 5};
    forward_same(&q, "Floraweg 13");
    assert_int_equal(ra->n, 3);                  /* one per country, ambiguous */
    assert_string_equal(ra->c[0].country, "DE"); /* the biggest street first */
    assert_int_equal(ra->c[0].code, GC_AMBIGUOUS);
    q.max_results = 2;
    forward_same(&q, "Floraweg 13, 2 results");
    assert_int_equal(ra->n, 2);
    q.max_results = 1;
    forward_same(&q, "Floraweg 13, 1 result");
    const char *texts[] = {
        "Floraweg 13, 9490 Vaduz", /* the postcode and city decide */
        "Floraweg 17 Lauf",        /* only in one member */
        "Floraweg",                /* the street, three times */
        "Floraweg 99",             /* no such number anywhere */
        "Aubündt 16",
        "Marktplatz 2, 91207",
        "Aubündt 16, 6800",    /* a postcode only another member knows: a miss */
        "Floraweg 13, 6800",   /* ... and a match for the member that knows it */
        "Landstrasse 3, Lauf", /* a locality only another member places */
        "Floraweg 15, Lauf an der Pegnitz",
        "Florawg 13, 9490 Vaduz", /* misspelt: no member's street as written is confirmed */
        "Florawg 17 Lauf",
        "Aubundt 16, Vaduz",
        "Floraweg 13, Florawg",
        "9494 Schaan", /* fall-backs: a postcode, a city */
        "91207",
        "Feldkirch",
        "Vaduz",
        "xyzzy plugh",
        "",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query t = {.search_text = texts[i], .max_results = 5};
        forward_same(&t, texts[i]);
    }
    struct gc_query s = {.street = "Floraweg", .house_number = "15", .max_results = 5};
    forward_same(&s, "structured Floraweg 15");
    struct gc_query p = {.postcode = "6800", .max_results = 5};
    forward_same(&p, "structured postcode 6800");
}

/* What a set asks its members first (free text, no country): streets as written only, and
 * whether one of them explains the query with its postcode or town (then no member's spelling
 * tolerance can matter, and none is tried). */
static void test_exact_first(void **state)
{
    (void)state;
    const struct index *li = gc_set_index(set, 2);
    struct gc_query q = {.search_text = "Floraweg 13, 9490 Vaduz", .max_results = 5};
    assert_int_equal(geocode_forward(li, &q, ra), 0);
    assert_true(ra->exact_confirmed);
    assert_int_equal(ra->c[0].level, GL_HOUSENUMBER);
    q.search_text = "Floraweg 13"; /* credible, as nothing else is given, but not confirmed */
    assert_int_equal(geocode_forward(li, &q, ra), 0);
    assert_false(ra->exact_confirmed);
    assert_int_equal(ra->c[0].level, GL_HOUSENUMBER);
    q.search_text = "Florawg 13, 9490 Vaduz";
    assert_int_equal(geocode_forward(li, &q, ra), 0);
    assert_false(ra->exact_confirmed);
    assert_int_equal(ra->c[0].level, GL_HOUSENUMBER); /* one edit away */
    q.exact_only = true;
    assert_int_equal(geocode_forward(li, &q, ra), 0);
    assert_false(ra->exact_confirmed);
    assert_int_equal(ra->n, 1);
    assert_int_equal(ra->c[0].level, GL_POSTCODE); /* no street as written: the postcode */
}

/* No country, but a postcode, a town or a street that some members know and not all: those
 * members are asked first, and alone when no other member could change their answer (the best
 * has the postcode or the town and is beyond what another member could score; or, every key
 * looked up, the pass without spelling tolerance settles it and no other member has the
 * street; after spelling tolerance, no other member could have made that search needless).
 * The answer is the merged index's all the same; gc_result.asked counts the member calls. */
static void test_first_try(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int asked;
    } cases[] = {
        /* li alone: its pass without spelling tolerance confirms the street */
        {"Floraweg 13, 9490 Vaduz", 1},
        {"Floraweg 15, 91207 Lauf", 1}, /* de alone */
        {"Floraweg 13, D-91207 Lauf", 1},
        {"Floraweg 13, 6800 Feldkirch", 1},
        {"Floraweg 13 Vaduz", 1},       /* the town alone */
        {"Floraweg 13, 9490", 1},       /* the postcode alone: no member knows a locality */
        {"Floraweg 13, 1234 Vaduz", 1}, /* a postcode no member knows */
        {"Floraweg 99, 9490 Vaduz", 1}, /* no such number: li's street is beyond reach */
        /* the one member that has the street, when it settles the query as written (the
         * others have no such street, know no town or postcode of it) */
        {"Aubündt 16", 1},
        {"Marktplatz 2", 1},
        /* li alone, its second pass with spelling tolerance */
        {"Florawg 13, 9490 Vaduz", 2},
        {"Floraweg 13, 9490 Schaan", 2}, /* li's street, in another of its towns */
        /* ... and, no member knowing a postcode in it, the others without spelling tolerance
         * (a street as written that explains it all would keep every member from that search) */
        {"Xyzweg 5, Vaduz", 4}, /* no such street: li's Vaduz */
        /* not beyond reach: li or de, then the others (and its answer's list once more) */
        {"Floraweg 15, Lauf an der Pegnitz", 4}, /* only like de's "Lauf" */
        {"Xyzweg 5, 9490 Vaduz", 7}, /* the postcode's fall-back: another's street would do */
        /* nothing narrows: every member, without spelling tolerance (the street as written
         * explains the query, which gives no town and no postcode), and the three ties' lists */
        {"Floraweg 13", 6},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gc_query q = {.search_text = cases[i].text, .max_results = 5};
        forward_same(&q, cases[i].text);
        if (ra->asked != cases[i].asked)
            fail_msg("%s: %d member calls, expected %d", cases[i].text, ra->asked, cases[i].asked);
    }
    struct gc_query s = {.street = "Floraweg",
                         .house_number = "13",
                         .postcode = "9490",
                         .city = "Vaduz",
                         .max_results = 5};
    forward_same(&s, "structured, 9490 Vaduz");
    assert_int_equal(ra->asked, 1);
    assert_string_equal(ra->c[0].country, "LI");
    s.city = NULL;
    forward_same(&s, "structured, 9490");
    assert_int_equal(ra->asked, 1);
    s.postcode = NULL;
    s.city = "Feldkirch";
    forward_same(&s, "structured, Feldkirch");
    assert_int_equal(ra->asked, 1);
    assert_string_equal(ra->c[0].country, "AT");
}

/* Members made of records (dir/<name>0.gbx.x, <name>1.gbx.x ...: not the setup's set) and
 * their merged index, open; pair_close removes them. */
#define PAIR_MAX 3
struct pair {
    char path[PAIR_MAX + 1][700], src[PAIR_MAX][700]; /* the merged index's path last */
    int n;
    struct gc_set *set;
    struct index *merged;
};

/* n members, member i of recs[i] (count[i] records) */
static void members_open(struct pair *p, const char *name, const struct record *const *recs,
                         const size_t *count, int n)
{
    char err[512] = "";
    const char *in[PAIR_MAX];
    assert_true(n <= PAIR_MAX);
    p->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(p->path[i], sizeof(p->path[i]), "%s/%s%d.gbx.x", dir, name, i);
        snprintf(p->src[i], sizeof(p->src[i]), "%s/%s%d.src", dir, name, i);
        touch(p->src[i]);
        write_index(p->path[i], p->src[i], recs[i], count[i]);
        in[i] = p->path[i];
    }
    snprintf(p->path[n], sizeof(p->path[n]), "%s/%s.merged", dir, name);
    struct index_builder *mb = NULL;
    assert_int_equal(index_builder_new(&mb), 0);
    int mrc = index_merge(mb, p->path[n], in, (size_t)n, err, sizeof(err));
    index_builder_free(mb);
    if (mrc < 0)
        fail_msg("merge: %s", err);
    if (gc_set_open(&p->set, in, (size_t)n, err, sizeof(err)) < 0 ||
        index_open(&p->merged, p->path[n], err, sizeof(err)) < 0)
        fail_msg("open: %s", err);
}

static void pair_open(struct pair *p, const char *name, const struct record *a, size_t na,
                      const struct record *b, size_t nb)
{
    const struct record *const recs[2] = {a, b};
    const size_t count[2] = {na, nb};
    members_open(p, name, recs, count, 2);
}

static void pair_close(struct pair *p)
{
    gc_set_close(p->set);
    index_close(p->merged);
    for (int i = 0; i <= p->n; i++)
        unlink(p->path[i]);
    for (int i = 0; i < p->n; i++)
        unlink(p->src[i]);
}

/* The pair's set and merged index answer q alike (into ra, rb). */
static void pair_same(const struct pair *p, const struct gc_query *q, const char *what)
{
    assert_int_equal(gc_set_forward(p->set, q, ra, tmp), 0);
    assert_int_equal(geocode_forward(p->merged, q, rb), 0);
    assert_same(ra, rb, what);
}

/* r holds one answer, of level at that street (NULL: any) */
static void assert_one(const struct gc_result *r, enum gc_level level, const char *street)
{
    assert_int_equal(r->n, 1);
    assert_int_equal(r->c[0].level, level);
    if (street)
        assert_string_equal(r->c[0].street, street);
}

/* A street and number alone whose street one country has in two towns, each in a member of
 * its own (two regions of Liechtenstein): one index over them cannot place it (no house number
 * is an answer: the country's area, ambiguous; none here), nor can the set, though each member
 * alone has one town. */
static void test_unplaced(void **state)
{
    (void)state;
    const struct record north[] = {
        addr("4", "Kirchweg", "9494", "Schaan", "LI", 47.1660000, 9.5110000, "r1")};
    const struct record south[] = {
        addr("4", "Kirchweg", "9496", "Balzers", "LI", 47.0660000, 9.5020000, "r2")};
    struct pair p;
    pair_open(&p, "region", north, 1, south, 1);
    const char *texts[] = {"Kirchweg 4", "Kirchweg 4, Schaan", "Kirchweg 4, 9496"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query q = {.search_text = texts[i], .max_results = 5};
        pair_same(&p, &q, texts[i]);
        if (i == 0) {
            assert_int_equal(ra->n, 0); /* unplaced */
            assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, rb), 0);
            assert_int_equal(rb->c[0].level, GL_HOUSENUMBER); /* the north alone: Schaan */
        } else {
            assert_int_equal(ra->c[0].level, GL_HOUSENUMBER); /* placed */
        }
    }
    pair_close(&p);
}

/* A member that finds its own street unplaced (two of its towns have it, the query places
 * neither) answers nothing alone; in the set that answer still outranks another member's
 * street that explains less of the query ("Bapi" in "Bapi Kirchweg 4"), as it does in one
 * index over both: the set's answer is the unplaced one, not the other member's street. */
static void test_unplaced_in_a_member(void **state)
{
    (void)state;
    const struct record north[] = {
        addr("4", "Kirchweg", "9494", "Schaan", "LI", 47.1660000, 9.5110000, "u1"),
        addr("6", "Kirchweg", "9490", "Vaduz", "LI", 47.1400000, 9.5200000, "u2")};
    const struct record south[] = {
        addr("1", "Bapi", "9496", "Balzers", "LI", 47.0660000, 9.5020000, "u3")};
    struct pair p;
    pair_open(&p, "unplaced", north, 2, south, 1);
    struct gc_query q = {.search_text = "Bapi Kirchweg 4", .max_results = 5};
    assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, rb), 0);
    assert_int_equal(rb->n, 0); /* the north alone: unplaced */
    assert_int_equal(geocode_forward(gc_set_index(p.set, 1), &q, rb), 0);
    assert_int_equal(rb->c[0].level, GL_STREET); /* the south alone: its "Bapi" */
    pair_same(&p, &q, q.search_text);
    assert_int_equal(ra->n, 0);
    pair_close(&p);
}

/* A street name in more towns over the set than WIDE_MAX, but not in either member, and
 * nothing of the query narrows it: one index over both finds it too wide (no answer), and so
 * does the set, by the set's count of the name's streets, not each member's. */
static void test_counted_over_the_set(void **state)
{
    (void)state;
    enum { TOWNS = 70 }; /* a member each: 140 > WIDE_MAX (128) */
    struct record recs[2][TOWNS];
    char towns[2][TOWNS][16], pcs[2][TOWNS][8], ids[2][TOWNS][8];
    for (int m = 0; m < 2; m++)
        for (int t = 0; t < TOWNS; t++) {
            int k = m * TOWNS + t; /* "Neuaadorf" ... "Neufjdorf" */
            snprintf(towns[m][t], sizeof(towns[m][t]), "Neu%c%cdorf", 'a' + k / 26, 'a' + k % 26);
            snprintf(pcs[m][t], sizeof(pcs[m][t]), "%d", 10000 + m * TOWNS + t);
            snprintf(ids[m][t], sizeof(ids[m][t]), "c%d", m * TOWNS + t);
            recs[m][t] = addr("1", "Ringstrasse", pcs[m][t], towns[m][t], "DE", 48.0 + m + t * 0.01,
                              11.0 + t * 0.01, ids[m][t]);
        }
    struct pair p;
    pair_open(&p, "counted", recs[0], TOWNS, recs[1], TOWNS);
    struct gc_query q = {.search_text = "Ringstrasse", .max_results = 5};
    assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, rb), 0);
    assert_int_equal(rb->c[0].level, GL_STREET); /* a member alone: its 70 streets */
    assert_int_equal(rb->c[0].code, GC_AMBIGUOUS);
    pair_same(&p, &q, q.search_text);
    assert_int_equal(ra->n, 0);               /* too wide */
    q.search_text = "Ringstrasse, Neucxdorf"; /* narrowed: the town's */
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_STREET, "Ringstrasse");
    assert_string_equal(ra->c[0].city, "Neucxdorf");
    pair_close(&p);
}

/* A postcode one member knows and a town another knows, far from it ("91207 Vaduz"): one
 * index finds the postcode contradicted by the town and answers the town, and so does the
 * set, though the postcode is the finer fall-back; a postcode with its own town stays. */
static void test_postcode_against_another_town(void **state)
{
    (void)state;
    struct gc_query q = {.search_text = "91207 Vaduz", .max_results = 5};
    forward_same(&q, q.search_text);
    assert_int_equal(ra->c[0].level, GL_CITY);
    assert_string_equal(ra->c[0].city, "Vaduz");
    q.search_text = "91207 Lauf";
    forward_same(&q, q.search_text);
    assert_int_equal(ra->c[0].level, GL_POSTCODE);
}

/* A street name that is another member's town ("Landstrasse" in Schaan, the town
 * "Landstrasse" elsewhere): the street explains every word of "Landstrasse 3", so nothing
 * contradicts it, in one index over both or in the set. */
static void test_a_street_named_like_another_town(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("3", "Landstrasse", "9494", "Schaan", "LI", 47.1650, 9.5100, "l1"),
        addr("5", "Landstrasse", "9494", "Schaan", "LI", 47.1652, 9.5102, "l2")};
    const struct record at[] = {
        addr("1", "Hauptplatz", "1030", "Landstrasse", "AT", 48.2000, 16.3900, "l3")};
    struct pair p;
    pair_open(&p, "named", li, 2, at, 1);
    const char *texts[] = {"Landstrasse 3", "Landstrasse"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query q = {.search_text = texts[i], .max_results = 5};
        pair_same(&p, &q, texts[i]);
        assert_true(ra->n > 0);
        assert_string_equal(ra->c[0].street, "Landstrasse");
    }
    pair_close(&p);
}

/* A query whose street is nowhere falls back to its postcode, whose town it names ("9497
 * Triesenberg Banumo"), though a word of that town is a street elsewhere ("Banumo" in Praha,
 * contradicted by the town the rest of the query then names): the rest read around that street
 * ("Triesenberg", another town) is not what the query names. The merged index answers so, as
 * the member of the postcode does alone. */
static void test_fallback_to_the_postcodes_town(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("1", "Dorfstrasse", "9497", "Triesenberg Banumo", "LI", 47.1200, 9.5600, "f1"),
        addr("2", "Dorfstrasse", "9497", "Triesenberg Banumo", "LI", 47.1202, 9.5602, "f2"),
        addr("3", "Landstrasse", "9498", "Triesenberg", "LI", 47.5000, 9.9000, "f3")};
    const struct record cz[] = {addr("1", "Banumo", NULL, "Praha", "CZ", 50.08, 14.42, "f4")};
    struct pair p;
    pair_open(&p, "fallback", li, 3, cz, 1);
    struct gc_query q = {.search_text = "Nosuchweg 14, 9497 Triesenberg Banumo", .max_results = 5};
    assert_int_equal(geocode_forward(p.merged, &q, rb), 0);
    assert_one(rb, GL_POSTCODE, NULL);
    assert_string_equal(rb->c[0].postcode, "9497");
    assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, ra), 0);
    assert_same(ra, rb, "the postcode's member alone");
    pair_same(&p, &q, q.search_text); /* "Banumo" is no answer, Triesenberg a place of li */
    pair_close(&p);
}

/* A town that is the first words of another's name ("Praha" of "Praha Basejo") is a place of
 * its own in the merged index, so a street read from the rest of the other's name ("Basejo" in
 * Praha Basejo, whose addresses have no postcode to confirm it) is in another town than the
 * query's "Praha": contradicted, and the query falls back to its postcode. In the set the
 * member of the street finds Praha a place of the other member, as one index over both does.
 * Alone, it finds that "Praha" begins the name of a town of its own, "Praha Basejo", read
 * without the word the street was taken from: a town the street is not said to be in, the same
 * answer. (Before towns named by their first words, it answered the street.) */
static void test_a_town_of_another_member(void **state)
{
    (void)state;
    const struct record cz1[] = {
        addr("1", "Basejo", NULL, "Praha Basejo", "CZ", 50.6000, 14.0000, "t1"),
        addr("2", "Basejo", NULL, "Praha Basejo", "CZ", 50.6002, 14.0002, "t2"),
        addr("3", "Mora", "11800", "Praha Basejo", "CZ", 50.6010, 14.0010, "t3")};
    const struct record cz2[] = {
        addr("1", "Na Porici", "11000", "Praha", "CZ", 50.09, 14.43, "t4")};
    struct pair p;
    pair_open(&p, "similar", cz1, 3, cz2, 1);
    struct gc_query q = {.search_text = "Nosuchova 12, 11800 Praha Basejo", .max_results = 5};
    assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, rb), 0);
    assert_one(rb, GL_POSTCODE, NULL); /* the member alone */
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_POSTCODE, NULL);
    assert_string_equal(ra->c[0].postcode, "11800");
    pair_close(&p);
}

/* A town named in full ("Schaan Kepimo") one of whose words is a street of it ("Kepimo"),
 * the first word another town ("Schaan"): read as that street in Schaan, the street is in
 * another town, and the fall-back is the town the query names in full, not the one left
 * around the street (Schaan, hundreds of km away); exact when the town is all the query
 * says. In the merged index and in the set alike. */
static void test_a_town_named_in_full(void **state)
{
    (void)state;
    const struct record li1[] = {
        addr("1", "Kepimo", NULL, "Schaan Kepimo", "LI", 50.6600, 27.0100, "k1"),
        addr("2", "Kepimo", NULL, "Schaan Kepimo", "LI", 50.6602, 27.0102, "k2"),
        addr("3", "Bergweg", "9494", "Schaan Kepimo", "LI", 50.6610, 27.0110, "k3")};
    const struct record li2[] = {
        addr("1", "Landstrasse", "9494", "Schaan", "LI", 47.1650, 9.5100, "k4")};
    struct pair p;
    pair_open(&p, "infull", li1, 3, li2, 1);
    struct gc_query q = {.search_text = "Nosuchstrasse 8, Schaan Kepimo", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Schaan Kepimo");
    assert_int_equal(ra->c[0].code, GC_UPHIERARCHY);
    q.search_text = "Schaan Kepimo";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Schaan Kepimo");
    assert_int_equal(ra->c[0].code, GC_EXACT);
    pair_close(&p);
}

/* A query that names no country, in a set of three countries none of which holds 80 % of
 * the addresses: one index over them reads its words in every language at once ("Lauf
 * a.d.Pegnitz" is the German member's town: the house in Praha is in another town,
 * contradicted, and the answer is that town). Each member read it in the languages of its
 * own main country, as alone: the Czech member found no town of that name and answered the
 * house. Members now read it as one index over the set does. (The third member, a postcode
 * centroid, keeps the set from routing the first query to the German member alone.) */
static void test_members_read_in_the_sets_languages(void **state)
{
    (void)state;
    const struct record de[] = {
        addr("1", "Hauptstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5100, 11.2800, "l1"),
        addr("2", "Hauptstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5102, 11.2802, "l2")};
    const struct record cz[] = {
        addr("5", "U piskovny", "18200", "Praha", "CZ", 50.1300, 14.4500, "p1"),
        addr("6", "U piskovny", "18200", "Praha", "CZ", 50.1302, 14.4502, "p2")};
    const struct record zip[] = {pc_centroid("94103", "US", 37.77, -122.41)};
    const struct record *const recs[] = {de, cz, zip};
    const size_t count[] = {2, 2, 1};
    struct pair p;
    members_open(&p, "reading", recs, count, 3);
    struct gc_query q = {.search_text = "U piskovny 5, Lauf a.d.Pegnitz", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Lauf a.d.Pegnitz");
    assert_int_equal(ra->c[0].code, GC_UPHIERARCHY);
    /* a postcode of the set is read first, and the rest in its country's languages: in
     * English "Lauf a.d.Pegnitz" names no town, so the answer is the postcode, in the members
     * that do not know it too (the German one found its town, which won) */
    q.search_text = "94103 Lauf a.d.Pegnitz";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_POSTCODE, NULL);
    assert_string_equal(ra->c[0].postcode, "94103");
    pair_close(&p);
}

/* A postcode that only another member knows (91207, German) against a street name that the
 * asked member has in two towns, one with a postcode of its own (Praha, 18200) and one without
 * (Brno): one index over the set finds the first contradicted by the postcode and answers the
 * second. The member took the postcode for one it does not know, which contradicts nothing,
 * found the name in two towns that nothing placed, and answered nothing finer than the
 * country: the set answered the postcode. */
static void test_a_postcode_of_another_member_contradicts(void **state)
{
    (void)state;
    const struct record de[] = {
        addr("1", "Hauptstrasse", "91207", "Lauf", "DE", 49.5100, 11.2800, "c1")};
    const struct record cz[] = {
        addr("5", "U piskovny", "18200", "Praha", "CZ", 50.1300, 14.4500, "c2"),
        addr("5", "U piskovny", NULL, "Brno", "CZ", 49.1900, 16.6000, "c3")};
    struct pair p;
    pair_open(&p, "pcelse", de, 1, cz, 2);
    struct gc_query q = {.search_text = "U piskovny 5, 91207", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "U piskovny");
    assert_string_equal(ra->c[0].city, "Brno");
    pair_close(&p);
}

/* A street of one member beside a town of another ("South Van Ness Avenue 140, Schaan"): one
 * index over both finds the street in another town than the query's, contradicted, and answers
 * the town around it. The member of the street knows no Schaan, and the member of Schaan read
 * the street's five tokens as words it cannot explain: the set had no answer. It now asks the
 * members again with those tokens read as that street (gc_query.read_as_street). */
static void test_a_town_around_another_members_street(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("3", "Landstrasse", "9494", "Schaan", "LI", 47.1650, 9.5100, "a1"),
        addr("5", "Landstrasse", "9494", "Schaan", "LI", 47.1652, 9.5102, "a2")};
    const struct record us[] = {addr("140", "South Van Ness Avenue", "94103", "San Francisco", "US",
                                     37.7700, -122.4170, "a3"),
                                addr("150", "South Van Ness Avenue", "94103", "San Francisco", "US",
                                     37.7702, -122.4172, "a4")};
    struct pair p;
    pair_open(&p, "around", li, 2, us, 2);
    struct gc_query q = {.search_text = "South Van Ness Avenue 140, Schaan", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Schaan");
    assert_int_equal(ra->c[0].code, GC_UPHIERARCHY);
    pair_close(&p);
}

/* A street one member has as written ("Landstrasse", Schaan, postcode 9494) with a postcode of
 * another (94103) and a town of a third named like the street (Landstraße, a district of
 * Vienna): one index over them reads the street first, finds it contradicted by the postcode
 * and answers the postcode. The third member has no such street and read the words as its
 * town, which the set preferred to a postcode far from it; it is asked again with them read
 * as the street. */
static void test_no_town_from_another_members_street(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("3", "Landstrasse", "9494", "Schaan", "LI", 47.1650, 9.5100, "b1"),
        addr("5", "Landstrasse", "9494", "Schaan", "LI", 47.1652, 9.5102, "b2")};
    const struct record at[] = {{.kind = REC_PLACE,
                                 .lat = 48.1990,
                                 .lon = 16.3950,
                                 .name = "Landstraße",
                                 .rank = RANK_DISTRICT,
                                 .city = "Wien",
                                 .country = "AT"}};
    const struct record zip[] = {pc_centroid("94103", "US", 37.77, -122.41)};
    const struct record *const recs[] = {li, at, zip};
    const size_t count[] = {2, 1, 1};
    struct pair p;
    members_open(&p, "nottown", recs, count, 3);
    struct gc_query q = {.search_text = "Landstrasse 60, 94103", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_POSTCODE, NULL);
    assert_string_equal(ra->c[0].postcode, "94103");
    pair_close(&p);
}

/* One address in two members (two extracts of one area, a few metres apart, from different
 * sources) on a street whose centres the members place far apart (each has other houses): one
 * index over both has one street of that key, country and town, and stores the address once.
 * The set showed both, ambiguous; it finds them one answer by their location ids' street part,
 * the number, postcode and distance (same_street_group). */
static void test_one_address_in_two_extracts(void **state)
{
    (void)state;
    const struct record a[] = {
        addr("12", "Bergstrasse", "9497", "Triesenberg", "LI", 47.118707, 9.544360, "x1"),
        addr("40", "Bergstrasse", "9497", "Triesenberg", "LI", 47.105000, 9.530000, "x2")};
    const struct record b[] = {
        addr("12", "Bergstrasse", "9497", "Triesenberg", "LI", 47.118725, 9.544372, "y1"),
        addr("2", "Bergstrasse", "9497", "Triesenberg", "LI", 47.130000, 9.560000, "y2")};
    struct pair p;
    pair_open(&p, "twice", a, 2, b, 2);
    struct gc_query q = {.search_text = "Bergstrasse 12, 9497 Triesenberg", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Bergstrasse");
    assert_int_equal(ra->c[0].code, GC_EXACT);
    pair_close(&p);
}

/* A lone number next to words ("12th Street 200 San Francisco") is the house number where the
 * street is; a member without the street reads it as a postcode it has ("200", Andorra's), for
 * want of anything else. One index over both has the street, and no postcode in the query: the
 * house, every field matched (relevance 1). The set took that member's postcode for one the
 * query gives, and the house for one that misses it (0.75). */
static void test_a_lone_number_is_no_postcode_where_the_street_is(void **state)
{
    (void)state;
    const struct record us[] = {
        addr("200", "12th Street", NULL, "San Francisco", "US", 37.771461, -122.416651, "n1"),
        addr("210", "12th Street", NULL, "San Francisco", "US", 37.771561, -122.416751, "n2")};
    const struct record ad[] = {pc_centroid("200", "AD", 42.5400, 1.7300)};
    struct pair p;
    pair_open(&p, "lone", us, 2, ad, 1);
    struct gc_query q = {.search_text = "12th Street 200 San Francisco", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "12th Street");
    assert_true(ra->c[0].mq[MQ_POSTCODE] < 0);
    assert_true(ra->c[0].relevance > 0.99);
    pair_close(&p);
}

/* A postcode of two towns, each town in a member of its own (regions of one country), and a
 * street that is nowhere: one index over both answers the postcode, and finds the query's town
 * among the postcode's (matchQualityCity 1). Each member answered its postcode; the set kept
 * the first member's, whose town is another (0, and a lower relevance). It now keeps the one
 * whose town the query names. */
static void test_a_postcode_of_two_towns(void **state)
{
    (void)state;
    const struct record schaan[] = {
        addr("1", "Landstrasse", "9490", "Schaan", "LI", 47.1650, 9.5100, "t5"),
        addr("2", "Landstrasse", "9490", "Schaan", "LI", 47.1652, 9.5102, "t6")};
    const struct record vaduz[] = {
        addr("1", "Aeulestrasse", "9490", "Vaduz", "LI", 47.1400, 9.5200, "t7"),
        addr("2", "Aeulestrasse", "9490", "Vaduz", "LI", 47.1402, 9.5202, "t8")};
    struct pair p;
    pair_open(&p, "pctowns", schaan, 2, vaduz, 2);
    struct gc_query q = {.search_text = "Nosuchstrasse 5, 9490 Vaduz", .max_results = 5};
    /* a postcode's centroid is its member's (its own addresses), so not pair_same */
    assert_int_equal(gc_set_forward(p.set, &q, ra, tmp), 0);
    assert_int_equal(geocode_forward(p.merged, &q, rb), 0);
    assert_one(rb, GL_POSTCODE, NULL);
    assert_true(rb->c[0].mq[MQ_CITY] > 0.99);
    assert_one(ra, GL_POSTCODE, NULL);
    assert_true(ra->c[0].mq[MQ_CITY] > 0.99);
    assert_true(fabs(ra->c[0].relevance - rb->c[0].relevance) < 1e-9);
    assert_string_equal(ra->c[0].city, "Vaduz");
    pair_close(&p);
}

/* One street in two members: the town's name spelt two ways ("Lauf a.d.Pegnitz", "Lauf an
 * der Pegnitz": one town key), a set split by town holding each spelling apart. One index has
 * one street of them, and one answer; so has the set, not two equal answers marked
 * ambiguous. */
static void test_one_street_in_two_members(void **state)
{
    (void)state;
    const struct record a[] = {
        addr("35", "Weigmannstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5100, 11.2800, "w1"),
        addr("37", "Weigmannstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5102, 11.2802, "w2")};
    const struct record b[] = {
        addr("35", "Weigmannstrasse", "91207", "Lauf an der Pegnitz", "DE", 49.5100, 11.2800, "w3"),
        addr("39", "Weigmannstrasse", "91207", "Lauf an der Pegnitz", "DE", 49.5104, 11.2804,
             "w4")};
    struct pair p;
    pair_open(&p, "spelt", a, 2, b, 2);
    struct gc_query q = {.search_text = "Weigmannstrasse 35, 91207 Lauf", .max_results = 5};
    assert_int_equal(gc_set_forward(p.set, &q, ra, tmp), 0);
    assert_int_equal(geocode_forward(p.merged, &q, rb), 0);
    assert_one(rb, GL_HOUSENUMBER, "Weigmannstrasse");
    assert_int_equal(rb->c[0].code, GC_EXACT);
    assert_one(ra, GL_HOUSENUMBER, "Weigmannstrasse");
    assert_int_equal(ra->c[0].code, GC_EXACT);
    assert_true(ra->c[0].lat == rb->c[0].lat && ra->c[0].lon == rb->c[0].lon);
    pair_close(&p);
}

/* A street and number alone ("Livoba Loch 21") whose name is one street's as written
 * ("Livoba Loch", in Schellenberg Livoba) and another's less a short word ("Livoba Im Loch",
 * in Schaan Livoba: one key): one index finds it in two towns, unplaced, and so does the set,
 * though the member of "Livoba Im Loch" counts three words in its name (the set weighs
 * answers by the query's tokens the street explains, as one index scores them). */
static void test_a_street_with_a_word_less(void **state)
{
    (void)state;
    const struct record a[] = {
        addr("21", "Livoba Im Loch", NULL, "Schaan Livoba", "LI", 47.1650, 9.5100, "i1"),
        addr("23", "Livoba Im Loch", NULL, "Schaan Livoba", "LI", 47.1652, 9.5102, "i2")};
    const struct record b[] = {
        addr("21", "Livoba Loch", NULL, "Schellenberg Livoba", "LI", 47.2300, 9.5400, "i3")};
    struct pair p;
    pair_open(&p, "wordless", a, 2, b, 1);
    struct gc_query q = {.search_text = "Livoba Loch 21", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_int_equal(ra->n, 0);
    pair_close(&p);
}

/* A locality that is no town of the street's member but a place of another member's close to
 * the street ("Praha", 2 km from the street "Kevofe" of the town Schaan Kevofe, whose own
 * place is farther): one index takes it as a place near the street (0.8), and so does the
 * member, through the set. But when the query names a town in full ("Praha Kevofe") of which
 * the street is the last word, those words are the town's name, not where that street is:
 * the street is no answer, the town is (up the hierarchy: "Nosuchova 5" is nowhere). */
static void test_a_place_of_another_member_near_the_street(void **state)
{
    (void)state;
    const struct record a[] = {
        addr("1", "Kevofe", NULL, "Schaan Kevofe", "LI", 50.1223, 14.5179, "n1"),
        addr("2", "Kevofe", NULL, "Schaan Kevofe", "LI", 50.1225, 14.5181, "n2"),
        addr("1", "Bergweg", NULL, "Schaan Kevofe", "LI", 50.2100, 14.5100, "n3"),
        addr("2", "Bergweg", NULL, "Schaan Kevofe", "LI", 50.2102, 14.5102, "n4")};
    const struct record b[] = {
        addr("1", "Na Porici", "11000", "Praha", "CZ", 50.1292, 14.4938, "n5"),
        addr("1", "Mora", "39418", "Praha Kevofe", "CZ", 52.1380, 32.5130, "n6"),
        addr("2", "Mora", "39418", "Praha Kevofe", "CZ", 52.1382, 32.5132, "n7")};
    struct pair p;
    pair_open(&p, "nearby", a, 4, b, 3);
    struct gc_query q = {.search_text = "Kevofe, Praha", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_STREET, "Kevofe");
    assert_true(ra->c[0].mq[MQ_CITY] > 0.79 && ra->c[0].mq[MQ_CITY] < 0.81);
    q.search_text = "Nosuchova 5, Praha Kevofe";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Praha Kevofe");
    pair_close(&p);
}

/* Names are read in the languages of the country a query names, or of its postcode's when it
 * names none, else of the index's country whose reading finds the longest street as written,
 * in an index of several countries as in a member of one: "Ave" is "Avenue" in English, and
 * "Van" is no word an American street drops. The merged index finds the street as written,
 * as the set does, not a misspelt one of another town. */
static void test_read_in_its_countrys_languages(void **state)
{
    (void)state;
    const struct record us[] = {
        addr("77", "Kemoti Van Ness Ave", "94102", "San Francisco", "US", 37.78, -122.42, "v1"),
        addr("77", "Kemopi Van Ness Ave", "94103", "San Francisco", "US", 37.77, -122.41, "v2")};
    const struct record de[] = {addr("1", "Floraweg", "91207", "Lauf", "DE", 49.51, 11.28, "v3"),
                                addr("2", "Floraweg", "91207", "Lauf", "DE", 49.52, 11.29, "v4")};
    struct pair p;
    pair_open(&p, "reading", us, 2, de, 2);
    struct gc_query q = {.search_text = "77 Kemoti Van Ness Ave, USA", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Kemoti Van Ness Ave");
    q.search_text = "77 Kemoti Van Ness Ave"; /* nothing names the country: the reading */
    pair_same(&p, &q, q.search_text);         /* that finds the longest street as written */
    assert_one(ra, GL_HOUSENUMBER, "Kemoti Van Ness Ave");
    struct gc_query s = {.street = "Kemoti Van Ness Ave",
                         .house_number = "77",
                         .postcode = "94102",
                         .max_results = 5};
    pair_same(&p, &s, "structured, 94102");
    assert_one(ra, GL_HOUSENUMBER, "Kemoti Van Ness Ave");
    pair_close(&p);
}

/* A house found on a street as written that leaves words over, which another country's
 * reading makes part of a longer street as written: "Bamomo St. Mamertenweg 19" read in every
 * list at once has no "St." (in English a street type, in German "Sankt") and finds house 19
 * of the street "Bamomo" in another town; read in German it is house 19 of "Bamomo St.
 * Mamertenweg", which the member of that country finds at once. */
static void test_words_over_read_in_another_countrys_languages(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("19", "Bamomo", "9494", "Schaan Bamomo", "LI", 47.16, 9.51, "w1"),
        addr("20", "Bamomo", "9494", "Schaan Bamomo", "LI", 47.161, 9.511, "w2"),
        addr("19", "Bamomo St. Mamertenweg", "9495", "Triesen Bamomo", "LI", 47.10, 9.53, "w3"),
        addr("21", "Bamomo St. Mamertenweg", "9495", "Triesen Bamomo", "LI", 47.101, 9.531, "w4")};
    const struct record us[] = {
        addr("77", "Kemoti Van Ness Ave", "94102", "San Francisco", "US", 37.78, -122.42, "v1"),
        addr("78", "Kemoti Van Ness Ave", "94102", "San Francisco", "US", 37.781, -122.421, "v2"),
        addr("79", "Kemoti Van Ness Ave", "94102", "San Francisco", "US", 37.782, -122.422, "v3"),
        addr("80", "Kemoti Van Ness Ave", "94102", "San Francisco", "US", 37.783, -122.423, "v4")};
    struct pair p;
    pair_open(&p, "over", li, 4, us, 4);
    const char *texts[] = {"Bamomo St. Mamertenweg 19",
                           "Bamomo St. Mamertenweg 19, Triesen Bamomo"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gc_query q = {.search_text = texts[i], .max_results = 5};
        pair_same(&p, &q, q.search_text);
        assert_one(rb, GL_HOUSENUMBER, "Bamomo St. Mamertenweg");
        assert_string_equal(rb->c[0].city, "Triesen Bamomo");
    }
    struct gc_query q = {.search_text = "Bamomo 19, Schaan Bamomo", .max_results = 5};
    pair_same(&p, &q, q.search_text); /* a street as written, nothing over: read once */
    assert_one(rb, GL_HOUSENUMBER, "Bamomo");
    pair_close(&p);
}

/* A town named by its first word ("Lauf" for "Lauf a.d.Pegnitz", whose key is
 * "laufpegnitz"): a street of the query's name in another town is no answer ("Floraweg 5
 * Lauf" was house 5 of Floraweg in Vaduz, match code exact, where Lauf has no Floraweg), and
 * the fall-back is that town, its name only similar to the query's. In the set and the merged
 * index alike; the member of the street alone knows no such town and answers the house. */
static void test_a_town_named_by_its_first_word(void **state)
{
    (void)state;
    const struct record li[] = {
        addr("5", "Floraweg", "9490", "Vaduz", "LI", 47.1236, 9.5284, "f1"),
        addr("7", "Floraweg", "9490", "Vaduz", "LI", 47.1238, 9.5286, "f2")};
    const struct record de[] = {
        addr("1", "Hauptstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5100, 11.2800, "l1"),
        addr("2", "Hauptstrasse", "91207", "Lauf a.d.Pegnitz", "DE", 49.5102, 11.2802, "l2")};
    struct pair p;
    pair_open(&p, "begun", li, 2, de, 2);
    struct gc_query q = {.search_text = "Floraweg 5 Lauf", .max_results = 5};
    assert_int_equal(geocode_forward(gc_set_index(p.set, 0), &q, rb), 0);
    assert_one(rb, GL_HOUSENUMBER, "Floraweg"); /* the member alone */
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Lauf a.d.Pegnitz");
    assert_int_equal(ra->c[0].code, GC_UPHIERARCHY);
    assert_true(ra->c[0].mq[MQ_CITY] == 0.7);
    q.search_text = "Lauf";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_CITY, NULL);
    assert_string_equal(ra->c[0].city, "Lauf a.d.Pegnitz");
    q.search_text = "Hauptstrasse 2 Lauf"; /* its own town: a similar name, the house */
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Hauptstrasse");
    q.search_text = "Floraweg 5 Vaduz";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Floraweg");
    assert_true(ra->c[0].relevance == 1.0);
    pair_close(&p);
}

/* A house number written as a word ("One Market Street") is read again in digits when the
 * first reading finds no house and its street leaves the word out; a street whose name begins
 * with such a word ("Ten Mile Road") stays that street, not house 10 of "Mile Road". */
static void test_a_number_written_as_a_word(void **state)
{
    (void)state;
    const struct record us[] = {
        addr("10", "Mile Rd", "48375", "Novi", "US", 42.480, -83.470, "m1"),
        addr("12", "Mile Rd", "48375", "Novi", "US", 42.481, -83.471, "m2"),
        addr("12", "Ten Mile Rd", "48375", "Novi", "US", 42.470, -83.480, "t1"),
        addr("14", "Ten Mile Rd", "48375", "Novi", "US", 42.471, -83.481, "t2")};
    const struct record li[] = {
        addr("5", "Floraweg", "9490", "Vaduz", "LI", 47.1236, 9.5284, "f1")};
    struct pair p;
    pair_open(&p, "words", us, 4, li, 1);
    struct gc_query q = {.search_text = "Twelve Mile Road, Novi", .max_results = 5};
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Mile Rd");
    assert_string_equal(ra->c[0].house_number, "12");
    assert_true(ra->c[0].relevance == 1.0);
    q.search_text = "Ten Mile Road, Novi";
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_STREET, "Ten Mile Rd");
    q.search_text = "Fourteen Ten Mile Rd, Novi"; /* the house, then the street's own word */
    pair_same(&p, &q, q.search_text);
    assert_one(ra, GL_HOUSENUMBER, "Ten Mile Rd");
    assert_string_equal(ra->c[0].house_number, "14");
    pair_close(&p);
}

static void test_reverse(void **state)
{
    (void)state;
    const double pts[][2] = {{47.1236503, 9.5284904},
                             {49.5103, 11.2805},
                             {47.2401, 9.6001},
                             {47.5, 9.5},
                             {0, 0},
                             {47.16, 9.51}};
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        char what[64];
        snprintf(what, sizeof(what), "reverse %.4f,%.4f", pts[i][0], pts[i][1]);
        for (int max = 1; max <= 4; max += 3) {
            assert_int_equal(gc_set_reverse(set, pts[i][0], pts[i][1], 500, max, ra, tmp), 0);
            assert_int_equal(geocode_reverse(mix, pts[i][0], pts[i][1], 500, max, rb), 0);
            assert_same(ra, rb, what);
        }
        assert_int_equal(gc_set_reverse_areas(set, pts[i][0], pts[i][1], ra, tmp), 0);
        assert_int_equal(geocode_reverse_areas(mix, pts[i][0], pts[i][1], rb), 0);
        assert_same(ra, rb, what);
    }
    assert_int_equal(gc_set_reverse(set, 49.5103, 11.2805, 500, 4, ra, tmp), 0);
    assert_true(ra->n >= 2);
    assert_string_equal(ra->c[0].city, "Lauf");
}

/* One index as a set is that index. */
static void test_single(void **state)
{
    (void)state;
    struct gc_set *one = NULL;
    char err[512] = "";
    const char *p = merged;
    assert_int_equal(gc_set_open(&one, &p, 1, err, sizeof(err)), 0);
    assert_int_equal(gc_set_count(one), 1);
    struct gc_query q = {.search_text = "Floraweg 13", .max_results = 5};
    size_t m[GC_SET_MAX];
    assert_int_equal(gc_set_route(one, &q, m), 1);
    assert_int_equal(gc_set_forward(one, &q, ra, tmp), 0);
    assert_int_equal(geocode_forward(mix, &q, rb), 0);
    assert_same(ra, rb, "set of one");
    assert_int_equal(gc_set_verify_checksums(one, err, sizeof(err)), 0);
    gc_set_close(one);
    assert_int_equal(gc_set_verify_checksums(set, err, sizeof(err)), 0);
}

static void test_refusals(void **state)
{
    (void)state;
    struct gc_set *s = NULL;
    char err[512] = "", nope[600], empty[600];
    snprintf(nope, sizeof(nope), "%s/nope.gbx", dir);
    const char *p = nope;
    assert_true(gc_set_open(&s, &p, 1, err, sizeof(err)) < 0);
    assert_null(s);
    assert_non_null(strstr(err, nope));
    snprintf(empty, sizeof(empty), "%s.empty", dir);
    mkdir(empty, 0755);
    p = empty;
    assert_int_equal(gc_set_open(&s, &p, 1, err, sizeof(err)), GB_ENOTFOUND);
    assert_non_null(strstr(err, "no index (*.gbx)"));
    rmdir(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_unrouted),
        cmocka_unit_test(test_exact_first),
        cmocka_unit_test(test_first_try),
        cmocka_unit_test(test_unplaced),
        cmocka_unit_test(test_unplaced_in_a_member),
        cmocka_unit_test(test_counted_over_the_set),
        cmocka_unit_test(test_postcode_against_another_town),
        cmocka_unit_test(test_a_street_named_like_another_town),
        cmocka_unit_test(test_fallback_to_the_postcodes_town),
        cmocka_unit_test(test_a_town_of_another_member),
        cmocka_unit_test(test_a_town_named_in_full),
        cmocka_unit_test(test_members_read_in_the_sets_languages),
        cmocka_unit_test(test_a_postcode_of_another_member_contradicts),
        cmocka_unit_test(test_a_town_around_another_members_street),
        cmocka_unit_test(test_no_town_from_another_members_street),
        cmocka_unit_test(test_one_address_in_two_extracts),
        cmocka_unit_test(test_a_lone_number_is_no_postcode_where_the_street_is),
        cmocka_unit_test(test_a_postcode_of_two_towns),
        cmocka_unit_test(test_one_street_in_two_members),
        cmocka_unit_test(test_a_street_with_a_word_less),
        cmocka_unit_test(test_a_place_of_another_member_near_the_street),
        cmocka_unit_test(test_read_in_its_countrys_languages),
        cmocka_unit_test(test_words_over_read_in_another_countrys_languages),
        cmocka_unit_test(test_a_town_named_by_its_first_word),
        cmocka_unit_test(test_a_number_written_as_a_word),
        cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
