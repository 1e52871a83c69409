/* synthetic.c: the embedded default dataset, CTR-like rows from a planted model.
 *
 * Ids: field f has card[f] ids; id i is drawn with probability proportional to
 * (i+1)^-zipf (Zipf), so id 0 is the most frequent, as after the real loaders'
 * frequency-ordered vocabularies. Sampling uses Vose's alias method, O(1) a draw;
 * the index comes from a 32x32 multiply-shift (bias <= card/2^32 [R]).
 *
 * Planted model (our own construction [R], shaped like what a DLRM can fit):
 *   per id: a bias b_f[i] ~ N(0,1) and a latent vector v_f[i] ~ N(0, I_rank),
 *   both multiplied by m_i = sqrt(p_i / (p_i + tail)), p_i the id's Zipf
 *   probability in its field (tail = 0: m_i = 1, the generator version 1 model);
 *   per dense feature j: x_j ~ N(0,1) per row and a weight w_j ~ N(0,1);
 *   I = sum_{f<g} <v_f, v_g>   (FM identity: (|sum v|^2 - sum |v|^2) / 2)
 *   B = sum_f b_f,   D = sum_j w_j x_j
 *   z = intercept + scale * (a_I * I' + a_B * B' + a_D * D')
 * where I', B', D' are the components standardised over the generated rows and
 * a_B^2 = bias_share, a_D^2 = dense_share, a_I^2 = the rest (renormalised when a
 * component is absent), so `scale` is the standard deviation of the logit around
 * the intercept and sets the Bayes AUC (the default 1.5 gives about 0.815).
 *
 * Why `tail` [R]: a learner sees an id of probability p about p*rows times, so
 * the planted effect of an id seen a handful of times is noise to any model but
 * counts in the Bayes AUC. Fading effects below probability `tail` (0.002: an id
 * seen ~640 times in 320k training rows keeps half its variance) puts the signal
 * where data can reach it, as in real logs where rare ids carry little
 * predictive weight; the rare ids still exist, are still looked up and still
 * collide under compression. The defaults (400k rows, 8 fields of 10..20000 ids,
 * zipf 1.05, rank 2, tail 0.002) are chosen so that `full` with the default
 * training reaches within 0.02 of the Bayes AUC in one epoch, while
 * 5 fields are above the 200-row small-table threshold and hash reaches 64x.
 * Standardising only rescales the planted parameters, so the model stays exactly
 * "pairwise dot products + biases + linear dense" that a DLRM with dot
 * interaction represents.
 *
 * noise > 0 adds an unobserved N(0, noise^2) term to the logit; the stored prob is
 * then the Bayes probability given the observed features, E[sigmoid(z + noise*e)],
 * integrated with the trapezoid rule on 49 points over [-6, 6] (error < 1e-6).
 * label ~ Bernoulli(prob). Rows are i.i.d., so the sequential split is unbiased.
 * Everything is deterministic from `seed` (tables and rows use separate streams).
 *
 * The generator itself (syn_generate, syn_gen.h) takes a resolved syn_cfg, in
 * which each field has its own exponent and dense features may be drawn as
 * Criteo-like counts instead of N(0,1); criteo_synth.c feeds it Criteo's shape.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "syn_gen.h"

#define SYN_GEN_VERSION 2

const ds_param ds_synthetic_params[] = {
    {"rows", DSP_INT, 10, 1e9, "400000", NULL, "number of rows (all splits)"},
    {"fields", DSP_INT, 1, SYN_MAX_FIELDS, "8", NULL, "categorical fields (preset criteo: 26)"},
    {"cardinality", DSP_INT, 0, SYN_MAX_CARD, "0", NULL,
     "ids per field for every field; 0 = log-spaced from card_min to card_max"},
    {"cardinalities", DSP_INT_LIST, 1, SYN_MAX_CARD, "", NULL, "ids per field, one per field"},
    {"card_min", DSP_INT, 1, SYN_MAX_CARD, "10", NULL, "smallest field when log-spaced"},
    {"card_max", DSP_INT, 1, SYN_MAX_CARD, "20000", NULL, "largest field when log-spaced (criteo: 1e6)"},
    {"preset", DSP_ENUM, 0, 0, "none", "none|criteo", "criteo: 26 fields, 13 dense, 10..1e6 ids"},
    {"zipf", DSP_FLOAT, 0, 4, "1.05", NULL, "Zipf exponent of id frequencies (0 = uniform)"},
    {"dense", DSP_INT, 0, 1024, "4", NULL, "dense features (preset criteo: 13)"},
    {"rank", DSP_INT, 1, 256, "2", NULL, "rank of the planted latent vectors"},
    {"scale", DSP_FLOAT, 0, 20, "1.5", NULL, "standard deviation of the planted logit"},
    {"intercept", DSP_FLOAT, -20, 20, "-1.2", NULL, "logit offset (sets the positive rate)"},
    {"bias_share", DSP_FLOAT, 0, 1, "0.2", NULL, "share of logit variance from per-id biases"},
    {"dense_share", DSP_FLOAT, 0, 1, "0.2", NULL, "share of logit variance from dense features"},
    {"tail", DSP_FLOAT, 0, 1, "0.002", NULL,
     "id frequency below which planted effects fade: x sqrt(p/(p+tail)); 0 = off"},
    {"noise", DSP_FLOAT, 0, 10, "0", NULL, "std of an unobserved logit term"},
    {"seed", DSP_INT, 0, 9.2e18, "1", NULL, "generator seed"},
    {"val_frac", DSP_FLOAT, 0, 0.5, "0.1", NULL, "validation share (the rows before test)"},
    {"test_frac", DSP_FLOAT, 0.001, 0.5, "0.1", NULL, "test share (the last rows)"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* Resolve preset, log-spacing and lists into one configuration. */
