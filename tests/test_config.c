/* test_config.c: sweep files -> cells (harness/sweep/config.c, expand.c), in process.
 *   expansion   exact cell counts for grid, zip, exclude, include and params fixtures
 *   keys        stable across loads, 16 hex digits, unique; changing a value changes them;
 *               the keys of every sweep file in the repository pinned (fixtures/run_keys.txt)
 *   errors      every problem of a file is reported at once with file:line:col
 *   bytes       the memory_limit size parser
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/sweep/config.h"

static cfg_sweep *load_ok(const char *file) {
    cfg_sweep *sw = NULL;
    char *errs = NULL;
    hx_status rc = cfg_load(file, 0, &sw, &errs);
    cr_assert_eq(rc, HX_OK, "%s: %s", file, errs ? errs : "?");
    cr_assert_null(errs);
    return sw;
}

static int count_skipped(const cfg_sweep *sw) {
    int n = 0;
    for (int i = 0; i < sw->n_cells; i++) n += sw->cells[i].skipped;
    return n;
}

static int count_method(const cfg_sweep *sw, const char *m) {
    int n = 0;
    for (int i = 0; i < sw->n_cells; i++) n += !strcmp(sw->cells[i].rc.method->name, m);
    return n;
}

Test(config, grid_counts_and_unreachable_skip) {
    cfg_sweep *sw = load_ok("tests/sweeps/grid.yaml");
    cr_expect_eq(sw->n_cells, 24);
    cr_expect_eq(count_skipped(sw), 8, "full at ratios 2 and 4 is unreachable");
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        cr_expect_eq(c->skipped, !strcmp(c->rc.method->name, "full") && c->rc.ratio != 1);
        if (c->skipped) cr_expect(strstr(c->reason, "unreachable") != NULL, "%s", c->reason);
        else cr_expect(c->ratio_planned > 0);
    }
    cfg_free(sw);
}

Test(config, zip_advances_together) {
    cfg_sweep *sw = load_ok("tests/sweeps/zip.yaml");
    cr_expect_eq(sw->n_cells, 6);
    int thr = emb_param_index(emb_method_find("hash"), "threshold");
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        double expect = c->rc.ratio == 2 ? 10 : c->rc.ratio == 4 ? 20 : 30;
        cr_expect_eq(c->rc.pv[thr], expect, "ratio %g paired with threshold %g", c->rc.ratio, c->rc.pv[thr]);
    }
    cfg_free(sw);
}

Test(config, minimal_shape_with_exclude) {
    cfg_sweep *sw = load_ok("tests/sweeps/exclude.yaml");
    cr_expect_eq(sw->n_cells, 12);
    cr_expect_eq(count_method(sw, "full"), 4);
    cr_expect_eq(sw->jobs, 2);
    cr_expect_eq(sw->timeout, 120);
    cr_expect_str_eq(sw->name, "t_exclude");
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        cr_expect(!(c->rc.ratio == 4 && !strcmp(c->rc.method->name, "full")));
        /* dot interaction: the bottom MLP ends at dim */
        cr_expect_eq(c->rc.model.bottom[c->rc.model.n_bottom - 1], c->rc.dim);
    }
    cfg_free(sw);
}

Test(config, include_adds_cells) {
    cfg_sweep *sw = load_ok("tests/sweeps/include.yaml");
    cr_expect_eq(sw->n_cells, 6);
    cr_expect_eq(count_method(sw, "full"), 2);
    cfg_free(sw);
}

Test(config, params_axis_only_multiplies_its_method) {
    cfg_sweep *sw = load_ok("tests/sweeps/params.yaml");
    cr_expect_eq(sw->n_cells, 12);
    cr_expect_eq(count_method(sw, "full"), 4);
    cr_expect_eq(count_method(sw, "hash"), 8);
    const emb_method *h = emb_method_find("hash");
    for (int i = 0; i < sw->n_cells; i++)
        if (sw->cells[i].rc.method == h) cr_expect_eq(sw->cells[i].rc.pv[emb_param_index(h, "hash")], 1, "modulo");
    cfg_free(sw);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

#define SMALL                                                                                 \
    "datasets:\n  syn: {kind: synthetic, rows: 2000, fields: 3, cardinality: 300, dense: 2}\n" \
    "matrix:\n  method: [full, hash]\n  ratio: [1]\n  seed: [1, 2]\n"

Test(config, keys_stable_unique_and_sensitive) {
    char dir[] = "/tmp/embsweep_cfgXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.yaml", dir);
    snprintf(b, sizeof b, "%s/b.yaml", dir);
    write_file(a, "name: k\n" SMALL "train: {lr: 0.05}\n");
    write_file(b, "name: k\n" SMALL "train: {lr: 0.051}\n");
    cfg_sweep *s1 = load_ok(a), *s2 = load_ok(a), *s3 = load_ok(b);
    cr_assert_eq(s1->n_cells, 4);
    cr_assert_eq(s3->n_cells, 4);
    for (int i = 0; i < s1->n_cells; i++) {
        cr_expect_eq(strlen(s1->cells[i].key), 16);
        cr_expect_eq(strspn(s1->cells[i].key, "0123456789abcdef"), 16);
        cr_expect_str_eq(s1->cells[i].key, s2->cells[i].key, "stable across loads");
        cr_expect_str_eq(s1->cells[i].json, s2->cells[i].json);
        cr_expect_str_neq(s1->cells[i].key, s3->cells[i].key, "lr changes the key");
        for (int j = 0; j < i; j++) cr_expect_str_neq(s1->cells[i].key, s1->cells[j].key, "unique");
        cr_expect(strstr(s1->cells[i].json, "\"lr\":0.050000000000000003") != NULL, "%s", s1->cells[i].json);
    }
    /* the dataset recipe is part of the key */
    FILE *f = fopen(b, "w");
    fputs("name: k\ndatasets:\n  syn: {kind: synthetic, rows: 2000, fields: 3, cardinality: 300, dense: 2, seed: 9}\n"
          "matrix:\n  method: [full, hash]\n  ratio: [1]\n  seed: [1, 2]\ntrain: {lr: 0.05}\n", f);
    fclose(f);
    cfg_sweep *s4 = load_ok(b);
    for (int i = 0; i < s1->n_cells; i++) cr_expect_str_neq(s1->cells[i].key, s4->cells[i].key);
    cfg_free(s1), cfg_free(s2), cfg_free(s3), cfg_free(s4);
    unlink(a), unlink(b), rmdir(dir);
}

