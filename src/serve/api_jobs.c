/*
 * api_jobs.c - the endpoints of jobs that exist: the list of an application's jobs, a job's
 * status, run and cancel (PUT), delete, and the downloads of its result files. Every lookup is
 * by the authenticated application, so another application's job is "Unknown RequestId"
 * exactly like one that never existed. Downloads are answered with the file's descriptor (MHD
 * streams it), never read into memory.
 *
 * Threads: connection threads, any number at once; the store serialises itself.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/conf.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "job/jobdir.h"
#include "job/params.h"
#include "serve/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the list ---- */

struct list_ctx {
    struct buf *out;
    bool json;
    int n;
};

static int list_one(void *ctx, const struct job_info *j)
{
    struct list_ctx *l = ctx;
    api_doc_list_job(l->out, l->json, j, l->n);
    l->n++;
    return 0;
}

int api_jobs_list(struct api *a, struct http_request *req, struct http_response *resp,
                  const char *app, int arg)
{
    (void)arg;
    long offset = 0, limit = 100;
    const char *s = http_param(req, "offset");
    if (s && *s && conf_parse_long(s, 0, 1000000000L, &offset) < 0) {
        api_bad_request(resp, req, "offset must be a non-negative integer", "offset");
        return HTTP_RESPOND;
    }
    s = http_param(req, "limit");
    if (s && *s && conf_parse_long(s, 1, 1000, &limit) < 0) {
        api_bad_request(resp, req, "limit must be an integer from 1 to 1000", "limit");
        return HTTP_RESPOND;
    }
    bool json = http_wants_json(req);
    buf_reset(&resp->body);
    struct list_ctx l = {&resp->body, json, 0};
    uint64_t total = 0;
    api_doc_list_head(&resp->body, json, offset, limit);
    int rc =
        store_job_list(a->cfg.store, app, (uint64_t)offset, (uint32_t)limit, list_one, &l, &total);
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return HTTP_RESPOND;
    }
    api_doc_list_tail(&resp->body, json, total);
    resp->status = 200;
    resp->content_type = json ? CT_JSON : CT_XML;
    return HTTP_RESPOND;
}

/* ---- one job ---- */

/*
 * Read the job of the request's {id} for app into *j. Return true, or false with resp filled:
 * 404 for an id that is not a RequestId or not app's job (also, with deleted_is_gone, for a
 * deleted one), 500 when the store fails.
 */
static bool load_job(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, bool deleted_is_gone, struct job_info *j)
{
    const char *id = http_match_arg(&req->route, 0);
    int rc =
        jobdir_id_valid(id, strlen(id)) ? store_job_get(a->cfg.store, id, app, j) : GB_ENOTFOUND;
    if (rc == GB_ENOTFOUND || (rc == 0 && deleted_is_gone && j->state == JOB_DELETED)) {
        api_not_found(resp, req, "Unknown RequestId");
        return false;
    }
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return false;
    }
    return true;
}

/* The action parameter, NULL when absent or empty. */
static const char *action_param(const struct http_request *req)
{
    const char *action = http_param(req, "action");
    return action && *action ? action : NULL;
}

/* ---- status pacing ---- */

#define PACE_MIN_GAP_S 0.05 /* a status of the same running job sooner than this waits... */
#define PACE_WAIT_S    2.0  /* ...for rows to be processed, at most this long */
#define PACE_POLL_NS   5000000L

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record that job id's status is asked for now; return whether the previous ask was less than
 * PACE_MIN_GAP_S ago. The table forgets the least recent job when full. */
static bool pace_too_soon(struct api *a, const char *id, double now)
{
    pthread_mutex_lock(&a->pace_mu);
    struct api_pace_slot *s = NULL, *oldest = &a->pace[0];
    for (size_t i = 0; i < API_PACE_SLOTS && !s; i++) {
        if (strcmp(a->pace[i].id, id) == 0)
            s = &a->pace[i];
        else if (a->pace[i].last < oldest->last)
            oldest = &a->pace[i];
    }
    bool soon = s && now - s->last < PACE_MIN_GAP_S;
    if (!s) {
        s = oldest;
        snprintf(s->id, sizeof(s->id), "%s", id);
    }
    s->last = now;
    pthread_mutex_unlock(&a->pace_mu);
    return soon;
}

