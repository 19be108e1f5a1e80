/*
 * large_strings.c - make test-large: an index whose string section passes 4 GiB, built from
 * synthetic records, opened and geocoded from (scripts/test-large.sh runs it and reports time,
 * memory and disk).
 *
 *   large_strings build INDEX [MEMORY_MB [TMPDIR]]   build it (--memory and --tmp of import)
 *   large_strings verify INDEX                       open it (every checksum), read every
 *                                                    string, geocode from it
 *   large_strings query                              a query for the CLI (the last street, 77)
 *                                                    and the hash its location id must carry
 *
 * The data: STREETS streets ("Kalomiraweg" ...) in towns of TOWN_STREETS streets, each with
 * house numbers 1..NUMBERS on a grid in Germany and a county of 90,000 to 110,000 bytes of its
 * own that names the street ("C<street>-" and filler derived from it); every address has a
 * source id ("L<street>-<number>"). The counties are what make the section pass 4 GiB (4.6
 * GB), stored once each: the offsets of the last streets' counties and of the keys after them,
 * in the file's units, point past byte 2^32, which 32-bit byte offsets could not. verify reads
 * back every county (its own street, the right bytes), checks that the last ones lie past
 * 4 GiB, and geocodes addresses from all over the section, forward and reverse: the answer
 * carries its street's county, and its location id the hash of the address's source id.
 */
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "geocode/geocode.h"
#include "index/index.h"
#include "index/index_format.h"
#include "text/norm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREETS      46000
#define TOWN_STREETS 10
#define NUMBERS      100
#define COUNTY_MIN   90000
#define COUNTY_SPAN  20001

static const char *const syl[16] = {"ka", "lo", "mi", "ra", "te", "nu", "sa", "bo",
                                    "fe", "di", "gu", "ve", "po", "ri", "za", "he"};

/* The street name of street s: four syllables and "weg" ("Kalomiraweg"). */
static void street_name(uint32_t s, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s%sweg", syl[s & 15], syl[(s >> 4) & 15], syl[(s >> 8) & 15],
             syl[(s >> 12) & 15]);
    out[0] = (char)(out[0] - 32);
}

/* The town of street s ("Tenudorf" ...) and its postcode. */
static void town_name(uint32_t s, char *out, size_t cap, char *pc, size_t pcap)
{
    uint32_t t = s / TOWN_STREETS;
    snprintf(out, cap, "%s%s%s%sdorf", syl[t & 15], syl[(t >> 4) & 15], syl[(t >> 8) & 15],
             syl[(t >> 12) & 15]);
    out[0] = (char)(out[0] - 32);
    snprintf(pc, pcap, "%05u", 10000 + t);
}

static double addr_lat(uint32_t s, uint32_t n)
{
    uint32_t t = s / TOWN_STREETS;
    return 47.5 + (t / 80) * 0.06 + (s % TOWN_STREETS) * 0.004 + n * 0.00003;
}

static double addr_lon(uint32_t s, uint32_t n)
{
    (void)n;
    uint32_t t = s / TOWN_STREETS;
    return 6.5 + (t % 80) * 0.09;
}

/* The source id of number n of street s. */
static void source_id(uint32_t s, uint32_t n, char *out, size_t cap)
{
    snprintf(out, cap, "L%u-%u", s, n);
}

