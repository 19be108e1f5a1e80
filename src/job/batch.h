/*
 * batch.h - one HERE 6.2 job's rows through the geocoder: from input rows to output text.
 *
 * Used by `geobatch geocode` and by the server's workers, so that both write byte-identical
 * results. A struct batch is built once per job (parameters + the input header) and is then
 * read-only: any number of threads may call batch_row() at once, each with its own
 * struct batch_scratch.
 */
#ifndef GEOBATCH_BATCH_H
#define GEOBATCH_BATCH_H

#include "base/buf.h"
#include "base/csv.h"
#include "geocode/geocode.h"
#include "job/params.h"

#include <stdbool.h>
#include <stddef.h>

struct index;
struct batch;
struct batch_scratch;

/*
 * Prepare a job: check params, map the header row's columns (unknown columns are an error
 * unless allowUnknownInputColumns). Return 0 and set *out; GB_EPARAM or GB_ECOLUMN with a
 * message for humans in err.
 */
int batch_new(struct batch **out, const struct index *ix, const struct job_params *p,
              const struct csv_row *header, char *err, size_t errlen);

/* batch_new() over an index set (geocode_set.h): its rows are geocoded by the set, which is
 * the plain index when it has one member. */
struct gc_set;
int batch_new_set(struct batch **out, const struct gc_set *set, const struct job_params *p,
                  const struct csv_row *header, char *err, size_t errlen);
void batch_free(struct batch *b);

/* Per-thread working memory for batch_row(). */
struct batch_scratch *batch_scratch_new(void);
void batch_scratch_free(struct batch_scratch *s);

/* Append the output header line (when params ask for one) to out. The same header heads the
 * no-match file when outputcombined=false. */
int batch_header(const struct batch *b, struct buf *out);

/* What happened to one row. */
struct batch_result {
    bool matched;        /* at least one candidate (SuccessCount), else ErrorCount */
    int candidates;      /* lines written */
    enum gc_level level; /* the first candidate's match level; GL_NONE when not matched */
    int asked;           /* indexes the geocoder asked (gc_result.asked; 0 for reverse) */
};

/*
 * Geocode one valid input row and append its output line(s): to out when matched or when
 * outputcombined=true; to nomatch (which may then be NULL) for an unmatched row when
 * outputcombined=false. Return 0 or a negative code (GB_ETOOLONG if a buffer limit is hit).
 */
int batch_row(const struct batch *b, struct batch_scratch *s, const struct csv_row *row,
              struct buf *out, struct buf *nomatch, struct batch_result *res);

/* Append the /errors line for an invalid input row: "Line Number:N <line>\n". */
int batch_error_line(const struct csv_row *row, struct buf *out);

/* ---- many rows at once (batch_rows.c) ---- */

/* Valid rows copied out of a reader (a reader's row lasts only until its next row), to be
 * geocoded together. Fields past the 256th are dropped (no HERE job has that many columns). */
struct batch_rowset;
struct batch_rowset *batch_rowset_new(void);
void batch_rowset_free(struct batch_rowset *s);
void batch_rowset_add(struct batch_rowset *s, const struct csv_row *row);
size_t batch_rowset_count(const struct batch_rowset *s);
void batch_rowset_clear(struct batch_rowset *s);

/*
 * One thread's lanes: the rows it geocodes interleaved (base/co.h), each with its own
 * batch_scratch, switching between them where one would wait for memory. In an index much
 * larger than the caches that overlaps the rows' cache misses (at 18.5 M addresses, 8 lanes
 * geocode structured rows 1.25x faster); in a small one it only costs. batch_lanes_new() of
 * lanes 0 chooses for an index of index_bytes: BATCH_LANES_AUTO from BATCH_LANES_MIN_INDEX
 * bytes, else 1. A batch_lanes of 1 (or where the machine has no stack switch) geocodes one
 * row after another.
 */
#define BATCH_LANES_AUTO      8
#define BATCH_LANES_MIN_INDEX ((uint64_t)256 << 20)
#define BATCH_LANES_MAX       16 /* CO_MAX */
/* --lanes of the commands that geocode rows (geocode, serve, work). */
#define BATCH_LANES_HELP                                                                           \
    "rows each thread geocodes interleaved, switching between them where one would wait for "      \
    "memory (default: 8 for an index of 256 MiB or more, else 1)"
struct batch_lanes;
struct batch_lanes *batch_lanes_new(size_t lanes, uint64_t index_bytes);
void batch_lanes_free(struct batch_lanes *l);

/*
 * Rows [from, to) of set through batch_row(), their lines appended to out and nomatch (as
 * batch_row() takes them) in row order: the same bytes as batch_row() row after row. res[k]
 * (and ns[k], the nanoseconds from the row's start to its end, unless ns is NULL) for row
 * from + k. Return 0 or the first error (the output is then incomplete).
 */
int batch_rows(const struct batch *b, struct batch_lanes *l, const struct batch_rowset *set,
               size_t from, size_t to, struct buf *out, struct buf *nomatch,
               struct batch_result *res, uint64_t *ns);

#endif
