/* pep.c: PEP, learnable embedding sizes by plug-in embedding pruning.
 *
 * Paper: Liu, Xu, Zhu, Jiang, Li, Jiang, "Learnable Embedding Sizes for Recommender
 * Systems", ICLR 2021. Reference code: ssui-liu/learnable-embed-sizes-for-RecSys
 * (models/pep_embedding.py, engine.py, train_criteo*.py, utils/train.py), and the
 * VLDB'24 benchmark's port, Hsword/Hetu tools/EmbeddingMemoryCompression
 * (methods/layers/pep.py, methods/scheduler/pep.py, switchinference.py). Read, not
 * copied.
 *
 * What follows the paper and the reference code:
 *   - the embedding is the soft-thresholded table v~ = sign(v) * ReLU(|v| - g(s)),
 *     g = sigmoid, with a learnable threshold s at a granularity: global (1),
 *     dimension (D), feature (one per id), field (one per field), feature_dim (one
 *     per entry), field_dim (F x D); v and s train jointly (stage 1);
 *   - default feature_dim with s initialised to -150, the reference's Criteo
 *     setting (Hetu's too); s is a dense parameter trained by the dense optimizer
 *     with L2 weight decay `s_decay` = 1e-5 (the reference's Adam weight_decay on
 *     every parameter): at -150 g(s) and its gradient are 0 in fp32, so the decay
 *     alone first moves s towards 0, about lr per step under Adam;
 *   - stage 1 ends at the first step after which the entries the threshold passes
 *     (|v| > g(s)) are no more than the target; that step's mask is kept;
 *   - stage 2 (lottery-ticket retraining, the reference's re_init = false): v is
 *     reset to the INITIAL table times the mask, the threshold is dropped (gk = 0),
 *     and v trains with the mask fixed: masked-out entries read 0 and get no
 *     gradient;
 *   - the target and the inference bytes follow Hetu's sparse storage: CSR (value
 *     and column index per kept entry, 4 B each, plus a 4 B row pointer per id) or
 *     COO (value, row and column, 4 B each) whichever is smaller; finalize builds
 *     that form and inference reads it.
 * Our choices [R]:
 *   - both stages fit in the run's steps: stage 1 lasts until the target is reached
 *     or until `stage1` x total_steps (default half the run), stage 2 takes the
 *     rest. The reference runs stage 1 to the target and then retrains a new model
 *     for a full budget; here the dense layers are the harness's and keep
 *     training across the switch (the method interface owns the embeddings only);
 *   - the mask keeps exactly the target count, the entries with the largest
 *     |v| - g(s) (ties: lower id, then lower dimension): when the threshold
 *     reaches the target this is its own mask, topped up from the entries it
 *     pruned last when one step overshoots; when stage 1 hits its step limit first
 *     (at init -150 it does, on short runs), it is magnitude pruning of the
 *     trained v under the learnt thresholds. The bytes then equal the plan exactly;
 *   - v starts from DLRM's per-field U(+-sqrt(1/N_f)) (the reference:
 *     Xavier-uniform over the whole table) and trains with the run's embedding
 *     optimizer, without weight decay, as every method here; its optimizer state is
 *     zeroed at the switch (the reference builds a new optimizer for retraining);
 *   - a row-wise dense optimizer for s is refused (s is a dense tensor).
 * Bytes: inference = 4K values + CSR 4K columns + 4(N+1) row pointers, or COO 8K
 *   (rows, columns), whichever is smaller; K = kept entries. Training = v (4ND) and
 *   s (4|s|) parameters; v's optimizer state (the run's kind) and s's (the dense
 *   kind); gradient slots of v, s's gradient and g(s) (4|s| each), the initial table kept for the
 *   rewind (4ND) and the mask (one bit per entry). The sparse form that finalize
 *   builds after training is the inference size and is not added to the training
 *   peak.
 */
#include <math.h>

#include "methods/common/table.h"
#include "pep.h"

enum { G_GLOBAL, G_DIMENSION, G_FEATURE, G_FIELD, G_FEATURE_DIM, G_FIELD_DIM, G_KINDS };
static const char *const gran_kinds[] = {[G_GLOBAL] = "global", [G_DIMENSION] = "dimension", [G_FEATURE] = "feature",
                                         [G_FIELD] = "field", [G_FEATURE_DIM] = "feature_dim",
                                         [G_FIELD_DIM] = "field_dim", [G_KINDS] = NULL};

