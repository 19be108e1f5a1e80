/*
 * api_doc.c - the documents of the HERE 6.2 API (spec §5): a job's status, the job list and the
 * error document, each as one line of XML or its JSON mirror, and the responses that carry
 * them. Byte for byte what HERE sends (test_api_doc.c checks them against real answers).
 *
 * Threads: pure functions of their arguments; any thread.
 */
#include "serve/api.h"
#include "serve/api_int.h"
#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- documents ---- */

void api_format_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
        out[0] = '\0';
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one.
 * Details and AdditionalData echo what the client sent (a parameter value, a column name,
 * possibly cut at a buffer's end), and one stray byte such as indelim=%FF made the whole XML
 * or JSON document ill-formed; invalid bytes are now written as '?'.
 */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, min = 0x80, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, min = 0x800, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int xml_escape(struct buf *out, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if ((unsigned char)*s >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s);
            rc = n ? buf_append(out, s, n) : buf_putc(out, '?');
            s += n ? n - 1 : 0;
            continue;
        }
        switch (*s) {
        case '&':
            rc = buf_puts(out, "&amp;");
            break;
        case '<':
            rc = buf_puts(out, "&lt;");
            break;
        case '>':
            rc = buf_puts(out, "&gt;");
            break;
        case '"':
            rc = buf_puts(out, "&quot;");
            break;
        case '\'':
            rc = buf_puts(out, "&apos;");
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                rc = buf_putc(out, ' ');
            else
                rc = buf_putc(out, *s);
        }
    }
    return rc;
}

int api_json_string(struct buf *out, const char *s)
{
    int rc = buf_putc(out, '"');
    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        size_t plain = 0; /* a run of bytes written as they are, appended at once */
        while (s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\')
            plain++;
        if (plain > 0) {
            rc = buf_append(out, s, plain);
            s += plain - 1;
        } else if (c == '"' || c == '\\')
            rc = buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = buf_puts(out, "\\n");
        else if (c == '\t')
            rc = buf_puts(out, "\\t");
        else if (c < 0x20)
            rc = buf_printf(out, "\\u%04x", c);
        else if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s);
            rc = n ? buf_append(out, s, n) : buf_putc(out, '?');
            s += n ? n - 1 : 0;
        } else
            rc = buf_putc(out, (char)c);
    }
    return rc ? rc : buf_putc(out, '"');
}

static bool counts_visible(enum job_state s)
{
    return s != JOB_SUBMITTED && s != JOB_ACCEPTED;
}

static const char *const count_names[7] = {"TotalCount",     "ValidCount",   "InvalidCount",
                                           "ProcessedCount", "PendingCount", "SuccessCount",
                                           "ErrorCount"};

static void job_counts(const struct job_info *j, unsigned long long c[7])
{
    memset(c, 0, 7 * sizeof(c[0]));
    if (!counts_visible(j->state))
        return;
    c[0] = j->total;
    c[1] = j->valid;
    c[2] = j->invalid;
    c[3] = j->processed;
    c[4] = j->valid > j->processed ? j->valid - j->processed : 0;
    c[5] = j->success;
    c[6] = j->error;
}

