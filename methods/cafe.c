/* cafe.c: CAFE, compact adaptive feature-frequency-aware embeddings.
 *
 * Paper: Zhang, Liu, Miao, Ni, Zhang, Cui, "CAFE: Towards Compact, Adaptive, and
 * Fast Embedding for Large-scale Recommendation Models", SIGMOD 2024. Reference
 * code: HugoZHL/CAFE, ArtifactEvaluation/embeddings/ (sketch.cpp,
 * sk_embedding_bag.py, init_embed.py) and tasks/criteo.json. Read, not copied.
 *
 * What follows the paper and the reference code:
 *   - a HotSketch (methods/common/hotsketch.c: buckets of 4 slots holding id, score
 *     and hot row; SpaceSaving replacement; decay by `decay` once the scores added
 *     since the last decay exceed 10 * buckets * hot_threshold, freeing hot ids
 *     whose decayed score is below the threshold) decides which ids are hot;
 *   - one sketch and one hot table shared by every compressed field (the
 *     reference's default cafe_hot_separate_field = false), keyed by the global id;
 *     the sketch has one bucket per hot row;
 *   - a hot id reads its own row of the hot table; the others read row h_f(i) of
 *     their field's hashed table, of ceil(cr * hash_rate * N_f) rows in the
 *     reference (cr = 1 / ratio);
 *   - when an id becomes hot its hot row is a copy of its hashed row;
 *   - scores: after each backward, per compressed field, the norm of every
 *     occurrence's gradient, scaled so that the batch's scores have mean 1
 *     (`score: grad`, the default), or 1 per occurrence (`score: count`, the
 *     reference's cafe_use_freq); inserted in batch order, field by field, with
 *     the decay check before each field's batch;
 *   - only fields with more than 2000 * cr ids are compressed (the reference's
 *     "adaptive threshold w.r.t. compress rate"); the others stay full tables;
 *   - hash_rate and hot_threshold default per ratio to the reference's Criteo
 *     settings (tasks/criteo.json), taking the entry whose compress rate is
 *     nearest to 1 / ratio in log scale: cr 0.5 -> (0.7, 10), 0.2 -> (0.5, 10),
 *     0.1 -> (0.5, 20), 0.05 -> (0.5, 30), 0.02 -> (0.3, 50), 0.01 -> (0.3, 100),
 *     0.005 -> (0.2, 200), 0.002 and 0.001 -> (0.2, 500), below -> (0.1, 500)
 *     (the repository's top-level README suggests hash_rate 0.7 / 0.3 / 0.2 at 0.1 /
 *     0.001 / 0.0001 for its other sketch, whose threshold adapts: not this one);
 *   - init: hashed rows U(+-sqrt(1/N_f)) (the field's id count), hot rows
 *     U(+-sqrt(1/max_f N_f)), full fields U(+-sqrt(1/N_f)), as the reference.
 * Our choices [R]:
 *   - the budget is exact: B = full bytes / ratio, less the full fields, is split
 *     hash_rate : 1 - hash_rate; the hashed rows m_f = round(hash_rate * B / 4D *
 *     N_f / sum N_big) (>= 1, <= N_f), and the hot rows are what the rest buys at
 *     4D + 48 bytes each (row plus its sketch bucket: the reference sizes hotn with
 *     the same 4D / (4D + 48) factor); with no room for one hot row, the hashed
 *     tables take all of B (the reference falls back to hashing when hotn = 0);
 *   - seeded hashes for the buckets and the hashed rows (the reference takes id mod
 *     size); hot rows 0 .. nb-1 (the reference leaves row 0 unused);
 *   - the sketch is updated in step(), after the optimizer has applied the batch's
 *     gradients, so a promoted row copies the updated hashed row and a row freed
 *     and reassigned in the same batch never receives the old id's gradient; a
 *     promoted row's optimizer state is zeroed;
 *   - a batch whose gradient norms are all 0 scores 1 per occurrence.
 * Bytes: inference = 4D (sum of full N_f + sum m_f + hot rows) parameters + 48 B per
 *   hot row for the sketch (infer_index; it maps ids to hot rows); training adds
 *   the optimizer state of every table, their gradient slots, the free-row queue
 *   (4 B per hot row) and the per-batch scratch (ids, rows, scores: 20 B per lookup).
 */
#include <math.h>

#include "methods/common/hotsketch.h"
#include "methods/common/table.h"

