/* test_submit.c: `embsweep submit --slurm`, `task` and `merge` without a
 * cluster (make test-slurm runs them on a real one):
 *   no sbatch    submit fails with exit 2 naming what is missing, writes nothing
 *   dry run      the tasks and the sbatch script (array, throttle, the file's
 *                slurm: section and the flags over it), nothing written;
 *                minutes_per_task sized by the sweep's finished runs
 *   bad slurm:   file:line:col errors, exit 2
 *   tasks        --no-sbatch, then every task run by hand and merged: each key
 *                once, ok, the same bits as `run`; merging twice changes nothing
 *   merge rules  an ok run is never replaced; a failed one is by a later
 *                attempt; a merge killed inside a shard's transaction leaves
 *                every shard whole or absent, and the rerun completes it
 *   node lost   a shard left with a run `running` (its node died): merge leaves
 *                the run pending, status counts it, submit again takes it
 *   changed file a task whose plan no longer matches the file refuses (exit 2)
 *   old shards   shards of schema 4 (no run_stages) merge, without stage times;
 *                an unreadable one is an error with SQLite's reason
 *   schema v3    a version-3 database gains the Slurm columns (and is then at 5)
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness/train/model.h"

static const char k_sweep[] =
    "name: t_submit\n"
    "datasets:\n  syn: {kind: synthetic, rows: 2000, fields: 3, cardinality: 300, dense: 2, seed: 3}\n"
    "model: {bottom_mlp: [8], top_mlp: [8], interaction: dot}\n"
    "train: {epochs: 0.5, batch: 128, optimizer: adagrad, lr: 0.05}\n"
    "matrix: {method: [full, hash], dim: [4], ratio: [1], seed: [1, 2, 3]}\n"
    "jobs: 1\nthreads: 1\n"
    "slurm: {cells_per_task: 2, partition: cpu, time: \"5:00\", sbatch: [\"--qos=short\"]}\n";

typedef struct env { char dir[64], yaml[128], out[8192], cmd[1024]; } env;

static void env_init(env *e) {
    fx_tmpdir(e->dir);
    fx_write(e->dir, "s.yaml", k_sweep, e->yaml);
    cr_assert_eq(chdir(e->dir), 0);
}

/* Run `embsweep FMT...` in the test's directory; the exit status. */
static int cli(env *e, const char *fmt, const char *a, const char *b) {
    snprintf(e->cmd, sizeof e->cmd, fmt, a ? a : "", b ? b : "");
    return fx_run_cli(e->cmd, e->out, sizeof e->out);
}

