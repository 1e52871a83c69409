/* test_alpt.c: ALPT (methods/alpt.c) beyond the conformance suite:
 *   - the ratio is fixed by bits: other ratios are refused naming 3.2 and 1.78 at
 *     dim 16; bytes by hand;
 *   - round trip: after each update of a trained row, its de-quantised value is
 *     within Delta/2 of the full-precision row the optimizer produced (its shadow)
 *     with nearest rounding, and within Delta, unbiased, with stochastic rounding;
 *   - the step Delta moves under the LSQ gradient (and not with scale_lr 0);
 *   - int8 ALPT trained on the default synthetic data (the default sweep's training:
 *     half an epoch, Adam) reaches the test AUC of `full` within 0.005, on the mean
 *     over seeds 1-3 (six runs, about 20 s).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "harness/train/run.h"
#include "method_fixture.h"
#include "methods/alpt.h"

static const int64_t k_card[2] = {10, 5000};

Test(alpt, ratio_fixed_by_bits_and_bytes_by_hand) {
    const emb_method *m = mt_method("alpt");
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    mt_spec(&s, m, 2, k_card, 16, 3.2);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(mt_get(m, &s, "bits"), 8);
    cr_expect_eq(p.bytes.infer_params, 5010ull * (16 + 4), "codes + step per row");
    cr_expect_eq(p.bytes.infer_index, 0);
    /* SGD: no optimizer state; slots min(batch 16, N) rows, a row->slot map, scratch */
    cr_expect_eq(p.bytes.train_optim, 0);
    cr_expect_eq(p.bytes.train_other, (10ull + 16) * (8 + 64) + 4 * 5010 + 2 * 64);
    mt_spec(&s, m, 2, k_card, 16, 1.78); /* plan wrote bits = 8 into s */
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(mt_get(m, &s, "bits"), 16);
    cr_expect_eq(p.bytes.infer_params, 5010ull * (32 + 4));
    mt_spec(&s, m, 2, k_card, 16, 4);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "range {1.78 (bits 16), 3.2 (bits 8)}") != NULL, "%s", err);
    mt_spec(&s, m, 2, k_card, 16, 3.2);
    mt_set(m, &s, "bits", 16);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "with bits=16: it gives ratio 1.78") != NULL, "%s", err);
    mt_set(m, &s, "bits", 12);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    /* Adam: 2D floats for the row and 2 for its step, per row */
    mt_spec(&s, m, 2, k_card, 16, 3.2);
    s.opt = opt_default(OPT_ADAM, 0.01f);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(p.bytes.train_optim, 4ull * 5010 * (32 + 2));
}

/* Train field 1 of a small alpt table with SGD on random gradients; at every step
 * compare each updated row with its shadow (the de-quantised row before the step,
 * updated by the same optimizer in full precision). Returns the mean signed error
 * in units of Delta and the largest |error| / Delta. */
