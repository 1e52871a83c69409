/* test_pep.c: PEP (methods/pep.c):
 *   target   the threshold's own count when stage 1 ends is within 5% of the
 *            target, the mask keeps exactly the target, and that is the ratio's
 *            kept fraction (Hetu's CSR/COO rule); on the step-limit path too
 *   rewind   stage 2 starts from the initial table times the mask
 *   masked   stage 2 never updates (nor sends gradient to) a masked-out entry
 *   s grad   the threshold's gradient matches finite differences
 *   sparse   the CSR and COO forms read exactly the trained masked table
 */
#include "method_fixture.h"
#include "methods/common/table.h"
#include "methods/pep.h"

static const emb_method *pep(void) { return mt_method("pep"); }

/* Steps with no lookups: only the decay on s acts (Adam moves s up about lr a step). */
static void idle_steps(const emb_method *m, void *st, int64_t from, int64_t to) {
    char err[128];
    for (int64_t t = from; t <= to && pep_stage(st) == 1; t++) {
        m->step(st, t);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
    }
}

Test(pep, kept_fraction_hits_the_target) {
    const emb_method *m = pep();
    static const int64_t card[1] = {1000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 1, card, 16, 4);
    s.total_steps = 100000;
    s.dense_opt = opt_default(OPT_ADAM, 0.001f);
    mt_set(m, &s, "granularity", 0); /* global: one threshold */
    mt_set(m, &s, "init", -4);       /* g = 0.018 against rows U(+-0.0316) */
    mt_set(m, &s, "s_decay", 1);
    mt_set(m, &s, "stage1", 1);
    void *st = mt_make(m, &s, &p);
    int64_t target, at_switch;
    int64_t before = pep_kept(st, &target, &at_switch);
    cr_assert_gt(before, target, "stage 1 starts above the target");
    idle_steps(m, st, 1, 5000);
    cr_assert_eq(pep_stage(st), 2, "the threshold should reach the target");
    int64_t kept = pep_kept(st, &target, &at_switch);
    /* Hetu's rule at ratio 4, dim 16: CSR, (4 * 16 / 4 - 1) / 2 / 16 = 9.375% kept */
    double want = 0.09375, got = (double)kept / (1000.0 * 16);
    fprintf(stderr, "pep: target %lld, threshold count at the switch %lld, kept %lld (%.4f%% vs %.4f%%)\n",
            (long long)target, (long long)at_switch, (long long)kept, 100 * got, 100 * want);
    cr_expect_eq(kept, target);
    cr_expect_leq(at_switch, target, "stage 1 ends when the count first drops to the target");
    cr_expect_geq(at_switch, 0.95 * (double)target, "count at the switch %lld, target %lld", (long long)at_switch,
                  (long long)target);
    cr_expect(fabs(got / want - 1) <= 0.05, "kept fraction %g, target %g", got, want);
    char err[128];
    cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s", err);
    emb_bytes b;
    m->bytes(st, &b);
    cr_expect(emb_plan_within(4, emb_full_bytes(&s) / (double)emb_bytes_infer(&b)));
    m->destroy(st);
}

/* At init -150 the threshold cannot prune in a short run: stage 1 ends at its
 * step limit and the mask still keeps exactly the target. */
Test(pep, step_limit_keeps_the_target) {
    const emb_method *m = pep();
    static const int64_t card[2] = {300, 2000};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 8, 16);
    s.total_steps = 40;
    void *st = mt_make(m, &s, &p);
    cr_expect_str_eq(p.knobs + strlen(p.knobs) - 3, "150", "%s", p.knobs);
    idle_steps(m, st, 1, 19);
    cr_expect_eq(pep_stage(st), 1);
    idle_steps(m, st, 20, 20);
    cr_expect_eq(pep_stage(st), 2, "stage 1 ends at half the run");
    int64_t target, at_switch, kept = pep_kept(st, &target, &at_switch);
    cr_expect_eq(kept, target);
    cr_expect_eq(at_switch, 2300 * 8, "nothing was pruned by the threshold");
    /* ratio 16 at dim 8 is below 3 floats a row: COO, 1/16/3 of the entries */
    cr_expect(fabs((double)kept / (2300 * 8) * 48 - 1) <= 0.05, "kept %lld", (long long)kept);
    m->destroy(st);
}

