/* test_criteo_synth.c: the criteo_synth kind (Criteo Kaggle's shape at a
 * scale): sizes, the fitted Zipf skew and count marginals as the recipe states
 * them, the Bayes ceiling, determinism, the output pinned to its recipe, the
 * recipe, validation; and the lifted
 * per-field cap of the generator with its memory check; its Criteo text
 * (ds_write_criteo) read back by the criteo loader. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "fixtures.h"

static const int64_t k_criteo_card[26] = {
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
};

static ds_spec cs_spec(const char *kind, const char *k1, const char *v1) {
    ds_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "cs");
    snprintf(s.kind, sizeof s.kind, "%s", kind);
    s.kind_line = 2, s.kind_col = 9;
    if (k1) {
        snprintf(s.key[0], sizeof s.key[0], "%s", k1);
        snprintf(s.val[0], sizeof s.val[0], "%s", v1);
        s.line[0] = 3, s.col[0] = 12;
        s.n = 1;
    }
    return s;
}

static ds_data *load_ok(const ds_spec *s) {
    ds_data *d = NULL;
    char err[1024] = "";
    cr_assert_eq(ds_load(s, NULL, &d, err, sizeof err), HX_OK, "ds_load: %s", err);
    return d;
}

/* n numbers after "<key>=" in the recipe, separated by ',' or '/'. */
static void recipe_numbers(const char *recipe, const char *key, double *out, int n) {
    const char *p = strstr(recipe, key);
    cr_assert_not_null(p, "recipe lacks %s: %s", key, recipe);
    p += strlen(key);
    for (int i = 0; i < n; i++) {
        char *end;
        out[i] = strtod(p, &end);
        cr_assert(end != p, "number %d of %s", i, key);
        p = end + 1;
    }
}

Test(criteo_synth, small_scale_has_criteo_fields_scaled) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.001");
    ds_data *d = load_ok(&s);
    cr_assert_eq(d->n_rows, 45841); /* round(45,840,617 / 1000) */
    cr_assert_eq(d->n_fields, 26);
    cr_assert_eq(d->n_dense, 13);
    for (int f = 0; f < 26; f++) {
        int64_t c = k_criteo_card[f], want = llround((double)c * 0.001);
        int64_t keep = c < 100 ? c : 100; /* card_floor 100: small fields whole */
        if (want < keep) want = keep;
        cr_assert_eq(d->card[f], want, "C%d: %lld ids, want %lld", f + 1, (long long)d->card[f], (long long)want);
        char name[8];
        snprintf(name, sizeof name, "C%d", f + 1);
        cr_assert_str_eq(d->field_names[f], name);
    }
    cr_assert_eq(d->card[2], 10131); /* C3 */
    cr_assert_eq(d->card[8], 3);     /* C9 kept whole */
    for (int64_t i = 0; i < d->n_rows * 26; i++) cr_assert_lt((int64_t)d->cat[i], d->card[i % 26]);
    ds_free(d);
}

/* Share of id 0 under a Zipf law of exponent z over n ids. */
static double zipf_top(double z, int64_t n) {
    double h = 0;
    for (int64_t i = n; i >= 1; i--) h += pow((double)i, -z);
    return 1.0 / h;
}

/* The top id's share is 1/H(card, s) for the exponent the recipe states. With
 * 45,841 rows its standard error is at most 0.0024 (p = 1/2); 0.012 is 5 of them. */
Test(criteo_synth, fitted_skew_sets_the_top_share) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.001");
    ds_data *d = load_ok(&s);
    double zipf[26];
    recipe_numbers(d->recipe, ";zipf=", zipf, 26);
    cr_assert_float_eq(zipf[8], 3.4638, 1e-9, "C9's fitted exponent");
    const int fields[] = {0, 2, 8, 9, 21, 25}; /* C1, C3, C9, C10, C22, C26 */
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int f = fields[i];
        int64_t top = 0;
        for (int64_t r = 0; r < d->n_rows; r++) top += d->cat[r * 26 + f] == 0;
        double got = (double)top / (double)d->n_rows, want = zipf_top(zipf[f], d->card[f]);
        cr_assert(fabs(got - want) < 0.012, "C%d: top share %.4f, Zipf(%.4f) over %lld ids gives %.4f", f + 1,
                  got, zipf[f], (long long)d->card[f], want);
    }
    ds_free(d);
}

