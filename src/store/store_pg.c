/*
 * store_pg.c - the job store (store.h) on PostgreSQL: the backend of "postgresql://" URLs
 * (store_int.h), for many API nodes and workers on one store with no shared file system.
 *
 * DESIGN. libpq, parameterised statements only (PQexecParams; a value is never part of the
 * SQL text). Four tables (schema version PG_SCHEMA, created and migrated only by
 * store_pg_migrate, `geobatch store migrate`): gb_jobs (one row per job with its counters,
 * the finalisation's claim and lease, and the identity of the index it started on),
 * gb_chunks (one row per chunk: its claim token, lease expiry, done), gb_files (a job's
 * files by their job-directory names, in parts of PART_BYTES: the upload, the chunk outputs,
 * the result files), gb_counters (cluster-wide counts: lease expiries), gb_apps (each
 * application's stored bytes: a running total that triggers on gb_files keep, through
 * gb_jobs.bytes, in the transaction that adds or removes a file) and gb_rate (each application's
 * rate-limit bucket, UNLOGGED). gb_meta holds the schema version.
 *
 * Limits. The transaction that creates a job ends by locking its application's gb_apps row,
 * which the commit of every change of the application's bytes takes too, and counting its jobs
 * in progress and its bytes (store_job_create_within), so API nodes that create jobs at the
 * same instant cannot pass --max-jobs-per-app or --max-disk-per-app together. A node takes tokens
 * from its application's rate-limit bucket with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING,
 * timed by the database's clock (store_rate_take), on an unlogged table (no WAL flush), tried once.
 *
 * Claims are leases: a claim sets the chunk's claim to a token from the sequence gb_claims
 * (never given twice) and its lease_until to the database's clock plus the lease, and is
 * taken with FOR UPDATE SKIP LOCKED, so concurrent workers never wait for each other nor take
 * one chunk twice. A chunk whose lease ran out is free again; whoever takes it counts a lease
 * expiry. Every settling statement (chunk done, finish, file put) requires the claim token
 * and an unexpired lease, so a late result of an expired lease changes nothing (fencing).
 * Only the database's clock decides expiry: the nodes' clocks do not matter.
 *
 * Round-robin between applications as in the SQLite store: the claim orders ready work by
 * (app <= after_app, app, created), i.e. the first application after the last one served,
 * then wrapping around.
 *
 * Connections: a small pool (PG_CONNS), each used by one call at a time. A call that loses its
 * connection (PostgreSQL restarted, network) reconnects with backoff and runs again, for up to
 * RETRY_S seconds: each call is one statement or one transaction, so running it again is safe.
 * A listener thread (store_listen) has a connection of its own that LISTENs on gb_work; the
 * statements that add work NOTIFY it.
 *
 * Threads: any thread may call any operation; the pool's mutex hands out connections.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PG_SCHEMA  2                 /* the schema version this code reads and writes */
#define PG_CONNS   8                 /* connections of the pool */
#define PART_BYTES ((size_t)8 << 20) /* bytes of one gb_files row */
#define RETRY_S    120               /* how long a call retries a lost connection */
#define PQ_MAX     16                /* parameters of one statement */

struct pg_slot {
    PGconn *c; /* NULL until first used, or after a failed connect */
    bool busy;
};

struct store_pg {
    struct store base; /* must be first */
    char *url;
    pthread_mutex_t mu; /* guards slots[].busy, wake */
    pthread_cond_t freed;
    struct pg_slot slots[PG_CONNS];
    char index_id[STORE_INDEX_ID_MAX + 1];
    int lease_s;
    /* the listener */
    pthread_t listener;
    bool listening;
    atomic_bool stop;
    store_wake_fn wake;
    void *wake_ctx;
};

static struct store_pg *sp(struct store *st)
{
    return (struct store_pg *)st;
}

/* ---- parameters and results ---- */

struct pq {
    int n;
    const char *v[PQ_MAX];
    int len[PQ_MAX];
    int fmt[PQ_MAX];
    char num[PQ_MAX][24];
};

static void pq_text(struct pq *p, const char *s)
{
    p->v[p->n] = s ? s : "";
    p->len[p->n] = 0;
    p->fmt[p->n++] = 0;
}

static void pq_int(struct pq *p, int64_t x)
{
    snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, x);
    pq_text(p, p->num[p->n]);
}

static void pq_bin(struct pq *p, const void *d, size_t n)
{
    p->v[p->n] = d ? d : "";
    p->len[p->n] = (int)n;
    p->fmt[p->n++] = 1;
}

/* Run sql with p's parameters; binary: results in binary form. Never NULL (libpq aborts on
 * out-of-memory here as our allocator would). */
static PGresult *pq_exec(PGconn *c, const char *sql, const struct pq *p, int binary)
{
    static const struct pq none;
    if (!p)
        p = &none;
    return PQexecParams(c, sql, p->n, NULL, p->v, p->len, p->fmt, binary);
}

/* 0 for a successful result, else a negative code (the result is left to the caller). */
static int res_rc(PGconn *c, PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 0;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "23505") == 0)
        return -EEXIST;
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        return -EAGAIN; /* serialization failure, deadlock: run again */
    if (PQstatus(c) != CONNECTION_BAD)
        log_error("postgresql err=\"%s\"", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    return -EIO;
}

/* Run a statement whose result is not needed. Return 0 or a negative code. */
static int pq_cmd(PGconn *c, const char *sql, const struct pq *p)
{
    PGresult *r = pq_exec(c, sql, p, 0);
    int rc = res_rc(c, r);
    PQclear(r);
    return rc;
}

static int64_t val_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void val_text(char *dst, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* ---- connections ---- */

/* Connect to url; NULL with a message in err when it fails. */
static PGconn *connect_url(const char *url, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        gb_errf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, NULL, NULL);
    return c;
}

/* Take a free slot (waiting for one). */
static int slot_get(struct store_pg *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (int i = 0; i < PG_CONNS; i++) {
            if (!s->slots[i].busy) {
                s->slots[i].busy = true;
                pthread_mutex_unlock(&s->mu);
                return i;
            }
        }
        pthread_cond_wait(&s->freed, &s->mu);
    }
}

static void slot_put(struct store_pg *s, int i)
{
    pthread_mutex_lock(&s->mu);
    s->slots[i].busy = false;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->mu);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int call_fn(PGconn *c, void *ctx);

/*
 * Run fn on a connection of the pool. When the connection is lost (before or during fn),
 * reconnect with backoff (50 ms doubling to 2 s) and run fn again, for up to retry_s seconds
 * (0: once); then -EIO. Return what fn returned.
 */
