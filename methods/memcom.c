/* memcom.c: MEmCom, multi-embedding compression.
 *
 * Paper: Pansare, Katukuri, Arora, Cipollone, Shaik, Tokgozoglu, Venkataraman,
 * "Learning Compressed Embeddings for On-Device Inference", MLSys 2022
 * (arXiv 2203.10135). No public code exists.
 *
 * Follows the paper (abstract, verified):
 *   - each entity's embedding is built from two tables trained jointly: a
 *     hashed table T (m_f, d) shared by colliding entities, and one trainable
 *     scalar weight per entity, w (n_f), which tells colliding entities apart.
 * The combination checked, and NOT confirmed: the paper's full text and any
 *   reimplementation were searched for and not found (stored copies of the arXiv,
 *   MLSys and Apple research pages hold the abstract only; the Hetu benchmark's
 *   tools/EmbeddingMemoryCompression/methods/layers and thomasahle/cce's list of
 *   implemented algorithms have no MEmCom). The abstract fixes the parts (an
 *   n x 1 table of "one trainable weight per entity" next to the hashed table)
 *   but not how they are combined, so the product below stays our reading of
 *   "weight" [R]; a sum T[h(i)] + w_i would be the other reading, and the bias
 *   option adds it.
 * Our reconstruction where the paper is not verified [R]:
 *   - combination e_i = w_i * T[h(i)]  (a scalar times a vector), with an
 *     optional per-entity bias (param `bias`, off by default):
 *       e_i = w_i * T[h(i)] + b_i * 1                        (1, d)
 *   - backward: dT[h(i)] += w_i g_i (colliding ids sum), dw_i = <T[h(i)], g_i>,
 *     db_i = sum_j g_ij; all sparse, coalesced by emb_table;
 *   - h(i) = i mod m_f by default (the paper's hash is not verified [R]); a seeded
 *     universal hash, the same function as methods/hash.c, is an option;
 *   - init: T as the hash method (U(+-sqrt(1/m_f)), same RNG stream), w = 1,
 *     b = 0, so at step 0 MEmCom equals the hashing trick exactly;
 *   - fields with N_f <= threshold (default 200, as hash.c) stay an uncompressed
 *     N_f x d table with no weight or bias (no collisions to tell apart); the
 *     others share one compression factor for T chosen so the total hits the
 *     ratio: m_f = round(N_f / r);
 *   - w and b are fp32 and use the sparse optimizer (spec->opt).
 * Bytes (compressed field): inference 4 (m_f d + n_f), plus 4 n_f with the bias.
 * Hard ceiling: ratio = n d / (m d + n) < d (the weights alone cost n floats), so
 * the plan refuses ratios beyond it and names the reachable range.
 */
#include <math.h>

#include "methods/common/table.h"

enum { HASH_MODULO, HASH_UNIVERSAL, HASH_KINDS };
static const char *const memcom_hashes[] = {[HASH_MODULO] = "modulo", [HASH_UNIVERSAL] = "universal",
                                            [HASH_KINDS] = NULL};

