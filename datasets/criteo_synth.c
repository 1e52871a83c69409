/* criteo_synth.c: planted-model data in the shape of Criteo Kaggle (26
 * categorical fields with its cardinalities, 13 count features), at any size.
 *
 * The rows come from the synthetic generator (synthetic.c, syn_gen.h): the same
 * planted model (per-id biases and rank-`rank` vectors, pairwise dots, a linear
 * dense part, logit standard deviation `logit_scale`), so the stored probability
 * gives the Bayes AUC. What this kind adds is data:
 *
 * - ds_criteo_kaggle_card (dataset.h): the 26 per-field cardinalities of the
 *   Criteo Kaggle train.txt (45,840,617 rows), C1..C26 in file order.
 * - k_zipf: per field, the exponent s of a Zipf law over the field's cardinality
 *   ids, fitted to the first 10,000 rows of train.txt by a censored maximum
 *   likelihood: values ranked by count (empty is a value, as in the loader), the
 *   top K ranks (count >= 3, at most 1000) are ranks 1..K of the law, every
 *   other row counts as "below rank K" (probability 1 - sum_{r<=K} p_r), and s
 *   maximises that likelihood (golden section on [0, 8]). The comment of each
 *   row gives the distinct values in those rows, the top value's share, K and
 *   the top share the law implies at full cardinality.
 *   datasets/fit_criteo_shape.py FILE recomputes both tables.
 *   Limits: 10,000 rows see the head of a field, not its tail (C3 shows 5,521
 *   of its 10.1M values, mostly once); the fit is the head's slope carried to
 *   the full cardinality, and a single exponent cannot match both the top
 *   share and the slope everywhere (C10's top value holds 28%, its law 13%).
 * - k_dense: per count feature I1..I13, {missing share, share of present values
 *   <= 0, mean and sd of log(I) over I > 0}, counted on the same rows; a value
 *   is drawn as log1p(count) with count = max(1, round(exp(N(mu, sigma^2))))
 *   or 0 for missing and <= 0, which is what the criteo loader stores. The
 *   comment gives the file's log1p mean and sd over present values.
 *
 * Scale: rows = round(45,840,617 * scale); field f keeps
 * max(round(card_f * scale), min(card_f, card_floor)) ids, so large fields
 * shrink with the rows (ids per row stay Criteo's) and small ones stay whole.
 * tail_count fades planted effects of ids expected fewer than tail_count times
 * in the train split (tail = tail_count / train rows), the same at every scale.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "syn_gen.h"

#define CS_GEN_VERSION 1
#define CS_FIT "criteo_kaggle_first10k_mle_v1"
#define CS_ROWS 45840617LL
#define CS_F DS_CRITEO_FIELDS
#define CS_DD 13

const int64_t ds_criteo_kaggle_card[DS_CRITEO_FIELDS] = {
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
};

static const double k_zipf[CS_F] = {
    1.8024, /* C1: 175, 0.5005, 67, 0.5333 */
    1.0696, /* C2: 386, 0.1235, 254, 0.1746 */
    1.0270, /* C3: 5521, 0.0470, 353, 0.0732 */
    1.0716, /* C4: 4033, 0.0730, 450, 0.1037 */
    2.2429, /* C5: 56, 0.6656, 29, 0.6832 */
    1.7846, /* C6: 8, 0.4593, 8, 0.5549 */
    0.8384, /* C7: 3184, 0.0105, 936, 0.0439 */
    2.0254, /* C8: 93, 0.5888, 39, 0.6171 */
    3.4638, /* C9: 3, 0.8871, 3, 0.8986 */
    1.0880, /* C10: 2986, 0.2757, 623, 0.1283 */
    0.8628, /* C11: 2084, 0.0203, 864, 0.0583 */
    1.0339, /* C12: 5284, 0.0470, 365, 0.0775 */
    0.8441, /* C13: 1725, 0.0221, 803, 0.0598 */
    1.7428, /* C14: 24, 0.3629, 22, 0.5376 */
    0.9544, /* C15: 2035, 0.0195, 745, 0.0791 */
    1.0476, /* C16: 4724, 0.0470, 405, 0.0866 */
    1.2293, /* C17: 9, 0.4304, 9, 0.4147 */
    1.0265, /* C18: 1149, 0.0510, 516, 0.1205 */
    1.6534, /* C19: 547, 0.4496, 157, 0.4666 */
    0.7702, /* C20: 4, 0.4496, 4, 0.4239 */
    1.0407, /* C21: 5037, 0.0470, 384, 0.0818 */
    2.9525, /* C22: 8, 0.8182, 7, 0.8264 */
    1.5851, /* C23: 12, 0.4515, 12, 0.5042 */
    1.1413, /* C24: 2525, 0.0755, 421, 0.1547 */
    1.7515, /* C25: 40, 0.4496, 34, 0.5209 */
    1.2847, /* C26: 1939, 0.4496, 311, 0.2506 */
};

