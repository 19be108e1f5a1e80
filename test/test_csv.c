/*
 * test_csv.c - the delimited-text reader and writer against golden cases and real files.
 *
 * Golden cases live in test/cases/csv_read.tsv, csv_delim.tsv and csv_write.tsv; every read
 * case is replayed with source reads of several sizes so that chunk boundaries fall everywhere.
 * The OpenAddresses files under $GB_SHARED/data/openaddresses are read whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"

/* Source read sizes every read case is replayed with (0: as much as the reader asks). */
static const size_t read_sizes[] = {1, 2, 3, 7, 4096, 0};
#define NSIZES (sizeof(read_sizes) / sizeof(read_sizes[0]))

/* Parse "-" or "line=N,field=N,fields=N" (any subset) over the defaults. */
static struct csv_limits parse_limits(const char *s)
{
    struct csv_limits lim = CSV_LIMITS_DEFAULT;
    if (strcmp(s, "-") == 0)
        return lim;
    char *copy = strdup(s);
    char *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        assert_non_null(eq);
        *eq = '\0';
        size_t v = strtoul(eq + 1, NULL, 10);
        if (strcmp(kv, "line") == 0)
            lim.max_line = v;
        else if (strcmp(kv, "field") == 0)
            lim.max_field = v;
        else if (strcmp(kv, "fields") == 0)
            lim.max_fields = v;
        else
            fail_msg("unknown limit %s", kv);
    }
    free(copy);
    return lim;
}

/* Append one row as LINENO:[f][f] or ERR:reason@LINENO. */
static void render_row(struct buf *out, const struct csv_row *row)
{
    if (out->len)
        buf_putc(out, ' ');
    if (row->error) {
        assert_non_null(row->reason);
        buf_printf(out, "ERR:%s@%zu", row->reason, row->lineno);
        return;
    }
    assert_null(row->reason);
    buf_printf(out, "%zu:", row->lineno);
    for (size_t i = 0; i < row->nfields; i++) {
        assert_int_equal(strlen(row->fields[i]), row->lens[i]);
        buf_putc(out, '[');
        buf_append(out, row->fields[i], row->lens[i]);
        buf_putc(out, ']');
    }
}

/* Read all of in[0..n) with reads of at most step bytes and render every row into out. */
static int read_all(char delim, const struct csv_limits *lim, const char *in, size_t n, size_t step,
                    struct buf *out)
{
    struct csv_mem_src src = {.data = in, .len = n, .max_read = step};
    struct csv_reader *r;
    int rc = csv_reader_new(&r, delim, lim, csv_read_mem, &src);
    assert_int_equal(rc, 0);
    struct csv_row row;
    while ((rc = csv_next(r, &row)) == 1)
        render_row(out, &row);
    csv_reader_free(r);
    if (out->len == 0)
        buf_puts(out, "(none)");
    return rc;
}

static void test_read_golden(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "csv_read.tsv");
    while (tsv_next(&t, 5)) {
        char delim;
        assert_int_equal(csv_delim_parse(t.col[1], &delim), 0);
        struct csv_limits lim = parse_limits(t.col[2]);
        const char *in = t.col[3], *want = t.col[4];
        size_t in_len = t.len[3], want_len = t.len[4];
        for (size_t k = 0; k < NSIZES; k++) {
            struct buf got;
            buf_init(&got, 1 << 20);
            int rc = read_all(delim, &lim, in, in_len, read_sizes[k], &got);
            if (rc != 0 || got.len != want_len || memcmp(got.data, want, want_len) != 0)
                tsv_fail(&t, "case %s, reads of %zu: rc %d\n  got:  %s\n  want: %s", t.col[0],
                         read_sizes[k], rc, buf_str(&got), want);
            buf_release(&got);
        }
    }
    tsv_close(&t, 65);
}

