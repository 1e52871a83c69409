/* merge.c: `embsweep merge`: the array tasks' shards (slurm.h) folded into the
 * results database, and the count of what they hold that is not merged yet
 * (`embsweep status`).
 *
 * Each shard is ATTACHed and merged in one transaction: its sweeps and datasets
 * rows where missing, then every row MERGE_TAKE selects (below) with its loss
 * curve, RSS samples, phase peaks, test scores and sweep links, replacing what
 * the database held for that key, and the invocation that ran it (copied once,
 * found again by its origin '<shard>#<id>'). Runs are keyed by run key, so a
 * run is never duplicated; a row once taken equals the database's, so the next
 * merge takes nothing: merging is idempotent, and a merge killed part-way
 * (SIGKILL, node loss) leaves each shard in whole or not at all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurm.h"

/* The shard rows (s) that replace the database's row (m) of their key: final
 * in the shard, and the database has no result (absent, pending) or one that
 * `run --retry-failed` would rerun (failed ...) or an unfinished run (running,
 * interrupted) from an earlier attempt than the shard's. */
#define MERGE_TAKE                                                                                              \
    "s.status NOT IN ('pending','running') AND (m.key IS NULL OR m.status = 'pending' OR "                   \
    "(m.status IN ('running','interrupted','failed','timeout','oom','crashed','diverged') AND "              \
    "COALESCE(s.started_at, '') > COALESCE(m.started_at, '')))"

/* Child tables of a run: rows of the key replaced by the shard's. */
static const char *const k_children[][2] = {
    {"loss_curve", "key, step, epoch, train_loss"},
    {"rss_samples", "key, t_s, phase, rss, rss_anon, rss_file, hwm"},
    {"run_phases", "key, phase, peak_hwm, peak_anon, peak_file, hwm_reset, seconds"},
    {"run_scores", "key, n, format, logits, labels"},
    {"run_stages", "key, stage, seconds"},
};
enum { N_CHILDREN = sizeof k_children / sizeof k_children[0] };

static hx_status sq_err(sqlite3 *h, const char *what, char *err, size_t errlen) {
    return hx_error(HX_ERR_IO, err, errlen, "sqlite: %s: %s", what, sqlite3_errmsg(h));
}

static int exec1(sqlite3 *h, const char *sql, const char *key) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (key) sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -1;
}

/* The columns of main.table, except `skip1` and `skip2`, comma-separated into buf
 * ("" on error). */
static void columns(sqlite3 *h, const char *table, const char *skip1, const char *skip2, char *buf, size_t n) {
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(%s)", table);
    sqlite3_stmt *st;
    size_t u = 0;
    buf[0] = 0;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 1);
        if (!strcmp(c, skip1) || !strcmp(c, skip2)) continue;
        int w = snprintf(buf + u, n - u, "%s%s", u ? ", " : "", c);
        if (w < 0 || (size_t)w >= n - u) {
            buf[0] = 0;
            break;
        }
        u += (size_t)w;
    }
    sqlite3_finalize(st);
}

