/*
 * http.c - see http.h.
 *
 * DESIGN. libmicrohttpd runs one thread per connection. The access handler is called several
 * times per request: first with the headers (we build a struct http_request and call the
 * handler's begin()), then once per piece of body, then once more with no data (end()). The
 * request context lives in MHD's con_cls and is released in the completion callback, which
 * also records the request's latency. Counters are atomics: any connection thread updates
 * them, /metrics reads them.
 *
 * Slow clients. MHD's connection timeout is an idle timeout: a client that sends one byte a
 * second is never idle and would hold its connection thread for ever (slowloris). So every
 * connection is registered (MHD's connection notifications) with the phase it is in and when
 * that phase began, and a watchdog thread shuts down the socket of a connection whose headers
 * are not complete after header_timeout_s, or whose body has averaged less than min_body_rate
 * after header_timeout_s (time spent in the handler's body() does not count). One address
 * holds at most max_per_ip connections (MHD closes the others at once), so that slow clients
 * from one address cannot take the max_connections threads from everyone else. shutdown() makes
 * MHD's own read fail, so MHD closes and cleans up the connection on its own thread as for any
 * client that went away. The registry is under a mutex that MHD's close notification also
 * takes, and MHD notifies before it closes the descriptor, so the watchdog never touches a
 * descriptor that was reused.
 */
#include "serve/http.h"
#include "serve/access_log.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "job/params.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS 12
static const double bucket_le[NBUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,  0.5,   1,    2.5,   5,    10};

enum conn_phase { PHASE_HEADERS, PHASE_BODY, PHASE_BUSY };

/* One TCP connection, from MHD's STARTED to its CLOSED notification. Fields under s->mu. */
struct conn {
    struct conn *prev, *next;
    int fd;
    enum conn_phase phase;
    double t0;      /* when the phase began (monotonic seconds) */
    double in_body; /* seconds spent in the handler's body() during PHASE_BODY */
    uint64_t bytes; /* body bytes received during PHASE_BODY */
    bool cut;       /* the watchdog shut it down */
};

