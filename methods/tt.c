/* tt.c: TT-Rec, tensor-train embedding tables (Yin, Acun, Wu, Liu, "TT-Rec: Tensor
 * Train Compression for Deep Learning Recommendation Model Embeddings", MLSys 2021,
 * arXiv 2101.11714; reference facebookresearch/FBTT-Embedding tt_embeddings_ops.py).
 *
 * Follows the paper / reference:
 *   - 3 cores G_k of shape r_{k-1} x p_k x q_k x r_k (r_0 = r_3 = 1), with
 *     p_1 p_2 p_3 >= N (padded rows) and q_1 q_2 q_3 = D;
 *   - row i is written in mixed radix (i_1 most significant) and its embedding is
 *     the chain product G_1[i_1] G_2[i_2] G_3[i_3] contracted over the ranks, a
 *     q_1 x q_2 x q_3 tensor flattened row-major to D;
 *   - each lookup touches one p-slice of every core, so core gradients are sparse
 *     in p: every core is an emb_table with p_k rows of r_{k-1} q_k r_k floats
 *     (coalesced per step, the sparse optimizer of spec->opt, as FBTT's fused
 *     sparse update);
 *   - small fields stay full (N <= threshold, default 200, as the DLRM tricks).
 * Our choices [R]:
 *   - backward reuses T = G_1[i_1] G_2[i_2] of each lookup from the forward
 *     (batch * F * q_1 q_2 r_2 floats, counted in train_other);
 *   - factors: p_1 = ceil(N^(1/3)), p_2 = ceil(sqrt(ceil(N/p_1))), p_3 =
 *     ceil(N/(p_1 p_2)) (FBTT's suggested_tt_shapes also rounds N up first); q is
 *     the most balanced factorisation of D into 3 ordered factors q_1<=q_2<=q_3;
 *   - one rank r per field with r_1 = min(r, p_1 q_1), r_2 = min(r, p_3 q_3) (higher
 *     ranks add nothing); `rank` auto: per field the largest r whose cores fit
 *     N*D/s floats for a common factor s bisected to hit the ratio; a field whose
 *     rank-1 cores are not smaller than its table stays full;
 *   - init "sampled Gaussian": core entries N(0, sigma^2) with
 *     sigma = (3 N r_1 r_2)^(-1/6), so each embedding entry (a sum of r_1 r_2
 *     products of three entries) has variance 1/(3N), that of DLRM's
 *     U(+-sqrt(1/N)). FBTT's default "approx-normal" (N(0,1) redrawn while |x| < 2,
 *     times (3N)^(-1/6)) is not used: it ignores the rank and its redraw loop looks
 *     inverted (a truncated normal redraws while |x| >= 2).
 * Bytes per TT field: 4 * (p_1 q_1 r_1 + p_2 r_1 q_2 r_2 + p_3 r_2 q_3).
 */
#include <math.h>

#include "tt.h"