static int call_for(struct store_pg *s, call_fn *fn, void *ctx, double retry_s)
{
    double t0 = mono_s();
    long backoff = 50;
    bool logged = false;
    for (;;) {
        int i = slot_get(s);
        struct pg_slot *sl = &s->slots[i];
        if (sl->c && PQstatus(sl->c) == CONNECTION_BAD) {
            PQfinish(sl->c);
            sl->c = NULL;
        }
        char err[512] = "";
        if (!sl->c)
            sl->c = connect_url(s->url, err, sizeof(err));
        int rc = -EIO;
        bool lost = !sl->c;
        if (sl->c) {
            rc = fn(sl->c, ctx);
            lost = PQstatus(sl->c) == CONNECTION_BAD;
            if (rc < 0 && !lost && PQtransactionStatus(sl->c) != PQTRANS_IDLE)
                PQclear(PQexec(sl->c, "ROLLBACK"));
        }
        slot_put(s, i);
        if (!(lost || rc == -EAGAIN) || mono_s() - t0 >= retry_s) {
            if (logged && !lost)
                log_info("postgresql connection back");
            return lost ? -EIO : rc;
        }
        if (!logged && lost) {
            log_warn("postgresql connection lost%s%s (retrying)", err[0] ? ": " : "", err);
            logged = true;
        }
        sleep_ms(backoff);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
}

static int call(struct store_pg *s, call_fn *fn, void *ctx)
{
    return call_for(s, fn, ctx, RETRY_S);
}

/* One statement through call(): sql, its parameters, and the result for the caller. */
struct one {
    const char *sql;
    const struct pq *p;
    PGresult *res;
};

static int one_fn(PGconn *c, void *ctx)
{
    struct one *o = ctx;
    o->res = pq_exec(c, o->sql, o->p, 0);
    int rc = res_rc(c, o->res);
    if (rc < 0) {
        PQclear(o->res);
        o->res = NULL;
    }
    return rc;
}

/* Run one statement; on success *res (may be NULL: cleared) holds its result for the caller to
 * PQclear. Return 0 or a negative code. */
static int q1(struct store_pg *s, const char *sql, const struct pq *p, PGresult **res)
{
    struct one o = {sql, p, NULL};
    int rc = call(s, one_fn, &o);
    if (res)
        *res = o.res;
    else
        PQclear(o.res);
    return rc;
}

/* q1 for a statement whose result is one integer (a count). */
static int q1_int(struct store_pg *s, const char *sql, const struct pq *p, int64_t *out)
{
    PGresult *r = NULL;
    int rc = q1(s, sql, p, &r);
    if (rc == 0)
        *out = PQntuples(r) > 0 ? val_i64(r, 0, 0) : 0;
    PQclear(r);
    return rc;
}

/* ---- jobs ---- */

#define JOB_COLS                                                                                   \
    "id, app, state, created, started, finished, total, valid, invalid, processed, success,"       \
    " error, nchunks, chunks_done, params, out_lines, nom_lines, max_line, max_field, max_fields," \
    " index_id"

static void row_to_job(const PGresult *r, int row, struct job_info *j)
{
    memset(j, 0, sizeof(*j));
    val_text(j->id, sizeof(j->id), r, row, 0);
    val_text(j->app, sizeof(j->app), r, row, 1);
    j->state = (enum job_state)val_i64(r, row, 2);
    j->created = val_i64(r, row, 3);
    j->started = val_i64(r, row, 4);
    j->finished = val_i64(r, row, 5);
    j->total = (uint64_t)val_i64(r, row, 6);
    j->valid = (uint64_t)val_i64(r, row, 7);
    j->invalid = (uint64_t)val_i64(r, row, 8);
    j->processed = (uint64_t)val_i64(r, row, 9);
    j->success = (uint64_t)val_i64(r, row, 10);
    j->error = (uint64_t)val_i64(r, row, 11);
    j->nchunks = (uint32_t)val_i64(r, row, 12);
    j->chunks_done = (uint32_t)val_i64(r, row, 13);
    val_text(j->params, sizeof(j->params), r, row, 14);
    j->out_lines = (uint64_t)val_i64(r, row, 15);
    j->nom_lines = (uint64_t)val_i64(r, row, 16);
    j->max_line = (uint64_t)val_i64(r, row, 17);
    j->max_field = (uint64_t)val_i64(r, row, 18);
    j->max_fields = (uint64_t)val_i64(r, row, 19);
    val_text(j->index_id, sizeof(j->index_id), r, row, 20);
}

/* Call fn for each job row of r, in order, until it returns non-zero. */
static void each_job(PGresult *r, store_job_fn fn, void *ctx)
{
    for (int i = 0; i < PQntuples(r); i++) {
        struct job_info j;
        row_to_job(r, i, &j);
        if (fn(ctx, &j))
            break;
    }
}

/* Store the file at path as (job, name) on c, replacing one of that name, in parts. Return 0,
 * -errno or a negative code. */
static int put_file(PGconn *c, const char *job, const char *name, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct pq p = {0};
    pq_text(&p, job);
    pq_text(&p, name);
    int rc = pq_cmd(c, "DELETE FROM gb_files WHERE job = $1::text AND name = $2::text", &p);
    char *block = xmalloc(PART_BYTES);
    for (int part = 0; rc == 0; part++) {
        ssize_t n = fs_read_full(fd, block, PART_BYTES);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0 && part > 0)
            break;
        struct pq q = {0};
        pq_text(&q, job);
        pq_text(&q, name);
        pq_int(&q, part);
        pq_bin(&q, block, (size_t)n);
        rc = pq_cmd(c,
                    "INSERT INTO gb_files (job, name, part, data)"
                    " VALUES ($1::text, $2::text, $3::int, $4::bytea)",
                    &q);
        if ((size_t)n < PART_BYTES)
            break;
    }
    free(block);
    close(fd);
    return rc;
}

struct create_ctx {
    const struct job_info *j;
    const char *dir;
    const struct store_app_limits *lim; /* NULL: none */
    uint64_t used;                      /* the application's bytes without the job */
};

/* The application's stored bytes on c (0 before its first file). */
static int app_bytes_on(PGconn *c, const char *app, uint64_t *out)
{
    struct pq p = {0};
    pq_text(&p, app);
    PGresult *r = pq_exec(c, "SELECT bytes FROM gb_apps WHERE app = $1::text", &p, 0);
    int rc = res_rc(c, r);
    if (rc == 0)
        *out = PQntuples(r) > 0 ? (uint64_t)val_i64(r, 0, 0) : 0;
    PQclear(r);
    return rc;
}

/*
 * The limits of a new job whose rows are in (uncommitted): lock the application's row of
 * gb_apps (the commit of every change of the application's bytes takes the same lock), then
 * count its jobs in progress in a statement of its own, so that it sees every job committed
 * before the lock was had, and this one. The application's bytes in gb_apps do not include
 * this job's yet (the trigger that carries them there is deferred to the commit): x->used.
 * Return 0, GB_ELIMIT or -EDQUOT.
 */
