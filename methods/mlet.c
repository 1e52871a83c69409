/* mlet.c: Multi-Layer Embedding Training (MLET).
 *
 * Paper: Ghaemmaghami, Deng, Cho, Orshansky, Singh, Erez, Orshansky, "Training
 * with Multi-Layer Embeddings for Model Reduction", arXiv 2006.05623 (2020);
 * follow-up Deng, Ghaemmaghami et al., ACML 2023 (arXiv 2309.15881). Authors'
 * code read for defaults (not copied): benghaem/dlrm_mlet, dlrm_s_pytorch.py
 * (create_linp, apply_linp), workflow/replicate.py, workflow/criteo_kaggle_ex.sh.
 *
 * Follows the paper / reference exactly:
 *   - training replaces field f's n_f x d table by a wide table W_f (n_f, k) and
 *     a bias-free linear projection P_f (k, d), trained jointly:
 *       e = W_f[i] . P_f                                   (1, d)
 *   - W_f is initialised U(+-sqrt(1/n_f)) (DLRM create_emb, which the fork keeps
 *     for the wide table); P_f ~ N(0, 0.25^2) by default (--linp-init normal),
 *     with normal-<std> and xavier (xavier_normal_, std sqrt(2/(k+d))) options;
 *   - every table gets a projection, no small-table exception;
 *   - W rows get sparse updates (spec->opt); P is a dense parameter that is
 *     updated every step (spec->dense_opt), as torch does for nn.Linear;
 *   - finalize() collapses E_f = W_f P_f (n_f, d) and discards W_f, P_f; the
 *     collapse is exact (no bias, no nonlinearity), and forward then reads E_f.
 * Our choices [R]:
 *   - k: the reference has no default; k is --arch-sparse-feature-size. Its
 *     runs use 64->4, 64->8, 64->16, 128->32 (criteo_kaggle_ex.sh, replicate.py),
 *     so auto k = max(64, 4*d) reproduces exactly those pairs. `k` or `k_factor`
 *     (k = round(k_factor*d)) override it; k < d is refused (that is a low-rank
 *     factorisation, not MLET; the reference guards against it too);
 *   - the reference's "rp" init (a fixed random projection file) is left out;
 *   - the per-field projections sit in one (F, k, d) block and take one dense
 *     optimizer step per training step (element-wise, so identical to per-field);
 *     a row-wise dense optimizer is refused (it has no meaning for a dense matrix);
 *   - the forward pools then projects, per field over the batch: gather the B
 *     rows of W_f into a (B, k) scratch and multiply by P_f with one sgemm
 *     (backward likewise), so training costs two (B, k) scratch buffers and
 *     a (d, k) one for P_f^T;
 *   - collapse runs field by field (one sgemm each) and frees W_f as it goes, so
 *     its transient extra memory is at most one E_f (4 n_f d bytes); it is not
 *     in train_other.
 * Bytes (per field, fp32):
 *   inference  4 n_f d                                         (= full's)
 *   training   params 4 (n_f k + k d)
 *              optim  4 n_f s(k) + 4 s'(k d)  (s, s': floats of state of opt, dense_opt)
 *              other  gradient slots of touched W rows + 4 k d for dP
 *                     (+ 2 * 4 * batch * k + 4 k d scratch, once for all fields)
 * MLET saves inference memory only; its training bytes are about k/d times full's.
 */
#include <cblas.h>
#include <math.h>

#include "harness/core/mlp.h"
#include "methods/common/table.h"

enum { INIT_NORMAL, INIT_XAVIER, INIT_KINDS };
static const char *const mlet_inits[] = {[INIT_NORMAL] = "normal", [INIT_XAVIER] = "xavier", [INIT_KINDS] = NULL};