/* Append the members of one job's Response (XML elements or JSON members, no wrapper). */
static int job_fields(struct buf *out, const struct job_info *j, bool json)
{
    char ts[32];
    unsigned long long c[7];
    job_counts(j, c);
    bool started = j->started && counts_visible(j->state);
    bool finished = j->finished && (j->state == JOB_COMPLETED || j->state == JOB_CANCELLED ||
                                    j->state == JOB_FAILED || j->state == JOB_DELETED);
    int rc;
    if (json) {
        rc = buf_printf(out, "\"MetaInfo\":{\"RequestId\":\"%s\"},\"Status\":\"%s\"", j->id,
                        job_state_name(j->state));
        if (rc == 0 && started) {
            api_format_time(ts, j->started);
            rc = buf_printf(out, ",\"JobStarted\":\"%s\"", ts);
        }
        if (rc == 0 && finished) {
            api_format_time(ts, j->finished);
            rc = buf_printf(out, ",\"JobFinished\":\"%s\"", ts);
        }
        for (int i = 0; rc == 0 && i < 7; i++)
            rc = buf_printf(out, ",\"%s\":%llu", count_names[i], c[i]);
        return rc;
    }
    rc = buf_printf(out, "<MetaInfo><RequestId>%s</RequestId></MetaInfo><Status>%s</Status>", j->id,
                    job_state_name(j->state));
    if (rc == 0 && started) {
        api_format_time(ts, j->started);
        rc = buf_printf(out, "<JobStarted>%s</JobStarted>", ts);
    }
    if (rc == 0 && finished) {
        api_format_time(ts, j->finished);
        rc = buf_printf(out, "<JobFinished>%s</JobFinished>", ts);
    }
    for (int i = 0; rc == 0 && i < 7; i++)
        rc = buf_printf(out, "<%s>%llu</%s>", count_names[i], c[i], count_names[i]);
    return rc;
}

int api_doc_status(struct buf *out, const struct job_info *j, bool json)
{
    int rc;
    /* Which index answered: a store with leases records it at the job's first claim (several
     * nodes may hold different indexes during an upgrade); empty otherwise, and then absent. */
    if (json) {
        rc = buf_puts(out, "{\"Response\":{");
        if (rc == 0)
            rc = job_fields(out, j, true);
        if (rc == 0 && j->index_id[0]) {
            rc = buf_puts(out, ",\"IndexId\":");
            if (rc == 0)
                rc = api_json_string(out, j->index_id);
        }
        return rc ? rc : buf_puts(out, "}}");
    }
    rc = buf_puts(out, XML_HEAD "<ns2:SearchBatch xmlns:ns2=\"" NS_BATCH "\"><Response>");
    if (rc == 0)
        rc = job_fields(out, j, false);
    if (rc == 0 && j->index_id[0]) {
        rc = buf_puts(out, "<IndexId>");
        if (rc == 0)
            rc = xml_escape(out, j->index_id);
        if (rc == 0)
            rc = buf_puts(out, "</IndexId>");
    }
    return rc ? rc : buf_puts(out, "</Response></ns2:SearchBatch>");
}

int api_doc_error(struct buf *out, bool json, const char *type, const char *subtype,
                  const char *details, const char *additional_key)
{
    int rc;
    if (json) {
        rc = buf_printf(out, "{\"type\":\"%s\",\"subtype\":\"%s\",\"Details\":", type, subtype);
        if (rc == 0)
            rc = api_json_string(out, details);
        if (rc == 0 && additional_key) {
            rc = buf_puts(out, ",\"AdditionalData\":[{\"key\":");
            if (rc == 0)
                rc = api_json_string(out, additional_key);
            if (rc == 0)
                rc = buf_puts(out, "}]");
        }
        return rc ? rc : buf_putc(out, '}');
    }
    rc = buf_printf(out,
                    XML_HEAD "<ns2:Error xmlns:ns2=\"" NS_ERROR "\" type=\"%s\" subtype=\"%s\">"
                             "<Details>",
                    type, subtype);
    if (rc == 0)
        rc = xml_escape(out, details);
    if (rc == 0)
        rc = buf_puts(out, "</Details>");
    if (rc == 0 && additional_key) {
        rc = buf_puts(out, "<AdditionalData key=\"");
        if (rc == 0)
            rc = xml_escape(out, additional_key);
        if (rc == 0)
            rc = buf_puts(out, "\"/>");
    }
    return rc ? rc : buf_puts(out, "</ns2:Error>");
}

/* ---- the job list ---- */

void api_doc_list_head(struct buf *out, bool json, long offset, long limit)
{
    if (json)
        buf_printf(out, "{\"JobList\":{\"Offset\":%ld,\"Limit\":%ld,\"Jobs\":[", offset, limit);
    else
        buf_printf(out,
                   XML_HEAD "<ns2:SearchBatch xmlns:ns2=\"" NS_BATCH
                            "\"><JobList><Offset>%ld</Offset><Limit>%ld</Limit>",
                   offset, limit);
}

