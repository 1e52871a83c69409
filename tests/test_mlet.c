/* test_mlet.c: MLET-specific checks beyond the conformance suite:
 *   collapse   after training, every id's output before finalize equals the
 *              collapsed table's (1e-5 relative), and equals W[i] P computed here
 *   bytes      training = wide tables + projections + optimizer state + grad
 *              buffers; inference = 4 n d (full's), before and after finalize
 *   plan       ratio 1 only ("[1, 1]" in the error); k rules (auto, k_factor,
 *              k < d refused, k and k_factor disagreeing refused)
 */
#include "method_fixture.h"
#include "methods/common/table.h"

#define MF 3
static const int64_t k_card[MF] = {7, 60, 250};

static const emb_method *mlet(void) { return mt_method("mlet"); }

/* The suite's spec: the shared builder at ratio 1 with these optimizers and k. */
static void mlet_spec(emb_spec *s, int32_t dim, double k, opt_kind sparse, opt_kind dense) {
    const emb_method *m = mlet();
    mt_spec(s, m, MF, k_card, dim, 1);
    s->opt = opt_default(sparse, 0.1f);
    s->dense_opt = opt_default(dense, 0.05f);
    if (k > 0) mt_set(m, s, "k", k);
}

Test(mlet, collapse_agrees_for_every_id) {
    const emb_method *m = mlet();
    emb_spec s;
    emb_plan p;
    char err[256];
    mlet_spec(&s, 8, 32, OPT_ROWWISE_ADAGRAD, OPT_ADAM);
    void *st = mt_make(m, &s, &p);
    /* train a few steps on random upstream gradients so W and P move */
    hx_rng rng;
    hx_rng_seed(&rng, 3);
    int64_t idx[16 * MF];
    float dout[16 * MF * 8];
    for (int t = 1; t <= 5; t++) {
        for (int j = 0; j < 16 * MF; j++) idx[j] = (int64_t)hx_rng_below(&rng, (uint64_t)k_card[j % MF]);
        for (int j = 0; j < 16 * MF * 8; j++) dout[j] = (float)hx_rng_normal(&rng);
        m->backward(st, idx, 16, dout);
        m->step(st, t);
    }
    /* every id of every field: one batch row per id (other fields at id 0) */
    int64_t nmax = k_card[MF - 1];
    int64_t *all = calloc((size_t)(nmax * MF), sizeof(int64_t));
    float *before = calloc((size_t)(nmax * MF * 8), sizeof(float));
    float *after = calloc((size_t)(nmax * MF * 8), sizeof(float));
    for (int64_t i = 0; i < nmax; i++)
        for (int f = 0; f < MF; f++) all[i * MF + f] = i < k_card[f] ? i : 0;
    m->forward(st, all, nmax, before);
    /* independent check of the forward: e = W[i] P from the listed tensors */
    emb_tensor ts[2 * MF];
    cr_assert_eq(m->tensors(st, ts, 2 * MF), 2 * MF);
    for (int f = 0; f < MF; f++) {
        cr_assert_eq(ts[f].n, (size_t)k_card[f] * 32);
        cr_assert_eq(ts[MF + f].n, (size_t)32 * 8);
        for (int64_t i = 0; i < k_card[f]; i++)
            for (int j = 0; j < 8; j++) {
                double e = 0, mag = 0; /* mag bounds the float rounding of the sum */
                for (int c = 0; c < 32; c++) {
                    double t = (double)ts[f].data[i * 32 + c] * ts[MF + f].data[c * 8 + j];
                    e += t;
                    mag += fabs(t);
                }
                double got = before[(i * MF + f) * 8 + j];
                cr_expect_leq(fabs(e - got), 1e-5 * mag, "field %d id %lld: %g vs W[i]P %g", f, (long long)i, got, e);
            }
    }
    cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s", err);
    m->forward(st, all, nmax, after);
    int bad = 0;
    for (int64_t r = 0; r < nmax * MF; r++) {
        double num = 0, den = 0;
        for (int j = 0; j < 8; j++) {
            double d = (double)after[r * 8 + j] - before[r * 8 + j];
            num += d * d;
            den += (double)before[r * 8 + j] * before[r * 8 + j];
        }
        bad += sqrt(num) > 1e-5 * sqrt(den) || den == 0;
    }
    cr_expect_eq(bad, 0, "%d (id, field) outputs changed by the collapse", bad);
    cr_expect_eq(m->tensors(st, ts, 2 * MF), MF, "after finalize only the collapsed tables remain");
    free(all);
    free(before);
    free(after);
    m->destroy(st);
}

