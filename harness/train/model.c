/* model.c: see model.h. Layer order and the dot interaction follow
 * facebookresearch/dlrm dlrm_s_pytorch.py (apply_mlp, interact_features);
 * our choice [R]: with no dense features the bottom MLP is skipped and the
 * interaction uses the field vectors only. */
#include "model.h"

#include <string.h>

#include "harness/core/interact.h"
#include "harness/core/loss.h"

/* The widths: whether there is a bottom MLP, its output Dx and the width Wi of
 * what the top (or deep) MLP takes, checked against the arch. */
static hx_status model_widths(model *m, const model_cfg *cfg, int32_t n_dense, char *err, size_t errlen) {
    m->has_bottom = n_dense > 0 && cfg->arch != ARCH_WDL; /* wdl: the raw dense features */
    if (cfg->n_bottom < 0 || cfg->n_bottom > RUN_MAX_LAYERS || cfg->n_top < 0 ||
        cfg->n_top > RUN_MAX_LAYERS)
        return hx_error(HX_ERR_PARAM, err, errlen, "too many MLP layers (at most %d)", RUN_MAX_LAYERS);
    if (m->has_bottom && cfg->n_bottom == 0)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "the dataset has %d dense features: the bottom MLP needs at least one layer",
                        n_dense);
    m->Dx = m->has_bottom ? cfg->bottom[cfg->n_bottom - 1] : cfg->arch == ARCH_WDL ? n_dense : 0;
    if (cfg->arch != ARCH_DLRM) {
        if (cfg->arch == ARCH_DEEPFM && m->has_bottom && m->Dx != m->D)
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "arch deepfm needs the last bottom MLP width (%d) to equal dim (%d)", m->Dx, m->D);
        m->cfg.interaction = INTERACT_CAT; /* the other archs take c = [x, e_0 .. e_{F-1}] */
        m->Wi = interact_cat_width(m->F, m->D, m->Dx);
    } else if (cfg->interaction == INTERACT_DOT) {
        if (m->has_bottom && m->Dx != m->D)
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "interaction dot needs the last bottom MLP width (%d) to equal dim (%d)",
                            m->Dx, m->D);
        if (m->F + (m->has_bottom ? 1 : 0) < 2)
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "interaction dot needs at least two vectors (fields plus bottom output)");
        m->Wi = interact_dot_width(m->F, m->D, m->Dx);
    } else {
        m->Wi = interact_cat_width(m->F, m->D, m->Dx);
    }
    return HX_OK;
}

