/* plot_runs.c: the per-run data of one figure group (see plot.h, plot_int.h):
 * the RSS-over-time and training-loss figures at the chosen budget, and
 * <base>__runs.tsv, every ok run that went into the figures.
 *   <base>__rss_time.tsv     RSS samples of one run per method (its lowest seed
 *                            with samples), in MiB, one block per method
 *   <base>__loss.tsv         training loss per step, mean/min/max over seeds
 * Only configs at the budget are drawn, plus `full`.
 */
#include <math.h>
#include <string.h>

#include "plot_int.h"

/* ---- the per-run figures at the chosen budget ---- */

/* configs drawn at the budget: every config at that ratio, plus full */
static int at_budget(const pl_group *g, const pl_cfg *c) {
    return c->ratio == g->budget || !strcmp(c->method, "full");
}

static const char k_rep_sql[] =
    "SELECT r.key, r.seed FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok'"
    " AND r.method = ?4 AND r.ratio_requested = ?5 AND " PL_ARCH_SQL " = ?6"
    " AND EXISTS (SELECT 1 FROM rss_samples x WHERE x.key = r.key) ORDER BY r.seed LIMIT 1";
static const char k_samples_sql[] =
    "SELECT t_s, rss, rss_anon, phase FROM rss_samples WHERE key = ?1 ORDER BY t_s";
static const char k_loss_sql[] =
    "SELECT l.step, AVG(l.train_loss), MIN(l.train_loss), MAX(l.train_loss), COUNT(*)"
    " FROM loss_curve l JOIN runs r ON r.key = l.key JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok'"
    " AND r.method = ?4 AND r.ratio_requested = ?5 AND l.train_loss IS NOT NULL"
    " GROUP BY l.step ORDER BY l.step";

static void bind_cfg(sqlite3_stmt *st, const pl_group *g, const pl_cfg *c) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, g->sweep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, g->dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, g->dim);
    sqlite3_bind_text(st, 4, c->method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, g->arch, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, c->ratio);
}

/* One per-run figure while its data is written: loss curves (loss = 1) or RSS
 * over time, and the plot clauses of its script. */
typedef struct runs_fig {
    int           loss;
    const char   *suffix;     /* "loss" or "rss_time" */
    sqlite3_stmt *rep, *rows; /* loss: the curve's rows; RSS: the representative run, its samples */
    FILE         *f;          /* <base>__<suffix>.tsv */
    char          plot[8192]; /* the script's plot clauses */
    size_t        used;       /* bytes of plot used */
    int           blocks;     /* TSV blocks written (gnuplot's index) */
    double        x_lo, x_hi; /* the x values (steps or seconds) of every row written */
    int64_t       n_x;
} runs_fig;

static void runs_row(FILE *f, sqlite3_stmt *src, int loss) {
    if (loss) {
        fprintf(f, "%lld", (long long)sqlite3_column_int64(src, 0));
        for (int k = 1; k <= 3; k++)
            pl_tsv_num(f, sqlite3_column_type(src, k) == SQLITE_NULL ? NAN : sqlite3_column_double(src, k));
        fprintf(f, "\t%d\n", sqlite3_column_int(src, 4));
    } else {
        const char *ph = (const char *)sqlite3_column_text(src, 3);
        fprintf(f, "%.6g", sqlite3_column_double(src, 0));
        for (int k = 1; k <= 2; k++)
            pl_tsv_num(f, sqlite3_column_type(src, k) == SQLITE_NULL ? NAN : sqlite3_column_double(src, k) / 1048576.0);
        fprintf(f, "\t%s\n", ph ? ph : "-");
    }
}

/* Config c's block of the TSV and its legend label; *n gets the rows written,
 * -1 when the RSS figure has no run of c (and no block). */
