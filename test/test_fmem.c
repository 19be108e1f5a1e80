/*
 * test_fmem.c - arrays whose pages can move to temporary files: they grow zeroed and keep
 * their contents, move to files at the same address, leave the process's resident set when
 * trimmed (by the caller or by the keeper thread past its limit) and read back the same; with
 * no room for files they stay in memory; a string map kept in them works throughout.
 */
#include "base/fmem.h"
#include "base/smap.h"
#include "base/xsort.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MIB ((size_t)1 << 20)

static char dir[4096];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("GB_TMP");
    snprintf(dir, sizeof(dir), "%s/fmem.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir); /* empty: the files had no names */
}

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 512)
        p[i] = (char)(seed + i / 512);
}

static void assert_filled(const char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 512)
        assert_int_equal((unsigned char)p[i], (unsigned char)(seed + i / 512));
}

static bool dir_empty(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n == 0;
}

static void test_arrays_grow_zeroed_and_keep_their_contents(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, dir);
    char *a = fmem_realloc(&m, NULL, 100);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(a[i], 0);
    memset(a, 7, 100);
    a = fmem_realloc(&m, a, 3 * MIB);
    for (size_t i = 0; i < 3 * MIB; i++)
        assert_int_equal(a[i], i < 100 ? 7 : 0);
    uint32_t *v = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        FMEM_GROW(&m, v, i, cap);
        v[i] = i * 3;
    }
    assert_true(cap >= 100000);
    for (uint32_t i = 0; i < 100000; i++)
        assert_int_equal(v[i], i * 3);
    assert_int_equal(fmem_bytes(&m), 3 * MIB + 131072 * 4);
    fmem_free(&m, a);
    assert_int_equal(fmem_bytes(&m), 131072 * 4);
    fmem_release(&m);
}

static void test_moved_to_files_at_the_same_address_and_trimmed(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, dir);
    char *big = fmem_realloc(&m, NULL, 64 * MIB);
    char *small = fmem_realloc(&m, NULL, 5000);
    fill(big, 64 * MIB, 1);
    fill(small, 5000, 2);
    assert_int_equal(fmem_to_files(&m), 0);
    assert_true(dir_empty()); /* anonymous files */
    assert_filled(big, 64 * MIB, 1);
    assert_filled(small, 5000, 2);
    uint64_t before = process_rss();
    fmem_trim(&m);
    uint64_t after = process_rss();
    assert_true(before >= after + 60 * MIB); /* the pages left the process */
    assert_filled(big, 64 * MIB, 1);         /* and come back from the files */
    assert_filled(small, 5000, 2);
    /* grown in its file: the old contents, then zeros */
    big = fmem_realloc(&m, big, 80 * MIB);
    assert_filled(big, 64 * MIB, 1);
    for (size_t i = 64 * MIB; i < 80 * MIB; i += 4096)
        assert_int_equal(big[i], 0);
    /* made after the move: a file too */
    char *later = fmem_realloc(&m, NULL, 32 * MIB);
    fill(later, 32 * MIB, 3);
    before = process_rss();
    fmem_trim(&m);
    assert_true(before >= process_rss() + 30 * MIB);
    assert_filled(later, 32 * MIB, 3);
    fmem_release(&m);
    assert_true(dir_empty());
}

/* The process's peak resident set (VmHWM), in bytes. */
static uint64_t peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb << 10;
}

/* The move copies an array step by step, each step dropped once written: a large capacity of
 * which little was touched is not filled by the copy, and nothing is held twice. */
static void test_the_move_holds_no_array_twice(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, dir);
    char *a = fmem_realloc(&m, NULL, 768 * MIB); /* a doubled capacity, mostly untouched */
    fill(a, 96 * MIB, 7);
    uint64_t rss = process_rss(), peak = peak_rss();
    assert_true(peak < rss + 512 * MIB); /* the tests before stayed below what a copy would add */
    assert_int_equal(fmem_to_files(&m), 0);
    uint64_t bound = rss + 64 * MIB + 16 * MIB; /* one step of the copy, and some slack */
    uint64_t after = peak_rss();
    if (after > peak && after > bound)
        fail_msg("the move raised the peak from %llu to %llu MB (at most %llu)",
                 (unsigned long long)(peak >> 20), (unsigned long long)(after >> 20),
                 (unsigned long long)(bound >> 20));
    assert_filled(a, 96 * MIB, 7);
    for (size_t i = 96 * MIB; i < 768 * MIB; i += 1 * MIB)
        assert_int_equal(a[i], 0);
    fmem_release(&m);
}

static void test_the_keeper_trims_past_its_limit(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, dir);
    assert_int_equal(fmem_to_files(&m), 0);
    char *a = fmem_realloc(&m, NULL, 96 * MIB);
    assert_int_equal(fmem_keep(&m, process_rss() + 8 * MIB), 0);
    fill(a, 96 * MIB, 4);
    /* wait for the condition: the keeper saw the resident set pass its limit */
    uint64_t trims = 0;
    for (int i = 0; i < 60000 && trims == 0; i++) {
        pthread_mutex_lock(&m.mu);
        trims = m.trims;
        pthread_mutex_unlock(&m.mu);
        if (trims == 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(trims >= 1);
    assert_filled(a, 96 * MIB, 4);
    fmem_release(&m); /* stops the keeper */
}

static void test_no_room_for_files_keeps_them_in_memory(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, "/nonexistent/geobatch-fmem");
    char *a = fmem_realloc(&m, NULL, 1 * MIB);
    fill(a, MIB, 5);
    assert_true(fmem_to_files(&m) < 0);
    assert_filled(a, MIB, 5);
    char *b = fmem_realloc(&m, NULL, 2 * MIB); /* no file: memory, logged once */
    fill(b, 2 * MIB, 6);
    a = fmem_realloc(&m, a, 4 * MIB);
    fmem_trim(&m); /* nothing in files: nothing dropped */
    assert_filled(a, MIB, 5);
    assert_filled(b, 2 * MIB, 6);
    fmem_release(&m);
}

static void test_a_string_map_in_files(void **state)
{
    (void)state;
    struct fmem m;
    fmem_init(&m, dir);
    struct smap s;
    smap_init(&s);
    smap_use(&s, &m);
    char key[32];
    int ins;
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof(key), "street %u", i);
        smap_put(&s, key, (size_t)n, i, &ins);
        if (i == 5000)
            assert_int_equal(fmem_to_files(&m), 0); /* midway: later growth in files */
        if (i % 4096 == 0)
            fmem_trim(&m);
    }
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof(key), "street %u", i);
        uint32_t *v = smap_get(&s, key, (size_t)n);
        assert_non_null(v);
        assert_int_equal(*v, i);
    }
    smap_release(&s);
    assert_int_equal(fmem_bytes(&m), 0);
    fmem_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arrays_grow_zeroed_and_keep_their_contents),
        cmocka_unit_test(test_moved_to_files_at_the_same_address_and_trimmed),
        cmocka_unit_test(test_the_move_holds_no_array_twice),
        cmocka_unit_test(test_the_keeper_trims_past_its_limit),
        cmocka_unit_test(test_no_room_for_files_keeps_them_in_memory),
        cmocka_unit_test(test_a_string_map_in_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