enum { P_K, P_K_FACTOR, P_INIT, P_STD, P_COUNT };
static const emb_param_desc mlet_params[] = {
    [P_K] = {.name = "k", .type = EMB_P_INT, .min = 1, .max = 65536, .def = EMB_AUTO, .auto_ok = 1,
             .help = "inner (wide) width k >= dim (auto: k_factor*dim if set, else max(64, 4*dim))"},
    [P_K_FACTOR] = {.name = "k_factor", .type = EMB_P_FLOAT, .min = 0, .max = 1024, .def = 0,
                    .help = "k = round(k_factor*dim); 0: unused"},
    [P_INIT] = {.name = "init", .type = EMB_P_ENUM, .def = INIT_NORMAL, .choices = mlet_inits,
                .help = "projection init: normal N(0,std^2) or xavier normal"},
    [P_STD] = {.name = "std", .type = EMB_P_FLOAT, .min = 1e-6, .max = 10, .def = 0.25,
               .help = "std of the normal projection init (reference default 0.25)"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(mlet_params, P_COUNT);

typedef struct mlet_state {
    int32_t    F, D, K;
    int64_t   *card;      /* (F) */
    emb_table *wide;      /* (F) W_f: (n_f, K), sparse rows; freed by finalize */
    float     *proj;      /* (F, K, D) P_f */
    float     *pgrad;     /* (F, K, D) dL/dP accumulated since the last step */
    float     *pstate;    /* (F * state floats) dense optimizer state, or NULL */
    float    **emb;       /* (F) E_f: (n_f, D) after finalize, else NULL */
    float     *rows;      /* (batch, K) scratch: gathered W_f rows */
    float     *drows;     /* (batch, K) scratch: their gradients */
    float     *projt;     /* (D, K) scratch: P_f^T for the forward */
    int32_t    batch;
    int        finalized;
    opt_cfg    opt, dense_opt;
    emb_spec   spec;      /* the planned spec, card = the copy above, for mlet_account */
} mlet_state;

/* mlet_k: the inner width from the parameters; also writes it back into pv. */
static hx_status mlet_k(emb_spec *spec, int32_t *k_out, char *err, size_t errlen) {
    double k = spec->pv[P_K], kf = spec->pv[P_K_FACTOR];
    double from_factor = (double)llround(kf * spec->dim);
    if (k == EMB_AUTO) k = kf > 0 ? from_factor : fmax(64.0, 4.0 * spec->dim);
    else if (kf > 0 && from_factor != k)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "mlet: k=%g and k_factor=%g (k=%g at dim %d) disagree; set one", k, kf,
                        from_factor, spec->dim);
    if (k < spec->dim)
        return hx_error(HX_ERR_PARAM, err, errlen, "mlet: k=%g must be >= dim %d (k_factor >= 1)", k,
                        spec->dim);
    if (k > 65536) return hx_error(HX_ERR_PARAM, err, errlen, "mlet: k=%g exceeds 65536", k);
    for (int32_t f = 0; f < spec->n_fields; f++)
        if (spec->card[f] > INT32_MAX)
            return hx_error(HX_ERR_PARAM, err, errlen, "mlet: field %d has %lld rows; at most %d supported", f,
                            (long long)spec->card[f], INT32_MAX);
    if (spec->dense_opt.kind == OPT_ROWWISE_ADAGRAD)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "mlet: the projection is dense; rowwise_adagrad is not a dense optimizer");
    spec->pv[P_K] = k;
    *k_out = (int32_t)k;
    return HX_OK;
}

/* The accounting of plan() and bytes() for inner width K: training figures are
 * the training-phase peak (fixed by the layout); the inference figure is the
 * collapsed tables', before and after finalize. */
