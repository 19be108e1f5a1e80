/*
 * edit.h - edit distances between short byte strings (normalised keys), for spelling tolerance.
 *
 * OSA distance: Levenshtein (insert, delete, substitute) plus the transposition of two adjacent
 * bytes, each edit costing 1, no substring edited twice ("optimal string alignment"). Both
 * functions return min(distance, max + 1): callers only ask whether a key is within max edits.
 * Pure functions, no allocation, any thread.
 */
#ifndef GEOBATCH_EDIT_H
#define GEOBATCH_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The OSA distance of a[la] and b[lb], or max + 1 when it is greater (or max < 0). Bit-parallel
 * (Hyyrö 2003) when the shorter string has at most 64 bytes: one pass over the longer, a few
 * word operations a byte; edit_osa_dp beyond that. */
int edit_osa(const char *a, size_t la, const char *b, size_t lb, int max);

/* The OSA distance of a[la] (1 to 64 bytes) to each tail of b[lb] in one pass: each[j], for j
 * in [0, lb], that of a and b's last j bytes, or max + 1 when it is greater. What edit_osa gives
 * for each tail in turn, for the cost of the longest. */
void edit_osa_tails(const char *a, size_t la, const char *b, size_t lb, int max, int *each);

/* The same by dynamic programming over the band |i - j| <= max (strings of up to 256 bytes;
 * longer ones are max + 1): the reference edit_osa is tested against. */
int edit_osa_dp(const char *a, size_t la, const char *b, size_t lb, int max);

/* The byte values of s[n] as a set of 64 bits (a byte's low six bits: values that share them
 * share a bit), for edit_sets_apart. */
static inline uint64_t edit_byte_set(const char *s, size_t n)
{
    uint64_t set = 0;
    for (size_t i = 0; i < n; i++)
        set |= 1ull << ((unsigned char)s[i] & 63);
    return set;
}

/* Whether x has more than max bits set (max + 1 steps at most). */
static inline bool edit_bits_over(uint64_t x, int max)
{
    for (int i = 0; i <= max; i++, x &= x - 1)
        if (!x)
            return false;
    return true;
}

/* Whether two strings whose edit_byte_set are a and b are surely more than max edits apart: an
 * edit brings in at most one byte and takes out at most one (a transposition neither), so each
 * bit that one set has and the other lacks is an edit of its own, and more than max such bits
 * on one side are more than max edits. A filter before edit_osa, a few word operations. */
static inline bool edit_sets_apart(uint64_t a, uint64_t b, int max)
{
    return edit_bits_over(b & ~a, max) || edit_bits_over(a & ~b, max);
}

#endif
