/*
 * test_batch.c - the exact result text of HERE 6.2 jobs through batch_new / batch_header /
 * batch_row (spec §6.3-§6.5), written by someone who did not write batch.c.
 *
 * The index is built from $GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv, so that the
 * coordinates of an address point are exactly the ones in that file, e.g.
 * "9.5284904,47.1236503,13,Floraweg,,Vaduz,,,9490" (the only Floraweg 13).
 */
#include "job/batch.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "import/import.h"
#include "index/index.h"
#include "base/log.h"
#include "text/norm.h"
#include "job/params.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct index *IX;

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int group_setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    if (norm_init(NULL) < 0)
        return -1;
    char in[1024], out[1024], err[512] = "";
    snprintf(in, sizeof(in), "%s/data/openaddresses/li-liechtenstein-2026.csv",
             env_or("GB_SHARED", "../shared"));
    snprintf(out, sizeof(out), "%s/batch-li-oa.gbx", env_or("GB_TMP", "/tmp"));
    struct index_builder *b = NULL;
    if (index_builder_new(&b) < 0)
        return -1;
    struct rec_sink sink = index_builder_sink(b);
    struct import_stats st;
    memset(&st, 0, sizeof(st));
    int rc = index_builder_add_source(b, in, FMT_OA_CSV);
    if (rc == 0)
        rc = import_file(in, FMT_OA_CSV, &sink, &st, err, sizeof(err));
    if (rc == 0)
        rc = index_builder_write(b, out, err, sizeof(err));
    index_builder_free(b);
    if (rc == 0)
        rc = index_open(&IX, out, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "setup: %s\n", err);
    return rc < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    index_close(IX);
    return 0;
}

/* The text of one job. */
struct job {
    int rc;        /* 0, or the error of params_set / params_check / batch_new */
    char err[512]; /* its message */
    char *out;     /* result text (header + rows) */
    char *nomatch; /* unmatched rows when outputcombined=false */
    char *errors;  /* "Line Number:N ..." lines */
    int matched, unmatched;
};

static char *take(struct buf *b)
{
    char *s = malloc(b->len + 1);
    assert_non_null(s);
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    buf_release(b);
    return s;
}

/*
 * Run input through a job with params given as "name=value" strings (NULL-terminated), the
 * way `geobatch geocode` and the server do: the first line is the header, invalid lines go to
 * the errors text.
 */
static void run_job(struct job *j, const char *const *params, const char *input)
{
    memset(j, 0, sizeof(*j));
    struct job_params p;
    params_init(&p);
    for (size_t i = 0; params[i]; i++) {
        char name[64];
        const char *eq = strchr(params[i], '=');
        assert_non_null(eq);
        snprintf(name, sizeof(name), "%.*s", (int)(eq - params[i]), params[i]);
        j->rc = params_set(&p, name, eq + 1, j->err, sizeof(j->err));
        if (j->rc < 0)
            return;
    }
    struct csv_mem_src src = {input, strlen(input), 0, 0};
    struct csv_reader *r = NULL;
    assert_int_equal(csv_reader_new(&r, p.indelim, NULL, csv_read_mem, &src), 0);
    struct csv_row row;
    assert_int_equal(csv_next(r, &row), 1);
    struct batch *b = NULL;
    j->rc = batch_new(&b, IX, &p, &row, j->err, sizeof(j->err));
    if (j->rc < 0) {
        assert_true(j->err[0] != '\0');
        csv_reader_free(r);
        return;
    }
    struct buf out, nomatch, errors;
    buf_init(&out, 1 << 20);
    buf_init(&nomatch, 1 << 20);
    buf_init(&errors, 1 << 20);
    assert_int_equal(batch_header(b, &out), 0);
    struct batch_scratch *s = batch_scratch_new();
    assert_non_null(s);
    int more;
    while ((more = csv_next(r, &row)) == 1) {
        if (row.error) {
            assert_int_equal(batch_error_line(&row, &errors), 0);
            continue;
        }
        struct batch_result res;
        assert_int_equal(batch_row(b, s, &row, &out, &nomatch, &res), 0);
        assert_true(res.candidates >= 1);
        if (res.matched)
            j->matched++;
        else
            j->unmatched++;
    }
    assert_int_equal(more, 0);
    batch_scratch_free(s);
    batch_free(b);
    csv_reader_free(r);
    j->out = take(&out);
    j->nomatch = take(&nomatch);
    j->errors = take(&errors);
}

static void job_free(struct job *j)
{
    free(j->out);
    free(j->nomatch);
    free(j->errors);
}

#define OUTCOLS_STD "outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance"