static void mlet_account(const emb_spec *spec, int32_t K, emb_bytes *out) {
    uint64_t kd = (uint64_t)K * (uint64_t)spec->dim, F = (uint64_t)spec->n_fields;
    size_t row_state = opt_state_floats(spec->opt.kind, (size_t)K);
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        uint64_t n = (uint64_t)spec->card[f];
        int64_t cap = spec->batch < spec->card[f] ? spec->batch : spec->card[f];
        out->infer_params += 4 * n * (uint64_t)spec->dim;
        out->train_params += 4 * n * (uint64_t)K;
        out->train_optim += 4 * n * (uint64_t)row_state;
        out->train_other += emb_table_predict_grad(cap, K);
    }
    out->train_params += 4 * F * kd;
    out->train_optim += 4 * (uint64_t)opt_state_floats(spec->dense_opt.kind, (size_t)(F * kd));
    out->train_other += 4 * F * kd + 2 * 4 * (uint64_t)spec->batch * (uint64_t)K + 4 * kd;
    snprintf(out->index_desc, sizeof out->index_desc, "none");
}

static hx_status mlet_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!emb_plan_within(spec->ratio, 1.0)) return emb_plan_unreachable(spec, "mlet", 1, 1, err, errlen);
    int32_t K;
    hx_status rc = mlet_k(spec, &K, err, errlen);
    if (rc != HX_OK) return rc;
    mlet_account(spec, K, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "k=%d -> d=%d (%.3gx); training %.3gx inference bytes", K,
             spec->dim, (double)K / spec->dim,
             (double)emb_bytes_train(&out->bytes) / (double)emb_bytes_infer(&out->bytes));
    return HX_OK;
}

static void mlet_destroy(void *state) {
    mlet_state *s = state;
    if (!s) return;
    for (int32_t f = 0; f < s->F; f++) {
        if (s->wide) emb_table_free(&s->wide[f]);
        if (s->emb) hx_free(s->emb[f]);
    }
    hx_free(s->wide);
    hx_free(s->emb);
    hx_free(s->card);
    hx_free(s->proj);
    hx_free(s->pgrad);
    hx_free(s->pstate);
    hx_free(s->rows);
    hx_free(s->drows);
    hx_free(s->projt);
    hx_free(s);
}

static hx_status mlet_create(const emb_spec *spec_in, void **state, char *err, size_t errlen) {
    emb_spec spec = *spec_in;
    int32_t K;
    hx_status rc = mlet_k(&spec, &K, err, errlen);
    if (rc != HX_OK) return rc;
    mlet_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    s->F = spec.n_fields;
    s->D = spec.dim;
    s->K = K;
    s->batch = spec.batch;
    s->opt = spec.opt;
    s->dense_opt = spec.dense_opt;
    size_t nP = (size_t)s->F * (size_t)K * (size_t)s->D;
    size_t nst = opt_state_floats(spec.dense_opt.kind, nP);
    s->card = hx_calloc((size_t)s->F, sizeof(int64_t));
    s->wide = hx_calloc((size_t)s->F, sizeof(emb_table));
    s->emb = hx_calloc((size_t)s->F, sizeof(float *));
    s->proj = hx_calloc(nP, sizeof(float));
    s->pgrad = hx_calloc(nP, sizeof(float));
    if (nst) s->pstate = hx_calloc(nst, sizeof(float));
    s->rows = hx_calloc((size_t)spec.batch * (size_t)K, sizeof(float));
    s->drows = hx_calloc((size_t)spec.batch * (size_t)K, sizeof(float));
    s->projt = hx_calloc((size_t)K * (size_t)s->D, sizeof(float));
    if (!s->card || !s->wide || !s->emb || !s->proj || !s->pgrad || (nst && !s->pstate) || !s->rows ||
        !s->drows || !s->projt) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    hx_rng rng;
    hx_rng_seed(&rng, spec.seed);
    for (int32_t f = 0; f < s->F; f++) { /* W_f ~ U(+-sqrt(1/n_f)), field by field */
        int64_t n = spec.card[f], cap = spec.batch < n ? spec.batch : n;
        s->card[f] = n;
        rc = emb_table_init(&s->wide[f], n, K, cap, spec.opt.kind, err, errlen);
        if (rc != HX_OK) goto fail;
        float a = sqrtf(1.0f / (float)n);
        emb_table_fill_uniform(&s->wide[f], &rng, -a, a);
    }
    double std = (int)spec.pv[P_INIT] == INIT_XAVIER ? sqrt(2.0 / (K + s->D)) : spec.pv[P_STD];
    for (size_t j = 0; j < nP; j++) s->proj[j] = (float)(std * hx_rng_normal(&rng));
    s->spec = spec;
    s->spec.card = s->card;
    s->spec.pool = NULL;
    *state = s;
    return HX_OK;
fail:
    mlet_destroy(s);
    return rc;
}

