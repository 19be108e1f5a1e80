/*
 * xsort.c - the external sorter (see xsort.h): temporary files, an in-place sort, and struct
 * xsort.
 *
 * The sorter keeps its records in memory while the pool has room, sorted there with xs_qsort.
 * When the pool has no room left it writes everything it holds, unsorted, to a spill file, and
 * keeps a small write buffer for the records still to come; xsort_sort() then reads the spill
 * back in chunks as large as the pool allows, sorts each and appends it to the run file, and
 * xsort_next() merges the runs with a heap (after merge passes into a second run file while
 * there are more than XS_FANIN). Every temporary file is anonymous (xs_tmpfile), so nothing is
 * left behind on success, on failure or when the process is killed.
 */
#include "base/xsort.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XS_MIN_HOLD (256u << 10) /* a sorter may always hold this much, budget or not */
#define XS_MEM_MAX                                                                                 \
    (256u << 20)                  /* past this, records go to the spill as they come: writing      \
                                     them in the background while the input is read costs less     \
                                     than holding them (measured at 18.5 M addresses) */
#define XS_MIN_CHUNK (128u << 10) /* the smallest chunk sorted into one run */
#define XS_FANIN     64           /* runs merged at once */
#define XS_MIN_READ  (16u << 10)  /* the smallest read buffer of a run while merging */
#define XS_MAX_READ  (1u << 20)

/* ---- the budget ---- */

uint64_t process_rss(void)
{
    unsigned long long pages = 0, rss = 0;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[128];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0 || (buf[n] = '\0', sscanf(buf, "%llu %llu", &pages, &rss) != 2))
            rss = 0;
    }
    long pg = sysconf(_SC_PAGESIZE);
    return rss && pg > 0 ? (uint64_t)rss * (uint64_t)pg : 32u << 20;
}

uint64_t pool_room(const struct xs_pool *p)
{
    uint64_t used = p->resident + p->held, rss = process_rss();
    if (rss > used)
        used = rss;
    return used < p->budget ? p->budget - used : 0;
}

/* ---- temporary files ---- */

int xs_tmpfile(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
#endif
    char path[GB_PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/geobatch-import-XXXXXX", dir) >= sizeof(path))
        return -ENAMETOOLONG;
    int tfd = mkostemp(path, O_CLOEXEC);
    if (tfd < 0)
        return -errno;
    unlink(path);
    return tfd;
}

int xs_append(const char *dir, int *fd, const void *p, size_t n, uint64_t *len)
{
    if (*fd < 0) {
        int tfd = xs_tmpfile(dir);
        if (tfd < 0)
            return tfd;
        *fd = tfd;
    }
    if (n == 0)
        return 0;
    int rc = fs_pwrite_all(*fd, p, n, *len);
    if (rc == 0)
        *len += n;
    return rc;
}

/* ---- the in-place sort ---- */

static inline void swap_el(char *a, char *b, size_t size)
{
    if (size == 16) { /* the common sizes, unrolled */
        uint64_t *x = (uint64_t *)(void *)a, *y = (uint64_t *)(void *)b;
        uint64_t t0 = x[0], t1 = x[1];
        x[0] = y[0];
        x[1] = y[1];
        y[0] = t0;
        y[1] = t1;
    } else if (size == 8) {
        uint64_t *x = (uint64_t *)(void *)a, *y = (uint64_t *)(void *)b, t = *x;
        *x = *y;
        *y = t;
    } else if (size % 8 == 0) {
        uint64_t *x = (uint64_t *)(void *)a, *y = (uint64_t *)(void *)b;
        for (size_t i = 0; i < size / 8; i++) {
            uint64_t t = x[i];
            x[i] = y[i];
            y[i] = t;
        }
    } else {
        for (size_t i = 0; i < size; i++) {
            char t = a[i];
            a[i] = b[i];
            b[i] = t;
        }
    }
}

static void sift_down(char *base, size_t root, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size, ctx) < 0)
            child++;
        if (cmp(base + root * size, base + child * size, ctx) >= 0)
            return;
        swap_el(base + root * size, base + child * size, size);
        root = child;
    }
}

