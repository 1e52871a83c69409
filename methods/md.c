/* md.c: mixed-dimension embeddings (Ginart, Naumov, Mudigere, Yang, Zou,
 * "Mixed Dimension Embeddings with Application to Memory-Efficient Recommendation
 * Systems", arXiv 1909.11810, ISIT 2021), with the per-table semantics of the
 * reference facebookresearch/dlrm tricks/md_embedding_bag.py (md_solver,
 * PrEmbeddingBag) and its driver.
 *
 * Follows the reference:
 *   - md_solver with d0: fields sorted by N ascending, d_t = lambda * N_t^-alpha with
 *     lambda = d0 * N_min^alpha (the smallest field gets exactly d0, the base: D in
 *     the reference),
 *     rounded (half to even, as torch.round), at least 1, optionally rounded to a
 *     power of two (`round_dims`, off by default as --md-round-dims);
 *   - fields with N > threshold (default 200, --md-threshold) become a PrEmbeddingBag:
 *     an N x d_t table plus a bias-free projection d_t -> D when d_t < D; the
 *     others are plain N x D tables;
 *   - tables init U(+-sqrt(1/N)) (the driver's override), projections Xavier
 *     uniform U(+-sqrt(6/(d_t + D))).
 * Our choices [R]:
 *   - alpha "auto" (default) is found by bisection on [0, 64] so the total hits the
 *     requested ratio (as Hetu's md scheduler); plan() records it in the spec and
 *     the knobs; a fixed alpha (DLRM's --md-temperature default is 0.3) must
 *     itself land within 5% of the ratio;
 *   - base "auto": d0 = D when some alpha reaches the ratio within 5%, else the
 *     largest d0 < D that does (then every MD field is projected up to D); with
 *     few large fields, integer widths leave gaps, and the refusal names the
 *     nearest reachable ratios;
 *   - projections are dense parameters trained with spec->dense_opt.
 * Bytes per MD field: 4 * (N_t * d_t + [d_t < D] * d_t * D).
 */
#include <math.h>

#include "methods/common/baseline.h"

