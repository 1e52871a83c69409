/* plot_fig.c: the data files and gnuplot scripts of one figure group (see plot.h).
 *
 * Per group (sweep, dataset, dim), under out_dir/data/:
 *   <base>__configs.tsv      one block per method (gnuplot `index`), one line per
 *                            requested ratio: mean/min/max over seeds of every metric,
 *                            the AUC and logloss bars, and whether it is drawn hollow
 *   <base>__front_auc.tsv    the AUC Pareto front, sorted by bytes (and _logloss)
 *   <base>__runs.tsv, __rss_time.tsv, __loss.tsv   the per-run data (plot_runs.c)
 *   <base>__<figure>.gp      one script per figure, run from out_dir, writing
 *                            out_dir/<base>__<figure>.png and .svg
 * Only series with at least one finite point are drawn, so gnuplot never sees an
 * all-empty plot. Our own choices [R]: sizes, fonts, the grey staircase for the
 * front (the best AUC reachable with at most that many bytes), t-interval bars on
 * AUC and logloss from PL_CI_SEEDS seeds (min/max below, and on every other
 * metric), and a hollow point drawn as the method's filled marker with a smaller
 * white one on top, so every marker keeps its shape and colour.
 */
#include <math.h>
#include <string.h>

#include "plot_int.h"
#include "verdict.h"

/* ---- writing helpers ---- */

/* a gnuplot single-quoted string: quotes doubled, newlines dropped */
void pl_gp_quote(char *buf, size_t n, const char *s) {
    size_t k = 0;
    HX_ASSERT(n >= 3);
    buf[k++] = '\'';
    for (; *s && k + 3 < n; s++) {
        if (*s == '\'') buf[k++] = '\'';
        if (*s != '\n') buf[k++] = *s;
    }
    buf[k++] = '\'';
    buf[k] = 0;
}

void pl_gp_str(FILE *f, const char *s) {
    char q[512];
    pl_gp_quote(q, sizeof q, s);
    fputs(q, f);
}

void pl_tsv_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "\t%.10g", v);
    else fputs("\tNaN", f);
}

FILE *pl_open_data(const char *out_dir, const pl_group *g, const char *suffix, char *err, size_t errlen,
                   hx_status *rc) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/%s__%s", out_dir, g->base, suffix);
    FILE *f = fopen(path, "w");
    if (!f) *rc = hx_error(HX_ERR_IO, err, errlen, "cannot write %s", path);
    return f;
}

hx_status pl_close_data(FILE *f, const char *what, char *err, size_t errlen) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return hx_error(HX_ERR_IO, err, errlen, "writing %s failed", what);
    return HX_OK;
}

/* ---- the per-config table and the fronts ---- */

static int same_method(const pl_group *g, size_t i, size_t j) {
    return !strcmp(g->cfg[i].method, g->cfg[j].method);
}

static const char *bars_kind(const pl_bar *b) { return b->ci ? "ci" : "minmax"; }