static void heap_sort(char *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(base, i, n, size, cmp, ctx);
    for (size_t end = n; end-- > 1;) {
        swap_el(base, base + end * size, size);
        sift_down(base, 0, end, size, cmp, ctx);
    }
}

static void insertion_sort(char *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(base + (j - 1) * size, base + j * size, ctx) > 0; j--)
            swap_el(base + (j - 1) * size, base + j * size, size);
}

static void intro_sort(char *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx, int depth)
{
    while (n > 16) {
        if (depth-- <= 0) {
            heap_sort(base, n, size, cmp, ctx);
            return;
        }
        char *a = base, *m = base + (n / 2) * size, *c = base + (n - 1) * size;
        if (cmp(m, a, ctx) < 0)
            swap_el(m, a, size);
        if (cmp(c, m, ctx) < 0) {
            swap_el(c, m, size);
            if (cmp(m, a, ctx) < 0)
                swap_el(m, a, size);
        }
        swap_el(base, m, size); /* the median of three is the pivot, at base[0] */
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && cmp(base + i * size, base, ctx) < 0);
            do
                j--;
            while (cmp(base + j * size, base, ctx) > 0);
            if (i >= j)
                break;
            swap_el(base + i * size, base + j * size, size);
        }
        swap_el(base, base + j * size, size);
        /* [0, j) <= pivot at j <= (j, n): recurse into the smaller side, loop on the larger */
        size_t nl = j, nr = n - j - 1;
        if (nl < nr) {
            intro_sort(base, nl, size, cmp, ctx, depth);
            base += (j + 1) * size;
            n = nr;
        } else {
            intro_sort(base + (j + 1) * size, nr, size, cmp, ctx, depth);
            n = nl;
        }
    }
    insertion_sort(base, n, size, cmp, ctx);
}

void xs_qsort(void *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx)
{
    if (n < 2)
        return;
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    intro_sort(base, n, size, cmp, ctx, depth);
}

void xs_sort_in(struct xs_pool *pool, void *base, size_t n, size_t size, xs_cmp_fn *cmp, void *ctx)
{
    /* glibc's qsort_r merges through a copy of the array (of pointers to the elements, too,
     * when they are large): faster than sorting in place, when the budget has room for it */
    uint64_t copy = (uint64_t)n * (size + (size > 32 ? sizeof(void *) : 0));
    if (n > 1 && copy <= pool_room(pool))
        qsort_r(base, n, size, cmp, ctx);
    else
        xs_qsort(base, n, size, cmp, ctx);
}

/* ---- the external sorter ---- */

/* Bytes a record of len takes in a buffer or a file. */
static size_t rec_span(const struct xsort *s, size_t len)
{
    return s->fixed ? s->fixed : 4 + ((len + 3) & ~(size_t)3);
}

/* Set what the sorter holds to h, and the pool's count with it. */
static void set_held(struct xsort *s, uint64_t h)
{
    s->pool->held = s->pool->held - s->held + h;
    s->held = h;
}

void xsort_init(struct xsort *s, const char *name, struct xs_pool *pool, size_t fixed)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->pool = pool;
    s->fixed = fixed;
    s->spill_fd = -1;
    s->run_fd = -1;
    s->last = -1;
}

/* Whether the sorter may grow by more bytes. */
static bool may_grow(const struct xsort *s, uint64_t more)
{
    return more <= pool_room(s->pool) || s->held + more <= XS_MIN_HOLD;
}

/* Make room in memory for one more record of span bytes (and its entry): double the buffer or
 * the entries, or grow them by what the pool has left. Return false when even that is not
 * enough: the records go to the spill file. */
