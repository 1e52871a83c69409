/* test_sweep.c: the sweep harness end to end, through the CLI ($EMBSWEEP_BIN).
 *   bad_yaml    every tests/bad_yaml/NAME.yaml gives exit 2, each line of
 *               NAME.expected on stderr, and leaves the database untouched
 *   dry run     one line per run with its key, the count, no database
 *   folders     a run outside the checkout creates the database's folder; a file
 *               in the way is an error naming it
 *   run/resume  a sweep runs, a rerun skips finished runs; kill -9 of the harness
 *               mid-sweep, rerun: every run exactly once, ok, finished ones not redone
 *   SIGINT      running runs become interrupted, exit 130, the next run resumes
 *   schema      a version-1 database is migrated (to 3: run_phases and
 *               run_scores created), a newer one refused
 *   faults      crash, hang, unbounded allocation and NaN each get their own
 *               status while the other runs of the sweep finish ok (only the ok
 *               runs keep test scores); a plain rerun keeps them,
 *               --retry-failed reruns them, --force reruns all
 *   rss         peak RSS is measured: full's peak grows with its table, a method
 *               with 16x fewer inference bytes has a lower peak
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/train/model.h"

static const char *bin(void) {
    const char *b = getenv("EMBSWEEP_BIN");
    cr_assert_not_null(b, "EMBSWEEP_BIN is not set (run through make test)");
    return b;
}

/* Start `embsweep args...` with stdout/stderr to files; returns the pid. */
static pid_t start(char *const args[], const char *out, const char *err) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1), dup2(e, 2);
        char *argv[16] = {(char *)bin()};
        for (int i = 0; args[i] && i < 14; i++) argv[i + 1] = args[i];
        execv(bin(), argv);
        _exit(127);
    }
    return pid;
}

static int wait_code(pid_t pid) {
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = 0;
    fclose(f);
    return s;
}

static char g_dir[64];
static void mkdir_tmp(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/embsweep_swXXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}
static void rm_tmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    cr_expect_eq(system(cmd), 0);
}
static void path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", g_dir, name); }

static void write_text(const char *p, const char *text) {
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* One integer from a query, -1 when no row. */
static long long q_int(const char *db, const char *sql) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Like q_int but never asserts: for polling a database another process creates. */
static long long q_int_try(const char *db, const char *sql) {
    sqlite3 *h = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return v;
}

static void q_text(const char *db, const char *sql, char *out, size_t n) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    out[0] = 0;
    size_t used = 0;
    while (sqlite3_step(st) == SQLITE_ROW && used + 1 < n) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        used += (size_t)snprintf(out + used, n - used, "%s\n", t ? t : "NULL");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* ---- bad YAML corpus ---- */

Test(sweep, bad_yaml_corpus) {
    mkdir_tmp();
    char db[128], out[128], err[128];
    path(db, sizeof db, "untouched.db");
    path(out, sizeof out, "out.txt");
    path(err, sizeof err, "err.txt");
    write_text(db, "not a database: must stay byte-identical\n");
    char *before = slurp(db);
    DIR *d = opendir("tests/bad_yaml");
    cr_assert_not_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        char yaml[300], expected[300];
        snprintf(yaml, sizeof yaml, "tests/bad_yaml/%s", e->d_name);
        snprintf(expected, sizeof expected, "tests/bad_yaml/%.*s.expected", (int)(len - 5), e->d_name);
        char *exp = slurp(expected);
        cr_expect_neq(exp[0], 0, "%s: missing or empty .expected", expected);
        char *args[] = {"run", yaml, "--db", db, NULL};
        int code = wait_code(start(args, out, err));
        cr_expect_eq(code, 2, "%s: exit %d", yaml, code);
        char *got = slurp(err);
        for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n"))
            cr_expect(strstr(got, line) != NULL, "%s: expected\n  %s\ngot\n%s", yaml, line, got);
        char *now = slurp(db);
        cr_expect_str_eq(now, before, "%s: database touched", yaml);
        free(now), free(got), free(exp);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 15, "the corpus has %d files", n);
    free(before);
    rm_tmp();
}

/* ---- dry run ---- */

