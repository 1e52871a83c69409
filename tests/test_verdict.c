/* test_verdict.c: the verdicts (harness/report/verdict.c) on planted scores whose
 * true AUCs are known, and the rules on hand-made cases.
 *
 * The planted model: a test set of N rows with labels y ~ Bernoulli(0.3), shared
 * by every run (as in a sweep: one dataset split). A run of a config with
 * strength mu has logits mu*y + e + s*u, where e ~ N(0,1) per row is shared by
 * every run (what the test rows are) and u ~ N(0,1) per row and run is its seed's
 * own noise. Positives and negatives are then normal with variance 1 + s^2 and
 * means mu and 0, so the population AUC is Phi(mu / sqrt(2 (1 + s^2))). A seed
 * also moves the whole model: its strength is mu + t*w, w ~ N(0,1) per run, the
 * model-level training noise that DeLong's test on one test set cannot see and
 * the paired t-test over seeds must catch.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/metrics.h"
#include "harness/report/verdict.h"

#define N_ROWS  4000
#define N_SEEDS 5
#define SEED_SD 1.0
#define MODEL_SD 0.05

typedef struct planted {
    float  label[N_ROWS], shared[N_ROWS];
    float  logit[3][N_SEEDS][N_ROWS]; /* configs 0, 1, 2 */
    vd_run run[3][N_SEEDS];
} planted;

static double planted_auc(double mu) { return st_norm_cdf(mu / sqrt(2 * (1 + SEED_SD * SEED_SD))); }

/* Config c has strength mu[c]; every (config, seed) draws its own noise stream. */
static void planted_fill(planted *p, uint64_t rep, const double mu[3]) {
    hx_rng r;
    hx_rng_seed(&r, 1000 + rep);
    for (int i = 0; i < N_ROWS; i++) {
        p->label[i] = hx_rng_uniform(&r) < 0.3 ? 1.0f : 0.0f;
        p->shared[i] = (float)hx_rng_normal(&r);
    }
    for (int c = 0; c < 3; c++)
        for (int s = 0; s < N_SEEDS; s++) {
            hx_rng_seed(&r, hx_splitmix64(rep * 977 + (uint64_t)c * 31 + (uint64_t)s + 7));
            float *z = p->logit[c][s];
            double m = mu[c] + MODEL_SD * hx_rng_normal(&r);
            for (int i = 0; i < N_ROWS; i++)
                z[i] = (float)(m * p->label[i] + p->shared[i] + SEED_SD * hx_rng_normal(&r));
            p->run[c][s] = (vd_run){.seed = s + 1, .auc = metrics_auc(z, p->label, N_ROWS), .bytes_infer = 1,
                                    .logits = z, .labels = p->label, .n = N_ROWS};
        }
}

/* Repeated planted cases: config 1 is config 0 again on other seed streams,
 * config 2 is weaker by a known AUC. Against config 0 as the baseline, config 2
 * must be called worse every time (and config 0 better than config 2), and the
 * identical pair called better or worse at most at the test's level: over 200
 * repetitions at alpha 0.05 a calibrated rule makes about 10 such calls, and more
 * than 17 would happen by chance once in about 70 runs of a calibrated rule. The
 * CI of the difference must cover the known difference about 95% of the time. The
 * first 20 repetitions are logged one by one. */
