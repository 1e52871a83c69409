/* qr.c: the quotient-remainder trick (Shi, Mudigere, Naumov, Yang,
 * "Compositional Embeddings Using Complementary Partitions for Memory-Efficient
 * Recommendation Systems", KDD 2020, arXiv 1909.02107), with the semantics of the
 * reference facebookresearch/dlrm tricks/qr_embedding_bag.py (QREmbeddingBag) and
 * its driver (dlrm_s_pytorch.py create_emb).
 *
 * Follows the reference exactly:
 *   - id i of a field with n rows and c collisions reads Q[i / c] from a
 *     ceil(n/c)-row table and R[i mod c] from a c-row table, combined by
 *     mult (elementwise product, the default), add, or concat;
 *   - only fields with n > threshold (default 200, --qr-threshold) use QR; the
 *     others are plain tables initialised U(+-sqrt(1/n));
 *   - a fixed `collisions` value is used for every QR field (--qr-collisions);
 *   - init "dlrm" reproduces the reference's positional-argument quirk:
 *     nn.init.uniform_(w, sqrt(1/n)) sets the LOWER bound, so both tables are
 *     drawn from U(sqrt(1/n), 1), all positive (n = the field's cardinality).
 * Our choices [R]:
 *   - the quotient uses integer division (the reference divides in float, which
 *     rounds wrongly above 2^24);
 *   - concat keeps the output width d: Q has ceil(d/2) columns, R floor(d/2)
 *     (the reference outputs d_q + d_r and widens the bottom MLP instead);
 *   - init "uniform" (default) is the presumably intended U(+-sqrt(1/n)) for both
 *     tables: on the default synthetic data the quirk cost 0.015-0.035 test AUC
 *     for every operation at 4x and 16x (methods/README-baselines.md); init
 *     "matched" draws both mult tables U(+-(3/n)^(1/4)) so that the product has
 *     variance 1/(3n), that of a DLRM full row (as tt.c's init; = uniform for
 *     add and concat);
 *   - collisions "auto" (default) are derived from the ratio per field: for a
 *     common big-field factor s, c_f is the smallest c (binary search on
 *     [1, c*], c* minimising the field's bytes) whose table pair fits n_f*d/s
 *     floats; s is bisected so that the total hits the requested ratio.
 * Bytes per QR field: 4 * (ceil(n/c) * d_q + c * d_r); inference = parameters.
 */
#include <math.h>

#include "methods/common/baseline.h"

enum { OP_MULT, OP_ADD, OP_CONCAT, OP_KINDS };
static const char *const qr_ops[] = {[OP_MULT] = "mult", [OP_ADD] = "add", [OP_CONCAT] = "concat", [OP_KINDS] = NULL};
enum { INIT_UNIFORM, INIT_DLRM, INIT_MATCHED, INIT_KINDS };
static const char *const qr_inits[] = {[INIT_UNIFORM] = "uniform", [INIT_DLRM] = "dlrm", [INIT_MATCHED] = "matched",
                                       [INIT_KINDS] = NULL};