enum { P_GRANULARITY, P_INIT, P_S_DECAY, P_STAGE1, P_COUNT };
static const emb_param_desc pep_params[] = {
    [P_GRANULARITY] = {.name = "granularity", .type = EMB_P_ENUM, .def = G_FEATURE_DIM, .choices = gran_kinds,
                       .help = "threshold s per: global|dimension|feature|field|feature_dim|field_dim"},
    [P_INIT] = {.name = "init", .type = EMB_P_FLOAT, .min = -1000, .max = 1000, .def = -150,
                .help = "initial s (threshold g(s) = sigmoid(s))"},
    [P_S_DECAY] = {.name = "s_decay", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 1e-5,
                   .help = "L2 weight decay on s (the reference's 1e-5)"},
    [P_STAGE1] = {.name = "stage1", .type = EMB_P_FLOAT, .min = 1e-9, .max = 1, .def = 0.5,
                  .help = "most of the run's steps stage 1 may take before the mask is fixed"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(pep_params, P_COUNT);

/* The sparse form: how many entries the ratio allows and how they are stored. */
typedef struct pep_form {
    int64_t K;   /* kept entries */
    int     coo; /* 1: COO, 0: CSR */
} pep_form;

static int64_t total_ids(const emb_spec *spec) {
    int64_t n = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) n += spec->card[f];
    return n;
}

static double csr_bytes(int64_t K, int64_t N) { return 8.0 * (double)K + 4.0 * ((double)N + 1); }
static double coo_bytes(int64_t K) { return 12.0 * (double)K; }
static double form_bytes(pep_form p, int64_t N) { return p.coo ? coo_bytes(p.K) : csr_bytes(p.K, N); }

static hx_status pep_form_plan(const emb_spec *spec, pep_form *out, char *err, size_t errlen) {
    const int64_t N = total_ids(spec), ND = N * spec->dim;
    const double full = emb_full_bytes(spec), T = full / spec->ratio;
    if (spec->dense_opt.kind == OPT_ROWWISE_ADAGRAD)
        return hx_error(HX_ERR_PARAM, err, errlen, "pep: s is a dense tensor: a row-wise dense optimizer is refused");
    double kc = floor((T - 4.0 * ((double)N + 1)) / 8.0), ko = floor(T / 12.0);
    pep_form p = {.K = 0, .coo = ko >= kc};
    double k = p.coo ? ko : kc;
    p.K = k > (double)ND ? ND : (int64_t)k;
    if (p.K >= 1 && !p.coo && coo_bytes(p.K) < csr_bytes(p.K, N)) p.coo = 1;
    double lo = full / csr_bytes(ND, N), hi = full / coo_bytes(1);
    if (lo > 1) lo = 1;
    if (p.K < 1 || !emb_plan_within(spec->ratio, full / form_bytes(p, N)))
        return emb_plan_unreachable(spec, "pep", lo, hi, err, errlen);
    *out = p;
    return HX_OK;
}

static size_t s_count(const emb_spec *spec, int g) {
    const size_t N = (size_t)total_ids(spec), D = (size_t)spec->dim, F = (size_t)spec->n_fields;
    switch (g) {
    case G_GLOBAL: return 1;
    case G_DIMENSION: return D;
    case G_FEATURE: return N;
    case G_FIELD: return F;
    case G_FEATURE_DIM: return N * D;
    default: return F * D;
    }
}

/* The accounting of plan() and bytes() (the file comment's Bytes). */
static void pep_account(const emb_spec *spec, pep_form p, emb_bytes *out) {
    const uint64_t N = (uint64_t)total_ids(spec), ND = N * (uint64_t)spec->dim;
    const uint64_t ns = s_count(spec, (int)spec->pv[P_GRANULARITY]);
    emb_bytes v = {0};
    emb_fields_predict_add(spec, spec->card, &v);
    memset(out, 0, sizeof *out);
    out->infer_params = 4ull * (uint64_t)p.K;
    out->infer_index = p.coo ? 8ull * (uint64_t)p.K : 4ull * (uint64_t)p.K + 4ull * (N + 1);
    out->train_params = v.train_params + 4ull * ns;
    out->train_optim = v.train_optim + 4ull * opt_state_floats(spec->dense_opt.kind, ns);
    out->train_other = v.train_other + 8ull * ns + 4ull * ND + 8ull * ((ND + 63) / 64);
    snprintf(out->index_desc, sizeof out->index_desc, p.coo ? "coo, int32 rows and columns" : "csr, int32 columns");
}

static hx_status pep_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    pep_form p;
    hx_status rc = pep_form_plan(spec, &p, err, errlen);
    if (rc != HX_OK) return rc;
    pep_account(spec, p, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    double ND = (double)total_ids(spec) * spec->dim;
    snprintf(out->knobs, sizeof out->knobs, "keep %lld of %.0f entries (%.4g%%) as %s; s per %s, init %g",
             (long long)p.K, ND, 100.0 * (double)p.K / ND, p.coo ? "coo" : "csr",
             gran_kinds[(int)spec->pv[P_GRANULARITY]], spec->pv[P_INIT]);
    return HX_OK;
}

typedef struct pep_state {
    emb_fields fs;        /* v: one N_f x D table per field */
    emb_spec   spec;      /* kept for pep_account */
    pep_form   form;
    int        gran, stage, final;
    int64_t    N, stage1_end, nnz_switch;
    int64_t   *off;       /* (F + 1) global id of (f, 0) */
    float     *s, *gs, *s_state; /* (ns) thresholds, their gradient, dense optimizer state */
    float     *gv;        /* (ns) g(s) = sigmoid(s), refreshed after each s update */
    size_t     ns;
    float      s_decay;
    float     *v0;        /* (N, D) the initial table */
    uint64_t  *mask;      /* (ceil(N D / 64)) kept entries, stage 2 */
    /* the sparse form after finalize */
    float     *val;
    uint32_t  *col, *row; /* (K); row: COO only */
    uint32_t  *ptr;       /* (N + 1): CSR only */
} pep_state;
EMB_FIELDS_FIRST(pep_state);

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static void pep_refresh_g(pep_state *st) {
    for (size_t k = 0; k < st->ns; k++) st->gv[k] = sigmoidf(st->s[k]);
}

static void pep_destroy(void *state) {
    pep_state *st = state;
    if (!st) return;
    emb_fields_free(&st->fs);
    emb_spec_kept_free(&st->spec);
    hx_free(st->off);
    hx_free(st->s);
    hx_free(st->gs);
    hx_free(st->s_state);
    hx_free(st->gv);
    hx_free(st->v0);
    hx_free(st->mask);
    hx_free(st->val);
    hx_free(st->col);
    hx_free(st->row);
    hx_free(st->ptr);
    hx_free(st);
}

static hx_status pep_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    pep_form p;
    hx_status rc = pep_form_plan(spec, &p, err, errlen);
    if (rc != HX_OK) return rc;
    pep_state *st = hx_calloc(1, sizeof *st);
    if (!st) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    const int32_t F = spec->n_fields, D = spec->dim;
    st->form = p;
    st->gran = (int)spec->pv[P_GRANULARITY];
    st->stage = 1;
    st->nnz_switch = -1;
    st->N = total_ids(spec);
    st->ns = s_count(spec, st->gran);
    st->s_decay = (float)spec->pv[P_S_DECAY];
    int64_t end = (int64_t)ceil(spec->pv[P_STAGE1] * (double)spec->total_steps - 1e-9);
    st->stage1_end = end < 1 ? 1 : end;
    const size_t ND = (size_t)st->N * (size_t)D;
    st->off = hx_calloc((size_t)F + 1, sizeof(int64_t));
    st->s = hx_calloc(st->ns, sizeof(float));
    st->gs = hx_calloc(st->ns, sizeof(float));
    st->gv = hx_calloc(st->ns, sizeof(float));
    size_t sw = opt_state_floats(spec->dense_opt.kind, st->ns);
    st->s_state = sw ? hx_calloc(sw, sizeof(float)) : NULL;
    st->v0 = hx_calloc(ND, sizeof(float));
    st->mask = hx_calloc((ND + 63) / 64, sizeof(uint64_t));
    if (!st->off || !st->s || !st->gs || !st->gv || (sw && !st->s_state) || !st->v0 || !st->mask) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "pep: out of memory for %lld ids", (long long)st->N);
        goto fail;
    }
    if ((rc = emb_spec_keep(&st->spec, spec, err, errlen)) != HX_OK) goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    if ((rc = emb_fields_init(&st->fs, spec, spec->card, &rng, err, errlen)) != HX_OK) goto fail;
    for (int32_t f = 0; f < F; f++) {
        st->off[f + 1] = st->off[f] + spec->card[f];
        memcpy(st->v0 + (size_t)st->off[f] * D, st->fs.tabs[f].w, (size_t)spec->card[f] * D * sizeof(float));
    }
    for (size_t k = 0; k < st->ns; k++) st->s[k] = (float)spec->pv[P_INIT];
    pep_refresh_g(st);
    *state = st;
    return HX_OK;
