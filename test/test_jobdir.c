/*
 * test_jobdir.c - what a job directory holds on disk for the disk quota (jobdir_usage,
 * jobdir_tmp_usage): the regular files of the directory and of in/ and out/, nothing else.
 */
#include "base/err.h"
#include "job/jobdir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define ID "Ab3dEf7hIj1lMn0pQr5tUv9xYz2B4c6D"

static char root[512];

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc('x', f);
    assert_int_equal(fclose(f), 0);
}

/* mkdir root/rel */
static void mk(const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    assert_int_equal(mkdir(p, 0700), 0);
}

/* root/rel with n bytes */
static void file(const char *rel, size_t n)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    write_file(p, n);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("GB_TMP");
    snprintf(root, sizeof(root), "%s/test_jobdir.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(root));
    mk(JOBDIR_JOBS);
    mk(JOBDIR_TMP);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jobdir_remove(root, ID);
    jobdir_tmp_remove(root, ID, 1);
    char p[1024];
    snprintf(p, sizeof(p), "%s/" JOBDIR_JOBS, root);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/" JOBDIR_TMP, root);
    rmdir(p);
    rmdir(root);
    return 0;
}

static void test_usage_counts_files_of_the_job_in_and_out(void **state)
{
    (void)state;
    uint64_t b = 99;
    assert_int_equal(jobdir_usage(root, ID, &b), 0);
    assert_int_equal(b, 0); /* no directory: nothing */
    mk("jobs/" ID);
    mk("jobs/" ID "/in");
    mk("jobs/" ID "/out");
    mk("jobs/" ID "/out/deeper");
    file("jobs/" ID "/header.csv", 25);
    file("jobs/" ID "/errors.txt", 0);
    file("jobs/" ID "/in/0.csv", 1000);
    file("jobs/" ID "/in/1.csv", 300);
    file("jobs/" ID "/out/0.out", 4000);
    file("jobs/" ID "/out/0.out.7.tmp", 123);
    file("jobs/" ID "/out/deeper/x", 100000); /* below out/: not a job's file */
    char p[1024], t[1024];
    snprintf(p, sizeof(p), "%s/jobs/%s/in/0.csv", root, ID);
    snprintf(t, sizeof(t), "%s/jobs/%s/link", root, ID);
    assert_int_equal(symlink(p, t), 0); /* a link is not followed */
    assert_int_equal(jobdir_usage(root, ID, &b), 0);
    assert_int_equal(b, 25 + 1000 + 300 + 4000 + 123);
    jobdir_remove_chunks(root, ID);
    assert_int_equal(jobdir_usage(root, ID, &b), 0);
    assert_int_equal(b, 25);
    assert_int_equal(jobdir_usage(root, "../jobs", &b), GB_EPARAM);
}

static void test_tmp_usage_is_the_upload_in_progress(void **state)
{
    (void)state;
    uint64_t b = 0;
    mk("tmp/" ID);
    mk("tmp/" ID "/in");
    file("tmp/" ID "/header.csv", 40);
    file("tmp/" ID "/in/0.csv", 77);
    assert_int_equal(jobdir_tmp_usage(root, ID, &b), 0);
    assert_int_equal(b, 117);
    assert_int_equal(jobdir_usage(root, ID, &b), 0);
    assert_int_equal(b, 0); /* not in jobs/ */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage_counts_files_of_the_job_in_and_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tmp_usage_is_the_upload_in_progress, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
