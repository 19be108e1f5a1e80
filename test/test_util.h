/*
 * test_util.h - helpers shared by the unit tests (header-only: each test is one executable).
 * Include after <cmocka.h>.
 *
 * Golden cases live in test/cases/<name>.tsv, one case a line:
 *   - fields are separated by one TAB; '#' lines and empty lines are skipped;
 *   - a field may use the escapes \n \r \t \\ \xHH, and "(empty)" is the empty string (a TSV
 *     cell cannot be empty and mean it); every field is decoded before the test sees it.
 * A test walks a file with tsv_open / tsv_next / tsv_close and reports a wrong case with
 * tsv_fail, which names the file and line, so every failure points at its case:
 *
 *     struct tsv t;
 *     tsv_open(&t, "norm.tsv");
 *     while (tsv_next(&t, 4)) {
 *         if (... t.col[0] ... != ... t.col[2] ...)
 *             tsv_fail(&t, "got [%s], want [%s]", got, t.col[2]);
 *     }
 *     tsv_close(&t, 150); (fails unless 150 cases or more were read and none failed)
 */
#ifndef GEOBATCH_TEST_UTIL_H
#define GEOBATCH_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSV_MAX_COLS 24

struct tsv {
    char name[256];           /* test/cases/<name>.tsv, for messages */
    FILE *fp;                 /* the open file */
    char *line;               /* the current line, split and decoded in place */
    size_t cap;               /* allocated size of line */
    int lineno;               /* 1-based line of the current case */
    int ncases;               /* cases returned by tsv_next so far */
    int nfail;                /* failures reported by tsv_fail so far */
    int ncol;                 /* fields of the current case */
    char *col[TSV_MAX_COLS];  /* decoded fields, NUL-terminated (they may hold NUL bytes) */
    size_t len[TSV_MAX_COLS]; /* decoded length of each field */
};

/* Decode the escapes of field s in place (the result is never longer); return its length.
 * A bad escape fails the test at t's current case. */
static inline size_t tsv_unescape(const struct tsv *t, char *s)
{
    size_t len = strlen(s);
    if (strcmp(s, "(empty)") == 0)
        len = 0;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\' || i + 1 == len) {
            s[k++] = s[i];
            continue;
        }
        char c = s[++i];
        if (c == 'n') {
            s[k++] = '\n';
        } else if (c == 'r') {
            s[k++] = '\r';
        } else if (c == 't') {
            s[k++] = '\t';
        } else if (c == '\\') {
            s[k++] = '\\';
        } else if (c == 'x' && i + 2 < len) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            s[k++] = (char)strtoul(hex, NULL, 16);
            i += 2;
        } else {
            fail_msg("%s:%d: bad escape \\%c", t->name, t->lineno, c);
        }
    }
    s[k] = '\0';
    return k;
}

/* Open test/cases/<name> (under $GB_SRC when set, else the working directory); fail if it
 * cannot be opened. */
static inline void tsv_open(struct tsv *t, const char *name)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "test/cases/%s", name);
    const char *src = getenv("GB_SRC");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", src && *src ? src : ".", t->name);
    t->fp = fopen(path, "r");
    if (!t->fp)
        fail_msg("cannot open %s: %s", path, strerror(errno));
}

/* Read the next case into t->col / t->len and return true, or return false at the end of the
 * file. A case without exactly 'want' fields fails the test. */
static inline bool tsv_next(struct tsv *t, int want)
{
    ssize_t n;
    while ((n = getline(&t->line, &t->cap, t->fp)) >= 0) {
        t->lineno++;
        while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r'))
            t->line[--n] = '\0';
        if (n == 0 || t->line[0] == '#')
            continue;
        t->ncol = 0;
        char *p = t->line;
        for (;;) {
            if (t->ncol == TSV_MAX_COLS)
                fail_msg("%s:%d: more than %d fields", t->name, t->lineno, TSV_MAX_COLS);
            t->col[t->ncol++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        if (t->ncol != want)
            fail_msg("%s:%d: %d fields, want %d", t->name, t->lineno, t->ncol, want);
        for (int i = 0; i < t->ncol; i++)
            t->len[i] = tsv_unescape(t, t->col[i]);
        t->ncases++;
        return true;
    }
    return false;
}

/* Report that the current case failed: "test/cases/<name>:<line>: <message>" on stderr.
 * The test goes on with the next case; tsv_close fails the test at the end. */
static inline void tsv_fail(struct tsv *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void tsv_fail(struct tsv *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", t->name, t->lineno);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    t->nfail++;
}

/* Close the file, then fail unless at least min_cases cases were read and tsv_fail reported
 * none of them (each failure was printed with its file:line as it happened). */
static inline void tsv_close(struct tsv *t, int min_cases)
{
    free(t->line);
    t->line = NULL;
    fclose(t->fp);
    t->fp = NULL;
    if (t->ncases < min_cases)
        fail_msg("%s: %d cases, want at least %d", t->name, t->ncases, min_cases);
    if (t->nfail)
        fail_msg("%s: %d failures in %d cases (listed above)", t->name, t->nfail, t->ncases);
}

#endif