Test(sweep, dry_run_prints_plan_and_writes_nothing) {
    mkdir_tmp();
    char db[128], out[128], err[128];
    path(db, sizeof db, "none.db");
    path(out, sizeof out, "out.txt");
    path(err, sizeof err, "err.txt");
    char *args[] = {"run", "tests/sweeps/grid.yaml", "--db", db, "--dry-run", NULL};
    cr_expect_eq(wait_code(start(args, out, err)), 0);
    char *o = slurp(out);
    int lines = 0, keys = 0, skipped = 0;
    for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
        lines++;
        keys += strspn(l, "0123456789abcdef") == 16 && l[16] == ' ';
        skipped += strstr(l, "[skipped: unreachable") != NULL;
    }
    cr_expect_eq(keys, 24, "one line per run with its key");
    cr_expect_eq(skipped, 8);
    cr_expect_eq(lines, 25, "plus the count");
    free(o);
    o = slurp(out);
    cr_expect(strstr(o, "24 runs (16 to run, 8 skipped as unreachable)") != NULL, "%s", o);
    free(o);
    cr_expect_neq(access(db, F_OK), 0, "no database created");
    rm_tmp();
}

/* Run from a directory without results/, a sweep creates the database's folder
 * (the default path, and a --db in new folders); a file in the way is an error
 * that names it. */
Test(sweep, run_creates_the_database_folder) {
    mkdir_tmp();
    char yaml[128], cmd[512], db[128], out[128], err[128];
    path(yaml, sizeof yaml, "one.yaml");
    path(out, sizeof out, "out.txt");
    path(err, sizeof err, "err.txt");
    write_text(yaml, "name: one\n"
                     "datasets:\n  syn: {kind: synthetic, rows: 2000, fields: 2, cardinality: 50, dense: 2, seed: 3}\n"
                     "model: {bottom_mlp: [4], top_mlp: [4], interaction: dot}\n"
                     "train: {epochs: 1, batch: 64, optimizer: adagrad, lr: 0.05}\n"
                     "matrix:\n  method: [full]\n  dim: [4]\n  seed: [1]\njobs: 1\n");
    snprintf(cmd, sizeof cmd, "cd %s && %s run one.yaml > out.txt 2>&1", g_dir, bin());
    int st = system(cmd);
    char *o = slurp(out);
    cr_expect_eq(st, 0, "%s", o);
    free(o);
    path(db, sizeof db, "results/results.db");
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);
    path(db, sizeof db, "new/sub/r.db");
    char *deep[] = {"run", yaml, "--db", db, NULL};
    cr_expect_eq(wait_code(start(deep, out, err)), 0);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);
    path(db, sizeof db, "a-file");
    write_text(db, "not a folder\n");
    path(db, sizeof db, "a-file/r.db");
    char *blocked[] = {"run", yaml, "--db", db, NULL};
    cr_expect_neq(wait_code(start(blocked, out, err)), 0);
    char *e = slurp(err);
    cr_expect(strstr(e, "a-file: a file of that name is in the way") != NULL, "%s", e);
    free(e);
    rm_tmp();
}

/* ---- run, rerun, kill -9 and resume ---- */

#define RESUME_YAML                                                                                    \
    "name: resume\n"                                                                                   \
    "datasets:\n  syn: {kind: synthetic, rows: 20000, fields: 4, cardinality: 2000, dense: 2, seed: 3}\n" \
    "model: {bottom_mlp: [8], top_mlp: [8], interaction: dot}\n"                                       \
    "train: {epochs: 1, batch: 64, optimizer: adagrad, lr: 0.05, log_every: 20}\n"                     \
    "matrix:\n  method: [full, hash]\n  dim: [4, 8]\n  ratio: [1, 2]\n  seed: [1, 2]\n"                \
    "unreachable: skip\njobs: 1\n"

/* Paths of one test's files in g_dir. */
typedef struct tfiles { char yaml[128], db[128], out[128], err[128]; } tfiles;
static void tfiles_init(tfiles *t, const char *yaml_text) {
    mkdir_tmp();
    path(t->yaml, sizeof t->yaml, "sweep.yaml");
    path(t->db, sizeof t->db, "r.db");
    path(t->out, sizeof t->out, "out.txt");
    path(t->err, sizeof t->err, "err.txt");
    write_text(t->yaml, yaml_text);
}

