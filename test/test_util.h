/*
 * test_util.h - helpers shared by the unit tests (header-only: each test is one executable).
 * Include after <cmocka.h>.
 */
#ifndef GEOBATCH_TEST_UTIL_H
#define GEOBATCH_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

/* Decode the escapes of a golden-case field (\n \r \t \\ \xHH; "(empty)" is the empty
 * string) into a new buffer; *n gets its length (it may hold NUL bytes). The caller frees it. */
static inline char *unescape(const char *s, size_t *n)
{
    size_t len = strlen(s);
    char *o = malloc(len + 1);
    assert_non_null(o);
    size_t k = 0;
    if (strcmp(s, "(empty)") == 0) /* a TSV cell cannot be empty and mean it */
        len = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\' || i + 1 == len) {
            o[k++] = s[i];
            continue;
        }
        char c = s[++i];
        if (c == 'n') {
            o[k++] = '\n';
        } else if (c == 'r') {
            o[k++] = '\r';
        } else if (c == 't') {
            o[k++] = '\t';
        } else if (c == '\\') {
            o[k++] = '\\';
        } else if (c == 'x' && i + 2 < len) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            o[k++] = (char)strtoul(hex, NULL, 16);
            i += 2;
        } else {
            fail_msg("bad escape \\%c in %s", c, s);
        }
    }
    o[k] = '\0';
    *n = k;
    return o;
}

#endif