enum { SCORE_GRAD, SCORE_COUNT, SCORE_KINDS };
static const char *const score_kinds[] = {[SCORE_GRAD] = "grad", [SCORE_COUNT] = "count", [SCORE_KINDS] = NULL};

enum { P_HASH_RATE, P_HOT_THRESHOLD, P_DECAY, P_THRESHOLD, P_SCORE, P_COUNT };
static const emb_param_desc cafe_params[] = {
    [P_HASH_RATE] = {.name = "hash_rate", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = EMB_AUTO, .auto_ok = 1,
                     .help = "share of the budget for the hashed tables (auto: the reference's per-ratio value)"},
    [P_HOT_THRESHOLD] = {.name = "hot_threshold", .type = EMB_P_FLOAT, .min = 1e-6, .max = 1e12, .def = EMB_AUTO,
                         .auto_ok = 1, .help = "sketch score that makes an id hot (auto: the reference's per-ratio value)"},
    [P_DECAY] = {.name = "decay", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 0.99,
                 .help = "sketch score decay, applied every 10 x buckets x hot_threshold of added score"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_FLOAT, .min = 0, .max = 1e12, .def = EMB_AUTO, .auto_ok = 1,
                     .help = "fields with at most this many ids stay full (auto: 2000 / ratio)"},
    [P_SCORE] = {.name = "score", .type = EMB_P_ENUM, .def = SCORE_GRAD, .choices = score_kinds,
                 .help = "sketch score per occurrence: grad (gradient norm, batch mean 1) or count"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(cafe_params, P_COUNT);

#define SKETCH_BYTES HS_BUCKET_BYTES

/* The reference's Criteo settings: compress rate, hash_rate, hot threshold. */
static const struct {
    double cr, hash_rate, threshold;
} k_settings[] = {{0.5, 0.7, 10},     {0.2, 0.5, 10},     {0.1, 0.5, 20},    {0.05, 0.5, 30},
                  {0.02, 0.3, 50},    {0.01, 0.3, 100},   {0.005, 0.2, 200}, {0.002, 0.2, 500},
                  {0.001, 0.2, 500},  {0.0005, 0.1, 500}, {0.0002, 0.1, 500}, {0.0001, 0.1, 500}};

static void cafe_auto(emb_spec *spec) {
    double cr = 1.0 / spec->ratio, best = INFINITY;
    size_t k = 0;
    for (size_t i = 0; i < sizeof k_settings / sizeof k_settings[0]; i++) {
        double d = fabs(log(k_settings[i].cr / cr));
        if (d < best) best = d, k = i;
    }
    if (spec->pv[P_HASH_RATE] == EMB_AUTO) spec->pv[P_HASH_RATE] = k_settings[k].hash_rate;
    if (spec->pv[P_HOT_THRESHOLD] == EMB_AUTO) spec->pv[P_HOT_THRESHOLD] = k_settings[k].threshold;
    if (spec->pv[P_THRESHOLD] == EMB_AUTO) spec->pv[P_THRESHOLD] = 2000.0 / spec->ratio;
}

/* Rows of each field's table (N_f for a full field, m_f hashed) and hot rows. */
typedef struct cafe_layout {
    int64_t *rows; /* (F) */
    uint8_t *big;  /* (F) 1 if compressed */
    int64_t  hot;  /* hot rows = sketch buckets, 0 for none */
} cafe_layout;

static hx_status cafe_layout_plan(const emb_spec *spec, cafe_layout *L, char *err, size_t errlen) {
    const int32_t F = spec->n_fields, D = spec->dim;
    const double thr = spec->pv[P_THRESHOLD], hr = spec->pv[P_HASH_RATE], full = emb_full_bytes(spec);
    double small = 0, nbig = 0;
    int64_t nfields_big = 0, total = 0;
    for (int32_t f = 0; f < F; f++) {
        L->big[f] = (double)spec->card[f] > thr;
        total += spec->card[f];
        if (L->big[f]) nbig += (double)spec->card[f], nfields_big++;
        else small += 4.0 * (double)spec->card[f] * D;
    }
    if (total >= (int64_t)UINT32_MAX)
        return hx_error(HX_ERR_PARAM, err, errlen, "cafe: %lld ids exceed the sketch's 32-bit ids", (long long)total);
    double hi = nfields_big ? full / (small + 4.0 * D * (double)nfields_big) : 1.0;
    double budget = full / spec->ratio - small;
    L->hot = 0;
    if (nfields_big == 0) {
        for (int32_t f = 0; f < F; f++) L->rows[f] = spec->card[f];
    } else {
        if (budget <= 0) return emb_plan_unreachable(spec, "cafe", 1, hi, err, errlen);
        for (int pass = 0; pass < 2; pass++) { /* pass 1: no hot row fits, hash takes all */
            double share = pass == 0 ? hr : 1.0, used = 0;
            for (int32_t f = 0; f < F; f++) {
                if (!L->big[f]) {
                    L->rows[f] = spec->card[f];
                    continue;
                }
                int64_t m = (int64_t)llround(share * budget / (4.0 * D) * (double)spec->card[f] / nbig);
                L->rows[f] = m < 1 ? 1 : (m > spec->card[f] ? spec->card[f] : m);
                used += 4.0 * D * (double)L->rows[f];
            }
            double hot = floor((budget - used) / (4.0 * D + SKETCH_BYTES));
            L->hot = hot >= 1 ? (int64_t)hot : 0;
            if (L->hot > INT32_MAX) L->hot = INT32_MAX;
            if (L->hot > 0 || pass == 1) break;
        }
    }
    double bytes = small + SKETCH_BYTES * (double)L->hot + 4.0 * D * (double)L->hot;
    for (int32_t f = 0; f < F; f++)
        if (L->big[f]) bytes += 4.0 * D * (double)L->rows[f];
    if (!emb_plan_within(spec->ratio, full / bytes)) {
        if (nfields_big == 0)
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "ratio %g unreachable for cafe at dim %d: every field has at most threshold=%g ids, so "
                            "all stay full: reachable range [1, 1]",
                            spec->ratio, D, thr);
        return emb_plan_unreachable(spec, "cafe", 1, hi, err, errlen);
    }
    return HX_OK;
}

/* The accounting of plan() and bytes(): the per-field tables, the hot table, the
 * sketch, the free queue and the batch scratch. */
static void cafe_account(const emb_spec *spec, const cafe_layout *L, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_fields_predict_add(spec, L->rows, out);
    if (L->hot > 0) {
        int64_t cap = (int64_t)spec->batch * spec->n_fields;
        emb_table_account(L->hot, spec->dim, cap < L->hot ? cap : L->hot, spec->opt.kind, out);
        out->infer_index += SKETCH_BYTES * (uint64_t)L->hot;
        out->train_other += SKETCH_BYTES * (uint64_t)L->hot + hs_queue_bytes(L->hot);
    }
    out->train_other += 20ull * (uint64_t)spec->batch * (uint64_t)spec->n_fields;
    snprintf(out->index_desc, sizeof out->index_desc, "hot sketch, %d B per hot row", SKETCH_BYTES);
}

static hx_status layout_alloc(cafe_layout *L, int32_t F, char *err, size_t errlen) {
    L->rows = hx_calloc((size_t)F, sizeof(int64_t));
    L->big = hx_calloc((size_t)F, 1);
    if (!L->rows || !L->big) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    return HX_OK;
}

static void layout_free(cafe_layout *L) {
    hx_free(L->rows);
    hx_free(L->big);
}

static hx_status cafe_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    cafe_auto(spec);
    cafe_layout L = {0};
    hx_status rc = layout_alloc(&L, spec->n_fields, err, errlen);
    if (rc == HX_OK) rc = cafe_layout_plan(spec, &L, err, errlen);
    if (rc == HX_OK) {
        cafe_account(spec, &L, &out->bytes);
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        int nbig = 0;
        int64_t hashed = 0;
        for (int32_t f = 0; f < spec->n_fields; f++)
            if (L.big[f]) nbig++, hashed += L.rows[f];
        snprintf(out->knobs, sizeof out->knobs, "%d of %d fields compressed; %lld hot rows, %lld hashed rows; "
                 "hash_rate %g, hot_threshold %g", nbig, spec->n_fields, (long long)L.hot, (long long)hashed,
                 spec->pv[P_HASH_RATE], spec->pv[P_HOT_THRESHOLD]);
    }
    layout_free(&L);
    return rc;
}

