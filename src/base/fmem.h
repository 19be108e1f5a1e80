/*
 * fmem.h - growable arrays whose pages can move to temporary files: a builder's tables that
 * grow with its input, kept within a memory budget (index/index_build.c).
 *
 * A pool hands out zero-filled arrays that grow like realloc's. Each is a mapping of its own:
 * anonymous memory until fmem_to_files(), which moves every array to a shared mapping of an
 * anonymous temporary file in the pool's directory, at the same address (no pointer changes);
 * arrays made or grown afterwards are such files too. fmem_trim() then drops the files' pages
 * from the process: the kernel keeps what it can of them in its page cache, writes them back
 * and reads them again when they are touched, so the process's resident set no longer holds
 * the tables. fmem_keep() starts a thread that does it whenever the process holds more than a
 * limit, whatever the caller is doing (a loop over a table, a sort of one). Their blocks are
 * reserved as they grow (fallocate): a full disk is not a crash later; an array that finds no
 * room stays in memory (logged once).
 *
 * The pool's functions may be called from one thread at a time, its owner; the keeper thread
 * reads the list of arrays under the pool's lock, which the owner takes to change it. The
 * arrays' contents are the owner's (the keeper only drops pages).
 */
#ifndef GEOBATCH_FMEM_H
#define GEOBATCH_FMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fmem_map {
    char *p;
    size_t len; /* bytes mapped, a multiple of the page size */
    int fd;     /* -1: anonymous memory */
};

struct fmem {
    const char *tmpdir; /* where the files go; the caller keeps the string */
    bool files;         /* fmem_to_files() was called */
    bool warned;
    struct fmem_map *maps;
    size_t n, cap;
    pthread_mutex_t mu; /* maps, against the keeper */
    pthread_cond_t cond;
    pthread_t keeper;
    bool keeping, stop;
    uint64_t limit; /* fmem_keep */
    uint64_t floor; /* what the last trim left when that was above the limit, else 0 */
    uint64_t trims; /* how often the keeper dropped the pages */
};

void fmem_init(struct fmem *m, const char *tmpdir);
/* Stop the keeper, unmap every array and close its file. */
void fmem_release(struct fmem *m);

/* p (NULL or an array of this pool) grown to at least bytes, its new bytes zero; it may move.
 * Running out of memory aborts, as in base/mem.h. */
void *fmem_realloc(struct fmem *m, void *p, size_t bytes);
void fmem_free(struct fmem *m, void *p);
/* mem_reserve() for an array of this pool: *cap elements of size bytes grown to hold need. */
void *fmem_reserve(struct fmem *m, void *p, size_t *cap, size_t need, size_t size);
#define FMEM_RESERVE(m, arr, need, cap)                                                            \
    ((need) <= (cap) ? (void)0                                                                     \
                     : (void)((arr) = fmem_reserve((m), (arr), &(cap), (need), sizeof(*(arr)))))
#define FMEM_GROW(m, arr, n, cap) FMEM_RESERVE(m, arr, (size_t)(n) + 1, cap)

/* Move every array to a temporary file (and those made later). 0, or -errno when no file could
 * be made (the arrays that moved stay moved, the others in memory). */
int fmem_to_files(struct fmem *m);
/* Drop the pages of the arrays in files from the process (their contents stay). */
void fmem_trim(struct fmem *m);
/* Start (once) a thread that every FMEM_KEEP_MS calls fmem_trim() when the process's resident
 * set passes limit bytes, unless the last trim left more than the limit and it has not grown
 * by FMEM_KEEP_MIN since (then the rest of the process holds about the limit, and dropping the
 * arrays' pages again and again would only slow it down); 0 or -errno. It runs until
 * fmem_release(). A sweep over an array faults its pages in at gigabytes a second: the limit
 * is passed by what the process touches in FMEM_KEEP_MS. */
#define FMEM_KEEP_MS  2
#define FMEM_KEEP_MIN ((uint64_t)16 << 20)
int fmem_keep(struct fmem *m, uint64_t limit);
/* Bytes mapped, in files or not. */
uint64_t fmem_bytes(const struct fmem *m);

#endif
