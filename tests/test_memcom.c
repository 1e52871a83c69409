/* test_memcom.c: MEmCom-specific checks beyond the conformance suite:
 *   bytes      inference 4 (m d + n) per compressed field (+ 4 n with the bias),
 *              small fields 4 n d; the planned ratio is hit within 5%
 *   ceiling    ratios beyond n d / (m d + n) < d are refused, naming the range
 *   init       at step 0, MEmCom equals the hashing trick (w = 1) bit for bit
 *   structure  ids colliding under i mod m keep parallel embeddings after
 *              training (only the scalar differs); the bias gradient is sum(g)
 */
#include "method_fixture.h"
#include "methods/common/table.h"

#define MF 3
static const int64_t k_card[MF] = {50, 1000, 3000};

static const emb_method *memcom(void) { return mt_method("memcom"); }

/* Set s->ratio to what `rows` shared rows per compressed field (threshold 200:
 * field 0 stays full) give, with per_id bytes per entity (0 for hash). */
static void ratio_for_rows(emb_spec *s, int64_t rows, uint64_t per_id) {
    uint64_t bytes = 0;
    for (int f = 0; f < MF; f++)
        bytes += s->card[f] <= 200 ? 4 * (uint64_t)s->card[f] * (uint64_t)s->dim
                                   : 4 * (uint64_t)rows * (uint64_t)s->dim + per_id * (uint64_t)s->card[f];
    s->ratio = emb_full_bytes(s) / (double)bytes;
}

/* The suite's spec: the shared builder with seed 9 and lr 0.2. */
static void spec_for(const emb_method *m, emb_spec *s, const int64_t *card, int32_t dim, double ratio) {
    mt_spec(s, m, MF, card, dim, ratio);
    s->seed = 9;
    s->opt = opt_default(OPT_SGD, 0.2f);
    s->dense_opt = opt_default(OPT_SGD, 0.2f);
}

/* A created memcom with `rows` shared rows per compressed field, at its ratio. */
static void *create_rows(const emb_method *m, emb_spec *s, int32_t dim, int64_t rows, int bias) {
    spec_for(m, s, k_card, dim, 1);
    mt_set(m, s, "rows", (double)rows);
    mt_set(m, s, "bias", bias);
    ratio_for_rows(s, rows, bias ? 8 : 4);
    return mt_create(m, s);
}

static uint64_t infer_bytes(const emb_method *m, emb_spec *s) {
    emb_plan p;
    void *st = mt_make(m, s, &p);
    emb_bytes b;
    m->bytes(st, &b);
    m->destroy(st);
    cr_expect_eq(emb_bytes_infer(&b), emb_bytes_infer(&p.bytes), "plan and bytes() agree");
    return emb_bytes_infer(&b);
}

Test(memcom, bytes_formula_with_and_without_bias) {
    const emb_method *m = memcom();
    emb_spec s;
    spec_for(m, &s, k_card, 16, 1);
    mt_set(m, &s, "threshold", 100); /* field 0 (50 rows) stays full */
    mt_set(m, &s, "rows", 64);
    const uint64_t d = 16, m_rows = 64;
    uint64_t want = 4 * 50 * d + 4 * (m_rows * d + 1000) + 4 * (m_rows * d + 3000);
    s.ratio = (double)emb_full_bytes(&s) / (double)want;
    cr_expect_eq(infer_bytes(m, &s), want);
    mt_set(m, &s, "bias", 1);
    want += 4 * (1000 + 3000);
    s.ratio = (double)emb_full_bytes(&s) / (double)want;
    cr_expect_eq(infer_bytes(m, &s), want, "the bias adds 4 n per compressed field");
}

Test(memcom, plan_hits_ratio_from_auto_rows) {
    const emb_method *m = memcom();
    static const double ratios[] = {1, 2, 4, 8, 12};
    for (int bias = 0; bias <= 1; bias++)
        for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
            emb_spec s;
            spec_for(m, &s, k_card, 16, ratios[i]);
            mt_set(m, &s, "bias", bias);
            if (bias && ratios[i] > 7) continue; /* beyond the bias ceiling d/2 */
            double got = emb_full_bytes(&s) / (double)infer_bytes(m, &s);
            cr_expect(emb_plan_within(ratios[i], got), "bias %d: ratio %g achieved %g", bias, ratios[i], got);
        }
}