static void test_delim_golden(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "csv_delim.tsv");
    while (tsv_next(&t, 2)) {
        const char *want = t.col[1];
        char got = 'X';
        int rc = csv_delim_parse(t.col[0], &got);
        if (strcmp(want, "ERR") == 0) {
            if (rc != GB_EPARAM || got != 'X')
                tsv_fail(&t, "delim: want GB_EPARAM, got rc %d", rc);
        } else if (rc != 0 || t.len[1] != 1 || got != want[0]) {
            tsv_fail(&t, "delim: want '%s', got rc %d '%c'", want, rc, got);
        }
    }
    assert_int_equal(csv_delim_parse(NULL, &(char){0}), GB_EPARAM);
    tsv_close(&t, 40);
}

static void test_write_golden(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "csv_write.tsv");
    while (tsv_next(&t, 3)) {
        char delim;
        assert_int_equal(csv_delim_parse(t.col[0], &delim), 0);
        const char *val = t.col[1], *want = t.col[2];
        size_t vn = t.len[1], wn = t.len[2];
        struct buf b;
        buf_init(&b, 1024);
        buf_puts(&b, "pre|");
        assert_int_equal(csv_put_field(&b, val, vn, delim), 0);
        if (b.len != wn + 4 || memcmp(b.data + 4, want, wn) != 0)
            tsv_fail(&t, "write '%s': got '%s', want '%s'", val, b.data + 4, want);
        /* Exactly the room it needs succeeds; one byte less fails and changes nothing. */
        struct buf tight;
        buf_init(&tight, wn);
        assert_int_equal(csv_put_field(&tight, val, vn, delim), 0);
        assert_int_equal(tight.len, wn);
        if (wn > 0) {
            struct buf small;
            buf_init(&small, wn - 1);
            assert_int_equal(csv_put_field(&small, val, vn, delim), GB_ETOOLONG);
            assert_int_equal(small.len, 0);
            buf_release(&small);
        }
        buf_release(&tight);
        buf_release(&b);
    }
    tsv_close(&t, 20);
}

static void test_put_row(void **state)
{
    (void)state;
    const char *f[] = {"1", "a|b", "", "say \"hi\""};
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(csv_put_row(&b, f, NULL, 4, '|'), 0);
    assert_string_equal(buf_str(&b), "1|\"a|b\"||\"say \"\"hi\"\"\"\n");
    size_t lens[] = {1, 1};
    const char *g[] = {"xy", "z,"};
    assert_int_equal(csv_put_row(&b, g, lens, 2, ','), 0);
    assert_string_equal(buf_str(&b), "1|\"a|b\"||\"say \"\"hi\"\"\"\nx,z\n");
    assert_int_equal(csv_put_row(&b, NULL, NULL, 0, ','), 0);
    assert_string_equal(buf_str(&b) + b.len - 5, "x,z\n\n");
    const char *empty[] = {""};
    assert_int_equal(csv_put_row(&b, empty, NULL, 1, ','), 0);
    assert_string_equal(buf_str(&b) + b.len - 6, "z\n\n\"\"\n");
    buf_release(&b);

    /* A row that does not fit leaves the buffer as it was. */
    struct buf small;
    buf_init(&small, 24);
    buf_puts(&small, "keep");
    assert_int_equal(csv_put_row(&small, f, NULL, 4, '|'), GB_ETOOLONG);
    assert_string_equal(buf_str(&small), "keep");
    buf_release(&small);
    buf_init(&small, 22 + 4); /* exactly "keep" + the row */
    buf_puts(&small, "keep");
    assert_int_equal(csv_put_row(&small, f, NULL, 4, '|'), 0);
    assert_int_equal(small.len, 26);
    buf_release(&small);
}

