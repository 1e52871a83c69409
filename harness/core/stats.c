/* stats.c: see stats.h.
 *
 * Distributions. The normal cdf is erfc. Its quantile is Acklam's rational
 * approximation (relative error below 1.15e-9) polished by one Halley step on
 * erfc to full double precision. The Student t cdf is the regularized
 * incomplete beta function, P(T < -|t|) = I_x(df/2, 1/2) / 2 with
 * x = df / (df + t^2), evaluated by its continued fraction (DLMF 8.17.22) with
 * the modified Lentz method. The t quantile is Newton's method on ln of that
 * cdf from a Cornish-Fisher or tail-asymptotic start, kept inside a bracket of
 * the root (df = 1 and 2 have closed forms).
 *
 * DeLong's test: E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, "Comparing
 * the areas under two or more correlated receiver operating characteristic
 * curves: a nonparametric approach", Biometrics 44(3):837-845, 1988. Computed by
 * the algorithm of X. Sun, W. Xu, "Fast implementation of DeLong's algorithm for
 * comparing the areas under correlated receiver operating characteristic
 * curves", IEEE Signal Processing Letters 21(11):1389-1393, 2014: midranks from
 * one sort per score vector instead of the m x n Mann-Whitney kernel.
 */
#include "stats.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#define ST_PI 3.14159265358979323846
#define ST_SQRT2 1.41421356237309504880
#define ST_LN_SQRT_2PI 0.91893853320467274178 /* ln sqrt(2 pi) */

/* ---- special functions ---- */

/* lgamma(x) - [(x - 1/2) ln x - x + ln sqrt(2 pi)] for x >= 10: Stirling's
 * series sum B_2k / (2k (2k - 1) x^(2k-1)) to k = 7; the first term left out is
 * below 3e-17 at x = 10. */
static double stirling_rest(double x) {
    double r = 1 / x, r2 = r * r;
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 -
           r2 * (1.0 / 1188 - r2 * (691.0 / 360360 - r2 / 156))))));
}

/* ln Gamma(x) for x > 0: x shifted up to >= 10 by Gamma(x + 1) = x Gamma(x),
 * then Stirling. (C's lgamma writes the global signgam; this writes nothing.) */
static double lgamma_pos(double x) {
    double shift = 1;
    for (; x < 10; x += 1) shift *= x;
    return (x - 0.5) * log(x) - x + ST_LN_SQRT_2PI + stirling_rest(x) - log(shift);
}

/* ln B(a, b), a, b > 0. lgamma(a) + lgamma(b) - lgamma(a + b) would lose the
 * digits of its large terms when one argument is large (df/2 = 5e5: terms of
 * 6e6, ~1e-9 absolute error). With big >= 10 the difference
 * lgamma(big) - lgamma(big + small) is taken inside Stirling's formula:
 *   -(big - 1/2) log1p(small/big) - small ln(big + small) + small
 *   + rest(big) - rest(big + small),
 * every term of order small * ln(big). */
static double lbeta(double a, double b) {
    double big = a > b ? a : b, small = a > b ? b : a;
    if (big < 10) return lgamma_pos(a) + lgamma_pos(b) - lgamma_pos(a + b);
    return lgamma_pos(small) - (big - 0.5) * log1p(small / big) - small * log(big + small) + small +
           stirling_rest(big) - stirling_rest(big + small);
}

/* ln x given x and y = 1 - x, each accurate: log1p keeps the digits near 1. */
static double log_of(double x, double y) { return x > 0.5 ? log1p(-y) : log(x); }

/* 1 + d_k for the odd terms of the continued fraction below, k = 2m + 1:
 *   1 + d_k = 1 - P x / R = (Q + P y) / R,
 *   P = (a + m)(a + b + m), R = (a + 2m)(a + 2m + 1), Q = R - P = a(2m + 1 - b) + m(3m + 2 - b).
 * With x near 1 and a large, P x / R is near 1 and the first form keeps only
 * the digits of the difference (~a * 1e-16 relative, 3e-11 at df = 1e6); when
 * Q >= 0 (always for b <= 1) the second form adds two non-negative terms. */