static int limits_check(PGconn *c, struct create_ctx *x)
{
    struct pq p = {0};
    pq_text(&p, x->j->app);
    int rc = pq_cmd(c,
                    "INSERT INTO gb_apps AS a (app) VALUES ($1::text)"
                    " ON CONFLICT (app) DO UPDATE SET bytes = a.bytes",
                    &p);
    if (rc == 0)
        rc = app_bytes_on(c, x->j->app, &x->used);
    PGresult *r = NULL;
    if (rc == 0 && x->lim->max_active) {
        r = pq_exec(c, "SELECT count(*) FROM gb_jobs WHERE app = $1::text AND state IN (0, 1, 2)",
                    &p, 0);
        rc = res_rc(c, r);
        if (rc == 0 && (uint64_t)val_i64(r, 0, 0) > x->lim->max_active)
            rc = GB_ELIMIT;
        PQclear(r);
    }
    if (rc == 0 && x->lim->max_bytes) {
        struct pq q = {0};
        pq_text(&q, x->j->id);
        r = pq_exec(c, "SELECT bytes FROM gb_jobs WHERE id = $1::text", &q, 0);
        rc = res_rc(c, r);
        if (rc == 0 && x->used + (uint64_t)val_i64(r, 0, 0) > x->lim->max_bytes)
            rc = -EDQUOT;
        PQclear(r);
    }
    return rc;
}

static int create_fn(PGconn *c, void *ctx)
{
    struct create_ctx *x = ctx;
    const struct job_info *j = x->j;
    int rc = pq_cmd(c, "BEGIN", NULL);
    struct pq p = {0};
    pq_text(&p, j->id);
    pq_text(&p, j->app);
    pq_int(&p, j->state);
    pq_int(&p, j->created);
    pq_int(&p, (int64_t)j->total);
    pq_int(&p, (int64_t)j->valid);
    pq_int(&p, (int64_t)j->invalid);
    pq_int(&p, j->nchunks);
    pq_text(&p, j->params);
    pq_int(&p, (int64_t)j->max_line);
    pq_int(&p, (int64_t)j->max_field);
    pq_int(&p, (int64_t)j->max_fields);
    if (rc == 0)
        rc = pq_cmd(c,
                    "INSERT INTO gb_jobs (id, app, state, created, total, valid, invalid, nchunks,"
                    " params, max_line, max_field, max_fields) VALUES ($1::text, $2::text,"
                    " $3::int, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::int, $9::text,"
                    " $10::bigint, $11::bigint, $12::bigint)",
                    &p);
    struct pq q = {0};
    pq_text(&q, j->id);
    pq_int(&q, j->nchunks);
    if (rc == 0)
        rc = pq_cmd(c,
                    "INSERT INTO gb_chunks (job, k)"
                    " SELECT $1::text, generate_series(0, $2::int - 1)",
                    &q);
    char path[GB_PATH_MAX], name[32];
    static const char *const files[] = {"header.csv", "errors.txt"};
    for (size_t i = 0; rc == 0 && x->dir && i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", x->dir, files[i]);
        rc = put_file(c, j->id, files[i], path);
        if (rc == -ENOENT && i == 1)
            rc = 0; /* no errors file: nothing was invalid */
    }
    for (uint32_t k = 0; rc == 0 && x->dir && k < j->nchunks; k++) {
        snprintf(name, sizeof(name), "in/%u.csv", k);
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", x->dir, name) >= sizeof(path))
            rc = GB_ETOOLONG;
        else
            rc = put_file(c, j->id, name, path);
    }
    if (rc == 0 && x->lim)
        rc = limits_check(c, x); /* last: the application's lock is held until the commit */
    if (rc == 0 && j->state == JOB_ACCEPTED)
        rc = pq_cmd(c, "NOTIFY gb_work", NULL); /* delivered at the commit */
    if (rc == 0)
        rc = pq_cmd(c, "COMMIT", NULL);
    return rc;
}

static int op_job_create_from(struct store *st, const struct job_info *j, const char *dir,
                              const struct store_app_limits *lim, uint64_t *used)
{
    struct create_ctx x = {j, dir, lim, 0};
    int rc = call(sp(st), create_fn, &x);
    if (rc == -EDQUOT && used)
        *used = x.used;
    return rc;
}

static int op_job_create(struct store *st, const struct job_info *j)
{
    return op_job_create_from(st, j, NULL, NULL, NULL);
}

static int op_app_bytes(struct store *st, const char *app, uint64_t *out)
{
    struct pq p = {0};
    pq_text(&p, app);
    int64_t n = 0;
    int rc = q1_int(sp(st), "SELECT bytes FROM gb_apps WHERE app = $1::text", &p, &n);
    if (rc == 0)
        *out = (uint64_t)n;
    return rc;
}

/* ---- rate limits ---- */

/* The tokens of bucket r now: what it had plus rate ($2) a second since, at most burst ($3). */
#define RATE_AVAIL                                                                                 \
    "least($3::float8, r.tokens + greatest(0, extract(epoch FROM now() - r.at))::float8"           \
    " * $2::float8)"

/* One statement: the bucket of $1 (created full), less the whole tokens it has, up to $4. */
static const char rate_sql[] =
    "INSERT INTO gb_rate AS r (app, tokens, at, got)"
    " VALUES ($1::text, $3::float8 - least($4::int, floor($3::float8)), now(),"
    " least($4::int, floor($3::float8)))"
    " ON CONFLICT (app) DO UPDATE SET"
    " got = least($4::int, floor(" RATE_AVAIL ")),"
    " tokens = " RATE_AVAIL " - least($4::int, floor(" RATE_AVAIL ")),"
    " at = now() RETURNING got";

static int rate_fn(PGconn *c, void *ctx)
{
    return one_fn(c, ctx);
}

static int op_rate_take(struct store *st, const char *app, double rate, double burst, int want)
{
    struct pq p = {0};
    char rs[32], bs[32];
    snprintf(rs, sizeof(rs), "%.17g", rate);
    snprintf(bs, sizeof(bs), "%.17g", burst);
    pq_text(&p, app);
    pq_text(&p, rs);
    pq_text(&p, bs);
    pq_int(&p, want);
    struct one o = {rate_sql, &p, NULL};
    int rc = call_for(sp(st), rate_fn, &o, 0); /* once: a request does not wait for a reconnect */
    if (rc == 0)
        rc = PQntuples(o.res) == 1 ? (int)val_i64(o.res, 0, 0) : 0;
    PQclear(o.res);
    return rc;
}

static int op_job_get(struct store *st, const char *id, const char *app, struct job_info *out)
{
    struct pq p = {0};
    pq_text(&p, id);
    pq_text(&p, app);
    PGresult *r = NULL;
    int rc = q1(sp(st),
                "SELECT " JOB_COLS " FROM gb_jobs WHERE id = $1::text"
                " AND ($2::text = '' OR app = $2::text)",
                &p, &r);
    if (rc == 0 && PQntuples(r) == 0)
        rc = GB_ENOTFOUND;
    if (rc == 0)
        row_to_job(r, 0, out);
    PQclear(r);
    return rc;
}

static int op_job_list(struct store *st, const char *app, uint64_t offset, uint32_t limit,
                       store_job_fn fn, void *ctx, uint64_t *total)
{
    struct store_pg *s = sp(st);
    struct pq p = {0};
    pq_text(&p, app);
    int64_t n = 0;
    int rc = q1_int(s, "SELECT count(*) FROM gb_jobs WHERE app = $1::text", &p, &n);
    pq_int(&p, limit);
    pq_int(&p, (int64_t)offset);
    PGresult *r = NULL;
    if (rc == 0)
        rc = q1(s,
                "SELECT " JOB_COLS " FROM gb_jobs WHERE app = $1::text"
                " ORDER BY created DESC, seq DESC LIMIT $2::bigint OFFSET $3::bigint",
                &p, &r);
    if (rc == 0)
        each_job(r, fn, ctx);
    PQclear(r);
    if (rc == 0 && total)
        *total = (uint64_t)n;
    return rc;
}

