/*
 * osm_nodes.c - node locations by id: a sorted block file, memory-mapped, with a bounded
 * resident set; or, for ids out of order, a sorted array in memory. See osm_nodes.h.
 *
 * Blocks. A block is one page: a count, up to 341 id deltas from the block's first id (32 bits;
 * an id further away starts a new block) and as many (lat, lon) pairs. Blocks [0, nfile) are in
 * the file, [nfile, nblk) in the write buffer (written 256 at a time), and the block being
 * filled is the buffer's next one, so a lookup never waits for a write. first[] holds every full
 * block's first id: a lookup is a binary search there (after trying the block of the last
 * lookup: a way's nodes are usually neighbours), then one in the block.
 *
 * The mapping. The file is mapped read-only and shared, larger than the file (the size doubles
 * when the file outgrows it): pages past the end of the file are never touched, and pwrite()s
 * are seen through the mapping (one page cache). A fault maps the cached pages around the
 * faulting one too (fault-around, 64 KiB by default; MADV_RANDOM, which stops the kernel's
 * read-ahead, does not stop it), so each FAULT_BLKS window a lookup touches is counted once (a
 * bitmap, and a list to clear it); when the count passes the budget the whole mapping is
 * MADV_DONTNEED'ed: the pages leave the process but stay in the page cache, so touching them
 * again costs a minor fault, not a read. (Counting single pages let the 128-copy tile's mapped
 * pages reach 286 MB under a 64 MiB budget.) Once the file is sealed, the readers of other
 * threads share one more mapping of it, with its own budget (struct shared_map).
 *
 * Memory mode. An id not above the last one (an unsorted file, or a duplicate) moves every
 * location into the array the importer used before this store existed, and from then on the
 * store behaves exactly as that array did (append; sort with qsort() at the first lookup after an
 * out-of-order append; lower-bound binary search), so such files import as they always have.
 */
#include "import/osm_nodes.h"
#include "base/err.h"
#include "base/mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLK_NODES  341
#define BLK_BYTES  4096
#define WBUF_BLKS  256
#define FAULT_BLKS 16 /* blocks a fault maps: the kernel's fault_around_bytes (64 KiB) */

struct blk {
    uint32_t n;
    uint32_t delta[BLK_NODES];
    int32_t ll[BLK_NODES][2];
};
static_assert(sizeof(struct blk) == BLK_BYTES, "a block is one page");

struct node16 {
    int64_t id;
    int32_t lat, lon;
};

/* A mapping of the file and the fault windows it holds, for one thread's lookups (or, under
 * struct shared_map's lock, the readers'). The bits of touched are read and written with
 * relaxed atomics, so that a reader may test its window's bit without the lock. */
struct nmap {
    const struct blk *map;
    size_t map_blks;    /* blocks the mapping covers (may pass the file's end) */
    size_t budget;      /* fault windows (FAULT_BLKS pages each) mapped at once */
    uint64_t *touched;  /* a bit a window */
    size_t touched_cap; /* words */
    size_t *tlist;
    size_t ntouched, unmaps;
    size_t hint; /* the block of the last lookup */
};

/* The readers' one mapping of the sealed file: a window one reader faulted in is mapped for
 * every other (each with a mapping of its own faulted it again, and each had a share of the
 * budget). A lookup reads its window's bit without the lock; a new window is counted under it
 * by touch(), which past the budget drops every window, as for one thread's mapping. The bitmap
 * covers the whole file from the start, so touch() never grows it under a reader. A lookup
 * that passed the bit test while another thread drops the pages faults its window in again,
 * uncounted until it is next found unmarked: the budget may be passed by a window a reader. */
struct shared_map {
    pthread_mutex_t mu;
    struct nmap m; /* map covers the sealed file's blocks */
};

struct osm_nodes_reader {
    struct osm_nodes *s;
    size_t hint; /* the block of this reader's last lookup */
};

