/* test_stats.c: harness/core/stats.c by known values and identities, without
 * Python (the numpy/scipy comparison is test_stats_ref.c).
 *   distributions   published quantiles; cdf(quantile(p)) = p over df 1..1e6 and
 *                   p 1e-12..1-1e-12; the closed forms at df = 1 and 2
 *   means, t-tests  hand-computed values at n = 2; NAN where undefined
 *   power           st_seeds_needed equals a scan of st_mdd and moves the
 *                   right way with sd, delta, alpha and power
 *   DeLong          AUC equals metrics_auc to the bit; variances equal DeLong's
 *                   m x n definition computed here by brute force; a missing
 *                   class, a NaN score, no memory (no leak under ASan);
 *                   identical scores; combining
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "harness/core/metrics.h"
#include "harness/core/stats.h"
#include "stats_fixture.h"

#include "leak_check.h"

/* |a - b| <= tol |b| */
#define EXPECT_REL(a, b, tol, ...) cr_expect(fabs((a) - (b)) <= (tol) * fabs((double)(b)), __VA_ARGS__)

/* The t quantiles to 30 digits from mpmath (betainc and quad of the density
 * agree): t(0.975, 10) = 2.22813885198627471565. scipy 1.10's t.ppf gives
 * 2.2281388519649385 and 12.706204736432095 for df = 1: its root search stops
 * near 1e-11 relative, which is why test_stats_ref.c also sends the C
 * quantiles back through scipy's cdf. */
#define T_975_1 12.706204736174698
#define T_975_10 2.2281388519862747

Test(stats, known_quantiles) {
    EXPECT_REL(st_t_quantile(0.975, 1), T_975_1, 1e-14, "t(0.975, 1)");
    EXPECT_REL(st_t_quantile(0.975, 10), T_975_10, 1e-14, "t(0.975, 10)");
    EXPECT_REL(st_norm_quantile(0.975), 1.959963984540054, 1e-14, "z(0.975)");
    EXPECT_REL(st_t_quantile(0.025, 10), -T_975_10, 1e-14, "symmetry");
    EXPECT_REL(st_norm_cdf(1.959963984540054), 0.975, 1e-15, "Phi(z(0.975))");
    cr_expect_eq(st_t_cdf(0, 7), 0.5);
    cr_expect_eq(st_t_quantile(0.5, 7), 0);
    cr_expect(isnan(st_t_quantile(0, 3)) && isnan(st_t_quantile(1, 3)) && isnan(st_t_quantile(0.3, 0)));
    cr_expect(isnan(st_norm_quantile(1)) && isnan(st_t_cdf(NAN, 3)) && isnan(st_t_cdf(1, -1)));
}

/* Closed forms, written without cancellation in the lower tail: Cauchy
 * F(t) = atan(-1/t) / pi for t < 0; df = 2: F(t) = 1 / (r (r - t)) for t < 0
 * with r = sqrt(2 + t^2); the normal at infinite df; F(-t) = 1 - F(t). */
Test(stats, t_cdf_closed_forms) {
    const double pi = 3.14159265358979323846;
    for (double t = -1e6; t < -1e-6; t /= 1.7) {
        double r = sqrt(2 + t * t);
        EXPECT_REL(st_t_cdf(t, 1), atan(-1 / t) / pi, 1e-13, "df 1, t %g", t);
        EXPECT_REL(st_t_cdf(t, 2), 1 / (r * (r - t)), 1e-13, "df 2, t %g", t);
        EXPECT_REL(st_t_cdf(-t, 2), 0.5 - t / (2 * r), 1e-15, "df 2, t %g", -t);
        EXPECT_REL(st_t_cdf(t, INFINITY), st_norm_cdf(t), 1e-15, "df inf, t %g", t);
        cr_expect(fabs(st_t_cdf(-t, 5) + st_t_cdf(t, 5) - 1) <= 1e-15, "symmetry, t %g", t);
    }
}

/* The quantile inverts the cdf in relative terms of the tail probability:
 * |P(T < q) - p| <= 1e-12 p below 1/2, the same for P(T > q) and 1 - p above. */
