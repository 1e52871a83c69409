/* model.h: the CTR networks around the embedding method. The default, arch dlrm,
 * is the DLRM-style network (Naumov et al., arXiv 1906.00091):
 *
 *   dense (B, Dd) -> bottom MLP (ReLU on every layer) -> x (B, Dx)    [skipped when Dd = 0]
 *   idx (B, F)    -> embedding method (methods/method.h) -> e (B, F, D)
 *   [x, e]        -> interaction dot | cat -> z (B, Wi)
 *   z             -> top MLP (ReLU between layers, none after the last) -> logit (B)
 *   logit, label  -> sigmoid + BCE (harness/core/loss.h)
 *
 * The other archs (model_arch.c) share the bottom MLP, the method and the loss;
 * top_mlp gives their deep MLP's hidden widths, and the interaction key is not
 * used (they concatenate: c = [x, e_0 .. e_{F-1}], (B, Wc)):
 *   dcn     DCN-v2 (Wang et al., WWW 2021): cross network (harness/core/cross.h) on
 *           x0 = c; stacked: logit = deep(cross(x0)); parallel: logit =
 *           linear([cross(x0), deep_hidden(x0)])
 *   deepfm  DeepFM (Guo et al., IJCAI 2017): logit = wide(idx) + FM(x, e_0 ..)
 *           (harness/core/fm.h) + deep(c); x is one more field vector (the bottom
 *           MLP must end at dim)
 *   wdl     Wide & Deep (Cheng et al., DLRS 2016): logit = wide(idx) + deep(c) with
 *           c = [dense, e_0 ..]: the raw dense features, no bottom MLP
 * wide(idx) is the per-id scalar tables of wide.h, counted in the method's bytes.
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

#include "harness/core/cross.h"
#include "harness/core/mlp.h"
#include "methods/method.h"
#include "wide.h"

#define RUN_MAX_LAYERS 8

typedef enum { INTERACT_DOT = 0, INTERACT_CAT = 1 } interact_kind;
typedef enum { ARCH_DLRM = 0, ARCH_DCN = 1, ARCH_DEEPFM = 2, ARCH_WDL = 3 } model_arch;
typedef enum { DCN_STACKED = 0, DCN_PARALLEL = 1 } dcn_structure;
/* The archs' names, by model_arch value, NULL-terminated (the arch key's choices). */
extern const char *const model_arch_names[];

/* The network around the embeddings (the YAML model: section). */
typedef struct model_cfg {
    int32_t       bottom[RUN_MAX_LAYERS]; /* bottom MLP widths; last = dim for dot */
    int32_t       n_bottom;
    int32_t       top[RUN_MAX_LAYERS];    /* top MLP hidden widths; a final 1 is implied */
    int32_t       n_top;
    interact_kind interaction;           /* dlrm only */
    model_arch    arch;
    int32_t       cross_layers;           /* dcn: cross layers */
    dcn_structure structure;              /* dcn: stacked or parallel */
    int32_t       cross_rank;             /* dcn: 0 full-rank W_l, else W_l = U V^T of this rank */
} model_cfg;


/* Where a training step's time goes: wall seconds of each stage, summed over
 * the steps timed (model.stage_s; the training loop adds the loader and the
 * loss). The forward and backward of a stage are apart; "top" is the top MLP of
 * dlrm and all that follows the concatenation in the other archs; the
 * embeddings' backward includes the tables' optimizer step when the method
 * fuses it (backward_step); MS_STEP is the rest of the optimizer step (the
 * dense layers, unfused tables, a method's on_step). */
typedef enum model_stage {
    MS_LOADER, MS_BOTTOM_FWD, MS_EMB_FWD, MS_INTER_FWD, MS_TOP_FWD, MS_LOSS,
    MS_TOP_BWD, MS_INTER_BWD, MS_EMB_BWD, MS_BOTTOM_BWD, MS_STEP, MS_N
} model_stage;
/* The stages' names, by model_stage value (the run_stages table's `stage`). */
extern const char *const model_stage_names[MS_N];

typedef struct model {
    model_cfg         cfg;
    double           *stage_s;      /* (MS_N) adds each stage's time when set; NULL: untimed */
    int32_t           F, D, Dd, Dx; /* fields, emb dim, dense inputs, bottom output width */
    int32_t           Wi;           /* interaction output width = top MLP input */
    int32_t           max_batch;
    int               has_bottom;
    mlp               bottom, top;  /* top: the deep MLP of the other archs */
    mlp               head;         /* dcn parallel: [x_L, deep hidden] -> logit */
    cross             cross;        /* dcn */
    wide              wide;         /* deepfm, wdl */
    int               has_wide;
    float            *part;         /* (2, max_batch) FM and wide terms; deepfm, wdl */
    float            *sum;          /* (max_batch) summed logits; deepfm, wdl */
    float            *xl_grad;      /* (max_batch, Wi) dcn: gradient of x_L */
    float            *dtmp;         /* (max_batch, Wi) dcn parallel: deep's input gradient */
    float            *headin;       /* (max_batch, Wi + H) dcn parallel */
    float            *dheadin;      /* (max_batch, Wi + H) */
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
/* model_train_step: model_backward, then model_step(t), with the same results;
 * a method's backward_step, where it has one, does its step in the backward
 * pass (each table updated while its rows are in cache). Training calls this;
 * the two apart are for tests that read gradients in between. */
hx_status model_train_step(model *m, const float *labels, int B, int64_t t, char *err, size_t errlen);
/* Bytes of the MLP and cross parameters (not part of the embedding ratio). */
uint64_t model_dense_bytes(const model *m);

/* Arch parts (model_arch.c), called by model.c for arch != dlrm. */
hx_status model_arch_create(model *m, hx_rng *rng, opt_cfg dense_opt, const emb_spec *spec, char *err,
                            size_t errlen);
void      model_arch_free(model *m);
const float *model_arch_forward(model *m, const float *dense, const int64_t *idx, int B);
void      model_arch_backward(model *m, int B);
void      model_arch_step(model *m, int64_t t);
/* The bytes of a model's per-id scalar tables (deepfm, wdl; none otherwise) for spec,
 * added into out, and their uncompressed bytes (0 for dlrm and dcn). */
void      model_scalar_account(const model_cfg *cfg, const emb_spec *spec, emb_bytes *out);
double    model_scalar_full_bytes(const model_cfg *cfg, const emb_spec *spec);

#endif
