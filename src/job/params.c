/*
 * params.c - see params.h.
 */
#include "job/params.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const outcol_names[] = {
#define OUTCOL_NAME(e, name) name,
    OUTCOL_TABLE(OUTCOL_NAME)
#undef OUTCOL_NAME
};

const char *outcol_name(enum outcol c)
{
    return (unsigned)c < OC__COUNT ? outcol_names[c] : "";
}

void params_init(struct job_params *p)
{
    memset(p, 0, sizeof(*p));
    p->indelim = '|';
    p->outdelim = '|';
    p->outputcombined = true;
    p->header = true;
    p->outputcompressed = true;
    p->mode = MODE_GEOCODE;
    p->maxresults = 10;
}

static int set_outcols(struct job_params *p, const char *value, char *err, size_t errlen)
{
    size_t n = 0;
    const char *s = value;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        /* blanks around names are tolerated */
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len) {
            int found = -1;
            for (int c = 0; c < OC__COUNT; c++)
                if (strlen(outcol_names[c]) == len && strncasecmp(outcol_names[c], s, len) == 0)
                    found = c;
            if (found < 0) {
                snprintf(err, errlen, "unknown output column '%.*s' in outcols",
                         (int)(len > 64 ? 64 : len), s);
                return GB_EPARAM;
            }
            if (n >= PARAMS_MAX_OUTCOLS) {
                snprintf(err, errlen, "outcols lists more than %d columns", PARAMS_MAX_OUTCOLS);
                return GB_EPARAM;
            }
            p->outcols[n++] = (enum outcol)found;
        }
        if (!e)
            break;
        s = e + 1;
    }
    if (n == 0) {
        snprintf(err, errlen, "outcols is empty");
        return GB_EPARAM;
    }
    p->n_outcols = n;
    return 0;
}

static int set_bool(bool *dst, const char *name, const char *value, char *err, size_t errlen)
{
    if (conf_parse_bool(value, dst) == 0)
        return 0;
    snprintf(err, errlen, "%s must be true or false, not '%.64s'", name, value);
    return GB_EPARAM;
}

