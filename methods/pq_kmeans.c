/* pq_kmeans.c: see pq_kmeans.h. */
#include "pq_kmeans.h"

#include <math.h>
#include <string.h>

int32_t pqk_nearest(const float *C, int32_t k, int32_t dim, const float *x) {
    int32_t best = 0;
    float bd = INFINITY;
    for (int32_t c = 0; c < k; c++, C += dim) {
        float d2 = 0;
        for (int32_t j = 0; j < dim; j++) {
            float t = x[j] - C[j];
            d2 += t * t;
        }
        if (d2 < bd) bd = d2, best = c;
    }
    return best;
}

hx_status pqk_fit(const float *X, int64_t n, int32_t dim, int32_t k, int niter, uint64_t seed, float *C, char *err,
                  size_t errlen) {
    HX_ASSERT(k >= 1 && n >= k);
    hx_status rc = HX_OK;
    int64_t *perm = hx_malloc((size_t)n * sizeof(int64_t));
    int32_t *assign = hx_malloc((size_t)n * sizeof(int32_t));
    int64_t *count = hx_calloc((size_t)k, sizeof(int64_t));
    double *sum = hx_calloc((size_t)k * (size_t)dim, sizeof(double));
    if (!perm || !assign || !count || !sum) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory in k-means (%lld points)", (long long)n);
        goto done;
    }
    hx_rng rng;
    hx_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int32_t c = 0; c < k; c++) { /* partial Fisher-Yates: k distinct points */
        int64_t j = c + (int64_t)hx_rng_below(&rng, (uint64_t)(n - c)), t = perm[c];
        perm[c] = perm[j], perm[j] = t;
        memcpy(C + (size_t)c * dim, X + (size_t)perm[c] * dim, (size_t)dim * sizeof(float));
    }
    for (int64_t i = 0; i < n; i++) assign[i] = -1;
    for (int it = 0; it < niter; it++) {
        int64_t changed = 0;
        for (int64_t i = 0; i < n; i++) {
            int32_t a = pqk_nearest(C, k, dim, X + (size_t)i * dim);
            changed += a != assign[i];
            assign[i] = a;
        }
        if (!changed) break;
        memset(count, 0, (size_t)k * sizeof(int64_t));
        memset(sum, 0, (size_t)k * (size_t)dim * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            count[assign[i]]++;
            for (int32_t j = 0; j < dim; j++) sum[(size_t)assign[i] * dim + j] += X[(size_t)i * dim + j];
        }
        for (int32_t c = 0; c < k; c++) {
            float *y = C + (size_t)c * dim;
            if (count[c] == 0) { /* empty: re-seed at a random point [R] */
                memcpy(y, X + (size_t)hx_rng_below(&rng, (uint64_t)n) * dim, (size_t)dim * sizeof(float));
                continue;
            }
            for (int32_t j = 0; j < dim; j++) y[j] = (float)(sum[(size_t)c * dim + j] / (double)count[c]);
        }
    }
done:
    hx_free(perm);
    hx_free(assign);
    hx_free(count);
    hx_free(sum);
    return rc;
}
