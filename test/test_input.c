/*
 * test_input.c - HERE 6.2 input columns, header mapping and errors-file lines.
 *
 * Header cases live in test/cases/input_header.tsv; whole job bodies as real clients send them
 * are read end to end below, down to the errors file they produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "job/input.h"

/* A body being read: the reader over it and the current row. */
struct body {
    struct csv_mem_src src;
    struct csv_reader *r;
    struct csv_row row;
};

static void body_open(struct body *b, const char *data, size_t len, char delim)
{
    memset(b, 0, sizeof(*b));
    b->src = (struct csv_mem_src){.data = data, .len = len, .max_read = 3};
    assert_int_equal(csv_reader_new(&b->r, delim, NULL, csv_read_mem, &b->src), 0);
}

static int body_next(struct body *b)
{
    return csv_next(b->r, &b->row);
}

static void body_close(struct body *b)
{
    csv_reader_free(b->r);
}

/* Render the column of every header field: canonical name or "-". */
static void render_header(struct buf *out, const struct input_header *h)
{
    for (size_t i = 0; i < h->ncols; i++) {
        if (i)
            buf_putc(out, ' ');
        buf_puts(out, h->col[i] < 0 ? "-" : input_col_name((enum input_col)h->col[i]));
    }
}

/* idx[] and col[] must describe the same mapping. */
static void check_consistent(const struct input_header *h)
{
    for (int c = 0; c < INPUT_NCOLS; c++) {
        if (h->idx[c] >= 0) {
            assert_true((size_t)h->idx[c] < h->ncols);
            assert_int_equal(h->col[h->idx[c]], c);
        }
    }
    for (size_t i = 0; i < h->ncols; i++)
        if (h->col[i] >= 0)
            assert_int_equal(h->idx[h->col[i]], (int)i);
}

static void test_header_golden(void **state)
{
    (void)state;
    struct tsv t;
    tsv_open(&t, "input_header.tsv");
    while (tsv_next(&t, 4)) {
        char delim;
        assert_int_equal(csv_delim_parse(t.col[1], &delim), 0);
        struct body b;
        body_open(&b, t.col[2], t.len[2], delim);
        assert_int_equal(body_next(&b), 1);
        struct input_header h;
        memset(&h, 0xA5, sizeof(h)); /* must be left alone on failure */
        struct input_header untouched = h;
        char err[256] = "";
        int rc = input_header_parse(&b.row, t.col[0][0] == '1', &h, err, sizeof(err));
        struct buf got;
        buf_init(&got, 1024);
        if (rc == 0) {
            render_header(&got, &h);
            check_consistent(&h);
            input_header_release(&h);
        } else {
            buf_printf(&got, "ERR:%s", gb_errname(rc));
            if (memcmp(&h, &untouched, sizeof(h)) != 0)
                tsv_fail(&t, "header written on failure");
            if (strncmp(err, "invalid input data: ", 20) != 0)
                tsv_fail(&t, "message '%s'", err);
        }
        if (strcmp(buf_str(&got), t.col[3]) != 0)
            tsv_fail(&t, "got '%s', want '%s' (%s)", buf_str(&got), t.col[3], err);
        buf_release(&got);
        body_close(&b);
    }
    tsv_close(&t, 35);
}

/* Parse the header line of a body, which must succeed. */
static void parse_header(struct body *b, bool allow, struct input_header *h)
{
    char err[256] = "";
    assert_int_equal(body_next(b), 1);
    int rc = input_header_parse(&b->row, allow, h, err, sizeof(err));
    if (rc)
        fail_msg("header refused: %s", err);
}

