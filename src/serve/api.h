/*
 * api.h - the HERE Batch Geocoder 6.2 job API on top of http.h: authentication, rate limits,
 * the endpoints, job uploads, and the XML / JSON documents of spec §5; and the synchronous
 * Geocoder 6.2 and Geocoding & Search v7 APIs on the same credentials and index. Its files share
 * serve/api_int.h (api.c: the route table and the handler; api_doc.c, api_upload.c, api_jobs.c,
 * api_geo.c, api_sync.c, api_v7.c).
 *
 * Threads: api_handler's callbacks run on HTTP connection threads, any number at once; they
 * geocode only for the synchronous APIs (each request with memory of its own; jobs are the
 * workers'). The document functions are pure and reentrant.
 */
#ifndef GEOBATCH_API_H
#define GEOBATCH_API_H

#include "base/buf.h"
#include "base/csv.h"
#include "serve/http.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct auth;
struct gc_set;
struct index;
struct worker_pool;

struct api_config {
    struct store *store;
    struct auth *auth;
    const struct index *index;
    const struct gc_set *set; /* the index set the synchronous APIs answer from, or NULL: index */
    struct worker_pool *workers;
    const char *data_dir;
    struct csv_limits limits;   /* per line / field of an upload */
    uint64_t max_records;       /* input lines without the header, per job */
    uint64_t max_body;          /* bytes of an upload */
    uint32_t chunk_rows;        /* valid rows per chunk */
    uint64_t max_jobs_per_app;  /* submitted + accepted + running jobs of one application */
    uint64_t max_disk_per_app;  /* bytes of an application's job files and uploads, 0: none */
    uint32_t keep_failed_hours; /* a failed job may be restarted this long (its chunk files are
                                   removed then; 0: when it fails, and it cannot restart) */
    double rate;                /* requests per second per application (0: no limit) */
    double burst;               /* bucket size of the rate limit */
    double rate_lease;          /* shared store: seconds a node may hold tokens it took (0: 1) */
};

struct api;

/* Create the API; cfg's pointers must outlive it. Return 0 and set *out. */
int api_new(struct api **out, const struct api_config *cfg);
void api_free(struct api *a);

/* Tell the API its HTTP server, for /metrics. */
void api_set_http(struct api *a, struct http_server *s);

/* The handler to pass to http_server_start() with the struct api as ctx; it carries the API's
 * route table. */
extern const struct http_handler api_handler;

/* ---- documents (exposed for tests) ---- */

/* Format unix seconds as "YYYY-MM-DDTHH:MM:SS.000Z" (24 bytes with the NUL). */
void api_format_time(char out[32], int64_t t);

/*
 * Append the status document of a job: XML on one line (spec §5.1) or JSON (§5.4). Counts are
 * all 0 while the job is submitted or accepted; JobStarted / JobFinished appear once set.
 */
int api_doc_status(struct buf *out, const struct job_info *j, bool json);

/*
 * Append an error document (§5.5): ns2:Error with type, subtype, Details and, when
 * additional_key is not NULL, <AdditionalData key="..."/>; or the JSON mirror.
 */
int api_doc_error(struct buf *out, bool json, const char *type, const char *subtype,
                  const char *details, const char *additional_key);

/* Fill out with 32 random characters [A-Za-z0-9] from getrandom() and a NUL. */
void api_new_request_id(char out[33]);

#endif