static void write_configs(FILE *f, const pl_group *g) {
    fprintf(f, "# embsweep plot: ok runs of sweep '%s', dataset '%s', dim %lld, mean/min/max over "
               "seeds per (method, requested ratio); one block per method (gnuplot index)\n"
               "# auc_lo, auc_hi (logloss_lo, logloss_hi): the bars drawn, the %g%% Student-t CI of "
               "the mean over seeds when the config has %d or more (auc_bars = ci), else min/max "
               "(minmax)\n"
               "# hollow = 1: drawn hollow, its verdict against full is not resolved (any of the "
               "settings pooled into it; embsweep compare)\n",
            g->sweep, g->dataset, (long long)g->dim, 100 * (1 - PL_CI_ALPHA), PL_CI_SEEDS);
    fputs("# ratio_req\tn_runs\tbytes_infer\tauc\tauc_min\tauc_max\tlogloss\tlogloss_min"
          "\tlogloss_max\tratio_achieved\tbytes_train\tpeak_rss\tpeak_rss_min\tpeak_rss_max"
          "\ttrain_sps\ttrain_sps_min\ttrain_sps_max\tinfer_sps\tinfer_sps_min\tinfer_sps_max"
          "\tfront_auc\tfront_logloss\tauc_lo\tauc_hi\tauc_bars\tlogloss_lo\tlogloss_hi"
          "\tlogloss_bars\thollow\n",
          f);
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_cfg *c = &g->cfg[i];
        if (i == 0 || !same_method(g, i, i - 1)) fprintf(f, "%s# method %s\n", i ? "\n\n" : "", c->method);
        fprintf(f, "%.10g\t%d", c->ratio, c->n_runs);
        pl_tsv_num(f, c->bytes_infer.mean);
        const pl_stat *st[] = {&c->auc, &c->logloss};
        for (int k = 0; k < 2; k++) {
            pl_tsv_num(f, st[k]->mean);
            pl_tsv_num(f, st[k]->min);
            pl_tsv_num(f, st[k]->max);
        }
        pl_tsv_num(f, c->ratio_achieved.mean);
        pl_tsv_num(f, c->bytes_train.mean);
        const pl_stat *st2[] = {&c->peak_rss, &c->train_sps, &c->infer_sps};
        for (int k = 0; k < 3; k++) {
            pl_tsv_num(f, st2[k]->mean);
            pl_tsv_num(f, st2[k]->min);
            pl_tsv_num(f, st2[k]->max);
        }
        fprintf(f, "\t%d\t%d", c->front, c->front_ll);
        pl_tsv_num(f, c->auc_bar.lo);
        pl_tsv_num(f, c->auc_bar.hi);
        fprintf(f, "\t%s", bars_kind(&c->auc_bar));
        pl_tsv_num(f, c->logloss_bar.lo);
        pl_tsv_num(f, c->logloss_bar.hi);
        fprintf(f, "\t%s\t%d\n", bars_kind(&c->logloss_bar), c->hollow);
    }
}

static void write_front(FILE *f, const pl_group *g, int logloss) {
    fprintf(f, "# Pareto front (%s) of sweep '%s', dataset '%s', dim %lld, sorted by bytes\n"
               "# bytes_infer\t%s\tmethod\tratio_req\n",
            logloss ? "min bytes, min logloss" : "min bytes, max AUC", g->sweep, g->dataset,
            (long long)g->dim, logloss ? "logloss" : "auc");
    /* insertion order by bytes, then by metric (configs are few) */
    size_t *ix = hx_xmalloc((g->n_cfg + 1) * sizeof *ix), n = 0;
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_cfg *c = &g->cfg[i];
        if (!(logloss ? c->front_ll : c->front)) continue;
        size_t k = n++;
        while (k > 0) {
            const pl_cfg *p = &g->cfg[ix[k - 1]];
            double yp = logloss ? -p->logloss.mean : p->auc.mean;
            double yc = logloss ? -c->logloss.mean : c->auc.mean;
            if (p->bytes_infer.mean < c->bytes_infer.mean ||
                (p->bytes_infer.mean == c->bytes_infer.mean && yp <= yc))
                break;
            ix[k] = ix[k - 1];
            k--;
        }
        ix[k] = i;
    }
    for (size_t k = 0; k < n; k++) {
        const pl_cfg *c = &g->cfg[ix[k]];
        fprintf(f, "%.10g\t%.10g\t%s\t%.10g\n", c->bytes_infer.mean,
                logloss ? c->logloss.mean : c->auc.mean, c->method, c->ratio);
    }
    hx_free(ix);
}

/* ---- the scripts ---- */

typedef struct axis { int col, col_min, col_max; } axis; /* 1-based TSV columns */

enum { C_BYTES = 3, C_AUC = 4, C_LL = 7, C_RATIO_ACH = 10, C_BYTES_TRAIN = 11,
       C_RSS = 12, C_TRAIN = 15, C_INFER = 18, C_AUC_LO = 23, C_AUC_HI = 24, C_LL_LO = 26,
       C_LL_HI = 27, C_HOLLOW = 29 };

static const pl_stat *stat_of(const pl_cfg *c, int col) {
    switch (col) {
    case C_BYTES: return &c->bytes_infer;
    case C_AUC: return &c->auc;
    case C_LL: return &c->logloss;
    case C_RATIO_ACH: return &c->ratio_achieved;
    case C_BYTES_TRAIN: return &c->bytes_train;
    case C_RSS: return &c->peak_rss;
    case C_TRAIN: return &c->train_sps;
    case C_INFER: return &c->infer_sps;
    default: HX_ASSERT(0 && "unknown column");
    }
    return NULL;
}