enum { P_RANK, P_THRESHOLD, P_COUNT };
static const emb_param_desc tt_params[] = {
    [P_RANK] = {.name = "rank", .type = EMB_P_INT, .min = 1, .max = 4096, .def = EMB_AUTO, .auto_ok = 1,
                .help = "TT rank r of every compressed field (auto: per field from the ratio)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(tt_params, P_COUNT);

typedef struct tt_field {
    int32_t   rank;    /* 0: full table in core[0] */
    int64_t   p[3];
    int32_t   r1, r2;
    emb_table core[3]; /* (p_k, r_{k-1} q_k r_k) */
} tt_field;

typedef struct tt_state {
    int32_t   F, D, q[3];
    tt_field *fl;        /* (F) */
    int64_t   tlen;      /* q1 q2 max r2: floats of one lookup's T */
    int32_t   batch;
    float    *T, *dT;    /* (batch, F, tlen) T of the last forward, kept for backward; (tlen) */
    int32_t   r1max;     /* max r1 over TT fields */
    float    *g2T, *acc; /* (q2 max r2, max r1) one G2 slice transposed; (max r1) sums */
    opt_cfg   opt;
    int32_t  *rank;      /* (F) the layout: fl[f].rank */
    emb_spec  spec;      /* kept for tt_account */
} tt_state;

void tt_factor_dim(int32_t d, int32_t q[3]) {
    q[0] = 1, q[1] = 1, q[2] = d;
    for (int32_t a = 1; a * a * a <= d; a++) {
        if (d % a) continue;
        for (int32_t b = a; a * b * b <= d; b++) {
            if ((d / a) % b) continue;
            int32_t c = d / a / b;
            if (c - a < q[2] - q[0]) q[0] = a, q[1] = b, q[2] = c;
        }
    }
}

void tt_factor_rows(int64_t n, int64_t p[3]) {
    int64_t a = (int64_t)ceil(cbrt((double)n));
    while (a > 1 && (a - 1) * (a - 1) * (a - 1) >= n) a--;
    int64_t rest = (n + a - 1) / a, b = (int64_t)ceil(sqrt((double)rest));
    while (b > 1 && (b - 1) * (b - 1) >= rest) b--;
    p[0] = a, p[1] = b, p[2] = (n + a * b - 1) / (a * b);
}

static void tt_ranks(const int64_t p[3], const int32_t q[3], int32_t r, int32_t *r1, int32_t *r2) {
    *r1 = (int64_t)r < p[0] * q[0] ? r : (int32_t)(p[0] * q[0]);
    *r2 = (int64_t)r < p[2] * q[2] ? r : (int32_t)(p[2] * q[2]);
}

static double tt_floats(const int64_t p[3], const int32_t q[3], int32_t r) {
    int32_t r1, r2;
    tt_ranks(p, q, r, &r1, &r2);
    return (double)p[0] * q[0] * r1 + (double)p[1] * r1 * q[1] * r2 + (double)p[2] * r2 * q[2];
}

static int32_t tt_rmax(const int64_t p[3], const int32_t q[3]) {
    int64_t m = p[0] * q[0] > p[2] * q[2] ? p[0] * q[0] : p[2] * q[2];
    return m > 4096 ? 4096 : (int32_t)m;
}

/* Ranks per field (0 = full) for big-field factor s, or the fixed rank; returns bytes. */
static double tt_assign(const emb_spec *spec, double s, int32_t *rank) {
    int32_t q[3];
    tt_factor_dim(spec->dim, q);
    double floats = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f], p[3];
        tt_factor_rows(n, p);
        double full = (double)n * spec->dim;
        rank[f] = 0;
        if (n > (int64_t)spec->pv[P_THRESHOLD] && tt_floats(p, q, 1) < full) {
            if (spec->pv[P_RANK] != EMB_AUTO) rank[f] = (int32_t)spec->pv[P_RANK];
            else {
                int32_t lo = 1, hi = tt_rmax(p, q);
                while (lo < hi) { /* largest r with floats(r) <= budget */
                    int32_t mid = lo + (hi - lo + 1) / 2;
                    if (tt_floats(p, q, mid) <= full / s) lo = mid;
                    else hi = mid - 1;
                }
                rank[f] = lo;
            }
        }
        floats += rank[f] ? tt_floats(p, q, rank[f]) : full;
    }
    return 4.0 * floats;
}

static double tt_bytes_at(const emb_spec *spec, double s, void *rank) { return tt_assign(spec, s, rank); }

static hx_status tt_layout(const emb_spec *spec, int32_t *rank, char *err, size_t errlen) {
    double full = emb_full_bytes(spec), bytes;
    if (spec->pv[P_RANK] == EMB_AUTO) bytes = bl_bisect_factor(spec, 0, tt_bytes_at, rank);
    else bytes = tt_assign(spec, 1, rank);
    if (emb_plan_within(spec->ratio, full / bytes)) return HX_OK;
    if (spec->pv[P_RANK] != EMB_AUTO)
        return emb_plan_fixed_unreachable(spec, "tt", "rank", spec->pv[P_RANK], full / bytes, err, errlen);
    double top = full / tt_assign(spec, 1e300, rank); /* every TT field at rank 1 */
    return emb_plan_unreachable(spec, "tt", 1, top, err, errlen);
}

/* Bytes of the forward cache of T plus the backward's scratch (dT, a transposed
 * G2 slice, r1 sums); none without TT fields. */
static uint64_t tt_cache_bytes(int32_t batch, int32_t F, int64_t tlen, int32_t q2, int32_t r1max, int32_t r2max) {
    if (!tlen) return 0;
    return 4ull * ((uint64_t)batch * (uint64_t)F * (uint64_t)tlen + (uint64_t)tlen +
                   (uint64_t)q2 * (uint64_t)r2max * (uint64_t)r1max + (uint64_t)r1max);
}

