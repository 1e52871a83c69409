/* robe.c: ROBE, random offset block embeddings (Desai, Chou, Shrivastava,
 * "Random Offset Block Embedding (ROBE) for compressed embedding tables in deep
 * learning recommendation systems", MLSys 2022, arXiv 2108.02191), with the
 * semantics of the reference kernel (apd10/universal_memory_allocation
 * hashed_embedding_bag_kernel.cu) and driver (apd10/dlrm create_emb, --rma-size,
 * --rma-chunk-size).
 *
 * Follows the reference:
 *   - ONE parameter array M (`size` floats) shared by all fields; every field is
 *     read from it (no small-table threshold);
 *   - id i of field f has global id x = offset_f + i (offset = rows of the earlier
 *     fields); output dim j lies in block b = j / Z at shift o = j mod Z, and reads
 *     M[((A x + B b + C) mod P) mod (size - Z + 1) + o], P = 2038074743, so each
 *     block of Z dims reads Z consecutive cells (no wraparound, as the kernel);
 *   - gradients of every (id, dim) scatter-add into their cell; duplicates are
 *     coalesced before the optimizer (emb_table with one cell per row);
 *   - init U(+-sqrt(1/max_f N_f)) over the array;
 *   - block Z default 1, the reference's --rma-chunk-size default (and Hetu's
 *     benchmark setting).
 * Our choices [R]: A, B, C drawn from the seed in [1, P); size auto =
 * round(sum_f N_f * D / ratio); row-wise Adagrad on one-cell rows is element-wise.
 * Bytes: inference 4 * size (the constants are a seed).
 */
#include <math.h>

#include "methods/common/baseline.h"

#define ROBE_P 2038074743ull

enum { P_SIZE, P_BLOCK, P_COUNT };
static const emb_param_desc robe_params[] = {
    [P_SIZE] = {.name = "size", .type = EMB_P_INT, .min = 1, .max = 1e13, .def = EMB_AUTO, .auto_ok = 1,
                .help = "floats in the shared array (auto: sum N_f*D / ratio)"},
    [P_BLOCK] = {.name = "block", .type = EMB_P_INT, .min = 1, .max = 65536, .def = 1,
                 .help = "block size Z: dims read as runs of Z consecutive cells (reference default 1)"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(robe_params, P_COUNT);

typedef struct robe_state {
    int32_t   F, D, Z;
    int64_t   size;
    uint64_t  A, B, C;
    int64_t  *offset;  /* (F) global id of each field's row 0 */
    emb_table arr;     /* (size, 1) */
    opt_cfg   opt;
    emb_spec  spec;    /* kept for robe_account */
} robe_state;

enum { ROBE_RING = 64 }; /* blocks the walks' ring holds: a power of two above HX_PREFETCH_AHEAD */

static double robe_total_floats(const emb_spec *spec) { return emb_full_bytes(spec) / 4.0; }

static hx_status robe_layout(const emb_spec *spec, int64_t *size, char *err, size_t errlen) {
    int64_t Z = (int64_t)spec->pv[P_BLOCK];
    double total = robe_total_floats(spec);
    if (Z > spec->dim) return hx_error(HX_ERR_PARAM, err, errlen, "robe: block %lld exceeds dim %d", (long long)Z, spec->dim);
    *size = spec->pv[P_SIZE] == EMB_AUTO ? (int64_t)llround(total / spec->ratio) : (int64_t)spec->pv[P_SIZE];
    if (spec->pv[P_SIZE] != EMB_AUTO && *size < Z)
        return hx_error(HX_ERR_PARAM, err, errlen, "robe: size %lld is smaller than block %lld", (long long)*size,
                        (long long)Z);
    if (spec->pv[P_SIZE] != EMB_AUTO && !emb_plan_within(spec->ratio, total / (double)*size))
        return emb_plan_fixed_unreachable(spec, "robe", "size", spec->pv[P_SIZE], total / (double)*size, err, errlen);
    if (*size < Z || !emb_plan_within(spec->ratio, total / (double)*size))
        return emb_plan_unreachable(spec, "robe", 1, total / (double)Z, err, errlen);
    return HX_OK;
}

static int64_t robe_cap(const emb_spec *spec, int64_t size) {
    int64_t c = (int64_t)spec->batch * spec->n_fields * spec->dim;
    return c < size ? c : size;
}

/* The accounting of plan() and bytes(): one (size, 1) table; the hash constants
 * are a seed. */
static void robe_account(const emb_spec *spec, int64_t size, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_table_account(size, 1, robe_cap(spec, size), spec->opt.kind, out);
    snprintf(out->index_desc, sizeof out->index_desc, "none (seeded hash)");
}

static hx_status robe_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t size;
    hx_status rc = robe_layout(spec, &size, err, errlen);
    if (rc != HX_OK) return rc;
    robe_account(spec, size, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "array of %lld floats, block Z=%d", (long long)size,
             (int)spec->pv[P_BLOCK]);
    return HX_OK;
}

static void robe_destroy(void *state) {
    robe_state *s = state;
    if (!s) return;
    emb_table_free(&s->arr);
    hx_free(s->offset);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status robe_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    robe_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = robe_layout(spec, &s->size, err, errlen);
    if (rc == HX_OK) rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc != HX_OK) goto fail;
    s->F = spec->n_fields;
    s->D = spec->dim;
    s->Z = (int32_t)spec->pv[P_BLOCK];
    s->opt = spec->opt;
    s->offset = hx_calloc((size_t)s->F, sizeof(int64_t));
    if (!s->offset) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    int64_t maxn = 1;
    for (int32_t f = 1; f < s->F; f++) s->offset[f] = s->offset[f - 1] + spec->card[f - 1];
    for (int32_t f = 0; f < s->F; f++) maxn = spec->card[f] > maxn ? spec->card[f] : maxn;
    rc = emb_table_init(&s->arr, s->size, 1, robe_cap(spec, s->size), s->opt.kind, err, errlen);
    if (rc != HX_OK) goto fail;
    HX_ASSERT(s->arr.ahead < ROBE_RING);
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    s->A = 1 + hx_rng_below(&rng, ROBE_P - 1);
    s->B = 1 + hx_rng_below(&rng, ROBE_P - 1);
    s->C = 1 + hx_rng_below(&rng, ROBE_P - 1);
    float a = sqrtf(1.0f / (float)maxn);
    emb_table_fill_uniform(&s->arr, &rng, -a, a);
    *state = s;
    return HX_OK;
fail:
    robe_destroy(s);
    return rc;
}

