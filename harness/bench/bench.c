/* bench.c: `embsweep bench`, training throughput of the C engine against the
 * PyTorch reference (tests/reference/bench_ref.py) on the same data, in the same
 * run. Results go to stdout and to a `bench` table in the SQLite database.
 *
 * Workload: Criteo-shaped synthetic data (the generator's criteo preset:
 * 26 fields of 10..10^6 ids, 13 dense features), dim 16, batch 1024, the `full`
 * method, SGD (lr 0.1, as the DLRM Kaggle script; torch uses sparse embedding
 * gradients, as DLRM does), for these models:
 *   default      dlrm, dot interaction, bottom 64-16, top 64-32-1 (embsweep's default)
 *   dlrm_kaggle  dlrm, bottom 512-256-64-16, top 512-256-1 (facebookresearch/dlrm
 *                bench/dlrm_s_criteo_kaggle.sh)
 *   dcn, deepfm, wdl  each arch with the default widths (bottom 64-16, deep MLP
 *                64-32-1; dcn: 3 full-rank cross layers, stacked; deepfm and wdl:
 *                per-id scalar tables, sparse in torch too)
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

#include "bench.h"
#include "bench_parse.h"
#include "harness/core/interact.h"
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
    {"dcn", {.bottom = {64, 16}, .n_bottom = 2, .top = {64, 32}, .n_top = 2, .arch = ARCH_DCN, .cross_layers = 3}, 40},
    {"deepfm", {.bottom = {64, 16}, .n_bottom = 2, .top = {64, 32}, .n_top = 2, .arch = ARCH_DEEPFM}, 300},
    {"wdl", {.bottom = {64, 16}, .n_bottom = 2, .top = {64, 32}, .n_top = 2, .arch = ARCH_WDL}, 300},
};

int bench_model_known(const char *name) {
    for (size_t k = 0; k < sizeof k_models / sizeof k_models[0]; k++)
        if (!strcmp(name, k_models[k].name)) return 1;
    return 0;
}

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

double bench_median(const double *v, int n) {
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

/* Time the C engine at 1 and at 2 threads side by side: two models (one without a
 * pool, one with a pool of 2) each run `warm` untimed steps, then `steps` timed
 * steps in alternating chunks of about steps/30, so both see the same moments of
 * a shared machine. rate[th] is samples per wall second, cpu_rate[th] per
 * process-CPU second, for th = 1, 2. HX_OK, or a status with err set. */
