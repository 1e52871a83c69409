/* test_archs.c: the dcn, deepfm and wdl archs (model.h) and their layers.
 *   layer gradients  the cross network (full and low rank) and the FM term: the
 *                    analytic gradients vs central finite differences of the float
 *                    forward (loss accumulated in double), per-tensor relative
 *                    error (L2) <= 1e-2, as test_model.c does for DLRM's layers
 *   whole model      every arch: MLPs, cross, scalar tables and embedding tables
 *   threads          1 and 2 engine threads: the same bits twice at each count,
 *                    and the two counts agree to float rounding
 *   every method     trains under every arch: 60 steps on a learnable toy task,
 *                    the mean loss of the last 10 below that of the first 10
 *   bytes            deepfm's scalar tables count in a run's bytes at full and
 *                    compressed settings; the achieved ratio stays within 5%
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/cross.h"
#include "harness/core/fm.h"
#include "harness/core/loss.h"
#include "harness/train/model.h"
#include "harness/train/run.h"
#include "test_core.h"

#define GRAD_TOL 1e-2

/* ---- the cross network ---- */

static double cross_loss(cross *c, const float *x0, const float *R, int B) {
    const float *o = cross_forward(c, x0, B);
    double L = 0;
    for (int i = 0; i < B * c->W; i++) L += (double)o[i] * R[i];
    return L;
}

/* Central differences of f over the n floats at p, h = 1e-2 (the cross net is
 * smooth: no kinks to cross). */
#define FD_OF(p, n, g, expr)                                 \
    for (size_t i_ = 0; i_ < (n); i_++) {                    \
        const float s_ = (p)[i_], h_ = 1e-2f;                \
        (p)[i_] = s_ + h_;                                   \
        const double lp_ = (expr);                           \
        (p)[i_] = s_ - h_;                                   \
        const double lm_ = (expr);                           \
        (p)[i_] = s_;                                        \
        (g)[i_] = (lp_ - lm_) / ((double)(s_ + h_) - (double)(s_ - h_)); \
    }

static void check_cross(int L, int W, int rank) {
    const int B = 4;
    hx_rng r;
    hx_rng_seed(&r, 3);
    cross c;
    char err[128];
    cr_assert_eq(cross_create(&c, L, W, rank, B, opt_default(OPT_SGD, 0.1f), &r, err, sizeof err), HX_OK);
    for (int l = 0; l < L; l++) fill_normal(&r, c.b[l], (size_t)W, 0.3); /* biases start at 0: move them */
    float x0[4 * 9], R[4 * 9], dx0[4 * 9];
    fill_normal(&r, x0, (size_t)B * W, 1.0);
    fill_normal(&r, R, (size_t)B * W, 1.0);
    cross_forward(&c, x0, B);
    cross_backward(&c, R, dx0, B);
    double *g = calloc(c.n_params > (size_t)B * W ? c.n_params : (size_t)B * W, sizeof(double));
    FD_OF(c.params, c.n_params, g, cross_loss(&c, x0, R, B));
    double e = rel_err(c.grads, g, c.n_params, 1e-4);
    cr_expect_leq(e, GRAD_TOL, "cross L=%d W=%d rank=%d: parameters, rel err %g", L, W, rank, e);
    FD_OF(x0, (size_t)B * W, g, cross_loss(&c, x0, R, B));
    e = rel_err(dx0, g, (size_t)B * W, 1e-4);
    cr_expect_leq(e, GRAD_TOL, "cross L=%d W=%d rank=%d: dx0, rel err %g", L, W, rank, e);
    free(g);
    cross_free(&c);
}

Test(archs, cross_gradient_full_rank) { check_cross(3, 9, 0); }
Test(archs, cross_gradient_low_rank) { check_cross(2, 9, 3); }