/* The accounting of plan() and bytes() for ranks (0 = full field): per TT field
 * its three cores (p_k rows of r_{k-1} q_k r_k), plus the forward's T cache. */
static void tt_account(const emb_spec *spec, const int32_t *rank, emb_bytes *out) {
    int32_t q[3], r2max = 0, r1max = 0;
    tt_factor_dim(spec->dim, q);
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        if (!rank[f]) {
            bl_table_predict_add(spec, spec->card[f], spec->dim, out);
            continue;
        }
        int64_t p[3];
        int32_t r[4] = {1, 0, 0, 1};
        tt_factor_rows(spec->card[f], p);
        tt_ranks(p, q, rank[f], &r[1], &r[2]);
        for (int k = 0; k < 3; k++) bl_table_predict_add(spec, p[k], r[k] * q[k] * r[k + 1], out);
        r2max = r[2] > r2max ? r[2] : r2max;
        r1max = r[1] > r1max ? r[1] : r1max;
    }
    out->train_other += tt_cache_bytes(spec->batch, spec->n_fields, (int64_t)q[0] * q[1] * r2max, q[1], r1max, r2max);
    snprintf(out->index_desc, sizeof out->index_desc, "none (mixed-radix row index)");
}

static hx_status tt_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int32_t *rank = hx_calloc((size_t)spec->n_fields, sizeof(int32_t)), q[3];
    if (!rank) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = tt_layout(spec, rank, err, errlen);
    tt_factor_dim(spec->dim, q);
    if (rc == HX_OK) {
        tt_account(spec, rank, &out->bytes);
        int ntt = 0;
        int32_t rmin = INT32_MAX, rmaxv = 0;
        for (int32_t f = 0; f < spec->n_fields; f++) {
            if (!rank[f]) continue;
            ntt++;
            rmin = rank[f] < rmin ? rank[f] : rmin;
            rmaxv = rank[f] > rmaxv ? rank[f] : rmaxv;
        }
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        if (ntt) snprintf(out->knobs, sizeof out->knobs, "%d of %d fields TT, q=%dx%dx%d, ranks %d..%d", ntt,
                          spec->n_fields, q[0], q[1], q[2], rmin, rmaxv);
        else snprintf(out->knobs, sizeof out->knobs, "no field compressible");
    }
    hx_free(rank);
    return rc;
}

static void tt_destroy(void *state) {
    tt_state *s = state;
    if (!s) return;
    for (int32_t f = 0; s->fl && f < s->F; f++)
        for (int k = 0; k < 3; k++) emb_table_free(&s->fl[f].core[k]);
    hx_free(s->fl);
    hx_free(s->T);
    hx_free(s->dT);
    hx_free(s->g2T);
    hx_free(s->acc);
    hx_free(s->rank);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status tt_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    tt_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc;
    int32_t *rank = s->rank = hx_calloc((size_t)spec->n_fields, sizeof(int32_t));
    s->F = spec->n_fields;
    s->D = spec->dim;
    s->opt = spec->opt;
    tt_factor_dim(s->D, s->q);
    s->fl = hx_calloc((size_t)s->F, sizeof(tt_field));
    if (!rank || !s->fl) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = tt_layout(spec, rank, err, errlen)) != HX_OK || (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    int32_t rmax = 0;
    for (int32_t f = 0; f < s->F; f++) {
        tt_field *t = &s->fl[f];
        int64_t n = spec->card[f];
        t->rank = rank[f];
        if (!t->rank) {
            if ((rc = bl_full_table(&t->core[0], spec, n, &rng, err, errlen)) != HX_OK) goto fail;
            continue;
        }
        tt_factor_rows(n, t->p);
        tt_ranks(t->p, s->q, t->rank, &t->r1, &t->r2);
        rmax = t->r2 > rmax ? t->r2 : rmax;
        s->r1max = t->r1 > s->r1max ? t->r1 : s->r1max;
        int32_t r[4] = {1, t->r1, t->r2, 1};
        double sigma = pow(3.0 * (double)n * t->r1 * t->r2, -1.0 / 6.0);
        for (int k = 0; k < 3; k++) {
            emb_table *c = &t->core[k];
            if ((rc = emb_table_init(c, t->p[k], r[k] * s->q[k] * r[k + 1], bl_cap(spec, t->p[k]), s->opt.kind, err,
                                     errlen)) != HX_OK)
                goto fail;
            for (size_t j = 0; j < (size_t)c->rows * (size_t)c->width; j++)
                c->w[j] = (float)(sigma * hx_rng_normal(&rng));
        }
    }
    s->batch = spec->batch;
    s->tlen = (int64_t)s->q[0] * s->q[1] * rmax;
    s->T = hx_calloc((size_t)spec->batch * (size_t)s->F * (size_t)(s->tlen ? s->tlen : 1), sizeof(float));
    s->dT = hx_calloc((size_t)(s->tlen ? s->tlen : 1), sizeof(float));
    s->g2T = hx_calloc((size_t)s->q[1] * (size_t)rmax * (size_t)s->r1max + 1, sizeof(float));
    s->acc = hx_calloc((size_t)s->r1max + 1, sizeof(float));
    if (!s->T || !s->dT || !s->g2T || !s->acc) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    *state = s;
    return HX_OK;
fail:
    tt_destroy(s);
    return rc;
}