static hx_status runs_block(sqlite3 *db, runs_fig *x, const pl_group *g, const pl_cfg *c, char *label,
                            size_t label_n, int *n, char *err, size_t errlen) {
    bind_cfg(x->rep, g, c);
    int step = sqlite3_step(x->rep);
    *n = 0;
    if (x->loss) snprintf(label, label_n, "%s (ratio %g)", c->method, c->ratio);
    else {
        if (step != SQLITE_ROW) {
            *n = -1;
            return HX_OK;
        }
        snprintf(label, label_n, "%s (ratio %g, seed %lld)", c->method, c->ratio,
                 (long long)sqlite3_column_int64(x->rep, 1));
        sqlite3_reset(x->rows);
        sqlite3_bind_text(x->rows, 1, (const char *)sqlite3_column_text(x->rep, 0), -1, SQLITE_TRANSIENT);
        step = sqlite3_step(x->rows);
    }
    sqlite3_stmt *src = x->loss ? x->rep : x->rows;
    fprintf(x->f, "%s# method %s\n", x->blocks ? "\n\n" : "", label);
    for (; step == SQLITE_ROW; step = sqlite3_step(src), (*n)++) {
        const double xv = sqlite3_column_double(src, 0);
        if (!x->n_x++ || xv < x->x_lo) x->x_lo = xv;
        if (x->n_x == 1 || xv > x->x_hi) x->x_hi = xv;
        runs_row(x->f, src, x->loss);
    }
    if (step != SQLITE_DONE) return hx_error(HX_ERR_IO, err, errlen, "%s: %s", x->suffix, sqlite3_errmsg(db));
    if (*n == 0) fputs("NaN\tNaN\tNaN\tNaN\n", x->f); /* keep block numbering */
    return HX_OK;
}

/* The plot clause of the block just written (none for an empty block; a point
 * where a run logged one row, which a line would not draw). */
static void runs_plot_term(runs_fig *x, const pl_group *g, const pl_cfg *c, const char *label, int n) {
    char q[400];
    if (n <= 0 || x->used >= sizeof x->plot) return;
    pl_gp_quote(q, sizeof q, label);
    int w;
    if (n == 1)
        w = snprintf(x->plot + x->used, sizeof x->plot - x->used,
                     "%s\\\n  'data/%s__%s.tsv' index %d using 1:2 with points pt 7 ps 1.4 lc rgb '%s' title %s",
                     x->used ? ", " : "", g->base, x->suffix, x->blocks, c->style.color, q);
    else if (x->loss)
        w = snprintf(x->plot + x->used, sizeof x->plot - x->used,
                     "%s\\\n  'data/%s__loss.tsv' index %d using 1:3:4 with filledcurves "
                     "fs transparent solid 0.15 noborder lc rgb '%s' notitle, \\\n"
                     "  '' index %d using 1:2 with lines lw 2 lc rgb '%s' title %s",
                     x->used ? ", " : "", g->base, x->blocks, c->style.color, x->blocks, c->style.color, q);
    else
        w = snprintf(x->plot + x->used, sizeof x->plot - x->used,
                     "%s\\\n  'data/%s__rss_time.tsv' index %d using 1:2 with lines lw 2 lc rgb '%s' title %s",
                     x->used ? ", " : "", g->base, x->blocks, c->style.color, q);
    if (w > 0) x->used += (size_t)w;
}

static hx_status runs_script(const char *out_dir, const pl_group *g, const runs_fig *x, pl_list *scripts,
                             char *err, size_t errlen) {
    hx_status rc = HX_OK;
    FILE *gp = pl_gp_open(out_dir, g, x->suffix, scripts, err, errlen, &rc);
    if (!gp) return rc;
    char title[128];
    snprintf(title, sizeof title, "%s at ratio %g", x->loss ? "training loss" : "RSS over time", g->budget);
    pl_gp_begin(gp, g, title);
    if (x->loss) fputs("set xlabel 'training step'\nset ylabel 'training loss (BCE, mean over seeds)'\n", gp);
    else fputs("set xlabel 'time since worker start (s)'\nset ylabel 'resident set size (MiB)'\nset yrange [0:*]\n", gp);
    if (x->n_x > 0 && x->x_lo == x->x_hi) /* one x in all: gnuplot would warn of an empty range */
        fprintf(gp, "set xrange [%.17g:%.17g]\n", x->x_lo - 1, x->x_hi + 1);
    fprintf(gp, "plot %s", x->plot);
    pl_gp_end(gp, g, x->suffix);
    return pl_close_data(gp, x->suffix, err, errlen);
}