Test(memcom, ceiling_refused_with_range) {
    const emb_method *m = memcom();
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    spec_for(m, &s, k_card, 16, 20);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK, "ratio 20 at d=16 is beyond the ceiling");
    double lo = 0, hi = 0;
    const char *r = strstr(err, "range [");
    cr_assert_not_null(r, "error should name the range: %s", err);
    cr_assert_eq(sscanf(r, "range [%lf, %lf]", &lo, &hi), 2, "%s", err);
    cr_expect_lt(hi, 16, "the ceiling is below d: %s", err);
    cr_expect_gt(hi, 10, "%s", err);
    /* the named ceiling is itself reachable */
    spec_for(m, &s, k_card, 16, hi * 0.99);
    cr_expect_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    /* with the bias the ceiling halves, roughly */
    spec_for(m, &s, k_card, 16, 10);
    mt_set(m, &s, "bias", 1);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK, "ratio 10 with bias at d=16");
}

Test(memcom, equals_hashing_at_init) {
    const emb_method *m = memcom(), *h = mt_method("hash");
    emb_spec sm, sh;
    spec_for(m, &sm, k_card, 8, 1);
    spec_for(h, &sh, k_card, 8, 1);
    mt_set(m, &sm, "rows", 37);
    mt_set(h, &sh, "rows", 37);
    ratio_for_rows(&sm, 37, 4);
    ratio_for_rows(&sh, 37, 0);
    mt_set(h, &sh, "hash", 1); /* modulo, MEmCom's default */
    void *a = mt_create(m, &sm), *b = mt_create(h, &sh);
    hx_rng rng;
    hx_rng_seed(&rng, 1);
    int64_t idx[16 * MF];
    float oa[16 * MF * 8], ob[16 * MF * 8];
    for (int j = 0; j < 16 * MF; j++) idx[j] = (int64_t)hx_rng_below(&rng, (uint64_t)k_card[j % MF]);
    m->forward(a, idx, 16, oa);
    h->forward(b, idx, 16, ob);
    cr_expect(memcmp(oa, ob, sizeof oa) == 0, "memcom with w=1 should equal modulo hashing");
    m->destroy(a);
    h->destroy(b);
}

/* ids i and i+m collide under i mod m: after training their embeddings stay
 * parallel (e_i / w_i == e_j / w_j), while the weights have moved apart. */
Test(memcom, colliding_ids_differ_by_their_scalar) {
    const emb_method *m = memcom();
    emb_spec s;
    void *st = create_rows(m, &s, 8, 10, 0);
    int64_t idx[2 * MF] = {3, 13, 23, 3, 513, 2013}; /* row 0: ids 3,13,23; row 1: 3,513,2013 */
    float out[2 * MF * 8], g[2 * MF * 8];
    hx_rng rng;
    hx_rng_seed(&rng, 4);
    for (int t = 1; t <= 5; t++) { /* different targets for the two rows */
        for (int j = 0; j < 2 * MF * 8; j++) g[j] = (float)hx_rng_normal(&rng);
        m->forward(st, idx, 2, out);
        m->backward(st, idx, 2, g);
        m->step(st, t);
    }
    m->forward(st, idx, 2, out);
    for (int f = 1; f < MF; f++) { /* compressed fields: 13 vs 513, 23 vs 2013 */
        const float *e1 = out + f * 8, *e2 = out + (MF + f) * 8;
        double dot = 0, n1 = 0, n2 = 0;
        for (int j = 0; j < 8; j++) {
            dot += (double)e1[j] * e2[j];
            n1 += (double)e1[j] * e1[j];
            n2 += (double)e2[j] * e2[j];
        }
        double cosine = fabs(dot) / sqrt(n1 * n2);
        cr_expect_gt(cosine, 1 - 1e-5, "field %d: colliding ids not parallel (|cos| %g)", f, cosine);
        cr_expect_gt(fabs(sqrt(n1) - sqrt(n2)), 1e-4, "field %d: weights did not separate", f);
    }
    m->destroy(st);
}

