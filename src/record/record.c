/*
 * record.c - the bookkeeping of records: skipped rows, shared by all importers.
 */
#include "record/record.h"

#include <stdio.h>

void import_stats_skip(struct import_stats *st, size_t line, const char *reason)
{
    if (st->skipped < IMPORT_SKIP_LINES)
        st->skip_lines[st->skipped] = line;
    if (st->skipped == 0 && reason)
        snprintf(st->first_reason, sizeof(st->first_reason), "%s", reason);
    st->skipped++;
}