struct transition_ctx {
    const char *id, *app;
    unsigned from_mask;
    enum job_state to;
    int64_t now;
    struct job_info j;
};

/* Lock the job row, check and change its state; the file deletions of a cancel or a delete
 * run after the lock, so they see every file a chunk stored before it. */
static int transition_fn(PGconn *c, void *ctx)
{
    struct transition_ctx *x = ctx;
    int rc = pq_cmd(c, "BEGIN", NULL);
    struct pq p = {0};
    pq_text(&p, x->id);
    pq_text(&p, x->app);
    PGresult *r = NULL;
    if (rc == 0) {
        r = pq_exec(c,
                    "SELECT " JOB_COLS " FROM gb_jobs WHERE id = $1::text"
                    " AND ($2::text = '' OR app = $2::text) FOR UPDATE",
                    &p, 0);
        rc = res_rc(c, r);
    }
    if (rc == 0 && PQntuples(r) == 0)
        rc = GB_ENOTFOUND;
    if (rc == 0) {
        row_to_job(r, 0, &x->j);
        if (!(x->from_mask & JOB_MASK(x->j.state)))
            rc = GB_ESTATE;
    }
    PQclear(r);
    if (rc < 0)
        return rc;
    struct pq q = {0};
    pq_text(&q, x->id);
    pq_int(&q, x->to);
    pq_int(&q, x->now);
    rc = pq_cmd(c,
                "UPDATE gb_jobs SET state = $2::int,"
                " finished = CASE WHEN $2::int IN (4, 6) THEN $3::bigint WHEN $2::int = 1 THEN 0"
                " ELSE finished END, run = run + CASE WHEN $2::int = 1 THEN 1 ELSE 0 END"
                " WHERE id = $1::text",
                &q);
    struct pq f = {0};
    pq_text(&f, x->id);
    if (rc == 0 && x->to == JOB_CANCELLED)
        rc = pq_cmd(c,
                    "DELETE FROM gb_files WHERE job = $1::text AND (name LIKE 'in/%' OR name LIKE"
                    " 'out/%')",
                    &f);
    if (rc == 0 && x->to == JOB_DELETED)
        rc = pq_cmd(c, "DELETE FROM gb_files WHERE job = $1::text", &f);
    if (rc == 0 && x->to == JOB_ACCEPTED)
        rc = pq_cmd(c, "NOTIFY gb_work", NULL);
    if (rc == 0)
        rc = pq_cmd(c, "COMMIT", NULL);
    if (rc == 0) {
        x->j.state = x->to;
        if (x->to == JOB_ACCEPTED)
            x->j.finished = 0;
        else if (x->to == JOB_CANCELLED || x->to == JOB_FAILED)
            x->j.finished = x->now;
    }
    return rc;
}

static int op_job_transition(struct store *st, const char *id, const char *app, unsigned from_mask,
                             enum job_state to, int64_t now, struct job_info *out)
{
    struct transition_ctx x = {.id = id, .app = app, .from_mask = from_mask, .to = to, .now = now};
    int rc = call(sp(st), transition_fn, &x);
    if ((rc == 0 || rc == GB_ESTATE) && out)
        *out = x.j;
    return rc;
}

static int op_job_count_active(struct store *st, const char *app, uint64_t *out)
{
    struct pq p = {0};
    pq_text(&p, app);
    int64_t n = 0;
    int rc = q1_int(
        sp(st), "SELECT count(*) FROM gb_jobs WHERE app = $1::text AND state IN (0, 1, 2)", &p, &n);
    if (rc == 0)
        *out = (uint64_t)n;
    return rc;
}

/* ---- claims ---- */

static void op_config(struct store *st, const struct store_claim_config *cfg)
{
    struct store_pg *s = sp(st);
    snprintf(s->index_id, sizeof(s->index_id), "%s", cfg->index_id ? cfg->index_id : "");
    s->lease_s = cfg->lease_s > 0 ? cfg->lease_s : 30;
}

/* The finalisation of a job whose chunks are all done, or a free chunk (never claimed, or its
 * lease expired), round-robin between applications: $1 the application served last, $2 this
 * process's index, $3 the lease in seconds, $4 now (JobStarted of an accepted job). */
static const char claim_fin_sql[] =
    "WITH t AS (SELECT id FROM gb_jobs WHERE state IN (1, 2) AND index_id IN ('', $2::text)"
    "  AND chunks_done = nchunks AND (fin_claim = 0 OR fin_lease < clock_timestamp())"
    "  ORDER BY app <= $1::text, app, created, seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE gb_jobs j SET fin_claim = nextval('gb_claims'),"
    "  fin_lease = clock_timestamp() + $3::int * interval '1 second', state = 2,"
    "  started = CASE WHEN started = 0 THEN $4::bigint ELSE started END, index_id = $2::text"
    " FROM t WHERE j.id = t.id RETURNING j.id, j.app, 0, j.fin_claim, j.run, j.index_id";

static const char claim_chunk_sql[] =
    "WITH t AS (SELECT c.job, c.k, c.claim AS old FROM gb_chunks c JOIN gb_jobs j ON j.id = c.job"
    "  WHERE j.state IN (1, 2) AND j.index_id IN ('', $2::text) AND NOT c.done"
    "  AND (c.claim = 0 OR c.lease_until < clock_timestamp())"
    "  ORDER BY j.app <= $1::text, j.app, j.created, j.seq, c.k LIMIT 1"
    "  FOR UPDATE OF c SKIP LOCKED),"
    " u AS (UPDATE gb_chunks c SET claim = nextval('gb_claims'),"
    "  lease_until = clock_timestamp() + $3::int * interval '1 second',"
    "  redone = redone + CASE WHEN t.old <> 0 THEN 1 ELSE 0 END"
    "  FROM t WHERE c.job = t.job AND c.k = t.k RETURNING c.job, c.k, c.claim, t.old),"
    " s AS (UPDATE gb_jobs SET state = 2,"
    "  started = CASE WHEN started = 0 THEN $4::bigint ELSE started END, index_id = $2::text"
    "  WHERE id IN (SELECT job FROM u) AND (state = 1 OR index_id = '')),"
    " e AS (UPDATE gb_counters SET value = value + 1 WHERE name = 'lease_expiries'"
    "  AND EXISTS (SELECT 1 FROM u WHERE old <> 0))"
    " SELECT u.job, j.app, u.k, u.claim, j.run, j.index_id FROM u JOIN gb_jobs j ON j.id = u.job";

static int op_task_release(struct store *st, const struct store_task *t);

/*
 * The first claim of a job records this process's index; a claim of another process with
 * another index in the same instant saw the job without one too, and its recording did not
 * apply (it waited for the first and then found an index). Return 0 when the job's index is
 * ours, GB_ESTATE after releasing t when it is not, or a negative code.
 */