hx_status model_create(model *m, const model_cfg *cfg, int32_t n_dense, const emb_method *method,
                       const emb_spec *spec, opt_cfg dense_opt, uint64_t seed, char *err,
                       size_t errlen) {
    memset(m, 0, sizeof *m);
    hx_status rc = HX_OK;
    m->cfg = *cfg;
    m->F = spec->n_fields;
    m->D = spec->dim;
    m->Dd = n_dense;
    m->max_batch = spec->batch;
    m->method = method;
    if ((rc = model_widths(m, cfg, n_dense, err, errlen)) != HX_OK) return rc;
    m->pool = spec->pool;
    hx_rng rng;
    hx_rng_seed(&rng, hx_splitmix64(seed ^ 0x6d6c70ULL)); /* own stream, apart from the method's */
    int w[MLP_MAX_LAYERS + 1];
    if (m->has_bottom) {
        w[0] = n_dense;
        for (int l = 0; l < cfg->n_bottom; l++) w[l + 1] = cfg->bottom[l];
        rc = mlp_create(&m->bottom, w, cfg->n_bottom, 1, m->max_batch, dense_opt, &rng, err, errlen);
        if (rc != HX_OK) goto fail;
    }
    if (cfg->arch == ARCH_DLRM) {
        w[0] = m->Wi;
        for (int l = 0; l < cfg->n_top; l++) w[l + 1] = cfg->top[l];
        w[cfg->n_top + 1] = 1;
        rc = mlp_create(&m->top, w, cfg->n_top + 1, 0, m->max_batch, dense_opt, &rng, err, errlen);
    } else {
        rc = model_arch_create(m, &rng, dense_opt, spec, err, errlen);
    }
    if (rc != HX_OK) goto fail;
    size_t B = (size_t)m->max_batch, BFD = B * (size_t)m->F * (size_t)m->D;
    /* rows of D floats on cache lines of their own where D is 16: from the heap a
     * buffer this size sat 16 bytes past a line, and each row spanned two */
    m->emb_out = hx_big_calloc(BFD, sizeof(float));
    m->demb = hx_big_calloc(BFD, sizeof(float));
    m->inter = hx_calloc(B * (size_t)m->Wi, sizeof(float));
    m->dinter = hx_calloc(B * (size_t)m->Wi, sizeof(float));
    m->dx = hx_calloc(B * (size_t)(m->Dx ? m->Dx : 1), sizeof(float));
    m->dlogits = hx_calloc(B, sizeof(float));
    m->bottom.pool = m->top.pool = m->pool;
    /* each thread's scratch starts on its own cache line, 16 floats apart */
    m->scratch_n = (interact_dot_scratch(m->F, m->D, m->Dx) + 31) & ~(size_t)15;
    m->scratch = hx_big_calloc(m->scratch_n * (size_t)hx_pool_threads(m->pool), sizeof(float));
    if (!m->emb_out || !m->demb || !m->inter || !m->dinter || !m->dx || !m->dlogits || !m->scratch) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for activations");
        goto fail;
    }
    rc = method->create(spec, &m->emb, err, errlen);
    if (rc != HX_OK) goto fail;
    return HX_OK;
fail:
    model_free(m);
    return rc;
}

void model_free(model *m) {
    if (m->method) m->method->destroy(m->emb);
    mlp_free(&m->bottom);
    mlp_free(&m->top);
    model_arch_free(m);
    hx_big_free(m->emb_out);
    hx_big_free(m->demb);
    hx_free(m->inter);
    hx_free(m->dinter);
    hx_free(m->dx);
    hx_free(m->dlogits);
    hx_big_free(m->scratch);
    memset(m, 0, sizeof *m);
}

/* The interaction over rows [lo, hi) of the batch (rows are independent). */
typedef struct inter_job {
    model       *m;
    int          backward;
} inter_job;

static void interact_range(void *arg, int64_t lo, int64_t hi, int t) {
    inter_job *j = arg;
    model *m = j->m;
    const int n = (int)(hi - lo), F = m->F, D = m->D, Dx = m->Dx;
    const size_t e0 = (size_t)lo * F * D, i0 = (size_t)lo * m->Wi, x0 = (size_t)lo * Dx;
    const float *x = m->x ? m->x + x0 : NULL;
    float *dx = m->has_bottom ? m->dx + x0 : NULL, *scratch = m->scratch + (size_t)t * m->scratch_n;
    if (!j->backward) {
        if (m->cfg.interaction == INTERACT_DOT)
            interact_dot_forward(m->inter + i0, x, m->emb_out + e0, n, F, D, Dx, scratch);
        else
            interact_cat_forward(m->inter + i0, x, m->emb_out + e0, n, F, D, Dx);
    } else if (m->cfg.interaction == INTERACT_DOT) {
        interact_dot_backward(dx, m->demb + e0, m->dinter + i0, x, m->emb_out + e0, n, F, D, Dx, scratch);
    } else {
        interact_cat_backward(dx, m->demb + e0, m->dinter + i0, n, F, D, Dx);
    }
}

/* Row pieces of the interaction: at least this many rows each. */
enum { INTER_GRAIN = 16 };

const char *const model_stage_names[MS_N] = {
    [MS_LOADER] = "loader",     [MS_BOTTOM_FWD] = "bottom_fwd", [MS_EMB_FWD] = "emb_fwd",
    [MS_INTER_FWD] = "inter_fwd", [MS_TOP_FWD] = "top_fwd",     [MS_LOSS] = "loss",
    [MS_TOP_BWD] = "top_bwd",   [MS_INTER_BWD] = "inter_bwd",   [MS_EMB_BWD] = "emb_bwd",
    [MS_BOTTOM_BWD] = "bottom_bwd", [MS_STEP] = "step"};

