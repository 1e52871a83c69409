/* test_stats_ref.c: harness/core/stats.c against tests/reference/stats_ref.py,
 * an independent numpy/scipy implementation (file formats documented there).
 * Each test writes its cases to a text file, runs the script with
 * /usr/bin/python3, reads back one value per line and compares every output of
 * the C function with it: |c - ref| <= 1e-6 max(|ref|, floor). The floor is 0
 * (purely relative) except for probabilities so small that they are subnormal
 * or underflow (floor 1e-290): no compared value is near 0 otherwise, so none
 * needs an absolute floor. Skipped, saying so, when python3 cannot import numpy
 * and scipy (harness/deps.sh test installs them).
 *
 * t quantiles: scipy's t.ppf stops its root search near 1e-11 relative, so
 * each C quantile is also sent back through scipy's t.cdf, whose tail must
 * match p to 1e-9 relative: the C quantiles' own accuracy is ~1e-13.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/core/stats.h"
#include "stats_fixture.h"

#define REF_TOL 1e-6
#define REF_TAIL_TOL 1e-9
#define REF_TINY 1e-290

typedef struct ref_val {
    char   name[32], key[16];
    double v;
} ref_val;

/* One run of the script: the IN file while cases are written, then its values. */
typedef struct ref_run {
    char     dir[32], in[64], out[64];
    FILE    *f;
    ref_val *val;
    int      n_val;
    double   max_err; /* the largest relative error compared, and where */
    char     where[64];
    int      n_cmp;
} ref_run;

static void ref_begin(ref_run *r) {
    if (system("/usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1") != 0)
        cr_skip_test("/usr/bin/python3 cannot import numpy and scipy (harness/deps.sh test)");
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/embsweep_stats_XXXXXX");
    cr_assert_not_null(mkdtemp(r->dir));
    snprintf(r->in, sizeof r->in, "%s/in.txt", r->dir);
    snprintf(r->out, sizeof r->out, "%s/out.txt", r->dir);
    r->f = fopen(r->in, "w");
    cr_assert_not_null(r->f);
}