Test(stats, quantile_round_trip) {
    const double df[] = {1, 1.5, 2, 3, 4.5, 7, 10, 30, 100, 1e3, 1e4, 1e5, 1e6};
    const double lp[] = {1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.49};
    for (size_t i = 0; i < sizeof df / sizeof *df; i++)
        for (size_t j = 0; j < sizeof lp / sizeof *lp; j++) {
            double p = lp[j], q = st_t_quantile(p, df[i]), qu = st_t_quantile(1 - p, df[i]);
            EXPECT_REL(st_t_cdf(q, df[i]), p, 1e-12, "df %g p %g: q %.17g", df[i], p, q);
            EXPECT_REL(st_t_cdf(-qu, df[i]), (1 - (1 - p)), 1e-12, "df %g p 1-%g", df[i], p);
            cr_expect(q < 0 && qu > 0, "df %g p %g", df[i], p);
            double z = st_norm_quantile(p);
            EXPECT_REL(st_norm_cdf(z), p, 1e-14, "normal p %g: z %.17g", p, z);
        }
}

Test(stats, mean_ci_by_hand) {
    const double x[2] = {1, 3};
    st_summary s = st_mean_ci(x, 2, 0.05); /* mean 2, sd sqrt 2, 2 -+ t(0.975, 1) */
    EXPECT_REL(s.mean, 2, 1e-15, "mean");
    EXPECT_REL(s.sd, sqrt(2), 1e-15, "sd");
    EXPECT_REL(s.ci_lo, 2 - T_975_1, 1e-13, "ci_lo %.17g", s.ci_lo);
    EXPECT_REL(s.ci_hi, 2 + T_975_1, 1e-13, "ci_hi %.17g", s.ci_hi);
    s = st_mean_ci(x, 1, 0.05);
    cr_expect(s.n == 1 && s.mean == 1 && isnan(s.sd) && isnan(s.ci_lo) && isnan(s.ci_hi));
    s = st_mean_ci(NULL, 0, 0.05);
    cr_expect(s.n == 0 && isnan(s.mean) && isnan(s.sd));
}

Test(stats, paired_and_tost_by_hand) {
    const double a[3] = {0.81, 0.80, 0.82}, b[3] = {0.80, 0.80, 0.80};
    st_paired p = st_paired_t(a, b, 3, 0.05); /* d = 0.01, 0, 0.02: mean 0.01, sd 0.01 */
    EXPECT_REL(p.mean, 0.01, 1e-12, "mean");
    EXPECT_REL(p.sd, 0.01, 1e-12, "sd");
    EXPECT_REL(p.t, sqrt(3), 1e-12, "t = 0.01 / (0.01 / sqrt 3)");
    cr_expect_eq(p.df, 2);
    EXPECT_REL(p.p, 2 * st_t_cdf(-sqrt(3), 2), 1e-12, "p");
    /* df 2: P(T > t) = 1/2 - t / (2 sqrt(2 + t^2)); with margin 0.01 the lower
     * statistic is (0.01 + 0.01) / (0.01 / sqrt 3) = 2 sqrt 3, the upper 0. */
    st_tost e = st_tost_paired(a, b, 3, 0.01);
    EXPECT_REL(e.p_lower, 0.5 - sqrt(12) / (2 * sqrt(14)), 1e-12, "p_lower %.17g", e.p_lower);
    EXPECT_REL(e.p_upper, 0.5, 1e-12, "p_upper %.17g", e.p_upper);
    cr_expect_eq(e.p, e.p_upper);
    /* zero spread: the test is undefined, the interval is the mean */
    p = st_paired_t(b, b, 3, 0.05);
    cr_expect(p.mean == 0 && p.sd == 0 && p.ci_lo == 0 && p.ci_hi == 0);
    cr_expect(isnan(p.t) && isnan(p.df) && isnan(p.p));
    e = st_tost_paired(b, b, 3, 0.01);
    cr_expect(isnan(e.p_lower) && isnan(e.p_upper) && isnan(e.p));
    cr_expect(isnan(st_paired_t(a, b, 1, 0.05).t) && isnan(st_tost_paired(a, b, 1, 0.01).p));
}

Test(stats, mdd_by_hand) {
    /* power 1/2 adds t(0.5) = 0: mdd = t(0.975, 1) sd / sqrt 2 */
    EXPECT_REL(st_mdd(1, 2, 0.05, 0.5), T_975_1 / sqrt(2), 1e-13, "mdd");
    EXPECT_REL(st_mdd(2, 11, 0.05, 0.5), 2 * T_975_10 / sqrt(11), 1e-13, "mdd");
    cr_expect(isnan(st_mdd(1, 1, 0.05, 0.8)));
}

static int seeds_scan(double sd, double delta, double alpha, double power, int max_n) {
    for (int n = 2; n <= max_n; n++)
        if (st_mdd(sd, n, alpha, power) <= delta) return n;
    return max_n + 1;
}

