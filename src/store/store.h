/*
 * store.h - the job store: job metadata, counters and chunk bookkeeping of `geobatch serve`.
 *
 * The interface knows nothing of the database behind it. store_open() picks a backend by the
 * scheme of a URL ("sqlite:DIR", "postgresql://..."); each backend fills the table of
 * operations of store_int.h (store_sqlite.c: SQLite in WAL mode; store_pg.c: PostgreSQL, for
 * several API nodes and workers on one store). Callers (api, worker, cmd_serve, cmd_work) only
 * see struct store and the functions below.
 *
 * Files. The SQLite store holds metadata only: a job's files live in its directory on the
 * one machine's disk (job/jobdir.h). A store that keeps files (store_keeps_files(): the
 * PostgreSQL store) holds the job's files too, by their names in the job directory
 * ("header.csv", "errors.txt", "in/<k>.csv", "out/<k>.out", "result.zip" ...): the upload's
 * files go in with the job (store_job_create_from), a chunk's output with the chunk's count
 * (store_chunk_done), the result files under the finalisation's claim (store_file_put); any
 * node copies one out into a local temporary file (store_file_get). Then a node's disk holds
 * only temporary files.
 *
 * Leases. In the SQLite store a claim lives as long as the process. In the PostgreSQL store a
 * claim is a lease: it ends by itself store_config's lease seconds after it was taken or last
 * renewed (store_task_renew), and another worker may then take the chunk; the late holder's
 * store_chunk_done, store_file_put and store_job_finish are refused (GB_ESTATE) because its
 * token is no longer the chunk's: fencing by claim token.
 *
 * Model. A job belongs to one application (app) and is visible only to it. Its valid input
 * rows are split into nchunks chunks at upload time; a worker claims one chunk at a time,
 * geocodes it, writes the chunk's output file durably and then calls store_chunk_done(),
 * which adds the chunk's counts to the job in the same transaction that marks it done. So the
 * counts always describe output that is on disk. When every chunk is done, one worker claims
 * the job's finalisation (assembling the result files) and calls store_job_finish().
 *
 * Claims. Every claim has a token (store_task.claim) that no other claim of this data
 * directory ever had, and only the holder of the current claim of a chunk or finalisation can
 * settle it: count the chunk (store_chunk_done), end the job (store_job_finish), fail it
 * (store_task_fail) or give the claim back (store_task_release). A claim is released only by
 * its holder, never by a change of the job's state: a failed job restarted while a worker still
 * geocodes one of its chunks gets that chunk back only when that worker is done with it, so
 * two workers never work on one chunk, and a failure of an earlier run cannot fail a later one
 * once its claim was settled. Claims live only as long as the process: store_open() releases
 * every claim, so chunks that were being processed at a crash are claimed and redone from
 * scratch at the next start. (A store with leases: see "Leases" above.)
 *
 * Threads: every function may be called from any thread at once; implementations serialise
 * internally. Each call is one transaction: a crash leaves the old state or the new one.
 */
#ifndef GEOBATCH_STORE_H
#define GEOBATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Job states of spec §5.3, in the order of the status values. */
enum job_state {
    JOB_SUBMITTED = 0,
    JOB_ACCEPTED,
    JOB_RUNNING,
    JOB_COMPLETED,
    JOB_CANCELLED,
    JOB_DELETED,
    JOB_FAILED,
    JOB__NSTATES
};

#define JOB_MASK(s) (1u << (s))

/* Return the status word of a state ("submitted", "cancelled", ...); "" for a bad value. */
const char *job_state_name(enum job_state s);

#define STORE_ID_LEN       32   /* a RequestId: exactly 32 characters [A-Za-z0-9] */
#define STORE_APP_MAX      64   /* bytes of an application identity */
#define STORE_PARAMS_MAX   4096 /* bytes of a job's encoded parameters */
#define STORE_INDEX_ID_MAX 64   /* bytes of an index identity (store_config) */

