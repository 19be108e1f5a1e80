/*
 * api.c - the endpoints of the HERE Batch Geocoder 6.2 job API (see api.h, docs/api.md).
 *
 * DESIGN. Every /6.2 request is authenticated and rate limited first, then dispatched on
 * (route, method, action). Uploads stream: body pieces go through a pipe to a validator
 * thread that runs the one CSV reader over the bytes as they arrive, counts valid and invalid
 * lines, writes the invalid lines' /errors text, and splits the valid lines into chunk files
 * under <data>/tmp/<id>/. Only when the whole body is in and valid is that directory fsynced,
 * renamed to <data>/jobs/<id>/ and the job inserted into the store; a rejected upload leaves
 * nothing behind. The body is never held in memory. Downloads are answered with the file's
 * descriptor (MHD streams it).
 *
 * Threads: any number of connection threads call the handler; the only shared mutable state
 * here is the rate-limit table (mutex). One validator thread per upload in progress.
 */
#include "serve/api.h"
#include "serve/auth.h"
#include "job/batch.h"
#include "base/conf.h"
#include "base/err.h"
#include "index/index.h"
#include "base/log.h"
#include "job/params.h"
#include "serve/worker.h"
#include "job/jobdir.h"
#include "base/fsio.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
#define NS_BATCH "http://www.navteq.com/lbsp/Search-Batch/1"
#define NS_ERROR "http://www.navteq.com/lbsp/Errors/1"
#define CT_XML   "application/xml; charset=UTF-8"
#define CT_JSON  "application/json; charset=UTF-8"
#define CT_TEXT  "text/plain; charset=UTF-8"
#define CT_ZIP   "application/zip"

#define RATE_SLOTS 4096

struct rate_slot {
    char app[STORE_APP_MAX + 1];
    double tokens;
    double last; /* monotonic seconds */
};

struct api {
    struct api_config cfg;
    struct http_server *http;
    pthread_mutex_t rate_mu;
    struct rate_slot *rate;
    size_t nrate;
};

/* ---- documents ---- */

void api_format_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
        out[0] = '\0';
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one.
 * Details and AdditionalData echo what the client sent (a parameter value, a column name,
 * possibly cut at a buffer's end), and one stray byte such as indelim=%FF made the whole XML
 * or JSON document ill-formed; invalid bytes are now written as '?'.
 */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, min = 0x80, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, min = 0x800, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int xml_escape(struct buf *out, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if ((unsigned char)*s >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s);
            rc = n ? buf_append(out, s, n) : buf_putc(out, '?');
            s += n ? n - 1 : 0;
            continue;
        }
        switch (*s) {
        case '&':
            rc = buf_puts(out, "&amp;");
            break;
        case '<':
            rc = buf_puts(out, "&lt;");
            break;
        case '>':
            rc = buf_puts(out, "&gt;");
            break;
        case '"':
            rc = buf_puts(out, "&quot;");
            break;
        case '\'':
            rc = buf_puts(out, "&apos;");
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                rc = buf_putc(out, ' ');
            else
                rc = buf_putc(out, *s);
        }
    }
    return rc;
}

static int json_string(struct buf *out, const char *s)
{
    int rc = buf_putc(out, '"');
    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = buf_puts(out, "\\n");
        else if (c == '\t')
            rc = buf_puts(out, "\\t");
        else if (c < 0x20)
            rc = buf_printf(out, "\\u%04x", c);
        else if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s);
            rc = n ? buf_append(out, s, n) : buf_putc(out, '?');
            s += n ? n - 1 : 0;
        } else
            rc = buf_putc(out, (char)c);
    }
    return rc ? rc : buf_putc(out, '"');
}

static bool counts_visible(enum job_state s)
{
    return s != JOB_SUBMITTED && s != JOB_ACCEPTED;
}

static const char *const count_names[7] = {"TotalCount",     "ValidCount",   "InvalidCount",
                                           "ProcessedCount", "PendingCount", "SuccessCount",
                                           "ErrorCount"};