fail:
    pep_destroy(st);
    return rc;
}

/* Index into s of entry j of global id g in field f. */
static size_t s_index(const pep_state *st, int32_t f, int64_t g, int32_t j) {
    const size_t D = (size_t)st->fs.D;
    switch (st->gran) {
    case G_GLOBAL: return 0;
    case G_DIMENSION: return (size_t)j;
    case G_FEATURE: return (size_t)g;
    case G_FIELD: return (size_t)f;
    case G_FEATURE_DIM: return (size_t)g * D + (size_t)j;
    default: return (size_t)f * D + (size_t)j;
    }
}

static int mask_get(const uint64_t *m, size_t e) { return (int)((m[e >> 6] >> (e & 63)) & 1); }

/* One embedding: stage 1 soft-thresholded, stage 2 masked, finalized from the
 * sparse form. */
static void pep_row(const pep_state *st, int32_t f, int64_t i, float *o) {
    const int32_t D = st->fs.D;
    const int64_t g = st->off[f] + i;
    if (st->final) {
        memset(o, 0, (size_t)D * sizeof(float));
        int64_t lo, hi;
        if (!st->form.coo) {
            lo = st->ptr[g];
            hi = st->ptr[g + 1];
        } else { /* entries sorted by row: the first with row >= g */
            int64_t a = 0, b = st->form.K;
            while (a < b) {
                int64_t mid = (a + b) / 2;
                if (st->row[mid] < (uint64_t)g) a = mid + 1;
                else b = mid;
            }
            lo = hi = a;
            while (hi < st->form.K && st->row[hi] == (uint64_t)g) hi++;
        }
        for (int64_t e = lo; e < hi; e++) o[st->col[e]] = st->val[e];
        return;
    }
    const float *v = emb_table_row(&st->fs.tabs[f], i);
    for (int32_t j = 0; j < D; j++) {
        if (st->stage == 2) {
            o[j] = mask_get(st->mask, (size_t)g * D + j) ? v[j] : 0.0f;
            continue;
        }
        float a = fabsf(v[j]) - st->gv[s_index(st, f, g, j)];
        o[j] = a > 0 ? copysignf(a, v[j]) : 0.0f;
    }
}

