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

/* A region's postcodes: those of `length` digits whose first `digits` are in [lo, hi]. */
struct pc_range {
    char country[3];
    char code[4];
    unsigned length, digits;
    unsigned lo, hi;
};

/* The four kinds of line, as read; a territory is an entry with no key. */
struct tables {
    struct entry *rv, *pv, *tv;
    struct pc_range *cv;
    size_t rn, rcap, pn, pcap, cn, ccap, tn, tcap;
};

static struct entry *g_regions, *g_prefixes, *g_territories;
static size_t g_nregions, g_nprefixes, g_nterritories;
static struct pc_range *g_pcranges, *g_tranges; /* g_tranges: the territories' */
static size_t g_npcranges, g_ntranges;

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

/* The digits of w (len bytes, 1 to 6 of them) into *v; 0 when w is not that. */
static unsigned digits_of(const char *w, size_t len, unsigned *v)
{
    if (len == 0 || len > 6)
        return 0;
    *v = 0;
    for (size_t i = 0; i < len; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        *v = *v * 10 + (unsigned)(w[i] - '0');
    }
    return (unsigned)len;
}

/* A postcodes line's length ("5") and ranges ("010-027|055") for region e into t; NULL, or why
 * they are wrong. */
static const char *parse_ranges(const char *len, const char *list, const struct entry *e,
                                struct tables *t)
{
    unsigned length;
    if (!digits_of(len, strlen(len), &length) || length == 0 || length > 10)
        return "the length is no number of digits from 1 to 10";
    for (;;) {
        size_t wl = strcspn(list, "|");
        const char *dash = memchr(list, '-', wl);
        struct pc_range c;
        memset(&c, 0, sizeof(c));
        memcpy(c.country, e->country, sizeof(c.country));
        memcpy(c.code, e->code, sizeof(c.code));
        c.length = length;
        size_t al = dash ? (size_t)(dash - list) : wl;
        c.digits = digits_of(list, al, &c.lo);
        unsigned hd = dash ? digits_of(dash + 1, wl - al - 1, &c.hi) : c.digits;
        if (!dash)
            c.hi = c.lo;
        if (!c.digits || hd != c.digits || c.hi < c.lo || c.digits > length)
            return "a range is not 1 to 6 digits, no longer than the length, or its ends differ "
                   "in length or order";
        if (t->cn == t->ccap) {
            t->ccap = t->ccap ? t->ccap * 2 : 64;
            t->cv = xreallocarray(t->cv, t->ccap, sizeof(*t->cv));
        }
        t->cv[t->cn++] = c;
        if (!list[wl])
            return NULL;
        list += wl + 1;
    }
}

