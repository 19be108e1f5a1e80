/*
 * cmd_merge.c - `geobatch merge -o OUT A.gbx B.gbx ...`: several indexes into one, the index
 * `geobatch import` builds from all their inputs (index_merge, docs/scale.md "Index sets").
 * Countries built apart, on one machine or several, become one file without importing again.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/log.h"
#include "index/index.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_INPUTS 256

int cmd_merge(int argc, char **argv)
{
    const char *output = NULL, *log_level = "info", *memory = "2G", *tmp = NULL;
    const struct conf_opt opts[] = {
        {"output", CONF_STR, &output, "INDEX", "the index file to write (required)", 0, 0},
        {"o", CONF_STR, &output, "INDEX", "same as --output", 0, 0},
        {"memory", CONF_STR, &memory, "SIZE",
         "the memory the builder may use (default 2G; K, M, G or T), as for import", 0, 0},
        {"tmp", CONF_STR, &tmp, "DIR",
         "where the temporary files go (default: the directory of the index)", 0, 0},
        {"log-level", CONF_STR, &log_level, "LEVEL", "debug, info, warn or error", 0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch merge -o INDEX INDEX...",
        .summary = "Merge indexes into one: the index `geobatch import` writes from all their "
                   "inputs in the order\ngiven (byte-identical when no street is in two of them, "
                   "e.g. one index per country).\nEvery input must come from this geobatch's "
                   "index format and normaliser, and no source file\nmay be in two inputs.",
        .opts = opts,
    };
    char *inputs[MAX_INPUTS];
    int n = 0;
    int rc = cmd_parse(&spec, argc, argv, inputs, MAX_INPUTS, &n);
    if (rc >= 0)
        return rc;
    if ((rc = cmd_log_level("merge", log_level)) >= 0)
        return rc;
    if (!output || n == 0) {
        fprintf(stderr, "geobatch merge: need -o INDEX and at least one input index\n");
        return CMD_USAGE;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(inputs[i], output) == 0) {
            fprintf(stderr, "geobatch merge: %s is both an input and the output\n", output);
            return CMD_USAGE;
        }
    if ((rc = cmd_norm_init("merge")) >= 0)
        return rc;
    struct index_builder *b = NULL;
    if ((rc = cmd_builder_new("merge", output, memory, tmp, &b, NULL)) >= 0)
        return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[512] = "";
    rc = index_merge(b, output, (const char *const *)inputs, (size_t)n, err, sizeof(err));
    index_builder_free(b);
    if (rc < 0) {
        fprintf(stderr, "geobatch merge: %s\n", err);
        return CMD_FAIL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_info("merge done output=%s inputs=%d seconds=%.2f", output, n,
             (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return CMD_OK;
}