static bool mem_room(struct xsort *s, size_t span)
{
    size_t need = s->len + span;
    uint64_t esz = s->fixed ? 0 : sizeof(struct xs_ent);
    if (need > s->cap) {
        size_t want = s->cap ? s->cap * 2 : 64u << 10;
        while (want < need)
            want *= 2;
        if (want > XS_MEM_MAX && s->cap >= XS_MEM_MAX / 2)
            return false;
        if (!may_grow(s, want - s->cap)) {
            /* what the pool has left, less the entries of the records it will hold */
            uint64_t avg = s->n_buf ? s->len / s->n_buf : span;
            uint64_t fit = pool_room(s->pool) * avg / (avg + esz);
            want = s->cap + (size_t)(fit & ~(uint64_t)0xffff);
            if (want < need)
                return false;
        }
        s->buf = xrealloc(s->buf, want);
        mem_huge_hint(s->buf, want);
        set_held(s, s->held + (want - s->cap));
        s->cap = want;
    }
    if (esz && s->n_buf + 1 > s->ent_cap) {
        size_t want = s->ent_cap ? s->ent_cap * 2 : 4096;
        if (!may_grow(s, (want - s->ent_cap) * esz)) {
            want = s->ent_cap + (size_t)(pool_room(s->pool) / esz);
            if (want < s->n_buf + 1)
                return false;
        }
        s->ent = xreallocarray(s->ent, want, sizeof(*s->ent));
        mem_huge_hint(s->ent, want * sizeof(*s->ent));
        set_held(s, s->held + (want - s->ent_cap) * esz);
        s->ent_cap = want;
    }
    return true;
}

/* Write the unsorted records in buf to the spill file (created on first use). */
static int spill_flush(struct xsort *s)
{
    int rc = xs_append(s->pool->tmpdir, &s->spill_fd, s->buf, s->len, &s->spill_len);
    if (rc < 0)
        return s->rc = rc;
    s->len = 0;
    s->n_buf = 0;
    return 0;
}

/* The records no longer fit: everything so far to the spill file, and a write buffer from now
 * on. */
static int spill_start(struct xsort *s)
{
    log_debug("spill %s: records=%llu bytes=%zu rss_mb=%llu resident_mb=%llu held_mb=%llu", s->name,
              (unsigned long long)s->n, s->len, (unsigned long long)(process_rss() >> 20),
              (unsigned long long)(s->pool->resident >> 20),
              (unsigned long long)(s->pool->held >> 20));
    int rc = spill_flush(s);
    if (rc < 0)
        return rc;
    free(s->ent);
    s->ent = NULL;
    s->ent_cap = 0;
    size_t cap = XS_WBUF;
    s->buf = xrealloc(s->buf, cap);
    s->cap = cap;
    set_held(s, cap);
    return 0;
}

/* Write a record as it is stored (its length first for variable-size records, then padding)
 * at at, which has rec_span(s, len) bytes. */
static void rec_encode(const struct xsort *s, char *at, const void *rec, size_t len)
{
    if (s->fixed) {
        memcpy(at, rec, len);
        return;
    }
    uint32_t l = (uint32_t)len;
    memcpy(at, &l, 4);
    memcpy(at + 4, rec, len);
    memset(at + 4 + len, 0, rec_span(s, len) - 4 - len);
}

static void put_rec(struct xsort *s, const void *rec, size_t len)
{
    rec_encode(s, s->buf + s->len, rec, len);
    s->len += rec_span(s, len);
    s->n_buf++;
}

int xsort_spill(struct xsort *s)
{
    if (s->rc || s->sorted || s->spill_fd >= 0 || s->n_buf == 0)
        return s->rc;
    return spill_start(s);
}

int xsort_add(struct xsort *s, const void *rec, size_t len)
{
    if (s->rc)
        return s->rc;
    if (s->sorted || (s->fixed && len != s->fixed) || len >= (1u << 31))
        return s->rc = -EINVAL;
    size_t span = rec_span(s, len);
    if (s->spill_fd < 0) {
        if (mem_room(s, span)) {
            if (!s->fixed)
                s->ent[s->n_buf] = (struct xs_ent){0, s->len};
            put_rec(s, rec, len);
            s->n++;
            return 0;
        }
        int rc = spill_start(s);
        if (rc < 0)
            return rc;
    }
    if (s->len + span > s->cap) {
        int rc = spill_flush(s);
        if (rc < 0)
            return rc;
        if (span > s->cap) {
            s->buf = xrealloc(s->buf, span);
            s->cap = span;
            set_held(s, span);
        }
    }
    put_rec(s, rec, len);
    s->n++;
    return 0;
}

