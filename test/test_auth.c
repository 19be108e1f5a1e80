/*
 * test_auth.c - the credentials of `geobatch serve`: which pairs and keys authenticate, that a
 * check costs neither the number of applications nor the length of what is sent, and that
 * failed logins are throttled per client address.
 */
#include "serve/auth.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define NAPPS 10000

/* CPU seconds of this thread: the bound below is on work, which other processes do not change. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A credentials file of NAPPS pairs app<i> code<i> and NAPPS keys key<i>; opened. */
static int setup(void **state)
{
    const char *tmp = getenv("GB_TMP");
    char path[512];
    snprintf(path, sizeof(path), "%s/test_auth_XXXXXX", tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    fprintf(fp, "# test\n\n");
    for (int i = 0; i < NAPPS; i++)
        fprintf(fp, "app%d code%d\napikey key%d\n", i, i, i);
    fprintf(fp, "dup codeX\ndup codeY\n");
    fclose(fp);
    struct auth *a = NULL;
    char err[256] = "";
    assert_int_equal(auth_open(&a, path, err, sizeof(err)), 0);
    unlink(path);
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    auth_close(*state);
    return 0;
}

static int check(struct auth *a, const char *id, const char *code, const char *key, char *app)
{
    return auth_check(a, id, code, key, app, 65);
}

static void test_pairs_and_keys(void **state)
{
    struct auth *a = *state;
    char app[65] = "";
    assert_int_equal(auth_count(a), 2 * NAPPS + 2);
    assert_int_equal(check(a, "app0", "code0", NULL, app), 0);
    assert_string_equal(app, "app0");
    assert_int_equal(check(a, "app9999", "code9999", NULL, app), 0);
    assert_string_equal(app, "app9999");
    assert_int_equal(check(a, "app5", "code6", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "app5", "code", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "app5", "code55", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "app10000", "code10000", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "apikey", "key1", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, NULL, NULL, "key7", app), 0);
    assert_int_equal(strncmp(app, "key-", 4), 0);
    assert_int_equal(strlen(app), 36);
    assert_int_equal(check(a, NULL, NULL, "code7", app), GB_EAUTH);
    assert_int_equal(check(a, NULL, NULL, "key", app), GB_EAUTH);
    /* both application ids of a duplicated app_id authenticate with their own code */
    assert_int_equal(check(a, "dup", "codeX", NULL, app), 0);
    assert_int_equal(check(a, "dup", "codeY", NULL, app), 0);
    assert_int_equal(check(a, "dup", "codeZ", NULL, app), GB_EAUTH);
    /* every credential sent must be valid */
    assert_int_equal(check(a, "app3", "wrong", "key3", app), GB_EAUTH);
    assert_int_equal(check(a, "app3", "code3", "wrong", app), GB_EAUTH);
    assert_int_equal(check(a, NULL, "wrong", "key3", app), GB_EAUTH);
    assert_int_equal(check(a, "app3", NULL, "key3", app), GB_EAUTH);
    assert_int_equal(check(a, "app3", "code3", "key3", app), 0);
    assert_string_equal(app, "app3");
    assert_int_equal(check(a, NULL, NULL, NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "", "", "", app), GB_EAUTH);
}

/* A credential over AUTH_FIELD_MAX bytes is refused, whatever follows it. */
static void test_length_bound(void **state)
{
    struct auth *a = *state;
    char app[65] = "";
    char at[AUTH_FIELD_MAX + 2];
    memset(at, 'k', sizeof(at));
    at[AUTH_FIELD_MAX] = '\0';
    assert_int_equal(check(a, NULL, NULL, at, app), GB_EAUTH);
    at[AUTH_FIELD_MAX + 1] = '\0';
    assert_int_equal(check(a, NULL, NULL, at, app), GB_EAUTH);
    assert_int_equal(check(a, "app1", at, NULL, app), GB_EAUTH);
    assert_int_equal(check(a, at, "code1", NULL, app), GB_EAUTH);
    assert_int_equal(check(a, "app1", "code1", at, app), GB_EAUTH);
}

/*
 * 20,000 applications and a 30 KB app_id: the linear scan took about 0.3 s a check (issue 13),
 * so 100 of them took 30 s; a lookup takes microseconds. 1 s leaves room for a loaded machine
 * and sanitizers.
 */
static void test_cost_independent_of_table_and_input(void **state)
{
    struct auth *a = *state;
    char app[65] = "";
    size_t big = 30000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'a', big);
    s[big] = '\0';
    double t0 = now_s();
    for (int i = 0; i < 100; i++) {
        assert_int_equal(check(a, s, s, NULL, app), GB_EAUTH);
        assert_int_equal(check(a, NULL, NULL, s, app), GB_EAUTH);
    }
    for (int i = 0; i < 10000; i++) {
        char id[32], code[32];
        snprintf(id, sizeof(id), "app%d", i);
        snprintf(code, sizeof(code), "code%d", i);
        assert_int_equal(check(a, id, code, NULL, app), 0);
        assert_int_equal(check(a, id, "codeX", NULL, app), GB_EAUTH);
    }
    double el = now_s() - t0;
    free(s);
    if (el >= 1.0)
        fail_msg("200 long and 20,000 short checks took %.2f s of CPU", el);
}

/* AUTH_FAIL_BURST failures from an address, then it must wait; other addresses are not. */
static void test_failures_throttled_per_address(void **state)
{
    struct auth *a = *state;
    int retry = -1;
    for (int i = 0; i < AUTH_FAIL_BURST; i++) {
        assert_int_equal(auth_admit(a, "192.0.2.1", &retry), 0);
        auth_failed(a, "192.0.2.1", "app1", "app_id");
    }
    assert_int_equal(retry, -1);
    assert_int_equal(auth_admit(a, "192.0.2.1", &retry), GB_ELIMIT);
    assert_true(retry >= 1 && retry <= AUTH_FAIL_REFILL_S);
    assert_int_equal(auth_admit(a, "192.0.2.2", &retry), 0);
    assert_int_equal(auth_admit(a, "", &retry), 0);
    assert_int_equal(auth_admit(a, NULL, &retry), 0);
    /* many other addresses do not push it out while it is the least forgiven of its set */
    char addr[32];
    for (int i = 0; i < 3 * AUTH_FAIL_WAYS * AUTH_FAIL_SETS; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        auth_failed(a, addr, NULL, "none");
        auth_failed(a, addr, NULL, "none");
    }
    assert_int_equal(auth_admit(a, "192.0.2.1", &retry), GB_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_and_keys),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_cost_independent_of_table_and_input),
        cmocka_unit_test(test_failures_throttled_per_address),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
