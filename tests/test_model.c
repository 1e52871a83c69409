/* test_model.c: the model's layers against independent double-precision
 * reference computations.
 *   gradient checks  linear+ReLU MLP, dot and cat interactions, BCE loss and the
 *                    whole model (MLPs + interaction + full embedding): the float
 *                    analytic gradient vs central finite differences of a double
 *                    reference forward, relative error (L2 norm, per tensor) <= 1e-2
 *   forward values   the same references, to 1e-4 relative
 *   metrics          exact AUC vs a brute-force pairwise count with ties; logloss,
 *                    accuracy on hand-computed cases
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/interact.h"
#include "harness/core/loss.h"
#include "harness/core/metrics.h"
#include "harness/core/mlp.h"
#include "harness/train/model.h"
#include "test_core.h"

#define FD_H 1e-6
#define GRAD_TOL 1e-2

/* ---- MLP: double reference ---- */

/* Forward of an MLP whose parameters are given in double (same layout as mlp.params),
 * returning sum(out * R). */
static double mlp_ref_loss(const mlp *m, const double *p, const float *inp, const float *R, int B) {
    int maxw = 0;
    for (int l = 0; l <= m->n_layers; l++) maxw = m->width[l] > maxw ? m->width[l] : maxw;
    double *a = calloc((size_t)B * maxw, sizeof(double)), *o = calloc((size_t)B * maxw, sizeof(double));
    for (int i = 0; i < B * m->width[0]; i++) a[i] = inp[i];
    size_t off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        int I = m->width[l], O = m->width[l + 1];
        const double *w = p + off, *b = p + off + (size_t)O * I;
        off += (size_t)O * I + O;
        for (int r = 0; r < B; r++)
            for (int q = 0; q < O; q++) {
                double s = b[q];
                for (int k = 0; k < I; k++) s += a[r * I + k] * w[q * I + k];
                if (l < m->n_layers - 1 || m->relu_last) s = s > 0 ? s : 0;
                o[r * O + q] = s;
            }
        memcpy(a, o, (size_t)B * O * sizeof(double));
    }
    double L = 0;
    for (int i = 0; i < B * m->width[m->n_layers]; i++) L += a[i] * R[i];
    free(a);
    free(o);
    return L;
}

static void check_mlp(int relu_last) {
    const int widths[] = {5, 7, 6, 3}, B = 4;
    hx_rng r;
    hx_rng_seed(&r, 7);
    mlp m;
    char err[128];
    cr_assert_eq(mlp_create(&m, widths, 3, relu_last, B, opt_default(OPT_SGD, 0.1f), &r, err, sizeof err), HX_OK);
    float inp[4 * 5], R[4 * 3], dinp[4 * 5];
    fill_normal(&r, inp, 20, 1.0);
    fill_normal(&r, R, 12, 1.0);
    const float *out = mlp_forward(&m, inp, B);
    double *p = malloc(m.n_params * sizeof(double)), *g = malloc(m.n_params * sizeof(double));
    for (size_t i = 0; i < m.n_params; i++) p[i] = m.params[i];
    double L = 0;
    for (int i = 0; i < 12; i++) L += (double)out[i] * R[i];
    cr_expect(fabs(L - mlp_ref_loss(&m, p, inp, R, B)) <= 1e-4 * (1 + fabs(L)), "forward mismatch");
    mlp_backward(&m, R, dinp, B);
    /* FD per parameter tensor */
    for (size_t i = 0; i < m.n_params; i++) {
        double s = p[i];
        p[i] = s + FD_H;
        double lp = mlp_ref_loss(&m, p, inp, R, B);
        p[i] = s - FD_H;
        double lm = mlp_ref_loss(&m, p, inp, R, B);
        p[i] = s;
        g[i] = (lp - lm) / (2 * FD_H);
    }
    for (int l = 0; l < 3; l++) {
        size_t nw = (size_t)widths[l + 1] * widths[l];
        cr_expect_leq(rel_err(m.dw[l], g + (m.w[l] - m.params), nw, 1e-6), GRAD_TOL, "dW[%d]", l);
        cr_expect_leq(rel_err(m.db[l], g + (m.b[l] - m.params), (size_t)widths[l + 1], 1e-6), GRAD_TOL, "db[%d]", l);
    }
    /* input gradient */
    double gi[20];
    for (int i = 0; i < 20; i++) {
        float s = inp[i];
        double lp, lm;
        inp[i] = s + 1e-3f;
        lp = mlp_ref_loss(&m, p, inp, R, B);
        inp[i] = s - 1e-3f;
        lm = mlp_ref_loss(&m, p, inp, R, B);
        inp[i] = s;
        gi[i] = (lp - lm) / ((double)(s + 1e-3f) - (double)(s - 1e-3f));
    }
    cr_expect_leq(rel_err(dinp, gi, 20, 1e-6), GRAD_TOL, "dinp");
    free(p);
    free(g);
    mlp_free(&m);
}

