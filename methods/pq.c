/* pq.c: post-training product quantization (Jegou, Douze, Schmid, "Product
 * Quantization for Nearest Neighbor Search", IEEE TPAMI 2011), the post-training
 * reference curve of the CCE paper.
 *
 * Follows the paper: after training `full` (methods/full.c), each row of a table is
 * split into M sub-vectors of D/M dims; per sub-space a k-means codebook of K
 * centroids is learned and each row stores its M centroid indices; decoding
 * concatenates the M centroids. Inference bytes count the codebooks
 * (4 K D per table) AND the codes, which dominate.
 * Our choices [R]:
 *   - one codebook set per field; fields with N <= threshold (200) stay fp32, and a
 *     field uses K_f = min(K, N_f) centroids;
 *   - codes are bit-packed: ceil(M * b_f / 8) bytes per row with b_f =
 *     ceil(log2 K_f) (= M bytes, i.e. uint8 codes, for K = 256);
 *   - k-means: methods/common/kmeans.c, random init at K rows (FAISS's default), at most
 *     20 Lloyd iterations, trained on at most 64 K rows per field (FAISS asks for
 *     >= 39 K; its cap is 256 K), then every row is assigned;
 *   - `subspaces` auto: the divisors of D; `centroids` auto: 2..256 (codes of at
 *     most one byte per sub-space, and k-means stays cheap); the plan takes the
 *     largest K that reaches the ratio within 5% with some M (K = 256 whenever
 *     the codebooks are negligible), or refuses with the reachable range. A
 *     larger K can be set explicitly (up to 65536).
 */
#include <math.h>

#include "methods/common/kmeans.h"
#include "methods/common/baseline.h"

enum { P_M, P_K, P_THRESHOLD, P_COUNT };
static const emb_param_desc pq_params[] = {
    [P_M] = {.name = "subspaces", .type = EMB_P_INT, .min = 1, .max = 65536, .def = EMB_AUTO, .auto_ok = 1,
             .help = "M sub-vectors per row, a divisor of D (auto: from the ratio)"},
    [P_K] = {.name = "centroids", .type = EMB_P_INT, .min = 2, .max = 65536, .def = EMB_AUTO, .auto_ok = 1,
             .help = "K centroids per sub-space (auto: 256 if it reaches the ratio)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay fp32"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(pq_params, P_COUNT);

typedef struct pq_field {
    int32_t  k, bits;   /* 0 = field kept fp32 */
    size_t   row_bytes;
    float   *cb;        /* (M, k, D/M) */
    uint8_t *codes;     /* (N, row_bytes) */
} pq_field;

typedef struct pq_form {
    int32_t   M;
    uint64_t  seed;
    pq_field *fl;  /* (F) */
} pq_form;

static int32_t bits_for(int64_t k) {
    int32_t b = 1;
    while (((int64_t)1 << b) < k) b++;
    return b;
}

/* Inference bytes of (M, K); fills the per-field shape when fl != NULL. */
static void pq_infer(const emb_spec *spec, int32_t M, int64_t K, emb_bytes *b, pq_field *fl) {
    memset(b, 0, sizeof *b);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (n <= (int64_t)spec->pv[P_THRESHOLD]) {
            b->infer_params += 4ull * (uint64_t)n * (uint64_t)spec->dim;
            continue;
        }
        int64_t k = K < n ? K : n;
        int32_t bits = bits_for(k);
        size_t rb = ((size_t)M * (size_t)bits + 7) / 8;
        b->infer_params += 4ull * (uint64_t)k * (uint64_t)spec->dim;
        b->infer_index += (uint64_t)n * rb;
        if (fl) fl[f].k = (int32_t)k, fl[f].bits = bits, fl[f].row_bytes = rb;
    }
    snprintf(b->index_desc, sizeof b->index_desc, "PQ codes, %d sub-spaces, packed bits", M);
}

static double pq_ratio(const emb_spec *spec, int32_t M, int64_t K) {
    emb_bytes b;
    pq_infer(spec, M, K, &b, NULL);
    return emb_full_bytes(spec) / (double)emb_bytes_infer(&b);
}

/* pq_choose: fill M, K (see the file comment) or refuse naming the range. */
static hx_status pq_choose(const emb_spec *spec, int32_t *M, int64_t *K, char *err, size_t errlen) {
    double lo = INFINITY, hi = 0, best_err = INFINITY;
    int64_t best_k = 0;
    *M = 0;
    for (int32_t m = 1; m <= spec->dim; m++) {
        if (spec->dim % m || (spec->pv[P_M] != EMB_AUTO && m != (int32_t)spec->pv[P_M])) continue;
        int64_t k0 = spec->pv[P_K] == EMB_AUTO ? 256 : (int64_t)spec->pv[P_K];
        int64_t k1 = spec->pv[P_K] == EMB_AUTO ? 2 : k0;
        for (int64_t k = k0; k >= k1; k--) { /* largest K first */
            double r = pq_ratio(spec, m, k);
            lo = r < lo ? r : lo;
            hi = r > hi ? r : hi;
            if (!emb_plan_within(spec->ratio, r)) continue;
            double e = fabs(log(r / spec->ratio));
            if (k > best_k || (k == best_k && e < best_err)) best_k = k, best_err = e, *M = m, *K = k;
        }
    }
    if (spec->pv[P_M] != EMB_AUTO && spec->dim % (int32_t)spec->pv[P_M])
        return hx_error(HX_ERR_PARAM, err, errlen, "pq: subspaces %d does not divide dim %d", (int)spec->pv[P_M],
                        spec->dim);
    if (*M == 0) return emb_plan_unreachable(spec, "pq", lo, hi, err, errlen);
    return HX_OK;
}

static hx_status pq_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int32_t M;
    int64_t K;
    hx_status rc = pq_choose(spec, &M, &K, err, errlen);
    if (rc != HX_OK) return rc;
    spec->pv[P_M] = M;
    spec->pv[P_K] = (double)K;
    emb_bytes inf;
    pq_infer(spec, M, K, &inf, NULL);
    bl_post_account(spec, &inf, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "M=%d sub-spaces of %d dims, K=%lld centroids", M, spec->dim / M,
             (long long)K);
    return HX_OK;
}

