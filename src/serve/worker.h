/*
 * worker.h - the worker threads of `geobatch serve`: they claim chunks of accepted jobs from the
 * store, geocode them into the job's directory (job/jobdir.h gives its layout), and assemble
 * the result files when the last chunk is done.
 *
 * Threads: worker_pool_start() and worker_pool_stop() from the main thread; worker_pool_kick()
 * and worker_rows_processed() from any thread.
 */
#ifndef GEOBATCH_WORKER_H
#define GEOBATCH_WORKER_H

#include "base/csv.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index;
struct gc_set;

#define WORKER_CHUNK_ROWS_DEFAULT 10000

struct worker_config {
    struct store *store;
    const struct index *index;
    const struct gc_set *set; /* several indexes as one (geocode_set.h), or NULL: index */
    const char *data_dir;
    int nthreads;               /* >= 1 */
    int lanes;                  /* rows a worker geocodes interleaved (batch_lanes), 1 to
                                   CO_MAX; 0: chosen by the index's size (batch_lanes_new) */
    uint32_t chunk_rows;        /* rows per chunk (the API splits uploads by it) */
    struct csv_limits limits;   /* the limits the upload was validated with */
    const char *notify_command; /* run as "<cmd> <job id> <mailto>" on completion, or NULL */
    uint32_t keep_failed_hours; /* 0: a job's chunk files are removed as soon as it fails (the
                                   API then never restarts it); else cmd_serve's sweep does */
    int lease_s; /* a store with leases (store_config): renew every third of it, look for
                  * expired ones at least this often, and wake on store_listen; 0: none */
};

struct worker_pool;

/* Start cfg->nthreads workers. Return 0 and set *out, or a negative code. */
int worker_pool_start(struct worker_pool **out, const struct worker_config *cfg);

/* Wake the workers: there may be new work in the store. Cheap; call after every commit.
 * NULL (no workers in this process) is fine. */
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
