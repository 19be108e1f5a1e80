/*
 * access_log.h - the access log of `geobatch serve`: one JSON line per request answered
 * (docs/api.md, "Access log").
 *
 *   {"time":"2026-12-03T17:40:01.123Z","id":17,"client":"127.0.0.1","app":"appA",
 *    "method":"GET","route":"/6.2/jobs/{id}","path":"/6.2/jobs/Ab3...","status":200,
 *    "bytes_in":0,"bytes_out":1234,"ms":1.234,"done":true}
 *
 * Only what is safe to keep: the path without its query string (credentials travel in the
 * query: app_code, apiKey), the application's name as the store knows it (an API key's
 * application is "key-<hash>"), never a header. Each line is one write() to a file opened
 * O_APPEND, so lines from several threads never interleave.
 *
 * Threads: access_log_write() from any thread at once; access_log_reopen() from one thread
 * (the main thread, at SIGHUP) while the others write.
 */
#ifndef GEOBATCH_ACCESS_LOG_H
#define GEOBATCH_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One request, as http.c saw it. */
struct access_entry {
    uint64_t id;        /* the request's number since the server started (from 1) */
    const char *client; /* the peer's address, or "" */
    const char *app;    /* the authenticated application, or "" (none: public, refused) */
    const char *method;
    const char *route;  /* the route table's pattern ("/6.2/jobs/{id}"), or "" (no route) */
    const char *path;   /* the path without the query (any bytes: escaped) */
    int status;         /* 0: no answer was sent */
    uint64_t bytes_in;  /* body bytes received */
    uint64_t bytes_out; /* body bytes of the answer */
    double seconds;     /* from the request's headers to its end */
    bool done;          /* the answer was sent whole (false: the client went away, cut) */
};

struct access_log;

/*
 * Open the log at path for appending ("-": standard error), created 0640. Return 0 and set
 * *out, or -errno with a message in err.
 */
int access_log_open(struct access_log **out, const char *path, char *err, size_t errlen);

/* Close the file (after a rename by logrotate) and open path again. Return 0 or -errno (the
 * old file is kept then). */
int access_log_reopen(struct access_log *l);

/* Append one line for e (the time is now). Errors are dropped: the log never fails a request. */
void access_log_write(struct access_log *l, const struct access_entry *e);

/* Close and free; NULL is fine. */
void access_log_close(struct access_log *l);

#endif
