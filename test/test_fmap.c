/*
 * test_fmap.c - a file the page cache holds in 4 KiB pieces is read again in 2 MiB pages when
 * the kernel gives it those; a file already in 2 MiB pages, a small one, or one with no sign
 * that the kernel would do better, is mapped as it is.
 *
 * The files are written here (written pages are cached in small pieces); part of one is then
 * dropped from the cache, as happens to a large index over time. Where the kernel gives no
 * file 2 MiB pages (THP off, a file system without large folios) the tests are skipped.
 */
#include "base/fmap.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#define MIB     ((size_t)1 << 20)
#define STRETCH (2 * MIB)
#define LEN     (64 * MIB)

/* A new file of len bytes in GB_TMP (or /tmp), written, so cached in small pieces. */
static int write_file(char *path, size_t cap, size_t len)
{
    const char *dir = getenv("GB_TMP") ? getenv("GB_TMP") : "/tmp";
    snprintf(path, cap, "%s/test_fmap.XXXXXX", dir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *block = malloc(MIB);
    assert_non_null(block);
    for (size_t off = 0; off < len; off += MIB) {
        memset(block, (int)(off / MIB), MIB);
        assert_int_equal(write(fd, block, MIB), (ssize_t)MIB);
    }
    free(block);
    assert_int_equal(fsync(fd), 0);
    return fd;
}

/* Touch every 2 MiB stretch of p in a scattered order (as queries do); return how many the
 * mapping then holds in 2 MiB pages. */
static size_t touch_all(const char *p, size_t len)
{
    size_t n = len / STRETCH;
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 17 + 5) % n; /* 17 and n = 32 share no factor: each once */
        assert_int_equal(*(volatile const char *)(p + k * STRETCH), (char)(k * 2));
    }
    size_t resident, huge;
    assert_int_equal(fmap_pages(p, &resident, &huge), 0);
    return huge / STRETCH;
}

/* Whether the kernel gives a file here 2 MiB pages: one read in through a hinted mapping. */
static bool kernel_gives_2mib_pages(void)
{
    char path[4200];
    int fd = write_file(path, sizeof(path), 8 * MIB);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    bool recached;
    char *p = fmap_open(fd, 8 * MIB, SIZE_MAX, &recached);
    assert_true(p != MAP_FAILED);
    size_t huge = touch_all(p, 8 * MIB);
    munmap(p, 8 * MIB);
    close(fd);
    unlink(path);
    return huge > 0;
}

static void test_small_pieces_are_read_again_in_2mib_pages(void **state)
{
    (void)state;
    if (!kernel_gives_2mib_pages())
        skip();
    char path[4200];
    int fd = write_file(path, sizeof(path), LEN);
    bool recached = true;
    char *p = fmap_open(fd, LEN, SIZE_MAX, &recached); /* never below recache_min */
    assert_false(recached);
    size_t huge = touch_all(p, LEN);
    munmap(p, LEN);
    if (huge > 0)
        skip(); /* the writes were cached in large pieces: nothing here to mend */
    /* the file's second half leaves the cache: its first half stays in small pieces */
    assert_int_equal(posix_fadvise(fd, LEN / 2, LEN / 2, POSIX_FADV_DONTNEED), 0);

    p = fmap_open(fd, LEN, LEN, &recached);
    assert_true(p != MAP_FAILED);
    assert_true(recached);
    huge = touch_all(p, LEN);
    if (huge < LEN / STRETCH * 9 / 10)
        fail_msg("%zu of %zu stretches in 2 MiB pages after the file was read again", huge,
                 LEN / STRETCH);
    munmap(p, LEN);

    /* now in 2 MiB pages: the next open keeps them */
    p = fmap_open(fd, LEN, LEN, &recached);
    assert_false(recached);
    assert_int_equal(touch_all(p, LEN), LEN / STRETCH);
    munmap(p, LEN);
    close(fd);
    unlink(path);
}

/* Every page cached in small pieces and none to read: no sign that the kernel would give this
 * file 2 MiB pages, so nothing is dropped (docs/scale.md: the server warns instead). */
static void test_no_sign_of_2mib_pages_drops_nothing(void **state)
{
    (void)state;
    char path[4200];
    int fd = write_file(path, sizeof(path), LEN);
    bool recached = true;
    char *p = fmap_open(fd, LEN, 0, &recached);
    assert_true(p != MAP_FAILED);
    assert_false(recached);
    size_t resident, huge;
    assert_int_equal(fmap_pages(p, &resident, &huge), 0);
    munmap(p, LEN);
    close(fd);
    unlink(path);
}

static void test_pages_of_no_mapping_are_not_found(void **state)
{
    (void)state;
    size_t resident = 1, huge = 1;
    int x = 0;
    assert_true(fmap_pages(&x, &resident, &huge) < 0);
    assert_int_equal(resident, 0);
    assert_int_equal(huge, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_pieces_are_read_again_in_2mib_pages),
        cmocka_unit_test(test_no_sign_of_2mib_pages_drops_nothing),
        cmocka_unit_test(test_pages_of_no_mapping_are_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
