/*
 * api.c - the HERE Batch Geocoder 6.2 job API (see api.h, docs/api.md): its route table, and
 * what every request goes through before its endpoint.
 *
 * DESIGN. A request is matched against the route table below (http_route_match, done by http.c
 * before begin()): a path no row knows is 404 at once, and /health and /metrics answer without
 * credentials. Every other request is refused when its framing or its parameters are ambiguous,
 * then authenticated and rate limited; then a path without a row for its method is 405, and the
 * row's handler answers (api_jobs.c, api_upload.c). A new endpoint is a new row.
 *
 * Rate limits: a token bucket per application (--rate, --burst), in this process for a store of
 * one node, in the store for a store shared by several nodes (store_rate_take), so that the
 * rate holds for the cluster and not per node. A statement per request would cost PostgreSQL
 * more than the request (docs/scale-out.md, "Limits"), so a node takes a few tokens at once
 * (a tenth of a second of the rate, at most a quarter of the burst and RATE_LEASE_MAX; one
 * while the rate is under 20/s) and spends them locally. Tokens are never made up: the
 * cluster admits no more than its bucket gives, only up to --rate-lease (1 s) later than they
 * were taken; tokens a node took and did not spend within it are dropped, so an
 * application may be refused while another node holds at most rate_lease_size() - 1 of them.
 *
 * Threads: any number of connection threads call the handler; the only shared mutable state
 * here is the rate-limit table (mutex).
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "serve/auth.h"
#include "serve/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RATE_SLOTS     4096
#define RATE_LEASE_MAX 64  /* tokens a node takes from a shared store's bucket at once */
#define RATE_LEASE_S   1.0 /* seconds a node may hold tokens it took, unless cfg.rate_lease */

struct rate_slot {
    char app[STORE_APP_MAX + 1];
    double tokens; /* in the bucket; with a shared store: taken from the cluster's, not spent */
    double last;   /* monotonic seconds: the last refill; with a shared store: the last take */
};

/* ---- authentication and rate limits ---- */

/* Check the request's credentials; a failure is counted against the client's address. */
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
    const char *id = http_param(req, "app_id");
    int rc = auth_check(a->cfg.auth, id, code, key, app, cap);
    if (rc < 0)
        auth_failed(a->cfg.auth, req->client, id,
                    (id || code) && key ? "app_id+apiKey"
                    : id || code        ? "app_id"
                    : key               ? "apiKey"
                                        : "none");
    return rc;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The slot of app (a new one holds tokens); under rate_mu. */
static struct rate_slot *rate_slot_locked(struct api *a, const char *app, double now, double tokens)
{
    for (size_t i = 0; i < a->nrate; i++)
        if (strcmp(a->rate[i].app, app) == 0)
            return &a->rate[i];
    if (a->nrate == RATE_SLOTS)
        a->nrate = 0; /* the table is full of idle applications: start afresh */
    struct rate_slot *s = &a->rate[a->nrate++];
    snprintf(s->app, sizeof(s->app), "%s", app);
    s->tokens = tokens;
    s->last = now;
    return s;
}

/* Tokens a node takes from the cluster's bucket at once: a tenth of a second of the rate, at
 * most a quarter of the burst, 1 to RATE_LEASE_MAX. */
static int rate_lease_size(const struct api *a)
{
    double n = a->cfg.rate / 10;
    if (n > a->cfg.burst / 4)
        n = a->cfg.burst / 4;
    return n < 1 ? 1 : n > RATE_LEASE_MAX ? RATE_LEASE_MAX : (int)n;
}

/* Seconds a node may hold the tokens it took from the cluster's bucket. */
static double rate_lease_s(const struct api *a)
{
    return a->cfg.rate_lease > 0 ? a->cfg.rate_lease : RATE_LEASE_S;
}

/*
 * The cluster's bucket, in the store: the node spends the tokens it took last (while they are
 * younger than rate_lease_s()), and takes up to rate_lease_size() more in one statement when it
 * has none. A store that does not answer lets the request go on (the rate limit protects the
 * service; PostgreSQL being away is not the client's fault) and says so in the log.
 */
static bool rate_take_shared(struct api *a, const char *app, double now)
{
    pthread_mutex_lock(&a->rate_mu);
    struct rate_slot *s = rate_slot_locked(a, app, now, 0);
    bool ok = s->tokens >= 1.0 && now - s->last < rate_lease_s(a);
    if (ok)
        s->tokens -= 1.0;
    pthread_mutex_unlock(&a->rate_mu);
    if (ok)
        return true;
    int got = store_rate_take(a->cfg.store, app, a->cfg.rate, a->cfg.burst, rate_lease_size(a));
    if (got < 0) {
        static _Atomic int64_t logged; /* once a minute at most */
        int64_t t = (int64_t)now, last = atomic_load(&logged);
        if (t - last >= 60 && atomic_compare_exchange_strong(&logged, &last, t))
            log_warn("rate limit not checked app=%s err=\"%s\"", app, gb_strerror(got));
        return true;
    }
    if (got == 0)
        return false;
    pthread_mutex_lock(&a->rate_mu);
    s = rate_slot_locked(a, app, now, 0);
    if (now - s->last >= rate_lease_s(a))
        s->tokens = 0; /* tokens taken long ago are dropped: see DESIGN */
    s->tokens += got - 1;
    s->last = now;
    pthread_mutex_unlock(&a->rate_mu);
    return true;
}

