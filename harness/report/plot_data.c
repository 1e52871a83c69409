/* plot_data.c: read one figure group (sweep, dataset, dim, arch) from SQLite and aggregate
 * its ok runs per config (method, requested ratio) over seeds (see plot.h).
 *
 * Our own choices [R]: a config is (method, ratio_requested); runs that differ in
 * other settings (say a learning-rate axis) are averaged together, so a sweep that
 * crosses such an axis should be split or filtered before plotting. The AUC and
 * logloss bars are the 95% t interval of the mean over the config's runs from
 * PL_CI_SEEDS runs on, min/max below (at two values t is 12.7: 18 sd wide);
 * where a point pools several settings the interval is over all its runs, as its
 * mean is, and the point is hollow when any of those settings is not resolved
 * against `full` (plot_verdict.c). Every other spread is min/max over seeds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/stats.h"
#include "plot.h"
#include "verdict.h"

/* The metric columns, in pl_cfg order. Each becomes AVG, MIN, MAX, COUNT. */
#define PL_METRICS(X)                                                                    \
    X(auc, test_auc) X(logloss, test_logloss) X(bytes_infer, bytes_infer)                \
    X(bytes_train, bytes_train) X(ratio_achieved, ratio_achieved)                        \
    X(peak_rss, peak_rss_bytes) X(train_sps, train_samples_per_s)                         \
    X(infer_sps, infer_samples_per_s)

#define PL_SQL_AGG(f, col) ", AVG(r." #col "), MIN(r." #col "), MAX(r." #col "), COUNT(r." #col ")"

static const char k_group_sql[] =
    "SELECT r.method, r.ratio_requested, COUNT(*)" PL_METRICS(PL_SQL_AGG)
    " FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok'"
    " AND " PL_ARCH_SQL " = ?4"
    " GROUP BY r.method, r.ratio_requested";

/* The values behind the bars, one config after another. */
static const char k_values_sql[] =
    "SELECT r.method, r.ratio_requested, r.test_auc, r.test_logloss"
    " FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok'"
    " AND " PL_ARCH_SQL " = ?4"
    " ORDER BY r.method, r.ratio_requested";

static const char k_bayes_sql[] =
    "SELECT AVG(r.bayes_auc), AVG(r.bayes_logloss)"
    " FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok'"
    " AND " PL_ARCH_SQL " = ?4";

static int cfg_cmp(const void *pa, const void *pb) {
    const pl_cfg *a = pa, *b = pb;
    if (a->style.order != b->style.order) return a->style.order < b->style.order ? -1 : 1;
    int c = strcmp(a->method, b->method);
    if (c) return c;
    return (a->ratio > b->ratio) - (a->ratio < b->ratio);
}

