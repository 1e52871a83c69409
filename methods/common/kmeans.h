/* kmeans.h: k-means for CQR/CCE codebook clustering (methods/cqr.c).
 *
 * k-means++ seeding (Arthur & Vassilvitskii, "k-means++: The Advantages of Careful
 * Seeding", SODA 2007) followed by Lloyd iterations, deterministic from a seed.
 * It replaces the FAISS / scikit-learn k-means the CCE reference code calls
 * (thomasahle/cce cce/_tools.py); nothing is copied from either.
 *
 * Shapes: X (n, dim) row-major points, C (k, dim) centroids, assign (n).
 */
#ifndef EMBSWEEP_KMEANS_H
#define EMBSWEEP_KMEANS_H

#include <stdint.h>

#include "harness/core/util.h"

typedef enum { KMEANS_INIT_PP = 0, KMEANS_INIT_RANDOM = 1 } kmeans_init;

typedef struct kmeans_result {
    double inertia;  /* sum over points of squared distance to the assigned centroid */
    int    iters;    /* Lloyd iterations run (stops early when no assignment changes) */
} kmeans_result;

/* kmeans_fit: cluster X into k centroids written to C, assignments to assign.
 * If n <= k the centroids are the points themselves and the remaining k - n rows
 * are N(0, 1/dim) noise (as the CCE reference's KMeans.fit). Empty clusters are
 * re-seeded at the point farthest from its centroid [R] (FAISS splits a big
 * cluster instead). Returns HX_ERR_NOMEM if scratch cannot be allocated. */
hx_status kmeans_fit(const float *X, int64_t n, int32_t dim, int32_t k, int niter,
                     kmeans_init init, uint64_t seed, float *C, int32_t *assign,
                     kmeans_result *res, char *err, size_t errlen);

/* Scratch bytes kmeans_fit allocates for these sizes (for byte accounting). */
uint64_t kmeans_scratch_bytes(int64_t n, int32_t dim, int32_t k);

/* A k-d tree over the centroids for exact nearest-centroid queries [R: an
 * acceleration; results equal the brute-force scan, ties to the lowest index].
 * Nodes split the centroid order at the median of the widest coordinate. */
typedef struct kmeans_tree {
    const float *C;     /* (k, dim), borrowed */
    int32_t      k, dim;
    int32_t     *perm;  /* (k) centroid ids in tree order */
    int32_t     *sd;    /* (nodes) split coordinate, -1 for a leaf */
    float       *val;   /* (nodes) split value */
    int64_t      nodes;
} kmeans_tree;

hx_status kmeans_tree_build(kmeans_tree *t, const float *C, int32_t k, int32_t dim, char *err, size_t errlen);
void      kmeans_tree_free(kmeans_tree *t);
int32_t   kmeans_tree_nearest(const kmeans_tree *t, const float *x, float *d2);
/* The same result, starting the search from centroid `hint` (-1: none): a good
 * guess (e.g. the previous assignment) bounds the search tighter. */
int32_t   kmeans_tree_nearest_hint(const kmeans_tree *t, const float *x, int32_t hint, float *d2);
uint64_t  kmeans_tree_bytes(int32_t k);

/* Index of the centroid nearest to x (ties: lowest index); *d2 gets the squared
 * distance when d2 is not NULL. */
int32_t kmeans_nearest(const float *C, int32_t k, int32_t dim, const float *x, float *d2);

#endif