Test(model, mlp_gradient_top) { check_mlp(0); }

/* A pool cuts the rows into pieces and the weight pass into output-unit pieces
 * (a layer with IC <= OC) or input-column pieces (IC > OC): outputs and every
 * gradient must match the serial pass, and repeat bit for bit. */
static void mlp_run(hx_pool *pool, const float *inp, const float *R, int B, float *out, float *dinp, float *grads,
                    size_t *n_params) {
    const int widths[] = {40, 24, 50, 1};
    hx_rng r;
    hx_rng_seed(&r, 11);
    mlp m;
    char err[128];
    cr_assert_eq(mlp_create(&m, widths, 3, 0, B, opt_default(OPT_SGD, 0.1f), &r, err, sizeof err), HX_OK);
    m.pool = pool;
    memcpy(out, mlp_forward(&m, inp, B), (size_t)B * sizeof(float));
    mlp_backward(&m, R, dinp, B);
    memcpy(grads, m.grads, m.n_params * sizeof(float));
    *n_params = m.n_params;
    mlp_free(&m);
}

/* ||a - b|| / ||b||: the sums may round differently when a GEMM is cut */
static double max_rel(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num) / (sqrt(den) + 1e-30);
}

Test(model, mlp_pool_matches_serial) {
    const int B = 100;
    hx_rng r;
    hx_rng_seed(&r, 5);
    float *inp = malloc(sizeof(float) * B * 40), R[100];
    fill_normal(&r, inp, (size_t)B * 40, 1.0);
    fill_normal(&r, R, (size_t)B, 1.0);
    float out0[100], out1[100], dinp0[100 * 40], dinp1[100 * 40];
    float *g0 = malloc(sizeof(float) * 8000), *g1 = malloc(sizeof(float) * 8000);
    size_t np;
    mlp_run(NULL, inp, R, B, out0, dinp0, g0, &np);
    cr_assert_leq(np, 8000);
    char err[128];
    for (int th = 2; th <= 3; th++) {
        hx_pool *p = hx_pool_create(th, err, sizeof err);
        cr_assert_not_null(p, "%s", err);
        mlp_run(p, inp, R, B, out1, dinp1, g1, &np);
        cr_expect_leq(max_rel(out1, out0, (size_t)B), 1e-6, "threads %d: output", th);
        cr_expect_leq(max_rel(dinp1, dinp0, (size_t)B * 40), 1e-6, "threads %d: dinp", th);
        cr_expect_leq(max_rel(g1, g0, np), 1e-6, "threads %d: dW and db", th);
        float again[8000];
        mlp_run(p, inp, R, B, out1, dinp1, again, &np);
        cr_expect(memcmp(again, g1, np * sizeof(float)) == 0, "threads %d: not the same bits twice", th);
        hx_pool_free(p);
    }
    free(inp);
    free(g0);
    free(g1);
}

Test(model, mlp_gradient_bottom_relu_last) { check_mlp(1); }