static void pq_destroy(void *state) {
    bl_post *s = state;
    if (!s) return;
    pq_form *q = s->q;
    if (q) {
        for (int32_t f = 0; q->fl && f < s->fs.F; f++) {
            hx_free(q->fl[f].cb);
            hx_free(q->fl[f].codes);
        }
        hx_free(q->fl);
        hx_free(q);
    }
    bl_post_free(s);
}

static hx_status pq_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    int32_t M;
    int64_t K;
    hx_status rc = pq_choose(spec, &M, &K, err, errlen);
    if (rc != HX_OK) return rc;
    bl_post *s = NULL;
    if ((rc = bl_post_create(spec, &s, err, errlen)) != HX_OK) return rc;
    pq_form *q = hx_calloc(1, sizeof *q);
    s->q = q;
    if (q) q->fl = hx_calloc((size_t)spec->n_fields, sizeof(pq_field));
    if (!q || !q->fl) {
        pq_destroy(s);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    q->M = M;
    q->seed = spec->seed;
    pq_infer(spec, M, K, &s->infer, q->fl);
    *state = s;
    return HX_OK;
}

static uint32_t get_code(const uint8_t *row, int32_t m, int32_t bits) {
    uint32_t v = 0;
    for (int32_t k = 0; k < bits; k++) {
        size_t bit = (size_t)m * bits + k;
        v |= (uint32_t)((row[bit / 8] >> (bit % 8)) & 1) << k;
    }
    return v;
}