static void job_counts(const struct job_info *j, unsigned long long c[7])
{
    memset(c, 0, 7 * sizeof(c[0]));
    if (!counts_visible(j->state))
        return;
    c[0] = j->total;
    c[1] = j->valid;
    c[2] = j->invalid;
    c[3] = j->processed;
    c[4] = j->valid > j->processed ? j->valid - j->processed : 0;
    c[5] = j->success;
    c[6] = j->error;
}

/* Append the members of one job's Response (XML elements or JSON members, no wrapper). */
static int job_fields(struct buf *out, const struct job_info *j, bool json)
{
    char ts[32];
    unsigned long long c[7];
    job_counts(j, c);
    bool started = j->started && counts_visible(j->state);
    bool finished = j->finished && (j->state == JOB_COMPLETED || j->state == JOB_CANCELLED ||
                                    j->state == JOB_FAILED || j->state == JOB_DELETED);
    int rc;
    if (json) {
        rc = buf_printf(out, "\"MetaInfo\":{\"RequestId\":\"%s\"},\"Status\":\"%s\"", j->id,
                        job_state_name(j->state));
        if (rc == 0 && started) {
            api_format_time(ts, j->started);
            rc = buf_printf(out, ",\"JobStarted\":\"%s\"", ts);
        }
        if (rc == 0 && finished) {
            api_format_time(ts, j->finished);
            rc = buf_printf(out, ",\"JobFinished\":\"%s\"", ts);
        }
        for (int i = 0; rc == 0 && i < 7; i++)
            rc = buf_printf(out, ",\"%s\":%llu", count_names[i], c[i]);
        return rc;
    }
    rc = buf_printf(out, "<MetaInfo><RequestId>%s</RequestId></MetaInfo><Status>%s</Status>", j->id,
                    job_state_name(j->state));
    if (rc == 0 && started) {
        api_format_time(ts, j->started);
        rc = buf_printf(out, "<JobStarted>%s</JobStarted>", ts);
    }
    if (rc == 0 && finished) {
        api_format_time(ts, j->finished);
        rc = buf_printf(out, "<JobFinished>%s</JobFinished>", ts);
    }
    for (int i = 0; rc == 0 && i < 7; i++)
        rc = buf_printf(out, "<%s>%llu</%s>", count_names[i], c[i], count_names[i]);
    return rc;
}

int api_doc_status(struct buf *out, const struct job_info *j, bool json)
{
    int rc;
    if (json) {
        rc = buf_puts(out, "{\"Response\":{");
        if (rc == 0)
            rc = job_fields(out, j, true);
        return rc ? rc : buf_puts(out, "}}");
    }
    rc = buf_puts(out, XML_HEAD "<ns2:SearchBatch xmlns:ns2=\"" NS_BATCH "\"><Response>");
    if (rc == 0)
        rc = job_fields(out, j, false);
    return rc ? rc : buf_puts(out, "</Response></ns2:SearchBatch>");
}

int api_doc_error(struct buf *out, bool json, const char *type, const char *subtype,
                  const char *details, const char *additional_key)
{
    int rc;
    if (json) {
        rc = buf_printf(out, "{\"type\":\"%s\",\"subtype\":\"%s\",\"Details\":", type, subtype);
        if (rc == 0)
            rc = json_string(out, details);
        if (rc == 0 && additional_key) {
            rc = buf_puts(out, ",\"AdditionalData\":[{\"key\":");
            if (rc == 0)
                rc = json_string(out, additional_key);
            if (rc == 0)
                rc = buf_puts(out, "}]");
        }
        return rc ? rc : buf_putc(out, '}');
    }
    rc = buf_printf(out,
                    XML_HEAD "<ns2:Error xmlns:ns2=\"" NS_ERROR "\" type=\"%s\" subtype=\"%s\">"
                             "<Details>",
                    type, subtype);
    if (rc == 0)
        rc = xml_escape(out, details);
    if (rc == 0)
        rc = buf_puts(out, "</Details>");
    if (rc == 0 && additional_key) {
        rc = buf_puts(out, "<AdditionalData key=\"");
        if (rc == 0)
            rc = xml_escape(out, additional_key);
        if (rc == 0)
            rc = buf_puts(out, "\"/>");
    }
    return rc ? rc : buf_puts(out, "</ns2:Error>");
}

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