/* The record of an entry (variable-size records). */
static inline const void *ent_rec(const struct xsort *s, const struct xs_ent *e)
{
    return s->buf + e->off + 4;
}

static int cmp_ent(const void *pa, const void *pb, void *ctx)
{
    const struct xsort *s = ctx;
    const struct xs_ent *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return s->cmp(ent_rec(s, a), ent_rec(s, b), s->ctx);
}

static int cmp_fixed(const void *a, const void *b, void *ctx)
{
    const struct xsort *s = ctx;
    if (s->key) {
        uint64_t ka = s->key(a, s->ctx), kb = s->key(b, s->ctx);
        if (ka != kb)
            return ka < kb ? -1 : 1;
    }
    return s->cmp(a, b, s->ctx);
}

/* A fixed-size record's entry while it is sorted by key: off is its index in buf. */
static int cmp_fixed_ent(const void *pa, const void *pb, void *ctx)
{
    const struct xsort *s = ctx;
    const struct xs_ent *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return s->cmp(s->buf + a->off * s->fixed, s->buf + b->off * s->fixed, s->ctx);
}

/* How many records ahead buf_rec asks for the one it will read, through an order index. */
#define XS_AHEAD 16

/* Below this many records a comparison sort is as quick as the radix sort's counting. */
#define XS_RADIX_MIN 4096

/* Sort e[0..n) by key: a least-significant-digit radix sort, 16 bits a pass, leaving out the
 * passes whose digit is the same in every key; tmp holds n entries, cnt 4 * 65536 counts.
 * Equal keys keep their order. */
static void radix_by_key(struct xs_ent *e, struct xs_ent *tmp, size_t n, size_t (*cnt)[65536])
{
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 4; d++)
            cnt[d][(e[i].key >> (16 * d)) & 0xffff]++;
    struct xs_ent *src = e, *dst = tmp;
    for (int d = 0; d < 4; d++) {
        size_t *c = cnt[d];
        if (c[(e[0].key >> (16 * d)) & 0xffff] == n)
            continue; /* every key has this digit */
        size_t at = 0;
        for (size_t k = 0; k < 65536; k++) {
            size_t m = c[k];
            c[k] = at;
            at += m;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].key >> (16 * d)) & 0xffff]++] = src[i];
        struct xs_ent *t = src;
        src = dst;
        dst = t;
    }
    if (src != e)
        memcpy(e, src, n * sizeof(*e));
}

/* Sort e[0..n) as cmp orders entries whose first test is the key: by key (radix_by_key), then
 * each run of equal keys by cmp. Return false, having done nothing, when the pool has no room
 * for the sort's own tables. */
static bool sort_ents(struct xsort *s, struct xs_ent *e, size_t n, xs_cmp_fn *cmp)
{
    size_t(*cnt)[65536] = NULL;
    struct xs_ent *tmp = NULL;
    if (n < XS_RADIX_MIN || n * sizeof(*tmp) + sizeof(*cnt) * 4 > pool_room(s->pool) ||
        !(cnt = calloc(4, sizeof(*cnt))) || !(tmp = malloc(n * sizeof(*tmp)))) {
        free(cnt);
        return false;
    }
    mem_huge_hint(tmp, n * sizeof(*tmp));
    radix_by_key(e, tmp, n, cnt);
    free(tmp);
    free(cnt);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && e[j].key == e[i].key;)
            j++;
        if (j - i > 1)
            xs_qsort(e + i, j - i, sizeof(*e), cmp, s);
    }
    return true;
}

/* The n_buf fixed-size records of buf by key (s->key) and cmp, not moved: their entries (ent,
 * off the record's index) sorted, through which buf_rec reads them (s->by_index). Return
 * false, having changed nothing, when the pool has no room for the entries. */
