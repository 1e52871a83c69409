/* db.c: the SQLite results database. The schema text is compiled in from
 * harness/sweep/schema.sql (the Makefile turns it into build/<mode>/gen/schema_sql.h),
 * so the binary and the documented schema cannot drift apart.
 *
 * Versioning: PRAGMA user_version. 0 (empty file) -> apply the schema; 1 -> add
 * rss_samples.hwm, then apply it; 2 -> apply it (the missing tables appear); 3 ->
 * add the Slurm columns of invocations, then apply it; 4 = current; newer -> refuse (an older binary must not write a newer database).
 * Concurrency: WAL + busy_timeout; writes in BEGIN IMMEDIATE transactions. The
 * sweep parent is the only writer, readers (plots, status) never block it.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "schema_sql.h"

const char *const db_phase_names[3] = {"load", "train", "eval"};

struct db {
    sqlite3      *h;
    int           writer_fd;  /* flock'ed <path>.writer, or -1 */
    sqlite3_stmt *finish, *started, *status, *del_loss, *del_rss, *del_phase, *ins_loss, *ins_rss,
                 *ins_phase, *del_scores, *ins_scores;
};

struct sqlite3 *db_handle(db *d) { return d->h; }

double db_wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void db_iso_time(double t, char *buf, size_t n) {
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", b, (int)((t - (double)s) * 1000.0) % 1000);
}

static hx_status sql_err(db *d, const char *what, char *err, size_t errlen) {
    return hx_error(HX_ERR_IO, err, errlen, "sqlite: %s: %s", what, sqlite3_errmsg(d->h));
}

static int exec(db *d, const char *sql) { return sqlite3_exec(d->h, sql, NULL, NULL, NULL); }

static int prep(db *d, sqlite3_stmt **st, const char *sql) {
    return sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

static int user_version(db *d) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ALTER TABLE table ADD COLUMN col, when the table exists without it. 0 or -1. */
static int add_column(db *d, const char *table, const char *col, const char *type) {
    char sql[160];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT count(*), sum(name = '%s') FROM pragma_table_info('%s')", col, table);
    if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int absent = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0 && sqlite3_column_int(st, 1) == 0;
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, col, type);
    return absent && exec(d, sql) != SQLITE_OK ? -1 : 0;
}

static hx_status migrate(db *d, char *err, size_t errlen) {
    if (exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return sql_err(d, "begin", err, errlen);
    int v = user_version(d);
    if (v > DB_SCHEMA_VERSION) {
        exec(d, "ROLLBACK");
        return hx_error(HX_ERR_FORMAT, err, errlen,
                        "database schema version %d is newer than this embsweep (%d): update embsweep", v,
                        DB_SCHEMA_VERSION);
    }
    if (v == 1 && exec(d, "ALTER TABLE rss_samples ADD COLUMN hwm INTEGER") != SQLITE_OK) goto fail;
    static const char *const v4_cols[][2] = {
        {"slurm_job", "TEXT"}, {"slurm_task", "INTEGER"}, {"node", "TEXT"}, {"origin", "TEXT"}};
    for (int i = 0; v >= 1 && v < 4 && i < 4; i++)
        if (add_column(d, "invocations", v4_cols[i][0], v4_cols[i][1]) != 0) goto fail;
    if (v < DB_SCHEMA_VERSION) {
        if (exec(d, k_schema_sql) != SQLITE_OK) goto fail;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
        if (exec(d, sql) != SQLITE_OK) goto fail;
    }
    if (exec(d, "COMMIT") != SQLITE_OK) goto fail;
    return HX_OK;
fail:;
    hx_status rc = sql_err(d, "migrating the schema", err, errlen);
    exec(d, "ROLLBACK");
    return rc;
}

/* A damaged page or index is found at open, before anything is written over it. */
static hx_status quick_check(db *d, const char *path, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
        return sql_err(d, path, err, errlen);
    hx_status rc = HX_OK;
    int r = sqlite3_step(st);
    const char *res = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (r != SQLITE_ROW) rc = sql_err(d, path, err, errlen);
    else if (!res || strcmp(res, "ok"))
        rc = hx_error(HX_ERR_FORMAT, err, errlen,
                      "%s is damaged (SQLite quick_check: %.200s); copy it aside and recover it with "
                      "`sqlite3 %s .recover`", path, res ? res : "?", path);
    sqlite3_finalize(st);
    return rc;
}

/* One writer per database: an exclusive flock on <path>.writer, held for the
 * life of the handle and released by the kernel however the process ends (so a
 * writer killed with -9 never blocks the next). The holder writes its pid,
 * host and start time into the file for the refusal message. */
static hx_status writer_lock(db *d, const char *path, char *err, size_t errlen) {
    char lp[4096];
    if (snprintf(lp, sizeof lp, "%s.writer", path) >= (int)sizeof lp)
        return hx_error(HX_ERR_PARAM, err, errlen, "database path too long: %s", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return hx_error(HX_ERR_IO, err, errlen, "cannot open %s: %s", lp, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char holder[256] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        close(fd);
        if (e != EWOULDBLOCK) return hx_error(HX_ERR_IO, err, errlen, "cannot lock %s: %s", lp, strerror(e));
        return hx_error(HX_ERR_BUSY, err, errlen,
                        "%s is in use by another sweep (%s); wait for it to end, or use another --db", path,
                        holder[0] ? holder : "holder unknown");
    }
    char host[128] = "?", when[64] = "?", line[320];
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %z", &tm);
    int len = snprintf(line, sizeof line, "pid %d on %s since %s\n", (int)getpid(), host, when);
    int noted = ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)len, 0) == len;
    (void)noted; /* without the note the lock holds all the same */
    d->writer_fd = fd;
    return HX_OK;
}

