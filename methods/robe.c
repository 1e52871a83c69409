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
static int64_t robe_loc(const robe_state *s, int64_t x, int64_t b) {
    uint64_t key = (s->A * ((uint64_t)x % ROBE_P) % ROBE_P + s->B * (uint64_t)b % ROBE_P + s->C) % ROBE_P;
    return (int64_t)(key % (uint64_t)(s->size - s->Z + 1));
}

static void robe_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    robe_state *s = state;
    for (int64_t k = 0; k < B * s->F; k++) {
        int64_t x = s->offset[k % s->F] + idx[k];
        float *e = out + (size_t)k * s->D;
        for (int32_t j0 = 0; j0 < s->D; j0 += s->Z) {
            const float *m = s->arr.w + robe_loc(s, x, j0 / s->Z);
            for (int32_t o = 0; o < s->Z && j0 + o < s->D; o++) e[j0 + o] = m[o];
        }
    }
}

static void robe_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    robe_state *s = state;
    for (int64_t k = 0; k < B * s->F; k++) {
        int64_t x = s->offset[k % s->F] + idx[k];
        const float *g = dout + (size_t)k * s->D;
        for (int32_t j0 = 0; j0 < s->D; j0 += s->Z) {
            int64_t loc = robe_loc(s, x, j0 / s->Z);
            for (int32_t o = 0; o < s->Z && j0 + o < s->D; o++) *emb_table_grad_row(&s->arr, loc + o) += g[j0 + o];
        }
    }
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