static bool sort_fixed_by_key(struct xsort *s)
{
    size_t n = s->n_buf;
    uint64_t bytes = (uint64_t)n * sizeof(struct xs_ent);
    if (n < XS_RADIX_MIN || bytes > pool_room(s->pool))
        return false;
    struct xs_ent *e = malloc(n * sizeof(*e));
    if (!e)
        return false;
    mem_huge_hint(e, n * sizeof(*e));
    for (size_t i = 0; i < n; i++) {
        e[i].key = s->key(s->buf + i * s->fixed, s->ctx);
        e[i].off = i;
    }
    set_held(s, s->held + bytes);
    if (!sort_ents(s, e, n, cmp_fixed_ent)) {
        set_held(s, s->held - bytes);
        free(e);
        return false;
    }
    free(s->ent); /* none: fixed-size records have no entries otherwise */
    s->ent = e;
    s->ent_cap = n;
    s->by_index = true;
    return true;
}

/* Sort the n_buf records in buf. With a key, past a few thousand records and with room for
 * the sort's tables, by the key's digits first (the same order: cmp decides only between equal
 * keys). */
static void sort_buf(struct xsort *s)
{
    s->by_index = false;
    if (s->fixed) {
        if (!s->key)
            xs_sort_in(s->pool, s->buf, s->n_buf, s->fixed, s->cmp, s->ctx);
        else if (!sort_fixed_by_key(s))
            xs_sort_in(s->pool, s->buf, s->n_buf, s->fixed, cmp_fixed, s);
        return;
    }
    for (size_t i = 0; i < s->n_buf; i++)
        s->ent[i].key = s->key ? s->key(ent_rec(s, &s->ent[i]), s->ctx) : 0;
    if (!s->key || !sort_ents(s, s->ent, s->n_buf, cmp_ent))
        xs_sort_in(s->pool, s->ent, s->n_buf, sizeof(*s->ent), cmp_ent, s);
}

/* The i-th record of the sorted buffer and its length. */
static const void *buf_rec(const struct xsort *s, size_t i, size_t *len)
{
    if (s->fixed) {
        *len = s->fixed;
        if (!s->by_index)
            return s->buf + i * s->fixed;
        if (i + XS_AHEAD < s->n_buf) /* the records are read in a random order */
            __builtin_prefetch(s->buf + (size_t)s->ent[i + XS_AHEAD].off * s->fixed);
        return s->buf + (size_t)s->ent[i].off * s->fixed;
    }
    uint32_t l;
    memcpy(&l, s->buf + s->ent[i].off, 4);
    *len = l;
    return ent_rec(s, &s->ent[i]);
}

/* A buffered writer appending to a file. */
struct wbuf {
    int fd;
    uint64_t off;
    char *buf;
    size_t len, cap;
};

static int wb_flush(struct wbuf *w)
{
    int rc = w->len ? fs_pwrite_all(w->fd, w->buf, w->len, w->off) : 0;
    w->off += w->len;
    w->len = 0;
    return rc;
}

/* Append a record (its length first for variable-size records). */
static int wb_rec(struct wbuf *w, const struct xsort *s, const void *rec, size_t len)
{
    size_t span = rec_span(s, len);
    if (w->len + span > w->cap) {
        int rc = wb_flush(w);
        if (rc < 0)
            return rc;
        if (span > w->cap) {
            w->buf = xrealloc(w->buf, span);
            w->cap = span;
        }
    }
    rec_encode(s, w->buf + w->len, rec, len);
    w->len += span;
    return 0;
}

/* Read the next chunk of the spill (from *pos) into buf: the whole records in about `room`
 * bytes (with their entries), at least one. */