/* Wait until at least n runs are ok in db (another process writes it). */
static void wait_ok(const char *db, long long n) {
    long long ok = 0;
    for (int i = 0; i < 600 && ok < n; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (access(db, F_OK) == 0) ok = q_int_try(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'");
    }
    cr_assert_geq(ok, n, "runs did not finish in time");
}

Test(sweep, kill9_then_resume_runs_each_once) {
    tfiles t;
    tfiles_init(&t, RESUME_YAML);
    char *db = t.db, *out = t.out, *err = t.err;
    char *args[] = {"run", t.yaml, "--db", db, NULL};
    pid_t pid = start(args, out, err);
    /* wait until at least two runs are ok, then kill -9 the harness */
    wait_ok(db, 2);
    kill(pid, SIGKILL);
    wait_code(pid);
    long long total = q_int(db, "SELECT COUNT(*) FROM runs WHERE status <> 'skipped'");
    cr_expect_eq(total, 12, "12 runnable cells recorded (4 full at ratio 2 skipped)");
    long long done_before = q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'");
    cr_expect_lt(done_before, 12, "the harness was killed before the end");
    char before[4096], after[4096];
    q_text(db, "SELECT key || ' ' || finished_at FROM runs WHERE status = 'ok' ORDER BY key", before, sizeof before);
    /* workers died with the harness (PR_SET_PDEATHSIG): nothing is still writing */
    cr_expect_eq(wait_code(start(args, out, err)), 0, "%s", slurp(err));
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 12);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs"), 16, "no duplicates: 12 ok + 4 skipped");
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'skipped'"), 4);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM sweep_runs WHERE sweep = 'resume'"), 16);
    /* the runs finished before the kill were not redone: same finished_at, one attempt */
    q_text(db, "SELECT key || ' ' || finished_at FROM runs WHERE status = 'ok' ORDER BY key", after, sizeof after);
    for (char *line = strtok(before, "\n"); line; line = strtok(NULL, "\n"))
        cr_expect(strstr(after, line) != NULL, "redone: %s", line);
    char sql[256];
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM invocations"), 2);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND invocation = 1");
    cr_expect_eq(q_int(db, sql), done_before);
    /* a third run skips everything; --force reruns one sweep's runs */
    cr_expect_eq(wait_code(start(args, out, err)), 0);
    char *o = slurp(out);
    cr_expect(strstr(o, "0 run, 0 ok, 0 not ok; 12 already ok") != NULL, "%s", o);
    free(o);
    /* measurements are there */
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status='ok' AND (peak_rss_train IS NULL OR "
                           "peak_rss_eval IS NULL OR rss_anon_peak IS NULL OR test_auc IS NULL)"), 0);
    cr_expect_gt(q_int(db, "SELECT COUNT(*) FROM rss_samples"), 0);
    cr_expect_gt(q_int(db, "SELECT COUNT(*) FROM loss_curve"), 0);
    /* every ok run's training stages, which hold its training time (less the
     * loop's bookkeeping: the loose lower bound leaves room for a preemption
     * between two stages of these short runs) */
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM run_stages"), 12 * MS_N);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs r WHERE status = 'ok' AND NOT (SELECT SUM(seconds) FROM "
                           "run_stages s WHERE s.key = r.key) BETWEEN 0.5 * train_s AND train_s * (1 + 1e-9)"), 0);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM run_summary WHERE sweep = 'resume'"), 16);
    cr_expect_eq(q_int(db, "PRAGMA user_version"), 5);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM invocations WHERE cores IS NULL OR hostname IS NULL"), 0);
    /* status summarises */
    char *sargs[] = {"status", "--db", db, NULL};
    cr_expect_eq(wait_code(start(sargs, out, err)), 0);
    o = slurp(out);
    cr_expect(strstr(o, "ok=12") && strstr(o, "skipped=4"), "%s", o);
    free(o);
    rm_tmp();
}

Test(sweep, sigint_marks_interrupted_and_resumes) {
    tfiles t;
    tfiles_init(&t, RESUME_YAML);
    char *db = t.db, *out = t.out, *err = t.err;
    char *args[] = {"run", t.yaml, "--db", db, NULL};
    pid_t pid = start(args, out, err);
    wait_ok(db, 1);
    kill(pid, SIGINT);
    cr_expect_eq(wait_code(pid), 130, "interrupted exit status");
    char *e = slurp(err);
    cr_expect(strstr(e, "interrupted") != NULL, "%s", e);
    free(e);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'"), 0, "no run left running");
    cr_expect_eq(q_int(db, "SELECT status = 'interrupted' FROM invocations WHERE id = 1"), 1);
    long long inter = q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'");
    cr_expect_leq(inter, 1, "jobs: 1, so at most one run was in flight");
    cr_expect_eq(wait_code(start(args, out, err)), 0, "the next invocation resumes");
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 12);
    rm_tmp();
}

