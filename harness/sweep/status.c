/* status.c: the work of `embsweep status` (sweep_status): per sweep of a results
 * database, the runs in each status, the verdicts against `full` that the last
 * run stored (the `verdicts` table), the last invocation, and per Slurm
 * submission what its shards hold that is not merged yet and (when squeue is
 * there) its tasks queued and running. Read-only: the database is opened with
 * db_open_read. */
#include <sqlite3.h>
#include <stdio.h>

#include "db.h"
#include "slurm.h"
#include "sweep.h"

typedef struct status_stmts { sqlite3_stmt *sweeps, *counts, *verdicts, *inv, *subs; } status_stmts;

static const char k_counts_sql[] =
    "SELECT r.status, COUNT(*) FROM runs r JOIN sweep_runs s ON s.key = r.key "
    "WHERE s.sweep = ?1 GROUP BY r.status ORDER BY r.status";
/* The verdicts by kind, in a fixed order; none before schema version 3. */
static const char k_verdicts_sql[] =
    "SELECT CASE WHEN verdict LIKE 'not resolved%' THEN 'not resolved' WHEN verdict LIKE 'equivalent%' "
    "THEN 'equivalent' WHEN verdict LIKE 'no baseline%' THEN 'no baseline' ELSE verdict END AS v, COUNT(*) "
    "FROM verdicts WHERE sweep = ?1 AND verdict <> 'baseline' GROUP BY v "
    "ORDER BY instr('better worse equivalent not resolved no baseline', v)";
static const char k_inv_sql[] =
    "SELECT id, started_at, COALESCE(finished_at, '-'), COALESCE(status, '-'), "
    "COALESCE(substr(git_commit, 1, 12), '-'), git_dirty, jobs, threads_per_job "
    "FROM invocations WHERE sweep = ?1 ORDER BY id DESC LIMIT 1";

static int has_table(sqlite3 *h, const char *name) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st, NULL))
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

static void print_counts(sqlite3_stmt *st, const char *name, FILE *f) {
    int total = 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    fputs("  runs:", f);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(f, " %s=%d", sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
        total += sqlite3_column_int(st, 1);
    }
    fprintf(f, " (total %d)\n", total);
    sqlite3_reset(st);
}

static void print_verdicts(sqlite3_stmt *st, const char *name, FILE *f) {
    if (!st) return;
    int n = 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s %s=%d", n++ ? "," : "  verdicts against full (embsweep compare):", sqlite3_column_text(st, 0),
                sqlite3_column_int(st, 1));
    if (n) fputc('\n', f);
    sqlite3_reset(st);
}

static void print_invocation(sqlite3_stmt *st, const char *name, FILE *f) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "  last invocation #%lld: %s .. %s, %s, commit %s%s, jobs %d x %d threads\n",
                (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                sqlite3_column_text(st, 3), sqlite3_column_text(st, 4), sqlite3_column_int(st, 5) ? " (dirty)" : "",
                sqlite3_column_int(st, 6), sqlite3_column_int(st, 7));
    sqlite3_reset(st);
}

/* Each Slurm submission of the sweep: its jobs, the shards' unmerged results,
 * the queue. */
static void print_submissions(sqlite3 *h, sqlite3_stmt *st, const char *name, FILE *f) {
    if (!st) return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *dir = (const char *)sqlite3_column_text(st, 0);
        const char *array = (const char *)sqlite3_column_text(st, 1), *merge = (const char *)sqlite3_column_text(st, 2);
        fprintf(f, "  slurm submission %s: %d cells in %d tasks, submitted %s, job array %s, merge job %s\n", dir,
                sqlite3_column_int(st, 3), sqlite3_column_int(st, 4), sqlite3_column_text(st, 5),
                array ? array : "- (not submitted)", merge ? merge : "-");
        int running = 0;
        fputs("    in shards, not merged yet:", f);
        int n = merge_pending(h, dir, f, &running);
        fprintf(f, "%s (total %d); running now in shards: %d\n", n > 0 ? "" : " none", n > 0 ? n : 0, running);
        int pend, run;
        char jobs[160];
        snprintf(jobs, sizeof jobs, "%s%s%s", array ? array : "", merge ? "," : "", merge ? merge : "");
        if (!array) continue;
        if (slurm_squeue(jobs, &pend, &run) == 0) fprintf(f, "    squeue: %d queued, %d running\n", pend, run);
        else fputs("    squeue: not available here\n", f);
    }
    sqlite3_reset(st);
}

static void print_sweeps(const status_stmts *q, sqlite3 *h, const char *db_path, FILE *f) {
    int n = 0;
    while (sqlite3_step(q->sweeps) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q->sweeps, 0);
        const char *file = (const char *)sqlite3_column_text(q->sweeps, 1);
        fprintf(f, "sweep %s (%s)\n", name, file ? file : "?");
        print_counts(q->counts, name, f);
        print_verdicts(q->verdicts, name, f);
        print_invocation(q->inv, name, f);
        print_submissions(h, q->subs, name, f);
        n++;
    }
    if (!n) fprintf(f, "no sweeps in %s\n", db_path);
}

hx_status sweep_status(const char *db_path, FILE *f, char *err, size_t errlen) {
    sqlite3 *h;
    hx_status rc = db_open_read(db_path, &h, err, errlen);
    if (rc != HX_OK) return rc;
    status_stmts q = {0};
    if (sqlite3_prepare_v2(h, "SELECT name, file FROM sweeps ORDER BY updated_at", -1, &q.sweeps, NULL) ||
        sqlite3_prepare_v2(h, k_counts_sql, -1, &q.counts, NULL) ||
        (has_table(h, "verdicts") && sqlite3_prepare_v2(h, k_verdicts_sql, -1, &q.verdicts, NULL)) ||
        sqlite3_prepare_v2(h, k_inv_sql, -1, &q.inv, NULL) ||
        (has_table(h, "slurm_submissions") &&
         sqlite3_prepare_v2(h, "SELECT dir, array_job, merge_job, cells, tasks, submitted_at FROM slurm_submissions "
                               "WHERE sweep = ?1 ORDER BY dir", -1, &q.subs, NULL)))
        rc = hx_error(HX_ERR_IO, err, errlen, "%s: %s", db_path, sqlite3_errmsg(h));
    else print_sweeps(&q, h, db_path, f);
    sqlite3_finalize(q.sweeps), sqlite3_finalize(q.counts), sqlite3_finalize(q.verdicts), sqlite3_finalize(q.inv);
    sqlite3_finalize(q.subs);
    sqlite3_close(h);
    return rc;
}
