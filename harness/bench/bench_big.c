/* bench_big.c: big tables in `embsweep bench`, side by side in one run:
 *
 *   small  `full`, dim 16, on 26 fields of 10..20000 ids (log-spaced), uniform ids
 *   big    the same model on Criteo Kaggle's 26 cardinalities times --big-scale
 *          (default 0.5: 16.9M ids, a 1.01 GiB table), uniform ids
 *   probe  the machine's gather limit: random 64-byte rows read and updated over a
 *          table of the big table's bytes, plain (heap, small pages), in huge
 *          pages, and in huge pages with a prefetch 16 rows ahead; as samples/s,
 *          one sample being 26 rows
 *   dot    the dot interaction's forward and backward alone at this shape (26
 *          fields and the bottom output, dim 16), once for each instruction
 *          set's build of its kernels that the CPU can run, against the
 *          baseline build in the same rounds: a build slower than the baseline
 *          on some CPU shows here
 *
 * for `full` with row-wise Adagrad (dense layers Adagrad) and with Adam, batch
 * 1024, the default MLPs (64-16 / 64-32-1), one thread, 13 dense features. In each
 * round the small and the big model train in alternating chunks of steps (as
 * bench.c times its thread pair), so their ratio is timed at the same moments of
 * a shared machine; the rounds give the median and the spread (min..max). With
 * --cold X, the cold case follows: row-wise Adagrad at X times the cardinalities
 * (X = 2.5: 84M ids, a 5.0 GiB table) against the probe at its size.
 */
#include <cblas.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_parse.h"
#include "datasets/dataset.h"
#include "harness/core/interact.h"
#include "harness/train/model.h"

enum { BIG_D = 16, BIG_ROWS = 131072, PROBE_N = 1 << 22 };

typedef struct big_ctx {
    const bench_opts *o;
    sqlite3          *db;
    const char       *host;
    int               steps; /* timed steps per model and round */
} big_ctx;

/* One figure per round, samples per wall second and per process-CPU second. On
 * a machine shared beyond its cores the CPU figure is the steadier one: the wall
 * figure also counts the time the process waited for a core. */
typedef struct big_series {
    double wall[BENCH_MAX_ROUNDS], cpu[BENCH_MAX_ROUNDS];
} big_series;

/* Median and spread of v over n rounds, printed as "med (lo..hi)". */
static double print_spread(const char *fmt, const double *v, int n) {
    double lo = v[0], hi = v[0], med = bench_median(v, n);
    for (int i = 1; i < n; i++) lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    printf(fmt, med, lo, hi);
    return med;
}

/* This process's resident anonymous memory and the part of it in huge pages,
 * KiB (both -1: unreadable). */
typedef struct anon_kib {
    long all, huge;
} anon_kib;

static anon_kib anon_now(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    anon_kib a = {-1, -1};
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "Anonymous: %ld kB", &a.all);
        sscanf(line, "AnonHugePages: %ld kB", &a.huge);
    }
    if (f) fclose(f);
    return a;
}

/* The share of the anonymous memory grown since a0 that is in huge pages, %. */
static double huge_share(anon_kib a0) {
    anon_kib a = anon_now();
    return a.all > a0.all && a0.all >= 0 && a.huge >= 0 ? 100.0 * (double)(a.huge - a0.huge) / (double)(a.all - a0.all)
                                                        : -1;
}

/* Synthetic data, uniform ids: 26 fields of 10..20000 ids (scale 0), else Criteo
 * Kaggle's cardinalities times scale. */
static hx_status big_data(double scale, ds_data **ds, char *err, size_t errlen) {
    char cards[512] = "card_max=20000", rows[32];
    if (scale > 0) {
        size_t u = (size_t)snprintf(cards, sizeof cards, "cardinalities=");
        for (int f = 0; f < DS_CRITEO_FIELDS && u < sizeof cards; f++) {
            long long c = (long long)((double)ds_criteo_kaggle_card[f] * scale + 0.5);
            u += (size_t)snprintf(cards + u, sizeof cards - u, "%s%lld", f ? "," : "", c > 0 ? c : 1);
        }
    }
    snprintf(rows, sizeof rows, "rows=%d", BIG_ROWS);
    char *kv[] = {"fields=26", "dense=13", "zipf=0", "card_min=10", rows, cards};
    ds_spec spec;
    hx_status st = ds_spec_from_args(&spec, scale > 0 ? "bench_big" : "bench_small", "synthetic", 6, kv, err, errlen);
    return st == HX_OK ? ds_load(&spec, NULL, ds, err, errlen) : st;
}

