/*
 * zread.c - the streaming reader of zread.h: plain bytes, gzip members (zlib's inflate) and a
 * bzip2 stream (libbz2), from one input buffer that is filled ZREAD_CHUNK bytes at a time.
 *
 * The gzip rules are those of zlib's gzread(): after a member ends, two more bytes 1f 8b start
 * another member, anything else (or a single byte) is trailing garbage and ends the file; a
 * file that ends inside a member is truncated. The bzip2 rules are those of BZ2_bzRead(): the
 * stream's end is the end, and a file that ends before it is truncated. Reaching opts.max_in is
 * never "truncated": it is how a caller reads only the start of a file.
 */
#include "base/zread.h"
#include "base/fsio.h"
#include "base/err.h"
#include "base/mem.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct zread {
    int fd;
    bool own_fd; /* opened by zread_open(): closed by zread_close() */
    struct zread_opts o;
    unsigned char *in;         /* ZREAD_CHUNK bytes read from fd */
    const unsigned char *next; /* unconsumed input: in the caller's head or in 'in' */
    size_t avail;              /* bytes at next */
    uint64_t n_in, n_out;      /* bytes of the file taken as input, bytes returned */
    bool head_done;            /* the caller's head has been taken */
    bool in_over;              /* no more input: end of file or max_in */
    bool in_capped;            /* ... and it was max_in */
    bool end;                  /* the stream has ended cleanly */
    bool look;                 /* gzip: a member has ended; another may follow */
    bool started;              /* the decoder was initialised (and must be ended) */
    int err;                   /* the error, once there is one */
    z_stream gz;
    bz_stream bz;
};

/* ---- input ------------------------------------------------------------------------------- */

/* Append more of the file to the unconsumed input. Return the number of new bytes (0 sets
 * in_over, and in_capped when max_in is why), or -errno. */
static ssize_t in_fill(struct zread *z)
{
    if (!z->head_done) {
        z->head_done = true;
        size_t n = z->o.nhead;
        if (z->o.max_in && n > z->o.max_in)
            n = (size_t)z->o.max_in;
        if (n > 0) {
            z->next = z->o.head; /* taken when nothing else is waiting: at the first fill */
            z->avail = n;
            z->n_in += n;
            return (ssize_t)n;
        }
    }
    if (z->avail)
        memmove(z->in, z->next, z->avail);
    z->next = z->in;
    size_t want = ZREAD_CHUNK - z->avail;
    if (z->o.max_in && z->o.max_in - z->n_in < want)
        want = (size_t)(z->o.max_in - z->n_in);
    ssize_t r = fs_read_full(z->fd, z->in + z->avail, want);
    if (r < 0)
        return r;
    size_t got = (size_t)r;
    z->avail += got;
    z->n_in += got;
    if (got == 0) {
        z->in_over = true;
        z->in_capped = want == 0;
    }
    return (ssize_t)got;
}

/* The input has run out inside a stream: the end when max_in stopped it, else truncation. */
static void in_ran_out(struct zread *z)
{
    if (z->in_capped)
        z->end = true;
    else
        z->err = GB_ECORRUPT;
}

/* ---- the three kinds --------------------------------------------------------------------- */

/* Each step function writes to buf[cap] and returns the bytes written; it stops at the first
 * bytes, at the end (z->end) or at an error (z->err). */

static size_t step_plain(struct zread *z, unsigned char *buf, size_t cap)
{
    if (z->avail == 0) {
        ssize_t r = in_fill(z);
        if (r < 0) {
            z->err = (int)r;
            return 0;
        }
        if (r == 0) {
            z->end = true;
            return 0;
        }
    }
    size_t n = z->avail < cap ? z->avail : cap;
    memcpy(buf, z->next, n);
    z->next += n;
    z->avail -= n;
    return n;
}

/* After a gzip member: return true when another member follows (the decoder is reset for it);
 * false at the end of the file or before trailing garbage (z->end) or on a read error. */
static bool gz_next_member(struct zread *z)
{
    while (z->avail < 2 && !z->in_over) {
        ssize_t r = in_fill(z);
        if (r < 0) {
            z->err = (int)r;
            return false;
        }
    }
    if (z->avail >= 2 && z->next[0] == 0x1f && z->next[1] == 0x8b) {
        inflateReset(&z->gz);
        z->look = false;
        return true;
    }
    z->end = true;
    return false;
}

