/*
 * fuzz_http.c - libFuzzer target for the request parsing that http.h exposes: the route of a
 * path against the API's route table (http_route_match) and the Accept header negotiation
 * (http_wants_json), plus the case-insensitive parameter lookup (http_param).
 *
 * The query string itself is split and URL-decoded by libmicrohttpd, not by our code, so it is
 * not fuzzed here. Input layout: up to the first NUL is the path, the rest is the Accept
 * header; the path is also stored as a parameter's name and value for http_param().
 */
#include "serve/api.h"
#include "serve/http.h"
#include "base/log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    log_set_level(LOG_OFF);
    const uint8_t *nul = memchr(data, '\0', size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    char *path = malloc(plen + 1);
    size_t alen = nul ? size - plen - 1 : 0;
    char *accept = malloc(alen + 1);
    if (!path || !accept)
        abort();
    memcpy(path, data, plen);
    path[plen] = '\0';
    if (alen)
        memcpy(accept, nul + 1, alen);
    accept[alen] = '\0';

    struct http_request req;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = path;
    http_route_match(&api_handler, "GET", path, &req.route);
    if (req.route.route && !req.route.path_found)
        __builtin_trap();
    for (size_t i = 0; i < HTTP_ROUTE_MAX_ARGS; i++)
        if (strlen(http_match_arg(&req.route, i)) >= plen + 1 ||
            strchr(http_match_arg(&req.route, i), '/'))
            __builtin_trap();
    req.params[0].name = path;
    req.params[0].value = accept;
    req.params[1].name = "outCols";
    req.params[1].value = path;
    req.nparams = 2;
    const char *v = http_param(&req, path);
    if (!v)
        __builtin_trap();
    (void)http_param(&req, accept);
    req.accept = nul ? accept : NULL;
    (void)http_wants_json(&req);
    free(accept);
    free(path);
    return 0;
}
