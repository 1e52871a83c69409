/* stats_fixture.h: the seeded inputs of the statistics tests (test_stats.c,
 * test_stats_ref.c): pairs of correlated score vectors with 0/1 labels for
 * DeLong's test, and per-seed metric values for the t-based functions. */
#ifndef EMBSWEEP_STATS_FIXTURE_H
#define EMBSWEEP_STATS_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "harness/core/util.h"

/* Two score vectors on the same rows. n_pos of the n labels are 1, at seeded
 * places. Each score is sep * label + sqrt(rho) u + sqrt(1 - rho) e with u
 * shared by a and b (so their noise has correlation rho) and e their own;
 * sep is 1.0 for a and 0.8 for b. With levels > 0 the scores are rounded to a
 * grid of step 6 / levels (about levels + 1 distinct values, many ties across
 * and within the classes). */
typedef struct st_fix {
    const char *name;
    int64_t     n, n_pos;
    int         levels;
    double      rho;
    float      *a, *b, *y; /* (n) each, owned */
} st_fix;

/* The fixtures: ties, unequal classes, 10 to 20000 rows, correlated pairs. */
#define ST_N_FIX 6
static const st_fix k_st_fix[ST_N_FIX] = {
    {"dl_tiny", 10, 4, 3, 0.5, NULL, NULL, NULL},
    {"dl_small", 60, 9, 0, 0.3, NULL, NULL, NULL},
    {"dl_ties", 2000, 200, 6, 0.8, NULL, NULL, NULL},
    {"dl_corr", 5000, 1500, 0, 0.95, NULL, NULL, NULL},
    {"dl_large_ties", 20000, 1000, 12, 0.7, NULL, NULL, NULL},
    {"dl_large", 20000, 3000, 0, 0.5, NULL, NULL, NULL},
};

static inline float st_fix_score(double x, int levels) {
    return (float)(levels ? round(x * levels / 6.0) * (6.0 / levels) : x);
}

/* Fixture i of k_st_fix, drawn from seed; free with st_fix_free. */
static inline st_fix st_fix_make(int i, uint64_t seed) {
    st_fix f = k_st_fix[i];
    f.a = malloc((size_t)f.n * sizeof *f.a);
    f.b = malloc((size_t)f.n * sizeof *f.b);
    f.y = malloc((size_t)f.n * sizeof *f.y);
    cr_assert(f.a && f.b && f.y);
    hx_rng r;
    hx_rng_seed(&r, seed);
    for (int64_t k = 0; k < f.n; k++) f.y[k] = k < f.n_pos;
    for (int64_t k = f.n - 1; k > 0; k--) { /* Fisher-Yates */
        int64_t j = (int64_t)hx_rng_below(&r, (uint64_t)k + 1);
        float t = f.y[k];
        f.y[k] = f.y[j], f.y[j] = t;
    }
    double c = sqrt(f.rho), s = sqrt(1 - f.rho);
    for (int64_t k = 0; k < f.n; k++) {
        double u = c * hx_rng_normal(&r);
        f.a[k] = st_fix_score(1.0 * f.y[k] + u + s * hx_rng_normal(&r), f.levels);
        f.b[k] = st_fix_score(0.8 * f.y[k] + u + s * hx_rng_normal(&r), f.levels);
    }
    return f;
}

static inline void st_fix_free(st_fix *f) {
    free(f->a);
    free(f->b);
    free(f->y);
}

/* n per-seed values mean + sd * N(0, 1), from seed. */
static inline void st_fix_values(double *x, int n, double mean, double sd, uint64_t seed) {
    hx_rng r;
    hx_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = mean + sd * hx_rng_normal(&r);
}

#endif
