/*
 * fmap.h - a file mapped read-only to be read at random, in 2 MiB pages where the kernel gives
 * them.
 *
 * Reads scattered over a file of hundreds of megabytes miss the TLB in 4 KiB pages. Linux decides
 * a file page's size when the page enters the page cache: read in through a mapping that asks
 * for huge pages (MADV_HUGEPAGE), a 2 MiB stretch comes in as one page; written, or read with
 * read(2) at random, it comes in as 4 KiB pieces and stays so while it is cached, whatever a
 * later mapping asks (docs/scale.md, "The index in 2 MiB pages"). fmap_open() looks at how the
 * cache holds a large file and, where it is mostly in small pieces and the kernel would give it
 * 2 MiB pages, drops the file's cached pages first, so that they are read again in 2 MiB pages.
 */
#ifndef GEOBATCH_FMAP_H
#define GEOBATCH_FMAP_H

#include <stdbool.h>
#include <stddef.h>

/* The 2 MiB stretches of a file that fmap_open() looks at. */
#define FMAP_SAMPLES 32

/*
 * Map the first len bytes of fd read-only and shared, asking for 2 MiB pages (a hint). From
 * recache_min bytes up, first look at FMAP_SAMPLES stretches spread over the file: when at least
 * a quarter of them are cached, more than half of those in 4 KiB pieces, and one of those,
 * dropped, comes back in a 2 MiB page (the kernel gives this file 2 MiB pages and no other
 * process holds that stretch), drop the file's cached pages that no process maps
 * (POSIX_FADV_DONTNEED: clean pages, read again from disk when touched) and map it afresh;
 * *recached says so. Where the probe comes back small (a kernel or file system without huge
 * pages for files, no free 2 MiB block, another process mapping those pages) only that
 * stretch was dropped. A caller that may not write the file sees every page as cached
 * (mincore), so the samples not cached are read too (up to 64 MiB). Return the mapping, or
 * MAP_FAILED with errno set.
 */
void *fmap_open(int fd, size_t len, size_t recache_min, bool *recached);

/* How the kernel maps the mapping that starts at p, from /proc/self/smaps: *resident bytes in
 * memory, *huge of them in 2 MiB pages. Return 0, or GB_ENOTFOUND where the kernel does not
 * say. */
int fmap_pages(const void *p, size_t *resident, size_t *huge);

#endif
