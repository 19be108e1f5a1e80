/*
 * fmem.c - see fmem.h.
 */
#include "base/fmem.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/xsort.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t page_round(size_t bytes)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    if (bytes > SIZE_MAX - pg)
        mem_oom(SIZE_MAX);
    return bytes < pg ? pg : (bytes + pg - 1) / pg * pg;
}

void fmem_init(struct fmem *m, const char *tmpdir)
{
    memset(m, 0, sizeof(*m));
    m->tmpdir = tmpdir;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
}

void fmem_release(struct fmem *m)
{
    if (m->keeping) {
        pthread_mutex_lock(&m->mu);
        m->stop = true;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->keeper, NULL);
    }
    for (size_t i = 0; i < m->n; i++) {
        munmap(m->maps[i].p, m->maps[i].len);
        if (m->maps[i].fd >= 0)
            close(m->maps[i].fd);
    }
    free(m->maps);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cond);
    fmem_init(m, m->tmpdir);
}

static struct fmem_map *find(struct fmem *m, const void *p)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->maps[i].p == p)
            return &m->maps[i];
    fprintf(stderr, "geobatch: fmem: %p is no array of this pool\n", p);
    abort();
}

/* Blocks for [0, len) of file fd; -errno when the file system has no room. */
static int reserve_blocks(int fd, size_t len)
{
    int e = posix_fallocate(fd, 0, (off_t)len);
    if (e == EOPNOTSUPP || e == EINVAL) /* a file system without it: a size at least */
        return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
    return -e;
}

