/* test_reference.c: cross-check of the C model against an independent PyTorch
 * implementation (tests/reference/dlrm_ref.py for dlrm, archs_ref.py for dcn,
 * deepfm and wdl; file formats documented there).
 * The test writes the weights and a batch, runs the script with /usr/bin/python3,
 * reads back logits, loss and every gradient (MLPs, embedding tables), and
 * compares them with the C forward/backward: max relative error <= 1e-4, the
 * denominator floored at 1e-3 of the tensor's largest magnitude (so entries that
 * are ~0 by cancellation do not dominate). Each arch's check is also shown to
 * fail on a broken backward: archs_ref.py with `plant` drops one gradient path
 * of the arch's own part (dcn: the x0 factor of the cross layers; deepfm: one
 * operand of the FM term; wdl: the scalar tables) with its forward unchanged,
 * and the same comparison must then exceed the tolerance.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/core/loss.h"
#include "harness/train/model.h"
#include "test_core.h"

#define REF_TOL 1e-4
#define MAXT 32

static void put(FILE *f, const void *p, size_t n) { cr_assert_eq(fwrite(p, 1, n, f), n); }

static void put_i32(FILE *f, int32_t v) { put(f, &v, 4); }

/* max_i |a_i - b_i| / max(|b_i|, 1e-3 max|b|, 1e-12) */
static double max_rel(const float *a, const double *b, size_t n) {
    double bmax = 0, e = 0;
    for (size_t i = 0; i < n; i++) bmax = fabs(b[i]) > bmax ? fabs(b[i]) : bmax;
    double floor = 1e-3 * bmax > 1e-12 ? 1e-3 * bmax : 1e-12;
    for (size_t i = 0; i < n; i++) {
        double den = fabs(b[i]) > floor ? fabs(b[i]) : floor;
        double r = fabs((double)a[i] - b[i]) / den;
        e = r > e ? r : e;
    }
    return e;
}

enum { B = 8, F = 3, D = 4 }; /* batch, fields, embedding dim of every case */
static const int64_t k_card[F] = {6, 11, 4};

/* One case: the model's inputs, its outputs, and its tensors in file order. */
typedef struct ref_case {
    model_cfg    mc;
    int          Dd;
    float        dense[B * 5], label[B], logits[B];
    int64_t      idx[B * F];
    const float *val[MAXT];
    float       *grad[MAXT];
    size_t       len[MAXT];
    int          nt;
    float       *tgrad[2 * F]; /* the tables' gradients, owned */
    int          ntg;
} ref_case;

/* A seeded batch whose field 1 repeats an id (duplicates must coalesce). */
static void ref_batch(ref_case *rc) {
    hx_rng r;
    hx_rng_seed(&r, 77);
    for (int i = 0; i < B * rc->Dd; i++) rc->dense[i] = (float)hx_rng_normal(&r);
    for (int b = 0; b < B; b++) {
        rc->label[b] = (float)(hx_rng_below(&r, 2));
        for (int f = 0; f < F; f++) rc->idx[b * F + f] = (int64_t)hx_rng_below(&r, (uint64_t)k_card[f]);
    }
    rc->idx[1 * F + 1] = rc->idx[0 * F + 1];
    rc->idx[5 * F + 1] = rc->idx[0 * F + 1];
}

static void add_tensor(ref_case *rc, const float *v, float *g, size_t n) {
    cr_assert_lt(rc->nt, MAXT);
    rc->val[rc->nt] = v, rc->grad[rc->nt] = g, rc->len[rc->nt++] = n;
}

static void add_mlp(ref_case *rc, mlp *mm) {
    for (int l = 0; l < mm->n_layers; l++) {
        size_t O = (size_t)mm->width[l + 1], I = (size_t)mm->width[l];
        add_tensor(rc, mm->w[l], mm->dw[l], O * I);
        add_tensor(rc, mm->b[l], mm->db[l], O);
    }
}

/* A table's pending gradient into an owned buffer. */
static float *owned(ref_case *rc, size_t n) {
    cr_assert_lt(rc->ntg, 2 * F);
    return rc->tgrad[rc->ntg++] = calloc(n, sizeof(float));
}

/* The tensors, in file order: W, b per layer (bottom, deep, head), the cross
 * layers, the scalar tables, then the embedding tables. */