/* One line's fields into t; NULL, or why the line is wrong. */
static const char *parse_line(char *s, struct tables *t)
{
    char *f[5];
    int nf = 0;
    for (char *p = s; nf < 5;) {
        f[nf++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p++ = '\0';
        while (*p == '\t')
            p++;
    }
    bool region = strcmp(f[0], "region") == 0, pcs = strcmp(f[0], "postcodes") == 0;
    bool territory = strcmp(f[0], "territory") == 0;
    if (!region && !pcs && !territory && strcmp(f[0], "prefix") != 0)
        return "the kind is neither region, prefix, postcodes nor territory";
    if (nf != (pcs ? 5 : region ? 4 : 3))
        return region      ? "a region needs country, code and names"
               : pcs       ? "postcodes need country, code, length and ranges"
               : territory ? "a territory needs country and code"
                           : "a prefix needs country and prefixes";
    struct entry e;
    memset(&e, 0, sizeof(e));
    if (strlen(f[1]) != 2 || !norm_country(f[1], 2))
        return "the country is no ISO 3166-1 alpha-2 code";
    e.country[0] = f[1][0];
    e.country[1] = f[1][1];
    if (territory) {
        const char *iso = strlen(f[2]) == 2 ? norm_country(f[2], 2) : NULL;
        if (!iso || strcmp(iso, f[2]) != 0 || strcmp(iso, e.country) == 0)
            return "a territory's code is another country's ISO 3166-1 alpha-2 code";
        memcpy(e.code, f[2], 3);
        push(&t->tv, &t->tn, &t->tcap, &e);
        return NULL;
    }
    if (region || pcs) {
        if (!*f[2] || strlen(f[2]) >= sizeof(e.code))
            return "the code is empty or longer than 3 bytes";
        memcpy(e.code, f[2], strlen(f[2]));
    }
    if (pcs)
        return parse_ranges(f[3], f[4], &e, t);
    /* the names; a region's code is one of its names */
    char *names = f[region ? 3 : 2];
    for (int first = region;; first = 0) {
        const char *w = first ? f[2] : names;
        size_t wl = first ? strlen(f[2]) : strcspn(names, "|");
        if (!fold_key(w, wl, e.key))
            return "a name is empty or longer than 63 bytes folded";
        if (region)
            push(&t->rv, &t->rn, &t->rcap, &e);
        else
            push(&t->pv, &t->pn, &t->pcap, &e);
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
    struct tables t;
    memset(&t, 0, sizeof(t));
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
        const char *why = parse_line(line, &t);
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
        free(t.rv);
        free(t.pv);
        free(t.cv);
        free(t.tv);
        return rc;
    }
    if (t.rn)
        qsort(t.rv, t.rn, sizeof(*t.rv), cmp_entry);
    if (t.pn)
        qsort(t.pv, t.pn, sizeof(*t.pv), cmp_entry);
    g_regions = t.rv;
    g_nregions = t.rn;
    g_prefixes = t.pv;
    g_nprefixes = t.pn;
    g_pcranges = t.cv;
    g_npcranges = t.cn;
    g_territories = t.tv;
    g_nterritories = t.tn;
    g_tranges = NULL;
    g_ntranges = 0;
    for (size_t i = 0; i < t.cn; i++)
        if (norm_territory(t.cv[i].country, t.cv[i].code)) {
            g_tranges = xreallocarray(g_tranges, g_ntranges + 1, sizeof(*g_tranges));
            g_tranges[g_ntranges++] = t.cv[i];
        }
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

bool norm_region_elsewhere(const char *in, size_t len, const char *iso2)
{
    struct norm_region r[8];
    int nr = norm_region(in, len, NULL, r, 8);
    for (int k = 0; k < nr; k++)
        if (strcmp(r[k].country, iso2) != 0 && !norm_territory(r[k].country, iso2))
            return true;
    return false;
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

/* The code of the first of ranges c[0..n) of country that holds postcode pc (len bytes), or
 * NULL. */
static const char *range_of(const struct pc_range *c, size_t n, const char *country, const char *pc,
                            size_t len)
{
    size_t run = 0; /* the leading digits; a ZIP+4's "-1234" or " 1234" after them */
    while (run < len && pc[run] >= '0' && pc[run] <= '9')
        run++;
    if (run < len && pc[run] != '-' && pc[run] != ' ')
        return NULL;
    for (size_t i = 0; country && country[0] && i < n; i++) {
        unsigned v;
        if (c[i].country[0] == country[0] && c[i].country[1] == country[1] && run == c[i].length &&
            digits_of(pc, c[i].digits, &v) && v >= c[i].lo && v <= c[i].hi)
            return c[i].code;
    }
    return NULL;
}

const char *norm_postcode_region(const char *country, const char *pc, size_t len)
{
    return range_of(g_pcranges, g_npcranges, country, pc, len);
}

const char *norm_territory(const char *country, const char *iso2)
{
    for (size_t i = 0; country && iso2 && i < g_nterritories; i++) {
        const struct entry *e = &g_territories[i];
        if (e->country[0] == country[0] && e->country[1] == country[1] && e->code[0] == iso2[0] &&
            e->code[1] == iso2[1])
            return e->code;
    }
    return NULL;
}

bool norm_territory_of(const char *country)
{
    for (size_t i = 0; country && i < g_nterritories; i++)
        if (g_territories[i].country[0] == country[0] && g_territories[i].country[1] == country[1])
            return true;
    return false;
}

const char *norm_postcode_territory(const char *country, const char *pc, size_t len)
{
    return range_of(g_tranges, g_ntranges, country, pc, len);
}