typedef struct cafe_state {
    emb_fields  fs;       /* per field: full table or hashed table */
    emb_table   hot;      /* (L.hot, D), unused when L.hot == 0 */
    hotsketch   sk;
    cafe_layout L;
    emb_spec    spec;     /* kept for cafe_account */
    int64_t    *off;      /* (F) global id of (f, 0) */
    int64_t    *hrow;     /* (batch, F) the last forward's rows: >= 0 field table, -1 - r hot row r */
    int64_t    *ids;      /* (batch, F) the last backward's ids */
    float      *score;    /* (batch, F) their scores */
    int64_t     pending;  /* lookups of the last backward still to insert */
    int         count;    /* score: count */
} cafe_state;
EMB_FIELDS_FIRST(cafe_state);

static void cafe_destroy(void *state) {
    cafe_state *s = state;
    if (!s) return;
    emb_fields_free(&s->fs);
    emb_table_free(&s->hot);
    hs_free(&s->sk);
    layout_free(&s->L);
    emb_spec_kept_free(&s->spec);
    hx_free(s->off);
    hx_free(s->hrow);
    hx_free(s->ids);
    hx_free(s->score);
    hx_free(s);
}

static hx_status cafe_create(const emb_spec *spec0, void **state, char *err, size_t errlen) {
    emb_spec spec = *spec0;
    cafe_auto(&spec);
    const int32_t F = spec.n_fields, D = spec.dim;
    cafe_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = layout_alloc(&s->L, F, err, errlen);
    if (rc == HX_OK) rc = cafe_layout_plan(&spec, &s->L, err, errlen);
    if (rc == HX_OK) rc = emb_spec_keep(&s->spec, &spec, err, errlen);
    if (rc != HX_OK) goto fail;
    size_t bf = (size_t)spec.batch * (size_t)F;
    s->off = hx_calloc((size_t)F, sizeof(int64_t));
    s->hrow = hx_calloc(bf, sizeof(int64_t));
    s->ids = hx_calloc(bf, sizeof(int64_t));
    s->score = hx_calloc(bf, sizeof(float));
    if (!s->off || !s->hrow || !s->ids || !s->score) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    int64_t maxn = 1;
    for (int32_t f = 1; f < F; f++) s->off[f] = s->off[f - 1] + spec.card[f - 1];
    for (int32_t f = 0; f < F; f++) maxn = spec.card[f] > maxn ? spec.card[f] : maxn;
    s->count = (int)spec.pv[P_SCORE] == SCORE_COUNT;
    hx_rng rng;
    hx_rng_seed(&rng, spec.seed);
    if ((rc = emb_fields_init(&s->fs, &spec, s->L.rows, &rng, err, errlen)) != HX_OK) goto fail;
    for (int32_t f = 0; f < F; f++) /* hashed rows: U(+-sqrt(1/N_f)) with the field's id count */
        if (s->L.big[f]) {
            float a = sqrtf(1.0f / (float)spec.card[f]);
            emb_table_fill_uniform(&s->fs.tabs[f], &rng, -a, a);
        }
    if (s->L.hot > 0) {
        int64_t cap = (int64_t)bf < s->L.hot ? (int64_t)bf : s->L.hot;
        if ((rc = emb_table_init(&s->hot, s->L.hot, D, cap, spec.opt.kind, err, errlen)) != HX_OK ||
            (rc = hs_init(&s->sk, s->L.hot, (float)spec.pv[P_HOT_THRESHOLD], (float)spec.pv[P_DECAY],
                          hx_splitmix64(spec.seed ^ 0x636166ull), err, errlen)) != HX_OK)
            goto fail;
        float a = sqrtf(1.0f / (float)maxn);
        emb_table_fill_uniform(&s->hot, &rng, -a, a);
    }
    *state = s;
    return HX_OK;
fail:
    cafe_destroy(s);
    return rc;
}