Test(model, mlp_init_follows_dlrm) {
    /* W ~ N(0, sqrt(2/(I+O))): the sample std of a 200x300 layer is within 3% */
    const int widths[] = {300, 200};
    hx_rng r;
    hx_rng_seed(&r, 3);
    mlp m;
    char err[128];
    cr_assert_eq(mlp_create(&m, widths, 1, 0, 1, opt_default(OPT_SGD, 0.1f), &r, err, sizeof err), HX_OK);
    double s2 = 0;
    for (int i = 0; i < 300 * 200; i++) s2 += (double)m.w[0][i] * m.w[0][i];
    double sd = sqrt(s2 / (300 * 200)), want = sqrt(2.0 / 500);
    cr_expect(fabs(sd / want - 1) < 0.03, "W std %g, want %g", sd, want);
    mlp_free(&m);
}

/* ---- interactions: double reference ---- */

static double dot_ref_loss(const double *x, const double *e, const float *R, int B, int F, int D, int Dx) {
    int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx);
    double L = 0;
    for (int b = 0; b < B; b++) {
        const double *v[64];
        int k = 0;
        if (Dx) v[k++] = x + (size_t)b * D;
        for (int f = 0; f < F; f++) v[k++] = e + ((size_t)b * F + f) * D;
        const float *rb = R + (size_t)b * W;
        for (int j = 0; j < Dx; j++) L += v[0][j] * rb[j];
        int o = Dx;
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++) {
                double s = 0;
                for (int q = 0; q < D; q++) s += v[i][q] * v[j][q];
                L += s * rb[o++];
            }
    }
    return L;
}

/* Central differences of dot_ref_loss with respect to p (n), which is x or e. */
static void dot_fd(double *p, int n, double *g, const double *x, const double *e, const float *R,
                   int B, int F, int D, int Dx) {
    for (int i = 0; i < n; i++) {
        double s = p[i];
        p[i] = s + FD_H;
        double lp = dot_ref_loss(x, e, R, B, F, D, Dx);
        p[i] = s - FD_H;
        double lm = dot_ref_loss(x, e, R, B, F, D, Dx);
        p[i] = s;
        g[i] = (lp - lm) / (2 * FD_H);
    }
}

/* 1 when dx and de (from interact_dot_backward) equal, bit for bit, the float
 * sums of the definition: d_i[k] = (pass-through of x) + sum over j != i, j
 * ascending, of dout(i, j) T_j[k]. */
static int dot_backward_exact(const float *dx, const float *de, const float *R, const float *x, const float *e,
                              int B, int F, int D, int with_x) {
    const int Dx = with_x ? D : 0, W = interact_dot_width(F, D, Dx), n = F + !!Dx;
    int exact = 1;
    for (int b = 0; b < B; b++) {
        const float *g = R + (size_t)b * W;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < D; k++) {
                float acc = with_x && i == 0 ? g[k] : 0.0f;
                for (int j = 0; j < n; j++) {
                    if (j == i) continue;
                    const int hi = i > j ? i : j, lo = i > j ? j : i;
                    const float *vj = with_x && j == 0 ? x + b * D : e + ((size_t)b * F + j - !!Dx) * D;
                    acc += g[Dx + hi * (hi - 1) / 2 + lo] * vj[k];
                }
                const float got = with_x && i == 0 ? dx[b * D + k] : de[((size_t)b * F + i - !!Dx) * D + k];
                exact &= got == acc;
            }
    }
    return exact;
}

/* Forward against the double reference and against an in-order float dot (the
 * vector code keeps each lane's k order, so that is exact); backward against
 * the in-order float sums (exact too) and central differences. The shapes
 * cover the forward's one, two and three 16-lane blocks a row and a row left
 * alone at the end, and the backward's 16- and 4-column blocks, the scalar
 * tail (D % 4) and groups of four rows with one to three left over. */
