/* test_fiited.c: FIITED (methods/fiited.c) and its VHPI table (methods/common/vhpi.c):
 * hash insert/find/erase/resize with many ids, the budget after every interval,
 * low-utility chunks pruned first and the prefix kept, memory returned to the OS,
 * training bytes below full's and within the plan. */
#include "method_fixture.h"
#include "methods/common/table.h"
#include "methods/common/vhpi.h"
#include "methods/fiited.h"
#include "methods/fiited_impl.h"

Test(vhpi, insert_find_erase_many) {
    enum { N = 60000 };
    vhpi_table t;
    char err[128];
    cr_assert_eq(vhpi_init(&t, vhpi_cap_for(N), 3, err, sizeof err), HX_OK);
    uint8_t *in = calloc(4 * N, 1); /* reference membership of keys 0 .. 4N-1 */
    hx_rng r;
    hx_rng_seed(&r, 4);
    int64_t live = 0;
    for (int i = 0; i < N; i++) {
        uint64_t key = hx_rng_below(&r, 4 * N);
        int64_t p = vhpi_insert(&t, key);
        if (!in[key]) {
            in[key] = 1;
            live++;
            for (int j = 0; j < 3; j++) cr_assert_eq(vhpi_slots(&t, p)[j], VHPI_NONE);
        }
        vhpi_slots(&t, p)[0] = (uint32_t)key; /* payload follows the key through moves */
    }
    cr_expect_eq(t.count, live);
    /* erase about half (backward shift moves entries: payloads must follow) */
    for (uint64_t key = 0; key < 4 * N; key += 2) {
        int was = vhpi_erase(&t, key);
        cr_expect_eq(was, in[key], "erase %llu", (unsigned long long)key);
        if (in[key]) live--;
        in[key] = 0;
    }
    cr_expect_eq(t.count, live);
    cr_assert_eq(vhpi_resize(&t, vhpi_cap_for(live), err, sizeof err), HX_OK);
    cr_expect_eq(t.cap, vhpi_cap_for(live));
    for (uint64_t key = 0; key < 4 * N; key++) {
        int64_t p = vhpi_find(&t, key);
        cr_expect_eq(p >= 0, in[key], "key %llu", (unsigned long long)key);
        if (p >= 0) cr_expect_eq(vhpi_slots(&t, p)[0], (uint32_t)key);
    }
    cr_expect_eq(vhpi_bytes(&t), (uint64_t)t.cap * (8 + 12));
    vhpi_free(&t);
    free(in);
}

static const emb_method *fiited(void) { return mt_method("fiited"); }

/* The suite's spec: the shared builder with seed 21, batch 64, 2 epochs of 100
 * steps, row-wise Adagrad (one accumulator per chunk). */
static void spec_for(emb_spec *s, int32_t F, const int64_t *card, int32_t dim, double ratio) {
    mt_spec(s, fiited(), F, card, dim, ratio);
    s->seed = 21;
    s->batch = 64;
    s->steps_per_epoch = 100;
    s->total_steps = 200;
    s->opt = opt_default(OPT_ROWWISE_ADAGRAD, 0.05f);
}

static void setp(emb_spec *s, const char *name, double v) { mt_set(fiited(), s, name, v); }

/* The selection's tie order walked without a division equals its formula,
 * across the uint64 wrap of q * PERM_PRIME + off. */
Test(fiited, tie_order_walk_matches_its_formula) {
    static const uint64_t ns[] = {1, 2, 3, 7, 1000, 16891346, 4294967311ull, 33762577};
    static const uint64_t offs[] = {0, 1, 0x666969746564ull, UINT64_MAX, UINT64_MAX - 2654435761ull * 5,
                                    0x9e3779b97f4a7c15ull};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
            const uint64_t count = ns[i] < 200000 ? ns[i] * 3 : 200000;
            cr_expect_eq(fiited_perm_check(offs[k], ns[i], count), count, "n %llu off %llx",
                         (unsigned long long)ns[i], (unsigned long long)offs[k]);
        }
    /* the wrap itself: from an offset just below 2^64 the first step wraps */
    cr_expect_eq(fiited_perm_check(UINT64_MAX - 10, 1000003, 5000), 5000);
}

