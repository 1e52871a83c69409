/* hash.c: the hashing trick (Weinberger, Dasgupta, Langford, Smola, Attenberg,
 * "Feature Hashing for Large Scale Multitask Learning", ICML 2009), applied to
 * embedding tables: id i of field f reads row h_f(i) of an m_f x D table.
 *
 * Follows the paper:
 *   - h is a seeded universal-style hash (default) or i mod m (option);
 *   - colliding ids sum their gradients into the shared row;
 *   - the optional sign s(i) in {+1,-1} (Weinberger's unbiasing device) is off by
 *     default, as is usual for embedding tables.
 * Our choices [R]:
 *   - fields with N_f <= threshold (default 200, as DLRM's --qr-threshold) stay
 *     uncompressed; the others share one compression factor chosen so the total
 *     hits the requested ratio: m_f = round(N_f / r_big);
 *   - rows init U(+-sqrt(1/m_f)), DLRM's rule for an m_f-row table.
 * Bytes: inference 4 * sum_f m_f * D (hash constants are a seed: 0 bytes).
 */
#include <math.h>

#include "methods/common/table.h"

enum { HASH_UNIVERSAL, HASH_MODULO, HASH_KINDS };
static const char *const hash_kinds[] = {[HASH_UNIVERSAL] = "universal", [HASH_MODULO] = "modulo",
                                         [HASH_KINDS] = NULL};

enum { P_ROWS, P_THRESHOLD, P_HASH, P_SIGN, P_COUNT };
static const emb_param_desc hash_params[] = {
    [P_ROWS] = {.name = "rows", .type = EMB_P_INT, .min = 1, .max = 1e12, .def = EMB_AUTO, .auto_ok = 1,
                .help = "rows per compressed field (auto: from the ratio)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed"},
    [P_HASH] = {.name = "hash", .type = EMB_P_ENUM, .def = HASH_UNIVERSAL, .choices = hash_kinds,
                .help = "universal (seeded) or modulo"},
    [P_SIGN] = {.name = "sign", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 0,
                .help = "multiply by a hashed sign s(i) in {+1,-1}"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(hash_params, P_COUNT);

typedef struct hash_state {
    emb_fields fs;
    int64_t   *m;       /* (F) rows per field */
    uint8_t   *hashed;  /* (F) 1 if m_f < N_f */
    int        modulo, sign;
    uint64_t   seed;
    float     *signs;   /* (batch, F) scratch: s(i) for the last forward */
    emb_spec   spec;    /* kept for hash_account */
} hash_state;
EMB_FIELDS_FIRST(hash_state);

/* Rows per field for a given big-field factor r (>= 1). */
static void hash_rows(const emb_spec *spec, double r, int64_t threshold, int64_t fixed, int64_t *m) {
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (n <= threshold) m[f] = n;
        else if (fixed > 0) m[f] = fixed < n ? fixed : n;
        else {
            int64_t x = (int64_t)llround((double)n / r);
            m[f] = x < 1 ? 1 : (x > n ? n : x);
        }
    }
}

/* hash_layout: rows per field from the spec, identical in plan and create.
 * Returns HX_OK, or an unreachable-ratio error naming the reachable range. */
static hx_status hash_layout(const emb_spec *spec, int64_t *m, char *err, size_t errlen) {
    int64_t threshold = (int64_t)spec->pv[P_THRESHOLD], big_rows = 0;
    double full = emb_full_bytes(spec);
    double small = emb_plan_small_fields(spec, threshold, &big_rows);
    int nbig = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) nbig += spec->card[f] > threshold;
    double hi = nbig ? full / (small + 4.0 * spec->dim * nbig) : 1.0;
    if (nbig == 0 && !emb_plan_within(spec->ratio, 1.0)) /* nothing to hash: every table stays whole */
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "ratio %g unreachable for hash at dim %d: every field has at most threshold=%lld rows, so "
                        "all stay uncompressed (ratio 1); lower threshold to hash them",
                        spec->ratio, spec->dim, (long long)threshold);
    if (nbig == 0) {
        hash_rows(spec, 1, threshold, 0, m);
    } else if (spec->pv[P_ROWS] == EMB_AUTO) {
        double budget = full / spec->ratio - small;
        if (budget <= 0) return emb_plan_unreachable(spec, "hash", 1, hi, err, errlen);
        hash_rows(spec, (4.0 * spec->dim * (double)big_rows) / budget, threshold, 0, m);
    } else {
        hash_rows(spec, 1, threshold, (int64_t)spec->pv[P_ROWS], m);
    }
    double bytes = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) bytes += 4.0 * (double)m[f] * spec->dim;
    if (!emb_plan_within(spec->ratio, full / bytes)) {
        if (spec->pv[P_ROWS] != EMB_AUTO)
            return emb_plan_fixed_unreachable(spec, "hash", "rows", spec->pv[P_ROWS], full / bytes, err, errlen);
        return emb_plan_unreachable(spec, "hash", 1, hi, err, errlen);
    }
    return HX_OK;
}