/* The bar of a column's metric; NULL for a metric with min/max bars. */
static const pl_bar *bar_of(const pl_cfg *c, int col) {
    return col == C_AUC ? &c->auc_bar : col == C_LL ? &c->logloss_bar : NULL;
}

/* What a figure's bars are, for its axis label. */
static void bars_note(const pl_group *g, int col, char *buf, size_t n) {
    int ci = 0, minmax = 0;
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_bar *b = bar_of(&g->cfg[i], col);
        if (!b || !isfinite(stat_of(&g->cfg[i], col)->mean)) continue;
        ci |= b->ci;
        minmax |= !b->ci;
    }
    if (ci && minmax) snprintf(buf, n, "bars: %g%% CI, min/max under %d seeds", 100 * (1 - PL_CI_ALPHA), PL_CI_SEEDS);
    else if (ci) snprintf(buf, n, "bars: %g%% CI over seeds", 100 * (1 - PL_CI_ALPHA));
    else snprintf(buf, n, "bars: min/max over seeds");
}

void pl_gp_begin(FILE *f, const pl_group *g, const char *title) {
    fprintf(f, "# embsweep plot: run from the plots directory: gnuplot data/<this file>\n"
               "reset\nset encoding utf8\nset termoption noenhanced\n"
               "set grid lc rgb '#d8d8d8' lw 1\nset border lc rgb '#404040'\n"
               "set key outside right top vertical Left reverse spacing 1.3 samplen 2.5 width 2\n"
               "set samples 400\nset title ");
    char t[512];
    snprintf(t, sizeof t, "%s  (sweep %s, dataset %s, dim %lld)", title, g->sweep, g->dataset,
             (long long)g->dim);
    pl_gp_str(f, t);
    fputc('\n', f);
}

static void gp_bytes_axis(FILE *f, char axis_name, double lo, double hi) {
    char tics[1024];
    pl_bytes_tics(lo, hi, tics, sizeof tics);
    fprintf(f, "set logscale %c 2\nset %ctics %s\nset m%ctics default\n", axis_name, axis_name,
            tics, axis_name);
    if (lo > 0 && hi >= lo) fprintf(f, "set %crange [%.6g:%.6g]\n", axis_name, lo / 1.4, hi * 1.4);
}

/* range of a stat over the configs (finite values only); returns 0 if none */
static int stat_range(const pl_group *g, int col, double *lo, double *hi) {
    int any = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_stat *s = stat_of(&g->cfg[i], col);
        const pl_bar *b = bar_of(&g->cfg[i], col);
        double v[5] = {s->mean, s->min, s->max, b ? b->lo : NAN, b ? b->hi : NAN};
        for (int k = 0; k < 5; k++)
            if (isfinite(v[k]) && v[k] > 0) {
                *lo = v[k] < *lo ? v[k] : *lo;
                *hi = v[k] > *hi ? v[k] : *hi;
                any = 1;
            }
    }
    return any;
}

/* The method whose first config is i: 1 when it has a finite (x, y) point; 2 when
 * one of those is hollow. */
static int method_drawable(const pl_group *g, size_t i, int xcol, int ycol) {
    int r = 0;
    for (size_t j = i; j < g->n_cfg && same_method(g, i, j); j++) {
        double xv = stat_of(&g->cfg[j], xcol)->mean;
        if (isfinite(xv) && xv > 0 && isfinite(stat_of(&g->cfg[j], ycol)->mean))
            r = r == 2 || g->cfg[j].hollow ? 2 : 1;
    }
    return r;
}

/* The hollow points of the method block just drawn: its marker again, smaller and
 * white, on the rows whose hollow column is 1. */
static void gp_hollow(FILE *f, const char *configs, int block, int xcol, double dodge, int ycol, int point) {
    fprintf(f, ", \\\n  '%s' index %d using ($%d*%.6f):($%d > 0 ? $%d : NaN) with points pt %d ps 0.7 "
               "lc rgb '#ffffff' notitle",
            configs, block, xcol, dodge, C_HOLLOW, ycol, point);
}

