/* test_methods.c: the conformance suite. Every test runs against every registered
 * method (squash/lzbench style), so a new method is covered by adding it to
 * methods/methods.def. Per method:
 *   plan        some ratio plans; unreachable ratios name the reachable range
 *   bytes       create()+bytes() equal plan()'s prediction; achieved ratio within 5%
 *   gradient    backward matches central finite differences per tensor (rel <= 1e-2)
 *   determinism same seed -> bit-identical outputs after a few training steps
 *   learns      a few steps reduce a toy regression loss
 *   finalize    after the planned steps, the inference path runs and stays close
 *               to the trained one
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/pool.h"
#include "method_fixture.h"
#include "methods/common/table.h"

#define TF 3
static const int64_t k_card_small[TF] = {5, 40, 300};
static const int64_t k_card_big[TF] = {10, 5000, 20000};

static int listed(const emb_method *m) { return !(m->caps & EMB_CAP_TEST_ONLY); }

/* The suite's spec: the shared builder with its seed, batch and optimizer. */
static void spec_init(emb_spec *s, const emb_method *m, const int64_t *card, int32_t dim,
                      double ratio, opt_kind k) {
    mt_spec(s, m, TF, card, dim, ratio);
    s->seed = 1234;
    s->batch = 8;
    s->total_steps = 30;
    s->opt = opt_default(k, 0.05f);
    s->dense_opt = opt_default(k == OPT_ROWWISE_ADAGRAD ? OPT_ADAGRAD : k, 0.05f);
}

/* The first ratio from a fixed list that plans, or 0. */
static double plannable_ratio(const emb_method *m, const int64_t *card, int32_t dim, emb_spec *out,
                              emb_plan *plan) {
    /* 8/3, 16/3, 4/3: the fixed ratios of row-wise int8/int4 at dims 16 and 4;
     * 3.2: alpt's int8 at dim 16 */
    static const double ratios[] = {2, 4, 1, 3, 8, 1.5, 16, 8.0 / 3, 16.0 / 3, 4.0 / 3, 3.2};
    char err[256];
    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
        spec_init(out, m, card, dim, ratios[i], OPT_SGD);
        if (m->plan(out, plan, err, sizeof err) == HX_OK) return ratios[i];
    }
    return 0;
}

static void random_idx(hx_rng *r, const int64_t *card, int64_t B, int64_t *idx) {
    for (int64_t b = 0; b < B; b++)
        for (int f = 0; f < TF; f++) idx[b * TF + f] = (int64_t)hx_rng_below(r, (uint64_t)card[f]);
}

static double dotd(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* The registry holds exactly methods.def, in its order: every listed method, then
 * the test-only fault methods. registry.c links each entry strongly, so a bad line
 * fails the build; this pins the list itself. */
Test(methods, registry_lists_every_method_in_order) {
    static const char *const listed_names[] = {"full", "hash", "mlet", "memcom", "cqr", "fiited", "qr",
                                               "md",   "tt",   "robe", "pq",     "int8", "int4",   "dhe",
                                               "cafe", "pep",  "alpt", "adaembed"};
    static const char *const test_only[] = {"fault_segv", "fault_hang", "fault_alloc", "fault_nan"};
    const size_t nl = sizeof listed_names / sizeof listed_names[0], nt = sizeof test_only / sizeof test_only[0];
    cr_assert_eq(emb_method_count(), nl + nt, "%zu methods registered, expected %zu", emb_method_count(), nl + nt);
    for (size_t i = 0; i < nl + nt; i++) {
        const emb_method *m = emb_method_at(i);
        const char *want = i < nl ? listed_names[i] : test_only[i - nl];
        cr_expect_str_eq(m->name, want, "registry position %zu", i);
        cr_expect_eq(listed(m), i < nl, "%s: test-only flag", m->name);
    }
}

Test(methods, registry_is_consistent) {
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        cr_expect_eq(emb_method_find(m->name), m, "%s: find by name", m->name);
        if (m->alias) cr_expect_eq(emb_method_find(m->alias), m, "%s: find by alias", m->name);
        /* the table written by designated index: n_params named entries (no hole
         * left by a forgotten index), distinct names, then the terminator */
        cr_assert_leq(m->n_params, EMB_MAX_PARAMS, "%s", m->name);
        for (int p = 0; p < m->n_params; p++) {
            cr_assert_not_null(m->params[p].name, "%s: parameter %d has no entry", m->name, p);
            cr_expect_eq(emb_param_index(m, m->params[p].name), p, "%s: %s named twice", m->name, m->params[p].name);
            if (m->params[p].type == EMB_P_ENUM) cr_expect_not_null(m->params[p].choices, "%s.%s", m->name, m->params[p].name);
        }
        cr_expect_null(m->params[m->n_params].name, "%s: more parameters than n_params", m->name);
        double pv[EMB_MAX_PARAMS];
        char err[256];
        emb_params_default(m, pv);
        cr_expect_eq(emb_params_check(m, pv, err, sizeof err), HX_OK, "%s: defaults invalid: %s", m->name, err);
        m->destroy(NULL);
    }
    cr_expect_null(emb_method_find("no-such-method"));
}