/* ---- schema versions ---- */

static void exec_sql(const char *db, const char *sql) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* The writer (`run`) migrates; the readers (`status`) never write. */
Test(sweep, schema_v1_is_migrated_and_newer_refused) {
    tfiles t;
    tfiles_init(&t, "name: v\ndatasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2}\n"
                    "train: {epochs: 0.1}\nmatrix: {method: [full], dim: [4], ratio: [1], seed: [1]}\n");
    /* a version-1 database: rss_samples without hwm, no run_phases */
    exec_sql(t.db, "CREATE TABLE rss_samples (key TEXT NOT NULL, t_s REAL NOT NULL, phase TEXT, rss INTEGER,"
                   " rss_anon INTEGER, rss_file INTEGER);"
                   "INSERT INTO rss_samples VALUES ('k', 0.5, 'train', 1, 2, 3);"
                   "PRAGMA user_version = 1;");
    char *status[] = {"status", "--db", t.db, NULL};
    cr_expect_eq(wait_code(start(status, t.out, t.err)), 1, "a reader does not migrate: %s", slurp(t.err));
    cr_expect_eq(q_int(t.db, "PRAGMA user_version"), 1, "left alone by status");
    char *args[] = {"run", t.yaml, "--db", t.db, NULL};
    cr_expect_eq(wait_code(start(args, t.out, t.err)), 0, "%s", slurp(t.err));
    cr_expect_eq(q_int(t.db, "PRAGMA user_version"), 5);
    cr_expect_eq(q_int(t.db, "SELECT COUNT(*) FROM rss_samples WHERE key = 'k' AND hwm IS NULL"), 1, "data kept");
    cr_expect_eq(q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 1, "run_scores created and written");
    cr_expect_geq(q_int(t.db, "SELECT COUNT(*) FROM run_phases"), 1, "run_phases created and written");
    cr_expect_eq(q_int(t.db, "SELECT COUNT(*) FROM run_summary"), 1);
    exec_sql(t.db, "PRAGMA user_version = 99;");
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(wait_code(start(i ? status : args, t.out, t.err)), 1);
        char *e = slurp(t.err);
        cr_expect(strstr(e, "newer than this embsweep") != NULL, "%s", e);
        free(e);
    }
    cr_expect_eq(q_int(t.db, "PRAGMA user_version"), 99, "left alone");
    rm_tmp();
}

/* ---- faults ---- */

#define FAULT_YAML                                                                                  \
    "name: faults\n"                                                                                \
    "datasets:\n  syn: {kind: synthetic, rows: 3000, fields: 3, cardinality: 300, dense: 2, seed: 3}\n" \
    "model: {bottom_mlp: [8], top_mlp: [], interaction: dot}\n"                                     \
    "train: {epochs: 1, batch: 128, optimizer: adagrad, lr: 0.05}\n"                                \
    "matrix:\n  method: [full, fault_segv, fault_hang, fault_alloc, fault_nan, hash]\n"             \
    "  dim: [8]\n  ratio: [1]\n"                                                                    \
    "jobs: 2\ntimeout: 4\nmemory_limit: 300MiB\n"

static void expect_status(const char *db, const char *method, const char *status) {
    char sql[256], got[256];
    snprintf(sql, sizeof sql, "SELECT status || ' | ' || COALESCE(reason, '') FROM runs WHERE method = '%s'", method);
    q_text(db, sql, got, sizeof got);
    cr_expect(strncmp(got, status, strlen(status)) == 0 && got[strlen(status)] == ' ', "%s: expected %s, got %s",
              method, status, got);
}

