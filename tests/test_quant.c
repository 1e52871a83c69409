/* test_quant.c: the post-training methods (methods/int8.c, int4.c, pq.c):
 * fp16 conversion, int8/int4 round-trip error bounds, byte formulas, fixed-ratio
 * refusals, training bytes equal to full's, PQ error falling with K. */
#include "method_fixture.h"
#include "methods/common/rowquant.h"

extern const emb_method emb_method_int8, emb_method_int4, emb_method_pq, emb_method_full;

Test(quant, half_conversion) {
    cr_expect_eq(rq_float_to_half(1.0f), 0x3c00);
    cr_expect_eq(rq_float_to_half(-2.0f), 0xc000);
    cr_expect_eq(rq_float_to_half(65504.0f), 0x7bff);
    cr_expect_eq(rq_float_to_half(1e6f), 0x7c00);
    cr_expect_eq(rq_float_to_half(ldexpf(1, -24)), 0x0001); /* smallest subnormal */
    cr_expect_eq(rq_float_to_half(1.0f + ldexpf(1, -11)), 0x3c00); /* tie to even */
    cr_expect_eq(rq_float_to_half(1.0f + 3 * ldexpf(1, -11)), 0x3c02);
    for (uint32_t h = 0; h < 0x7c00; h += 7) cr_expect_eq(rq_float_to_half(rq_half_to_float((uint16_t)h)), h);
}

Test(quant, row_roundtrip_error_bounds) {
    hx_rng r;
    hx_rng_seed(&r, 3);
    for (int d = 1; d <= 17; d += 4)
        for (int it = 0; it < 200; it++) {
            float x[17], y[17];
            uint8_t buf[64];
            float c = (float)hx_rng_normal(&r), w = 0.01f + (float)hx_rng_uniform(&r);
            for (int j = 0; j < d; j++) x[j] = c + w * (float)hx_rng_normal(&r);
            float mn = x[0], mx = x[0];
            for (int j = 1; j < d; j++) mn = fminf(mn, x[j]), mx = fmaxf(mx, x[j]);
            rq_quantize(8, x, d, buf);
            rq_dequantize(8, buf, d, y);
            for (int j = 0; j < d; j++) /* half a step of (max - min) / 255 */
                cr_expect_leq(fabsf(x[j] - y[j]), (mx - mn) / 510 * 1.001f + 1e-6f, "int8 d=%d", d);
            rq_quantize(4, x, d, buf);
            rq_dequantize(4, buf, d, y);
            for (int j = 0; j < d; j++) /* half a step of /15, plus fp16 rounding of scale and bias */
                cr_expect_leq(fabsf(x[j] - y[j]), (mx - mn) / 30 * 1.01f + fabsf(mn) * 1e-3f + 1e-6f, "int4 d=%d", d);
        }
}

Test(quant, byte_formulas_and_fixed_ratios) {
    static const int64_t card[2] = {100, 1000};
    emb_spec s, sf;
    emb_plan p, pf;
    char err[256];
    mt_spec(&s, &emb_method_int8, 2, card, 16, 64.0 / 24);
    cr_assert_eq(emb_method_int8.plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(p.bytes.infer_params, 1100u * (16 + 8));
    mt_spec(&sf, &emb_method_full, 2, card, 16, 1);
    cr_assert_eq(emb_method_full.plan(&sf, &pf, err, sizeof err), HX_OK);
    cr_expect_eq(p.bytes.train_params, pf.bytes.train_params, "training bytes are full's");
    cr_expect_eq(p.bytes.train_optim, pf.bytes.train_optim);
    cr_expect_eq(p.bytes.train_other, pf.bytes.train_other);
    s.ratio = 16;
    mt_expect_refused(&emb_method_int8, &s);
    mt_spec(&s, &emb_method_int4, 2, card, 16, 64.0 / 12);
    mt_expect_plans(&emb_method_int4, &s);
    mt_spec(&s, &emb_method_int4, 2, card, 5, 20.0 / 7); /* ceil(5/2) + 4 bytes */
    cr_assert_eq(emb_method_int4.plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(p.bytes.infer_params, 1100u * 7);
    s.ratio = 8;
    mt_expect_refused(&emb_method_int4, &s);
}

/* Mean squared error of the finalized table against the trained one. */
static double pq_mse(int32_t K, uint64_t *infer) {
    static const int64_t card[2] = {10, 2000};
    const emb_method *m = &emb_method_pq;
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 8, 1);
    mt_set(m, &s, "subspaces", 2);
    mt_set(m, &s, "centroids", K);
    int bits = 0;
    while ((1 << bits) < K) bits++;
    double bytes = 10 * 32 + 4.0 * K * 8 + 2000.0 * ((2 * bits + 7) / 8);
    s.ratio = 2010.0 * 32 / bytes;
    void *st = mt_make(m, &s, &p);
    float *before = malloc(2000 * 2 * 8 * sizeof(float)), *after = malloc(2000 * 2 * 8 * sizeof(float));
    int64_t *idx = malloc(2000 * 2 * sizeof(int64_t));
    for (int64_t i = 0; i < 2000; i++) idx[2 * i] = i % 10, idx[2 * i + 1] = i;
    m->forward(st, idx, 1000, before);
    m->forward(st, idx + 2000, 1000, before + 16000);
    char err[256];
    cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s", err);
    m->forward(st, idx, 1000, after);
    m->forward(st, idx + 2000, 1000, after + 16000);
    emb_bytes b;
    m->bytes(st, &b);
    *infer = emb_bytes_infer(&b);
    double se = 0;
    for (int k = 0; k < 2000 * 2 * 8; k++) se += (double)(after[k] - before[k]) * (after[k] - before[k]);
    free(before);
    free(after);
    free(idx);
    m->destroy(st);
    return se / (2000 * 8);
}

Test(quant, pq_error_falls_with_centroids_and_bytes_by_hand) {
    uint64_t b4, b16, b64;
    double e4 = pq_mse(4, &b4), e16 = pq_mse(16, &b16), e64 = pq_mse(64, &b64);
    cr_expect(e16 < e4 && e64 < e16, "mse K=4 %g, K=16 %g, K=64 %g", e4, e16, e64);
    cr_expect_eq(b16, 10u * 32 + 4u * 16 * 8 + 2000u * 1); /* 2 codes x 4 bits = 1 byte/row */
    cr_expect_eq(b64, 10u * 32 + 4u * 64 * 8 + 2000u * 2); /* 12 bits -> 2 bytes */
}

Test(quant, pq_plan_prefers_256_centroids) {
    static const int64_t card[2] = {1000000, 500000}; /* codebooks negligible */
    const emb_method *m = &emb_method_pq;
    emb_spec s;
    mt_spec(&s, m, 2, card, 16, 4);
    mt_expect_plans(m, &s);
    cr_expect_eq(mt_get(m, &s, "subspaces"), 16);
    cr_expect_eq(mt_get(m, &s, "centroids"), 256);
    mt_spec(&s, m, 2, card, 16, 16);
    mt_expect_plans(m, &s);
    cr_expect_eq(mt_get(m, &s, "subspaces"), 4);
    cr_expect_eq(mt_get(m, &s, "centroids"), 256);
    mt_spec(&s, m, 2, card, 16, 2); /* codes of <= 1 byte per sub-space cannot give 2x */
    mt_expect_refused(m, &s);
}
