/* alpt.c: ALPT, adaptive low-precision training of the embedding table.
 *
 * Paper: Li, Qu, Wen, Zhang, Wang, Tang, Zhang, Shao, Lin, "Adaptive Low-Precision
 * Training for Embeddings in Click-Through Rate Prediction", AAAI 2023. We read the
 * implementation in Hetu's embedding-compression benchmark (Hsword/Hetu
 * tools/EmbeddingMemoryCompression: methods/layers/alpt.py, methods/scheduler/alpt.py
 * and the kernels they call). None of it was copied.
 *
 * What follows the paper and the reference:
 *   - every row r of field f is stored as D signed integers q (int8 or int16:
 *     `bits`) and one learnable fp32 step Delta_r; the embedding is q * Delta_r
 *     (symmetric: no offset, the reference's middle = 0); there is no fp32 table;
 *   - forward de-quantises; backward gives the de-quantised row its gradient
 *     (straight-through), duplicates in a batch summed;
 *   - step: each touched row is de-quantised and updated IN FULL PRECISION by the
 *     run's embedding optimizer, giving w'. Delta is then learnt with the LSQ
 *     gradient of w^ = clamp(round(w'/Delta), Qn, Qp) * Delta:
 *       dw^/dDelta = round(v) - v for Qn < v < Qp, else the clamp bound (v = w'/Delta),
 *     scaled by 1/sqrt(B D Qp), with the same optimizer kind at lr `scale_lr`
 *     (2e-5, the reference's setting); finally w' is re-quantised with the new
 *     Delta by stochastic rounding q = clamp(floor(w'/Delta + u)), u ~ U[0, 1);
 *   - Qp = 2^(bits-1) - 1, Qn = -2^(bits-1); round = floor(v + 1/2) as the kernels.
 * Our choices [R]:
 *   - the gradient in the LSQ step is this step's row gradient g (the one the
 *     optimizer just used). The reference runs the model a second time on the
 *     re-quantised rows to get it, which the method interface (the method sees
 *     dL/d(embeddings) only) cannot do; at the small steps of training the two agree
 *     to first order;
 *   - the noise u is a counter-based hash of (seed, step, field, row, element), so a
 *     run is reproducible at any thread count (fields are split across the pool);
 *   - init: rows drawn U(+-sqrt(1/N_f)) (DLRM's rule, as `full`; the reference draws
 *     Xavier normal) and quantised stochastically with Delta_r = `init_scale` (0.01
 *     for every row, as the reference), or with `init_scale: auto` LSQ's initial
 *     step 2 mean|w_r| / sqrt(Qp) per row. auto is not the default: the step's
 *     optimizer moves Delta by about scale_lr a step whatever its gradient (Adam,
 *     Adagrad), which against an LSQ step of ~1e-4 (int8) or ~4e-5 (int16, the
 *     largest default field) is a change of 20-50% a step;
 *   - Delta is kept >= 1e-12 (a non-positive step would make the row undefined);
 *   - `rounding: nearest` replaces the stochastic rounding of the re-quantisation by
 *     round to nearest (an ablation; the paper's argument is that stochastic
 *     rounding keeps small updates unbiased);
 *   - every field is quantised (the reference quantises the whole table), so the
 *     ratio is fixed by `bits` and D: 4D / (D bits/8 + 4), i.e. 3.2 (int8) or 1.78
 *     (int16) at D = 16. Any other ratio is refused naming these values; `bits`
 *     auto takes the one within 5% of the requested ratio.
 * Optimizer state is held in fp32 as in the reference's sparse optimizers: the
 * rows' state (opt_state_floats(kind, D) per row: 0 SGD, 1 row-wise Adagrad, D
 * Adagrad, 2D Adam) and Delta's (opt_state_floats(kind, 1) per row).
 * Bytes: inference = sum_f N_f (D bits/8 + 4) (codes + Delta), no index; training =
 * the same parameters, plus the two optimizer states, plus per field the gradient
 * slots (cap (D floats + an int64 row id)), a row -> slot int32 per row and one
 * fp32 row of scratch.
 */
