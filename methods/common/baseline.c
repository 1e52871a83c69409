/* baseline.c: see baseline.h. */
#include "baseline.h"

#include <math.h>

int64_t bl_cap(const emb_spec *spec, int64_t rows) { return spec->batch < rows ? spec->batch : rows; }

void bl_table_predict_add(const emb_spec *spec, int64_t rows, int32_t width, emb_bytes *out) {
    emb_table_account(rows, width, bl_cap(spec, rows), spec->opt.kind, out);
}

hx_status bl_full_table(emb_table *t, const emb_spec *spec, int64_t n, hx_rng *rng, char *err, size_t errlen) {
    hx_status rc = emb_table_init(t, n, spec->dim, bl_cap(spec, n), spec->opt.kind, err, errlen);
    if (rc != HX_OK) return rc;
    float a = sqrtf(1.0f / (float)n);
    emb_table_fill_uniform(t, rng, -a, a);
    return HX_OK;
}

double bl_bisect_factor(const emb_spec *spec, double x_lo, bl_bytes_at bytes_at, void *layout) {
    double full = emb_full_bytes(spec), lo = x_lo, hi = 60, best = 0, best_err = INFINITY;
    for (int it = 0; it < 80; it++) {
        double x = 0.5 * (lo + hi), r = full / bytes_at(spec, exp2(x), layout);
        double e = fabs(log(r / spec->ratio));
        if (e < best_err) best_err = e, best = x;
        if (r < spec->ratio) lo = x;
        else hi = x;
    }
    return bytes_at(spec, exp2(best), layout);
}

hx_status bl_dense_init(bl_dense *p, size_t n, const opt_cfg *c, char *err, size_t errlen) {
    size_t sw = opt_state_floats(c->kind, n);
    p->n = n;
    p->w = hx_calloc(n, sizeof(float));
    p->g = hx_calloc(n, sizeof(float));
    p->state = sw ? hx_calloc(sw, sizeof(float)) : NULL;
    if (!p->w || !p->g || (sw && !p->state)) {
        bl_dense_free(p);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for %zu dense parameters", n);
    }
    return HX_OK;
}

void bl_dense_free(bl_dense *p) {
    hx_free(p->w);
    hx_free(p->g);
    hx_free(p->state);
    memset(p, 0, sizeof *p);
}

void bl_dense_predict_add(size_t n, const opt_cfg *c, emb_bytes *out) {
    out->infer_params += 4ull * n;
    out->train_params += 4ull * n;
    out->train_optim += 4ull * opt_state_floats(c->kind, n);
    out->train_other += 4ull * n; /* gradient */
}

hx_status bl_post_create(const emb_spec *spec, bl_post **out, char *err, size_t errlen) {
    bl_post *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    hx_status rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc == HX_OK) rc = emb_fields_init(&s->fs, spec, spec->card, &rng, err, errlen);
    if (rc != HX_OK) {
        bl_post_free(s);
        return rc;
    }
    *out = s;
    return HX_OK;
}

void bl_post_free(bl_post *s) {
    if (!s) return;
    emb_fields_free(&s->fs);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

void bl_post_account(const emb_spec *spec, const emb_bytes *infer, emb_bytes *out) {
    emb_bytes full = {0};
    emb_fields_predict_add(spec, spec->card, &full);
    *out = *infer;
    out->train_params = full.train_params;
    out->train_optim = full.train_optim;
    out->train_other = full.train_other;
}

void bl_post_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    bl_post *s = state;
    HX_ASSERT(!s->done); /* the compressed form is inference only */
    emb_fields_backward(&s->fs, idx, B, dout);
}

void bl_post_backward_step(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t) {
    bl_post *s = state;
    HX_ASSERT(!s->done);
    emb_fields_backward_step(&s->fs, idx, B, dout, t);
}

void bl_post_bytes(const void *state, emb_bytes *out) {
    const bl_post *s = state;
    bl_post_account(&s->spec, &s->infer, out);
}
