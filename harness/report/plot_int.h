/* plot_int.h: the writing helpers shared by plot_fig.c (the per-config figures
 * and their data) and plot_runs.c (the per-run figures and runs.tsv). Not for
 * other modules. */
#ifndef EMBSWEEP_PLOT_INT_H
#define EMBSWEEP_PLOT_INT_H

#include "plot.h"

/* ---- data files (plot_fig.c) ---- */
/* out_dir/data/<base>__<suffix> opened for writing; NULL with *rc set when it
 * cannot be. */
FILE     *pl_open_data(const char *out_dir, const pl_group *g, const char *suffix, char *err, size_t errlen,
                       hx_status *rc);
/* Closes f; HX_ERR_IO naming `what` when a write or the close failed. */
hx_status pl_close_data(FILE *f, const char *what, char *err, size_t errlen);
void      pl_tsv_num(FILE *f, double v); /* "\t%.10g", "\tNaN" when not finite */

/* ---- gnuplot scripts (plot_fig.c) ---- */
void  pl_gp_quote(char *buf, size_t n, const char *s); /* a single-quoted string: quotes doubled */
void  pl_gp_str(FILE *f, const char *s);               /* the same, written to f */
/* data/<base>__<suffix>.gp under out_dir, its name pushed onto scripts, its
 * PNG terminal set; NULL with *rc set when it cannot be opened. */
FILE *pl_gp_open(const char *out_dir, const pl_group *g, const char *suffix, pl_list *scripts, char *err,
                 size_t errlen, hx_status *rc);
void  pl_gp_begin(FILE *f, const pl_group *g, const char *title); /* style, key, title */
void  pl_gp_end(FILE *f, const pl_group *g, const char *suffix);   /* the SVG replot */

/* ---- the per-run figures (plot_runs.c) ---- */
/* <base>__loss.tsv (loss = 1: mean/min/max over seeds per step) or
 * <base>__rss_time.tsv (one run per method) at the group's budget, and its
 * script; no script when no run there recorded any. */
hx_status pl_fig_runs(sqlite3 *db, const char *out_dir, const pl_group *g, int loss, pl_list *scripts,
                      char *err, size_t errlen);
/* <base>__runs.tsv: every ok run of the group. */
hx_status pl_write_runs(sqlite3 *db, const char *out_dir, const pl_group *g, char *err, size_t errlen);

#endif
