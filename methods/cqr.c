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
 * Clustering (cce.py CCEmbedding.cluster), per column j, at scheduled steps:
 *   1. sample S = min(n, sample_factor * k) ids without replacement, expand
 *      v_i = A_j[a_j(i)] + B_j[b_j(i)];
 *   2. k-means (k-means++ then Lloyd, methods/common/kmeans.c) on them;
 *   3. reassign every id to the centroid nearest its pre-clustering vector;
 *   4. redraw b_j, once, BEFORE the reassignment loop [R: fixes the reference,
 *      which redraws inside its batched loop so earlier batches' residuals land in
 *      rows that are later overwritten];
 *   5. A_j <- centroids, B_j[r] <- mean residual v_i - A_j[a_j(i)] over ids with
 *      b_j(i) = r;
 *   6. continue; optimizer state kept (as the reference) unless reset_optim = 1.
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
 *     * total_steps (the reference clusters after each epoch < floor(0.75 epochs));
 *   - a residual row no id points at becomes 0 (the reference divides 0 by 0);
 *   - k-means niter default 25 with early stop (reference: 100 FAISS iterations);
 *   - the sample is drawn by reservoir sampling (O(S) memory) and capped at
 *     `max_sample` (default 65536, never below k) so CPU k-means stays bounded
 *     (FAISS itself subsamples to 256 points per centroid; the reference lifts
 *     that cap); nearest-centroid queries use an exact k-d tree (kmeans.c).
 * Bytes (per compressed field, P(n) = 8*ceil(n*c*bits/64)):
 *   inference = infer_params 8*k*d  +  infer_index P(n) * (stored b ? 2 : 1)
 *   training  = codebooks + optimizer state + gradient slots + pointers + the
 *               clustering scratch peak (largest field), see cqr_scratch_bytes.
 */
#include <math.h>

#include "cqr.h"
#include "methods/common/kmeans.h"
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
    [P_EVERY] = {.name = "cluster_every", .type = EMB_P_INT, .min = 0, .max = 1e15, .def = 0,
                 .help = "cluster every this many steps (0: every epoch)"},
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

typedef struct cqr_field {
    int64_t   n;      /* N_f ids */
    int64_t   k;      /* rows per codebook; 0 = uncompressed field */
    int       bits;   /* bits per stored pointer */
    emb_table A, B;   /* (c*k, d/c) each, row j*k + r = row r of column j; full: A (n, d) */
    uint64_t *pa;     /* packed a pointers, id-major (n, c) */
    uint64_t *pb;     /* packed b pointers (stored sketch) or NULL */
    uint64_t *bseed;  /* (c) hash seeds of b (hash sketch) */
    int64_t   rounds; /* clusterings done */
} cqr_field;

typedef struct cqr_state {
    int32_t    F, D, c, dc;
    int        stored, reset;
    int64_t    every, until, niter, sample_factor, max_sample;
    uint64_t   seed;
    opt_cfg    opt;
    cqr_field *fl;          /* (F) */
    int64_t   *k;           /* (F) the layout: fl[f].k */
    emb_spec   spec;        /* kept for cqr_account */
} cqr_state;

/* ---- packed pointers ---- */

static uint64_t ptr_words(int64_t n, int32_t c, int bits) {
    return ((uint64_t)n * (uint64_t)c * (uint64_t)bits + 63) / 64;
}

static inline uint32_t ptr_get(const uint64_t *w, int bits, uint64_t q) {
    uint64_t pos = q * (uint64_t)bits, i = pos >> 6, off = pos & 63;
    uint64_t v = w[i] >> off;
    if (off + (uint64_t)bits > 64) v |= w[i + 1] << (64 - off);
    return (uint32_t)(v & ((1ull << bits) - 1));
}