/* What the writer writes, the reader reads back. */
static void test_roundtrip(void **state)
{
    (void)state;
    const char *vals[] = {"recId", "a|b",  "\"",      "x\"y", "",    "a,b;c:d", "O\"Farell",
                          "é|ü",   "\"\"", "q\"|\"q", " x ",  "\ty", "z\t",     " "};
    const size_t nv = sizeof(vals) / sizeof(vals[0]);
    const char delims[] = {'|', ',', ';', ':', '\t'};
    for (size_t d = 0; d < sizeof(delims); d++) {
        struct buf b;
        buf_init(&b, 4096);
        for (int rep = 0; rep < 3; rep++)
            assert_int_equal(csv_put_row(&b, vals, NULL, nv, delims[d]), 0);
        struct csv_mem_src src = {.data = b.data, .len = b.len, .max_read = 5};
        struct csv_reader *r;
        assert_int_equal(csv_reader_new(&r, delims[d], NULL, csv_read_mem, &src), 0);
        struct csv_row row;
        int n = 0;
        while (csv_next(r, &row) == 1) {
            assert_int_equal(row.error, 0);
            assert_int_equal(row.nfields, nv);
            for (size_t i = 0; i < nv; i++)
                assert_string_equal(row.fields[i], vals[i]);
            n++;
        }
        assert_int_equal(n, 3);
        assert_int_equal(csv_reader_ncols(r), nv);
        csv_reader_free(r);
        buf_release(&b);
    }

    /* One column: an empty or blank value must not turn into a skipped blank line. */
    const char *one[] = {"searchText", "", " ", "\t", "a"};
    struct buf b;
    buf_init(&b, 256);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(csv_put_row(&b, &one[i], NULL, 1, '|'), 0);
    assert_string_equal(buf_str(&b), "searchText\n\"\"\n\" \"\n\"\t\"\na\n");
    struct csv_mem_src src = {.data = b.data, .len = b.len};
    struct csv_reader *r;
    assert_int_equal(csv_reader_new(&r, '|', NULL, csv_read_mem, &src), 0);
    struct csv_row row;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.error, 0);
        assert_int_equal(row.nfields, 1);
        assert_string_equal(row.fields[0], one[i]);
    }
    assert_int_equal(csv_next(r, &row), 0);
    csv_reader_free(r);
    buf_release(&b);
}

/*
 * An overlong line far beyond every buffer: it is skipped, its raw prefix is exactly
 * CSV_RAW_PREFIX bytes (or one less, not to split a UTF-8 sequence), and the lines around it
 * are read whatever the read size.
 */
static void test_overlong_line(void **state)
{
    (void)state;
    const size_t big = 300 * 1024;
    struct buf in;
    buf_init(&in, 4 * big);
    buf_puts(&in, "recId|searchText\r\n1|first\r\n2|");
    for (size_t i = 0; i < big; i++)
        buf_putc(&in, (char)('a' + i % 26));
    buf_puts(&in, "\r\n3|a"); /* 1023 bytes, then a 2-byte é across the 1024 mark */
    for (size_t i = 0; i < 600; i++)
        buf_puts(&in, "é");
    for (size_t i = 0; i < big; i++)
        buf_putc(&in, 'z');
    buf_puts(&in, "\n4|last");

    const size_t sizes[] = {1, 7, 4096, 100000, 0};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct csv_mem_src src = {.data = in.data, .len = in.len, .max_read = sizes[k]};
        struct csv_reader *r;
        assert_int_equal(csv_reader_new(&r, '|', NULL, csv_read_mem, &src), 0);
        struct csv_row row;

        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.lineno, 1);
        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.error, 0);
        assert_string_equal(row.fields[1], "first");
        assert_int_equal(row.raw_len, 7);
        assert_memory_equal(row.raw, "1|first", 7);
        assert_false(row.raw_truncated);

        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.lineno, 3);
        assert_int_equal(row.error, GB_ETOOLONG);
        assert_string_equal(row.reason, "line-too-long");
        assert_int_equal(row.nfields, 0);
        assert_true(row.raw_truncated);
        assert_int_equal(row.raw_len, CSV_RAW_PREFIX);
        assert_memory_equal(row.raw, "2|abcdefghijklmnopqrstuvwxyzabcdef", 34);

        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.lineno, 4);
        assert_int_equal(row.error, GB_ETOOLONG);
        assert_int_equal(row.raw_len, CSV_RAW_PREFIX - 1);
        assert_memory_equal(row.raw, "3|aé", 5);

        assert_int_equal(csv_next(r, &row), 1);
        assert_int_equal(row.lineno, 5);
        assert_int_equal(row.error, 0);
        assert_string_equal(row.fields[0], "4");
        assert_string_equal(row.fields[1], "last");
        assert_int_equal(csv_next(r, &row), 0);
        assert_int_equal(csv_next(r, &row), 0);
        assert_int_equal(csv_reader_lines(r), 5);
        csv_reader_free(r);
    }
    buf_release(&in);
}