static int check_first_claim(struct store_pg *s, const struct store_task *t)
{
    struct pq p = {0};
    pq_text(&p, t->id);
    PGresult *r = NULL;
    int rc = q1(s, "SELECT index_id FROM gb_jobs WHERE id = $1::text", &p, &r);
    bool ours = rc == 0 && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), s->index_id) == 0;
    PQclear(r);
    if (rc < 0 || ours)
        return rc;
    op_task_release(&s->base, t);
    return GB_ESTATE;
}

static int op_task_claim(struct store *st, const char *after_app, int64_t now,
                         struct store_task *out)
{
    struct store_pg *s = sp(st);
    struct pq p = {0};
    pq_text(&p, after_app);
    pq_text(&p, s->index_id);
    pq_int(&p, s->lease_s);
    pq_int(&p, now);
    for (int pass = 0; pass < 2; pass++) {
        PGresult *r = NULL;
        int rc = q1(s, pass == 0 ? claim_fin_sql : claim_chunk_sql, &p, &r);
        if (rc == 0 && PQntuples(r) > 0) {
            struct store_task t;
            memset(&t, 0, sizeof(t));
            t.kind = pass == 0 ? TASK_FINALIZE : TASK_CHUNK;
            val_text(t.id, sizeof(t.id), r, 0, 0);
            val_text(t.app, sizeof(t.app), r, 0, 1);
            t.chunk = (uint32_t)val_i64(r, 0, 2);
            t.claim = val_i64(r, 0, 3);
            t.run = val_i64(r, 0, 4);
            bool first = PQgetvalue(r, 0, 5)[0] == '\0'; /* no index before this claim */
            PQclear(r);
            rc = first ? check_first_claim(s, &t) : 0;
            if (rc == GB_ESTATE)
                return GB_ENOTFOUND; /* the job is another index's: look again later */
            if (rc == 0)
                *out = t;
            return rc;
        }
        PQclear(r);
        if (rc < 0)
            return rc;
    }
    return GB_ENOTFOUND;
}

static int op_task_release(struct store *st, const struct store_task *t)
{
    struct pq p = {0};
    pq_text(&p, t->id);
    pq_int(&p, t->claim);
    pq_int(&p, t->chunk);
    return q1(sp(st),
              t->kind == TASK_CHUNK
                  ? "WITH u AS (UPDATE gb_chunks SET claim = 0, lease_until = NULL"
                    " WHERE job = $1::text AND k = $3::int AND claim = $2::bigint RETURNING 1)"
                    " SELECT pg_notify('gb_work', '') FROM u"
                  : "WITH u AS (UPDATE gb_jobs SET fin_claim = 0, fin_lease = NULL"
                    " WHERE id = $1::text AND fin_claim = $2::bigint AND $3::int = 0 RETURNING 1)"
                    " SELECT pg_notify('gb_work', '') FROM u",
              &p, NULL);
}

static int op_task_renew(struct store *st, const struct store_task *t)
{
    struct store_pg *s = sp(st);
    struct pq p = {0};
    pq_text(&p, t->id);
    pq_int(&p, t->claim);
    pq_int(&p, t->chunk);
    pq_int(&p, s->lease_s);
    int64_t n = 0;
    int rc = q1_int(s,
                    t->kind == TASK_CHUNK
                        ? "WITH u AS (UPDATE gb_chunks SET lease_until = clock_timestamp() +"
                          " $4::int * interval '1 second' WHERE job = $1::text AND k = $3::int"
                          " AND claim = $2::bigint AND NOT done RETURNING 1)"
                          " SELECT count(*) FROM u"
                        : "WITH u AS (UPDATE gb_jobs SET fin_lease = clock_timestamp() +"
                          " $4::int * interval '1 second' WHERE id = $1::text AND fin_claim ="
                          " $2::bigint AND state = 2 AND $3::int = 0 RETURNING 1)"
                          " SELECT count(*) FROM u",
                    &p, &n);
    return rc < 0 ? rc : n > 0 ? 0 : GB_ESTATE;
}

static int op_task_fail(struct store *st, const struct store_task *t, int64_t now)
{
    struct pq p = {0};
    pq_text(&p, t->id);
    pq_int(&p, t->claim);
    pq_int(&p, t->chunk);
    pq_int(&p, now);
    pq_int(&p, t->run);
    int64_t n = 0;
    int rc = q1_int(
        sp(st),
        t->kind == TASK_CHUNK
            ? "WITH c AS (UPDATE gb_chunks SET claim = 0, lease_until = NULL WHERE job = $1::text"
              " AND k = $3::int AND claim = $2::bigint RETURNING job),"
              " j AS (UPDATE gb_jobs SET state = 6, finished = $4::bigint WHERE id IN"
              " (SELECT job FROM c) AND state = 2 AND run = $5::bigint)"
              " SELECT count(*) FROM c"
            : "WITH c AS (UPDATE gb_jobs SET fin_claim = 0, fin_lease = NULL,"
              " finished = CASE WHEN state = 2 AND run = $5::bigint THEN $4::bigint ELSE finished"
              " END, state = CASE WHEN state = 2 AND run = $5::bigint THEN 6 ELSE state END"
              " WHERE id = $1::text AND fin_claim = $2::bigint AND $3::int = 0 RETURNING 1)"
              " SELECT count(*) FROM c",
        &p, &n);
    return rc < 0 ? rc : n > 0 ? 0 : GB_ESTATE;
}

/* Read the file at path whole into *out (NULL path: nothing). Return 0 or -errno. */
static int slurp(const char *path, struct buf *out)
{
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char block[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t n = fs_read_full(fd, block, sizeof(block));
        if (n < 0)
            rc = (int)n;
        if (n <= 0)
            break;
        rc = buf_append(out, block, (size_t)n);
        if (rc < 0 || (size_t)n < sizeof(block))
            break;
    }
    close(fd);
    return rc;
}

/* The chunk is counted and its files stored only when the job is running (its row locked, so
 * a cancel waits for this statement or this statement sees the cancel) and the claim and its
 * lease are still the task's; otherwise a claim of a job that is not running is released. */
static const char chunk_done_sql[] =
    "WITH j0 AS (SELECT id FROM gb_jobs WHERE id = $1::text AND state = 2 FOR UPDATE),"
    " r AS (UPDATE gb_chunks SET claim = 0, lease_until = NULL WHERE job = $1::text"
    "  AND k = $2::int AND claim = $3::bigint AND NOT EXISTS (SELECT 1 FROM j0)),"
    " c AS (UPDATE gb_chunks SET done = true, claim = 0, lease_until = NULL"
    "  WHERE job IN (SELECT id FROM j0) AND k = $2::int AND claim = $3::bigint AND NOT done"
    "  AND lease_until >= clock_timestamp() RETURNING job),"
    " j AS (UPDATE gb_jobs SET processed = processed + $4::bigint, success = success + $5::bigint,"
    "  error = error + $6::bigint, out_lines = out_lines + $7::bigint,"
    "  nom_lines = nom_lines + $8::bigint, chunks_done = chunks_done + 1"
    "  WHERE id IN (SELECT job FROM c) RETURNING id),"
    " f AS (INSERT INTO gb_files (job, name, part, data)"
    "  SELECT id, $9::text, 0, $10::bytea FROM j UNION ALL"
    "  SELECT id, $11::text, 0, $12::bytea FROM j WHERE $11::text <> ''"
    "  ON CONFLICT (job, name, part) DO UPDATE SET data = EXCLUDED.data RETURNING 1)"
    " SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM f)";

