/*
 * test_co.c - coroutines that step aside at co_wait(): the order in which they run, their
 * stacks, and the same results with and without a group.
 */
#include "base/co.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

enum { STEPS = 5, MAX_LOG = 256 };

struct trace {
    int log[MAX_LOG]; /* 10 * coroutine + step, in the order they ran */
    int n;
    int steps[CO_MAX]; /* steps of coroutine i (STEPS when 0) */
};

static void stepper(void *arg, size_t i)
{
    struct trace *t = arg;
    int steps = t->steps[i] ? t->steps[i] : STEPS;
    for (int s = 0; s < steps; s++) {
        t->log[t->n++] = 10 * (int)i + s;
        co_wait(t);
    }
}

/* Round robin: each coroutine runs to its next co_wait(), then the next one; a coroutine
 * that is done drops out of the turn. */
static void test_round_robin(void **state)
{
    (void)state;
    struct co_group *g = co_group_new(3);
    if (!g)
        skip(); /* no stack switch for this machine: co_run() runs one after another */
    struct trace t = {.n = 0, .steps = {2, 4, 3}};
    co_run(g, 3, stepper, &t);
    const int want[] = {0, 10, 20, 1, 11, 21, 12, 22, 13};
    assert_int_equal(t.n, (int)(sizeof(want) / sizeof(want[0])));
    assert_memory_equal(t.log, want, sizeof(want));
    assert_null(co_running); /* outside co_run() again */
    co_group_free(g);
}

/* Without a group (or outside co_run) co_wait() does nothing: the calls run one after
 * another. */
static void test_without_group(void **state)
{
    (void)state;
    struct trace t = {.n = 0, .steps = {2, 3}};
    co_run(NULL, 2, stepper, &t);
    const int want[] = {0, 1, 10, 11, 12};
    assert_int_equal(t.n, 5);
    assert_memory_equal(t.log, want, sizeof(want));
    co_wait(&t); /* not in a group: returns at once */
    co_pass();
}

/* One coroutine alone runs straight through; a group is reused for run after run. */
static void test_one_and_reuse(void **state)
{
    (void)state;
    struct co_group *g = co_group_new(CO_MAX);
    if (!g)
        skip();
    for (int round = 0; round < 100; round++) {
        struct trace t = {.n = 0};
        size_t n = (size_t)(round % CO_MAX) + 1;
        co_run(g, n, stepper, &t);
        assert_int_equal(t.n, (int)n * STEPS);
        for (int k = 0; k < t.n; k++) /* step s of every coroutine before step s + 1 of any */
            assert_int_equal(t.log[k], n == 1 ? k : 10 * (k % (int)n) + k / (int)n);
    }
    co_group_free(g);
    assert_null(co_group_new(0));
    assert_null(co_group_new(CO_MAX + 1));
}

/* Each coroutine has its own stack: locals survive the switches, also deep in recursion and
 * in large frames. */
static uint64_t deep(int depth, uint64_t x)
{
    volatile char pad[1024];
    memset((char *)pad, (int)(x & 0xff), sizeof(pad));
    co_wait((const char *)pad);
    uint64_t below = depth ? deep(depth - 1, x * 31 + 7) : 0;
    co_wait((const char *)pad);
    uint64_t sum = 0;
    for (size_t k = 0; k < sizeof(pad); k++)
        sum += (unsigned char)pad[k];
    return below + sum + x;
}

struct deep_arg {
    uint64_t got[8];
};

static void deep_run(void *arg, size_t i)
{
    struct deep_arg *d = arg;
    d->got[i] = deep(100 + (int)i * 10, i + 1);
}

static void test_stacks(void **state)
{
    (void)state;
    struct deep_arg with = {{0}}, without = {{0}};
    struct co_group *g = co_group_new(8);
    if (!g)
        skip();
    co_run(g, 8, deep_run, &with);
    co_run(NULL, 8, deep_run, &without);
    assert_memory_equal(with.got, without.got, sizeof(with.got));
    for (int i = 0; i < 8; i++)
        assert_true(with.got[i] != 0);
    co_group_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin),
        cmocka_unit_test(test_without_group),
        cmocka_unit_test(test_one_and_reuse),
        cmocka_unit_test(test_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
