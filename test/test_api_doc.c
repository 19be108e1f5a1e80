/*
 * test_api_doc.c - the HERE 6.2 documents byte for byte against the real server output kept
 * in $GB_SHARED/spec/fixtures (CartoDB fixtures), the JSON mirror, and the small pure pieces
 * the API relies on: route parsing, Accept negotiation, RequestIds, result file names, the
 * job paths and the intake writer of uploads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve/api.h"
#include "serve/api_int.h"
#include "base/buf.h"
#include "base/err.h"
#include "serve/http.h"
#include "job/params.h"
#include "job/jobdir.h"

/* Read a fixture whole, without a final newline (one fixture has one, the others not). */
static char *fixture(const char *name)
{
    const char *shared = getenv("GB_SHARED");
    char path[1024];
    snprintf(path, sizeof(path), "%s/spec/fixtures/%s", shared ? shared : "../shared", name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char data[65536];
    size_t n = fread(data, 1, sizeof(data) - 1, fp);
    fclose(fp);
    while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    data[n] = '\0';
    return data;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

static struct job_info fixture_job(enum job_state st)
{
    struct job_info j;
    memset(&j, 0, sizeof(j));
    snprintf(j.id, sizeof(j.id), "%s", "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE");
    j.state = st;
    j.started = utc(2013, 9, 15, 18, 19, 49);
    j.finished = utc(2013, 9, 15, 18, 19, 54);
    j.total = 3, j.valid = 2, j.invalid = 1, j.processed = 2, j.success = 2, j.error = 0;
    return j;
}

/* The status document of j, rendered into a static buffer. */
static const char *status_doc(const struct job_info *j, bool json)
{
    static char doc[(1 << 16) + 1];
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(api_doc_status(&b, j, json), 0);
    snprintf(doc, sizeof(doc), "%s", buf_str(&b));
    buf_release(&b);
    return doc;
}

static void test_status_completed_xml(void **state)
{
    (void)state;
    struct job_info j = fixture_job(JOB_COMPLETED);
    const char *doc = status_doc(&j, false);
    assert_string_equal(doc, fixture("cartodb__fixture_response_status.xml"));
    assert_null(strchr(doc, '\n'));
}

static void test_status_cancelled_xml(void **state)
{
    (void)state;
    struct job_info j = fixture_job(JOB_CANCELLED);
    assert_string_equal(status_doc(&j, false), fixture("cartodb__fixture_response_cancel.xml"));
}

static void test_status_submitted_xml(void **state)
{
    (void)state;
    struct job_info j;
    memset(&j, 0, sizeof(j));
    snprintf(j.id, sizeof(j.id), "%s", "K8DmCWzsZGh4gbawxOuMv2BUcZsIkt7v");
    j.state = JOB_SUBMITTED;
    j.total = 5, j.valid = 5; /* known from the upload, but shown as 0 until the job runs */
    assert_string_equal(status_doc(&j, false), fixture("cartodb__fixture_response_example.xml"));
}

static void test_status_running_counts(void **state)
{
    (void)state;
    struct job_info j = fixture_job(JOB_RUNNING);
    j.finished = 0;
    j.total = 10, j.valid = 8, j.invalid = 2, j.processed = 5, j.success = 4, j.error = 1;
    assert_string_equal(
        status_doc(&j, true),
        "{\"Response\":{\"MetaInfo\":{\"RequestId\":\"0TK8XRhsIAxMi0KNbEu58MkApMVWctFE\"},"
        "\"Status\":\"running\",\"JobStarted\":\"2013-09-15T18:19:49.000Z\",\"TotalCount\":10,"
        "\"ValidCount\":8,\"InvalidCount\":2,\"ProcessedCount\":5,\"PendingCount\":3,"
        "\"SuccessCount\":4,\"ErrorCount\":1}}");
}

static void test_error_xml(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(api_doc_error(&b, false, "ApplicationError", "InvalidInputData",
                                   "Input parameter validation failed. JobId: "
                                   "9rFyj7kbGMmpF50ZUFAkRnroEiOpDOEZ Email Address is missing!",
                                   "mailto"),
                     0);
    assert_string_equal(buf_str(&b), fixture("cartodb__fixture_response_failure.xml"));
    buf_reset(&b);
    api_doc_error(&b, false, "PermissionError", "InvalidCredentials", "a<b & \"c\"", NULL);
    assert_string_equal(buf_str(&b), "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                                     "<ns2:Error xmlns:ns2=\"http://www.navteq.com/lbsp/Errors/1\" "
                                     "type=\"PermissionError\" subtype=\"InvalidCredentials\">"
                                     "<Details>a&lt;b &amp; &quot;c&quot;</Details></ns2:Error>");
    buf_release(&b);
}

static void test_error_json(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    api_doc_error(&b, true, "ApplicationError", "InvalidInputData", "bad \"x\"\n\\", "outcols");
    assert_string_equal(buf_str(&b), "{\"type\":\"ApplicationError\",\"subtype\":"
                                     "\"InvalidInputData\",\"Details\":\"bad \\\"x\\\"\\n\\\\\","
                                     "\"AdditionalData\":[{\"key\":\"outcols\"}]}");
    buf_release(&b);
}

/* Issue 13, item 12: out of descriptors or threads is 503 with Retry-After, not 500. */
static void test_internal_error_busy(void **state)
{
    (void)state;
    struct http_request req;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/6.2/jobs";
    static const int busy[] = {-EMFILE, -ENFILE, -EAGAIN};
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
        struct http_response resp;
        memset(&resp, 0, sizeof(resp));
        resp.fd = -1;
        buf_init(&resp.body, 1 << 16);
        api_internal_error(&resp, &req, busy[i]);
        assert_int_equal(resp.status, 503);
        assert_int_equal(resp.retry_after, 5);
        assert_string_equal(buf_str(&resp.body),
                            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                            "<ns2:Error xmlns:ns2=\"http://www.navteq.com/lbsp/Errors/1\" "
                            "type=\"SystemError\" subtype=\"ServiceUnavailable\"><Details>Service "
                            "temporarily unavailable; try again later</Details></ns2:Error>");
        buf_release(&resp.body);
    }
    struct http_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, 1 << 16);
    api_internal_error(&resp, &req, -EIO);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.retry_after, 0);
    buf_release(&resp.body);
}

