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

/* dinp = dout . wt^T, not dout . w: OpenBLAS 0.3.21's AVX-512 small-matrix
 * kernel for the non-transposed product (NN) mallocs a packing buffer on every
 * call for some small shapes (N % 16 in 1..8, K > 16, M*N*K <= 1e6); its NT,
 * TN and TT paths allocate nothing. The transposed copy costs IC*OC a step. */
void linear_backward_input(float *dinp, const float *dout, const float *wt, int B, int IC, int OC) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, IC, OC, 1.0f, dout, OC, wt, OC, 0.0f, dinp, IC);
}

void mat_transpose(float *restrict dst, const float *restrict src, int rows, int cols) {
    for (int r0 = 0; r0 < rows; r0 += 16) /* 16 x 16 tiles keep both sides in cache */
        for (int c0 = 0; c0 < cols; c0 += 16) {
            const int r1 = r0 + 16 < rows ? r0 + 16 : rows, c1 = c0 + 16 < cols ? c0 + 16 : cols;
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++) dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
        }
}

/* db[o] += sum over rows r = 0..B-1, in order, of dout[r, o], for o0 <= o < o1;
 * in chunks held locally, so two callers with neighbouring shares never write the
 * cache line their shares meet in B times. */
static void bias_grad(float *db, const float *dout, int B, int OC, int o0, int o1) {
    for (int c0 = o0; c0 < o1; c0 += 64) {
        float acc[64];
        const int w = o1 - c0 < 64 ? o1 - c0 : 64;
        memcpy(acc, db + c0, (size_t)w * sizeof(float));
        for (int r = 0; r < B; r++) add_row(acc, dout + (size_t)r * OC + c0, w);
        memcpy(db + c0, acc, (size_t)w * sizeof(float));
    }
}

void linear_backward_weights(float *dw, float *db, const float *dout, const float *inp, int B, int IC, int OC,
                             int o0, int o1) {
    const int no = o1 - o0;
    if (no <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, IC, B, 1.0f, dout + o0, OC, inp, IC, 1.0f,
                dw + (size_t)o0 * IC, IC);
    bias_grad(db, dout, B, OC, o0, o1);
}

void linear_backward_weights_cols(float *dw, float *db, const float *dout, const float *inp, int B, int IC,
                                  int OC, int i0, int i1) {
    if (i1 > i0)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, i1 - i0, B, 1.0f, dout, OC, inp + i0, IC, 1.0f,
                    dw + i0, IC);
    if (db) bias_grad(db, dout, B, OC, 0, OC);
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
    m->wt_block = hx_calloc(m->n_params, sizeof(float));
    if (!m->params || !m->grads || !m->opt_state || !m->act_block || !m->dpre_block || !m->wt_block) {
        mlp_free(m);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for an MLP");
    }
    size_t off = 0, aoff = 0;
    for (int l = 0; l < n_layers; l++) {
        int IC = widths[l], OC = widths[l + 1];
        m->w[l] = m->params + off;
        m->wt[l] = m->wt_block + off;
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
    hx_free(m->wt_block);
    memset(m, 0, sizeof *m);
}

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

/* At most this many weight-pass pieces (32 a layer). */
#define MLP_MAX_PIECES (MLP_MAX_LAYERS * 32)

typedef struct mlp_job {
    mlp         *m;
    const float *dout;
    float       *dinp;
    int          B;
    int          n_pieces;                /* weight pass: pieces planned by plan_weight_pieces */
    int          piece_l[MLP_MAX_PIECES];  /* layer of piece i */
    int          piece_cols[MLP_MAX_PIECES];  /* 1: input columns, 0: output units */
    int          piece_lo[MLP_MAX_PIECES], piece_hi[MLP_MAX_PIECES];
} mlp_job;

/* Row pieces of at least this many rows (a GEMM on fewer rows loses speed). */
enum { ROW_GRAIN = 32 };

static void forward_range(void *arg, int64_t lo, int64_t hi, int t) {
    (void)t;
    forward_rows(arg, lo, hi);
}

