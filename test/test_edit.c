/*
 * test_edit.c - the OSA distance: known pairs (each kind of edit, the limit, empty strings,
 * the symmetric case), and the bit-parallel form equal to the banded table on every pair of
 * short strings over a small alphabet and on random longer ones, for every limit; the byte-set
 * filter never calls two strings apart that are within the limit.
 */
#include "text/edit.h"

#include <setjmp.h>
#include <stdbool.h>
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

/* Every string of up to 5 bytes over the first `letters` letters into s (at most cap): their
 * number. */
static int all_strings(char (*s)[6], int cap, int letters)
{
    int n = 0;
    for (int len = 0; len <= 5; len++) {
        int total = 1;
        for (int k = 0; k < len; k++)
            total *= letters;
        for (int x = 0; x < total && n < cap; x++) {
            int v = x;
            for (int k = 0; k < len; k++, v /= letters)
                s[n][k] = (char)('a' + v % letters);
            s[n][len] = '\0';
            n++;
        }
    }
    return n;
}

/* Every pair of strings of up to 5 bytes over "abc", every limit up to 4. */
static void test_bits_equal_table_exhaustive(void **state)
{
    (void)state;
    static char s[400][6];
    int n = all_strings(s, 400, 3);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int max = 0; max <= 4; max++) {
                size_t li = strlen(s[i]), lj = strlen(s[j]);
                int want = edit_osa_dp(s[i], li, s[j], lj, max);
                if (edit_osa(s[i], li, s[j], lj, max) != want)
                    fail_msg("osa(%s, %s, %d) != %d", s[i], s[j], max, want);
            }
}

/* Step the xorshift64 sequence in *x. */
static void xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
}

/* Random strings of up to 70 bytes (past the 64 of one word), a few edits apart. */
static void test_bits_equal_table_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        char a[80], b[80];
        xorshift(&x);
        size_t la = x % 71, lb = la;
        for (size_t k = 0; k < la; k++) {
            xorshift(&x);
            a[k] = (char)('a' + x % 6);
        }
        memcpy(b, a, la);
        int edits = (int)(x >> 32) % 4;
        for (int e = 0; e < edits; e++) {
            xorshift(&x);
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

/* A street type against every tail of a key ("strase" in "dorfstrase"), in one pass: each tail's
 * distance is edit_osa's (and the table's) for that tail alone. Random types of 1 to 10 bytes
 * and keys of up to 24 with the type's bytes in them, from a small alphabet so that tails are
 * near. */
static void test_tails_equal_each_alone(void **state)
{
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 20000; round++) {
        char a[16], b[32];
        xorshift(&x);
        size_t la = 1 + x % 10, lb = (x >> 8) % 25;
        for (size_t k = 0; k < la; k++) {
            xorshift(&x);
            a[k] = (char)('a' + x % 4);
        }
        for (size_t k = 0; k < lb; k++) {
            xorshift(&x);
            b[k] = (x >> 16) % 3 ? a[(k + (x >> 24)) % la] : (char)('a' + x % 5);
        }
        for (int max = 0; max <= 3; max++) {
            int each[32];
            edit_osa_tails(a, la, b, lb, max, each);
            for (size_t j = 0; j <= lb; j++) {
                int want = edit_osa_dp(a, la, b + lb - j, j, max);
                assert_int_equal(each[j], want);
                assert_int_equal(edit_osa(b + lb - j, j, a, la, max), want);
            }
        }
    }
}

static bool apart(const char *a, const char *b, int max)
{
    return edit_sets_apart(edit_byte_set(a, strlen(a)), edit_byte_set(b, strlen(b)), max);
}

static void test_sets_apart_known(void **state)
{
    (void)state;
    assert_false(apart("strase", "strasse", 1)); /* the same letters */
    assert_true(apart("strase", "platz", 2));    /* p, l, z missing: 3 edits at least */
    assert_false(apart("strase", "platz", 3));
    assert_false(apart("a", "b", 1)); /* one substitution brings one in and takes one out */
    assert_true(apart("a", "b", 0));
    assert_true(apart("abcd", "", 3)); /* four deletions */
    assert_false(apart("abcd", "", 4));
    assert_false(apart("ab", "ba", 0)); /* a transposition changes no set: edit_osa decides */
    assert_false(apart("a", "!", 0));   /* 'a' and '!' share their low six bits: one bit */
}

/* The filter is a lower bound: every pair of strings of up to 5 bytes over "abcd" (so that
 * sets differ), every limit up to 4, and 20,000 random pairs of 6 letters a few edits apart. */
static void test_sets_apart_only_when_apart(void **state)
{
    (void)state;
    static char s[1400][6];
    int n = all_strings(s, 1400, 4);
    long pruned = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int max = 0; max <= 4; max++)
                if (apart(s[i], s[j], max)) {
                    pruned++;
                    if (osa(s[i], s[j], max) <= max)
                        fail_msg("%s and %s called apart at %d: %d edits", s[i], s[j], max,
                                 osa(s[i], s[j], max));
                }
    assert_true(pruned > 0);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 20000; round++) {
        char a[16], b[16];
        size_t la = 4 + round % 8;
        for (size_t k = 0; k < la; k++) {
            xorshift(&x);
            a[k] = (char)('a' + x % 26);
        }
        a[la] = '\0';
        memcpy(b, a, la + 1);
        xorshift(&x);
        b[x % la] = (char)('a' + (x >> 8) % 26); /* a substitution, maybe of the same letter */
        xorshift(&x);
        b[x % la] = (char)('a' + (x >> 8) % 26);
        for (int max = 0; max <= 3; max++)
            if (apart(a, b, max))
                assert_true(osa(a, b, max) > max);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_pairs),
        cmocka_unit_test(test_bits_equal_table_exhaustive),
        cmocka_unit_test(test_bits_equal_table_random),
        cmocka_unit_test(test_tails_equal_each_alone),
        cmocka_unit_test(test_sets_apart_known),
        cmocka_unit_test(test_sets_apart_only_when_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