static void test_time_format(void **state)
{
    (void)state;
    char ts[32];
    api_format_time(ts, utc(2015, 3, 19, 14, 33, 56));
    assert_string_equal(ts, "2015-03-19T14:33:56.000Z");
    char name[128];
    /* The real 2013 file was written at 16:55 UTC and called ..._20130919-04-55_... */
    jobdir_result_name(name, sizeof(name), utc(2013, 9, 19, 16, 55, 2), "out.txt");
    assert_string_equal(name, "result_20130919-04-55_6.2_out.txt");
    jobdir_result_name(name, sizeof(name), utc(2013, 9, 19, 0, 5, 0), "err.txt");
    assert_string_equal(name, "result_20130919-12-05_6.2_err.txt");
}

static void test_request_id(void **state)
{
    (void)state;
    char a[33], b[33];
    api_new_request_id(a);
    api_new_request_id(b);
    assert_int_equal(strlen(a), 32);
    for (int i = 0; i < 32; i++)
        assert_true(isalnum((unsigned char)a[i]));
    assert_true(jobdir_id_valid(a, 32));
    assert_string_not_equal(a, b);
}

/* Match path with method against the API's route table: the row's pattern (NULL: no path
 * matched), json, the captured id (NULL: none) and the Allow list. */
static void route_m(const char *method, const char *path, const char *pattern, bool json,
                    const char *id, const char *allow)
{
    struct http_match m;
    http_route_match(&api_handler, method, path, &m);
    if (!pattern) {
        assert_false(m.path_found);
        assert_null(m.route);
        return;
    }
    assert_true(m.path_found);
    assert_non_null(m.route);
    assert_string_equal(m.route->pattern, pattern);
    assert_int_equal(m.json, json);
    assert_string_equal(http_match_arg(&m, 0), id ? id : "");
    if (allow)
        assert_string_equal(m.allow, allow);
}