/* E[log1p(max(1, round(exp(mu + sigma e))))], trapezoid over e in [-8, 8]. */
static double count_mean(double mu, double sigma) {
    double s = 0, w = 0;
    for (int i = 0; i <= 4000; i++) {
        double e = -8.0 + 16.0 * i / 4000, g = exp(-0.5 * e * e) * (i == 0 || i == 4000 ? 0.5 : 1);
        s += g * log1p(fmax(1.0, round(exp(mu + sigma * e))));
        w += g;
    }
    return s / w;
}

/* Per feature the share of zeros (missing or <= 0) and the mean over the
 * others match the model the recipe states. Tolerances: zeros 0.01 (standard
 * error <= 0.0024), means 0.06 (sd <= 2.9 over >= 2,000 values: se <= 0.065
 * only for I12's 2,700 values of sd 0.6, i.e. 0.012; I5's sd 2.9 over 43k, 0.014). */
Test(criteo_synth, dense_counts_follow_the_fitted_marginals) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.001");
    ds_data *d = load_ok(&s);
    double m[13 * 4];
    recipe_numbers(d->recipe, ";dense=", m, 13 * 4);
    for (int j = 0; j < 13; j++) {
        double miss = m[4 * j], zero = m[4 * j + 1], mu = m[4 * j + 2], sigma = m[4 * j + 3];
        int64_t n0 = 0, n1 = 0;
        double sum = 0;
        for (int64_t r = 0; r < d->n_rows; r++) {
            float x = d->dense[r * 13 + j];
            cr_assert(isfinite(x) && x >= 0, "I%d row %lld: %f", j + 1, (long long)r, x);
            if (x == 0) {
                n0++;
                continue;
            }
            cr_assert_geq(x, (float)log1p(1.0) - 1e-6f, "a present count is at least 1");
            n1++;
            sum += x;
        }
        double zeros = (double)n0 / (double)d->n_rows, want0 = miss + (1 - miss) * zero;
        cr_assert(fabs(zeros - want0) < 0.01, "I%d: zero share %.4f, want %.4f", j + 1, zeros, want0);
        double mean = sum / (double)n1, want = count_mean(mu, sigma);
        cr_assert(fabs(mean - want) < 0.06, "I%d: log1p mean %.4f, want %.4f", j + 1, mean, want);
    }
    cr_assert_float_eq(m[4 * 11], 0.7735, 1e-9, "I12 is mostly missing");
    ds_free(d);
}

Test(criteo_synth, bayes_ceiling_and_same_bytes_from_the_seed) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.0005");
    ds_data *a = load_ok(&s), *b = load_ok(&s);
    cr_assert(isfinite(a->bayes_auc) && a->bayes_auc > 0.5 && a->bayes_auc < 1, "Bayes AUC %f", a->bayes_auc);
    cr_assert(a->pos_rate_train > 0.1 && a->pos_rate_train < 0.4, "positive rate %f", a->pos_rate_train);
    size_t N = (size_t)a->n_rows;
    cr_assert(!memcmp(a->cat, b->cat, N * 26 * sizeof *a->cat));
    cr_assert(!memcmp(a->dense, b->dense, N * 13 * sizeof *a->dense));
    cr_assert(!memcmp(a->label, b->label, N * sizeof *a->label));
    cr_assert(!memcmp(a->prob, b->prob, N * sizeof *a->prob));
    cr_assert_str_eq(a->id, b->id);
    s.n++;
    snprintf(s.key[1], sizeof s.key[1], "seed");
    snprintf(s.val[1], sizeof s.val[1], "2");
    ds_data *c = load_ok(&s);
    cr_assert(memcmp(a->cat, c->cat, N * 26 * sizeof *a->cat) != 0, "another seed, other ids");
    ds_free(a), ds_free(b), ds_free(c);
}