Test(stats, seeds_needed_monotone) {
    const double sd[] = {0.0005, 0.001, 0.002, 0.004, 0.01};
    const double power[] = {0.5, 0.8, 0.9, 0.95};
    for (size_t i = 0; i < sizeof sd / sizeof *sd; i++)
        for (size_t j = 0; j < sizeof power / sizeof *power; j++) {
            int prev = 0;
            for (double delta = 0.02; delta > 2e-4; delta *= 0.8) {
                int n = st_seeds_needed(sd[i], delta, 0.05, power[j], 300);
                cr_expect_eq(n, seeds_scan(sd[i], delta, 0.05, power[j], 300), "sd %g delta %g", sd[i], delta);
                cr_expect_geq(n, prev, "a smaller delta never needs fewer seeds");
                prev = n;
            }
            int n = st_seeds_needed(sd[i], 0.002, 0.05, power[j], 300);
            if (i > 0) cr_expect_geq(n, st_seeds_needed(sd[i - 1], 0.002, 0.05, power[j], 300), "sd up");
            if (j > 0) cr_expect_geq(n, st_seeds_needed(sd[i], 0.002, 0.05, power[j - 1], 300), "power up");
            cr_expect_geq(st_seeds_needed(sd[i], 0.002, 0.01, power[j], 300), n, "alpha down");
        }
    cr_expect_eq(st_seeds_needed(1, 1e-6, 0.05, 0.8, 50), 51, "none in range: max_n + 1");
    cr_expect_eq(st_seeds_needed(0, 0, 0.05, 0.8, 50), 2, "no spread: the smallest n");
    cr_expect_eq(st_seeds_needed(1, 1, 0.05, 0.8, 1), 2, "empty range");
}

/* DeLong's definition (1988), O(m n): psi and the components by brute force,
 * the covariance S = S10/m + S01/n with the AUC as the centre. out: var_a,
 * var_b, cov of the pair, and var_diff. */
static void delong_brute(const st_fix *f, double auc[2], double out[4]) {
    double *v[2][2], s[2][3] = {{0}}, k[2] = {0}; /* v[class][vector] */
    for (int c = 0; c < 2; c++)
        for (int w = 0; w < 2; w++) v[c][w] = calloc((size_t)f->n, sizeof(double));
    for (int64_t i = 0; i < f->n; i++) k[f->y[i] > 0.5f] += 1;
    for (int w = 0; w < 2; w++) {
        const float *x = w ? f->b : f->a;
        double total = 0;
        for (int64_t i = 0; i < f->n; i++)
            for (int64_t j = 0; j < f->n; j++) {
                if (!(f->y[i] > 0.5f) || f->y[j] > 0.5f) continue;
                double psi = x[i] > x[j] ? 1 : x[i] == x[j] ? 0.5 : 0;
                v[1][w][i] += psi / k[0], v[0][w][j] += psi / k[1], total += psi;
            }
        auc[w] = total / (k[0] * k[1]);
    }
    for (int64_t i = 0; i < f->n; i++) {
        int c = f->y[i] > 0.5f;
        double da = v[c][0][i] - auc[0], db = v[c][1][i] - auc[1];
        s[c][0] += da * da, s[c][1] += db * db, s[c][2] += da * db;
    }
    for (int q = 0; q < 3; q++) out[q] = s[1][q] / (k[1] * (k[1] - 1)) + s[0][q] / (k[0] * (k[0] - 1));
    out[3] = out[0] + out[1] - 2 * out[2];
    for (int c = 0; c < 2; c++)
        for (int w = 0; w < 2; w++) free(v[c][w]);
}

Test(stats, delong_matches_definition) {
    for (int i = 0; i < 3; i++) {
        st_fix f = st_fix_make(i, 100 + i);
        st_delong d;
        cr_assert_eq(st_delong_test(f.a, f.b, f.y, f.n, &d), HX_OK);
        double auc[2], ref[4];
        delong_brute(&f, auc, ref);
        double got[4] = {d.var_a, d.var_b, d.cov, d.var_diff};
        EXPECT_REL(d.auc_a, auc[0], 1e-14, "%s auc_a", f.name);
        EXPECT_REL(d.auc_b, auc[1], 1e-14, "%s auc_b", f.name);
        for (int q = 0; q < 4; q++) EXPECT_REL(got[q], ref[q], 1e-10, "%s var/cov %d: %g vs %g", f.name, q, got[q], ref[q]);
        EXPECT_REL(d.z, (auc[0] - auc[1]) / sqrt(ref[3]), 1e-9, "%s z", f.name);
        st_fix_free(&f);
    }
}

