/* test_robe.c: ROBE (methods/robe.c): blocks read consecutive cells of the one
 * shared array; bytes; planning. */
#include "method_fixture.h"

extern const emb_method emb_method_robe;
static const emb_method *M = &emb_method_robe;
static const int64_t card[2] = {50, 70};

Test(robe, blocks_read_consecutive_cells) {
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 2, card, 8, 120.0 * 8 / 100);
    mt_set(M, &s, "size", 100);
    mt_set(M, &s, "block", 4);
    void *st = mt_make(M, &s, &p);
    emb_tensor t[2];
    cr_assert_eq(M->tensors(st, t, 2), 1);
    cr_assert_eq(t[0].n, 100u);
    for (size_t k = 0; k < 100; k++) t[0].data[k] = (float)k;
    int distinct = 0;
    float first = -1;
    for (int64_t i = 0; i < 50; i++) {
        int64_t idx[2] = {i, i};
        float e[16];
        M->forward(st, idx, 1, e);
        for (int r = 0; r < 2; r++)
            for (int b = 0; b < 2; b++) {
                const float *blk = e + r * 8 + b * 4;
                cr_expect(blk[0] >= 0 && blk[0] <= 96, "block start %g in [0, size - Z]", blk[0]);
                for (int o = 1; o < 4; o++) cr_expect_float_eq(blk[o], blk[0] + o, 0);
                if (first < 0) first = blk[0];
                distinct += blk[0] != first;
            }
    }
    cr_expect_gt(distinct, 0, "offsets are hashed, not constant");
    emb_bytes b;
    M->bytes(st, &b);
    cr_expect_eq(b.infer_params, 400u);
    cr_expect_eq(b.infer_index, 0u);
    M->destroy(st);
}

Test(robe, size_from_ratio) {
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 2, card, 8, 8);
    char err[256];
    cr_assert_eq(M->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(p.bytes.infer_params, 4u * 120); /* round(120 * 8 / 8) floats */
    mt_spec(&s, M, 2, card, 8, 960); /* Z = 1: one float is the limit */
    mt_expect_plans(M, &s);
    mt_spec(&s, M, 2, card, 8, 960);
    mt_set(M, &s, "block", 8);
    mt_expect_refused(M, &s);
}

/* The lead walk (big-table path on: blocks hashed once into a ring, their
 * fetches started ahead) reads and writes the cells the plain walk (path off)
 * does, for blocks that do not divide the dim (the last one shorter) and a batch
 * of many more blocks than the walk runs ahead. */
Test(robe, lead_walk_matches_the_plain_walk) {
    enum { BB = 37, DIM = 8, SIZE = 600000 }; /* 2.4 MB: past HX_BIG_MIN, so the lead walk runs */
    static const int64_t big[2] = {300000, 300000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, M, 2, big, DIM, 600000.0 * DIM / SIZE);
    mt_set(M, &s, "size", SIZE);
    mt_set(M, &s, "block", 3); /* blocks of 3, 3 and 2 dims */
    s.batch = BB;
    void *st[2];
    for (int on = 0; on <= 1; on++) {
        hx_big_set(on);
        st[on] = mt_make(M, &s, &p);
    }
    hx_big_set(1);
    int64_t idx[BB * 2];
    hx_rng r;
    hx_rng_seed(&r, 5);
    for (int i = 0; i < BB * 2; i++) idx[i] = (int64_t)hx_rng_below(&r, (uint64_t)big[i % 2]);
    static float out[2][BB * 2 * DIM], dout[BB * 2 * DIM], grad[2][SIZE];
    for (size_t i = 0; i < sizeof dout / sizeof dout[0]; i++) dout[i] = (float)(i % 7) - 3.0f;
    for (int on = 0; on <= 1; on++) {
        M->forward(st[on], idx, BB, out[on]);
        M->backward(st[on], idx, BB, dout);
        M->grad(st[on], 0, grad[on]);
    }
    cr_expect(memcmp(out[0], out[1], sizeof out[0]) == 0, "forward: lead walk and plain walk differ");
    cr_expect(memcmp(grad[0], grad[1], sizeof grad[0]) == 0, "backward: lead walk and plain walk differ");
    int touched = 0;
    for (int k = 0; k < SIZE; k++) touched += grad[1][k] != 0;
    cr_expect_gt(touched, 400, "the batch's gradients reach many cells (%d)", touched);
    for (int on = 0; on <= 1; on++) M->destroy(st[on]);
}