Test(fiited, budget_holds_after_every_interval) {
    const emb_method *m = fiited();
    static const int64_t card[2] = {1000, 5000};
    emb_spec s;
    emb_plan p;
    char err[256];
    spec_for(&s, 2, card, 16, 6);
    setp(&s, "interval", 5);
    setp(&s, "warmup", 10);
    void *st = mt_make(m, &s, &p);
    emb_bytes b;
    m->bytes(st, &b);
    cr_expect_eq(emb_bytes_infer(&b), emb_bytes_infer(&p.bytes), "create matches the plan's initial state");
    hx_rng r;
    hx_rng_seed(&r, 2);
    int64_t idx[64 * 2];
    float out[64 * 2 * 16], d[64 * 2 * 16];
    for (int64_t t = 1; t <= 60; t++) {
        for (int q = 0; q < 64; q++) { /* skewed ids: low ids frequent */
            double u = hx_rng_uniform(&r);
            idx[q * 2] = (int64_t)(1000 * u * u * u);
            idx[q * 2 + 1] = (int64_t)(5000 * u * u * u * u);
        }
        m->forward(st, idx, 64, out);
        for (size_t q = 0; q < 64 * 2 * 16; q++) d[q] = out[q] - 0.3f;
        m->backward(st, idx, 64, d);
        m->step(st, t);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
        int64_t chunks, ids;
        double budget;
        fiited_live(st, &chunks, &ids, &budget);
        m->bytes(st, &b);
        cr_expect_leq((double)emb_bytes_infer(&b), budget, "t=%lld: %llu bytes over budget %g", (long long)t,
                      (unsigned long long)emb_bytes_infer(&b), budget);
        cr_expect_eq(b.infer_params, 16ull * (uint64_t)chunks);
        cr_expect_eq(b.infer_index, vhpi_bytes_for(vhpi_cap_for(ids), 4));
    }
    cr_expect_null(m->finalize, "the training structure is the inference one: no finalize");
    m->bytes(st, &b);
    double achieved = emb_full_bytes(&s) / (double)emb_bytes_infer(&b);
    cr_expect(emb_plan_within(6, achieved), "achieved ratio %g", achieved);
    cr_expect_gt(emb_bytes_train(&b), emb_bytes_infer(&b), "training adds utility counters and optimizer state");
    /* the frequent ids ended with the most dims */
    cr_expect_eq(fiited_len(st, 0, 0), 4);
    m->destroy(st);
}