static void put_code(uint8_t *row, int32_t m, int32_t bits, uint32_t v) {
    for (int32_t k = 0; k < bits; k++) {
        size_t bit = (size_t)m * bits + k;
        if ((v >> k) & 1) row[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}

static void pq_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    bl_post *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    pq_form *q = s->q;
    for (int64_t k = 0; k < B * F; k++) {
        const pq_field *p = &q->fl[k % F];
        float *e = out + (size_t)k * D;
        if (!s->done || !p->k) {
            memcpy(e, emb_table_row(&s->fs.tabs[k % F], idx[k]), (size_t)D * sizeof(float));
            continue;
        }
        const int32_t ds = D / q->M;
        const uint8_t *row = p->codes + (size_t)idx[k] * p->row_bytes;
        for (int32_t m = 0; m < q->M; m++)
            memcpy(e + m * ds, p->cb + ((size_t)m * p->k + get_code(row, m, p->bits)) * ds, (size_t)ds * sizeof(float));
    }
}

/* Quantize field f: per sub-space, k-means on (a sample of) its rows, then codes. */
static hx_status pq_field_finalize(bl_post *s, int32_t f, char *err, size_t errlen) {
    pq_form *q = s->q;
    pq_field *p = &q->fl[f];
    const emb_table *t = &s->fs.tabs[f];
    const int32_t D = s->fs.D, ds = D / q->M;
    int64_t n = t->rows, ntrain = n < 64ll * p->k ? n : 64ll * p->k;
    hx_status rc = HX_OK;
    float *X = hx_malloc((size_t)ntrain * (size_t)ds * sizeof(float));
    int64_t *pick = hx_malloc((size_t)n * sizeof(int64_t));
    int32_t *assign = hx_malloc((size_t)ntrain * sizeof(int32_t));
    p->cb = hx_calloc((size_t)q->M * (size_t)p->k * (size_t)ds, sizeof(float));
    p->codes = hx_calloc((size_t)n, p->row_bytes);
    if (!X || !pick || !assign || !p->cb || !p->codes) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory quantizing field %d", f);
        goto done;
    }
    hx_rng rng;
    hx_rng_seed(&rng, q->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(f + 1)));
    for (int64_t i = 0; i < n; i++) pick[i] = i;
    for (int64_t i = 0; i < ntrain && ntrain < n; i++) { /* sample without replacement */
        int64_t j = i + (int64_t)hx_rng_below(&rng, (uint64_t)(n - i)), tmp = pick[i];
        pick[i] = pick[j], pick[j] = tmp;
    }
    for (int32_t m = 0; m < q->M; m++) {
        float *C = p->cb + (size_t)m * p->k * ds;
        for (int64_t i = 0; i < ntrain; i++)
            memcpy(X + (size_t)i * ds, emb_table_row(t, pick[i]) + m * ds, (size_t)ds * sizeof(float));
        kmeans_result kr;
        rc = kmeans_fit(X, ntrain, ds, p->k, 20, KMEANS_INIT_RANDOM, hx_rng_u64(&rng), C, assign, &kr, err, errlen);
        if (rc != HX_OK) goto done;
        for (int64_t i = 0; i < n; i++)
            put_code(p->codes + (size_t)i * p->row_bytes, m, p->bits,
                     (uint32_t)kmeans_nearest(C, p->k, ds, emb_table_row(t, i) + m * ds, NULL));
    }
done:
    hx_free(X);
    hx_free(pick);
    hx_free(assign);
    return rc;
}

static hx_status pq_finalize(void *state, char *err, size_t errlen) {
    bl_post *s = state;
    pq_form *q = s->q;
    for (int32_t f = 0; f < s->fs.F; f++) {
        if (!q->fl[f].k || q->fl[f].codes) continue;
        hx_status rc = pq_field_finalize(s, f, err, errlen);
        if (rc != HX_OK) return rc;
    }
    s->done = 1;
    return HX_OK;
}

const emb_method emb_method_pq = {
    .api_version = EMB_API_VERSION,
    .name = "pq",
    .desc = "train full, then product quantization: M sub-spaces x K k-means centroids (post-training)",
    .cite = "Jegou, Douze, Schmid, Product Quantization for Nearest Neighbor Search, TPAMI 2011",
    .params = pq_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_POST_TRAIN,
    .plan = pq_plan,
    .create = pq_create,
    .destroy = pq_destroy,
    .forward = pq_forward,
    .backward = bl_post_backward,
    .step = emb_fields_state_step,
    .backward_step = bl_post_backward_step,
    .finalize = pq_finalize,
    .bytes = bl_post_bytes,
    .tensors = emb_fields_state_tensors,
    .grad = emb_fields_state_grad,
};
