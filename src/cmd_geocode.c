/*
 * cmd_geocode.c - `geobatch geocode`.
 */
#include "cmd.h"
#include "conf.h"

#include <stdio.h>

int cmd_geocode(int argc, char **argv)
{
    static const struct conf_opt opts[] = {{NULL}};
    static const struct conf_spec spec = {
        .usage = "geobatch geocode ...",
        .summary = "Not implemented yet.",
        .opts = opts,
    };
    char *pos[64];
    int npos = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 64, &npos);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "geobatch geocode: not implemented yet\n");
    return CMD_USAGE;
}