/* Emits the `plot` command: optional front file, one series per method with at
 * least one finite (x, y) point, then the reference lines. Methods at equal x are
 * spread sideways by a factor 2^(+-0.025 k) (a dodge of about 2% per method, so that
 * their error bars stay apart on the log axis) [R]. With hollow, the configs not
 * resolved against the baseline are drawn hollow, and the key says so once.
 * Returns the series drawn. */
static int gp_plot_methods(FILE *f, const pl_group *g, const char *configs, int xcol, axis y,
                           const char *front, int hollow) {
    int n = 0, m = 0, k = 0, any_hollow = 0;
    fputs("plot ", f);
    if (front) {
        fprintf(f, "'%s' using 1:2 with steps lc rgb '#c8c8c8' lw 6 title 'Pareto front'", front);
        n++;
    }
    for (size_t i = 0; i < g->n_cfg; i++)
        if ((i == 0 || !same_method(g, i, i - 1)) && method_drawable(g, i, xcol, y.col)) m++;
    int block = -1;
    for (size_t i = 0; i < g->n_cfg; i++) {
        if (i == 0 || !same_method(g, i, i - 1)) block++;
        else continue;
        int drawable = method_drawable(g, i, xcol, y.col);
        if (!drawable) continue;
        const pl_cfg *c = &g->cfg[i];
        double dodge = exp2((k++ - (m - 1) / 2.0) * 0.025);
        fprintf(f, "%s\\\n  '%s' index %d using ($%d*%.6f):%d:%d:%d with yerrorlines", n ? ", " : "",
                configs, block, xcol, dodge, y.col, y.col_min, y.col_max);
        fprintf(f, " lc rgb '%s' pt %d ps 1.4 lw 1.8 title ", c->style.color, c->style.point);
        pl_gp_str(f, c->method);
        n++;
        if (hollow && drawable == 2) {
            gp_hollow(f, configs, block, xcol, dodge, y.col, c->style.point);
            any_hollow = 1;
        }
    }
    if (any_hollow) { /* on two lines, so the key takes no more width than the others */
        char t[160];
        snprintf(t, sizeof t, "hollow: not resolved against %s", g->vd ? g->vd->baseline : "full");
        fputs(", \\\n  keyentry with points pt 6 ps 1.4 lw 1.8 lc rgb '#404040' title ", f);
        pl_gp_str(f, t);
        fputs(", \\\n  keyentry with lines lt nodraw title '(embsweep compare)'", f);
    }
    return n;
}

static void gp_hline(FILE *f, double v, const char *label, const char *suffix, const char *style) {
    if (!isfinite(v)) return;
    char t[160];
    snprintf(t, sizeof t, "%s %.4f%s", label, v, suffix);
    fprintf(f, ", \\\n  %.10g with lines %s title ", v, style);
    pl_gp_str(f, t);
}

void pl_gp_end(FILE *f, const pl_group *g, const char *suffix) {
    fprintf(f, "\n\nset terminal svg size 1100,640 dynamic font 'DejaVu Sans,12' noenhanced "
               "background rgb 'white'\nset output '%s__%s.svg'\nreplot\nset output\n",
            g->base, suffix);
}

/* The plot is drawn to PNG first, then gp_end replots it to SVG, so the plot
 * command is written once. */
FILE *pl_gp_open(const char *out_dir, const pl_group *g, const char *suffix, pl_list *scripts, char *err,
                 size_t errlen, hx_status *rc) {
    char name[128], rel[512];
    snprintf(name, sizeof name, "%s.gp", suffix);
    snprintf(rel, sizeof rel, "data/%s__%s", g->base, name);
    FILE *f = pl_open_data(out_dir, g, name, err, errlen, rc);
    if (f) {
        pl_list_push(scripts, rel);
        fprintf(f, "set terminal pngcairo size 1100,640 font 'DejaVu Sans,12' noenhanced\n"
                   "set output '%s__%s.png'\n", g->base, suffix);
    }
    return f;
}

/* ---- the config figures: a metric against bytes or ratio ---- */

enum { X_BYTES, X_RATIO };
enum { Y_PLAIN, Y_SPEED, Y_BYTES };

typedef struct fig_spec {
    const char *suffix, *title;
    int         xcol, xkind;
    const char *xlabel;
    axis        y;
    int         ykind;
    const char *ylabel;     /* followed by what the bars are, for AUC and logloss */
    const char *front;      /* "front_auc" | "front_logloss" | NULL */
    double      full, bayes;
    const char *bayes_label;
    int         diagonal;   /* draw y = x */
    int         hollow;     /* draw the configs not resolved against the baseline hollow */
} fig_spec;