static int read_chunk(struct xsort *s, uint64_t *pos, uint64_t room)
{
    uint64_t avg = s->n ? (s->spill_len + s->n - 1) / s->n : 64;
    uint64_t want = s->fixed ? room : room * avg / (avg + sizeof(struct xs_ent));
    if (want < XS_MIN_CHUNK / 2)
        want = XS_MIN_CHUNK / 2;
    if (want > s->spill_len - *pos)
        want = s->spill_len - *pos;
    if (s->cap < want) {
        s->buf = xrealloc(s->buf, (size_t)want);
        s->cap = (size_t)want;
    }
    ssize_t got = fs_pread_full(s->spill_fd, s->buf, (size_t)want, *pos);
    if (got < 0 || (uint64_t)got != want)
        return s->rc = got < 0 ? (int)got : -EIO; /* the spill is shorter than written */
    size_t off = 0, n = 0, span = 0;
    for (;;) {
        if (!s->fixed && (size_t)got - off < 4)
            break;
        if (s->fixed) {
            span = s->fixed;
        } else {
            uint32_t l;
            memcpy(&l, s->buf + off, 4);
            span = rec_span(s, l);
        }
        if (off + span > (size_t)got)
            break;
        off += span;
        n++;
    }
    if (n == 0) { /* one record larger than the chunk */
        if (span == 0 || *pos + span > s->spill_len)
            return s->rc = -EIO;
        s->buf = xrealloc(s->buf, span);
        s->cap = span;
        got = fs_pread_full(s->spill_fd, s->buf, span, *pos);
        if (got < 0 || (size_t)got != span)
            return s->rc = got < 0 ? (int)got : -EIO;
        off = span;
        n = 1;
    }
    *pos += off;
    s->len = off;
    s->n_buf = n;
    if (s->fixed) { /* the last chunk's order (sort_fixed_by_key), if any */
        free(s->ent);
        s->ent = NULL;
        s->ent_cap = 0;
    } else {
        s->ent = xreallocarray(s->ent, s->n_buf, sizeof(*s->ent));
        s->ent_cap = s->n_buf;
        for (size_t i = 0, o = 0; i < s->n_buf; i++) {
            uint32_t l;
            memcpy(&l, s->buf + o, 4);
            s->ent[i].off = o;
            o += rec_span(s, l);
        }
    }
    set_held(s, s->cap + (s->fixed ? 0 : (uint64_t)s->n_buf * sizeof(*s->ent)));
    return 0;
}

static void add_run(struct xsort *s, uint64_t off, uint64_t len)
{
    VEC_GROW(s->runs, s->n_runs, s->cap_runs);
    s->runs[s->n_runs++] = (struct xs_run){off, len};
}

/* The spill, in chunks that fit, sorted into runs. */
static int make_runs(struct xsort *s)
{
    int rc = spill_flush(s);
    if (rc < 0)
        return rc;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
    set_held(s, 0);
    uint64_t pos = 0;
    uint64_t room = pool_room(s->pool);
    rc = read_chunk(s, &pos, room > XS_WBUF ? room - XS_WBUF : 0);
    if (rc < 0)
        return rc;
    if (pos == s->spill_len) { /* it all fits now: sorted in memory, no run */
        sort_buf(s);
        close(s->spill_fd);
        s->spill_fd = -1;
        return 0;
    }
    int fd = xs_tmpfile(s->pool->tmpdir);
    if (fd < 0)
        return s->rc = fd;
    s->run_fd = fd;
    struct wbuf w = {fd, 0, xmalloc(XS_WBUF), 0, XS_WBUF};
    for (bool first = true; rc == 0 && (first || pos < s->spill_len); first = false) {
        if (!first) {
            room = pool_room(s->pool) + s->held;
            rc = read_chunk(s, &pos, room > XS_WBUF ? room - XS_WBUF : 0);
            if (rc < 0)
                break;
        }
        sort_buf(s);
        uint64_t start = w.off + w.len;
        for (size_t i = 0; rc == 0 && i < s->n_buf; i++) {
            size_t len;
            const void *r = buf_rec(s, i, &len);
            rc = wb_rec(&w, s, r, len);
        }
        if (rc == 0)
            add_run(s, start, w.off + w.len - start);
    }
    if (rc == 0)
        rc = wb_flush(&w);
    s->run_len = w.off;
    free(w.buf);
    free(s->buf);
    free(s->ent);
    s->buf = NULL;
    s->ent = NULL;
    s->cap = s->len = s->n_buf = s->ent_cap = 0;
    set_held(s, 0);
    close(s->spill_fd);
    s->spill_fd = -1;
    return rc < 0 ? (s->rc = rc) : 0;
}

