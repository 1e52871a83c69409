/* test_tt.c: TT-Rec (methods/tt.c): factorisations, bytes by hand, forward equals
 * the explicit reconstruction of the table from its cores, init magnitude. */
#include "method_fixture.h"
#include "methods/tt.h"

extern const emb_method emb_method_tt;
static const emb_method *M = &emb_method_tt;
static const int64_t card1[1] = {1000};

Test(tt, factorisations) {
    int32_t q[3];
    tt_factor_dim(16, q);
    cr_expect(q[0] == 2 && q[1] == 2 && q[2] == 4);
    tt_factor_dim(64, q);
    cr_expect(q[0] == 4 && q[1] == 4 && q[2] == 4);
    tt_factor_dim(7, q);
    cr_expect(q[0] == 1 && q[1] == 1 && q[2] == 7);
    int64_t p[3];
    tt_factor_rows(1000, p);
    cr_expect(p[0] == 10 && p[1] == 10 && p[2] == 10);
    for (int64_t n = 201; n < 5000000; n = n * 3 + 1) {
        tt_factor_rows(n, p);
        cr_expect_geq(p[0] * p[1] * p[2], n);
        cr_expect_lt(p[0] * p[1] * p[2], n + n / 2 + 100, "padding of %lld too large", (long long)n);
    }
}

/* card 1000, d 16, rank 4: p = 10^3, q = 2,2,4; floats 10*2*4 + 10*4*2*4 + 10*4*4. */
static void *make_rank4(emb_spec *s, emb_plan *p) {
    mt_spec(s, M, 1, card1, 16, 64000.0 / 2240);
    mt_set(M, s, "rank", 4);
    return mt_make(M, s, p);
}

Test(tt, bytes_by_hand) {
    emb_spec s;
    emb_plan p;
    void *st = make_rank4(&s, &p);
    emb_bytes b;
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, 4u * (80 + 320 + 160));
    cr_expect_eq(p.bytes.infer_params, b.infer_params);
    M->destroy(st);
}

Test(tt, forward_equals_explicit_reconstruction) {
    emb_spec s;
    emb_plan p;
    void *st = make_rank4(&s, &p);
    emb_tensor t[3];
    cr_assert_eq(M->tensors(st, t, 3), 3);
    cr_assert_eq(t[0].n, 10u * 2 * 4);
    const float *G1 = t[0].data, *G2 = t[1].data, *G3 = t[2].data; /* (p,q1,r1) (p,r1,q2,r2) (p,r2,q3) */
    double worst = 0;
    for (int64_t i = 0; i < 1000; i++) {
        int64_t i1 = i / 100, i2 = (i / 10) % 10, i3 = i % 10;
        float e[16];
        M->forward(st, &i, 1, e);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < 4; c++) {
                    double v = 0;
                    for (int x = 0; x < 4; x++)
                        for (int y = 0; y < 4; y++)
                            v += (double)G1[i1 * 8 + a * 4 + x] * G2[i2 * 32 + x * 8 + b * 4 + y] *
                                 G3[i3 * 16 + y * 4 + c];
                    double d = fabs(v - e[a * 8 + b * 4 + c]);
                    worst = d > worst ? d : worst;
                }
    }
    cr_expect_lt(worst, 1e-6, "max |forward - reconstruction| = %g", worst);
    M->destroy(st);
}

Test(tt, init_has_dlrm_magnitude) {
    static const int64_t card[1] = {8000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 1, card, 16, 1);
    mt_set(M, &s, "rank", 8);
    s.ratio = 4.0 * 8000 * 16 / (4.0 * (20 * 2 * 8 + 20 * 8 * 2 * 8 + 20 * 8 * 4));
    void *st = mt_make(M, &s, &p);
    double ss = 0;
    float e[16];
    for (int64_t i = 0; i < 8000; i++) {
        M->forward(st, &i, 1, e);
        for (int j = 0; j < 16; j++) ss += (double)e[j] * e[j];
    }
    double var = ss / (8000.0 * 16), want = 1.0 / (3 * 8000.0); /* U(+-sqrt(1/n)) */
    cr_expect(var > 0.5 * want && var < 2 * want, "variance %g, DLRM %g", var, want);
    M->destroy(st);
}

Test(tt, auto_rank_hits_the_ratio) {
    static const int64_t card[4] = {10, 5000, 20000, 100000};
    static const double ratios[] = {4, 16, 64};
    for (size_t i = 0; i < 3; i++) {
        emb_spec s;
        mt_spec(&s, M, 4, card, 16, ratios[i]);
        mt_expect_plans(M, &s);
    }
    emb_spec s;
    mt_spec(&s, M, 4, card, 16, 1e5);
    mt_expect_refused(M, &s);
}
