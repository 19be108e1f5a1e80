/*
 * api_int.h - what the files of the HERE 6.2 API share, for src/serve/api*.c only:
 *   api.c         the route table, authentication, rate limits, /health, /metrics, the handler
 *   api_doc.c     the XML / JSON documents of spec §5 and the responses that carry them
 *   api_upload.c  POST /6.2/jobs: the upload streamed through the CSV reader into the job's
 *                 directory (job/jobdir.h's intake writer)
 *   api_jobs.c    the endpoints of existing jobs: list, status, run, cancel, delete, downloads
 *   api_geo.c     what the synchronous APIs share: the geocoder calls (index or index set),
 *                 parameter parsing, the JSON writer
 *   api_sync.c    the synchronous Geocoder 6.2: geocode.json, reversegeocode.json, search.json
 *   api_v7.c      Geocoding & Search v7: /v1/geocode, revgeocode, discover, autosuggest, lookup
 *   api_progress.c  GET /6.2/jobs/{id}/progress: the status once it changed (long polling)
 *   api_geometry.c  GET /6.2/geometry.json: the index's outlines for a box, for the console's map
 *   api_console.c GET /console and /console/<file>: the web console's files (console_assets.h)
 *
 * Threads: see api.h. Route handlers run on connection threads.
 */
#ifndef GEOBATCH_API_INT_H
#define GEOBATCH_API_INT_H

#include "serve/api.h"
#include "geocode/geocode.h"
#include "base/smap.h"

#include <pthread.h>

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
#define NS_BATCH "http://www.navteq.com/lbsp/Search-Batch/1"
#define NS_ERROR "http://www.navteq.com/lbsp/Errors/1"
#define CT_XML   "application/xml; charset=UTF-8"
#define CT_JSON  "application/json; charset=UTF-8"
#define CT_TEXT  "text/plain; charset=UTF-8"
#define CT_ZIP   "application/zip"

struct rate_slot;

#define API_PACE_SLOTS 256 /* jobs whose last status request is remembered, for pacing */

/* When a running job's status was last asked for (api_jobs.c). */
struct api_pace_slot {
    char id[40];
    double last; /* monotonic seconds */
};

/* One application's uploads in progress (api.c's uploads map points to it). */
struct api_app_uploads {
    uint32_t n;     /* uploads in progress (they count as jobs) */
    uint64_t bytes; /* body bytes they received (they count against the disk quota) */
};

