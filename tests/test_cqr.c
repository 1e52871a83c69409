/* test_cqr.c: CQR/CCE (methods/cqr.c): bytes against the formula and the plan,
 * pointer widths, the clustering step on planted clusters, the schedule. */
#include "method_fixture.h"
#include "methods/common/table.h"
#include "methods/cqr.h"

/* The suite's spec: the shared builder with seed 9, batch 32, 4 epochs of 100 steps. */
static void spec_for(emb_spec *s, int32_t F, const int64_t *card, int32_t dim, double ratio) {
    mt_spec(s, mt_method("cce"), F, card, dim, ratio); /* registered under its alias too */
    s->seed = 9;
    s->batch = 32;
    s->steps_per_epoch = 100;
    s->total_steps = 400;
}

static void setp(emb_spec *s, const char *name, double v) { mt_set(mt_method("cqr"), s, name, v); }

static uint64_t ptr_bytes(int64_t n, int c, int bits) { return 8 * (((uint64_t)n * c * bits + 63) / 64); }

Test(cqr, bytes_follow_formula_and_plan) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[3] = {50, 3000, 10000};
    static const struct { int sketch, packed, bits; const char *desc; } cases[] = {
        {0, 1, 7, "packed"}, {1, 1, 7, "packed"}, {0, 0, 16, "uint16"}, {1, 0, 16, "uint16"}};
    for (size_t c = 0; c < 4; c++) {
        emb_spec s;
        emb_plan p;
        char err[256];
        spec_for(&s, 3, card, 16, 1);
        setp(&s, "k", 100);
        setp(&s, "sketch", cases[c].sketch);
        setp(&s, "packed", cases[c].packed);
        /* with a fixed k the ratio is what it is: request exactly that one */
        uint64_t params = 4ull * 50 * 16 + 2 * (8ull * 100 * 16);
        uint64_t index = (ptr_bytes(3000, 4, cases[c].bits) + ptr_bytes(10000, 4, cases[c].bits)) * (cases[c].sketch ? 2 : 1);
        s.ratio = emb_full_bytes(&s) / (double)(params + index);
        cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "plan: %s", err);
        cr_expect_eq(p.bytes.infer_params, params);
        cr_expect_eq(p.bytes.infer_index, index, "case %zu: index %llu vs %llu", c,
                     (unsigned long long)p.bytes.infer_index, (unsigned long long)index);
        void *st = mt_create(m, &s);
        emb_bytes b;
        m->bytes(st, &b);
        cr_expect(memcmp(&b, &p.bytes, sizeof b) == 0, "case %zu: bytes() differ from plan()", c);
        cr_expect(strstr(b.index_desc, cases[c].desc) != NULL, "index_desc '%s'", b.index_desc);
        cr_expect_eq(strstr(b.index_desc, "b hashed") != NULL, !cases[c].sketch, "index_desc '%s'", b.index_desc);
        m->destroy(st);
    }
}

Test(cqr, ratio_from_plan_counts_pointers) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[4] = {20, 4000, 30000, 100000};
    emb_spec s;
    emb_plan p;
    char err[256];
    for (double r = 2; r <= 10; r += 2) {
        spec_for(&s, 4, card, 16, r);
        cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "ratio %g: %s", r, err);
        cr_expect(emb_plan_within(r, p.ratio), "requested %g achieved %g", r, p.ratio);
        cr_expect_gt(p.bytes.infer_index, 0);
        /* params-only ratio is larger: pointers cost memory */
        cr_expect_gt(emb_full_bytes(&s) / (double)p.bytes.infer_params, p.ratio);
    }
    /* pointers bound the ratio: ~32*d/(c*bits) for the big fields */
    spec_for(&s, 4, card, 16, 40);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "range") != NULL, "%s", err);
    spec_for(&s, 4, card, 12, 4);
    setp(&s, "columns", 5);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "divisible") != NULL, "%s", err);
}

