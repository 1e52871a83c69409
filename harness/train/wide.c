/* wide.c: per-id scalar tables. See wide.h. */
#include "wide.h"

#include <math.h>
#include <string.h>

int64_t wide_slots(int64_t card, double ratio) {
    if (!(ratio > 1)) return card;
    int64_t s = (int64_t)ceil((double)card / ratio);
    return s < 1 ? 1 : s > card ? card : s;
}

hx_status wide_create(wide *w, const emb_spec *spec, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    const int32_t F = spec->n_fields;
    w->F = F, w->max_batch = spec->batch, w->opt = spec->opt, w->pool = spec->pool;
    w->tabs = hx_calloc((size_t)F, sizeof *w->tabs);
    w->card = hx_calloc((size_t)F, sizeof *w->card);
    w->seed = hx_calloc((size_t)F, sizeof *w->seed);
    w->slot = hx_calloc((size_t)spec->batch * (size_t)F, sizeof *w->slot);
    if (!w->tabs || !w->card || !w->seed || !w->slot) {
        wide_free(w);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for the scalar tables");
    }
    const uint64_t s0 = hx_splitmix64(spec->seed ^ 0x77696465ULL); /* own stream: "wide" */
    for (int32_t f = 0; f < F; f++) {
        w->card[f] = spec->card[f];
        w->seed[f] = s0 * 0x100000001b3ULL + (uint64_t)f;
        const int64_t rows = wide_slots(spec->card[f], spec->ratio);
        const int64_t cap = spec->batch < rows ? spec->batch : rows;
        hx_status rc = emb_table_init(&w->tabs[f], rows, 1, cap, spec->opt.kind, err, errlen);
        if (rc != HX_OK) {
            wide_free(w);
            return rc;
        }
    }
    return HX_OK;
}

void wide_free(wide *w) {
    for (int32_t f = 0; w->tabs && f < w->F; f++) emb_table_free(&w->tabs[f]);
    hx_free(w->tabs);
    hx_free(w->card);
    hx_free(w->seed);
    hx_free(w->slot);
    memset(w, 0, sizeof *w);
}

void wide_forward(wide *w, const int64_t *idx, int B, float *out) {
    HX_ASSERT(B >= 1 && B <= w->max_batch);
    const int32_t F = w->F;
    for (int b = 0; b < B; b++) {
        float acc = 0.0f;
        for (int32_t f = 0; f < F; f++) {
            const emb_table *t = &w->tabs[f];
            const uint64_t id = (uint64_t)idx[(size_t)b * F + f];
            const int64_t s = t->rows == w->card[f] ? (int64_t)id : (int64_t)hx_hash_index(id, w->seed[f], (uint64_t)t->rows);
            w->slot[(size_t)b * F + f] = s;
            acc += t->w[s];
        }
        out[b] = acc;
    }
}

/* Fields [lo, hi): each its own table, rows in order. */
static void backward_fields(void *arg, int64_t lo, int64_t hi, int th) {
    (void)th;
    wide *w = arg;
    for (int64_t f = lo; f < hi; f++)
        for (int b = 0; b < w->B; b++) *emb_table_grad_row(&w->tabs[f], w->slot[(size_t)b * w->F + f]) += w->dout[b];
}

void wide_backward(wide *w, const float *dout, int B) {
    w->dout = dout, w->B = B;
    hx_pool_for(w->pool, w->F, hx_pool_chunks(w->pool, w->F, 1), backward_fields, w);
}

void wide_step(wide *w, int64_t t) {
    for (int32_t f = 0; f < w->F; f++) emb_table_step(&w->tabs[f], &w->opt, t);
}

void wide_account(const emb_spec *spec, emb_bytes *out) {
    for (int32_t f = 0; f < spec->n_fields; f++) {
        const int64_t rows = wide_slots(spec->card[f], spec->ratio);
        emb_table_account(rows, 1, spec->batch < rows ? spec->batch : rows, spec->opt.kind, out);
    }
}

double wide_full_bytes(const emb_spec *spec) {
    double s = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) s += 4.0 * (double)spec->card[f];
    return s;
}