struct http_server {
    struct MHD_Daemon *d;
    pthread_mutex_t mu; /* conns, stopping */
    pthread_cond_t cv;  /* wakes the watchdog at stop */
    struct conn *conns;
    bool stopping;
    pthread_t watchdog;
    bool watchdog_running;
    unsigned header_timeout_s;
    unsigned min_body_rate;
    atomic_uint_fast64_t cut; /* connections cut by the watchdog */
    atomic_bool quiesced;     /* http_server_quiesce() was called */
    const struct http_handler *h;
    void *ctx;
    unsigned port;
    atomic_uint_fast64_t by_status[600];
    atomic_uint_fast64_t buckets[NBUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t lat_us_sum;
    atomic_uint_fast64_t count;
    struct access_log *access_log; /* or NULL */
    atomic_uint_fast64_t next_id;  /* the number of the last request begun */
};

struct req_ctx {
    struct http_request req;
    struct timespec t0;
    int status;
    bool began;      /* begin() was called (cleanup() is due) */
    bool reading;    /* the body goes to body() */
    bool stopped;    /* body() asked to stop: discard the rest */
    bool close;      /* body() refused the body: answer now and close the connection */
    uint64_t linger; /* bytes of a refused body read after the answer */
    double refused;  /* when the answer to a refused body was sent (mono_now) */
    bool responded;
    bool deferred;                /* pending is the answer to a request without a body */
    struct http_response pending; /* queued at MHD's next call, so that the connection stays
                                     open (keep-alive): queued in the first call, MHD closes */
    /* for the access log */
    uint64_t id;                        /* the request's number */
    uint64_t bytes_in;                  /* body bytes received */
    uint64_t bytes_out;                 /* body bytes of the answer */
    char method[16];                    /* the method's first bytes */
    char path[HTTP_ROUTE_PATH_MAX + 2]; /* the path's first bytes: one more than the log keeps */
};

/* ---- routes ---- */

static bool method_matches(const char *row, const char *method)
{
    return strcmp(row, "*") == 0 || strcmp(row, method) == 0 ||
           (strcmp(row, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/*
 * Match one row's pattern against the path's segments (seg[0..nseg-1], seg[0] being the empty
 * one before the leading '/'). On success fill the offsets and lengths of the captures and
 * whether a ".json" ending asks for JSON.
 */
static bool pattern_matches(const struct http_route *r, const char *buf, char *const *seg,
                            size_t nseg, uint16_t *arg, size_t *arglen, size_t *nargs, bool *json)
{
    const char *p = r->pattern;
    size_t i = 0;
    *nargs = 0;
    *json = false;
    for (;; i++) {
        const char *end = strchr(p, '/');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (i >= nseg)
            return false;
        size_t slen = strlen(seg[i]);
        bool last = !end;
        if (last && i + 1 != nseg)
            return false;
        if (last && (r->flags & (HTTP_ROUTE_JSON | HTTP_ROUTE_JSON_IGNORED)) && slen >= 5 &&
            memcmp(seg[i] + slen - 5, ".json", 5) == 0) {
            slen -= 5;
            *json = (r->flags & HTTP_ROUTE_JSON) != 0;
        }
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (*nargs == HTTP_ROUTE_MAX_ARGS)
                return false;
            arg[*nargs] = (uint16_t)(seg[i] - buf);
            arglen[(*nargs)++] = slen;
        } else if (plen != slen || memcmp(p, seg[i], slen) != 0) {
            return false;
        }
        if (last)
            return true;
        p = end + 1;
    }
}

void http_route_match(const struct http_handler *h, const char *method, const char *path,
                      struct http_match *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(path);
    if (len >= sizeof(out->buf))
        return;
    char *buf = out->buf;
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    char *seg[HTTP_ROUTE_MAX_SEGS];
    size_t nseg = 0;
    for (char *s = buf;; s++) {
        if (nseg == HTTP_ROUTE_MAX_SEGS)
            return;
        seg[nseg++] = s;
        s = strchr(s, '/');
        if (!s)
            break;
        *s = '\0';
    }
    size_t arglen[HTTP_ROUTE_MAX_ARGS] = {0};
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct http_route *r =
            (const struct http_route *)((const char *)h->routes + i * h->route_size);
        uint16_t a[HTTP_ROUTE_MAX_ARGS] = {0};
        size_t alen[HTTP_ROUTE_MAX_ARGS] = {0}, na = 0;
        bool json = false;
        if (!pattern_matches(r, buf, seg, nseg, a, alen, &na, &json))
            continue;
        bool take = method_matches(r->method, method) && !out->route;
        if (take || !out->path_found) {
            out->json = json;
            out->nargs = na;
            memcpy(out->arg, a, sizeof(a));
            memcpy(arglen, alen, sizeof(alen));
        }
        out->path_found = true;
        if (take)
            out->route = r;
        if (strcmp(r->method, "*") != 0) { /* "GET, POST": no printf, this runs per request */
            size_t n = strlen(out->allow), m = strlen(r->method);
            if (n + 2 + m < sizeof(out->allow)) {
                if (n) {
                    memcpy(out->allow + n, ", ", 2);
                    n += 2;
                }
                memcpy(out->allow + n, r->method, m + 1);
            }
        }
    }
    for (size_t i = 0; i < out->nargs; i++)
        buf[out->arg[i] + arglen[i]] = '\0'; /* cuts a ".json" ending off */
}

const char *http_match_arg(const struct http_match *m, size_t i)
{
    return i < m->nargs ? m->buf + m->arg[i] : "";
}

const char *http_param(const struct http_request *req, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < req->nparams; i++)
        if (strcasecmp(req->params[i].name, name) == 0)
            v = req->params[i].value;
    return v;
}

/* Parse the q of one media range "type/sub;q=0.5"; 1 when absent. */
static double media_q(const char *s, size_t n)
{
    const char *semi = memchr(s, ';', n);
    while (semi) {
        const char *p = semi + 1;
        while (p < s + n && *p == ' ')
            p++;
        if (p + 2 <= s + n && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char num[16];
            size_t k = 0;
            for (p += 2; p < s + n && k + 1 < sizeof(num) && *p != ';'; p++)
                num[k++] = *p;
            num[k] = '\0';
            return strtod(num, NULL);
        }
        semi = memchr(semi + 1, ';', (size_t)(s + n - semi - 1));
    }
    return 1.0;
}

bool http_wants_json(const struct http_request *req)
{
    if (req->route.json)
        return true;
    const char *a = req->accept;
    if (!a)
        return false;
    double qj = -1, qx = -1;
    int pos_j = -1, pos_x = -1, pos = 0;
    while (*a) {
        const char *end = strchr(a, ',');
        size_t n = end ? (size_t)(end - a) : strlen(a);
        const char *s = a;
        size_t m = n;
        while (m && (*s == ' ' || *s == '\t'))
            s++, m--;
        size_t tlen = 0;
        while (tlen < m && s[tlen] != ';' && s[tlen] != ' ')
            tlen++;
        double q = media_q(s, m);
#define IS(t) (tlen == sizeof(t) - 1 && strncasecmp(s, t, tlen) == 0)
        if (IS("application/json")) {
            if (q > qj)
                qj = q, pos_j = pos;
        } else if (IS("application/xml") || IS("text/xml") || IS("*/*") || IS("application/*")) {
            if (q > qx)
                qx = q, pos_x = pos;
        }
#undef IS
        pos++;
        a += n;
        if (*a == ',')
            a++;
    }
    if (qj <= 0)
        return false;
    if (qx < 0)
        return true;
    return qj > qx || (qj == qx && pos_j < pos_x);
}

/* ---- slow clients ---- */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn *k = xcalloc(1, sizeof(*k));
        k->fd = ci ? ci->connect_fd : -1;
        k->phase = PHASE_HEADERS;
        k->t0 = mono_now();
        pthread_mutex_lock(&s->mu);
        for (struct conn *o = s->conns; o; o = o->next)
            if (o->fd == k->fd)
                o->fd = -1; /* a stale entry for a reused descriptor: never touch it */
        k->next = s->conns;
        if (s->conns)
            s->conns->prev = k;
        s->conns = k;
        pthread_mutex_unlock(&s->mu);
        *socket_context = k;
        return;
    }
    struct conn *k = *socket_context;
    if (!k)
        return;
    pthread_mutex_lock(&s->mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        s->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&s->mu);
    free(k);
    *socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_phase(struct http_server *s, struct conn *k, enum conn_phase p)
{
    if (!k)
        return;
    pthread_mutex_lock(&s->mu);
    k->phase = p;
    k->t0 = mono_now();
    k->in_body = 0;
    k->bytes = 0;
    pthread_mutex_unlock(&s->mu);
}

