/* test_fault.c: allocation failure at every site, as SQLite's fault loops do.
 * For n = 1, 2, ... the nth checked allocation (hx_malloc, hx_calloc,
 * hx_realloc) fails; the operation must end with a clean error (a status and a
 * message, no crash), leave nothing half-written, and free what it took (the
 * sanitizer build's leak check fails the test otherwise). The loop ends at the
 * first n that the whole operation no longer reaches; the count of sites tried
 * is printed. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <string.h>

#include "leak_check.h"

#include "datasets/dataset.h"
#include "fixtures.h"
#include "harness/core/util.h"
#include "harness/sweep/config.h"

/* Sweep file loading: parse, validate, plan (datasets built) and expand. */
Test(fault, config_load_fails_cleanly_at_every_allocation) {
    long n = 1;
    for (;; n++) {
        cfg_sweep *sw = NULL;
        char *errs = NULL;
        hx_fault_alloc(n);
        hx_status rc = cfg_load("tests/sweeps/grid.yaml", 0, &sw, &errs);
        long seen = hx_fault_alloc_seen();
        hx_fault_alloc(0);
        if (seen < n) { /* the failure was never reached: the load is whole */
            cr_assert_eq(rc, HX_OK, "%s", errs ? errs : "");
            cfg_free(sw);
            break;
        }
        cr_expect_neq(rc, HX_OK, "allocation %ld failed, yet the load succeeded", n);
        cr_expect_null(sw, "allocation %ld: no half-built sweep is returned", n);
        cr_expect(errs && *errs, "allocation %ld: the failure says why", n);
        cfg_free(sw);
        hx_free(errs);
    }
    cr_log_info("config load: %ld allocation sites failed in turn", n - 1);
    expect_no_leaks("config load");
    cr_expect_gt(n, 10, "the loop reached the allocations");
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int k = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        k += e->d_name[0] != '.' && !(len > 5 && !strcmp(e->d_name + len - 5, ".lock")); /* builders' lock */
    }
    closedir(d);
    return k;
}

/* Dataset build from text into the cache: every failure leaves no cache and no
 * temporary file behind (the builders' lock file stays, as after a success).
 * io = 0 fails allocations, 1 writes. Returns the number of sites failed. */
static long build_loop(int io) {
    char dir[64], path[128], cache[160], err[1024];
    fx_tmpdir(dir);
    static char text[8192];
    fx_criteo_text(text, sizeof text, 40, 5);
    fx_write(dir, "c.tsv", text, path);
    long n = 1;
    for (;; n++) {
        snprintf(cache, sizeof cache, "%s/cache%ld", dir, n);
        ds_data *d = NULL;
        io ? hx_fault_io(n) : hx_fault_alloc(n);
        hx_status rc = fx_try("criteo", path, cache, err, sizeof err, &d);
        long seen = io ? hx_fault_io_seen() : hx_fault_alloc_seen();
        hx_fault_io(0), hx_fault_alloc(0);
        if (seen < n) { /* the failure was never reached: the build is whole */
            cr_assert_eq(rc, HX_OK, "%s", err);
            cr_assert_eq(d->n_rows, 40);
            ds_free(d);
            break;
        }
        cr_expect_eq(rc, io ? HX_ERR_IO : HX_ERR_NOMEM, "site %ld failed, yet: %s", n, rc == HX_OK ? "ok" : err);
        cr_expect_null(d, "site %ld", n);
        cr_expect(err[0], "site %ld: the failure says why", n);
        cr_expect_eq(count_entries(cache), 0, "site %ld: nothing left in the cache folder", n);
        ds_free(d);
    }
    fx_rmdir(dir);
    expect_no_leaks(io ? "dataset build, writes" : "dataset build, allocations");
    return n - 1;
}

Test(fault, dataset_build_fails_cleanly_at_every_allocation) {
    long n = build_loop(0);
    cr_log_info("dataset build: %ld allocation sites failed in turn", n);
    cr_expect_gt(n, 10, "the loop reached the allocations");
}

Test(fault, dataset_build_fails_cleanly_at_every_write) {
    long n = build_loop(1);
    cr_log_info("dataset build: %ld write sites failed in turn", n);
    cr_expect_gt(n, 10, "the loop reached the writes");
}
/* ---- a short sweep, through the command line ---- */

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>

