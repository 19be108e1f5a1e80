/*
 * test_conf.c - flag parsing: forms, case, bounds, positionals, unknown-option hook, help.
 */
#include "base/conf.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

static bool flag;
static long count;
static const char *name;
static double ratio;

static const struct conf_opt opts[] = {
    {"flag", CONF_BOOL, &flag, NULL, "a flag", 0, 0},
    {"count", CONF_LONG, &count, "N", "a count", 1, 10},
    {"name", CONF_STR, &name, "S", "a name", 0, 0},
    {"ratio", CONF_DOUBLE, &ratio, "X", "a ratio", 0, 0},
    {NULL},
};

static void reset(void)
{
    flag = false;
    count = 0;
    name = NULL;
    ratio = 0;
}

static int parse(int argc, char **argv, char **pos, int *npos, char *err, size_t errlen)
{
    static const struct conf_spec spec = {.usage = "t", .opts = opts};
    return conf_parse(&spec, argc, argv, pos, 4, npos, err, errlen);
}

static void test_both_value_forms_and_any_case(void **state)
{
    (void)state;
    reset();
    char *argv[] = {"cmd", "--FLAG", "--Count=3", "--name", "x y", "in.txt", "--ratio=0.5"};
    char *pos[4];
    int npos = -1;
    char err[128] = "";
    assert_int_equal(parse(7, argv, pos, &npos, err, sizeof(err)), 0);
    assert_true(flag);
    assert_int_equal(count, 3);
    assert_string_equal(name, "x y");
    assert_true(ratio == 0.5);
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "in.txt");
}

static void test_bool_words(void **state)
{
    (void)state;
    const char *yes[] = {"true", "TRUE", "True", "1", "yes"};
    const char *no[] = {"false", "FALSE", "False", "0", "no"};
    for (int i = 0; i < 5; i++) {
        bool b = false;
        assert_int_equal(conf_parse_bool(yes[i], &b), 0);
        assert_true(b);
        assert_int_equal(conf_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    bool b = true;
    assert_int_equal(conf_parse_bool("maybe", &b), GB_EPARAM);
    assert_true(b); /* untouched on failure */
}

static void test_errors_are_one_line_messages(void **state)
{
    (void)state;
    char *pos[4];
    int npos;
    char err[128];
    struct {
        int argc;
        char *argv[3];
        const char *msg;
    } cases[] = {
        {2, {"cmd", "--count=11"}, "--count: expected a whole number from 1 to 10, got '11'"},
        {2, {"cmd", "--count=x"}, "--count: expected a whole number from 1 to 10, got 'x'"},
        {2, {"cmd", "--bogus"}, "unknown option '--bogus' (see --help)"},
        {2, {"cmd", "--name"}, "--name needs a value"},
        {2, {"cmd", "--flag=perhaps"}, "--flag: expected true or false, got 'perhaps'"},
        {2, {"cmd", "-x"}, "unknown option '-x' (see --help)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reset();
        err[0] = '\0';
        assert_int_equal(parse(cases[i].argc, cases[i].argv, pos, &npos, err, sizeof(err)),
                         GB_EUSAGE);
        assert_string_equal(err, cases[i].msg);
        assert_null(strchr(err, '\n'));
    }
}

static void test_too_many_positionals(void **state)
{
    (void)state;
    char *argv[] = {"cmd", "a", "b", "c", "d", "e"};
    char *pos[4];
    int npos;
    char err[128];
    assert_int_equal(parse(6, argv, pos, &npos, err, sizeof(err)), GB_EUSAGE);
    assert_string_equal(err, "unexpected argument 'e'");
}

static int seen;
static int take(void *ctx, const char *n, const char *v, char *err, size_t errlen)
{
    (void)ctx;
    if (strcasecmp(n, "indelim") == 0 && v && strcmp(v, "|") == 0) {
        seen++;
        return 0;
    }
    snprintf(err, errlen, "no %s", n);
    return GB_EUSAGE;
}

static void test_unknown_hook_takes_extra_options(void **state)
{
    (void)state;
    static const struct conf_spec spec = {.usage = "t", .opts = opts, .unknown = take};
    char *argv[] = {"cmd", "--inDelim=|", "--indelim", "|", "--other=1"};
    char *pos[4];
    int npos;
    char err[128];
    seen = 0;
    assert_int_equal(conf_parse(&spec, 2, argv, pos, 4, &npos, err, sizeof(err)), 0);
    assert_int_equal(seen, 1);
    assert_int_equal(conf_parse(&spec, 3, argv, pos, 4, &npos, err, sizeof(err)), GB_EUSAGE);
    assert_string_equal(err, "no indelim"); /* "--indelim" with no value left */
    seen = 1;
    assert_int_equal(conf_parse(&spec, 4, argv, pos, 4, &npos, err, sizeof(err)), 0);
    assert_int_equal(seen, 3);
    assert_int_equal(conf_parse(&spec, 5, argv, pos, 4, &npos, err, sizeof(err)), GB_EUSAGE);
    assert_string_equal(err, "no other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_value_forms_and_any_case),
        cmocka_unit_test(test_bool_words),
        cmocka_unit_test(test_errors_are_one_line_messages),
        cmocka_unit_test(test_too_many_positionals),
        cmocka_unit_test(test_unknown_hook_takes_extra_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
