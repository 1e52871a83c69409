/* test_scores.c: the test scores a run keeps (harness/sweep/scores.h, the
 * run_scores table, db_scores_read, `embsweep train --scores`).
 *   file        a scores file round-trips (logits bit for bit, labels packed
 *               LSB first, little-endian header); each malformed file (short,
 *               bad magic, version, row count, size, stray label bits) is
 *               refused with a message that says what is wrong; a failed save
 *               leaves no file
 *   sweep       one row per ok run, n = the test split's rows, the dataset's
 *               test labels in order, and the AUC of the stored logits equal to
 *               test_auc within 1e-12 where an earlier epoch was selected;
 *               not found (skipped run, unknown key) is n = 0
 *   keep_scores false keeps none, is not in the run key (turning it on reruns
 *               nothing), and a rerun without scores drops the old ones
 *   schema      a version-2 database is read (no scores, no error), migrated to
 *               3 and resumed without a rerun
 *   failures    a crashed worker leaves no scores and deletes those of its
 *               key's earlier attempt; a malformed scores file (the worker's
 *               test hook) keeps the run ok without scores, with the reason
 *               stored and a warning printed
 *   fds         50 runs (25 crashing) never hold more than one scores file per
 *               running worker, and the descriptor count does not grow
 *   read        db_scores_read refuses blobs whose sizes disagree with n, zero
 *               rows and another format (HX_ERR_FORMAT), skips runs not ok
 *   train       `embsweep train --scores FILE` writes the same format, whose
 *               AUC is the printed one; an unwritable path exits 1
 */
#define _GNU_SOURCE /* memfd_create */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness/core/metrics.h"
#include "harness/sweep/db.h"
#include "harness/sweep/scores.h"

/* ---- the file ---- */

/* A scores file of n rows in a fresh memfd: logit i = i - 0.5, label i = (i % 3
 * == 0). */