void db_close(db *d) {
    if (!d) return;
    sqlite3_stmt *all[] = {d->finish, d->started, d->status, d->del_loss, d->del_rss, d->del_phase,
                           d->ins_loss, d->ins_rss, d->ins_phase, d->del_scores, d->ins_scores};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    sqlite3_close(d->h);
    if (d->writer_fd >= 0) close(d->writer_fd); /* releases the lock */
    hx_free(d);
}

/* Open read-only, on read-only media too: a WAL database whose -shm cannot be
 * created there is opened again as immutable. */
static int open_read(const char *path, sqlite3 **h) {
    int rc = sqlite3_open_v2(path, h, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(*h, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL);
    if (rc != SQLITE_CANTOPEN && rc != SQLITE_READONLY && (rc & 0xff) != SQLITE_CANTOPEN) return rc;
    sqlite3_close(*h);
    char uri[8192];
    size_t n = (size_t)snprintf(uri, sizeof uri, "file:");
    for (const char *p = path; *p && n + 4 < sizeof uri; p++) /* escape what a URI path cannot hold */
        n += (size_t)(strchr("?#%", *p) ? snprintf(uri + n, sizeof uri - n, "%%%02X", (unsigned char)*p)
                                       : snprintf(uri + n, sizeof uri - n, "%c", *p));
    snprintf(uri + n, sizeof uri - n, "?immutable=1");
    return sqlite3_open_v2(uri, h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

hx_status db_open_read(const char *path, sqlite3 **out, char *err, size_t errlen) {
    *out = NULL;
    if (!path[0] || access(path, F_OK) != 0)
        return hx_error(HX_ERR_IO, err, errlen, "no database at '%s' (run `embsweep run FILE --db %s` first)", path,
                        path);
    sqlite3 *h = NULL;
    hx_status st = HX_OK;
    if (open_read(path, &h) != SQLITE_OK) {
        st = hx_error(HX_ERR_IO, err, errlen, "cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "?");
        goto fail;
    }
    sqlite3_busy_timeout(h, 10000);
    sqlite3_stmt *q = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (v > DB_SCHEMA_VERSION) {
        st = hx_error(HX_ERR_FORMAT, err, errlen, "%s has schema version %d, newer than this embsweep (%d)", path,
                      v, DB_SCHEMA_VERSION);
        goto fail;
    }
    if (sqlite3_exec(h, "SELECT 1 FROM runs LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
        st = hx_error(HX_ERR_FORMAT, err, errlen, "%s is not an embsweep results database (%s)", path,
                      sqlite3_errmsg(h));
        goto fail;
    }
    *out = h;
    return HX_OK;
fail:
    sqlite3_close(h);
    return st;
}

hx_status db_open(const char *path, db **out, char *err, size_t errlen) {
    *out = NULL;
    /* SQLite takes "" (and ":memory:") as a private temporary database: every
     * result would be thrown away at exit. */
    if (!path[0] || !strcmp(path, ":memory:") || !strncmp(path, "file:", 5))
        return hx_error(HX_ERR_PARAM, err, errlen, "the database path '%s' is not a file name (expected e.g. %s)",
                        path, "results/results.db");
    db *d = hx_calloc(1, sizeof *d);
    if (!d) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    d->writer_fd = -1;
    hx_status rc = writer_lock(d, path, err, errlen);
    if (rc != HX_OK) goto fail;
    if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, db_vfs()) != SQLITE_OK) {
        rc = hx_error(HX_ERR_IO, err, errlen, "cannot open %s: %s", path, d->h ? sqlite3_errmsg(d->h) : "?");
        goto fail;
    }
    sqlite3_busy_timeout(d->h, 10000);
    if (exec(d, "PRAGMA journal_mode=WAL") != SQLITE_OK || exec(d, "PRAGMA synchronous=NORMAL") != SQLITE_OK ||
        exec(d, "PRAGMA foreign_keys=OFF") != SQLITE_OK) {
        rc = sql_err(d, path, err, errlen);
        goto fail;
    }
    rc = migrate(d, err, errlen);
    if (rc != HX_OK) goto fail;
    rc = quick_check(d, path, err, errlen);
    if (rc != HX_OK) goto fail;
    int bad = 0;
    bad |= prep(d, &d->status, "SELECT status FROM runs WHERE key = ?1");
    bad |= prep(d, &d->started,
                "UPDATE runs SET status = 'running', attempts = attempts + 1, started_at = ?2, "
                "invocation = ?3, finished_at = NULL WHERE key = ?1");
    bad |= prep(d, &d->finish,
                "UPDATE runs SET status=?2, reason=?3, invocation=?4, ratio_achieved=?5, knobs=COALESCE(?6, knobs),"
                " test_auc=?7, test_logloss=?8, test_acc=?9, val_auc=?10, val_logloss=?11, bayes_auc=?12,"
                " bayes_logloss=?13, best_epoch=?14, bytes_infer=?15, bytes_infer_params=?16,"
                " bytes_infer_index=?17, index_desc=?18, bytes_train=?19, bytes_train_params=?20,"
                " bytes_train_optim=?21, bytes_train_other=?22, bytes_dense=?23, peak_rss_bytes=?24,"
                " peak_rss_load=?25, peak_rss_train=?26, peak_rss_eval=?27, rss_anon_peak=?28,"
                " rss_file_peak=?29, train_samples_per_s=?30, infer_samples_per_s=?31, wall_s=?32, cpu_s=?33,"
                " train_s=?34, eval_s=?35, load_s=?36, steps=?37, final_train_loss=?38, blas_threads=?39,"
                " exit_code=?40, signal=?41, stderr_tail=?42, started_at=?43, finished_at=?44 WHERE key=?1");
    bad |= prep(d, &d->del_loss, "DELETE FROM loss_curve WHERE key = ?1");
    bad |= prep(d, &d->del_rss, "DELETE FROM rss_samples WHERE key = ?1");
    bad |= prep(d, &d->del_phase, "DELETE FROM run_phases WHERE key = ?1");
    bad |= prep(d, &d->ins_loss, "INSERT OR REPLACE INTO loss_curve(key, step, epoch, train_loss) VALUES (?1,?2,?3,?4)");
    bad |= prep(d, &d->ins_rss,
                "INSERT INTO rss_samples(key, t_s, phase, rss, rss_anon, rss_file, hwm) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    bad |= prep(d, &d->ins_phase,
                "INSERT OR REPLACE INTO run_phases(key, phase, peak_hwm, peak_anon, peak_file, hwm_reset, seconds)"
                " VALUES (?1,?2,?3,?4,?5,?6,?7)");
    bad |= prep(d, &d->del_scores, "DELETE FROM run_scores WHERE key = ?1");
    bad |= prep(d, &d->ins_scores,
                "INSERT INTO run_scores(key, n, format, logits, labels) VALUES (?1, ?2, '" SCORES_FORMAT "', ?3, ?4)");
    if (bad) {
        rc = sql_err(d, "preparing statements", err, errlen);
        goto fail;
    }
    *out = d;
    return HX_OK;
fail:
    db_close(d);
    return rc;
}

/* ---- binding helpers: NULL for non-finite doubles and unknown values ---- */

static void bind_d(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}
static void bind_u(sqlite3_stmt *st, int i, uint64_t v, int valid) {
    if (valid) sqlite3_bind_int64(st, i, (sqlite3_int64)v);
    else sqlite3_bind_null(st, i);
}
static void bind_t(sqlite3_stmt *st, int i, const char *s) {
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}
static void bind_time(sqlite3_stmt *st, int i, double t) {
    char b[40];
    if (t <= 0) {
        sqlite3_bind_null(st, i);
        return;
    }
    db_iso_time(t, b, sizeof b);
    sqlite3_bind_text(st, i, b, -1, SQLITE_TRANSIENT);
}

static int step_done(sqlite3_stmt *st) {
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r == SQLITE_DONE ? 0 : -1;
}

hx_status db_run_status(db *d, const char *key, char *status, size_t n) {
    status[0] = 0;
    sqlite3_bind_text(d->status, 1, key, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(d->status);
    if (r == SQLITE_ROW) snprintf(status, n, "%s", (const char *)sqlite3_column_text(d->status, 0));
    sqlite3_reset(d->status);
    sqlite3_clear_bindings(d->status);
    return (r == SQLITE_ROW || r == SQLITE_DONE) ? HX_OK : HX_ERR_IO;
}

hx_status db_run_started(db *d, const char *key, int64_t invocation, double started) {
    sqlite3_bind_text(d->started, 1, key, -1, SQLITE_TRANSIENT);
    bind_time(d->started, 2, started);
    sqlite3_bind_int64(d->started, 3, invocation);
    return step_done(d->started) ? HX_ERR_IO : HX_OK;
}

/* The statements that record a sweep (db_sweep_prepare). */
typedef struct sweep_stmts {
    sqlite3_stmt *sweep, *ds, *run, *upd, *link, *skip;
} sweep_stmts;

/* Nonzero when any statement failed to prepare. */
static int sweep_stmts_prepare(db *d, sweep_stmts *q) {
    int bad = 0;
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT INTO sweeps(name, file, yaml, created_at, updated_at) VALUES (?1,?2,?3,?4,?4) "
                              "ON CONFLICT(name) DO UPDATE SET file=?2, yaml=?3, updated_at=?4",
                              -1, &q->sweep, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT OR REPLACE INTO datasets(id, name, kind, recipe, rows_train, rows_val, rows_test,"
                              " n_dense, n_fields, cardinalities, pos_rate_train, pos_rate_test, bayes_auc,"
                              " bayes_logloss) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                              -1, &q->ds, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT OR IGNORE INTO runs(key, sweep, status, method, dataset, dataset_id, dim,"
                              " ratio_requested, seed, params, knobs, config) VALUES (?1,?2,'pending',?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                              -1, &q->run, NULL);
    bad |= sqlite3_prepare_v2(d->h, "UPDATE runs SET sweep = ?2, dataset_id = COALESCE(?3, dataset_id) WHERE key = ?1",
                              -1, &q->upd, NULL);
    bad |= sqlite3_prepare_v2(d->h, "INSERT OR IGNORE INTO sweep_runs(sweep, key) VALUES (?1, ?2)", -1, &q->link, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "UPDATE runs SET status = 'skipped', reason = ?2 WHERE key = ?1 AND status <> 'ok'",
                              -1, &q->skip, NULL);
    return bad;
}

static void sweep_stmts_free(sweep_stmts *q) {
    sqlite3_finalize(q->sweep), sqlite3_finalize(q->ds), sqlite3_finalize(q->run);
    sqlite3_finalize(q->upd), sqlite3_finalize(q->link), sqlite3_finalize(q->skip);
}

/* A datasets row per loaded dataset of the sweep. 0 or -1. */
static int record_datasets(sqlite3_stmt *ds, const cfg_sweep *sw) {
    for (int i = 0; i < sw->n_datasets; i++) {
        const cfg_dataset *x = &sw->datasets[i];
        if (!x->loaded) continue;
        char cards[4096];
        size_t u = 0;
        u += (size_t)snprintf(cards, sizeof cards, "[");
        for (int f = 0; f < x->n_fields && u + 24 < sizeof cards; f++)
            u += (size_t)snprintf(cards + u, sizeof cards - u, "%s%lld", f ? "," : "", (long long)x->card[f]);
        snprintf(cards + u, sizeof cards - u, "]");
        bind_t(ds, 1, x->id);
        bind_t(ds, 2, x->spec.name);
        bind_t(ds, 3, x->spec.kind);
        bind_t(ds, 4, x->recipe);
        sqlite3_bind_int64(ds, 5, x->n_train);
        sqlite3_bind_int64(ds, 6, x->n_val);
        sqlite3_bind_int64(ds, 7, x->n_test);
        sqlite3_bind_int(ds, 8, x->n_dense);
        sqlite3_bind_int(ds, 9, x->n_fields);
        bind_t(ds, 10, cards);
        bind_d(ds, 11, x->pos_rate_train);
        bind_d(ds, 12, x->pos_rate_test);
        bind_d(ds, 13, x->bayes_auc);
        bind_d(ds, 14, x->bayes_logloss);
        if (step_done(ds)) return -1;
    }
    return 0;
}

/* Per cell: a pending runs row (an existing row keeps its status and results),
 * the sweep that last scheduled it, its sweep_runs link, and the skip reason of
 * an unreachable cell. 0 or -1. */
static int record_cells(const sweep_stmts *q, const cfg_sweep *sw) {
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        const cfg_dataset *x = &sw->datasets[c->dataset];
        const char *dsid = x->loaded ? x->id : NULL;
        bind_t(q->run, 1, c->key);
        bind_t(q->run, 2, sw->name);
        bind_t(q->run, 3, c->rc.method->name);
        bind_t(q->run, 4, x->spec.name);
        bind_t(q->run, 5, dsid);
        sqlite3_bind_int(q->run, 6, c->rc.dim);
        sqlite3_bind_double(q->run, 7, c->rc.ratio);
        sqlite3_bind_int64(q->run, 8, (sqlite3_int64)c->rc.seed);
        bind_t(q->run, 9, c->params);
        bind_t(q->run, 10, c->knobs[0] ? c->knobs : NULL);
        bind_t(q->run, 11, c->json);
        if (step_done(q->run)) return -1;
        bind_t(q->upd, 1, c->key);
        bind_t(q->upd, 2, sw->name);
        bind_t(q->upd, 3, dsid);
        if (step_done(q->upd)) return -1;
        bind_t(q->link, 1, sw->name);
        bind_t(q->link, 2, c->key);
        if (step_done(q->link)) return -1;
        if (c->skipped) {
            bind_t(q->skip, 1, c->key);
            bind_t(q->skip, 2, c->reason);
            if (step_done(q->skip)) return -1;
        }
    }
    return 0;
}

hx_status db_sweep_prepare(db *d, const cfg_sweep *sw, char *err, size_t errlen) {
    sweep_stmts q = {0};
    char now[40];
    db_iso_time(db_wall_now(), now, sizeof now);
    if (exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return sql_err(d, "begin", err, errlen);
    if (sweep_stmts_prepare(d, &q)) goto fail;
    sqlite3_bind_text(q.sweep, 1, sw->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 2, sw->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 3, sw->yaml, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 4, now, -1, SQLITE_STATIC);
    if (step_done(q.sweep) || record_datasets(q.ds, sw) || record_cells(&q, sw)) goto fail;
    sweep_stmts_free(&q);
    if (exec(d, "COMMIT") != SQLITE_OK) return sql_err(d, "commit", err, errlen);
    return HX_OK;
fail:;
    hx_status rc = sql_err(d, "recording the sweep", err, errlen);
    sweep_stmts_free(&q);
    exec(d, "ROLLBACK");
    return rc;
}

hx_status db_invocation_start(db *d, const char *sweep, const char *argv, int jobs, int threads,
                              const prov *p, int64_t *id, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h,
                           "INSERT INTO invocations(sweep, started_at, argv, git_commit, git_dirty, compiler, cflags,"
                           " blas, cpu_model, cores, kernel, hostname, jobs, threads_per_job, status, slurm_job,"
                           " slurm_task, node) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,'running',"
                           "?15,?16,?17)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(d, "invocation", err, errlen);
    bind_t(st, 1, sweep);
    bind_time(st, 2, db_wall_now());
    bind_t(st, 3, argv);
    bind_t(st, 4, p->git_commit[0] ? p->git_commit : NULL);
    if (p->git_dirty >= 0) sqlite3_bind_int(st, 5, p->git_dirty);
    bind_t(st, 6, p->compiler);
    bind_t(st, 7, p->cflags);
    bind_t(st, 8, p->blas);
    bind_t(st, 9, p->cpu_model);
    sqlite3_bind_int(st, 10, p->cores);
    bind_t(st, 11, p->kernel);
    bind_t(st, 12, p->hostname);
    sqlite3_bind_int(st, 13, jobs);
    sqlite3_bind_int(st, 14, threads);
    bind_t(st, 15, p->slurm_job[0] ? p->slurm_job : NULL);
    if (p->slurm_task >= 0) sqlite3_bind_int(st, 16, p->slurm_task);
    bind_t(st, 17, p->node[0] ? p->node : NULL);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return sql_err(d, "invocation", err, errlen);
    *id = sqlite3_last_insert_rowid(d->h);
    return HX_OK;
}

hx_status db_invocation_finish(db *d, int64_t id, const char *status) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h, "UPDATE invocations SET finished_at = ?2, status = ?3 WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return HX_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    bind_time(st, 2, db_wall_now());
    bind_t(st, 3, status);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? HX_OK : HX_ERR_IO;
}

/* The result columns of d->finish (?5..?23, ?30, ?31, ?33..?38), bound only for
 * a run that has a result; the others stay NULL. */
static void bind_run_result(sqlite3_stmt *st, const run_result *x) {
    bind_d(st, 5, x->ratio_achieved);
    bind_t(st, 6, x->knobs[0] ? x->knobs : NULL);
    bind_d(st, 7, x->test_auc), bind_d(st, 8, x->test_logloss), bind_d(st, 9, x->test_acc);
    bind_d(st, 10, x->val_auc), bind_d(st, 11, x->val_logloss);
    bind_d(st, 12, x->bayes_auc), bind_d(st, 13, x->bayes_logloss);
    sqlite3_bind_int(st, 14, x->best_epoch);
    bind_u(st, 15, x->bytes_infer, 1);
    bind_u(st, 16, x->bytes.infer_params, 1);
    bind_u(st, 17, x->bytes.infer_index, 1);
    bind_t(st, 18, x->bytes.index_desc);
    bind_u(st, 19, x->bytes_train, 1);
    bind_u(st, 20, x->bytes.train_params, 1);
    bind_u(st, 21, x->bytes.train_optim, 1);
    bind_u(st, 22, x->bytes.train_other, 1);
    bind_u(st, 23, x->bytes_dense, 1);
    bind_d(st, 30, x->train_samples_per_s), bind_d(st, 31, x->infer_samples_per_s);
    bind_d(st, 33, x->cpu_s);
    bind_d(st, 34, x->train_s), bind_d(st, 35, x->eval_s), bind_d(st, 36, x->load_s);
    sqlite3_bind_int64(st, 37, x->steps);
    bind_d(st, 38, x->final_train_loss);
}

/* Every column of the run's row in d->finish: status, result, measured memory
 * (the peaks over the phases), how the worker ended. */
static void bind_run_row(sqlite3_stmt *st, const run_record *r) {
    uint64_t peak = 0, anon = 0, file = 0;
    int any_peak = 0;
    for (int p = 0; p < 3; p++)
        if (r->phase[p].seen) {
            any_peak = 1;
            if (r->phase[p].hwm > peak) peak = r->phase[p].hwm;
        }
    for (int p = 0; p < 3; p++) {
        if (r->phase[p].anon > anon) anon = r->phase[p].anon;
        if (r->phase[p].file > file) file = r->phase[p].file;
    }
    bind_t(st, 1, r->key);
    bind_t(st, 2, r->status);
    bind_t(st, 3, r->reason);
    sqlite3_bind_int64(st, 4, r->invocation);
    if (r->has_result) bind_run_result(st, &r->res);
    bind_u(st, 24, peak, any_peak);
    for (int p = 0; p < 3; p++) bind_u(st, 25 + p, r->phase[p].hwm, r->phase[p].seen);
    bind_u(st, 28, anon, anon > 0);
    bind_u(st, 29, file, anon > 0);
    bind_d(st, 32, r->has_result && r->res.wall_s > 0 ? r->res.wall_s : r->finished - r->started);
    sqlite3_bind_int(st, 39, r->blas_threads);
    if (r->exit_code >= 0) sqlite3_bind_int(st, 40, r->exit_code);
    if (r->signal > 0) sqlite3_bind_int(st, 41, r->signal);
    bind_t(st, 42, r->stderr_tail && r->stderr_tail[0] ? r->stderr_tail : NULL);
    bind_time(st, 43, r->started);
    bind_time(st, 44, r->finished);
}

/* The run's test scores, replacing those of an earlier attempt (none when the
 * run kept none). 0 or -1. */
static int write_run_scores(db *d, const run_record *r) {
    bind_t(d->del_scores, 1, r->key);
    if (step_done(d->del_scores)) return -1;
    const scores_buf *sb = r->scores;
    if (!sb) return 0;
    bind_t(d->ins_scores, 1, r->key);
    sqlite3_bind_int64(d->ins_scores, 2, sb->n);
    sqlite3_bind_blob64(d->ins_scores, 3, sb->logits, 4 * (sqlite3_uint64)sb->n, SQLITE_STATIC);
    sqlite3_bind_blob64(d->ins_scores, 4, sb->labels, scores_label_bytes(sb->n), SQLITE_STATIC);
    return step_done(d->ins_scores);
}

/* The run's loss curve, RSS samples and phase peaks, replacing those of an
 * earlier attempt. 0 or -1. */
static int write_run_series(db *d, const run_record *r) {
    sqlite3_stmt *dels[] = {d->del_loss, d->del_rss, d->del_phase};
    for (int i = 0; i < 3; i++) {
        bind_t(dels[i], 1, r->key);
        if (step_done(dels[i])) return -1;
    }
    for (int i = 0; i < r->n_loss; i++) {
        bind_t(d->ins_loss, 1, r->key);
        sqlite3_bind_int64(d->ins_loss, 2, r->loss[i].step);
        bind_d(d->ins_loss, 3, r->loss[i].epoch);
        bind_d(d->ins_loss, 4, r->loss[i].loss);
        if (step_done(d->ins_loss)) return -1;
    }
    for (int i = 0; i < r->n_samples; i++) {
        const rss_sample *s = &r->samples[i];
        bind_t(d->ins_rss, 1, r->key);
        sqlite3_bind_double(d->ins_rss, 2, s->t);
        bind_t(d->ins_rss, 3, db_phase_names[s->phase]);
        bind_u(d->ins_rss, 4, s->rss, 1), bind_u(d->ins_rss, 5, s->anon, 1);
        bind_u(d->ins_rss, 6, s->file, 1), bind_u(d->ins_rss, 7, s->hwm, 1);
        if (step_done(d->ins_rss)) return -1;
    }
    for (int p = 0; p < 3; p++) {
        const phase_peak *pp = &r->phase[p];
        if (!pp->seen) continue;
        bind_t(d->ins_phase, 1, r->key);
        bind_t(d->ins_phase, 2, db_phase_names[p]);
        bind_u(d->ins_phase, 3, pp->hwm, 1), bind_u(d->ins_phase, 4, pp->anon, 1);
        bind_u(d->ins_phase, 5, pp->file, 1);
        sqlite3_bind_int(d->ins_phase, 6, pp->hwm_reset);
        bind_d(d->ins_phase, 7, pp->seconds);
        if (step_done(d->ins_phase)) return -1;
    }
    return 0;
}

hx_status db_run_finish(db *d, const run_record *r, char *err, size_t errlen) {
    if (exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return sql_err(d, "begin", err, errlen);
    bind_run_row(d->finish, r);
    if (step_done(d->finish) || write_run_series(d, r) || write_run_scores(d, r) ||
        exec(d, "COMMIT") != SQLITE_OK) {
        hx_status rc = sql_err(d, "writing a run", err, errlen);
        exec(d, "ROLLBACK");
        return rc;
    }
    return HX_OK;
}