/* One model on one dataset, its batches as int64 ids. */
typedef struct big_run {
    const ds_data *ds;
    emb_spec       spec;
    model          m;
    int64_t       *idx;  /* (nb, B, F) */
    int64_t        nb, step;
    double         wall, cpu;
} big_run;

static hx_status run_make(big_run *r, const ds_data *ds, opt_kind k, int B, char *err, size_t errlen) {
    static const model_cfg mc = {.bottom = {64, BIG_D}, .n_bottom = 2, .top = {64, 32}, .n_top = 2};
    const emb_method *full = emb_method_find("full");
    const int F = ds->n_fields;
    memset(r, 0, sizeof *r);
    r->ds = ds;
    r->nb = ds->n_train / B;
    const float lr = k == OPT_ADAM ? 0.001f : 0.01f;
    r->spec = (emb_spec){.n_fields = F, .card = ds->card, .dim = BIG_D, .ratio = 1, .seed = 1, .batch = B,
                         .steps_per_epoch = r->nb, .total_steps = 1000000, .opt = opt_default(k, lr),
                         .dense_opt = opt_default(k == OPT_ADAM ? OPT_ADAM : OPT_ADAGRAD, lr)};
    emb_params_default(full, r->spec.pv);
    emb_plan plan;
    if (!(r->idx = hx_calloc((size_t)(r->nb * B * F), sizeof(int64_t))))
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    for (int64_t i = 0; i < r->nb * B * F; i++) r->idx[i] = ds->cat[i];
    hx_status st = full->plan(&r->spec, &plan, err, errlen);
    return st == HX_OK ? model_create(&r->m, &mc, ds->n_dense, full, &r->spec, r->spec.dense_opt, 1, err, errlen) : st;
}

static void run_free(big_run *r) {
    model_free(&r->m);
    hx_free(r->idx);
    memset(r, 0, sizeof *r);
}

/* n steps of r, timed into its wall and cpu when timed. */
static hx_status run_steps(big_run *r, int n, int B, int timed, char *err, size_t errlen) {
    const int F = r->ds->n_fields, Dd = r->ds->n_dense;
    const double t0 = hx_now(), c0 = hx_cpu_time();
    for (int k = 0; k < n; k++, r->step++) {
        const int64_t b = r->step % r->nb;
        model_forward(&r->m, r->ds->dense + (size_t)b * B * Dd, r->idx + (size_t)b * B * F, B);
        hx_status st = model_train_step(&r->m, r->ds->label + (size_t)b * B, B, r->step + 1, err, errlen);
        if (st != HX_OK) return st;
    }
    if (timed) r->wall += hx_now() - t0, r->cpu += hx_cpu_time() - c0;
    return HX_OK;
}

/* Rounds of `steps` timed steps of the n runs r in alternating chunks; s[i]
 * gets run i's figures. */
static hx_status run_group(const big_ctx *x, big_run *r, big_series *s, int n, char *err, size_t errlen) {
    const int B = x->o->batch, chunk = x->steps / 10 > 1 ? x->steps / 10 : 1;
    hx_status st = HX_OK;
    for (int i = 0; st == HX_OK && i < n; i++) st = run_steps(&r[i], x->o->warm, B, 0, err, errlen);
    for (int k = 0; st == HX_OK && k < x->o->rounds; k++) {
        for (int i = 0; i < n; i++) r[i].wall = r[i].cpu = 0;
        for (int done = 0; st == HX_OK && done < x->steps; done += chunk) {
            const int m = x->steps - done < chunk ? x->steps - done : chunk;
            for (int i = 0; st == HX_OK && i < n; i++) st = run_steps(&r[i], m, B, 1, err, errlen);
        }
        for (int i = 0; i < n; i++)
            s[i].wall[k] = (double)x->steps * B / r[i].wall, s[i].cpu[k] = (double)x->steps * B / r[i].cpu;
    }
    return st;
}

/* Prints a series (and with a reference series, the rounds' ratios to it) and
 * stores it as a bench row: medians; vs_ref the median of the wall ratios. */