static double col_or_nan(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static void read_stat(sqlite3_stmt *st, int col, pl_stat *s) {
    s->mean = col_or_nan(st, col);
    s->min = col_or_nan(st, col + 1);
    s->max = col_or_nan(st, col + 2);
    s->n = sqlite3_column_int(st, col + 3);
}

static void bind_group(sqlite3_stmt *st, const pl_group *g) {
    sqlite3_bind_text(st, 1, g->sweep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, g->dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, g->dim);
    sqlite3_bind_text(st, 4, g->arch, -1, SQLITE_TRANSIENT);
}

/* ---- the bars ---- */

/* The bar over the n values of x (finite ones), or min/max of s below PL_CI_SEEDS. */
static pl_bar bar_of(const double *x, int n, const pl_stat *s) {
    pl_bar b = {s->min, s->max, 0};
    if (n >= PL_CI_SEEDS) {
        st_summary m = st_mean_ci(x, n, PL_CI_ALPHA);
        if (isfinite(m.ci_lo) && isfinite(m.ci_hi)) b = (pl_bar){m.ci_lo, m.ci_hi, 1};
    }
    return b;
}

static pl_cfg *cfg_find(pl_group *g, const char *method, double ratio) {
    for (size_t i = 0; i < g->n_cfg; i++)
        if (!strcmp(g->cfg[i].method, method) && g->cfg[i].ratio == ratio) return &g->cfg[i];
    return NULL;
}

/* Appends column i of st to x when it is a finite number. */
static void push_value(sqlite3_stmt *st, int i, double *x, int *n) {
    double v = col_or_nan(st, i);
    if (isfinite(v)) x[(*n)++] = v;
}

static void set_bars(pl_cfg *c, const double *auc, int na, const double *ll, int nl) {
    c->auc_bar = bar_of(auc, na, &c->auc);
    c->logloss_bar = bar_of(ll, nl, &c->logloss);
}

/* The AUC and logloss bars of every config (min/max until then). k_values_sql
 * returns each config's runs together, as many as its n_runs: the rows
 * k_group_sql counted, unless a sweep wrote more since (those are left out). */
static hx_status load_bars(sqlite3 *db, pl_group *g, sqlite3_stmt *st, char *err, size_t errlen) {
    int cap = 1;
    for (size_t i = 0; i < g->n_cfg; i++) cap = g->cfg[i].n_runs > cap ? g->cfg[i].n_runs : cap;
    double *auc = hx_malloc(2 * (size_t)cap * sizeof *auc), *ll = auc + cap;
    if (!auc) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    pl_cfg *c = NULL;
    char method[PL_NAME] = "", m[PL_NAME];
    double ratio = NAN;
    int na = 0, nl = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(m, sizeof m, "%s", t ? t : "?"); /* as pl_cfg holds it */
        double r = sqlite3_column_double(st, 1);
        if (strcmp(m, method) || r != ratio) { /* the next config; NULL: not read before */
            if (c) set_bars(c, auc, na, ll, nl);
            snprintf(method, sizeof method, "%s", m);
            ratio = r;
            c = cfg_find(g, method, ratio);
            na = nl = 0;
        }
        if (c && na < cap) push_value(st, 2, auc, &na);
        if (c && nl < cap) push_value(st, 3, ll, &nl);
    }
    if (c) set_bars(c, auc, na, ll, nl);
    hx_free(auc);
    if (step != SQLITE_DONE) return hx_error(HX_ERR_IO, err, errlen, "reading runs: %s", sqlite3_errmsg(db));
    return HX_OK;
}

static void mark_fronts(pl_group *g) {
    size_t n = g->n_cfg;
    double *x = hx_xmalloc((3 * n + 1) * sizeof *x), *y = x + n, *z = y + n;
    unsigned char *on = hx_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        x[i] = g->cfg[i].bytes_infer.mean;
        y[i] = g->cfg[i].auc.mean;
        z[i] = g->cfg[i].logloss.mean;
    }
    pl_pareto(x, y, n, 1, on);
    for (size_t i = 0; i < n; i++) g->cfg[i].front = on[i];
    pl_pareto(x, z, n, 0, on);
    for (size_t i = 0; i < n; i++) g->cfg[i].front_ll = on[i];
    hx_free(on);
    hx_free(x);
}

double pl_choose_budget(const pl_group *g) {
    double best = 1;
    size_t best_count = 0;
    for (size_t i = 0; i < g->n_cfg; i++) {
        double r = g->cfg[i].ratio;
        if (!(r > 1)) continue;
        size_t count = 0; /* methods with a config at this ratio (configs are unique) */
        for (size_t j = 0; j < g->n_cfg; j++) count += g->cfg[j].ratio == r;
        if (count > best_count || (count == best_count && r > best)) {
            best = r;
            best_count = count;
        }
    }
    return best;
}

