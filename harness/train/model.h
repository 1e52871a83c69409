/* model.h: the DLRM-style CTR network (Naumov et al., arXiv 1906.00091):
 *
 *   dense (B, Dd) -> bottom MLP (ReLU on every layer) -> x (B, Dx)    [skipped when Dd = 0]
 *   idx (B, F)    -> embedding method (methods/method.h) -> e (B, F, D)
 *   [x, e]        -> interaction dot | cat -> z (B, Wi)
 *   z             -> top MLP (ReLU between layers, none after the last) -> logit (B)
 *   logit, label  -> sigmoid + BCE (harness/core/loss.h)
 *
 * All activations and gradient buffers are allocated for max_batch rows at
 * create; forward/backward/step never allocate (the method's own buffers are sized
 * by spec->batch at its create).
 *
 * Threads: with spec->pool, the MLPs and the interaction split the batch rows
 * (and the weight gradients their output units) across the pool, and the method
 * may split its own work (methods/common/table.c splits per-field tables by field).
 * Every split writes disjoint memory, so a run is deterministic per thread count.
 */
#ifndef EMBSWEEP_MODEL_H
#define EMBSWEEP_MODEL_H

#include "harness/core/mlp.h"
#include "methods/method.h"

#define RUN_MAX_LAYERS 8

typedef enum { INTERACT_DOT = 0, INTERACT_CAT = 1 } interact_kind;

/* The network around the embeddings (the YAML model: section). */
typedef struct model_cfg {
    int32_t       bottom[RUN_MAX_LAYERS]; /* bottom MLP widths; last = dim for dot */
    int32_t       n_bottom;
    int32_t       top[RUN_MAX_LAYERS];    /* top MLP hidden widths; a final 1 is implied */
    int32_t       n_top;
    interact_kind interaction;
} model_cfg;


typedef struct model {
    model_cfg         cfg;
    int32_t           F, D, Dd, Dx; /* fields, emb dim, dense inputs, bottom output width */
    int32_t           Wi;           /* interaction output width = top MLP input */
    int32_t           max_batch;
    int               has_bottom;
    mlp               bottom, top;
    const emb_method *method;
    void             *emb;          /* method state (owned) */
    const int64_t    *idx;          /* (B, F) of the last forward (not owned) */
    const float      *x;            /* (B, Dx) bottom output of the last forward */
    const float      *logits;       /* (B) of the last forward */
    float            *emb_out;      /* (max_batch, F, D) */
    float            *demb;         /* (max_batch, F, D) */
    float            *inter;        /* (max_batch, Wi) */
    float            *dinter;       /* (max_batch, Wi) */
    float            *dx;           /* (max_batch, Dx) */
    float            *dlogits;      /* (max_batch) */
    hx_pool          *pool;         /* spec->pool (not owned; NULL = one thread) */
    float            *scratch;      /* (threads, scratch_n) interaction scratch */
    size_t            scratch_n;
} model;

/* model_create: spec must be planned (method->plan succeeded); spec->batch is the
 * max batch. The MLPs are initialised from seed (DLRM create_mlp rule, mlp.h) and
 * trained with dense_opt; the method gets spec (its own seed and spec->opt).
 * Fails with HX_ERR_PARAM when the widths do not fit (dot needs the last bottom
 * width = dim; dense features need a bottom MLP; dot needs >= 2 vectors). */
hx_status model_create(model *m, const model_cfg *cfg, int32_t n_dense, const emb_method *method,
                       const emb_spec *spec, opt_cfg dense_opt, uint64_t seed, char *err,
                       size_t errlen);
void model_free(model *m);   /* safe on a zeroed or freed model */

/* model_forward: dense (B, Dd) (NULL when Dd = 0), idx (B, F) -> logits (B).
 * dense and idx must stay valid until model_backward. */
const float *model_forward(model *m, const float *dense, const int64_t *idx, int B);
/* model_backward: after model_forward; gradient of the mean BCE against labels (B)
 * accumulated into the MLPs and the method. */
void model_backward(model *m, const float *labels, int B);
/* model_step: apply the optimizers (MLPs, then method step and on_step). t is the
 * 1-based global step. */
hx_status model_step(model *m, int64_t t, char *err, size_t errlen);
/* Bytes of the MLP parameters (not part of the embedding ratio). */
uint64_t model_dense_bytes(const model *m);

#endif