static double one_plus_odd(double a, double b, double x, double y, int m) {
    double P = (a + m) * (a + b + m), R = (a + 2.0 * m) * (a + 2.0 * m + 1);
    double Q = a * (2.0 * m + 1 - b) + m * (3.0 * m + 2 - b);
    return Q >= 0 ? (Q + P * y) / R : 1 - P * x / R;
}

/* I_x(a, b) by its continued fraction (DLMF 8.17.22):
 *   I_x(a, b) = x^a y^b / (a B(a, b)) / F,  F = 1 + d1 / (1 + d2 / (1 + d3 / ...))
 *   d_2m   =  m (b - m) x / ((a + 2m - 1)(a + 2m))
 *   d_2m+1 = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
 * taken as its odd part, which pairs each odd term with the even one before it:
 *   F = B_0 + A_1 / (B_1 + A_2 / (B_2 + ...)),
 *   B_0 = 1 + d1,  A_m = -d_2m-1 d_2m,  B_m = 1 + d_2m + d_2m+1,
 * so that 1 + d_2m+1 comes from one_plus_odd, and evaluated forward by the
 * modified Lentz method (Thompson and Barnett 1986). y = 1 - x. It converges
 * quickly for x < (a + 1) / (a + b + 2); NAN if not within 100000 terms. */
static double beta_cf(double a, double b, double x, double y) {
    const double tiny = 1e-300;
    double odd = -(a + b) * x / (a + 1); /* d_1 */
    double f = one_plus_odd(a, b, x, y, 0);
    f = fabs(f) < tiny ? tiny : f;
    double c = f, d = 0; /* Lentz: C_0 = f_0, D_0 = 0 */
    for (int m = 1; m <= 100000; m++) {
        double even = m * (b - m) * x / ((a + 2.0 * m - 1) * (a + 2.0 * m));
        double A = -odd * even, B = one_plus_odd(a, b, x, y, m) + even;
        odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1));
        d = B + A * d;
        c = B + A / c;
        d = fabs(d) < tiny ? 1 / tiny : 1 / d;
        c = fabs(c) < tiny ? tiny : c;
        f *= c * d;
        if (fabs(c * d - 1) <= DBL_EPSILON) {
            double front = a * log_of(x, y) + b * log_of(y, x) - lbeta(a, b);
            return exp(front) / (a * f);
        }
    }
    return NAN;
}

/* I_x(a, b), with the continued fraction on whichever side converges:
 * I_x(a, b) = 1 - I_y(b, a). Small results keep their relative precision
 * when x is below the switch point. */
static double inc_beta(double a, double b, double x, double y) {
    if (x <= 0) return 0;
    if (y <= 0) return 1;
    if (x < (a + 1) / (a + b + 2)) return beta_cf(a, b, x, y);
    return 1 - beta_cf(b, a, y, x);
}

/* ---- distributions ---- */

double st_norm_cdf(double z) { return 0.5 * erfc(-z / ST_SQRT2); }

/* Acklam's approximation for p <= 1/2: a rational function of p - 1/2 in the
 * center, of sqrt(-2 ln p) below p = 0.02425. */