/* Steps st (k_group_sql) to the end: one pl_cfg per row, appended to g. */
static hx_status read_configs(sqlite3 *db, sqlite3_stmt *st, pl_group *g, char *err, size_t errlen) {
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (g->n_cfg == cap) {
            cap = cap ? 2 * cap : 16;
            pl_cfg *p = hx_realloc(g->cfg, cap * sizeof *p);
            if (!p) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
            g->cfg = p;
        }
        pl_cfg *c = &g->cfg[g->n_cfg++];
        memset(c, 0, sizeof *c);
        const char *m = (const char *)sqlite3_column_text(st, 0);
        snprintf(c->method, sizeof c->method, "%s", m ? m : "?");
        c->ratio = sqlite3_column_double(st, 1);
        c->n_runs = sqlite3_column_int(st, 2);
        int col = 3;
#define PL_READ(f, colname) read_stat(st, col, &c->f); col += 4;
        PL_METRICS(PL_READ)
#undef PL_READ
        c->style = pl_method_style(c->method);
        set_bars(c, NULL, 0, NULL, 0);
    }
    if (step != SQLITE_DONE)
        return hx_error(HX_ERR_IO, err, errlen, "reading runs of %s/%s/d%lld: %s", g->sweep, g->dataset,
                        (long long)g->dim, sqlite3_errmsg(db));
    return HX_OK;
}

hx_status pl_group_load(sqlite3 *db, const char *sweep, const char *dataset, int64_t dim, const char *arch,
                        double budget, pl_group *g, char *err, size_t errlen) {
    hx_status rc = HX_OK;
    sqlite3_stmt *st = NULL;
    memset(g, 0, sizeof *g);
    snprintf(g->sweep, sizeof g->sweep, "%s", sweep);
    snprintf(g->dataset, sizeof g->dataset, "%s", dataset);
    g->dim = dim;
    snprintf(g->arch, sizeof g->arch, "%s", arch ? arch : "dlrm");
    g->full_auc = g->full_logloss = g->bayes_auc = g->bayes_logloss = NAN;
    char s1[PL_NAME * 2], s2[PL_NAME];
    pl_sanitize(sweep, s1, sizeof s1);
    pl_sanitize(dataset, s2, sizeof s2);
    snprintf(g->base, sizeof g->base, "%s__%s__d%lld", s1, s2, (long long)dim);
    if (strcmp(g->arch, "dlrm")) { /* dlrm groups keep the names they had before archs */
        char s3[sizeof g->arch];
        pl_sanitize(g->arch, s3, sizeof s3);
        snprintf(g->base + strlen(g->base), sizeof g->base - strlen(g->base), "__%s", s3);
    }

    if (sqlite3_prepare_v2(db, k_group_sql, -1, &st, NULL) != SQLITE_OK) goto sql_error;
    bind_group(st, g);
    if ((rc = read_configs(db, st, g, err, errlen)) != HX_OK) goto done;
    sqlite3_finalize(st);
    st = NULL;
    if (g->n_cfg) qsort(g->cfg, g->n_cfg, sizeof *g->cfg, cfg_cmp);
    mark_fronts(g);

    /* the uncompressed baseline: `full` at its smallest ratio (1 in any sane sweep) */
    for (size_t i = 0; i < g->n_cfg; i++)
        if (!strcmp(g->cfg[i].method, "full")) {
            g->full_auc = g->cfg[i].auc.mean;
            g->full_logloss = g->cfg[i].logloss.mean;
            break;
        }
    if (sqlite3_prepare_v2(db, k_bayes_sql, -1, &st, NULL) != SQLITE_OK) goto sql_error;
    bind_group(st, g);
    if (sqlite3_step(st) == SQLITE_ROW) {
        g->bayes_auc = col_or_nan(st, 0);
        g->bayes_logloss = col_or_nan(st, 1);
    }
    g->budget = budget > 0 ? budget : pl_choose_budget(g);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, k_values_sql, -1, &st, NULL) != SQLITE_OK) goto sql_error;
    bind_group(st, g);
    if ((rc = load_bars(db, g, st, err, errlen)) == HX_OK) rc = pl_group_verdicts(db, g, err, errlen);
    goto done;

sql_error:
    rc = hx_error(HX_ERR_IO, err, errlen, "reading runs of %s/%s/d%lld: %s", sweep, dataset,
                  (long long)dim, sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    if (rc != HX_OK) pl_group_free(g);
    return rc;
}

void pl_group_free(pl_group *g) {
    hx_free(g->cfg);
    g->cfg = NULL;
    g->n_cfg = 0;
    if (g->vd) vd_table_free(g->vd);
    hx_free(g->vd);
    g->vd = NULL;
}
