/* test_plot_verdict.c: the verdicts in the figures and on the page, on a
 * database built at test time from harness/sweep/schema.sql and
 * tests/fixtures/plot_verdict_fixture.sql (its header holds the hand-checked
 * answers). Checks: the AUC and logloss bars are st_mean_ci's 95% interval from
 * 3 seeds and min/max below, in pl_cfg and in configs.tsv; the config not
 * resolved against full is drawn hollow and the resolved ones filled (the data's
 * hollow column and the gnuplot script's text); the key and the axis label say
 * so; a point pooling two lr settings is hollow when one of them is not
 * resolved; index.html has the verdict table with the right verdicts, escaped.
 * Run from the repository root (make test); EMBSWEEP_BIN names the CLI.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "fixtures.h"
#include "harness/core/stats.h"
#include "harness/report/plot.h"
#include "harness/report/verdict.h"

static char g_dir[64], g_db[128];

static void make_db(void) {
    fx_tmpdir(g_dir);
    snprintf(g_db, sizeof g_db, "%s/fv.db", g_dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(g_db, &db), SQLITE_OK);
    const char *files[] = {"harness/sweep/schema.sql", "tests/fixtures/plot_verdict_fixture.sql"};
    for (int i = 0; i < 2; i++) {
        size_t n;
        char *sql = fx_read(files[i], &n), *msg = NULL;
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", files[i], msg);
        free(sql);
    }
    sqlite3_close(db);
}

static void remove_db(void) { fx_rmdir(g_dir); }

static const pl_cfg *cfg_of(const pl_group *g, const char *method, double ratio) {
    for (size_t i = 0; i < g->n_cfg; i++)
        if (!strcmp(g->cfg[i].method, method) && g->cfg[i].ratio == ratio) return &g->cfg[i];
    cr_assert_fail("no config %s r%g", method, ratio);
    return NULL;
}

/* The bar of c is st_mean_ci's 95% interval of the three AUCs (and logloss). */
static void expect_ci(const pl_cfg *c, const double auc[3], double lo, double hi) {
    double ll[3] = {1.25 - auc[0], 1.25 - auc[1], 1.25 - auc[2]};
    st_summary a = st_mean_ci(auc, 3, 0.05), l = st_mean_ci(ll, 3, 0.05);
    cr_expect(c->auc_bar.ci && c->logloss_bar.ci, "%s r%g: not a CI", c->method, c->ratio);
    cr_expect(fabs(c->auc_bar.lo - a.ci_lo) < 1e-12 && fabs(c->auc_bar.hi - a.ci_hi) < 1e-12, "%s r%g: [%g, %g]",
              c->method, c->ratio, c->auc_bar.lo, c->auc_bar.hi);
    cr_expect(fabs(c->auc_bar.lo - lo) < 1e-6 && fabs(c->auc_bar.hi - hi) < 1e-6, "%s r%g: hand answer",
              c->method, c->ratio);
    cr_expect(fabs(c->logloss_bar.lo - l.ci_lo) < 1e-12 && fabs(c->logloss_bar.hi - l.ci_hi) < 1e-12);
}

