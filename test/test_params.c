/*
 * test_params.c - the HERE job parameters as clients send them (spec §2.3, §3).
 */
#include "base/buf.h"
#include "base/err.h"
#include "job/params.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_defaults(void **state)
{
    (void)state;
    struct job_params p;
    params_init(&p);
    assert_int_equal(p.indelim, '|');
    assert_int_equal(p.outdelim, '|');
    assert_true(p.outputcombined);
    assert_true(p.header);
    assert_true(p.outputcompressed);
    assert_false(p.includeinputfields);
    assert_int_equal(p.maxresults, 10);
    char err[128];
    assert_int_equal(params_check(&p, err, sizeof(err)), GB_EPARAM);
    assert_string_equal(err, "outcols is required");
}

static void test_names_and_booleans_in_any_case(void **state)
{
    (void)state;
    struct job_params p;
    params_init(&p);
    char err[128];
    assert_int_equal(params_set(&p, "OutputCombined", "FALSE", err, sizeof(err)), 0);
    assert_false(p.outputcombined);
    assert_int_equal(params_set(&p, "includeInputFields", "True", err, sizeof(err)), 0);
    assert_true(p.includeinputfields);
    assert_int_equal(params_set(&p, "HEADER", "false", err, sizeof(err)), 0);
    assert_false(p.header);
    assert_int_equal(params_set(&p, "header", "nope", err, sizeof(err)), GB_EPARAM);
    assert_string_equal(err, "header must be true or false, not 'nope'");
}

static void test_delimiters_literal_encoded_and_backslash_t(void **state)
{
    (void)state;
    struct job_params p;
    params_init(&p);
    char err[128];
    assert_int_equal(params_set(&p, "indelim", ";", err, sizeof(err)), 0);
    assert_int_equal(p.indelim, ';');
    assert_int_equal(p.outdelim, ';'); /* follows indelim until outdelim is given */
    assert_int_equal(params_set(&p, "outDelim", "%2C", err, sizeof(err)), 0);
    assert_int_equal(p.outdelim, ',');
    assert_int_equal(params_set(&p, "indelim", "\\t", err, sizeof(err)), 0);
    assert_int_equal(p.indelim, '\t');
    assert_int_equal(p.outdelim, ',');
    assert_int_equal(params_set(&p, "indelim", "\t", err, sizeof(err)), 0);
    assert_int_equal(p.indelim, '\t');
    assert_int_equal(params_set(&p, "indelim", "x", err, sizeof(err)), GB_EPARAM);
}

static void test_outcols_case_insensitive_canonical_order_kept(void **state)
{
    (void)state;
    struct job_params p;
    params_init(&p);
    char err[128];
    assert_int_equal(
        params_set(&p, "outcols", "Latitude,longitude, matchlevel,recId", err, sizeof(err)), 0);
    assert_int_equal(p.n_outcols, 4);
    assert_string_equal(outcol_name(p.outcols[0]), "latitude");
    assert_string_equal(outcol_name(p.outcols[2]), "matchLevel");
    assert_string_equal(outcol_name(p.outcols[3]), "recId");
    assert_int_equal(params_check(&p, err, sizeof(err)), 0);
    assert_int_equal(params_set(&p, "outcols", "latitude,bogus", err, sizeof(err)), GB_EPARAM);
    assert_string_equal(err, "unknown output column 'bogus' in outcols");
}

static void test_other_parameters(void **state)
{
    (void)state;
    struct job_params p;
    params_init(&p);
    char err[128];
    assert_int_equal(params_set(&p, "maxresults", "3", err, sizeof(err)), 0);
    assert_int_equal(p.maxresults, 3);
    assert_int_equal(params_set(&p, "maxresults", "0", err, sizeof(err)), GB_EPARAM);
    assert_int_equal(params_set(&p, "mode", "retrieveAddresses", err, sizeof(err)), 0);
    assert_int_equal(p.mode, MODE_RETRIEVE_ADDRESSES);
    assert_int_equal(params_set(&p, "countryfocus", "deu", err, sizeof(err)), 0);
    assert_string_equal(p.countryfocus, "deu");
    assert_int_equal(params_set(&p, "gen", "8", err, sizeof(err)), 0); /* ignored */
    assert_int_equal(params_set(&p, "politicalview", "KAZ", err, sizeof(err)), 0);
    assert_int_equal(params_set(&p, "mailto", "a@b.c", err, sizeof(err)), 0);
    assert_string_equal(p.mailto, "a@b.c");
}

static void test_params_text(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(params_encode(&b, "inDelim", "\t"), 0);
    assert_int_equal(params_encode(&b, "outcols", "latitude,longitude"), 0);
    assert_int_equal(params_encode(&b, "outputCombined", "FALSE"), 0);
    assert_int_equal(params_encode(&b, "mailto", "a&b=c@x.org"), 0);
    assert_string_equal(buf_str(&b), "inDelim=%09&outcols=latitude%2Clongitude&outputCombined="
                                     "FALSE&mailto=a%26b%3Dc%40x.org");
    struct job_params p;
    params_init(&p);
    char err[128];
    assert_int_equal(params_decode(buf_str(&b), &p, err, sizeof(err)), 0);
    assert_int_equal(p.indelim, '\t');
    assert_int_equal(p.n_outcols, 2);
    assert_int_equal(p.outcols[0], OC_LAT);
    assert_false(p.outputcombined);
    assert_string_equal(p.mailto, "a&b=c@x.org");
    buf_release(&b);
}

/* The one percent decoder: "%00" stays literal, a '%' without two hex digits stays too. */
static void test_unescape(void **state)
{
    (void)state;
    char s[64] = "a%20b%2fc%00d%4%zz%";
    assert_int_equal(params_unescape(s, sizeof(s), s, strlen(s)), 15);
    assert_string_equal(s, "a b/c%00d%4%zz%");
    char small[4];
    assert_int_equal(params_unescape(small, sizeof(small), "%41%42%43%44", 12), 3);
    assert_string_equal(small, "ABC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_names_and_booleans_in_any_case),
        cmocka_unit_test(test_delimiters_literal_encoded_and_backslash_t),
        cmocka_unit_test(test_outcols_case_insensitive_canonical_order_kept),
        cmocka_unit_test(test_other_parameters),
        cmocka_unit_test(test_params_text),
        cmocka_unit_test(test_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
