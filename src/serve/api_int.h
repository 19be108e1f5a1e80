/*
 * api_int.h - what the files of the HERE 6.2 API share, for src/serve/api*.c only:
 *   api.c         the route table, authentication, rate limits, /health, /metrics, the handler
 *   api_doc.c     the XML / JSON documents of spec §5 and the responses that carry them
 *   api_upload.c  POST /6.2/jobs: the upload streamed through the CSV reader into the job's
 *                 directory (job/jobdir.h's intake writer)
 *   api_jobs.c    the endpoints of existing jobs: list, status, run, cancel, delete, downloads
 *   api_progress.c  GET /6.2/jobs/{id}/progress: the status once it changed (long polling)
 *   api_geometry.c  GET /6.2/geometry.json: the index's outlines for a box, for the console's map
 *   api_console.c GET /console and /console/<file>: the web console's files (console_assets.h)
 *
 * Threads: see api.h. Route handlers run on connection threads.
 */
#ifndef GEOBATCH_API_INT_H
#define GEOBATCH_API_INT_H

#include "serve/api.h"

#include <pthread.h>

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
#define NS_BATCH "http://www.navteq.com/lbsp/Search-Batch/1"
#define NS_ERROR "http://www.navteq.com/lbsp/Errors/1"
#define CT_XML   "application/xml; charset=UTF-8"
#define CT_JSON  "application/json; charset=UTF-8"
#define CT_TEXT  "text/plain; charset=UTF-8"
#define CT_ZIP   "application/zip"

struct rate_slot;

struct api {
    struct api_config cfg;
    struct http_server *http;
    pthread_mutex_t rate_mu; /* rate, nrate */
    struct rate_slot *rate;
    size_t nrate;
};

/*
 * A route handler: answer the request in resp (return HTTP_RESPOND) or ask for its body
 * (HTTP_READ_BODY, with req->state set). app is the authenticated application ("" on a public
 * route); arg is the row's own argument.
 */
typedef int api_route_fn(struct api *a, struct http_request *req, struct http_response *resp,
                         const char *app, int arg);

/* One row of the API's route table (api.c). */
struct api_route {
    struct http_route http; /* first: http_route_match() walks the table through it */
    api_route_fn *fn;
    int arg;
};

#define API_PUBLIC HTTP_ROUTE_USER /* answered before authentication and rate limits */

/* ---- responses (api_doc.c): each replaces whatever resp held ---- */

/* An error document (§5.5) in the format the client asked for (http_wants_json). */
void api_respond_error(struct http_response *resp, const struct http_request *req, int status,
                       const char *type, const char *subtype, const char *details, const char *key);
/* 400 ApplicationError / InvalidInputData; key names the offending parameter or is NULL. */
void api_bad_request(struct http_response *resp, const struct http_request *req,
                     const char *details, const char *key);
/* 404 ApplicationError / NotFound. */
void api_not_found(struct http_response *resp, const struct http_request *req, const char *details);
/* 500 SystemError / InternalError, and rc in the log. */
void api_internal_error(struct http_response *resp, const struct http_request *req, int rc);
/* 405 with the Allow header of the route match (req->route.allow). */
void api_method_not_allowed(struct http_response *resp, const struct http_request *req);
/* 200 with the status document of job j. */
void api_respond_status(struct http_response *resp, const struct http_request *req,
                        const struct job_info *j);

/* ---- the job list document (api_doc.c) ---- */

/* The document up to the first job, one job (n: how many came before it), and the rest. */
void api_doc_list_head(struct buf *out, bool json, long offset, long limit);
void api_doc_list_job(struct buf *out, bool json, const struct job_info *j, int n);
void api_doc_list_tail(struct buf *out, bool json, uint64_t total);

/* ---- uploads (api_upload.c) ---- */

struct upload;

/* POST /6.2/jobs: check the parameters and limits, then start receiving the body. */
api_route_fn api_upload_begin;
/* A piece of the body; < 0 stops receiving (a limit, or the validator gave up). */
int api_upload_body(struct upload *u, const char *data, size_t n);
/* The body is complete: wait for the validator, then store the job and answer. */
void api_upload_end(struct api *a, struct http_request *req, struct upload *u,
                    struct http_response *resp);
/* Stop the validator and remove what an upload that did not make it left. NULL is fine. */
void api_upload_free(struct upload *u);

/* ---- job endpoints (api_jobs.c) ---- */

api_route_fn api_jobs_list;  /* GET /6.2/jobs */
api_route_fn api_job_status; /* GET /6.2/jobs/{id} */
api_route_fn api_job_put;    /* PUT /6.2/jobs/{id}?action=run|cancel */
api_route_fn api_job_delete; /* DELETE /6.2/jobs/{id} */
api_route_fn api_job_other;  /* any other method on /6.2/jobs/{id}: 405 */
api_route_fn api_job_file;   /* GET /6.2/jobs/{id}/<file>; arg: enum api_job_file */

/* ---- long polling (api_progress.c), the web console (api_console.c), its map ---- */

api_route_fn api_job_progress; /* GET /6.2/jobs/{id}/progress */
api_route_fn api_console_file; /* GET /console, /console/{file} (API_PUBLIC) */
api_route_fn api_geometry;     /* GET /6.2/geometry.json?bbox=S,W,N,E (api_geometry.c) */

enum api_job_file { API_FILE_RESULT, API_FILE_ERRORS, API_FILE_NOMATCHES, API_FILE_ALL };

#endif
