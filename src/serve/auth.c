/*
 * auth.c - see auth.h.
 *
 * DESIGN. The table is an array of entries and an open-addressing index over it (keyed by a
 * hash of the app_id, or of the key for "apikey" lines), replaced as a whole on reload, under a
 * rwlock. A check first refuses any credential over AUTH_FIELD_MAX bytes without reading it
 * further, then looks the app_id (or key) up in the index and compares the secret of each
 * candidate with a constant-time comparison: its cost depends neither on the number of
 * applications nor on how much of a secret was right.
 *
 * Failed logins are counted per client address in a token bucket (AUTH_FAIL_BURST failures,
 * refilled at one per AUTH_FAIL_REFILL_S seconds) in a fixed table of AUTH_FAIL_SETS sets of
 * AUTH_FAIL_WAYS slots (a new address takes the slot of the most forgiven one); an address
 * whose bucket is empty is refused before its credentials are looked at. Failures are logged
 * at most once a second per address and AUTH_LOG_PER_S times a second in all (bursts of
 * AUTH_LOG_BURST); an address's next line counts its failures left out. A line names the
 * client address and the app_id when it looks like one, never a secret.
 */
#include "serve/auth.h"
#include "base/err.h"
#include "base/fsio.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct auth_entry {
    bool is_key;                 /* "apikey KEY" */
    char id[AUTH_FIELD_MAX + 1]; /* app_id, or "" for a key */
    char secret[AUTH_FIELD_MAX + 1];
};

/* One table of applications: the entries and an index over them. */
struct auth_table {
    struct auth_entry *e;
    size_t n;
    uint32_t *slot; /* entry index + 1, 0: empty; nslot a power of two, at least 2n */
    size_t nslot;
};

/* Failed logins of one client address. */
struct fail_slot {
    char addr[AUTH_ADDR_MAX + 1]; /* "" when free */
    double tokens;                /* failures still allowed */
    double last;                  /* when tokens was last brought up to date (monotonic s) */
    double log_last;              /* when its last failure was logged (monotonic s), 0: never */
    uint64_t log_skipped;         /* its failures not logged since */
};

struct auth {
    pthread_rwlock_t lock; /* t */
    char path[GB_PATH_MAX];
    struct auth_table t;
    pthread_mutex_t fail_mu; /* fail, log_tokens, log_refilled */
    struct fail_slot fail[AUTH_FAIL_SETS][AUTH_FAIL_WAYS];
    double log_tokens;   /* lines that may be logged now, all addresses together */
    double log_refilled; /* when log_tokens was last brought up to date (monotonic s) */
};

/* The index key of an entry or of a submitted credential: keys and app_ids apart. */
static uint64_t entry_hash(bool is_key, const char *s)
{
    return hash_fnv1a64_str(s, is_key ? 0x84222325cbf29ce4ULL : HASH_FNV64_SEED);
}

static void table_index(struct auth_table *t)
{
    size_t nslot = 16;
    while (nslot < 2 * t->n)
        nslot *= 2;
    t->slot = xcalloc(nslot, sizeof(*t->slot));
    t->nslot = nslot;
    for (size_t i = 0; i < t->n; i++) {
        const struct auth_entry *e = &t->e[i];
        size_t h = (size_t)entry_hash(e->is_key, e->is_key ? e->secret : e->id) & (nslot - 1);
        while (t->slot[h])
            h = (h + 1) & (nslot - 1);
        t->slot[h] = (uint32_t)(i + 1);
    }
}