/*
 * Take one token from app's bucket: the cluster's when the store is shared by several nodes,
 * else this process's. Return true when the request may go on.
 */
static bool rate_take(struct api *a, const char *app)
{
    if (a->cfg.rate <= 0)
        return true;
    double now = mono_now();
    if (store_is_shared(a->cfg.store))
        return rate_take_shared(a, app, now);
    pthread_mutex_lock(&a->rate_mu);
    struct rate_slot *s = rate_slot_locked(a, app, now, a->cfg.burst);
    s->tokens += (now - s->last) * a->cfg.rate;
    if (s->tokens > a->cfg.burst)
        s->tokens = a->cfg.burst;
    s->last = now;
    bool ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    pthread_mutex_unlock(&a->rate_mu);
    return ok;
}

/* ---- public endpoints ---- */

/* GET /health: the process answers. */
static int health(struct api *a, struct http_request *req, struct http_response *resp,
                  const char *app, int arg)
{
    (void)a;
    (void)req;
    (void)app;
    (void)arg;
    resp->status = 200;
    resp->content_type = CT_TEXT;
    buf_puts(&resp->body, "ok\n");
    return HTTP_RESPOND;
}

/* GET /metrics: Prometheus text. */
static int metrics(struct api *a, struct http_request *req, struct http_response *resp,
                   const char *app, int arg)
{
    (void)req;
    (void)app;
    (void)arg;
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
        if (store_keeps_files(a->cfg.store)) /* a store of several nodes: cluster-wide leases */
            buf_printf(o,
                       "# HELP geobatch_leased_chunks Chunks held by an unexpired lease, every "
                       "worker of the store.\n# TYPE geobatch_leased_chunks gauge\n"
                       "geobatch_leased_chunks %llu\n"
                       "# HELP geobatch_lease_expiries_total Chunks taken over from an expired "
                       "lease (redone), every worker of the store.\n"
                       "# TYPE geobatch_lease_expiries_total counter\n"
                       "geobatch_lease_expiries_total %llu\n",
                       (unsigned long long)st.leased_chunks, (unsigned long long)st.lease_expiries);
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
    return HTTP_RESPOND;
}

/* ---- the route table ---- */

#define JOBS     "/6.2/jobs"
#define JOB      JOBS "/{id}"
#define JSON     HTTP_ROUTE_JSON
#define DOWNLOAD HTTP_ROUTE_JSON_IGNORED

/*
 * Every endpoint, in matching order. A "GET" row also takes HEAD. The rows of a path name the
 * methods of its 405 answer's Allow header, in table order; a "*" row takes any other method.
 */
static const struct api_route routes[] = {
    {{"*", "/health", API_PUBLIC}, health, 0},
    {{"*", "/metrics", API_PUBLIC}, metrics, 0},
    {{"GET", JOBS, JSON}, api_jobs_list, 0},
    {{"POST", JOBS, JSON}, api_upload_begin, 0},
    {{"GET", JOB, JSON}, api_job_status, 0},
    {{"PUT", JOB, JSON}, api_job_put, 0},
    {{"DELETE", JOB, JSON}, api_job_delete, 0},
    {{"*", JOB, JSON}, api_job_other, 0},
    {{"GET", JOB "/result", DOWNLOAD}, api_job_file, API_FILE_RESULT},
    {{"GET", JOB "/errors", DOWNLOAD}, api_job_file, API_FILE_ERRORS},
    {{"GET", JOB "/no-matches", DOWNLOAD}, api_job_file, API_FILE_NOMATCHES},
    {{"GET", JOB "/all", DOWNLOAD}, api_job_file, API_FILE_ALL},
    /* the synchronous APIs (api_sync.c, api_v7.c); "*" rows: a 405 in the API's own document */
    {{"GET", "/6.2/geocode", JSON | API_SYNC}, api_sync_geocode, 0},
    {{"*", "/6.2/geocode", JSON | API_SYNC}, api_sync_other, 0},
    {{"GET", "/6.2/reversegeocode", JSON | API_SYNC}, api_sync_reverse, 0},
    {{"*", "/6.2/reversegeocode", JSON | API_SYNC}, api_sync_other, 0},
    {{"GET", "/6.2/search", JSON | API_SYNC}, api_sync_search, 0},
    {{"*", "/6.2/search", JSON | API_SYNC}, api_sync_other, 0},
    {{"GET", "/v1/geocode", API_V7}, api_v7_geocode, 0},
    {{"*", "/v1/geocode", API_V7}, api_sync_other, 0},
    {{"GET", "/v1/discover", API_V7}, api_v7_geocode, 1},
    {{"*", "/v1/discover", API_V7}, api_sync_other, 0},
    {{"GET", "/v1/revgeocode", API_V7}, api_v7_revgeocode, 0},
    {{"*", "/v1/revgeocode", API_V7}, api_sync_other, 0},
    {{"GET", "/v1/autosuggest", API_V7}, api_v7_autosuggest, 0},
    {{"*", "/v1/autosuggest", API_V7}, api_sync_other, 0},
    {{"GET", "/v1/lookup", API_V7}, api_v7_lookup, 0},
    {{"*", "/v1/lookup", API_V7}, api_sync_other, 0},
    {{"GET", JOB "/progress", JSON}, api_job_progress, 0},
    {{"GET", "/6.2/geometry", JSON}, api_geometry, 0},
    {{"GET", "/console", API_PUBLIC}, api_console_file, 0},
    {{"GET", "/console/{file}", API_PUBLIC}, api_console_file, 0},
};

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