#include <math.h>

#include "harness/core/pool.h"
#include "methods/alpt.h"
#include "methods/common/table.h"

enum { ROUND_STOCHASTIC, ROUND_NEAREST, ROUND_KINDS };
static const char *const alpt_roundings[] = {[ROUND_STOCHASTIC] = "stochastic", [ROUND_NEAREST] = "nearest",
                                             [ROUND_KINDS] = NULL};

enum { P_BITS, P_INIT_SCALE, P_SCALE_LR, P_ROUNDING, P_COUNT };
static const emb_param_desc alpt_params[] = {
    [P_BITS] = {.name = "bits", .type = EMB_P_INT, .min = 8, .max = 16, .def = EMB_AUTO, .auto_ok = 1,
                .help = "8 or 16 bits per value (auto: the one whose fixed ratio is the requested one)"},
    [P_INIT_SCALE] = {.name = "init_scale", .type = EMB_P_FLOAT, .min = 1e-12, .max = 1e6, .def = 0.01,
                      .auto_ok = 1, .help = "initial step of every row (auto: LSQ's 2 mean|w| / sqrt(Qp) per row)"},
    [P_SCALE_LR] = {.name = "scale_lr", .type = EMB_P_FLOAT, .min = 0, .max = 10, .def = 2e-5,
                    .help = "learning rate of the per-row steps"},
    [P_ROUNDING] = {.name = "rounding", .type = EMB_P_ENUM, .def = ROUND_STOCHASTIC, .choices = alpt_roundings,
                    .help = "re-quantisation after each update: stochastic or nearest"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(alpt_params, P_COUNT);

#define ALPT_MIN_STEP 1e-12f

/* One field: codes, steps, optimizer state and the coalesced gradient slots. */
typedef struct alpt_field {
    int64_t  n, cap, n_touched;
    void    *codes;   /* (n, D) int8_t or int16_t */
    float   *step;    /* (n) Delta */
    float   *ostate;  /* (n, ostate_w) the rows' optimizer state, or NULL (SGD) */
    float   *sstate;  /* (n, sstate_w) the steps' optimizer state, or NULL */
    int32_t *slot;    /* (n) gradient slot of a row touched since the last step, or -1 */
    int64_t *touched; /* (cap) rows in first-touch order */
    float   *gbuf;    /* (cap, D) */
    float   *row;     /* (D) scratch: the row in full precision during its update */
    char     pad_[64]; /* fields are updated by different threads */
} alpt_field;

typedef struct alpt_state {
    int32_t     F, D, bits, rounding;
    int32_t     qp, qn;       /* clamp bounds of the codes */
    size_t      ostate_w, sstate_w;
    opt_cfg     opt, sopt;    /* rows; steps (same kind, lr scale_lr) */
    float       gscale;       /* LSQ gradient scale 1 / sqrt(B D Qp) */
    uint64_t    seed;
    alpt_field *fields;       /* (F) */
    hx_pool    *pool;
    emb_spec    spec;         /* kept for alpt_account */
} alpt_state;

/* ---- planning and bytes ---- */

static double alpt_ratio_at(int bits, const emb_spec *spec) {
    return 4.0 * spec->dim / (spec->dim * (bits / 8.0) + 4.0);
}

/* Resolve bits from the ratio; refuse naming the two reachable values. */
static hx_status alpt_bits(const emb_spec *spec, int *bits, char *err, size_t errlen) {
    double r8 = alpt_ratio_at(8, spec), r16 = alpt_ratio_at(16, spec);
    double b = spec->pv[P_BITS];
    if (b != EMB_AUTO && b != 8 && b != 16)
        return hx_error(HX_ERR_PARAM, err, errlen, "alpt.bits = %g: expected 8 or 16", b);
    if (b == EMB_AUTO) *bits = emb_plan_within(spec->ratio, r8) ? 8 : 16;
    else *bits = (int)b;
    if (!emb_plan_within(spec->ratio, alpt_ratio_at(*bits, spec))) {
        if (b != EMB_AUTO)
            return emb_plan_fixed_unreachable(spec, "alpt", "bits", b, alpt_ratio_at(*bits, spec), err, errlen);
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "ratio %g unreachable for alpt at dim %d: reachable range {%.3g (bits 16), %.3g (bits 8)}; "
                        "ALPT's ratio is fixed by its bits",
                        spec->ratio, spec->dim, r16, r8);
    }
    return HX_OK;
}

static int64_t alpt_cap(const emb_spec *spec, int64_t n) { return spec->batch < n ? spec->batch : n; }

/* The accounting of plan() and bytes() (the file comment's Bytes). */
static void alpt_account(const emb_spec *spec, int bits, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    const uint64_t D = (uint64_t)spec->dim, cb = (uint64_t)bits / 8;
    const uint64_t ow = opt_state_floats(spec->opt.kind, D), sw = opt_state_floats(spec->opt.kind, 1);
    for (int32_t f = 0; f < spec->n_fields; f++) {
        uint64_t n = (uint64_t)spec->card[f], cap = (uint64_t)alpt_cap(spec, spec->card[f]);
        out->infer_params += n * (D * cb + 4);
        out->train_optim += 4 * n * (ow + sw);
        out->train_other += cap * (8 + 4 * D) + 4 * n + 4 * D;
    }
    out->train_params = out->infer_params;
    snprintf(out->index_desc, sizeof out->index_desc, "none (int%d codes, fp32 step per row)", bits);
}

static hx_status alpt_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int bits;
    hx_status rc = alpt_bits(spec, &bits, err, errlen);
    if (rc != HX_OK) return rc;
    spec->pv[P_BITS] = bits;
    alpt_account(spec, bits, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "int%d codes + fp32 step: %d bytes per row", bits,
             spec->dim * bits / 8 + 4);
    return HX_OK;
}