static hx_status bench_c_pair(const ds_data *ds, const model_cfg *mc, const bench_opts *o, double rate[3],
                              double cpu_rate[3], char *err, size_t errlen) {
    const emb_method *full = emb_method_find("full");
    const int B = o->batch, F = ds->n_fields, Dd = ds->n_dense;
    const int64_t nb = ds->n_train / B;
    const int chunk = o->steps / 30 > 1 ? o->steps / 30 : 1;
    emb_spec spec[3] = {{0}};
    model m[3];
    memset(m, 0, sizeof m);
    hx_status rc = HX_OK;
    int64_t *idx = hx_calloc((size_t)nb * B * F, sizeof(int64_t));
    if (!idx) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    for (int64_t i = 0; i < nb * B * F; i++) idx[i] = ds->cat[i];
    openblas_set_num_threads(1); /* the engine's pool splits the work (harness/core/pool.h) */
    for (int th = 1; th <= 2; th++) {
        emb_plan plan;
        spec[th] = (emb_spec){.n_fields = F, .card = ds->card, .dim = 16, .ratio = 1, .seed = 1, .batch = B,
                              .steps_per_epoch = nb, .total_steps = o->warm + o->steps,
                              .opt = opt_default(OPT_SGD, 0.1f), .dense_opt = opt_default(OPT_SGD, 0.1f)};
        emb_params_default(full, spec[th].pv);
        if (th > 1 && !(spec[th].pool = hx_pool_create(th, err, errlen))) {
            rc = HX_ERR_INTERNAL;
            goto out;
        }
        if ((rc = full->plan(&spec[th], &plan, err, errlen)) != HX_OK ||
            (rc = model_create(&m[th], mc, Dd, full, &spec[th], spec[th].dense_opt, 1, err, errlen)) != HX_OK)
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
                if ((rc = model_train_step(&m[th], ds->label + (size_t)b * B, B, step[th] + 1, err, errlen)) != HX_OK)
                    goto out;
            }
            if (done >= 0) wall[th] += hx_now() - t0, cpu[th] += hx_cpu_time() - c0;
        }
        done += n;
    }
    for (int th = 1; th <= 2; th++) {
        rate[th] = (double)o->steps * B / wall[th];
        cpu_rate[th] = (double)o->steps * B / cpu[th];
    }
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
    int32_t hdr[13] = {(int32_t)n, ds->n_dense, ds->n_fields, 16, o->batch, o->warm, o->steps,
                       mc->n_bottom, mc->n_top, (int32_t)mc->arch, mc->cross_layers, (int32_t)mc->structure,
                       mc->cross_rank};
    int ok = fwrite("ESBENCH2", 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
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

int bench_db_set_ref(sqlite3 *db, const char *ref, double vs_ref) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE bench SET ref = ?1, vs_ref = ?2 WHERE rowid = ?3", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, vs_ref);
    sqlite3_bind_int64(st, 3, sqlite3_last_insert_rowid(db));
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

void bench_opts_default(bench_opts *o) {
    *o = (bench_opts){.db = "results/results.db", .rows = 65536, .batch = 1024, .warm = 5, .steps = 0,
                      .torch = 1, .rounds = 5, .train = 1, .parse_mb = 100, .spread = 400, .big = 1,
                      .big_scale = 0.5};
}

/* ---- bench_run: set up, each MLP shape (measure, summarise, report), parse ---- */

/* What one bench_run holds. */
typedef struct bench_ctx {
    const bench_opts *o;
    ds_data          *ds;
    sqlite3          *db;
    int               fd;       /* the unlinked temporary file torch reads, -1 when none */
    char              path[32]; /* /dev/fd/<fd> */
    char              host[128];
} bench_ctx;

/* One model's measurements per thread count th = 1, 2 (index 0 unused) and round:
 * samples per wall second and per process-CPU second; torch's are -1 when it
 * failed or was skipped. */
typedef struct bench_rounds {
    double c[3][BENCH_MAX_ROUNDS], c_cpu[3][BENCH_MAX_ROUNDS];
    double t[3][BENCH_MAX_ROUNDS], t_cpu[3][BENCH_MAX_ROUNDS];
} bench_rounds;

/* The medians over the rounds that are printed and stored. */
typedef struct bench_summary {
    double c[3], c_cpu[3], t[3], t_cpu[3];
    double c_vs_t[3];  /* C / torch at th threads, -1 when torch has none */
    double c_vs_1[3];  /* C at th threads / C at 1 thread; -1 at index 0 */
    double t2_vs_1;    /* torch at 2 threads / torch at 1 thread, -1 when none */
} bench_summary;

/* Opens (creating its folder and the bench table) the database at path; once
 * the folder is there *db is set, on failure too, and the caller closes it. */
static hx_status bench_db_open(const char *path, sqlite3 **db, char *err, size_t errlen) {
    const hx_status rc = hx_mkdir_parent(path, err, errlen);
    if (rc != HX_OK) return rc;
    if (sqlite3_open(path, db) != SQLITE_OK ||
        sqlite3_exec(*db, "PRAGMA busy_timeout=10000; CREATE TABLE IF NOT EXISTS bench(name TEXT NOT NULL,"
                          " threads INTEGER NOT NULL, samples_per_s REAL NOT NULL, ratio_vs_torch REAL,"
                          " created_at TEXT NOT NULL, host TEXT, cpu_samples_per_s REAL, vs_1_thread REAL,"
                          " ref TEXT, vs_ref REAL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        /* databases from before the vs_1_thread column get it added */
        (sqlite3_exec(*db, "SELECT vs_1_thread FROM bench LIMIT 0", NULL, NULL, NULL) != SQLITE_OK &&
         sqlite3_exec(*db, "ALTER TABLE bench ADD COLUMN vs_1_thread REAL", NULL, NULL, NULL) != SQLITE_OK) ||
        /* and those from before the big-table rows, their reference row and ratio */
        (sqlite3_exec(*db, "SELECT ref, vs_ref FROM bench LIMIT 0", NULL, NULL, NULL) != SQLITE_OK &&
         sqlite3_exec(*db, "ALTER TABLE bench ADD COLUMN ref TEXT; ALTER TABLE bench ADD COLUMN vs_ref REAL", NULL,
                      NULL, NULL) != SQLITE_OK))
        return hx_error(HX_ERR_IO, err, errlen, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
    return HX_OK;
}

/* The data, the database and the temporary file of a bench run. The torch side
 * reads the batches from a temporary file. It is unlinked at once and handed
 * over as /dev/fd/N (inherited through popen), so a bench killed half-way leaves
 * nothing behind in /tmp. */
static hx_status bench_setup(bench_ctx *x, char *err, size_t errlen) {
    char rows[32], tmp[] = "/tmp/embsweep_bench_XXXXXX";
    char *kv[2] = {"preset=criteo", rows};
    snprintf(rows, sizeof rows, "rows=%lld", (long long)x->o->rows);
    gethostname(x->host, sizeof x->host - 1);
    ds_spec spec;
    hx_status st;
    if ((st = ds_spec_from_args(&spec, "bench", "synthetic", 2, kv, err, errlen)) != HX_OK ||
        (st = ds_load(&spec, NULL, &x->ds, err, errlen)) != HX_OK)
        return st;
    if (x->ds->n_train < x->o->batch) return hx_error(HX_ERR_PARAM, err, errlen, "--rows too small for one batch");
    if ((st = bench_db_open(x->o->db, &x->db, err, errlen)) != HX_OK) return st;
    if ((x->fd = mkstemp(tmp)) < 0) return hx_error(HX_ERR_IO, err, errlen, "cannot create a temporary file");
    unlink(tmp);
    snprintf(x->path, sizeof x->path, "/dev/fd/%d", x->fd);
    return HX_OK;
}

static void bench_print_header(const bench_opts *o, const ds_data *ds) {
    char steps[160] = "";
    size_t used = 0;
    for (size_t k = 0; k < sizeof k_models / sizeof k_models[0] && used < sizeof steps; k++)
        used += (size_t)snprintf(steps + used, sizeof steps - used, "%s%d (%s)", k ? " / " : "", k_models[k].steps,
                                 k_models[k].name);
    if (o->steps) snprintf(steps, sizeof steps, "%d", o->steps);
    printf("embsweep bench: %lld train rows, 26 fields (10..1e6 ids), 13 dense, dim 16, batch %d, "
           "full/SGD, %d warm + %s timed steps, %d round%s; the dot interaction's %s kernels\n",
           (long long)ds->n_train, o->batch, o->warm, steps, o->rounds, o->rounds > 1 ? "s" : "",
           interact_dot_isa_name(interact_dot_isa()));
    printf("%-12s %-7s %8s %14s %10s %16s\n", "model", "engine", "threads", "samples/s", "vs torch",
           "per CPU second");
}

/* Rounds alternate the engines and thread counts, so a burst of load on the
 * shared machine hits all of them alike; each round prints a line. om is the
 * options with the model's step count. */
static hx_status bench_measure(const bench_ctx *x, const bench_model *bm, const bench_opts *om, bench_rounds *r,
                               char *err, size_t errlen) {
    for (int k = 0; k < om->rounds; k++) {
        unsigned long long s0, t0, s1, t1;
        double rate[3], cpu_rate[3];
        cpu_jiffies(&s0, &t0);
        hx_status st = bench_c_pair(x->ds, &bm->cfg, om, rate, cpu_rate, err, errlen);
        if (st != HX_OK) return st;
        for (int th = 1; th <= 2; th++) {
            r->c[th][k] = rate[th];
            r->c_cpu[th][k] = cpu_rate[th];
            r->t_cpu[th][k] = -1;
            r->t[th][k] = om->torch ? bench_torch(x->path, th, &r->t_cpu[th][k]) : -1;
        }
        cpu_jiffies(&s1, &t1);
        printf("%-12s round %d: C %.0f / %.0f samples/s at 1 / 2 threads (%.2fx), torch %.0f / %.0f; steal %.1f%%\n",
               bm->name, k + 1, r->c[1][k], r->c[2][k], r->c[2][k] / r->c[1][k], r->t[1][k], r->t[2][k],
               t1 > t0 ? 100.0 * (double)(s1 - s0) / (double)(t1 - t0) : 0.0);
    }
    return HX_OK;
}

/* Ratios are medians of each round's own ratio: the two sides of a ratio were
 * timed at the same moments (C at 1 and 2 threads interleaved; torch right
 * after C in the same round), so a noisy round moves both. */
static void bench_summarize(const bench_rounds *r, int rounds, bench_summary *s) {
    double v[BENCH_MAX_ROUNDS], w[BENCH_MAX_ROUNDS];
    *s = (bench_summary){.c_vs_t = {-1, -1, -1}, .c_vs_1 = {-1, 1, -1}, .t2_vs_1 = -1};
    for (int th = 1; th <= 2; th++) {
        s->c[th] = bench_median(r->c[th], rounds);
        s->c_cpu[th] = bench_median(r->c_cpu[th], rounds);
        s->t[th] = bench_median(r->t[th], rounds);
        s->t_cpu[th] = bench_median(r->t_cpu[th], rounds);
        for (int k = 0; k < rounds; k++) v[k] = r->t[th][k] > 0 ? r->c[th][k] / r->t[th][k] : -1;
        s->c_vs_t[th] = bench_median(v, rounds);
    }
    for (int k = 0; k < rounds; k++) {
        v[k] = r->c[2][k] / r->c[1][k];
        w[k] = r->t[1][k] > 0 && r->t[2][k] > 0 ? r->t[2][k] / r->t[1][k] : -1;
    }
    s->c_vs_1[2] = bench_median(v, rounds);
    s->t2_vs_1 = bench_median(w, rounds);
}

/* Prints a model's table rows and stores them in the bench table. */
static hx_status bench_report(const bench_ctx *x, const bench_model *bm, const bench_summary *s, char *err,
                              size_t errlen) {
    char name[64];
    for (int th = 1; th <= 2; th++) {
        if (s->c_vs_t[th] > 0)
            printf("%-12s %-7s %8d %14.0f %9.2fx %16.0f\n", bm->name, "c", th, s->c[th], s->c_vs_t[th], s->c_cpu[th]);
        else printf("%-12s %-7s %8d %14.0f %10s %16.0f\n", bm->name, "c", th, s->c[th], "-", s->c_cpu[th]);
        snprintf(name, sizeof name, "train_%s_c", bm->name);
        if (bench_db_store(x->db, name, th, s->c[th], s->c_vs_t[th], s->c_vs_1[th], s->c_cpu[th], x->host)) goto dberr;
        if (s->t[th] > 0) {
            printf("%-12s %-7s %8d %14.0f %10s %16.0f\n", bm->name, "torch", th, s->t[th], "1.00x", s->t_cpu[th]);
            snprintf(name, sizeof name, "train_%s_torch", bm->name);
            if (bench_db_store(x->db, name, th, s->t[th], 1.0, th == 1 ? 1.0 : s->t2_vs_1, s->t_cpu[th], x->host))
                goto dberr;
        } else if (x->o->torch) {
            printf("%-12s %-7s %8d %14s\n", bm->name, "torch", th, "failed");
        }
    }
    printf("%-12s C at 2 threads / C at 1 thread: %.2fx", bm->name, s->c_vs_1[2]);
    if (s->c_vs_t[1] > 0)
        printf("; C 1 thread / torch 1 thread: %.2fx (per CPU second %.2fx)", s->c_vs_t[1],
               s->c_cpu[1] / s->t_cpu[1]);
    printf(" (medians of the rounds' ratios)\n");
    return HX_OK;
dberr:
    return hx_error(HX_ERR_IO, err, errlen, "%s: %s", x->o->db, sqlite3_errmsg(x->db));
}

/* One MLP shape: its batches for torch, the rounds, their medians, the rows. */
static hx_status bench_model_run(const bench_ctx *x, const bench_model *bm, char *err, size_t errlen) {
    bench_opts om = *x->o;
    if (!om.steps) om.steps = bm->steps;
    if (om.torch && write_bench_file(x->fd, x->ds, &bm->cfg, &om) != 0)
        return hx_error(HX_ERR_IO, err, errlen, "cannot write the batches for PyTorch to a temporary file: %s",
                        strerror(errno));
    bench_rounds r;
    bench_summary s;
    hx_status st = bench_measure(x, bm, &om, &r, err, errlen);
    if (st != HX_OK) return st;
    bench_summarize(&r, om.rounds, &s);
    return bench_report(x, bm, &s, err, errlen);
}

hx_status bench_run(const bench_opts *o, char *err, size_t errlen) {
    HX_ASSERT(o->rounds >= 1 && o->rounds <= BENCH_MAX_ROUNDS && o->batch >= 1);
    bench_ctx x = {.o = o, .fd = -1, .host = "unknown"};
    hx_big_set(!o->plain);
    hx_status st = bench_setup(&x, err, errlen);
    if (st == HX_OK && o->train) bench_print_header(o, x.ds);
    for (size_t k = 0; st == HX_OK && o->train && k < sizeof k_models / sizeof k_models[0]; k++)
        if (!o->model || !strcmp(o->model, k_models[k].name)) st = bench_model_run(&x, &k_models[k], err, errlen);
    if (st == HX_OK && (o->big || o->cold > 0)) st = bench_big(x.db, x.host, o, err, errlen);
    if (st == HX_OK && o->parse_mb > 0 && bench_parse(x.db, x.host, o->parse_mb, 1))
        st = hx_error(HX_ERR_IO, err, errlen, "the parse benchmark failed");
    if (st == HX_OK) printf("stored in %s, table bench\n", o->db);
    if (x.fd >= 0) close(x.fd);
    sqlite3_close(x.db);
    ds_free(x.ds);
    return st;
}
