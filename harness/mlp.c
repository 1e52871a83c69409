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

void linear_backward_input(float *dinp, const float *dout, const float *w, int B, int IC, int OC) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, IC, OC, 1.0f, dout, OC, w, IC, 0.0f, dinp, IC);
}

void linear_backward_weights(float *dw, float *db, const float *dout, const float *inp, int B, int IC, int OC,
                             int o0, int o1) {
    const int no = o1 - o0;
    if (no <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, IC, B, 1.0f, dout + o0, OC, inp, IC, 1.0f,
                dw + (size_t)o0 * IC, IC);
    /* db in chunks held locally: each entry still sums r = 0..B-1 in order, and
     * two callers with neighbouring shares never write the cache line their
     * shares meet in B times */
    for (int c0 = 0; c0 < no; c0 += 64) {
        float acc[64];
        const int w = no - c0 < 64 ? no - c0 : 64;
        memcpy(acc, db + o0 + c0, (size_t)w * sizeof(float));
        for (int r = 0; r < B; r++) add_row(acc, dout + (size_t)r * OC + o0 + c0, w);
        memcpy(db + o0 + c0, acc, (size_t)w * sizeof(float));
    }
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
    for (int l = 0; l <= n_layers; l++) {
        if (widths[l] < 1) return hx_error(HX_ERR_PARAM, err, errlen, "MLP width %d < 1", widths[l]);
        m->width[l] = widths[l];
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
    m->dpre_block = hx_calloc(n_act, sizeof(float));
    if (!m->params || !m->grads || !m->opt_state || !m->act_block || !m->dpre_block) {
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
        m->dpre[l] = m->dpre_block + aoff;
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
    hx_free(m->dpre_block);
    memset(m, 0, sizeof *m);
}

int mlp_out_width(const mlp *m) { return m->width[m->n_layers]; }

/* Forward over rows [lo, hi) through every layer: rows are independent, so a
 * pool task runs the whole stack on its share with no barrier between layers. */
static void forward_rows(mlp *m, int64_t lo, int64_t hi) {
    const int n = (int)(hi - lo);
    if (n <= 0) return;
    const float *x = m->inp + (size_t)lo * m->width[0];
    for (int l = 0; l < m->n_layers; l++) {
        int IC = m->width[l], OC = m->width[l + 1];
        float *y = m->act[l] + (size_t)lo * OC;
        linear_forward(y, x, m->w[l], m->b[l], n, IC, OC);
        if (l < m->n_layers - 1 || m->relu_last) relu_forward(y, y, (size_t)n * (size_t)OC);
        x = y;
    }
}

typedef struct mlp_job {
    mlp         *m;
    const float *dout;
    float       *dinp;
    int          B;
} mlp_job;

static void forward_task(void *arg, int t, int nt) {
    mlp_job *j = arg;
    int64_t lo, hi;
    hx_split(j->B, nt, t, &lo, &hi);
    forward_rows(j->m, lo, hi);
}

const float *mlp_forward(mlp *m, const float *inp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch);
    m->inp = inp;
    mlp_job j = {m, NULL, NULL, B};
    hx_pool_run(m->pool, forward_task, &j);
    return m->act[m->n_layers - 1];
}

/* The pre-activation gradient of layer l, dpre[l] (B, OC): dout itself for a last
 * layer without ReLU, else its own buffer. */
static const float *dpre_of(const mlp *m, const float *dout, int l) {
    return l == m->n_layers - 1 && !m->relu_last ? dout : m->dpre[l];
}

/* Backward phase 1 over rows [lo, hi): dpre of every layer and dinp. dpre[l-1] is
 * first written as dX of layer l, then masked by layer l-1's ReLU in place. */
static void backward_rows(mlp *m, const float *dout, float *dinp, int64_t lo, int64_t hi) {
    const int n = (int)(hi - lo);
    if (n <= 0) return;
    const int L = m->n_layers;
    if (m->relu_last) {
        size_t off = (size_t)lo * m->width[L];
        relu_backward(m->dpre[L - 1] + off, dout + off, m->act[L - 1] + off, (size_t)n * m->width[L]);
    }
    for (int l = L - 1; l >= 0; l--) {
        int IC = m->width[l], OC = m->width[l + 1];
        const float *d = dpre_of(m, dout, l) + (size_t)lo * OC;
        float *dx = l ? m->dpre[l - 1] : dinp;
        if (!dx) break;
        dx += (size_t)lo * IC;
        linear_backward_input(dx, d, m->w[l], n, IC, OC);
        if (l) relu_backward(dx, dx, m->act[l - 1] + (size_t)lo * IC, (size_t)n * IC);
    }
}

/* Backward phase 2 for output units [o0, o1) of every layer (each task takes the
 * same share of each layer): dW rows and db entries, summed over all B rows in
 * order, so the split never changes a value. */
static void backward_weights(mlp *m, const float *dout, int B, int t, int nt) {
    for (int l = 0; l < m->n_layers; l++) {
        int IC = m->width[l], OC = m->width[l + 1];
        int64_t o0, o1;
        hx_split(OC, nt, t, &o0, &o1);
        linear_backward_weights(m->dw[l], m->db[l], dpre_of(m, dout, l), l ? m->act[l - 1] : m->inp, B, IC, OC,
                                (int)o0, (int)o1);
    }
}

static void backward_rows_task(void *arg, int t, int nt) {
    mlp_job *j = arg;
    int64_t lo, hi;
    hx_split(j->B, nt, t, &lo, &hi);
    backward_rows(j->m, j->dout, j->dinp, lo, hi);
}

static void backward_weights_task(void *arg, int t, int nt) {
    mlp_job *j = arg;
    backward_weights(j->m, j->dout, j->B, t, nt);
}

void mlp_backward(mlp *m, const float *dout, float *dinp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch && m->inp);
    mlp_job j = {m, dout, dinp, B};
    hx_pool_run(m->pool, backward_rows_task, &j);
    hx_pool_run(m->pool, backward_weights_task, &j);
}

void mlp_step(mlp *m, int64_t t) { opt_dense_step(&m->opt, m->params, m->grads, m->opt_state, m->n_params, t); }
