/*
 * cmd_work.c - `geobatch work --store postgresql://... --index INDEX`: a worker without HTTP.
 *
 * DESIGN. The worker threads of `geobatch serve` (serve/worker.c) on a store of several nodes
 * (store.h, "Files" and "Leases"), and nothing else: no HTTP, no credentials. The main thread
 * opens the index and the store, starts the pool and then only waits for SIGTERM / SIGINT
 * (every worker finishes or drops its chunk, then the process ends; its leases lapse if it is
 * killed instead). The pool wakes on the store's LISTEN/NOTIFY and looks for expired leases
 * once a lease. The job files of the task at hand are copied into a private temporary
 * directory (--tmp), removed at the end.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "job/batch.h"
#include "base/err.h"
#include "base/log.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "job/jobdir.h"
#include "serve/worker.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The main thread waits here for SIGTERM / SIGINT. */
static void wait_for_stop(const sigset_t *set)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("work stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
            return;
        }
    }
}

/* The index's checksums do not match: stop as SIGTERM does, and fail. */
static void stop_on_corrupt_index(struct cmd_verify *v)
{
    log_error("index corrupt err=\"%s\": stopping", v->err);
    kill(getpid(), SIGTERM);
}

int cmd_work(int argc, char **argv)
{
    struct conf_strs indexes = {0};
    const char *store_url = NULL, *tmp = NULL, *log_level = "info", *notify = NULL;
    long threads = 0, lease = 30, lanes = 0;
    const struct conf_opt opts[] = {
        {"store", CONF_STR, &store_url, "URL",
         "the job store: postgresql://USER@HOST:PORT/DB (required; libpq's URI, sslmode and all)",
         0, 0},
        {"index", CONF_STRS, &indexes, "INDEX",
         "the index to geocode with (required); several --index, or a directory of *.gbx, are "
         "one index set. Takes only jobs that started on the same index",
         0, 0},
        {"threads", CONF_LONG, &threads, "N", "geocoding threads (number of CPUs)", 0, 256},
        {"lanes", CONF_LONG, &lanes, "N", BATCH_LANES_HELP, 1, BATCH_LANES_MAX},
        {"lease", CONF_LONG, &lease, "SECONDS",
         "a chunk's lease, renewed every third of it while the chunk is geocoded (30)", 1, 86400},
        {"tmp", CONF_STR, &tmp, "DIR", "where the temporary copies of job files go ($TMPDIR)", 0,
         0},
        {"notify-command", CONF_STR, &notify, "CMD",
         "run 'CMD JOB_ID ADDRESS' when a job with mailto completes", 0, 0},
        {"log-level", CONF_STR, &log_level, "LEVEL", "debug, info, warn or error", 0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch work --store postgresql://... --index INDEX [--threads N] [OPTIONS]",
        .summary = "Geocode the jobs of a PostgreSQL job store (docs/scale-out.md), without HTTP: "
                   "chunks are leased,\nrenewed while geocoded and redone by another worker when "
                   "this one dies. SIGTERM/SIGINT\nfinish the current chunks and stop.",
        .opts = opts,
    };
    char *pos[1];
    int npos = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 0, &npos);
    if (rc < 0)
        rc = cmd_log_level("work", log_level);
    if (rc < 0 && (indexes.n == 0 || !store_url)) {
        fprintf(stderr, "geobatch work: --store and --index are required\n");
        rc = CMD_USAGE;
    }
    if (rc >= 0)
        return rc;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN);
    umask(077);

    int status = CMD_FAIL;
    struct gc_set *ixset = NULL;
    struct store *st = NULL;
    struct worker_pool *pool = NULL;
    struct cmd_verify verify;
    char err[1024] = "", dir[4096] = "", index_id[STORE_INDEX_ID_MAX + 1];
    bool made_dir = false;
    if (cmd_norm_init("work") >= 0)
        goto out;
    rc = gc_set_open(&ixset, indexes.v, indexes.n, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch work: %s\n", err);
        goto out;
    }
    cmd_verify_start_set(&verify, ixset, stop_on_corrupt_index, cmd_verify_log_pages);
    rc = store_open(&st, store_url, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch work: %s\n", err);
        goto out;
    }
    if (!store_keeps_files(st)) {
        fprintf(stderr, "geobatch work: %s is a store of one machine: run geobatch serve on it\n",
                store_url);
        goto out;
    }
    if (!tmp)
        tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if ((size_t)snprintf(dir, sizeof(dir), "%s/geobatch-work.XXXXXX", tmp) >= sizeof(dir) ||
        !mkdtemp(dir)) {
        fprintf(stderr, "geobatch work: cannot make a directory in %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    made_dir = true;
    cmd_index_identity(ixset, index_id, sizeof(index_id));
    store_config(st, &(struct store_claim_config){index_id, (int)lease});
    struct worker_config wc = {
        .store = st,
        .index = gc_set_index(ixset, 0),
        .set = ixset,
        .data_dir = dir,
        .nthreads = (int)threads,
        .lanes = (int)lanes,
        .chunk_rows = WORKER_CHUNK_ROWS_DEFAULT,
        .limits = {65536, 8192, 256}, /* serve's defaults; every job of this store has its own */
        .notify_command = notify,
        .lease_s = (int)lease,
    };
    rc = worker_pool_start(&pool, &wc);
    if (rc < 0) {
        fprintf(stderr, "geobatch work: cannot start workers: %s\n", gb_strerror(rc));
        goto out;
    }
    log_info("work started threads=%ld lease=%ld index=%s", threads, lease, index_id);
    cmd_verify_ready(&verify);
    wait_for_stop(&set);
    status = CMD_OK;
out:
    worker_pool_stop(pool);
    if (ixset && cmd_verify_join(&verify, "work") >= 0)
        status = CMD_FAIL;
    store_close(st);
    gc_set_close(ixset);
    if (made_dir)
        rmdir(dir);
    if (status == CMD_OK)
        log_info("work stopped");
    return status;
}
