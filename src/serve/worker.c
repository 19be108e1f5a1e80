/*
 * worker.c - the threads that geocode jobs, one chunk at a time.
 *
 * DESIGN. Work is claimed from the store (store_task_claim), which gives chunks round-robin
 * between applications, so one big job cannot starve another application's small one. A chunk
 * is geocoded with batch_row() - the same code as `geobatch geocode`, so results are
 * byte-identical - into out/<k>.out (and .nom), which is fsynced and renamed before
 * store_chunk_done() counts its rows: the store never counts rows that are not on disk. A
 * crash loses at most the chunks in flight, and those are redone from scratch at the next
 * start because claims do not survive the process. When the last chunk is done, a worker
 * claims the finalisation: it concatenates the chunk files behind the header into result.txt
 * and nomatch.txt, builds the zips, and only then marks the job completed.
 *
 * Waking: workers sleep on a condition variable. worker_pool_kick() broadcasts it under the
 * same mutex the workers hold from their (empty) claim to their wait, so a job committed
 * before a kick is always seen: no polling and no lost wake-ups. Cancel and delete take effect
 * at the next claim, i.e. within one chunk.
 *
 * Threads: see worker.h. The pool mutex guards stop, last_app and busy; the store serialises
 * itself; the index is read-only; each worker has its own batch scratch.
 */
#include "serve/worker.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"
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
#define OUT_MAX  ((size_t)64 << 20)

struct worker_pool {
    struct worker_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    char last_app[STORE_APP_MAX + 1]; /* the application served last, for round-robin */
    int busy;
    atomic_uint_fast64_t rows;
    pthread_t *threads;
    int nthreads;
    /* The failures this pool recorded, newest last: a task whose job was recorded failed after
     * the task was claimed belongs to a run that has ended, and must not fail the job again (a
     * restart may have made it run anew meanwhile). Under mu. */
    uint64_t fail_seq;
    struct {
        char id[STORE_ID_LEN + 1];
        uint64_t seq;
    } failed[64];
};

/* ---- durable files ---- */

/* Append the file src to the open fd. A missing src is an error. */
static int append_file(int fd, const char *src, char *block, size_t cap)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int rc = fs_copy_fd(in, fd, block, cap);
    close(in);
    return rc;
}

/* Create path's temp sibling for writing. */
static int open_tmp(const char *path, char *tmp, size_t cap)
{
    size_t n = strlen(path);
    if (n + sizeof(".tmp") > cap)
        return GB_ETOOLONG;
    memmove(tmp, path, n); /* not snprintf: gcc cannot tell that the two never overlap */
    memcpy(tmp + n, ".tmp", sizeof(".tmp"));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
    char tmp[GB_PATH_MAX];
    char path[GB_PATH_MAX];
};