/* ---- responses ---- */

static void respond_doc_error(struct http_response *resp, const struct http_request *req,
                              int status, const char *type, const char *subtype,
                              const char *details, const char *key)
{
    bool json = http_wants_json(req);
    buf_reset(&resp->body);
    resp->status = status;
    resp->content_type = json ? CT_JSON : CT_XML;
    api_doc_error(&resp->body, json, type, subtype, details, key);
}

static void bad_request(struct http_response *resp, const struct http_request *req,
                        const char *details, const char *key)
{
    respond_doc_error(resp, req, 400, "ApplicationError", "InvalidInputData", details, key);
}

static void not_found(struct http_response *resp, const struct http_request *req,
                      const char *details)
{
    respond_doc_error(resp, req, 404, "ApplicationError", "NotFound", details, NULL);
}

static void internal_error(struct http_response *resp, const struct http_request *req, int rc)
{
    log_error("api internal error path=%s err=%s", req->path, gb_errname(rc));
    respond_doc_error(resp, req, 500, "SystemError", "InternalError", "Internal server error",
                      NULL);
}

static void method_not_allowed(struct http_response *resp, const struct http_request *req,
                               const char *allow)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Method %s is not allowed here; use %s", req->method, allow);
    respond_doc_error(resp, req, 405, "ApplicationError", "MethodNotAllowed", msg, NULL);
    resp->allow = allow;
}

static void respond_status(struct http_response *resp, const struct http_request *req,
                           const struct job_info *j)
{
    bool json = http_wants_json(req);
    buf_reset(&resp->body);
    resp->status = 200;
    resp->content_type = json ? CT_JSON : CT_XML;
    api_doc_status(&resp->body, j, json);
}

/* ---- authentication and rate limits ---- */