Test(stats, delong_auc_equals_metrics_auc) {
    for (int i = 0; i < ST_N_FIX; i++) {
        st_fix f = st_fix_make(i, 200 + i);
        st_delong d;
        cr_assert_eq(st_delong_test(f.a, f.b, f.y, f.n, &d), HX_OK);
        cr_expect_eq(d.auc_a, metrics_auc(f.a, f.y, f.n), "%s a", f.name);
        cr_expect_eq(d.auc_b, metrics_auc(f.b, f.y, f.n), "%s b", f.name);
        st_fix_free(&f);
    }
}

Test(stats, delong_bad_input) {
    const float s[4] = {0.1f, 0.4f, 0.35f, 0.8f}, zeros[4] = {0}, ones[4] = {1, 1, 1, 1};
    st_delong d;
    cr_expect_eq(st_delong_test(s, s, zeros, 4, &d), HX_ERR_PARAM, "no positives");
    cr_expect(isnan(d.auc_a) && isnan(d.z));
    cr_expect_eq(st_delong_test(s, s, ones, 4, &d), HX_ERR_PARAM, "no negatives");
    cr_expect_eq(st_delong_test(NULL, NULL, NULL, 0, &d), HX_ERR_PARAM, "no rows");
    const float y[4] = {0, 0, 1, 1}, bad[4] = {0.1f, NAN, 0.3f, 0.9f};
    cr_expect_eq(st_delong_test(s, bad, y, 4, &d), HX_ERR_PARAM, "a NaN score");
    /* one positive: the AUC is defined, its variance (m - 1 = 0) is not */
    const float y1[4] = {0, 0, 0, 1};
    cr_expect_eq(st_delong_test(s, s, y1, 4, &d), HX_OK);
    cr_expect(d.auc_a == 1 && isnan(d.var_a) && isnan(d.z) && isnan(d.p));
}

/* Each allocation fails in turn: HX_ERR_NOMEM, NAN results, nothing leaked. */
Test(stats, delong_out_of_memory) {
    st_fix f = st_fix_make(1, 7);
    long nth = 1;
    for (;; nth++) {
        st_delong d;
        hx_fault_alloc(nth);
        hx_status rc = st_delong_test(f.a, f.b, f.y, f.n, &d);
        long seen = hx_fault_alloc_seen();
        hx_fault_alloc(0);
        if (seen < nth) { /* no failure reached: the test ran whole */
            cr_expect_eq(rc, HX_OK);
            break;
        }
        cr_expect_eq(rc, HX_ERR_NOMEM, "allocation %ld failed", nth);
        cr_expect(isnan(d.auc_a) && isnan(d.var_diff), "allocation %ld: NAN results", nth);
    }
    cr_expect_eq(nth, 3, "both scratch allocations were failed in turn");
    st_fix_free(&f);
    expect_no_leaks("DeLong out of memory");
}

Test(stats, delong_identical_scores) {
    st_fix f = st_fix_make(2, 9);
    st_delong d;
    cr_assert_eq(st_delong_test(f.a, f.a, f.y, f.n, &d), HX_OK);
    cr_expect(d.auc_a == d.auc_b && d.var_a == d.var_b && d.var_a == d.cov);
    cr_expect(d.var_diff == 0 && isnan(d.z) && isnan(d.p), "var_diff %g", d.var_diff);
    st_fix_free(&f);
}

Test(stats, delong_combine) {
    st_fix f = st_fix_make(2, 11);
    st_delong d[3];
    cr_assert_eq(st_delong_test(f.a, f.b, f.y, f.n, &d[0]), HX_OK);
    d[1] = d[2] = d[0];
    st_delong one = st_delong_combine(d, 1), three = st_delong_combine(d, 3);
    EXPECT_REL(one.z, d[0].z, 1e-15, "k = 1 is the test itself");
    EXPECT_REL(one.p, d[0].p, 1e-15, "k = 1: p");
    EXPECT_REL(three.var_diff, d[0].var_diff / 3, 1e-15, "three copies: variance / 3");
    EXPECT_REL(three.z, d[0].z * sqrt(3), 1e-14, "three copies: z * sqrt 3");
    EXPECT_REL(three.auc_a, d[0].auc_a, 1e-15, "mean AUC");
    EXPECT_REL(three.cov, d[0].cov / 3, 1e-15, "cov / 3");
    cr_expect(isnan(st_delong_combine(NULL, 0).z));
    st_fix_free(&f);
}
