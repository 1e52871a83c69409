/* mlp.h: dense layers of the DLRM-style model (linear, ReLU) and an MLP object.
 *
 * Shape legend: B batch rows, IC input width, OC output width.
 * Weights are stored (OC, IC) row-major, as torch.nn.Linear, so out = inp . W^T + b.
 *
 * Backward functions ACCUMULATE into dW and db (llm.c convention: the optimizer
 * step zeroes them) and OVERWRITE dinp.
 *
 * The MLP keeps its parameters, gradients and optimizer state in one block each
 * (llm.c style), so the optimizer step is one call over the whole block, and all
 * activations for max_batch rows are allocated at create: forward/backward never
 * allocate.
 */
#ifndef EMBSWEEP_MLP_H
#define EMBSWEEP_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "optim.h"
#include "pool.h"
#include "util.h"

#define MLP_MAX_LAYERS 9

/* linear_forward: out (B, OC) = inp (B, IC) . w^T (IC, OC) + b (OC). */
void linear_forward(float *out, const float *inp, const float *w, const float *b, int B, int IC,
                    int OC);
/* The backward in two halves, so rows and output units can be split apart:
 * linear_backward_input:   dinp (B, IC) = dout (B, OC) . wt^T (OC, IC), wt = w^T (IC, OC)
 * linear_backward_weights: for output units o0 <= o < o1 only,
 *                          dw[o] (IC) += dout[:, o]^T (B) . inp (B, IC)
 *                          db[o]      += sum over the B rows of dout[:, o], in row order
 * linear_backward_weights_cols: for input columns i0 <= i < i1 of every dw row,
 *                          dw[:, i] += dout^T (OC, B) . inp[:, i] (B); all of db as above
 *                          when db is not NULL */
void linear_backward_weights_cols(float *dw, float *db, const float *dout, const float *inp, int B, int IC,
                                  int OC, int i0, int i1);
void linear_backward_input(float *dinp, const float *dout, const float *wt, int B, int IC, int OC);
/* mat_transpose: dst (cols, rows) = src (rows, cols)^T; they must not overlap. */
void mat_transpose(float *restrict dst, const float *restrict src, int rows, int cols);
void linear_backward_weights(float *dw, float *db, const float *dout, const float *inp, int B, int IC, int OC,
                             int o0, int o1);
/* relu_forward: out (n) = max(inp, 0); out may alias inp. */
void relu_forward(float *out, const float *inp, size_t n);
/* relu_backward: dinp (n) = dout where out > 0, else 0; dinp may alias dout. */
void relu_backward(float *dinp, const float *dout, const float *out, size_t n);

typedef struct mlp {
    int     n_layers;                    /* L */
    int     width[MLP_MAX_LAYERS + 1];   /* width[0] input, width[l+1] output of layer l */
    int     relu_last;                   /* 1: ReLU after the last layer too */
    int     max_batch;
    size_t  n_params;
    float  *params;                      /* (n_params) all W then b, layer by layer */
    float  *grads;                       /* (n_params) same layout */
    float  *opt_state;                   /* (opt_state_floats(kind, n_params)) */
    opt_cfg opt;
    float  *w[MLP_MAX_LAYERS], *b[MLP_MAX_LAYERS];   /* views into params: (OC, IC), (OC) */
    float  *dw[MLP_MAX_LAYERS], *db[MLP_MAX_LAYERS]; /* views into grads */
    float  *act[MLP_MAX_LAYERS];         /* (max_batch, width[l+1]) layer outputs */
    float  *act_block;
    float  *dpre[MLP_MAX_LAYERS];        /* (max_batch, width[l+1]) pre-activation gradients */
    float  *dpre_block;
    float  *wt[MLP_MAX_LAYERS];          /* (IC, OC) W^T, refreshed by each backward */
    float  *wt_block;
    const float *inp;                    /* input of the last forward (not owned) */
    hx_pool *pool;                       /* optional (not owned; the owner sets it after
                                          * create): rows and output units are split
                                          * across its threads */
} mlp;

/* mlp_create: widths[0..n_layers] (input first). Initialisation follows
 * facebookresearch/dlrm dlrm_s_pytorch.py create_mlp: W ~ N(0, sqrt(2/(fan_in+fan_out))),
 * b ~ N(0, sqrt(1/fan_out)), drawn from rng in layer order (W then b). */
hx_status mlp_create(mlp *m, const int *widths, int n_layers, int relu_last, int max_batch,
                     opt_cfg opt, hx_rng *rng, char *err, size_t errlen);
void      mlp_free(mlp *m);   /* safe on a zeroed or freed mlp */

/* mlp_forward: inp (B, width[0]) -> returns (B, width[L]); inp must stay valid until
 * mlp_backward. */
const float *mlp_forward(mlp *m, const float *inp, int B);
/* mlp_backward: dout (B, width[L]); accumulates parameter gradients; writes
 * dinp (B, width[0]) unless dinp is NULL. */
void mlp_backward(mlp *m, const float *dout, float *dinp, int B);
/* mlp_step: one optimizer update of the whole block, then zero the gradients. */
void mlp_step(mlp *m, int64_t t);

#endif
