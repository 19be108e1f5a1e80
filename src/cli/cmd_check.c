/*
 * cmd_check.c - `geobatch check INDEX`: verify an index (header, every section's bounds and
 * checksum, every stored reference) and print its sources and counts per kind and country.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
#include "import/import.h"
#include "index/index.h"

#include <stdio.h>

/* index_describe's name of a source's format. */
static const char *format_name(int format)
{
    return import_format_name((enum import_format)format);
}

int cmd_check(int argc, char **argv)
{
    static const struct conf_opt opts[] = {{NULL}};
    static const struct conf_spec spec = {
        .usage = "geobatch check INDEX",
        .summary = "Verify the index file and print its sources and its counts per kind "
                   "(addresses, streets,\ninterpolation ranges, places, postcodes, admin areas) "
                   "and per country. Exit 1 when it is\ncorrupt or unreadable.",
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
    index_describe(ix, stdout, format_name);
    index_close(ix);
    return CMD_OK;
}