/* A temporary file of its own with blocks for len bytes (of zeros): its descriptor, or -errno */
static int file_of(struct fmem *m, size_t len)
{
    int fd = xs_tmpfile(m->tmpdir);
    if (fd < 0)
        return fd;
    int rc = reserve_blocks(fd, len);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* map->len bytes of zeros in a file of its own, mapped (map->p, map->fd); -errno when not */
static int new_file(struct fmem *m, struct fmem_map *map)
{
    int fd = file_of(m, map->len);
    if (fd < 0)
        return fd;
    char *p = mmap(NULL, map->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    map->p = p;
    map->fd = fd;
    return 0;
}

/* The copy's step: each is dropped from memory once it is in the file. */
#define TO_FILE_STEP ((size_t)64 << 20)

/* map's contents in a file of its own, at the same address; -errno when not */
static int to_file(struct fmem *m, struct fmem_map *map)
{
    int fd = file_of(m, map->len);
    if (fd < 0)
        return fd;
    /* step by step, each step's pages dropped once written: the copy never holds the array
       twice, nor the untouched pages of its capacity, which reading them here would fill */
    int rc = 0;
    size_t done = 0;
    while (done < map->len && rc == 0) {
        size_t n = map->len - done < TO_FILE_STEP ? map->len - done : TO_FILE_STEP;
        rc = fs_pwrite_all(fd, map->p + done, n, done);
        if (rc == 0) {
            (void)madvise(map->p + done, n, MADV_DONTNEED);
            done += n;
        }
    }
    if (rc < 0) { /* the array stays in memory: what was dropped comes back from the file */
        ssize_t got = done ? fs_pread_full(fd, map->p, done, 0) : 0;
        if (got != (ssize_t)done) { /* the table is lost: nothing sound to go on with */
            log_error("cannot read back %zu bytes of a table from %s: %s", done, m->tmpdir,
                      gb_strerror(got < 0 ? (int)got : -EIO));
            abort();
        }
        close(fd);
        return rc;
    }
    /* a MAP_FIXED that fails may have unmapped the old pages: the kernel is out of memory */
    if (mmap(map->p, map->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
        mem_oom(map->len);
    map->fd = fd;
    return 0;
}

static void no_room(struct fmem *m, int rc)
{
    if (m->warned)
        return;
    m->warned = true;
    log_warn("no room for the builder's tables in %s (%s): some stay in memory", m->tmpdir,
             gb_errname(rc));
}

static void *grow(struct fmem *m, void *p, size_t bytes)
{
    size_t len = page_round(bytes);
    if (!p) {
        struct fmem_map map = {.len = len, .fd = -1};
        if (m->files) { /* a file of zeros of its own (no copy: nothing was written yet) */
            int rc = new_file(m, &map);
            if (rc < 0)
                no_room(m, rc);
        }
        if (map.fd < 0)
            map.p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map.p == MAP_FAILED)
            mem_oom(len);
        if (map.fd < 0)
            mem_huge_hint(map.p, len);
        VEC_GROW(m->maps, m->n, m->cap);
        m->maps[m->n++] = map;
        return map.p;
    }
    struct fmem_map *map = find(m, p);
    if (len <= map->len)
        return p;
    if (map->fd >= 0) {
        int rc = reserve_blocks(map->fd, len);
        if (rc < 0) { /* back to memory: a copy, the file closed */
            no_room(m, rc);
            char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                mem_oom(len);
            memcpy(q, map->p, map->len);
            munmap(map->p, map->len);
            close(map->fd);
            *map = (struct fmem_map){.p = q, .len = len, .fd = -1};
            return q;
        }
    }
    char *q = mremap(map->p, map->len, len, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        mem_oom(len);
    if (map->fd < 0)
        mem_huge_hint(q, len);
    map->p = q;
    map->len = len;
    return q;
}

void *fmem_realloc(struct fmem *m, void *p, size_t bytes)
{
    pthread_mutex_lock(&m->mu);
    void *q = grow(m, p, bytes);
    pthread_mutex_unlock(&m->mu);
    return q;
}

void fmem_free(struct fmem *m, void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&m->mu);
    struct fmem_map *map = find(m, p);
    munmap(map->p, map->len);
    if (map->fd >= 0)
        close(map->fd);
    *map = m->maps[--m->n];
    pthread_mutex_unlock(&m->mu);
}

void *fmem_reserve(struct fmem *m, void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = mem_grow_cap(*cap, need, size);
    p = fmem_realloc(m, p, c * size);
    *cap = c;
    return p;
}

int fmem_to_files(struct fmem *m)
{
    pthread_mutex_lock(&m->mu);
    m->files = true;
    int first = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->maps[i].fd < 0) {
            int rc = to_file(m, &m->maps[i]);
            if (rc < 0 && first == 0)
                first = rc;
        }
    pthread_mutex_unlock(&m->mu);
    return first;
}

/* with m->mu held */
static void trim_locked(struct fmem *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->maps[i].fd >= 0)
            (void)madvise(m->maps[i].p, m->maps[i].len, MADV_DONTNEED);
}

void fmem_trim(struct fmem *m)
{
    pthread_mutex_lock(&m->mu);
    trim_locked(m);
    pthread_mutex_unlock(&m->mu);
}

static void *keeper_main(void *arg)
{
    struct fmem *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec ts = clock_after_ms(CLOCK_REALTIME, FMEM_KEEP_MS);
        pthread_cond_timedwait(&m->cond, &m->mu, &ts);
        /* over the limit, and grown by FMEM_KEEP_MIN since the last trim brought it down only
           to floor (when the rest of the process holds about the limit, dropping the arrays'
           pages again and again would only slow it down) */
        uint64_t rss = process_rss();
        if (rss <= m->limit)
            m->floor = 0;
        else if (!m->stop && rss > m->floor + FMEM_KEEP_MIN) {
            trim_locked(m);
            m->trims++;
            uint64_t after = process_rss();
            m->floor = after > m->limit ? after : 0;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int fmem_keep(struct fmem *m, uint64_t limit)
{
    if (m->keeping)
        return 0;
    m->limit = limit;
    int e = pthread_create(&m->keeper, NULL, keeper_main, m);
    if (e != 0)
        return -e;
    m->keeping = true;
    return 0;
}

uint64_t fmem_bytes(const struct fmem *m)
{
    uint64_t sum = 0; /* the owner's read: only the owner changes the list */
    for (size_t i = 0; i < m->n; i++)
        sum += m->maps[i].len;
    return sum;
}