static void check_dot_isa(int isa, int B, int F, int D, int with_x) {
    const int Dx = with_x ? D : 0, W = interact_dot_width(F, D, Dx), n = F + !!Dx;
    const int nx = B * D, ne = B * F * D;
    hx_rng r;
    hx_rng_seed(&r, 11 + (uint64_t)(F * 100 + D));
    float *x = calloc((size_t)nx, 4), *e = calloc((size_t)ne, 4), *R = calloc((size_t)B * W, 4);
    float *out = calloc((size_t)B * W, 4), *dx = calloc((size_t)nx, 4), *de = calloc((size_t)ne, 4);
    float *scratch = calloc(interact_dot_scratch(F, D, Dx), 4);
    double *xd = calloc((size_t)nx, 8), *ed = calloc((size_t)ne, 8), *gx = calloc((size_t)nx, 8),
           *ge = calloc((size_t)ne, 8);
    cr_assert(x && e && R && out && dx && de && scratch && xd && ed && gx && ge);
    cr_assert_eq(W, Dx + n * (n - 1) / 2);
    fill_normal(&r, x, (size_t)nx, 1);
    fill_normal(&r, e, (size_t)ne, 1);
    fill_normal(&r, R, (size_t)B * W, 1);
    for (int i = 0; i < nx; i++) xd[i] = x[i];
    for (int i = 0; i < ne; i++) ed[i] = e[i];
    interact_dot_forward_isa(isa, out, with_x ? x : NULL, e, B, F, D, Dx, scratch);
    double L = 0;
    for (int i = 0; i < B * W; i++) L += (double)out[i] * R[i];
    cr_expect(fabs(L - dot_ref_loss(xd, ed, R, B, F, D, Dx)) <= 1e-4 * (1 + fabs(L)), "F %d D %d", F, D);
    int exact = 1;
    for (int b = 0; b < B; b++) {
        const float *o = out + (size_t)b * W + Dx;
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++) {
                const float *vi = with_x && i == 0 ? x + b * D : e + ((size_t)b * F + i - !!Dx) * D;
                const float *vj = with_x && j == 0 ? x + b * D : e + ((size_t)b * F + j - !!Dx) * D;
                float s0 = 0.0f;
                for (int q = 0; q < D; q++) s0 += vi[q] * vj[q];
                exact &= *o++ == s0;
            }
    }
    cr_expect(exact, "forward differs from the in-order float dot (F %d D %d)", F, D);
    /* the first pair is (v1, v0): with x that is e_0 . x */
    double p0 = 0;
    for (int q = 0; q < D; q++) p0 += with_x ? (double)e[q] * x[q] : (double)e[D + q] * e[q];
    cr_expect(fabs(out[Dx] - p0) < 1e-4, "lower-triangle order");
    interact_dot_backward_isa(isa, with_x ? dx : NULL, de, R, with_x ? x : NULL, e, B, F, D, Dx, scratch);
    cr_expect(dot_backward_exact(dx, de, R, x, e, B, F, D, with_x),
              "backward differs from the in-order float sums (F %d D %d)", F, D);
    dot_fd(ed, ne, ge, xd, ed, R, B, F, D, Dx);
    cr_expect_leq(rel_err(de, ge, (size_t)ne, 1e-6), GRAD_TOL, "demb (F %d D %d)", F, D);
    if (with_x) {
        dot_fd(xd, nx, gx, xd, ed, R, B, F, D, Dx);
        cr_expect_leq(rel_err(dx, gx, (size_t)nx, 1e-6), GRAD_TOL, "dx (F %d D %d)", F, D);
    }
    free(x), free(e), free(R), free(out), free(dx), free(de), free(scratch);
    free(xd), free(ed), free(gx), free(ge);
}

static void check_dot(int B, int F, int D, int with_x) { check_dot_isa(interact_dot_isa(), B, F, D, with_x); }