static int scores_memfd(int64_t n, float *logits, float *labels) {
    for (int64_t i = 0; i < n; i++) logits[i] = (float)i - 0.5f, labels[i] = i % 3 == 0;
    int fd = memfd_create("test-scores", MFD_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(scores_write_fd(fd, logits, labels, n), 0);
    return fd;
}

Test(scores, file_round_trips) {
    float lg[13], lb[13], lg2[13], lb2[13];
    int fd = scores_memfd(13, lg, lb);
    cr_expect_eq(lseek(fd, 0, SEEK_END), (off_t)scores_file_bytes(13));
    cr_expect_eq(scores_file_bytes(13), 16 + 52 + 2);
    unsigned char h[16];
    cr_assert_eq(pread(fd, h, 16, 0), 16);
    cr_expect(!memcmp(h, "EMBS\1\0\0\0\15\0\0\0\0\0\0\0", 16), "magic, version 1, n = 13, little-endian");
    scores_buf b;
    char err[256] = "";
    cr_assert_eq(scores_read_fd(fd, 13, &b, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(b.n, 13);
    /* labels 1,0,0,1,0,0,1,0 | 0,1,0,0,1 -> 0x49, 0x12 */
    cr_expect_eq(b.labels[0], 0x49);
    cr_expect_eq(b.labels[1], 0x12);
    cr_expect(!memcmp(b.logits + 4, "\0\0\0\077", 4), "logit 1 = 0.5f = 0x3f000000, little-endian");
    scores_decode_logits(b.logits, lg2, 13);
    scores_unpack_labels(b.labels, lb2, 13);
    cr_expect(!memcmp(lg, lg2, sizeof lg) && !memcmp(lb, lb2, sizeof lb));
    scores_buf_free(&b);
    cr_expect_eq(scores_read_fd(fd, -1, &b, err, sizeof err), HX_OK, "any row count");
    scores_buf_free(&b);
    close(fd);
}

/* Overwrite bytes of a good 13-row file (or set its size), read it as 13 rows. */
static hx_status read_damaged(off_t at, const void *bytes, size_t k, off_t size, char *err, size_t errlen) {
    float lg[13], lb[13];
    int fd = scores_memfd(13, lg, lb);
    if (k) cr_assert_eq(pwrite(fd, bytes, k, at), (ssize_t)k);
    if (size >= 0) cr_assert_eq(ftruncate(fd, size), 0);
    scores_buf b;
    hx_status rc = scores_read_fd(fd, 13, &b, err, errlen);
    cr_expect(rc != HX_OK || b.mem);
    if (rc != HX_OK) cr_expect(b.mem == NULL && b.n == 0, "nothing returned on failure");
    scores_buf_free(&b);
    close(fd);
    return rc;
}

Test(scores, malformed_files_are_refused_with_a_reason) {
    static const struct {
        off_t       at;
        const char *bytes;
        size_t      k;
        off_t       size;
        const char *want;
    } cases[] = {
        {0, "XMBS", 4, -1, "bad magic"},
        {4, "\2", 1, -1, "version 2"},
        {8, "\14", 1, -1, "holds 12 rows, the test split has 13"},
        {8, "\0", 1, -1, "declares 0 rows"},
        {15, "\200", 1, -1, "declares -"},
        {0, "", 0, 10, "truncated: 10 bytes, shorter than its 16-byte header"},
        {0, "", 0, 69, "truncated: 69 bytes, 70 expected for 13 rows"},
        {0, "", 0, 71, "too long: 71 bytes, 70 expected"},
        {69, "\377", 1, -1, "label bits set past its 13 rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        hx_status rc = read_damaged(cases[i].at, cases[i].bytes, cases[i].k, cases[i].size, err, sizeof err);
        cr_expect_eq(rc, HX_ERR_FORMAT, "case %zu: %s", i, err);
        cr_expect(strstr(err, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

Test(scores, save_writes_whole_files_only) {
    char dir[64], p[128], err[256];
    fx_tmpdir(dir);
    snprintf(p, sizeof p, "%s/s.bin", dir);
    float lg[3] = {1, -2, 3}, lb[3] = {1, 0, 1};
    hx_fault_io(1);
    cr_expect_eq(scores_save(p, lg, lb, 3, err, sizeof err), HX_ERR_IO);
    hx_fault_io(0);
    cr_expect(strstr(err, "cannot write") != NULL, "%s", err);
    cr_expect_neq(access(p, F_OK), 0, "no file after a failed write");
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    cr_expect_neq(access(tmp, F_OK), 0, "no temporary left");
    cr_assert_eq(scores_save(p, lg, lb, 3, err, sizeof err), HX_OK, "%s", err);
    size_t n;
    char *b = fx_read(p, &n);
    cr_expect_eq(n, scores_file_bytes(3));
    cr_expect_eq((unsigned char)b[n - 1], 0x5);
    free(b);
    fx_rmdir(dir);
}

/* ---- helpers for the sweeps below ---- */


static void q_text(const char *dbp, const char *sql, char *out, size_t n) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(dbp, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    const char *t = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    snprintf(out, n, "%s", t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void exec_sql(const char *dbp, const char *sql) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(dbp, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* A test's folder, sweep file and database. */
typedef struct sweep_t {
    char dir[64], yaml[128], db[160];
    char out[1 << 15];
} sweep_t;

static void sweep_init(sweep_t *t, const char *yaml) {
    fx_tmpdir(t->dir);
    fx_write(t->dir, "s.yaml", yaml, t->yaml);
    snprintf(t->db, sizeof t->db, "%s/r.db", t->dir);
}

/* `embsweep run` of the test's file and database, with extra flags; the exit status. */
static int sweep_run(sweep_t *t, const char *flags) {
    char args[512];
    snprintf(args, sizeof args, "run %s --db %s %s", t->yaml, t->db, flags);
    return fx_run_cli(args, t->out, sizeof t->out);
}

/* ---- a sweep keeps the selected scores of its ok runs ---- */

/* 4 epochs at lr 0.01 on 3000 rows overfit: validation selects an earlier epoch
 * in some runs (checked), so the scores of the final evaluation would not give
 * test_auc. full at ratio 2 is unreachable: 6 ok runs, 2 skipped. */
#define SELECT_YAML                                                                            \
    "name: sel\n"                                                                              \
    "datasets:\n  syn: {kind: synthetic, rows: 3000, fields: 3, cardinality: 300, dense: 2}\n"  \
    "model: {bottom_mlp: [8], top_mlp: [8], interaction: dot}\n"                               \
    "train: {epochs: 4, batch: 64, lr: 0.01}\n"                                                \
    "matrix: {method: [full, hash], dim: [8], ratio: [1, 2], seed: [1, 2]}\n"                  \
    "unreachable: skip\njobs: 2\n"

Test(scores, sweep_keeps_the_selected_scores_of_each_ok_run) {
    sweep_t t;
    sweep_init(&t, SELECT_YAML);
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 6);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 6, "one row per ok run");
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) WHERE r.status <> 'ok'"), 0);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) JOIN datasets d"
                             " ON d.id = r.dataset_id WHERE s.n = d.rows_test AND s.n = 300 AND s.format = 'f32le'"),
                 6, "n = the test split's rows");
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(DISTINCT labels) FROM run_scores"), 1, "one test split, one label blob");
    cr_expect_geq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND best_epoch < 4"), 1,
                  "the case needs runs where an earlier epoch was selected");
    /* the labels are the dataset's test labels, in order */
    ds_data *ds = fx_load("synthetic", NULL, NULL, "rows=3000", "fields=3", "cardinality=300", "dense=2");
    const float *y = ds->label + ds->n_train + ds->n_val;
    sqlite3 *h;
    char err[512] = "";
    cr_assert_eq(db_open_read(t.db, &h, err, sizeof err), HX_OK, "%s", err);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT key, test_auc, best_epoch FROM runs WHERE status = 'ok'", -1, &st,
                                    NULL), SQLITE_OK);
    int runs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        double auc = sqlite3_column_double(st, 1);
        float *lg = NULL, *lb = NULL;
        int64_t n = -1;
        cr_assert_eq(db_scores_read(h, key, &lg, &lb, &n, err, sizeof err), HX_OK, "%s: %s", key, err);
        cr_assert_eq(n, ds->n_test, "%s", key);
        cr_expect(!memcmp(lb, y, (size_t)n * sizeof(float)), "%s: the test labels in test-row order", key);
        double got = metrics_auc(lg, lb, n);
        cr_expect(fabs(got - auc) <= 1e-12, "%s (epoch %d): AUC of the stored scores %.15f, test_auc %.15f", key,
                  sqlite3_column_int(st, 2), got, auc);
        hx_free(lg), hx_free(lb);
        runs++;
    }
    sqlite3_finalize(st);
    cr_expect_eq(runs, 6);
    /* not found: a skipped run, a key that does not exist */
    char skipped[32];
    q_text(t.db, "SELECT key FROM runs WHERE status = 'skipped'", skipped, sizeof skipped);
    const char *none[] = {skipped, "0000000000000000"};
    for (int i = 0; i < 2; i++) {
        float *lg = (float *)1, *lb = (float *)1;
        int64_t n = -1;
        cr_expect_eq(db_scores_read(h, none[i], &lg, &lb, &n, err, sizeof err), HX_OK, "%s", err);
        cr_expect(n == 0 && lg == NULL && lb == NULL, "%s: not found is n = 0 and NULL arrays", none[i]);
    }
    sqlite3_close(h);
    ds_free(ds);
    fx_rmdir(t.dir);
}

/* ---- keep_scores: false ---- */

#define TINY_YAML                                                                 \
    "name: tiny\n"                                                                \
    "datasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2, cardinality: 50}\n" \
    "train: {epochs: 0.2}\n"                                                      \
    "matrix: {method: [full, hash], dim: [4], ratio: [1], seed: [1]}\n"

Test(scores, keep_scores_false_keeps_none_and_is_not_in_the_run_key) {
    sweep_t t;
    sweep_init(&t, TINY_YAML "keep_scores: false\n");
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND test_auc IS NOT NULL"), 2);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 0, "keep_scores: false keeps none");
    /* turning it on reruns nothing: it is not part of the run key */
    fx_write(t.dir, "s.yaml", TINY_YAML "keep_scores: true\n", t.yaml);
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    cr_expect(strstr(t.out, "0 run, 0 ok, 0 not ok; 2 already ok") != NULL, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 0);
    cr_assert_eq(sweep_run(&t, "--force"), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 2, "--force: now kept");
    /* a rerun with keep_scores: false drops the scores of the attempt it replaces */
    fx_write(t.dir, "s.yaml", TINY_YAML "keep_scores: false\n", t.yaml);
    cr_assert_eq(sweep_run(&t, "--force"), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 0, "stale scores are not left behind");
    fx_rmdir(t.dir);
}

/* ---- schema version 2 -> 3 ---- */

/* A version-2 database is a version-3 one without run_scores (v3 only adds that
 * table), so one is made from a finished sweep by dropping it. */
Test(scores, v2_database_migrates_and_resumes_without_rerunning) {
    sweep_t t;
    sweep_init(&t, TINY_YAML);
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    exec_sql(t.db, "DROP TABLE run_scores; PRAGMA user_version = 2;");
    /* a reader of a v2 database finds no scores, and no error */
    sqlite3 *h;
    char err[512] = "", key[32];
    q_text(t.db, "SELECT key FROM runs WHERE method = 'full'", key, sizeof key);
    cr_assert_eq(db_open_read(t.db, &h, err, sizeof err), HX_OK, "%s", err);
    float *lg, *lb;
    int64_t n = -1;
    cr_expect_eq(db_scores_read(h, key, &lg, &lb, &n, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(n, 0);
    sqlite3_close(h);
    char args[256];
    snprintf(args, sizeof args, "status --db %s", t.db);
    cr_expect_eq(fx_run_cli(args, t.out, sizeof t.out), 0, "status reads a v2 database: %s", t.out);
    cr_expect_eq(fx_q_int(t.db, "PRAGMA user_version"), 2, "left alone by status");
    /* the writer migrates it and resumes: nothing reruns */
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    cr_expect(strstr(t.out, "0 run, 0 ok, 0 not ok; 2 already ok") != NULL, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 0, "the table exists, empty");
    cr_expect_eq(fx_q_int(t.db, "SELECT SUM(attempts) FROM runs"), 2);
    cr_assert_eq(sweep_run(&t, "--force"), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 2, "written from then on");
    fx_rmdir(t.dir);
}

/* ---- runs that do not end ok ---- */

Test(scores, a_dead_worker_leaves_no_scores_and_replaces_stale_ones) {
    sweep_t t;
    sweep_init(&t, "name: dead\n"
                   "datasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2, cardinality: 50}\n"
                   "train: {epochs: 0.2}\n"
                   "matrix: {method: [full, fault_segv], dim: [4], ratio: [1], seed: [1]}\n");
    setenv("EMBSWEEP_FAULTS", "1", 1);
    cr_assert_eq(sweep_run(&t, ""), 1, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE method = 'fault_segv' AND status = 'crashed'"), 1);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) WHERE r.method = 'full'"), 1);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 1, "the crashed run has none");
    /* unarmed, the retried run ends ok with scores; armed again, --force crashes
     * it: the scores of its earlier attempt go */
    unsetenv("EMBSWEEP_FAULTS");
    cr_assert_eq(sweep_run(&t, "--retry-failed"), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 2);
    setenv("EMBSWEEP_FAULTS", "1", 1);
    cr_assert_eq(sweep_run(&t, "--force"), 1, "%s", t.out);
    unsetenv("EMBSWEEP_FAULTS");
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) WHERE r.method = 'fault_segv'"),
                 0, "a failed attempt deletes the stale scores of its key");
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores s JOIN runs r USING (key) WHERE r.method = 'full'"
                             " AND r.attempts = 2"), 1, "full's rerun replaced its own");
    fx_rmdir(t.dir);
}

