/*
 * norm_region.c - regions (states, provinces, Länder, cantons) by name or abbreviation, and the
 * country prefixes written before postcodes, from data/dict/regions.txt (its format is at the
 * top of the file).
 *
 * Names are keyed like country names: norm_fold() with the spaces removed, so "New South Wales",
 * "new-south-wales" and "NEW SOUTH WALES" meet. One sorted array, searched by bisection; a name
 * several countries use ("WA": Washington, Western Australia) has one entry for each.
 *
 * THREADS: norm_region_load() runs inside norm_init()'s lock, before the tables are published;
 * the lookups only read.
 */
#include "text/norm.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_CAP 64

struct entry {
    char key[KEY_CAP]; /* folded name, no spaces */
    char country[3];
    char code[4]; /* "" for a postcode prefix */
};

static struct entry *g_regions, *g_prefixes;
static size_t g_nregions, g_nprefixes;

/* The folded key of a name, no spaces; its length, 0 when it has none or does not fit. */
static size_t fold_key(const char *in, size_t len, char out[KEY_CAP])
{
    char f[NORM_MAX];
    int n = norm_fold(in, len, f, sizeof(f));
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (f[i] != ' ') {
            if (k + 1 >= KEY_CAP)
                return 0;
            out[k++] = f[i];
        }
    out[k] = '\0';
    return n > 0 ? k : 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->country, y->country);
}

static void push(struct entry **v, size_t *n, size_t *cap, const struct entry *e)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = xreallocarray(*v, *cap, sizeof(**v));
    }
    (*v)[(*n)++] = *e;
}

/* One line's fields into v; NULL, or why the line is wrong. */
static const char *parse_line(char *s, struct entry **rv, size_t *rn, size_t *rcap,
                              struct entry **pv, size_t *pn, size_t *pcap)
{
    char *f[4];
    int nf = 0;
    for (char *p = s; nf < 4;) {
        f[nf++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p++ = '\0';
        while (*p == '\t')
            p++;
    }
    bool region = strcmp(f[0], "region") == 0;
    if (!region && strcmp(f[0], "prefix") != 0)
        return "the kind is neither region nor prefix";
    if (nf != (region ? 4 : 3))
        return region ? "a region needs country, code and names"
                      : "a prefix needs country and prefixes";
    struct entry e;
    memset(&e, 0, sizeof(e));
    if (strlen(f[1]) != 2 || !norm_country(f[1], 2))
        return "the country is no ISO 3166-1 alpha-2 code";
    e.country[0] = f[1][0];
    e.country[1] = f[1][1];
    if (region) {
        if (!*f[2] || strlen(f[2]) >= sizeof(e.code))
            return "the code is empty or longer than 3 bytes";
        memcpy(e.code, f[2], strlen(f[2]));
    }
    /* the names; a region's code is one of its names */
    char *names = f[region ? 3 : 2];
    for (int first = region;; first = 0) {
        const char *w = first ? f[2] : names;
        size_t wl = first ? strlen(f[2]) : strcspn(names, "|");
        if (!fold_key(w, wl, e.key))
            return "a name is empty or longer than 63 bytes folded";
        if (region)
            push(rv, rn, rcap, &e);
        else
            push(pv, pn, pcap, &e);
        if (first)
            continue;
        if (!names[wl])
            break;
        names += wl + 1;
    }
    return NULL;
}

int norm_region_load(const char *dir)
{
    char path[4096];
    int pn = snprintf(path, sizeof(path), "%s/regions.txt", dir);
    if (pn < 0 || (size_t)pn >= sizeof(path))
        return GB_ETOOLONG;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int rc = -errno;
        log_error("norm regions open failed path=%s err=%s", path, gb_strerror(rc));
        return rc;
    }
    struct entry *rv = NULL, *pv = NULL;
    size_t rn = 0, rcap = 0, pnum = 0, pcap = 0;
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            log_error("norm regions bad line path=%s line=%d reason=\"line too long\"", path,
                      lineno);
            rc = GB_EFORMAT;
            break;
        }
        while (n > 0 && strchr("\r\n \t", line[n - 1]))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        const char *why = parse_line(line, &rv, &rn, &rcap, &pv, &pnum, &pcap);
        if (why) {
            log_error("norm regions bad line path=%s line=%d reason=\"%s\"", path, lineno, why);
            rc = GB_EFORMAT;
            break;
        }
    }
    if (!rc && ferror(fp))
        rc = -EIO;
    fclose(fp);
    if (rc) {
        free(rv);
        free(pv);
        return rc;
    }
    if (rn)
        qsort(rv, rn, sizeof(*rv), cmp_entry);
    if (pnum)
        qsort(pv, pnum, sizeof(*pv), cmp_entry);
    g_regions = rv;
    g_nregions = rn;
    g_prefixes = pv;
    g_nprefixes = pnum;
    return 0;
}

/* The first entry of v[0..n) whose key is key, or n. */
static size_t lower_bound(const struct entry *v, size_t n, const char *key)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (strcmp(v[m].key, key) < 0)
            a = m + 1;
        else
            b = m;
    }
    return a < n && strcmp(v[a].key, key) == 0 ? a : n;
}

int norm_region(const char *in, size_t len, const char *country, struct norm_region *out, int max)
{
    char key[KEY_CAP];
    if (!g_nregions || len == 0 || !fold_key(in, len, key))
        return 0;
    int k = 0;
    for (size_t i = lower_bound(g_regions, g_nregions, key);
         i < g_nregions && strcmp(g_regions[i].key, key) == 0 && k < max; i++) {
        const struct entry *e = &g_regions[i];
        if (country && country[0] && (country[0] != e->country[0] || country[1] != e->country[1]))
            continue;
        if (k > 0 && strcmp(out[k - 1].country, e->country) == 0)
            continue; /* two names of one region: "Cal" and "California" fold apart anyway */
        memcpy(out[k].country, e->country, 3);
        memcpy(out[k].code, e->code, 4);
        k++;
    }
    return k;
}

const char *norm_postcode_prefix(const char *in, size_t len)
{
    char key[KEY_CAP];
    if (len == 0 || len > 4 || !fold_key(in, len, key))
        return NULL;
    size_t i = lower_bound(g_prefixes, g_nprefixes, key);
    if (i < g_nprefixes)
        return g_prefixes[i].country;
    const char *iso = norm_country(in, len); /* ISO alpha-2 and alpha-3 codes */
    return iso && len <= 3 ? iso : NULL;
}