const float *mlp_forward(mlp *m, const float *inp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch);
    m->inp = inp;
    hx_pool_for(m->pool, B, hx_pool_chunks(m->pool, B, ROW_GRAIN), forward_range, m);
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
        linear_backward_input(dx, d, m->wt[l], n, IC, OC);
        if (l) relu_backward(dx, dx, m->act[l - 1] + (size_t)lo * IC, (size_t)n * IC);
    }
}

/* Backward phase 2, one piece of one layer: the dW and db entries it owns,
 * each summed over all B rows in order. A piece owns either output units
 * [lo, hi) (dW rows and their db) or input columns [lo, hi) of every dW row (and
 * all of db when lo = 0): a layer is cut along its longer side, so each piece
 * packs only its own share of the larger operand (inp when IC >= OC). */
static void weights_range(void *arg, int64_t lo, int64_t hi, int t) {
    (void)t;
    mlp_job *j = arg;
    mlp *m = j->m;
    for (int64_t i = lo; i < hi; i++) {
        const int l = j->piece_l[i], IC = m->width[l], OC = m->width[l + 1];
        const float *d = dpre_of(m, j->dout, l), *x = l ? m->act[l - 1] : m->inp;
        const int p0 = j->piece_lo[i], p1 = j->piece_hi[i];
        if (j->piece_cols[i])
            linear_backward_weights_cols(m->dw[l], p0 == 0 ? m->db[l] : NULL, d, x, j->B, IC, OC, p0, p1);
        else
            linear_backward_weights(m->dw[l], m->db[l], d, x, j->B, IC, OC, p0, p1);
    }
}

/* Cut the layers into pieces of about equal cost (IC x OC x share): about
 * HX_POOL_CHUNKS per thread in all, or one whole layer each with a pool of 1.
 * Column cuts fall on 16-float (64-byte) boundaries. */
static void plan_weight_pieces(mlp_job *j) {
    const mlp *m = j->m;
    const int nt = hx_pool_threads(m->pool);
    double total = 0;
    for (int l = 0; l < m->n_layers; l++) total += (double)m->width[l] * m->width[l + 1];
    const double target = (double)nt * HX_POOL_CHUNKS;
    j->n_pieces = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const int IC = m->width[l], OC = m->width[l + 1], cols = nt > 1 && IC > OC;
        const int64_t units = cols ? (IC + 15) / 16 : OC; /* what a piece takes a share of */
        int64_t k = nt == 1 ? 1 : (int64_t)(target * (double)IC * OC / total + 0.5);
        if (k < 1) k = 1;
        if (k > units) k = units;
        if (k > MLP_MAX_PIECES / MLP_MAX_LAYERS) k = MLP_MAX_PIECES / MLP_MAX_LAYERS;
        for (int64_t i = 0; i < k; i++) {
            int64_t lo, hi;
            hx_split(units, (int)k, (int)i, &lo, &hi);
            if (cols) lo *= 16, hi = hi * 16 < IC ? hi * 16 : IC;
            HX_ASSERT(j->n_pieces < MLP_MAX_PIECES);
            j->piece_l[j->n_pieces] = l;
            j->piece_cols[j->n_pieces] = cols;
            j->piece_lo[j->n_pieces] = (int)lo;
            j->piece_hi[j->n_pieces++] = (int)hi;
        }
    }
}

static void backward_rows_range(void *arg, int64_t lo, int64_t hi, int t) {
    (void)t;
    mlp_job *j = arg;
    backward_rows(j->m, j->dout, j->dinp, lo, hi);
}

void mlp_backward(mlp *m, const float *dout, float *dinp, int B) {
    HX_ASSERT(B >= 1 && B <= m->max_batch && m->inp);
    mlp_job j = {.m = m, .dout = dout, .dinp = dinp, .B = B};
    for (int l = dinp ? 0 : 1; l < m->n_layers; l++) /* wt[l] (IC, OC) for the row pass */
        mat_transpose(m->wt[l], m->w[l], m->width[l + 1], m->width[l]);
    hx_pool_for(m->pool, B, hx_pool_chunks(m->pool, B, ROW_GRAIN), backward_rows_range, &j);
    plan_weight_pieces(&j);
    hx_pool_for(m->pool, j.n_pieces, j.n_pieces, weights_range, &j);
}

void mlp_step(mlp *m, int64_t t) { opt_dense_step(&m->opt, m->params, m->grads, m->opt_state, m->n_params, t); }
