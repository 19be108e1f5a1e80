/*
 * cmd.h - the subcommands of the geobatch binary. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 failure, 2 usage error (with a one-line message on stderr).
 */
#ifndef GEOBATCH_CMD_H
#define GEOBATCH_CMD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define CMD_OK    0
#define CMD_FAIL  1
#define CMD_USAGE 2

int cmd_import(int argc, char **argv);
int cmd_geocode(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_work(int argc, char **argv);
int cmd_store(int argc, char **argv);

/* Parse options for a command by its spec ("-o" is "--o" when the command has an option "o");
 * print usage errors. Returns -1 to continue,
 * or the exit status to return at once (CMD_OK after --help, CMD_USAGE on error). */
struct conf_spec;
int cmd_parse(const struct conf_spec *spec, int argc, char **argv, char **pos, int maxpos,
              int *npos);

/* Set the log level from --log-level; print "geobatch CMD: unknown log level" and return
 * CMD_USAGE when it is not one, else -1 (continue). */
int cmd_log_level(const char *cmd, const char *level);

/* Load the normaliser's lists (norm_init) from $GB_DICT_DIR, else from share/geobatch/dict beside
 * an installed binary (BINDIR/../share/geobatch/dict), else from the source tree's data/dict;
 * print why not and return CMD_FAIL on failure, else -1 (continue). */
int cmd_norm_init(const char *cmd);

/* The directory of path ("." when it has none, "/" for "/x") into out[cap]. */
void cmd_dir_of(const char *path, char *out, size_t cap);

/* What cmd_builder_new() made of --memory and --tmp, for the rest of the command. */
struct cmd_build {
    uint64_t memory;   /* bytes */
    char tmpdir[4200]; /* --tmp, or (none) the output's directory */
};

/* A new index builder for `geobatch CMD -o output` with --memory (a size: bytes with an optional
 * K, M, G or T, binary, such as 512M or 1.5G) and --tmp. Print why not and return CMD_USAGE
 * (a bad size) or CMD_FAIL (no temporary file can be made there), else set *out, fill *got
 * (NULL: not wanted) and return -1 (continue). */
struct index_builder;
int cmd_builder_new(const char *cmd, const char *output, const char *memory, const char *tmp,
                    struct index_builder **out, struct cmd_build *got);

/* The background check of an index opened with index_open_lazy(): its sections' checksums,
 * verified on a thread of their own while the command works, after the index's caches are
 * built (index_warm()) so that the first queries need not wait for them. */
struct index;
struct gc_set;
struct cmd_verify {
    const struct index *ix;
    const struct gc_set *set; /* cmd_verify_start_set: every member, one after another */
    int rc;                   /* 0, or what index_verify_checksums() returned */
    char err[512];            /* its message */
    void (*on_fail)(struct cmd_verify *v); /* called on the thread when the check fails */
    void (*on_ok)(struct cmd_verify *v);   /* ... when it passes */
    pthread_t tid;
    int started;
    _Atomic unsigned said; /* cmd_verify_log_pages and cmd_verify_ready: which has happened */
};

/* Start checking ix (on_fail and on_ok may be NULL). */
void cmd_verify_start(struct cmd_verify *v, const struct index *ix,
                      void (*on_fail)(struct cmd_verify *v), void (*on_ok)(struct cmd_verify *v));

/* Start checking every index of set, one after another on one thread. */
void cmd_verify_start_set(struct cmd_verify *v, const struct gc_set *set,
                          void (*on_fail)(struct cmd_verify *v),
                          void (*on_ok)(struct cmd_verify *v));

/* How the kernel maps the indexes of set (index_pages): *resident bytes in memory, *huge of
 * them in 2 MiB pages; *recached of the indexes were read again at open (index_recached).
 * Return 0, or a negative code where the kernel does not say. */
int cmd_index_pages(const struct gc_set *set, size_t *resident, size_t *huge, size_t *recached);

/* An on_ok for servers: make an index set's routing directories (gc_set_warm: off the
 * request path), log how much of the index is in 2 MiB pages once the check has read it all,
 * and warn when a large index is mostly in 4 KiB pages (a copy still in the page cache: at
 * country size that costs a fifth of the free-form speed; docs/scale.md). The line waits for
 * cmd_verify_ready(): a start that fails says only why. */
void cmd_verify_log_pages(struct cmd_verify *v);
/* The command has started (its "listening" or "started" line is out). */
void cmd_verify_ready(struct cmd_verify *v);

/* The identity of an index set for the job store (store_claim_config): its members'
 * index_identity() joined by '+', cut to cap (STORE_INDEX_ID_MAX + 1). */
void cmd_index_identity(const struct gc_set *set, char *out, size_t cap);

/* Wait for the check. Print "geobatch CMD: <message>" and return CMD_FAIL when it failed,
 * else -1 (continue). */
int cmd_verify_join(struct cmd_verify *v, const char *cmd);

#endif
