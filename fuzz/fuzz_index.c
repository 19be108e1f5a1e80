/*
 * fuzz_index.c - libFuzzer target for index_open() on corrupted index files, and for the
 * geocoder reading whatever index_open() accepts.
 *
 * index.c promises that every reference in the file is checked at open, so that the geocoder
 * may follow references without checking them again: a corrupt file is refused, never a crash.
 * At start-up a small valid index is built from a few hand-made records (addresses, streets,
 * an interpolation range, places, a postcode, admin areas) into a temp file and read into
 * memory. Each input then makes a file from it:
 *   byte 0 (mode) bit 0-1 = 0: the rest of the input is the whole file;
 *   otherwise the rest is patches of 7 bytes (3-byte offset modulo the size, 4-byte value)
 *   written into a copy of the valid index, as one byte (mode bit 2 clear) or as a
 *   little-endian u32 (bit 2 set); bit 3 cuts the file at the offset of the first patch;
 *   bit 4 sets the header's file_size to the real size; bit 5 recomputes every section's CRC and
 *   the header CRC, so that the structural and reference checks behind them are reached.
 * When the file opens, forward and reverse queries run on it and it is described to /dev/null.
 */
#include "geocode/geocode.h"
#include "index/index.h"
#include "index/index_format.h"
#include "base/log.h"
#include "text/norm.h"
#include "record/record.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_FILE (1u << 20)

static char dir[64];
static char good_path[96];
static char fuzz_path[96];
static unsigned char *good;
static size_t good_len;
static unsigned char *work;

static const struct rec_point street_line[] = {
    {47.1390, 9.5210}, {47.1400, 9.5215}, {47.1410, 9.5222}};
static const struct rec_point interp_line[] = {{32.4610, -86.4750}, {32.4630, -86.4740}};
static const struct rec_point ring_li[] = {
    {47.04, 9.47}, {47.27, 9.47}, {47.27, 9.64}, {47.04, 9.64}, {47.04, 9.47}};
static const struct rec_point ring_vaduz[] = {
    {47.12, 9.50}, {47.16, 9.50}, {47.16, 9.55}, {47.12, 9.55}, {47.12, 9.50}};
static const char *const alt_vaduz[] = {"Vaduz Hauptort", "Faduz"};

