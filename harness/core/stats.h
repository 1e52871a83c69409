/* stats.h: the statistics behind a verdict: Student t and normal distributions,
 * the mean and its confidence interval over seeds, paired t-tests, DeLong's test
 * for two AUCs on the same test rows (the O(n log n) algorithm of Sun & Xu,
 * IEEE SPL 2014), equivalence by two one-sided tests (TOST), and the minimum
 * detectable difference with the number of seeds that would resolve a margin.
 *
 * Every function is pure: no globals, no I/O. tests/test_stats_ref.c checks
 * each one against tests/reference/stats_ref.py (numpy/scipy) to 1e-6 relative;
 * tests/test_stats.c by known values and identities.
 *
 * Conventions: alpha is the two-sided level (0.05 gives 95% intervals); a value
 * that cannot be computed (too few samples, zero variance where it matters) is
 * NAN, never a guess. Differences are always a - b.
 */
#ifndef EMBSWEEP_STATS_H
#define EMBSWEEP_STATS_H

#include <stdint.h>

#include "util.h"

/* ---- distributions ---- */
double st_norm_cdf(double z);             /* P(Z <= z), Z ~ N(0, 1) */
double st_norm_quantile(double p);        /* inverse of st_norm_cdf, p in (0, 1) */
double st_t_cdf(double t, double df);     /* P(T <= t), T ~ Student t with df > 0 */
double st_t_quantile(double p, double df);/* inverse of st_t_cdf, p in (0, 1) */

/* ---- the mean over seeds ---- */
typedef struct st_summary {
    int    n;
    double mean, sd;    /* sd: sample standard deviation (n - 1); NAN when n < 2 */
    double ci_lo, ci_hi;/* mean -/+ t_{1-alpha/2, n-1} sd / sqrt(n); NAN when n < 2 */
} st_summary;
st_summary st_mean_ci(const double *x, int n, double alpha);

/* ---- paired differences a[i] - b[i] (one pair per seed) ---- */
typedef struct st_paired {
    int    n;
    double mean, sd;     /* of the differences */
    double ci_lo, ci_hi; /* (1 - alpha) t interval of the mean difference */
    double t, df, p;     /* two-sided paired t-test of mean 0; NAN when n < 2 or sd == 0 */
} st_paired;
st_paired st_paired_t(const double *a, const double *b, int n, double alpha);

/* ---- DeLong's test on one test set ---- */
typedef struct st_delong {
    double auc_a, auc_b;
    double var_a, var_b, cov; /* DeLong's covariance matrix of (auc_a, auc_b) */
    double var_diff;          /* var_a + var_b - 2 cov */
    double z, p;              /* (auc_a - auc_b) / sqrt(var_diff), two-sided; NAN if var_diff <= 0 */
} st_delong;
/* score_a, score_b, label: (n) each, labels 0/1, the same rows in the same order.
 * Ties count one half (midranks). HX_ERR_PARAM when a class is absent or a
 * score is NaN, HX_ERR_NOMEM when scratch cannot be had (nothing is left
 * allocated). With a single row in a class the AUCs are computed and the
 * variances, covariance, z and p are NAN. */
hx_status st_delong_test(const float *score_a, const float *score_b, const float *label, int64_t n,
                         st_delong *out);
/* Seeds combined (fixed effect): the mean difference over k tests, its variance
 * sum(var_diff) / k^2, z and two-sided p. Fills auc_a/auc_b with the means and
 * var_a, var_b, cov with the variances of those means (sums / k^2). */
st_delong st_delong_combine(const st_delong *d, int k);

/* ---- equivalence: two one-sided paired t-tests against +-margin ---- */
typedef struct st_tost {
    double p_lower; /* H0: mean diff <= -margin */
    double p_upper; /* H0: mean diff >= +margin */
    double p;       /* max of the two: equivalent at level alpha when p < alpha */
} st_tost;
st_tost st_tost_paired(const double *a, const double *b, int n, double margin);

/* ---- power ---- */
/* The smallest true mean difference a two-sided paired t-test at level alpha
 * detects with the given power, at n pairs with standard deviation sd:
 * (t_{1-alpha/2, n-1} + t_{power, n-1}) sd / sqrt(n). NAN when n < 2. */
double st_mdd(double sd, int n, double alpha, double power);
/* The smallest n in [2, max_n] with st_mdd(sd, n, alpha, power) <= delta, or
 * max_n + 1 when none is. */
int st_seeds_needed(double sd, double delta, double alpha, double power, int max_n);

#endif