Test(model, dot_gradient_with_bottom) { check_dot(3, 4, 5, 1); }
Test(model, dot_gradient_fields_only) { check_dot(3, 4, 5, 0); }
/* The wide shapes: B, F, D, with_x. */
static const int k_dot_shapes[][4] = {
    {2, 26, 16, 1}, /* Criteo-shaped: n = 27, one and two blocks a row, 3 rows left over */
    {2, 20, 13, 0}, /* 4-column blocks and a tail of 1, a row alone at the end */
    {2, 9, 8, 1},   /* two 4-column blocks, 2 rows left over */
    {1, 3, 36, 1},  /* 2 x 16 + 4 columns */
    {2, 40, 16, 1}, /* n = 41: three 16-lane blocks, 1 row left over */
    {2, 33, 18, 0}, /* 16 columns + a scalar tail of 2; pairs of two blocks */
    {2, 2, 3, 0},   /* n = 2: one row alone, through the detour */
};

static void check_dot_shapes(int isa) {
    for (size_t i = 0; i < sizeof k_dot_shapes / sizeof k_dot_shapes[0]; i++)
        check_dot_isa(isa, k_dot_shapes[i][0], k_dot_shapes[i][1], k_dot_shapes[i][2], k_dot_shapes[i][3]);
}

Test(model, dot_gradient_wide_shapes) { check_dot_shapes(interact_dot_isa()); }

/* Every instruction set's kernels on every shape: the same exact checks, so
 * the same bits whichever one a CPU runs. One the CPU lacks is skipped. */
static void check_dot_every_shape(int isa) {
    if (!interact_dot_isa_usable(isa))
        cr_skip_test("the %s kernels cannot run here (not built for this architecture, or the CPU lacks it)",
                     interact_dot_isa_name(isa));
    check_dot_isa(isa, 3, 4, 5, 1);
    check_dot_shapes(isa);
}

Test(model, dot_kernels_avx512f) { check_dot_every_shape(IX_ISA_AVX512F); }
Test(model, dot_kernels_avx2) { check_dot_every_shape(IX_ISA_AVX2); }
Test(model, dot_kernels_baseline) { check_dot_every_shape(IX_ISA_BASE); }

Test(model, cat_forward_backward) {
    const int B = 2, F = 3, D = 2, Dx = 4, W = interact_cat_width(F, D, Dx);
    float x[8], e[12], out[20], dout[20], dx[8], de[12];
    cr_assert_eq(W, 10);
    for (int i = 0; i < 8; i++) x[i] = (float)i;
    for (int i = 0; i < 12; i++) e[i] = 100.0f + (float)i;
    for (int i = 0; i < 20; i++) dout[i] = -(float)i;
    interact_cat_forward(out, x, e, B, F, D, Dx);
    cr_expect_eq(out[0], 0.0f);
    cr_expect_eq(out[4], 100.0f);
    cr_expect_eq(out[10], 4.0f);
    cr_expect_eq(out[14], 106.0f);
    interact_cat_backward(dx, de, dout, B, F, D, Dx);
    /* cat is linear, so its gradient is exact: d/dx of sum(out*dout) */
    cr_expect_eq(dx[5], -11.0f);
    cr_expect_eq(de[0], -4.0f);
    cr_expect_eq(de[11], -19.0f);
    interact_cat_forward(out, NULL, e, B, F, D, 0);
    cr_expect_eq(out[6], 106.0f);
}

/* ---- loss ---- */

static double bce_ref(const double *z, const float *y, int B) {
    double L = 0;
    for (int i = 0; i < B; i++) {
        double s = 1 / (1 + exp(-z[i]));
        L += -(y[i] * log(s) + (1 - y[i]) * log(1 - s));
    }
    return L / B;
}

