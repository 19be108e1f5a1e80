/*
 * fuzz_norm.c - libFuzzer target for the normaliser (norm.h): arbitrary bytes, not only UTF-8,
 * go through norm_name, norm_key, norm_fold, norm_hnum and the country lookups.
 *
 * Byte 0 picks the country given to norm_name()/norm_key() (none, a few with abbreviation
 * lists, an unknown code) and the output capacity (NORM_MAX or a small one, to reach the
 * GB_ETOOLONG paths); the rest is the text. The dictionaries are loaded once through the
 * compiled-in GB_DICT_DIR. Outputs are checked against the contract: the returned length is
 * the NUL-terminated string's length and fits in cap.
 */
#include "base/log.h"
#include "text/norm.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const countries[] = {NULL, "LI", "de", "CZE", "dk", "US", "fr", "xx", "", "GB"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    if (norm_init(NULL) != 0)
        abort();
    return 0;
}

static void check_out(int n, const char *out, size_t cap)
{
    if (n < 0)
        return;
    if ((size_t)n >= cap || strlen(out) != (size_t)n)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const char *country = countries[data[0] % (sizeof(countries) / sizeof(countries[0]))];
    size_t cap = (data[0] & 0x80) ? 1 + (data[0] & 0x0f) * 4 : NORM_MAX;
    /* An exact-size heap copy, so that ASan sees any read past len. */
    size_t len = size - 1;
    char *in = malloc(len ? len : 1);
    if (!in)
        return 0;
    memcpy(in, data + 1, len);
    char *out = malloc(cap);
    if (!out) {
        free(in);
        return 0;
    }

    check_out(norm_name(in, len, country, out, cap), out, cap);
    check_out(norm_key(in, len, country, out, cap), out, cap);
    check_out(norm_fold(in, len, out, cap), out, cap);

    struct hnum h;
    if (norm_hnum(in, len, &h) == 0) {
        if (!memchr(h.suffix, '\0', sizeof(h.suffix)) ||
            !memchr(h.suffix2, '\0', sizeof(h.suffix2)) || !memchr(h.unit, '\0', sizeof(h.unit)))
            __builtin_trap();
    }

    const char *iso2 = norm_country(in, len);
    if (iso2) {
        if (strlen(iso2) != 2)
            __builtin_trap();
        (void)norm_country_iso3(iso2);
        (void)norm_country_name(iso2);
        (void)norm_country_langs(iso2);
    }
    /* The iso2-taking lookups on arbitrary NUL-terminated text too. */
    char z[8];
    size_t zl = len < sizeof(z) - 1 ? len : sizeof(z) - 1;
    memcpy(z, in, zl);
    z[zl] = '\0';
    (void)norm_country_iso3(z);
    (void)norm_country_name(z);
    (void)norm_country_langs(z);

    free(out);
    free(in);
    return 0;
}