static void syn_resolve(const ds_spec *s, const ds_kind *k, syn_cfg *c) {
    memset(c, 0, sizeof *c);
    int criteo = !strcmp(ds_get_str(s, k, "preset"), "criteo");
    c->rows = ds_get_int(s, k, "rows");
    c->F = (int32_t)(ds_has_key(s, "fields") || !criteo ? ds_get_int(s, k, "fields") : 26);
    c->Dd = (int32_t)(ds_has_key(s, "dense") || !criteo ? ds_get_int(s, k, "dense") : 13);
    int64_t cmin = ds_get_int(s, k, "card_min");
    int64_t cmax = ds_has_key(s, "card_max") || !criteo ? ds_get_int(s, k, "card_max") : 1000000;
    int64_t list[SYN_MAX_FIELDS];
    int nl = ds_get_int_list(s, k, "cardinalities", list, SYN_MAX_FIELDS);
    int64_t one = ds_get_int(s, k, "cardinality");
    if (nl > 0) c->F = nl;
    for (int32_t f = 0; f < c->F; f++) {
        if (nl > 0) c->card[f] = list[f];
        else if (one > 0) c->card[f] = one;
        else if (c->F == 1) c->card[f] = cmax;
        else
            c->card[f] = llround(exp(log((double)cmin) +
                                     (log((double)cmax) - log((double)cmin)) * f / (c->F - 1)));
    }
    c->rank = (int32_t)ds_get_int(s, k, "rank");
    for (int32_t f = 0; f < c->F; f++) c->zipf[f] = ds_get_f64(s, k, "zipf");
    c->scale = ds_get_f64(s, k, "scale");
    c->intercept = ds_get_f64(s, k, "intercept");
    c->bias_share = ds_get_f64(s, k, "bias_share");
    c->dense_share = ds_get_f64(s, k, "dense_share");
    c->tail = ds_get_f64(s, k, "tail");
    c->noise = ds_get_f64(s, k, "noise");
    c->seed = (uint64_t)ds_get_int(s, k, "seed");
    c->val_frac = ds_get_f64(s, k, "val_frac");
    c->test_frac = ds_get_f64(s, k, "test_frac");
}

hx_status ds_synthetic_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    int64_t list[SYN_MAX_FIELDS];
    int nl = ds_get_int_list(s, k, "cardinalities", list, SYN_MAX_FIELDS);
    if (nl > SYN_MAX_FIELDS)
        return hx_error(HX_ERR_PARAM, err, errlen, "cardinalities lists %d fields, at most %d", nl,
                        SYN_MAX_FIELDS);
    if (nl > 0 && ds_has_key(s, "fields") && ds_get_int(s, k, "fields") != nl)
        return hx_error(HX_ERR_PARAM, err, errlen, "cardinalities lists %d fields but fields is %lld", nl,
                        (long long)ds_get_int(s, k, "fields"));
    if (nl > 0 && ds_has_key(s, "cardinality"))
        return hx_error(HX_ERR_PARAM, err, errlen, "give either cardinality or cardinalities, not both");
    if (ds_get_int(s, k, "card_min") > ds_get_int(s, k, "card_max") && ds_has_key(s, "card_max"))
        return hx_error(HX_ERR_PARAM, err, errlen, "card_min %lld is above card_max %lld",
                        (long long)ds_get_int(s, k, "card_min"), (long long)ds_get_int(s, k, "card_max"));
    if (ds_get_f64(s, k, "bias_share") + ds_get_f64(s, k, "dense_share") > 1 + 1e-9)
        return hx_error(HX_ERR_PARAM, err, errlen, "bias_share + dense_share must be at most 1");
    return HX_OK;
}