static int chunk_flush(struct chunk_out *o)
{
    int rc = fs_write_all(o->fd, o->buf.data ? o->buf.data : "", o->buf.len);
    buf_reset(&o->buf);
    return rc;
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

/* Read the header row of the csv file at path and prepare a batch from it. */
static int open_batch(struct worker_pool *p, const char *path, const struct job_params *params,
                      struct batch **out, struct csv_reader **reader, int *fdp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *fdp = fd;
    int rc = csv_reader_new(reader, params->indelim, &p->cfg.limits, csv_read_fd, fdp);
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
static int write_zip(struct worker_pool *p, const char *id, const char *name,
                     const struct zip_member *m, int64_t now)
{
    char path[GB_PATH_MAX], member[128];
    struct zipout *z = NULL;
    int rc = jobdir_path(path, sizeof(path), p->cfg.data_dir, id, name);
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

static int do_chunk(struct worker_pool *p, struct batch_scratch *scratch,
                    const struct store_task *t)
{
    struct job_info j;
    int rc = store_job_get(p->cfg.store, t->id, NULL, &j);
    if (rc < 0 || j.state != JOB_RUNNING)
        return 0; /* deleted or cancelled since the claim: nothing to do */
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

    rc = jobdir_chunk_path(path, sizeof(path), p->cfg.data_dir, t->id, t->chunk, JOBDIR_CHUNK_IN);
    if (rc == 0)
        rc = jobdir_path(dir, sizeof(dir), p->cfg.data_dir, t->id, JOBDIR_OUT);
    if (rc < 0)
        goto out;
    rc = open_batch(p, path, &params, &b, &r, &in_fd);
    if (rc < 0)
        goto out;
    for (int i = 0; i < (split ? 2 : 1); i++) {
        rc = jobdir_chunk_path(o[i].path, sizeof(o[i].path), p->cfg.data_dir, t->id, t->chunk,
                               i ? JOBDIR_CHUNK_NOM : JOBDIR_CHUNK_OUT);
        if (rc == 0)
            rc = open_tmp(o[i].path, o[i].tmp, sizeof(o[i].tmp));
        if (rc < 0)
            goto out;
        o[i].fd = rc;
    }
    struct csv_row row;
    while ((rc = csv_next(r, &row)) == 1) {
        struct batch_result res = {0};
        if (row.error) {
            /* Valid at upload; only changed limits can make it invalid now. */
            processed++, error++;
            continue;
        }
        rc = batch_row(b, scratch, &row, &o[0].buf, split ? &o[1].buf : NULL, &res);
        if (rc < 0)
            goto out;
        processed++;
        if (res.matched)
            success++;
        else
            error++;
        for (int i = 0; i < (split ? 2 : 1); i++)
            if (o[i].buf.len >= FLUSH_AT && (rc = chunk_flush(&o[i])) < 0)
                goto out;
    }
    if (rc < 0)
        goto out;
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
    rc = store_chunk_done(p->cfg.store, t->id, t->chunk, processed, success, error);
    if (rc == GB_ESTATE || rc == GB_ENOTFOUND)
        rc = 0; /* cancelled, deleted or already done by another worker: drop it */
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
    int fd = open_tmp(path, tmp, sizeof(tmp));
    int rc = fd < 0 ? fd : fs_write_all(fd, b.data, b.len);
    if (fd >= 0)
        rc = rc == 0 ? commit_tmp(fd, tmp, path) : (close(fd), unlink(tmp), rc);
    buf_release(&b);
    return rc;
}

/* Write header + chunk file 'which' of every chunk (which NULL: the header alone) to path. */
static int concat(struct worker_pool *p, const struct job_info *j, const char *path,
                  const struct buf *header, const enum jobdir_chunk_file *which, char *block,
                  size_t cap)
{
    char tmp[GB_PATH_MAX], src[GB_PATH_MAX];
    int fd = open_tmp(path, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    int rc = fs_write_all(fd, header->data ? header->data : "", header->len);
    for (uint32_t k = 0; rc == 0 && which && k < j->nchunks; k++) {
        rc = jobdir_chunk_path(src, sizeof(src), p->cfg.data_dir, j->id, k, *which);
        if (rc == 0)
            rc = append_file(fd, src, block, cap);
    }
    if (rc < 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    return commit_tmp(fd, tmp, path);
}

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
static int write_results(struct worker_pool *p, const struct job_info *j, const struct buf *header,
                         bool split, int64_t now)
{
    static const enum jobdir_chunk_file out = JOBDIR_CHUNK_OUT, nom = JOBDIR_CHUNK_NOM;
    const char *data = p->cfg.data_dir;
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
    rc = concat(p, j, result, header, &out, block, 1 << 16);
    if (rc == 0)
        rc = concat(p, j, nomatch, header, split ? &nom : NULL, block, 1 << 16);
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
        rc = write_zip(p, j->id, JOBDIR_RESULT_ZIP, result_zip, now);
    if (rc == 0)
        rc = write_zip(p, j->id, JOBDIR_NOMATCH_ZIP, nomatch_zip, now);
    if (rc == 0)
        rc = write_zip(p, j->id, JOBDIR_ALL_ZIP, all_zip, now);
    if (rc == 0)
        rc = fs_fsync_dir(jdir);
    return rc;
}

static int do_finalize(struct worker_pool *p, const struct store_task *t)
{
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
    rc = jobdir_path(path, sizeof(path), p->cfg.data_dir, t->id, JOBDIR_HEADER);
    if (rc == 0)
        rc = open_batch(p, path, &params, &b, &r, &fd);
    if (rc == 0)
        rc = batch_header(b, &header);
    if (rc == 0)
        rc = write_results(p, &j, &header, !params.outputcombined, now);
    if (rc < 0)
        goto out;
    rc = store_job_finish(p->cfg.store, t->id, JOB_COMPLETED, now);
    if (rc == GB_ESTATE || rc == GB_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    log_info("job completed id=%s rows=%llu success=%llu error=%llu invalid=%llu", j.id,
             (unsigned long long)j.processed, (unsigned long long)j.success,
             (unsigned long long)j.error, (unsigned long long)j.invalid);
    jobdir_remove_chunks(p->cfg.data_dir, j.id, j.nchunks); /* not needed any more */
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
 * Record that task t's job failed. On a full disk the store itself may be unable to write:
 * giving up then would leave the job running with a claim that nobody releases until the next
 * start, so retry once a second until it is recorded, the job has left `running` (cancelled,
 * deleted), or the pool stops (the claim dies with the process and the chunk is redone).
 */
/* Whether this pool recorded job id failed after sequence number since (under p->mu). */
static bool failed_since(const struct worker_pool *p, const char *id, uint64_t since)
{
    for (size_t i = 0; i < sizeof(p->failed) / sizeof(p->failed[0]); i++)
        if (p->failed[i].seq > since && strcmp(p->failed[i].id, id) == 0)
            return true;
    return false;
}

/*
 * One attempt at recording t's job failed, unless its run already ended that way (claim_seq:
 * p->fail_seq when t was claimed). Return the store's code, or GB_ESTATE when nothing is to
 * be done. The check and the transition are one step under p->mu, so two workers of one run
 * never fail a restarted job.
 */
static int record_failure(struct worker_pool *p, const struct store_task *t, uint64_t claim_seq)
{
    pthread_mutex_lock(&p->mu);
    int rc = GB_ESTATE;
    if (!failed_since(p, t->id, claim_seq)) {
        rc = store_job_transition(p->cfg.store, t->id, NULL, JOB_MASK(JOB_RUNNING), JOB_FAILED,
                                  (int64_t)time(NULL), NULL);
        if (rc == 0) {
            size_t slot = (size_t)(p->fail_seq % (sizeof(p->failed) / sizeof(p->failed[0])));
            snprintf(p->failed[slot].id, sizeof(p->failed[slot].id), "%s", t->id);
            p->failed[slot].seq = ++p->fail_seq;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void mark_failed(struct worker_pool *p, const struct store_task *t, uint64_t claim_seq)
{
    for (unsigned tries = 0;; tries++) {
        int rc = record_failure(p, t, claim_seq);
        if (rc == 0 || rc == GB_ESTATE || rc == GB_ENOTFOUND)
            return;
        if (tries == 0)
            log_error("cannot record the failure id=%s err=%s (retrying every second)", t->id,
                      gb_errname(rc));
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
 * After a task, done (rc 0) or not. A job deleted meanwhile had its directory removed by the
 * API while this task may still have been writing into it (a chunk output, a zip renamed into
 * place after the removal walked past): remove it again, so that no file of a deleted job
 * outlives the last task that touched it. Every write of the task comes before this check, so
 * when the check still sees the job running, the deletion and its removal come later. Errors
 * of a job that is no longer running are dropped; otherwise the job fails.
 */
static void task_end(struct worker_pool *p, const struct store_task *t, uint64_t claim_seq, int rc)
{
    struct job_info j;
    int g = store_job_get(p->cfg.store, t->id, NULL, &j);
    const char *task = t->kind == TASK_CHUNK ? "chunk" : "finalize";
    if (g == GB_ENOTFOUND || (g == 0 && j.state == JOB_DELETED))
        jobdir_remove(p->cfg.data_dir, t->id);
    if (rc == 0)
        return;
    if (g == GB_ENOTFOUND || (g == 0 && j.state != JOB_RUNNING)) {
        log_info("task dropped id=%s task=%s chunk=%u state=%s err=%s", t->id, task, t->chunk,
                 g == 0 ? job_state_name(j.state) : "purged", gb_errname(rc));
        return;
    }
    log_error("job failed id=%s task=%s chunk=%u err=%s", t->id, task, t->chunk, gb_errname(rc));
    mark_failed(p, t, claim_seq);
}

static void *worker_main(void *arg)
{
    struct worker_pool *p = arg;
    struct batch_scratch *scratch = batch_scratch_new();
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct store_task t;
        int rc = store_task_claim(p->cfg.store, p->last_app, (int64_t)time(NULL), &t);
        if (rc == GB_ENOTFOUND) {
            pthread_cond_wait(&p->cond, &p->mu);
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
        uint64_t claim_seq = p->fail_seq;
        pthread_mutex_unlock(&p->mu);
        rc = t.kind == TASK_CHUNK ? do_chunk(p, scratch, &t) : do_finalize(p, &t);
        task_end(p, &t, claim_seq, rc);
        pthread_mutex_lock(&p->mu);
        p->busy--;
    }
    pthread_mutex_unlock(&p->mu);
    batch_scratch_free(scratch);
    return NULL;
}

int worker_pool_start(struct worker_pool **out, const struct worker_config *cfg)
{
    struct worker_pool *p = xcalloc(1, sizeof(*p));
    p->cfg = *cfg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    atomic_init(&p->rows, 0);
    p->threads = xcalloc((size_t)cfg->nthreads, sizeof(pthread_t));
    for (int i = 0; i < cfg->nthreads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, worker_main, p);
        if (rc != 0) {
            worker_pool_stop(p);
            return -rc;
        }
        p->nthreads++;
    }
    *out = p;
    return 0;
}

void worker_pool_kick(struct worker_pool *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

void worker_pool_stop(struct worker_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
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
