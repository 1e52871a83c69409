/* train.c: one training cell, run_execute() of run.h (its defaults, run_config_default,
 * come from the key table in run_keys.c).
 *
 * Load the dataset, plan the method for the requested ratio, build the model,
 * train `epochs` (fractional allowed) on shuffled minibatches of the train split,
 * evaluate, and fill run_result.
 *
 * Our choices [R]:
 *   - The order of training rows is a Fisher-Yates shuffle per epoch from the run
 *     seed (its own RNG stream), so the same config, seed and thread count give
 *     bit-identical metrics. A trailing partial batch is trained on.
 *   - Model selection uses validation AUC only; test metrics are reported at the
 *     selected evaluation. Evaluations happen at the end of every epoch (when
 *     eval_every_epoch) and after the last step. A method with a finalize() hook
 *     (train-to-inference conversion) is only selectable after finalize, i.e. at
 *     the final evaluation: an earlier epoch would report the accuracy of a
 *     representation that is not the one whose bytes are reported.
 *   - Evaluation runs in chunks of min(eval_batch, batch), because the method's
 *     buffers are sized for spec.batch = batch (so training bytes do not depend on
 *     eval_batch).
 *   - Training throughput counts only steps after a warm-up (the first
 *     min(20, steps/10) steps) and excludes evaluation time.
 *   - emb_lr <= 0 means "same as lr".
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "harness/core/loss.h"
#include "harness/core/metrics.h"
#include "model.h"
#include "run.h"

uint64_t run_method_seed(uint64_t seed) { return hx_splitmix64(seed ^ 0x6d6574686f64ULL); /* "method" */ }

opt_kind run_default_emb_optimizer(opt_kind dense) {
    switch (dense) {
    case OPT_SGD: return OPT_SGD;
    case OPT_ADAM: return OPT_ADAM;
    default: return OPT_ROWWISE_ADAGRAD;
    }
}

/* Batch buffers, gathered from the dataset rows listed in rows[]. */
typedef struct batch_buf {
    float   *dense;  /* (batch, Dd) or NULL */
    int64_t *idx;    /* (batch, F) */
    float   *label;  /* (batch) */
} batch_buf;

static void gather(batch_buf *bb, const ds_data *ds, const int64_t *rows, int B) {
    const int32_t F = ds->n_fields, Dd = ds->n_dense;
    for (int b = 0; b < B; b++) {
        int64_t r = rows[b];
        const uint32_t *c = ds->cat + (size_t)r * F;
        for (int32_t f = 0; f < F; f++) bb->idx[(size_t)b * F + f] = c[f];
        if (Dd) memcpy(bb->dense + (size_t)b * Dd, ds->dense + (size_t)r * Dd, (size_t)Dd * sizeof(float));
        bb->label[b] = ds->label[r];
    }
}

typedef struct split_metrics {
    double auc, logloss, acc;
    int    nonfinite;  /* 1 if any prediction was NaN or infinite */
} split_metrics;

/* Predict rows [start, start+n): logits into score (n) and probabilities into prob
 * (n), then score them. AUC ranks the logits: probabilities stored as float round
 * to 1.0f above a logit of ~17 and would create artificial ties. */
static split_metrics eval_split(model *m, batch_buf *bb, int64_t *rows, float *prob, float *score,
                                const ds_data *ds, int64_t start, int64_t n, int chunk) {
    split_metrics s = {NAN, NAN, NAN, 0};
    for (int64_t i = 0; i < n; i += chunk) {
        int B = (int)(n - i < chunk ? n - i : chunk);
        for (int b = 0; b < B; b++) rows[b] = start + i + b;
        gather(bb, ds, rows, B);
        const float *z = model_forward(m, bb->dense, bb->idx, B);
        for (int b = 0; b < B; b++) {
            if (!isfinite(z[b])) s.nonfinite = 1;
            score[i + b] = z[b];
            prob[i + b] = (float)sigmoid_stable(z[b]);
        }
    }
    if (s.nonfinite) return s;
    const float *y = ds->label + start;
    s.auc = metrics_auc(score, y, n);
    s.logloss = metrics_logloss(prob, y, n);
    s.acc = metrics_accuracy(prob, y, n);
    return s;
}