hx_status ds_synthetic_canon(const ds_spec *s, const ds_kind *k, char *buf, size_t n) {
    syn_cfg c;
    syn_resolve(s, k, &c);
    int w = snprintf(buf, n, "kind=synthetic;gen=%d;rows=%lld;fields=%d;cardinalities=", SYN_GEN_VERSION,
                     (long long)c.rows, c.F);
    if (w < 0 || (size_t)w >= n) return HX_ERR_PARAM;
    size_t used = (size_t)w;
    for (int32_t f = 0; f < c.F; f++) {
        w = snprintf(buf + used, n - used, "%s%lld", f ? "," : "", (long long)c.card[f]);
        if (w < 0 || (size_t)w >= n - used) return HX_ERR_PARAM;
        used += (size_t)w;
    }
    w = snprintf(buf + used, n - used,
                 ";zipf=%.10g;dense=%d;rank=%d;scale=%.10g;intercept=%.10g;bias_share=%.10g;"
                 "dense_share=%.10g;tail=%.10g;noise=%.10g;seed=%llu;val_frac=%.10g;test_frac=%.10g",
                 c.zipf[0], c.Dd, c.rank, c.scale, c.intercept, c.bias_share, c.dense_share, c.tail, c.noise,
                 (unsigned long long)c.seed, c.val_frac, c.test_frac);
    return w < 0 || (size_t)w >= n - used ? HX_ERR_PARAM : HX_OK;
}

/* ---- Zipf ids through an alias table ---- */

typedef struct alias_tab {
    int64_t   n;
    uint32_t *thr;   /* (n) keep i when the low 32 bits of a draw are below thr[i] */
    uint32_t *alias; /* (n) */
} alias_tab;

static hx_status alias_build(alias_tab *a, int64_t n, double zipf) {
    a->n = n;
    a->thr = hx_malloc((size_t)n * sizeof *a->thr);
    a->alias = hx_malloc((size_t)n * sizeof *a->alias);
    double *q = hx_malloc((size_t)n * sizeof *q);
    uint32_t *work = hx_malloc((size_t)n * sizeof *work);
    if (!a->thr || !a->alias || !q || !work) {
        hx_free(q);
        hx_free(work);
        return HX_ERR_NOMEM;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += q[i] = pow((double)(i + 1), -zipf);
    for (int64_t i = 0; i < n; i++) q[i] *= (double)n / sum;
    /* Vose: small ids fill from the front of work, large from the back. */
    int64_t ns = 0, nl = n;
    for (int64_t i = 0; i < n; i++) {
        if (q[i] < 1.0) work[ns++] = (uint32_t)i;
        else work[--nl] = (uint32_t)i;
    }
    int64_t is = 0, il = nl;
    while (is < ns && il < n) {
        uint32_t sm = work[is++], lg = work[il];
        a->thr[sm] = (uint32_t)fmin(q[sm] * 4294967296.0, 4294967295.0);
        a->alias[sm] = lg;
        q[lg] -= 1.0 - q[sm];
        if (q[lg] < 1.0) { /* lg becomes small: move it to the small list */
            il++;
            work[--is] = lg;
        }
    }
    for (int64_t i = is; i < ns; i++) a->thr[work[i]] = UINT32_MAX, a->alias[work[i]] = work[i];
    for (int64_t i = il; i < n; i++) a->thr[work[i]] = UINT32_MAX, a->alias[work[i]] = work[i];
    hx_free(q);
    hx_free(work);
    return HX_OK;
}

/* A draw u picks slot alias_slot(u) (its high 32 bits), then keeps it or takes
 * its alias by its low 32 bits. */
static inline uint32_t alias_slot(const alias_tab *a, uint64_t u) {
    return (uint32_t)(((u >> 32) * (uint64_t)a->n) >> 32);
}
static inline uint32_t alias_pick(const alias_tab *a, uint64_t u) {
    const uint32_t i = alias_slot(a, u);
    return (uint32_t)u < a->thr[i] ? i : a->alias[i];
}

/* ---- generation ---- */

/* From this many rows (about 3 s to generate), syn_generate says on stderr that
 * it is generating: at Criteo's 45.8M rows it takes minutes. */
#define SYN_SAY_ROWS 1000000

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

#define NOISE_PTS 49
static double noisy_prob(double z, double noise) {
    double sum = 0, wsum = 0;
    for (int j = 0; j < NOISE_PTS; j++) {
        double t = -6.0 + 12.0 * j / (NOISE_PTS - 1);
        double w = exp(-0.5 * t * t) * (j == 0 || j == NOISE_PTS - 1 ? 0.5 : 1.0);
        sum += w * sigmoid(z + noise * t);
        wsum += w;
    }
    return sum / wsum;
}

/* Multiply id i's planted bias and vector by sqrt(p_i / (p_i + tail)), p_i its
 * Zipf probability within the field: ids rarer than `tail` carry less effect. */
static void tail_fade(float *bias, float *vec, int64_t n, int32_t R, double zipf, double tail) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += pow((double)(i + 1), -zipf);
    for (int64_t i = 0; i < n; i++) {
        double p = pow((double)(i + 1), -zipf) / sum;
        float m = (float)sqrt(p / (p + tail));
        bias[i] *= m;
        for (int32_t j = 0; j < R; j++) vec[(size_t)i * R + j] *= m;
    }
}

