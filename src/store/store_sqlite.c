/*
 * store_sqlite.c - the job store (store.h) on SQLite: the backend of "sqlite:DIR" URLs
 * (store_int.h).
 *
 * DESIGN. One database <data>/jobs.db in WAL mode with synchronous=FULL, so that a job
 * acknowledged to a client and a chunk recorded as done survive a power cut. Two tables:
 * jobs (one row per job, counters included) and chunks (one row per chunk: claimed, done).
 * Every operation is one transaction on one connection that a mutex guards: the store is
 * small and the statements are short, so serialising them costs less than it would to reason
 * about several connections and SQLITE_BUSY. Claims are in-process state kept in the tables
 * (chunks.claimed, jobs.fin_claimed: 0 or the claim's token): store_sqlite_open() clears them,
 * so work interrupted by a crash is claimed again. A token is the store's epoch (meta 'epoch',
 * one more at every open) times 2^32 plus a counter, so no two claims of one data directory
 * ever share one.
 *
 * Threads: any thread may call any operation; the mutex serialises them.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/mem.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_sqlite {
    struct store base; /* must be first */
    sqlite3 *db;
    pthread_mutex_t mu;
    int64_t epoch;   /* this open's number, the high half of every claim token */
    uint32_t claims; /* claims made since the open, the low half (under mu) */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id TEXT PRIMARY KEY, app TEXT NOT NULL, state INTEGER NOT NULL,"
    " created INTEGER NOT NULL, started INTEGER NOT NULL DEFAULT 0,"
    " finished INTEGER NOT NULL DEFAULT 0,"
    " total INTEGER NOT NULL DEFAULT 0, valid INTEGER NOT NULL DEFAULT 0,"
    " invalid INTEGER NOT NULL DEFAULT 0, processed INTEGER NOT NULL DEFAULT 0,"
    " success INTEGER NOT NULL DEFAULT 0, error INTEGER NOT NULL DEFAULT 0,"
    " nchunks INTEGER NOT NULL DEFAULT 0, chunks_done INTEGER NOT NULL DEFAULT 0,"
    " fin_claimed INTEGER NOT NULL DEFAULT 0, params TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS jobs_app ON jobs(app, created);"
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);"
    "CREATE TABLE IF NOT EXISTS chunks ("
    " job TEXT NOT NULL, k INTEGER NOT NULL, claimed INTEGER NOT NULL DEFAULT 0,"
    " done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(job, k)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";

/*
 * A job that has work for a worker: accepted or running, with a chunk neither claimed nor done
 * (free_chunks counts them) or every chunk done and the finalisation unclaimed. The claim
 * query and the partial index jobs_ready use this very text, so that SQLite finds the next
 * job through the index in O(log n) instead of scanning the queue.
 */
#define READY "state IN (1, 2) AND (free_chunks > 0 OR (chunks_done = nchunks AND fin_claimed = 0))"

/* Schema 2: per-job line counts (the result is verified against them), input limits, the run
 * number (one more at every start or restart: a failure of an earlier run is dropped), and
 * the free chunk count with the indexes that make a claim O(log n). */
static const char schema_2[] =
    "ALTER TABLE jobs ADD COLUMN out_lines INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN nom_lines INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN max_line INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN max_field INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN max_fields INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN run INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN free_chunks INTEGER NOT NULL DEFAULT 0;"
    "UPDATE jobs SET free_chunks = (SELECT count(*) FROM chunks WHERE job = jobs.id AND"
    " claimed = 0 AND done = 0);"
    "CREATE INDEX jobs_ready ON jobs(app, created) WHERE " READY ";"
    "CREATE INDEX chunks_free ON chunks(job, k) WHERE claimed = 0 AND done = 0;"
    "UPDATE meta SET value = '2' WHERE key = 'schema';";

#define JOB_COLS                                                                                   \
    "id, app, state, created, started, finished, total, valid, invalid, processed, success,"       \
    " error, nchunks, chunks_done, params, out_lines, nom_lines, max_line, max_field, max_fields"

