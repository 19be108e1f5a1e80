/*
 * api_geo.c - what the synchronous APIs (api_sync.c: Geocoder 6.2, api_v7.c: Geocoding &
 * Search v7) share: the geocoder calls, parameter parsing, and the JSON writer of their
 * answers (see api_int.h).
 *
 * DESIGN. A single address goes through exactly the calls that batch.c makes for a row of a
 * job (gc_set_forward on the server's index set, which for one index is geocode_forward), so
 * that the best answer of /6.2/geocode.json is the first line of the batch result for the same
 * input. Each request gets its own geocoding memory (struct api_geo, about 300 KB), which its
 * connection thread keeps for its next request and frees when it ends: nothing is shared
 * between connection threads but the read-only index.
 */
#include "serve/api_int.h"
#include "base/err.h"
#include "base/mem.h"
#include "geocode/geocode_set.h"
#include "index/index_format.h"
#include "record/geo.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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
    g->aux.n = 0;
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

void api_geo_copy(struct gc_candidate *dst, const struct gc_candidate *src)
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
                api_geo_copy(&g->res.c[k], &g->res.c[k - 1]);
            api_geo_copy(&g->res.c[at], c);
            if (g->res.n < q->max_results)
                g->res.n++;
        }
    }
    return rc;
}

/* The lookup table of member m, built by the first lookup that needs it (under ids_mu; read
 * without the lock once published). */
static pthread_mutex_t ids_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct gc_ids *member_ids(struct api *a, size_t m)
{
    struct gc_ids **t = __atomic_load_n(&a->ids, __ATOMIC_ACQUIRE);
    struct gc_ids *ids = t ? __atomic_load_n(&t[m], __ATOMIC_ACQUIRE) : NULL;
    if (ids)
        return ids;
    pthread_mutex_lock(&ids_mu);
    if (!a->ids)
        __atomic_store_n(&a->ids, xcalloc(members(a), sizeof(*a->ids)), __ATOMIC_RELEASE);
    if (!a->ids[m]) {
        gc_ids_new(member(a, m), &ids);
        __atomic_store_n(&a->ids[m], ids, __ATOMIC_RELEASE);
    }
    ids = a->ids[m];
    pthread_mutex_unlock(&ids_mu);
    return ids;
}

void api_geo_ids_free(struct api *a)
{
    if (!a->ids)
        return;
    for (size_t m = 0; m < members(a); m++)
        gc_ids_free(a->ids[m]);
    free(a->ids);
    a->ids = NULL;
}

int api_geo_lookup(struct api *a, struct api_geo *g, const char *location_id)
{
    /* An area's id ('R', 'K') numbers it in the set's areas, the members' one after another
     * (geocode_set.c): it names the member whose range holds it, at its own number there. */
    if ((location_id[0] == 'R' || location_id[0] == 'K') && strlen(location_id) == 17 &&
        strspn(location_id + 1, "0123456789abcdef") == 16) {
        char hex[9];
        memcpy(hex, location_id + 1, 8);
        hex[8] = '\0';
        unsigned long n = strtoul(hex, NULL, 16);
        for (size_t m = 0; m < members(a); m++) {
            size_t here = index_view(member(a, m))->n_admins;
            if (n < here) {
                char id[24];
                snprintf(id, sizeof(id), "%c%08lx%s", location_id[0], n, location_id + 9);
                int rc = geocode_lookup(member(a, m), member_ids(a, m), id, &g->res);
                if (rc == 0)
                    snprintf(g->res.c[0].location_id, sizeof(g->res.c[0].location_id), "%s",
                             location_id);
                return rc;
            }
            n -= here;
        }
        return GB_ENOTFOUND;
    }
    int rc = GB_ENOTFOUND;
    for (size_t m = 0; rc == GB_ENOTFOUND && m < members(a); m++)
        rc = geocode_lookup(member(a, m), member_ids(a, m), location_id, &g->res);
    return rc;
}

/* Insert c into r, kept in descending relevance, at most max candidates. */
static void merge_by_relevance(struct gc_result *r, const struct gc_candidate *c, int max)
{
    int at = r->n;
    while (at > 0 && r->c[at - 1].relevance < c->relevance)
        at--;
    if (at >= max)
        return;
    int last = r->n < max ? r->n : max - 1;
    for (int j = last; j > at; j--)
        api_geo_copy(&r->c[j], &r->c[j - 1]);
    api_geo_copy(&r->c[at], c);
    if (r->n < max)
        r->n++;
}

int api_geo_forward_in(const struct api *a, struct api_geo *g, struct gc_query *q, char (*cc)[3],
                       int n)
{
    if (n <= 1) {
        q->country = n ? cc[0] : q->country;
        return api_geo_forward(a, g, q);
    }
    /* merged in aux (tmp is the set's scratch) */
    g->aux.n = 0;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        q->country = cc[k];
        rc = api_geo_forward(a, g, q);
        for (int i = 0; rc == 0 && i < g->res.n; i++)
            merge_by_relevance(&g->aux, &g->res.c[i], q->max_results);
    }
    if (rc == 0)
        api_geo_take(g, &g->aux);
    return rc;
}

