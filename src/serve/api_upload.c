/*
 * api_upload.c - POST /6.2/jobs: a job's upload, streamed.
 *
 * DESIGN. Body pieces go through a pipe to a validator thread that runs the one CSV reader over
 * the bytes as they arrive, counts valid and invalid lines, and hands them to the intake writer
 * (job/jobdir.h): the invalid lines' /errors text, the valid lines cut into chunk files under
 * <data>/tmp/<id>/. Only when the whole body is in and valid is that directory made durable,
 * renamed to <data>/jobs/<id>/ and the job inserted into the store; a rejected upload leaves
 * nothing behind. The body is never held in memory.
 *
 * Disk quota (--max-disk-per-app). What an application holds is the files of its jobs
 * (api_app_disk_usage: uploads, chunk outputs, results, zips) plus the body bytes of its uploads
 * in progress (counted per application under uploads_mu). An upload is refused at its headers
 * when that is already at the quota (or its Content-Length would pass it), cut as soon as its
 * body passes it, and checked exactly once it is whole: its own directory's bytes, the others'
 * bytes in progress taken before the job directories are measured (an upload that commits in
 * between is then counted twice, never missed), so that committed uploads never pass the quota.
 * Results are not known in advance: a job that runs may take its application over the quota;
 * from then on its uploads and starts are refused until jobs are deleted.
 *
 * A store that keeps the files (PostgreSQL) answers the application's bytes from a running
 * total (store_app_bytes), and checks both limits again in the transaction that creates the job
 * (store_job_create_within): uploads in progress are counted per node, and two nodes may commit
 * at the same instant, but the store lets no commit pass a limit. The answer is the one of the
 * node-local check: 429 for the job limit, 413 for the quota.
 *
 * Threads: the route handler, body() and end() run on the request's connection thread; one
 * validator thread per upload in progress owns the intake writer until it is joined.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"
#include "job/batch.h"
#include "job/jobdir.h"
#include "job/params.h"
#include "serve/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void api_new_request_id(char out[33])
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < 32) {
        unsigned char r[64];
        ssize_t got = getrandom(r, sizeof(r), 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* no randomness: refuse to make guessable ids */
        }
        for (ssize_t i = 0; i < got && n < 32; i++)
            if (r[i] < 248) /* 248 = 4 * 62: keeps the choice uniform */
                out[n++] = alnum[r[i] % 62];
    }
    out[32] = '\0';
}

struct upload {
    struct api *api;
    char id[STORE_ID_LEN + 1];
    char app[STORE_APP_MAX + 1];
    struct jobdir_intake *in; /* <data>/tmp/<id>/ until committed */
    struct job_params params;
    struct buf ptext;    /* encoded job parameters */
    bool run;            /* action=run */
    bool counted;        /* counted in api->uploads (until the store has the job) */
    uint32_t slot;       /* its application's api_app_uploads, when counted */
    uint64_t held;       /* body bytes counted in that slot's bytes */
    uint64_t quota_base; /* the application's bytes on disk when the upload began */
    bool over_quota;     /* the body passed the disk quota */
    int pipe_w, pipe_r;
    pthread_t th;
    bool th_running;
    uint64_t bytes;
    bool too_big;
    /* set by the validator thread */
    int rc;
    char err[512];
    uint64_t total, valid, invalid;
};