Test(sweep, faults_each_get_their_status) {
    tfiles t;
    tfiles_init(&t, FAULT_YAML);
    char *yaml = t.yaml, *db = t.db, *out = t.out, *err = t.err;
    setenv("EMBSWEEP_FAULTS", "1", 1);
    char *args[] = {"run", yaml, "--db", db, NULL};
    int code = wait_code(start(args, out, err));
    unsetenv("EMBSWEEP_FAULTS");
    cr_expect_eq(code, 1, "some runs failed: exit 1");
    expect_status(db, "full", "ok");
    expect_status(db, "hash", "ok");
    expect_status(db, "fault_segv", "crashed");
    expect_status(db, "fault_hang", "timeout");
    expect_status(db, "fault_alloc", "oom");
    expect_status(db, "fault_nan", "diverged");
    cr_expect_eq(q_int(db, "SELECT signal FROM runs WHERE method = 'fault_segv'"), SIGSEGV);
    char tail[512];
    q_text(db, "SELECT stderr_tail FROM runs WHERE method = 'fault_nan'", tail, sizeof tail);
    cr_expect(strstr(tail, "non-finite") != NULL, "the stderr tail is kept: %s", tail);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) WHERE r.status = 'ok'"), 2,
                 "the ok runs keep their scores");
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM run_scores"), 2, "the runs that did not end ok keep none");
    /* --retry-failed reruns only the failed ones; without faults armed they pass */
    cr_expect_eq(wait_code(start(args, out, err)), 0, "a plain rerun keeps failed runs");
    char *o = slurp(out);
    cr_expect(strstr(o, "0 run") && strstr(o, "4 kept as failed"), "%s", o);
    free(o);
    char *rargs[] = {"run", yaml, "--db", db, "--retry-failed", NULL};
    cr_expect_eq(wait_code(start(rargs, out, err)), 0, "%s", slurp(err));
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 6);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM run_scores"), 6, "retried runs that end ok keep scores");
    cr_expect_eq(q_int(db, "SELECT attempts FROM runs WHERE method = 'full'"), 1);
    cr_expect_eq(q_int(db, "SELECT attempts FROM runs WHERE method = 'fault_segv'"), 2);
    /* --force reruns everything, ok runs included */
    char *fargs[] = {"run", yaml, "--db", db, "--force", NULL};
    cr_expect_eq(wait_code(start(fargs, out, err)), 0, "%s", slurp(err));
    cr_expect_eq(q_int(db, "SELECT attempts FROM runs WHERE method = 'full'"), 2);
    cr_expect_eq(q_int(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 6);
    rm_tmp();
}

/* memory_limit bounds a worker's own memory, its anonymous RSS: the pages of a
 * dataset cache it maps (1M generated rows, 160 MB, shared by every worker) do
 * not count, and the address space the engine maps but does not use (OpenBLAS's
 * buffer) does not refuse it (the worker spun in OpenBLAS's retries until the
 * timeout). An allocation past the limit still ends as oom
 * (faults_each_get_their_status). */
Test(sweep, memory_limit_counts_the_workers_own_memory, .timeout = 120) {
    tfiles t;
    char cache[128], yaml[1024];
    tfiles_init(&t, ""); /* the folder first: the cache goes in it */
    path(cache, sizeof cache, "cache");
    snprintf(yaml, sizeof yaml,
             "name: ml\n"
             "datasets:\n  syn: {kind: synthetic, rows: 1000000, fields: 26, cardinality: 1000, dense: 13, seed: 3}\n"
             "model: {bottom_mlp: [8], top_mlp: [], interaction: dot}\n"
             "train: {epochs: 0.02, batch: 1024, optimizer: adagrad, lr: 0.05}\n"
             "matrix:\n  method: [full]\n  dim: [8]\n  ratio: [1]\n"
             "jobs: 1\nthreads: 2\ntimeout: 30\nmemory_limit: 64MiB\ncache_dir: %s\n",
             cache);
    write_text(t.yaml, yaml);
    char *args[] = {"run", t.yaml, "--db", t.db, NULL};
    cr_expect_eq(wait_code(start(args, t.out, t.err)), 0, "%s", slurp(t.err));
    expect_status(t.db, "full", "ok");
    const long long mib = 1 << 20;
    cr_expect_gt(q_int(t.db, "SELECT MAX(rss_file) FROM rss_samples"), 64 * mib, "the cache's pages were mapped");
    cr_expect_gt(q_int(t.db, "SELECT MAX(rss) FROM rss_samples"), 64 * mib, "the whole RSS passed the limit");
    cr_expect_lt(q_int(t.db, "SELECT MAX(rss_anon) FROM rss_samples"), 64 * mib, "the worker's own memory did not");
    rm_tmp();
}

