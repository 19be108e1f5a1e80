/*
 * store_int.h - the backend contract of the job store, for src/store/ only.
 *
 * A backend is one file (store_sqlite.c, ...) that provides an open function for the rows of
 * store.c's backend table and fills a struct store_ops. store.c's public functions only
 * dispatch through the table, so every contract is the one store.h states for the function of
 * the same name. A backend's own struct begins with a struct store (the "base first" idiom):
 * the operations receive the struct store and cast it back.
 */
#ifndef GEOBATCH_STORE_INT_H
#define GEOBATCH_STORE_INT_H

#include "store/store.h"

/* The operations a backend provides; store.h gives each one's contract. */
struct store_ops {
    void (*close)(struct store *st);
    int (*job_create)(struct store *st, const struct job_info *job);
    int (*job_get)(struct store *st, const char *id, const char *app, struct job_info *out);
    int (*job_list)(struct store *st, const char *app, uint64_t offset, uint32_t limit,
                    store_job_fn fn, void *ctx, uint64_t *total);
    int (*job_transition)(struct store *st, const char *id, const char *app, unsigned from_mask,
                          enum job_state to, int64_t now, struct job_info *out);
    int (*job_count_active)(struct store *st, const char *app, uint64_t *out);
    int (*task_claim)(struct store *st, const char *after_app, int64_t now, struct store_task *out);
    int (*task_release)(struct store *st, const struct store_task *task);
    int (*task_fail)(struct store *st, const struct store_task *task, int64_t now);
    int (*chunk_done)(struct store *st, const struct store_task *task,
                      const struct store_chunk_result *r, const char *out_path,
                      const char *nom_path); /* paths: store_chunk_done_files */
    int (*job_finish)(struct store *st, const struct store_task *task, enum job_state to,
                      int64_t now);
    int (*stats)(struct store *st, struct store_stats *out);
    int (*jobs_expired)(struct store *st, int64_t before, store_job_fn fn, void *ctx);
    int (*job_purge)(struct store *st, const char *id);
    /* Optional (NULL: the default store.c gives, that of a store of one process that keeps no
     * files). */
    void (*config)(struct store *st, const struct store_claim_config *cfg);
    int (*listen)(struct store *st, store_wake_fn fn, void *ctx);
    int (*job_create_from)(struct store *st, const struct job_info *job, const char *dir,
                           const struct store_app_limits *lim, uint64_t *used);
    int (*task_renew)(struct store *st, const struct store_task *task);
    int (*file_get)(struct store *st, const char *id, const char *name, int fd);
    int (*file_put)(struct store *st, const struct store_task *task, const char *name,
                    const char *path);
    int (*app_bytes)(struct store *st, const char *app, uint64_t *out);
    int (*rate_take)(struct store *st, const char *app, double rate, double burst, int want);
};

struct store {
    const struct store_ops *ops;
};

/*
 * Open a backend at location, the part of the URL after the scheme ("sqlite:DIR" gives "DIR").
 * Same contract as store_open(): release every claim of a previous process; return 0 and set
 * *out, or a negative code with a message in err.
 */
typedef int store_open_fn(struct store **out, const char *location, char *err, size_t errlen);

/* Create or migrate the schema at location (the whole URL for PostgreSQL). */
typedef int store_migrate_fn(const char *location, char *err, size_t errlen);

/* One row of the backend table: a URL that starts with scheme goes to open. */
struct store_backend {
    const char *scheme; /* "sqlite:", "postgresql://" */
    bool whole_url;     /* open and migrate get the whole URL, not what follows scheme */
    store_open_fn *open;
    store_migrate_fn *migrate; /* NULL: open migrates */
};

/* The SQLite backend (store_sqlite.c): location is the data directory, the file DIR/jobs.db. */
store_open_fn store_sqlite_open;

/* The PostgreSQL backend (store_pg.c): location is a libpq connection URI. */
store_open_fn store_pg_open;
store_migrate_fn store_pg_migrate;

#endif