static int op_chunk_done(struct store *st, const struct store_task *t,
                         const struct store_chunk_result *res, const char *out_path,
                         const char *nom_path)
{
    struct buf out, nom;
    buf_init(&out, (size_t)1 << 30);
    buf_init(&nom, (size_t)1 << 30);
    int rc = slurp(out_path, &out);
    if (rc == 0)
        rc = slurp(nom_path, &nom);
    char out_name[32], nom_name[32] = "";
    snprintf(out_name, sizeof(out_name), "out/%u.out", t->chunk);
    if (nom_path)
        snprintf(nom_name, sizeof(nom_name), "out/%u.nom", t->chunk);
    struct pq p = {0};
    pq_text(&p, t->id);
    pq_int(&p, t->chunk);
    pq_int(&p, t->claim);
    pq_int(&p, (int64_t)res->processed);
    pq_int(&p, (int64_t)res->success);
    pq_int(&p, (int64_t)res->error);
    pq_int(&p, (int64_t)res->out_lines);
    pq_int(&p, (int64_t)res->nom_lines);
    pq_text(&p, out_name);
    pq_bin(&p, out.data, out.len);
    pq_text(&p, nom_name);
    pq_bin(&p, nom.data, nom.len);
    int64_t n = 0;
    if (rc == 0)
        rc = q1_int(sp(st), chunk_done_sql, &p, &n);
    buf_release(&out);
    buf_release(&nom);
    return rc < 0 ? rc : n > 0 ? 0 : GB_ESTATE;
}

static int op_job_finish(struct store *st, const struct store_task *t, enum job_state to,
                         int64_t now)
{
    struct store_pg *s = sp(st);
    struct pq p = {0};
    pq_text(&p, t->id);
    pq_int(&p, to);
    pq_int(&p, now);
    pq_int(&p, t->claim);
    int64_t n = 0;
    int rc = q1_int(s,
                    "WITH j AS (UPDATE gb_jobs SET state = $2::int, finished = $3::bigint,"
                    " fin_claim = 0, fin_lease = NULL WHERE id = $1::text AND state = 2"
                    " AND fin_claim = $4::bigint AND fin_lease >= clock_timestamp()"
                    " RETURNING id, state),"
                    " d AS (DELETE FROM gb_files f USING j WHERE f.job = j.id AND j.state = 3"
                    " AND (f.name LIKE 'in/%' OR f.name LIKE 'out/%'))"
                    " SELECT count(*) FROM j",
                    &p, &n);
    if (rc == 0 && n == 0) {
        struct job_info j;
        rc = op_job_get(st, t->id, NULL, &j) == 0 ? GB_ESTATE : GB_ENOTFOUND;
    }
    return rc;
}

/* ---- files ---- */

struct get_ctx {
    const char *id, *name;
    int fd;
    off_t start;
    bool found;
};

/* Copy the parts of one file in one snapshot, one part per statement (the memory of one). */
static int get_fn(PGconn *c, void *ctx)
{
    struct get_ctx *x = ctx;
    if (ftruncate(x->fd, x->start) < 0 || lseek(x->fd, x->start, SEEK_SET) < 0)
        return -errno;
    int rc = pq_cmd(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL);
    struct pq p = {0};
    pq_text(&p, x->id);
    pq_text(&p, x->name);
    PGresult *r = NULL;
    if (rc == 0) {
        r = pq_exec(c, "SELECT count(*) FROM gb_files WHERE job = $1::text AND name = $2::text", &p,
                    0);
        rc = res_rc(c, r);
    }
    int64_t parts = rc == 0 ? val_i64(r, 0, 0) : 0;
    PQclear(r);
    x->found = parts > 0;
    for (int64_t i = 0; rc == 0 && i < parts; i++) {
        struct pq q = p;
        q.v[0] = x->id;
        q.v[1] = x->name;
        pq_int(&q, i);
        r = pq_exec(c,
                    "SELECT data FROM gb_files WHERE job = $1::text AND name = $2::text"
                    " AND part = $3::int",
                    &q, 1);
        rc = res_rc(c, r);
        if (rc == 0 && PQntuples(r) != 1)
            rc = GB_ECORRUPT;
        if (rc == 0)
            rc = fs_write_all(x->fd, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        PQclear(r);
    }
    if (rc == 0)
        rc = pq_cmd(c, "COMMIT", NULL);
    return rc;
}

static int op_file_get(struct store *st, const char *id, const char *name, int fd)
{
    off_t start = lseek(fd, 0, SEEK_CUR);
    if (start < 0)
        return -errno;
    struct get_ctx x = {id, name, fd, start, false};
    int rc = call(sp(st), get_fn, &x);
    return rc < 0 ? rc : x.found ? 0 : GB_ENOTFOUND;
}

struct put_ctx {
    const struct store_task *t;
    const char *name, *path;
};

static int put_fn(PGconn *c, void *ctx)
{
    struct put_ctx *x = ctx;
    int rc = pq_cmd(c, "BEGIN", NULL);
    struct pq p = {0};
    pq_text(&p, x->t->id);
    pq_int(&p, x->t->claim);
    PGresult *r = NULL;
    if (rc == 0) {
        r = pq_exec(c,
                    "SELECT 1 FROM gb_jobs WHERE id = $1::text AND state = 2"
                    " AND fin_claim = $2::bigint AND fin_lease >= clock_timestamp() FOR UPDATE",
                    &p, 0);
        rc = res_rc(c, r);
        if (rc == 0 && PQntuples(r) == 0)
            rc = GB_ESTATE;
        PQclear(r);
    }
    if (rc == 0)
        rc = put_file(c, x->t->id, x->name, x->path);
    if (rc == 0)
        rc = pq_cmd(c, "COMMIT", NULL);
    return rc;
}

static int op_file_put(struct store *st, const struct store_task *t, const char *name,
                       const char *path)
{
    struct put_ctx x = {t, name, path};
    return call(sp(st), put_fn, &x);
}

/* ---- counts and retention ---- */

static int op_stats(struct store *st, struct store_stats *out)
{
    struct store_pg *s = sp(st);
    struct store_stats r;
    memset(&r, 0, sizeof(r));
    PGresult *res = NULL;
    int rc = q1(s, "SELECT state, count(*) FROM gb_jobs GROUP BY state", NULL, &res);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        int64_t stt = val_i64(res, i, 0);
        if (stt >= 0 && stt < JOB__NSTATES)
            r.jobs[stt] = (uint64_t)val_i64(res, i, 1);
    }
    PQclear(res);
    res = NULL;
    if (rc == 0)
        rc = q1(s,
                "SELECT (SELECT coalesce(sum(nchunks - chunks_done), 0) FROM gb_jobs WHERE state IN"
                " (1, 2)), (SELECT coalesce(sum(valid - processed), 0) FROM gb_jobs WHERE state IN"
                " (1, 2)), (SELECT count(*) FROM gb_chunks WHERE claim <> 0 AND lease_until >="
                " clock_timestamp()), (SELECT coalesce(sum(value), 0) FROM gb_counters WHERE name"
                " = 'lease_expiries')",
                NULL, &res);
    if (rc == 0 && PQntuples(res) == 1) {
        r.pending_chunks = (uint64_t)val_i64(res, 0, 0);
        r.pending_rows = (uint64_t)val_i64(res, 0, 1);
        r.leased_chunks = (uint64_t)val_i64(res, 0, 2);
        r.lease_expiries = (uint64_t)val_i64(res, 0, 3);
    }
    PQclear(res);
    if (rc == 0)
        *out = r;
    return rc;
}

