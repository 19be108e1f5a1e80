/*
 * mem.h - allocation that never returns NULL, with overflow-checked sizes, and one growable
 * vector.
 *
 * Running out of memory aborts the process: every input an outsider controls has a limit, so an
 * allocation that fails is a machine that is out of memory, not a request to refuse. A size
 * whose product overflows size_t aborts too (it is always a programmer's mistake). Callers never
 * test the result for NULL.
 */
#ifndef GEOBATCH_MEM_H
#define GEOBATCH_MEM_H

#include <stddef.h>

/* malloc/calloc/realloc that abort on failure. n == 0 gives a unique non-NULL pointer. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc(p, n * size), aborting when the product overflows. */
void *xreallocarray(void *p, size_t n, size_t size);
/* malloc(n * size) with the same check. */
void *xmallocarray(size_t n, size_t size);
/* A copy of s (NUL-terminated) or of n bytes of p plus a NUL. */
char *xstrdup(const char *s);
char *xstrndup(const char *p, size_t n);

/* A zeroed block of n bytes for a table that is read at random (a filter probed once a key):
 * from MEM_TABLE_HUGE bytes up it is aligned to and rounded up to 2 MiB and asked to live in
 * transparent huge pages (madvise), where a probe in 4 KiB pages would also miss the TLB; below,
 * calloc(). NULL when memory is short, unlike x*(): such a table is an optional speed-up. Free
 * it with free(). */
#define MEM_TABLE_HUGE ((size_t)256 << 10)
void *mem_table_calloc(size_t n);

/* Ask that the 4 KiB pages of [p, p + n) be transparent huge pages where 2 MiB of them align
 * (madvise), for
 * a buffer of MEM_HUGE_HINT bytes or more that is about to be filled: a fault then maps 2 MiB,
 * not 4 KiB, and its reads miss the TLB less. A hint: nothing when n is smaller or the kernel
 * says no. For the import's buffers (base/xsort.c, base/fmem.c, the builder's sections). */
#define MEM_HUGE_HINT ((size_t)4 << 20)
void mem_huge_hint(void *p, size_t n);

/* Grow the array *p of *cap elements of 'size' bytes so that it holds at least 'need', doubling
 * (at least 16). Return the (possibly moved) array; *cap is updated. */
void *mem_reserve(void *p, size_t *cap, size_t need, size_t size);
/* The capacity mem_reserve() grows cap to for need elements of size bytes (aborts past
 * SIZE_MAX bytes): for arrays of other allocators (base/fmem.h). */
size_t mem_grow_cap(size_t cap, size_t need, size_t size);
/* Say that n bytes could not be had and abort: for allocators that follow this file's rule. */
_Noreturn void mem_oom(size_t n);

/* The vector idiom: arr, n (used) and cap (allocated) are lvalues of one array.
 *     VEC_GROW(b->items, b->n_items, b->cap_items);  b->items[b->n_items++] = x;
 * makes room for one more element; VEC_RESERVE makes room for 'need' in all. */
#define VEC_RESERVE(arr, need, cap)                                                                \
    ((need) <= (cap) ? (void)0 : (void)((arr) = mem_reserve((arr), &(cap), (need), sizeof(*(arr)))))
#define VEC_GROW(arr, n, cap) VEC_RESERVE(arr, (size_t)(n) + 1, cap)

#endif