Test(plot_verdict, bars_and_hollow_in_the_group, .init = make_db, .fini = remove_db) {
    sqlite3 *db;
    char err[256];
    pl_group g;
    cr_assert_eq(pl_db_open(g_db, &db, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(pl_group_load(db, "fv", "syn", 8, NULL, 0, &g, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(g.n_cfg, 5);
    expect_ci(cfg_of(&g, "full", 1), (double[]){0.780, 0.784, 0.782}, 0.777032, 0.786968);
    expect_ci(cfg_of(&g, "hash", 4), (double[]){0.770, 0.7745, 0.7715}, 0.766308, 0.777692);
    expect_ci(cfg_of(&g, "qr", 4), (double[]){0.786, 0.776, 0.783}, 0.768919, 0.794414);
    const pl_cfg *two = cfg_of(&g, "hash", 16); /* 2 seeds: min/max */
    cr_expect(!two->auc_bar.ci && two->auc_bar.lo == 0.760 && two->auc_bar.hi == 0.7639, "[%g, %g]",
              two->auc_bar.lo, two->auc_bar.hi);
    const char *methods[] = {"full", "hash", "hash", "qr", "qr"};
    const double ratios[] = {1, 4, 16, 4, 16};
    const int hollow[] = {0, 0, 0, 1, 0};
    const vd_kind kinds[] = {VD_BASELINE, VD_WORSE, VD_WORSE, VD_UNRESOLVED, VD_WORSE};
    cr_assert_not_null(g.vd);
    cr_expect_eq(g.vd->n, 5);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(cfg_of(&g, methods[i], ratios[i])->hollow, hollow[i], "%s r%g", methods[i], ratios[i]);
        const vd_row *r = vd_table_find(g.vd, methods[i], ratios[i]);
        cr_assert_not_null(r);
        cr_expect_eq(r->kind, kinds[i], "%s r%g: %s", methods[i], ratios[i], r->verdict);
    }
    pl_group_free(&g);
    cr_expect_null(g.vd);
    /* dim 16: hash r4 is worse at lr 0.01, not resolved at lr 0.1; its one point is hollow */
    cr_assert_eq(pl_group_load(db, "fv", "syn", 16, NULL, 0, &g, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(g.n_cfg, 2);
    cr_expect_eq(cfg_of(&g, "full", 1)->hollow, 0);
    cr_expect_eq(cfg_of(&g, "hash", 4)->hollow, 1, "any unresolved setting makes the point hollow");
    cr_assert_eq(g.vd->n, 4);
    int worse = 0, open = 0;
    for (size_t i = 0; i < g.vd->n; i++) {
        const vd_row *r = &g.vd->rows[i];
        if (strcmp(r->method, "hash")) continue;
        worse += r->kind == VD_WORSE && !strcmp(r->variant, "lr=0.01");
        open += r->kind == VD_UNRESOLVED && !strcmp(r->variant, "lr=0.1");
    }
    cr_expect(worse == 1 && open == 1, "hash r4: worse at lr=0.01, not resolved at lr=0.1");
    pl_group_free(&g);
    sqlite3_close(db);
}

/* ---- the files `embsweep plot` writes ---- */

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

static char *read_out(const char *name) {
    char path[256];
    size_t n;
    snprintf(path, sizeof path, "%s/p/%s", g_dir, name);
    return fx_read(path, &n);
}

/* The TSV line of (method, ratio) in configs.tsv, its tab-separated fields in
 * col[1..29] (1-based, as gnuplot counts). */
static void tsv_row(char *tsv, const char *method, const char *ratio, char *col[30]) {
    char head[64], *line;
    snprintf(head, sizeof head, "# method %s\n", method);
    cr_assert((line = strstr(tsv, head)), "no block %s", method);
    line += strlen(head);
    while (strncmp(line, ratio, strlen(ratio)) || line[strlen(ratio)] != '\t') {
        cr_assert(*line && *line != '\n' && *line != '#', "no %s r%s", method, ratio);
        line = strchr(line, '\n') + 1;
    }
    *strchr(line, '\n') = 0;
    int k = 1;
    for (char *save = NULL, *t = strtok_r(line, "\t", &save); t && k < 30; t = strtok_r(NULL, "\t", &save))
        col[k++] = t;
    cr_assert_eq(k, 30, "%s r%s: %d columns", method, ratio, k - 1);
}

static void check_configs_tsv(void) {
    char *tsv = read_out("data/fv__syn__d8__configs.tsv"), *col[30];
    cr_expect(strstr(tsv, "\tauc_lo\tauc_hi\tauc_bars\tlogloss_lo\tlogloss_hi\tlogloss_bars\thollow\n"), "header");
    cr_expect(strstr(tsv, "95% Student-t CI of the mean over seeds"), "the header comment says what the bars are");
    char *copy = strdup(tsv);
    tsv_row(copy, "hash", "4", col);
    double h4[] = {0.770, 0.7745, 0.7715};
    st_summary s = st_mean_ci(h4, 3, 0.05);
    cr_expect(fabs(atof(col[23]) - s.ci_lo) < 1e-9 && fabs(atof(col[24]) - s.ci_hi) < 1e-9, "%s %s", col[23], col[24]);
    cr_expect_str_eq(col[25], "ci");
    cr_expect_str_eq(col[29], "0", "hash r4 is worse: filled");
    free(copy);
    copy = strdup(tsv);
    tsv_row(copy, "hash", "16", col);
    cr_expect(!strcmp(col[23], "0.76") && !strcmp(col[24], "0.7639") && !strcmp(col[25], "minmax"), "%s %s %s",
              col[23], col[24], col[25]);
    free(copy);
    copy = strdup(tsv);
    tsv_row(copy, "qr", "4", col);
    cr_expect_str_eq(col[29], "1", "qr r4 is not resolved: hollow");
    free(copy);
    copy = strdup(tsv);
    tsv_row(copy, "qr", "16", col);
    cr_expect_str_eq(col[29], "0", "qr r16 is worse: filled");
    free(copy);
    free(tsv);
}

/* In the d8 scripts, blocks are full 0, hash 1, qr 2: the hash block is drawn
 * once (filled), the qr block twice (its markers, then the hollow rows white). */
static void check_scripts(void) {
    char *gp = read_out("data/fv__syn__d8__auc.gp");
    cr_expect(strstr(gp, "index 1 using ($3*") && count(gp, "index 1 using") == 1, "hash: filled only\n%s", gp);
    cr_expect_eq(count(gp, "index 2 using"), 2, "qr: its series and its hollow rows\n%s", gp);
    cr_expect(strstr(gp, ":($29 > 0 ? $4 : NaN) with points pt 7 ps 0.7 lc rgb '#ffffff' notitle"), "%s", gp);
    cr_expect(strstr(gp, "):4:23:24 with yerrorlines lc rgb '#8c564b' pt 7 "), "qr filled, bars from auc_lo/hi");
    cr_expect(strstr(gp, "keyentry with points pt 6 ps 1.4 lw 1.8 lc rgb '#404040' title "
                         "'hollow: not resolved against full'") &&
                  strstr(gp, "title '(embsweep compare)'"),
              "the key explains hollow points\n%s", gp);
    cr_expect(strstr(gp, "set ylabel 'test AUC, mean over seeds (bars: 95% CI, min/max under 3 seeds)'"), "%s", gp);
    free(gp);
    gp = read_out("data/fv__syn__d8__ratio.gp");
    cr_expect(strstr(gp, "index 2 using ($10*") && strstr(gp, ":($29 > 0 ? $4 : NaN) with points"), "%s", gp);
    free(gp);
    gp = read_out("data/fv__syn__d8__logloss.gp"); /* verdicts are on AUC: no hollow points here */
    cr_expect(!strstr(gp, "#ffffff") && !strstr(gp, "hollow"), "%s", gp);
    cr_expect(strstr(gp, "):7:26:27 with yerrorlines") && strstr(gp, "(bars: 95% CI, min/max under 3 seeds)"), "%s", gp);
    free(gp);
    gp = read_out("data/fv__syn__d16__auc.gp"); /* full 0, hash 1: hash r4 pools a setting not resolved */
    cr_expect_eq(count(gp, "index 1 using"), 2, "%s", gp);
    cr_expect(strstr(gp, "(bars: 95% CI over seeds)"), "every d16 config has 6 runs: CIs only\n%s", gp);
    free(gp);
}

static void check_page(void) {
    char *html = read_out("index.html");
    cr_expect(strstr(html, "bars: 95% CI over seeds (min/max where a config has fewer than 3 seeds)"), "caption");
    cr_expect_eq(count(html, "<h4>Verdicts against <code>full</code></h4>"), 3, "one table per group");
    cr_expect(strstr(html, "<code>embsweep compare</code>") && strstr(html, "<code>results/README.md</code>"));
    cr_expect_eq(count(html, "<td class=\"vd-base\">baseline</td>"), 4, "full at d8, d32 and at each lr of d16");
    cr_expect_eq(count(html, "<td class=\"vd-worse\">worse</td>"), 4, "hash r4, r16, qr r16 at d8; hash lr=0.01");
    cr_expect_eq(count(html, "<td class=\"vd-open\">not resolved (needs ~"), 2, "qr r4 at d8; hash lr=0.1");
    cr_expect_eq(count(html, "<td class=\"vd-equiv\">equivalent within 0.001</td>"), 1);
    cr_expect_eq(count(html, "<th>variant</th>"), 1, "only d16 has settings apart");
    cr_expect(strstr(html, "<td>lr=0.01</td>") && strstr(html, "<td>lr=0.1</td>"));
    /* hash r4 at d8: mean and CI, the paired difference and its CI */
    cr_expect(strstr(html, "<td class=n>0.7720 <span class=muted>[0.7663, 0.7777]</span></td>"
                           "<td class=n>-0.0100 <span class=muted>[-0.0112, -0.0088]</span></td>"),
              "hash r4 row");
    cr_expect(strstr(html, "></span>a&lt;b&amp;c</td>") && !strstr(html, "a<b&c"), "escaped");
    free(html);
}

Test(plot_verdict, figures_and_page, .init = make_db, .fini = remove_db) {
    char args[512], out[4096];
    snprintf(args, sizeof args, "plot --db %s --out %s/p", g_db, g_dir);
    cr_assert_eq(fx_run_cli(args, out, sizeof out), 0, "%s", out);
    check_configs_tsv();
    check_scripts();
    check_page();
}