Test(methods, plan_reachable_or_names_range) {
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        emb_spec s;
        emb_plan p;
        cr_expect_gt(plannable_ratio(m, k_card_big, 16, &s, &p), 0, "%s: no ratio plans", m->name);
        spec_init(&s, m, k_card_big, 16, 1e6, OPT_SGD);
        char err[256] = "";
        hx_status rc = m->plan(&s, &p, err, sizeof err);
        cr_expect_neq(rc, HX_OK, "%s: ratio 1e6 should be unreachable", m->name);
        cr_expect(strstr(err, "range") != NULL, "%s: error should name the range: %s", m->name, err);
    }
}

static void expect_bytes_eq(const emb_method *m, const emb_spec *s, const char *when, const emb_bytes *b,
                            const emb_bytes *p) {
    char at[64];
    snprintf(at, sizeof at, "dim %d ratio %g %s", s->dim, s->ratio, when);
    cr_expect_eq(b->train_params, p->train_params, "%s %s: train_params %llu vs plan %llu", m->name, at,
                 (unsigned long long)b->train_params, (unsigned long long)p->train_params);
    cr_expect_eq(b->train_optim, p->train_optim, "%s %s: train_optim", m->name, at);
    cr_expect_eq(b->train_other, p->train_other, "%s %s: train_other", m->name, at);
    cr_expect_eq(b->infer_params, p->infer_params, "%s %s: infer_params %llu vs plan %llu", m->name, at,
                 (unsigned long long)b->infer_params, (unsigned long long)p->infer_params);
    cr_expect_eq(b->infer_index, p->infer_index, "%s %s: infer_index", m->name, at);
    cr_expect_str_eq(b->index_desc, p->index_desc, "%s %s: index_desc", m->name, at);
}

/* create()+bytes() against plan() for one spec, right after create and after
 * finalize (plan() predicts the training peaks and the inference form). A
 * dynamic method is compared right after create only, before any round
 * reshapes it. */
static void bytes_vs_plan(const emb_method *m, emb_spec *s, const emb_plan *p) {
    char err[256];
    void *st = mt_create(m, s);
    emb_bytes b;
    m->bytes(st, &b);
    expect_bytes_eq(m, s, "after create", &b, &p->bytes);
    if (m->finalize) cr_expect_eq(m->finalize(st, err, sizeof err), HX_OK, "%s: finalize: %s", m->name, err);
    m->bytes(st, &b);
    if (!(m->caps & EMB_CAP_DYNAMIC)) expect_bytes_eq(m, s, "after finalize", &b, &p->bytes);
    double achieved = emb_full_bytes(s) / (double)emb_bytes_infer(&b);
    cr_expect(emb_plan_within(s->ratio, achieved), "%s: requested %g achieved %g", m->name, s->ratio, achieved);
    m->destroy(st);
}

/* plan() and bytes() come from one accounting function per method; this holds
 * them equal on both card sets, at dims 4 and 16, at every listed ratio that plans. */
Test(methods, bytes_match_plan_and_ratio) {
    static const double ratios[] = {1, 1.5, 2, 8.0 / 3, 3, 4, 16.0 / 3, 8, 16};
    static const int32_t dims[] = {4, 16};
    const int64_t *cards[] = {k_card_small, k_card_big};
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        int planned = 0;
        for (size_t c = 0; c < 2; c++)
            for (size_t d = 0; d < 2; d++)
                for (size_t r = 0; r < sizeof ratios / sizeof ratios[0]; r++) {
                    emb_spec s;
                    emb_plan p;
                    char err[256];
                    spec_init(&s, m, cards[c], dims[d], ratios[r], OPT_ROWWISE_ADAGRAD);
                    if (m->plan(&s, &p, err, sizeof err) != HX_OK) continue;
                    planned++;
                    bytes_vs_plan(m, &s, &p);
                }
        cr_expect_gt(planned, 0, "%s: nothing planned", m->name);
    }
}