/* With the bias on: db_i = sum_j g_ij and the forward adds b_i to each coordinate. */
Test(memcom, bias_gradient_and_forward) {
    const emb_method *m = memcom();
    emb_spec s;
    void *st = create_rows(m, &s, 4, 16, 1);
    int64_t idx[2 * MF] = {1, 7, 9, 2, 7, 9}; /* ids 7 and 9 twice: coalesced */
    float out[2 * MF * 4], g[2 * MF * 4];
    for (int j = 0; j < 2 * MF * 4; j++) g[j] = 0.25f * (float)(j % 5) - 0.3f;
    m->forward(st, idx, 2, out);
    m->backward(st, idx, 2, g);
    emb_tensor ts[16];
    int nt = m->tensors(st, ts, 16);
    cr_assert_eq(nt, MF + 2 + 2, "3 tables, then weight and bias of the 2 compressed fields");
    cr_expect_str_eq(ts[MF + 2].name, "bias");
    float *db = calloc(ts[MF + 2].n, sizeof(float)); /* bias of field 1 */
    m->grad(st, MF + 2, db);
    double want = 0;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 4; j++) want += g[(b * MF + 1) * 4 + j];
    cr_expect_float_eq(db[7], (float)want, 1e-6, "db_7 = sum of both rows' gradients");
    free(db);
    m->step(st, 1);
    /* a unit change of b_7 shifts every coordinate of id 7's embedding by 1 */
    ts[MF + 2].data[7] += 1.0f;
    float out2[2 * MF * 4];
    m->forward(st, idx, 2, out2);
    ts[MF + 2].data[7] -= 1.0f;
    float out3[2 * MF * 4];
    m->forward(st, idx, 2, out3);
    for (int j = 0; j < 4; j++) cr_expect_float_eq(out2[MF * 4 + 4 + j] - out3[MF * 4 + 4 + j], 1.0f, 1e-5);
    m->destroy(st);
}

/* Finite-difference check after training (w != 1, b != 0), which the
 * conformance suite, run at init, cannot see: every tensor's gradient of
 * L = sum(out . R) matches central differences. */
Test(memcom, gradient_after_training_with_bias) {
    const emb_method *m = memcom();
    emb_spec s;
    void *st = create_rows(m, &s, 4, 8, 1);
    hx_rng rng;
    hx_rng_seed(&rng, 11);
    int64_t idx[6 * MF];
    float R[6 * MF * 4], out[6 * MF * 4];
    for (int t = 1; t <= 4; t++) {
        for (int j = 0; j < 6 * MF; j++) idx[j] = (int64_t)hx_rng_below(&rng, (uint64_t)k_card[j % MF]);
        for (int j = 0; j < 6 * MF * 4; j++) R[j] = (float)hx_rng_normal(&rng);
        m->forward(st, idx, 6, out);
        m->backward(st, idx, 6, R);
        m->step(st, t);
    }
    idx[MF + 1] = idx[1]; /* a duplicate id */
    m->forward(st, idx, 6, out);
    m->backward(st, idx, 6, R);
    emb_tensor ts[16];
    int nt = m->tensors(st, ts, 16);
    cr_assert_eq(nt, MF + 4);
    for (int t = 0; t < nt; t++) {
        float *g = calloc(ts[t].n, sizeof(float));
        m->grad(st, t, g);
        double num = 0, den = 0;
        int probed = 0;
        for (size_t j = 0; j < ts[t].n; j++) {
            if (g[j] == 0) continue;
            probed++;
            float keep = ts[t].data[j], h = 1e-2f;
            double lp = 0, lm = 0;
            ts[t].data[j] = keep + h;
            m->forward(st, idx, 6, out);
            for (int k = 0; k < 6 * MF * 4; k++) lp += (double)out[k] * R[k];
            ts[t].data[j] = keep - h;
            m->forward(st, idx, 6, out);
            for (int k = 0; k < 6 * MF * 4; k++) lm += (double)out[k] * R[k];
            ts[t].data[j] = keep;
            double fd = (lp - lm) / (2.0 * h);
            num += (fd - g[j]) * (fd - g[j]);
            den += fd * fd;
        }
        cr_expect_gt(probed, 0, "tensor %d (%s): no gradient", t, ts[t].name);
        cr_expect_leq(sqrt(num / den), 1e-3, "tensor %d (%s): rel error %g", t, ts[t].name, sqrt(num / den));
        free(g);
    }
    m->destroy(st);
}
