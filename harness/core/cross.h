/* cross.h: the cross network of DCN-v2 (Wang et al., "DCN V2: Improved Deep &
 * Cross Network", WWW 2021, eq. 1):
 *
 *   x_{l+1} = x0 * (W_l x_l + b_l) + x_l          (* element-wise)
 *
 * with W_l full rank (W, W), or low rank W_l = U_l V_l (paper section 5.1,
 * eq. 2 without the mixture of experts), U_l (W, r), V_l (r, W).
 *
 * Shape legend: B batch rows, W the width of x0 (all layers keep it), r the rank.
 *
 * Kernels: cross_mix_forward/backward are the element-wise part, the matrix
 * products are linear_forward/linear_backward_* of mlp.h. The cross object owns
 * every layer's parameters, gradients and optimizer state in one block each
 * (llm.c style) and all activations for max_batch rows, so forward/backward never
 * allocate. With a pool, rows are split for the forward and the row pass of the
 * backward; the weight gradients are split by output units, each summed over all
 * B rows in order: deterministic per thread count.
 */
#ifndef EMBSWEEP_CROSS_H
#define EMBSWEEP_CROSS_H

#include <stddef.h>
#include <stdint.h>

#include "optim.h"
#include "pool.h"
#include "util.h"

#define CROSS_MAX_LAYERS 16

/* cross_mix_forward: out (n) = x0 (n) * xw (n) + xl (n), n = B * W. */
void cross_mix_forward(float *out, const float *x0, const float *xw, const float *xl, size_t n);
/* cross_mix_backward: with dout (n) the gradient of out,
 *   dxw (n)  = dout * x0                     (OVERWRITTEN)
 *   dx0 (n) += dout * xw                     (ACCUMULATED) */
void cross_mix_backward(float *dxw, float *dx0, const float *dout, const float *x0, const float *xw, size_t n);

typedef struct cross {
    int     L, W, rank;          /* layers, width, rank (0 = full rank) */
    int     max_batch;
    size_t  n_params;
    float  *params, *grads, *opt_state, *wt_block; /* (n_params) each; wt: transposed copies */
    opt_cfg opt;
    /* views into params (and grads: dw, du, dv, db). Full rank: w (W, W). Low rank:
     * v (rank, W), u (W, rank). b (W) in both. */
    float  *w[CROSS_MAX_LAYERS], *u[CROSS_MAX_LAYERS], *v[CROSS_MAX_LAYERS], *b[CROSS_MAX_LAYERS];
    float  *dw[CROSS_MAX_LAYERS], *du[CROSS_MAX_LAYERS], *dv[CROSS_MAX_LAYERS], *db[CROSS_MAX_LAYERS];
    float  *wt[CROSS_MAX_LAYERS], *ut[CROSS_MAX_LAYERS], *vt[CROSS_MAX_LAYERS];
    float  *act;                 /* (L, max_batch, W) x_1 .. x_L */
    float  *xw;                  /* (L, max_batch, W) W_l x_l + b_l */
    float  *t;                   /* (L, max_batch, rank) V_l x_l, low rank only */
    float  *dxw;                 /* (L, max_batch, W) */
    float  *dt;                  /* (L, max_batch, rank), low rank only */
    float  *g;                   /* (max_batch, W) running gradient of x_l */
    const float *x0;             /* input of the last forward (not owned) */
    hx_pool *pool;               /* optional (not owned; set by the owner after create) */
} cross;

/* cross_create: L layers of width W, rank 0 (full) or 1..W-1. W ~ N(0,
 * sqrt(2 / (fan_in + fan_out))) per factor from rng, layer order, b = 0. */
hx_status cross_create(cross *c, int L, int W, int rank, int max_batch, opt_cfg opt, hx_rng *rng, char *err,
                       size_t errlen);
void      cross_free(cross *c); /* safe on a zeroed or freed cross */
/* cross_forward: x0 (B, W) -> returns x_L (B, W); x0 must stay valid until backward. */
const float *cross_forward(cross *c, const float *x0, int B);
/* cross_backward: dout (B, W) the gradient of x_L; accumulates the parameter
 * gradients and OVERWRITES dx0 (B, W) with the gradient of x0 (both of its roles:
 * the first x_l and the factor of every layer). */
void cross_backward(cross *c, const float *dout, float *dx0, int B);
void cross_step(cross *c, int64_t t); /* one optimizer update, then zero the gradients */

#endif
