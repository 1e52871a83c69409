/* test_dhe.c: deep hash embedding (methods/dhe.c): bytes by hand, gradient of
 * the network against finite differences, width from the ratio. */
#include "method_fixture.h"

extern const emb_method emb_method_dhe;
static const emb_method *M = &emb_method_dhe;
static const int64_t card1[1] = {1000};

/* k = 8 hashes, 2 hidden layers of width 3, D = 4:
 * 8*3 + 3 + (3*3 + 3) + 3*4 + 4 = 55 parameters. */
static void *make_small(emb_spec *s, emb_plan *p) {
    mt_spec(s, M, 1, card1, 4, 4000.0 / 55);
    mt_set(M, s, "hashes", 8);
    mt_set(M, s, "hidden", 2);
    mt_set(M, s, "width", 3);
    return mt_make(M, s, p);
}

Test(dhe, bytes_by_hand) {
    emb_spec s;
    emb_plan p;
    void *st = make_small(&s, &p);
    emb_bytes b;
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, 4u * 55);
    cr_expect_eq(b.infer_index, 0u);
    cr_expect_eq(b.train_other, p.bytes.train_other);
    cr_expect_eq(b.train_optim, p.bytes.train_optim);
    emb_tensor t[2];
    cr_assert_eq(M->tensors(st, t, 2), 1);
    cr_expect_eq(t[0].n, 55u);
    M->destroy(st);
}

Test(dhe, gradient_matches_finite_differences) {
    emb_spec s;
    emb_plan p;
    void *st = make_small(&s, &p);
    const int64_t idx[4] = {0, 17, 999, 17};
    float R[16], out[16];
    hx_rng r;
    hx_rng_seed(&r, 7);
    for (int j = 0; j < 16; j++) R[j] = (float)hx_rng_normal(&r);
    M->forward(st, idx, 4, out);
    M->backward(st, idx, 4, R);
    emb_tensor t[1];
    M->tensors(st, t, 1);
    float g[55];
    M->grad(st, 0, g);
    double num = 0, den = 0;
    for (size_t j = 0; j < t[0].n; j++) {
        float keep = t[0].data[j], h = 1e-3f;
        double lp = 0, lm = 0;
        t[0].data[j] = keep + h;
        M->forward(st, idx, 4, out);
        for (int k = 0; k < 16; k++) lp += (double)out[k] * R[k];
        t[0].data[j] = keep - h;
        M->forward(st, idx, 4, out);
        for (int k = 0; k < 16; k++) lm += (double)out[k] * R[k];
        t[0].data[j] = keep;
        double fd = (lp - lm) / (2.0 * h);
        num += (fd - g[j]) * (fd - g[j]);
        den += fd * fd + (double)g[j] * g[j];
    }
    cr_expect_gt(den, 0);
    cr_expect_leq(sqrt(num / den), 1e-2, "relative gradient error %g", sqrt(num / den));
    M->destroy(st);
}

Test(dhe, width_from_ratio) {
    static const int64_t card[3] = {50, 200000, 500000};
    static const double ratios[] = {4, 16, 64};
    for (size_t i = 0; i < 3; i++) {
        emb_spec s;
        mt_spec(&s, M, 3, card, 16, ratios[i]);
        mt_expect_plans(M, &s);
    }
    emb_spec s;
    mt_spec(&s, M, 3, card, 16, 1e5);
    mt_expect_refused(M, &s);
}