/* Slices of row i in the three cores. */
static void tt_digits(const tt_field *t, int64_t i, int64_t d[3]) {
    d[0] = i / (t->p[1] * t->p[2]);
    d[1] = (i / t->p[2]) % t->p[1];
    d[2] = i % t->p[2];
}

/* tt_contract12: T (q1, q2, r2) = G1[i1] (q1, r1) . G2[i2] (r1, q2, r2). */
static void tt_contract12(const tt_state *s, const tt_field *t, const float *g1, const float *g2, float *T) {
    const int32_t q1 = s->q[0], r1 = t->r1, w2 = s->q[1] * t->r2;
    memset(T, 0, (size_t)q1 * w2 * sizeof(float));
    for (int32_t a = 0; a < q1; a++)
        for (int32_t k = 0; k < r1; k++) {
            float x = g1[a * r1 + k];
            const float *row = g2 + (size_t)k * w2;
            float *Ta = T + (size_t)a * w2;
            for (int32_t m = 0; m < w2; m++) Ta[m] += x * row[m];
        }
}

/* tt_row_forward: e (q1, q2, q3) = T (q1, q2, r2) . G3[i3] (r2, q3). */
static void tt_row_forward(const tt_state *s, const tt_field *t, const float *g1, const float *g2, const float *g3,
                           float *T, float *e) {
    const int32_t q3 = s->q[2], r2 = t->r2;
    tt_contract12(s, t, g1, g2, T);
    for (int32_t ab = 0; ab < s->q[0] * s->q[1]; ab++) {
        float *ev = e + (size_t)ab * q3;
        const float *Tv = T + (size_t)ab * r2;
        for (int32_t c = 0; c < q3; c++) ev[c] = 0;
        for (int32_t k = 0; k < r2; k++)
            for (int32_t c = 0; c < q3; c++) ev[c] += Tv[k] * g3[k * q3 + c];
    }
}

static void tt_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    tt_state *s = state;
    HX_ASSERT(B <= s->batch); /* the T cache holds spec->batch rows */
    for (int64_t k = 0; k < B * s->F; k++) {
        const tt_field *t = &s->fl[k % s->F];
        float *e = out + (size_t)k * s->D;
        if (!t->rank) {
            memcpy(e, emb_table_row(&t->core[0], idx[k]), (size_t)s->D * sizeof(float));
            continue;
        }
        int64_t d[3];
        tt_digits(t, idx[k], d);
        tt_row_forward(s, t, emb_table_row(&t->core[0], d[0]), emb_table_row(&t->core[1], d[1]),
                       emb_table_row(&t->core[2], d[2]), s->T + (size_t)k * s->tlen, e);
    }
}

/* Backward of one row, given its upstream gradient ge (q1, q2, q3):
 *   dG3 (r2, q3) += T^T ge;   dT (q1, q2, r2) = ge . G3^T;
 *   dG1 (q1, r1) += dT . G2^T;   dG2 (r1, q2, r2) += G1^T dT. */
