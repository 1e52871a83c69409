/* cross.c: the DCN-v2 cross network. See cross.h.
 * Initialisation, our choice [R]: each factor as a DLRM linear layer's weight,
 * N(0, sqrt(2 / (fan_in + fan_out))), from the run's seeded rng in layer order
 * (W, or V then U); biases zero (the DCN-v2 reference code's bias initialiser). */
#include "cross.h"

#include <math.h>
#include <string.h>

#include "mlp.h"

void cross_mix_forward(float *out, const float *x0, const float *xw, const float *xl, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x0[i] * xw[i] + xl[i];
}

void cross_mix_backward(float *dxw, float *dx0, const float *dout, const float *x0, const float *xw, size_t n) {
    for (size_t i = 0; i < n; i++) {
        dxw[i] = dout[i] * x0[i];
        dx0[i] += dout[i] * xw[i];
    }
}

static void init_normal(float *p, size_t n, int fan_in, int fan_out, hx_rng *rng) {
    const double s = sqrt(2.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < n; i++) p[i] = (float)(s * hx_rng_normal(rng));
}

hx_status cross_create(cross *c, int L, int W, int rank, int max_batch, opt_cfg opt, hx_rng *rng, char *err,
                       size_t errlen) {
    memset(c, 0, sizeof *c);
    HX_ASSERT(L >= 1 && L <= CROSS_MAX_LAYERS && W >= 1 && rank >= 0 && max_batch >= 1);
    HX_ASSERT(opt.kind != OPT_ROWWISE_ADAGRAD);
    c->L = L, c->W = W, c->rank = rank, c->max_batch = max_batch, c->opt = opt;
    const size_t per = rank ? 2 * (size_t)rank * W + W : (size_t)W * W + W, BW = (size_t)max_batch * W;
    c->n_params = per * (size_t)L;
    c->params = hx_calloc(c->n_params, sizeof(float));
    c->grads = hx_calloc(c->n_params, sizeof(float));
    c->wt_block = hx_calloc(c->n_params, sizeof(float));
    size_t ns = opt_state_floats(opt.kind, c->n_params);
    c->opt_state = hx_calloc(ns ? ns : 1, sizeof(float));
    c->act = hx_calloc((size_t)L * BW, sizeof(float));
    c->xw = hx_calloc((size_t)L * BW, sizeof(float));
    c->dxw = hx_calloc((size_t)L * BW, sizeof(float));
    c->g = hx_calloc(2 * BW, sizeof(float));
    c->t = hx_calloc((size_t)L * max_batch * (rank ? rank : 1) + (rank ? rank : 1), sizeof(float));
    c->dt = hx_calloc((size_t)L * max_batch * (rank ? rank : 1), sizeof(float));
    if (!c->params || !c->grads || !c->wt_block || !c->opt_state || !c->act || !c->xw || !c->dxw || !c->g ||
        !c->t || !c->dt) {
        cross_free(c);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for the cross network");
    }
    size_t off = 0;
    for (int l = 0; l < L; l++) {
        float *p = c->params + off, *g = c->grads + off, *t = c->wt_block + off;
        if (rank) {
            c->v[l] = p, c->dv[l] = g, c->vt[l] = t;
            c->u[l] = p + (size_t)rank * W, c->du[l] = g + (size_t)rank * W, c->ut[l] = t + (size_t)rank * W;
            c->b[l] = p + 2 * (size_t)rank * W, c->db[l] = g + 2 * (size_t)rank * W;
            init_normal(c->v[l], (size_t)rank * W, W, rank, rng);
            init_normal(c->u[l], (size_t)rank * W, rank, W, rng);
        } else {
            c->w[l] = p, c->dw[l] = g, c->wt[l] = t;
            c->b[l] = p + (size_t)W * W, c->db[l] = g + (size_t)W * W;
            init_normal(c->w[l], (size_t)W * W, W, W, rng);
        }
        off += per;
    }
    return HX_OK;
}

void cross_free(cross *c) {
    hx_free(c->params);
    hx_free(c->grads);
    hx_free(c->wt_block);
    hx_free(c->opt_state);
    hx_free(c->act);
    hx_free(c->xw);
    hx_free(c->dxw);
    hx_free(c->g);
    hx_free(c->t);
    hx_free(c->dt);
    memset(c, 0, sizeof *c);
}

/* Layer l's buffers, row lo of (max_batch, width) slabs. */
static float *slab(float *base, const cross *c, int l, int width, int64_t lo) {
    return base + ((size_t)l * c->max_batch + (size_t)lo) * width;
}

static const float *x_in(const cross *c, int l, int64_t lo) {
    return l ? slab(c->act, c, l - 1, c->W, lo) : c->x0 + (size_t)lo * c->W;
}

/* The zero bias of V x (rank floats past the layers' t). */
static const float *zero_bias(const cross *c) { return c->t + (size_t)c->L * c->max_batch * c->rank; }

static void forward_range(void *arg, int64_t lo, int64_t hi, int th) {
    (void)th;
    cross *c = arg;
    const int n = (int)(hi - lo), W = c->W, r = c->rank;
    const float *x0 = c->x0 + (size_t)lo * W;
    for (int l = 0; l < c->L; l++) {
        const float *xl = x_in(c, l, lo);
        float *xw = slab(c->xw, c, l, W, lo);
        if (r) {
            float *t = slab(c->t, c, l, r, lo);
            linear_forward(t, xl, c->v[l], zero_bias(c), n, W, r); /* t (n, r) = xl V^T */
            linear_forward(xw, t, c->u[l], c->b[l], n, r, W);       /* xw (n, W) = t U^T + b */
        } else {
            linear_forward(xw, xl, c->w[l], c->b[l], n, W, W);
        }
        cross_mix_forward(slab(c->act, c, l, W, lo), x0, xw, xl, (size_t)n * W);
    }
}