/* Entries of directory dir (., .. excluded). */
static int entries(const char *dir) {
    char cmd[256], out[64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = fgets(out, sizeof out, p) ? atoi(out) : -1;
    pclose(p);
    return n;
}

Test(submit, without_sbatch_fails_and_writes_nothing) {
    env e;
    env_init(&e);
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", e.dir, 1); /* a PATH without Slurm's commands */
    int rc = cli(&e, "submit %s --slurm --db r.db", e.yaml, NULL);
    setenv("PATH", old, 1);
    free(old);
    cr_expect_eq(rc, 2, "%s", e.out);
    cr_expect(strstr(e.out, "sbatch not found") && strstr(e.out, "slurm-client") && strstr(e.out, "nothing was written"),
              "%s", e.out);
    cr_expect_eq(entries(e.dir), 1, "only the sweep file is there");
    fx_rmdir(e.dir);
}

Test(submit, dry_run_prints_tasks_and_script) {
    env e;
    env_init(&e);
    cr_assert_eq(cli(&e, "submit %s --slurm --dry-run --max-running 2 --time 9:00 --sbatch --mail-type=END%s", e.yaml, ""),
                 0, "%s", e.out);
    cr_expect(strstr(e.out, "6 of 6 runs to submit in 3 tasks"), "%s", e.out);
    cr_expect(strstr(e.out, "task 2: "), "%s", e.out);
    static const char *const lines[] = {"#SBATCH --array=0-2%2\n", "#SBATCH --partition=cpu\n",
                                        "#SBATCH --time=9:00\n", "#SBATCH --qos=short\n",
                                        "#SBATCH --mail-type=END\n", "#SBATCH --cpus-per-task=1\n", "' task '",
                                        "' merge '"};
    for (int i = 0; i < 8; i++) cr_expect(strstr(e.out, lines[i]), "missing %s in:\n%s", lines[i], e.out);
    cr_expect_eq(entries(e.dir), 1, "nothing written");
    fx_rmdir(e.dir);
}

Test(submit, bad_slurm_section_is_an_error_with_position) {
    env e;
    env_init(&e);
    char p[128];
    fx_write(e.dir, "bad.yaml",
             "name: b\ndatasets:\n  syn: {kind: synthetic, rows: 500, fields: 2}\nmatrix: {method: [full]}\n"
             "slurm:\n  partiton: cpu\n  cells_per_task: 0\n  sbatch: --qos=x\n",
             p);
    cr_expect_eq(cli(&e, "submit %s --slurm --dry-run", p, NULL), 2, "%s", e.out);
    cr_expect(strstr(e.out, "bad.yaml:6:3: slurm: unknown key 'partiton' (did you mean 'partition'?)"), "%s", e.out);
    cr_expect(strstr(e.out, "bad.yaml:7:19: slurm.cells_per_task: expected"), "%s", e.out);
    cr_expect(strstr(e.out, "bad.yaml:8:11: slurm.sbatch: expected a list"), "%s", e.out);
    cr_expect_eq(cli(&e, "submit %s --slurm --dry-run --cells-per-task x", e.yaml, NULL), 2, "%s", e.out);
    cr_expect(strstr(e.out, "--cells-per-task: expected"), "%s", e.out);
    fx_rmdir(e.dir);
}

/* --no-sbatch, then tasks 0..2 by hand (submission work/001). */
static void submit_and_run_tasks(env *e, const char *db) {
    cr_assert_eq(cli(e, "submit %s --slurm --no-sbatch --db %s --workdir work", e->yaml, db), 0, "%s", e->out);
    cr_assert(strstr(e->out, "6 cells in 3 tasks"), "%s", e->out);
    for (int t = 0; t < 3; t++) {
        char idx[8];
        snprintf(idx, sizeof idx, "%d", t);
        cr_assert_eq(cli(e, "task work/001 --index %s%s", idx, ""), 0, "%s", e->out);
    }
}

static void digest(const char *db, char *out, size_t n) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT group_concat(key || status || printf('%.17g %.17g %.17g', test_auc,"
                                       " test_logloss, final_train_loss), ';') FROM (SELECT * FROM runs ORDER BY key)",
                                    -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, n, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

Test(submit, tasks_by_hand_merge_to_the_bits_of_run) {
    env e;
    env_init(&e);
    submit_and_run_tasks(&e, "a.db");
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs WHERE status = 'pending'"), 6, "submit records the cells");
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "6 run(s) taken (6 ok"), "%s", e.out);
    cr_assert_eq(cli(&e, "run %s --db local.db%s", e.yaml, NULL), 0, "%s", e.out);
    char a[4096], l[4096];
    digest("a.db", a, sizeof a);
    digest("local.db", l, sizeof l);
    cr_expect_str_eq(a, l, "the merged runs are the local ones, bit for bit");
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM invocations WHERE origin LIKE '%/work/001/shards/task-0000%.db#1'"),
                 3, "one invocation per task, named by its shard");
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM run_scores"), 6);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM run_stages"), 6 * MS_N, "every run's training stages");
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "0 run(s) taken"), "merging twice takes nothing: %s", e.out);
    digest("a.db", l, sizeof l);
    cr_expect_str_eq(a, l);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM invocations"), 3, "no invocation copied twice");
    cr_assert_eq(cli(&e, "status --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "runs: ok=6") && strstr(e.out, "not merged yet: none"), "%s", e.out);
    cr_assert_eq(cli(&e, "submit %s --slurm --no-sbatch --db a.db --workdir work%s", e.yaml, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "nothing to submit"), "%s", e.out);
    cr_assert_eq(cli(&e, "submit %s --slurm --dry-run --db a.db --minutes-per-task 1000%s", e.yaml, NULL), 0, "%s",
                 e.out);
    cr_expect(strstr(e.out, "(the median of the sweep's finished runs), so "), "%s", e.out);
    cr_expect_eq(cli(&e, "submit %s --slurm --dry-run --db none.db --minutes-per-task 5%s", e.yaml, NULL), 2, "%s",
                 e.out);
    cr_expect(strstr(e.out, "minutes_per_task needs a cell's time"), "%s", e.out);
    fx_rmdir(e.dir);
}

Test(submit, merge_never_replaces_ok_and_survives_a_kill) {
    env e;
    env_init(&e);
    submit_and_run_tasks(&e, "a.db");
    /* the database already holds one run ok (other numbers) and one failed before the shards' attempt */
    fx_exec_sql("a.db", "UPDATE runs SET status = 'ok', test_auc = 0.25 WHERE key = (SELECT min(key) FROM runs);"
                     "UPDATE runs SET status = 'failed', started_at = '2000-01-01T00:00:00.000Z'"
                     " WHERE key = (SELECT max(key) FROM runs);");
    setenv("EMBSWEEP_FAULTS", "1", 1);
    setenv("EMBSWEEP_FAULT_MERGE_KILL", "3", 1); /* inside the second shard's transaction */
    cr_expect_neq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    unsetenv("EMBSWEEP_FAULT_MERGE_KILL");
    unsetenv("EMBSWEEP_FAULTS");
    long long ok = fx_q_int("a.db", "SELECT count(*) FROM runs WHERE status = 'ok'");
    cr_expect(ok == 1 + 2 || ok == 1 + 1, "the first shard in whole, no more: %lld ok", ok);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs r WHERE status = 'ok' AND test_auc <> 0.25 AND NOT EXISTS"
                               " (SELECT 1 FROM run_scores s WHERE s.key = r.key)"), 0, "no run half-merged");
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM pragma_quick_check WHERE quick_check = 'ok'"), 1);
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs WHERE status = 'ok'"), 6, "the failed run replaced");
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs WHERE test_auc = 0.25"), 1, "the ok run kept");
    fx_rmdir(e.dir);
}

