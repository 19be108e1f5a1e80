/*
 * norm_int.h - what the normaliser's files share and no one else uses: opening a list of
 * data/dict/ and loading segment.txt (both steps of norm_init()).
 */
#ifndef GEOBATCH_NORM_INT_H
#define GEOBATCH_NORM_INT_H

#include <stddef.h>
#include <stdio.h>

/* Open the list dir/name for reading into *fp; path (cap bytes) receives its path for messages.
 * Return 0, GB_ETOOLONG, or -errno (with a log line naming the path). */
int norm_list_open(const char *dir, const char *name, char *path, size_t cap, FILE **fp);

/* Read dir/segment.txt into the table of norm_segment_word(); a no-op once loaded. Return 0,
 * -errno, or GB_EFORMAT with a log line naming file and line. */
int norm_segment_load(const char *dir);

#endif
