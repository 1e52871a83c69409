/* run.h: one run = one (dataset, method, dim, ratio, seed, settings) cell, trained
 * and evaluated in the calling process. The sweep harness calls run_execute()
 * inside a worker process; `embsweep train` calls it directly.
 *
 * The observer lets the caller see phases (to reset and read peak RSS per phase),
 * the training-loss curve and progress, without the training code knowing about
 * pipes or SQLite.
 */
#ifndef EMBSWEEP_RUN_H
#define EMBSWEEP_RUN_H

#include <stdint.h>

#include "datasets/dataset.h"
#include "harness/core/optim.h"
#include "methods/method.h"
#include "model.h"

typedef struct train_cfg {
    double   epochs;        /* may be fractional */
    int32_t  batch;
    int32_t  eval_batch;
    opt_kind optimizer;     /* dense layers: sgd | adagrad | adam */
    double   lr;
    opt_kind emb_optimizer; /* sparse rows: sgd | rowwise_adagrad | adagrad | adam */
    double   emb_lr;
    int32_t  log_every;     /* record the training loss every N steps */
    int32_t  threads;       /* engine threads (harness/core/pool.h); 0 or 1 = one */
    int32_t  eval_every_epoch; /* 1: evaluate validation each epoch, select on it */
} train_cfg;

typedef struct run_config {
    ds_spec          dataset;
    const emb_method *method;
    int32_t          dim;
    double           ratio;
    uint64_t         seed;
    double           pv[EMB_MAX_PARAMS]; /* method parameters (EMB_AUTO where auto) */
    model_cfg        model;
    train_cfg        train;
    const char      *cache_dir;          /* dataset cache, may be NULL */
} run_config;

typedef struct run_result {
    /* accuracy */
    double   test_auc, test_logloss, test_acc;
    double   val_auc, val_logloss;
    double   bayes_auc, bayes_logloss;  /* NAN when the dataset has no planted model */
    int32_t  best_epoch;                /* selected on validation AUC */
    /* sizes */
    double   ratio_requested, ratio_achieved;
    emb_bytes bytes;                    /* after finalize */
    uint64_t bytes_infer, bytes_train;
    uint64_t bytes_dense;               /* MLP parameters (not part of the ratio) */
    char     knobs[160];                /* plan summary */
    /* speed */
    double   train_samples_per_s, infer_samples_per_s;
    double   train_s, eval_s, load_s, wall_s, cpu_s;
    double   stage_s[MS_N];             /* train_s by stage (model_stage), training steps only */
    int64_t  steps;
    double   final_train_loss;
    int64_t  n_train, n_val, n_test;
} run_result;

typedef struct run_observer {
    void *ctx;
    /* phase: "load", "train", "eval" (finalize counts in eval); called at its start */
    void (*phase)(void *ctx, const char *phase);
    /* loss: the mean training loss over the last log_every steps */
    void (*loss)(void *ctx, int64_t step, double epoch, double train_loss);
    /* progress: fraction of all training steps done, called about once a second */
    void (*progress)(void *ctx, double frac);
    /* scores (optional): called once, when the run succeeded, with the test split's
     * logits at the selected evaluation (the one whose test metrics res holds) and
     * the test labels (0/1), (n) each in test-row order, n = res->n_test. The
     * pointers are valid during the call only. When set, run_execute keeps a copy
     * of the selected logits (n floats, allocated with the evaluation buffers; a
     * memcpy at each selection); when NULL it keeps none. */
    void (*scores)(void *ctx, const float *logits, const float *label, int64_t n);
} run_observer;

/* Defaults for every field (synthetic default dataset, full method, dim 16): the
 * defaults of the key table, run_keys.c, and the method's parameter defaults. */
void run_config_default(run_config *cfg);

/* The embedding-row optimizer that goes with a dense optimizer (core addition):
 * sgd -> sgd, adagrad -> rowwise_adagrad (DLRM rwsadagrad), adam -> adam. */
opt_kind run_default_emb_optimizer(opt_kind dense);

/* The seed a method gets (emb_spec.seed: its init and hash functions) for a run
 * seed: a salted stream of its own, so it never replays the draws of another
 * consumer of the same number (the synthetic generator seeds its planted model
 * with the dataset seed, also 1 by default; the MLP init and the shuffle are
 * salted the same way). */
uint64_t run_method_seed(uint64_t seed);

/* Train and evaluate one cell. obs may be NULL. Returns HX_ERR_DIVERGED on a
 * non-finite loss, HX_ERR_PARAM on an unreachable plan. */
hx_status run_execute(const run_config *cfg, const run_observer *obs, run_result *res,
                      char *err, size_t errlen);

#endif
