/* cce.c: see cce.h. */
#include "cce.h"

#include <string.h>

#include "kmeans.h"

uint64_t cce_column_seed(uint64_t seed, int32_t f, int32_t j, int64_t round) {
    return hx_splitmix64(seed ^ hx_splitmix64(((uint64_t)f << 40) ^ ((uint64_t)j << 20) ^ (uint64_t)round));
}

/* k-means sample size: min(n, sample_factor * k), capped at max(max_sample, k). */
static int64_t sample_size(int64_t n, int64_t k, int64_t sample_factor, int64_t max_sample) {
    int64_t S = n < sample_factor * k ? n : sample_factor * k;
    if (max_sample > 0 && S > max_sample) S = max_sample > k ? max_sample : k;
    return S < n ? S : n;
}

static uint64_t pointer_words(const cce_cfg *g, int64_t n, int bits) {
    return bitpack_words((uint64_t)n * (uint64_t)g->c, bits);
}

uint64_t cce_scratch_bytes(const cce_cfg *g, int64_t n, int64_t k, int bits) {
    const int32_t dc = g->dc;
    int64_t S = sample_size(n, k, g->sample_factor, g->max_sample);
    uint64_t b = 8ull * (uint64_t)S                          /* sample ids */
                 + 4ull * (uint64_t)S * (uint64_t)dc         /* sample vectors */
                 + 4ull * (uint64_t)S                        /* sample assignments */
                 + 4ull * (uint64_t)k * (uint64_t)dc         /* centroids */
                 + 8ull * (uint64_t)k * (uint64_t)dc + 8ull * (uint64_t)k /* residual sums, counts */
                 + 4ull * (uint64_t)dc                       /* one expanded vector */
                 + kmeans_tree_bytes((int32_t)k);            /* nearest-centroid tree */
    if (S > k) b += kmeans_scratch_bytes(S, dc, (int32_t)k);
    if (g->stored) b += 8ull * pointer_words(g, n, bits); /* old b pointers */
    return b;
}

/* Reservoir sampling (Vitter's algorithm R): S of n ids, uniform without replacement. */
static void sample_ids(hx_rng *rng, int64_t n, int64_t S, int64_t *ids) {
    for (int64_t i = 0; i < S; i++) ids[i] = i;
    for (int64_t i = S; i < n; i++) {
        uint64_t r = hx_rng_below(rng, (uint64_t)(i + 1));
        if (r < (uint64_t)S) ids[r] = i;
    }
}

/* The scratch of one round, reused column by column (cce_scratch_bytes counts it). */
typedef struct cluster_scratch {
    int64_t   S;       /* sample size */
    int64_t  *ids;     /* (S) sampled ids */
    float    *vecs;    /* (S, dc) their expanded vectors */
    int32_t  *assign;  /* (S) k-means assignments */
    float    *C;       /* (k, dc) centroids */
    double   *sums;    /* (k, dc) residual sums per b row */
    int64_t  *count;   /* (k) ids per b row */
    float    *v;       /* (dc) one expanded vector */
    uint64_t *oldb;    /* the b pointers before the redraw (stored sketch), or NULL */
} cluster_scratch;

static void scratch_free(cluster_scratch *x) {
    hx_free(x->ids);
    hx_free(x->vecs);
    hx_free(x->assign);
    hx_free(x->C);
    hx_free(x->sums);
    hx_free(x->count);
    hx_free(x->v);
    hx_free(x->oldb);
}

static hx_status scratch_alloc(const cce_field *fl, const cce_cfg *g, int32_t f, cluster_scratch *x, char *err,
                               size_t errlen) {
    const int64_t k = fl->k;
    const int32_t dc = g->dc;
    memset(x, 0, sizeof *x);
    x->S = sample_size(fl->n, k, g->sample_factor, g->max_sample);
    x->ids = hx_malloc((size_t)x->S * sizeof(int64_t));
    x->vecs = hx_malloc((size_t)x->S * dc * sizeof(float));
    x->assign = hx_malloc((size_t)x->S * sizeof(int32_t));
    x->C = hx_malloc((size_t)k * dc * sizeof(float));
    x->sums = hx_malloc((size_t)k * dc * sizeof(double));
    x->count = hx_malloc((size_t)k * sizeof(int64_t));
    x->v = hx_malloc((size_t)dc * sizeof(float));
    if (g->stored) x->oldb = hx_malloc(pointer_words(g, fl->n, fl->bits) * sizeof(uint64_t));
    if (x->ids && x->vecs && x->assign && x->C && x->sums && x->count && x->v && (!g->stored || x->oldb))
        return HX_OK;
    scratch_free(x);
    return hx_error(HX_ERR_NOMEM, err, errlen, "cqr: out of memory clustering field %d", f);
}

/* 1. sample S ids of column j and expand them: vecs[q] = A_j[a_j(i)] + B_j[b_j(i)]. */
static void sample_expand(const cce_field *fl, const cce_cfg *g, int32_t j, hx_rng *rng, cluster_scratch *x) {
    const int32_t dc = g->dc;
    const float *Aj = emb_table_row(&fl->A, j * fl->k), *Bj = emb_table_row(&fl->B, j * fl->k);
    sample_ids(rng, fl->n, x->S, x->ids);
    for (int64_t q = 0; q < x->S; q++) {
        const float *pa = Aj + (size_t)cce_a(fl, g->c, x->ids[q], j) * dc;
        const float *pb = Bj + (size_t)cce_b(fl, g->c, x->ids[q], j) * dc;
        for (int32_t e = 0; e < dc; e++) x->vecs[q * dc + e] = pa[e] + pb[e];
    }
}

