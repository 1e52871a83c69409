/* db.h: the results database (SQLite, schema in harness/sweep/schema.sql, documented in
 * results/README.md). The sweep parent is its only writer.
 *
 * db_open applies WAL, a busy timeout, checks PRAGMA user_version and migrates
 * older versions; a newer version is refused. Every run result goes in through
 * db_run_finish, one transaction for the row, its loss curve, its RSS samples, its
 * phase peaks and its test scores, so a killed harness never leaves a half-written
 * run.
 */
#ifndef EMBSWEEP_DB_H
#define EMBSWEEP_DB_H

#include <stdint.h>

#include "config.h"
#include "harness/train/run.h"
#include "scores.h"

#define DB_SCHEMA_VERSION 5

/* The VFS db_open opens with (db_vfs.c): SQLite's default one, with every
 * write, sync, truncation and deletion open to fault injection. NULL when it
 * could not be registered (SQLite's default is used then). */
#define DB_VFS_NAME "embsweep"
const char *db_vfs(void);

typedef struct db db;
struct sqlite3;

/* Machine and build provenance of one invocation (harness/sweep/provenance.c). */
typedef struct prov {
    char git_commit[48];
    int  git_dirty;          /* -1 unknown */
    char compiler[128], cflags[256], blas[256];
    char cpu_model[128], kernel[128], hostname[128];
    int  cores;
    /* inside a Slurm job (its environment): the job id (of the array), the array
     * task id (-1 when none) and the node's name; "" outside Slurm */
    char slurm_job[32], node[128];
    int  slurm_task;
} prov;
void prov_collect(prov *p);

typedef struct loss_point { int64_t step; double epoch, loss; } loss_point;
typedef struct rss_sample {
    double   t;               /* seconds since the worker started */
    int      phase;           /* 0 load, 1 train, 2 eval */
    uint64_t rss, anon, file, hwm;
} rss_sample;

typedef struct phase_peak {
    uint64_t hwm, anon, file;
    int      hwm_reset;       /* 1 if clear_refs worked */
    double   seconds;
    int      seen;
} phase_peak;

/* The outcome of one run attempt. */
typedef struct run_record {
    const char  *key;
    const char  *status;      /* ok failed timeout oom crashed diverged interrupted */
    const char  *reason;      /* may be NULL */
    int64_t      invocation;
    int          has_result;
    run_result   res;
    phase_peak   phase[3];    /* load, train, eval */
    int          blas_threads;
    int          exit_code, signal; /* -1 when not applicable */
    const char  *stderr_tail;
    double       started, finished; /* wall clock (CLOCK_REALTIME seconds) */
    int          n_loss;
    loss_point  *loss;
    int          n_samples;
    rss_sample  *samples;
    const scores_buf *scores; /* the test scores to keep, NULL when none (run_scores) */
} run_record;

extern const char *const db_phase_names[3];

hx_status db_open(const char *path, db **out, char *err, size_t errlen);
/* db_open_read: a read-only handle for the commands that only read (status,
 * plot, query, export): never creates, migrates or writes the file, takes no
 * writer lock, and works on read-only media. Close with sqlite3_close. */
hx_status db_open_read(const char *path, struct sqlite3 **out, char *err, size_t errlen);
void      db_close(db *d);

/* Record the sweep file, its datasets, and every cell (pending unless it already
 * exists; skipped cells marked skipped) in one transaction. */
hx_status db_sweep_prepare(db *d, const cfg_sweep *sw, char *err, size_t errlen);

/* Start / finish an invocation row; returns its id through *id. */
hx_status db_invocation_start(db *d, const char *sweep, const char *argv, int jobs, int threads,
                              const prov *p, int64_t *id, char *err, size_t errlen);
hx_status db_invocation_finish(db *d, int64_t id, const char *status);

/* Status of a run ("" when absent) and its finished_at. */
hx_status db_run_status(db *d, const char *key, char *status, size_t n);

/* Mark a run as running (attempts+1, started_at, invocation). */
hx_status db_run_started(db *d, const char *key, int64_t invocation, double started);

/* Write a run's final outcome, curves, samples and scores in one transaction;
 * the key's earlier scores go in any case (replaced by r->scores, if any). */
hx_status db_run_finish(db *d, const run_record *r, char *err, size_t errlen);

/* The most test rows whose scores one run_scores row can hold (SQLite's blob
 * limit, SQLITE_LIMIT_LENGTH, over 4 bytes a logit). */
int64_t db_scores_max_rows(db *d);

/* db_scores_read: the stored test scores of run `key`, for any handle (db_handle
 * or db_open_read). HX_OK and *n >= 1: *logits and *labels are (n) floats, the
 * logits in test-row order and the labels 0.0f/1.0f, each allocated with
 * hx_malloc; the caller frees both with hx_free. HX_OK and *n == 0 with both
 * NULL: none stored (no such run, a run not ok, kept with `keep_scores: false`,
 * or a database older than version 3). HX_ERR_FORMAT: the row's format is not
 * 'f32le' or its blob sizes disagree with n; HX_ERR_NOMEM; HX_ERR_IO: SQLite
 * failed. */
hx_status db_scores_read(struct sqlite3 *h, const char *key, float **logits, float **labels, int64_t *n, char *err,
                         size_t errlen);

/* The sqlite3 handle, for read-only queries by `embsweep status`. */
struct sqlite3 *db_handle(db *d);

/* ISO-8601 UTC with milliseconds for a CLOCK_REALTIME time. */
void db_iso_time(double t, char *buf, size_t n);
double db_wall_now(void);

#endif
