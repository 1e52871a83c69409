/* adaembed.c: AdaEmbed, importance-based in-training admission of embedding rows.
 *
 * Paper: Lai, Zhang, Liu, Chen, Cheng, Ma, Wang, Chowdhury, "AdaEmbed: Adaptive
 * Embedding for Large-Scale Recommendation Models", OSDI 2023. The authors' code is
 * not public; we read the reimplementation the CAFE authors benchmark against
 * (HugoZHL/CAFE ArtifactEvaluation/embeddings/init_embed.py, ada_embedding_bag.py)
 * and Hetu's frequency-based `adapt` baseline (Hsword/Hetu
 * tools/EmbeddingMemoryCompression methods/layers/adapt.py). None of it was copied.
 *
 * What follows the paper and the CAFE reimplementation:
 *   - every id of a compressed field has an importance score: on each access it
 *     gains the L2 norm of the gradient its embedding receives, normalised so the
 *     occurrences of one field in a batch average 1 (B ||g_b|| / sum_b ||g_b||):
 *     frequent ids and ids with large gradients score high;
 *   - the scores decay: s *= `decay` (0.8) every `decay_interval` steps (16384 =
 *     4 x 4096 in the reference);
 *   - one fixed-budget table of H rows is shared by all compressed fields; only
 *     the ids with the top H scores hold a row (an int32 id -> row map, -1 = none);
 *     the others read the ZERO vector (the reference's row 0, zeroed every
 *     forward); they still earn scores from the gradient their output receives;
 *   - every `interval` steps (4096 in the reference) and after step 1, the top H ids
 *     are computed from the scores divided by their field's 95th percentile (when
 *     it is not 0; `field_norm`); if more than `tolerance` (5%) of them hold no row,
 *     the table is reallocated: evicted ids give their rows to the admitted ones,
 *     whose rows start at zero;
 *   - only fields with more than `threshold` ids are compressed (auto: the
 *     reference's 2000 / ratio); the others keep full tables (DLRM init);
 *   - the budget pays for the table, the map and the scores, as the reference's
 *     H = (N D / ratio - 2 N) / D: 4 bytes of map and 4 of score per compressed id.
 * Our choices [R]:
 *   - the check counts the whole id space (the reference samples 10^6 ids), and
 *     ranks the same normalised scores it reallocates by (the reference checks the
 *     raw scores); ties rank held ids first, then by id, so a round is
 *     deterministic and a tie never evicts;
 *   - the normalised scores are computed into scratch (the reference divides its
 *     score array in place, so each reallocation rescales every later score);
 *   - at create the table is full: the first H ids of a seeded permutation hold rows
 *     drawn U(+-sqrt(1/N_f)) (DLRM's init for their field; the reference starts with
 *     every id on the zero row until the first check); admitted rows get zero
 *     optimizer state as well as zero weights;
 *   - reallocation runs in on_step, after the optimizer step (the reference runs it
 *     between backward and step); `interval` auto = total_steps / 20 in [1, 4096]
 *     and `decay_interval` auto = 4 intervals, so short runs still reallocate;
 *   - no zero row is stored: a cold lookup writes zeros.
 * Bytes: inference = 4 D (H + sum of the uncompressed N_f) + 8 N_c (map + score,
 * N_c = compressed ids); training adds the tables' optimizer state and gradient
 * slots and the reallocation scratch: 8 N_c (score, id) pairs to sort, an N_c-byte
 * top mark, a 4 H free list, a batch of gradient norms and a percentile per field.
 */
#include <math.h>
#include <stdlib.h>

#include "methods/adaembed.h"
#include "methods/common/table.h"