/* 4. redraw b_j once, before the reassignment: new stored pointers (the old ones
 * kept in x->oldb) or a new hash seed; returns the old seed. */
static uint64_t redraw_b(cce_field *fl, const cce_cfg *g, int32_t f, int32_t j, hx_rng *rng, cluster_scratch *x) {
    uint64_t oldseed = fl->bseed[j];
    if (g->stored) {
        memcpy(x->oldb, fl->pb, pointer_words(g, fl->n, fl->bits) * sizeof(uint64_t));
        for (int64_t i = 0; i < fl->n; i++)
            bitpack_set(fl->pb, fl->bits, (uint64_t)i * g->c + j, (uint32_t)hx_rng_below(rng, (uint64_t)fl->k));
    } else {
        fl->bseed[j] = cce_column_seed(g->seed, f, j, fl->rounds);
    }
    return oldseed;
}

/* 3. reassign every id of column j to the centroid nearest its pre-clustering
 * vector (old a, old b); 5. sum the residuals v - C[a] per new b row. */
static void reassign(cce_field *fl, const cce_cfg *g, int32_t j, const kmeans_tree *tree, uint64_t oldseed,
                     cluster_scratch *x) {
    const int32_t dc = g->dc;
    const int64_t k = fl->k;
    const float *Aj = emb_table_row(&fl->A, j * k), *Bj = emb_table_row(&fl->B, j * k);
    memset(x->sums, 0, (size_t)k * dc * sizeof(double));
    memset(x->count, 0, (size_t)k * sizeof(int64_t));
    for (int64_t i = 0; i < fl->n; i++) {
        uint64_t q = (uint64_t)i * g->c + j;
        uint32_t bo = g->stored ? bitpack_get(x->oldb, fl->bits, q) : (uint32_t)hx_hash_index((uint64_t)i, oldseed, (uint64_t)k);
        const float *pa = Aj + (size_t)bitpack_get(fl->pa, fl->bits, q) * dc, *pb = Bj + (size_t)bo * dc;
        for (int32_t e = 0; e < dc; e++) x->v[e] = pa[e] + pb[e];
        int32_t an = kmeans_tree_nearest(tree, x->v, NULL);
        bitpack_set(fl->pa, fl->bits, q, (uint32_t)an);
        uint32_t bn = cce_b(fl, g->c, i, j);
        double *sm = x->sums + (size_t)bn * dc;
        for (int32_t e = 0; e < dc; e++) sm[e] += (double)x->v[e] - x->C[(size_t)an * dc + e];
        x->count[bn]++;
    }
}

/* 5. A_j <- centroids, B_j <- mean residuals (0 where no id points); 6. the
 * optional optimizer-state reset of the rewritten rows. */
static void rewrite_codebooks(cce_field *fl, const cce_cfg *g, int32_t j, const cluster_scratch *x) {
    const int32_t dc = g->dc;
    const int64_t k = fl->k;
    float *Aw = emb_table_row(&fl->A, j * k), *Bw = emb_table_row(&fl->B, j * k);
    memcpy(Aw, x->C, (size_t)k * dc * sizeof(float));
    for (int64_t r = 0; r < k; r++)
        for (int32_t e = 0; e < dc; e++)
            Bw[r * dc + e] = x->count[r] ? (float)(x->sums[r * dc + e] / (double)x->count[r]) : 0.0f;
    if (g->reset && fl->A.state_w) {
        memset(fl->A.state + (size_t)j * k * fl->A.state_w, 0, (size_t)k * fl->A.state_w * sizeof(float));
        memset(fl->B.state + (size_t)j * k * fl->B.state_w, 0, (size_t)k * fl->B.state_w * sizeof(float));
    }
}

hx_status cce_cluster_field(cce_field *fl, const cce_cfg *g, int32_t f, char *err, size_t errlen) {
    cluster_scratch x;
    hx_status rc = scratch_alloc(fl, g, f, &x, err, errlen);
    if (rc != HX_OK) return rc;
    fl->rounds++;
    for (int32_t j = 0; j < g->c && rc == HX_OK; j++) {
        hx_rng rng;
        hx_rng_seed(&rng, cce_column_seed(g->seed ^ 0x636c7573746572ull, f, j, fl->rounds));
        sample_expand(fl, g, j, &rng, &x);
        kmeans_result kr; /* 2. k-means */
        rc = kmeans_fit(x.vecs, x.S, g->dc, (int32_t)fl->k, (int)g->niter, KMEANS_INIT_PP, hx_rng_u64(&rng), x.C,
                        x.assign, &kr, err, errlen);
        kmeans_tree tree;
        if (rc == HX_OK) rc = kmeans_tree_build(&tree, x.C, (int32_t)fl->k, g->dc, err, errlen);
        if (rc != HX_OK) break;
        uint64_t oldseed = redraw_b(fl, g, f, j, &rng, &x);
        reassign(fl, g, j, &tree, oldseed, &x);
        kmeans_tree_free(&tree);
        rewrite_codebooks(fl, g, j, &x);
    }
    scratch_free(&x);
    return rc;
}