static void route(const char *path, const char *pattern, bool json, const char *id)
{
    route_m("GET", path, pattern, json, id, NULL);
}

static void test_routes(void **state)
{
    (void)state;
    const char *id = "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE";
    char p[256];
    route("/6.2/jobs", "/6.2/jobs", false, NULL);
    route("/6.2/jobs/", "/6.2/jobs", false, NULL);
    route("/6.2/jobs.json", "/6.2/jobs", true, NULL);
    snprintf(p, sizeof(p), "/6.2/jobs/%s", id);
    route(p, "/6.2/jobs/{id}", false, id);
    snprintf(p, sizeof(p), "/6.2/jobs/%s.json", id);
    route(p, "/6.2/jobs/{id}", true, id);
    snprintf(p, sizeof(p), "/6.2/jobs/%s//", id);
    route(p, "/6.2/jobs/{id}", false, id);
    snprintf(p, sizeof(p), "/6.2/jobs/%s/result/", id);
    route(p, "/6.2/jobs/{id}/result", false, id);
    snprintf(p, sizeof(p), "/6.2/jobs/%s/result.json", id);
    route(p, "/6.2/jobs/{id}/result", false, id); /* tolerated, but a download is no JSON */
    snprintf(p, sizeof(p), "/6.2/jobs/%s/no-matches", id);
    route(p, "/6.2/jobs/{id}/no-matches", false, id);
    snprintf(p, sizeof(p), "/6.2/jobs/%s.json/all", id);
    route(p, "/6.2/jobs/{id}/all", false, "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE.json");
    snprintf(p, sizeof(p), "/6.2/jobs/%s/other", id);
    route(p, NULL, false, NULL);
    route("/6.2/jobs/..%2F..%2Fetc", "/6.2/jobs/{id}", false, "..%2F..%2Fetc");
    route("/6.2/jobs/../../../etc/passwd", NULL, false, NULL);
    route("/6.2/jobs//result", "/6.2/jobs/{id}/result", false, "");
    route("/6.2/jobs/.json", "/6.2/jobs/{id}", true, "");
    route("/6.2/jobsx", NULL, false, NULL);
    route("/6.2/jobs.json.json", NULL, false, NULL);
    route("/6.2//jobs", NULL, false, NULL);
    route("/health", "/health", false, NULL);
    route("/metrics/", "/metrics", false, NULL);
    route("/health.json", NULL, false, NULL);
    route("/6.3/jobs", NULL, false, NULL);
    /* the synchronous APIs */
    route("/6.2/geocode.json", "/6.2/geocode", true, NULL);
    route("/6.2/geocode", "/6.2/geocode", false, NULL);
    route("/6.2/reversegeocode.json", "/6.2/reversegeocode", true, NULL);
    route("/6.2/search.json/", "/6.2/search", true, NULL);
    route("/v1/geocode", "/v1/geocode", false, NULL);
    route("/v1/discover", "/v1/discover", false, NULL);
    route("/v1/revgeocode/", "/v1/revgeocode", false, NULL);
    route("/v1/autosuggest", "/v1/autosuggest", false, NULL);
    route("/v1/lookup", "/v1/lookup", false, NULL);
    route("/v1/geocode.json", NULL, false, NULL);
    route("/v1/browse", NULL, false, NULL);
    route_m("POST", "/v1/geocode", "/v1/geocode", false, NULL, "GET");
    route_m("DELETE", "/6.2/geocode.json", "/6.2/geocode", true, NULL, "GET");
    snprintf(p, sizeof(p), "/6.2/jobs/%s/progress.json", id);
    route(p, "/6.2/jobs/{id}/progress", true, id);
    route("/6.2/geometry.json", "/6.2/geometry", true, NULL);
    route("/console", "/console", false, NULL);
    route("/console/", "/console", false, NULL);
    route("/console/console.js", "/console/{file}", false, "console.js");
    route("/console/a/b.js", NULL, false, NULL);
    route("/", NULL, false, NULL);
    route("", NULL, false, NULL);
    char longp[600];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    route(longp, NULL, false, NULL);
    /* Methods: GET rows take HEAD; 405 lists the rows' methods in table order. */
    route_m("HEAD", "/6.2/jobs", "/6.2/jobs", false, NULL, "GET, POST");
    route_m("POST", "/6.2/jobs.json", "/6.2/jobs", true, NULL, "GET, POST");
    struct http_match m;
    http_route_match(&api_handler, "DELETE", "/6.2/jobs", &m);
    assert_true(m.path_found);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET, POST");
    snprintf(p, sizeof(p), "/6.2/jobs/%s.json", id);
    route_m("PATCH", p, "/6.2/jobs/{id}", true, id, "GET, PUT, DELETE");
    route_m("DELETE", p, "/6.2/jobs/{id}", true, id, "GET, PUT, DELETE");
    snprintf(p, sizeof(p), "/6.2/jobs/%s/errors", id);
    http_route_match(&api_handler, "PUT", p, &m);
    assert_true(m.path_found);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET");
    assert_string_equal(http_match_arg(&m, 0), id);
    assert_string_equal(http_match_arg(&m, 1), "");
}