/* The forward against the formula x_{l+1} = x0 * (W x_l + b) + x_l in double. */
Test(archs, cross_forward_matches_formula) {
    const int B = 3, W = 5, L = 2;
    hx_rng r;
    hx_rng_seed(&r, 8);
    cross c;
    char err[128];
    cr_assert_eq(cross_create(&c, L, W, 0, B, opt_default(OPT_SGD, 0.1f), &r, err, sizeof err), HX_OK);
    float x0[15];
    fill_normal(&r, x0, 15, 1.0);
    fill_normal(&r, c.b[1], 5, 1.0);
    const float *o = cross_forward(&c, x0, B);
    for (int b = 0; b < B; b++) {
        double x[5], y[5];
        for (int k = 0; k < W; k++) x[k] = x0[b * W + k];
        for (int l = 0; l < L; l++) {
            for (int q = 0; q < W; q++) {
                double s = c.b[l][q];
                for (int k = 0; k < W; k++) s += (double)c.w[l][q * W + k] * x[k];
                y[q] = x0[b * W + q] * s + x[q];
            }
            memcpy(x, y, sizeof x);
        }
        for (int k = 0; k < W; k++) cr_expect(fabs(o[b * W + k] - x[k]) <= 1e-4 * (1 + fabs(x[k])));
    }
    cross_free(&c);
}

/* ---- FM ---- */

Test(archs, fm_forward_and_gradient) {
    enum { B = 3, N = 4, D = 5 };
    hx_rng r;
    hx_rng_seed(&r, 4);
    float v[B * N * D], out[B], dout[B], dv[B * N * D] = {0}, scratch[D];
    fill_normal(&r, v, sizeof v / sizeof v[0], 1.0);
    fill_normal(&r, dout, B, 1.0);
    fm_forward(out, v, B, N, D);
    for (int b = 0; b < B; b++) { /* the pairwise sum it replaces */
        double s = 0;
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
                for (int k = 0; k < D; k++) s += (double)v[(b * N + i) * D + k] * v[(b * N + j) * D + k];
        cr_expect(fabs(out[b] - s) <= 1e-4 * (1 + fabs(s)), "row %d: %g vs %g", b, out[b], s);
    }
    fm_backward(dv, dout, v, B, N, D, scratch);
    double g[B * N * D];
#define FM_LOSS (fm_forward(out, v, B, N, D), (double)out[0] * dout[0] + (double)out[1] * dout[1] + (double)out[2] * dout[2])
    FD_OF(v, (size_t)B * N * D, g, FM_LOSS);
#undef FM_LOSS
    cr_expect_leq(rel_err(dv, g, (size_t)B * N * D, 1e-4), GRAD_TOL);
}

/* ---- whole models ---- */

enum { MB = 5, MF = 3, MD = 4 };
static const int64_t k_card[MF] = {7, 5, 9};

typedef struct arch_case {
    const char *name;
    model_cfg   mc;
    int         Dd;
} arch_case;

static const arch_case k_cases[] = {
    {"dcn stacked", {.bottom = {6, MD}, .n_bottom = 2, .top = {8}, .n_top = 1, .arch = ARCH_DCN, .cross_layers = 2}, 3},
    {"dcn parallel low rank",
     {.bottom = {6, MD}, .n_bottom = 2, .top = {8, 6}, .n_top = 2, .arch = ARCH_DCN, .cross_layers = 2,
      .structure = DCN_PARALLEL, .cross_rank = 3},
     3},
    {"dcn no dense", {.top = {8}, .n_top = 1, .arch = ARCH_DCN, .cross_layers = 1}, 0},
    {"deepfm", {.bottom = {6, MD}, .n_bottom = 2, .top = {8}, .n_top = 1, .arch = ARCH_DEEPFM}, 3},
    {"deepfm no dense", {.top = {8}, .n_top = 1, .arch = ARCH_DEEPFM}, 0},
    {"wdl", {.bottom = {6}, .n_bottom = 1, .top = {8, 4}, .n_top = 2, .arch = ARCH_WDL}, 3},
};

typedef struct tens {
    float      *p, *g;
    size_t      n;
    const char *name;
} tens;

/* Every trainable tensor of m with its gradient (g of the tables written into
 * owned buffers: free with free_tens). */
static int model_tensors(model *m, tens *t) {
    int nt = 0;
    if (m->has_bottom) t[nt++] = (tens){m->bottom.params, m->bottom.grads, m->bottom.n_params, "bottom"};
    t[nt++] = (tens){m->top.params, m->top.grads, m->top.n_params, "deep"};
    if (m->head.n_layers) t[nt++] = (tens){m->head.params, m->head.grads, m->head.n_params, "head"};
    if (m->cross.L) t[nt++] = (tens){m->cross.params, m->cross.grads, m->cross.n_params, "cross"};
    for (int f = 0; m->has_wide && f < MF; f++) {
        emb_table *w = &m->wide.tabs[f];
        float *g = calloc((size_t)w->rows, sizeof(float));
        emb_table_grad_dense(w, g);
        t[nt++] = (tens){w->w, g, (size_t)w->rows, "scalar table"};
    }
    emb_tensor et[MF];
    const int ne = m->method->tensors(m->emb, et, MF);
    for (int i = 0; i < ne; i++) {
        float *g = calloc(et[i].n, sizeof(float));
        m->method->grad(m->emb, i, g);
        t[nt++] = (tens){et[i].data, g, et[i].n, "embedding table"};
    }
    return nt;
}

