/*
 * cmd_serve.c - `geobatch serve`: the HERE Batch Geocoder 6.2 job API.
 *
 * DESIGN. The main thread owns start-up and shutdown and then only waits for signals:
 * SIGHUP re-reads the credentials, SIGTERM / SIGINT stop gracefully (stop accepting
 * connections, let every worker finish its chunk, close), and once an hour (and at start) it
 * removes jobs older than --retention-days. The signals are blocked in every thread and taken
 * with sigtimedwait() here, so no handler runs in signal context. HTTP connection threads
 * (http.c, api.c) accept and validate jobs; worker threads (worker.c) geocode them; the job
 * store (store.h) is the only thing they share besides the read-only index.
 */
#include "serve/access_log.h"
#include "serve/api.h"
#include "serve/auth.h"
#include "cli/cmd.h"
#include "base/conf.h"
#include "job/batch.h"
#include "base/err.h"
#include "base/fsio.h"
#include "serve/http.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "job/jobdir.h"
#include "base/log.h"
#include "text/norm.h"
#include "store/store.h"
#include "serve/worker.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_mode & 077)
        chmod(path, st.st_mode & 0700);
    return 0;
}

/* Remove what a crash can leave: unfinished uploads in tmp/, job dirs the store never got. */
static void clean_orphans(struct store *st, const char *data)
{
    char path[GB_PATH_MAX];
    snprintf(path, sizeof(path), "%s/" JOBDIR_TMP, data);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!jobdir_id_valid(e->d_name, strlen(e->d_name)))
            continue;
        if (jobdir_tmp_remove(data, e->d_name, 0) == 0)
            log_info("removed unfinished upload id=%s", e->d_name);
    }
    if (d)
        closedir(d);
    snprintf(path, sizeof(path), "%s/" JOBDIR_JOBS, data);
    d = opendir(path);
    while (d && (e = readdir(d))) {
        if (!jobdir_id_valid(e->d_name, strlen(e->d_name)))
            continue;
        struct job_info j;
        if (store_job_get(st, e->d_name, NULL, &j) == GB_ENOTFOUND) {
            jobdir_remove(data, e->d_name);
            log_info("removed orphan job dir id=%s", e->d_name);
        }
    }
    if (d)
        closedir(d);
}

struct sweep {
    struct store *st;
    const char *data;
    int n;
};

static int sweep_one(void *ctx, const struct job_info *j)
{
    struct sweep *s = ctx;
    jobdir_remove(s->data, j->id);
    if (store_job_purge(s->st, j->id) == 0)
        s->n++;
    return 0;
}

static int sweep_failed_one(void *ctx, const struct job_info *j)
{
    struct sweep *s = ctx;
    if (j->state == JOB_FAILED)
        jobdir_remove_chunks(s->data, j->id); /* nothing to do for one swept before: cheap */
    return 0;
}

/* Remove the jobs that finished more than days ago, and the chunk files of those that failed
 * keep_failed_hours or more ago (the API refuses to restart them from then on). */
static void retention_sweep(struct store *st, const char *data, long days, long keep_failed_hours)
{
    struct sweep s = {st, data, 0};
    int64_t now = (int64_t)time(NULL);
    store_jobs_expired(st, now - (int64_t)days * 86400, sweep_one, &s);
    if (s.n)
        log_info("retention removed=%d days=%ld", s.n, days);
    /* failed keep_failed_hours or more ago, this second included (0: every failed job; the
     * store's bound is strict, and a job may have failed in the second the server starts) */
    store_jobs_expired(st, now - (int64_t)keep_failed_hours * 3600 + 1, sweep_failed_one, &s);
}

/* The command line of `geobatch serve`. */
struct serve_opts {
    struct conf_strs indexes;
    const char *config, *data, *listen, *creds, *notify, *log_level, *access_log, *store;
    char *config_buf; /* the configuration file's text: the values from it point into it */
    long workers, max_records, max_body, max_line, max_field, max_fields, max_jobs, rate, burst,
        rate_lease;
    long timeout, header_timeout, min_body_rate, max_conns, max_per_ip, retention, chunk_rows;
    long max_disk, keep_failed, lease, lanes;
};