#define N_REPS 200
Test(verdict, planted_difference_and_identical_pair) {
    const double mu[3] = {1.2, 1.2, 0.9};
    const double true_delta = planted_auc(mu[2]) - planted_auc(mu[0]);
    planted *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    vd_opts o;
    vd_opts_default(&o);
    int false_calls = 0, false_20 = 0, worse = 0, better = 0, covered = 0;
    for (uint64_t rep = 0; rep < N_REPS; rep++) {
        planted_fill(p, rep, mu);
        vd_row same, weak, strong;
        cr_assert_eq(vd_judge(p->run[1], N_SEEDS, p->run[0], N_SEEDS, &o, &same), HX_OK);
        cr_assert_eq(vd_judge(p->run[2], N_SEEDS, p->run[0], N_SEEDS, &o, &weak), HX_OK);
        cr_assert_eq(vd_judge(p->run[0], N_SEEDS, p->run[2], N_SEEDS, &o, &strong), HX_OK);
        int false_call = same.kind == VD_BETTER || same.kind == VD_WORSE;
        false_calls += false_call;
        false_20 += false_call && rep < 20;
        worse += weak.kind == VD_WORSE;
        better += strong.kind == VD_BETTER;
        covered += weak.delta.ci_lo <= true_delta && true_delta <= weak.delta.ci_hi;
        cr_assert_eq(weak.n_delong, N_SEEDS);
        if (rep < 20)
            cr_log_info("rep %2d: identical pair %-32s delta %+.4f p %.3f delong p %.3f | weaker: %s delta %+.4f "
                        "[%+.4f, %+.4f] (true %+.4f)",
                        (int)rep, same.verdict, same.delta.mean, same.delta.p, same.delong.p, weak.verdict,
                        weak.delta.mean, weak.delta.ci_lo, weak.delta.ci_hi, true_delta);
    }
    free(p);
    cr_log_info("identical pair called better or worse: %d of the first 20, %d of %d; weaker called worse %d, "
                "stronger better %d; CI covered the true difference %d times",
                false_20, false_calls, N_REPS, worse, better, covered);
    cr_expect_eq(worse, N_REPS, "the weaker config was called worse %d times of %d", worse, N_REPS);
    cr_expect_eq(better, N_REPS, "the stronger config was called better %d times of %d", better, N_REPS);
    cr_expect_leq(false_calls, 17, "the identical pair was called better or worse %d times of %d", false_calls,
                  N_REPS);
    cr_expect(covered >= 180 && covered <= 199, "the 95%% CI covered the true difference %d times of %d", covered,
              N_REPS);
}

static vd_run mk(int64_t seed, double auc) { return (vd_run){.seed = seed, .auc = auc, .bytes_infer = 100}; }

/* The rules on AUCs alone (no scores kept: the t-test decides). */
Test(verdict, rules_without_scores) {
    vd_opts o;
    vd_opts_default(&o);
    vd_row row;
    vd_run base[4] = {mk(1, 0.800), mk(2, 0.802), mk(3, 0.798), mk(4, 0.801)};
    /* a clear loss of 0.02 with little spread */
    vd_run lo[4] = {mk(1, 0.780), mk(2, 0.7825), mk(3, 0.7775), mk(4, 0.781)};
    cr_assert_eq(vd_judge(lo, 4, base, 4, &o, &row), HX_OK);
    cr_expect_eq(row.kind, VD_WORSE, "%s", row.verdict);
    cr_expect_eq(row.n_delong, 0);
    /* within 0.0002 of the baseline, seed by seed: equivalent within 0.001 */
    vd_run eq[4] = {mk(1, 0.8001), mk(2, 0.8019), mk(3, 0.7981), mk(4, 0.8011)};
    cr_assert_eq(vd_judge(eq, 4, base, 4, &o, &row), HX_OK);
    cr_expect_eq(row.kind, VD_EQUIVALENT, "%s", row.verdict);
    cr_expect_str_eq(row.verdict, "equivalent within 0.001");
    /* noisy: not resolved, and it says how many seeds */
    vd_run noisy[4] = {mk(1, 0.805), mk(2, 0.795), mk(3, 0.801), mk(4, 0.797)};
    cr_assert_eq(vd_judge(noisy, 4, base, 4, &o, &row), HX_OK);
    cr_expect_eq(row.kind, VD_UNRESOLVED, "%s", row.verdict);
    cr_expect(row.seeds_needed > 4, "seeds needed %d", row.seeds_needed);
    cr_expect(strstr(row.verdict, "needs ~") || strstr(row.verdict, "needs >"), "%s", row.verdict);
    /* one shared seed: no spread */
    cr_assert_eq(vd_judge(lo, 1, base, 4, &o, &row), HX_OK);
    cr_expect_eq(row.kind, VD_UNRESOLVED);
    cr_expect_str_eq(row.verdict, "not resolved (1 seed)");
    /* no shared seed */
    vd_run other[2] = {mk(7, 0.8), mk(8, 0.8)};
    cr_assert_eq(vd_judge(other, 2, base, 4, &o, &row), HX_OK);
    cr_expect_eq(row.kind, VD_NO_BASELINE);
    cr_expect_eq(row.n_seeds, 2);
    cr_expect(fabs(row.auc.mean - 0.8) < 1e-12);
}

