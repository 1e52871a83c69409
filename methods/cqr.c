/* cqr.c: CQR / CCE, clustered compositional embeddings.
 *
 * Paper: Tsang & Ahle, "Clustering the Sketch: Dynamic Compression for Embedding
 * Tables", NeurIPS 2023 (arXiv 2210.05974; called CQR in the ICLR'23 draft).
 * Authors' code read (not copied): thomasahle/cce cce/cce.py, cce/_tools.py,
 * examples/movielens.py.
 *
 * Structure per compressed field (follows the code exactly):
 *   c columns (`columns`, default 4 as the README), each d/c wide, each with a
 *   clustered codebook A_j (k x d/c) and a random-sketch codebook B_j (k x d/c);
 *   per id and column two pointers a_j(i), b_j(i) in [0, k);
 *   e_i = concat_j ( A_j[a_j(i)] + B_j[b_j(i)] )   (the sum, as cce.py; not the mean
 *   of the project page); init U(+-d^-1/2) for both codebooks, a and b uniform.
 * Clustering (cce.py CCEmbedding.cluster) at scheduled steps, column by column:
 *   k-means on a sample of the expanded vectors, every id reassigned to its
 *   nearest centroid, b redrawn, A <- centroids, B <- mean residuals; the steps
 *   and their [R] deviations are in methods/common/cce.h.
 * Our choices [R]:
 *   - b is, by default, a seeded hash h_j(i) (`sketch: hash`, 0 bytes; a redraw is a
 *     new seed). `sketch: stored` keeps explicit b arrays as the reference code does.
 *     a must be stored: it is data-dependent after the first clustering.
 *   - pointers are bit-packed at ceil(log2 k) bits (`packed: 1`), or uint16 when
 *     k <= 65536 else uint32 (`packed: 0`); emb_bytes.index_desc says which.
 *   - k is chosen from the ratio COUNTING the stored pointers: one factor for all
 *     compressed fields (k_f ~ N_f), k_f <= ceil(N_f/2); fields with N_f <=
 *     threshold (200, as DLRM's --qr-threshold) stay full (DLRM init).
 *   - schedule: every `cluster_every` steps (0: every epoch) while t <= cluster_until
 *     * total_steps (the reference clusters after each epoch < floor(0.75 epochs)).
 *     The default, auto, is every epoch when an epoch ends by then, as the
 *     reference; a shorter run (under 4/3 epochs: one epoch of Criteo, the default
 *     sweep's half) would never cluster that way, so it clusters three times by
 *     then, at until/3, 2 until/3 and until (the paper re-clustered a few times
 *     early in its Criteo runs; its exact schedule is not published);
 *   - a residual row no id points at becomes 0 (the reference divides 0 by 0);
 *   - k-means niter default 25 with early stop (reference: 100 FAISS iterations);
 *   - the k-means sample is drawn by reservoir sampling (O(S) memory) and capped at
 *     `max_sample` (default 65536, never below k) so CPU k-means stays bounded
 *     (FAISS itself subsamples to 256 points per centroid; the reference lifts
 *     that cap); nearest-centroid queries use an exact k-d tree (kmeans.c).
 * Bytes (per compressed field, P(n) = 8*ceil(n*c*bits/64)):
 *   inference = infer_params 8*k*d  +  infer_index P(n) * (stored b ? 2 : 1)
 *   training  = codebooks + optimizer state + gradient slots + pointers + the
 *               clustering scratch peak (largest field), see cce_scratch_bytes.
 */
#include <math.h>

#include "cqr.h"
#include "methods/common/cce.h"
#include "methods/common/table.h"

enum { SKETCH_HASH, SKETCH_STORED, SKETCH_KINDS };
static const char *const cqr_sketch_kinds[] = {[SKETCH_HASH] = "hash", [SKETCH_STORED] = "stored",
                                               [SKETCH_KINDS] = NULL};