/* Array cell of block b of global id x: the block reads [loc, loc + Z). */
/* The hash in two parts: the id's (once a row) and the block's. */
static inline uint64_t robe_id_key(const robe_state *s, int64_t x) {
    return s->A * ((uint64_t)x % ROBE_P) % ROBE_P;
}

static inline int64_t robe_cell(const robe_state *s, uint64_t id_key, int64_t b) {
    uint64_t key = (id_key + s->B * (uint64_t)b % ROBE_P + s->C) % ROBE_P;
    return (int64_t)(key % (uint64_t)(s->size - s->Z + 1));
}

/* A walk over a batch's blocks in order: row k of idx (field f, its id's key
 * ik), block b of the row's ceil(D / Z). Where robe_lead says so, a lead walk
 * runs `ahead` blocks in front: it hashes each block once into a ring and
 * starts fetching what the block will need, so the cache misses of many blocks
 * overlap. The cells and their order are those of plain loops. */
typedef struct robe_walk {
    int64_t  k, rows; /* rows: B * F, the walk's end */
    int32_t  f, b;
    uint64_t ik;
} robe_walk;

static inline robe_walk walk_start(const robe_state *s, const int64_t *idx, int64_t B) {
    robe_walk w = {.k = 0, .rows = B * s->F, .f = 0, .b = 0, .ik = 0};
    if (w.rows) w.ik = robe_id_key(s, s->offset[0] + idx[0]);
    return w;
}

static inline void walk_next(const robe_state *s, const int64_t *idx, robe_walk *w) {
    if (++w->b * s->Z < s->D) return;
    w->b = 0, w->k++;
    if (++w->f == s->F) w->f = 0;
    if (w->k < w->rows) w->ik = robe_id_key(s, s->offset[w->f] + idx[w->k]);
}

static inline int64_t walk_cell(const robe_state *s, const robe_walk *w) { return robe_cell(s, w->ik, w->b); }

/* Cells of the block starting at dim j0 (the last of a row may be short). */
static inline int32_t block_len(const robe_state *s, int32_t j0) { return s->D - j0 < s->Z ? s->D - j0 : s->Z; }

/* Blocks the lead walk runs ahead: 0 with the path off. The backward always
 * walks ahead: its gradient map (two 12-byte slots for each cell a batch may
 * touch, up to the array's size) outgrows the caches where the array does
 * not. The forward only for an array from the big-table size (HX_BIG_MIN): a
 * smaller one sits in the caches, and there the lead walk only adds work. */