Test(submit, a_lost_node_leaves_its_run_to_the_next_submit) {
    env e;
    env_init(&e);
    submit_and_run_tasks(&e, "a.db");
    /* task 1's node died in its second cell: the shard says running, no result */
    fx_exec_sql("work/001/shards/task-00001.db",
                "UPDATE runs SET status = 'running', test_auc = NULL WHERE key = (SELECT max(key) FROM runs)");
    cr_assert_eq(cli(&e, "status --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "ok=5 (total 5); running now in shards: 1"), "%s", e.out);
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "5 run(s) taken (5 ok") && strstr(e.out, "1 unfinished in shards"), "%s", e.out);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs WHERE status = 'pending'"), 1, "never ok");
    cr_assert_eq(cli(&e, "submit %s --slurm --no-sbatch --db a.db --workdir work%s", e.yaml, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "wrote ") && strstr(e.out, "work/002: 1 cells in 1 tasks"), "%s", e.out);
    cr_assert_eq(cli(&e, "task work/002 --index 0%s%s", NULL, NULL), 0, "%s", e.out);
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM runs WHERE status = 'ok'"), 6, "%s", e.out);
    fx_rmdir(e.dir);
}

Test(submit, task_refuses_a_changed_sweep_file) {
    env e;
    env_init(&e);
    cr_assert_eq(cli(&e, "submit %s --slurm --no-sbatch --db a.db --workdir work%s", e.yaml, NULL), 0, "%s", e.out);
    char p[128], text[sizeof k_sweep + 8];
    snprintf(text, sizeof text, "%s", k_sweep);
    char *lr = strstr(text, "lr: 0.05");
    cr_assert_not_null(lr);
    memcpy(lr, "lr: 0.07", 8);
    fx_write(e.dir, "s.yaml", text, p);
    cr_expect_eq(cli(&e, "task work/001 --index 0%s%s", NULL, NULL), 2, "%s", e.out);
    cr_expect(strstr(e.out, "changed since it was submitted"), "%s", e.out);
    cr_expect_eq(cli(&e, "task work/001 --index 7%s%s", NULL, NULL), 2, "%s", e.out);
    cr_expect(strstr(e.out, "out of range"), "%s", e.out);
    fx_rmdir(e.dir);
}