/* Selection on validation AUC: the first evaluation, a higher AUC, or (no
 * validation split) the latest one. */
static int select_better(const run_result *res, int have_best, split_metrics v) {
    return !have_best || v.auc > res->val_auc || isnan(res->val_auc);
}

static void select_record(run_result *res, split_metrics v, split_metrics t, int epoch) {
    res->val_auc = v.auc;
    res->val_logloss = v.logloss;
    res->test_auc = t.auc;
    res->test_logloss = t.logloss;
    res->test_acc = t.acc;
    res->best_epoch = epoch;
}

/* ---- run_execute: check, load, build, train epoch by epoch, evaluate, finish ---- */

/* Everything one run holds between its phases; run_ctx_free releases it. */
typedef struct run_ctx {
    const run_config   *cfg;
    const run_observer *obs;
    hx_pool            *pool;             /* engine threads, NULL for one */
    ds_data            *ds;
    emb_spec            spec;             /* the method's spec; the model keeps using it */
    model               m;
    batch_buf           bb;
    int64_t            *perm;             /* (n_train) the shuffled order of training rows */
    int64_t            *rows;             /* (batch) rows of one evaluation chunk */
    float              *prob;             /* (2 n_eval) probabilities, then logits */
    float              *best_test;        /* (n_test) test logits of the selected evaluation,
                                           * NULL when the observer wants no scores */
    int64_t             n_eval;           /* max(n_val, n_test) */
    int64_t             steps_per_epoch, total_steps;
    int64_t             warm;             /* steps left out of the throughput */
    int                 chunk;            /* evaluation batch */
    int                 selectable_early; /* evaluate and select at the end of each epoch */
    hx_rng              shuf;             /* the shuffle's own stream */
    /* training progress */
    int64_t             step, warm_samples, log_n;
    double              train_time, warm_time, log_sum, last_progress;
    int                 epoch, have_best;
} run_ctx;

static void run_phase(const run_ctx *x, const char *phase) {
    if (x->obs && x->obs->phase) x->obs->phase(x->obs->ctx, phase);
}

/* Every field unknown until measured: NAN metrics, zero counts. */
static void run_result_init(run_result *res, const run_config *cfg) {
    memset(res, 0, sizeof *res);
    res->test_auc = res->test_logloss = res->test_acc = NAN;
    res->val_auc = res->val_logloss = NAN;
    res->bayes_auc = res->bayes_logloss = NAN;
    res->ratio_requested = cfg->ratio;
}

static hx_status run_check(const run_config *cfg, char *err, size_t errlen) {
    const train_cfg *tc = &cfg->train;
    if (!cfg->method) return hx_error(HX_ERR_PARAM, err, errlen, "no method given");
    if (tc->batch < 1) return hx_error(HX_ERR_PARAM, err, errlen, "batch must be >= 1");
    if (!(tc->epochs > 0) || !(tc->lr > 0))
        return hx_error(HX_ERR_PARAM, err, errlen, "epochs and lr must be > 0");
    if (tc->optimizer == OPT_ROWWISE_ADAGRAD)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "rowwise_adagrad is for embedding rows; the dense optimizer is sgd, adagrad or adam");
    if (cfg->dim < 1) return hx_error(HX_ERR_PARAM, err, errlen, "dim must be >= 1");
    return HX_OK;
}

/* The "load" phase: the dataset and its sizes. */
static hx_status run_load(run_ctx *x, run_result *res, char *err, size_t errlen) {
    run_phase(x, "load");
    double t0 = hx_now();
    hx_status rc = ds_load(&x->cfg->dataset, x->cfg->cache_dir, &x->ds, err, errlen);
    if (rc != HX_OK) return rc;
    const ds_data *ds = x->ds;
    res->load_s = hx_now() - t0;
    res->n_train = ds->n_train;
    res->n_val = ds->n_val;
    res->n_test = ds->n_test;
    res->bayes_auc = ds->bayes_auc;
    res->bayes_logloss = ds->bayes_logloss;
    if (ds->n_train < 1 || ds->n_test < 1)
        return hx_error(HX_ERR_PARAM, err, errlen, "dataset %s has %lld train and %lld test rows", ds->name,
                        (long long)ds->n_train, (long long)ds->n_test);
    return HX_OK;
}