static void round_trip(const char *rounding, double scale_lr, double *mean_err, double *max_err, int *moved) {
    const emb_method *m = mt_method("alpt");
    const int64_t card[2] = {10, 64};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 8, 8.0 / 3);
    s.opt = opt_default(OPT_SGD, 0.05f);
    mt_set(m, &s, "rounding", !strcmp(rounding, "nearest") ? 1 : 0);
    mt_set(m, &s, "scale_lr", scale_lr);
    void *st = mt_make(m, &s, &p);
    cr_assert_eq(mt_get(m, &s, "bits"), 8);
    enum { B = 16, D = 8 };
    int64_t idx[B * 2];
    float out[B * 2 * D], dout[B * 2 * D], before[64][D], step0[64], shadow[D], y[D];
    hx_rng rng;
    hx_rng_seed(&rng, 3);
    double sum = 0, mx = 0;
    long n = 0;
    *moved = 0;
    for (int64_t t = 1; t <= 40; t++) {
        for (int b = 0; b < B; b++) {
            idx[b * 2] = (int64_t)hx_rng_below(&rng, 10);
            idx[b * 2 + 1] = b < 4 ? 0 : (int64_t)hx_rng_below(&rng, 64); /* row 0 four times */
        }
        for (size_t k = 0; k < sizeof dout / sizeof dout[0]; k++) dout[k] = 0.2f * (float)hx_rng_normal(&rng);
        for (int64_t r = 0; r < 64; r++) alpt_row(st, 1, r, before[r], &step0[r]);
        m->forward(st, idx, B, out);
        m->backward(st, idx, B, dout);
        m->step(st, t);
        int seen[64] = {0};
        for (int b = 0; b < B; b++) {
            int64_t r = idx[b * 2 + 1];
            if (seen[r]++) continue;
            float g[D] = {0};
            for (int b2 = 0; b2 < B; b2++)
                if (idx[b2 * 2 + 1] == r)
                    for (int j = 0; j < D; j++) g[j] += dout[(b2 * 2 + 1) * D + j];
            memcpy(shadow, before[r], sizeof shadow);
            opt_row_step(&s.opt, shadow, g, NULL, D, t);
            float delta;
            alpt_row(st, 1, r, y, &delta);
            *moved += delta != step0[r];
            for (int j = 0; j < D; j++) {
                cr_assert_lt(fabsf(shadow[j]) / delta, 127, "clamped: the bound does not apply");
                double e = (y[j] - shadow[j]) / delta;
                sum += e;
                n++;
                mx = fabs(e) > mx ? fabs(e) : mx;
            }
        }
    }
    m->destroy(st);
    *mean_err = sum / (double)n;
    *max_err = mx;
}

Test(alpt, trained_row_dequantises_within_half_a_step_of_its_shadow) {
    double mean, mx;
    int moved;
    round_trip("nearest", 2e-5, &mean, &mx, &moved);
    cr_log_info("alpt nearest: max |deq - shadow| = %.4f Delta, mean %.4f", mx, mean);
    cr_expect_leq(mx, 0.5 + 1e-4, "nearest rounding: within Delta/2 (max %.6f Delta)", mx);
    cr_expect_gt(moved, 0, "the LSQ gradient moves Delta");
    round_trip("nearest", 0, &mean, &mx, &moved);
    cr_expect_eq(moved, 0, "scale_lr 0 keeps Delta");
}

/* Stochastic rounding (the default): within one step, and unbiased: the mean error
 * over all updated elements is near 0 while single errors exceed Delta/2. */
Test(alpt, stochastic_rounding_is_within_a_step_and_unbiased) {
    double mean, mx;
    int moved;
    round_trip("stochastic", 2e-5, &mean, &mx, &moved);
    cr_log_info("alpt stochastic: max |deq - shadow| = %.4f Delta, mean %.4f", mx, mean);
    cr_expect_lt(mx, 1 + 1e-4, "stochastic rounding: within one Delta (max %.6f)", mx);
    cr_expect_gt(mx, 0.5, "stochastic, not nearest: some error above Delta/2");
    cr_expect_lt(fabs(mean), 0.05, "unbiased: mean error %.4f Delta", mean);
}

static run_result run_default(const char *method, double ratio, uint64_t seed) {
    run_config c;
    run_config_default(&c); /* the default synthetic dataset, dim 16 */
    c.method = emb_method_find(method);
    cr_assert_not_null(c.method);
    emb_params_default(c.method, c.pv);
    c.ratio = ratio;
    c.seed = seed;
    c.train.epochs = 0.5; /* as experiments/default.yaml */
    c.train.threads = 1;
    run_result r;
    char err[256] = "";
    cr_assert_eq(run_execute(&c, NULL, &r, err, sizeof err), HX_OK, "%s: %s", method, err);
    return r;
}

/* Mean over seeds 1-3: single seeds of full alone spread by about 0.005. */
Test(alpt, int8_auc_within_0005_of_full_on_default_data) {
    double d = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        run_result full = run_default("full", 1, seed), a = run_default("alpt", 3.2, seed);
        cr_log_info("default data, seed %llu: full %.4f, alpt int8 %.4f", (unsigned long long)seed, full.test_auc,
                    a.test_auc);
        cr_expect(fabs(a.ratio_achieved - 3.2) < 1e-9);
        d += (a.test_auc - full.test_auc) / 3;
    }
    cr_expect_leq(fabs(d), 0.005, "alpt int8 minus full, mean test AUC over seeds 1-3: %+.4f", d);
}
