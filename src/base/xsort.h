/*
 * xsort.h - an external sorter within a memory budget, and the budget it draws on.
 *
 * Records go in, in any order, while an input is read, and come out sorted: in memory while the
 * pool has room, else through sorted runs in anonymous temporary files that are merged. The
 * order never depends on where the records were sorted. Used by the index builder (every table
 * counted per address or point); its anonymous temporary files (xs_tmpfile, xs_append) by the
 * OSM importer's join too.
 *
 * Thread safety: a pool and its sorters belong to one thread.
 */
#ifndef GEOBATCH_XSORT_H
#define GEOBATCH_XSORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_WBUF (1u << 20) /* write buffer of a spilled sorter, of a run, of a section output */

/* ---- the memory budget ---- */

/* What a user of sorters may hold (budget) and what it holds: its own tables (resident, an
 * estimate it refreshes; the builder's from their capacities) and the buffers of its sorters and
 * outputs (held, exact). Sorters and outputs grow only while the sum stays within the budget,
 * else they move to temporary files in tmpdir. */
struct xs_pool {
    uint64_t budget;
    uint64_t resident;
    uint64_t held;
    const char *tmpdir;
};

/* Bytes the pool can still give (0 when the budget is spent): the budget less what the
 * estimates count, or less what the process really holds when that is more (memory the
 * estimates do not see: the allocator's, the importers'). */
uint64_t pool_room(const struct xs_pool *p);

/* What the process holds in memory now (resident set), or 32 MiB when it cannot tell. */
uint64_t process_rss(void);

/* A temporary file in dir that no one else can see and that vanishes when it is closed or the
 * process ends, however it ends (O_TMPFILE; else a name unlinked at once). Return the
 * descriptor or -errno. */
int xs_tmpfile(const char *dir);

/* Sort n elements of size bytes at base in place with cmp (introsort: no extra memory, unlike
 * qsort, which may allocate a copy of the array). cmp must be a total order. */
typedef int xs_cmp_fn(const void *a, const void *b, void *ctx);
void xs_qsort(void *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx);
/* xs_qsort, or qsort_r (faster: it merges through a copy) when the pool has room for the copy.
 * The same order either way (a total order has one). */
void xs_sort_in(struct xs_pool *pool, void *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx);

/* ---- the external sorter ---- */

/* An optional 64-bit prefix of the order: records whose keys differ compare as their keys do,
 * and cmp decides only between equal keys (it saves reading the records on most comparisons). */
typedef uint64_t xs_key_fn(const void *rec, void *ctx);

struct xs_ent { /* a variable-size record in memory while it is sorted */
    uint64_t key;
    uint64_t off;
};

struct xs_reader {     /* one sorted run while runs are merged */
    uint64_t pos, end; /* what is left of the run in the file */
    char *buf;
    size_t len, cap, at; /* bytes in buf, the current record's offset in it */
    uint32_t cur;        /* the current record's length */
};

/*
 * Records are added in any order while the input is read; xsort_sort() then fixes the order
 * (cmp, key and ctx may be set only then: the order may depend on what the whole input taught,
 * such as the final street numbers) and xsort_next() returns them sorted. While the records fit
 * in the pool they stay in memory and are sorted there; once they do not, all of them go to an
 * unsorted spill file, which xsort_sort() reads back in chunks that fit, sorts and writes as
 * runs, and the runs are merged (in several passes when there are more than XS_FANIN). The
 * order is the same either way, so that the output does not depend on the budget.
 *
 * A record is `fixed` bytes (a multiple of 8) or, when fixed is 0, of any length below 2^31:
 * stored as a u32 length, the bytes and padding to 4, so a record is always 4-aligned (8 for
 * fixed sizes) where xsort_next() returns it.
 */
struct xsort {
    const char *name; /* for messages */
    struct xs_pool *pool;
    size_t fixed;
    xs_cmp_fn *cmp;
    xs_key_fn *key;
    void *ctx;
    char *buf; /* records in memory, or the chunk being sorted, or the spill's write buffer */
    size_t len, cap;
    size_t n_buf;       /* records in buf */
    uint64_t n;         /* records added */
    uint64_t held;      /* what this sorter counts in pool->held */
    struct xs_ent *ent; /* variable-size records: their sort entries */
    size_t ent_cap;
    int spill_fd; /* -1 until the records no longer fit */
    uint64_t spill_len;
    int run_fd; /* sorted runs, one after another */
    uint64_t run_len;
    struct xs_run {
        uint64_t off, len;
    } * runs;
    size_t n_runs, cap_runs;
    bool sorted;
    bool by_index; /* fixed-size records sorted through ent (off: the record's index), unmoved */
    size_t it;     /* in memory: the next record */
    struct xs_reader *rd;
    size_t n_rd;
    uint32_t *heap; /* readers by their current record */
    size_t n_heap;
    long last; /* the reader whose record xsort_next() returned last, -1 none */
    int rc;    /* the first error (-errno), sticky */
};

void xsort_init(struct xsort *s, const char *name, struct xs_pool *pool, size_t fixed);
/* Add one record (len bytes; len == fixed for fixed-size sorters). Return 0 or -errno (a
 * temporary file could not be written). */
int xsort_add(struct xsort *s, const void *rec, size_t len);
/* Move the records held in memory to the spill file now, as xsort_add does when the pool has
 * no room for the next one: for a pool whose room its owner's tables took since. Nothing when
 * they are there already or the order is fixed. Return 0 or -errno. */
int xsort_spill(struct xsort *s);
/* Fix the order and prepare the iteration. Return 0 or -errno. */
int xsort_sort(struct xsort *s, xs_cmp_fn *cmp, xs_key_fn *key, void *ctx);
/* The next record in order and its length, or NULL at the end or on an error (s->rc). Valid
 * until the next call. */
const void *xsort_next(struct xsort *s, size_t *len);
/* Free everything (the temporary files vanish with their descriptors). */
void xsort_release(struct xsort *s);

/* Append n bytes at *len of the temporary file *fd, which is created in dir on first use (also
 * when n is 0); *len grows by n. Return 0 or a negative errno. */
int xs_append(const char *dir, int *fd, const void *p, size_t n, uint64_t *len);

#endif