static bool wants(const char *accept)
{
    struct http_request req;
    memset(&req, 0, sizeof(req));
    req.accept = accept;
    return http_wants_json(&req);
}

static void test_accept(void **state)
{
    (void)state;
    assert_false(wants(NULL));
    assert_false(wants("*/*"));
    assert_false(wants("application/xml"));
    assert_true(wants("application/json"));
    assert_true(wants("application/json, text/xml, application/xml, */*")); /* httr */
    assert_true(wants("application/json;q=0.9, */*;q=0.1"));                /* node-geocoder */
    assert_true(wants("application/json, text/plain, */*"));                /* axios */
    assert_false(wants("application/xml, application/json"));
    assert_false(wants("application/json;q=0.5, application/xml"));
    assert_false(wants("application/json;q=0"));
}

static void test_job_path(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(
        jobdir_path(p, sizeof(p), "/d", "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE", "result.zip"), 0);
    assert_string_equal(p, "/d/jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/result.zip");
    assert_int_equal(jobdir_path(p, sizeof(p), "/d", "../../../../../../../../../etc/pass", NULL),
                     GB_EPARAM);
    assert_int_equal(jobdir_path(p, sizeof(p), "/d", "0TK8XRhsIAxMi0KNbEu58MkApMVWctF", NULL),
                     GB_EPARAM);
    assert_int_equal(jobdir_path(p, 10, "/d", "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE", NULL),
                     GB_ETOOLONG);
    const char *id = "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE";
    assert_int_equal(jobdir_chunk_path(p, sizeof(p), "/d", id, 7, JOBDIR_CHUNK_IN), 0);
    assert_string_equal(p, "/d/jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/in/7.csv");
    assert_int_equal(jobdir_chunk_path(p, sizeof(p), "/d", id, 7, JOBDIR_CHUNK_NOM), 0);
    assert_string_equal(p, "/d/jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/out/7.nom");
    assert_int_equal(jobdir_tmp_path(p, sizeof(p), "/d", id, JOBDIR_HEADER), 0);
    assert_string_equal(p, "/d/tmp/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/header.csv");
    assert_int_equal(jobdir_tmp_path(p, sizeof(p), "/d", "..", NULL), GB_EPARAM);
    assert_int_equal(jobdir_chunk_path(p, sizeof(p), "/d", "../x", 0, JOBDIR_CHUNK_OUT), GB_EPARAM);
}

