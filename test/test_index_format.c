/*
 * test_index_format.c - docs/index-format.md describes the file byte by byte: its section
 * table, entry sizes, header size and structure sizes must be those of src/index/index_format.h.
 */
#include "index/index.h"
#include "index/index_format.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *read_doc(void)
{
    FILE *fp = fopen("docs/index-format.md", "r");
    if (!fp)
        fail_msg("cannot open docs/index-format.md (run from the project root)");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    return text;
}

/* The sections in enum order, their names in the document and entry sizes. */
static const struct {
    int id;
    const char *name;
    size_t size;
} sections[] = {
    {IXS_STRINGS, "STRINGS", 1},
    {IXS_SOURCES, "SOURCES", sizeof(struct ix_source)},
    {IXS_STREETS, "STREETS", sizeof(struct ix_street)},
    {IXS_STREET_HASH, "STREET_HASH", sizeof(uint32_t)},
    {IXS_FUZZY, "FUZZY", sizeof(struct ix_fuzzy)},
    {IXS_ADDRS, "ADDRS", sizeof(struct ix_addr)},
    {IXS_INTERPS, "INTERPS", sizeof(struct ix_interp)},
    {IXS_POINTS, "POINTS", sizeof(struct ix_point)},
    {IXS_PLACES, "PLACES", sizeof(struct ix_place)},
    {IXS_PLACE_HASH, "PLACE_HASH", sizeof(uint32_t)},
    {IXS_POSTCODES, "POSTCODES", sizeof(struct ix_postcode)},
    {IXS_PC_HASH, "PC_HASH", sizeof(uint32_t)},
    {IXS_ADMINS, "ADMINS", sizeof(struct ix_admin)},
    {IXS_CELLS, "CELLS", sizeof(struct ix_cell)},
    {IXS_CELL_ADDRS, "CELL_ADDRS", sizeof(uint32_t)},
    {IXS_COUNTRIES, "COUNTRIES", sizeof(struct ix_country)},
    {IXS_SCELLS, "SCELLS", sizeof(struct ix_cell)},
    {IXS_SCELL_STREETS, "SCELL_STREETS", sizeof(uint32_t)},
    {IXS_PC_RANGES, "PC_RANGES", sizeof(struct ix_range)},
    {IXS_PC_STREETS, "PC_STREETS", sizeof(uint32_t)},
    {IXS_FUZZY_DIR, "FUZZY_DIR", sizeof(struct ix_fuzzy_bucket)},
    {IXS_PLACE_INFO, "PLACE_INFO", sizeof(struct ix_place_info)},
};

static void test_section_table_matches_the_code(void **state)
{
    (void)state;
    const char *doc = read_doc();
    assert_int_equal(sizeof(sections) / sizeof(sections[0]), IXS__COUNT);
    for (size_t i = 0; i < IXS__COUNT; i++) {
        /* a row "| 5 | ADDRS | `ix_addr` | 36 |" */
        char row[128];
        snprintf(row, sizeof(row), "| %d | %s |", sections[i].id, sections[i].name);
        const char *at = strstr(doc, row);
        if (!at)
            fail_msg("docs/index-format.md has no row '%s'", row);
        const char *bytes = strchr(at + strlen(row), '|');
        assert_non_null(bytes);
        assert_int_equal(strtoul(bytes + 1, NULL, 10), sections[i].size);
    }
}

static void test_header_and_structure_sizes(void **state)
{
    (void)state;
    const char *doc = read_doc();
    char want[128];
    snprintf(want, sizeof(want), "## Header (%zu bytes, at offset 0)", sizeof(struct ix_header));
    assert_non_null(strstr(doc, want));
    snprintf(want, sizeof(want), "| 20 | 4 | `n_sections` | %d |", IXS__COUNT);
    assert_non_null(strstr(doc, want));
    snprintf(want, sizeof(want), "Format version: **%d**", INDEX_FORMAT_VERSION);
    assert_non_null(strstr(doc, want));
    static const struct {
        const char *name;
        size_t size;
    } structs[] = {
        {"ix_street", sizeof(struct ix_street)},     {"ix_addr", sizeof(struct ix_addr)},
        {"ix_interp", sizeof(struct ix_interp)},     {"ix_place", sizeof(struct ix_place)},
        {"ix_postcode", sizeof(struct ix_postcode)}, {"ix_admin", sizeof(struct ix_admin)},
        {"ix_place_info", sizeof(struct ix_place_info)},
    };
    for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++) {
        snprintf(want, sizeof(want), "### `%s` (%zu bytes)", structs[i].name, structs[i].size);
        if (!strstr(doc, want))
            fail_msg("docs/index-format.md lacks '%s'", want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_section_table_matches_the_code),
        cmocka_unit_test(test_header_and_structure_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