static inline void ptr_set(uint64_t *w, int bits, uint64_t q, uint32_t v) {
    uint64_t pos = q * (uint64_t)bits, i = pos >> 6, off = pos & 63, mask = (1ull << bits) - 1;
    w[i] = (w[i] & ~(mask << off)) | ((uint64_t)v << off);
    if (off + (uint64_t)bits > 64) {
        uint64_t hi = 64 - off;
        w[i + 1] = (w[i + 1] & ~(mask >> hi)) | ((uint64_t)v >> hi);
    }
}

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

static double field_infer_bytes(const emb_spec *spec, int64_t n, int64_t k) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS];
    int bits = ptr_bits(k, spec->pv[P_PACKED] != 0);
    double ptr = 8.0 * (double)ptr_words(n, c, bits) * (sketch_stored(spec) ? 2 : 1);
    return 8.0 * (double)k * spec->dim + ptr;
}

/* Total inference bytes when every compressed field uses factor s (k ~ s * N). */
static double layout_bytes(const emb_spec *spec, double s, int64_t *k) {
    int64_t threshold = (int64_t)spec->pv[P_THRESHOLD], fixed = spec->pv[P_K] == EMB_AUTO ? 0 : (int64_t)spec->pv[P_K];
    double total = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (n <= threshold) {
            k[f] = 0;
            total += 4.0 * (double)n * spec->dim;
        } else {
            k[f] = big_rows_for(n, s, fixed);
            total += field_infer_bytes(spec, n, k[f]);
        }
    }
    return total;
}

/* cqr_layout: k per field (0 = uncompressed); an unreachable ratio names the range. */
static hx_status cqr_layout(const emb_spec *spec, int64_t *k, char *err, size_t errlen) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS];
    if (spec->dim % c != 0)
        return hx_error(HX_ERR_PARAM, err, errlen, "cqr: dim %d is not divisible by columns %d", spec->dim, c);
    double full = emb_full_bytes(spec);
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
        layout_bytes(spec, fabs(ra - spec->ratio) <= fabs(rb - spec->ratio) ? a : b, k);
    } else {
        layout_bytes(spec, 0, k);
    }
    double bytes = 0;
    for (int32_t f = 0; f < spec->n_fields; f++)
        bytes += k[f] ? field_infer_bytes(spec, spec->card[f], k[f]) : 4.0 * (double)spec->card[f] * spec->dim;
    if (!emb_plan_within(spec->ratio, full / bytes)) return emb_plan_unreachable(spec, "cqr", lo, hi, err, errlen);
    return HX_OK;
}

/* k-means sample size: min(n, sample_factor * k), capped at max(max_sample, k). */
static int64_t sample_size(int64_t n, int64_t k, int64_t sample_factor, int64_t max_sample) {
    int64_t S = n < sample_factor * k ? n : sample_factor * k;
    if (max_sample > 0 && S > max_sample) S = max_sample > k ? max_sample : k;
    return S < n ? S : n;
}

/* Scratch bytes of clustering one column of a field (see cqr_cluster_field). */
static uint64_t cqr_scratch_bytes(int64_t n, int64_t k, int32_t dc, int bits, int32_t c, int stored,
                                  int64_t sample_factor, int64_t max_sample) {
    int64_t S = sample_size(n, k, sample_factor, max_sample);
    uint64_t b = 8ull * (uint64_t)S                          /* sample ids */
                 + 4ull * (uint64_t)S * (uint64_t)dc         /* sample vectors */
                 + 4ull * (uint64_t)S                        /* sample assignments */
                 + 4ull * (uint64_t)k * (uint64_t)dc         /* centroids */
                 + 8ull * (uint64_t)k * (uint64_t)dc + 8ull * (uint64_t)k /* residual sums, counts */
                 + 4ull * (uint64_t)dc                       /* one expanded vector */
                 + kmeans_tree_bytes((int32_t)k);            /* nearest-centroid tree */
    if (S > k) b += kmeans_scratch_bytes(S, dc, (int32_t)k);
    if (stored) b += 8ull * ptr_words(n, c, bits); /* old b pointers */
    return b;
}

static int clustering_enabled(const emb_spec *spec) {
    return spec->pv[P_UNTIL] > 0 && (spec->pv[P_EVERY] > 0 || spec->steps_per_epoch > 0);
}