/*
 * A client that asks for a running job's status again at once (node-geocoder polls with no
 * pause, at most 500 times) gets its answer when rows have been processed since (a chunk was
 * recorded), or after PACE_WAIT_S: a paced answer rather than a refused one, so that a job of
 * any size completes within such a client's polls. Return whether it waited.
 */
static bool pace_status(struct api *a, const struct job_info *j)
{
    if ((j->state != JOB_RUNNING && j->state != JOB_ACCEPTED) || !a->cfg.workers)
        return false;
    double t0 = mono_s();
    if (!pace_too_soon(a, j->id, t0))
        return false;
    uint64_t rows = worker_rows_processed(a->cfg.workers);
    struct timespec nap = {0, PACE_POLL_NS};
    while (worker_rows_processed(a->cfg.workers) == rows && mono_s() - t0 < PACE_WAIT_S)
        nanosleep(&nap, NULL);
    pace_too_soon(a, j->id, mono_s());
    return true;
}

int api_job_status(struct api *a, struct http_request *req, struct http_response *resp,
                   const char *app, int arg)
{
    (void)arg;
    const char *action = action_param(req);
    struct job_info j;
    if (!load_job(a, req, resp, app, false, &j))
        return HTTP_RESPOND;
    if (action && strcasecmp(action, "status") != 0) {
        api_bad_request(resp, req, "Unsupported action for GET; use action=status", "action");
        return HTTP_RESPOND;
    }
    if (pace_status(a, &j) && !load_job(a, req, resp, app, false, &j))
        return HTTP_RESPOND;
    api_respond_status(resp, req, &j);
    return HTTP_RESPOND;
}

int api_job_delete(struct api *a, struct http_request *req, struct http_response *resp,
                   const char *app, int arg)
{
    (void)arg;
    struct job_info j;
    if (!load_job(a, req, resp, app, false, &j))
        return HTTP_RESPOND;
    if (j.state != JOB_DELETED) {
        int rc = store_job_transition(a->cfg.store, j.id, app, ~JOB_MASK(JOB_DELETED) & 0x7f,
                                      JOB_DELETED, (int64_t)time(NULL), &j);
        if (rc < 0 && rc != GB_ESTATE) {
            api_internal_error(resp, req, rc);
            return HTTP_RESPOND;
        }
        jobdir_remove(a->cfg.data_dir, j.id);
        log_info("job deleted id=%s", j.id);
    }
    api_respond_status(resp, req, &j);
    return HTTP_RESPOND;
}

/* PUT ?action=cancel: a job that has not ended becomes cancelled. */
static void job_cancel(struct api *a, struct http_request *req, struct http_response *resp,
                       const char *app, struct job_info *j)
{
    int rc = store_job_transition(a->cfg.store, j->id, app,
                                  JOB_MASK(JOB_SUBMITTED) | JOB_MASK(JOB_ACCEPTED) |
                                      JOB_MASK(JOB_RUNNING),
                                  JOB_CANCELLED, (int64_t)time(NULL), j);
    if (rc == GB_ESTATE) {
        api_bad_request(resp, req,
                        "CANNOT CANCEL THE COMPLETED, DELETED, FAILED OR ALREADY CANCELLED JOB",
                        NULL);
        return;
    }
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return;
    }
    /* A cancelled job never runs again: its chunk files go now, not at retention. A worker
     * still on one of its chunks finds them gone and drops the chunk (worker.c, task_end). */
    jobdir_remove_chunks(a->cfg.data_dir, j->id);
    log_info("job cancelled id=%s", j->id);
    api_respond_status(resp, req, j);
}