/* ---- peak RSS is real ---- */

static long long q_run(const char *db, const char *col, const char *method, const char *dataset, int ratio) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM runs WHERE method = '%s' AND dataset = '%s' AND ratio_requested = %d AND status = 'ok'",
             col, method, dataset, ratio);
    return q_int(db, sql);
}

Test(sweep, peak_rss_tracks_table_bytes) {
    tfiles t;
    /* one big field: 250k vs 1M rows at dim 16 = 16 vs 64 MB of fp32 table */
    tfiles_init(&t,
               "name: rss\n"
               "datasets:\n"
               "  small: {kind: synthetic, rows: 4000, fields: 1, cardinality: 250000, dense: 2, seed: 1}\n"
               "  big:   {kind: synthetic, rows: 4000, fields: 1, cardinality: 1000000, dense: 2, seed: 1}\n"
               "model: {bottom_mlp: [16], top_mlp: [8], interaction: dot}\n"
               "train: {epochs: 0.05, batch: 64, optimizer: sgd, emb_optimizer: sgd, lr: 0.05}\n"
               "matrix:\n  dataset: [small, big]\n  method: [full]\n  dim: [16]\n  ratio: [1]\n"
               "include:\n  - {dataset: big, method: hash, ratio: 16}\njobs: 1\n");
    char *db = t.db, *out = t.out, *err = t.err;
    char *args[] = {"run", t.yaml, "--db", db, NULL};
    cr_assert_eq(wait_code(start(args, out, err)), 0, "%s", slurp(err));
    long long fs = q_run(db, "peak_rss_train", "full", "small", 1), fb = q_run(db, "peak_rss_train", "full", "big", 1);
    long long hb = q_run(db, "peak_rss_train", "hash", "big", 16);
    long long es = q_run(db, "bytes_infer", "full", "small", 1), eb = q_run(db, "bytes_infer", "full", "big", 1);
    long long ehb = q_run(db, "bytes_infer", "hash", "big", 16);
    cr_assert(fs > 0 && fb > 0 && hb > 0 && es > 0 && eb > 0 && ehb > 0);
    cr_expect_geq(eb, 4 * es - 1024, "4x the rows");
    /* 4x the rows (3x the small table's bytes more): the peak grows by at least
     * that much, 3x the small table's embedding bytes */
    double growth = (double)(fb - fs), table_growth = (double)(eb - es);
    cr_expect_geq(table_growth, 3.0 * (double)es - 4096, "table grew %.1f MB", table_growth / 1e6);
    cr_expect_geq(growth, 3.0 * (double)es, "peak grew %.1f MB; 3x the small table is %.1f MB", growth / 1e6,
                  3.0 * (double)es / 1e6);
    /* 16x fewer inference bytes: a lower peak, by most of the difference */
    cr_expect_leq(ehb * 15, eb, "hash at 16x has ~16x fewer bytes");
    cr_expect_lt(hb, fb, "hash peak %lld >= full peak %lld", hb, fb);
    cr_expect_geq((double)(fb - hb), 0.75 * (double)(eb - ehb), "peak difference %.1f MB vs bytes %.1f MB",
                  (double)(fb - hb) / 1e6, (double)(eb - ehb) / 1e6);
    /* the anonymous memory (the tables, optimizer state and scratch; not the
     * mapped binary or libraries): hash's sampled peak sits below full's by
     * at least 80% of the difference of their training bytes */
    long long fa = q_run(db, "rss_anon_peak", "full", "big", 1), ha = q_run(db, "rss_anon_peak", "hash", "big", 16);
    long long tf = q_run(db, "bytes_train", "full", "big", 1), th = q_run(db, "bytes_train", "hash", "big", 16);
    cr_assert(fa > 0 && ha > 0 && tf > th, "anon %lld %lld, train bytes %lld %lld", fa, ha, tf, th);
    cr_expect_geq((double)(fa - ha), 0.8 * (double)(tf - th), "anon peak difference %.1f MB vs training bytes %.1f MB",
                  (double)(fa - ha) / 1e6, (double)(tf - th) / 1e6);
    rm_tmp();
}
