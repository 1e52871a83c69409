/* dhe.c: Deep Hash Embedding (Kang, Cheng, Yao, Chen, Hong, Chi, "Learning to
 * Embed Categorical Features without Embedding Tables for Recommendation", KDD
 * 2021, arXiv 2010.10784).
 *
 * Follows the paper / Hetu benchmark configuration: no table; id x is encoded by
 * k hashes h_j(x) = ((a_j x + b_j) mod p) mod m (k = 1024, m = 10^6 buckets), each
 * mapped to uniform [-1, 1], then a deep MLP maps the k-vector to the embedding:
 * Linear(k -> w) and `hidden` - 1 more Linear(w -> w), each followed by a
 * nonlinearity, then Linear(w -> D). The width w is chosen to meet the budget.
 * Our choices [R]:
 *   - ReLU and no BatchNorm, as the CCE library's DHE (thomasahle/cce dhe.py:
 *     "ReLU worked a lot better"); the paper uses Mish + BN, and BN needs a
 *     train/eval mode the method interface does not carry;
 *   - one network per field, built from harness/core/mlp.h (DLRM's create_mlp init),
 *     trained with spec->dense_opt; one prime p = 2^31 - 1 with a_j, b_j drawn
 *     from the seed (Hetu draws a prime per hash);
 *   - fields with N <= threshold (200), or whose width-1 network is not at least
 *     2x smaller than their table, stay full tables;
 *   - `width` auto: per field the largest w whose parameters fit N D / s floats,
 *     s bisected to hit the ratio.
 * Bytes per DHE field: 4 (k w + w + (hidden - 1)(w^2 + w) + w D + D); the hash
 * constants are a seed. Training adds gradients, optimizer state, activations and
 * the (batch, k) encoding kept for backward.
 */
#include <math.h>

#include "harness/core/mlp.h"
#include "methods/common/baseline.h"

#define DHE_P 2147483647ull

enum { P_WIDTH, P_HASHES, P_HIDDEN, P_BUCKETS, P_THRESHOLD, P_COUNT };
static const emb_param_desc dhe_params[] = {
    [P_WIDTH] = {.name = "width", .type = EMB_P_INT, .min = 1, .max = 65536, .def = EMB_AUTO, .auto_ok = 1,
                 .help = "hidden width w of each field's network (auto: from the ratio)"},
    [P_HASHES] = {.name = "hashes", .type = EMB_P_INT, .min = 1, .max = 65536, .def = 1024,
                  .help = "k hash functions, the encoding width (paper: 1024)"},
    [P_HIDDEN] = {.name = "hidden", .type = EMB_P_INT, .min = 1, .max = MLP_MAX_LAYERS - 1, .def = 5,
                  .help = "hidden layers of width w (Hetu: 5)"},
    [P_BUCKETS] = {.name = "buckets", .type = EMB_P_INT, .min = 2, .max = 2e9, .def = 1e6,
                   .help = "m, the range of each hash before scaling to [-1, 1]"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(dhe_params, P_COUNT);

typedef struct dhe_state {
    int32_t    F, D, k, batch;
    uint64_t   m;
    int32_t   *w;     /* (F) network width; 0 = full table */
    emb_table *tabs;  /* (F) full tables (w == 0) */
    mlp       *nets;  /* (F) networks (w > 0) */
    float    **enc;   /* (F) (batch, k) encodings of the last forward */
    float     *gbuf;  /* (batch, D) one field's upstream gradient */
    uint64_t  *ha, *hb; /* (k) hash constants */
    opt_cfg    opt;
    emb_spec   spec;  /* kept for dhe_account */
} dhe_state;

static double dhe_floats(const emb_spec *spec, int64_t w) {
    double k = spec->pv[P_HASHES], h = spec->pv[P_HIDDEN];
    return k * w + w + (h - 1) * ((double)w * w + w) + (double)w * spec->dim + spec->dim;
}

/* Widths per field (0 = full) for big-field factor s, or the fixed width; returns bytes. */
static double dhe_assign(const emb_spec *spec, double s, int32_t *w) {
    double floats = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        double full = (double)spec->card[f] * spec->dim;
        w[f] = 0;
        if (spec->card[f] > (int64_t)spec->pv[P_THRESHOLD] && 2 * dhe_floats(spec, 1) <= full) {
            if (spec->pv[P_WIDTH] != EMB_AUTO) w[f] = (int32_t)spec->pv[P_WIDTH];
            else {
                int32_t lo = 1, hi = 65536;
                while (lo < hi) {
                    int32_t mid = lo + (hi - lo + 1) / 2;
                    if (dhe_floats(spec, mid) <= full / s) lo = mid;
                    else hi = mid - 1;
                }
                w[f] = lo;
            }
        }
        floats += w[f] ? dhe_floats(spec, w[f]) : full;
    }
    return 4.0 * floats;
}

static double dhe_bytes_at(const emb_spec *spec, double s, void *w) { return dhe_assign(spec, s, w); }

static hx_status dhe_layout(const emb_spec *spec, int32_t *w, char *err, size_t errlen) {
    double full = emb_full_bytes(spec), bytes;
    if (spec->pv[P_WIDTH] == EMB_AUTO) bytes = bl_bisect_factor(spec, -1, dhe_bytes_at, w);
    else bytes = dhe_assign(spec, 1, w);
    if (emb_plan_within(spec->ratio, full / bytes)) return HX_OK;
    if (spec->pv[P_WIDTH] != EMB_AUTO)
        return emb_plan_fixed_unreachable(spec, "dhe", "width", spec->pv[P_WIDTH], full / bytes, err, errlen);
    double top = full / dhe_assign(spec, 1e300, w);
    return emb_plan_unreachable(spec, "dhe", 1, top, err, errlen);
}

/* Bytes of one field's network of width w (what mlp_create allocates) plus its
 * encoding. */
static void dhe_net_bytes(const emb_spec *spec, int32_t w, emb_bytes *out) {
    uint64_t np = (uint64_t)dhe_floats(spec, w), k = (uint64_t)spec->pv[P_HASHES], B = (uint64_t)spec->batch;
    uint64_t h = (uint64_t)spec->pv[P_HIDDEN], maxw = k > (uint64_t)w ? k : (uint64_t)w;
    size_t ns = opt_state_floats(spec->dense_opt.kind, (size_t)np);
    maxw = maxw > (uint64_t)spec->dim ? maxw : (uint64_t)spec->dim;
    out->infer_params += 4 * np;
    out->train_params += 4 * np;
    out->train_optim += 4ull * (ns ? ns : 1);
    out->train_other += 4 * np                             /* gradients */
                        + 4 * np                           /* W^T for the backward */
                        + 4 * B * (h * (uint64_t)w + (uint64_t)spec->dim) /* activations */
                        + 4 * 2 * B * maxw                 /* backward buffers */
                        + 4 * B * k;                       /* encoding */
}

/* The accounting of plan() and bytes() for widths w (0 = full field): per field
 * its table or its network, plus one (batch, D) gradient buffer shared by the
 * networks; the hash constants are a seed. */
static void dhe_account(const emb_spec *spec, const int32_t *w, emb_bytes *out) {
    int n = 0;
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        if (!w[f]) {
            bl_table_predict_add(spec, spec->card[f], spec->dim, out);
            continue;
        }
        dhe_net_bytes(spec, w[f], out);
        n++;
    }
    if (n) out->train_other += 4ull * (uint64_t)spec->batch * (uint64_t)spec->dim; /* gbuf */
    snprintf(out->index_desc, sizeof out->index_desc, "none (seeded hashes)");
}