static struct store_sqlite *ss(struct store *st)
{
    return (struct store_sqlite *)st;
}

static int db_err(sqlite3 *db, int rc)
{
    (void)db;
    if (rc == SQLITE_CONSTRAINT)
        return -EEXIST;
    if (rc == SQLITE_NOMEM)
        return -ENOMEM;
    if (rc == SQLITE_FULL)
        return -ENOSPC;
    return -EIO;
}

static void copy_text(char *dst, size_t cap, const unsigned char *s)
{
    snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

static void row_to_job(sqlite3_stmt *q, struct job_info *j)
{
    memset(j, 0, sizeof(*j));
    copy_text(j->id, sizeof(j->id), sqlite3_column_text(q, 0));
    copy_text(j->app, sizeof(j->app), sqlite3_column_text(q, 1));
    j->state = (enum job_state)sqlite3_column_int(q, 2);
    j->created = sqlite3_column_int64(q, 3);
    j->started = sqlite3_column_int64(q, 4);
    j->finished = sqlite3_column_int64(q, 5);
    j->total = (uint64_t)sqlite3_column_int64(q, 6);
    j->valid = (uint64_t)sqlite3_column_int64(q, 7);
    j->invalid = (uint64_t)sqlite3_column_int64(q, 8);
    j->processed = (uint64_t)sqlite3_column_int64(q, 9);
    j->success = (uint64_t)sqlite3_column_int64(q, 10);
    j->error = (uint64_t)sqlite3_column_int64(q, 11);
    j->nchunks = (uint32_t)sqlite3_column_int64(q, 12);
    j->chunks_done = (uint32_t)sqlite3_column_int64(q, 13);
    copy_text(j->params, sizeof(j->params), sqlite3_column_text(q, 14));
    j->out_lines = (uint64_t)sqlite3_column_int64(q, 15);
    j->nom_lines = (uint64_t)sqlite3_column_int64(q, 16);
    j->max_line = (uint64_t)sqlite3_column_int64(q, 17);
    j->max_field = (uint64_t)sqlite3_column_int64(q, 18);
    j->max_fields = (uint64_t)sqlite3_column_int64(q, 19);
}

/* Prepare one statement. */
static int prep(sqlite3 *db, sqlite3_stmt **q, const char *sql)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, q, NULL);
    return rc == SQLITE_OK ? 0 : db_err(db, rc);
}

static int exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_err(db, rc);
}

static int begin(struct store_sqlite *s)
{
    return exec(s->db, "BEGIN IMMEDIATE");
}

static int finish_tx(struct store_sqlite *s, int rc)
{
    if (rc < 0) {
        exec(s->db, "ROLLBACK");
        return rc;
    }
    int c = exec(s->db, "COMMIT");
    if (c < 0)
        exec(s->db, "ROLLBACK");
    return c;
}

/* Read job id (restricted to app when not NULL) inside the current lock. */
static int get_locked(struct store_sqlite *s, const char *id, const char *app, struct job_info *out)
{
    sqlite3_stmt *q = NULL;
    int rc = prep(s->db, &q,
                  app ? "SELECT " JOB_COLS " FROM jobs WHERE id = ?1 AND app = ?2"
                      : "SELECT " JOB_COLS " FROM jobs WHERE id = ?1");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (app)
        sqlite3_bind_text(q, 2, app, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        row_to_job(q, out);
        rc = 0;
    } else if (step == SQLITE_DONE)
        rc = GB_ENOTFOUND;
    else
        rc = db_err(s->db, step);
    sqlite3_finalize(q);
    return rc;
}

/*
 * Run one statement whose parameters are ?1, ?2 (text; NULL binds SQL NULL) and ?3..?5
 * (integers), binding as many as it has. Return sqlite3_changes() or a negative code.
 */