Test(criteo_synth, output_pinned_to_its_recipe) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.0002");
    ds_data *d = load_ok(&s);
    fx_expect_pinned(d, 0x70fdcee775f6928aull, 0x0dd9fe8e5b671977ull);
    ds_free(d);
}

Test(criteo_synth, recipe_follows_scale_and_lists_the_fit) {
    ds_spec a = cs_spec("criteo_synth", "scale", "0.001"), b = cs_spec("criteo_synth", "scale", "0.002");
    ds_spec dflt = cs_spec("criteo_synth", NULL, NULL), one = cs_spec("criteo_synth", "scale", "0.01");
    cr_assert_neq(ds_spec_hash(&a), ds_spec_hash(&b));
    cr_assert_eq(ds_spec_hash(&dflt), ds_spec_hash(&one), "the default scale is 0.01");
    char buf[8192];
    cr_assert_eq(ds_spec_canonical(&b, buf, sizeof buf), HX_OK);
    cr_assert(strstr(buf, "kind=criteo_synth;gen=1;fit=") == buf, "%s", buf);
    cr_assert(strstr(buf, ";scale=0.002;card_floor=100;rows=91681;cardinalities=100,100,20262,4405,"), "%s", buf);
    cr_assert(strstr(buf, ";zipf=1.8024,1.0696,") && strstr(buf, ";dense=0.4481/0.4753/1.1501/1.0724,"), "%s", buf);
    cr_assert(strstr(buf, ";tail_count=640;") && strstr(buf, ";seed=1;"), "%s", buf);
}