static int64_t table_cap(const emb_spec *spec, int64_t rows, int32_t per_row) {
    int64_t cap = (int64_t)spec->batch * per_row;
    return cap < rows ? cap : rows;
}

static void cqr_index_desc(const emb_spec *spec, const int64_t *k, char *buf, size_t n);

/* The accounting of plan() and bytes() for layout k: what create() allocates
 * (bytes are static: clustering rewrites values only), plus the clustering
 * scratch peak (the largest field's) when clustering is on. */
static void cqr_account(const emb_spec *spec, const int64_t *k, emb_bytes *out) {
    int32_t c = (int32_t)spec->pv[P_COLUMNS], dc = spec->dim / c, stored = sketch_stored(spec);
    uint64_t scratch = 0;
    size_t sw = opt_state_floats(spec->opt.kind, (size_t)dc);
    memset(out, 0, sizeof *out);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t n = spec->card[f];
        if (!k[f]) {
            emb_fields_predict_add(&(emb_spec){.n_fields = 1, .card = &spec->card[f], .dim = spec->dim,
                                               .batch = spec->batch, .opt = spec->opt},
                                   &n, out);
            continue;
        }
        int bits = ptr_bits(k[f], spec->pv[P_PACKED] != 0);
        uint64_t rows = (uint64_t)c * (uint64_t)k[f], ptr = 8ull * ptr_words(n, c, bits) * (stored ? 2 : 1);
        out->infer_params += 2 * 4ull * rows * (uint64_t)dc;
        out->train_params += 2 * 4ull * rows * (uint64_t)dc;
        out->train_optim += 2 * 4ull * rows * sw;
        out->train_other += 2 * emb_table_predict_grad(table_cap(spec, (int64_t)rows, c), dc);
        out->infer_index += ptr;
        out->train_other += ptr;
        uint64_t sc = cqr_scratch_bytes(n, k[f], dc, bits, c, stored, (int64_t)spec->pv[P_SAMPLE],
                                        (int64_t)spec->pv[P_MAXS]);
        if (sc > scratch) scratch = sc;
    }
    if (clustering_enabled(spec)) out->train_other += scratch;
    cqr_index_desc(spec, k, out->index_desc, sizeof out->index_desc);
}