/* The raw line of a valid and of an invalid row is the line without its terminator. */
static void test_raw(void **state)
{
    (void)state;
    const char *in = "a|b\r\n 1 |\"x\" \r\n2|\"bad\n\xEF\xBB\xBF|z";
    struct csv_mem_src src = {.data = in, .len = strlen(in)};
    struct csv_reader *r;
    assert_int_equal(csv_reader_new(&r, '|', NULL, csv_read_mem, &src), 0);
    struct csv_row row;
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(row.raw_len, 8);
    assert_memory_equal(row.raw, " 1 |\"x\" ", 8);
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(row.error, GB_EQUOTE);
    assert_int_equal(row.raw_len, 6);
    assert_memory_equal(row.raw, "2|\"bad", 6);
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(row.error, 0);
    assert_int_equal(row.raw_len, 5);
    assert_string_equal(row.fields[0], "\xEF\xBB\xBF");
    assert_int_equal(csv_next(r, &row), 0);
    csv_reader_free(r);
}

/* Render every row with its raw line, for comparisons between read sizes. */
static int read_all_raw(const struct csv_limits *lim, const char *in, size_t n, size_t step,
                        struct buf *out)
{
    struct csv_mem_src src = {.data = in, .len = n, .max_read = step};
    struct csv_reader *r;
    assert_int_equal(csv_reader_new(&r, '|', lim, csv_read_mem, &src), 0);
    struct csv_row row;
    int rc;
    while ((rc = csv_next(r, &row)) == 1) {
        render_row(out, &row);
        buf_printf(out, "<%d:", row.raw_truncated);
        buf_append(out, row.raw, row.raw_len);
        buf_putc(out, '>');
        assert_true(row.raw_len <= (row.raw_truncated ? CSV_RAW_PREFIX : lim->max_line + 3));
    }
    buf_printf(out, " lines=%zu", csv_reader_lines(r));
    csv_reader_free(r);
    return rc;
}

/* Random inputs over the bytes that matter read the same whatever the read size. */
static void test_random_chunking(void **state)
{
    (void)state;
    static const char alphabet[] = {'a', 'b',  '|',    '|',    '"',    '"',  '\r', '\n', '\n',
                                    ' ', '\t', '\xff', '\xc3', '\xa9', '\0', 'x',  'y',  'z'};
    const struct csv_limits lim = {.max_line = 12, .max_field = 5, .max_fields = 4};
    uint64_t seed = 42;
    char in[200];
    for (int iter = 0; iter < 3000; iter++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (seed >> 33) % sizeof(in);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = alphabet[(seed >> 33) % sizeof(alphabet)];
        }
        struct buf ref;
        buf_init(&ref, 1 << 16);
        assert_int_equal(read_all_raw(&lim, in, n, 0, &ref), 0);
        const size_t steps[] = {1, 2, 3, 5, 13};
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            struct buf got;
            buf_init(&got, 1 << 16);
            assert_int_equal(read_all_raw(&lim, in, n, steps[k], &got), 0);
            if (got.len != ref.len || memcmp(got.data, ref.data, ref.len) != 0)
                fail_msg("iteration %d, reads of %zu:\n  got  %s\n  want %s", iter, steps[k],
                         buf_str(&got), buf_str(&ref));
            buf_release(&got);
        }
        buf_release(&ref);
    }
}

/* A wrong field count keeps the fields; other errors drop them. */
static void test_error_fields(void **state)
{
    (void)state;
    const char *in = "a|b\n1|2|3\n\"x|y\n";
    struct csv_mem_src src = {.data = in, .len = strlen(in)};
    struct csv_reader *r;
    assert_int_equal(csv_reader_new(&r, '|', NULL, csv_read_mem, &src), 0);
    struct csv_row row;
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(row.error, GB_EFIELDS);
    assert_int_equal(row.nfields, 3);
    assert_string_equal(row.fields[2], "3");
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(row.error, GB_EQUOTE);
    assert_int_equal(row.nfields, 0);
    csv_reader_free(r);
}