/* L = sum(out . R), so dL/dout = R. */
static double probe_loss(const emb_method *m, void *st, const int64_t *idx, int64_t B, const float *R,
                         float *out) {
    m->forward(st, idx, B, out);
    return dotd(out, R, (size_t)B * TF * 4);
}

/* Central-difference check of every tensor of m on cards `card` at dim 4 [R].
 * Probes every coordinate with a nonzero gradient plus every 37th zero; when
 * there are more than 200 such coordinates it takes 200 spread evenly over
 * the tensor, so the last layers of a network are probed as well as the first,
 * except that at most 200 nonzero ones are all probed (with the rest of the 200
 * spread over the zeros): a tensor of one float per row (alpt's steps) has a
 * handful of them among thousands of zeros, which an even spread can miss.
 * A tensor whose analytic and numeric gradients are both zero on every probed
 * coordinate fails: the batch below touches every field, so every tensor of
 * every method receives gradient from it (none is exempt; a method whose tensor
 * legitimately gets none from such a batch would be listed here with why). */
static void grad_check(const emb_method *m, const int64_t *card, const char *what) {
    emb_spec s;
    emb_plan p;
    if (!m->tensors) { /* optional in method.h */
        fprintf(stderr, "%s: no tensors()/grad(): gradient check skipped\n", m->name);
        return;
    }
    if (plannable_ratio(m, card, 4, &s, &p) == 0) return;
    void *st = mt_create(m, &s);
    const int64_t B = 6;
    int64_t idx[6 * TF];
    float R[6 * TF * 4], out[6 * TF * 4];
    hx_rng rng;
    hx_rng_seed(&rng, 99);
    random_idx(&rng, card, B, idx);
    idx[TF + 1] = idx[1]; /* a duplicate row in the batch */
    for (size_t k = 0; k < sizeof R / sizeof R[0]; k++) R[k] = (float)hx_rng_normal(&rng);
    m->forward(st, idx, B, out);
    m->backward(st, idx, B, R);
    emb_tensor ts[64];
    int nt = m->tensors(st, ts, 64);
    cr_expect_gt(nt, 0, "%s: no tensors", m->name);
    for (int t = 0; t < nt; t++) {
        float *g = calloc(ts[t].n, sizeof(float));
        size_t *cand = malloc(ts[t].n * sizeof(size_t)), nc = 0, nz = 0;
        cr_assert(g && cand);
        m->grad(st, t, g);
        for (size_t j = 0; j < ts[t].n; j++) {
            nz += g[j] != 0;
            if (g[j] != 0 || j % 37 == 0) cand[nc++] = j;
        }
        if (nc > 200 && nz <= 200) { /* nonzero ones first, then the zeros */
            size_t a = 0, b = nz;
            for (size_t j = 0; j < ts[t].n; j++)
                if (g[j] != 0) cand[a++] = j;
                else if (j % 37 == 0) cand[b++] = j;
        }
        size_t np = nc < 200 ? nc : 200;
        double num = 0, den = 0;
        for (size_t q = 0; q < np; q++) {
            size_t j = nc > 200 && nz <= 200 ? (q < nz ? cand[q] : cand[nz + (q - nz) * (nc - nz) / (np - nz)])
                                             : cand[q * nc / np];
            float keep = ts[t].data[j];
            float h = 1e-3f * fmaxf(1.0f, fabsf(keep));
            ts[t].data[j] = keep + h;
            double lp = probe_loss(m, st, idx, B, R, out);
            ts[t].data[j] = keep - h;
            double lm = probe_loss(m, st, idx, B, R, out);
            ts[t].data[j] = keep;
            double fd = (lp - lm) / (2.0 * h);
            num += (fd - g[j]) * (fd - g[j]);
            den += fd * fd + (double)g[j] * g[j];
        }
        cr_expect_gt(den, 0, "%s (%s cards): tensor %d (%s): analytic and numeric gradients both zero on all %zu probes",
                     m->name, what, t, ts[t].name, np);
        double rel = den > 0 ? sqrt(num) / sqrt(den) : INFINITY;
        cr_expect_leq(rel, 1e-2, "%s (%s cards): tensor %d (%s) gradient rel error %.3g", m->name, what, t,
                      ts[t].name, rel);
        free(cand);
        free(g);
    }
    m->destroy(st);
}