/* ---- merging ---- */

/* Make the reader's current record whole in its buffer. Return 1 when it has one, 0 at the end
 * of its run, or -errno. */
static int rd_fill(struct xsort *s, struct xs_reader *r)
{
    for (;;) {
        size_t have = r->len - r->at;
        size_t need = s->fixed ? s->fixed : 4;
        if (have >= need && !s->fixed) {
            uint32_t l;
            memcpy(&l, r->buf + r->at, 4);
            need = rec_span(s, l);
        }
        if (have >= need) {
            if (s->fixed) {
                r->cur = (uint32_t)s->fixed;
            } else {
                memcpy(&r->cur, r->buf + r->at, 4);
            }
            return 1;
        }
        if (r->pos == r->end) {
            if (have)
                return -EIO; /* a record cut off at the end of its run */
            return 0;
        }
        memmove(r->buf, r->buf + r->at, have);
        r->len = have;
        r->at = 0;
        if (need > r->cap) {
            r->buf = xrealloc(r->buf, need);
            r->cap = need;
        }
        size_t want = r->cap - r->len;
        if (want > r->end - r->pos)
            want = (size_t)(r->end - r->pos);
        ssize_t got = fs_pread_full(s->run_fd, r->buf + r->len, want, r->pos);
        if (got <= 0)
            return got < 0 ? (int)got : -EIO;
        r->len += (size_t)got;
        r->pos += (uint64_t)got;
    }
}

static inline const void *rd_rec(const struct xsort *s, const struct xs_reader *r)
{
    return r->buf + r->at + (s->fixed ? 0 : 4);
}

/* Whether reader a's record comes before reader b's (ties: the earlier run). */
static bool rd_less(const struct xsort *s, uint32_t a, uint32_t b)
{
    const void *ra = rd_rec(s, &s->rd[a]), *rb = rd_rec(s, &s->rd[b]);
    if (s->key) {
        uint64_t ka = s->key(ra, s->ctx), kb = s->key(rb, s->ctx);
        if (ka != kb)
            return ka < kb;
    }
    int c = s->cmp(ra, rb, s->ctx);
    return c < 0 || (c == 0 && a < b);
}

static void heap_down(struct xsort *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < s->n_heap && rd_less(s, s->heap[l], s->heap[m]))
            m = l;
        if (l + 1 < s->n_heap && rd_less(s, s->heap[l + 1], s->heap[m]))
            m = l + 1;
        if (m == i)
            return;
        uint32_t t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
}

static void merge_close(struct xsort *s)
{
    for (size_t i = 0; s->rd && i < s->n_rd; i++)
        free(s->rd[i].buf);
    s->n_rd = 0;
    free(s->rd);
    free(s->heap);
    s->rd = NULL;
    s->heap = NULL;
    s->n_heap = 0;
    s->last = -1;
    set_held(s, 0);
}

/* Open readers on the count runs at runs. */
static int merge_open(struct xsort *s, const struct xs_run *runs, size_t count)
{
    uint64_t room = pool_room(s->pool) + s->held;
    uint64_t each = room / (count + 1);
    if (each < XS_MIN_READ)
        each = XS_MIN_READ;
    if (each > XS_MAX_READ)
        each = XS_MAX_READ;
    s->rd = xcalloc(count, sizeof(*s->rd));
    s->heap = xmallocarray(count, sizeof(*s->heap));
    s->n_heap = 0;
    s->n_rd = count;
    for (size_t i = 0; i < count; i++) {
        struct xs_reader *r = &s->rd[i];
        r->pos = runs[i].off;
        r->end = r->pos + runs[i].len;
        r->cap = (size_t)each;
        r->buf = xmalloc(r->cap);
    }
    set_held(s, each * count);
    for (size_t i = 0; i < count; i++) {
        int rc = rd_fill(s, &s->rd[i]);
        if (rc < 0)
            return s->rc = rc;
        if (rc > 0)
            s->heap[s->n_heap++] = (uint32_t)i;
    }
    for (size_t i = s->n_heap / 2; i-- > 0;)
        heap_down(s, i);
    s->last = -1;
    return 0;
}