static hx_status dhe_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int32_t *w = hx_calloc((size_t)spec->n_fields, sizeof(int32_t));
    if (!w) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = dhe_layout(spec, w, err, errlen);
    if (rc == HX_OK) {
        dhe_account(spec, w, &out->bytes);
        int n = 0, wmin = INT32_MAX, wmax = 0;
        for (int32_t f = 0; f < spec->n_fields; f++) {
            if (!w[f]) continue;
            n++;
            wmin = w[f] < wmin ? w[f] : wmin;
            wmax = w[f] > wmax ? w[f] : wmax;
        }
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        if (n) snprintf(out->knobs, sizeof out->knobs, "%d of %d fields DHE, k=%d, widths %d..%d", n, spec->n_fields,
                        (int)spec->pv[P_HASHES], wmin, wmax);
        else snprintf(out->knobs, sizeof out->knobs, "no field compressible");
    }
    hx_free(w);
    return rc;
}

static void dhe_destroy(void *state) {
    dhe_state *s = state;
    if (!s) return;
    for (int32_t f = 0; f < s->F; f++) {
        if (s->tabs) emb_table_free(&s->tabs[f]);
        if (s->nets) mlp_free(&s->nets[f]);
        if (s->enc) hx_free(s->enc[f]);
    }
    hx_free(s->tabs);
    hx_free(s->nets);
    hx_free(s->enc);
    hx_free(s->w);
    hx_free(s->gbuf);
    hx_free(s->ha);
    hx_free(s->hb);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status dhe_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    dhe_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc;
    s->F = spec->n_fields;
    s->D = spec->dim;
    s->k = (int32_t)spec->pv[P_HASHES];
    s->m = (uint64_t)spec->pv[P_BUCKETS];
    s->batch = spec->batch;
    s->opt = spec->opt;
    s->w = hx_calloc((size_t)s->F, sizeof(int32_t));
    s->tabs = hx_calloc((size_t)s->F, sizeof(emb_table));
    s->nets = hx_calloc((size_t)s->F, sizeof(mlp));
    s->enc = hx_calloc((size_t)s->F, sizeof(float *));
    s->gbuf = hx_calloc((size_t)s->batch * (size_t)s->D, sizeof(float));
    s->ha = hx_calloc((size_t)s->k, sizeof(uint64_t));
    s->hb = hx_calloc((size_t)s->k, sizeof(uint64_t));
    if (!s->w || !s->tabs || !s->nets || !s->enc || !s->gbuf || !s->ha || !s->hb) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = dhe_layout(spec, s->w, err, errlen)) != HX_OK || (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    for (int32_t j = 0; j < s->k; j++) {
        s->ha[j] = 1 + hx_rng_below(&rng, DHE_P - 1);
        s->hb[j] = hx_rng_below(&rng, DHE_P);
    }
    for (int32_t f = 0; f < s->F; f++) {
        int64_t n = spec->card[f];
        if (!s->w[f]) {
            if ((rc = bl_full_table(&s->tabs[f], spec, n, &rng, err, errlen)) != HX_OK) goto fail;
            continue;
        }
        int widths[MLP_MAX_LAYERS + 1], h = (int)spec->pv[P_HIDDEN];
        widths[0] = s->k;
        for (int l = 1; l <= h; l++) widths[l] = s->w[f];
        widths[h + 1] = s->D;
        if ((rc = mlp_create(&s->nets[f], widths, h + 1, 0, s->batch, spec->dense_opt, &rng, err, errlen)) != HX_OK)
            goto fail;
        s->enc[f] = hx_calloc((size_t)s->batch * (size_t)s->k, sizeof(float));
        if (!s->enc[f]) {
            rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
            goto fail;
        }
    }
    *state = s;
    return HX_OK;
fail:
    dhe_destroy(s);
    return rc;
}

