/*
 * auth.h - the credentials of `geobatch serve`: which applications may call the API.
 *
 * The credentials file has one application per line: "APP_ID APP_CODE" (the HERE app_id /
 * app_code pair) or "apikey KEY" (for apiKey= and Authorization: Bearer). Blank lines and lines
 * starting with '#' are ignored. Secrets are compared in constant time and never logged. An
 * application is identified by its app_id, or for an API key by "key-" and a hash of the key,
 * so that the job store never holds a secret.
 *
 * Failed logins are throttled per client address: after AUTH_FAIL_BURST failures an address
 * gets one more try every AUTH_FAIL_REFILL_S seconds (auth_admit() says when), and failures
 * are logged, at most one line a second per address and AUTH_LOG_PER_S in all.
 *
 * Threads: auth_check(), auth_admit() and auth_failed() from any thread; auth_reload() (SIGHUP)
 * from one thread at a time, concurrently with auth_check(): the table is swapped under a lock.
 */
#ifndef GEOBATCH_AUTH_H
#define GEOBATCH_AUTH_H

#include <stddef.h>

#define AUTH_FIELD_MAX   256 /* bytes of an app_id, app_code or key */
#define AUTH_MAX_ENTRIES 100000
#define AUTH_ADDR_MAX    45 /* bytes of a client address (IPv6 text form at most) */

#define AUTH_FAIL_BURST    50   /* failed logins an address may make at once */
#define AUTH_FAIL_REFILL_S 2    /* then one more every this many seconds */
#define AUTH_FAIL_SETS     1024 /* addresses remembered: AUTH_FAIL_SETS * AUTH_FAIL_WAYS */
#define AUTH_FAIL_WAYS     4
#define AUTH_LOG_PER_S     10 /* failed-login lines logged a second, all addresses together */
#define AUTH_LOG_BURST     50

struct auth;

/*
 * Read the credentials file at path. Warn (log) when it is readable by group or others.
 * Return 0 and set *out; -errno when unreadable; GB_EFORMAT with the line number in err for a
 * malformed line.
 */
int auth_open(struct auth **out, const char *path, char *err, size_t errlen);

/* Re-read the file; on any error keep the old table and return the error (message in err). */
int auth_reload(struct auth *a, char *err, size_t errlen);

void auth_close(struct auth *a);

/*
 * Check credentials as given in a request: app_id with app_code, or apikey (query apiKey or a
 * Bearer token); any may be NULL. Every credential given must be valid: a pair and a key
 * both sent authenticate only when both are right (as the pair's application), and half a pair
 * is refused. On success write the application identity (at most 64 bytes) to app and return
 * 0; return GB_EAUTH otherwise.
 */
int auth_check(struct auth *a, const char *app_id, const char *app_code, const char *apikey,
               char *app, size_t cap);

/*
 * Whether the client at addr (NULL or "": not throttled) may try to log in now. Return 0, or
 * GB_ELIMIT with *retry_after set to the seconds until its next try, when its failures used up
 * its allowance.
 */
int auth_admit(struct auth *a, const char *addr, int *retry_after);

/*
 * Count a failed login of the client at addr and log it (at most one line a second per
 * address, AUTH_LOG_PER_S lines a second in all; a line counts the failures left out): the
 * address, how the credentials came (how: "app_id", "apiKey", "none"...) and app_id when it
 * looks like one. No secret is ever logged.
 */
void auth_failed(struct auth *a, const char *addr, const char *app_id, const char *how);

/* Number of applications loaded. */
size_t auth_count(struct auth *a);

#endif