static void free_tens(tens *t, int nt) {
    for (int k = 0; k < nt; k++)
        if (!strcmp(t[k].name, "scalar table") || !strcmp(t[k].name, "embedding table")) free(t[k].g);
}

/* A seeded batch with a duplicate id in field 0; the scalar tables filled. */
static void toy_batch(model *m, float *dense, int64_t *idx, float *y, int Dd) {
    hx_rng r;
    hx_rng_seed(&r, 99);
    fill_normal(&r, dense, (size_t)MB * (Dd ? Dd : 1), 1);
    for (int b = 0; b < MB; b++) {
        y[b] = (float)(b & 1);
        for (int f = 0; f < MF; f++) idx[b * MF + f] = (int64_t)hx_rng_below(&r, (uint64_t)k_card[f]);
    }
    idx[3 * MF] = idx[0];
    for (int f = 0; m->has_wide && f < MF; f++) fill_normal(&r, m->wide.tabs[f].w, (size_t)m->wide.tabs[f].rows, 0.3);
    for (int l = 0; l < m->cross.L; l++) fill_normal(&r, m->cross.b[l], (size_t)m->cross.W, 0.3);
}

static void check_arch_model(const arch_case *ac) {
    model m;
    test_full_model(&m, &ac->mc, ac->Dd, k_card, MF, MD, MB, 5);
    float dense[MB * 3], y[MB];
    int64_t idx[MB * MF];
    toy_batch(&m, dense, idx, y, ac->Dd);
    const float *dn = ac->Dd ? dense : NULL;
    model_forward(&m, dn, idx, MB);
    model_backward(&m, y, MB);
    tens t[16];
    const int nt = model_tensors(&m, t);
    for (int k = 0; k < nt; k++) {
        double *g = calloc(t[k].n, sizeof(double));
        /* h = 1e-3: 1e-2 crosses ReLU kinks (test_model.c) */
        for (size_t i = 0; i < t[k].n; i++) {
            const float s = t[k].p[i], h = 1e-3f;
            t[k].p[i] = s + h;
            const double lp = bce_forward(model_forward(&m, dn, idx, MB), y, MB);
            t[k].p[i] = s - h;
            const double lm = bce_forward(model_forward(&m, dn, idx, MB), y, MB);
            t[k].p[i] = s;
            g[i] = (lp - lm) / ((double)(s + h) - (double)(s - h));
        }
        const double e = rel_err(t[k].g, g, t[k].n, 1e-4);
        cr_expect_leq(e, GRAD_TOL, "%s: %s (tensor %d): rel err %g", ac->name, t[k].name, k, e);
        free(g);
    }
    free_tens(t, nt);
    model_free(&m);
}

Test(archs, model_gradients_every_arch) {
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) check_arch_model(&k_cases[i]);
}

Test(archs, deepfm_needs_bottom_at_dim) {
    model_cfg mc = {.bottom = {6}, .n_bottom = 1, .top = {8}, .n_top = 1, .arch = ARCH_DEEPFM};
    const emb_method *full = emb_method_find("full");
    emb_spec spec = {.n_fields = MF, .card = k_card, .dim = MD, .ratio = 1, .seed = 1, .batch = MB,
                     .steps_per_epoch = 1, .total_steps = 1, .opt = opt_default(OPT_SGD, 0.1f),
                     .dense_opt = opt_default(OPT_SGD, 0.1f)};
    emb_params_default(full, spec.pv);
    emb_plan plan;
    char err[256];
    cr_assert_eq(full->plan(&spec, &plan, err, sizeof err), HX_OK);
    model m;
    cr_expect_eq(model_create(&m, &mc, 3, full, &spec, spec.dense_opt, 1, err, sizeof err), HX_ERR_PARAM);
    cr_expect(strstr(err, "deepfm") != NULL, "%s", err);
}