static void stats(const float *x, int64_t n, double *mean, double *sd) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = sqrt(ss / (double)n);
}

/* The planted model: per field its id sampler, biases and latent vectors; the
 * dense weights. syn_model_free releases what syn_plant allocated. */
typedef struct syn_model {
    alias_tab *tab;  /* (F) */
    float    **bias; /* (F) each (card[f]) */
    float    **vec;  /* (F) each (card[f], rank) */
    float     *w;    /* (Dd) */
} syn_model;

/* The planted parameters, drawn from the table stream (seeded with the seed).
 * 0, or -1 when out of memory. */
static int syn_plant(const syn_cfg *c, syn_model *pm, ds_data *d) {
    const int32_t F = c->F, R = c->rank;
    hx_rng rt;
    hx_rng_seed(&rt, c->seed);
    for (int32_t f = 0; f < F; f++) {
        d->card[f] = c->card[f];
        if (c->name_prefix) snprintf(d->field_names[f], 32, "%s%d", c->name_prefix, f + 1);
        else snprintf(d->field_names[f], 32, "f%d", f);
        if (alias_build(&pm->tab[f], c->card[f], c->zipf[f]) != HX_OK) return -1;
        pm->bias[f] = hx_malloc((size_t)c->card[f] * sizeof(float));
        pm->vec[f] = hx_malloc((size_t)c->card[f] * (size_t)R * sizeof(float));
        if (!pm->bias[f] || !pm->vec[f]) return -1;
        for (int64_t i = 0; i < c->card[f]; i++) pm->bias[f][i] = (float)hx_rng_normal(&rt);
        for (int64_t i = 0; i < c->card[f] * R; i++) pm->vec[f][i] = (float)hx_rng_normal(&rt);
        if (c->tail > 0) tail_fade(pm->bias[f], pm->vec[f], c->card[f], R, c->zipf[f], c->tail);
    }
    for (int32_t j = 0; j < c->Dd; j++) pm->w[j] = (float)hx_rng_normal(&rt);
    return 0;
}

/* One dense value as the Criteo loader stores it (syn_gen.h); always three draws. */
static float dense_draw(const syn_dense *m, hx_rng *rr) {
    double u_miss = hx_rng_uniform(rr), u_zero = hx_rng_uniform(rr), e = hx_rng_normal(rr);
    if (u_miss < m->miss || u_zero < m->zero) return 0.0f;
    double count = fmax(1.0, round(exp(fmin(m->mu + m->sigma * e, 60.0))));
    return (float)log1p(count);
}

/* Rows a block of syn_rows holds (u: SYN_BLOCK x F draws). */
enum { SYN_BLOCK = 32 };

/* The rows, from the row stream rr: ids and dense features into d, and each
 * row's raw components I (into d->prob), B (cb) and D (cd). acc is (rank), u
 * (SYN_BLOCK, F). A block of rows goes in three passes: every draw of the
 * block, row after row (its F id draws, then its dense values), as a row at a
 * time would draw them, starting to fetch each id draw's alias slot; then the
 * ids, starting to fetch their biases and vectors; then the sums. The same
 * draws in the same order give the same rows, and the lookups' cache misses in
 * the per-id tables (hundreds of MB at Criteo's size) overlap instead of
 * queueing one after another. */
