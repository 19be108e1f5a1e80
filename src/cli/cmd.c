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

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * The directory of the normaliser's lists: $GB_DICT_DIR (norm_init reads it), else
 * BINDIR/../share/geobatch/dict when it exists (an installed binary: `make install`), else the
 * source tree's data/dict (the binary run where it was built, norm_init's default).
 */
static const char *dict_dir(char *buf, size_t cap)
{
    const char *env = getenv("GB_DICT_DIR");
    if (env && *env)
        return NULL;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    struct stat st;
    if ((size_t)snprintf(buf, cap, "%s/../share/geobatch/dict", exe) >= cap || stat(buf, &st) < 0 ||
        !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

int cmd_norm_init(const char *cmd)
{
    char dir[4200];
    int rc = norm_init(dict_dir(dir, sizeof(dir)));
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
    if (v->set)
        for (size_t i = 0; i < gc_set_count(v->set); i++)
            index_warm(gc_set_index(v->set, i));
    else
        index_warm(v->ix);
    v->rc = v->set ? gc_set_verify_checksums(v->set, v->err, sizeof(v->err))
                   : index_verify_checksums(v->ix, v->err, sizeof(v->err));
    if (v->rc < 0 && v->on_fail)
        v->on_fail(v);
    if (v->rc == 0 && v->on_ok)
        v->on_ok(v);
    return NULL;
}

/* Check ix (or the members of set) on a thread of its own; on this one when none starts. */
static void verify_launch(struct cmd_verify *v, const struct index *ix, const struct gc_set *set,
                          void (*on_fail)(struct cmd_verify *v),
                          void (*on_ok)(struct cmd_verify *v))
{
    memset(v, 0, sizeof(*v));
    v->ix = ix;
    v->set = set;
    v->on_fail = on_fail;
    v->on_ok = on_ok;
    if (pthread_create(&v->tid, NULL, verify_run, v) == 0)
        v->started = 1;
    else
        verify_run(v); /* no thread: check now */
}

void cmd_verify_start(struct cmd_verify *v, const struct index *ix,
                      void (*on_fail)(struct cmd_verify *v), void (*on_ok)(struct cmd_verify *v))
{
    verify_launch(v, ix, NULL, on_fail, on_ok);
}

void cmd_verify_start_set(struct cmd_verify *v, const struct gc_set *set,
                          void (*on_fail)(struct cmd_verify *v),
                          void (*on_ok)(struct cmd_verify *v))
{
    if (gc_set_count(set) == 1)
        verify_launch(v, gc_set_index(set, 0), NULL, on_fail, on_ok);
    else
        verify_launch(v, NULL, set, on_fail, on_ok);
}

int cmd_index_pages(const struct gc_set *set, size_t *resident, size_t *huge, size_t *recached)
{
    *resident = *huge = *recached = 0;
    for (size_t i = 0; i < gc_set_count(set); i++) {
        size_t r, h;
        int rc = index_pages(gc_set_index(set, i), &r, &h);
        if (rc < 0)
            return rc;
        *resident += r;
        *huge += h;
        *recached += index_recached(gc_set_index(set, i));
    }
    return 0;
}

enum { SAID_CHECKED = 1, SAID_READY = 2 };

/* Log the pages line: by whichever of the check and the start comes second. */
static void log_pages(struct cmd_verify *v)
{
    size_t resident, huge, recached = 0;
    if ((v->set ? cmd_index_pages(v->set, &resident, &huge, &recached)
                : index_pages(v->ix, &resident, &huge)) < 0)
        return;
    if (!v->set)
        recached = index_recached(v->ix);
    double pct = resident ? 100.0 * (double)huge / (double)resident : 0.0;
    log_info("index checked resident_mb=%.1f 2mib_pages_pct=%.0f recached=%zu",
             (double)resident / 1048576, pct, recached);
    if (resident >= INDEX_RECACHE_MIN && pct < 50)
        log_warn("index mostly in 4 KiB pages 2mib_pages_pct=%.0f: queries are up to a fifth "
                 "slower; another process may hold its pages (stop every process that has the "
                 "index open, then start this one again), or the kernel gives the file no 2 MiB "
                 "pages (transparent huge pages, the file system: docs/scale.md)",
                 pct);
}

void cmd_verify_log_pages(struct cmd_verify *v)
{
    if (v->set)
        gc_set_warm(v->set);
    if (atomic_fetch_or(&v->said, SAID_CHECKED) & SAID_READY)
        log_pages(v);
}

void cmd_verify_ready(struct cmd_verify *v)
{
    if (atomic_fetch_or(&v->said, SAID_READY) & SAID_CHECKED)
        log_pages(v);
}

void cmd_index_identity(const struct gc_set *set, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < gc_set_count(set); i++) {
        char one[32];
        index_identity(gc_set_index(set, i), one, sizeof(one));
        int w = snprintf(out + n, cap - n, "%s%s", i ? "+" : "", one);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
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

/* A size: a number of bytes with an optional K, M, G or T (powers of 1024; "512M", "2G",
 * "1.5G", "2GiB"). Return 0 and set *out, or -1. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 1e18)
        return -1;
    double mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1024.0 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1024.0 * 1024 * 1024;
        end++;
        break;
    case 't':
    case 'T':
        mul = 1024.0 * 1024 * 1024 * 1024;
        end++;
        break;
    }
    if (mul > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
        end += strlen(end);
    if (*end || v * mul > 1e18)
        return -1;
    *out = (uint64_t)(v * mul);
    return 0;
}

void cmd_dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static void tmp_dir(const char *tmp, const char *output, char *out, size_t cap)
{
    if (tmp)
        snprintf(out, cap, "%s", tmp);
    else
        cmd_dir_of(output, out, cap);
}

#define MIN_MEMORY (1u << 20)

int cmd_builder_new(const char *cmd, const char *output, const char *memory, const char *tmp,
                    struct index_builder **out, struct cmd_build *got)
{
    uint64_t budget;
    if (parse_size(memory, &budget) < 0 || budget < MIN_MEMORY) {
        fprintf(stderr,
                "geobatch %s: --memory '%s': want a size of 1M or more, such as 512M or 2G\n", cmd,
                memory);
        return CMD_USAGE;
    }
    char tmpdir[sizeof(got->tmpdir)];
    tmp_dir(tmp, output, tmpdir, sizeof(tmpdir));
    struct index_builder *b = NULL;
    int rc = index_builder_new(&b);
    if (rc < 0) {
        fprintf(stderr, "geobatch %s: %s\n", cmd, gb_strerror(rc));
        return CMD_FAIL;
    }
    index_builder_set_memory(b, budget);
    rc = index_builder_set_tmpdir(b, tmpdir);
    if (rc < 0) {
        fprintf(stderr, "geobatch %s: cannot make temporary files in %s: %s%s\n", cmd, tmpdir,
                gb_strerror(rc), tmp ? "" : " (choose a directory with --tmp)");
        index_builder_free(b);
        return CMD_FAIL;
    }
    *out = b;
    if (got) {
        got->memory = budget;
        memcpy(got->tmpdir, tmpdir, sizeof(tmpdir));
    }
    return -1;
}