enum { P_K, P_COLUMNS, P_THRESHOLD, P_SKETCH, P_PACKED, P_EVERY, P_UNTIL, P_NITER, P_SAMPLE, P_MAXS, P_RESET, P_COUNT };
static const emb_param_desc cqr_params[] = {
    [P_K] = {.name = "k", .type = EMB_P_INT, .min = 1, .max = 1e9, .def = EMB_AUTO, .auto_ok = 1,
             .help = "rows per codebook (auto: from the ratio, pointers counted)"},
    [P_COLUMNS] = {.name = "columns", .type = EMB_P_INT, .min = 1, .max = 1024, .def = 4,
                   .help = "columns c (n_chunks); the dim must be divisible by c"},
    [P_THRESHOLD] = {.name = "threshold", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 200,
                     .help = "fields with at most this many rows stay uncompressed"},
    [P_SKETCH] = {.name = "sketch", .type = EMB_P_ENUM, .def = SKETCH_HASH, .choices = cqr_sketch_kinds,
                  .help = "random pointers b: seeded hash (0 bytes) or stored arrays"},
    [P_PACKED] = {.name = "packed", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 1,
                  .help = "bit-pack pointers at ceil(log2 k) bits (0: uint16/uint32)"},
    [P_EVERY] = {.name = "cluster_every", .type = EMB_P_INT, .min = 0, .max = 1e15, .def = EMB_AUTO, .auto_ok = 1,
                 .help = "cluster every this many steps (0: every epoch; auto: every epoch if one ends by "
                         "cluster_until, else three times by then)"},
    [P_UNTIL] = {.name = "cluster_until", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 0.75,
                 .help = "last clustering at this fraction of the total steps"},
    [P_NITER] = {.name = "niter", .type = EMB_P_INT, .min = 0, .max = 1000, .def = 25,
                 .help = "Lloyd iterations per k-means"},
    [P_SAMPLE] = {.name = "sample_factor", .type = EMB_P_INT, .min = 1, .max = 1e6, .def = 200,
                  .help = "k-means sample: min(n, sample_factor * k) ids per column"},
    [P_MAXS] = {.name = "max_sample", .type = EMB_P_INT, .min = 0, .max = 1e12, .def = 65536,
                .help = "cap on the k-means sample (0: none; never below k)"},
    [P_RESET] = {.name = "reset_optim", .type = EMB_P_BOOL, .min = 0, .max = 1, .def = 0,
                 .help = "zero the optimizer state of rewritten codebook rows"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(cqr_params, P_COUNT);

static int sketch_stored(const emb_spec *spec) { return (int)spec->pv[P_SKETCH] == SKETCH_STORED; }

typedef struct cqr_state {
    int32_t    F, D;
    cce_cfg    g;           /* columns c, width dc, sketch, clustering parameters */
    int64_t    every, until;
    opt_cfg    opt;
    cce_field *fl;          /* (F) */
    int64_t   *k;           /* (F) the layout: fl[f].k */
    emb_spec   spec;        /* kept for cqr_account */
} cqr_state;

/* ---- packed pointers (methods/common/bitpack.h): id-major, pointer q = i c + j ---- */

static uint64_t ptr_words(int64_t n, int32_t c, int bits) { return bitpack_words((uint64_t)n * (uint64_t)c, bits); }

static int ptr_bits(int64_t k, int packed) {
    if (!packed) return k <= 65536 ? 16 : 32;
    int b = 1;
    while (b < 32 && (1ll << b) < k) b++;
    return b;
}

/* ---- layout and bytes (shared by plan, create and bytes) ---- */

static int64_t big_rows_for(int64_t n, double s, int64_t fixed) {
    int64_t kmax = (n + 1) / 2, k = fixed > 0 ? fixed : (int64_t)llround((double)n * s);
    return k < 1 ? 1 : (k > kmax ? kmax : k);
}

static int field_bits(const emb_spec *spec, int64_t k) { return ptr_bits(k, spec->pv[P_PACKED] != 0); }

/* Stored pointers of a compressed field: a, and b with the stored sketch. */
static uint64_t field_index_bytes(const emb_spec *spec, int64_t n, int64_t k) {
    return 8ull * ptr_words(n, (int32_t)spec->pv[P_COLUMNS], field_bits(spec, k)) * (sketch_stored(spec) ? 2 : 1);
}

/* Total inference bytes when every compressed field uses factor s (k ~ s * N). */
static double layout_bytes(const emb_spec *spec, double s, int64_t *k) {
    int64_t threshold = (int64_t)spec->pv[P_THRESHOLD], fixed = spec->pv[P_K] == EMB_AUTO ? 0 : (int64_t)spec->pv[P_K];
    double total = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        k[f] = n <= threshold ? 0 : big_rows_for(n, s, fixed);
        if (!k[f]) total += 4.0 * (double)n * spec->dim;
        else total += 8.0 * (double)k[f] * spec->dim + (double)field_index_bytes(spec, n, k[f]);
    }
    return total;
}

/* cqr_layout: k per field (0 = uncompressed); an unreachable ratio names the range. */
static hx_status cqr_layout(const emb_spec *spec, int64_t *k, char *err, size_t errlen) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS];
    if (spec->dim % c != 0)
        return hx_error(HX_ERR_PARAM, err, errlen, "cqr: dim %d is not divisible by columns %d", spec->dim, c);
    double full = emb_full_bytes(spec), bytes;
    double lo = full / layout_bytes(spec, 1.0, k), hi = full / layout_bytes(spec, 0.0, k);
    if (spec->pv[P_K] == EMB_AUTO) {
        /* bisection on the factor: bytes are non-decreasing in s */
        double a = 0, b = 1, target = full / spec->ratio;
        for (int it = 0; it < 60; it++) {
            double m = 0.5 * (a + b);
            if (layout_bytes(spec, m, k) > target) b = m;
            else a = m;
        }
        double ra = full / layout_bytes(spec, a, k), rb = full / layout_bytes(spec, b, k);
        bytes = layout_bytes(spec, fabs(ra - spec->ratio) <= fabs(rb - spec->ratio) ? a : b, k);
    } else {
        bytes = layout_bytes(spec, 0, k);
    }
    if (!emb_plan_within(spec->ratio, full / bytes)) return emb_plan_unreachable(spec, "cqr", lo, hi, err, errlen);
    return HX_OK;
}

