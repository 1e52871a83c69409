/* model_arch.c: the parts of the dcn, deepfm and wdl archs after the concatenation
 * c = [x, e_0 .. e_{F-1}] (B, Wi) that model.c builds for them. See model.h.
 *
 *   dcn stacked   x_L = cross(c);  logit = deep(x_L)        deep: top_mlp widths, then 1
 *   dcn parallel  x_L = cross(c);  h = deep_hidden(c)        (ReLU after every layer)
 *                 logit = head([x_L, h])                     head: one linear layer to 1
 *   deepfm        logit = deep(c) + FM(c as F (+1) vectors of width D) + wide(idx)
 *   wdl           logit = deep(c) + wide(idx)
 *
 * Backward leaves the gradient of c in m->dinter; model.c takes it from there
 * into the embeddings and the bottom MLP.
 */
#include <string.h>

#include "harness/core/fm.h"
#include "harness/core/interact.h"
#include "model.h"

const char *const model_arch_names[] = {"dlrm", "dcn", "deepfm", "wdl", NULL};

/* Rows per piece of the element-wise loops. */
enum { ARCH_GRAIN = 16 };

static int fm_vectors(const model *m) { return m->F + (m->Dx ? 1 : 0); }

hx_status model_arch_create(model *m, hx_rng *rng, opt_cfg dense_opt, const emb_spec *spec, char *err,
                            size_t errlen) {
    const model_cfg *cfg = &m->cfg;
    const int parallel = cfg->arch == ARCH_DCN && cfg->structure == DCN_PARALLEL;
    const size_t B = (size_t)m->max_batch, Wc = (size_t)m->Wi;
    int w[MLP_MAX_LAYERS + 1];
    hx_status rc;
    if (cfg->arch == ARCH_DCN) {
        if (cfg->cross_layers < 1 || cfg->cross_layers > CROSS_MAX_LAYERS)
            return hx_error(HX_ERR_PARAM, err, errlen, "cross_layers must be in [1, %d]", CROSS_MAX_LAYERS);
        if (cfg->cross_rank < 0 || cfg->cross_rank >= m->Wi)
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "cross_rank %d: expected 0 (full rank) or below the cross width %d", cfg->cross_rank,
                            m->Wi);
        if (parallel && cfg->n_top < 1)
            return hx_error(HX_ERR_PARAM, err, errlen, "dcn_structure parallel needs at least one top_mlp layer");
        rc = cross_create(&m->cross, cfg->cross_layers, m->Wi, cfg->cross_rank, m->max_batch, dense_opt, rng, err,
                          errlen);
        if (rc != HX_OK) return rc;
        m->cross.pool = m->pool;
    }
    w[0] = m->Wi;
    for (int l = 0; l < cfg->n_top; l++) w[l + 1] = cfg->top[l];
    if (parallel) {
        rc = mlp_create(&m->top, w, cfg->n_top, 1, m->max_batch, dense_opt, rng, err, errlen);
        if (rc != HX_OK) return rc;
        int hw[2] = {m->Wi + cfg->top[cfg->n_top - 1], 1};
        rc = mlp_create(&m->head, hw, 1, 0, m->max_batch, dense_opt, rng, err, errlen);
        if (rc != HX_OK) return rc;
        m->head.pool = m->pool;
        m->headin = hx_calloc(B * (size_t)hw[0], sizeof(float));
        m->dheadin = hx_calloc(B * (size_t)hw[0], sizeof(float));
        m->dtmp = hx_calloc(B * Wc, sizeof(float));
        if (!m->headin || !m->dheadin || !m->dtmp) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    } else {
        w[cfg->n_top + 1] = 1;
        rc = mlp_create(&m->top, w, cfg->n_top + 1, 0, m->max_batch, dense_opt, rng, err, errlen);
        if (rc != HX_OK) return rc;
    }
    if (cfg->arch == ARCH_DCN) {
        m->xl_grad = hx_calloc(B * Wc, sizeof(float));
        if (!m->xl_grad) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    } else {
        m->has_wide = 1;
        rc = wide_create(&m->wide, spec, err, errlen);
        if (rc != HX_OK) return rc;
        m->part = hx_calloc(2 * B, sizeof(float));
        m->sum = hx_calloc(B, sizeof(float));
        if (!m->part || !m->sum) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    /* fm_backward's scratch (D floats a thread) is model.c's interaction scratch,
     * at least interact_dot_scratch(F, D, Dx) >= D floats a thread */
    HX_ASSERT(interact_dot_scratch(m->F, m->D, m->Dx) >= (size_t)m->D);
    return HX_OK;
}

void model_arch_free(model *m) {
    mlp_free(&m->head);
    cross_free(&m->cross);
    wide_free(&m->wide);
    hx_free(m->part);
    hx_free(m->sum);
    hx_free(m->xl_grad);
    hx_free(m->dtmp);
    hx_free(m->headin);
    hx_free(m->dheadin);
    m->part = m->sum = m->xl_grad = m->dtmp = m->headin = m->dheadin = NULL;
}