/* ---- codes ---- */

static inline float code_get(const alpt_state *s, const alpt_field *fd, int64_t r, int32_t j) {
    size_t k = (size_t)r * (size_t)s->D + (size_t)j;
    return s->bits == 8 ? (float)((const int8_t *)fd->codes)[k] : (float)((const int16_t *)fd->codes)[k];
}

static inline void code_set(const alpt_state *s, alpt_field *fd, int64_t r, int32_t j, float q) {
    size_t k = (size_t)r * (size_t)s->D + (size_t)j;
    if (s->bits == 8) ((int8_t *)fd->codes)[k] = (int8_t)q;
    else ((int16_t *)fd->codes)[k] = (int16_t)q;
}

/* y (D) = q_r * Delta_r. */
static void alpt_decode(const alpt_state *s, const alpt_field *fd, int64_t r, float *y) {
    const float d = fd->step[r];
    for (int32_t j = 0; j < s->D; j++) y[j] = code_get(s, fd, r, j) * d;
}

/* Quantise w (D) into row r with its step; stochastic noise from (t, f, r, j). */
static void alpt_encode(const alpt_state *s, alpt_field *fd, int32_t f, int64_t r, const float *w, int64_t t) {
    const float inv = 1.0f / fd->step[r], hi = (float)s->qp, lo = (float)s->qn;
    uint64_t h = hx_splitmix64(s->seed ^ hx_splitmix64(((uint64_t)t << 20) ^ ((uint64_t)f << 8) ^ 0xa1b7ull));
    h = hx_splitmix64(h ^ (uint64_t)r);
    for (int32_t j = 0; j < s->D; j++) {
        float v = w[j] * inv, q;
        if (s->rounding == ROUND_NEAREST) q = floorf(v + 0.5f);
        else q = floorf(v + (float)(hx_splitmix64(h + (uint64_t)j) >> 40) * 0x1p-24f);
        if (q != q) q = 0; /* a non-finite update (the run is diverging): keep the cast defined */
        code_set(s, fd, r, j, q > hi ? hi : (q < lo ? lo : q));
    }
}

