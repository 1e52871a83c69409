/* test_core.h: shared set-up for the model tests (test_model.c, test_reference.c). */
#ifndef EMBSWEEP_TEST_CORE_H
#define EMBSWEEP_TEST_CORE_H

#include <criterion/criterion.h>
#include <math.h>

#include "harness/train/model.h"

static inline void fill_normal(hx_rng *r, float *x, size_t n, double s) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(s * hx_rng_normal(r));
}

/* ||a - b|| / max(||b||, floor), a float, b double */
static inline double rel_err(const float *a, const double *b, size_t n, double floor) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += b[i] * b[i];
    }
    den = sqrt(den);
    return sqrt(num) / (den > floor ? den : floor);
}

/* Plans m for *spec at the first ratio of a fixed list it reaches (1, 2, 4, 8,
 * 16, 8/3, 16/3), setting spec->ratio and the default parameters; 0 when none. */
static inline int test_plan_some_ratio(const emb_method *m, emb_spec *spec) {
    static const double ratios[] = {1, 2, 4, 8, 16, 8.0 / 3, 16.0 / 3};
    char err[256];
    emb_plan plan;
    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
        spec->ratio = ratios[i];
        emb_params_default(m, spec->pv);
        if (m->plan(spec, &plan, err, sizeof err) == HX_OK) return 1;
    }
    return 0;
}

/* A model on the `full` method with SGD, max batch B, F fields of card[] rows,
 * embedding width D, seeded by seed. */
static inline void test_full_model(model *m, const model_cfg *mc, int Dd, const int64_t *card, int F,
                                   int D, int B, uint64_t seed) {
    const emb_method *full = emb_method_find("full");
    cr_assert_not_null(full);
    emb_spec spec = {.n_fields = F, .card = card, .dim = D, .ratio = 1, .seed = seed, .batch = B,
                     .steps_per_epoch = 1, .total_steps = 1, .opt = opt_default(OPT_SGD, 0.1f),
                     .dense_opt = opt_default(OPT_SGD, 0.1f)};
    emb_params_default(full, spec.pv);
    emb_plan plan;
    char err[256];
    cr_assert_eq(full->plan(&spec, &plan, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(model_create(m, mc, Dd, full, &spec, spec.dense_opt, seed, err, sizeof err), HX_OK,
                 "%s", err);
}

#endif