/* The worker's scores file damaged after it was written (a test hook of the
 * worker, armed like the fault methods): the run stays ok with its metrics,
 * keeps no scores (the earlier attempt's go too), its reason says why, and a
 * warning is printed. */
Test(scores, a_malformed_scores_file_keeps_the_run_without_scores) {
    sweep_t t;
    sweep_init(&t, TINY_YAML);
    cr_assert_eq(sweep_run(&t, ""), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 2);
    static const char *const how[] = {"magic", "short"};
    static const char *const want[] = {"scores not kept: not a scores file: bad magic",
                                       "scores not kept: the scores file is truncated"};
    for (int i = 0; i < 2; i++) {
        setenv("EMBSWEEP_FAULTS", "1", 1);
        setenv("EMBSWEEP_FAULT_SCORES", how[i], 1);
        int rc = sweep_run(&t, "--force");
        unsetenv("EMBSWEEP_FAULTS"), unsetenv("EMBSWEEP_FAULT_SCORES");
        cr_expect_eq(rc, 0, "%s: the runs are ok: %s", how[i], t.out);
        cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND test_auc IS NOT NULL"), 2);
        cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 0, "%s: none kept", how[i]);
        char reason[512], sql[160];
        q_text(t.db, "SELECT reason FROM runs WHERE method = 'full'", reason, sizeof reason);
        cr_expect(!strncmp(reason, want[i], strlen(want[i])), "%s: reason '%s'", how[i], reason);
        snprintf(sql, sizeof sql, "embsweep run: warning: run ");
        cr_expect(strstr(t.out, sql) && strstr(t.out, want[i]), "%s: a warning line:\n%s", how[i], t.out);
    }
    /* a clean rerun keeps them again and clears the reason */
    cr_assert_eq(sweep_run(&t, "--force"), 0, "%s", t.out);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 2);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE reason IS NULL"), 2);
    fx_rmdir(t.dir);
}