enum { P_INTERVAL, P_DECAY, P_DECAY_INTERVAL, P_TOLERANCE, P_THRESHOLD, P_FIELD_NORM, P_COUNT };
static const emb_param_desc ada_params[] = {
    [P_INTERVAL] = {.name = "interval", .type = EMB_P_INT, .min = 1, .max = 1e15, .def = EMB_AUTO, .auto_ok = 1,
                    .help = "steps between reallocation checks (auto: total_steps/20 in [1, 4096])"},
    [P_DECAY] = {.name = "decay", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 0.8,
                 .help = "importance multiplier applied every decay_interval steps"},
    [P_DECAY_INTERVAL] = {.name = "decay_interval", .type = EMB_P_INT, .min = 1, .max = 1e15, .def = EMB_AUTO,
                          .auto_ok = 1, .help = "steps between decays (auto: 4 intervals)"},
    [P_TOLERANCE] = {.name = "tolerance", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 0.05,
                     .help = "reallocate when more than this fraction of the top ids hold no row"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = EMB_AUTO, .auto_ok = 1,
                     .help = "fields with at most this many ids keep full tables (auto: 2000 / ratio)"},
    [P_FIELD_NORM] = {.name = "field_norm", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 1,
                      .help = "rank by score over the field's 95th percentile"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(ada_params, P_COUNT);

typedef struct ada_item {
    float   key;
    int32_t id; /* compressed id */
} ada_item;

typedef struct ada_state {
    int32_t    F, D;
    int64_t    H, Nc;      /* hot rows; compressed ids */
    int64_t   *off;        /* (F) first compressed id of field f, or -1 (full table) */
    emb_table *full;       /* (F) tables of the uncompressed fields (others unused) */
    emb_table  hot;        /* (H, D) */
    int32_t   *map;        /* (Nc) row or -1 */
    float     *score;      /* (Nc) importance */
    ada_item  *items;      /* (Nc) selection scratch */
    uint8_t   *top;        /* (Nc) selection scratch */
    int32_t   *freel;      /* (H) rows freed by a reallocation */
    float     *norms;      /* (batch) gradient norms of one field */
    float     *pct;        /* (F) 95th percentile of each field's scores */
    int64_t    interval, decay_interval;
    float      decay, tolerance;
    int        field_norm;
    int64_t    reallocs;   /* reallocations so far (test hook) */
    opt_cfg    opt;
    emb_spec   spec;       /* kept for ada_account */
} ada_state;

/* ---- planning ---- */

static void ada_auto(emb_spec *spec) {
    if (spec->pv[P_INTERVAL] == EMB_AUTO) {
        int64_t t = spec->total_steps / 20;
        spec->pv[P_INTERVAL] = (double)(t < 1 ? 1 : (t > 4096 ? 4096 : t));
    }
    if (spec->pv[P_DECAY_INTERVAL] == EMB_AUTO) spec->pv[P_DECAY_INTERVAL] = 4 * spec->pv[P_INTERVAL];
    if (spec->pv[P_THRESHOLD] == EMB_AUTO) spec->pv[P_THRESHOLD] = floor(2000.0 / spec->ratio);
}

/* Compressed ids and hot rows for the planned spec, or an unreachable error. */
static hx_status ada_layout(const emb_spec *spec, int64_t *Nc, int64_t *H, char *err, size_t errlen) {
    const int64_t threshold = (int64_t)spec->pv[P_THRESHOLD];
    const double full = emb_full_bytes(spec), small = emb_plan_small_fields(spec, threshold, Nc);
    const double row = 4.0 * spec->dim, per_id = 8.0;
    if (*Nc == 0) {
        *H = 0;
        if (emb_plan_within(spec->ratio, 1.0)) return HX_OK;
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "ratio %g unreachable for adaembed at dim %d: every field has at most threshold=%lld ids, "
                        "so all stay uncompressed (reachable range [1, 1]); lower threshold to compress them",
                        spec->ratio, spec->dim, (long long)threshold);
    }
    const double lo = full / (small + (row + per_id) * (double)*Nc), hi = full / (small + row + per_id * (double)*Nc);
    double h = floor((full / spec->ratio - small - per_id * (double)*Nc) / row);
    *H = h < 1 ? 1 : (h > (double)*Nc ? *Nc : (int64_t)h);
    double bytes = small + row * (double)*H + per_id * (double)*Nc;
    /* h < 1: the map and the scores leave no room for a row (ratio above hi) */
    if (h < 1 || !emb_plan_within(spec->ratio, full / bytes))
        return emb_plan_unreachable(spec, "adaembed", lo, hi, err, errlen);
    return HX_OK;
}

static int64_t hot_cap(const emb_spec *spec, int64_t H) {
    int64_t nc = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) nc += spec->card[f] > (int64_t)spec->pv[P_THRESHOLD];
    int64_t c = (int64_t)spec->batch * nc;
    return c < H ? c : H;
}

