/*
 * fuzz_params_roundtrip.c - libFuzzer target for the round trip of a job's parameters through
 * the store's text (params.h): whatever a submission is accepted with must come back unchanged
 * when the worker decodes it (issue 13, item 4: values over 1,023 bytes used to be cut).
 *
 * The input is read like fuzz_params.c's: pairs split on '&', name and value on the first '='
 * (raw bytes; a NUL ends a name or value early, as in a C string). Each pair is applied with
 * params_set() as the server applies a request's parameters; a submission with any refused
 * pair is refused as a whole, so the round trip is checked only when every pair was accepted:
 * params_encode() of the pairs, params_decode() of that text into fresh parameters, and the
 * two structs must be identical.
 */
#include "base/buf.h"
#include "base/log.h"
#include "job/params.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    log_set_level(LOG_OFF);
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    struct job_params in, out;
    params_init(&in);
    params_init(&out);
    struct buf text;
    buf_init(&text, (size_t)4 * MAX_INPUT); /* %XX triples every byte at most */
    char err[256];
    bool accepted = true;
    char *pair = s, *end = s + size;
    while (accepted && pair <= end) {
        char *amp = memchr(pair, '&', (size_t)(end - pair));
        char *stop = amp ? amp : end;
        *stop = '\0';
        char *eq = memchr(pair, '=', (size_t)(stop - pair));
        const char *value = "";
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        if (params_set(&in, pair, value, err, sizeof(err)) != 0)
            accepted = false;
        else if (params_encode(&text, pair, value) != 0)
            __builtin_trap(); /* the buffer holds any encoding of the input */
        pair = stop + 1;
    }
    if (accepted) {
        if (params_decode(buf_str(&text), &out, err, sizeof(err)) != 0)
            __builtin_trap(); /* accepted once, refused when the job runs */
        if (memcmp(&in, &out, sizeof(in)) != 0)
            __builtin_trap(); /* a parameter changed on the way through the store */
    }
    buf_release(&text);
    free(s);
    return 0;
}