/* Copy value into dst[cap]; a value that does not fit is refused, never cut. */
static int copy_str(char *dst, size_t cap, const char *name, const char *value, char *err,
                    size_t errlen)
{
    size_t n = strlen(value);
    if (n >= cap) {
        snprintf(err, errlen, "%s is longer than %zu bytes", name, cap - 1);
        return GB_EPARAM;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

/*
 * Whether s is an e-mail address that is safe to hand to a command: local@domain, the local
 * part 1..64 of RFC 5322's atext and inner dots, not starting with '-' (so that it can never
 * be read as an option), the domain dot-separated labels of [A-Za-z0-9-] (1..63 bytes, no
 * '-' at either end); no blank, control or non-ASCII byte anywhere.
 */
static bool mailto_valid(const char *s)
{
    static const char atext[] = "!#$%&'*+/=?^_`{|}~-";
    const char *at = strrchr(s, '@');
    if (!at || at == s || at - s > 64 || s[0] == '-' || s[0] == '.' || at[-1] == '.')
        return false;
    for (const char *p = s; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' && p[1] == '.')
            return false;
        if (!(c < 128 && (isalnum(c) || c == '.' || strchr(atext, c))))
            return false;
    }
    const char *d = at + 1;
    size_t label = 0;
    for (const char *p = d;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return false;
            if (c == '\0')
                break;
            label = 0;
            continue;
        }
        if (!(c < 128 && (isalnum(c) || c == '-')) || (label == 0 && c == '-'))
            return false;
        label++;
    }
    return true;
}

int params_set(struct job_params *p, const char *name, const char *value, char *err, size_t errlen)
{
    if (!value)
        value = "";
    if (strcasecmp(name, "indelim") == 0 || strcasecmp(name, "outdelim") == 0) {
        bool in = (name[0] | 0x20) == 'i';
        char c;
        if (csv_delim_parse(value, &c) < 0) {
            snprintf(err, errlen, "%s must be one of | ; : , or TAB, not '%.16s'",
                     in ? "indelim" : "outdelim", value);
            return GB_EPARAM;
        }
        if (in) {
            p->indelim = c;
            if (!p->outdelim_set)
                p->outdelim = c;
        } else {
            p->outdelim = c;
            p->outdelim_set = true;
        }
        return 0;
    }
    if (strcasecmp(name, "outcols") == 0)
        return set_outcols(p, value, err, errlen);
    if (strcasecmp(name, "outputcombined") == 0)
        return set_bool(&p->outputcombined, "outputcombined", value, err, errlen);
    if (strcasecmp(name, "header") == 0)
        return set_bool(&p->header, "header", value, err, errlen);
    if (strcasecmp(name, "includeinputfields") == 0)
        return set_bool(&p->includeinputfields, "includeInputFields", value, err, errlen);
    if (strcasecmp(name, "allowunknowninputcolumns") == 0)
        return set_bool(&p->allowunknowninputcolumns, "allowUnknownInputColumns", value, err,
                        errlen);
    if (strcasecmp(name, "includeinvalidinput") == 0)
        return set_bool(&p->includeinvalidinput, "includeInvalidInput", value, err, errlen);
    if (strcasecmp(name, "outputcompressed") == 0)
        return set_bool(&p->outputcompressed, "outputcompressed", value, err, errlen);
    if (strcasecmp(name, "maxresults") == 0 || strcasecmp(name, "minresults") == 0) {
        long v;
        bool max = (name[1] | 0x20) == 'a';
        if (conf_parse_long(value, max ? 1 : 0, PARAMS_MAX_RESULTS, &v) < 0) {
            snprintf(err, errlen, "%s must be a whole number from %d to %d, not '%.16s'",
                     max ? "maxresults" : "minresults", max ? 1 : 0, PARAMS_MAX_RESULTS, value);
            return GB_EPARAM;
        }
        *(max ? &p->maxresults : &p->minresults) = (int)v;
        return 0;
    }
    if (strcasecmp(name, "mode") == 0) {
        if (*value == '\0' || strcasecmp(value, "geocode") == 0 || strcasecmp(value, "search") == 0)
            p->mode = MODE_GEOCODE;
        else if (strcasecmp(value, "retrieveAddresses") == 0 ||
                 strcasecmp(value, "retrieveAll") == 0 || strcasecmp(value, "trackPosition") == 0)
            p->mode = MODE_RETRIEVE_ADDRESSES;
        else if (strcasecmp(value, "retrieveAreas") == 0)
            p->mode = MODE_RETRIEVE_AREAS;
        else {
            snprintf(err, errlen, "mode '%.32s' is not supported", value);
            return GB_EPARAM;
        }
        return 0;
    }
    if (strcasecmp(name, "language") == 0)
        return copy_str(p->language, sizeof(p->language), "language", value, err, errlen);
    if (strcasecmp(name, "countryfocus") == 0) {
        /* An ISO3 or ISO2 code, resolved by the geocoder. */
        size_t n = strlen(value);
        if (n != 0 && n != 2 && n != 3) {
            snprintf(err, errlen, "countryfocus must be an ISO 3166 code, not '%.16s'", value);
            return GB_EPARAM;
        }
        return copy_str(p->countryfocus, sizeof(p->countryfocus), "countryfocus", value, err,
                        errlen);
    }
    if (strcasecmp(name, "mailto") == 0) {
        if (*value && !mailto_valid(value)) {
            snprintf(err, errlen, "mailto must be an e-mail address");
            return GB_EPARAM;
        }
        return copy_str(p->mailto, sizeof(p->mailto), "mailto", value, err, errlen);
    }
    return 0; /* gen, politicalview, locationattributes, action, credentials ...: not ours */
}

int params_check(const struct job_params *p, char *err, size_t errlen)
{
    if (p->n_outcols == 0) {
        snprintf(err, errlen, "outcols is required");
        return GB_EPARAM;
    }
    return 0;
}

/* ---- the percent codec ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t params_unescape(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0 && (hi | lo) != 0) {
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            dst[o++] = s[i];
    }
    if (cap)
        dst[o] = '\0';
    return o;
}

static int pct_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc = isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
                     ? buf_putc(out, (char)c)
                     : buf_printf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int params_encode(struct buf *out, const char *name, const char *value)
{
    int rc = out->len ? buf_putc(out, '&') : 0;
    if (rc == 0)
        rc = pct_encode(out, name);
    if (rc == 0)
        rc = buf_putc(out, '=');
    if (rc == 0)
        rc = pct_encode(out, value);
    return rc;
}

int params_decode(const char *text, struct job_params *p, char *err, size_t errlen)
{
    /* One buffer for the longest pair: decoding never lengthens, so nothing is ever cut. */
    char *buf = xmalloc(strlen(text) + 2);
    int rc = 0;
    const char *s = text;
    while (*s && rc == 0) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq) {
            size_t nlen = (size_t)(eq - s), vlen = len - nlen - 1;
            char *name = buf, *value = buf + nlen + 1;
            params_unescape(name, nlen + 1, s, nlen);
            params_unescape(value, vlen + 1, eq + 1, vlen);
            rc = params_set(p, name, value, err, errlen);
        }
        s += len;
        if (*s == '&')
            s++;
    }
    free(buf);
    return rc;
}