/* ---- threads: the same bits per thread count ---- */

enum { TB = 96 };

/* Three steps of ac's model on `full` with the given pool; the last logits and
 * every parameter after the steps into out (n floats written, at most cap). */
static size_t arch_run(const arch_case *ac, hx_pool *pool, float *out, size_t cap) {
    static const int64_t card[MF] = {40, 70, 90};
    const emb_method *full = emb_method_find("full");
    emb_spec spec = {.n_fields = MF, .card = card, .dim = MD, .ratio = 1, .seed = 2, .batch = TB,
                     .steps_per_epoch = 1, .total_steps = 3, .opt = opt_default(OPT_ADAGRAD, 0.05f),
                     .dense_opt = opt_default(OPT_ADAM, 0.01f), .pool = pool};
    emb_params_default(full, spec.pv);
    emb_plan plan;
    char err[256];
    cr_assert_eq(full->plan(&spec, &plan, err, sizeof err), HX_OK);
    model m;
    cr_assert_eq(model_create(&m, &ac->mc, ac->Dd, full, &spec, spec.dense_opt, 2, err, sizeof err), HX_OK, "%s",
                 err);
    hx_rng r;
    hx_rng_seed(&r, 12);
    float dense[TB * 3], y[TB];
    int64_t idx[TB * MF];
    size_t n = 0;
    for (int t = 1; t <= 3; t++) {
        fill_normal(&r, dense, sizeof dense / sizeof dense[0], 1);
        for (int b = 0; b < TB; b++) {
            y[b] = (float)hx_rng_below(&r, 2);
            for (int f = 0; f < MF; f++) idx[b * MF + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
        }
        const float *z = model_forward(&m, ac->Dd ? dense : NULL, idx, TB);
        if (t == 3) memcpy(out, z, TB * sizeof(float)), n = TB;
        model_backward(&m, y, TB);
        cr_assert_eq(model_step(&m, t, err, sizeof err), HX_OK);
    }
    tens ts[16];
    const int nt = model_tensors(&m, ts);
    for (int k = 0; k < nt; k++) {
        cr_assert_leq(n + ts[k].n, cap);
        memcpy(out + n, ts[k].p, ts[k].n * sizeof(float));
        n += ts[k].n;
    }
    free_tens(ts, nt);
    model_free(&m);
    return n;
}

Test(archs, threads_same_bits_per_count) {
    enum { CAP = 1 << 16 };
    float *a = malloc(CAP * sizeof(float)), *b = malloc(CAP * sizeof(float)), *s = malloc(CAP * sizeof(float));
    char err[128];
    hx_pool *p2 = hx_pool_create(2, err, sizeof err);
    cr_assert_not_null(p2, "%s", err);
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const arch_case *ac = &k_cases[i];
        const size_t n = arch_run(ac, NULL, s, CAP);
        cr_expect_eq(arch_run(ac, NULL, a, CAP), n);
        cr_expect(!memcmp(a, s, n * sizeof(float)), "%s: 1 thread, not the same bits twice", ac->name);
        arch_run(ac, p2, a, CAP);
        arch_run(ac, p2, b, CAP);
        cr_expect(!memcmp(a, b, n * sizeof(float)), "%s: 2 threads, not the same bits twice", ac->name);
        double num = 0, den = 0;
        for (size_t k = 0; k < n; k++) num += ((double)a[k] - s[k]) * ((double)a[k] - s[k]), den += (double)s[k] * s[k];
        cr_expect_leq(sqrt(num / den), 1e-5, "%s: 2 threads vs 1: rel diff %g", ac->name, sqrt(num / den));
    }
    hx_pool_free(p2);
    free(a);
    free(b);
    free(s);
}

/* ---- every method under every arch ---- */

enum { LF = 4, LD = 3, LB = 64, LSTEPS = 60 };

/* Mean loss of the first and of the last 10 of LSTEPS steps over 4 fixed batches
 * whose label is a function of the ids of fields 0 and 1; 0 when m does not plan. */
