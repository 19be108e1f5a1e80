/*
 * fsio.h - whole writes, copies and durable renames on file descriptors and paths.
 *
 * Every function retries EINTR and returns 0 or -errno. GB_PATH_MAX bounds every path that
 * geobatch builds (data directory + job id + file name); a path that would be longer is refused
 * where it is built, never cut.
 */
#ifndef GEOBATCH_FSIO_H
#define GEOBATCH_FSIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GB_PATH_MAX 4200

/* Write all len bytes of data to fd. */
int fs_write_all(int fd, const void *data, size_t len);

/* Read from fd until cap bytes are in p or the file ends. Return the count (less than cap only
 * at the end of the file) or -errno. */
ssize_t fs_read_full(int fd, void *p, size_t cap);

/* Write all n bytes of p to fd at off (pwrite; the file offset does not move). */
int fs_pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/* Read up to n bytes at off into p (pread). Return the count (less than n only at the end of the
 * file) or -errno. */
ssize_t fs_pread_full(int fd, void *p, size_t n, uint64_t off);

/* Copy everything from in (from its current offset to EOF) to out, through block[cap]. */
int fs_copy_fd(int in, int out, char *block, size_t cap);

/* fsync the directory path, so that a rename or a create in it is durable. */
int fs_fsync_dir(const char *path);

#endif