/*
 * Parse the options into o: the defaults, then the --config file's keys, then the command
 * line (which overrides the file; --index adds to its list). Set the log level. Return -1 to
 * go on (free o->config_buf after the last use of o), or the command's exit status (--help, a
 * usage error).
 */
static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
    *o = (struct serve_opts){
        .listen = "127.0.0.1:8080",
        .log_level = "info",
        .max_records = 1000000,
        .max_body = 2147483648L,
        .max_line = 65536,
        .max_field = 8192,
        .max_fields = 256,
        .max_jobs = 100,
        .rate = 100,
        .burst = 200,
        .rate_lease = 1,
        .timeout = 60,
        .header_timeout = 10,
        .min_body_rate = 2048,
        .max_conns = 512,
        .max_per_ip = 64,
        .retention = 30,
        .keep_failed = 24,
        .chunk_rows = WORKER_CHUNK_ROWS_DEFAULT,
        .workers = -1,
        .lease = 30,
    };
    const struct conf_opt opts[] = {
        {"config", CONF_STR, &o->config, "FILE",
         "options from FILE first: 'key value' lines, the key an option's name without '--' "
         "(/etc/geobatch/geobatch.conf); the command line overrides them",
         0, 0},
        {"index", CONF_STRS, &o->indexes, "INDEX",
         "the index file to geocode with (required); several --index, or a directory of *.gbx "
         "files, are served as one index",
         0, 0},
        {"data", CONF_STR, &o->data, "DIR",
         "job store and job files (required; created 0700); with --store postgresql://... only "
         "temporary files and the credentials",
         0, 0},
        {"store", CONF_STR, &o->store, "URL",
         "the job store: sqlite:DIR, or postgresql://USER@HOST:PORT/DB for several nodes on one "
         "store (docs/scale-out.md) (sqlite:DATA)",
         0, 0},
        {"lease", CONF_LONG, &o->lease, "SECONDS",
         "with a PostgreSQL store: a chunk's lease, renewed while it is geocoded; a dead "
         "worker's chunk is redone after it (30)",
         1, 86400},
        {"listen", CONF_STR, &o->listen, "HOST:PORT", "address to listen on (127.0.0.1:8080)", 0,
         0},
        {"credentials", CONF_STR, &o->creds, "FILE",
         "one application per line: 'APP_ID APP_CODE' or 'apikey KEY' (DIR/credentials)", 0, 0},
        {"workers", CONF_LONG, &o->workers, "N",
         "geocoding threads (number of CPUs); with a PostgreSQL store 0 makes an API-only node", 0,
         256},
        {"chunk-rows", CONF_LONG, &o->chunk_rows, "N", "rows geocoded per chunk (10000)", 1,
         10000000},
        {"lanes", CONF_LONG, &o->lanes, "N", BATCH_LANES_HELP, 1, BATCH_LANES_MAX},
        {"max-records", CONF_LONG, &o->max_records, "N", "input lines per job (1000000)", 1,
         1000000000},
        {"max-body", CONF_LONG, &o->max_body, "BYTES", "bytes per upload (2147483648)", 1,
         (long)1 << 40},
        {"max-line", CONF_LONG, &o->max_line, "BYTES", "bytes per input line (65536)", 16,
         16 << 20},
        {"max-field", CONF_LONG, &o->max_field, "BYTES", "bytes per input field (8192)", 1,
         1 << 20},
        {"max-fields", CONF_LONG, &o->max_fields, "N", "fields per input line (256)", 1, 4096},
        {"max-jobs-per-app", CONF_LONG, &o->max_jobs, "N",
         "submitted, accepted or running jobs per application (100)", 1, 1000000},
        {"rate", CONF_LONG, &o->rate, "N", "requests per second per application, 0: no limit (100)",
         0, 1000000},
        {"burst", CONF_LONG, &o->burst, "N", "requests an application may send at once (200)", 1,
         1000000},
        {"rate-lease", CONF_LONG, &o->rate_lease, "SECONDS",
         "on a shared store, how long a node may spend the rate-limit tokens it took from the "
         "cluster's bucket before they are dropped (1)",
         1, 3600},
        {"timeout", CONF_LONG, &o->timeout, "SECONDS", "idle connection timeout (60)", 1, 86400},
        {"header-timeout", CONF_LONG, &o->header_timeout, "SECONDS",
         "request headers must be complete this long after the connection opened or its previous "
         "request ended (keep-alive idle time too); a body's grace period (10)",
         1, 86400},
        {"min-body-rate", CONF_LONG, &o->min_body_rate, "BYTES",
         "a body slower than this many bytes/s on average after --header-timeout is cut, 0: "
         "never (2048)",
         0, 1 << 30},
        {"max-connections", CONF_LONG, &o->max_conns, "N",
         "open connections, one thread each (512)", 1, 100000},
        /* A connection holds a thread: without a per-address cap one client can take every
         * slot. Behind a proxy every client shares its address: set 0 there. */
        {"max-connections-per-ip", CONF_LONG, &o->max_per_ip, "N",
         "open connections per client address, 0: no limit (behind a proxy) (64)", 0, 100000},
        {"max-disk-per-app", CONF_LONG, &o->max_disk, "BYTES",
         "bytes of files per application: its uploads (in progress too), chunk files and "
         "results; over it uploads and starts get 413, 0: no limit (0)",
         0, (long)1 << 50},
        {"retention-days", CONF_LONG, &o->retention, "DAYS",
         "remove finished jobs and their files after this many days (30)", 1, 100000},
        {"keep-failed-hours", CONF_LONG, &o->keep_failed, "HOURS",
         "a failed job can be restarted this long, then its chunk files are removed; 0: removed "
         "when it fails, no restart (24)",
         0, 100000 * 24},
        {"notify-command", CONF_STR, &o->notify, "CMD",
         "run 'CMD JOB_ID ADDRESS' when a job with mailto completes", 0, 0},
        {"log-level", CONF_STR, &o->log_level, "LEVEL", "debug, info, warn or error", 0, 0},
        {"access-log", CONF_STR, &o->access_log, "FILE",
         "one JSON line per request (time, app, method, path without the query, status, bytes, "
         "duration) appended to FILE, '-': standard error; reopened at SIGHUP (none)",
         0, 0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch serve --index INDEX --data DIR [--listen HOST:PORT] [OPTIONS]",
        .summary = "Serve the HERE Batch Geocoder 6.2 job API (docs/api.md). SIGHUP re-reads the "
                   "credentials;\nSIGTERM/SIGINT finish the current chunks and stop; unfinished "
                   "jobs resume at the next start.",
        .opts = opts,
    };
    char *pos[4];
    int npos = 0;
    const char *config = conf_find(argc, argv, "config");
    if (config) {
        char err[512] = "";
        if (conf_file_apply(&spec, config, &o->config_buf, err, sizeof(err)) < 0) {
            fprintf(stderr, "geobatch serve: %s\n", err);
            return CMD_USAGE;
        }
    }
    int rc = cmd_parse(&spec, argc, argv, pos, 0, &npos);
    if (rc < 0)
        rc = cmd_log_level("serve", o->log_level);
    if (rc < 0 && (o->indexes.n == 0 || !o->data)) {
        fprintf(stderr, "geobatch serve: --index and --data are required (on the command line "
                        "or as index and data in the --config file)\n");
        rc = CMD_USAGE;
    }
    if (rc >= 0) {
        free(o->config_buf);
        o->config_buf = NULL;
        return rc;
    }
    /* 0 is the number of CPUs too, except with a store of several nodes (an API-only node) */
    bool shared = o->store && strncmp(o->store, "sqlite:", 7) != 0;
    if (o->workers < 0 || (o->workers == 0 && !shared)) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->workers = n > 0 ? n : 2;
    }
    return -1;
}