enum { P_ROWS, P_THRESHOLD, P_HASH, P_BIAS, P_COUNT };
static const emb_param_desc memcom_params[] = {
    [P_ROWS] = {.name = "rows", .type = EMB_P_INT, .min = 1, .max = 1e12, .def = EMB_AUTO, .auto_ok = 1,
                .help = "rows m of the shared table per compressed field (auto: from the ratio)"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed"},
    [P_HASH] = {.name = "hash", .type = EMB_P_ENUM, .def = HASH_MODULO, .choices = memcom_hashes,
                .help = "modulo (i mod m) or universal (seeded, as method hash)"},
    [P_BIAS] = {.name = "bias", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 0,
                .help = "add a per-entity scalar bias b_i (4n more bytes)"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(memcom_params, P_COUNT);

typedef struct memcom_state {
    emb_fields fs;      /* T_f (m_f, D); uncompressed fields have m_f = N_f */
    emb_table *wt;      /* (F) w_f (N_f, 1) for compressed fields, else zeroed */
    emb_table *bt;      /* (F) b_f (N_f, 1) with the bias, else zeroed */
    int64_t   *m;       /* (F) */
    uint8_t   *comp;    /* (F) 1 if the field is compressed */
    int        modulo, bias;
    uint64_t   seed;
    opt_cfg    opt;
    emb_spec   spec;    /* kept for memcom_account */
} memcom_state;

/* memcom_layout: rows per field, identical in plan and create. */
static hx_status memcom_layout(const emb_spec *spec, int64_t *m, uint8_t *comp, char *err, size_t errlen) {
    const int64_t threshold = (int64_t)spec->pv[P_THRESHOLD];
    const double per_id = 4.0 * (1 + (spec->pv[P_BIAS] != 0)); /* w (and b) bytes per entity */
    const double full = emb_full_bytes(spec), D4 = 4.0 * spec->dim;
    int64_t big_rows = 0;
    double small = emb_plan_small_fields(spec, threshold, &big_rows);
    int nbig = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        comp[f] = spec->card[f] > threshold;
        nbig += comp[f];
    }
    double fixed = small + per_id * (double)big_rows; /* all but T of compressed fields */
    double lo = full / (fixed + D4 * (double)big_rows), hi = full / (fixed + D4 * nbig);
    if (nbig == 0) lo = hi = 1;
    double r = 1;
    if (spec->pv[P_ROWS] == EMB_AUTO) {
        double budget = full / spec->ratio - fixed;
        if (nbig > 0 && budget <= 0) return emb_plan_unreachable(spec, "memcom", lo, hi, err, errlen);
        if (nbig > 0) r = D4 * (double)big_rows / budget; /* none: every table stays whole, ratio 1 */
    }
    double bytes = small;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (!comp[f]) m[f] = n;
        else if (spec->pv[P_ROWS] != EMB_AUTO) m[f] = (int64_t)spec->pv[P_ROWS] < n ? (int64_t)spec->pv[P_ROWS] : n;
        else {
            int64_t x = (int64_t)llround((double)n / r);
            m[f] = x < 1 ? 1 : (x > n ? n : x);
        }
        if (comp[f]) bytes += D4 * (double)m[f] + per_id * (double)n;
    }
    if (!emb_plan_within(spec->ratio, full / bytes))
        return emb_plan_unreachable(spec, "memcom", lo, hi, err, errlen);
    return HX_OK;
}

static int64_t scalar_cap(const emb_spec *spec, int64_t n) { return spec->batch < n ? spec->batch : n; }

/* The accounting of plan() and bytes() for layout m, comp: the tables T_f, then
 * per compressed field the (N_f, 1) weights w_f (and biases b_f). */
static void memcom_account(const emb_spec *spec, const int64_t *m, const uint8_t *comp, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_fields_predict_add(spec, m, out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        if (!comp[f]) continue;
        int64_t n = spec->card[f];
        emb_table_account(n, 1, scalar_cap(spec, n), spec->opt.kind, out);
        if (spec->pv[P_BIAS] != 0) emb_table_account(n, 1, scalar_cap(spec, n), spec->opt.kind, out);
    }
    snprintf(out->index_desc, sizeof out->index_desc, "none (%s hash)", memcom_hashes[(int)spec->pv[P_HASH]]);
}

static hx_status memcom_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t *m = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    uint8_t *comp = hx_calloc((size_t)spec->n_fields, 1);
    hx_status rc = m && comp ? memcom_layout(spec, m, comp, err, errlen)
                             : hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    if (rc == HX_OK) {
        memcom_account(spec, m, comp, &out->bytes);
        int nbig = 0;
        int64_t maxm = 0;
        for (int32_t f = 0; f < spec->n_fields; f++) {
            if (!comp[f]) continue;
            nbig++;
            if (m[f] > maxm) maxm = m[f];
        }
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        snprintf(out->knobs, sizeof out->knobs, "%d of %d fields compressed; largest shared table %lld rows%s",
                 nbig, spec->n_fields, (long long)maxm, spec->pv[P_BIAS] != 0 ? "; bias" : "");
    }
    hx_free(m);
    hx_free(comp);
    return rc;
}

static void memcom_destroy(void *state) {
    memcom_state *s = state;
    if (!s) return;
    for (int32_t f = 0; f < s->fs.F; f++) {
        if (s->wt) emb_table_free(&s->wt[f]);
        if (s->bt) emb_table_free(&s->bt[f]);
    }
    emb_fields_free(&s->fs);
    hx_free(s->wt);
    hx_free(s->bt);
    hx_free(s->m);
    hx_free(s->comp);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status memcom_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    const int32_t F = spec->n_fields;
    memcom_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc;
    s->m = hx_calloc((size_t)F, sizeof(int64_t));
    s->comp = hx_calloc((size_t)F, 1);
    s->wt = hx_calloc((size_t)F, sizeof(emb_table));
    s->bt = hx_calloc((size_t)F, sizeof(emb_table));
    if (!s->m || !s->comp || !s->wt || !s->bt) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    rc = memcom_layout(spec, s->m, s->comp, err, errlen);
    if (rc == HX_OK) rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc != HX_OK) goto fail;
    s->modulo = (int)spec->pv[P_HASH] == HASH_MODULO;
    s->bias = spec->pv[P_BIAS] != 0;
    s->seed = spec->seed;
    s->opt = spec->opt;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    rc = emb_fields_init(&s->fs, spec, s->m, &rng, err, errlen); /* T: the hash method's init */
    if (rc != HX_OK) goto fail;
    for (int32_t f = 0; f < F; f++) {
        if (!s->comp[f]) continue;
        int64_t n = spec->card[f], cap = scalar_cap(spec, n);
        rc = emb_table_init(&s->wt[f], n, 1, cap, spec->opt.kind, err, errlen);
        if (rc == HX_OK && s->bias) rc = emb_table_init(&s->bt[f], n, 1, cap, spec->opt.kind, err, errlen);
        if (rc != HX_OK) goto fail;
        for (int64_t i = 0; i < n; i++) s->wt[f].w[i] = 1.0f; /* b stays 0 */
    }
    *state = s;
    return HX_OK;
