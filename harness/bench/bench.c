/* bench.c: `embsweep bench`, training throughput of the C engine against the
 * PyTorch reference (tests/reference/bench_ref.py) on the same data, in the same
 * run. Results go to stdout and to a `bench` table in the SQLite database.
 *
 * Workload: Criteo-shaped synthetic data (the generator's criteo preset:
 * 26 fields of 10..10^6 ids, 13 dense features), dim 16, batch 1024, the `full`
 * method, SGD (lr 0.1, as the DLRM Kaggle script; torch uses sparse embedding
 * gradients, as DLRM does), dot interaction, for two MLP shapes:
 *   dlrm_kaggle  bottom 512-256-64-16, top 512-256-1 (facebookresearch/dlrm
 *                bench/dlrm_s_criteo_kaggle.sh)
 *   default      bottom 64-16, top 64-32-1 (embsweep's default)
 * Each engine runs `warm` untimed steps, then `steps` timed steps over the same
 * batches in the same order; samples/s = steps * batch / seconds (wall clock).
 * Samples per process-CPU second are reported beside it: on a shared machine that
 * is the steadier figure at 1 thread (at 2 threads it does not show scaling).
 * This is a benchmark, not a test: the machine may be shared, so the numbers are
 * only as quiet as the machine.
 */
#include <cblas.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_parse.h"
#include "harness/cli/cli.h"
#include "harness/core/loss.h"
#include "datasets/dataset.h"
#include "harness/train/model.h"
#include "harness/core/pool.h"

typedef struct bench_model {
    const char *name;
    model_cfg   cfg;
    int         steps; /* timed steps unless --steps: about 3 s of C at 1 thread */
} bench_model;

static const bench_model k_models[] = {
    {"default", {.bottom = {64, 16}, .n_bottom = 2, .top = {64, 32}, .n_top = 2}, 300},
    {"dlrm_kaggle", {.bottom = {512, 256, 64, 16}, .n_bottom = 4, .top = {512, 256}, .n_top = 2}, 40},
};

#define BENCH_MAX_ROUNDS 9

/* Steal and total jiffies from /proc/stat's cpu line (0, 0 when unreadable). */
static void cpu_jiffies(unsigned long long *steal, unsigned long long *total) {
    unsigned long long v[8] = {0};
    *steal = *total = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7]) == 8) {
        for (int i = 0; i < 8; i++) *total += v[i];
        *steal = v[7];
    }
    fclose(f);
}

/* Median of n values (n <= BENCH_MAX_ROUNDS); -1 stays -1 when any is -1 (a
 * failed torch run). */
static double median(const double *v, int n) {
    double s[BENCH_MAX_ROUNDS];
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) return -1;
        s[i] = v[i];
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            double x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

typedef struct bench_opts {
    const char *db;
    int64_t     rows;
    int         batch, warm, steps, torch, train, rounds;
    double      parse_mb, spread; /* parse benchmark text per case (0: skip); --gen vocabulary */
    const char *gen;              /* --gen FILE: only write generated Criteo text */
    const char *model;            /* --model NAME: only this MLP shape (NULL: all) */
} bench_opts;

static void bench_usage(FILE *f) {
    fprintf(f, "usage: embsweep bench [--db PATH] [--rows N] [--steps N] [--warm N] [--rounds N]\n"
               "                      [--no-torch] [--model default|dlrm_kaggle] [--no-train]\n"
               "                      [--parse-mb MB]\n"
               "       embsweep bench --gen FILE [--parse-mb MB] [--spread S]\n\n"
               "Training throughput (samples/s) of the C engine at 1 and 2 threads and of the\n"
               "PyTorch reference (tests/reference/bench_ref.py, /usr/bin/python3, pinned to\n"
               "the same thread count) on the same Criteo-shaped synthetic batches (26 fields,\n"
               "13 dense, dim 16, batch 1024, full/SGD), for embsweep's default MLPs and the\n"
               "DLRM Kaggle MLPs (--model picks one). Each of --rounds N (default 5, at\n"
               "most 9) times C at 1 and 2 threads side by side (two models, alternating\n"
               "chunks of steps), then torch at 1 and 2 threads; medians are reported;\n"
               "each round line shows the CPU time the hypervisor stole meanwhile (a\n"
               "shared VM's noise). --steps N: timed steps per measurement (default 300\n"
               "for the default MLPs, 40 for the DLRM Kaggle MLPs; 5 warm-up steps before).\n"
               "--no-torch skips the PyTorch side. Rows are stored in the `bench` table of the\n"
               "database (default results/results.db).\n\n"
               "Then the dataset parse speed (MB of text per CPU second and per wall second) of\n"
               "one full build of --parse-mb MB (default 100; 0 skips) of generated\n"
               "Criteo-format text: small vocabulary plain and gzip, and a large vocabulary\n"
               "(harness/bench/bench_parse.c). --no-train skips the training benchmark. --gen FILE\n"
               "only writes such a file (FILE.gz: gzip) with vocabulary spread S (default 400)\n"
               "and exits.\n");
}