/* The county of street s: its length and bytes follow from s. */
static size_t county_name(uint32_t s, char *out)
{
    uint32_t h = s * 2654435761u;
    size_t len = COUNTY_MIN + h % COUNTY_SPAN;
    size_t k = (size_t)snprintf(out, 64, "C%u-", s);
    for (; k < len; k++) {
        h = h * 1103515245u + 12345u;
        out[k] = (char)('a' + (h >> 16) % 26);
    }
    out[len] = '\0';
    return len;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int build(const char *path, uint64_t memory_mb, const char *tmpdir)
{
    struct index_builder *b = NULL;
    if (index_builder_new(&b) < 0)
        return 1;
    if (memory_mb)
        index_builder_set_memory(b, memory_mb << 20);
    if (tmpdir && index_builder_set_tmpdir(b, tmpdir) < 0) {
        fprintf(stderr, "large_strings: cannot make temporary files in %s\n", tmpdir);
        return 1;
    }
    struct rec_sink sink = index_builder_sink(b);
    char street[64], town[64], pc[16], num[16], id[32];
    static char county[COUNTY_MIN + COUNTY_SPAN + 64];
    uint64_t bytes = 0;
    double t0 = now_s();
    for (uint32_t s = 0; s < STREETS; s++) {
        street_name(s, street, sizeof(street));
        town_name(s, town, sizeof(town), pc, sizeof(pc));
        bytes += county_name(s, county) + 1;
        for (uint32_t n = 1; n <= NUMBERS; n++) {
            snprintf(num, sizeof(num), "%u", n);
            source_id(s, n, id, sizeof(id));
            struct record r = {.kind = REC_ADDRESS,
                               .lat = addr_lat(s, n),
                               .lon = addr_lon(s, n),
                               .number = num,
                               .street = street,
                               .postcode = pc,
                               .city = town,
                               .county = county,
                               .country = "DE",
                               .source_id = id};
            int rc = sink.emit(sink.ctx, &r);
            if (rc < 0) {
                fprintf(stderr, "large_strings: %s\n",
                        index_builder_error(b) ? index_builder_error(b) : gb_strerror(rc));
                index_builder_free(b);
                return 1;
            }
        }
    }
    double t1 = now_s();
    char err[512] = "";
    int rc = index_builder_write(b, path, err, sizeof(err));
    index_builder_free(b);
    if (rc < 0) {
        fprintf(stderr, "large_strings: %s\n", err);
        return 1;
    }
    printf("built %s: %u addresses, %llu bytes of counties, collect %.1f s, write %.1f s\n", path,
           STREETS * NUMBERS, (unsigned long long)bytes, t1 - t0, now_s() - t1);
    return 0;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "large_strings: FAIL: " __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                                                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Forward and reverse geocoding of number n of street s. */
static int geocode_one(struct index *ix, struct gc_result *res, uint32_t s, uint32_t n)
{
    char street[64], town[64], pc[16], q[256], id[32];
    static char county[COUNTY_MIN + COUNTY_SPAN + 64];
    street_name(s, street, sizeof(street));
    town_name(s, town, sizeof(town), pc, sizeof(pc));
    source_id(s, n, id, sizeof(id));
    county_name(s, county);
    char want_lid[16];
    snprintf(want_lid, sizeof(want_lid), "%08x", hash_fnv1a(id, strlen(id)));
    snprintf(q, sizeof(q), "%s %u, %s %s", street, n, pc, town);
    struct gc_query gq = {.search_text = q, .max_results = 1};
    CHECK(geocode_forward(ix, &gq, res) == 0 && res->n == 1, "no answer to '%s'", q);
    const struct gc_candidate *c = &res->c[0];
    char num[16];
    snprintf(num, sizeof(num), "%u", n);
    CHECK(c->level == GL_HOUSENUMBER && strcmp(c->house_number, num) == 0 &&
              strcmp(c->street, street) == 0 && strcmp(c->postcode, pc) == 0 &&
              strcmp(c->city, town) == 0 && c->county && strcmp(c->county, county) == 0,
          "'%s' answered %s %s, %s %s, county %.20s", q, c->street, c->house_number, c->postcode,
          c->city, c->county ? c->county : "(none)");
    CHECK(c->lat > addr_lat(s, n) - 1e-6 && c->lat < addr_lat(s, n) + 1e-6 &&
              c->lon > addr_lon(s, n) - 1e-6 && c->lon < addr_lon(s, n) + 1e-6,
          "'%s' answered %.7f,%.7f", q, c->lat, c->lon);
    CHECK(strlen(c->location_id) == 17 && strcmp(c->location_id + 9, want_lid) == 0,
          "'%s': location id %s, want the source id's hash %s", q, c->location_id, want_lid);
    CHECK(geocode_reverse(ix, addr_lat(s, n), addr_lon(s, n), 5, 1, res) == 0 && res->n == 1,
          "no reverse answer at %u/%u", s, n);
    c = &res->c[0];
    CHECK(strcmp(c->house_number, num) == 0 && strcmp(c->street, street) == 0 &&
              strcmp(c->location_id + 9, want_lid) == 0,
          "reverse at %u/%u answered %s %s %s", s, n, c->street, c->house_number, c->location_id);
    return 0;
}

static int verify(const char *path)
{
    char err[512] = "";
    struct index *ix = NULL;
    double t0 = now_s();
    if (index_open(&ix, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "large_strings: %s\n", err);
        return 1;
    }
    double t1 = now_s();
    const struct index_view *v = index_view(ix);
    printf("opened %s in %.1f s (every checksum): %zu addresses, strings %zu bytes in units of %u "
           "bytes\n",
           path, t1 - t0, v->n_addrs, v->strings_len, 1u << v->str_shift);
    CHECK(v->strings_len > (4ull << 30), "the string section (%zu bytes) is not past 4 GiB",
          v->strings_len);
    CHECK(v->str_shift >= 1, "string unit %u: 1-byte units cannot address it", 1u << v->str_shift);
    CHECK(v->n_addrs == (size_t)STREETS * NUMBERS, "%zu addresses", v->n_addrs);
    CHECK(v->n_streets == STREETS, "%zu streets", v->n_streets);
    /* every county: its street's own, every byte; every address: its street's number */
    static char want[COUNTY_MIN + COUNTY_SPAN + 64];
    size_t past = 0;
    for (size_t i = 0; i < v->n_streets; i++) {
        const struct ix_street *st = &v->streets[i];
        const char *county = ix_str(v, st->county);
        unsigned s;
        CHECK(sscanf(county, "C%u-", &s) == 1 && s < STREETS, "street %zu: county '%.40s'", i,
              county);
        county_name(s, want);
        CHECK(strcmp(county, want) == 0, "street %zu: county %u differs", i, s);
        char street[64];
        street_name(s, street, sizeof(street));
        CHECK(strcmp(ix_str(v, st->name), street) == 0, "street %zu: %s, its county says %s", i,
              ix_str(v, st->name), street);
        CHECK(st->addr_count == NUMBERS, "street %zu: %u addresses", i, st->addr_count);
        for (uint32_t k = 0; k < NUMBERS; k++) {
            const struct ix_addr *a = &v->addrs[st->addr_first + k];
            char id[32];
            source_id(s, k + 1, id, sizeof(id));
            CHECK(a->number == (int32_t)k + 1 && a->street == i &&
                      a->id == hash_fnv1a(id, strlen(id)),
                  "street %zu, address %u: number %d, id %08x", i, k, a->number, a->id);
        }
        past += ((uint64_t)st->county << v->str_shift) >= (4ull << 30);
    }
    double t2 = now_s();
    CHECK(past > 1000, "only %zu counties past 4 GiB", past);
    printf("read every county in %.1f s: %zu of them start past byte 2^32\n", t2 - t1, past);
    struct gc_result *res = calloc(1, sizeof(*res));
    CHECK(res != NULL, "out of memory");
    size_t done = 0;
    uint64_t seed = 12345;
    for (uint32_t k = 0; k < 2000; k++) {
        uint32_t s, n;
        if (k < 40) { /* the first and the last streets: both ends of the section */
            s = k < 20 ? k : STREETS - 40 + k;
            n = 1 + (k * 37) % NUMBERS;
        } else {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            s = (uint32_t)((seed >> 33) % STREETS);
            n = 1 + (uint32_t)((seed >> 17) % NUMBERS);
        }
        if (geocode_one(ix, res, s, n))
            return 1;
        done++;
    }
    free(res);
    index_close(ix);
    printf("geocoded %zu addresses forward and reverse in %.1f s: every answer right, every "
           "location id from its source id, every county its street's\n",
           done, now_s() - t2);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "query") == 0) {
        char street[64], town[64], pc[16], id[32];
        street_name(STREETS - 1, street, sizeof(street));
        town_name(STREETS - 1, town, sizeof(town), pc, sizeof(pc));
        source_id(STREETS - 1, 77, id, sizeof(id));
        printf("%s 77, %s %s\t%08x\n", street, pc, town, hash_fnv1a(id, strlen(id)));
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "build") != 0 && strcmp(argv[1], "verify") != 0)) {
        fprintf(stderr, "usage: large_strings build INDEX [MEMORY_MB [TMPDIR]]\n"
                        "       large_strings verify INDEX\n"
                        "       large_strings query\n");
        return 2;
    }
    log_set_level(LOG_INFO);
    if (norm_init(NULL) < 0) {
        fprintf(stderr, "large_strings: cannot load the normaliser\n");
        return 1;
    }
    if (strcmp(argv[1], "build") == 0)
        return build(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 0,
                     argc > 4 ? argv[4] : NULL);
    return verify(argv[2]);
}