static const syn_dense k_dense[CS_DD] = {
    {0.4481, 0.4753, 1.1501, 1.0724}, /* I1: 0.7956, 0.9760 */
    {0.0000, 0.2770, 2.7122, 2.1981}, /* I2: 2.1245, 2.1326 */
    {0.2037, 0.0080, 2.0408, 1.4599}, /* I3: 2.2494, 1.2784 */
    {0.1978, 0.0714, 1.5978, 1.0660}, /* I4: 1.7283, 0.9614 */
    {0.0494, 0.0166, 7.3280, 2.8303}, /* I5: 7.2366, 2.8968 */
    {0.2511, 0.0629, 3.7458, 1.7078}, /* I6: 3.5838, 1.8067 */
    {0.0492, 0.2525, 1.7994, 1.3861}, /* I7: 1.5402, 1.3576 */
    {0.0010, 0.1177, 2.1482, 1.1452}, /* I8: 2.0563, 1.1787 */
    {0.0492, 0.0318, 3.6393, 1.7062}, /* I9: 3.6088, 1.6914 */
    {0.4481, 0.5015, 0.1018, 0.2673}, /* I10: 0.3758, 0.3939 */
    {0.0492, 0.2649, 0.6818, 0.8392}, /* I11: 0.8517, 0.7390 */
    {0.7735, 0.7364, 0.6322, 0.8897}, /* I12: 0.2986, 0.6060 */
    {0.1978, 0.0616, 1.7576, 1.1726}, /* I13: 1.8798, 1.0589 */
};