static int64_t hashed_row(const cafe_state *s, int32_t f, int64_t i) {
    if (!s->L.big[f]) return i;
    uint64_t fseed = s->spec.seed * 0x100000001b3ULL + (uint64_t)f;
    return (int64_t)hx_hash_index((uint64_t)i, fseed, (uint64_t)s->L.rows[f]);
}

/* Map a batch to rows (s->hrow): the hot row if the id is hot, else its field row. */
static void cafe_map(cafe_state *s, const int64_t *idx, int64_t B) {
    const int32_t F = s->fs.F;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t i = idx[b * F + f], r = -1;
            HX_ASSERT(i >= 0 && i < s->spec.card[f]);
            if (s->L.big[f] && s->L.hot > 0) r = hs_query(&s->sk, (uint32_t)(s->off[f] + i));
            s->hrow[b * F + f] = r >= 0 ? -1 - r : hashed_row(s, f, i);
        }
}

static const float *row_of(const cafe_state *s, int32_t f, int64_t r) {
    return r >= 0 ? emb_table_row(&s->fs.tabs[f], r) : emb_table_row(&s->hot, -1 - r);
}

/* idx (B, F) -> out (B, F, D). */
static void cafe_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    cafe_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    cafe_map(s, idx, B);
    for (int64_t k = 0; k < B * F; k++)
        memcpy(out + k * D, row_of(s, (int32_t)(k % F), s->hrow[k]), (size_t)D * sizeof(float));
}