Test(methods, gradient_matches_finite_differences) {
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        grad_check(m, k_card_small, "small");
        /* the small cards leave md without projections and dhe without
         * networks (every field under their thresholds); these compress */
        grad_check(m, k_card_big, "big");
    }
}

/* Train a few steps on a toy regression to fixed targets; returns the loss
 * history through first/last and the final outputs in out. */
static void toy_train_pool(const emb_method *m, opt_kind k, int steps, double *first, double *last, float *final_out,
                           hx_pool *pool) {
    emb_spec s;
    emb_plan p;
    cr_assert_gt(plannable_ratio(m, k_card_small, 4, &s, &p), 0);
    emb_spec s2 = s;
    spec_init(&s2, m, k_card_small, 4, s.ratio, k);
    memcpy(s2.pv, s.pv, sizeof s.pv);
    s2.pool = pool;
    char err[256];
    void *st = mt_make(m, &s2, &p);
    const int64_t B = 8;
    int64_t idx[8 * TF];
    float T[8 * TF * 4], out[8 * TF * 4], dout[8 * TF * 4];
    hx_rng rng;
    hx_rng_seed(&rng, 5);
    random_idx(&rng, k_card_small, B, idx);
    for (size_t j = 0; j < sizeof T / sizeof T[0]; j++) T[j] = 0.5f * (float)hx_rng_normal(&rng);
    for (int it = 1; it <= steps; it++) {
        m->forward(st, idx, B, out);
        double L = 0;
        for (size_t j = 0; j < sizeof T / sizeof T[0]; j++) {
            dout[j] = out[j] - T[j];
            L += 0.5 * dout[j] * dout[j];
        }
        if (it == 1) *first = L;
        *last = L;
        m->backward(st, idx, B, dout);
        m->step(st, it);
        if (m->on_step) cr_assert_eq(m->on_step(st, it, err, sizeof err), HX_OK, "%s: on_step: %s", m->name, err);
    }
    m->forward(st, idx, B, final_out);
    m->destroy(st);
}

static void toy_train(const emb_method *m, opt_kind k, int steps, double *first, double *last, float *final_out) {
    toy_train_pool(m, k, steps, first, last, final_out, NULL);
}

Test(methods, deterministic_from_seed) {
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        float a[8 * TF * 4], b[8 * TF * 4];
        double f1, l1, f2, l2;
        toy_train(m, OPT_ROWWISE_ADAGRAD, 12, &f1, &l1, a);
        toy_train(m, OPT_ROWWISE_ADAGRAD, 12, &f2, &l2, b);
        cr_expect(memcmp(a, b, sizeof a) == 0, "%s: outputs differ between identical runs", m->name);
    }
}

/* A method may split its work across spec->pool (methods/common/table.c splits per-field
 * tables by field); the pieces write disjoint memory, so training with a pool of
 * 2 or 3 threads must give exactly the serial outputs. */
Test(methods, pool_gives_serial_results) {
    char err[128];
    hx_pool *p2 = hx_pool_create(2, err, sizeof err), *p3 = hx_pool_create(3, err, sizeof err);
    cr_assert(p2 && p3, "%s", err);
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        float a[8 * TF * 4], b[8 * TF * 4], c[8 * TF * 4];
        double f, l;
        toy_train_pool(m, OPT_ROWWISE_ADAGRAD, 12, &f, &l, a, NULL);
        toy_train_pool(m, OPT_ROWWISE_ADAGRAD, 12, &f, &l, b, p2);
        toy_train_pool(m, OPT_ROWWISE_ADAGRAD, 12, &f, &l, c, p3);
        cr_expect(memcmp(a, b, sizeof a) == 0, "%s: 2 threads differ from 1", m->name);
        cr_expect(memcmp(a, c, sizeof a) == 0, "%s: 3 threads differ from 1", m->name);
    }
    hx_pool_free(p2);
    hx_pool_free(p3);
}

Test(methods, training_reduces_toy_loss) {
    static const opt_kind kinds[] = {OPT_SGD, OPT_ROWWISE_ADAGRAD, OPT_ADAM};
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        for (size_t k = 0; k < 3; k++) {
            float out[8 * TF * 4];
            double first, last;
            toy_train(m, kinds[k], 60, &first, &last, out);
            cr_expect_lt(last, first * 0.9, "%s with %s: loss %g -> %g", m->name, opt_kind_name(kinds[k]), first, last);
        }
    }
}