/* The accounting of plan() and bytes() (the file comment's Bytes). */
static void ada_account(const emb_spec *spec, int64_t Nc, int64_t H, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    const int64_t threshold = (int64_t)spec->pv[P_THRESHOLD];
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (n <= threshold) emb_table_account(n, spec->dim, spec->batch < n ? spec->batch : n, spec->opt.kind, out);
    }
    if (Nc > 0) emb_table_account(H, spec->dim, hot_cap(spec, H), spec->opt.kind, out);
    out->infer_index = 8ull * (uint64_t)Nc;
    out->train_other +=
        9ull * (uint64_t)Nc + 4ull * (uint64_t)H + 4ull * (uint64_t)spec->batch + 4ull * (uint64_t)spec->n_fields;
    snprintf(out->index_desc, sizeof out->index_desc, "int32 id->row map + fp32 score per id");
}

static hx_status ada_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    ada_auto(spec);
    int64_t Nc, H;
    hx_status rc = ada_layout(spec, &Nc, &H, err, errlen);
    if (rc != HX_OK) return rc;
    ada_account(spec, Nc, H, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "%lld of %lld compressed ids hold rows; interval %g, threshold %g",
             (long long)H, (long long)Nc, spec->pv[P_INTERVAL], spec->pv[P_THRESHOLD]);
    return HX_OK;
}

/* ---- create / destroy ---- */