/* A significant t-test is not enough when DeLong on the test rows disagrees:
 * two runs whose scores are the baseline's own (no test-set difference at all)
 * but whose stored AUCs were shifted are not called better. */
Test(verdict, delong_must_agree) {
    enum { N = 200 };
    float label[N], z[N];
    hx_rng r;
    hx_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        label[i] = i % 3 == 0;
        z[i] = (float)(label[i] + hx_rng_normal(&r));
    }
    vd_opts o;
    vd_opts_default(&o);
    vd_run base[3], a[3];
    for (int s = 0; s < 3; s++) {
        base[s] = (vd_run){.seed = s, .auc = 0.70 + 0.0001 * s, .logits = z, .labels = label, .n = N};
        a[s] = base[s];
        a[s].auc += 0.01;
        a[s].logits = z;
    }
    /* identical scores: DeLong's variance of the difference is 0, its p NAN */
    vd_row row;
    cr_assert_eq(vd_judge(a, 3, base, 3, &o, &row), HX_OK);
    cr_expect_eq(row.n_delong, 3);
    cr_expect_neq(row.kind, VD_BETTER, "%s", row.verdict);
}

/* ---- the command and the stored table, on a real sweep ---- */

#include <sys/stat.h>

#include "fixtures.h"

/* The sweeps of the tests below: this, then their dims and axes. */
#define VD_YAML_HEAD                                              \
    "datasets:\n"                                                 \
    "  syn: {kind: synthetic, rows: 6000}\n"                      \
    "model: {bottom_mlp: [16], top_mlp: [16], interaction: dot}\n" \
    "train: {epochs: 0.5, batch: 128}\n"                          \
    "unreachable: skip\n"                                         \
    "jobs: 2\n"                                                   \
    "matrix:\n"                                                   \
    "  method: [full, hash]\n"                                    \
    "  ratio: [1, 16]\n"                                          \
    "  seed: [1, 2, 3]\n"