/* Runs the script on the cases written so far and reads its values. */
static void ref_run_script(ref_run *r) {
    cr_assert_eq(fclose(r->f), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/reference/stats_ref.py %s %s", r->in, r->out);
    cr_assert_eq(system(cmd), 0, "the scipy reference failed: %s", cmd);
    FILE *f = fopen(r->out, "r");
    cr_assert_not_null(f);
    ref_val v;
    while (fscanf(f, "%31s %15s %lf", v.name, v.key, &v.v) == 3) {
        r->val = realloc(r->val, (size_t)(r->n_val + 1) * sizeof *r->val);
        cr_assert_not_null(r->val);
        r->val[r->n_val++] = v;
    }
    cr_expect(feof(f), "unreadable line in %s", r->out);
    fclose(f);
}

static double ref_get(const ref_run *r, const char *name, const char *key) {
    for (int i = 0; i < r->n_val; i++)
        if (!strcmp(r->val[i].name, name) && !strcmp(r->val[i].key, key)) return r->val[i].v;
    cr_assert_fail("the reference has no %s %s", name, key);
    return NAN;
}

/* |c - ref| <= tol max(|ref|, floor); NAN matches only NAN. */
static void ref_cmp(ref_run *r, const char *name, const char *key, double c, double ref, double tol,
                    double floor) {
    double den = fabs(ref) > floor ? fabs(ref) : floor;
    double e = c == ref ? 0 : fabs(c - ref) / den;
    if (isnan(c) || isnan(ref)) e = isnan(c) && isnan(ref) ? 0 : INFINITY;
    cr_expect(e <= tol, "%s %s: C %.17g, reference %.17g, relative error %.3g", name, key, c, ref, e);
    if (e > r->max_err) r->max_err = e, snprintf(r->where, sizeof r->where, "%s %s", name, key);
    r->n_cmp++;
}

static void ref_expect(ref_run *r, const char *name, const char *key, double c, double floor) {
    ref_cmp(r, name, key, c, ref_get(r, name, key), REF_TOL, floor);
}

static void ref_end(ref_run *r, const char *test) {
    fprintf(stderr, "stats reference, %s: %d values, max relative error %.3g (%s)\n", test, r->n_cmp,
            r->max_err, r->where);
    unlink(r->in);
    unlink(r->out);
    rmdir(r->dir);
    free(r->val);
}

static void put_doubles(FILE *f, const double *x, int n) {
    for (int i = 0; i < n; i++) fprintf(f, " %.17g", x[i]);
}

static const char *case_name(char buf[32], const char *prefix, size_t i, size_t j) {
    snprintf(buf, 32, "%s%zu_%zu", prefix, i, j);
    return buf;
}

#define LEN(a) (sizeof(a) / sizeof *(a))

/* The normal cdf and quantile, the t cdf over t and df, the t quantile over p
 * and df (its value, and the tail of the C quantile through scipy's cdf). */
Test(stats, ref_distributions) {
    static const double z[] = {-38, -20, -8, -3, -1.959963984540054, -0.5, 0.3, 1.5, 5};
    static const double zp[] = {1e-300, 1e-100, 1e-12, 1e-6, 0.01, 0.025, 0.3, 0.6, 0.975, 1 - 1e-9};
    static const double t[] = {-1e4, -50, -7, -3, -1.5, -0.2, 0.4, 2, 6};
    static const double df[] = {1, 2, 3, 4.5, 10, 29, 100, 1e3, 1e4, 1e5, 1e6};
    static const double p[] = {1e-12, 1e-9,  1e-6, 1e-3, 0.01,     0.025,    0.05,     0.2,      0.4,
                               0.6,   0.8,   0.95, 0.975, 0.99,    1 - 1e-3, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12};
    ref_run r;
    ref_begin(&r);
    char nm[32];
    for (size_t i = 0; i < LEN(z); i++) fprintf(r.f, "norm_cdf %s %.17g\n", case_name(nm, "nc", i, 0), z[i]);
    for (size_t i = 0; i < LEN(zp); i++) fprintf(r.f, "norm_q %s %.17g\n", case_name(nm, "nq", i, 0), zp[i]);
    for (size_t i = 0; i < LEN(df); i++) {
        for (size_t j = 0; j < LEN(t); j++)
            fprintf(r.f, "t_cdf %s %.17g %.17g\n", case_name(nm, "tc", i, j), t[j], df[i]);
        for (size_t j = 0; j < LEN(p); j++)
            fprintf(r.f, "t_q %s %.17g %.17g %.17g\n", case_name(nm, "tq", i, j), p[j], df[i],
                    st_t_quantile(p[j], df[i]));
    }
    ref_run_script(&r);
    for (size_t i = 0; i < LEN(z); i++) ref_expect(&r, case_name(nm, "nc", i, 0), "cdf", st_norm_cdf(z[i]), REF_TINY);
    for (size_t i = 0; i < LEN(zp); i++) ref_expect(&r, case_name(nm, "nq", i, 0), "q", st_norm_quantile(zp[i]), 0);
    for (size_t i = 0; i < LEN(df); i++) {
        for (size_t j = 0; j < LEN(t); j++)
            ref_expect(&r, case_name(nm, "tc", i, j), "cdf", st_t_cdf(t[j], df[i]), REF_TINY);
        for (size_t j = 0; j < LEN(p); j++) {
            ref_expect(&r, case_name(nm, "tq", i, j), "q", st_t_quantile(p[j], df[i]), 0);
            double tail = p[j] < 0.5 ? p[j] : 1 - p[j]; /* exact for p >= 1/2 */
            ref_cmp(&r, nm, "tail", tail, ref_get(&r, nm, "tail"), REF_TAIL_TOL, REF_TINY);
        }
    }
    ref_end(&r, "distributions");
}

/* Case k of the t-based tests: a = 0.8 + 0.002 N(0, 1) (AUCs over n seeds), and
 * b = a - d with d = shift + 0.001 N(0, 1) (a paired difference). */
static void seed_case(int k, int n, double shift, double *a, double *b) {
    double d[100];
    cr_assert(n <= 100);
    st_fix_values(a, n, 0.8, 0.002, 1000 + (uint64_t)k);
    st_fix_values(d, n, shift, 0.001, 2000 + (uint64_t)k);
    for (int i = 0; i < n; i++) b[i] = a[i] - d[i];
}

static const int k_n[] = {2, 3, 5, 10, 40, 100};
static const double k_alpha[] = {0.1, 0.05, 0.01};

Test(stats, ref_mean_ci) {
    ref_run r;
    ref_begin(&r);
    char nm[32];
    double a[100], b[100];
    for (size_t i = 0; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_alpha); j++) {
            seed_case((int)(i * 10 + j), k_n[i], 0, a, b);
            fprintf(r.f, "mean_ci %s %.17g %d", case_name(nm, "m", i, j), k_alpha[j], k_n[i]);
            put_doubles(r.f, a, k_n[i]);
            fputc('\n', r.f);
        }
    ref_run_script(&r);
    for (size_t i = 0; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_alpha); j++) {
            seed_case((int)(i * 10 + j), k_n[i], 0, a, b);
            st_summary s = st_mean_ci(a, k_n[i], k_alpha[j]);
            case_name(nm, "m", i, j);
            ref_expect(&r, nm, "mean", s.mean, 0);
            ref_expect(&r, nm, "sd", s.sd, 0);
            ref_expect(&r, nm, "ci_lo", s.ci_lo, 0);
            ref_expect(&r, nm, "ci_hi", s.ci_hi, 0);
        }
    ref_end(&r, "mean_ci");
}