enum { CROSS_ROW_GRAIN = 32 };

const float *cross_forward(cross *c, const float *x0, int B) {
    HX_ASSERT(B >= 1 && B <= c->max_batch);
    c->x0 = x0;
    hx_pool_for(c->pool, B, hx_pool_chunks(c->pool, B, CROSS_ROW_GRAIN), forward_range, c);
    return slab(c->act, c, c->L - 1, c->W, 0);
}

typedef struct cross_job {
    cross       *c;
    const float *dout;
    float       *dx0;
    int          B, n_pieces;
    /* weight pieces: layer, what (0 W or U by output units, 1 V by input columns), range */
    int          pl[CROSS_MAX_LAYERS * 64], pw[CROSS_MAX_LAYERS * 64], plo[CROSS_MAX_LAYERS * 64],
                 phi[CROSS_MAX_LAYERS * 64];
} cross_job;

/* Row pass over [lo, hi): the gradient g of x_l from l = L-1 down, dxw_l (and
 * dt_l), and dx0 = the sum of the factor terms plus g of x_0. */
static void backward_range(void *arg, int64_t lo, int64_t hi, int th) {
    (void)th;
    cross_job *j = arg;
    cross *c = j->c;
    const int n = (int)(hi - lo), W = c->W, r = c->rank;
    const size_t nw = (size_t)n * W;
    const float *x0 = c->x0 + (size_t)lo * W;
    float *dx0 = j->dx0 + (size_t)lo * W;
    float *g = c->g + (size_t)lo * W, *g2 = c->g + ((size_t)c->max_batch + (size_t)lo) * W;
    memcpy(g, j->dout + (size_t)lo * W, nw * sizeof(float));
    memset(dx0, 0, nw * sizeof(float));
    for (int l = c->L - 1; l >= 0; l--) {
        float *dxw = slab(c->dxw, c, l, W, lo);
        cross_mix_backward(dxw, dx0, g, x0, slab(c->xw, c, l, W, lo), nw);
        if (r) {
            float *dt = slab(c->dt, c, l, r, lo);
            linear_backward_input(dt, dxw, c->ut[l], n, r, W); /* dt (n, r) = dxw U */
            linear_backward_input(g2, dt, c->vt[l], n, W, r);  /* (n, W) = dt V */
        } else {
            linear_backward_input(g2, dxw, c->wt[l], n, W, W);
        }
        for (size_t i = 0; i < nw; i++) g2[i] += g[i]; /* the skip term x_l */
        float *s = g;
        g = g2, g2 = s;
    }
    for (size_t i = 0; i < nw; i++) dx0[i] += g[i];
}

static void weights_range(void *arg, int64_t lo, int64_t hi, int th) {
    (void)th;
    cross_job *j = arg;
    cross *c = j->c;
    const int W = c->W, r = c->rank;
    for (int64_t i = lo; i < hi; i++) {
        const int l = j->pl[i], a = j->plo[i], b = j->phi[i];
        const float *xl = x_in(c, l, 0), *dxw = slab(c->dxw, c, l, W, 0);
        if (!r) linear_backward_weights(c->dw[l], c->db[l], dxw, xl, j->B, W, W, a, b);
        else if (!j->pw[i]) linear_backward_weights(c->du[l], c->db[l], dxw, slab(c->t, c, l, r, 0), j->B, r, W, a, b);
        else linear_backward_weights_cols(c->dv[l], NULL, slab(c->dt, c, l, r, 0), xl, j->B, W, r, a, b);
    }
}

/* Pieces of the weight pass: per layer, its output units (W or U) and, low
 * rank, V's input columns, each cut into k parts (1 with one thread). */
static void plan_pieces(cross_job *j) {
    const cross *c = j->c;
    const int nt = hx_pool_threads(c->pool), k = nt == 1 ? 1 : (nt * 2 < 32 ? nt * 2 : 32);
    j->n_pieces = 0;
    for (int l = 0; l < c->L; l++)
        for (int what = 0; what <= (c->rank ? 1 : 0); what++) {
            const int units = c->W, parts = k < units ? k : units;
            for (int p = 0; p < parts; p++) {
                int64_t a, b;
                hx_split(units, parts, p, &a, &b);
                HX_ASSERT(j->n_pieces < CROSS_MAX_LAYERS * 64);
                j->pl[j->n_pieces] = l, j->pw[j->n_pieces] = what;
                j->plo[j->n_pieces] = (int)a, j->phi[j->n_pieces++] = (int)b;
            }
        }
}

void cross_backward(cross *c, const float *dout, float *dx0, int B) {
    HX_ASSERT(B >= 1 && B <= c->max_batch && c->x0);
    const int W = c->W, r = c->rank;
    for (int l = 0; l < c->L; l++) {
        if (r) {
            mat_transpose(c->ut[l], c->u[l], W, r);
            mat_transpose(c->vt[l], c->v[l], r, W);
        } else {
            mat_transpose(c->wt[l], c->w[l], W, W);
        }
    }
    cross_job j = {.c = c, .dout = dout, .dx0 = dx0, .B = B};
    hx_pool_for(c->pool, B, hx_pool_chunks(c->pool, B, CROSS_ROW_GRAIN), backward_range, &j);
    plan_pieces(&j);
    hx_pool_for(c->pool, j.n_pieces, j.n_pieces, weights_range, &j);
}

void cross_step(cross *c, int64_t t) { opt_dense_step(&c->opt, c->params, c->grads, c->opt_state, c->n_params, t); }