static hx_status fig_store(const big_ctx *x, const char *name, const big_series *s, const char *ref,
                           const big_series *r, char *err, size_t errlen) {
    const int n = x->o->rounds;
    printf("  %-26s", name);
    const double wall = print_spread(" %9.0f (%.0f..%.0f)", s->wall, n);
    const double cpu = print_spread("  per CPU s %9.0f (%.0f..%.0f)", s->cpu, n);
    double vs = -1;
    if (ref) {
        double q[BENCH_MAX_ROUNDS], qc[BENCH_MAX_ROUNDS];
        for (int k = 0; k < n; k++) q[k] = s->wall[k] / r->wall[k], qc[k] = s->cpu[k] / r->cpu[k];
        printf("\n  %26s", "");
        vs = print_spread(" %.3f (%.3f..%.3f)", q, n);
        print_spread(", per CPU s %.3f (%.3f..%.3f)", qc, n);
        printf(" of %s", ref);
    }
    printf("\n");
    if (bench_db_store(x->db, name, 1, wall, -1, -1, cpu, x->host) || (ref && bench_db_set_ref(x->db, ref, vs)))
        return hx_error(HX_ERR_IO, err, errlen, "%s: %s", x->o->db, sqlite3_errmsg(x->db));
    return HX_OK;
}

/* The small and the big table with optimizer k, side by side. */
static hx_status big_opt(const big_ctx *x, const ds_data *small, const ds_data *big, opt_kind k, const char *prefix,
                         char *err, size_t errlen) {
    /* r[0] small, r[1] big, r[2] (row-wise Adagrad, huge pages and prefetch on)
     * the big one without them: the engine before, timed in the same rounds */
    big_run r[3];
    big_series s[3];
    memset(r, 0, sizeof r);
    const int on = hx_prefetch_ahead() > 0, n = on && k == OPT_ROWWISE_ADAGRAD ? 3 : 2;
    hx_status st = run_make(&r[0], small, k, x->o->batch, err, errlen);
    const anon_kib a0 = anon_now();
    if (st == HX_OK) st = run_make(&r[1], big, k, x->o->batch, err, errlen);
    const double huge = huge_share(a0);
    hx_big_set(0);
    if (st == HX_OK && n == 3) st = run_make(&r[2], big, k, x->o->batch, err, errlen);
    hx_big_set(on);
    if (st == HX_OK) st = run_group(x, r, s, n, err, errlen);
    if (st == HX_OK) {
        emb_bytes eb;
        r[1].m.method->bytes(r[1].m.emb, &eb);
        char tb[32], name[3][64];
        hx_human_bytes((double)emb_bytes_train(&eb), tb, sizeof tb);
        printf("  %s: big table %s in training, %.0f%% of it in huge pages%s\n", opt_kind_name(k), tb, huge,
               n == 3 ? "; its twin without huge pages, prefetch and the fused step (_plain) in the same rounds" : "");
        snprintf(name[0], sizeof name[0], "%s_small_%s", prefix, opt_kind_name(k));
        snprintf(name[1], sizeof name[1], "%s_%s", prefix, opt_kind_name(k));
        snprintf(name[2], sizeof name[2], "%s_plain_%s", prefix, opt_kind_name(k));
        for (int i = 0; st == HX_OK && i < n; i++) st = fig_store(x, name[i], &s[i], i ? name[0] : NULL, &s[0], err, errlen);
    }
    for (int i = 0; i < 3; i++) run_free(&r[i]);
    return st;
}

/* Random 64-byte rows of T (rows x 16 floats) read and updated, prefetching
 * `ahead` rows further (0: none); round k of s gets samples/s (26 rows each). */
static void probe_once(float *T, const uint32_t *ids, int ahead, big_series *s, int k) {
    const double t0 = hx_now(), c0 = hx_cpu_time();
    for (int64_t i = 0; i < PROBE_N; i++) {
        if (ahead && i + ahead < PROBE_N) __builtin_prefetch(T + (size_t)ids[i + ahead] * BIG_D, 1, 3);
        float *r = T + (size_t)ids[i] * BIG_D;
        for (int j = 0; j < BIG_D; j++) r[j] = r[j] * 0.999f + 0.001f;
    }
    s->wall[k] = (double)PROBE_N / DS_CRITEO_FIELDS / (hx_now() - t0);
    s->cpu[k] = (double)PROBE_N / DS_CRITEO_FIELDS / (hx_cpu_time() - c0);
}

/* The probe over a table of `rows` rows, per round: plain, huge, huge +
 * prefetch (the two huge ones on one allocation, so one table at a time is held);
 * their samples/s (rows/s over 26 fields) in v[0..2]. */
