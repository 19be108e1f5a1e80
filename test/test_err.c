/*
 * test_err.c - one table of error codes: names and messages for project codes and errno.
 */
#include "base/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_project_codes_have_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(gb_errname(GB_ECORRUPT), "GB_ECORRUPT");
    assert_string_equal(gb_strerror(GB_ECORRUPT), "file is corrupt");
    assert_string_equal(gb_errname(GB_ETOOLONG), "GB_ETOOLONG");
    assert_string_equal(gb_strerror(GB_EUTF8), "invalid UTF-8");
}

static void test_errno_values_pass_through(void **state)
{
    (void)state;
    assert_string_equal(gb_errname(-ENOENT), "ENOENT");
    assert_string_equal(gb_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(gb_strerror(0), "success");
    assert_string_equal(gb_errname(0), "OK");
    assert_string_equal(gb_strerror(-99999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_codes_have_names_and_messages),
        cmocka_unit_test(test_errno_values_pass_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