struct job_info {
    char id[STORE_ID_LEN + 1];
    char app[STORE_APP_MAX + 1]; /* the owning application */
    enum job_state state;
    int64_t created;                    /* unix seconds */
    int64_t started;                    /* first claim of a chunk (JobStarted); 0 before */
    int64_t finished;                   /* completed, cancelled or failed (JobFinished); 0 before */
    uint64_t total, valid, invalid;     /* from the upload; total = valid + invalid */
    uint64_t processed, success, error; /* sums over done chunks; processed = success + error */
    uint32_t nchunks, chunks_done;
    uint64_t out_lines, nom_lines; /* sums over done chunks: lines of out/<k>.out and .nom */
    uint64_t max_line, max_field, max_fields; /* the input limits the upload was checked with
                                               * (0: not recorded, a job of an older store) */
    char params[STORE_PARAMS_MAX + 1];        /* encoded job parameters (params_encode) */
    char index_id[STORE_INDEX_ID_MAX + 1];    /* the index its first claim was made with
                                               * (stores with leases; "" otherwise) */
};

/* What a worker claimed. */
enum store_task_kind { TASK_CHUNK, TASK_FINALIZE };
struct store_task {
    enum store_task_kind kind;
    char id[STORE_ID_LEN + 1];
    char app[STORE_APP_MAX + 1];
    uint32_t chunk; /* TASK_CHUNK: 0..nchunks-1 */
    int64_t claim;  /* this claim's token: > 0, never given to another claim of the store */
    int64_t run;    /* the job's run when claimed (one more at every start and restart) */
};

/* What a worker made of one chunk, counted by store_chunk_done(). */
struct store_chunk_result {
    uint64_t processed, success, error; /* rows; processed = success + error */
    uint64_t out_lines, nom_lines;      /* lines written to out/<k>.out and out/<k>.nom */
};

/* Counts for /metrics. */
struct store_stats {
    uint64_t jobs[JOB__NSTATES]; /* jobs per state */
    uint64_t pending_chunks;     /* chunks of accepted or running jobs not done yet */
    uint64_t pending_rows;       /* valid rows of accepted or running jobs not processed yet */
    uint64_t leased_chunks;      /* chunks held by a lease now (stores with leases) */
    uint64_t lease_expiries;     /* chunks taken over from an expired lease, ever */
};

/* How this process claims (stores with leases; the SQLite store ignores it). */
struct store_claim_config {
    const char *index_id; /* the identity of the index this process geocodes with: it takes
                           * only chunks of jobs that started on it (or have not started) */
    int lease_s;          /* seconds a claim lasts without a renewal (>= 1) */
};

/* Called by a store's listener when another process may have added work (store_listen). */
typedef void (*store_wake_fn)(void *ctx);

/* Called once per job by store_job_list() and store_jobs_expired(); non-zero stops. */
typedef int (*store_job_fn)(void *ctx, const struct job_info *job);

struct store;

/*
 * Open the job store named by url and release every claim left by a previous process. The
 * scheme chooses the backend (store.c's table): "sqlite:DIR" is the SQLite store at
 * DIR/jobs.db, created if needed. Return 0 and set *out, GB_EUSAGE for a url without a known
 * scheme, or another negative code; on failure err holds a message for humans.
 */
int store_open(struct store **out, const char *url, char *err, size_t errlen);

/* Close the store; NULL is fine. */
void store_close(struct store *st);

/*
 * Create or bring up to date the schema of the store named by url (`geobatch store migrate`).
 * The SQLite store migrates at every open; the PostgreSQL store only here, and store_open()
 * refuses a schema of another version. Return 0 or a negative code with a message in err.
 */
int store_migrate(const char *url, char *err, size_t errlen);

/* Set how this process claims (struct store_claim_config). Call before the first claim. */
void store_config(struct store *st, const struct store_claim_config *cfg);

/* True when the store keeps the jobs' files (see "Files" above). */
bool store_keeps_files(struct store *st);