static const char k_sweep_yaml[] = "name: vd\n" VD_YAML_HEAD "  dim: [8]\n  lr: [0.003, 0.01]\n";

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(verdict, compare_prints_the_stored_rows) {
    char dir[64], yaml[128], out[1 << 16], cmd[512];
    fx_tmpdir(dir);
    fx_write(dir, "vd.yaml", k_sweep_yaml, yaml);
    snprintf(cmd, sizeof cmd, "run %s --db %s/r.db", yaml, dir);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    struct stat before, after;
    snprintf(cmd, sizeof cmd, "%s/r.db", dir);
    cr_assert_eq(stat(cmd, &before), 0);

    /* compare --csv gives the rows `run` stored, read by the saved query */
    char cmp[1 << 16];
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --csv", dir);
    cr_assert_eq(fx_run_cli(cmd, cmp, sizeof cmp), 0, "%s", cmp);
    snprintf(cmd, sizeof cmd, "query verdicts --db %s/r.db --csv --queries results/queries", dir);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect_str_eq(cmp, out);
    /* header + (full@1, hash@1, hash@16) x 2 learning rates; hash at 1 is full */
    cr_expect_eq(count_lines(cmp), 7, "%s", cmp);
    cr_expect(strstr(cmp, "lr=0.003,full,") && strstr(cmp, "lr=0.01,full,"), "%s", cmp);
    const char *ok[] = {"baseline", "better", "worse", "equivalent within 0.001", "not resolved"};
    for (char *l = strchr(cmp, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        char *end = strchr(l, '\n'), *comma = end;
        while (comma > l && comma[-1] != ',') comma--;
        int known = 0;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) known |= !strncmp(comma, ok[i], strlen(ok[i]));
        cr_expect(known, "unknown verdict in: %.*s", (int)(end - l), l);
        if (strstr(l, ",hash,") && strstr(l, "sign=false,1,")) /* hash at ratio 1 is full */
            cr_expect(strstr(l, "equivalent within 0.001"), "%.*s", (int)(end - l), l);
    }
    snprintf(cmd, sizeof cmd, "%s/r.db", dir);
    cr_assert_eq(stat(cmd, &after), 0);
    cr_expect_eq(before.st_mtime, after.st_mtime, "compare wrote the database");
    cr_expect_eq(before.st_size, after.st_size, "compare wrote the database");

    /* status counts the stored verdicts */
    snprintf(cmd, sizeof cmd, "status --db %s/r.db", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "verdicts against full (embsweep compare):") && strstr(out, "equivalent=2"), "%s", out);

    /* another baseline and margin; options checked */
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --baseline hash@16 --margin 0.01 --dim 8 --dataset syn", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "hash@16") && strstr(out, "equivalent within 0.01"), "%s", out);
    /* the same budget: hash at each row's ratio; full has no hash@16 to meet */
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --csv --baseline hash@same --baseline-params 'hash=universal'", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "hash@16 hash=universal") && strstr(out, "hash@1 hash=universal"), "%s", out);
    cr_expect_eq(count_lines(out), 7, "%s", out);
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --csv --baseline hash@same --baseline-params hash=mod", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, ",no baseline\n") && !strstr(out, "equivalent"), "%s", out);
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --sweep nosuch", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "no sweep 'nosuch'") && strstr(out, "vd"), "%s", out);
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --dim 4", dir);
    cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s", out);
    const char *bad[] = {"--margin 2", "--alpha 0", "--dim 1.5", "--baseline @4", "--bogus", "--margin"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "compare --db %s/r.db %s", dir, bad[i]);
        cr_expect_eq(fx_run_cli(cmd, out, sizeof out), 2, "%s: %s", bad[i], out);
    }
    cr_expect_eq(fx_run_cli("compare --help", out, sizeof out), 0);
    cr_expect(strstr(out, "--baseline"), "%s", out);
    fx_rmdir(dir);
}

/* ---- the pair mode: any config against any other ---- */

static const char k_pair_yaml[] = "name: vp\n" VD_YAML_HEAD "  dim: [4, 8]\n  emb_lr: [0.003, 0.8]\n";

/* The line of csv that holds `from`, from there to its end, into out. */
static void line_from(const char *csv, const char *from, char *out, size_t n) {
    const char *at = strstr(csv, from);
    cr_assert_not_null(at, "no '%s' in:\n%s", from, csv);
    snprintf(out, n, "%.*s", (int)strcspn(at, "\n"), at);
}

static int pair_cli(const char *dir, const char *args, char *out, size_t n) {
    char cmd[768];
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --csv %s", dir, args);
    return fx_run_cli(cmd, out, n);
}

