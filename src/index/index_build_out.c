/*
 * index_build_out.c - the builder's section outputs (struct sect_out; see index_build_int.h):
 * a section in memory while the budget allows, else in a temporary file under --tmp.
 */
#include "index/index_build_int.h"
#include "base/crc.h"
#include "base/fsio.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SO_MIN (64u << 10)

static void so_set_held(struct sect_out *o, uint64_t h)
{
    o->pool->held = o->pool->held - o->held + h;
    o->held = h;
}

void so_init(struct sect_out *o, struct xs_pool *pool)
{
    memset(o, 0, sizeof(*o));
    o->pool = pool;
    o->fd = -1;
}

void so_adopt(struct sect_out *o, const void *data, uint64_t len)
{
    o->ext = data;
    o->total = len;
}

/* Write the buffer to the file (created on first use), with its CRC. */
static int so_flush(struct sect_out *o)
{
    int rc = xs_append(o->pool->tmpdir, &o->fd, o->buf, o->len, &o->file_len);
    if (rc < 0)
        return o->rc = rc;
    o->crc = crc_update(o->crc, o->buf, o->len);
    o->len = 0;
    return 0;
}

int so_write(struct sect_out *o, const void *p, size_t n)
{
    if (o->rc)
        return o->rc;
    if (o->len + n > o->cap) {
        if (o->fd < 0) {
            size_t cap = o->cap ? o->cap * 2 : SO_MIN;
            while (cap < o->len + n)
                cap *= 2;
            if (cap <= SO_MIN || cap - o->held <= pool_room(o->pool)) {
                o->buf = xrealloc(o->buf, cap);
                mem_huge_hint(o->buf, cap);
                o->cap = cap;
                so_set_held(o, cap);
            } else {
                int rc = so_flush(o); /* no room: to a file, through a write buffer */
                if (rc < 0)
                    return rc;
                o->buf = xrealloc(o->buf, XS_WBUF);
                o->cap = XS_WBUF;
                so_set_held(o, XS_WBUF);
            }
        }
        if (o->fd >= 0 && o->len + n > o->cap) {
            int rc = so_flush(o);
            if (rc < 0)
                return rc;
            if (n > o->cap) { /* larger than the buffer: straight to the file */
                rc = fs_pwrite_all(o->fd, p, n, o->file_len);
                if (rc < 0)
                    return o->rc = rc;
                o->crc = crc_update(o->crc, p, n);
                o->file_len += n;
                o->total += n;
                return 0;
            }
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->total += n;
    return 0;
}

int so_finish(struct sect_out *o)
{
    if (o->rc)
        return o->rc;
    if (o->finished)
        return 0;
    o->finished = true;
    if (o->ext)
        o->crc = crc_update(0, o->ext, o->total);
    else if (o->fd >= 0) {
        int rc = so_flush(o);
        if (rc < 0)
            return rc;
        free(o->buf);
        o->buf = NULL;
        o->cap = 0;
        so_set_held(o, 0);
    } else
        o->crc = crc_update(0, o->buf, o->len);
    return 0;
}

int so_read(const struct sect_out *o, uint64_t off, void *dst, size_t n)
{
    if (off > o->total || n > o->total - off)
        return -EINVAL;
    if (o->ext || o->fd < 0) {
        memcpy(dst, (const char *)(o->ext ? o->ext : o->buf) + off, n);
        return 0;
    }
    ssize_t got = fs_pread_full(o->fd, dst, n, off);
    return got < 0 ? (int)got : (size_t)got == n ? 0 : -EIO;
}

int so_copy_to(const struct sect_out *o, int fd, char *block, size_t cap)
{
    if (o->ext || o->fd < 0)
        return o->total ? fs_write_all(fd, o->ext ? o->ext : o->buf, (size_t)o->total) : 0;
    uint64_t done = 0;
    while (done < o->file_len) {
        loff_t in = (loff_t)done;
        size_t want = o->file_len - done > (1u << 30) ? (1u << 30) : (size_t)(o->file_len - done);
        ssize_t c = copy_file_range(o->fd, &in, fd, NULL, want, 0);
        if (c > 0) {
            done += (uint64_t)c;
            continue;
        }
        if (c < 0 && errno == EINTR)
            continue;
        if (c == 0 || (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
                       errno != EOPNOTSUPP && errno != EBADF))
            return c == 0 ? -EIO : -errno;
        /* no in-kernel copy between these files: through the block */
        while (done < o->file_len) {
            size_t n = o->file_len - done > cap ? cap : (size_t)(o->file_len - done);
            ssize_t got = fs_pread_full(o->fd, block, n, done);
            if (got <= 0)
                return got < 0 ? (int)got : -EIO;
            int rc = fs_write_all(fd, block, (size_t)got);
            if (rc < 0)
                return rc;
            done += (uint64_t)got;
        }
    }
    return 0;
}

void so_release(struct sect_out *o)
{
    free(o->buf);
    if (o->fd >= 0)
        close(o->fd);
    so_set_held(o, 0);
    struct xs_pool *pool = o->pool;
    so_init(o, pool);
}
