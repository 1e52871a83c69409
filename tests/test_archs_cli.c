/* test_archs_cli.c: the model.arch axis through the built binary (EMBSWEEP_BIN):
 * a sweep crossing four archs runs, dlrm cells keep the run keys they had
 * without the axis, `embsweep compare` judges each arch against `full` of the
 * same arch (and across archs in its pair mode), `embsweep plot` draws one group per arch (dlrm's file names
 * unchanged), `embsweep train --arch` runs, and bad arch values are errors at
 * file:line:column; experiments/models.yaml plans every cell. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

#define SWEEP_HEAD                                                                               \
    "name: ax\n"                                                                                 \
    "datasets:\n"                                                                                \
    "  syn: {kind: synthetic, rows: 3000, fields: 4, cardinality: 300, dense: 3, seed: 7}\n"     \
    "model: {bottom_mlp: [8], top_mlp: [8], cross_layers: 2}\n"                                  \
    "train: {epochs: 1, batch: 128, optimizer: adagrad, lr: 0.05}\n"                             \
    "keep_scores: false\n"

static const char k_with_axis[] = SWEEP_HEAD "matrix:\n"
                                             "  method: [full, hash]\n"
                                             "  model.arch: [dlrm, dcn, deepfm, wdl]\n"
                                             "  ratio: [1, 4]\n"
                                             "exclude:\n"
                                             "  - {method: full, ratio: 4}\n"
                                             "  - {method: hash, ratio: 1}\n";
static const char k_without[] = SWEEP_HEAD "matrix:\n"
                                           "  method: [full, hash]\n"
                                           "  ratio: [1, 4]\n"
                                           "exclude:\n"
                                           "  - {method: full, ratio: 4}\n"
                                           "  - {method: hash, ratio: 1}\n";

/* Keys of the --dry-run lines without " arch=" (the dlrm cells), in order. */
static int dlrm_keys(const char *out, char keys[][17], int max) {
    int n = 0;
    for (const char *l = out; *l && n < max;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), l);
        if (strlen(line) > 18 && line[16] == ' ' && !strstr(line, " arch=")) snprintf(keys[n++], 17, "%.16s", line);
        l += len + (e != NULL);
    }
    return n;
}

Test(archs_cli, axis_keys_compare_plot) {
    static char out[65536], out2[65536];
    char dir[64], with[128], without[128], args[768];
    fx_tmpdir(dir);
    fx_write(dir, "with.yaml", k_with_axis, with);
    fx_write(dir, "without.yaml", k_without, without);

    snprintf(args, sizeof args, "run %s --dry-run", with);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "8 runs") != NULL, "%s", out);
    snprintf(args, sizeof args, "run %s --dry-run", without);
    cr_assert_eq(fx_run_cli(args, out2, sizeof out2), 0, "%s", out2);
    char k1[8][17], k2[8][17];
    const int n1 = dlrm_keys(out, k1, 8), n2 = dlrm_keys(out2, k2, 8);
    cr_expect_eq(n1, 2, "%s", out);
    cr_expect_eq(n2, 2, "%s", out2);
    for (int i = 0; i < n1 && i < n2; i++) cr_expect_str_eq(k1[i], k2[i], "dlrm cells keep their run keys");

    snprintf(args, sizeof args, "run %s --db %s/r.db --jobs 2", with, dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "compare --db %s/r.db", dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    /* a baseline row and a judged hash row in each arch's variant */
    static const char *const variants[] = {"arch=dcn", "arch=deepfm", "arch=wdl"};
    int baselines = 0;
    for (const char *p = out; (p = strstr(p, "baseline\n")); p++) baselines++;
    cr_expect_eq(baselines, 4, "one full baseline per arch: %s", out);
    for (int v = 0; v < 3; v++) {
        int rows = 0;
        for (const char *p = out; (p = strstr(p, variants[v])); p++) rows++;
        cr_expect_eq(rows, 2, "%s: full and hash in their own setting: %s", variants[v], out);
    }
    /* the pair mode across archs: arch selects (absent: dlrm) and tells configs apart */
    snprintf(args, sizeof args, "compare --db %s/r.db --csv --config 'method=hash arch=dcn' --against 'method=full"
             " arch=dlrm'", dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, ",arch=dcn/dlrm") && strstr(out, "not resolved (1 seed)"), "%s", out);
    snprintf(args, sizeof args, "compare --db %s/r.db --config method=hash --against method=full", dir);
    cr_expect_eq(fx_run_cli(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "matches 4 configs") && strstr(out, "arch=dlrm") && strstr(out, "arch=wdl"), "%s", out);

    snprintf(args, sizeof args, "plot --db %s/r.db --out %s/plots", dir, dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    static const char *const files[] = {"ax__syn__d16__auc.png", "ax__syn__d16__dcn__auc.png",
                                        "ax__syn__d16__deepfm__auc.png", "ax__syn__d16__wdl__auc.png"};
    for (int i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/plots/%s", dir, files[i]);
        cr_expect_eq(access(path, F_OK), 0, "missing %s", path);
    }
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    cr_expect_eq(system(rm), 0);
}

Test(archs_cli, train_flag_and_bad_values) {
    static char out[16384];
    cr_assert_eq(fx_run_cli("train --rows 3000 --fields 4 --dense 3 --arch dcn --cross-layers 2 --dcn-structure "
                            "parallel --cross-rank 4 --epochs 0.5 --batch 128",
                            out, sizeof out),
                 0, "%s", out);
    cr_expect(strstr(out, "ratio") != NULL, "%s", out);
    cr_expect_eq(fx_run_cli("train --arch dcnn", out, sizeof out), 2);
    cr_expect(strstr(out, "dlrm, dcn, deepfm, wdl") != NULL, "%s", out);

    char dir[64], path[128], args[256];
    fx_tmpdir(dir);
    fx_write(dir, "bad.yaml", SWEEP_HEAD "matrix:\n  method: [full]\n  model.arch: [dlrm, dcm]\n", path);
    snprintf(args, sizeof args, "run %s --dry-run", path);
    cr_expect_eq(fx_run_cli(args, out, sizeof out), 2);
    cr_expect(strstr(out, "bad.yaml:9:22") && strstr(out, "dlrm, dcn, deepfm, wdl"), "%s", out);
    fx_write(dir, "bad2.yaml", SWEEP_HEAD "matrix:\n  method: [full]\n  model.arhc: [dcn]\n", path);
    snprintf(args, sizeof args, "run %s --dry-run", path);
    cr_expect_eq(fx_run_cli(args, out, sizeof out), 2);
    cr_expect(strstr(out, "bad2.yaml:9:3") && strstr(out, "unknown model key 'arhc'"), "%s", out);
    fx_write(dir, "bad3.yaml", SWEEP_HEAD "matrix:\n  method: [full]\n  model.bottom_mlp: [8]\n", path);
    snprintf(args, sizeof args, "run %s --dry-run", path);
    cr_expect_eq(fx_run_cli(args, out, sizeof out), 2, "a list key is not an axis: %s", out);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    cr_expect_eq(system(rm), 0);
}

Test(archs_cli, models_yaml_plans_every_cell) {
    static char out[1 << 17];
    cr_assert_eq(fx_run_cli("run experiments/models.yaml --dry-run", out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "360 runs (360 to run, 0 skipped as unreachable) in sweep models") != NULL, "%s",
              out + (strlen(out) > 300 ? strlen(out) - 300 : 0));
}
