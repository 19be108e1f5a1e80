/*
 * conf.c - see conf.h.
 */
#include "base/conf.h"
#include "base/err.h"

#include <ctype.h>
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

#define CONF_FILE_MAX (1 << 20)

/* Read the whole of path (at most CONF_FILE_MAX bytes) into a new NUL-ended buffer. Return 0
 * and set *out, -errno, or GB_ETOOLONG. */
static int read_small_file(const char *path, char **out)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -errno;
    char *b = malloc(CONF_FILE_MAX + 1);
    if (!b)
        abort();
    size_t n = fread(b, 1, CONF_FILE_MAX + 1, fp);
    int rc = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (rc == 0 && n > CONF_FILE_MAX)
        rc = GB_ETOOLONG;
    if (rc < 0) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    *out = b;
    return 0;
}

int conf_file_apply(const struct conf_spec *spec, const char *path, char **buf, char *err,
                    size_t errlen)
{
    char *b = NULL;
    int rc = read_small_file(path, &b);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == GB_ETOOLONG ? "larger than 1 MiB" : strerror(-rc));
        return rc;
    }
    int line = 0;
    for (char *p = b, *next; p && *p; p = next) {
        line++;
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *key = p;
        while (*p && *p != '=' && *p != ' ' && *p != '\t')
            p++;
        size_t klen = (size_t)(p - key);
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '=')
            for (p++; *p == ' ' || *p == '\t'; p++) {
            }
        key[klen] = '\0';
        const struct conf_opt *o =
            strcasecmp(key, "config") ? find_opt(spec->opts, key, klen) : NULL;
        if (!o) {
            snprintf(err, errlen, "%s:%d: unknown key '%.64s'", path, line, key);
            rc = GB_EUSAGE;
            break;
        }
        if (*p == '\0' && o->type != CONF_BOOL) {
            snprintf(err, errlen, "%s:%d: %s needs a value", path, line, o->name);
            rc = GB_EUSAGE;
            break;
        }
        char msg[256] = "";
        rc = set_opt(o, *p ? p : "true", msg, sizeof(msg));
        if (rc < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line, msg + (msg[0] == '-' ? 2 : 0));
            break;
        }
    }
    if (rc < 0) {
        free(b);
        return rc;
    }
    *buf = b;
    return 0;
}

const char *conf_find(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (a[0] != '-' || a[1] != '-' || strncasecmp(a + 2, name, n) != 0)
            continue;
        if (a[2 + n] == '=')
            found = a + 3 + n;
        else if (a[2 + n] == '\0' && i + 1 < argc)
            found = argv[++i];
    }
    return found;
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