static hx_status probe_rounds(const big_ctx *x, int64_t rows, big_series v[3], double *huge_pct,
                              char *err, size_t errlen) {
    uint32_t *ids = hx_malloc((size_t)PROBE_N * sizeof(uint32_t));
    if (!ids) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_rng rng;
    hx_rng_seed(&rng, 7);
    for (int64_t i = 0; i < PROBE_N; i++) ids[i] = (uint32_t)hx_rng_below(&rng, (uint64_t)rows);
    const size_t bytes = (size_t)rows * BIG_D * sizeof(float);
    hx_status st = HX_OK;
    for (int k = 0; st == HX_OK && k < x->o->rounds; k++)
        for (int huge = 0; huge <= 1; huge++) {
            const int ahead = hx_prefetch_ahead();
            hx_big_set(huge);
            const anon_kib a0 = anon_now();
            float *T = hx_big_calloc(bytes, 1);
            hx_big_set(ahead > 0); /* back to the run's setting */
            if (!T) {
                st = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for the probe's table");
                break;
            }
            memset(T, 0, bytes); /* every page in before timing */
            if (huge) *huge_pct = huge_share(a0);
            probe_once(T, ids, 0, &v[huge], k);
            if (huge) probe_once(T, ids, HX_PREFETCH_AHEAD, &v[2], k);
            hx_big_free(T);
        }
    hx_free(ids);
    return st;
}

static hx_status probe_store(const big_ctx *x, const char *prefix, int64_t rows, char *err, size_t errlen) {
    big_series v[3];
    double huge_pct = -1;
    hx_status st = probe_rounds(x, rows, v, &huge_pct, err, errlen);
    printf("  probe: %.0f%% of its huge table in huge pages; samples/s = rows/s / 26\n", huge_pct);
    static const char *const kinds[3] = {"plain", "huge", "huge_prefetch"};
    char name[3][64];
    for (int i = 0; st == HX_OK && i < 3; i++) {
        snprintf(name[i], sizeof name[i], "%s_%s", prefix, kinds[i]);
        st = fig_store(x, name[i], &v[i], i ? name[0] : NULL, &v[0], err, errlen);
    }
    return st;
}

static int64_t total_rows(const ds_data *ds) {
    int64_t n = 0;
    for (int f = 0; f < ds->n_fields; f++) n += ds->card[f];
    return n;
}

/* The cold case: row-wise Adagrad on the cardinalities times o->cold, its
 * figure against the probe at its size (timed right after it). */
static hx_status big_cold(const big_ctx *x, char *err, size_t errlen) {
    ds_data *ds = NULL;
    big_run r;
    memset(&r, 0, sizeof r);
    hx_status st = big_data(x->o->cold, &ds, err, errlen);
    if (st == HX_OK) {
        printf("cold case: Criteo Kaggle cardinalities x %g (%.1fM ids, %.2f GiB table), row-wise Adagrad\n",
               x->o->cold, (double)total_rows(ds) / 1e6, (double)total_rows(ds) * BIG_D * 4 / (1 << 30));
        st = run_make(&r, ds, OPT_ROWWISE_ADAGRAD, x->o->batch, err, errlen);
    }
    big_series v;
    if (st == HX_OK) st = run_steps(&r, x->o->warm, x->o->batch, 0, err, errlen);
    for (int k = 0; st == HX_OK && k < x->o->rounds; k++) {
        r.wall = r.cpu = 0;
        st = run_steps(&r, x->steps, x->o->batch, 1, err, errlen);
        v.wall[k] = (double)x->steps * x->o->batch / r.wall, v.cpu[k] = (double)x->steps * x->o->batch / r.cpu;
    }
    const int64_t rows = total_rows(ds ? ds : &(ds_data){0});
    run_free(&r);
    ds_free(ds);
    if (st == HX_OK) st = fig_store(x, "cold_rowwise_adagrad", &v, NULL, NULL, err, errlen);
    if (st == HX_OK) st = probe_store(x, "cold_probe", rows, err, errlen);
    return st;
}

/* The dot interaction alone (26 fields and x, dim 16, batch o->batch): each
 * instruction set's kernels the CPU can run, forward and backward, in
 * alternating chunks of calls, against the baseline's. */
