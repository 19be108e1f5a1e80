/*
 * test_fmap.c - a file the page cache holds in 4 KiB pieces is read again in 2 MiB pages when
 * the kernel gives it those; a file already in 2 MiB pages, or whose small pieces another
 * mapping holds, is mapped as it is.
 *
 * The files are written here (written pages are cached in small pieces, as a copy's are); part
 * of one is then dropped from the cache, as happens to a large index over time. Where the
 * kernel gives no file 2 MiB pages (THP off, a file system without large folios, no free
 * 2 MiB block at that moment) the tests are skipped.
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
    unlink(path); /* gone with the descriptor, whatever ends the test */
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
    return huge > 0;
}

/* fmap_open from recache_min 0 on fd: it read the file again; then at least 9 in 10 stretches
 * are in 2 MiB pages. Skipped where the kernel has no 2 MiB page for a file at this moment. */
static void expect_read_again(int fd)
{
    bool recached = false;
    char *p = fmap_open(fd, LEN, 0, &recached);
    assert_true(p != MAP_FAILED);
    if (!recached && !kernel_gives_2mib_pages()) {
        munmap(p, LEN);
        skip();
    }
    assert_true(recached);
    size_t huge = touch_all(p, LEN);
    if (huge < LEN / STRETCH * 9 / 10)
        fail_msg("%zu of %zu stretches in 2 MiB pages after the file was read again", huge,
                 LEN / STRETCH);
    munmap(p, LEN);

    /* now in 2 MiB pages: the next open keeps them */
    p = fmap_open(fd, LEN, 0, &recached);
    assert_false(recached);
    assert_true(touch_all(p, LEN) >= LEN / STRETCH * 9 / 10);
    munmap(p, LEN);
}

/* A file written (so cached in small pieces) whose pages are not in 2 MiB pages when read
 * through a mapping that asks for them, or a skip where the writes were cached in large ones. */
static int small_file(char *path, size_t cap)
{
    if (!kernel_gives_2mib_pages())
        skip();
    int fd = write_file(path, cap, LEN);
    bool recached = true;
    char *p = fmap_open(fd, LEN, SIZE_MAX, &recached); /* never below recache_min */
    assert_false(recached);
    size_t huge = touch_all(p, LEN);
    munmap(p, LEN);
    if (huge > 0) {
        close(fd);
        skip(); /* the writes were cached in large pieces: nothing here to mend */
    }
    return fd;
}

/* Half the file left the cache, the other half is in small pieces: an index over time. */
static void test_small_pieces_are_read_again_in_2mib_pages(void **state)
{
    (void)state;
    char path[4200];
    int fd = small_file(path, sizeof(path));
    assert_int_equal(posix_fadvise(fd, LEN / 2, LEN / 2, POSIX_FADV_DONTNEED), 0);
    expect_read_again(fd);
    close(fd);
}

/* Every page cached in small pieces: a copy made with cp. */
static void test_a_copy_in_small_pieces_is_read_again(void **state)
{
    (void)state;
    char path[4200];
    int fd = small_file(path, sizeof(path));
    expect_read_again(fd);
    close(fd);
}

/* Another mapping holds the small pieces (a server still running on the file): dropping the
 * cache would not free them, and fmap_open leaves them after its one-stretch probe, however
 * often it is called. */
static void test_pieces_another_mapping_holds_are_left(void **state)
{
    (void)state;
    char path[4200];
    int fd = small_file(path, sizeof(path));
    char *other = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(other != MAP_FAILED);
    for (size_t off = 0; off < LEN; off += 4096)
        (void)*(volatile const char *)(other + off);
    for (int k = 0; k < 2; k++) {
        bool recached = true;
        char *p = fmap_open(fd, LEN, 0, &recached);
        assert_true(p != MAP_FAILED);
        assert_false(recached);
        assert_int_equal(touch_all(p, LEN), 0);
        munmap(p, LEN);
    }
    munmap(other, LEN);
    close(fd);
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
        cmocka_unit_test(test_a_copy_in_small_pieces_is_read_again),
        cmocka_unit_test(test_pieces_another_mapping_holds_are_left),
        cmocka_unit_test(test_pages_of_no_mapping_are_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
