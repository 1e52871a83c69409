/* slurm_cli.c: `embsweep submit FILE --slurm`, `embsweep task DIR` (one array
 * task, started by the sbatch script) and `embsweep merge DIR`. The layout of a
 * submission and the merge rules: harness/sweep/slurm.h.
 *
 * submit: check that sbatch is there (exit 2, nothing written, when it is not),
 * validate and expand the file exactly as `run` (exit 2 on a bad file), fold in
 * the shards of earlier submissions, pick the runs `run` would run, write the
 * plan and scripts, and submit the array and the merge job afterany it.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "harness/report/verdict.h"
#include "harness/sweep/config.h"
#include "harness/sweep/db.h"
#include "harness/sweep/slurm.h"
#include "harness/sweep/sweep.h"

static void submit_usage(FILE *f) {
    fprintf(f,
            "usage: embsweep submit FILE --slurm [--db PATH] [--workdir DIR] [--dry-run] [--no-sbatch]\n"
            "                       [--retry-failed] [--partition P] [--account A] [--time T] [--mem M]\n"
            "                       [--cpus-per-task N] [--cells-per-task N | --minutes-per-task M]\n"
            "                       [--max-running K] [--requeue] [--sbatch LINE]...\n"
            "  Runs the cells `embsweep run FILE` would run as one Slurm job array, --array=0-N%%K, each\n"
            "  task running up to --cells-per-task cells into its own result shard, then a merge job\n"
            "  (afterany the array) folds the shards into the database. Submitting again submits only\n"
            "  what is missing (and failed runs with --retry-failed). The binary, the sweep's working\n"
            "  directory, the dataset cache and DIR must be on a filesystem every node sees.\n"
            "  --slurm             the scheduler (the only one supported)\n"
            "  --db PATH           results database (default results/results.db)\n"
            "  --workdir DIR       where submissions go (default results/slurm/<sweep name>): DIR/001, ...\n"
            "  --dry-run           print the tasks and the sbatch script; write and submit nothing\n"
            "  --no-sbatch         write the submission but do not call sbatch (prints the commands)\n"
            "  --retry-failed      also submit runs that failed, timed out, ran out of memory, crashed\n"
            "  --sbatch LINE       one more `#SBATCH LINE` (repeatable; added to the file's slurm.sbatch)\n"
            "  the file's slurm: section, each overridden by its flag (underscores as dashes):\n");
    for (int i = 0; i < cfg_slurm_nkeys; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", cfg_slurm_keys[i].name);
        for (char *p = flag; *p; p++)
            if (*p == '_') *p = '-';
        fprintf(f, "  %-19s %s (default %s)\n", flag, cfg_slurm_keys[i].help,
                cfg_slurm_keys[i].def ? cfg_slurm_keys[i].def : "the cluster's");
    }
}

typedef struct submit_args {
    const char *file, *db_path, *workdir;
    int         slurm, dry, no_sbatch, retry_failed;
    int         n_set;
    const char *set_key[32], *set_val[32]; /* slurm: keys from flags, applied after loading */
    int         n_extra;
    const char *extra[CFG_SLURM_EXTRA];
} submit_args;

/* A --flag of the slurm: table: its row, or NULL. */
static const key_def *slurm_flag(const char *s) {
    if (strncmp(s, "--", 2)) return NULL;
    char name[64];
    snprintf(name, sizeof name, "%s", s + 2);
    for (char *p = name; *p; p++)
        if (*p == '-') *p = '_';
    return cfg_slurm_key(name);
}

