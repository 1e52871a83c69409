/* kmeans.c: see kmeans.h.
 *
 * Follows the standard algorithms exactly:
 *   - k-means++ seeding: first centroid uniform, each next one drawn with
 *     probability proportional to D(x)^2, the squared distance to the nearest
 *     centroid chosen so far (Arthur & Vassilvitskii 2007);
 *   - Lloyd: assign each point to its nearest centroid, move each centroid to the
 *     mean of its points; stop after niter rounds or when no assignment changes.
 * Our choices [R]:
 *   - sums are accumulated in double in point order, so results are bit-identical
 *     for a given seed;
 *   - an empty cluster takes the point farthest from its own centroid (one point
 *     per empty cluster, farthest first);
 *   - n <= k: centroids are the points, the rest N(0, 1/dim) noise (the CCE
 *     reference's rule, cce/_tools.py KMeans.fit).
 */
#include "kmeans.h"

#include <math.h>
#include <string.h>

static float dist2(const float *a, const float *b, int32_t dim) {
    float s = 0;
    for (int32_t j = 0; j < dim; j++) {
        float t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

int32_t kmeans_nearest(const float *C, int32_t k, int32_t dim, const float *x, float *d2) {
    int32_t best = 0;
    float bd = INFINITY;
    for (int32_t c = 0; c < k; c++) {
        float d = dist2(x, C + (size_t)c * dim, dim);
        if (d < bd) {
            bd = d;
            best = c;
        }
    }
    if (d2) *d2 = bd;
    return best;
}

uint64_t kmeans_scratch_bytes(int64_t n, int32_t dim, int32_t k) {
    return 4ull * (uint64_t)n + 8ull * (uint64_t)k * (uint64_t)dim + 8ull * (uint64_t)k;
}

/* seed_pp: k-means++ seeding into C; d2 (n) ends holding D(x)^2. */
static void seed_pp(const float *X, int64_t n, int32_t dim, int32_t k, hx_rng *rng, float *C,
                    float *d2) {
    int64_t first = (int64_t)hx_rng_below(rng, (uint64_t)n);
    memcpy(C, X + (size_t)first * dim, (size_t)dim * sizeof(float));
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        d2[i] = dist2(X + (size_t)i * dim, C, dim);
        total += d2[i];
    }
    for (int32_t c = 1; c < k; c++) {
        int64_t pick = n - 1;
        if (total > 0) {
            double u = hx_rng_uniform(rng) * total, acc = 0;
            for (int64_t i = 0; i < n; i++) {
                acc += d2[i];
                if (acc > u) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (int64_t)hx_rng_below(rng, (uint64_t)n); /* all points coincide */
        }
        float *cc = C + (size_t)c * dim;
        memcpy(cc, X + (size_t)pick * dim, (size_t)dim * sizeof(float));
        total = 0;
        for (int64_t i = 0; i < n; i++) {
            float d = dist2(X + (size_t)i * dim, cc, dim);
            if (d < d2[i]) d2[i] = d;
            total += d2[i];
        }
    }
}

/* seed_random: k distinct points drawn uniformly (partial Fisher-Yates on ids). */
static void seed_random(const float *X, int64_t n, int32_t dim, int32_t k, hx_rng *rng, float *C,
                        int32_t *perm) {
    /* perm (n) is the caller's assign array, reused as scratch */
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (int32_t c = 0; c < k; c++) {
        int64_t j = c + (int64_t)hx_rng_below(rng, (uint64_t)(n - c));
        int32_t t = perm[c];
        perm[c] = perm[j];
        perm[j] = t;
        memcpy(C + (size_t)c * dim, X + (size_t)perm[c] * dim, (size_t)dim * sizeof(float));
    }
}

hx_status kmeans_fit(const float *X, int64_t n, int32_t dim, int32_t k, int niter,
                     kmeans_init init, uint64_t seed, float *C, int32_t *assign,
                     kmeans_result *res, char *err, size_t errlen) {
    HX_ASSERT(n >= 1 && dim >= 1 && k >= 1 && niter >= 0);
    HX_ASSERT(n < INT32_MAX);
    hx_rng rng;
    hx_rng_seed(&rng, seed);
    memset(res, 0, sizeof *res);
    if (n <= k) {
        float sd = 1.0f / sqrtf((float)dim);
        memcpy(C, X, (size_t)n * dim * sizeof(float));
        for (size_t j = (size_t)n * dim; j < (size_t)k * dim; j++) C[j] = sd * (float)hx_rng_normal(&rng);
        for (int64_t i = 0; i < n; i++) assign[i] = (int32_t)i;
        return HX_OK;
    }
    hx_status rc = HX_OK;
    float *d2 = hx_malloc((size_t)n * sizeof(float));
    double *sums = hx_malloc((size_t)k * dim * sizeof(double));
    int64_t *count = hx_malloc((size_t)k * sizeof(int64_t));
    if (!d2 || !sums || !count) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "k-means: out of memory (n=%lld, k=%d)", (long long)n, k);
        goto done;
    }
    if (init == KMEANS_INIT_PP) seed_pp(X, n, dim, k, &rng, C, d2);
    else seed_random(X, n, dim, k, &rng, C, assign);
    for (int64_t i = 0; i < n; i++) assign[i] = -1;

    for (int it = 0; it <= niter; it++) {
        /* assignment step (the last pass only assigns and measures) */
        int64_t changed = 0;
        double inertia = 0;
        for (int64_t i = 0; i < n; i++) {
            int32_t a = kmeans_nearest(C, k, dim, X + (size_t)i * dim, &d2[i]);
            changed += a != assign[i];
            assign[i] = a;
            inertia += d2[i];
        }
        res->inertia = inertia;
        if (it == niter || changed == 0) break;
        res->iters = it + 1;
        /* update step */
        memset(sums, 0, (size_t)k * dim * sizeof(double));
        memset(count, 0, (size_t)k * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            double *s = sums + (size_t)assign[i] * dim;
            const float *x = X + (size_t)i * dim;
            for (int32_t j = 0; j < dim; j++) s[j] += x[j];
            count[assign[i]]++;
        }
        for (int32_t c = 0; c < k; c++) {
            float *cc = C + (size_t)c * dim;
            if (count[c] > 0) {
                for (int32_t j = 0; j < dim; j++) cc[j] = (float)(sums[(size_t)c * dim + j] / (double)count[c]);
                continue;
            }
            /* empty: take the farthest point from its centroid (its own cluster keeps >= 1) */
            int64_t far = -1;
            for (int64_t i = 0; i < n; i++)
                if (count[assign[i]] > 1 && (far < 0 || d2[i] > d2[far])) far = i;
            if (far < 0) continue;
            count[assign[far]]--;
            count[c] = 1;
            assign[far] = c;
            d2[far] = 0;
            memcpy(cc, X + (size_t)far * dim, (size_t)dim * sizeof(float));
        }
    }
done:
    hx_free(d2);
    hx_free(sums);
    hx_free(count);
    return rc;
}