static void ada_destroy(void *state) {
    ada_state *s = state;
    if (!s) return;
    for (int32_t f = 0; s->full && f < s->F; f++) emb_table_free(&s->full[f]);
    emb_table_free(&s->hot);
    hx_free(s->full);
    hx_free(s->off);
    hx_free(s->map);
    hx_free(s->score);
    hx_free(s->items);
    hx_free(s->top);
    hx_free(s->freel);
    hx_free(s->norms);
    hx_free(s->pct);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

#define PERM_PRIME 2654435761ull /* prime > any Nc we index: q -> q*P mod Nc is a bijection */

/* The field of compressed id c. */
static int32_t field_of(const ada_state *s, int64_t c) {
    int32_t best = -1;
    for (int32_t f = 0; f < s->F; f++)
        if (s->off[f] >= 0 && s->off[f] <= c && (best < 0 || s->off[f] > s->off[best])) best = f;
    return best;
}

static hx_status ada_tables(ada_state *s, const emb_spec *spec, char *err, size_t errlen) {
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    for (int32_t f = 0; f < s->F; f++) {
        if (s->off[f] >= 0) continue;
        int64_t n = spec->card[f];
        hx_status rc = emb_table_init(&s->full[f], n, s->D, spec->batch < n ? spec->batch : n, spec->opt.kind, err,
                                      errlen);
        if (rc != HX_OK) return rc;
        float a = sqrtf(1.0f / (float)n);
        emb_table_fill_uniform(&s->full[f], &rng, -a, a);
    }
    if (s->Nc == 0) return HX_OK;
    hx_status rc = emb_table_init(&s->hot, s->H, s->D, hot_cap(spec, s->H), spec->opt.kind, err, errlen);
    if (rc != HX_OK) return rc;
    /* the first H ids of a seeded permutation hold the rows */
    const uint64_t poff = hx_splitmix64(spec->seed ^ 0x616461ull) % (uint64_t)s->Nc;
    for (int64_t c = 0; c < s->Nc; c++) s->map[c] = -1;
    for (int64_t r = 0; r < s->H; r++) {
        int64_t c = (int64_t)(((uint64_t)r * PERM_PRIME + poff) % (uint64_t)s->Nc);
        s->map[c] = (int32_t)r;
        float a = sqrtf(1.0f / (float)spec->card[field_of(s, c)]);
        float *w = emb_table_row(&s->hot, r);
        for (int32_t j = 0; j < s->D; j++) w[j] = hx_rng_uniformf(&rng, -a, a);
    }
    return HX_OK;
}

static hx_status ada_create(const emb_spec *spec0, void **state, char *err, size_t errlen) {
    emb_spec spec = *spec0;
    ada_auto(&spec);
    int64_t Nc, H;
    hx_status rc = ada_layout(&spec, &Nc, &H, err, errlen);
    if (rc != HX_OK) return rc;
    if (Nc >= (int64_t)INT32_MAX)
        return hx_error(HX_ERR_PARAM, err, errlen, "adaembed: %lld compressed ids exceed the int32 map", (long long)Nc);
    ada_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    s->F = spec.n_fields;
    s->D = spec.dim;
    s->Nc = Nc;
    s->H = H;
    s->interval = (int64_t)spec.pv[P_INTERVAL];
    s->decay_interval = (int64_t)spec.pv[P_DECAY_INTERVAL];
    s->decay = (float)spec.pv[P_DECAY];
    s->tolerance = (float)spec.pv[P_TOLERANCE];
    s->field_norm = spec.pv[P_FIELD_NORM] != 0;
    s->opt = spec.opt;
    s->off = hx_calloc((size_t)s->F, sizeof(int64_t));
    s->full = hx_calloc((size_t)s->F, sizeof(emb_table));
    size_t nc = (size_t)(Nc > 0 ? Nc : 1);
    s->map = hx_calloc(nc, sizeof(int32_t));
    s->score = hx_calloc(nc, sizeof(float));
    s->items = hx_calloc(nc, sizeof(ada_item));
    s->top = hx_calloc(nc, 1);
    s->freel = hx_calloc((size_t)(H > 0 ? H : 1), sizeof(int32_t));
    s->norms = hx_calloc((size_t)spec.batch, sizeof(float));
    s->pct = hx_calloc((size_t)s->F, sizeof(float));
    rc = emb_spec_keep(&s->spec, &spec, err, errlen);
    if (rc == HX_OK && (!s->off || !s->full || !s->map || !s->score || !s->items || !s->top || !s->freel || !s->norms ||
                         !s->pct))
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "adaembed: out of memory for %lld ids", (long long)Nc);
    if (rc == HX_OK) {
        int64_t o = 0;
        for (int32_t f = 0; f < s->F; f++) {
            s->off[f] = spec.card[f] > (int64_t)spec.pv[P_THRESHOLD] ? o : -1;
            if (s->off[f] >= 0) o += spec.card[f];
        }
        HX_ASSERT(o == Nc);
        rc = ada_tables(s, &spec, err, errlen);
    }
    if (rc != HX_OK) {
        ada_destroy(s);
        return rc;
    }
    *state = s;
    return HX_OK;
}

/* ---- forward / backward / step ---- */

/* idx (B, F) -> out (B, F, D): full rows, held rows, zeros for cold ids. */
static void ada_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    ada_state *s = state;
    const int32_t F = s->F, D = s->D;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            const int64_t i = idx[b * F + f];
            float *o = out + ((size_t)b * F + f) * D;
            const float *w = NULL;
            if (s->off[f] < 0) w = emb_table_row(&s->full[f], i);
            else if (s->map[s->off[f] + i] >= 0) w = emb_table_row(&s->hot, s->map[s->off[f] + i]);
            if (w) memcpy(o, w, (size_t)D * sizeof(float));
            else memset(o, 0, (size_t)D * sizeof(float));
        }
}