static size_t step_gzip(struct zread *z, unsigned char *buf, size_t cap)
{
    size_t produced = 0;
    for (;;) {
        if (z->look && !gz_next_member(z))
            return produced;
        if (z->avail == 0) {
            ssize_t r = in_fill(z);
            if (r < 0) {
                z->err = (int)r;
                return produced;
            }
            if (r == 0) {
                in_ran_out(z);
                return produced;
            }
        }
        z->gz.next_in = (unsigned char *)z->next;
        z->gz.avail_in = (uInt)z->avail;
        z->gz.next_out = buf + produced;
        z->gz.avail_out = (uInt)(cap - produced);
        int rc = inflate(&z->gz, Z_NO_FLUSH);
        z->next += z->avail - z->gz.avail_in;
        z->avail = z->gz.avail_in;
        produced = cap - z->gz.avail_out;
        if (rc == Z_STREAM_END) {
            if (z->o.one_member) {
                z->end = true;
                return produced;
            }
            z->look = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            z->err = rc == Z_MEM_ERROR ? -ENOMEM : GB_ECORRUPT;
            return produced;
        }
        if (produced > 0)
            return produced;
    }
}

static size_t step_bzip2(struct zread *z, unsigned char *buf, size_t cap)
{
    size_t produced = 0;
    for (;;) {
        if (z->avail == 0 && !z->in_over) {
            ssize_t r = in_fill(z);
            if (r < 0) {
                z->err = (int)r;
                return produced;
            }
        }
        z->bz.next_in = (char *)z->next;
        z->bz.avail_in = (unsigned)z->avail;
        z->bz.next_out = (char *)buf + produced;
        z->bz.avail_out = (unsigned)(cap - produced);
        int rc = BZ2_bzDecompress(&z->bz);
        z->next += z->avail - z->bz.avail_in;
        z->avail = z->bz.avail_in;
        produced = cap - z->bz.avail_out;
        if (rc == BZ_STREAM_END) {
            z->end = true;
            return produced;
        }
        if (rc != BZ_OK) {
            z->err = rc == BZ_MEM_ERROR ? -ENOMEM : GB_ECORRUPT;
            return produced;
        }
        if (produced > 0)
            return produced;
        if (z->avail == 0 && z->in_over) {
            in_ran_out(z);
            return 0;
        }
    }
}

/* ---- the reader -------------------------------------------------------------------------- */

struct zread *zread_new(int fd, const struct zread_opts *opts)
{
    struct zread *z = xcalloc(1, sizeof(*z));
    z->fd = fd;
    z->o = *opts;
    z->in = xmalloc(ZREAD_CHUNK);
    if (opts->kind == ZREAD_GZIP)
        z->started = inflateInit2(&z->gz, 16 + MAX_WBITS) == Z_OK; /* gzip wrapper only */
    else if (opts->kind == ZREAD_BZIP2)
        z->started = BZ2_bzDecompressInit(&z->bz, 0, 0) == BZ_OK;
    else
        z->started = true;
    if (!z->started)
        z->err = -ENOMEM;
    return z;
}

void zread_free(struct zread *z)
{
    if (!z)
        return;
    if (z->started && z->o.kind == ZREAD_GZIP)
        inflateEnd(&z->gz);
    else if (z->started && z->o.kind == ZREAD_BZIP2)
        BZ2_bzDecompressEnd(&z->bz);
    free(z->in);
    free(z);
}

int zread_open(struct zread **out, const char *path, const struct zread_opts *opts)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct zread *z = zread_new(fd, opts);
    z->own_fd = true;
    *out = z;
    return 0;
}

void zread_close(struct zread *z)
{
    if (z && z->own_fd)
        close(z->fd);
    zread_free(z);
}

ssize_t zread_read(struct zread *z, void *buf, size_t cap)
{
    if (z->err)
        return z->err;
    if (z->end || cap == 0)
        return 0;
    if (cap > (size_t)1 << 30)
        cap = (size_t)1 << 30; /* the decoders count in 32 bits */
    size_t got = z->o.kind == ZREAD_GZIP    ? step_gzip(z, buf, cap)
                 : z->o.kind == ZREAD_BZIP2 ? step_bzip2(z, buf, cap)
                                            : step_plain(z, buf, cap);
    if (got == 0)
        return z->err; /* 0 at the end */
    if (z->o.max_out && got > z->o.max_out - z->n_out) {
        if (!z->err)
            z->err = GB_ELIMIT;
        return z->err;
    }
    z->n_out += got;
    return (ssize_t)got;
}

int zread_error(const struct zread *z)
{
    return z->err;
}
