/*
 * zipout.c - see zipout.h. A thin layer over libarchive's zip writer that adds the
 * temp-file-then-rename discipline and streams members from disk in 64 KiB blocks.
 *
 * Write errors. libarchive's own fd writer turns a failed write() into a fatal archive state,
 * and in that state archive_write_free() skips finishing the member, leaking its deflate
 * stream (about 260 KiB per failed zip, seen under LeakSanitizer with a full disk). So the
 * bytes go through our own callback instead: it records the first errno in z->werr, drops
 * every later byte, and always reports success to libarchive, which can then finish and free
 * normally. Every public call checks z->werr and returns it, and the temp file is removed.
 */
#include "job/zipout.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/mem.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct zipout {
    struct archive *ar;
    int fd;
    int werr; /* errno of the first failed write; 0 while all is well */
    char path[GB_PATH_MAX];
    char tmp[GB_PATH_MAX + 8];
};

static la_ssize_t zip_write(struct archive *ar, void *ctx, const void *data, size_t len)
{
    (void)ar;
    struct zipout *z = ctx;
    const char *p = data;
    size_t left = len;
    while (z->werr == 0 && left) {
        ssize_t n = write(z->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            z->werr = errno ? errno : EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    return (la_ssize_t)len;
}

int zipout_open(struct zipout **out, const char *path)
{
    struct zipout *z = xcalloc(1, sizeof(*z));
    z->fd = -1;
    if ((size_t)snprintf(z->path, sizeof(z->path), "%s", path) >= sizeof(z->path) ||
        (size_t)snprintf(z->tmp, sizeof(z->tmp), "%s.tmp", path) >= sizeof(z->tmp)) {
        free(z);
        return GB_ETOOLONG;
    }
    z->fd = open(z->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (z->fd < 0) {
        int rc = -errno;
        free(z);
        return rc;
    }
    z->ar = archive_write_new();
    /* bytes_in_last_block 1: no padding after the archive, as archive_write_open_fd() does
     * for a regular file. */
    if (!z->ar || archive_write_set_format_zip(z->ar) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(z->ar, 1) != ARCHIVE_OK ||
        archive_write_open(z->ar, z, NULL, zip_write, NULL) != ARCHIVE_OK) {
        zipout_abort(z);
        return GB_EINTERNAL;
    }
    *out = z;
    return 0;
}

/* The result of an archive call: a recorded write error first, then libarchive's verdict. */
static int check(struct zipout *z, int ok)
{
    if (z->werr)
        return -z->werr;
    return ok ? 0 : GB_EINTERNAL;
}

static int add_header(struct zipout *z, const char *name, int64_t size, int64_t mtime)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    int rc = check(z, archive_write_header(z->ar, e) == ARCHIVE_OK);
    archive_entry_free(e);
    return rc;
}

int zipout_add_file(struct zipout *z, const char *name, const char *src, int64_t mtime)
{
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0)
        rc = add_header(z, name, st.st_size, mtime);
    char *block = rc == 0 ? xmalloc(65536) : NULL;
    while (rc == 0) {
        ssize_t n = read(fd, block, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        if (n <= 0)
            break;
        rc = check(z, archive_write_data(z->ar, block, (size_t)n) == n);
    }
    free(block);
    close(fd);
    return rc;
}

int zipout_add_mem(struct zipout *z, const char *name, const void *data, size_t len, int64_t mtime)
{
    int rc = add_header(z, name, (int64_t)len, mtime);
    if (rc == 0 && len)
        rc = check(z, archive_write_data(z->ar, data, len) == (la_ssize_t)len);
    return rc;
}

int zipout_close(struct zipout *z)
{
    int rc = check(z, archive_write_close(z->ar) == ARCHIVE_OK);
    archive_write_free(z->ar);
    z->ar = NULL;
    if (rc == 0 && fsync(z->fd) < 0)
        rc = -errno;
    if (close(z->fd) < 0 && rc == 0)
        rc = -errno;
    z->fd = -1;
    if (rc == 0 && rename(z->tmp, z->path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(z->tmp);
    free(z);
    return rc;
}

void zipout_abort(struct zipout *z)
{
    if (!z)
        return;
    if (z->ar) {
        /* Finish the archive into the void (so that libarchive frees everything), then drop it. */
        if (z->werr == 0)
            z->werr = ECANCELED;
        archive_write_close(z->ar);
        archive_write_free(z->ar);
    }
    if (z->fd >= 0)
        close(z->fd);
    unlink(z->tmp);
    free(z);
}