static void syn_rows(const syn_cfg *c, const syn_model *pm, hx_rng *rr, float *acc, uint64_t *u, ds_data *d,
                     float *cb, float *cd) {
    const int32_t F = c->F, Dd = c->Dd, R = c->rank;
    for (int64_t r0 = 0; r0 < c->rows; r0 += SYN_BLOCK) {
        const int64_t nr = c->rows - r0 < SYN_BLOCK ? c->rows - r0 : SYN_BLOCK;
        for (int64_t k = 0; k < nr; k++) {
            for (int32_t f = 0; f < F; f++) {
                const alias_tab *a = &pm->tab[f];
                const uint32_t i = alias_slot(a, u[k * F + f] = hx_rng_u64(rr));
                __builtin_prefetch(a->thr + i);
                __builtin_prefetch(a->alias + i);
            }
            float *x = Dd ? d->dense + (r0 + k) * Dd : NULL;
            double dd = 0;
            for (int32_t j = 0; j < Dd; j++) {
                x[j] = c->dense_model ? dense_draw(&c->dense_model[j], rr) : (float)hx_rng_normal(rr);
                dd += (double)pm->w[j] * x[j];
            }
            cd[r0 + k] = (float)dd;
        }
        uint32_t *cat = d->cat + r0 * F;
        for (int64_t k = 0; k < nr * F; k++) {
            const int32_t f = (int32_t)(k % F);
            const uint32_t id = cat[k] = alias_pick(&pm->tab[f], u[k]);
            __builtin_prefetch(pm->bias[f] + id);
            __builtin_prefetch(pm->vec[f] + (size_t)id * R);
        }
        for (int64_t k = 0; k < nr; k++, cat += F) {
            double sq = 0, b = 0, inter = 0;
            for (int32_t j = 0; j < R; j++) acc[j] = 0;
            for (int32_t f = 0; f < F; f++) {
                const float *v = pm->vec[f] + (size_t)cat[f] * R;
                for (int32_t j = 0; j < R; j++) acc[j] += v[j], sq += (double)v[j] * v[j];
                b += pm->bias[f][cat[f]];
            }
            for (int32_t j = 0; j < R; j++) inter += (double)acc[j] * acc[j];
            d->prob[r0 + k] = (float)(0.5 * (inter - sq));
            cb[r0 + k] = (float)b;
        }
    }
}

/* Standardise the components and mix them by their variance shares into the
 * logit; the Bayes probability into d->prob and a label drawn from rr. */
static void syn_labels(const syn_cfg *c, hx_rng *rr, ds_data *d, const float *cb, const float *cd) {
    const int64_t N = c->rows;
    double mi, si, mb, sb, md, sd;
    stats(d->prob, N, &mi, &si);
    stats(cb, N, &mb, &sb);
    stats(cd, N, &md, &sd);
    double ai = si > 0 ? fmax(0.0, 1 - c->bias_share - c->dense_share) : 0;
    double ab = sb > 0 ? c->bias_share : 0, ad = sd > 0 ? c->dense_share : 0;
    double tot = ai + ab + ad;
    if (tot > 0) ai /= tot, ab /= tot, ad /= tot;
    ai = si > 0 ? sqrt(ai) / si : 0;
    ab = sb > 0 ? sqrt(ab) / sb : 0;
    ad = sd > 0 ? sqrt(ad) / sd : 0;
    for (int64_t r = 0; r < N; r++) {
        double z = c->intercept + c->scale * (ai * (d->prob[r] - mi) + ab * (cb[r] - mb) + ad * (cd[r] - md));
        double p = c->noise > 0 ? noisy_prob(z, c->noise) : sigmoid(z);
        d->prob[r] = (float)p;
        d->label[r] = hx_rng_uniform(rr) < p ? 1.0f : 0.0f;
    }
}

static void syn_model_free(syn_model *pm, int32_t F) {
    for (int32_t f = 0; pm->tab && f < F; f++) {
        hx_free(pm->tab[f].thr);
        hx_free(pm->tab[f].alias);
        if (pm->bias) hx_free(pm->bias[f]);
        if (pm->vec) hx_free(pm->vec[f]);
    }
    hx_free(pm->tab);
    hx_free(pm->bias);
    hx_free(pm->vec);
    hx_free(pm->w);
}