Test(cqr, training_bytes_close_to_inference) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[3] = {100, 50000, 200000};
    emb_spec s;
    emb_plan p;
    char err[256];
    spec_for(&s, 3, card, 16, 4);
    s.batch = 128;
    /* without clustering: codebooks + pointers + gradient slots only */
    setp(&s, "cluster_until", 0);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    double inf = (double)emb_bytes_infer(&p.bytes), tr = (double)emb_bytes_train(&p.bytes);
    cr_expect_eq(p.bytes.train_params, p.bytes.infer_params);
    cr_expect_eq(p.bytes.train_optim, 0);
    cr_expect_geq(tr, inf);
    cr_expect_leq(tr, 1.05 * inf, "SGD training %g vs inference %g bytes", tr, inf);
    /* with clustering the transient k-means scratch (sample vectors, centroids,
     * residual sums, the k-means empty-cluster heap) adds to the peak, bounded by
     * the max_sample cap */
    emb_params_default(m, s.pv);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    double tr2 = (double)emb_bytes_train(&p.bytes);
    cr_expect_gt(tr2, tr);
    cr_expect_leq(tr2, 2.1 * inf, "with clustering: training %g vs inference %g bytes", tr2, inf);
}

/* Train field 0 toward planted targets: ids in G groups, each group one vector. */
#define PN 300
#define PD 8
#define PG 16
#define PK 64
static void planted_targets(float *T) {
    hx_rng r;
    hx_rng_seed(&r, 3);
    float centers[PG * PD];
    for (int i = 0; i < PG * PD; i++) centers[i] = hx_rng_uniformf(&r, -1, 1);
    for (int i = 0; i < PN; i++)
        for (int j = 0; j < PD; j++) T[i * PD + j] = centers[(i % PG) * PD + j] + 0.02f * (float)hx_rng_normal(&r);
}

static double train_epochs(const emb_method *m, void *st, const float *T, int epochs, int64_t *t) {
    int64_t idx[100];
    float out[100 * PD], d[100 * PD];
    double loss = 0;
    for (int e = 0; e < epochs; e++) {
        loss = 0;
        for (int b = 0; b < PN; b += 100) {
            for (int q = 0; q < 100; q++) idx[q] = b + q;
            m->forward(st, idx, 100, out);
            for (int q = 0; q < 100 * PD; q++) {
                d[q] = out[q] - T[b * PD + q];
                loss += 0.5 * d[q] * d[q];
            }
            m->backward(st, idx, 100, d);
            m->step(st, ++*t);
        }
    }
    return loss / PN;
}

static void *planted_model(const emb_method *m, emb_spec *s, const int64_t *card) {
    spec_for(s, 1, card, PD, 1);
    s->batch = 100;
    s->opt = opt_default(OPT_SGD, 0.3f);
    setp(s, "k", PK);
    setp(s, "columns", 2);
    setp(s, "threshold", 0);
    setp(s, "cluster_until", 0); /* clustering only when the test calls it */
    /* k fixes the bytes: 2 codebooks of k x 8 floats + 6-bit a pointers */
    s->ratio = emb_full_bytes(s) / (8.0 * PK * PD + 8.0 * ((PN * 2 * 6 + 63) / 64));
    emb_plan p;
    return mt_make(m, s, &p);
}

Test(cqr, clustering_beats_random_assignment_on_planted_clusters) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[1] = {PN};
    float *T = malloc(sizeof(float) * PN * PD), *V = malloc(sizeof(float) * PN * PD);
    planted_targets(T);
    emb_spec s;
    void *st = planted_model(m, &s, card), *twin = planted_model(m, &s, card);
    int64_t t1 = 0, t2 = 0;
    train_epochs(m, st, T, 30, &t1);
    train_epochs(m, twin, T, 30, &t2);

    /* reconstruction error of the pre-clustering vectors by their new centroid,
     * against a uniformly random centroid */
    int64_t idx[PN];
    for (int i = 0; i < PN; i++) idx[i] = i;
    m->forward(st, idx, PN, V);
    char err[256];
    cr_assert_eq(cqr_cluster(st, err, sizeof err), HX_OK, "%s", err);
    emb_tensor ts[4];
    cr_assert_eq(m->tensors(st, ts, 4), 2);
    const float *A = ts[0].data; /* (c*k, d/c) */
    hx_rng r;
    hx_rng_seed(&r, 1);
    double e_cl = 0, e_rnd = 0;
    for (int i = 0; i < PN; i++)
        for (int j = 0; j < 2; j++) {
            const float *ca = A + (size_t)(j * PK + cqr_pointer_a(st, 0, i, j)) * 4;
            const float *cr_ = A + (size_t)(j * PK + hx_rng_below(&r, PK)) * 4;
            for (int e = 0; e < 4; e++) {
                double v = V[i * PD + j * 4 + e];
                e_cl += (v - ca[e]) * (v - ca[e]);
                e_rnd += (v - cr_[e]) * (v - cr_[e]);
            }
        }
    cr_expect_lt(e_cl, 0.25 * e_rnd, "clustered %g vs random %g", e_cl, e_rnd);

    /* sketch, train, cluster, repeat (the paper's cycle) beats the unclustered twin
     * at equal steps and bytes: same-group ids come to share code words */
    double l_cl = 0, l_tw = 0;
    for (int round = 0; round < 4; round++) {
        l_cl = train_epochs(m, st, T, 30, &t1);
        l_tw = train_epochs(m, twin, T, 30, &t2);
        if (round < 3) cr_assert_eq(cqr_cluster(st, err, sizeof err), HX_OK, "%s", err);
    }
    cr_log_info("planted: loss after clustering %g, unclustered twin %g", l_cl, l_tw);
    cr_expect_lt(l_cl, 0.5 * l_tw, "loss after clustering %g vs without %g", l_cl, l_tw);
    m->destroy(st);
    m->destroy(twin);
    free(T);
    free(V);
}

