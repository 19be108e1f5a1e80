/*
 * cmd_store.c - `geobatch store migrate --store URL`: create the schema of a job store, or
 * bring it up to the version this geobatch reads (store_migrate). Run once before the first
 * `serve` or `work` on a new PostgreSQL store, and after an upgrade; running it again is
 * harmless, and concurrent runs wait for each other.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

int cmd_store(int argc, char **argv)
{
    const char *url = NULL;
    const struct conf_opt opts[] = {
        {"store", CONF_STR, &url, "URL",
         "the job store: postgresql://USER@HOST:PORT/DB or sqlite:DIR (required)", 0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch store migrate --store URL",
        .summary = "Create the job store's schema, or migrate it to this geobatch's version "
                   "(docs/scale-out.md).\nA PostgreSQL store must be migrated before serve or "
                   "work use it.",
        .opts = opts,
    };
    char *pos[1];
    int npos = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 1, &npos);
    if (rc >= 0)
        return rc;
    if (npos != 1 || strcmp(pos[0], "migrate") != 0 || !url) {
        fprintf(stderr, "geobatch store: usage: %s\n", spec.usage);
        return CMD_USAGE;
    }
    char err[1024] = "";
    rc = store_migrate(url, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch store: %s\n", err[0] ? err : gb_strerror(rc));
        return rc == GB_EUSAGE ? CMD_USAGE : CMD_FAIL;
    }
    printf("store %s: schema up to date\n", strncmp(url, "sqlite:", 7) == 0 ? url : "postgresql");
    return CMD_OK;
}
