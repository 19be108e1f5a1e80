/*
 * test_zread.c - the streaming reader: plain, gzip (several members) and bzip2 give back exactly
 * the bytes that went in; truncated or damaged streams are GB_ECORRUPT after the good bytes;
 * max_out is GB_ELIMIT.
 */
#include "base/err.h"
#include "base/zread.h"

#include <bzlib.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#define TEXT "Grasgarten 15, 9492 Eschen\nHauptstrasse 1, 9490 Vaduz\n"

/* gzip of p[n] with level 6, into out[cap]; returns the length. */
static size_t gzip_of(const char *p, size_t n, unsigned char *out, size_t cap)
{
    z_stream s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = (unsigned char *)p;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
    size_t len = s.total_out;
    deflateEnd(&s);
    return len;
}

static size_t bzip2_of(const char *p, size_t n, unsigned char *out, size_t cap)
{
    unsigned int len = (unsigned int)cap;
    assert_int_equal(
        BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)p, (unsigned int)n, 9, 0, 0), BZ_OK);
    return len;
}

/* Write p[n] to a temp file; return its path in path[cap]. */
static void put_file(char *path, size_t cap, const void *p, size_t n)
{
    const char *tmp = getenv("GB_TMP");
    snprintf(path, cap, "%s/zread.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Read path through opts to the end; return the final code (0 or negative) and the bytes. */
static int read_all(const void *file, size_t nfile, const struct zread_opts *o, char *out,
                    size_t cap, size_t *got)
{
    char path[512];
    put_file(path, sizeof(path), file, nfile);
    struct zread *z = NULL;
    assert_int_equal(zread_open(&z, path, o), 0);
    *got = 0;
    ssize_t n;
    while ((n = zread_read(z, out + *got, cap - *got)) > 0)
        *got += (size_t)n;
    zread_close(z);
    unlink(path);
    return (int)n;
}

static void test_each_kind_gives_back_the_bytes(void **state)
{
    (void)state;
    unsigned char packed[512];
    char out[512];
    size_t got;
    struct zread_opts o = {.kind = ZREAD_PLAIN};
    assert_int_equal(read_all(TEXT, strlen(TEXT), &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, strlen(TEXT));
    assert_memory_equal(out, TEXT, got);

    size_t n = gzip_of(TEXT, strlen(TEXT), packed, sizeof(packed));
    o.kind = ZREAD_GZIP;
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, strlen(TEXT));
    assert_memory_equal(out, TEXT, got);

    n = bzip2_of(TEXT, strlen(TEXT), packed, sizeof(packed));
    o.kind = ZREAD_BZIP2;
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, strlen(TEXT));
    assert_memory_equal(out, TEXT, got);
}

static void test_gzip_members_follow_each_other_unless_one_member(void **state)
{
    (void)state;
    unsigned char packed[1024];
    char out[512];
    size_t got;
    size_t n = gzip_of("abc\n", 4, packed, sizeof(packed));
    n += gzip_of("def\n", 4, packed + n, sizeof(packed) - n);
    struct zread_opts o = {.kind = ZREAD_GZIP};
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, 8);
    assert_memory_equal(out, "abc\ndef\n", 8);
    o.one_member = true;
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, 4);
    assert_memory_equal(out, "abc\n", 4);
}

static void test_truncated_or_damaged_streams_are_corrupt(void **state)
{
    (void)state;
    unsigned char packed[512];
    char out[512];
    size_t got;
    size_t n = gzip_of(TEXT, strlen(TEXT), packed, sizeof(packed));
    struct zread_opts o = {.kind = ZREAD_GZIP};
    assert_int_equal(read_all(packed, n - 6, &o, out, sizeof(out), &got), GB_ECORRUPT);
    packed[n - 5] ^= 0xff; /* the length in the trailer */
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), GB_ECORRUPT);

    n = bzip2_of(TEXT, strlen(TEXT), packed, sizeof(packed));
    o.kind = ZREAD_BZIP2;
    assert_int_equal(read_all(packed, n / 2, &o, out, sizeof(out), &got), GB_ECORRUPT);
    assert_int_equal(read_all("not bzip2 at all", 16, &o, out, sizeof(out), &got), GB_ECORRUPT);
}

static void test_max_out_is_a_limit(void **state)
{
    (void)state;
    unsigned char packed[512];
    char out[512];
    size_t got;
    size_t n = gzip_of(TEXT, strlen(TEXT), packed, sizeof(packed));
    struct zread_opts o = {.kind = ZREAD_GZIP, .max_out = 10};
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), GB_ELIMIT);
    assert_true(got <= 10);
    o.max_out = strlen(TEXT);
    assert_int_equal(read_all(packed, n, &o, out, sizeof(out), &got), 0);
    assert_int_equal(got, strlen(TEXT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_gives_back_the_bytes),
        cmocka_unit_test(test_gzip_members_follow_each_other_unless_one_member),
        cmocka_unit_test(test_truncated_or_damaged_streams_are_corrupt),
        cmocka_unit_test(test_max_out_is_a_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