struct osm_nodes {
    char tmpdir[PATH_MAX];
    char err[PATH_MAX + 64]; /* why the last add failed */
    int fd;                  /* -1 until the first write */
    int64_t *first;          /* first id of every full block */
    size_t nblk, first_cap;
    struct blk *wbuf; /* blocks [nfile, nblk), then the one being filled */
    size_t nfile;     /* blocks in the file */
    int64_t tail_first, last_id;
    size_t count;
    bool sealed;                /* osm_nodes_seal(): every block is in the file */
    struct nmap own;            /* the store's own lookups' */
    pthread_mutex_t readers_mu; /* guards shared and nreaders */
    struct shared_map *shared;  /* the readers' mapping, while there are readers */
    size_t nreaders;
    size_t reader_maps; /* the drops of the readers' mappings freed so far */
    /* memory mode */
    bool mem, unsorted;
    struct node16 *arr;
    size_t narr, arr_cap;
};

static void nmap_init(struct nmap *m, size_t budget_bytes)
{
    memset(m, 0, sizeof(*m));
    m->budget = budget_bytes / (BLK_BYTES * FAULT_BLKS);
    if (m->budget < 1)
        m->budget = 1;
    m->tlist = xmallocarray(m->budget, sizeof(size_t));
}

static void unmap(struct nmap *m)
{
    if (m->map)
        munmap((void *)m->map, m->map_blks * BLK_BYTES);
    m->map = NULL;
    m->map_blks = 0;
}

static void nmap_release(struct nmap *m)
{
    unmap(m);
    free(m->touched);
    free(m->tlist);
    memset(m, 0, sizeof(*m));
}

struct osm_nodes *osm_nodes_new(const char *tmpdir, size_t map_budget)
{
    struct osm_nodes *s = xcalloc(1, sizeof(*s));
    if (!tmpdir || !*tmpdir)
        tmpdir = getenv("TMPDIR");
    snprintf(s->tmpdir, sizeof(s->tmpdir), "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    s->fd = -1;
    s->wbuf = xmalloc((WBUF_BLKS + 1) * sizeof(struct blk));
    s->wbuf[0].n = 0;
    nmap_init(&s->own, map_budget ? map_budget : OSM_NODES_MAP_BUDGET);
    pthread_mutex_init(&s->readers_mu, NULL);
    return s;
}

void osm_nodes_free(struct osm_nodes *s)
{
    if (!s)
        return;
    assert(s->nreaders == 0); /* readers are freed before their store */
    nmap_release(&s->own);
    pthread_mutex_destroy(&s->readers_mu);
    if (s->fd >= 0)
        close(s->fd);
    free(s->first);
    free(s->wbuf);
    free(s->arr);
    free(s);
}

/* The block being filled. */
static inline struct blk *tail(struct osm_nodes *s)
{
    return &s->wbuf[s->nblk - s->nfile];
}

/* Write the buffered full blocks to the file (made on the first call). */
static int flush(struct osm_nodes *s)
{
    if (s->fd < 0) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/gb-nodes-XXXXXX", s->tmpdir);
        s->fd = mkostemp(path, O_CLOEXEC);
        if (s->fd < 0) {
            int rc = -errno;
            gb_errf(s->err, sizeof(s->err), "cannot create the node file in %s: %s", s->tmpdir,
                    strerror(errno));
            return rc;
        }
        unlink(path);
    }
    size_t n = s->nblk - s->nfile;
    const char *p = (const char *)s->wbuf;
    size_t len = n * BLK_BYTES, done = 0;
    while (done < len) {
        /* no write crosses a fault window: the page cache then holds the file in folios of
         * a window at most, and a fault maps one window (a kernel that maps a whole large
         * folio at a fault would map a megabyte of a larger write: 16 windows uncounted) */
        size_t at = s->nfile * BLK_BYTES + done, window = (size_t)FAULT_BLKS * BLK_BYTES;
        size_t piece = window - at % window;
        if (piece > len - done)
            piece = len - done;
        ssize_t w = pwrite(s->fd, p + done, piece, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? -errno : -EIO;
            gb_errf(s->err, sizeof(s->err), "cannot write the node file in %s: %s", s->tmpdir,
                    strerror(-rc));
            return rc;
        }
        done += (size_t)w;
    }
    s->nfile = s->nblk;
    s->wbuf[0].n = 0; /* the block being filled is wbuf[0] again */
    return 0;
}