/* The clustering parameters of a spec (the state's g). */
static cce_cfg cqr_cce_cfg(const emb_spec *spec) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS];
    return (cce_cfg){.c = c, .dc = spec->dim / c, .stored = sketch_stored(spec), .reset = spec->pv[P_RESET] != 0,
                     .niter = (int64_t)spec->pv[P_NITER], .sample_factor = (int64_t)spec->pv[P_SAMPLE],
                     .max_sample = (int64_t)spec->pv[P_MAXS], .seed = spec->seed};
}

static int clustering_enabled(const emb_spec *spec) {
    return spec->pv[P_UNTIL] > 0 &&
           (spec->pv[P_EVERY] > 0 || spec->pv[P_EVERY] == EMB_AUTO || spec->steps_per_epoch > 0);
}

/* The last step that may cluster, and the steps between clusterings (0: none). */
static int64_t cqr_until(const emb_spec *spec) {
    return clustering_enabled(spec) ? (int64_t)floor(spec->pv[P_UNTIL] * (double)spec->total_steps) : 0;
}
static int64_t cqr_every(const emb_spec *spec) {
    const double e = spec->pv[P_EVERY];
    const int64_t spe = spec->steps_per_epoch, until = cqr_until(spec);
    if (e > 0) return (int64_t)e;
    if (e == 0 || (spe > 0 && spe <= until)) return spe; /* every epoch */
    return until >= 3 ? until / 3 : until;               /* auto, a short run: three times by until */
}

static int64_t table_cap(const emb_spec *spec, int64_t rows, int32_t per_row) {
    int64_t cap = (int64_t)spec->batch * per_row;
    return cap < rows ? cap : rows;
}

/* The accounting of plan() and bytes() for layout k: what create() allocates
 * (bytes are static: clustering rewrites values only), plus the clustering
 * scratch peak (the largest field's) when clustering is on. */