/* Still in "load": plan the method, build the model, allocate the batch and
 * evaluation buffers, seed the shuffle. */
static hx_status run_build(run_ctx *x, run_result *res, char *err, size_t errlen) {
    const run_config *cfg = x->cfg;
    const train_cfg *tc = &cfg->train;
    const ds_data *ds = x->ds;
    const int batch = tc->batch;
    x->steps_per_epoch = (ds->n_train + batch - 1) / batch;
    x->total_steps = (int64_t)ceil(tc->epochs * (double)x->steps_per_epoch - 1e-9);
    if (x->total_steps < 1) x->total_steps = 1;
    x->spec = (emb_spec){
        .n_fields = ds->n_fields, .card = ds->card, .dim = cfg->dim, .ratio = cfg->ratio,
        .seed = run_method_seed(cfg->seed), .batch = batch, .steps_per_epoch = x->steps_per_epoch,
        .total_steps = x->total_steps,
        .opt = opt_default(tc->emb_optimizer, (float)(tc->emb_lr > 0 ? tc->emb_lr : tc->lr)),
        .dense_opt = opt_default(tc->optimizer, (float)tc->lr),
        .pool = x->pool,
    };
    memcpy(x->spec.pv, cfg->pv, sizeof x->spec.pv);
    hx_status rc;
    emb_plan plan;
    if ((rc = emb_params_check(cfg->method, x->spec.pv, err, errlen)) != HX_OK ||
        (rc = cfg->method->plan(&x->spec, &plan, err, errlen)) != HX_OK)
        return rc;
    snprintf(res->knobs, sizeof res->knobs, "%s", plan.knobs);
    rc = model_create(&x->m, &cfg->model, ds->n_dense, cfg->method, &x->spec, x->spec.dense_opt, cfg->seed, err,
                      errlen);
    if (rc != HX_OK) return rc;
    res->bytes_dense = model_dense_bytes(&x->m);

    x->n_eval = ds->n_val > ds->n_test ? ds->n_val : ds->n_test;
    x->perm = hx_calloc((size_t)ds->n_train, sizeof(int64_t));
    x->rows = hx_calloc((size_t)batch, sizeof(int64_t));
    x->prob = hx_calloc(2 * (size_t)x->n_eval, sizeof(float));
    x->bb.idx = hx_calloc((size_t)batch * (size_t)ds->n_fields, sizeof(int64_t));
    x->bb.label = hx_calloc((size_t)batch, sizeof(float));
    if (ds->n_dense) x->bb.dense = hx_calloc((size_t)batch * (size_t)ds->n_dense, sizeof(float));
    if (x->obs && x->obs->scores) x->best_test = hx_calloc((size_t)ds->n_test, sizeof(float));
    if (!x->perm || !x->rows || !x->prob || !x->bb.idx || !x->bb.label || (ds->n_dense && !x->bb.dense) ||
        (x->obs && x->obs->scores && !x->best_test))
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for batch buffers");
    for (int64_t i = 0; i < ds->n_train; i++) x->perm[i] = i;

    x->chunk = tc->eval_batch > 0 && tc->eval_batch < batch ? tc->eval_batch : batch;
    x->selectable_early = tc->eval_every_epoch && !cfg->method->finalize;
    x->warm = x->total_steps / 10 < 20 ? x->total_steps / 10 : 20;
    hx_rng_seed(&x->shuf, hx_splitmix64(cfg->seed ^ 0x73687566ULL));
    x->last_progress = hx_now();
    return HX_OK;
}

