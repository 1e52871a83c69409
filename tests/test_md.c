/* test_md.c: mixed-dimension embeddings (methods/md.c): md_solver widths and
 * bytes by hand, the projection forward, alpha bisection. */
#include "method_fixture.h"

extern const emb_method emb_method_md;
static const emb_method *M = &emb_method_md;
/* alpha 0.5, d0 = 16, N_min = 4: d(400) = 16 * 0.1 = 1.6 -> 2, d(40000) = 0.16 -> 1 */
static const int64_t card[3] = {4, 400, 40000};

Test(md, widths_and_bytes_by_hand) {
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 3, card, 16, 1);
    mt_set(M, &s, "alpha", 0.5);
    double bytes = 4.0 * (4 * 16 + 400 * 2 + 2 * 16 + 40000 * 1 + 1 * 16);
    s.ratio = 4.0 * 40404 * 16 / bytes;
    void *st = mt_make(M, &s, &p);
    emb_bytes b;
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, (uint64_t)bytes);
    cr_expect_eq(p.bytes.infer_params, (uint64_t)bytes);
    emb_tensor t[8];
    cr_assert_eq(M->tensors(st, t, 8), 5); /* table, table+proj, table+proj */
    cr_expect_eq(t[1].n, 400u * 2);
    cr_expect_str_eq(t[2].name, "projection");
    cr_expect_eq(t[2].n, 2u * 16);
    cr_expect_eq(t[3].n, 40000u * 1);
    M->destroy(st);
}

Test(md, projection_forward_by_hand) {
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 3, card, 16, 1);
    mt_set(M, &s, "alpha", 0.5);
    s.ratio = 4.0 * 40404 * 16 / (4.0 * (4 * 16 + 400 * 2 + 2 * 16 + 40000 * 1 + 1 * 16));
    void *st = mt_make(M, &s, &p);
    emb_tensor t[8];
    M->tensors(st, t, 8);
    for (size_t k = 0; k < t[1].n; k++) t[1].data[k] = (float)k;  /* row i = (2i, 2i+1) */
    for (size_t k = 0; k < t[2].n; k++) t[2].data[k] = 0.25f * (float)k;
    const int64_t idx[3] = {1, 7, 0};
    float e[48];
    M->forward(st, idx, 1, e);
    for (int j = 0; j < 16; j++) /* e_j = 14 * P[0][j] + 15 * P[1][j] */
        cr_expect_float_eq(e[16 + j], 14 * 0.25f * j + 15 * 0.25f * (16 + j), 1e-4);
    M->destroy(st);
}

Test(md, alpha_bisection_hits_the_ratio) {
    static const int64_t big[4] = {3, 5000, 20000, 100000};
    static const double ratios[] = {2, 4, 8};
    for (size_t i = 0; i < 3; i++) {
        emb_spec s;
        mt_spec(&s, M, 4, big, 16, ratios[i]);
        mt_expect_plans(M, &s);
        cr_expect(mt_get(M, &s, "alpha") > 0 && mt_get(M, &s, "alpha") != EMB_AUTO, "alpha recorded");
    }
    emb_spec s;
    mt_spec(&s, M, 4, big, 16, 100); /* width 1 everywhere gives < 16x */
    mt_expect_refused(M, &s);
    /* above the top there is no nearer ratio: the message must not say "inf" */
    emb_plan p;
    char err[256] = "";
    cr_assert_neq(M->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "inf") == NULL, "unreachable message: %s", err);
    /* base 1 puts every MD field at width 1: the only ratio is above 4, none below */
    mt_spec(&s, M, 4, big, 16, 4);
    mt_set(M, &s, "base", 1);
    cr_assert_neq(M->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "nearest 0 ") == NULL && strstr(err, "none below") != NULL, "message: %s", err);
}
