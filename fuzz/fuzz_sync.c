/*
 * fuzz_sync.c - libFuzzer target for the synchronous APIs' handlers (api_sync.c, api_v7.c,
 * api_geo.c, geocode_suggest.c): whatever the query parameters, a handler answers a status
 * and a document that is valid JSON (checked with jansson), never a crash.
 *
 * At start-up the test fixtures test/fixtures/osm/small.osm (ten Czech addresses) and
 * test/fixtures/us-ca-two.csv (two US ones: the file name gives their country) are imported
 * into one index in a temp dir: an index of one main country and another, whose queries that
 * name no country are read in more than one language list (geocode_forward.c). Input layout:
 * byte 0 picks the endpoint (modulo the number of synchronous GET rows of
 * the route table); the rest is a query string "name=value&name=value..." split on '&' and the
 * first '=' (no URL decoding: libmicrohttpd does that before our code sees it; a NUL cuts a
 * value as it would arrive). The handler is called as api.c calls it after authentication.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/log.h"
#include "import/import.h"
#include "index/index.h"
#include "text/norm.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct index *ix;
static struct api api;
static const struct api_route *rows[16];
static size_t nrows;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    if (norm_init(NULL) != 0)
        abort();
    char dir[64], path[96], err[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gbfuzzsync.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof(path), "%s/small.gbx", dir);
    struct index_builder *b = NULL;
    if (index_builder_new(&b) < 0)
        abort();
    struct rec_sink sink = index_builder_sink(b);
    struct import_stats st;
    memset(&st, 0, sizeof(st));
    if (import_file(GB_DICT_DIR "/../../test/fixtures/osm/small.osm", FMT_OSM_XML, &sink, &st, err,
                    sizeof(err)) < 0 ||
        import_file(GB_DICT_DIR "/../../test/fixtures/us-ca-two.csv", FMT_OA_CSV, &sink, &st, err,
                    sizeof(err)) < 0 ||
        index_builder_write(b, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_sync: cannot build the index: %s\n", err);
        abort();
    }
    index_builder_free(b);
    if (index_open(&ix, path, err, sizeof(err)) != 0)
        abort();
    unlink(path);
    rmdir(dir);
    api.cfg.index = ix;
    pthread_mutex_init(&api.rate_mu, NULL);
    pthread_mutex_init(&api.pace_mu, NULL);
    const struct api_route *r = api_handler.routes;
    for (size_t i = 0; i < api_handler.nroutes && nrows < 16; i++)
        if (r[i].http.flags & (API_SYNC | API_V7) && strcmp(r[i].http.method, "GET") == 0)
            rows[nrows++] = &r[i];
    if (nrows == 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    const struct api_route *rt = rows[data[0] % nrows];
    char *q = malloc(size);
    if (!q)
        abort();
    memcpy(q, data + 1, size - 1);
    q[size - 1] = '\0';

    struct http_request req;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = rt->http.pattern;
    http_route_match(&api_handler, "GET", rt->http.pattern, &req.route);
    for (char *p = q; *p && req.nparams < HTTP_MAX_PARAMS;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        if (*p) {
            req.params[req.nparams].name = p;
            req.params[req.nparams].value = eq ? eq + 1 : "";
            req.nparams++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }

    struct http_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, (size_t)1 << 24);
    if (rt->fn(&api, &req, &resp, "app", rt->arg) != HTTP_RESPOND)
        __builtin_trap();
    if (resp.status != 200 && resp.status != 400 && resp.status != 404)
        __builtin_trap();
    json_error_t jerr;
    json_t *doc = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
    if (!doc)
        __builtin_trap();
    json_decref(doc);
    buf_release(&resp.body);
    free(q);
    return 0;
}
