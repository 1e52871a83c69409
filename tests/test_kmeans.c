/* test_kmeans.c: methods/common/kmeans.c on planted clusters: recovery, determinism from
 * the seed, k-means++ seeding better than random seeding, degenerate inputs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "methods/common/kmeans.h"

/* n = G * per points in dim, around G centers spread U(-10, 10), noise sd. */
static float *planted(int G, int per, int dim, float sd, uint64_t seed, int32_t *truth) {
    hx_rng r;
    hx_rng_seed(&r, seed);
    float *centers = malloc((size_t)G * dim * sizeof(float));
    float *X = malloc((size_t)G * per * dim * sizeof(float));
    for (int i = 0; i < G * dim; i++) centers[i] = hx_rng_uniformf(&r, -10, 10);
    for (int g = 0; g < G; g++)
        for (int p = 0; p < per; p++) {
            int i = g * per + p;
            if (truth) truth[i] = g;
            for (int j = 0; j < dim; j++) X[i * dim + j] = centers[g * dim + j] + sd * (float)hx_rng_normal(&r);
        }
    free(centers);
    return X;
}

static double fit(const float *X, int64_t n, int dim, int k, int niter, kmeans_init init, uint64_t seed,
                  int32_t *assign) {
    float *C = malloc((size_t)k * dim * sizeof(float));
    int32_t *a = assign ? assign : malloc((size_t)n * sizeof(int32_t));
    kmeans_result res;
    char err[128];
    cr_assert_eq(kmeans_fit(X, n, dim, k, niter, init, seed, C, a, &res, err, sizeof err), HX_OK, "%s", err);
    if (!assign) free(a);
    free(C);
    return res.inertia;
}

Test(kmeans, recovers_planted_clusters) {
    enum { G = 12, PER = 80, DIM = 4 };
    int32_t truth[G * PER], a[G * PER];
    float *X = planted(G, PER, DIM, 0.1f, 7, truth);
    double inertia = fit(X, G * PER, DIM, G, 50, KMEANS_INIT_PP, 3, a);
    /* expected inertia of the true partition ~ n * dim * sd^2 = 38.4 */
    cr_expect_lt(inertia, 3 * G * PER * DIM * 0.01, "inertia %g", inertia);
    /* every planted cluster maps to one centroid and no two share one */
    for (int g = 0; g < G; g++) {
        for (int p = 1; p < PER; p++) cr_expect_eq(a[g * PER + p], a[g * PER], "cluster %d split", g);
        for (int h = 0; h < g; h++) cr_expect_neq(a[g * PER], a[h * PER], "clusters %d and %d merged", g, h);
    }
    free(X);
}

Test(kmeans, deterministic_from_seed) {
    enum { N = 600, DIM = 3, K = 10 };
    float *X = planted(6, 100, DIM, 1.0f, 11, NULL);
    float C1[K * DIM], C2[K * DIM];
    int32_t a1[N], a2[N];
    kmeans_result r1, r2;
    char err[128];
    cr_assert_eq(kmeans_fit(X, N, DIM, K, 20, KMEANS_INIT_PP, 42, C1, a1, &r1, err, sizeof err), HX_OK);
    cr_assert_eq(kmeans_fit(X, N, DIM, K, 20, KMEANS_INIT_PP, 42, C2, a2, &r2, err, sizeof err), HX_OK);
    cr_expect(memcmp(C1, C2, sizeof C1) == 0, "centroids differ for the same seed");
    cr_expect(memcmp(a1, a2, sizeof a1) == 0, "assignments differ for the same seed");
    cr_expect_eq(r1.inertia, r2.inertia);
    /* another seed gives another seeding (the test would be vacuous otherwise) */
    cr_assert_eq(kmeans_fit(X, N, DIM, K, 0, KMEANS_INIT_PP, 43, C2, a2, &r2, err, sizeof err), HX_OK);
    cr_assert_eq(kmeans_fit(X, N, DIM, K, 0, KMEANS_INIT_PP, 42, C1, a1, &r1, err, sizeof err), HX_OK);
    cr_expect(memcmp(C1, C2, sizeof C1) != 0, "seed has no effect");
    free(X);
}