/* Close the block being filled; write the buffer when it is full. */
static int close_tail(struct osm_nodes *s)
{
    struct blk *t = tail(s);
    if (t->n < BLK_NODES) { /* no stale bytes in the file */
        memset(&t->delta[t->n], 0, (BLK_NODES - t->n) * sizeof(t->delta[0]));
        memset(&t->ll[t->n], 0, (BLK_NODES - t->n) * sizeof(t->ll[0]));
    }
    VEC_GROW(s->first, s->nblk, s->first_cap);
    s->first[s->nblk++] = s->tail_first;
    tail(s)->n = 0;
    return s->nblk - s->nfile == WBUF_BLKS ? flush(s) : 0;
}

static const struct blk *block_at(struct osm_nodes *s, size_t b);

/* Move every location into memory (ids arrived out of order). */
static void to_memory(struct osm_nodes *s)
{
    s->arr_cap = s->count + s->count / 2 + 64;
    s->arr = xmallocarray(s->arr_cap, sizeof(struct node16));
    for (size_t b = 0; b <= s->nblk; b++) {
        const struct blk *k = b < s->nblk ? block_at(s, b) : tail(s);
        int64_t f = b < s->nblk ? s->first[b] : s->tail_first;
        for (uint32_t i = 0; i < k->n; i++)
            s->arr[s->narr++] = (struct node16){f + k->delta[i], k->ll[i][0], k->ll[i][1]};
    }
    unmap(&s->own); /* memory mode maps nothing again */
    free(s->own.touched);
    s->own.touched = NULL;
    s->own.touched_cap = s->own.ntouched = 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->first);
    s->first = NULL;
    s->nblk = s->nfile = s->first_cap = 0;
    s->mem = true;
}

const char *osm_nodes_error(const struct osm_nodes *s)
{
    return s->err;
}

int osm_nodes_add(struct osm_nodes *s, int64_t id, int32_t lat, int32_t lon)
{
    s->sealed = false;
    if (!s->mem && s->count && id <= s->last_id)
        to_memory(s);
    s->count++;
    if (s->mem) {
        if (s->narr && s->arr[s->narr - 1].id >= id)
            s->unsorted = true;
        VEC_GROW(s->arr, s->narr, s->arr_cap);
        s->arr[s->narr++] = (struct node16){id, lat, lon};
        return 0;
    }
    s->last_id = id;
    struct blk *t = tail(s);
    if (t->n && (t->n == BLK_NODES || (uint64_t)id - (uint64_t)s->tail_first > UINT32_MAX)) {
        int rc = close_tail(s);
        if (rc < 0)
            return rc;
        t = tail(s);
    }
    if (t->n == 0)
        s->tail_first = id;
    t->delta[t->n] = (uint32_t)((uint64_t)id - (uint64_t)s->tail_first);
    t->ll[t->n][0] = lat;
    t->ll[t->n][1] = lon;
    t->n++;
    return 0;
}

/* Forget the windows m counted (after its pages were dropped or its mapping replaced). */
static void forget_touched(struct nmap *m)
{
    for (size_t i = 0; i < m->ntouched; i++)
        __atomic_store_n(&m->touched[m->tlist[i] / 64], 0, __ATOMIC_RELAXED);
    m->ntouched = 0;
}

/* Make m's bitmap cover block b's window. */
static void touched_cover(struct nmap *m, size_t b)
{
    size_t w = b / FAULT_BLKS / 64;
    if (w < m->touched_cap)
        return;
    size_t cap = m->touched_cap;
    m->touched = mem_reserve(m->touched, &cap, w + 1, sizeof(uint64_t));
    memset(m->touched + m->touched_cap, 0, (cap - m->touched_cap) * sizeof(uint64_t));
    m->touched_cap = cap;
}

/* Whether block b's window is counted in m (its bitmap covers b). */
static bool counted(const struct nmap *m, size_t b)
{
    size_t win = b / FAULT_BLKS;
    return __atomic_load_n(&m->touched[win / 64], __ATOMIC_RELAXED) >> (win % 64) & 1;
}