static int run(struct store_sqlite *s, const char *sql, const char *t1, const char *t2, int64_t i3,
               int64_t i4, int64_t i5)
{
    sqlite3_stmt *q = NULL;
    int rc = prep(s->db, &q, sql);
    if (rc < 0)
        return rc;
    int n = sqlite3_bind_parameter_count(q);
    if (n >= 1)
        sqlite3_bind_text(q, 1, t1, -1, SQLITE_STATIC);
    if (n >= 2)
        sqlite3_bind_text(q, 2, t2, -1, SQLITE_STATIC);
    if (n >= 3)
        sqlite3_bind_int64(q, 3, i3);
    if (n >= 4)
        sqlite3_bind_int64(q, 4, i4);
    if (n >= 5)
        sqlite3_bind_int64(q, 5, i5);
    int step = sqlite3_step(q);
    rc = step == SQLITE_DONE || step == SQLITE_ROW ? sqlite3_changes(s->db) : db_err(s->db, step);
    sqlite3_finalize(q);
    return rc;
}

static void op_close(struct store *st)
{
    struct store_sqlite *s = ss(st);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int op_job_create(struct store *st, const struct job_info *j)
{
    struct store_sqlite *s = ss(st);
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc < 0)
        goto out;
    sqlite3_stmt *q = NULL;
    rc = prep(s->db, &q,
              "INSERT INTO jobs (id, app, state, created, total, valid, invalid, nchunks, params,"
              " max_line, max_field, max_fields, free_chunks)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?8)");
    if (rc == 0) {
        sqlite3_bind_text(q, 1, j->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, j->app, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, (int)j->state);
        sqlite3_bind_int64(q, 4, j->created);
        sqlite3_bind_int64(q, 5, (int64_t)j->total);
        sqlite3_bind_int64(q, 6, (int64_t)j->valid);
        sqlite3_bind_int64(q, 7, (int64_t)j->invalid);
        sqlite3_bind_int64(q, 8, j->nchunks);
        sqlite3_bind_text(q, 9, j->params, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 10, (int64_t)j->max_line);
        sqlite3_bind_int64(q, 11, (int64_t)j->max_field);
        sqlite3_bind_int64(q, 12, (int64_t)j->max_fields);
        int step = sqlite3_step(q);
        if (step != SQLITE_DONE)
            rc = db_err(s->db, step);
        sqlite3_finalize(q);
    }
    if (rc == 0 && j->nchunks > 0) {
        /* Insert the chunk rows in one statement with a recursive counter. */
        sqlite3_stmt *c = NULL;
        rc = prep(s->db, &c,
                  "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < ?2)"
                  " INSERT OR REPLACE INTO chunks (job, k) SELECT ?1, k FROM n");
        if (rc == 0) {
            sqlite3_bind_text(c, 1, j->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(c, 2, j->nchunks);
            int step = sqlite3_step(c);
            if (step != SQLITE_DONE)
                rc = db_err(s->db, step);
            sqlite3_finalize(c);
        }
    }
    rc = finish_tx(s, rc);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int op_job_get(struct store *st, const char *id, const char *app, struct job_info *out)
{
    struct store_sqlite *s = ss(st);
    struct job_info j;
    pthread_mutex_lock(&s->mu);
    int rc = get_locked(s, id, app, &j);
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        *out = j;
    return rc;
}

static int op_job_list(struct store *st, const char *app, uint64_t offset, uint32_t limit,
                       store_job_fn fn, void *ctx, uint64_t *total)
{
    struct store_sqlite *s = ss(st);
    sqlite3_stmt *q = NULL;
    uint64_t n = 0;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &q, "SELECT count(*) FROM jobs WHERE app = ?1");
    if (rc < 0)
        goto out;
    sqlite3_bind_text(q, 1, app, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    rc = prep(s->db, &q,
              "SELECT " JOB_COLS " FROM jobs WHERE app = ?1 ORDER BY created DESC, rowid DESC"
              " LIMIT ?2 OFFSET ?3");
    if (rc < 0)
        goto out;
    sqlite3_bind_text(q, 1, app, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, limit);
    sqlite3_bind_int64(q, 3, (int64_t)offset);
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct job_info j;
        row_to_job(q, &j);
        if (fn(ctx, &j))
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_err(s->db, step);
    sqlite3_finalize(q);
out:
    pthread_mutex_unlock(&s->mu);
    if (rc == 0 && total)
        *total = n;
    return rc;
}

static int op_job_transition(struct store *st, const char *id, const char *app, unsigned from_mask,
                             enum job_state to, int64_t now, struct job_info *out)
{
    struct store_sqlite *s = ss(st);
    struct job_info j;
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc < 0)
        goto out;
    rc = get_locked(s, id, app, &j);
    if (rc < 0)
        goto tx;
    if (!(from_mask & JOB_MASK(j.state))) {
        rc = GB_ESTATE;
        goto tx;
    }
    if (to == JOB_ACCEPTED) {
        /* Claims stay with their holders: a chunk in flight is handed out again only after its
         * worker settled it (store.h, "Claims"). */
        rc = run(s, "UPDATE jobs SET finished = 0, run = run + 1 WHERE id = ?1", id, NULL, 0, 0, 0);
        j.finished = 0;
    } else if (to == JOB_CANCELLED || to == JOB_FAILED) {
        rc = run(s, "UPDATE jobs SET finished = ?3 WHERE id = ?1 AND ?2 IS NULL", id, NULL, now, 0,
                 0);
        j.finished = now;
    }
    if (rc >= 0)
        rc = run(s, "UPDATE jobs SET state = ?3 WHERE id = ?1 AND ?2 IS NULL", id, NULL, to, 0, 0);
    if (rc >= 0) {
        rc = 0;
        j.state = to;
    }
tx:
    if (rc == GB_ESTATE) {
        finish_tx(s, -1);
    } else
        rc = finish_tx(s, rc);
out:
    pthread_mutex_unlock(&s->mu);
    if ((rc == 0 || rc == GB_ESTATE) && out)
        *out = j;
    return rc;
}

static int op_job_count_active(struct store *st, const char *app, uint64_t *out)
{
    struct store_sqlite *s = ss(st);
    sqlite3_stmt *q = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &q, "SELECT count(*) FROM jobs WHERE app = ?1 AND state IN (0, 1, 2)");
    if (rc == 0) {
        sqlite3_bind_text(q, 1, app, -1, SQLITE_STATIC);
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW)
            *out = (uint64_t)sqlite3_column_int64(q, 0);
        else
            rc = db_err(s->db, step);
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int op_task_claim(struct store *st, const char *after_app, int64_t now,
                         struct store_task *out)
{
    struct store_sqlite *s = ss(st);
    struct store_task t;
    memset(&t, 0, sizeof(t));
    sqlite3_stmt *q = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc < 0)
        goto out;
    /* The first ready job of the first application after after_app, else of the first one:
     * each an O(log n) walk of jobs_ready. */
    int state = 0;
    for (int pass = 0; pass < 2 && rc == 0 && !t.id[0]; pass++) {
        rc = prep(s->db, &q,
                  pass == 0 ? "SELECT id, app, state, run, free_chunks FROM jobs INDEXED BY "
                              "jobs_ready WHERE " READY
                              " AND app > ?1 ORDER BY app, created, rowid LIMIT 1"
                            : "SELECT id, app, state, run, free_chunks FROM jobs INDEXED BY "
                              "jobs_ready WHERE " READY " ORDER BY app, created, rowid LIMIT 1");
        if (rc < 0)
            break;
        if (pass == 0)
            sqlite3_bind_text(q, 1, after_app ? after_app : "", -1, SQLITE_STATIC);
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW) {
            copy_text(t.id, sizeof(t.id), sqlite3_column_text(q, 0));
            copy_text(t.app, sizeof(t.app), sqlite3_column_text(q, 1));
            state = sqlite3_column_int(q, 2);
            t.run = sqlite3_column_int64(q, 3);
            t.kind = sqlite3_column_int64(q, 4) > 0 ? TASK_CHUNK : TASK_FINALIZE;
        } else if (step != SQLITE_DONE)
            rc = db_err(s->db, step);
        sqlite3_finalize(q);
        q = NULL;
    }
    if (rc == 0 && !t.id[0])
        rc = GB_ENOTFOUND;
    if (rc == 0 && t.kind == TASK_CHUNK) {
        /* Its lowest free chunk: the first entry of chunks_free for the job. */
        rc = prep(s->db, &q,
                  "SELECT min(k) FROM chunks WHERE job = ?1 AND claimed = 0 AND done = 0");
        if (rc == 0) {
            sqlite3_bind_text(q, 1, t.id, -1, SQLITE_STATIC);
            int step = sqlite3_step(q);
            if (step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
                t.chunk = (uint32_t)sqlite3_column_int64(q, 0);
            else
                rc = step == SQLITE_ROW ? GB_ECORRUPT : db_err(s->db, step);
            sqlite3_finalize(q);
        }
    }
    if (rc < 0)
        goto tx;
    t.claim = s->epoch * ((int64_t)1 << 32) + (int64_t)++s->claims;
    if (t.kind == TASK_CHUNK) {
        rc = run(s, "UPDATE chunks SET claimed = ?4 WHERE job = ?1 AND k = ?3 AND ?2 IS NULL", t.id,
                 NULL, t.chunk, t.claim, 0);
        if (rc >= 0)
            rc = run(s, "UPDATE jobs SET free_chunks = free_chunks - 1 WHERE id = ?1", t.id, NULL,
                     0, 0, 0);
    } else
        rc = run(s, "UPDATE jobs SET fin_claimed = ?4 WHERE id = ?1 AND ?2 IS NULL AND ?3 = 0",
                 t.id, NULL, 0, t.claim, 0);
    if (rc >= 0 && state == JOB_ACCEPTED)
        rc = run(s,
                 "UPDATE jobs SET state = 2, started = CASE WHEN started = 0 THEN ?3 ELSE started"
                 " END WHERE id = ?1 AND ?2 IS NULL",
                 t.id, NULL, now, 0, 0);
    if (rc > 0)
        rc = 0;
tx:
    if (rc == GB_ENOTFOUND)
        finish_tx(s, -1);
    else
        rc = finish_tx(s, rc);
out:
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        *out = t;
    return rc;
}

