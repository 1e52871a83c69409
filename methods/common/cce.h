/* cce.h: the compressed field of CQR/CCE (methods/cqr.c) and its clustering
 * step, cce.py CCEmbedding.cluster of the authors' code (thomasahle/cce, read,
 * not copied), kept apart from the method's planning and training.
 *
 * A field of n ids has c columns of dc dims. Column j has a clustered codebook
 * A_j and a sketch codebook B_j of k rows each (rows j k .. j k + k - 1 of the
 * tables A and B) and, per id i, pointers a_j(i), b_j(i) in [0, k): a is stored,
 * bit-packed id-major (pointer q = i c + j); b is stored the same way (pb) or is
 * the seeded hash h(i; bseed[j]) mod k (pb = NULL).
 *
 * One clustering round, per column j (see methods/cqr.c for the whole method):
 *   1. sample S = min(n, sample_factor * k) ids without replacement (reservoir
 *      sampling, capped at max(max_sample, k)), expand v_i = A_j[a_j(i)] + B_j[b_j(i)];
 *   2. k-means (k-means++ then Lloyd, methods/common/kmeans.c) on them;
 *   3. reassign every id to the centroid nearest its pre-clustering vector;
 *   4. redraw b_j, once, BEFORE the reassignment loop [R: fixes the reference,
 *      which redraws inside its batched loop so earlier batches' residuals land in
 *      rows that are later overwritten];
 *   5. A_j <- centroids, B_j[r] <- mean residual v_i - A_j[a_j(i)] over ids with
 *      b_j(i) = r (0 where no id points [R]: the reference divides 0 by 0);
 *   6. optimizer state kept (as the reference) unless reset is set [R].
 */
#ifndef EMBSWEEP_CCE_H
#define EMBSWEEP_CCE_H

#include "bitpack.h"
#include "table.h"

typedef struct cce_field {
    int64_t   n;      /* N_f ids */
    int64_t   k;      /* rows per codebook; 0 = uncompressed field */
    int       bits;   /* bits per stored pointer */
    emb_table A, B;   /* (c*k, d/c) each, row j*k + r = row r of column j; full: A (n, d) */
    uint64_t *pa;     /* packed a pointers, id-major (n, c) */
    uint64_t *pb;     /* packed b pointers (stored sketch) or NULL */
    uint64_t *bseed;  /* (c) hash seeds of b (hash sketch) */
    int64_t   rounds; /* clusterings done */
} cce_field;

/* The clustering's parameters (the method's, fixed at create). */
typedef struct cce_cfg {
    int32_t  c, dc;         /* columns, dims per column */
    int      stored, reset; /* stored b pointers; zero rewritten rows' optimizer state */
    int64_t  niter, sample_factor, max_sample;
    uint64_t seed;          /* the run's seed */
} cce_cfg;

static inline uint32_t cce_a(const cce_field *fl, int32_t c, int64_t i, int32_t j) {
    return bitpack_get(fl->pa, fl->bits, (uint64_t)i * (uint64_t)c + (uint64_t)j);
}

static inline uint32_t cce_b(const cce_field *fl, int32_t c, int64_t i, int32_t j) {
    if (fl->pb) return bitpack_get(fl->pb, fl->bits, (uint64_t)i * (uint64_t)c + (uint64_t)j);
    return (uint32_t)hx_hash_index((uint64_t)i, fl->bseed[j], (uint64_t)fl->k);
}

/* The seed of column j of field f at clustering round `round` (0: create). */
uint64_t cce_column_seed(uint64_t seed, int32_t f, int32_t j, int64_t round);

/* Scratch bytes of one round on a field of n ids and k rows per codebook (the
 * sample, centroids, residual sums, the k-d tree, kmeans_fit's own, and with the
 * stored sketch the old b pointers). */
uint64_t cce_scratch_bytes(const cce_cfg *g, int64_t n, int64_t k, int bits);

/* One clustering round of compressed field f (steps 1-6 above, each column from
 * its own seeded stream). HX_ERR_NOMEM if the scratch cannot be allocated. */
hx_status cce_cluster_field(cce_field *fl, const cce_cfg *g, int32_t f, char *err, size_t errlen);

#endif