/* The staircase ends at the front's last config; beyond it, up to the config with
 * the most bytes, the best reachable value stays the same: a flat tail. */
static void gp_front_tail(FILE *f, const pl_group *g, int logloss) {
    double xmax = -INFINITY, last_x = -INFINITY, last_y = NAN;
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_cfg *c = &g->cfg[i];
        double x = c->bytes_infer.mean, y = logloss ? c->logloss.mean : c->auc.mean;
        if (!isfinite(x) || !isfinite(y)) continue;
        xmax = fmax(xmax, x);
        if ((logloss ? c->front_ll : c->front) && x >= last_x) {
            if (x > last_x || (logloss ? y < last_y : y > last_y)) last_y = y;
            last_x = x;
        }
    }
    if (isfinite(last_y) && xmax > last_x)
        fprintf(f, "set arrow from %.10g,%.10g to %.10g,%.10g nohead back lc rgb '#c8c8c8' lw 6\n",
                last_x, last_y, xmax, last_y);
}

static int has_series(const pl_group *g, int xcol, int ycol) {
    for (size_t i = 0; i < g->n_cfg; i++) {
        double xv = stat_of(&g->cfg[i], xcol)->mean;
        if (isfinite(xv) && xv > 0 && isfinite(stat_of(&g->cfg[i], ycol)->mean)) return 1;
    }
    return 0;
}

static hx_status fig_config(const char *out_dir, const pl_group *g, const fig_spec *s,
                            pl_list *scripts, char *err, size_t errlen) {
    hx_status rc = HX_OK;
    if (!has_series(g, s->xcol, s->y.col)) return HX_OK;
    FILE *f = pl_gp_open(out_dir, g, s->suffix, scripts, err, errlen, &rc);
    if (!f) return rc;
    pl_gp_begin(f, g, s->title);
    char ylabel[256], note[96];
    if (bar_of(&g->cfg[0], s->y.col)) {
        bars_note(g, s->y.col, note, sizeof note);
        snprintf(ylabel, sizeof ylabel, "%s (%s)", s->ylabel, note);
    } else snprintf(ylabel, sizeof ylabel, "%s", s->ylabel);
    fprintf(f, "set xlabel '%s'\nset ylabel ", s->xlabel);
    pl_gp_str(f, ylabel);
    fputc('\n', f);
    double xlo, xhi, ylo, yhi;
    stat_range(g, s->xcol, &xlo, &xhi);
    if (s->xkind == X_BYTES) gp_bytes_axis(f, 'x', xlo, xhi);
    else fprintf(f, "set logscale x 2\nset format x '%%g×'\nset xrange [%.6g:%.6g]\n", xlo / 1.3, xhi * 1.3);
    const char *bayes_note = "";
    if (s->ykind == Y_PLAIN && stat_range(g, s->y.col, &ylo, &yhi)) {
        /* room for the reference lines, which must not sit on the frame; a Bayes
         * line further than one data span away would squash the data into a strip,
         * so it is left off the plot and its key entry says so */
        if (isfinite(s->full)) ylo = fmin(ylo, s->full), yhi = fmax(yhi, s->full);
        double span = fmax(yhi - ylo, 0.01);
        if (isfinite(s->bayes) && s->bayes >= ylo - span && s->bayes <= yhi + span)
            ylo = fmin(ylo, s->bayes), yhi = fmax(yhi, s->bayes);
        else if (isfinite(s->bayes))
            bayes_note = " (off plot)";
        double pad = (yhi - ylo) * 0.08 + 1e-4;
        fprintf(f, "set yrange [%.6g:%.6g]\n", ylo - pad, yhi + pad);
    }
    if (s->ykind == Y_SPEED) fputs("set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\nset format y '%.0s%c'\n", f);
    if (s->ykind == Y_BYTES) {
        stat_range(g, s->y.col, &ylo, &yhi);
        gp_bytes_axis(f, 'y', xlo < ylo ? xlo : ylo, xhi > yhi ? xhi : yhi);
    }
    char configs[512], front[512];
    snprintf(configs, sizeof configs, "data/%s__configs.tsv", g->base);
    snprintf(front, sizeof front, "data/%s__%s.tsv", g->base, s->front ? s->front : "");
    if (s->front) gp_front_tail(f, g, !strcmp(s->front, "front_logloss"));
    gp_plot_methods(f, g, configs, s->xcol, s->y, s->front ? front : NULL, s->hollow);
    gp_hline(f, s->full, "full (uncompressed)", "", "dt 2 lw 2 lc rgb '#000000'");
    gp_hline(f, s->bayes, s->bayes_label, bayes_note, "dt 3 lw 2 lc rgb '#2a7f2a'");
    if (s->diagonal)
        fputs(", \\\n  x with lines dt 2 lw 1.5 lc rgb '#808080' title 'y = x (RSS = inference bytes)'", f);
    pl_gp_end(f, g, s->suffix);
    return pl_close_data(f, s->suffix, err, errlen);
}

