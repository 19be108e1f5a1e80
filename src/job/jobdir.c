/*
 * jobdir.c - the on-disk layout of a job and the intake writer (see jobdir.h).
 *
 * DESIGN. The intake writer buffers each file it writes (WBUF bytes at a time) and closes it
 * with fsync; a chunk file is complete before the next is opened. The directory of an upload
 * is built under tmp/ and moved into jobs/ by one rename, so a crash leaves either a whole job
 * or an unfinished upload that the next start removes.
 */
#include "job/jobdir.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/mem.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WBUF (256u * 1024) /* bytes an intake file buffers before it writes */

/* ---- the directory's lock ---- */

int jobdir_lock(const char *data, int *fd, long *holder)
{
    char path[GB_PATH_MAX];
    *holder = 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/" JOBDIR_LOCK, data) >= sizeof(path))
        return GB_ETOOLONG;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return -errno;
    char pid[32];
    if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        int rc = -errno; /* -EWOULDBLOCK: held by another process */
        ssize_t n = pread(f, pid, sizeof(pid) - 1, 0);
        if (n > 0) {
            pid[n] = '\0';
            *holder = strtol(pid, NULL, 10);
        }
        close(f);
        return rc;
    }
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) < 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        int rc = -errno;
        close(f);
        return rc;
    }
    *fd = f;
    return 0;
}

/* ---- paths ---- */

bool jobdir_id_valid(const char *s, size_t len)
{
    if (!s || len != 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) || (unsigned char)s[i] > 127)
            return false;
    return true;
}

/* "<data>/<top>/<id>[/<file>]" into out, after checking the id. */
static int build(char *out, size_t cap, const char *data, const char *top, const char *id,
                 const char *file)
{
    if (!jobdir_id_valid(id, strlen(id)))
        return GB_EPARAM;
    int n = file ? snprintf(out, cap, "%s/%s/%s/%s", data, top, id, file)
                 : snprintf(out, cap, "%s/%s/%s", data, top, id);
    return n < 0 || (size_t)n >= cap ? GB_ETOOLONG : 0;
}

int jobdir_path(char *out, size_t cap, const char *data, const char *id, const char *file)
{
    return build(out, cap, data, JOBDIR_JOBS, id, file);
}

int jobdir_tmp_path(char *out, size_t cap, const char *data, const char *id, const char *file)
{
    return build(out, cap, data, JOBDIR_TMP, id, file);
}

/* "in/<k>.csv", "out/<k>.out" or "out/<k>.nom". */
static void chunk_name(char *out, size_t cap, uint32_t k, enum jobdir_chunk_file which)
{
    static const char *const dir_ext[][2] = {
        {"in", "csv"}, {JOBDIR_OUT, "out"}, {JOBDIR_OUT, "nom"}};
    snprintf(out, cap, "%s/%u.%s", dir_ext[which][0], k, dir_ext[which][1]);
}

int jobdir_chunk_path(char *out, size_t cap, const char *data, const char *id, uint32_t k,
                      enum jobdir_chunk_file which)
{
    char name[32];
    chunk_name(name, sizeof(name), k, which);
    return jobdir_path(out, cap, data, id, name);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int jobdir_remove(const char *data, const char *id)
{
    char path[GB_PATH_MAX];
    int rc = jobdir_path(path, sizeof(path), data, id, NULL);
    if (rc < 0)
        return rc;
    rc = nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (rc < 0 && errno == ENOENT)
        return 0;
    return rc < 0 ? -errno : rc;
}

void jobdir_remove_chunks(const char *data, const char *id)
{
    /* Everything in them: the chunk files and any temporary file a crash left behind. */
    char path[GB_PATH_MAX];
    if (jobdir_path(path, sizeof(path), data, id, "in") == 0)
        nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (jobdir_path(path, sizeof(path), data, id, JOBDIR_OUT) == 0)
        nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Add the sizes of the regular files in the directory open as dfd, and in its directories
 * down to depth more levels, to *bytes. Closes dfd. Entries that vanish meanwhile (a worker's
 * temp file renamed, a job removed) are skipped. */
static void du_dir(int dfd, int depth, uint64_t *bytes)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            *bytes += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth > 0) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0)
                du_dir(sub, depth - 1, bytes);
        }
    }
    closedir(d);
}

/* The bytes of the files under path (a job directory: its files, in/ and out/). */
static int du_path(const char *path, uint64_t *bytes)
{
    *bytes = 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    du_dir(fd, 1, bytes);
    return 0;
}