static const struct record records[] = {
    {.kind = REC_ADMIN,
     .lat = 47.14,
     .lon = 9.55,
     .name = "Liechtenstein",
     .country = "LI",
     .rank = RANK_COUNTRY,
     .geom = ring_li,
     .n_geom = 5,
     .source_id = "r1155955"},
    {.kind = REC_ADMIN,
     .lat = 47.14,
     .lon = 9.52,
     .name = "Vaduz",
     .country = "LI",
     .rank = RANK_CITY,
     .geom = ring_vaduz,
     .n_geom = 5,
     .source_id = "r1155956"},
    {.kind = REC_PLACE,
     .lat = 47.1410,
     .lon = 9.5209,
     .name = "Vaduz",
     .alt_names = alt_vaduz,
     .n_alt = 2,
     .country = "LI",
     .rank = RANK_CITY,
     .source_id = "n1"},
    {.kind = REC_PLACE,
     .lat = 47.1650,
     .lon = 9.5100,
     .name = "Schaan",
     .country = "LI",
     .rank = RANK_CITY,
     .source_id = "n2"},
    {.kind = REC_PLACE,
     .lat = 47.1500,
     .lon = 9.5150,
     .name = "Ebenholz",
     .country = "LI",
     .rank = RANK_DISTRICT,
     .source_id = "n3"},
    {.kind = REC_POSTCODE, .lat = 47.1410, .lon = 9.5209, .name = "9490", .country = "LI"},
    {.kind = REC_STREET,
     .lat = 47.1400,
     .lon = 9.5215,
     .name = "Städtle",
     .city = "Vaduz",
     .country = "LI",
     .geom = street_line,
     .n_geom = 3,
     .source_id = "w10"},
    {.kind = REC_ADDRESS,
     .lat = 47.1391,
     .lon = 9.5211,
     .number = "1",
     .street = "Städtle",
     .postcode = "9490",
     .city = "Vaduz",
     .country = "LI",
     .source_id = "n11"},
    {.kind = REC_ADDRESS,
     .lat = 47.1395,
     .lon = 9.5212,
     .number = "3a",
     .street = "Städtle",
     .postcode = "9490",
     .city = "Vaduz",
     .country = "LI",
     .source_id = "n12"},
    {.kind = REC_ADDRESS,
     .lat = 47.1402,
     .lon = 9.5216,
     .number = "12/3",
     .street = "Städtle",
     .unit = "Top 2",
     .postcode = "9490",
     .city = "Vaduz",
     .country = "LI",
     .source_id = "n13"},
    {.kind = REC_ADDRESS,
     .lat = 47.1450,
     .lon = 9.5230,
     .number = "5",
     .street = "Aeulestrasse",
     .postcode = "9490",
     .city = "Vaduz",
     .district = "Ebenholz",
     .country = "LI",
     .source_id = "n14"},
    {.kind = REC_ADDRESS,
     .lat = 47.1660,
     .lon = 9.5110,
     .number = "10",
     .street = "Landstr.",
     .postcode = "9494",
     .city = "Schaan",
     .country = "LI",
     .source_id = "n15"},
    {.kind = REC_ADDRESS,
     .lat = 50.1030,
     .lon = 14.4900,
     .number = "1075/47",
     .street = "Sokolovská",
     .postcode = "19000",
     .city = "Praha",
     .district = "Libeň",
     .country = "CZ",
     .source_id = "n16"},
    {.kind = REC_INTERP,
     .lat = 32.4620,
     .lon = -86.4745,
     .street = "Main St",
     .city = "Prattville",
     .state = "AL",
     .county = "Autauga",
     .postcode = "36067",
     .country = "US",
     .geom = interp_line,
     .n_geom = 2,
     .from = 100,
     .to = 198,
     .parity = PARITY_EVEN,
     .source_id = "t1"},
};

static const struct gc_query queries[] = {
    {.search_text = "Städtle 3a, 9490 Vaduz", .max_results = 5},
    {.search_text = "Stadtle 12/3 Vadz Liechtenstein", .max_results = 16},
    {.search_text = "150 Main St, Prattville, AL 36067", .country_focus = "US", .max_results = 3},
    {.search_text = "Sokolovska 47 Praha", .max_results = 2},
    {.search_text = "9490", .max_results = 1},
    {.search_text = "Liechtenstein", .max_results = 4},
    {.street = "Aeulestrasse",
     .house_number = "5",
     .city = "Vaduz",
     .country = "LIE",
     .max_results = 5},
    {.street = "Landstrasse", .house_number = "10", .postcode = "9494", .max_results = 2},
    {.city = "Schaan", .country = "LI", .max_results = 3},
    {.district = "Ebenholz", .county = "Autauga", .state = "AL", .max_results = 3},
};

static const double reverse_points[][2] = {
    {47.1395, 9.5212}, {32.4620, -86.4745}, {50.1030, 14.4900}, {47.2, 9.6}, {0, 0}};

static void cleanup(void)
{
    unlink(fuzz_path);
    unlink(good_path);
    rmdir(dir);
}

static int build_index(void)
{
    struct index_builder *b = NULL;
    int rc = index_builder_new(&b);
    if (rc < 0)
        return rc;
    struct rec_sink sink = index_builder_sink(b);
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        rc = sink.emit(sink.ctx, &records[i]);
        if (rc < 0)
            goto out;
    }
    char err[256];
    rc = index_builder_write(b, good_path, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "fuzz_index: cannot build the index: %s\n", err);