/* dout (B, F, D): coalesced row gradients, and each lookup's score for the sketch
 * update in step(). */
static void cafe_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    cafe_state *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    cafe_map(s, idx, B);
    for (int64_t k = 0; k < B * F; k++) {
        int32_t f = (int32_t)(k % F);
        int64_t r = s->hrow[k];
        float *g = r >= 0 ? emb_table_grad_row(&s->fs.tabs[f], r) : emb_table_grad_row(&s->hot, -1 - r);
        const float *d = dout + k * D;
        double n2 = 0;
        for (int32_t j = 0; j < D; j++) {
            g[j] += d[j];
            n2 += (double)d[j] * d[j];
        }
        s->ids[k] = idx[k];
        s->score[k] = s->count ? 1.0f : (float)sqrt(n2);
    }
    s->pending = B;
}

/* The sketch update of the last backward: per compressed field, scores scaled to
 * batch mean 1, inserted in batch order; promotions copy the hashed row. */
static void cafe_sketch_update(cafe_state *s) {
    const int32_t F = s->fs.F, D = s->fs.D;
    const int64_t B = s->pending;
    s->pending = 0;
    if (s->L.hot == 0 || B == 0) return;
    for (int32_t f = 0; f < F; f++) {
        if (!s->L.big[f]) continue;
        hs_maybe_decay(&s->sk); /* before each field's batch, as the reference's batch_insert_val */
        double sum = 0;
        for (int64_t b = 0; b < B; b++) sum += s->score[b * F + f];
        for (int64_t b = 0; b < B; b++) {
            int64_t i = s->ids[b * F + f];
            float v = sum > 0 ? (float)(s->score[b * F + f] * (double)B / sum) : 1.0f;
            if (!(v > 0)) continue; /* a zero gradient adds nothing (and would look like an empty slot) */
            int64_t r = hs_insert(&s->sk, (uint32_t)(s->off[f] + i), v);
            if (r < 0) continue;
            memcpy(emb_table_row(&s->hot, r), emb_table_row(&s->fs.tabs[f], hashed_row(s, f, i)),
                   (size_t)D * sizeof(float));
            if (s->hot.state_w) memset(s->hot.state + (size_t)r * s->hot.state_w, 0, s->hot.state_w * sizeof(float));
        }
    }
}

static void cafe_step(void *state, int64_t t) {
    cafe_state *s = state;
    emb_fields_step(&s->fs, t);
    if (s->L.hot > 0) emb_table_step(&s->hot, &s->fs.opt, t);
    cafe_sketch_update(s);
}

static void cafe_bytes(const void *state, emb_bytes *out) {
    const cafe_state *s = state;
    cafe_account(&s->spec, &s->L, out);
}

/* Tensors: one table per field, then the hot table while some id is hot (before
 * the first promotion no lookup reads it, so it has no gradient to check). */
static emb_table *cafe_table_at(void *state, int i, const char **name) {
    cafe_state *s = state;
    if (i >= 0 && i < s->fs.F) {
        *name = s->L.big[i] ? "hashed" : "table";
        return &s->fs.tabs[i];
    }
    if (i == s->fs.F && s->L.hot > 0 && s->sk.n_hot > 0) {
        *name = "hot";
        return &s->hot;
    }
    return NULL;
}

EMB_TABLES_TENSORS(cafe, cafe_table_at)

const emb_method emb_method_cafe = {
    .api_version = EMB_API_VERSION,
    .name = "cafe",
    .desc = "hot ids (HotSketch) get own rows, the rest share hashed rows",
    .cite = "Zhang et al., CAFE: Towards Compact, Adaptive, and Fast Embedding for Large-scale Recommendation "
            "Models, SIGMOD 2024",
    .params = cafe_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = cafe_plan,
    .create = cafe_create,
    .destroy = cafe_destroy,
    .forward = cafe_forward,
    .backward = cafe_backward,
    .step = cafe_step,
    .bytes = cafe_bytes,
    .tensors = cafe_tensors,
    .grad = cafe_grad,
};