int jobdir_usage(const char *data, const char *id, uint64_t *bytes)
{
    char path[GB_PATH_MAX];
    int rc = jobdir_path(path, sizeof(path), data, id, NULL);
    return rc < 0 ? rc : du_path(path, bytes);
}

int jobdir_tmp_usage(const char *data, const char *id, uint64_t *bytes)
{
    char path[GB_PATH_MAX];
    int rc = jobdir_tmp_path(path, sizeof(path), data, id, NULL);
    return rc < 0 ? rc : du_path(path, bytes);
}

int jobdir_tmp_remove(const char *data, const char *id, uint32_t nchunks)
{
    char path[GB_PATH_MAX], name[32];
    int rc = jobdir_tmp_path(path, sizeof(path), data, id, NULL);
    if (rc < 0)
        return rc;
    for (uint32_t k = 0;; k++) {
        chunk_name(name, sizeof(name), k, JOBDIR_CHUNK_IN);
        if ((jobdir_tmp_path(path, sizeof(path), data, id, name) < 0 || unlink(path) < 0) &&
            k >= nchunks)
            break;
    }
    static const char *const files[] = {JOBDIR_HEADER, JOBDIR_ERRORS};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (jobdir_tmp_path(path, sizeof(path), data, id, files[i]) == 0)
            unlink(path);
    static const char *const dirs[] = {"in", JOBDIR_OUT};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (jobdir_tmp_path(path, sizeof(path), data, id, dirs[i]) == 0)
            rmdir(path);
    jobdir_tmp_path(path, sizeof(path), data, id, NULL);
    return rmdir(path) < 0 ? -errno : 0;
}

void jobdir_result_name(char *out, size_t cap, int64_t finished, const char *suffix)
{
    time_t t = (time_t)finished;
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    if (strftime(stamp, sizeof(stamp), "%Y%m%d-%I-%M", &tm) == 0)
        stamp[0] = '\0';
    snprintf(out, cap, "result_%s_%s_%s", stamp, JOB_RESULT_VERSION, suffix);
}

/* ---- buffered intake files ---- */

struct wfile {
    int fd;
    struct buf b;
};

static int wfile_open(struct wfile *w, const char *path)
{
    buf_init(&w->b, WBUF * 2);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return w->fd < 0 ? -errno : 0;
}

static int wfile_flush(struct wfile *w)
{
    int rc = fs_write_all(w->fd, w->b.data ? w->b.data : "", w->b.len);
    buf_reset(&w->b);
    return rc;
}

static int wfile_put(struct wfile *w, const char *p, size_t n)
{
    if (w->b.len + n > WBUF) {
        int rc = wfile_flush(w);
        if (rc < 0)
            return rc;
        if (n > WBUF)
            return fs_write_all(w->fd, p, n);
    }
    return buf_append(&w->b, p, n);
}

/* Flush, fsync and close; safe on a file that failed to open or was closed. */
static int wfile_close(struct wfile *w)
{
    int rc = 0;
    if (w->fd >= 0) {
        rc = wfile_flush(w);
        if (rc == 0 && fsync(w->fd) < 0)
            rc = -errno;
        if (close(w->fd) < 0 && rc == 0)
            rc = -errno;
    }
    w->fd = -1;
    buf_release(&w->b);
    return rc;
}

/* Write a line as received, terminated so that re-reading it gives the same fields. */
static int put_line(struct wfile *w, const char *raw, size_t len)
{
    int rc = wfile_put(w, raw, len);
    if (rc == 0)
        rc = len && raw[len - 1] == '\r' ? wfile_put(w, "\r\n", 2) : wfile_put(w, "\n", 1);
    return rc;
}

/* ---- the intake writer ---- */

struct jobdir_intake {
    char data[GB_PATH_MAX];
    char id[33];
    char dir[GB_PATH_MAX]; /* <data>/tmp/<id> */
    uint32_t chunk_rows;
    bool dir_made;  /* the tmp directory exists and is ours to remove */
    bool committed; /* renamed into jobs/ */
    char *header;   /* the header line as received */
    size_t header_len;
    struct wfile chunk, errs;
    uint64_t rows; /* valid rows written */
    uint32_t nchunks;
};