/* ---- descriptors ---- */

/* The harness's open descriptors: all of them, and its workers' scores files. */
static void count_fds(pid_t pid, int *all, int *memfds) {
    char dir[64], p[400], link[256];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    *all = *memfds = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        ssize_t k = readlink(p, link, sizeof link - 1);
        if (k < 0) continue;
        link[k] = 0;
        (*all)++;
        *memfds += strstr(link, "memfd:embsweep-scores") != NULL;
    }
    closedir(d);
}

/* 50 runs, half of them crashing, 2 at a time: the harness never holds more
 * than one scores file per running worker, and its descriptor count does not
 * grow with the runs (a leak of one descriptor a run would pass 50). */
Test(scores, no_descriptor_leak_across_50_runs, .timeout = 240) {
    char seeds[200];
    size_t u = (size_t)snprintf(seeds, sizeof seeds, "[1");
    for (int i = 2; i <= 25; i++) u += (size_t)snprintf(seeds + u, sizeof seeds - u, ", %d", i);
    snprintf(seeds + u, sizeof seeds - u, "]");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: fds\n"
             "datasets:\n  syn: {kind: synthetic, rows: 500, fields: 2, cardinality: 20}\n"
             "train: {epochs: 0.1}\n"
             "matrix: {method: [full, fault_segv], dim: [4], ratio: [1], seed: %s}\njobs: 2\n", seeds);
    sweep_t t;
    sweep_init(&t, yaml);
    setenv("EMBSWEEP_FAULTS", "1", 1);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1), dup2(nul, 2);
        const char *bin = getenv("EMBSWEEP_BIN");
        execl(bin, bin, "run", t.yaml, "--db", t.db, (char *)NULL);
        _exit(127);
    }
    int max_all = 0, max_mem = 0, samples = 0, st;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        int all, mem;
        count_fds(pid, &all, &mem);
        if (all > max_all) max_all = all;
        if (mem > max_mem) max_mem = mem;
        samples++;
        usleep(2000);
    }
    unsetenv("EMBSWEEP_FAULTS");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d (some runs crashed)", WEXITSTATUS(st));
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 25);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM runs WHERE status = 'crashed'"), 25);
    cr_expect_eq(fx_q_int(t.db, "SELECT COUNT(*) FROM run_scores"), 25);
    cr_log_info("%d samples: at most %d descriptors, %d scores files", samples, max_all, max_mem);
    cr_expect_gt(samples, 20);
    cr_expect_leq(max_mem, 2, "at most one scores file per running worker, %d seen", max_mem);
    cr_expect_lt(max_all, 30, "%d descriptors open at once", max_all);
    fx_rmdir(t.dir);
}