void api_geo_take(struct api_geo *g, const struct gc_result *from)
{
    g->res.n = from->n;
    for (int i = 0; i < from->n; i++)
        api_geo_copy(&g->res.c[i], &from->c[i]);
}

/* Is c inside ar's hard filter (in=countryCode:, circle:, bbox:)? */
static bool area_holds(const struct api_area *ar, const struct gc_candidate *c)
{
    switch (ar->in) {
    case API_IN_COUNTRY:
        for (int k = 0; k < ar->ncc; k++)
            if (!c->country[0] || strcmp(c->country, ar->cc[k]) == 0)
                return true;
        return false;
    case API_IN_CIRCLE:
        return geo_distance_m(ar->lat, ar->lon, c->lat, c->lon) <= ar->radius;
    case API_IN_BBOX:
        return c->lat >= ar->south && c->lat <= ar->north && c->lon >= ar->west &&
               c->lon <= ar->east;
    default:
        return true;
    }
}

/* Relevance as answers show it (two decimals): candidates equal in it are equally good. */
static long shown_relevance(const struct gc_candidate *c)
{
    return lround(c->relevance * 100);
}

void api_geo_place(struct api_geo *g, const struct api_area *ar, int max)
{
    struct gc_result *r = &g->res;
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (area_holds(ar, &r->c[i])) {
            if (n != i)
                api_geo_copy(&r->c[n], &r->c[i]);
            n++;
        }
    r->n = n;
    double lat, lon;
    if (api_area_focus(ar, &lat, &lon)) {
        for (int i = 0; i < n; i++)
            r->c[i].distance = geo_distance_m(lat, lon, r->c[i].lat, r->c[i].lon);
        /* the bias: within each run of equally good answers (same level and relevance), the
         * nearest first; insertion sort, stable, at most GC_MAX_CANDIDATES */
        for (int i = 1; i < n; i++) {
            int j = i;
            while (j > 0 && r->c[j - 1].level == r->c[i].level &&
                   shown_relevance(&r->c[j - 1]) == shown_relevance(&r->c[i]) &&
                   r->c[j - 1].distance > r->c[i].distance)
                j--;
            if (j == i)
                continue;
            struct gc_candidate moving;
            api_geo_copy(&moving, &r->c[i]);
            for (int k = i; k > j; k--)
                api_geo_copy(&r->c[k], &r->c[k - 1]);
            api_geo_copy(&r->c[j], &moving);
        }
    }
    if (r->n > max)
        r->n = max;
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

/*
 * printf's "%.*f" of v, without printf (which is a tenth of a request's time when an answer
 * has many numbers): v * 10^decimals rounded to an integer, whose digits are written. The
 * product is off by at most half an ulp (under 1e-6 here), so its rounding is printf's exact
 * one unless the fraction is within 1e-6 of one half; that case, decimals over 9 and |v| of
 * 1e9 or more return -1, for printf to do.
 */
static int fixed(char *out, double v, int decimals)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (decimals < 0 || decimals > 9 || !(fabs(v) < 1e9))
        return -1;
    double x = fabs(v) * pow10[decimals];
    double r = floor(x), frac = x - r;
    if (fabs(frac - 0.5) < 1e-6)
        return -1;
    uint64_t q = (uint64_t)r + (frac > 0.5);
    uint64_t scale = (uint64_t)pow10[decimals];
    uint64_t ip = q / scale, fp = q % scale;
    char digits[24];
    int n = 0, len = 0;
    do
        digits[n++] = (char)('0' + ip % 10);
    while ((ip /= 10) > 0);
    if (signbit(v))
        out[len++] = '-';
    while (n > 0)
        out[len++] = digits[--n];
    if (decimals > 0) {
        out[len++] = '.';
        for (int i = decimals - 1; i >= 0; i--, fp /= 10)
            out[len + i] = (char)('0' + fp % 10);
        len += decimals;
    }
    out[len] = '\0';
    return len;
}

void aj_num(struct api_json *j, const char *key, double v, int decimals)
{
    char tmp[64];
    if (!isfinite(v))
        v = 0;
    if (fixed(tmp, v, decimals) < 0)
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

void aj_fields(struct api_json *j, const struct gc_candidate *c, const struct aj_field *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aj_str_nz(j, t[i].key, gc_field(c, t[i].f));
}

bool aj_has_scores(const struct gc_candidate *c)
{
    for (int f = 0; f < MQ__COUNT; f++)
        if (c->mq[f] >= 0)
            return true;
    return false;
}

void aj_scores(struct api_json *j, const struct gc_candidate *c, const char *const key[MQ__COUNT])
{
    for (int f = 0; f < MQ__COUNT; f++) {
        double v = c->mq[f];
        if (v < 0 || !key[f])
            continue;
        if (f == MQ_STREET) { /* an array: an intersection's two streets */
            aj_open(j, key[f], '[');
            aj_num(j, NULL, v, 2);
            if (c->level == GL_INTERSECTION && c->mq_street2 >= 0)
                aj_num(j, NULL, c->mq_street2, 2);
            aj_close(j, ']');
        } else
            aj_num(j, key[f], v, 2);
    }
}