enum { P_ALPHA, P_THRESHOLD, P_ROUND, P_BASE, P_COUNT };
static const emb_param_desc md_params[] = {
    [P_ALPHA] = {.name = "alpha", .type = EMB_P_FLOAT, .min = 0, .max = 64, .def = EMB_AUTO, .auto_ok = 1,
                 .help = "temperature of d_t = lambda * N_t^-alpha (auto: bisection to the ratio)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows keep width D (DLRM --md-threshold)"},
    [P_ROUND] = {.name = "round_dims", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 0,
                 .help = "round each d_t to the nearest power of two (DLRM --md-round-dims)"},
    [P_BASE] = {.name = "base", .type = EMB_P_INT, .min = 1, .max = 65536, .def = EMB_AUTO, .auto_ok = 1,
                .help = "d0, the width of the smallest field (auto: D if it reaches the ratio, else the largest "
                        "d0 < D that does)"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(md_params, P_COUNT);

typedef struct md_state {
    int32_t    F, D;
    int32_t   *dt;    /* (F) table width per field */
    emb_table *tabs;  /* (F) N_f x dt[f] */
    bl_dense  *proj;  /* (F) dt[f] x D, allocated when dt[f] < D */
    opt_cfg    opt, dense_opt;
    emb_spec   spec;  /* kept for md_account */
} md_state;

/* md_solver (d0 form): widths per field for alpha and base d0; fields at or
 * under the threshold get D. */
static void md_solve(const emb_spec *spec, double alpha, int32_t d0, int32_t *dt) {
    int64_t nmin = INT64_MAX;
    for (int32_t f = 0; f < spec->n_fields; f++) nmin = spec->card[f] < nmin ? spec->card[f] : nmin;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        double d = d0;
        if (n != nmin) d = d0 * pow((double)nmin / (double)n, alpha); /* lambda * n^-alpha */
        d = nearbyint(d);
        if (d < 1) d = 1;
        if (spec->pv[P_ROUND] != 0) d = exp2(nearbyint(log2(d)));
        if (d > spec->dim) d = spec->dim;
        dt[f] = n <= (int64_t)spec->pv[P_THRESHOLD] ? spec->dim : (int32_t)d;
    }
}

static double md_bytes(const emb_spec *spec, const int32_t *dt) {
    double b = 0;
    for (int32_t f = 0; f < spec->n_fields; f++)
        b += 4.0 * ((double)spec->card[f] * dt[f] + (dt[f] < spec->dim ? (double)dt[f] * spec->dim : 0));
    return b;
}

/* md_alpha: for base d0, the alpha whose ratio is closest to the request
 * (bisection; the ratio grows with alpha), or the fixed alpha. Returns the ratio
 * and updates the nearest reachable ratios below/above the request. */
static double md_alpha(const emb_spec *spec, int32_t d0, int32_t *dt, double *alpha, double *below, double *above) {
    double full = emb_full_bytes(spec), best = spec->pv[P_ALPHA], best_err = INFINITY, lo = 0, hi = 64;
    for (int it = 0; spec->pv[P_ALPHA] == EMB_AUTO && it < 60; it++) {
        double a = 0.5 * (lo + hi);
        md_solve(spec, a, d0, dt);
        double r = full / md_bytes(spec, dt), e = fabs(log(r / spec->ratio));
        if (e < best_err) best_err = e, best = a;
        if (r < spec->ratio) lo = a, *below = r > *below ? r : *below;
        else hi = a, *above = r < *above ? r : *above;
    }
    *alpha = best;
    md_solve(spec, best, d0, dt);
    double r = full / md_bytes(spec, dt);
    if (r < spec->ratio) *below = r > *below ? r : *below;
    else *above = r < *above ? r : *above;
    return r;
}

/* md_layout: widths per field. The base d0 is D (as DLRM) unless only a smaller
 * base reaches the ratio [R]; *alpha and *d0 get the values used. */
static hx_status md_layout(const emb_spec *spec, int32_t *dt, double *alpha, int32_t *d0, char *err, size_t errlen) {
    double below = 0, above = INFINITY;
    int32_t first = spec->pv[P_BASE] == EMB_AUTO ? spec->dim : (int32_t)spec->pv[P_BASE];
    int32_t last = spec->pv[P_BASE] == EMB_AUTO ? 1 : first;
    if (first > spec->dim) return hx_error(HX_ERR_PARAM, err, errlen, "md: base %d exceeds dim %d", first, spec->dim);
    for (*d0 = first; *d0 >= last; (*d0)--)
        if (emb_plan_within(spec->ratio, md_alpha(spec, *d0, dt, alpha, &below, &above))) return HX_OK;
    int32_t *one = hx_calloc((size_t)spec->n_fields, sizeof(int32_t));
    if (!one) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    md_solve(spec, 1e9, 1, one); /* every MD field at width 1 */
    double top = emb_full_bytes(spec) / md_bytes(spec, one);
    hx_free(one);
    char near[64];
    if (isinf(above)) snprintf(near, sizeof near, "nearest %.3g (none above)", below);
    else if (below <= 0) snprintf(near, sizeof near, "nearest %.3g (none below)", above);
    else snprintf(near, sizeof near, "nearest %.3g and %.3g", below, above);
    return hx_error(HX_ERR_PARAM, err, errlen,
                    "ratio %g unreachable for md at dim %d: reachable range [1, %.3g] in integer-width steps; %s",
                    spec->ratio, spec->dim, top, near);
}

/* The accounting of plan() and bytes() for widths dt: per field its N_f x d_t
 * table and, when d_t < D, its dense d_t x D projection. */
static void md_account(const emb_spec *spec, const int32_t *dt, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        bl_table_predict_add(spec, spec->card[f], dt[f], out);
        if (dt[f] < spec->dim) bl_dense_predict_add((size_t)dt[f] * spec->dim, &spec->dense_opt, out);
    }
    snprintf(out->index_desc, sizeof out->index_desc, "none");
}

static hx_status md_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int32_t *dt = hx_calloc((size_t)spec->n_fields, sizeof(int32_t));
    if (!dt) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    double alpha;
    int32_t d0;
    hx_status rc = md_layout(spec, dt, &alpha, &d0, err, errlen);
    if (rc == HX_OK) {
        spec->pv[P_ALPHA] = alpha;
        spec->pv[P_BASE] = d0;
        md_account(spec, dt, &out->bytes);
        int32_t dmin = spec->dim;
        for (int32_t f = 0; f < spec->n_fields; f++) dmin = dt[f] < dmin ? dt[f] : dmin;
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        snprintf(out->knobs, sizeof out->knobs, "alpha=%.4g, base d0=%d, widths %d..%d", alpha, d0, dmin, spec->dim);
    }
    hx_free(dt);
    return rc;
}