/* ---- every figure of a group ---- */

hx_status pl_write_figures(sqlite3 *db, const pl_group *g, const char *out_dir, pl_list *scripts,
                           char *err, size_t errlen) {
    hx_status rc = HX_OK;
    FILE *f;
    if (!(f = pl_open_data(out_dir, g, "configs.tsv", err, errlen, &rc))) return rc;
    write_configs(f, g);
    if ((rc = pl_close_data(f, "configs.tsv", err, errlen)) != HX_OK) return rc;
    for (int ll = 0; ll < 2; ll++) {
        if (!(f = pl_open_data(out_dir, g, ll ? "front_logloss.tsv" : "front_auc.tsv", err, errlen, &rc)))
            return rc;
        write_front(f, g, ll);
        if ((rc = pl_close_data(f, "front", err, errlen)) != HX_OK) return rc;
    }
    if ((rc = pl_write_runs(db, out_dir, g, err, errlen)) != HX_OK) return rc;

    const axis auc = {C_AUC, C_AUC_LO, C_AUC_HI}, ll = {C_LL, C_LL_LO, C_LL_HI};
    const axis rss = {C_RSS, C_RSS + 1, C_RSS + 2}, tr = {C_TRAIN, C_TRAIN + 1, C_TRAIN + 2};
    const axis inf = {C_INFER, C_INFER + 1, C_INFER + 2};
    const char *xb = "embedding bytes at inference (log scale)";
    const fig_spec specs[] = {
        {"auc", pl_figures[0].title, C_BYTES, X_BYTES, xb, auc, Y_PLAIN, "test AUC, mean over seeds",
         "front_auc", g->full_auc, g->bayes_auc, "Bayes-optimal", 0, 1},
        {"logloss", pl_figures[1].title, C_BYTES, X_BYTES, xb, ll, Y_PLAIN, "test logloss, lower is better",
         "front_logloss", g->full_logloss, g->bayes_logloss, "Bayes-optimal", 0, 0},
        {"ratio", pl_figures[2].title, C_RATIO_ACH, X_RATIO, "achieved compression ratio (full bytes / inference bytes, log scale)",
         auc, Y_PLAIN, "test AUC, mean over seeds", NULL, g->full_auc, g->bayes_auc,
         "Bayes-optimal", 0, 1},
        {"train_speed", pl_figures[3].title, C_BYTES_TRAIN, X_BYTES, "bytes while training: parameters + optimizer state (log scale)",
         tr, Y_SPEED, "training throughput (samples/s)", NULL, NAN, NAN, NULL, 0, 0},
        {"infer_speed", pl_figures[4].title, C_BYTES, X_BYTES, xb, inf, Y_SPEED,
         "inference throughput (samples/s)", NULL, NAN, NAN, NULL, 0, 0},
        {"rss", pl_figures[5].title, C_BYTES, X_BYTES, xb, rss, Y_BYTES,
         "measured peak RSS of the worker (log scale)", NULL, NAN, NAN, NULL, 1, 0},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if ((rc = fig_config(out_dir, g, &specs[i], scripts, err, errlen)) != HX_OK) return rc;
    if ((rc = pl_fig_runs(db, out_dir, g, 0, scripts, err, errlen)) != HX_OK) return rc;
    return pl_fig_runs(db, out_dir, g, 1, scripts, err, errlen);
}
