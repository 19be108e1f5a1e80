/*
 * api_progress.c - GET /6.2/jobs/{id}/progress: the status document of a job, answered as
 * soon as it differs from what the client last saw (long polling, an extension to the HERE
 * API). The client names its last Status and ProcessedCount; the answer comes when either
 * changed, when the job is in a final state, or after `wait` seconds (default and maximum
 * API_PROGRESS_WAIT_MAX) with the document unchanged. A client that watches a job thus makes
 * one request per change or per wait, instead of polling the status endpoint in a loop.
 *
 * Threads: connection threads, any number at once (MHD gives each connection its own thread,
 * so a waiting request blocks only itself); the store serialises itself. A waiting request
 * reads the job from the store every API_PROGRESS_TICK_MS, and stops waiting when the server
 * begins to stop (http_server_quiesced), so that a long poll never holds up a graceful stop
 * (the connection may be closed before the answer goes out).
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/conf.h"
#include "base/err.h"
#include "job/jobdir.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define API_PROGRESS_WAIT_MAX 10 /* seconds: the longest a request waits */
#define API_PROGRESS_TICK_MS  100

/* ProcessedCount as the status document shows it (0 while submitted or accepted). */
static uint64_t shown_processed(const struct job_info *j)
{
    return j->state == JOB_SUBMITTED || j->state == JOB_ACCEPTED ? 0 : j->processed;
}

static bool is_final(enum job_state s)
{
    return s != JOB_SUBMITTED && s != JOB_ACCEPTED && s != JOB_RUNNING;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int api_job_progress(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, int arg)
{
    (void)arg;
    long wait = API_PROGRESS_WAIT_MAX, processed = -1;
    const char *s = http_param(req, "wait");
    if (s && *s && conf_parse_long(s, 0, API_PROGRESS_WAIT_MAX, &wait) < 0) {
        api_bad_request(resp, req, "wait must be an integer from 0 to 10", "wait");
        return HTTP_RESPOND;
    }
    s = http_param(req, "processed");
    if (s && *s && conf_parse_long(s, 0, 1000000000000L, &processed) < 0) {
        api_bad_request(resp, req, "processed must be a non-negative integer", "processed");
        return HTTP_RESPOND;
    }
    const char *seen = http_param(req, "status");
    const char *id = http_match_arg(&req->route, 0);
    double deadline = now_s() + (double)wait;
    for (;;) {
        struct job_info j;
        int rc = jobdir_id_valid(id, strlen(id)) ? store_job_get(a->cfg.store, id, app, &j)
                                                 : GB_ENOTFOUND;
        if (rc == GB_ENOTFOUND) {
            api_not_found(resp, req, "Unknown RequestId");
            return HTTP_RESPOND;
        }
        if (rc < 0) {
            api_internal_error(resp, req, rc);
            return HTTP_RESPOND;
        }
        bool changed = !seen || !*seen || strcasecmp(seen, job_state_name(j.state)) != 0 ||
                       processed < 0 || (uint64_t)processed != shown_processed(&j);
        bool stopping = a->http && http_server_quiesced(a->http);
        if (changed || is_final(j.state) || stopping || now_s() >= deadline) {
            api_respond_status(resp, req, &j);
            return HTTP_RESPOND;
        }
        struct timespec tick = {0, API_PROGRESS_TICK_MS * 1000000L};
        nanosleep(&tick, NULL);
    }
}
