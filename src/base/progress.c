/*
 * progress.c - see progress.h. Threads: the command's thread calls start, lock/unlock, clear
 * and stop; the progress thread only draws, holding the lock, and sleeps on a condition
 * variable with a deadline, so stop wakes it at once.
 */
#include "base/progress.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct progress {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t tid;
    progress_draw_fn *draw;
    void *ctx;
    struct timespec t0; /* CLOCK_MONOTONIC at start */
    bool stopping;
};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void put(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void erase(void)
{
    put("\r\033[K", 4);
}

static void *run(void *arg)
{
    struct progress *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        struct timespec until = clock_after_ms(CLOCK_MONOTONIC, PROGRESS_TICK_MS);
        while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
            ;
        if (p->stopping)
            break;
        char line[512];
        line[0] = '\r';
        p->draw(p->ctx, since(&p->t0), line + 1, sizeof(line) - 5);
        size_t n = strlen(line);
        memcpy(line + n, "\033[K", 3);
        put(line, n + 3);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

bool progress_wanted(bool force_on, bool force_off)
{
    if (force_on)
        return true;
    if (force_off)
        return false;
    return isatty(STDERR_FILENO) == 1;
}

struct progress *progress_start(bool on, progress_draw_fn *draw, void *ctx)
{
    if (!on)
        return NULL;
    struct progress *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);
    p->draw = draw;
    p->ctx = ctx;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    if (pthread_create(&p->tid, NULL, run, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    log_set_status_line(true);
    return p;
}

void progress_lock(struct progress *p)
{
    if (p)
        pthread_mutex_lock(&p->lock);
}

void progress_unlock(struct progress *p)
{
    if (p)
        pthread_mutex_unlock(&p->lock);
}

void progress_clear(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    erase();
    pthread_mutex_unlock(&p->lock);
}

void progress_message(struct progress *p, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    if (p) {
        memcpy(line, "\r\033[K", 4);
        n = 4;
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    n += m < 0 ? 0 : (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (p)
        pthread_mutex_lock(&p->lock);
    put(line, n);
    if (p)
        pthread_mutex_unlock(&p->lock);
}

double progress_seconds(const struct progress *p)
{
    return p ? since(&p->t0) : 0;
}

double progress_stop(struct progress *p)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->tid, NULL);
    erase();
    log_set_status_line(false);
    double secs = since(&p->t0);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return secs;
}

bool progress_file_offset(const char *real, uint64_t *pos)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char link[300], target[4096], info[4096];
        if (e->d_name[0] == '.' ||
            (size_t)snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name) >= sizeof(link))
            continue;
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, real) != 0)
            continue;
        if ((size_t)snprintf(link, sizeof(link), "/proc/self/fdinfo/%s", e->d_name) >= sizeof(link))
            continue;
        FILE *fp = fopen(link, "r");
        if (!fp)
            continue;
        unsigned long long off;
        while (!found && fgets(info, sizeof(info), fp))
            if (sscanf(info, "pos: %llu", &off) == 1 && off > 0) {
                *pos = off;
                found = true;
            }
        fclose(fp);
    }
    closedir(d);
    return found;
}

char *progress_num(char *out, size_t cap, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < cap)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return out;
}

char *progress_eta(char *out, size_t cap, double done, double total, double secs)
{
    if (cap)
        out[0] = '\0';
    if (!(done > 0) || !(total > done) || !(secs > 0))
        return out;
    double left = secs * (total - done) / done;
    if (left > 1e7)
        return out;
    unsigned long s = (unsigned long)(left + 0.5);
    if (s >= 3600)
        snprintf(out, cap, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, cap, "%lu:%02lu", s / 60, s % 60);
    return out;
}
