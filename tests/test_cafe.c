/* test_cafe.c: CAFE (methods/cafe.c) and its HotSketch (methods/common/hotsketch.c):
 *   recall   on a planted Zipf stream the hot set holds >= 90% of the true top-k
 *            ids by score
 *   decay    an id that goes cold loses its hot row, which another id then takes;
 *            an id that stays warm keeps its row
 *   layout   the reference's per-ratio settings, the 2000/ratio field rule and the
 *            bytes by hand
 *   promote  a promoted id's hot row starts as its hashed row; the hot path's
 *            gradient matches finite differences
 */
#include "method_fixture.h"
#include "methods/common/hotsketch.h"
#include "methods/common/table.h"

/* Zipf(a) over n ids by inverse CDF; id 0 is the most frequent, then a random
 * relabelling so frequency and id order are unrelated. */
typedef struct zipf {
    int64_t   n;
    double   *cdf;
    uint32_t *label;
} zipf;

static void zipf_init(zipf *z, int64_t n, double a, hx_rng *r) {
    z->n = n;
    z->cdf = malloc((size_t)n * sizeof(double));
    z->label = malloc((size_t)n * sizeof(uint32_t));
    cr_assert(z->cdf && z->label);
    double s = 0;
    for (int64_t k = 0; k < n; k++) z->cdf[k] = (s += pow((double)k + 1, -a));
    for (int64_t k = 0; k < n; k++) z->cdf[k] /= s, z->label[k] = (uint32_t)k;
    for (int64_t k = n - 1; k > 0; k--) {
        int64_t j = (int64_t)hx_rng_below(r, (uint64_t)k + 1);
        uint32_t t = z->label[k];
        z->label[k] = z->label[j];
        z->label[j] = t;
    }
}

static uint32_t zipf_draw(const zipf *z, hx_rng *r) {
    double u = hx_rng_uniform(r);
    int64_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        int64_t m = (lo + hi) / 2;
        if (z->cdf[m] < u) lo = m + 1;
        else hi = m;
    }
    return z->label[lo];
}