static const double k_shift[] = {0, 0.0005, 0.002};

Test(stats, ref_paired_t) {
    ref_run r;
    ref_begin(&r);
    char nm[32];
    double a[100], b[100];
    for (size_t i = 0; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_shift); j++) {
            seed_case((int)(100 + i * 10 + j), k_n[i], k_shift[j], a, b);
            fprintf(r.f, "paired %s %.17g %d", case_name(nm, "p", i, j), k_alpha[j], k_n[i]);
            put_doubles(r.f, a, k_n[i]);
            put_doubles(r.f, b, k_n[i]);
            fputc('\n', r.f);
        }
    ref_run_script(&r);
    for (size_t i = 0; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_shift); j++) {
            seed_case((int)(100 + i * 10 + j), k_n[i], k_shift[j], a, b);
            st_paired s = st_paired_t(a, b, k_n[i], k_alpha[j]);
            case_name(nm, "p", i, j);
            const char *key[] = {"mean", "sd", "ci_lo", "ci_hi", "t", "df", "p"};
            double c[] = {s.mean, s.sd, s.ci_lo, s.ci_hi, s.t, s.df, s.p};
            for (size_t q = 0; q < LEN(key); q++) ref_expect(&r, nm, key[q], c[q], 0);
        }
    ref_end(&r, "paired_t");
}

static const double k_margin[] = {0.0005, 0.002, 0.005};

Test(stats, ref_tost) {
    ref_run r;
    ref_begin(&r);
    char nm[32];
    double a[100], b[100];
    for (size_t i = 1; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_margin); j++) {
            seed_case((int)(200 + i * 10 + j), k_n[i], k_shift[j % 2], a, b);
            fprintf(r.f, "tost %s %.17g %d", case_name(nm, "e", i, j), k_margin[j], k_n[i]);
            put_doubles(r.f, a, k_n[i]);
            put_doubles(r.f, b, k_n[i]);
            fputc('\n', r.f);
        }
    ref_run_script(&r);
    for (size_t i = 1; i < LEN(k_n); i++)
        for (size_t j = 0; j < LEN(k_margin); j++) {
            seed_case((int)(200 + i * 10 + j), k_n[i], k_shift[j % 2], a, b);
            st_tost e = st_tost_paired(a, b, k_n[i], k_margin[j]);
            case_name(nm, "e", i, j);
            ref_expect(&r, nm, "p_lower", e.p_lower, REF_TINY);
            ref_expect(&r, nm, "p_upper", e.p_upper, REF_TINY);
            ref_expect(&r, nm, "p", e.p, REF_TINY);
        }
    ref_end(&r, "tost");
}

