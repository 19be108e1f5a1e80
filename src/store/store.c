/*
 * store.c - what every job store backend shares: the names of the job states, the backend
 * table that store_open() looks a URL's scheme up in (as SQLite finds a VFS by name), and the
 * public functions of store.h, which dispatch to the backend's operations (store_int.h).
 *
 * A new backend is one file with an open function and one row in the table below.
 *
 * Threads: the table is constant; every function may be called from any thread, as the
 * backends serialise themselves.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[JOB__NSTATES] = {
    "submitted", "accepted", "running", "completed", "cancelled", "deleted", "failed",
};

const char *job_state_name(enum job_state s)
{
    return (unsigned)s < JOB__NSTATES ? state_names[s] : "";
}

static const struct store_backend backends[] = {
    {"sqlite:", false, store_sqlite_open, NULL},
    {"postgresql://", true, store_pg_open, store_pg_migrate},
    {"postgres://", true, store_pg_open, store_pg_migrate},
};

/* The backend of url and the location it gets, or NULL with a message in err. */
static const struct store_backend *find_backend(const char *url, const char **location, char *err,
                                                size_t errlen)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        size_t n = strlen(backends[i].scheme);
        if (strncmp(url, backends[i].scheme, n) == 0) {
            *location = backends[i].whole_url ? url : url + n;
            return &backends[i];
        }
    }
    snprintf(err, errlen, "unknown job store '%s' (expected sqlite:DIR or postgresql://...)", url);
    return NULL;
}

int store_open(struct store **out, const char *url, char *err, size_t errlen)
{
    const char *loc;
    const struct store_backend *b = find_backend(url, &loc, err, errlen);
    return b ? b->open(out, loc, err, errlen) : GB_EUSAGE;
}

int store_migrate(const char *url, char *err, size_t errlen)
{
    const char *loc;
    const struct store_backend *b = find_backend(url, &loc, err, errlen);
    if (!b)
        return GB_EUSAGE;
    if (b->migrate)
        return b->migrate(loc, err, errlen);
    struct store *st = NULL;
    int rc = b->open(&st, loc, err, errlen);
    store_close(st);
    return rc;
}

void store_config(struct store *st, const struct store_claim_config *cfg)
{
    if (st->ops->config)
        st->ops->config(st, cfg);
}

bool store_keeps_files(struct store *st)
{
    return st->ops->file_get != NULL;
}

int store_listen(struct store *st, store_wake_fn fn, void *ctx)
{
    return st->ops->listen ? st->ops->listen(st, fn, ctx) : 0;
}

int store_job_create_from(struct store *st, const struct job_info *job, const char *dir)
{
    return store_job_create_within(st, job, dir, NULL, NULL);
}

int store_job_create_within(struct store *st, const struct job_info *job, const char *dir,
                            const struct store_app_limits *lim, uint64_t *used)
{
    return st->ops->job_create_from ? st->ops->job_create_from(st, job, dir, lim, used)
                                    : st->ops->job_create(st, job);
}

int store_app_bytes(struct store *st, const char *app, uint64_t *out)
{
    return st->ops->app_bytes ? st->ops->app_bytes(st, app, out) : GB_ENOTFOUND;
}

bool store_is_shared(struct store *st)
{
    return st->ops->rate_take != NULL;
}

int store_rate_take(struct store *st, const char *app, double rate, double burst, int want)
{
    return st->ops->rate_take ? st->ops->rate_take(st, app, rate, burst, want) : GB_ENOTFOUND;
}

int store_task_renew(struct store *st, const struct store_task *task)
{
    return st->ops->task_renew ? st->ops->task_renew(st, task) : 0;
}

int store_file_get(struct store *st, const char *id, const char *name, int fd)
{
    return st->ops->file_get ? st->ops->file_get(st, id, name, fd) : GB_ENOTFOUND;
}

int store_file_put(struct store *st, const struct store_task *task, const char *name,
                   const char *path)
{
    return st->ops->file_put ? st->ops->file_put(st, task, name, path) : 0;
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

int store_job_create(struct store *st, const struct job_info *job)
{
    return st->ops->job_create(st, job);
}

int store_job_get(struct store *st, const char *id, const char *app, struct job_info *out)
{
    return st->ops->job_get(st, id, app, out);
}

int store_job_list(struct store *st, const char *app, uint64_t offset, uint32_t limit,
                   store_job_fn fn, void *ctx, uint64_t *total)
{
    return st->ops->job_list(st, app, offset, limit, fn, ctx, total);
}

int store_job_transition(struct store *st, const char *id, const char *app, unsigned from_mask,
                         enum job_state to, int64_t now, struct job_info *out)
{
    return st->ops->job_transition(st, id, app, from_mask, to, now, out);
}

int store_job_count_active(struct store *st, const char *app, uint64_t *out)
{
    return st->ops->job_count_active(st, app, out);
}

int store_task_claim(struct store *st, const char *after_app, int64_t now, struct store_task *out)
{
    return st->ops->task_claim(st, after_app, now, out);
}

int store_task_release(struct store *st, const struct store_task *task)
{
    return st->ops->task_release(st, task);
}

int store_task_fail(struct store *st, const struct store_task *task, int64_t now)
{
    return st->ops->task_fail(st, task, now);
}

int store_chunk_done(struct store *st, const struct store_task *task,
                     const struct store_chunk_result *r)
{
    return st->ops->chunk_done(st, task, r, NULL, NULL);
}

int store_chunk_done_files(struct store *st, const struct store_task *task,
                           const struct store_chunk_result *r, const char *out_path,
                           const char *nom_path)
{
    return st->ops->chunk_done(st, task, r, out_path, nom_path);
}

int store_job_finish(struct store *st, const struct store_task *task, enum job_state to,
                     int64_t now)
{
    return st->ops->job_finish(st, task, to, now);
}

int store_stats(struct store *st, struct store_stats *out)
{
    return st->ops->stats(st, out);
}

int store_jobs_expired(struct store *st, int64_t before, store_job_fn fn, void *ctx)
{
    return st->ops->jobs_expired(st, before, fn, ctx);
}

int store_job_purge(struct store *st, const char *id)
{
    return st->ops->job_purge(st, id);
}