/* dout (B, F, D): row gradients, and the importance of every compressed lookup. */
static void ada_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    ada_state *s = state;
    const int32_t F = s->F, D = s->D;
    for (int32_t f = 0; f < F; f++) {
        double sum = 0;
        for (int64_t b = 0; b < B; b++) {
            const float *d = dout + ((size_t)b * F + f) * D;
            int64_t i = idx[b * F + f];
            float *g = NULL;
            if (s->off[f] < 0) g = emb_table_grad_row(&s->full[f], i);
            else if (s->map[s->off[f] + i] >= 0) g = emb_table_grad_row(&s->hot, s->map[s->off[f] + i]);
            double n2 = 0;
            for (int32_t k = 0; k < D; k++) {
                if (g) g[k] += d[k];
                n2 += (double)d[k] * d[k];
            }
            s->norms[b] = (float)sqrt(n2);
            sum += s->norms[b];
        }
        if (s->off[f] < 0 || !(sum > 0)) continue;
        const double scale = (double)B / sum; /* a field's occurrences average 1 */
        for (int64_t b = 0; b < B; b++) s->score[s->off[f] + idx[b * F + f]] += (float)(s->norms[b] * scale);
    }
}

static void ada_step(void *state, int64_t t) {
    ada_state *s = state;
    for (int32_t f = 0; f < s->F; f++)
        if (s->off[f] < 0) emb_table_step(&s->full[f], &s->opt, t);
    if (s->Nc > 0) emb_table_step(&s->hot, &s->opt, t);
}

/* ---- reallocation ---- */

static int cmp_key_asc(const void *a, const void *b) {
    float x = ((const ada_item *)a)->key, y = ((const ada_item *)b)->key;
    return (x > y) - (x < y);
}

/* Ranking order: key descending; ties: held ids first. The held flag travels in
 * id as -1 - c (restored after the sort), so ties then fall in id order
 * (descending among held ids, ascending among the others). */