/* Time the C engine at 1 and at 2 threads side by side: two models (one without a
 * pool, one with a pool of 2) each run `warm` untimed steps, then `steps` timed
 * steps in alternating chunks of about steps/30, so both see the same moments of
 * a shared machine. rate[th] is samples per wall second, cpu_rate[th] per
 * process-CPU second, for th = 1, 2. Returns 0, or -1 with err set. */
static int bench_c_pair(const ds_data *ds, const model_cfg *mc, const bench_opts *o, double rate[3],
                        double cpu_rate[3], char *err, size_t errlen) {
    const emb_method *full = emb_method_find("full");
    const int B = o->batch, F = ds->n_fields, Dd = ds->n_dense;
    const int64_t nb = ds->n_train / B;
    const int chunk = o->steps / 30 > 1 ? o->steps / 30 : 1;
    emb_spec spec[3] = {{0}};
    model m[3];
    memset(m, 0, sizeof m);
    int rc = -1;
    int64_t *idx = hx_calloc((size_t)nb * B * F, sizeof(int64_t));
    if (!idx) {
        hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        return -1;
    }
    for (int64_t i = 0; i < nb * B * F; i++) idx[i] = ds->cat[i];
    openblas_set_num_threads(1); /* the engine's pool splits the work (harness/core/pool.h) */
    for (int th = 1; th <= 2; th++) {
        emb_plan plan;
        spec[th] = (emb_spec){.n_fields = F, .card = ds->card, .dim = 16, .ratio = 1, .seed = 1, .batch = B,
                              .steps_per_epoch = nb, .total_steps = o->warm + o->steps,
                              .opt = opt_default(OPT_SGD, 0.1f), .dense_opt = opt_default(OPT_SGD, 0.1f)};
        emb_params_default(full, spec[th].pv);
        if ((th > 1 && !(spec[th].pool = hx_pool_create(th, err, errlen))) ||
            full->plan(&spec[th], &plan, err, errlen) != HX_OK ||
            model_create(&m[th], mc, Dd, full, &spec[th], spec[th].dense_opt, 1, err, errlen) != HX_OK)
            goto out;
    }
    double wall[3] = {0}, cpu[3] = {0};
    int64_t step[3] = {0};
    for (int done = -o->warm; done < o->steps;) {
        const int n = done < 0 ? -done : (o->steps - done < chunk ? o->steps - done : chunk);
        for (int th = 1; th <= 2; th++) {
            const double t0 = hx_now(), c0 = hx_cpu_time();
            for (int k = 0; k < n; k++, step[th]++) {
                const int64_t b = step[th] % nb;
                model_forward(&m[th], ds->dense + (size_t)b * B * Dd, idx + (size_t)b * B * F, B);
                model_backward(&m[th], ds->label + (size_t)b * B, B);
                if (model_step(&m[th], step[th] + 1, err, errlen) != HX_OK) goto out;
            }
            if (done >= 0) wall[th] += hx_now() - t0, cpu[th] += hx_cpu_time() - c0;
        }
        done += n;
    }
    for (int th = 1; th <= 2; th++) {
        rate[th] = (double)o->steps * B / wall[th];
        cpu_rate[th] = (double)o->steps * B / cpu[th];
    }
    rc = 0;
out:
    for (int th = 1; th <= 2; th++) {
        model_free(&m[th]);
        hx_pool_free(spec[th].pool);
    }
    hx_free(idx);
    return rc;
}

/* The data and model file read by bench_ref.py (format documented there),
 * rewritten from the start of the already unlinked temporary file fd. */