/* Train a few steps on random batches with Adam; returns the state. */
static void train_random(const emb_method *m, void *st, const emb_spec *s, int64_t from, int64_t to, uint64_t seed) {
    enum { B = 16 };
    const int32_t F = s->n_fields, D = s->dim;
    int64_t *idx = malloc((size_t)B * F * sizeof(int64_t));
    float *out = malloc((size_t)B * F * D * sizeof(float)), *dout = malloc((size_t)B * F * D * sizeof(float));
    cr_assert(idx && out && dout);
    hx_rng r;
    hx_rng_seed(&r, seed);
    char err[128];
    for (int64_t t = from; t <= to; t++) {
        for (int64_t k = 0; k < B * F; k++) idx[k] = (int64_t)hx_rng_below(&r, (uint64_t)s->card[k % F]);
        for (int64_t k = 0; k < (int64_t)B * F * D; k++) dout[k] = (float)hx_rng_normal(&r);
        m->forward(st, idx, B, out);
        m->backward(st, idx, B, dout);
        m->step(st, t);
        cr_assert_eq(m->on_step(st, t, err, sizeof err), HX_OK, "%s", err);
    }
    free(idx);
    free(out);
    free(dout);
}

Test(pep, stage2_rewinds_and_never_updates_masked_entries) {
    const emb_method *m = pep();
    static const int64_t card[2] = {30, 200};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 8, 4);
    s.batch = 16;
    s.total_steps = 60;
    s.opt = opt_default(OPT_ADAM, 0.01f);
    s.dense_opt = opt_default(OPT_ADAM, 0.01f);
    mt_set(m, &s, "init", -6);
    void *st = mt_make(m, &s, &p);
    train_random(m, st, &s, 1, 30, 3);
    cr_assert_eq(pep_stage(st), 2);
    emb_tensor ts[2];
    cr_assert_eq(m->tensors(st, ts, 2), 2);
    /* the rewind: v = v0 * mask */
    for (int32_t f = 0; f < 2; f++)
        for (int64_t i = 0; i < card[f]; i++)
            for (int32_t j = 0; j < 8; j++) {
                float want = pep_mask_at(st, f, i, j) ? pep_initial_at(st, f, i, j) : 0.0f;
                cr_assert_eq(ts[f].data[i * 8 + j], want, "field %d id %lld dim %d", f, (long long)i, j);
            }
    float *snap[2], *g[2];
    for (int f = 0; f < 2; f++) {
        snap[f] = malloc(ts[f].n * sizeof(float));
        g[f] = malloc(ts[f].n * sizeof(float));
        memcpy(snap[f], ts[f].data, ts[f].n * sizeof(float));
    }
    int64_t changed = 0;
    for (int64_t t = 31; t <= 60; t++) {
        train_random(m, st, &s, t, t, 100 + (uint64_t)t); /* forward, backward, step */
        for (int32_t f = 0; f < 2; f++)
            for (int64_t i = 0; i < card[f]; i++)
                for (int32_t j = 0; j < 8; j++) {
                    float v = ts[f].data[i * 8 + j];
                    if (!pep_mask_at(st, f, i, j)) cr_assert_eq(v, 0.0f, "masked entry updated");
                    else changed += v != snap[f][i * 8 + j];
                }
    }
    cr_expect_gt(changed, 0, "kept entries train");
    /* no gradient reaches a masked entry */
    int64_t idx[4] = {1, 7, 2, 199};
    float out[32], R[32];
    for (int k = 0; k < 32; k++) R[k] = 1.0f;
    m->forward(st, idx, 2, out);
    m->backward(st, idx, 2, R);
    for (int f = 0; f < 2; f++) {
        m->grad(st, f, g[f]);
        for (int64_t i = 0; i < card[f]; i++)
            for (int32_t j = 0; j < 8; j++)
                if (!pep_mask_at(st, f, i, j)) cr_assert_eq(g[f][i * 8 + j], 0.0f);
        free(snap[f]);
        free(g[f]);
    }
    m->destroy(st);
}

