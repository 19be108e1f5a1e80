/*
 * cmd_import.c - `geobatch import -o INDEX FILE...`: every input through its importer into
 * one index builder, then one index file (written to a temporary name and renamed, so an
 * interrupted import leaves no index behind and never damages an existing one). --memory bounds
 * the builder (records past it are sorted in runs in temporary files under --tmp and merged:
 * the same index byte for byte); the temporary files are anonymous, so none is ever left.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
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

/* The directory of path ("." when it has none) into out[cap]. */
static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/*
 * Everything that can be known before the first record is read: the index can be written
 * where it goes (its directory exists and is writable, it is not itself a directory), and
 * every input is a readable file of a known format (detected now from its first bytes, unless
 * forced), so that a typo in the last file does not cost the import of the first ones. Print
 * why not and return CMD_FAIL, else fill fmts[0..n-1] and return -1 (continue).
 */
static int check_args(const char *output, char **inputs, int n, enum import_format forced,
                      enum import_format *fmts)
{
    char dir[4200];
    struct stat st;
    dir_of(output, dir, sizeof(dir));
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
    return -1;
}

int cmd_import(int argc, char **argv)
{
    const char *output = NULL, *format = NULL, *log_level = "info";
    long threads = 0;
    const char *memory = "2G", *tmp = NULL;
    const struct conf_opt opts[] = {
        {"output", CONF_STR, &output, "INDEX", "the index file to write (required)", 0, 0},
        {"o", CONF_STR, &output, "INDEX", "same as --output", 0, 0},
        {"format", CONF_STR, &format, "NAME",
         "read every input as this format instead of detecting it: osm-pbf, osm-xml, oa-csv, "
         "tiger, geonames-json, geonames-tsv, geonames-postal, postcodes-json",
         0, 0},
        {"threads", CONF_LONG, &threads, "N",
         "threads decoding .osm.pbf blocks (default: all cores; the index is the same for any N)",
         1, 64},
        {"memory", CONF_STR, &memory, "SIZE",
         "the memory the builder may use (default 2G; K, M, G or T): past it records are sorted "
         "in temporary files and merged, giving the same index",
         0, 0},
        {"tmp", CONF_STR, &tmp, "DIR",
         "where the temporary files go (default: the directory of the index); none is left "
         "behind",
         0, 0},
        {"log-level", CONF_STR, &log_level, "LEVEL", "debug, info, warn or error", 0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch import -o INDEX FILE...",
        .summary = "Read open data files (OpenStreetMap .osm.pbf/.osm/.osm.gz/.osm.bz2, "
                   "OpenAddresses CSV, TIGER ranges,\nGeoNames, postcode centroids; the format is "
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
    if ((rc = check_args(output, inputs, n, forced, fmts)) >= 0)
        return rc;
    if ((rc = cmd_norm_init("import")) >= 0)
        return rc;
    const struct import_osm_opts osm_opts = {.threads = (unsigned)threads};
    import_osm_configure(&osm_opts);
    struct index_builder *b = NULL;
    if ((rc = cmd_builder_new("import", output, memory, tmp, &b)) >= 0)
        return rc;
    int status = CMD_OK;
    struct rec_sink sink = index_builder_sink(b);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        const char *path = inputs[i];
        enum import_format fmt = fmts[i];
        char err[512] = "";
        rc = index_builder_add_source(b, path, (int)fmt);
        if (rc < 0) {
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
            fprintf(stderr, "geobatch import: %s: %s\n", path, index_builder_error(b));
            status = CMD_FAIL;
            goto out;
        }
        if (rc < 0) {
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
        if (st.skipped) {
            /* text formats report line numbers; OSM objects have none (0) */
            char lines[128] = "";
            size_t len = 0;
            for (size_t k = 0; k < st.skipped && k < IMPORT_SKIP_LINES && st.skip_lines[k]; k++)
                len += (size_t)snprintf(lines + len, sizeof(lines) - len, "%s%zu",
                                        k ? "," : " (first at lines ", st.skip_lines[k]);
            if (len)
                snprintf(lines + len, sizeof(lines) - len, ")");
            fprintf(stderr, "geobatch import: %s: skipped %zu broken records%s: %s\n", path,
                    st.skipped, lines, st.first_reason);
        }
    }
    char err[512] = "";
    rc = index_builder_write(b, output, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch import: %s\n", err);
        status = CMD_FAIL;
        goto out;
    }
    log_info("import done output=%s seconds=%.2f memory=%s", output, now_s() - t0, memory);
out:
    index_builder_free(b);
    return status;
}
