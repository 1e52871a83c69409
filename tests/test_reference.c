/* test_reference.c: cross-check of the C model against an independent PyTorch
 * implementation (tests/reference/dlrm_ref.py, file format documented there).
 * The test writes the weights and a batch, runs the script with /usr/bin/python3,
 * reads back logits, loss and every gradient (MLPs, embedding tables), and
 * compares them with the C forward/backward: max relative error <= 1e-4, the
 * denominator floored at 1e-3 of the tensor's largest magnitude (so entries that
 * are ~0 by cancellation do not dominate).
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
#define MAXT 16

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
    const float *val[MAXT], *grad[MAXT];
    size_t       len[MAXT];
    int          nt;
    float       *tgrad[F]; /* the tables' gradients, owned */
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

/* The tensors, in file order: W, b per layer (bottom, top), then tables. */
static void ref_tensors(ref_case *rc, model *m) {
    const emb_method *full = emb_method_find("full");
    const mlp *mm[2] = {&m->bottom, &m->top};
    for (int k = rc->Dd ? 0 : 1; k < 2; k++)
        for (int l = 0; l < mm[k]->n_layers; l++) {
            size_t O = (size_t)mm[k]->width[l + 1], I = (size_t)mm[k]->width[l];
            rc->val[rc->nt] = mm[k]->w[l], rc->grad[rc->nt] = mm[k]->dw[l], rc->len[rc->nt++] = O * I;
            rc->val[rc->nt] = mm[k]->b[l], rc->grad[rc->nt] = mm[k]->db[l], rc->len[rc->nt++] = O;
        }
    emb_tensor et[F];
    cr_assert_eq(full->tensors(m->emb, et, F), F);
    for (int f = 0; f < F; f++) {
        rc->tgrad[f] = calloc(et[f].n, sizeof(float));
        full->grad(m->emb, f, rc->tgrad[f]);
        rc->val[rc->nt] = et[f].data, rc->grad[rc->nt] = rc->tgrad[f], rc->len[rc->nt++] = et[f].n;
    }
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
    put(f, k_card, sizeof k_card);
    put(f, rc->dense, (size_t)B * rc->Dd * sizeof(float));
    put(f, rc->idx, sizeof rc->idx);
    put(f, rc->label, sizeof rc->label);
    for (int k = 0; k < rc->nt; k++) put(f, rc->val[k], rc->len[k] * sizeof(float));
    fclose(f);
}

/* The script's logits, loss and gradients against the C ones. */
static void ref_check_output(const ref_case *rc, const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char magic[8];
    cr_assert_eq(fread(magic, 1, 8, f), 8);
    cr_assert(!memcmp(magic, "ESREFOUT", 8));
    double ref[B + 1];
    cr_assert_eq(fread(ref, sizeof(double), B + 1, f), (size_t)B + 1);
    cr_expect_leq(max_rel(rc->logits, ref, B), REF_TOL, "logits");
    float loss = (float)bce_forward(rc->logits, rc->label, B);
    cr_expect(fabs(loss - ref[B]) <= REF_TOL * fabs(ref[B]), "loss %g vs %g", loss, ref[B]);
    for (int k = 0; k < rc->nt; k++) {
        double *g = malloc(rc->len[k] * sizeof(double));
        cr_assert_eq(fread(g, sizeof(double), rc->len[k], f), rc->len[k]);
        double e = max_rel(rc->grad[k], g, rc->len[k]);
        cr_expect_leq(e, REF_TOL, "tensor %d (of %d): max rel err %g", k, rc->nt, e);
        free(g);
    }
    cr_expect_eq(fgetc(f), EOF, "trailing data in %s", path);
    fclose(f);
}

static void run_reference(interact_kind ik, int Dd) {
    ref_case rc = {.mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16, 8}, .n_top = 2, .interaction = ik}, .Dd = Dd};
    model m;
    test_full_model(&m, &rc.mc, Dd, k_card, F, D, B, 21);
    ref_batch(&rc);
    const float *z = model_forward(&m, Dd ? rc.dense : NULL, rc.idx, B);
    memcpy(rc.logits, z, sizeof rc.logits);
    model_backward(&m, rc.label, B);
    ref_tensors(&rc, &m);

    char dir[] = "/tmp/embsweep_ref_XXXXXX", pin[64], pout[64], cmd[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pin, sizeof pin, "%s/in.bin", dir);
    snprintf(pout, sizeof pout, "%s/out.bin", dir);
    ref_write_input(&rc, pin, ik);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/reference/dlrm_ref.py %s %s", pin, pout);
    cr_assert_eq(system(cmd), 0, "the PyTorch reference failed: %s", cmd);
    ref_check_output(&rc, pout);
    unlink(pin);
    unlink(pout);
    rmdir(dir);
    for (int i = 0; i < F; i++) free(rc.tgrad[i]);
    model_free(&m);
}

Test(reference, torch_dot) { run_reference(INTERACT_DOT, 5); }
Test(reference, torch_cat) { run_reference(INTERACT_CAT, 5); }
Test(reference, torch_dot_no_dense) { run_reference(INTERACT_DOT, 0); }