/* The element-wise steps over rows [lo, hi), by phase. */
typedef struct arch_job {
    model       *m;
    int          phase;
    const float *a;   /* phase-specific input */
} arch_job;

enum { PH_HEAD_IN, PH_HEAD_OUT, PH_FM, PH_FM_BACK, PH_SUM };

static void arch_range(void *arg, int64_t lo, int64_t hi, int t) {
    arch_job *j = arg;
    model *m = j->m;
    const int n = (int)(hi - lo), Wc = m->Wi, H = m->head.width[0] - Wc;
    for (int64_t r = lo; r < hi && (j->phase == PH_HEAD_IN || j->phase == PH_HEAD_OUT); r++) {
        float *hin = (j->phase == PH_HEAD_IN ? m->headin : m->dheadin) + (size_t)r * (Wc + H);
        if (j->phase == PH_HEAD_IN) { /* headin = [x_L, h] */
            memcpy(hin, j->a + (size_t)r * Wc, (size_t)Wc * sizeof(float));
            memcpy(hin + Wc, m->top.act[m->top.n_layers - 1] + (size_t)r * H, (size_t)H * sizeof(float));
        } else { /* dheadin -> the gradients of x_L (xl_grad) and of h (headin as (B, H):
                  * the head's backward is done with its input) */
            memcpy(m->xl_grad + (size_t)r * Wc, hin, (size_t)Wc * sizeof(float));
            memcpy(m->headin + (size_t)r * H, hin + Wc, (size_t)H * sizeof(float));
        }
    }
    if (j->phase == PH_FM) fm_forward(m->part + lo, m->inter + (size_t)lo * Wc, n, fm_vectors(m), m->D);
    if (j->phase == PH_FM_BACK)
        fm_backward(m->dinter + (size_t)lo * Wc, m->dlogits + lo, m->inter + (size_t)lo * Wc, n, fm_vectors(m),
                    m->D, m->scratch + (size_t)t * m->scratch_n);
}

static void arch_for(model *m, int phase, const float *a, int B) {
    arch_job j = {m, phase, a};
    hx_pool_for(m->pool, B, hx_pool_chunks(m->pool, B, ARCH_GRAIN), arch_range, &j);
}

const float *model_arch_forward(model *m, const float *dense, const int64_t *idx, int B) {
    (void)dense;
    const model_cfg *cfg = &m->cfg;
    if (cfg->arch == ARCH_DCN) {
        const float *xl = cross_forward(&m->cross, m->inter, B);
        if (cfg->structure == DCN_STACKED) return mlp_forward(&m->top, xl, B);
        mlp_forward(&m->top, m->inter, B);
        arch_for(m, PH_HEAD_IN, xl, B);
        return mlp_forward(&m->head, m->headin, B);
    }
    const float *deep = mlp_forward(&m->top, m->inter, B);
    float *fm = m->part, *wd = m->part + m->max_batch;
    wide_forward(&m->wide, idx, B, wd);
    if (cfg->arch == ARCH_DEEPFM) arch_for(m, PH_FM, NULL, B);
    for (int b = 0; b < B; b++) m->sum[b] = deep[b] + (cfg->arch == ARCH_DEEPFM ? fm[b] : 0.0f) + wd[b];
    return m->sum;
}

void model_arch_backward(model *m, int B) {
    const model_cfg *cfg = &m->cfg;
    if (cfg->arch == ARCH_DCN) {
        if (cfg->structure == DCN_STACKED) {
            mlp_backward(&m->top, m->dlogits, m->xl_grad, B);
            cross_backward(&m->cross, m->xl_grad, m->dinter, B);
            return;
        }
        mlp_backward(&m->head, m->dlogits, m->dheadin, B);
        arch_for(m, PH_HEAD_OUT, NULL, B);
        cross_backward(&m->cross, m->xl_grad, m->dinter, B);
        mlp_backward(&m->top, m->headin, m->dtmp, B);
        for (size_t i = 0; i < (size_t)B * m->Wi; i++) m->dinter[i] += m->dtmp[i];
        return;
    }
    mlp_backward(&m->top, m->dlogits, m->dinter, B);
    if (cfg->arch == ARCH_DEEPFM) arch_for(m, PH_FM_BACK, NULL, B);
    wide_backward(&m->wide, m->dlogits, B);
}

void model_arch_step(model *m, int64_t t) {
    if (m->head.n_layers) mlp_step(&m->head, t);
    if (m->cross.L) cross_step(&m->cross, t);
    if (m->has_wide) wide_step(&m->wide, t);
}

void model_scalar_account(const model_cfg *cfg, const emb_spec *spec, emb_bytes *out) {
    if (cfg->arch == ARCH_DEEPFM || cfg->arch == ARCH_WDL) wide_account(spec, out);
}

double model_scalar_full_bytes(const model_cfg *cfg, const emb_spec *spec) {
    return cfg->arch == ARCH_DEEPFM || cfg->arch == ARCH_WDL ? wide_full_bytes(spec) : 0;
}