static inline int32_t robe_lead(const robe_state *s, int backward) {
    return backward || (uint64_t)s->size * sizeof(float) >= (uint64_t)HX_BIG_MIN ? s->arr.ahead : 0;
}

/* The lead walk's block (number e) into the ring; it starts fetching the
 * block's cells (forward) or its first cell's gradient map slot (backward). */
static inline void lead_one(const robe_state *s, const int64_t *idx, robe_walk *lead, int64_t e, int64_t *ring,
                            int backward) {
    const int64_t c = walk_cell(s, lead);
    ring[e & (ROBE_RING - 1)] = c;
    if (backward) emb_table_grad_prefetch(&s->arr, c);
    else emb_prefetch(s->arr.w + c, (size_t)s->Z, 0);
    walk_next(s, idx, lead);
}

/* The cells of every block of the batch in order: fn(s, block's output offset,
 * its first cell, its length, ctx). */
static inline __attribute__((always_inline)) void robe_walk_batch(
    robe_state *s, const int64_t *idx, int64_t B, int backward, void (*fn)(robe_state *, size_t, int64_t, int32_t, void *),
    void *ctx) {
    const int32_t nb = (s->D + s->Z - 1) / s->Z, a = robe_lead(s, backward);
    const int64_t n = B * s->F * nb;
    if (!a) { /* the plain loops: rows, then their blocks */
        for (int64_t k = 0; k < B * s->F; k++) {
            const uint64_t ik = robe_id_key(s, s->offset[k % s->F] + idx[k]);
            for (int32_t b = 0, j0 = 0; j0 < s->D; b++, j0 += s->Z)
                fn(s, (size_t)k * (size_t)s->D + (size_t)j0, robe_cell(s, ik, b), block_len(s, j0), ctx);
        }
        return;
    }
    int64_t ring[ROBE_RING];
    robe_walk w = walk_start(s, idx, B), lead = w;
    for (int64_t e = 0; e < a && e < n; e++) lead_one(s, idx, &lead, e, ring, backward);
    for (int64_t e = 0; e < n; e++, walk_next(s, idx, &w)) {
        if (e + a < n) lead_one(s, idx, &lead, e + a, ring, backward);
        const int64_t c = ring[e & (ROBE_RING - 1)];
        const int32_t j0 = w.b * s->Z;
        fn(s, (size_t)w.k * (size_t)s->D + (size_t)j0, c, block_len(s, j0), ctx);
    }
}

static inline void copy_block(robe_state *s, size_t at, int64_t c, int32_t len, void *out) {
    const float *m = s->arr.w + c;
    float *o = (float *)out + at;
    for (int32_t q = 0; q < len; q++) o[q] = m[q];
}

static inline void grad_block(robe_state *s, size_t at, int64_t c, int32_t len, void *dout) {
    const float *g = (const float *)dout + at;
    for (int32_t o = 0; o < len; o++) *emb_table_grad_row(&s->arr, c + o) += g[o];
}

static void robe_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    robe_walk_batch(state, idx, B, 0, copy_block, out);
}

static void robe_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    robe_walk_batch(state, idx, B, 1, grad_block, (void *)dout);
}

static void robe_step(void *state, int64_t t) {
    robe_state *s = state;
    emb_table_step(&s->arr, &s->opt, t);
}

static void robe_bytes(const void *state, emb_bytes *out) {
    const robe_state *s = state;
    robe_account(&s->spec, s->size, out);
}

/* One tensor: the shared array, a (size, 1) table. */
static emb_table *robe_table_at(void *state, int i, const char **name) {
    *name = "array";
    return i == 0 ? &((robe_state *)state)->arr : NULL;
}

EMB_TABLES_TENSORS(robe, robe_table_at)

const emb_method emb_method_robe = {
    .api_version = EMB_API_VERSION,
    .name = "robe",
    .desc = "ROBE: one shared array, rows read as blocks of Z cells at hashed offsets",
    .cite = "Desai, Chou, Shrivastava, Random Offset Block Embedding (ROBE), MLSys 2022",
    .params = robe_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = robe_plan,
    .create = robe_create,
    .destroy = robe_destroy,
    .forward = robe_forward,
    .backward = robe_backward,
    .step = robe_step,
    .bytes = robe_bytes,
    .tensors = robe_tensors,
    .grad = robe_grad,
};