static void test_header_and_rows(void **state)
{
    (void)state;
    const char *params[] = {OUTCOLS_STD, NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText\n"
            "1|Floraweg 13, 9490 Vaduz\n"
            "2|xyzzy qwerty plugh\n"
            "3|\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out,
                        "recId|SeqNumber|seqLength|displayLatitude|displayLongitude|matchLevel|"
                        "matchType|relevance\n"
                        "1|1|1|47.1236503|9.5284904|houseNumber|pointAddress|1.00\n"
                        "2|0|0|||NOMATCH||\n"
                        "3|0|0|||FAILED||\n");
    assert_string_equal(j.nomatch, "");
    assert_string_equal(j.errors, "");
    assert_int_equal(j.matched, 1);
    assert_int_equal(j.unmatched, 2);
    job_free(&j);
}

/* Each matchQuality column is its own field's quality: a town the postcode contradicts is 0
 * beside a street and number of 1, a misspelt street below 1 beside a town of 1, a number the
 * street lacks 0; a field the query did not give stays empty. */
static void test_match_quality_columns(void **state)
{
    (void)state;
    const char *params[] = {"outcols=matchLevel,matchQualityCountry,matchQualityState,"
                            "matchQualityCounty,matchQualityCity,matchQualityDistrict,"
                            "matchQualityStreet,matchQualityHouseNumber,matchQualityBuilding,"
                            "matchQualityPostalCode",
                            NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText\n"
            "1|Floraweg 13, 9490 Schaan\n"
            "2|Florawge 13, 9490 Vaduz, Liechtenstein\n"
            "3|Floraweg 99, Vaduz\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|matchLevel|matchQualityCountry|"
                               "matchQualityState|matchQualityCounty|matchQualityCity|"
                               "matchQualityDistrict|matchQualityStreet|matchQualityHouseNumber|"
                               "matchQualityBuilding|matchQualityPostalCode\n"
                               "1|1|1|houseNumber||||0.00||1.00|1.00||1.00\n"
                               "2|1|1|houseNumber|1.00|||1.00||0.85|1.00||1.00\n"
                               "3|1|1|street||||1.00||1.00|0.00||\n");
    job_free(&j);
}

/* All structured fields empty (recId set) is FAILED too; trailing zeros of coordinates go. */
static void test_failed_structured_and_header_false(void **state)
{
    (void)state;
    const char *params[] = {"outcols=houseNumber,street,city,postalCode,matchLevel", "header=false",
                            NULL};
    struct job j;
    run_job(&j, params,
            "recId|street|houseNumber|city|postalCode|country\n"
            "a||||| \n"
            "b|Floraweg|13|Vaduz|9490|LIE\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "a|0|0|||||FAILED\n"
                               "b|1|1|13|Floraweg|Vaduz|9490|houseNumber\n");
    job_free(&j);
}

/* outputcombined=false: unmatched rows in the no-match text, matched rows in the result. */
static void test_output_not_combined(void **state)
{
    (void)state;
    const char *params[] = {"outcols=matchLevel,street", "outputcombined=false", NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText\n"
            "1|xyzzy qwerty plugh\n"
            "2|Floraweg 13 Vaduz\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|matchLevel|street\n"
                               "2|1|1|houseNumber|Floraweg\n");
    assert_string_equal(j.nomatch, "1|0|0|NOMATCH|\n");
    job_free(&j);
}

/* Values containing the output delimiter are quoted, with quotes doubled inside. */
static void test_quoting(void **state)
{
    (void)state;
    const char *params[] = {"indelim=|", "outdelim=,", "outcols=street,city,locationLabel", NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText\n"
            "\"a,b\"|Floraweg 13, 9490 Vaduz\n"
            "say \"hi\"|xyzzy qwerty plugh\n");
    assert_int_equal(j.rc, 0);
    /* header, then the matched row: recId quoted; the label holds ", " so it is quoted */
    const char *want_head = "recId,SeqNumber,seqLength,street,city,locationLabel\n"
                            "\"a,b\",1,1,Floraweg,Vaduz,\"";
    assert_memory_equal(j.out, want_head, strlen(want_head));
    /* read the text back: every line has 6 fields and the values are intact */
    struct csv_mem_src src = {j.out, strlen(j.out), 0, 0};
    struct csv_reader *r = NULL;
    assert_int_equal(csv_reader_new(&r, ',', NULL, csv_read_mem, &src), 0);
    struct csv_row row;
    int lines = 0;
    while (csv_next(r, &row) == 1) {
        assert_int_equal(row.error, 0);
        assert_int_equal(row.nfields, 6);
        if (lines == 1) {
            assert_string_equal(row.fields[0], "a,b");
            assert_non_null(strstr(row.fields[5], "Floraweg 13"));
            assert_non_null(strstr(row.fields[5], ", "));
        }
        if (lines == 2)
            assert_string_equal(row.fields[0], "say \"hi\"");
        lines++;
    }
    assert_int_equal(lines, 3);
    csv_reader_free(r);
    /* the NOMATCH row, byte for byte */
    assert_non_null(strstr(j.out, "\n\"say \"\"hi\"\"\",0,0,,,\n"));
    job_free(&j);
}

