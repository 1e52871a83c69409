/* metrics.c: see metrics.h. AUC by sorting (score, label) pairs and summing the
 * average ranks of the positives: AUC = (R_pos - P(P+1)/2) / (P N). Within a tie
 * group every member gets the group's mean rank, so a tied positive/negative pair
 * counts 1/2, as sklearn.metrics.roc_auc_score does. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

typedef struct scored {
    float s;
    float y;
} scored;

static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, z = ((const scored *)b)->s;
    return (x > z) - (x < z);
}

double metrics_auc(const float *score, const float *label, int64_t n) {
    if (n <= 0) return NAN;
    scored *v = hx_malloc((size_t)n * sizeof *v);
    if (!v) return NAN;
    double P = 0;
    for (int64_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = label[i];
        P += label[i] > 0.5f;
    }
    double N = (double)n - P;
    if (P == 0 || N == 0) {
        hx_free(v);
        return NAN;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    double rpos = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        double pos = 0;
        while (j < n && v[j].s == v[i].s) pos += v[j++].y > 0.5f;
        /* ranks i+1 .. j, mean (i + 1 + j) / 2 */
        rpos += pos * 0.5 * (double)(i + 1 + j);
        i = j;
    }
    hx_free(v);
    return (rpos - P * (P + 1) / 2) / (P * N);
}

double metrics_logloss(const float *prob, const float *label, int64_t n) {
    const double eps = 1e-7;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double p = prob[i];
        p = p < eps ? eps : (p > 1 - eps ? 1 - eps : p);
        s += label[i] > 0.5f ? -log(p) : -log(1 - p);
    }
    return n > 0 ? s / (double)n : NAN;
}

double metrics_accuracy(const float *prob, const float *label, int64_t n) {
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++) ok += (prob[i] >= 0.5f) == (label[i] > 0.5f);
    return n > 0 ? (double)ok / (double)n : NAN;
}