/* The accounting of plan() and bytes(): one m_f x D table per field. */
static void hash_account(const emb_spec *spec, const int64_t *m, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_fields_predict_add(spec, m, out);
    snprintf(out->index_desc, sizeof out->index_desc, "none (seeded hash)");
}

static hx_status hash_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t *m = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    if (!m) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = hash_layout(spec, m, err, errlen);
    if (rc == HX_OK) {
        hash_account(spec, m, &out->bytes);
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        int64_t maxm = 0;
        int nbig = 0;
        for (int32_t f = 0; f < spec->n_fields; f++)
            if (m[f] < spec->card[f]) {
                nbig++;
                if (m[f] > maxm) maxm = m[f];
            }
        snprintf(out->knobs, sizeof out->knobs, "%d of %d fields hashed; largest has %lld rows",
                 nbig, spec->n_fields, (long long)maxm);
    }
    hx_free(m);
    return rc;
}

static void hash_destroy(void *state) {
    hash_state *s = state;
    if (!s) return;
    emb_fields_free(&s->fs);
    hx_free(s->m);
    hx_free(s->hashed);
    hx_free(s->signs);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status hash_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    hash_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc;
    s->m = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    s->hashed = hx_calloc((size_t)spec->n_fields, 1);
    s->signs = hx_calloc((size_t)spec->batch * (size_t)spec->n_fields, sizeof(float));
    if (!s->m || !s->hashed || !s->signs) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    rc = hash_layout(spec, s->m, err, errlen);
    if (rc == HX_OK) rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc != HX_OK) goto fail;
    for (int32_t f = 0; f < spec->n_fields; f++) s->hashed[f] = s->m[f] < spec->card[f];
    s->modulo = (int)spec->pv[P_HASH] == HASH_MODULO;
    s->sign = spec->pv[P_SIGN] != 0;
    s->seed = spec->seed;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    rc = emb_fields_init(&s->fs, spec, s->m, &rng, err, errlen);
    if (rc != HX_OK) goto fail;
    *state = s;
    return HX_OK;
fail:
    hash_destroy(s);
    return rc;
}

/* Map ids to rows (and signs) for a batch; the result stays in s->fs.rows for
 * the backward that follows. */
static void hash_map(hash_state *s, const int64_t *idx, int64_t B) {
    const int32_t F = s->fs.F;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t i = idx[b * F + f], m = s->m[f];
            uint64_t fseed = s->seed * 0x100000001b3ULL + (uint64_t)f;
            int64_t r;
            if (!s->hashed[f]) r = i; /* uncompressed field: identity */
            else if (s->modulo) r = i % m;
            else r = (int64_t)hx_hash_index((uint64_t)i, fseed, (uint64_t)m);
            s->fs.rows[b * F + f] = r;
            float sg = 1.0f;
            if (s->sign && s->hashed[f]) sg = (hx_splitmix64((uint64_t)i ^ ~fseed) & 1) ? 1.0f : -1.0f;
            s->signs[b * F + f] = sg;
        }
}

static void hash_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    hash_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    hash_map(s, idx, B);
    emb_fields_forward(&s->fs, s->fs.rows, B, out);
    if (!s->sign) return;
    for (int64_t k = 0; k < B * F; k++)
        if (s->signs[k] < 0)
            for (int32_t j = 0; j < D; j++) out[k * D + j] = -out[k * D + j];
}

static void hash_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    hash_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    hash_map(s, idx, B);
    if (!s->sign) {
        emb_fields_backward(&s->fs, s->fs.rows, B, dout); /* split by field over spec->pool */
        return;
    }
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            float *g = emb_table_grad_row(&s->fs.tabs[f], s->fs.rows[b * F + f]);
            const float *d = dout + ((size_t)b * F + f) * D;
            float sg = s->signs[b * F + f];
            for (int32_t j = 0; j < D; j++) g[j] += sg * d[j];
        }
}

static void hash_backward_step(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t) {
    hash_state *s = state;
    if (s->sign) {
        hash_backward(state, idx, B, dout);
        emb_fields_step(&s->fs, t);
        return;
    }
    hash_map(s, idx, B);
    emb_fields_backward_step(&s->fs, s->fs.rows, B, dout, t);
}

static void hash_bytes(const void *state, emb_bytes *out) {
    const hash_state *s = state;
    hash_account(&s->spec, s->m, out);
}

const emb_method emb_method_hash = {
    .api_version = EMB_API_VERSION,
    .name = "hash",
    .desc = "hashing trick: ids hashed into m_f shared rows per field",
    .cite = "Weinberger et al., Feature Hashing for Large Scale Multitask Learning, ICML 2009",
    .params = hash_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = hash_plan,
    .create = hash_create,
    .destroy = hash_destroy,
    .forward = hash_forward,
    .backward = hash_backward,
    .step = emb_fields_state_step,
    .backward_step = hash_backward_step,
    .bytes = hash_bytes,
    .tensors = emb_fields_state_tensors,
    .grad = emb_fields_state_grad,
};