/* includeInputFields: input columns after the outcols, "in:" where a name clashes. */
static void test_include_input_fields(void **state)
{
    (void)state;
    const char *params[] = {"outcols=city,postalCode,matchLevel", "includeInputFields=true", NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText|city|postalCode\n"
            "1|Floraweg 13|Vaduz|9490\n"
            "2|xyzzy qwerty plugh||\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out,
                        "recId|SeqNumber|seqLength|city|postalCode|matchLevel|searchText|in:city|"
                        "in:postalCode\n"
                        "1|1|1|Vaduz|9490|houseNumber|Floraweg 13|Vaduz|9490\n"
                        "2|0|0|||NOMATCH|xyzzy qwerty plugh||\n");
    job_free(&j);
}

/* Output column names in any case are emitted canonically; recId etc. may be repeated. */
static void test_outcols_case(void **state)
{
    (void)state;
    const char *params[] = {"outcols= DISPLAYLATITUDE ,displaylongitude,MatchLevel,seqnumber,recid",
                            NULL};
    struct job j;
    run_job(&j, params, "recid|SEARCHTEXT\nx|Floraweg 13, 9490 Vaduz\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|displayLatitude|displayLongitude|"
                               "matchLevel|seqNumber|recId\n"
                               "x|1|1|47.1236503|9.5284904|houseNumber|1|x\n");
    job_free(&j);
}