/* ---- create / destroy ---- */

static void alpt_destroy(void *state) {
    alpt_state *s = state;
    if (!s) return;
    for (int32_t f = 0; s->fields && f < s->F; f++) {
        alpt_field *fd = &s->fields[f];
        hx_free(fd->codes);
        hx_free(fd->step);
        hx_free(fd->ostate);
        hx_free(fd->sstate);
        hx_free(fd->slot);
        hx_free(fd->touched);
        hx_free(fd->gbuf);
        hx_free(fd->row);
    }
    hx_free(s->fields);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status field_init(alpt_state *s, alpt_field *fd, int32_t f, const emb_spec *spec, hx_rng *rng,
                            char *err, size_t errlen) {
    const size_t D = (size_t)s->D, n = (size_t)spec->card[f];
    fd->n = (int64_t)n;
    fd->cap = alpt_cap(spec, fd->n);
    fd->codes = hx_calloc(n * D, (size_t)s->bits / 8);
    fd->step = hx_calloc(n, sizeof(float));
    fd->ostate = s->ostate_w ? hx_calloc(n * s->ostate_w, sizeof(float)) : NULL;
    fd->sstate = s->sstate_w ? hx_calloc(n * s->sstate_w, sizeof(float)) : NULL;
    fd->slot = hx_malloc(n * sizeof(int32_t));
    fd->touched = hx_calloc((size_t)fd->cap, sizeof(int64_t));
    fd->gbuf = hx_calloc((size_t)fd->cap * D, sizeof(float));
    fd->row = hx_calloc(D, sizeof(float));
    if (!fd->codes || !fd->step || (s->ostate_w && !fd->ostate) || (s->sstate_w && !fd->sstate) || !fd->slot ||
        !fd->touched || !fd->gbuf || !fd->row)
        return hx_error(HX_ERR_NOMEM, err, errlen, "alpt: out of memory for a %zu x %zu table", n, D);
    memset(fd->slot, 0xff, n * sizeof(int32_t)); /* all -1 */
    const float a = sqrtf(1.0f / (float)n), init = (float)spec->pv[P_INIT_SCALE];
    for (size_t r = 0; r < n; r++) {
        double m = 0;
        for (size_t j = 0; j < D; j++) {
            fd->row[j] = hx_rng_uniformf(rng, -a, a);
            m += fabsf(fd->row[j]);
        }
        float d = spec->pv[P_INIT_SCALE] == EMB_AUTO ? (float)(2.0 * (m / (double)D) / sqrt((double)s->qp)) : init;
        fd->step[r] = d > ALPT_MIN_STEP ? d : ALPT_MIN_STEP;
        alpt_encode(s, fd, f, (int64_t)r, fd->row, 0);
    }
    return HX_OK;
}

static hx_status alpt_create(const emb_spec *spec0, void **state, char *err, size_t errlen) {
    emb_spec spec = *spec0;
    int bits;
    hx_status rc = alpt_bits(&spec, &bits, err, errlen);
    if (rc != HX_OK) return rc;
    alpt_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    s->F = spec.n_fields;
    s->D = spec.dim;
    s->bits = bits;
    s->rounding = (int32_t)spec.pv[P_ROUNDING];
    s->qp = (1 << (bits - 1)) - 1;
    s->qn = -(1 << (bits - 1));
    s->opt = spec.opt;
    s->sopt = spec.opt;
    s->sopt.lr = (float)spec.pv[P_SCALE_LR];
    s->ostate_w = opt_state_floats(spec.opt.kind, (size_t)s->D);
    s->sstate_w = opt_state_floats(spec.opt.kind, 1);
    s->gscale = (float)(1.0 / sqrt((double)spec.batch * s->D * s->qp));
    s->seed = hx_splitmix64(spec.seed ^ 0x616c7074ull);
    s->pool = spec.pool;
    s->fields = hx_calloc((size_t)s->F, sizeof(alpt_field));
    rc = emb_spec_keep(&s->spec, &spec, err, errlen);
    if (rc == HX_OK && !s->fields) rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_rng rng;
    hx_rng_seed(&rng, spec.seed);
    for (int32_t f = 0; rc == HX_OK && f < s->F; f++) rc = field_init(s, &s->fields[f], f, &spec, &rng, err, errlen);
    if (rc != HX_OK) {
        alpt_destroy(s);
        return rc;
    }
    *state = s;
    return HX_OK;
}

/* ---- forward / backward / step ---- */

typedef struct alpt_job {
    alpt_state    *s;
    const int64_t *idx;
    int64_t        B, t;
    float         *out;
    const float   *dout;
} alpt_job;

/* idx (B, F) -> out (B, F, D): the de-quantised rows, pieces of batch rows. */
static void forward_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const alpt_job *j = arg;
    const int32_t F = j->s->F, D = j->s->D;
    for (int64_t b = lo; b < hi; b++)
        for (int32_t f = 0; f < F; f++)
            alpt_decode(j->s, &j->s->fields[f], j->idx[b * F + f], j->out + ((size_t)b * F + (size_t)f) * D);
}

