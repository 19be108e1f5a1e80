/*
 * fuzz_norm.c - libFuzzer target for the normaliser (norm.h): arbitrary bytes, not only UTF-8,
 * go through norm_name, norm_key, norm_fold, norm_hnum and the country lookups.
 *
 * Byte 0 picks the country given to norm_name()/norm_key() (none, a few with abbreviation
 * lists, an unknown code) and the output capacity (NORM_MAX or a small one, to reach the
 * GB_ETOOLONG paths); the rest is the text. The dictionaries are loaded once through the
 * compiled-in GB_DICT_DIR. Outputs are checked against the contract: the returned length is
 * the NUL-terminated string's length and fits in cap. The text split into words as the
 * geocoder's tokenizer splits it gives, for every span of up to six words, the same answers
 * through norm_words as norm_key, norm_fold and norm_country give on the span's text.
 */
#include "base/log.h"
#include "text/norm.h"

#include <stdbool.h>
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

static bool word_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == ',' ||
           c == ';';
}

/* Every span of up to six words of in: norm_words against the functions on the text. */
static void check_words(const char *in, size_t len, const char *country, size_t cap)
{
    static struct norm_words *w;
    if (!w && !(w = malloc(sizeof(*w))))
        abort();
    norm_words_reset(w);
    size_t i = 0;
    while (i < len) {
        while (i < len && word_sep(in[i]))
            i++;
        if (i >= len)
            break;
        size_t s = i;
        while (i < len && !word_sep(in[i]) && !norm_word_glued(in + s, in + i))
            i++;
        if (norm_words_add(w, in + s, i - s) < 0)
            break;
    }
    char a[NORM_MAX], b[NORM_MAX];
    for (int x = 0; x < w->nword; x++)
        for (int y = x + 1; y <= w->nword && y - x <= 6; y++) {
            const char *s = w->word[x].s;
            size_t n = (size_t)(w->word[y - 1].s + w->word[y - 1].len - s);
            int ka = norm_key(s, n, country, a, cap), kb = norm_words_key(w, x, y, country, b, cap);
            if (ka != kb || (ka >= 0 && strcmp(a, b) != 0))
                __builtin_trap();
            ka = norm_fold(s, n, a, cap);
            if (ka > 0) {
                int k = 0;
                for (int c = 0; c < ka; c++)
                    if (a[c] != ' ')
                        a[k++] = a[c];
                a[k] = '\0';
                ka = k;
            }
            kb = norm_words_fold_nospace(w, x, y, b, cap);
            if (ka != kb || (ka >= 0 && strcmp(a, b) != 0))
                __builtin_trap();
            if (norm_country(s, n) != norm_country_words(w, x, y))
                __builtin_trap();
            if (y == x + 1 && norm_hnum_prefix(s, n) != norm_words_hnum_prefix(w, x))
                __builtin_trap();
        }
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
    check_words(in, len, country, cap);

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