static void ref_tensors(ref_case *rc, model *m) {
    const emb_method *full = emb_method_find("full");
    if (m->has_bottom) add_mlp(rc, &m->bottom);
    add_mlp(rc, &m->top);
    if (m->head.n_layers) add_mlp(rc, &m->head);
    const cross *c = &m->cross;
    const size_t W = (size_t)c->W, R = (size_t)c->rank;
    for (int l = 0; l < c->L; l++) {
        if (R) {
            add_tensor(rc, c->v[l], c->dv[l], R * W);
            add_tensor(rc, c->u[l], c->du[l], W * R);
        } else {
            add_tensor(rc, c->w[l], c->dw[l], W * W);
        }
        add_tensor(rc, c->b[l], c->db[l], W);
    }
    for (int f = 0; m->has_wide && f < F; f++) {
        emb_table *t = &m->wide.tabs[f];
        float *g = owned(rc, (size_t)t->rows);
        emb_table_grad_dense(t, g);
        add_tensor(rc, t->w, g, (size_t)t->rows);
    }
    emb_tensor et[F];
    cr_assert_eq(full->tensors(m->emb, et, F), F);
    for (int f = 0; f < F; f++) {
        float *g = owned(rc, et[f].n);
        full->grad(m->emb, f, g);
        add_tensor(rc, et[f].data, g, et[f].n);
    }
}

/* What both input files end with: cardinalities, the batch, the tensors; closes f. */
static void put_batch(FILE *f, const ref_case *rc) {
    put(f, k_card, sizeof k_card);
    put(f, rc->dense, (size_t)B * rc->Dd * sizeof(float));
    put(f, rc->idx, sizeof rc->idx);
    put(f, rc->label, sizeof rc->label);
    for (int k = 0; k < rc->nt; k++) put(f, rc->val[k], rc->len[k] * sizeof(float));
    fclose(f);
}

/* The input file of dlrm_ref.py: header, widths, cardinalities, batch, tensors. */
static void ref_write_input(const ref_case *rc, const char *path, interact_kind ik) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    put(f, "ESREFIN1", 8);
    int32_t hdr[7] = {B, rc->Dd, F, D, rc->mc.n_bottom, rc->mc.n_top, (int32_t)ik};
    put(f, hdr, sizeof hdr);
    for (int l = 0; l < rc->mc.n_bottom; l++) put_i32(f, rc->mc.bottom[l]);
    for (int l = 0; l < rc->mc.n_top; l++) put_i32(f, rc->mc.top[l]);
    put_batch(f, rc);
}

/* The input file of archs_ref.py (format documented there). */
static void arch_write_input(const ref_case *rc, const char *path) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    put(f, "ESARCIN1", 8);
    const model_cfg *mc = &rc->mc;
    int32_t hdr[10] = {B, rc->Dd, F, D, mc->n_bottom, mc->n_top, (int32_t)mc->arch, mc->cross_layers,
                       (int32_t)mc->structure, mc->cross_rank};
    put(f, hdr, sizeof hdr);
    for (int l = 0; l < mc->n_bottom; l++) put_i32(f, mc->bottom[l]);
    for (int l = 0; l < mc->n_top; l++) put_i32(f, mc->top[l]);
    put_batch(f, rc);
}

/* The script's logits, loss and gradients against the C ones: the largest of
 * their max relative errors (what with expect set is also checked per tensor
 * and logged under name). */
static double ref_compare(const ref_case *rc, const char *path, const char *magic, const char *name, int expect) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char m8[8];
    cr_assert_eq(fread(m8, 1, 8, f), 8);
    cr_assert(!memcmp(m8, magic, 8));
    double ref[B + 1];
    cr_assert_eq(fread(ref, sizeof(double), B + 1, f), (size_t)B + 1);
    double worst = max_rel(rc->logits, ref, B), e_logits = worst;
    float loss = (float)bce_forward(rc->logits, rc->label, B);
    const double e_loss = fabs(loss - ref[B]) / fabs(ref[B]);
    worst = e_loss > worst ? e_loss : worst;
    if (expect) {
        cr_expect_leq(e_logits, REF_TOL, "%s: logits", name);
        cr_expect(e_loss <= REF_TOL, "%s: loss %g vs %g", name, loss, ref[B]);
    }
    double e_grad = 0;
    for (int k = 0; k < rc->nt; k++) {
        double *g = malloc(rc->len[k] * sizeof(double));
        cr_assert_eq(fread(g, sizeof(double), rc->len[k], f), rc->len[k]);
        double e = max_rel(rc->grad[k], g, rc->len[k]);
        if (expect) cr_expect_leq(e, REF_TOL, "%s: tensor %d (of %d): max rel err %g", name, k, rc->nt, e);
        e_grad = e > e_grad ? e : e_grad;
        free(g);
    }
    worst = e_grad > worst ? e_grad : worst;
    cr_expect_eq(fgetc(f), EOF, "trailing data in %s", path);
    fclose(f);
    if (expect)
        cr_log_info("%s vs PyTorch: max rel err logits %.2g, loss %.2g, gradients %.2g (%d tensors)", name, e_logits,
                    e_loss, e_grad, rc->nt);
    return worst;
}