int jobdir_intake_open(struct jobdir_intake **out, const char *data, const char *id,
                       uint32_t chunk_rows)
{
    struct jobdir_intake *w = xcalloc(1, sizeof(*w));
    w->chunk.fd = w->errs.fd = -1;
    w->chunk_rows = chunk_rows;
    char in[GB_PATH_MAX], outdir[GB_PATH_MAX];
    int rc = jobdir_tmp_path(w->dir, sizeof(w->dir), data, id, NULL);
    if (rc == 0)
        rc = jobdir_tmp_path(in, sizeof(in), data, id, "in");
    if (rc == 0)
        rc = jobdir_tmp_path(outdir, sizeof(outdir), data, id, JOBDIR_OUT);
    if (rc == 0 && (size_t)snprintf(w->data, sizeof(w->data), "%s", data) >= sizeof(w->data))
        rc = GB_ETOOLONG;
    if (rc < 0)
        goto fail;
    memcpy(w->id, id, sizeof(w->id));
    if (mkdir(w->dir, 0700) < 0 || (w->dir_made = true, mkdir(in, 0700) < 0) ||
        mkdir(outdir, 0700) < 0) {
        rc = -errno;
        goto fail;
    }
    *out = w;
    return 0;
fail:
    jobdir_intake_free(w);
    return rc;
}

int jobdir_intake_header(struct jobdir_intake *w, const char *raw, size_t len)
{
    w->header = xstrndup(raw, len);
    w->header_len = len;
    char path[GB_PATH_MAX];
    struct wfile hdr = {.fd = -1};
    int rc = jobdir_tmp_path(path, sizeof(path), w->data, w->id, JOBDIR_HEADER);
    if (rc == 0)
        rc = wfile_open(&hdr, path);
    if (rc == 0)
        rc = put_line(&hdr, w->header, w->header_len);
    int c = wfile_close(&hdr);
    if (rc == 0)
        rc = c;
    if (rc == 0)
        rc = jobdir_tmp_path(path, sizeof(path), w->data, w->id, JOBDIR_ERRORS);
    if (rc == 0)
        rc = wfile_open(&w->errs, path);
    return rc;
}

int jobdir_intake_error(struct jobdir_intake *w, const char *text, size_t len)
{
    return wfile_put(&w->errs, text, len);
}

int jobdir_intake_row(struct jobdir_intake *w, const char *raw, size_t len)
{
    if (w->rows % w->chunk_rows == 0) {
        char path[GB_PATH_MAX], name[32];
        chunk_name(name, sizeof(name), w->nchunks, JOBDIR_CHUNK_IN);
        int rc = wfile_close(&w->chunk);
        if (rc == 0)
            rc = jobdir_tmp_path(path, sizeof(path), w->data, w->id, name);
        if (rc == 0)
            rc = wfile_open(&w->chunk, path);
        if (rc == 0)
            rc = put_line(&w->chunk, w->header, w->header_len);
        if (rc < 0)
            return rc;
        w->nchunks++;
    }
    int rc = put_line(&w->chunk, raw, len);
    if (rc == 0)
        w->rows++;
    return rc;
}

uint32_t jobdir_intake_chunks(const struct jobdir_intake *w)
{
    return w->nchunks;
}

int jobdir_intake_close(struct jobdir_intake *w)
{
    int rc = wfile_close(&w->chunk);
    int e = wfile_close(&w->errs);
    return rc < 0 ? rc : e;
}

int jobdir_intake_commit(struct jobdir_intake *w)
{
    char in[GB_PATH_MAX], dst[GB_PATH_MAX], jobs[GB_PATH_MAX];
    int rc = jobdir_tmp_path(in, sizeof(in), w->data, w->id, "in");
    if (rc == 0)
        rc = fs_fsync_dir(in);
    if (rc == 0)
        rc = fs_fsync_dir(w->dir);
    if (rc == 0)
        rc = jobdir_path(dst, sizeof(dst), w->data, w->id, NULL);
    if (rc == 0 && (size_t)snprintf(jobs, sizeof(jobs), "%s/" JOBDIR_JOBS, w->data) >= sizeof(jobs))
        rc = GB_ETOOLONG;
    if (rc == 0 && rename(w->dir, dst) < 0)
        rc = -errno;
    if (rc < 0)
        return rc;
    w->dir_made = false;
    w->committed = true;
    rc = fs_fsync_dir(jobs);
    if (rc < 0)
        jobdir_remove(w->data, w->id);
    return rc;
}

void jobdir_intake_free(struct jobdir_intake *w)
{
    if (!w)
        return;
    jobdir_intake_close(w);
    if (w->dir_made)
        jobdir_tmp_remove(w->data, w->id, w->nchunks);
    free(w->header);
    free(w);
}
