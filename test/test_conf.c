/*
 * test_conf.c - flag parsing: forms, case, bounds, positionals, unknown-option hook, help;
 * configuration files (conf_file_apply) and finding one option (conf_find).
 */
#include "base/conf.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
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

static struct conf_strs list;

static const struct conf_opt file_opts[] = {
    {"flag", CONF_BOOL, &flag, NULL, "a flag", 0, 0},
    {"count", CONF_LONG, &count, "N", "a count", 1, 10},
    {"name", CONF_STR, &name, "S", "a name", 0, 0},
    {"item", CONF_STRS, &list, "X", "a list", 0, 0},
    {"config", CONF_STR, &name, "FILE", "the file", 0, 0},
    {NULL},
};
static const struct conf_spec file_spec = {.usage = "t", .opts = file_opts};

/* Write text to a new temp file; its path into path (removed by the caller). */
static void write_conf(char *path, const char *text)
{
    strcpy(path, "/tmp/test_conf.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* apply text as a file: its return code, err and *buf as conf_file_apply left them */
static int apply(const char *text, char **buf, char *err, size_t errlen, char *path)
{
    reset();
    list.n = 0;
    write_conf(path, text);
    int rc = conf_file_apply(&file_spec, path, buf, err, errlen);
    unlink(path);
    return rc;
}

static void test_file_both_forms_comments_and_blanks(void **state)
{
    (void)state;
    char path[64], err[256] = "";
    char *buf = NULL;
    assert_int_equal(apply("# a comment\n\n  COUNT 7\nname =  a b # not a comment \t\n"
                           "item=/x.gbx\nitem /y.gbx\n\tflag\n",
                           &buf, err, sizeof(err), path),
                     0);
    assert_non_null(buf);
    assert_string_equal(err, "");
    assert_true(flag);
    assert_int_equal(count, 7);
    assert_string_equal(name, "a b # not a comment");
    assert_int_equal(list.n, 2);
    assert_string_equal(list.v[0], "/x.gbx");
    assert_string_equal(list.v[1], "/y.gbx");
    /* the command line afterwards overrides the file, and adds to a list */
    char *argv[] = {"cmd", "--count=2", "--item", "/z.gbx"};
    char *pos[1];
    int npos;
    assert_int_equal(conf_parse(&file_spec, 4, argv, pos, 1, &npos, err, sizeof(err)), 0);
    assert_int_equal(count, 2);
    assert_string_equal(name, "a b # not a comment");
    assert_int_equal(list.n, 3);
    assert_string_equal(list.v[2], "/z.gbx");
    free(buf);
    /* no newline at the end, CRLF lines */
    buf = NULL;
    assert_int_equal(apply("count=3\r\nname x", &buf, err, sizeof(err), path), 0);
    assert_int_equal(count, 3);
    assert_string_equal(name, "x");
    free(buf);
}

static void test_file_errors_name_the_line(void **state)
{
    (void)state;
    char path[64], err[256], want[320];
    char *buf = NULL;
    assert_int_equal(apply("count 1\n\ncolour red\n", &buf, err, sizeof(err), path), GB_EUSAGE);
    snprintf(want, sizeof(want), "%s:3: unknown key 'colour'", path);
    assert_string_equal(err, want);
    assert_null(buf);
    assert_int_equal(apply("# x\ncount 11\n", &buf, err, sizeof(err), path), GB_EUSAGE);
    snprintf(want, sizeof(want), "%s:2: count: expected a whole number from 1 to 10, got '11'",
             path);
    assert_string_equal(err, want);
    assert_int_equal(apply("name\n", &buf, err, sizeof(err), path), GB_EUSAGE);
    snprintf(want, sizeof(want), "%s:1: name needs a value", path);
    assert_string_equal(err, want);
    assert_int_equal(apply("config /etc/other.conf\n", &buf, err, sizeof(err), path), GB_EUSAGE);
    snprintf(want, sizeof(want), "%s:1: unknown key 'config'", path);
    assert_string_equal(err, want);
    assert_int_equal(apply("flag maybe\n", &buf, err, sizeof(err), path), GB_EUSAGE);
    snprintf(want, sizeof(want), "%s:1: flag: expected true or false, got 'maybe'", path);
    assert_string_equal(err, want);
    assert_null(buf);
    assert_int_equal(conf_file_apply(&file_spec, "/nonexistent/x.conf", &buf, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "/nonexistent/x.conf: No such file or directory");
    assert_null(buf);
}

static void test_find_option(void **state)
{
    (void)state;
    char *argv[] = {"cmd", "--CONFIG=/a", "--x", "--config", "/b", "--", "--config=/c"};
    assert_string_equal(conf_find(2, argv, "config"), "/a");
    assert_string_equal(conf_find(5, argv, "config"), "/b");
    assert_string_equal(conf_find(7, argv, "config"), "/b");
    assert_string_equal(conf_find(4, argv, "config"), "/a"); /* "--config" alone: conf_parse's */
    assert_null(conf_find(7, argv, "conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_value_forms_and_any_case),
        cmocka_unit_test(test_bool_words),
        cmocka_unit_test(test_errors_are_one_line_messages),
        cmocka_unit_test(test_too_many_positionals),
        cmocka_unit_test(test_unknown_hook_takes_extra_options),
        cmocka_unit_test(test_file_both_forms_comments_and_blanks),
        cmocka_unit_test(test_file_errors_name_the_line),
        cmocka_unit_test(test_find_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