Test(verdict, compare_pairs_any_two_configs) {
    char dir[64], yaml[128], out[1 << 16], grp[1 << 16], cmd[512], a[2048], b[2048];
    fx_tmpdir(dir);
    fx_write(dir, "vp.yaml", k_pair_yaml, yaml);
    snprintf(cmd, sizeof cmd, "run %s --db %s/r.db", yaml, dir);
    cr_assert_eq(fx_run_cli(cmd, out, sizeof out), 0, "%s", out);

    /* across dims and across a training key: one row per pair, what differs in variant */
    cr_assert_eq(pair_cli(dir,
                          "--config 'method=hash dim=4 ratio=16 emb_lr=0.8' --against 'method=full dim=8 emb_lr=0.8'"
                          " --config 'method=full dim=8 emb_lr=0.003' --against 'method=full dim=8 train.emb_lr=0.8'",
                          out, sizeof out),
                 0, "%s", out);
    cr_expect_eq(count_lines(out), 3, "%s", out);
    cr_expect(!strncmp(out, "config,against,sweep,dataset,dim,variant,method,", 48), "%s", out);
    cr_expect(strstr(out, "method=hash dim=4 ratio=16 emb_lr=0.8,method=full dim=8 emb_lr=0.8,,syn,4,"), "%s", out);
    cr_expect(strstr(out, ",\"dim=4/8 model.bottom_mlp=[16,4]/[16,8]\",hash,"), "%s", out);
    cr_expect(strstr(out, ",syn,8,emb_lr=0.003/0.8,full,,1,"), "%s", out);
    cr_expect(strstr(out, ",full@1,3,"), "%s", out);

    /* a pair the group mode judges too gets the same row: hash at ratio 16 and
     * at ratio 1 (which is full: equivalent) against full, same dim and setting */
    snprintf(cmd, sizeof cmd, "compare --db %s/r.db --csv", dir);
    cr_assert_eq(fx_run_cli(cmd, grp, sizeof grp), 0, "%s", grp);
    const char *hash = "hash,rows=auto threshold=200 hash=universal sign=false";
    for (int r = 0; r < 2; r++) {
        char sel[256], at[128];
        snprintf(sel, sizeof sel, "--config 'method=hash dim=8 ratio=%d emb_lr=0.8' --against 'dim=8 method=full"
                 " emb_lr=0.8 arch=dlrm model.interaction=dot'", r ? 1 : 16);
        cr_assert_eq(pair_cli(dir, sel, out, sizeof out), 0, "%s", out);
        snprintf(at, sizeof at, "%s,%d,", hash, r ? 1 : 16);
        line_from(out, at, a, sizeof a);
        snprintf(at, sizeof at, "syn,8,emb_lr=0.8,%s,%d,", hash, r ? 1 : 16);
        line_from(grp, at, b, sizeof b);
        cr_expect_str_eq(a, b + strlen("syn,8,emb_lr=0.8,"));
        if (r) cr_expect(strstr(a, ",equivalent within 0.001"), "%s", a);
    }

    /* a config against itself: no difference, equivalent */
    cr_assert_eq(pair_cli(dir, "--config 'method=full dim=4 emb_lr=0.8' --against 'emb_lr=0.8 dim=4 method=full'",
                          out, sizeof out),
                 0, "%s", out);
    cr_expect(strstr(out, ",full@1,3,0,0,0,") && strstr(out, ",equivalent within 0.001\n"), "%s", out);

    /* selectors that pick several configs, none, or name an unknown key */
    cr_expect_eq(pair_cli(dir, "--config 'method=hash dim=4' --against method=full", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "selector 'method=hash dim=4' matches 4 configs") && strstr(out, "ratio=16 emb_lr=0.8"),
              "%s", out);
    cr_expect_eq(pair_cli(dir, "--config 'method=hash dim=4 ratio=1 lr=0.003 emb_lr=0.8' --against "
                          "model.interaction=dot", out, sizeof out),
                 2, "%s", out);
    cr_expect(strstr(out, "selector 'model.interaction=dot' matches 12 configs") && strstr(out, "(and 2 more)"), "%s",
              out);
    cr_expect_eq(pair_cli(dir, "--config method=mlet --against method=full", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "selector 'method=mlet' matches no ok run"), "%s", out);
    cr_expect_eq(pair_cli(dir, "--config 'method=hash emb_lrr=0.8' --against method=full", out, sizeof out), 2);
    cr_expect(strstr(out, "unknown key 'emb_lrr'"), "%s", out);
    cr_expect_eq(pair_cli(dir, "--config 'method=hash params.nosuch=1' --against method=full", out, sizeof out), 2);
    cr_expect(strstr(out, "unknown key 'params.nosuch'"), "%s", out);
    const char *bad[] = {"--config 'method=full seed=1' --against method=full", "--config method=full",
                         "--against method=full", "--config method=full --config method=hash --against dim=4",
                         "--dim 8 --config method=full --against method=hash", "--config dim --against dim=4",
                         "--dataset nosuch --config method=full --against method=hash"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(pair_cli(dir, bad[i], out, sizeof out), 2, "%s: %s", bad[i], out);
    cr_expect_eq(fx_run_cli("compare --help", out, sizeof out), 0);
    cr_expect(strstr(out, "--against"), "%s", out);
    fx_rmdir(dir);
}
