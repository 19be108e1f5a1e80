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

#endif
