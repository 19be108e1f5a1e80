/*
 * test_mem.c - allocation helpers: a random-access table's block is zeroed, large ones are
 * aligned to 2 MiB (where transparent huge pages can back them), and every byte is usable.
 */
#include "base/mem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void expect_zeroed_and_writable(unsigned char *p, size_t n)
{
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            fail_msg("byte %zu of %zu is %u, not 0", i, n, p[i]);
    memset(p, 0xA5, n);
    assert_int_equal(p[n - 1], 0xA5);
}

static void test_a_small_table_is_zeroed(void **state)
{
    (void)state;
    size_t n = MEM_TABLE_HUGE - 1;
    unsigned char *p = mem_table_calloc(n);
    expect_zeroed_and_writable(p, n);
    free(p);
}

static void test_a_large_table_is_zeroed_and_on_a_2_mib_boundary(void **state)
{
    (void)state;
    size_t sizes[] = {MEM_TABLE_HUGE, ((size_t)2 << 20) + 8, (size_t)5 << 20};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned char *p = mem_table_calloc(sizes[k]);
        expect_zeroed_and_writable(p, sizes[k]);
        assert_int_equal((uintptr_t)p % ((size_t)2 << 20), 0);
        free(p);
    }
}

static void test_an_impossible_size_is_refused(void **state)
{
    (void)state;
    assert_null(mem_table_calloc(SIZE_MAX - 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_small_table_is_zeroed),
        cmocka_unit_test(test_a_large_table_is_zeroed_and_on_a_2_mib_boundary),
        cmocka_unit_test(test_an_impossible_size_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