static void cqr_index_desc(const emb_spec *spec, const int64_t *k, char *buf, size_t n) {
    int bits = 0;
    for (int32_t f = 0; f < spec->n_fields; f++)
        if (k[f]) {
            int b = ptr_bits(k[f], spec->pv[P_PACKED] != 0);
            if (b > bits) bits = b;
        }
    const char *b = sketch_stored(spec) ? "a,b" : "a";
    if (!bits) snprintf(buf, n, "none (no field compressed)");
    else if (spec->pv[P_PACKED] != 0) snprintf(buf, n, "%s ptrs packed <=%d-bit%s", b, bits, sketch_stored(spec) ? "" : "; b hashed");
    else snprintf(buf, n, "%s ptrs uint%d%s", b, bits, sketch_stored(spec) ? "" : "; b hashed");
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
        snprintf(out->knobs, sizeof out->knobs, "%d of %d fields clustered, c=%d, largest k=%lld; params-only ratio %.3g",
                 nbig, spec->n_fields, (int)spec->pv[P_COLUMNS], (long long)maxk,
                 emb_full_bytes(spec) / (double)(out->bytes.infer_params ? out->bytes.infer_params : 1));
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

static uint64_t column_seed(uint64_t seed, int32_t f, int32_t j, int64_t round) {
    return hx_splitmix64(seed ^ hx_splitmix64(((uint64_t)f << 40) ^ ((uint64_t)j << 20) ^ (uint64_t)round));
}

static inline uint32_t cqr_b(const cqr_state *s, const cqr_field *fl, int64_t i, int32_t j) {
    if (fl->pb) return ptr_get(fl->pb, fl->bits, (uint64_t)i * (uint64_t)s->c + (uint64_t)j);
    return (uint32_t)hx_hash_index((uint64_t)i, fl->bseed[j], (uint64_t)fl->k);
}

static inline uint32_t cqr_a(const cqr_state *s, const cqr_field *fl, int64_t i, int32_t j) {
    return ptr_get(fl->pa, fl->bits, (uint64_t)i * (uint64_t)s->c + (uint64_t)j);
}

/* Field f of layout k: an uncompressed table (k = 0, DLRM init as full.c [R]), or
 * codebooks A, B U(+-d^-1/2) (cce.py reset_parameters) and uniform pointers. */
static hx_status cqr_field_init(cqr_state *s, const emb_spec *spec, int32_t f, hx_rng *rng, char *err, size_t errlen) {
    cqr_field *fl = &s->fl[f];
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
    int64_t rows = (int64_t)s->c * fl->k;
    fl->bits = ptr_bits(fl->k, spec->pv[P_PACKED] != 0);
    uint64_t words = ptr_words(fl->n, s->c, fl->bits);
    rc = emb_table_init(&fl->A, rows, s->dc, table_cap(spec, rows, s->c), spec->opt.kind, err, errlen);
    if (rc == HX_OK) rc = emb_table_init(&fl->B, rows, s->dc, table_cap(spec, rows, s->c), spec->opt.kind, err, errlen);
    if (rc != HX_OK) return rc;
    float a = 1.0f / sqrtf((float)s->D);
    emb_table_fill_uniform(&fl->A, rng, -a, a);
    emb_table_fill_uniform(&fl->B, rng, -a, a);
    fl->pa = hx_calloc(words, sizeof(uint64_t));
    fl->bseed = hx_calloc((size_t)s->c, sizeof(uint64_t));
    if (s->stored) fl->pb = hx_calloc(words, sizeof(uint64_t));
    if (!fl->pa || !fl->bseed || (s->stored && !fl->pb))
        return hx_error(HX_ERR_NOMEM, err, errlen, "cqr: out of memory for the pointers of field %d", f);
    for (uint64_t q = 0; q < (uint64_t)fl->n * (uint64_t)s->c; q++) {
        ptr_set(fl->pa, fl->bits, q, (uint32_t)hx_rng_below(rng, (uint64_t)fl->k));
        if (fl->pb) ptr_set(fl->pb, fl->bits, q, (uint32_t)hx_rng_below(rng, (uint64_t)fl->k));
    }
    for (int32_t j = 0; j < s->c; j++) fl->bseed[j] = column_seed(spec->seed, f, j, 0);
    return HX_OK;
}

static hx_status cqr_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    cqr_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = HX_OK;
    s->F = spec->n_fields;
    s->k = hx_calloc((size_t)s->F, sizeof(int64_t));
    s->fl = hx_calloc((size_t)s->F, sizeof(cqr_field));
    if (!s->k || !s->fl) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = cqr_layout(spec, s->k, err, errlen)) != HX_OK || (rc = emb_spec_keep(&s->spec, spec, err, errlen)) != HX_OK)
        goto fail;
    s->D = spec->dim;
    s->c = (int32_t)spec->pv[P_COLUMNS];
    s->dc = s->D / s->c;
    s->stored = sketch_stored(spec);
    s->reset = spec->pv[P_RESET] != 0;
    s->every = spec->pv[P_EVERY] > 0 ? (int64_t)spec->pv[P_EVERY] : spec->steps_per_epoch;
    s->until = clustering_enabled(spec) ? (int64_t)floor(spec->pv[P_UNTIL] * (double)spec->total_steps) : 0;
    s->niter = (int64_t)spec->pv[P_NITER];
    s->sample_factor = (int64_t)spec->pv[P_SAMPLE];
    s->max_sample = (int64_t)spec->pv[P_MAXS];
    s->seed = spec->seed;
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
    const int32_t F = s->F, D = s->D, dc = s->dc;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            const cqr_field *fl = &s->fl[f];
            int64_t i = idx[b * F + f];
            float *o = out + ((size_t)b * F + f) * D;
            HX_ASSERT(i >= 0 && i < fl->n);
            if (!fl->k) {
                memcpy(o, emb_table_row(&fl->A, i), (size_t)D * sizeof(float));
                continue;
            }
            for (int32_t j = 0; j < s->c; j++) {
                const float *pa = emb_table_row(&fl->A, j * fl->k + cqr_a(s, fl, i, j));
                const float *pb = emb_table_row(&fl->B, j * fl->k + cqr_b(s, fl, i, j));
                for (int32_t e = 0; e < dc; e++) o[j * dc + e] = pa[e] + pb[e];
            }
        }
}