out:
    index_builder_free(b);
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    if (norm_init(NULL) != 0)
        abort();
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gbfuzzix.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(good_path, sizeof(good_path), "%s/good.gbi", dir);
    snprintf(fuzz_path, sizeof(fuzz_path), "%s/fuzz.gbi", dir);
    if (build_index() < 0)
        abort();
    FILE *fp = fopen(good_path, "rb");
    if (!fp)
        abort();
    good = malloc(MAX_FILE);
    work = malloc(MAX_FILE);
    if (!good || !work)
        abort();
    good_len = fread(good, 1, MAX_FILE, fp);
    fclose(fp);
    unlink(good_path);
    /* The valid index must open, or every input would only test the refusal paths. */
    struct index *ix = NULL;
    char err[256];
    FILE *tfp = fopen(fuzz_path, "wb");
    if (!tfp || fwrite(good, 1, good_len, tfp) != good_len || fclose(tfp) != 0)
        abort();
    if (index_open(&ix, fuzz_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_index: the valid index does not open: %s\n", err);
        abort();
    }
    index_close(ix);
    unlink(fuzz_path);
    atexit(cleanup);
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Make the checksums right again after patching, so the checks behind them are reached. */
static void fix_crcs(unsigned char *f, size_t n)
{
    if (n < sizeof(struct ix_header))
        return;
    struct ix_header h;
    memcpy(&h, f, sizeof(h));
    for (int i = 0; i < IXS__COUNT; i++) {
        struct ix_section *s = &h.sect[i];
        if (s->off <= n && s->len <= n - s->off)
            s->crc = (uint32_t)crc32(0L, f + s->off, (uInt)s->len);
    }
    h.header_crc = 0;
    h.header_crc = (uint32_t)crc32(0L, (const unsigned char *)&h, sizeof(h));
    memcpy(f, &h, sizeof(h));
}

static size_t make_file(const uint8_t *data, size_t size)
{
    uint8_t mode = data[0];
    data++;
    size--;
    if ((mode & 3) == 0) {
        memcpy(work, data, size);
        return size;
    }
    size_t n = good_len;
    memcpy(work, good, n);
    bool first = true;
    for (; size >= 7; data += 7, size -= 7) {
        size_t off = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16) % good_len;
        uint32_t val = (uint32_t)data[3] | (uint32_t)data[4] << 8 | (uint32_t)data[5] << 16 |
                       (uint32_t)data[6] << 24;
        if (first && (mode & 8))
            n = off;
        first = false;
        if (mode & 4) {
            if (off + 4 <= n)
                put_u32(work + off, val);
        } else if (off < n) {
            work[off] = (unsigned char)val;
        }
    }
    if ((mode & 16) && n >= sizeof(struct ix_header)) {
        uint64_t fs = n;
        memcpy(work + offsetof(struct ix_header, file_size), &fs, sizeof(fs));
    }
    if (mode & 32)
        fix_crcs(work, n);
    return n;
}

static void run_queries(const struct index *ix)
{
    static struct gc_result res;
    char label[512];
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        if (geocode_forward(ix, &queries[i], &res) == 0) {
            for (int k = 0; k < res.n; k++)
                gc_label(&res.c[k], label, sizeof(label));
        }
    }
    for (size_t i = 0; i < sizeof(reverse_points) / sizeof(reverse_points[0]); i++) {
        if (geocode_reverse(ix, reverse_points[i][0], reverse_points[i][1], 2000.0, 5, &res) == 0) {
            for (int k = 0; k < res.n; k++)
                gc_label(&res.c[k], label, sizeof(label));
        }
    }
    struct index_counts c;
    index_counts(ix, &c);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        index_describe(ix, null, NULL, true);
        fclose(null);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_FILE)
        return 0;
    size_t n = make_file(data, size);
    int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, work + done, n - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
    struct index *ix = NULL;
    char err[256];
    err[0] = '\0';
    if (index_open(&ix, fuzz_path, err, sizeof(err)) == 0) {
        run_queries(ix);
        index_close(ix);
    } else if (!memchr(err, '\0', sizeof(err))) {
        __builtin_trap();
    }
    return 0;
}
