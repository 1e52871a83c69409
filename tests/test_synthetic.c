/* test_synthetic.c: the synthetic generator (determinism, its output pinned to its
 * recipe, shapes, ids, Zipf skew, the Bayes ceiling against an independent
 * brute-force AUC) and the dataset spec machinery (validation messages,
 * canonical text, hash, arguments). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "fixtures.h"

static void spec_add(ds_spec *s, const char *k, const char *v, int line, int col) {
    cr_assert_lt(s->n, DS_MAX_KEYS);
    snprintf(s->key[s->n], sizeof s->key[0], "%s", k);
    snprintf(s->val[s->n], sizeof s->val[0], "%s", v);
    s->line[s->n] = line;
    s->col[s->n] = col;
    s->n++;
}

static ds_spec syn(const char *name) {
    ds_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.kind, sizeof s.kind, "synthetic");
    s.kind_line = 2, s.kind_col = 9;
    return s;
}

static ds_data *load_ok(const ds_spec *s) {
    ds_data *d = NULL;
    char err[1024] = "";
    hx_status st = ds_load(s, NULL, &d, err, sizeof err);
    cr_assert_eq(st, HX_OK, "ds_load: %s", err);
    cr_assert_not_null(d);
    return d;
}

Test(synthetic, deterministic_from_seed) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "3000", 3, 5);
    ds_data *a = load_ok(&s), *b = load_ok(&s);
    size_t N = (size_t)a->n_rows, F = (size_t)a->n_fields, D = (size_t)a->n_dense;
    cr_assert(!memcmp(a->cat, b->cat, N * F * sizeof *a->cat));
    cr_assert(!memcmp(a->dense, b->dense, N * D * sizeof *a->dense));
    cr_assert(!memcmp(a->label, b->label, N * sizeof *a->label));
    cr_assert(!memcmp(a->prob, b->prob, N * sizeof *a->prob));
    cr_assert_str_eq(a->id, b->id);
    spec_add(&s, "seed", "2", 4, 5);
    ds_data *c = load_ok(&s);
    cr_assert(memcmp(a->cat, c->cat, N * F * sizeof *a->cat) != 0, "another seed, other ids");
    cr_assert_str_neq(a->id, c->id);
    ds_free(a), ds_free(b), ds_free(c);
}

Test(synthetic, output_pinned_to_its_recipe) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "5000", 3, 5);
    spec_add(&s, "seed", "13", 4, 5);
    ds_data *d = load_ok(&s);
    fx_expect_pinned(d, 0x1195b9b49b440040ull, 0x5b0099df46ccaff0ull);
    ds_free(d);
}

/* A row's ids and dense values come from the row stream alone, drawn row after
 * row (in blocks of rows, datasets/synthetic.c): a shorter dataset of the same
 * recipe is a prefix of a longer one, across a block's end and a partial block. */
Test(synthetic, rows_are_a_prefix_of_a_longer_recipe) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "37", 3, 5);
    ds_data *a = load_ok(&s);
    snprintf(s.val[0], sizeof s.val[0], "100");
    ds_data *b = load_ok(&s);
    const size_t F = (size_t)a->n_fields, D = (size_t)a->n_dense;
    cr_assert_eq(a->n_rows, 37);
    cr_assert_gt(D, 0);
    cr_assert(!memcmp(a->cat, b->cat, 37 * F * sizeof *a->cat), "the ids of the first 37 rows");
    cr_assert(!memcmp(a->dense, b->dense, 37 * D * sizeof *a->dense), "their dense values");
    ds_free(a), ds_free(b);
}