/* dout (B, F, D) -> gradients of the referenced codebook rows (summed). */
static void cqr_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    cqr_state *s = state;
    const int32_t F = s->F, D = s->D, dc = s->dc;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            cqr_field *fl = &s->fl[f];
            int64_t i = idx[b * F + f];
            const float *d = dout + ((size_t)b * F + f) * D;
            if (!fl->k) {
                float *g = emb_table_grad_row(&fl->A, i);
                for (int32_t e = 0; e < D; e++) g[e] += d[e];
                continue;
            }
            for (int32_t j = 0; j < s->c; j++) {
                float *ga = emb_table_grad_row(&fl->A, j * fl->k + cqr_a(s, fl, i, j));
                for (int32_t e = 0; e < dc; e++) ga[e] += d[j * dc + e];
                float *gb = emb_table_grad_row(&fl->B, j * fl->k + cqr_b(s, fl, i, j));
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

/* ---- clustering (cce.py CCEmbedding.cluster, with the b redraw moved out of the loop) ---- */

/* Reservoir sampling (Vitter's algorithm R): S of n ids, uniform without replacement. */
static void sample_ids(hx_rng *rng, int64_t n, int64_t S, int64_t *ids) {
    for (int64_t i = 0; i < S; i++) ids[i] = i;
    for (int64_t i = S; i < n; i++) {
        uint64_t r = hx_rng_below(rng, (uint64_t)(i + 1));
        if (r < (uint64_t)S) ids[r] = i;
    }
}

static hx_status cqr_cluster_field(cqr_state *s, int32_t f, char *err, size_t errlen) {
    cqr_field *fl = &s->fl[f];
    const int32_t c = s->c, dc = s->dc;
    const int64_t n = fl->n, k = fl->k, S = sample_size(n, k, s->sample_factor, s->max_sample);
    const uint64_t words = ptr_words(n, c, fl->bits);
    hx_status rc = HX_OK;
    int64_t *ids = hx_malloc((size_t)S * sizeof(int64_t));
    float *vecs = hx_malloc((size_t)S * dc * sizeof(float));
    int32_t *assign = hx_malloc((size_t)S * sizeof(int32_t));
    float *C = hx_malloc((size_t)k * dc * sizeof(float));
    double *sums = hx_malloc((size_t)k * dc * sizeof(double));
    int64_t *count = hx_malloc((size_t)k * sizeof(int64_t));
    float *v = hx_malloc((size_t)dc * sizeof(float));
    uint64_t *oldb = s->stored ? hx_malloc(words * sizeof(uint64_t)) : NULL;
    if (!ids || !vecs || !assign || !C || !sums || !count || !v || (s->stored && !oldb)) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "cqr: out of memory clustering field %d", f);
        goto done;
    }
    fl->rounds++;
    for (int32_t j = 0; j < c; j++) {
        hx_rng rng;
        hx_rng_seed(&rng, column_seed(s->seed ^ 0x636c7573746572ull, f, j, fl->rounds));
        const float *Aj = emb_table_row(&fl->A, j * k), *Bj = emb_table_row(&fl->B, j * k);
        /* 1. sample and expand */
        sample_ids(&rng, n, S, ids);
        for (int64_t q = 0; q < S; q++) {
            const float *pa = Aj + (size_t)cqr_a(s, fl, ids[q], j) * dc;
            const float *pb = Bj + (size_t)cqr_b(s, fl, ids[q], j) * dc;
            for (int32_t e = 0; e < dc; e++) vecs[q * dc + e] = pa[e] + pb[e];
        }
        /* 2. k-means */
        kmeans_result kr;
        rc = kmeans_fit(vecs, S, dc, (int32_t)k, (int)s->niter, KMEANS_INIT_PP, hx_rng_u64(&rng), C, assign, &kr,
                        err, errlen);
        if (rc != HX_OK) goto done;
        kmeans_tree tree;
        if ((rc = kmeans_tree_build(&tree, C, (int32_t)k, dc, err, errlen)) != HX_OK) goto done;
        /* 4. redraw b_j once, before the reassignment loop */
        uint64_t oldseed = fl->bseed[j];
        if (s->stored) {
            memcpy(oldb, fl->pb, words * sizeof(uint64_t));
            for (int64_t i = 0; i < n; i++)
                ptr_set(fl->pb, fl->bits, (uint64_t)i * c + j, (uint32_t)hx_rng_below(&rng, (uint64_t)k));
        } else {
            fl->bseed[j] = column_seed(s->seed, f, j, fl->rounds);
        }
        /* 3. reassign every id from its pre-clustering vector; 5. residual sums */
        memset(sums, 0, (size_t)k * dc * sizeof(double));
        memset(count, 0, (size_t)k * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            uint64_t q = (uint64_t)i * c + j;
            uint32_t bo = s->stored ? ptr_get(oldb, fl->bits, q) : (uint32_t)hx_hash_index((uint64_t)i, oldseed, (uint64_t)k);
            const float *pa = Aj + (size_t)ptr_get(fl->pa, fl->bits, q) * dc, *pb = Bj + (size_t)bo * dc;
            for (int32_t e = 0; e < dc; e++) v[e] = pa[e] + pb[e];
            int32_t an = kmeans_tree_nearest(&tree, v, NULL);
            ptr_set(fl->pa, fl->bits, q, (uint32_t)an);
            uint32_t bn = cqr_b(s, fl, i, j);
            double *sm = sums + (size_t)bn * dc;
            for (int32_t e = 0; e < dc; e++) sm[e] += (double)v[e] - C[(size_t)an * dc + e];
            count[bn]++;
        }
        kmeans_tree_free(&tree);
        /* 5. re-initialise: A_j <- centroids, B_j <- mean residuals (0 where no id points) */
        float *Aw = emb_table_row(&fl->A, j * k), *Bw = emb_table_row(&fl->B, j * k);
        memcpy(Aw, C, (size_t)k * dc * sizeof(float));
        for (int64_t r = 0; r < k; r++)
            for (int32_t e = 0; e < dc; e++)
                Bw[r * dc + e] = count[r] ? (float)(sums[r * dc + e] / (double)count[r]) : 0.0f;
        /* 6. optional optimizer-state reset of the rewritten rows [R] */
        if (s->reset && fl->A.state_w) {
            memset(fl->A.state + (size_t)j * k * fl->A.state_w, 0, (size_t)k * fl->A.state_w * sizeof(float));
            memset(fl->B.state + (size_t)j * k * fl->B.state_w, 0, (size_t)k * fl->B.state_w * sizeof(float));
        }
    }
done:
    hx_free(ids);
    hx_free(vecs);
    hx_free(assign);
    hx_free(C);
    hx_free(sums);
    hx_free(count);
    hx_free(v);
    hx_free(oldb);
    return rc;
}

hx_status cqr_cluster(void *state, char *err, size_t errlen) {
    cqr_state *s = state;
    for (int32_t f = 0; f < s->F; f++) {
        if (!s->fl[f].k) continue;
        hx_status rc = cqr_cluster_field(s, f, err, errlen);
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
    HX_ASSERT(f >= 0 && f < s->F && s->fl[f].k && i >= 0 && i < s->fl[f].n && j >= 0 && j < s->c);
    return cqr_a(s, &s->fl[f], i, j);
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
        cqr_field *fl = &s->fl[f];
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