static void alpt_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    alpt_state *s = state;
    alpt_job j = {.s = s, .idx = idx, .B = B, .out = out};
    hx_pool_for(s->pool, B, hx_pool_chunks(s->pool, B, 32), forward_range, &j);
}

/* The gradient slot of row r (zeroed on first touch since the last step). */
static float *grad_row(const alpt_state *s, alpt_field *fd, int64_t r) {
    HX_ASSERT(r >= 0 && r < fd->n);
    if (fd->slot[r] < 0) {
        HX_ASSERT(fd->n_touched < fd->cap);
        fd->slot[r] = (int32_t)fd->n_touched;
        fd->touched[fd->n_touched] = r;
        memset(fd->gbuf + (size_t)fd->n_touched * s->D, 0, (size_t)s->D * sizeof(float));
        fd->n_touched++;
    }
    return fd->gbuf + (size_t)fd->slot[r] * s->D;
}

/* dout (B, F, D): sum into the touched rows' slots, one piece per field. */
static void backward_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const alpt_job *j = arg;
    const int32_t F = j->s->F, D = j->s->D;
    for (int64_t i = lo; i < hi; i++) {
        const int32_t f = (int32_t)i;
        alpt_field *fd = &j->s->fields[f];
        for (int64_t b = 0; b < j->B; b++) {
            float *g = grad_row(j->s, fd, j->idx[b * F + f]);
            const float *d = j->dout + ((size_t)b * F + (size_t)f) * D;
            for (int32_t k = 0; k < D; k++) g[k] += d[k];
        }
    }
}

static int field_pieces(const alpt_state *s) { return hx_pool_threads(s->pool) == 1 ? 1 : s->F; }

static void alpt_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    alpt_state *s = state;
    alpt_job j = {.s = s, .idx = idx, .B = B, .dout = dout};
    hx_pool_for(s->pool, s->F, field_pieces(s), backward_range, &j);
}

/* LSQ gradient of the step for the full-precision row w with gradient g. */
static float lsq_grad(const alpt_state *s, float step, const float *w, const float *g) {
    const float inv = 1.0f / step;
    double gd = 0;
    for (int32_t j = 0; j < s->D; j++) {
        float v = w[j] * inv, e;
        if (v >= (float)s->qp) e = (float)s->qp;
        else if (v <= (float)s->qn) e = (float)s->qn;
        else e = floorf(v + 0.5f) - v;
        gd += (double)g[j] * e;
    }
    return (float)gd * s->gscale;
}

/* One field's update: per touched row, in first-touch order, de-quantise, apply
 * the optimizer in full precision, learn the step (LSQ), re-quantise. */