Test(methods, finalize_then_inference) {
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (!listed(m)) continue;
        emb_spec s;
        emb_plan p;
        if (plannable_ratio(m, k_card_small, 4, &s, &p) == 0) continue;
        char err[256];
        void *st = mt_create(m, &s);
        const int64_t B = 8;
        int64_t idx[8 * TF];
        float before[8 * TF * 4], after[8 * TF * 4];
        hx_rng rng;
        hx_rng_seed(&rng, 77);
        random_idx(&rng, k_card_small, B, idx);
        /* train the planned steps first: a method may only reach its inference
         * form during training (pep fixes its mask within the run's steps) */
        for (int64_t t = 1; t <= s.total_steps; t++) {
            m->forward(st, idx, B, before);
            for (size_t j = 0; j < sizeof before / sizeof before[0]; j++) before[j] *= 0.1f;
            m->backward(st, idx, B, before);
            m->step(st, t);
            if (m->on_step) cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s: on_step: %s", m->name, err);
        }
        m->forward(st, idx, B, before);
        if (m->finalize) cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s: %s", m->name, err);
        m->forward(st, idx, B, after);
        double num = 0, den = 0;
        for (size_t j = 0; j < sizeof after / sizeof after[0]; j++) {
            cr_expect(isfinite(after[j]), "%s: non-finite output after finalize", m->name);
            num += (after[j] - before[j]) * (after[j] - before[j]);
            den += before[j] * before[j];
        }
        /* exact methods agree to float rounding; quantizers within a loose bound */
        double tol = (m->caps & EMB_CAP_POST_TRAIN) ? 0.3 : 1e-5;
        cr_expect_leq(sqrt(num / (den + 1e-30)), tol, "%s: finalize changed outputs by %.3g (rel)", m->name,
                      sqrt(num / (den + 1e-30)));
        m->destroy(st);
    }
}

/* A fixed knob that misses the ratio is named with the ratio it gives, not
 * reported as an (impossible) reachable range such as [1, 0.915]. */
Test(methods, fixed_knob_refusal_names_the_knob) {
    static const struct {
        const char *method, *knob;
        double value;
    } cases[] = {{"tt", "rank", 1}, {"qr", "collisions", 2}, {"hash", "rows", 1}, {"robe", "size", 7},
                 {"dhe", "width", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const emb_method *m = emb_method_find(cases[i].method);
        cr_assert_not_null(m, "%s is not registered", cases[i].method);
        emb_spec s;
        emb_plan p;
        char err[256] = "", want[64];
        spec_init(&s, m, k_card_big, 16, 1.5, OPT_SGD);
        s.pv[emb_param_index(m, cases[i].knob)] = cases[i].value;
        cr_expect_eq(m->plan(&s, &p, err, sizeof err), HX_ERR_PARAM, "%s: plan should refuse", m->name);
        snprintf(want, sizeof want, "with %s=%g: it gives ratio", cases[i].knob, cases[i].value);
        cr_expect(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'", m->name, err, want);
    }
}

/* With every field at most `threshold` rows nothing is compressed: ratio 1 is
 * reachable for every method with a threshold (the plan keeps every table),
 * and ratio 2 is refused (hash and memcom once refused ratio 1 as well, with a
 * "reachable range [1, 1]"). */
Test(methods, all_small_fields_plan_ratio_one) {
    static const int64_t card[3] = {10, 20, 30};
    int tried = 0;
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        int thresholded = 0;
        for (int p = 0; m->params[p].name; p++) thresholded |= !strcmp(m->params[p].name, "threshold");
        if ((m->caps & EMB_CAP_TEST_ONLY) || !thresholded) continue;
        emb_spec spec = {.n_fields = 3, .card = card, .dim = 8, .ratio = 1, .seed = 1, .batch = 16,
                         .steps_per_epoch = 10, .total_steps = 10, .opt = opt_default(OPT_ADAGRAD, 0.05f),
                         .dense_opt = opt_default(OPT_ADAGRAD, 0.05f)};
        emb_params_default(m, spec.pv);
        emb_plan plan;
        char err[512] = "";
        cr_expect_eq(m->plan(&spec, &plan, err, sizeof err), HX_OK, "%s at ratio 1: %s", m->name, err);
        spec.ratio = 2;
        cr_expect_neq(m->plan(&spec, &plan, err, sizeof err), HX_OK, "%s at ratio 2", m->name);
        tried++;
    }
    cr_expect_geq(tried, 8, "the methods with a threshold (%d)", tried);
}
