/*
 * worker.c - the threads that geocode jobs, one chunk at a time.
 *
 * DESIGN. Work is claimed from the store (store_task_claim), which gives chunks round-robin
 * between applications, so one big job cannot starve another application's small one. A chunk
 * is geocoded with batch_row() - the same code as `geobatch geocode`, so results are
 * byte-identical - into a temporary file named after its claim (out/<k>.out.<claim>.tmp, so
 * that no two claims ever write one file), which is fsynced and renamed to out/<k>.out (and
 * .nom) before store_chunk_done() counts its rows and lines: the store never counts rows that
 * are not on disk. A crash loses at most the chunks in flight, and those are redone from
 * scratch at the next start because claims do not survive the process. When the last chunk is
 * done, a worker claims the finalisation: it concatenates the chunk files behind the header
 * into result.txt and nomatch.txt, checks that they hold exactly the lines the chunks counted,
 * builds the zips, and only then marks the job completed.
 *
 * Every claim ends with its holder (store.h, "Claims"): counted, released or failed. A failure
 * fails the job only in the run it was claimed in, so a late failure of a run that a restart
 * ended changes nothing. A failed job's chunk files stay for a restart (PUT ?action=run) for
 * --keep-failed-hours, removed then by cmd_serve's sweep; with 0 they go here, when it fails.
 *
 * Waking: workers sleep on a condition variable. worker_pool_kick() broadcasts it under the
 * same mutex the workers hold from their (empty) claim to their wait, so a job committed
 * before a kick is always seen: no polling and no lost wake-ups. Cancel and delete take effect
 * at the next claim, i.e. within one chunk.
 *
 * A store that keeps files (PostgreSQL, store.h "Files"): each thread works in a directory of
 * its own (<data>/worker.<n>) holding only its task's files: the chunk's input is copied out
 * of the store, the output handed back with the count (store_chunk_done_files); the
 * finalisation copies every chunk's output out, assembles the same files, and stores them under
 * its claim before it completes the job. Its claims are leases (cfg.lease_s): a keeper thread
 * renews every task's lease each third of a lease; a refused renewal (the lease expired and
 * another worker took the chunk) makes the worker drop the task at its next check, and the
 * store refuses its late result anyway. The store's listener (LISTEN/NOTIFY) kicks the pool;
 * an idle worker also looks once a lease, since an expiry notifies nobody.
 *
 * Threads: see worker.h. The pool mutex guards stop, last_app, busy and the lease slots; the
 * store serialises itself; the index is read-only; each worker has its own batch lanes (a
 * window of WINDOW rows geocoded interleaved where the index is large: batch_rows).
 */
#include "serve/worker.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "job/batch.h"
#include "job/jobdir.h"
#include "job/zipout.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define FLUSH_AT (1u << 20) /* write a chunk's output to disk every MiB */
#define WINDOW   256        /* rows read before they are geocoded together */
#define OUT_MAX  ((size_t)64 << 20)

/* A worker thread's task, for the keeper thread (a store with leases). */
struct lease_slot {
    bool active; /* under the pool mutex */
    struct store_task t;
    atomic_bool lost; /* a renewal was refused */
};

struct worker_pool {
    struct worker_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    char last_app[STORE_APP_MAX + 1]; /* the application served last, for round-robin */
    int busy;
    atomic_uint_fast64_t rows;
    atomic_uint thread_no;    /* numbers the threads: their lease slots and directories */
    bool files;               /* store_keeps_files() */
    bool listening;           /* store_listen() wakes the pool */
    struct lease_slot *slots; /* one per thread: the task whose lease the keeper renews */
    pthread_t keeper;         /* renews the leases (cfg.lease_s > 0) */
    bool keeper_started;
    bool keeper_stop; /* set once the workers are joined (under mu) */
    pthread_cond_t keeper_cond;
    pthread_t *threads;
    int nthreads;
};

/* One worker thread: its pool, scratch, and the data directory its job files go to: the
 * pool's, or with a store that keeps files (store.h, "Files") a directory of the thread's own
 * under it that holds only the files of the task at hand. */
struct wctx {
    struct worker_pool *p;
    struct batch_lanes *lanes; /* its rows geocoded interleaved where the index is large */
    struct batch_rowset *rows; /* a window of the chunk's rows */
    char data[GB_PATH_MAX];
    bool files; /* the store keeps the job files: copy in, copy out, remove */
    int slot;   /* this thread's entry of the pool's lease slots */
};

/*
 * Whether the lease of the thread's task is lost (the keeper thread's renewal was refused:
 * it expired and another worker took it). Return 0 to go on, or GB_ESTATE: drop the task.
 */
