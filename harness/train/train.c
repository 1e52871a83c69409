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

hx_status run_execute(const run_config *cfg, const run_observer *obs, run_result *res,
                      char *err, size_t errlen) {
    const double t_start = hx_now(), c_start = hx_cpu_time();
    hx_status rc = HX_OK;
    ds_data *ds = NULL;
    model m;
    batch_buf bb = {0};
    int64_t *perm = NULL, *rows = NULL;
    float *prob = NULL;
    memset(&m, 0, sizeof m);
    memset(res, 0, sizeof *res);
    res->test_auc = res->test_logloss = res->test_acc = NAN;
    res->val_auc = res->val_logloss = NAN;
    res->bayes_auc = res->bayes_logloss = NAN;
    res->ratio_requested = cfg->ratio;
    const train_cfg *tc = &cfg->train;
    const emb_method *meth = cfg->method;

    if (!meth) return hx_error(HX_ERR_PARAM, err, errlen, "no method given");
    if (tc->batch < 1) return hx_error(HX_ERR_PARAM, err, errlen, "batch must be >= 1");
    if (!(tc->epochs > 0) || !(tc->lr > 0))
        return hx_error(HX_ERR_PARAM, err, errlen, "epochs and lr must be > 0");
    if (tc->optimizer == OPT_ROWWISE_ADAGRAD)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "rowwise_adagrad is for embedding rows; the dense optimizer is sgd, adagrad or adam");
    if (cfg->dim < 1) return hx_error(HX_ERR_PARAM, err, errlen, "dim must be >= 1");
    /* The engine's own pool does the threading; OpenBLAS runs one thread per call
     * (pool.h), so "N threads" means N busy threads at most. */
    openblas_set_num_threads(1);
    hx_pool *pool = NULL;
    if (tc->threads > 1 && !(pool = hx_pool_create(tc->threads, err, errlen))) return HX_ERR_INTERNAL;

    if (obs && obs->phase) obs->phase(obs->ctx, "load");
    double t0 = hx_now();
    rc = ds_load(&cfg->dataset, cfg->cache_dir, &ds, err, errlen);
    if (rc != HX_OK) goto done;
    res->load_s = hx_now() - t0;
    res->n_train = ds->n_train;
    res->n_val = ds->n_val;
    res->n_test = ds->n_test;
    res->bayes_auc = ds->bayes_auc;
    res->bayes_logloss = ds->bayes_logloss;
    if (ds->n_train < 1 || ds->n_test < 1) {
        rc = hx_error(HX_ERR_PARAM, err, errlen, "dataset %s has %lld train and %lld test rows",
                      ds->name, (long long)ds->n_train, (long long)ds->n_test);
        goto done;
    }

    const int batch = tc->batch;
    const int64_t steps_per_epoch = (ds->n_train + batch - 1) / batch;
    int64_t total_steps = (int64_t)ceil(tc->epochs * (double)steps_per_epoch - 1e-9);
    if (total_steps < 1) total_steps = 1;
    emb_spec spec = {
        .n_fields = ds->n_fields, .card = ds->card, .dim = cfg->dim, .ratio = cfg->ratio,
        .seed = run_method_seed(cfg->seed), .batch = batch, .steps_per_epoch = steps_per_epoch,
        .total_steps = total_steps,
        .opt = opt_default(tc->emb_optimizer, (float)(tc->emb_lr > 0 ? tc->emb_lr : tc->lr)),
        .dense_opt = opt_default(tc->optimizer, (float)tc->lr),
        .pool = pool,
    };
    memcpy(spec.pv, cfg->pv, sizeof spec.pv);
    rc = emb_params_check(meth, spec.pv, err, errlen);
    if (rc != HX_OK) goto done;
    emb_plan plan;
    rc = meth->plan(&spec, &plan, err, errlen);
    if (rc != HX_OK) goto done;
    snprintf(res->knobs, sizeof res->knobs, "%s", plan.knobs);
    rc = model_create(&m, &cfg->model, ds->n_dense, meth, &spec, spec.dense_opt, cfg->seed, err, errlen);
    if (rc != HX_OK) goto done;
    res->bytes_dense = model_dense_bytes(&m);

    int64_t n_eval = ds->n_val > ds->n_test ? ds->n_val : ds->n_test;
    perm = hx_calloc((size_t)ds->n_train, sizeof(int64_t));
    rows = hx_calloc((size_t)batch, sizeof(int64_t));
    prob = hx_calloc(2 * (size_t)n_eval, sizeof(float)); /* probabilities, then logits */
    bb.idx = hx_calloc((size_t)batch * (size_t)ds->n_fields, sizeof(int64_t));
    bb.label = hx_calloc((size_t)batch, sizeof(float));
    if (ds->n_dense) bb.dense = hx_calloc((size_t)batch * (size_t)ds->n_dense, sizeof(float));
    if (!perm || !rows || !prob || !bb.idx || !bb.label || (ds->n_dense && !bb.dense)) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for batch buffers");
        goto done;
    }
    for (int64_t i = 0; i < ds->n_train; i++) perm[i] = i;

    const int chunk = tc->eval_batch > 0 && tc->eval_batch < batch ? tc->eval_batch : batch;
    const int selectable_early = tc->eval_every_epoch && !meth->finalize;
    const int64_t warm = total_steps / 10 < 20 ? total_steps / 10 : 20;
    hx_rng shuf;
    hx_rng_seed(&shuf, hx_splitmix64(cfg->seed ^ 0x73687566ULL));
    double train_time = 0, warm_time = 0, log_sum = 0, last_progress = hx_now();
    int64_t step = 0, warm_samples = 0, log_n = 0;
    int have_best = 0, epoch = 0;

    if (obs && obs->phase) obs->phase(obs->ctx, "train");
    while (step < total_steps) {
        epoch++;
        for (int64_t i = ds->n_train - 1; i > 0; i--) {
            int64_t j = (int64_t)hx_rng_below(&shuf, (uint64_t)i + 1);
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int64_t start = 0; start < ds->n_train && step < total_steps; start += batch) {
            double ts = hx_now();
            int B = (int)(ds->n_train - start < batch ? ds->n_train - start : batch);
            gather(&bb, ds, perm + start, B);
            const float *z = model_forward(&m, bb.dense, bb.idx, B);
            double loss = bce_forward(z, bb.label, B);
            if (!isfinite(loss)) {
                rc = hx_error(HX_ERR_DIVERGED, err, errlen, "non-finite training loss at step %lld",
                              (long long)step + 1);
                goto done;
            }
            model_backward(&m, bb.label, B);
            step++;
            rc = model_step(&m, step, err, errlen);
            if (rc != HX_OK) goto done;
            double dt = hx_now() - ts;
            train_time += dt;
            if (step > warm) {
                warm_time += dt;
                warm_samples += B;
            }
            log_sum += loss;
            log_n++;
            if (tc->log_every > 0 && step % tc->log_every == 0) {
                res->final_train_loss = log_sum / (double)log_n;
                if (obs && obs->loss)
                    obs->loss(obs->ctx, step, (double)step / (double)steps_per_epoch, res->final_train_loss);
                log_sum = 0;
                log_n = 0;
            }
            if (obs && obs->progress && hx_now() - last_progress >= 1.0) {
                last_progress = hx_now();
                obs->progress(obs->ctx, (double)step / (double)total_steps);
            }
        }
        if (step >= total_steps || !selectable_early) continue;
        /* an intermediate evaluation: the trained form is the inference form */
        double te = hx_now();
        split_metrics v = eval_split(&m, &bb, rows, prob, prob + n_eval, ds, ds->n_train, ds->n_val, chunk);
        if (select_better(res, have_best, v)) {
            split_metrics t = eval_split(&m, &bb, rows, prob, prob + n_eval, ds, ds->n_train + ds->n_val, ds->n_test, chunk);
            select_record(res, v, t, epoch);
            have_best = 1;
        }
        res->eval_s += hx_now() - te;
    }
    if (log_n) res->final_train_loss = log_sum / (double)log_n;
    res->steps = step;
    res->train_s = train_time;
    res->train_samples_per_s = warm_time > 0 ? (double)warm_samples / warm_time : NAN;

    if (obs && obs->phase) obs->phase(obs->ctx, "eval");
    double te = hx_now();
    if (meth->finalize) {
        rc = meth->finalize(m.emb, err, errlen);
        if (rc != HX_OK) goto done;
    }
    split_metrics v = {NAN, NAN, NAN, 0};
    if (ds->n_val > 0) v = eval_split(&m, &bb, rows, prob, prob + n_eval, ds, ds->n_train, ds->n_val, chunk);
    double ti = hx_now();
    split_metrics t = eval_split(&m, &bb, rows, prob, prob + n_eval, ds, ds->n_train + ds->n_val, ds->n_test, chunk);
    ti = hx_now() - ti;
    if (v.nonfinite || t.nonfinite) {
        rc = hx_error(HX_ERR_DIVERGED, err, errlen, "non-finite predictions on the %s split after training",
                      t.nonfinite ? "test" : "validation");
        goto done;
    }
    res->infer_samples_per_s = ti > 0 ? (double)ds->n_test / ti : NAN;
    if (select_better(res, have_best, v)) select_record(res, v, t, epoch);
    res->eval_s += hx_now() - te;
    meth->bytes(m.emb, &res->bytes);
    res->bytes_infer = emb_bytes_infer(&res->bytes);
    res->bytes_train = emb_bytes_train(&res->bytes);
    res->ratio_achieved = res->bytes_infer ? emb_full_bytes(&spec) / (double)res->bytes_infer : NAN;

done:
    res->wall_s = hx_now() - t_start;
    res->cpu_s = hx_cpu_time() - c_start;
    hx_free(perm);
    hx_free(rows);
    hx_free(prob);
    hx_free(bb.idx);
    hx_free(bb.label);
    hx_free(bb.dense);
    model_free(&m);
    hx_pool_free(pool);
    ds_free(ds);
    return rc;
}
