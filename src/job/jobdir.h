/*
 * jobdir.h - the on-disk layout of a job: every path under the data directory that the API,
 * the workers and `geobatch serve` build, the result file names clients see, and the intake
 * writer that fills a job's directory from an upload. One module, so that no path is ever put
 * together anywhere else and no unchecked id ever becomes part of one.
 *
 * <data>/lock is held by the one server that uses the directory (jobdir_lock).
 * A job lives in <data>/jobs/<id>/ (mode 0700, files 0600):
 *   header.csv        the input header line
 *   in/<k>.csv        chunk k of the valid input rows, each file headed by the header line
 *   errors.txt        the /errors text: "Line Number:N <line>" per invalid input line
 *   out/<k>.out       chunk k's output (and out/<k>.nom, its no-match rows with
 *                     outputcombined=false), written to a temp name unique to the worker's
 *                     claim (out/<k>.out.<claim>.tmp), fsynced, renamed
 *   result.txt, nomatch.txt, report.txt, result.zip, nomatch.zip, all.zip
 *                     written when the job completes; in/ and out/ are then removed
 * An upload is written to <data>/tmp/<id>/ (header.csv, errors.txt, in/, an empty out/) and
 * renamed into jobs/ only when it is complete and durable.
 *
 * Every function that builds a path checks the id with jobdir_id_valid() first and returns
 * GB_EPARAM for a bad one, and GB_ETOOLONG (never a cut path) when the result does not fit.
 *
 * Threads: everything is reentrant; one struct jobdir_intake is used by one thread at a time.
 */
#ifndef GEOBATCH_JOBDIR_H
#define GEOBATCH_JOBDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_RESULT_VERSION "6.2"

/* Folders of the data directory. */
#define JOBDIR_JOBS "jobs"
#define JOBDIR_TMP  "tmp"

/* Files of a job directory. */
#define JOBDIR_HEADER      "header.csv"
#define JOBDIR_ERRORS      "errors.txt"
#define JOBDIR_OUT         "out"
#define JOBDIR_RESULT      "result.txt"
#define JOBDIR_NOMATCH     "nomatch.txt"
#define JOBDIR_REPORT      "report.txt"
#define JOBDIR_RESULT_ZIP  "result.zip"
#define JOBDIR_NOMATCH_ZIP "nomatch.zip"
#define JOBDIR_ALL_ZIP     "all.zip"

/* The lock file of a data directory (jobdir_lock). */
#define JOBDIR_LOCK "lock"

/*
 * Lock the data directory for this process: an exclusive lock (flock) on <data>/lock, created
 * if needed, which holds the locker's pid. The lock lasts until the descriptor is closed or the
 * process ends in any way (kill -9 included), so a crash never leaves a stale lock. On success
 * return 0 and set *fd (close-on-exec); -EWOULDBLOCK when another process holds it, its pid
 * in *holder (0 if unknown); or -errno.
 */
int jobdir_lock(const char *data, int *fd, long *holder);

/* Return true when s[0..len-1] is a RequestId: exactly 32 characters [A-Za-z0-9]. */
bool jobdir_id_valid(const char *s, size_t len);

/* Write "<data>/jobs/<id>" (file NULL) or "<data>/jobs/<id>/<file>" to out. Return 0,
 * GB_EPARAM for a bad id, GB_ETOOLONG when it does not fit in cap. */
int jobdir_path(char *out, size_t cap, const char *data, const char *id, const char *file);

/* The same under <data>/tmp/: the directory of an upload in progress. */
int jobdir_tmp_path(char *out, size_t cap, const char *data, const char *id, const char *file);

/* The per-chunk files: the input in/<k>.csv, the output out/<k>.out, the no-matches out/<k>.nom. */
enum jobdir_chunk_file { JOBDIR_CHUNK_IN, JOBDIR_CHUNK_OUT, JOBDIR_CHUNK_NOM };

/* Write the path of chunk k's file in <data>/jobs/<id>/ to out. Return as jobdir_path(). */
int jobdir_chunk_path(char *out, size_t cap, const char *data, const char *id, uint32_t k,
                      enum jobdir_chunk_file which);

/* Remove a job's directory and everything in it. Return 0 (also when it is gone) or -errno. */
int jobdir_remove(const char *data, const char *id);

/*
 * The bytes of the regular files of job id: <data>/jobs/<id>/ (jobdir_usage) or the upload in
 * progress <data>/tmp/<id>/ (jobdir_tmp_usage), subdirectories in/ and out/ included; 0 when
 * there is no such directory. What an application's disk quota counts. Return 0 and set *bytes,
 * GB_EPARAM for a bad id, or -errno.
 */
int jobdir_usage(const char *data, const char *id, uint64_t *bytes);
int jobdir_tmp_usage(const char *data, const char *id, uint64_t *bytes);

/* Remove the chunk files of a job that will not run again (completed, cancelled, failed for
 * good): in/ and out/ with everything in them. */
void jobdir_remove_chunks(const char *data, const char *id);

/*
 * Remove an upload's directory <data>/tmp/<id>/: header, errors, in/<k>.csv (every k below
 * nchunks, and on until one is missing), in/, out/. Return 0 when the directory itself was
 * removed, or a negative code (-ENOENT when there was none).
 */
int jobdir_tmp_remove(const char *data, const char *id, uint32_t nchunks);

/*
 * The name of a result file as HERE gives it: "result_<yyyyMMdd>-<hh>-<mm>_6.2_<suffix>"
 * with the UTC finish time (hh is the 12-hour clock, as in real HERE output).
 */
void jobdir_result_name(char *out, size_t cap, int64_t finished, const char *suffix);

/* ---- the intake writer: an upload into <data>/tmp/<id>/, then into jobs/ ---- */

struct jobdir_intake;

/*
 * Create <data>/tmp/<id>/ with in/ and out/ for an upload cut into chunks of chunk_rows valid
 * rows. Return 0 and set *out, or a negative code (-errno) and leave nothing behind.
 */
int jobdir_intake_open(struct jobdir_intake **out, const char *data, const char *id,
                       uint32_t chunk_rows);

/* Write header.csv (the header line as received, len bytes at raw) durably, keep it for the
 * chunk files, and open errors.txt. Return 0 or -errno. */
int jobdir_intake_header(struct jobdir_intake *w, const char *raw, size_t len);

/* Append len bytes of /errors text to errors.txt. Return 0 or -errno. */
int jobdir_intake_error(struct jobdir_intake *w, const char *text, size_t len);

/*
 * Append a valid input line as received (without its line end) to the current chunk; every
 * chunk_rows rows a new in/<k>.csv is started with the header line. A line is terminated so
 * that reading it again gives the same fields. Return 0 or -errno.
 */
int jobdir_intake_row(struct jobdir_intake *w, const char *raw, size_t len);

/* The number of chunk files started. */
uint32_t jobdir_intake_chunks(const struct jobdir_intake *w);

/* Flush, fsync and close the chunk and errors files. Return 0 or the first -errno. */
int jobdir_intake_close(struct jobdir_intake *w);

/*
 * Make the upload durable (fsync in/ and the directory), rename it to <data>/jobs/<id>/ and
 * fsync jobs/. From then on the directory is the job's (jobdir_remove). Return 0, or a
 * negative code with nothing left in jobs/.
 */
int jobdir_intake_commit(struct jobdir_intake *w);

/* Close the files, remove <data>/tmp/<id>/ unless it was committed, and free. NULL is fine. */
void jobdir_intake_free(struct jobdir_intake *w);

#endif