static int cmp_rank(const void *a, const void *b) {
    const ada_item *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* numpy's default percentile (linear interpolation) of a field's scores. */
static float field_percentile95(ada_state *s, int32_t f) {
    const int64_t n = s->spec.card[f], o = s->off[f];
    for (int64_t i = 0; i < n; i++) s->items[i] = (ada_item){.key = s->score[o + i], .id = (int32_t)i};
    qsort(s->items, (size_t)n, sizeof(ada_item), cmp_key_asc);
    double pos = 0.95 * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    int64_t hi = lo + 1 < n ? lo + 1 : lo;
    return (float)(s->items[lo].key + (s->items[hi].key - s->items[lo].key) * (pos - (double)lo));
}

/* items[0..H) = the top H compressed ids by normalised score (ranking order). */
static void rank_ids(ada_state *s) {
    for (int32_t f = 0; f < s->F; f++) /* all first: the percentile sorts in items */
        s->pct[f] = s->off[f] >= 0 && s->field_norm ? field_percentile95(s, f) : 0.0f;
    for (int32_t f = 0; f < s->F; f++) {
        if (s->off[f] < 0) continue;
        const float p = s->pct[f];
        const int64_t n = s->spec.card[f], o = s->off[f];
        for (int64_t i = 0; i < n; i++) {
            const int64_t c = o + i;
            s->items[c].key = p != 0 ? s->score[c] / p : s->score[c];
        }
    }
    for (int64_t c = 0; c < s->Nc; c++) s->items[c].id = s->map[c] >= 0 ? (int32_t)(-1 - c) : (int32_t)c;
    qsort(s->items, (size_t)s->Nc, sizeof(ada_item), cmp_rank);
    for (int64_t c = 0; c < s->Nc; c++)
        if (s->items[c].id < 0) s->items[c].id = -1 - s->items[c].id;
}

/* One check: rank, count the top ids holding no row, reallocate when there are
 * more than tolerance * H of them (or force). */
static void ada_check(ada_state *s, int force) {
    rank_ids(s);
    int64_t admits = 0;
    for (int64_t k = 0; k < s->H; k++) admits += s->map[s->items[k].id] < 0;
    if (admits == 0 || (!force && (double)admits <= s->tolerance * (double)s->H)) return;
    memset(s->top, 0, (size_t)s->Nc);
    for (int64_t k = 0; k < s->H; k++) s->top[s->items[k].id] = 1;
    int64_t nfree = 0;
    for (int64_t c = 0; c < s->Nc; c++)
        if (s->map[c] >= 0 && !s->top[c]) {
            s->freel[nfree++] = s->map[c];
            s->map[c] = -1;
        }
    HX_ASSERT(nfree == admits);
    emb_table *t = &s->hot;
    int64_t used = 0;
    for (int64_t k = 0; k < s->H; k++) {
        const int32_t c = s->items[k].id;
        if (s->map[c] >= 0) continue;
        const int32_t r = s->freel[used++];
        s->map[c] = r;
        memset(emb_table_row(t, r), 0, (size_t)s->D * sizeof(float));
        if (t->state_w) memset(t->state + (size_t)r * t->state_w, 0, t->state_w * sizeof(float));
    }
    s->reallocs++;
}

static hx_status ada_on_step(void *state, int64_t t, char *err, size_t errlen) {
    (void)err, (void)errlen;
    ada_state *s = state;
    if (s->Nc == 0) return HX_OK;
    if (t == 1 || t % s->interval == 0) ada_check(s, t == 1);
    if (t % s->decay_interval == 0)
        for (int64_t c = 0; c < s->Nc; c++) s->score[c] *= s->decay;
    return HX_OK;
}

static void ada_bytes(const void *state, emb_bytes *out) {
    const ada_state *s = state;
    ada_account(&s->spec, s->Nc, s->H, out);
}

/* Tensors: the hot table, then the full tables of the uncompressed fields. */
static emb_table *ada_table_at(void *state, int i, const char **name) {
    ada_state *s = state;
    if (s->Nc > 0 && i-- == 0) {
        *name = "hot";
        return &s->hot;
    }
    for (int32_t f = 0; f < s->F; f++)
        if (s->off[f] < 0 && i-- == 0) {
            *name = "table";
            return &s->full[f];
        }
    return NULL;
}

EMB_TABLES_TENSORS(ada, ada_table_at)

/* ---- test hooks (adaembed.h) ---- */

int64_t adaembed_row(const void *state, int32_t f, int64_t i) {
    const ada_state *s = state;
    return s->off[f] < 0 ? i : s->map[s->off[f] + i];
}

float adaembed_score(const void *state, int32_t f, int64_t i) {
    const ada_state *s = state;
    return s->off[f] < 0 ? 0.0f : s->score[s->off[f] + i];
}

void adaembed_sizes(const void *state, int64_t *held, int64_t *compressed, int64_t *reallocs) {
    const ada_state *s = state;
    int64_t h = 0;
    for (int64_t c = 0; c < s->Nc; c++) h += s->map[c] >= 0;
    *held = h;
    *compressed = s->Nc;
    *reallocs = s->reallocs;
}

const emb_method emb_method_adaembed = {
    .api_version = EMB_API_VERSION,
    .name = "adaembed",
    .desc = "only the ids with the top importance (decayed gradient norms) hold rows; reallocated in training",
    .cite = "Lai et al., AdaEmbed: Adaptive Embedding for Large-Scale Recommendation Models, OSDI 2023",
    .params = ada_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE | EMB_CAP_DYNAMIC,
    .plan = ada_plan,
    .create = ada_create,
    .destroy = ada_destroy,
    .forward = ada_forward,
    .backward = ada_backward,
    .step = ada_step,
    .on_step = ada_on_step,
    .bytes = ada_bytes,
    .tensors = ada_tensors,
    .grad = ada_grad,
};
