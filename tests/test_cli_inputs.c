/* test_cli_inputs.c: command lines that must be refused before any work is
 * done, each with a non-zero exit and a message saying what was expected. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

/* An empty --db once ran the whole sweep into SQLite's private temporary
 * database and exited 0, throwing every result away. */
Test(cli_inputs, empty_db_path_is_an_error) {
    char out[4096];
    int rc = fx_run_cli("run tests/sweeps/grid.yaml --db ''", out, sizeof out);
    cr_expect_neq(rc, 0, "%s", out);
    cr_expect(strstr(out, "is not a file name"), "%s", out);
    cr_expect(!strstr(out, " ok "), "nothing ran: %s", out);
    cr_expect_neq(fx_run_cli("run tests/sweeps/grid.yaml --db :memory:", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("status --db ''", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("plot --db '' --out /nonexistent", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("export --db ''", out, sizeof out), 0, "%s", out);
}

/* A damaged index is reported at open (quick_check), before any write. */
Test(cli_inputs, damaged_database_is_refused) {
    char dir[64], yaml[128], dbp[160], out[8192], cmd[400];
    fx_tmpdir(dir);
    fx_write(dir, "t.yaml",
             "name: t\ndatasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2}\ntrain: {epochs: 0.1}\n"
             "matrix: {method: [full], dim: [4], ratio: [1], seed: [1, 2]}\n",
             yaml);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    snprintf(cmd, sizeof cmd, "run %s --db %s", yaml, dbp);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    /* Zero the cells of one index's root page, keeping the page header. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(dbp, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                                        "tbl_name = 'runs' LIMIT 1", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "the runs table has an index");
    long page = sqlite3_column_int(st, 0), psize = 0;
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    psize = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    FILE *f = fopen(dbp, "r+b");
    cr_assert_not_null(f);
    static char junk[65536];
    memset(junk, 0x5a, sizeof junk);
    fseek(f, (page - 1) * psize + 100, SEEK_SET);
    fwrite(junk, 1, (size_t)psize - 100, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "run %s --db %s", yaml, dbp);
    cr_expect_neq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "is damaged") || strstr(out, "malformed"), "%s", out);
    fx_rmdir(dir);
}

/* The read-only commands never write: status on an empty file once wrote the
 * whole schema into it, and status, plot and export could not open a database
 * on read-only media or while a sweep held it. */
Test(cli_inputs, read_only_commands_never_write) {
    char dir[64], yaml[128], dbp[160], empty[160], out[8192], cmd[1024];
    fx_tmpdir(dir);
    fx_write(dir, "t.yaml",
             "name: t\ndatasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2}\ntrain: {epochs: 0.1}\n"
             "matrix: {method: [full], dim: [4], ratio: [1], seed: [1]}\n",
             yaml);
    fx_write(dir, "empty.db", "", empty);
    snprintf(cmd, sizeof cmd, "status --db %s", empty);
    cr_expect_neq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "not an embsweep results database"), "%s", out);
    struct stat st;
    cr_assert_eq(stat(empty, &st), 0);
    cr_expect_eq(st.st_size, 0, "status wrote %lld bytes into an empty file", (long long)st.st_size);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    snprintf(cmd, sizeof cmd, "run %s --db %s", yaml, dbp);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    /* a writer holds the database: the readers still read */
    char lp[200];
    snprintf(lp, sizeof lp, "%s.writer", dbp);
    int fd = open(lp, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    snprintf(cmd, sizeof cmd, "status --db %s", dbp);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "ok=1"), "%s", out);
    close(fd);
    /* read-only media: a read-only bind mount of the folder */
    char src[160], mnt[160];
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(mnt, sizeof mnt, "%s/ro", dir);
    cr_assert_eq(mkdir(src, 0755), 0);
    cr_assert_eq(mkdir(mnt, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp %s %s/r.db && mount --bind %s %s 2>/dev/null && mount -o remount,bind,ro %s 2>/dev/null",
             dbp, src, src, mnt, mnt);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "umount %s 2>/dev/null", mnt);
        (void)!system(cmd);
        fx_rmdir(dir);
        cr_skip_test("cannot make a read-only bind mount here (needs root and mount rights)");
    }
    const char *ro_cmds[] = {"status --db %s/r.db", "export --db %s/r.db", "plot --db %s/r.db --out %s/../plots"};
    for (int i = 0; i < 3; i++) {
        char c[400];
        snprintf(c, sizeof c, ro_cmds[i], mnt, mnt);
        cr_expect_eq(fx_run_cli(c, out, sizeof out), 0, "%s on read-only media: %s", c, out);
    }
    snprintf(cmd, sizeof cmd, "umount %s", mnt);
    cr_expect_eq(system(cmd), 0);
    fx_rmdir(dir);
}