static void cqr_account(const emb_spec *spec, const int64_t *k, emb_bytes *out) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS], dc = spec->dim / c, bits = 0;
    uint64_t scratch = 0;
    const cce_cfg g = cqr_cce_cfg(spec);
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f], rows = (int64_t)c * k[f];
        if (!k[f]) { /* one full table */
            emb_table_account(n, spec->dim, table_cap(spec, n, 1), spec->opt.kind, out);
            continue;
        }
        for (int t = 0; t < 2; t++) emb_table_account(rows, dc, table_cap(spec, rows, c), spec->opt.kind, out); /* A, B */
        uint64_t ptr = field_index_bytes(spec, n, k[f]), sc = cce_scratch_bytes(&g, n, k[f], field_bits(spec, k[f]));
        out->infer_index += ptr;
        out->train_other += ptr;
        scratch = sc > scratch ? sc : scratch;
        bits = field_bits(spec, k[f]) > bits ? field_bits(spec, k[f]) : bits;
    }
    if (clustering_enabled(spec)) out->train_other += scratch;
    const char *ab = sketch_stored(spec) ? "a,b" : "a", *bh = sketch_stored(spec) ? "" : "; b hashed";
    if (!bits) snprintf(out->index_desc, sizeof out->index_desc, "none (no field compressed)");
    else if (spec->pv[P_PACKED] != 0)
        snprintf(out->index_desc, sizeof out->index_desc, "%s ptrs packed <=%d-bit%s", ab, bits, bh);
    else snprintf(out->index_desc, sizeof out->index_desc, "%s ptrs uint%d%s", ab, bits, bh);
}

static hx_status cqr_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t *k = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    if (!k) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = cqr_layout(spec, k, err, errlen);
    if (rc == HX_OK) {
        cqr_account(spec, k, &out->bytes);
        out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
        int64_t maxk = 0;
        int nbig = 0;
        for (int32_t f = 0; f < spec->n_fields; f++)
            if (k[f]) {
                nbig++;
                if (k[f] > maxk) maxk = k[f];
            }
        int w = snprintf(out->knobs, sizeof out->knobs,
                         "%d of %d fields clustered, c=%d, largest k=%lld; params-only ratio %.3g", nbig,
                         spec->n_fields, (int)spec->pv[P_COLUMNS], (long long)maxk,
                         emb_full_bytes(spec) / (double)(out->bytes.infer_params ? out->bytes.infer_params : 1));
        const int64_t every = cqr_every(spec), n = every > 0 ? cqr_until(spec) / every : 0; /* clusterings */
        if (nbig && spec->total_steps > 0 && w > 0 && (size_t)w < sizeof out->knobs) {
            char *o = out->knobs + w;
            const size_t left = sizeof out->knobs - (size_t)w;
            if (n > 1) snprintf(o, left, "; clusters %lld times, every %lld steps", (long long)n, (long long)every);
            else if (n == 1) snprintf(o, left, "; clusters once, at step %lld", (long long)every);
            else snprintf(o, left, "; never clusters in %lld steps", (long long)spec->total_steps);
        }
    }
    hx_free(k);
    return rc;
}

/* ---- state ---- */