/* Descriptors one connection may hold: its socket, an upload's pipe, chunk, errors and header
 * files; and those the rest of the server holds (index, store, logs, workers' files). */
#define FDS_PER_CONNECTION 6
#define FDS_RESERVED       64

/*
 * Raise the soft limit on open descriptors to the hard one, and lower *max_conns when even
 * that cannot hold FDS_PER_CONNECTION descriptors for each of them, so that a full house of
 * uploads meets the connection limit (refused at once) before the descriptor limit.
 */
static void size_descriptors(long *max_conns, long workers)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            rl.rlim_cur = was;
    }
    rlim_t reserved = FDS_RESERVED + 4 * (rlim_t)workers;
    rlim_t fit = rl.rlim_cur > reserved ? (rl.rlim_cur - reserved) / FDS_PER_CONNECTION : 1;
    if (fit < 1)
        fit = 1;
    if ((rlim_t)*max_conns > fit) {
        log_warn("serve max-connections=%ld lowered to %llu: %llu open files allowed", *max_conns,
                 (unsigned long long)fit, (unsigned long long)rl.rlim_cur);
        *max_conns = (long)fit;
    }
}

/* Create the data directory with jobs/ and tmp/ (0700). Return 0 or a negative code. */
static int make_data_dirs(const char *data)
{
    char path[GB_PATH_MAX];
    int rc = make_dir(data);
    snprintf(path, sizeof(path), "%s/" JOBDIR_JOBS, data);
    if (rc == 0)
        rc = make_dir(path);
    snprintf(path, sizeof(path), "%s/" JOBDIR_TMP, data);
    if (rc == 0)
        rc = make_dir(path);
    return rc;
}

