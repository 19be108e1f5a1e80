/*
 * api_geo.c - what the synchronous APIs (api_sync.c: Geocoder 6.2, api_v7.c: Geocoding &
 * Search v7) share: the geocoder calls, parameter parsing, and the JSON writer of their
 * answers (see api_int.h).
 *
 * DESIGN. A single address goes through exactly the calls that batch.c makes for a row of a
 * job (gc_set_forward on the server's index set, which for one index is geocode_forward), so
 * that the best answer of /6.2/geocode.json is the first line of the batch result for the same
 * input. Each request gets its own geocoding memory (struct api_geo, about 200 KB), which its
 * connection thread keeps for its next request and frees when it ends: nothing is shared
 * between connection threads but the read-only index.
 */
#include "serve/api_int.h"
#include "base/err.h"
#include "base/mem.h"
#include "geocode/geocode_set.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Each connection thread keeps the memory of its last request for the next one (a connection
 * is one thread, and keep-alive clients send many requests): freed when the thread ends. */
static pthread_key_t geo_key;
static pthread_once_t geo_once = PTHREAD_ONCE_INIT;

static void geo_key_make(void)
{
    pthread_key_create(&geo_key, free);
}

struct api_geo *api_geo_new(void)
{
    pthread_once(&geo_once, geo_key_make);
    struct api_geo *g = pthread_getspecific(geo_key);
    if (g)
        pthread_setspecific(geo_key, NULL);
    else
        g = xmalloc(sizeof(*g));
    g->res.n = 0;
    g->tmp.n = 0;
    g->label[0] = '\0';
    return g;
}

void api_geo_free(struct api_geo *g)
{
    if (!g)
        return;
    pthread_once(&geo_once, geo_key_make);
    struct api_geo *kept = pthread_getspecific(geo_key);
    if (!kept && pthread_setspecific(geo_key, g) == 0)
        return;
    free(g);
}

int api_geo_forward(const struct api *a, struct api_geo *g, const struct gc_query *q)
{
    if (a->cfg.set)
        return gc_set_forward(a->cfg.set, q, &g->res, &g->tmp);
    return geocode_forward(a->cfg.index, q, &g->res);
}

int api_geo_reverse(const struct api *a, struct api_geo *g, double lat, double lon, double radius,
                    int max_results)
{
    if (a->cfg.set)
        return gc_set_reverse(a->cfg.set, lat, lon, radius, max_results, &g->res, &g->tmp);
    return geocode_reverse(a->cfg.index, lat, lon, radius, max_results, &g->res);
}

int api_geo_reverse_areas(const struct api *a, struct api_geo *g, double lat, double lon)
{
    if (a->cfg.set)
        return gc_set_reverse_areas(a->cfg.set, lat, lon, &g->res, &g->tmp);
    return geocode_reverse_areas(a->cfg.index, lat, lon, &g->res);
}

/* Copy candidate *src into *dst, keeping a house number held in the candidate itself. */
static void cand_copy(struct gc_candidate *dst, const struct gc_candidate *src)
{
    *dst = *src;
    if (src->house_number == src->number_buf)
        dst->house_number = dst->number_buf;
}

static size_t members(const struct api *a)
{
    return a->cfg.set ? gc_set_count(a->cfg.set) : 1;
}

static const struct index *member(const struct api *a, size_t i)
{
    return a->cfg.set ? gc_set_index(a->cfg.set, i) : a->cfg.index;
}

int api_geo_suggest(const struct api *a, struct api_geo *g, const struct gc_suggest *q)
{
    int rc = geocode_suggest(member(a, 0), q, &g->res);
    for (size_t m = 1; rc == 0 && m < members(a); m++) {
        rc = geocode_suggest(member(a, m), q, &g->tmp);
        /* merge: by distance when ranked by it, else by relevance */
        for (int i = 0; rc == 0 && i < g->tmp.n; i++) {
            const struct gc_candidate *c = &g->tmp.c[i];
            int at = g->res.n;
            while (at > 0 && (q->has_at ? g->res.c[at - 1].distance > c->distance
                                        : g->res.c[at - 1].relevance < c->relevance))
                at--;
            if (at >= q->max_results)
                continue;
            int last = g->res.n < q->max_results ? g->res.n : q->max_results - 1;
            for (int k = last; k > at; k--)
                cand_copy(&g->res.c[k], &g->res.c[k - 1]);
            cand_copy(&g->res.c[at], c);
            if (g->res.n < q->max_results)
                g->res.n++;
        }
    }
    return rc;
}

int api_geo_lookup(const struct api *a, struct api_geo *g, const char *location_id)
{
    int rc = GB_ENOTFOUND;
    for (size_t m = 0; rc == GB_ENOTFOUND && m < members(a); m++)
        rc = geocode_lookup(member(a, m), location_id, &g->res);
    return rc;
}

