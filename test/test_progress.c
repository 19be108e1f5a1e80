/*
 * test_progress.c - the status line's figures (thousands separators, ETA), and that a progress
 * that is off is NULL and harmless; a progress that is on draws "\r<line>\033[K" into stderr and
 * erases it when stopped (stderr redirected to a file here).
 */
#include "base/progress.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_num(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(progress_num(b, sizeof(b), 0), "0");
    assert_string_equal(progress_num(b, sizeof(b), 999), "999");
    assert_string_equal(progress_num(b, sizeof(b), 1000), "1,000");
    assert_string_equal(progress_num(b, sizeof(b), 1234567), "1,234,567");
    assert_string_equal(progress_num(b, sizeof(b), 18446744073709551615u),
                        "18,446,744,073,709,551,615");
    assert_string_equal(progress_num(b, 4, 1234567), "1,2"); /* cut, still terminated */
}

static void test_eta(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(progress_eta(b, sizeof(b), 50, 100, 7), "0:07");
    assert_string_equal(progress_eta(b, sizeof(b), 25, 100, 20), "1:00");
    assert_string_equal(progress_eta(b, sizeof(b), 1, 1000, 10), "2:46:30");
    assert_string_equal(progress_eta(b, sizeof(b), 0, 100, 5), "");   /* nothing done yet */
    assert_string_equal(progress_eta(b, sizeof(b), 100, 100, 5), ""); /* all done */
    assert_string_equal(progress_eta(b, sizeof(b), 10, 100, 0), "");  /* no time yet */
}

static void draw(void *ctx, double secs, char *line, size_t cap)
{
    (void)secs;
    int *calls = ctx;
    (*calls)++;
    snprintf(line, cap, "working %d", *calls);
}

static void test_off_is_null(void **state)
{
    (void)state;
    int calls = 0;
    struct progress *p = progress_start(false, draw, &calls);
    assert_null(p);
    progress_lock(p);
    progress_unlock(p);
    progress_clear(p);
    assert_true(progress_seconds(p) == 0);
    assert_true(progress_stop(p) == 0);
    assert_int_equal(calls, 0);
    assert_true(progress_wanted(true, false));
    assert_false(progress_wanted(false, true));
}

/* Run a progress with stderr in a file until draw has been called twice; return the file. */
static char *drawn(size_t *len)
{
    char path[] = "/tmp/test_progress.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    int calls = 0;
    struct progress *p = progress_start(true, draw, &calls);
    assert_non_null(p);
    for (;;) { /* wait for the second draw (a condition, polled under the lock) */
        progress_lock(p);
        int n = calls;
        progress_unlock(p);
        if (n >= 2)
            break;
        usleep(10000);
    }
    progress_lock(p);
    progress_unlock(p);
    progress_message(p, "a message %d", 7);
    progress_stop(p);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *buf = calloc(1, 4096);
    ssize_t n = pread(fd, buf, 4095, 0);
    assert_true(n > 0);
    *len = (size_t)n;
    close(fd);
    unlink(path);
    return buf;
}

static void test_on_draws_and_erases(void **state)
{
    (void)state;
    size_t n;
    char *out = drawn(&n);
    const char *want = "\r"
                       "working 1"
                       "\033[K"
                       "\r"
                       "working 2"
                       "\033[K";
    assert_memory_equal(out, want, strlen(want));
    /* then perhaps more ticks, the message in place of the line, and the final erase */
    assert_non_null(strstr(out, "\r\033[Ka message 7\n"));
    assert_true(n >= 3 && memcmp(out + n - 4, "\r\033[K", 4) == 0);
    free(out);
}

static void test_file_offset(void **state)
{
    (void)state;
    char path[] = "/tmp/test_progress_off.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char block[1000];
    memset(block, 'x', sizeof(block));
    assert_int_equal(write(fd, block, sizeof(block)), (int)sizeof(block));
    char real[4096];
    assert_non_null(realpath(path, real));
    uint64_t pos = 7;
    lseek(fd, 0, SEEK_SET);
    assert_false(progress_file_offset(real, &pos)); /* offset 0: nothing read yet */
    assert_int_equal(read(fd, block, 300), 300);
    assert_true(progress_file_offset(real, &pos));
    assert_int_equal(pos, 300);
    close(fd);
    assert_false(progress_file_offset(real, &pos)); /* not open any more */
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_num),         cmocka_unit_test(test_eta),
        cmocka_unit_test(test_off_is_null), cmocka_unit_test(test_on_draws_and_erases),
        cmocka_unit_test(test_file_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
