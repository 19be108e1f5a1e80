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

#include <stddef.h>

/* The OSA distance of a[la] and b[lb], or max + 1 when it is greater (or max < 0). Bit-parallel
 * (Hyyrö 2003) when the shorter string has at most 64 bytes: one pass over the longer, a few
 * word operations a byte; edit_osa_dp beyond that. */
int edit_osa(const char *a, size_t la, const char *b, size_t lb, int max);

/* The same by dynamic programming over the band |i - j| <= max (strings of up to 256 bytes;
 * longer ones are max + 1): the reference edit_osa is tested against. */
int edit_osa_dp(const char *a, size_t la, const char *b, size_t lb, int max);

#endif