static int op_jobs_expired(struct store *st, int64_t before, store_job_fn fn, void *ctx)
{
    struct pq p = {0};
    pq_int(&p, before);
    PGresult *r = NULL;
    int rc = q1(sp(st),
                "SELECT " JOB_COLS " FROM gb_jobs WHERE state IN (3, 4, 5, 6) AND"
                " (CASE WHEN finished > 0 THEN finished ELSE created END) < $1::bigint LIMIT 1000",
                &p, &r);
    /* fn may call back into the store: the result is ours, no connection is held */
    if (rc == 0)
        each_job(r, fn, ctx);
    PQclear(r);
    return rc;
}

static int op_job_purge(struct store *st, const char *id)
{
    struct pq p = {0};
    pq_text(&p, id);
    int64_t n = 0;
    int rc = q1_int(sp(st),
                    "WITH d AS (DELETE FROM gb_jobs WHERE id = $1::text RETURNING 1)"
                    " SELECT count(*) FROM d",
                    &p, &n);
    return rc < 0 ? rc : n > 0 ? 0 : GB_ENOTFOUND;
}

/* ---- the listener ---- */

/* Sleep ms unless the store is closing; return true when it is. */
static bool nap(struct store_pg *s, long ms)
{
    for (long t = 0; t < ms && !atomic_load(&s->stop); t += 100)
        sleep_ms(ms - t < 100 ? ms - t : 100);
    return atomic_load(&s->stop);
}

