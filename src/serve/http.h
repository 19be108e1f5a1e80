/*
 * http.h - the HTTP front of `geobatch serve` on libmicrohttpd: listening, request parsing
 * (query parameters, the headers the API needs, the route), hard limits, request latency for
 * /metrics, and turning a struct http_response into bytes on the wire.
 *
 * It knows neither the URLs of the HERE 6.2 API nor jobs: the handler (api.c) brings a route
 * table, which the one matcher here (http_route_match) applies to every request, and receives
 * the parsed struct http_request in three phases:
 *   begin()  headers are in; answer now (HTTP_RESPOND) or ask for the body (HTTP_READ_BODY)
 *   body()   a piece of the body; return < 0 to stop receiving (the rest is discarded), or
 *            HTTP_BODY_REFUSE to be answered at once (end()) and have the connection closed
 *            after the answer, the rest never read (a body over a limit)
 *   end()    the body is complete (or was stopped); fill the response
 * and cleanup() once the request is over, whatever happened (client gone included).
 *
 * Threads: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so handlers may block
 * (a body() call may wait for disk). All phases of a request run on its connection's thread.
 */
#ifndef GEOBATCH_HTTP_H
#define GEOBATCH_HTTP_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_PARAMS 64 /* query parameters kept per request; further ones are ignored */

/* ---- routes ---- */

#define HTTP_ROUTE_PATH_MAX 512 /* a longer path matches no route */
#define HTTP_ROUTE_MAX_SEGS 16  /* '/'-separated segments of a path or pattern */
#define HTTP_ROUTE_MAX_ARGS 4   /* {name} segments of a pattern */

enum {
    HTTP_ROUTE_JSON = 1u << 0,         /* the path may end in ".json", which asks for JSON */
    HTTP_ROUTE_JSON_IGNORED = 1u << 1, /* the path may end in ".json", which changes nothing */
    HTTP_ROUTE_USER = 1u << 8,         /* the first bit left to the handler's own marks */
};

/*
 * One row of a route table. The table belongs to the handler (struct http_handler), whose own
 * row type begins with a struct http_route, so that the one matcher below walks any table.
 *   method   "GET" (which also takes HEAD), "POST", ..., or "*": any method, for a fallback
 *            row placed after the other rows of its pattern
 *   pattern  '/'-separated segments: a literal, or "{name}", which takes any one segment (an
 *            empty one too) and captures it; "/6.2/jobs/{id}/result"
 * A new endpoint is a new row, never a new branch in the matcher.
 */
struct http_route {
    const char *method;
    const char *pattern;
    unsigned flags; /* HTTP_ROUTE_* */
};

/* What a path and a method matched. Plain data: it may be copied. */
struct http_match {
    const struct http_route *route; /* the first row whose method and pattern match, or NULL */
    bool path_found; /* a row's pattern matched the path: no route is 405 then, not 404 */
    bool json;       /* the path ended in ".json" where the row's HTTP_ROUTE_JSON allows it */
    char allow[64];  /* the methods of the rows whose pattern matched ("GET, POST"), for 405 */
    size_t nargs;
    uint16_t arg[HTTP_ROUTE_MAX_ARGS]; /* offsets in buf of the captured segments */
    char buf[HTTP_ROUTE_PATH_MAX];     /* the path, cut into NUL-terminated segments */
};

struct http_handler;

/*
 * Match a request against the handler's route table. Trailing slashes of the path are
 * ignored; on rows with HTTP_ROUTE_JSON or HTTP_ROUTE_JSON_IGNORED, ".json" at the end of the
 * last segment is taken off before it is compared or captured. The captures and json come from
 * the matching row, or when there is none from the first row whose pattern matched.
 */
void http_route_match(const struct http_handler *h, const char *method, const char *path,
                      struct http_match *out);

/* The i-th captured {name} segment of a match (NUL-terminated), or "" when there is none. */
const char *http_match_arg(const struct http_match *m, size_t i);

struct http_param {
    const char *name;  /* as sent (match case-insensitively) */
    const char *value; /* URL-decoded ("%00" is kept as is); "" when there was no '=' */
};