static int method_arch_losses(const emb_method *me, model_arch arch, double *first, double *last) {
    static const int64_t card[LF] = {10, 300, 2000, 5000};
    char err[256];
    emb_spec spec = {.n_fields = LF, .card = card, .dim = 8, .seed = 3, .batch = LB, .steps_per_epoch = 4,
                     .total_steps = LSTEPS, .opt = opt_default(OPT_ADAGRAD, 0.05f),
                     .dense_opt = opt_default(OPT_ADAGRAD, 0.05f)};
    if (!test_plan_some_ratio(me, &spec)) return 0;
    model_cfg mc = {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .arch = arch, .cross_layers = 2};
    model m;
    cr_assert_eq(model_create(&m, &mc, LD, me, &spec, spec.dense_opt, 3, err, sizeof err), HX_OK, "%s: %s", me->name,
                 err);
    static float dense[4][LB * LD], y[4][LB];
    static int64_t idx[4][LB * LF];
    hx_rng r;
    hx_rng_seed(&r, 5);
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < LB; b++) {
            for (int f = 0; f < LF; f++) idx[k][b * LF + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
            for (int d = 0; d < LD; d++) dense[k][b * LD + d] = (float)hx_rng_normal(&r);
            y[k][b] = (float)((idx[k][b * LF] * 7 + idx[k][b * LF + 1]) % 3 == 0);
        }
    *first = *last = 0;
    for (int t = 1; t <= LSTEPS; t++) {
        const int k = t % 4;
        const double loss = bce_forward(model_forward(&m, dense[k], idx[k], LB), y[k], LB);
        if (t <= 10) *first += loss / 10;
        if (t > LSTEPS - 10) *last += loss / 10;
        model_backward(&m, y[k], LB);
        cr_assert_eq(model_step(&m, t, err, sizeof err), HX_OK, "%s: %s", me->name, err);
    }
    model_free(&m);
    return 1;
}

Test(archs, every_method_trains_under_every_arch) {
    static const char *const names[] = {"dlrm", "dcn", "deepfm", "wdl"};
    int tried = 0;
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *me = emb_method_at(i);
        if (me->caps & EMB_CAP_TEST_ONLY) continue;
        for (int a = 0; a < 4; a++) {
            double first, last;
            if (!method_arch_losses(me, (model_arch)a, &first, &last)) continue;
            tried++;
            cr_expect(last < first, "%s under %s: loss %.4f over the first 10 steps, %.4f over the last 10", me->name,
                      names[a], first, last);
        }
    }
    cr_expect_geq(tried, 4 * 12, "most methods plan at some ratio (%d pairs)", tried);
}

/* ---- bytes: the scalar tables count, at full and compressed settings alike ---- */

static run_result arch_run_cell(model_arch arch, const char *method, double ratio) {
    run_config c;
    run_config_default(&c);
    char err[256], *kv[3] = {"rows=3000", "fields=4", "card_max=3000"};
    cr_assert_eq(ds_spec_from_args(&c.dataset, "synthetic", "synthetic", 3, kv, err, sizeof err), HX_OK, "%s", err);
    c.method = emb_method_find(method);
    emb_params_default(c.method, c.pv);
    c.ratio = ratio;
    c.model.arch = arch;
    c.train.epochs = 0.2;
    run_result r;
    cr_assert_eq(run_execute(&c, NULL, &r, err, sizeof err), HX_OK, "%s", err);
    return r;
}

Test(archs, scalar_tables_count_in_bytes_and_ratio) {
    const run_result dl = arch_run_cell(ARCH_DLRM, "full", 1), fm = arch_run_cell(ARCH_DEEPFM, "full", 1);
    /* full: one fp32 scalar per id, on top of the D floats per id */
    const double ids = (double)dl.bytes_infer / (4.0 * 16);
    cr_expect_eq((double)fm.bytes_infer, 4.0 * ids * 17, "deepfm full: %llu bytes, %g ids",
                 (unsigned long long)fm.bytes_infer, ids);
    cr_expect(fabs(fm.ratio_achieved - 1) < 1e-12);
    cr_expect_gt(fm.bytes_train, dl.bytes_train);
    const run_result h = arch_run_cell(ARCH_WDL, "hash", 8);
    cr_expect(fabs(h.ratio_achieved / 8 - 1) <= 0.05, "wdl hash at 8: achieved %g", h.ratio_achieved);
    const run_result hd = arch_run_cell(ARCH_DLRM, "hash", 8);
    cr_expect_gt(h.bytes_infer, hd.bytes_infer, "the scalar tables add bytes under hash too");
}
