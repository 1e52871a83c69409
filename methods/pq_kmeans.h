/* pq_kmeans.h: a small Lloyd k-means for PQ codebooks (methods/pq.c).
 * [R] Placeholder until the shared methods/kmeans.c (branch seeds_b) lands; the
 * calls in pq.c are the only users, so swapping is local.
 *
 * Shapes: X (n, dim) row-major points, C (k, dim) centroids.
 */
#ifndef EMBSWEEP_PQ_KMEANS_H
#define EMBSWEEP_PQ_KMEANS_H

#include <stdint.h>

#include "../harness/util.h"

/* pqk_fit: k <= n required. Init: k distinct points drawn from the seed; then up
 * to niter Lloyd iterations (stops when no assignment changes); an empty cluster
 * is re-seeded at a random point. Returns HX_ERR_NOMEM if scratch fails. */
hx_status pqk_fit(const float *X, int64_t n, int32_t dim, int32_t k, int niter, uint64_t seed, float *C, char *err,
                  size_t errlen);

/* Index of the centroid nearest to x (ties: lowest index). */
int32_t pqk_nearest(const float *C, int32_t k, int32_t dim, const float *x);

#endif