struct http_request {
    const char *method;      /* "GET", "POST", ... */
    const char *path;        /* URL-decoded path ("%00" kept as is), without the query */
    struct http_match route; /* against the handler's route table, before begin() */
    struct http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
    char client[46];             /* the client's address ("127.0.0.1"), or "" */
    const char *accept;          /* Accept header or NULL */
    const char *authorization;   /* Authorization header or NULL */
    const char *accept_encoding; /* Accept-Encoding header or NULL */
    bool has_length;
    uint64_t content_length; /* Content-Length when has_length */
    /* Framing the API must refuse with 400 (the connection is closed after the answer, so
     * bytes after an ambiguous body are never read as another request): more than one
     * Content-Length, Content-Length with Transfer-Encoding, a Transfer-Encoding other than
     * chunked. A static reason, or NULL. */
    const char *bad_framing;
    bool too_many_params; /* more than HTTP_MAX_PARAMS query parameters were sent */
    void *state;          /* the handler's, from begin() to cleanup() */
    char app[72];         /* the handler sets the authenticated application: access log */
};

/* Return the value of the last parameter called name (any case), or NULL. */
const char *http_param(const struct http_request *req, const char *name);

/* Return true when the client should get JSON: a ".json" path, or an Accept header that
 * names application/json with a higher preference than XML (ties: the one listed first). */
bool http_wants_json(const struct http_request *req);

struct http_response {
    int status;
    const char *content_type; /* a static string */
    struct buf body;          /* the body, when fd < 0 */
    int fd;                   /* a file to stream (owned by the response from then on), or -1 */
    uint64_t size;            /* bytes of fd to send */
    char disposition[192];    /* Content-Disposition value, or "" */
    const char *allow;        /* Allow header for 405, or NULL */
    int retry_after;          /* Retry-After seconds for 429, or 0 */
    /* Further headers: static name, value, name, value, ..., NULL; or NULL. */
    const char *const *headers;
};

enum { HTTP_RESPOND = 0, HTTP_READ_BODY = 1 };
enum { HTTP_BODY_STOP = -1, HTTP_BODY_REFUSE = -2 }; /* what body() may return but 0 */

struct http_handler {
    int (*begin)(void *ctx, struct http_request *req, struct http_response *resp);
    int (*body)(void *ctx, struct http_request *req, const char *data, size_t n);
    void (*end)(void *ctx, struct http_request *req, struct http_response *resp);
    void (*cleanup)(void *ctx, struct http_request *req);
    /* The route table: nroutes rows of route_size bytes, each beginning with a struct
     * http_route. */
    const void *routes;
    size_t nroutes;
    size_t route_size;
};

struct http_config {
    const char *listen;       /* "HOST:PORT" (IPv4 dotted or "localhost"); port 0 picks one */
    unsigned max_connections; /* open connections: each holds one thread */
    unsigned timeout_s;       /* idle connection timeout (MHD's) */
    /* The deadline for a request's headers, from the connection's start or the end of its
     * previous request (so also the keep-alive idle time): a client that trickles bytes is cut
     * then. Also the grace period of a body: after it, a body that averaged less than
     * min_body_rate is cut. Capped at timeout_s. */
    unsigned header_timeout_s;
    unsigned min_body_rate; /* bytes per second (time spent in the handler's body() excluded) */
    unsigned max_per_ip;    /* open connections per client address, 0: no limit */
    struct access_log *access_log; /* one line per request (access_log.h), or NULL */
};

struct http_server;
struct access_log;

/*
 * Listen and serve. Return 0 and set *out, or a negative code with a message in err.
 */
int http_server_start(struct http_server **out, const struct http_config *cfg,
                      const struct http_handler *h, void *ctx, char *err, size_t errlen);

/* The port actually bound. */
unsigned http_server_port(struct http_server *s);

/* Stop accepting new connections; requests in progress go on. */
void http_server_quiesce(struct http_server *s);

/* True once http_server_quiesce() was called: a handler that waits (long polling) answers now. */
bool http_server_quiesced(struct http_server *s);

/* Close every connection and free the server. NULL is fine. */
void http_server_stop(struct http_server *s);

/* Append Prometheus text for requests by status and the latency histogram. */
void http_server_metrics(struct http_server *s, struct buf *out);

#endif