/* export --sweep NAME of a sweep the database does not hold once wrote an
 * empty CSV and exited 0, while plot said no. */
Test(cli_inputs, export_of_an_unknown_sweep_is_an_error) {
    char dir[64], yaml[128], dbp[160], csv[160], out[8192], cmd[1024];
    fx_tmpdir(dir);
    fx_write(dir, "t.yaml",
             "name: t\ndatasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2}\ntrain: {epochs: 0.1}\n"
             "matrix: {method: [full], dim: [4], ratio: [1], seed: [1]}\n",
             yaml);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    snprintf(csv, sizeof csv, "%s/x.csv", dir);
    snprintf(cmd, sizeof cmd, "run %s --db %s", yaml, dbp);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "export --db %s --sweep nosuch --out %s", dbp, csv);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "no sweep 'nosuch' in the database (it has: t)"), "%s", out);
    cr_expect_neq(access(csv, F_OK), 0, "no file written");
    snprintf(cmd, sizeof cmd, "export --db %s --sweep t --out %s", dbp, csv);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    fx_rmdir(dir);
}

/* Inputs that would cost too much are refused before the work: a file over the
 * size cap before libyaml reads it (its scanner is quadratic in the nesting
 * depth), and a matrix whose cell count is computed, not built. */
Test(cli_inputs, costly_sweep_files_refused_up_front) {
    char dir[64], path[128], out[8192], cmd[400];
    fx_tmpdir(dir);
    size_t n = (4u << 20) + 100;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memset(big, '#', n);
    for (size_t i = 79; i < n; i += 80) big[i] = '\n';
    big[n] = 0;
    fx_write(dir, "big.yaml", big, path);
    free(big);
    snprintf(cmd, sizeof cmd, "run %s --dry-run", path);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "a sweep file is at most 4194304 bytes"), "%s", out);
    static char text[8192];
    size_t u = (size_t)snprintf(text, sizeof text, "name: x\ndatasets:\n  syn: {kind: synthetic}\nmatrix:\n"
                                                   "  method: [full]\n");
    const char *axes[] = {"dim", "seed", "batch", "lr", "epochs"};
    for (int a = 0; a < 5; a++) {
        u += (size_t)snprintf(text + u, sizeof text - u, "  %s: [", axes[a]);
        for (int v = 1; v <= 100; v++)
            u += (size_t)snprintf(text + u, sizeof text - u, "%s%d%s", v > 1 ? ", " : "", v, a == 3 ? "e-4" : "");
        u += (size_t)snprintf(text + u, sizeof text - u, "]\n");
    }
    fx_write(dir, "cells.yaml", text, path);
    snprintf(cmd, sizeof cmd, "run %s --dry-run", path);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "the axes make 1e+10 cells; at most 50000"), "counted, not built: %s", out);
    fx_rmdir(dir);
}

/* A write that fails while a sweep builds its dataset cache is the machine's
 * problem, not the file's: exit 1 (it was 2, as for a bad YAML key). */
Test(cli_inputs, cache_write_error_is_not_a_usage_error) {
    char dir[64], tsv[128], yaml[128], out[8192], cmd[1024], text[4096];
    fx_tmpdir(dir);
    fx_criteo_text(text, sizeof text, 20, 3);
    fx_write(dir, "c.tsv", text, tsv);
    char y[600];
    snprintf(y, sizeof y,
             "name: c\ndatasets:\n  c: {kind: criteo, path: %s, test_frac: 0.2}\n"
             "matrix: {method: [full], dim: [4], ratio: [1], seed: [1]}\ncache_dir: %s/cache\n",
             tsv, dir);
    fx_write(dir, "c.yaml", y, yaml);
    const char *bin = getenv("EMBSWEEP_BIN");
    snprintf(cmd, sizeof cmd, "EMBSWEEP_FAULT_IO=3 %s run %s --db %s/r.db 2>&1", bin, yaml, dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d: %s", WEXITSTATUS(st), out);
    cr_expect(strstr(out, "cannot load the dataset") && strstr(out, "Input/output error"), "%s", out);
    fx_rmdir(dir);
}