static void field_step(alpt_state *s, int32_t f, int64_t t) {
    alpt_field *fd = &s->fields[f];
    const opt_bias ob = opt_bias_at(&s->opt, t), sb = opt_bias_at(&s->sopt, t);
    for (int64_t k = 0; k < fd->n_touched; k++) {
        const int64_t r = fd->touched[k];
        const float *g = fd->gbuf + (size_t)k * s->D;
        alpt_decode(s, fd, r, fd->row);
        opt_row_step_b(&s->opt, ob, fd->row, g, fd->ostate ? fd->ostate + (size_t)r * s->ostate_w : NULL,
                       (size_t)s->D);
        float gd = lsq_grad(s, fd->step[r], fd->row, g);
        opt_row_step_b(&s->sopt, sb, &fd->step[r], &gd, fd->sstate ? fd->sstate + (size_t)r * s->sstate_w : NULL, 1);
        if (!(fd->step[r] > ALPT_MIN_STEP)) fd->step[r] = ALPT_MIN_STEP;
        alpt_encode(s, fd, f, r, fd->row, t);
        fd->slot[r] = -1;
    }
    fd->n_touched = 0;
}

static void step_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const alpt_job *j = arg;
    for (int64_t i = lo; i < hi; i++) field_step(j->s, (int32_t)i, j->t);
}

static void alpt_step(void *state, int64_t t) {
    alpt_state *s = state;
    alpt_job j = {.s = s, .t = t};
    hx_pool_for(s->pool, s->F, field_pieces(s), step_range, &j);
}

static void alpt_bytes(const void *state, emb_bytes *out) {
    const alpt_state *s = state;
    alpt_account(&s->spec, s->bits, out);
}

/* ---- tensors for the gradient check ----
 * The codes are integers; the float parameters the forward reads are the steps,
 * one tensor per field. The forward is linear in Delta_r, with derivative
 * sum_j g_r[j] q_r[j] for the pending row gradient g_r: grad() reports that, so the
 * finite-difference check verifies the coalesced row gradients the optimizer gets. */
static int alpt_tensors(void *state, emb_tensor *out, int max) {
    alpt_state *s = state;
    int n = 0;
    for (; n < max && n < s->F; n++)
        out[n] = (emb_tensor){.name = "step", .data = s->fields[n].step, .n = (size_t)s->fields[n].n};
    return n;
}

static void alpt_grad(void *state, int i, float *dense) {
    alpt_state *s = state;
    HX_ASSERT(i >= 0 && i < s->F);
    alpt_field *fd = &s->fields[i];
    memset(dense, 0, (size_t)fd->n * sizeof(float));
    for (int64_t k = 0; k < fd->n_touched; k++) {
        const int64_t r = fd->touched[k];
        double d = 0;
        for (int32_t j = 0; j < s->D; j++) d += (double)fd->gbuf[(size_t)k * s->D + j] * code_get(s, fd, r, j);
        dense[r] = (float)d;
    }
}

/* ---- test hooks (alpt.h) ---- */

void alpt_row(const void *state, int32_t f, int64_t r, float *y, float *step) {
    const alpt_state *s = state;
    HX_ASSERT(f >= 0 && f < s->F && r >= 0 && r < s->fields[f].n);
    alpt_decode(s, &s->fields[f], r, y);
    *step = s->fields[f].step[r];
}

const emb_method emb_method_alpt = {
    .api_version = EMB_API_VERSION,
    .name = "alpt",
    .desc = "int8/int16 rows with a learnt fp32 step per row, trained in low precision (LSQ + stochastic rounding)",
    .cite = "Li et al., Adaptive Low-Precision Training for Embeddings in Click-Through Rate Prediction, AAAI 2023",
    .params = alpt_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE,
    .plan = alpt_plan,
    .create = alpt_create,
    .destroy = alpt_destroy,
    .forward = alpt_forward,
    .backward = alpt_backward,
    .step = alpt_step,
    .bytes = alpt_bytes,
    .tensors = alpt_tensors,
    .grad = alpt_grad,
};