struct api {
    struct api_config cfg;
    struct http_server *http;
    pthread_mutex_t rate_mu; /* rate, nrate */
    struct rate_slot *rate;
    size_t nrate;
    pthread_mutex_t pace_mu; /* pace */
    struct api_pace_slot pace[API_PACE_SLOTS];
    pthread_mutex_t uploads_mu; /* uploads, app_uploads; held from counting jobs to admitting */
    struct smap uploads;        /* application -> its index in app_uploads */
    struct api_app_uploads *app_uploads;
    size_t napp_uploads, capapp_uploads;
    struct gc_ids **ids; /* per member, NULL until a lookup needs it (api_geo.c) */
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

#define API_PUBLIC HTTP_ROUTE_USER        /* answered before authentication and rate limits */
#define API_SYNC   (HTTP_ROUTE_USER << 1) /* Geocoder 6.2 synchronous: JSON documents always */
#define API_V7     (HTTP_ROUTE_USER << 2) /* Geocoding & Search v7: its own error document */

/* ---- responses (api_doc.c): each replaces whatever resp held ---- */

/* An error document (§5.5) in the format the client asked for (http_wants_json). */
void api_respond_error(struct http_response *resp, const struct http_request *req, int status,
                       const char *type, const char *subtype, const char *details, const char *key);
/* 400 ApplicationError / InvalidInputData; key names the offending parameter or is NULL. */
void api_bad_request(struct http_response *resp, const struct http_request *req,
                     const char *details, const char *key);
/* 404 ApplicationError / NotFound. */
void api_not_found(struct http_response *resp, const struct http_request *req, const char *details);
/* Seconds a client is told to wait (Retry-After) when the server is out of descriptors. */
#define API_RETRY_AFTER_BUSY 5

/* 500 SystemError / InternalError, and rc in the log; 503 SystemError / ServiceUnavailable
 * with Retry-After for a shortage that passes (rc -EMFILE, -ENFILE, -EAGAIN). */
void api_internal_error(struct http_response *resp, const struct http_request *req, int rc);
/* 405 with the Allow header of the route match (req->route.allow). */
void api_method_not_allowed(struct http_response *resp, const struct http_request *req);
/* 200 with the status document of job j. */
void api_respond_status(struct http_response *resp, const struct http_request *req,
                        const struct job_info *j);

/* Append s as a JSON string (invalid UTF-8 bytes as '?'). */
int api_json_string(struct buf *out, const char *s);

/* ---- the job list document (api_doc.c) ---- */

/* The document up to the first job, one job (n: how many came before it), and the rest. */
void api_doc_list_head(struct buf *out, bool json, long offset, long limit);
void api_doc_list_job(struct buf *out, bool json, const struct job_info *j, int n);
void api_doc_list_tail(struct buf *out, bool json, uint64_t total);

/* ---- uploads (api_upload.c) ---- */

struct upload;

/* POST /6.2/jobs: check the parameters and limits, then start receiving the body. */
api_route_fn api_upload_begin;
/* A piece of the body; < 0 stops receiving (the validator gave up), HTTP_BODY_REFUSE answers at
 * once and closes the connection (over --max-body). */
int api_upload_body(struct upload *u, const char *data, size_t n);
/* The body is complete: wait for the validator, then store the job and answer. */
void api_upload_end(struct api *a, struct http_request *req, struct upload *u,
                    struct http_response *resp);
/* Stop the validator and remove what an upload that did not make it left. NULL is fine. */
void api_upload_free(struct upload *u);

/* The bytes of app's job directories on disk (every job the store lists for it: jobdir_usage).
 * Return 0 or the store's error. */
int api_app_disk_usage(struct api *a, const char *app, uint64_t *out);
/* The body bytes of app's uploads in progress, counted against its disk quota. */
uint64_t api_app_uploads_bytes(struct api *a, const char *app);

/* 413 ApplicationError / ExceededUsageLimit: app's disk quota; used: bytes in use, need: bytes
 * the request would add (0: not known), at_least: need is a lower bound. */
void api_quota_exceeded(struct http_response *resp, const struct http_request *req, uint64_t quota,
                        uint64_t used, uint64_t need, bool at_least);

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

/* ---- the synchronous APIs (api_geo.c, api_sync.c, api_v7.c) ---- */

#define API_TEXT_MAX 1024 /* bytes of a query text or a structured field */
#define API_MAX_IN   16   /* countries of v7's in=countryCode: */

/* One request's geocoding memory: about 300 KB, per request (api_geo_new aborts on failure,
 * api_geo_free takes NULL; the calling thread keeps one for its next request and frees it when
 * the thread ends). The answer is in res (res.n candidates). */
struct api_geo {
    struct gc_result res;
    struct gc_result tmp; /* an index set's members' answers */
    struct gc_result aux; /* a merge of several queries' answers */
    char label[1024];
};
struct api_geo *api_geo_new(void);
void api_geo_free(struct api_geo *g);

/* The geocoder calls of the batch engine (batch.c makes the same ones for a row), on the
 * server's index set (or its one index). Return as geocode.h's calls. */
int api_geo_forward(const struct api *a, struct api_geo *g, const struct gc_query *q);
int api_geo_reverse(const struct api *a, struct api_geo *g, double lat, double lon, double radius,
                    int max_results);
int api_geo_reverse_areas(const struct api *a, struct api_geo *g, double lat, double lon);
/* geocode_suggest / geocode_lookup over every member of the set, merged (suggest: by rank). */
int api_geo_suggest(const struct api *a, struct api_geo *g, const struct gc_suggest *q);
int api_geo_lookup(struct api *a, struct api_geo *g, const char *location_id);
/* Free the members' lookup tables (api_free). */
void api_geo_ids_free(struct api *a);
/* Forward q once per country of cc[0..n) (ISO2) and keep the max_results most relevant. */
int api_geo_forward_in(const struct api *a, struct api_geo *g, struct gc_query *q, char (*cc)[3],
                       int n);
/* Copy candidate *src into *dst, keeping a house number held in the candidate itself. */
void api_geo_copy(struct gc_candidate *dst, const struct gc_candidate *src);
/* Copy the candidates of from into g->res (from may be g->aux). */
void api_geo_take(struct api_geo *g, const struct gc_result *from);
/* The spatial context on g->res: drop the candidates outside ar's in= filter; with a focus
 * (api_area_focus), set each one's distance from it and order each run of equally good
 * candidates (same match level and relevance to two decimals) nearest first: the bias of at
 * where the query is ambiguous. Then keep the first max. */
struct api_area;
void api_geo_place(struct api_geo *g, const struct api_area *ar, int max);

/* ---- parameters (api_param.c): each returns 0, or GB_EPARAM with a message for humans in err
 * (and, where it says so, the name of the parameter at fault in *key) ---- */

/* A parameter's value, or NULL when absent, empty, "undefined" or "null" (sent by clients
 * that build URLs from unset variables). */
const char *api_param(const struct http_request *req, const char *name);
/* An integer in [min, max]; *out = dflt when absent. */
int api_param_int(const struct http_request *req, const char *name, long min, long max, long dflt,
                  long *out, char *err, size_t errlen);
/* "lat,lon" followed by up to nextra more ",number" (extra[]; *nextra_out says how many). */
int api_parse_latlon(const char *s, double *lat, double *lon, double *extra, int nextra,
                     int *nextra_out);
/* A text parameter: at most API_TEXT_MAX bytes. */
int api_param_text(const struct http_request *req, const char *name, const char **out, char *err,
                   size_t errlen);
/* 6.2's query: searchtext and the structured fields street, housenumber, postalcode, city,
 * district, county, state, country (each a text parameter) into q; at least one must be there.
 * *key: the parameter at fault. */
int api_query_62(const struct http_request *req, struct gc_query *q, const char **key, char *err,
                 size_t errlen);
/* v7's qq=street=...;houseNumber=...;postalCode=...;city=...;district=...;county=...;state=...;
 * country=... into q's structured fields; the values point into buf (a copy of qq, cap bytes).
 * GB_EPARAM for a pair without '=' or an unknown key. */
int api_query_qq(const char *qq, char *buf, size_t cap, struct gc_query *q);

/* v7's spatial context. HERE's rules: at=LAT,LNG is a position to rank by (a bias); in= is a
 * hard filter: countryCode:ISO3[,ISO3]* (up to API_MAX_IN), circle:LAT,LNG;r=METRES (whole
 * metres), or bbox:WEST,SOUTH,EAST,NORTH (west <= east, south <= north); at, in=circle: and
 * in=bbox: are mutually exclusive (at goes with in=countryCode:). */
enum api_in { API_IN_NONE, API_IN_COUNTRY, API_IN_CIRCLE, API_IN_BBOX };
#define API_ALLOW(k) (1u << (k))
struct api_area {
    bool has_at; /* at= given */
    double at_lat, at_lon;
    enum api_in in;
    char cc[API_MAX_IN][3]; /* countryCode: as ISO2 */
    int ncc;
    double lat, lon;                 /* circle: its centre; bbox: its centre */
    double radius;                   /* circle: metres */
    double west, south, east, north; /* bbox */
};
/* at and in into ar; allow: API_ALLOW() of the in= forms the endpoint takes (API_IN_NONE
 * always). *key: "at" or "in", the parameter at fault. */
int api_area_parse(const struct http_request *req, unsigned allow, struct api_area *ar,
                   const char **key, char *err, size_t errlen);
/* The position answers are ranked by and measured from: at, or the centre of in=circle: or
 * in=bbox:. Return false when there is none. */
bool api_area_focus(const struct api_area *ar, double *lat, double *lon);

/* ---- the JSON writer of the answers ---- */

#define API_JSON_DEPTH 16
/* room made for each result of an answer, at once (most are smaller) */
#define API_ITEM_BYTES 1536

struct api_json {
    struct buf *out;
    bool lower; /* jsonattributes=1: the first letter of every key in lower case */
    int depth;
    bool first[API_JSON_DEPTH];
};
void aj_init(struct api_json *j, struct buf *out, bool lower);
/* Open an object ('{') or array ('['), as key's value (key NULL: an array element). */
void aj_open(struct api_json *j, const char *key, char c);
void aj_close(struct api_json *j, char c);
void aj_str(struct api_json *j, const char *key, const char *v);
/* Only when v is not empty. */
void aj_str_nz(struct api_json *j, const char *key, const char *v);
void aj_int(struct api_json *j, const char *key, long long v);
/* Up to decimals digits, trailing zeros dropped (one kept): 47.1412167, 1.0. */
void aj_num(struct api_json *j, const char *key, double v, int decimals);

/* A key for an address field of a candidate. */
struct aj_field {
    enum gc_field f;
    const char *key;
};
/* Each field of t[0..n) that c has (not empty) as key: value, in t's order. */
void aj_fields(struct api_json *j, const struct gc_candidate *c, const struct aj_field *t,
               size_t n);
/* Does c carry a match quality (a field of the query; reverse answers have none)? */
bool aj_has_scores(const struct gc_candidate *c);
/* c's match quality of each field the query had, as key[field] (NULL: left out), in gc_mq
 * order; the street's as a one-element array, as HERE writes it. */
void aj_scores(struct api_json *j, const struct gc_candidate *c, const char *const key[MQ__COUNT]);

api_route_fn api_sync_geocode; /* GET /6.2/geocode.json */
api_route_fn api_sync_reverse; /* GET /6.2/reversegeocode.json */
api_route_fn api_sync_search;  /* GET /6.2/search.json */
api_route_fn api_sync_other;   /* any other method on a synchronous path: 405 */

api_route_fn api_v7_geocode;     /* GET /v1/geocode; arg 1: /v1/discover */
api_route_fn api_v7_revgeocode;  /* GET /v1/revgeocode */
api_route_fn api_v7_autosuggest; /* GET /v1/autosuggest */
api_route_fn api_v7_lookup;      /* GET /v1/lookup */

/* The v7 error document (status, title, correlationId, requestId, cause, action) with HTTP
 * status; 401 also carries OAuth's error / error_description, which v7 clients read. */
void api_v7_error(struct http_response *resp, int status, const char *title, const char *cause,
                  const char *action);

#endif
