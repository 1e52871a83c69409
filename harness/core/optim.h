/* optim.h: optimizers for dense parameters (MLPs, projections, TT cores) and for
 * sparse embedding rows. Shared by the model and by methods/.
 *
 * Dense: SGD, Adagrad (element-wise), Adam (bias-corrected, no weight decay).
 * Sparse rows: SGD, row-wise Adagrad as in facebookresearch/dlrm optim/rwsadagrad.py
 *   (one accumulator per row: acc += mean(g^2); w -= lr * g / (sqrt(acc) + eps)),
 *   element-wise Adagrad, and lazy Adam (moments of untouched rows do not decay).
 * The caller coalesces duplicate rows before calling a sparse update (emb_table in
 * methods/common/table.h does this), so every non-linear update sees the summed gradient.
 */
#ifndef EMBSWEEP_OPTIM_H
#define EMBSWEEP_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_SGD = 0, OPT_ADAGRAD = 1, OPT_ADAM = 2, OPT_ROWWISE_ADAGRAD = 3 } opt_kind;

typedef struct opt_cfg {
    opt_kind kind;
    float lr;
    float eps;      /* Adagrad: 1e-10 (DLRM rwsadagrad); Adam: 1e-8 */
    float beta1;    /* Adam: 0.9 */
    float beta2;    /* Adam: 0.999 */
} opt_cfg;

const char *opt_kind_name(opt_kind k);
int         opt_kind_parse(const char *s, opt_kind *out);   /* 0 on success */
/* Floats of optimizer state per parameter row of width w. */
size_t      opt_state_floats(opt_kind k, size_t w);
/* A config with defaults for kind k and learning rate lr. */
opt_cfg     opt_default(opt_kind k, float lr);

/* opt_dense_step: one update of n parameters p with gradient g (then g is zeroed).
 * state holds opt_state_floats(kind, n) floats, zero-initialised by the caller.
 * t is the 1-based step count (Adam bias correction). */
void opt_dense_step(const opt_cfg *c, float *p, float *g, float *state, size_t n, int64_t t);

/* opt_row_step: update one row p (w floats) with its coalesced gradient g.
 * state points at this row's state, opt_state_floats(kind, w) floats.
 * OPT_ROWWISE_ADAGRAD uses one float of state per row. */
void opt_row_step(const opt_cfg *c, float *p, const float *g, float *state, size_t w, int64_t t);

/* Adam's bias corrections 1 - beta^t for step t (unused by the other kinds), so a
 * table step computes them once instead of once per row; opt_row_step_b is
 * opt_row_step with them given. */
typedef struct opt_bias {
    float bc1, bc2;
} opt_bias;
opt_bias opt_bias_at(const opt_cfg *c, int64_t t);
void     opt_row_step_b(const opt_cfg *c, opt_bias bias, float *p, const float *g, float *state, size_t w);

#endif