static void cqr_destroy(void *state) {
    cqr_state *s = state;
    if (!s) return;
    if (s->fl)
        for (int32_t f = 0; f < s->F; f++) {
            emb_table_free(&s->fl[f].A);
            emb_table_free(&s->fl[f].B);
            hx_free(s->fl[f].pa);
            hx_free(s->fl[f].pb);
            hx_free(s->fl[f].bseed);
        }
    hx_free(s->fl);
    hx_free(s->k);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

/* Field f of layout k: an uncompressed table (k = 0, DLRM init as full.c [R]), or
 * codebooks A, B U(+-d^-1/2) (cce.py reset_parameters) and uniform pointers. */
static hx_status cqr_field_init(cqr_state *s, const emb_spec *spec, int32_t f, hx_rng *rng, char *err, size_t errlen) {
    cce_field *fl = &s->fl[f];
    fl->n = spec->card[f];
    fl->k = s->k[f];
    hx_status rc;
    if (!fl->k) {
        rc = emb_table_init(&fl->A, fl->n, s->D, table_cap(spec, fl->n, 1), spec->opt.kind, err, errlen);
        if (rc != HX_OK) return rc;
        float r = sqrtf(1.0f / (float)fl->n);
        emb_table_fill_uniform(&fl->A, rng, -r, r);
        return HX_OK;
    }
    int64_t rows = (int64_t)s->g.c * fl->k;
    fl->bits = ptr_bits(fl->k, spec->pv[P_PACKED] != 0);
    uint64_t words = ptr_words(fl->n, s->g.c, fl->bits);
    rc = emb_table_init(&fl->A, rows, s->g.dc, table_cap(spec, rows, s->g.c), spec->opt.kind, err, errlen);
    if (rc == HX_OK) rc = emb_table_init(&fl->B, rows, s->g.dc, table_cap(spec, rows, s->g.c), spec->opt.kind, err, errlen);
    if (rc != HX_OK) return rc;
    float a = 1.0f / sqrtf((float)s->D);
    emb_table_fill_uniform(&fl->A, rng, -a, a);
    emb_table_fill_uniform(&fl->B, rng, -a, a);
    fl->pa = hx_calloc(words, sizeof(uint64_t));
    fl->bseed = hx_calloc((size_t)s->g.c, sizeof(uint64_t));
    if (s->g.stored) fl->pb = hx_calloc(words, sizeof(uint64_t));
    if (!fl->pa || !fl->bseed || (s->g.stored && !fl->pb))
        return hx_error(HX_ERR_NOMEM, err, errlen, "cqr: out of memory for the pointers of field %d", f);
    for (uint64_t q = 0; q < (uint64_t)fl->n * (uint64_t)s->g.c; q++) {
        bitpack_set(fl->pa, fl->bits, q, (uint32_t)hx_rng_below(rng, (uint64_t)fl->k));
        if (fl->pb) bitpack_set(fl->pb, fl->bits, q, (uint32_t)hx_rng_below(rng, (uint64_t)fl->k));
    }
    for (int32_t j = 0; j < s->g.c; j++) fl->bseed[j] = cce_column_seed(spec->seed, f, j, 0);
    return HX_OK;
}

static hx_status cqr_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    cqr_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = HX_OK;
    s->F = spec->n_fields;
    s->k = hx_calloc((size_t)s->F, sizeof(int64_t));
    s->fl = hx_calloc((size_t)s->F, sizeof(cce_field));
    if (!s->k || !s->fl) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = cqr_layout(spec, s->k, err, errlen)) != HX_OK || (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    s->D = spec->dim;
    s->g = cqr_cce_cfg(spec);
    s->every = cqr_every(spec);
    s->until = cqr_until(spec);
    s->opt = spec->opt;
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    for (int32_t f = 0; f < s->F; f++)
        if ((rc = cqr_field_init(s, spec, f, &rng, err, errlen)) != HX_OK) goto fail;
    *state = s;
    return HX_OK;
fail:
    cqr_destroy(s);
    return rc;
}

/* ---- forward / backward ---- */

/* idx (B, F) -> out (B, F, D): per column A_j[a_j(i)] + B_j[b_j(i)]. */
static void cqr_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    cqr_state *s = state;
    const int32_t F = s->F, D = s->D, dc = s->g.dc;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            const cce_field *fl = &s->fl[f];
            int64_t i = idx[b * F + f];
            float *o = out + ((size_t)b * F + f) * D;
            HX_ASSERT(i >= 0 && i < fl->n);
            if (!fl->k) {
                memcpy(o, emb_table_row(&fl->A, i), (size_t)D * sizeof(float));
                continue;
            }
            for (int32_t j = 0; j < s->g.c; j++) {
                const float *pa = emb_table_row(&fl->A, j * fl->k + cce_a(fl, s->g.c, i, j));
                const float *pb = emb_table_row(&fl->B, j * fl->k + cce_b(fl, s->g.c, i, j));
                for (int32_t e = 0; e < dc; e++) o[j * dc + e] = pa[e] + pb[e];
            }
        }
}