/* dhe_encode: enc (k) of id x: ((a_j x + b_j) mod p) mod m scaled to [-1, 1]. */
static void dhe_encode(const dhe_state *s, uint64_t x, float *enc) {
    uint64_t xm = x % DHE_P;
    for (int32_t j = 0; j < s->k; j++) {
        uint64_t h = ((s->ha[j] * xm) % DHE_P + s->hb[j]) % DHE_P % s->m;
        enc[j] = (float)(2.0 * (double)h / (double)(s->m - 1) - 1.0);
    }
}

static void dhe_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    dhe_state *s = state;
    HX_ASSERT(B <= s->batch);
    for (int32_t f = 0; f < s->F; f++) {
        if (!s->w[f]) {
            for (int64_t b = 0; b < B; b++)
                memcpy(out + ((size_t)b * s->F + f) * s->D, emb_table_row(&s->tabs[f], idx[b * s->F + f]),
                       (size_t)s->D * sizeof(float));
            continue;
        }
        for (int64_t b = 0; b < B; b++) dhe_encode(s, (uint64_t)idx[b * s->F + f], s->enc[f] + (size_t)b * s->k);
        const float *e = mlp_forward(&s->nets[f], s->enc[f], (int)B); /* (B, D) */
        for (int64_t b = 0; b < B; b++)
            memcpy(out + ((size_t)b * s->F + f) * s->D, e + (size_t)b * s->D, (size_t)s->D * sizeof(float));
    }
}

static void dhe_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    dhe_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        if (!s->w[f]) {
            for (int64_t b = 0; b < B; b++) {
                float *g = emb_table_grad_row(&s->tabs[f], idx[b * s->F + f]);
                const float *d = dout + ((size_t)b * s->F + f) * s->D;
                for (int32_t j = 0; j < s->D; j++) g[j] += d[j];
            }
            continue;
        }
        for (int64_t b = 0; b < B; b++)
            memcpy(s->gbuf + (size_t)b * s->D, dout + ((size_t)b * s->F + f) * s->D, (size_t)s->D * sizeof(float));
        mlp_backward(&s->nets[f], s->gbuf, NULL, (int)B);
    }
}

static void dhe_step(void *state, int64_t t) {
    dhe_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        if (s->w[f]) mlp_step(&s->nets[f], t);
        else emb_table_step(&s->tabs[f], &s->opt, t);
    }
}

static void dhe_bytes(const void *state, emb_bytes *out) {
    const dhe_state *s = state;
    dhe_account(&s->spec, s->w, out);
}

static int dhe_tensors(void *state, emb_tensor *out, int max) {
    dhe_state *s = state;
    int n = 0;
    for (int32_t f = 0; f < s->F && n < max; f++, n++) {
        out[n].name = s->w[f] ? "network" : "table";
        out[n].data = s->w[f] ? s->nets[f].params : s->tabs[f].w;
        out[n].n = s->w[f] ? s->nets[f].n_params : (size_t)s->tabs[f].rows * (size_t)s->D;
    }
    return n;
}

static void dhe_grad(void *state, int i, float *dense) {
    dhe_state *s = state;
    HX_ASSERT(i >= 0 && i < s->F);
    if (s->w[i]) memcpy(dense, s->nets[i].grads, s->nets[i].n_params * sizeof(float));
    else emb_table_grad_dense(&s->tabs[i], dense);
}

const emb_method emb_method_dhe = {
    .api_version = EMB_API_VERSION,
    .name = "dhe",
    .desc = "deep hash embedding: k hashes of the id through an MLP, no table",
    .cite = "Kang et al., Learning to Embed Categorical Features without Embedding Tables, KDD 2021",
    .params = dhe_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = dhe_plan,
    .create = dhe_create,
    .destroy = dhe_destroy,
    .forward = dhe_forward,
    .backward = dhe_backward,
    .step = dhe_step,
    .bytes = dhe_bytes,
    .tensors = dhe_tensors,
    .grad = dhe_grad,
};