static int lease_lost(struct wctx *w, const struct store_task *t)
{
    if (w->p->cfg.lease_s <= 0 || !atomic_load(&w->p->slots[w->slot].lost))
        return 0;
    log_warn("lease lost id=%s task=%s chunk=%u", t->id,
             t->kind == TASK_CHUNK ? "chunk" : "finalize", t->chunk);
    return GB_ESTATE;
}

/* mkdir -p of <data>/jobs/<id>/in and out/ for a store that keeps files. */
static int make_job_dirs(const char *data, const char *id)
{
    char path[GB_PATH_MAX];
    static const char *const dirs[] = {NULL, "in", JOBDIR_OUT};
    snprintf(path, sizeof(path), "%s/" JOBDIR_JOBS, data);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    for (size_t i = 0; i < 3; i++) {
        int rc = jobdir_path(path, sizeof(path), data, id, dirs[i]);
        if (rc < 0)
            return rc;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -errno;
    }
    return 0;
}

/* Copy the stored file name of job id to its place in the job directory under data. A file
 * the store does not have is an error unless optional (then an empty file). */
static int fetch_file(struct store *st, const char *data, const char *id, const char *name,
                      bool optional)
{
    char path[GB_PATH_MAX];
    int rc = jobdir_path(path, sizeof(path), data, id, name);
    if (rc < 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = store_file_get(st, id, name, fd);
    if (rc == GB_ENOTFOUND && optional)
        rc = 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* ---- durable files ---- */

/* The number of '\n' bytes in p[0..n-1]. */
static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t lines = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        lines++;
    return lines;
}

/* Append the file src to the open fd and add its '\n' bytes to *lines. A missing src is an
 * error. */
static int append_file(int fd, const char *src, char *block, size_t cap, uint64_t *lines)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int rc = 0;
    for (;;) {
        ssize_t n = fs_read_full(in, block, cap);
        if (n <= 0) {
            rc = n < 0 ? (int)n : 0;
            break;
        }
        *lines += count_lines(block, (size_t)n);
        rc = fs_write_all(fd, block, (size_t)n);
        if (rc < 0 || (size_t)n < cap)
            break;
    }
    close(in);
    return rc;
}

/* Create path's temp sibling "<path>.tmp", or "<path>.<claim>.tmp" for claim > 0, for
 * writing (O_EXCL with a claim: no two claims ever share a file). */
static int open_tmp(const char *path, int64_t claim, char *tmp, size_t cap)
{
    char suffix[32];
    int sn = claim > 0 ? snprintf(suffix, sizeof(suffix), ".%lld.tmp", (long long)claim)
                       : snprintf(suffix, sizeof(suffix), ".tmp");
    size_t n = strlen(path);
    if (sn < 0 || n + (size_t)sn + 1 > cap)
        return GB_ETOOLONG;
    memmove(tmp, path, n); /* not snprintf: gcc cannot tell that the two never overlap */
    memcpy(tmp + n, suffix, (size_t)sn + 1);
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (claim > 0 ? O_EXCL : O_TRUNC);
    int fd = open(tmp, flags, 0600);
    return fd < 0 ? -errno : fd;
}