enum { P_COLL, P_OP, P_THRESHOLD, P_INIT, P_COUNT };
static const emb_param_desc qr_params[] = {
    [P_COLL] = {.name = "collisions", .type = EMB_P_INT, .min = 1, .max = 1e12, .def = EMB_AUTO, .auto_ok = 1,
                .help = "ids per quotient row c (auto: per field from the ratio)"},
    [P_OP] = {.name = "operation", .type = EMB_P_ENUM, .def = OP_MULT, .choices = qr_ops,
              .help = "combine Q and R rows: mult (DLRM default), add, concat (d/2 each)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed (DLRM --qr-threshold)"},
    [P_INIT] = {.name = "init", .type = EMB_P_ENUM, .def = INIT_UNIFORM, .choices = qr_inits,
                .help = "uniform: U(+-sqrt(1/n)); dlrm: U(sqrt(1/n),1), the reference's quirk; matched: mult "
                        "product variance 1/(3n)"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(qr_params, P_COUNT);

typedef struct qr_state {
    int32_t    F, D, wq, wr;
    int        op;
    int64_t   *c;       /* (F) collisions; 0 = field kept as a full table in tq */
    emb_table *tq, *tr; /* (F) quotient (or full) tables; remainder tables */
    opt_cfg    opt;
    emb_spec   spec;    /* kept for qr_account */
} qr_state;

static void qr_widths(const emb_spec *spec, int32_t *wq, int32_t *wr) {
    int op = (int)spec->pv[P_OP];
    *wq = op == OP_CONCAT ? (spec->dim + 1) / 2 : spec->dim;
    *wr = op == OP_CONCAT ? spec->dim / 2 : spec->dim;
}

/* Floats of a QR field with n rows and c collisions. */
static double qr_floats(int64_t n, int64_t c, int32_t wq, int32_t wr) {
    return (double)((n + c - 1) / c) * wq + (double)c * wr;
}

/* c* minimising qr_floats over c (the function is convex up to the ceiling). */
static int64_t qr_cstar(int64_t n, int32_t wq, int32_t wr) {
    int64_t c = (int64_t)sqrt((double)n * wq / (wr > 0 ? wr : 1));
    if (c < 1) c = 1;
    if (c > n) c = n;
    int64_t best = c;
    for (int64_t k = c - 2; k <= c + 2; k++)
        if (k >= 1 && k <= n && qr_floats(n, k, wq, wr) < qr_floats(n, best, wq, wr)) best = k;
    return best;
}

/* Smallest c in [1, c*] whose floats fit `budget` (c* when none does). */
static int64_t qr_pick_c(int64_t n, double budget, int32_t wq, int32_t wr) {
    int64_t lo = 1, hi = qr_cstar(n, wq, wr);
    if (qr_floats(n, hi, wq, wr) > budget) return hi;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (qr_floats(n, mid, wq, wr) <= budget) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Bytes of the layout c (0 = full field). */
static double qr_bytes(const emb_spec *spec, const int64_t *c) {
    int32_t wq, wr;
    qr_widths(spec, &wq, &wr);
    double floats = 0;
    for (int32_t f = 0; f < spec->n_fields; f++)
        floats += c[f] ? qr_floats(spec->card[f], c[f], wq, wr) : (double)spec->card[f] * spec->dim;
    return 4.0 * floats;
}

/* Collisions per field for big-field factor s (or the fixed value); returns bytes. */
static double qr_assign(const emb_spec *spec, double s, int64_t *c) {
    int32_t wq, wr;
    qr_widths(spec, &wq, &wr);
    int64_t threshold = (int64_t)spec->pv[P_THRESHOLD];
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (n <= threshold) c[f] = 0;
        else if (spec->pv[P_COLL] != EMB_AUTO) c[f] = (int64_t)spec->pv[P_COLL] < n ? (int64_t)spec->pv[P_COLL] : n;
        else c[f] = qr_pick_c(n, (double)n * spec->dim / s, wq, wr);
    }
    return qr_bytes(spec, c);
}

static double qr_bytes_at(const emb_spec *spec, double s, void *c) { return qr_assign(spec, s, c); }

/* qr_layout: collisions per field, identical in plan and create. */
static hx_status qr_layout(const emb_spec *spec, int64_t *c, char *err, size_t errlen) {
    double full = emb_full_bytes(spec);
    if ((int)spec->pv[P_OP] == OP_CONCAT && spec->dim < 2)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "qr: operation concat splits dim between Q and R, so it needs dim >= 2 (got %d)", spec->dim);
    if (spec->pv[P_COLL] == EMB_AUTO) bl_bisect_factor(spec, -1, qr_bytes_at, c); /* s < 1 allows c = 1 */
    else qr_assign(spec, 1, c);
    double got = full / qr_bytes(spec, c);
    if (emb_plan_within(spec->ratio, got)) return HX_OK;
    if (spec->pv[P_COLL] != EMB_AUTO)
        return emb_plan_fixed_unreachable(spec, "qr", "collisions", spec->pv[P_COLL], got, err, errlen);
    double top = full / qr_assign(spec, 1e300, c); /* every QR field at c* */
    return emb_plan_unreachable(spec, "qr", 1, top, err, errlen);
}

/* The accounting of plan() and bytes() for collisions c: per field Q (n/c rows,
 * or the full table) and R (c rows); the index is arithmetic. */
static void qr_account(const emb_spec *spec, const int64_t *c, emb_bytes *out) {
    int32_t wq, wr;
    qr_widths(spec, &wq, &wr);
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (!c[f]) {
            bl_table_predict_add(spec, n, spec->dim, out);
            continue;
        }
        bl_table_predict_add(spec, (n + c[f] - 1) / c[f], wq, out);
        bl_table_predict_add(spec, c[f], wr, out);
    }
    snprintf(out->index_desc, sizeof out->index_desc, "none (i / c, i mod c)");
}

