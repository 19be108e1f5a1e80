/*
 * conf.c - see conf.h.
 */
#include "base/conf.h"
#include "base/err.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return GB_EPARAM;
}

int conf_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (*s == '\0')
        return GB_EPARAM;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return GB_EPARAM;
    *out = v;
    return 0;
}

static const struct conf_opt *find_opt(const struct conf_opt *opts, const char *name, size_t n)
{
    for (const struct conf_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == n && strncasecmp(o->name, name, n) == 0)
            return o;
    return NULL;
}

static int set_opt(const struct conf_opt *o, const char *value, char *err, size_t errlen)
{
    switch (o->type) {
    case CONF_BOOL:
        if (conf_parse_bool(value, (bool *)o->dst) == 0)
            return 0;
        snprintf(err, errlen, "--%s: expected true or false, got '%s'", o->name, value);
        return GB_EUSAGE;
    case CONF_LONG: {
        long min = o->min, max = o->max;
        if (min == 0 && max == 0)
            max = LONG_MAX;
        if (conf_parse_long(value, min, max, (long *)o->dst) == 0)
            return 0;
        snprintf(err, errlen, "--%s: expected a whole number from %ld to %ld, got '%s'", o->name,
                 min, max, value);
        return GB_EUSAGE;
    }
    case CONF_STR:
        *(const char **)o->dst = value;
        return 0;
    case CONF_STRS: {
        struct conf_strs *l = o->dst;
        if (l->n < CONF_STRS_MAX) {
            l->v[l->n++] = value;
            return 0;
        }
        snprintf(err, errlen, "--%s: more than %d times", o->name, CONF_STRS_MAX);
        return GB_EUSAGE;
    }
    case CONF_DOUBLE: {
        char *end;
        double d = strtod(value, &end);
        if (*value && *end == '\0') {
            *(double *)o->dst = d;
            return 0;
        }
        snprintf(err, errlen, "--%s: expected a number, got '%s'", o->name, value);
        return GB_EUSAGE;
    }
    }
    return GB_EINTERNAL;
}

int conf_parse(const struct conf_spec *spec, int argc, char **argv, char **pos, int maxpos,
               int *npos, char *err, size_t errlen)
{
    int n = 0;
    bool options_done = false;

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (n >= maxpos) {
                snprintf(err, errlen, "unexpected argument '%s'", a);
                return GB_EUSAGE;
            }
            pos[n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            conf_usage(spec, stdout);
            return CONF_HELP;
        }
        if (a[1] != '-') {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return GB_EUSAGE;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        const struct conf_opt *o = find_opt(spec->opts, name, nlen);
        if (!o) {
            if (spec->unknown) {
                char nm[128];
                if (nlen >= sizeof(nm)) {
                    snprintf(err, errlen, "unknown option '%.64s...'", a);
                    return GB_EUSAGE;
                }
                memcpy(nm, name, nlen);
                nm[nlen] = '\0';
                if (!value && i + 1 < argc && argv[i + 1][0] != '-')
                    value = argv[++i];
                int rc = spec->unknown(spec->ctx, nm, value, err, errlen);
                if (rc < 0)
                    return GB_EUSAGE;
                continue;
            }
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return GB_EUSAGE;
        }
        if (!value) {
            if (o->type == CONF_BOOL) {
                *(bool *)o->dst = true;
                continue;
            }
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", o->name);
                return GB_EUSAGE;
            }
            value = argv[++i];
        }
        int rc = set_opt(o, value, err, errlen);
        if (rc < 0)
            return rc;
    }
    *npos = n;
    return 0;
}

void conf_usage(const struct conf_spec *spec, FILE *fp)
{
    fprintf(fp, "usage: %s\n", spec->usage);
    if (spec->summary)
        fprintf(fp, "\n%s\n", spec->summary);
    if (spec->opts && spec->opts->name)
        fprintf(fp, "\noptions:\n");
    for (const struct conf_opt *o = spec->opts; o && o->name; o++) {
        char left[64];
        if (o->arg)
            snprintf(left, sizeof(left), "--%s=%s", o->name, o->arg);
        else
            snprintf(left, sizeof(left), "--%s", o->name);
        fprintf(fp, "  %-26s %s\n", left, o->help);
    }
    if (spec->unknown_help)
        fprintf(fp, "\n%s\n", spec->unknown_help);
    fprintf(fp, "  %-26s %s\n", "-h, --help", "show this help");
}