/* The steps t = 1..total at which field 1's pointers change (a bit set), each
 * step's on_step run on st. */
static uint64_t clustered_at(const emb_method *m, void *st, int64_t total) {
    char err[256];
    uint32_t *a0 = malloc(3000 * sizeof(uint32_t));
    uint64_t at = 0;
    for (int64_t t = 1; t <= total; t++) {
        for (int i = 0; i < 3000; i++) a0[i] = cqr_pointer_a(st, 1, i, 0);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
        int diff = 0;
        for (int i = 0; i < 3000; i++) diff += a0[i] != cqr_pointer_a(st, 1, i, 0);
        if (diff) at |= 1ull << t;
    }
    free(a0);
    return at;
}

Test(cqr, schedule_and_stored_sketch) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[2] = {10, 3000};
    for (int stored = 0; stored <= 1; stored++) {
        emb_spec s;
        emb_plan p;
        spec_for(&s, 2, card, 8, 3);
        s.total_steps = 20;
        setp(&s, "sketch", stored);
        setp(&s, "cluster_every", 5);   /* clusters at t = 5, 10, 15 (<= 0.75 * 20) */
        void *st = mt_make(m, &s, &p);
        const uint64_t at = clustered_at(m, st, 20);
        cr_expect(at & (1ull << 5), "no clustering at t=5 (stored=%d)", stored);
        cr_expect_eq(at & ~((1ull << 5) | (1ull << 10) | (1ull << 15)), 0,
                     "pointers changed off schedule (stored=%d)", stored);
        int64_t idx[2] = {3, 2999};
        float out[2 * 8];
        m->forward(st, idx, 1, out);
        for (int e = 0; e < 16; e++) cr_expect(isfinite(out[e]));
        m->destroy(st);
    }
}

/* cluster_every auto: every epoch when an epoch ends by cluster_until (0.75 of
 * the steps), as the reference; a run shorter than 4/3 epochs, which would never
 * reach an epoch's end by then, clusters three times by then instead. 0 keeps
 * the plain every-epoch rule (no clustering in half an epoch). */
Test(cqr, auto_schedule_clusters_short_runs_too) {
    const emb_method *m = mt_method("cqr");
    static const int64_t card[2] = {10, 3000};
    static const struct { int64_t spe; int every0; uint64_t allowed, first; } cases[] = {
        {100, 0, (1ull << 12) | (1ull << 24) | (1ull << 36), 1ull << 12}, /* half an epoch: until 37 */
        {10, 0, (1ull << 10) | (1ull << 20) | (1ull << 30), 1ull << 10},  /* five epochs: each end by 37 */
        {100, 1, 0, 0},                                                  /* every epoch, explicitly: none */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        emb_spec s;
        spec_for(&s, 2, card, 8, 3);
        s.steps_per_epoch = cases[c].spe;
        s.total_steps = 50;
        if (cases[c].every0) setp(&s, "cluster_every", 0);
        emb_plan p;
        void *st = mt_make(m, &s, &p);
        const uint64_t at = clustered_at(m, st, s.total_steps);
        m->destroy(st);
        cr_expect_eq(at & ~cases[c].allowed, 0, "case %zu: clustered off schedule (%#llx)", c, (unsigned long long)at);
        cr_expect_eq(at & cases[c].first, cases[c].first, "case %zu: no clustering at the first scheduled step", c);
    }
}
