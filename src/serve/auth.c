/*
 * auth.c - see auth.h.
 *
 * DESIGN. The table is an array of entries replaced as a whole on reload, under a rwlock.
 * A check walks every entry and compares every secret with a constant-time comparison,
 * without stopping at a match, so timing reveals neither which entry matched nor how much of a
 * secret was right.
 */
#include "serve/auth.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct auth_entry {
    bool is_key;                 /* "apikey KEY" */
    char id[AUTH_FIELD_MAX + 1]; /* app_id, or "" for a key */
    char secret[AUTH_FIELD_MAX + 1];
};

struct auth {
    pthread_rwlock_t lock;
    char path[GB_PATH_MAX];
    struct auth_entry *e;
    size_t n;
};

/* Compare two strings in time that depends only on their lengths' maximum. */
static int ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    unsigned diff = (unsigned)(la ^ lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < la ? (unsigned char)a[i] : 0;
        unsigned char y = i < lb ? (unsigned char)b[i] : 0;
        diff |= (unsigned)(x ^ y);
    }
    return diff == 0;
}

static int parse_file(const char *path, struct auth_entry **out, size_t *nout, char *err,
                      size_t errlen)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        int rc = -errno;
        snprintf(err, errlen, "cannot read credentials %s: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077))
        log_warn("credentials readable by others path=%s mode=%o (chmod 600 it)", path,
                 (unsigned)(st.st_mode & 0777));
    struct auth_entry *e = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[2 * AUTH_FIELD_MAX + 64];
    int rc = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
            rc = GB_EFORMAT;
            break;
        }
        char *f[3] = {NULL, NULL, NULL};
        int nf = 0;
        char *s = line;
        while (*s) {
            while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                *s++ = '\0';
            if (!*s)
                break;
            if (nf < 3)
                f[nf] = s;
            nf++;
            while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
                s++;
        }
        if (nf == 0 || f[0][0] == '#')
            continue;
        if (nf != 2 || strlen(f[0]) > AUTH_FIELD_MAX || strlen(f[1]) > AUTH_FIELD_MAX ||
            (strcmp(f[0], "apikey") != 0 && strlen(f[0]) > 48)) {
            snprintf(err, errlen, "%s:%zu: expected 'APP_ID APP_CODE' or 'apikey KEY'", path,
                     lineno);
            rc = GB_EFORMAT;
            break;
        }
        if (n == AUTH_MAX_ENTRIES) {
            snprintf(err, errlen, "%s: more than %d applications", path, AUTH_MAX_ENTRIES);
            rc = GB_ELIMIT;
            break;
        }
        VEC_GROW(e, n, cap);
        memset(&e[n], 0, sizeof(e[n]));
        e[n].is_key = strcmp(f[0], "apikey") == 0;
        snprintf(e[n].id, sizeof(e[n].id), "%s", e[n].is_key ? "" : f[0]);
        snprintf(e[n].secret, sizeof(e[n].secret), "%s", f[1]);
        n++;
    }
    fclose(fp);
    if (rc < 0) {
        free(e);
        return rc;
    }
    *out = e;
    *nout = n;
    return 0;
}

int auth_open(struct auth **out, const char *path, char *err, size_t errlen)
{
    struct auth *a = xcalloc(1, sizeof(*a));
    pthread_rwlock_init(&a->lock, NULL);
    snprintf(a->path, sizeof(a->path), "%s", path);
    int rc = parse_file(path, &a->e, &a->n, err, errlen);
    if (rc < 0) {
        auth_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

int auth_reload(struct auth *a, char *err, size_t errlen)
{
    struct auth_entry *e = NULL;
    size_t n = 0;
    int rc = parse_file(a->path, &e, &n, err, errlen);
    if (rc < 0)
        return rc;
    pthread_rwlock_wrlock(&a->lock);
    struct auth_entry *old = a->e;
    size_t oldn = a->n;
    a->e = e;
    a->n = n;
    pthread_rwlock_unlock(&a->lock);
    explicit_bzero(old, oldn * sizeof(*old));
    free(old);
    return 0;
}

void auth_close(struct auth *a)
{
    if (!a)
        return;
    if (a->e)
        explicit_bzero(a->e, a->n * sizeof(*a->e));
    free(a->e);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

int auth_check(struct auth *a, const char *app_id, const char *app_code, const char *apikey,
               char *app, size_t cap)
{
    bool pair = app_id && app_code && *app_id && *app_code;
    bool key = apikey && *apikey;
    /* Every credential sent must be valid: a wrong app_code next to a valid key (or half a
     * pair) is refused, never rescued by the other one. */
    bool half = ((app_id && *app_id) || (app_code && *app_code)) && !pair;
    if ((!pair && !key) || half)
        return GB_EAUTH;
    int found_pair = -1, found_key = -1;
    pthread_rwlock_rdlock(&a->lock);
    for (size_t i = 0; i < a->n; i++) {
        if (a->e[i].is_key) {
            if (key && ct_equal(a->e[i].secret, apikey) && found_key < 0)
                found_key = (int)i;
        } else if (pair && ct_equal(a->e[i].id, app_id) & ct_equal(a->e[i].secret, app_code) &&
                   found_pair < 0)
            found_pair = (int)i;
    }
    int found = pair ? found_pair : found_key;
    if (key && found_key < 0)
        found = -1;
    int rc = GB_EAUTH;
    if (found >= 0) {
        const struct auth_entry *e = &a->e[found];
        if (e->is_key)
            snprintf(app, cap, "key-%016llx%016llx",
                     (unsigned long long)hash_fnv1a64_str(e->secret, HASH_FNV64_SEED),
                     (unsigned long long)hash_fnv1a64_str(e->secret, 0x84222325cbf29ce4ULL));
        else
            snprintf(app, cap, "%s", e->id);
        rc = 0;
    }
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

size_t auth_count(struct auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}