const ds_param ds_criteo_synth_params[] = {
    {"scale", DSP_FLOAT, 1e-5, 1, "0.01", NULL,
     "rows and large fields as a share of Criteo Kaggle (1 = 45,840,617 rows)"},
    {"card_floor", DSP_INT, 1, SYN_MAX_CARD, "100", NULL,
     "a field keeps at least min(its Criteo cardinality, card_floor) ids"},
    {"rank", DSP_INT, 1, 256, "2", NULL, "rank of the planted latent vectors"},
    {"logit_scale", DSP_FLOAT, 0, 20, "1.5", NULL, "standard deviation of the planted logit"},
    {"intercept", DSP_FLOAT, -20, 20, "-1.6", NULL, "logit offset (sets the positive rate)"},
    {"bias_share", DSP_FLOAT, 0, 1, "0.2", NULL, "share of logit variance from per-id biases"},
    {"dense_share", DSP_FLOAT, 0, 1, "0.2", NULL, "share of logit variance from dense features"},
    {"tail_count", DSP_FLOAT, 0, 1e9, "640", NULL,
     "planted effects fade for ids expected fewer times than this in train; 0 = off"},
    {"noise", DSP_FLOAT, 0, 10, "0", NULL, "std of an unobserved logit term"},
    {"seed", DSP_INT, 0, 9.2e18, "1", NULL, "generator seed"},
    {"val_frac", DSP_FLOAT, 0, 0.5, "0.1", NULL, "validation share (the rows before test)"},
    {"test_frac", DSP_FLOAT, 0.001, 0.5, "0.1", NULL, "test share (the last rows)"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* The field's ids at a scale: large fields shrink with the rows, small ones stay. */
static int64_t cs_card(int64_t card, double scale, int64_t floor_ids) {
    int64_t scaled = (int64_t)llround((double)card * scale);
    int64_t keep = card < floor_ids ? card : floor_ids;
    return scaled > keep ? scaled : keep;
}

static void cs_resolve(const ds_spec *s, const ds_kind *k, syn_cfg *c) {
    memset(c, 0, sizeof *c);
    double scale = ds_get_f64(s, k, "scale");
    int64_t floor_ids = ds_get_int(s, k, "card_floor");
    c->rows = (int64_t)llround((double)CS_ROWS * scale);
    if (c->rows < 10) c->rows = 10;
    c->F = CS_F;
    c->Dd = CS_DD;
    for (int32_t f = 0; f < CS_F; f++) {
        c->card[f] = cs_card(ds_criteo_kaggle_card[f], scale, floor_ids);
        c->zipf[f] = k_zipf[f];
    }
    c->dense_model = k_dense;
    c->rank = (int32_t)ds_get_int(s, k, "rank");
    c->scale = ds_get_f64(s, k, "logit_scale");
    c->intercept = ds_get_f64(s, k, "intercept");
    c->bias_share = ds_get_f64(s, k, "bias_share");
    c->dense_share = ds_get_f64(s, k, "dense_share");
    c->noise = ds_get_f64(s, k, "noise");
    c->seed = (uint64_t)ds_get_int(s, k, "seed");
    c->val_frac = ds_get_f64(s, k, "val_frac");
    c->test_frac = ds_get_f64(s, k, "test_frac");
    int64_t n_train = c->rows - llround((double)c->rows * c->val_frac) - llround((double)c->rows * c->test_frac);
    double tc = ds_get_f64(s, k, "tail_count");
    c->tail = tc > 0 && n_train > 0 ? fmin(1.0, tc / (double)n_train) : 0;
}

hx_status ds_criteo_synth_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (ds_get_f64(s, k, "bias_share") + ds_get_f64(s, k, "dense_share") > 1 + 1e-9)
        return hx_error(HX_ERR_PARAM, err, errlen, "bias_share + dense_share must be at most 1");
    return HX_OK;
}

/* Appends printf output to buf at *used; -1 when it does not fit. */
static int cat_f(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cat_f(char *buf, size_t n, size_t *used, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, n - *used, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n - *used) return -1;
    *used += (size_t)w;
    return 0;
}

/* The recipe lists the resolved sizes and every fitted constant, so a refit or
 * another scale is another dataset id. */
hx_status ds_criteo_synth_canon(const ds_spec *s, const ds_kind *k, char *buf, size_t n) {
    syn_cfg c;
    cs_resolve(s, k, &c);
    size_t u = 0;
    int bad = cat_f(buf, n, &u, "kind=criteo_synth;gen=%d;fit=%s;scale=%.10g;card_floor=%lld;rows=%lld;"
                    "cardinalities=", CS_GEN_VERSION, CS_FIT, ds_get_f64(s, k, "scale"),
                    (long long)ds_get_int(s, k, "card_floor"), (long long)c.rows);
    for (int32_t f = 0; f < CS_F && !bad; f++) bad = cat_f(buf, n, &u, "%s%lld", f ? "," : "", (long long)c.card[f]);
    bad |= cat_f(buf, n, &u, ";zipf=");
    for (int32_t f = 0; f < CS_F && !bad; f++) bad = cat_f(buf, n, &u, "%s%.4f", f ? "," : "", k_zipf[f]);
    bad |= cat_f(buf, n, &u, ";dense=");
    for (int32_t j = 0; j < CS_DD && !bad; j++)
        bad = cat_f(buf, n, &u, "%s%.4f/%.4f/%.4f/%.4f", j ? "," : "", k_dense[j].miss, k_dense[j].zero,
                    k_dense[j].mu, k_dense[j].sigma);
    bad |= cat_f(buf, n, &u,
                 ";rank=%d;logit_scale=%.10g;intercept=%.10g;bias_share=%.10g;dense_share=%.10g;"
                 "tail_count=%.10g;noise=%.10g;seed=%llu;val_frac=%.10g;test_frac=%.10g",
                 c.rank, c.scale, c.intercept, c.bias_share, c.dense_share, ds_get_f64(s, k, "tail_count"),
                 c.noise, (unsigned long long)c.seed, c.val_frac, c.test_frac);
    return bad ? HX_ERR_PARAM : HX_OK;
}

hx_status ds_criteo_synth_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d,
                                char *err, size_t errlen) {
    syn_cfg c;
    cs_resolve(s, k, &c);
    c.name_prefix = "C";
    return syn_load(&c, s->name, cache_dir, d, err, errlen);
}