Test(config, all_errors_reported_at_once) {
    cfg_sweep *sw = NULL;
    char *errs = NULL;
    hx_status rc = cfg_load("tests/bad_yaml/many_errors.yaml", 0, &sw, &errs);
    cr_assert_eq(rc, HX_ERR_FORMAT);
    cr_assert_null(sw);
    cr_assert_not_null(errs);
    int lines = 0;
    for (const char *p = errs; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 4, "%s", errs);
    cr_expect(strstr(errs, "many_errors.yaml:5:12: matrix.method: unknown method 'fulll' (did you mean 'full'?)"));
    hx_free(errs);
}

Test(config, missing_file_is_an_error) {
    cfg_sweep *sw = NULL;
    char *errs = NULL;
    cr_expect_neq(cfg_load("tests/sweeps/no_such_file.yaml", 0, &sw, &errs), HX_OK);
    cr_expect_null(sw);
    cr_expect(errs && strstr(errs, "cannot read"));
    hx_free(errs);
}

Test(config, parse_bytes) {
    uint64_t b;
    cr_expect_eq(key_parse_bytes("2GiB", &b), 0);
    cr_expect_eq(b, 2ull << 30);
    cr_expect_eq(key_parse_bytes("512MiB", &b), 0);
    cr_expect_eq(b, 512ull << 20);
    cr_expect_eq(key_parse_bytes("1.5G", &b), 0);
    cr_expect_eq(b, 1500000000ull);
    cr_expect_eq(key_parse_bytes("1000", &b), 0);
    cr_expect_eq(b, 1000);
    cr_expect_neq(key_parse_bytes("lots", &b), 0);
    cr_expect_neq(key_parse_bytes("12 parsecs", &b), 0);
    cr_expect_neq(key_parse_bytes("-1G", &b), 0);
}

Test(config, emb_optimizer_follows_cell_optimizer) {
    cfg_sweep *sw = load_ok("tests/sweeps/emb_optimizer.yaml");
    cr_expect_eq(sw->n_cells, 3);
    for (int i = 0; i < sw->n_cells; i++) {
        const train_cfg *t = &sw->cells[i].rc.train;
        cr_expect_eq(t->emb_optimizer, run_default_emb_optimizer(t->optimizer), "optimizer %s gave emb_optimizer %s",
                     opt_kind_name(t->optimizer), opt_kind_name(t->emb_optimizer));
    }
    cfg_free(sw);
}

/* The run keys of the sweep files in the repository are those of
 * tests/fixtures/run_keys.txt, computed before the config keys became table
 * rows: every listed key is still produced, so an existing database resumes
 * without rerunning anything (new methods may add cells to `method: all`). */
static int cell_has_key(const cfg_sweep *sw, const char *key) {
    for (int i = 0; i < sw->n_cells; i++)
        if (!strcmp(sw->cells[i].key, key)) return 1;
    return 0;
}

Test(config, run_keys_unchanged) {
    FILE *f = fopen("tests/fixtures/run_keys.txt", "r");
    cr_assert_not_null(f);
    char line[1024], file[512] = "";
    cfg_sweep *sw = NULL;
    int n_keys = 0, n_files = 0;
    while (fgets(line, sizeof line, f)) {
        char name[512], key[64];
        if (line[0] == '#' || sscanf(line, "%511s %63s", name, key) != 2) continue;
        if (strcmp(name, file)) {
            cfg_free(sw);
            char *errs = NULL;
            cr_assert_eq(cfg_load(name, CFG_NO_PLAN, &sw, &errs), HX_OK, "%s: %s", name, errs ? errs : "?");
            snprintf(file, sizeof file, "%s", name);
            n_files++;
        }
        cr_expect(cell_has_key(sw, key), "%s: run key %s is no longer produced", name, key);
        n_keys++;
    }
    fclose(f);
    cfg_free(sw);
    cr_expect_geq(n_files, 11, "fixture files: %d", n_files);
    cr_expect_geq(n_keys, 600, "fixture keys: %d", n_keys);
}