static int submit_parse(int argc, char **argv, submit_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const key_def *k = slurm_flag(s);
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) return submit_usage(stdout), -1;
        else if (!strcmp(s, "--slurm")) a->slurm = 1;
        else if (!strcmp(s, "--dry-run")) a->dry = 1;
        else if (!strcmp(s, "--no-sbatch")) a->no_sbatch = 1;
        else if (!strcmp(s, "--retry-failed")) a->retry_failed = 1;
        else if (!strcmp(s, "--db") && i + 1 < argc) a->db_path = argv[++i];
        else if (!strcmp(s, "--workdir") && i + 1 < argc) a->workdir = argv[++i];
        else if (!strcmp(s, "--sbatch") && i + 1 < argc && a->n_extra < CFG_SLURM_EXTRA) a->extra[a->n_extra++] = argv[++i];
        else if (k && k->kind == KEY_BOOL && a->n_set < 32) a->set_key[a->n_set] = k->name, a->set_val[a->n_set++] = "true";
        else if (k && i + 1 < argc && a->n_set < 32) a->set_key[a->n_set] = k->name, a->set_val[a->n_set++] = argv[++i];
        else if (s[0] != '-' && !a->file) a->file = s;
        else {
            fprintf(stderr, "embsweep submit: unexpected argument '%s'\n", s);
            return submit_usage(stderr), 2;
        }
    }
    if (!a->file || !a->slurm) {
        if (a->file) fprintf(stderr, "embsweep submit: name the scheduler: --slurm\n");
        return submit_usage(stderr), 2;
    }
    return 0;
}

/* The flags over the file's slurm: section. 0, or 2 after an error. */
static int apply_flags(const submit_args *a, cfg_slurm *sl) {
    for (int i = 0; i < a->n_set; i++) {
        const key_def *k = cfg_slurm_key(a->set_key[i]);
        if (key_parse(k, a->set_val[i], sl) != 0) {
            char ex[256];
            key_expect(k, a->set_val[i], ex, sizeof ex);
            char flag[64];
            snprintf(flag, sizeof flag, "%s", a->set_key[i]);
            for (char *p = flag; *p; p++)
                if (*p == '_') *p = '-';
            fprintf(stderr, "embsweep submit: --%s: expected %s\n", flag, ex);
            return 2;
        }
    }
    for (int i = 0; i < a->n_extra; i++) {
        if (sl->n_extra == CFG_SLURM_EXTRA || strlen(a->extra[i]) >= sizeof sl->extra[0]) {
            fprintf(stderr, "embsweep submit: --sbatch '%s': too long or too many lines\n", a->extra[i]);
            return 2;
        }
        snprintf(sl->extra[sl->n_extra++], sizeof sl->extra[0], "%s", a->extra[i]);
    }
    return 0;
}

/* path made absolute against the current directory. */
static void absolute(const char *path, char *out, size_t n) {
    char cwd[PATH_MAX] = ".";
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd)) snprintf(out, n, "%s", path);
    else if (!strcmp(path, ".")) snprintf(out, n, "%s", cwd);
    else snprintf(out, n, "%s/%s", cwd, path);
}

/* The cells to submit: those `run` would run, by their status in h (NULL: none
 * known). Returns the count, indexes in todo. */
static int pick_cells(const cfg_sweep *sw, sqlite3 *h, int retry_failed, int *todo) {
    sweep_opts o = {.retry_failed = retry_failed};
    sqlite3_stmt *st = NULL;
    if (h && sqlite3_prepare_v2(h, "SELECT status FROM runs WHERE key = ?1", -1, &st, NULL) != SQLITE_OK) st = NULL;
    int n = 0;
    for (int i = 0; i < sw->n_cells; i++) {
        if (sw->cells[i].skipped) continue;
        char status[32] = "";
        if (st) {
            sqlite3_bind_text(st, 1, sw->cells[i].key, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) snprintf(status, sizeof status, "%s", sqlite3_column_text(st, 0));
            sqlite3_reset(st);
        }
        if (sweep_should_run(status, &o)) todo[n++] = i;
    }
    sqlite3_finalize(st);
    return n;
}

/* With minutes_per_task: cells_per_task from the median wall time of the
 * sweep's ok runs in h (else the sweep's timeout). 0, or 2 when there is no
 * estimate. */
