/*
 * api_console.c - GET /console and /console/<file>: the web console's files (console/ in the
 * source tree), built into the binary (console_assets.h). The console is a page of plain
 * HTML, CSS and JavaScript that talks to the public HERE 6.2 API like any other client; this
 * file only hands out its bytes: no credentials are needed for them, and they hold none.
 *
 * Every answer carries a strict Content-Security-Policy (scripts and styles from this server
 * only, nothing inline, no frames, no form posts, connections to this origin only) and
 * X-Content-Type-Options: nosniff. The files are kept gzipped; a client that does not accept
 * gzip gets them inflated (zlib).
 *
 * Threads: connection threads, any number at once; the table is constant.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "serve/console_assets.h"
#include "base/err.h"
#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>

#include <string.h>
#include <strings.h>
#include <zlib.h>

#define CONSOLE_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "        \
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

static const char *const headers_plain[] = {"Content-Security-Policy",
                                            CONSOLE_CSP,
                                            "X-Content-Type-Options",
                                            "nosniff",
                                            "Referrer-Policy",
                                            "no-referrer",
                                            "Vary",
                                            "Accept-Encoding",
                                            NULL};
static const char *const headers_gzip[] = {"Content-Security-Policy",
                                           CONSOLE_CSP,
                                           "X-Content-Type-Options",
                                           "nosniff",
                                           "Referrer-Policy",
                                           "no-referrer",
                                           "Vary",
                                           "Accept-Encoding",
                                           "Content-Encoding",
                                           "gzip",
                                           NULL};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

/* The Content-Type of a file name, by its extension; NULL for an extension not listed. */
static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* True when the Accept-Encoding header names gzip, unless with q=0 (any number of zeros). */
static bool accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && (p = strcasestr(p, "gzip")) != NULL; p += 4) {
        const char *e = p + 4 + strspn(p + 4, " ");
        if (*e == ',' || *e == '\0')
            return true;
        if (*e != ';')
            continue;
        e += 1 + strspn(e + 1, " ");
        if (strncasecmp(e, "q=0", 3) != 0)
            return true;
        e += 3;
        if (*e == '.')
            e += 1 + strspn(e + 1, "0");
        return !(*e == '\0' || *e == ',' || *e == ' ');
    }
    return false;
}

/* Append asset a inflated to out. Return 0, or -1 when its bytes do not inflate to a->len. */
static int inflate_asset(const struct console_asset *a, struct buf *out)
{
    unsigned char *tmp = xmalloc(a->len + 1);
    z_stream z;
    memset(&z, 0, sizeof(z));
    int rc = -1;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        goto out;
    z.next_in = (unsigned char *)(uintptr_t)a->gz;
    z.avail_in = (uInt)a->gz_len;
    z.next_out = tmp;
    z.avail_out = (uInt)(a->len + 1);
    int zr = inflate(&z, Z_FINISH);
    size_t n = z.total_out;
    inflateEnd(&z);
    if (zr == Z_STREAM_END && n == a->len && buf_append(out, tmp, n) == 0)
        rc = 0;
out:
    free(tmp);
    return rc;
}

int api_console_file(struct api *a, struct http_request *req, struct http_response *resp,
                     const char *app, int arg)
{
    (void)a;
    (void)app;
    (void)arg;
    const char *name = req->route.nargs ? http_match_arg(&req->route, 0) : "index.html";
    const struct console_asset *asset = NULL;
    for (size_t i = 0; i < console_nassets && !asset; i++)
        if (strcmp(console_assets[i].name, name) == 0)
            asset = &console_assets[i];
    const char *type = asset ? content_type(asset->name) : NULL;
    resp->headers = headers_plain;
    if (!type) {
        resp->status = 404;
        resp->content_type = CT_TEXT;
        buf_reset(&resp->body);
        buf_puts(&resp->body, "Not found\n");
        return HTTP_RESPOND;
    }
    resp->status = 200;
    resp->content_type = type;
    buf_reset(&resp->body);
    if (accepts_gzip(req->accept_encoding)) {
        resp->headers = headers_gzip;
        buf_append(&resp->body, asset->gz, asset->gz_len);
    } else if (inflate_asset(asset, &resp->body) < 0) {
        buf_reset(&resp->body);
        api_internal_error(resp, req, GB_EINTERNAL);
    }
    return HTTP_RESPOND;
}