Test(synthetic, shapes_split_and_ids_in_range) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "1001", 0, 0);
    spec_add(&s, "cardinalities", "3,50,7", 0, 0);
    spec_add(&s, "dense", "2", 0, 0);
    spec_add(&s, "val_frac", "0.2", 0, 0);
    spec_add(&s, "test_frac", "0.3", 0, 0);
    ds_data *d = load_ok(&s);
    cr_assert_eq(d->n_rows, 1001);
    cr_assert_eq(d->n_fields, 3);
    cr_assert_eq(d->n_dense, 2);
    cr_assert_eq(d->card[0], 3);
    cr_assert_eq(d->card[1], 50);
    cr_assert_eq(d->card[2], 7);
    cr_assert_eq(d->n_test, 300);
    cr_assert_eq(d->n_val, 200);
    cr_assert_eq(d->n_train, 501);
    for (int64_t r = 0; r < d->n_rows; r++) {
        for (int f = 0; f < 3; f++) cr_assert_lt((int64_t)d->cat[r * 3 + f], d->card[f]);
        cr_assert(d->label[r] == 0.0f || d->label[r] == 1.0f);
        cr_assert(d->prob[r] > 0 && d->prob[r] < 1);
        cr_assert(isfinite(d->dense[r * 2]) && isfinite(d->dense[r * 2 + 1]));
    }
    cr_assert_not_null(d->field_names);
    cr_assert_str_eq(d->field_names[2], "f2");
    ds_free(d);
}

Test(synthetic, default_and_criteo_preset) {
    ds_spec s = syn("syn");
    ds_data *d = load_ok(&s);
    cr_assert_eq(d->n_rows, 400000);
    cr_assert_eq(d->n_fields, 8);
    cr_assert_eq(d->n_dense, 4);
    cr_assert_eq(d->card[0], 10);
    cr_assert_eq(d->card[7], 20000);
    cr_assert(d->bayes_auc > 0.75 && d->bayes_auc < 0.85, "default Bayes AUC %f", d->bayes_auc);
    cr_assert(d->pos_rate_train > 0.2 && d->pos_rate_train < 0.4);
    ds_free(d);

    ds_spec c = syn("crit");
    spec_add(&c, "preset", "criteo", 0, 0);
    spec_add(&c, "rows", "500", 0, 0);
    d = load_ok(&c);
    cr_assert_eq(d->n_fields, 26);
    cr_assert_eq(d->n_dense, 13);
    cr_assert_eq(d->card[0], 10);
    cr_assert_eq(d->card[25], 1000000);
    for (int f = 1; f < 26; f++) cr_assert_gt(d->card[f], d->card[f - 1], "log-spaced, increasing");
    ds_free(d);
}

/* Brute force: P(score_pos > score_neg) + P(tie)/2 over all pairs. */
static double auc_pairs(const float *p, const float *y, int64_t n) {
    double num = 0, pairs = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            if (y[i] > 0.5f && y[j] < 0.5f) {
                pairs++;
                num += p[i] > p[j] ? 1.0 : (p[i] == p[j] ? 0.5 : 0.0);
            }
    return num / pairs;
}

Test(synthetic, bayes_auc_and_logloss_match_independent_computation) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "4000", 0, 0);
    spec_add(&s, "cardinality", "5", 0, 0); /* few ids: many tied probabilities */
    spec_add(&s, "fields", "2", 0, 0);
    spec_add(&s, "dense", "0", 0, 0);
    ds_data *d = load_ok(&s);
    int64_t t0 = d->n_train + d->n_val, n = d->n_test;
    cr_assert_eq(n, 400);
    double want = auc_pairs(d->prob + t0, d->label + t0, n);
    cr_assert_float_eq(d->bayes_auc, want, 1e-12, "bayes %f vs brute force %f", d->bayes_auc, want);
    double ll = 0;
    for (int64_t i = t0; i < t0 + n; i++)
        ll -= d->label[i] > 0.5f ? log(d->prob[i]) : log(1.0 - d->prob[i]);
    cr_assert_float_eq(d->bayes_logloss, ll / (double)n, 1e-9);
    double pos = 0;
    for (int64_t i = 0; i < d->n_train; i++) pos += d->label[i];
    cr_assert_float_eq(d->pos_rate_train, pos / (double)d->n_train, 1e-12);
    ds_free(d);
}

