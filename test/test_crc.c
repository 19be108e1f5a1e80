/*
 * test_crc.c - CRC-32 as the index file stores it: gzip's, as zlib computes it.
 */
#include "base/crc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

/* The standard check value of CRC-32, and nothing for no bytes. */
static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(crc_update(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(crc_update(0, "", 0), 0);
    assert_int_equal(crc_update(0xCBF43926u, "x", 0), 0xCBF43926u);
}

/* zlib's crc32() on 3 MB of pseudo-random bytes, whole and continued from every split of the
 * first 1,000 bytes and from pieces of every size up to 64 KB: the checksums of indexes written
 * before stay valid. */
static void test_same_as_zlib(void **state)
{
    (void)state;
    size_t n = 3u << 20;
    unsigned char *b = malloc(n);
    assert_non_null(b);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        b[i] = (unsigned char)x;
    }
    uint32_t want = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)n);
    assert_int_equal(crc_update(0, b, n), want);
    for (size_t cut = 0; cut <= 1000; cut++)
        assert_int_equal(crc_update(crc_update(0, b, cut), b + cut, n - cut), want);
    for (size_t piece = 1; piece <= 65536; piece *= 4) {
        uint32_t c = 0;
        for (size_t at = 0; at < n; at += piece)
            c = crc_update(c, b + at, n - at < piece ? n - at : piece);
        assert_int_equal(c, want);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_same_as_zlib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
