/* test_dataset_cli.c: `embsweep dataset` (info, kinds, bench, bad input) through
 * the built binary named by EMBSWEEP_BIN (set by `make test`). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

Test(dataset_cli, info_kinds_bench_and_errors) {
    static char out[16384];
    cr_assert_eq(fx_run_cli("dataset info synthetic rows=1000 cardinalities=5,9", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "rows      1000: train 800, validation 100, test 100"), "%s", out);
    cr_assert(strstr(out, "f0=5 f1=9") && strstr(out, "bayes") && strstr(out, "recipe    kind=synthetic"), "%s", out);
    cr_assert_null(strstr(out, "generating dataset"), "a small dataset is generated quietly: %s", out);
    /* from a million rows (minutes at Criteo's size) the wait is announced */
    cr_assert_eq(fx_run_cli("dataset info synthetic rows=1000000 fields=1 cardinality=10 dense=0", out, sizeof out), 0,
                 "%s", out);
    cr_assert(strstr(out, "embsweep: generating dataset synthetic: 1000000 rows, "), "%s", out);

    cr_assert_eq(fx_run_cli("dataset kinds", out, sizeof out), 0);
    cr_assert(strstr(out, "synthetic") && strstr(out, "criteo") && strstr(out, "avazu") &&
                  strstr(out, "movielens") && strstr(out, "libfm") && strstr(out, "min_count"), "%s", out);

    cr_assert_eq(fx_run_cli("dataset info synthetic rowz=5", out, sizeof out), 2);
    cr_assert(strstr(out, "datasets.synthetic.rowz: unknown key") && strstr(out, "'rows'"), "%s", out);
    cr_assert_eq(fx_run_cli("dataset info /nonexistent/x.tsv", out, sizeof out), 1);
    cr_assert(strstr(out, "cannot open '/nonexistent/x.tsv'"), "%s", out);
    cr_assert_eq(fx_run_cli("dataset info /tmp/x.unknown", out, sizeof out), 2);
    cr_assert(strstr(out, "--kind"), "%s", out);
    cr_assert_eq(fx_run_cli("dataset frobnicate", out, sizeof out), 2);
    cr_assert_eq(fx_run_cli("dataset --help", out, sizeof out), 0);
    cr_assert(strstr(out, "usage: embsweep dataset info"), "%s", out);

    char dir[64], path[128], cache[160], args[512];
    fx_tmpdir(dir);
    fx_write(dir, "m.libfm", "1 0:1 5:1\n-1 1:1 6:1\n1 0:1 6:1\n-1 2:1 5:1\n1 0:1 5:1\n", path);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(args, sizeof args, "dataset info %s field_starts=0,5 test_frac=0.2 val_frac=0 --cache %s", path, cache);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "rows      5: train 4") && strstr(out, "field0=4 field1=3"), "%s", out);
    cr_assert(strstr(out, "building dataset cache"), "%s", out);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0);
    cr_assert_null(strstr(out, "building dataset cache"), "second time: mapped, not rebuilt: %s", out);
    snprintf(args, sizeof args, "dataset bench %s field_starts=0,5", path);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "MB/s of text per CPU second"), "%s", out);
    fx_rmdir(dir);
}

/* dataset gen: Criteo text from criteo_synth, loadable by `dataset info` with the
 * split it prints; bad keys exit 2 and a failed write leaves no file. */
Test(dataset_cli, gen_writes_criteo_text_or_nothing) {
    static char out[16384];
    char dir[64], path[128], args[512];
    fx_tmpdir(dir);
    snprintf(path, sizeof path, "%s/g.tsv.gz", dir);
    snprintf(args, sizeof args, "dataset gen %s scale=0.0002", path);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "wrote") && strstr(out, "val_frac=0.1 test_frac=0.1"), "%s", out);
    snprintf(args, sizeof args, "dataset info %s val_frac=0.1 test_frac=0.1", path);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "kind criteo") && strstr(out, "fields    26"), "%s", out);
    cr_assert_eq(fx_run_cli("dataset gen", out, sizeof out), 2);
    snprintf(args, sizeof args, "dataset gen %s/b.tsv scael=1", dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "unknown key") && strstr(out, "'scale'"), "%s", out);
    snprintf(args, sizeof args, "dataset gen %s/none/b.tsv scale=0.0002", dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "cannot create"), "%s", out);
    snprintf(args, sizeof args, "ls -A %s", dir);
    FILE *p = popen(args, "r");
    char names[1024] = "";
    size_t n = fread(names, 1, sizeof names - 1, p);
    names[n] = 0;
    pclose(p);
    cr_assert_str_eq(names, "g.tsv.gz\n", "no temp file left: %s", names);
    fx_rmdir(dir);
    /* --help anywhere is help, never a FILE; an option-like FILE is an error */
    int help_rc = fx_run_cli("dataset gen --help", out, sizeof out), wrote = !access("--help", F_OK);
    if (wrote) remove("--help");
    cr_expect_eq(help_rc, 0, "%s", out);
    cr_expect(strstr(out, "usage: embsweep dataset"), "%s", out);
    cr_expect(!wrote, "dataset gen --help wrote a file named --help");
    cr_expect_eq(fx_run_cli("dataset info --help", out, sizeof out), 0, "%s", out);
    cr_expect_eq(fx_run_cli("dataset gen -o scale=0.0002", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "expected FILE first, got -o") && access("-o", F_OK), "%s", out);
}
