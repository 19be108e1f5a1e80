/*
 * cmd.c - what the subcommands share: option parsing with the exit-status convention,
 * and `geobatch version`.
 */
#include "cli/cmd.h"
#include "build_info.h"
#include "base/conf.h"
#include "base/err.h"
#include "base/log.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "text/norm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cmd_parse(const struct conf_spec *spec, int argc, char **argv, char **pos, int maxpos,
              int *npos)
{
    /* "-o FILE" is the documented short form of a command's option "o": "--o" to the parser */
    bool has_o = false;
    for (const struct conf_opt *o = spec->opts; o->name; o++)
        has_o |= strcmp(o->name, "o") == 0;
    for (int i = 1; has_o && i < argc; i++)
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = "--o";
    char err[512] = "";
    int rc = conf_parse(spec, argc, argv, pos, maxpos, npos, err, sizeof(err));
    if (rc == CONF_HELP)
        return CMD_OK;
    if (rc < 0) {
        fprintf(stderr, "geobatch %s: %s\n", argv[0], err);
        return CMD_USAGE;
    }
    return -1;
}

int cmd_log_level(const char *cmd, const char *level)
{
    enum log_level lvl;
    if (log_level_parse(level, &lvl) < 0) {
        fprintf(stderr, "geobatch %s: unknown log level '%s'\n", cmd, level);
        return CMD_USAGE;
    }
    log_set_level(lvl);
    return -1;
}

int cmd_norm_init(const char *cmd)
{
    int rc = norm_init(NULL);
    if (rc < 0) {
        fprintf(stderr, "geobatch %s: cannot load the normaliser's lists: %s\n", cmd,
                gb_strerror(rc));
        return CMD_FAIL;
    }
    return -1;
}

static void *verify_run(void *arg)
{
    struct cmd_verify *v = arg;
    v->rc = v->set ? gc_set_verify_checksums(v->set, v->err, sizeof(v->err))
                   : index_verify_checksums(v->ix, v->err, sizeof(v->err));
    if (v->rc < 0 && v->on_fail)
        v->on_fail(v);
    return NULL;
}

void cmd_verify_start(struct cmd_verify *v, const struct index *ix,
                      void (*on_fail)(struct cmd_verify *v))
{
    memset(v, 0, sizeof(*v));
    v->ix = ix;
    v->on_fail = on_fail;
    if (pthread_create(&v->tid, NULL, verify_run, v) == 0) {
        v->started = 1;
    } else {
        verify_run(v); /* no thread: check now */
    }
}

void cmd_verify_start_set(struct cmd_verify *v, const struct gc_set *set,
                          void (*on_fail)(struct cmd_verify *v))
{
    if (gc_set_count(set) == 1) {
        cmd_verify_start(v, gc_set_index(set, 0), on_fail);
        return;
    }
    memset(v, 0, sizeof(*v));
    v->set = set;
    v->on_fail = on_fail;
    if (pthread_create(&v->tid, NULL, verify_run, v) == 0)
        v->started = 1;
    else
        verify_run(v);
}

int cmd_verify_join(struct cmd_verify *v, const char *cmd)
{
    if (v->started) {
        pthread_join(v->tid, NULL);
        v->started = 0;
    }
    if (v->rc < 0) {
        fprintf(stderr, "geobatch %s: %s\n", cmd, v->err);
        return CMD_FAIL;
    }
    return -1;
}

int cmd_version(int argc, char **argv)
{
    static const struct conf_opt opts[] = {{NULL}};
    static const struct conf_spec spec = {
        .usage = "geobatch version",
        .summary = "Print the version, the build's git commit and the index format version.",
        .opts = opts,
    };
    char *pos[1];
    int npos = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 0, &npos);
    if (rc >= 0)
        return rc;
    printf("geobatch %s\ncommit %s\nindex format %d\nnormaliser %d\n", GB_VERSION, GB_GIT_COMMIT,
           INDEX_FORMAT_VERSION, NORM_VERSION);
    return CMD_OK;
}