struct failing_src {
    struct csv_mem_src mem;
    int calls;
};

/* Hands out the data, then fails with -EIO instead of reporting the end. */
static long failing_read(void *ctx, char *buf, size_t cap)
{
    struct failing_src *f = ctx;
    f->calls++;
    if (f->mem.off == f->mem.len)
        return -EIO;
    return csv_read_mem(&f->mem, buf, cap);
}

static void test_source_error(void **state)
{
    (void)state;
    const char *in = "a|b\n1|2\n3|4";
    struct failing_src f = {.mem = {.data = in, .len = strlen(in)}};
    struct csv_reader *r;
    assert_int_equal(csv_reader_new(&r, '|', NULL, failing_read, &f), 0);
    struct csv_row row;
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(csv_next(r, &row), 1);
    assert_string_equal(row.fields[0], "1");
    assert_int_equal(csv_next(r, &row), -EIO); /* "3|4" is never delivered as a row */
    int calls = f.calls;
    assert_int_equal(csv_next(r, &row), -EIO);
    assert_int_equal(f.calls, calls); /* sticky: the source is not asked again */
    csv_reader_free(r);

    /* An error while skipping an overlong line. */
    struct csv_limits lim = {.max_line = 8, .max_field = 8, .max_fields = 4};
    const char *in2 = "a|b\n1|0123456789abcdef";
    struct failing_src f2 = {.mem = {.data = in2, .len = strlen(in2), .max_read = 3}};
    assert_int_equal(csv_reader_new(&r, '|', &lim, failing_read, &f2), 0);
    assert_int_equal(csv_next(r, &row), 1);
    assert_int_equal(csv_next(r, &row), -EIO);
    csv_reader_free(r);
}

static void test_reader_params(void **state)
{
    (void)state;
    struct csv_reader *r = (struct csv_reader *)&r; /* must stay untouched on failure */
    struct csv_reader *const orig = r;
    struct csv_mem_src src = {0};
    const char bad[] = {'"', '\r', '\n', '\0', ' '};
    for (size_t i = 0; i < sizeof(bad); i++)
        assert_int_equal(csv_reader_new(&r, bad[i], NULL, csv_read_mem, &src), GB_EPARAM);
    struct csv_limits lim = {.max_line = 0, .max_field = 1, .max_fields = 1};
    assert_int_equal(csv_reader_new(&r, '|', &lim, csv_read_mem, &src), GB_EPARAM);
    lim = (struct csv_limits){.max_line = 1, .max_field = 1, .max_fields = 0};
    assert_int_equal(csv_reader_new(&r, '|', &lim, csv_read_mem, &src), GB_EPARAM);
    lim = (struct csv_limits){.max_line = SIZE_MAX, .max_field = 1, .max_fields = 1};
    assert_int_equal(csv_reader_new(&r, '|', &lim, csv_read_mem, &src), GB_EPARAM);
    assert_ptr_equal(r, orig);
    csv_reader_free(NULL);

    /* The smallest limits work. */
    lim = (struct csv_limits){.max_line = 1, .max_field = 1, .max_fields = 1};
    src = (struct csv_mem_src){.data = "a\nb\nbc\n\n", .len = 8};
    assert_int_equal(csv_reader_new(&r, '|', &lim, csv_read_mem, &src), 0);
    struct buf got;
    buf_init(&got, 256);
    struct csv_row row;
    while (csv_next(r, &row) == 1)
        render_row(&got, &row);
    assert_string_equal(buf_str(&got), "1:[a] 2:[b] ERR:line-too-long@3");
    assert_int_equal(csv_reader_lines(r), 4);
    buf_release(&got);
    csv_reader_free(r);
}