static void tt_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    tt_state *s = state;
    const int32_t q1 = s->q[0], q2 = s->q[1], q3 = s->q[2];
    for (int64_t k = 0; k < B * s->F; k++) {
        tt_field *t = &s->fl[k % s->F];
        const float *ge = dout + (size_t)k * s->D;
        if (!t->rank) {
            float *g = emb_table_grad_row(&t->core[0], idx[k]);
            for (int32_t j = 0; j < s->D; j++) g[j] += ge[j];
            continue;
        }
        const int32_t r1 = t->r1, r2 = t->r2, w2 = q2 * r2;
        int64_t d[3];
        tt_digits(t, idx[k], d);
        const float *g1 = emb_table_row(&t->core[0], d[0]), *g2 = emb_table_row(&t->core[1], d[1]),
                    *g3 = emb_table_row(&t->core[2], d[2]);
        const float *T = s->T + (size_t)k * s->tlen; /* from the forward */
        float *dT = s->dT;
        float *d3 = emb_table_grad_row(&t->core[2], d[2]);
        for (int32_t ab = 0; ab < q1 * q2; ab++) {
            const float *gv = ge + (size_t)ab * q3, *Tv = T + (size_t)ab * r2;
            float *dTv = dT + (size_t)ab * r2;
            for (int32_t j = 0; j < r2; j++) {
                float acc = 0;
                for (int32_t c = 0; c < q3; c++) {
                    d3[j * q3 + c] += Tv[j] * gv[c];
                    acc += gv[c] * g3[j * q3 + c];
                }
                dTv[j] = acc;
            }
        }
        float *d1 = emb_table_grad_row(&t->core[0], d[0]), *d2 = emb_table_grad_row(&t->core[1], d[1]);
        /* g2T (w2, r1) = G2[i2]^T, so that dG1's sums over m run as a vector over j,
         * each still adding its m terms in order (the same bits as a dot per j) */
        float *g2T = s->g2T, *acc = s->acc;
        for (int32_t m = 0; m < w2; m++)
            for (int32_t j = 0; j < r1; j++) g2T[(size_t)m * r1 + j] = g2[(size_t)j * w2 + m];
        for (int32_t a = 0; a < q1; a++) {
            const float *dTa = dT + (size_t)a * w2;
            for (int32_t j = 0; j < r1; j++) {
                float *drow = d2 + (size_t)j * w2, x = g1[a * r1 + j];
                for (int32_t m = 0; m < w2; m++) drow[m] += x * dTa[m];
            }
            for (int32_t j = 0; j < r1; j++) acc[j] = 0;
            for (int32_t m = 0; m < w2; m++) {
                const float y = dTa[m], *gt = g2T + (size_t)m * r1;
                for (int32_t j = 0; j < r1; j++) acc[j] += y * gt[j];
            }
            for (int32_t j = 0; j < r1; j++) d1[a * r1 + j] += acc[j];
        }
    }
}

static void tt_step(void *state, int64_t t) {
    tt_state *s = state;
    for (int32_t f = 0; f < s->F; f++)
        for (int k = 0; k < (s->fl[f].rank ? 3 : 1); k++) emb_table_step(&s->fl[f].core[k], &s->opt, t);
}

static void tt_bytes(const void *state, emb_bytes *out) {
    const tt_state *s = state;
    tt_account(&s->spec, s->rank, out);
}

/* Tensor i: per field its full table, or its three cores. */
static emb_table *tt_table_at(void *state, int i, const char **name) {
    tt_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        int nk = s->fl[f].rank ? 3 : 1;
        if (i < nk) {
            *name = nk == 3 ? "core" : "table";
            return &s->fl[f].core[i];
        }
        i -= nk;
    }
    return NULL;
}

EMB_TABLES_TENSORS(tt, tt_table_at)

const emb_method emb_method_tt = {
    .api_version = EMB_API_VERSION,
    .name = "tt",
    .desc = "TT-Rec: 3 tensor-train cores per field, rank from the ratio",
    .cite = "Yin et al., TT-Rec: Tensor Train Compression for DLRM Embeddings, MLSys 2021",
    .params = tt_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = tt_plan,
    .create = tt_create,
    .destroy = tt_destroy,
    .forward = tt_forward,
    .backward = tt_backward,
    .step = tt_step,
    .bytes = tt_bytes,
    .tensors = tt_tensors,
    .grad = tt_grad,
};