size_t syn_mem_bytes(const syn_cfg *c) {
    const double R = c->rank, row = 4.0 * c->Dd + 4.0 * c->F + 4 * 4; /* dense, ids, label, prob, cb, cd */
    double ids = 0, big = 0;
    for (int32_t f = 0; f < c->F; f++) {
        ids += (double)c->card[f];
        big = fmax(big, (double)c->card[f]);
    }
    double total = row * (double)c->rows + ids * (4 + 4 + 4 + 4 * R) + big * (8 + 4);
    return total >= (double)SIZE_MAX ? SIZE_MAX : (size_t)total;
}

/* Physical memory in bytes, or SIZE_MAX when unknown. */
static size_t phys_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return SIZE_MAX;
    double b = (double)pages * (double)page;
    return b >= (double)SIZE_MAX ? SIZE_MAX : (size_t)b;
}

hx_status syn_generate(const syn_cfg *c, const char *name, ds_data *d, char *err, size_t errlen) {
    size_t need = syn_mem_bytes(c), have = phys_bytes();
    if (need > have)
        return hx_error(HX_ERR_NOMEM, err, errlen,
                        "datasets.%s: generating %lld rows needs %.2f GB, more than this machine's %.2f GB",
                        name, (long long)c->rows, need / 1e9, have / 1e9);
    const int32_t F = c->F, Dd = c->Dd, R = c->rank;
    const int64_t N = c->rows;
    if (N >= SYN_SAY_ROWS) /* minutes at Criteo's size: say what the wait is */
        fprintf(stderr, "embsweep: generating dataset %s: %lld rows, %.1f GB at its peak\n", name,
                (long long)N, need / 1e9);
    hx_status st = HX_OK;
    syn_model pm = {.tab = hx_calloc((size_t)F, sizeof *pm.tab), .bias = hx_calloc((size_t)F, sizeof *pm.bias),
                    .vec = hx_calloc((size_t)F, sizeof *pm.vec), .w = hx_malloc((size_t)(Dd ? Dd : 1) * sizeof(float))};
    float *acc = hx_malloc((size_t)R * sizeof *acc);
    uint64_t *u = hx_malloc((size_t)SYN_BLOCK * (size_t)F * sizeof *u);
    float *cb = hx_malloc((size_t)N * sizeof *cb), *cd = hx_malloc((size_t)N * sizeof *cd);
    if (!pm.tab || !pm.bias || !pm.vec || !pm.w || !acc || !u || !cb || !cd || ds_data_alloc(d, N, Dd, F, 1) != HX_OK ||
        syn_plant(c, &pm, d) != 0) {
        st = hx_error(HX_ERR_NOMEM, err, errlen, "datasets.%s: out of memory generating %lld rows", name,
                      (long long)N);
    } else {
        hx_rng rr;
        hx_rng_seed(&rr, hx_splitmix64(c->seed ^ 0x726f7773ULL));
        syn_rows(c, &pm, &rr, acc, u, d, cb, cd);
        syn_labels(c, &rr, d, cb, cd);
        ds_split_sizes(d, c->val_frac, c->test_frac);
    }
    syn_model_free(&pm, F);
    hx_free(acc);
    hx_free(u);
    hx_free(cb);
    hx_free(cd);
    return st;
}

typedef struct syn_fill_ctx {
    const syn_cfg *c;
    const char    *name;
} syn_fill_ctx;

/* ds_cached's fill: generate into memory, write the cache file, let go. */
static hx_status syn_fill(void *ctx, const char *path, uint64_t stamp, ds_data *d, char *err, size_t errlen) {
    const syn_fill_ctx *x = ctx;
    ds_data g;
    memset(&g, 0, sizeof g);
    g.recipe = d->recipe;
    g.recipe_hash = d->recipe_hash;
    hx_status st = syn_generate(x->c, x->name, &g, err, errlen);
    if (st == HX_OK) st = ds_cache_write(path, &g, stamp, err, errlen);
    hx_free(g.owned);
    return st;
}

hx_status syn_load(const syn_cfg *c, const char *name, const char *cache_dir, ds_data *d, char *err,
                   size_t errlen) {
    if (!cache_dir || c->rows < SYN_CACHE_ROWS) return syn_generate(c, name, d, err, errlen);
    syn_fill_ctx x = {c, name};
    return ds_cached(cache_dir, 0, "its generator", syn_fill, &x, d, err, errlen);
}

hx_status ds_synthetic_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d,
                             char *err, size_t errlen) {
    syn_cfg c;
    syn_resolve(s, k, &c);
    return syn_load(&c, s->name, cache_dir, d, err, errlen);
}
