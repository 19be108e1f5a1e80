/*
 * mem.c - allocation that aborts on failure (see mem.h for why that is safe here).
 */
#include "base/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

_Noreturn void mem_oom(size_t n)
{
    fprintf(stderr, "geobatch: out of memory (%zu bytes)\n", n);
    abort();
}

static void *oom(size_t n)
{
    mem_oom(n);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom(n);
}

void *xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return oom(SIZE_MAX);
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n * size);
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom(n);
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return oom(SIZE_MAX);
    return xrealloc(p, n * size);
}

void *xmallocarray(size_t n, size_t size)
{
    return xreallocarray(NULL, n, size);
}

void *mem_table_calloc(size_t n)
{
    const size_t page = (size_t)2 << 20;
    if (n < MEM_TABLE_HUGE)
        return calloc(1, n ? n : 1);
    if (n > SIZE_MAX - page)
        return NULL;
    size_t bytes = (n + page - 1) & ~(page - 1);
    void *p = aligned_alloc(page, bytes);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: before the first touch, which zeroes */
#endif
    memset(p, 0, bytes);
    return p;
}

void mem_huge_hint(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    /* the whole 4 KiB pages of the block: advice on a part of a mapping would split it, and a
     * mapping in pieces cannot be grown by mremap (realloc, base/fmem.c) */
    const uintptr_t page = 4096;
    uintptr_t a = (uintptr_t)p & ~(page - 1), e = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    if (n >= MEM_HUGE_HINT)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

char *xstrndup(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

size_t mem_grow_cap(size_t cap, size_t need, size_t size)
{
    size_t c = cap ? cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            mem_oom(SIZE_MAX);
        c *= 2;
    }
    if (size && c > SIZE_MAX / size)
        mem_oom(SIZE_MAX);
    return c;
}

void *mem_reserve(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = mem_grow_cap(*cap, need, size);
    p = xreallocarray(p, c, size);
    *cap = c;
    return p;
}