static double acklam_lower(double p) {
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double st_norm_quantile(double p) {
    if (!(p > 0 && p < 1)) return NAN;
    if (p > 0.5) return -st_norm_quantile(1 - p); /* 1 - p is exact for p >= 1/2 */
    double x = acklam_lower(p);
    /* Halley on f = Phi(x) - p (f' = phi, f'' = -x phi): with u = f / phi,
     * x -= u / (1 + x u / 2). One step takes 1e-9 to rounding (cubic). */
    double u = (st_norm_cdf(x) - p) * sqrt(2 * ST_PI) * exp(0.5 * x * x);
    return isfinite(u) ? x - u / (1 + 0.5 * x * u) : x; /* exp overflows below p ~ 1e-309 */
}

/* ln(1 + t^2 / df), without overflowing t^2 when |t| is huge. */
static double log1p_t2(double t, double df) {
    if (fabs(t) < 1e100) return log1p(t * t / df);
    return 2 * log(fabs(t)) - log(df) + log1p(df / t / t);
}

/* Beyond |t| = 1e100 (and df < 1e10) the tail is its power law,
 * df^(df/2 - 1) |t|^-df / B(df/2, 1/2), to a relative (df/t)^2 < 1e-180. */
double st_t_cdf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(df)) return st_norm_cdf(t);
    double tail; /* P(T < -|t|) */
    if (fabs(t) > 1e100 && df < 1e10) {
        tail = exp((0.5 * df - 1) * log(df) - df * log(fabs(t)) - lbeta(0.5 * df, 0.5));
    } else {
        double q = t * t;
        tail = isinf(q) ? 0 : 0.5 * inc_beta(0.5 * df, 0.5, df / (df + q), q / (df + q));
    }
    return t < 0 ? tail : 1 - tail;
}

/* ln of the t density, 1 / (sqrt(df) B(df/2, 1/2)) (1 + t^2/df)^(-(df+1)/2). */
static double t_log_pdf(double t, double df) {
    return -lbeta(0.5 * df, 0.5) - 0.5 * (df + 1) * log1p_t2(t, df) - 0.5 * log(df);
}

/* Deep in the lower tail the t density is ~ K (t^2/df)^(-(df+1)/2), which
 * never falls below the true one; its cdf df^(df/2 - 1) |t|^-df / B(df/2, 1/2)
 * inverts in closed form, so this t is at or left of the true quantile (a
 * bracket end), and close to it where t^2 >> df. -inf if |t| overflows. */
static double t_quantile_tail(double p, double df) {
    return -sqrt(df) * exp(-(log(df * p) + lbeta(0.5 * df, 0.5)) / df);
}

/* The Cornish-Fisher expansion of the t quantile in 1/df around the normal
 * quantile z (Abramowitz and Stegun 26.7.5); good where t^2 is small next to df. */
static double t_quantile_cf(double p, double df) {
    double z = st_norm_quantile(p), z2 = z * z;
    double g1 = (z2 + 1) * z / 4;
    double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
    double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
    double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

double st_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return NAN;
    if (p > 0.5) return -st_t_quantile(1 - p, df); /* 1 - p is exact for p >= 1/2 */
    if (p == 0.5) return 0;
    if (isinf(df)) return st_norm_quantile(p);
    if (df == 1) return -1 / tan(ST_PI * p);                   /* Cauchy */
    if (df == 2) return (2 * p - 1) / sqrt(2 * p * (1 - p)); /* t = (2p-1) / sqrt(2p(1-p)) */
    /* Newton on ln F(t) - ln p, which is nearly linear in the power-law tail
     * (F ~ |t|^-df) where Newton on F itself crawls, safeguarded by the bracket
     * lo <= root < hi: a step that leaves it bisects instead (geometrically
     * while the ends differ by more than 2x, so a wide bracket shrinks fast). */
    double lo = t_quantile_tail(p, df), hi = 0;
    lo = isfinite(lo) ? lo : -DBL_MAX;
    double t = lo * lo >= 10 * df ? lo : t_quantile_cf(p, df);
    if (!(t >= lo && t < hi)) t = lo > -1 ? 0.5 * lo : -sqrt(-lo);
    double last = INFINITY; /* the previous Newton step */
    for (int it = 0; it < 200; it++) {
        double F = st_t_cdf(t, df);
        if (F == p) return t;
        if (F < p) lo = t;
        else hi = t;
        double lnF = log(F), next = t - (lnF - log(p)) * exp(lnF - t_log_pdf(t, df));
        double step = fabs(next - t);
        if (next >= lo && next <= hi) {
            /* Converged; or the steps stopped shrinking at the rounding of F
             * (~1e-13 relative where p is near 1e-170). */
            if (step <= 1e-14 * fabs(next) || (step <= 1e-11 * fabs(next) && step >= 0.5 * last)) return next;
            last = step;
        } else {
            double h = hi < -1 ? hi : -1; /* a geometric mean needs hi < 0 */
            next = lo < 2 * h ? -sqrt(lo * h) : 0.5 * (lo + hi);
        }
        if (hi - lo <= 1e-14 * -lo) return next;
        t = next;
    }
    return NAN;
}

