/* test_qr.c: the QR trick (methods/qr.c): bytes by hand, planning, and the
 * mult / add / concat forward on a hand example. */
#include "method_fixture.h"

extern const emb_method emb_method_qr;
static const emb_method *M = &emb_method_qr;
static const int64_t card1[1] = {1000};

/* One field of 1000 rows, d = 4, c = 10: Q is 100 x w_q, R is 10 x w_r. */
static void *make_hand(int op, emb_spec *s, emb_plan *p) {
    mt_spec(s, M, 1, card1, 4, 1);
    mt_set(M, s, "collisions", 10);
    mt_set(M, s, "operation", op);
    s->ratio = op == 2 ? 16000.0 / 880 : 16000.0 / 1760;
    void *st = mt_make(M, s, p);
    emb_tensor t[4];
    cr_assert_eq(M->tensors(st, t, 4), 2);
    cr_assert_str_eq(t[0].name, "quotient");
    cr_assert_str_eq(t[1].name, "remainder");
    for (size_t k = 0; k < t[0].n; k++) t[0].data[k] = (float)k;       /* Q[q][j] = q*w + j */
    for (size_t k = 0; k < t[1].n; k++) t[1].data[k] = 0.5f + (float)k; /* R[r][j] = r*w + j + .5 */
    return st;
}

Test(qr, mult_add_concat_forward_by_hand) {
    emb_spec s;
    emb_plan p;
    const int64_t id = 123; /* q = 12, r = 3 */
    float e[4];
    void *st = make_hand(0, &s, &p);
    M->forward(st, &id, 1, e);
    for (int j = 0; j < 4; j++) cr_expect_float_eq(e[j], (float)(48 + j) * (12.5f + j), 1e-6);
    M->destroy(st);
    st = make_hand(1, &s, &p);
    M->forward(st, &id, 1, e);
    for (int j = 0; j < 4; j++) cr_expect_float_eq(e[j], (float)(48 + j) + (12.5f + j), 1e-6);
    M->destroy(st);
    st = make_hand(2, &s, &p); /* concat: w_q = w_r = 2 */
    M->forward(st, &id, 1, e);
    cr_expect_float_eq(e[0], 24.0f, 1e-6);
    cr_expect_float_eq(e[1], 25.0f, 1e-6);
    cr_expect_float_eq(e[2], 6.5f, 1e-6);
    cr_expect_float_eq(e[3], 7.5f, 1e-6);
    M->destroy(st);
}

Test(qr, bytes_by_hand) {
    emb_spec s;
    emb_plan p;
    void *st = make_hand(0, &s, &p);
    emb_bytes b;
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, 4u * (100 * 4 + 10 * 4)); /* 4 (ceil(n/c) d + c d) */
    cr_expect_eq(b.infer_index, 0u);
    cr_expect_eq(b.train_optim, 0u); /* SGD */
    M->destroy(st);
    st = make_hand(2, &s, &p);
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, 4u * (100 * 2 + 10 * 2));
    M->destroy(st);
}

Test(qr, small_fields_stay_full_and_dlrm_init) {
    static const int64_t card[2] = {150, 1000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 2, card, 4, 1);
    mt_set(M, &s, "collisions", 10);
    mt_set(M, &s, "init", 1); /* dlrm */
    s.ratio = (1150.0 * 16) / (150 * 16 + 1760);
    void *st = mt_make(M, &s, &p);
    emb_tensor t[4];
    cr_assert_eq(M->tensors(st, t, 4), 3);
    cr_expect_str_eq(t[0].name, "table");
    cr_expect_eq(t[0].n, 150u * 4);
    float lo = sqrtf(1.0f / 1000);
    for (int k = 1; k < 3; k++) /* the reference quirk: U(sqrt(1/n), 1) */
        for (size_t j = 0; j < t[k].n; j++) cr_expect(t[k].data[j] >= lo && t[k].data[j] <= 1.0f);
    M->destroy(st);
}