/* fsync, close and rename a temp file into place. Closes fd in every case. */
static int commit_tmp(int fd, const char *tmp, const char *path)
{
    int rc = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ---- one chunk ---- */

struct chunk_out {
    int fd;
    struct buf buf;
    uint64_t lines; /* '\n' bytes written */
    char tmp[GB_PATH_MAX];
    char path[GB_PATH_MAX];
};

static int chunk_flush(struct chunk_out *o)
{
    o->lines += count_lines(o->buf.data ? o->buf.data : "", o->buf.len);
    int rc = fs_write_all(o->fd, o->buf.data ? o->buf.data : "", o->buf.len);
    buf_reset(&o->buf);
    return rc;
}

/* The input limits job j was accepted with (those of the server for a job of an older store). */
static struct csv_limits job_limits(const struct worker_pool *p, const struct job_info *j)
{
    if (j->max_line == 0 || j->max_field == 0 || j->max_fields == 0)
        return p->cfg.limits;
    return (struct csv_limits){(size_t)j->max_line, (size_t)j->max_field, (size_t)j->max_fields};
}

static int load_params(const struct job_info *j, struct job_params *p)
{
    char err[256] = "";
    params_init(p);
    int rc = params_decode(j->params, p, err, sizeof(err));
    if (rc < 0)
        log_error("job params id=%s err=\"%s\"", j->id, err);
    return rc;
}

/* Read the header row of the csv file at path (with the limits lim) and prepare a batch. */
static int open_batch(struct worker_pool *p, const char *path, const struct job_params *params,
                      const struct csv_limits *lim, struct batch **out, struct csv_reader **reader,
                      int *fdp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *fdp = fd;
    int rc = csv_reader_new(reader, params->indelim, lim, csv_read_fd, fdp);
    if (rc < 0)
        return rc;
    struct csv_row row;
    rc = csv_next(*reader, &row);
    if (rc <= 0 || row.error)
        return rc < 0 ? rc : GB_ECORRUPT;
    char err[256] = "";
    rc = p->cfg.set ? batch_new_set(out, p->cfg.set, params, &row, err, sizeof(err))
                    : batch_new(out, p->cfg.index, params, &row, err, sizeof(err));
    if (rc < 0)
        log_error("job batch path=%s err=\"%s\"", path, err);
    return rc;
}

/* One file of a result zip: its name's suffix, the file, and whether it belongs in it. */
struct zip_member {
    const char *suffix;
    const char *path;
    bool include;
};

/* Write the job file name as a zip of the members (a list ended by a NULL suffix), named
 * result_<time>_6.2_<suffix> inside. Return 0 or a negative code; never leaves half a zip. */
static int write_zip(const char *data, const char *id, const char *name, const struct zip_member *m,
                     int64_t now)
{
    char path[GB_PATH_MAX], member[128];
    struct zipout *z = NULL;
    int rc = jobdir_path(path, sizeof(path), data, id, name);
    if (rc == 0)
        rc = zipout_open(&z, path);
    for (; rc == 0 && m->suffix; m++) {
        if (!m->include)
            continue;
        jobdir_result_name(member, sizeof(member), now, m->suffix);
        rc = zipout_add_file(z, member, m->path, now);
    }
    if (z)
        rc = rc == 0 ? zipout_close(z) : (zipout_abort(z), rc);
    return rc;
}

/*
 * Geocode task t's chunk. Return 0 or a negative code; *settled tells whether the store
 * settled the claim (store_chunk_done), otherwise the caller must.
 */
static int do_chunk(struct wctx *w, const struct store_task *t, bool *settled)
{
    struct worker_pool *p = w->p;
    const char *data = w->data;
    struct job_info j;
    int rc = store_job_get(p->cfg.store, t->id, NULL, &j);
    if (rc < 0 || j.state != JOB_RUNNING)
        return 0; /* deleted, cancelled or failed since the claim: nothing to do */
    struct job_params params;
    rc = load_params(&j, &params);
    if (rc < 0)
        return rc;
    char dir[GB_PATH_MAX], path[GB_PATH_MAX];
    struct batch *b = NULL;
    struct csv_reader *r = NULL;
    int in_fd = -1;
    struct chunk_out o[2] = {{.fd = -1}, {.fd = -1}};
    bool split = !params.outputcombined;
    buf_init(&o[0].buf, OUT_MAX);
    buf_init(&o[1].buf, OUT_MAX);
    uint64_t processed = 0, success = 0, error = 0;
    struct csv_limits lim = job_limits(p, &j);

    rc = jobdir_chunk_path(path, sizeof(path), data, t->id, t->chunk, JOBDIR_CHUNK_IN);
    if (rc == 0)
        rc = jobdir_path(dir, sizeof(dir), data, t->id, JOBDIR_OUT);
    if (rc == 0 && w->files) {
        char name[32];
        snprintf(name, sizeof(name), "in/%u.csv", t->chunk);
        rc = make_job_dirs(data, t->id);
        if (rc == 0)
            rc = fetch_file(p->cfg.store, data, t->id, name, false);
    }
    if (rc < 0)
        goto out;
    rc = open_batch(p, path, &params, &lim, &b, &r, &in_fd);
    if (rc < 0)
        goto out;
    for (int i = 0; i < (split ? 2 : 1); i++) {
        rc = jobdir_chunk_path(o[i].path, sizeof(o[i].path), data, t->id, t->chunk,
                               i ? JOBDIR_CHUNK_NOM : JOBDIR_CHUNK_OUT);
        if (rc == 0)
            rc = open_tmp(o[i].path, t->claim, o[i].tmp, sizeof(o[i].tmp));
        if (rc < 0)
            goto out;
        o[i].fd = rc;
    }
    struct csv_row row;
    struct batch_result rowres[WINDOW];
    do { /* WINDOW rows at a time, geocoded together (batch_rows) */
        batch_rowset_clear(w->rows);
        while (batch_rowset_count(w->rows) < WINDOW && (rc = csv_next(r, &row)) == 1) {
            if (row.error) {
                /* Valid at upload and read with the same limits: the file is not what was
                 * written. */
                rc = GB_ECORRUPT;
                goto out;
            }
            batch_rowset_add(w->rows, &row);
        }
        if (rc < 0)
            goto out;
        size_t n = batch_rowset_count(w->rows);
        int more = rc; /* 0: the chunk's last rows */
        rc = batch_rows(b, w->lanes, w->rows, 0, n, &o[0].buf, split ? &o[1].buf : NULL, rowres,
                        NULL);
        if (rc < 0)
            goto out;
        processed += n;
        if (processed / 512 != (processed - n) / 512 && lease_lost(w, t) == GB_ESTATE) {
            *settled = true; /* the chunk is another worker's now */
            rc = 0;
            goto out;
        }
        for (size_t k = 0; k < n; k++) {
            if (rowres[k].matched)
                success++;
            else
                error++;
        }
        for (int i = 0; i < (split ? 2 : 1); i++)
            if (o[i].buf.len >= FLUSH_AT && (rc = chunk_flush(&o[i])) < 0)
                goto out;
        rc = more;
    } while (rc == 1);
    for (int i = 0; i < (split ? 2 : 1); i++) {
        rc = chunk_flush(&o[i]);
        if (rc < 0)
            goto out; /* o[i].fd still open: closed and its temp file removed below */
        rc = commit_tmp(o[i].fd, o[i].tmp, o[i].path); /* closes fd in every case */
        o[i].fd = -1;
        if (rc < 0)
            goto out;
    }
    rc = fs_fsync_dir(dir);
    if (rc < 0)
        goto out;
    struct store_chunk_result res = {processed, success, error, o[0].lines, o[1].lines};
    rc = store_chunk_done_files(p->cfg.store, t, &res, o[0].path, split ? o[1].path : NULL);
    *settled = rc == 0 || rc == GB_ESTATE || rc == GB_ENOTFOUND;
    if (rc == GB_ESTATE || rc == GB_ENOTFOUND)
        rc = 0; /* cancelled, deleted or failed meanwhile: dropped */
    else if (rc == 0)
        atomic_fetch_add(&p->rows, processed);
    log_debug("chunk done id=%s k=%u rows=%llu", t->id, t->chunk, (unsigned long long)processed);
out:
    for (int i = 0; i < 2; i++) {
        if (o[i].fd >= 0) {
            close(o[i].fd);
            unlink(o[i].tmp);
        }
        buf_release(&o[i].buf);
    }
    csv_reader_free(r);
    if (in_fd >= 0)
        close(in_fd);
    batch_free(b);
    return rc;
}

/* ---- finalisation ---- */

static int write_report(const char *path, const struct job_info *j, int64_t now)
{
    struct buf b;
    buf_init(&b, 4096);
    char start[32], end[32];
    time_t ts = (time_t)j->started, te = (time_t)now;
    struct tm tm;
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&ts, &tm));
    strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&te, &tm));
    buf_printf(&b,
               "RequestId: %s\nStatus: completed\nJobStarted: %s\nJobFinished: %s\n"
               "TotalCount: %llu\nValidCount: %llu\nInvalidCount: %llu\nProcessedCount: %llu\n"
               "SuccessCount: %llu\nErrorCount: %llu\n",
               j->id, start, end, (unsigned long long)j->total, (unsigned long long)j->valid,
               (unsigned long long)j->invalid, (unsigned long long)j->processed,
               (unsigned long long)j->success, (unsigned long long)j->error);
    char tmp[GB_PATH_MAX];
    int fd = open_tmp(path, 0, tmp, sizeof(tmp));
    int rc = fd < 0 ? fd : fs_write_all(fd, b.data, b.len);
    if (fd >= 0)
        rc = rc == 0 ? commit_tmp(fd, tmp, path) : (close(fd), unlink(tmp), rc);
    buf_release(&b);
    return rc;
}