fail:
    memcom_destroy(s);
    return rc;
}

/* Map ids (B, F) to rows of T into s->fs.rows. The universal hash is hash.c's. */
static void memcom_map(memcom_state *s, const int64_t *idx, int64_t B) {
    const int32_t F = s->fs.F;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t i = idx[b * F + f], m = s->m[f], r;
            if (!s->comp[f] || m == s->wt[f].rows) r = i; /* T not shared: identity, as hash.c */
            else if (s->modulo) r = i % m;
            else r = (int64_t)hx_hash_index((uint64_t)i, s->seed * 0x100000001b3ULL + (uint64_t)f, (uint64_t)m);
            s->fs.rows[b * F + f] = r;
        }
}

/* forward: out (B, F, D) = w_i * T[h(i)] (+ b_i) for compressed fields. */
static void memcom_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    memcom_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    memcom_map(s, idx, B);
    emb_fields_forward(&s->fs, s->fs.rows, B, out);
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            if (!s->comp[f]) continue;
            int64_t i = idx[b * F + f];
            float w = s->wt[f].w[i], beta = s->bias ? s->bt[f].w[i] : 0.0f;
            float *o = out + ((size_t)b * F + f) * D;
            for (int32_t j = 0; j < D; j++) o[j] = w * o[j] + beta;
        }
}

/* backward: dT[h(i)] += w_i g_i; dw_i += <T[h(i)], g_i>; db_i += sum_j g_ij. */
static void memcom_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    memcom_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    memcom_map(s, idx, B);
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t i = idx[b * F + f], r = s->fs.rows[b * F + f];
            const float *g = dout + ((size_t)b * F + f) * D;
            const float *t = emb_table_row(&s->fs.tabs[f], r);
            float *dt = emb_table_grad_row(&s->fs.tabs[f], r);
            float w = s->comp[f] ? s->wt[f].w[i] : 1.0f, dot = 0.0f, sum = 0.0f;
            for (int32_t j = 0; j < D; j++) {
                dt[j] += w * g[j];
                dot += t[j] * g[j];
                sum += g[j];
            }
            if (!s->comp[f]) continue;
            emb_table_grad_row(&s->wt[f], i)[0] += dot;
            if (s->bias) emb_table_grad_row(&s->bt[f], i)[0] += sum;
        }
}

static void memcom_step(void *state, int64_t t) {
    memcom_state *s = state;
    emb_fields_step(&s->fs, t);
    for (int32_t f = 0; f < s->fs.F; f++) {
        if (!s->comp[f]) continue;
        emb_table_step(&s->wt[f], &s->opt, t);
        if (s->bias) emb_table_step(&s->bt[f], &s->opt, t);
    }
}

static void memcom_bytes(const void *state, emb_bytes *out) {
    const memcom_state *s = state;
    memcom_account(&s->spec, s->m, s->comp, out);
}

/* The emb_table behind tensor i: T_0..T_{F-1}, then w_f, then b_f of the
 * compressed fields in field order. */
static emb_table *memcom_table_at(void *state, int i, const char **name) {
    memcom_state *s = state;
    if (i < s->fs.F) {
        *name = "table";
        return &s->fs.tabs[i];
    }
    i -= s->fs.F;
    for (int pass = 0; pass < 1 + s->bias; pass++)
        for (int32_t f = 0; f < s->fs.F; f++)
            if (s->comp[f] && i-- == 0) {
                *name = pass ? "bias" : "weight";
                return pass ? &s->bt[f] : &s->wt[f];
            }
    return NULL;
}

EMB_TABLES_TENSORS(memcom, memcom_table_at)

const emb_method emb_method_memcom = {
    .api_version = EMB_API_VERSION,
    .name = "memcom",
    .desc = "shared hashed table scaled by a per-entity weight: e = w_i * T[h(i)] (+ b_i)",
    .cite = "Pansare et al., Learning Compressed Embeddings for On-Device Inference, MLSys 2022 (arXiv 2203.10135)",
    .params = memcom_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = memcom_plan,
    .create = memcom_create,
    .destroy = memcom_destroy,
    .forward = memcom_forward,
    .backward = memcom_backward,
    .step = memcom_step,
    .bytes = memcom_bytes,
    .tensors = memcom_tensors,
    .grad = memcom_grad,
};