static hx_status qr_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t *c = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    if (!c) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = qr_layout(spec, c, err, errlen);
    if (rc == HX_OK) {
        qr_account(spec, c, &out->bytes);
        int nqr = 0;
        int64_t cmin = INT64_MAX, cmax = 0;
        for (int32_t f = 0; f < spec->n_fields; f++) {
            if (!c[f]) continue;
            nqr++;
            if (c[f] < cmin) cmin = c[f];
            if (c[f] > cmax) cmax = c[f];
        }
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        if (nqr) snprintf(out->knobs, sizeof out->knobs, "%d of %d fields QR (%s), collisions %lld..%lld", nqr,
                          spec->n_fields, qr_ops[(int)spec->pv[P_OP]], (long long)cmin, (long long)cmax);
        else snprintf(out->knobs, sizeof out->knobs, "no field above the threshold");
    }
    hx_free(c);
    return rc;
}

static void qr_destroy(void *state) {
    qr_state *s = state;
    if (!s) return;
    for (int32_t f = 0; f < s->F && s->tq; f++) {
        emb_table_free(&s->tq[f]);
        emb_table_free(&s->tr[f]);
    }
    hx_free(s->tq);
    hx_free(s->tr);
    hx_free(s->c);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status qr_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    qr_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = HX_OK;
    s->F = spec->n_fields;
    s->D = spec->dim;
    s->op = (int)spec->pv[P_OP];
    s->opt = spec->opt;
    qr_widths(spec, &s->wq, &s->wr);
    s->c = hx_calloc((size_t)s->F, sizeof(int64_t));
    s->tq = hx_calloc((size_t)s->F, sizeof(emb_table));
    s->tr = hx_calloc((size_t)s->F, sizeof(emb_table));
    if (!s->c || !s->tq || !s->tr) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = qr_layout(spec, s->c, err, errlen)) != HX_OK || (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    for (int32_t f = 0; f < s->F; f++) {
        int64_t n = spec->card[f], c = s->c[f];
        float a = sqrtf(1.0f / (float)n);
        int quirk = (int)spec->pv[P_INIT] == INIT_DLRM;
        float lo = quirk ? a : -a, hi = quirk ? 1.0f : a;
        if ((int)spec->pv[P_INIT] == INIT_MATCHED && s->op == OP_MULT) hi = powf(3.0f / (float)n, 0.25f), lo = -hi;
        if (!c) {
            if ((rc = bl_full_table(&s->tq[f], spec, n, &rng, err, errlen)) != HX_OK) goto fail;
            continue;
        }
        int64_t nq = (n + c - 1) / c;
        if ((rc = emb_table_init(&s->tq[f], nq, s->wq, bl_cap(spec, nq), s->opt.kind, err, errlen)) != HX_OK ||
            (rc = emb_table_init(&s->tr[f], c, s->wr, bl_cap(spec, c), s->opt.kind, err, errlen)) != HX_OK)
            goto fail;
        emb_table_fill_uniform(&s->tq[f], &rng, lo, hi);
        emb_table_fill_uniform(&s->tr[f], &rng, lo, hi);
    }
    *state = s;
    return HX_OK;
fail:
    qr_destroy(s);
    return rc;
}