/* Adds the time since *t0 to stage s (when timing) and restarts the clock. */
static void stage_mark(model *m, model_stage s, double *t0) {
    if (!m->stage_s) return;
    const double t = hx_now();
    m->stage_s[s] += t - *t0;
    *t0 = t;
}

const float *model_forward(model *m, const float *dense, const int64_t *idx, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch);
    double t0 = m->stage_s ? hx_now() : 0;
    m->idx = idx;
    m->x = m->has_bottom ? mlp_forward(&m->bottom, dense, B) : m->cfg.arch == ARCH_WDL && m->Dx ? dense : NULL;
    stage_mark(m, MS_BOTTOM_FWD, &t0);
    m->method->forward(m->emb, idx, B, m->emb_out);
    stage_mark(m, MS_EMB_FWD, &t0);
    inter_job j = {m, 0};
    hx_pool_for(m->pool, B, hx_pool_chunks(m->pool, B, INTER_GRAIN), interact_range, &j);
    stage_mark(m, MS_INTER_FWD, &t0);
    m->logits = m->cfg.arch == ARCH_DLRM ? mlp_forward(&m->top, m->inter, B) : model_arch_forward(m, dense, idx, B);
    stage_mark(m, MS_TOP_FWD, &t0);
    return m->logits;
}

/* The backward; with t > 0 and a method that has backward_step, the method's
 * step(t) is done inside it (returns 1), else it is left to model_step. */
static int backward_run(model *m, const float *labels, int B, int64_t t) {
    HX_ASSERT(m->logits && m->idx);
    double t0 = m->stage_s ? hx_now() : 0;
    bce_backward(m->dlogits, m->logits, labels, B);
    if (m->cfg.arch == ARCH_DLRM) mlp_backward(&m->top, m->dlogits, m->dinter, B);
    else model_arch_backward(m, B); /* dlogits -> dinter, the gradient of c */
    stage_mark(m, MS_TOP_BWD, &t0);
    inter_job j = {m, 1};
    hx_pool_for(m->pool, B, hx_pool_chunks(m->pool, B, INTER_GRAIN), interact_range, &j);
    stage_mark(m, MS_INTER_BWD, &t0);
    const int fused = t > 0 && m->method->backward_step;
    if (fused) m->method->backward_step(m->emb, m->idx, B, m->demb, t);
    else m->method->backward(m->emb, m->idx, B, m->demb);
    stage_mark(m, MS_EMB_BWD, &t0);
    if (m->has_bottom) mlp_backward(&m->bottom, m->dx, NULL, B);
    stage_mark(m, MS_BOTTOM_BWD, &t0);
    return fused;
}

static hx_status step_run(model *m, int64_t t, int method_stepped, char *err, size_t errlen) {
    double t0 = m->stage_s ? hx_now() : 0;
    if (m->has_bottom) mlp_step(&m->bottom, t);
    mlp_step(&m->top, t);
    if (m->cfg.arch != ARCH_DLRM) model_arch_step(m, t);
    if (!method_stepped) m->method->step(m->emb, t);
    hx_status rc = m->method->on_step ? m->method->on_step(m->emb, t, err, errlen) : HX_OK;
    stage_mark(m, MS_STEP, &t0);
    return rc;
}

void model_backward(model *m, const float *labels, int B) { (void)backward_run(m, labels, B, 0); }

hx_status model_step(model *m, int64_t t, char *err, size_t errlen) { return step_run(m, t, 0, err, errlen); }

hx_status model_train_step(model *m, const float *labels, int B, int64_t t, char *err, size_t errlen) {
    HX_ASSERT(t >= 1);
    return step_run(m, t, backward_run(m, labels, B, t), err, errlen);
}

uint64_t model_dense_bytes(const model *m) {
    return 4ull * (uint64_t)(m->bottom.n_params + m->top.n_params + m->head.n_params + m->cross.n_params);
}