static void *validate_main(void *arg)
{
    struct upload *u = arg;
    struct api *a = u->api;
    struct csv_reader *r = NULL;
    struct batch *b = NULL;
    /* Room for the /errors line of any invalid line: "Line Number:N " and the line as received
     * (at most max_line bytes, or the CSV_RAW_PREFIX kept of an overlong one). */
    struct buf eline;
    size_t raw_max =
        a->cfg.limits.max_line > CSV_RAW_PREFIX ? a->cfg.limits.max_line : CSV_RAW_PREFIX;
    buf_init(&eline, raw_max + 64);
    int rc = csv_reader_new(&r, u->params.indelim, &a->cfg.limits, csv_read_fd, &u->pipe_r);
    if (rc < 0) {
        snprintf(u->err, sizeof(u->err), "invalid indelim");
        goto out;
    }
    struct csv_row row;
    rc = csv_next(r, &row);
    if (rc <= 0) {
        snprintf(u->err, sizeof(u->err), "%s", rc == 0 ? "Input data is empty" : "Upload failed");
        rc = rc == 0 ? GB_EEMPTY : rc;
        goto out;
    }
    if (row.error) {
        snprintf(u->err, sizeof(u->err), "Invalid header line (%s)", row.reason);
        rc = GB_EFORMAT;
        goto out;
    }
    char berr[256] = "";
    rc = batch_new(&b, a->cfg.index, &u->params, &row, berr, sizeof(berr));
    if (rc < 0) {
        snprintf(u->err, sizeof(u->err), "%s", berr[0] ? berr : gb_strerror(rc));
        goto out;
    }
    rc = jobdir_intake_header(u->in, row.raw, row.raw_len);
    if (rc < 0)
        goto io;
    while ((rc = csv_next(r, &row)) == 1) {
        if (u->valid + u->invalid >= a->cfg.max_records) {
            snprintf(u->err, sizeof(u->err), "Input has more than %llu records",
                     (unsigned long long)a->cfg.max_records);
            rc = GB_ELIMIT;
            goto out;
        }
        if (row.error) {
            u->invalid++;
            buf_reset(&eline);
            rc = batch_error_line(&row, &eline);
            if (rc == 0)
                rc = jobdir_intake_error(u->in, eline.data, eline.len);
            if (rc < 0)
                goto io;
            continue;
        }
        rc = jobdir_intake_row(u->in, row.raw, row.raw_len);
        if (rc < 0)
            goto io;
        u->valid++;
    }
    if (rc < 0) {
        snprintf(u->err, sizeof(u->err), "Upload interrupted");
        goto out;
    }
    rc = jobdir_intake_close(u->in);
    if (rc < 0)
        goto io;
    u->total = u->valid + u->invalid;
    if (u->total == 0) {
        snprintf(u->err, sizeof(u->err), "Input contains no records");
        rc = GB_EEMPTY;
    }
    goto out;
io:
    snprintf(u->err, sizeof(u->err), "Cannot store the input");
    log_error("upload io id=%s err=%s", u->id, gb_errname(rc));
    rc = rc < 0 ? rc : GB_EINTERNAL;
out:
    jobdir_intake_close(u->in);
    buf_release(&eline);
    batch_free(b);
    csv_reader_free(r);
    /* Closing our end makes a writer that is still sending get EPIPE and stop. */
    close(u->pipe_r);
    u->pipe_r = -1;
    u->rc = rc < 0 ? rc : 0;
    return NULL;
}

static void upload_abort(struct upload *u)
{
    if (u->pipe_w >= 0) {
        close(u->pipe_w);
        u->pipe_w = -1;
    }
    if (u->th_running) {
        pthread_join(u->th, NULL);
        u->th_running = false;
    }
    if (u->pipe_r >= 0) {
        close(u->pipe_r);
        u->pipe_r = -1;
    }
}

/* Stop counting u as one of its application's uploads in progress (under a->uploads_mu). */
static void uncount_locked(struct upload *u)
{
    if (!u->counted)
        return;
    struct api_app_uploads *s = &u->api->app_uploads[u->slot];
    s->n--;
    s->bytes -= u->held;
    u->held = 0;
    u->counted = false;
}

/* The index of app's api_app_uploads, made when it has none (under a->uploads_mu). */
static uint32_t app_slot_locked(struct api *a, const char *app)
{
    int inserted;
    uint32_t *v = smap_put(&a->uploads, app, strlen(app), (uint32_t)a->napp_uploads, &inserted);
    if (inserted) {
        VEC_GROW(a->app_uploads, a->napp_uploads, a->capapp_uploads);
        a->app_uploads[a->napp_uploads++] = (struct api_app_uploads){0, 0};
    }
    return *v;
}

/* The body bytes of app's uploads in progress but u (under a->uploads_mu). */
static uint64_t others_bytes_locked(const struct upload *u)
{
    return u->counted ? u->api->app_uploads[u->slot].bytes - u->held : 0;
}

uint64_t api_app_uploads_bytes(struct api *a, const char *app)
{
    pthread_mutex_lock(&a->uploads_mu);
    uint32_t *slot = smap_get(&a->uploads, app, strlen(app));
    uint64_t bytes = slot ? a->app_uploads[*slot].bytes : 0;
    pthread_mutex_unlock(&a->uploads_mu);
    return bytes;
}

struct usage_sum {
    const char *data;
    uint64_t bytes;
};

static int add_job_usage(void *ctx, const struct job_info *j)
{
    struct usage_sum *s = ctx;
    uint64_t b = 0;
    if (jobdir_usage(s->data, j->id, &b) == 0)
        s->bytes += b;
    return 0;
}