Test(kmeans, plusplus_beats_random_seeding) {
    enum { G = 25, PER = 40, DIM = 4 };
    float *X = planted(G, PER, DIM, 0.2f, 5, NULL);
    double pp0 = 0, rnd0 = 0, pp = 0, rnd = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        pp0 += fit(X, G * PER, DIM, G, 0, KMEANS_INIT_PP, seed, NULL);
        rnd0 += fit(X, G * PER, DIM, G, 0, KMEANS_INIT_RANDOM, seed, NULL);
        pp += fit(X, G * PER, DIM, G, 10, KMEANS_INIT_PP, seed, NULL);
        rnd += fit(X, G * PER, DIM, G, 10, KMEANS_INIT_RANDOM, seed, NULL);
    }
    cr_expect_lt(pp0, 0.5 * rnd0, "seeding only: k-means++ %g vs random %g", pp0, rnd0);
    cr_expect_lt(pp, rnd, "after 10 Lloyd rounds: k-means++ %g vs random %g", pp, rnd);
    free(X);
}

Test(kmeans, few_points_and_duplicates) {
    float X[3 * 2] = {1, 2, 3, 4, 5, 6}, C[5 * 2];
    int32_t a[3];
    kmeans_result r;
    char err[128];
    cr_assert_eq(kmeans_fit(X, 3, 2, 5, 10, KMEANS_INIT_PP, 1, C, a, &r, err, sizeof err), HX_OK);
    cr_expect(memcmp(C, X, sizeof X) == 0, "n <= k: the centroids are the points");
    for (int i = 0; i < 3; i++) cr_expect_eq(a[i], i);
    /* all points equal, k > distinct points: empty clusters must not crash or NaN */
    float Y[50 * 2];
    int32_t b[50];
    for (int i = 0; i < 100; i++) Y[i] = 0.5f;
    cr_assert_eq(kmeans_fit(Y, 50, 2, 4, 5, KMEANS_INIT_PP, 1, C, b, &r, err, sizeof err), HX_OK);
    cr_expect_eq(r.inertia, 0.0);
    for (int i = 0; i < 8; i++) cr_expect_eq(C[i], 0.5f);
}

Test(kmeans, tree_matches_brute_force) {
    static const int dims[] = {1, 4, 16};
    hx_rng r;
    hx_rng_seed(&r, 8);
    for (size_t q = 0; q < 3; q++) {
        int dim = dims[q], k = 300;
        float *C = malloc((size_t)k * dim * sizeof(float)), x[16];
        /* a coarse grid makes exact ties common: the lowest index must win */
        for (int i = 0; i < k * dim; i++) C[i] = (float)(hx_rng_below(&r, 5));
        kmeans_tree t;
        char err[128];
        cr_assert_eq(kmeans_tree_build(&t, C, k, dim, err, sizeof err), HX_OK);
        for (int i = 0; i < 2000; i++) {
            for (int j = 0; j < dim; j++) x[j] = (float)hx_rng_uniform(&r) * 5 - 0.5f;
            if (i % 2) for (int j = 0; j < dim; j++) x[j] = (float)hx_rng_below(&r, 5);
            float d1, d2;
            int32_t a = kmeans_nearest(C, k, dim, x, &d1), b = kmeans_tree_nearest(&t, x, &d2);
            cr_expect_eq(a, b, "dim %d query %d: brute %d tree %d", dim, i, a, b);
            cr_expect_eq(d1, d2);
            /* a warm start from any centroid (or none) gives the same answer */
            float d3;
            int32_t hint = (int32_t)hx_rng_below(&r, (uint64_t)k + 1) - 1;
            int32_t h = kmeans_tree_nearest_hint(&t, x, hint, &d3);
            cr_expect_eq(a, h, "dim %d query %d: brute %d tree from %d: %d", dim, i, a, hint, h);
            cr_expect_eq(d1, d3);
        }
        kmeans_tree_free(&t);
        free(C);
    }
}