static int cells_per_minutes(cfg_sweep *sw, sqlite3 *h) {
    cfg_slurm *sl = &sw->slurm;
    if (sl->minutes_per_task <= 0) return 0;
    sqlite3_stmt *st = NULL;
    double med = 0;
    int n = 0;
    if (h && sqlite3_prepare_v2(h,
                                "SELECT wall_s, count(*) OVER () FROM runs r JOIN sweep_runs s ON s.key = r.key "
                                "WHERE s.sweep = ?1 AND r.status = 'ok' AND r.wall_s > 0 ORDER BY wall_s",
                                -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, sw->name, -1, SQLITE_STATIC);
        for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
            n = sqlite3_column_int(st, 1);
            if (i == n / 2) med = sqlite3_column_double(st, 0);
        }
    }
    sqlite3_finalize(st);
    const char *from = "the median of the sweep's finished runs";
    if (n == 0) med = sw->timeout, from = "the sweep's timeout:";
    if (med <= 0) {
        fprintf(stderr, "embsweep submit: minutes_per_task needs a cell's time: the database holds no finished run "
                        "of sweep %s and the file sets no timeout:; set cells_per_task instead\n", sw->name);
        return 2;
    }
    double c = sl->minutes_per_task * 60.0 / med;
    sl->cells_per_task = c < 1 ? 1 : c > 100000 ? 100000 : (int)c;
    printf("minutes_per_task %g: a cell takes about %.1f s (%s%s), so %d cells per task\n", sl->minutes_per_task, med,
           from, n ? "" : ", an upper bound", sl->cells_per_task);
    return 0;
}

static void print_tasks(const slurm_sub *s) {
    for (int t = 0; t < s->tasks; t++) {
        printf("task %d:", t);
        for (int i = t * s->sl->cells_per_task; i < s->n_todo && i < (t + 1) * s->sl->cells_per_task; i++)
            printf(" %s", s->sw->cells[s->todo[i]].key);
        printf("\n");
    }
}