/*
 * The main thread's life once everything runs: wait for the signals in set until SIGTERM or
 * SIGINT; SIGHUP re-reads the credentials; the retention sweep runs every hour.
 */
static void wait_for_stop(const sigset_t *set, struct auth *auth, struct access_log *alog,
                          struct store *st, const struct serve_opts *o)
{
    char err[1024] = "";
    time_t last_sweep = time(NULL);
    for (;;) {
        struct timespec wait = {60, 0};
        int sig = sigtimedwait(set, NULL, &wait);
        if (sig == SIGHUP) {
            int arc = alog ? access_log_reopen(alog) : 0;
            if (arc < 0)
                log_error("access log reopen failed path=%s err=\"%s\" (keeping the old file)",
                          o->access_log, gb_strerror(arc));
            int rc = auth_reload(auth, err, sizeof(err));
            if (rc < 0)
                log_error("credentials reload failed err=\"%s\" (keeping the old ones)", err);
            else
                log_info("credentials reloaded applications=%zu", auth_count(auth));
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("serve stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
            return;
        }
        if (time(NULL) - last_sweep >= 3600) {
            retention_sweep(st, o->data, o->retention, o->keep_failed);
            last_sweep = time(NULL);
        }
    }
}

/* The index's checksums do not match (found while serving): stop as SIGTERM does, and fail. */
static void stop_on_corrupt_index(struct cmd_verify *v)
{
    log_error("index corrupt err=\"%s\": stopping", v->err);
    kill(getpid(), SIGTERM);
}

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct gc_set *ixset = NULL;
    const struct index *ix = NULL;
    struct cmd_verify verify;
    struct auth *auth = NULL;
    struct store *st = NULL;
    struct worker_pool *pool = NULL;
    struct api *api = NULL;
    struct http_server *http = NULL;
    struct access_log *alog = NULL;
    char err[1024] = "", cred_path[GB_PATH_MAX], store_url[GB_PATH_MAX];
    int status = CMD_FAIL;
    int lock_fd = -1; /* <data>/lock, held until the end */

    /* Block the signals we wait for before any thread starts, so every thread inherits it. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a write error (EFBIG), not a crash */
    umask(077);               /* the job store and every job file are private */
    signal(SIGCHLD, SIG_IGN); /* notify commands are reaped by the kernel */

