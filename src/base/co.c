/*
 * co.c - the coroutines of co.h: a stack switch in a few instructions of assembly, a round-robin
 * scheduler, and the sanitizer's fiber hooks where AddressSanitizer is on.
 */
#include "base/co.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#ifdef CO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

_Thread_local struct co_group *co_running;

#if defined(__x86_64__) && defined(__linux__)
#define CO_SWITCH 1
/* co_switch(save, load): push the callee-saved registers, store the stack pointer in *save,
 * take load as the stack pointer, pop that stack's registers and return on it. */
void co_switch(void **save, void *load);
__asm__(".text\n"
        ".globl co_switch\n"
        ".hidden co_switch\n"
        ".type co_switch, @function\n"
        "co_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size co_switch, .-co_switch\n"
        ".section .note.GNU-stack,\"\",@progbits\n"
        ".text\n");
#endif

struct co {
    void *sp;     /* saved stack pointer while switched out */
    char *map;    /* guard page and stack */
    char *bottom; /* the stack: CO_STACK bytes from here */
    void *fake;   /* AddressSanitizer's fake stack while switched out */
    bool done;
};

struct co_group {
    struct co co[CO_MAX];
    size_t cap, n, cur, live;
    void *main_sp;
    void *main_fake;
    const void *main_bottom; /* the caller's stack, as the sanitizer gave it */
    size_t main_size;
    void (*fn)(void *arg, size_t i);
    void *arg;
};

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

struct co_group *co_group_new(size_t n)
{
#ifndef CO_SWITCH
    (void)n;
    return NULL;
#else
    if (n == 0 || n > CO_MAX)
        return NULL;
    struct co_group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    size_t guard = page_size();
    for (size_t i = 0; i < n; i++) {
        void *m = mmap(NULL, guard + CO_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED || mprotect(m, guard, PROT_NONE) != 0) {
            if (m != MAP_FAILED)
                munmap(m, guard + CO_STACK);
            co_group_free(g);
            return NULL;
        }
        g->co[i].map = m;
        g->co[i].bottom = (char *)m + guard;
        g->cap = i + 1;
    }
    return g;
#endif
}

void co_group_free(struct co_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->cap; i++)
        munmap(g->co[i].map, page_size() + CO_STACK);
    free(g);
}

#ifdef CO_SWITCH
static char *stack_bottom(const struct co *c)
{
    return c->bottom;
}

/* Switch from the context whose stack pointer goes to *save (fake stack to *fake; NULL when
 * that context is done for good) to the one at sp, whose stack is [bottom, bottom + size). */
static void switch_to(void **save, void **fake, void *sp, const void *bottom, size_t size)
{
#ifdef CO_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
    co_switch(save, sp);
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(fake ? *fake : NULL, NULL, NULL);
#endif
}

/* The next coroutine after `from` still running (there is one). */
static size_t next_live(const struct co_group *g, size_t from)
{
    size_t to = from;
    do
        to = to + 1 == g->n ? 0 : to + 1;
    while (g->co[to].done);
    return to;
}

void co_pass(void)
{
    struct co_group *g = co_running;
    if (!g || g->live < 2)
        return;
    size_t from = g->cur, to = next_live(g, from);
    g->cur = to;
    struct co *c = &g->co[from];
    switch_to(&c->sp, &c->fake, g->co[to].sp, stack_bottom(&g->co[to]), CO_STACK);
}

/* Where a coroutine starts (its first switch returns here) and ends. */
static void co_entry(void)
{
    struct co_group *g = co_running;
#ifdef CO_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(NULL, &bottom, &size);
    if (!g->main_bottom) { /* the first coroutine started from the caller's stack */
        g->main_bottom = bottom;
        g->main_size = size;
    }
#endif
    size_t me = g->cur;
    g->fn(g->arg, me);
    struct co *c = &g->co[me];
    c->done = true;
    if (--g->live == 0)
        switch_to(&c->sp, NULL, g->main_sp, g->main_bottom, g->main_size);
    else {
        size_t to = next_live(g, me);
        g->cur = to;
        switch_to(&c->sp, NULL, g->co[to].sp, stack_bottom(&g->co[to]), CO_STACK);
    }
    abort(); /* a finished coroutine is never switched back to */
}
#else
void co_pass(void)
{
}
#endif

void co_run(struct co_group *g, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
#ifdef CO_SWITCH
    if (g && n > 1 && n <= g->cap && !co_running) {
        g->n = n;
        g->cur = 0;
        g->live = n;
        g->fn = fn;
        g->arg = arg;
        g->main_bottom = NULL;
        g->main_size = 0;
        for (size_t i = 0; i < n; i++) {
            struct co *c = &g->co[i];
            /* a frame as co_switch leaves one: six registers, then the return address, at a
             * 16-byte boundary so that co_entry starts as if called */
#ifdef CO_ASAN
            /* the frames a finished coroutine left are still marked as its stack's */
            __asan_unpoison_memory_region(stack_bottom(c), CO_STACK);
#endif
            uintptr_t top = (uintptr_t)(stack_bottom(c) + CO_STACK) & ~(uintptr_t)15;
            void **sp = (void **)(top - 16);
            sp[0] = (void *)(uintptr_t)co_entry;
            sp[1] = NULL;
            for (int r = 1; r <= 6; r++)
                sp[-r] = NULL;
            c->sp = sp - 6;
            c->fake = NULL;
            c->done = false;
        }
        co_running = g;
        switch_to(&g->main_sp, &g->main_fake, g->co[0].sp, stack_bottom(&g->co[0]), CO_STACK);
        co_running = NULL;
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        fn(arg, i);
}
