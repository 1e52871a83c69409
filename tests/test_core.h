/* test_core.h: shared set-up for the model tests (test_model.c, test_reference.c). */
#ifndef EMBSWEEP_TEST_CORE_H
#define EMBSWEEP_TEST_CORE_H

#include <criterion/criterion.h>

#include "harness/train/model.h"

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
