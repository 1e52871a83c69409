/* mlp.c: linear and ReLU layers on OpenBLAS sgemm, and the MLP object. See mlp.h.
 *
 * Initialisation follows facebookresearch/dlrm (dlrm_s_pytorch.py, create_mlp):
 *   W (OC, IC) ~ N(0, sqrt(2 / (IC + OC))),  b (OC) ~ N(0, sqrt(1 / OC)).
 * Our choice [R]: the normal draws come from the run's seeded hx_rng, in layer
 * order, W row-major then b, so the same seed gives the same network.
 */
#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void linear_forward(float *out, const float *inp, const float *w, const float *b, int B, int IC,
                    int OC) {
    /* out = b broadcast, then out += inp . w^T */
    for (int r = 0; r < B; r++) memcpy(out + (size_t)r * OC, b, (size_t)OC * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, IC, 1.0f, inp, IC, w, IC, 1.0f, out, OC);
}

/* acc (n) += row (n); they never alias, which lets the loop vectorise. */
static inline void add_row(float *restrict acc, const float *restrict row, int n) {
    for (int i = 0; i < n; i++) acc[i] += row[i];
}

void linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, int IC, int OC) {
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, IC, OC, 1.0f, dout, OC, w, IC, 0.0f,
                    dinp, IC);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, B, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
    for (int r = 0; r < B; r++) add_row(db, dout + (size_t)r * OC, OC);
}

/* NaN propagates (as torch.relu does), so a diverging method shows up as a
 * non-finite loss instead of being masked to 0. */
void relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (inp[i] > 0.0f || inp[i] != inp[i]) ? inp[i] : 0.0f;
}

void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

hx_status mlp_create(mlp *m, const int *widths, int n_layers, int relu_last, int max_batch,
                     opt_cfg opt, hx_rng *rng, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    HX_ASSERT(n_layers >= 1 && n_layers <= MLP_MAX_LAYERS && max_batch >= 1);
    HX_ASSERT(opt.kind != OPT_ROWWISE_ADAGRAD);
    m->n_layers = n_layers;
    m->relu_last = relu_last;
    m->max_batch = max_batch;
    m->opt = opt;
    size_t n_act = 0;
    int maxw = 0;
    for (int l = 0; l <= n_layers; l++) {
        if (widths[l] < 1) return hx_error(HX_ERR_PARAM, err, errlen, "MLP width %d < 1", widths[l]);
        m->width[l] = widths[l];
        if (widths[l] > maxw) maxw = widths[l];
    }
    for (int l = 0; l < n_layers; l++) {
        m->n_params += (size_t)widths[l + 1] * (size_t)widths[l] + (size_t)widths[l + 1];
        n_act += (size_t)max_batch * (size_t)widths[l + 1];
    }
    size_t n_state = opt_state_floats(opt.kind, m->n_params);
    m->params = hx_calloc(m->n_params, sizeof(float));
    m->grads = hx_calloc(m->n_params, sizeof(float));
    m->opt_state = hx_calloc(n_state ? n_state : 1, sizeof(float));
    m->act_block = hx_calloc(n_act, sizeof(float));
    m->dbuf[0] = hx_calloc((size_t)max_batch * (size_t)maxw, sizeof(float));
    m->dbuf[1] = hx_calloc((size_t)max_batch * (size_t)maxw, sizeof(float));
    if (!m->params || !m->grads || !m->opt_state || !m->act_block || !m->dbuf[0] || !m->dbuf[1]) {
        mlp_free(m);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for an MLP");
    }
    size_t off = 0, aoff = 0;
    for (int l = 0; l < n_layers; l++) {
        int IC = widths[l], OC = widths[l + 1];
        m->w[l] = m->params + off;
        m->dw[l] = m->grads + off;
        off += (size_t)OC * (size_t)IC;
        m->b[l] = m->params + off;
        m->db[l] = m->grads + off;
        off += (size_t)OC;
        m->act[l] = m->act_block + aoff;
        aoff += (size_t)max_batch * (size_t)OC;
        double sw = sqrt(2.0 / (double)(IC + OC)), sb = sqrt(1.0 / (double)OC);
        for (size_t i = 0; i < (size_t)OC * (size_t)IC; i++) m->w[l][i] = (float)(sw * hx_rng_normal(rng));
        for (int o = 0; o < OC; o++) m->b[l][o] = (float)(sb * hx_rng_normal(rng));
    }
    return HX_OK;
}

void mlp_free(mlp *m) {
    hx_free(m->params);
    hx_free(m->grads);
    hx_free(m->opt_state);
    hx_free(m->act_block);
    hx_free(m->dbuf[0]);
    hx_free(m->dbuf[1]);
    memset(m, 0, sizeof *m);
}

int mlp_out_width(const mlp *m) { return m->width[m->n_layers]; }

const float *mlp_forward(mlp *m, const float *inp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch);
    m->inp = inp;
    const float *x = inp;
    for (int l = 0; l < m->n_layers; l++) {
        int IC = m->width[l], OC = m->width[l + 1];
        linear_forward(m->act[l], x, m->w[l], m->b[l], B, IC, OC);
        if (l < m->n_layers - 1 || m->relu_last)
            relu_forward(m->act[l], m->act[l], (size_t)B * (size_t)OC);
        x = m->act[l];
    }
    return x;
}

void mlp_backward(mlp *m, const float *dout, float *dinp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch && m->inp);
    const float *d = dout;
    for (int l = m->n_layers - 1; l >= 0; l--) {
        int IC = m->width[l], OC = m->width[l + 1];
        float *dpre = m->dbuf[l & 1];
        if (l < m->n_layers - 1 || m->relu_last) {
            relu_backward(dpre, d, m->act[l], (size_t)B * (size_t)OC);
            d = dpre;
        }
        const float *x = l ? m->act[l - 1] : m->inp;
        float *dx = l ? m->dbuf[(l + 1) & 1] : dinp;
        linear_backward(dx, m->dw[l], m->db[l], d, x, m->w[l], B, IC, OC);
        d = dx;
    }
}

void mlp_step(mlp *m, int64_t t) { opt_dense_step(&m->opt, m->params, m->grads, m->opt_state, m->n_params, t); }