/* ---- means over seeds ---- */

/* Mean and sample standard deviation (n - 1) of x[i] - y[i], or of x[i] when
 * y is NULL; two passes. sd is NAN when n < 2, mean when n < 1. */
static void moments(const double *x, const double *y, int n, double *mean, double *sd) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += y ? x[i] - y[i] : x[i];
    *mean = n > 0 ? s / n : NAN;
    for (int i = 0; i < n; i++) {
        double e = (y ? x[i] - y[i] : x[i]) - *mean;
        ss += e * e;
    }
    *sd = n > 1 ? sqrt(ss / (n - 1)) : NAN;
}

/* t_{1-alpha/2, n-1} sd / sqrt(n): half the width of the (1 - alpha) interval. */
static double half_width(double sd, int n, double alpha) {
    if (n < 2) return NAN;
    return -st_t_quantile(0.5 * alpha, n - 1) * sd / sqrt(n);
}

st_summary st_mean_ci(const double *x, int n, double alpha) {
    HX_ASSERT(n >= 0 && (x || n == 0));
    st_summary s = {.n = n};
    moments(x, NULL, n, &s.mean, &s.sd);
    double h = half_width(s.sd, n, alpha);
    s.ci_lo = s.mean - h;
    s.ci_hi = s.mean + h;
    return s;
}

st_paired st_paired_t(const double *a, const double *b, int n, double alpha) {
    HX_ASSERT(n >= 0 && ((a && b) || n == 0));
    st_paired r = {.n = n, .t = NAN, .df = NAN, .p = NAN};
    moments(a, b, n, &r.mean, &r.sd);
    double h = half_width(r.sd, n, alpha);
    r.ci_lo = r.mean - h;
    r.ci_hi = r.mean + h;
    if (n >= 2 && r.sd > 0) {
        r.df = n - 1;
        r.t = r.mean / (r.sd / sqrt(n));
        r.p = 2 * st_t_cdf(-fabs(r.t), r.df);
    }
    return r;
}

/* With se = sd / sqrt(n) and T ~ t_{n-1}:
 *   p_lower = P(T >= (mean + margin) / se)   (H0: true mean <= -margin)
 *   p_upper = P(T <= (mean - margin) / se)   (H0: true mean >= +margin)
 * NAN when n < 2, sd == 0 or margin is negative. */
st_tost st_tost_paired(const double *a, const double *b, int n, double margin) {
    HX_ASSERT(n >= 0 && ((a && b) || n == 0));
    st_tost r = {NAN, NAN, NAN};
    double mean, sd;
    moments(a, b, n, &mean, &sd);
    if (n < 2 || !(sd > 0) || !(margin >= 0)) return r;
    double se = sd / sqrt(n);
    r.p_lower = st_t_cdf(-(mean + margin) / se, n - 1);
    r.p_upper = st_t_cdf((mean - margin) / se, n - 1);
    r.p = r.p_lower > r.p_upper ? r.p_lower : r.p_upper;
    return r;
}

/* ---- power ---- */

double st_mdd(double sd, int n, double alpha, double power) {
    if (n < 2) return NAN;
    return (st_t_quantile(power, n - 1) - st_t_quantile(0.5 * alpha, n - 1)) * sd / sqrt(n);
}

/* For power >= 1/2 and sd >= 0, st_mdd falls as n grows (t_{q, n-1} falls with
 * n for q >= 1/2, and so does 1/sqrt(n)), so "st_mdd <= delta" holds from some n
 * on and bisection finds the first. Otherwise the range is scanned. */
