/* ds_common.c: ds_data allocation, split sizes, and the metrics the datasets
 * module reports about itself: exact AUC with ties (average ranks, the
 * Mann-Whitney U statistic) and logloss, used for the Bayes ceiling of a planted
 * model and the positive rates of every split. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"

hx_status ds_data_alloc(ds_data *d, int64_t n, int32_t n_dense, int32_t n_fields, int with_prob) {
    HX_ASSERT(n >= 0 && n_dense >= 0 && n_fields >= 0);
    size_t N = (size_t)n, Dd = (size_t)n_dense, F = (size_t)n_fields;
    /* 8-byte items first, then 4-byte arrays, then the names. */
    size_t off_card = 0;
    size_t off_dense = off_card + F * sizeof(int64_t);
    size_t off_cat = off_dense + N * Dd * sizeof(float);
    size_t off_label = off_cat + N * F * sizeof(uint32_t);
    size_t off_prob = off_label + N * sizeof(float);
    size_t off_names = off_prob + (with_prob ? N * sizeof(float) : 0);
    size_t total = off_names + F * 32;
    char *b = hx_calloc(1, total ? total : 1);
    if (!b) return HX_ERR_NOMEM;
    d->owned = b;
    d->n_rows = n;
    d->n_dense = n_dense;
    d->n_fields = n_fields;
    d->card = (int64_t *)(void *)(b + off_card);
    d->dense = Dd ? (float *)(void *)(b + off_dense) : NULL;
    d->cat = (uint32_t *)(void *)(b + off_cat);
    d->label = (float *)(void *)(b + off_label);
    d->prob = with_prob ? (float *)(void *)(b + off_prob) : NULL;
    d->field_names = (char (*)[32])(void *)(b + off_names);
    return HX_OK;
}

void ds_split_sizes(ds_data *d, double val_frac, double test_frac) {
    int64_t n = d->n_rows;
    int64_t nt = (int64_t)llround((double)n * test_frac);
    int64_t nv = (int64_t)llround((double)n * val_frac);
    if (nt > n) nt = n;
    if (nv > n - nt) nv = n - nt;
    d->n_test = nt;
    d->n_val = nv;
    d->n_train = n - nt - nv;
}

typedef struct { float s; float y; } scored;

static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* The AUC into *auc (NaN for no rows, a NaN score or a single class);
 * HX_ERR_NOMEM when the sort's scratch cannot be had. */
static hx_status auc_of(const float *score, const float *label, int64_t n, double *auc) {
    *auc = NAN;
    if (n <= 0) return HX_OK;
    for (int64_t i = 0; i < n; i++)
        if (isnan(score[i])) return HX_OK;
    scored *v = hx_malloc((size_t)n * sizeof *v);
    if (!v) return HX_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++) v[i] = (scored){score[i], label[i]};
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    /* Sum of the (average, 1-based) ranks of the positives. */
    double rank_sum = 0, npos = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        double pos = 0;
        while (j < n && v[j].s == v[i].s) pos += v[j++].y > 0.5f;
        double avg = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1..j */
        rank_sum += pos * avg;
        npos += pos;
        i = j;
    }
    hx_free(v);
    double nneg = (double)n - npos;
    if (npos > 0 && nneg > 0) *auc = (rank_sum - npos * (npos + 1) / 2) / (npos * nneg);
    return HX_OK;
}

double ds_auc(const float *score, const float *label, int64_t n) {
    double auc;
    return auc_of(score, label, n, &auc) == HX_OK ? auc : NAN;
}

double ds_logloss(const float *p, const float *label, int64_t n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double q = p[i];
        if (q < 1e-7) q = 1e-7;
        if (q > 1 - 1e-7) q = 1 - 1e-7;
        s -= label[i] > 0.5f ? log(q) : log(1 - q);
    }
    return s / (double)n;
}

static double mean_label(const float *y, int64_t n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += y[i];
    return s / (double)n;
}

hx_status ds_fill_stats(ds_data *d) {
    int64_t t0 = d->n_train + d->n_val;
    d->pos_rate_train = mean_label(d->label, d->n_train);
    d->pos_rate_test = mean_label(d->label + t0, d->n_test);
    d->bayes_auc = d->bayes_logloss = NAN;
    if (!d->prob) return HX_OK;
    d->bayes_logloss = ds_logloss(d->prob + t0, d->label + t0, d->n_test);
    return auc_of(d->prob + t0, d->label + t0, d->n_test, &d->bayes_auc);
}