/* Release task's claim when it is still task's (inside a transaction or not). Return 1 when
 * it was, 0 when it was not, or a negative code. */
static int release_locked(struct store_sqlite *s, const struct store_task *t)
{
    if (t->kind == TASK_CHUNK) {
        int rc = run(s,
                     "UPDATE chunks SET claimed = 0 WHERE job = ?1 AND k = ?3 AND claimed = ?4"
                     " AND ?2 IS NULL",
                     t->id, NULL, t->chunk, t->claim, 0);
        if (rc > 0) {
            int u = run(s, "UPDATE jobs SET free_chunks = free_chunks + 1 WHERE id = ?1", t->id,
                        NULL, 0, 0, 0);
            if (u < 0)
                rc = u;
        }
        return rc;
    }
    return run(s,
               "UPDATE jobs SET fin_claimed = 0 WHERE id = ?1 AND fin_claimed = ?3 AND ?2 IS NULL",
               t->id, NULL, t->claim, 0, 0);
}

static int op_task_release(struct store *st, const struct store_task *t)
{
    struct store_sqlite *s = ss(st);
    pthread_mutex_lock(&s->mu);
    int rc = release_locked(s, t);
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

static int op_task_fail(struct store *st, const struct store_task *t, int64_t now)
{
    struct store_sqlite *s = ss(st);
    struct job_info j;
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc < 0)
        goto out;
    rc = get_locked(s, t->id, NULL, &j);
    if (rc == 0)
        rc = release_locked(s, t);
    if (rc == 0)
        rc = GB_ESTATE; /* settled already: a failure of an ended claim changes nothing */
    /* A failure of an earlier run (the job failed and was restarted since the claim) only ends
     * the claim: the chunk is redone in this run. */
    if (rc > 0 && j.state == JOB_RUNNING)
        rc = run(s,
                 "UPDATE jobs SET state = ?3, finished = ?4 WHERE id = ?1 AND run = ?5"
                 " AND ?2 IS NULL",
                 t->id, NULL, JOB_FAILED, now, t->run);
    if (rc > 0)
        rc = 0;
    if (rc == GB_ESTATE || rc == GB_ENOTFOUND)
        finish_tx(s, -1);
    else
        rc = finish_tx(s, rc);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int op_chunk_done(struct store *st, const struct store_task *t,
                         const struct store_chunk_result *r, const char *out_path,
                         const char *nom_path)
{
    (void)out_path; /* the files are in the job directory already */
    (void)nom_path;
    struct store_sqlite *s = ss(st);
    struct job_info j;
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc < 0)
        goto out;
    rc = get_locked(s, t->id, NULL, &j);
    if (rc < 0)
        goto tx;
    if (j.state != JOB_RUNNING) {
        /* Cancelled, deleted or failed meanwhile: the output is dropped, the claim ends. */
        rc = release_locked(s, t);
        if (rc >= 0)
            rc = GB_ESTATE;
        goto tx;
    }
    /* Only the holder of the chunk's current claim counts it, and only once. */
    rc = run(s,
             "UPDATE chunks SET done = 1, claimed = 0 WHERE job = ?1 AND k = ?3 AND claimed = ?4"
             " AND done = 0 AND ?2 IS NULL",
             t->id, NULL, t->chunk, t->claim, 0);
    if (rc == 0) {
        rc = GB_ESTATE;
        goto tx;
    }
    if (rc > 0) {
        sqlite3_stmt *q = NULL;
        rc = prep(s->db, &q,
                  "UPDATE jobs SET processed = processed + ?2, success = success + ?3,"
                  " error = error + ?4, out_lines = out_lines + ?5, nom_lines = nom_lines + ?6,"
                  " chunks_done = chunks_done + 1 WHERE id = ?1");
        if (rc == 0) {
            sqlite3_bind_text(q, 1, t->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, (int64_t)r->processed);
            sqlite3_bind_int64(q, 3, (int64_t)r->success);
            sqlite3_bind_int64(q, 4, (int64_t)r->error);
            sqlite3_bind_int64(q, 5, (int64_t)r->out_lines);
            sqlite3_bind_int64(q, 6, (int64_t)r->nom_lines);
            int step = sqlite3_step(q);
            if (step != SQLITE_DONE)
                rc = db_err(s->db, step);
            sqlite3_finalize(q);
        }
    }
tx:
    if (rc == GB_ESTATE) {
        rc = finish_tx(s, 0); /* keep the release */
        if (rc == 0)
            rc = GB_ESTATE;
    } else if (rc == GB_ENOTFOUND)
        finish_tx(s, -1);
    else
        rc = finish_tx(s, rc);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int op_job_finish(struct store *st, const struct store_task *t, enum job_state to,
                         int64_t now)
{
    struct store_sqlite *s = ss(st);
    pthread_mutex_lock(&s->mu);
    int rc = run(s,
                 "UPDATE jobs SET state = ?3, finished = ?4, fin_claimed = 0"
                 " WHERE id = ?1 AND state = 2 AND fin_claimed = ?5 AND ?2 IS NULL",
                 t->id, NULL, to, now, t->claim);
    if (rc == 0) {
        struct job_info j;
        rc = get_locked(s, t->id, NULL, &j) == 0 ? GB_ESTATE : GB_ENOTFOUND;
    }
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

static int op_stats(struct store *st, struct store_stats *out)
{
    struct store_sqlite *s = ss(st);
    struct store_stats r;
    memset(&r, 0, sizeof(r));
    sqlite3_stmt *q = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &q, "SELECT state, count(*) FROM jobs GROUP BY state");
    if (rc < 0)
        goto out;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int stt = sqlite3_column_int(q, 0);
        if (stt >= 0 && stt < JOB__NSTATES)
            r.jobs[stt] = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    rc = prep(s->db, &q,
              "SELECT coalesce(sum(nchunks - chunks_done), 0), coalesce(sum(valid - processed), 0)"
              " FROM jobs WHERE state IN (1, 2)");
    if (rc < 0)
        goto out;
    if (sqlite3_step(q) == SQLITE_ROW) {
        r.pending_chunks = (uint64_t)sqlite3_column_int64(q, 0);
        r.pending_rows = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
out:
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        *out = r;
    return rc;
}

static int op_jobs_expired(struct store *st, int64_t before, store_job_fn fn, void *ctx)
{
    struct store_sqlite *s = ss(st);
    sqlite3_stmt *q = NULL;
    /* Collect first, call fn without the lock: fn may call back into the store. */
    struct job_info *list = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &q,
                  "SELECT " JOB_COLS " FROM jobs WHERE state IN (3, 4, 5, 6) AND"
                  " (CASE WHEN finished > 0 THEN finished ELSE created END) < ?1 LIMIT 1000");
    if (rc == 0) {
        sqlite3_bind_int64(q, 1, before);
        while (sqlite3_step(q) == SQLITE_ROW) {
            VEC_GROW(list, n, cap);
            row_to_job(q, &list[n++]);
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (fn(ctx, &list[i]))
            break;
    free(list);
    return rc;
}

static int op_job_purge(struct store *st, const char *id)
{
    struct store_sqlite *s = ss(st);
    pthread_mutex_lock(&s->mu);
    int rc = begin(s);
    if (rc == 0) {
        rc = run(s, "DELETE FROM chunks WHERE job = ?1", id, NULL, 0, 0, 0);
        if (rc >= 0)
            rc = run(s, "DELETE FROM jobs WHERE id = ?1", id, NULL, 0, 0, 0);
        if (rc == 0)
            rc = GB_ENOTFOUND;
        if (rc > 0)
            rc = 0;
        if (rc == GB_ENOTFOUND)
            finish_tx(s, -1);
        else
            rc = finish_tx(s, rc);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static const struct store_ops sqlite_ops = {
    .close = op_close,
    .job_create = op_job_create,
    .job_get = op_job_get,
    .job_list = op_job_list,
    .job_transition = op_job_transition,
    .job_count_active = op_job_count_active,
    .task_claim = op_task_claim,
    .task_release = op_task_release,
    .task_fail = op_task_fail,
    .chunk_done = op_chunk_done,
    .job_finish = op_job_finish,
    .stats = op_stats,
    .jobs_expired = op_jobs_expired,
    .job_purge = op_job_purge,
};

/* sqlite3_exec callback: the first column of the row as an int64 into *ctx. */
static int read_int64(void *ctx, int ncol, char **val, char **names)
{
    (void)names;
    if (ncol > 0 && val[0])
        *(int64_t *)ctx = strtoll(val[0], NULL, 10);
    return 0;
}

/* Bring a store of an older schema up to date, in one transaction. Return an SQLite code. */
static int migrate(sqlite3 *db, char **msg)
{
    int64_t version = 0;
    int rc = sqlite3_exec(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema'",
                          read_int64, &version, msg);
    if (rc != SQLITE_OK || version >= 2)
        return rc;
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema_2, NULL, NULL, msg);
    if (rc == SQLITE_OK)
        return sqlite3_exec(db, "COMMIT", NULL, NULL, msg);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_sqlite_open(struct store **out, const char *dir, char *err, size_t errlen)
{
    char path[GB_PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/jobs.db", dir) >= sizeof(path)) {
        snprintf(err, errlen, "data directory path too long");
        return GB_ETOOLONG;
    }
    struct store_sqlite *s = xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->mu, NULL);
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        rc = -EIO;
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    rc = sqlite3_exec(s->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = migrate(s->db, &msg);
    /* A new epoch for this open's claim tokens. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db,
                          "INSERT OR IGNORE INTO meta VALUES ('epoch', '0');"
                          "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'epoch';",
                          NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'epoch'",
                          read_int64, &s->epoch, &msg);
    /* Claims belong to the process that made them: release what a crash left behind. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db,
                          "UPDATE chunks SET claimed = 0 WHERE claimed != 0;"
                          "UPDATE jobs SET fin_claimed = 0 WHERE fin_claimed != 0;"
                          "UPDATE jobs SET free_chunks = nchunks - chunks_done"
                          " WHERE free_chunks != nchunks - chunks_done;",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        rc = GB_ECORRUPT;
        goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}