static void expect_error(const ds_spec *s, const char *needle) {
    char err[2048] = "";
    cr_assert_neq(ds_spec_validate(s, "sweep.yaml", err, sizeof err), HX_OK, "expected '%s'", needle);
    cr_assert(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
}

Test(criteo_synth, validation_messages) {
    ds_spec s = cs_spec("criteo_synth", "cardinality", "10");
    expect_error(&s, "sweep.yaml:3:12: datasets.cs.cardinality: unknown key for kind criteo_synth");
    s = cs_spec("criteo_synth", "scael", "0.1");
    expect_error(&s, "did you mean 'scale'?");
    s = cs_spec("criteo_synth", "scale", "2");
    expect_error(&s, "sweep.yaml:3:12: datasets.cs.scale: expected a number in [1e-05, 1], got '2'");
    s = cs_spec("criteo_synth", "card_floor", "0");
    expect_error(&s, "datasets.cs.card_floor: expected an integer in [1, 2147483647], got '0'");
}

/* The per-field cap is INT32_MAX ids now: C3's 10,131,227 passes validation
 * (no generation here), one more than the cap does not. */
Test(criteo_synth, cap_lifted_above_ten_million) {
    ds_spec s = cs_spec("synthetic", "cardinalities", "1460,10131227");
    char err[1024] = "";
    cr_assert_eq(ds_spec_validate(&s, "sweep.yaml", err, sizeof err), HX_OK, "%s", err);
    s = cs_spec("synthetic", "cardinality", "2147483647");
    cr_assert_eq(ds_spec_validate(&s, "sweep.yaml", err, sizeof err), HX_OK, "%s", err);
    s = cs_spec("synthetic", "cardinality", "2147483648");
    expect_error(&s, "expected an integer in [0, 2147483647], got '2147483648'");
    ds_spec full = cs_spec("criteo_synth", "scale", "1");
    char buf[8192];
    cr_assert_eq(ds_spec_canonical(&full, buf, sizeof buf), HX_OK);
    cr_assert(strstr(buf, ";rows=45840617;cardinalities=1460,583,10131227,2202608,"), "%s", buf);
}

/* The generator computes what it needs before allocating: a recipe beyond
 * this machine fails with the figure instead of being killed half-way. */
Test(criteo_synth, memory_is_checked_before_generating) {
    ds_spec s = cs_spec("synthetic", "rows", "1000000000");
    s.n = 2;
    snprintf(s.key[1], sizeof s.key[1], "cardinality");
    snprintf(s.val[1], sizeof s.val[1], "2147483647");
    ds_data *d = NULL;
    char err[1024] = "";
    cr_assert_eq(ds_load(&s, NULL, &d, err, sizeof err), HX_ERR_NOMEM);
    cr_assert_null(d);
    cr_assert(strstr(err, "datasets.cs: generating 1000000000 rows needs ") && strstr(err, " GB, more than"), "%s", err);
}

/* The generated rows written as Criteo text and read back by the criteo loader:
 * the same splits, labels and dense values, and the same id partition in every
 * field (two train rows share a loaded id exactly when they share a generated
 * one); a dataset of another shape is refused and nothing is written. */
Test(criteo_synth, criteo_text_round_trips_through_the_loader) {
    ds_spec s = cs_spec("criteo_synth", "scale", "0.0003");
    ds_data *g = load_ok(&s);
    char dir[64], path[160], err[1024] = "";
    fx_tmpdir(dir);
    snprintf(path, sizeof path, "%s/g.tsv", dir);
    cr_assert_eq(ds_write_criteo(g, path, NULL, NULL, err, sizeof err), HX_OK, "%s", err);
    ds_data *d = fx_load("criteo", path, NULL, "val_frac=0.1", "test_frac=0.1");
    cr_assert_eq(d->n_rows, g->n_rows);
    cr_assert_eq(d->n_train, g->n_train);
    cr_assert_eq(d->n_val, g->n_val);
    cr_assert(!memcmp(d->label, g->label, (size_t)g->n_rows * sizeof(float)), "labels");
    cr_assert(!memcmp(d->dense, g->dense, (size_t)g->n_rows * 13 * sizeof(float)), "dense, bit for bit");
    uint32_t *seen = malloc(sizeof(uint32_t) * 4096);
    for (int f = 0; f < 26; f++) {
        int64_t card = g->card[f] < 4096 ? g->card[f] : 4096;
        memset(seen, 0xff, sizeof(uint32_t) * 4096);
        for (int64_t r = 0; r < g->n_train; r++) {
            uint32_t gi = g->cat[r * 26 + f], li = d->cat[r * 26 + f];
            if (gi >= card) continue;
            if (seen[gi] == UINT32_MAX) seen[gi] = li;
            cr_assert_eq(seen[gi], li, "field %d row %lld: one generated id, two loaded ids", f, (long long)r);
        }
        int64_t distinct = 0;
        for (int64_t i = 0; i < card; i++) distinct += seen[i] != UINT32_MAX;
        if (g->card[f] <= 4096) cr_assert_eq(d->card[f], distinct + 1, "field %d: train ids + OOV", f);
    }
    free(seen);
    ds_free(d);

    ds_spec o = cs_spec("synthetic", "rows", "1000");
    ds_data *other = load_ok(&o);
    snprintf(path, sizeof path, "%s/o.tsv", dir);
    cr_assert_eq(ds_write_criteo(other, path, NULL, NULL, err, sizeof err), HX_ERR_PARAM);
    cr_assert(strstr(err, "13 dense features and 26 fields"), "%s", err);
    cr_assert_neq(access(path, F_OK), 0, "nothing written");
    snprintf(path, sizeof path, "%s/no/such/dir/g.tsv", dir);
    cr_assert_eq(ds_write_criteo(g, path, NULL, NULL, err, sizeof err), HX_ERR_IO);
    cr_assert(strstr(err, "cannot create"), "%s", err);
    ds_free(other), ds_free(g);
    fx_rmdir(dir);
}
