/* test_plot.c: `embsweep plot`, `query` and `export` on a fixture database built at
 * test time from harness/sweep/schema.sql and tests/fixtures/plot_fixture.sql (which lists
 * the hand-checked answers in its header). Checks: the Pareto front (unit cases and
 * the fixture's hand answer, in C and in SQL), styles and ticks, the figure files
 * (PNG magic, SVG shape), series of one row drawn as points, that runs not ok
 * never reach the plotted data but are on the page, and the exact rows of every
 * saved query.
 * Run from the repository root (make test); EMBSWEEP_BIN names the CLI.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/report/plot.h"
#include "methods/method.h"

/* ---- fixture helpers ---- */

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

static char g_dir[64];
static char g_db[128];

/* A temp dir holding fixture.db: schema + fixture rows. */
static void make_fixture(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/embsweep_plot_XXXXXX");
    cr_assert(mkdtemp(g_dir), "mkdtemp");
    snprintf(g_db, sizeof g_db, "%s/fixture.db", g_dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(g_db, &db), SQLITE_OK);
    const char *files[] = {"harness/sweep/schema.sql", "tests/fixtures/plot_fixture.sql"};
    for (int i = 0; i < 2; i++) {
        char *sql = slurp(files[i]);
        cr_assert(sql, "cannot read %s (run the tests from the repository root)", files[i]);
        char *msg = NULL;
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", files[i], msg);
        free(sql);
    }
    sqlite3_close(db);
}

static void remove_fixture(void) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *bin(void) {
    const char *b = getenv("EMBSWEEP_BIN");
    return b ? b : "./embsweep";
}

/* Runs `embsweep ARGS`, returns its exit status; stdout (and stderr when
 * with_stderr) into *out (malloc'd). */