/* ---- db_scores_read on rows it must refuse ---- */

/* Each row is inserted past the table's CHECK (as a damaged or hand-edited
 * database would hold it) and read through a read-only handle. */
Test(scores, db_scores_read_refuses_rows_that_disagree_with_n) {
    char dir[64], dbp[128], err[512] = "";
    fx_tmpdir(dir);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    db *d;
    cr_assert_eq(db_open(dbp, &d, err, sizeof err), HX_OK, "%s", err);
    db_close(d);
    exec_sql(dbp,
             "PRAGMA ignore_check_constraints = 1;"
             "INSERT INTO runs(key, sweep, status, method, dataset, dim, ratio_requested, seed, config) VALUES"
             " ('good', 's', 'ok', 'full', 'syn', 4, 1, 1, '{}'), ('short', 's', 'ok', 'full', 'syn', 4, 1, 1, '{}'),"
             " ('labels', 's', 'ok', 'full', 'syn', 4, 1, 1, '{}'), ('f16', 's', 'ok', 'full', 'syn', 4, 1, 1, '{}'),"
             " ('zero', 's', 'ok', 'full', 'syn', 4, 1, 1, '{}'), ('failed', 's', 'failed', 'full', 'syn', 4, 1, 1, '{}');"
             /* 3 rows: logits 1.0f, -2.0f, 0.5f; labels 1, 0, 1 */
             "INSERT INTO run_scores VALUES ('good', 3, 'f32le', x'0000803f000000c00000003f', x'05'),"
             " ('short', 3, 'f32le', x'0000803f000000c0', x'05'),"
             " ('labels', 3, 'f32le', x'0000803f000000c00000003f', x'0500'),"
             " ('f16', 3, 'f16le', x'003c00c00038', x'05'),"
             " ('zero', 0, 'f32le', x'', x''),"
             " ('failed', 3, 'f32le', x'0000803f000000c00000003f', x'05');");
    sqlite3 *h;
    cr_assert_eq(db_open_read(dbp, &h, err, sizeof err), HX_OK, "%s", err);
    float *lg, *lb;
    int64_t n;
    cr_assert_eq(db_scores_read(h, "good", &lg, &lb, &n, err, sizeof err), HX_OK, "%s", err);
    cr_expect(n == 3 && lg[0] == 1.0f && lg[1] == -2.0f && lg[2] == 0.5f && lb[0] == 1 && lb[1] == 0 && lb[2] == 1);
    hx_free(lg), hx_free(lb);
    static const struct { const char *key, *want; } bad[] = {
        {"short", "3 rows of scores with 8 bytes of logits and 1 of labels (expected 12 and 1)"},
        {"labels", "3 rows of scores with 12 bytes of logits and 2 of labels (expected 12 and 1)"},
        {"f16", "scores in format 'f16le', this embsweep reads 'f32le'"},
        {"zero", "scores of 0 rows"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg = lb = (float *)1;
        n = -1;
        err[0] = 0;
        cr_expect_eq(db_scores_read(h, bad[i].key, &lg, &lb, &n, err, sizeof err), HX_ERR_FORMAT, "%s", bad[i].key);
        cr_expect(strstr(err, bad[i].want) != NULL, "%s: '%s'", bad[i].key, err);
        cr_expect(n == 0 && !lg && !lb, "%s: nothing returned", bad[i].key);
    }
    cr_expect_eq(db_scores_read(h, "failed", &lg, &lb, &n, err, sizeof err), HX_OK);
    cr_expect_eq(n, 0, "the scores of a run that is not ok are not read");
    sqlite3_close(h);
    fx_rmdir(dir);
}

/* ---- embsweep train --scores ---- */

Test(scores, train_writes_the_same_format) {
    char dir[64], p[128], args[512];
    static char out[1 << 14];
    fx_tmpdir(dir);
    snprintf(p, sizeof p, "%s/s.bin", dir);
    snprintf(args, sizeof args,
             "train --rows 3000 --fields 3 --cardinality 300 --dense 2 --epochs 4 --lr 0.01 --dim 8 --bottom 8 "
             "--top 8 --batch 64 --scores %s", p);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "scores     300 test logits and labels in ") != NULL, "%s", out);
    const char *a = strstr(out, "test       AUC ");
    int epoch = 0;
    const char *e = strstr(out, "(selected epoch ");
    cr_assert(a && e && sscanf(e, "(selected epoch %d)", &epoch) == 1, "%s", out);
    double printed = atof(a + 15);
    int fd = open(p, O_RDONLY);
    cr_assert_geq(fd, 0);
    scores_buf b;
    char err[256] = "";
    cr_assert_eq(scores_read_fd(fd, -1, &b, err, sizeof err), HX_OK, "%s", err);
    close(fd);
    cr_expect_eq(b.n, 300);
    float lg[300], lb[300];
    scores_decode_logits(b.logits, lg, b.n);
    scores_unpack_labels(b.labels, lb, b.n);
    scores_buf_free(&b);
    cr_expect_lt(epoch, 4, "an earlier epoch was selected");
    cr_expect(fabs(metrics_auc(lg, lb, 300) - printed) <= 5e-5, "AUC %.5f, printed %.4f", metrics_auc(lg, lb, 300),
              printed);
    /* a file that cannot be written: exit 1, the reason, nothing left behind */
    snprintf(args, sizeof args, "train --rows 1000 --fields 2 --epochs 0.1 --scores %s/no/s.bin", dir);
    cr_expect_eq(fx_run_cli(args, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "embsweep train: cannot create ") != NULL, "%s", out);
    fx_rmdir(dir);
}
