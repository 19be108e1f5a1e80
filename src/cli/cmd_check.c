/*
 * cmd_check.c - `geobatch check INDEX`: verify an index (header, every section's bounds and
 * checksum, every stored reference) and print a summary (counts per kind, countries with
 * addresses, sources); --verbose adds one line per country.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
#include "import/import.h"
#include "index/index.h"

#include <stdbool.h>
#include <stdio.h>

/* index_describe's name of a source's format. */
static const char *format_name(int format)
{
    return import_format_name((enum import_format)format);
}

int cmd_check(int argc, char **argv)
{
    bool verbose = false;
    const struct conf_opt opts[] = {
        {"verbose", CONF_BOOL, &verbose, NULL,
         "also one line per country: addresses, streets, places, postcodes", 0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch check [--verbose] INDEX",
        .summary = "Verify the index file (every section's checksum, every reference) and print "
                   "a summary: its\ncounts per kind (addresses, streets, interpolation ranges, "
                   "places, postcodes, admin areas),\nthe number of countries and those with "
                   "addresses (most first), and its sources. Exit 1 when it\nis corrupt or "
                   "unreadable.",
        .opts = opts,
    };
    char *pos[1];
    int n = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 1, &n);
    if (rc >= 0)
        return rc;
    if (n != 1) {
        fprintf(stderr, "geobatch check: need exactly one INDEX file\n");
        return CMD_USAGE;
    }
    struct index *ix = NULL;
    char err[512] = "";
    rc = index_open(&ix, pos[0], err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch check: %s\n", err[0] ? err : gb_strerror(rc));
        return CMD_FAIL;
    }
    printf("index %s ok\n", pos[0]);
    index_describe(ix, stdout, format_name, verbose);
    index_close(ix);
    return CMD_OK;
}