static const char k_tiny_yaml[] =
    "name: tiny\n"
    "datasets:\n  syn: {kind: synthetic, rows: 2000, fields: 3}\n"
    "train: {epochs: 0.2}\n"
    "matrix: {method: [full, hash], dim: [4], ratio: [1, 2], seed: [1]}\n"
    "unreachable: skip\n";

/* Run the sweep with EMBSWEEP_FAULT_<what>=n; returns the exit status (-1 on a
 * signal) and how many sites the process reached. */
static int run_faulted(const char *yaml, const char *dbp, const char *what, long n, char *out, size_t cap,
                       long *reached) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "EMBSWEEP_FAULT_%s=%ld %s run %s --db %s 2>&1", what, n, getenv("EMBSWEEP_BIN"),
             yaml, dbp);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t used = fread(out, 1, cap - 1, p);
    out[used] = 0;
    int st = pclose(p);
    long a = -1, w = -1;
    const char *r = strstr(out, "fault injection reached ");
    if (r) sscanf(r, "fault injection reached %ld allocations, %ld writes", &a, &w);
    *reached = !strcmp(what, "IO") ? w : a;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The database passes integrity_check, and each run the output called ok is
 * stored as ok. */
static void check_db(const char *dbp, const char *out, long n) {
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        cr_expect_eq(sqlite3_step(st), SQLITE_ROW, "site %ld", n);
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "ok", "site %ld: integrity", n);
        sqlite3_finalize(st);
    }
    for (const char *l = strstr(out, "] ok "); l; l = strstr(l + 1, "] ok ")) {
        char key[17] = {0};
        if (sscanf(l + 5, " %16s", key) != 1) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT status FROM runs WHERE key = '%s'", key);
        const char *status = "(none)";
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            status = (const char *)sqlite3_column_text(st, 0);
        cr_expect_str_eq(status, "ok", "site %ld: run %s printed as ok is stored as %s", n, key, status);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* Fail each allocation or write of the sweep parent in turn on a fresh
 * database: a clean exit every time, an intact database, no run called ok that
 * was not stored, and a rerun without faults that completes every run. */
static long sweep_loop(const char *what) {
    char dir[64], yaml[128], dbp[160], out[16384];
    fx_tmpdir(dir);
    fx_write(dir, "tiny.yaml", k_tiny_yaml, yaml);
    long n = 1, reached;
    for (;; n++) {
        snprintf(dbp, sizeof dbp, "%s/r%ld.db", dir, n);
        int rc = run_faulted(yaml, dbp, what, n, out, sizeof out, &reached);
        cr_assert(rc >= 0 && rc < 128, "site %ld: the process died on a signal:\n%s", n, out);
        cr_assert(!strstr(out, "Sanitizer"), "site %ld: a sanitizer report (leak or memory error):\n%s", n, out);
        cr_assert_geq(reached, 0, "site %ld: no fault report:\n%s", n, out);
        if (reached < n) {
            cr_assert_eq(rc, 0, "%s", out);
            break;
        }
        if (access(dbp, F_OK) == 0) check_db(dbp, out, n);
        rc = run_faulted(yaml, dbp, what, 0, out, sizeof out, &reached);
        cr_expect_eq(rc, 0, "site %ld: the rerun completes:\n%s", n, out);
        cr_expect(strstr(out, "3 ok") || strstr(out, "3 already ok") || strstr(out, " ok;"), "%s", out);
        check_db(dbp, out, n);
    }
    fx_rmdir(dir);
    return n - 1;
}

Test(fault, sweep_fails_cleanly_at_every_write) {
    long n = sweep_loop("IO");
    cr_log_info("sweep: %ld write sites failed in turn", n);
    cr_expect_gt(n, 20, "the loop reached the writes");
}

Test(fault, sweep_fails_cleanly_at_every_allocation) {
    long n = sweep_loop("ALLOC");
    cr_log_info("sweep: %ld allocation sites failed in turn", n);
    cr_expect_gt(n, 20, "the loop reached the allocations");
}
