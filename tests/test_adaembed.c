/* test_adaembed.c: AdaEmbed (methods/adaembed.c) beyond the conformance suite:
 *   - bytes by hand (table + map + score per compressed id) and the refusal range;
 *   - importance: an access adds the field-normalised gradient norm, cold ids read
 *     zero and still score;
 *   - after a reallocation the ids holding rows are exactly the top H ids by the
 *     ranking score (score over the field's 95th percentile, computed here
 *     independently), admitted rows start at zero, and the held count stays H;
 *   - decay multiplies every score.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method_fixture.h"
#include "methods/adaembed.h"

Test(adaembed, bytes_by_hand_and_range) {
    const emb_method *m = mt_method("adaembed");
    static const int64_t card[3] = {50, 1000, 3000};
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    mt_spec(&s, m, 3, card, 16, 4);
    mt_set(m, &s, "threshold", 100);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    /* budget 4*16*4050/4 = 64800 B = 50*64 (full field) + 8*4000 + 64 H -> H = 462 */
    cr_expect_eq(p.bytes.infer_params, 64ull * (50 + 462));
    cr_expect_eq(p.bytes.infer_index, 8ull * 4000);
    cr_expect(fabs(p.ratio - 4) < 0.01, "ratio %g", p.ratio);
    /* the map and the scores alone cost 8 of the 64 bytes per id: at most ~8x */
    mt_spec(&s, m, 3, card, 16, 16);
    mt_set(m, &s, "threshold", 100);
    mt_expect_refused(m, &s);
    /* auto threshold = 2000 / ratio: at ratio 4 the 1000-id field is compressed */
    mt_spec(&s, m, 3, card, 16, 4);
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(mt_get(m, &s, "threshold"), 500);
}

/* The ranking key of every compressed id, computed independently: score over the
 * field's 95th percentile (numpy's linear interpolation), when that is not 0. */
static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void keys(void *st, const int64_t *card, int F, float *key) {
    int64_t o = 0;
    for (int f = 0; f < F; f++) {
        float *v = malloc((size_t)card[f] * sizeof(float));
        for (int64_t i = 0; i < card[f]; i++) v[i] = adaembed_score(st, f, i);
        qsort(v, (size_t)card[f], sizeof(float), cmp_float);
        double pos = 0.95 * (double)(card[f] - 1), lo = floor(pos);
        double p = v[(int64_t)lo] + (v[(int64_t)lo + 1] - v[(int64_t)lo]) * (pos - lo);
        for (int64_t i = 0; i < card[f]; i++)
            key[o + i] = p != 0 ? (float)(adaembed_score(st, f, i) / (float)p) : adaembed_score(st, f, i);
        o += card[f];
        free(v);
    }
}