static void test_parameter_errors(void **state)
{
    (void)state;
    /* Parameters a job refuses with GB_EPARAM, and a word its message must contain. */
    static const struct {
        const char *params[3]; /* NULL-terminated */
        const char *word;      /* NULL: any message */
    } cases[] = {
        {{"outcols=displayLatitude,lattitude"}, "lattitude"}, /* an unknown output column */
        {{"header=true"}, "outcols"},                         /* no outcols at all */
        /* a bad boolean, a bad delimiter, maxresults out of range */
        {{"outcols=city", "header=maybe"}, NULL},
        {{"outcols=city", "outdelim=#"}, NULL},
        {{"outcols=city", "maxresults=0"}, NULL},
        {{"outcols=city", "maxresults=101"}, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct job j;
        run_job(&j, cases[i].params, "recId|searchText\n1|x\n");
        if (j.rc != GB_EPARAM || (cases[i].word && !strstr(j.err, cases[i].word)))
            fail_msg("%s %s: rc %d '%s', want GB_EPARAM naming %s", cases[i].params[0],
                     cases[i].params[1] ? cases[i].params[1] : "", j.rc, j.err,
                     cases[i].word ? cases[i].word : "anything");
    }
}

/* An unknown input column is an error unless allowUnknownInputColumns; then it is ignored for
 * geocoding but echoed by includeInputFields. */
static void test_unknown_input_column(void **state)
{
    (void)state;
    struct job j;
    const char *p1[] = {"outcols=street", NULL};
    run_job(&j, p1, "recId|searchText|citty\n1|Floraweg 13|Vaduz\n");
    assert_int_equal(j.rc, GB_ECOLUMN);
    assert_non_null(strstr(j.err, "citty"));
    const char *p2[] = {"outcols=street,houseNumber", "allowUnknownInputColumns=true", NULL};
    run_job(&j, p2, "recId|searchText|citty\n1|Floraweg 13|Vaduz\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|street|houseNumber\n"
                               "1|1|1|Floraweg|13\n");
    job_free(&j);
    const char *p3[] = {"outcols=street", "allowUnknownInputColumns=TRUE",
                        "includeInputFields=true", NULL};
    run_job(&j, p3, "recId|searchText|citty\n1|Floraweg 13|Vaduz\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|street|searchText|citty\n"
                               "1|1|1|Floraweg|Floraweg 13|Vaduz\n");
    job_free(&j);
}

/* Ambiguous input: one line per candidate, SeqNumber 1..n and seqLength n; maxresults caps.
 * The street name alone is in two towns; with a house number ("Äulestrasse 22") the query is
 * answered at the country instead (no town's house is claimed: docs/consistency.md), which an
 * index of addresses alone does not have. */
static void test_ambiguous(void **state)
{
    (void)state;
    /* OA: "22,Aeulestrasse,,Triesen,,,9495" and "22,Äulestrasse,,Vaduz,,,9490" */
    const char *params[] = {"outcols=houseNumber,city,postalCode,matchCode", NULL};
    struct job j;
    run_job(&j, params, "recId|searchText\n7|Äulestrasse\n");
    assert_int_equal(j.rc, 0);
    const char *l1 = strchr(j.out, '\n') + 1;
    const char *l2 = strchr(l1, '\n') + 1;
    assert_memory_equal(l1, "7|1|2||", 7);
    assert_memory_equal(l2, "7|2|2||", 7);
    assert_non_null(strstr(j.out, "||Triesen|9495|ambiguous\n"));
    assert_non_null(strstr(j.out, "||Vaduz|9490|ambiguous\n"));
    job_free(&j);
    const char *p1[] = {"outcols=houseNumber,matchCode", "maxresults=1", NULL};
    run_job(&j, p1, "recId|searchText\n7|Äulestrasse\n");
    assert_int_equal(j.rc, 0);
    /* one candidate kept of an ambiguous answer: one line, seqLength 1, and the answer is
     * still ambiguous (HERE's matchCode describes the query, not how many results were kept;
     * maxresults=1 is the most common batch setting and would otherwise hide ambiguity) */
    const char *want = "recId|SeqNumber|seqLength|houseNumber|matchCode\n"
                       "7|1|1||ambiguous\n";
    assert_string_equal(j.out, want);
    job_free(&j);
}

/* Reverse: recId|prox; nearest address first with its distance in metres. */
static void test_reverse(void **state)
{
    (void)state;
    const char *params[] = {"mode=retrieveAddresses", "maxresults=2",
                            "outcols=houseNumber,street,city,postalCode,matchLevel,distance", NULL};
    struct job j;
    run_job(&j, params,
            "recId|prox\n"
            "r1|47.1236503,9.5284904,50\n"
            "r2|not a point\n"
            "r3|47.1236503,9.5284904\n"
            "r4|91,9.5,50\n");
    assert_int_equal(j.rc, 0);
    /* Floraweg 13 is exactly at the point; the next nearest is Floraweg 11, about 10 m east
     * (47.1236886, 9.5286098) */
    const char *want = "recId|SeqNumber|seqLength|houseNumber|street|city|postalCode|matchLevel|"
                       "distance\n"
                       "r1|1|2|13|Floraweg|Vaduz|9490|houseNumber|0\n"
                       "r1|2|2|11|Floraweg|Vaduz|9490|houseNumber|";
    assert_memory_equal(j.out, want, strlen(want));
    char *end;
    long d = strtol(j.out + strlen(want), &end, 10);
    assert_true(d >= 9 && d <= 11);
    assert_int_equal(*end, '\n');
    assert_non_null(strstr(j.out, "\nr2|0|0|||||FAILED|\n"));
    assert_non_null(strstr(j.out, "\nr3|1|2|13|Floraweg|Vaduz|9490|houseNumber|0\n"));
    assert_non_null(strstr(j.out, "\nr4|0|0|||||FAILED|\n"));
    job_free(&j);
    /* a reverse job needs a prox column */
    run_job(&j, params, "recId|searchText\n1|Floraweg 13\n");
    assert_int_equal(j.rc, GB_ECOLUMN);
    assert_non_null(strstr(j.err, "prox"));
}

/* Invalid lines go to the errors text with their 1-based line number (header = line 1). */
static void test_error_lines(void **state)
{
    (void)state;
    const char *params[] = {"outcols=matchLevel", NULL};
    struct job j;
    run_job(&j, params,
            "recId|searchText\n"
            "1|Floraweg 13 Vaduz\n"
            "2|too|many\n"
            "\n"
            "3|\"unterminated\n"
            "4|xyzzy qwerty plugh\n");
    assert_int_equal(j.rc, 0);
    assert_string_equal(j.out, "recId|SeqNumber|seqLength|matchLevel\n"
                               "1|1|1|houseNumber\n"
                               "4|0|0|NOMATCH\n");
    assert_string_equal(j.errors, "Line Number:3 2|too|many\n"
                                  "Line Number:5 3|\"unterminated\n");
    job_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_and_rows),
        cmocka_unit_test(test_failed_structured_and_header_false),
        cmocka_unit_test(test_output_not_combined),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_include_input_fields),
        cmocka_unit_test(test_outcols_case),
        cmocka_unit_test(test_match_quality_columns),
        cmocka_unit_test(test_parameter_errors),
        cmocka_unit_test(test_unknown_input_column),
        cmocka_unit_test(test_ambiguous),
        cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_error_lines),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