static int write_bench_file(int fd, const ds_data *ds, const model_cfg *mc, const bench_opts *o) {
    int fd2 = -1;
    FILE *f = NULL;
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0 || (fd2 = dup(fd)) < 0 || !(f = fdopen(fd2, "wb"))) {
        if (fd2 >= 0) close(fd2);
        return -1;
    }
    const int64_t nb = ds->n_train / o->batch, n = nb * o->batch;
    int32_t hdr[9] = {(int32_t)n, ds->n_dense, ds->n_fields, 16, o->batch, o->warm, o->steps,
                      mc->n_bottom, mc->n_top};
    int ok = fwrite("ESBENCH1", 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
             fwrite(mc->bottom, 4, (size_t)mc->n_bottom, f) == (size_t)mc->n_bottom &&
             fwrite(mc->top, 4, (size_t)mc->n_top, f) == (size_t)mc->n_top &&
             fwrite(ds->card, 8, (size_t)ds->n_fields, f) == (size_t)ds->n_fields &&
             fwrite(ds->dense, 4, (size_t)(n * ds->n_dense), f) == (size_t)(n * ds->n_dense);
    for (int64_t i = 0; ok && i < n * ds->n_fields; i++) {
        int64_t v = ds->cat[i];
        ok = fwrite(&v, 8, 1, f) == 1;
    }
    ok = ok && fwrite(ds->label, 4, (size_t)n, f) == (size_t)n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Run bench_ref.py; returns samples/s (wall) or -1, and per CPU second in cpu_rate. */
static double bench_torch(const char *path, int threads, double *cpu_rate) {
    char cmd[1536], line[256], script[1024] = "tests/reference/bench_ref.py";
    if (access(script, R_OK) != 0) {
        /* not run from the repository root: look beside the binary (./embsweep or
         * build/<mode>/embsweep) */
        char exe[900];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            for (int up = 0; up < 3; up++) {
                char *slash = strrchr(exe, '/');
                if (!slash) break;
                *slash = 0;
                snprintf(script, sizeof script, "%s/tests/reference/bench_ref.py", exe);
                if (access(script, R_OK) == 0) break;
            }
        }
    }
    /* Debian's torch runs its GEMMs on OpenBLAS, whose own thread pool ignores
     * torch.set_num_threads: pin both, so "N threads" means N for both engines.
     * With both pools at 2 threads, OpenMP's spinning workers starve OpenBLAS's
     * (torch at 2 threads ran at half its 1-thread speed); passive waiting was
     * the fastest 2-thread setting we tried (1.35x the default on the default
     * MLPs, 1.85x on the Kaggle ones), so torch gets it at every thread count. */
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 '%s' %s %d",
             threads, threads, script, path, threads);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double rate = -1;
    while (fgets(line, sizeof line, p)) {
        sscanf(line, "samples_per_s %lf", &rate);
        sscanf(line, "cpu_samples_per_s %lf", cpu_rate);
    }
    return pclose(p) == 0 ? rate : -1;
}

