/* db.c: the SQLite results database. The schema text is compiled in from
 * harness/sweep/schema.sql (the Makefile turns it into build/<mode>/gen/schema_sql.h),
 * so the binary and the documented schema cannot drift apart.
 *
 * Versioning: PRAGMA user_version. 0 (empty file) -> apply the schema; 1 -> add
 * rss_samples.hwm, then apply it; 2 -> apply it (the missing tables appear); 3 ->
 * add the Slurm columns of invocations, then apply it; 4 -> apply it (run_stages
 * appears); 5 = current; newer -> refuse (an older binary must not write a newer database).
 * Concurrency: WAL + busy_timeout; writes in BEGIN IMMEDIATE transactions. The
 * sweep parent is the only writer, readers (plots, status) never block it.
 * The writes themselves are in db_record.c.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "schema_sql.h"

const char *const db_phase_names[3] = {"load", "train", "eval"};

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

hx_status db_sql_err(db *d, const char *what, char *err, size_t errlen) {
    return hx_error(HX_ERR_IO, err, errlen, "sqlite: %s: %s", what, sqlite3_errmsg(d->h));
}

int db_exec(db *d, const char *sql) { return sqlite3_exec(d->h, sql, NULL, NULL, NULL); }

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
    return absent && db_exec(d, sql) != SQLITE_OK ? -1 : 0;
}

static hx_status migrate(db *d, char *err, size_t errlen) {
    if (db_exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return db_sql_err(d, "begin", err, errlen);
    int v = user_version(d);
    if (v > DB_SCHEMA_VERSION) {
        db_exec(d, "ROLLBACK");
        return hx_error(HX_ERR_FORMAT, err, errlen,
                        "database schema version %d is newer than this embsweep (%d): update embsweep", v,
                        DB_SCHEMA_VERSION);
    }
    if (v == 1 && db_exec(d, "ALTER TABLE rss_samples ADD COLUMN hwm INTEGER") != SQLITE_OK) goto fail;
    static const char *const v4_cols[][2] = {
        {"slurm_job", "TEXT"}, {"slurm_task", "INTEGER"}, {"node", "TEXT"}, {"origin", "TEXT"}};
    for (int i = 0; v >= 1 && v < 4 && i < 4; i++)
        if (add_column(d, "invocations", v4_cols[i][0], v4_cols[i][1]) != 0) goto fail;
    if (v < DB_SCHEMA_VERSION) {
        if (db_exec(d, k_schema_sql) != SQLITE_OK) goto fail;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
        if (db_exec(d, sql) != SQLITE_OK) goto fail;
    }
    if (db_exec(d, "COMMIT") != SQLITE_OK) goto fail;
    return HX_OK;
fail:;
    hx_status rc = db_sql_err(d, "migrating the schema", err, errlen);
    db_exec(d, "ROLLBACK");
    return rc;
}

/* A damaged page or index is found at open, before anything is written over it. */
static hx_status quick_check(db *d, const char *path, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
        return db_sql_err(d, path, err, errlen);
    hx_status rc = HX_OK;
    int r = sqlite3_step(st);
    const char *res = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (r != SQLITE_ROW) rc = db_sql_err(d, path, err, errlen);
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
                           d->ins_loss, d->ins_rss, d->ins_phase, d->del_scores, d->ins_scores,
                           d->del_stage, d->ins_stage};
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
    hx_status rc = hx_mkdir_parent(path, err, errlen); /* results/ in a fresh directory */
    if (rc != HX_OK) return rc;
    db *d = hx_calloc(1, sizeof *d);
    if (!d) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    d->writer_fd = -1;
    rc = writer_lock(d, path, err, errlen);
    if (rc != HX_OK) goto fail;
    if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, db_vfs()) != SQLITE_OK) {
        rc = hx_error(HX_ERR_IO, err, errlen, "cannot open %s: %s", path, d->h ? sqlite3_errmsg(d->h) : "?");
        goto fail;
    }
    sqlite3_busy_timeout(d->h, 10000);
    if (db_exec(d, "PRAGMA journal_mode=WAL") != SQLITE_OK || db_exec(d, "PRAGMA synchronous=NORMAL") != SQLITE_OK ||
        db_exec(d, "PRAGMA foreign_keys=OFF") != SQLITE_OK) {
        rc = db_sql_err(d, path, err, errlen);
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
    bad |= prep(d, &d->del_stage, "DELETE FROM run_stages WHERE key = ?1");
    bad |= prep(d, &d->ins_stage, "INSERT OR REPLACE INTO run_stages(key, stage, seconds) VALUES (?1,?2,?3)");
    bad |= prep(d, &d->del_scores, "DELETE FROM run_scores WHERE key = ?1");
    bad |= prep(d, &d->ins_scores,
                "INSERT INTO run_scores(key, n, format, logits, labels) VALUES (?1, ?2, '" SCORES_FORMAT "', ?3, ?4)");
    if (bad) {
        rc = db_sql_err(d, "preparing statements", err, errlen);
        goto fail;
    }
    *out = d;
    return HX_OK;
fail:
    db_close(d);
    return rc;
}