/* FNV-1a over every field of every row, with separators. */
static uint64_t hash_fields(uint64_t h, const struct csv_row *row)
{
    for (size_t i = 0; i < row->nfields; i++) {
        for (size_t k = 0; k <= row->lens[i]; k++) { /* the NUL separates fields */
            h ^= (unsigned char)row->fields[i][k];
            h *= 1099511628211ull;
        }
    }
    h ^= '\n';
    h *= 1099511628211ull;
    return h;
}

struct oa_file {
    const char *name;
    size_t rows; /* data rows, without the header */
};

static const struct oa_file oa_files[] = {
    {"cz-prague-ne-2020.csv", 8233},
    {"de-lauf-2020.csv", 5416},
    {"li-liechtenstein-2026.csv", 12559},
    {"us-ca-san-francisco-excerpt.csv", 7284},
};

/* The OpenAddresses files: CRLF lines, 11 columns, one quoted field with commas. */
static void test_openaddresses(void **state)
{
    (void)state;
    const char *shared = getenv("GB_SHARED");
    assert_non_null(shared);
    bool seen_quoted = false;
    for (size_t f = 0; f < sizeof(oa_files) / sizeof(oa_files[0]); f++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/data/openaddresses/%s", shared, oa_files[f].name);
        uint64_t hashes[3];
        for (int mode = 0; mode < 3; mode++) {
            /* mode 0: fd; 1: FILE *; 2: FILE * through reads of 7 bytes from memory */
            int fd = -1;
            FILE *fp = NULL;
            char *mem = NULL;
            struct csv_mem_src src = {0};
            struct csv_reader *r;
            if (mode == 0) {
                fd = open(path, O_RDONLY);
                assert_true(fd >= 0);
                assert_int_equal(csv_reader_new(&r, ',', NULL, csv_read_fd, &fd), 0);
            } else {
                fp = fopen(path, "rb");
                assert_non_null(fp);
                if (mode == 1) {
                    assert_int_equal(csv_reader_new(&r, ',', NULL, csv_read_file, fp), 0);
                } else {
                    size_t cap = 2 << 20;
                    mem = malloc(cap);
                    src.data = mem;
                    src.len = fread(mem, 1, cap, fp);
                    assert_true(src.len > 0 && src.len < cap);
                    src.max_read = 7;
                    assert_int_equal(csv_reader_new(&r, ',', NULL, csv_read_mem, &src), 0);
                }
            }
            struct csv_row row;
            size_t rows = 0, invalid = 0;
            uint64_t h = 14695981039346656037ull;
            int rc;
            assert_int_equal(csv_next(r, &row), 1);
            assert_int_equal(row.error, 0);
            assert_int_equal(row.nfields, 11);
            assert_string_equal(row.fields[0], "LON");
            assert_string_equal(row.fields[10], "HASH");
            while ((rc = csv_next(r, &row)) == 1) {
                if (row.error) {
                    fprintf(stderr, "%s:%zu: %s\n", oa_files[f].name, row.lineno, row.reason);
                    invalid++;
                    continue;
                }
                rows++;
                h = hash_fields(h, &row);
                if (strcmp(row.fields[2], "76, 76a, 76b") == 0) {
                    assert_string_equal(row.fields[3], "Täscherlochstrasse");
                    assert_string_equal(row.fields[9], "w331283402");
                    seen_quoted = true;
                }
            }
            assert_int_equal(rc, 0);
            assert_int_equal(invalid, 0);
            assert_int_equal(rows, oa_files[f].rows);
            assert_int_equal(csv_reader_lines(r), oa_files[f].rows + 1);
            hashes[mode] = h;
            csv_reader_free(r);
            if (fd >= 0)
                close(fd);
            if (fp)
                fclose(fp);
            free(mem);
        }
        assert_true(hashes[0] == hashes[1] && hashes[1] == hashes[2]);
    }
    assert_true(seen_quoted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_golden),   cmocka_unit_test(test_delim_golden),
        cmocka_unit_test(test_write_golden),  cmocka_unit_test(test_put_row),
        cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_raw),           cmocka_unit_test(test_error_fields),
        cmocka_unit_test(test_source_error),  cmocka_unit_test(test_reader_params),
        cmocka_unit_test(test_openaddresses), cmocka_unit_test(test_random_chunking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