Test(model, bce_gradient_and_stability) {
    const int B = 6;
    float z[6] = {-3.0f, -0.5f, 0.0f, 0.7f, 2.5f, 4.0f}, y[6] = {0, 1, 1, 0, 1, 0}, dz[6];
    double zd[6], g[6];
    for (int i = 0; i < B; i++) zd[i] = z[i];
    cr_expect(fabs(bce_forward(z, y, B) - bce_ref(zd, y, B)) < 1e-6);
    bce_backward(dz, z, y, B);
    for (int i = 0; i < B; i++) {
        double s = zd[i];
        zd[i] = s + FD_H;
        double lp = bce_ref(zd, y, B);
        zd[i] = s - FD_H;
        double lm = bce_ref(zd, y, B);
        zd[i] = s;
        g[i] = (lp - lm) / (2 * FD_H);
    }
    cr_expect_leq(rel_err(dz, g, 6, 1e-6), GRAD_TOL);
    /* extreme logits stay finite and exact */
    float big[2] = {200.0f, -200.0f}, yb[2] = {0, 1}, db[2];
    double Lb = bce_forward(big, yb, 2);
    cr_expect(isfinite(Lb) && fabs(Lb - 200.0) < 1e-9, "BCE at |z|=200: %g", Lb);
    bce_backward(db, big, yb, 2);
    cr_expect(fabs(db[0] - 0.5f) < 1e-6 && fabs(db[1] + 0.5f) < 1e-6);
}

/* ---- the whole model (full method, dot and cat) vs finite differences ---- */

typedef struct tens {
    float      *p, *g;
    size_t      n;
    const char *name;
} tens;