static void md_destroy(void *state) {
    md_state *s = state;
    if (!s) return;
    for (int32_t f = 0; f < s->F; f++) {
        if (s->tabs) emb_table_free(&s->tabs[f]);
        if (s->proj) bl_dense_free(&s->proj[f]);
    }
    hx_free(s->tabs);
    hx_free(s->proj);
    hx_free(s->dt);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status md_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    md_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc;
    s->F = spec->n_fields;
    s->D = spec->dim;
    s->opt = spec->opt;
    s->dense_opt = spec->dense_opt;
    s->dt = hx_calloc((size_t)s->F, sizeof(int32_t));
    s->tabs = hx_calloc((size_t)s->F, sizeof(emb_table));
    s->proj = hx_calloc((size_t)s->F, sizeof(bl_dense));
    if (!s->dt || !s->tabs || !s->proj) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    double alpha;
    int32_t d0;
    if ((rc = md_layout(spec, s->dt, &alpha, &d0, err, errlen)) != HX_OK ||
        (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    for (int32_t f = 0; f < s->F; f++) {
        int64_t n = spec->card[f];
        rc = emb_table_init(&s->tabs[f], n, s->dt[f], bl_cap(spec, n), s->opt.kind, err, errlen);
        if (rc != HX_OK) goto fail;
        float a = sqrtf(1.0f / (float)n);
        emb_table_fill_uniform(&s->tabs[f], &rng, -a, a);
        if (s->dt[f] == s->D) continue;
        size_t np = (size_t)s->dt[f] * (size_t)s->D;
        if ((rc = bl_dense_init(&s->proj[f], np, &s->dense_opt, err, errlen)) != HX_OK) goto fail;
        float x = sqrtf(6.0f / (float)(s->dt[f] + s->D));
        for (size_t k = 0; k < np; k++) s->proj[f].w[k] = hx_rng_uniformf(&rng, -x, x);
    }
    *state = s;
    return HX_OK;
fail:
    md_destroy(s);
    return rc;
}

/* md_forward: e (D) = x (dt) @ P (dt, D), or e = x when dt == D. */
static void md_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    md_state *s = state;
    for (int64_t k = 0; k < B * s->F; k++) {
        int32_t f = (int32_t)(k % s->F), dt = s->dt[f];
        const float *x = emb_table_row(&s->tabs[f], idx[k]);
        float *e = out + (size_t)k * s->D;
        if (dt == s->D) {
            memcpy(e, x, (size_t)s->D * sizeof(float));
            continue;
        }
        memset(e, 0, (size_t)s->D * sizeof(float));
        for (int32_t i = 0; i < dt; i++) {
            const float *p = s->proj[f].w + (size_t)i * s->D;
            for (int32_t j = 0; j < s->D; j++) e[j] += x[i] * p[j];
        }
    }
}

/* md_backward: dx (dt) = P @ g, dP (dt, D) += x^T g. */
static void md_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    md_state *s = state;
    for (int64_t k = 0; k < B * s->F; k++) {
        int32_t f = (int32_t)(k % s->F), dt = s->dt[f];
        const float *g = dout + (size_t)k * s->D, *x = emb_table_row(&s->tabs[f], idx[k]);
        float *gx = emb_table_grad_row(&s->tabs[f], idx[k]);
        if (dt == s->D) {
            for (int32_t j = 0; j < s->D; j++) gx[j] += g[j];
            continue;
        }
        for (int32_t i = 0; i < dt; i++) {
            const float *p = s->proj[f].w + (size_t)i * s->D;
            float *gp = s->proj[f].g + (size_t)i * s->D, acc = 0;
            for (int32_t j = 0; j < s->D; j++) {
                acc += p[j] * g[j];
                gp[j] += x[i] * g[j];
            }
            gx[i] += acc;
        }
    }
}

static void md_step(void *state, int64_t t) {
    md_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        emb_table_step(&s->tabs[f], &s->opt, t);
        if (s->proj[f].n) opt_dense_step(&s->dense_opt, s->proj[f].w, s->proj[f].g, s->proj[f].state, s->proj[f].n, t);
    }
}

static void md_bytes_fn(const void *state, emb_bytes *out) {
    const md_state *s = state;
    md_account(&s->spec, s->dt, out);
}

/* Tensor i: per field its table, then its projection if any. Returns the
 * table or fills *dense for a projection. */
static emb_table *md_tensor(md_state *s, int i, bl_dense **dense) {
    *dense = NULL;
    for (int32_t f = 0; f < s->F; f++) {
        if (i-- == 0) return &s->tabs[f];
        if (!s->proj[f].n) continue;
        if (i-- == 0) {
            *dense = &s->proj[f];
            return NULL;
        }
    }
    return NULL;
}

static int md_tensors(void *state, emb_tensor *out, int max) {
    md_state *s = state;
    int n = 0;
    for (; n < max; n++) {
        bl_dense *p;
        emb_table *t = md_tensor(s, n, &p);
        if (!t && !p) break;
        out[n].name = t ? "table" : "projection";
        out[n].data = t ? t->w : p->w;
        out[n].n = t ? (size_t)t->rows * (size_t)t->width : p->n;
    }
    return n;
}

static void md_grad(void *state, int i, float *dense) {
    bl_dense *p;
    emb_table *t = md_tensor(state, i, &p);
    HX_ASSERT(t || p);
    if (t) emb_table_grad_dense(t, dense);
    else memcpy(dense, p->g, p->n * sizeof(float));
}

const emb_method emb_method_md = {
    .api_version = EMB_API_VERSION,
    .name = "md",
    .desc = "mixed-dimension: width d_t = lambda*N_t^-alpha per field, projected up to D",
    .cite = "Ginart et al., Mixed Dimension Embeddings with Application to Memory-Efficient Recommendation Systems, arXiv 1909.11810",
    .params = md_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = md_plan,
    .create = md_create,
    .destroy = md_destroy,
    .forward = md_forward,
    .backward = md_backward,
    .step = md_step,
    .bytes = md_bytes_fn,
    .tensors = md_tensors,
    .grad = md_grad,
};
