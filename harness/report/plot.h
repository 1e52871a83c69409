/* plot.h: `embsweep plot`, `query` and `export` (harness/report/plot*.c,
 * query.c): the work of each command (pl_plot, pl_query_*, pl_export_csv; their
 * command lines are harness/cli/plot_cli.c and query_cli.c) and the pieces shared
 * between them and tested on their own.
 *
 * Data flow: SQLite (runs JOIN sweep_runs, status 'ok' only) -> one pl_group per
 * (sweep, dataset, dim) holding one pl_cfg per (method, requested ratio) with the
 * mean/min/max of every metric over seeds -> TSV files + gnuplot scripts -> PNG/SVG,
 * and plots/index.html. Only SQLite is read; nothing is written to it.
 *
 * The Pareto front (pl_pareto) is over those per-config means: a config is on the
 * front when no other config of the same (sweep, dataset, dim) has at most its bytes
 * and at least its metric, one of them strictly. results/queries/pareto_front.sql
 * states the same rule in SQL; tests/test_plot.c checks that both agree.
 *
 * The AUC and logloss bars are a 95% t interval of the mean over seeds when a
 * config has PL_CI_SEEDS runs or more, min/max below that; every other figure
 * draws min/max. Each group also carries the verdicts of its configs against
 * `full` (verdict.h): a config not resolved against it is drawn hollow in the
 * AUC figures, and the page lists the verdicts under the group's summary.
 */
#ifndef EMBSWEEP_PLOT_H
#define EMBSWEEP_PLOT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/core/util.h"

#define PL_NAME 64

/* ---- per-method style: one colour and marker for a method in every figure ---- */
typedef struct pl_style {
    const char *color; /* "#rrggbb" */
    int         point; /* gnuplot pointtype */
    size_t      order; /* legend order: registry position, unknown names after */
} pl_style;

/* The style of `method` (or an alias of it): colour and marker from its name (a
 * fixed table for the known methods, a hash of the name for others), legend order
 * from its registry position, unknown names last. */
pl_style pl_method_style(const char *method);

/* ---- the Pareto front ---- */
/* on_front[i] = 1 when no j has x[j] <= x[i] and y[j] >= y[i] (y[j] <= y[i] when
 * !higher_better) with at least one strict; 0 otherwise. Non-finite points are never
 * on the front and never dominate. O(n^2), n is a few hundred at most. Returns the
 * number of points on the front. */
size_t pl_pareto(const double *x, const double *y, size_t n, int higher_better,
                 unsigned char *on_front);

/* ---- log-axis tick labels in human units ---- */
/* Writes a gnuplot tic list `("64 KiB" 65536, "256 KiB" 262144, ...)` of powers of
 * two covering [lo, hi] (bytes, lo > 0), at most about 8 ticks, into buf. */
void pl_bytes_tics(double lo, double hi, char *buf, size_t n);

/* ---- small text helpers ---- */
void pl_sanitize(const char *in, char *out, size_t n); /* [A-Za-z0-9._-], else '_' */
void pl_html_escape(FILE *f, const char *s);            /* & < > " ' escaped */

/* ---- database ---- */
/* Opens an existing database read-only (busy timeout set). */
hx_status pl_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Steps st to the end and writes its rows with a header line: PL_FMT_TABLE aligns
 * columns (numbers right, text left, NULL as "-"), PL_FMT_CSV quotes as RFC 4180,
 * PL_FMT_TSV replaces tabs and newlines in text by spaces. *rows gets the row count
 * when rows is not NULL. (harness/report/query.c) */
typedef enum { PL_FMT_TABLE, PL_FMT_CSV, PL_FMT_TSV } pl_format;
hx_status pl_dump_stmt(sqlite3 *db, sqlite3_stmt *st, FILE *f, pl_format fmt, size_t *rows,
                       char *err, size_t errlen);

/* ---- one figure group: a (sweep, dataset, dim) and its configs ---- */
typedef struct pl_stat { double mean, min, max; int n; } pl_stat; /* n = 0: no value */

#define PL_CI_SEEDS 3    /* the fewest values over which a bar is a t interval */
#define PL_CI_ALPHA 0.05 /* its level: 95% */

/* The error bar drawn for a metric: ci = 1: the (1 - PL_CI_ALPHA) Student-t
 * interval of the mean over its n >= PL_CI_SEEDS values (st_mean_ci); ci = 0:
 * min/max. NAN when the metric has no value. */
typedef struct pl_bar { double lo, hi; int ci; } pl_bar;

typedef struct pl_cfg {
    char     method[PL_NAME];
    double   ratio;            /* ratio_requested (the budget) */
    int      n_runs;           /* ok runs (seeds) */
    pl_stat  auc, logloss, bytes_infer, bytes_train, ratio_achieved, peak_rss;
    pl_stat  train_sps, infer_sps;
    pl_bar   auc_bar, logloss_bar;
    unsigned char front;        /* on the AUC Pareto front (pl_pareto) */
    unsigned char front_ll;     /* on the logloss Pareto front */
    unsigned char hollow;       /* its verdict against the baseline is not resolved */
    pl_style style;
} pl_cfg;

/* A run's model.arch in SQL over runs r (dlrm when its config names none). */
#define PL_ARCH_SQL "COALESCE(json_extract(r.config, '$.model.arch'), 'dlrm')"

struct vd_table; /* verdict.h, which includes this header */