/*
 * Write header + chunk file 'which' of every chunk (which NULL: the header alone) to path. The
 * chunk files must hold exactly 'lines' lines between them, as the store counted them when
 * each chunk was done: anything else is GB_ECORRUPT and no file is written.
 */
static int concat(const char *data, const struct job_info *j, const char *path,
                  const struct buf *header, const enum jobdir_chunk_file *which, uint64_t lines,
                  char *block, size_t cap)
{
    char tmp[GB_PATH_MAX], src[GB_PATH_MAX];
    int fd = open_tmp(path, 0, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    int rc = fs_write_all(fd, header->data ? header->data : "", header->len);
    uint64_t got = 0;
    for (uint32_t k = 0; rc == 0 && which && k < j->nchunks; k++) {
        rc = jobdir_chunk_path(src, sizeof(src), data, j->id, k, *which);
        if (rc == 0)
            rc = append_file(fd, src, block, cap, &got);
    }
    if (rc == 0 && which && got != lines) {
        log_error("result check failed id=%s file=%s lines=%llu expected=%llu", j->id, path,
                  (unsigned long long)got, (unsigned long long)lines);
        rc = GB_ECORRUPT;
    }
    if (rc < 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    return commit_tmp(fd, tmp, path);
}

/* Run --notify-command JOB_ID MAILTO. Neither can be read as an option or split a line: the id
 * is 32 of [A-Za-z0-9], and params_set() accepts only an e-mail address for mailto, one that
 * never starts with '-'. */
static void notify(struct worker_pool *p, const struct job_info *j, const struct job_params *params)
{
    if (!p->cfg.notify_command || !params->mailto[0])
        return;
    char id[STORE_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", j->id);
    char mailto[sizeof(params->mailto)];
    snprintf(mailto, sizeof(mailto), "%s", params->mailto);
    char *argv[] = {(char *)p->cfg.notify_command, id, mailto, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, p->cfg.notify_command, NULL, NULL, argv, environ);
    if (rc != 0)
        log_warn("notify failed id=%s err=\"%s\"", j->id, strerror(rc));
}

/*
 * Write the files a completed job is downloaded from: result.txt and nomatch.txt (the header,
 * then every chunk's output), report.txt and the zips; then fsync the job directory.
 */
static int write_results(const char *data, const struct job_info *j, const struct buf *header,
                         bool split, int64_t now)
{
    static const enum jobdir_chunk_file out = JOBDIR_CHUNK_OUT, nom = JOBDIR_CHUNK_NOM;
    char jdir[GB_PATH_MAX], result[GB_PATH_MAX], nomatch[GB_PATH_MAX], errors[GB_PATH_MAX],
        report[GB_PATH_MAX];
    int rc = jobdir_path(jdir, sizeof(jdir), data, j->id, NULL);
    if (rc == 0)
        rc = jobdir_path(result, sizeof(result), data, j->id, JOBDIR_RESULT);
    if (rc == 0)
        rc = jobdir_path(nomatch, sizeof(nomatch), data, j->id, JOBDIR_NOMATCH);
    if (rc == 0)
        rc = jobdir_path(errors, sizeof(errors), data, j->id, JOBDIR_ERRORS);
    if (rc == 0)
        rc = jobdir_path(report, sizeof(report), data, j->id, JOBDIR_REPORT);
    if (rc < 0)
        return rc;
    char *block = xmalloc(1 << 16);
    rc = concat(data, j, result, header, &out, j->out_lines, block, 1 << 16);
    if (rc == 0)
        rc = concat(data, j, nomatch, header, split ? &nom : NULL, j->nom_lines, block, 1 << 16);
    free(block);
    if (rc == 0)
        rc = write_report(report, j, now);
    /* result.zip: the _out.txt (and the _err.txt no-matches when not combined); nomatch.zip;
     * all.zip: result, no-matches, invalid input lines and the report. */
    const struct zip_member result_zip[] = {
        {"out.txt", result, true}, {"err.txt", nomatch, split}, {NULL, NULL, false}};
    const struct zip_member nomatch_zip[] = {{"err.txt", nomatch, true}, {NULL, NULL, false}};
    const struct zip_member all_zip[] = {{"out.txt", result, true},
                                         {"err.txt", nomatch, split},
                                         {"invalid.txt", errors, true},
                                         {"report.txt", report, true},
                                         {NULL, NULL, false}};
    if (rc == 0)
        rc = write_zip(data, j->id, JOBDIR_RESULT_ZIP, result_zip, now);
    if (rc == 0)
        rc = write_zip(data, j->id, JOBDIR_NOMATCH_ZIP, nomatch_zip, now);
    if (rc == 0)
        rc = write_zip(data, j->id, JOBDIR_ALL_ZIP, all_zip, now);
    if (rc == 0)
        rc = fs_fsync_dir(jdir);
    return rc;
}

/* Finalise task t's job. Return and *settled as do_chunk(). */
/* For a store that keeps files: copy what the finalisation reads into the job directory
 * under data: the header, the invalid lines, every chunk's output. */
static int fetch_for_finalize(struct wctx *w, const struct store_task *t, const struct job_info *j,
                              bool split)
{
    struct store *st = w->p->cfg.store;
    int rc = make_job_dirs(w->data, t->id);
    if (rc == 0)
        rc = fetch_file(st, w->data, t->id, JOBDIR_HEADER, false);
    if (rc == 0)
        rc = fetch_file(st, w->data, t->id, JOBDIR_ERRORS, true);
    char name[32];
    for (uint32_t k = 0; rc == 0 && k < j->nchunks; k++) {
        snprintf(name, sizeof(name), JOBDIR_OUT "/%u.out", k);
        rc = fetch_file(st, w->data, t->id, name, false);
        if (rc == 0 && split) {
            snprintf(name, sizeof(name), JOBDIR_OUT "/%u.nom", k);
            rc = fetch_file(st, w->data, t->id, name, false);
        }
        if (rc == 0)
            rc = lease_lost(w, t);
    }
    return rc;
}

/* For a store that keeps files: store the files a completed job is downloaded from. */
static int store_results(struct wctx *w, const struct store_task *t)
{
    static const char *const files[] = {JOBDIR_RESULT, JOBDIR_NOMATCH, JOBDIR_RESULT_ZIP,
                                        JOBDIR_NOMATCH_ZIP, JOBDIR_ALL_ZIP};
    char path[GB_PATH_MAX];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
        rc = jobdir_path(path, sizeof(path), w->data, t->id, files[i]);
        if (rc == 0)
            rc = store_file_put(w->p->cfg.store, t, files[i], path);
        if (rc == 0)
            rc = lease_lost(w, t);
    }
    return rc;
}

static int do_finalize(struct wctx *w, const struct store_task *t, bool *settled)
{
    struct worker_pool *p = w->p;
    const char *data = w->data;
    struct job_info j;
    int rc = store_job_get(p->cfg.store, t->id, NULL, &j);
    if (rc < 0 || j.state != JOB_RUNNING)
        return 0;
    struct job_params params;
    rc = load_params(&j, &params);
    if (rc < 0)
        return rc;
    int64_t now = (int64_t)time(NULL);
    char path[GB_PATH_MAX];
    struct batch *b = NULL;
    struct csv_reader *r = NULL;
    int fd = -1;
    struct buf header;
    buf_init(&header, 1 << 20);
    struct csv_limits lim = job_limits(p, &j);
    rc = jobdir_path(path, sizeof(path), data, t->id, JOBDIR_HEADER);
    if (rc == 0 && w->files)
        rc = fetch_for_finalize(w, t, &j, !params.outputcombined);
    if (rc == 0)
        rc = open_batch(p, path, &params, &lim, &b, &r, &fd);
    if (rc == 0)
        rc = batch_header(b, &header);
    if (rc == 0)
        rc = write_results(data, &j, &header, !params.outputcombined, now);
    if (rc == 0 && w->files)
        rc = store_results(w, t);
    if (rc == GB_ESTATE) {
        *settled = true; /* the lease is lost: the finalisation is another worker's now */
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = store_job_finish(p->cfg.store, t, JOB_COMPLETED, now);
    *settled = rc == 0 || rc == GB_ENOTFOUND;
    if (rc == GB_ESTATE || rc == GB_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    log_info("job completed id=%s rows=%llu success=%llu error=%llu invalid=%llu", j.id,
             (unsigned long long)j.processed, (unsigned long long)j.success,
             (unsigned long long)j.error, (unsigned long long)j.invalid);
    jobdir_remove_chunks(data, j.id); /* not needed any more */
    notify(p, &j, &params);
out:
    buf_release(&header);
    csv_reader_free(r);
    if (fd >= 0)
        close(fd);
    batch_free(b);
    return rc;
}

/* ---- the pool ---- */

/*
 * End task t's claim when the task did not (a failure, or a job that left `running`): fail
 * the job (failed true, and only in the run the task was claimed in) or give the claim back.
 * On a full disk the store itself may be unable to write: giving up then would leave a claim
 * that nobody ends until the next start (a restart of the job would never get the chunk
 * back), so retry once a second until it is recorded or the pool stops (the claim dies with
 * the process and the chunk is redone).
 */
static void settle(struct worker_pool *p, const struct store_task *t, bool failed)
{
    for (unsigned tries = 0;; tries++) {
        int rc = failed ? store_task_fail(p->cfg.store, t, (int64_t)time(NULL))
                        : store_task_release(p->cfg.store, t);
        if (rc == 0 || rc == GB_ESTATE || rc == GB_ENOTFOUND)
            return;
        if (tries == 0)
            log_error("cannot record the end of a task id=%s failed=%d err=%s (retrying every"
                      " second)",
                      t->id, failed, gb_errname(rc));
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop;
        if (!stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&p->cond, &p->mu, &ts);
            stop = p->stop;
        }
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return;
    }
}

/*
 * After a task, done (rc 0) or not; settled: the store ended the claim. A job deleted
 * meanwhile had its directory removed by the API while this task may still have been writing
 * into it (a chunk output, a zip renamed into place after the removal walked past): remove it
 * again, so that no file of a deleted job outlives the last task that touched it (of a
 * cancelled one: no chunk file, which the API removed at the cancel). Every write
 * of the task comes before this check, so when the check still sees the job running, the
 * deletion and its removal come later. Errors of a job that is no longer running are dropped;
 * otherwise the job fails (store_task_fail: only when the claim's run is the job's).
 */
static void task_end(struct wctx *w, const struct store_task *t, int rc, bool settled)
{
    struct worker_pool *p = w->p;
    struct job_info j;
    int g = store_job_get(p->cfg.store, t->id, NULL, &j);
    const char *task = t->kind == TASK_CHUNK ? "chunk" : "finalize";
    bool gone_for_good = g == 0 && (j.state == JOB_CANCELLED ||
                                    (j.state == JOB_FAILED && p->cfg.keep_failed_hours == 0));
    if (w->files)
        jobdir_remove(w->data, t->id); /* the task's local copies: the store has the job */
    else if (g == GB_ENOTFOUND || (g == 0 && j.state == JOB_DELETED))
        jobdir_remove(p->cfg.data_dir, t->id);
    else if (gone_for_good) /* a chunk file written after the cancel or the failure */
        jobdir_remove_chunks(p->cfg.data_dir, t->id);
    if (settled)
        return;
    if (rc == 0) {
        settle(p, t, false);
        return;
    }
    if (g == GB_ENOTFOUND || (g == 0 && j.state != JOB_RUNNING)) {
        log_info("task dropped id=%s task=%s chunk=%u state=%s err=%s", t->id, task, t->chunk,
                 g == 0 ? job_state_name(j.state) : "purged", gb_errname(rc));
        settle(p, t, false);
        return;
    }
    log_error("job failed id=%s task=%s chunk=%u err=%s", t->id, task, t->chunk, gb_errname(rc));
    settle(p, t, true);
    /* Without --keep-failed-hours the job never runs again: its chunk files go now. */
    if (!w->files && p->cfg.keep_failed_hours == 0 &&
        store_job_get(p->cfg.store, t->id, NULL, &j) == 0 && j.state == JOB_FAILED)
        jobdir_remove_chunks(p->cfg.data_dir, t->id);
}

/* Wait for a kick; with leases at most a lease long, since an expiry is nobody's kick. */
static void wait_work(struct worker_pool *p)
{
    if (p->cfg.lease_s <= 0) {
        pthread_cond_wait(&p->cond, &p->mu);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += p->cfg.lease_s;
    pthread_cond_timedwait(&p->cond, &p->mu, &ts);
}

static void *worker_main(void *arg)
{
    struct worker_pool *p = arg;
    /* the index's size chooses the lanes */
    uint64_t bytes = p->cfg.set     ? gc_set_size(p->cfg.set)
                     : p->cfg.index ? index_size(p->cfg.index)
                                    : 0;
    struct wctx w = {.p = p,
                     .lanes = batch_lanes_new((size_t)p->cfg.lanes, bytes),
                     .rows = batch_rowset_new(),
                     .files = p->files};
    pthread_mutex_lock(&p->mu);
    w.slot = (int)atomic_fetch_add(&p->thread_no, 1);
    pthread_mutex_unlock(&p->mu);
    snprintf(w.data, sizeof(w.data), "%s", p->cfg.data_dir);
    if (w.files) {
        /* <data>/worker.<n>: this thread's copies of the files of its task */
        int len = snprintf(w.data, sizeof(w.data), "%s/worker.%d", p->cfg.data_dir, w.slot);
        if (len < 0 || (size_t)len >= sizeof(w.data) ||
            (mkdir(w.data, 0700) < 0 && errno != EEXIST))
            log_error("cannot make worker directory %s err=%s", w.data, gb_errname(-errno));
    }
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct store_task t;
        int rc = store_task_claim(p->cfg.store, p->last_app, (int64_t)time(NULL), &t);
        if (rc == GB_ENOTFOUND) {
            log_debug("claim none");
            wait_work(p);
            continue;
        }
        if (rc < 0) {
            log_error("claim failed err=%s", gb_errname(rc));
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&p->cond, &p->mu, &ts);
            continue;
        }
        snprintf(p->last_app, sizeof(p->last_app), "%s", t.app);
        p->busy++;
        p->slots[w.slot].t = t;
        atomic_store(&p->slots[w.slot].lost, false);
        p->slots[w.slot].active = true;
        pthread_mutex_unlock(&p->mu);
        bool settled = false;
        rc = t.kind == TASK_CHUNK ? do_chunk(&w, &t, &settled) : do_finalize(&w, &t, &settled);
        task_end(&w, &t, rc, settled);
        pthread_mutex_lock(&p->mu);
        p->slots[w.slot].active = false;
        p->busy--;
    }
    pthread_mutex_unlock(&p->mu);
    if (w.files) {
        char jobs[GB_PATH_MAX + 8];
        snprintf(jobs, sizeof(jobs), "%s/" JOBDIR_JOBS, w.data);
        rmdir(jobs);
        rmdir(w.data);
    }
    batch_lanes_free(w.lanes);
    batch_rowset_free(w.rows);
    return NULL;
}

/*
 * The keeper thread (a store with leases): every third of a lease, renew the lease of every
 * task in progress, outside the pool mutex; a refused renewal marks the slot lost, and its
 * worker drops the task at its next check (lease_lost()). A thread of its own, so that a long
 * step of a task (a big zip) never outlives its lease.
 */
static void *keeper_main(void *arg)
{
    struct worker_pool *p = arg;
    struct store_task *tasks = xcalloc((size_t)p->cfg.nthreads, sizeof(*tasks));
    int *which = xcalloc((size_t)p->cfg.nthreads, sizeof(*which));
    long period_ms = p->cfg.lease_s * 1000L / 3;
    pthread_mutex_lock(&p->mu);
    while (!p->keeper_stop) {
        struct timespec ts = clock_after_ms(CLOCK_REALTIME, period_ms);
        pthread_cond_timedwait(&p->keeper_cond, &p->mu, &ts);
        int n = 0;
        for (int i = 0; i < p->cfg.nthreads; i++)
            if (p->slots[i].active && !atomic_load(&p->slots[i].lost)) {
                tasks[n] = p->slots[i].t;
                which[n++] = i;
            }
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < n; i++) {
            int rc = store_task_renew(p->cfg.store, &tasks[i]);
            if (rc != GB_ESTATE)
                continue; /* renewed, or an error: tried again next time */
            pthread_mutex_lock(&p->mu);
            struct lease_slot *sl = &p->slots[which[i]];
            if (sl->active && sl->t.claim == tasks[i].claim)
                atomic_store(&sl->lost, true);
            pthread_mutex_unlock(&p->mu);
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    free(tasks);
    free(which);
    return NULL;
}

/* store_listen's callback: another process added work. */
static void wake(void *ctx)
{
    worker_pool_kick(ctx);
}

int worker_pool_start(struct worker_pool **out, const struct worker_config *cfg)
{
    struct worker_pool *p = xcalloc(1, sizeof(*p));
    p->cfg = *cfg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    atomic_init(&p->rows, 0);
    atomic_init(&p->thread_no, 0);
    p->files = store_keeps_files(cfg->store);
    pthread_cond_init(&p->keeper_cond, NULL);
    p->slots = xcalloc((size_t)cfg->nthreads, sizeof(*p->slots));
    for (int i = 0; i < cfg->nthreads; i++)
        atomic_init(&p->slots[i].lost, false);
    p->threads = xcalloc((size_t)cfg->nthreads, sizeof(pthread_t));
    for (int i = 0; i < cfg->nthreads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, worker_main, p);
        if (rc != 0) {
            worker_pool_stop(p);
            return -rc;
        }
        p->nthreads++;
    }
    if (cfg->lease_s > 0) {
        int rc = pthread_create(&p->keeper, NULL, keeper_main, p);
        if (rc != 0) {
            worker_pool_stop(p);
            return -rc;
        }
        p->keeper_started = true;
        rc = store_listen(cfg->store, wake, p);
        if (rc < 0) {
            worker_pool_stop(p);
            return rc;
        }
        p->listening = true;
    }
    *out = p;
    return 0;
}

void worker_pool_kick(struct worker_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

void worker_pool_stop(struct worker_pool *p)
{
    if (!p)
        return;
    if (p->listening)
        store_listen(p->cfg.store, NULL, NULL); /* no more wake-ups of this pool */
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* the keeper after the workers: it renews until the last task is settled */
    pthread_mutex_lock(&p->mu);
    p->keeper_stop = true;
    pthread_cond_broadcast(&p->keeper_cond);
    pthread_mutex_unlock(&p->mu);
    if (p->keeper_started)
        pthread_join(p->keeper, NULL);
    pthread_cond_destroy(&p->keeper_cond);
    free(p->slots);
    free(p->threads);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

uint64_t worker_rows_processed(struct worker_pool *p)
{
    return atomic_load(&p->rows);
}

int worker_busy(struct worker_pool *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->busy;
    pthread_mutex_unlock(&p->mu);
    return n;
}