/* Count a touch of mapped block b (its fault window); past the budget, drop the mapped pages. */
static void touch(struct nmap *m, size_t b)
{
    touched_cover(m, b);
    if (counted(m, b))
        return;
    if (m->ntouched == m->budget) {
        madvise((void *)m->map, m->map_blks * BLK_BYTES, MADV_DONTNEED);
        forget_touched(m);
        m->unmaps++;
    }
    size_t win = b / FAULT_BLKS;
    __atomic_fetch_or(&m->touched[win / 64], (uint64_t)1 << (win % 64), __ATOMIC_RELAXED);
    m->tlist[m->ntouched++] = win;
}

/* Block b of the file (< nfile) through m (remapped larger when needed). */
static const struct blk *mapped_block(struct nmap *m, int fd, size_t nfile, size_t b)
{
    if (b >= m->map_blks) {
        size_t blks = m->map_blks ? m->map_blks : 1024;
        while (blks <= b || blks < nfile)
            blks *= 2;
        unmap(m);
        void *p = mmap(NULL, blks * BLK_BYTES, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            abort(); /* address space: only a 32-bit build could run out */
        madvise(p, blks * BLK_BYTES, MADV_RANDOM);
        m->map = p;
        m->map_blks = blks;
        forget_touched(m);
    }
    touch(m, b);
    return &m->map[b];
}

/* Full block b, from the write buffer or the mapping. */
static const struct blk *block_at(struct osm_nodes *s, size_t b)
{
    if (b >= s->nfile)
        return &s->wbuf[b - s->nfile];
    return mapped_block(&s->own, s->fd, s->nfile, b);
}

/* The full block that would hold id (the last whose first id is <= id, after trying the one
 * of the last lookup and the next: a way's nodes are usually neighbours), or SIZE_MAX. */
static size_t find_block(const struct osm_nodes *s, size_t *hint, int64_t id)
{
    size_t b = *hint;
    if (b + 1 < s->nblk && id >= s->first[b + 1])
        b++;
    if (!(b < s->nblk && s->first[b] <= id && (b + 1 == s->nblk || id < s->first[b + 1]))) {
        size_t lo = 0, hi = s->nblk;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->first[mid] <= id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            return SIZE_MAX;
        b = lo - 1;
    }
    *hint = b;
    return b;
}

static bool block_find(const struct blk *k, int64_t first, int64_t id, int32_t *lat, int32_t *lon)
{
    uint64_t d = (uint64_t)id - (uint64_t)first;
    if (id < first || d > UINT32_MAX)
        return false;
    uint32_t lo = 0, hi = k->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k->delta[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == k->n || k->delta[lo] != d)
        return false;
    *lat = k->ll[lo][0];
    *lon = k->ll[lo][1];
    return true;
}

static int cmp_node16(const void *a, const void *b)
{
    int64_t x = ((const struct node16 *)a)->id, y = ((const struct node16 *)b)->id;
    return x < y ? -1 : x > y;
}

bool osm_nodes_get(struct osm_nodes *s, int64_t id, int32_t *lat, int32_t *lon)
{
    if (s->mem) {
        if (s->unsorted) {
            qsort(s->arr, s->narr, sizeof(struct node16), cmp_node16);
            s->unsorted = false;
        }
        size_t lo = 0, hi = s->narr;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->arr[mid].id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == s->narr || s->arr[lo].id != id)
            return false;
        *lat = s->arr[lo].lat;
        *lon = s->arr[lo].lon;
        return true;
    }
    if (tail(s)->n && id >= s->tail_first)
        return block_find(tail(s), s->tail_first, id, lat, lon);
    size_t b = find_block(s, &s->own.hint, id);
    return b != SIZE_MAX && block_find(block_at(s, b), s->first[b], id, lat, lon);
}

int osm_nodes_seal(struct osm_nodes *s)
{
    if (s->mem)
        return GB_ESTATE;
    int rc = tail(s)->n ? close_tail(s) : 0; /* closed short */
    if (rc == 0 && (s->nblk > s->nfile || s->fd < 0))
        rc = flush(s);
    if (rc == 0)
        s->sealed = true;
    return rc;
}

/* Count a lookup's touch of block b of the shared mapping: touch() under the lock, unless the
 * window is counted already. */