typedef struct pl_group {
    char    sweep[PL_NAME * 2], dataset[PL_NAME];
    int64_t dim;
    char    arch[16];                 /* model.arch */
    pl_cfg *cfg;                /* sorted by style order, then ratio */
    size_t  n_cfg;
    double  full_auc, full_logloss;   /* NAN when no `full` run */
    double  bayes_auc, bayes_logloss; /* NAN for real data */
    double  budget;                   /* chosen ratio for the RSS and loss figures */
    char    base[256];                /* file stem: <sweep>__<dataset>__d<dim>, then __<arch>
                                       * unless the arch is dlrm */
    struct vd_table *vd;              /* the verdicts of its configs (owned) */
} pl_group;

/* Loads the ok runs of (sweep, dataset, dim, arch) (arch NULL: dlrm), aggregates them per config, marks
 * the Pareto fronts, computes the bars and judges the configs (pl_group_verdicts).
 * budget > 0 forces the chosen budget, else pl_choose_budget. */
hx_status pl_group_load(sqlite3 *db, const char *sweep, const char *dataset, int64_t dim, const char *arch,
                        double budget, pl_group *g, char *err, size_t errlen);
void      pl_group_free(pl_group *g);

/* ---- the verdicts of a group (plot_verdict.c) ---- */
/* Judges every config of g against `full` (vd_table_load at vd_opts_default)
 * into g->vd and sets cfg->hollow where a verdict is not resolved or has no
 * baseline; a (method, ratio) judged as several configs (a group crossing lr, or
 * method parameters) is hollow when any of them is. */
hx_status pl_group_verdicts(sqlite3 *db, pl_group *g, char *err, size_t errlen);
/* The group's verdict table for the page, with the sentence that explains it. */
void      pl_html_verdicts(FILE *f, const pl_group *g);

/* The budget for the per-run figures: the requested ratio > 1 reached by the most
 * methods, ties to the largest ratio; 1 when there is none. */
double pl_choose_budget(const pl_group *g);

/* ---- outputs ---- */
/* Writes data/<base>__*.tsv and data/<base>__*.gp under out_dir for every figure of
 * the group and appends the script names (relative to out_dir) to *scripts. */
typedef struct pl_list { char **s; size_t n, cap; } pl_list;
void      pl_list_push(pl_list *l, const char *s);
void      pl_list_free(pl_list *l);
hx_status pl_write_figures(sqlite3 *db, const pl_group *g, const char *out_dir,
                           pl_list *scripts, char *err, size_t errlen);
/* pl_list_sweeps: every sweep named in the database into out, or only `only`;
 * a name the database does not hold is HX_ERR_PARAM, listing the ones it has. */
hx_status pl_list_sweeps(sqlite3 *db, const char *only, pl_list *out, char *err, size_t errlen);

/* The figure kinds, in page order: stem suffix, caption. */
typedef struct pl_figure { const char *suffix, *title, *caption; } pl_figure;
extern const pl_figure pl_figures[];
extern const size_t    pl_nfigures;

/* Writes out_dir/index.html for the listed sweeps (their groups already loaded). */
hx_status pl_write_html(sqlite3 *db, const char *out_dir, char **sweeps, size_t n_sweeps,
                        pl_group *const *groups, const size_t *n_groups, char *err,
                        size_t errlen);

/* ---- the commands ---- */
/* `embsweep plot`: the figures of every sweep (or o->sweep) in o->db, drawn into
 * o->out_dir (created), then out_dir/index.html. On HX_OK *n_figs and *n_sweeps
 * are the scripts drawn and the sweeps; HX_ERR_PARAM when o->sweep is not in the
 * database. */
typedef struct pl_opts {
    const char *db;      /* results database, opened read-only */
    const char *sweep;   /* only this sweep, NULL: every one */
    const char *out_dir; /* figures here, their data and scripts in out_dir/data */
    double      budget;  /* > 0: the ratio of the per-run figures, else pl_choose_budget */
} pl_opts;
hx_status pl_plot(const pl_opts *o, size_t *n_figs, size_t *n_sweeps, char *err, size_t errlen);

/* Saved queries (query.c): plain SQL files DIR/NAME.sql whose first line is a
 * `-- question` comment; a query may use :sweep (NULL when not given). */
/* The queries directory: dir when given, else results/queries under the working
 * directory, else next to the binary. HX_ERR_PARAM when there is none. */
hx_status pl_query_dir(const char *dir, char *out, size_t n, char *err, size_t errlen);
/* Prints each saved query of qdir with its header line, sorted; the count. */
size_t    pl_query_list(const char *qdir, FILE *f);
/* The file of saved query `name` (a trailing .sql allowed) in qdir; HX_ERR_PARAM,
 * naming the nearest name, when there is none. */
hx_status pl_query_find(const char *qdir, const char *name, char *path, size_t n, char *err, size_t errlen);
/* Runs every statement of the SQL file at path on the database db_path, :sweep
 * bound to sweep, printing each result to f (PL_FMT_TABLE: followed by its row
 * count). */
hx_status pl_query_run(const char *path, const char *db_path, const char *sweep, pl_format fmt, FILE *f,
                       char *err, size_t errlen);
/* `embsweep export`: the run_summary view (of one sweep, or every one when sweep
 * is NULL) as CSV to the file out (NULL: stdout); *rows gets the rows written. */
hx_status pl_export_csv(const char *db_path, const char *sweep, const char *out, size_t *rows, char *err,
                        size_t errlen);

#endif