static int authenticate(struct api *a, const struct http_request *req, char *app, size_t cap)
{
    const char *code = http_param(req, "app_code");
    if (!code)
        code = http_param(req, "token");
    const char *key = http_param(req, "apiKey");
    if (!key && req->authorization && strncasecmp(req->authorization, "Bearer ", 7) == 0) {
        key = req->authorization + 7;
        while (*key == ' ')
            key++;
    }
    return auth_check(a->cfg.auth, http_param(req, "app_id"), code, key, app, cap);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take one token from app's bucket. Return true when the request may go on. */
static bool rate_take(struct api *a, const char *app)
{
    if (a->cfg.rate <= 0)
        return true;
    double now = mono_now();
    bool ok;
    pthread_mutex_lock(&a->rate_mu);
    struct rate_slot *s = NULL;
    for (size_t i = 0; i < a->nrate && !s; i++)
        if (strcmp(a->rate[i].app, app) == 0)
            s = &a->rate[i];
    if (!s) {
        if (a->nrate == RATE_SLOTS)
            a->nrate = 0; /* the table is full of idle applications: start afresh */
        s = &a->rate[a->nrate++];
        snprintf(s->app, sizeof(s->app), "%s", app);
        s->tokens = a->cfg.burst;
        s->last = now;
    }
    s->tokens += (now - s->last) * a->cfg.rate;
    if (s->tokens > a->cfg.burst)
        s->tokens = a->cfg.burst;
    s->last = now;
    ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    pthread_mutex_unlock(&a->rate_mu);
    return ok;
}

/* ---- uploads ---- */

struct upload {
    struct api *api;
    char id[STORE_ID_LEN + 1];
    char app[STORE_APP_MAX + 1];
    struct jobdir_intake *in; /* <data>/tmp/<id>/ until committed */
    struct job_params params;
    struct buf ptext; /* encoded job parameters */
    bool run;         /* action=run */
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
    struct buf eline;
    buf_init(&eline, CSV_RAW_PREFIX + 256);
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

static void upload_free(struct upload *u)
{
    if (!u)
        return;
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
            bad_request(resp, req, msg, p->name);
            goto fail;
        }
        if (params_encode(&u->ptext, p->name, p->value) < 0) {
            snprintf(msg, sizeof(msg), "Input parameter validation failed. JobId: %s %s", u->id,
                     "parameters too long");
            bad_request(resp, req, msg, NULL);
            goto fail;
        }
    }
    if (params_check(&u->params, err, sizeof(err)) < 0) {
        snprintf(msg, sizeof(msg), "Input parameter validation failed. JobId: %s %s", u->id, err);
        bad_request(resp, req, msg, NULL);
        goto fail;
    }
    if (req->has_length && req->content_length > a->cfg.max_body) {
        snprintf(msg, sizeof(msg), "Input data is larger than %llu bytes",
                 (unsigned long long)a->cfg.max_body);
        bad_request(resp, req, msg, NULL);
        goto fail;
    }
    uint64_t active = 0;
    int rc = store_job_count_active(a->cfg.store, app, &active);
    if (rc < 0) {
        internal_error(resp, req, rc);
        goto fail;
    }
    if (active >= a->cfg.max_jobs_per_app) {
        snprintf(msg, sizeof(msg), "Too many jobs in progress for this application (limit %llu)",
                 (unsigned long long)a->cfg.max_jobs_per_app);
        respond_doc_error(resp, req, 429, "ApplicationError", "ExceededUsageLimit", msg, NULL);
        resp->retry_after = 60;
        goto fail;
    }
    rc = jobdir_intake_open(&u->in, a->cfg.data_dir, u->id, a->cfg.chunk_rows);
    if (rc < 0) {
        internal_error(resp, req, rc);
        goto fail;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        internal_error(resp, req, -errno);
        goto fail;
    }
    u->pipe_r = fds[0];
    u->pipe_w = fds[1];
    rc = pthread_create(&u->th, NULL, validate_main, u);
    if (rc != 0) {
        internal_error(resp, req, -rc);
        goto fail;
    }
    u->th_running = true;
    req->state = u;
    return HTTP_READ_BODY;
fail:
    upload_free(u);
    return HTTP_RESPOND;
}

static int upload_body(struct upload *u, const char *data, size_t n)
{
    u->bytes += n;
    if (u->bytes > u->api->cfg.max_body) {
        u->too_big = true;
        return -1;
    }
    if (u->pipe_w < 0)
        return -1;
    if (fs_write_all(u->pipe_w, data, n) < 0)
        return -1; /* EPIPE: the validator stopped (a limit or a bad header) */
    return 0;
}

static void upload_end(struct api *a, struct http_request *req, struct upload *u,
                       struct http_response *resp)
{
    upload_abort(u); /* EOF for the validator, then wait for its verdict */
    char msg[768];
    if (u->too_big) {
        snprintf(msg, sizeof(msg), "Input data is larger than %llu bytes",
                 (unsigned long long)a->cfg.max_body);
        bad_request(resp, req, msg, NULL);
        return;
    }
    if (u->rc < 0) {
        if (u->rc == -EIO || u->rc == -ENOSPC || u->rc == -EFBIG || u->rc == -EDQUOT ||
            u->rc == GB_EINTERNAL) {
            internal_error(resp, req, u->rc);
            return;
        }
        snprintf(msg, sizeof(msg), "Invalid input data. JobId: %s %s", u->id, u->err);
        bad_request(resp, req, msg, NULL);
        return;
    }
    /* Make the files durable, then move the job into place and record it. */
    int rc = jobdir_intake_commit(u->in);
    bool committed = rc == 0;
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
    snprintf(j.params, sizeof(j.params), "%s", buf_str(&u->ptext));
    if (rc == 0)
        rc = store_job_create(a->cfg.store, &j);
    if (rc < 0) {
        if (committed)
            jobdir_remove(a->cfg.data_dir, u->id);
        internal_error(resp, req, rc);
        return;
    }
    if (u->run)
        worker_pool_kick(a->cfg.workers);
    log_info("job created id=%s state=%s total=%llu valid=%llu invalid=%llu bytes=%llu", j.id,
             job_state_name(j.state), (unsigned long long)j.total, (unsigned long long)j.valid,
             (unsigned long long)j.invalid, (unsigned long long)u->bytes);
    respond_status(resp, req, &j);
}