static int run_cli(const char *args, char **out, int with_stderr) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s%s", bin(), args, with_stderr ? " 2>&1" : " 2>/dev/null");
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen %s", cmd);
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int file_has_prefix(const char *path, const void *magic, size_t n) {
    unsigned char buf[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got == n && memcmp(buf, magic, n) == 0;
}

/* ---- unit cases ---- */

Test(plot, pareto_hand_cases) {
    /* bytes, auc: (1,.5) (2,.7) (2,.6) (3,.7) (4,.9) (5,NaN) (4,.9) */
    double x[] = {1, 2, 2, 3, 4, 5, 4}, y[] = {0.5, 0.7, 0.6, 0.7, 0.9, NAN, 0.9};
    unsigned char on[7];
    size_t n = pl_pareto(x, y, 7, 1, on);
    unsigned char want[] = {1, 1, 0, 0, 1, 0, 1}; /* equal twins both stay */
    cr_assert_eq(n, 4);
    for (int i = 0; i < 7; i++) cr_expect_eq(on[i], want[i], "point %d", i);
    /* lower is better (logloss): (1,.5) (2,.4) (3,.45) (4,.3) */
    double x2[] = {1, 2, 3, 4}, y2[] = {0.5, 0.4, 0.45, 0.3};
    unsigned char want2[] = {1, 1, 0, 1};
    cr_assert_eq(pl_pareto(x2, y2, 4, 0, on), 3);
    for (int i = 0; i < 4; i++) cr_expect_eq(on[i], want2[i], "point %d", i);
}

Test(plot, bytes_ticks_in_human_units) {
    char t[1024];
    pl_bytes_tics(20000, 320000, t, sizeof t);
    cr_expect(strstr(t, "(\"16 KiB\" 16384, \"32 KiB\" 32768"), "%s", t);
    cr_expect(strstr(t, "\"512 KiB\" 524288)"), "%s", t);
    pl_bytes_tics(3000, 5e9, t, sizeof t); /* a wide range: at most ~8 ticks */
    int ticks = 0;
    for (const char *p = t; (p = strchr(p, '"')); p++) ticks++;
    cr_expect(ticks / 2 <= 9 && ticks / 2 >= 3, "%s", t);
    cr_expect(strstr(t, "\"1 MiB\" 1048576") && strstr(t, "\"1 GiB\" 1073741824"), "%s", t);
    pl_bytes_tics(0, 10, t, sizeof t);
    cr_expect_str_eq(t, "autofreq");
}

Test(plot, method_styles_are_fixed) {
    pl_style f = pl_method_style("full"), h = pl_method_style("hash");
    cr_expect_eq(f.order, 0);
    cr_expect_eq(h.order, 1);
    cr_expect_str_eq(f.color, "#000000");
    cr_expect(strcmp(f.color, h.color) != 0 || f.point != h.point);
    pl_style u1 = pl_method_style("no_such_method"), u2 = pl_method_style("no_such_method");
    cr_expect_eq(u1.order, u2.order);
    cr_expect_str_eq(u1.color, u2.color);
    cr_expect(u1.order > h.order);
    cr_expect(strcmp(u1.color, "#000000") != 0, "unknown methods are never black");
}

/* Colour and marker are keyed by the name, not the registry position: each method
 * keeps the style the figures have always given it (the list below; qr and int4
 * had the open circle, filled since an open marker means "not resolved"), an alias
 * styles as its method, no two registered methods share colour and marker, and a
 * name the table lacks (a new method) takes a style from its name alone. */
Test(plot, method_styles_keyed_by_name) {
    static const struct {
        const char *name, *color;
        int         point;
    } had[] = {
        {"full", "#000000", 7}, {"hash", "#1f77b4", 5}, {"mlet", "#d62728", 9},  {"memcom", "#2ca02c", 11},
        {"cqr", "#ff7f0e", 13}, {"fiited", "#9467bd", 15}, {"qr", "#8c564b", 7}, {"md", "#e377c2", 5},
        {"tt", "#17becf", 9},   {"robe", "#bcbd22", 11}, {"pq", "#7f7f7f", 13},  {"int8", "#393b79", 15},
        {"int4", "#637939", 7}, {"dhe", "#ff1493", 7},    {"cafe", "#e7ba52", 9},  {"pep", "#7b4173", 11},
        {"alpt", "#843c39", 5}, {"adaembed", "#6b6ecf", 15},
    };
    for (size_t i = 0; i < sizeof had / sizeof had[0]; i++) {
        pl_style s = pl_method_style(had[i].name);
        cr_expect_str_eq(s.color, had[i].color, "%s", had[i].name);
        cr_expect_eq(s.point, had[i].point, "%s", had[i].name);
    }
    pl_style a = pl_method_style("cce"), c = pl_method_style("cqr");
    cr_expect(!strcmp(a.color, c.color) && a.point == c.point && a.order == c.order, "an alias styles as its method");
    for (size_t i = 0; i < emb_method_count(); i++)
        for (size_t j = i + 1; j < emb_method_count(); j++) {
            pl_style si = pl_method_style(emb_method_at(i)->name), sj = pl_method_style(emb_method_at(j)->name);
            cr_expect(strcmp(si.color, sj.color) != 0 || si.point != sj.point, "%s and %s look alike",
                      emb_method_at(i)->name, emb_method_at(j)->name);
        }
    pl_style u = pl_method_style("a_new_method");
    cr_expect(strcmp(u.color, "#000000") != 0, "only full is black");
    for (size_t i = 0; i < emb_method_count(); i++) /* gnuplot's open markers are the even ones */
        cr_expect(pl_method_style(emb_method_at(i)->name).point % 2 == 1, "%s has an open marker",
                  emb_method_at(i)->name);
    cr_expect(u.point % 2 == 1, "a new method has a filled marker");
}

Test(plot, html_escape_and_sanitize) {
    char buf[64];
    pl_sanitize("../a b/c:d", buf, sizeof buf);
    cr_expect_str_eq(buf, "_._a_b_c_d");
    FILE *f = tmpfile();
    pl_html_escape(f, "<a href=\"x\">&'</a>");
    rewind(f);
    char out[128] = {0};
    cr_assert(fread(out, 1, sizeof out - 1, f) > 0);
    fclose(f);
    cr_expect_str_eq(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

/* ---- the fixture: front in C ---- */

Test(plot, group_front_matches_hand_answer, .init = make_fixture, .fini = remove_fixture) {
    sqlite3 *db;
    char err[256];
    pl_group g;
    cr_assert_eq(pl_db_open(g_db, &db, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(pl_group_load(db, "fx", "syn", 8, NULL, 0, &g, err, sizeof err), HX_OK, "%s", err);
    cr_assert_eq(g.n_cfg, 5, "the failed/diverged/timeout runs add no config");
    struct { const char *m; double r; int front, front_ll, n; } want[] = {
        {"full", 1, 1, 0, 2}, {"hash", 4, 0, 0, 2}, {"hash", 16, 1, 1, 2},
        {"qr", 4, 1, 1, 2}, {"qr", 16, 1, 1, 2},
    };
    for (size_t i = 0; i < 5; i++) { /* sorted by registry order, then ratio */
        cr_expect_str_eq(g.cfg[i].method, want[i].m);
        cr_expect_eq(g.cfg[i].ratio, want[i].r);
        cr_expect_eq(g.cfg[i].front, want[i].front, "%s r%g AUC front", want[i].m, want[i].r);
        cr_expect_eq(g.cfg[i].front_ll, want[i].front_ll, "%s r%g logloss front", want[i].m, want[i].r);
        cr_expect_eq(g.cfg[i].n_runs, want[i].n, "the timeout run of full is not counted");
    }
    cr_expect(fabs(g.full_auc - 0.781) < 1e-12);
    cr_expect(fabs(g.bayes_auc - 0.80) < 1e-12);
    cr_expect(fabs(g.cfg[1].auc.mean - 0.7695) < 1e-12 && g.cfg[1].auc.min == 0.769);
    cr_expect_eq(g.budget, 16, "ratios 4 and 16 tie on methods: the larger wins");
    cr_expect_str_eq(g.base, "fx__syn__d8");
    pl_group_free(&g);
    cr_assert_eq(pl_group_load(db, "fx", "syn", 8, NULL, 4, &g, err, sizeof err), HX_OK);
    cr_expect_eq(g.budget, 4, "--budget overrides");
    pl_group_free(&g);
    sqlite3_close(db);
}

/* ---- the saved queries: exact rows ---- */

static void expect_query(const char *name, const char *want) {
    char args[512], *out;
    snprintf(args, sizeof args, "query %s --db %s --csv --queries results/queries", name, g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0, "%s failed", name);
    cr_expect_str_eq(out, want, "query %s", name);
    free(out);
}

Test(plot, saved_queries_return_hand_checked_rows, .init = make_fixture, .fini = remove_fixture) {
    expect_query("pareto_front",
                 "sweep,dataset,dim,method,ratio,seeds,auc,bytes_infer,size\n"
                 "fx,syn,8,hash,16,2,0.762,20000,19.5 KiB\n"
                 "fx,syn,8,qr,16,2,0.771,20500,20.0 KiB\n"
                 "fx,syn,8,qr,4,2,0.7807,81000,79.1 KiB\n"
                 "fx,syn,8,full,1,2,0.781,320000,312.5 KiB\n"
                 "fy,syn,16,hash,8,1,0.785,80000,78.1 KiB\n"
                 "fy,syn,16,full,1,1,0.79,640000,625.0 KiB\n");
    expect_query("best_auc_per_budget",
                 "sweep,dataset,dim,ratio,method,seeds,auc_mean,auc_best,auc_worst,bytes_infer\n"
                 "fx,syn,8,1,full,2,0.781,0.782,0.78,320000\n"
                 "fx,syn,8,4,qr,2,0.7807,0.7809,0.7805,81000\n"
                 "fx,syn,8,4,hash,2,0.7695,0.77,0.769,80000\n"
                 "fx,syn,8,16,qr,2,0.771,0.772,0.77,20500\n"
                 "fx,syn,8,16,hash,2,0.762,0.764,0.76,20000\n"
                 "fy,syn,16,1,full,1,0.79,0.79,0.79,640000\n"
                 "fy,syn,16,8,hash,1,0.785,0.785,0.785,80000\n");
    expect_query("smallest_near_full",
                 "sweep,dataset,dim,method,ratio,bytes_infer,auc_mean,full_auc,saving\n"
                 "fx,syn,8,qr,4,81000,0.7807,0.781,3.95\n"
                 "fx,syn,8,full,1,320000,0.781,0.781,1\n"
                 "fy,syn,16,full,1,640000,0.79,0.79,1\n");
    expect_query("ranking_per_budget",
                 "sweep,dataset,dim,ratio,rank,method,seeds,auc_mean,delta_vs_full\n"
                 "fx,syn,8,1,1,full,2,0.781,0\n"
                 "fx,syn,8,4,1,qr,2,0.7807,-0.0003\n"
                 "fx,syn,8,4,2,hash,2,0.7695,-0.0115\n"
                 "fx,syn,8,16,1,qr,2,0.771,-0.01\n"
                 "fx,syn,8,16,2,hash,2,0.762,-0.019\n"
                 "fy,syn,16,1,1,full,1,0.79,0\n"
                 "fy,syn,16,8,1,hash,1,0.785,-0.005\n");
    expect_query("failed_runs",
                 "sweep,status,method,dataset,dim,ratio,seed,reason,exit_code,signal,attempts,key\n"
                 "fx,diverged,qr,syn,8,64,1,non-finite loss at step 12,1,,1,bad_diverged\n"
                 "fx,failed,hash,syn,8,64,1,\"ratio 64 unreachable for hash at dim 8: range [1, 40]\",1,,1,bad_failed\n"
                 "fx,timeout,full,syn,8,1,3,\"killed after 120 s (SIGTERM, then SIGKILL)\",1,,1,bad_timeout\n");
    expect_query("throughput_vs_full",
                 "sweep,dataset,dim,method,ratio,train_sps,train_vs_full,infer_sps,infer_vs_full\n"
                 "fx,syn,8,full,1,100000,1,400000,1\n"
                 "fx,syn,8,hash,4,80000,0.8,200000,0.5\n"
                 "fx,syn,8,hash,16,90000,0.9,300000,0.75\n"
                 "fx,syn,8,qr,4,60000,0.6,100000,0.25\n"
                 "fx,syn,8,qr,16,70000,0.7,200000,0.5\n"
                 "fy,syn,16,full,1,90000,1,350000,1\n"
                 "fy,syn,16,hash,8,85000,0.944,300000,0.857\n");
    /* --sweep binds :sweep */
    char args[512], *out;
    snprintf(args, sizeof args, "query pareto_front --db %s --csv --sweep fy", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    cr_expect_str_eq(out, "sweep,dataset,dim,method,ratio,seeds,auc,bytes_infer,size\n"
                          "fy,syn,16,hash,8,1,0.785,80000,78.1 KiB\n"
                          "fy,syn,16,full,1,1,0.79,640000,625.0 KiB\n");
    free(out);
}

Test(plot, arch_queries_rank_per_arch_and_agree_by_kendall_tau, .init = make_fixture, .fini = remove_fixture) {
    /* sweep fa (tests/fixtures/arch_fixture.sql): two archs, one swapped pair */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(g_db, &db), SQLITE_OK);
    char *sql = slurp("tests/fixtures/arch_fixture.sql"), *msg = NULL;
    cr_assert(sql, "cannot read tests/fixtures/arch_fixture.sql");
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "arch_fixture.sql: %s", msg);
    free(sql);
    sqlite3_close(db);
    char args[512], *out;
    snprintf(args, sizeof args, "query arch_rankings --db %s --csv --sweep fa --queries results/queries", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    cr_expect_str_eq(out, "sweep,dataset,dim,ratio,arch,rank,method,seeds,auc_mean,delta_vs_full,verdict\n"
                          "fa,syn,8,1,dcn,1,full,1,0.76,0,\n"
                          "fa,syn,8,1,dlrm,1,full,1,0.75,0,\n"
                          "fa,syn,8,4,dcn,1,tt,1,0.77,0.01,\n"
                          "fa,syn,8,4,dcn,2,qr,1,0.75,-0.01,\n"
                          "fa,syn,8,4,dcn,3,md,1,0.73,-0.03,\n"
                          "fa,syn,8,4,dcn,4,hash,1,0.71,-0.05,worse\n"
                          "fa,syn,8,4,dlrm,1,tt,1,0.76,0.01,\n"
                          "fa,syn,8,4,dlrm,2,md,1,0.74,-0.01,equivalent within 0.001\n"
                          "fa,syn,8,4,dlrm,3,qr,1,0.72,-0.03,not resolved (needs ~5 seeds)\n"
                          "fa,syn,8,4,dlrm,4,hash,1,0.7,-0.05,\n");
    free(out);
    snprintf(args, sizeof args, "query arch_agreement --db %s --csv --sweep fa --queries results/queries", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    cr_expect_str_eq(out, "sweep,dataset,dim,ratio,arch_a,arch_b,methods,pairs,concordant,discordant,tau_b,z\n"
                          "fa,syn,8,4,dcn,dlrm,4,6,5,1,0.667,1.36\n");
    free(out);
}

Test(plot, c_front_agrees_with_sql_front, .init = make_fixture, .fini = remove_fixture) {
    /* every config the SQL query puts on the front is on the C front, and the counts match */
    sqlite3 *db;
    char err[256], args[512], *out;
    cr_assert_eq(pl_db_open(g_db, &db, err, sizeof err), HX_OK);
    snprintf(args, sizeof args, "query pareto_front --db %s --tsv", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    const char *groups[][2] = {{"fx", "8"}, {"fy", "16"}};
    size_t sql_rows = 0, c_front = 0;
    for (char *line = strchr(out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char sweep[16], ds[16], method[16];
        long long dim;
        double ratio;
        cr_assert_eq(sscanf(line, "%15s %15s %lld %15s %lf", sweep, ds, &dim, method, &ratio), 5);
        pl_group g;
        cr_assert_eq(pl_group_load(db, sweep, ds, dim, NULL, 0, &g, err, sizeof err), HX_OK);
        int found = 0;
        for (size_t i = 0; i < g.n_cfg; i++)
            if (!strcmp(g.cfg[i].method, method) && g.cfg[i].ratio == ratio) found = g.cfg[i].front;
        cr_expect(found, "%s %s d%lld %s r%g: on the SQL front, not the C one", sweep, ds, dim, method, ratio);
        pl_group_free(&g);
        sql_rows++;
    }
    for (int k = 0; k < 2; k++) {
        pl_group g;
        cr_assert_eq(pl_group_load(db, groups[k][0], "syn", atoi(groups[k][1]), NULL, 0, &g, err, sizeof err), HX_OK);
        for (size_t i = 0; i < g.n_cfg; i++) c_front += g.cfg[i].front;
        pl_group_free(&g);
    }
    cr_expect_eq(sql_rows, 6);
    cr_expect_eq(c_front, sql_rows);
    free(out);
    sqlite3_close(db);
}

Test(plot, query_list_errors_and_export, .init = make_fixture, .fini = remove_fixture) {
    char *out, args[512];
    cr_assert_eq(run_cli("query --list --queries results/queries", &out, 0), 0);
    const char *names[] = {"arch_agreement",     "arch_rankings",      "best_auc_per_budget", "failed_runs",
                           "pareto_front",       "ranking_per_budget", "smallest_near_full",  "throughput_vs_full"};
    for (size_t i = 0; i < 8; i++) cr_expect(strstr(out, names[i]), "--list misses %s", names[i]);
    cr_expect(strstr(out, "The Pareto front:"), "--list shows the header line");
    free(out);
    /* found without --queries (relative to the working directory or the binary) */
    snprintf(args, sizeof args, "query failed_runs --db %s", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    cr_expect(strstr(out, "bad_timeout") && strstr(out, "(3 rows)"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "query pareto_frnt --db %s", g_db);
    cr_expect_eq(run_cli(args, &out, 1), 2);
    cr_expect(strstr(out, "did you mean 'pareto_front'"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "query pareto_front --db %s/none.db", g_dir);
    cr_expect_eq(run_cli(args, NULL, 0), 1);
    /* export: the run_summary view, every status */
    snprintf(args, sizeof args, "export --csv --db %s --out %s/runs.csv", g_db, g_dir);
    cr_assert_eq(run_cli(args, NULL, 0), 0);
    snprintf(args, sizeof args, "%s/runs.csv", g_dir);
    char *csv = slurp(args);
    cr_assert(csv);
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 16, "header + 15 runs");
    cr_expect(strncmp(csv, "key,sweep,status,method,dataset,dim,", 36) == 0, "%.80s", csv);
    cr_expect(strstr(csv, "bad_failed,fx,failed,hash,syn,8,64,"));
    cr_expect(strstr(csv, "\"ratio 64 unreachable for hash at dim 8: range [1, 40]\""));
    free(csv);
    snprintf(args, sizeof args, "export --csv --db %s --sweep fy", g_db);
    cr_assert_eq(run_cli(args, &out, 0), 0);
    lines = 0;
    for (char *p = out; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 3, "header + the 2 runs of fy");
    free(out);
}

/* ---- the figures and the page ---- */

static const char *k_not_ok[] = {"bad_failed", "bad_diverged", "bad_timeout", "0.51234", "9.87654",
                                 "123456789", "55555", "77777", "99999999", "95.367"};

Test(plot, figures_page_and_failed_runs, .init = make_fixture, .fini = remove_fixture) {
    char args[512], path[512], *out;
    snprintf(args, sizeof args, "plot --db %s --out %s/plots", g_db, g_dir);
    cr_assert_eq(run_cli(args, &out, 1), 0, "plot failed: %s", out);
    free(out);
    const char *figs[] = {"auc", "logloss", "ratio", "train_speed", "infer_speed", "rss", "rss_time", "loss"};
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (int s = 0; s < 2; s++) {
        const char *base = s ? "fy__syn__d16" : "fx__syn__d8";
        for (size_t i = 0; i < 8; i++) {
            /* fy has no RSS samples and no loss curve: no such figures */
            int want = !(s == 1 && i >= 6);
            snprintf(path, sizeof path, "%s/plots/%s__%s.png", g_dir, base, figs[i]);
            cr_expect_eq(file_has_prefix(path, png_magic, 8), want, "%s", path);
            snprintf(path, sizeof path, "%s/plots/%s__%s.svg", g_dir, base, figs[i]);
            char *svg = slurp(path);
            cr_expect_eq(svg != NULL, want, "%s", path);
            if (svg) {
                cr_expect(!strncmp(svg, "<?xml", 5) || !strncmp(svg, "<svg", 4), "%s", path);
                cr_expect(strstr(svg, "<svg") != NULL, "%s", path);
                size_t n = strlen(svg);
                while (n && (svg[n - 1] == '\n' || svg[n - 1] == ' ')) n--;
                cr_expect(n > 6 && !strncmp(svg + n - 6, "</svg>", 6), "%s does not close", path);
                free(svg);
            }
        }
    }
    /* the plotted AUC front is the hand answer, sorted by bytes */
    snprintf(path, sizeof path, "%s/plots/data/fx__syn__d8__front_auc.tsv", g_dir);
    char *front = slurp(path);
    cr_assert(front);
    const char *rows = strstr(front, "\n20000\t");
    cr_assert(rows, "%s", front);
    cr_expect_str_eq(rows + 1, "20000\t0.762\thash\t16\n20500\t0.771\tqr\t16\n81000\t0.7807\tqr\t4\n"
                               "320000\t0.781\tfull\t1\n");
    free(front);
    /* runs that are not ok never reach the data of any figure */
    const char *data[] = {"configs.tsv", "front_auc.tsv", "front_logloss.tsv", "runs.tsv",
                          "rss_time.tsv", "loss.tsv"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/plots/data/fx__syn__d8__%s", g_dir, data[i]);
        char *t = slurp(path);
        cr_assert(t, "%s", path);
        for (size_t k = 0; k < sizeof k_not_ok / sizeof *k_not_ok; k++)
            cr_expect(!strstr(t, k_not_ok[k]), "%s holds '%s' from a run that is not ok", path, k_not_ok[k]);
        if (i == 3) { /* runs.tsv: exactly the 10 ok runs of fx/syn/8 */
            int lines = 0;
            for (char *p = t; *p; p++) lines += *p == '\n';
            cr_expect_eq(lines, 11, "header + 10 ok runs");
        }
        if (i == 4) /* one run per method at budget 16, lowest seed: not h16b */
            cr_expect(strstr(t, "hash (ratio 16, seed 1)") && !strstr(t, "seed 2"), "%s", t);
        free(t);
    }
    /* one colour and marker per method, the same in every figure's script */
    pl_style hs = pl_method_style("hash");
    char want[128];
    const char *gps[] = {"auc", "logloss", "ratio", "train_speed", "infer_speed", "rss", "loss", "rss_time"};
    for (size_t i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "%s/plots/data/fx__syn__d8__%s.gp", g_dir, gps[i]);
        char *gp = slurp(path);
        cr_assert(gp, "%s", path);
        if (i < 6) snprintf(want, sizeof want, "lc rgb '%s' pt %d ps 1.4 lw 1.8 title 'hash'", hs.color, hs.point);
        else snprintf(want, sizeof want, "lc rgb '%s' title 'hash (ratio 16", hs.color);
        cr_expect(strstr(gp, want), "%s lacks \"%s\"", path, want);
        free(gp);
    }
    /* the page: every figure, the failed runs with reasons, the escaped YAML */
    snprintf(path, sizeof path, "%s/plots/index.html", g_dir);
    char *html = slurp(path);
    cr_assert(html);
    cr_expect(strstr(html, "<img src=\"fx__syn__d8__auc.png\""));
    cr_expect(strstr(html, "<img src=\"fy__syn__d16__rss.png\""));
    cr_expect(!strstr(html, "fy__syn__d16__loss.png"));
    const char *listed[] = {"bad_failed", "ratio 64 unreachable for hash at dim 8: range [1, 40]",
                            "bad_diverged", "non-finite loss at step 12", "bad_timeout",
                            "killed after 120 s (SIGTERM, then SIGKILL)"};
    for (size_t i = 0; i < 6; i++) cr_expect(strstr(html, listed[i]), "page misses '%s'", listed[i]);
    cr_expect(strstr(html, "# methods &lt;hash&gt; &amp; &lt;qr&gt;, &quot;quoted&quot;"), "YAML escaped");
    cr_expect(strstr(html, "Fixture CPU @ 2.0GHz") && strstr(html, "abc1234 (dirty)"), "environment");
    cr_expect(strstr(html, "<h2 id=\"s-fx\">") && strstr(html, "<h2 id=\"s-fy\">"), "one section per sweep");
    cr_expect(!strstr(html, "<script"), "no JavaScript needed");
    free(html);
}

/* Runs that logged their loss once (short runs): each is a point, not a line
 * gnuplot would not draw, and the x range is set, without gnuplot's warning. */
Test(plot, loss_logged_once_is_drawn_as_points, .init = make_fixture, .fini = remove_fixture) {
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(g_db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "DELETE FROM loss_curve WHERE step > "
                              "(SELECT MIN(step) FROM loss_curve l WHERE l.key = loss_curve.key)",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    long long steps = -1;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT step) FROM loss_curve", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) steps = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cr_assert_eq(steps, 1, "the fixture's runs now share one logged step");
    char args[512], path[512], *out;
    snprintf(args, sizeof args, "plot --db %s --out %s/plots", g_db, g_dir);
    cr_assert_eq(run_cli(args, &out, 1), 0, "plot failed: %s", out);
    cr_expect(!strstr(out, "empty x range"), "gnuplot warned: %s", out);
    free(out);
    snprintf(path, sizeof path, "%s/plots/data/fx__syn__d8__loss.gp", g_dir);
    char *gp = slurp(path);
    cr_assert(gp, "%s", path);
    cr_expect(strstr(gp, "with points pt 7") && !strstr(gp, "with lines"), "%s", gp);
    cr_expect(strstr(gp, "set xrange ["), "%s", gp);
    free(gp);
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    snprintf(path, sizeof path, "%s/plots/fx__syn__d8__loss.png", g_dir);
    cr_expect(file_has_prefix(path, png_magic, 8), "%s", path);
}

Test(plot, plot_usage_errors, .init = make_fixture, .fini = remove_fixture) {
    char args[512], *out;
    snprintf(args, sizeof args, "plot --db %s --out %s/p2 --sweep nope", g_db, g_dir);
    cr_expect_eq(run_cli(args, &out, 1), 2);
    cr_expect(strstr(out, "no sweep 'nope'") && strstr(out, "fx, fy"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "plot --db %s/missing.db --out %s/p2", g_dir, g_dir);
    cr_expect_eq(run_cli(args, &out, 1), 1);
    cr_expect(strstr(out, "no database at"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "plot --db %s --budget 0.5", g_db);
    cr_expect_eq(run_cli(args, NULL, 0), 2);
    /* --sweep draws only that sweep */
    snprintf(args, sizeof args, "plot --db %s --out %s/p3 --sweep fy", g_db, g_dir);
    cr_assert_eq(run_cli(args, NULL, 0), 0);
    snprintf(args, sizeof args, "%s/p3/fx__syn__d8__auc.png", g_dir);
    struct stat st;
    cr_expect(stat(args, &st) != 0, "fx was drawn under --sweep fy");
    snprintf(args, sizeof args, "%s/p3/fy__syn__d16__auc.png", g_dir);
    cr_expect(stat(args, &st) == 0);
}

/* The page in headless Chromium: every image loads, none is broken (the same check
 * as `make check-html`). `make test` installs chromium (harness/deps.sh test); the
 * test is skipped, saying so, where it is not installed.
 * That the script notices a broken image was checked by hand (one browser start here
 * keeps the test short): overwrite a PNG with text and rerun it. */
Test(plot, page_loads_in_headless_chromium, .init = make_fixture, .fini = remove_fixture) {
    if (system("command -v chromium >/dev/null 2>&1") != 0) cr_skip_test("chromium not installed");
    char args[512], cmd[512];
    snprintf(args, sizeof args, "plot --db %s --out %s/plots", g_db, g_dir);
    cr_assert_eq(run_cli(args, NULL, 0), 0);
    snprintf(cmd, sizeof cmd, "tests/check_html.sh %s/plots/index.html >/dev/null 2>&1", g_dir);
    cr_expect_eq(system(cmd), 0, "check_html.sh failed on the fixture page");
}