static void shared_touch(struct shared_map *sm, size_t b)
{
    if (counted(&sm->m, b))
        return;
    pthread_mutex_lock(&sm->mu);
    touch(&sm->m, b);
    pthread_mutex_unlock(&sm->mu);
}

/* The readers' mapping of sealed s's file, at most budget_bytes of it at once. */
static struct shared_map *shared_new(const struct osm_nodes *s, size_t budget_bytes)
{
    struct shared_map *sm = xcalloc(1, sizeof(*sm));
    pthread_mutex_init(&sm->mu, NULL);
    nmap_init(&sm->m, budget_bytes);
    sm->m.map_blks = s->nfile ? s->nfile : 1;
    void *p = mmap(NULL, sm->m.map_blks * BLK_BYTES, PROT_READ, MAP_SHARED, s->fd, 0);
    if (p == MAP_FAILED)
        abort(); /* address space: only a 32-bit build could run out */
    madvise(p, sm->m.map_blks * BLK_BYTES, MADV_RANDOM);
    sm->m.map = p;
    touched_cover(&sm->m, sm->m.map_blks - 1); /* once: read unlocked */
    return sm;
}

static void shared_free(struct shared_map *sm)
{
    nmap_release(&sm->m);
    pthread_mutex_destroy(&sm->mu);
    free(sm);
}

struct osm_nodes_reader *osm_nodes_reader_new(struct osm_nodes *s, size_t map_budget)
{
    if (!s->sealed)
        return NULL;
    struct osm_nodes_reader *r = xcalloc(1, sizeof(*r));
    r->s = s;
    pthread_mutex_lock(&s->readers_mu);
    if (!s->shared)
        s->shared = shared_new(s, map_budget ? map_budget : OSM_NODES_MAP_BUDGET);
    s->nreaders++;
    pthread_mutex_unlock(&s->readers_mu);
    return r;
}

void osm_nodes_reader_free(struct osm_nodes_reader *r)
{
    if (!r)
        return;
    struct osm_nodes *s = r->s;
    pthread_mutex_lock(&s->readers_mu);
    if (--s->nreaders == 0) {
        s->reader_maps += s->shared->m.unmaps;
        shared_free(s->shared);
        s->shared = NULL;
    }
    pthread_mutex_unlock(&s->readers_mu);
    free(r);
}

bool osm_nodes_reader_get(struct osm_nodes_reader *r, int64_t id, int32_t *lat, int32_t *lon)
{
    const struct osm_nodes *s = r->s;
    assert(s->sealed);
    size_t b = find_block(s, &r->hint, id);
    if (b == SIZE_MAX)
        return false;
    struct shared_map *sm = s->shared; /* set before r was made; freed after it */
    assert(b < sm->m.map_blks);        /* no node was added since: the file is as mapped */
    shared_touch(sm, b);
    return block_find(&sm->m.map[b], s->first[b], id, lat, lon);
}

int64_t *osm_nodes_split(const struct osm_nodes *s, size_t bytes, size_t *n)
{
    size_t per = bytes / BLK_BYTES ? bytes / BLK_BYTES : 1;
    size_t ranges = s->mem || s->nblk == 0 ? 1 : (s->nblk + per - 1) / per;
    *n = ranges;
    if (ranges == 1)
        return NULL;
    int64_t *bounds = xmallocarray(ranges - 1, sizeof(int64_t));
    for (size_t i = 0; i + 1 < ranges; i++)
        bounds[i] = s->first[(i + 1) * per];
    return bounds;
}

void osm_nodes_stats(const struct osm_nodes *s, struct osm_nodes_stats *out)
{
    out->nodes = s->count;
    out->ram_bytes = s->first_cap * sizeof(int64_t) + (WBUF_BLKS + 1) * sizeof(struct blk) +
                     s->own.touched_cap * sizeof(uint64_t) + s->own.budget * sizeof(size_t) +
                     s->arr_cap * sizeof(struct node16);
    out->file_bytes = s->nfile * BLK_BYTES;
    out->unmaps = s->own.unmaps + s->reader_maps;
    out->in_memory = s->mem;
}