Test(mlet, bytes_follow_the_formula) {
    const emb_method *m = mlet();
    const int32_t d = 8, k = 32;
    emb_spec s;
    emb_plan p;
    char err[256];
    mlet_spec(&s, d, k, OPT_ADAGRAD, OPT_ADAM); /* element-wise state: k floats per row */
    void *st = mt_make(m, &s, &p);
    uint64_t n = 0, grad = 0;
    for (int f = 0; f < MF; f++) {
        n += (uint64_t)k_card[f];
        grad += emb_table_predict_grad(k_card[f] < 16 ? k_card[f] : 16, k);
    }
    const uint64_t kd = (uint64_t)k * d;
    emb_bytes b;
    m->bytes(st, &b);
    cr_expect_eq(b.train_params, 4 * (n * k + MF * kd), "wide tables + projections");
    cr_expect_eq(b.train_optim, 4 * n * k + 4 * 2 * MF * kd, "adagrad rows + adam moments of P");
    cr_expect_eq(b.train_other, grad + 4 * MF * kd + 2 * 4 * 16 * (uint64_t)k + 4 * kd,
                 "row gradient slots + dP + two (batch, k) scratch buffers + P_f^T");
    cr_expect_eq(emb_bytes_infer(&b), 4 * n * d);
    cr_expect_eq(b.train_params, p.bytes.train_params);
    cr_expect_eq(b.train_optim, p.bytes.train_optim);
    cr_expect_eq(b.train_other, p.bytes.train_other);
    /* MLET saves inference memory only: training holds > k/d times the inference bytes */
    cr_expect_gt(emb_bytes_train(&b), (uint64_t)(k / d) * emb_bytes_infer(&b));
    cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s", err);
    m->bytes(st, &b);
    cr_expect_eq(b.infer_params, 4 * n * d, "after the collapse: 4 n d, as full");
    cr_expect_eq(b.infer_index, 0);
    cr_expect_eq(p.ratio, 1.0);
    m->destroy(st);
}

Test(mlet, plan_accepts_ratio_one_only) {
    const emb_method *m = mlet();
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    mlet_spec(&s, 8, 0, OPT_SGD, OPT_SGD);
    s.ratio = 2;
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK);
    cr_expect(strstr(err, "[1, 1]") != NULL, "error should name the range [1, 1]: %s", err);
    s.ratio = 1;
    cr_expect_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
}

Test(mlet, k_rules) {
    const emb_method *m = mlet();
    const int ik = emb_param_index(m, "k"), ikf = emb_param_index(m, "k_factor");
    cr_assert(ik >= 0 && ikf >= 0);
    emb_spec s;
    emb_plan p;
    char err[256] = "";
    /* auto: max(64, 4d), the reference's 64->4/8/16 and 128->32 pairs */
    static const int32_t dims[] = {4, 8, 16, 32};
    static const double want[] = {64, 64, 64, 128};
    for (int i = 0; i < 4; i++) {
        mlet_spec(&s, dims[i], 0, OPT_SGD, OPT_SGD);
        cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
        cr_expect_eq(s.pv[ik], want[i], "dim %d: auto k %g", dims[i], s.pv[ik]);
        cr_expect_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "re-planning a planned spec: %s", err);
    }
    mlet_spec(&s, 8, 0, OPT_SGD, OPT_SGD);
    s.pv[ikf] = 6;
    cr_assert_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(s.pv[ik], 48);
    cr_expect_eq(m->plan(&s, &p, err, sizeof err), HX_OK, "k and k_factor agree: %s", err);
    s.pv[ik] = 40;
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK, "k=40 and k_factor=6 at d=8 disagree");
    mlet_spec(&s, 16, 8, OPT_SGD, OPT_SGD);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK, "k < d refused");
    cr_expect(strstr(err, ">= dim") != NULL, "%s", err);
    mlet_spec(&s, 8, 16, OPT_SGD, OPT_ROWWISE_ADAGRAD);
    cr_expect_neq(m->plan(&s, &p, err, sizeof err), HX_OK, "row-wise dense optimizer refused");
}

/* The projection is trained: one step with a nonzero upstream gradient moves P,
 * and moves the embedding of an id that was not in the batch (MLET's
 * cross-category update: every id of a field shares P_f). */
Test(mlet, projection_step_moves_unseen_rows) {
    const emb_method *m = mlet();
    emb_spec s;
    emb_plan p;
    mlet_spec(&s, 4, 16, OPT_SGD, OPT_SGD);
    void *st = mt_make(m, &s, &p);
    int64_t seen[MF] = {1, 2, 3}, unseen[MF] = {4, 5, 6};
    float e0[MF * 4], e1[MF * 4], g[MF * 4];
    for (int j = 0; j < MF * 4; j++) g[j] = 1.0f;
    m->forward(st, unseen, 1, e0);
    m->forward(st, seen, 1, e1);
    m->backward(st, seen, 1, g);
    m->step(st, 1);
    m->forward(st, unseen, 1, e1);
    for (int f = 0; f < MF; f++) {
        double moved = 0;
        for (int j = 0; j < 4; j++) moved += fabs((double)e1[f * 4 + j] - e0[f * 4 + j]);
        cr_expect_gt(moved, 0, "field %d: unseen id unchanged", f);
    }
    m->destroy(st);
}