/* ---- job endpoints ---- */

static void job_action(struct api *a, struct http_request *req, struct http_response *resp,
                       const char *app)
{
    const struct http_route *rt = &req->route;
    const char *action = http_param(req, "action");
    if (action && !*action)
        action = NULL;
    struct job_info j;
    if (!rt->id_valid) {
        not_found(resp, req, "Unknown RequestId");
        return;
    }
    int rc = store_job_get(a->cfg.store, rt->id, app, &j);
    if (rc == GB_ENOTFOUND) {
        not_found(resp, req, "Unknown RequestId");
        return;
    }
    if (rc < 0) {
        internal_error(resp, req, rc);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        if (action && strcasecmp(action, "status") != 0) {
            bad_request(resp, req, "Unsupported action for GET; use action=status", "action");
            return;
        }
        respond_status(resp, req, &j);
        return;
    }
    if (strcmp(req->method, "DELETE") == 0) {
        if (j.state != JOB_DELETED) {
            rc = store_job_transition(a->cfg.store, j.id, app, ~JOB_MASK(JOB_DELETED) & 0x7f,
                                      JOB_DELETED, now, &j);
            if (rc < 0 && rc != GB_ESTATE) {
                internal_error(resp, req, rc);
                return;
            }
            jobdir_remove(a->cfg.data_dir, j.id);
            log_info("job deleted id=%s", j.id);
        }
        respond_status(resp, req, &j);
        return;
    }
    if (strcmp(req->method, "PUT") != 0) {
        method_not_allowed(resp, req, "GET, PUT, DELETE");
        return;
    }
    if (action && strcasecmp(action, "cancel") == 0) {
        rc = store_job_transition(a->cfg.store, j.id, app,
                                  JOB_MASK(JOB_SUBMITTED) | JOB_MASK(JOB_ACCEPTED) |
                                      JOB_MASK(JOB_RUNNING),
                                  JOB_CANCELLED, now, &j);
        if (rc == GB_ESTATE) {
            bad_request(resp, req,
                        "CANNOT CANCEL THE COMPLETED, DELETED, FAILED OR ALREADY CANCELLED JOB",
                        NULL);
            return;
        }
        if (rc < 0) {
            internal_error(resp, req, rc);
            return;
        }
        log_info("job cancelled id=%s", j.id);
        respond_status(resp, req, &j);
        return;
    }
    if (action && strcasecmp(action, "run") == 0) {
        if (j.state == JOB_ACCEPTED || j.state == JOB_RUNNING) {
            respond_status(resp, req, &j);
            return;
        }
        rc = store_job_transition(a->cfg.store, j.id, app,
                                  JOB_MASK(JOB_SUBMITTED) | JOB_MASK(JOB_FAILED), JOB_ACCEPTED, now,
                                  &j);
        if (rc == GB_ESTATE) {
            char msg[128];
            snprintf(msg, sizeof(msg), "CANNOT RUN A %s JOB", job_state_name(j.state));
            for (char *p = msg; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 'a' + 'A');
            bad_request(resp, req, msg, NULL);
            return;
        }
        if (rc < 0) {
            internal_error(resp, req, rc);
            return;
        }
        worker_pool_kick(a->cfg.workers);
        respond_status(resp, req, &j);
        return;
    }
    bad_request(resp, req, "PUT needs action=run or action=cancel", "action");
}