static void s_grad_check(int gran) {
    const emb_method *m = pep();
    static const int64_t card[2] = {5, 40};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 4, 2);
    mt_set(m, &s, "granularity", gran);
    mt_set(m, &s, "init", -2.5); /* g = 0.076: some entries pass, some do not */
    void *st = mt_make(m, &s, &p);
    int64_t idx[8] = {0, 3, 1, 17, 4, 39, 0, 3};
    float out[32], R[32];
    hx_rng r;
    hx_rng_seed(&r, 8);
    for (int k = 0; k < 32; k++) R[k] = (float)hx_rng_normal(&r);
    m->forward(st, idx, 4, out);
    m->backward(st, idx, 4, R);
    size_t n;
    float *sv = pep_threshold(st, &n), *g = calloc(n, sizeof(float));
    cr_assert(g);
    pep_threshold_grad(st, g);
    double num = 0, den = 0;
    for (size_t k = 0; k < n; k++) {
        float keep = sv[k], h = 1e-3f;
        double l[2];
        for (int q = 0; q < 2; q++) {
            sv[k] = keep + (q ? -h : h);
            pep_threshold_set(st);
            m->forward(st, idx, 4, out);
            l[q] = 0;
            for (int j = 0; j < 32; j++) l[q] += (double)out[j] * R[j];
        }
        sv[k] = keep;
        pep_threshold_set(st);
        double fd = (l[0] - l[1]) / (2.0 * h);
        num += (fd - g[k]) * (fd - g[k]);
        den += fd * fd;
    }
    cr_expect_gt(den, 0, "granularity %d: s receives gradient", gran);
    cr_expect_leq(sqrt(num / den), 1e-2, "granularity %d: s gradient rel error %g", gran, sqrt(num / den));
    free(g);
    m->destroy(st);
}

Test(pep, threshold_gradient_matches_finite_differences) {
    for (int gran = 0; gran < 6; gran++) s_grad_check(gran);
}

/* After training, the sparse form (CSR at ratio 2, COO at ratio 16, dim 16) reads
 * exactly what the masked table read, and its bytes are the plan's. */
static void sparse_exact(double ratio, const char *form) {
    const emb_method *m = pep();
    static const int64_t card[2] = {50, 600};
    emb_spec s;
    emb_plan p;
    mt_spec(&s, m, 2, card, 16, ratio);
    s.total_steps = 20;
    void *st = mt_make(m, &s, &p);
    cr_expect(strstr(p.bytes.index_desc, form) == p.bytes.index_desc, "%s: %s", form, p.bytes.index_desc);
    train_random(m, st, &s, 1, 20, 4);
    cr_assert_eq(pep_stage(st), 2);
    int64_t idx[2 * 600];
    for (int64_t i = 0; i < 600; i++) idx[2 * i] = i % 50, idx[2 * i + 1] = i;
    float *a = malloc(600 * 2 * 16 * sizeof(float)), *b = malloc(600 * 2 * 16 * sizeof(float));
    cr_assert(a && b);
    m->forward(st, idx, 600, a);
    char err[128];
    cr_assert_eq(m->finalize(st, err, sizeof err), HX_OK, "%s", err);
    m->forward(st, idx, 600, b);
    cr_expect(memcmp(a, b, 600 * 2 * 16 * sizeof(float)) == 0, "%s form differs from the masked table", form);
    emb_bytes bb;
    m->bytes(st, &bb);
    cr_expect_eq(emb_bytes_infer(&bb), emb_bytes_infer(&p.bytes));
    free(a);
    free(b);
    m->destroy(st);
}

Test(pep, sparse_forms_read_the_masked_table) {
    sparse_exact(2, "csr");
    sparse_exact(16, "coo");
}