static void *watchdog_main(void *arg)
{
    struct http_server *s = arg;
    double limit = s->header_timeout_s;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec until = clock_after_ms(CLOCK_REALTIME, 250);
        pthread_cond_timedwait(&s->cv, &s->mu, &until);
        double now = mono_now();
        for (struct conn *k = s->conns; k; k = k->next) {
            if (k->cut || k->fd < 0 || k->phase == PHASE_BUSY)
                continue;
            double el = now - k->t0;
            const char *why = NULL;
            if (k->phase == PHASE_HEADERS && el > limit)
                why = "headers";
            else if (k->phase == PHASE_BODY && el - k->in_body > limit &&
                     (double)k->bytes < (el - k->in_body) * s->min_body_rate)
                why = "body";
            if (!why)
                continue;
            shutdown(k->fd, SHUT_RDWR);
            k->cut = true;
            atomic_fetch_add(&s->cut, 1);
            log_info("http slow client cut phase=%s seconds=%.1f bytes=%llu", why, el,
                     (unsigned long long)k->bytes);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- MHD glue ---- */

/*
 * Decode %XX in the path and in query parameters, but keep "%00" as it is (params_unescape).
 * MHD's own decoder turns %00 into a NUL that cuts the string: "/6.2/jobs/<id>%00junk" reached
 * the job <id>, and "app_code=<code>%00junk" authenticated. Kept literally, neither is a valid
 * id or secret.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *str)
{
    (void)cls;
    (void)c;
    size_t n = strlen(str);
    return params_unescape(str, n + 1, str, n);
}

struct framing {
    int n_length;
    int n_te;
    bool te_chunked;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (!key)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->n_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->n_te++;
        f->te_chunked = value && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/*
 * MHD frames a body by the first Content-Length and lets Transfer-Encoding win over it; a
 * proxy in front may pick another, and what one of them takes for body the other reads as
 * the next request (request smuggling). Refuse every ambiguous framing (RFC 9112 6.3).
 */
static const char *check_framing(struct MHD_Connection *c)
{
    struct framing f = {0, 0, false};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.n_length > 1)
        return "More than one Content-Length header";
    if (f.n_te && f.n_length)
        return "Both Content-Length and Transfer-Encoding headers";
    if (f.n_te > 1 || (f.n_te && !f.te_chunked))
        return "Unsupported Transfer-Encoding (only chunked)";
    return NULL;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct http_request *r = cls;
    if (!key || !*key)
        return MHD_YES;
    if (r->nparams >= HTTP_MAX_PARAMS) {
        r->too_many_params = true; /* dropping them silently could drop the credentials */
        return MHD_YES;
    }
    r->params[r->nparams].name = key;
    r->params[r->nparams].value = value ? value : "";
    r->nparams++;
    return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct req_ctx *rc,
                                     struct http_response *resp)
{
    struct MHD_Response *r;
    rc->bytes_out = resp->fd >= 0 ? resp->size : resp->body.len;
    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd64(resp->size, resp->fd);
        if (!r)
            close(resp->fd);
    } else {
        size_t len = resp->body.len;
        char *data = buf_steal(&resp->body);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(data);
    }
    resp->fd = -1;
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", resp->disposition);
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    for (const char *const *h = resp->headers; h && h[0] && h[1]; h += 2)
        MHD_add_response_header(r, h[0], h[1]);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (rc->req.bad_framing || rc->close) /* never read what follows as a request */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    rc->status = resp->status;
    rc->responded = true;
    return ok;
}

