/*
 * test_buf.c - the bounded buffer: limits hold, contents stay NUL-terminated.
 */
#include "base/buf.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_empty_buffer_reads_as_empty_string(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

static void test_append_up_to_the_limit_then_refuse(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_puts(&b, "de"), 0);
    assert_string_equal(buf_str(&b), "abcde");
    assert_int_equal(buf_putc(&b, 'f'), GB_ETOOLONG);
    assert_string_equal(buf_str(&b), "abcde"); /* unchanged */
    assert_int_equal(b.len, 5);
    buf_release(&b);
}

static void test_printf_respects_the_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_printf(&b, "%d-%s", 12, "ab"), 0);
    assert_string_equal(buf_str(&b), "12-ab");
    assert_int_equal(buf_printf(&b, "%s", "toolong"), GB_ETOOLONG);
    assert_string_equal(buf_str(&b), "12-ab");
    buf_reset(&b);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_printf(&b, "%s", "12345678"), 0);
    assert_string_equal(buf_str(&b), "12345678");
    buf_release(&b);
}

static void test_growth_keeps_contents(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    assert_int_equal(b.data[10000], '\0');
    char *s = buf_steal(&b);
    assert_int_equal(strlen(s), 10000);
    assert_int_equal(b.len, 0);
    free(s);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_buffer_reads_as_empty_string),
        cmocka_unit_test(test_append_up_to_the_limit_then_refuse),
        cmocka_unit_test(test_printf_respects_the_limit),
        cmocka_unit_test(test_growth_keeps_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