/* The epoch's order of training rows: Fisher-Yates from the shuffle stream. */
static void run_shuffle(run_ctx *x) {
    int64_t *perm = x->perm;
    for (int64_t i = x->ds->n_train - 1; i > 0; i--) {
        int64_t j = (int64_t)hx_rng_below(&x->shuf, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* The running loss, timing and progress after a step of B samples. */
static void run_step_record(run_ctx *x, run_result *res, int B, double loss, double dt) {
    const run_observer *obs = x->obs;
    x->train_time += dt;
    if (x->step > x->warm) {
        x->warm_time += dt;
        x->warm_samples += B;
    }
    x->log_sum += loss;
    x->log_n++;
    const int32_t log_every = x->cfg->train.log_every;
    if (log_every > 0 && x->step % log_every == 0) {
        res->final_train_loss = x->log_sum / (double)x->log_n;
        if (obs && obs->loss)
            obs->loss(obs->ctx, x->step, (double)x->step / (double)x->steps_per_epoch, res->final_train_loss);
        x->log_sum = 0;
        x->log_n = 0;
    }
    if (obs && obs->progress && hx_now() - x->last_progress >= 1.0) {
        x->last_progress = hx_now();
        obs->progress(obs->ctx, (double)x->step / (double)x->total_steps);
    }
}

/* One pass over the shuffled training rows (or what is left of total_steps). */
static hx_status run_train_epoch(run_ctx *x, run_result *res, char *err, size_t errlen) {
    const ds_data *ds = x->ds;
    const int batch = x->cfg->train.batch;
    hx_status rc = HX_OK;
    x->m.stage_s = res->stage_s; /* evaluation's forwards stay untimed */
    for (int64_t start = 0; start < ds->n_train && x->step < x->total_steps; start += batch) {
        double ts = hx_now();
        int B = (int)(ds->n_train - start < batch ? ds->n_train - start : batch);
        gather(&x->bb, ds, x->perm + start, B);
        res->stage_s[MS_LOADER] += hx_now() - ts;
        const float *z = model_forward(&x->m, x->bb.dense, x->bb.idx, B);
        double tl = hx_now();
        double loss = bce_forward(z, x->bb.label, B);
        res->stage_s[MS_LOSS] += hx_now() - tl;
        if (!isfinite(loss)) {
            rc = hx_error(HX_ERR_DIVERGED, err, errlen, "non-finite training loss at step %lld",
                          (long long)x->step + 1);
            break;
        }
        x->step++;
        if ((rc = model_train_step(&x->m, x->bb.label, B, x->step, err, errlen)) != HX_OK) break;
        run_step_record(x, res, B, loss, hx_now() - ts);
    }
    x->m.stage_s = NULL;
    return rc;
}

static split_metrics run_eval_val(run_ctx *x) {
    return eval_split(&x->m, &x->bb, x->rows, x->prob, x->prob + x->n_eval, x->ds, x->ds->n_train, x->ds->n_val,
                      x->chunk);
}

static split_metrics run_eval_test(run_ctx *x) {
    return eval_split(&x->m, &x->bb, x->rows, x->prob, x->prob + x->n_eval, x->ds, x->ds->n_train + x->ds->n_val,
                      x->ds->n_test, x->chunk);
}

/* The evaluation just made is selected: its test metrics into res and, when
 * scores are wanted, its test logits (left by run_eval_test) into best_test. */
static void run_select(run_ctx *x, run_result *res, split_metrics v, split_metrics t) {
    select_record(res, v, t, x->epoch);
    if (x->best_test) memcpy(x->best_test, x->prob + x->n_eval, (size_t)x->ds->n_test * sizeof(float));
}

/* An intermediate evaluation at an epoch's end (the trained form is the
 * inference form): test metrics are recorded when validation selects it. */
static void run_select_epoch(run_ctx *x, run_result *res) {
    double te = hx_now();
    split_metrics v = run_eval_val(x);
    if (select_better(res, x->have_best, v)) {
        split_metrics t = run_eval_test(x);
        run_select(x, res, v, t);
        x->have_best = 1;
    }
    res->eval_s += hx_now() - te;
}

/* The "train" phase: epochs until total_steps, each followed by a selectable
 * evaluation when one is due. */
static hx_status run_train(run_ctx *x, run_result *res, char *err, size_t errlen) {
    run_phase(x, "train");
    while (x->step < x->total_steps) {
        x->epoch++;
        run_shuffle(x);
        hx_status rc = run_train_epoch(x, res, err, errlen);
        if (rc != HX_OK) return rc;
        if (x->step >= x->total_steps || !x->selectable_early) continue;
        run_select_epoch(x, res);
    }
    if (x->log_n) res->final_train_loss = x->log_sum / (double)x->log_n;
    res->steps = x->step;
    res->train_s = x->train_time;
    res->train_samples_per_s = x->warm_time > 0 ? (double)x->warm_samples / x->warm_time : NAN;
    return HX_OK;
}

/* The "eval" phase: finalize, the final evaluation (always selectable), and the
 * bytes of the representation that was evaluated. */
static hx_status run_finish(run_ctx *x, run_result *res, char *err, size_t errlen) {
    const emb_method *meth = x->cfg->method;
    run_phase(x, "eval");
    double te = hx_now();
    if (meth->finalize) {
        hx_status rc = meth->finalize(x->m.emb, err, errlen);
        if (rc != HX_OK) return rc;
    }
    split_metrics v = {NAN, NAN, NAN, 0};
    if (x->ds->n_val > 0) v = run_eval_val(x);
    double ti = hx_now();
    split_metrics t = run_eval_test(x);
    ti = hx_now() - ti;
    if (v.nonfinite || t.nonfinite)
        return hx_error(HX_ERR_DIVERGED, err, errlen, "non-finite predictions on the %s split after training",
                        t.nonfinite ? "test" : "validation");
    res->infer_samples_per_s = ti > 0 ? (double)x->ds->n_test / ti : NAN;
    if (select_better(res, x->have_best, v)) run_select(x, res, v, t);
    res->eval_s += hx_now() - te;
    meth->bytes(x->m.emb, &res->bytes);
    /* deepfm and wdl: the per-id scalar tables count with the embeddings, in
     * the bytes and in the full-model bytes of the ratio (harness/train/wide.h) */
    model_scalar_account(&x->cfg->model, &x->spec, &res->bytes);
    res->bytes_infer = emb_bytes_infer(&res->bytes);
    res->bytes_train = emb_bytes_train(&res->bytes);
    const double full = emb_full_bytes(&x->spec) + model_scalar_full_bytes(&x->cfg->model, &x->spec);
    res->ratio_achieved = res->bytes_infer ? full / (double)res->bytes_infer : NAN;
    return HX_OK;
}

static void run_ctx_free(run_ctx *x) {
    hx_free(x->perm);
    hx_free(x->rows);
    hx_free(x->prob);
    hx_free(x->best_test);
    hx_free(x->bb.idx);
    hx_free(x->bb.label);
    hx_free(x->bb.dense);
    model_free(&x->m);
    hx_pool_free(x->pool);
    ds_free(x->ds);
}

hx_status run_execute(const run_config *cfg, const run_observer *obs, run_result *res,
                      char *err, size_t errlen) {
    const double t_start = hx_now(), c_start = hx_cpu_time();
    run_ctx x;
    memset(&x, 0, sizeof x);
    x.cfg = cfg;
    x.obs = obs;
    run_result_init(res, cfg);
    hx_status rc = run_check(cfg, err, errlen);
    if (rc != HX_OK) return rc;
    /* The engine's own pool does the threading; OpenBLAS runs one thread per call
     * (pool.h), so "N threads" means N busy threads at most. */
    openblas_set_num_threads(1);
    if (cfg->train.threads > 1 && !(x.pool = hx_pool_create(cfg->train.threads, err, errlen)))
        return HX_ERR_INTERNAL;
    if ((rc = run_load(&x, res, err, errlen)) == HX_OK && (rc = run_build(&x, res, err, errlen)) == HX_OK &&
        (rc = run_train(&x, res, err, errlen)) == HX_OK)
        rc = run_finish(&x, res, err, errlen);
    if (rc == HX_OK && x.best_test)
        obs->scores(obs->ctx, x.best_test, x.ds->label + x.ds->n_train + x.ds->n_val, x.ds->n_test);
    res->wall_s = hx_now() - t_start;
    res->cpu_s = hx_cpu_time() - c_start;
    run_ctx_free(&x);
    return rc;
}
