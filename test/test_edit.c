/*
 * test_edit.c - the OSA distance: known pairs (each kind of edit, the limit, empty strings,
 * the symmetric case), and the bit-parallel form equal to the banded table on every pair of
 * short strings over a small alphabet and on random longer ones, for every limit.
 */
#include "text/edit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int osa(const char *a, const char *b, int max)
{
    return edit_osa(a, strlen(a), b, strlen(b), max);
}

static void test_known_pairs(void **state)
{
    (void)state;
    assert_int_equal(osa("hauptstrasse", "hauptstrasse", 2), 0);
    assert_int_equal(osa("hauptstrasse", "hauptstrase", 2), 1);  /* deletion */
    assert_int_equal(osa("hauptstrase", "hauptstrasse", 2), 1);  /* insertion */
    assert_int_equal(osa("hauptstrasse", "hauptstrosse", 2), 1); /* substitution */
    assert_int_equal(osa("hauptstrasse", "hauptsrtasse", 2), 1); /* transposition */
    assert_int_equal(osa("ca", "abc", 3), 3); /* OSA, not Damerau: no edit of a transposed pair */
    assert_int_equal(osa("kitten", "sitting", 5), 3);
    assert_int_equal(osa("kitten", "sitting", 2), 3); /* beyond max: max + 1 */
    assert_int_equal(osa("", "abc", 5), 3);
    assert_int_equal(osa("abc", "", 2), 3);
    assert_int_equal(osa("", "", 0), 0);
    assert_int_equal(osa("abc", "abd", -1), 0); /* max < 0: max + 1 */
    assert_int_equal(osa("sebastjanstrase", "sebastianstrasse", 2), 2);
    assert_int_equal(osa("sebastianstrasse", "sebastjanstrase", 2), 2);
}

/* Every pair of strings of up to 5 bytes over "abc", every limit up to 4. */
static void test_bits_equal_table_exhaustive(void **state)
{
    (void)state;
    char s[400][6];
    int n = 0;
    for (int len = 0; len <= 5; len++) {
        int total = 1;
        for (int k = 0; k < len; k++)
            total *= 3;
        for (int x = 0; x < total && n < 400; x++) {
            int v = x;
            for (int k = 0; k < len; k++, v /= 3)
                s[n][k] = (char)('a' + v % 3);
            s[n][len] = '\0';
            n++;
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int max = 0; max <= 4; max++) {
                size_t li = strlen(s[i]), lj = strlen(s[j]);
                int want = edit_osa_dp(s[i], li, s[j], lj, max);
                if (edit_osa(s[i], li, s[j], lj, max) != want)
                    fail_msg("osa(%s, %s, %d) != %d", s[i], s[j], max, want);
            }
}

/* Random strings of up to 70 bytes (past the 64 of one word), a few edits apart. */
static void test_bits_equal_table_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        char a[80], b[80];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t la = x % 71, lb = la;
        for (size_t k = 0; k < la; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[k] = (char)('a' + x % 6);
        }
        memcpy(b, a, la);
        int edits = (int)(x >> 32) % 4;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = lb ? x % lb : 0;
            switch ((x >> 40) % 4) {
            case 0: /* substitute */
                if (lb)
                    b[at] = (char)('a' + (x >> 20) % 6);
                break;
            case 1: /* delete */
                if (lb) {
                    memmove(b + at, b + at + 1, lb - at - 1);
                    lb--;
                }
                break;
            case 2: /* insert */
                if (lb < 78) {
                    memmove(b + at + 1, b + at, lb - at);
                    b[at] = (char)('a' + (x >> 24) % 6);
                    lb++;
                }
                break;
            default: /* transpose */
                if (at + 1 < lb) {
                    char t = b[at];
                    b[at] = b[at + 1];
                    b[at + 1] = t;
                }
            }
        }
        for (int max = 0; max <= 4; max++) {
            int want = edit_osa_dp(a, la, b, lb, max);
            assert_int_equal(edit_osa(a, la, b, lb, max), want);
            assert_int_equal(edit_osa(b, lb, a, la, max), want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_pairs),
        cmocka_unit_test(test_bits_equal_table_exhaustive),
        cmocka_unit_test(test_bits_equal_table_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