    size_descriptors(&o.max_conns, o.workers);
    rc = make_data_dirs(o.data);
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: cannot use data directory %s: %s\n", o.data,
                gb_strerror(rc));
        goto out;
    }
    if (cmd_norm_init("serve") >= 0)
        goto out;
    rc = gc_set_open(&ixset, o.indexes.v, o.indexes.n, err, sizeof(err));
    if (rc < 0) { /* the message names the file */
        fprintf(stderr, "geobatch serve: %s\n", err);
        goto out;
    }
    ix = gc_set_index(ixset, 0);
    if (gc_set_count(ixset) > 1)
        log_info("index set members=%zu", gc_set_count(ixset));
    cmd_verify_start_set(&verify, ixset, stop_on_corrupt_index, cmd_verify_log_pages);
    /* One server per data directory: a second one would take back the first's claims and
     * remove its uploads in progress. Taken once the index is open: a server that cannot start
     * for its index leaves the directory as it was. */
    long holder = 0;
    rc = jobdir_lock(o.data, &lock_fd, &holder);
    if (rc == -EWOULDBLOCK) {
        fprintf(stderr,
                "geobatch serve: data directory %s is in use by another geobatch serve (pid %ld);"
                " one directory serves one server\n",
                o.data, holder);
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: cannot lock data directory %s: %s\n", o.data,
                gb_strerror(rc));
        goto out;
    }
    snprintf(cred_path, sizeof(cred_path), "%s", o.creds ? o.creds : "");
    if (!o.creds)
        snprintf(cred_path, sizeof(cred_path), "%s/credentials", o.data);
    rc = auth_open(&auth, cred_path, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: %s\n", err);
        goto out;
    }
    if ((size_t)snprintf(store_url, sizeof(store_url), "%s%s", o.store ? "" : "sqlite:",
                         o.store ? o.store : o.data) >= sizeof(store_url)) {
        fprintf(stderr, "geobatch serve: data directory path too long\n");
        goto out;
    }
    rc = store_open(&st, store_url, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: %s\n", err);
        goto out;
    }
    clean_orphans(st, o.data);
    retention_sweep(st, o.data, o.retention, o.keep_failed);
    char index_id[STORE_INDEX_ID_MAX + 1];
    cmd_index_identity(ixset, index_id, sizeof(index_id));
    bool leases = store_keeps_files(st); /* the store of several nodes */
    store_config(st, &(struct store_claim_config){index_id, (int)o.lease});

    struct csv_limits limits = {(size_t)o.max_line, (size_t)o.max_field, (size_t)o.max_fields};
    struct worker_config wc = {
        .store = st,
        .index = ix,
        .set = ixset,
        .data_dir = o.data,
        .nthreads = (int)o.workers,
        .lanes = (int)o.lanes,
        .chunk_rows = (uint32_t)o.chunk_rows,
        .limits = limits,
        .notify_command = o.notify,
        .keep_failed_hours = (uint32_t)o.keep_failed,
        .lease_s = leases ? (int)o.lease : 0,
    };
    rc = o.workers > 0 ? worker_pool_start(&pool, &wc) : 0;
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: cannot start workers: %s\n", gb_strerror(rc));
        goto out;
    }
    struct api_config ac = {
        .store = st,
        .auth = auth,
        .index = ix,
        .set = ixset,
        .workers = pool,
        .data_dir = o.data,
        .limits = limits,
        .max_records = (uint64_t)o.max_records,
        .max_body = (uint64_t)o.max_body,
        .chunk_rows = (uint32_t)o.chunk_rows,
        .max_jobs_per_app = (uint64_t)o.max_jobs,
        .max_disk_per_app = (uint64_t)o.max_disk,
        .keep_failed_hours = (uint32_t)o.keep_failed,
        .rate = (double)o.rate,
        .burst = (double)o.burst,
        .rate_lease = (double)o.rate_lease,
    };
    api_new(&api, &ac);
    if (o.access_log && access_log_open(&alog, o.access_log, err, sizeof(err)) < 0) {
        fprintf(stderr, "geobatch serve: %s\n", err);
        goto out;
    }
    struct http_config hc = {o.listen,
                             (unsigned)o.max_conns,
                             (unsigned)o.timeout,
                             (unsigned)o.header_timeout,
                             (unsigned)o.min_body_rate,
                             (unsigned)o.max_per_ip,
                             alog};
    rc = http_server_start(&http, &hc, &api_handler, api, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch serve: %s\n", err);
        goto out;
    }
    api_set_http(api, http);
    log_info("serve listening=%s port=%u workers=%ld applications=%zu data=%s%s%s", o.listen,
             http_server_port(http), o.workers, auth_count(auth), o.data,
             leases ? " store=postgresql index=" : "", leases ? index_id : "");
    cmd_verify_ready(&verify);
    wait_for_stop(&set, auth, alog, st, &o);
    status = CMD_OK;
out:
    if (ixset && cmd_verify_join(&verify, "serve") >= 0)
        status = CMD_FAIL;
    if (http)
        http_server_quiesce(http);
    worker_pool_stop(pool);
    http_server_stop(http);
    access_log_close(alog);
    api_free(api);
    store_close(st);
    auth_close(auth);
    gc_set_close(ixset);
    if (lock_fd >= 0)
        close(lock_fd);
    if (status == CMD_OK)
        log_info("serve stopped");
    free(o.config_buf);
    return status;
}
