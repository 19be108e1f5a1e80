/*
 * zipout.h - write a zip archive member by member with libarchive, streaming each member
 * from a file so that a result of any size never sits in memory.
 *
 * The archive is written to "<path>.tmp", fsynced and renamed to path by zipout_close(), so
 * a reader (or a crash) never sees a half-written zip.
 *
 * Threads: a struct zipout belongs to one thread.
 */
#ifndef GEOBATCH_ZIPOUT_H
#define GEOBATCH_ZIPOUT_H

#include <stddef.h>
#include <stdint.h>

struct zipout;

/* Start a zip that will become path. Return 0 and set *out, or -errno / GB_EINTERNAL. */
int zipout_open(struct zipout **out, const char *path);

/*
 * Add a member called name (no directories) holding the bytes of the file src, with modification
 * time mtime (unix seconds). Return 0 or a negative code.
 */
int zipout_add_file(struct zipout *z, const char *name, const char *src, int64_t mtime);

/* Add a member holding len bytes from memory. Return 0 or a negative code. */
int zipout_add_mem(struct zipout *z, const char *name, const void *data, size_t len, int64_t mtime);

/*
 * Finish the archive, fsync it and rename it into place; z is freed in every case.
 * Return 0 or a negative code (the temp file is then removed). Here and in the add functions a
 * failed write gives its -errno (-ENOSPC on a full disk), other archive errors GB_EINTERNAL.
 */
int zipout_close(struct zipout *z);

/* Drop an unfinished archive and its temp file. NULL is fine. */
void zipout_abort(struct zipout *z);

#endif