/* idx (B, F) -> out (B, F, D). */
static void pep_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    pep_state *st = state;
    const int32_t F = st->fs.F, D = st->fs.D;
    for (int64_t k = 0; k < B * F; k++) {
        int32_t f = (int32_t)(k % F);
        HX_ASSERT(idx[k] >= 0 && idx[k] < st->spec.card[f]);
        pep_row(st, f, idx[k], out + k * D);
    }
}

/* dout (B, F, D): dv = dout where the entry passes (stage 1: |v| > g(s); stage 2:
 * the mask), ds = -sign(v) g'(s) dout where it passes (stage 1). */
static void pep_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    pep_state *st = state;
    const int32_t F = st->fs.F, D = st->fs.D;
    HX_ASSERT(!st->final);
    for (int64_t k = 0; k < B * F; k++) {
        int32_t f = (int32_t)(k % F);
        int64_t i = idx[k], g = st->off[f] + i;
        const float *v = emb_table_row(&st->fs.tabs[f], i), *d = dout + k * D;
        float *gr = emb_table_grad_row(&st->fs.tabs[f], i);
        for (int32_t j = 0; j < D; j++) {
            if (st->stage == 2) {
                if (mask_get(st->mask, (size_t)g * D + j)) gr[j] += d[j];
                continue;
            }
            size_t si = s_index(st, f, g, j);
            float th = st->gv[si];
            if (!(fabsf(v[j]) > th)) continue;
            gr[j] += d[j];
            st->gs[si] -= copysignf(th * (1.0f - th), v[j]) * d[j];
        }
    }
}