int st_seeds_needed(double sd, double delta, double alpha, double power, int max_n) {
    HX_ASSERT(max_n < INT_MAX);
    if (max_n < 2) return max_n + 1;
    if (!(power >= 0.5 && sd >= 0)) {
        for (int n = 2; n <= max_n; n++)
            if (st_mdd(sd, n, alpha, power) <= delta) return n;
        return max_n + 1;
    }
    if (!(st_mdd(sd, max_n, alpha, power) <= delta)) return max_n + 1;
    int lo = 1, hi = max_n; /* hi passes; lo fails or is below the range */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (st_mdd(sd, mid, alpha, power) <= delta) hi = mid;
        else lo = mid;
    }
    return hi;
}

/* ---- DeLong ---- */

/* With m positive rows X_i and n negative rows Y_j, the Mann-Whitney kernel
 * psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise, and
 *   AUC = 1/(mn) sum_ij psi(X_i, Y_j),
 * DeLong's structural components are V10_i = 1/n sum_j psi(X_i, Y_j) (per
 * positive) and V01_j = 1/m sum_i psi(X_i, Y_j) (per negative). Sun & Xu get
 * them from midranks: with tz the midrank of a row among all m + n scores, tx
 * among the positives and ty among the negatives,
 *   V10_i = (tz_i - tx_i) / n,  V01_j = 1 - (tz_j - ty_j) / m,
 *   AUC = (sum over positives of tz_i - m(m + 1)/2) / (mn).
 * For two score vectors, S10 and S01 are the 2 x 2 sample covariance matrices
 * (denominators m - 1 and n - 1) of the components, and the covariance of the
 * two AUCs is S = S10 / m + S01 / n. */

typedef struct dl_item {
    float   s, y; /* score, label */
    int64_t row;
} dl_item;

static int cmp_item(const void *a, const void *b) {
    float x = ((const dl_item *)a)->s, z = ((const dl_item *)b)->s;
    return (x > z) - (x < z);
}

/* The components of one score vector: v[row] = V10 of a positive row, V01 of a
 * negative one. One sort of item (n, scratch), then one walk over the tie
 * groups, in which every member shares the group's three midranks. Returns the
 * AUC, summed as metrics_auc sums it (so the two agree to the bit). */
static double dl_components(const float *score, const float *label, int64_t n, double m_pos,
                            double n_neg, dl_item *item, double *v) {
    for (int64_t i = 0; i < n; i++) item[i] = (dl_item){score[i], label[i] > 0.5f, i};
    qsort(item, (size_t)n, sizeof *item, cmp_item);
    double rpos = 0, before_pos = 0, before_neg = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        double pos = 0;
        while (j < n && item[j].s == item[i].s) pos += item[j++].y;
        double neg = (double)(j - i) - pos;
        double tz = 0.5 * (double)(i + 1 + j);        /* ranks i+1 .. j among all */
        double tx = before_pos + 0.5 * (pos + 1);     /* among the positives */
        double ty = before_neg + 0.5 * (neg + 1);     /* among the negatives */
        for (int64_t k = i; k < j; k++)
            v[item[k].row] = item[k].y ? (tz - tx) / n_neg : 1 - (tz - ty) / m_pos;
        rpos += pos * 0.5 * (double)(i + 1 + j);
        before_pos += pos;
        before_neg += neg;
        i = j;
    }
    return (rpos - m_pos * (m_pos + 1) / 2) / (m_pos * n_neg);
}

/* Sums over one class (positives or negatives) of the components (va, vb) and
 * of their centred products; dd is for the difference va - vb. */
typedef struct dl_sums {
    double k, mean_a, mean_b, aa, bb, ab, dd;
} dl_sums;

static void dl_class_sums(const double *va, const double *vb, const float *label, int64_t n, dl_sums s[2]) {
    for (int64_t i = 0; i < n; i++) {
        dl_sums *c = &s[label[i] > 0.5f];
        c->k += 1, c->mean_a += va[i], c->mean_b += vb[i];
    }
    for (int c = 0; c < 2; c++) s[c].mean_a /= s[c].k, s[c].mean_b /= s[c].k;
    for (int64_t i = 0; i < n; i++) {
        dl_sums *c = &s[label[i] > 0.5f];
        double da = va[i] - c->mean_a, db = vb[i] - c->mean_b;
        c->aa += da * da, c->bb += db * db, c->ab += da * db, c->dd += (da - db) * (da - db);
    }
}