/* Seconds before a failed job's chunk files go (--keep-failed-hours) in which it can no longer
 * be restarted: the hourly sweep may remove them while a restart is being recorded. */
#define RESTART_MARGIN_S 60

/*
 * Whether job j may be started: a failed one only while its chunk files are kept; and only
 * while its application is not over its disk quota (its results will add to it). Return true,
 * or false with resp filled (400, 413).
 */
static bool may_start(struct api *a, struct http_request *req, struct http_response *resp,
                      const char *app, const struct job_info *j)
{
    int64_t keep = (int64_t)a->cfg.keep_failed_hours * 3600;
    if (j->state == JOB_FAILED &&
        (keep == 0 || (int64_t)time(NULL) - j->finished >= keep - RESTART_MARGIN_S)) {
        api_bad_request(resp, req,
                        "CANNOT RUN A FAILED JOB WHOSE INPUT WAS REMOVED (see --keep-failed-hours)",
                        NULL);
        return false;
    }
    uint64_t quota = a->cfg.max_disk_per_app, disk = 0;
    if (!quota || (j->state != JOB_SUBMITTED && j->state != JOB_FAILED))
        return true;
    uint64_t uploads = api_app_uploads_bytes(a, app);
    int rc = api_app_disk_usage(a, app, &disk);
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return false;
    }
    if (disk + uploads > quota) {
        api_quota_exceeded(resp, req, quota, disk + uploads, 0, false);
        return false;
    }
    return true;
}

/* PUT ?action=run: a submitted (or failed) job is accepted; accepted or running stays. */
static void job_run(struct api *a, struct http_request *req, struct http_response *resp,
                    const char *app, struct job_info *j)
{
    if (j->state == JOB_ACCEPTED || j->state == JOB_RUNNING) {
        api_respond_status(resp, req, j);
        return;
    }
    if (!may_start(a, req, resp, app, j))
        return;
    int rc = store_job_transition(a->cfg.store, j->id, app,
                                  JOB_MASK(JOB_SUBMITTED) | JOB_MASK(JOB_FAILED), JOB_ACCEPTED,
                                  (int64_t)time(NULL), j);
    if (rc == GB_ESTATE) {
        char msg[128];
        snprintf(msg, sizeof(msg), "CANNOT RUN A %s JOB", job_state_name(j->state));
        for (char *p = msg; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        api_bad_request(resp, req, msg, NULL);
        return;
    }
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return;
    }
    worker_pool_kick(a->cfg.workers);
    api_respond_status(resp, req, j);
}

int api_job_put(struct api *a, struct http_request *req, struct http_response *resp,
                const char *app, int arg)
{
    (void)arg;
    const char *action = action_param(req);
    struct job_info j;
    if (!load_job(a, req, resp, app, false, &j))
        return HTTP_RESPOND;
    if (action && strcasecmp(action, "cancel") == 0)
        job_cancel(a, req, resp, app, &j);
    else if (action && strcasecmp(action, "run") == 0)
        job_run(a, req, resp, app, &j);
    else
        api_bad_request(resp, req, "PUT needs action=run or action=cancel", "action");
    return HTTP_RESPOND;
}

/*
 * Any other method: 405. POST at once; the others only for a job that exists, so that they
 * answer an unknown id with 404 as GET, PUT and DELETE do.
 */
int api_job_other(struct api *a, struct http_request *req, struct http_response *resp,
                  const char *app, int arg)
{
    (void)arg;
    struct job_info j;
    if (strcmp(req->method, "POST") != 0 && !load_job(a, req, resp, app, false, &j))
        return HTTP_RESPOND;
    api_method_not_allowed(resp, req);
    return HTTP_RESPOND;
}

/* ---- downloads ---- */

/*
 * Which file of the job directory answers a download, under which name, and whether it is a
 * zip: the job's outputcompressed, unless the request overrides it. Return false with resp
 * filled (400) for a bad outputcompressed.
 */