void api_doc_list_job(struct buf *out, bool json, const struct job_info *j, int n)
{
    char ts[32];
    api_format_time(ts, j->created);
    if (json) {
        buf_puts(out, n ? ",{" : "{");
        job_fields(out, j, true);
        buf_printf(out, ",\"Created\":\"%s\"}", ts);
    } else {
        buf_puts(out, "<Job>");
        job_fields(out, j, false);
        buf_printf(out, "<Created>%s</Created></Job>", ts);
    }
}

void api_doc_list_tail(struct buf *out, bool json, uint64_t total)
{
    if (json)
        buf_printf(out, "],\"TotalJobs\":%llu}}", (unsigned long long)total);
    else
        buf_printf(out, "<TotalJobs>%llu</TotalJobs></JobList></ns2:SearchBatch>",
                   (unsigned long long)total);
}

/* ---- responses ---- */

void api_respond_error(struct http_response *resp, const struct http_request *req, int status,
                       const char *type, const char *subtype, const char *details, const char *key)
{
    unsigned flags = req->route.route ? req->route.route->flags : 0;
    if (flags & API_V7) {
        char title[160];
        if (key)
            snprintf(title, sizeof(title), "Illegal input for parameter '%.100s'", key);
        else
            snprintf(title, sizeof(title), "%s",
                     status == 401   ? "Unauthorized"
                     : status == 429 ? "Too Many Requests"
                     : status == 404 ? "Not Found"
                     : status == 405 ? "Method Not Allowed"
                     : status == 400 ? "Bad Request"
                                     : "Internal Server Error");
        api_v7_error(resp, status, title, details,
                     status == 401   ? "Send valid credentials: apiKey, app_id with app_code, "
                                       "or Authorization: Bearer"
                     : status == 429 ? "Retry after the seconds that Retry-After gives"
                                     : "");
        return;
    }
    bool json = (flags & API_SYNC) || http_wants_json(req);
    buf_reset(&resp->body);
    resp->status = status;
    resp->content_type = json ? CT_JSON : CT_XML;
    api_doc_error(&resp->body, json, type, subtype, details, key);
}

void api_bad_request(struct http_response *resp, const struct http_request *req,
                     const char *details, const char *key)
{
    api_respond_error(resp, req, 400, "ApplicationError", "InvalidInputData", details, key);
}

void api_not_found(struct http_response *resp, const struct http_request *req, const char *details)
{
    api_respond_error(resp, req, 404, "ApplicationError", "NotFound", details, NULL);
}

void api_internal_error(struct http_response *resp, const struct http_request *req, int rc)
{
    if (rc == -EMFILE || rc == -ENFILE || rc == -EAGAIN) {
        /* Out of descriptors or threads: the next try may well succeed. */
        log_warn("api overloaded path=%s err=%s", req->path, gb_errname(rc));
        api_respond_error(resp, req, 503, "SystemError", "ServiceUnavailable",
                          "Service temporarily unavailable; try again later", NULL);
        resp->retry_after = API_RETRY_AFTER_BUSY;
        return;
    }
    log_error("api internal error path=%s err=%s", req->path, gb_errname(rc));
    api_respond_error(resp, req, 500, "SystemError", "InternalError", "Internal server error",
                      NULL);
}

void api_method_not_allowed(struct http_response *resp, const struct http_request *req)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Method %s is not allowed here; use %s", req->method,
             req->route.allow);
    api_respond_error(resp, req, 405, "ApplicationError", "MethodNotAllowed", msg, NULL);
    resp->allow = req->route.allow;
}

void api_respond_status(struct http_response *resp, const struct http_request *req,
                        const struct job_info *j)
{
    bool json = http_wants_json(req);
    buf_reset(&resp->body);
    resp->status = 200;
    resp->content_type = json ? CT_JSON : CT_XML;
    api_doc_status(&resp->body, j, json);
}
