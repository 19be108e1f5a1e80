/*
 * fuzz_params.c - libFuzzer target for the HERE 6.2 job parameters (params.h).
 *
 * The input is read like a raw query string: pairs split on '&', name and value on the first
 * '='. URL-decoding is the server's job, so the bytes go to params_set() as they are (NUL
 * bytes end a name or value early, as they would in a C string). After every pair, and once at
 * the end, params_check() must hold its contract: the struct stays within its declared bounds.
 */
#include "base/log.h"
#include "job/params.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bounds(const struct job_params *p)
{
    if (p->n_outcols > PARAMS_MAX_OUTCOLS)
        __builtin_trap();
    for (size_t i = 0; i < p->n_outcols; i++) {
        if ((unsigned)p->outcols[i] >= OC__COUNT || !outcol_name(p->outcols[i]))
            __builtin_trap();
    }
    if (p->maxresults < 1 || p->maxresults > PARAMS_MAX_RESULTS)
        __builtin_trap();
    if (memchr(p->language, '\0', sizeof(p->language)) == NULL ||
        memchr(p->countryfocus, '\0', sizeof(p->countryfocus)) == NULL ||
        memchr(p->mailto, '\0', sizeof(p->mailto)) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    log_set_level(LOG_OFF);
    /* A NUL-terminated copy that strsep-like splitting may cut in place. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    struct job_params p;
    params_init(&p);
    check_bounds(&p);
    char err[256];
    char *pair = s;
    char *end = s + size;
    while (pair <= end) {
        char *amp = memchr(pair, '&', (size_t)(end - pair));
        char *stop = amp ? amp : end;
        *stop = '\0';
        char *eq = memchr(pair, '=', (size_t)(stop - pair));
        const char *value = "";
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        err[0] = '\0';
        if (params_set(&p, pair, value, err, sizeof(err)) != 0 && !memchr(err, '\0', sizeof(err)))
            __builtin_trap();
        check_bounds(&p);
        if (params_check(&p, err, sizeof(err)) != 0 && !memchr(err, '\0', sizeof(err)))
            __builtin_trap();
        pair = stop + 1;
    }
    for (size_t i = 0; i < p.n_outcols; i++)
        (void)strlen(outcol_name(p.outcols[i]));
    free(s);
    return 0;
}