int api_geo_forward_in(const struct api *a, struct api_geo *g, struct gc_query *q, char (*cc)[3],
                       int n)
{
    if (n <= 1) {
        q->country = n ? cc[0] : q->country;
        return api_geo_forward(a, g, q);
    }
    /* merged in a result of its own (tmp is the set's scratch) */
    struct gc_result *merged = xmalloc(sizeof(*merged));
    merged->n = 0;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        q->country = cc[k];
        rc = api_geo_forward(a, g, q);
        for (int i = 0; rc == 0 && i < g->res.n; i++) {
            const struct gc_candidate *c = &g->res.c[i];
            int at = merged->n;
            while (at > 0 && merged->c[at - 1].relevance < c->relevance)
                at--;
            if (at >= q->max_results)
                continue;
            int last = merged->n < q->max_results ? merged->n : q->max_results - 1;
            for (int j = last; j > at; j--)
                cand_copy(&merged->c[j], &merged->c[j - 1]);
            cand_copy(&merged->c[at], c);
            if (merged->n < q->max_results)
                merged->n++;
        }
    }
    if (rc == 0) {
        g->res.n = merged->n;
        for (int i = 0; i < merged->n; i++)
            cand_copy(&g->res.c[i], &merged->c[i]);
    }
    free(merged);
    return rc;
}

int api_sync_other(struct api *a, struct http_request *req, struct http_response *resp,
                   const char *app, int arg)
{
    (void)a;
    (void)app;
    (void)arg;
    api_method_not_allowed(resp, req);
    return HTTP_RESPOND;
}

/* ---- parameters ---- */

const char *api_param(const struct http_request *req, const char *name)
{
    const char *v = http_param(req, name);
    if (!v || !*v || strcmp(v, "undefined") == 0 || strcmp(v, "null") == 0)
        return NULL;
    return v;
}

int api_param_int(const struct http_request *req, const char *name, long min, long max, long dflt,
                  long *out, char *err, size_t errlen)
{
    const char *v = api_param(req, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        gb_errf(err, errlen, "Invalid value for parameter '%s': an integer from %ld to %ld", name,
                min, max);
        return GB_EPARAM;
    }
    *out = n;
    return 0;
}

int api_parse_latlon(const char *s, double *lat, double *lon, double *extra, int nextra,
                     int *nextra_out)
{
    double v[2 + 4];
    int n = 0;
    const char *p = s;
    if (nextra > 4)
        nextra = 4;
    for (;;) {
        char *end;
        while (*p == ' ')
            p++;
        if (!*p || *p == ',')
            return GB_EPARAM;
        errno = 0;
        v[n] = strtod(p, &end);
        if (end == p || errno || !isfinite(v[n]))
            return GB_EPARAM;
        n++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',' || n == 2 + nextra)
            return GB_EPARAM;
        p++;
    }
    if (n < 2 || fabs(v[0]) > 90 || fabs(v[1]) > 180)
        return GB_EPARAM;
    *lat = v[0];
    *lon = v[1];
    for (int i = 2; i < n; i++)
        extra[i - 2] = v[i];
    if (nextra_out)
        *nextra_out = n - 2;
    return 0;
}

int api_param_text(const struct http_request *req, const char *name, const char **out, char *err,
                   size_t errlen)
{
    const char *v = api_param(req, name);
    if (v && strlen(v) > API_TEXT_MAX) {
        gb_errf(err, errlen, "Parameter '%s' is longer than %d bytes", name, API_TEXT_MAX);
        return GB_EPARAM;
    }
    *out = v;
    return 0;
}

/* ---- the JSON writer ---- */

void aj_init(struct api_json *j, struct buf *out, bool lower)
{
    j->out = out;
    j->lower = lower;
    j->depth = 0;
    j->first[0] = true;
}

/* The separator before a value, and its key. */
static void aj_key(struct api_json *j, const char *key)
{
    if (!j->first[j->depth])
        buf_putc(j->out, ',');
    j->first[j->depth] = false;
    if (!key)
        return;
    buf_putc(j->out, '"');
    if (j->lower && key[0] >= 'A' && key[0] <= 'Z') {
        buf_putc(j->out, (char)tolower((unsigned char)key[0]));
        buf_puts(j->out, key + 1);
    } else
        buf_puts(j->out, key);
    buf_puts(j->out, "\":");
}

void aj_open(struct api_json *j, const char *key, char c)
{
    aj_key(j, key);
    buf_putc(j->out, c);
    if (j->depth + 1 < API_JSON_DEPTH)
        j->depth++;
    j->first[j->depth] = true;
}

void aj_close(struct api_json *j, char c)
{
    buf_putc(j->out, c);
    if (j->depth > 0)
        j->depth--;
}

void aj_str(struct api_json *j, const char *key, const char *v)
{
    aj_key(j, key);
    api_json_string(j->out, v ? v : "");
}

void aj_str_nz(struct api_json *j, const char *key, const char *v)
{
    if (v && *v)
        aj_str(j, key, v);
}

void aj_int(struct api_json *j, const char *key, long long v)
{
    aj_key(j, key);
    buf_printf(j->out, "%lld", v);
}

void aj_num(struct api_json *j, const char *key, double v, int decimals)
{
    char tmp[64];
    if (!isfinite(v))
        v = 0;
    snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *e = tmp + strlen(tmp) - 1;
        while (e > dot + 1 && *e == '0')
            *e-- = '\0';
    }
    if (strcmp(tmp, "-0.0") == 0)
        snprintf(tmp, sizeof(tmp), "0.0");
    aj_key(j, key);
    buf_puts(j->out, tmp);
}