/* The whole file at dir/rel as a string (static buffer), or NULL when it cannot be read. */
static const char *slurp(const char *dir, const char *rel)
{
    static char data[4096];
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t n = fread(data, 1, sizeof(data) - 1, fp);
    fclose(fp);
    data[n] = '\0';
    return data;
}

/* The intake writer: chunk files headed by the header, the errors file, the move into jobs/,
 * and no trace of an upload that is not committed. */
static void test_intake(void **state)
{
    (void)state;
    const char *tmp = getenv("GB_TMP");
    char dir[1024], sub[1100];
    snprintf(dir, sizeof(dir), "%s/test_intake.XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/" JOBDIR_JOBS, dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/" JOBDIR_TMP, dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    const char *id = "0TK8XRhsIAxMi0KNbEu58MkApMVWctFE";
    struct jobdir_intake *w = NULL;
    assert_int_equal(jobdir_intake_open(&w, dir, id, 2), 0);
    assert_int_equal(jobdir_intake_header(w, "city|street", 11), 0);
    assert_int_equal(jobdir_intake_row(w, "Vaduz|Aeulestrasse", 18), 0);
    assert_int_equal(jobdir_intake_error(w, "Line Number:3 x\n", 16), 0);
    assert_int_equal(jobdir_intake_row(w, "Schaan|Landstrasse\r", 19), 0);
    assert_int_equal(jobdir_intake_row(w, "Triesen|Dorfstrasse", 19), 0);
    assert_int_equal(jobdir_intake_chunks(w), 2);
    assert_int_equal(jobdir_intake_close(w), 0);
    assert_string_equal(slurp(dir, "tmp/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/header.csv"),
                        "city|street\n");
    assert_int_equal(jobdir_intake_commit(w), 0);
    jobdir_intake_free(w);
    assert_null(slurp(dir, "tmp/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/header.csv"));
    assert_string_equal(slurp(dir, "jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/in/0.csv"),
                        "city|street\nVaduz|Aeulestrasse\nSchaan|Landstrasse\r\r\n");
    assert_string_equal(slurp(dir, "jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/in/1.csv"),
                        "city|street\nTriesen|Dorfstrasse\n");
    assert_string_equal(slurp(dir, "jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/errors.txt"),
                        "Line Number:3 x\n");
    assert_int_equal(jobdir_remove(dir, id), 0);
    assert_null(slurp(dir, "jobs/0TK8XRhsIAxMi0KNbEu58MkApMVWctFE/errors.txt"));

    /* An upload that is not committed leaves nothing. */
    assert_int_equal(jobdir_intake_open(&w, dir, id, 1), 0);
    assert_int_equal(jobdir_intake_header(w, "city", 4), 0);
    assert_int_equal(jobdir_intake_row(w, "Vaduz", 5), 0);
    assert_int_equal(jobdir_intake_row(w, "Balzers", 7), 0);
    jobdir_intake_free(w);
    assert_int_equal(jobdir_tmp_remove(dir, id, 0), -ENOENT);
    assert_int_equal(jobdir_intake_open(&w, dir, "../../etc", 1), GB_EPARAM);
    assert_int_equal(rmdir(sub), 0);
    snprintf(sub, sizeof(sub), "%s/" JOBDIR_JOBS, dir);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_completed_xml),
        cmocka_unit_test(test_status_cancelled_xml),
        cmocka_unit_test(test_status_submitted_xml),
        cmocka_unit_test(test_status_running_counts),
        cmocka_unit_test(test_error_xml),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_internal_error_busy),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_job_path),
        cmocka_unit_test(test_intake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