static void run_script(const char *script, const char *pin, const char *pout, const char *extra) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/reference/%s %s %s %s", script, pin, pout, extra);
    cr_assert_eq(system(cmd), 0, "the PyTorch reference failed: %s", cmd);
}

/* Runs the model on the case's batch, the script on the same tensors, and
 * compares; with plant, also runs the script with its planted backward bug and
 * expects the comparison to fail. */
static void run_case(ref_case *rc, const char *script, const char *name, int plant) {
    model m;
    test_full_model(&m, &rc->mc, rc->Dd, k_card, F, D, B, 21);
    ref_batch(rc);
    hx_rng r;
    hx_rng_seed(&r, 5);
    for (int f = 0; m.has_wide && f < F; f++) /* the scalar tables start at 0: move them */
        for (int64_t i = 0; i < m.wide.tabs[f].rows; i++) m.wide.tabs[f].w[i] = (float)(0.3 * hx_rng_normal(&r));
    for (int l = 0; l < m.cross.L; l++)
        for (int i = 0; i < m.cross.W; i++) m.cross.b[l][i] = (float)(0.3 * hx_rng_normal(&r));
    const float *z = model_forward(&m, rc->Dd ? rc->dense : NULL, rc->idx, B);
    memcpy(rc->logits, z, sizeof rc->logits);
    model_backward(&m, rc->label, B);
    ref_tensors(rc, &m);

    char dir[] = "/tmp/embsweep_ref_XXXXXX", pin[64], pout[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pin, sizeof pin, "%s/in.bin", dir);
    snprintf(pout, sizeof pout, "%s/out.bin", dir);
    const int dlrm = rc->mc.arch == ARCH_DLRM;
    if (dlrm) ref_write_input(rc, pin, rc->mc.interaction);
    else arch_write_input(rc, pin);
    run_script(script, pin, pout, "");
    const char *magic = dlrm ? "ESREFOUT" : "ESARCOUT";
    ref_compare(rc, pout, magic, name, 1);
    if (plant) {
        run_script(script, pin, pout, "plant");
        double e = ref_compare(rc, pout, magic, name, 0);
        cr_expect_gt(e, REF_TOL, "%s: the planted backward bug went unnoticed (max rel err %g)", name, e);
        cr_log_info("%s with a planted backward bug: max rel err %.2g", name, e);
    }
    unlink(pin);
    unlink(pout);
    rmdir(dir);
    for (int i = 0; i < rc->ntg; i++) free(rc->tgrad[i]);
    model_free(&m);
}

static void run_reference(interact_kind ik, int Dd) {
    ref_case rc = {.mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16, 8}, .n_top = 2, .interaction = ik}, .Dd = Dd};
    run_case(&rc, "dlrm_ref.py", ik == INTERACT_CAT ? "dlrm cat" : Dd ? "dlrm dot" : "dlrm dot no dense", 0);
}

Test(reference, torch_dot) { run_reference(INTERACT_DOT, 5); }
Test(reference, torch_cat) { run_reference(INTERACT_CAT, 5); }
Test(reference, torch_dot_no_dense) { run_reference(INTERACT_DOT, 0); }

Test(reference, torch_dcn_stacked) {
    ref_case rc = {.mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16}, .n_top = 1, .arch = ARCH_DCN,
                          .cross_layers = 3}, .Dd = 5};
    run_case(&rc, "archs_ref.py", "dcn stacked", 1);
}
Test(reference, torch_dcn_parallel_low_rank) {
    ref_case rc = {.mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16, 8}, .n_top = 2, .arch = ARCH_DCN,
                          .cross_layers = 2, .structure = DCN_PARALLEL, .cross_rank = 3}, .Dd = 5};
    run_case(&rc, "archs_ref.py", "dcn parallel rank 3", 1);
}
Test(reference, torch_deepfm) {
    ref_case rc = {.mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16, 8}, .n_top = 2, .arch = ARCH_DEEPFM},
                   .Dd = 5};
    run_case(&rc, "archs_ref.py", "deepfm", 1);
}
Test(reference, torch_deepfm_no_dense) {
    ref_case rc = {.mc = {.top = {16}, .n_top = 1, .arch = ARCH_DEEPFM}, .Dd = 0};
    run_case(&rc, "archs_ref.py", "deepfm no dense", 0);
}
Test(reference, torch_wdl) {
    ref_case rc = {.mc = {.bottom = {8}, .n_bottom = 1, .top = {16, 8}, .n_top = 2, .arch = ARCH_WDL}, .Dd = 5};
    run_case(&rc, "archs_ref.py", "wdl", 1);
}