static void test_header_messages(void **state)
{
    (void)state;
    const struct {
        const char *line;
        bool allow;
        const char *msg;
    } cases[] = {
        {"recId|citty", false, "invalid input data: unknown column 'citty'"},
        {"recId|searchText|RECID", false, "invalid input data: column 'RECID' given twice"},
        {"recId", false,
         "invalid input data: no usable column (needs searchText, prox, or one of country, "
         "state, county, city, district, street, houseNumber, postalCode)"},
        {"recId|\"x", false, "invalid input data: header line 1: unterminated quote"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct body b;
        body_open(&b, cases[i].line, strlen(cases[i].line), '|');
        assert_int_equal(body_next(&b), 1);
        struct input_header h;
        char err[256];
        assert_true(input_header_parse(&b.row, cases[i].allow, &h, err, sizeof(err)) < 0);
        assert_string_equal(err, cases[i].msg);
        /* A short message buffer is cut and still terminated; none at all is fine too. */
        char tiny[8];
        assert_true(input_header_parse(&b.row, cases[i].allow, &h, tiny, sizeof(tiny)) < 0);
        assert_int_equal(strlen(tiny), 7);
        assert_true(input_header_parse(&b.row, cases[i].allow, &h, NULL, 0) < 0);
        body_close(&b);
    }

    /* A long unknown name is shown cut to 64 bytes. */
    char line[200] = "recId|";
    memset(line + 6, 'q', 150);
    struct body b;
    body_open(&b, line, strlen(line), '|');
    assert_int_equal(body_next(&b), 1);
    struct input_header h;
    char err[256];
    assert_int_equal(input_header_parse(&b.row, false, &h, err, sizeof(err)), GB_ECOLUMN);
    assert_int_equal(strlen(err), strlen("invalid input data: unknown column ''") + 64);
    body_close(&b);
}

/* The header keeps the names as written, for includeInputFields. */
static void test_header_names(void **state)
{
    (void)state;
    const char *in = "RECID|SearchText|\"my, col\"|citty\n";
    struct body b;
    body_open(&b, in, strlen(in), '|');
    struct input_header h;
    parse_header(&b, true, &h);
    assert_int_equal(h.ncols, 4);
    assert_string_equal(h.names[0], "RECID");
    assert_string_equal(h.names[1], "SearchText");
    assert_string_equal(h.names[2], "my, col");
    assert_string_equal(h.names[3], "citty");
    assert_int_equal(h.col[0], INPUT_RECID);
    assert_int_equal(h.col[1], INPUT_SEARCHTEXT);
    assert_int_equal(h.col[2], -1);
    assert_int_equal(h.col[3], -1);
    assert_int_equal(h.idx[INPUT_RECID], 0);
    assert_int_equal(h.idx[INPUT_SEARCHTEXT], 1);
    assert_int_equal(h.idx[INPUT_CITY], -1);
    assert_int_equal(body_next(&b), 0);
    body_close(&b);
    /* The names outlive the reader. */
    assert_string_equal(h.names[2], "my, col");
    input_header_release(&h);
    assert_null(h.names);
    assert_int_equal(h.idx[INPUT_RECID], -1);
    input_header_release(&h); /* twice is fine */
    input_header_release(NULL);
}

static void test_col_names(void **state)
{
    (void)state;
    const char *want[INPUT_NCOLS] = {"recId",       "searchText", "country",  "state",
                                     "county",      "city",       "district", "street",
                                     "houseNumber", "postalCode", "prox"};
    for (int c = 0; c < INPUT_NCOLS; c++) {
        assert_string_equal(input_col_name((enum input_col)c), want[c]);
        assert_int_equal(input_col_lookup(want[c], strlen(want[c])), c);
    }
    assert_null(input_col_name(INPUT_NCOLS));
    assert_int_equal(input_col_lookup("HOUSENUMBER", 11), INPUT_HOUSENUMBER);
    assert_int_equal(input_col_lookup("cityX", 4), INPUT_CITY); /* length-bounded */
    assert_int_equal(input_col_lookup("cit", 3), -1);
    assert_int_equal(input_col_lookup("", 0), -1);
    assert_int_equal(input_col_lookup("house number", 12), -1);
}

/* NODEGEO (header=false, rows joined by ' \n') and TIDY bodies read with their columns. */
static void test_client_bodies(void **state)
{
    (void)state;
    const char *nodegeo = "recId|searchText|country\n0|\"1 Main St, Springfield\"|USA \n"
                          "1|\"Sturmstraße 8\"|DEU \n2|\"Paris\"|";
    struct body b;
    body_open(&b, nodegeo, strlen(nodegeo), '|');
    struct input_header h;
    parse_header(&b, false, &h);
    const char *ids[] = {"0", "1", "2"};
    const char *st[] = {"1 Main St, Springfield", "Sturmstraße 8", "Paris"};
    const char *cc[] = {"USA", "DEU", ""};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(body_next(&b), 1);
        assert_int_equal(b.row.error, 0);
        size_t len;
        assert_string_equal(input_field(&h, &b.row, INPUT_RECID, &len), ids[i]);
        assert_int_equal(len, 1);
        assert_string_equal(input_field(&h, &b.row, INPUT_SEARCHTEXT, NULL), st[i]);
        assert_string_equal(input_field(&h, &b.row, INPUT_COUNTRY, &len), cc[i]);
        assert_int_equal(len, strlen(cc[i]));
        assert_string_equal(input_field(&h, &b.row, INPUT_CITY, &len), "");
        assert_int_equal(len, 0);
        assert_string_equal(input_field(&h, &b.row, INPUT_NCOLS, NULL), "");
    }
    assert_int_equal(body_next(&b), 0);
    input_header_release(&h);
    body_close(&b);

    const char *tidy = "recID|searchText\n 1 | 1600 Pennsylvania Ave NW\n2 | 600 Montgomery St\n";
    body_open(&b, tidy, strlen(tidy), '|');
    parse_header(&b, false, &h);
    assert_int_equal(body_next(&b), 1);
    assert_string_equal(input_field(&h, &b.row, INPUT_RECID, NULL), "1");
    assert_string_equal(input_field(&h, &b.row, INPUT_SEARCHTEXT, NULL),
                        "1600 Pennsylvania Ave NW");
    assert_int_equal(body_next(&b), 1);
    assert_string_equal(input_field(&h, &b.row, INPUT_SEARCHTEXT, NULL), "600 Montgomery St");
    assert_int_equal(body_next(&b), 0);
    input_header_release(&h);
    body_close(&b);
}

