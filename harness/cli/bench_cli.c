/* bench_cli.c: `embsweep bench`, its options and usage; the benchmarks
 * themselves are harness/bench/ (bench.h). Exit 0 ok, 1 a benchmark or I/O
 * failure, 2 bad usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "harness/bench/bench.h"
#include "harness/bench/bench_parse.h"

static void bench_usage(FILE *f) {
    fprintf(f, "usage: embsweep bench [--db PATH] [--rows N] [--steps N] [--warm N] [--rounds N]\n"
               "                      [--no-torch] [--model default|dlrm_kaggle|dcn|deepfm|wdl]\n"
               "                      [--no-train] [--parse-mb MB] [--no-big] [--big-scale X]\n"
               "                      [--cold X] [--plain]\n"
               "       embsweep bench --gen FILE [--parse-mb MB] [--spread S]\n\n"
               "Training throughput (samples/s) of the C engine at 1 and 2 threads and of the\n"
               "PyTorch reference (tests/reference/bench_ref.py, /usr/bin/python3, pinned to\n"
               "the same thread count) on the same Criteo-shaped synthetic batches (26 fields,\n"
               "13 dense, dim 16, batch 1024, full/SGD), for embsweep's default DLRM, the\n"
               "DLRM Kaggle MLPs and the dcn, deepfm and wdl archs at the default widths\n"
               "(--model picks one). Each of --rounds N (default 5, at\n"
               "most 9) times C at 1 and 2 threads side by side (two models, alternating\n"
               "chunks of steps), then torch at 1 and 2 threads; medians are reported;\n"
               "each round line shows the CPU time the hypervisor stole meanwhile (a\n"
               "shared VM's noise). --steps N: timed steps per measurement (default 300\n"
               "for default, deepfm and wdl, 40 for dlrm_kaggle and dcn; 5 warm-up steps before).\n"
               "--no-torch skips the PyTorch side. Rows are stored in the `bench` table of the\n"
               "database (default results/results.db).\n\n"
               "Then the dataset parse speed (MB of text per CPU second and per wall second) of\n"
               "one full build of --parse-mb MB (default 100; 0 skips) of generated\n"
               "Criteo-format text: small vocabulary plain and gzip, and a large vocabulary\n"
               "(harness/bench/bench_parse.c). --no-train skips the training benchmark. --gen FILE\n"
               "only writes such a file (FILE.gz: gzip) with vocabulary spread S (default 400)\n"
               "and exits.\n\n"
               "Big tables (harness/bench/bench_big.c; --no-big skips them): full at dim 16,\n"
               "batch 1024, 1 thread, uniform ids, with row-wise Adagrad and with Adam, on a\n"
               "small table (26 fields of 10..20000 ids) and on Criteo Kaggle's cardinalities\n"
               "times --big-scale X (default 0.5: 16.9M ids, a 1.01 GiB table) side by side,\n"
               "--steps N (default 100) timed steps per model and round; then the machine's\n"
               "gather limit: random 64-byte rows read and updated over a table of the same\n"
               "size, plain, in huge pages, and in huge pages with prefetch; then the dot\n"
               "interaction alone, each build of its kernels the CPU can run (avx512f,\n"
               "avx2, baseline) against the baseline, alternating in each round. --cold X\n"
               "adds row-wise Adagrad at the cardinalities times X (2.5: 84M ids, 5.0 GiB;\n"
               "about 5.5 GB of memory) and the probe at its size. --plain turns huge pages,\n"
               "software prefetch and the per-table fused step off for the whole run (the\n"
               "table path before them; the rest of the engine is this one).\n");
}

/* 0 parsed, 1 --help, 2 bad usage (message printed). */
static int parse_opts(int argc, char **argv, bench_opts *o) {
    static const char *const valued[] = {"--db",       "--rows",   "--steps", "--warm", "--rounds",
                                         "--parse-mb", "--spread", "--gen",   "--model",
                                         "--big-scale", "--cold"};
    for (int i = 1; i < argc; i++) {
        int64_t v;
        double d;
        const char *f = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) return 1;
        /* the flags without a value: each sets one field */
        const struct {
            const char *name;
            int        *field, value;
        } flags[] = {{"--no-torch", &o->torch, 0}, {"--no-train", &o->train, 0}, {"--no-big", &o->big, 0},
                     {"--plain", &o->plain, 1}};
        int flag = 0;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (!strcmp(f, flags[k].name)) *flags[k].field = flags[k].value, flag = 1;
        if (flag) continue;
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= !strcmp(f, valued[k]);
        if (!known) {
            fprintf(stderr, "embsweep bench: unknown option '%s'\n\n", f);
            return 2;
        }
        if (!a) {
            fprintf(stderr, "embsweep bench: %s needs a value\n\n", f);
            return 2;
        }
        i++;
        if (!strcmp(f, "--db")) o->db = a;
        else if (!strcmp(f, "--rows") && !hx_parse_i64(a, &v) && v >= 4096 && v <= 100000000) o->rows = v;
        else if (!strcmp(f, "--steps") && !hx_parse_i64(a, &v) && v >= 1 && v <= 100000) o->steps = (int)v;
        else if (!strcmp(f, "--warm") && !hx_parse_i64(a, &v) && v >= 0 && v <= 100000) o->warm = (int)v;
        else if (!strcmp(f, "--rounds") && !hx_parse_i64(a, &v) && v >= 1 && v <= BENCH_MAX_ROUNDS) o->rounds = (int)v;
        else if (!strcmp(f, "--parse-mb") && !hx_parse_i64(a, &v) && v >= 0 && v <= 100000) o->parse_mb = (double)v;
        else if (!strcmp(f, "--spread") && !hx_parse_i64(a, &v) && v >= 1 && v <= 100000000) o->spread = (double)v;
        else if (!strcmp(f, "--gen")) o->gen = a;
        else if (!strcmp(f, "--big-scale") && !hx_parse_f64(a, &d) && d >= 1e-3 && d <= 4) o->big_scale = d;
        else if (!strcmp(f, "--cold") && !hx_parse_f64(a, &d) && d >= 1e-3 && d <= 4) o->cold = d;
        else if (!strcmp(f, "--model") && bench_model_known(a)) o->model = a;
        else {
            fprintf(stderr, "embsweep bench: bad value '%s' for %s\n\n", a, f);
            return 2;
        }
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    bench_opts o;
    bench_opts_default(&o);
    int prc = parse_opts(argc, argv, &o);
    if (prc) {
        bench_usage(prc == 1 ? stdout : stderr);
        return prc == 1 ? 0 : 2;
    }
    if (o.gen) {
        size_t n = strlen(o.gen);
        if (bench_gen_criteo(o.gen, o.parse_mb, o.spread, 1, n > 3 && !strcmp(o.gen + n - 3, ".gz")) == 0) return 0;
        fprintf(stderr, "embsweep bench: cannot write %s\n", o.gen);
        return 1;
    }
    char err[512];
    hx_status st = bench_run(&o, err, sizeof err);
    if (st != HX_OK) fprintf(stderr, "embsweep bench: %s\n", err);
    return cli_exit_status(st);
}