static void table_release(struct auth_table *t)
{
    if (t->e)
        explicit_bzero(t->e, t->n * sizeof(*t->e));
    free(t->e);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

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

static int parse_file(const char *path, struct auth_table *out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        int rc = -errno;
        snprintf(err, errlen, "cannot read credentials %s: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    /* Group read is the Debian package's setup (root:geobatch 0640): no warning for it. */
    bool stat_ok = fstat(fileno(fp), &st) == 0;
    if (stat_ok && (st.st_mode & S_IRWXO))
        log_warn("credentials readable by others path=%s mode=%o (chmod o-rwx it: 600, or 640"
                 " for a group)",
                 path, (unsigned)(st.st_mode & 0777));
    else if (stat_ok && (st.st_mode & S_IWGRP))
        log_warn("credentials writable by group path=%s mode=%o (chmod g-w it)", path,
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
    out->e = e;
    out->n = n;
    table_index(out);
    return 0;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int auth_open(struct auth **out, const char *path, char *err, size_t errlen)
{
    struct auth *a = xcalloc(1, sizeof(*a));
    pthread_rwlock_init(&a->lock, NULL);
    pthread_mutex_init(&a->fail_mu, NULL);
    a->log_tokens = AUTH_LOG_BURST;
    a->log_refilled = mono_now();
    snprintf(a->path, sizeof(a->path), "%s", path);
    int rc = parse_file(path, &a->t, err, errlen);
    if (rc < 0) {
        auth_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

int auth_reload(struct auth *a, char *err, size_t errlen)
{
    struct auth_table t = {0};
    int rc = parse_file(a->path, &t, err, errlen);
    if (rc < 0)
        return rc;
    pthread_rwlock_wrlock(&a->lock);
    struct auth_table old = a->t;
    a->t = t;
    pthread_rwlock_unlock(&a->lock);
    table_release(&old);
    return 0;
}

void auth_close(struct auth *a)
{
    if (!a)
        return;
    table_release(&a->t);
    pthread_rwlock_destroy(&a->lock);
    pthread_mutex_destroy(&a->fail_mu);
    free(a);
}

/* True when s is NULL or at most AUTH_FIELD_MAX bytes (read no further than that). */
static bool short_enough(const char *s)
{
    return !s || strnlen(s, AUTH_FIELD_MAX + 1) <= AUTH_FIELD_MAX;
}

/*
 * The entry whose app_id is id (or, is_key, whose key is secret) and whose secret is secret, or
 * -1. Every candidate with the same index hash is compared, without stopping at a match.
 */
static long table_find(const struct auth_table *t, bool is_key, const char *id, const char *secret)
{
    if (!t->nslot)
        return -1;
    long found = -1;
    size_t h = (size_t)entry_hash(is_key, is_key ? secret : id) & (t->nslot - 1);
    for (; t->slot[h]; h = (h + 1) & (t->nslot - 1)) {
        const struct auth_entry *e = &t->e[t->slot[h] - 1];
        if (e->is_key != is_key)
            continue;
        int ok = ct_equal(e->secret, secret);
        if (!is_key)
            ok &= ct_equal(e->id, id);
        if (ok && (found < 0 || t->slot[h] - 1 < (uint32_t)found))
            found = (long)(t->slot[h] - 1);
    }
    return found;
}

int auth_check(struct auth *a, const char *app_id, const char *app_code, const char *apikey,
               char *app, size_t cap)
{
    if (!short_enough(app_id) || !short_enough(app_code) || !short_enough(apikey))
        return GB_EAUTH; /* no application has one that long: refused unread */
    bool pair = app_id && app_code && *app_id && *app_code;
    bool key = apikey && *apikey;
    /* Every credential sent must be valid: a wrong app_code next to a valid key (or half a
     * pair) is refused, never rescued by the other one. */
    bool half = ((app_id && *app_id) || (app_code && *app_code)) && !pair;
    if ((!pair && !key) || half)
        return GB_EAUTH;
    pthread_rwlock_rdlock(&a->lock);
    long found_pair = pair ? table_find(&a->t, false, app_id, app_code) : -1;
    long found_key = key ? table_find(&a->t, true, NULL, apikey) : -1;
    long found = pair ? found_pair : found_key;
    if (key && found_key < 0)
        found = -1;
    int rc = GB_EAUTH;
    if (found >= 0) {
        const struct auth_entry *e = &a->t.e[found];
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

/* ---- failed logins ---- */

/* The slot of addr, refilled up to now; a new one (evicting the most forgiven) if need be.
 * Under fail_mu. */
static struct fail_slot *fail_slot(struct auth *a, const char *addr, double now)
{
    struct fail_slot *set = a->fail[hash_fnv1a64_str(addr, HASH_FNV64_SEED) & (AUTH_FAIL_SETS - 1)];
    struct fail_slot *s = NULL, *spare = NULL;
    for (int w = 0; w < AUTH_FAIL_WAYS; w++) {
        struct fail_slot *f = &set[w];
        if (f->addr[0]) {
            f->tokens += (now - f->last) / AUTH_FAIL_REFILL_S;
            if (f->tokens > AUTH_FAIL_BURST)
                f->tokens = AUTH_FAIL_BURST;
            f->last = now;
        }
        if (f->addr[0] && ct_equal(f->addr, addr))
            s = f;
        else if (!spare || !f->addr[0] || (spare->addr[0] && f->tokens > spare->tokens))
            spare = f;
    }
    if (!s) {
        s = spare;
        memset(s, 0, sizeof(*s));
        snprintf(s->addr, sizeof(s->addr), "%s", addr);
        s->tokens = AUTH_FAIL_BURST;
        s->last = now;
    }
    return s;
}

int auth_admit(struct auth *a, const char *addr, int *retry_after)
{
    if (!addr || !*addr)
        return 0;
    pthread_mutex_lock(&a->fail_mu);
    struct fail_slot *s = fail_slot(a, addr, mono_now());
    int rc = 0;
    if (s->tokens < 1) {
        *retry_after = (int)ceil((1 - s->tokens) * AUTH_FAIL_REFILL_S);
        if (*retry_after < 1)
            *retry_after = 1;
        rc = GB_ELIMIT;
    }
    pthread_mutex_unlock(&a->fail_mu);
    return rc;
}

/* Whether an app_id may be logged: it looks like one (no secret pasted into the wrong field
 * would, often; and nothing that could forge a log line). */
static bool loggable_id(const char *s)
{
    if (!s || !*s || strnlen(s, 49) > 48)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

void auth_failed(struct auth *a, const char *addr, const char *app_id, const char *how)
{
    double now = mono_now();
    bool log = false;
    uint64_t skipped = 0;
    pthread_mutex_lock(&a->fail_mu);
    a->log_tokens += (now - a->log_refilled) * AUTH_LOG_PER_S;
    if (a->log_tokens > AUTH_LOG_BURST)
        a->log_tokens = AUTH_LOG_BURST;
    a->log_refilled = now;
    struct fail_slot *s = fail_slot(a, addr && *addr ? addr : "-", now);
    s->tokens = s->tokens >= 1 ? s->tokens - 1 : 0;
    if ((s->log_last == 0 || now - s->log_last >= 1.0) && a->log_tokens >= 1) {
        log = true;
        a->log_tokens -= 1;
        s->log_last = now;
        skipped = s->log_skipped;
        s->log_skipped = 0;
    } else {
        s->log_skipped++;
    }
    pthread_mutex_unlock(&a->fail_mu);
    if (log)
        log_warn("auth failed client=%s credentials=%s app_id=%s not_logged=%llu",
                 addr && *addr ? addr : "-", how, loggable_id(app_id) ? app_id : "-",
                 (unsigned long long)skipped);
}

size_t auth_count(struct auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->t.n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}
