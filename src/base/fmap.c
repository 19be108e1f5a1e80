/*
 * fmap.c - a file mapped read-only in 2 MiB pages where the kernel gives them (fmap.h).
 */
#include "base/fmap.h"

#include "base/err.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define STRETCH ((size_t)2 << 20)

int fmap_pages(const void *p, size_t *resident, size_t *huge)
{
    *resident = *huge = 0;
    FILE *fp = fopen("/proc/self/smaps", "re");
    if (!fp)
        return GB_ENOTFOUND;
    char line[512];
    bool in = false, found = false;
    while (fgets(line, sizeof(line), fp)) {
        unsigned long long lo, hi, kb;
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2) { /* a mapping's first line */
            if (found && in)
                break; /* the mapping's lines are over */
            in = lo == (uintptr_t)p;
            found |= in;
        } else if (in && sscanf(line, "Rss: %llu kB", &kb) == 1) {
            *resident = (size_t)kb * 1024;
        } else if (in && sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1) {
            *huge = (size_t)kb * 1024;
        }
    }
    fclose(fp);
    return found ? 0 : GB_ENOTFOUND;
}

static void *map_hinted(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
#ifdef MADV_HUGEPAGE
    if (p != MAP_FAILED)
        (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: no error matters */
#endif
    return p;
}

/* How many 2 MiB pages the mapping at p has now. */
static size_t huge_stretches(const void *p)
{
    size_t resident, huge;
    return fmap_pages(p, &resident, &huge) == 0 ? huge / STRETCH : 0;
}

/* Whether the cache holds the file of fd, mapped at p, mostly in 4 KiB pieces, and one of them
 * comes back in a 2 MiB page once dropped. Each sample that is cached (mincore: for a file
 * the caller may not write, every page counts as cached, and the samples not cached are read)
 * is touched alone, the mapping's 2 MiB pages counted before and after. Then the first small
 * one is the probe: dropped (from this mapping, then from the cache: pages another process
 * maps stay) and read again. Small again (another process holds it, no free 2 MiB block, a
 * file system without large folios), nothing more is dropped, start after start. */
static bool cached_small(int fd, char *p, size_t stretches)
{
    size_t ns = stretches < FMAP_SAMPLES ? stretches : FMAP_SAMPLES;
    size_t cached = 0, small = 0, probe = 0;
    size_t huge = 0; /* a fresh mapping: nothing of it mapped yet */
    for (size_t k = 0; k < ns; k++) {
        size_t off = k * stretches / ns * STRETCH;
        unsigned char in = 0;
        if (mincore(p + off, 1, &in) < 0)
            return false;
        if (!(in & 1))
            continue;
        cached++;
        (void)*(volatile const char *)(p + off);
        size_t now = huge_stretches(p);
        if (now == huge && small++ == 0)
            probe = off;
        huge = now;
    }
    if (cached * 4 < ns || small * 2 <= cached)
        return false; /* mostly not cached, or mostly in 2 MiB pages already */
    (void)madvise(p + probe, STRETCH, MADV_DONTNEED);
    (void)posix_fadvise(fd, (off_t)probe, STRETCH, POSIX_FADV_DONTNEED);
    (void)*(volatile const char *)(p + probe);
    return huge_stretches(p) > huge;
}

void *fmap_open(int fd, size_t len, size_t recache_min, bool *recached)
{
    *recached = false;
    void *p = map_hinted(fd, len);
    if (p == MAP_FAILED || len < recache_min || len / STRETCH < 2 ||
        !cached_small(fd, p, len / STRETCH))
        return p;
    munmap(p, len);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    *recached = true;
    return map_hinted(fd, len);
}