/* dout (B, F, D) -> gradients of the referenced codebook rows (summed). */
static void cqr_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    cqr_state *s = state;
    const int32_t F = s->F, D = s->D, dc = s->g.dc;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            cce_field *fl = &s->fl[f];
            int64_t i = idx[b * F + f];
            const float *d = dout + ((size_t)b * F + f) * D;
            if (!fl->k) {
                float *g = emb_table_grad_row(&fl->A, i);
                for (int32_t e = 0; e < D; e++) g[e] += d[e];
                continue;
            }
            for (int32_t j = 0; j < s->g.c; j++) {
                float *ga = emb_table_grad_row(&fl->A, j * fl->k + cce_a(fl, s->g.c, i, j));
                for (int32_t e = 0; e < dc; e++) ga[e] += d[j * dc + e];
                float *gb = emb_table_grad_row(&fl->B, j * fl->k + cce_b(fl, s->g.c, i, j));
                for (int32_t e = 0; e < dc; e++) gb[e] += d[j * dc + e];
            }
        }
}

static void cqr_step(void *state, int64_t t) {
    cqr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        emb_table_step(&s->fl[f].A, &s->opt, t);
        if (s->fl[f].k) emb_table_step(&s->fl[f].B, &s->opt, t);
    }
}

/* ---- clustering (methods/common/cce.c) and test hooks ---- */

hx_status cqr_cluster(void *state, char *err, size_t errlen) {
    cqr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        if (!s->fl[f].k) continue;
        hx_status rc = cce_cluster_field(&s->fl[f], &s->g, f, err, errlen);
        if (rc != HX_OK) return rc;
    }
    return HX_OK;
}

static hx_status cqr_on_step(void *state, int64_t t, char *err, size_t errlen) {
    cqr_state *s = state;
    if (s->every <= 0 || t % s->every != 0 || t > s->until) return HX_OK;
    return cqr_cluster(state, err, errlen);
}

uint32_t cqr_pointer_a(const void *state, int32_t f, int64_t i, int32_t j) {
    const cqr_state *s = state;
    HX_ASSERT(f >= 0 && f < s->F && s->fl[f].k && i >= 0 && i < s->fl[f].n && j >= 0 && j < s->g.c);
    return cce_a(&s->fl[f], s->g.c, i, j);
}

/* ---- accounting and test hooks ---- */

static void cqr_bytes(const void *state, emb_bytes *out) {
    const cqr_state *s = state;
    cqr_account(&s->spec, s->k, out);
}

/* The i-th trainable table: per field A (the full table of an uncompressed
 * field), then B if the field is compressed. */
static emb_table *cqr_table_at(void *state, int i, const char **name) {
    cqr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        cce_field *fl = &s->fl[f];
        if (i-- == 0) {
            *name = fl->k ? "A" : "full";
            return &fl->A;
        }
        if (fl->k && i-- == 0) {
            *name = "B";
            return &fl->B;
        }
    }
    return NULL;
}

EMB_TABLES_TENSORS(cqr, cqr_table_at)

const emb_method emb_method_cqr = {
    .api_version = EMB_API_VERSION,
    .name = "cqr",
    .alias = "cce",
    .desc = "clustered compositional embeddings: per column clustered + hashed codebooks, re-clustered in training",
    .cite = "Tsang & Ahle, Clustering the Sketch: Dynamic Compression for Embedding Tables, NeurIPS 2023",
    .params = cqr_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE, /* bytes are static: clustering rewrites values only */
    .plan = cqr_plan,
    .create = cqr_create,
    .destroy = cqr_destroy,
    .forward = cqr_forward,
    .backward = cqr_backward,
    .step = cqr_step,
    .on_step = cqr_on_step,
    .bytes = cqr_bytes,
    .tensors = cqr_tensors,
    .grad = cqr_grad,
};