Test(synthetic, zipf_skew_present_and_absent) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "40000", 0, 0);
    spec_add(&s, "fields", "1", 0, 0);
    spec_add(&s, "cardinality", "1000", 0, 0);
    spec_add(&s, "zipf", "1.05", 0, 0);
    ds_data *d = load_ok(&s);
    static int64_t cnt[1000];
    memset(cnt, 0, sizeof cnt);
    for (int64_t r = 0; r < d->n_rows; r++) cnt[d->cat[r]]++;
    /* P(0)/P(9) = 10^1.05 = 11.2 */
    double ratio = (double)cnt[0] / (double)cnt[9];
    cr_assert(ratio > 9 && ratio < 14, "Zipf ratio %f", ratio);
    cr_assert_gt(cnt[0], cnt[1]);
    cr_assert_gt(cnt[1], cnt[5]);
    ds_free(d);

    ds_spec u = syn("uni");
    spec_add(&u, "rows", "40000", 0, 0);
    spec_add(&u, "fields", "1", 0, 0);
    spec_add(&u, "cardinality", "10", 0, 0);
    spec_add(&u, "zipf", "0", 0, 0);
    d = load_ok(&u);
    memset(cnt, 0, sizeof cnt);
    for (int64_t r = 0; r < d->n_rows; r++) cnt[d->cat[r]]++;
    for (int i = 0; i < 10; i++) cr_assert(cnt[i] > 3600 && cnt[i] < 4400, "uniform id %d: %lld", i, (long long)cnt[i]);
    ds_free(d);
}

Test(synthetic, noise_lowers_the_ceiling) {
    ds_spec s = syn("syn");
    spec_add(&s, "rows", "20000", 0, 0);
    ds_data *a = load_ok(&s);
    spec_add(&s, "noise", "2", 0, 0);
    ds_data *b = load_ok(&s);
    cr_assert_lt(b->bayes_auc, a->bayes_auc - 0.02, "noise %f vs none %f", b->bayes_auc, a->bayes_auc);
    /* Same features, only the probabilities are squashed towards the mean. */
    cr_assert(!memcmp(a->cat, b->cat, (size_t)a->n_rows * a->n_fields * sizeof *a->cat));
    ds_free(a), ds_free(b);
}

Test(spec, canonical_fills_defaults_and_hash_follows_it) {
    ds_spec a = syn("syn"), b = syn("syn");
    spec_add(&b, "rows", "400000", 0, 0);
    spec_add(&b, "zipf", "1.050", 0, 0);
    char ca[8192], cb[8192];
    cr_assert_eq(ds_spec_canonical(&a, ca, sizeof ca), HX_OK);
    cr_assert_eq(ds_spec_canonical(&b, cb, sizeof cb), HX_OK);
    cr_assert_str_eq(ca, cb);
    cr_assert(strstr(ca, "rows=400000;") && strstr(ca, "zipf=1.05;") && strstr(ca, "seed=1;"), "%s", ca);
    cr_assert(strstr(ca, "cardinalities=10,30,88,260,770,2280,6752,20000;"), "%s", ca);
    cr_assert_eq(ds_spec_hash(&a), ds_spec_hash(&b));
    spec_add(&b, "rows", "1000", 0, 0); /* duplicate key: invalid */
    cr_assert_eq(ds_spec_canonical(&b, cb, sizeof cb), HX_ERR_PARAM);
    ds_spec c = syn("syn");
    spec_add(&c, "rows", "1000", 0, 0);
    cr_assert_neq(ds_spec_hash(&a), ds_spec_hash(&c));
    /* A preset and its explicit equivalent are the same recipe. */
    ds_spec p = syn("x"), q = syn("x");
    spec_add(&p, "preset", "criteo", 0, 0);
    spec_add(&q, "fields", "26", 0, 0);
    spec_add(&q, "dense", "13", 0, 0);
    spec_add(&q, "card_max", "1000000", 0, 0);
    cr_assert_eq(ds_spec_hash(&p), ds_spec_hash(&q));
}

