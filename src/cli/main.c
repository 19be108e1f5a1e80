/*
 * main.c - the geobatch binary: dispatch to a subcommand.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"import", cmd_import, "read open data files and write one geocoding index"},
    {"geocode", cmd_geocode, "geocode a HERE 6.2 input file against an index"},
    {"serve", cmd_serve, "serve the HERE Batch Geocoder 6.2 job API"},
    {"work", cmd_work, "geocode jobs of a PostgreSQL job store, without HTTP"},
    {"store", cmd_store, "manage a job store: 'store migrate --store URL'"},
    {"merge", cmd_merge, "merge indexes into one, as one import of all their inputs"},
    {"check", cmd_check, "verify an index file and print its counts"},
    {"version", cmd_version, "print the version, git commit and index format version"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: geobatch COMMAND [OPTIONS] [ARGS]\n\n"
                "geobatch is a self-hosted batch geocoder that speaks the HERE Batch Geocoder "
                "6.2 job API.\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(fp, "  %-10s %s\n", c->name, c->help);
    fprintf(fp, "\nRun 'geobatch COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "geobatch: missing command (see geobatch --help)\n");
        return CMD_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CMD_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1);
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "geobatch: unknown command '%s' (see geobatch --help)\n", argv[1]);
    return CMD_USAGE;
}