static void pep_step(void *state, int64_t t) {
    pep_state *st = state;
    emb_fields_step(&st->fs, t);
    if (st->stage != 1) return;
    for (size_t k = 0; k < st->ns; k++) st->gs[k] += st->s_decay * st->s[k];
    opt_dense_step(&st->spec.dense_opt, st->s, st->gs, st->s_state, st->ns, t);
    pep_refresh_g(st);
}

/* Score of an entry for the mask: |v| - g(s), as an order-preserving key. */
static uint32_t entry_key(const pep_state *st, int32_t f, int64_t i, int32_t j) {
    float x = fabsf(emb_table_row(&st->fs.tabs[f], i)[j]) - st->gv[s_index(st, f, st->off[f] + i, j)];
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Entries with key > tau, and those the threshold passes (|v| > g(s)). */
static int64_t count_above(const pep_state *st, uint32_t tau) {
    int64_t n = 0;
    for (int32_t f = 0; f < st->fs.F; f++)
        for (int64_t i = 0; i < st->spec.card[f]; i++)
            for (int32_t j = 0; j < st->fs.D; j++) n += entry_key(st, f, i, j) > tau;
    return n;
}

static const uint32_t k_key_zero = 0x80000000u; /* entry_key of +0: |v| = g(s) */

/* Stage 1 -> 2: the mask of the K entries with the largest |v| - g(s), then v =
 * v0 * mask with fresh optimizer state. */
static hx_status pep_to_stage2(pep_state *st) {
    const int32_t F = st->fs.F, D = st->fs.D;
    const int64_t K = st->form.K;
    st->nnz_switch = count_above(st, k_key_zero);
    uint32_t lo = 0, hi = UINT32_MAX; /* the smallest tau with count_above(tau) <= K */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (count_above(st, mid) <= K) hi = mid;
        else lo = mid + 1;
    }
    int64_t kept = 0;
    for (int pass = 0; pass < 2; pass++) /* above tau, then ties at tau in entry order */
        for (int32_t f = 0; f < F; f++)
            for (int64_t i = 0; i < st->spec.card[f]; i++)
                for (int32_t j = 0; j < D; j++) {
                    uint32_t key = entry_key(st, f, i, j);
                    size_t e = (size_t)(st->off[f] + i) * D + j;
                    if ((pass == 0 && key > lo) || (pass == 1 && key == lo && kept < K && !mask_get(st->mask, e))) {
                        st->mask[e >> 6] |= 1ull << (e & 63);
                        kept++;
                    }
                }
    HX_ASSERT(kept == K);
    for (int32_t f = 0; f < F; f++) {
        emb_table *t = &st->fs.tabs[f];
        for (int64_t i = 0; i < t->rows; i++)
            for (int32_t j = 0; j < D; j++) {
                size_t e = (size_t)(st->off[f] + i) * D + j;
                emb_table_row(t, i)[j] = mask_get(st->mask, e) ? st->v0[e] : 0.0f;
            }
        if (t->state) memset(t->state, 0, (size_t)t->rows * t->state_w * sizeof(float));
    }
    st->stage = 2;
    return HX_OK;
}

static hx_status pep_on_step(void *state, int64_t t, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    pep_state *st = state;
    if (st->stage != 1) return HX_OK;
    if (t >= st->stage1_end || count_above(st, k_key_zero) <= st->form.K) return pep_to_stage2(st);
    return HX_OK;
}