/* st_mdd over sd, n, alpha and power; st_seeds_needed against the script's scan. */
Test(stats, ref_mdd_seeds) {
    static const double sd[] = {0.001, 0.004}, power[] = {0.5, 0.8, 0.9}, delta[] = {0.0003, 0.001, 0.002, 0.005};
    static const int n[] = {2, 3, 5, 10, 50, 1000};
    ref_run r;
    ref_begin(&r);
    char nm[32];
    for (size_t i = 0; i < LEN(n); i++)
        for (size_t j = 0; j < LEN(sd) * LEN(k_alpha) * LEN(power); j++)
            fprintf(r.f, "mdd %s %.17g %d %.17g %.17g\n", case_name(nm, "d", i, j), sd[j % 2], n[i],
                    k_alpha[j / 2 % 3], power[j / 6]);
    for (size_t i = 0; i < LEN(delta); i++)
        for (size_t j = 0; j < LEN(k_alpha) * 2; j++)
            fprintf(r.f, "seeds %s 0.002 %.17g %.17g %.17g 500\n", case_name(nm, "s", i, j), delta[i],
                    k_alpha[j % 3], power[1 + j / 3]);
    fprintf(r.f, "seeds none 0.002 1e-5 0.05 0.8 60\n");
    ref_run_script(&r);
    for (size_t i = 0; i < LEN(n); i++)
        for (size_t j = 0; j < LEN(sd) * LEN(k_alpha) * LEN(power); j++)
            ref_expect(&r, case_name(nm, "d", i, j), "mdd", st_mdd(sd[j % 2], n[i], k_alpha[j / 2 % 3], power[j / 6]), 0);
    for (size_t i = 0; i < LEN(delta); i++)
        for (size_t j = 0; j < LEN(k_alpha) * 2; j++) {
            int s = st_seeds_needed(0.002, delta[i], k_alpha[j % 3], power[1 + j / 3], 500);
            cr_expect_eq(s, ref_get(&r, case_name(nm, "s", i, j), "n"), "%s: %d seeds", nm, s);
        }
    cr_expect_eq(st_seeds_needed(0.002, 1e-5, 0.05, 0.8, 60), ref_get(&r, "none", "n"));
    ref_end(&r, "mdd_seeds");
}

static void put_delong(FILE *f, const st_fix *x) {
    fprintf(f, "delong %s %lld", x->name, (long long)x->n);
    for (int w = 0; w < 3; w++) {
        const float *v = w == 0 ? x->a : w == 1 ? x->b : x->y;
        for (int64_t i = 0; i < x->n; i++) fprintf(f, " %.9g", v[i]);
    }
    fputc('\n', f);
}

static void expect_delong(ref_run *r, const char *name, const st_delong *d) {
    const char *key[] = {"auc_a", "auc_b", "var_a", "var_b", "cov", "var_diff", "z", "p"};
    double c[] = {d->auc_a, d->auc_b, d->var_a, d->var_b, d->cov, d->var_diff, d->z, d->p};
    for (size_t q = 0; q < LEN(key); q++) ref_expect(r, name, key[q], c[q], 0);
}

/* Every fixture (ties, unequal classes, n 10 to 20000, correlated pairs) and
 * three of them combined. */
Test(stats, ref_delong) {
    ref_run r;
    ref_begin(&r);
    st_fix f[ST_N_FIX];
    st_delong d[ST_N_FIX];
    for (int i = 0; i < ST_N_FIX; i++) {
        f[i] = st_fix_make(i, 300 + (uint64_t)i);
        cr_assert_eq(st_delong_test(f[i].a, f[i].b, f[i].y, f[i].n, &d[i]), HX_OK);
        put_delong(r.f, &f[i]);
    }
    fprintf(r.f, "combine comb 3 %s %s %s\n", f[2].name, f[3].name, f[4].name);
    ref_run_script(&r);
    for (int i = 0; i < ST_N_FIX; i++) expect_delong(&r, f[i].name, &d[i]);
    st_delong c = st_delong_combine(&d[2], 3);
    expect_delong(&r, "comb", &c);
    for (int i = 0; i < ST_N_FIX; i++) st_fix_free(&f[i]);
    ref_end(&r, "delong");
}