/* mlet_gather: rows (B, K) <- W_f[idx[b*F + f]] for b < B. */
static void mlet_gather(mlet_state *s, int32_t f, const int64_t *idx, int64_t B) {
    const int32_t F = s->F, K = s->K;
    for (int64_t b = 0; b < B; b++) {
        int64_t i = idx[b * F + f];
        HX_ASSERT(i >= 0 && i < s->card[f]);
        memcpy(s->rows + (size_t)b * K, emb_table_row(&s->wide[f], i), (size_t)K * sizeof(float));
    }
}

/* forward: out (B, F, D). Training form, per field f:
 *   out[:, f, :] (B, D) = W_f[idx[:, f]] (B, K) . P_f (K, D)
 * after finalize: out[b, f, :] = E_f[idx[b, f]]. */
static void mlet_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    mlet_state *s = state;
    const int32_t F = s->F, D = s->D, K = s->K;
    if (s->finalized) {
        for (int64_t b = 0; b < B; b++)
            for (int32_t f = 0; f < F; f++) {
                int64_t i = idx[b * F + f];
                HX_ASSERT(i >= 0 && i < s->card[f]);
                memcpy(out + ((size_t)b * F + f) * D, s->emb[f] + (size_t)i * D, (size_t)D * sizeof(float));
            }
        return;
    }
    /* out_f = rows . (P_f^T)^T, an NT product: OpenBLAS's AVX-512 small-matrix
     * NN kernel mallocs on every call at d = 8 (see mat_transpose in mlp.h). */
    for (int32_t f = 0; f < F; f++) {
        mat_transpose(s->projt, s->proj + (size_t)f * K * D, K, D);
        for (int64_t b0 = 0; b0 < B; b0 += s->batch) { /* chunks fit the (batch, K) scratch */
            int64_t n = B - b0 < s->batch ? B - b0 : s->batch;
            mlet_gather(s, f, idx + b0 * F, n);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, D, K, 1.0f, s->rows, K, s->projt, K,
                        0.0f, out + ((size_t)b0 * F + f) * D, F * D);
        }
    }
}

/* backward: with G = dout[:, f, :] (B, D) and R = W_f[idx[:, f]] (B, K),
 *   dR (B, K) = G . P_f^T      scattered into W_f's sparse row gradients
 *   dP_f (K, D) += R^T . G     dense */
static void mlet_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    mlet_state *s = state;
    const int32_t F = s->F, D = s->D, K = s->K;
    HX_ASSERT(!s->finalized && B <= s->batch);
    for (int32_t f = 0; f < F; f++) {
        const float *G = dout + (size_t)f * D, *P = s->proj + (size_t)f * K * D;
        mlet_gather(s, f, idx, B);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, K, D, 1.0f, G, F * D, P, D, 0.0f,
                    s->drows, K);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, (int)B, 1.0f, s->rows, K, G, F * D, 1.0f,
                    s->pgrad + (size_t)f * K * D, D);
        for (int64_t b = 0; b < B; b++) {
            float *dw = emb_table_grad_row(&s->wide[f], idx[b * F + f]);
            const float *dr = s->drows + (size_t)b * K;
            for (int32_t c = 0; c < K; c++) dw[c] += dr[c];
        }
    }
}