/* The inference form: the kept entries in row order, as CSR or COO. */
static hx_status pep_finalize(void *state, char *err, size_t errlen) {
    pep_state *st = state;
    if (st->final) return HX_OK;
    if (st->stage == 1) pep_to_stage2(st);
    const int32_t F = st->fs.F, D = st->fs.D;
    const int64_t K = st->form.K;
    st->val = hx_calloc((size_t)K, sizeof(float));
    st->col = hx_calloc((size_t)K, sizeof(uint32_t));
    if (st->form.coo) st->row = hx_calloc((size_t)K, sizeof(uint32_t));
    else st->ptr = hx_calloc((size_t)st->N + 1, sizeof(uint32_t));
    if (!st->val || !st->col || (st->form.coo ? !st->row : !st->ptr))
        return hx_error(HX_ERR_NOMEM, err, errlen, "pep: out of memory for %lld kept entries", (long long)K);
    if (st->N + 1 > (int64_t)UINT32_MAX || K > (int64_t)UINT32_MAX)
        return hx_error(HX_ERR_PARAM, err, errlen, "pep: the sparse form's int32 indexes overflow");
    int64_t e = 0;
    for (int32_t f = 0; f < F; f++)
        for (int64_t i = 0; i < st->spec.card[f]; i++) {
            int64_t g = st->off[f] + i;
            if (!st->form.coo) st->ptr[g] = (uint32_t)e;
            const float *v = emb_table_row(&st->fs.tabs[f], i);
            for (int32_t j = 0; j < D; j++) {
                if (!mask_get(st->mask, (size_t)g * D + j)) continue;
                st->val[e] = v[j];
                st->col[e] = (uint32_t)j;
                if (st->form.coo) st->row[e] = (uint32_t)g;
                e++;
            }
        }
    HX_ASSERT(e == K);
    if (!st->form.coo) st->ptr[st->N] = (uint32_t)e;
    st->final = 1;
    return HX_OK;
}

static void pep_bytes(const void *state, emb_bytes *out) {
    const pep_state *st = state;
    pep_account(&st->spec, st->form, out);
}

/* ---- test hooks (pep.h) ---- */

int pep_stage(const void *state) { return ((const pep_state *)state)->stage; }

int64_t pep_kept(const void *state, int64_t *target, int64_t *nnz_at_switch) {
    const pep_state *st = state;
    *target = st->form.K;
    *nnz_at_switch = st->nnz_switch;
    if (st->stage == 1) return count_above(st, k_key_zero);
    int64_t n = 0;
    for (size_t w = 0; w < ((size_t)st->N * st->fs.D + 63) / 64; w++) n += __builtin_popcountll(st->mask[w]);
    return n;
}

int pep_mask_at(const void *state, int32_t f, int64_t i, int32_t j) {
    const pep_state *st = state;
    return mask_get(st->mask, (size_t)(st->off[f] + i) * st->fs.D + j);
}

float *pep_threshold(void *state, size_t *n) {
    pep_state *st = state;
    *n = st->ns;
    return st->s;
}

void pep_threshold_set(void *state) { pep_refresh_g(state); }

void pep_threshold_grad(void *state, float *dense) {
    const pep_state *st = state;
    memcpy(dense, st->gs, st->ns * sizeof(float));
}

float pep_initial_at(const void *state, int32_t f, int64_t i, int32_t j) {
    const pep_state *st = state;
    return st->v0[(size_t)(st->off[f] + i) * st->fs.D + j];
}

hx_status pep_switch(void *state, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    pep_state *st = state;
    return st->stage == 1 ? pep_to_stage2(st) : HX_OK;
}

const emb_method emb_method_pep = {
    .api_version = EMB_API_VERSION,
    .name = "pep",
    .desc = "learnable soft-threshold pruning, then lottery-ticket retraining of the mask; sparse CSR/COO storage",
    .cite = "Liu et al., Learnable Embedding Sizes for Recommender Systems, ICLR 2021",
    .params = pep_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = pep_plan,
    .create = pep_create,
    .destroy = pep_destroy,
    .forward = pep_forward,
    .backward = pep_backward,
    .step = pep_step,
    .on_step = pep_on_step,
    .finalize = pep_finalize,
    .bytes = pep_bytes,
    .tensors = emb_fields_state_tensors,
    .grad = emb_fields_state_grad,
};