static void job_file(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app)
{
    const struct http_route *rt = &req->route;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        method_not_allowed(resp, req, "GET");
        return;
    }
    struct job_info j;
    int rc = rt->id_valid ? store_job_get(a->cfg.store, rt->id, app, &j) : GB_ENOTFOUND;
    if (rc == GB_ENOTFOUND || (rc == 0 && j.state == JOB_DELETED)) {
        not_found(resp, req, "Unknown RequestId");
        return;
    }
    if (rc < 0) {
        internal_error(resp, req, rc);
        return;
    }
    if (rt->file != FILE_ERRORS && j.state != JOB_COMPLETED) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Results are not available: the job is %s",
                 job_state_name(j.state));
        not_found(resp, req, msg);
        return;
    }
    struct job_params params;
    params_init(&params);
    char err[256];
    params_decode(j.params, &params, err, sizeof(err));
    bool zip = params.outputcompressed;
    const char *oc = http_param(req, "outputcompressed");
    if (oc && *oc) {
        char e2[64];
        if (params_set(&params, "outputcompressed", oc, e2, sizeof(e2)) < 0) {
            bad_request(resp, req, "outputcompressed must be true or false", "outputcompressed");
            return;
        }
        zip = params.outputcompressed;
    }
    const char *file;
    char name[160];
    switch (rt->file) {
    case FILE_RESULT:
        file = zip ? "result.zip" : "result.txt";
        jobdir_result_name(name, sizeof(name), j.finished, "out.txt");
        break;
    case FILE_NOMATCHES:
        file = zip ? "nomatch.zip" : "nomatch.txt";
        jobdir_result_name(name, sizeof(name), j.finished, "err.txt");
        break;
    case FILE_ALL:
        zip = true;
        file = "all.zip";
        name[0] = '\0';
        break;
    default:
        zip = false;
        file = "errors.txt";
        snprintf(name, sizeof(name), "%s_errors.txt", j.id);
        break;
    }
    char path[GB_PATH_MAX];
    rc = jobdir_path(path, sizeof(path), a->cfg.data_dir, j.id, file);
    int fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        if (rt->file == FILE_ERRORS && errno == ENOENT) {
            resp->status = 200;
            resp->content_type = CT_TEXT;
            return;
        }
        internal_error(resp, req, -errno);
        return;
    }
    resp->status = 200;
    resp->fd = fd;
    resp->size = (uint64_t)st.st_size;
    resp->content_type = zip ? CT_ZIP : CT_TEXT;
    if (zip)
        snprintf(resp->disposition, sizeof(resp->disposition), "attachment; filename=\"%s%s.zip\"",
                 j.id, rt->file == FILE_ALL ? "_all" : "");
    else
        snprintf(resp->disposition, sizeof(resp->disposition), "inline; filename=\"%s\"", name);
}

struct list_ctx {
    struct buf *out;
    bool json;
    int n;
};

static int list_one(void *ctx, const struct job_info *j)
{
    struct list_ctx *l = ctx;
    char ts[32];
    api_format_time(ts, j->created);
    if (l->json) {
        buf_puts(l->out, l->n ? ",{" : "{");
        job_fields(l->out, j, true);
        buf_printf(l->out, ",\"Created\":\"%s\"}", ts);
    } else {
        buf_puts(l->out, "<Job>");
        job_fields(l->out, j, false);
        buf_printf(l->out, "<Created>%s</Created></Job>", ts);
    }
    l->n++;
    return 0;
}

