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

static void run_reference(interact_kind ik, int Dd) {
    static const int64_t card[3] = {6, 11, 4};
    enum { B = 8, F = 3, D = 4 };
    const emb_method *full = emb_method_find("full");
    model_cfg mc = {.bottom = {8, D}, .n_bottom = 2, .top = {16, 8}, .n_top = 2, .interaction = ik};
    model m;
    test_full_model(&m, &mc, Dd, card, F, D, B, 21);

    hx_rng r;
    hx_rng_seed(&r, 77);
    float dense[B * 5], label[B];
    int64_t idx[B * F];
    for (int i = 0; i < B * Dd; i++) dense[i] = (float)hx_rng_normal(&r);
    for (int b = 0; b < B; b++) {
        label[b] = (float)(hx_rng_below(&r, 2));
        for (int f = 0; f < F; f++) idx[b * F + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
    }
    idx[1 * F + 1] = idx[0 * F + 1]; /* duplicates must coalesce */
    idx[5 * F + 1] = idx[0 * F + 1];

    const float *z = model_forward(&m, Dd ? dense : NULL, idx, B);
    float logits[B];
    memcpy(logits, z, sizeof logits);
    model_backward(&m, label, B);

    /* the tensors, in file order: W, b per layer (bottom, top), then tables */
    const float *val[MAXT], *grad[MAXT];
    size_t len[MAXT];
    int nt = 0;
    float *tgrad[F];
    const mlp *mm[2] = {&m.bottom, &m.top};
    for (int k = Dd ? 0 : 1; k < 2; k++)
        for (int l = 0; l < mm[k]->n_layers; l++) {
            size_t O = (size_t)mm[k]->width[l + 1], I = (size_t)mm[k]->width[l];
            val[nt] = mm[k]->w[l], grad[nt] = mm[k]->dw[l], len[nt++] = O * I;
            val[nt] = mm[k]->b[l], grad[nt] = mm[k]->db[l], len[nt++] = O;
        }
    emb_tensor et[F];
    cr_assert_eq(full->tensors(m.emb, et, F), F);
    for (int f = 0; f < F; f++) {
        tgrad[f] = calloc(et[f].n, sizeof(float));
        full->grad(m.emb, f, tgrad[f]);
        val[nt] = et[f].data, grad[nt] = tgrad[f], len[nt++] = et[f].n;
    }

    char dir[] = "/tmp/embsweep_ref_XXXXXX", pin[64], pout[64], cmd[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pin, sizeof pin, "%s/in.bin", dir);
    snprintf(pout, sizeof pout, "%s/out.bin", dir);
    FILE *f = fopen(pin, "wb");
    cr_assert_not_null(f);
    put(f, "ESREFIN1", 8);
    int32_t hdr[7] = {B, Dd, F, D, mc.n_bottom, mc.n_top, (int32_t)ik};
    put(f, hdr, sizeof hdr);
    for (int l = 0; l < mc.n_bottom; l++) put_i32(f, mc.bottom[l]);
    for (int l = 0; l < mc.n_top; l++) put_i32(f, mc.top[l]);
    put(f, card, sizeof card);
    put(f, dense, (size_t)B * Dd * sizeof(float));
    put(f, idx, sizeof idx);
    put(f, label, sizeof label);
    for (int k = 0; k < nt; k++) put(f, val[k], len[k] * sizeof(float));
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/reference/dlrm_ref.py %s %s", pin, pout);
    cr_assert_eq(system(cmd), 0, "the PyTorch reference failed: %s", cmd);

    f = fopen(pout, "rb");
    cr_assert_not_null(f);
    char magic[8];
    cr_assert_eq(fread(magic, 1, 8, f), 8);
    cr_assert(!memcmp(magic, "ESREFOUT", 8));
    double ref[B + 1];
    cr_assert_eq(fread(ref, sizeof(double), B + 1, f), (size_t)B + 1);
    cr_expect_leq(max_rel(logits, ref, B), REF_TOL, "logits");
    float loss = (float)bce_forward(logits, label, B);
    cr_expect(fabs(loss - ref[B]) <= REF_TOL * fabs(ref[B]), "loss %g vs %g", loss, ref[B]);
    for (int k = 0; k < nt; k++) {
        double *g = malloc(len[k] * sizeof(double));
        cr_assert_eq(fread(g, sizeof(double), len[k], f), len[k]);
        double e = max_rel(grad[k], g, len[k]);
        cr_expect_leq(e, REF_TOL, "tensor %d (of %d): max rel err %g", k, nt, e);
        free(g);
    }
    cr_expect_eq(fgetc(f), EOF, "trailing data in %s", pout);
    fclose(f);
    unlink(pin);
    unlink(pout);
    rmdir(dir);
    for (int i = 0; i < F; i++) free(tgrad[i]);
    model_free(&m);
}

Test(reference, torch_dot) { run_reference(INTERACT_DOT, 5); }
Test(reference, torch_cat) { run_reference(INTERACT_CAT, 5); }
Test(reference, torch_dot_no_dense) { run_reference(INTERACT_DOT, 0); }
