/* test_bench_cli.c: `embsweep bench` through the built binary (EMBSWEEP_BIN, set by
 * `make test`): option errors exit 2 naming the option, and a tiny run (2 steps,
 * 1 round, both engines, PyTorch included, the big-table rows on a tiny "big"
 * table) prints its rows and stores them in the bench table (adding the
 * vs_1_thread, ref and vs_ref columns to an older table). Throughput itself is
 * never asserted: that is what the benchmark is for. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness/core/interact.h"
#include "fixtures.h"

Test(bench_cli, bad_options) {
    static char out[8192];
    static const struct {
        const char *args, *want;
    } cases[] = {
        {"bench --rounds 0", "bad value '0' for --rounds"},
        {"bench --rounds 10", "bad value '10' for --rounds"},
        {"bench --model big", "bad value 'big' for --model"},
        {"bench --rows 12", "bad value '12' for --rows"},
        {"bench --steps", "--steps needs a value"},
        {"bench --frob 1", "unknown option '--frob'"},
        {"bench --big-scale 0", "bad value '0' for --big-scale"},
        {"bench --cold 9", "bad value '9' for --cold"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_eq(fx_run_cli(cases[i].args, out, sizeof out), 2, "%s", cases[i].args);
        cr_expect(strstr(out, cases[i].want) && strstr(out, "usage: embsweep bench"), "%s: %s", cases[i].args, out);
    }
    cr_expect_eq(fx_run_cli("bench --help", out, sizeof out), 0);
    cr_expect(strstr(out, "--rounds N") != NULL, "%s", out);
}

Test(bench_cli, tiny_run_stores_rows, .timeout = 120) {
    static char out[16384];
    char dir[64], db[128], args[512];
    fx_tmpdir(dir);
    snprintf(db, sizeof db, "%s/b.db", dir);
    {
        /* a bench table from before the vs_1_thread column, with one row */
        sqlite3 *h;
        cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(h,
                                  "CREATE TABLE bench(name TEXT NOT NULL, threads INTEGER NOT NULL,"
                                  " samples_per_s REAL NOT NULL, ratio_vs_torch REAL, created_at TEXT NOT NULL,"
                                  " host TEXT, cpu_samples_per_s REAL);"
                                  " INSERT INTO bench VALUES('old', 1, 5, NULL, 'then', 'h', 5)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
        sqlite3_close(h);
    }
    snprintf(args, sizeof args,
             "bench --rows 4096 --steps 2 --warm 0 --rounds 1 --parse-mb 0 --model default --big-scale 0.001 --db %s",
             db);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "default      c              1") && strstr(out, "default      torch          1") &&
                  strstr(out, "C at 2 threads / C at 1 thread"),
              "%s", out);
    sqlite3 *h;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT name, threads, samples_per_s, ratio_vs_torch, vs_1_thread FROM bench"
                                    " WHERE name LIKE 'train_%' ORDER BY name, threads",
                                    -1, &st, NULL),
                 SQLITE_OK);
    static const char *names[] = {"train_default_c", "train_default_c", "train_default_torch",
                                  "train_default_torch"};
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cr_assert_lt(n, 4);
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), names[n]);
        cr_expect_eq(sqlite3_column_int(st, 1), 1 + n % 2);
        cr_expect_gt(sqlite3_column_double(st, 2), 0);
        cr_expect_gt(sqlite3_column_double(st, 3), 0);
        /* each engine's paired 2-thread / 1-thread ratio; 1 at 1 thread */
        if (n % 2 == 0) cr_expect_eq(sqlite3_column_double(st, 4), 1.0);
        else cr_expect_gt(sqlite3_column_double(st, 4), 0);
        n++;
    }
    cr_expect_eq(n, 4);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM bench WHERE name = 'old' AND vs_1_thread IS NULL", -1,
                                    &st, NULL),
                 SQLITE_OK);
    cr_expect_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 1, "the old row survives the new column");
    sqlite3_finalize(st);
    /* the big tables and the probe: each measured row against its reference */
    cr_expect(strstr(out, "big tables:") && strstr(out, "of big_small_adam") && strstr(out, "of probe_plain"), "%s",
              out);
    char kernels[64]; /* both headers name the interaction kernels that ran */
    snprintf(kernels, sizeof kernels, "the dot interaction's %s kernels", interact_dot_isa_name(interact_dot_isa()));
    const char *k1 = strstr(out, kernels);
    cr_expect(k1 && strstr(k1 + 1, kernels), "%s", out);
    static const char *big[][2] = {{"big_adam", "big_small_adam"},
                                   {"big_plain_rowwise_adagrad", "big_small_rowwise_adagrad"},
                                   {"big_rowwise_adagrad", "big_small_rowwise_adagrad"},
                                   {"big_small_adam", NULL},
                                   {"big_small_rowwise_adagrad", NULL},
                                   {"probe_huge", "probe_plain"},
                                   {"probe_huge_prefetch", "probe_plain"},
                                   {"probe_plain", NULL}};
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT name, samples_per_s, ref, vs_ref FROM bench"
                                    " WHERE name LIKE 'big_%' OR name LIKE 'probe_%' ORDER BY name",
                                    -1, &st, NULL),
                 SQLITE_OK);
    n = 0;
    for (; sqlite3_step(st) == SQLITE_ROW; n++) {
        cr_assert_lt(n, 8);
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), big[n][0]);
        cr_expect_gt(sqlite3_column_double(st, 1), 0);
        if (big[n][1]) {
            cr_expect_str_eq((const char *)sqlite3_column_text(st, 2), big[n][1]);
            cr_expect_gt(sqlite3_column_double(st, 3), 0);
        } else {
            cr_expect_eq(sqlite3_column_type(st, 2), SQLITE_NULL, "%s has no reference", big[n][0]);
        }
    }
    cr_expect_eq(n, 8);
    sqlite3_finalize(st);
    /* the dot kernels alone: one row for each build the CPU can run, each
     * against the baseline's */
    cr_expect(strstr(out, "dot interaction alone:"), "%s", out);
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT name, samples_per_s, ref, vs_ref FROM bench WHERE name LIKE 'dot_%'",
                                    -1, &st, NULL),
                 SQLITE_OK);
    int usable = 0;
    for (int isa = 0; isa < IX_ISA_N; isa++) usable += interact_dot_isa_usable(isa);
    for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        cr_expect_gt(sqlite3_column_double(st, 1), 0, "%s", name);
        if (!strcmp(name, "dot_baseline")) {
            cr_expect_eq(sqlite3_column_type(st, 2), SQLITE_NULL, "the baseline has no reference");
        } else {
            cr_expect_str_eq((const char *)sqlite3_column_text(st, 2), "dot_baseline", "%s", name);
            cr_expect_gt(sqlite3_column_double(st, 3), 0, "%s", name);
        }
    }
    cr_expect_eq(n, usable);
    sqlite3_finalize(st);
    sqlite3_close(h);
    fx_rmdir(dir);
}

/* Each arch against its PyTorch twin: both engines run, a ratio is stored. */
Test(bench_cli, tiny_run_every_arch) {
    static char out[16384];
    char dir[64], db[128], args[512];
    fx_tmpdir(dir);
    snprintf(db, sizeof db, "%s/b.db", dir);
    static const char *const archs[] = {"dcn", "deepfm", "wdl"};
    for (int a = 0; a < 3; a++) {
        snprintf(args, sizeof args,
                 "bench --rows 4096 --steps 2 --warm 0 --rounds 1 --parse-mb 0 --model %s --db %s", archs[a], db);
        cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
        cr_expect(strstr(out, "C 1 thread / torch 1 thread") != NULL, "%s: torch did not run: %s", archs[a], out);
    }
    sqlite3 *h;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM bench WHERE ratio_vs_torch > 0 AND name IN"
                                       " ('train_dcn_c', 'train_deepfm_c', 'train_wdl_c')", -1, &st, NULL),
                 SQLITE_OK);
    cr_expect_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 6, "a C row per arch and thread count, with its ratio to torch");
    sqlite3_finalize(st);
    sqlite3_close(h);
    fx_rmdir(dir);
}