static void test_error_line(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 1024);
    assert_int_equal(input_error_line(&out, 5, "1|\"abc", 6), 0);
    assert_string_equal(buf_str(&out), "Line Number:5 1|\"abc\n");
    assert_int_equal(input_error_line(&out, 12, "a\0b\rc\nd", 7), 0);
    assert_string_equal(buf_str(&out), "Line Number:5 1|\"abc\nLine Number:12 a b c d\n");
    assert_int_equal(input_error_line(&out, 1, "", 0), 0);
    assert_string_equal(buf_str(&out) + out.len - 15, "Line Number:1 \n");
    buf_release(&out);

    /* Too small: unchanged. Exactly enough: fits. */
    struct buf small;
    buf_init(&small, 22);
    buf_puts(&small, "x");
    assert_int_equal(input_error_line(&small, 5, "1|\"abcd", 7), GB_ETOOLONG);
    assert_string_equal(buf_str(&small), "x");
    assert_int_equal(input_error_line(&small, 5, "1|\"abc", 6), 0);
    assert_int_equal(small.len, 22);
    buf_release(&small);
}

/*
 * A whole body with invalid lines becomes the errors file NODEGEO parses: every line matches
 * /Line Number:(\d+)\s+(.*)/ with the 1-based line number counting the header.
 */
static void test_errors_file(void **state)
{
    (void)state;
    const char *in = "recId|searchText|country\r\n"  /* 1 */
                     "1|Invalidenstraße 116|DEU\r\n" /* 2 */
                     "2|\"unterminated|DEU\r\n"      /* 3 */
                     "\r\n"                          /* 4: blank, skipped */
                     "3|too|many|fields\r\n"         /* 5 */
                     "4|Stra\xDF"
                     "e|DEU\r\n"           /* 6: Latin-1 */
                     "5|O\"Farell St|USA"; /* 7: valid, no final newline */
    struct body b;
    body_open(&b, in, strlen(in), '|');
    struct input_header h;
    parse_header(&b, false, &h);
    struct buf errors;
    buf_init(&errors, 4096);
    size_t valid = 0;
    while (body_next(&b) == 1) {
        if (b.row.error)
            assert_int_equal(input_error_line(&errors, b.row.lineno, b.row.raw, b.row.raw_len), 0);
        else
            valid++;
    }
    assert_int_equal(valid, 2);
    assert_string_equal(buf_str(&errors), "Line Number:3 2|\"unterminated|DEU\n"
                                          "Line Number:5 3|too|many|fields\n"
                                          "Line Number:6 4|Stra\xDF"
                                          "e|DEU\n");

    regex_t re;
    assert_int_equal(regcomp(&re, "^Line Number:([0-9]+)[[:space:]]+(.*)$", REG_EXTENDED), 0);
    const size_t want_no[] = {3, 5, 6};
    const char *p = buf_str(&errors);
    for (int i = 0; i < 3; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char one[256];
        snprintf(one, sizeof(one), "%.*s", (int)(nl - p), p);
        regmatch_t m[3];
        assert_int_equal(regexec(&re, one, 3, m, 0), 0);
        assert_int_equal(strtoul(one + m[1].rm_so, NULL, 10), want_no[i]);
        p = nl + 1;
    }
    assert_string_equal(p, "");
    regfree(&re);
    buf_release(&errors);
    input_header_release(&h);
    body_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_golden), cmocka_unit_test(test_header_messages),
        cmocka_unit_test(test_header_names),  cmocka_unit_test(test_col_names),
        cmocka_unit_test(test_client_bodies), cmocka_unit_test(test_error_line),
        cmocka_unit_test(test_errors_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