/*
 * Refuse what makes the request itself ambiguous (before authentication), authenticate and
 * take a rate-limit token. Return true with app set, or false with resp filled.
 */
static bool admit(struct api *a, struct http_request *req, struct http_response *resp, char *app,
                  size_t cap)
{
    if (req->bad_framing) {
        api_bad_request(resp, req, req->bad_framing, NULL);
        return false;
    }
    if (req->too_many_params) {
        char msg[96];
        snprintf(msg, sizeof(msg), "More than %d query parameters", HTTP_MAX_PARAMS);
        api_bad_request(resp, req, msg, NULL);
        return false;
    }
    const char *dup = conflicting_param(req);
    if (dup) {
        api_bad_request(resp, req,
                        "Input parameter validation failed. A parameter is given twice "
                        "with different values",
                        dup);
        return false;
    }
    int retry = 0;
    if (auth_admit(a->cfg.auth, req->client, &retry) < 0) {
        api_respond_error(resp, req, 429, "ApplicationError", "ExceededUsageLimit",
                          "Too many failed logins from this address", NULL);
        resp->retry_after = retry;
        return false;
    }
    if (authenticate(a, req, app, cap) < 0) {
        api_respond_error(resp, req, 401, "PermissionError", "InvalidCredentials",
                          "Invalid or missing credentials", NULL);
        return false;
    }
    if (!rate_take(a, app)) {
        api_respond_error(resp, req, 429, "ApplicationError", "ExceededUsageLimit",
                          "Too many requests for this application", NULL);
        resp->retry_after = 1;
        return false;
    }
    return true;
}

static int on_begin(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    const struct http_match *m = &req->route;
    const struct api_route *rt = (const struct api_route *)m->route;
    if (!m->path_found) {
        api_not_found(resp, req, "No such resource");
        return HTTP_RESPOND;
    }
    if (rt && (rt->http.flags & API_PUBLIC))
        return rt->fn(a, req, resp, "", rt->arg);
    char app[STORE_APP_MAX + 1];
    if (!admit(a, req, resp, app, sizeof(app)))
        return HTTP_RESPOND;
    snprintf(req->app, sizeof(req->app), "%s", app);
    if (!rt) {
        api_method_not_allowed(resp, req);
        return HTTP_RESPOND;
    }
    return rt->fn(a, req, resp, app, rt->arg);
}

static int on_body(void *ctx, struct http_request *req, const char *data, size_t n)
{
    (void)ctx;
    return req->state ? api_upload_body(req->state, data, n) : -1;
}

static void on_end(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    if (!req->state) {
        api_internal_error(resp, req, GB_EINTERNAL);
        return;
    }
    api_upload_end(a, req, req->state, resp);
}

static void on_cleanup(void *ctx, struct http_request *req)
{
    (void)ctx;
    api_upload_free(req->state); /* removes the temp dir of an upload that did not make it */
    req->state = NULL;
}

const struct http_handler api_handler = {
    .begin = on_begin,
    .body = on_body,
    .end = on_end,
    .cleanup = on_cleanup,
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .route_size = sizeof(routes[0]),
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
    pthread_mutex_init(&a->pace_mu, NULL);
    a->rate = xcalloc(RATE_SLOTS, sizeof(*a->rate));
    pthread_mutex_init(&a->uploads_mu, NULL);
    smap_init(&a->uploads);
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
    pthread_mutex_destroy(&a->pace_mu);
    free(a->rate);
    pthread_mutex_destroy(&a->uploads_mu);
    smap_release(&a->uploads);
    free(a->app_uploads);
    api_geo_ids_free(a);
    free(a);
}