static void mlet_step(void *state, int64_t t) {
    mlet_state *s = state;
    HX_ASSERT(!s->finalized);
    for (int32_t f = 0; f < s->F; f++) emb_table_step(&s->wide[f], &s->opt, t);
    opt_dense_step(&s->dense_opt, s->proj, s->pgrad, s->pstate, (size_t)s->F * s->K * s->D, t);
}

/* finalize: E_f (n_f, D) = W_f (n_f, K) . P_f (K, D), one sgemm per field; W_f
 * is freed as soon as E_f exists, then P, its state and the scratch. */
static hx_status mlet_finalize(void *state, char *err, size_t errlen) {
    mlet_state *s = state;
    if (s->finalized) return HX_OK;
    const int32_t D = s->D, K = s->K;
    for (int32_t f = 0; f < s->F; f++) {
        s->emb[f] = hx_malloc((size_t)s->card[f] * (size_t)D * sizeof(float));
        if (!s->emb[f])
            return hx_error(HX_ERR_NOMEM, err, errlen, "mlet: out of memory collapsing field %d", f);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->card[f], D, K, 1.0f, s->wide[f].w, K,
                    s->proj + (size_t)f * K * D, D, 0.0f, s->emb[f], D);
        emb_table_free(&s->wide[f]);
    }
    hx_free(s->proj);
    hx_free(s->pgrad);
    hx_free(s->pstate);
    hx_free(s->rows);
    hx_free(s->drows);
    hx_free(s->projt);
    s->proj = s->pgrad = s->pstate = s->rows = s->drows = s->projt = NULL;
    s->finalized = 1;
    return HX_OK;
}

static void mlet_bytes(const void *state, emb_bytes *out) {
    const mlet_state *s = state;
    mlet_account(&s->spec, s->K, out);
}

/* tensors: W_0..W_{F-1} then P_0..P_{F-1}; after finalize, E_0..E_{F-1}. */
static int mlet_tensors(void *state, emb_tensor *out, int max) {
    mlet_state *s = state;
    int n = 0;
    for (int32_t f = 0; f < s->F && n < max; f++, n++) {
        out[n].name = s->finalized ? "collapsed" : "wide";
        out[n].data = s->finalized ? s->emb[f] : s->wide[f].w;
        out[n].n = (size_t)s->card[f] * (size_t)(s->finalized ? s->D : s->K);
    }
    for (int32_t f = 0; !s->finalized && f < s->F && n < max; f++, n++) {
        out[n].name = "projection";
        out[n].data = s->proj + (size_t)f * s->K * s->D;
        out[n].n = (size_t)s->K * s->D;
    }
    return n;
}

static void mlet_grad(void *state, int i, float *dense) {
    mlet_state *s = state;
    HX_ASSERT(i >= 0 && i < (s->finalized ? 1 : 2) * s->F);
    if (s->finalized) memset(dense, 0, (size_t)s->card[i] * s->D * sizeof(float));
    else if (i < s->F) emb_table_grad_dense(&s->wide[i], dense);
    else memcpy(dense, s->pgrad + (size_t)(i - s->F) * s->K * s->D, (size_t)s->K * s->D * sizeof(float));
}

const emb_method emb_method_mlet = {
    .api_version = EMB_API_VERSION,
    .name = "mlet",
    .desc = "multi-layer embedding training: wide n x k table times k x d projection, collapsed after training",
    .cite = "Ghaemmaghami et al., Training with Multi-Layer Embeddings for Model Reduction, arXiv 2006.05623",
    .params = mlet_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = mlet_plan,
    .create = mlet_create,
    .destroy = mlet_destroy,
    .forward = mlet_forward,
    .backward = mlet_backward,
    .step = mlet_step,
    .finalize = mlet_finalize,
    .bytes = mlet_bytes,
    .tensors = mlet_tensors,
    .grad = mlet_grad,
};
