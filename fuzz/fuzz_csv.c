/*
 * fuzz_csv.c - libFuzzer target for the delimited-text reader (csv.h) and the HERE header
 * mapping (input.h), the first parser every job body and CLI geocode file goes through.
 *
 * Input layout: byte 0 picks the delimiter (one of the five HERE delimiters, or the byte itself
 * when it is not one of them, which csv_reader_new() may reject), byte 1 picks the limits
 * (default, or small ones that make lines and fields overflow) and how many bytes each read
 * hands over (so that lines straddle refills); the rest is the text. Every row is read until
 * the end; the first row is also given to input_header_parse(), and for valid later rows every
 * column is fetched with input_field() and written back with input_error_line().
 */
#include "base/buf.h"
#include "base/csv.h"
#include "job/input.h"
#include "base/log.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const char delims[] = {'|', ',', ';', ':', '\t'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * csv_put_row() promises that csv_next() reads back exactly the values written: read the line
 * in out again with generous limits and trap on any difference.
 */
static void check_roundtrip(const struct csv_row *row, const struct buf *out, char delim)
{
    /* Known exceptions, reported and not checked here: an output that starts with the bytes of
     * a UTF-8 BOM (a value starting with U+FEFF, or an empty first value before a delimiter
     * 0xEF) loses them on reading, as csv_put_field() does not quote them; and a delimiter
     * that is not ASCII splits UTF-8 sequences, which the HERE delimiters never do. */
    const char *text = buf_str(out);
    if ((unsigned char)delim >= 0x80 || strncmp(text, "\xef\xbb\xbf", 3) == 0)
        return;
    size_t len = strlen(text);
    struct csv_limits lim = {len + 1, 8192, 256};
    struct csv_mem_src src = {text, len, 0, 0};
    struct csv_reader *r = NULL;
    if (csv_reader_new(&r, delim, &lim, csv_read_mem, &src) != 0)
        __builtin_trap();
    struct csv_row back;
    if (csv_next(r, &back) != 1 || back.error || back.nfields != row->nfields)
        __builtin_trap();
    for (size_t i = 0; i < row->nfields; i++) {
        if (back.lens[i] != row->lens[i] || memcmp(back.fields[i], row->fields[i], row->lens[i]))
            __builtin_trap();
    }
    csv_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    log_set_level(LOG_OFF);
    char delim = (char)data[0];
    if ((data[0] & 0x80) == 0)
        delim = delims[data[0] % sizeof(delims)];
    uint8_t mode = data[1];
    struct csv_limits lim = CSV_LIMITS_DEFAULT;
    if (mode & 1) {
        lim.max_line = 1 + (mode >> 4) * 7; /* 1..106 */
        lim.max_field = (mode >> 2) & 3 ? 8 : 0;
        lim.max_fields = 1 + ((mode >> 1) & 3);
    }
    static const size_t reads[] = {0, 1, 3, 7, 64, 4096, 65536, 0};
    struct csv_mem_src src = {(const char *)data + 2, size - 2, 0, reads[(mode >> 5) & 7]};

    struct csv_reader *r = NULL;
    if (csv_reader_new(&r, delim, &lim, csv_read_mem, &src) != 0)
        return 0;

    struct input_header hdr;
    bool have_hdr = false;
    struct buf out;
    buf_init(&out, 1 << 20);
    struct csv_row row;
    int rc;
    size_t nrows = 0;
    while ((rc = csv_next(r, &row)) == 1) {
        nrows++;
        if (!have_hdr && nrows == 1) {
            char err[256];
            if (input_header_parse(&row, (mode & 2) != 0, &hdr, err, sizeof(err)) == 0)
                have_hdr = true;
            continue;
        }
        if (row.error) {
            buf_reset(&out);
            (void)input_error_line(&out, row.lineno, row.raw, row.raw_len);
            continue;
        }
        if (have_hdr && row.nfields == hdr.ncols) {
            size_t total = 0;
            for (int c = 0; c < INPUT_NCOLS; c++) {
                size_t len = 0;
                const char *v = input_field(&hdr, &row, (enum input_col)c, &len);
                if (len != strlen(v))
                    __builtin_trap();
                total += len;
            }
            (void)total;
        }
        buf_reset(&out);
        if (csv_put_row(&out, (const char *const *)row.fields, row.lens, row.nfields, delim) == 0 &&
            nrows <= 5)
            check_roundtrip(&row, &out, delim);
    }
    (void)csv_reader_ncols(r);
    (void)csv_reader_lines(r);
    if (have_hdr)
        input_header_release(&hdr);
    buf_release(&out);
    csv_reader_free(r);
    return 0;
}