/* The database's id of the shard's invocation sid, copied over on first use. */
static int64_t map_invocation(sqlite3 *h, const char *shard, int64_t sid, const char *cols) {
    char origin[1200], sql[4096];
    snprintf(origin, sizeof origin, "%s#%lld", shard, (long long)sid);
    sqlite3_stmt *st;
    int64_t id = -1;
    if (sqlite3_prepare_v2(h, "SELECT id FROM main.invocations WHERE origin = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (id >= 0) return id;
    snprintf(sql, sizeof sql, "INSERT INTO main.invocations(%s, origin) SELECT %s, ?2 FROM s.invocations WHERE id = ?1",
             cols, cols);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, sid);
    sqlite3_bind_text(st, 2, origin, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE && sqlite3_changes(h) == 1 ? sqlite3_last_insert_rowid(h) : -1;
}

/* Test-only (armed like the fault methods, EMBSWEEP_FAULTS=1):
 * EMBSWEEP_FAULT_MERGE_KILL=N kills the merge with SIGKILL before its Nth run,
 * inside that shard's transaction. */
static void merge_fault(void) {
    static long seen;
    const char *on = getenv("EMBSWEEP_FAULTS"), *n = getenv("EMBSWEEP_FAULT_MERGE_KILL");
    if (on && !strcmp(on, "1") && n && ++seen == atol(n)) raise(SIGKILL);
}

/* The attempts of the run in the database once the shard's row is taken: those
 * it held plus the shard's not counted yet (a requeued task's shard is merged
 * again with more); the shard's count is noted for the next merge. -1 on error. */
static int attempts_after(sqlite3 *h, const char *shard, const char *key, int held, int in_shard) {
    sqlite3_stmt *st;
    int prev = 0;
    if (sqlite3_prepare_v2(h, "SELECT attempts FROM main.shard_attempts WHERE shard = ?1 AND key = ?2", -1, &st, NULL))
        return -1;
    sqlite3_bind_text(st, 1, shard, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) prev = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO main.shard_attempts(shard, key, attempts) VALUES (?1, ?2, ?3)",
                           -1, &st, NULL))
        return -1;
    sqlite3_bind_text(st, 1, shard, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, in_shard);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? held + (in_shard > prev ? in_shard - prev : 0) : -1;
}

static int count_of(sqlite3 *h, const char *sql);

/* Copy one run (its row, children and links) from s to main; a child table the
 * shard lacks (has[i] 0: a shard of an older schema) leaves the run without such
 * rows. */
static int take_run(sqlite3 *h, const char *key, int64_t inv, int attempts, const char *runcols,
                    const int has[N_CHILDREN]) {
    char sql[8192];
    merge_fault();
    if (attempts < 0) return -1;
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO main.runs(%s, invocation, attempts) SELECT %s, %lld, %d FROM s.runs WHERE key = ?1",
             runcols, runcols, (long long)inv, attempts);
    if (exec1(h, sql, key)) return -1;
    for (int i = 0; i < N_CHILDREN; i++) {
        snprintf(sql, sizeof sql, "DELETE FROM main.%s WHERE key = ?1", k_children[i][0]);
        if (exec1(h, sql, key)) return -1;
        if (!has[i]) continue;
        snprintf(sql, sizeof sql, "INSERT INTO main.%s(%s) SELECT %s FROM s.%s WHERE key = ?1", k_children[i][0],
                 k_children[i][1], k_children[i][1], k_children[i][0]);
        if (exec1(h, sql, key)) return -1;
    }
    return exec1(h, "INSERT OR IGNORE INTO main.sweep_runs(sweep, key) SELECT sweep, key FROM s.sweep_runs WHERE key = ?1",
                 key);
}

/* Every row MERGE_TAKE selects, inside the open transaction. On failure, why
 * holds SQLite's message (taken before the walk's own statement is finalized,
 * which would clear it). */