static void *listen_main(void *arg)
{
    struct store_pg *s = arg;
    long backoff = 100;
    bool was_lost = false;
    while (!atomic_load(&s->stop)) {
        char err[512] = "";
        PGconn *c = connect_url(s->url, err, sizeof(err));
        if (c && pq_cmd(c, "LISTEN gb_work", NULL) < 0) {
            PQfinish(c);
            c = NULL;
        }
        if (!c) {
            if (!was_lost)
                log_warn("postgresql listener lost err=\"%s\" (reconnecting)", err);
            was_lost = true;
            if (nap(s, backoff))
                break;
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        if (was_lost)
            log_info("postgresql listener back");
        was_lost = false;
        backoff = 100;
        s->wake(s->wake_ctx); /* work may have come while it was not listening */
        while (!atomic_load(&s->stop)) {
            struct pollfd pfd = {PQsocket(c), POLLIN, 0};
            int n = poll(&pfd, 1, 500);
            if (n < 0 && errno != EINTR)
                break;
            if (n <= 0)
                continue;
            if (!PQconsumeInput(c))
                break;
            bool woke = false;
            PGnotify *nt;
            while ((nt = PQnotifies(c)) != NULL) {
                PQfreemem(nt);
                woke = true;
            }
            if (woke)
                s->wake(s->wake_ctx);
        }
        PQfinish(c);
        was_lost = !atomic_load(&s->stop);
        if (was_lost)
            log_warn("postgresql listener lost (reconnecting)");
    }
    return NULL;
}

static int op_listen(struct store *st, store_wake_fn fn, void *ctx)
{
    struct store_pg *s = sp(st);
    if (s->listening) { /* stop the listener first: a new callback, or none */
        atomic_store(&s->stop, true);
        pthread_join(s->listener, NULL);
        s->listening = false;
        atomic_store(&s->stop, false);
    }
    if (!fn)
        return 0;
    s->wake = fn;
    s->wake_ctx = ctx;
    int rc = pthread_create(&s->listener, NULL, listen_main, s);
    if (rc != 0)
        return -rc;
    s->listening = true;
    return 0;
}

/* ---- open, close, migrate ---- */

static void op_close(struct store *st)
{
    struct store_pg *s = sp(st);
    atomic_store(&s->stop, true);
    if (s->listening)
        pthread_join(s->listener, NULL);
    for (int i = 0; i < PG_CONNS; i++)
        PQfinish(s->slots[i].c);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    free(s->url);
    free(s);
}

static const struct store_ops pg_ops = {
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
    .config = op_config,
    .listen = op_listen,
    .job_create_from = op_job_create_from,
    .task_renew = op_task_renew,
    .file_get = op_file_get,
    .file_put = op_file_put,
    .app_bytes = op_app_bytes,
    .rate_take = op_rate_take,
};

/* The schema version of the store on c: 0 when there is none. Return it or a negative code. */
static int schema_version(PGconn *c)
{
    PGresult *r = pq_exec(c, "SELECT to_regclass('gb_meta') IS NOT NULL", NULL, 0);
    int rc = res_rc(c, r);
    bool exists = rc == 0 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (rc < 0 || !exists)
        return rc;
    r = pq_exec(c, "SELECT value FROM gb_meta WHERE key = 'schema'", NULL, 0);
    rc = res_rc(c, r);
    int v = rc == 0 && PQntuples(r) > 0 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return rc < 0 ? rc : v;
}

/* Version 1: everything. A later version adds one more step after it. */
static const char schema_1[] =
    "CREATE TABLE gb_meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE SEQUENCE gb_claims;"
    "CREATE SEQUENCE gb_job_seq;"
    "CREATE TABLE gb_jobs ("
    " id text PRIMARY KEY, app text NOT NULL, state int NOT NULL,"
    " seq bigint NOT NULL DEFAULT nextval('gb_job_seq'), created bigint NOT NULL,"
    " started bigint NOT NULL DEFAULT 0, finished bigint NOT NULL DEFAULT 0,"
    " total bigint NOT NULL DEFAULT 0, valid bigint NOT NULL DEFAULT 0,"
    " invalid bigint NOT NULL DEFAULT 0, processed bigint NOT NULL DEFAULT 0,"
    " success bigint NOT NULL DEFAULT 0, error bigint NOT NULL DEFAULT 0,"
    " nchunks int NOT NULL DEFAULT 0, chunks_done int NOT NULL DEFAULT 0,"
    " out_lines bigint NOT NULL DEFAULT 0, nom_lines bigint NOT NULL DEFAULT 0,"
    " max_line bigint NOT NULL DEFAULT 0, max_field bigint NOT NULL DEFAULT 0,"
    " max_fields bigint NOT NULL DEFAULT 0, run bigint NOT NULL DEFAULT 0,"
    " params text NOT NULL DEFAULT '', index_id text NOT NULL DEFAULT '',"
    " fin_claim bigint NOT NULL DEFAULT 0, fin_lease timestamptz);"
    "CREATE INDEX gb_jobs_app ON gb_jobs (app, created);"
    "CREATE INDEX gb_jobs_ready ON gb_jobs (app, created) WHERE state IN (1, 2);"
    "CREATE TABLE gb_chunks ("
    " job text NOT NULL REFERENCES gb_jobs (id) ON DELETE CASCADE, k int NOT NULL,"
    " claim bigint NOT NULL DEFAULT 0, lease_until timestamptz,"
    " done boolean NOT NULL DEFAULT false, redone int NOT NULL DEFAULT 0,"
    " PRIMARY KEY (job, k));"
    "CREATE INDEX gb_chunks_todo ON gb_chunks (job, k) WHERE NOT done;"
    "CREATE TABLE gb_files ("
    " job text NOT NULL REFERENCES gb_jobs (id) ON DELETE CASCADE, name text NOT NULL,"
    " part int NOT NULL, data bytea NOT NULL, PRIMARY KEY (job, name, part));"
    "CREATE TABLE gb_counters (name text PRIMARY KEY, value bigint NOT NULL);"
    "INSERT INTO gb_counters VALUES ('lease_expiries', 0);"
    "INSERT INTO gb_meta VALUES ('schema', '1');";

/*
 * Version 2: the bytes of every job (gb_jobs.bytes) and application (gb_apps) as running totals
 * kept by triggers on gb_files, in the transaction that adds or removes a file part, for the
 * disk quota (--max-disk-per-app) without a walk (the application's total at the commit: a
 * deferred trigger, so that its row is locked only while a transaction commits, not while it
 * stores a chunk's output or an upload's files); the applications' rate-limit buckets
 * (gb_rate, UNLOGGED: no WAL and no fsync per request; a crash of PostgreSQL refills them);
 * the files' parts compressed with lz4 instead of pglz.
 */
static const char schema_2[] =
    "ALTER TABLE gb_jobs ADD COLUMN bytes bigint NOT NULL DEFAULT 0;"
    "CREATE TABLE gb_apps (app text PRIMARY KEY, bytes bigint NOT NULL DEFAULT 0);"
    "CREATE UNLOGGED TABLE gb_rate (app text PRIMARY KEY, tokens float8 NOT NULL,"
    " at timestamptz NOT NULL, got int NOT NULL);"
    "UPDATE gb_jobs j SET bytes = f.b FROM (SELECT job, sum(octet_length(data)) AS b"
    " FROM gb_files GROUP BY job) f WHERE f.job = j.id;"
    "INSERT INTO gb_apps (app, bytes) SELECT app, sum(bytes) FROM gb_jobs GROUP BY app;"
    "CREATE FUNCTION gb_files_bytes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'INSERT' THEN"
    "  UPDATE gb_jobs SET bytes = bytes + octet_length(NEW.data) WHERE id = NEW.job;"
    " ELSE"
    "  UPDATE gb_jobs SET bytes = bytes - octet_length(OLD.data) WHERE id = OLD.job;"
    " END IF; RETURN NULL; END $$;"
    "CREATE TRIGGER gb_files_bytes AFTER INSERT OR DELETE ON gb_files"
    " FOR EACH ROW EXECUTE FUNCTION gb_files_bytes();"
    "CREATE FUNCTION gb_jobs_bytes() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE d bigint; a text; BEGIN"
    " IF TG_OP = 'DELETE' THEN d := -OLD.bytes; a := OLD.app;"
    " ELSE d := NEW.bytes - OLD.bytes; a := NEW.app; END IF;"
    " IF d <> 0 THEN INSERT INTO gb_apps AS x (app, bytes) VALUES (a, d)"
    "  ON CONFLICT (app) DO UPDATE SET bytes = x.bytes + d; END IF;"
    " RETURN NULL; END $$;"
    "CREATE CONSTRAINT TRIGGER gb_jobs_bytes AFTER UPDATE OF bytes OR DELETE ON gb_jobs"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gb_jobs_bytes();"
    /* lz4 where the server has it (PostgreSQL 14 and later built with it): pglz compressing
     * every chunk's input and output made a 1,000,000-row job twice as slow */
    "DO $$ BEGIN ALTER TABLE gb_files ALTER COLUMN data SET COMPRESSION lz4;"
    " EXCEPTION WHEN OTHERS THEN NULL; END $$;"
    "UPDATE gb_meta SET value = '2' WHERE key = 'schema';";

int store_pg_migrate(const char *url, char *err, size_t errlen)
{
    PGconn *c = connect_url(url, err, errlen);
    if (!c)
        return -EIO;
    /* One migration at a time, whoever runs it: an advisory lock for the transaction. */
    int rc = pq_cmd(c, "BEGIN", NULL);
    if (rc == 0)
        rc = pq_cmd(c, "SELECT pg_advisory_xact_lock(7403514)", NULL);
    int v = rc == 0 ? schema_version(c) : rc;
    if (v < 0) {
        gb_errf(err, errlen, "cannot read the schema version: %s", PQerrorMessage(c));
        rc = v;
    } else if (v > PG_SCHEMA) {
        gb_errf(err, errlen, "the store's schema is version %d, newer than this geobatch's %d", v,
                PG_SCHEMA);
        rc = GB_EVERSION;
    } else {
        static const char *const steps[PG_SCHEMA] = {schema_1, schema_2};
        for (int k = v; rc == 0 && k < PG_SCHEMA; k++) {
            PGresult *r = PQexec(c, steps[k]);
            rc = res_rc(c, r);
            if (rc < 0)
                gb_errf(err, errlen, "cannot migrate the schema to version %d: %s", k + 1,
                        PQresultErrorMessage(r));
            PQclear(r);
        }
    }
    if (rc == 0)
        rc = pq_cmd(c, "COMMIT", NULL);
    else
        PQclear(PQexec(c, "ROLLBACK"));
    if (rc == 0 && v < PG_SCHEMA)
        log_info("store migrated from=%d to=%d", v, PG_SCHEMA);
    PQfinish(c);
    return rc;
}

int store_pg_open(struct store **out, const char *url, char *err, size_t errlen)
{
    PGconn *c = connect_url(url, err, errlen);
    if (!c)
        return -EIO;
    int v = schema_version(c);
    if (v != PG_SCHEMA) {
        if (v < 0)
            gb_errf(err, errlen, "cannot read the schema version: %s", PQerrorMessage(c));
        else if (v == 0)
            gb_errf(err, errlen,
                    "the store has no geobatch schema: run 'geobatch store migrate --store URL'");
        else
            gb_errf(err, errlen,
                    "the store's schema is version %d, this geobatch reads version %d%s", v,
                    PG_SCHEMA, v < PG_SCHEMA ? ": run 'geobatch store migrate --store URL'" : "");
        PQfinish(c);
        return v < 0 ? v : GB_EVERSION;
    }
    struct store_pg *s = xcalloc(1, sizeof(*s));
    s->base.ops = &pg_ops;
    s->url = xstrdup(url);
    s->lease_s = 30;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    atomic_init(&s->stop, false);
    s->slots[0].c = c;
    *out = &s->base;
    return 0;
}