/*
 * Call fn(ctx) from a thread of the store whenever another process may have added work (a
 * new or restarted job, a released claim), and once after every reconnection; until
 * store_close(). A store of one process (SQLite) never calls it: the process wakes its own
 * workers. fn NULL stops the calls (returns when no call is running). Return 0 or a negative
 * code.
 */
int store_listen(struct store *st, store_wake_fn fn, void *ctx);

/*
 * Insert a new job (id, app, state, created, counts, nchunks, params taken from job) with
 * nchunks unclaimed chunks. Return 0, or a negative code (-EEXIST for a duplicate id).
 */
int store_job_create(struct store *st, const struct job_info *job);

/*
 * store_job_create(), and when the store keeps files, the job's upload files from the job
 * directory dir (header.csv, errors.txt, in/<k>.csv for k < nchunks) in the same transaction:
 * either the job and all its files are stored or nothing is. Return as store_job_create().
 */
int store_job_create_from(struct store *st, const struct job_info *job, const char *dir);

/*
 * What a new job of an application must fit in (store_job_create_within); 0: no limit.
 */
struct store_app_limits {
    uint64_t max_active; /* the application's submitted, accepted and running jobs, before it */
    uint64_t max_bytes;  /* bytes of the application's stored files, the new job's included */
};

/*
 * store_job_create_from(), refused when the job does not fit in lim: a store shared by several
 * nodes (store_is_shared) counts the application's jobs and bytes in the transaction that
 * creates the job, under a lock of the application, so that nodes that create jobs at the same
 * instant cannot pass a limit together. A store of one node ignores lim (its one API node checks
 * the limits itself). Return as store_job_create_from(), or GB_ELIMIT (max_active reached) or
 * -EDQUOT (max_bytes passed; *used, when not NULL, set to the application's bytes without the
 * job), nothing stored.
 */
int store_job_create_within(struct store *st, const struct job_info *job, const char *dir,
                            const struct store_app_limits *lim, uint64_t *used);

/*
 * The bytes of app's stored files (a store that keeps files: a running total kept with the
 * files, no walk). Return 0 and set *out, GB_ENOTFOUND for a store that keeps no files, or a
 * negative code.
 */
int store_app_bytes(struct store *st, const char *app, uint64_t *out);

/* True when the store is shared by several nodes (PostgreSQL): rate limits live in it. */
bool store_is_shared(struct store *st);

/*
 * Take up to want tokens from app's token bucket in the store (rate tokens a second, at most
 * burst; one bucket for every node of the store, timed by the store's clock). One statement,
 * tried once: no retry on a lost connection. Return the tokens taken (0 when the bucket is
 * empty), GB_ENOTFOUND for a store that is not shared, or a negative code.
 */
int store_rate_take(struct store *st, const char *app, double rate, double burst, int want);

/*
 * Read a job. When app is not NULL, a job of another application is GB_ENOTFOUND exactly like
 * an unknown id. Return 0 and fill *out, or GB_ENOTFOUND.
 */
int store_job_get(struct store *st, const char *id, const char *app, struct job_info *out);

/*
 * Call fn for the jobs of app (newest first), skipping offset and at most limit of them;
 * set *total to the number of jobs of app. Return 0 or a negative code.
 */
int store_job_list(struct store *st, const char *app, uint64_t offset, uint32_t limit,
                   store_job_fn fn, void *ctx, uint64_t *total);

/*
 * Move job id (of app, or any app when NULL) to state to when its state is in from_mask.
 * Side effects by target: JOB_ACCEPTED clears finished (a failed job restarts with the chunks
 * that are not done; claims still held are left to their holders); JOB_CANCELLED and
 * JOB_FAILED set finished = now. Return 0 and
 * fill *out (may be NULL) with the job after the change; GB_ENOTFOUND; GB_ESTATE (and *out
 * filled with the unchanged job) when the state is not in from_mask.
 */
int store_job_transition(struct store *st, const char *id, const char *app, unsigned from_mask,
                         enum job_state to, int64_t now, struct job_info *out);

/* Count app's jobs that are submitted, accepted or running. Return 0 or a negative code. */
int store_job_count_active(struct store *st, const char *app, uint64_t *out);