static void list_jobs(struct api *a, struct http_request *req, struct http_response *resp,
                      const char *app)
{
    long offset = 0, limit = 100;
    const char *s = http_param(req, "offset");
    if (s && *s && conf_parse_long(s, 0, 1000000000L, &offset) < 0) {
        bad_request(resp, req, "offset must be a non-negative integer", "offset");
        return;
    }
    s = http_param(req, "limit");
    if (s && *s && conf_parse_long(s, 1, 1000, &limit) < 0) {
        bad_request(resp, req, "limit must be an integer from 1 to 1000", "limit");
        return;
    }
    bool json = http_wants_json(req);
    buf_reset(&resp->body);
    struct list_ctx l = {&resp->body, json, 0};
    uint64_t total = 0;
    if (json)
        buf_printf(&resp->body, "{\"JobList\":{\"Offset\":%ld,\"Limit\":%ld,\"Jobs\":[", offset,
                   limit);
    else
        buf_printf(&resp->body,
                   XML_HEAD "<ns2:SearchBatch xmlns:ns2=\"" NS_BATCH
                            "\"><JobList><Offset>%ld</Offset><Limit>%ld</Limit>",
                   offset, limit);
    int rc =
        store_job_list(a->cfg.store, app, (uint64_t)offset, (uint32_t)limit, list_one, &l, &total);
    if (rc < 0) {
        internal_error(resp, req, rc);
        return;
    }
    if (json)
        buf_printf(&resp->body, "],\"TotalJobs\":%llu}}", (unsigned long long)total);
    else
        buf_printf(&resp->body, "<TotalJobs>%llu</TotalJobs></JobList></ns2:SearchBatch>",
                   (unsigned long long)total);
    resp->status = 200;
    resp->content_type = json ? CT_JSON : CT_XML;
}

static void metrics(struct api *a, struct http_response *resp)
{
    struct store_stats st;
    struct buf *o = &resp->body;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (store_stats(a->cfg.store, &st) == 0) {
        buf_puts(o, "# HELP geobatch_jobs Jobs in the store, by state.\n"
                    "# TYPE geobatch_jobs gauge\n");
        for (int i = 0; i < JOB__NSTATES; i++)
            buf_printf(o, "geobatch_jobs{state=\"%s\"} %llu\n", job_state_name(i),
                       (unsigned long long)st.jobs[i]);
        buf_printf(o,
                   "# HELP geobatch_queue_chunks Chunks of accepted or running jobs not done.\n"
                   "# TYPE geobatch_queue_chunks gauge\ngeobatch_queue_chunks %llu\n"
                   "# HELP geobatch_queue_rows Valid rows of accepted or running jobs not yet "
                   "processed.\n# TYPE geobatch_queue_rows gauge\ngeobatch_queue_rows %llu\n",
                   (unsigned long long)st.pending_chunks, (unsigned long long)st.pending_rows);
    }
    if (a->cfg.workers)
        buf_printf(o,
                   "# HELP geobatch_rows_processed_total Rows geocoded since start.\n"
                   "# TYPE geobatch_rows_processed_total counter\n"
                   "geobatch_rows_processed_total %llu\n"
                   "# HELP geobatch_workers_busy Workers processing a chunk now.\n"
                   "# TYPE geobatch_workers_busy gauge\ngeobatch_workers_busy %d\n",
                   (unsigned long long)worker_rows_processed(a->cfg.workers),
                   worker_busy(a->cfg.workers));
    if (a->http)
        http_server_metrics(a->http, o);
}

/* ---- the handler ---- */

/*
 * The name of a parameter given twice (names in any case) with different values, or NULL.
 * Which one wins would otherwise be an accident of the code (http_param takes the last,
 * begin_upload applied them in order), and a proxy or a client library may pick the other
 * one: refuse instead. The same value twice is harmless and accepted.
 */
static const char *conflicting_param(const struct http_request *req)
{
    for (size_t i = 0; i < req->nparams; i++)
        for (size_t k = i + 1; k < req->nparams; k++)
            if (strcasecmp(req->params[i].name, req->params[k].name) == 0 &&
                strcmp(req->params[i].value, req->params[k].value) != 0)
                return req->params[i].name;
    return NULL;
}