static void zipf_free(zipf *z) {
    free(z->cdf);
    free(z->label);
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* 400k occurrences of Zipf(1.1) over 100k ids, each scored w_id in [0.5, 1.5]
 * (a per-id gradient scale), in batches of 256 with the decay check before each
 * batch, as the method does. 1000 hot rows; the top 500 by true total score. */
Test(cafe, sketch_recalls_zipf_top_k) {
    enum { N = 100000, OCC = 400000, HOT = 1000, K = 500, BATCH = 256 };
    hx_rng r;
    hx_rng_seed(&r, 11);
    zipf z;
    zipf_init(&z, N, 1.1, &r);
    float *w = malloc(N * sizeof(float));
    double *total = calloc(N, sizeof(double)), *sorted = malloc(N * sizeof(double));
    cr_assert(w && total && sorted);
    for (int i = 0; i < N; i++) w[i] = 0.5f + (float)hx_rng_uniform(&r);
    hotsketch s;
    char err[128];
    cr_assert_eq(hs_init(&s, HOT, 20, 0.99f, 3, err, sizeof err), HX_OK);
    for (int o = 0; o < OCC; o++) {
        if (o % BATCH == 0) hs_maybe_decay(&s);
        uint32_t id = zipf_draw(&z, &r);
        total[id] += w[id];
        hs_insert(&s, id, w[id]);
    }
    memcpy(sorted, total, N * sizeof(double));
    qsort(sorted, N, sizeof(double), cmp_desc);
    double kth = sorted[K - 1];
    int in_top = 0, hit = 0;
    for (int i = 0; i < N; i++) {
        if (total[i] < kth) continue;
        in_top++;
        hit += hs_query(&s, (uint32_t)i) >= 0;
    }
    double recall = (double)hit / in_top;
    fprintf(stderr, "cafe sketch: top-%d recall %.4f (%d of %d), %lld hot, %lld decays\n", K, recall, hit, in_top,
            (long long)s.n_hot, (long long)s.n_decays);
    cr_expect_geq(s.n_decays, 1, "the stream should trigger a decay");
    cr_expect_geq(recall, 0.9, "recall %.3f of the top %d ids by score", recall, K);
    hs_free(&s);
    zipf_free(&z);
    free(w);
    free(total);
    free(sorted);
}

/* Id 7 becomes hot, then disappears from the stream while id 9 stays warm: the
 * decays free 7's row and keep 9's, and a newly hot id can take the freed row. */
Test(cafe, decay_frees_cold_ids) {
    enum { NB = 64 };
    hotsketch s;
    char err[128];
    cr_assert_eq(hs_init(&s, NB, 5, 0.99f, 5, err, sizeof err), HX_OK);
    hx_rng r;
    hx_rng_seed(&r, 2);
    for (int k = 0; k < 100; k++) {
        hs_insert(&s, 7, 1);
        hs_insert(&s, 9, 1);
    }
    int64_t row7 = hs_query(&s, 7);
    cr_assert_geq(row7, 0, "id 7 should be hot");
    cr_assert_geq(hs_query(&s, 9), 0, "id 9 should be hot");
    /* cold phase: 9 keeps 1 in 50 of the occurrences, 7 none; the rest are
     * distinct background ids (each seen about once) */
    int64_t decays0 = s.n_decays;
    for (int o = 0; o < 1500000; o++) {
        if (o % 256 == 0) hs_maybe_decay(&s);
        uint32_t id = o % 50 == 0 ? 9 : 1000 + (uint32_t)hx_rng_below(&r, 1u << 30);
        hs_insert(&s, id, 1);
    }
    fprintf(stderr, "cafe sketch: %lld decays in the cold phase, score of 7 now %g\n",
            (long long)(s.n_decays - decays0), hs_score(&s, 7));
    cr_expect_gt(s.n_decays - decays0, 100);
    cr_expect_eq(hs_query(&s, 7), -1, "id 7 went cold and should have lost its hot row");
    cr_expect_geq(hs_query(&s, 9), 0, "id 9 stayed warm and should keep its row");
    cr_expect_eq(s.n_hot, 1, "only id 9 is hot");
    /* the freed row is handed out again */
    int64_t got = -1;
    for (int k = 0; k < 10 && got < 0; k++) got = hs_insert(&s, 123456789u, 1);
    cr_expect_geq(got, 0, "a new hot id gets a free row");
    hs_free(&s);
}

static const emb_method *cafe(void) { return mt_method("cafe"); }

Test(cafe, reference_settings_and_field_rule) {
    const emb_method *m = cafe();
    static const int64_t card[3] = {900, 5000, 20000};
    emb_spec s;
    emb_plan p;
    char err[256];
    /* ratio 2 = compress rate 0.5: hash_rate 0.7, threshold 10; fields > 1000 ids */
    mt_spec(&s, m, 3, card, 16, 2);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(mt_get(m, &s, "hash_rate"), 0.7);
    cr_expect_eq(mt_get(m, &s, "hot_threshold"), 10);
    cr_expect_eq(mt_get(m, &s, "threshold"), 1000);
    cr_expect(strstr(p.knobs, "2 of 3 fields compressed") != NULL, "%s", p.knobs);
    /* ratio 8 = 0.125, nearest 0.1 in log scale: 0.5 and 20; every field > 250 */
    mt_spec(&s, m, 3, card, 16, 8);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(mt_get(m, &s, "hash_rate"), 0.5);
    cr_expect_eq(mt_get(m, &s, "hot_threshold"), 20);
    cr_expect(strstr(p.knobs, "3 of 3 fields compressed") != NULL, "%s", p.knobs);
    /* 1/1000: 0.2 and 500 */
    mt_spec(&s, m, 3, card, 16, 1000);
    m->plan(&s, &p, err, sizeof err);
    cr_expect_eq(mt_get(m, &s, "hash_rate"), 0.2);
    cr_expect_eq(mt_get(m, &s, "hot_threshold"), 500);
}

/* Bytes by hand at ratio 4, dim 8, SGD: every field has more than 2000/4 = 500
 * ids, so all are compressed and share the budget 4*8*25900/4 = 207200 B. */
Test(cafe, bytes_by_hand) {
    const emb_method *m = cafe();
    static const int64_t card[3] = {900, 5000, 20000};
    emb_spec s;
    emb_plan p;
    char err[256];
    mt_spec(&s, m, 3, card, 8, 4);
    mt_set(m, &s, "hash_rate", 0.5);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    double budget = 4.0 * 8 * 25900 / 4; /* 207200 */
    int64_t m_f[3], used = 0;
    for (int f = 0; f < 3; f++) {
        m_f[f] = llround(0.5 * budget / 32 * (double)card[f] / 25900);
        used += 32 * m_f[f];
    }
    int64_t hot = (int64_t)floor((budget - (double)used) / (32 + 48));
    cr_expect_eq(p.bytes.infer_params, 32ull * (uint64_t)(m_f[0] + m_f[1] + m_f[2] + hot));
    cr_expect_eq(p.bytes.infer_index, 48ull * (uint64_t)hot);
    cr_expect(p.ratio >= 3.99 && p.ratio <= 4.01, "achieved %g", p.ratio);
    cr_expect_eq(p.bytes.train_optim, 0, "SGD keeps no state");
    /* refusal names the range */
    mt_spec(&s, m, 3, card, 8, 1e5);
    mt_expect_refused(m, &s);
}

/* A spec whose compressed field promotes an id after its second occurrence. */
static void *promo_state(const emb_method *m, emb_spec *s, const int64_t *card) {
    mt_spec(s, m, 2, card, 4, 4);
    mt_set(m, s, "hot_threshold", 1.5);
    mt_set(m, s, "score", 1); /* count */
    emb_plan p;
    return mt_make(m, s, &p);
}

Test(cafe, promotion_copies_the_hashed_row_and_hot_gradient_checks) {
    const emb_method *m = cafe();
    static const int64_t card[2] = {3, 8000};
    emb_spec s;
    void *st = promo_state(m, &s, card);
    int64_t idx[4] = {1, 42, 2, 42}; /* id 42 of field 1 twice: score 2 >= 1.5 */
    float before[2 * 2 * 4], after[2 * 2 * 4], zero[2 * 2 * 4] = {0};
    m->forward(st, idx, 2, before);
    m->backward(st, idx, 2, zero);
    m->step(st, 1);
    emb_tensor ts[8];
    int nt = m->tensors(st, ts, 8);
    cr_assert_eq(nt, 3, "two field tables and the hot table once an id is hot");
    cr_expect_str_eq(ts[2].name, "hot");
    m->forward(st, idx, 2, after);
    cr_expect(memcmp(before, after, sizeof before) == 0, "a promoted id reads a copy of its hashed row");
    /* the hot row is its own: a gradient now reaches the hot table only */
    float R[16];
    hx_rng r;
    hx_rng_seed(&r, 9);
    for (int k = 0; k < 16; k++) R[k] = (float)hx_rng_normal(&r);
    m->forward(st, idx, 2, after);
    m->backward(st, idx, 2, R);
    float *g = calloc(ts[2].n, sizeof(float));
    cr_assert(g);
    m->grad(st, 2, g);
    double num = 0, den = 0;
    for (size_t j = 0; j < ts[2].n; j++) {
        float keep = ts[2].data[j], h = 1e-3f;
        double l[2];
        for (int q = 0; q < 2; q++) {
            ts[2].data[j] = keep + (q ? -h : h);
            m->forward(st, idx, 2, after);
            l[q] = 0;
            for (int k = 0; k < 16; k++) l[q] += (double)after[k] * R[k];
        }
        ts[2].data[j] = keep;
        double fd = (l[0] - l[1]) / (2.0 * h);
        num += (fd - g[j]) * (fd - g[j]);
        den += fd * fd;
    }
    cr_expect_gt(den, 0, "the hot row receives gradient");
    cr_expect_leq(sqrt(num / den), 1e-2, "hot table gradient rel error %g", sqrt(num / den));
    free(g);
    m->destroy(st);
}
