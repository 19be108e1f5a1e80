/*
 * test_smap.c - the builders' string map: a key is found again whatever its bytes, after the
 * table grows; a map of keys the caller stores reads them where the caller keeps them, even
 * when that storage moves.
 */
#include "base/smap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_keys_are_copied_and_found_after_growth(void **state)
{
    (void)state;
    struct smap m;
    smap_init(&m);
    char key[32];
    for (uint32_t i = 0; i < 5000; i++) { /* past the first tables: they grow */
        int n = snprintf(key, sizeof(key), "street %u", i);
        int ins = -1;
        uint32_t *v = smap_put(&m, key, (size_t)n, i * 3, &ins);
        assert_int_equal(ins, 1);
        assert_int_equal(*v, i * 3);
    }
    memset(key, 'x', sizeof(key)); /* the map kept its own copies */
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "street %u", i);
        uint32_t *v = smap_get(&m, key, (size_t)n);
        assert_non_null(v);
        assert_int_equal(*v, i * 3);
    }
    int ins = -1;
    assert_int_equal(*smap_put(&m, "street 7", 8, 99, &ins), 21); /* found: not replaced */
    assert_int_equal(ins, 0);
    assert_null(smap_get(&m, "street 7 ", 9));
    assert_null(smap_get(&m, "street", 6));
    assert_int_equal(m.n, 5000);
    smap_release(&m);
}

static void test_binary_keys_with_nul_bytes(void **state)
{
    (void)state;
    struct smap m;
    smap_init(&m);
    const char a[4] = {1, 0, 0, 0}, b[4] = {1, 0, 0, 1}, c[3] = {1, 0, 0};
    int ins;
    smap_put(&m, a, sizeof(a), 10, &ins);
    smap_put(&m, b, sizeof(b), 11, &ins);
    assert_int_equal(*smap_get(&m, a, sizeof(a)), 10);
    assert_int_equal(*smap_get(&m, b, sizeof(b)), 11);
    assert_null(smap_get(&m, c, sizeof(c))); /* a prefix is another key */
    smap_release(&m);
}

/* A string table as the index builder keeps one: NUL-terminated strings on 8-byte boundaries
 * of one growing buffer, each referred to by its offset / 8. */
struct table {
    char *blob;
    size_t len, cap;
};

static uint32_t table_add(struct table *t, const char *s)
{
    size_t n = strlen(s), span = (n + 1 + 7) & ~(size_t)7;
    if (t->len + span > t->cap) {
        t->cap = (t->len + span) * 2;
        t->blob = realloc(t->blob, t->cap); /* moves: the map must read it where it is now */
        assert_non_null(t->blob);
    }
    uint32_t ref = (uint32_t)(t->len >> 3);
    memset(t->blob + t->len, 0, span);
    memcpy(t->blob + t->len, s, n);
    t->len += span;
    return ref;
}

static void test_keys_stored_by_the_caller_are_read_where_they_now_are(void **state)
{
    (void)state;
    struct table t = {NULL, 0, 0};
    table_add(&t, ""); /* reference 0 */
    struct smap m;
    smap_init_ext(&m, (const char *const *)&t.blob, 3);
    char key[32];
    for (uint32_t i = 0; i < 3000; i++) {
        int n = snprintf(key, sizeof(key), "name-%u", i * 7);
        assert_null(smap_get(&m, key, (size_t)n));
        uint32_t ref = table_add(&t, key);
        int ins = -1;
        assert_int_equal(*smap_put(&m, key, (size_t)n, ref, &ins), ref);
        assert_int_equal(ins, 1);
    }
    assert_int_equal(m.arena_len, 0); /* no copy of the keys */
    for (uint32_t i = 0; i < 3000; i++) {
        int n = snprintf(key, sizeof(key), "name-%u", i * 7);
        uint32_t *v = smap_get(&m, key, (size_t)n);
        assert_non_null(v);
        assert_string_equal(t.blob + ((size_t)*v << 3), key);
    }
    assert_null(smap_get(&m, "name-1", 6)); /* a prefix of "name-14", stored: not found */
    assert_null(smap_get(&m, "name-71", 7));
    assert_non_null(smap_get(&m, "name-7", 6));
    smap_release(&m);
    free(t.blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_are_copied_and_found_after_growth),
        cmocka_unit_test(test_binary_keys_with_nul_bytes),
        cmocka_unit_test(test_keys_stored_by_the_caller_are_read_where_they_now_are),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