/* Writes <base>__rss_time.tsv (one block per method's representative run) or
 * <base>__loss.tsv (one block per method: mean/min/max over seeds per step) and its
 * script; no script when no run at the budget recorded any. */
hx_status pl_fig_runs(sqlite3 *db, const char *out_dir, const pl_group *g, int loss, pl_list *scripts,
                      char *err, size_t errlen) {
    hx_status rc = HX_OK;
    runs_fig x = {.loss = loss, .suffix = loss ? "loss" : "rss_time"};
    char name[64], label[160];
    snprintf(name, sizeof name, "%s.tsv", x.suffix);
    if (sqlite3_prepare_v2(db, loss ? k_loss_sql : k_rep_sql, -1, &x.rep, NULL) != SQLITE_OK ||
        (!loss && sqlite3_prepare_v2(db, k_samples_sql, -1, &x.rows, NULL) != SQLITE_OK)) {
        rc = hx_error(HX_ERR_IO, err, errlen, "%s: %s", x.suffix, sqlite3_errmsg(db));
        goto done;
    }
    if (!(x.f = pl_open_data(out_dir, g, name, err, errlen, &rc))) goto done;
    fprintf(x.f, "# %s of sweep '%s', dataset '%s', dim %lld at ratio %g (and full)\n# %s\n",
            loss ? "training loss, mean/min/max over seeds" : "RSS samples of one run per method",
            g->sweep, g->dataset, (long long)g->dim, g->budget,
            loss ? "step\tloss\tloss_min\tloss_max\tn_seeds" : "t_s\trss_MiB\trss_anon_MiB\tphase");
    for (size_t i = 0; i < g->n_cfg; i++) {
        int n;
        if (!at_budget(g, &g->cfg[i])) continue;
        if ((rc = runs_block(db, &x, g, &g->cfg[i], label, sizeof label, &n, err, errlen)) != HX_OK) goto done;
        if (n < 0) continue;
        runs_plot_term(&x, g, &g->cfg[i], label, n);
        x.blocks++;
    }
    rc = pl_close_data(x.f, name, err, errlen);
    x.f = NULL;
    if (rc == HX_OK && x.used > 0 && x.used < sizeof x.plot) rc = runs_script(out_dir, g, &x, scripts, err, errlen);
done:
    if (x.f) fclose(x.f);
    sqlite3_finalize(x.rep);
    sqlite3_finalize(x.rows);
    return rc;
}

/* ---- every ok run ---- */

static const char k_runs_sql[] =
    "SELECT r.key, r.method, r.ratio_requested, r.seed, r.test_auc, r.test_logloss,"
    " r.bytes_infer, r.bytes_train, r.ratio_achieved, r.peak_rss_bytes,"
    " r.train_samples_per_s, r.infer_samples_per_s"
    " FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok' AND " PL_ARCH_SQL " = ?4"
    " ORDER BY r.method, r.ratio_requested, r.seed";

hx_status pl_write_runs(sqlite3 *db, const char *out_dir, const pl_group *g, char *err, size_t errlen) {
    hx_status rc = HX_OK;
    sqlite3_stmt *st = NULL;
    FILE *f = pl_open_data(out_dir, g, "runs.tsv", err, errlen, &rc);
    if (!f) return rc;
    if (sqlite3_prepare_v2(db, k_runs_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = hx_error(HX_ERR_IO, err, errlen, "runs: %s", sqlite3_errmsg(db));
    } else {
        sqlite3_bind_text(st, 1, g->sweep, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, g->dataset, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, g->dim);
        sqlite3_bind_text(st, 4, g->arch, -1, SQLITE_TRANSIENT);
        rc = pl_dump_stmt(db, st, f, PL_FMT_TSV, NULL, err, errlen);
    }
    sqlite3_finalize(st);
    hx_status rc2 = pl_close_data(f, "runs.tsv", err, errlen);
    return rc != HX_OK ? rc : rc2;
}

