/* verdict.h: is a method better than the baseline, worse, equivalent within a
 * margin, or not resolved? The work of `embsweep compare`, of the verdict marks
 * in the figures and of the verdict table the sweep stores (harness/report/verdict.c).
 *
 * A row is one config of one group (sweep, dataset, dim): a method, its
 * requested ratio and parameters, and its setting (the model and training keys:
 * runs that differ in lr are two configs), its runs one per seed. Against the
 * baseline (default `full` at its smallest ratio, same group and setting) the
 * runs pair by seed. The verdict [R]:
 *   better / worse   the paired t-test over seeds (training noise) AND DeLong's
 *                    test on the shared test rows, combined over the paired
 *                    seeds (test-set noise), both reject at alpha, same sign
 *                    (the t-test alone where no scores were kept);
 *   equivalent       two one-sided paired t-tests put the mean difference
 *                    inside +-margin at alpha (checked first: a difference
 *                    smaller than the margin is "equivalent" even when it is
 *                    significant);
 *   not resolved     anything else, with the seeds that would resolve the
 *                    margin at the observed spread (80% power): st_seeds_needed.
 * One paired seed gives no spread: "not resolved (1 seed)".
 */
#ifndef EMBSWEEP_VERDICT_H
#define EMBSWEEP_VERDICT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/core/stats.h"
#include "plot.h"

typedef struct vd_opts {
    const char *baseline;       /* method name; default "full" */
    double      baseline_ratio; /* > 0: this requested ratio; 0: the baseline's smallest;
                                 * < 0: the row's own ratio (the same budget) */
    const char *baseline_params;/* "k=v k=v" the baseline's parameters include; NULL: any (the first) */
    double      margin;         /* AUC; default 0.001 */
    double      alpha;          /* default 0.05 */
    double      power;          /* for the seeds needed; default 0.8 */
    const char *arch;           /* model.arch of the runs judged; NULL: every arch */
} vd_opts;
void vd_opts_default(vd_opts *o);

typedef enum { VD_BASELINE, VD_BETTER, VD_WORSE, VD_EQUIVALENT, VD_UNRESOLVED, VD_NO_BASELINE } vd_kind;

/* One run of a config: its seed, test AUC and (when kept) its test logits and
 * labels, n rows; logits == NULL when the run kept none. */
typedef struct vd_run {
    int64_t      seed;
    double       auc;
    double       bytes_infer;
    const float *logits, *labels;
    int64_t      n;
} vd_run;

#define PL_VARIANT 160

typedef struct vd_row {
    char       variant[PL_VARIANT]; /* what sets its setting apart in the group: "lr=0.2 optimizer=sgd"; "" */
    char       method[PL_NAME];
    char       params[160];  /* the method's parameters, "k=v k=v" */
    double     ratio;        /* requested */
    double     baseline_ratio; /* of its baseline, NAN when none */
    double     bytes_infer;  /* mean over its runs */
    int        n_seeds;
    st_summary auc;          /* mean and (1 - alpha) CI over seeds */
    int        n_paired;     /* seeds shared with the baseline */
    st_paired  delta;        /* row - baseline, paired by seed */
    int        n_delong;     /* paired seeds whose scores were kept on the same rows */
    st_delong  delong;       /* combined over those seeds; p NAN when none */
    st_tost    tost;
    double     mdd;          /* minimum detectable difference at n_paired */
    int        seeds_needed; /* to resolve the margin at the observed spread */
    vd_kind    kind;
    char       verdict[64];  /* "better", "not resolved (needs ~12 seeds)", ... */
} vd_row;

/* The pure part: judge the runs of a config against the baseline's. Runs pair
 * by seed (each seed at most once on either side). HX_ERR_NOMEM only. */
hx_status vd_judge(const vd_run *a, int na, const vd_run *base, int nb, const vd_opts *o, vd_row *row);

/* Every config of one group from the database, judged (scores read through
 * db_scores_read). rows sorted like the figures (method style order, ratio). */
typedef struct vd_table {
    char    sweep[PL_NAME * 2], dataset[PL_NAME];
    int64_t dim;
    char    baseline[PL_NAME];
    char    baseline_params[160];
    vd_row *rows;
    size_t  n;
} vd_table;
hx_status vd_table_load(sqlite3 *h, const char *sweep, const char *dataset, int64_t dim, const vd_opts *o,
                        vd_table *t, char *err, size_t errlen);
void      vd_table_free(vd_table *t);
/* The row of (method, ratio), NULL if none. */
const vd_row *vd_table_find(const vd_table *t, const char *method, double ratio);

/* `embsweep compare`: the tables of every group of a sweep (or one dataset/dim)
 * printed as aligned text or CSV, the same columns as the stored `verdicts`
 * table. The database is opened read-only. */
typedef struct vd_compare_opts {
    const char *db, *sweep, *dataset; /* dataset NULL: every one */
    int64_t     dim;                  /* 0: every one */
    vd_opts     v;
    pl_format   fmt;
    /* n_pairs > 0: the pair mode instead, config[i] judged against against[i]
     * (selectors, "K=V ..."); dim and the baseline options do not apply */
    const char *const *config, *const *against;
    size_t      n_pairs;
} vd_compare_opts;
hx_status vd_compare(const vd_compare_opts *o, FILE *f, size_t *rows, char *err, size_t errlen);

/* The pair mode (verdict_pair.c): each selector must pick exactly one config
 * among the ok runs of the sweep and dataset asked for (all when NULL); one
 * that picks none or several, or names an unknown key, is HX_ERR_PARAM with the
 * configs it matched. A row per pair; head holds the sweep, the config's
 * dataset and dim, and the against config's method and parameters. */
typedef struct vd_pair {
    const char *config, *against;
    vd_table    head; /* no rows */
    vd_row      row;
} vd_pair;
hx_status vd_compare_pairs(sqlite3 *h, const vd_compare_opts *o, FILE *f, size_t *rows, char *err, size_t errlen);
/* Prints the pairs with compare's columns after the two selectors (verdict_out.c). */
hx_status vd_pairs_print(sqlite3 *h, const vd_pair *p, size_t n, FILE *f, pl_format fmt, size_t *rows, char *err,
                         size_t errlen);

/* The keys and values of a config's JSON (runs.config) that sql reads from ?1
 * (rows key, value), at most max: their count, -1 on an SQLite error; and the
 * value of key k among n, NULL when absent. For the verdict files. */
#define VD_KV 64
typedef struct vd_kv { char k[32], v[96]; } vd_kv;
int         vd_kv_read(sqlite3 *h, const char *sql, const char *json, vd_kv *kv, int max);
const char *vd_kv_get(const vd_kv *kv, int n, const char *k);
/* 1 when key e->k is absent from, or has another value than e->v in, one of the
 * ns key sets kv + b * VD_KV (n[b] keys each). */
int         vd_kv_varies(const vd_kv *kv, const int *n, int ns, const vd_kv *e);

/* Recomputes the `verdicts` table rows of a sweep at the default options
 * (results/queries/verdicts.sql reads them); h is the writer's connection. */
hx_status vd_store(sqlite3 *h, const char *sweep, char *err, size_t errlen);

#endif