Test(adaembed, held_ids_are_the_top_ids_after_each_reallocation) {
    const emb_method *m = mt_method("adaembed");
    enum { F = 2, B = 32, D = 8 };
    static const int64_t card[F] = {300, 600};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, F, card, D, 2);
    s.batch = B;
    mt_set(m, &s, "threshold", 0);
    mt_set(m, &s, "interval", 5);
    mt_set(m, &s, "tolerance", 0);
    void *st = mt_make(m, &s, &p);
    int64_t H, Nc, n;
    adaembed_sizes(st, &H, &Nc, &n);
    cr_assert_eq(Nc, 900);
    cr_assert(H > 50 && H < 900, "H = %lld", (long long)H);
    int64_t idx[B * F];
    float out[B * F * D], dout[B * F * D], key[900];
    hx_rng rng;
    hx_rng_seed(&rng, 7);
    int checked = 0;
    for (int64_t t = 1; t <= 60; t++) {
        for (int b = 0; b < B; b++) /* skewed ids: low ids are frequent */
            for (int f = 0; f < F; f++) {
                double u = hx_rng_uniform(&rng);
                idx[b * F + f] = (int64_t)((double)card[f] * u * u * u);
            }
        for (size_t k = 0; k < sizeof dout / sizeof dout[0]; k++) dout[k] = (float)hx_rng_normal(&rng);
        /* score added by this batch to one id: B ||g|| / sum ||g|| */
        float before = adaembed_score(st, 1, idx[1]);
        m->forward(st, idx, B, out);
        for (int b = 0; b < B; b++)
            for (int f = 0; f < F; f++)
                if (adaembed_row(st, f, idx[b * F + f]) < 0)
                    for (int j = 0; j < D; j++) cr_assert_eq(out[(b * F + f) * D + j], 0, "cold ids read zero");
        m->backward(st, idx, B, dout);
        if (t == 1) {
            double sum = 0, want = 0;
            for (int b = 0; b < B; b++) {
                double n2 = 0;
                for (int j = 0; j < D; j++) n2 += dout[(b * F + 1) * D + j] * dout[(b * F + 1) * D + j];
                sum += sqrt(n2);
                if (idx[b * F + 1] == idx[1]) want += sqrt(n2);
            }
            cr_expect_float_eq(adaembed_score(st, 1, idx[1]) - before, (float)(want * B / sum), 1e-4);
        }
        m->step(st, t);
        char err[128];
        int64_t r0;
        adaembed_sizes(st, &H, &Nc, &r0);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
        int64_t held, r1;
        adaembed_sizes(st, &held, &Nc, &r1);
        cr_assert_eq(held, H, "the table stays full");
        if (r1 == r0) continue;
        /* reallocated: min key over held ids >= max key over the others */
        keys(st, card, F, key);
        float min_held = INFINITY, max_cold = -INFINITY;
        int64_t o = 0;
        for (int f = 0; f < F; f++) {
            for (int64_t i = 0; i < card[f]; i++) {
                float k = key[o + i];
                if (adaembed_row(st, f, i) >= 0) min_held = k < min_held ? k : min_held;
                else max_cold = k > max_cold ? k : max_cold;
            }
            o += card[f];
        }
        cr_expect_geq(min_held, max_cold, "step %lld: a held id ranks below a cold one (%g < %g)", (long long)t,
                      min_held, max_cold);
        checked++;
    }
    cr_log_info("adaembed: %d reallocations checked, H = %lld of %lld ids", checked, (long long)H, (long long)Nc);
    cr_expect_geq(checked, 5, "reallocations happened (%d)", checked);
    m->destroy(st);
}

Test(adaembed, admitted_rows_start_at_zero_and_decay_scales_scores) {
    const emb_method *m = mt_method("adaembed");
    static const int64_t card[1] = {400};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 1, card, 8, 2);
    mt_set(m, &s, "threshold", 0);
    mt_set(m, &s, "interval", 1000);
    mt_set(m, &s, "decay_interval", 2);
    void *st = mt_make(m, &s, &p);
    /* one cold id alone, every step: after step 1 it must hold a row */
    int64_t c = 0;
    while (adaembed_row(st, 0, c) >= 0) c++;
    int64_t idx[16];
    for (int b = 0; b < 16; b++) idx[b] = c;
    float out[16 * 8], dout[16 * 8];
    for (int k = 0; k < 16 * 8; k++) dout[k] = 1;
    char err[128];
    m->forward(st, idx, 16, out);
    m->backward(st, idx, 16, dout);
    m->step(st, 1);
    cr_assert_eq(m->on_step(st, 1, err, sizeof err), HX_OK);
    cr_assert_geq(adaembed_row(st, 0, c), 0, "the only scored id holds a row");
    m->forward(st, idx, 1, out);
    for (int j = 0; j < 8; j++) cr_expect_eq(out[j], 0, "an admitted row starts at zero");
    float sc = adaembed_score(st, 0, c);
    cr_expect_float_eq(sc, 16, 1e-4, "16 equal occurrences score 16");
    m->forward(st, idx, 16, out);
    m->backward(st, idx, 16, dout);
    m->step(st, 2);
    cr_assert_eq(m->on_step(st, 2, err, sizeof err), HX_OK);
    cr_expect_float_eq(adaembed_score(st, 0, c), 0.8f * 32, 1e-4, "decayed by 0.8 at step 2");
    m->destroy(st);
}