static void check_model(interact_kind ik, int n_dense) {
    static const int64_t card[3] = {7, 5, 9};
    const int B = 5, F = 3, D = 4;
    const emb_method *full = emb_method_find("full");
    model_cfg mc = {.bottom = {6, D}, .n_bottom = 2, .top = {8}, .n_top = 1, .interaction = ik};
    model m;
    test_full_model(&m, &mc, n_dense, card, F, D, B, 5);
    hx_rng r;
    hx_rng_seed(&r, 99);
    float dense[5 * 3], y[5];
    int64_t idx[5 * 3];
    fill_normal(&r, dense, 15, 1);
    for (int b = 0; b < B; b++) {
        y[b] = (float)(b & 1);
        for (int f = 0; f < F; f++) idx[b * F + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
    }
    idx[3] = idx[0]; /* a duplicate row: gradients must coalesce */
    model_forward(&m, n_dense ? dense : NULL, idx, B);
    model_backward(&m, y, B);
    /* every trainable float tensor: bottom, top, embedding tables. Central FD of
     * the float forward itself (loss accumulated in double), h = 1e-3 (1e-2 crosses
     * ReLU kinks); the bound is 1e-2 per tensor, observed errors are ~3e-4. */
    tens t[8];
    int nt = 0;
    float *gbuf[3] = {0};
    if (n_dense) t[nt++] = (tens){m.bottom.params, m.bottom.grads, m.bottom.n_params, "bottom"};
    t[nt++] = (tens){m.top.params, m.top.grads, m.top.n_params, "top"};
    emb_tensor et[3];
    int ne = full->tensors(m.emb, et, 3);
    cr_assert_eq(ne, 3);
    for (int i = 0; i < ne; i++) {
        gbuf[i] = calloc(et[i].n, sizeof(float));
        full->grad(m.emb, i, gbuf[i]);
        t[nt++] = (tens){et[i].data, gbuf[i], et[i].n, "table"};
    }
    for (int k = 0; k < nt; k++) {
        double *g = calloc(t[k].n, sizeof(double));
        for (size_t i = 0; i < t[k].n; i++) {
            float s = t[k].p[i];
            const float h = 1e-3f;
            t[k].p[i] = s + h;
            double lp = bce_forward(model_forward(&m, n_dense ? dense : NULL, idx, B), y, B);
            t[k].p[i] = s - h;
            double lm = bce_forward(model_forward(&m, n_dense ? dense : NULL, idx, B), y, B);
            t[k].p[i] = s;
            g[i] = (lp - lm) / ((double)(s + h) - (double)(s - h));
        }
        cr_expect_leq(rel_err(t[k].g, g, t[k].n, 1e-4), GRAD_TOL, "%s tensor %d (%s): rel err %g", t[k].name, k,
                      ik == INTERACT_DOT ? "dot" : "cat", rel_err(t[k].g, g, t[k].n, 1e-4));
        free(g);
    }
    for (int i = 0; i < 3; i++) free(gbuf[i]);
    model_free(&m);
}

Test(model, model_gradient_dot) { check_model(INTERACT_DOT, 3); }
Test(model, model_gradient_cat) { check_model(INTERACT_CAT, 3); }
Test(model, model_gradient_no_dense) { check_model(INTERACT_DOT, 0); }

Test(model, model_rejects_bad_widths) {
    static const int64_t card[2] = {7, 5};
    const emb_method *full = emb_method_find("full");
    emb_spec spec = {.n_fields = 2, .card = card, .dim = 4, .ratio = 1, .seed = 5, .batch = 4,
                     .opt = opt_default(OPT_SGD, 0.1f), .dense_opt = opt_default(OPT_SGD, 0.1f)};
    model_cfg mc = {.bottom = {6, 8}, .n_bottom = 2, .top = {8}, .n_top = 1, .interaction = INTERACT_DOT};
    model m;
    char err[256];
    cr_expect_eq(model_create(&m, &mc, 3, full, &spec, spec.dense_opt, 5, err, sizeof err), HX_ERR_PARAM);
    cr_expect(strstr(err, "equal dim") != NULL, "%s", err);
    mc.n_bottom = 0;
    cr_expect_eq(model_create(&m, &mc, 3, full, &spec, spec.dense_opt, 5, err, sizeof err), HX_ERR_PARAM);
    spec.n_fields = 1;
    cr_expect_eq(model_create(&m, &mc, 0, full, &spec, spec.dense_opt, 5, err, sizeof err), HX_ERR_PARAM);
}

/* ---- metrics ---- */

static double auc_brute(const float *s, const float *y, int n) {
    double num = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (y[i] > 0.5f && y[j] < 0.5f) {
                pairs++;
                num += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
            }
    return num / pairs;
}

Test(metrics, auc_matches_brute_force_with_ties) {
    hx_rng r;
    hx_rng_seed(&r, 2024);
    enum { N = 700 };
    static float s[N], y[N];
    for (int trial = 0; trial < 5; trial++) {
        int levels = trial == 0 ? 3 : 10 + 50 * trial; /* many ties, then fewer */
        for (int i = 0; i < N; i++) {
            s[i] = (float)hx_rng_below(&r, (uint64_t)levels) / (float)levels;
            y[i] = hx_rng_uniform(&r) < 0.2 + 0.6 * s[i] ? 1.0f : 0.0f;
        }
        double a = metrics_auc(s, y, N), b = auc_brute(s, y, N);
        cr_expect(fabs(a - b) < 1e-12, "trial %d: %.15f vs %.15f", trial, a, b);
    }
    for (int i = 0; i < N; i++) s[i] = 0.25f;
    cr_expect(fabs(metrics_auc(s, y, N) - 0.5) < 1e-12, "all tied -> 0.5");
    for (int i = 0; i < N; i++) y[i] = 1;
    cr_expect(isnan(metrics_auc(s, y, N)), "one class -> NAN");
}

Test(metrics, logloss_and_accuracy) {
    float p[4] = {0.9f, 0.2f, 0.0f, 0.5f}, y[4] = {1, 0, 1, 1};
    double want = (-log(0.9f) - log(1 - 0.2f) - log(1e-7) - log(0.5f)) / 4;
    cr_expect(fabs(metrics_logloss(p, y, 4) - want) < 1e-6, "%g vs %g", metrics_logloss(p, y, 4), want);
    cr_expect(fabs(metrics_accuracy(p, y, 4) - 0.75) < 1e-12);
}

Test(model, relu_propagates_nan) {
    float in[4] = {-1.0f, 2.0f, NAN, 0.0f}, out[4];
    relu_forward(out, in, 4);
    cr_expect_eq(out[0], 0.0f);
    cr_expect_eq(out[1], 2.0f);
    cr_expect(isnan(out[2]), "NaN must not be masked to 0");
    cr_expect_eq(out[3], 0.0f);
}