static int on_begin(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    const struct http_route *rt = &req->route;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    switch (rt->kind) {
    case ROUTE_HEALTH:
        resp->status = 200;
        resp->content_type = CT_TEXT;
        buf_puts(&resp->body, "ok\n");
        return HTTP_RESPOND;
    case ROUTE_METRICS:
        metrics(a, resp);
        return HTTP_RESPOND;
    case ROUTE_NONE:
        not_found(resp, req, "No such resource");
        return HTTP_RESPOND;
    default:
        break;
    }
    /* Refused before authentication: they make the request itself ambiguous. */
    if (req->bad_framing) {
        bad_request(resp, req, req->bad_framing, NULL);
        return HTTP_RESPOND;
    }
    if (req->too_many_params) {
        char msg[96];
        snprintf(msg, sizeof(msg), "More than %d query parameters", HTTP_MAX_PARAMS);
        bad_request(resp, req, msg, NULL);
        return HTTP_RESPOND;
    }
    const char *dup = conflicting_param(req);
    if (dup) {
        bad_request(resp, req,
                    "Input parameter validation failed. A parameter is given twice "
                    "with different values",
                    dup);
        return HTTP_RESPOND;
    }
    char app[STORE_APP_MAX + 1];
    if (authenticate(a, req, app, sizeof(app)) < 0) {
        respond_doc_error(resp, req, 401, "PermissionError", "InvalidCredentials",
                          "Invalid or missing credentials", NULL);
        return HTTP_RESPOND;
    }
    if (!rate_take(a, app)) {
        respond_doc_error(resp, req, 429, "ApplicationError", "ExceededUsageLimit",
                          "Too many requests for this application", NULL);
        resp->retry_after = 1;
        return HTTP_RESPOND;
    }
    if (rt->kind == ROUTE_JOBS) {
        if (strcmp(req->method, "POST") == 0) {
            const char *action = http_param(req, "action");
            bool run = action && strcasecmp(action, "run") == 0;
            if (action && *action && !run) {
                bad_request(resp, req, "Unsupported action for POST; use action=run", "action");
                return HTTP_RESPOND;
            }
            return begin_upload(a, req, resp, app, run);
        }
        if (get) {
            list_jobs(a, req, resp, app);
            return HTTP_RESPOND;
        }
        method_not_allowed(resp, req, "GET, POST");
        return HTTP_RESPOND;
    }
    if (rt->kind == ROUTE_JOB) {
        if (strcmp(req->method, "POST") == 0) {
            method_not_allowed(resp, req, "GET, PUT, DELETE");
            return HTTP_RESPOND;
        }
        job_action(a, req, resp, app);
        return HTTP_RESPOND;
    }
    job_file(a, req, resp, app);
    return HTTP_RESPOND;
}

static int on_body(void *ctx, struct http_request *req, const char *data, size_t n)
{
    (void)ctx;
    return req->state ? upload_body(req->state, data, n) : -1;
}

static void on_end(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    if (!req->state) {
        internal_error(resp, req, GB_EINTERNAL);
        return;
    }
    upload_end(a, req, req->state, resp);
}

static void on_cleanup(void *ctx, struct http_request *req)
{
    (void)ctx;
    upload_free(req->state); /* removes the temp dir of an upload that did not make it */
    req->state = NULL;
}

const struct http_handler api_handler = {
    .begin = on_begin,
    .body = on_body,
    .end = on_end,
    .cleanup = on_cleanup,
};

int api_new(struct api **out, const struct api_config *cfg)
{
    struct api *a = xcalloc(1, sizeof(*a));
    a->cfg = *cfg;
    if (a->cfg.chunk_rows == 0)
        a->cfg.chunk_rows = WORKER_CHUNK_ROWS_DEFAULT;
    if (a->cfg.burst < 1)
        a->cfg.burst = 1;
    pthread_mutex_init(&a->rate_mu, NULL);
    a->rate = xcalloc(RATE_SLOTS, sizeof(*a->rate));
    *out = a;
    return 0;
}

void api_set_http(struct api *a, struct http_server *s)
{
    a->http = s;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->rate_mu);
    free(a->rate);
    free(a);
}