Test(fiited, prunes_low_utility_first_and_keeps_a_prefix) {
    const emb_method *m = fiited();
    static const int64_t card[1] = {1000};
    /* budget: ids 0..49 at 4 chunks, ids 50..149 at 1 chunk, nothing else */
    double budget = 16.0 * (50 * 4 + 100) + (double)vhpi_bytes_for(vhpi_cap_for(150), 4);
    emb_spec s;
    spec_for(&s, 1, card, 16, 1000.0 * 64 / budget);
    setp(&s, "interval", 1);
    setp(&s, "warmup", 0);
    s.opt = opt_default(OPT_SGD, 0.0f); /* values do not matter here */
    emb_plan p;
    char err[256];
    void *st = mt_make(m, &s, &p);
    int64_t idx[150];
    float out[150 * 16], d[150 * 16];
    for (int i = 0; i < 150; i++) idx[i] = i;
    for (int i = 0; i < 150; i++)
        for (int e = 0; e < 16; e++) /* ids < 50: all chunks; 50..149: chunk 0 most */
            d[i * 16 + e] = (i < 50 || e < 4) ? 1.0f : 0.5f;
    m->forward(st, idx, 150, out);
    m->backward(st, idx, 150, d);
    m->step(st, 1);
    cr_assert_eq(m->on_step(st, 1, err, sizeof err), HX_OK, "%s", err);
    for (int i = 0; i < 1000; i++) {
        int want = i < 50 ? 4 : (i < 150 ? 1 : 0);
        cr_expect_eq(fiited_len(st, 0, i), want, "id %d has %d chunks, want %d", i, fiited_len(st, 0, i), want);
    }
    /* a pruned id reads as zeros */
    int64_t gone = 500;
    m->forward(st, &gone, 1, out);
    for (int e = 0; e < 16; e++) cr_expect_eq(out[e], 0.0f);
    /* utility moves: the zero-padded dims of id 60 get gradient, it grows
     * (zero-initialised: its output does not jump) and a weaker chunk goes */
    int64_t sixty = 60;
    float before[16], after[16], g[16];
    m->forward(st, &sixty, 1, before);
    for (int e = 0; e < 16; e++) g[e] = 50.0f;
    for (int rep = 0; rep < 3; rep++) m->backward(st, &sixty, 1, g);
    m->step(st, 2);
    cr_assert_eq(m->on_step(st, 2, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(fiited_len(st, 0, 60), 4, "id 60 should grow to 4 chunks");
    m->forward(st, &sixty, 1, after);
    cr_expect(memcmp(before, after, sizeof before) == 0, "growing must not change the output");
    int64_t chunks, ids;
    double b;
    fiited_live(st, &chunks, &ids, &b);
    emb_bytes eb;
    m->bytes(st, &eb);
    cr_expect_leq((double)emb_bytes_infer(&eb), budget);
    m->destroy(st);
}

/* Resident set size in kB from /proc/self/status. */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

Test(fiited, prune_returns_memory) {
    const emb_method *m = fiited();
    static const int64_t card[1] = {400000};
    emb_spec s;
    spec_for(&s, 1, card, 16, 0.75); /* ~1.4M live chunks: a ~23 MB pool + hash */
    emb_plan p;
    char err[256];
    void *st = mt_make(m, &s, &p);
    emb_bytes b0, b1;
    m->bytes(st, &b0);
    long before = rss_kb();
    cr_assert_eq(fiited_rebudget(st, 40, err, sizeof err), HX_OK, "%s", err);
    long after = rss_kb();
    m->bytes(st, &b1);
    uint64_t freed = emb_bytes_infer(&b0) - emb_bytes_infer(&b1);
    cr_expect_gt(freed, 30u << 20, "accounted bytes should drop by > 30 MiB: %llu", (unsigned long long)freed);
    cr_log_info("fiited prune: accounted %llu -> %llu bytes, VmRSS %ld -> %ld kB", (unsigned long long)emb_bytes_infer(&b0),
                (unsigned long long)emb_bytes_infer(&b1), before, after);
#if defined(__SANITIZE_ADDRESS__)
    (void)before; /* ASan quarantines freed blocks: RSS is not meaningful here */
#else
    cr_expect_gt(before - after, (long)(freed / 1024 / 2), "VmRSS %ld -> %ld kB, accounted drop %llu B", before, after,
                 (unsigned long long)freed);
#endif
    m->destroy(st);
}

/* Trains st for `steps` steps of skewed ids over fields of card[] (batch 64),
 * prune/grow rounds included. */
static void train_skewed(const emb_method *m, void *st, int32_t F, const int64_t *card, int steps) {
    char err[256];
    hx_rng r;
    hx_rng_seed(&r, 3);
    int64_t *idx = calloc((size_t)64 * F, sizeof *idx);
    float *out = calloc((size_t)64 * F * 16, sizeof *out), *d = calloc((size_t)64 * F * 16, sizeof *d);
    for (int64_t t = 1; t <= steps; t++) {
        for (int q = 0; q < 64 * F; q++) {
            double u = hx_rng_uniform(&r);
            idx[q] = (int64_t)((double)card[q % F] * u * u * u);
        }
        m->forward(st, idx, 64, out);
        for (size_t q = 0; q < (size_t)64 * F * 16; q++) d[q] = out[q] - 0.3f;
        m->backward(st, idx, 64, d);
        m->step(st, t);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
    }
    free(idx);
    free(out);
    free(d);
}

/* The training structure holds the budget plus a small overhead: utilities for
 * live chunks only, one counter and two bytes per id, optimizer state sized to
 * the pool. So its training bytes fall with the ratio, stay below full's (same
 * optimizer) from 2x up and below a quarter of full's at 16x, in the plan and
 * after training with prune/grow rounds. */
Test(fiited, training_bytes_below_full_and_within_the_plan) {
    const emb_method *m = fiited(), *full = mt_method("full");
    static const int64_t card[2] = {200000, 50000};
    static const double ratios[] = {2, 4, 8, 16, 32};
    static const opt_kind kinds[] = {OPT_ROWWISE_ADAGRAD, OPT_ADAGRAD};
    for (size_t k = 0; k < 2; k++) {
        emb_spec s;
        emb_plan p;
        char err[256];
        mt_spec(&s, full, 2, card, 16, 1);
        s.batch = 64;
        s.opt = opt_default(kinds[k], 0.05f);
        cr_assert_eq(full->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
        const double full_train = (double)emb_bytes_train(&p.bytes);
        double prev = INFINITY;
        for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
            spec_for(&s, 2, card, 16, ratios[i]);
            s.opt = opt_default(kinds[k], 0.05f);
            setp(&s, "interval", 5);
            setp(&s, "warmup", 0);
            void *st = mt_make(m, &s, &p);
            const double planned = (double)emb_bytes_train(&p.bytes), budget = emb_full_bytes(&s) / ratios[i];
            cr_expect_lt(planned, full_train, "ratio %g: planned training bytes %g >= full's %g", ratios[i], planned,
                         full_train);
            cr_expect_lt(planned, prev, "ratio %g: training bytes %g do not fall with the ratio", ratios[i], planned);
            if (ratios[i] >= 16)
                cr_expect_leq(planned, 0.25 * full_train, "ratio %g: %g > 25%% of full's %g", ratios[i], planned,
                              full_train);
            prev = planned;
            train_skewed(m, st, 2, card, 40);
            emb_bytes b;
            m->bytes(st, &b);
            const double trained = (double)emb_bytes_train(&b);
            cr_log_info("fiited %s ratio %g: training bytes plan %.0f, after 40 steps %.0f; full %.0f",
                        kinds[k] == OPT_ADAGRAD ? "adagrad" : "rowwise", ratios[i], planned, trained, full_train);
            cr_expect_lt(trained, full_train, "ratio %g: trained bytes %g >= full's %g", ratios[i], trained, full_train);
            /* peaks past the plan's initial state: pool rows taken from a shrinking
             * hash table, the second table while rehashing; both within one budget */
            cr_expect_leq(trained, planned + budget, "ratio %g: trained %g > plan %g + budget %g", ratios[i], trained,
                          planned, budget);
            m->destroy(st);
        }
    }
}

/* The forward's and backward's lead walk (a hash table past HX_BIG_MIN, the
 * big-table path on) against the plain lookups (path off): the same outputs
 * through steps and prune/grow rounds that read the backward's utilities. */
Test(fiited, lead_walk_matches_the_plain_walk) {
    enum { BB = 37, DIM = 8, STEPS = 6 };
    static const int64_t big[2] = {300000, 300000};
    const emb_method *m = emb_method_find("fiited");
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, big, DIM, 2);
    mt_set(m, &s, "interval", 2);
    mt_set(m, &s, "warmup", 2);
    s.batch = BB;
    s.total_steps = STEPS;
    void *st[2];
    for (int on = 0; on <= 1; on++) {
        hx_big_set(on);
        st[on] = mt_make(m, &s, &p);
    }
    hx_big_set(1);
    int64_t chunks[2], ids[2];
    double budget;
    fiited_live(st[1], &chunks[1], &ids[1], &budget);
    cr_assert_geq(vhpi_bytes_for(vhpi_cap_for(ids[1]), DIM / 4), (uint64_t)HX_BIG_MIN,
                  "the table is big enough for the lead walk (%lld ids)", (long long)ids[1]);
    static float out[2][BB * 2 * DIM], dout[BB * 2 * DIM];
    int64_t idx[BB * 2];
    hx_rng r;
    hx_rng_seed(&r, 5);
    char err[256];
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < BB * 2; i++) idx[i] = (int64_t)hx_rng_below(&r, (uint64_t)big[i % 2]);
        idx[5] = idx[1]; /* a repeated id in one field */
        for (int on = 0; on <= 1; on++) {
            m->forward(st[on], idx, BB, out[on]);
            for (int i = 0; i < BB * 2 * DIM; i++) dout[i] = out[on][i] - (float)(i % 7) * 0.1f;
            m->backward(st[on], idx, BB, dout);
            m->step(st[on], t);
            cr_assert_eq(m->on_step(st[on], t, err, sizeof err), HX_OK, "%s", err);
        }
        cr_expect(memcmp(out[0], out[1], sizeof out[0]) == 0, "step %d: lead walk and plain lookups differ", t);
        const fiited_state *a = st[0], *b = st[1]; /* the utilities the backward summed */
        cr_assert_eq(a->pool.rows, b->pool.rows);
        cr_expect(memcmp(a->cu, b->cu, (size_t)a->pool.rows * sizeof(float)) == 0, "step %d: chunk utilities", t);
        cr_expect(memcmp(a->cnt, b->cnt, (size_t)a->N * sizeof(float)) == 0, "step %d: missing chunks' utilities", t);
    }
    for (int on = 0; on <= 1; on++) fiited_live(st[on], &chunks[on], &ids[on], &budget);
    cr_expect(chunks[0] == chunks[1] && ids[0] == ids[1], "after the rounds: %lld/%lld chunks, %lld/%lld ids",
              (long long)chunks[0], (long long)chunks[1], (long long)ids[0], (long long)ids[1]);
    for (int64_t i = 0; i < big[0]; i += 97)
        cr_assert_eq(fiited_len(st[0], 0, i), fiited_len(st[1], 0, i), "id %lld's live chunks", (long long)i);
    for (int on = 0; on <= 1; on++) m->destroy(st[on]);
}