static bool pick_file(struct http_request *req, struct http_response *resp,
                      const struct job_info *j, enum api_job_file which, const char **file,
                      char *name, size_t cap, bool *zip)
{
    struct job_params params;
    params_init(&params);
    char err[256];
    params_decode(j->params, &params, err, sizeof(err));
    *zip = params.outputcompressed;
    const char *oc = http_param(req, "outputcompressed");
    if (oc && *oc) {
        char e2[64];
        if (params_set(&params, "outputcompressed", oc, e2, sizeof(e2)) < 0) {
            api_bad_request(resp, req, "outputcompressed must be true or false",
                            "outputcompressed");
            return false;
        }
        *zip = params.outputcompressed;
    }
    switch (which) {
    case API_FILE_RESULT:
        *file = *zip ? JOBDIR_RESULT_ZIP : JOBDIR_RESULT;
        jobdir_result_name(name, cap, j->finished, "out.txt");
        break;
    case API_FILE_NOMATCHES:
        *file = *zip ? JOBDIR_NOMATCH_ZIP : JOBDIR_NOMATCH;
        jobdir_result_name(name, cap, j->finished, "err.txt");
        break;
    case API_FILE_ALL:
        *zip = true;
        *file = JOBDIR_ALL_ZIP;
        name[0] = '\0';
        break;
    default:
        *zip = false;
        *file = JOBDIR_ERRORS;
        snprintf(name, cap, "%s_errors.txt", j->id);
        break;
    }
    return true;
}

/*
 * A store that keeps files (store.h, "Files"): copy the stored file of job id into a temporary
 * file of this node (<data>/tmp, unlinked at once: it lives as long as the response) and
 * return its descriptor at offset 0; -1 with errno set (ENOENT: the store has no such file).
 */
static int fetch_stored(struct api *a, const char *id, const char *file)
{
    char tmp[GB_PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/" JOBDIR_TMP "/download.XXXXXX", a->cfg.data_dir) >=
        sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    unlink(tmp);
    int rc = store_file_get(a->cfg.store, id, file, fd);
    if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        errno = rc == GB_ENOTFOUND ? ENOENT : rc > -4096 ? -rc : EIO;
        return -1;
    }
    return fd;
}

int api_job_file(struct api *a, struct http_request *req, struct http_response *resp,
                 const char *app, int arg)
{
    enum api_job_file which = (enum api_job_file)arg;
    struct job_info j;
    if (!load_job(a, req, resp, app, true, &j))
        return HTTP_RESPOND;
    if (which != API_FILE_ERRORS && j.state != JOB_COMPLETED) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Results are not available: the job is %s",
                 job_state_name(j.state));
        api_not_found(resp, req, msg);
        return HTTP_RESPOND;
    }
    const char *file;
    char name[160];
    bool zip;
    if (!pick_file(req, resp, &j, which, &file, name, sizeof(name), &zip))
        return HTTP_RESPOND;
    char path[GB_PATH_MAX];
    int rc = jobdir_path(path, sizeof(path), a->cfg.data_dir, j.id, file);
    int fd = -1;
    if (rc == 0 && store_keeps_files(a->cfg.store))
        fd = fetch_stored(a, j.id, file);
    else if (rc == 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        if (which == API_FILE_ERRORS && errno == ENOENT) {
            resp->status = 200;
            resp->content_type = CT_TEXT;
            return HTTP_RESPOND;
        }
        api_internal_error(resp, req, -errno);
        return HTTP_RESPOND;
    }
    resp->status = 200;
    resp->fd = fd;
    resp->size = (uint64_t)st.st_size;
    resp->content_type = zip ? CT_ZIP : CT_TEXT;
    if (zip)
        snprintf(resp->disposition, sizeof(resp->disposition), "attachment; filename=\"%s%s.zip\"",
                 j.id, which == API_FILE_ALL ? "_all" : "");
    else
        snprintf(resp->disposition, sizeof(resp->disposition), "inline; filename=\"%s\"", name);
    return HTTP_RESPOND;
}