/* Shards written by an older embsweep (schema 4: no run_stages) still merge;
 * their runs come without stage times. */
Test(submit, merge_takes_shards_of_an_older_schema) {
    env e;
    env_init(&e);
    submit_and_run_tasks(&e, "a.db");
    for (int i = 0; i < 3; i++) { /* one shard a task */
        char path[64];
        snprintf(path, sizeof path, "work/001/shards/task-%05d.db", i);
        fx_exec_sql(path, "DROP TABLE run_stages; PRAGMA user_version = 4;");
    }
    cr_assert_eq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "6 run(s) taken (6 ok"), "%s", e.out);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM run_stages"), 0);
    cr_expect_eq(fx_q_int("a.db", "SELECT count(*) FROM run_scores"), 6, "the other children still come");
    fx_rmdir(e.dir);
}

/* A shard the merge cannot read is an error that gives SQLite's reason. */
Test(submit, merge_error_names_the_reason) {
    env e;
    env_init(&e);
    submit_and_run_tasks(&e, "a.db");
    fx_exec_sql("work/001/shards/task-00000.db", "ALTER TABLE run_scores RENAME COLUMN labels TO labelz;");
    cr_expect_neq(cli(&e, "merge work --db a.db%s%s", NULL, NULL), 0, "%s", e.out);
    cr_expect(strstr(e.out, "task-00000.db: no such column: labels"), "%s", e.out);
    fx_rmdir(e.dir);
}

/* A version-3 database (invocations without the Slurm columns) is migrated. */
Test(submit, schema_v3_gains_the_slurm_columns) {
    env e;
    env_init(&e);
    fx_exec_sql("v3.db", "CREATE TABLE invocations (id INTEGER PRIMARY KEY, sweep TEXT NOT NULL, started_at TEXT NOT NULL,"
                      " finished_at TEXT, argv TEXT, git_commit TEXT, git_dirty INTEGER, compiler TEXT, cflags TEXT,"
                      " blas TEXT, cpu_model TEXT, cores INTEGER, kernel TEXT, hostname TEXT, jobs INTEGER,"
                      " threads_per_job INTEGER, status TEXT);"
                      "INSERT INTO invocations(sweep, started_at) VALUES ('old', '2026-01-01');"
                      "PRAGMA user_version = 3;");
    cr_assert_eq(cli(&e, "run %s --db v3.db%s", e.yaml, NULL), 0, "%s", e.out);
    cr_expect_eq(fx_q_int("v3.db", "PRAGMA user_version"), 5);
    cr_expect_eq(fx_q_int("v3.db", "SELECT count(*) FROM invocations WHERE sweep = 'old' AND slurm_job IS NULL"), 1);
    cr_expect_eq(fx_q_int("v3.db", "SELECT count(*) FROM slurm_submissions"), 0);
    fx_rmdir(e.dir);
}