/* The next record of the merge, or NULL at the end or on an error. */
static const void *merge_next(struct xsort *s, size_t *len)
{
    if (s->last >= 0) {
        struct xs_reader *r = &s->rd[s->last];
        r->at += rec_span(s, r->cur);
        int rc = rd_fill(s, r);
        if (rc < 0) {
            s->rc = rc;
            return NULL;
        }
        if (rc == 0)
            s->heap[0] = s->heap[--s->n_heap];
        if (s->n_heap)
            heap_down(s, 0);
        s->last = -1;
    }
    if (s->n_heap == 0)
        return NULL;
    s->last = s->heap[0];
    struct xs_reader *r = &s->rd[s->last];
    *len = r->cur;
    return rd_rec(s, r);
}

/* Merge passes until at most XS_FANIN runs are left. */
static int reduce_runs(struct xsort *s)
{
    while (s->n_runs > XS_FANIN) {
        int fd = xs_tmpfile(s->pool->tmpdir);
        if (fd < 0)
            return s->rc = fd;
        struct wbuf w = {fd, 0, xmalloc(XS_WBUF), 0, XS_WBUF};
        struct xs_run *old = s->runs;
        size_t n_old = s->n_runs;
        s->runs = NULL;
        s->n_runs = s->cap_runs = 0;
        int rc = 0;
        for (size_t first = 0; rc == 0 && first < n_old; first += XS_FANIN) {
            size_t count = n_old - first < XS_FANIN ? n_old - first : XS_FANIN;
            rc = merge_open(s, old + first, count);
            uint64_t start = w.off + w.len;
            size_t len;
            const void *rec;
            while (rc == 0 && (rec = merge_next(s, &len)) != NULL)
                rc = wb_rec(&w, s, rec, len);
            if (rc == 0 && s->rc)
                rc = s->rc;
            merge_close(s);
            if (rc == 0)
                add_run(s, start, w.off + w.len - start);
        }
        if (rc == 0)
            rc = wb_flush(&w);
        free(w.buf);
        free(old);
        close(s->run_fd);
        s->run_fd = fd;
        s->run_len = w.off;
        if (rc < 0)
            return s->rc = rc;
    }
    return 0;
}

int xsort_sort(struct xsort *s, xs_cmp_fn *cmp, xs_key_fn *key, void *ctx)
{
    if (s->rc)
        return s->rc;
    s->cmp = cmp;
    s->key = key;
    s->ctx = ctx;
    s->sorted = true;
    s->it = 0;
    if (s->spill_fd < 0) {
        sort_buf(s);
        return 0;
    }
    uint64_t spilled = s->spill_len;
    int rc = make_runs(s);
    size_t runs = s->n_runs;
    if (rc == 0 && s->run_fd >= 0)
        rc = reduce_runs(s);
    if (rc == 0 && s->run_fd >= 0)
        rc = merge_open(s, s->runs, s->n_runs);
    if (rc == 0)
        log_info("external sort %s: records=%llu bytes=%llu runs=%zu merge_passes=%s", s->name,
                 (unsigned long long)s->n, (unsigned long long)spilled, runs,
                 runs > XS_FANIN ? "2+" : "1");
    return rc;
}

const void *xsort_next(struct xsort *s, size_t *len)
{
    if (s->rc || !s->sorted)
        return NULL;
    if (s->run_fd < 0) {
        if (s->it >= s->n_buf)
            return NULL;
        return buf_rec(s, s->it++, len);
    }
    return merge_next(s, len);
}

void xsort_release(struct xsort *s)
{
    if (s->rd)
        merge_close(s);
    free(s->buf);
    free(s->ent);
    free(s->runs);
    if (s->spill_fd >= 0)
        close(s->spill_fd);
    if (s->run_fd >= 0)
        close(s->run_fd);
    set_held(s, 0);
    struct xs_pool *pool = s->pool;
    const char *name = s->name;
    size_t fixed = s->fixed;
    xsort_init(s, name, pool, fixed);
}