int api_app_disk_usage(struct api *a, const char *app, uint64_t *out)
{
    if (store_keeps_files(a->cfg.store)) /* the files are the store's: its running total */
        return store_app_bytes(a->cfg.store, app, out);
    struct usage_sum s = {a->cfg.data_dir, 0};
    uint64_t total = 0;
    int rc = store_job_list(a->cfg.store, app, 0, UINT32_MAX, add_job_usage, &s, &total);
    if (rc == 0)
        *out = s.bytes;
    return rc;
}

void api_quota_exceeded(struct http_response *resp, const struct http_request *req, uint64_t quota,
                        uint64_t used, uint64_t need, bool at_least)
{
    char msg[256], needs[96] = "";
    if (need)
        snprintf(needs, sizeof(needs), ", the request needs %s%llu more",
                 at_least ? "at least " : "", (unsigned long long)need);
    snprintf(msg, sizeof(msg),
             "Disk quota of this application exceeded: %llu of %llu bytes in use%s; delete jobs "
             "to free space",
             (unsigned long long)used, (unsigned long long)quota, needs);
    api_respond_error(resp, req, 413, "ApplicationError", "ExceededUsageLimit", msg, NULL);
}

/*
 * Refuse an upload at its headers when its application's bytes on disk and in progress are at
 * the disk quota, or would pass it with the Content-Length. Return true to go on (u->quota_base
 * set), or false with resp filled.
 */
static bool quota_admit(struct api *a, struct http_request *req, struct http_response *resp,
                        struct upload *u)
{
    uint64_t quota = a->cfg.max_disk_per_app;
    if (!quota)
        return true;
    pthread_mutex_lock(&a->uploads_mu);
    uint64_t others = others_bytes_locked(u);
    pthread_mutex_unlock(&a->uploads_mu);
    uint64_t disk = 0;
    int rc = api_app_disk_usage(a, u->app, &disk);
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return false;
    }
    u->quota_base = disk;
    uint64_t need = req->has_length ? req->content_length : 0;
    if (disk + others >= quota || disk + others + need > quota) {
        api_quota_exceeded(resp, req, quota, disk + others, need, false);
        return false;
    }
    return true;
}

/*
 * The exact check of a whole upload before it is committed: its directory's bytes, with the
 * application's other uploads in progress and its job directories. Return true to commit, or
 * false with resp filled.
 */
static bool quota_commit_ok(struct api *a, struct http_request *req, struct http_response *resp,
                            struct upload *u)
{
    uint64_t quota = a->cfg.max_disk_per_app;
    if (!quota)
        return true;
    pthread_mutex_lock(&a->uploads_mu);
    uint64_t others = others_bytes_locked(u); /* first: see DESIGN */
    pthread_mutex_unlock(&a->uploads_mu);
    uint64_t disk = 0, own = 0;
    int rc = api_app_disk_usage(a, u->app, &disk);
    if (rc == 0)
        rc = jobdir_tmp_usage(a->cfg.data_dir, u->id, &own);
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        return false;
    }
    if (disk + others + own > quota) {
        api_quota_exceeded(resp, req, quota, disk + others, own, false);
        return false;
    }
    return true;
}

/*
 * Admit an upload of app when its jobs in the store (submitted, accepted, running) and its
 * uploads in progress are under --max-jobs-per-app, and count it among the latter: one step
 * under uploads_mu, so that many uploads sent at once cannot all pass. Return 0, GB_ELIMIT, or
 * the store's error.
 */
static int admit_upload(struct api *a, struct upload *u)
{
    pthread_mutex_lock(&a->uploads_mu);
    uint64_t active = 0;
    int rc = store_job_count_active(a->cfg.store, u->app, &active);
    uint32_t slot = app_slot_locked(a, u->app);
    if (rc == 0 && active + a->app_uploads[slot].n >= a->cfg.max_jobs_per_app)
        rc = GB_ELIMIT;
    if (rc == 0) {
        a->app_uploads[slot].n++;
        u->slot = slot;
        u->counted = true;
    }
    pthread_mutex_unlock(&a->uploads_mu);
    return rc;
}

/* 429 ApplicationError / ExceededUsageLimit: --max-jobs-per-app. */
static void jobs_limit_reached(struct api *a, struct http_request *req, struct http_response *resp)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Too many jobs in progress for this application (limit %llu)",
             (unsigned long long)a->cfg.max_jobs_per_app);
    api_respond_error(resp, req, 429, "ApplicationError", "ExceededUsageLimit", msg, NULL);
    resp->retry_after = 60;
}