/*
 * Claim the next piece of work, round-robin between applications: the first application
 * (in byte order) after after_app ("" to start at the first) that has an accepted or running
 * job with an unclaimed chunk, or with every chunk done and its finalisation unclaimed. Within
 * an application the oldest job goes first and its lowest unclaimed chunk. An accepted job
 * becomes running (started = now). Return 0 and fill *out, or GB_ENOTFOUND when there is no
 * work.
 */
int store_task_claim(struct store *st, const char *after_app, int64_t now, struct store_task *out);

/*
 * Give a claim back without doing it, when it is still task's. Return 0 (also when it was not
 * task's any more) or a negative code.
 */
int store_task_release(struct store *st, const struct store_task *task);

/*
 * Record that the task's claim failed: when the claim is still task's, release it and, when
 * the job is running the run the task was claimed in, make it JOB_FAILED (finished = now); a
 * failure of an earlier run only ends the claim. Return 0 when the claim was task's,
 * GB_ESTATE when it was not (settled already: nothing changed), GB_ENOTFOUND, or another
 * negative code (nothing changed: try again).
 */
int store_task_fail(struct store *st, const struct store_task *task, int64_t now);

/*
 * Record that the task's chunk is done and on disk, adding its counts to the job, when the
 * claim is still task's and the job running; the claim ends either way. Return 0; GB_ESTATE
 * when the claim was not task's or the job is not running (the job was cancelled, deleted or
 * failed meanwhile: the output is to be thrown away, the claim is released); GB_ENOTFOUND.
 */
int store_chunk_done(struct store *st, const struct store_task *task,
                     const struct store_chunk_result *r);

/*
 * store_chunk_done(), and when the store keeps files, the chunk's output files out_path (as
 * out/<k>.out) and nom_path (as out/<k>.nom; NULL: none) in the same transaction: counted
 * and stored, or neither. A store that keeps no files ignores the paths.
 */
int store_chunk_done_files(struct store *st, const struct store_task *task,
                           const struct store_chunk_result *r, const char *out_path,
                           const char *nom_path);

/*
 * End the running job of a TASK_FINALIZE claim that is still task's: to is JOB_COMPLETED (all
 * result files are on disk and verified) or JOB_FAILED; finished = now. Return 0, GB_ESTATE
 * when the job is no longer running or the claim not task's (nothing changed), or
 * GB_ENOTFOUND.
 */
int store_job_finish(struct store *st, const struct store_task *task, enum job_state to,
                     int64_t now);

/*
 * Renew task's lease (stores with leases; 0 at once otherwise). Return 0; GB_ESTATE when the
 * claim is not task's any more (expired and taken, or settled): stop working on it.
 */
int store_task_renew(struct store *st, const struct store_task *task);

/*
 * Copy the stored file name of job id into fd (from its current offset; on a retry after a
 * lost connection the file is truncated and written again). Return 0, GB_ENOTFOUND when the
 * store holds no such file (or does not keep files), or a negative code.
 */
int store_file_get(struct store *st, const char *id, const char *name, int fd);

/*
 * Store the file at path as name of the job of a TASK_FINALIZE claim, replacing one of that
 * name, when the claim is still task's and the job running. Return 0, GB_ESTATE (nothing
 * stored) or a negative code. A store that does not keep files returns 0.
 */
int store_file_put(struct store *st, const struct store_task *task, const char *name,
                   const char *path);

/* Fill *out with counts for /metrics. Return 0 or a negative code. */
int store_stats(struct store *st, struct store_stats *out);

/*
 * Call fn for every job in a final state (completed, cancelled, deleted, failed) that finished
 * (or, without a finish time, was created) before the unix time before. Return 0 or a negative
 * code.
 */
int store_jobs_expired(struct store *st, int64_t before, store_job_fn fn, void *ctx);

/* Remove a job and its chunks from the store for good. Return 0 or GB_ENOTFOUND. */
int store_job_purge(struct store *st, const char *id);

#endif