/* A refused body is read on after the answer, to its end, but no more than these bytes and
 * seconds, before the connection is closed. */
#define REFUSE_LINGER   ((uint64_t)64 << 20)
#define REFUSE_LINGER_S 10.0

/*
 * Answer a request whose body the handler refused (HTTP_BODY_REFUSE) at once. libmicrohttpd
 * queues no response before the whole body is in, so the answer is written to the socket here
 * (the connection's own thread: nobody else writes to it) and its sending side shut down. The
 * caller then reads the rest of the body and closes the connection at its end, or once
 * REFUSE_LINGER more bytes came or REFUSE_LINGER_S passed: a client that is still sending
 * must see the answer, and closing with unread bytes resets the connection, which fails the
 * client's next send and can destroy the answer before it was read (curl then reports the
 * "100 Continue" it had); the bounds keep an endless body from holding the connection.
 */
static void send_refusal(struct MHD_Connection *c, struct req_ctx *rc, struct http_response *resp)
{
    rc->status = resp->status;
    rc->bytes_out = resp->body.len;
    rc->responded = true;
    rc->refused = mono_now();
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    struct buf out;
    buf_init(&out, resp->body.len + 1024);
    const char *reason = MHD_get_reason_phrase_for((unsigned)resp->status);
    int rc2 = buf_printf(&out,
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                         resp->status, reason ? reason : "",
                         resp->content_type ? resp->content_type : "text/plain", resp->body.len);
    if (rc2 == 0 && resp->body.len)
        rc2 = buf_append(&out, resp->body.data, resp->body.len);
    for (size_t off = 0; rc2 == 0 && off < out.len;) {
        ssize_t n = send(ci->connect_fd, out.data + off, out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = {.fd = ci->connect_fd, .events = POLLOUT};
            if (poll(&pfd, 1, 1000) <= 0)
                break; /* the client reads nothing: it gets no answer */
        } else
            break;
    }
    shutdown(ci->connect_fd, SHUT_WR);
    buf_release(&out);
}

static void resp_init(struct http_response *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->status = 500;
    buf_init(&r->body, (size_t)1 << 26);
}

static void resp_release(struct http_response *r)
{
    if (r->fd >= 0)
        close(r->fd);
    buf_release(&r->body);
}

/*
 * The path of an absolute-form request target ("http://host:port/6.2/jobs" -> "/6.2/jobs";
 * "http://host" -> "/"): RFC 9112 3.2.2 says a server must accept it, and clients that can
 * only be redirected through an HTTP proxy setting send it. The host is ignored. Any other
 * target is returned as it is.
 */
static const char *origin_form(const char *url)
{
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!skip)
        return url;
    const char *p = strchr(url + skip, '/');
    return p ? p : "/";
}

/*
 * Whether the request has a body to read: a Content-Length above 0 or a Transfer-Encoding.
 * MHD closes the connection after an answer queued before the request was read whole (it
 * cannot know where the next request starts); a request without a body is whole once its
 * headers are in, so its answer waits for MHD's next call and the connection is kept.
 */
