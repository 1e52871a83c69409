/* bl_fixture.h: small helpers shared by the baseline method tests
 * (test_qr.c, test_md.c, test_tt.c, test_robe.c, test_quant.c). */
#ifndef EMBSWEEP_BL_FIXTURE_H
#define EMBSWEEP_BL_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"

static inline void bl_spec(emb_spec *s, const emb_method *m, int32_t F, const int64_t *card, int32_t dim,
                           double ratio) {
    memset(s, 0, sizeof *s);
    s->n_fields = F;
    s->card = card;
    s->dim = dim;
    s->ratio = ratio;
    s->seed = 42;
    s->batch = 16;
    s->steps_per_epoch = 10;
    s->total_steps = 10;
    s->opt = opt_default(OPT_SGD, 0.1f);
    s->dense_opt = opt_default(OPT_SGD, 0.1f);
    emb_params_default(m, s->pv);
}

static inline void bl_set(const emb_method *m, emb_spec *s, const char *param, double v) {
    int i = emb_param_index(m, param);
    cr_assert_geq(i, 0, "%s has no parameter %s", m->name, param);
    s->pv[i] = v;
}

static inline double bl_get(const emb_method *m, const emb_spec *s, const char *param) {
    int i = emb_param_index(m, param);
    cr_assert_geq(i, 0, "%s has no parameter %s", m->name, param);
    return s->pv[i];
}

/* plan (must succeed) then create. */
static inline void *bl_make(const emb_method *m, emb_spec *s, emb_plan *p) {
    char err[256] = "";
    cr_assert_eq(m->plan(s, p, err, sizeof err), HX_OK, "%s: plan: %s", m->name, err);
    void *st = NULL;
    cr_assert_eq(m->create(s, &st, err, sizeof err), HX_OK, "%s: create: %s", m->name, err);
    return st;
}

/* plan must fail and name the reachable range. */
static inline void bl_expect_refused(const emb_method *m, emb_spec *s) {
    emb_plan p;
    char err[256] = "";
    cr_expect_neq(m->plan(s, &p, err, sizeof err), HX_OK, "%s: ratio %g should be refused", m->name, s->ratio);
    cr_expect(strstr(err, "range") != NULL, "%s: error should name the range: %s", m->name, err);
}

/* plan must succeed within 5% of the requested ratio. */
static inline void bl_expect_plans(const emb_method *m, emb_spec *s) {
    emb_plan p;
    char err[256] = "";
    cr_expect_eq(m->plan(s, &p, err, sizeof err), HX_OK, "%s at %g: %s", m->name, s->ratio, err);
    cr_expect(p.ratio >= 0.95 * s->ratio && p.ratio <= 1.05 * s->ratio, "%s: requested %g planned %g", m->name,
              s->ratio, p.ratio);
}

#endif