/* An earlier array of this sweep still in the queue: 1 (and says which). */
static int earlier_active(sqlite3 *h, const char *sweep) {
    sqlite3_stmt *st;
    int busy = 0;
    if (sqlite3_prepare_v2(h, "SELECT dir, array_job FROM slurm_submissions WHERE sweep = ?1 AND array_job IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_STATIC);
    while (!busy && sqlite3_step(st) == SQLITE_ROW) {
        int pend, run;
        const char *job = (const char *)sqlite3_column_text(st, 1);
        if (slurm_squeue(job, &pend, &run) == 0 && pend + run > 0) {
            fprintf(stderr,
                    "embsweep submit: job array %s (%s) of sweep %s still has %d task(s) queued and %d running; "
                    "wait for it (squeue -j %s) or cancel it (scancel %s), then submit again\n",
                    job, sqlite3_column_text(st, 0), sweep, pend, run, job, job);
            busy = 1;
        }
    }
    sqlite3_finalize(st);
    return busy;
}

static hx_status record_submission(db *d, const slurm_sub *s, const char *array, const char *merge) {
    sqlite3_stmt *st;
    char now[40];
    db_iso_time(db_wall_now(), now, sizeof now);
    if (sqlite3_prepare_v2(db_handle(d),
                           "INSERT OR REPLACE INTO slurm_submissions(dir, sweep, array_job, merge_job, tasks, cells,"
                           " submitted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return HX_ERR_IO;
    sqlite3_bind_text(st, 1, s->dir, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->sw->name, -1, SQLITE_STATIC);
    if (array) sqlite3_bind_text(st, 3, array, -1, SQLITE_STATIC);
    if (merge && merge[0]) sqlite3_bind_text(st, 4, merge, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, s->tasks);
    sqlite3_bind_int(st, 6, s->n_todo);
    sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? HX_OK : HX_ERR_IO;
}

/* Submit the written submission: the array, then the merge afterany it. */
static int submit_jobs(db *d, const slurm_sub *s) {
    char script[1200], array[64], merge[64] = "", err[1400];
    snprintf(script, sizeof script, "%s/task.sbatch", s->dir);
    if (slurm_sbatch(script, NULL, array, sizeof array, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep submit: %s; nothing was submitted\n", err);
        slurm_remove(s);
        return 1;
    }
    snprintf(script, sizeof script, "%s/merge.sbatch", s->dir);
    int code = 0;
    if (slurm_sbatch(script, array, merge, sizeof merge, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep submit: the array %s is submitted, the merge job is not: %s\n", array, err);
        merge[0] = 0, code = 1;
    }
    if (record_submission(d, s, array, merge) != HX_OK)
        fprintf(stderr, "embsweep submit: warning: the submission was not recorded in %s: %s\n", s->db,
                sqlite3_errmsg(db_handle(d)));
    printf("submitted sweep %s: %d cells in %d tasks, job array %s", s->sw->name, s->n_todo, s->tasks, array);
    if (merge[0]) printf(", merge job %s (afterany:%s)", merge, array);
    printf("\n  directory: %s\n  watch:     squeue -j %s%s%s   or   embsweep status --db %s\n"
           "  merge now: embsweep merge %s --db %s\n  cancel:    scancel %s%s%s\n",
           s->dir, array, merge[0] ? "," : "", merge, s->db, s->workdir, s->db, array, merge[0] ? " " : "", merge);
    return code;
}

/* Fold in the shards of earlier submissions, so what they finished is known. */
static int merge_earlier(db *d, const char *workdir) {
    if (access(workdir, F_OK) != 0) return 0;
    merge_counts c;
    char err[1024];
    hx_status st = merge_dir(d, workdir, &c, err, sizeof err);
    if (st == HX_ERR_PARAM) return 0; /* no submission there yet */
    if (st != HX_OK) return fprintf(stderr, "embsweep submit: merging earlier shards: %s\n", err), 1;
    if (c.ok + c.other) printf("merged %d earlier result(s) from %s\n", c.ok + c.other, workdir);
    return 0;
}

static int submit_run(cfg_sweep *sw, const submit_args *a, slurm_sub *s) {
    char err[1024];
    db *d = NULL;
    int code = 1;
    if (db_open(s->db, &d, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep submit: %s\n", err);
        return 1;
    }
    if (earlier_active(db_handle(d), sw->name) || merge_earlier(d, s->workdir)) goto out;
    if (cells_per_minutes(sw, db_handle(d))) {
        code = 2;
        goto out;
    }
    int *todo = hx_calloc((size_t)sw->n_cells + 1, sizeof(int));
    if (!todo) goto out;
    s->todo = todo;
    s->n_todo = pick_cells(sw, db_handle(d), a->retry_failed, todo);
    s->tasks = (s->n_todo + sw->slurm.cells_per_task - 1) / sw->slurm.cells_per_task;
    if (s->n_todo == 0) {
        printf("sweep %s: nothing to submit, every run is ok%s (database %s)\n", sw->name,
               a->retry_failed ? ", skipped" : " or kept as failed (--retry-failed submits those)", s->db);
        code = 0;
    } else if (db_sweep_prepare(d, sw, err, sizeof err) != HX_OK || slurm_next_dir(s, err, sizeof err) != HX_OK ||
               slurm_write(s, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep submit: %s\n", err);
    } else if (a->no_sbatch) {
        code = record_submission(d, s, NULL, NULL) == HX_OK ? 0 : 1;
        printf("wrote %s: %d cells in %d tasks; submit with\n  id=$(sbatch --parsable %s/task.sbatch) && "
               "sbatch --dependency=afterany:$id %s/merge.sbatch\n",
               s->dir, s->n_todo, s->tasks, s->dir, s->dir);
    } else code = submit_jobs(d, s);
    hx_free(todo);
out:
    db_close(d);
    return code;
}

/* --dry-run: the tasks and the scripts, from the database as it is (read-only). */
static int submit_dry(cfg_sweep *sw, const submit_args *a, slurm_sub *s) {
    sqlite3 *h = NULL;
    char err[512];
    if (access(s->db, F_OK) == 0 && db_open_read(s->db, &h, err, sizeof err) != HX_OK) h = NULL;
    if (cells_per_minutes(sw, h)) return sqlite3_close(h), 2;
    int *todo = hx_calloc((size_t)sw->n_cells + 1, sizeof(int));
    if (!todo) return sqlite3_close(h), 1;
    s->todo = todo;
    s->n_todo = pick_cells(sw, h, a->retry_failed, todo);
    s->tasks = (s->n_todo + sw->slurm.cells_per_task - 1) / sw->slurm.cells_per_task;
    sqlite3_close(h);
    if (slurm_next_dir(s, err, sizeof err) != HX_OK) snprintf(s->dir, sizeof s->dir, "%.1000s/NNN", s->workdir);
    printf("sweep %s: %d of %d runs to submit in %d tasks (shards of earlier submissions not merged are not "
           "counted)\n", sw->name, s->n_todo, sw->n_cells, s->tasks);
    print_tasks(s);
    if (s->tasks > 0) {
        printf("--- %s/task.sbatch\n", s->dir);
        slurm_script_task(stdout, s);
        printf("--- %s/merge.sbatch (sbatch --dependency=afterany:<array job>)\n", s->dir);
        slurm_script_merge(stdout, s);
    }
    hx_free(todo);
    return 0;
}

int cmd_submit(int argc, char **argv) {
    submit_args a = {.db_path = "results/results.db"};
    int rc = submit_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    char sbatch[1024];
    if (!a.dry && !a.no_sbatch && slurm_which("sbatch", sbatch, sizeof sbatch) != 0) {
        fprintf(stderr, "embsweep submit: sbatch not found in PATH: Slurm's client commands are missing "
                        "(Debian package slurm-client; on a cluster, run this on a login node); nothing was "
                        "written\n");
        return 2;
    }
    int code = 2;
    cfg_sweep *sw = cli_load_sweep("submit", a.file, &code);
    if (!sw) return code;
    if ((code = apply_flags(&a, &sw->slurm)) != 0) return cfg_free(sw), code;
    slurm_sub s = {.sw = sw, .sl = &sw->slurm};
    char wd[1024];
    snprintf(wd, sizeof wd, "results/slurm/%s", sw->name);
    absolute(a.workdir ? a.workdir : wd, s.workdir, sizeof s.workdir);
    absolute(a.file, s.file, sizeof s.file);
    absolute(a.db_path, s.db, sizeof s.db);
    absolute(".", s.cwd, sizeof s.cwd);
    if (!realpath("/proc/self/exe", s.bin)) snprintf(s.bin, sizeof s.bin, "embsweep");
    sweep_opts o;
    if (sw->jobs > sw->slurm.cpus_per_task)
        fprintf(stderr, "embsweep submit: warning: each task runs jobs: %d workers on cpus_per_task: %d CPU(s); "
                        "set slurm.cpus_per_task (or --cpus-per-task) to at least %d\n",
                sw->jobs, sw->slurm.cpus_per_task, sw->jobs);
    cli_threads(sw, 0, sw->slurm.cpus_per_task, &o);
    s.jobs = o.jobs, s.threads = o.threads;
    code = a.dry ? submit_dry(sw, &a, &s) : submit_run(sw, &a, &s);
    cfg_free(sw);
    return code;
}

/* ---- task ---- */

/* Run the task's cells into its shard. Returns the exit status. */
static int task_execute(const cfg_sweep *sub, const slurm_task *t, int index, const char *shard, const char *args) {
    char err[1024];
    db *d = NULL;
    int64_t inv = 0;
    int code = 1;
    prov pv;
    prov_collect(&pv);
    if (db_open(shard, &d, err, sizeof err) != HX_OK) goto fail;
    /* one writer on one node, read by the merge from another: no WAL (its
     * shared-memory index does not work across a network filesystem) */
    if (sqlite3_exec(db_handle(d), "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, sizeof err, "%.600s: %.300s", shard, sqlite3_errmsg(db_handle(d)));
        goto fail;
    }
    sweep_opts o = {.jobs = t->jobs, .threads = t->threads};
    if (db_sweep_prepare(d, sub, err, sizeof err) != HX_OK ||
        db_invocation_start(d, sub->name, args, o.jobs, o.threads, &pv, &inv, err, sizeof err) != HX_OK)
        goto fail;
    sweep_counts c;
    hx_status st = sweep_execute(sub, d, inv, &o, &c, err, sizeof err);
    db_invocation_finish(d, inv, c.interrupted ? "interrupted" : st == HX_OK ? "finished" : "failed");
    if (st != HX_OK) goto fail;
    printf("task %d of sweep %s: %d run, %d ok, %d not ok, %d already ok; shard %s\n", index, sub->name,
           c.done, c.ok, c.failed, c.skipped_done, shard);
    code = c.interrupted ? 130 : c.failed ? 1 : 0;
    db_close(d);
    return code;
fail:
    fprintf(stderr, "embsweep task: %s\n", err);
    db_close(d);
    return code;
}

int cmd_task(int argc, char **argv) {
    const char *dir = NULL, *idx = getenv("SLURM_ARRAY_TASK_ID");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: embsweep task DIR [--index I]\n  run array task I (default $SLURM_ARRAY_TASK_ID) of the "
                   "submission in DIR into DIR/shards/task-I.db;\n  started by DIR/task.sbatch\n");
            return 0;
        } else if (!strcmp(argv[i], "--index") && i + 1 < argc) idx = argv[++i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return fprintf(stderr, "embsweep task: unexpected argument '%s'\n", argv[i]), 2;
    }
    char *end = NULL;
    long index = idx ? strtol(idx, &end, 10) : -1;
    if (!dir || !idx || *end || index < 0 || index > INT_MAX) {
        fprintf(stderr, "usage: embsweep task DIR [--index I]  (I: --index or $SLURM_ARRAY_TASK_ID, >= 0)\n");
        return 2;
    }
    char err[1024], adir[1024], shard[1200], args[2048];
    absolute(dir, adir, sizeof adir);
    slurm_task t;
    if (slurm_task_read(adir, (int)index, &t, err, sizeof err) != HX_OK)
        return fprintf(stderr, "embsweep task: %s\n", err), 2;
    int code = 2;
    cfg_sweep *sw = NULL, sub;
    if (chdir(t.cwd) != 0) fprintf(stderr, "embsweep task: cannot enter %s: %s\n", t.cwd, strerror(errno));
    else if ((sw = cli_load_sweep("task", t.file, &code)) != NULL) {
        if (slurm_task_sweep(sw, &t, &sub, err, sizeof err) != HX_OK) fprintf(stderr, "embsweep task: %s\n", err);
        else {
            snprintf(shard, sizeof shard, "%s/shards/task-%05ld.db", adir, index);
            cli_join_args(argc, argv, args, sizeof args);
            code = task_execute(&sub, &t, (int)index, shard, args);
            hx_free(sub.cells);
        }
    }
    cfg_free(sw);
    slurm_task_free(&t);
    return code;
}

/* ---- merge ---- */

int cmd_merge(int argc, char **argv) {
    const char *dir = NULL, *db_path = "results/results.db";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: embsweep merge DIR [--db PATH]\n  fold the result shards of the submissions in DIR (a "
                   "--workdir of embsweep submit, or one\n  submission in it) into the database; idempotent, one "
                   "transaction per shard, a run is\n  never duplicated and an ok run never replaced\n");
            return 0;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return fprintf(stderr, "embsweep merge: unexpected argument '%s'\n", argv[i]), 2;
    }
    if (!dir) return fprintf(stderr, "usage: embsweep merge DIR [--db PATH]\n"), 2;
    char err[1024], adir[PATH_MAX];
    if (!realpath(dir, adir)) return fprintf(stderr, "embsweep merge: %s: %s\n", dir, strerror(errno)), 2;
    dir = adir; /* shards are named by their absolute path in invocations.origin */
    db *d = NULL;
    merge_counts c;
    if (db_open(db_path, &d, err, sizeof err) != HX_OK) return fprintf(stderr, "embsweep merge: %s\n", err), 1;
    hx_status st = merge_dir(d, dir, &c, err, sizeof err);
    if (st == HX_OK)
        printf("merged %d shard(s) of %s into %s: %d run(s) taken (%d ok, %d not ok), %d already there or kept, %d "
               "unfinished in shards%s\n",
               c.shards, dir, db_path, c.ok + c.other, c.ok, c.other, c.same, c.unfinished,
               c.unreadable ? " (some shards unreadable, see above)" : "");
    else fprintf(stderr, "embsweep merge: %s\n", err);
    for (int i = 0; st == HX_OK && i < c.n_sweeps; i++) /* the runs are in; only the verdicts may lag */
        if (vd_store(db_handle(d), c.sweeps[i], err, sizeof err) != HX_OK)
            fprintf(stderr, "embsweep merge: the verdict table of %s was not updated: %s\n", c.sweeps[i], err);
    db_close(d);
    return st == HX_OK ? 0 : cli_exit_status(st);
}
