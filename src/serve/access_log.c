/*
 * access_log.c - see access_log.h.
 *
 * DESIGN. A line is built in a buffer of its own on the caller's stack and written with one
 * write() (O_APPEND), so concurrent requests never mix lines and need no lock among
 * themselves; a read-write lock only keeps the descriptor from being closed by a reopen
 * (SIGHUP, for logrotate) while a request writes to it.
 */
#include "serve/access_log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PATH_KEEP      512 /* bytes of the path kept in a line ("cut":true when longer) */
#define LINE_MAX_BYTES (4 * PATH_KEEP * 6) /* every field escaped at worst fits */

struct access_log {
    pthread_rwlock_t lock; /* fd */
    int fd;
    char path[4096];
};

static int open_path(const char *path)
{
    if (strcmp(path, "-") == 0)
        return dup(STDERR_FILENO);
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int access_log_open(struct access_log **out, const char *path, char *err, size_t errlen)
{
    if (strlen(path) >= sizeof(((struct access_log *)0)->path)) {
        snprintf(err, errlen, "--access-log: path too long");
        return -ENAMETOOLONG;
    }
    int fd = open_path(path);
    if (fd < 0) {
        int rc = -errno;
        snprintf(err, errlen, "cannot open access log %s: %s", path, strerror(errno));
        return rc;
    }
    struct access_log *l = xcalloc(1, sizeof(*l));
    pthread_rwlock_init(&l->lock, NULL);
    l->fd = fd;
    memcpy(l->path, path, strlen(path) + 1);
    *out = l;
    return 0;
}

int access_log_reopen(struct access_log *l)
{
    int fd = open_path(l->path);
    if (fd < 0)
        return -errno;
    pthread_rwlock_wrlock(&l->lock);
    int old = l->fd;
    l->fd = fd;
    pthread_rwlock_unlock(&l->lock);
    close(old);
    return 0;
}

void access_log_close(struct access_log *l)
{
    if (!l)
        return;
    close(l->fd);
    pthread_rwlock_destroy(&l->lock);
    free(l);
}

/* Append s[0..n) to out (room for cap bytes) as the inside of a JSON string: '"', '\' and
 * every byte outside printable ASCII as \u00XX. Return the bytes written. */
static size_t json_escape(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 7 <= cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

void access_log_write(struct access_log *l, const struct access_entry *e)
{
    if (!l)
        return;
    char line[LINE_MAX_BYTES], ts[40];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    time_t sec = now.tv_sec;
    gmtime_r(&sec, &tm);
    size_t tn = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + tn, sizeof(ts) - tn, ".%03ldZ", now.tv_nsec / 1000000);

    /* Escaped, each of these fits: client 46, app 64 and route 512 bytes at most 6 times
     * over, the path cut at PATH_KEEP. */
    char client[64 * 6], app[70 * 6], method[16 * 6], route[PATH_KEEP * 6], path[PATH_KEEP * 6];
    size_t plen = strlen(e->path);
    bool cut = plen > PATH_KEEP;
    client[json_escape(client, sizeof(client), e->client, strnlen(e->client, 63))] = '\0';
    app[json_escape(app, sizeof(app), e->app, strnlen(e->app, 69))] = '\0';
    method[json_escape(method, sizeof(method), e->method, strnlen(e->method, 15))] = '\0';
    route[json_escape(route, sizeof(route), e->route, strnlen(e->route, PATH_KEEP))] = '\0';
    path[json_escape(path, sizeof(path), e->path, cut ? PATH_KEEP : plen)] = '\0';
    int n =
        snprintf(line, sizeof(line),
                 "{\"time\":\"%s\",\"id\":%llu,\"client\":\"%s\",\"app\":\"%s\","
                 "\"method\":\"%s\",\"route\":\"%s\",\"path\":\"%s\"%s,\"status\":%d,"
                 "\"bytes_in\":%llu,\"bytes_out\":%llu,\"ms\":%.3f,\"done\":%s}\n",
                 ts, (unsigned long long)e->id, client, app, method, route, path,
                 cut ? ",\"cut\":true" : "", e->status, (unsigned long long)e->bytes_in,
                 (unsigned long long)e->bytes_out, e->seconds * 1e3, e->done ? "true" : "false");
    if (n < 0 || (size_t)n >= sizeof(line))
        return; /* cannot happen: every field is bounded above */
    pthread_rwlock_rdlock(&l->lock);
    ssize_t w = write(l->fd, line, (size_t)n);
    pthread_rwlock_unlock(&l->lock);
    (void)w;
}