int bench_db_store(sqlite3 *db, const char *name, int threads, double rate, double ratio, double vs_1,
                    double cpu_rate, const char *host) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO bench(name, threads, samples_per_s, ratio_vs_torch, created_at, host,"
                           " cpu_samples_per_s, vs_1_thread)"
                           " VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (vs_1 > 0) sqlite3_bind_double(st, 7, vs_1);
    else sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, threads);
    sqlite3_bind_double(st, 3, rate);
    if (ratio > 0) sqlite3_bind_double(st, 4, ratio);
    else sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, cpu_rate);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int parse_opts(int argc, char **argv, bench_opts *o) {
    static const char *const valued[] = {"--db",       "--rows",   "--steps", "--warm", "--rounds",
                                         "--parse-mb", "--spread", "--gen",   "--model"};
    for (int i = 1; i < argc; i++) {
        int64_t v;
        const char *f = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) return 1;
        if (!strcmp(f, "--no-torch")) {
            o->torch = 0;
            continue;
        }
        if (!strcmp(f, "--no-train")) {
            o->train = 0;
            continue;
        }
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
        else if (!strcmp(f, "--model") && (!strcmp(a, "default") || !strcmp(a, "dlrm_kaggle"))) o->model = a;
        else {
            fprintf(stderr, "embsweep bench: bad value '%s' for %s\n\n", a, f);
            return 2;
        }
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    bench_opts o = {.db = "results/results.db", .rows = 65536, .batch = 1024, .warm = 5, .steps = 0, .torch = 1, .rounds = 5,
                    .train = 1, .parse_mb = 100, .spread = 400};
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
    char err[512], rows[32], path[] = "/tmp/embsweep_bench_XXXXXX", host[128] = "unknown";
    gethostname(host, sizeof host - 1);
    char *kv[2] = {"preset=criteo", rows};
    snprintf(rows, sizeof rows, "rows=%lld", (long long)o.rows);
    ds_spec spec;
    ds_data *ds = NULL;
    sqlite3 *db = NULL;
    int rc = 1, fd = -1;
    if (ds_spec_from_args(&spec, "bench", "synthetic", 2, kv, err, sizeof err) != HX_OK ||
        ds_load(&spec, NULL, &ds, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep bench: %s\n", err);
        return 1;
    }
    if (ds->n_train < o.batch) {
        fprintf(stderr, "embsweep bench: --rows too small for one batch\n");
        goto out;
    }
    const char *slash = strrchr(o.db, '/');
    if (slash) {
        char dir[512];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - o.db), o.db);
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) fprintf(stderr, "embsweep bench: mkdir %s failed\n", dir);
    }
    if (sqlite3_open(o.db, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA busy_timeout=10000; CREATE TABLE IF NOT EXISTS bench(name TEXT NOT NULL,"
                         " threads INTEGER NOT NULL, samples_per_s REAL NOT NULL, ratio_vs_torch REAL,"
                         " created_at TEXT NOT NULL, host TEXT, cpu_samples_per_s REAL, vs_1_thread REAL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        /* databases from before the vs_1_thread column get it added */
        (sqlite3_exec(db, "SELECT vs_1_thread FROM bench LIMIT 0", NULL, NULL, NULL) != SQLITE_OK &&
         sqlite3_exec(db, "ALTER TABLE bench ADD COLUMN vs_1_thread REAL", NULL, NULL, NULL) != SQLITE_OK)) {
        fprintf(stderr, "embsweep bench: %s: %s\n", o.db, db ? sqlite3_errmsg(db) : "cannot open");
        goto out;
    }
    /* The torch side reads the batches from a temporary file. It is unlinked at
     * once and handed over as /dev/fd/N (inherited through popen), so a bench
     * killed half-way leaves nothing behind in /tmp. */
    if ((fd = mkstemp(path)) < 0) {
        fprintf(stderr, "embsweep bench: cannot create a temporary file\n");
        goto out;
    }
    unlink(path);
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    if (o.train) {
        char steps[48] = "300 (default) / 40 (dlrm_kaggle)";
        if (o.steps) snprintf(steps, sizeof steps, "%d", o.steps);
        printf("embsweep bench: %lld train rows, 26 fields (10..1e6 ids), 13 dense, dim 16, batch %d, "
               "full/SGD, %d warm + %s timed steps, %d round%s\n",
               (long long)ds->n_train, o.batch, o.warm, steps, o.rounds, o.rounds > 1 ? "s" : "");
        printf("%-12s %-7s %8s %14s %10s %16s\n", "model", "engine", "threads", "samples/s", "vs torch",
               "per CPU second");
    }
    for (size_t k = 0; o.train && k < sizeof k_models / sizeof k_models[0]; k++) {
        const bench_model *bm = &k_models[k];
        if (o.model && strcmp(o.model, bm->name)) continue;
        bench_opts om = o;
        if (!om.steps) om.steps = bm->steps;
        double c[3] = {0}, t[3] = {0}, cc[3] = {0}, tc[3] = {0};
        double rc_[3][BENCH_MAX_ROUNDS], rt[3][BENCH_MAX_ROUNDS], rcc[3][BENCH_MAX_ROUNDS], rtc[3][BENCH_MAX_ROUNDS];
        char name[64];
        if (o.torch && write_bench_file(fd, ds, &bm->cfg, &om) != 0) {
            fprintf(stderr, "embsweep bench: cannot write the batches for PyTorch to a temporary file: %s\n",
                    strerror(errno));
            goto out;
        }
        /* rounds alternate the engines and thread counts, so a burst of load on
         * the shared machine hits all of them alike; medians are reported */
        for (int r = 0; r < o.rounds; r++) {
            unsigned long long s0, t0, s1, t1;
            double rate[3], cpu_rate[3];
            cpu_jiffies(&s0, &t0);
            if (bench_c_pair(ds, &bm->cfg, &om, rate, cpu_rate, err, sizeof err) != 0) {
                fprintf(stderr, "embsweep bench: %s\n", err);
                goto out;
            }
            for (int th = 1; th <= 2; th++) {
                rc_[th][r] = rate[th];
                rcc[th][r] = cpu_rate[th];
                rtc[th][r] = -1;
                rt[th][r] = o.torch ? bench_torch(path, th, &rtc[th][r]) : -1;
            }
            cpu_jiffies(&s1, &t1);
            printf("%-12s round %d: C %.0f / %.0f samples/s at 1 / 2 threads (%.2fx), torch %.0f / %.0f; steal %.1f%%\n",
                   bm->name, r + 1, rc_[1][r], rc_[2][r], rc_[2][r] / rc_[1][r], rt[1][r], rt[2][r],
                   t1 > t0 ? 100.0 * (double)(s1 - s0) / (double)(t1 - t0) : 0.0);
        }
        /* Ratios are medians of each round's own ratio: the two sides of a ratio
         * were timed at the same moments (C at 1 and 2 threads interleaved; torch
         * right after C in the same round), so a noisy round moves both. */
        double r_t[3] = {-1, -1, -1}, r_1[3] = {-1, 1, -1}, tr_1 = -1;
        for (int th = 1; th <= 2; th++) {
            double v[BENCH_MAX_ROUNDS];
            c[th] = median(rc_[th], o.rounds);
            cc[th] = median(rcc[th], o.rounds);
            t[th] = median(rt[th], o.rounds);
            tc[th] = median(rtc[th], o.rounds);
            for (int r = 0; r < o.rounds; r++) v[r] = rt[th][r] > 0 ? rc_[th][r] / rt[th][r] : -1;
            r_t[th] = median(v, o.rounds);
        }
        {
            double v[BENCH_MAX_ROUNDS], w[BENCH_MAX_ROUNDS];
            for (int r = 0; r < o.rounds; r++) {
                v[r] = rc_[2][r] / rc_[1][r];
                w[r] = rt[1][r] > 0 && rt[2][r] > 0 ? rt[2][r] / rt[1][r] : -1;
            }
            r_1[2] = median(v, o.rounds);
            tr_1 = median(w, o.rounds);
        }
        for (int th = 1; th <= 2; th++) {
            if (r_t[th] > 0) printf("%-12s %-7s %8d %14.0f %9.2fx %16.0f\n", bm->name, "c", th, c[th], r_t[th], cc[th]);
            else printf("%-12s %-7s %8d %14.0f %10s %16.0f\n", bm->name, "c", th, c[th], "-", cc[th]);
            snprintf(name, sizeof name, "train_%s_c", bm->name);
            if (bench_db_store(db, name, th, c[th], r_t[th], r_1[th], cc[th], host)) goto dberr;
            if (t[th] > 0) {
                printf("%-12s %-7s %8d %14.0f %10s %16.0f\n", bm->name, "torch", th, t[th], "1.00x", tc[th]);
                snprintf(name, sizeof name, "train_%s_torch", bm->name);
                if (bench_db_store(db, name, th, t[th], 1.0, th == 1 ? 1.0 : tr_1, tc[th], host)) goto dberr;
            } else if (o.torch) {
                printf("%-12s %-7s %8d %14s\n", bm->name, "torch", th, "failed");
            }
        }
        printf("%-12s C at 2 threads / C at 1 thread: %.2fx", bm->name, r_1[2]);
        if (r_t[1] > 0)
            printf("; C 1 thread / torch 1 thread: %.2fx (per CPU second %.2fx)", r_t[1], cc[1] / tc[1]);
        printf(" (medians of the rounds' ratios)\n");
    }
    if (o.parse_mb > 0 && bench_parse(db, host, o.parse_mb, 1)) goto out;
    printf("stored in %s, table bench\n", o.db);
    rc = 0;
    goto out;
dberr:
    fprintf(stderr, "embsweep bench: %s: %s\n", o.db, sqlite3_errmsg(db));
out:
    if (fd >= 0) close(fd);
    sqlite3_close(db);
    ds_free(ds);
    return rc;
}
