/* method_fixture.h: the one spec builder of the method tests (test_methods.c and
 * the per-method test_<method>.c): an emb_spec with fixed defaults that a test
 * then adjusts, parameters set by name, plan followed by create. */
#ifndef EMBSWEEP_METHOD_FIXTURE_H
#define EMBSWEEP_METHOD_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"

/* The registered method called `name` (or with that alias). */
static inline const emb_method *mt_method(const char *name) {
    const emb_method *m = emb_method_find(name);
    cr_assert_not_null(m, "%s is not registered", name);
    return m;
}

/* A spec for m: F fields of card[] rows, width dim, the requested ratio; seed 42,
 * batch 16, 10 steps per epoch and in total, SGD with lr 0.1 for the sparse and
 * the dense optimizer, m's default parameters. A test changes what it varies. */
static inline void mt_spec(emb_spec *s, const emb_method *m, int32_t F, const int64_t *card, int32_t dim,
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

static inline void mt_set(const emb_method *m, emb_spec *s, const char *param, double v) {
    int i = emb_param_index(m, param);
    cr_assert_geq(i, 0, "%s has no parameter %s", m->name, param);
    s->pv[i] = v;
}

static inline double mt_get(const emb_method *m, const emb_spec *s, const char *param) {
    int i = emb_param_index(m, param);
    cr_assert_geq(i, 0, "%s has no parameter %s", m->name, param);
    return s->pv[i];
}

/* create (must succeed); returns the state. */
static inline void *mt_create(const emb_method *m, const emb_spec *s) {
    char err[256] = "";
    void *st = NULL;
    cr_assert_eq(m->create(s, &st, err, sizeof err), HX_OK, "%s: create: %s", m->name, err);
    return st;
}

/* plan (must succeed; into *p) then create (must succeed); returns the state. */
static inline void *mt_make(const emb_method *m, emb_spec *s, emb_plan *p) {
    char err[256] = "";
    cr_assert_eq(m->plan(s, p, err, sizeof err), HX_OK, "%s: plan: %s", m->name, err);
    return mt_create(m, s);
}

/* plan must fail and name the reachable range. */
static inline void mt_expect_refused(const emb_method *m, emb_spec *s) {
    emb_plan p;
    char err[256] = "";
    cr_expect_neq(m->plan(s, &p, err, sizeof err), HX_OK, "%s: ratio %g should be refused", m->name, s->ratio);
    cr_expect(strstr(err, "range") != NULL, "%s: error should name the range: %s", m->name, err);
}

/* plan must succeed within 5% of the requested ratio. */
static inline void mt_expect_plans(const emb_method *m, emb_spec *s) {
    emb_plan p;
    char err[256] = "";
    cr_expect_eq(m->plan(s, &p, err, sizeof err), HX_OK, "%s at %g: %s", m->name, s->ratio, err);
    cr_expect(p.ratio >= 0.95 * s->ratio && p.ratio <= 1.05 * s->ratio, "%s: requested %g planned %g", m->name,
              s->ratio, p.ratio);
}

#endif
