/*
 * co.h - interleaving memory-bound work: a few coroutines on one thread, each stepping aside
 * where it is about to wait for memory.
 *
 * A lookup in an index of a country reads one cache line after another, each address known
 * only once the line before has arrived, so a single query spends most of its time waiting.
 * co_run() runs one function on n coroutines of the calling thread; where a coroutine calls
 * co_wait(p) it asks for p's line and hands the thread to the next coroutine, whose own read is
 * then in flight with the first: n queries' misses overlap where one query's cannot. Outside
 * co_run(), co_wait() is one test of a thread-local pointer.
 *
 * Switching is cooperative and happens only inside co_wait() and co_pass(): code between two
 * calls runs as usual, so a coroutine must not call them while it holds a lock another
 * coroutine of the thread could take. Stacks are CO_STACK bytes below a guard page, mapped on
 * demand. A switch keeps the callee-saved registers; the floating-point control words are the
 * thread's (nothing here changes them). Interleaving needs a stack switch for the machine
 * (x86-64 here); elsewhere co_run() runs the n calls one after another, with the same
 * results.
 */
#ifndef GEOBATCH_CO_H
#define GEOBATCH_CO_H

#include <stdbool.h>
#include <stddef.h>

#define CO_MAX   16                /* coroutines a group may run */
#define CO_STACK ((size_t)1 << 19) /* bytes of each coroutine's stack */

struct co_group;
extern _Thread_local struct co_group *co_running; /* the group this thread runs, or NULL */

/* A group of up to n coroutines (their stacks are kept for every co_run()), or NULL when the
 * stacks cannot be mapped or the machine has no stack switch here (then run without one). */
struct co_group *co_group_new(size_t n);
void co_group_free(struct co_group *g);

/* Call fn(arg, i) for i in [0, n) (n <= the group's size), each on its own coroutine,
 * interleaved at their co_wait() calls; return when all have returned. Not nested. */
void co_run(struct co_group *g, size_t n, void (*fn)(void *arg, size_t i), void *arg);

/* Hand the thread to the next coroutine of the group that is still running. */
void co_pass(void);

/* About to read p: start its read and let another coroutine run meanwhile (in co_run()). */
static inline void co_wait(const void *p)
{
    if (co_running) {
        __builtin_prefetch(p);
        co_pass();
    }
}

#endif
