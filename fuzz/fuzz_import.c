/*
 * fuzz_import.c - libFuzzer target for the importers' record parsing (import.h).
 *
 * Each input is written to a temp file and imported with every format (and once with
 * FMT_UNKNOWN, which runs detection, gzip/bzip2 sniffing included) into a sink that only reads
 * every field of every record, so that ASan sees any dangling or unterminated string and any
 * short geometry. The file has hard links called in.osm and in.pbf so that the OSM importer
 * reads it directly (XML through readosm, PBF through osm_pbf.c), and small valid admin-name files
 * (admin1.json, admin2.json, admin1CodesASCII.txt) lie beside it so that the GeoNames importers
 * reach their lookups. A PBF is imported twice: with the ways' nodes looked up and with them
 * joined (its spools at their smallest), which must give as many records and skips.
 */
#include "import/import.h"
#include "import/import_osm.h"
#include "base/log.h"
#include "record/record.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_INPUT (256u << 10)

/*
 * readosm 1.1.0 does not free its expat parser when an XML file has a syntax error, nor the
 * strings of the element it was building (the leaked blocks are allocated by libexpat or by
 * readosm itself, never by our code): not ours to fix, so LeakSanitizer is told to ignore those
 * two libraries here; every other leak still fails the run.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libexpat.so\nleak:libreadosm.so\n";
}

static char dir[64];
static char p_input[96], p_osm[96], p_pbf[96];

static const struct {
    const char *name;
    const char *text;
} beside[] = {
    {"admin1.json", "[{\"code\":\"LI.11\",\"name\":\"Vaduz\"},{\"code\":\"US.AL\",\"name\":"
                    "\"Alabama\"},{\"code\":\"AD.03\",\"name\":\"Encamp\"}]"},
    {"admin2.json", "[{\"code\":\"US.AL.001\",\"name\":\"Autauga County\"}]"},
    {"admin1CodesASCII.txt", "LI.11\tVaduz\tVaduz\t3042030\nUS.AL\tAlabama\tAlabama\t4829764\n"},
    {"admin2Codes.txt", "US.AL.001\tAutauga County\tAutauga County\t4830198\n"},
};

static const enum import_format formats[] = {
    FMT_OA_CSV,          FMT_TIGER,          FMT_GEONAMES_JSON,     FMT_GEONAMES_TSV,
    FMT_GEONAMES_POSTAL, FMT_POSTCODES_JSON, FMT_GEOJSON_COUNTRIES, FMT_GEOJSON_RANGES,
    FMT_OSM_XML,         FMT_OSM_PBF,        FMT_UNKNOWN,
};

static volatile size_t sink_bytes; /* keeps the reads below from being optimised away */

static void touch(const char *s)
{
    if (s)
        sink_bytes += strlen(s);
}

static int emit(void *ctx, const struct record *r)
{
    (void)ctx;
    touch(r->number);
    touch(r->street);
    touch(r->unit);
    touch(r->postcode);
    touch(r->city);
    touch(r->district);
    touch(r->county);
    touch(r->state);
    touch(r->country);
    touch(r->name);
    touch(r->source_id);
    for (size_t i = 0; i < r->n_alt; i++)
        touch(r->alt_names[i]);
    double sum = 0;
    for (size_t i = 0; i < r->n_geom; i++)
        sum += r->geom[i].lat + r->geom[i].lon;
    sink_bytes += (size_t)(sum != sum);
    return 0;
}

static void cleanup(void)
{
    char p[128];
    for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, beside[i].name);
        unlink(p);
    }
    unlink(p_osm);
    unlink(p_pbf);
    unlink(p_input);
    rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, (const char *)data + done, n - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gbfuzzimp.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, beside[i].name);
        write_file(p, beside[i].text, strlen(beside[i].text));
    }
    snprintf(p_input, sizeof(p_input), "%s/input", dir);
    snprintf(p_osm, sizeof(p_osm), "%s/in.osm", dir);
    snprintf(p_pbf, sizeof(p_pbf), "%s/in.pbf", dir);
    write_file(p_input, "", 0);
    if (link(p_input, p_osm) != 0 || link(p_input, p_pbf) != 0)
        abort();
    atexit(cleanup);
    const struct import_osm_opts dflt = {.join = OSM_JOIN_NEVER};
    import_osm_configure(&dflt);
    return 0;
}

/* The PBF at path imports with its ways' points joined as it did with them looked up (st). */
static bool same_joined(const char *path, const struct import_stats *st)
{
    const struct import_osm_opts join = {.join = OSM_JOIN_ALWAYS, .memory = 1};
    import_osm_configure(&join);
    struct rec_sink sink = {emit, NULL};
    struct import_stats js;
    char err[256];
    int rc = import_file(path, FMT_OSM_PBF, &sink, &js, err, sizeof(err));
    const struct import_osm_opts dflt = {.join = OSM_JOIN_NEVER};
    import_osm_configure(&dflt);
    return rc == 0 && js.records == st->records && js.skipped == st->skipped;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    /* O_TRUNC keeps the inode, so the hard links see the new content. */
    write_file(p_input, data, size);
    struct rec_sink sink = {emit, NULL};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        enum import_format f = formats[i];
        const char *path = f == FMT_OSM_XML ? p_osm : f == FMT_OSM_PBF ? p_pbf : p_input;
        struct import_stats st;
        char err[256];
        err[0] = '\0';
        int rc = import_file(path, f, &sink, &st, err, sizeof(err));
        if (rc < 0 && !memchr(err, '\0', sizeof(err)))
            __builtin_trap();
        if (st.skipped > 0 && !memchr(st.first_reason, '\0', sizeof(st.first_reason)))
            __builtin_trap();
        if (f == FMT_OSM_PBF && rc == 0 && !same_joined(path, &st))
            __builtin_trap();
    }
    return 0;
}