static hx_status big_dot(const big_ctx *x, char *err, size_t errlen) {
    enum { F = 26, CALLS = 20, CHUNKS = 10 }; /* a round: CHUNKS x CALLS calls of each build */
    const int B = x->o->batch, W = interact_dot_width(F, BIG_D, BIG_D);
    const size_t n_emb = (size_t)B * F * BIG_D, n_x = (size_t)B * BIG_D, n_out = (size_t)B * W;
    float *buf = hx_calloc(2 * (n_emb + n_x) + n_out + interact_dot_scratch(F, BIG_D, BIG_D), sizeof(float));
    if (!buf) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    float *emb = buf, *dx_ = emb + n_emb, *demb = dx_ + n_x, *xb = demb + n_emb, *out = xb + n_x,
          *scr = out + n_out;
    hx_rng g;
    hx_rng_seed(&g, 1);
    for (size_t i = 0; i < n_emb; i++) emb[i] = hx_rng_uniformf(&g, -1, 1);
    for (size_t i = 0; i < n_x; i++) xb[i] = hx_rng_uniformf(&g, -1, 1);
    int isa[IX_ISA_N], n = 0; /* the baseline first: the others' reference */
    for (int i = IX_ISA_N - 1; i >= 0; i--)
        if (interact_dot_isa_usable(i)) isa[n++] = i;
    big_series s[IX_ISA_N];
    for (int k = 0; k < x->o->rounds; k++) {
        double wall[IX_ISA_N] = {0}, cpu[IX_ISA_N] = {0};
        for (int c = 0; c < CHUNKS; c++)
            for (int i = 0; i < n; i++) {
                const double t0 = hx_now(), c0 = hx_cpu_time();
                for (int r = 0; r < CALLS; r++) {
                    interact_dot_forward_isa(isa[i], out, xb, emb, B, F, BIG_D, BIG_D, scr);
                    interact_dot_backward_isa(isa[i], dx_, demb, out, xb, emb, B, F, BIG_D, BIG_D, scr);
                }
                wall[i] += hx_now() - t0, cpu[i] += hx_cpu_time() - c0;
            }
        for (int i = 0; i < n; i++)
            s[i].wall[k] = (double)CHUNKS * CALLS * B / wall[i], s[i].cpu[k] = (double)CHUNKS * CALLS * B / cpu[i];
    }
    hx_free(buf);
    printf("dot interaction alone: 26 fields and the bottom output, dim %d, batch %d, forward and backward, "
           "samples/s of each build of its kernels the CPU can run (%s in training)\n",
           BIG_D, B, interact_dot_isa_name(interact_dot_isa()));
    hx_status st = HX_OK;
    char name[IX_ISA_N][32];
    for (int i = 0; st == HX_OK && i < n; i++) {
        snprintf(name[i], sizeof name[i], "dot_%s", interact_dot_isa_name(isa[i]));
        st = fig_store(x, name[i], &s[i], i ? name[0] : NULL, &s[0], err, errlen);
    }
    return st;
}

/* The small and the big table with both optimizers, then the probe and the
 * dot kernels. */
static hx_status big_main(const big_ctx *x, char *err, size_t errlen) {
    const bench_opts *o = x->o;
    ds_data *small = NULL, *big = NULL;
    hx_status st = big_data(0, &small, err, errlen);
    if (st == HX_OK) st = big_data(o->big_scale, &big, err, errlen);
    if (st == HX_OK) {
        printf("big tables: full dim %d, batch %d, 1 thread, uniform ids, %d rounds of %d steps per model "
               "(median (min..max)); small: 26 fields of 10..20000 ids (%.2f MiB table); big: Criteo Kaggle "
               "cardinalities x %g (%.1fM ids, %.2f GiB table); the dot interaction's %s kernels%s\n",
               BIG_D, o->batch, o->rounds, x->steps, (double)total_rows(small) * BIG_D * 4 / (1 << 20), o->big_scale,
               (double)total_rows(big) / 1e6, (double)total_rows(big) * BIG_D * 4 / (1 << 30),
               interact_dot_isa_name(interact_dot_isa()), hx_prefetch_ahead() ? "" : "; huge pages and prefetch OFF (--plain)");
        st = big_opt(x, small, big, OPT_ROWWISE_ADAGRAD, "big", err, errlen);
    }
    if (st == HX_OK) st = big_opt(x, small, big, OPT_ADAM, "big", err, errlen);
    const int64_t rows = big ? total_rows(big) : 0;
    ds_free(small);
    ds_free(big);
    if (st == HX_OK) st = probe_store(x, "probe", rows, err, errlen);
    return st == HX_OK ? big_dot(x, err, errlen) : st;
}

hx_status bench_big(sqlite3 *db, const char *host, const bench_opts *o, char *err, size_t errlen) {
    big_ctx x = {.o = o, .db = db, .host = host, .steps = o->steps ? o->steps : 100};
    /* one thread: with --no-train nothing else pinned OpenBLAS, whose own threads
     * then ran the MLPs' sgemm on the other core and counted in the CPU figures */
    openblas_set_num_threads(1);
    hx_status st = o->big ? big_main(&x, err, errlen) : HX_OK;
    return st == HX_OK && o->cold > 0 ? big_cold(&x, err, errlen) : st;
}
