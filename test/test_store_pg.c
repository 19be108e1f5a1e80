/*
 * test_store_pg.c - the PostgreSQL job store (store_pg.c) against a real PostgreSQL: the URL
 * comes from GB_PG_URL (test/e2e/store_pg.sh starts a server, migrates it and runs this
 * binary); without it every case is skipped. Each case empties the tables first. Several
 * store handles stand for several processes. Covers: a job stored with its files in one
 * transaction (or not at all), files out and back, claims with tokens, a chunk's output stored
 * with its count, leases that expire and are taken over with the late holder fenced off
 * (count, renewal, file put, finish), round-robin between applications, index identity,
 * cancel and delete dropping files, LISTEN/NOTIFY wake-ups, the limits of a new job checked in
 * its transaction with the application's bytes as a running total, and the rate-limit buckets
 * shared by every handle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "store/store.h"

static const char *url;
static char dir[1024];

static void sql(const char *q)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
}

/* One integer from a query. */
static long long sql_int(const char *q)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
}

static void write_file(const char *name, const char *text)
{
    char p[1200];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    url = getenv("GB_PG_URL");
    if (!url || !*url) {
        url = NULL;
        return 0; /* each case skips */
    }
    sql("TRUNCATE gb_jobs, gb_chunks, gb_files, gb_apps, gb_rate CASCADE;"
        " UPDATE gb_counters SET value = 0");
    const char *tmp = getenv("GB_TMP");
    snprintf(dir, sizeof(dir), "%s/test_store_pg.XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char p[1200];
    snprintf(p, sizeof(p), "%s/in", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    write_file("header.csv", "recId|searchText\n");
    write_file("errors.txt", "Line Number:3 a|b|c\n");
    write_file("in/0.csv", "recId|searchText\n1|Vaduz\n");
    write_file("in/1.csv", "recId|searchText\n2|Schaan\n");
    write_file("out.txt", "1|1|1|47.1\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!url)
        return 0;
    char cmd[1300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static struct store *open_pg(const char *index_id, int lease)
{
    struct store *st = NULL;
    char err[512] = "";
    int rc = store_open(&st, url, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_true(store_keeps_files(st));
    store_config(st, &(struct store_claim_config){index_id, lease});
    return st;
}

static void make_job(struct job_info *j, const char *id, const char *app, uint32_t nchunks)
{
    memset(j, 0, sizeof(*j));
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->app, sizeof(j->app), "%s", app);
    j->state = JOB_ACCEPTED;
    j->created = 100;
    j->total = 3;
    j->valid = 2;
    j->invalid = 1;
    j->nchunks = nchunks;
    snprintf(j->params, sizeof(j->params), "outcols=latitude");
}

/* The stored file name of job id, read back through a temporary file, into out. */
static void get_text(struct store *st, const char *id, const char *name, char *out, size_t cap,
                     int want_rc)
{
    char p[1200];
    snprintf(p, sizeof(p), "%s/get.tmp", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(store_file_get(st, id, name, fd), want_rc);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
}

#define ID1 "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP1"
#define ID2 "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP2"
#define ID3 "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP3"

static void test_job_with_files(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *st = open_pg("ixA", 30);
    struct job_info j, g;
    make_job(&j, ID1, "appA", 2);
    assert_int_equal(store_job_create_from(st, &j, dir), 0);
    assert_int_equal(store_job_create_from(st, &j, dir), -EEXIST);
    char text[256];
    get_text(st, ID1, "in/1.csv", text, sizeof(text), 0);
    assert_string_equal(text, "recId|searchText\n2|Schaan\n");
    get_text(st, ID1, "errors.txt", text, sizeof(text), 0);
    assert_string_equal(text, "Line Number:3 a|b|c\n");
    get_text(st, ID1, "in/2.csv", text, sizeof(text), GB_ENOTFOUND);

    struct store_task t0, t1, spare;
    assert_int_equal(store_task_claim(st, "", 1000, &t0), 0);
    assert_int_equal(store_task_claim(st, "", 1000, &t1), 0);
    assert_int_equal(t0.kind, TASK_CHUNK);
    assert_int_equal(t0.chunk, 0);
    assert_int_equal(t1.chunk, 1);
    assert_true(t0.claim > 0 && t1.claim != t0.claim);
    assert_int_equal(store_task_claim(st, "", 1000, &spare), GB_ENOTFOUND);
    assert_int_equal(store_job_get(st, ID1, "appA", &g), 0);
    assert_int_equal(g.state, JOB_RUNNING);
    assert_int_equal(g.started, 1000);
    assert_string_equal(g.index_id, "ixA");
    assert_int_equal(store_job_get(st, ID1, "appB", &g), GB_ENOTFOUND);

    char out[1200];
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    const struct store_chunk_result r = {1, 1, 0, 1, 0};
    assert_int_equal(store_chunk_done_files(st, &t0, &r, out, NULL), 0);
    assert_int_equal(store_chunk_done_files(st, &t0, &r, out, NULL), GB_ESTATE); /* once */
    assert_int_equal(store_chunk_done_files(st, &t1, &r, out, NULL), 0);
    get_text(st, ID1, "out/1.out", text, sizeof(text), 0);
    assert_string_equal(text, "1|1|1|47.1\n");

    struct store_task f, old;
    assert_int_equal(store_task_claim(st, "", 1001, &f), 0);
    assert_int_equal(f.kind, TASK_FINALIZE);
    assert_int_equal(store_task_release(st, &f), 0);
    old = f;
    assert_int_equal(store_task_claim(st, "", 1001, &f), 0);
    assert_int_equal(store_file_put(st, &old, "result.txt", out), GB_ESTATE); /* not its */
    assert_int_equal(store_file_put(st, &f, "result.txt", out), 0);
    assert_int_equal(store_job_finish(st, &old, JOB_COMPLETED, 1002), GB_ESTATE);
    assert_int_equal(store_job_finish(st, &f, JOB_COMPLETED, 1002), 0);
    assert_int_equal(store_job_get(st, ID1, NULL, &g), 0);
    assert_int_equal(g.state, JOB_COMPLETED);
    assert_int_equal(g.processed, 2);
    assert_int_equal(g.chunks_done, 2);
    get_text(st, ID1, "result.txt", text, sizeof(text), 0);
    assert_string_equal(text, "1|1|1|47.1\n");
    /* the chunk files are gone with the completion; the upload's others stay */
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files WHERE name LIKE 'in/%' OR name LIKE"
                             " 'out/%'"),
                     0);
    get_text(st, ID1, "header.csv", text, sizeof(text), 0);
    assert_string_equal(text, "recId|searchText\n");
    assert_int_equal(store_job_purge(st, ID1), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files"), 0);
    assert_int_equal(store_job_purge(st, ID1), GB_ENOTFOUND);
    store_close(st);
}

static void test_create_is_atomic(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *st = open_pg("ixA", 30);
    struct job_info j, g;
    make_job(&j, ID1, "appA", 3); /* in/2.csv does not exist: nothing may be stored */
    assert_int_equal(store_job_create_from(st, &j, dir), -ENOENT);
    assert_int_equal(store_job_get(st, ID1, NULL, &g), GB_ENOTFOUND);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files"), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_chunks"), 0);
    store_close(st);
}

/* Claim through st until it gives a chunk (the lease of another handle expires), at most 15 s. */
static int claim_when_free(struct store *st, struct store_task *t)
{
    for (int i = 0; i < 300; i++) {
        int rc = store_task_claim(st, "", 2000, t);
        if (rc != GB_ENOTFOUND)
            return rc;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return GB_ENOTFOUND;
}

static void test_lease_expiry_fences(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *a = open_pg("ixA", 1), *b = open_pg("ixA", 1);
    struct job_info j, g;
    make_job(&j, ID1, "appA", 1);
    assert_int_equal(store_job_create_from(b, &j, dir), 0);
    struct store_task ta, tb;
    assert_int_equal(store_task_claim(a, "", 1000, &ta), 0);
    assert_int_equal(store_task_renew(a, &ta), 0);
    assert_int_equal(store_task_claim(b, "", 1000, &tb), GB_ENOTFOUND); /* leased */
    assert_int_equal(claim_when_free(b, &tb), 0);                       /* expired */
    assert_int_equal(tb.chunk, 0);
    assert_true(tb.claim != ta.claim);
    char out[1200];
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    const struct store_chunk_result r = {2, 2, 0, 2, 0};
    assert_int_equal(store_task_renew(a, &ta), GB_ESTATE); /* late: refused */
    assert_int_equal(store_chunk_done_files(a, &ta, &r, out, NULL), GB_ESTATE);
    assert_int_equal(store_task_fail(a, &ta, 2001), GB_ESTATE); /* fails nothing */
    assert_int_equal(store_chunk_done_files(b, &tb, &r, out, NULL), 0);
    assert_int_equal(store_job_get(a, ID1, NULL, &g), 0);
    assert_int_equal(g.state, JOB_RUNNING);
    assert_int_equal(g.processed, 2); /* counted once */
    struct store_stats s;
    assert_int_equal(store_stats(a, &s), 0);
    assert_int_equal(s.lease_expiries, 1);
    assert_int_equal(s.leased_chunks, 0);
    /* the finalisation's lease too: a late finisher is refused */
    struct store_task fa, fb;
    assert_int_equal(store_task_claim(a, "", 2002, &fa), 0);
    assert_int_equal(fa.kind, TASK_FINALIZE);
    assert_int_equal(claim_when_free(b, &fb), 0);
    assert_int_equal(fb.kind, TASK_FINALIZE);
    assert_int_equal(store_file_put(a, &fa, "result.txt", out), GB_ESTATE);
    assert_int_equal(store_job_finish(a, &fa, JOB_COMPLETED, 2003), GB_ESTATE);
    assert_int_equal(store_job_finish(b, &fb, JOB_COMPLETED, 2003), 0);
    store_close(a);
    store_close(b);
}

static void test_round_robin_and_index(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *st = open_pg("ixA", 30), *other = open_pg("ixB", 30);
    struct job_info j;
    make_job(&j, ID1, "appA", 3);
    j.created = 1;
    write_file("in/2.csv", "recId|searchText\n3|Balzers\n");
    assert_int_equal(store_job_create_from(st, &j, dir), 0);
    make_job(&j, ID2, "appB", 2);
    j.created = 2;
    assert_int_equal(store_job_create_from(st, &j, dir), 0);
    struct store_task t;
    const char *want[] = {"appA", "appB", "appA", "appB", "appA"};
    char last[STORE_APP_MAX + 1] = "";
    for (int i = 0; i < 5; i++) {
        assert_int_equal(store_task_claim(st, last, 1000, &t), 0);
        assert_string_equal(t.app, want[i]);
        snprintf(last, sizeof(last), "%s", t.app);
    }
    /* both jobs started on ixA: a worker with another index takes nothing of them */
    make_job(&j, ID3, "appC", 1);
    assert_int_equal(store_job_create_from(st, &j, dir), 0);
    assert_int_equal(store_task_claim(other, "", 1000, &t), 0);
    assert_string_equal(t.id, ID3); /* the new job is free for any index */
    assert_int_equal(store_task_claim(other, "", 1000, &t), GB_ENOTFOUND);
    struct job_info g;
    assert_int_equal(store_job_get(st, ID3, NULL, &g), 0);
    assert_string_equal(g.index_id, "ixB");
    store_close(st);
    store_close(other);
}

static void test_cancel_delete_drop_files(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *st = open_pg("ixA", 30);
    struct job_info j, g;
    make_job(&j, ID1, "appA", 2);
    assert_int_equal(store_job_create_from(st, &j, dir), 0);
    struct store_task t;
    assert_int_equal(store_task_claim(st, "", 1000, &t), 0);
    assert_int_equal(
        store_job_transition(st, ID1, "appB", JOB_MASK(JOB_RUNNING), JOB_CANCELLED, 1001, &g),
        GB_ENOTFOUND);
    assert_int_equal(
        store_job_transition(st, ID1, "appA", JOB_MASK(JOB_RUNNING), JOB_CANCELLED, 1001, &g), 0);
    assert_int_equal(g.state, JOB_CANCELLED);
    assert_int_equal(g.finished, 1001);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files WHERE name LIKE 'in/%'"), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files"), 2); /* header, errors */
    char out[1200];
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    const struct store_chunk_result r = {1, 1, 0, 1, 0};
    assert_int_equal(store_chunk_done_files(st, &t, &r, out, NULL), GB_ESTATE);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_chunks WHERE claim <> 0"), 0); /* released */
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files"), 2);
    assert_int_equal(
        store_job_transition(st, ID1, "appA", JOB_MASK(JOB_CANCELLED), JOB_DELETED, 1002, &g), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_files"), 0);
    store_close(st);
}

/* The bytes of the upload files setup() writes: header, errors, two chunks. */
#define UPLOAD_BYTES                                                                               \
    (strlen("recId|searchText\n") + strlen("Line Number:3 a|b|c\n") +                              \
     strlen("recId|searchText\n1|Vaduz\n") + strlen("recId|searchText\n2|Schaan\n"))

static uint64_t bytes_of(struct store *st, const char *app)
{
    uint64_t b = 99999;
    assert_int_equal(store_app_bytes(st, app, &b), 0);
    return b;
}

static void test_limits_and_bytes(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *st = open_pg("ixA", 30);
    struct job_info j, g;
    assert_int_equal(bytes_of(st, "appA"), 0);
    make_job(&j, ID1, "appA", 2);
    assert_int_equal(store_job_create_within(st, &j, dir, &(struct store_app_limits){1, 0}, NULL),
                     0);
    assert_int_equal(bytes_of(st, "appA"), UPLOAD_BYTES);
    make_job(&j, ID2, "appA", 2);
    assert_int_equal(store_job_create_within(st, &j, dir, &(struct store_app_limits){1, 0}, NULL),
                     GB_ELIMIT);
    uint64_t used = 0;
    assert_int_equal(store_job_create_within(
                         st, &j, dir, &(struct store_app_limits){0, 2 * UPLOAD_BYTES - 1}, &used),
                     -EDQUOT);
    assert_int_equal(used, UPLOAD_BYTES);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_jobs"), 1); /* nothing of it stored */
    assert_int_equal(bytes_of(st, "appA"), UPLOAD_BYTES);
    assert_int_equal(
        store_job_create_within(st, &j, dir, &(struct store_app_limits){2, 2 * UPLOAD_BYTES}, NULL),
        0);
    assert_int_equal(bytes_of(st, "appA"), 2 * UPLOAD_BYTES);
    assert_int_equal(bytes_of(st, "appB"), 0);
    /* a chunk's output adds, a delete and a purge take away */
    struct store_task t;
    assert_int_equal(store_task_claim(st, "", 1000, &t), 0);
    char out[1200];
    snprintf(out, sizeof(out), "%s/out.txt", dir);
    const struct store_chunk_result r = {1, 1, 0, 1, 0};
    assert_int_equal(store_chunk_done_files(st, &t, &r, out, NULL), 0);
    assert_int_equal(bytes_of(st, "appA"), 2 * UPLOAD_BYTES + strlen("1|1|1|47.1\n"));
    assert_int_equal(
        store_job_transition(st, t.id, "appA", JOB_MASK(JOB_RUNNING), JOB_DELETED, 1001, &g), 0);
    assert_int_equal(bytes_of(st, "appA"), UPLOAD_BYTES);
    assert_int_equal(store_job_purge(st, t.id), 0);
    assert_int_equal(store_job_purge(st, strcmp(t.id, ID1) == 0 ? ID2 : ID1), 0);
    assert_int_equal(bytes_of(st, "appA"), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM gb_apps WHERE bytes <> 0"), 0);
    store_close(st);
}

static void test_rate_shared(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *a = open_pg("ixA", 30), *b = open_pg("ixA", 30);
    assert_true(store_is_shared(a));
    /* a bucket of 3 that refills one token in 1000 s: 3 requests pass, on either handle */
    assert_int_equal(store_rate_take(a, "appA", 0.001, 3, 1), 1);
    assert_int_equal(store_rate_take(b, "appA", 0.001, 3, 1), 1);
    assert_int_equal(store_rate_take(a, "appA", 0.001, 3, 1), 1);
    assert_int_equal(store_rate_take(b, "appA", 0.001, 3, 1), 0);
    assert_int_equal(store_rate_take(a, "appA", 0.001, 3, 1), 0);
    assert_int_equal(store_rate_take(b, "appB", 0.001, 3, 1), 1);
    /* refilled by the database's clock: an hour later the bucket is full again, not fuller */
    sql("UPDATE gb_rate SET at = at - interval '1 hour' WHERE app = 'appA'");
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_rate_take(b, "appA", 0.001, 3, 1), 1);
    assert_int_equal(store_rate_take(a, "appA", 0.001, 3, 1), 0);
    /* a node takes several at once: as many as the bucket has, up to what it asks */
    assert_int_equal(store_rate_take(a, "appC", 0.001, 5, 2), 2);
    assert_int_equal(store_rate_take(b, "appC", 0.001, 5, 4), 3);
    assert_int_equal(store_rate_take(a, "appC", 0.001, 5, 2), 0);
    store_close(a);
    store_close(b);
}

static atomic_int woken;

static void on_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&woken, 1);
}

/* Wait until woken passes n, at most 10 s. */
static bool woken_past(int n)
{
    for (int i = 0; i < 200 && atomic_load(&woken) <= n; i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&woken) > n;
}

static void test_listen(void **state)
{
    (void)state;
    if (!url)
        skip();
    struct store *w = open_pg("ixA", 30), *api = open_pg("ixA", 30);
    atomic_store(&woken, 0);
    assert_int_equal(store_listen(w, on_wake, NULL), 0);
    assert_true(woken_past(0)); /* once when it starts listening */
    int n = atomic_load(&woken);
    struct job_info j;
    make_job(&j, ID1, "appA", 1);
    j.state = JOB_SUBMITTED; /* not yet work: no wake-up needed */
    assert_int_equal(store_job_create_from(api, &j, dir), 0);
    assert_int_equal(
        store_job_transition(api, ID1, NULL, JOB_MASK(JOB_SUBMITTED), JOB_ACCEPTED, 1000, NULL), 0);
    assert_true(woken_past(n)); /* the run woke the listener of another handle */
    assert_int_equal(store_listen(w, NULL, NULL), 0);
    store_close(w);
    store_close(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_job_with_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry_fences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin_and_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_delete_drop_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_shared, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