Test(spec, id_is_name_and_recipe_hash) {
    ds_spec s = syn("tiny");
    spec_add(&s, "rows", "100", 0, 0);
    ds_data *d = load_ok(&s);
    char want[32];
    snprintf(want, sizeof want, "tiny_%08x", (unsigned)(ds_spec_hash(&s) >> 32));
    cr_assert_str_eq(d->id, want);
    cr_assert_eq(d->recipe_hash, ds_spec_hash(&s));
    cr_assert_str_eq(d->kind, "synthetic");
    cr_assert(strstr(d->recipe, "kind=synthetic") == d->recipe);
    ds_free(d);
}

static void expect_error(ds_spec *s, const char *needle) {
    char err[2048] = "";
    hx_status st = ds_spec_validate(s, "sweep.yaml", err, sizeof err);
    cr_assert_neq(st, HX_OK, "expected an error containing '%s'", needle);
    cr_assert(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
}

Test(spec, validation_messages) {
    ds_spec s = syn("syn");
    spec_add(&s, "fieldz", "3", 4, 12);
    expect_error(&s, "sweep.yaml:4:12: datasets.syn.fieldz: unknown key for kind synthetic; did you mean 'fields'?");

    s = syn("syn");
    spec_add(&s, "rows", "lots", 5, 11);
    expect_error(&s, "sweep.yaml:5:11: datasets.syn.rows: expected an integer in [10, 1000000000], got 'lots'");
    s = syn("syn");
    spec_add(&s, "zipf", "9", 6, 3);
    expect_error(&s, "datasets.syn.zipf: expected a number in [0, 4], got '9'");
    s = syn("syn");
    spec_add(&s, "preset", "critto", 7, 3);
    expect_error(&s, "expected one of none|criteo, got 'critto'");
    s = syn("syn");
    spec_add(&s, "cardinalities", "10,x,3", 7, 3);
    expect_error(&s, "got 'x' in the list");
    s = syn("syn");
    spec_add(&s, "cardinalities", "10,20", 7, 3);
    spec_add(&s, "fields", "3", 8, 3);
    expect_error(&s, "cardinalities lists 2 fields but fields is 3");
    s = syn("syn");
    spec_add(&s, "rows", "100", 0, 0);
    spec_add(&s, "rows", "200", 9, 1);
    expect_error(&s, "datasets.syn.rows: duplicate key");

    s = syn("syn");
    snprintf(s.kind, sizeof s.kind, "synthetik");
    expect_error(&s, "sweep.yaml:2:9: datasets.syn.kind: unknown kind 'synthetik'");
    expect_error(&s, "did you mean 'synthetic'?");
    /* several problems are all reported */
    s = syn("syn");
    spec_add(&s, "rowz", "1", 3, 1);
    spec_add(&s, "dense", "-1", 4, 1);
    expect_error(&s, "rowz");
    expect_error(&s, "\nsweep.yaml:4:1: datasets.syn.dense");
}

Test(spec, from_args) {
    ds_spec s;
    char err[1024];
    char *ok[] = {"rows=500", "dense=0"};
    cr_assert_eq(ds_spec_from_args(&s, NULL, "synthetic", 2, ok, err, sizeof err), HX_OK, "%s", err);
    cr_assert_str_eq(s.name, "synthetic");
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.key[1], "dense");
    char *bad[] = {"rows"};
    cr_assert_eq(ds_spec_from_args(&s, "x", "synthetic", 1, bad, err, sizeof err), HX_ERR_PARAM);
    cr_assert(strstr(err, "expected key=value"), "%s", err);
    char *unk[] = {"zipff=1"};
    cr_assert_eq(ds_spec_from_args(&s, "x", "synthetic", 1, unk, err, sizeof err), HX_ERR_PARAM);
    cr_assert(strstr(err, "command line: datasets.x.zipff: unknown key") && strstr(err, "'zipf'"), "%s", err);
    cr_assert_gt(ds_kind_count(), 0);
    cr_assert_str_eq(ds_kind_name(0), "synthetic");
    cr_assert_null(ds_kind_name(ds_kind_count()));
}
