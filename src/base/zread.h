/*
 * zread.h - one streaming reader for plain, gzip and bzip2 files, with bounded input and output.
 *
 * Open data comes compressed (.osm.gz, .osm.bz2), and two places read it: format detection,
 * which needs the first decompressed bytes of a file, and the OSM importer, which decompresses
 * whole files for readosm. Both read through this reader, so a compressed stream is decoded,
 * checked and limited in one place.
 *
 * Reads are short, as read(2) is on a pipe: zread_read() returns as soon as one step of the
 * decoder has produced bytes (a step consumes what the reader has read, up to ZREAD_CHUNK bytes
 * of the file at a time). gzip files may hold several members, decoded one after the other;
 * bytes after a member that do not start another are ignored, as gzip(1) and zlib's gzread()
 * do. A bzip2 file is one stream: bytes after its end are ignored, as BZ2_bzRead() does.
 *
 * Memory: ZREAD_CHUNK bytes of input plus the decoder's state (about 64 KiB for gzip, 3.6 MB
 * for bzip2), whatever the size of the file. Thread safety: a reader belongs to one thread.
 */
#ifndef GEOBATCH_ZREAD_H
#define GEOBATCH_ZREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ZREAD_CHUNK (64 * 1024) /* bytes of the file read at a time */

enum zread_kind {
    ZREAD_PLAIN, /* bytes as they are */
    ZREAD_GZIP,  /* RFC 1952 gzip, one or more members */
    ZREAD_BZIP2, /* one bzip2 stream */
};

/* How to read: everything but kind may be left zero. */
struct zread_opts {
    enum zread_kind kind;
    const void *head; /* the file's first nhead bytes, already read by the caller (the fd is */
    size_t nhead;     /* past them); they must stay valid while the reader is used */
    uint64_t max_in;  /* read at most this many bytes of the file, head included (0: no limit);
                         reaching it ends the output as cleanly as the end of the stream does */
    uint64_t max_out; /* produce at most this many bytes (0: no limit); more is GB_ELIMIT */
    bool one_member;  /* gzip: end after the first member */
};

struct zread;

/* Read the open file fd through opts; the caller keeps fd (zread_free() does not close it).
 * Never returns NULL: a decoder that cannot start makes the first zread_read() fail. */
struct zread *zread_new(int fd, const struct zread_opts *opts);

/* Free z (NULL is fine); fd stays open. */
void zread_free(struct zread *z);

/* Open path and read it through opts (opts->head must be NULL). Return 0 and set *out (release
 * it with zread_close()), or -errno when path cannot be opened. */
int zread_open(struct zread **out, const char *path, const struct zread_opts *opts);

/* Close the file zread_open() opened and free z (NULL is fine). */
void zread_close(struct zread *z);

/*
 * Read the next bytes into buf[cap]. Return how many (1..cap), 0 at the end of the stream (and
 * ever after), or a negative code: GB_ECORRUPT when the data is not valid gzip or bzip2 or the
 * file ends inside a stream, GB_ELIMIT when the output would exceed max_out, -errno when reading
 * fails, -ENOMEM when the decoder cannot start. Bytes decoded before an error are returned
 * first and the error by the next call (zread_error() tells whether one waits); an error is
 * final. When a step both finds an error and passes max_out, the error is the one returned.
 */
ssize_t zread_read(struct zread *z, void *buf, size_t cap);

/* The error the next zread_read() will return, or 0 when none is known yet. */
int zread_error(const struct zread *z);

#endif