static int take_rows(sqlite3 *h, const char *shard, merge_counts *c, char *why, size_t whylen) {
    char runcols[3072], invcols[1024];
    columns(h, "runs", "invocation", "attempts", runcols, sizeof runcols);
    columns(h, "invocations", "id", "origin", invcols, sizeof invcols);
    if (!runcols[0] || !invcols[0]) return -1;
    int has[N_CHILDREN];
    for (int i = 0; i < N_CHILDREN; i++) {
        char q[160];
        snprintf(q, sizeof q, "SELECT count(*) FROM s.sqlite_master WHERE type = 'table' AND name = '%s'",
                 k_children[i][0]);
        has[i] = count_of(h, q) != 0;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h,
                           "SELECT s.key, s.status, s.invocation, COALESCE(m.attempts, 0), s.attempts FROM s.runs s "
                           "LEFT JOIN main.runs m ON m.key = s.key WHERE " MERGE_TAKE " ORDER BY s.key",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int bad = 0;
    while (!bad && sqlite3_step(st) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        int ok = !strcmp((const char *)sqlite3_column_text(st, 1), "ok");
        int64_t inv = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
        if (inv >= 0 && (inv = map_invocation(h, shard, inv, invcols)) < 0) bad = 1;
        else if (take_run(h, key, inv,
                          attempts_after(h, shard, key, sqlite3_column_int(st, 3), sqlite3_column_int(st, 4)),
                          runcols, has))
            bad = 1;
        else ok ? c->ok++ : c->other++;
    }
    if (bad) snprintf(why, whylen, "%s", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return bad ? -1 : 0;
}

/* One integer from a query on the attached shard (-1 on error). */
static int count_of(sqlite3 *h, const char *sql) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int attach(sqlite3 *h, const char *shard) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "ATTACH ?1 AS s", -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, shard, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    /* a shard whose task was killed before it wrote the schema has no runs table */
    if (r == SQLITE_DONE && count_of(h, "SELECT count(*) FROM s.sqlite_master WHERE name = 'runs'") == 1) return 0;
    if (r == SQLITE_DONE) sqlite3_exec(h, "DETACH s", NULL, NULL, NULL);
    return -1;
}

/* The shard's sweep names into c->sweeps (once each). */
static void note_sweeps(sqlite3 *h, merge_counts *c) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT name FROM s.sweeps", -1, &st, NULL) != SQLITE_OK) return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int j = 0;
        while (j < c->n_sweeps && strcmp(c->sweeps[j], name)) j++;
        if (j == c->n_sweeps && j < 8) snprintf(c->sweeps[c->n_sweeps++], sizeof c->sweeps[0], "%s", name);
    }
    sqlite3_finalize(st);
}

static hx_status merge_shard(sqlite3 *h, const char *shard, merge_counts *c, char *err, size_t errlen) {
    if (attach(h, shard) != 0) {
        c->unreadable++;
        fprintf(stderr, "embsweep merge: skipping %s: not a readable shard (%s)\n", shard, sqlite3_errmsg(h));
        return HX_OK;
    }
    c->shards++;
    hx_status rc = HX_OK;
    const int ok0 = c->ok, other0 = c->other, before = ok0 + other0;
    char why[256] = "";
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) rc = sq_err(h, "begin", err, errlen);
    else if (exec1(h, "INSERT OR IGNORE INTO main.sweeps SELECT name, file, yaml, created_at, updated_at FROM s.sweeps",
                   NULL) ||
             exec1(h, "INSERT OR IGNORE INTO main.datasets SELECT * FROM s.datasets", NULL) ||
             take_rows(h, shard, c, why, sizeof why) || sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = why[0] ? hx_error(HX_ERR_IO, err, errlen, "sqlite: %s: %s", shard, why) : sq_err(h, shard, err, errlen);
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
        c->ok = ok0, c->other = other0; /* nothing of this shard went in */
    }
    if (rc == HX_OK) {
        int fin = count_of(h, "SELECT count(*) FROM s.runs WHERE status NOT IN ('pending','running')");
        c->unfinished += count_of(h, "SELECT count(*) FROM s.runs WHERE status IN ('pending','running')");
        c->same += fin - (c->ok + c->other - before);
        if (c->ok + c->other > before) note_sweeps(h, c);
    }
    sqlite3_exec(h, "DETACH s", NULL, NULL, NULL);
    return rc;
}