static bool has_body(struct MHD_Connection *c, const struct http_request *r)
{
    if (r->bad_framing)
        return true; /* answered at once, and closed */
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return true;
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH))
        return !r->has_length || r->content_length > 0;
    return false;
}

/* The connection's peer address as text, or "". */
static void client_address(struct MHD_Connection *c, char *out, size_t cap)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct req_ctx *rc = *con_cls;
    if (!rc) {
        rc = xcalloc(1, sizeof(*rc));
        *con_cls = rc;
        clock_gettime(CLOCK_MONOTONIC, &rc->t0);
        struct http_request *r = &rc->req;
        r->bad_framing = check_framing(c);
        r->method = method;
        r->path = origin_form(url);
        rc->id = atomic_fetch_add(&s->next_id, 1) + 1;
        snprintf(rc->method, sizeof(rc->method), "%s", method);
        snprintf(rc->path, sizeof(rc->path), "%s", r->path);
        http_route_match(s->h, method, r->path, &r->route);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, r);
        client_address(c, r->client, sizeof(r->client));
        r->accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
        r->authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        r->accept_encoding =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (!errno && end != cl && *end == '\0') {
                r->has_length = true;
                r->content_length = v;
            }
        }
        struct http_response resp;
        resp_init(&resp);
        rc->began = true;
        /* the headers are complete: the watchdog's header deadline ends before the handler
         * runs (a long poll, or any slow answer, may take longer than the deadline) */
        conn_phase(s, conn_of(c), PHASE_BUSY);
        int what = s->h->begin(s->ctx, r, &resp);
        if (what == HTTP_READ_BODY) {
            rc->reading = true;
            conn_phase(s, conn_of(c), PHASE_BODY);
            resp_release(&resp);
            return MHD_YES;
        }
        if (!has_body(c, r)) {
            rc->pending = resp; /* moved: released by the next call or by on_completed */
            rc->deferred = true;
            return MHD_YES;
        }
        enum MHD_Result ok = send_response(c, rc, &resp);
        resp_release(&resp);
        return ok;
    }
    if (rc->deferred) {
        rc->deferred = false;
        enum MHD_Result ok = send_response(c, rc, &rc->pending);
        resp_release(&rc->pending);
        return ok;
    }
    if (rc->responded) {
        if (rc->close) { /* a refused body: close at its end, or past the bounds */
            rc->linger += *upload_size;
            if (*upload_size == 0 || rc->linger > REFUSE_LINGER ||
                mono_now() - rc->refused > REFUSE_LINGER_S)
                return MHD_NO;
        }
        *upload_size = 0; /* a body after an early answer: drop it */
        return MHD_YES;
    }
    if (*upload_size) {
        rc->bytes_in += *upload_size;
        double t0 = mono_now();
        int b =
            rc->reading && !rc->stopped ? s->h->body(s->ctx, &rc->req, upload, *upload_size) : 0;
        if (b < 0)
            rc->stopped = true;
        rc->close = b == HTTP_BODY_REFUSE;
        struct conn *k = conn_of(c);
        if (k) {
            pthread_mutex_lock(&s->mu);
            k->bytes += *upload_size;
            k->in_body += mono_now() - t0;
            pthread_mutex_unlock(&s->mu);
        }
        *upload_size = 0;
        if (!rc->close)
            return MHD_YES;
    }
    conn_phase(s, conn_of(c), PHASE_BUSY);
    struct http_response resp;
    resp_init(&resp);
    s->h->end(s->ctx, &rc->req, &resp);
    if (rc->close) {
        send_refusal(c, rc, &resp);
        resp_release(&resp);
        return MHD_YES;
    }
    enum MHD_Result ok = send_response(c, rc, &resp);
    resp_release(&resp);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct req_ctx *rc = *con_cls;
    if (!rc)
        return;
    if (rc->deferred)
        resp_release(&rc->pending);
    if (rc->began && s->h->cleanup)
        s->h->cleanup(s->ctx, &rc->req);
    conn_phase(s, conn_of(c), PHASE_HEADERS); /* keep-alive: the next request's deadline */
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - rc->t0.tv_sec) + (double)(t1.tv_nsec - rc->t0.tv_nsec) / 1e9;
    int b = 0;
    while (b < NBUCKETS && sec > bucket_le[b])
        b++;
    atomic_fetch_add(&s->buckets[b], 1);
    atomic_fetch_add(&s->lat_us_sum, (uint64_t)(sec * 1e6));
    atomic_fetch_add(&s->count, 1);
    if (rc->status > 0 && rc->status < 600)
        atomic_fetch_add(&s->by_status[rc->status], 1);
    if (s->access_log) {
        const struct http_route *route = rc->req.route.route;
        struct access_entry e = {rc->id,
                                 rc->req.client,
                                 rc->req.app,
                                 rc->method,
                                 route ? route->pattern : "",
                                 rc->path,
                                 rc->responded ? rc->status : 0,
                                 rc->bytes_in,
                                 rc->bytes_out,
                                 sec,
                                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK};
        access_log_write(s->access_log, &e);
    }
    free(rc);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("http mhd msg=\"%s\"", msg);
}