/* S = S10 / m + S01 / n into out. var_diff comes from the differences of the
 * components rather than var_a + var_b - 2 cov: the same number, without the
 * cancellation when the two scores are nearly the same (identical scores give
 * exactly 0, hence z = NAN, instead of rounding noise). */
static void dl_covariance(const double *va, const double *vb, const float *label, int64_t n, st_delong *out) {
    dl_sums s[2] = {{.k = 0}, {.k = 0}}; /* [0] negatives (S01), [1] positives (S10) */
    dl_class_sums(va, vb, label, n, s);
    double w0 = 1 / (s[0].k * (s[0].k - 1)), w1 = 1 / (s[1].k * (s[1].k - 1));
    out->var_a = s[1].aa * w1 + s[0].aa * w0;
    out->var_b = s[1].bb * w1 + s[0].bb * w0;
    out->cov = s[1].ab * w1 + s[0].ab * w0;
    out->var_diff = s[1].dd * w1 + s[0].dd * w0;
    out->z = out->var_diff > 0 ? (out->auc_a - out->auc_b) / sqrt(out->var_diff) : NAN;
    out->p = 2 * st_norm_cdf(-fabs(out->z));
}

hx_status st_delong_test(const float *score_a, const float *score_b, const float *label, int64_t n,
                         st_delong *out) {
    HX_ASSERT(out && n >= 0 && (n == 0 || (score_a && score_b && label)));
    HX_ASSERT((uint64_t)n <= SIZE_MAX / sizeof(dl_item));
    *out = (st_delong){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    int64_t m_pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(score_a[i]) || isnan(score_b[i]))
            return hx_error(HX_ERR_PARAM, NULL, 0, "DeLong: score of row %lld is NaN", (long long)i);
        m_pos += label[i] > 0.5f;
    }
    if (m_pos == 0 || m_pos == n)
        return hx_error(HX_ERR_PARAM, NULL, 0, "DeLong: %s class is absent", m_pos ? "the negative" : "the positive");
    dl_item *item = hx_malloc((size_t)n * sizeof *item);
    double *v = hx_malloc(2 * (size_t)n * sizeof *v); /* (2, n): components of a, then b */
    hx_status rc = HX_OK;
    if (!item || !v) {
        rc = hx_error(HX_ERR_NOMEM, NULL, 0, "DeLong: out of memory");
        goto done;
    }
    out->auc_a = dl_components(score_a, label, n, (double)m_pos, (double)(n - m_pos), item, v);
    out->auc_b = dl_components(score_b, label, n, (double)m_pos, (double)(n - m_pos), item, v + n);
    dl_covariance(v, v + n, label, n, out);
done:
    hx_free(item);
    hx_free(v);
    return rc;
}

/* Fixed-effect combination of k independent tests (one test set per seed):
 * each field is the mean over the tests, each variance and the covariance the
 * variance of such a mean, sum / k^2. */
st_delong st_delong_combine(const st_delong *d, int k) {
    HX_ASSERT(k >= 0 && (d || k == 0));
    st_delong c = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (k == 0) return c;
    c = (st_delong){.auc_a = 0};
    for (int i = 0; i < k; i++) {
        c.auc_a += d[i].auc_a, c.auc_b += d[i].auc_b;
        c.var_a += d[i].var_a, c.var_b += d[i].var_b, c.cov += d[i].cov, c.var_diff += d[i].var_diff;
    }
    c.auc_a /= k, c.auc_b /= k;
    double k2 = (double)k * k;
    c.var_a /= k2, c.var_b /= k2, c.cov /= k2, c.var_diff /= k2;
    c.z = c.var_diff > 0 ? (c.auc_a - c.auc_b) / sqrt(c.var_diff) : NAN;
    c.p = 2 * st_norm_cdf(-fabs(c.z));
    return c;
}