Test(qr, auto_collisions_hit_the_ratio) {
    static const int64_t card[4] = {10, 5000, 20000, 100000};
    static const double ratios[] = {2, 4, 16};
    for (int op = 0; op < 3; op++)
        for (size_t i = 0; i < 3; i++) {
            emb_spec s;
            mt_spec(&s, M, 4, card, 16, ratios[i]);
            mt_set(M, &s, "operation", op);
            mt_expect_plans(M, &s);
        }
    emb_spec s;
    mt_spec(&s, M, 4, card, 16, 1e4); /* beyond c = sqrt(n) for every field */
    mt_expect_refused(M, &s);
}

Test(qr, default_init_is_symmetric_uniform) {
    static const int64_t card[1] = {1000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 1, card, 4, 16000.0 / 1760);
    mt_set(M, &s, "collisions", 10);
    void *st = mt_make(M, &s, &p);
    emb_tensor t[2];
    cr_assert_eq(M->tensors(st, t, 2), 2);
    float a = sqrtf(1.0f / 1000);
    int neg = 0;
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < t[k].n; j++) {
            cr_expect(fabsf(t[k].data[j]) <= a, "U(+-sqrt(1/n))");
            neg += t[k].data[j] < 0;
        }
    cr_expect_gt(neg, 0);
    M->destroy(st);
}

Test(qr, matched_init_scales_mult_tables) {
    static const int64_t card[1] = {1000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 1, card, 4, 16000.0 / 1760);
    mt_set(M, &s, "collisions", 10);
    mt_set(M, &s, "init", 2); /* matched */
    void *st = mt_make(M, &s, &p);
    emb_tensor t[2];
    cr_assert_eq(M->tensors(st, t, 2), 2);
    float a = powf(3.0f / 1000, 0.25f), mx = 0;
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < t[k].n; j++) mx = fmaxf(mx, fabsf(t[k].data[j]));
    cr_expect(mx <= a && mx > sqrtf(1.0f / 1000), "max |w| %g, bound %g", mx, a);
    M->destroy(st);
}

/* ids above 2^24: the reference's float quotient would round 2^25 - 1 up to
 * 2^25 / c = 4096, one past the last quotient row; integer division gives 4095. */
Test(qr, integer_quotient_above_2_24) {
    static const int64_t card[1] = {1 << 25};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 1, card, 1, 1);
    mt_set(M, &s, "collisions", 8192);
    s.ratio = (double)(1 << 25) / (4096 + 8192);
    void *st = mt_make(M, &s, &p);
    emb_tensor t[2];
    cr_assert_eq(M->tensors(st, t, 2), 2);
    cr_assert_eq(t[0].n, 4096u);
    for (size_t k = 0; k < t[0].n; k++) t[0].data[k] = (float)k;
    for (size_t k = 0; k < t[1].n; k++) t[1].data[k] = 1.0f;
    const int64_t id = (1 << 25) - 1;
    float e;
    M->forward(st, &id, 1, &e);
    cr_expect_float_eq(e, 4095.0f, 0);
    M->destroy(st);
}

/* concat gives Q ceil(d/2) and R floor(d/2) columns: at d = 1 R would have no
 * columns (create used to abort on a zero-width table); plan refuses instead. */
Test(qr, concat_refuses_dim_1) {
    static const int64_t card[2] = {10, 5000};
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    mt_spec(&s, M, 2, card, 1, 2);
    mt_set(M, &s, "operation", 2);
    cr_expect_eq(M->plan(&s, &p, err, sizeof err), HX_ERR_PARAM, "plan: %s", err);
    cr_expect(strstr(err, "dim >= 2") != NULL, "message: %s", err);
    void *st = NULL;
    cr_expect_eq(M->create(&s, &st, err, sizeof err), HX_ERR_PARAM, "create: %s", err);
    cr_expect_null(st);
    mt_spec(&s, M, 2, card, 2, 2); /* d = 2 plans */
    mt_set(M, &s, "operation", 2);
    mt_expect_plans(M, &s);
}