int http_server_start(struct http_server **out, const struct http_config *cfg,
                      const struct http_handler *h, void *ctx, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(cfg->listen, ':');
    long port;
    if (!colon || (size_t)(colon - cfg->listen) >= sizeof(host) ||
        (port = strtol(colon + 1, NULL, 10)) < 0 || port > 65535) {
        snprintf(err, errlen, "--listen: expected HOST:PORT, got '%s'", cfg->listen);
        return GB_EUSAGE;
    }
    memcpy(host, cfg->listen, (size_t)(colon - cfg->listen));
    host[colon - cfg->listen] = '\0';
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(host[0] ? host : "0.0.0.0", NULL, &hints, &ai);
    if (g != 0) {
        snprintf(err, errlen, "--listen: cannot resolve '%s': %s", host, gai_strerror(g));
        return GB_EUSAGE;
    }
    struct sockaddr_in sa;
    memcpy(&sa, ai->ai_addr, sizeof(sa));
    freeaddrinfo(ai);
    sa.sin_port = htons((uint16_t)port);

    struct http_server *s = xcalloc(1, sizeof(*s));
    s->h = h;
    s->ctx = ctx;
    s->header_timeout_s = cfg->header_timeout_s && cfg->header_timeout_s < cfg->timeout_s
                              ? cfg->header_timeout_s
                              : cfg->timeout_s;
    s->min_body_rate = cfg->min_body_rate;
    s->access_log = cfg->access_log;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    s->d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
        NULL, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use?)", cfg->listen);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return -EADDRINUSE;
    }
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0)
        s->watchdog_running = true;
    else
        log_warn("http no watchdog: slow clients are cut only when idle");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : (unsigned)port;
    *out = s;
    return 0;
}

unsigned http_server_port(struct http_server *s)
{
    return s->port;
}

void http_server_quiesce(struct http_server *s)
{
    atomic_store(&s->quiesced, true);
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

bool http_server_quiesced(struct http_server *s)
{
    return atomic_load(&s->quiesced);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    if (s->watchdog_running) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->watchdog, NULL);
    }
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void http_server_metrics(struct http_server *s, struct buf *out)
{
    buf_puts(out, "# HELP geobatch_http_requests_total HTTP requests answered, by status.\n"
                  "# TYPE geobatch_http_requests_total counter\n");
    for (int i = 100; i < 600; i++) {
        uint64_t n = atomic_load(&s->by_status[i]);
        if (n)
            buf_printf(out, "geobatch_http_requests_total{code=\"%d\"} %llu\n", i,
                       (unsigned long long)n);
    }
    buf_puts(out, "# HELP geobatch_http_request_duration_seconds Request latency.\n"
                  "# TYPE geobatch_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b <= NBUCKETS; b++) {
        cum += atomic_load(&s->buckets[b]);
        if (b < NBUCKETS)
            buf_printf(out, "geobatch_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       bucket_le[b], (unsigned long long)cum);
        else
            buf_printf(out, "geobatch_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cum);
    }
    buf_printf(out, "geobatch_http_request_duration_seconds_sum %.6f\n",
               (double)atomic_load(&s->lat_us_sum) / 1e6);
    buf_printf(out, "geobatch_http_request_duration_seconds_count %llu\n",
               (unsigned long long)atomic_load(&s->count));
    buf_printf(out,
               "# HELP geobatch_http_slow_clients_cut_total Connections cut for sending too "
               "slowly.\n# TYPE geobatch_http_slow_clients_cut_total counter\n"
               "geobatch_http_slow_clients_cut_total %llu\n",
               (unsigned long long)atomic_load(&s->cut));
}