/* The shard files of one submission directory, sorted, into *out (n of them). */
static int list_shards(const char *sub, char ***out, int *n) {
    char p[1200];
    snprintf(p, sizeof p, "%s/shards", sub);
    struct dirent **ents;
    int m = scandir(p, &ents, NULL, alphasort);
    *out = NULL, *n = 0;
    if (m < 0) return 0;
    char **v = hx_calloc((size_t)m + 1, sizeof *v);
    for (int i = 0; i < m; i++) {
        size_t len = strlen(ents[i]->d_name);
        if (v && len > 3 && !strcmp(ents[i]->d_name + len - 3, ".db") && (v[*n] = hx_malloc(strlen(p) + len + 2)))
            sprintf(v[(*n)++], "%s/%s", p, ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    *out = v;
    return v ? 0 : -1;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) hx_free(v[i]);
    hx_free(v);
}

static hx_status merge_sub(sqlite3 *h, const char *sub, merge_counts *c, char *err, size_t errlen) {
    char **shards;
    int n;
    if (list_shards(sub, &shards, &n) != 0) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = HX_OK;
    for (int i = 0; i < n && rc == HX_OK; i++) rc = merge_shard(h, shards[i], c, err, errlen);
    free_list(shards, n);
    return rc;
}

static int is_sub(const char *dir) {
    char p[1400];
    snprintf(p, sizeof p, "%s/plan.tsv", dir);
    return access(p, F_OK) == 0;
}

hx_status merge_dir(db *d, const char *dir, merge_counts *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    sqlite3 *h = db_handle(d);
    if (is_sub(dir)) return merge_sub(h, dir, c, err, errlen);
    struct dirent **ents;
    int m = scandir(dir, &ents, NULL, alphasort);
    if (m < 0) return hx_error(HX_ERR_PARAM, err, errlen, "cannot read %s: %m", dir);
    hx_status rc = HX_OK;
    int subs = 0;
    for (int i = 0; i < m; i++) {
        char p[1200];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, ents[i]->d_name) >= sizeof p) p[0] = 0;
        if (rc == HX_OK && ents[i]->d_name[0] != '.' && is_sub(p)) {
            subs++;
            rc = merge_sub(h, p, c, err, errlen);
        }
        free(ents[i]);
    }
    free(ents);
    if (rc == HX_OK && !subs)
        rc = hx_error(HX_ERR_PARAM, err, errlen, "%s holds no submission (no plan.tsv in it or its subdirectories)",
                      dir);
    return rc;
}

int merge_pending(sqlite3 *caller, const char *dir, FILE *f, int *unfinished) {
    char **shards;
    int n, total = 0;
    char names[8][16] = {{0}};
    int counts[8] = {0};
    *unfinished = 0;
    /* a connection of its own: the caller's may be inside a statement, where
     * DETACH is refused */
    const char *path = sqlite3_db_filename(caller, "main");
    sqlite3 *h = NULL;
    if (!path || sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return sqlite3_close(h), -1;
    sqlite3_busy_timeout(h, 10000);
    if (list_shards(dir, &shards, &n) != 0) return sqlite3_close(h), -1;
    for (int i = 0; i < n; i++) {
        if (attach(h, shards[i]) != 0) continue;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h,
                               "SELECT s.status, count(*) FROM s.runs s LEFT JOIN main.runs m ON m.key = s.key WHERE "
                               MERGE_TAKE " GROUP BY s.status",
                               -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) {
                const char *name = (const char *)sqlite3_column_text(st, 0);
                int j = 0;
                while (j < 8 && names[j][0] && strcmp(names[j], name)) j++;
                if (j == 8) continue;
                snprintf(names[j], sizeof names[j], "%s", name);
                counts[j] += sqlite3_column_int(st, 1);
                total += sqlite3_column_int(st, 1);
            }
            sqlite3_finalize(st);
        }
        int u = count_of(h, "SELECT count(*) FROM s.runs WHERE status = 'running'");
        if (u > 0) *unfinished += u;
        sqlite3_exec(h, "DETACH s", NULL, NULL, NULL);
    }
    free_list(shards, n);
    sqlite3_close(h);
    for (int j = 0; j < 8 && names[j][0]; j++) fprintf(f, " %s=%d", names[j], counts[j]);
    return total;
}