/* qr_combine_forward: e (D) from q (wq) and r (wr) rows. */
static void qr_combine_forward(int op, const float *q, const float *r, int32_t wq, int32_t wr, float *e) {
    if (op == OP_MULT)
        for (int32_t j = 0; j < wq; j++) e[j] = q[j] * r[j];
    else if (op == OP_ADD)
        for (int32_t j = 0; j < wq; j++) e[j] = q[j] + r[j];
    else {
        memcpy(e, q, (size_t)wq * sizeof(float));
        memcpy(e + wq, r, (size_t)wr * sizeof(float));
    }
}

/* The quotient row (the big one) that entry k of idx (B, F) reads, for the prefetch. */
static const float *qr_quot_row(const qr_state *s, const int64_t *idx, int64_t k) {
    const int32_t f = (int32_t)(k % s->F);
    const int64_t c = s->c[f];
    return emb_table_row(&s->tq[f], c ? idx[k] / c : idx[k]);
}

static void qr_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    qr_state *s = state;
    const int32_t ahead = s->tq[0].ahead;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < s->F; f++) {
            const int64_t k = b * s->F + f + ahead;
            if (ahead && k < B * s->F) emb_prefetch(qr_quot_row(s, idx, k), (size_t)s->wq, 0);
            int64_t i = idx[b * s->F + f], c = s->c[f];
            float *e = out + ((size_t)b * s->F + f) * s->D;
            if (!c) memcpy(e, emb_table_row(&s->tq[f], i), (size_t)s->D * sizeof(float));
            else qr_combine_forward(s->op, emb_table_row(&s->tq[f], i / c), emb_table_row(&s->tr[f], i % c),
                                    s->wq, s->wr, e);
        }
}

static void qr_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    qr_state *s = state;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < s->F; f++) {
            int64_t i = idx[b * s->F + f], c = s->c[f];
            const float *g = dout + ((size_t)b * s->F + f) * s->D;
            if (!c) {
                float *gq = emb_table_grad_row(&s->tq[f], i);
                for (int32_t j = 0; j < s->D; j++) gq[j] += g[j];
                continue;
            }
            const float *q = emb_table_row(&s->tq[f], i / c), *r = emb_table_row(&s->tr[f], i % c);
            float *gq = emb_table_grad_row(&s->tq[f], i / c), *gr = emb_table_grad_row(&s->tr[f], i % c);
            if (s->op == OP_MULT)
                for (int32_t j = 0; j < s->D; j++) {
                    gq[j] += g[j] * r[j];
                    gr[j] += g[j] * q[j];
                }
            else if (s->op == OP_ADD)
                for (int32_t j = 0; j < s->D; j++) {
                    gq[j] += g[j];
                    gr[j] += g[j];
                }
            else {
                for (int32_t j = 0; j < s->wq; j++) gq[j] += g[j];
                for (int32_t j = 0; j < s->wr; j++) gr[j] += g[s->wq + j];
            }
        }
}

static void qr_step(void *state, int64_t t) {
    qr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        emb_table_step(&s->tq[f], &s->opt, t);
        if (s->c[f]) emb_table_step(&s->tr[f], &s->opt, t);
    }
}

static void qr_bytes_fn(const void *state, emb_bytes *out) {
    const qr_state *s = state;
    qr_account(&s->spec, s->c, out);
}

/* The i-th trainable table: per field Q (or the full table), then R if QR. */
static emb_table *qr_table_at(void *state, int i, const char **name) {
    qr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        if (i == 0) {
            *name = s->c[f] ? "quotient" : "table";
            return &s->tq[f];
        }
        i--;
        if (!s->c[f]) continue;
        if (i == 0) {
            *name = "remainder";
            return &s->tr[f];
        }
        i--;
    }
    return NULL;
}

EMB_TABLES_TENSORS(qr, qr_table_at)

const emb_method emb_method_qr = {
    .api_version = EMB_API_VERSION,
    .name = "qr",
    .desc = "quotient-remainder trick: Q[i/c] (x|+|concat) R[i mod c] per field",
    .cite = "Shi et al., Compositional Embeddings Using Complementary Partitions, KDD 2020",
    .params = qr_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = qr_plan,
    .create = qr_create,
    .destroy = qr_destroy,
    .forward = qr_forward,
    .backward = qr_backward,
    .step = qr_step,
    .bytes = qr_bytes_fn,
    .tensors = qr_tensors,
    .grad = qr_grad,
};
