/*
 * worker.h - the worker threads of `geobatch serve`, and the on-disk layout of a job that
 * they share with the API.
 *
 * A job lives in <data>/jobs/<id>/ (mode 0700, files 0600):
 *   header.csv        the input header line
 *   in/<k>.csv        chunk k of the valid input rows, each file headed by the header line
 *   errors.txt        the /errors text: "Line Number:N <line>" per invalid input line
 *   out/<k>.out       chunk k's output (and out/<k>.nom, its no-match rows with
 *                     outputcombined=false), written to a temp name, fsynced, renamed
 *   result.txt, nomatch.txt, report.txt, result.zip, nomatch.zip, all.zip
 *                     written when the job completes; in/ and out/ are then removed
 *
 * Threads: worker_pool_start() and worker_pool_stop() from the main thread; worker_pool_kick()
 * and worker_rows_processed() from any thread. The helpers below are reentrant.
 */
#ifndef GEOBATCH_WORKER_H
#define GEOBATCH_WORKER_H

#include "base/buf.h"
#include "base/csv.h"
#include "job/params.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index;

#define WORKER_CHUNK_ROWS_DEFAULT 10000
#define JOB_RESULT_VERSION        "6.2"

/* Return true when s[0..len-1] is a RequestId: exactly 32 characters [A-Za-z0-9]. */
bool job_id_valid(const char *s, size_t len);

/*
 * Write "<data>/jobs/<id>" (file NULL) or "<data>/jobs/<id>/<file>" to out. The id is checked
 * with job_id_valid() first: no path is ever built from an unchecked id. Return 0, GB_EPARAM
 * for a bad id, GB_ETOOLONG when it does not fit in cap.
 */
int job_path(char *out, size_t cap, const char *data, const char *id, const char *file);

/* Remove a job's directory and everything in it. Return 0 (also when it is gone) or -errno. */
int job_dir_remove(const char *data, const char *id);

/*
 * The name of a result file as HERE gives it: "result_<yyyyMMdd>-<hh>-<mm>_6.2_<suffix>"
 * with the UTC finish time (hh is the 12-hour clock, as in real HERE output).
 */
void job_result_name(char *out, size_t cap, int64_t finished, const char *suffix);

/* Append name=value (both percent-encoded, '&' between pairs) to the encoded parameters. */
int job_params_encode(struct buf *out, const char *name, const char *value);

/*
 * Apply encoded parameters to p (after params_init) with params_set(). Return 0, or GB_EPARAM
 * with a message in err.
 */
int job_params_decode(const char *text, struct job_params *p, char *err, size_t errlen);

/* Write all of buf to fd (retrying short writes and EINTR). Return 0 or -errno. */
int job_write_all(int fd, const void *data, size_t len);

/* fsync the directory at path. Return 0 or -errno. */
int job_fsync_dir(const char *path);

struct worker_config {
    struct store *store;
    const struct index *index;
    const char *data_dir;
    int nthreads;               /* >= 1 */
    uint32_t chunk_rows;        /* rows per chunk (the API splits uploads by it) */
    struct csv_limits limits;   /* the limits the upload was validated with */
    const char *notify_command; /* run as "<cmd> <job id> <mailto>" on completion, or NULL */
};

struct worker_pool;

/* Start cfg->nthreads workers. Return 0 and set *out, or a negative code. */
int worker_pool_start(struct worker_pool **out, const struct worker_config *cfg);

/* Wake the workers: there may be new work in the store. Cheap; call after every commit. */
void worker_pool_kick(struct worker_pool *p);

/*
 * Stop: every worker finishes the chunk it is working on, then exits; join them and free the
 * pool. NULL is fine.
 */
void worker_pool_stop(struct worker_pool *p);

/* Rows geocoded since start, and the number of workers busy right now (for /metrics). */
uint64_t worker_rows_processed(struct worker_pool *p);
int worker_busy(struct worker_pool *p);

#endif