void api_upload_free(struct upload *u)
{
    if (!u)
        return;
    if (u->counted) {
        pthread_mutex_lock(&u->api->uploads_mu);
        uncount_locked(u);
        pthread_mutex_unlock(&u->api->uploads_mu);
    }
    upload_abort(u);
    jobdir_intake_free(u->in); /* removes the temp dir of an upload that did not make it */
    buf_release(&u->ptext);
    free(u);
}

/* Names that are not job parameters. */
static bool is_credential_or_action(const char *name)
{
    static const char *const names[] = {"app_id", "app_code", "token", "apikey", "action"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

static int begin_upload(struct api *a, struct http_request *req, struct http_response *resp,
                        const char *app, bool run)
{
    struct upload *u = xcalloc(1, sizeof(*u));
    u->api = a;
    u->pipe_r = u->pipe_w = -1;
    u->run = run;
    snprintf(u->app, sizeof(u->app), "%s", app);
    api_new_request_id(u->id);
    params_init(&u->params);
    buf_init(&u->ptext, STORE_PARAMS_MAX);
    char err[256] = "", msg[512];
    for (size_t i = 0; i < req->nparams; i++) {
        const struct http_param *p = &req->params[i];
        if (is_credential_or_action(p->name))
            continue;
        int rc = params_set(&u->params, p->name, p->value, err, sizeof(err));
        if (rc < 0) {
            snprintf(msg, sizeof(msg), "Input parameter validation failed. JobId: %s %s", u->id,
                     err);
            api_bad_request(resp, req, msg, p->name);
            goto fail;
        }
        if (params_encode(&u->ptext, p->name, p->value) < 0) {
            snprintf(msg, sizeof(msg), "Input parameter validation failed. JobId: %s %s", u->id,
                     "parameters too long");
            api_bad_request(resp, req, msg, NULL);
            goto fail;
        }
    }
    if (params_check(&u->params, err, sizeof(err)) < 0) {
        snprintf(msg, sizeof(msg), "Input parameter validation failed. JobId: %s %s", u->id, err);
        api_bad_request(resp, req, msg, PARAMS_CHECKED);
        goto fail;
    }
    if (req->has_length && req->content_length > a->cfg.max_body) {
        snprintf(msg, sizeof(msg), "Input data is larger than %llu bytes",
                 (unsigned long long)a->cfg.max_body);
        api_bad_request(resp, req, msg, NULL);
        goto fail;
    }
    int rc = admit_upload(a, u);
    if (rc < 0 && rc != GB_ELIMIT) {
        api_internal_error(resp, req, rc);
        goto fail;
    }
    if (rc == GB_ELIMIT) {
        jobs_limit_reached(a, req, resp);
        goto fail;
    }
    if (!quota_admit(a, req, resp, u))
        goto fail;
    rc = jobdir_intake_open(&u->in, a->cfg.data_dir, u->id, a->cfg.chunk_rows);
    if (rc < 0) {
        api_internal_error(resp, req, rc);
        goto fail;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        api_internal_error(resp, req, -errno);
        goto fail;
    }
    u->pipe_r = fds[0];
    u->pipe_w = fds[1];
    rc = pthread_create(&u->th, NULL, validate_main, u);
    if (rc != 0) {
        api_internal_error(resp, req, -rc);
        goto fail;
    }
    u->th_running = true;
    req->state = u;
    return HTTP_READ_BODY;
fail:
    api_upload_free(u);
    return HTTP_RESPOND;
}

int api_upload_body(struct upload *u, const char *data, size_t n)
{
    u->bytes += n;
    if (u->bytes > u->api->cfg.max_body) {
        u->too_big = true;
        return HTTP_BODY_REFUSE; /* answered now, the rest is never read */
    }
    uint64_t quota = u->api->cfg.max_disk_per_app;
    if (quota && u->counted) {
        pthread_mutex_lock(&u->api->uploads_mu);
        struct api_app_uploads *s = &u->api->app_uploads[u->slot];
        s->bytes += n;
        u->held += n;
        uint64_t all = s->bytes;
        pthread_mutex_unlock(&u->api->uploads_mu);
        if (u->quota_base + all > quota) {
            u->over_quota = true;
            return HTTP_BODY_REFUSE; /* answered now, the rest is never read */
        }
    }
    if (u->pipe_w < 0)
        return -1;
    if (fs_write_all(u->pipe_w, data, n) < 0)
        return -1; /* EPIPE: the validator stopped (a limit or a bad header) */
    return 0;
}

/* Remove the temporary directory of an upload that is refused, before the answer is sent: a
 * client that has its 400 finds nothing of it left. */
static void upload_discard(struct upload *u)
{
    jobdir_intake_free(u->in);
    u->in = NULL;
}

void api_upload_end(struct api *a, struct http_request *req, struct upload *u,
                    struct http_response *resp)
{
    upload_abort(u); /* EOF for the validator, then wait for its verdict */
    char msg[768];
    if (u->too_big || u->over_quota || u->rc < 0)
        upload_discard(u);
    if (u->over_quota) {
        pthread_mutex_lock(&a->uploads_mu);
        uint64_t others = others_bytes_locked(u);
        pthread_mutex_unlock(&a->uploads_mu);
        api_quota_exceeded(resp, req, a->cfg.max_disk_per_app, u->quota_base + others, u->bytes,
                           true);
        return;
    }
    if (u->too_big) {
        snprintf(msg, sizeof(msg), "Input data is larger than %llu bytes",
                 (unsigned long long)a->cfg.max_body);
        api_bad_request(resp, req, msg, NULL);
        return;
    }
    if (u->rc < 0) {
        if (u->rc == -EIO || u->rc == -ENOSPC || u->rc == -EFBIG || u->rc == -EDQUOT ||
            u->rc == -EMFILE || u->rc == -ENFILE || u->rc == GB_EINTERNAL) {
            api_internal_error(resp, req, u->rc);
            return;
        }
        snprintf(msg, sizeof(msg), "Invalid input data. JobId: %s %s", u->id, u->err);
        api_bad_request(resp, req, msg, NULL);
        return;
    }
    if (!quota_commit_ok(a, req, resp, u)) {
        upload_discard(u);
        return;
    }
    /* Make the files durable, then move the job into place and record it. */
    int rc = jobdir_intake_commit(u->in);
    bool committed = rc == 0;
    uint64_t used = 0; /* the application's bytes, when the store refuses the quota */
    struct job_info j;
    memset(&j, 0, sizeof(j));
    memcpy(j.id, u->id, sizeof(j.id));
    snprintf(j.app, sizeof(j.app), "%s", u->app);
    j.state = u->run ? JOB_ACCEPTED : JOB_SUBMITTED;
    j.created = (int64_t)time(NULL);
    j.total = u->total;
    j.valid = u->valid;
    j.invalid = u->invalid;
    j.nchunks = jobdir_intake_chunks(u->in);
    j.max_line = a->cfg.limits.max_line; /* the job keeps the limits its input was checked with */
    j.max_field = a->cfg.limits.max_field;
    j.max_fields = a->cfg.limits.max_fields;
    snprintf(j.params, sizeof(j.params), "%s", buf_str(&u->ptext));
    if (rc == 0) {
        /* From now on the store counts the job: no moment where it counts twice or not at all. */
        char dir[GB_PATH_MAX];
        rc = jobdir_path(dir, sizeof(dir), a->cfg.data_dir, u->id, NULL);
        struct store_app_limits lim = {a->cfg.max_jobs_per_app, a->cfg.max_disk_per_app};
        pthread_mutex_lock(&a->uploads_mu);
        if (rc == 0)
            rc = store_job_create_within(a->cfg.store, &j, dir, &lim, &used);
        if (rc == 0)
            uncount_locked(u);
        pthread_mutex_unlock(&a->uploads_mu);
        /* A store that keeps files has the job's files now (or nothing): the local copy was
         * only a temporary one. */
        if (rc == 0 && store_keeps_files(a->cfg.store))
            jobdir_remove(a->cfg.data_dir, u->id);
    }
    if (rc < 0) {
        if (committed)
            jobdir_remove(a->cfg.data_dir, u->id);
        else
            upload_discard(u);
        if (rc == GB_ELIMIT)
            jobs_limit_reached(a, req, resp);
        else if (rc == -EDQUOT)
            api_quota_exceeded(resp, req, a->cfg.max_disk_per_app, used, u->bytes, false);
        else
            api_internal_error(resp, req, rc);
        return;
    }
    if (u->run)
        worker_pool_kick(a->cfg.workers);
    log_info("job created id=%s state=%s total=%llu valid=%llu invalid=%llu bytes=%llu", j.id,
             job_state_name(j.state), (unsigned long long)j.total, (unsigned long long)j.valid,
             (unsigned long long)j.invalid, (unsigned long long)u->bytes);
    api_respond_status(resp, req, &j);
}

int api_upload_begin(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, int arg)
{
    (void)arg;
    const char *action = http_param(req, "action");
    bool run = action && strcasecmp(action, "run") == 0;
    if (action && *action && !run) {
        api_bad_request(resp, req, "Unsupported action for POST; use action=run", "action");
        return HTTP_RESPOND;
    }
    return begin_upload(a, req, resp, app, run);
}
